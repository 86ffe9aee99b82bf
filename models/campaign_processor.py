"""The campaign stage: one processor (one partition) that pages once per operation.

It hears two things (:mod:`distillwatch.models.links`): every account alert the account stage raises
(:class:`~distillwatch.models.links.Verdict`) and every cluster the cluster stage scores at warning or above
that is not a hub (:class:`~distillwatch.models.links.Report`, with its harvest-like members). Both arrive from
many partitions; :class:`~distillwatch.models.minute_merge.MinuteMerge` applies them a closed minute at a time,
in a total order, so replay and the stream decide alike.

- A report of a value most of whose users look harvest-like (``min_share``: a card, a reseller's
  router, a private template; not a popular SDK's TLS stack that several operations and honest
  accounts share) founds a campaign, or joins the one it shares accounts with (the same cluster, or
  ``join_overlap`` accounts, or ``join_share`` of its members); a report touching several
  campaigns merges them into the oldest, and an absorbed campaign that had paged is resolved.
  A prompt pool's fragment (a report at ``info``: a private template of two to four harvest-like
  accounts) founds a silent campaign (it never pages by itself), so the pool's members are held
  together from their first shared template: a member's page then pages the pool once, naming
  every member found so far, instead of opening its own incident.
- A pool's template reports carry each member's recent active slots; the campaign merges them, adds
  the minutes its members and candidates (senders of harvest-like requests on its templates, below
  the gate) use its templates, and tests the pool for lockstep (:mod:`distillwatch.models.lockstep`):
  accounts sharing dispatcher rounds far beyond chance page the campaign (``error``) on their own
  and join it.
- Every account's requests on a pool's templates (and its members' on keys nobody else uses:
  paraphrases of them), harvest-like or not and whether or not the
  account has reached the cluster stage (:class:`~distillwatch.models.links.PoolMinute`,
  :mod:`distillwatch.models.template_evidence`), feed a sequential test of the pool's harvest share
  against the population's: past ``pool_nats`` with ``pool_accounts`` accounts it pages the
  campaign (``error``) and makes members of the accounts that sent harvest-like requests on its
  templates, before each has proven itself; from then on every account that uses one of them
  joins at its first request there.
- A card two to four harvest-like accounts share (a report at ``info``) confirms the campaign
  holding them and adds its other harvest-like accounts (held by none, it founds a silent campaign
  that keeps the tie until a pool's template report joins them); a prompt pool tied by such a card as well
  pages (``error``) on the two ties whatever its harvest share (an operation that hides its chain
  of thought) and then takes in its templates' users, as after the harvest test.
- The campaign's severity is the highest its member signals reached; it pages at ``error``.
  Its incident is re-alerted when it escalates and, at most every ``update_every_s``, when
  accounts joined since its last alert (``accounts_added``), so every member is named.
- An account alert of a member of a campaign passes on below paging (the campaign's incident
  covers it), and an account page escalates its campaign; the page of a pool's candidate (an
  account that sent harvest-like requests on its templates) makes it a member first. Any other
  account alert passes on unchanged.
- A campaign with no member signal for ``quiet_s`` is resolved (if it paged) and forgotten.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from distillwatch.models import lockstep, pool_behaviour, report, template_evidence
from distillwatch.models.alerts import MAX_ACCOUNTS, SEVERITIES, SEVERITY_RANK
from distillwatch.models.campaign_state import (
    C_ATTRIBUTE,
    C_MEMBERS,
    C_SCORE,
    C_THRESHOLD,
    M_NAMED,
    M_VIA,
    CampaignState,
    campaign_id,
)
from distillwatch.models.config import CampaignConfig
from distillwatch.models.links import Message, PoolMinute, Report, Verdict
from distillwatch.models.lockstep import merge_slots
from distillwatch.models.minute_merge import MinuteMerge
from distillwatch.models.timespans import MINUTE

ERROR = SEVERITY_RANK["error"]
# the pool-wide ties that prove a prompt pool an operation, in the order a member's ``via`` names them
PROOFS = ("pool_harvest", "pool_card", "lockstep", "pool_timing", *pool_behaviour.KINDS)
WARNING = SEVERITY_RANK["warning"]


def _order(msg: Report | PoolMinute | Verdict) -> tuple[int, str]:
    """Reports first (so a minute's pool evidence and verdicts see the campaigns it formed), then
    pool minutes, then verdicts, each by subject."""
    kind = type(msg)
    if kind is Report:
        return 0, msg.cluster  # type: ignore[union-attr]
    if kind is PoolMinute:
        return 1, msg.cluster  # type: ignore[union-attr]
    return 2, msg.account  # type: ignore[union-attr]


def _proof(c: CampaignState) -> str | None:
    """The tie that proved ``c``'s prompt pool an operation as a whole (its harvest test, a card
    as well, or its dispatcher's rounds), if one has: from then on its templates' users join it."""
    for kind in PROOFS:
        key = f"{kind}:{c.id}"
        if key in c.clusters:
            return key
    return None


class CampaignProcessor:
    """State and logic of the campaign stage (see the module docstring).

    ``sources``: account partitions then cluster partitions, in the order of their watermarks'
    source indexes."""

    def __init__(self, sources: int, config: CampaignConfig | None = None) -> None:
        self.config = config or CampaignConfig()
        self.merge = MinuteMerge(sources, self._close_minute)
        self.campaigns: dict[str, CampaignState] = {}
        self.member_of: dict[str, str] = {}  # account -> campaign id (rebuilt from campaigns)
        self.cluster_of: dict[str, str] = {}  # cluster key -> campaign id (rebuilt from campaigns)
        self.alerts: list[dict] = []
        self.rows: list[tuple[str, dict]] = []

    def receive(self, msg: Message) -> None:
        self.merge.receive(msg)

    def pending(self) -> Iterator[tuple[int, list]]:
        return self.merge.pending()

    def index(self, c: CampaignState) -> None:
        """Point the member and cluster indexes at ``c`` (after founding, merging, restoring)."""
        for acc in c.members:
            self.member_of[acc] = c.id
        for key in c.clusters:
            self.cluster_of[key] = c.id

    # -- one closed minute ----------------------------------------------------------------------

    def _close_minute(self, minute: int, msgs: list[Report | PoolMinute | Verdict]) -> None:
        ts = (minute + 1) * MINUTE
        ordered = sorted(msgs, key=_order)
        reports = [m for m in ordered if type(m) is Report]
        uses = [m for m in ordered if type(m) is PoolMinute]
        pools: set[str] = set()
        cfg = self.config
        for r in reports:
            if r.share < cfg.min_share:
                continue
            if (cfg.tls_second_tie and r.attribute == "tls") or (cfg.router_second_tie and r.attribute == "router"):
                self._confirm(r, ts)
                continue
            if r.attribute == "payment" and r.severity == "info":
                # a card a few harvest-like accounts share: it confirms, never founds
                card = self._card(r, ts)
                if card is not None:
                    pools.add(card)
                continue
            c = self._report(r, ts)
            if r.attribute == "template":
                pools.add(c.id)
        for u in uses:
            cid = self._pool_of(u)
            if cid is not None:
                self._behaviour(self.campaigns[cid], u, ts)
                self._pool_harvest(self.campaigns[cid], u, ts)
                pools.add(cid)  # new activity on its templates: its rounds may now show
        # once per minute per pool, and before the minute's verdicts: a member's page then folds
        # into a pool that pages now
        for cid in sorted(pools):
            c = self.campaigns.get(cid)  # None: merged into another this minute
            if c is not None:
                self._lockstep(c, ts)
                self._two_ties(c, ts)
        for v in ordered[len(reports) + len(uses):]:
            self._verdict(v, ts)
        for cid in sorted(self.campaigns):  # a few dozen at most: they are forgotten once quiet
            self._maybe_alert(self.campaigns[cid], ts)
        self._resolve_quiet(ts)

    def _pool_of(self, u: PoolMinute) -> str | None:
        """The campaign whose pool a template minute is evidence about: the one holding the
        template, else a pool (a campaign a template tied) holding every user of it.

        An evasive pool paraphrases its templates; a paraphrase that flips a bit of the key's
        32 bits gets a key nobody else has, so most of its requests are on keys no cluster holds.
        Its members' requests there are the operation's all the same, and counting them (harvest
        evidence, lockstep slots) doubles to triples what the pool's tests see. A key any other
        account also uses is not taken: a shared template is evidence only once it reports."""
        cid = self.cluster_of.get(u.cluster)
        if cid is not None or not u.users:
            return cid
        member_of = self.member_of
        cid = member_of.get(u.users[0])
        if cid is None or any(member_of.get(acc) != cid for acc in u.users):
            return None
        c = self.campaigns[cid]
        return cid if any(key.startswith("template:") for key in c.clusters) else None

    def _held(self, r: Report) -> tuple[dict[str, int], float]:
        """How many of ``r``'s members each campaign holds, and how many a campaign must hold for
        ``r`` to join it (``join_overlap``, or ``join_share`` of a small report)."""
        cfg = self.config
        counts: dict[str, int] = {}
        for acc, *_ in r.members:
            cid = self.member_of.get(acc)
            if cid is not None:
                counts[cid] = counts.get(cid, 0) + 1
        return counts, min(cfg.join_overlap, max(1.0, cfg.join_share * len(r.members)))

    def _holder(self, r: Report) -> CampaignState | None:
        """The campaign holding most of ``r``'s members, if it holds enough (:meth:`_held`; the
        older one on a tie): the one a report that confirms but never founds or merges counts for."""
        counts, need = self._held(r)
        held = sorted((-k, self.campaigns[cid].created, cid) for cid, k in counts.items() if k >= need)
        return self.campaigns[held[0][2]] if held else None

    def _confirm(self, r: Report, ts: float) -> None:
        """A TLS value is a weak tie: it confirms (escalates) the campaign that holds most of its
        members, and never founds, merges or adds to one.

        A popular SDK's client stack is shared by thousands of honest accounts and by operations
        that pick it to blend in; in a harvest-heavy world the harvest-like share of its users is as
        high as an operation's own stack's (0.54 vs 0.53-0.71 measured), so no share bar separates
        them, nor does its popularity (an operation is 10-15 % of a small world's accounts, as many
        as a popular SDK's users). What does separate them is a second, independent tie: accounts
        a card, router, address or prompt pool already ties are one operation whatever client they
        use, so the TLS cluster's severity counts for the campaign holding them, and its other
        users (honest ones, other operations) are not glued in."""
        c = self._holder(r)
        if c is None:
            return
        mine = [(acc, contribution) for acc, contribution, *_ in r.members if self.member_of.get(acc) == c.id]
        for acc, contribution in mine:
            c.add_member(acc, ts, contribution, r.cluster, self.config.max_members)  # refreshes its contribution
        self._record(c, r, len(mine), ts)

    def _card(self, r: Report, ts: float) -> str | None:
        """A card two to four harvest-like accounts share (reported at ``info``) joins the
        campaign holding most of them (at least ``join_overlap``, or ``join_share`` of the few) and
        adds its other harvest-like accounts; it merges nothing. Held by a prompt pool, it is the
        pool's second, independent tie (:meth:`_two_ties`).

        Held by no campaign, it founds a silent one (``info``: a card alone never pages): a card's
        few accounts often link hours before its pool's template has five members (seed 97's
        sharding ring: the card at 04:58 and 07:02, the pool at 08:54, the card never again), so
        dropping the early report could lose the second tie for good. The pool's template report
        then joins the card's accounts (``pool_overlap``) and merges the two."""
        c = self._holder(r)
        if c is None:
            # no campaign holds them yet: a silent campaign keeps the tie until a pool's template
            # report joins the same accounts (and merges it in), however the two arrive in time
            return self._report(r, ts).id
        for acc, contribution, *_ in r.members:
            if self.member_of.get(acc, c.id) == c.id:
                c.add_member(acc, ts, contribution, r.cluster, self.config.max_members)
        mine = sum(1 for acc, *_ in r.members if acc in c.members)
        self._record(c, r, mine, ts)
        self.index(c)
        return c.id

    def _two_ties(self, c: CampaignState, ts: float) -> None:
        """A prompt pool (a private template of ``card_pool_members`` harvest-like accounts) whose
        accounts also pay with one card (``card_members`` of them) pages (``error``): two ties of
        different kinds, each private to harvest-like accounts, make one operation whatever its
        harvest share (an operation that hides its chain of thought sends harvest-like requests
        no more often than the population, so neither the pool's harvest test nor its members'
        own evidence ever passes). From then on, as after the harvest test, the accounts that sent
        harvest-like requests on its templates join, and whoever uses one of them joins at once.

        A framework's shared system prompt never ties (a hub never reports), nor does a CI
        fleet's one card and fixed suite (short outputs: its accounts never look harvest-like)."""
        cfg = self.config
        key = f"pool_card:{c.id}"
        if key in c.clusters:
            return
        pool = max((cl[C_MEMBERS] for cl in c.clusters.values() if cl[C_ATTRIBUTE] == "template"), default=0)
        card = max((cl[C_MEMBERS] for cl in c.clusters.values() if cl[C_ATTRIBUTE] == "payment"), default=0)
        if pool < cfg.card_pool_members or card < cfg.card_members:
            return
        value = f"a prompt pool of {pool} accounts, {card} of them on one card"
        self._prove(c, "pool_card", value, len(c.members), float(card), float(cfg.card_members), sorted(c.candidates),
                    ts)

    def _prove(self, c: CampaignState, kind: str, value: str, accounts: int, nats: float, bar: float,
               joining: list[str], ts: float) -> None:
        """Record a pool-wide tie (one of :data:`PROOFS`) among ``c``'s links, page the campaign
        (``error``) and take in ``joining`` (those no other campaign holds): the one step that
        every test proving a pool an operation ends with."""
        key = f"{kind}:{c.id}"
        c.clusters[key] = [kind, value, accounts, 0, 0, [], nats, bar]
        c.severity = max(c.severity, ERROR)
        for acc in joining:
            if self.member_of.get(acc, c.id) == c.id:
                c.add_member(acc, ts, 0.0, key, self.config.max_members)
        self.index(c)

    def _record(self, c: CampaignState, r: Report, members: int, ts: float) -> None:
        """Keep ``r`` among ``c``'s ties (``members`` of it are ``c``'s) and take its severity and score."""
        c.clusters[r.cluster] = [r.attribute, r.value, members, r.requests, r.output_tokens,
                                 r.samples[:3], r.score, r.threshold]
        c.severity = max(c.severity, SEVERITY_RANK[r.severity])
        if r.score >= c.score:
            c.score, c.threshold = r.score, r.threshold
        c.last_ts = ts

    def _report(self, r: Report, ts: float) -> CampaignState:
        """Found, join or merge the campaign ``r`` ties; returns it."""
        cfg = self.config
        counts, need = self._held(r)
        if r.attribute == "template":
            # an operation's accounts draw each request from its whole pool, so its private templates
            # share accounts pairwise only sparsely at first: one shared account joins them early
            need = min(need, cfg.pool_overlap)
        ids = {cid for cid, k in counts.items() if k >= need}
        own = self.cluster_of.get(r.cluster)
        if own is not None:
            ids.add(own)
        if ids:
            ranked = sorted((self.campaigns[cid] for cid in ids), key=lambda c: (c.created, c.id))
            c = ranked[0]
            for other in ranked[1:]:
                self._absorb(c, other, ts)
        else:
            c = CampaignState(campaign_id(r.cluster, int(ts // MINUTE) - 1), ts)
            self.campaigns[c.id] = c
        member_of = self.member_of
        keep = cfg.lockstep_slots
        for acc, contribution, *slots in r.members:
            if member_of.get(acc, c.id) == c.id:  # an account belongs to one campaign: the first to claim it
                c.add_member(acc, ts, contribution, r.cluster, cfg.max_members)
                if slots and acc in c.members and (acc in c.slots or len(c.slots) < cfg.lockstep_max_members):
                    c.slots[acc] = merge_slots(c.slots.get(acc, []), slots[0], keep)
        self._record(c, r, len(r.members), ts)
        self.index(c)
        return c

    def _lockstep(self, c: CampaignState, ts: float) -> None:
        """Test a pool's members, and the accounts that sent harvest-like requests on its templates
        below the gate, for shared dispatcher rounds (:mod:`distillwatch.models.lockstep`); strong
        enough, the tie is recorded among the campaign's links, the pool pages (``error``) on its
        own evidence, before any member pages, and every tested account joins it.

        Rounds that are not yet enough alone count together with the pool's harvest test: the two
        look at different things (when its accounts act, what they ask for), so under the null of
        independent, ordinary accounts their bounds multiply. Fisher's method for two p-values
        ``p1 p2 = e^-s`` gives ``P <= e^-s (1 + s)``, so the pool pages once ``s - ln(1 + s)``
        reaches ``pool_nats`` (~23.2 nats of the two together), with as many accounts as the harvest
        test asks for; the rounds must still beat chance by ``lockstep_ratio`` (a shared day shape
        does not). Measured on the sweep seeds, the paraphrased evasive hydras' pools have 5-19 nats
        of each for an hour or more before either reaches 20."""
        cfg = self.config
        window = int(cfg.lockstep_window_s // lockstep.SLOT_S)
        t = lockstep.cotiming(c.slots, lockstep.slot_of(int(ts // MINUTE)), window, cfg.lockstep_min_slots,
                              cfg.lockstep_slots)
        if t.members < cfg.lockstep_members or t.ratio < cfg.lockstep_ratio:
            return
        rounds = f"active in the same 2-minute rounds {t.ratio:.1f}x as often as chance ({t.nats:.0f} nats)"
        if t.nats >= cfg.lockstep_nats:
            kind, value, nats, bar, joining = "lockstep", rounds, t.nats, cfg.lockstep_nats, sorted(c.slots)
        else:
            both = t.nats + c.harvest_nats
            if len(c.candidates) < cfg.pool_accounts or both - math.log1p(both) < cfg.pool_nats:
                return
            kind, nats, bar = "pool_timing", both, cfg.pool_nats + math.log1p(both)
            value = f"{rounds}, and asking for reasoning traces ({c.harvest_nats:.0f} nats)"
            joining = sorted(set(c.slots) | set(c.candidates))
        if f"{kind}:{c.id}" not in c.clusters:  # the tested accounts below the gate are the operation's too
            self._prove(c, kind, value, t.members, round(nats, 4), round(bar, 4), joining, ts)

    def _pool_harvest(self, c: CampaignState, u: PoolMinute, ts: float) -> None:
        """Add a pool template's minute to the pool's harvest CUSUM, remember who sent its
        harvest-like requests; past the bar with enough accounts, the pool pages and they join.

        The CUSUM (reset at zero) sums evidence across every account and template of the pool, so
        accounts that each send a request an hour, none near ``watch_harvest`` on its own, still
        add up to a page when their requests are harvest-like twice as often as the population's;
        a template ordinary accounts share never reaches a campaign (a hub never reports), and a
        pool of ordinary requests drifts down."""
        cfg = self.config
        llr = template_evidence.harvest_llr(u.requests, u.harvest, cfg.pool_harvest_factor, u.baseline)
        c.harvest_nats = max(0.0, c.harvest_nats + llr)
        member_of = self.member_of
        for acc in u.accounts:
            if member_of.get(acc, c.id) == c.id and (acc in c.candidates or len(c.candidates) < cfg.max_members):
                c.candidates[acc] = c.candidates.get(acc, 0) + 1
        # every minute its members and candidates use its templates, below the gate or not, is a
        # slot of their activity for the lockstep test (a framework's users that never send a
        # harvest-like request there are neither, so their shared office hours are not tested)
        slot, room = lockstep.slot_of(u.minute), len(c.slots) < cfg.lockstep_max_members
        for acc in u.users:
            if (acc in c.members or acc in c.candidates) and (acc in c.slots or room):
                lockstep.add_slot(c.slots.setdefault(acc, []), slot, cfg.lockstep_slots)
        if u.harvest:
            c.last_ts = ts  # harvest-like requests on its templates: the pool is still at work
        key = f"pool_harvest:{c.id}"
        passes = key not in c.clusters and c.harvest_nats >= cfg.pool_nats and len(c.candidates) >= cfg.pool_accounts
        if passes or key in c.clusters:
            value = f"harvest-like requests on its templates far above the population's {u.baseline:.0%}"
            c.clusters[key] = ["pool_harvest", value, len(c.candidates), 0, 0, [], round(c.harvest_nats, 4),
                               cfg.pool_nats]
            c.severity = max(c.severity, ERROR)
        via = _proof(c)
        if via is None:
            return
        # once the pool is proven an operation (its harvest share, two ties or its rounds), whoever
        # uses one of its private templates is the operation's: it joins at once, at its first
        # request there, without waiting for a harvest-like one (~2.5 requests) or for enough
        # slots of its own to be tested for lockstep (~3 hours at a request an hour)
        joining = sorted(c.candidates) if passes else u.users
        for acc in joining:
            if member_of.get(acc, c.id) == c.id:
                c.add_member(acc, ts, 0.0, via, cfg.max_members)
        self.index(c)

    def _behaviour(self, c: CampaignState, u: PoolMinute, ts: float) -> None:
        """Add a pool template's minute to the tests of its operation's own behaviour
        (:mod:`distillwatch.models.pool_behaviour`: its accounts throttled far above the population,
        or moving to a model together); one past its bar proves the pool an operation, as the
        harvest test does: it pages (``error``), the run's accounts and the pool's candidates join,
        and from then on whoever uses one of its templates joins (:meth:`_pool_harvest`, ``_proof``).

        Before the harvest test: an operation that hides its chain of thought sends harvest-like
        requests at the population's share, so that test never passes for it, and without a
        lockstep dispatcher nor a shared card nothing else ties its pool."""
        cfg = self.config
        for kind in pool_behaviour.step(c, u, cfg):
            if f"{kind}:{c.id}" in c.clusters:
                continue
            run = c.behaviour[kind]
            c.last_ts = ts
            self._prove(c, kind, pool_behaviour.describe(kind, run, u), len(run[pool_behaviour.ACCOUNTS]),
                        run[pool_behaviour.NATS], cfg.pool_nats, sorted({*run[pool_behaviour.ACCOUNTS], *c.candidates}),
                        ts)

    def _absorb(self, c: CampaignState, other: CampaignState, ts: float) -> None:
        """Merge ``other`` into the older ``c``; a paged ``other`` gets its ``resolve``."""
        if other.alerted:
            self._alert(other, ts, [], "resolve")
        c.absorb(other, self.config.lockstep_slots)
        del self.campaigns[other.id]
        self.index(c)

    def _verdict(self, v: Verdict, ts: float) -> None:
        alert = v.alert
        rank = SEVERITY_RANK[alert["severity"]]
        cid = self.member_of.get(v.account)
        c = self.campaigns.get(cid) if cid is not None else None
        if c is None and rank >= ERROR:
            c = self._candidate_of(v.account, ts)
        if c is None:
            self.alerts.append(alert)
            return
        c.last_ts = ts
        if rank >= ERROR:
            c.severity = max(c.severity, rank)
            c.members[v.account][M_VIA] = "account"
        c.samples = sorted({*c.samples, *alert["evidence"].get("sample_event_ids", ())})[-3:]
        if c.severity >= ERROR and rank > WARNING:
            alert = {**alert, "severity": SEVERITIES[WARNING]}  # the campaign's incident pages for it
        self.alerts.append(alert)

    def _candidate_of(self, acc: str, ts: float) -> CampaignState | None:
        """The pool a paging account has sent harvest-like requests to (the one it sent most to,
        the older on a tie), which it joins: its page is then that pool's incident.

        A candidate is an account that used a pool's private template (one most of whose users look
        harvest-like: no framework's shared prompt, which never reports) for harvest-like work
        before it reached the cluster stage. A pool's accounts each page as their own volume and
        evidence allow, often before the pool's template reports name them (release chasing: four
        pages in 16 minutes, then the pool's): on its own page, such an account has proven
        itself, and its tie to the pool is its private template, so it joins the pool instead of
        opening an incident of its own. An honest account paging is a false page either way."""
        held = [(-c.candidates[acc], c.created, cid) for cid, c in self.campaigns.items() if acc in c.candidates]
        if not held:
            return None
        c = self.campaigns[min(held)[2]]
        if not c.add_member(acc, ts, 0.0, "account", self.config.max_members):
            return None  # the campaign is full
        self.member_of[acc] = c.id
        return c

    def _maybe_alert(self, c: CampaignState, ts: float) -> None:
        if c.severity < ERROR:
            return
        added = c.unnamed()
        if c.severity > c.alerted or (added and ts - c.alerted_ts >= self.config.update_every_s):
            self._alert(c, ts, added[:MAX_ACCOUNTS], "trigger")

    def _alert(self, c: CampaignState, ts: float, added: list[str], action: str) -> None:
        c.alert_seq += 1
        c.alerted_ts = ts
        if action == "trigger":
            c.alerted = c.severity
        for acc in added:
            c.members[acc][M_NAMED] = 1
        best = max(c.clusters.values(), key=lambda cl: cl[C_SCORE], default=None)
        if best is not None and best[C_SCORE] > c.score:
            c.score, c.threshold = best[C_SCORE], best[C_THRESHOLD]
        self.alerts.append(report.campaign_alert(c, SEVERITIES[c.alerted or c.severity], ts, added, action))
        self.rows.extend(report.campaign_member_rows(c, added, ts))

    def _resolve_quiet(self, ts: float) -> None:
        quiet = self.config.quiet_s
        for cid in sorted(cid for cid, c in self.campaigns.items() if ts - c.last_ts >= quiet):
            c = self.campaigns.pop(cid)
            if c.alerted:
                self._alert(c, ts, [], "resolve")
            for acc in c.members:
                if self.member_of.get(acc) == cid:
                    del self.member_of[acc]
            for key in c.clusters:
                if self.cluster_of.get(key) == cid:
                    del self.cluster_of[key]


__all__ = ["CampaignProcessor"]
