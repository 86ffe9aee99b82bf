"""PagerDuty Events v2 events for alerts (https://developer.pagerduty.com/docs/events-api-v2/).

The alert's ``dedup_key`` is PagerDuty's: an escalation or an update of an open incident
re-triggers the same incident instead of opening another, and the contract's ``resolve`` closes it;
severities map one to one (critical, error, warning, info).
"""

from __future__ import annotations

from distillwatch.streams.alerting.links import next_steps
from distillwatch.streams.alerting.severity import action
from distillwatch.streams.alerting.text import summary


def event(alert: dict, routing_key: str, client_url: str = "", links: list[dict] | None = None) -> dict:
    """The Events v2 ``trigger`` (reasons and evidence in ``custom_details``) or ``resolve`` for one
    alert; ``client_url`` and ``links`` ({href, text}) point the responder at the drill-down."""
    if action(alert) == "resolve":
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": alert["dedup_key"]}
    ev = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": alert["dedup_key"],
        "client": "distillwatch",
        "payload": {
            "summary": summary(alert),
            "source": alert["detector"],
            "severity": alert["severity"],
            "timestamp": alert["detected_at"],
            "component": alert["kind"],
            "group": alert["subject"],
            "class": "distillation-harvesting",
            "custom_details": {
                "alert_id": alert["alert_id"],
                "score": alert["score"],
                "threshold": alert["threshold"],
                "window": f"{alert['window_start']} .. {alert['window_end']}",
                "accounts": alert["accounts"][:20],
                "accounts_total": alert["accounts_total"],
                "accounts_added": alert.get("accounts_added", [])[:20],
                "reasons": [r["summary"] for r in alert.get("reasons", [])],
                "evidence": alert.get("evidence", {}),
                "links": alert.get("links", []),
                "next_steps": next_steps(alert),
            },
        },
    }
    if client_url:
        ev["client_url"] = client_url
    if links:
        ev["links"] = links
    return ev
