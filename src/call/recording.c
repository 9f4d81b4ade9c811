/*
 * Recording: the tenant's policy, the recordings of calls as providers
 * report them, the purge past retention, and the compliance report.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/job.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "msg/adapter.h"
#include "hooks.h"
#include "recording.h"
#include "language.h"

#include <cJSON.h>
#include <stdio.h>
#include <time.h>

#define LANGUAGE_MAX VC__LANGUAGE_MAX
#define PROVIDER_ID_MAX 128
#define URL_MAX 2048
#define DURATION_MAX (7 * 86400)
#define PURGE_BATCH 100
#define DAY_MS 86400000LL

static const char DEFAULT_LANGUAGE[] = "en-US";

const char *vc_recording_status_name(int status)
{
  static const char *const names[] = {
    "unknown", "recording", "available", "deleting", "purged",
    "delete_failed", "failed"
  };

  return status >= 1 && status <= VC_RECORDING_STATUS_FAILED ? names[status]
                                                             : names[0];
}

static const char *purge_name(int kind)
{
  return kind == VC_RECORDING_PURGE_PROVIDER ? "provider"
         : kind == VC_RECORDING_PURGE_LOCAL  ? "local" : "";
}

/* ---- the policy ------------------------------------------------------ */

struct vc_recording_policy {
  int mode;
  char consent_text[VC_RECORDING_CONSENT_MAX + 1];
  char consent_language[LANGUAGE_MAX + 1];
  int retention_days;
  int64_t updated_at;
};

static const char SQL_POLICY_GET[] =
  "SELECT mode, consent_text, consent_language, retention_days, updated_at"
  " FROM vc_recording_policy WHERE tenant_id = ?1";
static const char SQL_POLICY_SET[] =
  "INSERT INTO vc_recording_policy (tenant_id, mode, consent_text,"
  " consent_language, retention_days, updated_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (tenant_id) DO UPDATE SET"
  " mode = excluded.mode, consent_text = excluded.consent_text,"
  " consent_language = excluded.consent_language,"
  " retention_days = excluded.retention_days,"
  " updated_at = excluded.updated_at";

/* The tenant's policy, or the default (off) when it never set one. */
static int policy_load(vc_recording_policy *p, vc__db *db,
                       const char *tenant_id)
{
  vc__stmt *s;
  int rc;

  memset(p, 0, sizeof(*p));
  p->mode = VC_RECORD_OFF;
  snprintf(p->consent_language, sizeof(p->consent_language), "%s",
           DEFAULT_LANGUAGE);
  if ((rc = vc__db_query(&s, db, SQL_POLICY_GET, "t", tenant_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    p->mode = (int)vc__stmt_int64(s, 0);
    snprintf(p->consent_text, sizeof(p->consent_text), "%s",
             vc__stmt_text(s, 1));
    snprintf(p->consent_language, sizeof(p->consent_language), "%s",
             vc__stmt_text(s, 2));
    p->retention_days = (int)vc__stmt_int64(s, 3);
    p->updated_at = vc__stmt_int64(s, 4);
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

int vc_recording_policy_set(vc_tenant *t, const vc_recording_policy_spec *p)
{
  const char *text, *lang;
  char payload[96];
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(p);
  VC_CHECK_VERSION(p, VC_RECORDING_POLICY_SPEC_VERSION,
                   "vc_recording_policy_spec");
  if (p->mode != VC_RECORD_OFF && p->mode != VC_RECORD_ALWAYS &&
      p->mode != VC_RECORD_ON_DEMAND)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "recording mode must be off, always or on_demand");
  text = p->consent_text;
  if (text == NULL)
    text = p->mode == VC_RECORD_OFF ? "" : VC_RECORDING_DEFAULT_CONSENT;
  if (text[0] == '\0' && p->mode != VC_RECORD_OFF)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a policy that records needs a consent text");
  if ((rc = vc__check_text("consent text", text, VC_RECORDING_CONSENT_MAX,
                           0)) < 0)
    return rc;
  for (const char *c = text; *c != '\0'; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "consent text has a control character");
  lang = p->consent_language ? p->consent_language : DEFAULT_LANGUAGE;
  if (!vc__language_ok(lang))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "consent language is not a language tag such as "
                         "en-US");
  if (p->retention_days < 0 || p->retention_days > VC_RECORDING_RETENTION_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "retention must be 0 to %d days",
                         VC_RECORDING_RETENTION_MAX);
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  snprintf(payload, sizeof(payload), "{\"mode\":%d,\"retention_days\":%d}",
           p->mode, p->retention_days);
  if ((rc = vc__db_begin(db)) == 0) {
    if ((rc = vc__db_run(db, SQL_POLICY_SET, "tittii", vc_tenant_id(t),
                         (int64_t)p->mode, text, lang,
                         (int64_t)p->retention_days, vc__now(ctx))) < 0 ||
        (rc = vc__event_append(db, ctx, vc_tenant_id(t),
                               "recording_policy.updated", vc_tenant_id(t),
                               payload)) < 0 ||
        (rc = vc__audit(db, ctx, vc_tenant_id(t), "recording_policy.set",
                        vc_tenant_id(t), payload)) < 0 ||
        (rc = vc__db_commit(db)) < 0)
      vc__db_rollback(db);
  }
  vc__db_release(db);
  return rc;
}

int vc_recording_policy_get(vc_recording_policy **out, vc_tenant *t)
{
  vc_recording_policy *p;
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if ((p = vc__calloc(1, sizeof(*p))) == NULL)
    return vc_error_set_oom();
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) == 0) {
    rc = policy_load(p, db, vc_tenant_id(t));
    vc__db_release(db);
  }
  if (rc < 0) {
    vc__free(p);
    return rc;
  }
  *out = p;
  return 0;
}

