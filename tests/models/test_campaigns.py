"""The campaign stage on hand-made messages: founding, joining, merging, live membership, account
alerts routed below paging, quiet resolve, and the alert contract v1.1 on every alert."""

from __future__ import annotations

import pytest

from distillwatch.models.alerts import PAGING
from distillwatch.models.campaign_processor import CampaignProcessor
from distillwatch.models.config import CampaignConfig
from distillwatch.models.links import Report, Verdict, Watermark

M0 = 29_000_000  # a minute number (2025)
CONTRACT = ["alert_id", "dedup_key", "kind", "action", "subject", "accounts", "accounts_total", "accounts_added",
            "severity", "score", "threshold", "detected_at", "window_start", "window_end", "reasons", "evidence",
            "links", "detector"]


def report(minute: int, cluster: str, members: list[str], severity: str = "error", share: float = 1.0) -> Report:
    attr, _, value = cluster.partition(":")
    return Report(minute, cluster, attr, value, severity, 20.0, 10.0, share, 500, 90_000,
                  [[a, 100.0 - i] for i, a in enumerate(members)], ["ev-1"])


def verdict(minute: int, account: str, severity: str) -> Verdict:
    return Verdict(minute, account, {"alert_id": f"a-{account}-{minute}", "kind": "account", "subject": account,
                                     "severity": severity, "evidence": {"sample_event_ids": ["ev-2"]}})


class Stage:
    """A campaign processor fed by one account source and one cluster source."""

    def __init__(self, **cfg: float) -> None:
        self.proc = CampaignProcessor(2, CampaignConfig(**cfg))

    def minute(self, minute: int, *msgs: Report | Verdict) -> list[dict]:
        for msg in msgs:
            self.proc.receive(msg)
        for src in (0, 1):
            self.proc.receive(Watermark(src, (minute + 1) * 60))
        out, self.proc.alerts = self.proc.alerts, []
        return out


def test_one_incident_names_every_member_as_it_joins():
    st = Stage(update_every_s=0)
    first = st.minute(M0, report(M0, "payment:p1", ["a", "b", "c"]))
    assert [(a["kind"], a["action"], a["severity"], a["accounts_added"]) for a in first] == [
        ("campaign", "trigger", "error", ["a", "b", "c"])]
    assert list(first[0]) == CONTRACT
    assert first[0]["links"] == [{"attribute": "payment", "value": "p1", "accounts": 3}]
    # another attribute value of the same operation joins it through shared accounts
    second = st.minute(M0 + 1, report(M0 + 1, "ip24:10.0.9.0/24", ["b", "c", "d", "e"]))
    assert [(a["dedup_key"], a["accounts_added"], a["accounts_total"]) for a in second] == [
        (first[0]["dedup_key"], ["d", "e"], 5)]
    assert st.minute(M0 + 2, report(M0 + 2, "ip24:10.0.9.0/24", ["b", "c", "d", "e"])) == [], "nobody new: no alert"


def test_reports_touching_two_campaigns_merge_them_and_resolve_the_younger():
    st = Stage(update_every_s=0)
    older = st.minute(M0, report(M0, "payment:p1", ["a", "b", "c"]))[0]
    younger = st.minute(M0 + 1, report(M0 + 1, "payment:p2", ["x", "y", "z"]))[0]
    assert older["dedup_key"] != younger["dedup_key"]
    merged = st.minute(M0 + 2, report(M0 + 2, "ip24:10.0.1.0/24", ["a", "b", "x", "y"]))
    assert [(a["dedup_key"], a["action"]) for a in merged] == [
        (younger["dedup_key"], "resolve"), (older["dedup_key"], "trigger")]
    assert merged[0]["accounts_added"] == [] and list(merged[0]) == CONTRACT
    assert merged[1]["accounts_added"] == ["x", "y", "z"], "the survivor names the absorbed accounts"
    assert st.proc.member_of == {a: older["subject"] for a in "abcxyz"}


def test_hub_reports_tie_nothing():
    st = Stage()
    # a hub: most of its users look ordinary (a NAT whose harvest-like share stays below min_share)
    assert st.minute(M0, report(M0, "ip24:10.0.0.0/24", ["a", "b", "c"], share=0.5)) == []
    assert st.proc.campaigns == {}


