"""The stealthy attacks and their benign look-alikes have the properties their docstrings promise."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from statistics import mean

import orjson
import pytest

from distillwatch.streams.simulation.catalog import REASONING_MODELS, SDK_CLIENTS
from distillwatch.streams.simulation.events import epoch_ms
from distillwatch.streams.simulation.lookalikes import CI_PERIOD_MS
from distillwatch.streams.simulation.world import simulate


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    """scenario -> account -> its events, for one 24-hour world of 60 core accounts."""
    d = tmp_path_factory.mktemp("stealth")
    simulate(d / "e.jsonl.gz", d / "l.csv", seed=17, accounts=60, hours=24)
    with open(d / "l.csv", newline="") as f:
        scenario = {r["account_id"]: r["scenario"] for r in csv.DictReader(f)}
    by: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    with gzip.open(d / "e.jsonl.gz", "rb") as f:
        for line in f:
            e = orjson.loads(line)
            by[scenario[e["account_id"]]][e["account_id"]].append(e)
    return by


def _values(accounts: dict[str, list[dict]], field: str) -> dict[str, set]:
    return {a: {e.get(field) for e in evs} for a, evs in accounts.items()}


def _shared(per_account: dict[str, set]) -> set:
    seen: dict = {}
    shared = set()
    for acct, values in per_account.items():
        for v in values:
            if v is not None and seen.setdefault(v, acct) != acct:
                shared.add(v)
    return shared


def test_evasive_hydra_shares_no_identity_attribute(day):
    hydra = day["evasive_hydra"]
    assert len(hydra) >= 8
    assert not _shared(_values(hydra, "payment_fingerprint"))
    ip24 = {a: {e["client_ip"].rsplit(".", 1)[0] for e in evs} for a, evs in hydra.items()}
    assert not _shared(ip24)
    assert all(e.get("router_id") is None for evs in hydra.values() for e in evs)
    assert len({e["asn"] for evs in hydra.values() for e in evs}) >= 6
    popular = {tls for tls, _ in SDK_CLIENTS}
    assert {e["tls_fingerprint"] for evs in hydra.values() for e in evs} <= popular


def test_evasive_hydra_is_one_dispatcher_on_one_prompt_pool(day):
    hydra = day["evasive_hydra"]
    minutes = defaultdict(set)
    for acct, evs in hydra.items():
        for e in evs:
            minutes[epoch_ms(e["ts"]) // 120_000].add(acct)
    busy = [len(accts) for accts in minutes.values()]
    assert mean(busy) >= 1.5  # several unrelated accounts in the same two minutes, round after round
    span_days = {a: (epoch_ms(evs[-1]["ts"]) - epoch_ms(evs[0]["ts"])) / 86_400_000 for a, evs in hydra.items()}
    per_day = sum(len(evs) for evs in hydra.values()) / sum(max(d, 0.1) for d in span_days.values())
    assert 10 <= per_day <= 45
    tops = {e["prompt_simhash"][:4] for evs in hydra.values() for e in evs}
    assert len(tops) <= 0.5 * sum(len(evs) for evs in hydra.values())  # near-duplicate skeletons


def test_lone_harvesters_ask_for_reasoning_and_get_two_to_three_times_it(day):
    for scenario, lo, hi in (("lone_harvester", 150, 400), ("lone_harvester_fast", 1000, 2500)):
        for acct, evs in day[scenario].items():
            assert len({e["client_ip"] for e in evs}) == 1
            assert {e["capability"] for e in evs} <= {"math", "reasoning", "coding"}
            assert {e["model"] for e in evs} <= REASONING_MODELS
            assert mean(e["cot_elicitation"] > 0.5 for e in evs) >= 0.4
            ok = [e for e in evs if e["status"] == 200]
            ratio = sum(e["reasoning_tokens"] for e in ok) / sum(e["output_tokens"] for e in ok)
            if len(ok) >= 100:
                assert 1.4 <= ratio <= 4.2, (acct, ratio)
            hours = (epoch_ms(evs[-1]["ts"]) - epoch_ms(evs[0]["ts"])) / 3_600_000
            if hours >= 6:
                assert 0.4 * lo <= len(evs) / hours * 24 <= 2.5 * hi, (acct, len(evs), hours)


def test_ci_fleet_runs_its_suite_in_lockstep_every_ten_minutes(day):
    fleet = day["ci_fleet"]
    events = [e for evs in fleet.values() for e in evs]
    assert len({e["org_id"] for e in events}) == 1 and len({e["payment_fingerprint"] for e in events}) == 1
    first = min(epoch_ms(e["ts"]) for e in events)
    phase = [(epoch_ms(e["ts"]) - first + 60_000) % CI_PERIOD_MS for e in events]
    assert max(phase) < 210_000  # every request within a few minutes after a ten-minute tick
    ticks = {(epoch_ms(e["ts"]) - first) // CI_PERIOD_MS for e in events}
    assert len(ticks) >= 0.9 * 144
    for evs in fleet.values():
        assert len({e["prompt_template_id"] for e in evs}) <= 12 and max(e["output_tokens"] for e in evs) <= 256


def test_coding_agent_users_share_the_framework_but_nothing_else(day):
    users = day["coding_agent_users"]
    assert len(_shared(_values(users, "system_prompt_hash"))) >= 1
    assert len(_shared(_values(users, "prompt_template_id"))) >= 1
    assert not _shared(_values(users, "payment_fingerprint"))
    assert mean(e["output_tokens"] for evs in users.values() for e in evs) < 300


def test_hackathon_is_new_accounts_at_one_venue_during_the_event(day):
    events = [e for evs in day["hackathon"].values() for e in evs]
    assert len({e["client_ip"].rsplit(".", 1)[0] for e in events}) <= 3
    created = [epoch_ms(e["account_created_at"]) for e in events]
    assert max(created) - min(created) <= 6 * 3_600_000
    ts = [epoch_ms(e["ts"]) for e in events]
    assert max(ts) - min(ts) <= 14 * 3_600_000


def test_tutoring_app_and_reasoning_businesses_are_old_verified_businesses(day):
    for evs in day["tutoring_app"].values():
        assert {e["verification"] for e in evs} == {"business"}
        assert len({e["end_user_id"] for e in evs}) >= 100
        assert mean(e["cot_elicitation"] > 0.5 for e in evs) >= 0.5
    business = [e for evs in day["reasoning_business"].values() for e in evs]
    assert {e["verification"] for e in business} == {"business"}
    ok = [e for e in business if e["status"] == 200 and e["model"] in REASONING_MODELS]
    assert mean(e["reasoning_tokens"] for e in ok) > mean(e["output_tokens"] for e in ok) > 300
