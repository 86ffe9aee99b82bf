"""Floats JSON can carry: infinities become ±1e300 and come back as infinities.

Watermarks start at -inf and a flushed partition's is far in the future; state only ever
compares against them, so a huge finite stand-in is exact for every decision.
"""

from __future__ import annotations

import math

_BIG = 1e300


def clamp_infinity(x: float) -> float:
    """``x`` with infinities replaced by ±1e300, for JSON.

    >>> clamp_infinity(float("-inf")), clamp_infinity(2.5)
    (-1e+300, 2.5)
    """
    return max(-_BIG, min(_BIG, x))


def unclamp_infinity(x: float) -> float:
    """Inverse of :func:`clamp_infinity`.

    >>> unclamp_infinity(1e300)
    inf
    """
    if not -_BIG < x < _BIG:
        return math.inf if x > 0 else -math.inf
    return x


__all__ = ["clamp_infinity", "unclamp_infinity"]
