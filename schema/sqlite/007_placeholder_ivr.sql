-- TEMPORARY placeholder on branch i5-ivr for another branch's migration
-- 007; delete it when the branches merge.
SELECT 1;
