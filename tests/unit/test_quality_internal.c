/*
 * The quality hook of src/call/hooks.h (vc__quality_record) on a store:
 * a provider's figures with a MOS computed by the E-model, a provider's
 * own MOS kept, figures merged over reports, negative as unknown, bad
 * figures refused with nothing stored, the timeline entry and the
 * call.quality event in the caller's transaction, and tenant isolation.
 * Calls are rows inserted with SQL: the call core is not on this branch.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "call/hooks.h"
#include "store/db.h"
#include "harness.h"

#include <math.h>

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

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("q.db"), NULL));
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

static void new_call(vc_ctx *ctx, vc_tenant *t, char id[VC_ID_SIZE])
{
  vc__db *db;

  CHECK_OK(vc__new_id(ctx, id));
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__db_run(db,
                      "INSERT INTO vc_call (tenant_id, id, state,"
                      " agent_number, customer_number, record_mode,"
                      " content_hash, ring_timeout_s, time_limit_s,"
                      " created_at, updated_at) VALUES (?1, ?2, 5,"
                      " '+14155550100', '+919800000001', 1, 'x', 30,"
                      " 14400, ?3, ?3)",
                      "tti", vc_tenant_id(t), id, T0));
  vc__db_release(db);
}

static int record(vc_ctx *ctx, const char *tenant_id, const char *call_id,
                  double jitter, double loss, double rtt, double mos,
                  int64_t at, double *mos_out)
{
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    rc = vc__quality_record(db, ctx, tenant_id, call_id, jitter, loss, rtt,
                            mos, at, mos_out);
    if (rc == 0)
      rc = vc__db_commit(db);
    else
      vc__db_rollback(db);
  }
  vc__db_release(db);
  return rc;
}

static int64_t count(vc_ctx *ctx, const char *sql, const char *arg)
{
  vc__stmt *s;
  vc__db *db;
  int64_t n = -1;

  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__db_query(&s, db, sql, "t", arg));
  if (vc__stmt_step(s) == VC_STORAGE_ROW)
    n = vc__stmt_int64(s, 0);
  vc__stmt_done(s);
  vc__db_release(db);
  return n;
}

static void test_quality_internal__provider(void)
{
  vc_call_quality q = VC_CALL_QUALITY_INIT;
  char c1[VC_ID_SIZE], c2[VC_ID_SIZE];
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "t"), *u = new_tenant(ctx, "u");
  double mos = -1;

  new_call(ctx, t, c1);
  new_call(ctx, t, c2);
  /* rtt 100, jitter 10, loss 1 %: R 72.945633, MOS 3.731934 (the Python
   * computation quoted in test_emodel.c). */
  CHECK_OK(record(ctx, vc_tenant_id(t), c1, 10, 1, 100, -1, T0 - 5000,
                  &mos));
  CHECK(NEAR(mos, 3.731934, 1e-5));
  CHECK_OK(vc_call_quality_get(&q, t, c1));
  CHECK(q.jitter_ms == 10 && q.jitter_source == VC_QUALITY_PROVIDER);
  CHECK(q.packet_loss_pct == 1 && q.loss_source == VC_QUALITY_PROVIDER);
  CHECK(q.rtt_ms == 100 && q.rtt_source == VC_QUALITY_PROVIDER);
  CHECK(NEAR(q.mos, 3.731934, 1e-5));
  CHECK(q.mos_source == VC_QUALITY_COMPUTED);
  CHECK(NEAR(q.r_factor, 72.945633, 1e-5));
  CHECK(q.measured_at == T0 - 5000);
  CHECK(q.reports == 1);
  /* The timeline entry and the event, with the provider's time. */
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_call_event WHERE call_id = ?1"
                   " AND type = 'quality' AND occurred_at = 1699999995000"
                   " AND detail LIKE '%\"mos_source\":\"computed\"%'", c1)
        == 1);
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_event WHERE subject_id = ?1"
                   " AND type = 'call.quality'", c1) == 1);

  /* A provider's own MOS is kept as given; figures it left out stay
   * unknown (negative), and a later MOS-less report keeps it. */
  CHECK_OK(record(ctx, vc_tenant_id(t), c2, -1, -1, -1, 4.2, 0, &mos));
  CHECK(mos == 4.2);
  CHECK_OK(record(ctx, vc_tenant_id(t), c2, 30, -3, -1, -1, 0, &mos));
  CHECK(mos == 4.2);
  CHECK_OK(vc_call_quality_get(&q, t, c2));
  CHECK(q.mos == 4.2 && q.mos_source == VC_QUALITY_PROVIDER);
  CHECK(q.r_factor == -1.0);
  CHECK(q.jitter_ms == 30 && q.packet_loss_pct == -1.0 && q.rtt_ms == -1.0);
  CHECK(q.loss_source == VC_QUALITY_NONE);
  CHECK(q.reports == 2);
  CHECK(q.measured_at == T0);

  /* Refused, with nothing stored. */
  CHECK_RC(record(ctx, vc_tenant_id(t), c1, NAN, 1, 1, -1, 0, &mos),
           VC_EINVALID);
  CHECK(mos == 0);
  CHECK_RC(record(ctx, vc_tenant_id(t), c1, 1, 100.5, 1, -1, 0, NULL),
           VC_EINVALID);
  CHECK_RC(record(ctx, vc_tenant_id(t), c1, 1, 1, 1e9, -1, 0, NULL),
           VC_EINVALID);
  CHECK_RC(record(ctx, vc_tenant_id(t), c1, 1, 1, 1, 0.5, 0, NULL),
           VC_EINVALID);
  CHECK_RC(record(ctx, vc_tenant_id(t), c1, -1, -1, -1, -1, 0, NULL),
           VC_EINVALID);
  CHECK_OK(vc_call_quality_get(&q, t, c1));
  CHECK(q.reports == 1 && q.jitter_ms == 10);

  /* Another tenant's call is not found, and nothing is written. */
  CHECK_RC(record(ctx, vc_tenant_id(u), c1, 1, 1, 1, -1, 0, NULL),
           VC_ENOTFOUND);
  CHECK_RC(vc_call_quality_get(&q, u, c1), VC_ENOTFOUND);
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_call_quality WHERE"
                   " tenant_id = ?1", vc_tenant_id(u)) == 0);
  vc_tenant_free(t);
  vc_tenant_free(u);
  vc_ctx_free(ctx);
}

VC_TESTS(
  VC_TEST(test_quality_internal__provider),
)
