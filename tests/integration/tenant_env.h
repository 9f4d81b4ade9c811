/*
 * What most integration tests start from: a context over a SQLite file
 * in the test's directory, on an injected clock (g_now), with one tenant
 * "acme".
 */
#ifndef VC_TEST_TENANT_ENV_H
#define VC_TEST_TENANT_ENV_H

#include "vyomcomm.h"
#include "harness.h"

/* The clock's start: 2023-11-14 22:13:20 UTC. */
#define VC_TEST_T0 1700000000000LL

static int64_t g_now = VC_TEST_T0;

static inline int64_t test_clock(void *payload)
{
  (void)payload;
  return g_now;
}

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
} env;

/* Open `file` with the clock at VC_TEST_T0. `public_base_url` may be
 * NULL. */
static inline void tenant_env_open(env *e, const char *file,
                                   const uint8_t key[32], uint64_t seed,
                                   const char *public_base_url)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;

  g_now = VC_TEST_T0;
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(file), NULL));
  mk.key = key;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = test_clock;
  o.random_seed = seed;
  o.public_base_url = public_base_url;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
}

static inline void tenant_env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

#endif
