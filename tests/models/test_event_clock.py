"""The partition clock, implausible times, duplicate event ids and decay at extreme gaps (issue 14)."""

from __future__ import annotations

import math
import random

import msgspec

from distillwatch.models.account_processor import AccountProcessor
from distillwatch.models.account_state import RECENT_IDS, AccountState
from distillwatch.models.event import Event
from distillwatch.models.event_clock import EventClock
from distillwatch.models.timespans import DAY

T0 = 1_770_969_600.0  # 2026-02-13T08:00:00Z
YEAR = 365 * DAY


def ev(i: int, ts: float, account: str, **extra) -> Event:
    return msgspec.convert({"event_id": f"e{i}", "ts": ts, "account_id": account, "model": "m",
                            "input_tokens": 100, "output_tokens": 200, "status": 200, "capability": "coding",
                            **extra}, Event)


def stream(n: int, seed: int = 5, accounts: int = 40) -> list[Event]:
    rng = random.Random(seed)
    return [ev(i, T0 + i * 2.0 + rng.uniform(-20, 0), f"a{rng.randrange(accounts)}") for i in range(n)]


def test_the_clock_waits_for_a_quorum_and_leads_it_by_at_most_lead_s():
    clock = EventClock(quorum=3, max_ahead_s=DAY, lead_s=300)
    assert not clock.observe("a", T0) and not clock.observe("b", T0 + 10)
    assert clock.time == -math.inf  # two accounts are not a quorum
    assert clock.observe("c", T0 + 20) and clock.time == T0 + 20  # newest, within lead_s of the third
    clock.observe("a", T0 + 20 * 3600)  # one account 20 h ahead
    assert clock.time == T0 + 20  # a runs too far ahead of the third-newest (b) to count
    clock.observe("d", T0 + 100)  # d displaces b, the slowest leader
    assert clock.time == T0 + 100
    clock.observe("b", T0 + 20 * 3600 - 200)  # b and a are within lead_s, but c is the third
    assert clock.time == T0 + 100
    clock.observe("c", T0 + 20 * 3600 - 100)
    assert clock.time == T0 + 20 * 3600
    twin = EventClock(3, DAY, 300)
    twin.load(clock.to_wire())
    assert twin.to_wire() == clock.to_wire() and twin.observe("e", T0 + 400) == clock.observe("e", T0 + 400)


def test_one_account_a_day_ahead_mid_stream_shifts_no_one():
    events = stream(4000, seed=9)
    runs = []
    for jump in (False, True):
        proc = AccountProcessor(0, 4)
        for i, e in enumerate(events):
            proc.process(e)
            if jump and i == 2000:
                assert proc.process(ev(99_999, e.ts + 23.9 * 3600, "runner")) is None
        runs.append((proc.counters["late"], proc.watermark))
    assert runs[0] == runs[1]


def test_implausible_times_both_ways_are_dead_lettered_with_a_reason():
    proc = AccountProcessor(0, 4)
    for e in stream(300):
        proc.process(e)
    now = proc.arrivals.time
    ahead = proc.process(ev(1, now + DAY + 60, "x"))
    behind = proc.process(ev(2, now - 8 * DAY, "x"))
    assert ahead == "implausible time: ts is 86,460 s ahead of the stream's event time (limit: 1 day)"
    assert behind.startswith("implausible time: ts is 691,200 s behind the stream's event time")
    assert (proc.counters["too_far_ahead"], proc.counters["too_far_behind"]) == (1, 1)
    assert proc.process(ev(3, now - 6 * DAY, "x")) is None  # late but usable: counted


def test_a_repeated_event_id_is_counted_once():
    proc = AccountProcessor(0, 4)
    first = [proc.process(ev(i, T0 + i, "a")) for i in range(RECENT_IDS)]
    again = [proc.process(ev(i, T0 + 100 + i, "a")) for i in range(RECENT_IDS)]
    assert proc.process(ev(0, T0 + 200, "b")) is None  # another account's id space
    assert first == again == [None] * RECENT_IDS, "held: the ids are judged when applied, in ts order"
    proc.flush()
    assert [(e.event_id, reason) for e, reason in proc.rejected] == [
        (f"e{i}", "duplicate event_id: this account sent it recently, counted once") for i in range(RECENT_IDS)]
    assert (proc.counters["events"], proc.counters["duplicates"]) == (RECENT_IDS + 1, RECENT_IDS)
    st = AccountState.from_bytes(proc.accounts["a"].to_bytes())
    assert st.repeats("e3") and not st.repeats("e-new")


def test_decay_survives_extreme_gaps_both_ways():
    """Issue 14, 2: a ts years before the account's previous event overflowed ``math.exp``."""
    st = AccountState()
    old, new = T0 - 6 * YEAR, T0 + 73 * YEAR  # 2020 and 2099: the decoder's whole range
    for i, ts in enumerate((T0, old, new, old, new, new)):
        st.update(ev(i, ts, "a"))
    values = [getattr(st, n) for n in ("r_fast", "r_hour", "r_day", "out_day")] + list(st.caps) + list(st.hours)
    assert all(math.isfinite(v) and v >= 0.0 for v in values)
    assert st.r_fast == 4.0  # 2099 twice, and the 2020 event after it adds 1 undecayed (out of order)
    assert sum(st.caps) > 0.0 and st.capability_shares()[0] == 1.0


def test_an_exception_while_folding_costs_one_event():
    proc = AccountProcessor(0, 4)
    assert proc.process(ev(1, T0, "a")) is None
    proc.flush()
    proc.accounts["a"].weights = None  # a bug's stand-in: the next update of "a" raises
    assert proc.process(ev(2, T0 + 1, "a")) is None  # late (after the flush): applied at once
    assert proc.rejected == [(ev(2, T0 + 1, "a"),
                              "could not process the record: TypeError: 'NoneType' object is not subscriptable")]
    assert proc.process(ev(3, T0 + 2, "b")) is None and proc.counters["errors"] == 1
