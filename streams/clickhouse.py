"""ClickHouse access: connections, versioned migrations and saved investigation queries.

One DSN form reaches both engines: ``chdb:///path`` opens the embedded engine (chdb) in this
process, ``http(s)://user:pass@host:8123`` a server. The schema and the queries live as SQL under
``infra/clickhouse/`` so that a DBA reads and reviews them without Python.

chdb hosts ONE engine path per process: a second client on the same path shares the engine, but
opening a different path while any client is open fails, and a directory open in one process
cannot be opened by another (measured on chdb 4.4 / ClickHouse 26.9).
:func:`connect` therefore keeps one client per (embedded path, database) for the whole process and
refuses a second path with a clear message; :func:`close_embedded` releases them.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import clickhouse_connect
from clickhouse_connect.driver.binding import quote_identifier
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ProgrammingError
from clickhouse_connect.driver.query import QueryResult

from streams.settings import REPO_ROOT

SQL_DIR = REPO_ROOT / "infra" / "clickhouse"
MIGRATIONS_DIR = SQL_DIR / "migrations"
QUERIES_DIR = SQL_DIR / "queries"

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


# -- migrations ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    """One ``NNN_description.sql`` file: its version, name and statements."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def statements(self) -> list[str]:
        return split_statements(self.sql)


@dataclass(frozen=True)
class MigrationStatus:
    migration: Migration
    applied_at: str | None
    checksum_matches: bool


_MIGRATION_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


def migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file in version order; a duplicate version is an error, not a tie."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_FILE.match(path.name)
        if not match:
            raise ValueError(f"{path.name}: migration files are named NNN_description.sql")
        version = int(match.group(1))
        if version in found:
            raise ValueError(f"{path.name}: version {version} is used twice")
        found[version] = Migration(version, match.group(2), path.read_text())
    return [found[v] for v in sorted(found)]


def split_statements(sql: str) -> list[str]:
    """Split a script on ``;`` outside quotes and comments (ClickHouse runs one statement a call)."""
    statements, current = [], []
    i, n = 0, len(sql)
    quote = None
    while i < n:
        c = sql[i]
        if quote:
            current.append(c)
            if c == "\\" and i + 1 < n:
                current.append(sql[i + 1])
                i += 1
            elif c == quote:
                quote = None
        elif c in "'`\"":
            quote = c
            current.append(c)
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end
            continue
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        elif c == ";":
            statements.append("".join(current).strip())
            current = []
        else:
            current.append(c)
        i += 1
    statements.append("".join(current).strip())
    return [s for s in statements if s]


def _applied(client: Client) -> dict[int, tuple[str, str]]:
    rows = client.query(
        "SELECT version, checksum, toString(applied_at) FROM schema_migrations FINAL"
    ).result_rows
    return {int(v): (checksum, at) for v, checksum, at in rows}


def _check_database(client: Client, database: str) -> None:
    if client.database != database:
        raise ValueError(f"client is bound to database {client.database!r}, not {database!r}")


def apply_migrations(client: Client, database: str, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply, in order, every migration not yet recorded in ``schema_migrations``; returns them.

    Statements are written to be idempotent (``IF NOT EXISTS``), so a migration interrupted half
    way is simply run again; a version is recorded only after all its statements succeeded.
    """
    _check_database(client, database)
    todo = migrations(directory)
    for statement in todo[0].statements:  # the ledger itself: must exist before it is read
        client.command(statement)
    applied = _applied(client)
    done = []
    for migration in todo:
        if migration.version in applied:
            continue
        for statement in migration.statements:
            client.command(statement)
        client.insert(
            "schema_migrations", [[migration.version, migration.name, migration.checksum]],
            column_names=["version", "name", "checksum"],
        )
        done.append(migration)
    return done


def migration_status(client: Client, database: str, directory: Path = MIGRATIONS_DIR) -> list[MigrationStatus]:
    """Each migration file with when it was applied (``None``: pending) and whether it was edited since."""
    _check_database(client, database)
    exists = client.command(
        "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'schema_migrations'"
    )
    applied = _applied(client) if int(exists) else {}
    out = []
    for m in migrations(directory):
        checksum, at = applied.get(m.version, (None, None))
        out.append(MigrationStatus(m, at, checksum is None or checksum == m.checksum))
    return out


# -- saved queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str
    default: str | None
    doc: str


@dataclass(frozen=True)
class SavedQuery:
    """An investigation query from ``infra/clickhouse/queries``, its header parsed.

    The header declares each ``{name:Type}`` placeholder on a line
    ``-- @param name Type [= default] description``; the first comment lines describe the query.
    """

    name: str
    description: str
    params: tuple[QueryParam, ...]
    sql: str

    def bind(self, given: Mapping[str, object]) -> dict[str, object]:
        """The parameters to send: ``given`` plus declared defaults; unknown or missing names fail."""
        declared = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise ValueError(f"query {self.name} has no parameter {', '.join(unknown)}")
        values = {p.name: p.default for p in self.params if p.default is not None}
        values.update(given)
        missing = [p.name for p in self.params if p.name not in values]
        if missing:
            raise ValueError(f"query {self.name} needs " + ", ".join(
                f"{name} ({declared[name].type})" for name in missing))
        return values


_PARAM_LINE = re.compile(r"^--\s*@param\s+(\w+)\s+(\S+)(?:\s*=\s*(\S+))?\s*(.*)$")
_PLACEHOLDER = re.compile(r"\{(\w+):")
_QUERY_NAME = re.compile(r"^[a-z0-9_]+$")


def parse_saved_query(name: str, text: str) -> SavedQuery:
    """Read a saved query's header; every placeholder in the SQL must be declared there."""
    description, params = [], []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        match = _PARAM_LINE.match(line)
        if match:
            pname, ptype, default, doc = match.groups()
            params.append(QueryParam(pname, ptype, default, doc.strip()))
        elif not params:
            description.append(line.lstrip("-").strip())
    undeclared = set(_PLACEHOLDER.findall(text)) - {p.name for p in params}
    if undeclared:
        raise ValueError(f"query {name}: placeholders without @param: {', '.join(sorted(undeclared))}")
    return SavedQuery(name, " ".join(d for d in description if d), tuple(params), text)


def saved_queries(directory: Path = QUERIES_DIR) -> dict[str, SavedQuery]:
    """Every saved query by name (the file name without ``.sql``)."""
    return {p.stem: parse_saved_query(p.stem, p.read_text()) for p in sorted(directory.glob("*.sql"))}


def run_saved_query(client: Client, name: str, params: Mapping[str, object] | None = None,
                    directory: Path = QUERIES_DIR) -> QueryResult:
    """Run saved query ``name`` with server-side ``{name:Type}`` parameters (never string-formatted)."""
    path = directory / f"{name}.sql"
    if not _QUERY_NAME.match(name) or not path.is_file():
        raise KeyError(f"no saved query {name!r} in {directory}")
    query = parse_saved_query(name, path.read_text())
    return client.query(query.sql, parameters=query.bind(params or {}))
