"""The README's investigation walkthrough, step by step, on the demo's data in ClickHouse.

The demo's worker writes the same aggregates as replay (the pipeline parity tests hold the
processors to that), so the data here comes from replaying data/demo.jsonl.gz into the embedded
engine; every command is the one the README shows, run through the real CLI.
"""

import csv
import io
from pathlib import Path

import orjson
import pytest

from streams.cli import main
from streams.clickhouse.sink import open_sink
from streams.replay import replay

DATA = Path(__file__).resolve().parents[2] / "data"
DAY = ["--param", "start=2026-02-09 00:00:00", "--param", "end=2026-02-10 00:00:00"]


@pytest.fixture(scope="module")
def demo_db(ch, tmp_path_factory):
    out = tmp_path_factory.mktemp("walkthrough") / "alerts.jsonl"
    with open(out, "wb") as alerts, open_sink(ch.dsn, ch.database) as sink:
        replay([str(DATA / "demo.jsonl.gz")], alerts, None, rows_sink=sink.write)
    return ch


@pytest.fixture(scope="module")
def labels():
    with open(DATA / "demo-labels.csv") as f:
        return {r["account_id"]: r for r in csv.DictReader(f)}


@pytest.fixture
def query(demo_db, capsys):
    def run(*args: str) -> list[dict]:
        capsys.readouterr()
        assert main(["query", *args, "--clickhouse", demo_db.dsn, "--database", demo_db.database,
                     "--format", "json"]) == 0
        return [orjson.loads(line) for line in io.StringIO(capsys.readouterr().out)]
    return run


def test_step1_what_paged_today(query):
    rows = query("alert_volume", *DAY)
    paging = {(r["severity"], r["kind"]): r for r in rows if r["severity"] in ("error", "critical")}
    # one operation pages as one campaign; clusters stay below paging (issue 11)
    assert paging[("error", "campaign")]["incidents"] >= 3
    assert not any(kind == "cluster" for _, kind in paging)
    assert sum(r["incidents"] for r in paging.values()) <= 12


def test_step2_top_clusters_are_campaigns(query, labels):
    top = query("top_clusters", *DAY, "--param", "limit=5")
    assert len(top) == 5
    for row in top:
        assert row["severity_at_peak"] in ("error", "critical")
        assert row["peak_members"] >= 10


def test_step3_members_of_the_top_payment_cluster_are_all_attackers(query, labels):
    top = query("top_clusters", *DAY, "--param", "limit=20")
    cluster = next(r["cluster_id"] for r in top if r["attribute"] == "payment")
    members = query("cluster_members", "--param", f"cluster_id={cluster}")
    assert len(members) >= 20
    assert {labels[m["account_id"]]["label"] for m in members} == {"attack"}


def test_step4_shared_links_reach_beyond_the_payment_method(query):
    top = query("top_clusters", *DAY, "--param", "limit=20")
    cluster = next(r["cluster_id"] for r in top if r["attribute"] == "payment")
    links = query("cluster_links", "--param", f"cluster_id={cluster}", *DAY)
    attributes = {r["attribute"] for r in links if not r["defines_cluster"]}
    assert "tls" in attributes  # the same client fingerprint ties the accounts together too
    assert max(r["members_sharing"] for r in links) >= 10


def test_step5_an_account_timeline_around_the_alert(query):
    top = query("top_clusters", *DAY, "--param", "limit=20")
    cluster = next(r["cluster_id"] for r in top if r["attribute"] == "payment")
    account = query("cluster_members", "--param", f"cluster_id={cluster}")[0]["account_id"]
    timeline = query("account_timeline", "--param", f"account_id={account}",
                     "--param", "at=2026-02-09 12:00:00", "--param", "minutes=720")
    assert timeline and sum(r["requests"] for r in timeline) >= 5
    assert max(r["harvest_score"] for r in timeline) >= 5


def test_step6_load_moved_after_throttling(query, labels):
    moves = query("throttle_evasion", *DAY)
    assert moves
    assert labels[moves[0]["sibling"]]["scenario"] == "rate_limit_sharding"
