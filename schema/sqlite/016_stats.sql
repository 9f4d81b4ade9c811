-- Schema 16: analytics rollups (src/msg/stats.c, read by
-- src/msg/stats_query.c). Every counter moves in the transaction of the
-- change it counts. `hour` is Unix ms floored to the UTC hour; a day is
-- the sum of its 24 hours. Rows are keyed so that a change is one upsert.

-- Moves of messages into a status (a vc_msg_status; `sending` is not
-- counted), by the hour of the move. channel_id '' while unrouted,
-- campaign_id '' for a message of no campaign.
CREATE TABLE vc_stats_message (
  tenant_id   TEXT NOT NULL,
  hour        INTEGER NOT NULL,
  kind        INTEGER NOT NULL,
  channel_id  TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  status      INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, hour, kind, channel_id, campaign_id, status)
);

-- Queued-to-delivered times of the messages delivered in the hour, as a
-- histogram over fixed buckets (see stats.h).
CREATE TABLE vc_stats_latency (
  tenant_id   TEXT NOT NULL,
  hour        INTEGER NOT NULL,
  channel_id  TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  bucket      INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  sum_ms      INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, hour, channel_id, campaign_id, bucket)
);

-- Inbound messages received in the hour.
CREATE TABLE vc_stats_inbound (
  tenant_id  TEXT NOT NULL,
  hour       INTEGER NOT NULL,
  channel_id TEXT NOT NULL,
  n          INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, hour, channel_id)
);

-- Calls that ended in the hour, by agent ('' for none), channel and
-- final state (a vc_call_state).
CREATE TABLE vc_stats_call (
  tenant_id  TEXT NOT NULL,
  hour       INTEGER NOT NULL,
  agent_id   TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  outcome    INTEGER NOT NULL,
  n          INTEGER NOT NULL,
  answered   INTEGER NOT NULL,  -- bridged to the customer
  talk_s     INTEGER NOT NULL,
  handle_s   INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, hour, agent_id, channel_id, outcome)
);

-- Ledger entries by the hour they occurred: the net amount (a reversal
-- subtracts) per source, channel, provider, campaign and currency.
CREATE TABLE vc_stats_cost (
  tenant_id     TEXT NOT NULL,
  hour          INTEGER NOT NULL,
  source        TEXT NOT NULL,
  channel_id    TEXT NOT NULL,
  provider      TEXT NOT NULL,
  campaign_id   TEXT NOT NULL,
  currency      TEXT NOT NULL,
  amount_micros INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, hour, source, channel_id, provider, campaign_id,
               currency)
);
