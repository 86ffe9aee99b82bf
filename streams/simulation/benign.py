"""Benign populations, including the innocent look-alikes that must not page anyone.

Arrival shape (active windows, window-to-window spread, inter-arrival CV, hour-of-day and
day-of-week rhythm) comes from ServeGen's per-client figures; prompt and completion lengths from
the Azure 2023 traces. Per-account volumes are ServeGen client rates scaled down to single
accounts (``*_SCALE`` below, see docs/simulation.md) so a simulated day stays replayable.
"""

from __future__ import annotations

import math
import random

from distillwatch.models.timespans import DAY_MS, HOUR_MS
from distillwatch.streams.simulation import arrivals
from distillwatch.streams.simulation.actor import Actor, single
from distillwatch.streams.simulation.calibration import azure_tokens, servegen
from distillwatch.streams.simulation.catalog import (
    BROWSER_CLIENTS,
    CAMPUS_ASNS,
    CHAT_CAPABILITIES,
    CLOUD_ASNS,
    COUNTRIES,
    COUNTRY_LANG,
    COUNTRY_RESIDENTIAL_ASN,
    COUNTRY_UTC_OFFSET_H,
    MOBILE_ASNS,
)
from distillwatch.streams.simulation.context import (
    WorldContext,
    identity,
    ips_in,
    network_fields,
    sdk_client,
    subnet_ips,
)
from distillwatch.streams.simulation.events import Profile

ENTERPRISE_SCALE = 0.004  # ServeGen steady clients are whole tenants; one backend account is smaller
BATCH_SCALE = 0.02
CONV_IN, CONV_OUT = azure_tokens("conv", "input_tokens"), azure_tokens("conv", "output_tokens")
CODE_IN, CODE_OUT = azure_tokens("code", "input_tokens"), azure_tokens("code", "output_tokens")
CV = servegen("interarrival_cv")
LOG_SD = servegen("window_log_rate_sd")
ACTIVE = servegen("active_window_share")
STEADY_RATE = servegen("steady_mean_rate_per_s")


def per_day(rng: random.Random, median: float, sigma: float) -> float:
    """A log-normal requests-per-day level, returned as requests per second."""
    return median * math.exp(rng.gauss(0.0, sigma)) / 86400.0


def langs_for(country: str) -> tuple[str, ...]:
    return (COUNTRY_LANG.get(country, "en"),) * 4 + ("en",)


def adoption(ctx: WorldContext, rng: random.Random, share: float, min_h: float, max_h: float) -> dict:
    """When and how much an honest account moves to the newly released model (gradually, by days)."""
    return {
        "new_model_share": share,
        "adopt_after_ms": ctx.release_ms + int(rng.uniform(min_h, max_h) * HOUR_MS),
    }


def home_network(rng: random.Random, country: str) -> tuple[dict, tuple[str, ...]]:
    u = rng.random()
    asn = rng.choice(MOBILE_ASNS) if u < 0.2 else COUNTRY_RESIDENTIAL_ASN[country]
    if u > 0.95:
        asn = 9009  # a consumer VPN
    return network_fields(asn), ips_in(rng, asn, rng.randint(1, 4))


def _chat_profile(
    ctx: WorldContext, rng: random.Random, static: dict, ips: tuple[str, ...], country: str
) -> Profile:
    return Profile(
        account_id=ctx.account_id(),
        static=static,
        ips=ips,
        models=("atlas-4o", "atlas-4o", "atlas-4o-mini", "atlas-r1"),
        capabilities=CHAT_CAPABILITIES,
        langs=langs_for(country),
        input_q=CONV_IN,
        output_q=CONV_OUT,
        max_tokens=(None, None, 1024, 4096),
        cot_share=0.03,
        endpoints=("chat.completions", "responses"),
        stream_share=0.8,
        **adoption(ctx, rng, rng.uniform(0.2, 0.6), 1, 72),
    )


