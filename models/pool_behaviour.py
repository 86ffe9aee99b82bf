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
accounts are forgotten when its CUSUM falls back to zero), the pool is proven an operation.
"""

from __future__ import annotations

from distillwatch.models.campaign_state import CampaignState
from distillwatch.models.config import CampaignConfig
from distillwatch.models.links import PoolMinute
from distillwatch.models.template_evidence import harvest_llr

THROTTLED, MOVED = "pool_throttled", "pool_moved"
KINDS = (THROTTLED, MOVED)
NATS, ACCOUNTS = range(2)  # a test's run: [CUSUM nats, its accounts (sorted)]


def _evidence(u: PoolMinute) -> tuple[tuple[str, int, list, float], ...]:
    return (THROTTLED, u.throttled, u.throttlers, u.throttle_base), (MOVED, u.fresh, u.movers, u.fresh_base)


def step(c: CampaignState, u: PoolMinute, cfg: CampaignConfig) -> list[str]:
    """Add a pool template's minute to ``c``'s two CUSUMs; the tests that are past their bar
    (with enough accounts) after it.

    >>> c, cfg = CampaignState("cmp-1", 0.0), CampaignConfig()
    >>> u = PoolMinute(7, "template:t1", 40, 0, [], 0.1, ["a", "b", "c"], 0, 30, [], ["a", "b", "c"], 0.02, 0.02)
    >>> step(c, u, cfg), round(c.behaviour[MOVED][NATS], 1), c.behaviour[MOVED][ACCOUNTS]
    (['pool_moved'], 32.5, ['a', 'b', 'c'])
    >>> quiet = u._replace(fresh=0, movers=[], requests=2000)
    >>> step(c, quiet, cfg), MOVED in c.behaviour  # the pool back at the population's share: the run is over
    ([], False)
    """
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
            run = c.behaviour[kind] = [0.0, []]
        run[NATS] = round(nats, 6)
        if accounts and len(run[ACCOUNTS]) < cfg.max_members:
            run[ACCOUNTS] = sorted({*run[ACCOUNTS], *accounts})
        if nats >= cfg.pool_nats and len(run[ACCOUNTS]) >= cfg.behaviour_accounts:
            passed.append(kind)
    return passed


def describe(kind: str, run: list, u: PoolMinute) -> str:
    """The tie's ``value`` in the campaign's links (what an analyst reads)."""
    n = len(run[ACCOUNTS])
    if kind == THROTTLED:
        return (f"throttled (429) requests on its templates far above the population's {u.throttle_base:.1%}, "
                f"from {n} of its accounts: load moving across the pool")
    return (f"{n} of its accounts moved to a model none had used, together: requests on it far above "
            f"the population's {u.fresh_base:.1%}")


__all__ = ["ACCOUNTS", "KINDS", "MOVED", "NATS", "THROTTLED", "describe", "step"]
