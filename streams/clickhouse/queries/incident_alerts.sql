-- One incident's history: every alert under a dedup key (an account's, a cluster's, or a whole
-- campaign's, whose members carry the campaign's key), oldest first.
-- @param dedup_key String the incident's dedup_key (distillwatch/KIND/SUBJECT)
SELECT detected_at, kind, subject, severity, accounts_total, score, threshold
FROM alerts FINAL
WHERE dedup_key = {dedup_key:String}
ORDER BY detected_at, kind, subject
