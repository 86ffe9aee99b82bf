"""Shared pieces of the benchmarks: paths, the cached simulator stream, RSS, JSON output."""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
import tempfile
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


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def heap_bytes() -> dict[str, int]:
    """Where the process's memory is: bytes in live objects vs bytes the allocators hold free.

    Python's small-object allocator (pymalloc, objects <= 512 B: most of an account's arrays and
    strings) from ``sys._debugmallocstats``; larger blocks (an account state object itself) from
    glibc's ``mallinfo2``. ``live`` is what is allocated; ``free`` what the allocators keep but no
    object uses (fragmentation: it counts in RSS, and a freed account's memory only returns to the
    OS when a whole arena or the heap's top empties). Empty where glibc is not the C library."""
    out: dict[str, int] = {}
    saved = os.dup(2)
    with tempfile.TemporaryFile("w+") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        for line in tmp:
            name, _, value = line.partition("=")
            name = name.strip()
            key = {"# bytes in allocated blocks": "pymalloc_live", "Total": "pymalloc_held"}.get(name)
            if key:  # the first "Total": the arenas' bytes (free blocks, empty pools and headers included)
                out.setdefault(key, int(value.replace(",", "")))
    if "pymalloc_held" in out:
        out["pymalloc_free"] = out.pop("pymalloc_held") - out.get("pymalloc_live", 0)
    try:
        info = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return out
    info.restype = _MallInfo2
    m = info()
    out.update(malloc_live=m.uordblks + m.hblkhd, malloc_free=m.fordblks)
    out["live"] = out.get("pymalloc_live", 0) + out["malloc_live"]
    out["free"] = out.get("pymalloc_free", 0) + out["malloc_free"]
    return out


def emit(result: dict) -> None:
    """The one line :mod:`bench.run` reads: a JSON object, last on stdout."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

