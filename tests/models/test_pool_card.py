"""Two independent ties: a prompt pool whose harvest-like accounts also share a card pages, whatever
its harvest share (an operation that hides its chain of thought); a card alone, a pool alone, or a
card no pool holds ties nothing and pages nothing."""

from __future__ import annotations

from distillwatch.models.alerts import SEVERITIES
from distillwatch.models.links import Degree, Link, PoolMinute
from tests.models.test_campaigns import M0, Stage, report
from tests.models.test_lockstep_pool import _close, _processor

POOL = "template:tpl-pool"
MEMBERS = ["s1", "s2", "s3", "s4", "s5"]


def _pool(st: Stage) -> list[dict]:
    """A private template of five harvest-like accounts: a pool, reported at warning (no page)."""
    return st.minute(M0, report(M0, POOL, MEMBERS, severity="warning"))


def test_a_pool_whose_accounts_share_a_card_pages_and_takes_in_its_templates_users():
    st = Stage(update_every_s=0)
    assert _pool(st) == [], "a pool alone does not page"
    # a card two harvest-like accounts share, one of them the pool's, the other not yet
    out = st.minute(M0 + 1, report(M0 + 1, "payment:pay-1", ["s2", "s9"], severity="info", share=0.75))
    assert [(a["kind"], a["action"], a["severity"]) for a in out] == [("campaign", "trigger", "error")]
    assert out[0]["accounts_added"] == [*MEMBERS, "s9"], "the card's other account joins"
    assert {"attribute": "pool_card", "value": "a prompt pool of 5 accounts, 2 of them on one card",
            "accounts": 6} in out[0]["links"]
    # at the harvest share of the population (the pool's harvest test is nowhere near passing), an
    # account that uses one of the pool's private templates joins at its first request there
    late = st.minute(M0 + 30, PoolMinute(M0 + 30, POOL, 3, 0, [], 0.15, ["s1", "u7"]))
    assert [(a["kind"], a["accounts_added"]) for a in late] == [("campaign", ["u7"])]
    assert st.proc.campaigns[out[0]["subject"]].harvest_nats == 0.0


def test_a_card_alone_pages_nothing_and_a_card_no_pool_holds_ties_nothing_to_it():
    st = Stage(update_every_s=0)
    assert st.minute(M0, report(M0, "payment:pay-1", ["a", "b"], severity="info")) == []
    # a card shared by two harvest-like accounts is no operation by itself: it founds a silent
    # campaign (it keeps the tie for a pool that may come later) and never pages
    assert [SEVERITIES[c.severity] for c in st.proc.campaigns.values()] == ["info"]
    _pool(st)
    assert st.minute(M0 + 1, report(M0 + 1, "payment:pay-2", ["x", "y"], severity="info")) == []
    assert all(st.proc.member_of[a] == st.proc.member_of["s1"] for a in MEMBERS)
    assert {st.proc.member_of[a] for a in "abxy"}.isdisjoint({st.proc.member_of["s1"]}), "not the pool's"
    assert {SEVERITIES[c.severity] for c in st.proc.campaigns.values()} == {"info", "warning"}, "no page"


def test_a_fragment_of_a_pool_with_a_card_stays_silent():
    st = Stage(update_every_s=0)
    # two to four accounts on a private template: a fragment, not yet a pool of five
    st.minute(M0, report(M0, POOL, ["s1", "s2", "s3"], severity="info"))
    assert st.minute(M0 + 1, report(M0 + 1, "payment:pay-1", ["s1", "s2"], severity="info")) == []
    assert sorted(st.proc.member_of) == ["s1", "s2", "s3"]


def _card_links(minute: int, card: str, accounts: list[str]) -> list[Link]:
    return [Link(minute, "payment", card, a, 1, 3000, 7.0, 0, 3, f"ev-{a}") for a in accounts]


def test_the_cluster_stage_reports_a_card_of_two_harvest_like_accounts_at_info_and_no_shared_card():
    proc = _processor()
    # three accounts pay with the card, two of them harvest-like (share 2/3 >= 0.53)
    users = [Degree(M0, "payment", "pay-1") for _ in range(3)]
    reports = _close(proc, M0, *users, *_card_links(M0, "pay-1", ["s1", "s2"]))
    assert [(r.cluster, r.severity, sorted(a for a, *_ in r.members)) for r in reports] == [
        ("payment:pay-1", "info", ["s1", "s2"])]
    assert [c.severity for c in proc.clusters.values()] == [0], "no cluster alert"
    proc.out.clear()
    # a family's or an office's card: two harvest-like accounts among five users is no tie
    users = [Degree(M0 + 1, "payment", "pay-2") for _ in range(5)]
    assert _close(proc, M0 + 1, *users, *_card_links(M0 + 1, "pay-2", ["h1", "h2"])) == []
