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

import csv
import io

import orjson
import pytest

from distillwatch.streams.replay import replay
from distillwatch.streams.simulation.evaluate import evaluate
from distillwatch.streams.simulation.lookalikes import LOOKALIKES
from distillwatch.streams.simulation.stealth import SCENARIOS as STEALTH
from distillwatch.streams.simulation.world import simulate

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
    """Issue 11 target: evasive hydra recall >= 0.8 (measured 63 of 63 since its private prompt-pool
    templates join one campaign, 52 before), ttd p90 <= 60 min (measured 285 min since a paraphrased
    request is keyed by its SimHash's low 32 bits from the account's first request and a pool's
    members' requests on keys nobody else uses count for the pool; 627 when an
    account got a key only once it repeated one of its own bands, 693 before pool fragments joined
    the campaign, 980 before the pool campaign. What is left is evidence rate: the pool's harvest
    test needs ~100 of its requests at a harvest share ~2.5x the population's — pinned). Issue 12
    targets, met here since the sequential harvest evidence: lone harvesters recall >= 0.95 (19/19,
    p90 74 min), <= 1 h at >= 1,000/day (3/3, p90 12 min)."""
    s = full["scenarios"]
    assert s["evasive_hydra"]["detected"] >= 63, s["evasive_hydra"]
    assert s["evasive_hydra"]["ttd_p90_min"] <= 290
    # a paging pool takes in each account at its first request on one of its private templates
    # (before: at its first harvest-like one): the hydra's p90 130 -> 122 min here, 117 since its
    # members' requests on keys nobody else uses count for its pool, 50 since a pool whose
    # harvest-like accounts also share a card pages on the two ties. Pinned.
    assert s["hydra"]["ttd_p90_min"] <= 55, s["hydra"]
    # 158 -> 146 min by the two ties (it paged on its pool's harvest test before)
    assert s["slow_and_low"]["ttd_p90_min"] <= 150, s["slow_and_low"]
    assert s["lone_harvester"]["recall"] >= 0.95, s["lone_harvester"]
    assert s["lone_harvester"]["ttd_p90_min"] <= 3 * 60
    assert s["lone_harvester_fast"]["recall"] >= 0.95, s["lone_harvester_fast"]
    assert s["lone_harvester_fast"]["ttd_p90_min"] <= 60


def test_one_incident_per_campaign(full):
    """Issue 11 target: <= 2 paging incidents per coordinated campaign (measured before the campaign
    stage: up to 23). Met for every campaign, the evasive hydra (no shared attribute) too since its
    paraphrased requests are keyed from an account's first one: 1 incident (3 when members paged on
    their own before a shared template held them, 16 before its prompt-pool templates joined). 29
    incidents in all (31 before, 38 before fragments founded) for 29 active campaigns, most of them
    lone harvesters (one incident each, as they should)."""
    for name in ("cot_coercion", "hydra", "rate_limit_sharding", "release_chasing", "slow_and_low"):
        assert full["scenarios"][name]["incidents_per_campaign_max"] <= 2, (name, full["scenarios"][name])
    assert full["scenarios"]["evasive_hydra"]["incidents_per_campaign_max"] <= 1
    assert full["overall"]["incidents"] <= 29
    # pages a pager notifies (an incident opens or escalates; membership updates do not re-page):
    # target <= active campaigns + 1 = 30 a day; measured 31 (33 before the 32-bit paraphrase key, 36
    # before fragments founded silent campaigns): 29 incidents and 2 escalations. Pinned.
    assert full["overall"]["notifications"] <= 31


def test_release_chasing_pages_once_when_its_accounts_page_before_its_pool(tmp_path):
    """Issue 11: in seed 31's full world the release-chasing operation's eight accounts share
    private templates, and four of them paged on their own (00:39-00:55) while its pool was still a
    silent two-account fragment they had already sent harvest-like requests to, then the pool
    paged (01:02): five incidents for one operation. A candidate's page now joins the pool it
    sent harvest-like requests to: one incident (measured: recall 8 of 8, ttd p50 48 min)."""
    simulate(tmp_path / "events.jsonl", tmp_path / "labels.csv", seed=31, accounts=300, hours=24)
    with open(tmp_path / "alerts.jsonl", "wb") as out:
        replay([str(tmp_path / "events.jsonl")], out, io.BytesIO())
    r = evaluate(tmp_path / "labels.csv", tmp_path / "alerts.jsonl", min_severity="error", world_days=1.0)
    s = r["scenarios"]["release_chasing"]
    assert s["recall"] == 1.0 and s["incidents_per_campaign_max"] == 1, s
    assert r["overall"]["incidents"] <= 33, r["overall"]  # 37 before, for 34 active campaigns
    assert r["benign"]["implicated"] == 0, r["benign"]


