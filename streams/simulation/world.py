"""Assemble a world (benign populations + attack campaigns) and stream it to disk in event-time order.

Every actor is a lazy generator, and a heap merges them, so memory grows with the number of accounts,
not the number of events. A small share of events is held back by up to ~5 minutes before it is
written, to exercise the pipeline's lateness handling.
"""

from __future__ import annotations

import heapq
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

from distillwatch.streams.simulation import attacks, benign, stealth
from distillwatch.streams.simulation.actor import Actor
from distillwatch.streams.simulation.context import WorldContext, derived_rng
from distillwatch.streams.simulation.corrupt import KINDS, corrupt
from distillwatch.streams.simulation.events import epoch_ms, format_ts
from distillwatch.streams.simulation.lookalikes import LOOKALIKES
from distillwatch.streams.simulation.writer import open_stream, write_labels

DEFAULT_START = "2026-02-09T00:00:00Z"
MAX_DELAY_MS = 290_000  # held-back events stay within the default 5-minute lateness
POPULATIONS = {  # benign population -> (default share of --accounts, builder)
    "chat_user": (0.52, benign.chat_users),
    "nat_org": (0.16, benign.nat_orgs),
    "router_customer": (0.08, benign.router_customers),
    "reasoning_heavy": (0.08, benign.reasoning_heavy),
    "enterprise_backend": (0.07, benign.enterprise_backends),
    "batch_job": (0.06, benign.batch_jobs),
    "launch_customer": (0.03, benign.launch_customers),
}
SCENARIOS = attacks.SCENARIOS | stealth.SCENARIOS  # attack scenario -> builder(ctx, scale, accounts)
# scenarios whose accounts are each an operation of their own; every other scenario is one campaign
INDEPENDENT_SCENARIOS = frozenset({"bulk_harvest", "lone_harvester", "lone_harvester_fast"})


def parse_mix(text: str | None) -> dict[str, float]:
    """``name=weight,...``: a benign population's share of accounts, or an attack scenario's scale
    (0 switches it off). Names not given keep their defaults."""
    mix: dict[str, float] = {}
    for part in filter(None, (text or "").split(",")):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in POPULATIONS and name not in LOOKALIKES and name not in SCENARIOS:
            raise ValueError(f"unknown population or scenario in --mix: {name!r}")
        mix[name] = float(value)
    return mix


