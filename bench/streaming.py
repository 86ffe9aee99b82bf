"""Benchmarks 2, 3 and 6 on the real local broker: the streaming pipeline run as subprocesses
(``distillwatch publish``, ``distillwatch worker``), each scenario on its own topics and app id.

    python -m bench.streaming worker1|workers2|latency|recovery

``KAFKA_BOOTSTRAP_SERVERS`` names the broker (bench/run.py starts one on its own port). Progress is
read from each worker's ``/metrics`` page (``events_in``) and from the topics themselves.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import orjson

from bench.common import REPO, WORK, emit, ensure_stream, log, prefix_file

EXE = str(REPO / ".venv" / "bin" / "distillwatch")
PARTITIONS = 4
WEB_BASE = 16_160


class Scenario:
    """Topic names, app id and data directory of one run, and the workers it started."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.prefix = f"bench-{name}-{int(time.time())}"
        self.bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19492")
        self.dir = WORK / self.prefix
        self.dir.mkdir(parents=True, exist_ok=True)
        self.workers: list[tuple[subprocess.Popen, int, Path]] = []
        self.env = dict(
            os.environ,
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap,
            DW_REQUESTS_TOPIC=f"{self.prefix}.requests",
            DW_ALERTS_TOPIC=f"{self.prefix}.alerts",
            DW_DEAD_LETTER_TOPIC=f"{self.prefix}.dead-letter",
            DW_LINKS_TOPIC=f"{self.prefix}.links",
            DW_CAMPAIGNS_TOPIC=f"{self.prefix}.campaigns",
            DW_ROWS_TOPIC=f"{self.prefix}.rows",
            DW_APP_ID=self.prefix,
            DW_DATA_DIR=str(self.dir),
            DW_REQUESTS_PARTITIONS=str(PARTITIONS),
            DW_CLUSTER_PARTITIONS=str(PARTITIONS),
            DW_METRICS_LOG_S="5",
        )

    @property
    def requests(self) -> str:
        return self.env["DW_REQUESTS_TOPIC"]

    def publish(self, path: Path, rate: float | None = None, batch: int = 1) -> dict:
        cmd = [EXE, "publish", str(path), "--batch", str(batch)]
        if rate:
            cmd += ["--rate", str(rate)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=self.env, cwd=REPO, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"publish failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
        return {"summary": proc.stderr.strip().splitlines()[-1], "wall_seconds": round(seconds, 2)}

    def start_worker(self, index: int, sink: bool) -> tuple[subprocess.Popen, int, Path]:
        port = WEB_BASE + index
        logf = self.dir / f"worker{index}.log"
        env = dict(self.env, DW_WEB_PORT=str(port), DW_SINK="1" if sink else "0")
        with logf.open("ab") as out:
            proc = subprocess.Popen([EXE, "worker", "--loglevel", "info"], env=env, cwd=REPO,
                                    stdout=out, stderr=subprocess.STDOUT)
        entry = (proc, port, logf)
        self.workers.append(entry)
        return entry

    def stop_worker(self, entry, timeout: float = 30.0) -> float:
        """SIGTERM (graceful: batches finish, offsets commit), SIGKILL after ``timeout``; seconds taken."""
        proc = entry[0]
        t0 = time.perf_counter()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if entry in self.workers:
            self.workers.remove(entry)
        return time.perf_counter() - t0

    def stop_all(self) -> None:
        for entry in list(self.workers):
            self.stop_worker(entry, 15.0)


def metrics(port: int) -> dict[str, float] | None:
    """The worker's counters from ``/metrics`` (``None`` while the page does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1.0) as r:
            text = r.read().decode()
    except OSError:
        return None
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name.removeprefix("distillwatch_").removesuffix("_total")] = float(value)
    return out


def events_in(ports: list[int]) -> float | None:
    values = [metrics(p) for p in ports]
    if any(v is None for v in values):
        return None
    return sum(v.get("events_in", 0.0) for v in values)


def wait_ready(entry, timeout: float = 90.0) -> float:
    """Seconds until the worker logs Faust's ``Ready`` (recovery finished, partitions assigned)."""
    proc, _port, logf = entry
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited with status {proc.returncode}: {_tail(logf)}")
        if b"Ready" in logf.read_bytes():
            return time.perf_counter() - t0
        time.sleep(0.1)
    raise RuntimeError(f"worker not ready after {timeout:.0f} s: {_tail(logf)}")


def _tail(path: Path, n: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-n:])
    except OSError:
        return ""


