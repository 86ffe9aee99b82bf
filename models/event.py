"""Request events (request-event.md v1): decoding and validation.

Decoding is the first thing every record meets, so the good path is a single ``orjson.loads``
plus a handful of type checks; a bad record gets one precise reason a producer can act on and
goes to the dead letter. Unknown fields are ignored (forward compatibility).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import orjson

MAX_RECORD_BYTES = 64 * 1024
MAX_STRING_CHARS = 1024
MAX_ID_CHARS = 128
MAX_FUTURE_S = 86400.0  # a ts more than a day ahead of the newest event time seen is bad

VERIFICATION_LEVELS = ("none", "email", "phone", "card", "business", "edu", "startup", "research")
CAPABILITIES = ("coding", "agentic", "math", "reasoning", "vision", "writing", "chat", "other")
_CAPABILITY_INDEX = {c: i for i, c in enumerate(CAPABILITIES)}

_REQUIRED = ("event_id", "ts", "account_id", "model", "input_tokens", "output_tokens", "status")
_OPTIONAL_STR = (
    "org_id", "api_key_id", "verification", "payment_fingerprint", "billing_country", "endpoint",
    "client_ip", "ip_country", "ip_type", "user_agent", "tls_fingerprint", "router_id",
    "end_user_id", "prompt_simhash", "prompt_template_id", "system_prompt_hash", "prompt_lang",
    "capability", "finish_reason",
)
_OPTIONAL_COUNT = ("reasoning_tokens", "cached_input_tokens", "latency_ms")


class BadRecord(ValueError):
    """A record that breaks request-event.md; ``str(exc)`` is the reason for the dead letter."""


class Event:
    """One validated request, with the fields the detectors use already converted.

    ``ts`` and ``account_created_at`` are epoch seconds; ``simhash`` is the 64-bit int of
    ``prompt_simhash`` (or ``None``); ``capability`` is an index into :data:`CAPABILITIES`.
    """

    __slots__ = (
        "event_id", "ts", "account_id", "model", "input_tokens", "output_tokens", "status",
        "account_created_at", "verification", "payment_fingerprint", "endpoint",
        "reasoning_tokens", "max_tokens", "client_ip", "asn", "tls_fingerprint",
        "router_id", "end_user_id", "simhash", "prompt_template_id", "capability",
        "cot_elicitation", "finish_reason",
    )

    def __init__(self, d: dict) -> None:
        self.event_id = d["event_id"]
        self.ts = d["ts"]
        self.account_id = d["account_id"]
        self.model = d["model"]
        self.input_tokens = d["input_tokens"]
        self.output_tokens = d["output_tokens"]
        self.status = d["status"]
        g = d.get
        self.account_created_at = g("account_created_at")
        self.verification = g("verification")
        self.payment_fingerprint = g("payment_fingerprint")
        self.endpoint = g("endpoint")
        self.reasoning_tokens = g("reasoning_tokens") or 0
        self.max_tokens = g("max_tokens")
        self.client_ip = g("client_ip")
        self.asn = g("asn")
        self.tls_fingerprint = g("tls_fingerprint")
        self.router_id = g("router_id")
        self.end_user_id = g("end_user_id")
        self.simhash = g("prompt_simhash")
        self.prompt_template_id = g("prompt_template_id")
        self.capability = g("capability")
        self.cot_elicitation = g("cot_elicitation") or 0.0
        self.finish_reason = g("finish_reason")


def parse_time(value: object, field: str) -> float:
    """Epoch seconds from an RFC 3339 string (any offset, ``Z`` allowed) or a number."""
    if isinstance(value, bool):
        raise BadRecord(f"{field} must be an RFC 3339 string or epoch seconds, got a boolean")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise BadRecord(f"{field} is not a finite number")
        return float(value)
    if not isinstance(value, str):
        raise BadRecord(f"{field} must be an RFC 3339 string or epoch seconds, got {type(value).__name__}")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise BadRecord(f"{field} {value[:40]!r} is not an RFC 3339 time (e.g. 2026-02-13T08:15:02.123Z)") from None
    if dt.tzinfo is None:
        raise BadRecord(f"{field} {value[:40]!r} has no UTC offset (add Z or +00:00)")
    return dt.timestamp()


def _check_count(d: dict, key: str) -> None:
    v = d[key]
    if type(v) is not int:  # bool is an int subclass: reject it too
        raise BadRecord(f"{key} must be an integer >= 0, got {type(v).__name__} {str(v)[:20]}")
    if v < 0:
        raise BadRecord(f"{key} must be an integer >= 0, got {v}")


@lru_cache(maxsize=65536)
def _parse_created(value: str) -> float:
    """``account_created_at`` repeats on every event of an account: parse each string once."""
    return parse_time(value, "account_created_at")


def _check_id(v: object, key: str) -> None:
    if type(v) is not str:
        raise BadRecord(f"{key} must be a string, got {type(v).__name__}")
    if not 0 < len(v) <= MAX_ID_CHARS:
        raise BadRecord(f"{key} must be 1-{MAX_ID_CHARS} characters, got {len(v)}")


def validate(d: object, long_strings: bool = True) -> Event:
    """Check one decoded object against the contract and build its :class:`Event`.

    ``long_strings=False`` is the caller's promise that the raw record holds no string over
    1,024 characters (see :func:`decode`), which skips the per-field length checks.
    """
    if type(d) is not dict:
        raise BadRecord(f"a request event must be a JSON object, got {type(d).__name__}")
    g = d.get
    for key in _REQUIRED:
        if g(key) is None:
            raise BadRecord(f"required field {key} is missing")
    _check_id(d["event_id"], "event_id")
    _check_id(d["account_id"], "account_id")
    model = d["model"]
    if type(model) is not str or (long_strings and len(model) > MAX_STRING_CHARS):
        raise BadRecord(f"model must be a string of at most {MAX_STRING_CHARS} characters")
    _check_count(d, "input_tokens")
    _check_count(d, "output_tokens")
    status = d["status"]
    if type(status) is not int or not 100 <= status <= 599:
        raise BadRecord(f"status must be an integer 100-599, got {str(status)[:20]}")
    for key in _OPTIONAL_STR:
        v = g(key)
        if v is not None and (type(v) is not str or (long_strings and len(v) > MAX_STRING_CHARS)):
            raise BadRecord(f"{key} must be a string of at most {MAX_STRING_CHARS} characters")
    for key in _OPTIONAL_COUNT:
        if g(key) is not None:
            _check_count(d, key)
    if long_strings:
        for key, v in d.items():
            if type(v) is str and len(v) > MAX_STRING_CHARS:
                raise BadRecord(f"{key[:40]} is {len(v)} characters, over the {MAX_STRING_CHARS} limit")
    d["ts"] = parse_time(d["ts"], "ts")
    _validate_optional_numbers(d)
    return Event(d)


def _validate_optional_numbers(d: dict) -> None:
    """Convert and range-check the optional fields the detectors read as numbers."""
    created = d.get("account_created_at")
    if created is not None:
        d["account_created_at"] = (
            _parse_created(created) if type(created) is str else parse_time(created, "account_created_at")
        )
    mt = d.get("max_tokens")
    if mt is not None and (type(mt) is not int or mt < 1):
        raise BadRecord(f"max_tokens must be an integer >= 1, got {str(mt)[:20]}")
    asn = d.get("asn")
    if asn is not None and type(asn) is not int:
        raise BadRecord(f"asn must be an integer, got {type(asn).__name__}")
    cot = d.get("cot_elicitation")
    if cot is not None:
        if isinstance(cot, bool) or not isinstance(cot, (int, float)) or not 0 <= cot <= 1:
            raise BadRecord(f"cot_elicitation must be a number 0-1, got {str(cot)[:20]}")
        d["cot_elicitation"] = float(cot)
    sh = d.get("prompt_simhash")
    if sh is not None:
        if len(sh) != 16:
            raise BadRecord(f"prompt_simhash must be 16 hex digits, got {len(sh)} characters")
        try:
            d["prompt_simhash"] = int(sh, 16)
        except ValueError:
            raise BadRecord("prompt_simhash must be 16 hex digits") from None
    cap = d.get("capability")
    d["capability"] = _CAPABILITY_INDEX.get(cap, 7) if cap is not None else None


def decode(raw: bytes) -> tuple[list[Event], list[tuple[bytes, str]]]:
    """Decode one Kafka record or file line: a JSON object or a JSON array of them (a batch).

    Returns the good events and ``(raw_item, reason)`` for each bad one, so one bad event in a
    batch does not take its neighbours with it.
    """
    is_batch = raw[:1] == b"[" or raw.lstrip()[:1] == b"["
    if len(raw) > MAX_RECORD_BYTES and not is_batch:
        return [], [(raw[:2048], f"record is {len(raw)} bytes, over the 64 KiB limit")]
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return [], [(raw[:2048], f"not valid UTF-8 JSON: {exc}")]
    # one C-speed scan of the raw bytes: without 1,025 characters free of an unescaped quote,
    # no string in the record can be over the limit, and the per-field checks are skipped
    long_strings = len(raw) > MAX_STRING_CHARS and (
        b'\\"' in raw or max(map(len, raw.split(b'"'))) > MAX_STRING_CHARS
    )
    if not isinstance(obj, list):
        try:
            return [validate(obj, long_strings)], []
        except BadRecord as exc:
            return [], [(raw[:2048], str(exc))]
    # An event inside a batch can only be over the limit if the batch is: small batches skip
    # the per-event re-serialisation entirely.
    size_each = len(raw) > MAX_RECORD_BYTES
    good: list[Event] = []
    bad: list[tuple[bytes, str]] = []
    for item in obj:
        try:
            if size_each and len(orjson.dumps(item)) > MAX_RECORD_BYTES:
                raise BadRecord("event in batch is over the 64 KiB limit")
            good.append(validate(item, long_strings))
        except BadRecord as exc:
            bad.append((orjson.dumps(item)[:2048], str(exc)))
    return good, bad
