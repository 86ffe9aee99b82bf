"""An operation's own behaviour as a pool's tie (models/pool_behaviour.py): the account stage counts
each account's throttled requests and its requests on a model it moved to, the cluster stage learns
the population's shares, and a pool whose accounts are throttled, or move to a model, together far
above those shares pages; one account alone, or a pool at the population's share, does not."""

from __future__ import annotations

from distillwatch.models.account_processor import AccountProcessor
from distillwatch.models.cluster_processor import ClusterProcessor
from distillwatch.models.config import AccountConfig
from distillwatch.models.event import validate
from distillwatch.models.links import PoolMinute, TemplateMinute, Watermark, from_wire, to_wire
from distillwatch.models.pool_behaviour import MOVED, THROTTLED
from tests.models.test_campaigns import M0, Stage, report
from tests.models.worlds import DAY, T0

POOL = "template:tpl-pool"


def _event(i: int, account: str, ts: float, model: str = "m1", status: int = 200) -> dict:
    return dict(event_id=f"e{i}", account_id=account, ts=ts, model=model, status=status, input_tokens=300,
                output_tokens=900, max_tokens=16384, capability="coding", prompt_template_id="tpl-pool",
                cot_elicitation=0.0, reasoning_tokens=0, account_created_at=T0 - 30 * DAY, client_ip="100.1.2.3",
                tls_fingerprint="sdk-1")


