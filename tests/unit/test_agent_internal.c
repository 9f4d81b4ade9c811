/*
 * The agent hooks of src/call/hooks.h on a store, with an injected
 * clock: resolve, claim (one live call per agent, also under two
 * concurrent claims), the moves a call's states make (ringing, on_call,
 * wrap-up that ends by itself, back to the state before an unanswered
 * call), wrap-up across a restart through the agent.wrap_up job, the
 * figures of a period, the activity log, the agent.state events, and
 * tenant isolation. Calls are rows inserted with SQL: the call core is
 * not on this branch.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "call/hooks.h"
#include "store/db.h"
#include "harness.h"

#include <pthread.h>

#define T0 1700000000000LL
#define SEC 1000LL

static int64_t now_ms = T0;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return __atomic_load_n(&now_ms, __ATOMIC_SEQ_CST);
}

static void set_now(int64_t t)
{
  __atomic_store_n(&now_ms, t, __ATOMIC_SEQ_CST);
}

static vc_ctx *open_ctx(void)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("agents.db"), NULL));
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

static vc_agent *new_agent(vc_tenant *t, const char *name, int wrap_up_s)
{
  vc_agent_spec s = VC_AGENT_SPEC_INIT;
  vc_agent *a = NULL;

  s.name = name;
  s.number = "+14155550100";
  s.wrap_up_s = wrap_up_s;
  CHECK_OK(vc_agent_new(&a, t, &s));
  return a;
}

/* A call row, as the core would have stored it. */
static void new_call(vc_ctx *ctx, vc_tenant *t, const vc_agent *a,
                     char id[VC_ID_SIZE])
{
  vc__db *db;

  CHECK_OK(vc__new_id(ctx, id));
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__db_run(db,
                      "INSERT INTO vc_call (tenant_id, id, state, agent_id,"
                      " agent_number, customer_number, record_mode,"
                      " content_hash, ring_timeout_s, time_limit_s,"
                      " created_at, updated_at) VALUES (?1, ?2, 1, ?3,"
                      " '+14155550100', '+919800000001', 1, 'x', 30,"
                      " 14400, ?4, ?4)",
                      "ttti", vc_tenant_id(t), id, vc_agent_id(a),
                      test_clock(NULL)));
  vc__db_release(db);
}

static int claim(vc_ctx *ctx, const char *tenant_id, const char *agent_id,
                 const char *call_id)
{
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    rc = vc__agent_claim(db, ctx, tenant_id, agent_id, call_id,
                         test_clock(NULL));
    if (rc == 0)
      rc = vc__db_commit(db);
    else
      vc__db_rollback(db);
  }
  vc__db_release(db);
  return rc;
}

static int call_state(vc_ctx *ctx, const char *tenant_id,
                      const char *agent_id, const char *call_id, int state,
                      int64_t at)
{
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    rc = vc__agent_on_call_state(db, ctx, tenant_id, agent_id, call_id,
                                 state, at);
    if (rc == 0)
      rc = vc__db_commit(db);
    else
      vc__db_rollback(db);
  }
  vc__db_release(db);
  return rc;
}

/* A fresh snapshot's state. */
static int state_now(vc_agent *a)
{
  CHECK_OK(vc_agent_refresh(a));
  return vc_agent_state_of(a);
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

static void test_agent_internal__resolve(void)
{
  vc_ctx *ctx;
  vc_tenant *t, *u;
  vc_agent *a, *b;
  char id[VC_ID_SIZE], number[VC_CALL_ADDRESS_MAX + 1];
  vc_agent_spec s = VC_AGENT_SPEC_INIT;
  vc__db *db;

  set_now(T0);
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  u = new_tenant(ctx, "u");
  a = new_agent(t, "alice", -1);
  s.name = "bob";
  s.number = "sip:bob@pbx.example.com";
  CHECK_OK(vc_agent_new(&b, u, &s));
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__agent_resolve(db, vc_tenant_id(t), "alice", id, number));
  CHECK_STR(id, vc_agent_id(a));
  CHECK_STR(number, "+14155550100");
  CHECK_OK(vc__agent_resolve(db, vc_tenant_id(t), vc_agent_id(a), id,
                             number));
  CHECK_STR(id, vc_agent_id(a));
  CHECK_OK(vc__agent_resolve(db, vc_tenant_id(u), "bob", id, number));
  CHECK_STR(number, "sip:bob@pbx.example.com");
  /* Not across tenants, by name or by id. */
  CHECK_RC(vc__agent_resolve(db, vc_tenant_id(u), "alice", id, number),
           VC_ENOTFOUND);
  CHECK_RC(vc__agent_resolve(db, vc_tenant_id(u), vc_agent_id(a), id,
                             number), VC_ENOTFOUND);
  CHECK_RC(vc__agent_resolve(db, vc_tenant_id(t), "Not A Name", id, number),
           VC_ENOTFOUND);
  CHECK_RC(vc__agent_resolve(db, vc_tenant_id(t), NULL, id, number),
           VC_ENOTFOUND);
  vc__db_release(db);
  vc_agent_free(a);
  vc_agent_free(b);
  vc_tenant_free(t);
  vc_tenant_free(u);
  vc_ctx_free(ctx);
}

