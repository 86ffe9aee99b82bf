"""Prometheus Alertmanager, API v2 (``POST /api/v2/alerts``).

Alertmanager identifies an alert by its labels and considers it firing until ``endsAt``; a client
keeps re-sending what is still open, as Prometheus does, or Alertmanager resolves it on its own.
So this destination remembers the open alerts (bounded: the oldest incidents are forgotten first
and then simply expire), re-sends them every ``resend_s`` with ``endsAt`` four intervals ahead,
and on the contract's ``resolve`` sends every alert of that incident (``dedup_key``) with
``endsAt`` set. An escalation changes the ``severity`` label, so the previous severity's alert is
ended in the same request instead of lingering.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import ClassVar

import orjson

from distillwatch.models.alerts import rfc3339
from distillwatch.models.event import parse_time
from distillwatch.streams.alerting.destination import DeliveryError, Destination, mask_url, post
from distillwatch.streams.alerting.links import campaign_of, drilldown_url
from distillwatch.streams.alerting.severity import action
from distillwatch.streams.alerting.text import summary

ALERTNAME = "DistillationHarvesting"
CHUNK = 500  # alerts per re-send request

log = logging.getLogger(__name__)


def labels(alert: dict) -> dict[str, str]:
    """What Alertmanager routes, groups, silences and inhibits on."""
    out = {"alertname": ALERTNAME, "severity": alert["severity"], "kind": alert["kind"],
           "subject": alert["subject"], "dedup_key": alert["dedup_key"]}
    campaign = campaign_of(alert)
    if campaign:
        out["campaign"] = campaign
    return out


def annotations(alert: dict, web_url: str, runbook_url: str) -> dict[str, str]:
    """What a person reads in the notification: the summary, the top reasons, where to go next."""
    out = {"summary": summary(alert),
           "description": "\n".join(r["summary"] for r in alert.get("reasons", [])[:3]),
           "alert_id": alert["alert_id"]}
    if web_url:
        out["drilldown_url"] = drilldown_url(alert, web_url)
    if runbook_url:
        out["runbook_url"] = runbook_url
    return out


@dataclass
class AlertmanagerDestination(Destination):
    """Posts to the Alertmanager at ``url`` (e.g. ``http://127.0.0.1:9093``)."""

    name: ClassVar[str] = "alertmanager"
    url: str
    _: KW_ONLY
    web_url: str = ""
    runbook_url: str = ""
    resend_s: float = 60.0
    max_open: int = 10_000
    timeout_s: float = 10.0
    clock: Callable[[], float] = time.time
    open: OrderedDict[str, dict[tuple[str, str], dict]] = field(  # dedup_key -> (kind, subject) -> alert
        default_factory=OrderedDict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._endpoint = self.url.rstrip("/") + "/api/v2/alerts"
        self._last_resend = self.clock()

    def send(self, alert: dict) -> None:
        now = self.clock()
        key = alert["dedup_key"]
        member = (alert["kind"], alert["subject"])
        previous = self.open.get(key, {})
        if action(alert) == "resolve":
            end = min(parse_time(alert["detected_at"], "detected_at"), now)
            ending = list(previous.values()) if member in previous else [*previous.values(), self._alert(alert, now)]
            self._post([{**a, "endsAt": rfc3339(max(end, a["_start"]))} for a in ending])
            self.open.pop(key, None)
            return
        fresh = self._alert(alert, now)
        batch = [{**fresh, "endsAt": rfc3339(now + 4 * self.resend_s)}]
        old = previous.get(member)
        if old is not None and old["labels"] != fresh["labels"]:
            batch.append({**old, "endsAt": rfc3339(now)})  # the escalated-from severity ends here
        self._post(batch)
        self.open.setdefault(key, {})[member] = fresh
        self.open.move_to_end(key)
        while sum(len(m) for m in self.open.values()) > self.max_open:
            self.open.popitem(last=False)

    def tick(self, now: float) -> None:
        """Re-send every open alert once per ``resend_s``; a failure waits for the next tick."""
        if now - self._last_resend < self.resend_s:
            return
        self._last_resend = now
        ends = rfc3339(now + 4 * self.resend_s)
        alerts = [{**a, "endsAt": ends} for members in self.open.values() for a in members.values()]
        try:
            for i in range(0, len(alerts), CHUNK):
                self._post(alerts[i:i + CHUNK])
        except DeliveryError as exc:
            log.warning("alertmanager re-send of %d open alerts failed: %s", len(alerts), exc)

    def _alert(self, alert: dict, now: float) -> dict:
        start = min(parse_time(alert["detected_at"], "detected_at"), now)  # event time may run ahead of the wall clock
        out = {"labels": labels(alert), "annotations": annotations(alert, self.web_url, self.runbook_url),
               "startsAt": rfc3339(start), "_start": start}
        if self.web_url:
            out["generatorURL"] = drilldown_url(alert, self.web_url)
        return out

    def _post(self, batch: list[dict]) -> None:
        body = orjson.dumps([{k: v for k, v in a.items() if not k.startswith("_")} for a in batch])
        post(self._endpoint, body, timeout_s=self.timeout_s)

    def describe(self) -> str:
        return f"alertmanager {mask_url(self.url)} (re-sent every {self.resend_s:g} s)"
