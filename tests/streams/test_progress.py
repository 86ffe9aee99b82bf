"""Progress of long commands: a line every ``every_s`` when not on a terminal (a log or a pipe
gets no escape codes), with rate and ETA; replay and simulate report all the work they do."""

import io
import os
import subprocess
from pathlib import Path

from distillwatch.streams.progress import Progress, count_lines, counted
from distillwatch.streams.replay import replay

DATA = Path(__file__).resolve().parents[2] / "data"
CLI = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "distillwatch")


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_line_every_period_with_rate_and_eta_when_not_a_terminal():
    out, clock = io.StringIO(), Clock()
    progress = Progress("replay", 1000, "lines", stream=out, every_s=10, clock=clock)
    clock.t += 4
    progress.update(100)
    assert out.getvalue() == ""  # not yet 10 s
    clock.t += 6
    progress.update(150)
    assert out.getvalue() == "replay: 250/1,000 lines (25%), 25 lines/s, ETA 30 s\n"
    clock.t += 5
    progress.update(10)
    assert out.getvalue().count("\n") == 1


def test_unknown_total_gives_count_and_rate_only():
    out, clock = io.StringIO(), Clock()
    progress = Progress("publish", None, "lines", stream=out, every_s=1, clock=clock)
    clock.t += 2
    progress.update(5000)
    assert out.getvalue() == "publish: 5,000 lines, 2,500 lines/s\n"


def test_replay_reports_every_line_it_reads():
    total = count_lines([str(DATA / "smoke.jsonl")])
    assert total == sum(1 for _ in open(DATA / "smoke.jsonl", "rb"))
    seen: list[int] = []
    replay([str(DATA / "smoke.jsonl")], io.BytesIO(), progress=seen.append)
    assert sum(seen) == sum(1 for line in open(DATA / "smoke.jsonl", "rb") if line.strip())
    assert count_lines(["-"]) is None


def test_counted_passes_items_through_and_counts_them():
    progress = Progress("x", None, "lines", stream=io.StringIO())
    assert list(counted((b"%d" % i for i in range(2500)), progress, step=1000)) == [b"%d" % i for i in range(2500)]
    assert progress.done == 2500


def test_simulate_into_a_pipe_prints_no_escape_codes(tmp_path):
    done = subprocess.run([CLI, "simulate", "--out", str(tmp_path / "s.jsonl"), "--labels", str(tmp_path / "l.csv"),
                           "--accounts", "20", "--hours", "1"], capture_output=True, text=True, env=os.environ,
                          timeout=120)
    assert done.returncode == 0
    assert "\x1b" not in done.stdout + done.stderr and "\r" not in done.stdout + done.stderr
