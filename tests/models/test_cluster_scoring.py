"""Cluster score terms and severity policy, directly: a handful of inputs -> exact outputs."""

from __future__ import annotations

import math

import pytest

from distillwatch.models.cluster_scoring import ClusterVerdict, hub_share, severity, verdict
from distillwatch.models.config import ClusterConfig

CFG = ClusterConfig()


def _members(sigs: list[float], young: list[int]) -> list[tuple[str, list]]:
    return [(f"a{i}", [0.0, 0.0, 10, 100, s, y, 3, f"e{i}"]) for i, (s, y) in enumerate(zip(sigs, young, strict=True))]


@pytest.mark.parametrize(("sigs", "young", "share", "minutes", "req", "new", "expected"), [
    # one member, nothing else: log2(2) * 1.5
    ([6.0], [0], 1.0, (1.0, 1.0), 0.0, 0.0, 1.5 + 3.0),
    # three young harvesters always active together
    ([10.0, 10.0, 10.0], [1, 1, 1], 1.0, (30.0, 10.0), 0.0, 0.0,
     3.0 + 5.0 + 2.0 + math.log2(3 / (1 + 2 * 30 / 4320))),
    # a hub: share 0.1 (4 harvest-like member-days of 40 account-days), score scaled by 0.1 / 0.33
    ([10.0] * 4, [0] * 4, 0.1, (4.0, 4.0), 900.0, 0.0,
     (1.5 * math.log2(5) + math.log1p(9.0) + 5.0) * 0.1 / 0.33),
])
def test_score_one(sigs, young, share, minutes, req, new, expected):
    v = verdict(_members(sigs, young), share, *minutes, req, new, CFG.error_share)
    assert v.score == pytest.approx(expected)
    assert v.members == len(sigs)
    assert [t.code for t in v.terms] == ["members", "aggregate_volume", "harvest_signature", "young_accounts",
                                         "synchronised", "new_members"]


def test_hub_share():
    assert hub_share(4, 0) == 1.0
    assert hub_share(4, 3) == 1.0  # a member's value changed after its daily report: never above 1
    assert hub_share(4, 40) == pytest.approx(0.1)


@pytest.mark.parametrize(("members", "score", "sig", "share", "req", "expected"), [
    (2, 50.0, 20.0, 1.0, 1e4, "none"),  # a pair is never a campaign
    (3, 9.9, 20.0, 1.0, 1e4, "none"),  # below the threshold (10)
    (3, 12.0, 9.0, 1.0, 1e4, "warning"),  # small and not strongly harvest-like
    (3, 12.0, 10.0, 1.0, 1e4, "error"),
    (5, 12.0, 2.0, 1.0, 1e4, "error"),  # big enough
    (5, 12.0, 2.0, 0.3, 1e4, "warning"),  # mostly ordinary accounts on the value
    (5, 12.0, 2.0, 1.0, 29.0, "warning"),  # too quiet
    (50, 12.0, 2.0, 1.0, 1e4, "critical"),
])
def test_severity_policy(members, score, sig, share, req, expected):
    v = ClusterVerdict(score, members, share, sig, 0.0, 1.0, ())
    assert severity(v, 10.0, req, CFG) == expected
