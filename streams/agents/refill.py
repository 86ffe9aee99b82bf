"""Records the Faust consumer skipped, read again straight from the broker before the record after them.

Why: the offsets of a topic nobody writes in transactions are dense, yet faust-streaming's fetcher
can skip records it fetched when a rebalance suspends its flow: a message whose hand-over to the
stream is abandoned still advances the partition's read offset, and after the seek back to the
committed offset the fetcher drops what it re-fetches below that read offset ("DROPPED MESSAGE
ROFF"). Measured on the rebalance test: offsets 1293-1298 of one partition never delivered. Seeking
Faust's own consumer back stalled it in a backlog (two seeks, then nothing past 29,053 of 37,301
events), so the missing offsets are read with a separate, group-less consumer that only this module
moves, applied in order, and then reported to Faust as a gap so its commit can pass them. Every
stage knows the last offset it applied (kept in its table, so also across a restart or a takeover),
which is what tells a skipped record from one never written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition

from distillwatch.streams.app import MAX_RECORD_BYTES, app, metrics, settings
from distillwatch.streams.kafka_client import kafka_python_config
from distillwatch.streams.settings import Settings

READ_FOR_S = 30.0  # how long to wait for a missing range before reading on without it
log = logging.getLogger(__name__)


class Positioned(Protocol):
    """A stage that knows the last offset it applied of each input partition (-1: none yet)."""

    def last_applied(self, topic: str, p: int) -> int: ...


class Refill:
    """One lazily started consumer per worker, assigned and sought by hand, never in a group.
    ``passed(tp, first, last)`` tells the worker's own consumer that those offsets are dealt with."""

    def __init__(self, s: Settings, passed: Callable[[Any, int, int], Awaitable[None]]) -> None:
        self.settings = s
        self.passed = passed
        self._consumer: AIOKafkaConsumer | None = None

    async def missing(self, stage: Positioned, message: Any) -> list[tuple[int, bytes | None]]:
        """The records between the last one ``stage`` applied and ``message`` (a Faust message), in
        offset order; empty when there are none. Records that truly do not exist (retention,
        compaction, transaction markers) are simply not returned: the stage then logs and counts
        that gap (``input_gaps``)."""
        last = stage.last_applied(message.topic, message.partition)
        if last < 0 or message.offset <= last + 1:
            return []
        first, end = last + 1, message.offset
        records = await self._read(message.topic, message.partition, first, end)
        metrics.inc("input_refilled", len(records))
        log.warning("%s:%d: records %d-%d were skipped by the consumer: read %d of them again from the broker",
                    message.topic, message.partition, first, end - 1, len(records))
        await self.passed(message.tp, first, end - 1)
        return records

    async def _read(self, topic: str, p: int, first: int, end: int) -> list[tuple[int, bytes | None]]:
        consumer = await self._started()
        tp = TopicPartition(topic, p)
        consumer.assign([tp])
        consumer.seek(tp, first)
        records: list[tuple[int, bytes | None]] = []
        deadline = time.monotonic() + READ_FOR_S
        while time.monotonic() < deadline:
            batch = await consumer.getmany(tp, timeout_ms=500, max_records=end - first)
            for rec in batch.get(tp, ()):
                if rec.offset >= end:
                    return records
                records.append((rec.offset, rec.value))
            if await consumer.position(tp) >= end:
                return records
        log.error("%s:%d: records %d-%d could not be read again within %.0f s: reading on without them",
                  topic, p, first, end - 1, READ_FOR_S)
        return records

    async def _started(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(**kafka_python_config(self.settings), group_id=None, enable_auto_commit=False,
                                        auto_offset_reset="earliest", max_partition_fetch_bytes=MAX_RECORD_BYTES)
            await consumer.start()
            self._consumer = consumer
        return self._consumer

    async def stop(self) -> None:
        """Close the consumer (at worker shutdown)."""
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None


async def _commit_past(tp: Any, first: int, last: int) -> None:
    """Faust commits an offset only once every one before it is acknowledged or known to be a gap
    (its ``_add_gap``, kept for transaction markers): the skipped records were never acknowledged."""
    await app.consumer._add_gap(tp, first, last)


refill = Refill(settings, _commit_past)


@app.on_before_shutdown.connect
async def stop_refill(sender: Any, **kwargs: Any) -> None:
    await refill.stop()
