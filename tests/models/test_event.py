import tracemalloc

import orjson
import pytest

from distillwatch.models.event import CAPABILITIES, MAX_BATCH_BYTES, BadRecord, decode, parse_time, validate

GOOD = {
    "event_id": "e1", "ts": "2026-02-13T08:15:02.123Z", "account_id": "acct-1", "model": "m",
    "input_tokens": 10, "output_tokens": 20, "status": 200,
}


def one(**changes):
    d = {**GOOD, **changes}
    return decode(orjson.dumps({k: v for k, v in d.items() if v is not ...}))


def test_good_event_converts_fields():
    events, bad = one(prompt_simhash="00000000000000ff", capability="math", cot_elicitation=1,
                      account_created_at=1770000000, unknown_field={"x": 1})
    assert bad == []
    ev = events[0]
    assert ev.ts == pytest.approx(1770970502.123)
    assert ev.simhash == 255
    assert CAPABILITIES[ev.capability] == "math"
    assert ev.cot_elicitation == 1.0
    assert ev.account_created_at == 1770000000.0


def test_ts_with_offset_and_epoch_agree():
    a = one(ts="2026-02-13T09:15:02.123+01:00")[0][0]
    b = one(ts=1770970502.123)[0][0]
    assert a.ts == pytest.approx(b.ts)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"event_id": ...}, "required field event_id is missing"),
        ({"ts": None}, "required field ts is missing (null)"),
        ({"input_tokens": -1}, "input_tokens must be an integer 0-10,000,000, got -1"),
        ({"input_tokens": 2**64 - 1}, "input_tokens must be an integer 0-10,000,000, got 18446744073709551615"),
        ({"output_tokens": 1.5}, "output_tokens must be an integer 0-10,000,000, got 1.5"),
        ({"output_tokens": True}, "output_tokens must be an integer 0-10,000,000, got true"),
        ({"reasoning_tokens": "7"}, 'reasoning_tokens must be an integer 0-10,000,000, got "7"'),
        ({"max_tokens": 0}, "max_tokens must be an integer 1-10,000,000, got 0"),
        ({"status": 700}, "status must be an integer 100-599, got 700"),
        ({"ts": "yesterday"}, "ts must be an RFC 3339 time with an offset"),
        ({"ts": "2026-02-13T08:15:02"}, "ts must be an RFC 3339 time with an offset"),
        ({"ts": "2019-12-31T23:59:59Z"}, "ts 2019-12-31T23:59:59+00:00 is before 2020-01-01"),
        ({"ts": 1770970502123}, "ts 1770970502123 is after 2100-01-01 (epoch milliseconds given as seconds?)"),
        ({"ts": "9999-12-31T23:59:59Z"}, "is after 2100-01-01"),
        ({"account_created_at": -1}, "account_created_at -1 is before 1970-01-01"),
        ({"account_id": "x" * 129}, "account_id must be a string of 1-128 characters, got a string of 129"),
        ({"user_agent": "x" * 1025}, "user_agent must be a string of at most 1,024 characters"),
        ({"prompt_simhash": "zz"}, 'prompt_simhash must be exactly 16 hex digits, got "zz"'),
        ({"prompt_simhash": "-000000000000001"}, "prompt_simhash must be exactly 16 hex digits"),
        ({"prompt_simhash": "0x0000000000001f"}, "prompt_simhash must be exactly 16 hex digits"),
        ({"prompt_simhash": "0000_0000_00001f"}, "prompt_simhash must be exactly 16 hex digits"),
        ({"prompt_simhash": " 00000000000001f"}, "prompt_simhash must be exactly 16 hex digits"),
        ({"cot_elicitation": 3}, "cot_elicitation must be a number 0-1, got 3"),
        ({"temperature": "hot"}, 'temperature must be a number 0-2, got "hot"'),
        ({"logprobs": "yes"}, 'logprobs must be a boolean (true or false), got "yes"'),
        ({"stream": 1}, "stream must be a boolean (true or false), got 1"),
        ({"verification": "root"}, 'verification must be one of none, email, phone, card, business, edu, startup'),
        ({"ip_type": "martian"}, 'ip_type must be one of residential, datacenter'),
        ({"capability": "hacking"}, 'capability must be one of coding, agentic'),
        ({"billing_country": "USA"}, 'billing_country must be two upper-case letters (ISO 3166-1 alpha-2), got "USA"'),
        ({"ip_country": "us"}, 'ip_country must be two upper-case letters'),
        ({"client_ip": "not-an-ip"}, 'client_ip must be an IPv4 or IPv6 address, got "not-an-ip"'),
        ({"n": 129}, "n must be an integer 1-128, got 129"),
        ({"latency_ms": 86_400_001}, "latency_ms must be an integer 0-86,400,000, got 86400001"),
        ({"asn": 2**32}, "asn must be an integer 0-4,294,967,295, got 4294967296"),
        ({"org_id": 5}, "org_id must be a string of at most 1,024 characters, got 5"),
    ],
)
def test_bad_records_say_what_to_fix(changes, reason):
    events, bad = one(**changes)
    assert events == []
    assert reason in bad[0][1]


def test_infinity_is_rejected_in_the_field_it_is_in():
    raw = orjson.dumps({**GOOD, "temperature": 0.5}).replace(b"0.5", b"1e400")
    assert decode(raw)[1][0][1] == "temperature must be a number 0-2, got an infinite number"
    assert "not valid UTF-8 JSON" in decode(orjson.dumps(GOOD)[:-1] + b',"x":NaN}')[1][0][1]


