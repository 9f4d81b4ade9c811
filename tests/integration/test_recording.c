/*
 * Recording through the public API: the policy (every refusal, defaults,
 * replacement, isolation), and the purge, list and compliance report
 * over recordings stored with SQL as the recording hooks store them,
 * under an injected clock.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <sqlite3.h>

#define T0 1700000000000LL
#define DAY 86400000LL

static int64_t g_now = T0;
static int64_t test_clock(void *p) { (void)p; return g_now; }

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t, *other;
} env;

static void env_open(env *e)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;

  g_now = T0;
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("r.db"), NULL));
  o.store = store;
  o.clock_cb = test_clock;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  ts.slug = "other";
  CHECK_OK(vc_tenant_new(&e->other, e->ctx, &ts));
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_tenant_free(e->other);
  vc_ctx_free(e->ctx);
}

static void sql(const char *stmt)
{
  sqlite3 *db;

  CHECK(sqlite3_open(vc_test_path("r.db"), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  CHECK(sqlite3_exec(db, stmt, NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
}

static void test_recording__policy(void)
{
  vc_recording_policy_spec p;
  vc_recording_policy *got;
  char long_text[1100];
  env e;

  env_open(&e);
  CHECK_OK(vc_recording_policy_get(&got, e.t));
  CHECK(vc_recording_policy_mode(got) == VC_RECORD_OFF);
  CHECK_STR(vc_recording_policy_consent_text(got), "");
  CHECK_STR(vc_recording_policy_consent_language(got), "en-US");
  CHECK(vc_recording_policy_retention_days(got) == 0);
  CHECK(vc_recording_policy_updated_at(got) == 0);
  vc_recording_policy_free(got);
  /* Refusals. */
  CHECK_OK(vc_recording_policy_spec_init(&p, VC_RECORDING_POLICY_SPEC_VERSION));
  p.mode = VC_RECORD_DEFAULT;
  CHECK_RC(vc_recording_policy_set(e.t, &p), VC_EINVALID);
  p.mode = 7;
  CHECK_RC(vc_recording_policy_set(e.t, &p), VC_EINVALID);
  p.mode = VC_RECORD_ALWAYS;
  p.consent_text = "";
  CHECK_RC(vc_recording_policy_set(e.t, &p), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "needs a consent text") != NULL);
  p.consent_text = "line\nbreak";
  CHECK_RC(vc_recording_policy_set(e.t, &p), VC_EINVALID);
  memset(long_text, 'x', 1024);
  long_text[1024] = '\0';
  p.consent_text = long_text;
  CHECK_RC(vc_recording_policy_set(e.t, &p), VC_ETOOBIG);
  p.consent_text = "\xc3";
  CHECK_RC(vc_recording_policy_set(e.t, &p), VC_EENCODING);
  p.consent_text = NULL;
  p.consent_language = "en_US";
  CHECK_RC(vc_recording_policy_set(e.t, &p), VC_EINVALID);
  p.consent_language = NULL;
  p.retention_days = -1;
  CHECK_RC(vc_recording_policy_set(e.t, &p), VC_EINVALID);
  p.retention_days = VC_RECORDING_RETENTION_MAX + 1;
  CHECK_RC(vc_recording_policy_set(e.t, &p), VC_EINVALID);
  p.version = 9;
  CHECK_RC(vc_recording_policy_set(e.t, &p), VC_EVERSION);
  CHECK_OK(vc_recording_policy_get(&got, e.t));
  CHECK(vc_recording_policy_updated_at(got) == 0); /* nothing stored */
  vc_recording_policy_free(got);
  /* Always, with the default notice. */
  p.version = VC_RECORDING_POLICY_SPEC_VERSION;
  p.retention_days = 90;
  g_now = T0 + 5;
  CHECK_OK(vc_recording_policy_set(e.t, &p));
  CHECK_OK(vc_recording_policy_get(&got, e.t));
  CHECK(vc_recording_policy_mode(got) == VC_RECORD_ALWAYS);
  CHECK_STR(vc_recording_policy_consent_text(got),
            VC_RECORDING_DEFAULT_CONSENT);
  CHECK(vc_recording_policy_retention_days(got) == 90);
  CHECK(vc_recording_policy_updated_at(got) == T0 + 5);
  vc_recording_policy_free(got);
  /* Replaced: off may have no text; on demand with its own. */
  p.mode = VC_RECORD_OFF;
  p.consent_text = "";
  CHECK_OK(vc_recording_policy_set(e.t, &p));
  p.mode = VC_RECORD_ON_DEMAND;
  p.consent_text = "Esta llamada puede ser grabada.";
  p.consent_language = "es-419";
  p.retention_days = 0;
  CHECK_OK(vc_recording_policy_set(e.t, &p));
  CHECK_OK(vc_recording_policy_get(&got, e.t));
  CHECK(vc_recording_policy_mode(got) == VC_RECORD_ON_DEMAND);
  CHECK_STR(vc_recording_policy_consent_text(got),
            "Esta llamada puede ser grabada.");
  CHECK_STR(vc_recording_policy_consent_language(got), "es-419");
  vc_recording_policy_free(got);
  /* Not the other tenant's. */
  CHECK_OK(vc_recording_policy_get(&got, e.other));
  CHECK(vc_recording_policy_mode(got) == VC_RECORD_OFF);
  vc_recording_policy_free(got);
  env_close(&e);
}