def _minutes(events: list[dict]) -> list[TemplateMinute]:
    """The template minutes one account partition sends for ``events`` (then a clock far ahead)."""
    proc = AccountProcessor(0, 1)
    end = max(e["ts"] for e in events)
    events = events + [_event(10_000 + k, f"clock{k}", end + 3600 * (1 + k // 4) + k) for k in range(8)]
    for ev in events:
        proc.process(validate(ev))
    return [m for _, m in proc.links if type(m) is TemplateMinute and not m.users[0].startswith("clock")]


def test_requests_on_a_model_an_account_moves_to_count_for_a_while_and_name_it():
    cfg = AccountConfig()
    # "old" sends 30 requests on m1 (a minute apart), then moves to m2; "new" starts on m2 at once
    # (its first models are no move), and "other" keeps to m1
    events = [_event(k, "old", T0 + 60 * k) for k in range(30)]
    events += [_event(100 + k, "old", T0 + 1800 + 60 * k, model="m2") for k in range(5)]
    events += [_event(200 + k, "new", T0 + 1800 + 60 * k, model="m2") for k in range(30)]
    events += [_event(300 + k, "other", T0 + 1800 + 60 * k) for k in range(30)]
    # ... and "old" again long after its move: no longer counted
    events += [_event(400, "old", T0 + 1800 + cfg.fresh_model_s + 120, model="m2")]
    events.sort(key=lambda e: e["ts"])
    sent = _minutes(events)
    start = int(T0 // 60) + 30
    moved = [(m.minute - start, m.fresh, m.movers) for m in sent if m.fresh]
    assert moved == [(k, 1, [["old", start]]) for k in range(5)], "only the established account's move counts"
    assert sum(m.requests for m in sent) == 96 and sum(m.fresh for m in sent) == 5


def test_a_move_is_the_accounts_own_fact_whatever_the_partition_saw_before():
    # the partition has long seen m2 from another account: "old"'s move to it still counts (a
    # per-partition "first seen" would differ between one partition and several)
    events = [_event(k, "seen", T0 + 60 * k, model="m2") for k in range(10)]
    events += [_event(100 + k, "old", T0 + 60 * k) for k in range(25)]
    events += [_event(200, "old", T0 + 1600, model="m2")]
    events.sort(key=lambda e: e["ts"])
    assert [(m.fresh, m.movers) for m in _minutes(events) if m.fresh] == [(1, [["old", int((T0 + 1600) // 60)]])]


def test_throttled_requests_are_counted_with_their_senders():
    events = [_event(k, "a", T0 + 1 + k, status=429 if k >= 3 else 200) for k in range(5)]
    events += [_event(10, "b", T0 + 10)]
    assert [(m.requests, m.throttled, m.throttlers) for m in _minutes(events)] == [(6, 2, ["a"])]


def test_the_cluster_stage_learns_the_populations_shares_and_forwards_the_counts():
    proc = ClusterProcessor(0, 1)
    proc.receive(TemplateMinute(M0, "tpl-pool", 50, 0, [], ["a", "b"], 10, 20, ["a"], [["a", M0 - 3], ["b", M0]]))
    proc.receive(TemplateMinute(M0, "tpl-other", 950, 0, [], ["x"], 0, 0, [], []))
    proc.receive(Watermark(0, (M0 + 1) * 60))
    out = {m.cluster: m for m in proc.out if type(m) is PoolMinute}
    pool = out[POOL]
    assert (pool.throttled, pool.fresh, pool.throttlers, pool.movers) == (10, 20, ["a"], [["a", M0 - 3], ["b", M0]])
    assert (pool.throttle_base, pool.fresh_base) == (0.01, 0.02), "10 and 20 of 1,000 template requests"


def test_older_workers_messages_read_with_no_throttles_nor_moves():
    new = PoolMinute(M0, POOL, 5, 1, ["a"], 0.1, ["a", "b"], 2, 3, ["a"], [["b", M0]], 0.01, 0.02)
    assert from_wire(to_wire(new)) == new
    old = from_wire(["P", M0, POOL, 5, 1, ["a"], 0.1, ["a", "b"]])
    assert (old.throttled, old.fresh, old.throttlers, old.movers, old.throttle_base, old.fresh_base) == (
        0, 0, [], [], 0.0, 0.0)
    oldest = from_wire(["T", M0, "tpl-pool", 5, 1, ["a"]])
    assert (oldest.users, oldest.throttled, oldest.movers) == (["a"], 0, [])


def _pool_stage() -> Stage:
    """A silent pool campaign founded by a fragment (two harvest-like accounts on a private template)."""
    st = Stage()
    assert st.minute(M0, report(M0, POOL, ["h1", "h2"], severity="info")) == []
    return st


def _moving(minute: int, movers: list[str], fresh: int, requests: int = 10, began: int = M0) -> PoolMinute:
    """A pool template's minute: ``fresh`` of its ``requests`` on a model ``movers`` moved to at ``began``."""
    users = sorted({*movers, "h1"})
    return PoolMinute(minute, POOL, requests, 1, [], 0.5, users, 0, fresh, [], [[m, began] for m in sorted(movers)],
                      0.01, 0.02)


def test_a_pool_whose_accounts_move_to_a_model_together_pages_and_names_them():
    st = _pool_stage()
    alerts: list[dict] = []
    for i in range(10):  # three accounts, most of their requests on the model they moved to
        alerts += st.minute(M0 + 1 + i, _moving(M0 + 1 + i, ["h2", "m1", "m2"], 7))
    pages = [a for a in alerts if a["severity"] == "error"]
    assert pages and any(link["attribute"] == MOVED for link in pages[0]["links"])
    named = {acc for a in alerts for acc in a["accounts_added"]}
    assert {"h1", "h2", "m1", "m2"} <= named
    # proven, the pool takes in whoever uses its template next
    late = st.minute(M0 + 30, PoolMinute(M0 + 30, POOL, 1, 0, [], 0.5, ["late"], 0, 0, [], [], 0.01, 0.02))
    assert [(a["kind"], a["accounts_added"]) for a in late] == [("campaign", ["late"])]


def test_one_account_moving_alone_or_a_pool_at_the_populations_share_never_pages():
    st = _pool_stage()
    alerts: list[dict] = []
    for i in range(60):  # one account moves its whole traffic: evidence, but not the pool's together
        alerts += st.minute(M0 + 1 + i, _moving(M0 + 1 + i, ["m1"], 10))
    assert alerts == []
    c = next(iter(st.proc.campaigns.values()))
    assert c.behaviour[MOVED][0] > 100 and c.behaviour[MOVED][1] == {"m1": M0}
    st = _pool_stage()
    for i in range(600):  # 2 % of requests on a moved-to model, the population's share, from many accounts
        movers = [f"n{i % 40:02d}"] if i % 5 == 0 else []
        alerts += st.minute(M0 + 1 + i, _moving(M0 + 1 + i, movers, len(movers), requests=10, began=M0 + i))
    assert alerts == []
    run = next(iter(st.proc.campaigns.values())).behaviour.get(MOVED, [0.0, []])
    assert run[0] < 10, "a pool at the population's share drifts back to zero"


def test_accounts_that_moved_hours_apart_are_no_move_together():
    st = _pool_stage()
    alerts: list[dict] = []
    # three accounts move most of their traffic, like independent adopters of a release: hours apart
    for k, acc in enumerate(("m1", "m2", "m3")):
        for i in range(20):
            minute = M0 + 1 + 240 * k + i
            alerts += st.minute(minute, _moving(minute, [acc], 7, began=M0 + 240 * k))
    assert alerts == []
    run = next(iter(st.proc.campaigns.values())).behaviour[MOVED]
    assert run[0] > 20 and sorted(run[1]) == ["m1", "m2", "m3"], "the share test alone would have paged"


def test_throttled_load_moving_across_a_pool_pages_it():
    st = _pool_stage()
    alerts: list[dict] = []
    for i in range(30):  # each minute one of four accounts is over its limit: 3 of its 8 requests throttled
        throttled = [f"s{i % 4}"]
        alerts += st.minute(M0 + 1 + i, PoolMinute(M0 + 1 + i, POOL, 8, 1, [], 0.5, sorted({*throttled, "h1"}), 3, 0,
                                                   throttled, [], 0.01, 0.02))
    pages = [a for a in alerts if a["severity"] == "error"]
    assert pages and any(link["attribute"] == THROTTLED for link in pages[0]["links"])
    named = {acc for a in alerts for acc in a["accounts_added"]}
    assert {"s0", "s1", "s2", "s3", "h1", "h2"} <= named


def test_a_merged_pools_runs_are_kept():
    st = _pool_stage()
    other = "template:tpl-other"
    st.minute(M0 + 1, report(M0 + 1, other, ["z1", "z2"], severity="info"))
    for i in range(3):
        st.minute(M0 + 2 + i, _moving(M0 + 2 + i, ["h2"], 5))
        st.minute(M0 + 2 + i, PoolMinute(M0 + 2 + i, other, 10, 0, [], 0.5, ["z1"], 4, 0, ["z1"], [], 0.01, 0.02))
    assert len(st.proc.campaigns) == 2
    st.minute(M0 + 6, report(M0 + 6, "template:tpl-third", ["h1", "z1"], severity="info"))
    [c] = st.proc.campaigns.values()
    assert c.behaviour[MOVED][1] == {"h2": M0} and c.behaviour[THROTTLED][1] == {"z1": M0 + 2}
    assert c.behaviour[MOVED][0] > 5 and c.behaviour[THROTTLED][0] > 5


def test_a_snapshot_from_before_the_counts_restores_padded_once():
    """A partition's tally rows and a cluster stage's population totals kept before throttles and
    moves were counted are padded at restore, so the hot path reads every row alike."""
    from distillwatch.models.snapshot import (
        account_partition_to_bytes,
        cluster_to_bytes,
        restore_account_processor,
        restore_cluster_processor,
    )

    acc = AccountProcessor(0, 1)
    acc.template_minutes = {f"{M0}|tpl-pool": [M0, "tpl-pool", 3, 1, ["a"], ["a", "b"]]}
    restored = restore_account_processor(0, 1, account_partition_to_bytes(acc), {})
    assert restored.template_minutes == {f"{M0}|tpl-pool": [M0, "tpl-pool", 3, 1, ["a"], ["a", "b"], 0, 0, [], []]}
    cl = ClusterProcessor(0, 1)
    cl.template_base = [100.0, 12.0, 60.0]
    again, _ = restore_cluster_processor(0, 1, cluster_to_bytes(cl))
    assert again.template_base == [100.0, 12.0, 60.0, 0.0, 0.0]
