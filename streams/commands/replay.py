"""``distillwatch replay`` (cli.md): recorded events through the detector, offline."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack

from distillwatch.streams import settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="run recorded events through the detector offline, in event time")
    p.add_argument("events", nargs="+", metavar="EVENTS", help=".jsonl or .jsonl.gz files, or - for stdin")
    p.add_argument("--alerts", required=True, metavar="ALERTS.jsonl", help="where to write the alerts")
    p.add_argument("--dead-letter", metavar="BAD.jsonl", help="where to write bad records with reasons")
    p.add_argument("--clickhouse", metavar="DSN", help="also write aggregates: chdb:///path or http(s)://…")
    p.add_argument("--suppressions", metavar="SUPPRESSIONS.jsonl",
                   help="the suppressions the stream applied (`distillwatch suppress list --jsonl`)")
    p.add_argument("--partitions", type=int, help="requests-topic partitions to emulate (default: config)")
    p.add_argument("--cluster-partitions", type=int, help="cluster-topic partitions to emulate")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from distillwatch.streams.progress import Progress, count_lines
    from distillwatch.streams.replay import replay

    cfg = settings.load(requests_partitions=args.partitions, cluster_partitions=args.cluster_partitions)
    try:
        suppressions = read_suppressions(args.suppressions) if args.suppressions else None
    except (OSError, ValueError) as exc:
        print(f"distillwatch replay: {exc}", file=sys.stderr)
        return 2
    with ExitStack() as stack:
        try:
            alerts_out = stack.enter_context(open(args.alerts, "wb"))
            dead = stack.enter_context(open(args.dead_letter, "wb")) if args.dead_letter else None
        except OSError as exc:
            print(f"distillwatch replay: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
            return 2
        sink = None
        if args.clickhouse:
            from distillwatch.streams.clickhouse.sink import open_sink

            sink = stack.enter_context(open_sink(args.clickhouse, cfg.clickhouse_database))
        try:
            progress = stack.enter_context(Progress("replay", count_lines(args.events), "lines"))
            summary = replay(
                args.events, alerts_out, dead, rows_sink=sink.write if sink else None,
                partitions=cfg.requests_partitions, cluster_partitions=cfg.cluster_partitions,
                config=settings.detector_config(cfg), progress=progress.update, suppressions=suppressions,
            )
        except OSError as exc:
            print(f"distillwatch replay: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
            return 2
    print(summary.line())
    return 0


def read_suppressions(path: str) -> dict:
    """The suppressions file (cli.md's line form) as a table; the error names the line to fix."""
    from distillwatch.models.suppressions import parse_line, table_of

    found = []
    with open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    found.append(parse_line(line))
                except ValueError as exc:
                    raise ValueError(f"{path}:{n}: {exc}") from None
    return table_of(found)
