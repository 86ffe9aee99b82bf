"""The account, cluster and campaign stage drivers without Faust or Kafka: records from memory (as Bytewax's
``TestingSource`` feeds a flow), outputs collected from the Outbox, state in a plain dict standing
in for the table. A "restart" is a new stage on the same dict, which is what a worker rebuilds
from the changelog."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from distillwatch.models.links import Rewind, from_wire
from distillwatch.models.snapshot import campaign_to_bytes, cluster_to_bytes
from distillwatch.streams.metrics import Metrics
from distillwatch.streams.publisher import route
from distillwatch.streams.replay import replay
from distillwatch.streams.settings import Settings
from distillwatch.streams.stages.accounts import AccountStage
from distillwatch.streams.stages.campaigns import CampaignStage
from distillwatch.streams.stages.clusters import ClusterStage
from distillwatch.streams.stages.outbox import Outbox

SETTINGS = Settings(requests_partitions=4, cluster_partitions=4, idle_flush_s=5.0)
Record = tuple[int, int, bytes]  # (partition, offset, value), as a consumer sees it


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestingSource:
    """A recorded stream as the requests topic holds it: one record per line, in the partition
    the publisher routes its account to, numbered by offset within the partition."""

    __test__ = False  # not a test class, despite its name

    def __init__(self, path: Path, partitions: int) -> None:
        self.records: list[Record] = []
        next_offset = [0] * partitions
        for raw in path.read_bytes().splitlines():
            p = route(raw, partitions)[0]
            p = 0 if p is None else p  # an unroutable line: Kafka picks a partition; any will do
            self.records.append((p, next_offset[p], raw))
            next_offset[p] += 1
        self.highwaters = dict(enumerate(next_offset))

    def batches(self, size: int, start: int = 0) -> Iterator[list[Record]]:
        for i in range(start, len(self.records), size):
            yield self.records[i : i + size]


class Pipeline:
    """The three stages, joined the way the links and campaigns topics join them (records in
    order per target partition, numbered by offset there)."""

    def __init__(self, accounts: dict[bytes, bytes] | None = None, clusters: dict[bytes, bytes] | None = None,
                 clock: Clock | None = None, campaigns: dict[bytes, bytes] | None = None) -> None:
        self.metrics = Metrics()
        self.clock = clock or Clock()
        self.account_data = {} if accounts is None else accounts
        self.cluster_data = {} if clusters is None else clusters
        self.campaign_data = {} if campaigns is None else campaigns
        self.accounts = AccountStage(SETTINGS, self.account_data, "account-changelog", self.metrics, self.clock)
        self.clusters = ClusterStage(SETTINGS, self.cluster_data, "cluster-changelog", self.metrics)
        self.campaigns = CampaignStage(SETTINGS, self.campaign_data, "campaign-changelog", self.metrics)
        self.alert_ids: list[str] = []
        self.links: list[tuple[int, bytes]] = []  # every link record delivered: (target, value)
        self.campaign_records: list[bytes] = []  # every campaigns record delivered
        self.link_offsets = [0] * SETTINGS.cluster_partitions
        self.rerouted_offsets = [0] * SETTINGS.requests_partitions
        self.campaign_offset = 0

    def restarted(self, accounts: dict[bytes, bytes]) -> Pipeline:
        """Workers restarted on this state (the account table as given), topics as they are."""
        pipe = Pipeline(accounts, self.cluster_data, self.clock, self.campaign_data)
        pipe.link_offsets = list(self.link_offsets)
        pipe.rerouted_offsets = list(self.rerouted_offsets)
        pipe.campaign_offset = self.campaign_offset
        return pipe

    def run(self, batches: Iterator[list[Record]]) -> None:
        for batch in batches:
            out = Outbox()
            for p, offset, value in batch:
                self.accounts.apply(p, offset, value, out)
            self.accounts.finish(out)
            self.deliver(out)

    def flush_idle(self, highwaters: dict[int, int]) -> None:
        out = Outbox()
        self.accounts.flush_idle(highwaters, out)
        self.deliver(out)

    def deliver(self, out: Outbox) -> None:
        """What the broker does with a batch's outputs: links reach the cluster stage, account
        alerts and watermarks the campaign stage, alerts the topic."""
        links = [(p, v) for topic, _, v, p in out.outputs if topic == SETTINGS.links_topic]
        rerouted = [(p, v) for topic, _, v, p in out.outputs if topic == SETTINGS.rerouted_topic]
        self.links += links
        self._collect(out)
        if links:
            self.apply_links(links)
        if rerouted:
            self.apply_rerouted(rerouted)

    def apply_rerouted(self, records: list[tuple[int, bytes]]) -> None:
        """Forwarded events and marks reach their partitions, read as the next batch."""
        out = Outbox()
        for p, value in records:
            self.accounts.apply_rerouted(p, self.rerouted_offsets[p], value, out)
            self.rerouted_offsets[p] += 1
        self.accounts.finish(out)
        self.deliver(out)

    def _collect(self, out: Outbox) -> None:
        self.alert_ids += [orjson.loads(v)["alert_id"] for t, _, v, _ in out.outputs if t == SETTINGS.alerts_topic]
        records = [v for t, _, v, _ in out.outputs if t == SETTINGS.campaigns_topic]
        if records:
            self.apply_campaigns(records)

    def apply_links(self, links: list[tuple[int, bytes]]) -> None:
        out = Outbox()
        for target, value in links:
            self.clusters.apply(target, self.link_offsets[target], value)
            self.link_offsets[target] += 1
        self.clusters.finish(out)
        self._collect(out)

    def apply_campaigns(self, records: list[bytes]) -> None:
        self.campaign_records += records
        out = Outbox()
        for value in records:
            self.campaigns.apply(self.campaign_offset, value)
            self.campaign_offset += 1
        self.campaigns.finish(out)
        self.alert_ids += [orjson.loads(v)["alert_id"] for t, _, v, _ in out.outputs if t == SETTINGS.alerts_topic]

    def end_of_stream(self, source: TestingSource) -> None:
        """Every partition caught up and quiet for longer than ``idle_flush_s``: the worker's timer
        flushes them, as replay's end of input does."""
        self.clock.now += 10 * SETTINGS.idle_flush_s
        self.flush_idle(source.highwaters)


