"""The feature vector and the feature names cannot drift apart: each value is checked by name."""

from __future__ import annotations

import math

import pytest

from distillwatch.models.account_state import EST, HLL_IP, HLL_PROMPT, HOURS, AccountState
from distillwatch.models.features import FEATURE_INDEX, FEATURES, N_FEATURES, extract
from distillwatch.models.sketches import entropy_share


def _crafted() -> AccountState:
    """A state whose counters all differ, so a swapped or missing feature shows."""
    st = AccountState()
    st.r_day, st.out_hour, st.r_fast = 1000.0, 50_000.0, 40.0
    st.cot_day, st.rep_day, st.distill_day = 900.0, 800.0, 700.0
    st.out_day, st.in_day = 600_000.0, 30_000.0
    st.sat_day, st.e429_day, st.newmodel_day = 500.0, 100.0, 300.0
    st.gap_var = 0.64
    for h in range(12):
        st.weights[HOURS + h] = 1.0
    st.weights[EST + HLL_PROMPT] = 250.0
    st.weights[EST + HLL_IP] = 12.0
    return st


EXPECTED = {
    "requests_day": math.log1p(1000.0),
    "output_tokens_hour": math.log1p(50_000.0),
    "burst_5min": math.log1p(40.0),
    "cot_share": 0.9,
    "template_repetition": 0.8,
    "prompt_coverage": math.log1p(250.0),
    "distillable_share": 0.7,
    "output_ratio": math.log(600_001.0 / 30_001.0),
    "max_token_saturation": 0.5,
    "rate_limited_share": 0.1,
    "round_the_clock": entropy_share([1.0] * 12 + [0.0] * 12),
    "timing_regularity": 1.0 / 1.8,
    "distinct_ips": math.log1p(12.0),
    "new_model_share": 0.3,
}


def test_extract_gives_every_named_feature_in_order():
    x = extract(_crafted())
    assert len(x) == N_FEATURES == len(FEATURES) == len(FEATURE_INDEX)
    assert [f.name for f in FEATURES] == list(EXPECTED)
    for name, value in EXPECTED.items():
        assert x[FEATURE_INDEX[name]] == pytest.approx(value), name
