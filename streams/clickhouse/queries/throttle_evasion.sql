-- Accounts that moved load after being throttled: an account collects 429s, and within the next
-- minutes a sibling sharing its payment method, TLS fingerprint or IP prefix ramps up. One row
-- per (throttled account, sibling), the biggest shift first.
-- @param start DateTime('UTC') first minute in which throttling is looked for
-- @param end DateTime('UTC') end of that range, exclusive
-- @param min_429 UInt32 = 5 429 responses in one minute that count as throttled
-- @param window_minutes UInt32 = 30 minutes compared before and after the first throttled minute
-- @param ramp_factor Float64 = 3 sibling requests after / before must reach this
WITH
    m AS (
        SELECT account_id, minute, requests, rate_limited, payment_fingerprint, tls_fingerprint, ip_prefix
        FROM account_minute FINAL
        WHERE minute >= {start:DateTime('UTC')} - toIntervalMinute({window_minutes:UInt32})
          AND minute < {end:DateTime('UTC')} + toIntervalMinute({window_minutes:UInt32})
    ),
    links AS (
        SELECT DISTINCT account_id, link.1 AS attribute, link.2 AS value
        FROM m
        ARRAY JOIN [('payment', payment_fingerprint), ('tls', tls_fingerprint), ('ip24', ip_prefix)] AS link
        WHERE link.2 != ''
    ),
    throttled AS (
        SELECT account_id, min(minute) AS throttled_at, sum(rate_limited) AS responses_429
        FROM m
        WHERE minute >= {start:DateTime('UTC')} AND minute < {end:DateTime('UTC')}
          AND rate_limited >= {min_429:UInt32}
        GROUP BY account_id
    ),
    pairs AS (
        SELECT t.account_id AS throttled_account, any(t.throttled_at) AS throttled_at,
               any(t.responses_429) AS responses_429, s.account_id AS sibling,
               arraySort(groupUniqArray(concat(l.attribute, ':', l.value))) AS shared
        FROM throttled AS t
        INNER JOIN links AS l ON l.account_id = t.account_id
        INNER JOIN links AS s ON s.attribute = l.attribute AND s.value = l.value
        WHERE s.account_id != t.account_id
        GROUP BY throttled_account, sibling
    )
SELECT
    p.throttled_account AS throttled_account,
    p.throttled_at AS throttled_at,
    p.responses_429 AS responses_429,
    p.sibling AS sibling,
    p.shared AS shared,
    sumIf(m.requests, m.minute < p.throttled_at) AS sibling_requests_before,
    sumIf(m.requests, m.minute >= p.throttled_at) AS sibling_requests_after
FROM pairs AS p
INNER JOIN m ON m.account_id = p.sibling
WHERE m.minute >= p.throttled_at - toIntervalMinute({window_minutes:UInt32})
  AND m.minute < p.throttled_at + toIntervalMinute({window_minutes:UInt32})
GROUP BY throttled_account, throttled_at, responses_429, sibling, shared
HAVING sibling_requests_after >= {ramp_factor:Float64} * greatest(sibling_requests_before, 1)
ORDER BY sibling_requests_after - sibling_requests_before DESC, throttled_account, sibling
