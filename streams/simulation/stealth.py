"""Attacks that share no identity attribute: an evasive hydra and lone harvesters.

They are what is left once an operator has learnt that shared cards, IP ranges, routers and TLS
stacks get accounts linked: every account has its own card, its own residential or mobile address
on its own ASN and /24, and a popular SDK's client stack that thousands of honest accounts share.
What cannot be hidden is the behaviour: one dispatcher's timing and one prompt pool (the hydra), or
a steady, narrow, reasoning-hungry request mix (the lone harvester).
"""

from __future__ import annotations

import random
from dataclasses import replace

from distillwatch.models.timespans import DAY_MS
from distillwatch.streams.simulation import arrivals
from distillwatch.streams.simulation.actor import Actor, Events, single
from distillwatch.streams.simulation.attacks import (
    Tradecraft,
    campaign_identity,
    campaign_start,
    harvest_profile,
    templates_for,
)
from distillwatch.streams.simulation.benign import CODE_IN, CONV_OUT, adoption, langs_for
from distillwatch.streams.simulation.catalog import (
    COUNTRIES,
    COUNTRY_RESIDENTIAL_ASN,
    COUNTRY_UTC_OFFSET_H,
    MOBILE_ASNS,
    RESIDENTIAL_ASNS,
    VERIFICATION_STRONG,
    VERIFICATION_WEAK,
)
from distillwatch.streams.simulation.context import WorldContext, identity, ips_in, network_fields, sdk_client
from distillwatch.streams.simulation.events import Profile, make_event

SPREAD_ASNS = RESIDENTIAL_ASNS + MOBILE_ASNS
# make_event draws reasoning tokens as Exp(mean R) times 0.3 (40 %) or 1.4 (60 %): mean 0.96 R
REASONING_DRAW_MEAN = 0.4 * 0.3 + 0.6 * 1.4


def own_addresses(rng: random.Random, asn: int, n: int, taken: set[str]) -> tuple[str, ...]:
    """``n`` addresses of ``asn`` in /24s nobody in ``taken`` uses yet (``taken`` is updated)."""
    out: list[str] = []
    while len(out) < n:
        ip = ips_in(rng, asn, 1)[0]
        prefix = ip.rsplit(".", 1)[0]
        if prefix not in taken:
            taken.add(prefix)
            out.append(ip)
    return tuple(out)


def _rounds(
    rng: random.Random,
    profiles: list[Profile],
    start_ms: int,
    end_ms: int,
    period_ms: float,
    picks: float,
    spread_ms: int,
) -> Events:
    """One dispatcher: every few minutes a round sends one request from each of a random subset of
    the accounts, all within ``spread_ms`` of the round's start."""
    seqs = [0] * len(profiles)
    t = start_ms
    while t < end_ms:
        k = min(len(profiles), max(2, round(rng.gauss(picks, picks**0.5))))
        batch = sorted((t + rng.randint(0, spread_ms), i) for i in rng.sample(range(len(profiles)), k))
        for ts, i in batch:
            if ts >= end_ms:
                return
            yield ts, make_event(profiles[i], rng, ts, seqs[i])
            seqs[i] += 1
        t = max(t + int(period_ms * rng.uniform(0.6, 1.4)), batch[-1][0] + 1)


def evasive_hydra(ctx: WorldContext, scale: float, n_benign: int) -> list[Actor]:
    """Many accounts with nothing in common but their dispatcher and their prompt pool.

    ~25 requests per account per day (15-35, per world) in rounds that each hit a random 4-15 % of
    the accounts (at least two) within 45-120 s, every few minutes; half the worlds paraphrase the
    pool so the gateway assigns no template id (only the SimHashes stay close).
    """
    rng = ctx.rng("evasive_hydra")
    n = max(8, round(n_benign * rng.uniform(0.07, 0.27) * scale))
    start = campaign_start(ctx, rng, 0.0, 0.3)
    capabilities = tuple(rng.sample(("coding", "reasoning", "math"), rng.randint(2, 3)))
    templates = templates_for(ctx, rng, rng.randint(8, 40), capabilities)
    if rng.random() < 0.5:
        templates = tuple(replace(t, template_id=None) for t in templates)
    tc = Tradecraft(
        residential_proxies=True,
        popular_tls=True,
        aged_accounts=rng.random() < 0.5,
        strong_verification=rng.random() < 0.5,
        low_cot=rng.random() < 0.4,
        tls=("", ""),  # replaced per account by a popular SDK below
        asns=SPREAD_ASNS,
    )
    flip_bits = rng.randint(2, 6)
    stream_share = rng.uniform(0.3, 0.9)
    taken: set[str] = set()
    profiles = []
    for _ in range(n):
        asn = rng.choice(SPREAD_ASNS)
        ips = own_addresses(rng, asn, rng.randint(1, 3), taken)
        created = start - int(rng.uniform(1, 120) * DAY_MS)
        static = campaign_identity(ctx, rng, tc, ctx.new_id("pay-"), created) | network_fields(asn)
        static |= sdk_client(rng)
        profile = harvest_profile(ctx, rng, tc, static, ips, templates, capabilities)
        profile.flip_bits = flip_bits
        profile.stream_share = stream_share
        profiles.append(profile)
    per_account_day = rng.uniform(15, 35)
    picks = max(2.0, n * rng.uniform(0.04, 0.15))  # accounts per round
    period = picks * DAY_MS / (n * per_account_day)  # 2-8 minutes at 20-80 accounts
    events = _rounds(rng, profiles, start, ctx.end_ms, period, picks, int(rng.uniform(45, 120) * 1000))
    return [Actor("evasive_hydra", True, [p.account_id for p in profiles], events)]


