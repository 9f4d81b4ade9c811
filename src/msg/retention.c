/*
 * Retention: a tenant's policy (days after which message bodies,
 * recording references and events go) and the periodic purge job
 * (vyomcomm/privacy.h).
 *
 * The purge reads in keyset order and never scans what it did before:
 * messages and inbound messages by id (a ULID begins with its creation
 * time, so "created before the cutoff" is "id below the cutoff's id
 * prefix", on the primary key, no index of its own), with a cursor per
 * table stored in the policy; events by seq up to the first one newer
 * than the cutoff; recordings by their creation-time index.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/ctx.h"
#include "core/job.h"
#include "core/tenant.h"
#include "call/recording.h"
#include "privacy.h"

#include <stdio.h>

#define JOB_KIND "privacy.retention"
#define DAY_MS 86400000LL
#define HOUR_MS 3600000LL
#define BATCH 500

static const char SQL_GET[] =
  "SELECT message_days, recording_days, event_days, message_cursor,"
  " inbound_cursor FROM vc_retention WHERE tenant_id = ?1";
static const char SQL_SET[] =
  "INSERT INTO vc_retention (tenant_id, message_days, recording_days,"
  " event_days, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)"
  " ON CONFLICT (tenant_id) DO UPDATE SET"
  " message_days = excluded.message_days,"
  " recording_days = excluded.recording_days,"
  " event_days = excluded.event_days, updated_at = excluded.updated_at";
static const char SQL_JOB_PENDING[] =
  "SELECT id, due_at FROM vc_job WHERE tenant_id = ?1 AND kind = ?2"
  " AND lease_owner IS NULL ORDER BY due_at LIMIT 1";
static const char SQL_JOB_MOVE[] =
  "UPDATE vc_job SET due_at = ?3 WHERE tenant_id = ?1 AND id = ?2"
  " AND lease_owner IS NULL";

/* The last id of the next page after ?2 and below ?3, or NULL. */
static const char SQL_MSG_PAGE_END[] =
  "SELECT MAX(id) FROM (SELECT id FROM vc_message WHERE tenant_id = ?1"
  " AND id > ?2 AND id < ?3 ORDER BY id LIMIT 500) p";
/* Messages still queued or sending keep their body: it is yet to go. */
static const char SQL_MSG_ATTACH_PURGE[] =
  "DELETE FROM vc_message_attachment WHERE tenant_id = ?1"
  " AND message_id > ?2 AND message_id <= ?3 AND message_id IN (SELECT id"
  " FROM vc_message WHERE tenant_id = ?1 AND id > ?2 AND id <= ?3"
  " AND status NOT IN (1, 2))";
static const char SQL_MSG_PURGE[] =
  "UPDATE vc_message SET subject = NULL, text_body = NULL, html_body = NULL,"
  " attachments = 0 WHERE tenant_id = ?1 AND id > ?2 AND id <= ?3"
  " AND status NOT IN (1, 2) AND (subject IS NOT NULL OR text_body IS NOT"
  " NULL OR html_body IS NOT NULL OR attachments > 0)";
static const char SQL_MSG_CURSOR[] =
  "UPDATE vc_retention SET message_cursor = ?2 WHERE tenant_id = ?1";
static const char SQL_IN_PAGE_END[] =
  "SELECT MAX(id) FROM (SELECT id FROM vc_inbound_message"
  " WHERE tenant_id = ?1 AND id > ?2 AND id < ?3 ORDER BY id LIMIT 500) p";
static const char SQL_IN_PURGE[] =
  "UPDATE vc_inbound_message SET text_body = NULL, media = '[]'"
  " WHERE tenant_id = ?1 AND id > ?2 AND id <= ?3"
  " AND (text_body IS NOT NULL OR media <> '[]')";
static const char SQL_IN_CURSOR[] =
  "UPDATE vc_retention SET inbound_cursor = ?2 WHERE tenant_id = ?1";
static const char SQL_EVENT_BOUND[] =
  "SELECT seq FROM vc_event WHERE tenant_id = ?1 AND created_at >= ?2"
  " ORDER BY seq LIMIT 1";
static const char SQL_EVENT_PURGE[] =
  "DELETE FROM vc_event WHERE seq IN (SELECT seq FROM vc_event"
  " WHERE tenant_id = ?1 AND seq < ?2 ORDER BY seq LIMIT 500)";

typedef struct policy {
  int days[3];           /* message bodies, recordings, events */
  char msg_cursor[VC_ID_SIZE], in_cursor[VC_ID_SIZE];
  int found;
} policy;

