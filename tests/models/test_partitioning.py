import random

from kafka.partitioner.default import murmur2 as kafka_murmur2

from distillwatch.models.partitioning import murmur2, partition_for


def test_murmur2_matches_kafka_python():
    for key in [b"", b"a", b"ab", b"abc", b"abcd", b"acct-0001", "naïve-ü".encode(), bytes(range(37))]:
        assert murmur2(key) == kafka_murmur2(key)


def test_murmur2_matches_kafka_python_on_random_keys():
    """murmur2 multiplies in 16-bit halves (for compiled code): every word value, every tail length."""
    rng = random.Random(3)
    for _ in range(3000):
        key = rng.randbytes(rng.randrange(0, 80))
        assert murmur2(key) == kafka_murmur2(key)


def test_partition_spread():
    counts = [0] * 4
    for i in range(4000):
        counts[partition_for(f"acct-{i:06x}", 4)] += 1
    assert min(counts) > 850
