"""The ClickHouse sink on the real pipeline while ClickHouse is unavailable for a while.

The embedded engine's directory is held by another process when the worker starts (chdb lets one
process open it), so every insert fails until that process lets go. The worker must neither lose
nor duplicate rows: afterwards each aggregate row of the stream is present exactly once.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time

import orjson
import pytest

from distillwatch.streams.replay import replay
from tests.streams.pipeline import CLI, env, metric, publish, worker

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

KEYS = {  # natural keys: what "the same row" means per table
    "account_minute": ("account_id", "minute"),
    "cluster_minute": ("cluster_id", "minute"),
    "cluster_member": ("cluster_id", "snapshot_at", "account_id"),
    "campaign_member": ("campaign_id", "account_id", "snapshot_at"),
    "alert": ("alert_id",),
}
TABLES = {"account_minute": "account_minute", "cluster_minute": "cluster_minute",
          "cluster_member": "cluster_member", "campaign_member": "campaign_member", "alert": "alerts"}
HOLD = """
import sys, clickhouse_connect
client = clickhouse_connect.get_client(dsn=sys.argv[1])
client.query("SELECT 1")
print("holding", flush=True)
sys.stdin.read()   # until the test closes our stdin
"""


def _query(dsn: str, sql: str) -> list[dict]:
    out = subprocess.run([CLI, "query", sql, "--clickhouse", dsn, "--format", "json"], check=True,
                         capture_output=True, timeout=120).stdout
    return [orjson.loads(line) for line in out.splitlines()]


def test_rows_exactly_once_after_an_outage(kafka_bootstrap, topic_prefix, tmp_path):
    from distillwatch.streams.simulation.world import simulate

    stream = tmp_path / "stream.jsonl"
    simulate(stream, tmp_path / "labels.csv", seed=5, accounts=120, hours=2.0)
    expected: dict[str, set] = {t: set() for t in KEYS}

    def collect(rows):
        for table, row in rows:
            expected[table].add(tuple(row[k] for k in KEYS[table]))

    replay([str(stream)], io.BytesIO(), rows_sink=collect)
    total = sum(len(v) for v in expected.values())
    assert expected["account_minute"] and expected["alert"]

    environment = env(kafka_bootstrap, topic_prefix, tmp_path, DW_SINK="1")
    dsn = f"chdb://{tmp_path / 'clickhouse'}"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, dsn], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    try:
        publish(environment, stream, batch=50)
        with worker(environment, tmp_path / "w.log") as (_, port):
            deadline = time.monotonic() + 60
            while metric(port, "sink_failures") < 2:  # ClickHouse is down: inserts keep failing
                assert time.monotonic() < deadline, "the sink never tried ClickHouse"
                time.sleep(0.5)
            holder.stdin.close()  # ClickHouse is back
            holder.wait(timeout=30)
            deadline = time.monotonic() + 300  # returns as soon as every row is in; a loaded machine is slow
            while metric(port, "sink_rows") < total:
                assert time.monotonic() < deadline, f"sink wrote {metric(port, 'sink_rows')} of {total} rows"
                time.sleep(0.5)
            failures = metric(port, "sink_failures")
    finally:
        if holder.poll() is None:
            holder.kill()
    print(f"sink outage: {failures:g} failed attempts, then {total} rows", file=sys.stderr)
    for kind, table in TABLES.items():
        keys = ", ".join(KEYS[kind])
        got = _query(dsn, f"SELECT count() AS n, uniqExact({keys}) AS distinct_keys FROM distillwatch.{table}")[0]
        assert got["distinct_keys"] == len(expected[kind]), (table, got, len(expected[kind]))
        assert got["n"] == got["distinct_keys"], f"{table}: duplicate rows inserted"