def chat_times(
    ctx: WorldContext, rng: random.Random, rate: float, country: str, active: tuple[float, float] = (0.55, 0.85)
):
    """A person's arrivals: diurnal at local time, bursty, idle windows from the ``active`` band of
    ServeGen's active-window share."""
    return arrivals.times(
        rng,
        ctx.start_ms,
        ctx.end_ms,
        rate,
        cv=CV.sample(rng),
        shape=arrivals.diurnal(COUNTRY_UTC_OFFSET_H[country]),
        log_sd=LOG_SD.sample(rng, 0.1, 0.9),
        active_share=ACTIVE.sample(rng, *active),
    )


def chat_users(ctx: WorldContext, n: int) -> list[Actor]:
    """Interactive users: diurnal, bursty sessions, free-form prompts, tens of requests a day."""
    actors = []
    for i in range(n):
        rng = ctx.rng(f"chat_user:{i}")
        country = rng.choice(COUNTRIES)
        new = rng.random() < 0.12  # honest new signups: young accounts are not evidence by themselves
        verification = rng.choice(("email", "phone", "card", "card", "email"))
        net, ips = home_network(rng, country)
        client = dict(zip(("tls_fingerprint", "user_agent"), rng.choice(BROWSER_CLIENTS), strict=True))
        static = (
            identity(
                ctx,
                org_id=None,
                created=ctx.created_at(rng, 0, 3) if new else ctx.created_at(rng, 30, 1500),
                verification=verification,
                payment=ctx.new_id("pay-") if verification == "card" or rng.random() < 0.5 else None,
                country=country,
            )
            | net
            | (sdk_client(rng) if rng.random() < 0.6 else client)
        )
        profile = _chat_profile(ctx, rng, static, ips, country)
        actors.append(
            single("chat_user", False, profile, rng, chat_times(ctx, rng, per_day(rng, 25, 1.0), country))
        )
    return actors


def nat_orgs(ctx: WorldContext, n: int) -> list[Actor]:
    """Universities and companies: many accounts behind one NAT address, one ASN, one org id.

    One organisation is a class that signed up together today: a burst of young accounts on one
    IP, the honest twin of a hydra batch.
    """
    actors: list[Actor] = []
    org_index = 0
    while len(actors) < n:
        rng = ctx.rng(f"nat_org:{org_index}")
        size = min(rng.randint(5, 40), n - len(actors))
        asn = rng.choice(CAMPUS_ASNS) if rng.random() < 0.6 else rng.choice(CLOUD_ASNS[:3])
        country = {3: "US", 786: "GB", 680: "DE"}.get(asn, "US")
        nat_ips = subnet_ips(rng, asn, rng.randint(1, 3))
        org_id = ctx.new_id("org-", 32)
        cohort = org_index == 0
        shared_pay = ctx.new_id("pay-") if rng.random() < 0.2 else None
        for _ in range(size):
            verification = "edu" if asn in CAMPUS_ASNS else rng.choice(("business", "card"))
            static = (
                identity(
                    ctx,
                    org_id=org_id,
                    created=ctx.created_at(rng, 0, 0.5) if cohort else ctx.created_at(rng, 20, 1200),
                    verification=verification,
                    payment=shared_pay or ctx.new_id("pay-"),
                    country=country,
                )
                | network_fields(asn)
                | sdk_client(rng)
            )
            profile = _chat_profile(ctx, rng, static, nat_ips, country)
            profile.capabilities = CHAT_CAPABILITIES + ("coding", "coding", "math")
            times = chat_times(ctx, rng, per_day(rng, 30, 0.9), country)
            actors.append(single("nat_org", False, profile, rng, times))
        org_index += 1
    return actors


