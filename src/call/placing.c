/*
 * Placing a call (job call.start), one call per job: calls are few and
 * an agent waits for each, so the request runs on a transport of its
 * own, in vc_ctx_run(), on an engine thread or in the host's loop alike
 * (there it blocks the loop for that one request, at most 30 s; for a
 * session adapter, the ring timeout and 30 s).
 *
 *   1. load the call; choose a channel (priority order, or the pinned
 *      one; skipping channels failed over from, open breakers and empty
 *      calls-per-second buckets) and a caller id;
 *   2. record the attempt (nothing goes out for a call hung up since);
 *   3. run the request (an adapter with VC_CAP_LOCAL sends nothing; a
 *      session adapter's session places it: session.h);
 *   4. record the outcome with the job's in one transaction: accepted
 *      (provider id, watchdog, and for a local adapter its whole
 *      progress), a retry, a failover to the next channel, or failed.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/json.h"
#include "core/tenant.h"
#include "msg/limits.h"
#include "msg/route.h"
#include "net/sink.h"
#include "net/transport.h"
#include "call_internal.h"
#include "control.h"
#include "hooks.h"
#include "machine.h"
#include "placing.h"
#include "session.h"

#include <cJSON.h>
#include <stdio.h>

#define POOL_MAX 64
/* Placements through sessions out at once per engine thread. */
#define SESSION_WINDOW 4

static const char SQL_TRIED[] =
  "SELECT tried_channels, COALESCE(error_message, ''),"
  " COALESCE(provider_code, '') FROM vc_call"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CONFIG[] =
  "SELECT config FROM vc_channel WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CURSOR_GET[] =
  "SELECT next_index FROM vc_call_caller_cursor WHERE tenant_id = ?1"
  " AND channel_id = ?2 AND country_code = ?3";
static const char SQL_CURSOR_BUMP[] =
  "INSERT INTO vc_call_caller_cursor (tenant_id, channel_id, country_code,"
  " next_index) VALUES (?1, ?2, ?3, 1) ON CONFLICT (tenant_id, channel_id,"
  " country_code) DO UPDATE SET next_index = next_index + 1";
/* State 1 is initiated: a call hung up meanwhile is not placed. */
static const char SQL_ATTEMPT[] =
  "UPDATE vc_call SET attempts = attempts + 1,"
  " channel_attempts = channel_attempts + 1, channel_id = ?3,"
  " caller_id = COALESCE(caller_id_asked, ?4), updated_at = ?5"
  " WHERE tenant_id = ?1 AND id = ?2 AND state = 1";
static const char SQL_ACCEPTED[] =
  "UPDATE vc_call SET provider_call_id = COALESCE(?3, provider_call_id),"
  " error_code = 0, provider_code = NULL, error_message = NULL,"
  " updated_at = ?4 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_LAST_ERROR[] =
  "UPDATE vc_call SET error_code = ?3, provider_code = ?4,"
  " error_message = ?5, updated_at = ?6 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_FAILOVER[] =
  "UPDATE vc_call SET tried_channels = tried_channels || ?3 || ' ',"
  " channel_attempts = 0 WHERE tenant_id = ?1 AND id = ?2";

/* ---- caller ids ------------------------------------------------------------ */

int vc__call_country_code_len(const char *e164)
{
  /* E.164 country codes are prefix-free: 1 and 7 stand alone, these
   * two-digit ones, and every other code has three digits (ITU-T
   * E.164 assignment list). */
  static const int two[] = {
    20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49,
    51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84,
    86, 90, 91, 92, 93, 94, 95, 98
  };
  const char *d = e164[0] == '+' ? e164 + 1 : e164;
  int n;

  if (d[0] == '1' || d[0] == '7' || d[0] == '\0' || d[1] == '\0')
    return 1;
  n = (d[0] - '0') * 10 + (d[1] - '0');
  for (size_t i = 0; i < VC_ARRAY_SIZE(two); i++)
    if (two[i] == n)
      return 2;
  return 3;
}

