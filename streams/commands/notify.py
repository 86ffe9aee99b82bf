"""``distillwatch notify [--from-latest]``: deliver the alerts topic to Alertmanager, PagerDuty, a
webhook and Slack (whichever are configured, docs/paging.md), at least once.

A Kafka consumer group: run several and they share the partitions. Records of one partition are
delivered one after the other (the record key is the ``dedup_key``, so an incident's alerts keep
their order) and the group's offset is committed, alert by alert, only after every destination
accepted the alert or it went to the delivery dead-letter topic (``DW_NOTIFY_DEAD_LETTER_TOPIC``).
A crash therefore re-delivers at most the alert in flight, and never loses one.

kafka-python, not aiokafka: delivery is sequential by design, and blocking HTTP in a plain loop is
the simplest correct commit-after-delivery; the project's other non-Faust clients (``alerts
tail``, the web page) use it too.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time

import orjson

from distillwatch.models.alerts import rfc3339
from distillwatch.streams.alerting.severity import CHOICES

log = logging.getLogger("distillwatch.notify")
REQUIRED = ("alert_id", "dedup_key", "kind", "subject", "accounts", "accounts_total", "severity", "score",
            "threshold", "detected_at", "window_start", "window_end", "detector")  # what destinations read


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("notify", help="deliver alerts to Alertmanager, PagerDuty, a webhook, Slack")
    p.add_argument("--from-latest", action="store_true",
                   help="a new consumer group starts at the newest alert instead of the oldest kept one")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.errors import CommitFailedError, KafkaError
    from kafka.structs import OffsetAndMetadata
    from prometheus_client import start_http_server

    from distillwatch.streams import kafka_client, settings
    from distillwatch.streams.alerting.delivery import Deliverer
    from distillwatch.streams.alerting.destinations import configured
    from distillwatch.streams.kafka_admin import ensure_topics

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("distillwatch").setLevel(logging.INFO)
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # an unreachable broker is our one line below
    cfg = settings.load()
    for name in ("pagerduty_min_severity", "slack_min_severity"):
        if getattr(cfg, name) not in CHOICES:
            print(f"DW_{name.upper()} must be one of {', '.join(CHOICES)}", file=sys.stderr)
            return 2
    destinations = configured(cfg)
    if not destinations:
        print("no destination configured: set DW_ALERTMANAGER_URL, DW_PAGERDUTY_ROUTING_KEY, DW_WEBHOOK_URL "
              "or DW_SLACK_WEBHOOK_URL", file=sys.stderr)
        return 2
    # fail fast: Unreachable within seconds, printed as one line by the CLI
    ensure_topics(cfg, [(cfg.alerts_topic, cfg.requests_partitions), (cfg.notify_dead_letter_topic, 1)])
    connection = kafka_client.kafka_python_config(cfg)
    try:
        producer = KafkaProducer(**connection, acks="all")
        consumer = KafkaConsumer(
            cfg.alerts_topic, **connection, group_id=cfg.notify_group, enable_auto_commit=False,
            auto_offset_reset="latest" if args.from_latest else "earliest", max_poll_records=50,
            session_timeout_ms=int(cfg.session_timeout_s * 1000))
    except KafkaError:
        print(f"distillwatch notify: Kafka at {cfg.kafka_bootstrap_servers} went away during start-up", file=sys.stderr)
        return 1
    logging.getLogger("kafka").setLevel(logging.WARNING)

    def dead_letter(alert: dict, destination: str, error: str, attempts: int) -> None:
        record = {"alert": alert, "destination": destination, "error": error, "attempts": attempts,
                  "failed_at": rfc3339(time.time())}
        producer.send(cfg.notify_dead_letter_topic, key=alert.get("dedup_key", "").encode(),
                      value=orjson.dumps(record)).get(timeout=30)  # durable before the offset moves

    deliverer = Deliverer(destinations, dead_letter, max_attempts=cfg.notify_max_attempts,
                          backoff_s=cfg.notify_backoff_s)
    if cfg.notify_metrics_port:
        start_http_server(cfg.notify_metrics_port, addr="127.0.0.1", registry=deliverer.metrics.registry)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    log.info("delivering %s (group %s) to: %s", cfg.alerts_topic, cfg.notify_group,
             "; ".join(d.describe() for d in destinations))
    try:
        while not stopping:
            for tp, records in consumer.poll(timeout_ms=1000).items():
                for record in records:
                    alert = _decode(record.value)
                    if alert is None:
                        dead_letter({"raw": record.value.decode(errors="replace")}, "-", "not an alert object", 0)
                    else:
                        deliverer.deliver(alert)
                    try:  # per alert: a crash re-delivers at most the alert in flight
                        consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "", -1)})
                    except CommitFailedError:
                        log.warning("partition %s moved to another notify during delivery; it re-delivers", tp)
            deliverer.tick()
    except KafkaError as exc:
        print(f"notify stopped: Kafka error {exc}", file=sys.stderr)
        return 1
    finally:
        deliverer.close()
        consumer.close()
        producer.close()
    return 0


def _decode(value: bytes | None) -> dict | None:
    """The alert object, or ``None`` for a record that is not one (it goes to the dead letter)."""
    try:
        alert = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    return alert if isinstance(alert, dict) and all(f in alert for f in REQUIRED) else None
