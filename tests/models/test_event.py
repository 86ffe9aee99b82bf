import orjson
import pytest

from models.event import CAPABILITIES, decode

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
        ({"input_tokens": -1}, "input_tokens must be an integer >= 0, got -1"),
        ({"output_tokens": 1.5}, "output_tokens must be an integer >= 0"),
        ({"output_tokens": True}, "output_tokens must be an integer >= 0"),
        ({"status": 700}, "status must be an integer 100-599"),
        ({"ts": "yesterday"}, "is not an RFC 3339 time"),
        ({"ts": "2026-02-13T08:15:02"}, "has no UTC offset"),
        ({"account_id": "x" * 129}, "account_id must be 1-128 characters"),
        ({"user_agent": "x" * 1025}, "user_agent must be a string of at most 1024 characters"),
        ({"prompt_simhash": "zz"}, "prompt_simhash must be 16 hex digits"),
        ({"cot_elicitation": 3}, "cot_elicitation must be a number 0-1"),
    ],
)
def test_bad_records_say_what_to_fix(changes, reason):
    events, bad = one(**changes)
    assert events == []
    assert reason in bad[0][1]


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
    assert events == [] and "user_agent must be a string of at most 1024 characters" in bad[0][1]


def test_oversized_event_inside_a_batch_is_rejected_alone():
    big = {**GOOD, "event_id": "big", "pad": ["x" * 1000] * 70}
    events, bad = decode(orjson.dumps([GOOD, big]))
    assert [e.event_id for e in events] == ["e1"]
    assert "over the 64 KiB limit" in bad[0][1]
