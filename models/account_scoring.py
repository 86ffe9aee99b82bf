"""Scoring an account when one of its minutes closes: against its peers and its own history.

The score is a sum of per-feature contributions ``weight * clip(z, 0, 8)``, where ``z`` is the
feature's robust distance above the peer group's median; the account's own hourly-rate surge
(EW mean/var on its history) joins the volume group. Contributions are kept, so the alert's
reasons are exactly the largest terms of the score.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from models.account_state import AccountState
from models.features import FEATURES, N_FEATURES

Z_CAP = 8.0
SELF_MIN_HOURS = 24  # own-history baseline counts only after a day of hourly samples
SELF_ALPHA = 0.05  # EW fading of the own-history baseline (about a day of hourly samples)
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


def learn_self(st: AccountState, close_ts: float) -> None:
    """Add one hourly sample of the account's request rate to its own-history baseline."""
    if close_ts - st.base_t < 3600.0:
        return
    st.base_t = close_ts
    x = math.log1p(st.r_hour)
    if st.base_n == 0:
        st.base_mean = x
    d = x - st.base_mean
    st.base_mean += SELF_ALPHA * d
    st.base_var = (1.0 - SELF_ALPHA) * (st.base_var + SELF_ALPHA * d * d)
    st.base_n += 1


def self_surge(st: AccountState) -> tuple[float, float]:
    """Robust z of the last hour's requests against the account's own history, and that history."""
    if st.base_n < SELF_MIN_HOURS:
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
) -> AccountVerdict:
    """Score one feature vector; ``risk`` (>= 1) scales the signature for young, weakly verified
    accounts, the population campaigns are built from."""
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
        c = f.weight * min(z, Z_CAP)
        if f.group == "volume":
            volume = max(volume, c)
        elif f.group == "harvest":
            c *= risk
            harvest += c
        else:
            c *= 0.5 * risk  # scripted traffic alone is ordinary for API customers
            automation += c
        terms.append(Contribution(i, c, x[i], centre[i]))
    if self_z > 0.0:
        c = min(self_z, Z_CAP)
        volume = max(volume, c)
        terms.append(Contribution(SELF_SURGE, c, hour_requests, self_baseline))
    terms.sort(key=lambda t: -t.contribution)
    return AccountVerdict(volume + harvest + automation, volume, harvest, automation, tuple(terms))


def risk_factor(age_s: float, weak_verification: bool, batch_share: float) -> float:
    """1.0 for established, verified accounts; up to 1.5 for a brand-new unverified one.

    Traffic through the asynchronous Batch API is discounted (down to 0.4x): it is how
    evaluation and offline jobs, the main innocent look-alike of harvesting, are run."""
    r = 1.0
    if math.isnan(age_s) or age_s < 7 * 86400.0:
        r += 0.25
    if weak_verification:
        r += 0.25
    return r * (1.0 - 0.6 * min(1.0, batch_share))


__all__ = ["AccountVerdict", "Contribution", "FEATURES", "learn_self", "risk_factor", "score", "self_surge"]