static int e164(const char *s)
{
  size_t n = s ? strlen(s) : 0;

  if (n < 3 || n > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9')
    return 0;
  for (size_t i = 1; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

int vc__call_pool_pick(char out[257], char set[4], const char *config_json,
                       const char *customer, int64_t turn)
{
  const char *all[POOL_MAX], *same[POOL_MAX];
  size_t nall = 0, nsame = 0;
  cJSON *cfg = NULL, *pool, *item;
  int cc = vc__call_country_code_len(customer);

  out[0] = '\0';
  set[0] = '\0';
  if (config_json == NULL ||
      vc__json_parse(&cfg, "channel config", config_json, 64 * 1024, 8,
                     1) < 0) {
    vc_error_clear();
    return 0; /* the adapter accepted it; a pool we cannot read is none */
  }
  pool = cJSON_GetObjectItemCaseSensitive(cfg, "caller_ids");
  if (!cJSON_IsArray(pool))
    pool = NULL;
  cJSON_ArrayForEach(item, pool) {
    const char *v = cJSON_IsString(item) ? item->valuestring : NULL;
    if (!e164(v) || nall == POOL_MAX)
      continue; /* not a number: never shown to a customer */
    all[nall++] = v;
    if (strncmp(v + 1, customer + 1, (size_t)cc) == 0)
      same[nsame++] = v;
  }
  if (turn < 0)
    turn = 0;
  if (nsame > 0) {
    snprintf(set, 4, "%.*s", cc, customer + 1);
    snprintf(out, 257, "%s", same[turn % (int64_t)nsame]);
  } else if (nall > 0) {
    snprintf(out, 257, "%s", all[turn % (int64_t)nall]);
  }
  cJSON_Delete(cfg);
  return 0;
}

/* ---- the job --------------------------------------------------------------- */

typedef struct place {
  vc_ctx *ctx;
  const char *owner;                /* the engine's lease owner */
  const vc__job *job;
  vc__job_outcome *out;
  vc__call_row row;
  char tried[VC__ROUTE_MAX_CANDIDATES * (VC_ID_SIZE + 1) + 8];
  char last_error[256];
  vc__route_target target;
  vc__route_instance *inst;
  char asked[257];                  /* the spec's caller id, or "" */
  char caller_id[257], pool_set[4];
  int pooled;                       /* the caller id came from the pool */
  char webhook_url[1024];
  vc_call_outbound ob;
  vc__transfer xfer;
  int local, sent;
  int session;                      /* a session adapter places it */
  vc__session_wait *wait;           /* released once recorded */
  vc_send_result result;
  int gone;                         /* hung up before it went out */
  int broken;                       /* machinery failed: retried */
  int waiting;                      /* its agent is on another call: the
                                       job is retried (agent_wait) */
} place;

static int64_t backoff(vc_ctx *ctx, int attempts, int64_t now,
                       const vc_send_result *r)
{
  int64_t cap = VC__CALL_RETRY_BASE_MS, at;

  for (int i = 1; i < attempts && cap < VC__CALL_RETRY_CAP_MS; i++)
    cap *= 2;
  if (cap > VC__CALL_RETRY_CAP_MS)
    cap = VC__CALL_RETRY_CAP_MS;
  at = now + (int64_t)vc__rng_below(&ctx->rng, (uint64_t)cap + 1);
  if (r != NULL && r->retry_after_ms > 0 && now + r->retry_after_ms > at)
    at = now + r->retry_after_ms;
  if (r != NULL && r->retry_at_ms > at)
    at = r->retry_at_ms;
  return at;
}

static void retry_at(place *p, int64_t at, const char *why)
{
  p->out->result = VC__JOB_RETRY;
  p->out->retry_at = at;
  snprintf(p->out->error, sizeof(p->out->error), "%s", why);
}

static int was_tried(const place *p, const char *id)
{
  const char *hit = strstr(p->tried, id);

  return hit != NULL && (hit == p->tried || hit[-1] == ' ');
}

static int load_tried(place *p, vc__db *db)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_TRIED, "tt", p->job->tenant_id,
                         p->job->subject_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    snprintf(p->tried, sizeof(p->tried), "%s", vc__stmt_text(s, 0));
    snprintf(p->last_error, sizeof(p->last_error), "%s",
             vc__stmt_text(s, 1));
    rc = 0;
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

/* The caller id for this attempt on p->target. */
static int choose_caller_id(place *p, vc__db *db)
{
  vc__stmt *s;
  char *config = NULL;
  int64_t turn = 0;
  int rc;

  p->pooled = 0;
  if (p->asked[0] != '\0') {
    snprintf(p->caller_id, sizeof(p->caller_id), "%s", p->asked);
    return 0;
  }
  if ((rc = vc__db_query(&s, db, SQL_CONFIG, "tt", p->job->tenant_id,
                         p->target.id)) < 0)
    return rc;
  if (vc__stmt_step(s) == VC_STORAGE_ROW)
    config = vc__strdup(vc__stmt_text(s, 0));
  vc__stmt_done(s);
  vc__call_pool_pick(p->caller_id, p->pool_set, config,
                     p->row.customer_number, 0);
  if (p->caller_id[0] != '\0') {
    if ((rc = vc__db_query(&s, db, SQL_CURSOR_GET, "ttt", p->job->tenant_id,
                           p->target.id, p->pool_set)) == 0) {
      if (vc__stmt_step(s) == VC_STORAGE_ROW)
        turn = vc__stmt_int64(s, 0);
      vc__stmt_done(s);
    }
    vc__call_pool_pick(p->caller_id, p->pool_set, config,
                       p->row.customer_number, turn);
    p->pooled = 1;
  } else {
    snprintf(p->caller_id, sizeof(p->caller_id), "%s", p->target.sender);
  }
  vc__free(config);
  return rc < 0 ? rc : 0;
}

/* Step 1. 1 when a channel was chosen, 0 when the outcome is decided. */
static int plan(place *p, vc__db *db, int64_t now)
{
  vc__route_target cands[VC__ROUTE_MAX_CANDIDATES];
  int64_t ready = INT64_MAX;
  size_t n = 0;
  int rc, chosen = -1, untried = 0;

  if ((rc = vc__call_row_load(&p->row, db, p->job->tenant_id,
                              p->job->subject_id)) == VC_ENOTFOUND) {
    vc_error_clear();
    p->out->result = VC__JOB_DONE;
    return 0;
  }
  if (rc < 0)
    return rc;
  if (p->row.state != VC_CALL_INITIATED ||
      p->row.provider_call_id[0] != '\0') {
    p->out->result = VC__JOB_DONE; /* placed, or hung up */
    return 0;
  }
  if ((rc = load_tried(p, db)) < 0 ||
      (rc = vc__route_candidates(cands, &n, db, p->job->tenant_id,
                                 VC_CHANNEL_VOICE,
                                 p->row.pinned ? p->row.channel_id
                                               : NULL)) < 0)
    return rc;
  for (size_t i = 0; i < n && chosen < 0; i++) {
    int64_t at;
    if (was_tried(p, cands[i].id))
      continue;
    untried++;
    if (vc__limits_acquire(p->ctx->limits, cands[i].id,
                           cands[i].rate_per_second, now, &at))
      chosen = (int)i;
    else if (at < ready)
      ready = at;
  }
  if (chosen < 0) {
    if (untried == 0) {
      p->result.outcome = VC_SEND_REJECTED;
      p->result.error = p->row.error ? p->row.error : VC_EPROVIDER;
      snprintf(p->result.error_message, sizeof(p->result.error_message),
               "%s%s", n == 0 ? "no enabled voice channel"
                              : "every voice channel failed",
               "");
      if (n > 0 && p->last_error[0] != '\0')
        snprintf(p->result.error_message, sizeof(p->result.error_message),
                 "every voice channel failed; last: %s", p->last_error);
      return 0;
    }
    retry_at(p, ready, "calls-per-second limit or circuit open");
    return 0;
  }
  p->target = cands[chosen];
  return 1;
}

static const char SQL_ASKED[] =
  "SELECT COALESCE(caller_id_asked, '') FROM vc_call"
  " WHERE tenant_id = ?1 AND id = ?2";

/* Whether the spec named a caller id (kept in caller_id_asked). */
static int asked_caller_id(place *p, vc__db *db)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_ASKED, "tt", p->job->tenant_id,
                         p->job->subject_id)) < 0)
    return rc;
  if (vc__stmt_step(s) == VC_STORAGE_ROW)
    snprintf(p->asked, sizeof(p->asked), "%s", vc__stmt_text(s, 0));
  vc__stmt_done(s);
  return 0;
}

