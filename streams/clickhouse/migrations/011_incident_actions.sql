-- What people did about incidents (`distillwatch incidents ack|resolve`, `distillwatch verdict`,
-- the page's buttons): one row per action on a dedup_key, with who, when (wall clock) and why.
-- An incident's state is its latest ack/resolve; its label is its latest verdict.
CREATE TABLE IF NOT EXISTS incident_actions
(
    dedup_key  String,
    action     LowCardinality(String) COMMENT 'ack, resolve or verdict',
    verdict    LowCardinality(String) DEFAULT '' COMMENT 'true-positive or false-positive (verdict only)',
    note       String COMMENT 'why',
    who        String COMMENT 'who',
    at         DateTime64(3, 'UTC') COMMENT 'wall-clock time of the action',
    inserted_at DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (dedup_key, at, action)
TTL inserted_at + INTERVAL 730 DAY;
