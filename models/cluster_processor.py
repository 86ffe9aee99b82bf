"""The cluster stage: accounts linked by a shared attribute value, scored as one campaign.

A cluster is keyed by its linking attribute value (``payment:…``, ``tls:…``, ``ip24:…``,
``router:…``, ``template:…``), so each cluster lives on one partition of the cluster topic and no
global union-find is needed. Only account-minutes that already look harvest-like arrive as
members; every account also reports, once a day, the values it uses ("degree"), so a value
shared mostly by ordinary accounts (a NAT, a popular SDK, a legitimate router) is a hub and its
members are not implicated.

Messages from all account partitions are buffered per event-time minute and applied only when
the slowest source partition's watermark has passed that minute, in sorted order, so the result
does not depend on how partitions interleave.
"""

from __future__ import annotations

import heapq
import math
from array import array
from dataclasses import dataclass

from models.alerts import MAX_SAMPLE_EVENTS, SEVERITIES, SEVERITY_RANK, AdaptiveThreshold, make_alert
from models.features import FEATURES
from models.sketches import stable_hash

CMS_WIDTH = 1 << 15
CMS_DEPTH = 3
MAX_MEMBERS = 5000
DAY = 86400.0
SCORE_EVERY_S = 300.0
SNAPSHOT_EVERY_S = 3600.0


@dataclass(frozen=True)
class ClusterConfig:
    warn_floor: float = 10.0
    error_members: int = 3  # a campaign, not a pair of colleagues ...
    error_harvest_small: float = 10.0  # ... and a small one must look strongly harvest-like
    small_members: int = 5
    error_share: float = 0.5  # at least half the accounts on this value look harvest-like
    error_requests_day: float = 30.0
    critical_members: int = 50
    growth_factor: float = 2.0  # re-alert when the implicated accounts double
    threshold_quantile: float = 0.99


class DegreeSketch:
    """Count-min sketch of account-days per attribute value, halved at each day boundary."""

    def __init__(self) -> None:
        self.table = array("I", bytes(4 * CMS_WIDTH * CMS_DEPTH))
        self.day = -1

    def _slots(self, key: str) -> list[int]:
        h = stable_hash(key)
        h2 = stable_hash(key[::-1]) | 1
        return [r * CMS_WIDTH + ((h + r * h2) % CMS_WIDTH) for r in range(CMS_DEPTH)]

    def age_to(self, day: int) -> None:
        if day > self.day:
            if self.day >= 0:
                shift = min(day - self.day, 31)
                t = self.table
                for i in range(len(t)):
                    t[i] >>= shift
            self.day = day

    def add(self, key: str) -> None:
        t = self.table
        for s in self._slots(key):
            t[s] += 1

    def estimate(self, key: str) -> int:
        t = self.table
        return min(t[s] for s in self._slots(key))


