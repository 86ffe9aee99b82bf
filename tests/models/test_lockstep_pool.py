"""Prompt pools: an evasive operation's private templates, each tying only a few of its accounts,
report below paging and are joined into one campaign, which pages once when any member pages or
when its members' timing shows shared dispatcher rounds (lockstep). A framework's shared system
prompt (a hub: mostly ordinary users) never reports."""

from __future__ import annotations

import random

from distillwatch.models import lockstep
from distillwatch.models.alerts import SEVERITY_RANK
from distillwatch.models.campaign_state import M_VIA
from distillwatch.models.cluster_processor import ClusterProcessor
from distillwatch.models.links import Degree, Link, PoolMinute, Report, Watermark
from tests.models.test_campaigns import M0, Stage, report, verdict


def _processor() -> ClusterProcessor:
    """A cluster partition whose threshold adapted to a world's lone harvesters (~17, as measured)."""
    proc = ClusterProcessor(0, 1)
    for _ in range(200):
        proc.threshold.learn(17.0)
    return proc


def _close(proc: ClusterProcessor, minute: int, *msgs: Link | Degree) -> list[Report]:
    for msg in msgs:
        proc.receive(msg)
    proc.receive(Watermark(0, (minute + 1) * 60))
    return [m for m in proc.out if type(m) is Report]


def _links(minute: int, template: str, accounts: list[str], harvest: float = 7.0) -> list[Link]:
    return [Link(minute, "template", template, a, 1, 3000, harvest, 0, 3, f"ev-{a}") for a in accounts]


