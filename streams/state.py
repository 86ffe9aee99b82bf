"""Tables: the state that survives a restart, each with a changelog partitioned like its source.

- ``account_state`` (changelog partition = requests partition): key ``a/<account_id>`` holds
  :func:`distillwatch.models.snapshot.account_record`; key ``p/<partition>`` holds the partition-level record
  (source offset + :func:`distillwatch.models.snapshot.account_partition_to_bytes`); keys ``b/<partition>/<n>``
  hold events it holds back, keys ``j/<partition>/<i>`` its last batch's journal
  (:mod:`distillwatch.streams.stages.journal`: a batch's records are written journal first, then the
  partition record, then the accounts, so no crash can leave a batch half written).
- ``cluster_state`` (changelog partition = cluster-links partition): key ``c/<partition>`` holds
  the whole cluster processor (:func:`distillwatch.models.snapshot.cluster_to_bytes`).
- ``campaign_state`` (one partition, like the campaigns topic): key ``k/0`` holds the campaign
  processor (:func:`distillwatch.models.snapshot.campaign_to_bytes`).

The agents write ``table.data`` and the changelog directly (:func:`changelog_name`), because a
batch mixes partitions and Faust's ``table[k] = v`` would use the current event's partition. With
``DW_STORE=rocksdb`` the three tables use :class:`~distillwatch.streams.table_store.RoutedRocksStore`,
which finds each key's partition with
:func:`~distillwatch.streams.stages.rebalance.partition_of`; the suppressions stay in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from distillwatch.models.suppressions import Suppression, parse_line
from distillwatch.streams.app import MAX_RECORD_BYTES, TABLE_STORES, app, settings
from distillwatch.streams.kafka_admin import COMPACTED
from distillwatch.streams.stages.rebalance import partition_of
from distillwatch.streams.table_store import RoutedRocksStore

# Compacted changelogs (Faust's default) only shrink once a segment closes: small segments and an
# eager cleaner keep what a restarted worker must read close to one record per key.
_CONFIG = {
    "max.message.bytes": str(MAX_RECORD_BYTES),
    "segment.bytes": str(16 * 1024 * 1024),
    "min.cleanable.dirty.ratio": "0.1",
}

# faust.stores.rocksdb.RocksDBOptions, bounded (streams/settings.py says why)
_ROCKSDB = {"block_cache_size": settings.rocksdb_cache_mb << 20,
            "write_buffer_size": settings.rocksdb_write_buffer_mb << 20, "max_write_buffer_number": 2}


def _state_table(name: str, partitions: int):
    table = app.Table(name, partitions=partitions, key_type=bytes, value_type=bytes, extra_topic_configs=_CONFIG,
                      store=f"{TABLE_STORES[settings.store]}:{name}", options=_ROCKSDB if settings.store == "rocksdb"
                      else None)
    if isinstance(table.data, RoutedRocksStore):
        table.data.route = partition_of
    return table


account_state = _state_table("account-state", settings.requests_partitions)
cluster_state = _state_table("cluster-state", settings.cluster_partitions)

# every worker holds every suppression (one small partition,
# :func:`distillwatch.streams.kafka_admin.suppressions_topic`), kept current while it runs
suppressions = app.GlobalTable(
    "suppressions", partitions=1, recovery_buffer_size=1,
    key_type=bytes, value_type=bytes,
)


class LiveSuppressions(Mapping[str, Suppression]):
    """The global table as :data:`distillwatch.models.suppressions.SuppressionTable`: decoded when looked up
    (alerts are rare), so a record that arrives while the worker runs applies from the next alert."""

    def __init__(self, data: Mapping[bytes, bytes]) -> None:
        self.data = data

    def __getitem__(self, key: str) -> Suppression:
        try:
            return parse_line(self.data[key.encode()])
        except ValueError:  # not written by `distillwatch suppress`: no suppression, never a crash
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        return (k.decode() for k in self.data)

    def __len__(self) -> int:
        return len(self.data)


live_suppressions = LiveSuppressions(suppressions.data)

campaign_state = _state_table("campaign-state", 1)


def changelog_name(table) -> str:
    return table.changelog_topic.get_topic_name()


def changelog_topics() -> list[tuple[str, int, dict[str, str]]]:
    """``(name, partitions, configs)`` of every table's changelog, which the worker creates before
    Faust starts. Why: Faust creates them itself only once it runs, and a worker whose first
    assignment came before that ignored them ("Ignoring missing topic") and then waited, without a
    line of log, beyond the rebalance test's 5 minutes (aiokafka learns of new topics at its next
    metadata refresh, every 5 minutes by default)."""
    return [(changelog_name(t), t.partitions, {**COMPACTED, **_CONFIG})
            for t in (account_state, cluster_state, campaign_state)] + [
        (changelog_name(suppressions), 1, COMPACTED)]
