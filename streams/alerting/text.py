"""How an alert reads for a person: the lines of ``alerts tail`` and the one-line summary that
PagerDuty, Alertmanager and Slack show as the incident's title."""

from __future__ import annotations

from distillwatch.streams.alerting.links import next_steps
from distillwatch.streams.alerting.severity import action

MAX_SUMMARY = 1024  # PagerDuty's limit on payload.summary


def summary(alert: dict) -> str:
    """``distillwatch <kind> <who>: <top reason>``, cut to PagerDuty's 1,024 characters."""
    top = alert["reasons"][0]["summary"] if alert.get("reasons") else ""
    who = alert["subject"] if alert["kind"] == "account" else (
        f"{alert['subject']} ({alert['accounts_total']} accounts)")
    resolved = "resolved: " if action(alert) == "resolve" else ""
    return f"{resolved}distillwatch {alert['kind']} {who}: {top}"[:MAX_SUMMARY]


def describe(alert: dict) -> str:
    """A few lines an on-call person reads: severity, subject, accounts, top reasons, links."""
    total = alert.get("accounts_total", len(alert.get("accounts", [])))
    accounts = ", ".join(alert.get("accounts", [])[:5]) + (" …" if total > 5 else "")
    label = "RESOLVED" if action(alert) == "resolve" else alert["severity"].upper()
    lines = [
        f"[{label}] {alert['kind']} {alert['subject']}  "
        f"score {alert['score']:.1f} (threshold {alert['threshold']:.1f})  at {alert['detected_at']}",
        f"  accounts ({total}): {accounts}",
    ]
    if alert.get("accounts_added"):
        lines.append(f"  joined since the last alert: {', '.join(alert['accounts_added'][:5])}"
                     + (" …" if len(alert["accounts_added"]) > 5 else ""))
    lines += [f"  - {r['summary']}" for r in alert.get("reasons", [])[:3]]
    lines += [f"  link: {ln['attribute']} = {ln['value']} ({ln['accounts']} accounts)"
              for ln in alert.get("links", [])]
    lines += [f"  next: {step}" for step in next_steps(alert)]
    lines.append(f"  alert {alert['alert_id']}  dedup {alert['dedup_key']}")
    return "\n".join(lines)
