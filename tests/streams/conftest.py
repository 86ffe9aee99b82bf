"""Fixtures for tests on the real embedded ClickHouse engine (chdb).

chdb hosts one engine path per process, so the whole pytest session shares ONE directory and
every test module gets its own database in it (dropped afterwards). Tests in this package that
touch ClickHouse must use these fixtures rather than their own ``chdb:///`` path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from clickhouse_connect.driver.client import Client

from streams.clickhouse.client import close_embedded, connect
from streams.clickhouse.schema import apply_migrations


@dataclass(frozen=True)
class ClickHouseDB:
    dsn: str
    database: str
    client: Client


@pytest.fixture(scope="session")
def chdb_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's one embedded engine directory, as a DSN."""
    yield f"chdb://{tmp_path_factory.mktemp('chdb')}"
    close_embedded()


@pytest.fixture(scope="module")
def ch(request: pytest.FixtureRequest, chdb_dsn: str) -> Iterator[ClickHouseDB]:
    """A fresh database with every migration applied, private to the test module."""
    database = "t_" + re.sub(r"\W", "_", request.module.__name__.rsplit(".", 1)[-1])
    client = connect(chdb_dsn, database)
    apply_migrations(client, database)
    yield ClickHouseDB(chdb_dsn, database, client)
    client.command(f"DROP DATABASE IF EXISTS {database} SYNC")
