"""Connections: one DSN form for both engines, and one embedded engine per process.

``chdb:///path`` opens the embedded engine (chdb) in this process, ``http(s)://user:pass@host:8123``
a server.

chdb hosts ONE engine path per process: a second client on the same path shares the engine, but
opening a different path while any client is open fails, and a directory open in one process
cannot be opened by another (measured on chdb 4.4 / ClickHouse 26.9).
:func:`connect` therefore keeps one client per (embedded path, database) for the whole process and
refuses a second path with a clear message; :func:`close_embedded` releases them.

Ad-hoc SQL (``distillwatch query``, the page, the worker's query endpoint) goes through
:func:`connect_readonly`: a separate client whose SESSION carries ``readonly=1`` and the time and
row limits, so nothing sent on it can write, change the schema, change those settings back, or
read the host through ``file()``/``url()`` (measured on chdb 4.4: all refused with READONLY).
:func:`single_statement` refuses multi-statement input before it is sent. ``schema apply`` and the
sink keep the writable :func:`connect`.
"""

from __future__ import annotations

import os
import threading
from urllib.parse import urlparse

import clickhouse_connect
from clickhouse_connect.driver.binding import quote_identifier
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError, ProgrammingError

from distillwatch.streams.errors import UserError

# (path, database, read-only session settings or ()) -> the process's shared client
_embedded: dict[tuple[str, str, tuple], Client] = {}
_embedded_lock = threading.Lock()


def _embedded_path(dsn: str) -> str:
    """The engine location a ``chdb:`` DSN names, normalised the way chdb compares paths."""
    parsed = urlparse(dsn)
    location = parsed.path if not parsed.netloc else parsed.netloc
    if location in ("", "memory", ":memory:"):
        return ":memory:"
    return os.path.realpath(location)


def connect(dsn: str, database: str) -> Client:
    """A client bound to ``database`` (created if missing) on the engine or server ``dsn`` names.

    Embedded clients are shared per (path, database) because chdb allows only one engine path per
    process; server clients are new each call (cheap, and independent sessions).
    """
    check_dsn(dsn)
    if not dsn.startswith("chdb:"):
        return _open(dsn, database)
    return _shared_embedded(dsn, database, readonly=None)


def connect_readonly(dsn: str, database: str, max_execution_s: float, max_rows: int) -> Client:
    """A client on which every statement runs read-only, within ``max_execution_s`` seconds and
    ``max_rows`` result rows (more is an error, never a silently cut answer).

    The settings are the session's own (``readonly`` last: once it is 1 no setting may change), on
    a client of its own, so the sink's writable client in the same process is untouched. The
    database is not created here: a read-only session cannot.
    """
    check_dsn(dsn)
    limits = readonly_settings(max_execution_s, max_rows)
    if not dsn.startswith("chdb:"):
        return _open(dsn, database, limits)
    return _shared_embedded(dsn, database, readonly=limits)


def connect_analyst(dsn: str, database: str, max_execution_s: float, max_rows: int, worker_url: str) -> Client:
    """The read-only client an analyst's tool uses: ``dsn`` itself, or, when ``dsn`` is an embedded
    directory a running worker holds ("Cannot lock file"), that worker's query endpoint at
    ``worker_url`` (:mod:`distillwatch.streams.web.chquery`), which serves the same database read-only."""
    try:
        return connect_readonly(dsn, database, max_execution_s, max_rows)
    except RuntimeError as held:
        if not dsn.startswith("chdb:"):
            raise
        try:
            return connect_readonly(worker_url, database, max_execution_s, max_rows)
        except (OSError, ClickHouseError) as exc:
            raise RuntimeError(f"{held}; and no worker query endpoint answers at {worker_url} "
                               f"({type(exc).__name__}): start the worker, or set DW_QUERY_URL") from None


DSN_SCHEMES = ("chdb", "http", "https")


def check_dsn(dsn: str) -> None:
    """A DSN of another scheme is a mistake to name (clickhouse-connect would take ``foo://`` as
    HTTP and fail later with a connection error about the wrong thing)."""
    parsed = urlparse(dsn)
    if parsed.scheme not in DSN_SCHEMES:
        shown = parsed._replace(netloc=parsed.netloc.rpartition("@")[2]).geturl()  # no password in messages
        raise UserError(f"ClickHouse DSN {shown!r}: use chdb:///path (embedded) or http(s)://user:pass@host:8123")


def readonly_settings(max_execution_s: float, max_rows: int) -> dict[str, object]:
    """The settings of an ad-hoc query session, ``readonly`` last (it forbids changing the others)."""
    return {"max_execution_time": max_execution_s, "max_result_rows": max_rows,
            "result_overflow_mode": "throw", "readonly": 1}


def _shared_embedded(dsn: str, database: str, readonly: dict[str, object] | None) -> Client:
    key = (_embedded_path(dsn), database, tuple((readonly or {}).items()))
    with _embedded_lock:
        client = _embedded.get(key)
        if client is not None:
            return client
        other = {path for path, _, _ in _embedded if path != key[0]}
        if other:
            raise RuntimeError(
                f"chdb hosts one engine path per process: {other.pop()} is open, so {key[0]} cannot be; "
                "use one path with several databases, or call close_embedded() first"
            )
        try:
            client = _embedded[key] = _open(dsn, database, readonly)
        except ProgrammingError as exc:
            raise RuntimeError(
                f"cannot open the embedded ClickHouse at {key[0]}: {exc}. A chdb directory is held by one "
                "process at a time (is the worker running on it?)"
            ) from exc
        return client


def _open(dsn: str, database: str, readonly: dict[str, object] | None = None) -> Client:
    if readonly is None:
        client = clickhouse_connect.get_client(dsn=dsn)
        client.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(database)}")
    elif dsn.startswith("chdb:"):
        client = clickhouse_connect.get_client(dsn=dsn, settings=readonly)
    else:
        client = clickhouse_connect.get_client(dsn=dsn)
        # a server that is read-only already (a worker's query endpoint, a readonly user) refuses
        # every setting, as ClickHouse does, and applies its own limits; any other gets ours
        if not client.query("SELECT getSetting('readonly')").result_rows[0][0]:
            client.close()
            client = clickhouse_connect.get_client(dsn=dsn, settings=readonly)
    client.database = database
    return client


def single_statement(sql: str) -> str:
    """``sql`` without a trailing ``;``, or ``ValueError`` when it holds more than one statement.

    Semicolons inside single, double or back quotes (backslash or doubled-quote escapes) and inside
    comments (``--``, ``#``, ``/* */``) do not end a statement.
    """
    i, n, end = 0, len(sql), None
    while i < n:
        c = sql[i]
        if c in "'\"`":
            i = _string_end(sql, i)
        elif sql.startswith("--", i) or c == "#":
            nl = sql.find("\n", i)
            i = n if nl < 0 else nl + 1
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif c == ";":
            if end is None:
                end = i
            i += 1
        else:
            if end is not None and not c.isspace():
                raise ValueError("one SQL statement at a time: this input holds several (split at ';')")
            i += 1
    return sql if end is None else sql[:end]


def _string_end(sql: str, start: int) -> int:
    """The index just after the quoted literal or identifier that opens at ``start``."""
    quote, i = sql[start], start + 1
    while i < len(sql):
        if sql[i] == "\\":
            i += 2
        elif sql[i] == quote:
            if sql.startswith(quote * 2, i):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return len(sql)


def close_embedded() -> None:
    """Close every shared embedded client, so that the process may open another chdb path."""
    with _embedded_lock:
        for client in _embedded.values():
            client.close()
        _embedded.clear()
