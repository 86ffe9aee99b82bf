"""Scoring an account when one of its minutes closes: against its peers and its own history.

The score is a sum of per-feature contributions ``weight * clip(z, 0, z_cap)``, where ``z`` is
the feature's robust distance above the peer group's median; the account's own hourly-rate
surge (EW mean/var on its history) joins the volume group. Contributions are kept, so the
alert's reasons are exactly the largest terms of the score. :func:`severity` turns a verdict
into the severity policy's answer. Every tuning number comes in as a parameter (from
:class:`~distillwatch.models.config.AccountConfig`).
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

from distillwatch.models.account_state import AccountState
from distillwatch.models.config import AccountConfig
from distillwatch.models.features import FEATURES

SELF_SURGE: Final = -1  # pseudo feature index for the own-history term
# (index, weight, group) of each feature: read once here, not off the Feature objects for
# every feature of every scored minute
_WEIGHTED: Final = tuple((i, f.weight, f.group) for i, f in enumerate(FEATURES))


class Contribution(NamedTuple):
    """One term of the score, with what it measured and what is normal, for the alert's reasons.

    A named tuple, not a frozen dataclass: several are built per scored minute, and a tuple is
    several times cheaper to create."""

    feature: int  # index into FEATURES, or SELF_SURGE
    contribution: float
    value: float
    baseline: float


# Built straight from a tuple: a named tuple's own ``__new__`` is Python code (an interpreted call
# even from compiled code), ``tuple.__new__`` is C; the objects are the same.
_make = tuple.__new__


class AccountVerdict(NamedTuple):
    score: float
    volume: float  # largest volume-group contribution: "is it doing a lot?"
    harvest: float  # harvest-group sum: "is it after what distillers want?"
    automation: float  # automation-group sum: "is it scripted?" (enterprise backends are too)
    terms: tuple[Contribution, ...]  # largest first


def learn_self(st: AccountState, close_ts: float, alpha: float, spacing_s: float) -> None:
    """Add one sample (at most every ``spacing_s``) of the account's hourly request rate to its
    own-history baseline, an EW mean/variance fading by ``alpha``."""
    if close_ts - st.base_t < spacing_s:
        return
    st.base_t = close_ts
    x = math.log1p(st.r_hour)
    if st.base_n == 0:
        st.base_mean = x
    d = x - st.base_mean
    st.base_mean += alpha * d
    st.base_var = (1.0 - alpha) * (st.base_var + alpha * d * d)
    st.base_n += 1


def self_surge(st: AccountState, min_samples: int) -> tuple[float, float]:
    """Robust z of the last hour's requests against the account's own history, and that history
    (both 0 until the history holds ``min_samples`` samples)."""
    if st.base_n < min_samples:
        return 0.0, 0.0
    z = (math.log1p(st.r_hour) - st.base_mean) / math.sqrt(st.base_var + 0.25)
    return z, math.expm1(st.base_mean)


def score(
    x: list[float],
    baseline: tuple[list[float], list[float]] | None,
    self_z: float,
    self_baseline: float,
    hour_requests: float,
    risk: float,
    z_cap: float,
    automation_weight: float,
) -> AccountVerdict:
    """Score one feature vector; ``risk`` (>= 1) scales the signature for young, weakly verified
    accounts, the population campaigns are built from.

    >>> centre, spread = [0.0] * len(FEATURES), [1.0] * len(FEATURES)
    >>> x = [0.0] * len(FEATURES)
    >>> x[0], x[3] = 3.0, 20.0  # requests_day 3 spreads up, cot_share far beyond the cap
    >>> v = score(x, (centre, spread), 0.0, 0.0, 0.0, 1.5, 8.0, 0.5)
    >>> v.score, v.volume, v.harvest, v.automation  # cot: weight 1.5 * cap 8 * risk 1.5
    (21.0, 3.0, 18.0, 0.0)
    >>> [FEATURES[t.feature].name for t in v.terms]
    ['cot_share', 'requests_day']
    """
    if baseline is None:
        return AccountVerdict(0.0, 0.0, 0.0, 0.0, ())
    centre, spread = baseline
    terms: list[Contribution] = []
    volume = harvest = automation = 0.0
    for i, weight, group in _WEIGHTED:
        z = (x[i] - centre[i]) / spread[i]
        if z <= 0.0:
            continue
        c = weight * min(z, z_cap)
        if group == "volume":
            volume = max(volume, c)
        elif group == "harvest":
            c *= risk
            harvest += c
        else:
            c *= automation_weight * risk
            automation += c
        terms.append(_make(Contribution, (i, c, x[i], centre[i])))
    if self_z > 0.0:
        c = min(self_z, z_cap)
        volume = max(volume, c)
        terms.append(_make(Contribution, (SELF_SURGE, c, hour_requests, self_baseline)))
    terms.sort(key=lambda t: -t.contribution)
    return _make(AccountVerdict, (volume + harvest + automation, volume, harvest, automation, tuple(terms)))


def risk_factor(age_s: float, weak_verification: bool, vouched_org: bool, end_users: float, batch_share: float,
                cfg: AccountConfig) -> float:
    """How much a harvest signature counts for this account: the prior, from what a provider knows.

    1.0 for an established, verified account; up to 1.5 (defaults) for a brand-new unverified one.
    Lowered for the contexts a harvester rarely has: an established account of a vouched
    organisation (business/edu/research verification and an org, x ``risk_vouched``), and a
    product forwarding many distinct end users (x ``risk_product``). Traffic through the
    asynchronous Batch API is discounted (down to 0.4x): it is how evaluation and offline jobs,
    the main innocent look-alike of harvesting, are run.

    >>> cfg = AccountConfig()
    >>> risk_factor(float("nan"), True, False, 0.0, 0.0, cfg), risk_factor(400 * 86400.0, False, False, 0.0, 0.5, cfg)
    (1.5, 0.7)
    >>> risk_factor(400 * 86400.0, False, True, 5000.0, 0.0, cfg)  # a tutoring app: vouched org, a product
    0.125
    """
    r = 1.0
    if math.isnan(age_s) or age_s < cfg.young_s:
        r += cfg.risk_young
    if weak_verification:
        r += cfg.risk_weak
    if vouched_org and age_s >= cfg.established_s:
        r *= cfg.risk_vouched
    if end_users >= cfg.hub_end_users:
        r *= cfg.risk_product
    return r * (1.0 - cfg.batch_discount * min(1.0, batch_share))


def harvest_llr(requests: int, harvest_requests: int, p_harvester: float, p_benign: float) -> float:
    """Log-likelihood ratio of a minute's requests, harvester model against the benign one.

    Each request either asks for reasoning on distillable work (a *harvest request*) or not,
    independently with probability ``p_harvester`` under the harvester model and ``p_benign``
    under the benign one, so ``k`` harvest requests of ``n`` give
    ``k ln(p_h/p_b) + (n - k) ln((1 - p_h)/(1 - p_b))``. ``p_benign`` is capped at ``p_harvester``:
    an account whose baseline already looks like the harvester model gains no evidence from it.

    >>> round(harvest_llr(4, 3, 0.75, 0.05), 4)  # 3 ln 15 + ln(0.25/0.95)
    6.7891
    >>> round(harvest_llr(4, 0, 0.75, 0.05), 4)  # 4 ln(0.25/0.95): ordinary requests count against
    -5.34
    >>> harvest_llr(10, 9, 0.75, 0.9)
    0.0
    """
    p_b = min(p_benign, p_harvester)
    if p_b >= p_harvester:
        return 0.0
    return harvest_requests * math.log(p_harvester / p_b) + (requests - harvest_requests) * math.log(
        (1.0 - p_harvester) / (1.0 - p_b))


def sequential_step(evidence: float, llr: float, requests: int, risk: float, drift: float) -> float:
    """One CUSUM step per closed account-minute: ``max(0, S + risk * llr - drift * requests)``.

    The drift makes the walk fall for any account whose harvest requests are not clearly more
    frequent than its peers' (a person's occasional "show your steps"), and the floor at 0
    forgets old innocent history, so evidence builds only while a harvest signature persists,
    at the pace of the account's own requests, with no volume surge needed.

    >>> sequential_step(0.0, 6.7891, 4, 1.0, 0.3)
    5.5891
    >>> sequential_step(5.5891, -5.34, 4, 1.0, 0.3)
    0.0
    """
    return max(0.0, evidence + risk * llr - drift * requests)


class SequentialEvidence(NamedTuple):
    """What the sequential test has seen since its statistic last left 0: the alert's first reason."""

    nats: float
    threshold: float
    requests: int
    harvest: int
    benign_share: float  # the harvest share expected of this account (peers or its own history)
    hours: float


