"""Time spans, written once: in seconds (event time is float seconds throughout the detector) and in
milliseconds (the simulator's integer event clock)."""

from __future__ import annotations

from typing import Final

MINUTE: Final = 60.0
HOUR: Final = 3600.0
DAY: Final = 86400.0
WEEK: Final = 7 * DAY
HOUR_MS: Final = 3_600_000
DAY_MS: Final = 86_400_000

__all__ = ["DAY", "DAY_MS", "HOUR", "HOUR_MS", "MINUTE", "WEEK"]
