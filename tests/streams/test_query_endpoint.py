"""Analysts query the embedded ClickHouse while the worker that holds it runs.

A real broker, a real ``distillwatch worker`` with its sink (it holds the chdb directory), the
first part of the demo stream; then ``distillwatch query`` (which finds the directory locked and
goes through the worker's query endpoint) and clickhouse-connect with an ``http://`` DSN pointed at
the worker, unchanged. Both see exactly the alerts replay raises, and neither can write.
"""

from __future__ import annotations

import gzip
import io
import subprocess
import time
import urllib.parse
import urllib.request

import clickhouse_connect
import orjson
import pytest

from distillwatch.streams.replay import replay
from tests.streams import pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

DEMO_LINES = 15_000


def _alerts_in_clickhouse(dsn: str) -> int:
    try:
        client = clickhouse_connect.get_client(dsn=dsn)
        return client.query("SELECT count() FROM alerts FINAL").result_rows[0][0]
    except Exception:  # noqa: BLE001  (the worker is still starting: no endpoint, no table yet)
        return -1


def test_query_through_the_running_worker(kafka_bootstrap, topic_prefix, tmp_path) -> None:
    stream = tmp_path / "demo-head.jsonl"
    with gzip.open(pipeline.REPO / "data" / "demo.jsonl.gz", "rb") as demo:
        stream.write_bytes(b"".join(line for _, line in zip(range(DEMO_LINES), demo, strict=False)))
    replayed = io.BytesIO()
    replay([str(stream)], replayed)
    expected = [orjson.loads(line) for line in replayed.getvalue().splitlines()]
    assert len(expected) > 20

    qport = pipeline.free_port()
    env = pipeline.env(kafka_bootstrap, topic_prefix, tmp_path / "data", DW_SINK="1", DW_QUERY_PORT=str(qport))
    dsn = f"http://127.0.0.1:{qport}/distillwatch"
    with pipeline.worker(env, tmp_path / "worker.log"):
        pipeline.publish(env, stream, 200)
        deadline = time.monotonic() + 120
        while _alerts_in_clickhouse(dsn) < len(expected) and time.monotonic() < deadline:
            time.sleep(1)
        assert _alerts_in_clickhouse(dsn) == len(expected), (tmp_path / "worker.log").read_text()[-3000:]

        def cli(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([pipeline.CLI, "query", *args], env=env, capture_output=True, text=True,
                                  timeout=120)

        volume = cli("alert_volume", "--param", "start=2000-01-01 00:00:00",
                     "--param", "end=2100-01-01 00:00:00", "--format", "json")
        dropped = cli("DROP TABLE alerts")
        multi = cli("SELECT 1; DROP TABLE alerts")

        # clickhouse-connect, unchanged, against the worker: typed rows, parameters, raw formats
        client = clickhouse_connect.get_client(dsn=dsn)
        by_kind = dict(client.query("SELECT kind, count() FROM alerts FINAL WHERE score > {s:Float64} "
                                    "GROUP BY kind", parameters={"s": 0.0}).result_rows)
        raw = client.raw_query("SELECT alert_id FROM alerts FINAL ORDER BY alert_id FORMAT JSONEachRow")
        with pytest.raises(Exception, match="readonly"):
            client.command("INSERT INTO alerts (alert_id) VALUES ('forged')")
        with pytest.raises(Exception, match="readonly"):
            client.query("SELECT * FROM file('/etc/passwd', 'LineAsString')")
        url = f"http://127.0.0.1:{qport}/?query=" + urllib.parse.quote("SELECT 1 AS one FORMAT JSON")
        with urllib.request.urlopen(url, timeout=30) as response:
            plain = orjson.loads(response.read())
            assert response.headers["X-ClickHouse-Format"] == "JSON"
        with urllib.request.urlopen(f"http://127.0.0.1:{qport}/ping", timeout=10) as response:
            assert response.read() == b"Ok.\n"

    assert volume.returncode == 0, volume.stderr
    rows = [orjson.loads(line) for line in volume.stdout.splitlines()]
    assert sum(r["alerts"] for r in rows) == len(expected)
    assert sum(r["incidents"] for r in rows) >= len({a["dedup_key"] for a in expected})
    assert dropped.returncode == 1 and "readonly mode" in dropped.stderr
    assert multi.returncode == 2 and "one SQL statement at a time" in multi.stderr
    kinds = {}
    for a in expected:
        kinds[a["kind"]] = kinds.get(a["kind"], 0) + 1
    assert by_kind == kinds
    assert [orjson.loads(line)["alert_id"] for line in raw.splitlines()] == sorted(a["alert_id"] for a in expected)
    assert plain["data"] == [{"one": 1}]