def track_run(st: AccountState, close_ts: float) -> None:
    """Count the closed minute into the current run of evidence (started afresh when the
    statistic leaves 0), so an alert can say what it saw and for how long."""
    if st.seq_s <= 0.0:
        st.seq_t0 = 0.0
        return
    if st.seq_t0 <= 0.0:
        st.seq_t0, st.seq_req, st.seq_harvest = close_ts - 60.0, 0.0, 0.0
    st.seq_req += st.win_req
    st.seq_harvest += st.win_harvest


def benign_share(st: AccountState, peer_share: float, close_ts: float, cfg: AccountConfig) -> float:
    """The share of harvest requests expected of this account if it is what it was.

    Its peers' CoT share (never below ``seq_benign_floor``), or, once the account has
    ``own_history_s`` of its own signature, the larger of that and its own: a steady workload
    that looked the same for weeks is its own baseline, while a change of mix above both
    still gathers evidence."""
    p = max(peer_share, cfg.seq_benign_floor)
    if st.sig_t0 > 0.0 and close_ts - st.sig_t0 >= cfg.own_history_s:
        p = max(p, st.sig_mean)
    return p


def learn_signature(st: AccountState, close_ts: float, tau_s: float) -> None:
    """Fold the closed minute's harvest-request share into the account's own signature, an EW
    mean in event time (``1 - exp(-dt/tau)`` per minute). Called only while the account gathers
    no sequential evidence, so a harvester cannot teach itself to look normal.

    >>> st = AccountState()
    >>> st.win_req, st.win_harvest = 4, 2
    >>> learn_signature(st, 600.0, 7 * 86400.0); (st.sig_mean, st.sig_t0)  # first minute: taken as is
    (0.5, 600.0)
    >>> st.win_harvest = 0
    >>> learn_signature(st, 600.0 + 86400.0, 7 * 86400.0); round(st.sig_mean, 4)  # a day later
    0.4334
    """
    x = st.win_harvest / st.win_req if st.win_req else 0.0
    if st.sig_t0 <= 0.0:
        st.sig_t0 = st.sig_t = close_ts
        st.sig_mean = x
        return
    a = 1.0 - math.exp(-(close_ts - st.sig_t) / tau_s)
    st.sig_t = close_ts
    st.sig_mean += a * (x - st.sig_mean)