/* A whole answered call, then the wrap-up ending by itself. */
static void test_agent_internal__answered_call(void)
{
  char c1[VC_ID_SIZE];
  vc_agent_totals tot = VC_AGENT_TOTALS_INIT;
  vc_ctx *ctx;
  vc_tenant *t;
  vc_agent *a;
  const char *tid, *aid;

  set_now(T0);
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  a = new_agent(t, "alice", -1);
  tid = vc_tenant_id(t);
  aid = vc_agent_id(a);
  CHECK(vc_agent_wrap_up_seconds(a) == 30);
  set_now(T0 + 10 * SEC);
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
  set_now(T0 + 20 * SEC);
  new_call(ctx, t, a, c1);
  CHECK_OK(claim(ctx, tid, aid, c1));
  /* Claimed: the state waits for the phone to ring. */
  CHECK(state_now(a) == VC_AGENT_AVAILABLE);
  CHECK_STR(vc_agent_call_id(a), c1);
  CHECK_OK(call_state(ctx, tid, aid, c1, VC_CALL_INITIATED, T0 + 20 * SEC));
  CHECK(state_now(a) == VC_AGENT_AVAILABLE);
  CHECK_OK(call_state(ctx, tid, aid, c1, VC_CALL_AGENT_RINGING,
                      T0 + 22 * SEC));
  CHECK(state_now(a) == VC_AGENT_RINGING);
  CHECK(vc_agent_state_since(a) == T0 + 22 * SEC);
  CHECK_OK(call_state(ctx, tid, aid, c1, VC_CALL_AGENT_ANSWERED,
                      T0 + 25 * SEC));
  CHECK(state_now(a) == VC_AGENT_ON_CALL);
  CHECK_OK(call_state(ctx, tid, aid, c1, VC_CALL_CUSTOMER_RINGING,
                      T0 + 27 * SEC));
  CHECK_OK(call_state(ctx, tid, aid, c1, VC_CALL_BRIDGED, T0 + 30 * SEC));
  CHECK(state_now(a) == VC_AGENT_ON_CALL);
  CHECK(vc_agent_state_since(a) == T0 + 25 * SEC);
  /* No API move while on a call. */
  CHECK_RC(vc_agent_set_state(a, VC_AGENT_OFFLINE, NULL), VC_ESTATE);
  CHECK_RC(vc_agent_set_state(a, VC_AGENT_BREAK, "lunch"), VC_ESTATE);
  set_now(T0 + 91 * SEC);
  CHECK_OK(call_state(ctx, tid, aid, c1, VC_CALL_COMPLETED, T0 + 90 * SEC));
  CHECK(state_now(a) == VC_AGENT_WRAP_UP);
  CHECK(vc_agent_state_since(a) == T0 + 90 * SEC);
  CHECK(vc_agent_wrap_up_until(a) == T0 + 120 * SEC);
  CHECK_STR(vc_agent_call_id(a), "");
  /* A late update of the ended call changes nothing. */
  CHECK_OK(call_state(ctx, tid, aid, c1, VC_CALL_BRIDGED, T0 + 91 * SEC));
  CHECK(state_now(a) == VC_AGENT_WRAP_UP);
  /* Wrap-up is left through the API too; not here: let it run out. */
  set_now(T0 + 119 * SEC);
  CHECK(state_now(a) == VC_AGENT_WRAP_UP);
  set_now(T0 + 200 * SEC);
  /* Read as available from the end of the wrap-up, before any write. */
  CHECK(state_now(a) == VC_AGENT_AVAILABLE);
  CHECK(vc_agent_state_since(a) == T0 + 120 * SEC);
  CHECK(vc_agent_wrap_up_until(a) == 0);

  CHECK_OK(vc_agent_stats(&tot, a, T0, 0));
  CHECK(tot.calls == 1);
  CHECK(tot.answered_calls == 1);
  CHECK(tot.talk_ms == 60 * SEC);
  CHECK(tot.wrap_up_ms == 30 * SEC);
  CHECK(tot.offline_ms == 10 * SEC);
  CHECK(tot.idle_ms == 12 * SEC + 80 * SEC);
  CHECK(tot.on_call_ms == 68 * SEC);
  CHECK(tot.break_ms == 0);
  /* A window inside the call. */
  CHECK_OK(vc_agent_stats(&tot, a, T0 + 50 * SEC, T0 + 100 * SEC));
  CHECK(tot.calls == 0);
  CHECK(tot.talk_ms == 40 * SEC);
  CHECK(tot.on_call_ms == 40 * SEC);
  CHECK(tot.wrap_up_ms == 10 * SEC);
  CHECK(tot.idle_ms == 0);

  /* offline, available, ringing, on_call, wrap_up, available. */
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_event WHERE type ="
                   " 'agent.state' AND subject_id = ?1", aid) == 6);
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_agent_activity WHERE"
                   " agent_id = ?1 AND cause = 3 AND to_state = 2", aid)
        == 1);
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_event WHERE type ="
                   " 'agent.state' AND subject_id = ?1 AND payload LIKE"
                   " '%\"cause\":\"wrap_up\"%'", aid) == 1);
  vc_agent_free(a);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_agent_internal__one_call_at_a_time(void)
{
  char c1[VC_ID_SIZE], c2[VC_ID_SIZE];
  vc_ctx *ctx;
  vc_tenant *t, *u;
  vc_agent *a;

  set_now(T0);
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  u = new_tenant(ctx, "u");
  a = new_agent(t, "alice", 0);
  new_call(ctx, t, a, c1);
  new_call(ctx, t, a, c2);
  CHECK_OK(claim(ctx, vc_tenant_id(t), vc_agent_id(a), c1));
  CHECK_RC(claim(ctx, vc_tenant_id(t), vc_agent_id(a), c2), VC_EBUSY);
  CHECK(strstr(vc_error_last()->message, c1) != NULL);
  /* The same call again is not a second call. */
  CHECK_OK(claim(ctx, vc_tenant_id(t), vc_agent_id(a), c1));
  /* Another tenant cannot claim the agent. */
  CHECK_RC(claim(ctx, vc_tenant_id(u), vc_agent_id(a), c2), VC_ENOTFOUND);
  CHECK_RC(call_state(ctx, vc_tenant_id(u), vc_agent_id(a), c1,
                      VC_CALL_FAILED, T0), VC_ENOTFOUND);
  CHECK_OK(vc_agent_refresh(a));
  CHECK_STR(vc_agent_call_id(a), c1);
  /* Failed before anyone answered: back to offline, free again. */
  CHECK_OK(call_state(ctx, vc_tenant_id(t), vc_agent_id(a), c1,
                      VC_CALL_FAILED, T0 + SEC));
  CHECK(state_now(a) == VC_AGENT_OFFLINE);
  CHECK_OK(claim(ctx, vc_tenant_id(t), vc_agent_id(a), c2));
  CHECK_RC(claim(ctx, vc_tenant_id(t), vc_agent_id(a), c1), VC_EBUSY);
  CHECK_RC(claim(ctx, vc_tenant_id(t), vc_agent_id(a), ""), VC_EINVALID);
  CHECK_RC(call_state(ctx, vc_tenant_id(t), vc_agent_id(a), c2, 99, T0),
           VC_EINVALID);
  vc_agent_free(a);
  vc_tenant_free(t);
  vc_tenant_free(u);
  vc_ctx_free(ctx);
}