def router_customers(ctx: WorldContext, n: int) -> list[Actor]:
    """Apps reached through legitimate routers: router egress IPs, many forwarded end-user ids.

    The first router is also the one a hydra network resells through, so the router id alone
    cannot separate them.
    """
    actors = []
    for i in range(n):
        rng = ctx.rng(f"router_customer:{i}")
        router = ctx.routers[0] if rng.random() < 0.4 else rng.choice(ctx.routers)
        country = rng.choice(COUNTRIES)
        tls, ua = _router_client(router.router_id)
        static = (
            identity(
                ctx,
                org_id=ctx.new_id("org-", 32),
                created=ctx.created_at(rng, 10, 900),
                verification=rng.choice(("business", "card", "startup")),
                payment=ctx.new_id("pay-"),
                country=country,
            )
            | network_fields(router.asn)
            | {"tls_fingerprint": tls, "user_agent": ua, "router_id": router.router_id}
        )
        profile = _chat_profile(ctx, rng, static, router.ips, country)
        profile.end_users = rng.randint(50, 5000)
        profile.system_prompts = tuple(ctx.new_id("sys-", 64) for _ in range(rng.randint(1, 3)))
        profile.stream_share = 0.95
        rate = per_day(rng, 300, 1.0)
        times = arrivals.times(
            rng,
            ctx.start_ms,
            ctx.end_ms,
            rate,
            cv=CV.sample(rng, 0.2, 0.8),
            shape=arrivals.diurnal(COUNTRY_UTC_OFFSET_H[country]),
            log_sd=LOG_SD.sample(rng, 0.1, 0.6),
        )
        actors.append(single("router_customer", False, profile, rng, times))
    return actors


def _router_client(router_id: str) -> tuple[str, str]:
    """Every account behind one router shares that router's own HTTP stack."""
    digest = int(router_id.removeprefix("rtr-"), 16)
    return f"t13d1516h2_{digest:012x}_{(digest * 31) & 0xFFFFFFFFFFFF:012x}", "router-gateway/2.3"


def reasoning_heavy(ctx: WorldContext, n: int) -> list[Actor]:
    """Customers on reasoning models: many hidden reasoning tokens, some ask for the reasoning."""
    actors = []
    for i in range(n):
        rng = ctx.rng(f"reasoning_heavy:{i}")
        country = rng.choice(COUNTRIES)
        backend = rng.random() < 0.5
        asn = rng.choice(CLOUD_ASNS) if backend else COUNTRY_RESIDENTIAL_ASN[country]
        static = (
            identity(
                ctx,
                org_id=ctx.new_id("org-", 32) if backend else None,
                created=ctx.created_at(rng, 5, 1000),
                verification=rng.choice(("card", "business", "research", "edu")),
                payment=ctx.new_id("pay-"),
                country=country,
            )
            | network_fields(asn)
            | sdk_client(rng)
        )
        templates = tuple(
            ctx.template(rng, rng.choice(("math", "reasoning", "coding")), int(CODE_IN.sample(rng, 0.2, 0.8)))
            for _ in range(rng.randint(2, 5))
        )
        profile = Profile(
            account_id=ctx.account_id(),
            static=static,
            ips=ips_in(rng, asn, rng.randint(1, 6)),
            models=("atlas-r1", "atlas-r1", "atlas-r1", "atlas-4o"),
            capabilities=("math", "reasoning", "reasoning", "coding", "chat"),
            langs=langs_for(country),
            input_q=CODE_IN,
            output_q=CONV_OUT,
            output_scale=rng.uniform(1.0, 3.0),
            templates=templates,
            template_share=rng.uniform(0.0, 0.5),
            flip_bits=rng.randint(2, 8),
            max_tokens=(8192, 16384, 32768, None),
            cot_share=rng.uniform(0.1, 0.4),
            cot_range=(0.3, 0.85),
            reasoning_tokens=rng.uniform(2000, 6000),
            **adoption(ctx, rng, rng.uniform(0.3, 0.7), 3, 72),
        )
        shape = arrivals.flat if backend else arrivals.diurnal(COUNTRY_UTC_OFFSET_H[country])
        times = arrivals.times(
            rng,
            ctx.start_ms,
            ctx.end_ms,
            per_day(rng, 150, 0.8),
            cv=CV.sample(rng),
            shape=shape,
            log_sd=LOG_SD.sample(rng, 0.1, 0.7),
            active_share=ACTIVE.sample(rng, 0.7, 1.0),
        )
        actors.append(single("reasoning_heavy", False, profile, rng, times))
    return actors


