-- Channels (a tenant's provider instances) and message templates, whose
-- versions are immutable. See src/msg/channel.c and src/msg/template.c.

CREATE TABLE vc_channel (
  tenant_id       TEXT NOT NULL REFERENCES vc_tenant (id),
  id              TEXT NOT NULL,
  name            TEXT NOT NULL,
  kind            INTEGER NOT NULL,  -- vc_channel_kind
  provider        TEXT NOT NULL,     -- an adapter name
  config          TEXT NOT NULL,     -- JSON object, not secret
  -- Sealed under the master key (src/core/keyring.c), or NULL when the
  -- channel has no credentials and the context had no key.
  credentials     BLOB,
  webhook_secret  BLOB,              -- sealed 32 random bytes, or NULL
  key_version     INTEGER NOT NULL DEFAULT 0,
  sender          TEXT,
  priority        INTEGER NOT NULL,
  rate_per_second REAL NOT NULL,     -- 0 = no limit
  enabled         INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  disabled_at     INTEGER,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX vc_channel_name ON vc_channel (tenant_id, name);
-- The webhook router knows only the channel id (from the path).
CREATE UNIQUE INDEX vc_channel_id ON vc_channel (id);
-- Routing: a tenant's enabled channels of a kind, by priority.
CREATE INDEX vc_channel_route ON vc_channel (tenant_id, kind, priority, id)
  WHERE enabled = 1;

CREATE TABLE vc_template (
  tenant_id  TEXT NOT NULL REFERENCES vc_tenant (id),
  id         TEXT NOT NULL,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX vc_template_name ON vc_template (tenant_id, name);

-- Version N of a template is its state after its N-th change: each row
-- adds or replaces the variant of one (kind, locale). Rendering version N
-- takes, per (kind, locale), the row with the highest version <= N.
CREATE TABLE vc_template_version (
  tenant_id   TEXT NOT NULL,
  template_id TEXT NOT NULL,
  version     INTEGER NOT NULL,
  kind        INTEGER NOT NULL,
  locale      TEXT NOT NULL,     -- canonical BCP 47
  subject     TEXT,
  text_body   TEXT,
  html_body   TEXT,
  -- Declared variables, a JSON array of names ("x?" = optional), or
  -- NULL when none were declared.
  variables   TEXT,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, template_id, version, kind, locale),
  FOREIGN KEY (tenant_id, template_id) REFERENCES vc_template (tenant_id, id)
);
-- One row per version, so that two writers cannot both take N + 1.
CREATE UNIQUE INDEX vc_template_version_one ON vc_template_version
  (tenant_id, template_id, version);
CREATE INDEX vc_template_version_variant ON vc_template_version
  (tenant_id, template_id, kind, locale, version);
-- Versions are immutable: a message records the version it used.
CREATE TRIGGER vc_template_version_immutable
  BEFORE UPDATE ON vc_template_version
BEGIN
  SELECT RAISE(ABORT, 'template versions are immutable');
END;
