"""Versioned schema migrations: ``migrations/NNN_description.sql`` in this package, applied in order.

The SQL ships inside the package (read with :mod:`importlib.resources`), so an installed wheel
applies the same schema as a checkout; a DBA still reviews plain ``.sql`` files. Applied versions
and their checksums are recorded in ``schema_migrations`` (migration 000).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from clickhouse_connect.driver.client import Client

MIGRATIONS: Traversable = files(__package__) / "migrations"


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


def migrations(directory: Traversable = MIGRATIONS) -> list[Migration]:
    """Every migration file in version order; a duplicate version is an error, not a tie."""
    found: dict[int, Migration] = {}
    for path in sorted((p for p in directory.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name):
        match = _MIGRATION_FILE.match(path.name)
        if not match:
            raise ValueError(f"{path.name}: migration files are named NNN_description.sql")
        version = int(match.group(1))
        if version in found:
            raise ValueError(f"{path.name}: version {version} is used twice")
        found[version] = Migration(version, match.group(2), path.read_text(encoding="utf-8"))
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


def apply_migrations(client: Client, database: str, directory: Traversable = MIGRATIONS) -> list[Migration]:
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


def migration_status(client: Client, database: str, directory: Traversable = MIGRATIONS) -> list[MigrationStatus]:
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
