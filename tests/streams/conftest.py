"""Fixtures for tests on the real embedded ClickHouse engine (chdb).

chdb hosts one engine path per process, so the whole pytest session shares ONE directory and
every test module gets its own database in it (dropped afterwards). Tests in this package that
touch ClickHouse must use these fixtures rather than their own ``chdb:///`` path.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from clickhouse_connect.driver.client import Client

from distillwatch.streams.clickhouse.client import close_embedded, connect
from distillwatch.streams.clickhouse.schema import apply_migrations
from distillwatch.streams.replay import replay


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


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """A simulated stream with account and cluster alerts, and replay's alert_ids for it (4 and 4
    partitions, the defaults the pipeline tests run with)."""
    from distillwatch.streams.simulation.world import simulate

    tmp = tmp_path_factory.mktemp("recorded")
    path = tmp / "stream.jsonl"
    simulate(path, tmp / "labels.csv", seed=3, accounts=300, hours=4.0, bad_fraction=0.001)
    out = io.BytesIO()
    replay([str(path)], out, partitions=4, cluster_partitions=4)
    alerts = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert {a["kind"] for a in alerts} == {"account", "cluster", "campaign"}, "every stage should raise alerts"
    assert len(alerts) > 20, "the recorded stream should raise alerts to compare"
    return path, {a["alert_id"] for a in alerts}
