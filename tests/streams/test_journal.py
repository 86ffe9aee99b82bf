"""The account stage's write-ahead journal: chunks that fit a Kafka record and only count for
the batch that committed them."""

from __future__ import annotations

from distillwatch.streams.stages import journal


def test_records_round_trip_in_order_with_forgotten_accounts():
    records = [(b"acct-1", b"\x00state-one"), (b"acct-\xc3\xa9", None), (b"acct-3", b"")]
    (chunk,) = journal.chunks(7, records)
    assert list(journal.entries(chunk, 7)) == [("acct-1", b"\x00state-one"), ("acct-é", None), ("acct-3", b"")]


def test_a_large_batch_is_split_below_the_record_limit():
    records = [(b"a%05d" % i, bytes(1200)) for i in range(1000)]  # ~1.2 MB of account records
    chunks = journal.chunks(3, records)
    assert len(chunks) == 5 and all(len(c) <= journal.CHUNK_BYTES + 64 for c in chunks)
    assert [acc for c in chunks for acc, _ in journal.entries(c, 3)] == [r[0].decode() for r in records]


def test_chunks_of_another_batch_are_ignored():
    (chunk,) = journal.chunks(4, [(b"acct-1", b"new")])
    assert list(journal.entries(chunk, 3)) == [] and list(journal.entries(chunk, 5)) == []
    assert journal.chunks(9, []) == []
