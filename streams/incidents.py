"""Incidents, not alert rows: alerts grouped by ``dedup_key`` with what people did about them.

An incident is every alert sharing a ``dedup_key`` (alert.md: the open, each escalation, each
update naming accounts that joined, and the detector's ``resolve``). Its severity is the highest
it reached, its members the latest ``accounts_total`` and its growth how many joined since it
opened. People's actions (``incident_actions``: ack, resolve, verdict) fold in on top: the latest
ack/resolve is its state, the latest verdict its label. Pure functions, shared by
``distillwatch incidents``, ``alerts tail --incidents`` and the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from distillwatch.models.alerts import PAGING, SEVERITY_RANK


@dataclass
class Incident:
    dedup_key: str
    kind: str
    subject: str
    severity: str = "info"
    opened_at: str = ""
    last_at: str = ""
    members: int = 0
    first_members: int = 0
    state: str = "open"  # open, acked, resolved (by a person or by the detector)
    by: str = ""
    note: str = ""
    verdict: str = ""
    alerts: list[dict] = field(default_factory=list)  # oldest first
    accounts: list[str] = field(default_factory=list)  # everyone any of its alerts named, first named first

    @property
    def growth(self) -> int:
        return self.members - self.first_members

    @property
    def pages(self) -> bool:
        return self.severity in PAGING

    def matches(self, text: str) -> bool:
        """Whether ``text`` names this incident's subject, one of its accounts, or a value tying
        them (org, payment, IP range such as ``10.1.2`` or ``10.1.2.0/24``, router, template)."""
        text = text.strip().lower()
        if not text:
            return True
        for alert in self.alerts:
            names = [alert["subject"], *alert.get("accounts", ()),
                     *(link.get("value", "") for link in alert.get("links", ()))]
            if any(text in str(n).lower() for n in names):
                return True
        return False

    @property
    def latest(self) -> dict:
        """The newest alert that is not the resolve: the one whose reasons, links and evidence the
        page shows (a resolve carries no new evidence)."""
        triggers = [a for a in self.alerts if a.get("action", "trigger") != "resolve"]
        return (triggers or self.alerts)[-1]

    def summary(self) -> dict:
        """The JSON the page shows: the incident, its folded alert history (one line per alert:
        what changed) and the full member list, to act on all of them and not the 1,000 of one alert."""
        return {"dedup_key": self.dedup_key, "kind": self.kind, "subject": self.subject,
                "severity": self.severity, "opened_at": self.opened_at, "last_at": self.last_at,
                "members": self.members, "growth": self.growth, "state": self.state, "by": self.by,
                "note": self.note, "verdict": self.verdict, "pages": self.pages, "alert_count": len(self.alerts),
                "accounts": self.accounts, "history": [change(a) for a in self.alerts]}


def change(alert: dict) -> dict:
    """One line of an incident's history: when, what kind of alert, and who joined."""
    return {"alert_id": alert["alert_id"], "detected_at": alert["detected_at"],
            "action": alert.get("action", "trigger"), "severity": alert["severity"],
            "accounts_total": alert["accounts_total"], "accounts_added": alert.get("accounts_added", [])}


def group(alerts: Iterable[dict]) -> list[Incident]:
    """Incidents of ``alerts`` (any order), most recently active first."""
    found: dict[str, Incident] = {}
    for alert in sorted(alerts, key=lambda a: (a["detected_at"], a["alert_id"])):
        inc = found.get(alert["dedup_key"])
        if inc is None:
            inc = found[alert["dedup_key"]] = Incident(
                alert["dedup_key"], alert["kind"], alert["subject"], opened_at=alert["detected_at"],
                first_members=alert["accounts_total"])
        inc.alerts.append(alert)
        inc.accounts = list(dict.fromkeys([*inc.accounts, *alert.get("accounts", ()),
                                           *alert.get("accounts_added", ())]))
        inc.last_at = alert["detected_at"]
        if alert.get("action", "trigger") == "resolve":
            inc.state = "resolved"
            inc.by = "detector"
            continue
        inc.state = "open"  # a trigger after a resolve reopens it
        inc.members = alert["accounts_total"]
        if SEVERITY_RANK[alert["severity"]] > SEVERITY_RANK[inc.severity]:
            inc.severity = alert["severity"]
    return sorted(found.values(), key=lambda i: i.last_at, reverse=True)


def fold_actions(incidents: list[Incident], actions: Iterable[dict]) -> None:
    """Apply people's actions (rows of ``incident_actions``: dedup_key, action, verdict, note,
    who, at) in the order they were made; the latest ack or resolve is the state. (Actions carry
    wall-clock time and alerts event time, so the two are never compared.)"""
    by_key = {i.dedup_key: i for i in incidents}
    for act in sorted(actions, key=lambda a: str(a["at"])):
        inc = by_key.get(act["dedup_key"])
        if inc is None:
            continue
        if act["action"] == "verdict":
            inc.verdict = act["verdict"]
        else:
            inc.state = "acked" if act["action"] == "ack" else "resolved"
            inc.by, inc.note = act["who"], act["note"]


def select(incidents: list[Incident], pages_only: bool = True, search: str = "",
           include_closed: bool = False) -> list[Incident]:
    """The page's and the CLI's filter: paging incidents (default), matching ``search``, not resolved."""
    return [i for i in incidents if (i.pages or not pages_only) and i.matches(search)
            and (include_closed or i.state != "resolved")]
