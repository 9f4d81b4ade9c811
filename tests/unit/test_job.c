/*
 * The durable job table and the engine over it, through the internals:
 * due times under an injected clock, retries (handler-chosen and machinery
 * backoff), unknown kinds, lease expiry, stale owners, concurrent claims.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/job.h"
#include "core/event.h"
#include "store/db.h"
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define T0 1700000000000LL /* the injected clock starts here */
#define LEASE_MS 10000

/* ---- the injected clock ------------------------------------------- */

static _Atomic int64_t g_now;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return atomic_load(&g_now);
}

static void advance(int64_t ms)
{
  atomic_fetch_add(&g_now, ms);
}

/* ---- the handler -------------------------------------------------- */

#define NBULK 500

static _Atomic int bulk_handled[NBULK];
static _Atomic int calls;            /* every call of echo() */
static _Atomic int64_t last_attempts;
static char last_subject[64];        /* single-threaded cases only */
static vc_ctx *expected_ctx;

/* Subjects: "ok..." finish; "retry" asks to run 5 s later once;
 * "fail" fails its machinery twice; "bulk-N" counts job N. */
static int echo(vc_ctx *ctx, const vc__job *job, vc__job_outcome *out)
{
  atomic_fetch_add(&calls, 1);
  atomic_store(&last_attempts, job->attempts);
  if (expected_ctx != NULL && ctx != expected_ctx)
    return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR, "wrong ctx");
  if (strncmp(job->subject_id, "bulk-", 5) == 0) {
    int i = atoi(job->subject_id + 5);
    if (i >= 0 && i < NBULK)
      atomic_fetch_add(&bulk_handled[i], 1);
    out->result = VC__JOB_DONE;
    return 0;
  }
  snprintf(last_subject, sizeof(last_subject), "%s", job->subject_id);
  if (strcmp(job->subject_id, "retry") == 0 && job->attempts == 1) {
    out->result = VC__JOB_RETRY;
    out->retry_at = vc__now(ctx) + 5000;
    snprintf(out->error, sizeof(out->error), "provider said try later");
    return 0;
  }
  if (strcmp(job->subject_id, "fail") == 0 && job->attempts <= 2)
    return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR,
                         "echo machinery broke (attempt %lld)",
                         (long long)job->attempts);
  out->result = VC__JOB_DONE;
  return 0;
}

static void reset_handler(void)
{
  for (int i = 0; i < NBULK; i++)
    atomic_store(&bulk_handled[i], 0);
  atomic_store(&calls, 0);
  atomic_store(&last_attempts, 0);
  last_subject[0] = '\0';
  expected_ctx = NULL;
}

/* ---- helpers ------------------------------------------------------ */

static char tenant_id[VC_ID_SIZE];

static vc_ctx *open_ctx(uint32_t claim_batch)
{
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;
  int rc;

  reset_handler();
  atomic_store(&g_now, T0);
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("job.db"), NULL));
  o.store = store;
  o.clock_cb = test_clock;
  o.lease_ms = LEASE_MS;
  o.claim_batch = claim_batch;
  rc = vc_ctx_new(&ctx, &o);
  if (rc != 0)
    vc_store_free(store);
  CHECK_OK(rc);
  /* Registering a kind after vc_ctx_new, before any engine runs. */
  CHECK_OK(vc__job_register(ctx, "test.echo", echo));
  expected_ctx = ctx;
  s.slug = "jobs";
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  snprintf(tenant_id, sizeof(tenant_id), "%s", vc_tenant_id(t));
  vc_tenant_free(t);
  return ctx;
}

/* Enqueue one job in its own transaction. */
static void enqueue(vc_ctx *ctx, const char *kind, const char *subject,
                    int64_t due_at, char id[VC_ID_SIZE])
{
  vc__db *db = NULL;

  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__db_begin(db));
  CHECK_OK(vc__job_enqueue(db, ctx, tenant_id, kind, subject, due_at, id));
  CHECK_OK(vc__db_commit(db));
  vc__db_release(db);
}

typedef struct job_row {
  int found;
  int64_t attempts, due_at, lease_until;
  char last_error[256];
  char lease_owner[64];
} job_row;

