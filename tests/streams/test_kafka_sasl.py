"""Kafka with SASL/SCRAM, as a real cluster runs it: the local broker started with a
SASL_PLAINTEXT listener (``KAFKA_SASL=1 infra/kafka/kafka.sh up``); the publisher (kafka-python)
and the worker (aiokafka through Faust) both authenticate from the same settings, and wrong
credentials are reported in one line instead of a hang."""

import os
import subprocess
import time

import pytest

from tests.conftest import REPO, TEST_KAFKA_PORT
from tests.streams import pipeline

pytestmark = pytest.mark.kafka

SASL_PORT = os.environ.get("DW_TEST_KAFKA_SASL_PORT", str(int(TEST_KAFKA_PORT) + 10))
USER, PASSWORD = "dw-test", "scram-secret"


@pytest.fixture(scope="module")
def sasl_bootstrap():
    env = {**os.environ, "KAFKA_PORT": SASL_PORT, "KAFKA_SASL": "1", "KAFKA_SASL_USER": USER,
           "KAFKA_SASL_PASSWORD": PASSWORD}
    script = str(REPO / "infra" / "kafka" / "kafka.sh")
    started = subprocess.run([script, "up"], env=env, capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"could not start the SASL broker:\n{started.stdout}\n{started.stderr}")
    try:
        yield f"127.0.0.1:{SASL_PORT}"
    finally:
        subprocess.run([script, "down"], env=env, capture_output=True, text=True)


def sasl_env(bootstrap, prefix, tmp, mechanism, password=PASSWORD):
    return pipeline.env(bootstrap, prefix, tmp, DW_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
                        DW_KAFKA_SASL_MECHANISM=mechanism, DW_KAFKA_SASL_USERNAME=USER,
                        DW_KAFKA_SASL_PASSWORD=password, DW_KAFKA_CONNECT_TIMEOUT_S="3")


def test_publisher_and_worker_authenticate_with_scram(sasl_bootstrap, topic_prefix, tmp_path):
    env = sasl_env(sasl_bootstrap, topic_prefix, tmp_path, "SCRAM-SHA-512")
    smoke = REPO / "data" / "smoke.jsonl"
    pipeline.publish(env, smoke, batch=10)
    with pipeline.worker(env, tmp_path / "worker.log") as (proc, port):
        deadline = time.monotonic() + 90
        while pipeline.metric(port, "events_in") < 600:
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.5)
    assert pipeline.metric(port, "events_in") == 0.0  # the worker stopped cleanly: its page is gone


def test_plain_text_and_wrong_passwords_are_refused_in_one_line(sasl_bootstrap, topic_prefix, tmp_path):
    plain = pipeline.env(sasl_bootstrap, topic_prefix, tmp_path, DW_KAFKA_CONNECT_TIMEOUT_S="3")
    wrong = sasl_env(sasl_bootstrap, topic_prefix, tmp_path, "SCRAM-SHA-256", password="not-it")
    for env in (plain, wrong):
        done = subprocess.run([pipeline.CLI, "alerts", "tail"], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 1
        assert done.stderr.startswith(f"distillwatch alerts: cannot reach Kafka at {sasl_bootstrap} (the port answers")
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
