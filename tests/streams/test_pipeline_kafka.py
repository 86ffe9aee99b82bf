"""The streaming pipeline on the real broker (never a mock): `distillwatch publish` a recorded
stream, run `distillwatch worker` subprocesses, and compare with offline replay of the same file.

- parity: the set of alert_ids equals replay's, with one worker and with two workers sharing four
  partitions (their rebalance hands state over through the changelogs);
- recovery: a worker SIGKILLed mid-stream and restarted ends with the same alert set. Allowed
  duplicates: an alert_id already on the topic may be emitted again (the batch in flight at the
  kill is reprocessed); consumers absorb that through ``dedup_key``/``alert_id``. A missing or
  extra alert_id fails the test;
- dead letters: every bad record of the smoke stream reaches the dead-letter topic with its
  reason and source, and the good ones still raise replay's alerts.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition

from streams.replay import replay

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CLI = str(REPO / ".venv" / "bin" / "distillwatch")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """A simulated stream with account and cluster alerts, and replay's alert_ids for it."""
    from streams.simulator.world import simulate

    tmp = tmp_path_factory.mktemp("recorded")
    path = tmp / "stream.jsonl"
    simulate(path, tmp / "labels.csv", seed=3, accounts=300, hours=4.0, bad_fraction=0.001)
    out = io.BytesIO()
    replay([str(path)], out)
    ids = {orjson.loads(line)["alert_id"] for line in out.getvalue().splitlines()}
    assert len(ids) > 20, "the recorded stream should raise alerts to compare"
    return path, ids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(bootstrap: str, prefix: str, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DW_APP_ID": prefix,
        "DW_REQUESTS_TOPIC": f"{prefix}.requests",
        "DW_ALERTS_TOPIC": f"{prefix}.alerts",
        "DW_DEAD_LETTER_TOPIC": f"{prefix}.dead-letter",
        "DW_LINKS_TOPIC": f"{prefix}.links",
        "DW_ROWS_TOPIC": f"{prefix}.aggregates",
        "DW_REQUESTS_PARTITIONS": "4",
        "DW_CLUSTER_PARTITIONS": "4",
        "DW_DATA_DIR": str(tmp),
        "DW_SINK": "0",  # ClickHouse has its own tests; here Kafka in, Kafka out
        "DW_IDLE_FLUSH_S": "2",
        "DW_SESSION_TIMEOUT_S": "8",
        "DW_METRICS_LOG_S": "5",
    }


def _publish(env: dict[str, str], path: Path, batch: int) -> None:
    subprocess.run([CLI, "publish", str(path), "--batch", str(batch)], env=env, check=True,
                   capture_output=True, timeout=120)


