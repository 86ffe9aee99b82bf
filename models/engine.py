"""The whole detector in one process: account processors sharded exactly like the requests topic,
cluster processors sharded like the cluster topic, and the one campaign processor, wired by
in-memory hand-off.

Offline replay drives it directly; the streaming pipeline runs the same processors in Faust
agents, one per partition, with Kafka in place of the hand-off. Because each processor only
sees its own partition's messages in order, and the cluster stage buffers until every source
watermark has passed (the campaign stage likewise, over account and cluster watermarks), both
give the same alerts.
"""

from __future__ import annotations

from distillwatch.models.account_processor import AccountProcessor
from distillwatch.models.campaign_processor import CampaignProcessor
from distillwatch.models.cluster_processor import ClusterProcessor
from distillwatch.models.config import DetectorConfig
from distillwatch.models.event import Event
from distillwatch.models.links import CAMPAIGNS
from distillwatch.models.partitioning import partition_for
from distillwatch.models.suppressions import SuppressionTable, apply_suppressions


class Engine:
    """Replay driver: ``process`` events in file order, ``finish`` at the end, drain outputs.

    Each account processor holds its events for the lateness and applies them sorted by
    ``(ts, event_id, account_id)`` (:mod:`distillwatch.models.reorder`), as the streaming
    account stage does whatever partitioner the producer used.

    ``config`` must be the one the streaming agents use (``distillwatch.streams.settings.detector_config``),
    or replay and the stream disagree; so must ``suppressions`` (the workers' suppressions topic)."""

    def __init__(
        self,
        partitions: int = 4,
        cluster_partitions: int = 4,
        config: DetectorConfig | None = None,
        suppressions: SuppressionTable | None = None,
    ) -> None:
        self.partitions = partitions
        config = config or DetectorConfig()
        self.accounts = [AccountProcessor(p, cluster_partitions, config.account) for p in range(partitions)]
        self.clusters = [ClusterProcessor(c, partitions, config.cluster) for c in range(cluster_partitions)]
        self.campaigns = CampaignProcessor(partitions + cluster_partitions, config.campaign)
        self._partition_cache: dict[str, int] = {}
        # events rejected when applied (duplicates, and failures), later than ``process`` returned
        self.rejected: list[tuple[Event, str]] = []
        self.suppressions = {} if suppressions is None else suppressions
        # one shared outbox, so alerts come out in exactly the order they were raised (account
        # alerts reach it through the campaign processor, which routes them)
        self._alerts: list[dict] = []
        self._rows: list[tuple[str, dict]] = []
        for proc in self.accounts:
            proc.rows = self._rows
        for cluster in self.clusters:
            cluster.rows, cluster.alerts = self._rows, self._alerts
        self.campaigns.rows, self.campaigns.alerts = self._rows, self._alerts

    def partition_of(self, account_id: str) -> int:
        p = self._partition_cache.get(account_id)
        if p is None:
            p = self._partition_cache[account_id] = partition_for(account_id, self.partitions)
        return p

    def process(self, ev: Event) -> str | None:
        """One event; returns a dead-letter reason if the account stage rejected it."""
        p = self._partition_cache.get(ev.account_id)  # partition_of, inline: it runs for every event
        proc = self.accounts[self.partition_of(ev.account_id) if p is None else p]
        reason = proc.process(ev)
        if proc.links:
            self._hand_off(proc)
        if proc.rejected:
            self.rejected.extend(proc.rejected)
            proc.rejected.clear()
        return reason

    def finish(self) -> None:
        """End of input: flush every account partition, then let the cluster stage close."""
        for proc in self.accounts:
            proc.flush()
            self._hand_off(proc)
            self.rejected.extend(proc.rejected)
            proc.rejected.clear()

    def _hand_off(self, proc: AccountProcessor) -> None:
        links, proc.links = proc.links, []
        proc.dirty.clear()  # replay writes no changelog: it would otherwise name every account ever seen
        clusters, campaigns = self.clusters, self.campaigns
        for target, msg in links:
            if target == CAMPAIGNS:
                campaigns.receive(msg)
                continue
            cluster = clusters[target]
            cluster.receive(msg)
            if cluster.out:
                for out in cluster.out:
                    campaigns.receive(out)
                cluster.out.clear()

    def drain_alerts(self) -> list[dict]:
        """Alerts raised since the last drain, in the order they were raised."""
        out = [apply_suppressions(a, self.suppressions) for a in self._alerts]
        self._alerts.clear()
        return out

    def drain_rows(self) -> list[tuple[str, dict]]:
        """``(table, row)`` aggregates for ClickHouse since the last drain."""
        out = self._rows[:]
        self._rows.clear()
        return out

    def counters(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for proc in self.accounts:
            for k, v in proc.counters.items():
                total[k] = total.get(k, 0) + v
        return total
