"""Incidents not rows: the recorded stream's alerts grouped by dedup key, and people's actions
(ack, resolve, verdict) and suppression audit rows through the real sink into embedded ClickHouse."""

from __future__ import annotations

import io

import orjson

from distillwatch.streams.clickhouse.sink import open_sink
from distillwatch.streams.commands.incidents import ACTIONS_SQL
from distillwatch.streams.incidents import fold_actions, group, select
from distillwatch.streams.replay import replay


def _alerts(path) -> list[dict]:
    out = io.BytesIO()
    replay([str(path)], out, partitions=4, cluster_partitions=4)
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def test_alerts_group_into_one_incident_per_dedup_key(recorded):
    alerts = _alerts(recorded[0])
    incidents = group(alerts)
    assert len(incidents) == len({a["dedup_key"] for a in alerts}) < len(alerts)
    assert sum(len(i.alerts) for i in incidents) == len(alerts)
    paging = select(incidents)
    assert paging and all(i.pages and i.state == "open" for i in paging)
    assert len(paging) < len(incidents)  # warnings are left out by default
    grown = max(incidents, key=lambda i: i.growth)
    assert grown.kind in ("cluster", "campaign") and grown.growth > 0
    assert grown.members == grown.alerts[-1]["accounts_total"]
    member = grown.alerts[-1]["accounts"][0]
    assert grown in select(incidents, pages_only=False, search=member)


def test_actions_and_suppressions_reach_clickhouse_through_the_sink_and_fold_in(recorded, ch):
    incidents = group(_alerts(recorded[0]))
    first, second = select(incidents)[:2]
    rows = [
        ("incident_action", {"dedup_key": first.dedup_key, "action": "ack", "verdict": "", "note": "looking",
                             "who": "ana", "at": "2026-03-01T10:00:00.000Z"}),
        ("incident_action", {"dedup_key": first.dedup_key, "action": "verdict", "verdict": "true-positive",
                             "note": "harvester", "who": "ana", "at": "2026-03-01T10:05:00.000Z"}),
        ("incident_action", {"dedup_key": second.dedup_key, "action": "resolve", "verdict": "", "note": "partner",
                             "who": "bo", "at": "2026-03-01T10:06:00.000Z"}),
        ("suppression", {"action": "add", "attribute": "account", "value": "acct-1", "until": "2026-03-08T00:00:00Z",
                         "reason": "partner", "who": "bo", "at": "2026-03-01T10:07:00.000Z"}),
    ]
    with open_sink(ch.dsn, ch.database) as sink:
        sink.add(rows)
    actions = list(ch.client.query(ACTIONS_SQL).named_results())
    assert [(a["action"], a["who"]) for a in actions] == [("ack", "ana"), ("verdict", "ana"), ("resolve", "bo")]
    fold_actions(incidents, actions)
    assert (first.state, first.by, first.note, first.verdict) == ("acked", "ana", "looking", "true-positive")
    assert second.state == "resolved" and second not in select(incidents)
    audit = ch.client.query("SELECT action, attribute, value, who, toString(until) FROM suppressions").result_rows
    assert audit == [("add", "account", "acct-1", "bo", "2026-03-08 00:00:00.000")]


def test_tail_prints_one_block_per_incident_then_one_line_per_update(recorded):
    from distillwatch.streams.commands.alerts import IncidentText

    alerts = _alerts(recorded[0])
    view = IncidentText()
    out = [view.render(a) for a in alerts]
    blocks = [o for o in out if o.startswith("== incident ")]
    assert len(blocks) == len({a["dedup_key"] for a in alerts})
    updates = [o for o in out if not o.startswith("== incident ")]
    assert len(updates) == len(alerts) - len(blocks) and all("\n" not in u for u in updates)
    joined = next(a for i, a in enumerate(alerts) if a.get("accounts_added") and not out[i].startswith("=="))
    line = out[alerts.index(joined)]
    assert f"+{len(joined['accounts_added'])} accounts ({joined['accounts_added'][0]}" in line
    assert f"now {joined['accounts_total']} accounts" in line and joined["dedup_key"] in line


def test_evaluate_verdicts_reports_precision_of_paging_incidents(recorded, tmp_path, capsys):
    from distillwatch.streams.cli import main

    alerts = _alerts(recorded[0])
    paging = select(group(alerts))
    assert len(paging) >= 3
    alerts_file = tmp_path / "alerts.jsonl"
    alerts_file.write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in alerts))
    verdicts = tmp_path / "verdicts.jsonl"
    rows = [{**paging[0].summary(), "verdict": "true-positive"}, {"dedup_key": paging[1].dedup_key,
            "verdict": "true-positive"}, {"dedup_key": paging[2].dedup_key, "verdict": "false-positive"},
            {"dedup_key": "never-paged", "verdict": "false-positive"}]
    verdicts.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    assert main(["evaluate", "--alerts", str(alerts_file), "--verdicts", str(verdicts),
                 "--json", str(tmp_path / "r.json")]) == 0
    printed = capsys.readouterr().out
    report = orjson.loads((tmp_path / "r.json").read_bytes())["verdicts"]
    paged_keys = {a["dedup_key"] for a in alerts if a["severity"] in ("error", "critical") and
                  a.get("action") != "resolve"}
    assert report["incidents"] == len(paged_keys) and report["labelled"] == 3
    assert report["verdicts_not_paging"] == ["never-paged"]
    overall = report["groups"]["ALL PAGING INCIDENTS"]
    assert (overall["true-positive"], overall["false-positive"]) == (2, 1)
    assert overall["unlabelled"] == len(paged_keys) - 3 and overall["precision"] == round(2 / 3, 4)
    assert f"3 of {len(paged_keys)} paging incidents labelled" in printed
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"dedup_key": "x", "verdict": "maybe"}\n')
    assert main(["evaluate", "--alerts", str(alerts_file), "--verdicts", str(bad)]) == 2
    assert "verdict must be true-positive or false-positive" in capsys.readouterr().err
