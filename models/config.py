"""Every number that tunes detection, in one place: what ``distillwatch config`` lists.

Frozen dataclasses of plain ``float``/``int`` fields, so ``streams/settings.py`` can give each
field an environment variable (account fields ``DW_<FIELD>``, cluster fields
``DW_CLUSTER_<FIELD>``, campaign fields ``DW_CAMPAIGN_<FIELD>``) and the replay engine and the
streaming agents build the very same
:class:`DetectorConfig`: one setting can never mean two things in the two paths.

What stays out: constants that define what state *means* (counter time constants, sketch
register counts): changing them would silently reinterpret stored changelogs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from distillwatch.models.timespans import DAY, HOUR


@dataclass(frozen=True)
class AccountConfig:
    """The account stage: watermark, scoring, severity policy; thresholds adapt above these floors."""

    lateness_s: float = 300.0  # how far behind the partition's event time the watermark trails
    clock_quorum: int = 3  # distinct accounts that must reach a time before the partition's event time does
    max_behind_s: float = 7 * DAY  # an event further behind event time counts in no window: dead-lettered
    warn_floor: float = 12.0  # score floor for a warning
    watch_harvest: float = 5.0  # harvest evidence at which an account's links go to the cluster stage
    error_volume: float = 2.5  # a page needs real volume against peers or own history ...
    error_harvest: float = 7.0  # ... and what distillers want (CoT, distillable mix, long outputs) ...
    error_requests_day: float = 100.0  # ... and enough evidence
    strong_harvest: float = 14.0  # twice the harvest evidence ...
    strong_volume: float = 1.5  # ... pages with less volume
    page_harvest_share: float = 0.15  # a score page also needs this risk-weighted share of harvest requests
    critical_requests_day: float = 2000.0
    critical_factor: float = 2.0  # a critical score is this many times the threshold
    dense_requests: int = 3  # a minute with this many requests is always scored ...
    rescore_s: float = 300.0  # ... sparser ones at most this often per account
    hub_end_users: float = 20.0  # an account forwarding this many end users is a router: no links
    threshold_quantile: float = 0.99
    threshold_min_samples: int = 100  # scores learnt before the quantile replaces the floor
    new_model_s: float = 48 * HOUR  # a model first seen this recently counts as newly released
    new_model_warmup_s: float = 6 * HOUR  # models seen in the first hours are not "new"
    # an account's move to a model it never used (template_evidence.py: a pool moving together)
    fresh_model_events: int = 20  # a model first used after this many requests is one the account moved to ...
    fresh_model_s: float = 6 * HOUR  # ... and its requests on it count as the move's for this long
    z_cap: float = 8.0  # one feature's robust z counts at most this much
    automation_weight: float = 0.5  # scripted traffic alone is ordinary for API customers
    self_min_hours: int = 24  # own-history baseline counts only after a day of hourly samples
    self_alpha: float = 0.05  # EW fading of the own-history baseline (about a day of hourly samples)
    self_sample_s: float = HOUR  # spacing of own-history samples
    peer_learn_s: float = HOUR  # an account teaches its peer group at most this often
    young_s: float = 7 * DAY  # younger accounts: "new" peer group, riskier, "young" cluster member
    established_s: float = 90 * DAY  # older accounts: "established" peer group
    risk_young: float = 0.25  # risk added for a young account ...
    risk_weak: float = 0.25  # ... and for weak verification
    batch_discount: float = 0.6  # all-Batch-API traffic scales the risk by (1 - this)
    min_group_samples: int = 30  # below this a peer group borrows the all-accounts baseline
    baseline_refresh: int = 16  # learns between baseline refreshes: reading 26 sketches per score is costly
    # sequential harvest evidence (CUSUM of a per-request log-likelihood ratio; docs/detection.md)
    seq_harvest_p: float = 0.7  # harvester model: share of requests asking for reasoning and getting a trace
    seq_benign_floor: float = 0.1  # the benign share is never taken below this (peer medians are ~0.05)
    seq_drift: float = 0.1  # nats subtracted per request: margin for ordinary accounts' bursts of CoT
    seq_threshold: float = 16.0  # nats of accumulated evidence that page (error) without a volume surge
    own_tau_s: float = 7 * DAY  # EW memory of the account's own harvest signature ...
    own_history_s: float = 21 * DAY  # ... which becomes its benign baseline after this much history
    risk_vouched: float = 0.5  # business/edu/research verification + an org + an established account
    risk_product: float = 0.25  # forwarding at least hub_end_users distinct end users: a product
    # forgetting: bounded state over months (docs/scaling.md)
    forget_s: float = 30 * DAY  # an account silent this long in event time ...
    forget_requests_day: float = 0.01  # ... whose decayed requests/day are below this leaves the state
    forget_every_s: float = HOUR  # silent accounts are looked for once per this much event time
    cold_after_s: float = DAY  # a silent account waits out of memory after this long (cold_store.py): same results


@dataclass(frozen=True)
class ClusterConfig:
    """The cluster stage: campaign scoring cadence, bounds and severity policy."""

    warn_floor: float = 10.0
    min_members: int = 3  # fewer active members never alert; their scores set the threshold
    error_members: int = 3  # a campaign, not a pair of colleagues ...
    error_harvest_small: float = 10.0  # ... and a small one must look strongly harvest-like
    small_members: int = 5
    # shares are harvest-like member-days over account-days on the value (cluster_scoring.hub_share); the
    # levels below are what the detector was calibrated at before that share was exact (a 1.5x overstated
    # share against 0.5 and 0.8 on every simulated first day: docs/detection.md, "The hub share")
    error_share: float = 0.33  # at least a third of the accounts on this value look harvest-like
    error_requests_day: float = 30.0
    critical_members: int = 50
    growth_factor: float = 2.0  # re-alert when the implicated accounts double
    threshold_quantile: float = 0.99
    threshold_min_samples: int = 100
    score_every_s: float = 300.0  # a cluster is scored at most this often (scoring scans members)
    snapshot_every_s: float = HOUR  # member rows while an incident is open
    active_s: float = DAY  # a member counts as active for this long after its last link
    max_members: int = 5000  # per cluster; the least recently seen tenth goes beyond it
    snapshot_members: int = 1000  # member rows per snapshot
    cms_width: int = 1 << 15  # degree sketch (count-min) columns ...
    cms_depth: int = 3  # ... and rows
    # a prompt pool: a template (or SimHash band) whose users are nearly all harvest-like accounts
    pool_members: int = 5  # active harvest-like members that make a private template a pool ...
    pool_share: float = 0.53  # ... when this share of the value's users look harvest-like (not a framework's prompt)
    pool_harvest: float = 6.0  # ... and their mean harvest score reaches this (long, output-heavy, distillable)
    pool_fragment_members: int = 2  # a smaller pool template is a fragment: a silent pool campaign, never pages
    card_members: int = 2  # harvest-like accounts on a card (share >= pool_share): an info report, a second tie
    forget_s: float = 30 * DAY  # a cluster with no member link for this long is forgotten, and so is such a member
    lockstep_slots: int = 16  # a template member's recent active 2-minute slots kept (models/lockstep.py)
    pool_benign_floor: float = 0.1  # the population's harvest-like share of template requests is never taken below this
    pool_behaviour_floor: float = 0.01  # ... and its throttled and moved-model shares never below this


@dataclass(frozen=True)
class CampaignConfig:
    """The campaign stage: when cluster reports join one operation, and when it is resolved."""

    min_share: float = 0.53  # a cluster ties a campaign only when this share of its value's users look harvest-like
    join_overlap: int = 2  # a report joins a campaign sharing this many of its harvest-like accounts ...
    join_share: float = 0.3  # ... or this share of them
    tls_second_tie: int = 1  # 1: a TLS value only confirms a campaign other values tie (a popular SDK is no tie)
    router_second_tie: int = 1  # 1: so does a router (a reseller's router carries honest customers too)
    pool_overlap: int = 1  # a prompt-pool (template) report joins a campaign sharing this many accounts
    update_every_s: float = 600.0  # joined accounts are named in an update at most this often (alert.md: <= 15 min)
    quiet_s: float = 3 * HOUR  # a campaign with no member signal for this long is resolved and forgotten
    max_members: int = 20_000  # per campaign: bounds the stage's state
    # lockstep (models/lockstep.py): a prompt pool whose members share dispatcher rounds pages by itself
    lockstep_slots: int = 32  # recent active 2-minute slots kept per member (from its pool templates)
    lockstep_max_members: int = 2000  # members whose slots a campaign keeps: bounds the test's cost (members x slots)
    lockstep_window_s: float = 12 * HOUR  # slots older than this are not tested
    lockstep_min_slots: int = 3  # a member is tested once it has this many active slots in the window
    lockstep_members: int = 8  # tested members a pool needs to page on its own co-timing ...
    lockstep_nats: float = 20.0  # ... with this much evidence against independent timing (p < 2e-9) ...
    lockstep_ratio: float = 1.5  # ... and half again the co-occurrences chance gives (a shared day shape gives <= 1.35)
    # pool harvest test (models/template_evidence.py): every account's requests on a pool's templates, summed
    pool_harvest_factor: float = 2.0  # harvesting pool model: twice the population's share of harvest-like requests
    pool_nats: float = 20.0  # CUSUM evidence against the population's share that makes the pool page (as lockstep) ...
    pool_accounts: int = 8  # ... once this many distinct accounts sent harvest-like requests on its templates
    # an operation's own behaviour (models/pool_behaviour.py): throttled load, or a move to a model, pool-wide
    behaviour_factor: float = 3.0  # the operation's model: three times the population's share of such requests ...
    behaviour_accounts: int = 3  # ... from at least this many of the pool's accounts (throttled, or moving together)
    move_together_s: float = HOUR  # a move is together when that many accounts' moves began within this ...
    move_together_share: float = 0.67  # ... and this share of the pool's accounts active in it (adopters spread out)
    # two independent ties (campaign_processor._two_ties): a prompt pool whose accounts also share a card pages
    card_pool_members: int = 5  # a template tie of this many members (a pool, as ClusterConfig.pool_members) ...
    card_members: int = 2  # ... and a payment card tie of at least this many of its members


@dataclass(frozen=True)
class DetectorConfig:
    """Every stage's settings: what the engine and the streaming agents are built from."""

    account: AccountConfig = field(default_factory=AccountConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    campaign: CampaignConfig = field(default_factory=CampaignConfig)


__all__ = ["AccountConfig", "CampaignConfig", "ClusterConfig", "DetectorConfig"]
