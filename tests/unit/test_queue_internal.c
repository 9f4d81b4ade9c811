/*
 * The inbound internals on a store, with an injected clock: routing a
 * called number to its tenant (unknown numbers refused and logged
 * without the number), agent selection by each strategy (longest idle
 * as agents finish calls, round robin rotating past unavailable
 * members, skills, ring all), wrap-up honoured, offline and break
 * agents never picked, no agent as a result and not an error, the
 * waiting line with its maximum wait and overflow decision, tenant
 * isolation; and several threads in two processes picking agents for
 * one queue's calls at once: never two live calls for one agent, never
 * one call picked twice. Calls are ids only: the claim and the agent's
 * moves need no call row.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "call/hooks.h"
#include "call/agent.h"
#include "call/number.h"
#include "call/queue.h"
#include "store/db.h"
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define T0 1700000000000LL
#define SEC 1000LL

/* The clock: a value the test sets, or (ticking) a counter shared with
 * a forked child that moves one ms per reading, so that times taken
 * inside transactions order them across threads and processes. */
static int64_t own_clock = T0;
static int64_t *clock_at = &own_clock;
static int ticking;

static int64_t test_clock(void *payload)
{
  (void)payload;
  if (__atomic_load_n(&ticking, __ATOMIC_SEQ_CST))
    return __atomic_add_fetch(clock_at, 1, __ATOMIC_SEQ_CST);
  return __atomic_load_n(clock_at, __ATOMIC_SEQ_CST);
}

static void set_now(int64_t t)
{
  __atomic_store_n(clock_at, t, __ATOMIC_SEQ_CST);
}

static char log_seen[4096];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_cb(int level, const char *message, void *payload)
{
  size_t n;

  (void)level;
  (void)payload;
  pthread_mutex_lock(&log_lock);
  n = strlen(log_seen);
  snprintf(log_seen + n, sizeof(log_seen) - n, "%s\n", message);
  pthread_mutex_unlock(&log_lock);
}

static vc_ctx *open_ctx(void)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("inbound.db"), NULL));
  o.store = store;
  o.clock_cb = test_clock;
  o.log_cb = log_cb;
  o.log_level = VC_LOG_DEBUG;
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

/* An agent, available from now on. */
static vc_agent *new_agent(vc_tenant *t, const char *name, int wrap_up_s)
{
  vc_agent_spec s = VC_AGENT_SPEC_INIT;
  vc_agent *a = NULL;

  s.name = name;
  s.number = "+14155550100";
  s.wrap_up_s = wrap_up_s;
  CHECK_OK(vc_agent_new(&a, t, &s));
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
  return a;
}

static vc_queue *new_queue(vc_tenant *t, const char *name, int strategy)
{
  vc_queue_spec s = VC_QUEUE_SPEC_INIT;
  vc_queue *q = NULL;

  s.name = name;
  s.strategy = strategy;
  CHECK_OK(vc_queue_new(&q, t, &s));
  return q;
}

/* One pick in its own transaction (committed when it went through). */
static int pick(vc_ctx *ctx, const char *tenant_id, const char *queue_id,
                const char *call_id, const char *skills,
                char agent[VC_ID_SIZE])
{
  vc__db *db;
  int rc;

  agent[0] = '\0';
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    rc = vc__queue_pick(db, ctx, tenant_id, queue_id, call_id, skills,
                        test_clock(NULL), agent);
    if (rc == 0)
      rc = vc__db_commit(db);
    else
      vc__db_rollback(db);
  }
  vc__db_release(db);
  return rc;
}

/* A pick for a new call id; the agent's name, "" for none. */
static const char *pick_name(vc_ctx *ctx, vc_tenant *t, vc_queue *q,
                             const char *skills, char call[VC_ID_SIZE])
{
  static char name[VC_AGENT_NAME_MAX + 1];
  char agent[VC_ID_SIZE];
  vc_agent *a;

  CHECK_OK(vc__new_id(ctx, call));
  CHECK_OK(pick(ctx, vc_tenant_id(t), vc_queue_id(q), call, skills, agent));
  name[0] = '\0';
  if (agent[0] != '\0') {
    CHECK_OK(vc_agent_lookup(&a, t, agent));
    snprintf(name, sizeof(name), "%s", vc_agent_name(a));
    CHECK_STR(vc_agent_call_id(a), call);
    vc_agent_free(a);
  }
  return name;
}

