"""Wire formats between the stages (orjson throughout; never pickle).

- link records (cluster-links topic, explicit partition): ``[source_partition, [[offset, k, msg], ...]]``
  where ``(offset, k)`` is the message's position in its source partition's output, so the
  cluster stage can drop what a restarted account stage sends again, and ``msg`` is
  :func:`distillwatch.models.links.to_wire`'s form;
- rows records (aggregates topic): ``[[table, row], ...]``;
both split so that no record holds more than :data:`RECORD_ITEMS` items;
- dead letter: ``{reason, record, source}``; alerts: the alert object, key ``dedup_key``.
"""

from __future__ import annotations

import orjson

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
