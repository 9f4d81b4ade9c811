-- Schema 12: consent per contact, channel kind and category, its
-- append-only log, the tenant's opt-in policy, the do-not-call list and
-- inbound keywords; the category and contact of calls. See
-- src/msg/consent.c and src/msg/keyword.c.

-- The current state: a copy of the newest log row of each contact, kind
-- and category. Categories are 1 (transactional) and 2 (marketing);
-- one-time passwords follow transactional consent.
CREATE TABLE vc_consent (
  tenant_id    TEXT NOT NULL,
  contact_id   TEXT NOT NULL,
  channel_kind INTEGER NOT NULL,     -- a vc_channel_kind
  category     INTEGER NOT NULL,     -- a vc_category
  state        INTEGER NOT NULL,     -- a vc_consent
  source       TEXT NOT NULL,
  log_id       TEXT NOT NULL,        -- the log row that set it
  changed_at   INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, contact_id, channel_kind, category)
);

-- Consent is read for a contact and the contacts merged into it.
CREATE INDEX vc_contact_merged ON vc_contact (tenant_id, merged_into)
  WHERE merged_into IS NOT NULL;

-- Every consent change, as it was received. Append-only: the triggers
-- refuse UPDATE and DELETE, so erasing a contact (GDPR, a later round)
-- will need a path of its own for these rows.
CREATE TABLE vc_consent_log (
  tenant_id    TEXT NOT NULL,
  id           TEXT NOT NULL,        -- ULID: log order
  contact_id   TEXT NOT NULL,
  channel_kind INTEGER NOT NULL,
  category     INTEGER NOT NULL,
  state        INTEGER NOT NULL,
  previous     INTEGER NOT NULL,     -- the state before
  source       TEXT NOT NULL,        -- "api", "keyword", "unsubscribe", ...
  proof        TEXT,                 -- free text, e.g. a form's IP and time
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX vc_consent_log_contact ON vc_consent_log
  (tenant_id, contact_id, id);
CREATE TRIGGER vc_consent_log_no_update
  BEFORE UPDATE ON vc_consent_log
BEGIN
  SELECT RAISE(ABORT, 'the consent log is append-only');
END;
CREATE TRIGGER vc_consent_log_no_delete
  BEFORE DELETE ON vc_consent_log
BEGIN
  SELECT RAISE(ABORT, 'the consent log is append-only');
END;

-- Where the tenant's policy differs from the built-in one (marketing on
-- SMS, chat and voice needs an opt-in; nothing else does).
CREATE TABLE vc_consent_policy (
  tenant_id       TEXT NOT NULL,
  channel_kind    INTEGER NOT NULL,
  category        INTEGER NOT NULL,
  requires_opt_in INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, channel_kind, category)
);

-- Numbers (E.164) never to call, independent of contacts.
CREATE TABLE vc_dnc (
  tenant_id  TEXT NOT NULL,
  number     TEXT NOT NULL,
  source     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, number)
);

-- A tenant's inbound keywords, on top of the built-in English ones.
-- `keyword` is stored case-folded; `locale` is lower case, '' = any.
CREATE TABLE vc_keyword (
  tenant_id  TEXT NOT NULL,
  keyword    TEXT NOT NULL,
  locale     TEXT NOT NULL,
  action     INTEGER NOT NULL,       -- a vc_keyword_action
  reply      TEXT,                   -- NULL: the action's built-in reply
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, keyword, locale)
);

-- A reply the carriers require whatever the recipient's consent (the
-- confirmation of an opt-out keyword, a HELP answer): sent without the
-- consent check, and the dispatcher does not check it again.
ALTER TABLE vc_message ADD COLUMN consent_exempt INTEGER NOT NULL DEFAULT 0;

ALTER TABLE vc_call ADD COLUMN category INTEGER NOT NULL DEFAULT 1;
ALTER TABLE vc_call ADD COLUMN contact_id TEXT;
CREATE INDEX vc_call_contact ON vc_call (tenant_id, contact_id)
  WHERE contact_id IS NOT NULL;