static int policy_load(policy *p, vc__db *db, const char *tenant_id)
{
  vc__stmt *s;
  int rc;

  memset(p, 0, sizeof(*p));
  if ((rc = vc__db_query(&s, db, SQL_GET, "t", tenant_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    for (int i = 0; i < 3; i++)
      p->days[i] = (int)vc__stmt_int64(s, i);
    snprintf(p->msg_cursor, sizeof(p->msg_cursor), "%s",
             vc__stmt_text(s, 3));
    snprintf(p->in_cursor, sizeof(p->in_cursor), "%s", vc__stmt_text(s, 4));
    p->found = 1;
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

/* The smallest id made at `ms`: its time part, then zeros. */
static void id_floor(char out[VC_ID_SIZE], int64_t ms)
{
  static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  uint64_t t = ms < 0 ? 0 : (uint64_t)ms;

  for (int i = 0; i < 10; i++)
    out[i] = alphabet[(t >> (45 - 5 * i)) & 31];
  memset(out + 10, '0', 16);
  out[26] = '\0';
}

/* A purge job of the tenant due at `due` at the latest (one is enough). */
static int ensure_job(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      int64_t due)
{
  char id[VC_ID_SIZE];
  int64_t at = 0;
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_JOB_PENDING, "tt", tenant_id,
                         JOB_KIND)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    snprintf(id, sizeof(id), "%s", vc__stmt_text(s, 0));
    at = vc__stmt_int64(s, 1);
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if (rc == VC_STORAGE_DONE)
    return vc__job_enqueue(db, ctx, tenant_id, JOB_KIND, tenant_id, due,
                           NULL);
  return at <= due ? 0 : vc__db_run(db, SQL_JOB_MOVE, "tti", tenant_id, id,
                                    due);
}

/* One page of a table keyed by ULID: the page's end after `cursor` and
 * below `below`, the purge of that range, the cursor moved, in one
 * transaction. 1 while pages remain, 0 at the end, or < 0. */
static int id_page(vc__db *db, const char *tenant_id, const char *end_sql,
                   const char *attach_sql, const char *purge_sql,
                   const char *cursor_sql, char cursor[VC_ID_SIZE],
                   const char *below, int64_t *purged)
{
  char end[VC_ID_SIZE] = "";
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_begin(db)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, end_sql, "ttt", tenant_id, cursor,
                         below)) < 0)
    goto fail;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW && !vc__stmt_is_null(s, 0))
    snprintf(end, sizeof(end), "%s", vc__stmt_text(s, 0));
  vc__stmt_done(s);
  if (rc < 0)
    goto fail;
  if (end[0] == '\0') {
    vc__db_rollback(db);
    return 0;
  }
  if ((attach_sql != NULL &&
       (rc = vc__db_run(db, attach_sql, "ttt", tenant_id, cursor, end)) < 0) ||
      (rc = vc__db_run(db, purge_sql, "ttt", tenant_id, cursor, end)) < 0)
    goto fail;
  *purged += vc__db_changes(db);
  if ((rc = vc__db_run(db, cursor_sql, "tt", tenant_id, end)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  snprintf(cursor, VC_ID_SIZE, "%s", end);
  return 1;
fail:
  vc__db_rollback(db);
  return rc;
}

static int event_page(vc__db *db, const char *tenant_id, int64_t cutoff,
                      int64_t *purged)
{
  int64_t bound = INT64_MAX, n;
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_begin(db)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_EVENT_BOUND, "ti", tenant_id,
                         cutoff)) < 0)
    goto fail;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    bound = vc__stmt_int64(s, 0);
  vc__stmt_done(s);
  if (rc < 0 ||
      (rc = vc__db_run(db, SQL_EVENT_PURGE, "ti", tenant_id, bound)) < 0)
    goto fail;
  n = vc__db_changes(db);
  *purged += n;
  if ((rc = vc__db_commit(db)) < 0)
    goto fail;
  return n == BATCH;
fail:
  vc__db_rollback(db);
  return rc;
}

static int recording_page(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                          int64_t cutoff, int64_t *purged)
{
  int rc;

  if ((rc = vc__db_begin(db)) < 0)
    return rc;
  if ((rc = vc__recording_drop_before(db, ctx, tenant_id, cutoff)) < 0 ||
      vc__db_commit(db) < 0) {
    rc = rc < 0 ? rc : vc__error_code();
    vc__db_rollback(db);
    return rc;
  }
  *purged += rc;
  return rc == 100;
}

/* Purge the tenant's data past its retention in batches, one
 * transaction each; then queue the next run (hourly while a retention is
 * set) and, for the API, the audit row, in a last transaction. */