void vc_recording_policy_free(vc_recording_policy *p) { vc__free(p); }
int vc_recording_policy_mode(const vc_recording_policy *p)
{
  return p ? p->mode : 0;
}
const char *vc_recording_policy_consent_text(const vc_recording_policy *p)
{
  return p ? p->consent_text : NULL;
}
const char *vc_recording_policy_consent_language(
  const vc_recording_policy *p)
{
  return p ? p->consent_language : NULL;
}
int vc_recording_policy_retention_days(const vc_recording_policy *p)
{
  return p ? p->retention_days : 0;
}
int64_t vc_recording_policy_updated_at(const vc_recording_policy *p)
{
  return p ? p->updated_at : 0;
}

int vc_recording_policy_spec_init(vc_recording_policy_spec *s,
                                  unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_RECORDING_POLICY_SPEC_VERSION,
                 vc_recording_policy_spec, VC_RECORDING_POLICY_SPEC_INIT);
}

/* ---- hooks: a new call's mode and consent ------------------------------ */

int vc__recording_mode(vc__db *db, const char *tenant_id, int requested,
                       int *mode, char *consent)
{
  vc_recording_policy p;
  int rc;

  consent[0] = '\0';
  *mode = VC_RECORD_OFF;
  if (requested < VC_RECORD_DEFAULT || requested > VC_RECORD_ON_DEMAND)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown record mode %d", requested);
  if ((rc = policy_load(&p, db, tenant_id)) < 0)
    return rc;
  *mode = requested == VC_RECORD_DEFAULT ? p.mode : requested;
  /* A call that may be recorded always has an announcement: the policy's
   * text, or the default when the policy is off and has none. */
  if (*mode != VC_RECORD_OFF)
    snprintf(consent, VC_RECORDING_CONSENT_MAX + 1, "%s",
             p.consent_text[0] ? p.consent_text
                               : VC_RECORDING_DEFAULT_CONSENT);
  return 0;
}

int vc__recording_consent_language(vc__db *db, const char *tenant_id,
                                   char *language)
{
  vc_recording_policy p;
  int rc;

  if ((rc = policy_load(&p, db, tenant_id)) < 0)
    return rc;
  snprintf(language, LANGUAGE_MAX + 1, "%s", p.consent_language);
  return 0;
}

/* ---- the purge job ------------------------------------------------------ */

static const char SQL_JOB_PENDING[] =
  "SELECT id, due_at FROM vc_job WHERE tenant_id = ?1 AND kind = ?2"
  " AND lease_owner IS NULL ORDER BY due_at LIMIT 1";
static const char SQL_JOB_MOVE[] =
  "UPDATE vc_job SET due_at = ?3 WHERE tenant_id = ?1 AND id = ?2"
  " AND lease_owner IS NULL";
static const char SQL_NEXT_EXPIRY[] =
  "SELECT MIN(expires_at) FROM vc_recording WHERE tenant_id = ?1"
  " AND status = 2 AND expires_at > 0";

/* A purge job of the tenant due at `due` at the latest (one is enough). */
static int ensure_job(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      int64_t due)
{
  char id[VC_ID_SIZE];
  int64_t at = 0;
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_JOB_PENDING, "tt", tenant_id,
                         VC__JOB_RECORDING_PURGE)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    snprintf(id, sizeof(id), "%s", vc__stmt_text(s, 0));
    at = vc__stmt_int64(s, 1);
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if (rc == VC_STORAGE_DONE)
    return vc__job_enqueue(db, ctx, tenant_id, VC__JOB_RECORDING_PURGE,
                           tenant_id, due, NULL);
  return at <= due ? 0 : vc__db_run(db, SQL_JOB_MOVE, "tti", tenant_id, id,
                                    due);
}

/* ---- the recordings ---------------------------------------------------- */

static const char SQL_CALL[] =
  "SELECT COALESCE(channel_id, ''), record_mode FROM vc_call"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CHANNEL_PROVIDER[] =
  "SELECT provider FROM vc_channel WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_FIND_BY_PROVIDER[] =
  "SELECT id, status FROM vc_recording WHERE tenant_id = ?1"
  " AND call_id = ?2 AND provider_id = ?3";
static const char SQL_FIND_BY_URL[] =
  "SELECT id, status FROM vc_recording WHERE tenant_id = ?1"
  " AND call_id = ?2 AND url = ?3";
static const char SQL_FIND_OPEN[] =
  "SELECT id, status FROM vc_recording WHERE tenant_id = ?1"
  " AND call_id = ?2 AND status = 1 ORDER BY id DESC LIMIT 1";
static const char SQL_REC_INSERT[] =
  "INSERT INTO vc_recording (tenant_id, id, call_id, channel_id,"
  " provider_id, consent, status, created_at, updated_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7)";
static const char SQL_REC_STOPPED[] =
  "UPDATE vc_recording SET stopped_at = CASE WHEN stopped_at = 0 THEN ?3"
  " ELSE stopped_at END, duration_s = CASE WHEN ?4 > 0 THEN ?4"
  " ELSE duration_s END, provider_id = COALESCE(provider_id, ?5),"
  " updated_at = ?6 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_REC_AVAILABLE[] =
  "UPDATE vc_recording SET status = 2, url = ?3, duration_s = CASE"
  " WHEN ?4 > 0 THEN ?4 ELSE duration_s END, available_at = ?5,"
  " stopped_at = CASE WHEN stopped_at = 0 THEN ?5 ELSE stopped_at END,"
  " expires_at = ?6, provider_id = COALESCE(provider_id, ?7),"
  " updated_at = ?8 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_REC_FAILED[] =
  "UPDATE vc_recording SET status = 6, error = ?3, updated_at = ?4,"
  " stopped_at = CASE WHEN stopped_at = 0 THEN ?4 ELSE stopped_at END"
  " WHERE tenant_id = ?1 AND id = ?2";

