/*
 * The engine through the public API only: event delivery to the callback
 * (order, refusal, durable cursor), engine threads, start/stop states,
 * vc_ctx_run timeouts, vc_ctx_wakeup, and freeing a running context.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#define DB_NAME "engine.db"
#define MAX_EVENTS 512

/* ---- event collection --------------------------------------------- */

typedef struct got_event {
  uint64_t seq;
  char type[32];
  char tenant_id[VC_ID_SIZE];
  char subject_id[VC_ID_SIZE];
  int payload_ok;
  int on_caller_thread;
} got_event;

typedef struct collector {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  got_event ev[MAX_EVENTS];
  int n;
  int offered;            /* calls of the callback, refused ones included */
  int refuse_at;          /* refuse the call with this index (0-based) */
  uint64_t refused_seq;
  pthread_t caller;       /* the thread that runs vc_ctx_run */
  vc_ctx *ctx;            /* set: the callback calls into the library */
  int api_calls_ok;
  int api_calls_bad;
} collector;

static void collector_init(collector *c)
{
  memset(c, 0, sizeof(*c));
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->cond, NULL);
  c->refuse_at = -1;
  c->caller = pthread_self();
}

static void collector_fini(collector *c)
{
  pthread_cond_destroy(&c->cond);
  pthread_mutex_destroy(&c->lock);
}

static int on_event(const vc_event *e, void *payload)
{
  collector *c = payload;
  size_t plen = e->payload_json ? strlen(e->payload_json) : 0;
  int refuse = 0;

  pthread_mutex_lock(&c->lock);
  if (c->offered++ == c->refuse_at) {
    c->refused_seq = e->seq;
    refuse = 1;
  } else if (c->n < MAX_EVENTS) {
    got_event *g = &c->ev[c->n++];
    g->seq = e->seq;
    snprintf(g->type, sizeof(g->type), "%s", e->type);
    snprintf(g->tenant_id, sizeof(g->tenant_id), "%s", e->tenant_id);
    snprintf(g->subject_id, sizeof(g->subject_id), "%s", e->subject_id);
    g->payload_ok = plen >= 2 && e->payload_json[0] == '{' &&
                    e->payload_json[plen - 1] == '}' && e->created_at > 0;
    g->on_caller_thread = pthread_equal(pthread_self(), c->caller);
  }
  pthread_cond_broadcast(&c->cond);
  pthread_mutex_unlock(&c->lock);
  /* A callback may call the library (not under our lock). */
  if (!refuse && c->ctx != NULL &&
      strcmp(e->type, "tenant.created") == 0) {
    vc_tenant *t = NULL;
    int rc = vc_tenant_lookup_id(&t, c->ctx, e->tenant_id);
    pthread_mutex_lock(&c->lock);
    if (rc == 0 || rc == VC_ENOTFOUND)
      c->api_calls_ok++;
    else
      c->api_calls_bad++;
    pthread_mutex_unlock(&c->lock);
    vc_tenant_free(t);
  }
  return refuse;
}

/* Wait until `n` events were collected, or `seconds` pass. */
static int wait_events(collector *c, int n, int seconds)
{
  struct timespec deadline;
  int got;

  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += seconds;
  pthread_mutex_lock(&c->lock);
  while (c->n < n)
    if (pthread_cond_timedwait(&c->cond, &c->lock, &deadline) == ETIMEDOUT)
      break;
  got = c->n;
  pthread_mutex_unlock(&c->lock);
  return got;
}

static int collected(collector *c)
{
  int n;

  pthread_mutex_lock(&c->lock);
  n = c->n;
  pthread_mutex_unlock(&c->lock);
  return n;
}

/* ---- helpers ------------------------------------------------------ */

static vc_ctx *open_ctx(void)
{
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  int rc;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(DB_NAME), NULL));
  o.store = store;
  rc = vc_ctx_new(&ctx, &o);
  if (rc != 0)
    vc_store_free(store);
  CHECK_OK(rc);
  return ctx;
}

static void make_tenant(vc_ctx *ctx, const char *slug, char id[VC_ID_SIZE])
{
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;

  s.slug = slug;
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  if (id != NULL)
    snprintf(id, VC_ID_SIZE, "%s", vc_tenant_id(t));
  vc_tenant_free(t);
}

