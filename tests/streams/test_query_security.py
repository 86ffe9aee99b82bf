"""Ad-hoc SQL is read-only, one statement at a time, within limits; secrets are never printed.

Measured on the real embedded engine: ``distillwatch query`` runs in-process on the session's
chdb directory, while the sink's writable client in the same process keeps writing.
"""

from __future__ import annotations

import shlex

import pytest

from distillwatch.streams.alerting.links import next_steps
from distillwatch.streams.cli import main
from distillwatch.streams.clickhouse.client import connect_readonly, single_statement
from distillwatch.streams.settings import load, mask_url


@pytest.fixture
def query(ch, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """``distillwatch query ARGS`` on the test database: (exit status, stdout, stderr)."""
    monkeypatch.setenv("DW_CLICKHOUSE_DSN", ch.dsn)
    monkeypatch.setenv("DW_CLICKHOUSE_DATABASE", ch.database)

    def run(*args: str) -> tuple[int, str, str]:
        status = main(["query", *args])
        out = capsys.readouterr()
        return status, out.out, out.err
    return run


@pytest.mark.parametrize("sql", [
    "DROP TABLE alerts",
    "CREATE TABLE stolen (a String) ENGINE = Memory",
    "INSERT INTO alerts (alert_id) VALUES ('x')",
    "SELECT * FROM file('/etc/passwd', 'LineAsString')",
    "SELECT * FROM url('http://127.0.0.1:9/', 'LineAsString')",
    "SET readonly = 0",
])
def test_writes_and_host_access_are_refused_with_a_clear_line(query, ch, sql: str) -> None:
    status, out, err = query(sql)
    assert status == 1 and out == ""
    assert "readonly mode" in err and "distillwatch schema apply" in err and err.count("\n") == 1
    tables = {r[0] for r in ch.client.query("SHOW TABLES").result_rows}
    assert "alerts" in tables and "stolen" not in tables


def test_multi_statement_input_is_refused_before_it_is_sent(query, ch) -> None:
    status, _, err = query("SELECT 1; DROP TABLE alerts")
    assert status == 2
    assert err == "distillwatch query: one SQL statement at a time: this input holds several (split at ';')\n"
    assert "alerts" in {r[0] for r in ch.client.query("SHOW TABLES").result_rows}


def test_reads_still_work_and_the_writer_stays_writable(query, ch) -> None:
    status, out, _ = query("SELECT count() AS n FROM alerts;", "--format", "csv")
    assert status == 0 and out.splitlines()[0] == "n"
    before = int(out.splitlines()[1])
    # the read-only session is a client of its own: the sink's client in this process still writes
    ch.client.command("INSERT INTO alerts (alert_id, dedup_key, kind, subject) VALUES ('a1', 'k', 'account', 's')")
    status, out, _ = query("SELECT count() AS n FROM alerts", "--format", "csv")
    assert int(out.splitlines()[1]) == before + 1


def test_the_row_limit_is_an_error_not_a_cut_answer(query, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DW_QUERY_MAX_ROWS", "1000")
    status, out, err = query("SELECT number FROM system.numbers LIMIT 5000")
    assert status == 1 and out == "" and "DW_QUERY_MAX_ROWS" in err
    status, out, _ = query("SELECT number FROM system.numbers LIMIT 1000", "--format", "csv")
    assert status == 0 and len(out.splitlines()) == 1001


def test_read_only_session_carries_the_limits(ch) -> None:
    client = connect_readonly(ch.dsn, ch.database, 7.0, 1234)
    row = client.query("SELECT getSetting('readonly'), getSetting('max_execution_time'), "
                       "getSetting('max_result_rows')").result_rows[0]
    assert row == (1, 7.0, 1234)


@pytest.mark.parametrize(("sql", "sent"), [
    ("SELECT 1", "SELECT 1"),
    ("SELECT 1;  \n", "SELECT 1"),
    ("SELECT ';' AS s -- trailing; comment", "SELECT ';' AS s -- trailing; comment"),
    ("SELECT 'it''s; fine', \"a;b\", `c;d` /* x; y */", "SELECT 'it''s; fine', \"a;b\", `c;d` /* x; y */"),
    ("SELECT 'a\\';b'", "SELECT 'a\\';b'"),
    ("SELECT 1; # done", "SELECT 1"),
])
def test_one_statement_passes(sql: str, sent: str) -> None:
    assert single_statement(sql) == sent


@pytest.mark.parametrize("sql", ["SELECT 1; SELECT 2", "SELECT 1;DROP TABLE alerts", "SELECT ';'; x",
                                 "SELECT 1 /* a */; /* b */ SELECT 2"])
def test_several_statements_fail(sql: str) -> None:
    with pytest.raises(ValueError, match="one SQL statement at a time"):
        single_statement(sql)


def test_config_masks_dsn_passwords_and_tokens(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("DW_CLICKHOUSE_DSN", "http://analyst:hunter2secret@ch.internal:8123/")
    monkeypatch.setenv("DW_WEB_TOKEN", "tok-abcdefgh-1234")
    monkeypatch.setenv("DW_ALERTMANAGER_URL", "https://am:p%40ss@am.internal/")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "hunter2secret" not in out and "p%40ss" not in out and "tok-abcdefgh" not in out
    assert "http://analyst:****@ch.internal:8123/" in out and "****1234" in out
    assert [r for r in load().describe() if r[0] == "effective_clickhouse_dsn"][0][2] == \
        "http://analyst:****@ch.internal:8123/"


@pytest.mark.parametrize(("text", "masked"), [
    ("http://u:pw@h:8123/db", "http://u:****@h:8123/db"),
    ("failed (https://u:a/b@c@h/) at x", "failed (https://u:****@c@h/) at x"),
    ("chdb:///var/dw/clickhouse", "chdb:///var/dw/clickhouse"),
    ("http://h:8123/path", "http://h:8123/path"),
])
def test_mask_url(text: str, masked: str) -> None:
    assert mask_url(text) == masked


def test_next_steps_quote_hostile_subjects_for_the_shell() -> None:
    hostile = "ip24:1.2.3.0/24'; touch /tmp/pwned; echo '"
    base = {"detected_at": "2026-02-09T07:00:00.000Z", "window_start": "2026-02-09T06:00:00.000Z"}
    for kind in ("account", "cluster", "campaign"):
        alert = {**base, "kind": kind, "subject": hostile, "dedup_key": f"distillwatch/{kind}/{hostile}"}
        for line in next_steps(alert):
            words = shlex.split(line)
            assert words[:3] == ["distillwatch", "query", words[2]] and ";" not in words[2]
            values = [w.partition("=")[2] for w in words[4::2]]
            assert hostile in values or f"distillwatch/{kind}/{hostile}" in values
