"""Lockstep activity: do a prompt pool's accounts act in the same short time slots more often
than their own duty cycles predict? (CopyCatch, WWW 2013; SynchroTrap, CCS 2014.)

An evasive operation's dispatcher sends each round from a random handful of its accounts within a
minute or two, each on another template of its pool, so no single template and no single minute
ties them, but over hours the pool's members share slots more often than independent accounts
active as often would. Each member keeps a bounded ring of its recent active 2-minute slots (the
cluster stage, per template key; merged per pool at the campaign stage), and the whole pool is
tested at once: pair co-occurrences observed, ``sum over slots C(m_s, 2)``, against those expected
of independent accounts, ``sum over pairs d_i d_j / S``. The evidence is the Poisson tail's
Chernoff bound in nats, so a strong excess over a long span counts and a lucky hour does not.
Cost: linear in the slots held (at most ``members x ring``), never all pairs.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import NamedTuple

SLOT_S = 120  # a dispatcher round spans 45-120 s; a 2-minute slot holds most of one


def slot_of(minute: int) -> int:
    """The 2-minute slot of an event-time minute index."""
    return minute // (SLOT_S // 60)


def add_slot(ring: list[int], slot: int, keep: int) -> None:
    """Record ``slot`` in a member's ring of recent active slots (ascending, at most ``keep``).

    >>> ring = [3, 7]
    >>> add_slot(ring, 9, 3); add_slot(ring, 9, 3); add_slot(ring, 5, 3); ring
    [5, 7, 9]
    """
    if not ring or ring[-1] < slot:
        ring.append(slot)
    elif slot not in ring:
        ring.append(slot)
        ring.sort()
    if len(ring) > keep:
        del ring[: len(ring) - keep]


def merge_slots(ring: list[int], slots: list[int], keep: int) -> list[int]:
    """Union of two rings, the newest ``keep`` slots kept (ascending).

    >>> merge_slots([1, 4, 6], [4, 5, 9], 4)
    [4, 5, 6, 9]
    """
    return sorted(set(ring).union(slots))[-keep:]


def poisson_excess_nats(observed: float, expected: float) -> float:
    """Chernoff bound on ``-ln P(X >= observed)`` for ``X ~ Poisson(expected)`` (0 when not above).

    >>> round(poisson_excess_nats(40, 20), 3), poisson_excess_nats(10, 20)
    (7.726, 0.0)
    """
    if expected <= 0 or observed <= expected:
        return 0.0
    return observed * math.log(observed / expected) - observed + expected


class Cotiming(NamedTuple):
    members: int  # members with at least ``min_slots`` active slots in the window
    observed: int  # pairs of them active in the same slot
    expected: float  # what independent accounts with their duty cycles would give
    nats: float  # evidence against independence (Poisson tail, Chernoff bound)

    @property
    def ratio(self) -> float:
        return self.observed / self.expected if self.expected > 0 else 0.0


def cotiming(rings: dict[str, list[int]], now_slot: int, window_slots: int, min_slots: int, full: int) -> Cotiming:
    """Test the members' co-timing over the last ``window_slots`` slots; members with fewer than
    ``min_slots`` active slots there are left out.

    A ring holding ``full`` slots has dropped older ones, so that member is observed only since
    its oldest slot (a busy account's ring covers its last hour); the others since the first of
    them was active (or the window's start). Independent members active at uniform rates
    ``r_i = d_i / L_i`` over their spans ``L_i`` meet ``sum_{i<j} r_i r_j min(L_i, L_j)`` times,
    summed in one pass over the spans in order.

    >>> rounds = {f"a{i}": [s for s in range(0, 100, 5) if (s // 5 + i) % 3] for i in range(9)}
    >>> c = cotiming(rounds, 100, 360, 3, 32)
    >>> c.members, c.observed, round(c.expected, 1), round(c.ratio, 2), c.nats > 50
    (9, 300, 63.4, 4.74, True)
    >>> own = {f"a{i}": list(range(i, 100, 9)) for i in range(9)}
    >>> cotiming(own, 100, 360, 3, 32).observed
    0
    >>> busy = {f"b{i}": list(range(68, 100)) for i in range(9)}  # full rings: their last hour only
    >>> cotiming(busy, 99, 360, 3, 32).ratio
    1.0
    """
    lo = now_slot - window_slots
    kept = [(len(ring) >= full, [s for s in ring if s > lo]) for ring in rings.values()]
    kept = [(was_full, ring) for was_full, ring in kept if len(ring) >= min_slots]
    if len(kept) < 2:
        return Cotiming(len(kept), 0, 0.0, 0.0)
    per_slot = Counter(s for _, ring in kept for s in ring)
    observed = sum(m * (m - 1) // 2 for m in per_slot.values())
    start = max(lo + 1, min(ring[0] for _, ring in kept))
    spans = sorted((now_slot - (ring[0] if was_full else start) + 1, len(ring)) for was_full, ring in kept)
    expected, later_rate = 0.0, 0.0
    for span, active in reversed(spans):  # longest first: each pair meets over the shorter span
        expected += active * later_rate
        later_rate += active / span
    return Cotiming(len(kept), observed, expected, poisson_excess_nats(observed, expected))


__all__ = ["SLOT_S", "Cotiming", "add_slot", "cotiming", "merge_slots", "poisson_excess_nats", "slot_of"]
