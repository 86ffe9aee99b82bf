"""Rebalancing on the real broker, the everyday scale-out event: with 8 partitions, a second worker
joins mid-stream, later the first one leaves (SIGTERM), a third joins and the second dies (SIGKILL).
Partitions and their state move through the changelogs at each step; the alert id set equals
replay's, also when the consumer skipped records in a rebalance (they are read again). Every
worker may run the ClickHouse sink (one embedded directory: the aggregates partition, and with it
the directory, moves with the membership); its tables equal replay's (the fault test's
comparison: FINAL and raw counts, sums, roll-ups). The processors' counters, which
move with their state, equal replay's: an event applied twice would count as a duplicate."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import orjson
import pytest

from distillwatch.models.engine import Engine
from distillwatch.streams.replay import replay
from distillwatch.streams.settings import detector_config, load
from tests.streams import pipeline
from tests.streams.test_faults import CHECKS, tables

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PARTITIONS = 8
# the worker's gauges of the processors' counters (summed over the partitions it holds) -> the counter
COUNTERS = {"late_events": "late", "duplicate_events": "duplicates", "implausible_ahead": "too_far_ahead",
            "implausible_behind": "too_far_behind", "processing_errors": "errors"}


def _wait(what: str, check, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.5)


def _assigned(port: int) -> float:
    return pipeline.metric(port, "assigned_partitions")


def test_workers_joining_leaving_and_dying_mid_stream_equal_replay(kafka_bootstrap, topic_prefix, tmp_path,
                                                                    recorded: tuple[Path, set[str]]):
    stream = recorded[0]
    out = io.BytesIO()
    engine = Engine(PARTITIONS, PARTITIONS, detector_config(load()))
    replay([str(stream)], out, partitions=PARTITIONS, cluster_partitions=PARTITIONS, engine=engine)
    expected = {orjson.loads(line)["alert_id"] for line in out.getvalue().splitlines()}
    expected_counters = {gauge: float(engine.counters().get(c, 0)) for gauge, c in COUNTERS.items()}
    replay_dsn = f"chdb://{tmp_path / 'replay-ch'}"
    subprocess.run([pipeline.CLI, "replay", str(stream), "--alerts", str(tmp_path / "replay-alerts.jsonl"),
                    "--partitions", str(PARTITIONS), "--cluster-partitions", str(PARTITIONS),
                    "--clickhouse", replay_dsn], check=True, capture_output=True, timeout=300)
    expected_tables = tables(replay_dsn)
    assert expected_tables["account_minute"]["n"] > 1000
    # every worker may write: the embedded directory under DW_DATA_DIR goes with the aggregates partition
    env = pipeline.env(kafka_bootstrap, topic_prefix, tmp_path, DW_REQUESTS_PARTITIONS=str(PARTITIONS),
                       DW_CLUSTER_PARTITIONS=str(PARTITIONS), DW_SINK="1")
    events = sum(1 for _ in open(stream, "rb"))
    with ExitStack() as stack:
        a_proc, a = stack.enter_context(pipeline.worker(env, tmp_path / "a.log"))
        _wait("worker A holds every partition", lambda: _assigned(a) == PARTITIONS)
        # a live stream of ~60 s, so that every membership change lands mid-stream
        publisher = subprocess.Popen([pipeline.CLI, "publish", str(stream), "--batch", "20",
                                      "--rate", str(max(200, events // 60))],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        stack.callback(lambda: publisher.poll() is None and publisher.kill())
        _wait("a fifth of the stream is in", lambda: pipeline.metric(a, "events_in") >= events // 5
              or publisher.poll() not in (None, 0))
        assert publisher.poll() in (None, 0), publisher.stderr.read().decode()
        b_proc, b = stack.enter_context(pipeline.worker(env, tmp_path / "b.log"))  # joins
        _wait("A and B share the partitions", lambda: _assigned(a) == _assigned(b) == PARTITIONS / 2)
        time.sleep(5)
        a_proc.send_signal(signal.SIGTERM)  # leaves cleanly
        a_proc.wait(timeout=60)
        _wait("B holds every partition", lambda: _assigned(b) == PARTITIONS)
        c_proc, c = stack.enter_context(pipeline.worker(env, tmp_path / "c.log"))  # joins
        _wait("B and C share the partitions", lambda: _assigned(b) == _assigned(c) == PARTITIONS / 2)
        in_flight = publisher.poll() is None
        b_proc.kill()  # dies: its partitions move to C after the session timeout
        b_proc.wait(timeout=30)
        assert publisher.wait(timeout=300) == 0, publisher.stderr.read().decode()
        got = pipeline.alert_ids(kafka_bootstrap, env, expected)
        _wait("C holds every partition", lambda: _assigned(c) == PARTITIONS)
        pipeline.wait_sink_settled(c)
        counters = {gauge: pipeline.metric(c, gauge) for gauge in COUNTERS}
        reemitted = pipeline.metric(c, "sink_reemitted_rows")
    got_tables = tables(f"chdb://{tmp_path / 'clickhouse'}")  # C stopped: the directory is free
    print(f"rebalance: kill landed {'mid-stream' if in_flight else 'after the last publish'}; "
          f"{len(got)} alerts on the topic, {sum(n - 1 for n in Counter(got).values())} re-emitted; "
          f"{reemitted:g} re-emitted rows dropped by C's sink; counters {counters}", file=sys.stderr)
    assert counters == expected_counters
    # Records faust-streaming's fetcher skips in a rebalance are read again from the broker
    # (streams/agents/refill.py): parity is exact, and the log says how often that was needed.
    logs = [line for name in ("a", "b", "c") for line in (tmp_path / f"{name}.log").read_text().splitlines()]
    refilled = [line for line in logs if "were skipped by the consumer" in line]
    gaps = [line for line in logs if "never arrived" in line]
    differing = {t: (got_tables[t], expected_tables[t]) for t in CHECKS if got_tables[t] != expected_tables[t]}
    print(f"rebalance: {len(refilled)} skipped ranges read again, {len(gaps)} gaps left; alert ids "
          f"{pipeline.diff(set(got), expected)}; tables differing: {differing or 'none'}", file=sys.stderr)
    assert not gaps, gaps
    assert set(got) == expected, pipeline.diff(set(got), expected)
    assert not differing