@pytest.mark.parametrize("attribute, value", [("tls", "popular-sdk"), ("router", "rtr-reseller")])
def test_a_shared_stack_or_router_confirms_the_campaign_holding_its_members_and_ties_nobody(attribute, value):
    """A popular SDK's TLS stack, and a reseller's router that carries honest customers as well as an
    operation's accounts (seed 53: one router customer was named with the hydra through it), pass
    the share bar but tie nobody: they confirm the campaign other values tie."""
    st = Stage(update_every_s=0)
    cluster = f"{attribute}:{value}"
    # above min_share (the harvest-like share of its users is no hub test)
    assert st.minute(M0, report(M0, cluster, ["a", "b", "c", "d"])) == [], "founds nothing"
    assert st.proc.campaigns == {}
    st.minute(M0 + 1, report(M0 + 1, "payment:p1", ["a", "b", "c"], severity="warning"))  # one operation, not paging
    st.minute(M0 + 2, report(M0 + 2, "payment:p2", ["x", "y", "z"], severity="warning"))  # another
    out = st.minute(M0 + 3, report(M0 + 3, cluster, ["a", "b", "x", "h1", "h2"]))
    # the campaign holding most of its members pages, naming only its own accounts: the other
    # operation is not merged in, and the value's other users (h1, h2: honest ones) are in no campaign
    assert [(a["kind"], a["action"], a["accounts_added"]) for a in out] == [("campaign", "trigger", ["a", "b", "c"])]
    assert out[0]["links"][0] == {"attribute": "payment", "value": "p1", "accounts": 3}
    assert {"attribute": attribute, "value": value, "accounts": 2} in out[0]["links"]
    assert sorted(st.proc.member_of) == ["a", "b", "c", "x", "y", "z"] and len(st.proc.campaigns) == 2


def test_account_alerts_of_members_stay_below_paging_and_escalate_the_campaign():
    st = Stage(update_every_s=0)
    st.minute(M0, report(M0, "payment:p1", ["a", "b", "c"], severity="warning"))  # a campaign, not paging
    out = st.minute(M0 + 1, verdict(M0 + 1, "b", "error"), verdict(M0 + 1, "q", "error"))
    by_kind = {a["kind"]: a for a in out}
    assert by_kind["campaign"]["severity"] == "error" and by_kind["campaign"]["accounts_added"] == ["a", "b", "c"]
    assert [(a["subject"], a["severity"]) for a in out if a["kind"] == "account"] == [("b", "warning"), ("q", "error")]
    assert sum(a["severity"] in PAGING for a in out) == 2, "the campaign and the account outside any campaign"


def test_a_quiet_campaign_is_resolved_once_and_forgotten():
    st = Stage(quiet_s=3600.0)
    opened = st.minute(M0, report(M0, "payment:p1", ["a", "b", "c"]))[0]
    out = st.minute(M0 + 61, verdict(M0 + 61, "zz", "warning"))  # any later minute closes it
    resolve = next(a for a in out if a["kind"] == "campaign")
    assert (resolve["action"], resolve["dedup_key"], resolve["severity"]) == ("resolve", opened["dedup_key"], "error")
    assert list(resolve) == CONTRACT and resolve["accounts_total"] == 3
    assert st.proc.campaigns == {} and st.proc.member_of == {} and st.proc.cluster_of == {}


def test_updates_are_paced():
    st = Stage(update_every_s=600.0)
    st.minute(M0, report(M0, "payment:p1", ["a", "b", "c"]))
    assert st.minute(M0 + 1, report(M0 + 1, "payment:p1", ["a", "b", "c", "d"])) == []
    late = st.minute(M0 + 10, report(M0 + 10, "payment:p1", ["a", "b", "c", "d"]))
    assert [a["accounts_added"] for a in late] == [["d"]]


def test_the_order_messages_arrive_in_does_not_matter():
    msgs = [report(M0, "payment:p1", ["a", "b", "c"]), report(M0, "router:r1", ["c", "d", "e"]),
            report(M0, "tls:t1", ["a", "b", "d"]),
            verdict(M0, "d", "critical"), verdict(M0, "k", "error")]
    one, two = Stage(), Stage()
    assert one.minute(M0, *msgs) == two.minute(M0, *reversed(msgs))

