"""Time spans in seconds, written once: event time is float seconds throughout the detector."""

from __future__ import annotations

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY

__all__ = ["DAY", "HOUR", "MINUTE", "WEEK"]
