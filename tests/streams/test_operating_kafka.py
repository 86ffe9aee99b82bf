"""A running worker as an operator sees it: /healthz, /readyz, /metrics with every metric the
shipped dashboard and alert rules use, and JSON log lines without escape codes."""

import signal
import subprocess
import time
import urllib.error
import urllib.request

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.streams import pipeline
from tests.streams.test_operating import exposed, referenced_metrics

pytestmark = pytest.mark.kafka


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError:
        return 0, ""


def value(text: str, name: str, **labels: str) -> float:
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def test_a_running_worker_serves_health_readiness_and_every_metric_in_the_dashboard(
        kafka_bootstrap, topic_prefix, tmp_path, recorded):
    path, _ = recorded
    env = pipeline.env(kafka_bootstrap, topic_prefix, tmp_path, DW_LOG_FORMAT="json")
    port = pipeline.free_port()
    log = tmp_path / "worker.log"
    with open(log, "wb") as f:
        proc = subprocess.Popen([pipeline.CLI, "worker", "--loglevel", "info"], env={**env, "DW_WEB_PORT": str(port)},
                                stdout=f, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while get(port, "/readyz")[0] != 200:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.5)
        assert get(port, "/healthz") == (200, "ok\n")
        pipeline.publish(env, path, batch=50)
        while value(text := get(port, "/metrics")[1], "distillwatch_alert_latency_seconds_count", stage="account") == 0:
            assert time.monotonic() < deadline + 60, "no alert latency observed"
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert referenced_metrics() - exposed(text) == set()
    assert value(text, "distillwatch_events_in_total") > 0
    assert value(text, "distillwatch_event_lag_seconds_count", stage="account") > 0
    assert value(text, "distillwatch_batch_seconds_count", stage="account") > 0
    assert value(text, "distillwatch_sink_failures_total") == 0  # present from the start, though never failed
    lines = log.read_bytes().splitlines()
    assert lines and b"\x1b" not in log.read_bytes()
    entries = [orjson.loads(line) for line in lines if line.strip()]
    assert {"ts", "level", "logger", "message"} <= set(entries[0])
