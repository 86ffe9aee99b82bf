import random

import pytest

from distillwatch.models.sketches import (
    HLL_REGISTERS,
    entropy_share,
    hll_add,
    hll_count,
    hll_registers,
    simhash_bands,
    stable_hash,
)


@pytest.mark.parametrize("n", [1, 5, 30, 200, 5000])
def test_hll_estimates_within_error(n):
    regs = hll_registers(1)
    for i in range(n):
        hll_add(regs, 0, stable_hash(f"10.0.{i // 256}.{i % 256}"))
        hll_add(regs, 0, stable_hash(f"10.0.{i // 256}.{i % 256}"))  # duplicates do not count
    assert hll_count(regs, 0) == pytest.approx(n, rel=0.45 if n > 30 else 0.3)


def test_hlls_packed_four_registers_a_word_stay_apart():
    """Registers are bytes of uint32 words: an HLL at byte offset 32 changes only bytes 32-63, a
    rank only grows, and the estimate is the one of the same registers alone."""
    regs = hll_registers(2)
    changed = [hll_add(regs, HLL_REGISTERS, stable_hash(f"user-{i}")) for i in range(50)]
    image = regs.tobytes()
    assert image[:HLL_REGISTERS] == bytes(HLL_REGISTERS) and any(image[HLL_REGISTERS:])
    assert any(changed) and not any(hll_add(regs, HLL_REGISTERS, stable_hash(f"user-{i}")) for i in range(50))
    alone = hll_registers(1)
    for i in range(50):
        hll_add(alone, 0, stable_hash(f"user-{i}"))
    assert alone.tobytes() == image[HLL_REGISTERS:]
    assert hll_count(regs, HLL_REGISTERS) == hll_count(alone, 0) == pytest.approx(50, rel=0.3)
    assert hll_count(regs, 0) == 0.0


def test_near_duplicate_simhashes_share_bands():
    a = 0x0123456789ABCDEF
    b = a ^ (1 << 3)  # one bit apart: three of four bands equal
    assert len(set(simhash_bands(a)) & set(simhash_bands(b))) == 3


def test_entropy_share():
    assert entropy_share([1.0] * 24) == pytest.approx(1.0)
    assert entropy_share([5.0] + [0.0] * 23) == 0.0


def test_hll_register_and_rank_are_those_of_the_64_bit_product():
    """hll_add computes ``h = ((x ^ (x >> 29)) * golden) % 2**64`` in 16-bit limbs (for compiled
    code): the register it sets and the rank it stores are those of ``h`` taken whole, for 32- and
    64-bit hashes and the edge values."""
    rng = random.Random(7)
    hashes = [0, 1, 2**29, 2**32 - 1, 2**32, 2**62 - 1, 2**62, 2**63, 2**64 - 1]
    hashes += [rng.getrandbits(bits) for bits in (32, 64) for _ in range(3000)]
    for x in hashes:
        h = ((x ^ (x >> 29)) * 0x9E3779B97F4A7C15) % 2**64
        register, rank = h >> 59, 60 - (h & (2**59 - 1)).bit_length()
        regs = hll_registers(1)
        assert hll_add(regs, 0, x)
        assert regs.tobytes()[register] == rank and sum(regs.tobytes()) == rank, x


def test_simhash_bands_of_64_bit_values():
    for x in (0, 2**64 - 1, 0xFEDCBA9876543210):
        assert simhash_bands(x) == tuple((band << 16) | ((x >> (16 * band)) & 0xFFFF) for band in range(4))
