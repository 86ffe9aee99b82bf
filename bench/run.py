"""``make bench``: run every benchmark of issue 6, write ``bench/results.json``, print a table and
draw ``bench/throughput_memory.png``.

Each benchmark runs in its own process (``python -m bench.<module>``), so memory figures start
clean and a failure is recorded as an error string instead of stopping the others. The streaming
benchmarks get their own Kafka broker (``BENCH_KAFKA_PORT``, default 19492), stopped at the end
whatever happens; they are skipped with a message while ``distillwatch worker``/``publish`` are
missing.

    .venv/bin/python bench/run.py [--only core,memory,sink,streaming,forgetting] [--no-plot]
    .venv/bin/python bench/run.py --only streaming --streaming worker1,worker1_batch100 --port 19400
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results.json"
PLOT = REPO / "bench" / "throughput_memory.png"
GROUPS = ("core", "memory", "sink", "streaming", "forgetting")
# issue 17's 60 days of churn (10 M distinct, 1 M a day) scaled by 1/10 to fit this machine
FORGETTING = ["--days", "60", "--distinct", "1000000", "--per-day", "100000"]
MEMORY_ACCOUNTS = (10_000, 100_000, 1_000_000)
# (result name, bench.streaming arguments, timeout s); sizes scaled down from the 1 M-event core run
STREAMING = (
    ("worker1", ["worker1", "--lines", "100000", "--batch", "1"], 300),
    ("worker1_batch100", ["worker1", "--lines", "200000", "--batch", "100"], 300),
    ("workers2", ["workers2", "--lines", "200000", "--batch", "100"], 300),
    ("latency", ["latency", "--rate", "5000", "--seconds", "30", "--batch", "100"], 300),
    # diagnostic: the same run without the ClickHouse sink in the worker (what the sink costs)
    ("latency_no_sink", ["latency", "--rate", "5000", "--seconds", "30", "--batch", "100", "--no-sink"], 300),
    ("recovery", ["recovery", "--accounts", "100000"], 400),
)
# (result name, bench.restart arguments, timeout s): issue 17's restart and failover of a worker
# holding 1 M accounts, per table store (DW_STORE)
RESTART = tuple(
    (f"{mode}_{store}", [mode, "--store", store, "--accounts", str(accounts)], timeout)
    for mode, accounts, timeout in (("restart", 1_000_000, 1800), ("failover", 1_000_000, 1800))
    for store in ("memory", "rocksdb")
)


def machine() -> dict:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {"nproc": os.cpu_count(), "cpu_model": model, "memory_gb": round(mem_kb / 1024**2, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def run_module(args: list[str], timeout: float, env: dict | None = None) -> dict:
    """``python -m <args>``; its last stdout line is the JSON result. Errors become ``{"error": ...}``."""
    cmd = [sys.executable, "-m", *args]
    full_env = dict(env or os.environ)
    full_env["PYTHONPATH"] = str(REPO)
    t0 = time.perf_counter()
    load_before = round(os.getloadavg()[0], 2)
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=full_env, stdout=subprocess.PIPE, stderr=None,
                              timeout=timeout, text=True)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s: {' '.join(args)}"}
    wall = round(time.perf_counter() - t0, 1)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = proc.stdout.strip().splitlines()[-3:]
        return {"error": f"{' '.join(args)} exited with status {proc.returncode}: {' | '.join(tail)}",
                "wall_seconds": wall}
    result = json.loads(lines[-1])
    result.setdefault("wall_seconds", wall)
    # 1-minute load average around the run: above ~2 on this 2-core machine, something else competed
    result["load_avg_1min"] = [load_before, round(os.getloadavg()[0], 2)]
    return result


def save(results: dict) -> None:
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def streaming_commands_missing() -> str | None:
    """Why the streaming benchmarks cannot run yet, or ``None``."""
    exe = REPO / ".venv" / "bin" / "distillwatch"
    for command in ("worker", "publish"):
        proc = subprocess.run([str(exe), command, "--help"], cwd=REPO, capture_output=True, text=True)
        if proc.returncode != 0:
            return f"`distillwatch {command}` is not available yet ({(proc.stderr or proc.stdout).strip()[-200:]})"
    return None


def kafka(action: str, port: int) -> None:
    env = dict(os.environ, KAFKA_PORT=str(port))
    subprocess.run(["bash", "infra/kafka/kafka.sh", action], cwd=REPO, env=env, check=True)
    if action == "down":
        stop_leftover_broker(port)


def stop_leftover_broker(port: int) -> None:
    """kafka.sh records the pid of the subshell that runs java, so ``down`` can leave the JVM running
    (seen with kafka.sh of 2026-11-28): stop the broker JVM of *this* port's run directory by pid."""
    import signal

    marker = f"kafka-{port}/server.properties"
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "kafka.Kafka" in cmd and marker in cmd:
                pids.append(int(entry))
    for pid in pids:
        print(f"bench: stopping the benchmark broker JVM (pid {pid}) that kafka.sh down left running", file=sys.stderr)
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for pid in pids:
        while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
            time.sleep(0.2)
        if os.path.exists(f"/proc/{pid}"):
            os.kill(pid, signal.SIGKILL)


