"""Records the worker's consumer skipped are read again from the real broker (streams/agents/refill.py).

A stage that applied up to offset 4 and is handed offset 9 gets 5-8 first, in order, with their
values, and the worker's consumer is told 5-8 are dealt with; a record right after the last one
applied, or one at or before it, needs nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import time
from types import SimpleNamespace

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from distillwatch.streams.agents.refill import Refill
from distillwatch.streams.kafka_admin import ensure_topics
from tests.streams import pipeline
from tests.streams.test_stages import SETTINGS


class _Stage:
    def __init__(self, last: int) -> None:
        self.last = last

    def last_applied(self, topic: str, p: int) -> int:
        return self.last


@pytest.mark.kafka
def test_skipped_records_are_read_again_in_order(kafka_bootstrap, topic_prefix):
    topic = f"{topic_prefix}-requests"
    ensure_topics(kafka_bootstrap, [(topic, 1)])
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for i in range(12):
        producer.send(topic, b"record-%d" % i, partition=0)
    producer.flush()
    producer.close()
    passed: list[tuple] = []

    async def note(tp, first, last):
        passed.append((tp, first, last))

    async def run() -> list:
        refill = Refill(dataclasses.replace(SETTINGS, kafka_bootstrap_servers=kafka_bootstrap), note)
        try:
            message = SimpleNamespace(topic=topic, partition=0, offset=9, tp=("tp", 0))
            found = [await refill.missing(_Stage(last), message) for last in (4, 8, 9, -1)]
            again = await refill.missing(_Stage(0), SimpleNamespace(topic=topic, partition=0, offset=3, tp="x"))
            return [*found, again]
        finally:
            await refill.stop()

    gap, next_one, redelivered, first_ever, again = asyncio.run(run())
    assert gap == [(o, b"record-%d" % o) for o in (5, 6, 7, 8)]
    assert next_one == redelivered == first_ever == []
    assert again == [(1, b"record-1"), (2, b"record-2")], "the consumer is sought anew for every gap"
    assert passed == [(("tp", 0), 5, 8), ("x", 1, 2)]


@pytest.mark.kafka
@pytest.mark.slow
def test_a_commit_past_unapplied_records_is_made_good_on_the_real_pipeline(kafka_bootstrap, topic_prefix, tmp_path):
    """The worker's consumer group commits past records its state never applied (what Faust's
    fetcher does when it skips records in a rebalance, forced here by moving the group's offsets
    while no worker runs): the restarted worker reads them again and ends with replay's alerts."""
    from distillwatch.streams.simulation.world import simulate

    stream = tmp_path / "stream.jsonl"
    simulate(stream, tmp_path / "labels.csv", seed=7, accounts=200, hours=3.0)
    subprocess.run([pipeline.CLI, "replay", str(stream), "--alerts", str(tmp_path / "alerts.jsonl"),
                    "--partitions", "4", "--cluster-partitions", "4"], check=True, capture_output=True, timeout=300)
    expected = {orjson.loads(line)["alert_id"] for line in (tmp_path / "alerts.jsonl").read_bytes().splitlines()}
    lines = stream.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    (tmp_path / "first.jsonl").write_bytes(b"".join(lines[:half]))
    (tmp_path / "rest.jsonl").write_bytes(b"".join(lines[half:]))
    # windows close on idle only well after the first half is in, so they close as replay's do
    environment = pipeline.env(kafka_bootstrap, topic_prefix, tmp_path, DW_IDLE_FLUSH_S="20")
    log = tmp_path / "w.log"
    pipeline.publish(environment, tmp_path / "first.jsonl", batch=1)
    with pipeline.worker(environment, log) as (_, port):
        _wait_for(lambda: pipeline.metric(port, "events_in") >= 0.9 * half)
    pipeline.publish(environment, tmp_path / "rest.jsonl", batch=1)
    skipped = _commit_ahead(kafka_bootstrap, topic_prefix, environment["DW_REQUESTS_TOPIC"], SKIP)
    with pipeline.worker(environment, log) as (_, port):
        got = set(pipeline.alert_ids(kafka_bootstrap, environment, expected))
        refilled = pipeline.metric(port, "input_refilled")
    text = log.read_text()
    assert skipped == 4 * SKIP
    assert refilled >= skipped, text[-2000:]
    assert "never arrived" not in text
    assert got == expected, pipeline.diff(got, expected)


SKIP = 25  # records per partition the group's commit jumps


def _wait_for(cond, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def _commit_ahead(bootstrap: str, group: str, topic: str, n: int) -> int:
    """Move the (idle) group's committed offset of every partition of ``topic`` ``n`` records on."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        committed = {tp: consumer.committed(tp) for tp in tps}
        consumer.commit({tp: OffsetAndMetadata(off + n, "", -1) for tp, off in committed.items()})
    finally:
        consumer.close()
    return n * len(tps)
