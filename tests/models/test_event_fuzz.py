"""The seeded hostile corpus (tests/hostile.py) and hypothesis against the decoder.

Every hostile record is rejected with a reason of its class, every valid one is accepted, a bad
event in a batch never takes a good neighbour along, and nothing raises.
"""

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from distillwatch.models.event import Event, decode
from tests import hostile

GOOD = {"event_id": "e1", "ts": "2026-02-13T08:15:02.123Z", "account_id": "acct-1", "model": "m",
        "input_tokens": 10, "output_tokens": 20, "status": 200}


def test_corpus_is_seeded():
    assert hostile.corpus(7, 300) == hostile.corpus(7, 300)


def test_every_hostile_record_is_rejected_with_its_reason_and_every_valid_one_accepted():
    records = hostile.corpus(14, 21_000)
    hostile_count = sum(1 for _, label in records if label is not None and label not in hostile.STREAM_CLASSES)
    assert hostile_count >= 10_000
    wrong = []
    accepted = 0
    for raw, label in records:
        events, bad = decode(raw)
        if label is None or label in hostile.STREAM_CLASSES:  # the stream, not the decoder, judges the latter
            accepted += len(events)
            if len(events) != 1 or bad:
                wrong.append((label, raw[:120], bad))
        elif events or len(bad) != 1 or label not in bad[0][1]:
            wrong.append((label, raw[:120], bad))
    assert wrong == []
    assert accepted == sum(1 for _, label in records if label is None or label in hostile.STREAM_CLASSES)


def test_a_bad_event_in_a_batch_never_takes_a_good_neighbour_along():
    for raw, labels in hostile.batches(14, 400):
        events, bad = decode(raw)
        assert len(events) == labels.count(None)
        expected = [label for label in labels if label is not None]
        assert len(bad) == len(expected)
        assert all(label in reason for label, (_, reason) in zip(expected, bad, strict=True))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_decode_without_raising(raw):
    events, bad = decode(raw)
    assert len(events) + len(bad) >= 1
    assert all(reason for _, reason in bad)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(Event.__struct_encode_fields__)), _json)
def test_one_field_set_to_any_json_value_is_accepted_or_blamed(field, value):
    events, bad = decode(msgspec.json.encode({**GOOD, field: value}))
    if bad:
        assert events == []
        reason = bad[0][1]
        assert reason.startswith((f"{field} ", f"required field {field} is missing")), reason
    else:
        assert len(events) == 1