class ClusterState:
    """One attribute value's campaign state; members capped, counters decayed in event time."""

    __slots__ = ("attr", "value", "members", "t_last", "req_day", "out_day", "member_minutes",
                 "active_minutes", "new_hour", "severity", "alert_seq", "alerted_members", "first_ts",
                 "scored_ts", "snapshot_ts")

    def __init__(self, attr: str, value: str, ts: float) -> None:
        self.attr = attr
        self.value = value
        self.members: dict[str, list] = {}
        self.t_last = ts
        self.first_ts = ts
        self.req_day = self.out_day = self.member_minutes = self.active_minutes = self.new_hour = 0.0
        self.severity = 0
        self.alert_seq = 0
        self.alerted_members = 0
        self.scored_ts = -math.inf
        self.snapshot_ts = -math.inf

    def decay_to(self, ts: float) -> None:
        dt = ts - self.t_last
        if dt > 0:
            f = math.exp(-dt / DAY)
            self.req_day *= f
            self.out_day *= f
            self.member_minutes *= f
            self.active_minutes *= f
            self.new_hour *= math.exp(-dt / 3600.0)
            self.t_last = ts

    def add(self, msg: list, ts: float) -> None:
        _, _, _, _, acc, req, out, _r_day, sig, young, top, last_event = msg
        m = self.members.get(acc)
        if m is None:
            if len(self.members) >= MAX_MEMBERS:
                self._evict()
            self.members[acc] = [ts, ts, req, out, sig, young, top, last_event]
            self.new_hour += 1.0
        else:
            m[1] = ts
            m[2] += req
            m[3] += out
            m[4] = max(m[4] * 0.9, sig)
            m[6] = top
            m[7] = last_event
        self.req_day += req
        self.out_day += out
        self.member_minutes += 1.0

    def _evict(self) -> None:
        """Drop the least recently seen tenth: keeps memory bounded for giant values."""
        keep = sorted(self.members.items(), key=lambda kv: (-kv[1][1], kv[0]))
        self.members = dict(keep[: MAX_MEMBERS * 9 // 10])


class ClusterProcessor:
    """State and logic of one cluster-topic partition."""

    def __init__(self, partition: int, source_partitions: int, config: ClusterConfig | None = None) -> None:
        self.partition = partition
        self.config = config or ClusterConfig()
        self.source_wm = [-math.inf] * source_partitions
        self.watermark = -math.inf
        self.pending: dict[int, list[list]] = {}
        self._pending_heap: list[int] = []
        self.clusters: dict[str, ClusterState] = {}
        self.degree = DegreeSketch()
        self.threshold = AdaptiveThreshold(self.config.threshold_quantile, self.config.warn_floor)
        self.alerts: list[dict] = []
        self.rows: list[tuple[str, dict]] = []
        self.dirty: set[str] = set()

    def receive(self, msg: list) -> None:
        """One message from the account stage: a link (``L``), a degree (``D``) or a watermark (``W``)."""
        if msg[0] == "W":
            src, wm = msg[1], msg[2]
            if wm > self.source_wm[src]:
                self.source_wm[src] = wm
                low = min(self.source_wm)
                if low > self.watermark:
                    self.watermark = low
                    self._close_until(low)
            return
        minute = msg[1]
        bucket = self.pending.get(minute)
        if bucket is None:
            bucket = self.pending[minute] = []
            heapq.heappush(self._pending_heap, minute)
        bucket.append(msg)

    def _close_until(self, watermark: float) -> None:
        heap = self._pending_heap
        while heap and (heap[0] + 1) * 60 <= watermark:
            minute = heapq.heappop(heap)
            self._close_minute(minute, self.pending.pop(minute))

    def _close_minute(self, minute: int, msgs: list[list]) -> None:
        ts = (minute + 1) * 60.0
        self.degree.age_to(int(ts // DAY))
        msgs.sort(key=lambda m: (m[0], m[2], m[3], m[4] if len(m) > 4 else ""))
        touched: dict[str, ClusterState] = {}
        for msg in msgs:
            key = f"{msg[2]}:{msg[3]}"
            if msg[0] == "D":
                self.degree.add(key)
                continue
            cl = self.clusters.get(key)
            if cl is None:
                cl = self.clusters[key] = ClusterState(msg[2], msg[3], ts)
            if key not in touched:
                cl.decay_to(ts)
                cl.active_minutes += 1.0
                touched[key] = cl
            cl.add(msg, ts)
        for key in sorted(touched):
            cl = touched[key]
            # scoring scans the members: every SCORE_EVERY_S per cluster is enough for campaigns
            # that unfold over hours, and keeps a busy cluster's cost per minute flat
            if ts - cl.scored_ts >= SCORE_EVERY_S:
                cl.scored_ts = ts
                self._score(key, cl, ts)

    def _score(self, key: str, cl: ClusterState, ts: float) -> None:
        cfg = self.config
        self.dirty.add(key)
        active = [(a, m) for a, m in cl.members.items() if m[1] >= ts - DAY]
        n = len(active)
        degree = self.degree.estimate(key)
        share = min(1.0, n / max(1.0, degree / 1.5)) if degree else 1.0
        young = sum(m[5] for _, m in active) / n if n else 0.0
        sig = sum(m[4] for _, m in active) / n if n else 0.0
        concurrency = cl.member_minutes / max(cl.active_minutes, 1e-9)
        duty = cl.member_minutes / max(1.0, n * 1440.0)
        sync = concurrency / (1.0 + max(0, n - 1) * duty)
        # (code, contribution, value, baseline); the words are written only if an alert is raised
        terms = [
            ("members", 1.5 * math.log2(1 + n), n, 1.0),
            ("aggregate_volume", max(0.0, math.log1p(cl.req_day / 100.0)), cl.req_day, 100.0),
            ("harvest_signature", sig / 2.0, sig, 0.0),
            ("young_accounts", 2.0 * young, young, 0.0),
            ("synchronised", min(3.0, max(0.0, math.log2(max(sync, 1e-9)))), sync, 1.0),
            ("new_members", math.log1p(cl.new_hour), cl.new_hour, 0.0),
        ]
        total = sum(t[1] for t in terms) * min(1.0, share / cfg.error_share)
        if n <= 2:
            # lone or paired harvest-like accounts on a value are the noise level clusters are
            # judged against: the threshold adapts to their score distribution
            self.threshold.learn(total)
        threshold = self.threshold.level
        severity = "none"
        if n >= 3 and total >= threshold:
            severity = "warning"
            strong = n >= cfg.small_members or sig >= cfg.error_harvest_small
            if (n >= cfg.error_members and strong and share >= cfg.error_share
                    and cl.req_day >= cfg.error_requests_day):
                severity = "critical" if n >= cfg.critical_members else "error"
        self.rows.append(("cluster_minute", {
            "cluster_id": key, "attribute": cl.attr, "value": cl.value, "minute": ts - 60.0,
            "members_active": n, "members_total": len(cl.members), "requests_day": round(cl.req_day, 2),
            "output_tokens_day": round(cl.out_day, 2), "new_members_hour": round(cl.new_hour, 3),
            "hub_share": round(share, 4), "young_share": round(young, 4), "sync": round(sync, 3),
            "score": round(total, 4), "severity": severity,
        }))
        rank = SEVERITY_RANK[severity]
        grew = rank >= SEVERITY_RANK["error"] and n >= cfg.growth_factor * max(cl.alerted_members, 1)
        raise_alert = rank > cl.severity or (grew and cl.severity >= SEVERITY_RANK["error"])
        if raise_alert or (cl.severity and ts - cl.snapshot_ts >= SNAPSHOT_EVERY_S):
            active.sort(key=lambda am: (-am[1][2] * am[1][4], am[0]))  # highest contribution first
            if raise_alert:
                cl.severity = max(cl.severity, rank)
                cl.alerted_members = n
                cl.alert_seq += 1
                self._raise(key, cl, active, terms, total, threshold, ts, share)
            self._snapshot_members(key, cl, active, ts)

    def _snapshot_members(self, key: str, cl: ClusterState, active: list[tuple[str, list]], ts: float) -> None:
        """Membership rows for analysts: at every alert, and hourly while an incident is open."""
        cl.snapshot_ts = ts
        for acc, m in active[:1000]:
            self.rows.append(("cluster_member", {
                "cluster_id": key, "account_id": acc, "snapshot_at": ts, "first_seen": m[0],
                "last_seen": m[1], "requests": m[2], "output_tokens": m[3], "harvest_score": m[4],
            }))

    def _raise(self, key, cl, active, terms, total, threshold, ts, share) -> None:
        accounts = [a for a, _ in active]
        words = _summaries(cl, active, terms)
        reasons = [
            {"code": code, "summary": words[code], "value": round(value, 4), "baseline": base}
            for code, c, value, base in sorted(terms, key=lambda t: -t[1]) if c > 0
        ]
        reasons.append({"code": "hub_share", "summary": (
            f"{share:.0%} of the accounts seen on this {cl.attr} look harvest-like (a shared NAT or "
            "popular SDK would be far lower)"), "value": round(share, 4), "baseline": 0.5})
        samples = sorted({m[7] for _, m in active[:MAX_SAMPLE_EVENTS] if m[7]})
        evidence = {
            "requests": round(cl.req_day),
            "output_tokens": round(cl.out_day),
            "members": len(active),
            "sample_event_ids": samples,
        }
        severity = SEVERITIES[cl.severity]
        self.alerts.append(make_alert(
            kind="cluster", subject=key, accounts=accounts, accounts_total=len(accounts),
            severity=severity, score=total, threshold=threshold, detected_at=ts,
            window_start=max(cl.first_ts, ts - DAY), reasons=reasons, evidence=evidence,
            links=[{"attribute": cl.attr, "value": cl.value, "accounts": len(accounts)}],
            seq=cl.alert_seq,
        ))




def _summaries(cl: ClusterState, active: list[tuple[str, list]], terms: list[tuple]) -> dict[str, str]:
    """The alert's reasons in words, from exactly the values the score used."""
    v = {code: value for code, _, value, _ in terms}
    return {
        "members": f"{v['members']} linked accounts active in the last day share {cl.attr} {_short(cl.value)}",
        "aggregate_volume": f"{v['aggregate_volume']:,.0f} requests/day in sum across them",
        "harvest_signature": f"members' mean harvest score {v['harvest_signature']:.1f} "
                             "(ordinary accounts stay near 0)" + _top_feature(active),
        "young_accounts": f"{v['young_accounts']:.0%} of them are under 7 days old",
        "synchronised": f"active in the same minutes {v['synchronised']:.1f}x as often as independent "
                        "accounts would be",
        "new_members": f"{v['new_members']:.0f} accounts joined in the last hour",
    }


def _short(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def _top_feature(active: list[tuple[str, list]]) -> str:
    counts: dict[int, int] = {}
    for _, m in active:
        if m[6] >= 0:
            counts[m[6]] = counts.get(m[6], 0) + 1
    if not counts:
        return ""
    top = max(sorted(counts), key=lambda k: counts[k])
    return f"; most common: {FEATURES[top].name.replace('_', ' ')}"
