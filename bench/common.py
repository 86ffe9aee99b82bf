"""Shared pieces of the benchmarks: paths, the cached simulator stream, RSS, JSON output."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / ".run" / "bench"  # scratch: cached streams, chdb directories, worker data dirs

# The recorded stream every benchmark derives its input from (issue 6: "at a stated size and seed").
# 3,200 benign accounts over one simulated day give ~1.06 M events (plus the attack campaigns).
STREAM_SEED = 6
STREAM_ACCOUNTS = 3200
STREAM_HOURS = 24.0


def stream_path(seed: int = STREAM_SEED, accounts: int = STREAM_ACCOUNTS, hours: float = STREAM_HOURS) -> Path:
    return WORK / f"stream-s{seed}-a{accounts}-h{hours:g}.jsonl"


def ensure_stream(seed: int = STREAM_SEED, accounts: int = STREAM_ACCOUNTS, hours: float = STREAM_HOURS) -> dict:
    """Generate the simulator stream once (uncompressed jsonl: faster to write and to read) and
    cache it under ``.run/bench`` keyed by seed, accounts and hours; returns its summary."""
    path = stream_path(seed, accounts, hours)
    meta = path.with_suffix(".meta.json")
    if path.exists() and meta.exists():
        return json.loads(meta.read_text())
    from distillwatch.streams.simulation.world import simulate

    WORK.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    summary = simulate(tmp, path.with_suffix(".labels.csv"), seed=seed, accounts=accounts, hours=hours)
    tmp.rename(path)
    info = {"path": str(path.relative_to(REPO)), "seed": seed, "benign_accounts_arg": accounts, "hours": hours,
            "lines": summary["lines"], "accounts": summary["attack_accounts"] + summary["benign_accounts"],
            "bytes": path.stat().st_size, "generate_seconds": summary["seconds"]}
    meta.write_text(json.dumps(info))
    return info


def prefix_file(lines: int) -> Path:
    """The first ``lines`` lines of the cached stream, as their own file (cached)."""
    src = stream_path()
    dst = WORK / f"{src.stem}-first{lines}.jsonl"
    if dst.exists():
        return dst
    tmp = dst.with_suffix(".tmp")
    with src.open("rb") as fin, tmp.open("wb") as fout:
        for i, line in enumerate(fin):
            if i >= lines:
                break
            fout.write(line)
    tmp.rename(dst)
    return dst


def rss_bytes() -> int:
    """Current resident set size of this process (``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def emit(result: dict) -> None:
    """The one line :mod:`bench.run` reads: a JSON object, last on stdout."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

