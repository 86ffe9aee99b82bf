"""Per-account state: decayed counters and sketches updated in O(1) per event.

One :class:`AccountState` is a few hundred bytes of floats and byte arrays (measured in
``docs/performance.md``), serialised to a compact binary record without pickle, so that millions
of accounts fit in a worker and in a changelog.
"""

from __future__ import annotations

import math
import struct
from array import array
from sys import intern
from typing import Final

from distillwatch.models.event import VERIFICATION_LEVELS, Event
from distillwatch.models.sketches import HLL_REGISTERS, hll_add, hll_count, simhash_bands, stable_hash
from distillwatch.models.timespans import DAY, HOUR, WEEK

# Time constants of the decayed counters: they define what a stored counter means, so they are
# not settings (changing one would reinterpret every changelog record).
TAU_FAST: Final = 300.0  # 5 minutes: bursts
TAU_HOUR: Final = HOUR
TAU_DAY: Final = DAY
TAU_WEEK: Final = WEEK  # diurnal rhythm needs several days of memory

# HLL slots in AccountState.keys (its first words: ``HLL_* * HLL_REGISTERS`` is a slot's byte offset)
HLL_IP: Final = 0
HLL_ASN: Final = 1
HLL_TLS: Final = 2
HLL_ROUTER: Final = 3
HLL_PROMPT: Final = 4
HLL_END_USER: Final = 5
HLL_SLOTS: Final = 6
BAND_SLOTS: Final = 64  # direct-mapped cache of recently seen SimHash band keys
RECENT_IDS: Final = 16  # ring of the account's last event-id hashes: a repeat among them counts once
# Two flat arrays instead of five arrays and a list: each array costs a ~64-byte header (and
# its own allocation) on top of its data, and a cached estimate in a list is a float object of
# its own; together that was ~450 B of every account's ~3 KB (docs/performance.md).
# ``weights`` (doubles): capability mix, hour-of-day profile, then the HLL estimate cache.
CAPS: Final = 0
HOURS: Final = 8
EST: Final = 32
N_WEIGHTS: Final = EST + HLL_SLOTS
_SERIAL_WEIGHTS: Final = EST  # the cache is not state: it is not written
# ``keys`` (uint32): the HLL registers (four a word, sketches.hll_add; byte offsets 0-191 as in the
# bytearray they had), the SimHash band cache, then the ring of recent event-id hashes: 128 words,
# 512 B, the largest block CPython's small-object allocator serves. In the record's order.
_HLL_WORDS: Final = HLL_SLOTS * HLL_REGISTERS // 4
BANDS: Final = _HLL_WORDS
RECENT: Final = BANDS + BAND_SLOTS
N_KEYS: Final = RECENT + RECENT_IDS
_NO_WEIGHTS: Final = array("d", [0.0]) * EST + array("d", [-1.0]) * HLL_SLOTS  # copied exactly sized
_NO_KEYS: Final = array("I", [0]) * N_KEYS
DISTILLABLE: Final = frozenset((0, 1, 2, 3))  # coding, agentic, math, reasoning: what distillers harvest
_VERIFICATION_INDEX: Final = {v: i for i, v in enumerate(VERIFICATION_LEVELS)}

# The fields of an account, in four groups (flat __slots__: sub-objects would cost ~10 % more
# memory per account). Within each type, serialisation follows the group order.
#
# 1. what the account did: decayed counters, own-history baseline, identity, latest verdict
_COUNTER_FLOATS = (
    "t_last", "created_at", "r_fast", "r_hour", "r_day", "out_hour", "out_day", "in_day",
    "cot_day", "e429_day", "sat_day", "rep_day", "distill_day", "newmodel_day", "batch_day", "gap_mean", "gap_var",
    "base_mean", "base_var", "base_n", "base_t", "peer_t", "w_ref",
    "v_score", "v_volume", "v_harvest", "v_automation", "score_t",
    "seq_s", "sig_mean", "sig_t0", "sig_t", "harvest_day", "seq_t0", "seq_req", "seq_harvest", "fresh_t",
)
_COUNTER_INTS = ("verification", "events", "degree_day", "v_top", "ip_hash", "models_seen")
_IDENTITY_STRS = ("payment", "tls", "ip24", "asn", "router", "template", "model", "last_event", "org", "fresh_model")
# 2. the open incident: highest severity raised and alerts raised for this account
_INCIDENT_INTS = ("severity", "alert_seq")
# 3. the open event-time minute, for the per-minute aggregate
_WINDOW_FLOATS = ("win_in", "win_out", "win_cot", "win_reasoning")
_WINDOW_INTS = ("win_minute", "win_req", "win_429", "win_sat", "win_harvest", "win_fresh")
_WINDOW_STRS = ("win_event",)

