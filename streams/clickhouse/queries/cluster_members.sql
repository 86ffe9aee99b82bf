-- A cluster's members in its latest membership snapshot (written with each cluster alert),
-- highest contribution first, with when each joined and what it does overall.
-- @param cluster_id String the cluster, e.g. 'payment:pf_123'
SELECT
    cm.account_id AS account_id,
    cm.snapshot_at AS snapshot_at,
    cm.first_seen AS first_seen,
    cm.last_seen AS last_seen,
    cm.requests AS requests,
    cm.output_tokens AS output_tokens,
    cm.harvest_score AS harvest_score
FROM cluster_member AS cm FINAL
WHERE cm.cluster_id = {cluster_id:String}
  AND cm.snapshot_at = (SELECT max(snapshot_at) FROM cluster_member WHERE cluster_id = {cluster_id:String})
ORDER BY cm.requests * cm.harvest_score DESC, account_id
