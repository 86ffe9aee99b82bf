"""The ClickHouse sink, migrations and connections on the real embedded engine (chdb)."""

from __future__ import annotations

from datetime import datetime

import orjson
import pytest
from clickhouse_connect.driver.exceptions import OperationalError

from distillwatch.streams.cli import main
from distillwatch.streams.clickhouse.client import connect
from distillwatch.streams.clickhouse.schema import apply_migrations, migration_status, migrations, split_statements
from distillwatch.streams.clickhouse.sink import BufferedSink, ClickHouseWriter, SinkError, open_sink

T0 = 1_770_681_600  # 2026-02-10 00:00:00 UTC


def minute_row(acc: str, m: int, requests: int = 10) -> tuple[str, dict]:
    return ("account_minute", {
        "account_id": acc, "minute": T0 + 60 * m, "requests": requests, "input_tokens": 100,
        "output_tokens": 900, "reasoning_tokens": 0, "rate_limited": 0, "saturated": 0, "cot_share": 0.25,
        "distinct_ips": 2, "distinct_asns": 1, "distinct_tls": 1, "distinct_routers": 0, "distinct_prompts": 3,
        "capability_mix": [0.0, 0, 4.0, 0, 0, 0, 0, 0], "score": 4.5, "volume_score": 1.0,
        "signature_score": 2.0, "peer_group": "new", "model": "m", "router_id": "", "asn": "64500",
        "ip_prefix": "10.0.0.0/24", "payment_fingerprint": "pay", "tls_fingerprint": "tls", "template": "t",
    })


ALERT = {
    "alert_id": "a1b2", "dedup_key": "distillwatch/account/acc-1", "kind": "account", "subject": "acc-1",
    "accounts": ["acc-1"], "accounts_total": 1, "severity": "error", "score": 12.25, "threshold": 9.0,
    "detected_at": "2026-02-10T00:06:00.000Z", "window_start": "2026-02-09T00:06:00.000Z",
    "window_end": "2026-02-10T00:06:00.000Z",
    "reasons": [{"code": "output_volume", "summary": "9,000 output tokens a minute", "value": 9000.0,
                 "baseline": 300.0}, {"code": "peer_group", "summary": "new", "value": "new", "baseline": None}],
    "evidence": {"requests": 1200, "rate_limited": 7, "sample_event_ids": ["e1", "e2"]},
    "links": [], "detector": "distillwatch/1.0",
}


@pytest.fixture()
def client(ch):
    """The module's database, emptied before each test."""
    for table in ("account_minute", "account_hour", "account_day", "cluster_minute", "cluster_member", "alerts"):
        ch.client.command(f"TRUNCATE TABLE {table}")
    return ch.client


def count(client, table: str, final: bool = False) -> int:
    return int(client.command(f"SELECT count() FROM {table}{' FINAL' if final else ''}"))


def hour_requests(client) -> int:
    return int(client.command("SELECT sum(requests) FROM account_hour"))


class AmbiguousFailures:
    """A real writer behind a flaky link: the insert lands, then the reply is lost ``n`` times."""

    def __init__(self, writer: ClickHouseWriter, n: int, land: bool = True) -> None:
        self.writer, self.n, self.land = writer, n, land

    def insert(self, table: str, rows: list[dict], token: str) -> None:
        if self.n:
            self.n -= 1
            if self.land:
                self.writer.insert(table, rows, token)
            raise OperationalError("connection reset by peer")
        self.writer.insert(table, rows, token)


