"""What a stage needs across a rebalance: each partition's own records when it is rebuilt from its
table (:class:`PartitionRecords`), and the processors of partitions that come straight back, kept
instead of rebuilt (:class:`Handover`).

A table's keys (:mod:`distillwatch.streams.state`) say their changelog partition
(:func:`partition_of`); the RocksDB store keeps one database per partition and routes writes by it,
and the in-memory store is one mapping, indexed here once per assignment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Generic, TypeVar

from distillwatch.models.snapshot import record_partition

T = TypeVar("T")


def partition_of(key: bytes, value: bytes | None) -> int | None:
    """The changelog partition of a state key (:mod:`distillwatch.streams.state`): ``p/``, ``c/``,
    ``k/``, ``b/<p>/`` and ``j/<p>/`` name it, an account record carries it (``None`` for an
    account key without its value)."""
    kind = key[:2]
    if kind == b"a/":
        return None if value is None else record_partition(value)
    if kind in (b"b/", b"j/"):  # an account partition's held events b/<p>/<n>, its journal j/<p>/<i>
        return int(key[2:].split(b"/", 1)[0])
    return int(key[2:]) if kind in (b"p/", b"c/", b"k/") else None


class PartitionRecords:
    """The records of one partition of a table's mapping, to rebuild that partition.

    A store that keeps partitions apart (:meth:`RoutedRocksStore.partition_items
    <distillwatch.streams.table_store.RoutedRocksStore.partition_items>`) reads only that partition's
    database. Any other mapping is scanned once, at the first restore after :meth:`reset`, and its
    keys bucketed by partition for every partition restored later in the same assignment: scanning
    it once per partition made a worker's restore O(partitions x keys). The buckets hold keys only
    (values are read when taken), and a partition's bucket is dropped once taken; :meth:`reset`
    (each rebalance) drops the rest, since recovery changes the mapping."""

    def __init__(self, data: Mapping[bytes, bytes]) -> None:
        self.data = data
        self._buckets: dict[int, list[bytes]] | None = None

    def take(self, p: int) -> Iterator[tuple[bytes, bytes]]:
        """Partition ``p``'s ``(key, value)`` records (its account and held-event records among them)."""
        own = getattr(self.data, "partition_items", None)
        if own is not None:
            yield from own(p)
            return
        if self._buckets is None:
            self._buckets = {}
            for key, value in self.data.items():
                q = partition_of(key, value)
                if q is not None:
                    self._buckets.setdefault(q, []).append(key)
        for key in self._buckets.pop(p, ()):
            value = self.data.get(key)
            if value is not None:
                yield key, value

    def reset(self) -> None:
        self._buckets = None


class Handover(Generic[T]):
    """The processors of revoked partitions, kept until the next assignment and reused for the
    partitions it gives back to this worker.

    Faust's (eager) rebalance revokes every partition of every worker, then assigns; a survivor of a
    join or a leave usually gets most of its partitions straight back, and rebuilding them from the
    table is what made a failover slow. Reusing a processor is exact only if nobody else processed
    its partition in between: the consumer group's generation says so. A partition this worker held
    in generation ``g`` and is given again in ``g + 1`` had no other owner (there is no generation
    in between); any later generation means this worker left the group meanwhile (a missed
    heartbeat, a session timeout), so everything kept is dropped and rebuilt from the table.

    At a revocation the stage has finished its batches (Faust waits for the agents before it
    revokes), so a kept processor holds exactly what its partition's table records say."""

    def __init__(self) -> None:
        self.kept: dict[int, T] = {}
        self.generation: int | None = None

    def revoke(self, parts: MutableMapping[int, T], partitions: Iterable[int]) -> None:
        for p in partitions:
            part = parts.pop(p, None)
            if part is not None:
                self.kept[p] = part

    def assign(self, parts: MutableMapping[int, T], partitions: Iterable[int], generation: int) -> list[int]:
        """Put back the kept processors of ``partitions`` if ``generation`` directly follows the
        one they were processed in; drop the others. The partitions put back, sorted."""
        back = []
        if self.generation is not None and generation == self.generation + 1:
            for p in partitions:
                part = self.kept.get(p)
                if part is not None and p not in parts:  # not rebuilt meanwhile
                    parts[p] = part
                    back.append(p)
        self.kept.clear()
        self.generation = generation
        return sorted(back)
