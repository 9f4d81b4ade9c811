/*
 * Agents: settings, states moved by the API and by calls, the activity
 * log, per-agent figures, and the call hooks of hooks.h.
 *
 * One live call per agent is held in the agent's row (call_id) and
 * claimed with a conditional UPDATE inside the caller's transaction, so
 * two calls started at once cannot both take the agent.
 *
 * A wrap-up ends at wrap_until by the context's clock. Reads present an
 * expired wrap-up as `available` from wrap_until on (computed in SQL);
 * every write to the agent and the agent.wrap_up job first "settle" it:
 * write the move with wrap_until as its time, so the log and the figures
 * are exact whenever it is written, across restarts.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/job.h"
#include "core/json.h"
#include "core/snapshot.h"
#include "core/tenant.h"
#include "core/text.h"
#include "msg/address.h"
#include "call/agent.h"
#include "call/hooks.h"

#include <cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define JSON_DEPTH 16

/* ---- names ------------------------------------------------------------ */

const char *vc_agent_state_name(int state)
{
  static const char *const names[] = {
    "unknown", "offline", "available", "ringing", "on_call", "wrap_up",
    "break"
  };

  return state >= VC_AGENT_OFFLINE && state <= VC_AGENT_BREAK
           ? names[state] : names[0];
}

const char *vc_agent_cause_name(int cause)
{
  switch (cause) {
  case VC_AGENT_CAUSE_API: return "api";
  case VC_AGENT_CAUSE_CALL: return "call";
  case VC_AGENT_CAUSE_WRAP_UP: return "wrap_up";
  default: return "unknown";
  }
}

/* ---- rows and handles ------------------------------------------------- */

typedef struct agent_row {
  char tenant_id[VC_ID_SIZE];
  char id[VC_ID_SIZE];
  char call_id[VC_ID_SIZE];
  char *name, *display_name, *number, *metadata, *reason;
  int wrap_up_s, state;
  int64_t state_since, wrap_until, created_at, updated_at;
  struct agent_row *retired; /* older snapshots of the same handle */
} agent_row;

struct vc_agent {
  vc_ctx *ctx;
  pthread_mutex_t lock;
  agent_row *row;
};

/* An expired wrap-up reads as available from wrap_until on; ?3 is now. */
#define EXPIRED "(a.state = 5 AND a.wrap_until <= ?3)"
#define COLUMNS \
  "a.tenant_id, a.id, a.name, a.display_name, a.number, a.wrap_up_s," \
  " COALESCE(a.metadata, '')," \
  " CASE WHEN " EXPIRED " THEN 2 ELSE a.state END," \
  " CASE WHEN " EXPIRED " THEN '' ELSE COALESCE(a.reason, '') END," \
  " CASE WHEN " EXPIRED " THEN a.wrap_until ELSE a.state_since END," \
  " COALESCE(a.call_id, '')," \
  " CASE WHEN a.state = 5 AND NOT " EXPIRED " THEN a.wrap_until ELSE 0" \
  " END, a.created_at, a.updated_at"
#define LIVE " JOIN vc_tenant t ON t.id = a.tenant_id AND t.deleted_at IS NULL"

static const char SQL_TENANT_LIVE[] =
  "SELECT 1 FROM vc_tenant WHERE id = ?1 AND deleted_at IS NULL";
static const char SQL_BY_KEY[] =
  "SELECT " COLUMNS " FROM vc_agent a" LIVE
  " WHERE a.tenant_id = ?1 AND (a.id = ?2 OR a.name = ?2)"
  " ORDER BY a.id = ?2 DESC LIMIT 1";
static const char SQL_PAGE[] =
  "SELECT " COLUMNS " FROM vc_agent a" LIVE
  " WHERE a.tenant_id = ?1 AND a.id > ?2"
  " AND (?4 = 0 OR (CASE WHEN " EXPIRED " THEN 2 ELSE a.state END) = ?4)"
  " ORDER BY a.id LIMIT 50";
static const char SQL_INSERT[] =
  "INSERT INTO vc_agent (tenant_id, id, name, display_name, number,"
  " wrap_up_s, metadata, state, state_since, created_at, updated_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?8, ?8)";
static const char SQL_UPDATE[] =
  "UPDATE vc_agent SET name = ?3, display_name = ?4, number = ?5,"
  " wrap_up_s = ?6, metadata = ?7, updated_at = ?8"
  " WHERE tenant_id = ?1 AND id = ?2";

static void row_free(agent_row *r)
{
  while (r != NULL) {
    agent_row *next = r->retired;
    vc__free(r->name);
    vc__free(r->display_name);
    vc__free(r->number);
    vc__free(r->metadata);
    vc__free(r->reason);
    vc__free(r);
    r = next;
  }
}

static int row_from_stmt(agent_row **out, vc__stmt *s)
{
  agent_row *r = vc__calloc(1, sizeof(*r));

  if (r == NULL)
    return vc_error_set_oom();
  snprintf(r->tenant_id, sizeof(r->tenant_id), "%s", vc__stmt_text(s, 0));
  snprintf(r->id, sizeof(r->id), "%s", vc__stmt_text(s, 1));
  r->name = vc__strdup(vc__stmt_text(s, 2));
  r->display_name = vc__strdup(vc__stmt_text(s, 3));
  r->number = vc__strdup(vc__stmt_text(s, 4));
  r->wrap_up_s = (int)vc__stmt_int64(s, 5);
  r->metadata = vc__strdup(vc__stmt_text(s, 6));
  r->state = (int)vc__stmt_int64(s, 7);
  r->reason = vc__strdup(vc__stmt_text(s, 8));
  r->state_since = vc__stmt_int64(s, 9);
  snprintf(r->call_id, sizeof(r->call_id), "%s", vc__stmt_text(s, 10));
  r->wrap_until = vc__stmt_int64(s, 11);
  r->created_at = vc__stmt_int64(s, 12);
  r->updated_at = vc__stmt_int64(s, 13);
  if (!r->name || !r->display_name || !r->number || !r->metadata ||
      !r->reason) {
    row_free(r);
    return vc_error_set_oom();
  }
  *out = r;
  return 0;
}

static int handle_new(vc_agent **out, vc_ctx *ctx, agent_row *row)
{
  vc_agent *a = vc__calloc(1, sizeof(*a));

  if (a == NULL) {
    row_free(row);
    return vc_error_set_oom();
  }
  a->ctx = ctx;
  a->row = row;
  pthread_mutex_init(&a->lock, NULL);
  *out = a;
  return 0;
}

static int not_found(const char *key)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND, "no agent '%.64s'",
                       key);
}

static int load_row(agent_row **out, vc__db *db, vc_ctx *ctx,
                    const char *tenant_id, const char *key)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_BY_KEY, "tti", tenant_id, key,
                         vc__now(ctx))) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    rc = row_from_stmt(out, s);
  else if (rc == VC_STORAGE_DONE)
    rc = not_found(key);
  vc__stmt_done(s);
  return rc;
}

