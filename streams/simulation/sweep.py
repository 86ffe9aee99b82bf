"""Detection quality over several worlds: simulate, replay and evaluate each seed, then one table per
scenario and per benign population across the seeds.

    python -m distillwatch.streams.simulation.sweep --seeds 11,23,31 --accounts 300 --hours 24 [--json out.json]

One seed's numbers can flatter or punish a detector by chance; the spread across seeds is what a
change must move.
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path

import orjson

from distillwatch.streams.replay import replay
from distillwatch.streams.simulation.evaluate import evaluate
from distillwatch.streams.simulation.world import simulate

SCENARIO_COLUMNS = (  # (header, report key, width)
    ("accounts", "accounts", 9),
    ("recall", "recall", 8),
    ("ttd p50", "ttd_median_min", 9),
    ("ttd p90", "ttd_p90_min", 9),
    ("campaigns", "campaigns", 10),
    ("paged", "campaigns_paged", 6),
    ("inc/camp", "incidents_per_campaign_max", 9),
)
BENIGN_COLUMNS = (
    ("accounts", "accounts", 9),
    ("implicated", "implicated", 11),
    ("%", "implicated_pct", 7),
    ("false pages", "false_pages", 12),
    ("/week", "false_pages_per_week", 8),
)
OVERALL_COLUMNS = (
    ("recall", "recall", 8),
    ("pages/day", "pages_per_day", 10),
    ("incidents/day", "incidents_per_day", 14),
    ("notified/day", "notifications_per_day", 13),  # what a pager notifies: incidents opening or escalating
    ("campaigns", "active_campaigns", 10),
    ("benign impl.", "implicated_benign", 13),
)


def run_seed(seed: int, accounts: int, hours: float, workdir: Path) -> dict:
    """Simulate one world, replay the detector over it and evaluate its alerts."""
    events, labels, alerts = workdir / f"{seed}.jsonl", workdir / f"{seed}.csv", workdir / f"{seed}.alerts.jsonl"
    simulate(events, labels, seed=seed, accounts=accounts, hours=hours)
    with open(alerts, "wb") as out:
        replay([str(events)], out, io.BytesIO())
    return evaluate(labels, alerts, min_severity="error", world_days=hours / 24)


def sweep(seeds: list[int], accounts: int, hours: float, workdir: Path | None = None) -> dict[int, dict]:
    """seed -> evaluation report; files go to ``workdir`` (a temporary directory when None)."""
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        return {seed: run_seed(seed, accounts, hours, workdir) for seed in seeds}
    with tempfile.TemporaryDirectory(prefix="dw-sweep-") as tmp:
        return {seed: run_seed(seed, accounts, hours, Path(tmp)) for seed in seeds}


def _table(title: str, rows: list[tuple[str, dict]], columns: tuple) -> list[str]:
    head = f"{title:<14}" + "".join(f"{h:>{w}}" for h, _, w in columns)
    return [head] + [f"{name:<14}" + "".join(f"{_fmt(r.get(k)):>{w}}" for _, k, w in columns) for name, r in rows]


def format_sweep(reports: dict[int, dict]) -> str:
    """One small table per attack scenario, per benign population and overall, a row per seed."""
    lines: list[str] = []
    scenarios = sorted({s for r in reports.values() for s in r["scenarios"]})
    for scenario in scenarios:
        rows = [(f"seed {seed}", r["scenarios"].get(scenario, {})) for seed, r in reports.items()]
        lines += [f"== {scenario} (attack)", *_table("", rows, SCENARIO_COLUMNS), ""]
    populations = sorted({p for r in reports.values() for p in r["benign"]["populations"]})
    for population in populations:
        rows = [(f"seed {seed}", r["benign"]["populations"].get(population, {})) for seed, r in reports.items()]
        lines += [f"== {population} (benign)", *_table("", rows, BENIGN_COLUMNS), ""]
    rows = [(f"seed {seed}", r["overall"]) for seed, r in reports.items()]
    lines += ["== overall", *_table("", rows, OVERALL_COLUMNS)]
    return "\n".join(lines)


def _fmt(value: object) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m distillwatch.streams.simulation.sweep",
                                description=__doc__.split("\n")[0])
    p.add_argument("--seeds", default="11,23,31", help="comma-separated world seeds")
    p.add_argument("--accounts", type=int, default=300)
    p.add_argument("--hours", type=float, default=24.0)
    p.add_argument("--workdir", type=Path, default=None, help="keep worlds, labels and alerts here")
    p.add_argument("--json", dest="json_out", type=Path, default=None, help="also write {seed: report} here")
    args = p.parse_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        p.error(f"--seeds must be comma-separated integers, got {args.seeds!r}")
    reports = sweep(seeds, args.accounts, args.hours, args.workdir)
    print(format_sweep(reports))
    if args.json_out:
        args.json_out.write_bytes(orjson.dumps({str(k): v for k, v in reports.items()}, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
