-- Schema 24: the analytics rollups as WITHOUT ROWID tables.
--
-- A rollup row is found and changed by its whole primary key, on every
-- message and call that moves. As an ordinary table each is two B-trees
-- (the rows and the key's index), so every upsert searched and wrote
-- both; keyed on the primary key alone it is one B-tree, and a send's
-- transaction writes one page fewer. The columns are those of schema 16.
-- The rows wait in temporary tables: renaming a table makes SQLite
-- rewrite the whole schema, which is slow enough to notice when a new
-- store is created.

CREATE TEMP TABLE vc_stats_message_old AS SELECT * FROM vc_stats_message;
DROP TABLE vc_stats_message;
CREATE TABLE vc_stats_message (
  tenant_id   TEXT NOT NULL,
  hour        INTEGER NOT NULL,
  kind        INTEGER NOT NULL,
  channel_id  TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  status      INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, hour, kind, channel_id, campaign_id, status)
) WITHOUT ROWID;
INSERT INTO vc_stats_message (
  tenant_id, hour, kind, channel_id, campaign_id, status, n)
  SELECT
  tenant_id, hour, kind, channel_id, campaign_id, status, n
  FROM temp.vc_stats_message_old;
DROP TABLE temp.vc_stats_message_old;

CREATE TEMP TABLE vc_stats_latency_old AS SELECT * FROM vc_stats_latency;
DROP TABLE vc_stats_latency;
CREATE TABLE vc_stats_latency (
  tenant_id   TEXT NOT NULL,
  hour        INTEGER NOT NULL,
  channel_id  TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  bucket      INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  sum_ms      INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, hour, channel_id, campaign_id, bucket)
) WITHOUT ROWID;
INSERT INTO vc_stats_latency (
  tenant_id, hour, channel_id, campaign_id, bucket, n, sum_ms)
  SELECT
  tenant_id, hour, channel_id, campaign_id, bucket, n, sum_ms
  FROM temp.vc_stats_latency_old;
DROP TABLE temp.vc_stats_latency_old;

CREATE TEMP TABLE vc_stats_inbound_old AS SELECT * FROM vc_stats_inbound;
DROP TABLE vc_stats_inbound;
CREATE TABLE vc_stats_inbound (
  tenant_id  TEXT NOT NULL,
  hour       INTEGER NOT NULL,
  channel_id TEXT NOT NULL,
  n          INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, hour, channel_id)
) WITHOUT ROWID;
INSERT INTO vc_stats_inbound (
  tenant_id, hour, channel_id, n)
  SELECT
  tenant_id, hour, channel_id, n
  FROM temp.vc_stats_inbound_old;
DROP TABLE temp.vc_stats_inbound_old;

CREATE TEMP TABLE vc_stats_call_old AS SELECT * FROM vc_stats_call;
DROP TABLE vc_stats_call;
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
) WITHOUT ROWID;
INSERT INTO vc_stats_call (
  tenant_id, hour, agent_id, channel_id, outcome, n, answered, talk_s,
  handle_s)
  SELECT
  tenant_id, hour, agent_id, channel_id, outcome, n, answered, talk_s,
  handle_s
  FROM temp.vc_stats_call_old;
DROP TABLE temp.vc_stats_call_old;

CREATE TEMP TABLE vc_stats_cost_old AS SELECT * FROM vc_stats_cost;
DROP TABLE vc_stats_cost;
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
) WITHOUT ROWID;
INSERT INTO vc_stats_cost (
  tenant_id, hour, source, channel_id, provider, campaign_id,
  currency, amount_micros)
  SELECT
  tenant_id, hour, source, channel_id, provider, campaign_id,
  currency, amount_micros
  FROM temp.vc_stats_cost_old;
DROP TABLE temp.vc_stats_cost_old;
