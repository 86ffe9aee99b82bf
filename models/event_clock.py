"""A partition's event time that follows the bulk of its accounts, not one account's extremes.

The watermark used to trail the newest ``ts`` seen, so one account sending a date in 2030 made
every later event "late" for everyone (issue 14). Here event time is the newest of the leading
accounts' newest times that is at most ``lead_s`` past the ``quorum``-th newest: in a busy
partition that is the newest time, as before (the ``quorum``-th account is seconds behind it);
an account running further ahead is left out until ``quorum`` accounts have caught up with it.
Only the ``quorum`` leading accounts are tracked, so an event costs O(quorum) at most, and the
whole clock is a few numbers in the partition snapshot.

What it withstands: fewer than ``quorum`` accounts of a partition with implausible times, even
at the very head of the stream (before the clock is established): once ``quorum`` accounts are
tracked, leaders more than ``max_ahead_s`` ahead of the others are dropped as outliers, and the
processor dead-letters later events more than ``max_ahead_s`` ahead of the clock. Its price: a
partition with fewer than ``quorum`` accounts ever has no event time until the input ends (its
minutes close at a flush, or when the account itself moves on).
"""

from __future__ import annotations

import math


class EventClock:
    """``time``: the partition's event time (``-inf`` until ``quorum`` accounts agree); never decreases."""

    __slots__ = ("quorum", "max_ahead_s", "lead_s", "leaders", "time", "_floor", "_floor_account")

    def __init__(self, quorum: int, max_ahead_s: float, lead_s: float) -> None:
        self.quorum = max(1, quorum)
        self.max_ahead_s = max_ahead_s
        self.lead_s = lead_s
        self.leaders: dict[str, float] = {}  # the accounts with the newest times, at most ``quorum``
        self.time = -math.inf
        self._floor = -math.inf  # the smallest leader time while there are ``quorum`` leaders
        self._floor_account = ""

    def observe(self, account: str, ts: float) -> bool:
        """Fold in one accepted event; whether :attr:`time` moved forward."""
        leaders = self.leaders
        known = leaders.get(account)
        if known is None:
            if len(leaders) >= self.quorum:
                if ts <= self._floor:
                    return False
                del leaders[self._floor_account]
            leaders[account] = ts
        elif ts > known:
            leaders[account] = ts
        else:
            return False
        return self._settle()

    def _settle(self) -> bool:
        leaders = self.leaders
        if len(leaders) < self.quorum:
            self._floor = -math.inf
            return False
        # Runs for nearly every event: one pass for the floor and the newest, and plain loops
        # rather than generators (the same answers: the floor account is the first leader at the floor).
        floor = math.inf
        newest = -math.inf
        for t in leaders.values():
            if t < floor:
                floor = t
            if t > newest:
                newest = t
        if newest > floor + self.max_ahead_s:  # implausibly far ahead of the others: they no longer vote
            limit = floor + self.max_ahead_s
            for acc in [acc for acc, t in leaders.items() if t > limit]:
                del leaders[acc]
            self._floor = -math.inf
            return False
        self._floor = floor
        for acc, t in leaders.items():
            if t == floor:
                self._floor_account = acc
                break
        reach = floor + self.lead_s
        if newest <= reach:
            time = newest
        else:
            time = -math.inf
            for t in leaders.values():
                if time < t <= reach:
                    time = t
        if time > self.time:
            self.time = time
            return True
        return False

    def to_wire(self) -> dict:
        """JSON-able state: ``{"time": t, "leaders": {account: newest time}}`` (leader order kept)."""
        return {"time": self.time, "leaders": dict(self.leaders)}

    def load(self, wire: dict) -> None:
        """Inverse of :meth:`to_wire`."""
        self.time = wire["time"]
        self.leaders = dict(wire["leaders"])
        self._settle()


__all__ = ["EventClock"]
