"""The account stage's driver: requests records → one AccountProcessor per partition → links to
the cluster stage, account alerts and watermarks to the campaign stage, aggregate rows, dead
letters; state to the ``account_state`` table.

An account belongs to one partition, ``partition_for(account_id)`` (Kafka's murmur2), whatever
partitioner the producer used (request-event.md 1.1). Partition ``p`` is both a *source* (it reads
requests partition ``p``, checks each event against its event clock, forwards the events it does
not own to their owner through the ``.rerouted`` topic and, after each batch, sends every other
partition its *mark*: nothing earlier will come from it) and an *owner* (it holds its events, its
own and forwarded ones, until every source's mark has passed them, and applies them sorted:
:mod:`distillwatch.models.reorder`). So the processor sees the sequence replay sees, whatever
the placement and the pace of the partitions.

Recovery is exact: outputs are delivered before state is written and state before input is
acked. State per batch, in this order: the events it held (``b/<p>/<n>``), the journal of the
accounts it changed (:mod:`~distillwatch.streams.stages.journal`), the partition record (the
commit), the accounts, then tombstones of held-event records wholly released and of journal
chunks no longer needed. A restarted worker lays the committed journal over the account records,
holds again what its held-event records hold above the partition's frontier (ignoring those of a
batch whose commit never made it: that batch is redone from its input), and drops forwards it
already has (by source offset).
"""

from __future__ import annotations

import math
import struct
import time
from collections.abc import Callable, Iterable, Mapping, MutableMapping

import orjson

from distillwatch.models.account_processor import AccountProcessor, error_reason
from distillwatch.models.account_state import AccountState
from distillwatch.models.event import Event, decode
from distillwatch.models.links import CAMPAIGNS, to_wire
from distillwatch.models.partitioning import partition_for
from distillwatch.models.snapshot import (
    ACCOUNT_RECORD_HEAD,
    account_partition_to_bytes,
    account_record,
    open_positions,
    restore_account_processor,
)
from distillwatch.models.suppressions import SuppressionTable
from distillwatch.streams import codecs
from distillwatch.streams.gc_policy import gc_paused
from distillwatch.streams.metrics import Metrics
from distillwatch.streams.settings import Settings, detector_config
from distillwatch.streams.stages import journal
from distillwatch.streams.stages.base import Stage
from distillwatch.streams.stages.outbox import Outbox, take_alerts_and_rows
from distillwatch.streams.stages.rebalance import Handover, PartitionRecords

_HEAD = struct.Struct("<I")  # length of the partition record's JSON head


class Partition:
    """One requests partition: its processor and what the driver needs to resume it."""

    __slots__ = ("proc", "offset", "rerouted", "forwarded", "link_n", "link_k", "held", "chunks",
                 "next_chunk", "batch", "journal", "journal_keys", "sent_mark", "idle", "active_at", "links")

    def __init__(self, proc: AccountProcessor, head: dict, active_at: float) -> None:
        self.proc = proc
        self.offset: int = head.get("offset", -1)  # last requests offset applied
        self.rerouted: int = head.get("rerouted", -1)  # last .rerouted offset applied
        # per source partition: the last requests offset whose forwarded events arrived here
        self.forwarded: dict[int, int] = {int(k): v for k, v in head.get("forwarded", {}).items()}
        self.link_n, self.link_k = head.get("link", (0, 0))  # position of the next link: (released, k)
        self.batch: int = head.get("batch", 0)  # number of the last batch whose state was committed
        self.journal: int = head.get("journal", 0)  # chunks of that batch's journal
        self.journal_keys: set[int] = set()  # journal chunks in the table (j/<p>/<i>), of any batch
        self.held: list[Event] = []  # events held in this batch, for its held-event record
        self.chunks: dict[int, float] = {}  # held-event records written: number -> newest ts in it
        self.next_chunk = 0
        self.sent_mark = -math.inf  # the mark other partitions last got from this one
        self.idle = False  # caught up and quiet: its mark is infinite until a record comes
        self.active_at = active_at  # clock reading of the last record applied
        self.links: dict[int, list[list]] = {}

    def head(self) -> dict:
        return {"offset": self.offset, "rerouted": self.rerouted,
                "forwarded": {str(src): o for src, o in self.forwarded.items()},
                "link": [self.link_n, self.link_k], "batch": self.batch, "journal": self.journal}


