-- Schema 12 belongs to consent (branch s4-consent). This placeholder only
-- keeps the numbering without a gap on the audit branch until consent's
-- script lands; on a merge, consent's file replaces it.
SELECT 1;
