"""Forgetting: accounts, clusters and cluster members silent for ``forget_s`` leave the state, so a
worker's memory is bounded by recent activity, and a returning account starts as a newcomer. The
sweep follows event time only, so a restored processor forgets exactly what the original does."""

from __future__ import annotations

import math

from distillwatch.models.account_processor import AccountProcessor
from distillwatch.models.account_state import AccountState
from distillwatch.models.cluster_processor import ClusterProcessor
from distillwatch.models.cold_store import BytesColdStore
from distillwatch.models.config import AccountConfig, ClusterConfig
from distillwatch.models.engine import Engine
from distillwatch.models.event import validate
from distillwatch.models.links import Link, Watermark, to_wire
from distillwatch.models.snapshot import (
    account_partition_to_bytes,
    account_record,
    open_positions,
    restore_account_processor,
)
from distillwatch.models.timespans import HOUR, MINUTE
from tests.models.worlds import DAY, T0, quiet_months

EVENTS = quiet_months(40)


def _drain(proc: AccountProcessor, links: list) -> None:
    links += [(t, to_wire(m)) for t, m in proc.links]
    proc.links.clear()
    proc.rows.clear()
    proc.alerts.clear()
    proc.dirty.clear()


def _run(proc: AccountProcessor, events: list[dict], links: list) -> AccountProcessor:
    for d in events:
        assert proc.process(validate(d)) is None
        _drain(proc, links)
    return proc


def _held(proc: AccountProcessor) -> dict[str, bytes]:
    """Every account the processor holds, in memory or in its cold store, as its state's bytes."""
    assert isinstance(proc.cold, BytesColdStore)
    assert set(proc.cold.records) == set(proc.cold_until)
    assert not set(proc.accounts) & set(proc.cold_until), "an account is in memory or cold, never both"
    return {**{a: s.to_bytes() for a, s in proc.accounts.items()}, **proc.cold.records}


def test_forty_days_keep_only_the_last_thirty_days_of_accounts():
    proc = _run(AccountProcessor(0, 1), EVENTS, [])
    last = {}
    for e in EVENTS:
        last[e["account_id"]] = e["ts"]
    cutoff = math.floor(proc.clock.time / HOUR) * HOUR - AccountConfig().forget_s
    held = {acc for acc, ts in last.items() if ts > cutoff}
    assert set(_held(proc)) == held
    # in memory: what was active after the limit of the last pass that set accounts aside
    limit = proc._cooled_at - AccountConfig().cold_after_s
    assert set(proc.accounts) == {acc for acc, ts in last.items() if ts > limit} & held
    assert proc.cold_counts["cooled"] > 100
    assert 100 < len(held) < len(last) - 30, "about 30 of 40 days of transients are held"
    # every account seen minus those held, plus acct-back: forgotten once, then back
    assert proc.counters["forgotten"] == len(last) - len(held) + 1

    back = AccountState.from_bytes(_held(proc)["acct-back"])
    assert back.events == 5, "the returning account starts as a newcomer: only its new events count"
    assert back.created_at == T0 - 100 * DAY, "its age comes from account_created_at again"


def test_a_restored_processor_forgets_exactly_as_the_original():
    """Snapshot and restore after the first sweeps that forget (day 31), then run on: the same
    accounts, byte for byte, and the same links as an uninterrupted run."""
    straight_links: list = []
    straight = _run(AccountProcessor(0, 1), EVENTS, straight_links)

    cut = next(i for i, e in enumerate(EVENTS) if e["ts"] > T0 + 31 * DAY + 1800)
    links: list = []
    first = _run(AccountProcessor(0, 1), EVENTS[:cut], links)
    assert first.counters["forgotten"] > 0
    positions = open_positions(first)
    states = {acc: AccountState.from_bytes(data) for acc, data in _held(first).items()}
    records = {acc: account_record(st, 0, positions.get(acc, -1)) for acc, st in states.items()}
    restored = restore_account_processor(
        0, 1, account_partition_to_bytes(first), records)
    assert restored.forgot_at == first.forgot_at
    for ev in first.order.held():  # the events held: a stage keeps them in records of their own
        restored.order.push(ev)
    _run(restored, EVENTS[cut:], links)

    assert links == straight_links
    assert restored.counters == straight.counters
    assert _held(restored) == _held(straight)
    assert restored.cold_until == straight.cold_until, "a restore sets aside what the running processor did"


def test_replay_holds_only_recent_accounts_and_no_stale_names():
    eng = Engine(1, 1)  # one partition: all six regulars move its event clock
    for d in EVENTS:
        assert eng.process(validate(d)) is None
    held = sum(len(p.accounts) + len(p.cold_until) for p in eng.accounts)
    assert eng.counters()["forgotten"] == 41  # the transients of days 0-9 and acct-back's first visit
    assert held == 6 + 30 * 4 + 1  # regulars, 30 days of transients, acct-back
    assert all(len(p.dirty) <= len(p.accounts) for p in eng.accounts), "replay drains what changed"


def test_silent_clusters_and_members_are_forgotten_daily():
    cfg = ClusterConfig()
    proc = ClusterProcessor(0, 1, cfg)
    day0 = int(T0 // MINUTE)

    def link(minute: int, value: str, account: str) -> None:
        proc.receive(Link(minute, "payment", value, account, 10, 1000, 9.0, 0, -1, "e1"))
        proc.receive(Watermark(0, (minute + 1) * MINUTE))

    link(day0, "card-old", "a1")  # silent from day 0
    link(day0, "card-live", "a2")  # a member silent from day 0 ...
    for d in range(1, 33):
        link(day0 + d * 1440, "card-live", "a3")  # ... of a cluster active every day
    assert set(proc.clusters) == {"payment:card-live"}
    assert list(proc.clusters["payment:card-live"].members) == ["a3"]

    link(day0 + 33 * 1440, "card-old", "a1")  # the value returns: a new cluster, from now
    assert proc.clusters["payment:card-old"].first_ts == (day0 + 33 * 1440 + 1) * MINUTE
    assert cfg.forget_s == 30 * DAY
