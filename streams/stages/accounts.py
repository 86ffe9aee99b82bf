"""The account stage's driver: requests records → one AccountProcessor per partition → links to
the cluster stage, account alerts and watermarks to the campaign stage, aggregate rows, dead
letters; state to the ``account_state`` table.

Recovery is exact where Kafka lets it be: every state record carries the source offset it
reflects, outputs are delivered before state is written and state before input is acked, so a
restarted worker skips what its state already holds and re-emits at most the alerts and links of
one batch (same ``alert_id``; links are dropped by position at the cluster stage). The one gap: a
crash in the middle of writing one batch's state leaves some accounts ahead of their partition
record; their events are skipped but their effect on the partition's peer model is lost.

An account belongs to one partition, ``partition_for(account_id)`` (Kafka's murmur2), whatever
partitioner the producer used (request-event.md 1.1). An event that arrives elsewhere is not
processed there: it is re-routed, produced to the requests topic at its owner partition through
the Outbox (so before its input is acked), and processed when the owner reads it. A crash between
the two can deliver it twice; the account's recent event-id ring counts the copy once.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterable, Mapping, MutableMapping

import msgspec

from distillwatch.models.account_processor import AccountProcessor, error_reason
from distillwatch.models.event import Event, decode
from distillwatch.models.links import CAMPAIGNS, to_wire
from distillwatch.models.partitioning import partition_for
from distillwatch.models.snapshot import (
    account_partition_to_bytes,
    account_record,
    open_positions,
    parse_account_record,
    restore_account_processor,
)
from distillwatch.models.suppressions import SuppressionTable
from distillwatch.streams import codecs
from distillwatch.streams.metrics import Metrics
from distillwatch.streams.settings import Settings, detector_config
from distillwatch.streams.stages.base import Stage
from distillwatch.streams.stages.outbox import Outbox, take_alerts_and_rows

_PARTITION_HEAD = struct.Struct("<qq")  # source offset applied, link position within it
_split_batch = msgspec.json.Decoder(list[msgspec.Raw]).decode


class Partition:
    """One requests partition: its processor and what the driver needs to resume it."""

    __slots__ = ("proc", "offset", "link_k", "ahead", "active_at", "links")

    def __init__(self, proc: AccountProcessor, offset: int, link_k: int, ahead: dict[str, int],
                 active_at: float) -> None:
        self.proc = proc
        self.offset = offset  # last source offset applied
        self.link_k = link_k  # links sent so far at ``offset``: (offset, k) orders them
        self.ahead = ahead  # accounts whose record is newer than the partition record (torn batch)
        self.active_at = active_at  # clock reading of the last record applied
        self.links: dict[int, list[list]] = {}


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

    def partition(self, p: int) -> Partition:
        part = self.parts.get(p)
        if part is None:
            part = self.parts[p] = self._restore(p)
        return part

    def _restore(self, p: int) -> Partition:
        offset, link_k, pstate = -1, 0, None
        head = self.data.get(b"p/%d" % p)
        if head:
            offset, link_k = _PARTITION_HEAD.unpack_from(head, 0)
            pstate = head[_PARTITION_HEAD.size :]
        accounts: dict[str, tuple[int, bytes]] = {}
        ahead: dict[str, int] = {}
        for key, value in self.data.items():
            if key[:2] == b"a/":
                part, off, position, st = parse_account_record(value)
                if part == p:
                    acc = key[2:].decode()
                    accounts[acc] = (position, st)
                    if off > offset:
                        ahead[acc] = off
        proc = restore_account_processor(p, self.settings.cluster_partitions, pstate, accounts, self.config)
        return Partition(proc, offset, link_k, ahead, self.clock())

    def apply(self, p: int, offset: int, raw: bytes | None, out: Outbox) -> None:
        """One Kafka record (an event or a JSON array of events) of partition ``p``.

        Never raises for a record's sake: a tombstone (``None``), a bad event or an exception
        while applying one is dead-lettered with a one-line reason and the record still counts as
        applied, so the batch around it is neither lost nor acknowledged unprocessed."""
        part = self.partition(p)
        if offset <= part.offset:
            self.metrics.inc("redelivered_skipped")
            return
        source = f"{self.settings.requests_topic}:{p}:{offset}"
        events, bad = decode(raw)
        for item, reason in bad:
            self._dead_letter(out, reason, item, source)
        if any(self.owner(ev.account_id) != p for ev in events):
            events = self._reroute(p, raw, events, out)
        proc = part.proc
        for ev in events:
            if part.ahead and part.ahead.get(ev.account_id, -1) >= offset:
                continue
            try:
                if proc.is_flushed:
                    proc.wake()
                reason = proc.process(ev)
            except Exception as exc:  # noqa: BLE001 - process() itself never raises; this is the net
                self.metrics.inc("record_errors")
                reason = error_reason(exc)
            if reason is not None:
                self._dead_letter(out, reason, raw[:2048] if raw else b"", source)
        self.metrics.inc("events_in", len(events))
        self.pending_events += len(events)
        part.offset, part.link_k = offset, 0
        part.active_at = self.clock()
        self._take_links(p, part)

    def owner(self, account_id: str) -> int:
        """The one partition that processes ``account_id``'s events (and holds its state)."""
        owner = self.owners.get(account_id)
        if owner is None:
            owner = self.owners[account_id] = partition_for(account_id, self.settings.requests_partitions)
        return owner

    def _reroute(self, p: int, raw: bytes, events: list[Event], out: Outbox) -> list[Event]:
        """Forward the events of record ``raw`` that partition ``p`` does not own to their owner
        partitions, as they were written (one record per owner: the event alone, keyed by its
        account, or a JSON array of them, never larger than ``raw``); returns the events ``p`` owns.

        A batch is split into its elements again to find each good event's bytes: only elements that
        are JSON objects, decoded alone exactly as the batch decoder judges them, so the events
        found are ``events`` in the same order (bad elements were dead-lettered already)."""
        if len(events) == 1 and raw.lstrip()[:1] != b"[":
            found = [(events[0], raw)]
        else:
            found = [(ev, item) for item in map(bytes, _split_batch(raw)) if item[:1] == b"{"
                     for ev in decode(item)[0]]
        kept: list[Event] = []
        moved: dict[int, list[tuple[Event, bytes]]] = {}
        for ev, item in found:
            owner = self.owner(ev.account_id)
            if owner == p:
                kept.append(ev)
            else:
                moved.setdefault(owner, []).append((ev, item))
        for owner in sorted(moved):
            group = moved[owner]
            if len(group) == 1:
                ev, item = group[0]
                out.add(self.settings.requests_topic, ev.account_id.encode(), item, owner)
            else:
                out.add(self.settings.requests_topic, None, b"[" + b",".join(i for _, i in group) + b"]", owner)
            self.metrics.inc("rerouted", len(group))
        return kept

    def flush_idle(self, highwaters: Mapping[int, int | None], out: Outbox) -> None:
        """Flush partitions that are caught up (``highwaters``: assigned partition → its end offset)
        and quiet for ``idle_flush_s``, so their last minutes close as at end of input. A partition
        with a backlog is never idle, however long it waits: flushing it early would change results."""
        now = self.clock()
        for p, high in highwaters.items():
            if p not in self.parts and now - self.assigned_at.setdefault(p, now) < self.settings.idle_flush_s:
                continue  # give table recovery time before building a quiet partition from it
            part = self.partition(p)
            caught_up = high is not None and high <= part.offset + 1
            if caught_up and not part.proc.is_flushed and now - part.active_at >= self.settings.idle_flush_s:
                part.proc.flush()
                self.metrics.inc("idle_flushes")
                self._take_links(p, part)
        self.finish(out)

    def revoke(self, partitions: Iterable[int]) -> None:
        for p in partitions:
            self.parts.pop(p, None)
            self.assigned_at.pop(p, None)

    def _take_links(self, p: int, part: Partition) -> None:
        """Give each new link message its position (offset, k) and queue it for its target."""
        proc = part.proc
        for target, msg in proc.links:
            part.links.setdefault(target, []).append([part.offset, part.link_k, to_wire(msg)])
            part.link_k += 1
        proc.links.clear()
        self.touched.add(p)

    def finish(self, out: Outbox) -> None:
        """End of a batch: outputs of every touched partition, then its changed state."""
        self.pending_events = 0
        for p in sorted(self.touched):
            part = self.parts.get(p)
            if part is not None:
                self._outputs(p, part, out)
                self._state(p, part, out)
        self.touched.clear()
        out.add_rows(self.settings.rows_topic, self.rows)
        self.rows = []

    def _outputs(self, p: int, part: Partition, out: Outbox) -> None:
        take_alerts_and_rows(part.proc, out, self.settings.alerts_topic, self.rows, self.metrics, self.suppressions)
        for target in sorted(part.links):
            # account alerts and watermarks for the campaign stage go to its one partition
            topic, partition = ((self.settings.campaigns_topic, 0) if target == CAMPAIGNS
                                else (self.settings.links_topic, target))
            for record in codecs.link_records(p, part.links[target]):
                out.add(topic, None, record, partition)
        part.links.clear()

    def _state(self, p: int, part: Partition, out: Outbox) -> None:
        proc = part.proc
        positions = open_positions(proc) if proc.dirty else {}
        forgotten = 0
        for acc in sorted(proc.dirty):
            key = b"a/" + acc.encode()
            st = proc.accounts.get(acc)
            if st is None:  # forgotten (silent for months): a tombstone, so no restart brings it back
                self.data.pop(key, None)
                out.add_state(self.changelog, key, None, p)
                forgotten += 1
                continue
            value = account_record(st, p, part.offset, positions.get(acc, -1))
            self.data[key] = value
            out.add_state(self.changelog, key, value, p)
        proc.dirty.clear()
        if forgotten:
            self.metrics.inc("forgotten_accounts", forgotten)
        key = b"p/%d" % p
        value = _PARTITION_HEAD.pack(part.offset, part.link_k) + account_partition_to_bytes(proc)
        self.data[key] = value
        out.add_state(self.changelog, key, value, p)

    def _dead_letter(self, out: Outbox, reason: str, record: bytes, source: str) -> None:
        out.add(self.settings.dead_letter_topic, None, codecs.dead_letter(reason, record, source))
        self.metrics.inc("bad_records")

    def processor_total(self, counter: str) -> int:
        """One of the processors' counters (``late``, ``duplicates``, ...) summed over the partitions held."""
        return sum(part.proc.counters[counter] for part in self.parts.values())