@pytest.fixture(scope="module")
def source(recorded: tuple[Path, set[str]]) -> TestingSource:
    return TestingSource(recorded[0], SETTINGS.requests_partitions)


def run_whole(source: TestingSource, batch: int = 500) -> Pipeline:
    pipe = Pipeline()
    pipe.flush_idle(source.highwaters)  # partitions assigned: the idle timer starts counting
    pipe.run(source.batches(batch))
    pipe.end_of_stream(source)
    return pipe


def test_stage_run_over_a_recorded_stream_gives_replays_alert_ids(source, recorded):
    expected = recorded[1]
    pipe = run_whole(source)
    assert set(pipe.alert_ids) == expected
    assert len(pipe.alert_ids) == len(expected), "an uninterrupted run emits each alert once"
    with open(os.devnull, "wb") as sink:
        summary = replay([str(recorded[0])], sink)
    # replay counts rejects after decoding (e.g. a ts too far ahead) as bad; the stage counts them
    # both as decoded events and as bad records
    rejected_after_decoding = pipe.metrics.counters["events_in"] - summary.events
    assert 0 <= rejected_after_decoding <= summary.bad
    assert pipe.metrics.counters["bad_records"] == summary.bad
    assert pipe.metrics.counters["idle_flushes"] == 4


def test_redelivered_offsets_are_skipped_after_a_restart(source, recorded):
    """Committed offsets lag the state: a restarted stage is handed records its state already holds."""
    expected = recorded[1]
    pipe = Pipeline()
    pipe.run(source.batches(500))
    restarted = pipe.restarted(pipe.account_data)
    restarted.alert_ids = pipe.alert_ids
    last = source.records[-1000:]
    restarted.run(iter([last]))
    assert restarted.metrics.counters["redelivered_skipped"] == 1000
    assert restarted.metrics.counters["events_in"] == 0
    restarted.end_of_stream(source)
    assert set(restarted.alert_ids) == expected
    assert len(restarted.alert_ids) == len(expected)