static int call_state(vc_ctx *ctx, const char *tenant_id,
                      const char *agent_id, const char *call_id, int state)
{
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    rc = vc__agent_on_call_state(db, ctx, tenant_id, agent_id, call_id,
                                 state, test_clock(NULL));
    if (rc == 0)
      rc = vc__db_commit(db);
    else
      vc__db_rollback(db);
  }
  vc__db_release(db);
  return rc;
}

/* The agent named `name` answers its call, which then ends. */
static void finish(vc_ctx *ctx, vc_tenant *t, const char *name)
{
  char call[VC_ID_SIZE];
  vc_agent *a;

  CHECK_OK(vc_agent_lookup(&a, t, name));
  snprintf(call, sizeof(call), "%s", vc_agent_call_id(a));
  CHECK(call[0] != '\0');
  CHECK_OK(call_state(ctx, vc_tenant_id(t), vc_agent_id(a), call,
                      VC_CALL_AGENT_ANSWERED));
  CHECK_OK(call_state(ctx, vc_tenant_id(t), vc_agent_id(a), call,
                      VC_CALL_COMPLETED));
  vc_agent_free(a);
}

static void test_queue_internal__longest_idle(void)
{
  char call[VC_ID_SIZE];
  vc_agent *a[3];
  vc_ctx *ctx;
  vc_tenant *t;
  vc_queue *q;

  set_now(T0);
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  q = new_queue(t, "support", VC_QUEUE_LONGEST_IDLE);
  /* Added in one order, available in another: idle time decides. */
  for (int i = 0; i < 3; i++) {
    static const char *const names[] = { "c", "a", "b" };

    set_now(T0 + i * SEC);
    a[i] = new_agent(t, names[i], 0);
    CHECK_OK(vc_queue_member_add(q, names[i], NULL));
  }
  set_now(T0 + 10 * SEC);
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "c");
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "a");
  /* a finishes first, then c: b has now waited longest, then a. */
  set_now(T0 + 20 * SEC);
  finish(ctx, t, "a");
  set_now(T0 + 30 * SEC);
  finish(ctx, t, "c");
  set_now(T0 + 40 * SEC);
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "b");
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "a");
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "c");
  /* Everyone busy: no agent, and that is not an error. */
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "");
  for (int i = 0; i < 3; i++)
    vc_agent_free(a[i]);
  vc_queue_free(q);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_queue_internal__round_robin(void)
{
  char call[VC_ID_SIZE];
  vc_agent *a[3];
  vc_ctx *ctx;
  vc_tenant *t;
  vc_queue *q;

  set_now(T0);
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  q = new_queue(t, "support", VC_QUEUE_ROUND_ROBIN);
  for (int i = 0; i < 3; i++) {
    static const char *const names[] = { "a", "b", "c" };

    /* c has been idle longest: round robin does not care. */
    set_now(T0 + (3 - i) * SEC);
    a[i] = new_agent(t, names[i], 0);
    CHECK_OK(vc_queue_member_add(q, names[i], NULL));
  }
  set_now(T0 + 10 * SEC);
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "a");
  finish(ctx, t, "a");
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "b");
  finish(ctx, t, "b");
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "c");
  finish(ctx, t, "c");
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "a");
  finish(ctx, t, "a");
  /* b on a break is skipped; the rotation goes on from c. */
  CHECK_OK(vc_agent_set_state(a[1], VC_AGENT_BREAK, "lunch"));
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "c");
  /* c holds its call: a is next, then nobody. */
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "a");
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "");
  finish(ctx, t, "c");
  finish(ctx, t, "a");
  CHECK_OK(vc_agent_set_state(a[1], VC_AGENT_AVAILABLE, NULL));
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "b");
  /* A member removed leaves the rotation. */
  CHECK_OK(vc_queue_member_remove(q, "c"));
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "a");
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "");
  for (int i = 0; i < 3; i++)
    vc_agent_free(a[i]);
  vc_queue_free(q);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_queue_internal__skills(void)
{
  char call[VC_ID_SIZE], agent[VC_ID_SIZE];
  vc_agent *a[3];
  vc_ctx *ctx;
  vc_tenant *t;
  vc_queue *q;

  set_now(T0);
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  q = new_queue(t, "support", VC_QUEUE_BY_SKILL);
  a[0] = new_agent(t, "asha", 0);
  CHECK_OK(vc_queue_member_add(q, "asha", "billing"));
  set_now(T0 + SEC);
  a[1] = new_agent(t, "bala", 0);
  CHECK_OK(vc_queue_member_add(q, "bala", "hindi,billing"));
  set_now(T0 + 2 * SEC);
  a[2] = new_agent(t, "chen", 0);
  CHECK_OK(vc_queue_member_add(q, "chen", "hindi"));
  set_now(T0 + 10 * SEC);
  /* Every tag required, in any order; then longest idle. */
  CHECK_STR(pick_name(ctx, t, q, "billing,hindi", call), "bala");
  CHECK_STR(pick_name(ctx, t, q, "hindi", call), "chen");
  CHECK_STR(pick_name(ctx, t, q, "hindi", call), "");
  CHECK_STR(pick_name(ctx, t, q, "tamil", call), "");
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "asha");
  CHECK_OK(vc__new_id(ctx, call));
  CHECK_RC(pick(ctx, vc_tenant_id(t), vc_queue_id(q), call, "Hindi", agent),
           VC_EINVALID);
  CHECK_RC(pick(ctx, vc_tenant_id(t), vc_queue_id(q), call, "a,,b", agent),
           VC_EINVALID);
  for (int i = 0; i < 3; i++)
    vc_agent_free(a[i]);
  vc_queue_free(q);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_queue_internal__ring_all(void)
{
  char ids[VC__QUEUE_RING_MAX][VC_ID_SIZE], call[VC_ID_SIZE];
  vc_agent *a[4];
  size_t n = 0;
  vc_ctx *ctx;
  vc_tenant *t;
  vc_queue *q;
  vc__db *db;

  set_now(T0);
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  q = new_queue(t, "all", VC_QUEUE_RING_ALL);
  for (int i = 0; i < 4; i++) {
    static const char *const names[] = { "a", "b", "c", "d" };

    set_now(T0 + (4 - i) * SEC);
    a[i] = new_agent(t, names[i], 0);
    CHECK_OK(vc_queue_member_add(q, names[i], i == 1 ? "vip" : NULL));
  }
  set_now(T0 + 10 * SEC);
  CHECK_OK(vc_agent_set_state(a[2], VC_AGENT_OFFLINE, NULL));
  /* A ring-all queue still picks one, for a provider that rings one
   * leg at a time: the longest idle, d. */
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "d");
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__queue_ring_all(db, ctx, vc_tenant_id(t), vc_queue_id(q),
                              NULL, test_clock(NULL), ids,
                              VC__QUEUE_RING_MAX, &n));
  /* Available, holding no call, longest idle first: b, then a. */
  CHECK(n == 2);
  CHECK_STR(ids[0], vc_agent_id(a[1]));
  CHECK_STR(ids[1], vc_agent_id(a[0]));
  CHECK_OK(vc__queue_ring_all(db, ctx, vc_tenant_id(t), vc_queue_id(q),
                              "vip", test_clock(NULL), ids, 1, &n));
  CHECK(n == 1);
  CHECK_STR(ids[0], vc_agent_id(a[1]));
  /* Bounded by max. */
  CHECK_OK(vc__queue_ring_all(db, ctx, vc_tenant_id(t), vc_queue_id(q),
                              NULL, test_clock(NULL), ids, 1, &n));
  CHECK(n == 1);
  vc__db_release(db);
  /* Nothing was claimed. */
  CHECK_OK(vc_agent_refresh(a[0]));
  CHECK_STR(vc_agent_call_id(a[0]), "");
  CHECK_OK(vc_agent_refresh(a[1]));
  CHECK_STR(vc_agent_call_id(a[1]), "");
  for (int i = 0; i < 4; i++)
    vc_agent_free(a[i]);
  vc_queue_free(q);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

