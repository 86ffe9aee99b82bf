"""Suppressions end to end: `replay --suppressions FILE` (cli.md) keeps a suppressed account from
paging and changes nothing else; on the real broker, `distillwatch suppress add` makes the workers
do the same, and `suppress list --jsonl` is the file that gives replay the stream's alerts."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from distillwatch.streams.cli import main
from distillwatch.streams.replay import replay
from tests.streams import pipeline

DATA = Path(__file__).resolve().parents[2] / "data"
SMOKE_PAGER = "acct-df18e78decaa"  # the smoke stream's one paging alert, detected 2026-02-09T01:55Z


def _alerts(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _replay(tmp_path: Path, name: str, *extra: str) -> list[dict]:
    out = tmp_path / f"{name}.jsonl"
    assert main(["replay", str(DATA / "smoke.jsonl"), "--alerts", str(out), *extra]) == 0
    return _alerts(out)


def _suppressions(tmp_path: Path, until: str) -> str:
    path = tmp_path / "suppressions.jsonl"
    path.write_text(orjson.dumps({"attribute": "account", "value": SMOKE_PAGER, "until": until,
                                  "reason": "partner load test"}).decode() + "\n")
    return str(path)


def test_replay_with_a_suppressions_file_does_not_page_for_the_suppressed_account(tmp_path):
    plain = _replay(tmp_path, "plain")
    assert [(a["subject"], a["severity"]) for a in plain] == [(SMOKE_PAGER, "error")]
    quiet = _replay(tmp_path, "quiet", "--suppressions", _suppressions(tmp_path, "2026-02-10T00:00:00Z"))
    assert [(a["subject"], a["severity"]) for a in quiet] == [(SMOKE_PAGER, "warning")]  # it still logs
    assert [a["alert_id"] for a in quiet] == [a["alert_id"] for a in plain]


def test_a_suppression_that_ended_in_event_time_pages_again(tmp_path):
    ended = _replay(tmp_path, "ended", "--suppressions", _suppressions(tmp_path, "2026-02-09T01:00:00Z"))
    assert [a["severity"] for a in ended] == ["error"]


def test_a_bad_suppressions_line_names_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"attribute": "account", "value": "a1", "until": "2026-02-10T00:00:00Z"}\n{"attribute": "asn"}\n')
    assert main(["replay", str(DATA / "smoke.jsonl"), "--alerts", str(tmp_path / "a.jsonl"),
                 "--suppressions", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"distillwatch replay: {bad}:2: attribute must be one of account, org")


@pytest.mark.kafka
@pytest.mark.slow
def test_a_suppression_added_with_the_cli_stops_the_stream_paging_like_replay(
        kafka_bootstrap, topic_prefix, tmp_path, recorded):
    path, _ = recorded
    out = io.BytesIO()
    replay([str(path)], out, partitions=4, cluster_partitions=4)
    plain = [orjson.loads(line) for line in out.getvalue().splitlines()]
    paged = next(a for a in plain if a["kind"] == "account" and a["severity"] in ("error", "critical"))
    account = paged["subject"]
    env = pipeline.env(kafka_bootstrap, topic_prefix, tmp_path, DW_ANALYST="oncall-test")
    added = subprocess.run([pipeline.CLI, "suppress", "add", "--account", account, "--until", "2026-12-31T00:00:00Z",
                            "--reason", "known partner"], env=env, capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith(f"suppressed: account {account} does not page until 2026-12-31T00:00:00.000Z")
    listed = subprocess.run([pipeline.CLI, "suppress", "list", "--jsonl"], env=env, capture_output=True,
                            timeout=120, check=True).stdout
    file = tmp_path / "suppressions.jsonl"
    file.write_bytes(listed)
    assert [orjson.loads(line)["value"] for line in listed.splitlines()] == [account]

    expected_out = tmp_path / "expected.jsonl"
    assert main(["replay", str(path), "--alerts", str(expected_out), "--suppressions", str(file)]) == 0
    expected = {(a["alert_id"], a["severity"]) for a in _alerts(expected_out)}
    assert (paged["alert_id"], "warning") in expected

    pipeline.publish(env, path, batch=50)
    with pipeline.worker(env, tmp_path / "w.log"):
        # until every replay alert is there (a count alone can be reached early by a re-emitted duplicate)
        ids = {alert_id for alert_id, _ in expected}
        values = pipeline.read(kafka_bootstrap, env["DW_ALERTS_TOPIC"],
                               lambda vs: ids <= {orjson.loads(v)["alert_id"] for v in vs}, timeout=300)
    got = {(a["alert_id"], a["severity"]) for a in map(orjson.loads, values)}
    print(f"suppressed {account}: {len(got)} alerts on the topic, {len(expected)} from replay", file=sys.stderr)
    assert got == expected, f"missing {sorted(expected - got)[:5]}, extra {sorted(got - expected)[:5]}"
    assert not any(a["subject"] == account and a["severity"] in ("error", "critical")
                   for a in map(orjson.loads, values))
