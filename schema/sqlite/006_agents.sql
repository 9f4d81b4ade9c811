-- Schema 6: agents, their state, activity log and calls.

CREATE TABLE vc_agent (
  tenant_id     TEXT NOT NULL,
  id            TEXT NOT NULL,
  name          TEXT NOT NULL,
  display_name  TEXT NOT NULL DEFAULT '',
  number        TEXT NOT NULL,              -- E.164 or sip: URI
  wrap_up_s     INTEGER NOT NULL,           -- 0: no wrap-up
  metadata      TEXT,
  state         INTEGER NOT NULL,           -- a vc_agent_state
  reason        TEXT,                       -- why (a break's reason)
  state_since   INTEGER NOT NULL,
  -- The live call the agent holds (one at a time), and how far it got.
  call_id       TEXT,
  call_answered INTEGER NOT NULL DEFAULT 0,
  call_bridged_at INTEGER NOT NULL DEFAULT 0,
  -- Where the agent goes back to when the call ends unanswered.
  prior_state   INTEGER NOT NULL DEFAULT 0,
  prior_reason  TEXT,
  -- A wrap-up ends by itself at wrap_until (Unix ms): read as available
  -- from then on, and written so by the next change or the
  -- agent.wrap_up job.
  wrap_call_id  TEXT,
  wrap_until    INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX vc_agent_name ON vc_agent (tenant_id, name);
CREATE INDEX vc_agent_state ON vc_agent (tenant_id, state, id);

-- Every state change of an agent, in order.
CREATE TABLE vc_agent_activity (
  tenant_id  TEXT NOT NULL,
  agent_id   TEXT NOT NULL,
  seq        INTEGER NOT NULL,              -- 1, 2, ... per agent
  from_state INTEGER NOT NULL,              -- 0 for the first entry
  to_state   INTEGER NOT NULL,
  reason     TEXT,
  cause      INTEGER NOT NULL,              -- a vc_agent_cause
  call_id    TEXT,
  at         INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, agent_id, seq)
);
CREATE INDEX vc_agent_activity_at ON vc_agent_activity
  (tenant_id, agent_id, at);

-- The calls an agent took, for per-agent figures.
CREATE TABLE vc_agent_call (
  tenant_id   TEXT NOT NULL,
  agent_id    TEXT NOT NULL,
  call_id     TEXT NOT NULL,
  claimed_at  INTEGER NOT NULL,
  answered_at INTEGER NOT NULL DEFAULT 0,
  bridged_at  INTEGER NOT NULL DEFAULT 0,
  ended_at    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, agent_id, call_id)
);
CREATE INDEX vc_agent_call_claimed ON vc_agent_call
  (tenant_id, agent_id, claimed_at);