/* ---- validation ------------------------------------------------------- */

static int check_name(const char *name)
{
  return vc__check_token("agent name", name, VC_AGENT_NAME_MAX, "a-z0-9",
                         "a-z0-9_.-");
}

static int check_key(const char *key)
{
  return vc__ulid_valid(key) ? 0 : check_name(key);
}

/*
 * A sip: or sips: URI: [user@]host[:port][;params][?headers], printable
 * ASCII from RFC 3261's unreserved, escaped and reserved characters, one
 * '@' at most, a host that starts with a letter, digit or '['.
 */
static int check_sip(const char *s)
{
  static const char extra[] = "-_.!~*'()%&=+$,;?/:@[]";
  const char *p = s + (strncmp(s, "sips:", 5) == 0 ? 5 : 4), *host = p;
  int ats = 0;

  for (const char *q = p; *q != '\0'; q++) {
    if (!vc__is_alnum((unsigned char)*q) && strchr(extra, *q) == NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "agent number: a SIP URI may not contain byte "
                           "0x%02x", (unsigned char)*q);
    if (*q == '@') {
      ats++;
      host = q + 1;
    }
  }
  if (ats > 1 || host == p + 1 ||
      !(vc__is_alnum((unsigned char)*host) || *host == '['))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "agent number: not a SIP URI (sip:user@host)");
  return 0;
}

/* An E.164 number (normalised into `out`) or a sip: URI (copied). */
static int check_number(char out[VC_CALL_ADDRESS_MAX + 1], const char *in)
{
  size_t n;
  int rc;

  if (in == NULL || in[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "agent number is required");
  n = strnlen(in, VC_CALL_ADDRESS_MAX + 1);
  if (n > VC_CALL_ADDRESS_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "agent number is longer than %d bytes",
                         VC_CALL_ADDRESS_MAX);
  if (strncmp(in, "sip:", 4) == 0 || strncmp(in, "sips:", 5) == 0) {
    if ((rc = check_sip(in)) < 0)
      return rc;
    memcpy(out, in, n + 1);
    return 0;
  }
  {
    char phone[VC__ADDR_PHONE_MAX];

    if ((rc = vc__addr_phone(phone, in, 0)) < 0)
      return vc__error_wrap("agent number (E.164 or sip: URI)");
    snprintf(out, VC_CALL_ADDRESS_MAX + 1, "%s", phone);
  }
  return 0;
}

static int check_spec(const vc_agent_spec *s, int creating,
                      char number[VC_CALL_ADDRESS_MAX + 1])
{
  cJSON *j = NULL;
  int rc;

  if ((creating || s->name != NULL) && (rc = check_name(s->name)) < 0)
    return rc;
  if ((rc = vc__check_text("agent display_name", s->display_name,
                           VC_AGENT_DISPLAY_NAME_MAX, 0)) < 0)
    return rc;
  for (const char *p = s->display_name; p != NULL && *p != '\0'; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "agent display_name contains a control "
                           "character");
  number[0] = '\0';
  if ((creating || s->number != NULL) &&
      (rc = check_number(number, s->number)) < 0)
    return rc;
  if (s->wrap_up_s > VC_AGENT_WRAP_UP_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "wrap_up_s must be 0..%d", VC_AGENT_WRAP_UP_MAX);
  if (s->metadata_json != NULL) {
    rc = vc__json_parse(&j, "agent metadata_json", s->metadata_json,
                        VC_AGENT_METADATA_MAX, JSON_DEPTH, 1);
    cJSON_Delete(j);
    if (rc < 0)
      return rc;
  }
  return 0;
}

static int check_reason(const char *reason)
{
  int rc = vc__check_text("agent state reason", reason,
                          VC_AGENT_REASON_MAX, 0);

  for (const char *p = reason; rc == 0 && p != NULL && *p != '\0'; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "agent state reason contains a control character");
  return rc;
}

static int tenant_live(vc__db *db, const char *tenant_id)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_TENANT_LIVE, "t", tenant_id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "tenant %s was deleted", tenant_id);
  return rc < 0 ? rc : 0;
}

/* ---- the stored state and its moves ----------------------------------- */

/* What a move needs of the row, as stored (not as read). */
typedef struct agent_raw {
  char id[VC_ID_SIZE];
  char name[VC_AGENT_NAME_MAX + 1];
  char reason[VC_AGENT_REASON_MAX + 1];
  char call_id[VC_ID_SIZE];
  char prior_reason[VC_AGENT_REASON_MAX + 1];
  char wrap_call_id[VC_ID_SIZE];
  int state, wrap_up_s, call_answered, prior_state;
  int64_t state_since, call_bridged_at, wrap_until;
} agent_raw;

static const char SQL_RAW[] =
  "SELECT id, name, COALESCE(reason, ''), state, state_since,"
  " COALESCE(call_id, ''), call_answered, call_bridged_at, prior_state,"
  " COALESCE(prior_reason, ''), COALESCE(wrap_call_id, ''), wrap_until,"
  " wrap_up_s FROM vc_agent WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_ACTIVITY_ADD[] =
  "INSERT INTO vc_agent_activity (tenant_id, agent_id, seq, from_state,"
  " to_state, reason, cause, call_id, at)"
  " SELECT ?1, ?2, COALESCE(MAX(seq), 0) + 1, ?3, ?4, ?5, ?6, ?7, ?8"
  " FROM vc_agent_activity WHERE tenant_id = ?1 AND agent_id = ?2";
static const char SQL_STATE_SET[] =
  "UPDATE vc_agent SET state = ?3, reason = ?4, state_since = ?5,"
  " updated_at = ?6 WHERE tenant_id = ?1 AND id = ?2";

static int load_raw(agent_raw *r, vc__db *db, const char *tenant_id,
                    const char *agent_id)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_RAW, "tt", tenant_id, agent_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", vc__stmt_text(s, 0));
    snprintf(r->name, sizeof(r->name), "%s", vc__stmt_text(s, 1));
    snprintf(r->reason, sizeof(r->reason), "%s", vc__stmt_text(s, 2));
    r->state = (int)vc__stmt_int64(s, 3);
    r->state_since = vc__stmt_int64(s, 4);
    snprintf(r->call_id, sizeof(r->call_id), "%s", vc__stmt_text(s, 5));
    r->call_answered = (int)vc__stmt_int64(s, 6);
    r->call_bridged_at = vc__stmt_int64(s, 7);
    r->prior_state = (int)vc__stmt_int64(s, 8);
    snprintf(r->prior_reason, sizeof(r->prior_reason), "%s",
             vc__stmt_text(s, 9));
    snprintf(r->wrap_call_id, sizeof(r->wrap_call_id), "%s",
             vc__stmt_text(s, 10));
    r->wrap_until = vc__stmt_int64(s, 11);
    r->wrap_up_s = (int)vc__stmt_int64(s, 12);
    rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = not_found(agent_id);
  }
  vc__stmt_done(s);
  return rc;
}

