"""What the detector reports: alert objects (alert.md), their reasons in words, and the
aggregate rows for ClickHouse, for both stages. Processors decide; this module only writes up,
from exactly the numbers the decision used."""

from __future__ import annotations

import math
from typing import Final

from distillwatch.models.account_scoring import SELF_SURGE, AccountVerdict, Contribution, SequentialEvidence
from distillwatch.models.account_state import (
    HLL_ASN,
    HLL_IP,
    HLL_PROMPT,
    HLL_ROUTER,
    HLL_TLS,
    AccountState,
    verification_name,
)
from distillwatch.models.alerts import MAX_ACCOUNTS, MAX_SAMPLE_EVENTS, make_alert
from distillwatch.models.campaign_state import (
    C_ATTRIBUTE,
    C_MEMBERS,
    C_OUTPUT_TOKENS,
    C_REQUESTS,
    C_SAMPLES,
    C_VALUE,
    M_CONTRIBUTION,
    M_JOINED,
    M_VIA,
    CampaignState,
)
from distillwatch.models.cluster_scoring import ClusterTerm, ClusterVerdict
from distillwatch.models.cluster_state import (
    FIRST_SEEN,
    LAST_EVENT,
    LAST_SEEN,
    OUTPUT_TOKENS,
    REQUESTS,
    TOP_FEATURE,
    ClusterState,
)
from distillwatch.models.cluster_state import HARVEST as MEMBER_HARVEST
from distillwatch.models.features import FEATURES, display
from distillwatch.models.links import Report
from distillwatch.models.timespans import DAY, MINUTE

ACCOUNT_REASONS = 5  # score terms shown as an account alert's reasons


# -- account stage ------------------------------------------------------------------------------

