-- Schema 13: the audit trail. See src/core/audit.c.

-- One row per mutating API call, written in the call's transaction.
-- Append-only: the triggers below refuse every UPDATE and DELETE, so a
-- row once committed stays as it was written. tenant_id '' holds the
-- context-wide actions (a master key rotation).
CREATE TABLE vc_audit (
  tenant_id  TEXT NOT NULL,
  id         TEXT NOT NULL,              -- ULID: time-ordered
  actor      TEXT NOT NULL,              -- set by the host per thread
  action     TEXT NOT NULL,              -- "<entity>.<verb>"
  entity_id  TEXT NOT NULL DEFAULT '',
  summary    TEXT NOT NULL DEFAULT '{}', -- JSON: ids, counts, no secrets
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID; -- one B-tree, not a table and its key index: a send
                 -- writes fewer pages

CREATE TRIGGER vc_audit_no_update BEFORE UPDATE ON vc_audit
BEGIN
  SELECT RAISE(ABORT, 'vc_audit is append-only');
END;

CREATE TRIGGER vc_audit_no_delete BEFORE DELETE ON vc_audit
BEGIN
  SELECT RAISE(ABORT, 'vc_audit is append-only');
END;
