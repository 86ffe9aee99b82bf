"""An operation's own behaviour across its prompt pool: a second tie for a pool whose harvest share
is the population's (an operation that hides its chain of thought, and has no lockstep dispatcher).

What the harvest test and lockstep cannot see, the operation's mechanism still shows, as requests
of a kind the population sends rarely, from several of the pool's accounts at once:

- **throttled load moving across the pool** (rate-limit sharding): demand above what its active
  accounts may send, so they are answered 429 far more often than the population's requests are,
  and the load moves to siblings that are throttled in turn;
- **a move to a model together** (release chasing): its accounts move most of their traffic to a
  model none of them had used (a new release) within the same hours; an honest account moves over
  days, a few of its requests at a time.

The account stage counts both per closed account-minute (``win_429``, and ``win_fresh``: requests on
a model the account first used after its first ``fresh_model_events`` requests, for
``fresh_model_s`` after; an account-local fact, the same under any partitioning) into the template
evidence (:mod:`distillwatch.models.template_evidence`), with the accounts that sent them; the
cluster stage learns the population's share of each over all template requests. Here each is a
Page CUSUM over the pool's template minutes, as the harvest test: ``k`` such requests of ``n``
against the population's share ``p0``, the operation modelled at ``behaviour_factor`` times it.
Past ``pool_nats`` with ``behaviour_accounts`` distinct accounts in the current run (the run's
accounts are forgotten when its CUSUM falls back to zero), the pool is proven an operation; a move
must also be *together*: at least ``behaviour_accounts`` of the run's movers, and
``move_together_share`` of the accounts that used the pool's templates within the last
``move_together_s``, began their moves within ``move_together_s`` of one another.

Null check on raw events (sweep seeds 11-97, every labelled population taken as one pool).
Moves: independent adopters of a release reach hundreds of nats of share (chat users 10-118,
reasoning-heavy accounts 28-175, a reasoning business's three accounts 1,215): a share test says
they adopted more than the average account, not that they moved together. What they do not do is
move within the same hour (at most 5 of 18 chat users', 4 of 8 reasoning-heavy accounts', 3 of 5
coding-agent users' moves began within one hour), while a release chaser's dispatcher moves every
account within the hour (3/3 to 12/12); with "together" only release chasers pass. Throttles:
ordinary populations reach 2.7 nats at most, but batch jobs taken as one pool reach 26-380 (each
throttled at 2-3 %, independently): this test says "throttled far more than the population", and
it is the pool (private templates most of whose users look harvest-like, which batch jobs never
form) that makes that an operation's; a test of siblings taking over right after a throttle would
be specific to sharding itself (not built).
"""

from __future__ import annotations

from distillwatch.models.campaign_state import CampaignState
from distillwatch.models.config import CampaignConfig
from distillwatch.models.links import PoolMinute
from distillwatch.models.template_evidence import harvest_llr

THROTTLED, MOVED = "pool_throttled", "pool_moved"
KINDS = (THROTTLED, MOVED)
NATS, ACCOUNTS = range(2)  # a test's run: [CUSUM nats, {account: the minute it was first counted (a move: began)}]


def _evidence(u: PoolMinute) -> tuple[tuple[str, int, dict[str, int], float], ...]:
    throttlers = dict.fromkeys(u.throttlers, u.minute)
    return (THROTTLED, u.throttled, throttlers, u.throttle_base), (MOVED, u.fresh, dict(u.movers), u.fresh_base)


def together(minutes: list[int], window_s: float) -> int:
    """The most of ``minutes`` (when each account's move began) within ``window_s`` of one another.

    >>> together([10, 70, 12, 400, 40], 3600)
    4
    """
    ordered = sorted(minutes)
    span, best, lo = window_s / 60, 0, 0
    for hi, m in enumerate(ordered):
        while m - ordered[lo] > span:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _moved_together(c: CampaignState, movers: dict[str, int], cfg: CampaignConfig) -> bool:
    """Whether ``behaviour_accounts`` of the run's movers began their moves within
    ``move_together_s`` of one another, and were ``move_together_share`` of the accounts that used
    the pool's templates in the last ``move_together_s``: the pool moved, not a few of its accounts
    on their own (the move may have begun before the pool was found: the minutes are the accounts')."""
    k = together(list(movers.values()), cfg.move_together_s)
    return k >= cfg.behaviour_accounts and k >= cfg.move_together_share * len(c.recent)


