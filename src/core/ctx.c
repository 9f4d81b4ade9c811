/*
 * Context creation and teardown. The engine lives in engine.c.
 */
#include "common.h"
#include "ctx.h"
#include "global.h"
#include "text.h"
#include "tz.h"
#include "store/migrate.h"
#include "call/recording.h"
#include "msg/adapter.h"
#include "msg/campaign.h"
#include "msg/dispatch.h"
#include "call/placing.h"
#include "msg/limits.h"
#include "msg/privacy.h"
#include "msg/msg_ledger.h"
#include "msg/route.h"
#include "net/fetch.h"
#include "net/listen.h"
#include "net/netthread.h"
#include "call/session.h"
#include "msg/template_cache.h"
#include "msg/rule.h"
#include "call/agent.h"
#include "call/inbound.h"

#include <stdio.h>
#include <time.h>

#define DEFAULT_LEASE_MS 60000
#define DEFAULT_CLAIM_BATCH 256
#define MAX_CLAIM_BATCH 10000

int64_t vc__now(vc_ctx *ctx)
{
  struct timespec ts;

  if (ctx->clock_cb != NULL)
    return ctx->clock_cb(ctx->clock_payload);
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vc__new_id(vc_ctx *ctx, char out[VC_ID_SIZE])
{
  return vc__ulid_next(&ctx->ids, vc__now(ctx), out);
}

int64_t vc_ctx_now(vc_ctx *ctx)
{
  return ctx ? vc__now(ctx) : 0;
}

static int check_options(const vc_ctx_options *o)
{
  VC_ASSERT_ARG(o);
  VC_CHECK_VERSION(o, VC_CTX_OPTIONS_VERSION, "vc_ctx_options");
  if (o->store == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "vc_ctx_options.store is required");
  if (o->store->owned)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "the store belongs to another context");
  if (o->log_level < 0 || o->log_level > VC_LOG_TRACE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "log_level %d is out of range", o->log_level);
  if (o->lease_ms < 0 || o->claim_batch > MAX_CLAIM_BATCH)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "lease_ms or claim_batch out of range");
  if (o->event_consumer != NULL &&
      vc__check_token("event_consumer", o->event_consumer, 64, NULL,
                      "A-Za-z0-9_.-") < 0)
    return VC_EINVALID;
  if (o->public_base_url != NULL &&
      strncmp(o->public_base_url, "http://", 7) != 0 &&
      strncmp(o->public_base_url, "https://", 8) != 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "public_base_url must start with http:// or "
                         "https://");
  return 0;
}

/* Migrate the schema and load the master key. */
static int open_store(vc_ctx *ctx, const vc_master_key *mk)
{
  vc__db *db;
  int version = 0, rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__migrate(db, &version)) == 0)
    rc = vc__keyring_load(&ctx->keys, db, mk);
  vc__db_release(db);
  if (rc == 0)
    VC_LOG(ctx, VC_LOG_DEBUG, "store at schema version %d", version);
  return rc;
}

static int host_engine_init(vc_ctx *ctx)
{
  char owner[VC_ID_SIZE + 8];

  snprintf(owner, sizeof(owner), "%s/host", ctx->instance_id);
  vc__engine_init(&ctx->host_engine, owner);
  return 0;
}

static void ctx_destroy(vc_ctx *ctx)
{
  vc__sessions_free(ctx);
  pthread_mutex_destroy(&ctx->listen_lock);
  pthread_mutex_destroy(&ctx->net_lock);
  vc__route_cache_free(ctx);
  vc__fetch_cache_free(ctx->fetch_cache);
  vc__limits_free(ctx->limits);
  vc__adapters_fini(ctx);
  vc__tcache_free(ctx->templates);
  vc__tz_cache_free(ctx->tzs);
  vc__price_cache_free(ctx->prices);
  vc__rule_cache_free(ctx->rules);
  vc__engine_fini(&ctx->host_engine);
  pthread_mutex_destroy(&ctx->host_lock);
  pthread_mutex_destroy(&ctx->engine_write);
  vc__keyring_fini(&ctx->keys);
  vc__ulid_gen_fini(&ctx->ids);
  vc__rng_fini(&ctx->rng);
  pthread_cond_destroy(&ctx->wake);
  pthread_mutex_destroy(&ctx->lock);
  pthread_mutex_destroy(&ctx->deliver_lock);
  vc__free(ctx->public_base_url);
  vc__free(ctx);
}

/* The size of a caller's options at its version. */
static size_t options_size(unsigned int version)
{
  return version >= 2 ? sizeof(vc_ctx_options)
                      : offsetof(vc_ctx_options, allow_private_network);
}

/* Copy a caller's options into the latest layout: members its version
 * does not have stay zero. */
