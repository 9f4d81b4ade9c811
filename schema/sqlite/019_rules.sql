-- Schema 19: automation rules. The definition (trigger, conditions,
-- actions) is a JSON object the rules module writes and reads; the
-- columns are what listing and ordering need.
CREATE TABLE vc_rule (
  tenant_id    TEXT NOT NULL REFERENCES vc_tenant (id),
  id           TEXT NOT NULL,
  name         TEXT NOT NULL,
  position     INTEGER NOT NULL,
  enabled      INTEGER NOT NULL,
  trigger_kind INTEGER NOT NULL,   -- a vc_rule_trigger
  definition   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX vc_rule_name ON vc_rule (tenant_id, name);
CREATE INDEX vc_rule_order ON vc_rule (tenant_id, enabled, position, id);
