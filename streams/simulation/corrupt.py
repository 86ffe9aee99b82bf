"""Bad records, one of each kind the request-event contract's limits name, for dead-letter tests."""

from __future__ import annotations

import random

import orjson

from distillwatch.streams.simulation.events import format_ts

KINDS = (
    "missing_field",
    "wrong_type",
    "negative_tokens",
    "fractional_tokens",
    "long_string",
    "oversized",
    "far_future",
    "not_json",
    "bad_status",
    "empty_event_id",
)


def corrupt(event: dict, kind: str, rng: random.Random, ts_ms: int) -> bytes:
    """``event`` broken in the way ``kind`` names, as one line (no newline)."""
    e = dict(event)
    if kind == "missing_field":
        del e[
            rng.choice(("event_id", "ts", "account_id", "model", "input_tokens", "output_tokens", "status"))
        ]
    elif kind == "wrong_type":
        e["input_tokens"] = str(e["input_tokens"])
    elif kind == "negative_tokens":
        e["output_tokens"] = -1 - e["output_tokens"]
    elif kind == "fractional_tokens":
        e["input_tokens"] = e["input_tokens"] + 0.5
    elif kind == "long_string":
        e["user_agent"] = "x" * 1025
    elif kind == "oversized":
        e["note"] = ["y" * 1000] * 70  # > 64 KiB, no single string over the limit
    elif kind == "far_future":
        e["ts"] = format_ts(ts_ms + 2 * 86_400_000)
    elif kind == "bad_status":
        e["status"] = 999
    elif kind == "empty_event_id":
        e["event_id"] = ""
    else:  # not_json: a line cut off mid-record
        return orjson.dumps(e)[: rng.randint(10, 60)]
    return orjson.dumps(e)
