"""Turn one account's behaviour profile into request events (request-event.md, version 1).

A :class:`Profile` holds everything that is fixed for an account (identity, network, client, prompt
style); :func:`make_event` draws the per-request fields. All populations and attack scenarios share
this one builder, so they differ only in their profiles and arrival times: no field can give the
label away by being produced by different code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from distillwatch.models.event import parse_time
from distillwatch.streams.simulation.calibration import Quantiles
from distillwatch.streams.simulation.catalog import NEW_MODEL, REASONING_MODELS

NO_NEW_MODEL = 1 << 62  # adopt_after_ms for an account that never moves to the new model


@lru_cache(maxsize=64)
def _day_prefix(day: int) -> str:
    return datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")


def epoch_ms(text: str) -> int:
    """The inverse of :func:`format_ts`: an RFC 3339 time (any offset) in epoch milliseconds.

    >>> epoch_ms(format_ts(1_770_970_502_123))
    1770970502123
    """
    return round(parse_time(text, "time") * 1000)


def format_ts(ms: int) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-02-13T08:15:02.123Z`` (fast path, no datetime)."""
    day, rem = divmod(ms, 86_400_000)
    s, milli = divmod(rem, 1000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{_day_prefix(day)}T{h:02d}:{m:02d}:{s:02d}.{milli:03d}Z"


@dataclass(frozen=True, slots=True)
class Template:
    """A prompt template: the gateway's cluster id, the skeleton's SimHash, typical prompt length.

    ``template_id`` is None for prompts paraphrased enough that the gateway's template clustering
    does not match them, although their SimHashes stay within a few bits of the skeleton.
    """

    template_id: str | None
    simhash: int
    input_tokens: int
    capability: str


@dataclass(slots=True)
class Profile:
    """How one account sends requests. Tuples encode weights by repetition (cheap ``rng.choice``)."""

    account_id: str
    static: dict  # fields identical on every request (identity, client, network)
    ips: tuple[str, ...]
    models: tuple[str, ...]
    capabilities: tuple[str, ...]
    langs: tuple[str, ...]
    input_q: Quantiles
    output_q: Quantiles
    input_scale: float = 1.0
    output_scale: float = 1.0
    templates: tuple[Template, ...] = ()
    template_share: float = 0.0
    flip_bits: int = 2  # at most this many SimHash bits differ from the template skeleton
    new_model_share: float = 0.0
    adopt_after_ms: int = NO_NEW_MODEL
    max_tokens: tuple[int | None, ...] = (None,)
    cot_share: float = 0.02
    cot_range: tuple[float, float] = (0.5, 0.9)
    reasoning_tokens: float = 1500.0  # mean reasoning tokens on a reasoning model
    p429: float = 0.002
    p_error: float = 0.001
    endpoints: tuple[str, ...] = ("chat.completions",)
    stream_share: float = 0.5
    temperatures: tuple[float | None, ...] = (None, 0.7, 1.0)
    n_choices: tuple[int, ...] = (1,)
    logprobs_share: float = 0.0
    end_users: int = 0  # distinct end_user_id values forwarded (0: none)
    refusal_share: float = 0.003
    system_prompts: tuple[str, ...] = ()
    event_prefix: str = field(init=False)
    end_user_salt: int = field(init=False)

    def __post_init__(self) -> None:
        acct_hex = self.account_id.removeprefix("acct-")
        self.event_prefix = "ev-" + acct_hex + "-"
        self.end_user_salt = int(acct_hex, 16) << 20


def make_event(p: Profile, rng: random.Random, ts_ms: int, seq: int, status: int = 0) -> dict:
    """One request event of account ``p`` at ``ts_ms``; ``status`` 0 lets the profile decide.

    Hot path: choices index with ``random()`` directly, several times faster than ``rng.choice``.
    """
    r = rng.random
    if p.adopt_after_ms <= ts_ms and r() < p.new_model_share:
        model = NEW_MODEL
    else:
        model = p.models[int(r() * len(p.models))]
    if p.templates and r() < p.template_share:
        tpl = p.templates[int(r() * len(p.templates))]
        h = tpl.simhash
        for _ in range(int(r() * (p.flip_bits + 1))):
            h ^= 1 << int(r() * 64)
        input_tokens = int(tpl.input_tokens * (0.9 + 0.2 * r())) + 1
        capability = tpl.capability
        template_id = tpl.template_id
        cached = int(input_tokens * 0.6 * r())
    else:
        h = rng.getrandbits(64)
        input_tokens = int(p.input_q.at(r()) * p.input_scale) + 1
        capability = p.capabilities[int(r() * len(p.capabilities))]
        template_id = None
        cached = 0
    if not status:
        u = r()
        status = 429 if u < p.p429 else 500 if u < p.p429 + p.p_error else 200
    max_tokens = p.max_tokens[int(r() * len(p.max_tokens))]
    n = p.n_choices[int(r() * len(p.n_choices))]
    e = {
        "event_id": p.event_prefix + format(seq, "x"),
        "ts": format_ts(ts_ms),
        "account_id": p.account_id,
        "model": model,
        "input_tokens": input_tokens,
        "output_tokens": 0,
        "status": status,
    }
    e.update(p.static)
    e["client_ip"] = p.ips[int(r() * len(p.ips))]
    e["endpoint"] = p.endpoints[int(r() * len(p.endpoints))]
    e["cached_input_tokens"] = cached
    if max_tokens:
        e["max_tokens"] = max_tokens
    temperature = p.temperatures[int(r() * len(p.temperatures))]
    if temperature is not None:
        e["temperature"] = temperature
    e["n"] = n
    e["logprobs"] = r() < p.logprobs_share
    e["stream"] = r() < p.stream_share
    if p.end_users:
        mixed = (int(r() * p.end_users) + p.end_user_salt) * 0x9E3779B97F4A7C15
        e["end_user_id"] = f"eu-{mixed & 0xFFFFFFFFFFFF:012x}"
    e["prompt_simhash"] = f"{h:016x}"
    if template_id:
        e["prompt_template_id"] = template_id
    if p.system_prompts:
        e["system_prompt_hash"] = p.system_prompts[int(r() * len(p.system_prompts))]
    e["prompt_lang"] = p.langs[int(r() * len(p.langs))]
    e["capability"] = capability
    lo, hi = p.cot_range
    e["cot_elicitation"] = round(lo + (hi - lo) * r() if r() < p.cot_share else 0.15 * r() * r(), 3)
    if status == 200:
        out = int(p.output_q.at(r()) * p.output_scale) + 1
        finish = "stop"
        if max_tokens and out >= max_tokens:
            out, finish = max_tokens, "length"
        reasoning = 0
        if model in REASONING_MODELS:
            reasoning = int(rng.expovariate(1.0 / p.reasoning_tokens) * (0.3 if r() < 0.4 else 1.4))
            e["reasoning_tokens"] = reasoning
        e["output_tokens"] = out * n
        e["refusal"] = r() < p.refusal_share
        e["finish_reason"] = finish
        e["latency_ms"] = int((250 + 12 * out + 8 * reasoning) * (0.7 + 0.6 * r()))
    else:
        e["latency_ms"] = int(20 + 60 * r())
    return e
