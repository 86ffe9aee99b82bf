-- Every alert (spec/alert.md v1), one row per alert_id. alert_id is a function of
-- (dedup_key, seq, detected_at) and dedup_key of (kind, subject), so the sorting key below is the
-- alert's identity: a re-sent alert collapses under FINAL. Reading by subject (one incident's
-- history) is a primary-key range. reasons / evidence / links keep the contract's JSON verbatim;
-- MATERIALIZED columns extract what investigations filter and group on, computed by the server
-- at insert so every writer agrees.
CREATE TABLE IF NOT EXISTS alerts
(
    alert_id       String,
    dedup_key      String,
    kind           LowCardinality(String) COMMENT 'account or cluster',
    subject        String,
    accounts       Array(String),
    accounts_total UInt32,
    severity       Enum8('info' = 1, 'warning' = 2, 'error' = 3, 'critical' = 4),
    score          Float64,
    threshold      Float64,
    detected_at    DateTime64(3, 'UTC') COMMENT 'event time of the decision',
    window_start   DateTime64(3, 'UTC'),
    window_end     DateTime64(3, 'UTC'),
    reasons        String COMMENT 'JSON array of {code, summary, value, baseline}',
    evidence       String COMMENT 'JSON object of counts and sample_event_ids',
    links          String COMMENT 'JSON array of {attribute, value, accounts}',
    detector       LowCardinality(String),
    reason_codes   Array(LowCardinality(String))
        MATERIALIZED arrayMap(r -> JSONExtractString(r, 'code'), JSONExtractArrayRaw(reasons)),
    evidence_requests     UInt64 MATERIALIZED JSONExtractUInt(evidence, 'requests'),
    evidence_rate_limited UInt64 MATERIALIZED JSONExtractUInt(evidence, 'rate_limited'),
    inserted_at    DateTime('UTC') DEFAULT now(),
    INDEX idx_accounts accounts TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(detected_at)
ORDER BY (kind, subject, detected_at, alert_id)
TTL inserted_at + INTERVAL 730 DAY
SETTINGS non_replicated_deduplication_window = 10000;
