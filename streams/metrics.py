"""Operational metrics of one worker, through ``prometheus_client``: ``/metrics`` (HELP and TYPE
lines, base units, ``_total`` counters, ``process_*``) and a periodic log line.

Every counter the pipeline knows is registered (with its label values) when :class:`Metrics` is
made, so ``increase()`` sees the first sink failure or bad record instead of a series that
appears only after it. A counter name the stages use that is not listed here still works: it
is registered on first use. Gauges are read when scraped (``gauges[name] = callable``).

Histograms, observed once per batch by :meth:`Metrics.batch` (cheap at 100k events/s):

- ``distillwatch_alert_latency_seconds{stage}``: from the Kafka timestamp of the batch's newest
  input record to the alert's delivery being acknowledged. For the account stage that is "event
  produced -> alert produced" (a lower bound by at most the batch window, ``DW_BATCH_WITHIN_S``);
  for the cluster stage the input is the link record the account stage produced.
- ``distillwatch_event_lag_seconds{stage,partition}``: age (wall clock minus Kafka timestamp) of
  the oldest record of each partition when its batch starts: how far behind the stream a
  partition runs.
- ``distillwatch_batch_seconds{stage}``: time to process and deliver one batch.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from distillwatch.models.alerts import SEVERITIES

COUNTERS = {
    "events_in": "request events decoded and applied by the account stage",
    "bad_records": "records sent to the dead-letter topic (invalid JSON, schema, size, time)",
    "redelivered_skipped": "request records skipped after a restart: already in the restored state",
    "links_redelivered_skipped": "link records skipped after a restart: already in the restored state",
    "idle_flushes": "partitions whose open windows were closed because the partition was quiet",
    "input_gaps": "gaps in an input partition's offsets that could not be read again (records absent), read past",
    "input_refilled": "records the consumer skipped in a rebalance, read again from the broker and applied in order",
    "sink_rows": "rows written to ClickHouse",
    "sink_failures": "ClickHouse sink failures (open, insert, or flush at shutdown)",
}
LABELLED = {"alerts": ("severity", SEVERITIES, "alerts raised")}
GAUGES = {
    "consumer_lag": "records on the assigned requests partitions not yet applied (messages)",
    "assigned_partitions": "requests partitions this worker holds",
    "late_events": "events that arrived after their window closed (counted by the account stage)",
    "accounts_in_memory": "accounts of the held partitions kept in memory",
    "accounts_set_aside": "accounts of the held partitions silent for cold_after_s, kept in the table only",
    "set_aside_lost": "accounts set aside whose table record was gone when they returned (should stay 0)",
}
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
LAG_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)
BATCH_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
STAGES = ("account", "cluster")


class Metrics:
    """One worker's metrics in its own registry (tests make several in one process)."""

    def __init__(self, partitions: dict[str, int] | None = None) -> None:
        """``partitions``: per stage, how many input partitions to show lag for from the start."""
        self.registry = CollectorRegistry()
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        self.counters: Tally[str] = Tally()  # the same counts, for the log line and the tests
        self.gauges: dict[str, Callable[[], float]] = {}
        self._counters: dict[str, Any] = {}
        for name, help_text in COUNTERS.items():
            self._counter(name, help_text)
        for name, (label, values, help_text) in LABELLED.items():
            counter = self._counter(name, help_text, label)
            for value in values:
                counter.labels(value)
        self.registry.register(_Gauges(self.gauges))
        self.alert_latency = Histogram("distillwatch_alert_latency_seconds",
                                       "input record produced (Kafka timestamp) to alert delivered", ["stage"],
                                       buckets=LATENCY_BUCKETS, registry=self.registry)
        self.event_lag = Histogram("distillwatch_event_lag_seconds",
                                   "age of a partition's oldest record when its batch starts", ["stage", "partition"],
                                   buckets=LAG_BUCKETS, registry=self.registry)
        self.batch_seconds = Histogram("distillwatch_batch_seconds", "time to process and deliver one batch",
                                       ["stage"], buckets=BATCH_BUCKETS, registry=self.registry)
        for stage in STAGES:
            self.alert_latency.labels(stage)
            self.batch_seconds.labels(stage)
            for part in range((partitions or {}).get(stage, 0)):
                self.event_lag.labels(stage, str(part))

    def _counter(self, name: str, help_text: str, label: str | None = None) -> Any:
        counter = Counter(f"distillwatch_{name}", help_text, [label] if label else [], registry=self.registry)
        self._counters[name] = counter
        return counter

    def inc(self, name: str, n: int = 1) -> None:
        """Count ``n`` under ``name``; ``alerts.<severity>`` counts the ``severity`` label of ``alerts``."""
        self.counters[name] += n
        metric, _, label = name.partition(".")
        counter = self._counters.get(metric) or self._counter(metric, metric.replace("_", " "),
                                                              "kind" if label else None)
        (counter.labels(label) if label else counter).inc(n)

    @contextmanager
    def batch(self, stage: str, events: Sequence[Any]) -> Iterator[None]:
        """Around one agent batch of Faust events: observes the histograms above."""
        started, wall = time.perf_counter(), time.time()
        alerts_before = sum(self.counters[f"alerts.{s}"] for s in SEVERITIES)
        oldest: dict[int, float] = {}
        newest = 0.0
        for event in events:
            ts, part = event.message.timestamp, event.message.partition
            if ts:
                oldest[part] = min(oldest.get(part, ts), ts)
                newest = max(newest, ts)
        for part, ts in oldest.items():
            self.event_lag.labels(stage, str(part)).observe(max(0.0, wall - ts))
        yield
        self.batch_seconds.labels(stage).observe(time.perf_counter() - started)
        raised = sum(self.counters[f"alerts.{s}"] for s in SEVERITIES) - alerts_before
        if raised and newest:
            latency = max(0.0, time.time() - newest)
            for _ in range(raised):
                self.alert_latency.labels(stage).observe(latency)

    def snapshot(self) -> dict[str, float]:
        values: dict[str, float] = dict(self.counters)
        for name, read in self.gauges.items():
            values[name] = read()
        return values

    def prometheus(self) -> bytes:
        """The Prometheus text exposition of everything above."""
        return generate_latest(self.registry)

    def line(self) -> str:
        return " ".join(f"{k}={v:g}" for k, v in sorted(self.snapshot().items()))


class _Gauges:
    """The callable gauges, read at scrape time (a gauge that fails to read is left out)."""

    def __init__(self, gauges: dict[str, Callable[[], float]]) -> None:
        self.gauges = gauges

    def describe(self) -> list:
        return []  # unknown until gauges are registered; collected fresh on every scrape

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, read in sorted(self.gauges.items()):
            try:
                value = float(read())
            except Exception:  # noqa: S112 - e.g. lag before the consumer exists: absent, not an error page
                continue
            yield GaugeMetricFamily(f"distillwatch_{name}", GAUGES.get(name, name.replace("_", " ")), value=value)