def severity(verdict: AccountVerdict, requests_day: float, threshold: float, cfg: AccountConfig,
             harvest_share: float, evidence: float = 0.0) -> str:
    """The severity policy: a warning above the threshold; a page (``error``) needs volume, a
    harvest signature, a day's evidence and harvest requests together, or sequential harvest
    ``evidence`` (nats) past ``seq_threshold``; ``critical`` a far higher score at scale.

    ``harvest_share`` is the risk-weighted share of the day's requests that were *harvest
    requests* (reasoning asked for on distillable work, and a trace returned): what distillers
    want, in one request. The score's harvest terms are shares measured one by one (CoT,
    distillable mix, output ratio, new models), which evaluation jobs and coding agents reach
    separately without ever asking for traces; so the score pages only when at least
    ``page_harvest_share`` of the requests want all of it at once.

    >>> cfg = AccountConfig()
    >>> v = AccountVerdict(30.0, 3.0, 8.0, 1.0, ())
    >>> [severity(v, r, t, cfg, 0.5) for r, t in ((500.0, 40.0), (50.0, 12.0), (500.0, 12.0), (5000.0, 12.0))]
    ['none', 'warning', 'error', 'critical']
    >>> severity(v, 500.0, 12.0, cfg, 0.05)  # a batch job: CoT prompts, distillable work, few traces
    'warning'
    >>> severity(AccountVerdict(3.0, 0.0, 3.0, 0.0, ()), 20.0, 12.0, cfg, 0.0, evidence=16.5)
    'error'
    """
    sequential = evidence >= cfg.seq_threshold
    if verdict.score < threshold and not sequential:
        return "none"
    paging = sequential or requests_day >= cfg.error_requests_day and harvest_share >= cfg.page_harvest_share and (
        (verdict.volume >= cfg.error_volume and verdict.harvest >= cfg.error_harvest)
        # an overwhelming harvest signature needs less volume before it pages
        or (verdict.volume >= cfg.strong_volume and verdict.harvest >= cfg.strong_harvest)
    )
    if not paging:
        return "warning"
    if verdict.score >= cfg.critical_factor * threshold and requests_day >= cfg.critical_requests_day:
        return "critical"
    return "error"


__all__ = ["AccountVerdict", "Contribution", "FEATURES", "SELF_SURGE", "SequentialEvidence", "benign_share",
           "harvest_llr", "learn_self", "learn_signature", "risk_factor", "score", "self_surge", "sequential_step",
           "severity", "track_run"]