/* {"name":..,"from":..,"to":..,"reason":..,"cause":..,"call_id":..,
 *  "at":..}: the reason is free text, so cJSON writes it. */
static int state_event(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const agent_raw *r, int to, const char *reason,
                       int cause, const char *call_id, int64_t at)
{
  cJSON *o = cJSON_CreateObject();
  char *text = NULL;
  int rc;

  if (o == NULL ||
      !cJSON_AddStringToObject(o, "name", r->name) ||
      !cJSON_AddStringToObject(o, "from", vc_agent_state_name(r->state)) ||
      !cJSON_AddStringToObject(o, "to", vc_agent_state_name(to)) ||
      !(reason != NULL && reason[0] != '\0'
          ? cJSON_AddStringToObject(o, "reason", reason)
          : cJSON_AddNullToObject(o, "reason")) ||
      !cJSON_AddStringToObject(o, "cause", vc_agent_cause_name(cause)) ||
      !(call_id != NULL && call_id[0] != '\0'
          ? cJSON_AddStringToObject(o, "call_id", call_id)
          : cJSON_AddNullToObject(o, "call_id")) ||
      !cJSON_AddNumberToObject(o, "at", (double)at) ||
      (text = cJSON_PrintUnformatted(o)) == NULL) {
    cJSON_Delete(o);
    return vc_error_set_oom();
  }
  rc = vc__event_append(db, ctx, tenant_id, "agent.state", r->id, text);
  cJSON_free(text);
  cJSON_Delete(o);
  return rc;
}

/*
 * Move the agent from r->state to `to` at `at` (never before the current
 * state began, so the log's intervals stay in order): log it, store it,
 * append agent.state. Updates *r.
 */
static int move(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                agent_raw *r, int to, const char *reason, int cause,
                const char *call_id, int64_t at)
{
  const char *why = reason != NULL && reason[0] != '\0' ? reason : NULL;
  const char *call = call_id != NULL && call_id[0] != '\0' ? call_id : NULL;
  int rc;

  if (at < r->state_since)
    at = r->state_since;
  if ((rc = vc__db_run(db, SQL_ACTIVITY_ADD, "ttiititi", tenant_id, r->id,
                       (int64_t)r->state, (int64_t)to, why, (int64_t)cause,
                       call, at)) < 0 ||
      (rc = vc__db_run(db, SQL_STATE_SET, "ttitii", tenant_id, r->id,
                       (int64_t)to, why, at, vc__now(ctx))) < 0 ||
      (rc = state_event(db, ctx, tenant_id, r, to, why, cause, call, at)) < 0)
    return rc;
  r->state = to;
  snprintf(r->reason, sizeof(r->reason), "%s", why ? why : "");
  r->state_since = at;
  return 0;
}

static const char SQL_WRAP_CLEAR[] =
  "UPDATE vc_agent SET wrap_call_id = NULL, wrap_until = 0"
  " WHERE tenant_id = ?1 AND id = ?2";

/* Write an expired wrap-up as over (at wrap_until). */
static int settle(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                  agent_raw *r)
{
  int rc;

  if (r->state != VC_AGENT_WRAP_UP || r->wrap_until > vc__now(ctx))
    return 0;
  if ((rc = move(db, ctx, tenant_id, r, VC_AGENT_AVAILABLE, NULL,
                 VC_AGENT_CAUSE_WRAP_UP, r->wrap_call_id,
                 r->wrap_until)) < 0 ||
      (rc = vc__db_run(db, SQL_WRAP_CLEAR, "tt", tenant_id, r->id)) < 0)
    return rc;
  r->wrap_call_id[0] = '\0';
  r->wrap_until = 0;
  return 0;
}

/* Load the stored row and settle it. */
static int load_settled(agent_raw *r, vc__db *db, vc_ctx *ctx,
                        const char *tenant_id, const char *agent_id)
{
  int rc = load_raw(r, db, tenant_id, agent_id);

  return rc < 0 ? rc : settle(db, ctx, tenant_id, r);
}

/* ---- create, look up, update ------------------------------------------ */

/* {"name":...}: names are tokens, nothing to escape. */
static void name_payload(char *buf, size_t size, const char *name)
{
  snprintf(buf, size, "{\"name\":\"%s\"}", name);
}

int vc_agent_new(vc_agent **out, vc_tenant *t, const vc_agent_spec *spec)
{
  char id[VC_ID_SIZE], number[VC_CALL_ADDRESS_MAX + 1], payload[128];
  const char *tenant_id;
  agent_row *row = NULL;
  agent_raw raw;
  int64_t now;
  vc__db *db = NULL;
  vc_ctx *ctx;
  int rc;

  if (out != NULL)
    *out = NULL;
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_AGENT_SPEC_VERSION, "vc_agent_spec");
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  if ((rc = check_spec(spec, 1, number)) < 0 ||
      (rc = vc__new_id(ctx, id)) < 0)
    return rc;
  now = vc__now(ctx);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = tenant_live(db, tenant_id)) < 0)
    goto fail;
  rc = vc__db_run(db, SQL_INSERT, "ttttt" "it" "i", tenant_id, id,
                  spec->name, spec->display_name ? spec->display_name : "",
                  number,
                  (int64_t)(spec->wrap_up_s < 0 ? VC_AGENT_WRAP_UP_DEFAULT
                                                : spec->wrap_up_s),
                  spec->metadata_json, now);
  if (rc == VC_EEXISTS)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EEXISTS,
                       "agent name '%s' is taken", spec->name);
  if (rc < 0 || (rc = load_raw(&raw, db, tenant_id, id)) < 0)
    goto fail;
  /* The log starts with the first state, so every moment after creation
   * belongs to one state. */
  raw.state = 0;
  name_payload(payload, sizeof(payload), spec->name);
  if ((rc = vc__event_append(db, ctx, tenant_id, "agent.created", id,
                             payload)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "agent.create", id, payload)) < 0 ||
      (rc = move(db, ctx, tenant_id, &raw, VC_AGENT_OFFLINE, NULL,
                 VC_AGENT_CAUSE_API, NULL, now)) < 0 ||
      (rc = load_row(&row, db, ctx, tenant_id, id)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  vc_ctx_wakeup(ctx);
  goto release;
fail:
  vc__db_rollback(db);
  row_free(row);
  row = NULL;
release:
  vc__db_release(db);
  if (rc == 0 && out != NULL)
    return handle_new(out, ctx, row);
  row_free(row);
  return rc;
}

int vc_agent_lookup(vc_agent **out, vc_tenant *t, const char *key)
{
  agent_row *row = NULL;
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if ((rc = check_key(key)) < 0)
    return rc == VC_ETOOBIG ? vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                                            "agent key is too long")
                            : rc;
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = load_row(&row, db, ctx, vc_tenant_id(t), key);
  vc__db_release(db);
  return rc < 0 ? rc : handle_new(out, ctx, row);
}

/* Swap in a fresh snapshot; the old one stays for borrowed strings. */
static void handle_swap(vc_agent *a, agent_row *row)
{
  row->retired = a->row;
  a->row = row;
}

