-- Hourly and daily roll-ups of account_minute, filled by materialized views at insert time, for
-- history beyond the 90 days of minute data and for fast per-day scans.
--
-- Idempotency caveat: a materialized view sees inserted blocks, not the deduplicated table, so
-- ReplacingMergeTree cannot protect the sums here. What does: the sink inserts each batch with a
-- deterministic insert_deduplication_token (a hash of the batch), and both the source table and
-- these targets keep non_replicated_deduplication_window; a retried or re-replayed identical batch
-- is then dropped from the source AND from every view (measured on chdb 26.9; a server behaves the
-- same, and Replicated* tables deduplicate by default). A re-replay cut into different batches, or
-- older than the window, would add again: rebuild with the statements in docs/clickhouse.md.
-- max/uniq columns are idempotent regardless.
CREATE TABLE IF NOT EXISTS account_hour
(
    account_id          String,
    hour                DateTime('UTC'),
    minutes             SimpleAggregateFunction(sum, UInt64) COMMENT 'active minutes',
    requests            SimpleAggregateFunction(sum, UInt64),
    input_tokens        SimpleAggregateFunction(sum, UInt64),
    output_tokens       SimpleAggregateFunction(sum, UInt64),
    reasoning_tokens    SimpleAggregateFunction(sum, UInt64),
    rate_limited        SimpleAggregateFunction(sum, UInt64),
    saturated           SimpleAggregateFunction(sum, UInt64),
    max_score           SimpleAggregateFunction(max, Float64),
    max_volume_score    SimpleAggregateFunction(max, Float64),
    max_harvest_score SimpleAggregateFunction(max, Float64),
    max_distinct_ips    SimpleAggregateFunction(max, UInt32),
    routers             AggregateFunction(uniq, String),
    asns                AggregateFunction(uniq, String),
    ip_prefixes         AggregateFunction(uniq, String),
    capability_mix      AggregateFunction(avgForEach, Array(Float32)),
    last_inserted       SimpleAggregateFunction(max, DateTime('UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (account_id, hour)
TTL last_inserted + INTERVAL 400 DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS account_day
(
    account_id          String,
    day                 Date,
    minutes             SimpleAggregateFunction(sum, UInt64),
    requests            SimpleAggregateFunction(sum, UInt64),
    input_tokens        SimpleAggregateFunction(sum, UInt64),
    output_tokens       SimpleAggregateFunction(sum, UInt64),
    reasoning_tokens    SimpleAggregateFunction(sum, UInt64),
    rate_limited        SimpleAggregateFunction(sum, UInt64),
    saturated           SimpleAggregateFunction(sum, UInt64),
    max_score           SimpleAggregateFunction(max, Float64),
    max_volume_score    SimpleAggregateFunction(max, Float64),
    max_harvest_score SimpleAggregateFunction(max, Float64),
    max_distinct_ips    SimpleAggregateFunction(max, UInt32),
    routers             AggregateFunction(uniq, String),
    asns                AggregateFunction(uniq, String),
    ip_prefixes         AggregateFunction(uniq, String),
    capability_mix      AggregateFunction(avgForEach, Array(Float32)),
    last_inserted       SimpleAggregateFunction(max, DateTime('UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYear(day)
ORDER BY (account_id, day)
TTL last_inserted + INTERVAL 1100 DAY
SETTINGS non_replicated_deduplication_window = 10000;

-- Column references are qualified (m.requests) where an output alias shadows the input column.
CREATE MATERIALIZED VIEW IF NOT EXISTS account_hour_mv TO account_hour AS
SELECT
    m.account_id AS account_id,
    toStartOfHour(m.minute) AS hour,
    count() AS minutes,
    sum(m.requests) AS requests,
    sum(m.input_tokens) AS input_tokens,
    sum(m.output_tokens) AS output_tokens,
    sum(m.reasoning_tokens) AS reasoning_tokens,
    sum(m.rate_limited) AS rate_limited,
    sum(m.saturated) AS saturated,
    max(m.score) AS max_score,
    max(m.volume_score) AS max_volume_score,
    max(m.harvest_score) AS max_harvest_score,
    max(m.distinct_ips) AS max_distinct_ips,
    uniqStateIf(toString(m.router_id), m.router_id != '') AS routers,
    uniqStateIf(toString(m.asn), m.asn != '') AS asns,
    uniqStateIf(m.ip_prefix, m.ip_prefix != '') AS ip_prefixes,
    avgForEachState(m.capability_mix) AS capability_mix,
    max(m.inserted_at) AS last_inserted
FROM account_minute AS m
GROUP BY account_id, hour;

CREATE MATERIALIZED VIEW IF NOT EXISTS account_day_mv TO account_day AS
SELECT
    m.account_id AS account_id,
    toDate(m.minute) AS day,
    count() AS minutes,
    sum(m.requests) AS requests,
    sum(m.input_tokens) AS input_tokens,
    sum(m.output_tokens) AS output_tokens,
    sum(m.reasoning_tokens) AS reasoning_tokens,
    sum(m.rate_limited) AS rate_limited,
    sum(m.saturated) AS saturated,
    max(m.score) AS max_score,
    max(m.volume_score) AS max_volume_score,
    max(m.harvest_score) AS max_harvest_score,
    max(m.distinct_ips) AS max_distinct_ips,
    uniqStateIf(toString(m.router_id), m.router_id != '') AS routers,
    uniqStateIf(toString(m.asn), m.asn != '') AS asns,
    uniqStateIf(m.ip_prefix, m.ip_prefix != '') AS ip_prefixes,
    avgForEachState(m.capability_mix) AS capability_mix,
    max(m.inserted_at) AS last_inserted
FROM account_minute AS m
GROUP BY account_id, day;
