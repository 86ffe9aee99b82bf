"""What every stage driver holds, so the three drivers are built alike."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping

from distillwatch.models.suppressions import SuppressionTable
from distillwatch.streams.metrics import Metrics
from distillwatch.streams.settings import Settings

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

    def _new_record(self, topic: str, p: int, last: int, offset: int, skipped: str | None = None) -> bool:
        """Whether record ``offset`` of ``topic``:``p`` is new (``last``: the last one applied): one
        at or before it is a redelivery after a restart (counted under ``skipped`` if given), and
        one after records that never arrived is logged and counted, so such a loss is never silent.

        Why: a topic's offsets are dense unless records were deleted (retention, compaction) or are
        transaction markers. Records the consumer skips are read again before this is asked
        (:mod:`distillwatch.streams.agents.refill`), so a gap left here is one whose records are
        absent: they cannot be applied, and the stage reads on, loudly. The rebalance test checks
        the workers' logs for this line."""
        if offset <= last:
            if skipped:
                self.metrics.inc(skipped)
            return False
        if last >= 0 and offset != last + 1:
            self.metrics.inc("input_gaps")
            log.warning("%s:%d: records %d-%d never arrived (absent from the topic, or not readable "
                        "again): reading on from %d", topic, p, last + 1, offset - 1, offset)
        return True

    def last_applied(self, topic: str, p: int) -> int:
        """The offset of the last record of ``topic``:``p`` this stage applied (-1: none yet), from
        its restored state after a restart or a takeover: what tells a record the consumer skipped
        from one never written."""
        raise NotImplementedError
