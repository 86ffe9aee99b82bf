"""``distillwatch incidents list|ack|resolve`` and ``distillwatch verdict``: the on-call lifecycle.

``list`` groups the alerts topic by incident (:mod:`distillwatch.streams.incidents`) and folds in what people
did, read from ClickHouse (``incident_actions``; through the worker's read-only query endpoint
when it holds the embedded engine). ``ack``, ``resolve`` and ``verdict`` travel through Kafka to
the sink (:mod:`distillwatch.streams.actions`), because the query endpoint is read-only by design.
"""

from __future__ import annotations

import argparse
import sys

import orjson

from distillwatch.streams import settings

ACTIONS_SQL = ("SELECT dedup_key, action, verdict, note, who, toString(at) AS at FROM incident_actions FINAL "
               "ORDER BY at")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("incidents", help="open incidents (alerts grouped by dedup key); ack or resolve one")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    ls = verbs.add_parser("list", help="one line per open incident, paging ones first")
    ls.add_argument("--all", action="store_true", help="also incidents below paging severity and resolved ones")
    ls.add_argument("--search", default="", help="an account, org, payment, IP range, router or template")
    ls.add_argument("--format", choices=("text", "json"), default="text",
                    help="json: one object per incident (what `evaluate --verdicts` reads)")
    ls.set_defaults(func=run_list)
    for verb in ("ack", "resolve"):
        v = verbs.add_parser(verb, help=f"{verb} an incident (who, when and why are kept)")
        v.add_argument("incident", metavar="DEDUP_KEY", help="the incident's dedup_key (as `incidents list` shows)")
        v.add_argument("--note", default="", help="why")
        v.set_defaults(func=run_action, action=verb)
    v = sub.add_parser("verdict", help="label an incident true-positive or false-positive")
    v.add_argument("incident", metavar="DEDUP_KEY")
    v.add_argument("verdict", choices=("true-positive", "false-positive"))
    v.add_argument("--note", default="", help="what you found")
    v.set_defaults(func=run_action, action="verdict")


def read_actions(cfg: settings.Settings) -> list[dict]:
    """Every recorded action, oldest first; raises when ClickHouse cannot be read."""
    from distillwatch.streams.clickhouse.client import connect_analyst

    client = connect_analyst(cfg.effective_clickhouse_dsn, cfg.clickhouse_database, cfg.query_timeout_s,
                             cfg.query_max_rows, cfg.effective_query_url)
    return list(client.query(ACTIONS_SQL).named_results())


def run_list(args: argparse.Namespace) -> int:
    from distillwatch.streams.incidents import fold_actions, group, select
    from distillwatch.streams.web.alerts import read_recent

    cfg = settings.load()
    incidents = group(read_recent(cfg.kafka_bootstrap_servers, cfg.alerts_topic, per_partition=5000))
    try:
        fold_actions(incidents, read_actions(cfg))
    except Exception as exc:  # the list is still useful without acks: say what is missing
        print(f"distillwatch incidents: acks and resolves not shown, ClickHouse unreadable: "
              f"{str(exc).splitlines()[0]}", file=sys.stderr)
    shown = select(incidents, pages_only=not args.all, search=args.search, include_closed=args.all)
    for i in shown:
        if args.format == "json":
            print(orjson.dumps(i.summary()).decode())
            continue
        print(f"{i.state:<8} {i.severity:<8} {i.kind:<8} {i.members:>5} (+{i.growth:<3}) "
              f"{i.opened_at} .. {i.last_at}  {len(i.alerts):>3} alerts  {i.dedup_key}"
              + (f"  [{i.verdict}]" if i.verdict else "") + (f"  {i.by}: {i.note}" if i.note else ""))
    print(f"{len(shown)} incident(s) of {len(incidents)}", file=sys.stderr)
    return 0


def run_action(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaError

    from distillwatch.streams import actions

    cfg = settings.load()
    verdict = args.verdict if args.action == "verdict" else ""
    try:
        actions.record_action(cfg, args.incident, args.action, actions.who(), args.note, verdict)
    except KafkaError as exc:
        print(f"distillwatch {args.command}: cannot reach Kafka at {cfg.kafka_bootstrap_servers} ({exc!r}); "
              "set KAFKA_BOOTSTRAP_SERVERS", file=sys.stderr)
        return 2
    print(f"{args.action}{' ' + verdict if verdict else ''}: {args.incident} by {actions.who()}")
    return 0