def _allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Largest-remainder split of ``total`` accounts; every population with weight gets at least one."""
    wsum = sum(weights.values()) or 1.0
    exact = {k: total * w / wsum for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: counts[k] - exact[k])[: total - sum(counts.values())]:
        counts[k] += 1
    return {k: max(c, 1 if weights[k] > 0 else 0) for k, c in counts.items()}


def build(ctx: WorldContext, accounts: int, mix: dict[str, float]) -> list[Actor]:
    """Every actor of the world: ``accounts`` benign accounts of the core mix, the attack campaigns,
    then the look-alike populations on top (their shares are of ``accounts`` too).

    Built in this order so that a world of the core mix and the first attack scenarios keeps the
    accounts, ids and draws it had before the later populations existed.
    """
    weights = {name: mix.get(name, share) for name, (share, _) in POPULATIONS.items()}
    actors: list[Actor] = []
    for name, count in _allocate(accounts, weights).items():
        actors += POPULATIONS[name][1](ctx, count)
    for name, scenario in SCENARIOS.items():
        scale = mix.get(name, 1.0)
        if scale > 0:
            actors += scenario(ctx, scale, accounts)
    for name, (share, builder) in LOOKALIKES.items():
        weight = mix.get(name, share)
        if weight > 0:
            actors += builder(ctx, max(1, round(accounts * weight)))
    return actors


def merge(actors: list[Actor]) -> Iterator[tuple[int, int, dict]]:
    """(ts, actor index, event) over all actors in event-time order (ties by actor index)."""
    heap = []
    for i, actor in enumerate(actors):
        first = next(actor.events, None)
        if first is not None:
            heap.append((first[0], i, first[1], actor.events))
    heapq.heapify(heap)
    while heap:
        ts, i, event, events = heap[0]
        yield ts, i, event
        nxt = next(events, None)
        if nxt is None:
            heapq.heappop(heap)
        else:
            heapq.heapreplace(heap, (nxt[0], i, nxt[1], events))


def simulate(
    out_path: str | Path,
    labels_path: str | Path,
    *,
    seed: int = 0,
    accounts: int = 300,
    hours: float = 24.0,
    start: str = DEFAULT_START,
    mix: dict[str, float] | None = None,
    late_fraction: float = 0.003,
    bad_fraction: float = 0.0,
    progress: Callable[[float], None] | None = None,
) -> dict:
    """Write a simulated request stream and its labels; return a summary (counts by scenario).
    ``progress`` is told how many more hours of the world were written, every 256 lines.

    The same arguments give byte-identical files.
    """
    began = time.perf_counter()
    start_ms = epoch_ms(start)
    end_ms = start_ms + int(hours * 3_600_000)
    release_ms = start_ms + int(derived_rng(seed, "release").uniform(0.3, 0.5) * (end_ms - start_ms))
    ctx = WorldContext(seed, start_ms, end_ms, release_ms)
    actors = build(ctx, accounts, mix or {})
    rng = derived_rng(seed, "delivery")
    first_seen: dict[str, int] = {}
    per_actor = [0] * len(actors)
    held: list[tuple[int, int, bytes]] = []  # (release time, order, line) of late events
    dumps = orjson.dumps
    n_lines = n_bad = n_late = 0
    buf: list[bytes] = []
    reported_ms = start_ms
    with open_stream(out_path) as f:
        for ts, i, event in merge(actors):
            per_actor[i] += 1
            if event["account_id"] not in first_seen:
                first_seen[event["account_id"]] = ts
            if bad_fraction and rng.random() < bad_fraction:
                line = corrupt(event, KINDS[n_bad % len(KINDS)], rng, ts)
                n_bad += 1
            else:
                line = dumps(event)
            while held and held[0][0] <= ts:
                buf.append(heapq.heappop(held)[2])
            if rng.random() < late_fraction:
                heapq.heappush(held, (ts + rng.randint(1_000, MAX_DELAY_MS), n_late, line))
                n_late += 1
            else:
                buf.append(line)
            if len(buf) >= 256:  # orjson output keeps spare capacity: flush often
                n_lines += len(buf)
                f.write(b"\n".join(buf) + b"\n")
                buf.clear()
                if progress is not None:
                    progress((ts - reported_ms) / 3_600_000)
                    reported_ms = ts
        buf += [line for _, _, line in sorted(held)]
        n_lines += len(buf)
        if buf:
            f.write(b"\n".join(buf) + b"\n")
    rows = []
    accounts_by = Counter()
    events_by = Counter()
    for actor, n in zip(actors, per_actor, strict=True):
        events_by[actor.scenario] += n
        for acct in actor.accounts:
            if acct in first_seen:
                label = "attack" if actor.attack else "benign"
                rows.append(
                    (acct, label, actor.scenario, format_ts(first_seen[acct]) if actor.attack else "")
                )
                accounts_by[actor.scenario] += 1
    rows.sort()
    write_labels(labels_path, rows)
    elapsed = time.perf_counter() - began
    return {
        "seed": seed,
        "start": format_ts(start_ms),
        "end": format_ts(end_ms),
        "new_model_release": format_ts(release_ms),
        "lines": n_lines,
        "bad_records": n_bad,
        "late_events": n_late,
        "accounts": dict(accounts_by),
        "events": dict(events_by),
        "attack_scenarios": sorted({a.scenario for a in actors if a.attack}),
        "attack_accounts": sum(1 for r in rows if r[1] == "attack"),
        "benign_accounts": sum(1 for r in rows if r[1] == "benign"),
        "seconds": round(elapsed, 2),
        "events_per_second": round(n_lines / elapsed) if elapsed else 0,
    }
