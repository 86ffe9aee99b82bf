"""The cluster stage's driver: cluster-links records → one ClusterProcessor per partition →
cluster alerts (below paging) and rows, and reports and watermarks for the campaign stage; the
whole processor is one ``cluster_state`` record per partition, written per batch.

Each link message carries its position in its source partition's output; the last position
applied per source is part of the snapshot, so messages a restarted account stage sends again
are dropped and the cluster state stays exact. Messages for the campaign stage get their own
position, ``(links offset, k)``: a record applied again after a crash produces them again at the
same positions, and the campaign stage drops them likewise.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping

import orjson

from distillwatch.models.cluster_processor import ClusterProcessor
from distillwatch.models.links import to_wire
from distillwatch.models.snapshot import cluster_to_bytes, restore_cluster_processor
from distillwatch.models.suppressions import SuppressionTable
from distillwatch.streams import codecs
from distillwatch.streams.metrics import Metrics
from distillwatch.streams.settings import Settings, detector_config
from distillwatch.streams.stages.base import Stage
from distillwatch.streams.stages.outbox import Outbox, take_alerts_and_rows
from distillwatch.streams.stages.positions import unseen
from distillwatch.streams.stages.rebalance import Handover


class ClusterPartition:
    __slots__ = ("proc", "last", "offset", "out")

    def __init__(self, proc: ClusterProcessor, last: list[list[int]], offset: int) -> None:
        self.proc = proc
        self.last = last  # per source partition: position [offset, k] of the last message applied
        self.offset = offset  # the last links record applied
        self.out: list[list] = []  # [offset, k, wire message] for the campaign stage


class ClusterStage(Stage):
    """Link records in (:meth:`apply`), a batch's alerts, rows and state out (:meth:`finish`).

    ``data`` is the table's mapping (key ``c/<partition>``, see :mod:`distillwatch.streams.state`)."""

    def __init__(self, s: Settings, data: MutableMapping[bytes, bytes], changelog: str, metrics: Metrics,
                 suppressions: SuppressionTable | None = None) -> None:
        super().__init__(s, data, changelog, metrics, suppressions)
        self.parts: dict[int, ClusterPartition] = {}
        self.touched: set[int] = set()
        self.handover: Handover[ClusterPartition] = Handover()

    def partition(self, c: int) -> ClusterPartition:
        part = self.parts.get(c)
        if part is None:
            sources = self.settings.requests_partitions
            proc, extra = restore_cluster_processor(
                c, sources, self.data.get(b"c/%d" % c), detector_config(self.settings).cluster)
            extra = extra or {"last": [[-1, -1] for _ in range(sources)], "offset": -1}
            part = self.parts[c] = ClusterPartition(proc, extra["last"], extra["offset"])
        return part

    def last_applied(self, topic: str, p: int) -> int:
        return self.partition(p).offset

    def apply(self, c: int, offset: int, raw: bytes) -> None:
        """One link record at ``offset`` of partition ``c``: ``[source, [[offset, k, msg], ...]]``."""
        part = self.partition(c)
        if not self._new_record(self.settings.links_topic, c, part.offset, offset):
            return  # already applied (position by position too, below)
        part.offset = offset
        source, messages = orjson.loads(raw)
        proc = part.proc
        for msg in unseen(messages, part.last[source], self.metrics, "links_redelivered_skipped"):
            proc.receive(msg)
        for k, msg in enumerate(proc.out):
            part.out.append([offset, k, to_wire(msg)])
        proc.out.clear()
        self.touched.add(c)

    def finish(self, out: Outbox) -> None:
        """End of a batch: every touched partition's alerts and rows, then its snapshot."""
        rows: list[tuple[str, dict]] = []
        for c in sorted(self.touched):
            part = self.parts[c]
            take_alerts_and_rows(part.proc, out, self.settings.alerts_topic, rows, self.metrics, self.suppressions)
            for record in codecs.link_records(self.settings.requests_partitions + c, part.out):
                out.add(self.settings.campaigns_topic, None, record, 0)
            part.out.clear()
            key = b"c/%d" % c
            value = self.data[key] = cluster_to_bytes(part.proc, {"last": part.last, "offset": part.offset})
            out.add_state(self.changelog, key, value, c)
        self.touched.clear()
        out.add_rows(self.settings.rows_topic, rows)

    def revoke(self, partitions: Iterable[int]) -> None:
        self.handover.revoke(self.parts, partitions)

    def assign(self, partitions: Iterable[int], generation: int) -> list[int]:
        """Like :meth:`AccountStage.assign <distillwatch.streams.stages.accounts.AccountStage.assign>`."""
        return self.handover.assign(self.parts, partitions, generation)
