from kafka.partitioner.default import murmur2 as kafka_murmur2

from distillwatch.models.partitioning import murmur2, partition_for


def test_murmur2_matches_kafka_python():
    for key in [b"", b"a", b"ab", b"abc", b"abcd", b"acct-0001", "naïve-ü".encode(), bytes(range(37))]:
        assert murmur2(key) == kafka_murmur2(key)


def test_partition_spread():
    counts = [0] * 4
    for i in range(4000):
        counts[partition_for(f"acct-{i:06x}", 4)] += 1
    assert min(counts) > 850
