"""The RocksDB table store (``DW_STORE=rocksdb``) on the real broker.

A worker stopped cleanly leaves, per changelog partition it held, a local database whose persisted
offset is the changelog's end and which is not marked dirty: the next start reads only the tail. A
worker killed mid-stream leaves its databases marked dirty: the next start rebuilds them from the
changelog instead of trusting writes Kafka may never have received. Across a clean stop, a restart,
a SIGKILL and another restart, the alert id set must equal replay's."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from rocksdict import AccessType, Options, Rdict

from distillwatch.streams.table_store import DIRTY_KEY
from tests.streams import pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

OFFSET_KEY = b"__faust\0offset__"  # faust.stores.rocksdb.Store.offset_key


def _wait(what: str, check, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.5)


def _local_databases(tmp: Path, prefix: str, port: int) -> dict[int, dict[bytes, bytes | None]]:
    """``{partition: {dirty mark, persisted offset}}`` of the account-state databases a worker left."""
    found = {}
    for path in sorted((tmp / "faust" / f"{prefix}-{port}").rglob("account-state-*.db")):
        db = Rdict(str(path), Options(raw_mode=True), access_type=AccessType.read_only())
        found[int(path.name.rsplit("-", 1)[1][:-3])] = {k: db.get(k) for k in (DIRTY_KEY, OFFSET_KEY)}
        db.close()
    return found


def _changelog_ends(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        ends = consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
    finally:
        consumer.close()
    return {tp.partition: end for tp, end in ends.items()}


def test_rocksdb_worker_resumes_from_local_state_and_rebuilds_after_a_kill(
        kafka_bootstrap, topic_prefix, tmp_path, recorded: tuple[Path, set[str]], monkeypatch):
    stream, expected = recorded
    events = sum(1 for _ in open(stream, "rb"))
    env = pipeline.env(kafka_bootstrap, topic_prefix, tmp_path, DW_STORE="rocksdb")
    port = pipeline.free_port()
    monkeypatch.setattr(pipeline, "free_port", lambda: port)  # the same local databases at every start
    log = tmp_path / "w.log"
    # the whole stream first, so that no start finds its partitions idle (an idle partition is
    # flushed like the end of input, which replay only does at the very end)
    pipeline.publish(env, stream, batch=20)
    with pipeline.worker(env, log) as (_, p):
        _wait("a tenth of the stream is applied", lambda: pipeline.metric(p, "events_in") >= events // 10)
    # stopped cleanly (SIGTERM) mid-stream: every database records the changelog's end, none is dirty
    local = _local_databases(tmp_path, topic_prefix, port)
    ends = _changelog_ends(kafka_bootstrap, f"{topic_prefix}-account-state-changelog", 4)
    assert sorted(local) == [0, 1, 2, 3]
    for partition, keys in local.items():
        assert keys[DIRTY_KEY] is None, partition
        assert int(keys[OFFSET_KEY]) == ends[partition] - 1, (partition, keys, ends)

    with pipeline.worker(env, log) as (proc, p):
        # any progress will do: a fast first worker may have taken the whole stream before its stop,
        # and then this one only flushes its idle partitions (a state write all the same)
        _wait("more of it is applied, or the idle partitions flushed",
              lambda: pipeline.metric(p, "events_in") > 0 or pipeline.metric(p, "idle_flushes") > 0)
        proc.kill()  # dies mid-stream: local writes may be ahead of the changelog
        proc.wait()
    assert any(keys[DIRTY_KEY] is not None for keys in _local_databases(tmp_path, topic_prefix, port).values())

    with pipeline.worker(env, log):
        got = pipeline.alert_ids(kafka_bootstrap, env, expected)
    assert set(got) == expected, pipeline.diff(set(got), expected)
    assert "rebuilding it from the changelog" in log.read_text()
    assert not any(keys[DIRTY_KEY] for keys in _local_databases(tmp_path, topic_prefix, port).values())


def test_rocksdb_worker_is_exact_under_a_live_publisher(
        kafka_bootstrap, topic_prefix, tmp_path, recorded: tuple[Path, set[str]], monkeypatch):
    """The same stop, restart, kill and restart while a rate-limited publisher keeps writing: a
    stop then finds batches in flight and a backlog grows while the worker is down. A partition
    idle for ``DW_IDLE_FLUSH_S`` is flushed like the end of input (replay does that only at the very
    end), so the idle time is set above any pause of a loaded publisher."""
    stream, expected = recorded
    events = sum(1 for _ in open(stream, "rb"))
    # accounts silent for 10 minutes of event time wait in the RocksDB store only (TableColdStore)
    # and are read back from it when they return, across the stop, the kill and the restarts
    env = pipeline.env(kafka_bootstrap, topic_prefix, tmp_path, DW_STORE="rocksdb", DW_IDLE_FLUSH_S="20",
                       DW_COLD_AFTER_S="600")
    port = pipeline.free_port()
    monkeypatch.setattr(pipeline, "free_port", lambda: port)
    log = tmp_path / "w.log"
    publisher = subprocess.Popen([pipeline.CLI, "publish", str(stream), "--batch", "20", "--rate", "1000"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with pipeline.worker(env, log) as (_, p):
            _wait("a fifth of the stream is applied", lambda: pipeline.metric(p, "events_in") >= events // 5)
        with pipeline.worker(env, log) as (proc, p):
            _wait("another fifth is applied", lambda: pipeline.metric(p, "events_in") >= events // 5)
            proc.kill()
            proc.wait()
        with pipeline.worker(env, log) as (_, p):
            got = pipeline.alert_ids(kafka_bootstrap, env, expected)
            aside, lost = pipeline.metric(p, "accounts_set_aside"), pipeline.metric(p, "set_aside_lost")
        assert publisher.wait(timeout=300) == 0
    finally:
        if publisher.poll() is None:
            publisher.kill()
    assert set(got) == expected, pipeline.diff(set(got), expected)
    assert aside > 0 and lost == 0, (aside, lost)
