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
The same rows count the minute's throttled requests (429s) and its requests on a model the
account moved to (``win_fresh``), with the accounts that sent them: an operation's own behaviour
across its pool (:mod:`distillwatch.models.pool_behaviour`).

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
MINUTE_, TEMPLATE, REQUESTS, HARVEST, ACCOUNTS, USERS, THROTTLED, FRESH, THROTTLERS, MOVERS = range(10)
# a cluster stage's sum of one template's minute (gather) and the population's totals (learn_baseline)
S_REQUESTS, S_HARVEST, S_ACCOUNTS, S_USERS, S_THROTTLED, S_FRESH, S_THROTTLERS, S_MOVERS = range(8)
B_REQUESTS, B_HARVEST, B_T, B_THROTTLED, B_FRESH = range(5)
_message = tuple.__new__  # a named tuple from a tuple, in C (its own ``__new__`` is interpreted)


def _name(named: list, account: str) -> None:
    if len(named) < MAX_ACCOUNTS and account not in named:
        named.append(account)


def observe(tally: dict[str, list], minute: int, template: str, requests: int, harvest: int, account: str,
            throttled: int = 0, fresh: int = 0, moved_at: int = -1) -> None:
    """Add one closed account-minute on ``template`` to the partition's tally: its requests, its
    harvest-like ones, the account among the harvest-like senders if it sent any, and among the
    template's users in any case (a pool that pages takes in whoever uses its private templates);
    its throttled requests, naming it among their senders, and those on a model it moved to (at
    minute ``moved_at``), naming it among the movers with that minute.

    >>> tally = {}
    >>> observe(tally, 7, "band:0a1b", 2, 1, "a"); observe(tally, 7, "band:0a1b", 1, 0, "b", 1, 1, 5)
    >>> tally
    {'7|band:0a1b': [7, 'band:0a1b', 3, 1, ['a'], ['a', 'b'], 1, 1, ['b'], [['b', 5]]]}
    """
    key = f"{minute}|{template}"
    row = tally.get(key)
    if row is None:
        row = tally[key] = [minute, template, 0, 0, [], [], 0, 0, [], []]
    row[REQUESTS] += requests
    if harvest:
        row[HARVEST] += harvest
        _name(row[ACCOUNTS], account)
    _name(row[USERS], account)
    if throttled:
        row[THROTTLED] += throttled
        _name(row[THROTTLERS], account)
    if fresh:
        row[FRESH] += fresh
        movers = row[MOVERS]
        if len(movers) < MAX_ACCOUNTS and all(m[0] != account for m in movers):
            movers.append([account, moved_at])


