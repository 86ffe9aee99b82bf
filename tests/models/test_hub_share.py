"""The hub share of a value (harvest-like share of its users) on a value's first day and just after
midnight: the exact cases where a decayed degree count overstated it (a popular SDK's TLS value,
67 users of whom 36 harvest-like, read 0.81 on its first day and 1.0 after midnight, and glued an
evasive operation into other campaigns)."""

from __future__ import annotations

import pytest

from distillwatch.models.cluster_processor import ClusterProcessor
from distillwatch.models.cluster_state import DegreeSketch
from distillwatch.models.config import CampaignConfig
from distillwatch.models.links import Degree, Link, Watermark
from distillwatch.models.snapshot import cluster_to_bytes, restore_cluster_processor
from distillwatch.models.timespans import DAY, MINUTE

DAY0 = 20_000  # a UTC day number
NOON = DAY0 * 1440 + 720  # a minute of that day
MIDNIGHT = (DAY0 + 1) * 1440 - 1  # the minute that closes at the next day's start
TLS = "t13d1715h2_5b57"


def _close(proc: ClusterProcessor, minute: int, *msgs: Link | Degree) -> None:
    for msg in msgs:
        proc.receive(msg)
    proc.receive(Watermark(0, (minute + 1) * MINUTE))


def _link(minute: int, account: str) -> Link:
    return Link(minute, "tls", TLS, account, 2, 3000, 7.0, 0, 3, f"ev-{account}")


def _share(proc: ClusterProcessor) -> float:
    return [row for kind, row in proc.rows if kind == "cluster_minute"][-1]["hub_share"]


def _popular_value(proc: ClusterProcessor) -> None:
    """A value's first day: 67 accounts report it, 36 of them harvest-like."""
    users = [f"u{i:02d}" for i in range(67)]
    _close(proc, NOON, *[Degree(NOON, "tls", TLS) for _ in users], *[_link(NOON, a) for a in users[:36]])


def test_first_day_share_is_members_over_users():
    proc = ClusterProcessor(0, 1)
    _popular_value(proc)
    assert _share(proc) == pytest.approx(36 / 67, abs=1e-4)  # the decayed count read 0.81
    # it passes the share bar: no share bar separates it, so the campaign stage takes a TLS value
    # only as a confirmation of a campaign other values tie (CampaignConfig.tls_second_tie)
    assert _share(proc) > CampaignConfig().min_share


def test_share_just_after_midnight_keeps_the_previous_day():
    proc = ClusterProcessor(0, 1)
    _popular_value(proc)
    # the first minute of the next day: one member reports the value again and links
    _close(proc, MIDNIGHT, Degree(MIDNIGHT, "tls", TLS), _link(MIDNIGHT, "u00"))
    assert proc.degree.day == DAY0 + 1
    assert _share(proc) == pytest.approx(37 / 68, abs=1e-4)  # the halved count read 1.0


def test_a_value_of_harvest_like_accounts_only_stays_at_one_across_midnight():
    proc = ClusterProcessor(0, 1)
    ring = [f"h{i}" for i in range(10)]
    _close(proc, NOON, *[Degree(NOON, "tls", TLS) for _ in ring], *[_link(NOON, a) for a in ring])
    assert _share(proc) == 1.0
    _close(proc, MIDNIGHT, *[Degree(MIDNIGHT, "tls", TLS) for _ in ring[:2]], *[_link(MIDNIGHT, a) for a in ring[:2]])
    assert _share(proc) == 1.0


def test_the_two_days_survive_a_snapshot():
    proc = ClusterProcessor(0, 1)
    _popular_value(proc)
    _close(proc, MIDNIGHT, Degree(MIDNIGHT, "tls", TLS))
    restored, _ = restore_cluster_processor(0, 1, cluster_to_bytes(proc))
    key = f"tls:{TLS}"
    assert restored.degree.estimate(key) == proc.degree.estimate(key) == 68
    assert restored.clusters[key].prev_day_members == 36
    assert restored.clusters[key].day_members(restored.degree.day * DAY) == 36


def test_degree_days_roll_over_and_clear_after_a_silent_day():
    sketch = DegreeSketch(64, 2)
    sketch.age_to(5)
    for _ in range(3):
        sketch.add("ip24:10.0.0")
    sketch.age_to(6)
    sketch.add("ip24:10.0.0")
    assert sketch.estimate("ip24:10.0.0") == 4  # yesterday's 3 + today's 1
    sketch.age_to(7)
    assert sketch.estimate("ip24:10.0.0") == 1  # the day before yesterday is gone
    sketch.age_to(9)
    assert sketch.estimate("ip24:10.0.0") == 0  # a silent day in between: both days are empty
    with pytest.raises(ValueError, match="another shape"):
        sketch.load(9, bytes(4 * 64 * 2))  # one table: a snapshot from before the two-day sketch
