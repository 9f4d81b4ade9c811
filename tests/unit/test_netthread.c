/*
 * The context's network thread (net/netthread.c): work runs on it, in
 * order; a synchronous call returns the function's result and error
 * detail; concurrent callers; after vc__net_stop() nothing runs and work
 * is refused, and a stopped context's thread does not start again.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "net/netthread.h"
#include "harness.h"

#include <pthread.h>

static vc_ctx *open_ctx(void)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_store *store;
  vc_ctx *ctx;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("n.db"), NULL));
  o.store = store;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  return ctx;
}

typedef struct probe {
  vc_ctx *ctx;
  int on_thread;
  int order[8];
  int n;
} probe;

static int on_loop(void *arg)
{
  probe *p = arg;

  p->on_thread = vc__net_on_thread(p->ctx);
  return 42;
}

static int fails(void *arg)
{
  (void)arg;
  return vc__error_set(VC_ERRCLASS_NET, VC_ENET, "refused on the loop");
}

/* Posted work, in order; read only after a call that follows it. */
static void note(void *arg)
{
  probe *p = arg;

  if (p->n < 8)
    p->order[p->n] = p->n;
  p->n++;
}

static void test_netthread__call(void)
{
  vc_ctx *ctx = open_ctx();
  probe p;

  memset(&p, 0, sizeof(p));
  p.ctx = ctx;
  CHECK(!vc__net_on_thread(ctx));
  CHECK(vc__net_call(ctx, on_loop, &p) == 42);
  CHECK(p.on_thread == 1);
  CHECK(vc__net_call(ctx, fails, NULL) == VC_ENET);
  CHECK_STR(vc_error_last()->message, "refused on the loop");
  CHECK(vc_error_last()->klass == VC_ERRCLASS_NET);
  for (int i = 0; i < 5; i++)
    CHECK_OK(vc__net_post(ctx, note, NULL, &p));
  CHECK(vc__net_call(ctx, on_loop, &p) == 42); /* after the posts */
  CHECK(p.n == 5);
  for (int i = 0; i < 5; i++)
    CHECK(p.order[i] == i);
  vc_ctx_free(ctx);
}

static int dropped;

static void never(void *arg)
{
  (void)arg;
  CHECK(0);
}

static void drop(void *arg)
{
  (void)arg;
  dropped++;
}

static void test_netthread__stopped(void)
{
  vc_ctx *ctx = open_ctx();
  probe p;

  memset(&p, 0, sizeof(p));
  p.ctx = ctx;
  CHECK(vc__net_call(ctx, on_loop, &p) == 42);
  vc__net_stop(ctx);
  CHECK_RC(vc__net_call(ctx, on_loop, &p), VC_ESTATE);
  dropped = 0;
  CHECK_RC(vc__net_post(ctx, never, drop, NULL), VC_ESTATE);
  CHECK(dropped == 0); /* refused: the caller keeps its argument */
  vc__net_stop(ctx);   /* twice is harmless */
  vc_ctx_free(ctx);
}

static int bump(void *arg)
{
  int *n = arg;

  return ++*n; /* only ever on the loop: no lock needed */
}

static vc_ctx *shared_ctx;
static int shared_count;

static void *caller(void *arg)
{
  (void)arg;
  for (int i = 0; i < 200; i++)
    if (vc__net_call(shared_ctx, bump, &shared_count) <= 0)
      return (void *)1;
  return NULL;
}

static void test_netthread__concurrent(void)
{
  pthread_t t[4];
  void *bad;

  shared_ctx = open_ctx();
  shared_count = 0;
  for (int i = 0; i < 4; i++)
    CHECK(pthread_create(&t[i], NULL, caller, NULL) == 0);
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], &bad);
    CHECK(bad == NULL);
  }
  CHECK(vc__net_call(shared_ctx, bump, &shared_count) == 801);
  vc_ctx_free(shared_ctx);
}

VC_TESTS(
  VC_TEST(test_netthread__call),
  VC_TEST(test_netthread__stopped),
  VC_TEST(test_netthread__concurrent),
)
