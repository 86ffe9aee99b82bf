"""What analysts do (suppress, acknowledge, resolve, label), written to Kafka, never to ClickHouse.

With the embedded engine the sink worker holds the ClickHouse directory and its query endpoint
is read-only, so every action travels the way the detector's own rows do: as a row record on the
aggregates topic, which the sink agent writes (``suppressions`` and ``incident_actions`` tables,
with who, when and why). A suppression is also a record on the compacted suppressions topic that
every worker holds in a global table (:mod:`distillwatch.streams.state`); removing one writes a tombstone.

The CLI commands and the page's POST endpoints both call these functions, so a change made on
the page and one made in a terminal are the same records.
"""

from __future__ import annotations

import getpass
import os
import re
import time

from kafka import KafkaProducer

from distillwatch.models.alerts import rfc3339
from distillwatch.models.event import parse_time
from distillwatch.models.suppressions import Suppression, parse_line, to_line
from distillwatch.streams import codecs
from distillwatch.streams.kafka_admin import COMPACTED, ensure_topics, suppressions_topic
from distillwatch.streams.settings import Settings
from distillwatch.streams.web.alerts import read_tail

ACTIONS = ("ack", "resolve")
VERDICTS = ("true-positive", "false-positive")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_s(text: str) -> float:
    """``7d``, ``12h``, ``30m``, ``45s`` in seconds; ``ValueError`` says what a duration looks like."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 7d, 12h or 30m")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def suppression(attribute: str, value: str, reason: str, duration: str = "", until: str = "") -> Suppression:
    """The suppression an analyst asked for (``until`` an RFC 3339 event time, or ``duration``
    from now), checked as ``replay --suppressions`` checks a line; ``ValueError`` says what is wrong."""
    end = parse_time(until, "until") if until else time.time() + duration_s(duration)
    return parse_line(to_line(Suppression(attribute, value, end, reason)))


def who() -> str:
    """The acting person: ``DW_ANALYST`` when set (a shared service account), else the login name."""
    return os.environ.get("DW_ANALYST") or getpass.getuser()


def _send(s: Settings, records: list[tuple[str, bytes | None, bytes | None]]) -> None:
    """Deliver ``(topic, key, value)`` records and wait for the broker's acknowledgement."""
    ensure_topics(s, [(s.rows_topic, 1)])
    ensure_topics(s, [(suppressions_topic(s), 1)], COMPACTED)
    producer = KafkaProducer(bootstrap_servers=s.kafka_bootstrap_servers, acks="all")
    try:
        for topic, key, value in records:
            producer.send(topic, key=key, value=value)
        producer.flush(timeout=30)
    finally:
        producer.close()


def _audit(s: Settings, kind: str, row: dict) -> tuple[str, None, bytes]:
    """A row for the ClickHouse sink, on the aggregates topic like the detector's rows."""
    return s.rows_topic, None, codecs.rows_records([(kind, row)])[0]


def add_suppression(s: Settings, sup: Suppression, by: str) -> None:
    at = rfc3339(time.time())
    _send(s, [(suppressions_topic(s), sup.key.encode(), to_line(sup, by=by, at=at)),
              _audit(s, "suppression", {"action": "add", "attribute": sup.attribute, "value": sup.value,
                                        "until": rfc3339(sup.until), "reason": sup.reason, "who": by, "at": at})])


def remove_suppression(s: Settings, sup: Suppression, by: str, reason: str) -> None:
    at = rfc3339(time.time())
    _send(s, [(suppressions_topic(s), sup.key.encode(), None),
              _audit(s, "suppression", {"action": "remove", "attribute": sup.attribute, "value": sup.value,
                                        "until": rfc3339(sup.until), "reason": reason, "who": by, "at": at})])


def current_suppressions(s: Settings) -> dict[str, Suppression]:
    """What the workers hold: the latest record per key of the suppressions topic, tombstones
    applied (expired ones included: expiry is by event time, which only the stream knows)."""
    held: dict[str, Suppression] = {}
    for record in read_tail(s.kafka_bootstrap_servers, suppressions_topic(s), None):
        key = record.key.decode()
        if record.value is None:
            held.pop(key, None)
        else:
            try:
                held[key] = parse_line(record.value)
            except ValueError:
                continue  # not ours; the workers ignore it too
    return held


def record_action(s: Settings, dedup_key: str, action: str, by: str, note: str, verdict: str = "") -> None:
    """One ack / resolve / verdict on the incident ``dedup_key``."""
    _send(s, [_audit(s, "incident_action", {"dedup_key": dedup_key, "action": action, "verdict": verdict,
                                            "note": note, "who": by, "at": rfc3339(time.time())})])
