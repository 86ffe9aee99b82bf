"""Connections: one DSN form for both engines, and one embedded engine per process.

``chdb:///path`` opens the embedded engine (chdb) in this process, ``http(s)://user:pass@host:8123``
a server.

chdb hosts ONE engine path per process: a second client on the same path shares the engine, but
opening a different path while any client is open fails, and a directory open in one process
cannot be opened by another (measured on chdb 4.4 / ClickHouse 26.9).
:func:`connect` therefore keeps one client per (embedded path, database) for the whole process and
refuses a second path with a clear message; :func:`close_embedded` releases them.
"""

from __future__ import annotations

import os
import threading
from urllib.parse import urlparse

import clickhouse_connect
from clickhouse_connect.driver.binding import quote_identifier
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ProgrammingError

from streams.errors import UserError

_embedded: dict[tuple[str, str], Client] = {}
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
    key = (_embedded_path(dsn), database)
    with _embedded_lock:
        client = _embedded.get(key)
        if client is not None:
            return client
        other = {path for path, _ in _embedded if path != key[0]}
        if other:
            raise RuntimeError(
                f"chdb hosts one engine path per process: {other.pop()} is open, so {key[0]} cannot be; "
                "use one path with several databases, or call close_embedded() first"
            )
        try:
            client = _embedded[key] = _open(dsn, database)
        except ProgrammingError as exc:
            raise RuntimeError(
                f"cannot open the embedded ClickHouse at {key[0]}: {exc}. A chdb directory is held by one "
                "process at a time (is the worker running on it?)"
            ) from exc
        return client


DSN_SCHEMES = ("chdb", "http", "https")


def check_dsn(dsn: str) -> None:
    """A DSN of another scheme is a mistake to name (clickhouse-connect would take ``foo://`` as
    HTTP and fail later with a connection error about the wrong thing)."""
    parsed = urlparse(dsn)
    if parsed.scheme not in DSN_SCHEMES:
        shown = parsed._replace(netloc=parsed.netloc.rpartition("@")[2]).geturl()  # no password in messages
        raise UserError(f"ClickHouse DSN {shown!r}: use chdb:///path (embedded) or http(s)://user:pass@host:8123")


def _open(dsn: str, database: str) -> Client:
    client = clickhouse_connect.get_client(dsn=dsn)
    client.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(database)}")
    client.database = database
    return client


def close_embedded() -> None:
    """Close every shared embedded client, so that the process may open another chdb path."""
    with _embedded_lock:
        for client in _embedded.values():
            client.close()
        _embedded.clear()
