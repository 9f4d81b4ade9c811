-- Schema 11: contacts, their addresses and tags; the category and the
-- contact of each message. See src/msg/contact.c.

-- A person or organisation a tenant talks to. A merged contact stays as
-- a row pointing at the survivor, so that ids held elsewhere resolve.
CREATE TABLE vc_contact (
  tenant_id       TEXT NOT NULL,
  id              TEXT NOT NULL,
  name            TEXT,
  timezone        TEXT,              -- IANA name; NULL = the tenant's
  locale          TEXT,              -- BCP 47; NULL = the tenant's
  -- Quiet hours override, minutes after local midnight; NULL in both =
  -- the tenant's window, -1 in both = no quiet hours for this contact.
  quiet_start_min INTEGER,
  quiet_end_min   INTEGER,
  fields          TEXT NOT NULL DEFAULT '{}', -- custom fields, JSON object
  merged_into     TEXT,              -- the surviving contact, when merged
  erased_at       INTEGER,           -- personal data removed (GDPR)
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

-- Addresses, normalized (E.164, lower-case email domain, ...): one
-- address belongs to at most one contact of a tenant, which is how
-- contacts are deduplicated.
CREATE TABLE vc_contact_address (
  tenant_id  TEXT NOT NULL,
  addr_kind  INTEGER NOT NULL,         -- a vc_address_kind
  address    TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, addr_kind, address)
);
CREATE INDEX vc_contact_address_contact ON vc_contact_address
  (tenant_id, contact_id);

-- Tags, keyed for paging an audience by tag in contact id order.
CREATE TABLE vc_contact_tag (
  tenant_id  TEXT NOT NULL,
  tag        TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, tag, contact_id)
);
CREATE INDEX vc_contact_tag_contact ON vc_contact_tag
  (tenant_id, contact_id);

ALTER TABLE vc_template ADD COLUMN category INTEGER NOT NULL DEFAULT 1;
ALTER TABLE vc_message ADD COLUMN category INTEGER NOT NULL DEFAULT 1;
ALTER TABLE vc_message ADD COLUMN contact_id TEXT;
CREATE INDEX vc_message_contact ON vc_message (tenant_id, contact_id)
  WHERE contact_id IS NOT NULL;