/* The capabilities of a channel's adapter, 0 when unknown. */
static uint64_t channel_caps(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                             const char *channel_id)
{
  char provider[72] = "";
  vc_adapter ad;
  vc__stmt *s;

  if (channel_id == NULL || channel_id[0] == '\0' ||
      vc__db_query(&s, db, SQL_CHANNEL_PROVIDER, "tt", tenant_id,
                   channel_id) < 0)
    return 0;
  if (vc__stmt_step(s) == VC_STORAGE_ROW)
    snprintf(provider, sizeof(provider), "%s", vc__stmt_text(s, 0));
  vc__stmt_done(s);
  if (provider[0] == '\0' || vc__adapter_find(&ad, ctx, provider) < 0) {
    vc_error_clear();
    return 0;
  }
  return ad.capabilities;
}

/* A printable one-line provider value of at most `max` bytes, or NULL. */
static int check_provider_text(const char *field, const char *s, size_t max)
{
  size_t n;

  if (s == NULL)
    return 0;
  n = strlen(s);
  if (n == 0 || n > max)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "recording %s is empty or longer than %zu bytes",
                         field, max);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "recording %s has a character outside printable "
                           "ASCII", field);
  return 0;
}

/* Find the row an update is about: 1 with its id and status, or 0. */
static int find_row(vc__db *db, const char *tenant_id, const char *call_id,
                    const vc_call_update *u, char id[VC_ID_SIZE],
                    int *status)
{
  vc__stmt *s;
  int rc;

  if (u->recording_id != NULL)
    rc = vc__db_query(&s, db, SQL_FIND_BY_PROVIDER, "ttt", tenant_id,
                      call_id, u->recording_id);
  else if (u->recording_url != NULL)
    rc = vc__db_query(&s, db, SQL_FIND_BY_URL, "ttt", tenant_id, call_id,
                      u->recording_url);
  else
    rc = vc__db_query(&s, db, SQL_FIND_OPEN, "tt", tenant_id, call_id);
  if (rc < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    snprintf(id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
    *status = (int)vc__stmt_int64(s, 1);
    rc = 1;
  } else if (rc == VC_STORAGE_DONE) {
    rc = 0;
  }
  vc__stmt_done(s);
  if (rc == 0 && u->recording_id != NULL) {
    /* A provider that named the recording only later (STARTED without an
     * id, AVAILABLE with one): the call's open recording. */
    if ((rc = vc__db_query(&s, db, SQL_FIND_OPEN, "tt", tenant_id,
                           call_id)) < 0)
      return rc;
    if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
      snprintf(id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
      *status = (int)vc__stmt_int64(s, 1);
      rc = 1;
    } else if (rc == VC_STORAGE_DONE) {
      rc = 0;
    }
    vc__stmt_done(s);
  }
  return rc;
}

/* The entry's detail: the recording's ids (never its URL: the timeline
 * outlives the purge). */
static void detail_of(char *buf, size_t size, const char *id,
                      const vc_call_update *u, const char *extra)
{
  cJSON *d = cJSON_CreateObject();
  char *text;

  snprintf(buf, size, "{}");
  if (d == NULL)
    return;
  cJSON_AddStringToObject(d, "recording", id);
  if (u->recording_id != NULL)
    cJSON_AddStringToObject(d, "provider_id", u->recording_id);
  if (u->recording_duration_s > 0)
    cJSON_AddNumberToObject(d, "duration_s", u->recording_duration_s);
  if (extra != NULL)
    cJSON_AddStringToObject(d, "status", extra);
  if ((text = cJSON_PrintUnformatted(d)) != NULL &&
      strlen(text) < size)
    snprintf(buf, size, "%s", text);
  cJSON_free(text);
  cJSON_Delete(d);
}

int vc__recording_on_update(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *call_id, const vc_call_update *u)
{
  char id[VC_ID_SIZE], channel[VC_ID_SIZE] = "", detail[512];
  char payload[160];
  vc_recording_policy policy;
  int64_t now = vc__now(ctx), at, expires = 0;
  int record_mode = 0, status = 0, found, rc, duration;
  vc__stmt *s;

  if (u->recording_status < VC_RECORDING_STARTED ||
      u->recording_status > VC_RECORDING_FAILED)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown recording status %d", u->recording_status);
  if ((rc = check_provider_text("id", u->recording_id, PROVIDER_ID_MAX)) < 0 ||
      (rc = check_provider_text("URL", u->recording_url, URL_MAX)) < 0)
    return rc;
  duration = u->recording_duration_s < 0 ? 0
             : u->recording_duration_s > DURATION_MAX ? DURATION_MAX
             : u->recording_duration_s;
  at = u->occurred_at > 0 ? u->occurred_at : now;
  if ((rc = vc__db_query(&s, db, SQL_CALL, "tt", tenant_id, call_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    snprintf(channel, sizeof(channel), "%s", vc__stmt_text(s, 0));
    record_mode = (int)vc__stmt_int64(s, 1);
  }
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no call '%.32s'", call_id);
  if (rc < 0 || (found = find_row(db, tenant_id, call_id, u, id,
                                  &status)) < 0)
    return rc < 0 ? rc : found;
  if (!found) {
    /* Consent: the call may be recorded (so it had an announcement) and
     * its provider follows the library's scripts (so it was played). */
    int consent = record_mode != VC_RECORD_OFF &&
                  (channel_caps(db, ctx, tenant_id, channel) &
                   VC_CAP_CALL_SCRIPT) != 0;
    if ((rc = vc__new_id(ctx, id)) < 0 ||
        (rc = vc__db_run(db, SQL_REC_INSERT, "tttttii", tenant_id, id,
                         call_id, channel[0] ? channel : NULL,
                         u->recording_id, (int64_t)consent, at)) < 0)
      return rc;
    status = VC_RECORDING_STATUS_RECORDING;
    detail_of(detail, sizeof(detail), id, u, NULL);
    if ((rc = vc__call_entry_add(db, ctx, tenant_id, call_id,
                                 "recording.started", VC_LEG_NONE, detail,
                                 at)) < 0)
      return rc;
    if (u->recording_status == VC_RECORDING_STARTED)
      return 0;
  }
  if (status != VC_RECORDING_STATUS_RECORDING)
    return 0; /* a replay, or news about a recording already settled */
  switch (u->recording_status) {
  case VC_RECORDING_STARTED:
    return 0;
  case VC_RECORDING_STOPPED:
    detail_of(detail, sizeof(detail), id, u, NULL);
    if ((rc = vc__db_run(db, SQL_REC_STOPPED, "ttiiti", tenant_id, id, at,
                         (int64_t)duration, u->recording_id, now)) < 0)
      return rc;
    return vc__call_entry_add(db, ctx, tenant_id, call_id,
                              "recording.stopped", VC_LEG_NONE, detail, at);
  case VC_RECORDING_AVAILABLE:
    if (u->recording_url == NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "an available recording needs its URL");
    if ((rc = policy_load(&policy, db, tenant_id)) < 0)
      return rc;
    if (policy.retention_days > 0)
      expires = at + (int64_t)policy.retention_days * DAY_MS;
    detail_of(detail, sizeof(detail), id, u, NULL);
    snprintf(payload, sizeof(payload),
             "{\"call_id\":\"%s\",\"expires_at\":%lld}", call_id,
             (long long)expires);
    if ((rc = vc__db_run(db, SQL_REC_AVAILABLE, "tttiiiti", tenant_id, id,
                         u->recording_url, (int64_t)duration, at, expires,
                         u->recording_id, now)) < 0)
      return rc;
    if ((rc = vc__event_append(db, ctx, tenant_id, "recording.available",
                               id, payload)) < 0 ||
        (expires > 0 && (rc = ensure_job(db, ctx, tenant_id, expires)) < 0))
      return rc;
    return vc__call_entry_add(db, ctx, tenant_id, call_id,
                              "recording.available", VC_LEG_NONE, detail,
                              at);
  default: /* FAILED */
    detail_of(detail, sizeof(detail), id, u, "failed");
    if ((rc = vc__db_run(db, SQL_REC_FAILED, "ttti", tenant_id, id,
                         u->provider_code, at)) < 0)
      return rc;
    return vc__call_entry_add(db, ctx, tenant_id, call_id,
                              "recording.stopped", VC_LEG_NONE, detail, at);
  }
}

static const char SQL_DELETED_FIND[] =
  "SELECT id, status, call_id FROM vc_recording WHERE tenant_id = ?1"
  " AND provider_id = ?2 ORDER BY id DESC LIMIT 1";
static const char SQL_DELETED_OK[] =
  "UPDATE vc_recording SET status = 4, url = NULL, purge_kind = 1,"
  " purged_at = ?3, error = NULL, updated_at = ?4"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_DELETED_FAIL[] =
  "UPDATE vc_recording SET status = 5, error = ?3, updated_at = ?4"
  " WHERE tenant_id = ?1 AND id = ?2";

int vc__recording_on_deleted(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                             const char *recording_id, int ok, int64_t at)
{
  char id[VC_ID_SIZE], call_id[VC_ID_SIZE], payload[96];
  int64_t now = vc__now(ctx);
  int status = 0, rc;
  vc__stmt *s;

  if ((rc = vc__db_query(&s, db, SQL_DELETED_FIND, "tt", tenant_id,
                         recording_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    snprintf(id, sizeof(id), "%s", vc__stmt_text(s, 0));
    status = (int)vc__stmt_int64(s, 1);
    snprintf(call_id, sizeof(call_id), "%s", vc__stmt_text(s, 2));
  }
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no recording '%.64s'", recording_id);
  if (rc < 0)
    return rc;
  if (status != VC_RECORDING_STATUS_DELETING)
    return 0; /* a replay */
  snprintf(payload, sizeof(payload), "{\"call_id\":\"%s\"}", call_id);
  if (ok)
    rc = vc__db_run(db, SQL_DELETED_OK, "ttii", tenant_id, id,
                    at > 0 ? at : now, now);
  else
    rc = vc__db_run(db, SQL_DELETED_FAIL, "ttti", tenant_id, id,
                    "the provider refused to delete it", now);
  if (rc == 0)
    rc = vc__event_append(db, ctx, tenant_id,
                          ok ? "recording.purged" : "recording.delete_failed",
                          id, payload);
  return rc;
}

/* ---- the purge ------------------------------------------------------- */

static const char SQL_EXPIRED[] =
  "SELECT r.id, r.call_id, COALESCE(r.channel_id, ''),"
  " COALESCE(r.provider_id, '') FROM vc_recording r WHERE r.tenant_id = ?1"
  " AND r.status = 2 AND r.expires_at > 0 AND r.expires_at <= ?2"
  " ORDER BY r.expires_at, r.id LIMIT 100";
static const char SQL_MARK_DELETING[] =
  "UPDATE vc_recording SET status = 3, purge_requested_at = ?3,"
  " updated_at = ?3 WHERE tenant_id = ?1 AND id = ?2 AND status = 2";
static const char SQL_MARK_LOCAL[] =
  "UPDATE vc_recording SET status = 4, url = NULL, purge_kind = 2,"
  " purge_requested_at = ?3, purged_at = ?3, updated_at = ?3"
  " WHERE tenant_id = ?1 AND id = ?2 AND status = 2";

typedef struct expired {
  char id[VC_ID_SIZE], call_id[VC_ID_SIZE], channel[VC_ID_SIZE];
  char provider_id[PROVIDER_ID_MAX + 1];
} expired;

/* One batch in one transaction; the number handled, or < 0. */
static int purge_batch(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       int64_t now)
{
  expired *rows = vc__calloc(PURGE_BATCH, sizeof(*rows));
  char payload[96];
  size_t n = 0;
  vc__stmt *s;
  int rc;

  if (rows == NULL)
    return vc_error_set_oom();
  if ((rc = vc__db_begin(db)) < 0)
    goto out;
  if ((rc = vc__db_query(&s, db, SQL_EXPIRED, "ti", tenant_id, now)) < 0)
    goto fail;
  while (n < PURGE_BATCH && (rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    snprintf(rows[n].id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
    snprintf(rows[n].call_id, VC_ID_SIZE, "%s", vc__stmt_text(s, 1));
    snprintf(rows[n].channel, VC_ID_SIZE, "%s", vc__stmt_text(s, 2));
    snprintf(rows[n].provider_id, sizeof(rows[n].provider_id), "%s",
             vc__stmt_text(s, 3));
    n++;
  }
  vc__stmt_done(s);
  if (rc < 0)
    goto fail;
  for (size_t i = 0; i < n; i++) {
    expired *r = &rows[i];
    int remote = r->provider_id[0] != '\0' &&
                 (channel_caps(db, ctx, tenant_id, r->channel) &
                  VC_CAP_RECORDING_DELETE) != 0;
    snprintf(payload, sizeof(payload), "{\"call_id\":\"%s\"}", r->call_id);
    if (remote) {
      if ((rc = vc__db_run(db, SQL_MARK_DELETING, "tti", tenant_id, r->id,
                           now)) < 0 ||
          (rc = vc__call_control_enqueue(db, ctx, tenant_id, r->call_id,
                                         VC_CALL_OP_DELETE_RECORDING,
                                         r->provider_id)) < 0)
        goto fail;
    } else {
      if ((rc = vc__db_run(db, SQL_MARK_LOCAL, "tti", tenant_id, r->id,
                           now)) < 0 ||
          (rc = vc__event_append(db, ctx, tenant_id, "recording.purged",
                                 r->id, payload)) < 0)
        goto fail;
      VC_LOG(ctx, VC_LOG_WARN, "recording %s purged locally only: its "
             "provider cannot delete it; remove the provider's copy",
             r->id);
    }
  }
  if ((rc = vc__db_commit(db)) < 0)
    goto fail;
  rc = (int)n;
  goto out;
fail:
  vc__db_rollback(db);
out:
  vc__free(rows);
  return rc;
}

/* ---- dropping references (erasure, retention) ------------------------ */

/* Recordings that still hold a URL, of a contact's calls (?2, and the
 * contacts merged into it) or created before ?2. */
static const char SQL_OF_CONTACT[] =
  "SELECT id, call_id, COALESCE(channel_id, ''), COALESCE(provider_id, ''),"
  " status FROM vc_recording WHERE tenant_id = ?1 AND url IS NOT NULL"
  " AND call_id IN (SELECT id FROM vc_call WHERE tenant_id = ?1 AND"
  " contact_id IN (SELECT ?2 UNION ALL SELECT id FROM vc_contact"
  " WHERE tenant_id = ?1 AND merged_into = ?2)) LIMIT 100";
static const char SQL_BEFORE[] =
  "SELECT id, call_id, COALESCE(channel_id, ''), COALESCE(provider_id, ''),"
  " status FROM vc_recording WHERE tenant_id = ?1 AND url IS NOT NULL"
  " AND created_at < ?2 ORDER BY created_at LIMIT 100";
static const char SQL_DROP_URL[] =
  "UPDATE vc_recording SET url = NULL, updated_at = ?3"
  " WHERE tenant_id = ?1 AND id = ?2";

typedef struct dropped {
  expired r;
  int status;
} dropped;

/* One page of `sql` (?1 tenant, ?2 `arg`): each recording loses its URL;
 * an available one is deleted at the provider when its channel can,
 * else marked purged here. The number dropped, or < 0. */
static int drop_page(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                     const char *sql, const char *types, const void *arg,
                     int64_t now)
{
  dropped *rows = vc__calloc(PURGE_BATCH, sizeof(*rows));
  char payload[96];
  size_t n = 0;
  vc__stmt *s;
  int rc;

  if (rows == NULL)
    return vc_error_set_oom();
  rc = types[1] == 't'
         ? vc__db_query(&s, db, sql, types, tenant_id, (const char *)arg)
         : vc__db_query(&s, db, sql, types, tenant_id,
                        *(const int64_t *)arg);
  if (rc < 0)
    goto out;
  while (n < PURGE_BATCH && (rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    expired *r = &rows[n].r;
    snprintf(r->id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
    snprintf(r->call_id, VC_ID_SIZE, "%s", vc__stmt_text(s, 1));
    snprintf(r->channel, VC_ID_SIZE, "%s", vc__stmt_text(s, 2));
    snprintf(r->provider_id, sizeof(r->provider_id), "%s",
             vc__stmt_text(s, 3));
    rows[n++].status = (int)vc__stmt_int64(s, 4);
  }
  vc__stmt_done(s);
  if (rc < 0)
    goto out;
  rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    expired *r = &rows[i].r;
    int remote = rows[i].status == 2 && r->provider_id[0] != '\0' &&
                 (channel_caps(db, ctx, tenant_id, r->channel) &
                  VC_CAP_RECORDING_DELETE) != 0;
    snprintf(payload, sizeof(payload), "{\"call_id\":\"%s\"}", r->call_id);
    if (rows[i].status != 2)        /* still recording, or deleting */
      rc = vc__db_run(db, SQL_DROP_URL, "tti", tenant_id, r->id, now);
    else if (remote) {
      if ((rc = vc__db_run(db, SQL_MARK_DELETING, "tti", tenant_id, r->id,
                           now)) == 0 &&
          (rc = vc__db_run(db, SQL_DROP_URL, "tti", tenant_id, r->id,
                           now)) == 0)
        rc = vc__call_control_enqueue(db, ctx, tenant_id, r->call_id,
                                      VC_CALL_OP_DELETE_RECORDING,
                                      r->provider_id);
    } else if ((rc = vc__db_run(db, SQL_MARK_LOCAL, "tti", tenant_id, r->id,
                                now)) == 0)
      rc = vc__event_append(db, ctx, tenant_id, "recording.purged", r->id,
                            payload);
  }
  rc = rc < 0 ? rc : (int)n;
out:
  vc__free(rows);
  return rc;
}

int vc__recording_drop_contact(vc__db *db, vc_ctx *ctx,
                               const char *tenant_id,
                               const char *contact_id, int64_t *dropped_n)
{
  int64_t now = vc__now(ctx);
  int rc;

  /* Each page leaves its rows without a URL: the next finds others. */
  while ((rc = drop_page(db, ctx, tenant_id, SQL_OF_CONTACT, "tt",
                         contact_id, now)) > 0)
    *dropped_n += rc;
  return rc;
}

int vc__recording_drop_before(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                              int64_t before)
{
  return drop_page(db, ctx, tenant_id, SQL_BEFORE, "ti", &before,
                   vc__now(ctx));
}

/* Purge everything expired by `now`, then queue the job for the next
 * expiry. Returns the number handled, or < 0. */
/* `audited`: called by the API, whose audit row goes with the last
 * transaction (the purges before it commit in batches: the work is
 * unbounded). */
static int purge_tenant(vc_ctx *ctx, const char *tenant_id, int *handled,
                        int audited)
{
  char summary[48];
  int64_t now = vc__now(ctx), next = 0;
  vc__db *db;
  vc__stmt *s;
  int rc;

  *handled = 0;
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  do {
    if ((rc = purge_batch(db, ctx, tenant_id, now)) > 0)
      *handled += rc;
  } while (rc == PURGE_BATCH);
  if (rc >= 0 && (rc = vc__db_begin(db)) == 0) {
    if ((rc = vc__db_query(&s, db, SQL_NEXT_EXPIRY, "t", tenant_id)) == 0) {
      if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW && !vc__stmt_is_null(s, 0))
        next = vc__stmt_int64(s, 0);
      vc__stmt_done(s);
    }
    if (rc >= 0 && next > 0)
      rc = ensure_job(db, ctx, tenant_id, next);
    snprintf(summary, sizeof(summary), "{\"purged\":%d}", *handled);
    if (rc >= 0 && audited)
      rc = vc__audit(db, ctx, tenant_id, "recording.purge", tenant_id,
                     summary);
    if (rc >= 0)
      rc = vc__db_commit(db);
    if (rc < 0)
      vc__db_rollback(db);
  }
  vc__db_release(db);
  return rc < 0 ? rc : 0;
}

static int purge_job(vc_ctx *ctx, const vc__job *job, vc__job_outcome *out)
{
  int handled, rc;

  if ((rc = purge_tenant(ctx, job->tenant_id, &handled, 0)) < 0)
    return rc;
  if (handled > 0)
    VC_LOG(ctx, VC_LOG_INFO, "tenant %s: %d expired recordings purged",
           job->tenant_id, handled);
  out->result = VC__JOB_DONE;
  return 0;
}

int vc__recording_register(vc_ctx *ctx)
{
  return vc__job_register(ctx, VC__JOB_RECORDING_PURGE, purge_job);
}

int vc_recording_purge(int *purged_out, vc_tenant *t)
{
  int handled = 0, rc;

  if (purged_out != NULL)
    *purged_out = 0;
  VC_ASSERT_ARG(t);
  rc = purge_tenant(vc__tenant_ctx(t), vc_tenant_id(t), &handled, 1);
  if (purged_out != NULL)
    *purged_out = handled;
  if (handled > 0)
    vc_ctx_wakeup(vc__tenant_ctx(t));
  return rc;
}

/* ---- handles, lookup and list ------------------------------------------ */

struct vc_recording {
  char id[VC_ID_SIZE], call_id[VC_ID_SIZE], channel_id[VC_ID_SIZE];
  char provider_id[PROVIDER_ID_MAX + 1];
  char *url;
  int duration_s, consent, status, purge_kind;
  int64_t created_at, available_at, expires_at, purged_at;
};

#define REC_COLUMNS \
  "id, call_id, COALESCE(channel_id, ''), COALESCE(provider_id, '')," \
  " COALESCE(url, ''), duration_s, consent, status, purge_kind," \
  " created_at, available_at, expires_at, purged_at"

static const char SQL_REC_BY_ID[] =
  "SELECT " REC_COLUMNS " FROM vc_recording WHERE tenant_id = ?1"
  " AND id = ?2";
static const char SQL_REC_PAGE[] =
  "SELECT " REC_COLUMNS " FROM vc_recording WHERE tenant_id = ?1"
  " AND (?2 = '' OR id < ?2) AND (?3 = '' OR call_id = ?3)"
  " AND (?4 = 0 OR status = ?4) AND (?5 = 0 OR created_at >= ?5)"
  " AND (?6 = 0 OR created_at < ?6) ORDER BY id DESC LIMIT 50";

void vc_recording_free(vc_recording *r)
{
  if (r == NULL)
    return;
  vc__free(r->url);
  vc__free(r);
}

static int rec_from_stmt(vc_recording **out, vc__stmt *s)
{
  vc_recording *r = vc__calloc(1, sizeof(*r));

  if (r == NULL)
    return vc_error_set_oom();
  snprintf(r->id, sizeof(r->id), "%s", vc__stmt_text(s, 0));
  snprintf(r->call_id, sizeof(r->call_id), "%s", vc__stmt_text(s, 1));
  snprintf(r->channel_id, sizeof(r->channel_id), "%s", vc__stmt_text(s, 2));
  snprintf(r->provider_id, sizeof(r->provider_id), "%s",
           vc__stmt_text(s, 3));
  if ((r->url = vc__strdup(vc__stmt_text(s, 4))) == NULL) {
    vc__free(r);
    return vc_error_set_oom();
  }
  r->duration_s = (int)vc__stmt_int64(s, 5);
  r->consent = (int)vc__stmt_int64(s, 6);
  r->status = (int)vc__stmt_int64(s, 7);
  r->purge_kind = (int)vc__stmt_int64(s, 8);
  r->created_at = vc__stmt_int64(s, 9);
  r->available_at = vc__stmt_int64(s, 10);
  r->expires_at = vc__stmt_int64(s, 11);
  r->purged_at = vc__stmt_int64(s, 12);
  *out = r;
  return 0;
}

const char *vc_recording_id(const vc_recording *r) { return r ? r->id : NULL; }
const char *vc_recording_call_id(const vc_recording *r)
{
  return r ? r->call_id : NULL;
}
const char *vc_recording_channel_id(const vc_recording *r)
{
  return r ? r->channel_id : NULL;
}
const char *vc_recording_provider_id(const vc_recording *r)
{
  return r ? r->provider_id : NULL;
}
const char *vc_recording_url(const vc_recording *r)
{
  return r ? r->url : NULL;
}
int vc_recording_duration_s(const vc_recording *r)
{
  return r ? r->duration_s : 0;
}
int vc_recording_consent(const vc_recording *r) { return r ? r->consent : 0; }
int vc_recording_status_of(const vc_recording *r)
{
  return r ? r->status : 0;
}
int vc_recording_purge_kind(const vc_recording *r)
{
  return r ? r->purge_kind : 0;
}
int64_t vc_recording_created_at(const vc_recording *r)
{
  return r ? r->created_at : 0;
}
int64_t vc_recording_available_at(const vc_recording *r)
{
  return r ? r->available_at : 0;
}
int64_t vc_recording_expires_at(const vc_recording *r)
{
  return r ? r->expires_at : 0;
}
int64_t vc_recording_purged_at(const vc_recording *r)
{
  return r ? r->purged_at : 0;
}

int vc_recording_lookup(vc_recording **out, vc_tenant *t, const char *id)
{
  vc_ctx *ctx;
  vc__db *db;
  vc__stmt *s;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if (!vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "recording id is not a valid id");
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_REC_BY_ID, "tt", vc_tenant_id(t),
                         id)) == 0) {
    rc = vc__stmt_step(s);
    if (rc == VC_STORAGE_ROW)
      rc = rec_from_stmt(out, s);
    else if (rc == VC_STORAGE_DONE)
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no recording '%s'", id);
    vc__stmt_done(s);
  }
  vc__db_release(db);
  return rc;
}

typedef struct rec_iter {
  vc__page_iter page;
  char tenant_id[VC_ID_SIZE];
  char call_id[VC_ID_SIZE];
  int status;
  int64_t since, until;
} rec_iter;

static int rec_page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const rec_iter *it = (const rec_iter *)p;

  return vc__db_query(out, db, SQL_REC_PAGE, "tttiii", it->tenant_id,
                      p->base.cursor, it->call_id, (int64_t)it->status,
                      it->since, it->until);
}

static int rec_page_row(void **out, vc__stmt *s)
{
  return rec_from_stmt((vc_recording **)out, s);
}

static void rec_page_row_free(void *row) { vc_recording_free(row); }

static const char *rec_page_row_key(const void *row)
{
  return ((const vc_recording *)row)->id;
}

static const vc__page_ops REC_PAGES = {
  { "recording", vc__page_iter_free }, rec_page_query, rec_page_row,
  rec_page_row_free, rec_page_row_key
};

int vc_recording_list(vc_iter **out, vc_tenant *t,
                      const vc_recording_filter *f)
{
  rec_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_RECORDING_FILTER_VERSION, "vc_recording_filter");
  if (f != NULL && f->after != NULL && f->after[0] != '\0' &&
      !vc__ulid_valid(f->after))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not a recording list cursor");
  if (f != NULL && f->call_id != NULL && !vc__ulid_valid(f->call_id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "call filter is not a call id");
  if (f != NULL && (f->status < 0 || f->status > VC_RECORDING_STATUS_FAILED))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown recording status %d", f->status);
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(&it->page, &REC_PAGES, vc__tenant_ctx(t)->store,
                     f != NULL ? f->after : NULL);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  if (f != NULL) {
    snprintf(it->call_id, sizeof(it->call_id), "%s",
             f->call_id ? f->call_id : "");
    it->status = f->status;
    it->since = f->since;
    it->until = f->until;
  }
  *out = &it->page.base;
  return 0;
}

int vc_recording_next(vc_recording **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &REC_PAGES)) < 0)
    return rc;
  *out = row;
  return 0;
}

