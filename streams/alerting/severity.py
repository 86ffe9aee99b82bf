"""Which alerts a reader or a destination wants, on the detector's one severity order."""

from __future__ import annotations

from distillwatch.models.alerts import PAGING, SEVERITIES, SEVERITY_RANK

CHOICES = SEVERITIES[1:]  # "none" is never on an alert


def action(alert: dict) -> str:
    """``trigger`` or ``resolve`` (contract v1.1; a v1 alert has no action and triggers)."""
    return alert.get("action", "trigger")


def wanted(alert: dict, min_severity: str) -> bool:
    """A trigger at or above ``min_severity``; every resolve, so that what opened also closes.

    >>> wanted({"severity": "warning"}, "error"), wanted({"severity": "critical"}, "error")
    (False, True)
    >>> wanted({"severity": "info", "action": "resolve"}, "error")
    True
    """
    return action(alert) == "resolve" or SEVERITY_RANK.get(alert["severity"], 0) >= SEVERITY_RANK[min_severity]


def pages(alert: dict) -> bool:
    """Whether the alert should wake a person (``error`` and ``critical``)."""
    return alert["severity"] in PAGING
