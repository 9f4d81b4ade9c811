-- Schema 25: two indexes the dispatcher writes on every message, keyed on
-- their most selective column first.
--
-- Each key began with the 26-character tenant id, the same in every
-- entry of a tenant, so every comparison of a search walked it (and the
-- channel id after it) before reaching the column that decides. A sent
-- message adds a vc_message_provider entry and a finished job removes a
-- vc_job_subject entry; with the deciding column first those searches
-- cost about a third less. Every query still filters by tenant: a
-- webhook's lookup (tenant, channel, provider id) searches on provider id
-- and channel, a job's cancel (tenant, subject) on subject and tenant,
-- and a campaign's jobs (tenant, subject IN its messages) likewise.

DROP INDEX vc_job_subject;
CREATE INDEX vc_job_subject ON vc_job (subject_id, tenant_id);

DROP INDEX vc_message_provider;
CREATE INDEX vc_message_provider ON vc_message (provider_id, channel_id)
  WHERE provider_id IS NOT NULL;
