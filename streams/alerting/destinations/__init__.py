"""One file per alert destination; :func:`configured` builds those the settings turn on."""

from __future__ import annotations

from distillwatch.streams.alerting.destination import Destination
from distillwatch.streams.alerting.destinations.alertmanager import AlertmanagerDestination
from distillwatch.streams.alerting.destinations.pagerduty import PagerDutyDestination
from distillwatch.streams.alerting.destinations.slack import SlackDestination
from distillwatch.streams.alerting.destinations.webhook import WebhookDestination
from distillwatch.streams.settings import Settings

__all__ = ["AlertmanagerDestination", "PagerDutyDestination", "SlackDestination", "WebhookDestination",
           "configured"]


def configured(cfg: Settings) -> list[Destination]:
    """Every destination whose URL or key is set, in a fixed order."""
    out: list[Destination] = []
    links = {"web_url": cfg.web_url, "runbook_url": cfg.runbook_url}
    if cfg.alertmanager_url:
        out.append(AlertmanagerDestination(cfg.alertmanager_url, resend_s=cfg.alertmanager_resend_s,
                                           max_open=cfg.alertmanager_max_open, timeout_s=cfg.notify_timeout_s,
                                           **links))
    if cfg.pagerduty_routing_key:
        out.append(PagerDutyDestination(cfg.pagerduty_routing_key, url=cfg.pagerduty_url,
                                        min_severity=cfg.pagerduty_min_severity, timeout_s=cfg.notify_timeout_s,
                                        **links))
    if cfg.webhook_url:
        out.append(WebhookDestination(cfg.webhook_url, secret=cfg.webhook_secret, timeout_s=cfg.notify_timeout_s))
    if cfg.slack_webhook_url:
        out.append(SlackDestination(cfg.slack_webhook_url, min_severity=cfg.slack_min_severity,
                                    timeout_s=cfg.notify_timeout_s, **links))
    return out
