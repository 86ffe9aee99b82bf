"""Benign populations that look like coordination or harvesting and must never page.

Each is the honest twin of a stealthy attack: coding-agent users share a framework's prompt
templates (the evasive hydra's prompt pool), a CI fleet runs in lockstep (its dispatcher), a
hackathon is a burst of new accounts in one place, a tutoring app asks for step-by-step reasoning
all day, and reasoning businesses send long, reasoning-heavy requests (the lone harvester).
"""

from __future__ import annotations

import random

from distillwatch.models.timespans import HOUR_MS
from distillwatch.streams.simulation import arrivals
from distillwatch.streams.simulation.actor import Actor, Events, single
from distillwatch.streams.simulation.benign import (
    ACTIVE,
    CODE_IN,
    CODE_OUT,
    CONV_IN,
    CONV_OUT,
    CV,
    LOG_SD,
    STEADY_RATE,
    adoption,
    business_identity,
    chat_times,
    home_network,
    langs_for,
    per_day,
)
from distillwatch.streams.simulation.catalog import (
    BROWSER_CLIENTS,
    CAMPUS_ASNS,
    CLOUD_ASNS,
    COUNTRIES,
    COUNTRY_UTC_OFFSET_H,
)
from distillwatch.streams.simulation.context import (
    WorldContext,
    identity,
    ips_in,
    network_fields,
    sdk_client,
    subnet_ips,
)
from distillwatch.streams.simulation.events import Profile, format_ts, make_event

CI_PERIOD_MS = 600_000  # the fleet's cron: every ten minutes
BUSINESS_SCALE = 0.005  # a ServeGen steady client is a whole tenant; one business API account is smaller


def coding_agent_users(ctx: WorldContext, n: int) -> list[Actor]:
    """Users of one open-source coding agent: the framework's few system prompts and templates,
    everything else (timing, network, card) their own; short code edits back."""
    fw = ctx.rng("coding_agent")
    system_prompts = tuple(ctx.new_id("sys-", 64) for _ in range(fw.randint(2, 4)))
    templates = tuple(
        ctx.template(fw, fw.choice(("coding", "coding", "agentic")), int(CODE_IN.sample(fw, 0.5, 0.95)))
        for _ in range(fw.randint(3, 8))
    )
    actors = []
    for i in range(n):
        rng = ctx.rng(f"coding_agent_user:{i}")
        country = rng.choice(COUNTRIES)
        net, ips = home_network(rng, country)
        static = (
            identity(
                ctx,
                org_id=None,
                created=ctx.created_at(rng, 5, 900),
                verification=rng.choice(("card", "phone", "email", "card")),
                payment=ctx.new_id("pay-"),
                country=country,
            )
            | net
            | sdk_client(rng)
        )
        profile = Profile(
            account_id=ctx.account_id(),
            static=static,
            ips=ips,
            models=("atlas-4o", "atlas-4o", "atlas-4o-mini", "atlas-r1"),
            capabilities=("coding", "coding", "agentic"),
            langs=("en",),
            input_q=CODE_IN,
            output_q=CODE_OUT,
            input_scale=rng.uniform(1.0, 3.0),
            output_scale=rng.uniform(1.0, 3.0),
            templates=templates,
            template_share=rng.uniform(0.7, 0.95),
            flip_bits=rng.randint(3, 10),
            system_prompts=tuple(rng.sample(system_prompts, rng.randint(1, 2))),
            max_tokens=(4096, 8192),
            cot_share=0.02,
            temperatures=(0.0, 0.2),
            stream_share=0.9,
            **adoption(ctx, rng, rng.uniform(0.2, 0.6), 1, 48),
        )
        times = chat_times(ctx, rng, per_day(rng, 120, 0.9), country, (0.3, 0.7))
        actors.append(single("coding_agent_users", False, profile, rng, times))
    return actors


def _cron(
    rng: random.Random, profiles: list[Profile], suites: list[tuple], start_ms: int, end_ms: int
) -> Events:
    """Every ten minutes each account runs its fixed suite in order, a few seconds per request."""
    offsets = [rng.randint(0, 30_000) for _ in profiles]
    seqs = [0] * len(profiles)
    tick = start_ms
    while tick < end_ms:
        if rng.random() >= 0.02:  # a skipped run now and then
            batch = []
            for i, suite in enumerate(suites):
                ts = tick + offsets[i]
                for template in suite:
                    ts += rng.randint(1_000, 6_000)
                    batch.append((ts, i, template))
            for ts, i, template in sorted(batch, key=lambda b: b[:2]):
                if ts >= end_ms:
                    break
                profiles[i].templates = (template,)
                yield ts, make_event(profiles[i], rng, ts, seqs[i])
                seqs[i] += 1
        tick += CI_PERIOD_MS


