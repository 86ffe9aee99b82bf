"""``distillwatch notify`` on the real broker: SIGKILL mid-stream and a restart deliver every alert
at least once (counted per ``alert_id`` at a recording server), in order per incident, and a
destination that keeps refusing sends each alert to the delivery dead-letter topic instead of
blocking the stream. Also: one-line failures without a broker or without a destination."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from distillwatch.streams.kafka_admin import ensure_topics
from tests.alerting.conftest import alert
from tests.streams import pipeline

N_INCIDENTS, PER_INCIDENT = 40, 3


def _notify(env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen([pipeline.CLI, "notify"], env=env, stdout=log, stderr=subprocess.STDOUT)


def _dead_letters(bootstrap: str, topic: str) -> list[dict]:
    """Every record of the (one-partition) dead-letter topic, copies from the killed run included:
    read up to its end offset (a quiet-time cut-off read nothing on a loaded machine)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    end = consumer.end_offsets([tp])[tp]
    out: list[dict] = []
    deadline = time.monotonic() + 120
    while consumer.position(tp) < end and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=1000).values():
            out += [orjson.loads(record.value) for record in records]
    consumer.close()
    return out


@pytest.mark.kafka
@pytest.mark.slow
def test_killed_and_restarted_notify_loses_no_alert(kafka_bootstrap, topic_prefix, recorder, tmp_path):
    metrics_port = pipeline.free_port()
    env = pipeline.env(kafka_bootstrap, topic_prefix, tmp_path, DW_REQUESTS_PARTITIONS="2",
                       DW_NOTIFY_GROUP=f"{topic_prefix}.notify",
                       DW_NOTIFY_DEAD_LETTER_TOPIC=f"{topic_prefix}.undelivered",
                       DW_WEBHOOK_URL=recorder.url("/hook"), DW_WEBHOOK_SECRET="s3cret",
                       DW_SLACK_WEBHOOK_URL=recorder.url("/slack"), DW_SLACK_MIN_SEVERITY="info",
                       DW_NOTIFY_MAX_ATTEMPTS="2", DW_NOTIFY_BACKOFF_S="0.01",
                       DW_NOTIFY_METRICS_PORT=str(metrics_port))
    alerts_topic = env["DW_ALERTS_TOPIC"]
    ensure_topics(kafka_bootstrap, [(alerts_topic, 2)])
    sent = [alert(subject=f"acct-{i}", seq=s, detected_at=1770620400.0 + 60 * s)
            for s in range(1, PER_INCIDENT + 1) for i in range(N_INCIDENTS)]
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for a in sent:
        producer.send(alerts_topic, key=a["dedup_key"].encode(), value=orjson.dumps(a))
    producer.flush()
    producer.close()
    recorder.script["/slack"] = [500] * (10 * len(sent))  # Slack is down for the whole test
    recorder.delay_s = 0.02

    with open(tmp_path / "notify.log", "ab") as log:
        first = _notify(env, log)
        recorder.wait_for("a third of the alerts", lambda: len(recorder.received("/hook")) >= len(sent) // 3, 60)
        first.send_signal(signal.SIGKILL)
        first.wait()
        before_kill = len(recorder.received("/hook"))
        assert before_kill < len(sent), "notify finished before it was killed: nothing was tested"
        second = _notify(env, log)
        try:
            want = {a["alert_id"] for a in sent}
            recorder.wait_for("every alert", lambda: want <= {r.json["alert_id"] for r in recorder.received("/hook")},
                              120)
            delivered_metric = pipeline.metric(metrics_port, 'notify_delivered_total{destination="webhook"}')
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=30) == 0

    hooks = recorder.received("/hook")
    counts = Counter(r.json["alert_id"] for r in hooks)
    assert set(counts) == want and min(counts.values()) >= 1
    first_seen: dict[str, list[int]] = {}
    for r in hooks:  # in order per incident, on the first delivery of each alert
        seqs = first_seen.setdefault(r.json["dedup_key"], [])
        seq = sent.index(r.json) // N_INCIDENTS
        if seq not in seqs:
            seqs.append(seq)
    assert all(seqs == sorted(seqs) for seqs in first_seen.values())
    assert all(r.headers["X-Distillwatch-Signature"].startswith("sha256=") for r in hooks)
    assert 0 < delivered_metric <= len(sent)
    dead = _dead_letters(kafka_bootstrap, env["DW_NOTIFY_DEAD_LETTER_TOPIC"])
    assert {d["alert"]["alert_id"] for d in dead} == want
    assert {(d["destination"], d["attempts"]) for d in dead} == {("slack", 2)}
    print(f"{len(sent)} alerts, {before_kill} delivered before SIGKILL, {len(hooks)} deliveries in all "
          f"({len(hooks) - len(sent)} repeated after the restart)")


def test_fails_fast_in_one_line(tmp_path):
    env = pipeline.env("127.0.0.1:1", "nobroker", tmp_path, DW_WEBHOOK_URL="http://127.0.0.1:9/hook",
                       DW_NOTIFY_TIMEOUT_S="2")
    done = subprocess.run([pipeline.CLI, "notify"], env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr.strip().splitlines()) == (
        1, ["distillwatch notify: cannot reach Kafka at 127.0.0.1:1 (Connection refused); start it (make kafka-up) "
            "or set KAFKA_BOOTSTRAP_SERVERS / KAFKA_PORT"])
    env.pop("DW_WEBHOOK_URL")
    done = subprocess.run([pipeline.CLI, "notify"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("no destination configured")
