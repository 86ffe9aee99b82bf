-- A campaign's members (one operation paged as one incident), in the order they joined: when the
-- campaign stage tied each to it, what tied it (a cluster, or "account" when it paged on its own)
-- and when an alert first named it.
-- @param campaign_id String the campaign, e.g. 'cmp-2f1c1d0c7a53' (an alert's subject)
SELECT
    account_id,
    min(joined_at) AS joined_at,
    min(snapshot_at) AS first_named_at,
    max(contribution) AS contribution,
    argMin(via, snapshot_at) AS via
FROM campaign_member FINAL
WHERE campaign_id = {campaign_id:String}
GROUP BY account_id
ORDER BY joined_at, account_id
