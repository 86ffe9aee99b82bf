"""Where an on-call person goes next: the worker's drill-down page and the saved queries."""

from __future__ import annotations

import urllib.parse

CAMPAIGN_PREFIX = "distillwatch/campaign/"


def drilldown_url(alert: dict, web_url: str) -> str:
    """The on-call page of the worker at ``web_url`` opened on the alert's subject.

    >>> drilldown_url({"kind": "cluster", "subject": "payment:pay 1"}, "http://dw:6066/")
    'http://dw:6066/#cluster=payment%3Apay%201'
    """
    return f"{web_url.rstrip('/')}/#{alert['kind']}={urllib.parse.quote(alert['subject'], safe='')}"


def campaign_of(alert: dict) -> str | None:
    """The campaign an alert belongs to: its subject, or the campaign whose ``dedup_key`` a member
    account's or cluster's alert carries (contract v1.1); ``None`` outside any campaign."""
    if alert["kind"] == "campaign":
        return alert["subject"]
    key = alert["dedup_key"]
    return key[len(CAMPAIGN_PREFIX):] if key.startswith(CAMPAIGN_PREFIX) else None


def next_steps(alert: dict) -> list[str]:
    """What an on-call person runs next to decide, as ``distillwatch query`` commands."""
    at = alert["detected_at"][:19].replace("T", " ")
    start = alert["window_start"][:19].replace("T", " ")
    if alert["kind"] == "account":
        return [
            f"distillwatch query account_timeline --param account_id={alert['subject']} --param at='{at}'",
            f"distillwatch query account_days --param account_id={alert['subject']} "
            f"--param start='{alert['window_start'][:10]} 00:00:00' --param end='{at}'",
        ]
    if alert["kind"] == "campaign":
        return [f"distillwatch query \"SELECT detected_at, kind, subject, severity, accounts_total FROM alerts "
                f"FINAL WHERE dedup_key = '{alert['dedup_key']}' ORDER BY detected_at\""]
    return [
        f"distillwatch query cluster_members --param cluster_id='{alert['subject']}'",
        f"distillwatch query cluster_links --param cluster_id='{alert['subject']}' "
        f"--param start='{start}' --param end='{at}'",
        f"distillwatch query cluster_growth --param cluster_id='{alert['subject']}' "
        f"--param start='{start}' --param end='{at}'",
    ]
