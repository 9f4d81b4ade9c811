-- Schema 17: message costs. A rate card entry may price messages (per
-- message; per segment for SMS), and the ledger holds messages' costs
-- beside calls'. See src/msg/msg_ledger.c and docs/engagement.md "Costs".

-- Price of one message (one SMS segment), micro-units; 0: the entry does
-- not price messages.
ALTER TABLE vc_ratecard_entry ADD COLUMN message_micros INTEGER NOT NULL
  DEFAULT 0;
-- Whether a tenant prices messages at all: one probe per tenant, cached.
CREATE INDEX vc_ratecard_entry_message ON vc_ratecard_entry (tenant_id)
  WHERE message_micros > 0;

-- A campaign's message: its campaign, for costs per campaign.
ALTER TABLE vc_ledger ADD COLUMN campaign_id TEXT;
-- A provider's price of a message: what it prices, '' for the whole
-- message (the send response), else the provider's id of one part (a
-- delivery receipt per part); replays of one report change nothing.
ALTER TABLE vc_ledger ADD COLUMN price_ref TEXT;
