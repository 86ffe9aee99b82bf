"""Below-gate template evidence: every account's requests per prompt template, summed per minute,
so a prompt pool's harvest share can be tested across its accounts before any one of them has
proven itself.

An account reaches the cluster stage as a member (a :class:`~distillwatch.models.links.Link`) only
once its own harvest evidence reaches ``watch_harvest``; an evasive operation's account at ~25
requests a day takes hours to get there, although its very first request, on one of the
operation's private templates, already counts as evidence about the pool. So at each closed
account-minute the account stage adds the minute's requests and harvest-like requests (the
per-request flag it already keeps, ``win_harvest``) to a per-partition tally keyed by (minute,
template), and sends one :class:`~distillwatch.models.links.TemplateMinute` per (template, minute)
to the template's cluster partition once its minute has closed (:func:`observe`, :func:`drain`).
No per-account state is added: the tally holds only minutes the watermark has not yet passed.

The cluster stage sums one minute's messages per template (:func:`gather`), keeps the population's
harvest share over all templates (:func:`learn_baseline`) and forwards the sums as
:class:`~distillwatch.models.links.PoolMinute`; the campaign stage then runs a sequential test on
each pool (:func:`harvest_llr`; campaign_processor.py) over the minutes of its templates and of
keys only its members use.
"""

from __future__ import annotations

import math

from distillwatch.models.links import TemplateMinute
from distillwatch.models.partitioning import partition_for
from distillwatch.models.timespans import DAY, MINUTE

MAX_ACCOUNTS = 32  # accounts named per message (harvest-like ones, and users): a pool template has a few a minute
# a tally row (a plain list: snapshots keep it as JSON)
MINUTE_, TEMPLATE, REQUESTS, HARVEST, ACCOUNTS, USERS = range(6)
_message = tuple.__new__  # a named tuple from a tuple, in C (its own ``__new__`` is interpreted)


def _name(named: list, account: str) -> None:
    if len(named) < MAX_ACCOUNTS and account not in named:
        named.append(account)


def observe(tally: dict[str, list], minute: int, template: str, requests: int, harvest: int, account: str) -> None:
    """Add one closed account-minute on ``template`` to the partition's tally: its requests, its
    harvest-like ones, the account among the harvest-like senders if it sent any, and among the
    template's users in any case (a pool that pages takes in whoever uses its private templates).

    >>> tally = {}
    >>> observe(tally, 7, "band:0a1b", 2, 1, "a"); observe(tally, 7, "band:0a1b", 1, 0, "b")
    >>> tally
    {'7|band:0a1b': [7, 'band:0a1b', 3, 1, ['a'], ['a', 'b']]}
    """
    key = f"{minute}|{template}"
    row = tally.get(key)
    if row is None:
        row = tally[key] = [minute, template, 0, 0, [], []]
    row[REQUESTS] += requests
    if harvest:
        row[HARVEST] += harvest
        _name(row[ACCOUNTS], account)
    _name(row[USERS], account)


def drain(tally: dict[str, list], boundary: float, partitions: int) -> list[tuple[int, TemplateMinute]]:
    """``(cluster partition, message)`` for every tallied minute that ends at or before ``boundary``,
    in (minute, template) order; those leave the tally.

    >>> tally = {"7|t1": [7, "t1", 3, 1, ["b", "a"], ["c", "b", "a"]], "9|t1": [9, "t1", 1, 0, [], ["d"]]}
    >>> drain(tally, 8 * 60, 4), list(tally)  # doctest: +NORMALIZE_WHITESPACE
    ([(3, TemplateMinute(minute=7, template='t1', requests=3, harvest=1, accounts=['a', 'b'],
                         users=['a', 'b', 'c']))], ['9|t1'])
    """
    # a loop with the minute as a typed local: compiled, the test is machine arithmetic (it runs for
    # every row held, at every minute boundary)
    due: list[tuple[int, str, str]] = []
    for key, row in tally.items():
        minute: int = row[MINUTE_]
        if (minute + 1) * MINUTE <= boundary:
            due.append((minute, row[TEMPLATE], key))
    due.sort()
    out = []
    for minute, template, key in due:
        row = tally.pop(key)
        msg = _message(TemplateMinute, (minute, template, row[REQUESTS], row[HARVEST], sorted(row[ACCOUNTS]),
                                        sorted(row[USERS])))
        out.append((partition_for(f"template:{template}", partitions), msg))
    return out


def gather(sums: dict[str, list], msg: TemplateMinute) -> None:
    """Sum one minute's messages per template cluster key over the account partitions."""
    key = f"template:{msg.template}"
    row = sums.get(key)
    if row is None:
        sums[key] = [msg.requests, msg.harvest, set(msg.accounts), set(msg.users)]
    else:
        row[0] += msg.requests
        row[1] += msg.harvest
        row[2].update(msg.accounts)
        row[3].update(msg.users)


def learn_baseline(base: list[float], ts: float, requests: int, harvest: int) -> None:
    """Fold a minute's template requests into the population's decayed totals ``[requests,
    harvest, t]`` (a day's memory): every template counts, harvesters' too, which only raises the
    baseline a pool must beat."""
    f = math.exp(-max(0.0, ts - base[2]) / DAY)
    base[0] = base[0] * f + requests
    base[1] = base[1] * f + harvest
    base[2] = ts


def baseline_share(base: list[float], floor: float) -> float:
    """The population's harvest-like share of template requests, never below ``floor``.

    >>> baseline_share([100.0, 5.0, 0.0], 0.1), baseline_share([100.0, 30.0, 0.0], 0.1), baseline_share([0, 0, 0], 0.1)
    (0.1, 0.3, 0.1)
    """
    return max(floor, base[1] / base[0]) if base[0] > 0 else floor


def harvest_llr(requests: int, harvest: int, factor: float, p_benign: float) -> float:
    """Log-likelihood ratio (nats) of ``harvest`` harvest-like requests out of ``requests`` under a
    harvesting pool, whose share is ``factor`` times the population's ``p_benign`` (at most 0.95),
    against the population: Page's CUSUM step for that shift. A pool at the population's share
    drifts down by ``KL(p0 || p1)`` per request, one at twice it climbs by ``KL(p1 || p0)``.

    >>> round(harvest_llr(3, 3, 2.0, 0.15), 3), round(harvest_llr(3, 0, 2.0, 0.15), 3)
    (2.079, -0.582)
    """
    p1 = min(0.95, factor * p_benign)
    return harvest * math.log(p1 / p_benign) + (requests - harvest) * math.log((1.0 - p1) / (1.0 - p_benign))


__all__ = ["MAX_ACCOUNTS", "baseline_share", "drain", "gather", "harvest_llr", "learn_baseline", "observe"]
