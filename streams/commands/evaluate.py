"""``distillwatch evaluate``: recall, precision, time to detect and pages per day of an alert file."""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson

from distillwatch.streams.errors import UserError
from distillwatch.streams.simulation.evaluate import (
    SEVERITY_CHOICES,
    evaluate,
    format_table,
    format_verdicts,
    read_alerts,
    read_verdicts,
    verdict_precision,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score alerts (JSONL) against ground-truth labels (CSV)")
    p.add_argument("--labels", help="ground-truth CSV from simulate (optional with --verdicts)")
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
    p.add_argument("--verdicts", help="analysts' verdicts, JSON lines with dedup_key and verdict (as "
                   "`incidents list --all --format json` prints): precision of the paging incidents by verdict")
    p.add_argument("--json", dest="json_out", default=None, help="also write the report as JSON here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not (args.labels or args.verdicts):
        raise UserError("evaluate needs --labels (a simulated world's ground truth) or --verdicts (analysts' labels)")
    hints = {"--labels": "distillwatch simulate --labels writes one", "--alerts": "replay --alerts writes one",
             "--verdicts": "distillwatch incidents list --all --format json writes one"}
    for flag, path in (("--labels", args.labels), ("--alerts", args.alerts), ("--verdicts", args.verdicts)):
        if path and not Path(path).is_file():
            raise UserError(f"{flag} {path}: no such file ({hints[flag]})")
    report: dict = {}
    if args.labels:
        report = evaluate(args.labels, args.alerts, args.min_severity, world_days=args.world_days)
        print(format_table(report))
    if args.verdicts:
        try:
            verdicts = read_verdicts(args.verdicts)
        except ValueError as exc:
            raise UserError(f"--verdicts {exc}") from None
        report["verdicts"] = verdict_precision(read_alerts(args.alerts), verdicts)
        print(("\n" if args.labels else "") + format_verdicts(report["verdicts"]))
    if args.json_out:
        Path(args.json_out).write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    return 0
