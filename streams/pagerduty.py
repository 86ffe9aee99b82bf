"""PagerDuty Events v2 payloads for alerts, for the bridge that forwards them to a pager.

The alert's ``dedup_key`` is PagerDuty's: an escalation of an open incident re-triggers the same
incident instead of opening another; severities map one to one (critical, error, warning, info).
"""

from __future__ import annotations

MAX_SUMMARY = 1024


def event(alert: dict, routing_key: str) -> dict:
    """The Events v2 ``trigger`` for one alert, reasons and evidence in ``custom_details``."""
    top = alert["reasons"][0]["summary"] if alert.get("reasons") else ""
    who = alert["subject"] if alert["kind"] == "account" else (
        f"{alert['subject']} ({alert['accounts_total']} accounts)")
    summary = f"distillwatch {alert['kind']} {who}: {top}"
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": alert["dedup_key"],
        "client": "distillwatch",
        "payload": {
            "summary": summary[:MAX_SUMMARY],
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
                "reasons": [r["summary"] for r in alert.get("reasons", [])],
                "evidence": alert.get("evidence", {}),
                "links": alert.get("links", []),
                "next_steps": next_steps(alert),
            },
        },
    }


def next_steps(alert: dict) -> list[str]:
    """What an on-call person runs next to decide, as ``distillwatch query`` commands."""
    at = alert["detected_at"][:19].replace("T", " ")
    if alert["kind"] == "account":
        return [
            f"distillwatch query account_timeline --param account_id={alert['subject']} --param at='{at}'",
            f"distillwatch query account_days --param account_id={alert['subject']} "
            f"--param start='{alert['window_start'][:10]} 00:00:00' --param end='{at}'",
        ]
    return [
        f"distillwatch query cluster_members --param cluster_id='{alert['subject']}'",
        f"distillwatch query cluster_links --param cluster_id='{alert['subject']}' "
        f"--param start='{alert['window_start'][:19].replace('T', ' ')}' --param end='{at}'",
        f"distillwatch query cluster_growth --param cluster_id='{alert['subject']}' "
        f"--param start='{alert['window_start'][:19].replace('T', ' ')}' --param end='{at}'",
    ]
