"""Suppressions: analysts' "this subject is fine until T", applied where the final alert is emitted.

A suppression names an attribute (``account``, ``org``, ``payment``, ``ip24``, ``router``,
``template``), a value and an end in EVENT time. While it lasts, an alert about that subject does
not page: a paging alert (``error``/``critical``, ``trigger``) is emitted at ``warning`` instead,
so it still logs and its id, dedup key and history are unchanged. Event time (never the wall
clock) keeps replay and stream identical: :func:`apply_suppressions` is the single call both the
streaming stages and ``distillwatch replay --suppressions`` make, with the same table.

Pure: no I/O here; the stream fills the table from a compacted topic, replay from a file
(:func:`parse_line` reads the contract's line form, ``spec/cli.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from distillwatch.models.alerts import rfc3339
from distillwatch.models.event import parse_time

ATTRIBUTES = ("account", "org", "payment", "ip24", "router", "template")
PAGING = ("error", "critical")
BELOW_PAGING = "warning"


@dataclass(frozen=True)
class Suppression:
    attribute: str
    value: str
    until: float  # event time, epoch seconds
    reason: str

    @property
    def key(self) -> str:
        """The table key: ``attribute:value``, the same form as a cluster's subject."""
        return f"{self.attribute}:{self.value}"


SuppressionTable = Mapping[str, Suppression]  # Suppression.key -> Suppression


def parse_line(line: str | bytes) -> Suppression:
    """One ``{attribute, value, until, reason}`` JSON object; ``ValueError`` says what is wrong."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not a JSON object: {exc}") from None
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    attribute, value = obj.get("attribute"), obj.get("value")
    if attribute not in ATTRIBUTES:
        raise ValueError(f"attribute must be one of {', '.join(ATTRIBUTES)}, not {attribute!r}")
    if not isinstance(value, str) or not value:
        raise ValueError("value must be a non-empty string")
    until = obj.get("until")
    if not isinstance(until, str):
        raise ValueError("until must be an RFC 3339 time")
    return Suppression(attribute, value, parse_time(until, "until"), str(obj.get("reason", "")))


def to_line(s: Suppression, **extra: str) -> bytes:
    """The contract's line form of ``s`` (what :func:`parse_line` reads), plus ``extra`` fields
    (who added it, when) that readers ignore."""
    return orjson.dumps({"attribute": s.attribute, "value": s.value, "until": rfc3339(s.until),
                         "reason": s.reason, **extra})


def table_of(suppressions: list[Suppression]) -> dict[str, Suppression]:
    """The lookup table; for a subject suppressed twice the later end wins."""
    table: dict[str, Suppression] = {}
    for s in suppressions:
        if s.key not in table or s.until > table[s.key].until:
            table[s.key] = s
    return table


def suppressed_by(alert: Mapping, table: SuppressionTable, ts: float) -> Suppression | None:
    """The suppression covering ``alert`` at event time ``ts``, or ``None``.

    An account alert matches ``account:SUBJECT`` or ``org:`` its org (``evidence.org``, when the
    account sends one); a cluster alert matches its subject
    (``payment:…``, ``ip24:…``, …); a cluster or campaign alert matches ``account:`` suppressions
    covering every account it implicates.
    """
    def live(key: str) -> Suppression | None:
        found = table.get(key)
        return found if found is not None and ts < found.until else None

    if alert["kind"] == "account":
        org = alert.get("evidence", {}).get("org")
        return live(f"account:{alert['subject']}") or (live(f"org:{org}") if org else None)
    if alert["kind"] == "cluster":
        direct = live(alert["subject"])
        if direct is not None:
            return direct
    if alert["kind"] in ("cluster", "campaign"):
        members = [live(f"account:{a}") for a in alert.get("accounts", ())]
        if members and all(members) and len(members) == alert.get("accounts_total", len(members)):
            return members[0]
    return None


def apply_suppressions(alert: dict, table: SuppressionTable, ts: float | None = None) -> dict:
    """``alert`` as it may leave the detector at event time ``ts`` (default: its ``detected_at``):
    unchanged, or, for a paging trigger about a suppressed subject, the same alert at ``warning``
    (it logs, it does not page)."""
    if not table or alert["severity"] not in PAGING or alert.get("action", "trigger") != "trigger":
        return alert
    if ts is None:
        ts = parse_time(alert["detected_at"], "detected_at")
    if suppressed_by(alert, table, ts) is None:
        return alert
    return {**alert, "severity": BELOW_PAGING}
