"""Publish a recorded stream into the requests topic (kafka-python), fast or paced.

Each line goes to the partition a partitioner gives its ``account_id``: Kafka's default (murmur2)
unless told otherwise, or, to play a producer the pipeline does not control, librdkafka's CRC32
default or a seeded random spread (request-event.md 1.1: the result must not depend on it). With
``batch`` > 1, consecutive good lines of one partition travel as one JSON-array record (the
request-event.md batch form), flushed in order so per-partition order is the file's order.
Lines that are not a JSON object with a string ``account_id``, and lines over the 64 KiB record
limit, are published as they are, on their own, for the worker to dead-letter.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from distillwatch.models.event import MAX_RECORD_BYTES, parse_time
from distillwatch.models.partitioning import partition_for

Partitioner = Callable[[str, int], int]  # (account_id, partitions) -> partition
PARTITIONERS = ("murmur2", "crc32", "random")


def partitioner(name: str, seed: int = 0) -> Partitioner:
    """The partitioner a producer named ``name`` would use on the record key.

    ``murmur2`` is Kafka's (Java, kafka-python) default and the one the account stage owns
    accounts by; ``crc32`` is librdkafka's ``consistent_random`` default (kcat, confluent-kafka
    clients) for keyed records; ``random`` spreads records with no regard to the key, reproducibly
    for one ``seed``."""
    if name == "murmur2":
        return partition_for
    if name == "crc32":
        return lambda key, partitions: zlib.crc32(key.encode()) % partitions
    if name == "random":
        rng = random.Random(seed)
        return lambda key, partitions: rng.randrange(partitions)
    raise ValueError(f"unknown partitioner {name!r}: use one of {', '.join(PARTITIONERS)}")


@dataclass
class PublishSummary:
    lines: int = 0
    records: int = 0
    unrouted: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        rate = self.lines / self.seconds if self.seconds > 0 else 0.0
        return (f"publish: {self.lines} lines in {self.records} records ({self.unrouted} unroutable) "
                f"in {self.seconds:.1f} s, {rate:,.0f} lines/s")


def route(raw: bytes, partitions: int, want_ts: bool = False,
          pick: Partitioner = partition_for) -> tuple[int | None, str | None, float | None]:
    """``(partition, account_id, event time if wanted)``; partition ``None`` when it cannot be routed."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None, None, None
    if not isinstance(obj, dict) or not isinstance(obj.get("account_id"), str) or not obj["account_id"]:
        return None, None, None
    ts = None
    if want_ts:
        try:
            ts = parse_time(obj.get("ts"), "ts")
        except ValueError:
            pass
    return pick(obj["account_id"], partitions), obj["account_id"], ts


class Pacer:
    """Sleeps so that lines go out at ``rate`` per second, or at ``speed`` x event time."""

    def __init__(self, rate: float | None, speed: float | None) -> None:
        self.rate, self.speed = rate, speed
        self.t0 = time.monotonic()
        self.first_ts: float | None = None

    def wait(self, n: int, ts: float | None) -> bool:
        """Sleep until line ``n`` (event time ``ts``) is due; whether it slept."""
        if self.rate:
            due = self.t0 + n / self.rate
        elif self.speed and ts is not None:
            if self.first_ts is None:
                self.first_ts = ts
            due = self.t0 + (ts - self.first_ts) / self.speed
        else:
            return False
        delay = due - time.monotonic()
        if delay > 0.005:
            time.sleep(delay)
            return True
        return False


def publish(
    lines: Iterable[bytes],
    bootstrap: str,
    topic: str,
    partitions: int,
    batch: int = 1,
    rate: float | None = None,
    speed: float | None = None,
    connection: dict[str, Any] | None = None,
    partitioning: str = "murmur2",
    seed: int = 0,
) -> PublishSummary:
    """Send ``lines`` to ``topic``, each to the partition ``partitioning`` (see :func:`partitioner`)
    gives its account; returns counts once everything is acknowledged. ``connection``: kafka-python
    settings with security (:func:`distillwatch.streams.kafka_client.kafka_python_config`)."""
    from kafka import KafkaProducer  # here, so the CLI can list PARTITIONERS without loading a client

    pick = partitioner(partitioning, seed)
    producer = KafkaProducer(
        **(connection or {"bootstrap_servers": bootstrap}), acks="all", linger_ms=20, batch_size=512 * 1024,
        max_request_size=8 * 1024 * 1024, enable_idempotence=True, compression_type="gzip",
    )
    summary = PublishSummary()
    pending: dict[int, list[bytes]] = {}
    pending_bytes: dict[int, int] = {}
    pacer = Pacer(rate, speed)
    t0 = time.perf_counter()

    def send(partition: int | None, key: bytes | None, value: bytes) -> None:
        producer.send(topic, value=value, key=key, partition=partition)
        summary.records += 1

    def flush_partition(p: int) -> None:
        items = pending.pop(p, [])
        pending_bytes.pop(p, None)
        if items:
            send(p, None, b"[" + b",".join(items) + b"]")

    for raw in lines:
        summary.lines += 1
        p, account, ts = route(raw, partitions, want_ts=bool(speed), pick=pick)
        if pacer.wait(summary.lines, ts):
            for q in sorted(pending):  # paced: a batch never waits for more than one pause
                flush_partition(q)
        if p is None:
            summary.unrouted += 1
            send(None, None, raw)
        elif batch <= 1 or len(raw) > MAX_RECORD_BYTES:
            flush_partition(p)  # an oversize line stays one record: the worker judges it as such
            send(p, account.encode(), raw)
        else:
            pending.setdefault(p, []).append(raw)
            pending_bytes[p] = pending_bytes.get(p, 0) + len(raw)
            if len(pending[p]) >= batch or pending_bytes[p] > 4 * 1024 * 1024:
                flush_partition(p)
    for p in sorted(pending):
        flush_partition(p)
    producer.flush()
    producer.close()
    summary.seconds = time.perf_counter() - t0
    return summary
