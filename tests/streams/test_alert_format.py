"""How an alert reads for on-call: the text of `alerts tail` and the PagerDuty Events v2 payload."""

from distillwatch.models.alerts import make_alert
from distillwatch.streams.alerting import pagerduty
from distillwatch.streams.alerting.text import describe


def _alert(kind: str = "cluster") -> dict:
    return make_alert(
        kind=kind, subject="payment:pay-42" if kind == "cluster" else "acct-1",
        accounts=[f"acct-{i}" for i in range(12)], accounts_total=12, severity="error", score=21.5,
        threshold=10.0, detected_at=1770620400.0, window_start=1770534000.0,
        reasons=[{"code": "members", "summary": "12 linked accounts share payment pay-42", "value": 12,
                  "baseline": 1.0}],
        evidence={"requests": 900, "sample_event_ids": ["e1"]},
        links=[{"attribute": "payment", "value": "pay-42", "accounts": 12}], seq=1)


def test_text_names_who_why_and_what_next():
    text = describe(_alert())
    assert text.startswith("[ERROR] cluster payment:pay-42  score 21.5 (threshold 10.0)")
    assert "accounts (12): acct-0, acct-1, acct-2, acct-3, acct-4 …" in text
    assert "- 12 linked accounts share payment pay-42" in text
    assert "link: payment = pay-42 (12 accounts)" in text
    assert "next: distillwatch query cluster_members --param cluster_id=payment:pay-42" in text


def test_pagerduty_event_v2():
    alert = _alert("account")
    ev = pagerduty.event(alert, "R0UTINGKEY")
    assert ev["routing_key"] == "R0UTINGKEY" and ev["event_action"] == "trigger"
    assert ev["dedup_key"] == "distillwatch/account/acct-1"
    assert ev["payload"]["severity"] == "error"
    assert ev["payload"]["timestamp"] == "2026-02-09T07:00:00.000Z"
    assert ev["payload"]["summary"].startswith("distillwatch account acct-1: 12 linked accounts")
    assert ev["payload"]["custom_details"]["next_steps"][0].startswith(
        "distillwatch query account_timeline --param account_id=acct-1 --param at='2026-02-09 07:00:00'")


def test_resolve_reads_as_resolved_and_closes_the_pagerduty_incident():
    alert = {**_alert(), "action": "resolve", "accounts_added": ["acct-12"]}
    text = describe(alert)
    assert text.startswith("[RESOLVED] cluster payment:pay-42")
    assert "joined since the last alert: acct-12" in text
    assert pagerduty.event(alert, "K") == {"routing_key": "K", "event_action": "resolve",
                                           "dedup_key": "distillwatch/cluster/payment:pay-42"}