/* An agent in wrap-up is not picked until its wrap-up has passed;
 * offline and break agents never; a click-to-call's claim may still end
 * a wrap-up, a queue's may not. */
static void test_queue_internal__availability(void)
{
  char call[VC_ID_SIZE], agent[VC_ID_SIZE];
  vc_agent *w, *off, *brk;
  vc_ctx *ctx;
  vc_tenant *t;
  vc_queue *q, *empty;
  int64_t ended;

  set_now(T0);
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  q = new_queue(t, "support", VC_QUEUE_LONGEST_IDLE);
  empty = new_queue(t, "empty", VC_QUEUE_LONGEST_IDLE);
  w = new_agent(t, "wrapper", 30);
  off = new_agent(t, "offline", 0);
  brk = new_agent(t, "breaker", 0);
  CHECK_OK(vc_agent_set_state(off, VC_AGENT_OFFLINE, NULL));
  CHECK_OK(vc_agent_set_state(brk, VC_AGENT_BREAK, "coffee"));
  CHECK_OK(vc_queue_member_add(q, "wrapper", NULL));
  CHECK_OK(vc_queue_member_add(q, "offline", NULL));
  CHECK_OK(vc_queue_member_add(q, "breaker", NULL));

  set_now(T0 + SEC);
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "wrapper");
  set_now(T0 + 5 * SEC);
  finish(ctx, t, "wrapper");
  ended = T0 + 5 * SEC;
  CHECK_OK(vc_agent_refresh(w));
  CHECK(vc_agent_state_of(w) == VC_AGENT_WRAP_UP);
  set_now(ended + 30 * SEC - 1);
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "");
  /* A queue's claim refuses the agent in wrap-up outright. */
  CHECK_OK(vc__new_id(ctx, call));
  {
    vc__db *db;

    CHECK_OK(vc__db_acquire(&db, ctx->store));
    CHECK_OK(vc__db_begin(db));
    CHECK_RC(vc__agent_claim_available(db, ctx, vc_tenant_id(t),
                                       vc_agent_id(w), call,
                                       test_clock(NULL)), VC_EBUSY);
    CHECK_RC(vc__agent_claim_available(db, ctx, vc_tenant_id(t),
                                       vc_agent_id(brk), call,
                                       test_clock(NULL)), VC_EBUSY);
    vc__db_rollback(db);
    vc__db_release(db);
  }
  set_now(ended + 30 * SEC);
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "wrapper");
  CHECK_OK(vc_agent_refresh(off));
  CHECK(vc_agent_state_of(off) == VC_AGENT_OFFLINE);
  CHECK_STR(vc_agent_call_id(off), "");
  CHECK_OK(vc_agent_refresh(brk));
  CHECK_STR(vc_agent_call_id(brk), "");
  /* A queue without members, or without anyone available: no agent. */
  CHECK_STR(pick_name(ctx, t, empty, NULL, call), "");
  CHECK_STR(pick_name(ctx, t, q, NULL, call), "");
  /* An unknown queue is an error. */
  CHECK_RC(pick(ctx, vc_tenant_id(t), vc_agent_id(w), call, NULL, agent),
           VC_ENOTFOUND);
  CHECK_RC(pick(ctx, vc_tenant_id(t), vc_queue_id(q), "", NULL, agent),
           VC_EINVALID);
  vc_agent_free(w);
  vc_agent_free(off);
  vc_agent_free(brk);
  vc_queue_free(q);
  vc_queue_free(empty);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_queue_internal__waiting_and_overflow(void)
{
  char c1[VC_ID_SIZE], c2[VC_ID_SIZE], c3[VC_ID_SIZE], head[VC_ID_SIZE];
  char agent[VC_ID_SIZE];
  vc_queue_spec s = VC_QUEUE_SPEC_INIT;
  vc__queue_verdict v[4];
  const char *tid;
  vc_queue *q, *spill, *nolimit;
  vc_agent *a;
  vc_ctx *ctx;
  vc_tenant *t;
  vc__db *db;
  size_t n;
  int pos;

  set_now(T0);
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  tid = vc_tenant_id(t);
  spill = new_queue(t, "spill", VC_QUEUE_LONGEST_IDLE);
  nolimit = new_queue(t, "nolimit", VC_QUEUE_LONGEST_IDLE);
  s.name = "front";
  s.max_wait_s = 60;
  s.overflow_kind = VC_QUEUE_OVERFLOW_QUEUE;
  s.overflow_target = "spill";
  CHECK_OK(vc_queue_new(&q, t, &s));
  CHECK_OK(vc__new_id(ctx, c1));
  CHECK_OK(vc__new_id(ctx, c2));
  CHECK_OK(vc__new_id(ctx, c3));
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__queue_head(db, tid, vc_queue_id(q), head));
  CHECK_STR(head, "");
  CHECK_OK(vc__queue_enqueue(db, ctx, tid, vc_queue_id(q), c1, T0, &pos));
  CHECK(pos == 1);
  CHECK_OK(vc__queue_enqueue(db, ctx, tid, vc_queue_id(q), c2, T0 + SEC,
                             &pos));
  CHECK(pos == 2);
  /* Again: the same place. Elsewhere: refused. */
  CHECK_OK(vc__queue_enqueue(db, ctx, tid, vc_queue_id(q), c1, T0 + 2 * SEC,
                             &pos));
  CHECK(pos == 1);
  CHECK_RC(vc__queue_enqueue(db, ctx, tid, vc_queue_id(spill), c1, T0,
                             &pos), VC_ESTATE);
  CHECK_RC(vc__queue_enqueue(db, ctx, tid, c3, c3, T0, &pos),
           VC_ENOTFOUND);                             /* no such queue */
  CHECK_OK(vc__queue_head(db, tid, vc_queue_id(q), head));
  CHECK_STR(head, c1);

  /* Before the maximum wait: keep waiting. */
  CHECK_OK(vc__queue_overflow_decide(db, tid, vc_queue_id(q), c1,
                                     T0 + 59 * SEC, &v[0]));
  CHECK(v[0].due == 0 && v[0].waited_ms == 59 * SEC);
  /* At it: overflow to the spill queue. */
  CHECK_OK(vc__queue_overflow_decide(db, tid, vc_queue_id(q), c1,
                                     T0 + 60 * SEC, &v[0]));
  CHECK(v[0].due == 1);
  CHECK(v[0].kind == VC_QUEUE_OVERFLOW_QUEUE);
  CHECK_STR(v[0].target, vc_queue_id(spill));
  CHECK_OK(vc__queue_position(db, tid, vc_queue_id(q), c1, &pos));
  CHECK(pos == 1);
  /* Expiry takes c1 (due at T0+60s), not c2 (due at T0+61s). */
  CHECK_OK(vc__queue_expire(db, tid, vc_queue_id(q), T0 + 60500, v, 4, &n));
  CHECK(n == 1);
  CHECK_STR(v[0].call_id, c1);
  CHECK(v[0].due == 1 && v[0].kind == VC_QUEUE_OVERFLOW_QUEUE);
  CHECK_RC(vc__queue_position(db, tid, vc_queue_id(q), c1, &pos),
           VC_ENOTFOUND);
  CHECK_OK(vc__queue_position(db, tid, vc_queue_id(q), c2, &pos));
  CHECK(pos == 1);
  /* Now c1 may wait in the spill queue. */
  CHECK_OK(vc__queue_enqueue(db, ctx, tid, vc_queue_id(spill), c1,
                             T0 + 60500, &pos));
  CHECK(pos == 1);
  CHECK_OK(vc__queue_dequeue(db, tid, vc_queue_id(q), c2));
  CHECK_RC(vc__queue_dequeue(db, tid, vc_queue_id(q), c2), VC_ENOTFOUND);
  CHECK_RC(vc__queue_overflow_decide(db, tid, vc_queue_id(q), c2, T0, &v[0]),
           VC_ENOTFOUND);
  /* No limit: never due. */
  CHECK_OK(vc_queue_update(nolimit, &(vc_queue_spec){ VC_QUEUE_SPEC_VERSION,
           NULL, 0, 0, -1, 0, NULL, NULL }));
  CHECK_OK(vc__queue_enqueue(db, ctx, tid, vc_queue_id(nolimit), c3, T0,
                             &pos));
  CHECK_OK(vc__queue_overflow_decide(db, tid, vc_queue_id(nolimit), c3,
                                     T0 + 86400 * SEC, &v[0]));
  CHECK(v[0].due == 0 && v[0].kind == VC_QUEUE_OVERFLOW_HANGUP);
  CHECK_OK(vc__queue_expire(db, tid, vc_queue_id(nolimit), T0 + 86400 * SEC,
                            v, 4, &n));
  CHECK(n == 0);
  vc__db_release(db);
  /* Calls wait in it: the queue cannot be deleted. */
  CHECK_RC(vc_queue_delete(nolimit), VC_ESTATE);

  /* A pick takes the call out of the line. */
  set_now(T0 + 100 * SEC);
  a = new_agent(t, "ann", 0);
  CHECK_OK(vc_queue_member_add(nolimit, "ann", NULL));
  CHECK_OK(pick(ctx, tid, vc_queue_id(nolimit), c3, NULL, agent));
  CHECK_STR(agent, vc_agent_id(a));
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_RC(vc__queue_position(db, tid, vc_queue_id(nolimit), c3, &pos),
           VC_ENOTFOUND);
  vc__db_release(db);
  vc_agent_free(a);
  vc_queue_free(q);
  vc_queue_free(spill);
  vc_queue_free(nolimit);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_queue_internal__route(void)
{
  vc_number_spec ns = VC_NUMBER_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc__number_routing r;
  vc_channel *ch;
  vc_number *n;
  vc_queue *q;
  vc_ctx *ctx;
  vc_tenant *t, *u;
  vc__db *db;

  set_now(T0);
  log_seen[0] = '\0';
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  u = new_tenant(ctx, "u");
  cs.name = "voice";
  cs.provider = "sandbox-voice";
  cs.sender = "+14155550000";
  CHECK_OK(vc_channel_new(&ch, t, &cs));
  q = new_queue(t, "support", VC_QUEUE_LONGEST_IDLE);
  ns.number = "+91 44 1234 5678";
  ns.channel = "voice";
  ns.entry_kind = VC_NUMBER_ENTRY_QUEUE;
  ns.entry = "support";
  CHECK_OK(vc_number_new(&n, t, &ns));
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__number_route(db, ctx, "044-1234-5678", &r));
  CHECK_STR(r.tenant_id, vc_tenant_id(t));
  CHECK_STR(r.number_id, vc_number_id(n));
  CHECK_STR(r.channel_id, vc_channel_id(ch));
  CHECK(r.entry_kind == VC_NUMBER_ENTRY_QUEUE);
  CHECK_STR(r.entry_id, vc_queue_id(q));
  CHECK_OK(vc__number_route(db, ctx, "sip:+914412345678@sbc.example.net",
                            &r));
  CHECK_STR(r.tenant_id, vc_tenant_id(t));
  /* Unknown: refused, logged with the last four digits only. */
  CHECK_RC(vc__number_route(db, ctx, "+91 98765 43210", &r), VC_ENOTFOUND);
  CHECK(strstr(vc_error_last()->message, "3210") != NULL);
  CHECK(strstr(vc_error_last()->message, "9876543210") == NULL);
  CHECK(r.tenant_id[0] == '\0');
  CHECK(strstr(log_seen, "unknown number ending 3210") != NULL);
  CHECK(strstr(log_seen, "98765") == NULL);
  CHECK_RC(vc__number_route(db, ctx, "not a number", &r), VC_EINVALID);
  CHECK_RC(vc__number_route(db, ctx, NULL, &r), VC_EINVALID);
  vc__db_release(db);
  /* The other tenant's queue is not a queue of its. */
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  {
    char agent[VC_ID_SIZE], id[VC_ID_SIZE];
    int pos;

    CHECK_OK(vc__new_id(ctx, id));
    CHECK_RC(vc__queue_pick(db, ctx, vc_tenant_id(u), vc_queue_id(q), id,
                            NULL, T0, agent), VC_ENOTFOUND);
    CHECK_RC(vc__queue_enqueue(db, ctx, vc_tenant_id(u), vc_queue_id(q), id,
                               T0, &pos), VC_ENOTFOUND);
  }
  vc__db_release(db);
  /* A deleted number no longer routes. */
  CHECK_OK(vc_number_delete(n));
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_RC(vc__number_route(db, ctx, "+914412345678", &r), VC_ENOTFOUND);
  vc__db_release(db);
  vc_number_free(n);
  vc_channel_free(ch);
  vc_queue_free(q);
  vc_tenant_free(t);
  vc_tenant_free(u);
  vc_ctx_free(ctx);
}

