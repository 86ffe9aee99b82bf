"""Forgetting through the account stage driver: a forgotten account's changelog record is a
tombstone, the table mapping loses it, and a worker restarted from the changelog (replayed the
way Faust's memory store recovers: a ``None`` value deletes the key) neither brings it back nor
decides anything differently from an uninterrupted run or from replay."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import orjson
import pytest

from distillwatch.models.cold_store import BytesColdStore
from distillwatch.models.engine import Engine
from distillwatch.models.event import validate
from distillwatch.models.snapshot import parse_account_record
from distillwatch.streams.stages.outbox import Outbox
from tests.models.worlds import DAY, T0, quiet_months
from tests.streams.test_stages import SETTINGS, Pipeline, TestingSource

EVENTS = quiet_months(40, regulars=24, weeklies=8)  # enough regulars that every partition's clock moves


class ChangelogPipeline(Pipeline):
    """The stages, keeping every account changelog record as the broker would."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.changelog: list[tuple[bytes, bytes | None]] = []

    def deliver(self, out: Outbox) -> None:
        self.changelog += [(k, v) for topic, k, v, _ in out.state if topic == "account-changelog"]
        super().deliver(out)

    def restarted(self, accounts: dict[bytes, bytes]) -> ChangelogPipeline:
        pipe = ChangelogPipeline(accounts, self.cluster_data, self.clock, self.campaign_data)
        pipe.link_offsets = list(self.link_offsets)
        pipe.rerouted_offsets = list(self.rerouted_offsets)
        pipe.alert_ids = list(self.alert_ids)
        return pipe


def recover(changelog: list[tuple[bytes, bytes | None]]) -> dict[bytes, bytes]:
    """The table a restarted worker rebuilds: faust.stores.memory applies records in order and
    deletes a key whose value is ``None``."""
    table: dict[bytes, bytes] = {}
    for key, value in changelog:
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return table


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> TestingSource:
    path: Path = tmp_path_factory.mktemp("forgetting") / "months.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in EVENTS) + b"\n")
    return TestingSource(path, SETTINGS.requests_partitions)


def test_forgotten_accounts_leave_the_changelog_and_stay_gone_after_a_restart(source):
    straight = ChangelogPipeline()
    straight.run(source.batches(200))
    tombstones = [k for k, v in straight.changelog if v is None and k.startswith(b"a/")]
    assert straight.metrics.counters["forgotten_accounts"] == len(tombstones) == 41
    assert b"a/acct-d0-0" in tombstones and b"a/acct-d0-0" not in straight.account_data
    assert recover(straight.changelog) == straight.account_data

    cut = next(i for i, (_, _, raw) in enumerate(source.records) if orjson.loads(raw)["ts"] > T0 + 32 * DAY)
    cut -= cut % 200
    first = ChangelogPipeline()
    first.run(islice(source.batches(200), cut // 200))
    assert first.metrics.counters["forgotten_accounts"] > 0
    table = recover(first.changelog)
    assert not any(k.startswith(b"a/acct-d0-") for k in table), "a restart does not bring them back"
    restarted = first.restarted(table)
    restarted.run(source.batches(200, start=cut))

    assert restarted.account_data == straight.account_data
    assert restarted.alert_ids == straight.alert_ids
    # silent accounts wait in the table only (TableColdStore), and the ones that came back were read from it
    for pipe in (straight, restarted):
        procs = [part.proc for part in pipe.accounts.parts.values()]
        in_memory, cold = sum(len(p.accounts) for p in procs), sum(len(p.cold_until) for p in procs)
        assert cold > in_memory > 0 and in_memory + cold == sum(k[:2] == b"a/" for k in pipe.account_data)
        assert sum(p.cold_counts["lost"] for p in procs) == 0
    assert sum(part.proc.cold_counts["warmed"] for part in straight.accounts.parts.values()) > 0

    straight.end_of_stream(source)  # a stream's last events are held until every source is done
    eng = Engine(SETTINGS.requests_partitions, SETTINGS.cluster_partitions)
    for e in EVENTS:
        eng.process(validate(e))
    eng.finish()
    replayed = {acc: st.to_bytes() for proc in eng.accounts for acc, st in proc.accounts.items()}
    for proc in eng.accounts:  # and the accounts set aside (models/cold_store.py), as their bytes
        assert isinstance(proc.cold, BytesColdStore)
        replayed.update(proc.cold.records)
    streamed = {k[2:].decode(): parse_account_record(v)[2] for k, v in straight.account_data.items()
                if k.startswith(b"a/")}
    assert streamed == replayed

