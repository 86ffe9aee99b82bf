"""The account stage: one processor per requests-topic partition.

It owns the accounts of its partition, closes each account's event-time minute when the
partition's watermark passes it, scores the account there (not per event), raises account
alerts, writes per-minute aggregates, and sends link summaries of harvest-like accounts to the
cluster stage. Everything it decides depends only on its partition's events in order, so the
streaming workers and offline replay (which shards events the same way) agree exactly.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from models.account_scoring import SELF_SURGE, learn_self, risk_factor, score, self_surge
from models.account_state import (
    HLL_ASN,
    HLL_IP,
    HLL_PROMPT,
    HLL_ROUTER,
    HLL_TLS,
    AccountState,
    verification_name,
)
from models.alerts import SEVERITY_RANK, AdaptiveThreshold, make_alert
from models.event import MAX_FUTURE_S, Event
from models.features import FEATURES, display, end_users, extract
from models.partitioning import partition_for
from models.peers import WEAK_VERIFICATION, PeerModel, peer_group


@dataclass(frozen=True)
class AccountConfig:
    """Decision constants of the account stage; thresholds adapt above these floors."""

    lateness_s: float = 300.0
    warn_floor: float = 12.0  # score floor for a warning
    watch_harvest: float = 5.0  # harvest evidence at which an account's links go to the cluster stage
    error_volume: float = 2.5  # a page needs real volume against peers or own history ...
    error_harvest: float = 7.0  # ... and what distillers want (CoT, distillable mix, long outputs) ...
    error_requests_day: float = 100.0  # ... and enough evidence
    strong_harvest: float = 14.0  # twice the harvest evidence ...
    strong_volume: float = 1.5  # ... pages with less volume
    critical_requests_day: float = 2000.0
    dense_requests: int = 3  # a minute with this many requests is always scored ...
    rescore_s: float = 300.0  # ... sparser ones at most this often per account
    hub_end_users: float = 20.0  # an account forwarding this many end users is a router: no links
    threshold_quantile: float = 0.99
    new_model_s: float = 48 * 3600.0  # a model first seen this recently counts as newly released
    new_model_warmup_s: float = 6 * 3600.0  # models seen in the first hours are not "new"


LINK_ATTRIBUTES = ("payment", "tls", "ip24", "router", "template")


class AccountProcessor:
    """State and logic of one requests partition (see module docstring)."""

    def __init__(self, partition: int, cluster_partitions: int, config: AccountConfig | None = None) -> None:
        self.partition = partition
        self.cluster_partitions = cluster_partitions
        self.config = config or AccountConfig()
        self.accounts: dict[str, AccountState] = {}
        self.peers = PeerModel()
        self.threshold = AdaptiveThreshold(self.config.threshold_quantile, self.config.warn_floor)
        self.max_ts = -math.inf
        self.watermark = -math.inf
        self._sent_wm = -math.inf
        self._open: dict[int, list[str]] = {}
        self._link_partition: dict[str, int] = {}
        self._open_heap: list[int] = []
        self.models_first_seen: dict[str, float] = {}  # a handful of model names per provider
        self.first_ts = math.inf
        self.counters = {"events": 0, "late": 0, "too_far_ahead": 0, "windows": 0}
        # outputs, drained by the driver (replay or Faust agent)
        self.alerts: list[dict] = []
        self.rows: list[tuple[str, dict]] = []
        self.links: list[tuple[int, list]] = []
        self.dirty: set[str] = set()

    # -- input --------------------------------------------------------------------------------

    def process(self, ev: Event) -> str | None:
        """Fold one event in; returns a dead-letter reason when the event must be rejected."""
        ts = ev.ts
        if ts > self.max_ts + MAX_FUTURE_S and self.max_ts != -math.inf:
            self.counters["too_far_ahead"] += 1
            return f"ts is more than 1 day ahead of the newest event time seen ({ts - self.max_ts:.0f} s)"
        self.counters["events"] += 1
        if ts < self.watermark:
            self.counters["late"] += 1
        acc = ev.account_id
        st = self.accounts.get(acc)
        if st is None:
            st = self.accounts[acc] = AccountState()
        minute = int(ts // 60)
        if st.win_minute < 0:
            self._open_window(acc, st, minute)
        elif minute > st.win_minute:
            self._close_window(acc, st)
            self._open_window(acc, st, minute)
        st.update(ev, self._is_new_model(ev.model, ts))
        self.dirty.add(acc)
        if ts > self.max_ts:
            self.max_ts = ts
            self.advance(ts - self.config.lateness_s)
        return None

    def _is_new_model(self, model: str, ts: float) -> bool:
        """Whether ``model`` appeared in this partition's traffic recently (a fresh release):
        release chasers move to it within a day, ordinary customers over weeks."""
        first = self.models_first_seen.get(model)
        if first is None:
            first = self.models_first_seen[model] = ts
            self.first_ts = min(self.first_ts, ts)
        cfg = self.config
        return first - self.first_ts >= cfg.new_model_warmup_s and ts - first <= cfg.new_model_s

    def advance(self, watermark: float) -> None:
        """Move the watermark forward and close every account minute that ended before it."""
        if watermark <= self.watermark:
            return
        self.watermark = watermark
        heap = self._open_heap
        while heap and (heap[0] + 1) * 60 <= watermark:
            minute = heapq.heappop(heap)
            for acc in self._open.pop(minute):
                st = self.accounts[acc]
                if st.win_minute == minute:
                    self._close_window(acc, st)
                    st.win_minute = -1
        # the cluster stage only needs minute resolution: tell it when a minute boundary passes
        boundary = math.floor(watermark / 60.0) * 60.0 if watermark != math.inf else math.inf
        if boundary > self._sent_wm:
            self._sent_wm = boundary
            self.links.extend((p, ["W", self.partition, boundary]) for p in range(self.cluster_partitions))

    def flush(self) -> None:
        """End of input: close everything (offline replay's end, or an idle streaming partition)."""
        self.advance(math.inf if self.max_ts == -math.inf else self.max_ts + 3600.0 * 24 * 365)

    # -- windows ------------------------------------------------------------------------------

    def _open_window(self, acc: str, st: AccountState, minute: int) -> None:
        st.reset_window(minute)
        bucket = self._open.get(minute)
        if bucket is None:
            bucket = self._open[minute] = []
            heapq.heappush(self._open_heap, minute)
        bucket.append(acc)

    def _close_window(self, acc: str, st: AccountState) -> None:
        cfg = self.config
        minute = st.win_minute
        close_ts = (minute + 1) * 60.0
        self.counters["windows"] += 1
        self.dirty.add(acc)
        age = close_ts - st.created_at if not math.isnan(st.created_at) else math.nan
        group = peer_group(age, st.verification)
        # A sparse minute soon after the last score barely moves an account's picture: scoring
        # it again would be most of the per-event cost for the many low-rate accounts.
        if st.win_req >= cfg.dense_requests or close_ts - st.score_t >= cfg.rescore_s:
            self._score(acc, st, close_ts, age, group)
        self.rows.append(("account_minute", self._minute_row(acc, st, minute, group)))
        hub = end_users(st) >= cfg.hub_end_users
        day = int(close_ts // 86400)
        if day > st.degree_day and not hub:
            st.degree_day = day
            self._send(minute, st, ["D"])
        if st.v_harvest >= cfg.watch_harvest and not hub:
            young = 1 if math.isnan(age) or age < 7 * 86400.0 else 0
            self._send(minute, st, ["L", acc, st.win_req, int(st.win_out), round(st.r_day, 3),
                                    round(st.v_harvest, 3), young, st.v_top, st.last_event])

    def _score(self, acc: str, st: AccountState, close_ts: float, age: float, group: str) -> None:
        """Score the account against its peers and its own history, learn, and maybe alert."""
        cfg = self.config
        x = extract(st)
        self_z, self_base = self_surge(st)
        weak = st.verification in WEAK_VERIFICATION
        risk = risk_factor(age, weak, st.batch_day / max(st.r_day, 1e-9))
        verdict = score(x, self.peers.baseline(group), self_z, self_base, st.r_hour, risk)
        st.score_t = close_ts
        st.v_score, st.v_volume, st.v_harvest, st.v_automation = (
            verdict.score, verdict.volume, verdict.harvest, verdict.automation)
        st.v_top = next((t.feature for t in verdict.terms
                         if t.feature >= 0 and FEATURES[t.feature].group == "harvest"), -1)
        learn_self(st, close_ts)
        if verdict.harvest < cfg.watch_harvest and close_ts - st.peer_t >= 3600.0:
            # baselines and the threshold learn only from accounts that do not look like
            # harvesters (River's protect-the-detector idea), at most hourly per account, so
            # neither heavy users nor a large campaign can become "normal"
            st.peer_t = close_ts
            self.peers.learn(group, x)
            self.threshold.learn(verdict.score)
        threshold = self.threshold.level
        severity = self._severity(st, verdict, threshold)
        if SEVERITY_RANK[severity] > st.severity:
            self._raise(acc, st, severity, verdict, threshold, close_ts, group)

    def _severity(self, st: AccountState, verdict, threshold: float) -> str:
        cfg = self.config
        if verdict.score < threshold:
            return "none"
        paging = st.r_day >= cfg.error_requests_day and (
            (verdict.volume >= cfg.error_volume and verdict.harvest >= cfg.error_harvest)
            # an overwhelming harvest signature needs less volume before it pages
            or (verdict.volume >= cfg.strong_volume and verdict.harvest >= cfg.strong_harvest)
        )
        if not paging:
            return "warning"
        if verdict.score >= 2.0 * threshold and st.r_day >= cfg.critical_requests_day:
            return "critical"
        return "error"

    # -- outputs ------------------------------------------------------------------------------

    def _minute_row(self, acc: str, st: AccountState, minute: int, group: str) -> dict:
        return {
            "account_id": acc,
            "minute": minute * 60,
            "requests": st.win_req,
            "input_tokens": int(st.win_in),
            "output_tokens": int(st.win_out),
            "reasoning_tokens": int(st.win_reasoning),
            "rate_limited": st.win_429,
            "saturated": st.win_sat,
            "cot_share": st.win_cot / st.win_req if st.win_req else 0.0,
            "distinct_ips": round(st.distinct(HLL_IP)),
            "distinct_asns": round(st.distinct(HLL_ASN)),
            "distinct_tls": round(st.distinct(HLL_TLS)),
            "distinct_routers": round(st.distinct(HLL_ROUTER)),
            "distinct_prompts": round(st.distinct(HLL_PROMPT)),
            "capability_mix": st.capability_shares(),
            "score": st.v_score,
            "volume_score": st.v_volume,
            "harvest_score": st.v_harvest,
            "automation_score": st.v_automation,
            "peer_group": group,
            "model": st.model,
            "router_id": st.router,
            "asn": st.asn,
            "ip_prefix": st.ip24,
            "payment_fingerprint": st.payment,
            "tls_fingerprint": st.tls,
            "template": st.template,
        }

    def _send(self, minute: int, st: AccountState, body: list) -> None:
        """One message per linking attribute value the account has, to that value's partition.

        Wire form: ``[kind, minute, attribute, value, *body]``."""
        kind, rest = body[0], body[1:]
        cache = self._link_partition
        if len(cache) > 1_000_000:  # attribute values churn: keep the memo bounded
            cache.clear()
        for attr in LINK_ATTRIBUTES:
            value = getattr(st, attr)
            if value:
                key = f"{attr}:{value}"
                target = cache.get(key)
                if target is None:
                    target = cache[key] = partition_for(key, self.cluster_partitions)
                self.links.append((target, [kind, minute, attr, value, *rest]))

    def _raise(self, acc: str, st: AccountState, severity: str, verdict, threshold: float,
               close_ts: float, group: str) -> None:
        if st.severity == 0:
            st.incident_start = int(close_ts)
        st.severity = SEVERITY_RANK[severity]
        st.alert_seq += 1
        reasons = [_reason(t) for t in verdict.terms[:5]]
        reasons.append({
            "code": "peer_group",
            "summary": f"compared with {group} accounts (verification: {verification_name(st.verification)})",
            "value": group,
            "baseline": None,
        })
        evidence = {
            "requests": round(st.r_day),
            "input_tokens": round(st.in_day),
            "output_tokens": round(st.out_day),
            "distinct_ips": round(st.distinct(HLL_IP)),
            "asns": round(st.distinct(HLL_ASN)),
            "routers": round(st.distinct(HLL_ROUTER)),
            "templates": round(st.distinct(HLL_PROMPT)),
            "rate_limited": round(st.e429_day),
            "sample_event_ids": sorted({st.win_event, st.last_event} - {""}),
        }
        self.alerts.append(make_alert(
            kind="account", subject=acc, accounts=[acc], accounts_total=1, severity=severity,
            score=verdict.score, threshold=threshold, detected_at=close_ts,
            window_start=close_ts - 86400.0,  # the horizon of the day counters behind the evidence
            reasons=reasons, evidence=evidence, links=[], seq=st.alert_seq,
        ))


def _reason(t) -> dict:
    if t.feature == SELF_SURGE:
        return {
            "code": "own_history_surge",
            "summary": f"{t.value:,.0f} requests in the last hour, usually {t.baseline:,.0f} for this account",
            "value": round(t.value, 3),
            "baseline": round(t.baseline, 3),
        }
    f = FEATURES[t.feature]
    v = display(t.feature, t.value)
    b = display(t.feature, t.baseline)
    return {"code": f.name, "summary": f.summary.format(v=v, b=b), "value": round(v, 4), "baseline": round(b, 4)}
