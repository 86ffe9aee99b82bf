-- A cluster hour by hour: active members, aggregate volume, newcomers and score, to see when a
-- campaign started and how fast it grew.
-- @param cluster_id String the cluster
-- @param start DateTime('UTC') first minute of the range
-- @param end DateTime('UTC') end of the range, exclusive
SELECT
    toStartOfHour(minute) AS hour,
    max(members_active) AS members_active,
    max(members_total) AS members_total,
    max(requests_day) AS requests_day,
    max(new_members_hour) AS new_members_hour,
    max(score) AS peak_score,
    argMax(severity, score) AS severity_at_peak
FROM cluster_minute FINAL
WHERE cluster_id = {cluster_id:String}
  AND minute >= {start:DateTime('UTC')} AND minute < {end:DateTime('UTC')}
GROUP BY hour
ORDER BY hour
