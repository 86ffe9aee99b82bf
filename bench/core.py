"""Benchmark 1, the detection core: offline replay events/s on the recorded stream, next to the
decode ceiling (a bare loop that reads and decodes the same file), plus a cProfile of replay; the
replay runs as built (mypyc-compiled models/ when ``infra/build_compiled.py`` built them) and once
more in a child process with ``DW_PURE=1`` (the interpreted models/), for the compiled speed-up.

    python -m bench.core [--profile-lines N]
    python -m bench.core --replay FILE   # one replay of FILE only (as built, or DW_PURE=1 ...)
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time

from bench.common import emit, ensure_stream, log, peak_rss_bytes, prefix_file, stream_path


def decode_ceiling(path: str) -> dict:
    """Read every line the way replay does and decode it: nothing else."""
    from distillwatch.models.event import decode
    from distillwatch.streams.recorded import read_lines

    events = bad = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for _, _, raw in read_lines([path]):
        good, rejected = decode(raw)
        events += len(good)
        bad += len(rejected)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"events": events, "bad": bad, "seconds": round(seconds, 3), "events_per_s": round(events / seconds),
            "cpu_seconds": round(cpu, 3), "events_per_cpu_s": round(events / cpu)}


def parse_ceiling(path: str) -> dict:
    """Read every line the way replay does and only parse it (``orjson.loads``, no validation, no
    ``Event``): what any JSON consumer pays, the floor under the decode ceiling."""
    import orjson

    from distillwatch.streams.recorded import read_lines

    lines = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for _, _, raw in read_lines([path]):
        orjson.loads(raw)
        lines += 1
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"lines": lines, "seconds": round(seconds, 3), "events_per_s": round(lines / seconds),
            "cpu_seconds": round(cpu, 3), "events_per_cpu_s": round(lines / cpu)}


def replay_run(path: str) -> tuple[dict, object]:
    """``distillwatch.streams.replay.replay`` exactly as ``distillwatch replay FILE --alerts /dev/null`` runs it."""
    from distillwatch.models.engine import Engine
    from distillwatch.streams.replay import replay

    engine = Engine(4, 4)
    with open(os.devnull, "wb") as sink:
        t0, c0 = time.perf_counter(), time.process_time()
        summary = replay([path], sink, engine=engine)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    alerts = sum(summary.alerts.values())
    return ({"events": summary.events, "bad": summary.bad, "late": summary.late, "alerts": alerts,
             "alerts_by_severity": summary.alerts, "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
             "events_per_s": round(summary.events / seconds), "events_per_cpu_s": round(summary.events / cpu),
             "compiled": compiled_modules()}, engine)


def compiled_modules() -> int:
    """How many models/ modules this process runs as mypyc-compiled code (0: pure Python)."""
    return sum(1 for name, mod in sys.modules.items() if name.startswith("distillwatch.models.")
               and not name.endswith("__mypyc") and (getattr(mod, "__file__", "") or "").endswith(".so"))


def pure_replay(path: str) -> dict:
    """The same replay in a child process with ``DW_PURE=1``: the interpreted models/."""
    env = {**os.environ, "DW_PURE": "1"}
    done = subprocess.run([sys.executable, "-m", "bench.core", "--replay", path], env=env, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def state_sizes(engine) -> dict:
    """Serialised state of the real accounts of the stream (what the changelog holds per account)."""
    sizes = [len(st.to_bytes()) for proc in engine.accounts for st in proc.accounts.values()]
    sizes.sort()
    return {"accounts": len(sizes), "to_bytes_mean": round(sum(sizes) / len(sizes), 1),
            "to_bytes_p50": sizes[len(sizes) // 2], "to_bytes_max": sizes[-1]}


def profile(path: str, top: int = 15) -> dict:
    """cProfile of replay on a prefix of the stream: the top functions by own time."""
    from distillwatch.models.engine import Engine
    from distillwatch.streams.replay import replay

    prof = cProfile.Profile()
    with open(os.devnull, "wb") as sink:
        prof.enable()
        summary = replay([path], sink, engine=Engine(4, 4))
        prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt
    rows = []
    for (file, line, func), (_cc, ncalls, tottime, cumtime, _callers) in sorted(
            stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]:
        where = file.split("/main/")[-1] if "/main/" in file else os.path.basename(file)
        rows.append({"function": f"{where}:{line}({func})", "ncalls": ncalls, "tottime_s": round(tottime, 3),
                     "share": round(tottime / total, 3), "cumtime_s": round(cumtime, 3)})
    cumulative = []
    for (file, line, func), (_cc, ncalls, _tottime, cumtime, _callers) in sorted(
            stats.stats.items(), key=lambda kv: kv[1][3], reverse=True):
        if "/main/" not in file or func.startswith("<"):
            continue
        where = file.split("/main/")[-1]
        cumulative.append({"function": f"{where}:{line}({func})", "ncalls": ncalls, "cumtime_s": round(cumtime, 3),
                           "share": round(cumtime / total, 3)})
        if len(cumulative) >= top:
            break
    return {"events": summary.events, "profiled_seconds": round(total, 2), "top_by_own_time": rows,
            "top_by_cumulative_time": cumulative}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile-lines", type=int, default=200_000)
    ap.add_argument("--replay", metavar="FILE", help="only replay FILE and print its figures")
    args = ap.parse_args()
    if args.replay:
        emit(replay_run(args.replay)[0])
        return
    info = ensure_stream()
    path = str(stream_path())
    log(f"core: stream {info['path']} ({info['lines']:,} lines, {info['bytes'] / 1e6:.0f} MB)")
    decode_ceiling(str(prefix_file(20_000)))  # warm imports and the page cache of the prefix
    with open(path, "rb") as f:  # the file once through the page cache, so both runs read from memory
        while f.read(1 << 24):
            pass
    parse = parse_ceiling(path)
    log(f"core: parse ceiling {parse['events_per_cpu_s']:,} events/CPU-s")
    ceiling = decode_ceiling(path)
    log(f"core: decode ceiling {ceiling['events_per_cpu_s']:,} events/CPU-s")
    rep, engine = replay_run(path)
    log(f"core: replay {rep['events_per_cpu_s']:,} events/CPU-s ({rep['compiled']} models/ modules compiled)")
    pure = pure_replay(path)
    log(f"core: replay, pure Python (DW_PURE=1) {pure['events_per_cpu_s']:,} events/CPU-s")
    sizes = state_sizes(engine)
    del engine
    prof = profile(str(prefix_file(args.profile_lines)))
    emit({
        "input": info,
        "replay": rep,
        "replay_pure": pure,
        "compiled_speedup_cpu": round(pure["cpu_seconds"] / rep["cpu_seconds"], 2),
        "decode_ceiling": ceiling,
        "parse_ceiling": parse,
        "share_of_ceiling": round(rep["events_per_s"] / ceiling["events_per_s"], 3),
        # CPU time: the machine is shared, and wall time counts the other sessions' work too
        "share_of_ceiling_cpu": round(rep["events_per_cpu_s"] / ceiling["events_per_cpu_s"], 3),
        "real_account_state": sizes,
        "peak_rss_bytes": peak_rss_bytes(),
        "profile": {"lines": args.profile_lines, **prof},
        "cpu_cores_used": 1,
    })


if __name__ == "__main__":
    main()
