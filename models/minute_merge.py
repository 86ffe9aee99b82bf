"""Deterministic merge of several source partitions' messages, one event-time minute at a time.

A stage fed by several partitions (the cluster stage by the account partitions, the campaign
stage by the account and cluster partitions) sees their messages interleaved however Kafka
delivers them. It buffers them per event-time minute and hands a minute on only when the slowest
source's watermark has passed its end; the consumer then sorts the minute's messages by a total
key, so what it decides does not depend on the interleaving (replay = stream).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator
from typing import Any

from distillwatch.models.links import Rewind, Watermark


class MinuteMerge:
    """Per-minute buffer closed by the minimum of ``sources`` watermarks.

    ``close(minute, messages)`` is called for each closed minute, oldest first. ``watermark`` is
    the merged watermark (every minute ending at or before it is closed)."""

    def __init__(self, sources: int, close: Callable[[int, list], None]) -> None:
        self.source_wm = [-math.inf] * sources
        self.watermark = -math.inf
        self._close = close
        self._pending: dict[int, list] = {}
        self._heap: list[int] = []

    def receive(self, msg: Any) -> bool:
        """Buffer a minute's message, or apply a :class:`Watermark` / :class:`Rewind`; returns
        whether the merged watermark moved (forward on a watermark, back on a rewind)."""
        kind = type(msg)
        if kind is Watermark:
            src, wm = msg
            if wm > self.source_wm[src]:
                self.source_wm[src] = wm
                low = min(self.source_wm)
                if low > self.watermark:
                    self.watermark = low
                    self._close_until(low)
                    return True
            return False
        if kind is Rewind:
            return self.rewind(msg.source, msg.watermark)
        minute = msg.minute
        bucket = self._pending.get(minute)
        if bucket is None:
            bucket = self._pending[minute] = []
            heapq.heappush(self._heap, minute)
        bucket.append(msg)
        return False

    def rewind(self, source: int, watermark: float) -> bool:
        """A source woke up after an idle flush: wait for it again (closed minutes stay closed)."""
        self.source_wm[source] = watermark
        low = min(self.watermark, min(self.source_wm))
        moved = low < self.watermark
        self.watermark = low
        return moved

    def pending(self) -> Iterator[tuple[int, list]]:
        """Buffered messages by minute, oldest first (what a snapshot must keep)."""
        for minute in sorted(self._pending):
            yield minute, self._pending[minute]

    def _close_until(self, watermark: float) -> None:
        heap = self._heap
        while heap and (heap[0] + 1) * 60 <= watermark:
            minute = heapq.heappop(heap)
            self._close(minute, self._pending.pop(minute))


__all__ = ["MinuteMerge"]
