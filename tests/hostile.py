"""Seeded hostile request records for fuzz tests (request-event.md v1.1, issue 14).

``corpus(seed, n)`` mixes valid records with hostile ones of every class the spec's Limits name
and the attacks issue 14 found, each labelled with the fragment every dead-letter reason for it
must contain (``None`` = valid). The same seed gives the same bytes, so a decode test, a replay
test and a real-broker test can run the one corpus and compare. ``batches(seed, n)`` gives JSON
arrays that mix good and bad events, with one label per element, to check that a bad event
never takes its neighbours along.

Two classes are valid for the decoder and only the stream can judge them (see
:data:`STREAM_CLASSES`): a ts years ahead of the stream, and a repeated ``event_id``.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import orjson

T0 = 1_770_969_600.0  # 2026-02-13T08:00:00Z: the stream's event time starts here
STREAM_CLASSES = frozenset({"implausible time", "duplicate event_id"})

_TEXT = ("org_id", "api_key_id", "payment_fingerprint", "endpoint", "user_agent", "tls_fingerprint",
         "router_id", "end_user_id", "prompt_template_id", "system_prompt_hash", "prompt_lang", "finish_reason")
_COUNTS = ("input_tokens", "output_tokens", "reasoning_tokens", "cached_input_tokens")
_BOOLS = ("logprobs", "stream", "refusal")
_RAW = "\x00raw\x00"  # placeholder for a token orjson cannot write (1e400, 2^70, NaN)


def _iso(t: float, rng: random.Random) -> str | float:
    """An event time in one of the forms the spec allows."""
    form = rng.random()
    if form < 0.15:
        return round(t, 3)
    tz = UTC if form < 0.85 else timezone(timedelta(minutes=rng.choice((-480, 60, 330))))
    s = datetime.fromtimestamp(t, tz).isoformat(timespec="milliseconds")
    return s.replace("+00:00", "Z") if tz is UTC else s


def valid_event(rng: random.Random, i: int, t: float) -> dict:
    """A request event inside every limit, often at a limit's edge; optional fields vary."""
    acct = f"acct-{rng.randrange(300):04d}"
    d: dict = {
        "event_id": f"ev-{i}", "ts": _iso(t, rng), "account_id": acct, "model": rng.choice(("m-4o", "m-mini", "")),
        "input_tokens": rng.choice((0, 1, 512, 10_000_000)), "output_tokens": rng.randrange(0, 4000),
        "status": rng.choice((200, 200, 200, 429, 403, 100, 599)),
    }
    optional = {
        "account_created_at": rng.choice(("2023-06-12T03:39:57.948Z", 1_600_000_000, 0)),
        "verification": rng.choice(("none", "email", "phone", "card", "business", "edu", "startup", "research")),
        "billing_country": rng.choice(("US", "GB", "ZZ")), "ip_country": "DE",
        "ip_type": rng.choice(("residential", "datacenter", "mobile", "vpn", "proxy", "tor", "unknown")),
        "capability": rng.choice(("coding", "agentic", "math", "reasoning", "vision", "writing", "chat", "other")),
        "reasoning_tokens": rng.choice((0, 10_000_000)), "cached_input_tokens": 3, "max_tokens": rng.choice((1, 10**7)),
        "temperature": rng.choice((0, 0.7, 2, 2.0)), "n": rng.choice((1, 128)),
        "latency_ms": rng.choice((0, 86_400_000)),
        "client_ip": rng.choice(("167.94.52.90", "2001:db8::1", "::ffff:10.0.0.1", "0.0.0.0")),
        "asn": rng.choice((0, 14061, 2**32 - 1)),
        "prompt_simhash": rng.choice(("7bcb7adf35c08dbc", "FFFFFFFFFFFFFFFF")),
        "cot_elicitation": rng.choice((0, 0.033, 1)), "logprobs": True, "stream": False, "refusal": False,
        "user_agent": rng.choice(("curl/8.5.0", "é" * 1024, "x" * 1024)), "org_id": "o" * 128,
        "future_field": rng.choice(({"nested": [1, 2, {"deep": None}]}, 1e300, "z" * 5000, list(range(500)))),
    }
    for key, value in optional.items():
        roll = rng.random()
        if roll < 0.6:
            d[key] = value
        elif roll < 0.7:
            d[key] = None  # null means "the gateway does not know"
    return d


def _dumps(d: dict | list, raw_token: bytes = b"") -> bytes:
    return orjson.dumps(d).replace(orjson.dumps(_RAW), raw_token)


