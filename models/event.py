"""Request events (request-event.md v1.1): decoding and validation in one pass.

Decoding is the first thing every record meets, so the contract lives in one typed
``msgspec`` Struct whose field constraints are the spec's Limits: the good path validates while
it parses, in C, and the decoded struct *is* the :class:`Event` the detectors read (no dict,
no copy). Only a record that fails is looked at again, to turn msgspec's message into one
precise reason in the spec's words for the dead letter. Sizes are checked on the raw bytes
before anything is parsed, so a hostile record costs at most a small multiple of its bytes.
Unknown fields are ignored (forward compatibility): they count towards the size limits only.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Final, Literal

import msgspec

from distillwatch.models.event_fields import CAPABILITIES, TIME_CEILING, TIME_FLOOR, finish_event

MAX_RECORD_BYTES = 64 * 1024  # one event object
MAX_BATCH_BYTES = 1024 * 1024  # one batch record (a JSON array of events)
MAX_BATCH_EVENTS = 10_000
MAX_STRING_CHARS = 1024
MAX_ID_CHARS = 128
MAX_TOKENS = 10_000_000
MAX_LATENCY_MS = 86_400_000
MAX_N = 128
MAX_ASN = 2**32 - 1
MAX_FUTURE_S: Final = 86400.0  # a ts more than a day ahead of the stream's event time is bad

VERIFICATION_LEVELS = ("none", "email", "phone", "card", "business", "edu", "startup", "research")
IP_TYPES = ("residential", "datacenter", "mobile", "vpn", "proxy", "tor", "unknown")
_REQUIRED = ("event_id", "ts", "account_id", "model", "input_tokens", "output_tokens", "status")

_Meta = msgspec.Meta
Id = Annotated[str, _Meta(min_length=1, max_length=MAX_ID_CHARS)]
Text = Annotated[str, _Meta(max_length=MAX_STRING_CHARS)]
Tokens = Annotated[int, _Meta(ge=0, le=MAX_TOKENS)]
# Shapes msgspec checks by length only; the characters are checked in Event.__post_init__.
Country = Annotated[str, _Meta(min_length=2, max_length=2)]
if TYPE_CHECKING:
    # What every reader of an Event gets: __post_init__ turns times into epoch seconds, the SimHash
    # into its int, the capability into its index, and an absent reasoning_tokens/cot_elicitation
    # into 0. The type checker (and mypyc, which compiles the readers in models/) is told these
    # types; msgspec decodes with the ones below.
    Time = float
    SimHash = int
    Capability = int
    TokensOrZero = int
    ShareOrZero = float
else:
    Time = Annotated[datetime, _Meta(tz=True)] | float
    SimHash = Annotated[str, _Meta(min_length=16, max_length=16)]
    Capability = Literal[CAPABILITIES]
    TokensOrZero = Tokens | None
    ShareOrZero = Annotated[float, _Meta(ge=0, le=1)] | None

# What each field must be, in the spec's words: the reason a producer reads when msgspec
# rejects that field. tests/models/test_event.py breaks every row once.
_RULES = {
    "event_id": f"a string of 1-{MAX_ID_CHARS} characters",
    "account_id": f"a string of 1-{MAX_ID_CHARS} characters",
    "ts": "an RFC 3339 time with an offset (e.g. 2026-02-13T08:15:02.123Z) or epoch seconds",
    "account_created_at": "an RFC 3339 time with an offset (e.g. 2026-02-13T08:15:02.123Z) or epoch seconds",
    "input_tokens": f"an integer 0-{MAX_TOKENS:,}",
    "output_tokens": f"an integer 0-{MAX_TOKENS:,}",
    "reasoning_tokens": f"an integer 0-{MAX_TOKENS:,}",
    "cached_input_tokens": f"an integer 0-{MAX_TOKENS:,}",
    "max_tokens": f"an integer 1-{MAX_TOKENS:,}",
    "status": "an integer 100-599",
    "verification": "one of " + ", ".join(VERIFICATION_LEVELS),
    "ip_type": "one of " + ", ".join(IP_TYPES),
    "capability": "one of " + ", ".join(CAPABILITIES),
    "billing_country": "two upper-case letters (ISO 3166-1 alpha-2)",
    "ip_country": "two upper-case letters (ISO 3166-1 alpha-2)",
    "temperature": "a number 0-2",
    "cot_elicitation": "a number 0-1",
    "n": f"an integer 1-{MAX_N}",
    "logprobs": "a boolean (true or false)",
    "stream": "a boolean (true or false)",
    "refusal": "a boolean (true or false)",
    "latency_ms": f"an integer 0-{MAX_LATENCY_MS:,}",
    "asn": f"an integer 0-{MAX_ASN:,}",
    "prompt_simhash": "exactly 16 hex digits",
    "client_ip": "an IPv4 or IPv6 address",
}
_TEXT_RULE = f"a string of at most {MAX_STRING_CHARS:,} characters"


class BadRecord(ValueError):
    """A record that breaks request-event.md; ``str(exc)`` is the reason for the dead letter."""


class Event(msgspec.Struct, gc=False, rename={"simhash": "prompt_simhash"}):
    """One validated request, decoded straight from JSON with the contract's constraints.

    After decoding, ``ts`` and ``account_created_at`` are epoch seconds (float); ``simhash`` is
    the 64-bit int of ``prompt_simhash`` (or ``None``); ``capability`` is an index into
    :data:`CAPABILITIES` (or ``None``); ``reasoning_tokens`` and ``cot_elicitation`` are 0 when
    absent. The fields the detectors never read are declared so that they are validated.
    """

    event_id: Id
    ts: Time
    account_id: Id
    model: Text
    input_tokens: Tokens
    output_tokens: Tokens
    status: Annotated[int, _Meta(ge=100, le=599)]
    org_id: Text | None = None
    api_key_id: Text | None = None
    account_created_at: Time | None = None
    verification: Literal[VERIFICATION_LEVELS] | None = None
    payment_fingerprint: Text | None = None
    billing_country: Country | None = None
    endpoint: Text | None = None
    reasoning_tokens: TokensOrZero = None
    cached_input_tokens: Tokens | None = None
    max_tokens: Annotated[int, _Meta(ge=1, le=MAX_TOKENS)] | None = None
    temperature: Annotated[float, _Meta(ge=0, le=2)] | None = None
    n: Annotated[int, _Meta(ge=1, le=MAX_N)] | None = None
    logprobs: bool | None = None
    stream: bool | None = None
    latency_ms: Annotated[int, _Meta(ge=0, le=MAX_LATENCY_MS)] | None = None
    client_ip: Text | None = None
    asn: Annotated[int, _Meta(ge=0, le=MAX_ASN)] | None = None
    ip_country: Country | None = None
    ip_type: Literal[IP_TYPES] | None = None
    user_agent: Text | None = None
    tls_fingerprint: Text | None = None
    router_id: Text | None = None
    end_user_id: Text | None = None
    simhash: SimHash | None = None
    prompt_template_id: Text | None = None
    system_prompt_hash: Text | None = None
    prompt_lang: Text | None = None
    capability: Capability | None = None
    cot_elicitation: ShareOrZero = None
    refusal: bool | None = None
    finish_reason: Text | None = None

    # the rules msgspec cannot state and the conversions above, in a compiled module (it runs
    # for every event); msgspec calls it with the struct
    __post_init__ = finish_event


def _bad(field: str, value: object) -> BadRecord:
    return BadRecord(f"{field} must be {_RULES.get(field, _TEXT_RULE)}, got {_show(value)}")


# The spec bounds ts below by 2020-01-01; an account may well be older than that.
_FLOORS = {"ts": (TIME_FLOOR, "2020-01-01"), "account_created_at": (0.0, "1970-01-01")}


def _time_error(value: datetime | float, field: str) -> BadRecord:
    """Why a decoded time is out of ``[floor, 2100-01-01)``."""
    t = value.timestamp() if type(value) is datetime else value
    floor, floor_date = _FLOORS.get(field, _FLOORS["ts"])
    if not math.isfinite(t):
        return BadRecord(f"{field} must be {_RULES['ts']}, got {_show(t)}")
    if t < floor:
        return BadRecord(f"{field} {_show_time(value)} is before {floor_date}")
    return BadRecord(f"{field} {_show_time(value)} is after 2100-01-01 (epoch milliseconds given as seconds?)")


def _show_time(value: datetime | float) -> str:
    return value.isoformat() if type(value) is datetime else f"{value:.15g}"


def _show(v: object) -> str:
    """A rejected value as the producer wrote it, cut short."""
    if v is None:
        return "null"
    if v is True or v is False:
        return "true" if v else "false"
    if type(v) is str:
        return f"a string of {len(v):,} characters" if len(v) > 40 else _encode_json(v).decode()
    if type(v) is float:
        return f"{v!r}" if math.isfinite(v) else "an infinite number"
    if type(v) is int:
        s = str(v)
        return s if len(s) <= 40 else f"an integer of {len(s)} digits"
    return {dict: "an object", list: "an array"}.get(type(v), type(v).__name__)


_AT = re.compile(r"(?P<what>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?", re.S)
_QUOTED = re.compile(r"`([^`]*)`")


def _reason(message: str, doc: object) -> str:
    """One line in the spec's words from a msgspec error; ``doc`` is the record as plain JSON."""
    m = _AT.fullmatch(message)
    what, field = m["what"], m["path"]
    if field:
        rule = _RULES.get(field, _TEXT_RULE)
        if what == "Number out of range":  # 1e400 and the like: infinite as a double
            return f"{field} must be {rule}, got an infinite number"
        value = doc.get(field) if type(doc) is dict else None
        if value is None and field in _REQUIRED:
            return f"required field {field} is missing (null)"
        return f"{field} must be {rule}, got {_show(value)}"
    if what.startswith("Object missing required field"):
        return f"required field {_QUOTED.search(what)[1]} is missing"
    if what.startswith("Expected `object`"):
        return f"a request event must be a JSON object, got {_QUOTED.findall(what)[-1]}"
    return what  # already a reason: raised by Event.__post_init__


