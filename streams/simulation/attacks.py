"""Attack scenarios from the public reports (docs/simulation.md, background.md).

Every campaign draws its parameters from the world seed: account counts, rates, template counts,
timing jitter, and which signals it hides (residential proxies instead of datacenters, a popular SDK
instead of its own TLS stack, bought aged accounts, card verification, little chain-of-thought
elicitation). No single field or constant identifies an attacker.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from distillwatch.models.timespans import DAY_MS, HOUR_MS
from distillwatch.streams.simulation import arrivals
from distillwatch.streams.simulation.actor import Actor, Events, single
from distillwatch.streams.simulation.benign import CODE_IN, CODE_OUT, CONV_IN, CONV_OUT
from distillwatch.streams.simulation.catalog import (
    COERCION_LANGS,
    MOBILE_ASNS,
    PROXY_ASNS,
    RESIDENTIAL_ASNS,
    SDK_CLIENTS,
    VERIFICATION_STRONG,
    VERIFICATION_WEAK,
)
from distillwatch.streams.simulation.context import WorldContext, identity, ips_in, network_fields
from distillwatch.streams.simulation.events import Profile, Template, make_event

HARVEST_CAPABILITIES = ("coding", "agentic", "reasoning", "math")


@dataclass
class Tradecraft:
    """The signals one campaign bothers to hide, drawn per run."""

    residential_proxies: bool
    popular_tls: bool
    aged_accounts: bool
    strong_verification: bool
    low_cot: bool
    tls: tuple[str, str]  # the campaign's client stack: (TLS fingerprint, user agent)
    asns: tuple[int, ...]

    @classmethod
    def draw(cls, rng: random.Random) -> Tradecraft:
        residential = rng.random() < 0.35
        popular = rng.random() < 0.4
        hi, lo = rng.getrandbits(48), rng.getrandbits(48)
        own_tls = (
            f"t13d{rng.randint(10, 19)}{rng.randint(10, 19)}h2_{hi:012x}_{lo:012x}",
            rng.choice(
                ("python-requests/2.32.3", "aiohttp/3.10.5", "Go-http-client/2.0", "OpenAI/Python 1.54.3")
            ),
        )
        pool = RESIDENTIAL_ASNS + MOBILE_ASNS if residential else PROXY_ASNS
        return cls(
            residential_proxies=residential,
            popular_tls=popular,
            aged_accounts=rng.random() < 0.3,
            strong_verification=rng.random() < 0.3,
            low_cot=rng.random() < 0.25,
            tls=rng.choice(SDK_CLIENTS) if popular else own_tls,
            asns=tuple(rng.sample(pool, rng.randint(2, 4))),
        )


def campaign_identity(ctx: WorldContext, rng: random.Random, tc: Tradecraft, payment: str, created_ms: int) -> dict:
    created_days = (ctx.start_ms - created_ms) / DAY_MS
    aged = (
        ctx.created_at(rng, 60, 500) if tc.aged_accounts else ctx.created_at(rng, created_days, created_days)
    )
    return identity(
        ctx,
        org_id=None,
        created=aged,
        verification=rng.choice(VERIFICATION_STRONG if tc.strong_verification else VERIFICATION_WEAK),
        payment=payment,
        country=rng.choice(("US", "US", "SG", "HK", "GB", "CA", "MY")),
    ) | {"tls_fingerprint": tc.tls[0], "user_agent": tc.tls[1]}


def _network(rng: random.Random, tc: Tradecraft) -> tuple[dict, tuple[str, ...]]:
    asn = rng.choice(tc.asns)
    return network_fields(asn), ips_in(
        rng, asn, rng.randint(1, 6) if tc.residential_proxies else rng.randint(1, 3)
    )


def templates_for(
    ctx: WorldContext, rng: random.Random, n: int, capabilities: tuple[str, ...]
) -> tuple[Template, ...]:
    return tuple(
        ctx.template(rng, rng.choice(capabilities), int(CODE_IN.sample(rng, 0.1, 0.8))) for _ in range(n)
    )


def harvest_profile(
    ctx: WorldContext,
    rng: random.Random,
    tc: Tradecraft,
    static: dict,
    ips: tuple[str, ...],
    templates: tuple[Template, ...],
    capabilities: tuple[str, ...],
) -> Profile:
    """Structured, narrow, output-hungry prompts: what a distillation data pipeline sends."""
    return Profile(
        account_id=ctx.account_id(),
        static=static,
        ips=ips,
        models=("atlas-4o", "atlas-r1", "atlas-r1"),
        capabilities=capabilities,
        langs=("en",) * 6 + ("zh",),
        input_q=CODE_IN,
        output_q=CONV_OUT,
        output_scale=rng.uniform(2.0, 6.0),
        templates=templates,
        template_share=rng.uniform(0.75, 1.0),
        flip_bits=rng.randint(4, 12),  # one skeleton, many topics: repetition with broad coverage
        max_tokens=(rng.choice((4096, 8192, 16384)),),
        cot_share=rng.uniform(0.05, 0.2) if tc.low_cot else rng.uniform(0.35, 0.9),
        cot_range=(0.6, 0.98),
        temperatures=(0.7, 1.0, rng.choice((0.0, 0.8))),
        n_choices=(1, 1, 1, rng.choice((1, 2, 4))),
        logprobs_share=rng.choice((0.0, 0.0, 0.3)),
        stream_share=rng.uniform(0.0, 0.3),
        p429=0.0,
    )


def campaign_start(ctx: WorldContext, rng: random.Random, lo: float, hi: float) -> int:
    return ctx.start_ms + int(rng.uniform(lo, hi) * (ctx.end_ms - ctx.start_ms))


def bulk_harvest(ctx: WorldContext, scale: float, n_benign: int) -> list[Actor]:
    """One account (or a couple) pulling outputs at high volume, 24/7, on a narrow capability."""
    rng = ctx.rng("bulk_harvest")
    actors = []
    for _ in range(max(1, round(scale * rng.choice((1, 1, 2))))):
        tc = Tradecraft.draw(rng)
        start = campaign_start(ctx, rng, 0.05, 0.35)
        net, ips = _network(rng, tc)
        capabilities = tuple(rng.sample(HARVEST_CAPABILITIES, rng.randint(1, 2)))
        static = campaign_identity(ctx, rng, tc, ctx.new_id("pay-"), start - int(rng.uniform(0.1, 20) * DAY_MS)) | net
        profile = harvest_profile(
            ctx, rng, tc, static, ips, templates_for(ctx, rng, rng.randint(3, 20), capabilities), capabilities
        )
        profile.p429 = rng.uniform(0.005, 0.05)
        times = arrivals.times(rng, start, ctx.end_ms, rng.uniform(0.05, 0.2), cv=rng.uniform(0.3, 1.2))
        actors.append(single("bulk_harvest", True, profile, rng, times))
    return actors


def _payment_groups(ctx: WorldContext, rng: random.Random, n: int, lo: int, hi: int) -> list[str]:
    """Payment fingerprints for ``n`` accounts, shared within groups of ``lo``..``hi`` accounts."""
    out: list[str] = []
    while len(out) < n:
        out += [ctx.new_id("pay-")] * rng.randint(lo, hi)
    return out[:n]


def _dispatch(
    rng: random.Random, profiles: list[Profile], arrival_ms: Iterator[int], jitter: float
) -> Events:
    """A load balancer: round-robin over the accounts, with occasional random picks."""
    seqs = [0] * len(profiles)
    i = 0
    for ts in arrival_ms:
        i = rng.randrange(len(profiles)) if rng.random() < jitter else (i + 1) % len(profiles)
        yield ts, make_event(profiles[i], rng, ts, seqs[i])
        seqs[i] += 1


def hydra(ctx: WorldContext, scale: float, n_benign: int) -> list[Actor]:
    """A reseller's network of many young accounts, each under its limits, dispatched in lockstep.

    Part of it goes through the reseller's router, which also carries honest customers.
    """
    rng = ctx.rng("hydra")
    tc = Tradecraft.draw(rng)
    n = max(20, round(n_benign * rng.uniform(0.15, 0.3) * scale))
    start = campaign_start(ctx, rng, 0.0, 0.3)
    via_router = rng.uniform(0.5, 1.0)
    capabilities = tuple(rng.sample(HARVEST_CAPABILITIES, rng.randint(1, 3)))
    templates = templates_for(ctx, rng, rng.randint(5, 30), capabilities)
    payments = _payment_groups(ctx, rng, n, 5, 40)
    batch_created = [start - int(rng.uniform(0.2, 10) * DAY_MS) for _ in range(rng.randint(2, 6))]
    router = ctx.reseller
    profiles = []
    for k in range(n):
        created = rng.choice(batch_created) + rng.randint(0, HOUR_MS)
        if rng.random() < via_router:
            net, ips = network_fields(router.asn) | {"router_id": router.router_id}, router.ips
        else:
            net, ips = _network(rng, tc)
        static = campaign_identity(ctx, rng, tc, payments[k], created) | net
        profile = harvest_profile(ctx, rng, tc, static, ips, templates, capabilities)
        profile.end_users = rng.choice((0, 0, 20))
        profiles.append(profile)
    rng.shuffle(profiles)
    per_account_day = rng.uniform(15, 45)
    times = arrivals.times(rng, start, ctx.end_ms, n * per_account_day / 86400, cv=rng.uniform(0.2, 0.6))
    events = _dispatch(rng, profiles, times, jitter=rng.uniform(0.0, 0.3))
    return [Actor("hydra", True, [p.account_id for p in profiles], events)]


def cot_coercion(ctx: WorldContext, scale: float, n_benign: int) -> list[Actor]:
    """A group of accounts coercing the model to reveal its reasoning, in many languages."""
    rng = ctx.rng("cot_coercion")
    tc = Tradecraft.draw(rng)
    n = max(3, round(rng.randint(5, 20) * scale))
    start = campaign_start(ctx, rng, 0.05, 0.4)
    templates = templates_for(ctx, rng, rng.randint(3, 10), ("reasoning", "math"))
    payments = _payment_groups(ctx, rng, n, 2, 6)
    cot_share = rng.uniform(0.6, 0.95)
    actors = []
    for k in range(n):
        net, ips = _network(rng, tc)
        account_start = start + rng.randint(0, 6 * HOUR_MS)
        static = (
            campaign_identity(ctx, rng, tc, payments[k], account_start - int(rng.uniform(0.5, 30) * DAY_MS)) | net
        )
        profile = harvest_profile(ctx, rng, tc, static, ips, templates, ("reasoning", "math"))
        profile.langs = tuple(rng.sample(COERCION_LANGS, rng.randint(3, 8)))
        profile.models = ("atlas-r1", "atlas-r1", "atlas-4o")
        profile.cot_share = cot_share
        profile.cot_range = (0.75, 0.99)
        profile.refusal_share = rng.uniform(0.15, 0.4)
        profile.template_share = rng.uniform(0.5, 0.9)
        profile.input_q = CONV_IN
        times = arrivals.times(
            rng,
            account_start,
            ctx.end_ms,
            rng.uniform(60, 400) / 86400,
            cv=rng.uniform(0.8, 2.0),
            log_sd=0.5,
        )
        actors.append(single("cot_coercion", True, profile, rng, times))
    return actors


def _sharded(
    rng: random.Random,
    profiles: list[Profile],
    arrival_ms: Iterator[int],
    limit_per_min: int,
    strikes_to_ban: int,
    initial: int,
) -> Events:
    """Demand above what the active accounts may send: 429s, then 403 bans, then siblings take over.

    The provider throttles each account at ``limit_per_min`` and bans one after ``strikes_to_ban``
    throttled requests; the operator keeps a banned account for a few more minutes, then drops it,
    and brings the next sibling online whenever an account is banned or 429s pile up.
    """
    active = list(range(initial))
    waiting = list(range(initial, len(profiles)))
    minute = [-1] * len(profiles)
    count = [0] * len(profiles)
    strikes = [0] * len(profiles)
    banned_at = [0] * len(profiles)
    seqs = [0] * len(profiles)
    for ts in arrival_ms:
        if not active:
            if not waiting:
                return
            active.append(waiting.pop(0))
        i = rng.choice(active)
        m = ts // 60_000
        if minute[i] != m:
            minute[i], count[i] = m, 0
        count[i] += 1
        if banned_at[i]:
            status = 403
            if ts - banned_at[i] > rng.randint(2, 20) * 60_000:
                active.remove(i)
        elif count[i] > limit_per_min:
            status = 429
            strikes[i] += 1
            if strikes[i] >= strikes_to_ban:
                banned_at[i] = ts
            if (strikes[i] % max(1, strikes_to_ban // 3) == 0 or banned_at[i]) and waiting:
                active.append(waiting.pop(0))
        else:
            status = 0
        yield ts, make_event(profiles[i], rng, ts, seqs[i], status)
        seqs[i] += 1


def rate_limit_sharding(ctx: WorldContext, scale: float, n_benign: int) -> list[Actor]:
    """Load that moves to sibling accounts when one is throttled (429) or banned (403)."""
    rng = ctx.rng("rate_limit_sharding")
    tc = Tradecraft.draw(rng)
    n = max(4, round(rng.randint(8, 30) * scale))
    start = campaign_start(ctx, rng, 0.1, 0.5)
    capabilities = tuple(rng.sample(HARVEST_CAPABILITIES, rng.randint(1, 2)))
    templates = templates_for(ctx, rng, rng.randint(3, 12), capabilities)
    payments = _payment_groups(ctx, rng, n, 2, 8)
    profiles = []
    for k in range(n):
        net, ips = _network(rng, tc)
        static = campaign_identity(ctx, rng, tc, payments[k], start - int(rng.uniform(0.1, 5) * DAY_MS)) | net
        profiles.append(harvest_profile(ctx, rng, tc, static, ips, templates, capabilities))
    limit = rng.randint(2, 5)
    initial = rng.randint(2, 3)
    demand = initial * limit / 60 * rng.uniform(1.2, 2.0)
    times = arrivals.times(rng, start, ctx.end_ms, demand, cv=rng.uniform(0.4, 1.0))
    events = _sharded(rng, profiles, times, limit, rng.randint(20, 80), initial)
    return [Actor("rate_limit_sharding", True, [p.account_id for p in profiles], events)]


def release_chasing(ctx: WorldContext, scale: float, n_benign: int) -> list[Actor]:
    """A campaign that moves most of its traffic to the new model within hours of its release."""
    rng = ctx.rng("release_chasing")
    tc = Tradecraft.draw(rng)
    n = max(2, round(rng.randint(3, 12) * scale))
    start = max(ctx.start_ms, ctx.release_ms - int(rng.uniform(2, 10) * HOUR_MS))
    capabilities = tuple(rng.sample(HARVEST_CAPABILITIES, rng.randint(1, 3)))
    templates = templates_for(ctx, rng, rng.randint(3, 15), capabilities)
    payments = _payment_groups(ctx, rng, n, 1, 5)
    move = ctx.release_ms + int(rng.uniform(0.5, 20) * HOUR_MS)
    share = rng.uniform(0.5, 0.9)
    profiles = []
    for k in range(n):
        net, ips = _network(rng, tc)
        static = campaign_identity(ctx, rng, tc, payments[k], start - int(rng.uniform(1, 30) * DAY_MS)) | net
        profile = harvest_profile(ctx, rng, tc, static, ips, templates, capabilities)
        profile.new_model_share = share
        profile.adopt_after_ms = move + rng.randint(0, HOUR_MS)
        profile.output_q = CODE_OUT if "coding" in capabilities else CONV_OUT
        profiles.append(profile)
    rate = n * rng.uniform(300, 1500) / 86400
    events = _dispatch(
        rng,
        profiles,
        arrivals.times(rng, start, ctx.end_ms, rate, cv=rng.uniform(0.5, 1.5)),
        jitter=rng.uniform(0.3, 1.0),
    )
    return [Actor("release_chasing", True, [p.account_id for p in profiles], events)]


def slow_and_low(ctx: WorldContext, scale: float, n_benign: int) -> list[Actor]:
    """Many accounts, each a few requests a day for weeks: visible only in aggregate."""
    rng = ctx.rng("slow_and_low")
    tc = Tradecraft.draw(rng)
    n = max(12, round(n_benign * rng.uniform(0.08, 0.15) * scale))
    capabilities = tuple(rng.sample(HARVEST_CAPABILITIES, rng.randint(1, 3)))
    templates = templates_for(ctx, rng, rng.randint(3, 8), capabilities)
    payments = _payment_groups(ctx, rng, n, 3, 10)
    shape = arrivals.diurnal(rng.choice((8, 8, 0, -5))) if rng.random() < 0.5 else arrivals.flat
    actors = []
    for k in range(n):
        net, ips = _network(rng, tc)
        account_start = campaign_start(ctx, rng, 0.0, 0.2)
        static = campaign_identity(ctx, rng, tc, payments[k], account_start - int(rng.uniform(1, 40) * DAY_MS)) | net
        profile = harvest_profile(ctx, rng, tc, static, ips, templates, capabilities)
        profile.template_share = rng.uniform(0.6, 0.95)
        times = arrivals.times(
            rng, account_start, ctx.end_ms, rng.uniform(5, 30) / 86400, cv=rng.uniform(0.5, 1.5), shape=shape
        )
        actors.append(single("slow_and_low", True, profile, rng, times))
    return actors


SCENARIOS = {
    "bulk_harvest": bulk_harvest,
    "hydra": hydra,
    "cot_coercion": cot_coercion,
    "rate_limit_sharding": rate_limit_sharding,
    "release_chasing": release_chasing,
    "slow_and_low": slow_and_low,
}
