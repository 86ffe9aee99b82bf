-- The campaign stage (models/campaign_processor.py): one operation joined from clusters and
-- accounts, paged as one incident (kind 'campaign' in alerts).

-- Campaign membership over time: one row per account each time an alert of the campaign names it
-- (its opening alert names every member, each update the accounts that joined since). Natural key
-- (campaign_id, account_id, snapshot_at); read with FINAL.
CREATE TABLE IF NOT EXISTS campaign_member
(
    campaign_id  String,
    account_id   String,
    joined_at    DateTime('UTC') COMMENT 'event time the campaign stage first tied it to the campaign',
    snapshot_at  DateTime('UTC') COMMENT 'event time of the alert that named it',
    contribution Float64 COMMENT 'requests x harvest score in the cluster that tied it',
    via          String COMMENT 'the cluster that tied it, or account when it paged on its own',
    inserted_at  DateTime('UTC') DEFAULT now(),
    INDEX idx_account account_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(snapshot_at)
ORDER BY (campaign_id, account_id, snapshot_at)
TTL inserted_at + INTERVAL 730 DAY
SETTINGS non_replicated_deduplication_window = 10000;

-- Alert contract v1.1: the action (trigger or resolve) and the accounts an update adds.
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS action LowCardinality(String) DEFAULT 'trigger' AFTER kind;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS accounts_added Array(String) AFTER accounts_total;
