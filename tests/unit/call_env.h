/*
 * A context, a tenant, a voice channel and calls for the unit tests of
 * the call modules (IVR, recording), which run their hooks directly on a
 * store connection as the call core does.
 *
 * Timeline entries are read through vc_call_timeline() and control
 * requests from vc_call_control with their call.control jobs, where the
 * call core keeps them.
 */
#ifndef VC_TEST_CALL_ENV_H
#define VC_TEST_CALL_ENV_H

#include "core/common.h"
#include "core/ctx.h"
#include "core/tenant.h"
#include "store/db.h"
#include "call/hooks.h"
#include "harness.h"

#include <cJSON.h>
#include <stdio.h>

#define T0 1700000000000LL

static int64_t g_now = T0;
static uint64_t g_voice_caps;

static int64_t env_clock(void *p) { (void)p; return g_now; }

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
  const char *tid;
  char voice[VC_ID_SIZE];     /* a voice channel of the test adapter */
} env;

static int v_init(void **state, const char *config, const char *creds)
{
  (void)config; (void)creds;
  *state = &g_voice_caps;
  return 0;
}
static void v_fini(void *state) { (void)state; }
static int v_build(void *state, const vc_call_outbound *call,
                   vc_http_out *req)
{
  (void)state; (void)call; (void)req;
  return 0;
}
static int v_parse(void *state, const vc_call_outbound *call,
                   const vc_http_response *res, vc_send_result *out)
{
  (void)state; (void)call; (void)res; (void)out;
  return 0;
}

/* Register "test-voice" with `caps` (read when a recording is made or
 * purged) and make a channel of it. */
static void env_open(env *e, uint64_t caps)
{
  static const uint8_t key[32] = { 9, 9, 9 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_adapter a;
  vc_channel *ch;
  vc_store *store;

  memset(e, 0, sizeof(*e));
  g_now = T0;
  g_voice_caps = caps;
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("c.db"), NULL));
  mk.key = key;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = env_clock;
  o.random_seed = 5;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  e->tid = vc_tenant_id(e->t);
  memset(&a, 0, sizeof(a));
  a.version = VC_ADAPTER_VERSION;
  a.name = "test-voice";
  a.kind = VC_CHANNEL_VOICE;
  a.capabilities = caps;
  a.init = v_init;
  a.fini = v_fini;
  a.build_call = v_build;
  a.parse_call = v_parse;
  CHECK_OK(vc_adapter_register(e->ctx, &a));
  cs.name = "voice";
  cs.provider = "test-voice";
  cs.sender = "+15550001111";
  CHECK_OK(vc_channel_new(&ch, e->t, &cs));
  snprintf(e->voice, sizeof(e->voice), "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

static vc__db *env_db(env *e)
{
  vc__db *db;

  CHECK_OK(vc__db_acquire(&db, e->ctx->store));
  return db;
}

/* A call row as the call core stores it. */
static void env_call(env *e, vc_tenant *t, const char *customer,
                     int record_mode, char id[VC_ID_SIZE])
{
  vc__db *db = env_db(e);

  CHECK_OK(vc__new_id(e->ctx, id));
  CHECK_OK(vc__db_run(db,
    "INSERT INTO vc_call (tenant_id, id, state, agent_number,"
    " customer_number, channel_id, record_mode, content_hash,"
    " ring_timeout_s, time_limit_s, created_at, updated_at)"
    " VALUES (?1, ?2, 5, '+15550002222', ?3, ?4, ?5, 'h', 30, 14400, ?6,"
    " ?6)", "ttttii", vc_tenant_id(t), id, customer, e->voice,
    (int64_t)record_mode, g_now));
  vc__db_release(db);
}

/* The i-th timeline entry of a call other than a state change: 0 and
 * its type and detail, read through the public timeline. */
static int env_entry(env *e, const char *call_id, size_t i, char *type,
                     size_t tsize, char *detail, size_t dsize)
{
  vc_call_entry *en;
  vc_iter *it;
  size_t seen = 0;
  int rc = -1;

  CHECK_OK(vc_call_timeline(&it, e->t, call_id));
  while (rc < 0 && vc_call_entry_next(&en, it) == 0) {
    if (strcmp(vc_call_entry_type(en), "state") != 0 && seen++ == i) {
      snprintf(type, tsize, "%s", vc_call_entry_type(en));
      snprintf(detail, dsize, "%s", vc_call_entry_detail_json(en));
      rc = 0;
    }
    vc_call_entry_free(en);
  }
  vc_iter_free(it);
  return rc;
}

/* The i-th control request of the tenant (oldest first): 0 with its
 * call, op and argument. Each one is queued, with its call.control job
 * due now for the engine. */
static __attribute__((unused)) int env_control(env *e, size_t i,
                                               char *call_id, int *op,
                                               char *arg, size_t asize)
{
  vc__db *db = env_db(e);
  vc__stmt *s;
  int rc = -1;

  CHECK_OK(vc__db_query(&s, db,
    "SELECT c.call_id, c.op, COALESCE(c.arg, ''), c.status,"
    " (SELECT COUNT(*) FROM vc_job j WHERE j.tenant_id = c.tenant_id"
    "  AND j.kind = 'call.control' AND j.subject_id = c.id)"
    " FROM vc_call_control c WHERE c.tenant_id = ?1"
    " ORDER BY c.created_at, c.id LIMIT 1 OFFSET ?2", "ti", e->tid,
    (int64_t)i));
  if (vc__stmt_step(s) == VC_STORAGE_ROW) {
    snprintf(call_id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
    *op = (int)vc__stmt_int64(s, 1);
    snprintf(arg, asize, "%s", vc__stmt_text(s, 2));
    CHECK(vc__stmt_int64(s, 3) == 0);
    CHECK(vc__stmt_int64(s, 4) == 1);
    rc = 0;
  }
  vc__stmt_done(s);
  vc__db_release(db);
  return rc;
}

/* A string member of a JSON object text, "" when absent. */
static const char *json_field(char *buf, size_t size, const char *json,
                              const char *name)
{
  cJSON *d = cJSON_Parse(json);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, name);

  snprintf(buf, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
  cJSON_Delete(d);
  return buf;
}

static int64_t env_count(env *e, const char *sql)
{
  vc__db *db = env_db(e);
  vc__stmt *s;
  int64_t n = -1;

  CHECK_OK(vc__db_query(&s, db, sql, ""));
  if (vc__stmt_step(s) == VC_STORAGE_ROW)
    n = vc__stmt_int64(s, 0);
  vc__stmt_done(s);
  vc__db_release(db);
  return n;
}

#endif
