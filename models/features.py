"""The feature vector of an account, read off its state when one of its minutes closes.

Each feature says which way is suspicious and how to describe it to an on-call person, so that
an alert's reasons are produced from exactly the numbers that drove its score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from distillwatch.models.account_state import EST, HLL_END_USER, HLL_IP, HLL_PROMPT, HOURS, AccountState
from distillwatch.models.sketches import entropy_share


@dataclass(frozen=True)
class Feature:
    """One scored feature: its name, the weight of its contribution and how a person reads it."""

    name: str
    group: str  # "volume" (how much), "harvest" (what distillers want) or "automation" (how scripted)
    weight: float
    min_scale: float  # floor for the peer spread, so a flat peer group does not make noise huge
    summary: str  # format string over value (shown) and baseline


FEATURES: tuple[Feature, ...] = (
    Feature("requests_day", "volume", 1.0, 0.7, "{v:,.0f} requests in the last day (peers: {b:,.0f})"),
    Feature("output_tokens_hour", "volume", 1.0, 0.7,
            "{v:,.0f} output tokens in the last hour (peers: {b:,.0f})"),
    Feature("burst_5min", "volume", 0.6, 0.7, "{v:,.0f} requests in the last 5 minutes (peers: {b:,.0f})"),
    Feature("cot_share", "harvest", 1.5, 0.08,
            "{v:.0%} of prompts ask the model to spell out its reasoning (peers: {b:.0%})"),
    Feature("template_repetition", "automation", 0.8, 0.1,
            "{v:.0%} of prompts reuse a template skeleton (peers: {b:.0%})"),
    Feature("prompt_coverage", "automation", 0.5, 0.5,
            "{v:,.0f} distinct prompts filled into those templates (peers: {b:,.0f})"),
    Feature("distillable_share", "harvest", 1.0, 0.1,
            "{v:.0%} of requests are coding/agentic/math/reasoning (peers: {b:.0%})"),
    Feature("output_ratio", "harvest", 0.8, 0.4,
            "output/input token ratio {v:.2f} (peers: {b:.2f})"),
    Feature("max_token_saturation", "automation", 0.6, 0.08,
            "{v:.0%} of completions hit max_tokens (peers: {b:.0%})"),
    Feature("rate_limited_share", "automation", 0.6, 0.05, "{v:.0%} of requests were rate-limited (peers: {b:.0%})"),
    Feature("round_the_clock", "automation", 0.5, 0.08,
            "activity spread over {v:.0%} of the day's hours-entropy (peers: {b:.0%})"),
    Feature("timing_regularity", "automation", 0.5, 0.1,
            "inter-arrival regularity {v:.2f} (1 = machine-like; peers: {b:.2f})"),
    Feature("distinct_ips", "automation", 0.4, 0.5, "{v:,.0f} distinct source IPs (peers: {b:,.0f})"),
    Feature("new_model_share", "harvest", 1.0, 0.1,
            "{v:.0%} of requests on a model released in the last 48 h (peers: {b:.0%})"),
)
FEATURE_INDEX: Final = {f.name: i for i, f in enumerate(FEATURES)}
N_FEATURES: Final = len(FEATURES)

# Features shown in log space to the models but in natural units to people.
_LOG_FEATURES: Final = frozenset(
    ("requests_day", "output_tokens_hour", "burst_5min", "prompt_coverage", "distinct_ips")
)
_OUTPUT_RATIO: Final = FEATURE_INDEX["output_ratio"]


def extract(st: AccountState) -> list[float]:
    """The model-space feature vector (log-scaled where counts are heavy-tailed)."""
    r_day = max(st.r_day, 1e-9)
    sd = math.sqrt(max(st.gap_var, 0.0))
    return [
        math.log1p(st.r_day),
        math.log1p(st.out_hour),
        math.log1p(st.r_fast),
        st.cot_day / r_day,
        st.rep_day / r_day,
        math.log1p(st.distinct(HLL_PROMPT)),
        st.distill_day / r_day,
        math.log((st.out_day + 1.0) / (st.in_day + 1.0)),
        st.sat_day / r_day,
        st.e429_day / r_day,
        entropy_share(st.weights[HOURS:EST].tolist()),
        1.0 / (1.0 + sd),
        math.log1p(st.distinct(HLL_IP)),
        st.newmodel_day / r_day,
    ]


def display(index: int, x: float) -> float:
    """A model-space value converted back to the units a person reads."""
    f = FEATURES[index]
    if f.name in _LOG_FEATURES:
        return math.expm1(x)
    if index == _OUTPUT_RATIO:
        return math.exp(x)
    return x


def end_users(st: AccountState) -> float:
    """Distinct forwarded end-user ids: many means the account is a router/aggregator, a hub."""
    return st.distinct(HLL_END_USER)
