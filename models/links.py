"""Messages from the account stage to the cluster stage, and their JSON wire form.

- :class:`Link`: an account-minute that looks harvest-like, sent to the cluster of each linking
  attribute value the account has (payment, TLS, /24, router, template);
- :class:`Degree`: once a day per account and value, "this value is in use", so a value most
  ordinary accounts share (a NAT, a popular SDK) is recognised as a hub;
- :class:`Watermark`: a source partition's event time passed a minute boundary;
- :class:`Rewind`: a source partition that was idle-flushed received events again;
- :class:`TemplateMinute`: one account partition's requests on one prompt template in one closed
  minute, from every account (not only harvest-like ones): the below-gate evidence of
  :mod:`distillwatch.models.template_evidence`.

And the messages both stages send the campaign stage (one partition, :data:`CAMPAIGNS` as
target): :class:`Verdict` (an account alert, which the campaign stage passes on or folds into its
campaign) and :class:`Report` (a cluster scored at warning or above, or a prompt-pool fragment
at info, with its harvest-like members), :class:`PoolMinute` (a template cluster's summed
template evidence, for the pool's sequential harvest test), plus their own watermarks and rewinds.

On the wire each is a JSON list ``[kind, *fields]``; watermarks may be infinite, which JSON
cannot carry, so they are clamped (see :mod:`distillwatch.models.jsonsafe`).
"""

from __future__ import annotations

from typing import NamedTuple

from distillwatch.models.jsonsafe import clamp_infinity, unclamp_infinity

LINK, DEGREE, WATERMARK, REWIND, VERDICT, REPORT = "L", "D", "W", "R", "V", "C"
TEMPLATE_MINUTE, POOL_MINUTE = "T", "P"
CAMPAIGNS = -1  # the target of messages for the campaign stage (its topic has one partition)


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


class Verdict(NamedTuple):
    """An account alert raised at the close of ``minute``, for the campaign stage to route."""

    minute: int
    account: str
    alert: dict

    KIND = VERDICT


class Report(NamedTuple):
    """A cluster scored at warning or above at the close of ``minute`` (or a prompt-pool fragment,
    at info: it may join a campaign, never found one): what ties its members, how strongly, and
    its harvest-like members (highest contribution first, at most 1,000; a template's members
    with their recent active slots, for the lockstep test)."""

    minute: int
    cluster: str  # ``attribute:value``
    attribute: str
    value: str
    severity: str
    score: float
    threshold: float
    share: float  # harvest-like share of the value's users (1: not a hub)
    requests: int  # decayed requests per day over the members
    output_tokens: int
    members: list  # [[account, contribution], ...]
    samples: list  # event ids

    KIND = REPORT


class TemplateMinute(NamedTuple):
    """An account partition's requests on ``template`` (a template id or SimHash band) in a closed
    minute, over all its accounts: how many, how many harvest-like, which accounts sent the
    harvest-like ones and which used it at all (each sorted, at most
    :data:`~distillwatch.models.template_evidence.MAX_ACCOUNTS`)."""

    minute: int
    template: str
    requests: int
    harvest: int
    accounts: list
    users: list
    throttled: int = 0  # requests answered 429 (pool_behaviour.py: a pool throttled far above the population)
    fresh: int = 0  # requests on a model their account moved to (pool_behaviour.py: a pool moving together)
    throttlers: list = []  # the accounts that sent the throttled ones (sorted, bounded as ``accounts``)
    movers: list = []  # the accounts that sent the fresh ones, each with the minute its move began: [[account, minute]]

    KIND = TEMPLATE_MINUTE


class PoolMinute(NamedTuple):
    """A template cluster's :class:`TemplateMinute` messages of one minute summed over the account
    partitions, with ``baseline``: the harvest-like share of all template requests the cluster
    partition sees (the population's), for the campaign stage's pool harvest test, and ``users``:
    every account that used the template in the minute (a paging pool takes them in)."""

    minute: int
    cluster: str  # ``template:…``
    requests: int
    harvest: int
    accounts: list
    baseline: float
    users: list
    throttled: int = 0  # as in TemplateMinute, summed
    fresh: int = 0
    throttlers: list = []
    movers: list = []
    throttle_base: float = 0.0  # the population's throttled share of template requests
    fresh_base: float = 0.0  # the population's share of template requests on a model their account moved to

    KIND = POOL_MINUTE


Message = Link | Degree | Watermark | Rewind | Verdict | Report | TemplateMinute | PoolMinute
_KINDS: dict[str, type] = {LINK: Link, DEGREE: Degree, WATERMARK: Watermark, REWIND: Rewind, VERDICT: Verdict,
                           REPORT: Report, TEMPLATE_MINUTE: TemplateMinute, POOL_MINUTE: PoolMinute}


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

    A template or pool minute from a worker that did not send the template's users yet takes its
    harvest-like senders as the users it knew, and one that did not count throttled requests and
    model moves yet counts none, so a rolling upgrade reads the messages in flight:

    >>> from_wire(['T', 7, 't1', 3, 1, ['a']])  # doctest: +NORMALIZE_WHITESPACE
    TemplateMinute(minute=7, template='t1', requests=3, harvest=1, accounts=['a'], users=['a'], throttled=0,
                   fresh=0, throttlers=[], movers=[])
    """
    kind = _KINDS.get(data[0]) if data else None
    if kind is TemplateMinute or kind is PoolMinute:
        data = _upgrade_minute(kind, data)
    if kind is None or len(data) != len(kind._fields) + 1:
        raise ValueError(f"not a link message: {data[:3]!r}")
    if kind is Watermark or kind is Rewind:
        return kind(data[1], unclamp_infinity(data[2]))
    return kind(*data[1:])


def _upgrade_minute(kind: type, data: list) -> list:
    """A template or pool minute of an older worker, padded to the current fields (see
    :func:`from_wire`): the users after the harvest-like senders, then the throttle and move counts."""
    users = kind._fields.index("users") + 1  # type: ignore[attr-defined]
    if len(data) == users:
        data = [*data, data[5]]
    if len(data) == users + 1:
        data = [*data, *kind._field_defaults.values()]  # type: ignore[attr-defined]
    return data


__all__ = ["CAMPAIGNS", "DEGREE", "LINK", "POOL_MINUTE", "REPORT", "REWIND", "TEMPLATE_MINUTE", "VERDICT", "WATERMARK",
           "Degree", "Link", "Message", "PoolMinute", "Report", "Rewind", "TemplateMinute", "Verdict", "Watermark",
           "from_wire", "to_wire"]