def ci_fleet(ctx: WorldContext, n: int) -> list[Actor]:
    """One company's CI: service accounts of one org and one card running a fixed prompt suite in
    lockstep every ten minutes, short outputs."""
    rng = ctx.rng("ci_fleet")
    asn = rng.choice(CLOUD_ASNS)
    org, card = ctx.new_id("org-", 32), ctx.new_id("pay-")
    ips = subnet_ips(rng, asn, rng.randint(2, 6))
    client = sdk_client(rng)
    country = rng.choice(COUNTRIES)
    capability = rng.choice(("coding", "writing", "other"))
    suite = tuple(
        ctx.template(rng, capability, int(CONV_IN.sample(rng, 0.2, 0.9))) for _ in range(rng.randint(4, 12))
    )
    profiles, suites = [], []
    for _ in range(n):
        static = (
            identity(
                ctx,
                org_id=org,
                created=ctx.created_at(rng, 100, 1500),
                verification="business",
                payment=card,
                country=country,
            )
            | network_fields(asn)
            | client
        )
        profiles.append(
            Profile(
                account_id=ctx.account_id(),
                static=static,
                ips=ips,
                models=(rng.choice(("atlas-4o-mini", "atlas-4o")),),
                capabilities=(capability,),
                langs=("en",),
                input_q=CONV_IN,
                output_q=CONV_OUT,
                output_scale=rng.uniform(0.2, 0.5),
                template_share=1.0,
                flip_bits=1,
                max_tokens=(256,),
                cot_share=0.0,
                temperatures=(0.0,),
                stream_share=0.0,
            )
        )
        suites.append(tuple(rng.sample(suite, rng.randint(2, len(suite)))))
    start = ctx.start_ms + rng.randint(0, CI_PERIOD_MS)
    events = _cron(rng, profiles, suites, start, ctx.end_ms)
    return [Actor("ci_fleet", False, [p.account_id for p in profiles], events)]


def _browser(rng: random.Random) -> dict:
    return dict(zip(("tls_fingerprint", "user_agent"), rng.choice(BROWSER_CLIENTS), strict=True))


def hackathon(ctx: WorldContext, n: int) -> list[Actor]:
    """New accounts created the same day at one venue (one to three /24s), busy during the event's
    hours with varied prompts, many of them coding."""
    rng = ctx.rng("hackathon")
    asn = rng.choice(CAMPUS_ASNS) if rng.random() < 0.6 else rng.choice(CLOUD_ASNS[:3])
    country = {3: "US", 786: "GB", 680: "DE"}.get(asn, "US")
    venue = tuple(ip for _ in range(rng.randint(1, 3)) for ip in subnet_ips(rng, asn, rng.randint(2, 8)))
    span = ctx.end_ms - ctx.start_ms
    duration = min(int(rng.uniform(6, 14) * HOUR_MS), span)
    begin = ctx.start_ms + int(rng.uniform(0, 1) * (span - duration))
    actors = []
    for i in range(n):
        prng = ctx.rng(f"hackathon:{i}")
        verification = prng.choice(("email", "email", "phone", "card"))
        static = (
            identity(
                ctx,
                org_id=None,
                created=format_ts(begin - prng.randint(0, 6 * HOUR_MS)),
                verification=verification,
                payment=ctx.new_id("pay-") if verification == "card" else None,
                country=country,
            )
            | network_fields(asn)
            | (sdk_client(prng) if prng.random() < 0.7 else _browser(prng))
        )
        profile = Profile(
            account_id=ctx.account_id(),
            static=static,
            ips=venue,
            models=("atlas-4o", "atlas-4o", "atlas-4o-mini", "atlas-r1"),
            capabilities=("coding",) * 4 + ("agentic", "chat", "writing", "reasoning", "math", "vision"),
            langs=langs_for(country),
            input_q=CODE_IN if prng.random() < 0.5 else CONV_IN,
            output_q=CONV_OUT,
            max_tokens=(None, 2048, 4096),
            cot_share=0.04,
            stream_share=0.8,
        )
        times = arrivals.times(
            prng, begin, begin + duration, per_day(prng, 250, 0.8), cv=CV.sample(prng), log_sd=0.6
        )
        actors.append(single("hackathon", False, profile, prng, times))
    return actors


