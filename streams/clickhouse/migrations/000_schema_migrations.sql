-- The ledger of applied migrations. `distillwatch schema apply` runs this file before reading the
-- ledger (it is idempotent), then every higher-numbered file not yet recorded here, in order.
-- ReplacingMergeTree: two workers racing to record the same version leave one row after FINAL.
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    checksum   String COMMENT 'sha256 of the file as applied; status flags files edited afterwards',
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version;
