-- Schema 8: billing. Rate cards, the ledger of costs, and the GL
-- account codes the ledger is exported with. See src/call/ratecard.c,
-- src/call/ledger.c, src/call/billing.c and src/call/gl_export.c.

-- A rate card: the rates of one provider (an adapter name), or of one of
-- its channels, from `effective_from` on. A newer card of the same
-- provider and channel takes over at its own effective_from.
CREATE TABLE vc_ratecard (
  tenant_id      TEXT NOT NULL,
  id             TEXT NOT NULL,
  provider       TEXT NOT NULL,             -- adapter name
  channel_id     TEXT NOT NULL DEFAULT '',  -- '' = every channel of it
  effective_from INTEGER NOT NULL,          -- Unix ms
  nentries       INTEGER NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX vc_ratecard_key ON vc_ratecard
  (tenant_id, provider, channel_id, effective_from);

CREATE TABLE vc_ratecard_entry (
  tenant_id        TEXT NOT NULL,
  card_id          TEXT NOT NULL,
  seq              INTEGER NOT NULL,        -- order as given, from 0
  prefix           TEXT NOT NULL,           -- E.164 digits; '' = default
  rate_per_min     INTEGER NOT NULL,        -- micro-units per minute
  initial_s        INTEGER NOT NULL,
  subsequent_s     INTEGER NOT NULL,
  connection_fee   INTEGER NOT NULL,        -- micro-units
  currency         TEXT NOT NULL,           -- ISO 4217
  PRIMARY KEY (tenant_id, card_id, seq)
);
CREATE UNIQUE INDEX vc_ratecard_entry_prefix ON vc_ratecard_entry
  (tenant_id, card_id, prefix);

-- The ledger: append-only. A changed cost is a reversal of the old entry
-- and a new entry, never an update.
CREATE TABLE vc_ledger (
  tenant_id     TEXT NOT NULL,
  id            TEXT NOT NULL,
  source        TEXT NOT NULL,              -- "call" (later "message")
  source_id     TEXT NOT NULL,
  kind          INTEGER NOT NULL,           -- a vc_ledger_kind
  amount_micros INTEGER NOT NULL,           -- > 0
  currency      TEXT NOT NULL,              -- ISO 4217
  period        TEXT NOT NULL,              -- UTC date YYYY-MM-DD
  occurred_at   INTEGER NOT NULL,           -- Unix ms of the event
  reverses      TEXT,                       -- the entry a reversal undoes
  provider      TEXT NOT NULL DEFAULT '',   -- adapter name, for accounts
  channel_id    TEXT NOT NULL DEFAULT '',   -- for the cost center
  ratecard_id   TEXT,                       -- estimate: the card used
  prefix        TEXT,                       -- estimate: the entry matched
  billed_s      INTEGER NOT NULL DEFAULT 0, -- estimate: billed seconds
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX vc_ledger_time ON vc_ledger (tenant_id, occurred_at, id);
CREATE INDEX vc_ledger_source ON vc_ledger (tenant_id, source, source_id);
CREATE UNIQUE INDEX vc_ledger_reverses ON vc_ledger (tenant_id, reverses)
  WHERE reverses IS NOT NULL;

-- GL account codes: the tenant's defaults (scope ''), a provider's
-- ('provider:<adapter>') and a channel's ('channel:<id>'); NULL columns
-- fall back to the wider scope.
CREATE TABLE vc_gl_account (
  tenant_id       TEXT NOT NULL,
  scope           TEXT NOT NULL,
  expense_account TEXT,
  payable_account TEXT,
  cost_center     TEXT,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, scope)
);