class TableColdStore:
    """The :class:`~distillwatch.models.cold_store.ColdStore` of a stage's processors: its table.

    An account is only set aside when it has not changed since the stage last wrote state, so its
    ``a/<account>`` record is already what it would write: setting it aside writes nothing, and
    with the RocksDB store the state of a silent account is on disk, not in memory."""

    __slots__ = ("data",)

    def __init__(self, data: Mapping[bytes, bytes]) -> None:
        self.data = data

    def put(self, account: str, state: AccountState) -> None:
        """Nothing to write: the record is in the table (see the class docstring)."""

    def put_encoded(self, account: str, data: bytes) -> None:
        """Nothing to write: a restore read ``data`` from the table."""

    def take(self, account: str) -> AccountState | None:
        record = self.data.get(b"a/" + account.encode())
        return None if record is None else AccountState.from_bytes(record, ACCOUNT_RECORD_HEAD)

    def drop(self, account: str) -> None:
        """Nothing here: the account is in the processor's ``dirty``, and the stage writes its tombstone."""


class AccountStage(Stage):
    """Kafka records in (:meth:`apply`), a batch's outputs and state out (:meth:`finish`).

    ``data`` is the table's mapping (key ``a/<account>`` or ``p/<partition>``, see
    :mod:`distillwatch.streams.state`), read to restore a partition and written as state changes; ``clock``
    is the monotonic clock that decides when a quiet partition is idle.
    """

    def __init__(self, s: Settings, data: MutableMapping[bytes, bytes], changelog: str, metrics: Metrics,
                 clock: Callable[[], float] = time.monotonic, suppressions: SuppressionTable | None = None) -> None:
        super().__init__(s, data, changelog, metrics, suppressions)
        self.config = detector_config(s).account
        self.clock = clock
        self.parts: dict[int, Partition] = {}
        self.assigned_at: dict[int, float] = {}
        self.touched: set[int] = set()
        self.pending_events = 0  # events applied since the last finish
        self.rows: list[tuple[str, dict]] = []
        self.owners: dict[str, int] = {}  # account -> owner partition, memoised (murmur2 per event is slow)
        self.records = PartitionRecords(data)
        self.handover: Handover[Partition] = Handover()

    def partition(self, p: int) -> Partition:
        part = self.parts.get(p)
        if part is None:
            with gc_paused():
                part = self.parts[p] = self._restore(p)
        return part

    def _restore(self, p: int) -> Partition:
        head, pstate = {}, None
        raw = self.data.get(b"p/%d" % p)
        if raw:
            (n,) = _HEAD.unpack_from(raw, 0)
            head = orjson.loads(raw[_HEAD.size : _HEAD.size + n])
            pstate = raw[_HEAD.size + n :]
        accounts: dict[str, bytes] = {}  # account -> its record (take(p): records of partition p only)
        chunks: list[tuple[int, bytes]] = []
        journaled: dict[int, bytes] = {}
        prefix, jprefix = b"b/%d/" % p, b"j/%d/" % p
        for key, value in self.records.take(p):
            if key[:2] == b"a/":
                accounts[key[2:].decode()] = value
            elif key.startswith(prefix):
                chunks.append((int(key[len(prefix) :]), value))
            elif key.startswith(jprefix):
                journaled[int(key[len(jprefix) :])] = value
        # the last committed batch's accounts, whether or not their own records made it
        recent: set[str] = set()
        for i in range(head.get("journal", 0)):
            if i not in journaled:  # cannot happen while Kafka keeps a partition's order; never silent
                self.metrics.inc("journal_chunks_missing")
                continue
            for acc, record in journal.entries(journaled[i], head["batch"]):
                recent.add(acc)
                if record is None:
                    accounts.pop(acc, None)
                else:
                    accounts[acc] = record
        proc = restore_account_processor(p, self.settings.cluster_partitions, pstate, accounts, self.config,
                                         range(self.settings.requests_partitions), TableColdStore(self.data),
                                         recent)
        part = Partition(proc, head, self.assigned_at.get(p, self.clock()))  # quiet since assigned
        part.journal_keys = set(journaled)
        for n, value in sorted(chunks):
            part.next_chunk = n + 1
            doc = orjson.loads(value)
            if doc["batch"] > part.batch:  # its batch's commit never made it: the batch is redone from input
                part.chunks[n] = -math.inf  # so it goes with the next state write
                continue
            events = codecs.events_from(doc["events"])
            part.chunks[n] = max(ev.ts for ev in events)
            for ev in events:
                if ev.ts >= proc.order.frontier:
                    proc.order.push(ev)
        return part

    def last_applied(self, topic: str, p: int) -> int:
        part = self.partition(p)
        return part.offset if topic == self.settings.requests_topic else part.rerouted

    def apply(self, p: int, offset: int, raw: bytes | None, out: Outbox) -> None:
        """One requests record (an event or a JSON array of events) of partition ``p``.

        Never raises for a record's sake: a tombstone (``None``), a bad event or an exception
        while applying one is dead-lettered with a one-line reason and the record still counts as
        applied, so the batch around it is neither lost nor acknowledged unprocessed."""
        part = self.partition(p)
        if not self._new_record(self.settings.requests_topic, p, part.offset, offset, "redelivered_skipped"):
            return
        part.offset = offset
        part.active_at = self.clock()
        part.idle = False
        events, bad = decode(raw)
        for item, reason in bad:
            self._dead_letter(out, reason, item, self._source(p, offset))
        proc = part.proc
        moved: dict[int, list[Event]] = {}
        for ev in events:
            try:
                reason = proc.admit(ev)
                if reason is None:
                    owner = self.owner(ev.account_id)
                    if owner != p:
                        moved.setdefault(owner, []).append(ev)
                        continue
                    reason = self._enqueue(part, ev)
            except Exception as exc:  # noqa: BLE001 - admit and enqueue never raise; this is the net
                self.metrics.inc("record_errors")
                reason = error_reason(exc)
            if reason is not None:
                self._dead_letter(out, reason, raw[:2048] if raw else b"", self._source(p, offset))
        kept = len(events)
        for owner in sorted(moved):
            out.add(self.settings.rerouted_topic, None, codecs.forward_record(p, offset, moved[owner]), owner)
            self.metrics.inc("rerouted", len(moved[owner]))
            kept -= len(moved[owner])
        self._count(kept)
        proc.mark(p, proc.source_mark)
        self._take_links(p, part)

    def apply_rerouted(self, p: int, offset: int, raw: bytes | None, out: Outbox) -> None:
        """One record of the ``.rerouted`` topic's partition ``p``: events another source read for
        ``p``, or another source's mark."""
        part = self.partition(p)
        if not self._new_record(self.settings.rerouted_topic, p, part.rerouted, offset, "redelivered_skipped"):
            return
        part.rerouted = offset
        try:
            msg = codecs.parse_rerouted(raw or b"")
        except Exception as exc:  # noqa: BLE001 - only a foreign producer writes anything else here
            self._dead_letter(out, f"not a rerouted record: {exc}", raw or b"",
                              f"{self.settings.rerouted_topic}:{p}:{offset}")
            return
        proc = part.proc
        if len(msg) == 2:
            proc.mark(*msg)
        else:
            src, src_offset, events = msg
            if src_offset <= part.forwarded.get(src, -1):
                self.metrics.inc("redelivered_skipped")  # forwarded again by a restarted source
                return
            part.forwarded[src] = src_offset
            self._count(len(events))
            for ev in events:
                reason = self._enqueue(part, ev)
                if reason is not None:
                    self._dead_letter(out, reason, codecs.event_record(ev),
                                      f"{self.settings.requests_topic}:{src}:{src_offset}")
        self._take_links(p, part)

    def _source(self, p: int, offset: int) -> str:
        """Where a dead-lettered event was read (worded only for a dead letter, not per record)."""
        return f"{self.settings.requests_topic}:{p}:{offset}"

    def _count(self, events: int) -> None:
        """``events_in`` counts an event once, where it is processed (its owner), valid or not; the
        metric moves once per batch (:meth:`finish`): a Prometheus counter's ``inc`` takes a lock
        and was a tenth of the stage's time at one event per record."""
        self.pending_events += events

    def _enqueue(self, part: Partition, ev: Event) -> str | None:
        proc = part.proc
        held = ev.ts >= proc.order.frontier
        reason = proc.enqueue(ev)
        if reason is None:
            if held:
                part.held.append(ev)
        return reason

    def owner(self, account_id: str) -> int:
        """The one partition that processes ``account_id``'s events (and holds its state)."""
        owner = self.owners.get(account_id)
        if owner is None:
            owner = self.owners[account_id] = partition_for(account_id, self.settings.requests_partitions)
        return owner

    def flush_idle(self, highwaters: Mapping[int, int | None], out: Outbox) -> None:
        """Mark as done the source partitions that are caught up (``highwaters``: assigned partition →
        its end offset) and quiet for ``idle_flush_s``: their mark goes to infinity, and an owner
        whose sources are all done closes its last minutes as at end of input. A partition with a
        backlog is never idle, however long it waits: flushing it early would change results."""
        now = self.clock()
        for p, high in highwaters.items():
            if p not in self.parts and now - self.assigned_at.setdefault(p, now) < self.settings.idle_flush_s:
                continue  # give table recovery time before building a quiet partition from it
            part = self.partition(p)
            caught_up = high is not None and high <= part.offset + 1
            if caught_up and not part.idle and now - part.active_at >= self.settings.idle_flush_s:
                part.idle = True
                part.proc.mark(p, math.inf)
                self.metrics.inc("idle_flushes")
                self._take_links(p, part)
        self.finish(out)

    def revoke(self, partitions: Iterable[int]) -> None:
        """A rebalance starts: the partitions' processors are set aside (:class:`Handover`)."""
        partitions = list(partitions)
        self.handover.revoke(self.parts, partitions)
        for p in partitions:
            self.assigned_at.pop(p, None)
        self.records.reset()

    def assign(self, partitions: Iterable[int], generation: int) -> list[int]:
        """The rebalance's assignment (consumer group ``generation``): the processors of partitions
        that come straight back are reused, the others rebuilt from the table when first needed."""
        self.records.reset()
        back = self.handover.assign(self.parts, partitions, generation)
        now = self.clock()
        for p in back:  # quiet since assigned, as a rebuilt one: no record came during the rebalance,
            self.parts[p].active_at = now  # and the consumer's highwaters may not be current yet
        return back

    def _take_links(self, p: int, part: Partition) -> None:
        """Give each new link message its position ``(released, k)``, which a restarted worker
        gives it again (events are released in one order), and queue it for its target."""
        proc = part.proc
        for target, msg in proc.links:
            if proc.released != part.link_n:
                part.link_n, part.link_k = proc.released, 0
            part.links.setdefault(target, []).append([part.link_n, part.link_k, to_wire(msg)])
            part.link_k += 1
        proc.links.clear()
        self.touched.add(p)

    def finish(self, out: Outbox) -> None:
        """End of a batch: outputs of every touched partition (its mark to every other partition
        among them), then its changed state."""
        if self.pending_events:
            self.metrics.inc("events_in", self.pending_events)
        self.pending_events = 0
        done: list[tuple[int, Partition]] = []
        for p in sorted(self.touched):
            part = self.parts.get(p)
            if part is not None:
                self._outputs(p, part, out)
                done.append((p, part))
        self.touched.clear()
        out.add_rows(self.settings.rows_topic, self.rows)
        self.rows = []
        for p, part in done:
            self._state(p, part, out)

    def _outputs(self, p: int, part: Partition, out: Outbox) -> None:
        proc = part.proc
        for ev, reason in proc.rejected:
            self._dead_letter(out, reason, codecs.event_record(ev), f"account partition {p}")
        proc.rejected.clear()
        take_alerts_and_rows(proc, out, self.settings.alerts_topic, self.rows, self.metrics, self.suppressions)
        for target in sorted(part.links):
            # account alerts and watermarks for the campaign stage go to its one partition
            topic, partition = ((self.settings.campaigns_topic, 0) if target == CAMPAIGNS
                                else (self.settings.links_topic, target))
            for record in codecs.link_records(p, part.links[target]):
                out.add(topic, None, record, partition)
        part.links.clear()
        mark = math.inf if part.idle else proc.source_mark
        if mark != part.sent_mark:
            part.sent_mark = mark
            record = codecs.mark_record(p, mark)
            for q in range(self.settings.requests_partitions):
                if q != p:
                    out.add(self.settings.rerouted_topic, None, record, q)

    def _state(self, p: int, part: Partition, out: Outbox) -> None:
        proc = part.proc
        if part.held:
            self._write(out, b"b/%d/%d" % (p, part.next_chunk),
                        orjson.dumps({"batch": part.batch + 1, "events": codecs.events_value(part.held)}), p)
            part.chunks[part.next_chunk] = max(ev.ts for ev in part.held)
            part.next_chunk += 1
            part.held = []
        positions = open_positions(proc) if proc.dirty else {}
        records: list[tuple[bytes, bytes | None]] = []  # None: forgotten (silent for months), a tombstone
        for acc in sorted(proc.dirty):
            st = proc.accounts.get(acc)
            records.append((acc.encode(), None if st is None else account_record(st, p, positions.get(acc, -1))))
        proc.dirty.clear()
        part.batch += 1
        chunks = journal.chunks(part.batch, records)
        part.journal = len(chunks)
        for i, value in enumerate(chunks):
            self._write(out, b"j/%d/%d" % (p, i), value, p)
        head = orjson.dumps(part.head())
        self._write(out, b"p/%d" % p, _HEAD.pack(len(head)) + head + account_partition_to_bytes(proc), p)
        for acc, value in records:
            self._write(out, b"a/" + acc, value, p)
        forgotten = sum(value is None for _, value in records)
        if forgotten:
            self.metrics.inc("forgotten_accounts", forgotten)
        # once the partition record that says so is written: held-event records wholly released,
        # and journal chunks of earlier batches
        frontier = proc.order.frontier
        for n in [n for n, newest in part.chunks.items() if newest < frontier]:
            del part.chunks[n]
            self._write(out, b"b/%d/%d" % (p, n), None, p)
        for i in sorted(part.journal_keys.difference(range(len(chunks)))):
            self._write(out, b"j/%d/%d" % (p, i), None, p)
        part.journal_keys = set(range(len(chunks)))

    def _write(self, out: Outbox, key: bytes, value: bytes | None, p: int) -> None:
        """One state record (``None``: a tombstone) into the table and its changelog partition ``p``."""
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value
        out.add_state(self.changelog, key, value, p)

    def _dead_letter(self, out: Outbox, reason: str, record: bytes, source: str) -> None:
        out.add(self.settings.dead_letter_topic, None, codecs.dead_letter(reason, record, source))
        self.metrics.inc("bad_records")

    def accounts_held(self, cold: bool) -> int:
        """Accounts of the held partitions in memory (``cold=False``), or set aside in the table
        (``cold=True``: silent for ``cold_after_s``, :class:`TableColdStore`)."""
        return sum(len(part.proc.cold_until if cold else part.proc.accounts) for part in self.parts.values())

    def cold_lost(self) -> int:
        """Accounts set aside whose table record was gone when they came back (started afresh): 0."""
        return sum(part.proc.cold_counts["lost"] for part in self.parts.values())

    def processor_total(self, counter: str) -> int:
        """One of the processors' counters (``late``, ``duplicates``, ...) summed over the partitions held."""
        return sum(part.proc.counters[counter] for part in self.parts.values())