int vc_agent_update(vc_agent *a, const vc_agent_spec *spec)
{
  char number[VC_CALL_ADDRESS_MAX + 1], payload[128], fields[128];
  agent_row *cur, *row = NULL;
  const char *name, *display, *metadata;
  vc__db *db = NULL;
  int wrap, rc;

  VC_ASSERT_ARG(a);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_AGENT_SPEC_VERSION, "vc_agent_spec");
  if ((rc = check_spec(spec, 0, number)) < 0)
    return rc;
  pthread_mutex_lock(&a->lock);
  cur = a->row;
  name = spec->name ? spec->name : cur->name;
  display = spec->display_name ? spec->display_name : cur->display_name;
  metadata = spec->metadata_json ? spec->metadata_json
             : cur->metadata[0] ? cur->metadata : NULL;
  wrap = spec->wrap_up_s < 0 ? cur->wrap_up_s : spec->wrap_up_s;
  if ((rc = vc__db_acquire(&db, a->ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = tenant_live(db, cur->tenant_id)) < 0)
    goto fail;
  rc = vc__db_run(db, SQL_UPDATE, "ttttt" "iti", cur->tenant_id, cur->id,
                  name, display, spec->number ? number : cur->number,
                  (int64_t)wrap, metadata, vc__now(a->ctx));
  if (rc == VC_EEXISTS)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EEXISTS,
                       "agent name '%s' is taken", name);
  if (rc == 0 && vc__db_changes(db) == 0)
    rc = not_found(cur->id);
  if (rc < 0)
    goto fail;
  name_payload(payload, sizeof(payload), name);
  {
    static const char *const names[] = { "name", "display_name", "number",
                                         "wrap_up_s", "metadata" };
    const int set[] = { spec->name != NULL, spec->display_name != NULL,
                        spec->number != NULL, spec->wrap_up_s >= 0,
                        spec->metadata_json != NULL };
    vc__audit_fields(fields, sizeof(fields), names, set, 5);
  }
  if ((rc = vc__event_append(db, a->ctx, cur->tenant_id, "agent.updated",
                             cur->id, payload)) < 0 ||
      (rc = vc__audit(db, a->ctx, cur->tenant_id, "agent.update", cur->id,
                      fields)) < 0 ||
      (rc = load_row(&row, db, a->ctx, cur->tenant_id, cur->id)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  handle_swap(a, row);
  vc_ctx_wakeup(a->ctx);
  goto release;
fail:
  vc__db_rollback(db);
  row_free(row);
release:
  vc__db_release(db);
unlock:
  pthread_mutex_unlock(&a->lock);
  return rc;
}

int vc_agent_refresh(vc_agent *a)
{
  agent_row *row = NULL;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(a);
  pthread_mutex_lock(&a->lock);
  if ((rc = vc__db_acquire(&db, a->ctx->store)) == 0) {
    rc = load_row(&row, db, a->ctx, a->row->tenant_id, a->row->id);
    vc__db_release(db);
  }
  if (rc == 0)
    handle_swap(a, row);
  pthread_mutex_unlock(&a->lock);
  return rc;
}

/* ---- vc_agent_delete ---------------------------------------------------- */

static const char SQL_DELETE[] =
  "DELETE FROM vc_agent WHERE tenant_id = ?1 AND id = ?2 AND state = ?3";
static const char SQL_EXISTS[] =
  "SELECT state FROM vc_agent WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_MEMBERSHIPS_DELETE[] =
  "DELETE FROM vc_queue_member WHERE tenant_id = ?1 AND agent_id = ?2"
  " RETURNING queue_id";
static const char SQL_CONVERSATIONS_UNASSIGN[] =
  "UPDATE vc_conversation SET assignee_id = NULL, updated_at = ?3"
  " WHERE tenant_id = ?1 AND assignee_id = ?2";
static const char SQL_HISTORY_DELETE[] =
  "DELETE FROM vc_agent_activity WHERE tenant_id = ?1 AND agent_id = ?2";
static const char SQL_CALLS_DELETE[] =
  "DELETE FROM vc_agent_call WHERE tenant_id = ?1 AND agent_id = ?2";

/* Why an offline agent's row was not deleted: gone, or not offline. */
static int delete_refused(vc__db *db, const agent_row *cur)
{
  vc__stmt *s;
  int rc, state;

  if ((rc = vc__db_query(&s, db, SQL_EXISTS, "tt", cur->tenant_id,
                         cur->id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  state = rc == VC_STORAGE_ROW ? (int)vc__stmt_int64(s, 0) : 0;
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if (rc == VC_STORAGE_DONE)
    return not_found(cur->id);
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                       "agent '%s' is %s: only an offline agent can be "
                       "deleted", cur->name, vc_agent_state_name(state));
}

/* Take the agent out of every queue, one queue.member_removed each; the
 * number of queues in *n. */
static int leave_queues(vc__db *db, vc_ctx *ctx, const agent_row *cur,
                        int *n)
{
  char (*queues)[VC_ID_SIZE] = NULL, payload[96];
  size_t count = 0, cap = 0;
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_MEMBERSHIPS_DELETE, "tt",
                         cur->tenant_id, cur->id)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    if (count == cap) {
      size_t grown = cap ? cap * 2 : 8;
      void *p = vc__realloc(queues, grown * sizeof(*queues));
      if (p == NULL) {
        rc = vc_error_set_oom();
        break;
      }
      queues = p;
      cap = grown;
    }
    snprintf(queues[count++], VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
  }
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    rc = 0;
  snprintf(payload, sizeof(payload), "{\"agent_id\":\"%s\"}", cur->id);
  for (size_t i = 0; rc == 0 && i < count; i++)
    rc = vc__event_append(db, ctx, cur->tenant_id, "queue.member_removed",
                          queues[i], payload);
  vc__free(queues);
  *n = (int)count;
  return rc;
}

int vc_agent_delete(vc_agent *a)
{
  char payload[128], summary[64];
  const agent_row *cur;
  vc__db *db;
  int queues = 0, conversations, rc;

  VC_ASSERT_ARG(a);
  pthread_mutex_lock(&a->lock);
  cur = a->row;
  if ((rc = vc__db_acquire(&db, a->ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__db_run(db, SQL_DELETE, "tti", cur->tenant_id, cur->id,
                       (int64_t)VC_AGENT_OFFLINE)) < 0)
    goto fail;
  if (vc__db_changes(db) == 0) {
    rc = delete_refused(db, cur);
    goto fail;
  }
  if ((rc = leave_queues(db, a->ctx, cur, &queues)) < 0 ||
      (rc = vc__db_run(db, SQL_CONVERSATIONS_UNASSIGN, "tti", cur->tenant_id,
                       cur->id, vc__now(a->ctx))) < 0)
    goto fail;
  conversations = vc__db_changes(db);
  if ((rc = vc__db_run(db, SQL_HISTORY_DELETE, "tt", cur->tenant_id,
                       cur->id)) < 0 ||
      (rc = vc__db_run(db, SQL_CALLS_DELETE, "tt", cur->tenant_id,
                       cur->id)) < 0)
    goto fail;
  name_payload(payload, sizeof(payload), cur->name);
  snprintf(summary, sizeof(summary),
           "{\"queues\":%d,\"conversations\":%d}", queues, conversations);
  if ((rc = vc__event_append(db, a->ctx, cur->tenant_id, "agent.deleted",
                             cur->id, payload)) < 0 ||
      (rc = vc__audit(db, a->ctx, cur->tenant_id, "agent.delete", cur->id,
                      summary)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  goto release;
fail:
  vc__db_rollback(db);
release:
  vc__db_release(db);
unlock:
  pthread_mutex_unlock(&a->lock);
  return rc;
}

/* ---- vc_agent_set_state ------------------------------------------------ */

/* The API's table of moves (see agent.h). */
static int api_move_allowed(const agent_raw *r, int to, const char *reason)
{
  if (to >= VC_AGENT_RINGING && to <= VC_AGENT_WRAP_UP)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "agent state %s is set by calls only",
                         vc_agent_state_name(to));
  if (to != VC_AGENT_OFFLINE && to != VC_AGENT_AVAILABLE &&
      to != VC_AGENT_BREAK)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown agent state %d", to);
  if (to == VC_AGENT_BREAK && (reason == NULL || reason[0] == '\0'))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a break needs a reason");
  if (r->call_id[0] != '\0' || r->state == VC_AGENT_RINGING ||
      r->state == VC_AGENT_ON_CALL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "agent '%s' is on call %s until it ends", r->name,
                         r->call_id[0] ? r->call_id : "(unknown)");
  return 0;
}

int vc_agent_set_state(vc_agent *a, int state, const char *reason)
{
  char summary[96];
  const char *tenant_id;
  agent_row *row = NULL;
  agent_raw raw;
  vc__db *db = NULL;
  int rc;

  VC_ASSERT_ARG(a);
  if ((rc = check_reason(reason)) < 0)
    return rc;
  pthread_mutex_lock(&a->lock);
  tenant_id = a->row->tenant_id;
  if ((rc = vc__db_acquire(&db, a->ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = load_settled(&raw, db, a->ctx, tenant_id, a->row->id)) < 0)
    goto fail;
  /* The same state with the same reason: nothing to do. A state only
   * calls set is refused even then. */
  if (!(raw.state == state && strcmp(raw.reason, reason ? reason : "") == 0
        && (state == VC_AGENT_OFFLINE || state == VC_AGENT_AVAILABLE ||
            state == VC_AGENT_BREAK))) {
    if ((rc = api_move_allowed(&raw, state, reason)) < 0)
      goto fail;
    /* Leaving a wrap-up early forgets its end. */
    if (raw.state == VC_AGENT_WRAP_UP &&
        (rc = vc__db_run(db, SQL_WRAP_CLEAR, "tt", tenant_id, raw.id)) < 0)
      goto fail;
    snprintf(summary, sizeof(summary), "{\"from\":\"%s\",\"to\":\"%s\"}",
             vc_agent_state_name(raw.state), vc_agent_state_name(state));
    if ((rc = move(db, a->ctx, tenant_id, &raw, state, reason,
                   VC_AGENT_CAUSE_API, NULL, vc__now(a->ctx))) < 0 ||
        (rc = vc__audit(db, a->ctx, tenant_id, "agent.set_state", raw.id,
                        summary)) < 0)
      goto fail;
  }
  if ((rc = load_row(&row, db, a->ctx, tenant_id, raw.id)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  handle_swap(a, row);
  vc_ctx_wakeup(a->ctx);
  goto release;
fail:
  vc__db_rollback(db);
  row_free(row);
release:
  vc__db_release(db);
unlock:
  pthread_mutex_unlock(&a->lock);
  return rc;
}

/* ---- the call hooks ----------------------------------------------------- */

static const char SQL_RESOLVE[] =
  "SELECT a.id, a.number FROM vc_agent a" LIVE
  " WHERE a.tenant_id = ?1 AND (a.id = ?2 OR a.name = ?2)"
  " ORDER BY a.id = ?2 DESC LIMIT 1";

int vc__agent_resolve(vc__db *db, const char *tenant_id,
                      const char *id_or_name, char agent_id[VC_ID_SIZE],
                      char *number)
{
  vc__stmt *s;
  int rc;

  if (id_or_name == NULL || check_key(id_or_name) < 0)
    return not_found(id_or_name ? id_or_name : "");
  if ((rc = vc__db_query(&s, db, SQL_RESOLVE, "tt", tenant_id,
                         id_or_name)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    snprintf(agent_id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
    snprintf(number, VC_CALL_ADDRESS_MAX + 1, "%s", vc__stmt_text(s, 1));
    rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = not_found(id_or_name);
  }
  vc__stmt_done(s);
  return rc;
}

/* Taken only when free: the store decides between two concurrent
 * claims. The state to go back to when the call ends unanswered is the
 * one the agent had. */
static const char SQL_CLAIM[] =
  "UPDATE vc_agent SET call_id = ?3, call_answered = 0,"
  " call_bridged_at = 0, prior_state = state, prior_reason = reason,"
  " updated_at = ?4 WHERE tenant_id = ?1 AND id = ?2 AND call_id IS NULL";
static const char SQL_CALL_ADD[] =
  "INSERT INTO vc_agent_call (tenant_id, agent_id, call_id, claimed_at)"
  " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";

/* A queue's claim: only an available agent (a finished wrap-up was
 * settled to available just before, in the same transaction). */
static const char SQL_CLAIM_AVAILABLE[] =
  "UPDATE vc_agent SET call_id = ?3, call_answered = 0,"
  " call_bridged_at = 0, prior_state = state, prior_reason = reason,"
  " updated_at = ?4 WHERE tenant_id = ?1 AND id = ?2 AND call_id IS NULL"
  " AND state = 2";

/* `available_only`: a queue's pick, which takes no agent in any other
 * state (a running wrap-up included); else a click-to-call's, which
 * takes the agent from any state and ends a running wrap-up. */
static int claim(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                 const char *agent_id, const char *call_id, int64_t now,
                 int available_only)
{
  agent_raw raw;
  int rc;

  if (call_id == NULL || call_id[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a claim needs a call id");
  if ((rc = load_settled(&raw, db, ctx, tenant_id, agent_id)) < 0)
    return rc;
  if (raw.call_id[0] != '\0')
    return strcmp(raw.call_id, call_id) == 0
             ? 0
             : vc__error_set(VC_ERRCLASS_INVALID, VC_EBUSY,
                             "agent '%s' is on call %s", raw.name,
                             raw.call_id);
  if (available_only && raw.state != VC_AGENT_AVAILABLE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EBUSY,
                         "agent '%s' is %s", raw.name,
                         vc_agent_state_name(raw.state));
  /* A new call ends a wrap-up still running. */
  if (raw.state == VC_AGENT_WRAP_UP &&
      ((rc = vc__db_run(db, SQL_WRAP_CLEAR, "tt", tenant_id, agent_id)) < 0 ||
       (rc = move(db, ctx, tenant_id, &raw, VC_AGENT_AVAILABLE, NULL,
                  VC_AGENT_CAUSE_CALL, call_id, now)) < 0))
    return rc;
  if ((rc = vc__db_run(db, available_only ? SQL_CLAIM_AVAILABLE : SQL_CLAIM,
                       "ttti", tenant_id, agent_id, call_id,
                       vc__now(ctx))) < 0)
    return rc;
  if (vc__db_changes(db) == 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EBUSY,
                         "agent '%s' is on another call", raw.name);
  return vc__db_run(db, SQL_CALL_ADD, "ttti", tenant_id, agent_id, call_id,
                    now);
}

int vc__agent_claim(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                    const char *agent_id, const char *call_id, int64_t now)
{
  return claim(db, ctx, tenant_id, agent_id, call_id, now, 0);
}

int vc__agent_claim_available(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                              const char *agent_id, const char *call_id,
                              int64_t now)
{
  return claim(db, ctx, tenant_id, agent_id, call_id, now, 1);
}

static const char SQL_ANSWERED[] =
  "UPDATE vc_agent SET call_answered = 1,"
  " call_bridged_at = CASE WHEN call_bridged_at = 0 THEN ?3"
  "  ELSE call_bridged_at END"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CALL_ANSWERED[] =
  "UPDATE vc_agent_call SET"
  " answered_at = CASE WHEN answered_at = 0 THEN ?4 ELSE answered_at END,"
  " bridged_at = CASE WHEN bridged_at = 0 THEN ?5 ELSE bridged_at END"
  " WHERE tenant_id = ?1 AND agent_id = ?2 AND call_id = ?3";
static const char SQL_CALL_ENDED[] =
  "UPDATE vc_agent_call SET ended_at = ?4"
  " WHERE tenant_id = ?1 AND agent_id = ?2 AND call_id = ?3"
  " AND ended_at = 0";
static const char SQL_RELEASE[] =
  "UPDATE vc_agent SET call_id = NULL, call_answered = 0,"
  " call_bridged_at = 0, prior_state = 0, prior_reason = NULL,"
  " wrap_call_id = ?3, wrap_until = ?4"
  " WHERE tenant_id = ?1 AND id = ?2";

/* The call ended at `at`: wrap up, or go back to where the agent was. */
static int call_ended(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      agent_raw *r, const char *call_id, int64_t at)
{
  int64_t until = 0;
  int rc;

  if ((rc = vc__db_run(db, SQL_CALL_ENDED, "ttti", tenant_id, r->id,
                       call_id, at)) < 0)
    return rc;
  if (!r->call_answered) {
    int back = r->prior_state ? r->prior_state : VC_AGENT_AVAILABLE;

    rc = back == r->state ? 0
         : move(db, ctx, tenant_id, r, back, r->prior_reason,
                VC_AGENT_CAUSE_CALL, call_id, at);
  } else if (r->wrap_up_s > 0) {
    rc = move(db, ctx, tenant_id, r, VC_AGENT_WRAP_UP, NULL,
              VC_AGENT_CAUSE_CALL, call_id, at);
    /* The wrap-up starts when the move does (never before the call's
     * last state), and ends by itself: the job writes it. */
    until = r->state_since + (int64_t)r->wrap_up_s * 1000;
    if (rc == 0)
      rc = vc__job_enqueue(db, ctx, tenant_id, VC__JOB_AGENT_WRAP_UP, r->id,
                           until, NULL);
  } else {
    rc = move(db, ctx, tenant_id, r, VC_AGENT_AVAILABLE, NULL,
              VC_AGENT_CAUSE_CALL, call_id, at);
  }
  if (rc < 0)
    return rc;
  return until > 0
           ? vc__db_run(db, SQL_RELEASE, "ttti", tenant_id, r->id, call_id,
                        until)
           : vc__db_run(db, SQL_RELEASE, "ttni", tenant_id, r->id,
                        (int64_t)0);
}

int vc__agent_on_call_state(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *agent_id, const char *call_id,
                            int state, int64_t at)
{
  agent_raw raw;
  int rc;

  if (state < VC_CALL_INITIATED || state > VC_CALL_CANCELED)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown call state %d", state);
  if (call_id == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a call state needs a call id");
  if ((rc = load_settled(&raw, db, ctx, tenant_id, agent_id)) < 0)
    return rc;
  /* Not the agent's live call (a late update of a call long ended): the
   * agent is elsewhere now. */
  if (strcmp(raw.call_id, call_id) != 0)
    return 0;
  if (at <= 0)
    at = vc__now(ctx);
  if (at < raw.state_since)
    at = raw.state_since;
  switch (state) {
  case VC_CALL_INITIATED:
    return 0;
  case VC_CALL_AGENT_RINGING:
    if (raw.call_answered || raw.state == VC_AGENT_RINGING)
      return 0;
    return move(db, ctx, tenant_id, &raw, VC_AGENT_RINGING, NULL,
                VC_AGENT_CAUSE_CALL, call_id, at);
  case VC_CALL_AGENT_ANSWERED:
  case VC_CALL_CUSTOMER_RINGING:
  case VC_CALL_BRIDGED: {
    int64_t bridged = state == VC_CALL_BRIDGED ? at : 0;

    if ((rc = vc__db_run(db, SQL_ANSWERED, "tti", tenant_id, agent_id,
                         bridged)) < 0 ||
        (rc = vc__db_run(db, SQL_CALL_ANSWERED, "tttii", tenant_id,
                         agent_id, call_id, at, bridged)) < 0)
      return rc;
    if (raw.state == VC_AGENT_ON_CALL)
      return 0;
    return move(db, ctx, tenant_id, &raw, VC_AGENT_ON_CALL, NULL,
                VC_AGENT_CAUSE_CALL, call_id, at);
  }
  default:
    return call_ended(db, ctx, tenant_id, &raw, call_id, at);
  }
}

/* ---- the wrap-up job ---------------------------------------------------- */

static int wrap_up_job(vc_ctx *ctx, const vc__job *job, vc__job_outcome *out)
{
  agent_raw raw;
  vc__db *db;
  int rc;

  out->result = VC__JOB_DONE;
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  rc = load_settled(&raw, db, ctx, job->tenant_id, job->subject_id);
  if (rc == VC_ENOTFOUND) {
    rc = 0;                     /* the agent (or its tenant) is gone */
  } else if (rc == 0 && raw.state == VC_AGENT_WRAP_UP) {
    /* Early by this clock: come back at the end. */
    out->result = VC__JOB_RETRY;
    out->retry_at = raw.wrap_until;
  }
  if (rc < 0 || (rc = vc__db_commit(db)) < 0)
    vc__db_rollback(db);
release:
  vc__db_release(db);
  return rc;
}

int vc__agent_register(vc_ctx *ctx)
{
  return vc__job_register(ctx, VC__JOB_AGENT_WRAP_UP, wrap_up_job);
}

/* ---- figures ------------------------------------------------------------ */

static const char SQL_STATS_CALLS[] =
  "SELECT COUNT(*), COALESCE(SUM(CASE WHEN answered_at > 0 THEN 1 ELSE 0"
  " END), 0) FROM vc_agent_call WHERE tenant_id = ?1 AND agent_id = ?2"
  " AND claimed_at >= ?3 AND claimed_at < ?4";
static const char SQL_STATS_TALK[] =
  "SELECT bridged_at, ended_at FROM vc_agent_call"
  " WHERE tenant_id = ?1 AND agent_id = ?2 AND bridged_at > 0"
  " AND bridged_at < ?4 AND (ended_at = 0 OR ended_at > ?3)";
/* From the entry in force at `since` on. */
static const char SQL_STATS_STATES[] =
  "SELECT to_state, at FROM vc_agent_activity"
  " WHERE tenant_id = ?1 AND agent_id = ?2 AND at < ?4 AND seq >="
  " (SELECT COALESCE(MAX(seq), 0) FROM vc_agent_activity"
  "  WHERE tenant_id = ?1 AND agent_id = ?2 AND at <= ?3)"
  " ORDER BY seq";

static int64_t overlap(int64_t a, int64_t b, int64_t since, int64_t until)
{
  if (a < since)
    a = since;
  if (b > until)
    b = until;
  return b > a ? b - a : 0;
}

static void add_state(vc_agent_totals *t, int state, int64_t ms)
{
  switch (state) {
  case VC_AGENT_OFFLINE: t->offline_ms += ms; break;
  case VC_AGENT_AVAILABLE: t->idle_ms += ms; break;
  case VC_AGENT_RINGING:
  case VC_AGENT_ON_CALL: t->on_call_ms += ms; break;
  case VC_AGENT_WRAP_UP: t->wrap_up_ms += ms; break;
  case VC_AGENT_BREAK: t->break_ms += ms; break;
  default: break;
  }
}

static int compute_totals(vc_agent_totals *t, vc__db *db,
                          const char *tenant_id, const char *agent_id,
                          int64_t since, int64_t until)
{
  int64_t prev_at = 0;
  int prev_state = 0;
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_STATS_CALLS, "ttii", tenant_id,
                         agent_id, since, until)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    t->calls = vc__stmt_int64(s, 0);
    t->answered_calls = vc__stmt_int64(s, 1);
  }
  vc__stmt_done(s);
  if (rc < 0 ||
      (rc = vc__db_query(&s, db, SQL_STATS_TALK, "ttii", tenant_id,
                         agent_id, since, until)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    int64_t end = vc__stmt_int64(s, 1);

    t->talk_ms += overlap(vc__stmt_int64(s, 0), end ? end : until, since,
                          until);
  }
  vc__stmt_done(s);
  if (rc < 0 ||
      (rc = vc__db_query(&s, db, SQL_STATS_STATES, "ttii", tenant_id,
                         agent_id, since, until)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    int64_t at = vc__stmt_int64(s, 1);

    if (prev_state != 0)
      add_state(t, prev_state, overlap(prev_at, at, since, until));
    prev_state = (int)vc__stmt_int64(s, 0);
    prev_at = at;
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if (prev_state != 0)
    add_state(t, prev_state, overlap(prev_at, until, since, until));
  return 0;
}

int vc_agent_stats(vc_agent_totals *out, vc_agent *a, int64_t since,
                   int64_t until)
{
  vc_agent_totals t;
  unsigned int version;
  agent_raw raw;
  int64_t now;
  vc__db *db = NULL;
  int rc;

  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(a);
  VC_CHECK_VERSION(out, VC_AGENT_TOTALS_VERSION, "vc_agent_totals");
  if (since < 0 || until < 0 || (until != 0 && since >= until))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "the period must have 0 <= since < until");
  version = out->version;
  memset(&t, 0, sizeof(t));
  now = vc__now(a->ctx);
  if (until == 0 || until > now)
    until = now;
  pthread_mutex_lock(&a->lock);
  if ((rc = vc__db_acquire(&db, a->ctx->store)) < 0)
    goto unlock;
  /* Settle a finished wrap-up first: its end is then in the log. */
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = load_settled(&raw, db, a->ctx, a->row->tenant_id,
                         a->row->id)) < 0 ||
      (since < until &&
       (rc = compute_totals(&t, db, a->row->tenant_id, a->row->id, since,
                            until)) < 0) ||
      (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    goto release;
  }
  /* Version 1 is the whole struct so far. */
  t.version = version;
  memcpy(out, &t, sizeof(t));
release:
  vc__db_release(db);
unlock:
  pthread_mutex_unlock(&a->lock);
  return rc;
}

int vc_agent_totals_init(vc_agent_totals *t, unsigned int version)
{
  VC_INIT_STRUCT(t, version, VC_AGENT_TOTALS_VERSION, vc_agent_totals,
                 VC_AGENT_TOTALS_INIT);
}

/* ---- vc_agent_list ------------------------------------------------------ */

typedef struct agent_iter {
  vc__page_iter page;
  vc_ctx *ctx;
  char tenant_id[VC_ID_SIZE];
  int state;
} agent_iter;

static int page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const agent_iter *it = (const agent_iter *)p;

  return vc__db_query(out, db, SQL_PAGE, "ttii", it->tenant_id,
                      p->base.cursor, vc__now(it->ctx), (int64_t)it->state);
}

static int page_row(void **out, vc__stmt *s)
{
  return row_from_stmt((agent_row **)out, s);
}

static void page_row_free(void *row)
{
  row_free(row);
}

static const char *page_row_key(const void *row)
{
  return ((const agent_row *)row)->id;
}

static const vc__page_ops AGENT_PAGES = {
  { "agent", vc__page_iter_free }, page_query, page_row, page_row_free,
  page_row_key
};

int vc_agent_list(vc_iter **out, vc_tenant *t, const vc_agent_filter *f)
{
  agent_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_AGENT_FILTER_VERSION, "vc_agent_filter");
  if (f != NULL && f->after != NULL && f->after[0] != '\0' &&
      !vc__ulid_valid(f->after))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not an agent list cursor");
  if (f != NULL && (f->state < 0 || f->state > VC_AGENT_BREAK))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown agent state %d", f->state);
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  it->ctx = vc__tenant_ctx(t);
  vc__page_iter_init(&it->page, &AGENT_PAGES, it->ctx->store,
                     f != NULL ? f->after : NULL);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  it->state = f != NULL ? f->state : 0;
  *out = &it->page.base;
  return 0;
}

int vc_agent_next(vc_agent **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &AGENT_PAGES)) < 0)
    return rc;
  return handle_new(out, ((agent_iter *)base)->ctx, row);
}

void vc_agent_free(vc_agent *a)
{
  if (a == NULL)
    return;
  row_free(a->row);
  pthread_mutex_destroy(&a->lock);
  vc__free(a);
}

int vc_agent_spec_init(vc_agent_spec *s, unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_AGENT_SPEC_VERSION, vc_agent_spec,
                 VC_AGENT_SPEC_INIT);
}

int vc_agent_filter_init(vc_agent_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_AGENT_FILTER_VERSION, vc_agent_filter,
                 VC_AGENT_FILTER_INIT);
}

/* ---- getters ------------------------------------------------------------ */

#define GETTER(type, name, expr, none) \
  VC__SNAPSHOT_GETTER(agent, type, name, expr, none)
GETTER(const char *, id, id, NULL)
GETTER(const char *, tenant_id, tenant_id, NULL)
GETTER(const char *, name, name, NULL)
GETTER(const char *, display_name, display_name, NULL)
GETTER(const char *, number, number, NULL)
GETTER(int, wrap_up_seconds, wrap_up_s, 0)
GETTER(const char *, metadata_json, metadata, NULL)
GETTER(int, state_of, state, 0)
GETTER(const char *, reason, reason, NULL)
GETTER(int64_t, state_since, state_since, 0)
GETTER(const char *, call_id, call_id, NULL)
GETTER(int64_t, wrap_up_until, wrap_until, 0)
GETTER(int64_t, created_at, created_at, 0)
GETTER(int64_t, updated_at, updated_at, 0)
#undef GETTER

/* ---- the activity log --------------------------------------------------- */

struct vc_agent_change {
  int64_t seq, at;
  int from, to, cause;
  char key[24];               /* seq in decimal: the cursor */
  char call_id[VC_ID_SIZE];
  char *reason;
};

static const char SQL_ACTIVITY_PAGE[] =
  "SELECT seq, from_state, to_state, COALESCE(reason, ''), cause,"
  " COALESCE(call_id, ''), at FROM vc_agent_activity"
  " WHERE tenant_id = ?1 AND agent_id = ?2 AND seq > ?3"
  " AND (?4 = 0 OR at >= ?4) AND (?5 = 0 OR at < ?5)"
  " ORDER BY seq LIMIT 50";

typedef struct activity_iter {
  vc__page_iter page;
  char tenant_id[VC_ID_SIZE];
  char agent_id[VC_ID_SIZE];
  int64_t since, until;
} activity_iter;

void vc_agent_change_free(vc_agent_change *c)
{
  if (c == NULL)
    return;
  vc__free(c->reason);
  vc__free(c);
}

static int change_from_stmt(void **out, vc__stmt *s)
{
  vc_agent_change *c = vc__calloc(1, sizeof(*c));

  if (c == NULL)
    return vc_error_set_oom();
  c->seq = vc__stmt_int64(s, 0);
  c->from = (int)vc__stmt_int64(s, 1);
  c->to = (int)vc__stmt_int64(s, 2);
  c->reason = vc__strdup(vc__stmt_text(s, 3));
  c->cause = (int)vc__stmt_int64(s, 4);
  snprintf(c->call_id, sizeof(c->call_id), "%s", vc__stmt_text(s, 5));
  c->at = vc__stmt_int64(s, 6);
  snprintf(c->key, sizeof(c->key), "%lld", (long long)c->seq);
  if (c->reason == NULL) {
    vc_agent_change_free(c);
    return vc_error_set_oom();
  }
  *out = c;
  return 0;
}

static int activity_query(vc__stmt **out, vc__db *db,
                          const vc__page_iter *p)
{
  const activity_iter *it = (const activity_iter *)p;

  return vc__db_query(out, db, SQL_ACTIVITY_PAGE, "ttiii", it->tenant_id,
                      it->agent_id, (int64_t)strtoll(p->base.cursor, NULL,
                                                     10),
                      it->since, it->until);
}

static void change_free(void *c)
{
  vc_agent_change_free(c);
}

static const char *change_key(const void *c)
{
  return ((const vc_agent_change *)c)->key;
}

static const vc__page_ops ACTIVITY_PAGES = {
  { "agent activity", vc__page_iter_free }, activity_query,
  change_from_stmt, change_free, change_key
};

/* Write a finished wrap-up, so that the log shows its end. */
static int settle_now(vc_ctx *ctx, const char *tenant_id,
                      const char *agent_id)
{
  agent_raw raw;
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    if ((rc = load_settled(&raw, db, ctx, tenant_id, agent_id)) < 0 ||
        (rc = vc__db_commit(db)) < 0)
      vc__db_rollback(db);
  }
  vc__db_release(db);
  return rc;
}

int vc_agent_activity(vc_iter **out, const vc_agent *a,
                      const vc_agent_activity_filter *f)
{
  activity_iter *it;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(a);
  VC_CHECK_VERSION(f, VC_AGENT_ACTIVITY_FILTER_VERSION,
                   "vc_agent_activity_filter");
  if (f != NULL && f->after != NULL && f->after[0] != '\0' &&
      (strlen(f->after) > 18 ||
       !vc__all_of(f->after, strlen(f->after), vc__is_digit)))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not an agent activity cursor");
  if (f != NULL && (f->since < 0 || f->until < 0))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "negative time in the activity filter");
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  pthread_mutex_lock((pthread_mutex_t *)&a->lock);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", a->row->tenant_id);
  snprintf(it->agent_id, sizeof(it->agent_id), "%s", a->row->id);
  pthread_mutex_unlock((pthread_mutex_t *)&a->lock);
  if ((rc = settle_now(a->ctx, it->tenant_id, it->agent_id)) < 0) {
    vc__free(it);
    return rc;
  }
  vc__page_iter_init(&it->page, &ACTIVITY_PAGES, a->ctx->store,
                     f != NULL ? f->after : NULL);
  if (f != NULL) {
    it->since = f->since;
    it->until = f->until;
  }
  *out = &it->page.base;
  return 0;
}

int vc_agent_activity_filter_init(vc_agent_activity_filter *f,
                                  unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_AGENT_ACTIVITY_FILTER_VERSION,
                 vc_agent_activity_filter, VC_AGENT_ACTIVITY_FILTER_INIT);
}

int vc_agent_change_next(vc_agent_change **out, vc_iter *base)
{
  void *c;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&c, base, &ACTIVITY_PAGES)) < 0)
    return rc;
  *out = c;
  return 0;
}

int64_t vc_agent_change_seq(const vc_agent_change *c)
{
  return c ? c->seq : 0;
}
int vc_agent_change_from(const vc_agent_change *c) { return c ? c->from : 0; }
int vc_agent_change_to(const vc_agent_change *c) { return c ? c->to : 0; }
const char *vc_agent_change_reason(const vc_agent_change *c)
{
  return c ? c->reason : NULL;
}
int vc_agent_change_cause(const vc_agent_change *c)
{
  return c ? c->cause : 0;
}
const char *vc_agent_change_call_id(const vc_agent_change *c)
{
  return c ? c->call_id : NULL;
}
int64_t vc_agent_change_at(const vc_agent_change *c) { return c ? c->at : 0; }
