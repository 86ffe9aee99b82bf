"""River sketch state round trips through bytes; pinned to the River version it was checked with."""

from __future__ import annotations

import importlib.metadata
import random

from river import stats

from distillwatch.models.riverstate import load_quantile, quantile_state, update_each

CHECKED_RIVER = "0.26.1"


def test_river_is_the_version_the_state_format_was_checked_with():
    """riverstate.py uses River's private ``Quantile._quantile`` state bytes. After a River
    upgrade, check that the round trip below still holds, that old changelogs restore, then
    update CHECKED_RIVER."""
    assert importlib.metadata.version("river") == CHECKED_RIVER


def test_quantile_round_trips_and_keeps_learning_identically():
    r = random.Random(4)
    q = stats.Quantile(0.9)
    for _ in range(1000):
        q.update(r.gauss(0, 1))
    blob = quantile_state(q)
    assert blob
    again = stats.Quantile(0.9)
    load_quantile(again, blob)
    assert again.get() == q.get()
    for _ in range(100):
        x = r.gauss(0, 1)
        q.update(x)
        again.update(x)
    assert again.get() == q.get()


def test_fresh_quantile_has_no_state():
    q = stats.Quantile(0.5)
    assert quantile_state(q) == b""
    load_quantile(q, b"")
    assert q.get() is None


def test_update_each_learns_exactly_as_river_update():
    """The peer baselines update River's Rust sketches directly: same state bytes, same answers,
    and a fresh sketch becomes readable after its first update, as with ``Quantile.update``."""
    r = random.Random(7)
    rows = [[r.gauss(0, 1), r.expovariate(1.0)] for _ in range(500)]
    ours = [stats.Quantile(0.5), stats.Quantile(0.9)]
    rivers = [stats.Quantile(0.5), stats.Quantile(0.9)]
    assert ours[0].get() is None
    for row in rows:
        update_each(ours, row)
        for q, x in zip(rivers, row, strict=True):
            q.update(x)
    assert [quantile_state(q) for q in ours] == [quantile_state(q) for q in rivers]
    assert [q.get() for q in ours] == [q.get() for q in rivers] and ours[0].get() is not None