static void rename_tenant(vc_ctx *ctx, const char *slug, const char *name)
{
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;

  CHECK_OK(vc_tenant_lookup(&t, ctx, slug));
  s.name = name;
  s.quiet_start_min = s.quiet_end_min = VC_TENANT_KEEP;
  CHECK_OK(vc_tenant_update(t, &s));
  vc_tenant_free(t);
}

static void delete_tenant(vc_ctx *ctx, const char *slug)
{
  vc_tenant *t = NULL;

  CHECK_OK(vc_tenant_lookup(&t, ctx, slug));
  CHECK_OK(vc_tenant_delete(t));
  vc_tenant_free(t);
}

static int64_t elapsed_ms(const struct timespec *a)
{
  struct timespec b;

  clock_gettime(CLOCK_MONOTONIC, &b);
  return (int64_t)(b.tv_sec - a->tv_sec) * 1000 +
         (b.tv_nsec - a->tv_nsec) / 1000000;
}

/* ---- cases -------------------------------------------------------- */

static void test_engine__callback_order(void)
{
  vc_ctx *ctx = open_ctx();
  static collector c;
  char a[VC_ID_SIZE], b[VC_ID_SIZE];
  struct { const char *type; const char *tenant; } want[] = {
    { "tenant.created", a }, { "tenant.created", b },
    { "tenant.updated", a }, { "tenant.updated", b },
    { "tenant.deleted", a }, { "tenant.updated", b },
  };

  collector_init(&c);
  make_tenant(ctx, "ord-a", a);
  make_tenant(ctx, "ord-b", b);
  rename_tenant(ctx, "ord-a", "A1");
  rename_tenant(ctx, "ord-b", "B1");
  delete_tenant(ctx, "ord-a");
  rename_tenant(ctx, "ord-b", "B2");

  /* No callback yet: nothing to deliver. */
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  CHECK_OK(vc_ctx_set_event_cb(ctx, on_event, &c));
  CHECK_RC(vc_ctx_run(ctx, 0), 6);
  CHECK(c.n == 6);
  for (int i = 0; i < 6; i++) {
    CHECK_STR(c.ev[i].type, want[i].type);
    CHECK_STR(c.ev[i].tenant_id, want[i].tenant);
    CHECK_STR(c.ev[i].subject_id, want[i].tenant);
    CHECK(c.ev[i].payload_ok);
    CHECK(c.ev[i].on_caller_thread);
    if (i > 0)
      CHECK(c.ev[i].seq > c.ev[i - 1].seq);
  }
  /* Delivered once: a second run has nothing. */
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  CHECK(c.n == 6);
  /* New events continue the sequence. */
  make_tenant(ctx, "ord-c", NULL);
  CHECK_RC(vc_ctx_run(ctx, 0), 1);
  CHECK(c.n == 7);
  CHECK_STR(c.ev[6].type, "tenant.created");
  CHECK(c.ev[6].seq > c.ev[5].seq);

  /* A NULL callback pauses delivery; the backlog comes later. */
  CHECK_OK(vc_ctx_set_event_cb(ctx, NULL, NULL));
  make_tenant(ctx, "ord-d", NULL);
  make_tenant(ctx, "ord-e", NULL);
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  CHECK(c.n == 7);
  CHECK_OK(vc_ctx_set_event_cb(ctx, on_event, &c));
  CHECK_RC(vc_ctx_run(ctx, 0), 2);
  CHECK(c.n == 9);
  vc_ctx_free(ctx);
  collector_fini(&c);
}

