-- Schema 23: inbound calls (src/call/inbound.c): which way a call goes,
-- and where an inbound call is on its way to an agent.

ALTER TABLE vc_call ADD COLUMN direction INTEGER NOT NULL DEFAULT 1;
CREATE INDEX vc_call_direction ON vc_call (tenant_id, direction, id);

CREATE TABLE vc_inbound_call (
  tenant_id        TEXT NOT NULL,
  call_id          TEXT NOT NULL,
  channel_id       TEXT NOT NULL,
  provider_call_id TEXT NOT NULL,   -- the provider's id of the caller's leg
  number_id        TEXT NOT NULL DEFAULT '',  -- '': an unknown number
  entry_kind       INTEGER NOT NULL DEFAULT 0, -- a vc_number_entry
  entry_id         TEXT NOT NULL DEFAULT '',
  -- 1 ivr, 2 queue, 3 ringing an agent, 4 bridged, 5 voicemail, 6 ended
  phase            INTEGER NOT NULL,
  ivr_path         TEXT NOT NULL DEFAULT '[]', -- [{"node":..,"keys":..}]
  queue_id         TEXT NOT NULL DEFAULT '',
  skills           TEXT NOT NULL DEFAULT '',
  queue_expires_at INTEGER NOT NULL DEFAULT 0, -- kept when requeued
  queue_hops       INTEGER NOT NULL DEFAULT 0, -- overflows to a queue
  ring_agent_id    TEXT NOT NULL DEFAULT '',   -- the agent ringing now
  rings            INTEGER NOT NULL DEFAULT 0, -- agents rung so far
  tried            TEXT NOT NULL DEFAULT '',   -- agents who missed it
  voicemail_box    TEXT NOT NULL DEFAULT '',   -- an agent or queue id
  voicemail_id     TEXT,                       -- its recording
  voicemail_url    TEXT,
  voicemail_s      INTEGER NOT NULL DEFAULT 0,
  voicemail_at     INTEGER NOT NULL DEFAULT 0, -- when it was recorded
  callback_agent   TEXT,                       -- callback request: agent
  answer_type      TEXT,   -- the first answer, for a repeated arrival
  answer_body      TEXT,
  last_fetch_at    INTEGER NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, call_id)
);
-- One call per arrival: a retried incoming webhook finds it.
CREATE UNIQUE INDEX vc_inbound_call_provider ON vc_inbound_call
  (tenant_id, channel_id, provider_call_id);
-- A contact's voicemails, for the inbox's timeline.
ALTER TABLE vc_inbound_call ADD COLUMN contact_id TEXT;
CREATE INDEX vc_inbound_call_voicemail ON vc_inbound_call
  (tenant_id, contact_id, voicemail_at) WHERE voicemail_id IS NOT NULL;
