"""Retries, back-off, the dead letter and idempotence, with real destinations and a recording server."""

from __future__ import annotations

from prometheus_client import generate_latest

from distillwatch.streams.alerting.delivery import Deliverer
from distillwatch.streams.alerting.destinations import SlackDestination, WebhookDestination
from tests.alerting.conftest import alert


def _deliverer(recorder, dead: list, waits: list, **kw) -> Deliverer:
    dests = [WebhookDestination(recorder.url("/hook")), SlackDestination(recorder.url("/slack"))]
    return Deliverer(dests, lambda *a: dead.append(a), backoff_s=0.5, sleep=waits.append, **kw)


def test_retries_with_exponential_backoff_then_delivers(recorder):
    recorder.script["/hook"] = [503, 502, 429]
    dead, waits = [], []
    d = _deliverer(recorder, dead, waits, max_attempts=6)
    d.deliver(alert())
    assert waits == [0.5, 1.0, 2.0] and dead == []
    assert len(recorder.received("/hook")) == len(recorder.received("/slack")) == 1
    metrics = generate_latest(d.metrics.registry).decode()
    assert 'distillwatch_notify_delivered_total{destination="webhook"} 1.0' in metrics
    assert 'distillwatch_notify_retried_total{destination="webhook"} 3.0' in metrics
    assert 'distillwatch_notify_delivery_seconds_count{destination="slack"} 1.0' in metrics


def test_bounded_attempts_and_permanent_refusals_go_to_the_dead_letter(recorder):
    recorder.script["/hook"] = [500, 500, 500]
    recorder.script["/slack"] = [404]
    dead, waits = [], []
    d = _deliverer(recorder, dead, waits, max_attempts=3)
    a = alert()
    d.deliver(a)
    assert waits == [0.5, 1.0]  # three webhook attempts; the 404 is not retried
    assert sorted((name, attempts) for _, name, _, attempts in dead) == [("slack", 1), ("webhook", 3)]
    assert all(x[0] is a for x in dead)
    assert 'distillwatch_notify_failed_total{destination="webhook"} 1.0' in generate_latest(
        d.metrics.registry).decode()


def test_an_alert_id_is_delivered_once_per_process_and_below_minimum_nowhere(recorder):
    dead, waits = [], []
    d = _deliverer(recorder, dead, waits)
    a = alert(severity="info")
    d.deliver(a)
    d.deliver(dict(a))
    assert len(recorder.received("/hook")) == 1
    assert recorder.received("/slack") == []  # Slack's minimum is warning
    assert "distillwatch_notify_duplicates_total 1.0" in generate_latest(d.metrics.registry).decode()
