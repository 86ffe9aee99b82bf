"""The simulated world: determinism, ground truth, scenario coverage, lateness, bad records, memory."""

from __future__ import annotations

import csv
import gzip
import tracemalloc
from collections import Counter

import orjson
import pytest

from distillwatch.streams.simulation.corrupt import KINDS
from distillwatch.streams.simulation.events import epoch_ms
from distillwatch.streams.simulation.lookalikes import LOOKALIKES
from distillwatch.streams.simulation.world import POPULATIONS, SCENARIOS, parse_mix, simulate

TINY = {"accounts": 30, "hours": 2.0}


def _run(tmp_path, name, **kw):
    out, labels = tmp_path / f"{name}.jsonl.gz", tmp_path / f"{name}.csv"
    simulate(out, labels, **kw)
    return out.read_bytes(), labels.read_bytes()


def test_same_seed_gives_identical_bytes(tmp_path):
    assert _run(tmp_path, "a", seed=3, **TINY) == _run(tmp_path, "b", seed=3, **TINY)


def test_different_seed_gives_different_world(tmp_path):
    a_events, a_labels = _run(tmp_path, "a", seed=3, **TINY)
    b_events, b_labels = _run(tmp_path, "b", seed=4, **TINY)
    assert a_events != b_events and a_labels != b_labels


def test_gzip_header_has_no_time_or_name(tmp_path):
    events, _ = _run(tmp_path, "a", seed=1, **TINY)
    assert events[:2] == b"\x1f\x8b" and events[4:8] == b"\0\0\0\0"  # mtime 0
    assert events[3] & 0x08 == 0  # FNAME flag off


def test_every_population_and_scenario_is_present(small_world):
    _, labels_path, summary, _ = small_world
    with open(labels_path, newline="") as f:
        rows = list(csv.DictReader(f))
    scenarios = {(r["label"], r["scenario"]) for r in rows}
    assert {("benign", p) for p in POPULATIONS | LOOKALIKES} <= scenarios
    assert {("attack", s) for s in SCENARIOS} <= scenarios
    assert summary["benign_accounts"] == sum(1 for r in rows if r["label"] == "benign")


def test_labels_match_the_events(small_world):
    _, labels_path, _, events = small_world
    with open(labels_path, newline="") as f:
        header = f.readline().strip()
        rows = {r[0]: r for r in csv.reader(f)}
    assert header == "account_id,label,scenario,attack_start"
    first: dict[str, int] = {}
    for e in events:
        ts = epoch_ms(e["ts"])
        first[e["account_id"]] = min(ts, first.get(e["account_id"], ts))
    assert set(first) == set(rows)
    for acct, (_, label, _, attack_start) in rows.items():
        assert acct.startswith("acct-") and label in ("benign", "attack")
        if label == "attack":
            assert epoch_ms(attack_start) == first[acct]
        else:
            assert attack_start == ""
    assert all("label" not in e and "scenario" not in e for e in events)


def test_events_are_in_time_order_except_a_few_late_ones(small_world):
    _, _, summary, events = small_world
    newest = 0
    late = 0
    for e in events:
        ts = epoch_ms(e["ts"])
        if ts < newest:
            late += 1
            assert newest - ts <= 300_000
        newest = max(newest, ts)
    assert 0 < late <= summary["late_events"]
    assert late < 0.01 * len(events)


def test_hydra_shares_the_reseller_router_with_honest_customers(small_world):
    _, labels_path, _, events = small_world
    with open(labels_path, newline="") as f:
        scenario = {r["account_id"]: r["scenario"] for r in csv.DictReader(f)}
    routers = Counter((e.get("router_id"), scenario[e["account_id"]]) for e in events if e.get("router_id"))
    hydra_routers = {r for r, s in routers if s == "hydra"}
    assert any((r, "router_customer") in routers for r in hydra_routers)


def test_rate_limit_sharding_gets_throttled_then_banned(small_world):
    _, labels_path, _, events = small_world
    with open(labels_path, newline="") as f:
        sharding = {r["account_id"] for r in csv.DictReader(f) if r["scenario"] == "rate_limit_sharding"}
    statuses = Counter(e["status"] for e in events if e["account_id"] in sharding)
    assert statuses[429] > 0 and statuses[200] > statuses[429]
    assert len({e["account_id"] for e in events if e["account_id"] in sharding}) > 2


def test_bad_records_cover_every_kind(tmp_path):
    out, labels = tmp_path / "bad.jsonl", tmp_path / "bad.csv"
    summary = simulate(out, labels, seed=2, bad_fraction=0.05, **TINY)
    lines = out.read_bytes().splitlines()
    assert summary["bad_records"] >= len(KINDS)
    assert len(lines) == summary["lines"]
    broken = 0
    for line in lines:
        try:
            e = orjson.loads(line)
        except orjson.JSONDecodeError:
            broken += 1
            continue
        if len(line) > 65536 or not isinstance(e.get("input_tokens"), int) or e.get("event_id") in (None, ""):
            broken += 1
    assert broken >= summary["bad_records"] // 2


def test_mix_switches_scenarios_off_and_rejects_unknown_names(tmp_path):
    with pytest.raises(ValueError):
        parse_mix("hydra=1,unicorns=2")
    out, labels = tmp_path / "m.jsonl", tmp_path / "m.csv"
    summary = simulate(out, labels, seed=1, mix=parse_mix("hydra=0,slow_and_low=0"), **TINY)
    assert "hydra" not in summary["accounts"] and "slow_and_low" not in summary["accounts"]


def test_memory_does_not_grow_with_the_number_of_events(tmp_path):
    """Four times the events, nearly the same peak: nothing holds the stream in memory."""
    mix = parse_mix("enterprise_backend=0,batch_job=0,launch_customer=0,bulk_harvest=0")
    peaks = []
    for hours in (3.0, 12.0):
        tracemalloc.start()
        summary = simulate(
            tmp_path / "m.jsonl.gz", tmp_path / "m.csv", seed=1, accounts=40, hours=hours, mix=mix
        )
        peaks.append((tracemalloc.get_traced_memory()[1], summary["lines"]))
        tracemalloc.stop()
    (short_peak, short_n), (long_peak, long_n) = peaks
    assert long_n > 3 * short_n
    assert long_peak < 1.5 * short_peak


def test_gzip_output_is_plain_jsonl_inside(tmp_path):
    out, labels = tmp_path / "g.jsonl.gz", tmp_path / "g.csv"
    summary = simulate(out, labels, seed=9, **TINY)
    with gzip.open(out, "rb") as f:
        assert sum(1 for _ in f) == summary["lines"]


def test_simulate_command_writes_files_and_a_summary(tmp_path, capsys):
    from distillwatch.streams.cli import main

    out, labels = tmp_path / "c.jsonl", tmp_path / "c.csv"
    rc = main(["simulate", "--out", str(out), "--labels", str(labels), "--accounts", "20", "--hours", "1"])
    assert rc == 0 and out.stat().st_size > 0
    assert "chat_user" in capsys.readouterr().out
