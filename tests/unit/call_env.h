/*
 * A context, a tenant, a voice channel and calls for the unit tests of
 * the call modules (IVR, recording), which run their hooks directly on a
 * store connection as the call core does.
 *
 * Timeline entries and control requests are read from the TEMPORARY
 * stand-ins of src/call/stub_ivr.c while they exist (weak references),
 * else from the store, where the call core keeps them.
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

void vc__stub_ivr_reset(void) __attribute__((weak));
int vc__stub_ivr_entry(size_t i, const char **call_id, const char **type,
                       const char **detail) __attribute__((weak));
int vc__stub_ivr_control(size_t i, const char **call_id, int *op,
                         const char **arg) __attribute__((weak));
void vc__stub_ivr_agent_add(const char *tenant_id, const char *id,
                            const char *name, const char *number)
  __attribute__((weak));

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
  if (vc__stub_ivr_reset)
    vc__stub_ivr_reset();
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

/* The i-th timeline entry of a call: 0 and its type and detail. */
static int env_entry(env *e, const char *call_id, size_t i, char *type,
                     size_t tsize, char *detail, size_t dsize)
{
  if (vc__stub_ivr_entry) {
    const char *c, *ty, *d;
    for (size_t k = 0, seen = 0; vc__stub_ivr_entry(k, &c, &ty, &d) == 0;
         k++)
      if (strcmp(c, call_id) == 0 && seen++ == i) {
        snprintf(type, tsize, "%s", ty);
        snprintf(detail, dsize, "%s", d);
        return 0;
      }
    return -1;
  } else {
    vc__db *db = env_db(e);
    vc__stmt *s;
    int rc = -1;
    CHECK_OK(vc__db_query(&s, db,
      "SELECT type, detail FROM vc_call_event WHERE tenant_id = ?1"
      " AND call_id = ?2 AND type <> 'state' ORDER BY seq LIMIT 1 OFFSET ?3",
      "tti", e->tid, call_id, (int64_t)i));
    if (vc__stmt_step(s) == VC_STORAGE_ROW) {
      snprintf(type, tsize, "%s", vc__stmt_text(s, 0));
      snprintf(detail, dsize, "%s", vc__stmt_text(s, 1));
      rc = 0;
    }
    vc__stmt_done(s);
    vc__db_release(db);
    return rc;
  }
}

/* The i-th control request: 0 with its call, op and argument. */
static __attribute__((unused)) int env_control(env *e, size_t i, char *call_id, int *op, char *arg,
                       size_t asize)
{
  if (vc__stub_ivr_control) {
    const char *c, *a;
    if (vc__stub_ivr_control(i, &c, op, &a) < 0)
      return -1;
    snprintf(call_id, VC_ID_SIZE, "%s", c);
    snprintf(arg, asize, "%s", a);
    return 0;
  } else {
    vc__db *db = env_db(e);
    vc__stmt *s;
    int rc = -1;
    CHECK_OK(vc__db_query(&s, db,
      "SELECT call_id, op, COALESCE(arg, '') FROM vc_call_control"
      " WHERE tenant_id = ?1 ORDER BY id LIMIT 1 OFFSET ?2", "ti", e->tid,
      (int64_t)i));
    if (vc__stmt_step(s) == VC_STORAGE_ROW) {
      snprintf(call_id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
      *op = (int)vc__stmt_int64(s, 1);
      snprintf(arg, asize, "%s", vc__stmt_text(s, 2));
      rc = 0;
    }
    vc__stmt_done(s);
    vc__db_release(db);
    return rc;
  }
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
