-- Clusters (accounts linked by a shared payment, TLS fingerprint, IP prefix, router or prompt
-- template) with the highest peak score in a time range, with their size and worst severity.
-- @param start DateTime('UTC') first minute of the range
-- @param end DateTime('UTC') end of the range, exclusive
-- @param limit UInt32 = 50 rows to return
SELECT
    cluster_id,
    any(attribute) AS attribute,
    max(score) AS peak_score,
    argMax(minute, score) AS peak_minute,
    max(members_active) AS peak_members,
    max(requests_day) AS peak_requests_day,
    argMax(severity, score) AS severity_at_peak,
    min(minute) AS first_minute,
    max(minute) AS last_minute
FROM cluster_minute FINAL
WHERE minute >= {start:DateTime('UTC')} AND minute < {end:DateTime('UTC')}
GROUP BY cluster_id
ORDER BY peak_score DESC, cluster_id
LIMIT {limit:UInt32}