_decode_event = msgspec.json.Decoder(Event).decode
_decode_events = msgspec.json.Decoder(Annotated[list[Event], _Meta(max_length=MAX_BATCH_EVENTS)]).decode
_split_batch = msgspec.json.Decoder(list[msgspec.Raw]).decode
_decode_plain = msgspec.json.Decoder().decode
_encode_json = msgspec.json.encode


def _plain(raw: bytes | msgspec.Raw) -> object:
    """The record as untyped JSON, to quote the offending value; ``None`` if even that fails."""
    try:
        return _decode_plain(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None


def _one(raw: bytes | msgspec.Raw) -> Event | str:
    """One event object: the :class:`Event`, or the reason it is bad. Never raises."""
    try:
        return _decode_event(raw)
    except msgspec.ValidationError as exc:
        return _reason(str(exc), _plain(raw))
    except msgspec.DecodeError as exc:
        return f"not valid UTF-8 JSON: {exc}"
    except UnicodeDecodeError:
        return "not valid UTF-8"
    except RecursionError:
        return "not valid UTF-8 JSON: nested too deeply to parse"


def _utf8(raw: bytes) -> bool:
    """msgspec does not check the bytes of fields it skips: the whole record must be UTF-8."""
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def validate(d: object) -> Event:
    """Check one already-parsed object (e.g. from a test or a simulator) against the contract."""
    try:
        return msgspec.convert(d, Event)
    except msgspec.ValidationError as exc:
        raise BadRecord(_reason(str(exc), d)) from None


def parse_time(value: object, field: str) -> float:
    """Epoch seconds from an RFC 3339 string (any offset, ``Z`` allowed) or a number."""
    try:
        t = msgspec.convert(value, Time)
    except msgspec.ValidationError:
        raise BadRecord(f"{field} must be {_RULES['ts']}, got {_show(value)}") from None
    epoch = t.timestamp() if type(t) is datetime else t
    if not _FLOORS.get(field, _FLOORS["ts"])[0] <= epoch < TIME_CEILING:
        raise _time_error(t, field)
    return epoch


def decode(raw: bytes | None) -> tuple[list[Event], list[tuple[bytes, str]]]:
    """Decode one Kafka record or file line: a JSON object or a JSON array of them (a batch).

    Returns the good events and ``(raw_item, reason)`` for each bad one, so one bad event in a
    batch does not take its neighbours with it. Never raises on any input.
    """
    if not raw:
        return [], [(b"", "empty record (a tombstone?): a request event must be a JSON object")]
    first = raw[0]
    if first == 123 or (first != 91 and raw.lstrip()[:1] != b"["):  # 123 is "{", 91 is "[" (a batch)
        if len(raw) > MAX_RECORD_BYTES:
            return [], [(raw[:2048], f"record is {len(raw):,} bytes, over the 64 KiB limit")]
        if not (raw.isascii() or _utf8(raw)):
            return [], [(raw[:2048], "not valid UTF-8")]
        try:  # the good path inline: this module is interpreted, and a call is a frame per record
            return [_decode_event(raw)], []
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            reason = _one(raw)  # why, in the spec's words (decoded again: bad records only)
        return [], [(raw[:2048], reason)]
    if len(raw) > MAX_BATCH_BYTES:
        return [], [(raw[:2048], f"batch record is {len(raw):,} bytes, over the 1 MiB limit")]
    if len(raw) <= MAX_RECORD_BYTES and _utf8(raw):
        # no event in it can be over 64 KiB: try the whole batch in one typed pass first
        try:
            events = _decode_events(raw)
            if events:
                return events, []
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            pass  # some element is bad, or the array is too long: find out which, below
    return _decode_each(raw)


def _decode_each(raw: bytes) -> tuple[list[Event], list[tuple[bytes, str]]]:
    """A batch element by element, so a bad event is dead-lettered alone."""
    try:
        items = _split_batch(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        return [], [(raw[:2048], f"not valid UTF-8 JSON: {exc}")]
    if len(items) > MAX_BATCH_EVENTS:
        return [], [(raw[:2048], f"batch of {len(items):,} events, over the {MAX_BATCH_EVENTS:,} limit")]
    if not items:
        return [], [(raw[:2048], "empty batch: a batch must hold at least one event")]
    good: list[Event] = []
    bad: list[tuple[bytes, str]] = []
    utf8 = _utf8(raw)  # one check for the whole batch; per element only when it fails
    for item in items:
        if len(item) > MAX_RECORD_BYTES:
            ev = f"event in batch is {len(item):,} bytes, over the 64 KiB limit"
        else:
            ev = _one(item) if utf8 or _utf8(bytes(item)) else "not valid UTF-8"
        if type(ev) is Event:
            good.append(ev)
        else:
            bad.append((bytes(memoryview(item)[:2048]), ev))
    return good, bad
