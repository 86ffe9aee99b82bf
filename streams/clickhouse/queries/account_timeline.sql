-- One account minute by minute around a moment: volume, 429s, distinct IPs, scores, where it
-- came from, and the alerts raised at the close of each minute.
-- @param account_id String the account
-- @param at DateTime('UTC') the moment to centre on
-- @param minutes UInt32 = 60 minutes either side
SELECT
    m.minute AS minute,
    m.requests AS requests,
    m.output_tokens AS output_tokens,
    m.rate_limited AS rate_limited,
    m.distinct_ips AS distinct_ips,
    m.distinct_prompts AS distinct_prompts,
    m.score AS score,
    m.volume_score AS volume_score,
    m.harvest_score AS harvest_score,
    m.router_id AS router_id,
    m.asn AS asn,
    m.ip_prefix AS ip_prefix,
    a.severity AS alert_severity,
    a.alert_id AS alert_id
FROM (
    SELECT * FROM account_minute FINAL
    WHERE account_id = {account_id:String}
      AND minute >= {at:DateTime('UTC')} - toIntervalMinute({minutes:UInt32})
      AND minute <= {at:DateTime('UTC')} + toIntervalMinute({minutes:UInt32})
) AS m
LEFT JOIN (
    -- an account alert is decided when its minute closes: detected_at = minute + 60 s
    SELECT toDateTime(detected_at, 'UTC') - 60 AS minute, toString(severity) AS severity, alert_id
    FROM alerts FINAL
    WHERE kind = 'account' AND subject = {account_id:String}
) AS a ON a.minute = m.minute
ORDER BY minute
