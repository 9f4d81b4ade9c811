-- Quiet hours: the categories a tenant lets through its quiet window,
-- a bit mask of 1 << vc_category (8 = one-time passwords only).
ALTER TABLE vc_tenant ADD COLUMN quiet_exempt INTEGER NOT NULL DEFAULT 8;
