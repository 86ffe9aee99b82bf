"""A small simulated world shared by the simulator tests (generated once per session)."""

from __future__ import annotations

import gzip

import orjson
import pytest

from distillwatch.streams.simulation.world import simulate

SMALL = {"seed": 5, "accounts": 60, "hours": 6.0}


@pytest.fixture(scope="session")
def small_world(tmp_path_factory):
    """(events path, labels path, summary, parsed events in file order)."""
    d = tmp_path_factory.mktemp("world")
    out, labels = d / "events.jsonl.gz", d / "labels.csv"
    summary = simulate(out, labels, **SMALL)
    with gzip.open(out, "rb") as f:
        events = [orjson.loads(line) for line in f]
    return out, labels, summary, events
