"""Records one batch produces, delivered before the batch's input is acked.

Outputs (alerts, links, rows, dead letters) are delivered first, then state (changelog records),
then Faust may ack the input. So committed offsets never run ahead of state, and state never runs
ahead of outputs: after a crash, replaying from the committed offset can only repeat outputs
(deduplicated downstream), never lose them."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from distillwatch.models.suppressions import SuppressionTable, apply_suppressions
from distillwatch.streams import codecs
from distillwatch.streams.metrics import Metrics

log = logging.getLogger(__name__)

Record = tuple[str, bytes | None, bytes | None, int | None]


class Producing(Protocol):
    """What a processor hands the stage after a batch: alerts raised and ClickHouse rows."""

    alerts: list[dict]
    rows: list[tuple[str, dict]]


class Outbox:
    """The records of one batch, in delivery order: outputs first, then state."""

    def __init__(self) -> None:
        self.outputs: list[Record] = []
        self.state: list[Record] = []

    def add(self, topic: str, key: bytes | None, value: bytes, partition: int | None = None) -> None:
        self.outputs.append((topic, key, value, partition))

    def add_state(self, topic: str, key: bytes, value: bytes | None, partition: int) -> None:
        """One changelog record; ``value`` ``None`` is a tombstone (Faust deletes the key when it
        recovers the table, and compaction drops it from the changelog)."""
        self.state.append((topic, key, value, partition))

    def add_rows(self, topic: str, rows: list[tuple[str, dict]]) -> None:
        """Aggregate rows for the ClickHouse sink, a bounded number per record."""
        for record in codecs.rows_records(rows):
            self.add(topic, None, record)

    async def deliver(self, app) -> None:
        """Outputs, then state, each in order (per-partition order is kept) and acknowledged.

        A failed delivery stops the worker: the processors in memory are then ahead of Kafka,
        and a restart rebuilds them from the changelog, which is not."""
        try:
            for records in (self.outputs, self.state):
                futures = [await app.producer.send(t, k, v, p, None, None) for t, k, v, p in records]
                if futures:
                    await asyncio.gather(*futures)
                records.clear()
        except Exception as exc:
            log.exception("delivery failed; stopping the worker so that it restarts from its changelog")
            await app.crash(exc)
            raise


def take_alerts_and_rows(proc: Producing, out: Outbox, alerts_topic: str, rows: list[tuple[str, dict]],
                         metrics: Metrics, suppressions: SuppressionTable) -> None:
    """Move a processor's alerts and rows out of it: each alert (below paging if ``suppressions``
    cover it, exactly as replay's engine does) to ``alerts_topic`` (key ``dedup_key``), into
    ``rows`` as an ``alerts`` row and counted by severity; its rows into ``rows``.

    One helper for both stages, so an account alert and a cluster alert travel exactly alike."""
    for raised in proc.alerts:
        alert = apply_suppressions(raised, suppressions)
        out.add(alerts_topic, *codecs.alert_record(alert))
        rows.append(("alert", alert))
        metrics.inc(f"alerts.{alert['severity']}")
    proc.alerts.clear()
    rows.extend(proc.rows)
    proc.rows.clear()
