-- Schema 9: IVR menus of a tenant (src/call/ivr.c).

CREATE TABLE vc_ivr_menu (
  tenant_id  TEXT NOT NULL,
  id         TEXT NOT NULL,
  name       TEXT NOT NULL,
  definition TEXT NOT NULL,            -- the validated JSON, normalized
  revision   INTEGER NOT NULL,         -- 1, then +1 per update
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  -- Deleted menus stay for the calls still in them; lookups skip them.
  deleted_at INTEGER,
  PRIMARY KEY (tenant_id, id)
);
-- A name is unique among a tenant's live menus.
CREATE UNIQUE INDEX vc_ivr_menu_name ON vc_ivr_menu (tenant_id, name)
  WHERE deleted_at IS NULL;
