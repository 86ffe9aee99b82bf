"""Cluster-stage state: a degree sketch per partition and one :class:`ClusterState` per
attribute value (``payment:…``, ``tls:…``, ``ip24:…``, ``router:…``, ``template:…``)."""

from __future__ import annotations

import math
from array import array

from distillwatch.models.links import Link
from distillwatch.models.lockstep import add_slot, slot_of
from distillwatch.models.sketches import stable_hash
from distillwatch.models.timespans import DAY, HOUR

# A member is a plain list (it goes into the JSON snapshot as is), with these positions (SLOTS: its
# recent active 2-minute slots on this value, for templates only (None otherwise): models/lockstep.py):
FIRST_SEEN, LAST_SEEN, REQUESTS, OUTPUT_TOKENS, HARVEST, YOUNG, TOP_FEATURE, LAST_EVENT, SLOTS = range(9)


class DegreeSketch:
    """Count-min sketches of account-days per attribute value, one for the current UTC day and
    one for the previous: an account reports each value it uses once a day, so a day's table
    counts the value's distinct users that day (over-counted, never under, by collisions).

    Two exact days rather than one decayed table: the hub share compares these with the
    members seen in the same two days (:func:`~distillwatch.models.cluster_scoring.hub_share`),
    which holds on a value's first day and just after a day boundary alike; a decayed table's
    steady state does neither (it overstated a new popular value's share 1.5x, 3x after midnight).
    """

    def __init__(self, width: int, depth: int) -> None:
        self.width = width
        self.depth = depth
        self.today = array("I", bytes(4 * width * depth))
        self.yesterday = array("I", bytes(4 * width * depth))
        self.day = -1

    def _slots(self, key: str) -> list[int]:
        h = stable_hash(key)
        h2 = stable_hash(key[::-1]) | 1
        w = self.width
        return [r * w + ((h + r * h2) % w) for r in range(self.depth)]

    def age_to(self, day: int) -> None:
        """Start ``day``: today's table becomes yesterday's (both clear after a silent day)."""
        if day > self.day:
            empty = array("I", bytes(4 * self.width * self.depth))
            self.yesterday = self.today if day == self.day + 1 else array("I", empty)
            self.today = empty
            self.day = day

    def add(self, key: str) -> None:
        t = self.today
        for s in self._slots(key):
            t[s] += 1

    def estimate(self, key: str) -> int:
        """Account-days on ``key`` over the previous and the current day."""
        today, yesterday = self.today, self.yesterday
        return min(today[s] for s in self._slots(key)) + min(yesterday[s] for s in self._slots(key))

    def to_bytes(self) -> bytes:
        return self.today.tobytes() + self.yesterday.tobytes()

    def load(self, day: int, tables: bytes) -> None:
        """Restore from ``day`` and :meth:`to_bytes`; the shape must match this sketch's."""
        loaded = array("I", tables)
        size = self.width * self.depth
        if len(loaded) != 2 * size:
            raise ValueError("degree sketch snapshot of another shape (cms_width/cms_depth changed, or a snapshot "
                             "from before the two-day sketch: start the cluster stage from an empty changelog)")
        self.day, self.today, self.yesterday = day, loaded[:size], loaded[size:]


class ClusterState:
    """One attribute value's campaign state; members capped, counters decayed in event time.

    ``severity``, ``alert_seq`` and ``alerted_members`` are the open incident's bookkeeping;
    ``scored_ts``/``snapshot_ts`` pace scoring and member snapshots; ``prev_day_members`` counts the
    members seen in the previous UTC day (set at the day boundary, for the hub share)."""

    __slots__ = ("attr", "value", "members", "t_last", "req_day", "out_day", "member_minutes",
                 "active_minutes", "new_hour", "severity", "alert_seq", "alerted_members", "first_ts",
                 "scored_ts", "snapshot_ts", "prev_day_members")

    def __init__(self, attr: str, value: str, ts: float) -> None:
        self.attr = attr
        self.value = value
        self.members: dict[str, list] = {}
        self.t_last = ts
        self.first_ts = ts
        self.req_day = self.out_day = self.member_minutes = self.active_minutes = self.new_hour = 0.0
        self.severity = 0
        self.alert_seq = 0
        self.alerted_members = 0
        self.scored_ts = -math.inf
        self.snapshot_ts = -math.inf
        self.prev_day_members = 0

    def decay_to(self, ts: float) -> None:
        dt = ts - self.t_last
        if dt > 0:
            f = math.exp(-dt / DAY)
            self.req_day *= f
            self.out_day *= f
            self.member_minutes *= f
            self.active_minutes *= f
            self.new_hour *= math.exp(-dt / HOUR)
            self.t_last = ts

    def add(self, link: Link, ts: float, max_members: int, slots: int) -> None:
        """Fold one member's harvest-like minute in; beyond ``max_members`` the least recently
        seen tenth is dropped first. A template keeps each member's last ``slots`` active slots."""
        acc = link.account
        m = self.members.get(acc)
        if m is None:
            if len(self.members) >= max_members:
                self._evict(max_members)
            m = self.members[acc] = [ts, ts, link.requests, link.output_tokens, link.harvest, link.young,
                                     link.top_feature, link.last_event,
                                     [] if self.attr == "template" else None]
            self.new_hour += 1.0
        else:
            m[LAST_SEEN] = ts
            m[REQUESTS] += link.requests
            m[OUTPUT_TOKENS] += link.output_tokens
            m[HARVEST] = max(m[HARVEST] * 0.9, link.harvest)
            m[TOP_FEATURE] = link.top_feature
            m[LAST_EVENT] = link.last_event
        if self.attr == "template":
            add_slot(m[SLOTS], slot_of(link.minute), slots)
        self.req_day += link.requests
        self.out_day += link.output_tokens
        self.member_minutes += 1.0

    def active(self, since: float) -> list[tuple[str, list]]:
        """``(account, member)`` of the members seen at or after ``since``, in joining order."""
        return [(a, m) for a, m in self.members.items() if m[LAST_SEEN] >= since]

    def start_day(self, day_start: float) -> None:
        """A new UTC day starts at ``day_start``: remember how many members the previous one saw."""
        since = day_start - DAY
        self.prev_day_members = sum(1 for m in self.members.values() if m[LAST_SEEN] >= since)

    def day_members(self, day_start: float) -> int:
        """Member-days over the previous and the current day (the window of the degree sketch)."""
        return self.prev_day_members + sum(1 for m in self.members.values() if m[LAST_SEEN] >= day_start)

    def _evict(self, max_members: int) -> None:
        """Drop the least recently seen tenth: keeps memory bounded for giant values."""
        keep = sorted(self.members.items(), key=lambda kv: (-kv[1][LAST_SEEN], kv[0]))
        self.members = dict(keep[: max_members * 9 // 10])


__all__ = ["ClusterState", "DegreeSketch"]