/* Two calls started at once on two connections: exactly one claims. */
typedef struct racer {
  vc_ctx *ctx;
  const char *tenant_id, *agent_id, *call_id;
  pthread_barrier_t *go;
  int rc;
} racer;

static void *race(void *p)
{
  racer *r = p;

  pthread_barrier_wait(r->go);
  r->rc = claim(r->ctx, r->tenant_id, r->agent_id, r->call_id);
  return NULL;
}

static void test_agent_internal__concurrent_claims(void)
{
  char calls[2][VC_ID_SIZE], name[16];
  pthread_barrier_t go;
  pthread_t th[2];
  racer r[2];
  vc_ctx *ctx;
  vc_tenant *t;

  set_now(T0);
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  for (int round = 0; round < 20; round++) {
    vc_agent *a;
    int won = 0, busy = 0;

    snprintf(name, sizeof(name), "a%d", round);
    a = new_agent(t, name, 0);
    pthread_barrier_init(&go, NULL, 2);
    for (int i = 0; i < 2; i++) {
      new_call(ctx, t, a, calls[i]);
      r[i] = (racer){ ctx, vc_tenant_id(t), vc_agent_id(a), calls[i], &go,
                      1 };
    }
    for (int i = 0; i < 2; i++)
      CHECK(pthread_create(&th[i], NULL, race, &r[i]) == 0);
    for (int i = 0; i < 2; i++)
      pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < 2; i++) {
      won += r[i].rc == 0;
      busy += r[i].rc == VC_EBUSY;
    }
    CHECK(won == 1 && busy == 1);
    CHECK_OK(vc_agent_refresh(a));
    CHECK_STR(vc_agent_call_id(a), r[0].rc == 0 ? calls[0] : calls[1]);
    CHECK(count(ctx, "SELECT COUNT(*) FROM vc_agent_call WHERE"
                     " agent_id = ?1", vc_agent_id(a)) == 1);
    vc_agent_free(a);
  }
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

