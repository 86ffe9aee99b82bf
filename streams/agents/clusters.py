"""The cluster stage: cluster-links → one ClusterProcessor per assigned partition → cluster alerts
and rows; the whole processor is one ``cluster_state`` record per partition, written per batch.

Each link message carries its position in its source partition's output; the last position
applied per source is part of the snapshot, so messages a restarted account stage sends again
are dropped and the cluster state stays exact.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, MutableMapping

import orjson

from models.cluster_processor import ClusterProcessor
from models.links import from_wire
from models.snapshot import cluster_to_bytes, restore_cluster_processor
from streams import codecs, state, topics
from streams.agents.outbox import Outbox
from streams.app import app, metrics, settings
from streams.settings import Settings, detector_config


class ClusterPartition:
    __slots__ = ("proc", "last")

    def __init__(self, proc: ClusterProcessor, last: list[list[int]]) -> None:
        self.proc = proc
        self.last = last  # per source partition: position [offset, k] of the last message applied


class ClusterStage:
    """The driver: link records in, cluster alerts and rows out; plain Python, fed by the agent below."""

    def __init__(self, s: Settings, data: MutableMapping[bytes, bytes], changelog: str) -> None:
        self.settings = s
        self.data = data
        self.changelog = changelog
        self.parts: dict[int, ClusterPartition] = {}
        self.touched: set[int] = set()
        self.lock = asyncio.Lock()

    def partition(self, c: int) -> ClusterPartition:
        part = self.parts.get(c)
        if part is None:
            sources = self.settings.requests_partitions
            proc, last = restore_cluster_processor(c, sources, self.data.get(b"c/%d" % c),
                                                   detector_config(self.settings).cluster)
            part = self.parts[c] = ClusterPartition(proc, last or [[-1, -1]] * sources)
        return part

    def apply(self, c: int, raw: bytes) -> None:
        """One link record: ``[source, [[offset, k, msg], ...]]``."""
        part = self.partition(c)
        source, messages = orjson.loads(raw)
        last = part.last[source]
        proc = part.proc
        for offset, k, msg in messages:
            if [offset, k] <= last:
                metrics.inc("links_redelivered_skipped")
                continue
            last = [offset, k]
            proc.receive(from_wire(msg))
        part.last[source] = last
        self.touched.add(c)

    def finish(self, out: Outbox) -> None:
        rows: list[tuple[str, dict]] = []
        for c in sorted(self.touched):
            proc = self.parts[c].proc
            for alert in proc.alerts:
                out.add(self.settings.alerts_topic, *codecs.alert_record(alert))
                rows.append(("alert", alert))
                metrics.inc(f"alerts.{alert['severity']}")
            proc.alerts.clear()
            rows.extend(proc.rows)
            proc.rows.clear()
            key = b"c/%d" % c
            value = self.data[key] = cluster_to_bytes(proc, self.parts[c].last)
            out.add_state(self.changelog, key, value, c)
        self.touched.clear()
        for record in codecs.rows_records(rows):
            out.add(self.settings.rows_topic, None, record)

    def revoke(self, partitions: Iterable[int]) -> None:
        for c in partitions:
            self.parts.pop(c, None)


stage = ClusterStage(settings, state.cluster_state.data, state.changelog_name(state.cluster_state))


@app.agent(topics.links)
async def score_clusters(stream) -> None:
    """decode → receive → produce → store, one batch of link records at a time."""
    async for batch in stream.take_events(settings.batch_max, within=settings.batch_within_s):
        async with stage.lock:
            out = Outbox()
            for event in batch:
                stage.apply(event.message.partition, event.message.value)
            stage.finish(out)
            await out.deliver(app)


@app.on_partitions_revoked.connect
async def forget_revoked(sender, revoked, **kwargs) -> None:
    stage.revoke(tp.partition for tp in revoked if tp.topic == settings.links_topic)
