"""Fail fast and say why (issue 15): a command that needs Kafka says which address does not
answer and exits 1 instead of hanging; user errors are one line and exit 2; tracebacks only with
``--debug``; ``KAFKA_PORT`` is honoured as the infra scripts honour it."""

import os
import socket
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

from distillwatch.streams import settings

CLI = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "distillwatch")
DATA = Path(__file__).resolve().parents[2] / "data"


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_PORT")}
    return subprocess.run([CLI, *args], env={**clean, **env}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("command", [["worker"], ["publish", str(DATA / "smoke.jsonl")], ["alerts", "tail"]])
def test_kafka_unreachable_is_one_line_naming_the_address(command):
    port = free_port()
    done = run(*command, KAFKA_PORT=str(port))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"distillwatch {command[0]}: cannot reach Kafka at 127.0.0.1:{port} (Connection refused); "
        "start it (make kafka-up) or set KAFKA_BOOTSTRAP_SERVERS / KAFKA_PORT")


def test_a_port_that_is_not_kafka_is_told_apart_from_a_closed_one():
    with socket.socket() as listener:  # accepts connections, never answers the Kafka handshake
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        done = run("alerts", "tail", KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{port}", DW_KAFKA_CONNECT_TIMEOUT_S="1")
    assert done.returncode == 1
    assert f"cannot reach Kafka at 127.0.0.1:{port} (the port answers but no Kafka PLAINTEXT session" in done.stderr
    assert "Traceback" not in done.stderr


def test_worker_told_to_wait_says_so_at_once_then_gives_up():
    port = free_port()
    done = run("worker", KAFKA_PORT=str(port), DW_KAFKA_WAIT_S="1")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 2
    assert lines[0].endswith("retrying every 5 s for up to 1 s more (DW_KAFKA_WAIT_S)")
    assert lines[1].startswith(f"distillwatch worker: cannot reach Kafka at 127.0.0.1:{port}")


def test_kafka_port_names_the_local_broker_and_a_disagreement_is_warned(monkeypatch, capsys):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("KAFKA_PORT", "19555")
    assert settings.load().kafka_bootstrap_servers == "127.0.0.1:19555"
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker1:9092,broker2:9092")
    assert settings.load().kafka_bootstrap_servers == "broker1:9092,broker2:9092"
    assert "KAFKA_BOOTSTRAP_SERVERS=broker1:9092,broker2:9092 and KAFKA_PORT=19555 disagree" in capsys.readouterr().err
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19555")
    settings.load()
    assert capsys.readouterr().err == ""


def test_evaluate_with_a_missing_labels_file_is_a_user_error(tmp_path):
    done = run("evaluate", "--labels", str(tmp_path / "nope.csv"), "--alerts", str(tmp_path / "a.jsonl"))
    assert done.returncode == 2
    assert done.stderr == (f"distillwatch evaluate: --labels {tmp_path / 'nope.csv'}: no such file "
                           "(distillwatch simulate --labels writes one)\n")


def test_debug_shows_the_traceback_and_only_then(tmp_path):
    args = ("evaluate", "--labels", str(tmp_path / "nope.csv"), "--alerts", "x")
    assert "Traceback" not in run(*args).stderr
    debug = run("--debug", *args)
    assert "Traceback" in debug.stderr and "UserError: --labels" in debug.stderr


def test_an_unexpected_error_is_one_line_with_its_type(tmp_path):
    bad = tmp_path / "labels.csv"
    bad.write_bytes(b"\xff\xfe not a csv\n")
    (tmp_path / "a.jsonl").write_text("{}\n")
    done = run("evaluate", "--labels", str(bad), "--alerts", str(tmp_path / "a.jsonl"))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("distillwatch evaluate: ")
    assert lines[0].endswith("(--debug shows the traceback)")


def test_version_comes_from_the_package_metadata():
    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"distillwatch {version('distillwatch')}"


def test_bad_security_settings_are_named():
    done = run("alerts", "tail", KAFKA_PORT=str(free_port()), DW_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT")
    assert done.returncode == 2
    assert done.stderr.strip() == ("distillwatch alerts: SASL_PLAINTEXT needs DW_KAFKA_SASL_USERNAME and "
                                   "DW_KAFKA_SASL_PASSWORD")


def test_a_dsn_of_another_scheme_is_named_not_taken_as_http(tmp_path):
    done = run("query", "alert_volume", DW_CLICKHOUSE_DSN="foo://analyst:pw@x")
    assert done.returncode == 2
    assert done.stderr == ("distillwatch query: ClickHouse DSN 'foo://x': use chdb:///path (embedded) or "
                           "http(s)://user:pass@host:8123\n")


def test_an_unreachable_clickhouse_is_one_line_naming_the_address():
    port = free_port()
    done = run("query", "alert_volume", DW_CLICKHOUSE_DSN=f"http://127.0.0.1:{port}")
    assert done.returncode == 1
    assert done.stderr == (f"distillwatch query: cannot reach ClickHouse at http://127.0.0.1:{port} "
                           "(Connection refused); check DW_CLICKHOUSE_DSN or --clickhouse\n")


def test_an_unknown_saved_query_name_is_not_run_as_sql(tmp_path):
    done = run("query", "top_clustres", DW_DATA_DIR=str(tmp_path))
    assert done.returncode == 2
    assert done.stderr == "distillwatch query: no saved query 'top_clustres'; distillwatch query --list shows them\n"
