"""Benchmark 5, the ClickHouse sink: rows/s and insert batch sizes into the embedded engine (chdb),
next to the engine's own ceiling (``client.insert`` of the same rows, already pivoted to columns).

Rows are the real output of the detection core: the first ``--lines`` lines of the recorded
stream replayed through the engine (account and cluster minute aggregates, members, alerts).

    python -m bench.sink [--lines 500000] [--batch-rows 50000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from collections import Counter

from bench.common import WORK, emit, ensure_stream, log, prefix_file


class RecordingWriter:
    """The real writer, remembering the size of every insert."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.batches: list[tuple[str, int, float]] = []

    def insert(self, table: str, rows: list[dict], token: str) -> None:
        t0 = time.perf_counter()
        self.inner.insert(table, rows, token)
        self.batches.append((table, len(rows), time.perf_counter() - t0))


def collect_rows(path: str) -> list[list[tuple[str, dict]]]:
    """The engine's rows and alerts, in the chunks replay hands them to its sink."""
    from distillwatch.models.engine import Engine
    from distillwatch.models.event import decode
    from distillwatch.streams.recorded import read_lines

    engine = Engine(4, 4)
    chunks = []
    for n, (_, _, raw) in enumerate(read_lines([path]), 1):
        for ev in decode(raw)[0]:
            engine.process(ev)
        if n & 4095 == 0:
            chunks.append(engine.drain_rows() + [("alert", a) for a in engine.drain_alerts()])
    engine.finish()
    chunks.append(engine.drain_rows() + [("alert", a) for a in engine.drain_alerts()])
    return chunks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=500_000)
    ap.add_argument("--batch-rows", type=int, default=50_000)
    args = ap.parse_args()

    from distillwatch.streams.clickhouse.client import connect
    from distillwatch.streams.clickhouse.schema import apply_migrations
    from distillwatch.streams.clickhouse.sink import ROW_TABLES, BufferedSink, ClickHouseWriter

    ensure_stream()
    t0 = time.perf_counter()
    chunks = collect_rows(str(prefix_file(args.lines)))
    by_kind = Counter(kind for chunk in chunks for kind, _ in chunk)
    total = sum(by_kind.values())
    log(f"sink: {total:,} rows from {args.lines:,} events in {time.perf_counter() - t0:.1f} s: {dict(by_kind)}")

    directory = WORK / "chdb-sink"
    shutil.rmtree(directory, ignore_errors=True)
    dsn = f"chdb://{directory}"
    client = connect(dsn, "bench_sink")
    apply_migrations(client, "bench_sink")
    writer = RecordingWriter(ClickHouseWriter(client))
    sink = BufferedSink(writer, batch_rows=args.batch_rows)
    t0 = time.perf_counter()
    for chunk in chunks:  # exactly replay's path: write() per drained chunk, flush at the end
        sink.write(chunk)
    sink.flush()
    seconds = time.perf_counter() - t0
    sizes = [n for _, n, _ in writer.batches]
    full = [n for table, n, _ in writer.batches if table == "account_minute"]
    per_table = {}
    for table, n, dt in writer.batches:
        t = per_table.setdefault(table, {"batches": 0, "rows": 0, "insert_seconds": 0.0})
        t["batches"] += 1
        t["rows"] += n
        t["insert_seconds"] = round(t["insert_seconds"] + dt, 3)
    log(f"sink: {total / seconds:,.0f} rows/s, {len(sizes)} inserts")

    # reference: the engine's ceiling, the same account_minute rows pivoted in advance, inserted in
    # the same batch sizes straight through the driver (no buffering, tokens or conversion)
    ref_db = "bench_ref"
    ref = connect(dsn, ref_db)
    apply_migrations(ref, ref_db)
    rows = [row for chunk in chunks for kind, row in chunk if kind == "account_minute"]
    ref_writer = ClickHouseWriter(ref)
    names = [name for name, _ in ref_writer.columns("account_minute") if name in rows[0]]
    from distillwatch.streams.clickhouse.sink import _converter

    types = dict(ref_writer.columns("account_minute"))
    batches = []
    for i in range(0, len(rows), args.batch_rows):
        part = rows[i : i + args.batch_rows]
        cols = []
        for name in names:
            conv = _converter(types[name], part[0][name])
            cols.append([conv(r[name]) for r in part] if conv else [r[name] for r in part])
        batches.append((len(part), cols))
    t0 = time.perf_counter()
    for _, cols in batches:
        ref.insert("account_minute", cols, column_names=names, column_type_names=[types[n] for n in names],
                   column_oriented=True)
    ref_seconds = time.perf_counter() - t0
    counted = ref.query("SELECT count() FROM account_minute").result_rows[0][0]
    landed = client.query("SELECT count() FROM account_minute").result_rows[0][0]
    emit({
        "input_lines": args.lines,
        "rows": total,
        "rows_by_kind": dict(by_kind),
        "tables": sorted(set(ROW_TABLES.values())),
        "batch_rows_setting": args.batch_rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(total / seconds),
        "inserts": len(sizes),
        "batch_sizes": sizes,
        "account_minute_batch_min": min(full) if full else 0,
        "account_minute_batch_median": statistics.median(full) if full else 0,
        "per_table": per_table,
        "account_minute_rows_landed": landed,
        "reference_driver_insert": {"rows": len(rows), "seconds": round(ref_seconds, 3),
                                    "rows_per_s": round(len(rows) / ref_seconds), "landed": counted},
    })


if __name__ == "__main__":
    main()
