"""The per-event part of decoding that msgspec cannot do in C: :class:`~distillwatch.models.event.Event`'s
``__post_init__``. It runs for every event, so it lives in its own module, which the mypyc build
compiles (``event`` itself cannot be: it is a msgspec Struct); msgspec calls it with the decoded
struct, compiled or not (``DW_PURE=1``), and turns a :class:`~distillwatch.models.event.BadRecord`
it raises into the record's dead-letter reason.
"""

from __future__ import annotations

import ipaddress
import string
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

TIME_FLOOR: Final = 1_577_836_800.0  # 2020-01-01T00:00:00Z: a ts before it is bad
# 2100-01-01T00:00:00Z: no stream can be that far ahead; catches year 9999 and epoch
# milliseconds sent as seconds. The stream-relative "more than a day ahead" check is the processor's.
TIME_CEILING: Final = 4_102_444_800.0
CAPABILITIES: Final = ("coding", "agentic", "math", "reasoning", "vision", "writing", "chat", "other")
_CAPABILITY_INDEX: Final = {c: i for i, c in enumerate(CAPABILITIES)}
# Shapes msgspec checks by length only; the characters are checked here, because a regex
# constraint per field costs more than the rest of the decoding put together.
_COUNTRY_SHAPE: Final = frozenset(a + b for a in string.ascii_uppercase for b in string.ascii_uppercase)
_HEX_DIGITS: Final = string.hexdigits


def finish_event(ev: Any) -> None:
    """The rules msgspec cannot state as constraints, and the conversions the detectors want
    (``Event.__post_init__``). Written flat: each check is one comparison on the good path."""
    ts = ev.ts
    t = ts.timestamp() if type(ts) is datetime else ts
    ev.ts = t
    if not TIME_FLOOR <= t < TIME_CEILING:
        raise _rejected("time", ts, "ts")
    created = ev.account_created_at
    if created is not None:
        c = created.timestamp() if type(created) is datetime else created
        ev.account_created_at = c
        if not 0.0 <= c < TIME_CEILING:
            raise _rejected("time", created, "account_created_at")
    sh = ev.simhash
    if sh is not None and type(sh) is str:  # an int: rebuilt from stored fields, converted already
        if sh.strip(_HEX_DIGITS):  # int(s, 16) alone would take a sign, 0x, underscores, spaces
            raise _rejected("field", sh, "prompt_simhash")
        ev.simhash = int(sh, 16)
    ip = ev.client_ip
    if ip is not None and not _is_ip(ip):
        raise _rejected("field", ip, "client_ip")
    country = ev.billing_country
    if country is not None and country not in _COUNTRY_SHAPE:
        raise _rejected("field", country, "billing_country")
    country = ev.ip_country
    if country is not None and country not in _COUNTRY_SHAPE:
        raise _rejected("field", country, "ip_country")
    cap = ev.capability
    if type(cap) is str:
        ev.capability = _CAPABILITY_INDEX[cap]
    if ev.reasoning_tokens is None:
        ev.reasoning_tokens = 0
    if ev.cot_elicitation is None:
        ev.cot_elicitation = 0.0


def _rejected(kind: str, value: Any, field: str) -> Exception:
    """The :class:`~distillwatch.models.event.BadRecord` for ``value`` of ``field`` (imported here,
    on the bad path only: ``event`` imports this module)."""
    from distillwatch.models import event

    return event._time_error(value, field) if kind == "time" else event._bad(field, value)


@lru_cache(maxsize=65536)
def _is_ip(s: str) -> bool:
    """An account keeps its address for many events: parse each distinct string once."""
    try:
        ipaddress.ip_address(s)
    except ValueError:
        return False
    return "%" not in s  # an IPv6 zone id (fe80::1%eth0) names a local interface, not a source
