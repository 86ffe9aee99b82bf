"""The detector end to end on hand-made worlds: harvesters page, innocent look-alikes do not."""

import random

from distillwatch.models.alerts import PAGING
from tests.models.worlds import DAY, T0, background, run, templated, worst


def test_bulk_harvester_pages_with_reasons():
    r = random.Random(1)
    ev = background(r) + templated(
        r, "acct-harvest", T0 + 6 * 3600, T0 + DAY, 3.0, 4, capability="reasoning", cot_elicitation=0.9,
        output_tokens=2000, reasoning_tokens=3000, max_tokens=8192, input_tokens=200, account_created_at=T0 - DAY,
        verification="email", tls_fingerprint="python-requests", client_ip="203.0.113.7")
    alerts = run(ev)
    assert worst(alerts, "acct-harvest") in PAGING
    first = next(a for a in alerts if a["subject"] == "acct-harvest" and a["severity"] in PAGING)
    codes = [x["code"] for x in first["reasons"]]
    assert "cot_share" in codes[:4]
    assert first["dedup_key"] == "distillwatch/account/acct-harvest"
    # detected within an hour of the campaign's start (event time)
    assert first["detected_at"] < "2026-02-13T07:00:00"


def test_enterprise_template_backend_does_not_page():
    r = random.Random(2)
    ev = background(r) + templated(
        r, "acct-enterprise", T0, T0 + DAY, 4.0, 1, capability="other", cot_elicitation=0.0,
        input_tokens=900, output_tokens=60, account_created_at=T0 - 700 * DAY, verification="business",
        tls_fingerprint="sdk-0", client_ip="198.51.100.10")
    assert worst(run(ev), "acct-enterprise") not in PAGING


def test_batch_evaluation_job_does_not_page():
    r = random.Random(3)
    ev = background(r) + templated(
        r, "acct-eval", T0 + 3600, T0 + 9 * 3600, 2.0, 3, capability="reasoning", cot_elicitation=0.3,
        output_tokens=1500, max_tokens=1500, endpoint="batch", account_created_at=T0 - 400 * DAY,
        verification="business", tls_fingerprint="sdk-1", client_ip="198.51.100.20")
    assert worst(run(ev), "acct-eval") not in PAGING


def test_shared_nat_is_not_a_cluster():
    r = random.Random(4)
    ev = background(r)
    for a in range(40):  # a university: 40 ordinary accounts behind one egress /24
        ev += [dict(d, account_id=f"acct-uni{a}", client_ip=f"192.0.2.{1 + a % 4}",
                    payment_fingerprint=f"pay-uni{a}", verification="edu")
               for d in background(random.Random(100 + a), n=1)]
    alerts = run(ev)
    assert not any(a["kind"] in ("cluster", "campaign") and a["severity"] in PAGING for a in alerts)


def test_hydra_of_quiet_accounts_pages_as_one_campaign():
    r = random.Random(5)
    ev = background(r)
    for a in range(30):  # each account only ~30 requests a day: invisible alone
        ev += templated(r, f"acct-hydra{a}", T0 + r.random() * 3600, T0 + DAY, 2900.0, 3,
                        capability="coding", cot_elicitation=0.8, output_tokens=1800, input_tokens=150,
                        account_created_at=T0 - 2 * DAY, verification="none", payment_fingerprint="pay-hydra",
                        tls_fingerprint="hydra-client", client_ip=f"198.18.{a % 3}.{a}")
    alerts = run(ev)
    pages = [a for a in alerts if a["severity"] in PAGING]
    assert pages and {a["kind"] for a in pages} == {"campaign"}, "the operation pages as one campaign"
    assert len({a["dedup_key"] for a in pages}) == 1
    assert not any(a["kind"] == "cluster" and a["severity"] in PAGING for a in alerts), "clusters stay below paging"
    implicated = {acc for a in pages for acc in (*a["accounts"], *a["accounts_added"])}
    assert len({f"acct-hydra{a}" for a in range(30)} & implicated) >= 27
    assert not any(acc.startswith("acct-bg") for acc in implicated)
    assert {link["attribute"] for link in pages[-1]["links"]} >= {"payment", "tls"}


def test_replay_is_deterministic():
    r1, r2 = random.Random(6), random.Random(6)
    a = run(background(r1, n=60) + templated(r1, "acct-x", T0, T0 + DAY, 5.0, 2, cot_elicitation=0.9))
    b = run(background(r2, n=60) + templated(r2, "acct-x", T0, T0 + DAY, 5.0, 2, cot_elicitation=0.9))
    assert [x["alert_id"] for x in a] == [x["alert_id"] for x in b]
