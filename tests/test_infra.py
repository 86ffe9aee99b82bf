"""The local broker script fails with a message a person can act on, not a stack trace."""

import os
import socket
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "infra" / "kafka" / "kafka.sh"


def test_port_in_use_is_explained(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        env = {**os.environ, "KAFKA_PORT": str(port), "DISTILLWATCH_RUN_DIR": str(tmp_path)}
        done = subprocess.run([str(SCRIPT), "up"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"port {port} is already in use by another program; set KAFKA_PORT" in done.stderr
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr


def test_status_and_down_without_a_broker(tmp_path):
    env = {**os.environ, "KAFKA_PORT": "1", "DISTILLWATCH_RUN_DIR": str(tmp_path)}
    assert subprocess.run([str(SCRIPT), "status"], env=env, capture_output=True).returncode == 1
    down = subprocess.run([str(SCRIPT), "down"], env=env, capture_output=True, text=True)
    assert down.returncode == 0 and "no broker running" in down.stdout
