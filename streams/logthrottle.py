"""A bounded, rate-limited log for repeated warnings, e.g. while the Kafka broker is unreachable.

aiokafka logs every failed connection attempt of every client at ERROR: a 30 s broker outage wrote
~6,000 lines a second (19 MB). :class:`Throttle` lets the first record of a kind through, drops
repeats for ``every_s`` seconds, then lets one through with the count of what it dropped. A kind is
the logger and message template, so distinct problems still show at once."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

THROTTLED_LOGGERS = ("aiokafka", "kafka", "faust.transport", "mode")
MAX_KINDS = 1000  # memory bound: the table is reset when this many templates are tracked


class Throttle(logging.Filter):
    """One record per kind per ``every_s`` seconds (WARNING and above; quieter records pass)."""

    def __init__(self, every_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.every_s = every_s
        self.clock = clock
        self._kinds: dict[tuple[str, object], tuple[float, int]] = {}
        self.suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        kind = (record.name, record.msg)
        now = self.clock()
        shown_at, dropped = self._kinds.get(kind, (None, 0))
        if shown_at is not None and now - shown_at < self.every_s:
            self._kinds[kind] = (shown_at, dropped + 1)
            self.suppressed += 1
            return False
        if len(self._kinds) >= MAX_KINDS:
            self._kinds.clear()
        self._kinds[kind] = (now, 0)
        if dropped:
            record.msg = f"{record.msg} [{dropped} similar line(s) suppressed in the last {now - shown_at:.0f} s]"
        return True


def install(every_s: float = 10.0, loggers: tuple[str, ...] = THROTTLED_LOGGERS) -> Throttle:
    """Throttle the client libraries' loggers and their children (a logger's filter sees only its
    own records, so the filter goes on every handler of the root logger and on the named loggers)."""
    throttle = Throttle(every_s)
    names = set(loggers)

    class _Scoped(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return record.name.split(".", 1)[0] not in names or throttle.filter(record)

    scoped = _Scoped()
    for name in loggers:
        logging.getLogger(name).addFilter(throttle)
    for handler in logging.getLogger().handlers:
        handler.addFilter(scoped)
    return throttle


def throttle_worker_logs(app) -> None:
    """Install :func:`install` once the worker has set up logging (it replaces the root handlers
    at start), as a task of ``app``: one line in the worker command."""

    @app.task
    async def _install_log_throttle() -> None:
        install()