/* Step 1, with no connection held: bind the adapter and build. */
static void build(place *p)
{
  vc_ctx *ctx = p->ctx;
  int rc;

  memset(&p->result, 0, sizeof(p->result));
  p->result.version = VC_SEND_RESULT_VERSION;
  if ((rc = vc__route_instance_get(&p->inst, ctx, p->job->tenant_id,
                                   &p->target)) < 0) {
    p->result.outcome = VC_SEND_FAILOVER;
    p->result.error = rc;
    snprintf(p->result.error_message, sizeof(p->result.error_message),
             "channel unusable: %s", vc_error_last()->message);
    return;
  }
  p->session = vc__session_adapter(&p->inst->adapter);
  if (p->inst->adapter.version < 2 ||
      (p->inst->adapter.parse_call == NULL && !p->session)) {
    p->result.outcome = VC_SEND_FAILOVER;
    p->result.error = VC_ENOTSUPPORTED;
    snprintf(p->result.error_message, sizeof(p->result.error_message),
             "adapter '%s' places no calls", p->inst->adapter.name);
    return;
  }
  vc__call_webhook_url(p->webhook_url, sizeof(p->webhook_url), ctx,
                       p->target.id, p->row.id);
  p->ob.version = VC_CALL_OUTBOUND_VERSION;
  p->ob.call_id = p->row.id;
  p->ob.tenant_id = p->job->tenant_id;
  p->ob.agent = p->row.agent_number;
  p->ob.customer = p->row.customer_number;
  p->ob.caller_id = p->caller_id[0] ? p->caller_id : NULL;
  p->ob.record = p->row.record_mode == VC_RECORD_ALWAYS;
  p->ob.ring_timeout_s = p->row.ring_timeout_s;
  p->ob.time_limit_s = p->row.time_limit_s;
  p->ob.webhook_url = p->webhook_url[0] ? p->webhook_url : NULL;
  p->ob.metadata_json = NULL;
  p->ob.now_ms = vc__now(ctx);
  p->local = !p->session &&
             (p->inst->adapter.capabilities & VC_CAP_LOCAL) != 0;
  if (!p->local && !p->session &&
      (p->inst->adapter.build_call == NULL ||
       (rc = p->inst->adapter.build_call(p->inst->state, &p->ob,
                                         &p->xfer.req)) < 0)) {
    p->result.outcome = VC_SEND_REJECTED;
    p->result.error = p->inst->adapter.build_call ? rc : VC_ENOTSUPPORTED;
    snprintf(p->result.error_message, sizeof(p->result.error_message), "%s",
             vc_error_last()->message);
    return;
  }
  p->sent = 1;
}

