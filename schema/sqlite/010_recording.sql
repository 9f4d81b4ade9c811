-- Schema 10: recording policy and recordings of calls
-- (src/call/recording.c).

CREATE TABLE vc_recording_policy (
  tenant_id        TEXT NOT NULL PRIMARY KEY,
  mode             INTEGER NOT NULL,   -- a vc_record_mode, never DEFAULT
  consent_text     TEXT NOT NULL,      -- '' only with mode off
  consent_language TEXT NOT NULL,      -- BCP 47
  retention_days   INTEGER NOT NULL,   -- 0: keep forever
  updated_at       INTEGER NOT NULL
);

CREATE TABLE vc_recording (
  tenant_id      TEXT NOT NULL,
  id             TEXT NOT NULL,
  call_id        TEXT NOT NULL,
  channel_id     TEXT,
  provider_id    TEXT,                 -- the provider's recording id
  url            TEXT,                 -- NULL once purged
  duration_s     INTEGER NOT NULL DEFAULT 0,
  consent        INTEGER NOT NULL,     -- 1: the consent notice was played
  status         INTEGER NOT NULL,     -- a vc_recording_status
  purge_kind     INTEGER NOT NULL DEFAULT 0, -- 1 provider, 2 local only
  error          TEXT,
  created_at     INTEGER NOT NULL,     -- started (or first heard of)
  stopped_at     INTEGER NOT NULL DEFAULT 0,
  available_at   INTEGER NOT NULL DEFAULT 0,
  expires_at     INTEGER NOT NULL DEFAULT 0, -- 0: kept forever
  purge_requested_at INTEGER NOT NULL DEFAULT 0,
  purged_at      INTEGER NOT NULL DEFAULT 0,
  updated_at     INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX vc_recording_call ON vc_recording (tenant_id, call_id);
CREATE INDEX vc_recording_provider ON vc_recording (tenant_id, provider_id)
  WHERE provider_id IS NOT NULL;
-- The purge: available recordings by expiry.
CREATE INDEX vc_recording_expiry ON vc_recording (tenant_id, status,
  expires_at);
CREATE INDEX vc_recording_created ON vc_recording (tenant_id, created_at);
