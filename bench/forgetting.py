"""Benchmark 5, forgetting: one worker's resident memory per simulated day over months of churn.

Issue 17's workload, scaled by ``--distinct``/``--per-day``: over ``--days`` days, ``--distinct``
accounts appear, ``distinct / days`` new ones a day, each active (one request a day) on the
``per_day * days / distinct`` consecutive days after its first, so ``--per-day`` are active on a
settled day. Four :class:`~distillwatch.models.account_processor.AccountProcessor` s (a worker holding four
partitions) are driven directly, as in :mod:`bench.memory`, with the worker's table: after each
batch the changed accounts' records go to a RocksDB database (rocksdict, as ``DW_STORE=rocksdb``)
and the processors set silent accounts aside there
(:class:`~distillwatch.streams.stages.accounts.TableColdStore`). Accounts silent for
``AccountConfig.forget_s`` (30 days) leave the state, so what a worker holds settles once the
first accounts' last day is ``forget_s`` old (day 30 + the active span) and stays flat after; the
accounts in memory settle after ``cold_after_s`` (a day) + the span.

    python -m bench.forgetting --days 60 --distinct 1000000 --per-day 100000

Prints one line per day (RSS after a full collection, accounts held, forgotten so far), then the
JSON result: issue 17's target is <= 10 % RSS growth from day 30 to day 60. An account is held
until ``forget_s`` after its *last* active day, so the held count only settles at day 30 + the
active span: ``rss_growth_settled_to_end`` is the growth from there.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import shutil
import tempfile
import time

from bench.common import emit, heap_bytes, log, rss_bytes
from bench.synthetic import T0, event_dict

DAY = 86_400.0
PARTITIONS = 4
DRAIN_EVERY = 1_000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--distinct", type=int, default=1_000_000)
    ap.add_argument("--per-day", type=int, default=100_000)
    args = ap.parse_args()

    from faust.stores.rocksdb import RocksDBOptions
    from rocksdict import Rdict

    from distillwatch.models.account_processor import AccountProcessor
    from distillwatch.models.event import validate
    from distillwatch.streams.settings import Settings
    from distillwatch.streams.stages.accounts import TableColdStore

    days, distinct = args.days, args.distinct
    new_per_day = distinct // days
    span = max(1, round(args.per_day / new_per_day))  # consecutive active days per account
    workdir = tempfile.mkdtemp(prefix="dw-forgetting-")
    s = Settings()  # the worker's bounded RocksDB options (streams/state.py)
    table = Rdict(workdir, RocksDBOptions(block_cache_size=s.rocksdb_cache_mb << 20, max_write_buffer_number=2,
                                          write_buffer_size=s.rocksdb_write_buffer_mb << 20,
                                          use_rocksdict=True).as_options())
    procs = [AccountProcessor(p, 4, cold=TableColdStore(table)) for p in range(PARTITIONS)]
    rng = random.Random(17)
    gc.collect()
    base = rss_bytes()
    daily: list[dict] = []
    busy = 0.0
    events = 0
    t_start = time.perf_counter()
    for d in range(days):
        first, last = max(0, d - span + 1) * new_per_day, (d + 1) * new_per_day  # accounts active today
        step = DAY / (last - first)
        # accounts interleave through the day (a stride coprime with the count), times increase
        n_today = last - first
        stride = _coprime_stride(n_today)
        chunk = []
        for k in range(n_today):
            i = first + (k * stride) % n_today
            ts = T0 + d * DAY + k * step
            chunk.append((procs[i % PARTITIONS], validate(event_dict(i, d - i // new_per_day, ts, rng))))
            if len(chunk) >= DRAIN_EVERY:
                busy += _run(chunk, procs, table)
                events += len(chunk)
                chunk = []
        busy += _run(chunk, procs, table)
        events += len(chunk)
        gc.collect()
        heap = heap_bytes()
        row = {"day": d + 1, "rss_bytes": rss_bytes(), "live_bytes": heap.get("live"), "free_bytes": heap.get("free"),
               "accounts_held": sum(len(p.accounts) + len(p.cold_until) for p in procs),
               "accounts_in_memory": sum(len(p.accounts) for p in procs),
               "forgotten": sum(p.counters["forgotten"] for p in procs),
               "open_window_entries": sum(len(b) for p in procs for b in p._open.values()),
               "stale_list_entries": sum(len(p._stale) for p in procs),
               "python_objects": len(gc.get_objects())}
        daily.append(row)
        log(f"day {d + 1:3d}: rss {row['rss_bytes'] / 2**20:8.1f} MiB, live {(row['live_bytes'] or 0) / 2**20:8.1f} "
            f"MiB, free {(row['free_bytes'] or 0) / 2**20:6.1f} MiB, held {row['accounts_held']:9,d} "
            f"({row['accounts_in_memory']:9,d} in memory), "
            f"forgotten {row['forgotten']:9,d}, objects {row['python_objects']:9,d}, load {os.getloadavg()[0]:.1f}")

    def growth(a: int, b: int, what: str = "rss_bytes") -> float | None:
        if b > days or a > days or not daily[a - 1][what]:
            return None
        return round(daily[b - 1][what] / daily[a - 1][what] - 1.0, 4)

    settled = 30 + span
    emit({
        "days": days, "distinct_accounts": distinct, "active_per_day": args.per_day, "active_span_days": span,
        "events": events, "account_stage_events_per_s": round(events / busy) if busy else None,
        "wall_seconds": round(time.perf_counter() - t_start, 1), "rss_base_bytes": base,
        "rss_growth_day30_to_end": growth(30, days), "settled_day": settled,
        "rss_growth_settled_to_end": growth(settled, days),
        "live_growth_day30_to_end": growth(30, days, "live_bytes"),
        "held_growth_day30_to_end": growth(30, days, "accounts_held"),
        "in_memory_growth_day30_to_end": growth(30, days, "accounts_in_memory"),
        "accounts_held_day30": daily[29]["accounts_held"] if days >= 30 else None,
        "accounts_held_end": daily[-1]["accounts_held"], "forgotten": daily[-1]["forgotten"],
        "daily": daily,
    })
    table.close()
    shutil.rmtree(workdir, ignore_errors=True)


def _run(chunk: list, procs: list, table) -> float:
    """Process a chunk; then what the stage does after each batch: outputs go, the changed accounts'
    records are written to the table (a tombstone for a forgotten one). Only the processing is timed."""
    from distillwatch.models.snapshot import account_record

    t0 = time.perf_counter()
    for proc, ev in chunk:
        proc.process(ev)
    dt = time.perf_counter() - t0
    for proc in procs:
        proc.alerts.clear()
        proc.rows.clear()
        proc.links.clear()
        for acc in proc.dirty:
            st = proc.accounts.get(acc)
            key = b"a/" + acc.encode()
            if st is None:
                del table[key]
            else:
                table[key] = account_record(st, proc.partition, -1)
        proc.dirty.clear()
    return dt


def _coprime_stride(n: int) -> int:
    """A stride near 0.618 n with gcd 1 with n: visits every account of the day once, well mixed."""
    s = max(1, int(n * 0.618))
    while math.gcd(s, n) != 1:
        s += 1
    return s


if __name__ == "__main__":
    main()
