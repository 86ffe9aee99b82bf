"""``distillwatch evaluate``: recall, precision, time to detect and pages per day of an alert file."""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson

from streams.errors import UserError
from streams.simulation.evaluate import SEVERITY_CHOICES, evaluate, format_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score alerts (JSONL) against ground-truth labels (CSV)")
    p.add_argument("--labels", required=True, help="ground-truth CSV from simulate")
    p.add_argument("--alerts", required=True, help="alerts JSONL (alert.md objects)")
    p.add_argument(
        "--min-severity",
        default="error",
        choices=SEVERITY_CHOICES,
        help="lowest severity that counts as a detection (default error: pages only)",
    )
    p.add_argument(
        "--world-days",
        type=float,
        default=None,
        help="length of the world in days for pages/day (default: span of labels and alerts)",
    )
    p.add_argument("--json", dest="json_out", default=None, help="also write the report as JSON here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for flag, path in (("--labels", args.labels), ("--alerts", args.alerts)):
        if not Path(path).is_file():
            hint = "distillwatch simulate --labels writes one" if flag == "--labels" else "replay --alerts writes one"
            raise UserError(f"{flag} {path}: no such file ({hint})")
    report = evaluate(args.labels, args.alerts, args.min_severity, world_days=args.world_days)
    print(format_table(report))
    if args.json_out:
        Path(args.json_out).write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    return 0
