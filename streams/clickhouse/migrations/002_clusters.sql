-- The cluster stage (models/cluster_processor.py). A cluster is one shared attribute value
-- ("payment:…", "tls:…", "ip24:…", "router:…", "template:…").

-- Cluster aggregates and score, one row per cluster per closed minute in which it had members.
-- Natural key (cluster_id, minute); read with FINAL.
CREATE TABLE IF NOT EXISTS cluster_minute
(
    cluster_id        String,
    attribute         LowCardinality(String),
    value             String,
    minute            DateTime('UTC'),
    members_active    UInt32 COMMENT 'members seen in the last day',
    members_total     UInt32,
    requests_day      Float64 COMMENT 'decayed requests per day over all members',
    output_tokens_day Float64,
    new_members_hour  Float32,
    hub_share         Float32 COMMENT 'share of accounts on this value that look harvest-like',
    young_share       Float32,
    sync              Float32,
    score             Float64,
    severity          LowCardinality(String) COMMENT 'none, warning, error or critical',
    inserted_at       DateTime('UTC') DEFAULT now(),
    INDEX idx_score score TYPE minmax GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(minute)
ORDER BY (cluster_id, minute)
TTL inserted_at + INTERVAL 90 DAY
SETTINGS non_replicated_deduplication_window = 10000;

-- Membership snapshots, written when a cluster alert is raised (up to 1,000 members, highest
-- contribution first). Natural key (cluster_id, snapshot_at, account_id).
CREATE TABLE IF NOT EXISTS cluster_member
(
    cluster_id      String,
    account_id      String,
    snapshot_at     DateTime('UTC'),
    first_seen      DateTime('UTC'),
    last_seen       DateTime('UTC'),
    requests        UInt64,
    output_tokens   UInt64,
    harvest_score Float64,
    inserted_at     DateTime('UTC') DEFAULT now(),
    INDEX idx_account account_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(snapshot_at)
ORDER BY (cluster_id, snapshot_at, account_id)
TTL inserted_at + INTERVAL 180 DAY
SETTINGS non_replicated_deduplication_window = 10000;
