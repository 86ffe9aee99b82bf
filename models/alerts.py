"""Alerts (alert.md v1): severities, deterministic ids, dedup keys and adaptive thresholds.

An incident is one account or one cluster; its ``dedup_key`` never changes, and an alert is
raised only when the incident opens or escalates, so the pager sees one incident per subject.
"""

from __future__ import annotations

import hashlib
import struct
from datetime import UTC, datetime

from river import stats

from distillwatch.models.riverstate import load_quantile, quantile_state

DETECTOR = "distillwatch/1.0"
SEVERITIES = ("none", "info", "warning", "error", "critical")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
PAGING = frozenset(("error", "critical"))
MAX_ACCOUNTS = 1000
MAX_SAMPLE_EVENTS = 10


def rfc3339(ts: float) -> str:
    """Event time as RFC 3339 with milliseconds and ``Z``."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def dedup_key(kind: str, subject: str) -> str:
    """Stable per incident subject; long subjects are hashed to stay under 255 characters.

    >>> dedup_key("account", "acct-42")
    'distillwatch/account/acct-42'
    >>> dedup_key("cluster", "template:" + "x" * 300)
    'distillwatch/cluster/sha1:...'
    """
    key = f"distillwatch/{kind}/{subject}"
    if len(key) > 255:
        key = f"distillwatch/{kind}/sha1:{hashlib.sha1(subject.encode()).hexdigest()}"
    return key


def alert_id(key: str, seq: int, detected_at: str) -> str:
    """Deterministic: the same input stream raises the same ids."""
    return hashlib.sha1(f"{key}|{seq}|{detected_at}".encode()).hexdigest()[:24]


def make_alert(
    *,
    kind: str,
    subject: str,
    accounts: list[str],
    accounts_total: int,
    severity: str,
    score: float,
    threshold: float,
    detected_at: float,
    window_start: float,
    reasons: list[dict],
    evidence: dict,
    links: list[dict],
    seq: int,
) -> dict:
    """One alert object with every field of alert.md, in the contract's order."""
    key = dedup_key(kind, subject)
    detected = rfc3339(detected_at)
    return {
        "alert_id": alert_id(key, seq, detected),
        "dedup_key": key,
        "kind": kind,
        "subject": subject,
        "accounts": accounts[:MAX_ACCOUNTS],
        "accounts_total": accounts_total,
        "severity": severity,
        "score": round(score, 3),
        "threshold": round(threshold, 3),
        "detected_at": detected,
        "window_start": rfc3339(window_start),
        "window_end": detected,
        "reasons": reasons,
        "evidence": evidence,
        "links": links,
        "detector": DETECTOR,
    }


class AdaptiveThreshold:
    """A streaming quantile of recent scores (River P²), never below a floor.

    The floor keeps a quiet population from paging on noise; the quantile keeps a noisy one
    from paging all day. ``level`` is the threshold in force.
    """

    def __init__(self, q: float, floor: float, min_samples: int) -> None:
        self.floor = floor
        self.min_samples = min_samples  # scores learnt before the quantile replaces the floor
        self.quantile = stats.Quantile(q)
        self.n = 0

    def learn(self, score: float) -> None:
        self.quantile.update(score)
        self.n += 1

    @property
    def level(self) -> float:
        if self.n < self.min_samples:
            return self.floor
        # river's Quantile.get() is None only before its first update; n >= min_samples >= 1 here
        return max(self.floor, self.quantile.get())  # type: ignore[type-var,return-value]

    def to_bytes(self) -> bytes:
        return struct.pack("<q", self.n) + quantile_state(self.quantile)

    def load(self, data: bytes) -> None:
        (self.n,) = struct.unpack_from("<q", data, 0)
        load_quantile(self.quantile, data[8:])
