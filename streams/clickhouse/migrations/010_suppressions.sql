-- Audit trail of analysts' suppressions (`distillwatch suppress add|remove`, the page's button):
-- one row per change, who made it, when (wall clock) and why. What is in force lives on the
-- compacted suppressions topic the workers read; this table is the history of how it got there.
CREATE TABLE IF NOT EXISTS suppressions
(
    action     LowCardinality(String) COMMENT 'add or remove',
    attribute  LowCardinality(String) COMMENT 'account, org, payment, ip24, router or template',
    value      String,
    until      DateTime64(3, 'UTC') COMMENT 'event time the suppression ends (for remove: the end it had)',
    reason     String,
    who        String COMMENT 'who',
    at         DateTime64(3, 'UTC') COMMENT 'wall-clock time of the change',
    inserted_at DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (attribute, value, at, action)
TTL inserted_at + INTERVAL 730 DAY;
