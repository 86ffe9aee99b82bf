"""The errors a person can fix: :func:`distillwatch.streams.cli.main` prints them as one line, without a
traceback (``--debug`` shows it), and exits with their ``exit_code``."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can correct (a path, a name, a setting): exit status 2."""

    exit_code = 2


class Unreachable(UserError):
    """A service the command needs (Kafka, ClickHouse) does not answer: exit status 1, since
    the command line itself may be right and the service down."""

    exit_code = 1
