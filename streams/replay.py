"""Offline replay (cli.md): recorded events through the detection core, in event time, no Kafka.

The engine is the same code the Faust agents run, sharded into the same number of partitions as
the requests and cluster topics, so replay and the streaming pipeline raise the same alerts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import msgspec
import orjson

from distillwatch.models.config import DetectorConfig
from distillwatch.models.engine import Engine
from distillwatch.models.event import decode
from distillwatch.models.suppressions import SuppressionTable
from distillwatch.streams.gc_policy import rare_young_collections
from distillwatch.streams.recorded import read_lines
from distillwatch.streams.settings import detector_config, load


@dataclass
class ReplaySummary:
    events: int = 0
    bad: int = 0
    late: int = 0
    rejected_when_applied: int = 0  # duplicates found in release order (counted in ``bad`` too)
    alerts: dict[str, int] = field(default_factory=lambda: {"critical": 0, "error": 0, "warning": 0, "info": 0})
    seconds: float = 0.0

    def line(self) -> str:
        rate = self.events / self.seconds if self.seconds > 0 else 0.0
        sev = ", ".join(f"{k} {v}" for k, v in self.alerts.items())
        return (f"replay: {self.events} events read, {self.bad} bad records, {self.late} late; "
                f"alerts: {sev}; {rate:,.0f} events/s")


def dead_letter_line(source: str, raw: bytes, reason: str) -> bytes:
    """One dead-letter record: the reason, where it came from, and the record (as text)."""
    return orjson.dumps({"reason": reason, "source": source,
                         "record": raw.decode("utf-8", "replace")}) + b"\n"


@rare_young_collections()  # the cyclic GC found nothing to collect in the per-event loop, at 7 % of its time
def replay(
    paths: list[str],
    alerts_out: BinaryIO,
    dead_letter: BinaryIO | None = None,
    rows_sink: Callable[[list[tuple[str, dict]]], None] | None = None,
    partitions: int = 4,
    cluster_partitions: int = 4,
    engine: Engine | None = None,
    config: DetectorConfig | None = None,
    progress: Callable[[int], None] | None = None,
    suppressions: SuppressionTable | None = None,
) -> ReplaySummary:
    """Run ``paths`` through the engine; alerts to ``alerts_out``, bad records to ``dead_letter``,
    aggregate rows to ``rows_sink`` in batches; ``suppressions`` as the workers hold them.
    ``config`` defaults to the detector settings of the environment, exactly what a streaming
    worker started there would use. ``progress`` is told how many more lines were read, every few
    thousand."""
    engine = engine or Engine(partitions, cluster_partitions, config or detector_config(load()), suppressions)
    summary = ReplaySummary()
    t0 = time.perf_counter()
    n = 0

    def drain() -> None:
        alerts = engine.drain_alerts()
        for alert in alerts:
            summary.alerts[alert["severity"]] = summary.alerts.get(alert["severity"], 0) + 1
            alerts_out.write(orjson.dumps(alert) + b"\n")
        rows = engine.drain_rows()
        if rows_sink is not None and (rows or alerts):
            rows.extend(("alert", a) for a in alerts)
            rows_sink(rows)

    def reject(path: str, line_no: int, raw: bytes, reason: str) -> None:
        summary.bad += 1
        if dead_letter is not None:
            dead_letter.write(dead_letter_line(f"{path}:{line_no}", raw, reason))

    def reject_failed(path: str) -> None:
        """Events rejected when applied (duplicates, failures), which is later than read: no line to name."""
        summary.rejected_when_applied += len(engine.rejected)
        for ev, reason in engine.rejected:
            reject(path, 0, msgspec.json.encode(ev), reason)
        engine.rejected.clear()

    process = engine.process
    accepted = 0  # a local, not summary.events, in the per-event loop
    for path, line_no, raw in read_lines(paths):
        events, bad = decode(raw)
        for item, reason in bad:
            reject(path, line_no, item, reason)
        for ev in events:
            reason = process(ev)
            if reason is None:
                accepted += 1
            else:
                reject(path, line_no, raw, reason)
        if engine.rejected:
            reject_failed(path)
        n += 1
        if n & 4095 == 0:
            drain()
            if progress is not None:
                progress(4096)
    if progress is not None:
        progress(n & 4095)
    engine.finish()
    reject_failed(paths[-1] if paths else "-")
    drain()
    summary.events = accepted - summary.rejected_when_applied
    summary.late = engine.counters().get("late", 0)
    summary.seconds = time.perf_counter() - t0
    return summary
