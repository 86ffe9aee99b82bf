"""Whole-processor snapshots for the streaming pipeline's changelogs (no pickle: struct, orjson, zlib).

An account partition's state is many per-account records (``AccountState.to_bytes``) plus one
partition-level record (:func:`account_partition_to_bytes`: watermark, peers, threshold,
counters); the open-window index is not stored but rebuilt from the accounts' ``win_minute``, so
the two cannot disagree. A cluster partition is small enough to be one record
(:func:`cluster_to_bytes`). Restoring gives a processor that decides exactly as the original.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Container, Iterable, Mapping

import orjson

from distillwatch.models import template_evidence
from distillwatch.models.account_processor import AccountProcessor, forget_boundary
from distillwatch.models.account_state import AccountState
from distillwatch.models.campaign_processor import CampaignProcessor
from distillwatch.models.campaign_state import CampaignState
from distillwatch.models.cluster_processor import ClusterProcessor
from distillwatch.models.cluster_state import ClusterState
from distillwatch.models.cold_store import ColdStore
from distillwatch.models.config import AccountConfig, CampaignConfig, ClusterConfig
from distillwatch.models.jsonsafe import clamp_infinity, unclamp_infinity
from distillwatch.models.links import Message, from_wire, to_wire
from distillwatch.models.minute_merge import MinuteMerge

_VERSION = 7  # 2: links without r_day, sent_watermark; 3: the partition's event clock; 4: reorder marks;
# 5: account records without a frontier, positions fixed for a minute's life (the stage's journal);
# 6: account states of version 6 (AccountState.to_bytes: the strings' lengths in its head); 7: account states of
# version 7 (the last client IP as its hash)
_ACCOUNT_RECORD = struct.Struct("<Hi")
ACCOUNT_RECORD_HEAD = _ACCOUNT_RECORD.size  # where the state starts in an account_record
_CLUSTER_HEAD = struct.Struct("<Bdi")

# What a snapshot holds, attribute by attribute. tests/models/test_snapshot.py fails when a
# processor gains an attribute listed nowhere here: decide where it belongs before relying on it.
ACCOUNT_FIELDS = ("watermark", "max_ts", "sent_watermark", "first_ts", "counters", "models_first_seen",
                  "forgot_at", "released", "template_minutes")
ACCOUNT_OTHER = (
    "peers", "threshold", "accounts", "clock", "arrivals", "order",  # own records
    "cold", "cold_until", "cold_counts",  # the accounts' records too: a restore decides again which wait
    # out of memory (never a result), and counts only what it does itself (clocks and marks: in the
    # partition document; the events held in ``order`` are the driver's: replay never stops, a stage writes them)
    "_open", "_open_heap",  # rebuilt from the accounts' open minutes
    "partition", "cluster_partitions", "config",  # constructor arguments
    "alerts", "rows", "links", "dirty", "rejected",  # outputs
    "_stale", "_stale_until", "_cooled_at",  # caches
)
CLUSTER_OTHER = (
    "merge", "clusters", "degree", "threshold", "template_base",
    "partition", "source", "config", "alerts", "rows", "out",
)
CAMPAIGN_OTHER = (
    "merge", "campaigns",  # own records
    "member_of", "cluster_of",  # rebuilt from the campaigns
    "config", "alerts", "rows",
)


def _blob(data: bytes) -> bytes:
    return struct.pack("<I", len(data)) + data


def _blobs(data: bytes, pos: int, n: int) -> tuple[list[bytes], int]:
    out = []
    for _ in range(n):
        (ln,) = struct.unpack_from("<I", data, pos)
        pos += 4
        out.append(data[pos : pos + ln])
        pos += ln
    return out, pos


def account_partition_to_bytes(proc: AccountProcessor) -> bytes:
    """The partition-level state of an account processor (not its accounts)."""
    doc = {name: _clamp(getattr(proc, name)) for name in ACCOUNT_FIELDS}
    doc["clock"] = _clamp(proc.clock.to_wire())
    doc["arrivals"] = _clamp(proc.arrivals.to_wire())
    doc["order"] = {"marks": [[src, clamp_infinity(w)] for src, w in proc.order.marks.items()],
                    "frontier": clamp_infinity(proc.order.frontier)}
    return bytes([_VERSION]) + _blob(orjson.dumps(doc)) + _blob(proc.peers.to_bytes()) + _blob(
        proc.threshold.to_bytes())


def open_positions(proc: AccountProcessor) -> dict[str, int]:
    """Each account's place in its open minute (windows close in opening order, and that order
    feeds the peer model and threshold, so a restore must keep it):
    :meth:`~distillwatch.models.account_processor.AccountProcessor.window_positions`."""
    return {acc: i for acc, _, i in proc.window_positions()}


def account_record(state: AccountState, partition: int, position: int) -> bytes:
    """One account's changelog value: where it lives, its place in the open minute (-1: none),
    then the state."""
    return _ACCOUNT_RECORD.pack(partition, position) + state.to_bytes()


def parse_account_record(data: bytes) -> tuple[int, int, bytes]:
    """``(partition, position, state bytes)`` of an :func:`account_record`."""
    partition, position = _ACCOUNT_RECORD.unpack_from(data, 0)
    return partition, position, data[_ACCOUNT_RECORD.size :]


def record_partition(data: bytes) -> int:
    """The partition an :func:`account_record` says its account lives in (nothing else decoded)."""
    return _ACCOUNT_RECORD.unpack_from(data, 0)[0]


def restore_account_processor(
    partition: int,
    cluster_partitions: int,
    partition_state: bytes | None,
    accounts: Mapping[str, bytes],
    config: AccountConfig | None = None,
    sources: Iterable[int] | None = None,
    cold: ColdStore | None = None,
    recent: Container[str] = (),
) -> AccountProcessor:
    """An account processor from its partition record (``None``: fresh) and its accounts as
    ``{account: account_record}`` (:func:`account_record`: the records are decoded here, once, in
    place); ``sources`` and ``cold`` as for :class:`AccountProcessor`.

    Accounts silent for ``cold_after_s`` at the last sweep go to ``cold`` rather than memory, as the
    running processor would have put them, except those in ``recent``: a stage's store reads an
    account's own record, and the last batch's accounts may exist only in its journal."""
    proc = AccountProcessor(partition, cluster_partitions, config, sources, cold)
    if partition_state:
        if partition_state[0] != _VERSION:
            raise ValueError("account partition snapshot of an unknown version")
        (doc, peers, threshold), _ = _blobs(partition_state, 1, 3)
        fields = orjson.loads(doc)
        proc.clock.load(_unclamp(fields.pop("clock")))
        proc.arrivals.load(_unclamp(fields.pop("arrivals")))
        order = fields.pop("order")
        proc.order.marks.update((src, unclamp_infinity(w)) for src, w in order["marks"])
        proc.order.frontier = unclamp_infinity(order["frontier"])
        proc.counters.update(fields.pop("counters"))  # a counter added since the record keeps its zero
        for name, value in fields.items():
            setattr(proc, name, _unclamp(value))
        template_evidence.upgrade_tally(proc.template_minutes)
        proc.peers.load(peers)
        proc.threshold.load(threshold)
    opened: dict[int, list[tuple[int, str]]] = {}
    held, cold_until, limit = proc.accounts, proc.cold_until, proc.forgot_at - proc.config.cold_after_s
    decode, silence, head, skip = (AccountState.from_bytes, AccountState.silence, _ACCOUNT_RECORD.unpack_from,
                                   _ACCOUNT_RECORD.size)
    for acc, record in accounts.items():
        t_last, r_day, win_minute = silence(record, skip)
        if t_last <= limit and win_minute < 0 and acc not in recent:
            proc.cold.put_encoded(acc, memoryview(record)[skip:])
            cold_until[acc] = forget_boundary(t_last, r_day, proc.config)
            continue
        held[acc] = decode(record, skip)
        if win_minute >= 0:
            opened.setdefault(win_minute, []).append((head(record, 0)[1], acc))
    for minute, entries in opened.items():
        entries.sort()
        proc.reopen_windows(minute, entries)
    return proc


def cluster_to_bytes(proc: ClusterProcessor, extra: object = None) -> bytes:
    """One cluster partition, compressed; ``extra`` is any JSON-able driver state kept alongside."""
    clusters = [[key, {f: _clamp(getattr(cl, f)) for f in ClusterState.__slots__}]
                for key, cl in proc.clusters.items()]
    body = orjson.dumps({
        **_merge_doc(proc.merge),
        "clusters": clusters,
        "template_base": proc.template_base,
        "extra": extra,
    })
    head = _CLUSTER_HEAD.pack(_VERSION, proc.watermark, proc.degree.day)
    raw = head + _blob(body) + _blob(proc.degree.to_bytes()) + _blob(proc.threshold.to_bytes())
    return zlib.compress(raw, 1)


def restore_cluster_processor(
    partition: int, source_partitions: int, data: bytes | None, config: ClusterConfig | None = None,
) -> tuple[ClusterProcessor, object]:
    """A cluster processor (fresh when ``data`` is ``None``) and the driver's ``extra`` state."""
    proc = ClusterProcessor(partition, source_partitions, config)
    if not data:
        return proc, None
    raw = zlib.decompress(data)
    version, watermark, degree_day = _CLUSTER_HEAD.unpack_from(raw, 0)
    if version != _VERSION:
        raise ValueError("cluster snapshot of an unknown version")
    (body, degree, threshold), _ = _blobs(raw, _CLUSTER_HEAD.size, 3)
    doc = orjson.loads(body)
    _restore_merge(proc.merge, watermark, doc, proc.receive)
    for key, fields in doc["clusters"]:
        cl = proc.clusters[key] = ClusterState(fields["attr"], fields["value"], 0.0)
        for f, v in fields.items():
            setattr(cl, f, _unclamp(v))
    proc.template_base = doc["template_base"]
    template_evidence.upgrade_base(proc.template_base)
    proc.degree.load(degree_day, degree)
    proc.threshold.load(threshold)
    return proc, doc["extra"]


