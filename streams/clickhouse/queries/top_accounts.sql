-- Accounts with the highest peak score in a time range, with their volume and the minute of
-- the peak: the first list to open during an incident review.
-- @param start DateTime('UTC') first minute of the range ('2026-02-10 00:00:00' or epoch seconds)
-- @param end DateTime('UTC') end of the range, exclusive
-- @param limit UInt32 = 50 rows to return
SELECT
    account_id,
    max(score) AS peak_score,
    argMax(minute, score) AS peak_minute,
    max(harvest_score) AS peak_harvest,
    max(volume_score) AS peak_volume,
    sum(requests) AS requests,
    sum(output_tokens) AS output_tokens,
    sum(rate_limited) AS rate_limited,
    count() AS active_minutes,
    any(peer_group) AS peer_group
FROM account_minute FINAL
WHERE minute >= {start:DateTime('UTC')} AND minute < {end:DateTime('UTC')}
GROUP BY account_id
ORDER BY peak_score DESC, account_id
LIMIT {limit:UInt32}