def _seen(c: CampaignState, u: PoolMinute, cfg: CampaignConfig) -> None:
    """Keep who used the pool's templates within the last ``move_together_s`` (and when last)."""
    recent = c.recent
    for acc in u.users:
        recent[acc] = u.minute
    since = u.minute - cfg.move_together_s / 60
    for acc in [a for a, m in recent.items() if m < since]:
        del recent[acc]


def step(c: CampaignState, u: PoolMinute, cfg: CampaignConfig) -> list[str]:
    """Add a pool template's minute to ``c``'s two CUSUMs; the tests that are past their bar
    (with enough accounts, and a move of the pool's accounts together) after it.

    >>> c, cfg = CampaignState("cmp-1", 0.0), CampaignConfig()
    >>> movers = [["a", 5], ["b", 6], ["c", 30]]
    >>> u = PoolMinute(7, "template:t1", 40, 0, [], 0.1, ["a", "b", "c"], 0, 30, [], movers, 0.02, 0.02)
    >>> step(c, u, cfg), round(c.behaviour[MOVED][NATS], 1), c.behaviour[MOVED][ACCOUNTS]
    (['pool_moved'], 32.5, {'a': 5, 'b': 6, 'c': 30})
    >>> quiet = u._replace(fresh=0, movers=[], requests=2000)
    >>> step(c, quiet, cfg), MOVED in c.behaviour  # the pool back at the population's share: the run is over
    ([], False)
    >>> apart = [["a", 5], ["b", 300], ["c", 900]]  # three accounts that moved hours apart: no move together
    >>> step(c, u._replace(movers=apart), cfg), round(c.behaviour[MOVED][NATS], 1)
    ([], 32.5)
    >>> c = CampaignState("cmp-2", 0.0)  # three of the twelve accounts that used the pool in the hour
    >>> step(c, u._replace(users=[f"u{i:02d}" for i in range(12)]), cfg)
    []
    """
    _seen(c, u, cfg)
    passed = []
    for kind, k, accounts, p0 in _evidence(u):
        run = c.behaviour.get(kind)
        if p0 <= 0.0 or (run is None and not k):  # no baseline (an older cluster worker), or nothing to add
            continue
        nats = max(0.0, (run[NATS] if run is not None else 0.0) + harvest_llr(u.requests, k, cfg.behaviour_factor, p0))
        if nats == 0.0:
            c.behaviour.pop(kind, None)  # back at zero: the run, and its accounts, are over
            continue
        if run is None:
            run = c.behaviour[kind] = [0.0, {}]
        run[NATS] = round(nats, 6)
        known = run[ACCOUNTS]
        for acc, minute in accounts.items():
            if acc not in known and len(known) < cfg.max_members:
                known[acc] = minute
        if nats >= cfg.pool_nats and len(known) >= cfg.behaviour_accounts and (
                kind == THROTTLED or _moved_together(c, known, cfg)):
            passed.append(kind)
    return passed


def describe(kind: str, run: list, u: PoolMinute) -> str:
    """The tie's ``value`` in the campaign's links (what an analyst reads)."""
    n = len(run[ACCOUNTS])
    if kind == THROTTLED:
        return (f"throttled (429) requests on its templates far above the population's {u.throttle_base:.1%}, "
                f"from {n} of its accounts")
    return (f"{n} of its accounts moved to a model none had used, most within the same hour: requests on it far "
            f"above the population's {u.fresh_base:.1%}")


__all__ = ["ACCOUNTS", "KINDS", "MOVED", "NATS", "THROTTLED", "describe", "step", "together"]