/* Unanswered calls put the agent back where it was, with its reason. */
static void test_agent_internal__unanswered(void)
{
  char c1[VC_ID_SIZE], c2[VC_ID_SIZE], c3[VC_ID_SIZE];
  vc_ctx *ctx;
  vc_tenant *t;
  vc_agent *a;
  const char *tid, *aid;

  set_now(T0);
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  a = new_agent(t, "alice", 45);
  tid = vc_tenant_id(t);
  aid = vc_agent_id(a);
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_BREAK, "lunch"));
  new_call(ctx, t, a, c1);
  CHECK_OK(claim(ctx, tid, aid, c1));
  set_now(T0 + 5 * SEC);
  CHECK_OK(call_state(ctx, tid, aid, c1, VC_CALL_AGENT_RINGING, 0));
  CHECK(state_now(a) == VC_AGENT_RINGING);
  CHECK(vc_agent_state_since(a) == T0 + 5 * SEC);
  CHECK_OK(call_state(ctx, tid, aid, c1, VC_CALL_NO_ANSWER, T0 + 35 * SEC));
  CHECK(state_now(a) == VC_AGENT_BREAK);
  CHECK_STR(vc_agent_reason(a), "lunch");
  /* Ended before it even rang: nothing moved, nothing logged. */
  new_call(ctx, t, a, c2);
  CHECK_OK(claim(ctx, tid, aid, c2));
  CHECK_OK(call_state(ctx, tid, aid, c2, VC_CALL_CANCELED, T0 + 36 * SEC));
  CHECK(state_now(a) == VC_AGENT_BREAK);
  CHECK(vc_agent_state_since(a) == T0 + 35 * SEC);
  /* Answered by the agent, but the customer was busy: wrap-up. */
  new_call(ctx, t, a, c3);
  CHECK_OK(claim(ctx, tid, aid, c3));
  CHECK_OK(call_state(ctx, tid, aid, c3, VC_CALL_AGENT_ANSWERED,
                      T0 + 40 * SEC));
  CHECK_OK(call_state(ctx, tid, aid, c3, VC_CALL_BUSY, T0 + 50 * SEC));
  CHECK(state_now(a) == VC_AGENT_WRAP_UP);
  CHECK(vc_agent_wrap_up_until(a) == T0 + 95 * SEC);
  /* The API may end a wrap-up early. */
  set_now(T0 + 60 * SEC);
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
  CHECK(vc_agent_state_of(a) == VC_AGENT_AVAILABLE);
  CHECK(vc_agent_wrap_up_until(a) == 0);
  set_now(T0 + 200 * SEC);
  CHECK(state_now(a) == VC_AGENT_AVAILABLE);
  CHECK(vc_agent_state_since(a) == T0 + 60 * SEC);
  /* offline (the first), break, ringing, break, on_call, wrap_up,
   * available; four of them by calls. */
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_agent_activity WHERE"
                   " agent_id = ?1", aid) == 7);
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_agent_activity WHERE"
                   " agent_id = ?1 AND call_id IS NOT NULL", aid) == 4);
  vc_agent_free(a);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

