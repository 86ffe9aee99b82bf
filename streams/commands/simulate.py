"""``distillwatch simulate``: write a labelled, calibrated request stream (see docs/simulation.md)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate", help="write a simulated request stream (.jsonl or .jsonl.gz) and its labels"
    )
    p.add_argument("--out", required=True, help="events file; gzip when it ends in .gz")
    p.add_argument(
        "--labels", required=True, help="ground-truth CSV (account_id,label,scenario,attack_start)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--accounts",
        type=int,
        default=300,
        help="benign accounts of the core mix; look-alike populations and attack campaigns scale with it",
    )
    span = p.add_mutually_exclusive_group()
    span.add_argument("--days", type=float, help="length of the world in days")
    span.add_argument("--hours", type=float, help="length of the world in hours (default 24)")
    p.add_argument("--start", default=None, help="RFC 3339 start of the world (default 2026-02-09T00:00:00Z)")
    p.add_argument(
        "--mix",
        default="",
        help="name=weight,... : benign population share of --accounts, or attack scenario scale (0 = off)",
    )
    p.add_argument(
        "--late-fraction", type=float, default=0.003, help="share of events delivered up to ~5 min late"
    )
    p.add_argument(
        "--bad-fraction", type=float, default=0.0, help="share of records replaced by invalid ones"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from distillwatch.streams.progress import Progress
    from distillwatch.streams.simulation.world import DEFAULT_START, parse_mix, simulate

    hours = args.days * 24 if args.days is not None else (args.hours if args.hours is not None else 24.0)
    with Progress("simulate", hours, "world-hours") as progress:
        summary = simulate(
            args.out,
            args.labels,
            seed=args.seed,
            accounts=args.accounts,
            hours=hours,
            start=args.start or DEFAULT_START,
            mix=parse_mix(args.mix),
            late_fraction=args.late_fraction,
            bad_fraction=args.bad_fraction,
            progress=progress.update,
        )
    print(
        f"wrote {summary['lines']} records to {args.out} ({summary['bad_records']} bad, "
        f"{summary['late_events']} late) in {summary['seconds']} s, {summary['events_per_second']}/s"
    )
    print(f"world {summary['start']} .. {summary['end']}, new model released {summary['new_model_release']}")
    print(f"{'population / scenario':<22}{'label':>8}{'accounts':>10}{'events':>10}")
    attack = set(summary["attack_scenarios"])
    for name, n in summary["accounts"].items():
        label = "attack" if name in attack else "benign"
        print(f"{name:<22}{label:>8}{n:>10}{summary['events'].get(name, 0):>10}")
    return 0
