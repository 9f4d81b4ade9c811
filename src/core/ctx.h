/*
 * The context's internals, shared by the modules that hang off it.
 */
#ifndef VC_CORE_CTX_H
#define VC_CORE_CTX_H

#include <pthread.h>

#include "common.h"
#include "keyring.h"
#include "log.h"
#include "random.h"
#include "ulid.h"
#include "job.h"
#include "store/db.h"

struct vc_ctx {
  vc_store *store;
  vc__logger log;
  vc_clock_cb clock_cb;
  void *clock_payload;
  vc__rng rng;
  vc__ulid_gen ids;
  vc__keyring keys;
  char *public_base_url;
  int64_t lease_ms;
  uint32_t claim_batch;
  char instance_id[VC_ID_SIZE]; /* lease owner name of this context */
  char event_consumer[65];      /* the event cursor's name */

  /* The engine (engine.c). */
  pthread_mutex_t lock;
  pthread_cond_t wake;
  uint64_t wake_seq;      /* bumped by vc_ctx_wakeup */
  pthread_t *threads;
  unsigned int nthreads;
  int stopping;

  /* The engine of vc_ctx_run() callers, one at a time. */
  pthread_mutex_t host_lock;
  /* The engine's write transactions, one at a time (job.h). */
  pthread_mutex_t engine_write;
  vc__engine host_engine;
  /* The host's loop (vc_ctx_set_loop): hooks written under both `lock`
   * and host_lock; the batch in flight under host_lock. */
  vc_loop_hooks loop;
  struct vc__job_pending *loop_pending;

  /* Event delivery (event.c): one deliverer at a time. */
  pthread_mutex_t deliver_lock;
  vc_event_cb event_cb;   /* read and written under `lock` */
  void *event_payload;

  /* Job handlers by kind (job.c). */
  vc__job_handler handlers[VC__JOB_KINDS_MAX];
  size_t nhandlers;

  /* Provider adapters by name (msg/adapter.c), under `lock`. */
  struct vc__adapter_registry *adapters;
  /* Compiled templates (msg/template_cache.c), locked inside. */
  struct vc__tcache *templates;
  /* Channel rate buckets and breakers (msg/limits.c). */
  struct vc__limits *limits;
  /* Adapter instances bound to channels (msg/route.c). */
  struct vc__route_cache *routes;
  /* Documents fetched for webhook verification (net/fetch.c). */
  struct vc__fetch_cache *fetch_cache;
  int allow_private_network;
  /* The network thread (net/netthread.c), under net_lock; net_closed
   * once vc_ctx_free() stopped it for good. */
  pthread_mutex_t net_lock;
  struct vc__netthread *net;
  int net_closed;
  /* The built-in webhook listener (net/listen.c), under listen_lock. */
  pthread_mutex_t listen_lock;
  struct vc__listener *listener;
  /* Session adapters' hosts (call/session.c), locked inside. */
  struct vc__sessions *sessions;
  /* Parsed time zones (core/tz.c), locked inside. */
  struct vc__tz_cache *tzs;
  /* Which tenants price messages (msg/msg_ledger.c), locked inside. */
  struct vc__price_cache *prices;
  /* Each tenant's automation rules (msg/rule.c), locked inside. */
  struct vc__rule_cache *rules;
};

/* Current time from the context's clock, in Unix milliseconds. */
int64_t vc__now(vc_ctx *ctx);
/* A new id. */
int vc__new_id(vc_ctx *ctx, char out[VC_ID_SIZE]);

#define VC_LOG(ctx, level, ...) vc__log(&(ctx)->log, (level), __VA_ARGS__)

#endif
