"""Every saved query (streams/clickhouse/queries) against the embedded engine on a small fixture.

The fixture is written twice through the sink, as a re-replayed stream would be: every answer
below, the roll-up's sums included, must count it once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from distillwatch.streams.clickhouse.saved_queries import run_saved_query, saved_queries
from distillwatch.streams.clickhouse.sink import BufferedSink, ClickHouseWriter

T0 = 1_770_681_600  # 2026-02-10 00:00:00 UTC
MIN = 60
DAY = 86_400


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC).replace(tzinfo=None)


def minute(acc: str, m: int, **kw: object) -> tuple[str, dict]:
    row = {
        "account_id": acc, "minute": T0 + m * MIN, "requests": 10, "input_tokens": 1000, "output_tokens": 5000,
        "reasoning_tokens": 0, "rate_limited": 0, "saturated": 0, "cot_share": 0.0, "distinct_ips": 1,
        "distinct_asns": 1, "distinct_tls": 1, "distinct_routers": 0, "distinct_prompts": 5,
        "capability_mix": [1.0, 0, 0, 0, 0, 0, 0, 0], "score": 1.0, "volume_score": 0.5, "signature_score": 0.5,
        "peer_group": "established", "model": "m-large", "router_id": "", "asn": "64500", "ip_prefix": "",
        "payment_fingerprint": "", "tls_fingerprint": "", "template": "",
    }
    row.update(kw)
    return ("account_minute", row)


def cluster(cid: str, m: int, members: int, score: float, severity: str) -> tuple[str, dict]:
    attr, _, value = cid.partition(":")
    return ("cluster_minute", {
        "cluster_id": cid, "attribute": attr, "value": value, "minute": float(T0 + m * MIN),
        "members_active": members, "members_total": members, "requests_day": 100.0 * members,
        "output_tokens_day": 1e5 * members, "new_members_hour": 1.0, "hub_share": 1.0, "young_share": 0.5,
        "sync": 2.0, "score": score, "severity": severity,
    })


def member(cid: str, acc: str, snapshot: int, requests: int, sig: float) -> tuple[str, dict]:
    return ("cluster_member", {
        "cluster_id": cid, "account_id": acc, "snapshot_at": float(T0 + snapshot), "first_seen": float(T0),
        "last_seen": float(T0 + snapshot), "requests": requests, "output_tokens": requests * 500,
        "signature_score": sig,
    })


def alert(kind: str, subject: str, severity: str, detected: int, accounts: list[str]) -> tuple[str, dict]:
    ts = datetime.fromtimestamp(T0 + detected, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return ("alert", {
        "alert_id": f"{subject}-{detected}", "dedup_key": f"distillwatch/{kind}/{subject}", "kind": kind,
        "subject": subject, "accounts": accounts, "accounts_total": len(accounts), "severity": severity,
        "score": 12.0, "threshold": 9.0, "detected_at": ts, "window_start": ts, "window_end": ts,
        "reasons": [{"code": "output_volume", "summary": "s", "value": 1.0, "baseline": 0.1}],
        "evidence": {"requests": 1000, "rate_limited": 3, "sample_event_ids": ["e1"]},
        "links": [], "detector": "distillwatch/1.0",
    })


def campaign_member(acc: str, joined: int, snapshot: int, via: str) -> tuple[str, dict]:
    return ("campaign_member", {
        "campaign_id": "cmp-1", "account_id": acc, "joined_at": float(T0 + joined),
        "snapshot_at": float(T0 + snapshot), "contribution": 10.0, "via": via,
    })


def fixture_rows() -> list[tuple[str, dict]]:
    h = {"payment_fingerprint": "pay-A", "tls_fingerprint": "tls-X", "asn": "64500"}
    rows = []
    for m in range(10):  # two linked harvesters and an ordinary account behind a router
        rows.append(minute("h1", m, requests=100, score=20.0 - 2 * abs(m - 5), ip_prefix="10.0.0.0/24",
                           template="tpl-h1", **h))
        rows.append(minute("h2", m, requests=80, score=10.0 + 0.5 * m, ip_prefix="10.0.1.0/24",
                           template="tpl-h2", **h))
        rows.append(minute("n1", m, requests=5, router_id="openrouter", asn="64501", payment_fingerprint="pay-N"))
    rows.append(minute("h1", DAY // MIN + 1, requests=7, score=2.0, **h))  # the next day
    for m in range(20, 40):  # t1 is throttled from minute 25; sibling s1 (same card) takes over
        t = {"payment_fingerprint": "pay-T", "asn": "64502"}
        if m < 30:
            rows.append(minute("t1", m, requests=50, rate_limited=12 if m >= 25 else 0, score=3.0,
                               tls_fingerprint="tls-T1", **t))
        rows.append(minute("s1", m, requests=2 if m < 25 else 20, score=2.0, tls_fingerprint="tls-S1", **t))
        rows.append(minute("b1", m, requests=10, score=0.5, tls_fingerprint="tls-T1", asn="64502"))
    for m in range(10):
        rows.append(cluster("payment:pay-A", m, 1 if m < 5 else 2, 5.0 + m, "error" if m >= 7 else "warning"))
        rows.append(cluster("tls:tls-X", m, 2, 3.0, "none"))
    rows.append(cluster("payment:pay-A", 70, 3, 16.0, "critical"))
    rows.append(member("payment:pay-A", "h1", 6 * MIN, 600, 5.0))
    rows += [member("payment:pay-A", "h1", 71 * MIN, 1000, 5.0), member("payment:pay-A", "h2", 71 * MIN, 800, 4.0)]
    rows += [
        alert("account", "h1", "error", 6 * MIN, ["h1"]),
        alert("account", "h2", "warning", 10 * MIN, ["h2"]),
        alert("cluster", "payment:pay-A", "critical", 71 * MIN, ["h1", "h2"]),
        alert("account", "h1", "critical", DAY + 2 * MIN, ["h1"]),
    ]
    rows += [campaign_member("h1", 6 * MIN, 7 * MIN, "payment:pay-A"),
             campaign_member("h2", 6 * MIN, 7 * MIN, "payment:pay-A"),
             campaign_member("h1", 6 * MIN, 71 * MIN, "account"),  # named again after a merge
             campaign_member("t1", 30 * MIN, 40 * MIN, "tls:tls-T1")]
    return rows


@pytest.fixture(scope="module")
def client(ch):
    for _ in range(2):  # a re-replay of the same stream
        sink = BufferedSink(ClickHouseWriter(ch.client), batch_rows=25)
        sink.write(fixture_rows())
        sink.flush()
    return ch.client


def run(client, name: str, **params: object) -> list[tuple]:
    return run_saved_query(client, name, params).result_rows


def test_every_saved_query_is_tested() -> None:
    tested = {n.removeprefix("test_") for n in globals() if n.startswith("test_")}
    assert set(saved_queries()) <= tested


def test_top_accounts(client) -> None:
    rows = run(client, "top_accounts", start=at(0), end=at(3600), limit=3)
    assert [(r[0], r[1], r[2], r[5]) for r in rows] == [
        ("h1", 20.0, at(5 * MIN), 1000), ("h2", 14.5, at(9 * MIN), 800), ("t1", 3.0, at(20 * MIN), 500)]


def test_top_clusters(client) -> None:
    rows = run(client, "top_clusters", start=at(0), end=at(2 * 3600))
    assert [(r[0], r[1], r[2], r[3], r[4], r[6]) for r in rows] == [
        ("payment:pay-A", "payment", 16.0, at(70 * MIN), 3, "critical"),
        ("tls:tls-X", "tls", 3.0, at(0), 2, "none"),
    ]


def test_account_timeline(client) -> None:
    rows = run(client, "account_timeline", account_id="h1", at=at(5 * MIN), minutes=2)
    assert [(r[0], r[6], r[12]) for r in rows] == [
        (at(3 * MIN), 16.0, ""), (at(4 * MIN), 18.0, ""), (at(5 * MIN), 20.0, "error"),
        (at(6 * MIN), 18.0, ""), (at(7 * MIN), 16.0, ""),
    ]


def test_cluster_members(client) -> None:
    rows = run(client, "cluster_members", cluster_id="payment:pay-A")
    assert [(r[0], r[1], r[4]) for r in rows] == [("h1", at(71 * MIN), 1000), ("h2", at(71 * MIN), 800)]


def test_campaign_members(client) -> None:
    rows = run(client, "campaign_members", campaign_id="cmp-1")
    assert rows == [("h1", at(6 * MIN), at(7 * MIN), 10.0, "payment:pay-A"),
                    ("h2", at(6 * MIN), at(7 * MIN), 10.0, "payment:pay-A"),
                    ("t1", at(30 * MIN), at(40 * MIN), 10.0, "tls:tls-T1")]


def test_cluster_links(client) -> None:
    rows = run(client, "cluster_links", cluster_id="payment:pay-A", start=at(0), end=at(3600))
    assert rows == [("payment", "pay-A", 2, 1800, True), ("tls", "tls-X", 2, 1800, False)]


def test_cluster_growth(client) -> None:
    rows = run(client, "cluster_growth", cluster_id="payment:pay-A", start=at(0), end=at(2 * 3600))
    assert [(r[0], r[1], r[5], r[6]) for r in rows] == [(at(0), 2, 14.0, "error"), (at(3600), 3, 16.0, "critical")]


def test_traffic_by_router(client) -> None:
    rows = run(client, "traffic_by_router", start=at(0), end=at(3600))
    assert [r[:3] + r[5:7] for r in rows] == [("", 5, 2810, 2, 1800), ("openrouter", 1, 50, 0, 0)]


def test_traffic_by_asn(client) -> None:
    rows = run(client, "traffic_by_asn", start=at(0), end=at(3600))
    assert [(r[0], r[1], r[3], r[6]) for r in rows] == [
        ("64500", 2, 1800, 2), ("64502", 3, 1010, 0), ("64501", 1, 50, 0)]


def test_throttle_evasion(client) -> None:
    rows = run(client, "throttle_evasion", start=at(20 * MIN), end=at(40 * MIN), window_minutes=5)
    assert rows == [("t1", at(25 * MIN), 60, "s1", ["payment:pay-T"], 10, 100)]


def test_alert_volume(client) -> None:
    rows = run(client, "alert_volume", start=at(0), end=at(2 * DAY))
    day1, day2 = date(2026, 2, 10), date(2026, 2, 11)
    assert rows == [
        (day1, "critical", "cluster", 1, 1, 2),
        (day1, "error", "account", 1, 1, 1),
        (day1, "warning", "account", 1, 1, 1),
        (day2, "critical", "account", 1, 1, 1),
    ]


def test_account_days(client) -> None:
    rows = run(client, "account_days", account_id="h1", start=at(0), end=at(3 * DAY))
    assert [r[:4] + (r[5], r[9], r[10]) for r in rows] == [
        (date(2026, 2, 10), 10, 1000, 50000, 20.0, 1, [1.0, 0, 0, 0, 0, 0, 0, 0]),
        (date(2026, 2, 11), 1, 7, 5000, 2.0, 0, [1.0, 0, 0, 0, 0, 0, 0, 0]),
    ]


def test_incident_alerts(client) -> None:
    rows = run(client, "incident_alerts", dedup_key="distillwatch/account/h1")
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        (at(6 * MIN), "account", "h1", "error", 1), (at(DAY + 2 * MIN), "account", "h1", "critical", 1)]


def test_missing_parameter_is_named(client) -> None:
    with pytest.raises(ValueError, match=r"needs end \(DateTime\('UTC'\)\)"):
        run(client, "top_accounts", start=at(0))