/* The agent of a deferred call is on another call: when to ask again,
 * outside the customer's quiet hours. */
static int agent_wait(place *p, vc__db *db, int64_t now)
{
  int64_t at = now + VC__CALL_AGENT_WAIT_MS;
  vc_tenant *t = NULL;
  int rc;

  if ((rc = vc__tenant_load(&t, p->ctx, db, p->job->tenant_id)) == 0)
    rc = vc__call_quiet_open(&at, db, t, p->row.customer_number,
                             VC_CATEGORY_TRANSACTIONAL, at);
  vc_tenant_free(t);
  if (rc < 0)
    vc_error_clear(); /* ask again all the same */
  retry_at(p, at, "the agent is on another call");
  return 0;
}

/* Step 2. 0, 1 when the call was hung up meanwhile, 2 when its agent is
 * on another call (a call deferred by quiet hours claims its agent only
 * now; for the others the claim made at the start holds). */
static int mark_attempt(place *p)
{
  vc__db *db;
  int64_t now = vc__now(p->ctx);
  int rc, gone = 0;

  if ((rc = vc__db_acquire(&db, p->ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto out;
  rc = vc__db_run(db, SQL_ATTEMPT, "tttti", p->job->tenant_id,
                  p->job->subject_id, p->target.id,
                  p->caller_id[0] ? p->caller_id : NULL, vc__now(p->ctx));
  if (rc == 0 && vc__db_changes(db) == 0)
    gone = 1;
  if (rc == 0 && !gone && p->row.agent_id[0] != '\0' &&
      (rc = vc__agent_claim(db, p->ctx, p->job->tenant_id, p->row.agent_id,
                            p->job->subject_id, now)) == VC_EBUSY) {
    vc__db_rollback(db);
    vc_error_clear();
    rc = agent_wait(p, db, now);
    vc__db_release(db);
    return rc < 0 ? rc : 2;
  }
  if (rc == 0 && !gone && p->pooled)
    rc = vc__db_run(db, SQL_CURSOR_BUMP, "ttt", p->job->tenant_id,
                    p->target.id, p->pool_set);
  if (rc == 0)
    rc = vc__db_commit(db);
  if (rc < 0)
    vc__db_rollback(db);
out:
  vc__db_release(db);
  return rc < 0 ? rc : gone;
}

/* Step 3 for a session adapter: the session places it, and this waits
 * for its answer (the ring timeout and 30 s at most), keeping the job's
 * lease meanwhile. */
static void run_session(place *p)
{
  vc_ctx *ctx = p->ctx;
  int64_t deadline = vc__now(ctx) + (int64_t)p->ob.ring_timeout_s * 1000 +
                     VC__SESSION_PLACE_MARGIN_MS;

  if (vc__job_extend(ctx, p->owner, p->job, deadline + ctx->lease_ms) < 0)
    vc_error_clear(); /* the wait is bounded anyway */
  vc__session_place(&p->wait, ctx, p->job->tenant_id, p->inst, &p->ob,
                    deadline, &p->result);
  if (p->result.outcome < VC_SEND_ACCEPTED ||
      p->result.outcome > VC_SEND_FAILOVER) {
    p->result.outcome = VC_SEND_RETRY;
    p->result.error = VC_EPROVIDER;
    snprintf(p->result.error_message, sizeof(p->result.error_message),
             "the session answered an unknown outcome");
  }
}

/* Step 3. */
static void run(place *p)
{
  vc__transport_opts o;
  vc__transport *t = NULL;
  vc__transfer *x = &p->xfer;
  const vc_http_response *res = NULL;
  int rc;

  if (p->session) {
    run_session(p);
    return;
  }
  if (!p->local) {
    memset(&o, 0, sizeof(o));
    o.allow_private = p->ctx->allow_private_network;
    o.max_connections = 1;
    if ((rc = vc__transport_new(&t, &o)) == 0)
      rc = vc__transport_run(t, &x, 1);
    vc__transport_free(t);
    if (rc < 0 || x->error != 0) {
      /* Nothing usable came back: the next channel. */
      p->result.outcome = VC_SEND_FAILOVER;
      p->result.error = rc < 0 ? rc : x->error;
      snprintf(p->result.error_message, sizeof(p->result.error_message),
               "%s", rc < 0 ? vc_error_last()->message : x->error_text);
      return;
    }
    res = &x->res;
  }
  rc = p->inst->adapter.parse_call(p->inst->state, &p->ob, res, &p->result);
  if (rc < 0 || p->result.outcome < VC_SEND_ACCEPTED ||
      p->result.outcome > VC_SEND_FAILOVER) {
    p->result.outcome = VC_SEND_RETRY;
    p->result.error = VC_EPROVIDER;
    snprintf(p->result.error_message, sizeof(p->result.error_message),
             "unreadable provider response (HTTP %d)", x->res.status);
  }
}

/* What the sandbox reports of a call it "placed": applied as a webhook's
 * reports are, in the outcome's transaction. */
typedef struct local_apply {
  vc_ctx *ctx;
  vc__db *db;
  const char *tenant_id;
  const char *call_id;
  int64_t now;
} local_apply;

static int on_local_call(void *payload, const vc_call_update *u)
{
  local_apply *a = payload;

  if (u->type == VC_UPDATE_SCRIPT)
    return 0;
  return vc__call_apply(a->db, a->ctx, a->tenant_id, a->call_id, u, a->now,
                        NULL);
}

static int accepted(place *p, vc__db *db, int64_t now)
{
  const char *tenant_id = p->job->tenant_id, *id = p->job->subject_id;
  int64_t due;
  vc__call_row r;
  int rc;

  if ((rc = vc__db_run(db, SQL_ACCEPTED, "ttti", tenant_id, id,
                       p->result.provider_id[0] ? p->result.provider_id
                                                : NULL, now)) < 0 ||
      (rc = vc__call_row_load(&r, db, tenant_id, id)) < 0)
    return rc;
  p->out->result = VC__JOB_DONE;
  if (!vc__call_state_live(r.state)) {
    /* Hung up while the provider was taking it: end it there too. */
    return vc__call_control_enqueue(db, p->ctx, tenant_id, id,
                                    VC_CALL_OP_HANGUP, NULL);
  }
  due = now + (2LL * r.ring_timeout_s + r.time_limit_s) * 1000 +
        VC__CALL_WATCHDOG_MARGIN_MS;
  if ((rc = vc__job_enqueue(db, p->ctx, tenant_id, VC__JOB_CALL_WATCHDOG,
                            id, due, NULL)) < 0)
    return rc;
  if (p->local && p->inst->adapter.local_progress != NULL) {
    vc_event_sink sink;
    local_apply a = { p->ctx, db, tenant_id, id, now };
    vc__sink_init(&sink, NULL, NULL, &a);
    vc__sink_set_call(&sink, on_local_call);
    rc = p->inst->adapter.local_progress(p->inst->state, &p->ob, &sink);
    vc__sink_fini(&sink);
  }
  return rc;
}

static int failed(place *p, vc__db *db, int64_t now)
{
  vc__call_ending e;
  const vc_send_result *r = &p->result;

  memset(&e, 0, sizeof(e));
  e.state = VC_CALL_FAILED;
  e.cause = VC_CAUSE_PROVIDER_ERROR;
  e.error = r->error ? r->error : VC_EPROVIDER;
  e.provider_code = r->provider_code[0] ? r->provider_code : NULL;
  e.message = r->error_message[0] ? r->error_message : NULL;
  e.at = now;
  p->out->result = VC__JOB_DONE;
  return vc__call_end(db, p->ctx, p->job->tenant_id, p->job->subject_id, &e);
}

/* Step 4, inside the outcome's transaction. */
static int apply(place *p, vc__db *db, int64_t now)
{
  const char *tenant_id = p->job->tenant_id, *id = p->job->subject_id;
  const vc_send_result *r = &p->result;
  vc__call_row cur;
  int rc;

  if ((rc = vc__call_row_load(&cur, db, tenant_id, id)) == VC_ENOTFOUND) {
    vc_error_clear();
    p->out->result = VC__JOB_DONE;
    return 0;
  }
  if (rc < 0)
    return rc;
  if (r->outcome == VC_SEND_ACCEPTED)
    return accepted(p, db, now);
  if (!vc__call_state_live(cur.state)) {
    p->out->result = VC__JOB_DONE; /* hung up meanwhile */
    return 0;
  }
  if (cur.state != VC_CALL_INITIATED) {
    /* The provider's webhooks say the call is under way although its
     * answer to the request was an error: never place it again. */
    p->out->result = VC__JOB_DONE;
    return 0;
  }
  if (p->target.id[0] != '\0')
    if ((rc = vc__db_run(db, SQL_LAST_ERROR, "ttitti", tenant_id, id,
                         (int64_t)(r->error ? r->error : VC_EPROVIDER),
                         r->provider_code[0] ? r->provider_code : NULL,
                         r->error_message, now)) < 0)
      return rc;
  switch (r->outcome) {
  case VC_SEND_RETRY:
    if (cur.attempts >= VC__CALL_MAX_ATTEMPTS)
      return failed(p, db, now);
    if (!cur.pinned && cur.channel_attempts >= VC__CALL_CHANNEL_ATTEMPTS)
      goto failover;
    retry_at(p, backoff(p->ctx, cur.channel_attempts, now, r),
             r->error_message);
    return 0;
  case VC_SEND_FAILOVER:
    goto failover;
  default: /* VC_SEND_REJECTED */
    return failed(p, db, now);
  }
failover:
  if (cur.pinned || p->target.id[0] == '\0')
    return failed(p, db, now);
  retry_at(p, now, "failover to the next voice channel");
  return vc__db_run(db, SQL_FAILOVER, "ttt", tenant_id, id, p->target.id);
}

static int record(place *p)
{
  int64_t now = vc__now(p->ctx);
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, p->ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    if ((rc = apply(p, db, now)) == 0)
      rc = vc__job_record(db, p->owner, p->job, p->out);
    if (rc == 0)
      rc = vc__db_commit(db);
    if (rc < 0) {
      vc__db_rollback(db);
      p->out->recorded = 0;
    }
  }
  vc__db_release(db);
  return rc;
}

static place *place_new(vc_ctx *ctx, const char *owner, const vc__job *job,
                        vc__job_outcome *out)
{
  place *p = vc__calloc(1, sizeof(*p));

  if (p == NULL)
    return NULL;
  p->ctx = ctx;
  p->owner = owner;
  p->job = job;
  p->out = out;
  vc__transfer_init(&p->xfer);
  return p;
}

static void place_free(place *p)
{
  if (p == NULL)
    return;
  /* The session's reports after its answer wait for this. */
  vc__session_release(p->wait);
  if (p->inst != NULL)
    vc__route_instance_put(p->ctx, p->inst);
  vc__transfer_reset(&p->xfer);
  vc__free(p);
}

/* Step 1: 1 when a request goes out (p->sent), 0 when the outcome is
 * decided without one (p->result.outcome set: to record; else p->out
 * says it all), or < 0. */
static int prepare(place *p)
{
  int64_t now = vc__now(p->ctx);
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, p->ctx->store)) < 0)
    return rc;
  if ((rc = plan(p, db, now)) == 1) {
    int crc;
    if ((crc = asked_caller_id(p, db)) < 0 ||
        (crc = choose_caller_id(p, db)) < 0)
      rc = crc;
  }
  vc__db_release(db);
  if (rc == 1) {
    build(p);
    rc = p->sent;
  }
  return rc;
}