static job_row row_of(vc_ctx *ctx, const char *id)
{
  job_row r;
  vc__db *db = NULL;
  vc__stmt *s = NULL;
  int rc;

  memset(&r, 0, sizeof(r));
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  rc = vc__db_query(&s, db,
                    "SELECT attempts, last_error, due_at, lease_owner,"
                    " lease_until FROM vc_job WHERE tenant_id = ?1 AND"
                    " id = ?2", "tt", tenant_id, id);
  if (rc == 0) {
    if (vc__stmt_step(s) == VC_STORAGE_ROW) {
      const char *e = vc__stmt_text(s, 1), *o = vc__stmt_text(s, 3);
      r.found = 1;
      r.attempts = vc__stmt_int64(s, 0);
      r.due_at = vc__stmt_int64(s, 2);
      r.lease_until = vc__stmt_int64(s, 4);
      snprintf(r.last_error, sizeof(r.last_error), "%s", e ? e : "");
      snprintf(r.lease_owner, sizeof(r.lease_owner), "%s", o ? o : "");
    }
    vc__stmt_done(s);
  }
  vc__db_release(db);
  CHECK_OK(rc);
  return r;
}

static int64_t job_count(vc_ctx *ctx)
{
  vc__db *db = NULL;
  vc__stmt *s = NULL;
  int64_t n = -1;

  CHECK_OK(vc__db_acquire(&db, ctx->store));
  if (vc__db_query(&s, db, "SELECT COUNT(*) FROM vc_job", "") == 0) {
    if (vc__stmt_step(s) == VC_STORAGE_ROW)
      n = vc__stmt_int64(s, 0);
    vc__stmt_done(s);
  }
  vc__db_release(db);
  return n;
}

/* ---- cases -------------------------------------------------------- */

static void test_job__due_runs_once(void)
{
  vc_ctx *ctx = open_ctx(0);
  char later[VC_ID_SIZE], now[VC_ID_SIZE];

  enqueue(ctx, "test.echo", "ok-later", T0 + 1000, later);
  enqueue(ctx, "test.echo", "ok-now", T0, now);

  /* Only the due one runs. */
  CHECK_RC(vc_ctx_run(ctx, 0), 1);
  CHECK(atomic_load(&calls) == 1);
  CHECK_STR(last_subject, "ok-now");
  CHECK(atomic_load(&last_attempts) == 1);
  CHECK(!row_of(ctx, now).found);
  CHECK(row_of(ctx, later).found);
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  advance(999);
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  CHECK(atomic_load(&calls) == 1);

  /* Due exactly now: runs, once. */
  advance(1);
  CHECK_RC(vc_ctx_run(ctx, 0), 1);
  CHECK(atomic_load(&calls) == 2);
  CHECK_STR(last_subject, "ok-later");
  CHECK(!row_of(ctx, later).found);
  advance(100000);
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  CHECK(atomic_load(&calls) == 2);
  CHECK(job_count(ctx) == 0);
  vc_ctx_free(ctx);
}

static void test_job__handler_retry(void)
{
  vc_ctx *ctx = open_ctx(0);
  char id[VC_ID_SIZE];
  job_row r;

  enqueue(ctx, "test.echo", "retry", T0, id);
  CHECK_RC(vc_ctx_run(ctx, 0), 1);
  CHECK(atomic_load(&calls) == 1);
  r = row_of(ctx, id);
  CHECK(r.found);
  CHECK(r.attempts == 1);
  CHECK(r.due_at == T0 + 5000);
  CHECK_STR(r.last_error, "provider said try later");
  CHECK_STR(r.lease_owner, ""); /* released */

  advance(4999);
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  CHECK(atomic_load(&calls) == 1);
  advance(1);
  CHECK_RC(vc_ctx_run(ctx, 0), 1);
  CHECK(atomic_load(&calls) == 2);
  CHECK(atomic_load(&last_attempts) == 2);
  CHECK(!row_of(ctx, id).found);
  vc_ctx_free(ctx);
}

static void test_job__machinery_failure_backoff(void)
{
  vc_ctx *ctx = open_ctx(0);
  char id[VC_ID_SIZE];
  job_row r;

  enqueue(ctx, "test.echo", "fail", T0, id);
  CHECK_RC(vc_ctx_run(ctx, 0), 1);
  r = row_of(ctx, id);
  CHECK(r.found);
  CHECK(r.attempts == 1);
  CHECK(r.due_at > T0); /* later, not lost and not spinning */
  CHECK(strstr(r.last_error, "echo machinery broke (attempt 1)") != NULL);
  CHECK_STR(r.lease_owner, "");
  /* Not before its time. */
  atomic_store(&g_now, r.due_at - 1);
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  CHECK(atomic_load(&calls) == 1);

  /* Second failure: a longer pause. */
  {
    int64_t first_delay = r.due_at - T0, second_delay;
    int64_t at = r.due_at;
    atomic_store(&g_now, at);
    CHECK_RC(vc_ctx_run(ctx, 0), 1);
    r = row_of(ctx, id);
    CHECK(r.found);
    CHECK(r.attempts == 2);
    CHECK(strstr(r.last_error, "(attempt 2)") != NULL);
    second_delay = r.due_at - at;
    CHECK(second_delay > first_delay);
    CHECK(second_delay <= 600000);
  }
  /* Third attempt succeeds. */
  atomic_store(&g_now, r.due_at);
  CHECK_RC(vc_ctx_run(ctx, 0), 1);
  CHECK(atomic_load(&calls) == 3);
  CHECK(atomic_load(&last_attempts) == 3);
  CHECK(!row_of(ctx, id).found);
  vc_ctx_free(ctx);
}