static void test_engine__callback_refuses(void)
{
  vc_ctx *ctx = open_ctx();
  static collector c;
  char slug[16];

  collector_init(&c);
  for (int i = 0; i < 5; i++) {
    snprintf(slug, sizeof(slug), "ref-%d", i);
    make_tenant(ctx, slug, NULL);
  }
  c.refuse_at = 2; /* the third event, the first time it is offered */
  CHECK_OK(vc_ctx_set_event_cb(ctx, on_event, &c));
  CHECK_RC(vc_ctx_run(ctx, 0), 2);
  CHECK(c.n == 2);
  CHECK(c.offered == 3);
  CHECK(c.refused_seq > c.ev[1].seq);
  /* Offered again, then the rest, in order. */
  CHECK_RC(vc_ctx_run(ctx, 0), 3);
  CHECK(c.n == 5);
  CHECK(c.ev[2].seq == c.refused_seq);
  for (int i = 1; i < 5; i++)
    CHECK(c.ev[i].seq > c.ev[i - 1].seq);
  CHECK_RC(vc_ctx_run(ctx, 0), 0);

  /* Refusing the very first event of a run delivers nothing. */
  make_tenant(ctx, "ref-x", NULL);
  c.refuse_at = c.offered;
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  CHECK(c.n == 5);
  CHECK_RC(vc_ctx_run(ctx, 0), 1);
  CHECK(c.n == 6);
  CHECK(c.ev[5].seq == c.refused_seq);
  vc_ctx_free(ctx);
  collector_fini(&c);
}

static void test_engine__durable_cursor(void)
{
  vc_ctx *ctx = open_ctx();
  static collector c;
  uint64_t last;

  collector_init(&c);
  CHECK_OK(vc_ctx_set_event_cb(ctx, on_event, &c));
  make_tenant(ctx, "dur-1", NULL);
  make_tenant(ctx, "dur-2", NULL);
  CHECK_RC(vc_ctx_run(ctx, 0), 2);
  last = c.ev[1].seq;
  /* Two more, not delivered before the close (no callback). */
  CHECK_OK(vc_ctx_set_event_cb(ctx, NULL, NULL));
  make_tenant(ctx, "dur-3", NULL);
  make_tenant(ctx, "dur-4", NULL);
  vc_ctx_free(ctx);

  /* Reopen: only the undelivered ones come. */
  collector_fini(&c);
  collector_init(&c);
  ctx = open_ctx();
  CHECK_OK(vc_ctx_set_event_cb(ctx, on_event, &c));
  CHECK_RC(vc_ctx_run(ctx, 0), 2);
  CHECK(c.n == 2);
  CHECK(c.ev[0].seq > last);
  CHECK(c.ev[1].seq > c.ev[0].seq);
  CHECK_STR(c.ev[0].type, "tenant.created");

  /* A refused event survives a close too. */
  make_tenant(ctx, "dur-5", NULL);
  make_tenant(ctx, "dur-6", NULL);
  c.refuse_at = c.offered;
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  last = c.refused_seq;
  vc_ctx_free(ctx);
  collector_fini(&c);
  collector_init(&c);
  ctx = open_ctx();
  CHECK_OK(vc_ctx_set_event_cb(ctx, on_event, &c));
  CHECK_RC(vc_ctx_run(ctx, 0), 2);
  CHECK(c.ev[0].seq == last);
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  vc_ctx_free(ctx);
  collector_fini(&c);
}

#define NTHREAD_TENANTS 25

static void test_engine__threads_deliver(void)
{
  vc_ctx *ctx = open_ctx();
  static collector c;
  char slug[16];

  collector_init(&c);
  c.ctx = ctx; /* the callback calls back into the library */
  CHECK_OK(vc_ctx_start(ctx, 2));
  CHECK_OK(vc_ctx_set_event_cb(ctx, on_event, &c));
  for (int i = 0; i < NTHREAD_TENANTS; i++) {
    snprintf(slug, sizeof(slug), "thr-%d", i);
    make_tenant(ctx, slug, NULL);
  }
  CHECK(wait_events(&c, NTHREAD_TENANTS, 30) == NTHREAD_TENANTS);
  /* A few more after a pause of the test thread. */
  for (int i = 0; i < 5; i++) {
    snprintf(slug, sizeof(slug), "late-%d", i);
    make_tenant(ctx, slug, NULL);
  }
  CHECK(wait_events(&c, NTHREAD_TENANTS + 5, 30) == NTHREAD_TENANTS + 5);
  CHECK_OK(vc_ctx_stop(ctx));

  pthread_mutex_lock(&c.lock);
  {
    int n = c.n, order_ok = 1, thread_ok = 1;
    for (int i = 0; i < n; i++) {
      if (c.ev[i].on_caller_thread)
        thread_ok = 0;
      if (i > 0 && c.ev[i].seq <= c.ev[i - 1].seq)
        order_ok = 0;
    }
    pthread_mutex_unlock(&c.lock);
    CHECK(n == NTHREAD_TENANTS + 5); /* nothing twice */
    CHECK(order_ok);
    CHECK(thread_ok); /* delivered on engine threads */
  }
  CHECK(c.api_calls_ok == NTHREAD_TENANTS + 5);
  CHECK(c.api_calls_bad == 0);
  /* Stopped: new events wait for the next run. */
  make_tenant(ctx, "after-stop", NULL);
  CHECK(collected(&c) == NTHREAD_TENANTS + 5);
  c.caller = pthread_self();
  CHECK_RC(vc_ctx_run(ctx, 0), 1);
  CHECK(collected(&c) == NTHREAD_TENANTS + 6);
  vc_ctx_free(ctx);
  collector_fini(&c);
}