static void test_recording__purge_report_list(void)
{
  char stmt[2048];
  vc_buf b = VC_BUF_INIT;
  vc_recording_filter f = VC_RECORDING_FILTER_INIT;
  vc_recording *r;
  vc_iter *it;
  int n;
  env e;

  env_open(&e);
  /* Two available recordings of one call (no channel: nothing can
   * delete them at a provider), one expiring on day 2, one kept. */
  snprintf(stmt, sizeof(stmt),
    "INSERT INTO vc_call (tenant_id, id, state, agent_number,"
    " customer_number, record_mode, content_hash, ring_timeout_s,"
    " time_limit_s, created_at, updated_at) VALUES ('%s',"
    " '01HCA770000000000000000001', 6, '+15550001', '+14155550199', 2, 'h',"
    " 30, 60, %lld, %lld);"
    "INSERT INTO vc_recording (tenant_id, id, call_id, provider_id, url,"
    " duration_s, consent, status, created_at, available_at, expires_at,"
    " updated_at) VALUES"
    " ('%s', '01HREC00000000000000000001', '01HCA770000000000000000001',"
    "  'RE1', 'https://rec.test/1', 42, 1, 2, %lld, %lld, %lld, %lld),"
    " ('%s', '01HREC00000000000000000002', '01HCA770000000000000000001',"
    "  'RE2', 'https://rec.test/2', 7, 1, 2, %lld, %lld, 0, %lld);",
    vc_tenant_id(e.t), T0, T0, vc_tenant_id(e.t), T0, T0, T0 + 2 * DAY, T0,
    vc_tenant_id(e.t), T0 + 1, T0 + 1, T0 + 1);
  sql(stmt);
  /* Another tenant purges nothing of this one's. */
  g_now = T0 + 10 * DAY;
  CHECK_OK(vc_recording_purge(&n, e.other));
  CHECK(n == 0);
  g_now = T0 + 2 * DAY - 1;
  CHECK_OK(vc_recording_purge(&n, e.t));
  CHECK(n == 0);
  g_now = T0 + 2 * DAY;
  CHECK_OK(vc_recording_purge(&n, e.t));
  CHECK(n == 1);
  CHECK_OK(vc_recording_lookup(&r, e.t, "01HREC00000000000000000001"));
  CHECK(vc_recording_status_of(r) == VC_RECORDING_STATUS_PURGED);
  CHECK(vc_recording_purge_kind(r) == VC_RECORDING_PURGE_LOCAL);
  CHECK(vc_recording_purged_at(r) == T0 + 2 * DAY);
  CHECK_STR(vc_recording_url(r), "");
  CHECK_STR(vc_recording_status_name(vc_recording_status_of(r)), "purged");
  vc_recording_free(r);
  CHECK_RC(vc_recording_lookup(&r, e.other, "01HREC00000000000000000001"),
           VC_ENOTFOUND);
  /* List with filters. */
  f.status = VC_RECORDING_STATUS_AVAILABLE;
  CHECK_OK(vc_recording_list(&it, e.t, &f));
  CHECK_OK(vc_recording_next(&r, it));
  CHECK_STR(vc_recording_id(r), "01HREC00000000000000000002");
  CHECK_STR(vc_recording_url(r), "https://rec.test/2");
  vc_recording_free(r);
  CHECK_RC(vc_recording_next(&r, it), VC_ITEROVER);
  vc_iter_free(it);
  f.status = 0;
  f.call_id = "01HCA770000000000000000001";
  f.since = T0 + 1;
  CHECK_OK(vc_recording_list(&it, e.t, &f));
  CHECK_OK(vc_recording_next(&r, it));
  CHECK_STR(vc_recording_id(r), "01HREC00000000000000000002");
  vc_recording_free(r);
  CHECK_RC(vc_recording_next(&r, it), VC_ITEROVER);
  vc_iter_free(it);
  f.call_id = "bad";
  CHECK_RC(vc_recording_list(&it, e.t, &f), VC_EINVALID);
  f.call_id = NULL;
  f.status = 99;
  CHECK_RC(vc_recording_list(&it, e.t, &f), VC_EINVALID);
  /* The report of day 2: what was purged then. */
  CHECK_OK(vc_recording_report(&b, e.t, T0 + 2 * DAY, T0 + 3 * DAY,
                               VC_RECORDING_REPORT_CSV));
  snprintf(stmt, sizeof(stmt),
    "recording_id,call_id,customer_number,consent,provider_recording_id,"
    "channel_id,duration_s,status,recorded_at,available_at,expires_at,"
    "purged_at,purge\r\n"
    "\"01HREC00000000000000000001\",\"01HCA770000000000000000001\","
    "\"+14155550199\",1,\"RE1\",\"\",42,purged,2023-11-14T22:13:20.000Z,"
    "2023-11-14T22:13:20.000Z,2023-11-16T22:13:20.000Z,"
    "2023-11-16T22:13:20.000Z,local\r\n");
  CHECK_STR(b.ptr, stmt);
  vc_buf_dispose(&b);
  CHECK_OK(vc_recording_report(&b, e.other, 0, 0, VC_RECORDING_REPORT_CSV));
  CHECK(strchr(b.ptr, '\n') == b.ptr + strlen(b.ptr) - 1); /* header only */
  vc_buf_dispose(&b);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_recording__policy),
  VC_TEST(test_recording__purge_report_list),
)
