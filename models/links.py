"""Messages from the account stage to the cluster stage, and their JSON wire form.

- :class:`Link`: an account-minute that looks harvest-like, sent to the cluster of each linking
  attribute value the account has (payment, TLS, /24, router, template);
- :class:`Degree`: once a day per account and value, "this value is in use", so a value most
  ordinary accounts share (a NAT, a popular SDK) is recognised as a hub;
- :class:`Watermark`: a source partition's event time passed a minute boundary;
- :class:`Rewind`: a source partition that was idle-flushed received events again.

On the wire each is a JSON list ``[kind, *fields]``; watermarks may be infinite, which JSON
cannot carry, so they are clamped (see :mod:`models.jsonsafe`).
"""

from __future__ import annotations

from typing import NamedTuple

from models.jsonsafe import clamp_infinity, unclamp_infinity

LINK, DEGREE, WATERMARK, REWIND = "L", "D", "W", "R"


class Link(NamedTuple):
    """One harvest-like account-minute, for the cluster keyed ``attribute:value``."""

    minute: int
    attribute: str
    value: str
    account: str
    requests: int  # in the minute
    output_tokens: int  # in the minute
    harvest: float  # the account's harvest score
    young: int  # 1: younger than ``AccountConfig.young_s`` (or age unknown)
    top_feature: int  # index of its largest harvest feature, -1: none
    last_event: str  # an event id an analyst can look up

    KIND = LINK


class Degree(NamedTuple):
    """An account uses ``attribute:value`` today (counted in the cluster stage's degree sketch)."""

    minute: int
    attribute: str
    value: str

    KIND = DEGREE


class Watermark(NamedTuple):
    """Source partition ``source`` has closed every minute that ends at or before ``watermark``."""

    source: int
    watermark: float

    KIND = WATERMARK


class Rewind(NamedTuple):
    """Source partition ``source`` woke after an idle flush: its watermark goes back to this."""

    source: int
    watermark: float

    KIND = REWIND


Message = Link | Degree | Watermark | Rewind
_KINDS: dict[str, type] = {LINK: Link, DEGREE: Degree, WATERMARK: Watermark, REWIND: Rewind}


def to_wire(msg: Message) -> list:
    """A JSON-able list ``[kind, *fields]``, infinities clamped.

    >>> to_wire(Watermark(2, float("inf")))
    ['W', 2, 1e+300]
    >>> to_wire(Degree(29000000, "tls", "t13d"))
    ['D', 29000000, 'tls', 't13d']
    """
    if isinstance(msg, (Watermark, Rewind)):
        return [msg.KIND, msg.source, clamp_infinity(msg.watermark)]
    return [msg.KIND, *msg]


def from_wire(data: list) -> Message:
    """Inverse of :func:`to_wire`; raises ``ValueError`` on an unknown kind or wrong length.

    >>> from_wire(['W', 2, 1e300])
    Watermark(source=2, watermark=inf)
    """
    kind = _KINDS.get(data[0]) if data else None
    if kind is None or len(data) != len(kind._fields) + 1:
        raise ValueError(f"not a link message: {data[:3]!r}")
    if kind is Watermark or kind is Rewind:
        return kind(data[1], unclamp_infinity(data[2]))
    return kind(*data[1:])


__all__ = ["DEGREE", "LINK", "REWIND", "WATERMARK", "Degree", "Link", "Message", "Rewind", "Watermark",
           "from_wire", "to_wire"]
