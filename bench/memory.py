"""Benchmark 4, memory: resident bytes per tracked account, and changelog bytes per account.

Drives four :class:`~distillwatch.models.account_processor.AccountProcessor` s (a worker holding all four
requests partitions) directly with synthetic events for ``--accounts`` distinct accounts, and
reports RSS growth / accounts after a full garbage collection, plus the account-stage events/s
seen on the way (the throughput-vs-accounts curve of the plot).

    python -m bench.memory --accounts 100000 [--events-per-account 2]
    DW_PURE=1 python -m bench.memory --accounts 100000   # the interpreted models/, for comparison
"""

from __future__ import annotations

import argparse
import gc
import time

from bench.common import emit, log, peak_rss_bytes, rss_bytes
from bench.core import compiled_modules
from bench.synthetic import rounds

CHUNK = 1_000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, required=True)
    ap.add_argument("--events-per-account", type=int, default=1)
    args = ap.parse_args()

    from distillwatch.models.account_processor import AccountProcessor
    from distillwatch.models.event import validate
    from distillwatch.models.partitioning import partition_for
    from distillwatch.models.snapshot import account_record

    n_acc, per = args.accounts, args.events_per_account
    procs = [AccountProcessor(p, 4) for p in range(4)]
    part_of = [partition_for(f"acct-bench-{i:08d}", 4) for i in range(n_acc)]
    gc.collect()
    base = rss_bytes()
    busy = busy_cpu = 0.0
    events = 0
    chunk: list = []

    def run(chunk: list) -> float:
        nonlocal busy_cpu
        t0, c0 = time.perf_counter(), time.process_time()
        for proc, ev in chunk:
            proc.process(ev)
        dt = time.perf_counter() - t0
        busy_cpu += time.process_time() - c0
        for proc in procs:  # what the driver does after each batch: outputs go, dirty set is written
            proc.alerts.clear()
            proc.rows.clear()
            proc.links.clear()
            proc.dirty.clear()
        return dt

    for i, _n, _ts, d in rounds(n_acc, per):
        chunk.append((procs[part_of[i]], validate(d)))
        if len(chunk) >= CHUNK:
            busy += run(chunk)
            events += len(chunk)
            chunk = []
    busy += run(chunk)
    events += len(chunk)
    del chunk, part_of
    gc.collect()
    after = rss_bytes()
    tracked = sum(len(p.accounts) for p in procs)
    sample = [st for p in procs for st in list(p.accounts.values())[:2500]]
    state_bytes = [len(st.to_bytes()) for st in sample]
    record_bytes = [len(account_record(st, 0, -1)) for st in sample]
    open_windows = sum(len(b) for p in procs for _, b in p.open_windows())
    result = {
        "accounts": tracked,
        "events": events,
        "events_per_account": per,
        "rss_base_bytes": base,
        "rss_after_bytes": after,
        "resident_bytes_per_account": round((after - base) / tracked, 1),
        "peak_rss_bytes": peak_rss_bytes(),
        "account_stage_events_per_s": round(events / busy),
        "account_stage_events_per_cpu_s": round(events / busy_cpu),
        "changelog_state_bytes_per_account": round(sum(state_bytes) / len(state_bytes), 1),
        "changelog_record_bytes_per_account": round(sum(record_bytes) / len(record_bytes), 1),
        "open_windows": open_windows,
        "compiled_modules": compiled_modules(),  # mypyc-built models/ (0: pure Python, e.g. DW_PURE=1)
    }
    log(f"memory: {tracked:,} accounts, {result['resident_bytes_per_account']:,} B resident each, "
        f"{result['account_stage_events_per_s']:,} events/s")
    emit(result)


if __name__ == "__main__":
    main()