def run_streaming(results: dict, port: int, names: set[str] | None = None) -> None:
    """The streaming runs (``names``: only those, the others' figures are kept) on a broker of their own."""
    missing = streaming_commands_missing()
    if missing:
        msg = f"skipped: {missing}"
        print(f"bench: streaming benchmarks {msg}", file=sys.stderr)
        results["streaming"] = {"skipped": msg}
        return
    kept = results.get("streaming", {}) if names else {}
    streaming: dict = {k: v for k, v in kept.items() if k not in ("error", "skipped")}
    results["streaming"] = streaming
    try:
        kafka("up", port)
    except Exception as exc:
        results["streaming"] = {"error": f"the local broker did not start on port {port}: {exc}"}
        return
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{port}")
    try:
        runs = [("bench.streaming", *run) for run in STREAMING] + [("bench.restart", *run) for run in RESTART]
        for module, name, args, timeout in runs:
            if names and name not in names:
                continue
            print(f"bench: streaming {name} …", file=sys.stderr, flush=True)
            streaming[name] = run_module([module, *args], timeout, env)
            save(results)
    finally:
        try:
            kafka("down", port)
        except Exception as exc:  # noqa: BLE001 - the results matter more than a failed stop
            print(f"bench: stopping the broker failed: {exc}", file=sys.stderr)


# -- report ----------------------------------------------------------------------------------------


def _get(d: dict, *path, default=None):
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def targets(results: dict) -> list[dict]:
    """Each target of issue 6 with the measured figure and whether it is met (None: not measured)."""
    core = results.get("core", {})
    mem = results.get("memory", {})
    st = results.get("streaming", {})
    sink = results.get("sink", {})
    per_acc = [_get(mem, str(n), "resident_bytes_per_account") for n in (100_000, 1_000_000)]
    per_acc = [v for v in per_acc if v is not None]
    lat = _get(st, "latency", "p99_s")
    worker = [v for v in (_get(st, "worker1", "events_per_s"), _get(st, "worker1_batch100", "events_per_s")) if v]
    mem_1m = _get(mem, "1000000", "resident_bytes_per_account")
    rows = [
        # issue 16 (throughput), each figure against a reference of the same run
        ("issue 16: detection core events per CPU-s (1 core)", ">= 75,000", _get(core, "replay", "events_per_cpu_s"),
         lambda v: v >= 75_000),
        ("issue 16: detection core share of decode ceiling (CPU)", ">= 50 %", _get(core, "share_of_ceiling_cpu"),
         lambda v: v >= 0.50),
        ("issue 16: one worker, 100 events/record, events/s", ">= 20,000", _get(st, "worker1_batch100", "events_per_s"),
         lambda v: v >= 20_000),
        ("issue 16: one worker, 1 event/record, share of bare Faust", ">= 75 %",
         _get(st, "worker1", "share_of_faust_ceiling"), lambda v: v >= 0.75),
        ("issue 16: p99 alert latency at 5,000 events/s", "<= 1 s", lat, lambda v: v <= 1.0),
        ("issue 16: resident bytes per account at 1 M", "<= 2,048", mem_1m, lambda v: v <= 2048),
        # issue 6
        ("detection core events/s (1 core)", ">= 100,000", _get(core, "replay", "events_per_s"),
         lambda v: v >= 100_000),
        ("detection core share of decode ceiling", ">= 30 %", _get(core, "share_of_ceiling"), lambda v: v >= 0.30),
        ("one streaming worker events/s (best publish batching)", ">= 25,000", max(worker) if worker else None,
         lambda v: v >= 25_000),
        ("p99 alert latency at 5,000 events/s", "<= 2 s", lat, lambda v: v <= 2.0),
        ("resident bytes per tracked account", "<= 4,096", max(per_acc) if per_acc else None, lambda v: v <= 4096),
        ("recovery of 100,000 accounts", "<= 30 s", _get(st, "recovery", "restore_seconds"), lambda v: v <= 30),
        ("restart of a worker holding 1 M accounts (RocksDB store)", "<= 30 s",
         _get(st, "restart_rocksdb", "processing_again_seconds"), lambda v: v <= 30),
        ("failover of a SIGKILLed worker's partitions (standby replicas)", "<= 60 s",
         min((v for v in (_get(st, "failover_memory", "processing_again_seconds"),
                          _get(st, "failover_rocksdb", "processing_again_seconds")) if v is not None),
             default=None), lambda v: v <= 60),
        ("sink rows/s", ">= 100,000", _get(sink, "rows_per_s"), lambda v: v >= 100_000),
        ("sink batch size (account_minute, min)", ">= 10,000", _get(sink, "account_minute_batch_min"),
         lambda v: v >= 10_000),
        ("RSS growth day 30 to 60 with forgetting", "<= 10 %",
         _get(results, "forgetting", "rss_growth_day30_to_end"), lambda v: v <= 0.10),
        ("RSS growth once held accounts settle (day 30 + span) to 60", "<= 10 %",
         _get(results, "forgetting", "rss_growth_settled_to_end"), lambda v: v <= 0.10),
    ]
    return [{"target": name, "goal": goal, "measured": v, "met": None if v is None else bool(ok(v))}
            for name, goal, v, ok in rows]


def fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and v < 10:
        return f"{v:.3g}"
    return f"{v:,.0f}" if isinstance(v, int | float) else str(v)


def table(results: dict) -> str:
    core, sink, mem = results.get("core", {}), results.get("sink", {}), results.get("memory", {})
    st = results.get("streaming", {})
    lines = [("figure", "measured", "reference (same run)", "ratio")]

    def add(name, v, ref_name=None, ref=None):
        ratio = f"{v / ref:.0%}" if isinstance(v, int | float) and isinstance(ref, int | float) and ref else ""
        lines.append((name, fmt(v), f"{ref_name} {fmt(ref)}" if ref_name else "", ratio))

    add("core: replay events/s", _get(core, "replay", "events_per_s"), "decode ceiling",
        _get(core, "decode_ceiling", "events_per_s"))
    add("core: replay events/s, pure Python (DW_PURE=1)", _get(core, "replay_pure", "events_per_s"),
        "compiled", _get(core, "replay", "events_per_s"))
    for key, label in (("worker1", "stream: 1 worker, 1 event/record"),
                       ("worker1_batch100", "stream: 1 worker, 100 events/record"),
                       ("workers2", "stream: 2 workers/4 parts, 100/record")):
        add(f"{label} events/s", _get(st, key, "events_per_s"), "transport ceiling",
            _get(st, key, "transport_ceiling", "events_per_s") or _get(st, "worker1_batch100", "transport_ceiling",
                                                                      "events_per_s"))
        if key != "workers2":  # one worker against Faust's own ceiling on the same topic (bench/faust_ceiling.py)
            add(f"{label} events/s", _get(st, key, "events_per_s"), "bare Faust agent",
                _get(st, key, "faust_ceiling", "events_per_s"))
        add(f"{label} with sink events/s", _get(st, key, "end_to_end_with_sink_events_per_s"))
    add("latency p50 s @5k/s", _get(st, "latency", "p50_s"))
    add("latency p99 s @5k/s", _get(st, "latency", "p99_s"))
    add("latency p50 s @5k/s, no sink", _get(st, "latency_no_sink", "p50_s"))
    add("latency p99 s @5k/s, no sink", _get(st, "latency_no_sink", "p99_s"))
    for n in MEMORY_ACCOUNTS:
        add(f"memory: B/account @{n:,}", _get(mem, str(n), "resident_bytes_per_account"))
        add(f"account stage events/s @{n:,}", _get(mem, str(n), "account_stage_events_per_s"))
    add("changelog B/account (to_bytes)", _get(mem, "100000", "changelog_state_bytes_per_account"))
    add("sink rows/s", _get(sink, "rows_per_s"), "driver insert", _get(sink, "reference_driver_insert", "rows_per_s"))
    add("sink min account_minute batch", _get(sink, "account_minute_batch_min"))
    add("recovery s @100k accounts", _get(st, "recovery", "restore_seconds"))
    errors = [(k, v) for k, v in _flat_errors(results)]
    widths = [max(len(r[i]) for r in lines) for i in range(4)]
    out = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines]
    out.append("")
    for t in results.get("targets", []):
        mark = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        out.append(f"  {t['target']:<62} {t['goal']:>11}  {fmt(t['measured']):>10}  {mark}")
    for k, v in errors:
        out.append(f"  {k}: {v}")
    return "\n".join(out)


