-- Schema 4: messages sent as several requests, attachment counts, and the
-- customer-service window of providers that have one.

-- How many requests of a split message the provider has accepted
-- (vc_adapter.count_parts); a retry resumes at this part.
ALTER TABLE vc_message ADD COLUMN parts_done INTEGER NOT NULL DEFAULT 0;

-- How many attachments a message has, so that sending one without any
-- skips the attachment query.
ALTER TABLE vc_message ADD COLUMN attachments INTEGER NOT NULL DEFAULT 0;

-- The latest message from an address on a channel, for
-- VC_CAP_SESSION_WINDOW adapters.
CREATE INDEX vc_inbound_latest ON vc_inbound_message
  (tenant_id, channel_id, from_addr, received_at);

-- Webhooks find a message by the provider's id, which only a message the
-- provider accepted has: indexing the others made every dispatch write
-- (the channel chosen, then the id) move their index entries.
DROP INDEX vc_message_provider;
CREATE INDEX vc_message_provider ON vc_message
  (tenant_id, channel_id, provider_id) WHERE provider_id IS NOT NULL;