static void copy_options(vc_ctx_options *o, const vc_ctx_options *in)
{
  memset(o, 0, sizeof(*o));
  memcpy(o, in, options_size(in->version));
}

int vc_ctx_new(vc_ctx **out, const vc_ctx_options *in)
{
  vc_ctx_options copy, *opts = &copy;
  vc_ctx *ctx;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = check_options(in)) < 0 || (rc = vc__global_ensure()) < 0)
    return rc;
  copy_options(&copy, in);
  if ((ctx = vc__calloc(1, sizeof(*ctx))) == NULL)
    return vc_error_set_oom();
  ctx->store = opts->store;
  ctx->log.cb = opts->log_cb;
  ctx->log.payload = opts->log_payload;
  ctx->log.level = opts->log_level ? opts->log_level : VC_LOG_INFO;
  ctx->clock_cb = opts->clock_cb;
  ctx->clock_payload = opts->clock_payload;
  ctx->allow_private_network = opts->allow_private_network != 0;
  ctx->lease_ms = opts->lease_ms ? opts->lease_ms : DEFAULT_LEASE_MS;
  ctx->claim_batch = opts->claim_batch ? opts->claim_batch
                                       : DEFAULT_CLAIM_BATCH;
  snprintf(ctx->event_consumer, sizeof(ctx->event_consumer), "%s",
           opts->event_consumer ? opts->event_consumer : "default");
  vc__rng_init(&ctx->rng, opts->random_seed);
  vc__ulid_gen_init(&ctx->ids, &ctx->rng);
  vc__keyring_init(&ctx->keys);
  pthread_mutex_init(&ctx->lock, NULL);
  pthread_cond_init(&ctx->wake, NULL);
  pthread_mutex_init(&ctx->deliver_lock, NULL);
  pthread_mutex_init(&ctx->host_lock, NULL);
  pthread_mutex_init(&ctx->engine_write, NULL);
  pthread_mutex_init(&ctx->listen_lock, NULL);
  pthread_mutex_init(&ctx->net_lock, NULL);
  if (opts->public_base_url != NULL &&
      (ctx->public_base_url = vc__strdup(opts->public_base_url)) == NULL) {
    rc = vc_error_set_oom();
    goto fail;
  }
  if ((rc = vc__adapters_init(ctx)) < 0 ||
      (rc = vc__tcache_new(&ctx->templates, 0, 0)) < 0 ||
      (rc = vc__tz_cache_new(&ctx->tzs)) < 0 ||
      (rc = vc__price_cache_new(&ctx->prices)) < 0 ||
      (rc = vc__rule_cache_new(&ctx->rules)) < 0 ||
      (rc = vc__limits_new(&ctx->limits)) < 0 ||
      (rc = vc__fetch_cache_new(&ctx->fetch_cache)) < 0 ||
      (rc = vc__sessions_new(ctx)) < 0 ||
      (rc = vc__dispatch_register(ctx)) < 0 ||
      (rc = vc__campaign_register(ctx)) < 0 ||
      (rc = vc__call_jobs_register(ctx)) < 0 ||
      (rc = vc__agent_register(ctx)) < 0 ||
      (rc = vc__inbound_register(ctx)) < 0 ||
      (rc = vc__recording_register(ctx)) < 0 ||
      (rc = vc__retention_register(ctx)) < 0 ||
      (rc = vc__new_id(ctx, ctx->instance_id)) < 0 ||
      (rc = host_engine_init(ctx)) < 0 ||
      (rc = open_store(ctx, opts->master_key)) < 0)
    goto fail;
  ctx->store->owned = 1;
  *out = ctx;
  return 0;
fail:
  ctx_destroy(ctx);
  return rc;
}

void vc_ctx_free(vc_ctx *ctx)
{
  if (ctx == NULL)
    return;
  /* Sessions and the listener first: they call into the context. The
   * sessions' waiting placements are answered, so engine threads stop
   * at once; the network thread goes last, when nothing of it is left. */
  vc__sessions_shutdown(ctx);
  vc__listener_stop(ctx->listener);
  ctx->listener = NULL;
  if (ctx->threads != NULL)
    vc_ctx_stop(ctx);
  vc__net_stop(ctx);
  vc_store_free(ctx->store);
  ctx_destroy(ctx);
}

int vc_ctx_options_init(vc_ctx_options *o, unsigned int version)
{
  VC_INIT_STRUCT_SIZED(o, version, VC_CTX_OPTIONS_VERSION, vc_ctx_options,
                       options_size(version), VC_CTX_OPTIONS_INIT);
}

int vc_master_key_init(vc_master_key *k, unsigned int version)
{
  VC_INIT_STRUCT(k, version, VC_MASTER_KEY_VERSION, vc_master_key,
                 VC_MASTER_KEY_INIT);
}