def _backend_profile(ctx: WorldContext, rng: random.Random, templates, static: dict, asn: int) -> Profile:
    return Profile(
        account_id=ctx.account_id(),
        static=static,
        ips=ips_in(rng, asn, rng.randint(2, 8)),
        models=("atlas-4o-mini",) * 3 + ("atlas-4o",),
        capabilities=tuple(t.capability for t in templates),
        langs=("en",),
        input_q=CONV_IN,
        output_q=CONV_OUT,
        templates=templates,
        template_share=0.97,
        flip_bits=2,
        temperatures=(rng.choice((0.0, 0.2, 0.7)),),
        stream_share=0.05,
        cot_share=0.01,
    )


def business_identity(
    ctx: WorldContext, rng: random.Random, min_days: float, max_days: float
) -> tuple[int, str, dict]:
    """(cloud ASN, country, static fields) of a business-verified API account with its own org and
    card, created ``min_days``..``max_days`` before the world starts."""
    asn = rng.choice(CLOUD_ASNS)
    country = rng.choice(COUNTRIES)
    static = (
        identity(
            ctx,
            org_id=ctx.new_id("org-", 32),
            created=ctx.created_at(rng, min_days, max_days),
            verification="business",
            payment=ctx.new_id("pay-"),
            country=country,
        )
        | network_fields(asn)
        | sdk_client(rng)
    )
    return asn, country, static


def enterprise_backends(ctx: WorldContext, n: int) -> list[Actor]:
    """One prompt template at high volume around the clock: template-heavy and machine-like."""
    actors = []
    for i in range(n):
        rng = ctx.rng(f"enterprise_backend:{i}")
        asn, country, static = business_identity(ctx, rng, 60, 1500)
        capability = rng.choice(("writing", "other", "coding", "chat", "agentic"))
        templates = tuple(
            ctx.template(rng, capability, int(CONV_IN.sample(rng, 0.3, 0.95)))
            for _ in range(rng.choice((1, 1, 1, 2)))
        )
        profile = _backend_profile(ctx, rng, templates, static, asn)
        profile.max_tokens = (rng.choice((256, 512, 1024)),)
        profile.end_users = rng.choice((0, 0, 1000))
        rate = min(max(STEADY_RATE.sample(rng, 0.05, 0.7) * ENTERPRISE_SCALE, 0.004), 0.05)
        shape = (
            arrivals.flat if rng.random() < 0.6 else arrivals.diurnal(COUNTRY_UTC_OFFSET_H[country], False)
        )
        times = arrivals.times(
            rng,
            ctx.start_ms,
            ctx.end_ms,
            rate,
            cv=CV.sample(rng, 0.02, 0.5),
            shape=shape,
            log_sd=LOG_SD.sample(rng, 0.02, 0.3),
        )
        actors.append(single("enterprise_backend", False, profile, rng, times))
    return actors


def _bursts(rng: random.Random, ctx: WorldContext) -> arrivals.Shape:
    """On for a few hours once or twice a day, off otherwise (an evaluation run, a nightly batch)."""
    spans = []
    day = ctx.start_ms
    while day < ctx.end_ms:
        for _ in range(rng.choice((1, 1, 2))):
            begin = day + int(rng.uniform(0, 20) * HOUR_MS)
            spans.append((begin, begin + int(rng.uniform(1, 6) * HOUR_MS)))
        day += DAY_MS

    def shape(ts_ms: int) -> float:
        return 1.0 if any(b <= ts_ms < e for b, e in spans) else 0.0

    return shape