def _lone_harvester(
    ctx: WorldContext, rng: random.Random, scenario: str, per_day: tuple[float, float]
) -> Actor:
    """One independent account harvesting reasoning traces at its own steady rate."""
    country = rng.choice(COUNTRIES)
    asn = COUNTRY_RESIDENTIAL_ASN[country]
    static = (
        identity(
            ctx,
            org_id=None,
            created=ctx.created_at(rng, 1, 400),
            verification=rng.choice(VERIFICATION_STRONG + VERIFICATION_WEAK),
            payment=ctx.new_id("pay-"),
            country=country,
        )
        | network_fields(asn)
        | sdk_client(rng)
    )
    capabilities = tuple(rng.sample(("math", "reasoning", "coding"), rng.randint(1, 3)))
    output_scale = rng.uniform(2.0, 5.0)
    visible = CONV_OUT.mean() * output_scale
    profile = Profile(
        account_id=ctx.account_id(),
        static=static,
        ips=ips_in(rng, asn, 1),
        models=("atlas-r1",),
        capabilities=capabilities,
        langs=langs_for(country),
        input_q=CODE_IN,
        output_q=CONV_OUT,
        output_scale=output_scale,
        templates=templates_for(ctx, rng, rng.randint(2, 10), capabilities),
        template_share=rng.uniform(0.2, 0.8),
        flip_bits=rng.randint(4, 12),
        max_tokens=(8192, 16384, 32768),
        cot_share=rng.uniform(0.6, 0.9),
        cot_range=(0.6, 0.97),
        reasoning_tokens=rng.uniform(2.0, 3.0) * visible / REASONING_DRAW_MEAN,
        p429=0.0,
        stream_share=rng.uniform(0.2, 0.9),
        **adoption(ctx, rng, rng.uniform(0.0, 0.6), 0, 24),  # atlas-5 reasons too
    )
    start = campaign_start(ctx, rng, 0.0, 0.75)
    shape = arrivals.flat if rng.random() < 0.5 else arrivals.diurnal(COUNTRY_UTC_OFFSET_H[country])
    times = arrivals.times(
        rng,
        start,
        ctx.end_ms,
        rng.uniform(*per_day) / 86400,
        cv=rng.uniform(0.6, 1.5),
        shape=shape,
        log_sd=rng.uniform(0.1, 0.5),
    )
    return single(scenario, True, profile, rng, times)


def lone_harvester(ctx: WorldContext, scale: float, n_benign: int) -> list[Actor]:
    """Independent accounts at 150-400 requests a day each (3-8 % of ``n_benign``, at least 3)."""
    rng = ctx.rng("lone_harvester")
    n = max(3, round(n_benign * rng.uniform(0.03, 0.08) * scale))
    return [_lone_harvester(ctx, rng, "lone_harvester", (150, 400)) for _ in range(n)]


def lone_harvester_fast(ctx: WorldContext, scale: float, n_benign: int) -> list[Actor]:
    """A few independent accounts at 1,000-2,500 requests a day each."""
    rng = ctx.rng("lone_harvester_fast")
    n = max(1, round(rng.randint(2, 4) * scale))
    return [_lone_harvester(ctx, rng, "lone_harvester_fast", (1000, 2500)) for _ in range(n)]


SCENARIOS = {
    "evasive_hydra": evasive_hydra,
    "lone_harvester": lone_harvester,
    "lone_harvester_fast": lone_harvester_fast,
}
