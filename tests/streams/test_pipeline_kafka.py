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
import signal
import sys
import time
from collections import Counter

import orjson
import pytest

from distillwatch.streams.replay import replay
from tests.streams import pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

REPO = pipeline.REPO


@pytest.mark.parametrize("workers", [1, 2])
def test_streaming_alerts_equal_replay(kafka_bootstrap, topic_prefix, tmp_path, recorded, workers):
    path, expected = recorded
    env = pipeline.env(kafka_bootstrap, topic_prefix, tmp_path)
    if workers == 1:
        pipeline.publish(env, path, batch=50)  # a backlog
    with contextlib.ExitStack() as stack:
        ports = [stack.enter_context(pipeline.worker(env, tmp_path / f"w{i}.log"))[1] for i in range(workers)]
        if workers > 1:  # live: publish once the workers share the partitions
            deadline = time.monotonic() + 60
            while any(pipeline.metric(p, "assigned_partitions") != 4 / workers for p in ports):
                assert time.monotonic() < deadline, "the workers did not share the partitions"
                time.sleep(0.5)
            pipeline.publish(env, path, batch=50)
        got = pipeline.alert_ids(kafka_bootstrap, env, expected)
        shares = [pipeline.metric(port, "events_in") for port in ports]
    print(f"parity with {workers} worker(s): events per worker {shares}", file=sys.stderr)
    assert set(got) == expected, pipeline.diff(set(got), expected)
    assert len(got) == len(set(got)), "an uninterrupted run emits each alert once"


def test_worker_killed_mid_stream_recovers_exactly(kafka_bootstrap, topic_prefix, tmp_path, recorded):
    path, expected = recorded
    env = pipeline.env(kafka_bootstrap, topic_prefix, tmp_path)
    pipeline.publish(env, path, batch=10)
    with pipeline.worker(env, tmp_path / "w1.log") as (proc, port):
        deadline = time.monotonic() + 60
        while pipeline.metric(port, "events_in") < 8000 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pipeline.metric(port, "events_in") < 30000, "the kill should land mid-stream"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with pipeline.worker(env, tmp_path / "w2.log"):
        got = pipeline.alert_ids(kafka_bootstrap, env, expected)
    assert set(got) == expected, pipeline.diff(set(got), expected)
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
    env = pipeline.env(kafka_bootstrap, topic_prefix, tmp_path)
    pipeline.publish(env, smoke, batch=10)
    with pipeline.worker(env, tmp_path / "w1.log") as (_, port):
        values = pipeline.read(kafka_bootstrap, env["DW_DEAD_LETTER_TOPIC"], lambda vs: len(vs) >= summary.bad, 60)
        deadline = time.monotonic() + 30
        while pipeline.metric(port, "events_in") < summary.events and time.monotonic() < deadline:
            time.sleep(0.2)
        events_in = pipeline.metric(port, "events_in")
    letters = [orjson.loads(v) for v in values]
    assert Counter(d["reason"] for d in letters) == expected_reasons
    assert all(d["source"].startswith(env["DW_REQUESTS_TOPIC"] + ":") and d["record"] for d in letters)
    # the pipeline kept going: every good event was processed (too-far-ahead ones are decoded, then rejected)
    too_far = sum(n for r, n in expected_reasons.items() if r.startswith("implausible time"))
    assert events_in == summary.events + too_far
