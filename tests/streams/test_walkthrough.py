"""The README's walkthroughs, step by step, on the demo's data: investigating in ClickHouse, and
on-call (triage -> incident -> members -> suppress or escalate).

The demo's worker writes the same aggregates as replay (the pipeline parity tests hold the
processors to that), so the data here comes from replaying data/demo.jsonl.gz into the embedded
engine; every command is the one the README shows, run through the real CLI.
"""

import csv
import gzip
import io
from pathlib import Path

import orjson
import pytest

from distillwatch.streams.cli import main
from distillwatch.streams.clickhouse.sink import open_sink
from distillwatch.streams.incidents import group, select
from distillwatch.streams.replay import replay

DATA = Path(__file__).resolve().parents[2] / "data"
DAY = ["--param", "start=2026-02-09 00:00:00", "--param", "end=2026-02-10 00:00:00"]


@pytest.fixture(scope="module")
def demo_replay(ch, tmp_path_factory):
    out = tmp_path_factory.mktemp("walkthrough") / "alerts.jsonl"
    with open(out, "wb") as alerts, open_sink(ch.dsn, ch.database) as sink:
        replay([str(DATA / "demo.jsonl.gz")], alerts, None, rows_sink=sink.write)
    return ch, out


@pytest.fixture(scope="module")
def demo_db(demo_replay):
    return demo_replay[0]


@pytest.fixture(scope="module")
def incidents(demo_replay):
    """The demo's incidents, as `distillwatch incidents list` groups the alerts topic."""
    with open(demo_replay[1], "rb") as f:
        return group(orjson.loads(line) for line in f)


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


# -- On-call: triage -> incident -> members -> suppress or escalate (README "On-call") ----------------


def test_oncall_step1_triage_a_handful_of_incidents_not_rows(incidents):
    paging = select(incidents)
    assert 3 <= len(paging) <= 12
    assert sum(len(i.alerts) for i in incidents) > 5 * len(paging), "many alerts fold into few incidents"
    assert "campaign" in {i.kind for i in paging} and "cluster" not in {i.kind for i in paging}, (
        "one operation pages as one campaign; its clusters stay below paging")


def test_oncall_step2_the_incident_names_every_member_and_they_are_attackers(incidents, labels):
    top = max(select(incidents), key=lambda i: i.members)
    assert top.growth > 0 and len(top.accounts) >= top.members >= 20
    assert any(a.get("accounts_added") for a in top.alerts), "members that joined later are in its updates"
    attack = sum(labels[a]["label"] == "attack" for a in top.accounts)
    assert attack >= 0.95 * len(top.accounts)


def test_oncall_step3_members_in_clickhouse(query, incidents):
    top = max(select(incidents), key=lambda i: i.members)
    cluster = next(ln for ln in top.latest["links"] if ln["attribute"] == "payment")
    members = query("cluster_members", "--param", f"cluster_id=payment:{cluster['value']}")
    assert {m["account_id"] for m in members} <= set(top.accounts)


def test_oncall_step4_suppress_its_members_and_it_no_longer_pages_in_replay(incidents, tmp_path):
    """Were the operation a partner's load test: suppress its accounts, replay with the same
    suppressions (what the workers hold), and the incident's opening alert logs without paging."""
    partner = min(select(incidents), key=lambda i: i.opened_at)
    head = tmp_path / "head.jsonl"
    with gzip.open(DATA / "demo.jsonl.gz", "rb") as demo:
        head.write_bytes(b"".join(ln for ln in demo if orjson.loads(ln)["ts"] <= partner.opened_at))
    suppressions = tmp_path / "suppressions.jsonl"
    suppressions.write_bytes(b"".join(orjson.dumps({"attribute": "account", "value": a, "until": "2026-02-16T00:00:00Z",
                                                    "reason": "partner load test"}) + b"\n" for a in partner.accounts))
    plain, suppressed = tmp_path / "plain.jsonl", tmp_path / "suppressed.jsonl"
    assert main(["replay", str(head), "--alerts", str(plain)]) == 0
    assert main(["replay", str(head), "--alerts", str(suppressed), "--suppressions", str(suppressions)]) == 0
    first = partner.alerts[0]["alert_id"]
    opened = [[a for a in map(orjson.loads, f.read_bytes().splitlines()) if a["alert_id"] == first]
              for f in (plain, suppressed)]
    assert opened[0][0]["severity"] in ("error", "critical")
    assert opened[1][0]["severity"] == "warning", "the same alert (same id) logs below paging"


def test_oncall_step5_escalate_and_label_then_precision_by_verdict(incidents, demo_replay, labels, tmp_path):
    """Escalated (handed to trust & safety) incidents get a verdict; `evaluate --verdicts` reads
    them in the form `incidents list --all --format json` prints."""
    paging = select(incidents)
    verdicts = tmp_path / "verdicts.jsonl"
    verdicts.write_bytes(b"".join(orjson.dumps({**i.summary(), "verdict": "true-positive" if sum(
        labels[a]["label"] == "attack" for a in i.accounts) * 2 > len(i.accounts) else "false-positive"}) + b"\n"
        for i in paging))
    report = tmp_path / "report.json"
    assert main(["evaluate", "--alerts", str(demo_replay[1]), "--verdicts", str(verdicts), "--json", str(report)]) == 0
    overall = orjson.loads(report.read_bytes())["verdicts"]["groups"]["ALL PAGING INCIDENTS"]
    assert overall["true-positive"] == len(paging) and overall["precision"] == 1.0