static void test_engine__start_stop_states(void)
{
  vc_ctx *ctx = open_ctx();

  CHECK_RC(vc_ctx_stop(ctx), VC_ESTATE);
  CHECK(vc_error_last()->code == VC_ESTATE);
  CHECK(vc_error_last()->message[0] != '\0');
  CHECK_RC(vc_ctx_start(ctx, 0), VC_EINVALID);
  CHECK_RC(vc_ctx_start(ctx, 65), VC_EINVALID);
  CHECK_OK(vc_ctx_start(ctx, 2));
  CHECK_RC(vc_ctx_start(ctx, 2), VC_ESTATE);
  CHECK(vc_error_last()->code == VC_ESTATE);
  CHECK_RC(vc_ctx_start(ctx, 1), VC_ESTATE);
  /* The host may still run iterations while threads run. */
  CHECK(vc_ctx_run(ctx, 0) >= 0);
  CHECK_OK(vc_ctx_stop(ctx));
  CHECK_RC(vc_ctx_stop(ctx), VC_ESTATE);
  /* And start again. */
  CHECK_OK(vc_ctx_start(ctx, 1));
  CHECK_OK(vc_ctx_stop(ctx));
  CHECK_OK(vc_ctx_start(ctx, 64));
  CHECK_OK(vc_ctx_stop(ctx));

  /* NULL contexts. */
  CHECK_RC(vc_ctx_run(NULL, 0), VC_EINVALID);
  CHECK_RC(vc_ctx_start(NULL, 1), VC_EINVALID);
  CHECK_RC(vc_ctx_stop(NULL), VC_EINVALID);
  CHECK_RC(vc_ctx_wakeup(NULL), VC_EINVALID);
  CHECK_RC(vc_ctx_set_event_cb(NULL, on_event, NULL), VC_EINVALID);
  CHECK(vc_ctx_now(NULL) == 0);
  CHECK(vc_ctx_now(ctx) > 1600000000000LL);
  vc_ctx_free(NULL);
  vc_ctx_free(ctx);
}