/* ---- many pickers at once ------------------------------------------------ */

#define RACE_CALLS 150
#define RACE_AGENTS 3
#define RACE_THREADS 3

/* Shared with the forked child. */
typedef struct race_shared {
  int64_t clock;
  char tenant_id[VC_ID_SIZE];
  char queue_id[VC_ID_SIZE];
  char agents[RACE_AGENTS][VC_ID_SIZE];
  int busy[RACE_AGENTS];     /* 1 while a picker holds the agent */
  int double_booked, picked, errors;
} race_shared;

static race_shared *shared;

static int agent_index(const char *id)
{
  for (int i = 0; i < RACE_AGENTS; i++)
    if (strcmp(shared->agents[i], id) == 0)
      return i;
  return -1;
}

/* Take the first waiting call and pick an agent for it, in one
 * transaction. 1: picked; 0: no agent now; -1: the line is empty. */
static int take_one(vc_ctx *ctx, char call[VC_ID_SIZE],
                    char agent[VC_ID_SIZE])
{
  vc__db *db;
  int rc;

  if (vc__db_acquire(&db, ctx->store) < 0)
    return -2;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__queue_head(db, shared->tenant_id, shared->queue_id,
                           call)) < 0 || call[0] == '\0') {
    vc__db_rollback(db);
    rc = rc < 0 ? rc : -1;
    goto release;
  }
  rc = vc__queue_pick(db, ctx, shared->tenant_id, shared->queue_id, call,
                      NULL, test_clock(NULL), agent);
  if (rc == 0 && agent[0] != '\0') {
    rc = vc__db_commit(db) < 0 ? -2 : 1;
  } else {
    vc__db_rollback(db);
    rc = rc < 0 ? -2 : 0;
  }
