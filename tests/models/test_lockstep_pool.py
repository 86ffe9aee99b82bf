"""Prompt pools: an evasive operation's private templates, each tying only a few of its accounts,
report below paging and are joined into one campaign, which pages once when any member pages.
A framework's shared system prompt (a hub: mostly ordinary users) never reports."""

from __future__ import annotations

from distillwatch.models.cluster_processor import ClusterProcessor
from distillwatch.models.links import Degree, Link, Report, Watermark
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
    assert sorted(a for a, _ in reports[0].members) == ["h1", "h2", "h3", "h4", "h5"]


def test_a_pool_needs_enough_members_and_long_output_heavy_harvesting():
    proc = _processor()
    assert _close(proc, M0, *_links(M0, "band:0a1b", ["h1", "h2", "h3", "h4"])) == [], "four accounts"
    assert _close(proc, M0 + 1, *_links(M0 + 1, "band:0c0d", ["h1", "h2", "h3", "h4", "h5"], harvest=5.5)) == []


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