static int call_start(vc_ctx *ctx, const char *owner, const vc__job *job,
                      vc__job_outcome *out)
{
  place *p = place_new(ctx, owner, job, out);
  int rc;

  if (p == NULL)
    return vc_error_set_oom();
  if ((rc = prepare(p)) < 0)
    goto out;
  if (rc == 0 && p->result.outcome == 0)
    goto out; /* decided without a request: done, or wait */
  if (rc == 1) {
    if ((rc = mark_attempt(p)) < 0)
      goto out;
    if (rc == 1) {
      out->result = VC__JOB_DONE; /* hung up before it went out */
      rc = 0;
      goto out;
    }
    if (rc == 2) {
      rc = 0; /* waits for the agent: the engine records the retry */
      goto out;
    }
    run(p);
    vc__limits_report(ctx->limits, p->target.id,
                      p->result.outcome == VC_SEND_ACCEPTED ||
                      p->result.outcome == VC_SEND_REJECTED, vc__now(ctx));
  }
  rc = record(p);
out:
  place_free(p);
  return rc;
}

/* ---- a batch of session placements ----------------------------------------
 *
 * Placements through sessions go out together: their attempts are
 * recorded in one transaction, every one is handed to its session before
 * any is waited for, and their outcomes are recorded with their jobs' in
 * one transaction. Should a shared transaction fail, each placement's
 * steps run in transactions of their own, as for one job. */

