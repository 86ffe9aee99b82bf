-- Per-account, per-event-time-minute aggregates and scores (models/account_processor.py
-- `_minute_row`). The natural key (account_id, minute) is the sorting key of a ReplacingMergeTree,
-- so a retried batch or a re-replayed stream leaves one row per key once read with FINAL.
-- Daily partitions prune time ranges; account_id first serves one-account timelines; skip indexes
-- serve "top by score" and "who else shares this payment / TLS / IP prefix / router".
-- TTL counts from ingestion, not event time: a replay of last quarter's traffic must not be
-- deleted as it is written.
CREATE TABLE IF NOT EXISTS account_minute
(
    account_id          String,
    minute              DateTime('UTC') COMMENT 'start of the event-time minute',
    requests            UInt32,
    input_tokens        UInt64,
    output_tokens       UInt64,
    reasoning_tokens    UInt64,
    rate_limited        UInt32 COMMENT 'responses with status 429',
    saturated           UInt32 COMMENT 'responses that stopped at max_tokens',
    cot_share           Float32 COMMENT 'mean chain-of-thought elicitation score',
    distinct_ips        UInt32,
    distinct_asns       UInt32,
    distinct_tls        UInt32,
    distinct_routers    UInt32,
    distinct_prompts    UInt32,
    capability_mix      Array(Float32) COMMENT 'coding, agentic, math, reasoning, vision, writing, chat, other',
    score               Float64,
    volume_score        Float64,
    harvest_score       Float64,
    automation_score    Float64,
    peer_group          LowCardinality(String),
    model               LowCardinality(String),
    router_id           LowCardinality(String),
    asn                 LowCardinality(String),
    ip_prefix           String,
    payment_fingerprint String,
    tls_fingerprint     String,
    template            String,
    inserted_at         DateTime('UTC') DEFAULT now(),
    INDEX idx_score score TYPE minmax GRANULARITY 4,
    INDEX idx_payment payment_fingerprint TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_tls tls_fingerprint TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_ip_prefix ip_prefix TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_router router_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(minute)
ORDER BY (account_id, minute)
TTL inserted_at + INTERVAL 90 DAY
SETTINGS non_replicated_deduplication_window = 10000;