/* A new call ends the wrap-up still running; wrap_up_s 0 has none. */
static void test_agent_internal__wrap_up_cut_short(void)
{
  char c1[VC_ID_SIZE], c2[VC_ID_SIZE];
  vc_ctx *ctx;
  vc_tenant *t;
  vc_agent *a, *z;
  const char *tid;

  set_now(T0);
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  tid = vc_tenant_id(t);
  a = new_agent(t, "alice", 30);
  z = new_agent(t, "zed", 0);
  new_call(ctx, t, a, c1);
  CHECK_OK(claim(ctx, tid, vc_agent_id(a), c1));
  CHECK_OK(call_state(ctx, tid, vc_agent_id(a), c1, VC_CALL_BRIDGED,
                      T0 + SEC));
  CHECK(state_now(a) == VC_AGENT_ON_CALL);
  CHECK_OK(call_state(ctx, tid, vc_agent_id(a), c1, VC_CALL_COMPLETED,
                      T0 + 10 * SEC));
  set_now(T0 + 15 * SEC);
  new_call(ctx, t, a, c2);
  CHECK_OK(claim(ctx, tid, vc_agent_id(a), c2));
  CHECK(state_now(a) == VC_AGENT_AVAILABLE);
  CHECK(vc_agent_state_since(a) == T0 + 15 * SEC);
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_agent_activity WHERE"
                   " agent_id = ?1 AND to_state = 2 AND cause = 2",
              vc_agent_id(a)) == 1);
  /* Its unanswered end goes back to available, not to wrap-up. */
  CHECK_OK(call_state(ctx, tid, vc_agent_id(a), c2, VC_CALL_FAILED,
                      T0 + 16 * SEC));
  CHECK(state_now(a) == VC_AGENT_AVAILABLE);

  new_call(ctx, t, z, c1);
  CHECK_OK(claim(ctx, tid, vc_agent_id(z), c1));
  CHECK_OK(call_state(ctx, tid, vc_agent_id(z), c1, VC_CALL_BRIDGED,
                      T0 + 16 * SEC));
  CHECK_OK(call_state(ctx, tid, vc_agent_id(z), c1, VC_CALL_COMPLETED,
                      T0 + 20 * SEC));
  CHECK(state_now(z) == VC_AGENT_AVAILABLE);
  CHECK(vc_agent_wrap_up_until(z) == 0);
  vc_agent_free(a);
  vc_agent_free(z);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

/* The wrap-up ends on time across a restart: the durable job writes it,
 * with the wrap-up's own end as its time. */
static void test_agent_internal__wrap_up_restart(void)
{
  char c1[VC_ID_SIZE], aid[VC_ID_SIZE];
  vc_ctx *ctx;
  vc_tenant *t;
  vc_agent *a;

  set_now(T0);
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  a = new_agent(t, "alice", 30);
  snprintf(aid, sizeof(aid), "%s", vc_agent_id(a));
  new_call(ctx, t, a, c1);
  CHECK_OK(claim(ctx, vc_tenant_id(t), aid, c1));
  CHECK_OK(call_state(ctx, vc_tenant_id(t), aid, c1, VC_CALL_BRIDGED,
                      T0 + SEC));
  CHECK_OK(call_state(ctx, vc_tenant_id(t), aid, c1, VC_CALL_COMPLETED,
                      T0 + 10 * SEC));
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_job WHERE kind ="
                   " 'agent.wrap_up' AND subject_id = ?1", aid) == 1);
  /* Not due yet: the engine leaves it. */
  CHECK(vc_ctx_run(ctx, 0) >= 0);
  CHECK(state_now(a) == VC_AGENT_WRAP_UP);
  vc_agent_free(a);
  vc_tenant_free(t);
  vc_ctx_free(ctx);

  set_now(T0 + 3600 * SEC);
  ctx = open_ctx();
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_agent_activity WHERE"
                   " agent_id = ?1 AND cause = 3", aid) == 0);
  for (int i = 0; i < 5 && count(ctx, "SELECT COUNT(*) FROM vc_job WHERE"
                                      " subject_id = ?1", aid) > 0; i++)
    CHECK(vc_ctx_run(ctx, 0) >= 0);
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_job WHERE subject_id = ?1",
              aid) == 0);
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_agent_activity WHERE"
                   " agent_id = ?1 AND cause = 3 AND to_state = 2 AND"
                   " at = 1700000040000", aid) == 1);
  CHECK(count(ctx, "SELECT state FROM vc_agent WHERE id = ?1", aid) ==
        VC_AGENT_AVAILABLE);
  CHECK(count(ctx, "SELECT wrap_until FROM vc_agent WHERE id = ?1", aid) ==
        0);
  vc_ctx_free(ctx);
}

VC_TESTS(
  VC_TEST(test_agent_internal__resolve),
  VC_TEST(test_agent_internal__answered_call),
  VC_TEST(test_agent_internal__one_call_at_a_time),
  VC_TEST(test_agent_internal__concurrent_claims),
  VC_TEST(test_agent_internal__unanswered),
  VC_TEST(test_agent_internal__wrap_up_cut_short),
  VC_TEST(test_agent_internal__wrap_up_restart),
)
