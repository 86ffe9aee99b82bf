-- Alerts per day, severity and kind, with the number of distinct incidents (dedup keys) behind
-- them: the pager's load and how often incidents escalate.
-- @param start DateTime('UTC') first moment of the range
-- @param end DateTime('UTC') end of the range, exclusive
SELECT
    toDate(detected_at) AS day,
    severity,
    kind,
    count() AS alerts,
    uniqExact(dedup_key) AS incidents,
    sum(accounts_total) AS accounts_implicated
FROM alerts FINAL
WHERE detected_at >= {start:DateTime('UTC')} AND detected_at < {end:DateTime('UTC')}
GROUP BY day, severity, kind
ORDER BY day, severity DESC, kind