/* This job's machinery failed: try it again a little later. */
static void machinery_retry(vc_ctx *ctx, const vc__job *job,
                            vc__job_outcome *out)
{
  vc__job_retry_machinery(ctx, job, out,
                          backoff(ctx, (int)job->attempts, vc__now(ctx),
                                  NULL));
}

typedef struct place_batch {
  place **ps;
  int64_t now;
} place_batch;

static int mark_step(vc__db *db, size_t i, void *arg)
{
  place_batch *b = arg;
  place *p = b->ps[i];
  int rc;

  rc = vc__db_run(db, SQL_ATTEMPT, "tttti", p->job->tenant_id,
                  p->job->subject_id, p->target.id,
                  p->caller_id[0] ? p->caller_id : NULL, b->now);
  p->gone = rc == 0 && vc__db_changes(db) == 0;
  /* A deferred call claims its agent now (mark_attempt); a busy agent
   * sends the whole batch down the one-by-one path. */
  if (rc == 0 && !p->gone && p->row.agent_id[0] != '\0')
    rc = vc__agent_claim(db, p->ctx, p->job->tenant_id, p->row.agent_id,
                         p->job->subject_id, b->now);
  if (rc == 0 && !p->gone && p->pooled)
    rc = vc__db_run(db, SQL_CURSOR_BUMP, "ttt", p->job->tenant_id,
                    p->target.id, p->pool_set);
  return rc;
}

