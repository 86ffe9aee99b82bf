"""Silent accounts wait out of memory (models/cold_store.py) and come back exactly as they left:
a replay that sets accounts aside after an hour of silence raises the same alerts and writes the
same rows as one that keeps every account in memory."""

from __future__ import annotations

import dataclasses
import math
import random

import orjson

from distillwatch.models.account_state import AccountState
from distillwatch.models.cold_store import BytesColdStore
from distillwatch.models.config import DetectorConfig
from distillwatch.models.engine import Engine
from distillwatch.models.event import validate
from distillwatch.models.timespans import HOUR
from distillwatch.streams.simulation.world import simulate


def _replay(events: list[dict], cold_after_s: float) -> tuple[list[dict], list, Engine]:
    base = DetectorConfig()
    eng = Engine(4, 4, dataclasses.replace(base, account=dataclasses.replace(base.account, cold_after_s=cold_after_s)))
    alerts, rows = [], []
    for d in events:
        eng.process(validate(d))
        alerts += eng.drain_alerts()
        rows += eng.drain_rows()
    eng.finish()
    return alerts + eng.drain_alerts(), rows + eng.drain_rows(), eng


def test_accounts_set_aside_come_back_exactly(tmp_path):
    # every hourly sweep sets aside the accounts silent for an hour, and many return hours later
    simulate(tmp_path / "events.jsonl", tmp_path / "labels.csv", seed=5, accounts=120, hours=20)
    events = [orjson.loads(line) for line in (tmp_path / "events.jsonl").read_bytes().splitlines()]
    kept_alerts, kept_rows, kept = _replay(events, math.inf)
    cold_alerts, cold_rows, cold = _replay(events, HOUR)

    counts = [sum(p.cold_counts[k] for p in cold.accounts) for k in ("cooled", "warmed", "lost")]
    assert counts[0] > 50 and counts[1] > 20 and counts[2] == 0, counts
    assert sum(p.cold_counts["cooled"] for p in kept.accounts) == 0
    assert [a["alert_id"] for a in cold_alerts] == [a["alert_id"] for a in kept_alerts]
    assert any(a["severity"] in ("error", "critical") for a in kept_alerts), "a world with pages"
    assert cold_alerts == kept_alerts
    assert cold_rows == kept_rows
    for c, k in zip(cold.accounts, kept.accounts, strict=True):
        assert isinstance(c.cold, BytesColdStore)
        held = {**{a: s.to_bytes() for a, s in c.accounts.items()}, **c.cold.records}
        assert held == {a: s.to_bytes() for a, s in k.accounts.items()}
        assert set(c.cold_until) == set(c.cold.records)


def test_the_bytes_store_hands_back_what_it_was_given():
    store = BytesColdStore()
    st = AccountState()
    st.r_day, st.t_last, st.template = 3.5, 1.7e9, "band:00ff"
    store.put("acct-1", st)
    assert store.take("acct-2") is None
    back = store.take("acct-1")
    assert back is not None and back.to_bytes() == st.to_bytes()
    assert store.take("acct-1") is None, "taken: the processor holds it again"


def test_forget_boundary_is_the_first_sweep_that_forgets():
    """An account set aside keeps only the boundary from which the sweep forgets it: the same
    boundary the sweep's own test (``_forgettable``) gives, hour by hour, for quiet and busy rates."""
    from distillwatch.models.account_processor import _forgettable, forget_boundary
    from distillwatch.models.config import AccountConfig

    cfg = AccountConfig()
    rng = random.Random(11)
    for _ in range(300):
        st = AccountState()
        st.t_last = 1.7e9 + rng.uniform(0, 1e6)
        st.r_day = rng.choice([0.0, rng.uniform(0, 5), rng.uniform(0, 1e4), 10 ** rng.uniform(4, 12)])
        until = forget_boundary(st.t_last, st.r_day, cfg)
        k = math.floor((st.t_last + cfg.forget_s) / cfg.forget_every_s) - 1
        while not _forgettable(st.t_last, st.r_day, k * cfg.forget_every_s, cfg):
            k += 1
        assert until == k * cfg.forget_every_s, (st.t_last, st.r_day)
    st.r_day = math.nan
    assert forget_boundary(st.t_last, st.r_day, cfg) == math.inf, "never forgotten, as the sweep never would"
