"""The account stage: one processor per requests-topic partition.

It owns the accounts of its partition, closes each account's event-time minute when the
partition's watermark passes it (the watermark trails the partition's event time, which follows
the bulk of its accounts: :mod:`distillwatch.models.event_clock`; events implausibly far ahead of or behind
it are rejected, and so is an ``event_id`` the account sent recently), scores the account there
(not per event), raises account alerts (sent to the campaign stage as
:class:`~distillwatch.models.links.Verdict` messages, which pages once per operation), writes per-minute
aggregates, and sends link messages (:mod:`distillwatch.models.links`) of harvest-like accounts to the cluster
stage. It holds its accounts' events until no source partition can still send an earlier one
and applies them sorted (:mod:`distillwatch.models.reorder`), so everything it decides depends
only on the set of its accounts' events, and the streaming workers (whatever partitioner the
producer used) and offline replay (which shards by account the same way) agree exactly.

A streaming partition that goes quiet is :meth:`~AccountProcessor.flush` ed like the end of
input (its last minutes close and the cluster stage stops waiting for it); if events return,
:meth:`~AccountProcessor.wake` undoes that. Offline replay never needs to wake.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Iterator
from sys import intern
from typing import Final

from distillwatch.models import account_scoring, report, template_evidence
from distillwatch.models.account_state import AccountState
from distillwatch.models.alerts import SEVERITY_RANK, AdaptiveThreshold
from distillwatch.models.cold_store import BytesColdStore, ColdStore
from distillwatch.models.config import AccountConfig
from distillwatch.models.event import MAX_FUTURE_S, Event
from distillwatch.models.event_clock import EventClock
from distillwatch.models.features import FEATURE_INDEX, FEATURES, end_users, extract
from distillwatch.models.links import CAMPAIGNS, Degree, Link, Message, Rewind, Verdict, Watermark
from distillwatch.models.partitioning import partition_for
from distillwatch.models.peers import VOUCHED_VERIFICATION, WEAK_VERIFICATION, PeerModel, peer_group
from distillwatch.models.reorder import ReorderBuffer
from distillwatch.models.sketches import stable_hash
from distillwatch.models.timespans import DAY, HOUR, MINUTE

LINK_ATTRIBUTES: Final = ("payment", "tls", "ip24", "router", "template")
_FLUSH_AHEAD_S: Final = 365 * DAY  # a flush moves the watermark this far past the newest event
_COT_SHARE: Final = FEATURE_INDEX["cot_share"]
# Link and Degree messages (per watched account-minute, daily per account) built straight from a
# tuple: a named tuple's own ``__new__`` is interpreted code, ``tuple.__new__`` is C; same objects.
_message = tuple.__new__


class AccountProcessor:
    """State and logic of one requests partition (see module docstring)."""

    def __init__(self, partition: int, cluster_partitions: int, config: AccountConfig | None = None,
                 sources: Iterable[int] | None = None, cold: ColdStore | None = None) -> None:
        self.partition = partition
        self.cluster_partitions = cluster_partitions
        cfg = self.config = config or AccountConfig()
        self.accounts: dict[str, AccountState] = {}  # the accounts in memory
        # accounts silent for cold_after_s wait in ``cold`` (models/cold_store.py); only the sweep
        # boundary from which each is forgotten stays here (forget_boundary), so forgetting one reads nothing
        self.cold: ColdStore = BytesColdStore() if cold is None else cold
        self.cold_until: dict[str, float] = {}
        self._cooled_at = -math.inf  # the sweep boundary of the last pass that set accounts aside
        self.peers = PeerModel(cfg.min_group_samples, cfg.baseline_refresh)
        self.threshold = AdaptiveThreshold(cfg.threshold_quantile, cfg.warn_floor, cfg.threshold_min_samples)
        self.max_ts = -math.inf  # the newest accepted ts: a flush must close even an outlier's minute
        self.clock = EventClock(cfg.clock_quorum, MAX_FUTURE_S, cfg.lateness_s)  # of the events applied
        # this partition as a source: the clock of the events read from it, whoever owns them
        self.arrivals = EventClock(cfg.clock_quorum, MAX_FUTURE_S, cfg.lateness_s)
        # what may still arrive from every source partition (replay: this one only)
        self.order = ReorderBuffer((partition,) if sources is None else sources)
        self.released = 0  # events applied in release order (late ones not counted)
        self.rejected: list[tuple[Event, str]] = []  # events rejected when applied, for the driver
        self.watermark = -math.inf
        self.sent_watermark = -math.inf  # the last minute boundary announced to the cluster stage
        self._open: dict[int, list[str]] = {}  # minute -> accounts in opening order (see window_positions)
        self._open_heap: list[int] = []
        self.models_first_seen: dict[str, float] = {}  # a handful of model names per provider
        self.first_ts = math.inf
        self.forgot_at = -math.inf  # the event-time boundary of the last sweep for silent accounts
        self._stale: list[str] = []  # accounts that may fall silent before ``_stale_until`` (a cache)
        self._stale_until = -math.inf
        self.counters = {"events": 0, "late": 0, "too_far_ahead": 0, "too_far_behind": 0, "duplicates": 0,
                         "errors": 0, "windows": 0, "forgotten": 0}
        # accounts set aside, brought back, and lost by the cold store: this process's own (which
        # accounts wait in memory depends on when it started, so these are metrics, not state)
        self.cold_counts = {"cooled": 0, "warmed": 0, "lost": 0}
        # outputs, drained by the driver (replay or Faust agent)
        self.alerts: list[dict] = []
        self.rows: list[tuple[str, dict]] = []
        self.links: list[tuple[int, Message]] = []
        self.dirty: set[str] = set()  # changed (or forgotten: absent from ``accounts``) since the driver looked
        self.template_minutes: dict[str, list] = {}  # below-gate evidence of open minutes (template_evidence.py)

    # -- input --------------------------------------------------------------------------------

    def process(self, ev: Event) -> str | None:
        """An event read from this partition that it owns (replay: every event): checked as a
        source (:meth:`admit`), held (:meth:`enqueue`), and this source's mark moved on.
        Returns a dead-letter reason when the event is rejected."""
        reason = self.admit(ev)
        if reason is None:
            reason = self.enqueue(ev)
            self.mark(self.partition, self.source_mark)
        return reason

    def admit(self, ev: Event) -> str | None:
        """Source-side checks of an event read from this partition, whoever owns it: a time
        implausibly far from the partition's event clock is rejected, any other moves the clock.

        Never raises (nor does :meth:`enqueue`): an exception is a reason too (class and
        message, one line), so one poison event cannot stop a worker or cut a replay short."""
        try:
            ts = ev.ts
            now = self.arrivals.time
            if ts > now + MAX_FUTURE_S and now != -math.inf:
                return self._too_far_ahead(ts, now)
            if ts < now - self.config.max_behind_s:
                self.counters["too_far_behind"] += 1
                return (f"implausible time: ts is {now - ts:,.0f} s behind the stream's event time, too old for "
                        f"any window (limit: {self.config.max_behind_s:,.0f} s)")
            self.arrivals.observe(ev.account_id, ts)
        except Exception as exc:  # noqa: BLE001 - any bug must cost one event, not the partition
            self.counters["errors"] += 1
            return error_reason(exc)
        return None

    def _too_far_ahead(self, ts: float, now: float) -> str:
        """Count and word one event dated implausibly far past the stream's event time ``now``."""
        self.counters["too_far_ahead"] += 1
        return f"implausible time: ts is {ts - now:,.0f} s ahead of the stream's event time (limit: 1 day)"

    @property
    def source_mark(self) -> float:
        """What this partition promises its accounts' owners as a source: nothing earlier will come."""
        return self.arrivals.time - self.config.lateness_s

    def enqueue(self, ev: Event) -> str | None:
        """An event this partition owns, from any source: held until every source's mark has
        passed it, or applied at once if it is late (below what was released already). What is
        rejected when applied (an ``event_id`` the account sent recently) lands in :attr:`rejected`."""
        try:
            if not self.order.push(ev):
                self.counters["late"] += 1
                self._apply(ev)
        except Exception as exc:  # noqa: BLE001 - as in admit
            self.counters["errors"] += 1
            return error_reason(exc)
        return None

    def mark(self, source: int, watermark: float) -> None:
        """``source`` sends nothing below ``watermark`` from now on: apply what that releases. When
        every source is done (all marks infinite: end of input, or every source idle), close
        every window as at the end of input."""
        order = self.order
        order.mark(source, watermark)
        released = order.release()
        for ev in released:
            self.released += 1
            self._apply(ev)
        if order.frontier == math.inf and not self.is_flushed:
            self.advance(math.inf if self.max_ts == -math.inf else self.max_ts + _FLUSH_AHEAD_S)

    def _apply(self, ev: Event) -> None:
        now = self.clock.time
        if ev.ts > now + MAX_FUTURE_S and now != -math.inf:  # held since before its source had a clock
            self.rejected.append((ev, self._too_far_ahead(ev.ts, now)))
            return
        if self.watermark > self.max_ts:  # flushed (idle), and events came back
            self.wake()
        try:
            self._fold(ev)
        except Exception as exc:  # noqa: BLE001 - as in admit
            self.counters["errors"] += 1
            self.rejected.append((ev, error_reason(exc)))

    def _fold(self, ev: Event) -> None:
        ts = ev.ts
        acc = ev.account_id
        st = self.accounts.get(acc)
        if st is None:
            st = self.accounts[acc] = self._warm(acc)
        if st.repeats(ev.event_id):
            self.counters["duplicates"] += 1
            self.rejected.append((ev, "duplicate event_id: this account sent it recently, counted once"))
            return
        self.counters["events"] += 1
        minute = int(ts // 60)
        win_minute = st.win_minute
        if win_minute < 0:
            self._open_window(acc, st, minute)
        elif minute > win_minute:
            self._close_window(acc, st)
            self._open_window(acc, st, minute)
        model = ev.model
        if model != st.model or model == st.fresh_model:  # (before update makes it the account's model)
            self._track_model(st, model, ts)
        st.update(ev, self._is_new_model(model, ts))
        self.dirty.add(acc)
        if ts > self.max_ts:
            self.max_ts = ts
        clock = self.clock
        if clock.observe(acc, ts):
            self.advance(clock.time - self.config.lateness_s)

    def _warm(self, acc: str) -> AccountState:
        """The state of an account not in memory: its cold state if it has one, else a newcomer's."""
        if self.cold_until.pop(acc, None) is None:
            return AccountState()
        st = self.cold.take(acc)
        if st is None:  # the store lost it (a table record gone): never silent, start afresh
            self.cold_counts["lost"] += 1
            return AccountState()
        self.cold_counts["warmed"] += 1
        return st

    def _is_new_model(self, model: str, ts: float) -> bool:
        """Whether ``model`` appeared in this partition's traffic recently (a fresh release):
        release chasers move to it within a day, ordinary customers over weeks."""
        first = self.models_first_seen.get(model)
        if first is None:
            first = self.models_first_seen[model] = ts
            self.first_ts = min(self.first_ts, ts)
        cfg = self.config
        return first - self.first_ts >= cfg.new_model_warmup_s and ts - first <= cfg.new_model_s

    def _track_model(self, st: AccountState, model: str, ts: float) -> None:
        """Note a model the account never used (a 62-bit Bloom filter of its models) and, once it
        has sent ``fresh_model_events`` requests, remember it as the model the account moved to;
        for ``fresh_model_s`` after that, its requests on that model count in ``win_fresh``.

        An account-local fact (the account's own history, in its own event order), so replay and
        the stream, with any number of partitions, count the same requests; "the first time this
        partition saw the model" would not. Called on a switch of model or a request on the model
        it moved to (forgotten once the move is old): an account that stays on one model costs
        two string comparisons per request."""
        cfg = self.config
        if model != st.model:
            bit = 1 << (stable_hash(model) % 62)
            if not st.models_seen & bit:
                st.models_seen |= bit
                if st.events >= cfg.fresh_model_events:
                    st.fresh_model, st.fresh_t = intern(model), ts
        if model == st.fresh_model:
            if ts - st.fresh_t <= cfg.fresh_model_s:
                st.win_fresh += 1
            else:
                st.fresh_model = ""

    def advance(self, watermark: float) -> None:
        """Move the watermark forward and close every account minute that ended before it."""
        if watermark <= self.watermark:
            return
        self.watermark = watermark
        heap = self._open_heap
        while heap and (heap[0] + 1) * 60 <= watermark:
            minute = heapq.heappop(heap)
            for acc in self._open.pop(minute):
                st = self.accounts.get(acc)  # None: a restored bucket's hole
                if st is not None and st.win_minute == minute:
                    self._close_window(acc, st)
                    st.win_minute = -1
        self._forget_silent()
        # the cluster stage only needs minute resolution: tell it when a minute boundary passes
        boundary = math.floor(watermark / MINUTE) * MINUTE if watermark != math.inf else math.inf
        if boundary > self.sent_watermark:
            self.sent_watermark = boundary
            self.links.extend(template_evidence.drain(self.template_minutes, boundary, self.cluster_partitions))
            msg = Watermark(self.partition, boundary)
            self.links.extend((p, msg) for p in self._stage_targets())

    def flush(self) -> None:
        """End of input from this partition as a source (offline replay's end, or an idle
        streaming partition): with every source done, every window closes."""
        self.mark(self.partition, math.inf)

    @property
    def is_flushed(self) -> bool:
        """Whether the partition was flushed and has not seen an event since."""
        return self.watermark > self.max_ts

    def wake(self) -> None:
        """Undo a flush before the next event: every window is closed, so only the watermark
        moves back to where the events left it, and every cluster partition is told (:class:`Rewind`)."""
        if self.clock.time == -math.inf:
            self.watermark = self.sent_watermark = -math.inf
        else:
            self.watermark = self.clock.time - self.config.lateness_s
            self.sent_watermark = math.floor(self.watermark / MINUTE) * MINUTE
        msg = Rewind(self.partition, self.sent_watermark)
        self.links.extend((c, msg) for c in self._stage_targets())

    def _stage_targets(self) -> tuple[int, ...]:
        """Every partition downstream that waits on this one's watermark: the cluster stage's and
        the campaign stage's."""
        return (*range(self.cluster_partitions), CAMPAIGNS)

    def _forget_silent(self) -> None:
        """Drop the accounts silent for ``forget_s`` whose decayed rate is negligible, once per
        ``forget_every_s`` of the partition's event time, so state is bounded by the accounts
        active in the last ``forget_s``, not by every account ever seen.

        Deterministic: the sweep follows the event clock (which only events move: a flush does
        not sweep), its cutoff is aligned to a ``forget_every_s`` boundary, and a sweep repeated
        within one boundary finds nothing more, so replay, the stream and a restarted worker
        forget the same accounts at the same event. A forgotten account is put in ``dirty``
        (absent from ``accounts``): the stage writes its changelog tombstone. When it returns it
        starts as a newcomer, with what its own events say (its age from ``account_created_at``)."""
        cfg = self.config
        now = self.clock.time
        if now == -math.inf:
            return
        boundary = math.floor(now / cfg.forget_every_s) * cfg.forget_every_s
        if boundary <= self.forgot_at:
            return
        self.forgot_at = boundary
        cutoff = boundary - cfg.forget_s
        accounts, cold_until = self.accounts, self.cold_until
        if cutoff > self._stale_until:
            # One full scan per day of event time lists every account that can fall silent before
            # the next scan: an event for any other account is at most max_behind_s old, newer
            # than the horizon, so each sweep decides exactly as a full scan would.
            reach = max(0.0, min(DAY, (cfg.forget_s - cfg.max_behind_s) / 2))
            self._stale_until = horizon = cutoff + reach
            self._stale = [acc for acc, st in accounts.items() if st.t_last <= horizon]
            self._stale += [acc for acc, until in cold_until.items() if until <= horizon + cfg.forget_s]
        gone: list[str] = []
        stale: list[str] = []
        for acc in self._stale:
            st = accounts.get(acc)
            if st is not None:
                if st.t_last > self._stale_until:
                    continue  # active again
                if st.win_minute < 0 and _forgettable(st.t_last, st.r_day, boundary, cfg):
                    gone.append(acc)
                    del accounts[acc]
                else:
                    stale.append(acc)
                continue
            until = cold_until.get(acc)
            if until is None:
                continue  # forgotten already
            if until <= boundary:  # what _forgettable says of it from that boundary on (no open minute)
                gone.append(acc)
                del cold_until[acc]
                self.cold.drop(acc)
            elif until <= self._stale_until + cfg.forget_s:
                stale.append(acc)
        self._stale = stale
        self.dirty.update(gone)
        self.counters["forgotten"] += len(gone)
        if boundary - self._cooled_at >= cfg.cold_after_s:
            self._cooled_at = boundary
            self._cool(boundary - cfg.cold_after_s)

    def _cool(self, limit: float) -> None:
        """Move the accounts silent since ``limit`` to the cold store (see models/cold_store.py),
        except those changed since the driver last wrote state: a stage's store reads the account's
        last written record. One pass over the accounts in memory per ``cold_after_s`` of event
        time, so an account waits there between one and two ``cold_after_s`` after its last event.
        Which accounts wait in memory never changes a result, only memory."""
        accounts, dirty = self.accounts, self.dirty
        cooling = [acc for acc, st in accounts.items()
                   if st.t_last <= limit and st.win_minute < 0 and acc not in dirty]
        for acc in cooling:
            st = accounts.pop(acc)
            self.cold.put(acc, st)
            self.cold_until[acc] = forget_boundary(st.t_last, st.r_day, self.config)
        self.cold_counts["cooled"] += len(cooling)

    # -- windows ------------------------------------------------------------------------------

    def open_windows(self) -> Iterator[tuple[int, list[str]]]:
        """``(minute, accounts)`` of the open minutes, accounts in closing order."""
        by_minute: dict[int, list[str]] = {}
        for acc, minute, _ in self.window_positions():
            by_minute.setdefault(minute, []).append(acc)
        yield from by_minute.items()

    def window_positions(self) -> Iterator[tuple[str, int, int]]:
        """``(account, minute, position)`` of every open window. The position is the account's
        index in its minute's bucket, which never changes while the minute is open: entries of
        accounts that moved on to a later minute stay (and are skipped), so positions written to
        the changelog at different times still give the closing order when a restore sorts them."""
        accounts = self.accounts
        for minute, bucket in self._open.items():
            for i, acc in enumerate(bucket):
                st = accounts.get(acc)
                if st is not None and st.win_minute == minute:
                    yield acc, minute, i

    def reopen_windows(self, minute: int, entries: list[tuple[int, str]]) -> None:
        """Restore one open minute from its accounts' ``(position, account)``, sorted: each at its
        position again, holes (``""``, no account) where entries that moved on were, so accounts
        opening later still come after every restored one."""
        bucket = [""] * (entries[-1][0] + 1)
        for position, acc in entries:
            bucket[position] = acc
        self._open[minute] = bucket
        heapq.heappush(self._open_heap, minute)

    def _open_window(self, acc: str, st: AccountState, minute: int) -> None:
        st.reset_window(minute)
        bucket = self._open.get(minute)
        if bucket is None:
            bucket = self._open[minute] = []
            heapq.heappush(self._open_heap, minute)
        bucket.append(acc)

    def _close_window(self, acc: str, st: AccountState) -> None:
        cfg = self.config
        minute = st.win_minute
        close_ts = (minute + 1) * MINUTE
        self.counters["windows"] += 1
        self.dirty.add(acc)
        age = close_ts - st.created_at if not math.isnan(st.created_at) else math.nan
        group = peer_group(age, st.verification, cfg.young_s, cfg.established_s)
        users = end_users(st)
        risk = account_scoring.risk_factor(
            age, st.verification in WEAK_VERIFICATION, bool(st.org) and st.verification in VOUCHED_VERIFICATION,
            users, st.batch_day / max(st.r_day, 1e-9), cfg)
        crossed = self._sequential(st, close_ts, group, risk)
        # A sparse minute soon after the last score barely moves an account's picture: scoring
        # it again would be most of the per-event cost for the many low-rate accounts.
        if crossed or st.win_req >= cfg.dense_requests or close_ts - st.score_t >= cfg.rescore_s:
            self._score(acc, st, close_ts, group, risk)
            for alert in self.alerts:  # the campaign stage routes account alerts (the one pager)
                self.links.append((CAMPAIGNS, Verdict(minute, acc, alert)))
            self.alerts.clear()
        self.rows.append(("account_minute", report.account_minute_row(acc, st, minute, group)))
        hub = users >= cfg.hub_end_users
        day = int(close_ts // DAY)
        if day > st.degree_day and not hub:
            st.degree_day = day
            for attr, value, target in self._link_targets(st):
                self.links.append((target, _message(Degree, (minute, attr, value))))
        if st.template and not hub:
            template_evidence.observe(self.template_minutes, minute, st.template, st.win_req, st.win_harvest, acc,
                                      st.win_429, st.win_fresh, int(st.fresh_t // MINUTE))
        if st.v_harvest >= cfg.watch_harvest and not hub:
            young = 1 if math.isnan(age) or age < cfg.young_s else 0
            req, out, harvest = st.win_req, int(st.win_out), round(st.v_harvest, 3)
            for attr, value, target in self._link_targets(st):
                self.links.append((target, _message(Link, (minute, attr, value, acc, req, out, harvest, young,
                                                            st.v_top, st.last_event))))

    def _sequential(self, st: AccountState, close_ts: float, group: str, risk: float) -> bool:
        """Add the closed minute's harvest evidence to the account's CUSUM; whether it now pages."""
        cfg = self.config
        p_benign = self._benign_share(st, close_ts, group)
        llr = account_scoring.harvest_llr(st.win_req, st.win_harvest, cfg.seq_harvest_p, p_benign)
        st.seq_s = account_scoring.sequential_step(st.seq_s, llr, st.win_req, risk, cfg.seq_drift)
        account_scoring.track_run(st, close_ts)
        if st.seq_s == 0.0:
            account_scoring.learn_signature(st, close_ts, cfg.own_tau_s)
        return st.seq_s >= cfg.seq_threshold and st.severity < SEVERITY_RANK["error"]

    def _benign_share(self, st: AccountState, close_ts: float, group: str) -> float:
        """The harvest-request share expected of the account: its peers' CoT share or its own history."""
        baseline = self.peers.baseline(group)
        peer_share = baseline[0][_COT_SHARE] if baseline is not None else 0.0
        return account_scoring.benign_share(st, peer_share, close_ts, self.config)

    def _score(self, acc: str, st: AccountState, close_ts: float, group: str, risk: float) -> None:
        """Score the account against its peers and its own history, learn, and maybe alert."""
        cfg = self.config
        x = extract(st)
        self_z, self_base = account_scoring.self_surge(st, cfg.self_min_hours)
        verdict = account_scoring.score(x, self.peers.baseline(group), self_z, self_base, st.r_hour, risk,
                                        cfg.z_cap, cfg.automation_weight)
        st.score_t = close_ts
        st.v_score, st.v_volume, st.v_harvest, st.v_automation = (
            verdict.score, verdict.volume, verdict.harvest, verdict.automation)
        st.v_top = next((t.feature for t in verdict.terms
                         if t.feature >= 0 and FEATURES[t.feature].group == "harvest"), -1)
        account_scoring.learn_self(st, close_ts, cfg.self_alpha, cfg.self_sample_s)
        if verdict.harvest < cfg.watch_harvest and close_ts - st.peer_t >= cfg.peer_learn_s:
            # baselines and the threshold learn only from accounts that do not look like
            # harvesters (River's protect-the-detector idea), at most hourly per account, so
            # neither heavy users nor a large campaign can become "normal"
            st.peer_t = close_ts
            self.peers.learn(group, x)
            self.threshold.learn(verdict.score)
        threshold = self.threshold.level
        harvest_share = risk * st.harvest_day / max(st.r_day, 1e-9)
        severity = account_scoring.severity(verdict, st.r_day, threshold, cfg, harvest_share, st.seq_s)
        if SEVERITY_RANK[severity] > st.severity:
            st.severity = SEVERITY_RANK[severity]
            st.alert_seq += 1
            sequential = None
            if st.seq_s >= cfg.seq_threshold:  # the page is the sequential test's: it says what it saw
                sequential = account_scoring.SequentialEvidence(
                    st.seq_s, cfg.seq_threshold, int(st.seq_req), int(st.seq_harvest),
                    self._benign_share(st, close_ts, group), (close_ts - st.seq_t0) / HOUR)
            self.alerts.append(report.account_alert(acc, st, severity, verdict, threshold, close_ts, group,
                                                    sequential))

    # -- outputs ------------------------------------------------------------------------------

    def _link_targets(self, st: AccountState) -> Iterator[tuple[str, str, int]]:
        """``(attribute, value, cluster partition)`` for each linking attribute value the account has.

        The partition is hashed each time, not memoised: this runs per closed minute of a
        harvest-like account and once a day per account (``Degree``), and a memo of every value
        held cost ~118 B per account at 1 M accounts (docs/performance.md), more than it saved."""
        partitions = self.cluster_partitions
        for attr in LINK_ATTRIBUTES:
            value = getattr(st, attr)
            if value:
                yield attr, value, partition_for(f"{attr}:{value}", partitions)


def _forgettable(t_last: float, r_day: float, boundary: float, cfg: AccountConfig) -> bool:
    """Whether an account last active at ``t_last`` with decayed rate ``r_day`` may be forgotten at
    sweep ``boundary`` (and no open minute, which the caller checks): silent for ``forget_s`` and a
    rate decayed to below ``forget_requests_day``. One rule for the accounts in memory and, through
    :func:`forget_boundary`, for those set aside."""
    return t_last <= boundary - cfg.forget_s and r_day * math.exp((t_last - boundary) / DAY) < cfg.forget_requests_day


def forget_boundary(t_last: float, r_day: float, cfg: AccountConfig) -> float:
    """The first sweep boundary at which an account silent since ``t_last`` with decayed rate
    ``r_day`` is :func:`_forgettable` (both of its terms only come true as the boundary grows, so it
    stays so), computed as the sweep computes boundaries; ``inf`` if none within a year (a rate
    that is not a number). An account set aside keeps only this: forgetting it reads nothing."""
    every = cfg.forget_every_s
    k = math.ceil((t_last + cfg.forget_s) / every)
    for _ in range(int(365 * DAY / every)):
        if _forgettable(t_last, r_day, k * every, cfg):
            return k * every
        k += 1
    return math.inf


def error_reason(exc: BaseException) -> str:
    """A dead-letter reason for an unexpected exception: class and message on one line, no traceback."""
    return " ".join(f"could not process the record: {type(exc).__name__}: {exc}".split())[:500]
