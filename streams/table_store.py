"""The persistent table store (``DW_STORE=rocksdb``): faust-streaming's RocksDB store (rocksdict),
one database per changelog partition under ``settings.data_dir``, so a restarted worker resumes from
its local state plus the changelog's tail instead of reading the whole changelog.

Faust's store is made for ``table[key] = value`` inside an agent: it writes to the database of the
current event's partition. The stages write a batch that mixes partitions, and from timers (no
current event), so this subclass routes every key to its partition (:attr:`RoutedRocksStore.route`,
set by :mod:`distillwatch.streams.state`, which defines the keys).

Exactness after a crash: a stage writes a key locally before its changelog record is delivered, so
after a SIGKILL the local database may hold a write Kafka never got (the input it came from is not
acked and will be processed again). A partition's first write therefore marks its database dirty;
only a clean hand-over (a rebalance or a stop, after Faust waited for the agents to finish their
batch) records the changelog's end as the persisted offset and clears the mark. A database still
marked when it is opened is deleted, and Faust then rebuilds it from the whole changelog, exactly
as the in-memory store always does. Standby replicas are written only from the changelog
(Faust's ``apply_changelog_batch``), never marked.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from faust.stores import STORES
from faust.stores import rocksdb as faust_rocksdb
from faust.types import TP

log = logging.getLogger(__name__)

DIRTY_KEY = b"__dw_dirty__"  # present while local writes may be ahead of the changelog
SCHEME = "dw-rocksdb"


def _unrouted(key: bytes, value: bytes | None) -> int | None:
    return None


class RoutedRocksStore(faust_rocksdb.Store):
    """Faust's RocksDB store with writes routed by key and a dirty mark (see the module docstring)."""

    #: the partition a key (and, for a write, its value) belongs to; ``None``: unknown
    route: Callable[[bytes, bytes | None], int | None] = staticmethod(_unrouted)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._dirty: set[int] = set()

    def _set(self, key: bytes, value: bytes | None) -> None:
        p = self.route(key, value)
        if p is None:
            super()._set(key, value)
            return
        self._key_index[key] = p
        self._writable(p).put(key, value)

    def _get(self, key: bytes) -> bytes | None:
        p = self.route(key, None)
        if p is None:  # look in every open database, whatever the current event
            found = self._get_bucket_for_key(key)
            return None if found is None else found.value
        return self._db_for_partition(p).get(key)

    def _del(self, key: bytes) -> None:
        for p in self._active_partitions():
            db = self._dbs[p]
            if db.get(key) is not None:
                self._writable(p).delete(key)

    def partition_items(self, p: int) -> Iterator[tuple[bytes, bytes]]:
        """Every record of partition ``p``'s database, in key order (a stage rebuilding the partition
        reads these only, not every partition's: :class:`~distillwatch.streams.stages.rebalance.PartitionRecords`)."""
        return self._visible_items(self._db_for_partition(p))

    def _writable(self, p: int) -> Any:
        db = self._db_for_partition(p)
        if p not in self._dirty:
            db.put(DIRTY_KEY, b"1")
            self._dirty.add(p)
        return db

    def _active_partitions(self) -> list[int]:
        topic = self.table.changelog_topic_name
        actives = self.app.assignor.assigned_actives()
        return [p for p in self._dbs if TP(topic, p) in actives]

    def _open_for_partition(self, partition: int) -> Any:
        self._dirty.discard(partition)  # a fresh handle: marked again at its first write
        db = super()._open_for_partition(partition)
        if db.get(DIRTY_KEY) is None:
            return db
        log.warning("table %s partition %d: local state may be ahead of the changelog (the worker did not "
                    "stop cleanly); rebuilding it from the changelog", self.table_name, partition)
        db.close()
        shutil.rmtree(self.partition_path(partition), ignore_errors=True)
        return super()._open_for_partition(partition)

    async def checkpoint(self, partitions: Iterable[int]) -> None:
        """Record the changelog's end as what the local databases of ``partitions`` hold, and clear
        their dirty mark. Only called when every local write has been delivered (a clean hand-over)."""
        dirty = sorted(set(partitions) & self._dirty)
        if not dirty or self.app.crashed:  # a failed batch's local writes were never delivered
            return
        await self.app.producer.flush()  # what was handed to the producer is in the changelog's end
        topic = self.table.changelog_topic_name
        ends = await self.app.consumer.highwaters(*(TP(topic, p) for p in dirty))
        for tp, end in ends.items():
            db = self._dbs.get(tp.partition)
            if db is None:
                continue
            if end > 0:
                self.set_persisted_offset(tp, end - 1)
            db.delete(DIRTY_KEY)
            self._dirty.discard(tp.partition)

    async def on_rebalance(self, assigned: set[TP], revoked: set[TP], newly_assigned: set[TP],
                           generation_id: int = 0) -> None:
        # every partition, not only the revoked ones: the agents are paused and their batches
        # delivered (Faust revoked everything first), and a partition this worker keeps then
        # recovers from here rather than from where its last recovery ended (Faust's recovery
        # re-reads a kept partition's changelog from that point otherwise)
        await self.checkpoint(list(self._dirty))
        await super().on_rebalance(assigned, revoked, newly_assigned, generation_id)

    async def stop(self) -> None:
        try:
            await self.checkpoint(list(self._dirty))
        except Exception:  # noqa: BLE001 - no consumer any more: stay dirty, rebuild on the next start
            log.warning("table %s: could not record the changelog's end at stop; the next start rebuilds "
                        "the dirty partitions from the changelog", self.table_name, exc_info=True)
        await super().stop()


STORES.aliases.setdefault(SCHEME, f"{__name__}:RoutedRocksStore")