_FLOATS = _COUNTER_FLOATS + _WINDOW_FLOATS
_INTS = _COUNTER_INTS + _INCIDENT_INTS + _WINDOW_INTS
_STRS = _IDENTITY_STRS + _WINDOW_STRS
# ``ip24`` is a property: an IPv4 /24 is kept as its 24-bit number (``ip24_v4``), formatted when read,
# instead of a string of ~64 B per account; any other prefix (an IPv6 /48) as text (``ip24_text``)
_STORED: Final = ("ip24_v4", "ip24_text")
_FIXED: Final = struct.Struct(f"<B{len(_FLOATS)}d{len(_INTS)}q{len(_STRS)}H")  # version, numbers, string lengths
_F64: Final = struct.Struct("<d")
_WORD: Final = struct.Struct("=I")  # one word of ``keys`` (an array of C unsigned ints), as its bytes
_I64: Final = struct.Struct("<q")
_T_LAST_AT: Final = 1 + 8 * _FLOATS.index("t_last")  # byte offsets in the head (packed, no padding)
_R_DAY_AT: Final = 1 + 8 * _FLOATS.index("r_day")
_WIN_MINUTE_AT: Final = 1 + 8 * len(_FLOATS) + 8 * _INTS.index("win_minute")
# 3: sequential harvest evidence, own harvest signature, org, win_harvest; 4: the recent event-id ring;
# 5: harvest_day (decayed harvest requests with a whole trace: the page gate of the peer score), and
# seq_t0/seq_req/seq_harvest (the current run of sequential evidence, for the alert's reason); org: the
# org id (an org suppression matches the account's alerts), was a has-an-org flag; 6: the strings'
# lengths in the head, their bytes last (decoded without a length read per string); 7: the last client
# IP as its hash (``ip_hash``, an int) instead of the address (a string of its own: ~64 B per account);
# 8: the models it used (``models_seen``, a 62-bit Bloom filter), the one it moved to after its first
# requests and when (``fresh_model``, ``fresh_t``) and the open minute's requests on it (``win_fresh``)
_VERSION: Final = 8
COT_LEVEL: Final = 0.5  # a prompt "asks for the reasoning" at this cot_elicitation score (defines win_harvest)


def ip_prefix(ip: str | None) -> str | None:
    """The /24 of an IPv4 address or the /48 of an IPv6 one: the unit a NAT or a proxy pool shares.

    >>> ip_prefix("203.0.113.77")
    '203.0.113.0/24'
    >>> ip_prefix("2001:db8:85a3:8d3:1319:8a2e:370:7348")
    '2001:db8:85a3::/48'
    >>> ip_prefix(None) is None
    True
    """
    if not ip:
        return None
    if ":" in ip:
        parts = ip.split(":")
        return ":".join(parts[:3]) + "::/48"
    head, _, _ = ip.rpartition(".")
    return head + ".0/24" if head else None