/* Step 2 for many. p->gone: hung up before it went out. */
static void mark_many(place **ps, size_t n)
{
  vc_ctx *ctx = ps[0]->ctx;
  place_batch b = { ps, vc__now(ctx) };
  int rc;

  if (vc__db_batch(ctx->store, n, mark_step, &b) == 0)
    return;
  vc_error_clear();
  for (size_t i = 0; i < n; i++) {
    if ((rc = mark_attempt(ps[i])) < 0) {
      ps[i]->broken = 1;
      machinery_retry(ctx, ps[i]->job, ps[i]->out);
      continue;
    }
    ps[i]->gone = rc == 1;
    ps[i]->waiting = rc == 2;
  }
}

static int record_step(vc__db *db, size_t i, void *arg)
{
  place_batch *b = arg;
  int rc;

  if ((rc = apply(b->ps[i], db, b->now)) < 0)
    return rc;
  return vc__job_record(db, b->ps[i]->owner, b->ps[i]->job, b->ps[i]->out);
}

/* Step 4 for many, each with its job's outcome. */
static void record_many(place **ps, size_t n)
{
  vc_ctx *ctx = ps[0]->ctx;
  place_batch b = { ps, vc__now(ctx) };

  if (vc__db_batch(ctx->store, n, record_step, &b) == 0)
    return;
  vc_error_clear();
  for (size_t i = 0; i < n; i++) {
    ps[i]->out->recorded = 0;
    if (record(ps[i]) < 0)
      machinery_retry(ctx, ps[i]->job, ps[i]->out);
  }
}

/* Wait for p's answer, keeping its job's lease while the session takes
 * longer than half a lease. */
static void await_one(place *p, int64_t started)
{
  vc_ctx *ctx = p->ctx;
  int64_t extend_at = started + ctx->lease_ms / 2;
  int64_t deadline = p->ob.now_ms + (int64_t)p->ob.ring_timeout_s * 1000 +
                     VC__SESSION_PLACE_MARGIN_MS;

  if (p->wait != NULL) {
    if (extend_at < deadline &&
        vc__session_await(p->wait, ctx, extend_at, 0, &p->result) == 1 &&
        vc__job_extend(ctx, p->owner, p->job, deadline + ctx->lease_ms) < 0)
      vc_error_clear(); /* the wait is bounded anyway */
    (void)vc__session_await(p->wait, ctx, deadline, 1, &p->result);
  }
  if (p->result.outcome < VC_SEND_ACCEPTED ||
      p->result.outcome > VC_SEND_FAILOVER) {
    p->result.outcome = VC_SEND_RETRY;
    p->result.error = VC_EPROVIDER;
    snprintf(p->result.error_message, sizeof(p->result.error_message),
             "the session answered an unknown outcome");
  }
  vc__limits_report(ctx->limits, p->target.id,
                    p->result.outcome == VC_SEND_ACCEPTED ||
                    p->result.outcome == VC_SEND_REJECTED, vc__now(ctx));
}

/* ps[] keeps its order and entries; `live` has room for n. At most
 * SESSION_WINDOW placements are out at once: a burst of hundreds of
 * INVITEs overflows a peer's (or our own) socket buffers, and the lost
 * ones cost seconds of retransmission. */
static void place_sessions(place **ps, size_t n, place **live,
                           int64_t started)
{
  vc_ctx *ctx;
  size_t m = 0, next = 0;

  if (n == 0)
    return;
  ctx = ps[0]->ctx;
  mark_many(ps, n);
  for (size_t i = 0; i < n; i++) {
    place *p = ps[i];
    if (p->broken || p->waiting)
      continue;
    if (p->gone) {
      p->out->result = VC__JOB_DONE; /* hung up before it went out */
      continue;
    }
    live[m++] = p;
  }
  for (size_t i = 0; i < m; i++) {
    for (; next < m && next < i + SESSION_WINDOW; next++)
      vc__session_place_start(&live[next]->wait, ctx,
                              live[next]->job->tenant_id, live[next]->inst,
                              &live[next]->ob, &live[next]->result);
    await_one(live[i], started);
  }
  if (m > 0)
    record_many(live, m);
}

