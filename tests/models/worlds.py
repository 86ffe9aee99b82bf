"""Small hand-made worlds for detector tests: a background of ordinary accounts plus one subject."""

from __future__ import annotations

import random

from distillwatch.models.engine import Engine
from distillwatch.models.event import validate

T0 = 1770940800.0  # 2026-02-13T00:00:00Z
DAY = 86400.0


def background(r: random.Random, n: int = 150, hours: float = 24.0) -> list[dict]:
    """Ordinary chat users: Poisson arrivals, free-form prompts, little CoT, mixed capabilities."""
    out = []
    for a in range(n):
        t = T0 + r.random() * 3600
        while t < T0 + hours * 3600:
            out.append(dict(
                account_id=f"acct-bg{a}", ts=t, capability=r.choice(["chat", "writing", "coding", "other"]),
                prompt_simhash=f"{r.getrandbits(64):016x}", cot_elicitation=r.random() * 0.1,
                client_ip=f"100.{a % 200}.{a // 200}.{r.randint(1, 3)}", tls_fingerprint=f"sdk-{a % 3}",
                account_created_at=T0 - 300 * DAY, verification=r.choice(["card", "email", "phone"]),
                payment_fingerprint=f"pay-bg{a}", input_tokens=r.randint(50, 900),
                output_tokens=r.randint(20, 500), max_tokens=4096,
            ))
            t += r.expovariate(1 / 900)
    return out


def templated(r: random.Random, account: str, start: float, end: float, gap: float, skeletons: int,
              **fields) -> list[dict]:
    """One account sending near-duplicate prompts from a few template skeletons at a steady pace."""
    sk = [r.getrandbits(64) for _ in range(skeletons)]
    out = []
    t = start
    while t < end:
        out.append(dict(account_id=account, ts=t,
                        prompt_simhash=f"{r.choice(sk) ^ (1 << r.randint(0, 63)):016x}", **fields))
        t += gap * r.uniform(0.7, 1.3)
    return out


def run(events: list[dict]) -> list[dict]:
    """Replay ``events`` (sorted by ts) through a 4-partition engine; the alerts raised."""
    events.sort(key=lambda d: d["ts"])
    eng = Engine(4, 4)
    for i, d in enumerate(events):
        d = {"event_id": f"e{i}", "model": "m1", "input_tokens": 300, "output_tokens": 300, "status": 200, **d}
        assert eng.process(validate(d)) is None
    eng.finish()
    return eng.drain_alerts()


def worst(alerts: list[dict], account: str) -> str:
    """The highest severity of any alert implicating ``account`` (``none`` when never)."""
    order = ["none", "info", "warning", "error", "critical"]
    sev = [a["severity"] for a in alerts if account in a["accounts"]]
    return max(sev, key=order.index, default="none")


def quiet_months(days: int = 40, seed: int = 7, regulars: int = 6, weeklies: int = 0) -> list[dict]:
    """``days`` of traffic whose accounts mostly come and go (sorted request events, full fields):
    ``regulars`` accounts every two hours; ``weeklies`` accounts on one day a week each (silent
    for days in between, never for a month); each day four transient accounts active that day only;
    and ``acct-back``, active on days 0-1, silent until day ``days - 5``, then back."""
    r = random.Random(seed)
    out: list[dict] = []

    def send(account: str, ts: float, created: float) -> None:
        out.append(dict(account_id=account, ts=ts, model="m1", input_tokens=r.randint(50, 900),
                        output_tokens=r.randint(20, 500), status=200, capability="chat",
                        prompt_simhash=f"{r.getrandbits(64):016x}", cot_elicitation=0.05,
                        client_ip=f"100.64.{len(account) % 200}.{r.randint(1, 250)}",
                        account_created_at=created, verification="card"))

    for k in range(regulars):
        t = T0 + r.random() * 600
        while t < T0 + days * DAY:
            send(f"acct-reg{k}", t, T0 - 400 * DAY)
            t += 2 * 3600 * r.uniform(0.8, 1.2)
    for k in range(weeklies):
        for d in range(k % 7, days, 7):
            for n in range(3):
                send(f"acct-week{k}", T0 + d * DAY + 3600 * (3 + 4 * n + r.random()), T0 - 200 * DAY)
    for d in range(days):
        for j in range(4):
            for n in range(6):
                send(f"acct-d{d}-{j}", T0 + d * DAY + 3600 * (2 + 3 * n + r.random()), T0 + (d - j) * DAY)
    for d in (0, 1, days - 5):
        for n in range(5):
            send("acct-back", T0 + d * DAY + 3600 * (4 + 2 * n), T0 - 100 * DAY)
    out.sort(key=lambda e: e["ts"])
    for i, e in enumerate(out):
        e["event_id"] = f"e{i}"
    return out
