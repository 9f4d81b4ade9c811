-- TEMPORARY placeholder on branch i5-ivr for another branch's migration
-- 006; delete it when the branches merge.
SELECT 1;
