"""Evaluation against hand-made labels and alerts with known recall, precision and time to detect."""

from __future__ import annotations

import orjson
import pytest

from distillwatch.streams.cli import main
from distillwatch.streams.simulation.evaluate import evaluate, percentile

LABELS = """account_id,label,scenario,attack_start
acct-a1,attack,hydra,2026-02-09T01:00:00.000Z
acct-a2,attack,hydra,2026-02-09T00:45:00.000Z
acct-a3,attack,hydra,2026-02-09T03:00:00.000Z
acct-a4,attack,bulk_harvest,2026-02-09T00:00:00Z
acct-b1,benign,chat_user,
acct-b2,benign,chat_user,
acct-b3,benign,nat_org,
acct-b4,benign,nat_org,
"""


def _alert(severity, detected_at, accounts, window_start=None):
    alert = {
        "kind": "cluster" if len(accounts) > 1 else "account",
        "subject": accounts[0],
        "dedup_key": f"k-{accounts[0]}",
        "severity": severity,
        "accounts": accounts,
        "accounts_total": len(accounts),
        "detected_at": detected_at,
    }
    if window_start:
        alert["window_start"] = window_start
    return alert


ALERTS = [
    _alert("critical", "2026-02-09T01:30:00.000Z", ["acct-a1", "acct-a2", "acct-b3"], "2026-02-09T00:30:00Z"),
    _alert("warning", "2026-02-09T00:10:00.000Z", ["acct-a4"]),
    _alert("error", "2026-02-09T03:00:00.000Z", ["acct-a1"]),
    _alert("error", "2026-02-09T04:00:00.000Z", ["acct-a4", "acct-zz"]),
    _alert("info", "2026-02-09T05:00:00.000Z", ["acct-b1"]),
]


@pytest.fixture
def files(tmp_path):
    labels, alerts = tmp_path / "labels.csv", tmp_path / "alerts.jsonl"
    labels.write_text(LABELS)
    alerts.write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in ALERTS) + b"\n")
    return labels, alerts


def test_per_scenario_recall_precision_and_time_to_detect(files):
    report = evaluate(*files)
    hydra = report["scenarios"]["hydra"]
    assert (hydra["accounts"], hydra["detected"], hydra["recall"]) == (3, 2, 0.6667)
    assert hydra["precision"] == 0.6667  # a1, a2 and the NAT account b3 in the alerts that catch hydra
    assert hydra["ttd_median_min"] == 37.5 and hydra["ttd_p90_min"] == 43.5
    bulk = report["scenarios"]["bulk_harvest"]
    assert (bulk["recall"], bulk["precision"], bulk["ttd_median_min"]) == (1.0, 1.0, 240.0)


def test_overall_numbers_and_benign_populations(files):
    report = evaluate(*files)
    o = report["overall"]
    assert (o["attack_accounts"], o["detected"], o["recall"]) == (4, 3, 0.75)
    assert (o["implicated"], o["implicated_benign"], o["implicated_unlabelled"], o["precision"]) == (
        5,
        1,
        1,
        0.75,
    )
    assert (o["ttd_median_min"], o["ttd_p90_min"]) == (45.0, 201.0)
    b = report["benign"]
    assert (b["accounts"], b["implicated"], b["implicated_pct"]) == (4, 1, 25.0)
    assert b["populations"]["nat_org"]["implicated_pct"] == 50.0
    assert b["populations"]["chat_user"]["implicated"] == 0


def test_pages_per_day_from_the_span_or_given_days(files):
    report = evaluate(*files)
    assert report["overall"]["pages"] == 3
    assert report["world_days"] == pytest.approx(5 / 24, abs=1e-4)
    assert report["overall"]["pages_per_day"] == 14.4
    assert evaluate(*files, world_days=2)["overall"]["pages_per_day"] == 1.5


def test_lower_min_severity_counts_warnings_and_info(files):
    warning = evaluate(*files, min_severity="warning")
    assert warning["scenarios"]["bulk_harvest"]["ttd_median_min"] == 10.0
    assert warning["benign"]["implicated"] == 1
    assert evaluate(*files, min_severity="info")["benign"]["implicated"] == 2
    assert evaluate(*files, min_severity="critical")["overall"]["detected"] == 2


def test_no_alerts_means_zero_recall_and_no_precision(tmp_path, files):
    empty = tmp_path / "none.jsonl"
    empty.write_text("")
    report = evaluate(files[0], empty)
    assert report["overall"]["recall"] == 0.0 and report["overall"]["precision"] is None
    assert report["scenarios"]["hydra"]["ttd_median_min"] is None


