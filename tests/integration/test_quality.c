/*
 * Call quality through the public API (vc_call_quality_report and
 * vc_call_quality_get) on an SQLite file, with sqlite3 to insert the
 * call rows the call core would have stored (it is not on this branch)
 * and to look at the timeline: a host's figures with the MOS computed by
 * the E-model, a measured MOS that later figures do not replace, every
 * refusal of bad figures with nothing stored, the call.quality event and
 * the timeline entry, and isolation between tenants.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <math.h>
#include <sqlite3.h>

#define T0 1700000000000LL
#define NEAR(a, b, eps) (fabs((a) - (b)) < (eps))

static int64_t test_clock(void *payload)
{
  (void)payload;
  return T0;
}

static vc_ctx *open_ctx(void)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("quality.db"), NULL));
  o.store = store;
  o.clock_cb = test_clock;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  return ctx;
}

static vc_tenant *new_tenant(vc_ctx *ctx, const char *slug)
{
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;

  s.slug = slug;
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  return t;
}

/* Run one statement on the file; with `out`, read one integer. */
static void sql(const char *text, int64_t *out)
{
  sqlite3 *db;
  sqlite3_stmt *st;

  CHECK(sqlite3_open(vc_test_path("quality.db"), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  CHECK(sqlite3_prepare_v2(db, text, -1, &st, NULL) == SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW && out != NULL)
    *out = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static void new_call(vc_tenant *t, const char *id)
{
  char text[512];

  snprintf(text, sizeof(text),
           "INSERT INTO vc_call (tenant_id, id, state, agent_number,"
           " customer_number, record_mode, content_hash, ring_timeout_s,"
           " time_limit_s, created_at, updated_at) VALUES ('%s', '%s', 6,"
           " '+14155550100', '+919800000001', 1, 'x', 30, 14400, %lld,"
           " %lld)", vc_tenant_id(t), id, (long long)T0, (long long)T0);
  sql(text, NULL);
}

#define CALL1 "01HZZZZZZZZZZZZZZZZZZZZZZ1"
#define CALL2 "01HZZZZZZZZZZZZZZZZZZZZZZ2"

static int reports_of(const char *call_id)
{
  char text[160];
  int64_t n = -1;

  snprintf(text, sizeof(text), "SELECT COALESCE(SUM(reports), 0) FROM"
           " vc_call_quality WHERE call_id = '%s'", call_id);
  sql(text, &n);
  return (int)n;
}

static void test_quality__host_report(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_call_quality m = VC_CALL_QUALITY_INIT, q;
  const vc_event *e;
  int64_t n = 0;
  vc_iter *it;
  int events = 0;

  new_call(t, CALL1);
  CHECK_OK(vc_call_quality_init(&q, VC_CALL_QUALITY_VERSION));
  CHECK_RC(vc_call_quality_get(&q, t, CALL1), VC_ENOTFOUND);
  /* rtt 300, jitter 20, loss 2 %: Ta 210 ms, R 54.424929, MOS 2.808073
   * (computed independently with Python, see tests/unit/test_emodel.c). */
  m.jitter_ms = 20;
  m.packet_loss_pct = 2;
  m.rtt_ms = 300;
  m.measured_at = T0 - 60000;
  CHECK_OK(vc_call_quality_report(t, CALL1, &m));
  CHECK_OK(vc_call_quality_get(&q, t, CALL1));
  CHECK(q.version == VC_CALL_QUALITY_VERSION);
  CHECK(q.jitter_ms == 20 && q.jitter_source == VC_QUALITY_HOST);
  CHECK(q.packet_loss_pct == 2 && q.loss_source == VC_QUALITY_HOST);
  CHECK(q.rtt_ms == 300 && q.rtt_source == VC_QUALITY_HOST);
  CHECK(NEAR(q.mos, 2.808073, 1e-5));
  CHECK(q.mos_source == VC_QUALITY_COMPUTED);
  CHECK(NEAR(q.r_factor, 54.424929, 1e-5));
  CHECK(q.measured_at == T0 - 60000);
  CHECK(q.reports == 1);

  /* Only a loss figure: the MOS is computed again from the merge. */
  m = (vc_call_quality)VC_CALL_QUALITY_INIT;
  m.packet_loss_pct = 0;
  CHECK_OK(vc_call_quality_report(t, CALL1, &m));
  CHECK_OK(vc_call_quality_get(&q, t, CALL1));
  CHECK(q.packet_loss_pct == 0 && q.jitter_ms == 20 && q.rtt_ms == 300);
  CHECK(q.mos > 4.0 && q.mos_source == VC_QUALITY_COMPUTED);
  CHECK(q.measured_at == T0);
  /* A measured MOS wins, and later figures leave it. */
  m = (vc_call_quality)VC_CALL_QUALITY_INIT;
  m.mos = 3.9;
  CHECK_OK(vc_call_quality_report(t, CALL1, &m));
  m = (vc_call_quality)VC_CALL_QUALITY_INIT;
  m.jitter_ms = 80;
  CHECK_OK(vc_call_quality_report(t, CALL1, &m));
  CHECK_OK(vc_call_quality_get(&q, t, CALL1));
  CHECK(q.mos == 3.9 && q.mos_source == VC_QUALITY_HOST);
  CHECK(q.r_factor == VC_QUALITY_UNKNOWN);
  CHECK(q.jitter_ms == 80);
  CHECK(q.reports == 4);

  /* The timeline and the events, one per report. */
  sql("SELECT COUNT(*) FROM vc_call_event WHERE call_id = '" CALL1 "'"
      " AND type = 'quality'", &n);
  CHECK(n == 4);
  sql("SELECT occurred_at FROM vc_call_event WHERE call_id = '" CALL1 "'"
      " AND seq = 1", &n);
  CHECK(n == T0 - 60000);
  CHECK_OK(vc_events_since(&it, t, 0));
  while (vc_event_next(&e, it) == 0) {
    if (strcmp(e->type, "call.quality") != 0)
      continue;
    CHECK_STR(e->subject_id, CALL1);
    if (++events == 1)
      CHECK(strstr(e->payload_json, "\"jitter_ms\":20,\"packet_loss_pct\":2,"
                                    "\"rtt_ms\":300,\"mos\":2.80") != NULL &&
            strstr(e->payload_json, "\"mos_source\":\"computed\"") != NULL &&
            strstr(e->payload_json, "\"source\":\"host\"") != NULL);
  }
  vc_iter_free(it);
  CHECK(events == 4);
  CHECK_STR(vc_quality_source_name(VC_QUALITY_PROVIDER), "provider");
  CHECK_STR(vc_quality_source_name(VC_QUALITY_COMPUTED), "computed");
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_quality__refused(void)
{
  static const double bad[][4] = {
    /* jitter, loss, rtt, mos */
    { -5, 1, 1, -1 },
    { 1, -0.5, 1, -1 },
    { 1, 1, -2, -1 },
    { 1, 1, 1, -3 },
    { NAN, 1, 1, -1 },
    { 1, NAN, 1, -1 },
    { 1, 1, NAN, -1 },
    { 1, 1, 1, NAN },
    { INFINITY, 1, 1, -1 },
    { 10001, 1, 1, -1 },
    { 1, 100.5, 1, -1 },
    { 1, 1, 60001, -1 },
    { 1, 1, 1, 5.5 },
    { 1, 1, 1, 0.5 },
    { -1, -1, -1, -1 },
  };
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_call_quality m = VC_CALL_QUALITY_INIT;

  new_call(t, CALL1);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    m.jitter_ms = bad[i][0];
    m.packet_loss_pct = bad[i][1];
    m.rtt_ms = bad[i][2];
    m.mos = bad[i][3];
    if (vc_call_quality_report(t, CALL1, &m) != VC_EINVALID) {
      fprintf(stderr, "  case %zu accepted\n", i);
      CHECK(0);
    }
  }
  m = (vc_call_quality)VC_CALL_QUALITY_INIT;
  m.jitter_ms = 1;
  m.measured_at = -1;
  CHECK_RC(vc_call_quality_report(t, CALL1, &m), VC_EINVALID);
  m.measured_at = 0;
  m.version = 0;
  CHECK_RC(vc_call_quality_report(t, CALL1, &m), VC_EVERSION);
  m.version = VC_CALL_QUALITY_VERSION;
  CHECK_RC(vc_call_quality_report(t, CALL1, NULL), VC_EINVALID);
  CHECK_RC(vc_call_quality_report(t, CALL2, &m), VC_ENOTFOUND);
  CHECK_RC(vc_call_quality_report(t, "not-an-id", &m), VC_ENOTFOUND);
  CHECK_RC(vc_call_quality_report(t, NULL, &m), VC_ENOTFOUND);
  CHECK(reports_of(CALL1) == 0);
  /* The bounds themselves are fine. */
  m.jitter_ms = VC_QUALITY_JITTER_MAX;
  m.packet_loss_pct = 100;
  m.rtt_ms = VC_QUALITY_RTT_MAX;
  m.mos = -1;
  CHECK_OK(vc_call_quality_report(t, CALL1, &m));
  CHECK(reports_of(CALL1) == 1);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

/* One tenant cannot report on, or read, another's call. */
static void test_quality__tenant_isolation(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme"), *u = new_tenant(ctx, "umbrella");
  vc_call_quality m = VC_CALL_QUALITY_INIT, q = VC_CALL_QUALITY_INIT;
  const vc_event *e;
  vc_iter *it;

  new_call(t, CALL1);
  m.rtt_ms = 50;
  CHECK_RC(vc_call_quality_report(u, CALL1, &m), VC_ENOTFOUND);
  CHECK(reports_of(CALL1) == 0);
  CHECK_OK(vc_call_quality_report(t, CALL1, &m));
  CHECK_RC(vc_call_quality_get(&q, u, CALL1), VC_ENOTFOUND);
  CHECK_OK(vc_call_quality_get(&q, t, CALL1));
  CHECK(q.rtt_ms == 50 && q.reports == 1);
  CHECK_OK(vc_events_since(&it, u, 0));
  while (vc_event_next(&e, it) == 0)
    CHECK(strcmp(e->type, "call.quality") != 0);
  vc_iter_free(it);
  vc_tenant_free(t);
  vc_tenant_free(u);
  vc_ctx_free(ctx);
}

VC_TESTS(
  VC_TEST(test_quality__host_report),
  VC_TEST(test_quality__refused),
  VC_TEST(test_quality__tenant_isolation),
)
