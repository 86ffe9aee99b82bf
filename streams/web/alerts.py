"""Recent alerts, read straight from the alerts topic.

The topic is the source of truth every worker can reach (ClickHouse may be embedded in another
process), so the page reads the last records of every partition with a throw-away consumer: no
consumer group, nothing committed, nothing that could steal partitions from the pipeline.
"""

from __future__ import annotations

import time

import orjson
from kafka import KafkaConsumer, TopicPartition

from distillwatch.models.alerts import SEVERITY_RANK
from distillwatch.streams.alerting.links import next_steps


def read_recent(bootstrap: str, topic: str, per_partition: int = 200, timeout_s: float = 5.0) -> list[dict]:
    """The last ``per_partition`` alerts of each partition of ``topic``, newest first, one per
    ``alert_id`` (a worker restarted mid-batch may send an alert twice). Blocking: run it in an
    executor. A missing topic gives an empty list (no worker has started yet)."""
    records = read_tail(bootstrap, topic, per_partition, timeout_s)
    alerts = {a["alert_id"]: a for a in (orjson.loads(r.value) for r in records if r.value)}
    return sorted(alerts.values(), key=lambda a: (a["detected_at"], SEVERITY_RANK.get(a["severity"], 0)),
                  reverse=True)


def read_tail(bootstrap: str, topic: str, per_partition: int | None, timeout_s: float = 5.0) -> list:
    """The last ``per_partition`` records (``None``: all) of each partition of ``topic``, tombstones
    included, with a throw-away consumer; a missing topic gives an empty list."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             request_timeout_ms=int(timeout_s * 1000) + 1000)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        if not tps:
            return []
        consumer.assign(tps)
        ends = consumer.end_offsets(tps)
        begins = consumer.beginning_offsets(tps)
        for tp in tps:
            consumer.seek(tp, begins[tp] if per_partition is None else max(begins[tp], ends[tp] - per_partition))
        return _drain(consumer, ends, time.monotonic() + timeout_s)
    finally:
        consumer.close()


def _drain(consumer: KafkaConsumer, ends: dict[TopicPartition, int], deadline: float) -> list:
    """Poll until every partition's position reached its end offset (or the deadline)."""
    records: list = []
    while time.monotonic() < deadline and any(consumer.position(tp) < end for tp, end in ends.items()):
        for batch in consumer.poll(timeout_ms=200).values():
            records += batch
    return records


def latest_for(alerts: list[dict], kind: str, subject: str) -> dict | None:
    """The newest alert about ``subject`` (``alerts`` is newest first), or ``None``."""
    return next((a for a in alerts if a["kind"] == kind and a["subject"] == subject), None)


def clusters_of(alerts: list[dict], account_id: str) -> list[dict]:
    """The clusters whose alerts implicate ``account_id``: one entry per cluster, newest alert."""
    seen: dict[str, dict] = {}
    for a in alerts:
        if a["kind"] == "cluster" and account_id in a["accounts"] and a["subject"] not in seen:
            seen[a["subject"]] = {"cluster_id": a["subject"], "severity": a["severity"],
                                  "accounts_total": a["accounts_total"], "detected_at": a["detected_at"]}
    return list(seen.values())


def with_hints(alert: dict) -> dict:
    """The alert plus ``next_steps``: the commands an on-call person runs next, so that the page
    reads without a manual (the same steps ``alerts tail`` prints)."""
    return {**alert, "next_steps": next_steps(alert)}
