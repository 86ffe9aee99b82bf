"""`distillwatch replay` exactly as cli.md describes it: files or stdin, deterministic alerts,
bad records in the dead-letter file with reasons, a one-line summary, exit 0."""

import subprocess
from pathlib import Path

import orjson

from distillwatch.streams.cli import main

DATA = Path(__file__).resolve().parents[2] / "data"
CLI = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "distillwatch")


def test_replay_is_byte_identical_and_dead_letters_bad_records(tmp_path, capsys):
    runs = []
    for i in range(2):
        alerts, dead = tmp_path / f"a{i}.jsonl", tmp_path / f"d{i}.jsonl"
        assert main(["replay", str(DATA / "smoke.jsonl"), "--alerts", str(alerts), "--dead-letter", str(dead)]) == 0
        runs.append((alerts.read_bytes(), dead.read_bytes()))
    assert runs[0] == runs[1]
    letters = [orjson.loads(line) for line in runs[0][1].splitlines()]
    assert len(letters) == 24  # the smoke stream's bad records, one per kind the spec names and more
    assert all(d["reason"] and d["source"].startswith(str(DATA / "smoke.jsonl") + ":") for d in letters)
    reasons = " | ".join(d["reason"] for d in letters)
    for fragment in ("not valid UTF-8 JSON", "required field", "over the 64 KiB limit", "implausible time"):
        assert fragment in reasons
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("replay: 628 events read, 24 bad records")
    assert "alerts: critical" in summary and "events/s" in summary


def test_replay_reads_gzip_and_stdin_alike(tmp_path):
    gz = tmp_path / "gz.jsonl"
    assert main(["replay", str(DATA / "demo.jsonl.gz"), "--alerts", str(gz)]) == 0
    stdin = tmp_path / "stdin.jsonl"
    with open(DATA / "demo.jsonl.gz", "rb") as f:
        done = subprocess.run(f"gzip -dc | {CLI} replay - --alerts {stdin}", shell=True, stdin=f,  # noqa: S602
                              capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert gz.read_bytes() == stdin.read_bytes() and gz.stat().st_size > 0


def test_unreadable_input_says_so(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "missing.jsonl"), "--alerts", str(tmp_path / "a.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
