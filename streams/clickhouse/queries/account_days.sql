-- One account day by day from the daily roll-up (kept about three years, beyond the 90 days of
-- minute data): volume, 429s, peak scores, and how many routers, ASNs and IP prefixes it used.
-- @param account_id String the account
-- @param start DateTime('UTC') first day of the range
-- @param end DateTime('UTC') end of the range, exclusive
SELECT
    day,
    sum(minutes) AS active_minutes,
    sum(requests) AS requests,
    sum(output_tokens) AS output_tokens,
    sum(rate_limited) AS rate_limited,
    max(max_score) AS peak_score,
    max(max_harvest_score) AS peak_harvest,
    uniqMerge(routers) AS routers,
    uniqMerge(asns) AS asns,
    uniqMerge(ip_prefixes) AS ip_prefixes,
    arrayMap(x -> round(x, 2), avgForEachMerge(capability_mix)) AS capability_mix
FROM account_day
WHERE account_id = {account_id:String}
  AND day >= toDate({start:DateTime('UTC')}) AND day < toDate({end:DateTime('UTC')})
GROUP BY day
ORDER BY day
