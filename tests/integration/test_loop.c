/*
 * The host's event loop API (vyomcomm/loop.h) through the public API:
 * what the hooks are asked and when, with a sandbox channel (no sockets).
 * examples/loop_epoll.c runs the same API over real sockets against the
 * simulator, as the test 'loop_epoll'.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <stdio.h>
#include <string.h>

static int64_t g_now = 1700000000000LL;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return g_now;
}

typedef struct hooks_seen {
  int timers;
  long last_timer;
  int sockets;
} hooks_seen;

static int on_socket(void *payload, int fd, int events)
{
  hooks_seen *h = payload;

  (void)fd;
  (void)events;
  h->sockets++;
  return 0;
}

static int on_timer(void *payload, long ms)
{
  hooks_seen *h = payload;

  h->timers++;
  h->last_timer = ms;
  return 0;
}

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
} env;

static void env_open(env *e)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;
  vc_store *store;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("loop.db"), NULL));
  o.store = store;
  o.clock_cb = test_clock;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  cs.name = "sms";
  cs.provider = "sandbox-sms";
  CHECK_OK(vc_channel_new(&ch, e->t, &cs));
  vc_channel_free(ch);
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

static void send_at(env *e, int64_t at, char id[VC_ID_SIZE])
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;

  s.kind = VC_CHANNEL_SMS;
  s.to = "+14155550123";
  s.text = "hello";
  s.send_at = at;
  CHECK_OK(vc_message_send(id, e->t, &s));
}

static int status_of(env *e, const char *id)
{
  vc_message *m;
  int st;

  CHECK_OK(vc_message_lookup(&m, e->t, id));
  st = vc_message_status(m);
  vc_message_free(m);
  return st;
}

static void test_loop__timer_drives_the_engine(void)
{
  env e;
  hooks_seen h = { 0, -2, 0 };
  vc_loop_hooks hooks = VC_LOOP_HOOKS_INIT;
  char id[VC_ID_SIZE], later[VC_ID_SIZE];

  env_open(&e);
  hooks.socket = on_socket;
  hooks.timer = on_timer;
  hooks.payload = &h;
  CHECK_OK(vc_ctx_set_loop(e.ctx, &hooks));
  CHECK(h.timers == 1 && h.last_timer == 0); /* start at once */
  /* Nothing due: sleep, at most a second (other processes' jobs). */
  CHECK(vc_ctx_loop_timeout(e.ctx) == 0);
  CHECK(h.last_timer == 1000);
  /* A send wakes the loop through the timer hook. */
  send_at(&e, 0, id);
  CHECK(h.last_timer == 0);
  CHECK(vc_ctx_loop_timeout(e.ctx) >= 1);
  CHECK(status_of(&e, id) == VC_MSG_SENT);
  CHECK(h.last_timer == 0); /* more may be due: look again at once */
  /* A message due later sets the timer for when it is due. */
  send_at(&e, g_now + 300, later);
  CHECK(vc_ctx_loop_timeout(e.ctx) >= 0);
  while (h.last_timer == 0)
    CHECK(vc_ctx_loop_timeout(e.ctx) >= 0);
  CHECK(h.last_timer == 300);
  CHECK(status_of(&e, later) == VC_MSG_QUEUED);
  g_now += 300;
  CHECK(vc_ctx_loop_timeout(e.ctx) >= 1);
  CHECK(status_of(&e, later) == VC_MSG_SENT);
  CHECK(h.sockets == 0); /* the sandbox opens none */
  env_close(&e);
}

static void test_loop__refusals(void)
{
  env e;
  hooks_seen h = { 0, -2, 0 };
  vc_loop_hooks hooks = VC_LOOP_HOOKS_INIT;

  env_open(&e);
  CHECK_RC(vc_ctx_loop_timeout(e.ctx), VC_ESTATE);
  CHECK_RC(vc_ctx_loop_socket(e.ctx, 3, VC_LOOP_IN), VC_ESTATE);
  hooks.timer = on_timer;
  hooks.payload = &h;
  CHECK_RC(vc_ctx_set_loop(e.ctx, &hooks), VC_EINVALID);
  hooks.socket = on_socket;
  hooks.version = 99;
  CHECK_RC(vc_ctx_set_loop(e.ctx, &hooks), VC_EVERSION);
  hooks.version = VC_LOOP_HOOKS_VERSION;
  CHECK_OK(vc_ctx_set_loop(e.ctx, &hooks));
  CHECK_RC(vc_ctx_set_loop(e.ctx, &hooks), VC_ESTATE);
  CHECK_RC(vc_ctx_run(e.ctx, 0), VC_ESTATE);
  CHECK_RC(vc_ctx_loop_socket(e.ctx, -1, VC_LOOP_IN), VC_EINVALID);
  /* A socket report with no batch in flight is harmless. */
  CHECK(vc_ctx_loop_socket(e.ctx, 3, VC_LOOP_IN) == 0);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_loop__timer_drives_the_engine),
  VC_TEST(test_loop__refusals),
)
