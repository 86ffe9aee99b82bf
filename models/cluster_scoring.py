"""Scoring a cluster (the accounts sharing one attribute value) as one campaign.

The score is the sum of six terms (members, aggregate volume, the members' harvest signature,
young accounts, synchronised activity, new members), scaled down when the value is a hub that
ordinary accounts share too. :func:`severity` is the cluster severity policy.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from distillwatch.models.cluster_state import HARVEST, YOUNG
from distillwatch.models.config import ClusterConfig
from distillwatch.models.timespans import DAY, MINUTE


class ClusterTerm(NamedTuple):
    """One term of the cluster score: its reason code, contribution, measured value and baseline."""

    code: str
    contribution: float
    value: Any  # float, except the members term's count: an int, which the alert keeps (4, not 4.0)
    baseline: float


class ClusterVerdict(NamedTuple):
    score: float
    members: int  # active members
    share: float  # harvest-like share of the accounts using the value (1: not a hub)
    signature: float  # the members' mean harvest score
    young: float  # share of young members
    sync: float  # how much more often than independent accounts they are active together
    terms: tuple[ClusterTerm, ...]  # in the fixed order above


def hub_share(member_days: int, user_days: int) -> float:
    """Share of the accounts using a value that look harvest-like: harvest-like member-days over
    the value's account-days, both over the previous and the current UTC day (``user_days`` from
    the degree sketch; 0: unknown, taken as 1). Counting both over the same two days keeps the
    share right on a value's first day and just after midnight.

    >>> hub_share(4, 0), hub_share(4, 3), hub_share(4, 40), hub_share(36, 67)
    (1.0, 1.0, 0.1, 0.5373134328358209)
    """
    return min(1.0, member_days / user_days) if user_days else 1.0


def verdict(
    active: list[tuple[str, list]],
    share: float,
    member_minutes: float,
    active_minutes: float,
    requests_day: float,
    new_hour: float,
    error_share: float,
) -> ClusterVerdict:
    """Score a cluster from its active members, its :func:`hub_share` and decayed counters.

    >>> members = [("a", [0, 0, 10, 900, 12.0, 1, 3, "e1"]), ("b", [0, 0, 9, 800, 8.0, 1, 3, "e2"]),
    ...            ("c", [0, 0, 11, 950, 10.0, 0, 6, "e3"])]
    >>> v = verdict(members, 1.0, 90.0, 30.0, 3000.0, 3.0, 0.5)
    >>> round(v.score, 4), v.members, v.share, v.signature, round(v.young, 4), round(v.sync, 4)
    (15.6797, 3, 1.0, 10.0, 0.6667, 2.88)
    >>> [(t.code, round(t.contribution, 3)) for t in v.terms]  # doctest: +NORMALIZE_WHITESPACE
    [('members', 3.0), ('aggregate_volume', 3.434), ('harvest_signature', 5.0),
     ('young_accounts', 1.333), ('synchronised', 1.526), ('new_members', 1.386)]
    """
    n = len(active)
    young = sum(m[YOUNG] for _, m in active) / n if n else 0.0
    sig = sum(m[HARVEST] for _, m in active) / n if n else 0.0
    concurrency = member_minutes / max(active_minutes, 1e-9)
    duty = member_minutes / max(1.0, n * (DAY / MINUTE))  # share of the day members were active
    sync = concurrency / (1.0 + max(0, n - 1) * duty)
    terms = (
        ClusterTerm("members", 1.5 * math.log2(1 + n), n, 1.0),
        ClusterTerm("aggregate_volume", max(0.0, math.log1p(requests_day / 100.0)), requests_day, 100.0),
        ClusterTerm("harvest_signature", sig / 2.0, sig, 0.0),
        ClusterTerm("young_accounts", 2.0 * young, young, 0.0),
        ClusterTerm("synchronised", min(3.0, max(0.0, math.log2(max(sync, 1e-9)))), sync, 1.0),
        ClusterTerm("new_members", math.log1p(new_hour), new_hour, 0.0),
    )
    total = sum(t.contribution for t in terms) * min(1.0, share / error_share)
    return ClusterVerdict(total, n, share, sig, young, sync, terms)


def severity(v: ClusterVerdict, threshold: float, requests_day: float, cfg: ClusterConfig) -> str:
    """The cluster severity policy: a warning for enough members above the threshold; a page when
    the campaign is big or strongly harvest-like, not a hub, and busy; critical when it is large.

    >>> cfg = ClusterConfig()
    >>> v = ClusterVerdict(16.0, 3, 1.0, 10.0, 0.7, 3.0, ())
    >>> severity(v, 20.0, 3000.0, cfg), severity(v, 10.0, 3000.0, cfg), severity(v, 10.0, 5.0, cfg)
    ('none', 'error', 'warning')
    >>> severity(v._replace(members=60), 10.0, 3000.0, cfg), severity(v._replace(members=2), 10.0, 3000.0, cfg)
    ('critical', 'none')
    """
    n = v.members
    if n < cfg.min_members or v.score < threshold:
        return "none"
    strong = n >= cfg.small_members or v.signature >= cfg.error_harvest_small
    if n >= cfg.error_members and strong and v.share >= cfg.error_share and requests_day >= cfg.error_requests_day:
        return "critical" if n >= cfg.critical_members else "error"
    return "warning"


def is_pool(attribute: str, v: ClusterVerdict, cfg: ClusterConfig, members: int | None = None) -> bool:
    """Whether a template cluster is a harvesting operation's prompt pool: several harvest-like
    accounts use it and almost nobody else does (a framework's shared system prompt is a hub).

    An evasive operation's accounts share nothing but their dispatcher and their pool, and each
    draws a different template of the pool each time, so every single template ties only a few
    of them and scores below the threshold; reported at ``warning`` they are joined by shared
    members into one campaign, which pages as soon as any member does (docs/detection.md, Campaigns).

    >>> cfg = ClusterConfig()
    >>> v = ClusterVerdict(9.0, 6, 1.0, 7.0, 0.0, 1.0, ())
    >>> is_pool("template", v, cfg), is_pool("tls", v, cfg), is_pool("template", v._replace(share=0.3), cfg)
    (True, False, False)
    >>> is_pool("template", v._replace(members=2), cfg), is_pool("template", v._replace(members=2), cfg, 2)
    (False, True)
    """
    return attribute == "template" and _harvesters_only(v, cfg, members or cfg.pool_members)


def is_shared_card(attribute: str, v: ClusterVerdict, cfg: ClusterConfig) -> bool:
    """Whether a payment card below the cluster threshold is shared by a few harvest-like accounts
    and few others: a second, independent tie for a prompt pool whose accounts it holds.

    An operation that hides its chain of thought gives no account enough harvest evidence to
    reach three members on one card, though it buys a card for every three to ten accounts; two
    harvest-like accounts on one card, most of whose users look harvest-like, are reported at
    ``info`` (no alert). The campaign stage lets such a card only *confirm* a prompt pool that
    already holds one of them (it founds nothing): accounts sharing private templates and paying
    with the same card are one operation.

    >>> cfg = ClusterConfig()
    >>> v = ClusterVerdict(9.0, 2, 0.75, 7.0, 0.0, 1.0, ())
    >>> is_shared_card("payment", v, cfg), is_shared_card("ip24", v, cfg)
    (True, False)
    >>> is_shared_card("payment", v._replace(share=0.4), cfg), is_shared_card("payment", v._replace(members=1), cfg)
    (False, False)
    """
    return attribute == "payment" and _harvesters_only(v, cfg, cfg.card_members)


def _harvesters_only(v: ClusterVerdict, cfg: ClusterConfig, members: int) -> bool:
    """``members`` harvest-like accounts on the value, ``pool_share`` of its users, their mean
    harvest at ``pool_harvest``: a value private to harvesting (a pool's template, a shared card)."""
    return v.members >= members and v.share >= cfg.pool_share and v.signature >= cfg.pool_harvest


__all__ = ["ClusterTerm", "ClusterVerdict", "hub_share", "is_pool", "is_shared_card", "severity", "verdict"]
