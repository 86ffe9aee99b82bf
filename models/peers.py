"""Population baselines: each account judged against peers of similar age and verification.

Per peer group and feature, two River P² quantile sketches (``river.stats.Quantile``, q50 and q90)
give a robust centre and spread in a few hundred bytes, independent of the number of accounts,
so a brand-new account is judged on day one. Their state is serialised with River's own
(Rust) state bytes (:mod:`distillwatch.models.riverstate`), never pickle.
"""

from __future__ import annotations

import math
import struct
from typing import Final

from river import stats

from distillwatch.models.features import FEATURES, N_FEATURES
from distillwatch.models.riverstate import load_quantile, quantile_state, update_each

WEAK_VERIFICATION: Final = frozenset((-1, 0, 1, 2))  # unknown, none, email, phone
VOUCHED_VERIFICATION: Final = frozenset((4, 5, 7))  # business, edu, research: a vetted organisation stands behind it
# peer_group's answers, age-major: one constant string each, not a new one per closed minute
_GROUP_NAMES: Final = tuple(f"{age}/{strength}" for age in ("unknown", "new", "recent", "established")
                            for strength in ("weak", "verified"))


def peer_group(age_s: float, verification: int, young_s: float, established_s: float) -> str:
    """Age bucket x verification strength: the population an account is compared with.

    >>> week, quarter = 7 * 86400.0, 90 * 86400.0
    >>> peer_group(3600.0, 0, week, quarter), peer_group(400 * 86400.0, 4, week, quarter)
    ('new/weak', 'established/verified')
    >>> peer_group(float("nan"), 3, week, quarter), peer_group(30 * 86400.0, -1, week, quarter)
    ('unknown/verified', 'recent/weak')
    """
    if math.isnan(age_s):
        age = 0
    elif age_s < young_s:
        age = 1
    elif age_s < established_s:
        age = 2
    else:
        age = 3
    return _GROUP_NAMES[2 * age + (verification not in WEAK_VERIFICATION)]


class _Group:
    __slots__ = ("n", "q50", "q90", "cached", "cached_n")

    def __init__(self, refresh: int) -> None:
        self.n = 0
        self.cached: tuple[list[float], list[float]] | None = None
        self.cached_n = -refresh
        self.q50 = [stats.Quantile(0.5) for _ in range(N_FEATURES)]
        self.q90 = [stats.Quantile(0.9) for _ in range(N_FEATURES)]

    def learn(self, x: list[float]) -> None:
        self.n += 1
        update_each(self.q50, x)
        update_each(self.q90, x)


class PeerModel:
    """Streaming per-group quantiles of the feature vector, plus an all-accounts group.

    A group with fewer than ``min_samples`` samples borrows the all-accounts baseline; the
    baseline read off the sketches is refreshed every ``refresh`` samples (reading 26 sketches
    per score is costly)."""

    def __init__(self, min_samples: int, refresh: int) -> None:
        self.min_samples = min_samples
        self.refresh = refresh
        self.groups: dict[str, _Group] = {}

    def learn(self, group: str, x: list[float]) -> None:
        """Add one account sample (at most one per account per hour, so heavy users don't dominate)."""
        for name in (group, "all"):
            g = self.groups.get(name)
            if g is None:
                g = self.groups[name] = _Group(self.refresh)
            g.learn(x)

    def baseline(self, group: str) -> tuple[list[float], list[float]] | None:
        """``(centre, spread)`` per feature for ``group``, or ``None`` before any sample."""
        g = self.groups.get(group)
        min_samples = self.min_samples
        if g is None or g.n < min_samples:
            g = self.groups.get("all")
        if g is None or g.n < min_samples:
            return None  # warming up: nobody is judged against a handful of peers
        if g.n - g.cached_n >= self.refresh:
            centre = [q.get() for q in g.q50]
            spread = [
                max(q90.get() - c, f.min_scale)  # type: ignore[operator]
                for q90, c, f in zip(g.q90, centre, FEATURES, strict=True)
            ]
            g.cached = (centre, spread)  # type: ignore[assignment]  # (river's get() is None only before any sample)
            g.cached_n = g.n
        return g.cached

    def to_bytes(self) -> bytes:
        """Groups in name order; each sketch as River's own length-prefixed state bytes."""
        out = [struct.pack("<H", len(self.groups))]
        for name in sorted(self.groups):
            g = self.groups[name]
            nb = name.encode()
            out.append(struct.pack("<H", len(nb)) + nb + struct.pack("<qq", g.n, g.cached_n))
            # the cached baseline is state too: a restored model must score exactly as before
            cached = g.cached or ([0.0] * N_FEATURES, [0.0] * N_FEATURES)
            out.append(struct.pack(f"<B{2 * N_FEATURES}d", g.cached is not None, *cached[0], *cached[1]))
            for q in (*g.q50, *g.q90):
                blob = quantile_state(q)
                out.append(struct.pack("<I", len(blob)) + blob)
        return b"".join(out)

    def load(self, data: bytes) -> None:
        """Replace the groups with those of :meth:`to_bytes` output."""
        self.groups = {}
        (n_groups,) = struct.unpack_from("<H", data, 0)
        pos = 2
        for _ in range(n_groups):
            (ln,) = struct.unpack_from("<H", data, pos)
            pos += 2
            name = data[pos : pos + ln].decode()
            pos += ln
            g = _Group(self.refresh)
            g.n, g.cached_n = struct.unpack_from("<qq", data, pos)
            pos += 16
            flag, *vals = struct.unpack_from(f"<B{2 * N_FEATURES}d", data, pos)
            pos += 1 + 16 * N_FEATURES
            if flag:
                g.cached = (vals[:N_FEATURES], vals[N_FEATURES:])
            for q in (*g.q50, *g.q90):
                (ln,) = struct.unpack_from("<I", data, pos)
                pos += 4
                load_quantile(q, data[pos : pos + ln])
                pos += ln
            self.groups[name] = g