release:
  vc__db_release(db);
  return rc;
}

static void *picker(void *p)
{
  vc_ctx *ctx = p;
  char call[VC_ID_SIZE], agent[VC_ID_SIZE];

  for (;;) {
    int rc = take_one(ctx, call, agent), i;

    if (rc == -1)
      break;
    if (rc < 0) {
      __atomic_add_fetch(&shared->errors, 1, __ATOMIC_SEQ_CST);
      break;
    }
    if (rc == 0) {
      sched_yield();
      continue;
    }
    if ((i = agent_index(agent)) < 0) {
      __atomic_add_fetch(&shared->errors, 1, __ATOMIC_SEQ_CST);
      break;
    }
    {
      int expect = 0;

      if (!__atomic_compare_exchange_n(&shared->busy[i], &expect, 1, 0,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        __atomic_add_fetch(&shared->double_booked, 1, __ATOMIC_SEQ_CST);
    }
    __atomic_add_fetch(&shared->picked, 1, __ATOMIC_SEQ_CST);
    usleep(200);                           /* the call */
    __atomic_store_n(&shared->busy[i], 0, __ATOMIC_SEQ_CST);
    if (call_state(ctx, shared->tenant_id, agent, call,
                   VC_CALL_AGENT_ANSWERED) < 0 ||
        call_state(ctx, shared->tenant_id, agent, call,
                   VC_CALL_COMPLETED) < 0) {
      __atomic_add_fetch(&shared->errors, 1, __ATOMIC_SEQ_CST);
      break;
    }
  }
  return NULL;
}

/* RACE_THREADS pickers, each with its own context on the store. */
static int run_pickers(void)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_ctx *ctxs[RACE_THREADS];
  pthread_t th[RACE_THREADS];
  int ok = 1;

  for (int i = 0; i < RACE_THREADS; i++) {
    vc_store *store = NULL;

    o.clock_cb = test_clock;
    if (vc_store_open_sqlite(&store, vc_test_path("inbound.db"), NULL) < 0)
      return 0;
    o.store = store;
    if (vc_ctx_new(&ctxs[i], &o) < 0)
      return 0;
  }
  for (int i = 0; i < RACE_THREADS; i++)
    ok &= pthread_create(&th[i], NULL, picker, ctxs[i]) == 0;
  for (int i = 0; i < RACE_THREADS; i++)
    pthread_join(th[i], NULL);
  for (int i = 0; i < RACE_THREADS; i++)
    vc_ctx_free(ctxs[i]);
  return ok;
}

static int64_t count(vc_ctx *ctx, const char *sql)
{
  vc__stmt *s;
  vc__db *db;
  int64_t n = -1;

  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__db_query(&s, db, sql, ""));
  if (vc__stmt_step(s) == VC_STORAGE_ROW)
    n = vc__stmt_int64(s, 0);
  vc__stmt_done(s);
  vc__db_release(db);
  return n;
}