@pytest.mark.parametrize("cut", ["journal", "commit", "accounts", "tombstones", "all"])
def test_a_batch_torn_anywhere_resumes_exactly(source, recorded, cut):
    """A crash while one batch's state is written: Kafka keeps the records of a changelog
    partition in order, so what landed is a prefix of them (held events, journal, partition
    record, accounts, tombstones). Cut before the commit, the batch is redone from its input;
    cut after it, the journal fills in the accounts that did not land. Either way the rest of
    the stream gives exactly the uninterrupted run's alerts, each once, and the same accounts."""
    size, torn_at = 500, 20
    pipe = Pipeline()
    pipe.flush_idle(source.highwaters)
    pipe.run(_first(source.batches(size), torn_at))
    # the input batch is held; the torn batch is the one that reads its marks and applies it
    out = Outbox()
    for p, offset, value in next(source.batches(size, start=torn_at * size)):
        pipe.accounts.apply(p, offset, value, out)
    pipe.accounts.finish(out)
    marks = _undelivered_rerouted(out)
    pipe.deliver(out)
    before, committed = dict(pipe.account_data), list(pipe.rerouted_offsets)
    out = Outbox()
    for p, value in marks:
        pipe.accounts.apply_rerouted(p, pipe.rerouted_offsets[p], value, out)
        pipe.rerouted_offsets[p] += 1
    pipe.accounts.finish(out)
    state = [(key, value) for _, key, value, _ in out.state]
    marks += _undelivered_rerouted(out)
    pipe.deliver(out)  # outputs first, then the crash while the state is written
    kinds = [key[:2] for key, _ in state]
    commit = kinds.index(b"p/")
    assert kinds.count(b"a/") > 1 and b"j/" in kinds[:commit]
    landed = {"journal": kinds.index(b"j/") + 1, "commit": commit + 1, "accounts": commit + 1 + kinds.count(b"a/") // 2,
              "tombstones": len(state) - 1, "all": len(state)}[cut]
    torn = dict(before)
    for key, value in state[:landed]:
        if value is None:
            torn.pop(key, None)
        else:
            torn[key] = value

    restarted = pipe.restarted(torn)
    restarted.alert_ids = list(pipe.alert_ids)
    restarted.rerouted_offsets = committed  # the rerouted topic from its committed offsets
    restarted.flush_idle(source.highwaters)
    restarted.apply_rerouted(marks)
    restarted.run(source.batches(size, start=(torn_at + 1) * size))
    restarted.end_of_stream(source)
    whole = run_whole(source)
    assert sorted(restarted.alert_ids) == sorted(whole.alert_ids)
    assert set(restarted.alert_ids) == recorded[1]
    accounts = {k: v for k, v in restarted.account_data.items() if k.startswith(b"a/")}
    assert accounts == {k: v for k, v in whole.account_data.items() if k.startswith(b"a/")}


def test_a_gap_in_a_partitions_offsets_is_logged_and_counted(source, caplog):
    """Records the consumer skipped (faust-streaming can, in a rebalance) are never read past
    silently: the gap is counted and logged with the offsets missing."""
    records = [r for r in source.records if r[0] == 0][:6]
    stage = Pipeline().accounts
    out = Outbox()
    for record in records[:3] + records[5:]:  # 3 and 4 never came
        stage.apply(*record, out)
    assert stage.metrics.counters["input_gaps"] == 1 and stage.parts[0].offset == records[5][1]
    assert f"records {records[3][1]}-{records[4][1]} never arrived" in caplog.text


def _undelivered_rerouted(out: Outbox) -> list[tuple[int, bytes]]:
    """Take a batch's forwarded events and marks out of its outputs: they reach the topic, but no
    owner reads them before the crash."""
    rerouted = [(p, v) for topic, _, v, p in out.outputs if topic == SETTINGS.rerouted_topic]
    out.outputs = [record for record in out.outputs if record[0] != SETTINGS.rerouted_topic]
    return rerouted


def _first(batches: Iterator[list[Record]], n: int) -> Iterator[list[Record]]:
    for i, batch in enumerate(batches):
        if i == n:
            return
        yield batch