def test_a_private_template_of_harvest_like_accounts_reports_below_the_threshold():
    proc = _processor()
    reports = _close(proc, M0, *_links(M0, "band:0a1b", ["h1", "h2", "h3", "h4", "h5"]))
    assert [(r.cluster, r.severity, r.share) for r in reports] == [("template:band:0a1b", "warning", 1.0)]
    assert reports[0].score < proc.threshold.level, "the adaptive threshold alone would not report it"
    # each member carries its active 2-minute slots on the template, for the lockstep test
    assert sorted(reports[0].members) == [[a, 1 * 7.0, [M0 // 2]] for a in ["h1", "h2", "h3", "h4", "h5"]]


def test_a_pool_needs_enough_members_and_long_output_heavy_harvesting():
    proc = _processor()
    fragment = _close(proc, M0, *_links(M0, "band:0a1b", ["h1", "h2", "h3", "h4"]))
    assert [(r.severity, len(r.members)) for r in fragment] == [("info", 4)], "four accounts: a fragment"
    proc.out.clear()
    assert _close(proc, M0 + 1, *_links(M0 + 1, "band:0c0d", ["h1", "h2", "h3", "h4", "h5"], harvest=5.5)) == []
    assert _close(proc, M0 + 2, *_links(M0 + 2, "band:0e0f", ["h9"])) == [], "one account ties nothing"
    assert [c.severity for c in proc.clusters.values()] == [0, 0, 0], "fragments raise no cluster alert"


def test_a_framework_prompt_most_users_share_is_a_hub_and_never_reports():
    proc = _processor()
    ordinary = [Degree(M0, "template", "tpl-framework") for _ in range(40)]
    assert _close(proc, M0, *ordinary, *_links(M0, "tpl-framework", ["h1", "h2", "h3", "h4", "h5"])) == []


def test_pool_templates_sharing_one_account_become_one_campaign_that_pages_once():
    st = Stage(update_every_s=0)
    assert st.minute(M0, report(M0, "template:t1", ["a", "b", "c", "d", "e"], severity="warning")) == []
    st.minute(M0 + 1, report(M0 + 1, "template:t2", ["e", "f", "g", "h", "i"], severity="warning"))
    assert len(st.proc.campaigns) == 1, "one shared account joins a pool's templates"
    out = st.minute(M0 + 2, verdict(M0 + 2, "g", "error"))
    pages = [a for a in out if a["severity"] in ("error", "critical")]
    assert [(a["kind"], a["accounts_added"]) for a in pages] == [("campaign", list("abcdefghi"))]
    # attribute clusters other than templates still need two shared accounts
    st.minute(M0 + 3, report(M0 + 3, "payment:p9", ["a", "t", "u", "v", "w", "x", "y"], severity="warning"))
    assert len(st.proc.campaigns) == 2


def test_a_fragment_founds_a_silent_pool_campaign_that_a_member_page_pages_once():
    """Two accounts on a private template are held together at once; the campaign never pages on
    that alone, and the first member page pages the pool, naming both, as one incident."""
    st = Stage(update_every_s=0)
    assert st.minute(M0, report(M0, "template:t1", ["a", "b"], severity="info")) == []
    [c] = st.proc.campaigns.values()
    assert sorted(c.members) == ["a", "b"] and c.severity < SEVERITY_RANK["error"]
    st.minute(M0 + 1, report(M0 + 1, "template:t2", ["b", "c"], severity="info"))
    assert list(st.proc.campaigns.values()) == [c] and sorted(c.members) == ["a", "b", "c"], "one shared account"
    out = st.minute(M0 + 2, verdict(M0 + 2, "c", "error"))
    pages = [a for a in out if a["severity"] in ("error", "critical")]
    assert [(a["kind"], a["accounts_added"]) for a in pages] == [("campaign", ["a", "b", "c"])]
    assert [a["severity"] for a in out if a["kind"] == "account"] == ["warning"], "the member's page folds in"


def test_a_lone_account_page_passes_on_unchanged_beside_a_fragment():
    st = Stage(update_every_s=0)
    st.minute(M0, report(M0, "template:t1", ["a", "b"], severity="info"))
    out = st.minute(M0 + 1, verdict(M0 + 1, "lone", "error"))
    assert [(a["kind"], a["severity"]) for a in out] == [("account", "error")]
    assert len(st.proc.campaigns) == 1


def test_a_silent_fragment_campaign_is_forgotten_when_quiet_without_any_alert():
    """Bounded state: a fragment's campaign that never paged leaves no trace once quiet."""
    st = Stage(update_every_s=0, quiet_s=3600)
    st.minute(M0, report(M0, "template:t1", ["a", "b"], severity="info"))
    assert st.minute(M0 + 61, verdict(M0 + 61, "z", "info")) == [verdict(M0 + 61, "z", "info").alert]
    assert st.proc.campaigns == {} and st.proc.member_of == {} and st.proc.cluster_of == {}


def _pool_report(minute: int, template: str, slots: dict[str, list[int]]) -> Report:
    r = report(minute, template, sorted(slots), severity="warning")
    return r._replace(members=[[a, contribution, slots[a]] for a, contribution in r.members])


def _rounds(accounts: list[str], first: int, rounds: int, every: int, picks: int) -> dict[str, list[int]]:
    """A dispatcher: every ``every`` slots a round from ``picks`` accounts in turn (seeded, fixed)."""
    rng = random.Random(11)
    out: dict[str, list[int]] = {a: [] for a in accounts}
    for r in range(rounds):
        for a in rng.sample(accounts, picks):
            out[a].append(first + r * every)
    return out


def _independent(accounts: list[str], first: int, span: int, per_account: int) -> dict[str, list[int]]:
    """The same duty cycle, each account at its own random slots."""
    rng = random.Random(11)
    return {a: sorted(rng.sample(range(first, first + span), per_account)) for a in accounts}


ACCOUNTS = [f"acct-{i:02d}" for i in range(20)]
SLOT0 = M0 // 2


def test_a_pool_whose_members_share_dispatcher_rounds_pages_by_itself_naming_every_member():
    """20 accounts, a round every 3 slots from 3 of them, 12 hours: each account ~18 active slots,
    pairs meet 2.1x as often as independent accounts would. The pool pages with no member page."""
    st = Stage(update_every_s=0)
    slots = _rounds(ACCOUNTS, SLOT0, 120, 3, 3)
    end = (SLOT0 + 360) * 2
    out = st.minute(end, _pool_report(end, "template:band:0a1b", slots))
    pages = [a for a in out if a["severity"] in ("error", "critical")]
    assert [(a["kind"], a["accounts_added"]) for a in pages] == [("campaign", ACCOUNTS)]
    [tie] = [link for link in pages[0]["links"] if link["attribute"] == "lockstep"]
    assert tie["accounts"] == 20 and tie["value"].startswith("active in the same 2-minute rounds 2.1x")


def test_after_a_lockstep_page_its_templates_users_join_at_their_first_request_there():
    """Rounds prove the pool an operation, as its harvest test does: an account that was never
    tested (too few slots of its own, or a low-CoT member that never sent a harvest-like request)
    joins the minute it uses one of the pool's reported templates, harvest-like request or not.
    Measured: the low-CoT evasive hydras of seeds 53 and 71, paged by lockstep, named 17 of 31 and
    45 of 71 accounts before, every account after."""
    st = Stage(update_every_s=0)
    slots = _rounds(ACCOUNTS, SLOT0, 120, 3, 3)
    end = (SLOT0 + 360) * 2
    st.minute(end, _pool_report(end, "template:band:0a1b", slots))
    before = st.minute(end + 1, PoolMinute(end + 1, "template:band:0a1b", 2, 0, [], 0.15, ["late", "acct-00"]))
    assert [(a["kind"], a["accounts_added"]) for a in before if a["severity"] == "error"] == [("campaign", ["late"])]
    [c] = st.proc.campaigns.values()
    assert c.members["late"][M_VIA] == f"lockstep:{c.id}"
    # a key nobody holds, used by an account outside the campaign too, adds nobody
    assert st.minute(end + 2, PoolMinute(end + 2, "template:band:ffff", 2, 0, [], 0.15, ["other", "acct-01"])) == []
    assert "other" not in c.members


def _harvest_minutes(st: Stage, first: int, accounts: list[str]) -> list[dict]:
    """Two harvest-like requests a minute on the pool's template, from each account in turn:
    ln 2 nats each at twice the population's share (0.15)."""
    out: list[dict] = []
    for i, acc in enumerate(accounts):
        out += st.minute(first + i, PoolMinute(first + i, "template:band:0a1b", 2, 2, [acc], 0.15, [acc]))
    return out


def test_rounds_and_harvest_evidence_below_their_bars_page_together():
    """30 rounds give 19.9 nats of co-timing at 2.1x chance, just below the lockstep bar, and sixteen
    harvest-like requests 11 nats, far below the harvest bar: independent evidence about when the
    accounts act and what they ask for, past Fisher's bar together (s - ln(1 + s) >= 20)."""
    st = Stage(update_every_s=0)
    slots = _rounds(ACCOUNTS, SLOT0, 30, 3, 3)
    end = (SLOT0 + 90) * 2
    assert st.minute(end, _pool_report(end, "template:band:0a1b", slots)) == []
    out = _harvest_minutes(st, end + 1, ACCOUNTS[:8])
    pages = [a for a in out if a["severity"] == "error"]
    assert [a["kind"] for a in pages] == ["campaign"] and len(pages[0]["accounts_added"]) == 20
    [tie] = [link for link in pages[0]["links"] if link["attribute"] == "pool_timing"]
    assert tie["value"].endswith("and asking for reasoning traces (11 nats)"), tie


def test_harvest_evidence_does_not_page_independently_timed_accounts():
    st = Stage(update_every_s=0)
    end = (SLOT0 + 360) * 2
    st.minute(end, _pool_report(end, "template:band:0a1b", _independent(ACCOUNTS, SLOT0, 360, 13)))
    assert [a for a in _harvest_minutes(st, end + 1, ACCOUNTS[:8]) if a["severity"] == "error"] == []


def test_a_pool_of_independently_timed_accounts_does_not_page_on_timing():
    st = Stage(update_every_s=0)
    slots = _independent(ACCOUNTS, SLOT0, 360, 13)
    end = (SLOT0 + 360) * 2
    assert st.minute(end, _pool_report(end, "template:band:0a1b", slots)) == []
    [c] = st.proc.campaigns.values()
    assert c.severity < SEVERITY_RANK["error"] and not any(k.startswith("lockstep:") for k in c.clusters)


def test_lockstep_needs_enough_tested_members():
    """Seven accounts in perfect lockstep are not enough to page (``lockstep_members`` = 8)."""
    st = Stage(update_every_s=0)
    few = ACCOUNTS[:7]
    end = (SLOT0 + 360) * 2
    assert st.minute(end, _pool_report(end, "template:t1", _rounds(few, SLOT0, 120, 3, 3))) == []


def test_timing_merges_across_a_pools_templates():
    """Each template sees only a member's rounds on it; the campaign tests their union."""
    st = Stage(update_every_s=0)
    slots = _rounds(ACCOUNTS, SLOT0, 120, 3, 3)
    halves = [{a: s[i::2] for a, s in slots.items()} for i in (0, 1)]
    end = (SLOT0 + 360) * 2
    assert st.minute(end, _pool_report(end, "template:t1", halves[0])) == []
    pages = st.minute(end + 1, _pool_report(end + 1, "template:t2", halves[1]))
    assert [a["kind"] for a in pages if a["severity"] == "error"] == ["campaign"]
    [c] = st.proc.campaigns.values()
    assert c.slots["acct-00"] == sorted(slots["acct-00"])


def test_busy_independent_accounts_do_not_look_cotimed():
    """Busy accounts' rings hold only their last hour: measured against a 12-hour span they would
    all seem to meet at the end; each is observed since its oldest slot held instead."""
    rng = random.Random(11)
    slots = {a: sorted(rng.sample(range(SLOT0, SLOT0 + 360), 200)) for a in ACCOUNTS}
    st = Stage(update_every_s=0)
    end = (SLOT0 + 360) * 2
    assert st.minute(end, _pool_report(end, "template:t1", slots)) == []
    [c] = st.proc.campaigns.values()
    assert all(len(ring) == 32 for ring in c.slots.values())
    t = lockstep.cotiming(c.slots, SLOT0 + 360, 360, 3, 32)
    assert 0.9 < t.ratio < 1.1, t


def test_a_shared_day_shape_alone_does_not_page():
    """Forty independent accounts, four times as active in the second half of the window: they
    meet ~1.36x as often as uniform rates say, significant at this size (> 20 nats) but below the
    1.5x bar that asks for rounds, not a shared day."""
    rng = random.Random(11)
    accounts = [f"acct-{i:02d}" for i in range(40)]
    slots = {a: [SLOT0 + s for s in range(360) if rng.random() < (0.02 if s < 180 else 0.08)] for a in accounts}
    t = lockstep.cotiming(slots, SLOT0 + 360, 360, 3, 32)
    assert t.nats > 20 and 1.2 < t.ratio < 1.5, t
    st = Stage(update_every_s=0)
    end = (SLOT0 + 360) * 2
    assert st.minute(end, _pool_report(end, "template:t1", slots)) == []


def test_an_account_writing_its_own_prompts_does_not_set_the_noise_level():
    """A paraphrase key is new with nearly every request of an account that writes its own prompts:
    its lone clusters (one a minute) stay out of the adaptive threshold, which lone values of the
    other attributes set (on the demo day they moved it enough to drop a TLS cluster below it)."""
    proc, other = _processor(), _processor()
    for i in range(60):
        _close(proc, M0 + i, *_links(M0 + i, f"band:{i:08x}", ["h1"], harvest=40.0))
        _close(other, M0 + i, Link(M0 + i, "payment", f"card-{i}", "h1", 1, 3000, 40.0, 0, 3, "ev-h1"))
    assert proc.threshold.level == _processor().threshold.level
    assert other.threshold.level != proc.threshold.level, "a lone card does count"
