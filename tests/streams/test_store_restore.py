"""Rebuilding and keeping account partitions across a rebalance, without Faust or Kafka (the stage
drivers on a plain dict standing in for the table, as in ``test_stages.py``).

- A worker rebuilding several partitions from the in-memory table reads the table once, not once
  per partition, and each rebuilt processor holds what the live one held.
- A partition given back in the next generation keeps its processor, the others are rebuilt from
  the table, and the alert ids equal replay's; a partition given back later (the worker missed a
  generation, someone else may have processed it) is rebuilt too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from distillwatch.models.snapshot import account_partition_to_bytes
from tests.streams.test_stages import SETTINGS, Pipeline, TestingSource

PARTITIONS = range(SETTINGS.requests_partitions)


class CountingDict(dict):
    """The table's mapping, counting full scans."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.scans = 0

    def items(self):
        self.scans += 1
        return super().items()


def _batches(records: list, size: int = 500) -> Iterator[list]:
    return (records[i : i + size] for i in range(0, len(records), size))


def _held(proc) -> tuple[dict[str, bytes], bytes]:
    return {acc: st.to_bytes() for acc, st in proc.accounts.items()}, account_partition_to_bytes(proc)


def test_rebuilding_every_partition_reads_the_table_once(recorded: tuple[Path, set[str]]):
    source = TestingSource(recorded[0], SETTINGS.requests_partitions)
    pipe = Pipeline()
    pipe.run(source.batches(500, start=0))
    live = {p: _held(pipe.accounts.parts[p].proc) for p in PARTITIONS}
    assert sum(len(accounts) for accounts, _ in live.values()) > 250

    data = CountingDict(pipe.account_data)
    restarted = pipe.restarted(data)
    rebuilt = {p: _held(restarted.accounts.partition(p).proc) for p in PARTITIONS}
    assert data.scans == 1
    assert rebuilt == live

    restarted.accounts.revoke(PARTITIONS)  # a rebalance: the next rebuild scans the table again
    restarted.accounts.assign(PARTITIONS, 7)
    restarted.accounts.partition(0)
    assert data.scans == 2


def test_partitions_given_back_next_generation_keep_their_processors(recorded: tuple[Path, set[str]]):
    path, expected = recorded
    source = TestingSource(path, SETTINGS.requests_partitions)
    half = len(source.records) // 2
    pipe = Pipeline()
    stage = pipe.accounts
    assert stage.assign(PARTITIONS, 4) == []  # a first assignment has nothing to keep
    pipe.flush_idle(source.highwaters)
    pipe.run(_batches(source.records[:half]))
    before = dict(stage.parts)

    stage.revoke(PARTITIONS)
    assert stage.parts == {}
    assert stage.assign([0, 1], 5) == [0, 1]  # the next generation: 0 and 1 come straight back
    assert stage.parts == {0: before[0], 1: before[1]}
    stage.revoke([0, 1])
    assert stage.assign(PARTITIONS, 6) == [0, 1]  # and again; 2 and 3 were elsewhere: rebuilt
    assert stage.parts == {0: before[0], 1: before[1]}

    pipe.run(_batches(source.records[half:]))
    pipe.end_of_stream(source)
    assert set(pipe.alert_ids) == expected
    assert len(pipe.alert_ids) == len(expected)
    assert [stage.parts[p] is before[p] for p in PARTITIONS] == [True, True, False, False]

    stage.revoke(PARTITIONS)
    assert stage.assign(PARTITIONS, 8) == []  # generation 7 went by without this worker
    assert stage.parts == {}