static void test_job__unknown_kind(void)
{
  vc_ctx *ctx = open_ctx(0);
  char id[VC_ID_SIZE];
  job_row r;

  enqueue(ctx, "test.from_the_future", "ok", T0, id);
  CHECK_RC(vc_ctx_run(ctx, 0), 1);
  CHECK(atomic_load(&calls) == 0);
  r = row_of(ctx, id);
  CHECK(r.found); /* rescheduled, not lost */
  CHECK(r.attempts == 1);
  CHECK(r.due_at > T0);
  CHECK(r.last_error[0] != '\0');
  CHECK_STR(r.lease_owner, "");
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  /* It keeps coming back, with growing pauses, and is never dropped. */
  for (int i = 0; i < 5; i++) {
    atomic_store(&g_now, r.due_at);
    CHECK_RC(vc_ctx_run(ctx, 0), 1);
    r = row_of(ctx, id);
    CHECK(r.found);
    CHECK(r.attempts == i + 2);
  }
  CHECK(atomic_load(&calls) == 0);
  vc_ctx_free(ctx);
}

static void test_job__lease_expiry(void)
{
  vc_ctx *ctx = open_ctx(0);
  char id[VC_ID_SIZE];
  vc__job *jobs = NULL;
  size_t n = 0;
  job_row r;

  enqueue(ctx, "test.echo", "ok-orphan", T0, id);
  /* An engine named "dead" claims it, then crashes. */
  CHECK_OK(vc__job_claim(ctx, "dead", 10, &jobs, &n));
  CHECK(n == 1);
  CHECK_STR(jobs[0].id, id);
  CHECK_STR(jobs[0].kind, "test.echo");
  CHECK_STR(jobs[0].subject_id, "ok-orphan");
  CHECK_STR(jobs[0].tenant_id, tenant_id);
  CHECK(jobs[0].attempts == 1);
  vc__free(jobs);
  r = row_of(ctx, id);
  CHECK_STR(r.lease_owner, "dead");
  CHECK(r.lease_until == T0 + LEASE_MS);

  /* While the lease holds, nobody else gets it. */
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  CHECK_OK(vc__job_claim(ctx, "other", 10, &jobs, &n));
  CHECK(n == 0);
  vc__free(jobs);
  advance(LEASE_MS - 1);
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  CHECK(atomic_load(&calls) == 0);

  /* Past the lease: the engine takes it up and runs it. */
  advance(1);
  CHECK_RC(vc_ctx_run(ctx, 0), 1);
  CHECK(atomic_load(&calls) == 1);
  CHECK(atomic_load(&last_attempts) == 2);
  CHECK_STR(last_subject, "ok-orphan");
  CHECK(!row_of(ctx, id).found);
  vc_ctx_free(ctx);
}

static void test_job__stale_owner_finish(void)
{
  vc_ctx *ctx = open_ctx(0);
  char id[VC_ID_SIZE];
  vc__job *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  vc__job_outcome done, retry;
  job_row r;

  memset(&done, 0, sizeof(done));
  done.result = VC__JOB_DONE;
  memset(&retry, 0, sizeof(retry));
  retry.result = VC__JOB_RETRY;
  retry.retry_at = T0 + 1;
  snprintf(retry.error, sizeof(retry.error), "stale");

  enqueue(ctx, "test.echo", "ok", T0, id);
  CHECK_OK(vc__job_claim(ctx, "slow", 10, &a, &na));
  CHECK(na == 1);
  advance(LEASE_MS);
  CHECK_OK(vc__job_claim(ctx, "fresh", 10, &b, &nb));
  CHECK(nb == 1);
  CHECK_STR(b[0].id, id);
  CHECK(b[0].attempts == 2);

  /* The slow owner comes back: its outcome is ignored. */
  CHECK_OK(vc__job_finish(ctx, "slow", &a[0], &done));
  r = row_of(ctx, id);
  CHECK(r.found);
  CHECK_STR(r.lease_owner, "fresh");
  CHECK_OK(vc__job_finish(ctx, "slow", &a[0], &retry));
  r = row_of(ctx, id);
  CHECK(r.found);
  CHECK_STR(r.lease_owner, "fresh");
  CHECK_STR(r.last_error, "");
  CHECK(r.due_at == T0 + 2 * LEASE_MS);

  /* The current owner's outcome counts. */
  CHECK_OK(vc__job_finish(ctx, "fresh", &b[0], &done));
  CHECK(!row_of(ctx, id).found);
  vc__free(a);
  vc__free(b);
  vc_ctx_free(ctx);
}

