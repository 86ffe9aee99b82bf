"""Synthetic request events for N distinct accounts (memory and recovery benchmarks).

Every event carries the identity fields the detectors keep per account (IP, ASN, TLS, payment,
prompt SimHash, capability, verification), so each account's state is as full as a real one's.
Deterministic: account ``i``'s fields depend only on ``i``.
"""

from __future__ import annotations

import random

T0 = 1_770_595_200.0  # 2026-02-09T00:00:00Z, the simulator's default start
MODELS = ("atlas-4o-mini", "atlas-4o", "atlas-o3")
CAPS = ("coding", "chat", "writing", "math", "reasoning", "agentic")
VERIF = ("email", "phone", "card", "business")
TLS = tuple(f"t13d1516h2_{i:012x}_e5627efa2ab1" for i in range(40))


def account_id(i: int) -> str:
    return f"acct-bench-{i:08d}"


def event_dict(i: int, n: int, ts: float, rng: random.Random) -> dict:
    """Event ``n`` of account ``i`` at ``ts`` (epoch seconds), as a request-event.md object."""
    return {
        "event_id": f"ev-{i:08d}-{n}",
        "ts": ts,
        "account_id": account_id(i),
        "model": MODELS[i % 3],
        "input_tokens": 200 + rng.randrange(2000),
        "output_tokens": 50 + rng.randrange(1500),
        "status": 200,
        "account_created_at": T0 - 86400.0 * (1 + i % 700),
        "verification": VERIF[i % 4],
        "payment_fingerprint": f"pay-{i // 3:010x}",
        "endpoint": "chat.completions",
        "client_ip": f"{10 + i % 200}.{(i >> 8) & 255}.{i & 255}.{rng.randrange(1, 255)}",
        "asn": 10_000 + i % 5000,
        "ip_type": "residential",
        "tls_fingerprint": TLS[i % len(TLS)],
        "prompt_simhash": f"{rng.getrandbits(64):016x}",
        "capability": CAPS[(i + n) % len(CAPS)],
        "cot_elicitation": 0.05,
        "max_tokens": 2048,
        "finish_reason": "stop",
    }


def rounds(accounts: int, per_account: int, seed: int = 0, spacing_s: float = 3600.0):
    """``(i, n, ts, dict)`` in event-time order: every account once per round, rounds ``spacing_s`` apart."""
    rng = random.Random(seed)
    for n in range(per_account):
        base = T0 + n * spacing_s
        step = spacing_s / accounts
        for i in range(accounts):
            yield i, n, base + i * step, event_dict(i, n, base + i * step, rng)
