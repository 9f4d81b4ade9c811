-- Schema 14: campaigns, their recipients, and the campaign of each
-- message. See src/msg/campaign.c and src/msg/campaign_fanout.c.

CREATE TABLE vc_campaign (
  tenant_id       TEXT NOT NULL,
  id              TEXT NOT NULL,
  name            TEXT NOT NULL,
  template_id     TEXT NOT NULL,
  locale          TEXT,
  vars            TEXT,              -- campaign-wide variables, JSON object
  chain           TEXT NOT NULL,     -- links separated by spaces
  audience        INTEGER NOT NULL,  -- a vc_campaign_audience
  tag             TEXT,              -- the tag audience's tag
  category        INTEGER NOT NULL,
  rate            REAL NOT NULL,     -- messages per second; 0 = no limit
  start_at        INTEGER NOT NULL,  -- 0 = when started
  end_at          INTEGER NOT NULL,  -- 0 = none
  window_start    INTEGER NOT NULL,  -- daily send window, minutes; both
  window_end      INTEGER NOT NULL,  -- 0 = all day
  state           INTEGER NOT NULL,  -- a vc_campaign_state
  -- Fan-out progress: the last contact id done (keyset), whether the
  -- audience is exhausted, and the throttle's base (message number
  -- base_n is due at base_at; each next one 1/rate later).
  cursor          TEXT NOT NULL DEFAULT '',
  fanout_done     INTEGER NOT NULL DEFAULT 0,
  base_at         INTEGER NOT NULL DEFAULT 0,
  base_n          INTEGER NOT NULL DEFAULT 0,
  paused_at       INTEGER NOT NULL DEFAULT 0,
  -- Counters, each moved in the transaction of the change it counts.
  total           INTEGER NOT NULL DEFAULT 0,  -- recipients reached
  queued          INTEGER NOT NULL DEFAULT 0,  -- messages created
  sent            INTEGER NOT NULL DEFAULT 0,
  delivered       INTEGER NOT NULL DEFAULT 0,
  failed          INTEGER NOT NULL DEFAULT 0,
  canceled        INTEGER NOT NULL DEFAULT 0,
  skipped_consent INTEGER NOT NULL DEFAULT 0,
  skipped_address INTEGER NOT NULL DEFAULT 0,
  deferred_quiet  INTEGER NOT NULL DEFAULT 0,
  expired         INTEGER NOT NULL DEFAULT 0,  -- recipients past end_at
  open_count      INTEGER NOT NULL DEFAULT 0,  -- recipients not final
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  started_at      INTEGER NOT NULL DEFAULT 0,
  finished_at     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, id)
);

-- One row per recipient: stored up front for a list or CSV audience
-- (state 0, with its own variables), written by the fan-out for a tag
-- audience. The key makes a contact one recipient per campaign.
CREATE TABLE vc_campaign_recipient (
  tenant_id   TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  contact_id  TEXT NOT NULL,
  vars        TEXT,              -- JSON object over the campaign's
  state       INTEGER NOT NULL,  -- see campaign.h (internal)
  link        INTEGER NOT NULL DEFAULT -1,  -- chain link of its message
  message_id  TEXT,
  PRIMARY KEY (tenant_id, campaign_id, contact_id)
);

ALTER TABLE vc_message ADD COLUMN campaign_id TEXT;
ALTER TABLE vc_message ADD COLUMN campaign_link INTEGER;
-- Exactly one message per recipient per link of a campaign.
CREATE UNIQUE INDEX vc_message_campaign ON vc_message
  (tenant_id, campaign_id, contact_id, campaign_link)
  WHERE campaign_id IS NOT NULL;
