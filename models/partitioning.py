"""Kafka's default partitioner (murmur2 of the key), so offline replay can shard state exactly as
the streaming pipeline's topics do and give the same alerts."""

from __future__ import annotations

from typing import Final


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (``org.apache.kafka.common.utils.Utils.murmur2``) as an unsigned 32-bit int."""
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    n4 = length // 4
    for i in range(n4):
        i4 = i * 4
        k = _times_m(data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24))
        k = _times_m(k ^ (k >> 24))
        h = _times_m(h) ^ k
    extra = length & 3
    tail = n4 * 4
    if extra >= 3:
        h ^= data[tail + 2] << 16
    if extra >= 2:
        h ^= data[tail + 1] << 8
    if extra >= 1:
        h = _times_m(h ^ data[tail])
    h = _times_m(h ^ (h >> 13))
    return h ^ (h >> 15)


_M_LOW: Final = 0xE995  # murmur2's multiplier 0x5BD1E995, in 16-bit halves
_M_HIGH: Final = 0x5BD1


def _times_m(x: int) -> int:
    """``(x * m) % 2**32`` for a 32-bit ``x``, from products of 16-bit halves.

    Compiled (mypyc), a product stays an unboxed machine integer only when both factors are below
    2**30; ``x * m`` (m is ~2**30.5) made two heap ``int`` objects per multiplication, three times
    per word of a key: Kafka's partitioner was ~4 % of replay's time (docs/performance.md)."""
    low = x & 0xFFFF
    return (low * _M_LOW + ((((x >> 16) * _M_LOW + low * _M_HIGH) & 0xFFFF) << 16)) & 0xFFFFFFFF


def partition_for(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for a UTF-8 string key.

    >>> partition_for("acct-00001", 4), partition_for("tls:abc", 4)
    (1, 2)
    """
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions
