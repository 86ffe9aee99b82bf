"""Delivering one alert to every destination: what at-least-once needs beyond a single POST.

Each destination gets bounded attempts with exponential back-off (or the wait it asked for); a
destination that still refuses, or refuses for good (a 4xx), hands the alert to ``dead_letter``
so that the stream moves on and nothing is silently dropped. Destinations are served in parallel
and :meth:`Deliverer.deliver` returns only when each one accepted or dead-lettered the alert, so
the caller may then commit its offset, and alerts of one incident keep their order. An
``alert_id`` already delivered by this process is skipped (the topic may hold a copy of an alert
re-sent by a restarted worker).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from prometheus_client import CollectorRegistry, Counter, Histogram

from distillwatch.streams.alerting.destination import DeliveryError, Destination

DeadLetter = Callable[[dict, str, str, int], None]  # (alert, destination name, error, attempts)

log = logging.getLogger(__name__)


class DeliveryMetrics:
    """``distillwatch_notify_*`` in their own registry (served on ``/metrics`` by ``notify``)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        by = ["destination"]
        self.delivered = Counter("distillwatch_notify_delivered", "alerts a destination accepted", by,
                                 registry=self.registry)
        self.retried = Counter("distillwatch_notify_retried", "attempts that failed and were retried", by,
                               registry=self.registry)
        self.failed = Counter("distillwatch_notify_failed", "alerts sent to the delivery dead letter", by,
                              registry=self.registry)
        self.duplicates = Counter("distillwatch_notify_duplicates", "alerts skipped: alert_id already delivered",
                                  registry=self.registry)
        self.latency = Histogram("distillwatch_notify_delivery_seconds",
                                 "first attempt to acceptance, retries and back-off included", by,
                                 buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
                                 registry=self.registry)


class Deliverer:
    """Sends alerts to ``destinations`` with retries; see the module docstring."""

    def __init__(self, destinations: list[Destination], dead_letter: DeadLetter, *, max_attempts: int = 6,
                 backoff_s: float = 0.5, max_backoff_s: float = 30.0, metrics: DeliveryMetrics | None = None,
                 remember: int = 100_000, sleep: Callable[[float], None] = time.sleep) -> None:
        self.destinations = destinations
        self.dead_letter = dead_letter
        self.max_attempts = max(1, max_attempts)
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.metrics = metrics or DeliveryMetrics()
        self.remember = remember
        self.sleep = sleep
        self._delivered: OrderedDict[str, None] = OrderedDict()
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(destinations)), thread_name_prefix="deliver")

    def deliver(self, alert: dict) -> None:
        """Every destination accepted ``alert`` or it went to the dead letter, once this returns."""
        if alert["alert_id"] in self._delivered:
            self.metrics.duplicates.inc()
            return
        targets = [d for d in self.destinations if d.accepts(alert)]
        for dest, outcome in zip(targets, self._pool.map(lambda d: self._attempt(d, alert), targets), strict=True):
            if outcome is not None:
                error, attempts = outcome
                log.error("%s refused alert %s after %d attempt(s): %s", dest.name, alert["alert_id"], attempts,
                          error)
                self.dead_letter(alert, dest.name, error, attempts)
                self.metrics.failed.labels(dest.name).inc()
        self._delivered[alert["alert_id"]] = None
        if len(self._delivered) > self.remember:
            self._delivered.popitem(last=False)

    def tick(self, now: float | None = None) -> None:
        """Let destinations do their periodic work (Alertmanager's re-sends)."""
        for dest in self.destinations:
            dest.tick(time.time() if now is None else now)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _attempt(self, dest: Destination, alert: dict) -> tuple[str, int] | None:
        """``None`` once accepted, else (last error, attempts made)."""
        started = time.perf_counter()
        attempt = 0
        while True:
            attempt += 1
            try:
                dest.send(alert)
            except DeliveryError as exc:
                if not exc.retryable or attempt >= self.max_attempts:
                    return str(exc), attempt
                self.metrics.retried.labels(dest.name).inc()
                wait = exc.retry_after if exc.retry_after is not None else self.backoff_s * 2 ** (attempt - 1)
                self.sleep(min(wait, self.max_backoff_s))
            else:
                self.metrics.delivered.labels(dest.name).inc()
                self.metrics.latency.labels(dest.name).observe(time.perf_counter() - started)
                return None
