-- Foundation: settings, tenants, encrypted credentials, the durable job
-- table and the event log. Every table is prefixed vc_ because it may
-- live in the host's own database; tenant_id leads every tenant-owned key.

CREATE TABLE vc_meta (
  key   TEXT PRIMARY KEY,
  value TEXT,
  data  BLOB
);

CREATE TABLE vc_tenant (
  id          TEXT PRIMARY KEY,
  slug        TEXT NOT NULL,
  name        TEXT NOT NULL,
  timezone    TEXT NOT NULL,
  locale      TEXT NOT NULL,
  currency    TEXT NOT NULL,
  quiet_start INTEGER NOT NULL DEFAULT -1,
  quiet_end   INTEGER NOT NULL DEFAULT -1,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  deleted_at  INTEGER
);
-- A slug is unique among live tenants; a deleted tenant's slug is free.
CREATE UNIQUE INDEX vc_tenant_slug ON vc_tenant (slug)
  WHERE deleted_at IS NULL;

CREATE TABLE vc_secret (
  tenant_id   TEXT NOT NULL REFERENCES vc_tenant (id),
  id          TEXT NOT NULL,
  name        TEXT NOT NULL,
  value       BLOB NOT NULL,   -- AES-256-GCM, see src/core/keyring.c
  key_version INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX vc_secret_name ON vc_secret (tenant_id, name);

CREATE TABLE vc_job (
  tenant_id   TEXT NOT NULL,
  id          TEXT NOT NULL,
  kind        TEXT NOT NULL,
  subject_id  TEXT NOT NULL,
  due_at      INTEGER NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER NOT NULL DEFAULT 0,
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
-- The claim scans due jobs in due order.
CREATE INDEX vc_job_due ON vc_job (due_at);
CREATE INDEX vc_job_subject ON vc_job (tenant_id, subject_id);

CREATE TABLE vc_event (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id  TEXT NOT NULL,
  type       TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  payload    TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX vc_event_tenant ON vc_event (tenant_id, seq);

-- Delivery cursors of event consumers (vc_ctx_options.event_consumer).
CREATE TABLE vc_event_cursor (
  name TEXT PRIMARY KEY,
  seq  INTEGER NOT NULL
);