def batch_jobs(ctx: WorldContext, n: int) -> list[Actor]:
    """Evaluation and batch jobs: hours of high volume on fixed templates, often max-token capped."""
    actors = []
    for i in range(n):
        rng = ctx.rng(f"batch_job:{i}")
        asn = rng.choice(CLOUD_ASNS)
        static = (
            identity(
                ctx,
                org_id=ctx.new_id("org-", 32),
                created=ctx.created_at(rng, 0.5, 800) if rng.random() < 0.8 else ctx.created_at(rng, 0, 2),
                verification=rng.choice(("research", "business", "edu", "card")),
                payment=ctx.new_id("pay-"),
                country=rng.choice(COUNTRIES),
            )
            | network_fields(asn)
            | sdk_client(rng)
        )
        capability = rng.choice(("math", "coding", "reasoning", "writing"))
        templates = tuple(
            ctx.template(rng, capability, int(CODE_IN.sample(rng, 0.1, 0.9)))
            for _ in range(rng.randint(1, 4))
        )
        profile = _backend_profile(ctx, rng, templates, static, asn)
        profile.flip_bits = rng.randint(3, 10)  # one harness prompt, many different questions
        profile.endpoints = ("batch",) if rng.random() < 0.7 else ("chat.completions",)
        profile.models = ("atlas-4o", "atlas-r1", "atlas-4o-mini")
        profile.max_tokens = (rng.choice((256, 512, 1024, 2048)),)
        profile.output_scale = rng.uniform(1.0, 6.0)
        profile.n_choices = rng.choice(((1,), (5,), (1, 1, 4)))
        profile.logprobs_share = rng.choice((0.0, 0.0, 0.5))
        profile.cot_share = rng.uniform(0.0, 0.7)  # "think step by step" is a standard eval prompt
        profile.cot_range = (0.3, 0.75)
        profile.p429 = rng.uniform(0.005, 0.05)
        rate = min(max(STEADY_RATE.sample(rng, 0.05, 0.6) * BATCH_SCALE, 0.02), 0.2)
        times = arrivals.times(
            rng, ctx.start_ms, ctx.end_ms, rate, cv=CV.sample(rng, 0.02, 0.4), shape=_bursts(rng, ctx)
        )
        actors.append(single("batch_job", False, profile, rng, times))
    return actors


def launch_customers(ctx: WorldContext, n: int) -> list[Actor]:
    """A product launch: an app account whose volume multiplies overnight and stays up."""
    actors = []
    for i in range(n):
        rng = ctx.rng(f"launch_customer:{i}")
        asn = rng.choice(CLOUD_ASNS)
        country = rng.choice(COUNTRIES)
        static = (
            identity(
                ctx,
                org_id=ctx.new_id("org-", 32),
                created=ctx.created_at(rng, 7, 90),
                verification=rng.choice(("card", "startup", "business")),
                payment=ctx.new_id("pay-"),
                country=country,
            )
            | network_fields(asn)
            | sdk_client(rng)
        )
        capability = rng.choice(("chat", "writing", "coding"))
        templates = tuple(
            ctx.template(rng, capability, int(CONV_IN.sample(rng, 0.2, 0.9)))
            for _ in range(rng.randint(1, 3))
        )
        profile = _backend_profile(ctx, rng, templates, static, asn)
        profile.template_share = rng.uniform(0.4, 0.9)
        profile.capabilities = (capability,) * 3 + CHAT_CAPABILITIES
        profile.flip_bits = 4
        profile.langs = langs_for(country)
        profile.end_users = rng.randint(200, 20000) if rng.random() < 0.5 else 0
        profile.system_prompts = (ctx.new_id("sys-", 64),)
        profile.stream_share = 0.9
        launch = ctx.start_ms + int(rng.uniform(0.2, 0.6) * (ctx.end_ms - ctx.start_ms))
        factor = rng.uniform(10, 40)
        diurnal = arrivals.diurnal(COUNTRY_UTC_OFFSET_H[country])

        def shape(ts_ms: int, launch=launch, factor=factor, diurnal=diurnal) -> float:
            return diurnal(ts_ms) * (factor if ts_ms >= launch else 1.0)

        times = arrivals.times(
            rng,
            ctx.start_ms,
            ctx.end_ms,
            per_day(rng, 60, 0.6),
            cv=CV.sample(rng, 0.2, 0.8),
            shape=shape,
            log_sd=LOG_SD.sample(rng, 0.1, 0.5),
        )
        actors.append(single("launch_customer", False, profile, rng, times))
    return actors