def _flat_errors(d: dict, prefix: str = ""):
    for k, v in d.items():
        if isinstance(v, dict):
            for key in ("error", "skipped"):
                if isinstance(v.get(key), str):
                    yield f"{prefix}{k} {key}", v[key]
            yield from _flat_errors(v, f"{prefix}{k}.")


def plot(results: dict) -> str | None:
    """Account-stage throughput and resident bytes per account against tracked accounts."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (infra/bench.sh installs it)"
    mem = results.get("memory", {})
    pts = sorted((int(k), v) for k, v in mem.items() if isinstance(v, dict) and "accounts" in v)
    if not pts:
        return "no memory results to plot"
    xs = [n for n, _ in pts]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax1.plot(xs, [v["account_stage_events_per_s"] for _, v in pts], "o-", label="account stage, synthetic accounts")
    core = results.get("core", {})
    if _get(core, "replay", "events_per_s"):
        n_real = _get(core, "real_account_state", "accounts") or _get(core, "input", "accounts")
        ax1.plot([n_real], [core["replay"]["events_per_s"]], "s", label="full replay, simulator stream")
        ax1.plot([n_real], [core["decode_ceiling"]["events_per_s"]], "^", label="decode ceiling")
    ax1.axhline(100_000, color="grey", ls="--", lw=0.8, label="target 100k events/s")
    ax1.set(xscale="log", xlabel="tracked accounts", ylabel="events/s (one core)", title="Throughput")
    ax1.legend(fontsize=8)
    ax2.plot(xs, [v["resident_bytes_per_account"] for _, v in pts], "o-", label="resident (RSS growth / accounts)")
    ax2.plot(xs, [v["changelog_state_bytes_per_account"] for _, v in pts], "o-", label="changelog (to_bytes)")
    ax2.axhline(4096, color="grey", ls="--", lw=0.8, label="target 4 KB")
    ax2.set(xscale="log", xlabel="tracked accounts", ylabel="bytes per account", title="Memory", ylim=(0, None))
    ax2.legend(fontsize=8)
    fig.suptitle(f"distillwatch, {results['machine']['nproc']} cores, Python {results['machine']['python']}")
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description="distillwatch benchmark suite (issue 6): writes bench/results.json.")
    ap.add_argument("--only", default=",".join(GROUPS), help=f"comma-separated subset of {', '.join(GROUPS)}")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--port", type=int, default=int(os.environ.get("BENCH_KAFKA_PORT", "19492")))
    runs = [name for name, _, _ in STREAMING] + [name for name, _, _ in RESTART]
    ap.add_argument("--streaming", help=f"with streaming: only these comma-separated runs of {', '.join(runs)}")
    args = ap.parse_args()
    names = set(args.streaming.split(",")) if args.streaming else None
    if names and names - set(runs):
        ap.error(f"unknown streaming runs: {', '.join(sorted(names - set(runs)))}")
    only = set(args.only.split(","))
    t0 = time.perf_counter()
    results: dict = {}
    if RESULTS.exists() and only != set(GROUPS):
        results = json.loads(RESULTS.read_text())  # a partial run keeps the other groups' figures
    results["machine"] = machine()
    results["started_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    try:
        if "core" in only:
            print("bench: detection core …", file=sys.stderr, flush=True)
            results["core"] = run_module(["bench.core"], 400)
            save(results)
        if "memory" in only:
            results["memory"] = {}
            for n in MEMORY_ACCOUNTS:
                print(f"bench: memory at {n:,} accounts …", file=sys.stderr, flush=True)
                results["memory"][str(n)] = run_module(["bench.memory", "--accounts", str(n)], 400)
                save(results)
        if "sink" in only:
            print("bench: ClickHouse sink …", file=sys.stderr, flush=True)
            results["sink"] = run_module(["bench.sink"], 400)
            save(results)
        if "forgetting" in only:
            print("bench: forgetting, 60 days of account churn …", file=sys.stderr, flush=True)
            results["forgetting"] = run_module(["bench.forgetting", *FORGETTING], 3600)
            save(results)
        if "streaming" in only:
            run_streaming(results, args.port, names)
    finally:
        results["targets"] = targets(results)
        results["total_seconds"] = round(time.perf_counter() - t0, 1)
        if not args.no_plot:
            try:
                problem = plot(results)
            except Exception as exc:  # noqa: BLE001 - a failed plot must not lose the figures
                problem = f"{type(exc).__name__}: {exc}"
            results["plot"] = problem or str(PLOT.relative_to(REPO))
        save(results)
    print(table(results))
    print(f"\nbench: {results['total_seconds']:.0f} s; results in {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