def drain(tally: dict[str, list], boundary: float, partitions: int) -> list[tuple[int, TemplateMinute]]:
    """``(cluster partition, message)`` for every tallied minute that ends at or before ``boundary``,
    in (minute, template) order; those leave the tally.

    >>> tally = {"7|t1": [7, "t1", 3, 1, ["b", "a"], ["c", "b", "a"], 2, 0, ["c"], []],
    ...          "9|t1": [9, "t1", 1, 0, [], ["d"], 0, 0, [], []]}
    >>> drain(tally, 8 * 60, 4), list(tally)  # doctest: +NORMALIZE_WHITESPACE
    ([(3, TemplateMinute(minute=7, template='t1', requests=3, harvest=1, accounts=['a', 'b'],
                         users=['a', 'b', 'c'], throttled=2, fresh=0, throttlers=['c'], movers=[]))], ['9|t1'])
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
                                        sorted(row[USERS]), row[THROTTLED], row[FRESH], sorted(row[THROTTLERS]),
                                        sorted(row[MOVERS])))
        out.append((partition_for(f"template:{template}", partitions), msg))
    return out


def gather(sums: dict[str, list], msg: TemplateMinute) -> None:
    """Sum one minute's messages per template cluster key over the account partitions (a row
    indexed by the ``S_*`` positions; its movers map each to the minute its move began)."""
    key = f"template:{msg.template}"
    row = sums.get(key)
    if row is None:
        sums[key] = [msg.requests, msg.harvest, set(msg.accounts), set(msg.users), msg.throttled, msg.fresh,
                     set(msg.throttlers), {acc: at for acc, at in msg.movers}]
    else:
        row[S_REQUESTS] += msg.requests
        row[S_HARVEST] += msg.harvest
        row[S_ACCOUNTS].update(msg.accounts)
        row[S_USERS].update(msg.users)
        row[S_THROTTLED] += msg.throttled
        row[S_FRESH] += msg.fresh
        row[S_THROTTLERS].update(msg.throttlers)
        row[S_MOVERS].update((acc, at) for acc, at in msg.movers)


def upgrade_tally(tally: dict[str, list]) -> None:
    """Pad the tally rows a snapshot kept before throttles and moves were counted (once, at
    restore: :func:`observe` and :func:`drain` then read every row alike).

    >>> tally = {"7|t1": [7, "t1", 3, 1, ["a"], ["a"]]}
    >>> upgrade_tally(tally); tally
    {'7|t1': [7, 't1', 3, 1, ['a'], ['a'], 0, 0, [], []]}
    """
    for row in tally.values():
        if len(row) < MOVERS + 1:
            row.extend((0, 0, [], []))


def upgrade_base(base: list[float]) -> None:
    """Pad population totals a snapshot kept before throttles and moves were counted (once, at
    restore: :func:`learn_baseline` reads five fields).

    >>> base = [10.0, 2.0, 60.0]
    >>> upgrade_base(base); base
    [10.0, 2.0, 60.0, 0.0, 0.0]
    """
    if len(base) < B_FRESH + 1:
        base.extend((0.0, 0.0))


def learn_baseline(base: list[float], ts: float, sums: list[list]) -> None:
    """Fold a minute's template sums (:func:`gather`'s rows) into the population's decayed totals
    ``[requests, harvest, t, throttled, fresh]`` (a day's memory): every template counts,
    harvesters' too, which only raises the baseline a pool must beat.

    >>> base = [0.0, 0.0, 0.0, 0.0, 0.0]
    >>> learn_baseline(base, 60.0, [[10, 2, set(), set(), 1, 0, set(), set()], [5, 1, set(), set(), 0, 3, [], []]])
    >>> base
    [15.0, 3.0, 60.0, 1.0, 3.0]
    """
    f = math.exp(-max(0.0, ts - base[B_T]) / DAY)
    for field, pos in ((B_REQUESTS, S_REQUESTS), (B_HARVEST, S_HARVEST), (B_THROTTLED, S_THROTTLED),
                       (B_FRESH, S_FRESH)):
        base[field] = base[field] * f + sum(row[pos] for row in sums)
    base[B_T] = ts


def baseline_share(base: list[float], floor: float, field: int = B_HARVEST) -> float:
    """The population's share of template requests that are harvest-like (or, with ``field``,
    throttled or on a model moved to), never below ``floor``.

    >>> baseline_share([100.0, 5.0, 0.0], 0.1), baseline_share([100.0, 30.0, 0.0], 0.1), baseline_share([0, 0, 0], 0.1)
    (0.1, 0.3, 0.1)
    >>> baseline_share([100.0, 5.0, 0.0, 2.0, 0.5], 0.01, B_THROTTLED)
    0.02
    """
    return max(floor, base[field] / base[B_REQUESTS]) if base[B_REQUESTS] > 0 else floor


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


__all__ = ["B_FRESH", "B_THROTTLED", "MAX_ACCOUNTS", "S_ACCOUNTS", "S_FRESH", "S_HARVEST", "S_MOVERS", "S_REQUESTS",
           "S_THROTTLED", "S_THROTTLERS", "S_USERS", "baseline_share", "drain", "gather", "harvest_llr",
           "learn_baseline", "observe", "upgrade_base", "upgrade_tally"]
