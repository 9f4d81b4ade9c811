-- Schema 20: privacy: erasures, the keyed hashes that keep an erased
-- contact's opt-outs and do-not-call entries working, retention
-- policies, and the one update the consent log allows. See
-- src/msg/privacy.c and src/msg/retention.c.

-- Every erasure, with what it touched. Append-only.
CREATE TABLE vc_erasure (
  tenant_id     TEXT NOT NULL,
  id            TEXT NOT NULL,           -- ULID: time-ordered
  contact_id    TEXT NOT NULL,           -- as asked (may be a merged id)
  survivor_id   TEXT NOT NULL,           -- the contact erased
  actor         TEXT NOT NULL,
  reason        TEXT NOT NULL,
  contacts      INTEGER NOT NULL,        -- rows touched, per kind
  addresses     INTEGER NOT NULL,
  messages      INTEGER NOT NULL,
  inbound       INTEGER NOT NULL,
  calls         INTEGER NOT NULL,
  recordings    INTEGER NOT NULL,
  consent_log   INTEGER NOT NULL,
  campaign_recipients INTEGER NOT NULL,
  suppressions  INTEGER NOT NULL,        -- keyed hashes kept
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX vc_erasure_contact ON vc_erasure (tenant_id, survivor_id);
CREATE TRIGGER vc_erasure_no_update BEFORE UPDATE ON vc_erasure
BEGIN
  SELECT RAISE(ABORT, 'vc_erasure is append-only');
END;
CREATE TRIGGER vc_erasure_no_delete BEFORE DELETE ON vc_erasure
BEGIN
  SELECT RAISE(ABORT, 'vc_erasure is append-only');
END;

-- A tenant's key for address hashes: 32 random bytes sealed under the
-- master key (re-sealed by a key rotation, so the hashes stay valid).
-- Created by the first erasure that has something to suppress.
CREATE TABLE vc_privacy_key (
  tenant_id   TEXT NOT NULL,
  id          TEXT NOT NULL,             -- the tenant's id
  value       BLOB NOT NULL,             -- sealed, see src/core/keyring.c
  key_version INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

-- What an erased contact had refused, by the HMAC-SHA256 (hex) of each
-- of its normalized addresses: category 1 or 2 an opt-out of that kind
-- and category, voice with category 0 the do-not-call list.
CREATE TABLE vc_privacy_suppress (
  tenant_id    TEXT NOT NULL,
  addr_hash    TEXT NOT NULL,
  channel_kind INTEGER NOT NULL,
  category     INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, addr_hash, channel_kind, category)
);

-- Retention per tenant, in days (0 = keep forever), and the purge's
-- keyset positions (ids and event seqs already past their retention).
CREATE TABLE vc_retention (
  tenant_id        TEXT NOT NULL PRIMARY KEY,
  message_days     INTEGER NOT NULL,
  recording_days   INTEGER NOT NULL,
  event_days       INTEGER NOT NULL,
  message_cursor   TEXT NOT NULL DEFAULT '',
  inbound_cursor   TEXT NOT NULL DEFAULT '',
  updated_at       INTEGER NOT NULL
);

-- The consent log stays append-only, except for the erasure's one
-- update: the proof of a row of an erased contact set to NULL, every
-- other column unchanged.
DROP TRIGGER vc_consent_log_no_update;
CREATE TRIGGER vc_consent_log_no_update
  BEFORE UPDATE ON vc_consent_log
  WHEN NOT (NEW.proof IS NULL
    AND NEW.tenant_id = OLD.tenant_id AND NEW.id = OLD.id
    AND NEW.contact_id = OLD.contact_id
    AND NEW.channel_kind = OLD.channel_kind
    AND NEW.category = OLD.category AND NEW.state = OLD.state
    AND NEW.previous = OLD.previous AND NEW.source = OLD.source
    AND NEW.created_at = OLD.created_at
    AND EXISTS (SELECT 1 FROM vc_contact c WHERE c.tenant_id = OLD.tenant_id
      AND c.id = OLD.contact_id AND c.erased_at IS NOT NULL))
BEGIN
  SELECT RAISE(ABORT, 'the consent log is append-only');
END;