@contextmanager
def _worker(env: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    """A ``distillwatch worker`` subprocess and its web port; SIGTERM (then SIGKILL) at exit."""
    port = _free_port()
    with open(log, "ab") as f:
        proc = subprocess.Popen([CLI, "worker", "--loglevel", "warning"], env={**env, "DW_WEB_PORT": str(port)},
                                stdout=f, stderr=subprocess.STDOUT)
    try:
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _metric(port: int, name: str) -> float:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(f"distillwatch_{name} "):
            return float(line.split()[1])
    return 0.0


def _read(bootstrap: str, topic: str, until, timeout: float, quiet: float = 4.0) -> list[bytes]:
    """Values on ``topic`` from the beginning, until ``until(values)`` holds and nothing new
    arrived for ``quiet`` seconds, or ``timeout`` passes."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    values: list[bytes] = []
    deadline = time.monotonic() + timeout
    assigned = False
    last_new = time.monotonic()
    try:
        while time.monotonic() < deadline:
            if not assigned:
                parts = consumer.partitions_for_topic(topic)
                if not parts:
                    time.sleep(0.5)
                    continue
                tps = [TopicPartition(topic, p) for p in parts]
                consumer.assign(tps)
                consumer.seek_to_beginning(*tps)
                assigned = True
            batch = consumer.poll(timeout_ms=500)
            new = [r.value for rs in batch.values() for r in rs]
            if new:
                values += new
                last_new = time.monotonic()
            elif until(values) and time.monotonic() - last_new >= quiet:
                break
    finally:
        consumer.close()
    return values


def _alert_ids(bootstrap: str, env: dict[str, str], expected: set[str], timeout: float = 300) -> list[str]:
    values = _read(bootstrap, env["DW_ALERTS_TOPIC"],
                   lambda vs: expected <= {orjson.loads(v)["alert_id"] for v in vs}, timeout)
    return [orjson.loads(v)["alert_id"] for v in values]


def _diff(got: set[str], expected: set[str]) -> str:
    return f"missing {sorted(expected - got)[:5]}, extra {sorted(got - expected)[:5]}"


@pytest.mark.parametrize("workers", [1, 2])
def test_streaming_alerts_equal_replay(kafka_bootstrap, topic_prefix, tmp_path, recorded, workers):
    path, expected = recorded
    env = _env(kafka_bootstrap, topic_prefix, tmp_path)
    if workers == 1:
        _publish(env, path, batch=50)  # a backlog
    with contextlib.ExitStack() as stack:
        ports = [stack.enter_context(_worker(env, tmp_path / f"w{i}.log"))[1] for i in range(workers)]
        if workers > 1:  # live: publish once the workers share the partitions
            deadline = time.monotonic() + 60
            while any(_metric(p, "assigned_partitions") != 4 / workers for p in ports):
                assert time.monotonic() < deadline, "the workers did not share the partitions"
                time.sleep(0.5)
            _publish(env, path, batch=50)
        got = _alert_ids(kafka_bootstrap, env, expected)
        shares = [_metric(port, "events_in") for port in ports]
    print(f"parity with {workers} worker(s): events per worker {shares}", file=sys.stderr)
    assert set(got) == expected, _diff(set(got), expected)
    assert len(got) == len(set(got)), "an uninterrupted run emits each alert once"


def test_worker_killed_mid_stream_recovers_exactly(kafka_bootstrap, topic_prefix, tmp_path, recorded):
    path, expected = recorded
    env = _env(kafka_bootstrap, topic_prefix, tmp_path)
    _publish(env, path, batch=10)
    with _worker(env, tmp_path / "w1.log") as (proc, port):
        deadline = time.monotonic() + 60
        while _metric(port, "events_in") < 8000 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _metric(port, "events_in") < 30000, "the kill should land mid-stream"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with _worker(env, tmp_path / "w2.log"):
        got = _alert_ids(kafka_bootstrap, env, expected)
    assert set(got) == expected, _diff(set(got), expected)
    dupes = sum(n - 1 for n in Counter(got).values())
    print(f"recovery: {len(got)} alerts on the topic, {dupes} re-emitted duplicates", file=sys.stderr)


def test_bad_records_reach_the_dead_letter_topic(kafka_bootstrap, topic_prefix, tmp_path):
    smoke = REPO / "data" / "smoke.jsonl"
    if not smoke.exists():
        pytest.skip("data/smoke.jsonl not generated")
    alerts, dead = io.BytesIO(), io.BytesIO()
    summary = replay([str(smoke)], alerts, dead)
    expected_reasons = Counter(orjson.loads(line)["reason"] for line in dead.getvalue().splitlines())
    assert summary.bad > 0
    env = _env(kafka_bootstrap, topic_prefix, tmp_path)
    _publish(env, smoke, batch=10)
    with _worker(env, tmp_path / "w1.log") as (_, port):
        values = _read(kafka_bootstrap, env["DW_DEAD_LETTER_TOPIC"], lambda vs: len(vs) >= summary.bad, 60)
        deadline = time.monotonic() + 30
        while _metric(port, "events_in") < summary.events and time.monotonic() < deadline:
            time.sleep(0.2)
        events_in = _metric(port, "events_in")
    letters = [orjson.loads(v) for v in values]
    assert Counter(d["reason"] for d in letters) == expected_reasons
    assert all(d["source"].startswith(env["DW_REQUESTS_TOPIC"] + ":") and d["record"] for d in letters)
    # the pipeline kept going: every good event was processed (too-far-ahead ones are decoded, then rejected)
    too_far = sum(n for r, n in expected_reasons.items() if r.startswith("ts is more than"))
    assert events_in == summary.events + too_far