/* Each kind is a batch handler only to learn the engine's lease owner,
 * so that a job's outcome commits with its effects. Without async
 * halves a batch runs to its end in the host's loop too. */
static int start_batch(vc_ctx *ctx, vc__engine *engine, const vc__job *jobs,
                       size_t n, vc__job_outcome *out)
{
  int64_t started = vc__now(ctx);
  place **ps = vc__calloc(2 * n, sizeof(*ps)), **sess;
  size_t ns = 0;
  int rc;

  if (ps == NULL) {
    vc__call_jobs_each(ctx, engine, jobs, n, out, call_start);
    return 0;
  }
  sess = ps;
  for (size_t i = 0; i < n; i++) {
    place *p = place_new(ctx, engine->owner, &jobs[i], &out[i]);
    if (p == NULL) {
      (void)vc_error_set_oom();
      machinery_retry(ctx, &jobs[i], &out[i]);
      continue;
    }
    if ((rc = prepare(p)) == 1 && p->session) {
      sess[ns++] = p; /* later, with the others */
      continue;
    }
    /* Anything else runs to its end now, as a job of its own. */
    if (rc == 1 || (rc == 0 && p->result.outcome != 0)) {
      if (rc == 1 && (rc = mark_attempt(p)) == 1) {
        out[i].result = VC__JOB_DONE;
        rc = 0;
      } else if (rc == 2) {
        rc = 0; /* waits for the agent: its retry is set */
      } else if (rc >= 0) {
        if (p->sent) {
          run(p);
          vc__limits_report(ctx->limits, p->target.id,
                            p->result.outcome == VC_SEND_ACCEPTED ||
                            p->result.outcome == VC_SEND_REJECTED,
                            vc__now(ctx));
        }
        rc = record(p);
      }
    }
    if (rc < 0)
      machinery_retry(ctx, &jobs[i], &out[i]);
    place_free(p);
  }
  place_sessions(sess, ns, ps + n, started);
  for (size_t i = 0; i < ns; i++)
    place_free(sess[i]);
  vc__free(ps);
  return 0;
}

/* ---- the watchdog -------------------------------------------------------- */

static int call_watchdog(vc_ctx *ctx, const char *owner, const vc__job *job,
                         vc__job_outcome *out)
{
  vc__call_ending e;
  vc__db *db;
  int rc;

  memset(&e, 0, sizeof(e));
  e.state = VC_CALL_FAILED;
  e.cause = VC_CAUSE_PROVIDER_ERROR;
  e.error = VC_ETIMEOUT;
  e.message = "the provider never reported the end of the call";
  e.at = vc__now(ctx);
  out->result = VC__JOB_DONE;
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    rc = vc__call_end(db, ctx, job->tenant_id, job->subject_id, &e);
    if (rc == VC_ENOTFOUND) {
      vc_error_clear();
      rc = 0;
    }
    if (rc == 0)
      rc = vc__job_record(db, owner, job, out);
    if (rc == 0)
      rc = vc__db_commit(db);
    if (rc < 0) {
      vc__db_rollback(db);
      out->recorded = 0;
    }
  }
  vc__db_release(db);
  return rc;
}

void vc__call_jobs_each(vc_ctx *ctx, vc__engine *engine,
                        const vc__job *jobs, size_t n, vc__job_outcome *out,
                        vc__call_job_fn fn)
{
  for (size_t i = 0; i < n; i++) {
    if (fn(ctx, engine->owner, &jobs[i], &out[i]) >= 0)
      continue;
    /* This job's machinery failed: try it again a little later. */
    out[i].recorded = 0;
    out[i].result = VC__JOB_RETRY;
    out[i].retry_at = backoff(ctx, (int)jobs[i].attempts, vc__now(ctx),
                              NULL);
    snprintf(out[i].error, sizeof(out[i].error), "%s",
             vc_error_last()->message);
    VC_LOG(ctx, VC_LOG_WARN, "job %s (%s) failed: %s", jobs[i].id,
           jobs[i].kind, out[i].error);
  }
}

/* Each kind is a batch handler only to learn the engine's lease owner,
 * so that a job's outcome commits with its effects (call.start also to
 * place through sessions together). Without async halves a batch runs
 * to its end in the host's loop too. */
static int watchdog_batch(vc_ctx *ctx, vc__engine *engine,
                          const vc__job *jobs, size_t n,
                          vc__job_outcome *out)
{
  vc__call_jobs_each(ctx, engine, jobs, n, out, call_watchdog);
  return 0;
}

int vc__call_jobs_register(vc_ctx *ctx)
{
  int rc;

  if ((rc = vc__job_register_batch(ctx, VC__JOB_CALL_START,
                                   start_batch)) < 0 ||
      (rc = vc__job_register_batch(ctx, VC__JOB_CALL_WATCHDOG,
                                   watchdog_batch)) < 0)
    return rc;
  return vc__call_control_register(ctx);
}
