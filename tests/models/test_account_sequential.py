"""Sequential harvest evidence and the context risk factor (issue 12): exact numbers, then small
hand-made worlds through the real engine: a patient lone harvester pages within hours without a
volume surge; a person's occasional "show your steps" and a vouched tutoring product never page."""

from __future__ import annotations

import math
import random
from datetime import datetime

import pytest

from distillwatch.models.account_scoring import benign_share, harvest_llr, learn_signature, risk_factor, sequential_step
from distillwatch.models.account_state import AccountState
from distillwatch.models.config import AccountConfig
from tests.models.worlds import DAY, T0, background, run, worst

CFG = AccountConfig()
YEAR = 365 * DAY


def test_llr_is_the_bernoulli_log_likelihood_ratio():
    # 3 harvest requests of 5, p_h 0.75 vs p_b 0.05: 3 ln 15 + 2 ln(0.25/0.95)
    assert harvest_llr(5, 3, 0.75, 0.05) == pytest.approx(3 * math.log(15.0) + 2 * math.log(0.25 / 0.95))
    assert harvest_llr(5, 3, 0.75, 0.05) == pytest.approx(5.4541, abs=1e-4)
    assert harvest_llr(1, 0, 0.75, 0.05) == pytest.approx(-1.3350, abs=1e-4)
    # a baseline at or above the harvester model gives no evidence either way
    assert harvest_llr(7, 7, 0.75, 0.75) == 0.0
    assert harvest_llr(7, 0, 0.75, 0.8) == 0.0


def test_cusum_adds_weighted_evidence_minus_drift_and_never_goes_below_zero():
    s = sequential_step(0.0, 5.4541, 5, 1.0, 0.3)
    assert s == pytest.approx(3.9541)
    assert sequential_step(s, 5.4541, 5, 0.5, 0.3) == pytest.approx(3.9541 + 2.72705 - 1.5)
    assert sequential_step(s, -1.335, 20, 1.0, 0.3) == 0.0


def test_occasional_show_your_steps_drifts_down_a_consistent_signature_climbs():
    p_h, p_b = CFG.seq_harvest_p, CFG.seq_benign_floor
    person = [(1, 1 if i % 12 == 0 else 0) for i in range(600)]  # one request in 12 asks for steps
    harvester = [(1, 1 if i % 3 else 0) for i in range(60)]  # two in three
    for minutes, pages in ((person, False), (harvester, True)):
        s, peak = 0.0, 0.0
        for n, k in minutes:
            s = sequential_step(s, harvest_llr(n, k, p_h, p_b), n, 1.0, CFG.seq_drift)
            peak = max(peak, s)
        assert (peak >= CFG.seq_threshold) is pages, peak


def test_context_lowers_the_risk_prior():
    assert risk_factor(YEAR, False, True, 0.0, 0.0, CFG) == pytest.approx(CFG.risk_vouched)
    # a vouched org on a young account is not yet trusted; many end users is a product either way
    assert risk_factor(30 * DAY, False, True, 0.0, 0.0, CFG) == 1.0
    assert risk_factor(30 * DAY, False, False, 500.0, 0.0, CFG) == pytest.approx(CFG.risk_product)
    assert risk_factor(YEAR, False, True, 500.0, 0.0, CFG) == pytest.approx(CFG.risk_vouched * CFG.risk_product)


def test_own_signature_becomes_the_baseline_only_after_weeks():
    st = AccountState()
    st.win_req, st.win_harvest = 10, 8
    learn_signature(st, 1000.0, CFG.own_tau_s)
    assert (st.sig_mean, st.sig_t0, st.sig_t) == (0.8, 1000.0, 1000.0)
    learn_signature(st, 1000.0 + CFG.own_tau_s, CFG.own_tau_s)  # one tau later, the same share
    assert st.sig_mean == pytest.approx(0.8)
    st.win_harvest = 0
    learn_signature(st, 1000.0 + 2 * CFG.own_tau_s, CFG.own_tau_s)  # one tau of nothing: 1/e of it left
    assert st.sig_mean == pytest.approx(0.8 / math.e)
    assert benign_share(st, 0.02, 1000.0 + CFG.own_history_s - 1.0, CFG) == CFG.seq_benign_floor
    assert benign_share(st, 0.02, 1000.0 + CFG.own_history_s, CFG) == pytest.approx(0.8 / math.e)
    assert benign_share(st, 0.5, 1000.0 + CFG.own_history_s, CFG) == 0.5  # never below the peers


