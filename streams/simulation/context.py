"""World-wide facts and helpers shared by every population: time span, model release, id allocation,
networks, routers and prompt templates.

Each builder gets its own ``random.Random`` derived from the world seed and a name, so adding a
population never shifts the draws of another one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from distillwatch.models.timespans import DAY_MS
from distillwatch.streams.simulation.catalog import NETWORKS, PROXY_ASNS, SDK_CLIENTS
from distillwatch.streams.simulation.events import Template, format_ts


def derived_rng(seed: int, name: str) -> random.Random:
    """An independent, reproducible stream for ``name`` (str seeds hash with SHA-512, not hash())."""
    return random.Random(f"{seed}:{name}")


@dataclass
class Router:
    """A third-party router / reseller: its id and the egress addresses its traffic arrives from."""

    router_id: str
    asn: int
    ips: tuple[str, ...]


@dataclass
class WorldContext:
    """The world being simulated: span, release time of the new model, routers, id allocation."""

    seed: int
    start_ms: int
    end_ms: int
    release_ms: int
    routers: list[Router] = field(default_factory=list)
    _ids: set[str] = field(default_factory=set)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = derived_rng(self.seed, "ids")
        net = derived_rng(self.seed, "routers")
        for _ in range(net.randint(3, 5)):
            asn = net.choice(PROXY_ASNS[3:])
            self.routers.append(Router(self.new_id("rtr-", 32), asn, ips_in(net, asn, net.randint(4, 12))))

    @property
    def reseller(self) -> Router:
        """The router that resells access to a hydra network and also carries honest customers."""
        return self.routers[0]

    def rng(self, name: str) -> random.Random:
        return derived_rng(self.seed, name)

    def new_id(self, prefix: str, bits: int = 48) -> str:
        """A fresh id, unique in this world (accounts, orgs, templates, payment instruments...)."""
        while True:
            ident = f"{prefix}{self._rng.getrandbits(bits):0{bits // 4}x}"
            if ident not in self._ids:
                self._ids.add(ident)
                return ident

    def account_id(self) -> str:
        return self.new_id("acct-")

    def template(self, rng: random.Random, capability: str, input_tokens: int) -> Template:
        return Template(self.new_id("tpl-", 40), rng.getrandbits(64), input_tokens, capability)

    def created_at(self, rng: random.Random, min_days: float, max_days: float) -> str:
        """An account creation time between ``max_days`` and ``min_days`` before the world starts."""
        return format_ts(self.start_ms - int(rng.uniform(min_days, max_days) * DAY_MS))

    @property
    def days(self) -> float:
        return (self.end_ms - self.start_ms) / DAY_MS


def ips_in(rng: random.Random, asn: int, n: int) -> tuple[str, ...]:
    """``n`` IPv4 addresses in the synthetic address block of ``asn``."""
    _, _, first, (lo, hi) = NETWORKS[asn]
    return tuple(
        f"{first}.{rng.randint(lo, hi)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(n)
    )


def subnet_ips(rng: random.Random, asn: int, n: int) -> tuple[str, ...]:
    """``n`` addresses inside one /24 of ``asn`` (a NAT pool or a small proxy range)."""
    _, _, first, (lo, hi) = NETWORKS[asn]
    prefix = f"{first}.{rng.randint(lo, hi)}.{rng.randint(0, 255)}"
    return tuple(f"{prefix}.{h}" for h in rng.sample(range(1, 255), n))


def network_fields(asn: int) -> dict:
    """The gateway's IP-intelligence fields for an address in ``asn``."""
    ip_type, country, _, _ = NETWORKS[asn]
    return {"asn": asn, "ip_country": country, "ip_type": ip_type}


def sdk_client(rng: random.Random) -> dict:
    """A popular SDK's TLS fingerprint and user agent (shared by many accounts)."""
    tls, ua = rng.choice(SDK_CLIENTS)
    return {"tls_fingerprint": tls, "user_agent": ua}


def identity(
    ctx: WorldContext,
    *,
    org_id: str | None,
    created: str,
    verification: str,
    payment: str | None,
    country: str,
) -> dict:
    """The account-level fields (no ``None`` values: a gateway omits what it does not know)."""
    fields = {
        "org_id": org_id,
        "api_key_id": ctx.new_id("key-", 64),
        "account_created_at": created,
        "verification": verification,
        "payment_fingerprint": payment,
        "billing_country": country,
    }
    return {k: v for k, v in fields.items() if v is not None}
