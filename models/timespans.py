"""Time spans, written once: in seconds (event time is float seconds throughout the detector) and in
milliseconds (the simulator's integer event clock)."""

from __future__ import annotations

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY
HOUR_MS = 3_600_000
DAY_MS = 86_400_000

__all__ = ["DAY", "DAY_MS", "HOUR", "HOUR_MS", "MINUTE", "WEEK"]
