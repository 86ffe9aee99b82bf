import random

from distillwatch.models.report import round_contribution, round_count


def test_round_count_is_round_for_non_negative_floats():
    """The minute row's distinct counts: ``round_count`` (native in compiled code) gives exactly what
    ``round`` gives, halves to even, for the values a sketch's estimate can take and the edges."""
    rng = random.Random(11)
    values = [0.0, 0.5, 1.5, 2.5, 3.5, 0.49999999999999994, 2.5000000000000004, 2.4999999999999996,
              2.0**52 + 1.0, 2.0**53, 1e300, 5e-324]
    values += [n + 0.5 for n in range(200)]
    values += [rng.uniform(0.0, 10.0) for _ in range(5000)] + [rng.expovariate(1e-4) for _ in range(5000)]
    for v in values:
        assert round_count(v) == round(v) and type(round_count(v)) is int, v


def test_round_contribution_is_round_to_three_digits_memoised_or_not():
    rng = random.Random(5)
    values = [0.0, -0.0, 0.0005, 0.0015, 2.675, 1e-300] + [rng.randrange(1, 400) * rng.random() for _ in range(3000)]
    for v in values + values:  # the second pass reads what the first one memoised
        r = round_contribution(v)
        assert r == round(v, 3) and str(r) == str(round(v, 3)), v