def test_rows_of_every_kind_land_in_their_tables(client) -> None:
    sink = BufferedSink(ClickHouseWriter(client))
    sink.add([minute_row("acc-1", 0), ("alert", ALERT),
              ("cluster_member", {"cluster_id": "tls:x", "account_id": "acc-1", "snapshot_at": T0 + 60.0,
                                  "first_seen": T0 + 0.0, "last_seen": T0 + 60.0, "requests": 5,
                                  "output_tokens": 50, "signature_score": 3.5})])
    assert sink.flush() == 3
    row = client.query("SELECT account_id, minute, capability_mix, cot_share FROM account_minute").result_rows
    assert row == [("acc-1", datetime(2026, 2, 10), [0.0, 0, 4.0, 0, 0, 0, 0, 0], 0.25)]
    got = client.query("SELECT severity, detected_at, reason_codes, evidence_requests, evidence_rate_limited, "
                       "reasons FROM alerts").result_rows[0]
    # chdb drops the zone of UTC columns in its output: the value is UTC, the datetime naive
    assert got[:5] == ("error", datetime(2026, 2, 10, 0, 6), ["output_volume", "peer_group"], 1200, 7)
    assert orjson.loads(got[5]) == ALERT["reasons"]
    assert count(client, "cluster_member") == 1


def test_optional_alert_fields_in_some_rows_only_land_with_their_defaults(client) -> None:
    """Alert v1.1: ``accounts_added`` is on updates only and ``action`` may be absent (a trigger).
    A batch mixing such rows, whichever comes first, lands whole (the demo's stream sink once
    retried such a batch forever)."""
    update = {**ALERT, "alert_id": "u1", "action": "trigger", "accounts_added": ["acc-2", "acc-3"]}
    resolve = {**ALERT, "alert_id": "r1", "action": "resolve"}
    sink = BufferedSink(ClickHouseWriter(client))
    sink.add([("alert", update), ("alert", ALERT), ("alert", resolve)])
    assert sink.flush() == 3
    got = client.query("SELECT alert_id, action, accounts_added FROM alerts ORDER BY alert_id").result_rows
    assert got == [("a1b2", "trigger", []), ("r1", "resolve", []), ("u1", "trigger", ["acc-2", "acc-3"])]


def test_batches_by_size_and_keeps_the_rest_until_flushed(client) -> None:
    sink = BufferedSink(ClickHouseWriter(client), batch_rows=4)
    sink.write([minute_row("acc-1", m) for m in range(10)])
    assert (sink.counters.batches_written, count(client, "account_minute"), sink.buffered) == (2, 8, 2)
    sink.flush()
    assert (sink.counters.rows_written, count(client, "account_minute"), sink.buffered) == (10, 10, 0)


def test_retry_after_an_ambiguous_failure_writes_once(client) -> None:
    sleeps: list[float] = []
    sink = BufferedSink(AmbiguousFailures(ClickHouseWriter(client), 2), sleep=sleeps.append, backoff_s=0.1)
    sink.add([minute_row("acc-1", m, requests=7) for m in range(5)])
    sink.flush()
    assert (sink.counters.retries, sink.counters.rows_written, sleeps) == (2, 5, [0.1, 0.2])
    # not just under FINAL: the dedup token dropped the repeats, so the hourly roll-up is right too
    assert (count(client, "account_minute"), hour_requests(client)) == (5, 35)


def test_a_replayed_stream_does_not_double_the_rollups(client) -> None:
    rows = [minute_row(f"acc-{a}", m) for a in range(3) for m in range(50)]
    for _ in range(2):
        sink = BufferedSink(ClickHouseWriter(client), batch_rows=40)
        sink.write(rows)
        sink.flush()
    assert (count(client, "account_minute"), hour_requests(client)) == (150, 1500)
    assert int(client.command("SELECT sum(requests) FROM account_day")) == 1500


def test_exhausted_retries_keep_the_batch_for_the_next_flush(client) -> None:
    writer = AmbiguousFailures(ClickHouseWriter(client), 3, land=False)
    sink = BufferedSink(writer, max_retries=2, sleep=lambda s: None)
    sink.add([minute_row("acc-1", 0)])
    with pytest.raises(SinkError, match="connection reset"):
        sink.flush()
    assert (sink.counters.failed_flushes, sink.counters.retries, sink.buffered) == (1, 2, 1)
    assert sink.flush() == 1
    assert count(client, "account_minute") == 1


