"""PagerDuty Events v2: one event per alert, ``trigger`` or ``resolve`` on the incident's
``dedup_key`` (so a re-sent alert lands on the same incident), linked to the drill-down page."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import ClassVar

import orjson

from distillwatch.streams.alerting import pagerduty
from distillwatch.streams.alerting.destination import Destination, mask_url, post
from distillwatch.streams.alerting.links import drilldown_url

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"


@dataclass
class PagerDutyDestination(Destination):
    """Posts Events v2 to ``url`` with the integration's ``routing_key`` (a secret)."""

    name: ClassVar[str] = "pagerduty"
    routing_key: str = field(repr=False)
    _: KW_ONLY
    url: str = EVENTS_URL
    web_url: str = ""
    runbook_url: str = ""
    min_severity: str = "error"
    timeout_s: float = 10.0

    def send(self, alert: dict) -> None:
        client_url = drilldown_url(alert, self.web_url) if self.web_url else ""
        links = [{"href": client_url, "text": "distillwatch drill-down"}] if client_url else []
        if self.runbook_url:
            links.append({"href": self.runbook_url, "text": "runbook"})
        body = orjson.dumps(pagerduty.event(alert, self.routing_key, client_url, links))
        post(self.url, body, timeout_s=self.timeout_s)

    def describe(self) -> str:
        return f"pagerduty {mask_url(self.url)} (min severity {self.min_severity})"