class AccountState:
    """Everything distillwatch remembers about one account.

    Counters decay in event time (``value *= exp(-dt/tau)``), so rates over 5 min, 1 h and 1 day
    come from single floats; distinct counts come from 32-register HyperLogLogs; template
    repetition from a 64-slot cache of SimHash band keys. ``severity``/``alert_seq`` are the
    open incident's bookkeeping, and the ``win_*`` fields accumulate the account's currently
    open event-time minute for the per-minute aggregate (see the field groups above).
    """

    __slots__ = _FLOATS + _INTS + tuple(n for n in _STRS if n != "ip24") + _STORED + ("weights", "keys")

    # The slots' types, declared for mypy and for mypyc, which compiles this class to a native one
    # with unboxed float and int fields (the names are those of the groups above; tests/test_compiled.py
    # checks that they match).
    t_last: float
    created_at: float
    r_fast: float
    r_hour: float
    r_day: float
    out_hour: float
    out_day: float
    in_day: float
    cot_day: float
    e429_day: float
    sat_day: float
    rep_day: float
    distill_day: float
    newmodel_day: float
    batch_day: float
    gap_mean: float
    gap_var: float
    base_mean: float
    base_var: float
    base_n: float
    base_t: float
    peer_t: float
    w_ref: float
    v_score: float
    v_volume: float
    v_harvest: float
    v_automation: float
    score_t: float
    seq_s: float
    sig_mean: float
    sig_t0: float
    sig_t: float
    harvest_day: float
    seq_t0: float
    seq_req: float
    seq_harvest: float
    fresh_t: float
    win_in: float
    win_out: float
    win_cot: float
    win_reasoning: float
    verification: int
    events: int
    degree_day: int
    v_top: int
    ip_hash: int
    models_seen: int
    severity: int
    alert_seq: int
    win_minute: int
    win_req: int
    win_429: int
    win_sat: int
    win_harvest: int
    win_fresh: int
    payment: str
    tls: str
    asn: str
    router: str
    template: str
    model: str
    last_event: str
    org: str
    fresh_model: str
    win_event: str
    ip24_v4: int
    ip24_text: str
    weights: array[float]
    keys: array[int]

    def __init__(self) -> None:
        for name in _FLOATS:
            setattr(self, name, 0.0)
        for name in _INTS:
            setattr(self, name, 0)
        for name in _STRS:
            setattr(self, name, "")
        self.created_at = math.nan
        self.verification = -1
        self.ip_hash = -1  # no address yet (a hash is >= 0)
        self.win_minute = -1
        self.weights = _NO_WEIGHTS[:]
        self.keys = _NO_KEYS[:]

    @property
    def ip24(self) -> str:
        """The /24 of the account's address (``a.b.c.0/24``), the /48 of an IPv6 one, or ``""``."""
        v4 = self.ip24_v4
        if v4 < 0:
            return self.ip24_text
        return f"{v4 >> 16}.{(v4 >> 8) & 0xFF}.{v4 & 0xFF}.0/24"

    @ip24.setter
    def ip24(self, prefix: str) -> None:
        self.ip24_v4 = _v4_prefix_number(prefix)
        self.ip24_text = "" if self.ip24_v4 >= 0 else prefix

    # -- per-event update ---------------------------------------------------------------------

    def repeats(self, event_id: str) -> bool:
        """Whether ``event_id`` is one of the account's last :data:`RECENT_IDS` accepted events;
        if not, it takes the place of the oldest (call once per event, before :meth:`update`).

        What it guarantees: a producer's retry counts once unless the account sent 16 other
        events in between (spec 1.1 asks this within the lateness window: guaranteed for accounts
        sending at most 16 events per 5 minutes, the large majority; a busier account's retry is
        caught among its last 16). 64 bytes per account: 32-bit CRCs, which never collide for
        ids that differ in at most 32 consecutive bits (a counter's last digits); for unrelated
        ids a false repeat has odds about 16 in 2^32 (4e-9) per event, and is dead-lettered
        with its reason, not dropped silently."""
        h = stable_hash(event_id) | 1  # 0 marks an empty slot
        keys = self.keys
        # the ring searched as bytes, in C, for the hash's four bytes at a word boundary (``h in
        # keys[RECENT:]`` compared one boxed int per word: ~3,500 instructions per event)
        data = keys.tobytes()
        needle = _WORD.pack(h)
        at = data.find(needle, 4 * RECENT)
        while at & 3 and at >= 0:
            at = data.find(needle, at + 1)
        if at >= 0:
            return True
        keys[RECENT + self.events % RECENT_IDS] = h
        return False

    def update(self, ev: Event, new_model: bool = False) -> None:
        """Fold one event into the counters; O(1), no allocation beyond a few floats.

        ``new_model``: the event asks for a model released recently (the processor knows)."""
        ts = ev.ts
        dt = ts - self.t_last if self.events else 0.0
        if dt > 0.0:
            self._decay_all(dt)
            self.t_last = ts
            lg = math.log1p(dt)
            d = lg - self.gap_mean
            self.gap_mean += 0.05 * d
            self.gap_var = 0.95 * (self.gap_var + 0.05 * d * d)
        elif not self.events:
            self.t_last = ts
        self.r_fast += 1.0
        self.r_hour += 1.0
        self.r_day += 1.0
        # each field of the event is read once: on a msgspec struct every read is an attribute lookup
        out = ev.output_tokens
        inp = ev.input_tokens
        cot = ev.cot_elicitation
        reasoning = ev.reasoning_tokens
        throttled = ev.status == 429
        event_id = ev.event_id
        self.out_hour += out
        self.out_day += out
        self.in_day += inp
        self.cot_day += cot
        if new_model:
            self.newmodel_day += 1.0
        if ev.endpoint == "batch":
            self.batch_day += 1.0
        if throttled:
            self.e429_day += 1.0
        mt = ev.max_tokens
        saturated = ev.finish_reason == "length" or (mt is not None and out >= 0.95 * mt)
        if saturated:
            self.sat_day += 1.0
            self.win_sat += 1
        # capability mix and hour-of-day profile are only read as shares, so instead of decaying
        # 32 buckets per event, each event adds a weight that grows with event time
        # An event older than the reference (out of order) adds a weight below 1, at worst 0.0:
        # only a newer reference is moved to, so no exponent here is ever positive beyond 30.
        x = (ts - self.w_ref) / TAU_DAY
        if x > 30.0 or not self.events:
            self._rebase(ts)
            x = 0.0
        cap = ev.capability
        if cap is not None:
            self.weights[CAPS + cap] += math.exp(x)
            if cap in DISTILLABLE:
                self.distill_day += 1.0
                if cot >= COT_LEVEL and reasoning:
                    self.win_harvest += 1  # asked for the reasoning and got a trace: what a harvester wants
                    if not saturated:  # a whole trace; one cut at max_tokens (evaluation harnesses) is no example
                        self.harvest_day += 1.0
        self.weights[HOURS + int(ts // HOUR) % 24] += math.exp(x * (TAU_DAY / TAU_WEEK))
        self._update_identity(ev)
        self._update_prompt(ev)
        self.events += 1
        if not self.win_req:
            self.win_event = event_id
        self.last_event = event_id
        self.win_req += 1
        self.win_in += inp
        self.win_out += out
        self.win_cot += cot
        self.win_reasoning += reasoning
        if throttled:
            self.win_429 += 1

    def _decay_all(self, dt: float) -> None:
        """Decay by ``dt`` > 0 seconds (an out-of-order event adds 1 undecayed: factors are <= 1)."""
        f_fast = math.exp(-dt / TAU_FAST)
        f_hour = math.exp(-dt / TAU_HOUR)
        f_day = math.exp(-dt / TAU_DAY)
        self.r_fast *= f_fast
        self.r_hour *= f_hour
        self.out_hour *= f_hour
        self.r_day *= f_day
        self.out_day *= f_day
        self.in_day *= f_day
        self.cot_day *= f_day
        self.e429_day *= f_day
        self.sat_day *= f_day
        self.rep_day *= f_day
        self.distill_day *= f_day
        self.newmodel_day *= f_day
        self.batch_day *= f_day
        self.harvest_day *= f_day

    def _rebase(self, ts: float) -> None:
        """Move the weight reference forward to ``ts`` so the growing weights never overflow
        (the factors are ``exp`` of a negative number: they can underflow to 0, never overflow)."""
        if self.events:
            dt = ts - self.w_ref
            f_day = math.exp(-dt / TAU_DAY)
            f_week = math.exp(-dt / TAU_WEEK)
            weights = self.weights
            for i in range(CAPS, HOURS):
                weights[i] *= f_day
            for i in range(HOURS, EST):
                weights[i] *= f_week
        self.w_ref = ts

    def distinct(self, slot: int) -> float:
        """Estimated distinct values in HLL ``slot``, cached until a register changes."""
        est = self.weights[EST + slot]
        if est < 0.0:
            est = self.weights[EST + slot] = hll_count(self.keys, slot * HLL_REGISTERS)
        return est

    @property
    def caps(self) -> array[float]:
        """The capability weights (a copy: write through :attr:`weights`)."""
        return self.weights[CAPS:HOURS]

    @property
    def hours(self) -> array[float]:
        """The hour-of-day weights (a copy: write through :attr:`weights`)."""
        return self.weights[HOURS:EST]

    def capability_shares(self) -> list[float]:
        """The capability weights as shares (one list per closed account-minute's row: the weights
        come out as a list first, which compiled code iterates natively; an ``array`` it steps
        through one boxed item at a time)."""
        caps: list[float] = self.weights[CAPS:HOURS].tolist()
        total = 0.0
        for c in caps:  # sum's additions in its order, natively (compiled, sum is a generic call)
            total += c
        return [c / total for c in caps] if total > 0.0 else [0.0] * 8

    def _update_identity(self, ev: Event) -> None:
        # Most accounts send from the same address, client and route every time: a value equal
        # to the last one is already in its HyperLogLog, so it is not hashed again.
        hll = self.keys
        ip = ev.client_ip
        if ip:
            # the last address is kept as its hash, not as a string of its own; two addresses
            # with one CRC would also be one value to the HyperLogLog (for addresses of one
            # length that differ in at most 32 consecutive bits, CRC-32 never collides)
            ip_hash = stable_hash(ip)
            if ip_hash != self.ip_hash:
                self.ip_hash = ip_hash
                if hll_add(hll, HLL_IP * HLL_REGISTERS, ip_hash):
                    self.weights[EST + HLL_IP] = -1.0
                # a request a router relays comes from the router's egress: that /24 is the
                # router's, tied (and judged a hub or not) as its router value, not the account's
                if not ev.router_id and ((self.ip24_v4 < 0 and not self.ip24_text) or self.events & 15 == 1):
                    self.ip24 = ip_prefix(ip) or ""
        asn = ev.asn
        if asn is not None:
            name = _asn_name(asn)
            if name != self.asn:
                if hll_add(hll, HLL_ASN * HLL_REGISTERS, asn):
                    self.weights[EST + HLL_ASN] = -1.0
                self.asn = name
        # Values many accounts share (client, route, model, org, template) are kept as one
        # interned string each rather than one decoded copy per account.
        tls = ev.tls_fingerprint
        if tls and tls != self.tls:
            if hll_add(hll, HLL_TLS * HLL_REGISTERS, stable_hash(tls)):
                self.weights[EST + HLL_TLS] = -1.0
            self.tls = intern(tls)
        router = ev.router_id
        if router and router != self.router:
            if hll_add(hll, HLL_ROUTER * HLL_REGISTERS, stable_hash(router)):
                self.weights[EST + HLL_ROUTER] = -1.0
            self.router = intern(router)
        end_user = ev.end_user_id
        if end_user:
            if hll_add(hll, HLL_END_USER * HLL_REGISTERS, stable_hash(end_user)):
                self.weights[EST + HLL_END_USER] = -1.0
        payment = ev.payment_fingerprint
        if payment and payment != self.payment:
            self.payment = payment
        created = ev.account_created_at
        if created is not None:
            self.created_at = created
        org = ev.org_id
        if org and org != self.org:
            self.org = intern(org)
        verification = ev.verification
        if verification is not None:
            self.verification = _VERIFICATION_INDEX.get(verification, 0)
        model = ev.model
        if model != self.model:
            self.model = intern(model)

    def _update_prompt(self, ev: Event) -> None:
        """Count the prompt's distinct SimHashes and repeated skeletons, and set the account's
        template key: the gateway's template id when it gave one, else ``band:`` + the SimHash's
        low 32 bits (two of its four 16-bit bands).

        The 32-bit key is there from an account's first paraphrased request, so a prompt pool's
        accounts share its templates' keys at once instead of after they repeat themselves (5-8
        hours at an evasive operation's ~1 request an hour): a paraphrase of 0-k flipped bits keeps
        them with probability ~2^-k (the other requests get keys nobody else has, which tie
        nothing), and two unrelated prompts share one by chance with probability 2^-32, where a
        single 16-bit band tied ordinary prompts to a pool's templates (tried: 4-26 benign accounts
        implicated per simulated day). Such a key never replaces a template id: an account that
        uses the gateway's templates keeps its key through its other prompts."""
        sh = ev.simhash
        template = ev.prompt_template_id
        if sh is None:
            if template and template != self.template:
                self.template = intern(template)
            return
        if hll_add(self.keys, HLL_PROMPT * HLL_REGISTERS, sh):
            self.weights[EST + HLL_PROMPT] = -1.0
        repeated = False
        bands = self.keys
        for key in simhash_bands(sh):
            # each band owns 16 slots; Fibonacci hashing of the band's 16 bits picks one
            slot = BANDS + (((key >> 16) << 4) | (((key & 0xFFFF) * 40503 >> 12) & 15))
            if bands[slot] == key + 1:
                repeated = True
            else:
                bands[slot] = key + 1
        if repeated:
            self.rep_day += 1.0
        if template:
            if template != self.template:
                self.template = intern(template)
        elif not self.template or self.template.startswith("band:"):
            self.template = f"band:{sh & 0xFFFFFFFF:08x}"

    def reset_window(self, minute: int) -> None:
        """Open event-time minute ``minute``: the window group starts from zero."""
        self.win_minute = minute
        self.win_req = self.win_429 = self.win_sat = self.win_harvest = self.win_fresh = 0
        self.win_in = self.win_out = self.win_cot = self.win_reasoning = 0.0

    # -- serialisation (no pickle) -----------------------------------------------------------

    def to_bytes(self) -> bytes:
        """A compact versioned binary record: one fixed-size head (version, numbers, the strings'
        UTF-8 lengths), the arrays, then the strings' UTF-8 bytes."""
        strs = [getattr(self, n).encode() for n in _STRS]
        head = _FIXED.pack(_VERSION, *(getattr(self, n) for n in _FLOATS), *(getattr(self, n) for n in _INTS),
                           *map(len, strs))
        # the arrays as when these were five: caps, hours, hll, bands, recent ids
        return b"".join((head, self.weights[:_SERIAL_WEIGHTS].tobytes(), self.keys.tobytes(), *strs))

    @classmethod
    def from_bytes(cls, data: bytes, offset: int = 0) -> AccountState:
        """Inverse of :meth:`to_bytes`, reading the record at ``offset`` of ``data`` (a changelog
        value holds a short prefix before it); raises ``ValueError`` on a record of another version.

        A restart decodes every account a worker holds (a million and more), so this is written for
        speed: one ``unpack_from`` for the head whose values go straight into their fields (named
        one by one: mypyc then stores each unboxed, where ``setattr`` by name took ~40 % of the
        decode), the arrays filled from the buffer in place, no intermediate slices; and the values
        many accounts share interned, as :meth:`update` keeps them, so a restored worker holds one
        copy of each, not one per account. ``tests/models/test_state.py`` round-trips every field."""
        if len(data) <= offset or data[offset] != _VERSION:
            raise ValueError("account state record of an unknown version")
        st = cls()  # (not cls.__new__: a mypyc native class has none; every field is set below)
        (_, st.t_last, st.created_at, st.r_fast, st.r_hour, st.r_day, st.out_hour, st.out_day, st.in_day,
         st.cot_day, st.e429_day, st.sat_day, st.rep_day, st.distill_day, st.newmodel_day, st.batch_day,
         st.gap_mean, st.gap_var, st.base_mean, st.base_var, st.base_n, st.base_t, st.peer_t, st.w_ref,
         st.v_score, st.v_volume, st.v_harvest, st.v_automation, st.score_t,
         st.seq_s, st.sig_mean, st.sig_t0, st.sig_t, st.harvest_day, st.seq_t0, st.seq_req, st.seq_harvest,
         st.fresh_t, st.win_in, st.win_out, st.win_cot, st.win_reasoning,
         st.verification, st.events, st.degree_day, st.v_top, st.ip_hash, st.models_seen, st.severity,
         st.alert_seq, st.win_minute, st.win_req, st.win_429, st.win_sat, st.win_harvest, st.win_fresh,
         n_payment, n_tls, n_ip24, n_asn, n_router, n_template, n_model, n_last_event, n_org,
         n_fresh_model, n_win_event) = _FIXED.unpack_from(data, offset)
        pos = offset + _FIXED.size
        st.weights[:_SERIAL_WEIGHTS] = array("d", data[pos : pos + 8 * _SERIAL_WEIGHTS])
        pos += 8 * _SERIAL_WEIGHTS
        st.keys[:] = array("I", data[pos : pos + 4 * N_KEYS])
        pos += 4 * N_KEYS
        end = pos + n_payment
        st.payment = data[pos:end].decode()
        pos, end = end, end + n_tls
        st.tls = intern(data[pos:end].decode())
        pos, end = end, end + n_ip24
        st.ip24 = data[pos:end].decode()
        pos, end = end, end + n_asn
        st.asn = intern(data[pos:end].decode())
        pos, end = end, end + n_router
        st.router = intern(data[pos:end].decode())
        pos, end = end, end + n_template
        st.template = intern(data[pos:end].decode())
        pos, end = end, end + n_model
        st.model = intern(data[pos:end].decode())
        pos, end = end, end + n_last_event
        st.last_event = data[pos:end].decode()
        pos, end = end, end + n_org
        st.org = intern(data[pos:end].decode())
        pos, end = end, end + n_fresh_model
        st.fresh_model = intern(data[pos:end].decode())
        pos, end = end, end + n_win_event
        st.win_event = data[pos:end].decode()
        if end != len(data):
            raise ValueError("account state record of the wrong length")
        return st

    @staticmethod
    def silence(data: bytes, offset: int = 0) -> tuple[float, float, int]:
        """``(t_last, r_day, win_minute)`` of the record at ``offset`` of ``data``, read from its head alone:
        a restore sets the accounts silent for a day aside (models/cold_store.py) without decoding
        them, and at a provider's scale most held accounts are."""
        if len(data) <= offset or data[offset] != _VERSION:
            raise ValueError("account state record of an unknown version")
        return (_F64.unpack_from(data, offset + _T_LAST_AT)[0], _F64.unpack_from(data, offset + _R_DAY_AT)[0],
                _I64.unpack_from(data, offset + _WIN_MINUTE_AT)[0])


def _v4_prefix_number(prefix: str) -> int:
    """``a.b.c.0/24`` as the number ``a.b.c`` (24 bits), when formatting that number gives the same
    text back (decimal octets 0-255 without leading zeros, as ``ipaddress`` accepts them); -1 otherwise.

    >>> _v4_prefix_number("203.0.113.0/24") == (203 << 16) | (0 << 8) | 113
    True
    >>> [_v4_prefix_number(p) for p in ("2001:db8:85a3::/48", "10.01.2.0/24", "10.1.256.0/24", "")]
    [-1, -1, -1, -1]
    """
    head, _, tail = prefix.rpartition(".")
    octets = head.split(".")
    if tail != "0/24" or len(octets) != 3:
        return -1
    number = 0
    for octet in octets:
        if not octet.isdigit() or not octet.isascii() or len(octet) > 3 or (octet[0] == "0" and len(octet) > 1):
            return -1
        value = int(octet)
        if value > 255:
            return -1
        number = (number << 8) | value
    return number


_ASN_NAMES: dict[int, str] = {}  # the ASNs seen, as strings: one shared string each, no str() per event
_ASN_NAMES_MAX: Final = 1 << 16


def _asn_name(asn: int) -> str:
    name = _ASN_NAMES.get(asn)
    if name is None:
        if len(_ASN_NAMES) >= _ASN_NAMES_MAX:
            _ASN_NAMES.clear()
        name = _ASN_NAMES[asn] = str(asn)
    return name


def verification_name(index: int) -> str:
    """The verification level's name, or ``unknown`` when the gateway never said."""
    return VERIFICATION_LEVELS[index] if 0 <= index < len(VERIFICATION_LEVELS) else "unknown"


__all__ = ["AccountState", "ip_prefix", "verification_name"]