def wait_events(entries, target: int, timeout: float, poll: float = 0.1,
                sparse: bool = False) -> tuple[float, float, list]:
    """Poll ``events_in`` until the workers together applied ``target`` events.

    ``sparse``: once events flow, wait about half the time the rate so far says the rest takes
    (at most 2 s) between polls, every ``poll`` again near the end. Each ``/metrics`` page costs
    the worker ~5 ms of CPU (cProfile of a worker at 1 event per record: 251 renders, 4 % of its
    time, against a bare Faust agent that nobody polls), so a throughput run polls ~15 times
    instead of ~90; the last event's time keeps the ``poll`` resolution.

    Returns ``(time of the first applied event, time of the last)`` (perf_counter) and the
    timeline ``[(t, events)]``."""
    ports = [e[1] for e in entries]
    t0 = time.perf_counter()
    first = None
    timeline = []
    wait = poll
    while time.perf_counter() - t0 < timeout:
        for proc, _, logf in entries:
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited with status {proc.returncode}: {_tail(logf)}")
        n = events_in(ports)
        now = time.perf_counter()
        if n is not None:
            timeline.append((round(now - t0, 2), int(n)))
            if n > 0 and first is None:
                first = now
            if n >= target:
                return first, now, timeline
            if sparse and first is not None and n > 0 and now > first:
                wait = min(2.0, max(poll, 0.5 * (target - n) / (n / (now - first))))
        time.sleep(wait)
    raise RuntimeError(f"only {timeline[-1][1] if timeline else 0} of {target} events applied in {timeout:.0f} s")


def group_caught_up(bootstrap: str, group: str, topic: str) -> bool:
    """Whether ``group`` has committed the end offset of every partition of ``topic``."""
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in parts]
        ends = consumer.end_offsets(tps)
        committed = admin.list_group_offsets(group).get(group, {})
        return all(committed.get(tp) is not None and committed[tp].offset >= ends[tp] for tp in tps)
    finally:
        consumer.close()
        admin.close()


