"""Figures taken from the real serving traces, read from the committed ``calibration.json``.

``derive_calibration.py`` reduces the traces to that file once; here they become samplers. Every
sampler takes the caller's ``random.Random`` so a seed alone fixes the world.
"""

from __future__ import annotations

import random
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

import orjson

CALIBRATION_PATH: Traversable = files(__package__) / "calibration.json"  # package data: in a wheel too


@cache
def load() -> dict:
    """The calibration dict (read once per process)."""
    return orjson.loads(CALIBRATION_PATH.read_bytes())


class Quantiles:
    """Inverse-CDF sampler over evenly spaced quantile points (linear between points)."""

    __slots__ = ("points", "_last")

    def __init__(self, points: list[float]) -> None:
        self.points = points
        self._last = len(points) - 1

    def at(self, u: float) -> float:
        """The value at probability ``u`` in [0, 1]."""
        pos = u * self._last
        i = int(pos)
        if i >= self._last:
            return self.points[-1]
        lo = self.points[i]
        return lo + (self.points[i + 1] - lo) * (pos - i)

    def mean(self) -> float:
        """The mean of the piecewise-linear distribution (trapezoids between points)."""
        return (sum(self.points) - (self.points[0] + self.points[-1]) / 2) / self._last

    def sample(self, rng: random.Random, lo: float = 0.0, hi: float = 1.0) -> float:
        """A draw restricted to the probability band [lo, hi] (e.g. the upper half of clients)."""
        return self.at(lo + (hi - lo) * rng.random())


def servegen(name: str) -> Quantiles:
    """A ServeGen per-client quantile table, e.g. ``steady_mean_rate_per_s``."""
    return Quantiles(load()["servegen"][name])


def azure_tokens(service: str, direction: str) -> Quantiles:
    """Azure 2023 token lengths: ``service`` conv|code, ``direction`` input_tokens|output_tokens."""
    return Quantiles(load()["azure"][service][direction])


def hourly_profile() -> list[float]:
    """Relative request rate by hour of local day (mean 1), from ServeGen clients."""
    return load()["servegen"]["hourly_profile"]


def daily_profile() -> list[float]:
    """Relative request rate by day over ServeGen's 14 days (mean 1): the weekly rhythm."""
    return load()["servegen"]["daily_profile"]
