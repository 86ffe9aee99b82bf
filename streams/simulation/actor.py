"""An actor is one source of events in time order: a single account, or a campaign that
dispatches its requests over many accounts. The world merges actors lazily."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from distillwatch.streams.simulation.events import Profile, make_event

Events = Iterator[tuple[int, dict]]  # (event time in ms, event), non-decreasing time


@dataclass
class Actor:
    """Events plus their ground truth: ``scenario`` is a benign population or an attack scenario."""

    scenario: str
    attack: bool
    accounts: list[str]
    events: Events


def account_events(profile: Profile, rng: random.Random, arrival_ms: Iterable[int]) -> Events:
    """Events of one independent account at the given arrival times."""
    for seq, ts in enumerate(arrival_ms):
        yield ts, make_event(profile, rng, ts, seq)


def single(
    scenario: str, attack: bool, profile: Profile, rng: random.Random, arrival_ms: Iterable[int]
) -> Actor:
    return Actor(scenario, attack, [profile.account_id], account_events(profile, rng, arrival_ms))
