"""Faults on the real pipeline: a held ClickHouse directory, a SIGKILL during a batch and a 30 s
broker outage in one run. Afterwards the worker's ClickHouse must equal what replay writes for the
same stream, table by table (FINAL counts and sums, raw counts, the roll-ups fed by materialized
views, which count a doubled row twice), and its alert ids must equal replay's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import ExitStack

import orjson
import pytest

from tests.conftest import REPO
from tests.streams.pipeline import CLI, alert_ids, diff, env, metric, publish, wait_sink_settled, worker
from tests.streams.test_pipeline_sink import HOLD

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

OUTAGE_S = 30
# One query per table: what a reader sees (FINAL) and what was inserted (raw count; the roll-ups
# merged per key). Equal numbers mean no row lost, none doubled.
CHECKS = {
    "account_minute": "SELECT count() AS n, sum(requests) AS requests, sum(output_tokens) AS output_tokens, "
                      "(SELECT count() FROM distillwatch.account_minute) AS raw "
                      "FROM distillwatch.account_minute FINAL",
    "cluster_minute": "SELECT count() AS n, sum(members_total) AS members, "
                      "(SELECT count() FROM distillwatch.cluster_minute) AS raw "
                      "FROM distillwatch.cluster_minute FINAL",
    "cluster_member": "SELECT count() AS n, sum(requests) AS requests, "
                      "(SELECT count() FROM distillwatch.cluster_member) AS raw "
                      "FROM distillwatch.cluster_member FINAL",
    "alerts": "SELECT count() AS n, (SELECT count() FROM distillwatch.alerts) AS raw, "
              "groupArraySorted(100000)(alert_id) AS ids FROM distillwatch.alerts FINAL",
    **{table: f"SELECT count() AS n, sum(minutes) AS minutes, sum(requests) AS requests, "
              f"sum(output_tokens) AS output_tokens FROM (SELECT account_id, {period}, sum(minutes) AS minutes, "
              f"sum(requests) AS requests, sum(output_tokens) AS output_tokens "
              f"FROM distillwatch.{table} GROUP BY account_id, {period})"
       for table, period in (("account_hour", "hour"), ("account_day", "day"))},
}


def tables(dsn: str) -> dict[str, dict]:
    """Every table's checks (:data:`CHECKS`) as ``distillwatch query`` answers them."""
    out = {}
    for table, sql in CHECKS.items():
        text = subprocess.run([CLI, "query", sql, "--clickhouse", dsn, "--format", "json"], check=True,
                              capture_output=True, timeout=120).stdout
        out[table] = orjson.loads(text.splitlines()[0])
    return out


def _broker(action: str, bootstrap: str) -> None:
    """Stop or start the session's broker (on its own port, also when KAFKA_BOOTSTRAP_SERVERS names one
    that infra/kafka/kafka.sh started), never another one."""
    subprocess.run([str(REPO / "infra" / "kafka" / "kafka.sh"), action], check=True, capture_output=True,
                   env={**os.environ, "KAFKA_PORT": bootstrap.rsplit(":", 1)[1]}, timeout=120)


def _wait(what: str, cond, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_sigkill_broker_outage_and_held_clickhouse_equal_replay(kafka_bootstrap, topic_prefix, tmp_path):
    from distillwatch.streams.simulation.world import simulate

    stream = tmp_path / "stream.jsonl"
    simulate(stream, tmp_path / "labels.csv", seed=7, accounts=200, hours=3.0)
    replay_dsn = f"chdb://{tmp_path / 'replay-ch'}"
    subprocess.run([CLI, "replay", str(stream), "--alerts", str(tmp_path / "alerts.jsonl"), "--partitions", "4",
                    "--cluster-partitions", "4", "--clickhouse", replay_dsn], check=True, capture_output=True,
                   timeout=300)
    expected_ids = {orjson.loads(line)["alert_id"] for line in (tmp_path / "alerts.jsonl").read_bytes().splitlines()}
    expected = tables(replay_dsn)
    assert expected["account_minute"]["raw"] == expected["account_minute"]["n"] > 1000

    environment = env(kafka_bootstrap, topic_prefix, tmp_path, DW_SINK="1", DW_BATCH_MAX="200")
    dsn = f"chdb://{tmp_path / 'clickhouse'}"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, dsn], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "holding"
    log = tmp_path / "w.log"
    publish(environment, stream, batch=50)
    try:
        with worker(environment, log) as (proc, port):  # ClickHouse held: inserts fail, nothing is acked
            _wait("a failed insert", lambda: metric(port, "sink_failures") >= 2, 90)
            holder.stdin.close()
            holder.wait(timeout=30)
            _wait("rows written", lambda: metric(port, "sink_rows") > 0, 120)
            proc.kill()  # SIGKILL mid-stream: batches taken, written or not, never acked
            proc.wait()
        with ExitStack() as stack:
            proc, port = stack.enter_context(worker(environment, log))
            _wait("the restarted worker's rows", lambda: metric(port, "sink_rows") > 0, 120)
            _broker("down", kafka_bootstrap)  # mid-stream: the test broker's own data survives in .run
            time.sleep(OUTAGE_S)
            _broker("up", kafka_bootstrap)
            stopped = proc.poll() is not None  # a failed delivery stops the worker
            if stopped:  # as a supervisor would, start it again
                proc, port = stack.enter_context(worker(environment, log))
            got_ids = set(alert_ids(kafka_bootstrap, environment, expected_ids, timeout=300))
            wait_sink_settled(port)
            reemitted = metric(port, "sink_reemitted_rows")
    finally:
        if holder.poll() is None:
            holder.kill()
    got = tables(dsn)
    print(f"faults: worker stopped by the outage: {stopped}, {reemitted:g} re-emitted rows dropped after the "
          f"last start, log {log.stat().st_size} bytes", file=sys.stderr)
    assert got_ids == expected_ids, diff(got_ids, expected_ids)
    for table in CHECKS:
        assert got[table] == expected[table], (table, got[table], expected[table])
    assert log.stat().st_size < 2_000_000, "the broker outage flooded the log"