def test_errors_retrying_cannot_fix_fail_at_once(ch, client) -> None:
    empty = connect(ch.dsn, "t_sink_no_schema")  # schema never applied
    sink = BufferedSink(ClickHouseWriter(empty), sleep=lambda s: pytest.fail("retried"))
    sink.add([minute_row("acc-1", 0)])
    with pytest.raises(SinkError, match="schema apply"):
        sink.flush()
    assert (sink.counters.failed_flushes, sink.counters.retries, sink.buffered) == (1, 0, 1)
    sink.writer = ClickHouseWriter(client)  # the operator applied the schema
    assert sink.flush() == 1
    empty.command("DROP DATABASE t_sink_no_schema SYNC")


def test_unknown_row_kinds_are_counted_and_skipped(client) -> None:
    sink = BufferedSink(ClickHouseWriter(client))
    sink.add([("not_a_table", {"x": 1}), minute_row("acc-1", 0)])
    assert (sink.flush(), sink.counters.unknown_rows) == (1, 1)


def test_open_sink_applies_the_schema_and_flushes_on_close(chdb_dsn: str) -> None:
    with open_sink(chdb_dsn, "t_sink_open") as sink:
        sink.write([minute_row("acc-1", 0), ("alert", ALERT)])
    client = connect(chdb_dsn, "t_sink_open")
    assert (count(client, "account_minute"), count(client, "alerts")) == (1, 1)
    client.command("DROP DATABASE t_sink_open SYNC")


def test_migrations_are_recorded_and_upgrade_an_existing_database(ch, tmp_path) -> None:
    assert apply_migrations(ch.client, ch.database) == []
    assert all(s.applied_at and s.checksum_matches for s in migration_status(ch.client, ch.database))
    newer = tmp_path / "migrations"  # the shipped migrations (package data) plus a later one
    newer.mkdir()
    for m in migrations():
        (newer / f"{m.version:03d}_{m.name}.sql").write_text(m.sql)
    (newer / "999_add_note.sql").write_text(
        "-- a later release; statements stay idempotent\n"
        "ALTER TABLE alerts ADD COLUMN IF NOT EXISTS note String DEFAULT 'a;b';\n")
    assert [m.version for m in apply_migrations(ch.client, ch.database, newer)] == [999]
    assert apply_migrations(ch.client, ch.database, newer) == []
    assert int(ch.client.command("SELECT count() FROM system.columns WHERE database = currentDatabase() "
                                 "AND table = 'alerts' AND name = 'note'")) == 1
    ch.client.command("ALTER TABLE alerts DROP COLUMN note")
    ch.client.command("DELETE FROM schema_migrations WHERE version = 999")


def test_split_statements_respects_quotes_and_comments() -> None:
    sql = "-- a; comment\nCREATE TABLE a (x String DEFAULT ';') ENGINE = Memory;\n/* b; */ SELECT 'it''s; ok';\n"
    assert split_statements(sql) == [
        "CREATE TABLE a (x String DEFAULT ';') ENGINE = Memory", "SELECT 'it''s; ok'"]


def test_one_engine_path_per_process(ch, tmp_path) -> None:
    assert connect(ch.dsn, ch.database) is ch.client
    with pytest.raises(RuntimeError, match="one engine path per process"):
        connect(f"chdb://{tmp_path / 'other'}", "x")


def test_schema_and_query_commands(ch, client, capsys) -> None:
    sink = BufferedSink(ClickHouseWriter(client))
    sink.add([minute_row("acc-1", 0)])
    sink.flush()
    db = ["--clickhouse", ch.dsn, "--database", ch.database]
    assert main(["schema", "status", *db]) == 0
    assert "004_account_rollups" in capsys.readouterr().out
    assert main(["query", "top_accounts", "--param", "start=2026-02-10 00:00:00",
                 "--param", f"end={T0 + 3600}", "--format", "json", *db]) == 0
    out = orjson.loads(capsys.readouterr().out)
    assert (out["account_id"], out["peak_score"], out["requests"]) == ("acc-1", 4.5, 10)
    assert main(["query", "SELECT account_id, requests FROM account_minute", *db]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "account_id  requests", "----------  --------", "acc-1             10", "(1 row)"]
    assert main(["query", "top_accounts", *db]) == 2
    assert "needs start" in capsys.readouterr().err
