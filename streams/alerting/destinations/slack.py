"""Slack incoming webhook: one message per alert in Block Kit layout (a header with severity and
subject, the numbers as fields, the top reasons, buttons to the drill-down and the runbook).

Slack cannot deduplicate: a copy sent again after a crash posts again. The webhook URL is the secret.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import ClassVar

import orjson

from distillwatch.streams.alerting.destination import Destination, post
from distillwatch.streams.alerting.links import drilldown_url
from distillwatch.streams.alerting.severity import action
from distillwatch.streams.alerting.text import summary

ICONS = {"critical": ":rotating_light:", "error": ":red_circle:", "warning": ":warning:",
         "info": ":information_source:"}


def message(alert: dict, web_url: str = "", runbook_url: str = "") -> dict:
    """The incoming-webhook payload: ``text`` (notifications, old clients) and ``blocks``."""
    resolved = action(alert) == "resolve"
    icon = ":white_check_mark:" if resolved else ICONS.get(alert["severity"], "")
    label = "RESOLVED" if resolved else alert["severity"].upper()
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{icon} {label} {alert['kind']} "
                                    f"{alert['subject']}"[:150], "emoji": True}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*Score*\n{alert['score']:.1f} (threshold {alert['threshold']:.1f})"},
            {"type": "mrkdwn", "text": f"*Accounts*\n{alert['accounts_total']}"},
            {"type": "mrkdwn", "text": f"*Detected at*\n{alert['detected_at']}"},
            {"type": "mrkdwn", "text": f"*Incident*\n`{alert['dedup_key']}`"},
        ]},
    ]
    reasons = [f"• {r['summary']}" for r in alert.get("reasons", [])[:3]]
    if reasons:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(reasons)[:3000]}})
    buttons = [("Drill-down", drilldown_url(alert, web_url) if web_url else ""), ("Runbook", runbook_url)]
    elements = [{"type": "button", "text": {"type": "plain_text", "text": text}, "url": url}
                for text, url in buttons if url]
    if elements:
        blocks.append({"type": "actions", "elements": elements})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"alert `{alert['alert_id']}` · {alert['detector']}"}]})
    return {"text": summary(alert), "blocks": blocks}


@dataclass
class SlackDestination(Destination):
    """Posts :func:`message` to an incoming-webhook ``url`` (a secret: it is the credential)."""

    name: ClassVar[str] = "slack"
    url: str = field(repr=False)
    _: KW_ONLY
    web_url: str = ""
    runbook_url: str = ""
    min_severity: str = "warning"
    timeout_s: float = 10.0

    def send(self, alert: dict) -> None:
        post(self.url, orjson.dumps(message(alert, self.web_url, self.runbook_url)), timeout_s=self.timeout_s)

    def describe(self) -> str:
        return f"slack incoming webhook (min severity {self.min_severity})"
