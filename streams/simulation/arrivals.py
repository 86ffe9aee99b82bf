"""Request arrival times, shaped the way ServeGen characterises real clients.

ServeGen describes each client by 10-minute windows: a rate per window (many windows idle, the
rest spread log-normally around the client's level, following the hour of day and day of week) and
Gamma-distributed inter-arrivals with a coefficient of variation (CV > 1: bursty). The generator
below reproduces exactly that structure, lazily, one window at a time, so memory stays constant.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator

from distillwatch.models.timespans import DAY_MS, HOUR_MS
from distillwatch.streams.simulation.calibration import daily_profile, hourly_profile

SLOT_MS = 600_000

Shape = Callable[[int], float]  # event time (ms) -> rate multiplier


def flat(_ts_ms: int) -> float:
    """No time-of-day rhythm: machines run around the clock."""
    return 1.0


def diurnal(utc_offset_h: int, weekly: bool = True) -> Shape:
    """Rate multiplier following ServeGen's hour-of-day (and day-of-week) shape at local time."""
    hours = hourly_profile()
    days = daily_profile()
    offset = utc_offset_h * HOUR_MS

    def shape(ts_ms: int) -> float:
        local = ts_ms + offset
        h = hours[(local // HOUR_MS) % 24]
        return h * days[(local // DAY_MS) % len(days)] if weekly else h

    return shape


def times(
    rng: random.Random,
    start_ms: int,
    end_ms: int,
    rate_per_s: float,
    cv: float = 1.0,
    shape: Shape = flat,
    log_sd: float = 0.0,
    active_share: float = 1.0,
    mean_on_slots: float = 3.0,
) -> Iterator[int]:
    """Sorted arrival times (ms) in [start_ms, end_ms) with long-run mean ``rate_per_s``.

    ``active_share`` of windows are active (a two-state Markov chain with mean run
    ``mean_on_slots``), active windows carry ``rate / active_share`` times a log-normal factor
    with s.d. ``log_sd`` and the ``shape`` multiplier, and gaps inside a window are Gamma with the
    given ``cv``.
    """
    if rate_per_s <= 0:
        return
    k = 1.0 / (min(max(cv, 0.3), 4.0) ** 2)
    always_on = active_share >= 1
    p_off = 0.0 if always_on else 1.0 / mean_on_slots
    p_on = 1.0 if always_on else min(1.0, p_off * active_share / (1.0 - active_share))
    on = rng.random() < active_share
    level = rate_per_s / max(active_share, 1e-6) / 1000.0  # per ms
    correction = math.exp(-0.5 * log_sd * log_sd)
    slot = start_ms
    while slot < end_ms:
        on = (rng.random() >= p_off) if on else (rng.random() < p_on)
        slot_end = min(slot + SLOT_MS, end_ms)
        if on:
            lam = level * shape(slot) * (math.exp(rng.gauss(0.0, log_sd)) * correction if log_sd else 1.0)
            if lam > 0:
                scale = 1.0 / (lam * k)
                t = slot + rng.random() / lam  # a uniform first arrival: no pile-up at window starts
                while t < slot_end:
                    yield int(t)
                    t += rng.gammavariate(k, scale)
        slot = slot_end
