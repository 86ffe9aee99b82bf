"""The campaign stage's driver: campaigns records (account alerts, cluster reports, watermarks from
every account and cluster partition) → the one CampaignProcessor → every alert that pages, and
campaign rows; the whole processor is one ``campaign_state`` record, written per batch.

Like the cluster stage, it keeps the position ``[offset, k]`` of the last message applied per
source (account partitions first, then cluster partitions) in its snapshot, so messages a
restarted upstream stage sends again are dropped.
"""

from __future__ import annotations

from collections.abc import MutableMapping

import orjson

from distillwatch.models.snapshot import campaign_to_bytes, restore_campaign_processor
from distillwatch.models.suppressions import SuppressionTable
from distillwatch.streams.metrics import Metrics
from distillwatch.streams.settings import Settings, detector_config
from distillwatch.streams.stages.base import Stage
from distillwatch.streams.stages.outbox import Outbox, take_alerts_and_rows
from distillwatch.streams.stages.positions import unseen

KEY = b"k/0"


class CampaignStage(Stage):
    """Campaign records in (:meth:`apply`), a batch's alerts, rows and state out (:meth:`finish`).

    ``data`` is the table's mapping (one key, :data:`KEY`, see :mod:`distillwatch.streams.state`); restored
    lazily, when the first record arrives (after table recovery)."""

    def __init__(self, s: Settings, data: MutableMapping[bytes, bytes], changelog: str, metrics: Metrics,
                 suppressions: SuppressionTable | None = None) -> None:
        super().__init__(s, data, changelog, metrics, suppressions)
        self.proc = None
        self.last: list[list[int]] = []
        self.offset = -1  # the last campaigns record applied
        self.touched = False

    def _restore(self) -> None:
        sources = self.settings.requests_partitions + self.settings.cluster_partitions
        config = detector_config(self.settings).campaign
        self.proc, extra = restore_campaign_processor(sources, self.data.get(KEY), config)
        extra = extra or {"last": [[-1, -1] for _ in range(sources)], "offset": -1}
        self.last, self.offset = extra["last"], extra["offset"]

    def last_applied(self, topic: str, p: int) -> int:
        if self.proc is None:
            self._restore()
        return self.offset

    def apply(self, offset: int, raw: bytes) -> None:
        """The record at ``offset`` of the topic's one partition: ``[source, [[offset, k, msg], ...]]``."""
        if self.proc is None:
            self._restore()
        if not self._new_record(self.settings.campaigns_topic, 0, self.offset, offset):
            return  # already applied (message by message too, below)
        self.offset = offset
        source, messages = orjson.loads(raw)
        proc = self.proc
        for msg in unseen(messages, self.last[source], self.metrics, "campaign_messages_redelivered_skipped"):
            proc.receive(msg)
        self.touched = True

    def finish(self, out: Outbox) -> None:
        """End of a batch: the alerts and rows, then the snapshot."""
        if not self.touched:
            return
        rows: list[tuple[str, dict]] = []
        take_alerts_and_rows(self.proc, out, self.settings.alerts_topic, rows, self.metrics, self.suppressions)
        value = self.data[KEY] = campaign_to_bytes(self.proc, {"last": self.last, "offset": self.offset})
        out.add_state(self.changelog, KEY, value, 0)
        self.touched = False
        out.add_rows(self.settings.rows_topic, rows)

    def revoke(self) -> None:
        self.proc = None
