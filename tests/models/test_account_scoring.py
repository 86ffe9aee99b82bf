"""Account score terms and severity policy, directly: a handful of inputs -> exact outputs."""

from __future__ import annotations

import math

import pytest

from distillwatch.models.account_scoring import (
    SELF_SURGE,
    AccountVerdict,
    learn_self,
    risk_factor,
    score,
    self_surge,
    severity,
)
from distillwatch.models.account_state import AccountState
from distillwatch.models.config import AccountConfig
from distillwatch.models.features import FEATURE_INDEX, N_FEATURES

CFG = AccountConfig()
CENTRE = [0.0] * N_FEATURES
SPREAD = [1.0] * N_FEATURES


def _x(**named: float) -> list[float]:
    x = [0.0] * N_FEATURES
    for name, v in named.items():
        x[FEATURE_INDEX[name]] = v
    return x


@pytest.mark.parametrize(("x", "self_z", "risk", "expected"), [
    # nothing above the peers: nothing scores
    (_x(), 0.0, 1.0, (0.0, 0.0, 0.0, 0.0)),
    # volume: the largest volume term counts, not the sum
    (_x(requests_day=2.0, output_tokens_hour=3.0, burst_5min=5.0), 0.0, 1.0, (3.0, 3.0, 0.0, 0.0)),
    # harvest terms add up and scale with risk; z is capped at 8
    (_x(cot_share=20.0, distillable_share=2.0), 0.0, 1.5, (21.0, 0.0, 21.0, 0.0)),
    # automation terms are halved, then scaled by risk
    (_x(template_repetition=5.0, distinct_ips=5.0), 0.0, 1.0, (3.0, 0.0, 0.0, 3.0)),
    # the own-history surge joins the volume group (capped too)
    (_x(requests_day=2.0), 12.0, 1.0, (8.0, 8.0, 0.0, 0.0)),
])
def test_score_one(x, self_z, risk, expected):
    v = score(x, (CENTRE, SPREAD), self_z, 40.0, 500.0, risk, CFG.z_cap, CFG.automation_weight)
    assert (v.score, v.volume, v.harvest, v.automation) == pytest.approx(expected)
    assert [t.contribution for t in v.terms] == sorted((t.contribution for t in v.terms), reverse=True)


def test_no_baseline_scores_zero_and_terms_name_their_feature():
    assert score(_x(cot_share=9.0), None, 0.0, 0.0, 0.0, 1.0, 8.0, 0.5) == AccountVerdict(0.0, 0.0, 0.0, 0.0, ())
    v = score(_x(cot_share=1.0), (CENTRE, SPREAD), 3.0, 40.0, 500.0, 1.0, 8.0, 0.5)
    assert [(t.feature, t.contribution, t.value, t.baseline) for t in v.terms] == [
        (SELF_SURGE, 3.0, 500.0, 40.0), (FEATURE_INDEX["cot_share"], 1.5, 1.0, 0.0)]


@pytest.mark.parametrize(("verdict", "requests_day", "threshold", "harvest_share", "expected"), [
    (AccountVerdict(11.9, 3.0, 8.0, 0.9, ()), 5000.0, 12.0, 0.5, "none"),  # below the threshold
    (AccountVerdict(14.0, 0.5, 13.0, 0.5, ()), 5000.0, 12.0, 0.5, "warning"),  # no volume
    (AccountVerdict(14.0, 3.0, 8.0, 3.0, ()), 99.0, 12.0, 0.5, "warning"),  # too little evidence
    (AccountVerdict(14.0, 3.0, 8.0, 3.0, ()), 100.0, 12.0, 0.5, "error"),
    (AccountVerdict(16.0, 1.5, 14.0, 0.5, ()), 100.0, 12.0, 0.5, "error"),  # strong harvest, less volume
    (AccountVerdict(16.0, 1.4, 14.0, 0.6, ()), 100.0, 12.0, 0.5, "warning"),
    # a batch job: volume and each harvest share high, yet few requests want a whole trace
    (AccountVerdict(24.0, 3.0, 18.0, 3.0, ()), 2000.0, 12.0, 0.149, "warning"),
    (AccountVerdict(24.0, 3.0, 18.0, 3.0, ()), 2000.0, 12.0, 0.15, "critical"),
    (AccountVerdict(23.9, 3.0, 18.0, 2.9, ()), 2000.0, 12.0, 0.5, "error"),  # not twice the threshold
])
def test_severity_policy(verdict, requests_day, threshold, harvest_share, expected):
    assert severity(verdict, requests_day, threshold, CFG, harvest_share) == expected


def test_risk_factor():
    week = CFG.young_s
    assert risk_factor(math.nan, True, False, 0.0, 0.0, CFG) == 1.5
    assert risk_factor(week - 1, False, False, 0.0, 0.0, CFG) == 1.25
    assert risk_factor(week, True, False, 0.0, 0.0, CFG) == 1.25
    assert risk_factor(week, False, False, 0.0, 1.0, CFG) == pytest.approx(0.4)


def test_own_history_needs_a_day_of_hourly_samples():
    st = AccountState()
    st.r_hour = math.expm1(2.0)  # log1p(rate) == 2
    for h in range(CFG.self_min_hours):
        assert self_surge(st, CFG.self_min_hours) == (0.0, 0.0)
        learn_self(st, 3600.0 * (h + 1), CFG.self_alpha, CFG.self_sample_s)
        learn_self(st, 3600.0 * (h + 1) + 60, CFG.self_alpha, CFG.self_sample_s)  # too soon: ignored
    assert st.base_n == CFG.self_min_hours
    assert st.base_mean == pytest.approx(2.0) and st.base_var == pytest.approx(0.0)
    st.r_hour = math.expm1(3.0)
    z, base = self_surge(st, CFG.self_min_hours)
    assert z == pytest.approx(1.0 / math.sqrt(0.25)) and base == pytest.approx(math.expm1(2.0))
