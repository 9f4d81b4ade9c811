-- Messages, their attachments, inbound messages and webhook dedupe keys.

CREATE TABLE vc_message (
  tenant_id        TEXT NOT NULL,
  id               TEXT NOT NULL,
  kind             INTEGER NOT NULL,
  channel_id       TEXT,              -- pinned by the caller, or the sender
  pinned           INTEGER NOT NULL DEFAULT 0,
  to_addr          TEXT NOT NULL,
  from_addr        TEXT,
  subject          TEXT,
  text_body        TEXT,
  html_body        TEXT,
  metadata         TEXT,
  template_id      TEXT,
  template_version INTEGER NOT NULL DEFAULT 0,
  idempotency_key  TEXT,
  content_hash     TEXT NOT NULL,
  status           INTEGER NOT NULL,
  segments         INTEGER NOT NULL DEFAULT 0,
  provider_id      TEXT,
  error_code       INTEGER NOT NULL DEFAULT 0,
  provider_code    TEXT,
  error_message    TEXT,
  attempts         INTEGER NOT NULL DEFAULT 0,
  channel_attempts INTEGER NOT NULL DEFAULT 0, -- on the current channel
  -- channels failed over from, space-separated ids
  tried_channels   TEXT NOT NULL DEFAULT '',
  send_at          INTEGER NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX vc_message_idempotency ON vc_message
  (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX vc_message_status ON vc_message (tenant_id, status, id);
CREATE INDEX vc_message_provider ON vc_message
  (tenant_id, channel_id, provider_id);

CREATE TABLE vc_message_attachment (
  tenant_id    TEXT NOT NULL,
  message_id   TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  filename     TEXT NOT NULL,
  content_type TEXT NOT NULL,
  data         BLOB,
  url          TEXT,
  PRIMARY KEY (tenant_id, message_id, seq)
);

CREATE TABLE vc_inbound_message (
  tenant_id   TEXT NOT NULL,
  id          TEXT NOT NULL,
  channel_id  TEXT NOT NULL,
  provider_id TEXT,
  from_addr   TEXT NOT NULL,
  to_addr     TEXT,
  text_body   TEXT,
  media       TEXT NOT NULL DEFAULT '[]',
  received_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX vc_inbound_provider ON vc_inbound_message
  (tenant_id, channel_id, provider_id) WHERE provider_id IS NOT NULL;

-- Webhook events already applied, kept at least 72 hours.
CREATE TABLE vc_webhook_seen (
  tenant_id  TEXT NOT NULL,
  key        TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, key)
);
CREATE INDEX vc_webhook_seen_age ON vc_webhook_seen (created_at);
