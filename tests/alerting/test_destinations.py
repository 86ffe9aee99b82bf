"""Each destination against a local recording server: what it posts, and that secrets stay out of
errors and descriptions."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from distillwatch.streams.alerting.destination import DeliveryError, post
from distillwatch.streams.alerting.destinations import (
    AlertmanagerDestination,
    PagerDutyDestination,
    SlackDestination,
    WebhookDestination,
)
from tests.alerting.conftest import alert

WEB = "http://dw.example:6066/"
RUNBOOK = "https://runbooks.example/distillwatch"


def test_pagerduty_trigger_then_resolve_on_one_dedup_key(recorder):
    dest = PagerDutyDestination("R0UTINGKEY-SECRET", url=recorder.url("/v2/enqueue"), web_url=WEB, runbook_url=RUNBOOK)
    dest.send(alert("cluster", "payment:pay-42"))
    dest.send(alert("cluster", "payment:pay-42", seq=2, action="resolve"))
    trigger, resolve = (r.json for r in recorder.received("/v2/enqueue"))
    assert trigger["routing_key"] == "R0UTINGKEY-SECRET" and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == resolve["dedup_key"] == "distillwatch/cluster/payment:pay-42"
    assert trigger["client_url"] == "http://dw.example:6066/#cluster=payment%3Apay-42"
    assert trigger["links"] == [{"href": trigger["client_url"], "text": "distillwatch drill-down"},
                                {"href": RUNBOOK, "text": "runbook"}]
    assert trigger["payload"]["summary"].startswith("distillwatch cluster payment:pay-42 (12 accounts): 53%")
    assert resolve == {"routing_key": "R0UTINGKEY-SECRET", "event_action": "resolve",
                       "dedup_key": "distillwatch/cluster/payment:pay-42"}
    assert "R0UTINGKEY" not in dest.describe()


def test_webhook_body_is_the_alert_signed_with_hmac_sha256(recorder):
    a = alert()
    WebhookDestination(recorder.url("/hook"), secret="s3cret").send(a)
    (got,) = recorder.received("/hook")
    assert got.json == a
    expected = "sha256=" + hmac.new(b"s3cret", got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(got.headers["X-Distillwatch-Signature"], expected)
    assert got.headers["Idempotency-Key"] == a["alert_id"]


def test_slack_message_blocks(recorder):
    dest = SlackDestination(recorder.url("/services/T0/B0/SECRETTOKEN"), web_url=WEB, runbook_url=RUNBOOK)
    dest.send(alert("cluster", "payment:pay-42", severity="critical"))
    dest.send(alert("cluster", "payment:pay-42", severity="critical", seq=2, action="resolve"))
    fired, resolved = (r.json for r in recorder.received())
    header, fields, reasons, actions, context = fired["blocks"]
    assert header["text"]["text"] == ":rotating_light: CRITICAL cluster payment:pay-42"
    assert [f["text"] for f in fields["fields"]][:2] == ["*Score*\n21.5 (threshold 10.0)", "*Accounts*\n12"]
    assert reasons["text"]["text"] == "• 53% of prompts ask for reasoning (peers: 4%)"
    assert [e["url"] for e in actions["elements"]] == ["http://dw.example:6066/#cluster=payment%3Apay-42", RUNBOOK]
    assert fired["text"].startswith("distillwatch cluster payment:pay-42")
    assert resolved["blocks"][0]["text"]["text"] == ":white_check_mark: RESOLVED cluster payment:pay-42"
    assert "SECRETTOKEN" not in dest.describe()


def test_minimum_severity_lets_every_resolve_through():
    dest = PagerDutyDestination("k")  # min severity error
    assert not dest.accepts(alert(severity="warning"))
    assert dest.accepts(alert(severity="critical"))
    assert dest.accepts(alert(severity="warning", action="resolve"))


def test_errors_say_retryable_or_not_and_hide_the_url_path(recorder):
    recorder.script["/services/T0/B0/SECRETTOKEN"] = [503, 400]
    url = recorder.url("/services/T0/B0/SECRETTOKEN")
    with pytest.raises(DeliveryError) as first:
        post(url, b"{}")
    with pytest.raises(DeliveryError) as second:
        post(url, b"{}")
    assert first.value.retryable and not second.value.retryable
    assert str(second.value) == f"http://127.0.0.1:{recorder.server.server_port}/… answered HTTP 400"
    with pytest.raises(DeliveryError) as refused:
        post("http://127.0.0.1:9/services/SECRETTOKEN", b"{}", timeout_s=2)
    assert refused.value.retryable and "SECRETTOKEN" not in str(refused.value)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_alertmanager_labels_escalation_resend_and_resolve(recorder):
    clock = Clock(1770620400.0 + 120)
    dest = AlertmanagerDestination(recorder.url(), web_url=WEB, runbook_url=RUNBOOK, resend_s=60, clock=clock)
    dest.send(alert("campaign", "op-7", severity="warning"))
    (first,) = recorder.received("/api/v2/alerts")[0].json
    assert first["labels"] == {"alertname": "DistillationHarvesting", "severity": "warning", "kind": "campaign",
                               "subject": "op-7", "dedup_key": "distillwatch/campaign/op-7", "campaign": "op-7"}
    assert first["annotations"]["runbook_url"] == RUNBOOK
    assert first["annotations"]["drilldown_url"] == first["generatorURL"] == "http://dw.example:6066/#campaign=op-7"
    assert first["startsAt"] == "2026-02-09T07:00:00.000Z" and first["endsAt"] == "2026-02-09T07:06:00.000Z"

    clock.now += 10  # escalation: the warning ends, the error fires; a member joins the incident
    dest.send(alert("campaign", "op-7", severity="error", seq=2))
    dest.send(alert("account", "acct-9", campaign="op-7"))
    escalated = recorder.received("/api/v2/alerts")[1].json
    assert [(a["labels"]["severity"], a["endsAt"]) for a in escalated] == [
        ("error", "2026-02-09T07:06:10.000Z"), ("warning", "2026-02-09T07:02:10.000Z")]

    clock.now += 49
    dest.tick(clock.now)
    assert len(recorder.received("/api/v2/alerts")) == 3  # not yet due: 59 s since the last re-send
    clock.now += 1
    dest.tick(clock.now)
    resent = recorder.received("/api/v2/alerts")[-1].json
    assert sorted((a["labels"]["subject"], a["labels"]["severity"]) for a in resent) == [
        ("acct-9", "error"), ("op-7", "error")]
    assert {a["endsAt"] for a in resent} == {"2026-02-09T07:07:00.000Z"}

    clock.now += 5
    dest.send(alert("campaign", "op-7", severity="error", seq=3, detected_at=clock.now - 1, action="resolve"))
    ended = recorder.received("/api/v2/alerts")[-1].json
    assert sorted(a["labels"]["subject"] for a in ended) == ["acct-9", "op-7"]
    assert {a["endsAt"] for a in ended} == {"2026-02-09T07:03:04.000Z"}
    assert dest.open == {}


def test_alertmanager_forgets_the_oldest_incidents_beyond_its_bound(recorder):
    dest = AlertmanagerDestination(recorder.url(), max_open=3)
    for i in range(5):
        dest.send(alert(subject=f"acct-{i}"))
    assert list(dest.open) == [f"distillwatch/account/acct-{i}" for i in (2, 3, 4)]


def test_config_output_masks_the_delivery_secrets():
    from distillwatch.streams.settings import Settings

    rows = Settings(slack_webhook_url="https://hooks.slack.com/services/T0/B0/SECRETTOKEN", webhook_secret="s3cret!",
                    pagerduty_routing_key="R0UTINGKEY").describe()
    shown = " ".join(value for _, _, value in rows)
    assert "SECRETTOKEN" not in shown and "s3cret" not in shown and "R0UTINGKEY" not in shown
