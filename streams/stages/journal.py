"""A write-ahead journal of one batch's account records, so a crash mid-write cannot tear a batch.

Why: an account partition's state is many changelog records (one per account changed) plus the
partition record, and Kafka makes no group of records atomic. A worker killed between them left
some accounts a batch ahead of their partition record, and no restore can undo that: the events
behind it were either applied twice or their effect on the partition's peer model, clock and
minutes was lost, so the result differed from replay's. Now the batch's account records are
written first as journal chunks (``j/<partition>/<i>``, each tagged with the batch's number),
then the partition record naming that number and the chunk count (the commit), then the account
records themselves. A partition's changelog keeps its order, so a restore sees either no
partition record of the batch (and ignores its chunks) or the commit and every chunk before it
(and lays them over whatever account records made it). Costs: the accounts changed in a batch are
written twice, and the last batch's chunks stay in the table until the next batch replaces them.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

_HEAD = struct.Struct("<qI")  # batch number, entries
_ENTRY = struct.Struct("<HI")  # account id length, record length (_GONE: forgotten)
_GONE = 0xFFFFFFFF
CHUNK_BYTES = 256 * 1024  # well under Kafka's 1 MB default record limit


def chunks(batch: int, records: list[tuple[bytes, bytes | None]]) -> list[bytes]:
    """``records`` (account id, account record or ``None`` when forgotten) as journal chunks of at
    most about :data:`CHUNK_BYTES` each, every one tagged with ``batch``."""
    out: list[bytes] = []
    parts: list[bytes] = []
    size = n = 0
    for acc, record in records:
        entry = _ENTRY.pack(len(acc), _GONE if record is None else len(record)) + acc + (record or b"")
        if parts and size + len(entry) > CHUNK_BYTES:
            out.append(_HEAD.pack(batch, n) + b"".join(parts))
            parts, size, n = [], 0, 0
        parts.append(entry)
        size += len(entry)
        n += 1
    if parts:
        out.append(_HEAD.pack(batch, n) + b"".join(parts))
    return out


def entries(chunk: bytes, batch: int) -> Iterator[tuple[str, bytes | None]]:
    """The records of a chunk written for ``batch`` (none if it belongs to another batch: one
    whose commit never made it, or one already superseded)."""
    written, n = _HEAD.unpack_from(chunk, 0)
    if written != batch:
        return
    pos = _HEAD.size
    for _ in range(n):
        key_len, rec_len = _ENTRY.unpack_from(chunk, pos)
        pos += _ENTRY.size
        acc = chunk[pos : pos + key_len].decode()
        pos += key_len
        if rec_len == _GONE:
            yield acc, None
        else:
            yield acc, chunk[pos : pos + rec_len]
            pos += rec_len