async def _read_topic(bootstrap: str, topic: str, decode_events: bool, idle_s: float = 3.0):
    """Every record of ``topic`` from the beginning (a plain aiokafka consumer, no group):
    ``(records, events, seconds from first fetch to the last record)``."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from distillwatch.models.event import decode

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=8 * 1024 * 1024,
                                fetch_max_bytes=64 * 1024 * 1024)
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        if not parts:
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list = []
        events = 0
        t0 = time.perf_counter()
        last = t0
        done = {tp: ends[tp] == 0 for tp in tps}
        while not all(done.values()):
            batch = await consumer.getmany(timeout_ms=500, max_records=20_000)
            if not batch and time.perf_counter() - last > idle_s:
                break
            for tp, msgs in batch.items():
                for m in msgs:
                    if decode_events:
                        events += len(decode(m.value)[0])
                    else:
                        records.append((m.partition, m.offset, m.timestamp, m.value))
                if msgs and msgs[-1].offset + 1 >= ends[tp]:
                    done[tp] = True
                last = time.perf_counter()
        return records, events, last - t0
    finally:
        await consumer.stop()


def transport_ceiling(bootstrap: str, topic: str) -> dict:
    """A plain aiokafka consumer that only fetches and decodes the topic: the transport ceiling."""
    _, events, seconds = asyncio.run(_read_topic(bootstrap, topic, True))
    return {"events": events, "seconds": round(seconds, 3), "events_per_s": round(events / seconds)}


def faust_ceiling(sc: Scenario, events: int) -> dict:
    """A bare Faust agent (``take_events`` + ``orjson``, :mod:`bench.faust_ceiling`) on the same topic
    (an app id of its own each time: it reads the topic from the start)."""
    proc = subprocess.run([sys.executable, "-m", "bench.faust_ceiling", sc.requests, str(events)], env=sc.env,
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"faust ceiling failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    # Faust's worker logs what the agent prints (stderr), after a prefix
    line = next(line for line in reversed((proc.stdout + proc.stderr).splitlines()) if '{"events"' in line)
    return orjson.loads(line[line.index('{"events"'):])


# -- scenarios -------------------------------------------------------------------------------------


def throughput(workers: int, lines: int, batch: int) -> dict:
    """Pre-load the requests topic, start the workers, time the first to the last applied event;
    end to end also waits for the ClickHouse sink to have committed the aggregates topic."""
    ensure_stream()
    path = prefix_file(lines)
    sc = Scenario(f"w{workers}")
    try:
        pub = sc.publish(path, batch=batch)
        log(f"{sc.name}: published {pub['summary']}")
        ceiling = transport_ceiling(sc.bootstrap, sc.requests) if workers == 1 else None
        bare = faust_ceiling(sc, lines) if workers == 1 else None
        if ceiling:
            log(f"{sc.name}: transport ceiling {ceiling['events_per_s']:,} events/s, "
                f"bare Faust agent {bare['events_per_s']:,} events/s")
        started = time.perf_counter()
        entries = [sc.start_worker(i, sink=(i == 0)) for i in range(workers)]
        ready = started + min(wait_ready(e) for e in entries[:1])
        first, last, timeline = wait_events(entries, lines, timeout=240, sparse=True)
        # from Faust's Ready on: a big batch can keep /metrics from answering until it is done
        first = min(first, ready) if first else ready
        applied = last - first
        sink_done = None
        t_wait = time.perf_counter()
        while time.perf_counter() - t_wait < 60:
            if group_caught_up(sc.bootstrap, sc.prefix, sc.env["DW_ROWS_TOPIC"]):
                sink_done = time.perf_counter()
                break
            time.sleep(0.25)
        m = [metrics(e[1]) or {} for e in entries]
        if bare:
            # the bare agent again once the worker is gone: its mean brackets the worker's run in
            # time, so a load that rises or falls on the shared machine moves both sides alike
            sc.stop_all()
            after = faust_ceiling(sc, lines)
            log(f"{sc.name}: bare Faust agent again {after['events_per_s']:,} events/s")
            bare = {"events_per_s": round((bare["events_per_s"] + after["events_per_s"]) / 2),
                    "before": bare, "after": after}
        result = {
            "input_lines": lines, "publish_batch": batch, "workers": workers, "partitions": PARTITIONS,
            "publish": pub,
            "startup_seconds": round(first - started, 2),
            "apply_seconds": round(applied, 2),
            "events_per_s": round(lines / applied),
            "end_to_end_with_sink_seconds": round(sink_done - first, 2) if sink_done else None,
            "end_to_end_with_sink_events_per_s": round(lines / (sink_done - first)) if sink_done else None,
            # the labelled counter's samples (``alerts_total{severity=…}``), not its ``_created`` timestamps
            "alerts": sum(v for mm in m for k, v in mm.items() if k.startswith("alerts_total")),
            "sink_rows": sum(mm.get("sink_rows", 0) for mm in m),
            "per_worker_events": [mm.get("events_in", 0) for mm in m],
            "timeline": timeline[:: max(1, len(timeline) // 40)],
        }
        if ceiling:
            result["transport_ceiling"] = ceiling
            result["share_of_transport_ceiling"] = round(result["events_per_s"] / ceiling["events_per_s"], 3)
            result["faust_ceiling"] = bare
            result["share_of_faust_ceiling"] = round(result["events_per_s"] / bare["events_per_s"], 3)
        log(f"{sc.name}: {result['events_per_s']:,} events/s applied")
        return result
    finally:
        sc.stop_all()


def latency(rate: float, seconds: float, batch: int, sink: bool = True) -> dict:
    """Publish at a steady ``rate`` into a running worker; for every account alert, the delay from
    the request record that made the engine raise it (found by running the engine offline over the
    same lines: same partitioning, same order) to the alert record on the alerts topic."""
    from distillwatch.models.engine import Engine
    from distillwatch.models.event import decode

    ensure_stream()
    lines = int(rate * seconds)
    path = prefix_file(lines)
    # offline: which request event makes the engine raise each alert (same partitioning, same order)
    engine = Engine(PARTITIONS, PARTITIONS)
    trigger: dict[str, tuple[str, str]] = {}
    with path.open("rb") as f:
        for raw in f:
            for ev in decode(raw.rstrip(b"\n"))[0]:
                engine.process(ev)
                if engine._alerts:
                    for alert in engine.drain_alerts():
                        trigger[alert["alert_id"]] = (ev.event_id, alert["kind"])
    wanted = {event_id for event_id, _ in trigger.values()}
    sc = Scenario("lat" if sink else "lat-nosink")
    try:
        entry = sc.start_worker(0, sink=sink)
        ready = wait_ready(entry)
        time.sleep(2.0)
        pub = sc.publish(path, rate=rate, batch=batch)
        log(f"{sc.name}: published {pub['summary']}")
        wait_events([entry], lines, timeout=60)
        time.sleep(3.0)
        alerts, _, _ = asyncio.run(_read_topic(sc.bootstrap, sc.env["DW_ALERTS_TOPIC"], False))
        requests, _, _ = asyncio.run(_read_topic(sc.bootstrap, sc.requests, False))
    finally:
        sc.stop_all()
    sent: dict[str, int] = {}  # event_id -> CreateTime (ms) of the record that carried it
    for _p, _o, ts, value in requests:
        obj = orjson.loads(value)
        for item in obj if isinstance(obj, list) else (obj,):
            if item.get("event_id") in wanted:
                sent[item["event_id"]] = ts
    delays: dict[str, list[float]] = defaultdict(list)  # by alert kind: account, cluster, campaign
    timeline = []  # (seconds since the first request record, delay s)
    t_first = min(ts for _p, _o, ts, _v in requests) if requests else 0
    unmatched = 0
    for _p, _o, ts, value in alerts:
        alert = orjson.loads(value)
        where = trigger.get(alert["alert_id"])
        if where is None or where[0] not in sent:
            unmatched += 1
            continue
        delays[where[1]].append((ts - sent[where[0]]) / 1000.0)
        timeline.append((round((sent[where[0]] - t_first) / 1000.0, 2), round((ts - sent[where[0]]) / 1000.0, 3)))
    timeline.sort()
    every = sorted(d for kind in delays.values() for d in kind)

    def pct(xs: list[float], q: float) -> float | None:
        return round(xs[min(len(xs) - 1, int(q * len(xs)))], 3) if xs else None

    result = {
        "rate_events_per_s": rate, "input_lines": lines, "publish_batch": batch, "publish": pub,
        "worker_ready_seconds": round(ready, 2),
        "alerts_on_topic": len(alerts), "alerts_matched": len(every), "alerts_unmatched": unmatched,
        "offline_alerts": len(trigger),
        "p50_s": pct(every, 0.50), "p90_s": pct(every, 0.90), "p99_s": pct(every, 0.99),
        "max_s": every[-1] if every else None,
        "mean_s": round(statistics.fmean(every), 3) if every else None,
        "sink": sink,
        "worst": sorted(timeline, key=lambda x: -x[1])[:15],
        "timeline": timeline[:: max(1, len(timeline) // 60)],
        "by_kind": {k: {"n": len(v), "p50_s": pct(sorted(v), 0.5), "p99_s": pct(sorted(v), 0.99)}
                    for k, v in delays.items()},
    }
    log(f"{sc.name}: p50 {result['p50_s']} s, p99 {result['p99_s']} s over {len(every)} alerts")
    return result


def recovery(accounts: int) -> dict:
    """Fill a worker's account state with ``accounts`` accounts, stop it, restart it, and time the
    restart until one new event per partition has been applied (state restored from the changelog)."""
    from bench.synthetic import T0, account_id, rounds
    from distillwatch.models.partitioning import partition_for

    path = WORK / f"synthetic-{accounts}.jsonl"
    if not path.exists():
        with path.open("wb") as f:
            for _i, _n, _ts, d in rounds(accounts, 1):
                f.write(orjson.dumps(d) + b"\n")
    probes = WORK / f"probes-{accounts}.jsonl"
    with probes.open("wb") as f:
        seen: set[int] = set()
        for i in range(accounts, accounts + 1000):
            p = partition_for(account_id(i), PARTITIONS)
            if p not in seen:
                seen.add(p)
                d = next(rounds(1, 1))[3]
                d.update(account_id=account_id(i), event_id=f"probe-{i}", ts=T0 + 3600.0 + len(seen))
                f.write(orjson.dumps(d) + b"\n")
    sc = Scenario("rec")
    try:
        entry = sc.start_worker(0, sink=False)
        empty_ready = wait_ready(entry)
        sc.publish(path, batch=100)
        wait_events([entry], accounts, timeout=180)
        time.sleep(3.0)
        stop_s = sc.stop_worker(entry)
        changelog = f"{sc.prefix}-account-state-changelog"
        records, size = _topic_size(sc.bootstrap, changelog)
        sc.publish(probes)
        started = time.perf_counter()
        entry = sc.start_worker(1, sink=False)
        ready = wait_ready(entry, timeout=120)
        _, done, _ = wait_events([entry], PARTITIONS, timeout=120, poll=0.05)
        restore = done - started
    finally:
        sc.stop_all()
    result = {"accounts": accounts, "changelog_topic_records": records, "changelog_topic_bytes": size,
              "first_start_ready_seconds_empty_state": round(empty_ready, 2), "stop_seconds": round(stop_s, 2),
              "restart_ready_seconds": round(ready, 2), "restore_seconds": round(restore, 2)}
    log(f"{sc.name}: restored {accounts:,} accounts in {restore:.1f} s ({records:,} changelog records)")
    return result


def _topic_size(bootstrap: str, topic: str) -> tuple[int, int]:
    records, _, _ = asyncio.run(_read_topic(bootstrap, topic, False))
    return len(records), sum(len(v) for *_, v in records)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=["worker1", "workers2", "latency", "recovery"])
    ap.add_argument("--lines", type=int, default=300_000)
    ap.add_argument("--batch", type=int, default=1, help="events per published record (publish --batch)")
    ap.add_argument("--rate", type=float, default=5000.0)
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--no-sink", action="store_true", help="latency: run the worker without the ClickHouse sink")
    args = ap.parse_args()
    if args.scenario == "worker1":
        emit(throughput(1, args.lines, args.batch))
    elif args.scenario == "workers2":
        emit(throughput(2, args.lines, args.batch))
    elif args.scenario == "latency":
        emit(latency(args.rate, args.seconds, args.batch, sink=not args.no_sink))
    else:
        emit(recovery(args.accounts))


if __name__ == "__main__":
    sys.exit(main())
