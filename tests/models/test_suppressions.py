"""Suppressions in event time: a suppressed subject's paging trigger is emitted below paging."""

from __future__ import annotations

import pytest

from distillwatch.models.suppressions import Suppression, apply_suppressions, parse_line, suppressed_by, table_of

T = 1_770_681_600.0  # 2026-02-10T00:00:00Z


def alert(kind: str, subject: str, severity: str = "critical", accounts: tuple[str, ...] = ("a1",),
          action: str = "trigger") -> dict:
    return {"alert_id": "x1", "kind": kind, "subject": subject, "severity": severity, "action": action,
            "accounts": list(accounts), "accounts_total": len(accounts)}


TABLE = table_of([
    parse_line('{"attribute": "account", "value": "a1", "until": "2026-02-10T06:00:00Z", "reason": "QA load test"}'),
    parse_line(b'{"attribute": "payment", "value": "pay-9", "until": "2026-02-11T00:00:00Z", "reason": "reseller"}'),
    Suppression("account", "a2", T + 3600, "partner"),
])


def test_a_suppressed_account_logs_below_paging_while_the_suppression_lasts() -> None:
    before_end = apply_suppressions(alert("account", "a1"), TABLE, T + 6 * 3600 - 1)
    assert before_end["severity"] == "warning" and before_end["alert_id"] == "x1"
    assert apply_suppressions(alert("account", "a1"), TABLE, T + 6 * 3600)["severity"] == "critical"  # expired
    assert apply_suppressions(alert("account", "b7"), TABLE, T)["severity"] == "critical"


def test_clusters_match_by_subject_or_when_every_member_is_suppressed() -> None:
    assert apply_suppressions(alert("cluster", "payment:pay-9", "error"), TABLE, T)["severity"] == "warning"
    both = alert("cluster", "tls:t1", accounts=("a1", "a2"))
    assert suppressed_by(both, TABLE, T).value == "a1"
    assert apply_suppressions(both, TABLE, T + 3600)["severity"] == "critical"  # a2's ended
    assert apply_suppressions(alert("cluster", "tls:t1", accounts=("a1", "b7")), TABLE, T)["severity"] == "critical"


@pytest.mark.parametrize("kept", [alert("account", "a1", "warning"), alert("account", "a1", action="resolve"),
                                  alert("campaign", "c1", accounts=("a1", "b7"))])
def test_non_paging_alerts_resolves_and_partly_suppressed_campaigns_pass_unchanged(kept: dict) -> None:
    assert apply_suppressions(kept, TABLE, T) is kept


def test_a_campaign_of_suppressed_accounts_only_does_not_page() -> None:
    assert apply_suppressions(alert("campaign", "c1"), TABLE, T)["severity"] == "warning"


def test_the_later_end_wins_and_bad_lines_say_why() -> None:
    table = table_of([Suppression("account", "a", T + 10, ""), Suppression("account", "a", T + 5, "")])
    assert table["account:a"].until == T + 10
    for line, why in [('{"attribute": "asn", "value": "1", "until": "2026-02-10T00:00:00Z"}', "attribute"),
                      ('{"attribute": "account", "value": "", "until": "2026-02-10T00:00:00Z"}', "value"),
                      ('{"attribute": "account", "value": "a"}', "until"), ("[1]", "JSON object")]:
        with pytest.raises(ValueError, match=why):
            parse_line(line)


def test_an_org_marked_legitimate_stops_paging_for_its_accounts() -> None:
    """The analysts' verdict closes the loop (issue 12): the account stage names the org of an
    account alert in its evidence, and an ``org`` suppression matches it."""
    import random

    from tests.models.test_account_sequential import _reasoner
    from tests.models.worlds import DAY, T0, background, run

    r = random.Random(5)
    start = T0 + 6 * 3600
    lab = _reasoner(r, "acct-lab", start, T0 + DAY, 300, 0.7, client_ip="198.51.100.9", org_id="org-lab",
                    account_created_at=T0 - 40 * DAY, verification="card", payment_fingerprint="pay-lab")
    pages = [a for a in run(background(r, 120) + lab) if a["subject"] == "acct-lab" and a["severity"] == "error"]
    assert pages and pages[0]["evidence"]["org"] == "org-lab"
    assert pages[0]["reasons"][0]["code"] == "sequential_evidence"
    marked = table_of([Suppression("org", "org-lab", T0 + 2 * DAY, "a partner lab: verified")])
    assert [apply_suppressions(a, marked)["severity"] for a in pages] == ["warning"] * len(pages)
    other = table_of([Suppression("org", "org-other", T0 + 2 * DAY, "")])
    assert apply_suppressions(pages[0], other)["severity"] == "error"
    no_org = {**pages[0], "evidence": {k: v for k, v in pages[0]["evidence"].items() if k != "org"}}
    assert apply_suppressions(no_org, marked)["severity"] == "error"
