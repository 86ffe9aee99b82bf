"""Wire formats between the stages (orjson throughout; never pickle).

- link records (cluster-links topic, explicit partition): ``[source_partition, [[offset, k, msg], ...]]``
  where ``(offset, k)`` is the message's position in its source partition's output, so the
  cluster stage can drop what a restarted account stage sends again, and ``msg`` is
  :func:`distillwatch.models.links.to_wire`'s form;
- rows records (aggregates topic): ``[[table, row], ...]``;
both split so that no record holds more than :data:`RECORD_ITEMS` items;
- rerouted records (the requests topic's ``.rerouted`` twin, explicit partition = owner):
  ``{"source": s, "offset": o, "events": [fields, ...]}`` (events of requests record ``o`` of
  partition ``s`` that the owner holds, each as its decoded fields in declaration order) or
  ``{"source": s, "mark": w}`` (source ``s`` sends nothing below ``w`` from now on); the same
  events form the account stage's held-event records in its changelog;
- dead letter: ``{reason, record, source}``; alerts: the alert object, key ``dedup_key``.
"""

from __future__ import annotations

import msgspec
import orjson

from distillwatch.models.event import Event
from distillwatch.models.jsonsafe import clamp_infinity, unclamp_infinity

RECORD_ITEMS = 500  # rows or link messages per record: keeps records far below 1 MB


def _chunks(items: list) -> list[list]:
    return [items[i : i + RECORD_ITEMS] for i in range(0, len(items), RECORD_ITEMS)]


def link_records(source: int, messages: list[list]) -> list[bytes]:
    return [orjson.dumps([source, chunk]) for chunk in _chunks(messages)]


def rows_records(rows: list[tuple[str, dict]]) -> list[bytes]:
    return [orjson.dumps(chunk) for chunk in _chunks(rows)]


def dead_letter(reason: str, record: bytes, source: str) -> bytes:
    return orjson.dumps({"reason": reason, "record": record.decode("utf-8", "replace"), "source": source})


def alert_record(alert: dict) -> tuple[bytes, bytes]:
    """``(key, value)`` of an alert."""
    return alert["dedup_key"].encode(), orjson.dumps(alert)


_astuple = msgspec.structs.astuple


def events_value(events: list[Event]) -> list[tuple]:
    """Decoded events as JSON-able field tuples (validated already: :func:`events_from` does not
    validate again, it only rebuilds)."""
    return [_astuple(ev) for ev in events]


def event_record(ev: Event) -> bytes:
    """One decoded event as its field tuple, for a dead letter that names no input record."""
    return orjson.dumps(_astuple(ev))


def events_from(value: list[list]) -> list[Event]:
    return [Event(*fields) for fields in value]


def forward_record(source: int, offset: int, events: list[Event]) -> bytes:
    return orjson.dumps({"source": source, "offset": offset, "events": events_value(events)})


def mark_record(source: int, mark: float) -> bytes:
    return orjson.dumps({"source": source, "mark": clamp_infinity(mark)})


def parse_rerouted(raw: bytes) -> tuple[int, int, list[Event]] | tuple[int, float]:
    """``(source, offset, events)`` of a forward record or ``(source, mark)`` of a mark record."""
    doc = orjson.loads(raw)
    if "mark" in doc:
        return doc["source"], unclamp_infinity(doc["mark"])
    return doc["source"], doc["offset"], events_from(doc["events"])
