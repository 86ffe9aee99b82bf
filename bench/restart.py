"""Benchmark 7, restart and failover of a worker holding N accounts, per table store (issue 17).

- ``restart``: one worker fills its account state with ``--accounts`` distinct accounts (one
  synthetic event each, 100 per record), settles (every partition flushed idle, no event held),
  stops (SIGTERM) and starts again on the same host and data
  directory; measured: seconds from the new process's start until it applied one new event on every
  partition. The in-memory store rebuilds every account from the changelog; the RocksDB store
  (``DW_STORE=rocksdb``) reopens its local databases and reads the changelog's tail.
- ``failover``: two workers with ``DW_STANDBY_REPLICAS=1`` share the partitions (each keeps a
  standby copy of the other's tables); one is SIGKILLed; measured: seconds from the kill until the
  survivor applied one new event on every partition. This includes noticing the death, i.e. the
  session timeout (``--session-timeout``, the worker's ``DW_SESSION_TIMEOUT_S``).

- ``rebuild``: no Kafka, no Faust: the account stage rebuilds its four partitions
  (``AccountStage.partition``) from a table mapping holding ``--accounts`` accounts (the records a
  worker's table holds after the ``restart`` fill; built once and cached under ``.run/bench``),
  ``--repeat`` times in one process. The part of a restart this repository's code decides.

    python -m bench.restart restart --store rocksdb --accounts 1000000
    python -m bench.restart rebuild --accounts 1000000 --repeat 2

Uses the broker in ``KAFKA_BOOTSTRAP_SERVERS`` (``bench.run`` starts one). Prints progress on
stderr and the JSON result last on stdout.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import signal
import struct
import time
from pathlib import Path

import orjson

from bench.common import WORK, emit, log, rss_bytes
from bench.streaming import PARTITIONS, Scenario, events_in, metrics, wait_events, wait_ready
from bench.synthetic import T0, account_id, rounds


def _rebuild_settings():
    from distillwatch.streams.settings import Settings

    return Settings(requests_partitions=PARTITIONS, cluster_partitions=PARTITIONS)


def _inputs(accounts: int) -> tuple[Path, Path]:
    """The state-filling stream (cached) and one later probe event per partition."""
    from distillwatch.models.partitioning import partition_for

    WORK.mkdir(parents=True, exist_ok=True)
    fill = WORK / f"restart-fill-{accounts}.jsonl"
    if not fill.exists():
        tmp = fill.with_suffix(".tmp")
        with tmp.open("wb") as f:
            f.writelines(orjson.dumps(d) + b"\n" for *_, d in rounds(accounts, 1))
        tmp.rename(fill)
    probes = WORK / f"restart-probes-{accounts}.jsonl"
    by_partition: dict[int, dict] = {}
    i = accounts
    while len(by_partition) < PARTITIONS:
        d = next(rounds(1, 1))[3]
        d.update(account_id=account_id(i), event_id=f"probe-{i}", ts=T0 + 3600.0 + i - accounts)
        by_partition.setdefault(partition_for(account_id(i), PARTITIONS), d)
        i += 1
    probes.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in by_partition.values()))
    return fill, probes


def _fill(sc: Scenario, entries: list, fill: Path, accounts: int) -> float:
    """Publish the state-filling stream and wait until the workers applied all of it and settled;
    seconds (until applied)."""
    t0 = time.perf_counter()
    sc.publish(fill, batch=100)
    wait_events(entries, accounts, timeout=max(300.0, accounts / 1000), poll=1.0)
    seconds = time.perf_counter() - t0
    _settle(entries, timeout=max(300.0, accounts / 1000))
    return seconds


def _settle(entries: list, timeout: float) -> None:
    """Until every partition was flushed idle and holds no event. The stream's last events wait in
    the reorder stage until the idle flush (``DW_IDLE_FLUSH_S`` after the last record) releases
    them all at once: 1 M accounts with one event each leave ~300,000 held, whose release is a
    batch of that many state writes. A stop or kill inside it measured that batch, and a stop that
    outlasted its timeout ended in a SIGKILL, i.e. a rebuild from the changelog, not a restart."""
    ports = [e[1] for e in entries]
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        pages = [metrics(p) for p in ports]
        if all(pages) and (sum(m.get("idle_flushes", 0.0) for m in pages) >= PARTITIONS
                           and sum(m.get("held_events", 0.0) for m in pages) == 0):
            time.sleep(2.0)  # the release's state delivered
            return
        time.sleep(1.0)
    raise RuntimeError(f"the workers did not settle within {timeout:.0f} s")


# A stop that outlasts this ends in a SIGKILL, and the restart after it is a rebuild from the
# changelog (a dirty database), not what is measured: generous, since a worker that filled its
# state live (no rebuild froze it out of the cyclic GC) took 100 s to stop at 1 M accounts.
_STOP_TIMEOUT = 300.0


def restart(accounts: int, store: str) -> dict:
    fill, probes = _inputs(accounts)
    sc = Scenario(f"restart-{store}")
    sc.env["DW_STORE"] = store
    try:
        entry = sc.start_worker(0, sink=False)
        wait_ready(entry)
        fill_s = _fill(sc, [entry], fill, accounts)
        stop_s = sc.stop_worker(entry, timeout=_STOP_TIMEOUT)
        sc.publish(probes)
        started = time.perf_counter()
        entry = sc.start_worker(0, sink=False)  # same web port: the same data directory
        _, done, _ = wait_events([entry], PARTITIONS, timeout=1200.0, poll=0.05)
        time.sleep(2.0)  # the probes' batch delivered
        stop_again_s = sc.stop_worker(entry, timeout=_STOP_TIMEOUT)
    finally:
        sc.stop_all()
    seconds = done - started
    log(f"{sc.name}: {accounts:,} accounts, back to processing {seconds:.1f} s after the restart "
        f"(stopped in {stop_s:.1f} s before it, in {stop_again_s:.1f} s after it)")
    if max(stop_s, stop_again_s) >= _STOP_TIMEOUT:
        log(f"{sc.name}: a stop outlasted {_STOP_TIMEOUT:.0f} s and was SIGKILLed")
    return {"mode": "restart", "store": store, "accounts": accounts, "fill_seconds": round(fill_s, 1),
            "stop_seconds": round(stop_s, 2), "stop_after_restart_seconds": round(stop_again_s, 2),
            "processing_again_seconds": round(seconds, 2)}


def failover(accounts: int, store: str, session_timeout: float) -> dict:
    fill, probes = _inputs(accounts)
    sc = Scenario(f"failover-{store}")
    sc.env.update(DW_STORE=store, DW_STANDBY_REPLICAS="1", DW_SESSION_TIMEOUT_S=str(session_timeout))
    try:
        victim, survivor = sc.start_worker(0, sink=False), sc.start_worker(1, sink=False)
        wait_ready(victim)
        wait_ready(survivor)
        fill_s = _fill(sc, [victim, survivor], fill, accounts)
        time.sleep(10.0)  # the standbys read the changelog's last records
        before = None
        while before is None:  # a busy worker's page may not answer within its 1 s timeout
            before = events_in([survivor[1]])
        killed = time.perf_counter()
        victim[0].send_signal(signal.SIGKILL)
        victim[0].wait()
        sc.workers.remove(victim)
        sc.publish(probes)
        _, done, _ = wait_events([survivor], int(before) + PARTITIONS, timeout=1200.0, poll=0.05)
    finally:
        sc.stop_all()
    seconds = done - killed
    log(f"{sc.name}: {accounts:,} accounts, the survivor processes every partition {seconds:.1f} s after the kill")
    return {"mode": "failover", "store": store, "accounts": accounts, "standby_replicas": 1,
            "session_timeout_seconds": session_timeout, "fill_seconds": round(fill_s, 1),
            "processing_again_seconds": round(seconds, 2)}


_KV = struct.Struct("<II")


def _table(accounts: int) -> dict[bytes, bytes]:
    """The account table of a worker holding four partitions after the ``restart`` fill (one
    synthetic event per account, every minute closed as by the idle flush), written by the stage's
    own state writer; cached as length-prefixed key/value pairs, per account record version."""
    from distillwatch.models.account_state import AccountState

    path = WORK / f"rebuild-table-{accounts}-v{AccountState().to_bytes()[0]}.bin"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            for key, value in _fill_table(accounts).items():
                f.write(_KV.pack(len(key), len(value)) + key + value)
        tmp.rename(path)
    raw = path.read_bytes()
    data, pos = {}, 0
    while pos < len(raw):
        nk, nv = _KV.unpack_from(raw, pos)
        pos += _KV.size
        data[raw[pos : pos + nk]] = raw[pos + nk : pos + nk + nv]
        pos += nk + nv
    return data


def _fill_table(accounts: int) -> dict[bytes, bytes]:
    from distillwatch.models.account_processor import AccountProcessor
    from distillwatch.models.event import validate
    from distillwatch.models.partitioning import partition_for
    from distillwatch.streams.metrics import Metrics
    from distillwatch.streams.stages.accounts import AccountStage, Partition
    from distillwatch.streams.stages.outbox import Outbox

    stage = AccountStage(_rebuild_settings(), {}, "changelog", Metrics(), lambda: 0.0)
    procs = [AccountProcessor(p, stage.settings.cluster_partitions, stage.config, [p]) for p in range(PARTITIONS)]
    for i, _n, _ts, d in rounds(accounts, 1):
        procs[partition_for(account_id(i), PARTITIONS)].process(validate(d))
    for p, proc in enumerate(procs):
        proc.mark(p, math.inf)  # end of input: every minute closed, as after the bench's idle flush
        stage.parts[p] = Partition(proc, {}, 0.0)
        for _ in range(2):  # a second, empty batch: the first one's journal (every account) is dropped
            stage.touched.add(p)
            stage.finish(Outbox())
        del stage.parts[p]
        procs[p] = None  # type: ignore[call-overload]
        gc.collect()
    return stage.data  # type: ignore[return-value]


def rebuild(accounts: int, repeat: int) -> dict:
    from distillwatch.streams.metrics import Metrics
    from distillwatch.streams.stages.accounts import AccountStage

    data = _table(accounts)
    gc.collect()
    base = rss_bytes()
    log(f"rebuild: {len(data):,} records, load {os.getloadavg()[0]:.1f}")
    seconds: list[float] = []
    collects: list[float] = []
    resident: list[float] = []  # RSS growth per account rebuilt (the table's records were loaded before)
    for _ in range(repeat):
        stage = AccountStage(_rebuild_settings(), data, "changelog", Metrics(), lambda: 0.0)
        t0, c0 = time.perf_counter(), time.process_time()
        held = sum(len(stage.partition(p).proc.accounts) for p in range(PARTITIONS))
        seconds.append(round(time.perf_counter() - t0, 2))
        cpu = time.process_time() - c0
        t0 = time.perf_counter()
        gc.collect()  # what Faust runs at a revocation, and on every pass while a stopping worker waits
        collects.append(round(time.perf_counter() - t0, 3))
        resident.append(round((rss_bytes() - base) / held, 1))
        log(f"rebuild: {held:,} accounts in {seconds[-1]:.1f} s ({cpu:.1f} s CPU), then a full collection "
            f"{collects[-1]:.2f} s, {resident[-1]:,.0f} B resident per account, load {os.getloadavg()[0]:.1f}")
        del stage
        gc.collect()
    return {"mode": "rebuild", "accounts": accounts, "seconds": seconds, "full_collection_seconds": collects,
            "resident_bytes_per_account": resident}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["restart", "failover", "rebuild"])
    ap.add_argument("--store", choices=["memory", "rocksdb"], default="rocksdb")
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--session-timeout", type=float, default=10.0, help="failover: DW_SESSION_TIMEOUT_S")
    ap.add_argument("--repeat", type=int, default=2, help="rebuild: rebuilds in one process")
    args = ap.parse_args()
    if args.mode == "rebuild":
        emit(rebuild(args.accounts, args.repeat))
    elif args.mode == "restart":
        emit(restart(args.accounts, args.store))
    else:
        emit(failover(args.accounts, args.store, args.session_timeout))


if __name__ == "__main__":
    main()
