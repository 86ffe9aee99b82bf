"""The ``distillwatch`` console command.

Each subcommand lives in its own module under :mod:`distillwatch.streams.commands` and exposes
``register(subparsers)``; heavy imports (Faust, ClickHouse) happen inside the command so that
``distillwatch --help`` and ``replay`` start fast.

Errors a person meets print as one line (``distillwatch COMMAND: what to fix``), never as a
traceback unless ``--debug`` is given: a :class:`~distillwatch.streams.errors.UserError` exits 2 (1 when a
service is unreachable), a file that cannot be opened 2, anything unexpected 1.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import sys
from importlib.metadata import PackageNotFoundError, version

from distillwatch.streams.errors import UserError

COMMAND_MODULES = (
    "distillwatch.streams.commands.config",
    "distillwatch.streams.commands.replay",
    "distillwatch.streams.commands.simulate",
    "distillwatch.streams.commands.evaluate",
    "distillwatch.streams.commands.worker",
    "distillwatch.streams.commands.publish",
    "distillwatch.streams.commands.alerts",
    "distillwatch.streams.commands.notify",
    "distillwatch.streams.commands.query",
    "distillwatch.streams.commands.schema",
    "distillwatch.streams.commands.suppress",
    "distillwatch.streams.commands.incidents",
)


def package_version() -> str:
    """The installed distribution's version (pyproject.toml), not a copy kept in the code."""
    try:
        return version("distillwatch")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, one sub-parser per command module."""
    parser = argparse.ArgumentParser(
        prog="distillwatch",
        description="Detect distillation harvesting and access-limit evasion in LLM API request logs.",
    )
    parser.add_argument("--version", action="version", version=f"distillwatch {package_version()}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse arguments and run the chosen command; its return value is the exit code."""
    args = build_parser().parse_args(argv)
    if not args.debug and args.command != "worker":  # the worker logs; a command's error is one line
        logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if args.debug:
            raise
        code, message = _explain(exc)
        print(f"distillwatch {args.command}: {message}", file=sys.stderr)
        return code


def _explain(exc: Exception) -> tuple[int, str]:
    """Exit status and one line for an error that reached the top."""
    if isinstance(exc, UserError):
        return exc.exit_code, str(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        return 2, f"{exc.filename}: {exc.strerror or exc}"
    if type(exc).__name__ == "OperationalError" and type(exc).__module__.startswith("clickhouse_connect"):
        return 1, _clickhouse_unreachable(str(exc))
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return 1, f"{type(exc).__name__}: {first} (--debug shows the traceback)"


def _clickhouse_unreachable(text: str) -> str:
    """clickhouse-connect's connection error, a paragraph of urllib3 text, as the address and the reason."""
    where = re.search(r"\((https?://[^)\s]+)\)\s*$", text)
    why = re.search(r"\[Errno -?\d+\] ([^)'\"]+)", text) or re.search(r"(timed out|refused)", text)
    return (f"cannot reach ClickHouse at {where.group(1) if where else 'the DSN'} "
            f"({why.group(1).strip() if why else 'no answer'}); check DW_CLICKHOUSE_DSN or --clickhouse")


if __name__ == "__main__":
    sys.exit(main())
