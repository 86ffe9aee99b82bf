"""The one interface an alert destination implements, and the HTTP call most of them make.

Modelled on Quix Streams' sinks: a destination only knows how to hand one alert to one tool
(``send``) and whether a failure is worth retrying (:class:`DeliveryError`); retries, back-off,
the dead letter, idempotence and metrics are the caller's (:mod:`distillwatch.streams.alerting.delivery`), so a
new destination is one small file under :mod:`distillwatch.streams.alerting.destinations`.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from typing import ClassVar

from distillwatch.streams.alerting.severity import wanted

RETRYABLE_STATUS = frozenset((408, 425, 429))


class DeliveryError(Exception):
    """The destination did not accept the alert. ``retryable``: a later attempt may succeed
    (network, 5xx, 429); ``retry_after``: the wait in seconds the destination asked for. The
    message never holds a secret (URLs are masked with :func:`mask_url`)."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Destination(ABC):
    """Where alerts go. ``send`` returns once the destination accepted the alert and raises
    :class:`DeliveryError` otherwise; it may be called again with the same alert (at least once)."""

    name: ClassVar[str]
    min_severity: str = "info"

    def accepts(self, alert: dict) -> bool:
        """Triggers at or above ``min_severity`` and every resolve."""
        return wanted(alert, self.min_severity)

    @abstractmethod
    def send(self, alert: dict) -> None:
        """Deliver one alert (contract v1.1), or raise :class:`DeliveryError`."""

    def tick(self, now: float) -> None:  # noqa: B027 - optional hook, most destinations need none
        """Periodic work between alerts (Alertmanager's re-sends of open alerts); ``now`` in epoch s."""

    def describe(self) -> str:
        """One line for logs: the name and where it delivers, secrets masked."""
        return self.name


def mask_url(url: str) -> str:
    """``scheme://host:port/…``: webhook paths (Slack's) and user info are secrets.

    >>> mask_url("https://user:pw@hooks.slack.com/services/T0/B0/XYZ")
    'https://hooks.slack.com/…'
    >>> mask_url("http://127.0.0.1:9093")
    'http://127.0.0.1:9093'
    """
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return f"{parts.scheme}://{netloc}" + ("/…" if parts.path.strip("/") or parts.query else "")


def post(url: str, body: bytes, *, headers: dict[str, str] | None = None, timeout_s: float = 10.0) -> bytes:
    """POST ``body`` as JSON and return the response body; any failure is a :class:`DeliveryError`
    whose message names the masked URL and the status, never the body or the secret."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "distillwatch", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        retryable = exc.code >= 500 or exc.code in RETRYABLE_STATUS
        raise DeliveryError(f"{mask_url(url)} answered HTTP {exc.code}", retryable=retryable,
                            retry_after=_seconds(exc.headers.get("Retry-After"))) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{mask_url(url)} unreachable: {reason}", retryable=True) from None


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None  # an HTTP date: use our own back-off