static void test_job__next_due(void)
{
  vc_ctx *ctx = open_ctx(0);
  char id1[VC_ID_SIZE], id2[VC_ID_SIZE];
  vc__job *jobs = NULL;
  size_t n = 0;

  CHECK(vc__job_next_due(ctx) == INT64_MAX);
  enqueue(ctx, "test.echo", "ok-1", T0 + 5000, id1);
  CHECK(vc__job_next_due(ctx) == T0 + 5000);
  enqueue(ctx, "test.echo", "ok-2", T0 + 3000, id2);
  CHECK(vc__job_next_due(ctx) == T0 + 3000);

  /* A claim moves the job to the end of its lease. */
  advance(3000);
  CHECK_OK(vc__job_claim(ctx, "x", 10, &jobs, &n));
  CHECK(n == 1);
  CHECK_STR(jobs[0].id, id2);
  vc__free(jobs);
  CHECK(vc__job_next_due(ctx) == T0 + 5000);
  advance(2000);
  CHECK_OK(vc__job_claim(ctx, "x", 10, &jobs, &n));
  CHECK(n == 1);
  CHECK_STR(jobs[0].id, id1);
  vc__free(jobs);
  CHECK(vc__job_next_due(ctx) == T0 + 3000 + LEASE_MS);
  vc_ctx_free(ctx);
}

static void test_job__enqueue_in_transaction(void)
{
  vc_ctx *ctx = open_ctx(0);
  vc__db *db = NULL;
  char id[VC_ID_SIZE], id2[VC_ID_SIZE];

  /* A rolled-back transaction leaves no job behind. */
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__db_begin(db));
  CHECK_OK(vc__job_enqueue(db, ctx, tenant_id, "test.echo", "ok", T0, id));
  CHECK(strlen(id) == VC_ID_SIZE - 1);
  vc__db_rollback(db);
  vc__db_release(db);
  CHECK(job_count(ctx) == 0);
  CHECK_RC(vc_ctx_run(ctx, 0), 0);

  /* Two jobs and an event in one transaction: all or nothing. */
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__db_begin(db));
  CHECK_OK(vc__job_enqueue(db, ctx, tenant_id, "test.echo", "ok-a", T0, id));
  CHECK_OK(vc__job_enqueue(db, ctx, tenant_id, "test.echo", "ok-b", T0,
                           id2));
  CHECK(strcmp(id, id2) < 0);
  CHECK_OK(vc__event_append(db, ctx, tenant_id, "test.enqueued", id, NULL));
  CHECK_OK(vc__db_commit(db));
  vc__db_release(db);
  CHECK(job_count(ctx) == 2);
  CHECK_RC(vc_ctx_run(ctx, 0), 2);
  CHECK(job_count(ctx) == 0);
  vc_ctx_free(ctx);
}

static void test_job__claim_batch_and_order(void)
{
  vc_ctx *ctx = open_ctx(3);
  char id[VC_ID_SIZE], subject[16];
  vc__job *jobs = NULL;
  size_t n = 0;

  /* Ten due jobs, enqueued in reverse due order. */
  for (int i = 9; i >= 0; i--) {
    snprintf(subject, sizeof(subject), "ok-%d", i);
    enqueue(ctx, "test.echo", subject, T0 - 100 + i, id);
  }
  /* A claim takes the earliest (in any order within the batch). */
  CHECK_OK(vc__job_claim(ctx, "peek", 2, &jobs, &n));
  CHECK(n == 2);
  CHECK((strcmp(jobs[0].subject_id, "ok-0") == 0 &&
         strcmp(jobs[1].subject_id, "ok-1") == 0) ||
        (strcmp(jobs[0].subject_id, "ok-1") == 0 &&
         strcmp(jobs[1].subject_id, "ok-0") == 0));
  vc__free(jobs);
  /* The engine takes claim_batch (3) per iteration. */
  CHECK_RC(vc_ctx_run(ctx, 0), 3);
  CHECK_RC(vc_ctx_run(ctx, 0), 3);
  CHECK_RC(vc_ctx_run(ctx, 0), 2);
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  CHECK(atomic_load(&calls) == 8);
  CHECK(job_count(ctx) == 2); /* the two leased to "peek" */
  vc_ctx_free(ctx);
}