static int purge_tenant(vc_ctx *ctx, const char *tenant_id, int64_t *purged,
                        int audited)
{
  int64_t now = vc__now(ctx);
  char below[VC_ID_SIZE], summary[64];
  policy p;
  vc__db *db;
  int rc, any;

  *purged = 0;
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = policy_load(&p, db, tenant_id)) < 0)
    goto release;
  /* Each kind to its end, a batch per transaction (rc 1: more). */
  if (p.days[0] > 0) {
    id_floor(below, now - p.days[0] * DAY_MS);
    do
      rc = id_page(db, tenant_id, SQL_MSG_PAGE_END, SQL_MSG_ATTACH_PURGE,
                   SQL_MSG_PURGE, SQL_MSG_CURSOR, p.msg_cursor, below,
                   purged);
    while (rc > 0);
    while (rc == 0 &&
           (rc = id_page(db, tenant_id, SQL_IN_PAGE_END, NULL, SQL_IN_PURGE,
                         SQL_IN_CURSOR, p.in_cursor, below, purged)) > 0)
      rc = 0;
  }
  while (rc == 0 && p.days[1] > 0 &&
         (rc = recording_page(db, ctx, tenant_id, now - p.days[1] * DAY_MS,
                              purged)) > 0)
    rc = 0;
  while (rc == 0 && p.days[2] > 0 &&
         (rc = event_page(db, tenant_id, now - p.days[2] * DAY_MS,
                          purged)) > 0)
    rc = 0;
  if (rc < 0)
    goto release;
  any = p.days[0] > 0 || p.days[1] > 0 || p.days[2] > 0;
  if (!any && !audited)
    goto release;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  snprintf(summary, sizeof(summary), "{\"purged\":%lld}",
           (long long)*purged);
  if ((any && (rc = ensure_job(db, ctx, tenant_id, now + HOUR_MS)) < 0) ||
      (audited && (rc = vc__audit(db, ctx, tenant_id, "retention.purge",
                                  tenant_id, summary)) < 0) ||
      (rc = vc__db_commit(db)) < 0)
    vc__db_rollback(db);
release:
  vc__db_release(db);
  return rc < 0 ? rc : 0;
}

static int purge_job(vc_ctx *ctx, const vc__job *job, vc__job_outcome *out)
{
  int64_t purged;
  int rc;

  if ((rc = purge_tenant(ctx, job->tenant_id, &purged, 0)) < 0)
    return rc;
  if (purged > 0)
    VC_LOG(ctx, VC_LOG_INFO, "tenant %s: retention purged %lld rows",
           job->tenant_id, (long long)purged);
  out->result = VC__JOB_DONE;
  return 0;
}

int vc__retention_register(vc_ctx *ctx)
{
  return vc__job_register(ctx, JOB_KIND, purge_job);
}

int vc_retention_purge(int64_t *purged_out, vc_tenant *t)
{
  int64_t purged = 0;
  int rc;

  VC_ASSERT_ARG(t);
  rc = purge_tenant(vc__tenant_ctx(t), vc_tenant_id(t), &purged, 1);
  if (purged_out != NULL)
    *purged_out = purged;
  return rc;
}

int vc_retention_set(vc_tenant *t, const vc_retention_spec *spec)
{
  static const char *const names[] = { "message_body_days", "recording_days",
                                       "event_days" };
  char summary[160];
  int days[3], rc;
  vc_ctx *ctx;
  vc__db *db;

  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_RETENTION_SPEC_VERSION, "vc_retention_spec");
  days[0] = spec->message_body_days;
  days[1] = spec->recording_days;
  days[2] = spec->event_days;
  for (int i = 0; i < 3; i++)
    if (days[i] < 0 || days[i] > VC_RETENTION_DAYS_MAX)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "%s must be 0..%d", names[i],
                           VC_RETENTION_DAYS_MAX);
  ctx = vc__tenant_ctx(t);
  snprintf(summary, sizeof(summary),
           "{\"message_body_days\":%d,\"recording_days\":%d,"
           "\"event_days\":%d}", days[0], days[1], days[2]);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__db_run(db, SQL_SET, "tiiii", vc_tenant_id(t),
                       (int64_t)days[0], (int64_t)days[1], (int64_t)days[2],
                       vc__now(ctx))) < 0 ||
      ((days[0] || days[1] || days[2]) &&
       (rc = ensure_job(db, ctx, vc_tenant_id(t), vc__now(ctx))) < 0) ||
      (rc = vc__audit(db, ctx, vc_tenant_id(t), "retention.set",
                      vc_tenant_id(t), summary)) < 0 ||
      (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    goto release;
  }
  vc_ctx_wakeup(ctx);
release:
  vc__db_release(db);
  return rc;
}

int vc_retention_get(vc_retention_spec *out, vc_tenant *t)
{
  policy p;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(out, VC_RETENTION_SPEC_VERSION, "vc_retention_spec");
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    return rc;
  rc = policy_load(&p, db, vc_tenant_id(t));
  vc__db_release(db);
  if (rc < 0)
    return rc;
  out->message_body_days = p.days[0];
  out->recording_days = p.days[1];
  out->event_days = p.days[2];
  return 0;
}

int vc_retention_spec_init(vc_retention_spec *s, unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_RETENTION_SPEC_VERSION, vc_retention_spec,
                 VC_RETENTION_SPEC_INIT);
}