int vc_recording_filter_init(vc_recording_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_RECORDING_FILTER_VERSION,
                 vc_recording_filter, VC_RECORDING_FILTER_INIT);
}

/* ---- the compliance report ------------------------------------------- */

static const char SQL_REPORT[] =
  "SELECT r.id, r.call_id, COALESCE(c.customer_number, ''), r.consent,"
  " COALESCE(r.provider_id, ''), r.duration_s, r.status, r.created_at,"
  " r.available_at, r.expires_at, r.purged_at, r.purge_kind,"
  " COALESCE(r.channel_id, '') FROM vc_recording r LEFT JOIN vc_call c"
  " ON c.tenant_id = r.tenant_id AND c.id = r.call_id"
  " WHERE r.tenant_id = ?1 AND ((r.created_at >= ?2 AND (?3 = 0 OR"
  " r.created_at < ?3)) OR (r.purged_at > 0 AND r.purged_at >= ?2 AND"
  " (?3 = 0 OR r.purged_at < ?3))) ORDER BY r.created_at, r.id";

static void iso_time(char out[32], int64_t ms)
{
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;

  out[0] = '\0';
  if (ms <= 0 || gmtime_r(&secs, &tm) == NULL)
    return;
  snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* A CSV field, quoted, with a leading quote mark when a spreadsheet
 * would take provider text for a formula. */
static int csv_field(vc_buf *b, const char *s, int guard)
{
  int rc = vc__buf_puts(b, "\"");

  if (rc == 0 && guard && strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0')
    rc = vc__buf_puts(b, "'");
  for (; rc == 0 && *s != '\0'; s++)
    rc = *s == '"' ? vc__buf_puts(b, "\"\"") : vc__buf_put(b, s, 1);
  return rc == 0 ? vc__buf_puts(b, "\"") : rc;
}

int vc_recording_report(vc_buf *out, vc_tenant *t, int64_t since,
                        int64_t until, int format)
{
  int64_t recorded = 0, purged = 0, consented = 0, seconds = 0;
  cJSON *doc = NULL, *rows = NULL;
  char *text = NULL;
  vc_ctx *ctx;
  vc__db *db;
  vc__stmt *s;
  int rc;

  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(t);
  if (format != VC_RECORDING_REPORT_JSON && format != VC_RECORDING_REPORT_CSV)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "report format must be JSON or CSV");
  if (since < 0 || until < 0 || (until != 0 && until <= since))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "the period must have since < until");
  ctx = vc__tenant_ctx(t);
  if (format == VC_RECORDING_REPORT_JSON &&
      ((doc = cJSON_CreateObject()) == NULL ||
       cJSON_AddStringToObject(doc, "tenant_id", vc_tenant_id(t)) == NULL ||
       cJSON_AddNumberToObject(doc, "since", (double)since) == NULL ||
       cJSON_AddNumberToObject(doc, "until", (double)until) == NULL ||
       cJSON_AddNumberToObject(doc, "generated_at",
                               (double)vc__now(ctx)) == NULL ||
       (rows = cJSON_AddArrayToObject(doc, "recordings")) == NULL)) {
    cJSON_Delete(doc);
    return vc_error_set_oom();
  }
  if (format == VC_RECORDING_REPORT_CSV &&
      (rc = vc__buf_puts(out, "recording_id,call_id,customer_number,"
                         "consent,provider_recording_id,channel_id,"
                         "duration_s,status,recorded_at,available_at,"
                         "expires_at,purged_at,purge\r\n")) < 0)
    return rc;
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0) {
    cJSON_Delete(doc);
    return rc;
  }
  if ((rc = vc__db_query(&s, db, SQL_REPORT, "tii", vc_tenant_id(t), since,
                         until)) < 0)
    goto out;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    int consent = (int)vc__stmt_int64(s, 3);
    int duration = (int)vc__stmt_int64(s, 5);
    int status = (int)vc__stmt_int64(s, 6);
    int64_t created = vc__stmt_int64(s, 7), purged_at = vc__stmt_int64(s, 10);
    int in_period = created >= since && (until == 0 || created < until);

    recorded += in_period;
    consented += in_period && consent;
    seconds += in_period ? duration : 0;
    purged += purged_at > 0 && purged_at >= since &&
              (until == 0 || purged_at < until);
    if (format == VC_RECORDING_REPORT_JSON) {
      cJSON *r = cJSON_CreateObject();
      if (r == NULL) {
        rc = vc_error_set_oom();
        break;
      }
      cJSON_AddItemToArray(rows, r);
      cJSON_AddStringToObject(r, "recording_id", vc__stmt_text(s, 0));
      cJSON_AddStringToObject(r, "call_id", vc__stmt_text(s, 1));
      cJSON_AddStringToObject(r, "customer_number", vc__stmt_text(s, 2));
      cJSON_AddBoolToObject(r, "consent", consent);
      cJSON_AddStringToObject(r, "provider_recording_id",
                              vc__stmt_text(s, 4));
      cJSON_AddStringToObject(r, "channel_id", vc__stmt_text(s, 12));
      cJSON_AddNumberToObject(r, "duration_s", duration);
      cJSON_AddStringToObject(r, "status", vc_recording_status_name(status));
      cJSON_AddNumberToObject(r, "recorded_at", (double)created);
      cJSON_AddNumberToObject(r, "available_at",
                              (double)vc__stmt_int64(s, 8));
      cJSON_AddNumberToObject(r, "expires_at", (double)vc__stmt_int64(s, 9));
      cJSON_AddNumberToObject(r, "purged_at", (double)purged_at);
      cJSON_AddStringToObject(r, "purge",
                              purge_name((int)vc__stmt_int64(s, 11)));
    } else {
      char t1[32], t2[32], t3[32], t4[32];
      iso_time(t1, created);
      iso_time(t2, vc__stmt_int64(s, 8));
      iso_time(t3, vc__stmt_int64(s, 9));
      iso_time(t4, purged_at);
      if ((rc = csv_field(out, vc__stmt_text(s, 0), 0)) < 0 ||
          (rc = vc__buf_puts(out, ",")) < 0 ||
          (rc = csv_field(out, vc__stmt_text(s, 1), 0)) < 0 ||
          (rc = vc__buf_puts(out, ",")) < 0 ||
          (rc = csv_field(out, vc__stmt_text(s, 2), 0)) < 0 ||
          (rc = vc__buf_printf(out, ",%d,", consent)) < 0 ||
          (rc = csv_field(out, vc__stmt_text(s, 4), 1)) < 0 ||
          (rc = vc__buf_puts(out, ",")) < 0 ||
          (rc = csv_field(out, vc__stmt_text(s, 12), 0)) < 0 ||
          (rc = vc__buf_printf(out, ",%d,%s,%s,%s,%s,%s,%s\r\n", duration,
                               vc_recording_status_name(status), t1, t2, t3,
                               t4, purge_name((int)vc__stmt_int64(s, 11))))
            < 0)
        break;
    }
  }
  vc__stmt_done(s);
  if (rc < 0)
    goto out;
  rc = 0;
  if (format == VC_RECORDING_REPORT_JSON) {
    cJSON *tot = cJSON_AddObjectToObject(doc, "totals");
    if (tot == NULL ||
        cJSON_AddNumberToObject(tot, "recorded", (double)recorded) == NULL ||
        cJSON_AddNumberToObject(tot, "with_consent", (double)consented) ==
          NULL ||
        cJSON_AddNumberToObject(tot, "duration_s", (double)seconds) == NULL ||
        cJSON_AddNumberToObject(tot, "purged", (double)purged) == NULL ||
        (text = cJSON_PrintUnformatted(doc)) == NULL)
      rc = vc_error_set_oom();
    else
      rc = vc__buf_puts(out, text);
  }
out:
  cJSON_free(text);
  cJSON_Delete(doc);
  vc__db_release(db);
  return rc;
}
