-- Schema 21: inbound numbers, queues, their members and waiting calls
-- (src/call/number.c, src/call/queue.c).

-- A number (DID) or SIP URI a tenant receives calls on.
CREATE TABLE vc_number (
  tenant_id  TEXT NOT NULL,
  id         TEXT NOT NULL,
  number     TEXT NOT NULL,       -- E.164, or sip:user@host[:port]
  -- E.164 numbers: the national significant number (without the
  -- country code), for a provider that gives the national format.
  national   TEXT,
  channel_id TEXT NOT NULL,       -- the voice channel it arrives on
  entry_kind INTEGER NOT NULL,    -- a vc_number_entry
  entry_id   TEXT NOT NULL,       -- the menu, queue or agent
  label      TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
-- A number routes to exactly one tenant: unique across tenants.
CREATE UNIQUE INDEX vc_number_number ON vc_number (number);
CREATE INDEX vc_number_national ON vc_number (national);
CREATE INDEX vc_number_entry ON vc_number (tenant_id, entry_kind, entry_id);

CREATE TABLE vc_queue (
  tenant_id         TEXT NOT NULL,
  id                TEXT NOT NULL,
  name              TEXT NOT NULL,
  strategy          INTEGER NOT NULL,  -- a vc_queue_strategy
  max_wait_s        INTEGER NOT NULL,  -- 0: no limit
  announce_position INTEGER NOT NULL,  -- 0 or 1
  overflow_kind     INTEGER NOT NULL,  -- a vc_queue_overflow_kind
  overflow_target   TEXT NOT NULL DEFAULT '', -- a queue id, or a number
  moh_url           TEXT NOT NULL DEFAULT '',
  -- Round robin: the position of the member picked last.
  rr_position       INTEGER NOT NULL DEFAULT 0,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX vc_queue_name ON vc_queue (tenant_id, name);
CREATE INDEX vc_queue_overflow ON vc_queue (tenant_id, overflow_target);

-- An agent in a queue, with the skill tags it has there.
CREATE TABLE vc_queue_member (
  tenant_id  TEXT NOT NULL,
  queue_id   TEXT NOT NULL,
  agent_id   TEXT NOT NULL,
  position   INTEGER NOT NULL,   -- 1, 2, ... in the order added
  skills     TEXT NOT NULL,      -- ",tag,tag," sorted, or ""
  added_at   INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, queue_id, agent_id)
);
CREATE UNIQUE INDEX vc_queue_member_position ON vc_queue_member
  (tenant_id, queue_id, position);
CREATE INDEX vc_queue_member_agent ON vc_queue_member (tenant_id, agent_id);

-- A call waiting in a queue, in arrival order.
CREATE TABLE vc_queue_call (
  tenant_id   TEXT NOT NULL,
  queue_id    TEXT NOT NULL,
  call_id     TEXT NOT NULL,
  seq         INTEGER NOT NULL,  -- 1, 2, ... per queue
  enqueued_at INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,  -- max wait passed; 0: never
  PRIMARY KEY (tenant_id, queue_id, call_id)
);
CREATE UNIQUE INDEX vc_queue_call_seq ON vc_queue_call
  (tenant_id, queue_id, seq);
CREATE INDEX vc_queue_call_expires ON vc_queue_call
  (tenant_id, queue_id, expires_at);
-- A call waits in one queue at a time.
CREATE UNIQUE INDEX vc_queue_call_call ON vc_queue_call (tenant_id, call_id);
