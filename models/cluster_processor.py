"""The cluster stage: accounts linked by a shared attribute value, scored as one campaign.

A cluster is keyed by its linking attribute value (``payment:…``, ``tls:…``, ``ip24:…``,
``router:…``, ``template:…``), so each cluster lives on one partition of the cluster topic and no
global union-find is needed. Only account-minutes that already look harvest-like arrive as
members (:class:`~distillwatch.models.links.Link`); every account also reports, once a day, the values it
uses (:class:`~distillwatch.models.links.Degree`), so a value shared mostly by ordinary accounts (a NAT, a
popular SDK, a legitimate router) is a hub and its members are not implicated.

Messages from all account partitions are buffered per event-time minute and applied only when
the slowest source partition's watermark has passed that minute, in sorted order, so the result
does not depend on how partitions interleave (:class:`~distillwatch.models.minute_merge.MinuteMerge`).

Cluster alerts stay below paging (kept for analysts): a cluster scored at warning or above instead
sends a :class:`~distillwatch.models.links.Report` to the campaign stage, which pages once per
operation; its own watermark follows each report, so the campaign stage can merge in turn. A prompt
pool's fragment (a private template of two to four harvest-like accounts), and a card two or more
harvest-like accounts share below the threshold, report at ``info`` and raise no alert; template
reports carry each member's recent active slots, which the campaign stage tests for lockstep
(:mod:`distillwatch.models.lockstep`). Every account's requests per template and minute
(:class:`~distillwatch.models.links.TemplateMinute`, below the link gate) are summed per template
and go on to the campaign stage's pool harvest test (:class:`~distillwatch.models.links.PoolMinute`,
:mod:`distillwatch.models.template_evidence`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from distillwatch.models import cluster_scoring, report, template_evidence
from distillwatch.models.alerts import SEVERITIES, SEVERITY_RANK, AdaptiveThreshold
from distillwatch.models.cluster_state import HARVEST, LAST_SEEN, REQUESTS, SLOTS, ClusterState, DegreeSketch
from distillwatch.models.config import ClusterConfig
from distillwatch.models.links import Degree, Link, Message, PoolMinute, Rewind, TemplateMinute, Watermark
from distillwatch.models.minute_merge import MinuteMerge
from distillwatch.models.timespans import DAY, MINUTE

WARNING = SEVERITY_RANK["warning"]


PARAPHRASE = "template:band:"  # a paraphrased prompt's key (AccountState._update_prompt): 32 bits of its SimHash


def _link_order(link: Link) -> tuple[str, str, str]:
    return link.attribute, link.value, link.account


class ClusterProcessor:
    """State and logic of one cluster-topic partition."""

    def __init__(self, partition: int, source_partitions: int, config: ClusterConfig | None = None) -> None:
        self.partition = partition
        self.source = source_partitions + partition  # this partition's source index at the campaign stage
        cfg = self.config = config or ClusterConfig()
        self.merge = MinuteMerge(source_partitions, self._close_minute)
        self.clusters: dict[str, ClusterState] = {}
        self.degree = DegreeSketch(cfg.cms_width, cfg.cms_depth)
        self.threshold = AdaptiveThreshold(cfg.threshold_quantile, cfg.warn_floor, cfg.threshold_min_samples)
        self.alerts: list[dict] = []
        self.rows: list[tuple[str, dict]] = []
        self.out: list[Message] = []  # reports, pool minutes, watermarks and rewinds for the campaign stage
        # the population's decayed template requests, harvest-like ones, when, throttled ones and ones on
        # a model moved to (template_evidence.py)
        self.template_base: list[float] = [0.0, 0.0, 0.0, 0.0, 0.0]

    @property
    def watermark(self) -> float:
        return self.merge.watermark

    @property
    def source_wm(self) -> list[float]:
        return self.merge.source_wm

    def receive(self, msg: Message) -> None:
        """One message from the account stage: links and degrees wait for their minute to close;
        a watermark may close minutes; a rewind makes the stage wait for a woken source again.
        Either way the campaign stage learns where this partition's watermark went."""
        if self.merge.receive(msg):
            wm = self.merge.watermark
            boundary = math.floor(wm / MINUTE) * MINUTE if math.isfinite(wm) else wm
            kind = Rewind if type(msg) is Rewind else Watermark
            self.out.append(kind(self.source, boundary))

    def rewind(self, source: int, watermark: float) -> None:
        """A source partition woke up: wait for it again (minutes already closed stay closed)."""
        self.receive(Rewind(source, watermark))

    def pending(self) -> Iterator[tuple[int, list[Link | Degree | TemplateMinute]]]:
        """Buffered messages by minute, oldest first (what a snapshot must keep)."""
        return self.merge.pending()

    def _close_minute(self, minute: int, msgs: list[Link | Degree | TemplateMinute]) -> None:
        ts = (minute + 1) * MINUTE
        day = int(ts // DAY)
        if day > self.degree.day:
            self._forget_silent(day * DAY - self.config.forget_s)
            for state in self.clusters.values():
                state.start_day(day * DAY)
        self.degree.age_to(day)
        links: list[Link] = []
        uses: dict[str, list] = {}
        for msg in msgs:
            kind = type(msg)
            if kind is Degree:
                self.degree.add(f"{msg.attribute}:{msg.value}")  # type: ignore[union-attr]
            elif kind is TemplateMinute:
                template_evidence.gather(uses, msg)  # type: ignore[arg-type]
            else:
                links.append(msg)  # type: ignore[arg-type]  # (a Link; mypy does not narrow on type())
        links.sort(key=_link_order)
        touched: dict[str, ClusterState] = {}
        max_members = self.config.max_members
        for link in links:
            key = f"{link.attribute}:{link.value}"
            cl = self.clusters.get(key)
            if cl is None:
                cl = self.clusters[key] = ClusterState(link.attribute, link.value, ts)
            if key not in touched:
                cl.decay_to(ts)
                cl.active_minutes += 1.0
                touched[key] = cl
            cl.add(link, ts, max_members, self.config.lockstep_slots)
        every = self.config.score_every_s
        for key in sorted(touched):
            cl = touched[key]
            # scoring scans the members: every score_every_s per cluster is enough for campaigns
            # that unfold over hours, and keeps a busy cluster's cost per minute flat
            if ts - cl.scored_ts >= every:
                cl.scored_ts = ts
                self._score(key, cl, ts)
        if uses:
            self._pool_minutes(minute, ts, uses)

    def _pool_minutes(self, minute: int, ts: float, uses: dict[str, list]) -> None:
        """Learn the population's harvest, throttled and moved-model shares from every template's
        minute and pass each template's minute on to the campaign stage, which tests pools on it:
        the minutes of a pool's templates, and those of templates only a pool's members use (a
        paraphrase of its templates whose key nobody else shares: most of an evasive pool's
        requests). At most one message per template and minute (~40 a minute in all on the
        simulated worlds)."""
        base = self.template_base
        cfg = self.config
        template_evidence.learn_baseline(base, ts, list(uses.values()))
        p0 = round(template_evidence.baseline_share(base, cfg.pool_benign_floor), 6)
        floor = cfg.pool_behaviour_floor
        p_throttled = round(template_evidence.baseline_share(base, floor, template_evidence.B_THROTTLED), 6)
        p_fresh = round(template_evidence.baseline_share(base, floor, template_evidence.B_FRESH), 6)
        for key in sorted(uses):
            requests, harvest, accounts, users, throttled, fresh, throttlers, movers = uses[key]
            self.out.append(PoolMinute(minute, key, requests, harvest, sorted(accounts), p0, sorted(users), throttled,
                                       fresh, sorted(throttlers), [[acc, at] for acc, at in sorted(movers.items())],
                                       p_throttled, p_fresh))

    def _forget_silent(self, cutoff: float) -> None:
        """Once per event-time day (the degree sketch's day, which snapshots keep): drop the
        clusters with no member link since ``cutoff``, and such members of the others, so the
        stage's state is bounded by recent activity. A value that returns starts a new cluster."""
        clusters = self.clusters
        for key in [k for k, cl in clusters.items() if cl.t_last <= cutoff]:
            del clusters[key]
        for cl in clusters.values():
            members = cl.members
            for acc in [a for a, m in members.items() if m[LAST_SEEN] <= cutoff]:
                del members[acc]

    def _score(self, key: str, cl: ClusterState, ts: float) -> None:
        cfg = self.config
        active = cl.active(ts - cfg.active_s)
        share = cluster_scoring.hub_share(cl.day_members(self.degree.day * DAY), self.degree.estimate(key))
        v = cluster_scoring.verdict(active, share, cl.member_minutes, cl.active_minutes, cl.req_day, cl.new_hour,
                                    cfg.error_share)
        n = v.members
        if n < cfg.min_members and not key.startswith(PARAPHRASE):
            # lone or paired harvest-like accounts on a value are the noise level clusters are
            # judged against: the threshold adapts to their score distribution. Not on a
            # paraphrase key: an account that writes its own prompts has a new one nearly every
            # minute, so its lone clusters would weigh it once a minute in that level (the demo's
            # slow-and-low TLS cluster fell below it)
            self.threshold.learn(v.score)
        threshold = self.threshold.level
        severity = cluster_scoring.severity(v, threshold, cl.req_day, cfg)
        fragment = False
        if severity == "none" and cluster_scoring.is_pool(cl.attr, v, cfg):
            severity = "warning"  # below paging: the campaign stage joins the pool's templates into one operation
        elif severity == "none":
            # reported at info, no alert: its accounts and their timing join or found a silent pool campaign
            # (or a card a few harvest-like accounts share: it confirms a pool holding them)
            fragment = (cluster_scoring.is_pool(cl.attr, v, cfg, cfg.pool_fragment_members)
                        or cluster_scoring.is_shared_card(cl.attr, v, cfg))
        self.rows.append(("cluster_minute", report.cluster_minute_row(key, cl, ts, v, severity)))
        rank = SEVERITY_RANK[severity]
        grew = rank >= SEVERITY_RANK["error"] and n >= cfg.growth_factor * max(cl.alerted_members, 1)
        raise_alert = rank > cl.severity or (grew and cl.severity >= SEVERITY_RANK["error"])
        reporting = (rank >= WARNING or fragment) and v.share >= cfg.error_share  # hubs never report, so never glue
        snapshot = raise_alert or (cl.severity and ts - cl.snapshot_ts >= cfg.snapshot_every_s)
        if reporting or snapshot:
            active.sort(key=lambda am: (-am[1][REQUESTS] * am[1][HARVEST], am[0]))  # highest contribution first
        if snapshot:
            if raise_alert:
                cl.severity = max(cl.severity, rank)
                cl.alerted_members = n
                cl.alert_seq += 1
                # below paging: the campaign stage pages once per operation
                shown = SEVERITIES[min(cl.severity, WARNING)]
                self.alerts.append(report.cluster_alert(key, cl, shown, active, v, threshold, ts))
            # membership rows for analysts: at every alert, and hourly while an incident is open
            cl.snapshot_ts = ts
            self.rows.extend(report.cluster_member_rows(key, active, ts, cfg.snapshot_members))
        if reporting:
            level = "info" if fragment else severity
            r = report.cluster_report(int(ts // MINUTE) - 1, key, cl, level, active, v, threshold)
            if cl.attr == "template":
                # a pool's members carry their active slots: the campaign stage tests them for lockstep
                # (copies: the report must not change when the cluster does, in replay as on the wire)
                members = cl.members
                r = r._replace(members=[[a, c, list(members[a][SLOTS])] for a, c in r.members])
            self.out.append(r)
