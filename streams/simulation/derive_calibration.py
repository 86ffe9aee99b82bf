"""Derive ``calibration.json`` from the real serving traces under ``/work/shared/data``.

The simulator must not read hundreds of CSV files on every run, so the figures it needs are reduced
once, here, to a small JSON file committed next to this script. The reduction is deterministic
(sorted file order, rounded numbers), so running it again gives the same bytes; a test checks that.

Run: ``python -m distillwatch.streams.simulation.derive_calibration [DATA_DIR] [OUT_JSON]``.

Sources (keep this attribution wherever these figures appear):

- ServeGen (Apache-2.0, Alibaba; arXiv 2505.09999): per-client 10-minute windows over 14 days of
  Alibaba Cloud Model Studio traffic -> per-client mean rates, active share of windows,
  window-to-window rate spread, inter-arrival CVs, hourly and daily shape.
- Azure LLM inference trace 2023 (CC-BY-4.0, Azure Public Dataset): token lengths of a
  conversation service and a coding service.
"""

from __future__ import annotations

import csv
import math
import statistics
import sys
from pathlib import Path

import orjson

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data"
DEFAULT_OUT = Path(__file__).with_name("calibration.json")
QUANTILE_POINTS = 101  # percentiles 0..100
SLOT_SECONDS = 600
STEADY_ACTIVE_SHARE = 0.9  # a client active in >= 90% of windows behaves like a backend


def _round(x: float) -> float:
    """Six significant digits: enough for sampling, and stable text in the committed JSON."""
    return float(f"{x:.6g}")


def quantiles(values: list[float], points: int = QUANTILE_POINTS) -> list[float]:
    """Inclusive, linearly interpolated quantiles at ``points`` evenly spaced probabilities."""
    v = sorted(values)
    out = []
    for i in range(points):
        pos = i * (len(v) - 1) / (points - 1)
        lo = int(pos)
        hi = min(lo + 1, len(v) - 1)
        out.append(_round(v[lo] + (v[hi] - v[lo]) * (pos - lo)))
    return out


def _client_traces(data_dir: Path) -> list[list[tuple[int, float, float]]]:
    """(timestamp, rate, cv) rows of every ServeGen language client, in sorted file order."""
    clients = []
    for path in sorted((data_dir / "servegen" / "language").glob("*/chunk-*-trace.csv")):
        with path.open(newline="") as f:
            rows = [(int(r[0]), float(r[1]), float(r[2])) for r in csv.reader(f) if r]
        clients.append(rows)
    return clients


def _servegen(data_dir: Path) -> dict:
    clients = _client_traces(data_dir)
    mean_rates, steady_rates, sparse_rates, active_shares, spreads, cvs = [], [], [], [], [], []
    hourly = [0.0] * 24
    daily: list[float] = []
    profiled = 0
    for rows in clients:
        rates = [r[1] for r in rows]
        mean = sum(rates) / len(rates)
        if mean <= 0:
            continue
        active = [r for r in rows if r[1] > 0]
        share = len(active) / len(rows)
        mean_rates.append(mean)
        active_shares.append(share)
        (steady_rates if share >= STEADY_ACTIVE_SHARE else sparse_rates).append(mean)
        active_mean = sum(r[1] for r in active) / len(active)
        if len(active) > 1:
            spreads.append(statistics.pstdev(math.log(r[1] / active_mean) for r in active))
        cvs.extend(r[2] for r in active if r[2] > 0)
        if share >= 0.2:  # hourly shape only from clients seen often enough to have one
            profiled += 1
            per_hour = [0.0] * 24
            per_day = [0.0] * (len(rows) * SLOT_SECONDS // 86400)
            for ts, rate, _ in rows:
                per_hour[(ts // 3600) % 24] += rate
                if ts // 86400 < len(per_day):
                    per_day[ts // 86400] += rate
            total = sum(per_hour)
            for h in range(24):
                hourly[h] += 24 * per_hour[h] / total
            if not daily:
                daily = [0.0] * len(per_day)
            for d, v in enumerate(per_day):
                daily[d] += len(per_day) * v / sum(per_day)
    return {
        "clients": len(mean_rates),
        "slot_seconds": SLOT_SECONDS,
        "mean_rate_per_s": quantiles(mean_rates),
        "steady_mean_rate_per_s": quantiles(steady_rates),
        "sparse_mean_rate_per_s": quantiles(sparse_rates),
        "active_window_share": quantiles(active_shares),
        "window_log_rate_sd": quantiles(spreads),
        "interarrival_cv": quantiles(cvs),
        "hourly_profile": [_round(h / profiled) for h in hourly],
        "daily_profile": [_round(d / profiled) for d in daily],
    }


def _azure(data_dir: Path, service: str) -> dict:
    path = data_dir / "azure-llm-2023" / f"AzureLLMInferenceTrace_{service}.csv"
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return {
        "requests": len(rows),
        "input_tokens": quantiles([float(r["ContextTokens"]) for r in rows]),
        "output_tokens": quantiles([float(r["GeneratedTokens"]) for r in rows]),
    }


def derive(data_dir: Path = DEFAULT_DATA_DIR) -> dict:
    """Every figure the simulator takes from the real traces, as one JSON-ready dict."""
    return {
        "attribution": {
            "servegen": "ServeGen, Alibaba Cloud Model Studio traces (Apache-2.0), arXiv 2505.09999",
            "azure": "Azure LLM inference trace 2023, Azure Public Dataset (CC-BY-4.0)",
        },
        "servegen": _servegen(data_dir),
        "azure": {"conv": _azure(data_dir, "conv"), "code": _azure(data_dir, "code")},
    }


def dump(calibration: dict) -> bytes:
    """The committed byte form: sorted keys, indented, trailing newline."""
    return orjson.dumps(calibration, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    data_dir = Path(argv[0]) if argv else DEFAULT_DATA_DIR
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    out.write_bytes(dump(derive(data_dir)))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
