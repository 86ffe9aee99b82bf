"""Where an on-call person goes next: the worker's drill-down page and the saved queries."""

from __future__ import annotations

import shlex
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
    """What an on-call person runs next to decide, as ``distillwatch query`` commands.

    Every value is shell-quoted: subjects come from traffic, and these lines are meant to be pasted.
    """
    at = alert["detected_at"][:19].replace("T", " ")
    start = alert["window_start"][:19].replace("T", " ")
    if alert["kind"] == "account":
        account = alert["subject"]
        return [_query("account_timeline", account_id=account, at=at),
                _query("account_days", account_id=account, start=f"{alert['window_start'][:10]} 00:00:00", end=at)]
    if alert["kind"] == "campaign":
        return [_query("incident_alerts", dedup_key=alert["dedup_key"])]
    cluster = alert["subject"]
    return [_query("cluster_members", cluster_id=cluster),
            _query("cluster_links", cluster_id=cluster, start=start, end=at),
            _query("cluster_growth", cluster_id=cluster, start=start, end=at)]


def _query(name: str, **params: str) -> str:
    """``distillwatch query NAME --param k=v …`` with each value quoted for a POSIX shell.

    >>> _query("cluster_members", cluster_id="ip24:1.2.3.0/24; rm -rf ~")
    "distillwatch query cluster_members --param cluster_id='ip24:1.2.3.0/24; rm -rf ~'"
    """
    return " ".join(["distillwatch query", name, *(f"--param {k}={shlex.quote(v)}" for k, v in params.items())])
