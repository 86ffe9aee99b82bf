"""``distillwatch schema apply|status``: the versioned ClickHouse schema under streams/clickhouse/migrations."""

from __future__ import annotations

import argparse
import sys

from distillwatch.streams import settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schema", help="apply or show the ClickHouse schema migrations")
    p.add_argument("action", choices=("apply", "status"), help="apply pending migrations, or list them")
    p.add_argument("--clickhouse", metavar="DSN", help="chdb:///path or http(s)://… (default: config)")
    p.add_argument("--database", help="database name (default: config)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from distillwatch.streams.clickhouse.client import connect
    from distillwatch.streams.clickhouse.schema import apply_migrations, migration_status

    cfg = settings.load(clickhouse_dsn=args.clickhouse, clickhouse_database=args.database)
    database = cfg.clickhouse_database
    try:
        client = connect(cfg.effective_clickhouse_dsn, database)
    except RuntimeError as exc:
        print(f"distillwatch schema: {exc}", file=sys.stderr)
        return 2
    if args.action == "apply":
        done = apply_migrations(client, database)
        for m in done:
            print(f"applied {m.version:03d}_{m.name}")
        print(f"schema of {database} is up to date ({len(done)} applied now)")
        return 0
    edited = 0
    for st in migration_status(client, database):
        state = f"applied {st.applied_at}" if st.applied_at else "pending"
        if not st.checksum_matches:
            state += "  (file edited after it was applied: write a new migration instead)"
            edited += 1
        print(f"{st.migration.version:03d}_{st.migration.name:<24} {state}")
    return 1 if edited else 0
