"""Scoring an account when one of its minutes closes: against its peers and its own history.

The score is a sum of per-feature contributions ``weight * clip(z, 0, z_cap)``, where ``z`` is
the feature's robust distance above the peer group's median; the account's own hourly-rate
surge (EW mean/var on its history) joins the volume group. Contributions are kept, so the
alert's reasons are exactly the largest terms of the score. :func:`severity` turns a verdict
into the severity policy's answer. Every tuning number comes in as a parameter (from
:class:`~models.config.AccountConfig`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from models.account_state import AccountState
from models.config import AccountConfig
from models.features import FEATURES, N_FEATURES

SELF_SURGE = -1  # pseudo feature index for the own-history term


class Contribution(NamedTuple):
    """One term of the score, with what it measured and what is normal, for the alert's reasons.

    A named tuple, not a frozen dataclass: several are built per scored minute, and a tuple is
    several times cheaper to create."""

    feature: int  # index into FEATURES, or SELF_SURGE
    contribution: float
    value: float
    baseline: float


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

    >>> centre, spread = [0.0] * N_FEATURES, [1.0] * N_FEATURES
    >>> x = [0.0] * N_FEATURES
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
    for i in range(N_FEATURES):
        z = (x[i] - centre[i]) / spread[i]
        if z <= 0.0:
            continue
        f = FEATURES[i]
        c = f.weight * min(z, z_cap)
        if f.group == "volume":
            volume = max(volume, c)
        elif f.group == "harvest":
            c *= risk
            harvest += c
        else:
            c *= automation_weight * risk
            automation += c
        terms.append(Contribution(i, c, x[i], centre[i]))
    if self_z > 0.0:
        c = min(self_z, z_cap)
        volume = max(volume, c)
        terms.append(Contribution(SELF_SURGE, c, hour_requests, self_baseline))
    terms.sort(key=lambda t: -t.contribution)
    return AccountVerdict(volume + harvest + automation, volume, harvest, automation, tuple(terms))


def risk_factor(age_s: float, weak_verification: bool, batch_share: float, cfg: AccountConfig) -> float:
    """1.0 for established, verified accounts; up to 1.5 (defaults) for a brand-new unverified one.

    Traffic through the asynchronous Batch API is discounted (down to 0.4x): it is how
    evaluation and offline jobs, the main innocent look-alike of harvesting, are run.

    >>> cfg = AccountConfig()
    >>> risk_factor(float("nan"), True, 0.0, cfg), risk_factor(400 * 86400.0, False, 0.5, cfg)
    (1.5, 0.7)
    """
    r = 1.0
    if math.isnan(age_s) or age_s < cfg.young_s:
        r += cfg.risk_young
    if weak_verification:
        r += cfg.risk_weak
    return r * (1.0 - cfg.batch_discount * min(1.0, batch_share))


def severity(verdict: AccountVerdict, requests_day: float, threshold: float, cfg: AccountConfig) -> str:
    """The severity policy: a warning above the threshold; a page (``error``) needs volume, a
    harvest signature and a day's evidence together; ``critical`` a far higher score at scale.

    >>> cfg = AccountConfig()
    >>> v = AccountVerdict(30.0, 3.0, 8.0, 1.0, ())
    >>> [severity(v, r, t, cfg) for r, t in ((500.0, 40.0), (50.0, 12.0), (500.0, 12.0), (5000.0, 12.0))]
    ['none', 'warning', 'error', 'critical']
    """
    if verdict.score < threshold:
        return "none"
    paging = requests_day >= cfg.error_requests_day and (
        (verdict.volume >= cfg.error_volume and verdict.harvest >= cfg.error_harvest)
        # an overwhelming harvest signature needs less volume before it pages
        or (verdict.volume >= cfg.strong_volume and verdict.harvest >= cfg.strong_harvest)
    )
    if not paging:
        return "warning"
    if verdict.score >= cfg.critical_factor * threshold and requests_day >= cfg.critical_requests_day:
        return "critical"
    return "error"


__all__ = ["AccountVerdict", "Contribution", "FEATURES", "SELF_SURGE", "learn_self", "risk_factor", "score",
           "self_surge", "severity"]