def test_percentile_interpolates_between_ranks():
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([10], 0.9) == 10
    assert percentile([], 0.5) is None


def test_command_prints_a_table_and_writes_json(files, tmp_path, capsys):
    out = tmp_path / "report.json"
    rc = main(["evaluate", "--labels", str(files[0]), "--alerts", str(files[1]), "--json", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "hydra" in printed and "ALL BENIGN" in printed
    assert orjson.loads(out.read_bytes())["overall"]["recall"] == 0.75


CAMPAIGN_LABELS = """account_id,label,scenario,attack_start
acct-h1,attack,hydra,2026-02-09T00:00:00.000Z
acct-h2,attack,hydra,2026-02-09T00:00:00.000Z
acct-h3,attack,hydra,2026-02-09T00:00:00.000Z
acct-l1,attack,lone_harvester,2026-02-09T00:00:00.000Z
acct-l2,attack,lone_harvester,2026-02-09T00:00:00.000Z
acct-t1,benign,tutoring_app,
acct-c1,benign,ci_fleet,
acct-c2,benign,ci_fleet,
"""


def _page(key, detected_at, accounts, added=(), severity="error", action=None):
    alert = {"dedup_key": key, "severity": severity, "accounts": accounts, "detected_at": detected_at}
    if added:
        alert["accounts_added"] = list(added)
    if action:
        alert["action"] = action
    return alert


CAMPAIGN_ALERTS = [
    _page("campaign:1", "2026-02-09T01:00:00Z", ["acct-h1", "acct-h2"]),
    _page("campaign:1", "2026-02-09T02:00:00Z", ["acct-h1", "acct-h2"], added=["acct-h3"]),  # an update
    _page("tls:x", "2026-02-09T03:00:00Z", ["acct-h1", "acct-h3", "acct-t1"]),  # a second incident
    _page("campaign:1", "2026-02-09T05:00:00Z", ["acct-h1", "acct-h2", "acct-h3"], action="resolve"),
    _page("acct-l1", "2026-02-09T00:30:00Z", ["acct-l1"]),
    _page("acct-t1", "2026-02-09T04:00:00Z", ["acct-t1"]),  # a false page
    _page("acct-t1", "2026-02-09T06:00:00Z", ["acct-t1"], severity="critical"),  # its escalation
    _page("ci", "2026-02-09T07:00:00Z", ["acct-c1", "acct-c2", "acct-l2"], severity="warning"),
]


@pytest.fixture
def campaign_files(tmp_path):
    labels, alerts = tmp_path / "labels.csv", tmp_path / "alerts.jsonl"
    labels.write_text(CAMPAIGN_LABELS)
    alerts.write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in CAMPAIGN_ALERTS))
    return labels, alerts


def test_accounts_added_are_named_and_resolves_do_not_page(campaign_files):
    report = evaluate(*campaign_files, world_days=1.0)
    hydra = report["scenarios"]["hydra"]
    assert (hydra["detected"], hydra["recall"], hydra["ttd_p90_min"]) == (3, 1.0, 108.0)  # h3 by the update
    o = report["overall"]
    assert (o["pages"], o["incidents"]) == (6, 4)  # the resolve and the warning are not pages


def test_incidents_per_campaign_count_independent_accounts_apart(campaign_files):
    report = evaluate(*campaign_files, world_days=1.0)
    hydra, lone = report["scenarios"]["hydra"], report["scenarios"]["lone_harvester"]
    assert (hydra["campaigns"], hydra["campaigns_paged"], hydra["incidents_per_campaign_max"]) == (1, 1, 2)
    assert (lone["campaigns"], lone["campaigns_paged"], lone["incidents_per_campaign_max"]) == (2, 1, 1)
    o = report["overall"]
    assert (o["active_campaigns"], o["campaigns_paged"], o["incidents_per_campaign_mean"]) == (3, 2, 1.5)
    assert evaluate(*campaign_files, independent=())["scenarios"]["lone_harvester"]["campaigns"] == 1


def test_false_pages_per_week_are_charged_to_the_benign_population(campaign_files):
    b = evaluate(*campaign_files, world_days=1.0)["benign"]
    assert (b["false_pages"], b["false_pages_per_week"]) == (2, 14.0)
    assert b["populations"]["tutoring_app"]["false_pages"] == 2
    assert b["populations"]["ci_fleet"]["false_pages"] == 0  # its alert is only a warning
    assert evaluate(*campaign_files, world_days=14.0)["benign"]["false_pages_per_week"] == 1.0
