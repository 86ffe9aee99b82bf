"""A generic webhook: the alert JSON as it is on the topic, signed so the receiver can trust it.

``X-Distillwatch-Signature: sha256=<hex>`` is the HMAC-SHA256 of the exact body under the shared
secret (GitHub's scheme: compare with ``hmac.compare_digest``); ``Idempotency-Key`` is the
``alert_id``, so a receiver drops the copies that at-least-once delivery may send.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import KW_ONLY, dataclass, field
from typing import ClassVar

import orjson

from distillwatch.streams.alerting.destination import Destination, mask_url, post

SIGNATURE_HEADER = "X-Distillwatch-Signature"


def signature(body: bytes, secret: str) -> str:
    """The header value for ``body``.

    >>> signature(b'{}', "s3cret")
    'sha256=adbde1ce40c89c14215687d5d762a47df6dfaefcfad61e2e86718ffc8498571b'
    """
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class WebhookDestination(Destination):
    """POSTs each alert to ``url``; signed when ``secret`` is set."""

    name: ClassVar[str] = "webhook"
    url: str
    _: KW_ONLY
    secret: str = field(default="", repr=False)
    timeout_s: float = 10.0

    def send(self, alert: dict) -> None:
        body = orjson.dumps(alert)
        headers = {"Idempotency-Key": alert["alert_id"]}
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(body, self.secret)
        post(self.url, body, headers=headers, timeout_s=self.timeout_s)

    def describe(self) -> str:
        return f"webhook {mask_url(self.url)} ({'signed' if self.secret else 'unsigned'})"