def _field_attacks(rng: random.Random) -> list[tuple[str, object, str]]:
    """``(field, value, reason fragment)``: one field set to a value its row forbids."""
    out: list[tuple[str, object, str]] = []
    out += [(f, v, f"{f} must be") for f in _COUNTS for v in (2**64 - 1, 2**63, 10_000_001, -1, 1.5, 1.0, True, "5")]
    out += [("max_tokens", v, "max_tokens must be") for v in (0, 10_000_001, "512", 2**64 - 1)]
    out += [("status", v, "status must be") for v in (99, 600, "200", 200.0, False)]
    out += [("temperature", v, "temperature must be") for v in ("hot", -0.1, 2.01, True, [1])]
    out += [("temperature", _RAW, "temperature must be")]  # 1e400: infinite as a double
    out += [("cot_elicitation", v, "cot_elicitation must be") for v in (1.5, -1e-9, "0.5", _RAW)]
    out += [("n", v, "n must be") for v in (0, 129, 2.0, "1")]
    out += [("latency_ms", v, "latency_ms must be") for v in (86_400_001, -5, 1.5, "fast")]
    out += [("asn", v, "asn must be") for v in (2**32, -1, "AS14061", 1.0)]
    out += [(f, v, f"{f} must be") for f in _BOOLS for v in ("yes", "true", 1, 0, "false")]
    out += [("verification", v, "verification must be") for v in ("root", "Email", "", 3)]
    out += [("ip_type", v, "ip_type must be") for v in ("martian", "TOR", True)]
    out += [("capability", v, "capability must be") for v in ("hacking", "Coding", 1)]
    out += [(f, v, f"{f} must be") for f in ("billing_country", "ip_country") for v in ("USA", "us", "U", "", "Ü", 1)]
    out += [("prompt_simhash", v, "prompt_simhash must be") for v in (
        "-000000000000001", "+000000000000001", "0x0000000000001f", "0000_0000_00001f", " 00000000000001f",
        "00000000000001f ", "00000000000001f", "000000000000001ff", "zzzzzzzzzzzzzzzz", 255, "0000 0000 000001f")]
    out += [("client_ip", v, "client_ip must be") for v in (
        "not-an-ip", "256.1.1.1", "1.2.3", "01.2.3.4", "::g", "fe80::1%eth0", "1.2.3.4 ", 16909060)]
    out += [(f, v, f"{f} must be") for f in ("event_id", "account_id") for v in ("", "x" * 129, 7, ["a"])]
    out += [(f, v, f"{f} must be") for f in ("model",) + _TEXT for v in ("x" * 1025, "é" * 1025, 1, False)]
    out += [(f, None, f"required field {f} is missing") for f in (
        "event_id", "ts", "account_id", "model", "input_tokens", "output_tokens", "status")]
    out += [("ts", v, "ts must be") for v in (
        "yesterday", "2026-02-13", "2026-02-13T08:15:02", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-02-13T08:15Z", "2026-12-31T23:59:60Z", True, [T0], _RAW)]
    out += [("ts", v, "is before 2020-01-01") for v in ("2019-12-31T23:59:59Z", 0, -1, 1e9, "1970-01-01T00:00:00Z")]
    out += [("ts", v, "is after 2100-01-01") for v in (
        "9999-12-31T23:59:59Z", T0 * 1000, 1e300, "2100-01-01T00:00:00Z")]
    out += [("account_created_at", v, "account_created_at") for v in ("last year", -1, T0 * 1000, False, "2026-02-13")]
    rng.shuffle(out)
    return out


def _record_attacks(rng: random.Random, good: dict) -> list[tuple[bytes, str]]:
    """Whole-record attacks: syntax, encoding, shape, size, nesting, duplicate keys, batches."""
    base = orjson.dumps(good)
    pad = {**good, "pad": "x" * (64 * 1024)}
    small = orjson.dumps({"event_id": "e", "ts": T0, "account_id": "a", "model": "m", "input_tokens": 1,
                          "output_tokens": 1, "status": 200})
    return [
        (b"", "empty record"),
        (b" ", "not valid UTF-8 JSON"),
        (base[:-1], "not valid UTF-8 JSON"),
        (base[: rng.randrange(1, len(base) - 1)], "not valid"),  # JSON, or UTF-8 if cut inside a character
        (base + b" trailing", "not valid UTF-8 JSON"),
        (base.replace(b'"status":', b'"x":NaN,"status":'), "not valid UTF-8 JSON"),
        (base.replace(b'"status":', b'"x":Infinity,"status":'), "not valid UTF-8 JSON"),
        (base.replace(b'"', b"'"), "not valid UTF-8 JSON"),
        (base.replace(b'"model":"', b'"model":"\xff'), "not valid UTF-8"),
        (base.replace(b'"status":', b'"x":"\xc0\xaf","status":'), "not valid UTF-8"),  # overlong "/"
        (base.replace(b'"status":', b'"x":"\xed\xa0\x80","status":'), "not valid UTF-8"),  # encoded surrogate
        (base.replace(b'"status":', b'"x":"\\ud800","status":'), "not valid UTF-8 JSON"),  # lone surrogate escape
        (b"null", "must be a JSON object"),
        (b"123", "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
        (b"true", "must be a JSON object"),
        (b"{}", "required field event_id is missing"),
        (orjson.dumps(pad), "over the 64 KiB limit"),
        (base.replace(b'"status":', b'"x":' + b"[" * 5000 + b"]" * 5000 + b',"status":'), "not valid UTF-8 JSON"),
        (base[:-1] + b',"status":"200"}', "status must be"),  # duplicate keys: the last one wins
        (base[:-1] + b',"input_tokens":-1}', "input_tokens must be"),
        (b"[]", "empty batch"),
        (b"[" + b",".join([b"{}"] * 10_001) + b"]", "over the 10,000 limit"),
        (b"[" + b",".join([small] * (1024 * 1024 // len(small) + 1)) + b"]", "over the 1 MiB limit"),
        (b"[" + base + b",", "not valid UTF-8 JSON"),
    ]


def corpus(seed: int, n: int) -> list[tuple[bytes, str | None]]:
    """``n`` records, about half hostile, in stream order; label = reason fragment, ``None`` = valid."""
    rng = random.Random(seed)
    out: list[tuple[bytes, str | None]] = []
    attacks: list[tuple[str, object, str]] = []
    records: list[tuple[bytes, str]] = []
    sent: list[dict] = []
    for i in range(n):
        t = T0 + i * 0.25 + rng.uniform(-30, 0)  # up to 30 s out of order
        good = valid_event(rng, i, t)
        roll = rng.random()
        if roll < 0.5:
            out.append((orjson.dumps(good), None))
            sent.append(good)
        elif roll < 0.9:
            attacks = attacks or _field_attacks(rng)
            field, value, reason = attacks.pop()
            bad = {**good, field: value}
            out.append((_dumps(bad, b"1e400"), reason))
        elif roll < 0.995:
            records = records or _record_attacks(rng, good)
            out.append(records.pop())
        elif roll < 0.9975 or not sent:
            out.append((orjson.dumps({**good, "ts": "2030-01-01T00:00:00Z"}), "implausible time"))
        else:
            out.append((orjson.dumps({**rng.choice(sent), "ts": good["ts"]}), "duplicate event_id"))
    return out


def batches(seed: int, n: int) -> list[tuple[bytes, list[str | None]]]:
    """``n`` batch records of 1-40 events, good and bad mixed; one label per element."""
    rng = random.Random(seed)
    out: list[tuple[bytes, list[str | None]]] = []
    attacks: list[tuple[str, object, str]] = []
    i = 0
    for _ in range(n):
        items: list[bytes] = []
        labels: list[str | None] = []
        for _ in range(rng.randint(1, 40)):
            i += 1
            good = valid_event(rng, i, T0 + i * 0.25)
            roll = rng.random()
            if roll < 0.7:
                items.append(orjson.dumps(good))
                labels.append(None)
            elif roll < 0.95:
                attacks = attacks or _field_attacks(rng)
                field, value, reason = attacks.pop()
                items.append(_dumps({**good, field: value}, b"1e400"))
                labels.append(reason)
            else:
                raw, reason = rng.choice((
                    (b"null", "must be a JSON object"), (b"[1,2]", "must be a JSON object"),
                    (b'"text"', "must be a JSON object"), (b"{}", "required field event_id is missing"),
                    (orjson.dumps({**good, "pad": "x" * (64 * 1024)}), "over the 64 KiB limit"),
                    (orjson.dumps(good).replace(b'"model":"', b'"model":"\xff'), "not valid UTF-8"),
                    (orjson.dumps(good).replace(b'"ts":', b'"x":"\xed\xa0\x80","ts":'), "not valid UTF-8"),
                ))
                items.append(raw)
                labels.append(reason)
        out.append((b"[" + b",".join(items) + b"]", labels))
    return out
