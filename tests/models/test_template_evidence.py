"""Below-gate template evidence: every account's requests per template and minute reach the pool's
campaign, whose harvest CUSUM pages and names accounts that never reached the cluster stage on
their own; pools at the population's harvest share, and too few accounts, do not page."""

from __future__ import annotations

from distillwatch.models.account_processor import AccountProcessor
from distillwatch.models.cluster_processor import ClusterProcessor
from distillwatch.models.event import validate
from distillwatch.models.links import Link, PoolMinute, TemplateMinute, Watermark
from distillwatch.models.template_evidence import harvest_llr
from tests.models.test_campaigns import M0, Stage, report
from tests.models.worlds import DAY, T0

POOL = "template:tpl-pool"


def _event(i: int, account: str, ts: float, harvest: bool) -> dict:
    return dict(event_id=f"e{i}", account_id=account, ts=ts, model="m1", status=200, input_tokens=300,
                output_tokens=900, max_tokens=16384, capability="math", prompt_template_id="tpl-pool",
                cot_elicitation=0.9 if harvest else 0.0, reasoning_tokens=1500 if harvest else 0,
                account_created_at=T0 - 30 * DAY, client_ip="100.1.2.3", tls_fingerprint="sdk-1")


def test_the_account_stage_sends_every_accounts_minute_on_a_template_before_the_watermark():
    proc = AccountProcessor(0, 4)
    minute = int(T0 // 60)
    # one harvest-like request from each of two fresh accounts (far below watch_harvest) and an
    # ordinary one; then other accounts move the partition's clock well past the minute
    events = [_event(0, "a", T0 + 5, True), _event(1, "b", T0 + 20, True), _event(2, "c", T0 + 30, False)]
    events += [_event(3 + i, f"clock{i}", T0 + 900 * (1 + i // 4) + i, False) for i in range(8)]
    for ev in events:
        assert proc.process(validate(ev)) is None
    msgs = [m for _, m in proc.links]
    sent = [m for m in msgs if type(m) is TemplateMinute and m.minute == minute]
    assert sent == [TemplateMinute(minute, "tpl-pool", 3, 2, ["a", "b"], ["a", "b", "c"])]
    passed = next(i for i, m in enumerate(msgs) if type(m) is Watermark and m.watermark >= (minute + 1) * 60)
    assert msgs.index(sent[0]) < passed, "the evidence arrives before the watermark that closes its minute"
    assert not any(type(m).__name__ == "Link" for m in msgs), "no account reached the cluster stage as a member"
    assert all(key.split("|")[0] != str(minute) for key in proc.template_minutes), "sent minutes leave the tally"


def _cluster_minute(proc: ClusterProcessor, minute: int, *msgs: object) -> list[PoolMinute]:
    for msg in msgs:
        proc.receive(msg)
    for src in (0, 1):
        proc.receive(Watermark(src, (minute + 1) * 60))
    out = [m for m in proc.out if type(m) is PoolMinute]
    proc.out.clear()
    return out


def test_the_cluster_stage_sums_partitions_and_forwards_every_templates_minute():
    proc = ClusterProcessor(0, 2)
    out = _cluster_minute(proc, M0, TemplateMinute(M0, "tpl-pool", 3, 2, ["b", "a"], ["b", "a"]),
                          TemplateMinute(M0, "tpl-pool", 1, 1, ["c"], ["c"]),
                          TemplateMinute(M0, "tpl-other", 6, 0, [], ["x", "y"]))
    # no template has a cluster yet: the campaign stage still hears them (one message per template
    # and minute), for the pools that hold all their users
    assert [(m.cluster, m.requests, m.harvest, m.accounts, m.users) for m in out] == [
        ("template:tpl-other", 6, 0, [], ["x", "y"]), (POOL, 4, 3, ["a", "b", "c"], ["a", "b", "c"])]
    assert proc.template_base[:2] == [10.0, 3.0], "every template teaches the population's share"
    # a harvest-like account reaches the cluster stage on the template: it has a cluster from now on
    member = Link(M0 + 1, "template", "tpl-pool", "h1", 2, 3000, 7.0, 0, 3, "ev-h1")
    out = _cluster_minute(proc, M0 + 1, member, TemplateMinute(M0 + 1, "tpl-pool", 3, 2, ["b", "a"], ["d", "b", "a"]),
                          TemplateMinute(M0 + 1, "tpl-pool", 1, 1, ["c"], ["c"]))
    assert [(m.cluster, m.requests, m.harvest, m.accounts, m.users) for m in out] == [
        (POOL, 4, 3, ["a", "b", "c"], ["a", "b", "c", "d"])]
    assert 0.1 <= out[0].baseline < 0.5


def _pool_stage() -> Stage:
    """A silent pool campaign founded by a fragment (two harvest-like accounts on a private template)."""
    st = Stage()
    assert st.minute(M0, report(M0, POOL, ["h1", "h2"], severity="info")) == []
    return st


def test_a_pool_with_twice_the_populations_harvest_share_pages_naming_below_gate_accounts():
    st = _pool_stage()
    alerts: list[dict] = []
    for i in range(40):  # one minute of requests from three newcomers each; 60 % harvest-like against 15 %
        accounts = [f"n{(3 * i + k) % 12:02d}" for k in range(3)]
        alerts += st.minute(M0 + 1 + i, PoolMinute(M0 + 1 + i, POOL, 5, 3, sorted(accounts), 0.15, sorted(accounts)))
    pages = [a for a in alerts if a["severity"] == "error"]
    assert pages, "the pool's summed evidence pages"
    assert pages[0]["kind"] == "campaign"
    assert any(link["attribute"] == "pool_harvest" for link in pages[0]["links"])
    named = {acc for a in alerts for acc in a["accounts_added"]}
    assert {f"n{k:02d}" for k in range(12)} <= named, "every account that sent harvest-like requests is named"
    assert {"h1", "h2"} <= named
    # each minute adds 3 * ln(2) + 2 * ln(0.7/0.85) = 1.69 nats: the 20-nat bar takes 12 minutes
    assert harvest_llr(5, 3, 2.0, 0.15) * 11 < 20 <= harvest_llr(5, 3, 2.0, 0.15) * 12
    # once it pages, an account joins at its first request on the pool's templates, harvest-like or not
    late = st.minute(M0 + 60, PoolMinute(M0 + 60, POOL, 2, 0, [], 0.15, ["late1", "n00"]))
    assert [(a["kind"], a["accounts_added"]) for a in late] == [("campaign", ["late1"])]


def test_before_it_pages_a_pool_takes_in_only_the_senders_of_harvest_like_requests():
    st = _pool_stage()
    st.minute(M0 + 1, PoolMinute(M0 + 1, POOL, 3, 1, ["n1"], 0.15, ["n1", "u1", "u2"]))
    c = st.proc.campaigns[next(iter(st.proc.campaigns))]
    assert sorted(c.candidates) == ["n1"] and sorted(c.members) == ["h1", "h2"]


def test_a_pool_at_the_populations_share_never_pages():
    st = _pool_stage()
    alerts: list[dict] = []
    for i in range(300):  # 1 of 6 requests harvest-like: the population's share
        accounts = [f"n{(i + k) % 30:02d}" for k in range(1)]
        alerts += st.minute(M0 + 1 + i, PoolMinute(M0 + 1 + i, POOL, 6, 1, accounts, 0.17, accounts))
    assert alerts == []
    assert st.proc.campaigns[next(iter(st.proc.campaigns))].harvest_nats < 5


def test_a_harvesting_pool_of_too_few_accounts_does_not_page_on_this_test():
    st = _pool_stage()
    alerts: list[dict] = []
    for i in range(60):  # two accounts (lone harvesters on a shared band, say): each pages on its own
        alerts += st.minute(M0 + 1 + i, PoolMinute(M0 + 1 + i, POOL, 4, 4, ["h1", "h2"], 0.15, ["h1", "h2"]))
    assert alerts == []
    c = st.proc.campaigns[next(iter(st.proc.campaigns))]
    assert c.harvest_nats > 100 and len(c.candidates) == 2


def test_evidence_on_a_template_of_no_campaign_is_ignored():
    st = Stage()
    senders = [f"x{k}" for k in range(20)]
    assert st.minute(M0, PoolMinute(M0, POOL, 50, 50, senders, 0.15, senders)) == []
    assert st.proc.campaigns == {}


def _rounds(st: Stage, users_of: list[list[str]], every: int = 5) -> list[dict]:
    """A pool template used by dispatcher rounds: ``users_of[k]`` in round k (every ``every``
    minutes), the first of each round with a harvest-like request, at a population share of 0.5
    (so the pool's harvest CUSUM stays at 0: only timing can page it)."""
    alerts: list[dict] = []
    for k, users in enumerate(users_of):
        minute = M0 + 1 + every * k
        alerts += st.minute(minute, PoolMinute(minute, POOL, len(users), 1, users[:1], 0.5, sorted(users)))
    return alerts


def test_below_gate_accounts_in_lockstep_page_the_pool_and_join_it():
    st = _pool_stage()
    accounts = [f"n{k}" for k in range(10)]
    # 150 rounds (12.5 h), each with 3 of the 10 accounts in the same minute; every account is the
    # harvest-like sender of some rounds, so all are candidates, none ever reaches the cluster stage
    alerts = _rounds(st, [[accounts[k % 10], accounts[(k + 3) % 10], accounts[(k + 7) % 10]] for k in range(150)])
    c = st.proc.campaigns[next(iter(st.proc.campaigns))]
    assert c.harvest_nats == 0.0, "the harvest test stays silent"
    pages = [a for a in alerts if a["severity"] == "error"]
    assert pages and any(link["attribute"] == "lockstep" for link in pages[0]["links"])
    named = {acc for a in alerts for acc in a["accounts_added"]}
    assert set(accounts) | {"h1", "h2"} <= named


def test_users_that_never_send_a_harvest_like_request_there_are_not_tested():
    st = _pool_stage()
    # a framework's users on a template two harvest-like accounts share: the same office-hour
    # minutes, but none of them sends a harvest-like request on it, so none is tested or named
    users = [f"u{k}" for k in range(10)]
    rounds = [["h1", users[k % 10], users[(k + 3) % 10], users[(k + 7) % 10]] for k in range(150)]
    assert _rounds(st, rounds) == []
    c = st.proc.campaigns[next(iter(st.proc.campaigns))]
    assert set(c.slots) <= {"h1", "h2"} and set(c.members) == {"h1", "h2"}


def test_a_minute_on_a_key_only_the_pools_members_use_is_the_pools_evidence():
    """A paraphrase whose 32-bit key nobody else shares reaches no cluster; used only by a pool's
    members, it counts for the pool (harvest evidence, lockstep slots). Used by anyone else as well,
    or by the members of a campaign no template tied, it counts for nothing."""
    st = _pool_stage()
    c = st.proc.campaigns[next(iter(st.proc.campaigns))]
    st.minute(M0 + 1, PoolMinute(M0 + 1, "template:band:0badf00d", 2, 2, ["h1"], 0.15, ["h1"]))
    assert c.harvest_nats > 1.0 and c.candidates == {"h1": 1} and list(c.slots) == ["h1"]
    nats = c.harvest_nats
    st.minute(M0 + 2, PoolMinute(M0 + 2, "template:band:0badf00e", 2, 2, ["h2"], 0.15, ["h2", "u1"]))
    assert c.harvest_nats == nats and "h2" not in c.candidates, "an outsider uses the key too"
    assert st.minute(M0 + 3, report(M0 + 3, "payment:card-9", ["p1", "p2", "p3"], severity="warning")) == []
    card = next(x for x in st.proc.campaigns.values() if x is not c)
    st.minute(M0 + 4, PoolMinute(M0 + 4, "template:band:0badf00f", 2, 2, ["p1"], 0.15, ["p1"]))
    assert card.harvest_nats == 0.0 and not card.candidates, "no template tied that campaign: not a pool"
