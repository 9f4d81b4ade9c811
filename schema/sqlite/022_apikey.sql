-- Schema 22: API keys a host's API checks (src/core/apikey.c). Only a
-- salted hash of each secret is kept.
CREATE TABLE vc_apikey (
  tenant_id  TEXT NOT NULL,
  id         TEXT NOT NULL,
  label      TEXT NOT NULL DEFAULT '',
  salt       TEXT NOT NULL,             -- 16 random bytes, hex
  hash       TEXT NOT NULL,             -- SHA-256(salt || secret), hex
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL DEFAULT 0, -- 0: never
  revoked_at INTEGER,
  PRIMARY KEY (tenant_id, id)
);
-- The secret names its key by id alone: verification finds it there.
CREATE UNIQUE INDEX vc_apikey_id ON vc_apikey (id);