def test_an_idle_partition_flushes_and_wakes(source):
    pipe = Pipeline()
    pipe.flush_idle(source.highwaters)
    half = source.records[: len(source.records) // 2]
    pipe.run(iter([half]))
    applied = {p: max(o for q, o, _ in half if q == p) + 1 for p in range(SETTINGS.requests_partitions)}
    backlog = {**applied, 0: applied[0] + 5}  # partition 0 has records waiting: never idle

    pipe.clock.now += SETTINGS.idle_flush_s / 2
    pipe.flush_idle(applied)
    assert pipe.metrics.counters["idle_flushes"] == 0, "not quiet for idle_flush_s yet"
    pipe.clock.now += SETTINGS.idle_flush_s
    pipe.flush_idle(backlog)
    parts = pipe.accounts.parts
    assert [parts[p].idle for p in range(4)] == [False, True, True, True]
    assert pipe.metrics.counters["idle_flushes"] == 3
    assert not any(parts[p].proc.is_flushed for p in range(4)), "partition 0 may still forward to any owner"
    pipe.flush_idle(applied)
    assert all(parts[p].proc.is_flushed for p in range(4)), "every source done: every owner closes its minutes"

    links_before = len(pipe.links)
    p, offset, value = next(r for r in source.records[len(half):] if r[0] == 1)
    pipe.run(iter([[(p, offset, value)]]))
    assert not parts[1].proc.is_flushed
    rewinds = [(target, from_wire(msg)) for target, raw in pipe.links[links_before:]
               for _, _, msg in orjson.loads(raw)[1] if isinstance(from_wire(msg), Rewind)]
    assert sorted(target for target, _ in rewinds) == [0, 1, 2, 3], "every cluster partition waits again"
    woken = [from_wire(msg) for raw in pipe.campaign_records for _, _, msg in orjson.loads(raw)[1]]
    assert Rewind(1, rewinds[0][1].watermark) in woken, "and so does the campaign stage"
    for c in range(SETTINGS.cluster_partitions):
        cluster = pipe.clusters.parts[c].proc
        assert cluster.source_wm[1] == rewinds[0][1].watermark
        assert cluster.watermark <= cluster.source_wm[1]


def test_duplicate_link_messages_are_dropped(source):
    """The same link records twice (a restarted account stage sending again) leave the cluster
    state exactly as once, and a restarted cluster stage drops them from its restored positions."""
    pipe = run_whole(source)
    links = pipe.links[: len(pipe.links) // 3]
    messages = sum(len(orjson.loads(v)[1]) for _, v in links)

    once, twice = Pipeline(), Pipeline()
    once.apply_links(links)
    twice.apply_links(links)
    twice.apply_links(links)
    assert twice.metrics.counters["links_redelivered_skipped"] == messages
    # the same processors and positions (the links offsets read differ: twice read more records)
    assert {c: cluster_to_bytes(part.proc, part.last) for c, part in twice.clusters.parts.items()} == {
        c: cluster_to_bytes(part.proc, part.last) for c, part in once.clusters.parts.items()}
    assert twice.alert_ids == once.alert_ids

    restarted = Pipeline(clusters=dict(once.cluster_data))
    restarted.link_offsets = list(once.link_offsets)  # sent again: new records, the same messages
    restarted.apply_links(links)
    assert restarted.metrics.counters["links_redelivered_skipped"] == messages
    assert restarted.alert_ids == []


def test_duplicate_campaign_messages_are_dropped(source):
    """Campaign records twice (restarted account or cluster stages sending again) leave the
    campaign stage's state and alerts exactly as once, also after a restart from its snapshot."""
    pipe = run_whole(source)
    records = pipe.campaign_records
    messages = sum(len(orjson.loads(v)[1]) for v in records)
    once, twice = Pipeline(), Pipeline()
    once.apply_campaigns(records)
    twice.apply_campaigns(records)
    twice.apply_campaigns(records)
    assert twice.metrics.counters["campaign_messages_redelivered_skipped"] == messages
    assert campaign_to_bytes(twice.campaigns.proc, twice.campaigns.last) == campaign_to_bytes(
        once.campaigns.proc, once.campaigns.last)
    assert twice.alert_ids == once.alert_ids
    assert len(once.alert_ids) > 0

    restarted = Pipeline(campaigns=dict(once.campaign_data))
    restarted.campaign_offset = once.campaign_offset  # sent again: new records, the same messages
    restarted.apply_campaigns(records)
    assert restarted.metrics.counters["campaign_messages_redelivered_skipped"] == messages
    assert restarted.alert_ids == []


def test_the_stage_drivers_do_not_import_faust():
    code = ("import sys, distillwatch.streams.stages.accounts, distillwatch.streams.stages.clusters, "
            "distillwatch.streams.stages.campaigns; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'faust' or m == 'distillwatch.streams.app'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
