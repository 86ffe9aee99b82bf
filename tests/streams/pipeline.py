"""Helpers for tests that run the real pipeline: `distillwatch worker` subprocesses on their own
topics, `distillwatch publish`, and the worker's /metrics page."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from kafka import KafkaConsumer, TopicPartition

REPO = Path(__file__).resolve().parents[2]
CLI = str(REPO / ".venv" / "bin" / "distillwatch")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(bootstrap: str, prefix: str, tmp: Path, **overrides: str) -> dict[str, str]:
    """A worker's environment: topics and app id under ``prefix``, data under ``tmp``, no sink,
    quick idle flush and failover (a test's stream ends; a killed worker must be replaced fast)."""
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DW_APP_ID": prefix,
        "DW_REQUESTS_TOPIC": f"{prefix}.requests",
        "DW_ALERTS_TOPIC": f"{prefix}.alerts",
        "DW_DEAD_LETTER_TOPIC": f"{prefix}.dead-letter",
        "DW_LINKS_TOPIC": f"{prefix}.links",
        "DW_CAMPAIGNS_TOPIC": f"{prefix}.campaigns",
        "DW_ROWS_TOPIC": f"{prefix}.aggregates",
        "DW_REQUESTS_PARTITIONS": "4",
        "DW_CLUSTER_PARTITIONS": "4",
        "DW_DATA_DIR": str(tmp),
        "DW_CLICKHOUSE_DSN": "",
        "DW_SINK": "0",
        "DW_IDLE_FLUSH_S": "2",
        "DW_SESSION_TIMEOUT_S": "8",
        "DW_METRICS_LOG_S": "5",
        **overrides,
    }


def publish(environment: dict[str, str], path: Path, batch: int) -> None:
    subprocess.run([CLI, "publish", str(path), "--batch", str(batch)], env=environment, check=True,
                   capture_output=True, timeout=120)


@contextmanager
def worker(environment: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    """A ``distillwatch worker`` subprocess and its web port; SIGTERM (then SIGKILL) at exit."""
    port = free_port()
    with open(log, "ab") as f:
        proc = subprocess.Popen([CLI, "worker", "--loglevel", "warning"],
                                env={**environment, "DW_WEB_PORT": str(port)}, stdout=f, stderr=subprocess.STDOUT)
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


def metric(port: int, name: str) -> float:
    """One counter from the worker's /metrics (0 while the page is not up)."""
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith((f"distillwatch_{name} ", f"distillwatch_{name}_total ")):
            return float(line.split()[1])
    return 0.0


def read(bootstrap: str, topic: str, until, timeout: float, quiet: float = 4.0) -> list[bytes]:
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


def alert_ids(bootstrap: str, env: dict[str, str], expected: set[str], timeout: float = 300) -> list[str]:
    values = read(bootstrap, env["DW_ALERTS_TOPIC"],
                   lambda vs: expected <= {orjson.loads(v)["alert_id"] for v in vs}, timeout)
    return [orjson.loads(v)["alert_id"] for v in values]


def diff(got: set[str], expected: set[str]) -> str:
    return f"missing {sorted(expected - got)[:5]}, extra {sorted(got - expected)[:5]}"


def wait_sink_settled(port: int, quiet: float = 10.0, timeout: float = 300.0) -> None:
    """Until the worker's sink has written nothing new for ``quiet`` seconds."""
    last, since = -1.0, time.monotonic()
    deadline = since + timeout
    while True:
        rows = metric(port, "sink_rows")
        if rows != last:
            last, since = rows, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        assert time.monotonic() < deadline, "timed out waiting for the sink to settle"
        time.sleep(0.5)