/* Enqueue NBULK jobs "bulk-N" in one transaction. */
static void enqueue_bulk(vc_ctx *ctx)
{
  vc__db *db = NULL;
  char subject[16];

  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__db_begin(db));
  for (int i = 0; i < NBULK; i++) {
    snprintf(subject, sizeof(subject), "bulk-%d", i);
    CHECK_OK(vc__job_enqueue(db, ctx, tenant_id, "test.echo", subject,
                             T0 - (i % 7), NULL));
  }
  CHECK_OK(vc__db_commit(db));
  vc__db_release(db);
}

typedef struct claimer {
  vc_ctx *ctx;
  const char *owner;
  int claimed;
  int errors;
} claimer;

static void *claim_loop(void *arg)
{
  claimer *c = arg;
  int idle = 0;

  while (idle < 3 && c->errors < 100) {
    vc__job *jobs = NULL;
    size_t n = 0;
    if (vc__job_claim(c->ctx, c->owner, 7, &jobs, &n) < 0) {
      c->errors++;
      continue;
    }
    if (n == 0) {
      idle++;
      vc__free(jobs);
      continue;
    }
    idle = 0;
    for (size_t i = 0; i < n; i++) {
      vc__job_outcome o;
      memset(&o, 0, sizeof(o));
      if (echo(c->ctx, &jobs[i], &o) < 0 ||
          vc__job_finish(c->ctx, c->owner, &jobs[i], &o) < 0)
        c->errors++;
      c->claimed++;
    }
    vc__free(jobs);
  }
  return NULL;
}

static void test_job__two_threads_claim(void)
{
  vc_ctx *ctx = open_ctx(0);
  pthread_t th[2];
  claimer c[2] = { { ctx, "engine-a", 0, 0 }, { ctx, "engine-b", 0, 0 } };

  enqueue_bulk(ctx);
  CHECK(job_count(ctx) == NBULK);
  for (int i = 0; i < 2; i++)
    CHECK(pthread_create(&th[i], NULL, claim_loop, &c[i]) == 0);
  for (int i = 0; i < 2; i++)
    pthread_join(th[i], NULL);
  CHECK(c[0].errors == 0 && c[1].errors == 0);
  CHECK(c[0].claimed + c[1].claimed == NBULK);
  for (int i = 0; i < NBULK; i++) {
    if (atomic_load(&bulk_handled[i]) != 1)
      fprintf(stderr, "  job %d handled %d times\n", i,
              atomic_load(&bulk_handled[i]));
    CHECK(atomic_load(&bulk_handled[i]) == 1);
  }
  CHECK(job_count(ctx) == 0);
  vc_ctx_free(ctx);
}

/* The engine's own threads and a host thread share the work. */
static void *host_runner(void *arg)
{
  vc_ctx *ctx = arg;

  for (int i = 0; i < 200 && atomic_load(&calls) < NBULK; i++)
    if (vc_ctx_run(ctx, 5) < 0)
      break;
  return NULL;
}

static void test_job__engine_threads_exactly_once(void)
{
  vc_ctx *ctx = open_ctx(16);
  pthread_t host;
  struct timespec start, now;

  enqueue_bulk(ctx);
  CHECK_OK(vc_ctx_start(ctx, 2));
  CHECK(pthread_create(&host, NULL, host_runner, ctx) == 0);
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    struct timespec pause = { 0, 5 * 1000000 };
    if (atomic_load(&calls) >= NBULK && job_count(ctx) == 0)
      break;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec > 60)
      break;
    nanosleep(&pause, NULL);
  }
  pthread_join(host, NULL);
  CHECK_OK(vc_ctx_stop(ctx));
  CHECK(job_count(ctx) == 0);
  CHECK(atomic_load(&calls) == NBULK);
  for (int i = 0; i < NBULK; i++)
    CHECK(atomic_load(&bulk_handled[i]) == 1);
  vc_ctx_free(ctx);
}

VC_TESTS(
  VC_TEST(test_job__due_runs_once),
  VC_TEST(test_job__handler_retry),
  VC_TEST(test_job__machinery_failure_backoff),
  VC_TEST(test_job__unknown_kind),
  VC_TEST(test_job__lease_expiry),
  VC_TEST(test_job__stale_owner_finish),
  VC_TEST(test_job__next_due),
  VC_TEST(test_job__enqueue_in_transaction),
  VC_TEST(test_job__claim_batch_and_order),
  VC_TEST(test_job__two_threads_claim),
  VC_TEST(test_job__engine_threads_exactly_once),
)
