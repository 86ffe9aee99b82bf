"""Snapshots restore processors that decide exactly as the originals (what exact recovery needs),
and an idle-flushed partition keeps working when events return."""

from __future__ import annotations

import math

import pytest

from distillwatch.models.account_processor import AccountProcessor
from distillwatch.models.campaign_processor import CampaignProcessor
from distillwatch.models.cluster_processor import ClusterProcessor
from distillwatch.models.engine import Engine
from distillwatch.models.event import decode
from distillwatch.models.snapshot import (
    ACCOUNT_FIELDS,
    ACCOUNT_OTHER,
    CAMPAIGN_OTHER,
    CLUSTER_OTHER,
    account_partition_to_bytes,
    account_record,
    campaign_to_bytes,
    cluster_to_bytes,
    open_positions,
    parse_account_record,
    restore_account_processor,
    restore_campaign_processor,
    restore_cluster_processor,
)


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    from distillwatch.streams.simulation.world import simulate

    path = tmp_path_factory.mktemp("snap") / "s.jsonl"
    simulate(path, path.with_suffix(".csv"), seed=5, accounts=200, hours=3.0)
    out = []
    for line in path.read_bytes().splitlines():
        out += decode(line)[0]
    return out


def _run(engine: Engine, events) -> None:
    for ev in events:
        engine.process(ev)


def _ids(alerts: list[dict]) -> list[str]:
    return [a["alert_id"] for a in alerts]


def _round_trip(engine: Engine) -> Engine:
    """A new engine whose processors are restored from the old one's snapshots."""
    fresh = Engine(len(engine.accounts), len(engine.clusters))
    for p, proc in enumerate(engine.accounts):
        positions = open_positions(proc)
        records = {acc: account_record(st, p, positions.get(acc, -1)) for acc, st in proc.accounts.items()}
        assert all(parse_account_record(r)[0] == p for r in records.values())
        restored = restore_account_processor(p, len(engine.clusters), account_partition_to_bytes(proc), records)
        assert dict(restored.open_windows()) == dict(proc.open_windows())
        for ev in proc.order.held():  # the events held: a stage keeps them in records of their own
            restored.order.push(ev)
        fresh.accounts[p] = restored
    for c, proc in enumerate(engine.clusters):
        fresh.clusters[c], extra = restore_cluster_processor(c, len(engine.accounts),
                                                             cluster_to_bytes(proc, {"x": 1}))
        assert extra == {"x": 1}
    fresh.campaigns, extra = restore_campaign_processor(
        len(engine.accounts) + len(engine.clusters), campaign_to_bytes(engine.campaigns, [[3, 4]]))
    assert extra == [[3, 4]]
    assert fresh.campaigns.member_of == engine.campaigns.member_of
    assert fresh.campaigns.cluster_of == engine.campaigns.cluster_of
    for proc in (*fresh.accounts, *fresh.clusters, fresh.campaigns):
        proc.rows = fresh._rows
    for proc in (*fresh.clusters, fresh.campaigns):
        proc.alerts = fresh._alerts
    return fresh


def _attributes(obj: object) -> set[str]:
    """An object's attributes; a class compiled by mypyc (infra/build_compiled.py) has no ``__dict__``
    but lists every attribute it declares in ``__mypyc_attrs__``."""
    native = getattr(type(obj), "__mypyc_attrs__", None)
    return set(native) - {"__dict__"} if native is not None else set(vars(obj))


def test_snapshots_know_every_processor_attribute():
    """A new attribute in a processor must be placed in models/snapshot.py, or restores lose it."""
    assert _attributes(AccountProcessor(0, 4)) <= {*ACCOUNT_FIELDS, *ACCOUNT_OTHER}
    assert _attributes(ClusterProcessor(0, 4)) <= set(CLUSTER_OTHER)
    assert _attributes(CampaignProcessor(8)) <= set(CAMPAIGN_OTHER)


def test_restored_engine_raises_the_same_alerts(events):
    whole = Engine()
    _run(whole, events)
    whole.finish()
    expected = _ids(whole.drain_alerts())
    assert expected

    half = len(events) // 2
    first = Engine()
    _run(first, events[:half])
    before = _ids(first.drain_alerts())
    second = _round_trip(first)
    _run(second, events[half:])
    second.finish()
    assert before + _ids(second.drain_alerts()) == expected


def test_flushed_partition_wakes_and_keeps_closing_windows(events):
    engine = Engine()
    half = len(events) // 2
    _run(engine, events[:half])
    for proc in engine.accounts:  # every partition went idle
        proc.flush()
        engine._hand_off(proc)
    assert all(p.is_flushed for p in engine.accounts)
    windows = sum(p.counters["windows"] for p in engine.accounts)
    for ev in events[half:]:
        proc = engine.accounts[engine.partition_of(ev.account_id)]
        if proc.is_flushed:
            proc.wake()  # its Rewind messages reach the cluster stage with the hand-off below
        proc.process(ev)
        engine._hand_off(proc)
    assert sum(p.counters["windows"] for p in engine.accounts) > windows
    assert all(not p.is_flushed for p in engine.accounts)
    assert all(c.watermark < math.inf for c in engine.clusters)
    assert max(min(c.source_wm) for c in engine.clusters) > events[half].ts - 3600
