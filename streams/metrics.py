"""Operational counters of one worker: Prometheus text for ``/metrics`` and a periodic log line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable


class Metrics:
    """Monotonic counters plus gauges computed when read (consumer lag, late events)."""

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()
        self.gauges: dict[str, Callable[[], float]] = {}

    def inc(self, name: str, n: int = 1) -> None:
        self.counters[name] += n

    def snapshot(self) -> dict[str, float]:
        values: dict[str, float] = dict(self.counters)
        for name, read in self.gauges.items():
            values[name] = read()
        return values

    def prometheus(self) -> str:
        """Counters as ``distillwatch_<name>``; ``alerts.<severity>`` becomes a ``severity`` label."""
        lines = []
        for name, value in sorted(self.snapshot().items()):
            metric, _, label = name.partition(".")
            labels = f'{{severity="{label}"}}' if label else ""
            lines.append(f"distillwatch_{metric}{labels} {value:g}")
        return "\n".join(lines) + "\n"

    def line(self) -> str:
        return " ".join(f"{k}={v:g}" for k, v in sorted(self.snapshot().items()))