def tutoring_app(ctx: WorldContext, n: int) -> list[Actor]:
    """A business-verified, years-old app whose system prompt asks for step-by-step explanations and
    which forwards its students' end-user ids; steady, diurnal, thousands of requests a day."""
    actors = []
    for i in range(n):
        rng = ctx.rng(f"tutoring_app:{i}")
        asn, country, static = business_identity(ctx, rng, 300, 2000)
        capability = rng.choice(("math", "reasoning"))
        profile = Profile(
            account_id=ctx.account_id(),
            static=static,
            ips=ips_in(rng, asn, rng.randint(2, 6)),
            models=("atlas-4o", "atlas-4o", "atlas-r1"),
            capabilities=("math", "math", "math", "reasoning", "reasoning", "coding", "writing"),
            langs=langs_for(country),
            input_q=CONV_IN,
            output_q=CONV_OUT,
            output_scale=rng.uniform(1.5, 3.0),
            templates=tuple(
                ctx.template(rng, capability, int(CONV_IN.sample(rng, 0.2, 0.6)))
                for _ in range(rng.randint(1, 3))
            ),
            template_share=rng.uniform(0.3, 0.7),
            flip_bits=rng.randint(6, 14),
            system_prompts=tuple(ctx.new_id("sys-", 64) for _ in range(rng.randint(1, 2))),
            cot_share=rng.uniform(0.6, 0.95),
            cot_range=(0.5, 0.9),
            end_users=rng.randint(300, 20000),
            stream_share=0.95,
            max_tokens=(2048, 4096),
        )
        times = arrivals.times(
            rng,
            ctx.start_ms,
            ctx.end_ms,
            per_day(rng, 2500, 0.7),
            cv=CV.sample(rng, 0.2, 0.7),
            shape=arrivals.diurnal(COUNTRY_UTC_OFFSET_H[country]),
            log_sd=LOG_SD.sample(rng, 0.05, 0.4),
        )
        actors.append(single("tutoring_app", False, profile, rng, times))
    return actors


def reasoning_business(ctx: WorldContext, n: int) -> list[Actor]:
    """Business API clients with steady reasoning workloads; rate, burstiness, window spread and
    idle share per client from ServeGen's steady clients."""
    actors = []
    for i in range(n):
        rng = ctx.rng(f"reasoning_business:{i}")
        asn, country, static = business_identity(ctx, rng, 60, 1500)
        capabilities = tuple(rng.sample(("math", "reasoning", "coding", "agentic"), rng.randint(1, 3)))
        profile = Profile(
            account_id=ctx.account_id(),
            static=static,
            ips=ips_in(rng, asn, rng.randint(2, 8)),
            models=("atlas-r1", "atlas-r1", "atlas-r1", "atlas-4o"),
            capabilities=capabilities,
            langs=("en",),
            input_q=CODE_IN,
            output_q=CONV_OUT,
            output_scale=rng.uniform(2.0, 5.0),
            templates=tuple(
                ctx.template(rng, rng.choice(capabilities), int(CODE_IN.sample(rng, 0.2, 0.9)))
                for _ in range(rng.randint(1, 4))
            ),
            template_share=rng.uniform(0.3, 0.9),
            flip_bits=rng.randint(4, 12),
            max_tokens=(16384, 32768),
            cot_share=rng.uniform(0.05, 0.35),
            cot_range=(0.4, 0.85),
            reasoning_tokens=rng.uniform(3000, 9000),
            end_users=rng.choice((0, 0, rng.randint(200, 5000))),
            stream_share=rng.uniform(0.0, 0.6),
            **adoption(ctx, rng, rng.uniform(0.2, 0.6), 6, 96),
        )
        rate = min(max(STEADY_RATE.sample(rng, 0.1, 0.9) * BUSINESS_SCALE, 0.003), 0.1)
        shape = arrivals.flat if rng.random() < 0.5 else arrivals.diurnal(COUNTRY_UTC_OFFSET_H[country])
        times = arrivals.times(
            rng,
            ctx.start_ms,
            ctx.end_ms,
            rate,
            cv=CV.sample(rng),
            shape=shape,
            log_sd=LOG_SD.sample(rng),
            active_share=ACTIVE.sample(rng, 0.6, 1.0),
        )
        actors.append(single("reasoning_business", False, profile, rng, times))
    return actors


LOOKALIKES = {  # population -> (default share of --accounts, added on top of the core mix; builder)
    "coding_agent_users": (0.05, coding_agent_users),
    "ci_fleet": (0.065, ci_fleet),
    "hackathon": (0.04, hackathon),
    "tutoring_app": (0.005, tutoring_app),
    "reasoning_business": (0.03, reasoning_business),
}