@pytest.mark.parametrize(
    "changes",
    [
        {"input_tokens": 10_000_000, "max_tokens": 10_000_000, "latency_ms": 86_400_000, "n": 128, "asn": 2**32 - 1},
        {"temperature": 2, "cot_elicitation": 0, "status": 599, "ts": "2020-01-01T00:00:00Z"},
        {"ts": "2026-02-13T13:45:02.123+05:30", "account_created_at": 0, "client_ip": "2001:db8::1"},
        {"prompt_simhash": "FFFFFFFFFFFFFFFF", "user_agent": "é" * 1024, "event_id": "x" * 128},
        {"org_id": None, "verification": None, "unknown": {"deep": [[1e300, "x" * 5000]]}},
    ],
)
def test_values_at_the_limits_are_accepted(changes):
    events, bad = one(**changes)
    assert bad == [] and len(events) == 1


def test_unset_optionals_read_as_the_detectors_expect():
    ev = one()[0][0]
    assert (ev.simhash, ev.capability, ev.reasoning_tokens, ev.cot_elicitation, ev.asn) == (None, None, 0, 0.0, None)
    assert type(ev.ts) is float


def test_validate_and_parse_time_use_the_same_rules():
    assert validate({**GOOD, "ts": 1770970502.0}).ts == 1770970502.0
    with pytest.raises(BadRecord, match="logprobs must be a boolean"):
        validate({**GOOD, "logprobs": "yes"})
    with pytest.raises(BadRecord, match="ts must be"):
        validate({**GOOD, "ts": float("nan")})
    assert parse_time("2026-02-13T08:15:02.123Z", "ts") == pytest.approx(1770970502.123)
    with pytest.raises(BadRecord, match="before 2020-01-01"):
        parse_time(0, "ts")


def test_duplicate_keys_take_the_last_value_like_every_common_parser():
    raw = orjson.dumps(GOOD)[:-1]
    assert "input_tokens must be" in decode(raw + b',"input_tokens":-1}')[1][0][1]
    assert decode(raw + b',"input_tokens":7}')[0][0].input_tokens == 7


def test_tombstones_and_empty_values_are_dead_lettered():
    for raw in (None, b"", b" ", b"null", b"[]", b"{}"):
        events, bad = decode(raw)
        assert events == [] and len(bad) == 1, raw


def test_bad_utf8_in_an_ignored_field_is_still_rejected():
    head = orjson.dumps(GOOD)[:-1]
    assert decode(head + b',"x":"' + bytes([0xFF]) + b'"}')[1][0][1] == "not valid UTF-8"
    assert decode(head + b',"x":"\\u00ff"}')[0]  # the same character escaped is fine


def test_not_json_and_not_object():
    assert "not valid UTF-8 JSON" in decode(b"{nope")[1][0][1]
    assert "must be a JSON object" in decode(b'"text"')[1][0][1]


def test_oversized_record_is_rejected():
    raw = orjson.dumps({**GOOD, "pad": "x" * (70 * 1024)})
    assert "over the 64 KiB limit" in decode(raw)[1][0][1]


def test_batch_keeps_good_neighbours_of_a_bad_event():
    raw = orjson.dumps([GOOD, {**GOOD, "status": "ok"}, {**GOOD, "event_id": "e3"}])
    events, bad = decode(raw)
    assert [e.event_id for e in events] == ["e1", "e3"]
    assert len(bad) == 1 and "status" in bad[0][1]


def test_long_string_with_escaped_quotes_is_still_caught():
    events, bad = one(user_agent='a"' * 600)
    assert events == [] and "user_agent must be a string of at most 1,024 characters" in bad[0][1]


def test_oversized_event_inside_a_batch_is_rejected_alone():
    big = {**GOOD, "event_id": "big", "pad": ["x" * 1000] * 70}
    events, bad = decode(orjson.dumps([GOOD, big]))
    assert [e.event_id for e in events] == ["e1"]
    assert "over the 64 KiB limit" in bad[0][1]


def _batch_of(size: int) -> bytes:
    item = orjson.dumps({**GOOD, "user_agent": "u" * 600})
    return b"[" + b",".join([item] * (size // (len(item) + 1))) + b"]"


def test_batch_over_one_mib_is_rejected_before_parsing():
    raw = _batch_of(8 * MAX_BATCH_BYTES)
    tracemalloc.start()
    events, bad = decode(raw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert events == [] and "batch record is" in bad[0][1] and "over the 1 MiB limit" in bad[0][1]
    assert peak < 16 * 1024  # nothing was parsed: only the 2 KiB excerpt for the dead letter


def test_batch_over_ten_thousand_events_is_rejected_whole():
    events, bad = decode(b"[" + b",".join([b"{}"] * 10_001) + b"]")
    assert events == [] and bad[0][1] == "batch of 10,001 events, over the 10,000 limit"


def test_decoding_a_one_mib_batch_costs_a_small_multiple_of_its_bytes():
    raw = _batch_of(MAX_BATCH_BYTES)
    tracemalloc.start()
    events, bad = decode(raw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert bad == [] and len(events) > 1000
    assert peak < 4 * len(raw)