def test_slow_and_low_is_found_where_it_hides_its_chain_of_thought(tmp_path):
    """Issue 11: in seed 11's world the slow-and-low operation asks for the reasoning in 10 % of its
    requests, the population's share, so neither its accounts' harvest evidence nor its pool's
    harvest test ever passes (recall 0 on seeds 11 and 61 before). Its accounts share private
    templates and cards, three to ten on each: a pool whose harvest-like accounts also share a card
    pages on the two ties (measured 30 of 32, p90 635 min; benign implicated 0)."""
    mix = CORE_ONLY
    simulate(tmp_path / "events.jsonl", tmp_path / "labels.csv", seed=11, accounts=300, hours=24, mix=mix)
    slow = {r["account_id"] for r in csv.DictReader(open(tmp_path / "labels.csv")) if r["scenario"] == "slow_and_low"}
    asked = [e.get("cot_elicitation", 0.0) >= 0.5 for e in map(orjson.loads, open(tmp_path / "events.jsonl", "rb"))
             if e["account_id"] in slow]
    assert sum(asked) / len(asked) < 0.15, "the world this test is about: the operation hides its chain of thought"
    with open(tmp_path / "alerts.jsonl", "wb") as out:
        replay([str(tmp_path / "events.jsonl")], out, io.BytesIO())
    r = evaluate(tmp_path / "labels.csv", tmp_path / "alerts.jsonl", min_severity="error", world_days=1.0)
    s = r["scenarios"]["slow_and_low"]
    assert s["recall"] >= 0.9 and s["incidents_per_campaign_max"] == 1, s
    assert r["benign"]["implicated"] == 0 and r["benign"]["false_pages"] == 0, r["benign"]


def test_rate_limit_sharding_is_found_by_its_throttled_pool(tmp_path):
    """Issue 11: in seed 41's world the rate-limit-sharding operation (8 accounts, 1,400-2,100
    requests a day each, short code answers) hides its chain of thought: its pool stayed a silent
    fragment of 2-3 harvest-like accounts all day, no account paged and its cards never reached
    min_share (recall 0). Its throttled requests on its templates, 1.6 % of them against the
    population's 0.7 %, from several of its accounts, page the pool (models/pool_behaviour.py;
    measured: 8 of 8, ttd p50 25, p90 75 min; benign implicated 0)."""
    simulate(tmp_path / "events.jsonl", tmp_path / "labels.csv", seed=41, accounts=300, hours=24)
    with open(tmp_path / "alerts.jsonl", "wb") as out:
        replay([str(tmp_path / "events.jsonl")], out, io.BytesIO())
    r = evaluate(tmp_path / "labels.csv", tmp_path / "alerts.jsonl", min_severity="error", world_days=1.0)
    s = r["scenarios"]["rate_limit_sharding"]
    assert s["recall"] == 1.0 and s["incidents_per_campaign_max"] == 1 and s["ttd_p90_min"] <= 90, s
    ties = {link["attribute"] for a in map(orjson.loads, open(tmp_path / "alerts.jsonl", "rb"))
            if a["kind"] == "campaign" for link in a["links"]}
    assert "pool_throttled" in ties
    assert r["benign"]["implicated"] == 0 and r["benign"]["false_pages"] == 0, r["benign"]


def test_benign_look_alikes_pinned(full):
    """Issues 11/12 target: no page on the look-alikes, <= 1 false page per week, <= 0.1 % of benign
    accounts implicated. Measured: the tutoring app and the reasoning businesses are no longer paged
    (context risk, harvest requests need a reasoning trace)."""
    pops = full["benign"]["populations"]
    assert pops["tutoring_app"]["false_pages"] == 0 and pops["tutoring_app"]["implicated"] == 0
    for name in ("coding_agent_users", "ci_fleet", "hackathon", "nat_org", "reasoning_business", "reasoning_heavy"):
        assert pops[name]["implicated"] == 0, (name, pops[name])
    # measured 0 since a peer-score page needs harvest requests with whole traces (was 1, a batch
    # job); 0 of 357 implicated (was 1). Sweep of seeds 11/23/31/41/53: 0 false pages in 5 days.
    assert full["benign"]["false_pages"] == 0
    # 0 of 357: since a TLS value only confirms a campaign other values tie, a popular SDK glues no
    # honest account into one (seeds 11-71: 0/0/1/3/1/0/4 -> 0/0/0/0/1/0/0; the one left is a
    # router customer on a /24 it shares with a hydra)
    assert full["benign"]["implicated"] == 0  # of 357
