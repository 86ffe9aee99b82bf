"""Session fixtures: the real Kafka broker (started from infra/, or KAFKA_BOOTSTRAP_SERVERS)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TEST_KAFKA_PORT = os.environ.get("DW_TEST_KAFKA_PORT", "19192")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a real broker: the one in KAFKA_BOOTSTRAP_SERVERS, or a local one
    started for this test session (and stopped after it)."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    env = {**os.environ, "KAFKA_PORT": TEST_KAFKA_PORT}
    script = REPO / "infra" / "kafka" / "kafka.sh"
    started = subprocess.run([str(script), "up"], env=env, capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"could not start the test broker:\n{started.stdout}\n{started.stderr}")
    try:
        yield f"127.0.0.1:{TEST_KAFKA_PORT}"
    finally:
        subprocess.run([str(script), "down"], env=env, capture_output=True, text=True)


@pytest.fixture
def topic_prefix() -> str:
    """A unique prefix, so each test's topics and consumer groups start empty."""
    return f"t{uuid.uuid4().hex[:10]}"