def account_minute_row(acc: str, st: AccountState, minute: int, group: str) -> dict:
    """The ``account_minute`` row of the account's just-closed minute (one per closed account-minute:
    written for compiled code, which calls ``st.distinct`` natively but ``round`` and a bound method
    held in a local through CPython's generic call, ~1,000 instructions each)."""
    win_req = st.win_req
    return {
        "account_id": acc,
        "minute": minute * 60,
        "requests": win_req,
        "input_tokens": int(st.win_in),
        "output_tokens": int(st.win_out),
        "reasoning_tokens": int(st.win_reasoning),
        "rate_limited": st.win_429,
        "saturated": st.win_sat,
        "cot_share": st.win_cot / win_req if win_req else 0.0,
        "distinct_ips": round_count(st.distinct(HLL_IP)),
        "distinct_asns": round_count(st.distinct(HLL_ASN)),
        "distinct_tls": round_count(st.distinct(HLL_TLS)),
        "distinct_routers": round_count(st.distinct(HLL_ROUTER)),
        "distinct_prompts": round_count(st.distinct(HLL_PROMPT)),
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


def round_count(x: float) -> int:
    """``round(x)`` (halves to even) of a finite ``x >= 0``, such as a sketch's estimate, in a form
    compiled code runs natively: ``x - floor(x)`` is exact for such ``x`` (Sterbenz), so the
    comparisons with 0.5 decide exactly as ``round`` does.

    >>> [round_count(v) for v in (0.0, 0.5, 1.5, 2.5, 2.4999999999999996, 7.6, 2.0**60)] == [0, 0, 2, 2, 2, 8, 2**60]
    True
    """
    whole = math.floor(x)
    frac = x - whole
    if frac > 0.5 or (frac == 0.5 and whole % 2 == 1):
        return whole + 1
    return whole


def account_alert(acc: str, st: AccountState, severity: str, verdict: AccountVerdict, threshold: float,
                  close_ts: float, group: str, sequential: SequentialEvidence | None = None) -> dict:
    """The alert for the account's incident at its current ``alert_seq``.

    When the sequential harvest evidence is past its threshold (``sequential``), that evidence
    leads the reasons and is the alert's score and threshold (nats): the peer score may be far
    below its own threshold for a patient harvester, and an on-call person must see what paged."""
    reasons = [_account_reason(t) for t in verdict.terms[:ACCOUNT_REASONS]]
    score = verdict.score
    if sequential is not None:
        reasons.insert(0, _sequential_reason(sequential))
        score, threshold = sequential.nats, sequential.threshold
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
    if st.org:
        evidence["org"] = st.org  # what an org suppression (an analyst's "this org is fine") matches
    return make_alert(
        kind="account", subject=acc, accounts=[acc], accounts_total=1, severity=severity,
        score=score, threshold=threshold, detected_at=close_ts,
        window_start=close_ts - DAY,  # the horizon of the day counters behind the evidence
        reasons=reasons, evidence=evidence, links=[], seq=st.alert_seq,
    )


def _sequential_reason(e: SequentialEvidence) -> dict:
    """The sequential test's evidence in words.

    >>> print(_sequential_reason(SequentialEvidence(17.04, 16.0, 40, 27, 0.1, 2.5))["summary"])
    27 of the last 40 requests asked for reasoning traces on coding/maths/reasoning work — about 7 times
    the rate expected of it (peers or own history: 10%), sustained for 2.5 hours
    """
    rate = e.harvest / e.requests / e.benign_share if e.requests and e.benign_share > 0.0 else 0.0
    return {
        "code": "sequential_evidence",
        "summary": (f"{e.harvest:,} of the last {e.requests:,} requests asked for reasoning traces on "
                    f"coding/maths/reasoning work — about {rate:.0f} times the rate expected of it "
                    f"(peers or own history: {e.benign_share:.0%}), sustained for {e.hours:.1f} hours"),
        "value": round(e.nats, 3),
        "baseline": round(e.threshold, 3),
    }


def _account_reason(t: Contribution) -> dict:
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


# -- cluster stage ------------------------------------------------------------------------------

def cluster_minute_row(key: str, cl: ClusterState, ts: float, v: ClusterVerdict, severity: str) -> dict:
    """The ``cluster_minute`` row of a scored cluster."""
    return {
        "cluster_id": key, "attribute": cl.attr, "value": cl.value, "minute": ts - MINUTE,
        "members_active": v.members, "members_total": len(cl.members), "requests_day": round(cl.req_day, 2),
        "output_tokens_day": round(cl.out_day, 2), "new_members_hour": round(cl.new_hour, 3),
        "hub_share": round(v.share, 4), "young_share": round(v.young, 4), "sync": round(v.sync, 3),
        "score": round(v.score, 4), "severity": severity,
    }


def cluster_member_rows(key: str, active: list[tuple[str, list]], ts: float, limit: int) -> list[tuple[str, dict]]:
    """``cluster_member`` rows of the first ``limit`` active members (highest contribution first)."""
    return [("cluster_member", {
        "cluster_id": key, "account_id": acc, "snapshot_at": ts, "first_seen": m[FIRST_SEEN],
        "last_seen": m[LAST_SEEN], "requests": m[REQUESTS], "output_tokens": m[OUTPUT_TOKENS],
        "harvest_score": m[MEMBER_HARVEST],
    }) for acc, m in active[:limit]]


def cluster_alert(key: str, cl: ClusterState, severity: str, active: list[tuple[str, list]], v: ClusterVerdict,
                  threshold: float, ts: float) -> dict:
    """The alert for the cluster's incident at its current ``alert_seq``; ``active`` sorted."""
    accounts = [a for a, _ in active]
    words = _cluster_summaries(cl, active, v.terms)
    reasons = [
        {"code": code, "summary": words[code], "value": round(value, 4), "baseline": base}
        for code, c, value, base in sorted(v.terms, key=lambda t: -t.contribution) if c > 0
    ]
    reasons.append({"code": "hub_share", "summary": (
        f"{v.share:.0%} of the accounts seen on this {cl.attr} look harvest-like (a shared NAT or "
        "popular SDK would be far lower)"), "value": round(v.share, 4), "baseline": 0.5})
    samples = sorted({m[LAST_EVENT] for _, m in active[:MAX_SAMPLE_EVENTS] if m[LAST_EVENT]})
    evidence = {
        "requests": round(cl.req_day),
        "output_tokens": round(cl.out_day),
        "members": len(active),
        "sample_event_ids": samples,
    }
    return make_alert(
        kind="cluster", subject=key, accounts=accounts, accounts_total=len(accounts),
        severity=severity, score=v.score, threshold=threshold, detected_at=ts,
        window_start=max(cl.first_ts, ts - DAY), reasons=reasons, evidence=evidence,
        links=[{"attribute": cl.attr, "value": cl.value, "accounts": len(accounts)}],
        seq=cl.alert_seq,
    )


def _cluster_summaries(cl: ClusterState, active: list[tuple[str, list]],
                       terms: tuple[ClusterTerm, ...]) -> dict[str, str]:
    """The alert's reasons in words, from exactly the values the score used."""
    v = {t.code: t.value for t in terms}
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


def cluster_report(minute: int, key: str, cl: ClusterState, severity: str, active: list[tuple[str, list]],
                   v: ClusterVerdict, threshold: float) -> Report:
    """What the campaign stage learns of a cluster scored at ``severity``; ``active`` sorted."""
    members = [[a, round_contribution(m[REQUESTS] * m[MEMBER_HARVEST])] for a, m in active[:MAX_ACCOUNTS]]
    samples = sorted({m[LAST_EVENT] for _, m in active[:MAX_SAMPLE_EVENTS] if m[LAST_EVENT]})
    return Report(minute, key, cl.attr, cl.value, severity, round(v.score, 4), round(threshold, 4),
                  round(v.share, 4), round(cl.req_day), round(cl.out_day), members, samples)


# round(contribution, 3) of the members of cluster reports (up to 1,000 each, every minute a cluster
# reports): most members' contribution is the same as in the cluster's last report, and ``round`` to
# digits is a correctly rounded decimal conversion (~2,500 instructions): ~3 % of replay's time on the
# benchmark stream. Bounded; the function is pure, so what it holds never changes a result.
_ROUNDED: dict[float, float] = {}
_ROUNDED_MAX: Final = 1 << 16


def round_contribution(x: float) -> float:
    """``round(x, 3)``, memoised (not for zero: ``0.0`` and ``-0.0`` are one key, two results)."""
    r = _ROUNDED.get(x)
    if r is None:
        r = round(x, 3)
        if x != 0.0:
            if len(_ROUNDED) >= _ROUNDED_MAX:
                _ROUNDED.clear()
            _ROUNDED[x] = r
    return r


def _short(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def _top_feature(active: list[tuple[str, list]]) -> str:
    counts: dict[int, int] = {}
    for _, m in active:
        top = m[TOP_FEATURE]
        if top >= 0:
            counts[top] = counts.get(top, 0) + 1
    if not counts:
        return ""
    top = max(sorted(counts), key=lambda k: counts[k])
    return f"; most common: {FEATURES[top].name.replace('_', ' ')}"


# -- campaign stage -----------------------------------------------------------------------------

MAX_LINKS = 50  # clusters listed in a campaign alert's links


def campaign_alert(c: CampaignState, severity: str, ts: float, added: list[str], action: str) -> dict:
    """The alert for the campaign's incident at its current ``alert_seq``: ``trigger`` with the
    accounts that joined since its previous alert (``added``), or the ``resolve`` that closes it."""
    ranked = sorted(c.members.items(), key=lambda am: (-am[1][M_CONTRIBUTION], am[0]))
    clusters = sorted(c.clusters.items(), key=lambda kc: (-kc[1][C_MEMBERS], kc[0]))
    links = [{"attribute": cl[C_ATTRIBUTE], "value": cl[C_VALUE], "accounts": cl[C_MEMBERS]}
             for _, cl in clusters[:MAX_LINKS]]
    n = len(c.members)
    via_accounts = sum(1 for m in c.members.values() if m[M_VIA] == "account")
    reasons = [
        {"code": "campaign_members", "summary": f"{n} accounts act as one operation, tied by {len(c.clusters)} "
         "shared attribute value(s) that ordinary accounts do not share", "value": n, "baseline": 1},
        {"code": "linked_by", "summary": "; ".join(
            f"{link['accounts']} share {link['attribute']} {_short(link['value'])}" for link in links[:5]),
         "value": len(c.clusters), "baseline": 0},
    ]
    if via_accounts:
        reasons.append({"code": "accounts_paged", "summary": f"{via_accounts} member account(s) page on their own "
                        "behaviour (their account alerts stay below paging: this incident covers them)",
                        "value": via_accounts, "baseline": 0})
    if added and action == "trigger":
        reasons.append({"code": "accounts_added", "summary": f"{len(added)} account(s) joined since the previous "
                        "alert", "value": len(added), "baseline": 0})
    if action == "resolve":
        reasons.insert(0, {"code": "quiet", "summary": "no member active in a harvest-like way for "
                           f"{(ts - c.last_ts) / 3600:.1f} h: the operation went quiet",
                           "value": round(ts - c.last_ts), "baseline": 0})
    samples = sorted({e for cl in c.clusters.values() for e in cl[C_SAMPLES]} | set(c.samples))[:MAX_SAMPLE_EVENTS]
    evidence = {
        "requests": max((cl[C_REQUESTS] for cl in c.clusters.values()), default=0),
        "output_tokens": max((cl[C_OUTPUT_TOKENS] for cl in c.clusters.values()), default=0),
        "members": n,
        "clusters": len(c.clusters),
        "sample_event_ids": samples,
    }
    alert = make_alert(
        kind="campaign", subject=c.id, accounts=[a for a, _ in ranked], accounts_total=n, severity=severity,
        score=c.score, threshold=c.threshold, detected_at=ts, window_start=c.created, reasons=reasons,
        evidence=evidence, links=links, seq=c.alert_seq,
    )
    return _with_action(alert, action, added[:MAX_ACCOUNTS])


def _with_action(alert: dict, action: str, added: list[str]) -> dict:
    """``action`` after ``kind`` and ``accounts_added`` after ``accounts_total``, as alert.md lists them."""
    out = {}
    for k, v in alert.items():
        out[k] = v
        if k == "kind":
            out["action"] = action
        elif k == "accounts_total":
            out["accounts_added"] = added
    return out


def campaign_member_rows(c: CampaignState, accounts: list[str], ts: float) -> list[tuple[str, dict]]:
    """``campaign_member`` rows of ``accounts`` at an alert of the campaign."""
    return [("campaign_member", {
        "campaign_id": c.id, "account_id": a, "joined_at": c.members[a][M_JOINED], "snapshot_at": ts,
        "contribution": c.members[a][M_CONTRIBUTION], "via": c.members[a][M_VIA],
    }) for a in accounts]


__all__ = ["account_alert", "account_minute_row", "campaign_alert", "campaign_member_rows", "cluster_alert",
           "cluster_member_rows", "cluster_minute_row", "cluster_report"]