static void test_queue_internal__concurrent_picks(void)
{
  vc_ctx *ctx;
  vc_tenant *t;
  vc_queue *q;
  vc__db *db;
  pid_t child;
  int status = 0;

  shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK(shared != MAP_FAILED);
  memset(shared, 0, sizeof(*shared));
  shared->clock = T0;
  clock_at = &shared->clock;
  ctx = open_ctx();
  t = new_tenant(ctx, "t");
  q = new_queue(t, "busy", VC_QUEUE_LONGEST_IDLE);
  snprintf(shared->tenant_id, VC_ID_SIZE, "%s", vc_tenant_id(t));
  snprintf(shared->queue_id, VC_ID_SIZE, "%s", vc_queue_id(q));
  for (int i = 0; i < RACE_AGENTS; i++) {
    char name[16];
    vc_agent *a;

    snprintf(name, sizeof(name), "a%d", i);
    a = new_agent(t, name, 0);
    snprintf(shared->agents[i], VC_ID_SIZE, "%s", vc_agent_id(a));
    CHECK_OK(vc_queue_member_add(q, name, NULL));
    vc_agent_free(a);
  }
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  for (int i = 0; i < RACE_CALLS; i++) {
    char call[VC_ID_SIZE];

    CHECK_OK(vc__new_id(ctx, call));
    CHECK_OK(vc__queue_enqueue(db, ctx, shared->tenant_id, shared->queue_id,
                               call, T0, NULL));
  }
  vc__db_release(db);
  vc_queue_free(q);
  vc_tenant_free(t);
  vc_ctx_free(ctx);

  /* No thread runs yet: fork, then both processes pick at once. */
  __atomic_store_n(&ticking, 1, __ATOMIC_SEQ_CST);
  child = fork();
  CHECK(child >= 0);
  if (child == 0)
    _exit(run_pickers() ? 0 : 3);
  CHECK(run_pickers());
  CHECK(waitpid(child, &status, 0) == child);
  __atomic_store_n(&ticking, 0, __ATOMIC_SEQ_CST);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK(shared->errors == 0);
  CHECK(shared->double_booked == 0);
  CHECK(shared->picked == RACE_CALLS);

  ctx = open_ctx();
  /* Every call picked once, the line empty, every claim ended. */
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_agent_call") == RACE_CALLS);
  CHECK(count(ctx, "SELECT COUNT(DISTINCT call_id) FROM vc_agent_call") ==
        RACE_CALLS);
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_queue_call") == 0);
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_agent_call WHERE ended_at = 0")
        == 0);
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_agent WHERE call_id IS NOT NULL")
        == 0);
  /* No agent's claims overlap: each call ended before the agent's next
   * was claimed (times from one clock across both processes). */
  CHECK(count(ctx, "SELECT COUNT(*) FROM vc_agent_call x JOIN vc_agent_call"
                   " y ON y.tenant_id = x.tenant_id AND y.agent_id ="
                   " x.agent_id AND y.call_id <> x.call_id"
                   " WHERE x.claimed_at <= y.claimed_at"
                   " AND y.claimed_at < x.ended_at") == 0);
  /* Every agent took calls. */
  CHECK(count(ctx, "SELECT COUNT(DISTINCT agent_id) FROM vc_agent_call") ==
        RACE_AGENTS);
  vc_ctx_free(ctx);
  clock_at = &own_clock;
  munmap(shared, sizeof(*shared));
  shared = NULL;
}

VC_TESTS(
  VC_TEST(test_queue_internal__longest_idle),
  VC_TEST(test_queue_internal__round_robin),
  VC_TEST(test_queue_internal__skills),
  VC_TEST(test_queue_internal__ring_all),
  VC_TEST(test_queue_internal__availability),
  VC_TEST(test_queue_internal__waiting_and_overflow),
  VC_TEST(test_queue_internal__route),
  VC_TEST(test_queue_internal__concurrent_picks),
)
