-- Schema 7: quality figures of calls. NULL: not known.

CREATE TABLE vc_call_quality (
  tenant_id       TEXT NOT NULL,
  call_id         TEXT NOT NULL,
  jitter_ms       REAL,
  jitter_source   INTEGER NOT NULL DEFAULT 0,  -- a vc_quality_source
  packet_loss_pct REAL,
  loss_source     INTEGER NOT NULL DEFAULT 0,
  rtt_ms          REAL,
  rtt_source      INTEGER NOT NULL DEFAULT 0,
  mos             REAL,
  mos_source      INTEGER NOT NULL DEFAULT 0,
  r_factor        REAL,                        -- when MOS was computed
  reports         INTEGER NOT NULL DEFAULT 0,
  measured_at     INTEGER NOT NULL,            -- of the latest report
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, call_id)
);