static void test_engine__run_timeout(void)
{
  vc_ctx *ctx = open_ctx();
  struct timespec t0;
  int64_t ms;

  clock_gettime(CLOCK_MONOTONIC, &t0);
  CHECK_RC(vc_ctx_run(ctx, 0), 0);
  CHECK(elapsed_ms(&t0) < 1000);

  clock_gettime(CLOCK_MONOTONIC, &t0);
  CHECK_RC(vc_ctx_run(ctx, 50), 0);
  ms = elapsed_ms(&t0);
  if (ms < 40 || ms > 2000)
    fprintf(stderr, "  vc_ctx_run(50) took %lld ms\n", (long long)ms);
  CHECK(ms >= 40);
  CHECK(ms < 2000);

  /* Work that is already there is done without waiting. */
  {
    static collector c;
    collector_init(&c);
    CHECK_OK(vc_ctx_set_event_cb(ctx, on_event, &c));
    make_tenant(ctx, "quick", NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_RC(vc_ctx_run(ctx, 5000), 1);
    CHECK(elapsed_ms(&t0) < 2000);
    CHECK_OK(vc_ctx_set_event_cb(ctx, NULL, NULL));
    collector_fini(&c);
  }
  vc_ctx_free(ctx);
}

typedef struct blocked_run {
  vc_ctx *ctx;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int entered;
  int returned;
  int rc;
} blocked_run;

static void *run_forever(void *arg)
{
  blocked_run *b = arg;
  int rc;

  pthread_mutex_lock(&b->lock);
  b->entered = 1;
  pthread_cond_broadcast(&b->cond);
  pthread_mutex_unlock(&b->lock);
  rc = vc_ctx_run(b->ctx, -1);
  pthread_mutex_lock(&b->lock);
  b->rc = rc;
  b->returned = 1;
  pthread_cond_broadcast(&b->cond);
  pthread_mutex_unlock(&b->lock);
  return NULL;
}

static void test_engine__wakeup(void)
{
  vc_ctx *ctx = open_ctx();
  blocked_run b;
  pthread_t th;
  struct timespec deadline, pause = { 0, 150 * 1000000 };
  int returned;

  memset(&b, 0, sizeof(b));
  b.ctx = ctx;
  pthread_mutex_init(&b.lock, NULL);
  pthread_cond_init(&b.cond, NULL);
  CHECK(pthread_create(&th, NULL, run_forever, &b) == 0);
  pthread_mutex_lock(&b.lock);
  while (!b.entered)
    pthread_cond_wait(&b.cond, &b.lock);
  pthread_mutex_unlock(&b.lock);
  /* Give it time to block: it must still be waiting. */
  nanosleep(&pause, NULL);
  pthread_mutex_lock(&b.lock);
  returned = b.returned;
  pthread_mutex_unlock(&b.lock);
  if (returned) {
    pthread_join(th, NULL);
    CHECK(!"vc_ctx_run(-1) returned without a wakeup");
  }

  CHECK_OK(vc_ctx_wakeup(ctx));
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 10;
  pthread_mutex_lock(&b.lock);
  while (!b.returned)
    if (pthread_cond_timedwait(&b.cond, &b.lock, &deadline) == ETIMEDOUT)
      break;
  returned = b.returned;
  pthread_mutex_unlock(&b.lock);
  if (!returned) {
    /* Do not leave the thread blocked on a freed context. */
    for (int i = 0; i < 100 && !returned; i++) {
      vc_ctx_wakeup(ctx);
      nanosleep(&pause, NULL);
      pthread_mutex_lock(&b.lock);
      returned = b.returned;
      pthread_mutex_unlock(&b.lock);
    }
    CHECK(!"vc_ctx_wakeup did not wake vc_ctx_run(-1)");
  }
  pthread_join(th, NULL);
  CHECK(b.rc >= 0);
  pthread_cond_destroy(&b.cond);
  pthread_mutex_destroy(&b.lock);
  vc_ctx_free(ctx);
}

static void test_engine__free_while_running(void)
{
  vc_ctx *ctx = open_ctx();
  static collector c;
  char slug[16];

  collector_init(&c);
  c.ctx = ctx;
  CHECK_OK(vc_ctx_set_event_cb(ctx, on_event, &c));
  CHECK_OK(vc_ctx_start(ctx, 2));
  for (int i = 0; i < 10; i++) {
    snprintf(slug, sizeof(slug), "free-%d", i);
    make_tenant(ctx, slug, NULL);
  }
  /* Free without stopping: the threads are stopped and joined. */
  vc_ctx_free(ctx);
  {
    int n = collected(&c);
    CHECK(n <= 10);
  }
  /* Whatever was not delivered is delivered after a reopen, once. */
  ctx = open_ctx();
  c.ctx = NULL;
  c.caller = pthread_self();
  CHECK_OK(vc_ctx_set_event_cb(ctx, on_event, &c));
  CHECK(vc_ctx_run(ctx, 0) >= 0);
  CHECK(collected(&c) == 10);
  for (int i = 1; i < 10; i++)
    CHECK(c.ev[i].seq > c.ev[i - 1].seq);

  /* Free an idle started context right away. */
  CHECK_OK(vc_ctx_start(ctx, 3));
  vc_ctx_free(ctx);
  collector_fini(&c);
}

VC_TESTS(
  VC_TEST(test_engine__callback_order),
  VC_TEST(test_engine__callback_refuses),
  VC_TEST(test_engine__durable_cursor),
  VC_TEST(test_engine__threads_deliver),
  VC_TEST(test_engine__start_stop_states),
  VC_TEST(test_engine__run_timeout),
  VC_TEST(test_engine__wakeup),
  VC_TEST(test_engine__free_while_running),
)
