"""Every simulated event follows request-event.md (version 1)."""

from __future__ import annotations

import re

from distillwatch.streams.simulation.events import format_ts

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
REQUIRED = {
    "event_id": str,
    "ts": str,
    "account_id": str,
    "model": str,
    "input_tokens": int,
    "output_tokens": int,
    "status": int,
}
ENUMS = {
    "verification": {"none", "email", "phone", "card", "business", "edu", "startup", "research"},
    "ip_type": {"residential", "datacenter", "mobile", "vpn", "proxy", "tor", "unknown"},
    "capability": {"coding", "agentic", "math", "reasoning", "vision", "writing", "chat", "other"},
}
NON_NEGATIVE_INTS = ("reasoning_tokens", "cached_input_tokens", "latency_ms")


def test_format_ts_is_rfc3339_with_milliseconds():
    assert format_ts(1_770_970_502_123) == "2026-02-13T08:15:02.123Z"
    assert format_ts(0) == "1970-01-01T00:00:00.000Z"


def test_events_follow_the_contract(small_world):
    _, _, _, events = small_world
    ids = set()
    for e in events:
        for name, kind in REQUIRED.items():
            assert type(e[name]) is kind, (name, e)
        assert 1 <= len(e["event_id"]) <= 128 and 1 <= len(e["account_id"]) <= 128
        assert TS.match(e["ts"]) and TS.match(e["account_created_at"])
        assert e["account_created_at"] <= e["ts"]
        assert e["input_tokens"] >= 0 and e["output_tokens"] >= 0 and 100 <= e["status"] <= 599
        if e["status"] != 200:
            assert e["output_tokens"] == 0
        for name, allowed in ENUMS.items():
            assert e.get(name) is None or e[name] in allowed, (name, e[name])
        for name in NON_NEGATIVE_INTS:
            assert e.get(name) is None or (type(e[name]) is int and e[name] >= 0)
        assert re.fullmatch(r"[0-9a-f]{16}", e["prompt_simhash"])
        assert 0 <= e["cot_elicitation"] <= 1
        assert e.get("max_tokens") is None or e["max_tokens"] >= 1
        assert e["n"] >= 1 and e["output_tokens"] <= (e.get("max_tokens") or 10**9) * e["n"]
        assert all(len(v) <= 1024 for v in e.values() if isinstance(v, str))
        ids.add(e["event_id"])
    assert len(ids) == len(events)


def test_popular_tls_fingerprints_are_shared_by_many_benign_accounts(small_world):
    _, _, _, events = small_world
    accounts_per_tls: dict[str, set] = {}
    for e in events:
        accounts_per_tls.setdefault(e["tls_fingerprint"], set()).add(e["account_id"])
    assert max(len(a) for a in accounts_per_tls.values()) >= 10


def test_new_model_appears_only_after_release(small_world):
    _, _, summary, events = small_world
    release = summary["new_model_release"]
    on_new = [e["ts"] for e in events if e["model"] == "atlas-5"]
    assert on_new and min(on_new) >= release
