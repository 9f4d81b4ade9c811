/*
 * What the voice providers' end-to-end tests share (Twilio Voice,
 * Exotel, mCube, ARI): the provider simulator, a context on SQLite on
 * disk whose clock is the wall clock plus an offset the test moves (the
 * simulator keeps real time), its webhook listener, and the tenant
 * "acme" (voice_env_open; ARI, which needs no webhooks, opens its own);
 * and reading calls back through the public API.
 */
#ifndef VC_TEST_VOICE_ENV_H
#define VC_TEST_VOICE_ENV_H

#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "net_util.h"

#include <stdatomic.h>

typedef struct env {
  vc_sim *sim;
  vc_ctx *ctx;
  vc_tenant *t;
  char base[64];           /* public_base_url: the webhook listener */
} env;

static _Atomic int64_t clock_offset;

static inline int64_t test_clock(void *payload)
{
  (void)payload;
  return wall_ms() + atomic_load(&clock_offset);
}

/* The simulator, then a context on `db` listening for webhooks on a free
 * port (another port when one is taken meanwhile). */
static inline void voice_env_open(env *e, const char *db)
{
  static const uint8_t key[32] = { 7, 7, 7 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  char addr[32];
  vc_store *store;
  int port = 0, tries = 0;

  memset(e, 0, sizeof(*e));
  atomic_store(&clock_offset, 0);
  CHECK_OK(vc_sim_start(&e->sim, NULL));
  mk.key = key;
  mk.key_len = 32;
  o.master_key = &mk;
  o.allow_private_network = 1;
  o.clock_cb = test_clock;
  do {
    vc_ctx_free(e->ctx);
    e->ctx = NULL;
    port = free_port();
    snprintf(e->base, sizeof(e->base), "http://127.0.0.1:%d", port);
    CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(db), NULL));
    o.store = store;
    o.public_base_url = e->base;
    CHECK_OK(vc_ctx_new(&e->ctx, &o));
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  } while (vc_webhook_listen(e->ctx, addr) != port && ++tries < 5);
  CHECK(tries < 5);
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
}

static inline void voice_env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
  vc_sim_stop(e->sim);
}

static inline int state_of(env *e, const char *id)
{
  vc_call *c;
  int st;

  CHECK_OK(vc_call_lookup(&c, e->t, id));
  st = vc_call_state_of(c);
  vc_call_free(c);
  return st;
}

/* Run the engine on this thread until the call is in `state` or later,
 * or final, or `ms` passed (real time); the state it is in. */
static inline int run_until_state(env *e, const char *id, int state, int ms)
{
  int64_t deadline = wall_ms() + ms;
  int st;

  for (;;) {
    st = state_of(e, id);
    if (st >= state || vc_call_state_final(st))
      return st;
    if (wall_ms() >= deadline)
      return st;
    vc_ctx_run(e->ctx, 20);
  }
}

static inline int run_until_final(env *e, const char *id, int ms)
{
  return vc_call_state_final(run_until_state(e, id, VC_CALL_COMPLETED, ms));
}

/* The timeline as "type/leg ..." and, for a `type`, the detail of its
 * first entry. Checks seq 1, 2, ... and times that never go back. */
static inline void timeline(env *e, const char *id, char *out, size_t size,
                            const char *type, char *detail, size_t dsize)
{
  vc_iter *it;
  vc_call_entry *en;
  int64_t last = 0, seq = 0;
  size_t len = 0;

  out[0] = '\0';
  if (detail != NULL)
    detail[0] = '\0';
  CHECK_OK(vc_call_timeline(&it, e->t, id));
  while (vc_call_entry_next(&en, it) == 0) {
    CHECK(vc_call_entry_seq(en) == ++seq);
    CHECK(vc_call_entry_at(en) >= last);     /* oldest first */
    last = vc_call_entry_at(en);
    if (type != NULL && detail != NULL && detail[0] == '\0' &&
        strcmp(vc_call_entry_type(en), type) == 0)
      snprintf(detail, dsize, "%s", vc_call_entry_detail_json(en));
    len += (size_t)snprintf(out + len, size - len, "%s%s/%d", len ? " " : "",
                            vc_call_entry_type(en), vc_call_entry_leg(en));
    CHECK(len < size);
    vc_call_entry_free(en);
  }
  vc_iter_free(it);
}

/* The nth request (from 0) the simulator answered for `provider`. */
static inline int provider_request(env *e, const char *provider, size_t nth,
                                   vc_sim_request *out)
{
  size_t k = 0;

  for (size_t i = 0; i < vc_sim_received_count(e->sim); i++) {
    CHECK_OK(vc_sim_received_get(e->sim, i, out));
    if (strcmp(out->provider, provider) == 0 && k++ == nth)
      return 1;
  }
  return 0;
}

#endif
