"""One incident per operation when a pool's accounts are found one by one: an account that sent
harvest-like requests on a pool's private templates (a candidate) and then pages joins the pool,
whose incident pages for it; a card two harvest-like accounts share, seen before any pool holds
them, keeps its tie until the pool's template report joins the same accounts."""

from __future__ import annotations

from distillwatch.models.alerts import SEVERITY_RANK
from distillwatch.models.links import PoolMinute
from tests.models.test_campaigns import M0, Stage, report, verdict

POOL = "template:tpl-pool"
INFO = SEVERITY_RANK["info"]  # a silent campaign: it never pages on its own


def _fragment(st: Stage, minute: int = M0, pool: str = POOL, members: tuple[str, ...] = ("f1", "f2")) -> str:
    """A private template two harvest-like accounts share: a silent pool campaign; returns its id."""
    assert st.minute(minute, report(minute, pool, list(members), severity="info")) == []
    return st.proc.member_of[members[0]]


def _harvest(minute: int, accounts: list[str], pool: str = POOL) -> PoolMinute:
    """A minute of harvest-like requests on the pool's template, from accounts below the gate."""
    return PoolMinute(minute, pool, 2 * len(accounts), len(accounts), accounts, 0.15, accounts)


def test_a_candidates_page_is_its_pools_incident():
    st = Stage(update_every_s=0)
    pool = _fragment(st)
    st.minute(M0 + 1, _harvest(M0 + 1, ["c1", "c2", "c3"]))  # harvest-like work on the private template
    assert st.proc.campaigns[pool].candidates == {"c1": 1, "c2": 1, "c3": 1}
    out = st.minute(M0 + 2, verdict(M0 + 2, "c1", "error"), verdict(M0 + 2, "q", "error"))
    # c1 pages through the pool: one campaign incident naming the pool and c1 (its account alert is
    # kept below paging); q, no pool's candidate, pages as its own account
    assert [(a["kind"], a["subject"], a["severity"]) for a in out] == [
        ("account", "c1", "warning"), ("account", "q", "error"), ("campaign", pool, "error")]
    assert out[2]["accounts_added"] == ["c1", "f1", "f2"]
    assert st.proc.member_of["c1"] == pool and "q" not in st.proc.member_of
    # the next candidate's page folds into the same incident: an update, not a new incident
    later = st.minute(M0 + 20, verdict(M0 + 20, "c2", "error"))
    assert [(a["kind"], a["severity"], a.get("accounts_added")) for a in later] == [
        ("account", "warning", None), ("campaign", "error", ["c2"])]
    assert {a["dedup_key"] for a in later if a["kind"] == "campaign"} == {out[2]["dedup_key"]}


def test_a_candidates_warning_joins_nothing():
    st = Stage(update_every_s=0)
    pool = _fragment(st)
    st.minute(M0 + 1, _harvest(M0 + 1, ["c1"]))
    out = st.minute(M0 + 2, verdict(M0 + 2, "c1", "warning"))
    assert [(a["kind"], a["severity"]) for a in out] == [("account", "warning")]
    assert "c1" not in st.proc.member_of and st.proc.campaigns[pool].severity == INFO


def test_a_candidate_of_two_pools_joins_the_one_it_sent_most_to():
    st = Stage(update_every_s=0)
    first = _fragment(st, M0, "template:tpl-a", ("a1", "a2"))
    second = _fragment(st, M0 + 1, "template:tpl-b", ("b1", "b2"))
    st.minute(M0 + 2, _harvest(M0 + 2, ["c"], "template:tpl-a"), _harvest(M0 + 2, ["c"], "template:tpl-b"))
    st.minute(M0 + 3, _harvest(M0 + 3, ["c"], "template:tpl-b"))
    out = st.minute(M0 + 4, verdict(M0 + 4, "c", "error"))
    assert [(a["kind"], a["subject"]) for a in out] == [("account", "c"), ("campaign", second)]
    assert st.proc.member_of["c"] == second and st.proc.campaigns[first].severity == INFO


def test_a_card_seen_before_its_pool_ties_the_pool_when_it_comes():
    st = Stage(update_every_s=0)
    # the card's two harvest-like accounts link hours before the pool's template has five members
    assert st.minute(M0, report(M0, "payment:pay-1", ["s2", "s9"], severity="info")) == []
    out = st.minute(M0 + 300, report(M0 + 300, POOL, ["s1", "s2", "s3", "s4", "s5"], severity="warning"))
    # the pool's report joins the card's silent campaign through s2: two independent ties, one page
    assert [(a["kind"], a["action"], a["severity"]) for a in out] == [("campaign", "trigger", "error")]
    assert out[0]["accounts_added"] == ["s1", "s2", "s3", "s4", "s5", "s9"]
    assert {"attribute": "payment", "value": "pay-1", "accounts": 2} in out[0]["links"]
    assert len(st.proc.campaigns) == 1


def test_the_order_of_the_card_and_the_pool_does_not_matter():
    pool = ["s1", "s2", "s3", "s4", "s5"]
    card_first, pool_first = Stage(update_every_s=0), Stage(update_every_s=0)
    card_first.minute(M0, report(M0, "payment:pay-1", ["s2", "s9"], severity="info"))
    a = card_first.minute(M0 + 1, report(M0 + 1, POOL, pool, severity="warning"))
    pool_first.minute(M0, report(M0, POOL, pool, severity="warning"))
    b = pool_first.minute(M0 + 1, report(M0 + 1, "payment:pay-1", ["s2", "s9"], severity="info"))
    assert [x["accounts_added"] for x in a] == [x["accounts_added"] for x in b] == [[*pool, "s9"]]
