"""Which changelog partition each state key goes to when the RocksDB store writes it: the store
keeps one database per partition, and a batch (or a timer) mixes partitions, so the key, or for an
account its record, must say it (:func:`distillwatch.streams.stages.rebalance.partition_of`)."""

from __future__ import annotations

from distillwatch.models.account_state import AccountState
from distillwatch.models.snapshot import account_record
from distillwatch.streams.stages.rebalance import partition_of


def test_heads_name_their_partition_and_account_records_carry_it():
    assert partition_of(b"p/7", b"\x00" * 16) == 7  # account partition head
    assert partition_of(b"c/3", None) == 3  # cluster processor
    assert partition_of(b"k/0", b"x") == 0  # campaign processor
    assert partition_of(b"b/2/17", None) == 2  # events account partition 2 holds (its tombstone too)
    record = account_record(AccountState(), 5, -1)
    assert partition_of(b"a/acct-1", record) == 5
    # an account key without its value (a read or a tombstone) cannot say: the store looks in every
    # database it holds for the partitions it owns
    assert partition_of(b"a/acct-1", None) is None
    assert partition_of(b"x/1", b"") is None
