"""Events of one account partition held back until no source can still send an earlier one, then
applied in one canonical order, so the result does not depend on the order they arrived in.

Why: a producer may partition as it likes (request-event.md 1.1), so an account's events can
reach its owner partition from several source partitions, each read at its own pace, in an order
no one can reproduce. Replay reads a file in order. Both agree if the processor sees the same
sequence: every event, sorted by ``(ts, event_id, account_id)``, released once every source has
promised (its *mark*: its event clock minus the lateness) that nothing earlier will come.

Released is always everything below the frontier (``min`` of the marks) and nothing above it,
so the concatenation of releases is the sorted sequence whatever the arrival order and however
often marks move, as long as no event arrives below the frontier. One that does (an event more
than the lateness behind its source's clock) is *late*: the caller applies it at once, as every
stream processor must treat data behind its watermark; only then can replay and stream differ.

Memory: every event of the last lateness window (plus the slowest source's lag) is held here.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable

from distillwatch.models.event import Event


class ReorderBuffer:
    """A heap of ``(ts, event_id, account_id, arrival, event)`` and one mark per source.

    ``arrival`` only breaks ties between events equal in all three keys (the same event twice:
    the account's duplicate ring drops the copy, whichever comes first)."""

    __slots__ = ("marks", "frontier", "_heap", "_arrivals")

    def __init__(self, sources: Iterable[int]) -> None:
        self.marks: dict[int, float] = dict.fromkeys(sources, -math.inf)
        self.frontier = -math.inf  # everything below it has been released
        self._heap: list[tuple[float, str, str, int, Event]] = []
        self._arrivals = 0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, ev: Event) -> bool:
        """Hold ``ev``; ``False`` (not held) when it is late: below what was released already."""
        if ev.ts < self.frontier:
            return False
        self._arrivals += 1
        heapq.heappush(self._heap, (ev.ts, ev.event_id, ev.account_id, self._arrivals, ev))
        return True

    def mark(self, source: int, watermark: float) -> None:
        """``source`` will send nothing below ``watermark`` (or only late events). A mark may move
        back (a source that was idle wakes up); the frontier only moves back from infinity, when
        every source had gone idle and one wakes: nothing arrived meanwhile, so nothing was
        released out of order."""
        self.marks[source] = watermark
        if self.frontier == math.inf:
            self.frontier = min(self.marks.values())

    def release(self) -> list[Event]:
        """The held events below the new frontier, in order (empty when it has not moved)."""
        frontier = min(self.marks.values())
        if frontier <= self.frontier:
            return []
        self.frontier = frontier
        heap = self._heap
        out = []
        while heap and heap[0][0] < frontier:
            out.append(heapq.heappop(heap)[4])
        return out

    def held(self) -> list[Event]:
        """The events held, in release order (snapshots and tests)."""
        return [entry[4] for entry in sorted(self._heap)]


__all__ = ["ReorderBuffer"]
