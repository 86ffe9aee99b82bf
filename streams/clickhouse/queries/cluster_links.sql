-- The attribute values a cluster's members share besides the one that defines it: other payment
-- methods, TLS fingerprints, IP prefixes, routers and templates used by two or more members.
-- Shows how far the campaign reaches and which other clusters it overlaps.
-- @param cluster_id String the cluster, e.g. 'tls:ja3_abc'
-- @param start DateTime('UTC') first minute of member activity considered
-- @param end DateTime('UTC') end of the range, exclusive
WITH members AS (
    SELECT DISTINCT account_id FROM cluster_member FINAL WHERE cluster_id = {cluster_id:String}
)
SELECT
    link.1 AS attribute,
    link.2 AS value,
    uniqExact(account_id) AS members_sharing,
    sum(requests) AS requests,
    concat(link.1, ':', link.2) = {cluster_id:String} AS defines_cluster
FROM account_minute FINAL
ARRAY JOIN [('payment', payment_fingerprint), ('tls', tls_fingerprint), ('ip24', ip_prefix),
            ('router', toString(router_id)), ('template', template)] AS link
WHERE account_id IN (SELECT account_id FROM members)
  AND minute >= {start:DateTime('UTC')} AND minute < {end:DateTime('UTC')}
  AND link.2 != ''
GROUP BY attribute, value
HAVING members_sharing >= 2
ORDER BY members_sharing DESC, requests DESC, attribute, value
