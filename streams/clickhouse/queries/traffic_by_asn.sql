-- Traffic per autonomous system in a time range, with how much of it comes from accounts that
-- raised an alert: hosting ASNs full of young accounts stand out here.
-- @param start DateTime('UTC') first minute of the range
-- @param end DateTime('UTC') end of the range, exclusive
WITH alerted AS (
    SELECT DISTINCT arrayJoin(accounts) AS account_id FROM alerts FINAL
    WHERE detected_at >= {start:DateTime('UTC')} AND detected_at < {end:DateTime('UTC')}
)
SELECT
    m.asn AS asn,
    uniqExact(m.account_id) AS accounts,
    uniqExact(m.router_id) AS routers,
    sum(m.requests) AS requests,
    sum(m.output_tokens) AS output_tokens,
    sum(m.rate_limited) AS rate_limited,
    uniqExactIf(m.account_id, m.account_id IN (SELECT account_id FROM alerted)) AS accounts_alerted,
    sumIf(m.requests, m.account_id IN (SELECT account_id FROM alerted)) AS requests_alerted,
    max(m.score) AS peak_score
FROM account_minute AS m FINAL
WHERE m.minute >= {start:DateTime('UTC')} AND m.minute < {end:DateTime('UTC')}
GROUP BY asn
ORDER BY requests DESC, asn
