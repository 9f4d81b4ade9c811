-- Schema 5: click-to-call sessions and their timelines.

CREATE TABLE vc_call (
  tenant_id        TEXT NOT NULL,
  id               TEXT NOT NULL,
  state            INTEGER NOT NULL,         -- a vc_call_state
  agent_id         TEXT,                     -- a vc_agent, or NULL
  agent_number     TEXT NOT NULL,            -- dialled first
  customer_number  TEXT NOT NULL,
  caller_id        TEXT,                     -- as asked, or from the pool
  caller_id_asked  TEXT,                     -- the spec's, or NULL
  channel_id       TEXT,                     -- pinned, or the one placing it
  pinned           INTEGER NOT NULL DEFAULT 0,
  tried_channels   TEXT NOT NULL DEFAULT '', -- failed over from, space-separated
  provider_call_id TEXT,
  customer_leg_id  TEXT,                     -- the customer leg's own id
  record_mode      INTEGER NOT NULL,         -- resolved vc_record_mode
  recording        INTEGER NOT NULL DEFAULT 0, -- 1 while recording
  ivr_menu_id      TEXT,
  metadata         TEXT,
  idempotency_key  TEXT,
  content_hash     TEXT NOT NULL,
  ring_timeout_s   INTEGER NOT NULL,
  time_limit_s     INTEGER NOT NULL,
  on_hold          INTEGER NOT NULL DEFAULT 0,
  transferred      INTEGER NOT NULL DEFAULT 0, -- 1 once a transfer took
  hangup_requested INTEGER NOT NULL DEFAULT 0, -- vc_call_hangup() asked
  cause            INTEGER NOT NULL DEFAULT 0, -- a vc_call_cause
  failed_leg       INTEGER NOT NULL DEFAULT 0,
  error_code       INTEGER NOT NULL DEFAULT 0,
  provider_code    TEXT,
  error_message    TEXT,
  attempts         INTEGER NOT NULL DEFAULT 0,
  channel_attempts INTEGER NOT NULL DEFAULT 0, -- on the current channel
  talk_s           INTEGER NOT NULL DEFAULT 0,
  cost_micros      INTEGER NOT NULL DEFAULT 0,
  currency         TEXT,
  cost_reported    INTEGER NOT NULL DEFAULT 0, -- 1: the provider's price
  -- when the call entered each state (Unix ms, 0: never)
  agent_ringing_at    INTEGER NOT NULL DEFAULT 0,
  agent_answered_at   INTEGER NOT NULL DEFAULT 0,
  customer_ringing_at INTEGER NOT NULL DEFAULT 0,
  bridged_at          INTEGER NOT NULL DEFAULT 0,
  ended_at            INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX vc_call_idempotency ON vc_call
  (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX vc_call_state ON vc_call (tenant_id, state, id);
CREATE INDEX vc_call_provider ON vc_call (tenant_id, channel_id,
  provider_call_id) WHERE provider_call_id IS NOT NULL;
CREATE INDEX vc_call_agent ON vc_call (tenant_id, agent_id, id)
  WHERE agent_id IS NOT NULL;

-- Every event of a call, in order: the timeline.
CREATE TABLE vc_call_event (
  tenant_id   TEXT NOT NULL,
  call_id     TEXT NOT NULL,
  seq         INTEGER NOT NULL,              -- 1, 2, ... per call
  type        TEXT NOT NULL,                 -- "ringing", "dtmf", ...
  leg         INTEGER NOT NULL DEFAULT 0,    -- a vc_call_leg
  state       INTEGER NOT NULL,              -- the call's state after it
  detail      TEXT NOT NULL DEFAULT '{}',    -- a JSON object
  occurred_at INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, call_id, seq)
);

-- Operations on live calls waiting for the engine (vc_call_hold, ...).
CREATE TABLE vc_call_control (
  tenant_id  TEXT NOT NULL,
  id         TEXT NOT NULL,
  call_id    TEXT NOT NULL,
  op         INTEGER NOT NULL,               -- a vc_call_op
  arg        TEXT,                           -- target, recording id
  status     INTEGER NOT NULL DEFAULT 0,     -- 0 queued, 1 done, 2 failed
  attempts   INTEGER NOT NULL DEFAULT 0,
  error_message TEXT,
  created_at INTEGER NOT NULL,
  done_at    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX vc_call_control_call ON vc_call_control (tenant_id, call_id);

-- Round-robin position in a voice channel's caller-id pool, per country
-- calling code of the customers called ('' for the whole pool).
CREATE TABLE vc_call_caller_cursor (
  tenant_id    TEXT NOT NULL,
  channel_id   TEXT NOT NULL,
  country_code TEXT NOT NULL,
  next_index   INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, channel_id, country_code)
);
