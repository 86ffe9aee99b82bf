"""Campaign-stage state: one :class:`CampaignState` per operation the detector has joined.

Members and clusters are plain lists (they go into the JSON snapshot as they are), indexed by
the positions below. A campaign is small (its members come from cluster reports of at most
1,000 accounts each, and it is forgotten once quiet), so the campaign stage's state stays bounded.
"""

from __future__ import annotations

import hashlib

from distillwatch.models.lockstep import merge_slots

# member: [joined_at, contribution, via (cluster key or "account"), named (1: in some alert)]
M_JOINED, M_CONTRIBUTION, M_VIA, M_NAMED = range(4)
# cluster: [attribute, value, members, requests/day, output tokens/day, samples, score, threshold]
C_ATTRIBUTE, C_VALUE, C_MEMBERS, C_REQUESTS, C_OUTPUT_TOKENS, C_SAMPLES, C_SCORE, C_THRESHOLD = range(8)


def campaign_id(cluster: str, minute: int) -> str:
    """Stable id of the campaign a cluster report founded at ``minute``.

    >>> campaign_id("payment:pf_1", 29000000)
    'cmp-aee2631955a6'
    """
    return "cmp-" + hashlib.sha1(f"{cluster}|{minute}".encode()).hexdigest()[:12]


class CampaignState:
    """One operation: its members, the clusters that tie them, and its incident's bookkeeping
    (``severity``: the highest rank any member signal reached; ``alerted``: the rank of its last
    alert, 0 while it has not paged)."""

    __slots__ = ("id", "created", "last_ts", "members", "clusters", "severity", "alerted", "alert_seq",
                 "alerted_ts", "score", "threshold", "samples", "slots", "harvest_nats", "candidates", "behaviour",
                 "recent")

    def __init__(self, cid: str, created: float) -> None:
        self.id = cid
        self.created = created
        self.last_ts = created
        self.members: dict[str, list] = {}
        self.clusters: dict[str, list] = {}
        self.severity = 0
        self.alerted = 0
        self.alert_seq = 0
        self.alerted_ts = -1.0  # event time of its last alert
        self.score = 0.0
        self.threshold = 0.0
        self.samples: list[str] = []
        self.slots: dict[str, list[int]] = {}  # member -> its recent active slots on the pool's templates
        self.harvest_nats = 0.0  # the pool's harvest CUSUM over its templates' requests (template_evidence.py)
        self.candidates: dict[str, int] = {}  # account -> harvest-like requests it sent on the pool's templates
        # its operation's own behaviour (pool_behaviour.py): test -> [CUSUM nats, {the run's account: minute}]
        self.behaviour: dict[str, list] = {}
        self.recent: dict[str, int] = {}  # account -> the last minute it used the pool's templates (the last hour)

    def add_member(self, acc: str, ts: float, contribution: float, via: str, max_members: int) -> bool:
        """Add or refresh a member; returns whether it is new (beyond ``max_members`` none is added)."""
        m = self.members.get(acc)
        if m is not None:
            m[M_CONTRIBUTION] = max(m[M_CONTRIBUTION], contribution)
            return False
        if len(self.members) >= max_members:
            return False
        self.members[acc] = [ts, contribution, via, 0]
        return True

    def unnamed(self) -> list[str]:
        """Members no alert of this incident has named yet, sorted."""
        return sorted(a for a, m in self.members.items() if not m[M_NAMED])

    def absorb(self, other: CampaignState, keep_slots: int) -> None:
        """Take over a campaign merged into this one; its accounts are named again by this one
        (and keep their newest ``keep_slots`` active slots)."""
        for acc, m in other.members.items():
            mine = self.members.get(acc)
            if mine is None:
                self.members[acc] = [m[M_JOINED], m[M_CONTRIBUTION], m[M_VIA], 0]
            else:
                mine[M_JOINED] = min(mine[M_JOINED], m[M_JOINED])
                mine[M_CONTRIBUTION] = max(mine[M_CONTRIBUTION], m[M_CONTRIBUTION])
        self.clusters.update(other.clusters)
        for acc, ring in other.slots.items():
            self.slots[acc] = merge_slots(self.slots.get(acc, []), ring, keep_slots)
        for acc, k in other.candidates.items():
            self.candidates[acc] = self.candidates.get(acc, 0) + k
        self.harvest_nats = max(self.harvest_nats, other.harvest_nats)
        for acc, minute in other.recent.items():
            self.recent[acc] = max(minute, self.recent.get(acc, minute))
        for kind, (nats, accounts) in other.behaviour.items():
            mine = self.behaviour.setdefault(kind, [0.0, {}])
            mine[0] = max(mine[0], nats)
            for acc, minute in accounts.items():
                mine[1][acc] = min(minute, mine[1].get(acc, minute))
        self.severity = max(self.severity, other.severity)
        self.last_ts = max(self.last_ts, other.last_ts)
        if other.score > self.score:
            self.score, self.threshold = other.score, other.threshold


__all__ = ["CampaignState", "campaign_id"]
