"""Calibration: the committed JSON reproduces from the traces; samplers and arrivals keep their rates."""

from __future__ import annotations

import random

import pytest

from distillwatch.streams.simulation import arrivals
from distillwatch.streams.simulation.calibration import CALIBRATION_PATH, Quantiles, load
from distillwatch.streams.simulation.derive_calibration import DEFAULT_DATA_DIR, derive, dump


@pytest.mark.skipif(not DEFAULT_DATA_DIR.exists(), reason="shared traces not available")
def test_committed_calibration_reproduces_from_the_traces():
    assert dump(derive(DEFAULT_DATA_DIR)) == CALIBRATION_PATH.read_bytes()


def test_calibration_has_the_shapes_the_simulator_needs():
    c = load()
    assert len(c["servegen"]["hourly_profile"]) == 24
    assert sum(c["servegen"]["hourly_profile"]) == pytest.approx(24, rel=1e-3)
    conv_out = c["azure"]["conv"]["output_tokens"]
    assert len(conv_out) == 101 and conv_out == sorted(conv_out)


def test_quantiles_interpolate_between_points():
    q = Quantiles([0.0, 10.0, 30.0])
    assert q.at(0.0) == 0.0 and q.at(1.0) == 30.0
    assert q.at(0.25) == pytest.approx(5.0) and q.at(0.75) == pytest.approx(20.0)


@pytest.mark.parametrize("cv, log_sd, active", [(1.0, 0.0, 1.0), (2.5, 1.0, 0.3)])
def test_arrivals_keep_the_long_run_rate(cv, log_sd, active):
    rng = random.Random(1)
    days = 20
    n = sum(
        1 for _ in arrivals.times(rng, 0, days * 86_400_000, 0.01, cv, log_sd=log_sd, active_share=active)
    )
    assert n == pytest.approx(0.01 * days * 86400, rel=0.15)


def test_arrivals_are_sorted_and_inside_the_span():
    ts = list(arrivals.times(random.Random(2), 1000, 7_200_000, 0.5, cv=3.0, shape=arrivals.diurnal(9)))
    assert ts == sorted(ts) and ts[0] >= 1000 and ts[-1] < 7_200_000


def test_diurnal_shape_follows_local_time():
    tokyo = arrivals.diurnal(9, weekly=False)
    assert tokyo(0) == load()["servegen"]["hourly_profile"][9]
