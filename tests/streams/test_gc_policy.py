"""The collector policy around the per-event loop: replay runs with rare young collections, and
leaves the process's thresholds as it found them (a library call must not retune its caller)."""

import gc
import io
from pathlib import Path

from distillwatch.streams import gc_policy
from distillwatch.streams.replay import replay

DATA = Path(__file__).resolve().parents[2] / "data"


def test_replay_raises_the_young_threshold_only_while_it_runs():
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []

    def rows_sink(rows: list) -> None:  # called from inside the loop
        seen.append(gc.get_threshold())

    summary = replay([str(DATA / "smoke.jsonl")], io.BytesIO(), rows_sink=rows_sink)
    assert summary.events == 628
    assert seen and all(t == (gc_policy.YOUNG_THRESHOLD, *before[1:]) for t in seen)
    assert gc.get_threshold() == before


def test_a_higher_threshold_is_kept_and_restored():
    before = gc.get_threshold()
    try:
        gc.set_threshold(gc_policy.YOUNG_THRESHOLD * 2, 7, 9)
        with gc_policy.rare_young_collections():
            assert gc.get_threshold() == (gc_policy.YOUNG_THRESHOLD * 2, 7, 9)  # never lowered
        with gc_policy.rare_young_collections():
            gc.set_threshold(1000, 7, 9)
        assert gc.get_threshold() == (gc_policy.YOUNG_THRESHOLD * 2, 7, 9)
    finally:
        gc.set_threshold(*before)
