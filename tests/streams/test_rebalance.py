"""Rebalancing on the real broker, the everyday scale-out event: with 8 partitions, a second worker
joins mid-stream, later the first one leaves (SIGTERM), a third joins and the second dies (SIGKILL).
Partitions and their state move through the changelogs at each step; the alert id set must still
be exactly replay's (alert ids carry the event time and sequence of each decision, so an event
processed twice or skipped would change or lose one)."""

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

from distillwatch.streams.replay import replay
from tests.streams import pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PARTITIONS = 8


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
    replay([str(stream)], out, partitions=PARTITIONS, cluster_partitions=PARTITIONS)
    expected = {orjson.loads(line)["alert_id"] for line in out.getvalue().splitlines()}
    env = pipeline.env(kafka_bootstrap, topic_prefix, tmp_path, DW_REQUESTS_PARTITIONS=str(PARTITIONS),
                       DW_CLUSTER_PARTITIONS=str(PARTITIONS))
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
    print(f"rebalance: kill landed {'mid-stream' if in_flight else 'after the last publish'}; "
          f"{len(got)} alerts on the topic, {sum(n - 1 for n in Counter(got).values())} re-emitted",
          file=sys.stderr)
    assert set(got) == expected, pipeline.diff(set(got), expected)