def test_new_state_fields_round_trip():
    st = AccountState()
    st.seq_s, st.sig_mean, st.sig_t0, st.sig_t, st.org, st.win_harvest = 7.5, 0.25, 10.0, 20.0, "org-1", 3
    st.harvest_day = 4.5
    back = AccountState.from_bytes(st.to_bytes())
    assert (back.seq_s, back.sig_mean, back.sig_t0, back.sig_t, back.org, back.win_harvest, back.harvest_day) == (
        7.5, 0.25, 10.0, 20.0, "org-1", 3, 4.5)


def _reasoner(r: random.Random, account: str, start: float, end: float, per_day: float, cot_share: float,
              reasoning_share: float = 1.0, **identity) -> list[dict]:
    """Steady traffic on distillable work; ``cot_share`` of prompts ask for the steps and
    ``reasoning_share`` go to a reasoning model (which returns a trace)."""
    out, t = [], start
    while t < end:
        cot = r.uniform(0.6, 0.95) if r.random() < cot_share else r.random() * 0.1
        reasoning = r.randint(500, 3000) if r.random() < reasoning_share else 0
        out.append(dict(account_id=account, ts=t, capability=r.choice(["math", "reasoning", "coding"]),
                        prompt_simhash=f"{r.getrandbits(64):016x}", cot_elicitation=cot,
                        reasoning_tokens=reasoning, output_tokens=r.randint(300, 1200),
                        input_tokens=r.randint(100, 900), max_tokens=16384, **identity))
        t += r.expovariate(per_day / DAY)
    return out


def _first_page(alerts: list[dict], account: str) -> float:
    return min(a["detected_at"] for a in alerts if account in a["accounts"] and a["severity"] in ("error", "critical"))


def test_a_lone_harvester_at_200_a_day_pages_within_three_hours():
    r = random.Random(5)
    start = T0 + 6 * 3600
    lone = _reasoner(r, "acct-lone", start, T0 + DAY, 200, 0.7, client_ip="198.51.100.9",
                     account_created_at=T0 - 40 * DAY, verification="card", payment_fingerprint="pay-lone")
    alerts = run(background(r, 120) + lone)
    assert worst(alerts, "acct-lone") == "error"
    detected = datetime.fromisoformat(_first_page(alerts, "acct-lone")).timestamp()
    assert detected - start <= 3 * 3600


def test_a_person_who_sometimes_asks_for_steps_and_a_tutoring_product_never_page():
    r = random.Random(6)
    person = _reasoner(r, "acct-person", T0, T0 + DAY, 300, 0.1, client_ip="198.51.100.20",
                       account_created_at=T0 - 200 * DAY, verification="card", payment_fingerprint="pay-p")
    # step-by-step explanations, a third of them on a reasoning model (the simulator's tutoring app)
    tutor = _reasoner(r, "acct-tutor", T0, T0 + DAY, 3000, 0.8, 0.33, client_ip="203.0.113.5",
                      account_created_at=T0 - 900 * DAY, verification="business", org_id="org-tutor",
                      payment_fingerprint="pay-t")
    for i, ev in enumerate(tutor):
        ev["end_user_id"] = f"student-{i % 700}"
    alerts = run(background(r, 120) + person + tutor)
    assert worst(alerts, "acct-person") in ("none", "info", "warning")
    assert worst(alerts, "acct-tutor") in ("none", "info", "warning")


def test_an_evaluation_job_with_truncated_traces_warns_but_does_not_page():
    """Seeds 23/41/53's false pages: an edu account's evaluation harness (distillable work, "think
    step by step" in a third of its prompts, a reasoning model for some, completions capped at
    max_tokens) surges to thousands of requests. Each harvest share is high against its peers, but
    few requests want a whole trace: the peer score warns, it does not page. The same surge of
    whole traces asked for in most prompts pages."""
    r = random.Random(7)
    start, end = T0 + 8 * 3600, T0 + 11 * 3600
    ident = dict(account_created_at=T0 - 3 * DAY, verification="edu", org_id="org-eval")
    evals = _reasoner(r, "acct-eval", start, end, 8 * 2000, 0.35, 0.35, client_ip="192.0.2.10",
                      payment_fingerprint="pay-eval", **ident)
    for ev in evals:
        ev["max_tokens"], ev["output_tokens"] = 1024, 1024
    bulk = _reasoner(r, "acct-bulk", start, end, 8 * 2000, 0.7, client_ip="192.0.2.20", payment_fingerprint="pay-b",
                     **ident)
    alerts = run(background(r, 120) + evals + bulk)
    assert worst(alerts, "acct-eval") == "warning"
    assert worst(alerts, "acct-bulk") in ("error", "critical")
