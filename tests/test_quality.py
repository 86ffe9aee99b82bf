"""Regression guard for detection quality: simulate -> replay -> evaluate on a seeded world.

Floors from the evaluation issue (severity error or higher counts as detected). Where the
detector does not meet a floor yet, the test pins the level it does reach instead, so a
regression still fails, and says so; docs/detection.md reports the gap.

Two worlds of seed 23: the core world (the first six attack scenarios and seven benign
populations, on which the floors were set) and the full default world, which adds the stealthy
attacks and benign look-alikes of issues 11 and 12. Their numbers are pinned at today's measured
levels: those are the gaps issues 11 and 12 close, so the pins move up (or down, for benign) as
they are closed.
"""

import io

import pytest

from streams.replay import replay
from streams.simulation.evaluate import evaluate
from streams.simulation.lookalikes import LOOKALIKES
from streams.simulation.stealth import SCENARIOS as STEALTH
from streams.simulation.world import simulate

SEED = 23  # not the seed the detector was tuned on (7)
CORE_ONLY = {name: 0.0 for name in (*LOOKALIKES, *STEALTH)}
CORE_SCENARIOS = ("bulk_harvest", "hydra", "cot_coercion", "rate_limit_sharding", "release_chasing", "slow_and_low")


def _report(d, mix):
    simulate(d / "events.jsonl", d / "labels.csv", seed=SEED, accounts=300, hours=24, mix=mix)
    with open(d / "alerts.jsonl", "wb") as out:
        replay([str(d / "events.jsonl")], out, io.BytesIO())
    return evaluate(d / "labels.csv", d / "alerts.jsonl", min_severity="error", world_days=1.0)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return _report(tmp_path_factory.mktemp("quality"), CORE_ONLY)


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    return _report(tmp_path_factory.mktemp("quality-full"), None)


def test_every_attack_scenario_meets_recall_and_precision(report):
    assert set(report["scenarios"]) == set(CORE_SCENARIOS)
    for name, s in report["scenarios"].items():
        assert s["recall"] >= 0.90, (name, s)
        assert s["precision"] >= 0.90, (name, s)


def test_benign_accounts_implicated(report):
    benign = report["benign"]
    # floor: <= 0.2 % of benign accounts. Measured here: 1 of 299 (0.33 %): a gap, pinned.
    assert benign["implicated"] <= 1, benign
    for name, pop in report["benign"]["populations"].items():
        assert pop["implicated"] <= 1, (name, pop)


def test_time_to_detect(report):
    s = report["scenarios"]
    assert s["hydra"]["ttd_median_min"] <= 6 * 60
    assert s["slow_and_low"]["ttd_median_min"] <= 6 * 60
    assert s["bulk_harvest"]["ttd_median_min"] <= 30


def test_core_scenarios_keep_their_recall_in_the_full_world(full):
    for name in CORE_SCENARIOS:
        assert full["scenarios"][name]["recall"] >= 0.90, (name, full["scenarios"][name])
    # measured: bulk harvesting pages at 83 min here (17 in the core world): the look-alikes raise
    # the peers' output and reasoning baselines. Pinned.
    assert full["scenarios"]["bulk_harvest"]["ttd_median_min"] <= 90


def test_stealthy_attacks_pinned_at_todays_levels(full):
    """Issue 11 target: evasive hydra recall >= 0.8, ttd p90 <= 60 min; issue 12: lone harvesters
    recall >= 0.95, ttd p90 <= 3 h (<= 1 h at >= 1,000/day). Measured today: far from it.

    Two pins moved down with issue 11's campaign stage, on purpose: before it, one evasive-hydra
    account (p90 942 -> 1006 min) and one lone harvester (10 -> 9 of 19, p90 667 -> 850 min) were
    named only by pages of a popular SDK's TLS cluster that mixed several operations with honest
    reasoning-heavy accounts (3 of them named too). Such a value no longer ties a campaign
    (``CampaignConfig.min_share``); the evasive hydra pages as one campaign through its prompt pool's
    SimHash band clusters instead."""
    s = full["scenarios"]
    assert s["evasive_hydra"]["detected"] >= 43, s["evasive_hydra"]  # of 63, p90 1006 min
    assert s["evasive_hydra"]["ttd_p90_min"] <= 1010
    assert s["lone_harvester"]["detected"] >= 9, s["lone_harvester"]  # of 19, p90 850 min
    assert s["lone_harvester"]["ttd_p90_min"] <= 860
    assert s["lone_harvester_fast"]["detected"] >= 1, s["lone_harvester_fast"]  # of 3, at 570 min
    assert s["lone_harvester_fast"]["ttd_p90_min"] <= 600


def test_one_incident_per_campaign(full):
    """Issue 11 target: <= 2 paging incidents per coordinated campaign (measured before the campaign
    stage: up to 23). Measured now: 1 for every coordinated scenario, 20 incidents in all (8 of them
    campaigns, the rest lone accounts), every one of 29 active campaigns' accounts in at most one."""
    for name in ("cot_coercion", "evasive_hydra", "hydra", "rate_limit_sharding", "release_chasing",
                 "slow_and_low"):
        assert full["scenarios"][name]["incidents_per_campaign_max"] == 1, (name, full["scenarios"][name])
    assert full["overall"]["incidents"] <= 20


def test_benign_look_alikes_pinned(full):
    """Issues 11/12 target: no page on the look-alikes, <= 1 false page per week, <= 0.1 % of benign
    accounts implicated. Measured today: the tutoring app pages twice (both accounts), a batch job
    once; nothing else benign is named (3 of 357; 6 before the campaign stage)."""
    pops = full["benign"]["populations"]
    assert pops["tutoring_app"]["false_pages"] <= 2 and pops["tutoring_app"]["implicated"] <= 2
    for name in ("coding_agent_users", "ci_fleet", "hackathon", "nat_org", "reasoning_business", "reasoning_heavy"):
        assert pops[name]["implicated"] == 0, (name, pops[name])
    assert full["benign"]["false_pages"] <= 3
    assert full["benign"]["implicated"] <= 3  # of 357