def campaign_to_bytes(proc: CampaignProcessor, extra: object = None) -> bytes:
    """The campaign stage, compressed; ``extra`` is any JSON-able driver state kept alongside."""
    campaigns = [[cid, {f: _clamp(getattr(c, f)) for f in CampaignState.__slots__}]
                 for cid, c in proc.campaigns.items()]
    body = orjson.dumps({
        "version": _VERSION, "watermark": clamp_infinity(proc.merge.watermark), **_merge_doc(proc.merge),
        "campaigns": campaigns, "extra": extra,
    })
    return zlib.compress(body, 1)


def restore_campaign_processor(
    sources: int, data: bytes | None, config: CampaignConfig | None = None,
) -> tuple[CampaignProcessor, object]:
    """The campaign processor (fresh when ``data`` is ``None``) and the driver's ``extra`` state."""
    proc = CampaignProcessor(sources, config)
    if not data:
        return proc, None
    doc = orjson.loads(zlib.decompress(data))
    if doc.get("version") != _VERSION:
        raise ValueError("campaign snapshot of an unknown version")
    _restore_merge(proc.merge, unclamp_infinity(doc["watermark"]), doc, proc.receive)
    for cid, fields in doc["campaigns"]:
        c = proc.campaigns[cid] = CampaignState(cid, 0.0)
        for f, v in fields.items():
            setattr(c, f, _unclamp(v))
        proc.index(c)
    return proc, doc["extra"]


def _merge_doc(merge: MinuteMerge) -> dict:
    return {
        "source_wm": [_clamp(w) for w in merge.source_wm],
        "pending": [[minute, [to_wire(m) for m in msgs]] for minute, msgs in merge.pending()],
    }


def _restore_merge(merge: MinuteMerge, watermark: float, doc: dict, receive: Callable[[Message], None]) -> None:
    merge.watermark = watermark
    merge.source_wm = [_unclamp(w) for w in doc["source_wm"]]
    for _, msgs in doc["pending"]:
        for m in msgs:
            receive(from_wire(m))  # minute messages are only buffered


def _clamp(v):
    if isinstance(v, float):
        return clamp_infinity(v)
    if isinstance(v, dict):
        return {k: _clamp(x) for k, x in v.items()}
    return v


def _unclamp(v):
    if isinstance(v, float):
        return unclamp_infinity(v)
    if isinstance(v, dict):
        return {k: _unclamp(x) for k, x in v.items()}
    return v
