"""The ``distillwatch`` console command.

Each subcommand lives in its own module under :mod:`streams.commands` and exposes
``register(subparsers)``; heavy imports (Faust, ClickHouse) happen inside the command so that
``distillwatch --help`` and ``replay`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "streams.commands.config",
    "streams.commands.replay",
    "streams.commands.simulate",
    "streams.commands.evaluate",
    "streams.commands.worker",
    "streams.commands.publish",
    "streams.commands.alerts",
    "streams.commands.notify",
    "streams.commands.query",
    "streams.commands.schema",
    "streams.commands.suppress",
    "streams.commands.incidents",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, one sub-parser per command module."""
    parser = argparse.ArgumentParser(
        prog="distillwatch",
        description="Detect distillation harvesting and access-limit evasion in LLM API request logs.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse arguments and run the chosen command; its return value is the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
