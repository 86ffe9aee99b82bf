"""Worker logging: one line per event, as text or JSON (``DW_LOG_FORMAT=text|json``), never
colour codes or a spinner where the output is not a terminal (a file, journald, a collector).

Faust configures logging through ``logging.config.dictConfig``; :func:`logging_config` is the
dictionary it gets, replacing its coloured console handler.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson

from distillwatch.streams.errors import UserError

FORMATS = ("text", "json")


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    return formatter.formatException(record.exc_info) if record.exc_info else (record.exc_text or "")


class OneLineFormatter(logging.Formatter):
    """``2026-02-09T12:00:00.123Z WARNING distillwatch.streams.agents.sink: message | traceback lines``."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{_utc(record.created)} {record.levelname} {record.name}: {record.getMessage()}"
        exc = _exception_text(self, record)
        return f"{text} | {exc}".replace("\n", " | ") if exc else text.replace("\n", " | ")


class JsonFormatter(logging.Formatter):
    """``{"ts": ..., "level": ..., "logger": ..., "message": ..., "exception": ...}`` a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": _utc(record.created), "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        exc = _exception_text(self, record)
        if exc:
            entry["exception"] = exc
        return orjson.dumps(entry, default=str).decode()


def _utc(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def logging_config(fmt: str, level: str) -> dict:
    """The ``dictConfig`` for ``fmt`` (``text`` or ``json``) at ``level``, to standard error."""
    if fmt not in FORMATS:
        raise UserError(f"DW_LOG_FORMAT={fmt!r}: use one of {', '.join(FORMATS)}")
    formatter = JsonFormatter if fmt == "json" else OneLineFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {"line": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stderr"}},
        "root": {"level": level.upper(), "handlers": ["line"]},
    }


def interactive(fmt: str) -> bool:
    """Whether decorations (Faust's banner and spinner) may be shown: text logs to a terminal."""
    return fmt == "text" and sys.stderr.isatty() and sys.stdout.isatty()
