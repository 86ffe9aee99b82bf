"""What every stage driver holds, so the three drivers are built alike."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping

from distillwatch.models.suppressions import SuppressionTable
from distillwatch.streams.metrics import Metrics
from distillwatch.streams.settings import Settings

GAP_SEEKS = 5  # reads of a gap in a partition's offsets before it is taken as real
log = logging.getLogger(__name__)


class Stage:
    """The settings, the table's mapping and its changelog topic (state), the metrics, and the
    suppressions every worker reads (:data:`distillwatch.streams.state.live_suppressions`; none
    in a test), applied where the stage's alerts leave it."""

    def __init__(self, s: Settings, data: MutableMapping[bytes, bytes], changelog: str, metrics: Metrics,
                 suppressions: SuppressionTable | None = None) -> None:
        self.settings = s
        self.data = data
        self.changelog = changelog
        self.metrics = metrics
        self.suppressions = {} if suppressions is None else suppressions
        self.gaps: dict[tuple[str, int], list[int]] = {}  # (topic, partition) -> [first missing offset, reads]
        self.rewinds: dict[tuple[str, int], int] = {}  # asked for in this batch (see _behind_gap)

    def _behind_gap(self, topic: str, p: int, last: int, offset: int) -> bool:
        """Whether record ``offset`` of ``topic``:``p`` comes after records that never arrived (``last``:
        the last one applied), so it must wait: it is not applied, and :meth:`take_rewinds` asks the
        agent to read again from the first one missing.

        Why: the offsets of a topic nobody writes in transactions are dense, and faust-streaming's
        fetcher can drop records it has fetched when a rebalance suspends its flow, then read on
        (measured on the rebalance test: 6 records of one partition, never delivered, never
        committed). Applying what comes after would lose them for good and make marks promise past
        them. A gap still there after :data:`GAP_SEEKS` reads is real (a transaction marker,
        compaction, retention): it is read past, logged and counted."""
        if last < 0 or offset == last + 1:
            if self.gaps:  # the gap is filled (the records came after all, or again after a seek)
                self.gaps.pop((topic, p), None)
                self.rewinds.pop((topic, p), None)
            return False
        key = (topic, p)
        if key in self.rewinds:  # a read from the gap is asked for already
            return True
        gap = self.gaps.get(key)
        if gap is None or gap[0] != last + 1:
            gap = self.gaps[key] = [last + 1, 0]
        if gap[1] >= GAP_SEEKS:
            del self.gaps[key]
            self.metrics.inc("input_gaps_read_past")
            log.warning("%s:%d has no records %d-%d after %d reads: reading on from %d", topic, p, last + 1,
                        offset - 1, GAP_SEEKS, offset)
            return False
        self.rewinds[key] = last + 1
        return True

    def take_rewinds(self) -> dict[tuple[str, int], int]:
        """``(topic, partition) → offset`` to read again from, once this batch is delivered (see
        :meth:`_behind_gap`); each is counted as one read of its gap."""
        rewinds, self.rewinds = self.rewinds, {}
        for key in rewinds:
            self.gaps[key][1] += 1
        self.metrics.inc("input_gap_seeks", len(rewinds))
        return rewinds
