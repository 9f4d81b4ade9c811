-- Schema 18: the unified inbox (src/msg/inbox.c). One conversation per
-- contact, across channels. Its timeline is not a copy: it is read from
-- the messages, inbound messages and calls that carry the contact's id.

-- The contact who sent an inbound message (found or created by the
-- inbox), and the timeline's read of a contact's inbound messages.
ALTER TABLE vc_inbound_message ADD COLUMN contact_id TEXT;
CREATE INDEX vc_inbound_contact ON vc_inbound_message
  (tenant_id, contact_id, received_at);

CREATE TABLE vc_conversation (
  tenant_id         TEXT NOT NULL,
  id                TEXT NOT NULL,
  contact_id        TEXT NOT NULL,
  status            INTEGER NOT NULL,            -- a vc_conversation_status
  snoozed_until     INTEGER NOT NULL DEFAULT 0,  -- Unix ms while snoozed
  assignee_id       TEXT,                        -- a vc_agent, or NULL
  unread            INTEGER NOT NULL DEFAULT 0,  -- inbound since last read
  -- The latest inbound message: a reply answers it, on its channel.
  last_inbound_id   TEXT,
  last_inbound_at   INTEGER NOT NULL DEFAULT 0,
  last_channel_id   TEXT,
  last_channel_kind INTEGER NOT NULL DEFAULT 0,
  last_activity_at  INTEGER NOT NULL,            -- inbound or reply
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX vc_conversation_contact ON vc_conversation
  (tenant_id, contact_id);
-- Lists go newest activity first.
CREATE INDEX vc_conversation_activity ON vc_conversation
  (tenant_id, last_activity_at, id);
