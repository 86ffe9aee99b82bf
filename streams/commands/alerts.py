"""``distillwatch alerts tail [--from-beginning] [--max N] [--timeout S] [--format text|json|pagerduty]
[--min-severity S]``: follow the alerts topic and print each alert for a person, as its JSON line,
or as the PagerDuty Events v2 event (``trigger`` or ``resolve``; routing key from
``DW_PAGERDUTY_ROUTING_KEY``). Triggers below ``--min-severity`` (default ``error``: what pages)
are left out; resolves always print. ``distillwatch notify`` delivers them instead of printing.

The text format groups by incident (``--no-incidents``: one block per alert): an incident's first
alert prints as a block, each later one as a single line under its dedup key saying what changed
(accounts joined, escalation, resolve), because the repeated block is what people stop reading."""

from __future__ import annotations

import argparse
import sys

import orjson

from distillwatch.models.alerts import SEVERITY_RANK
from distillwatch.streams.alerting import pagerduty
from distillwatch.streams.alerting.links import drilldown_url
from distillwatch.streams.alerting.severity import CHOICES, wanted
from distillwatch.streams.alerting.text import describe


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("alerts", help="read the alerts topic")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    tail = verbs.add_parser("tail", help="follow the alerts topic and print each alert")
    tail.add_argument("--from-beginning", action="store_true", help="start at the oldest alert")
    tail.add_argument("--max", type=int, help="stop after N alerts")
    tail.add_argument("--timeout", type=float, help="stop after S seconds without a new alert")
    tail.add_argument("--format", choices=("text", "json", "pagerduty"), default="text",
                      help="text for people (default), the alert JSON, or PagerDuty Events v2 payloads")
    tail.add_argument("--min-severity", choices=CHOICES, default="error",
                      help="leave out triggers below this severity (default error: what pages); resolves print")
    tail.add_argument("--incidents", action=argparse.BooleanOptionalAction, default=True,
                      help="text format: one block per incident, then one line per update (default)")
    tail.set_defaults(func=run)


class IncidentText:
    """``alerts tail --incidents``: remembers each incident's previous alert to say what changed."""

    def __init__(self) -> None:
        self.previous: dict[str, dict] = {}

    def render(self, alert: dict) -> str:
        before = self.previous.get(alert["dedup_key"])
        self.previous[alert["dedup_key"]] = alert
        if before is None:
            return f"== incident {alert['dedup_key']}\n{describe(alert)}"
        return f"  {alert['detected_at']} {alert['dedup_key']}: {'; '.join(changes(before, alert))}"


def changes(before: dict, alert: dict) -> list[str]:
    """What an incident's new alert says beyond the previous one, in words."""
    if alert.get("action") == "resolve":
        return [f"RESOLVED (quiet), {alert['accounts_total']} accounts"]
    said = []
    if SEVERITY_RANK[alert["severity"]] > SEVERITY_RANK[before["severity"]]:
        said.append(f"escalated {before['severity']} -> {alert['severity']}")
    added = alert.get("accounts_added", [])
    if added:
        said.append(f"+{len(added)} accounts ({', '.join(added[:5])}{' …' if len(added) > 5 else ''})")
    said.append(f"now {alert['accounts_total']} accounts, score {alert['score']:.1f}")
    return said


def run(args: argparse.Namespace) -> int:
    from kafka import KafkaConsumer, TopicPartition

    from distillwatch.streams import kafka_client, settings

    cfg = settings.load()
    if args.format == "pagerduty" and not cfg.pagerduty_routing_key:
        print("set DW_PAGERDUTY_ROUTING_KEY to the PagerDuty integration's routing key", file=sys.stderr)
        return 2
    render = {
        "text": IncidentText().render if args.incidents else describe,
        "json": lambda a: orjson.dumps(a).decode(),
        "pagerduty": lambda a: orjson.dumps(
            pagerduty.event(a, cfg.pagerduty_routing_key, drilldown_url(a, cfg.web_url))).decode(),
    }[args.format]
    kafka_client.check(cfg)  # unreachable: one line within seconds, not a silent wait
    consumer = KafkaConsumer(**kafka_client.kafka_python_config(cfg), enable_auto_commit=False)
    parts = consumer.partitions_for_topic(cfg.alerts_topic) or set()
    if not parts:
        print(f"no topic {cfg.alerts_topic} yet (start a worker)", file=sys.stderr)
        return 1
    tps = [TopicPartition(cfg.alerts_topic, p) for p in sorted(parts)]
    consumer.assign(tps)
    (consumer.seek_to_beginning if args.from_beginning else consumer.seek_to_end)(*tps)
    seen = 0
    idle_ms = 0.0
    try:
        while args.max is None or seen < args.max:
            batch = consumer.poll(timeout_ms=500)
            records = [r for rs in batch.values() for r in rs]
            if not records:
                idle_ms += 500
                if args.timeout is not None and idle_ms >= args.timeout * 1000:
                    break
                continue
            idle_ms = 0.0
            for record in records:
                alert = orjson.loads(record.value)
                if not wanted(alert, args.min_severity):
                    continue
                print(render(alert), flush=True)
                seen += 1
                if args.max is not None and seen >= args.max:
                    break
    finally:
        consumer.close()
    return 0
