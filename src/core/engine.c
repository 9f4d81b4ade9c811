/*
 * The engine: one iteration claims and runs due jobs, then delivers
 * pending events. The host runs iterations with vc_ctx_run(), or library
 * threads run them until vc_ctx_stop().
 */
#include "common.h"
#include "ctx.h"
#include "event.h"
#include "net/transport.h"
#include "call/session.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#define MAX_THREADS 64
#define IDLE_WAIT_MS 1000   /* recheck the store at least this often */
#define ERROR_BACKOFF_MS 100

typedef struct engine_thread {
  vc_ctx *ctx;
  vc__engine engine;
} engine_thread;

static int iterate(vc_ctx *ctx, vc__engine *engine)
{
  int jobs, events;

  if ((jobs = vc__job_run_batch(ctx, engine)) < 0)
    return jobs;
  if ((events = vc__event_deliver(ctx)) < 0)
    return events;
  return jobs + events;
}

/* Wait on the wake condition up to `ms` (< 0: no limit) unless woken
 * since `seen`. Called with ctx->lock held. */
static void wait_locked(vc_ctx *ctx, uint64_t seen, int64_t ms)
{
  struct timespec ts;

  if (ms < 0) {
    while (ctx->wake_seq == seen && !ctx->stopping)
      pthread_cond_wait(&ctx->wake, &ctx->lock);
    return;
  }
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  while (ctx->wake_seq == seen && !ctx->stopping)
    if (pthread_cond_timedwait(&ctx->wake, &ctx->lock, &ts) == ETIMEDOUT)
      break;
}

/* How long to sleep for the next due job, capped at `cap` (< 0: none). */
static int64_t idle_ms(vc_ctx *ctx, int64_t cap)
{
  int64_t due = vc__job_next_due(ctx), ms;

  if (due == INT64_MAX)
    return cap;
  ms = due - vc__now(ctx);
  if (ms < 0)
    ms = 0;
  return (cap >= 0 && ms > cap) ? cap : ms;
}

/* Host threads share one engine (its transport), one at a time. */
static int host_iterate(vc_ctx *ctx)
{
  int did;

  pthread_mutex_lock(&ctx->host_lock);
  did = iterate(ctx, &ctx->host_engine);
  pthread_mutex_unlock(&ctx->host_lock);
  return did;
}

static int loop_is_set(vc_ctx *ctx)
{
  int set;

  pthread_mutex_lock(&ctx->lock);
  set = ctx->loop.timer != NULL;
  pthread_mutex_unlock(&ctx->lock);
  return set;
}

int vc_ctx_run(vc_ctx *ctx, int timeout_ms)
{
  uint64_t seen;
  int did;

  VC_ASSERT_ARG(ctx);
  if (loop_is_set(ctx))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "the host's loop drives this context");
  pthread_mutex_lock(&ctx->lock);
  seen = ctx->wake_seq;
  pthread_mutex_unlock(&ctx->lock);
  if ((did = host_iterate(ctx)) != 0 || timeout_ms == 0)
    return did;
  {
    int64_t ms = idle_ms(ctx, timeout_ms);
    pthread_mutex_lock(&ctx->lock);
    wait_locked(ctx, seen, ms);
    pthread_mutex_unlock(&ctx->lock);
  }
  return host_iterate(ctx);
}

/*
 * An engine thread keeps up to PIPELINE batches in flight on its
 * transport: while one batch's transfers run, the next is claimed,
 * planned and marked, and its transfers wait in the transport's queue,
 * so that no connection idles through a batch's store work or waits for
 * its slowest transfer. A batch's outcomes are recorded as soon as its
 * own transfers all ended.
 */
#define PIPELINE 2

typedef struct pipeline {
  vc__job_pending *batch[PIPELINE];
  size_t n;
  int claim;                  /* 0 after a claim found nothing due */
  uint64_t claim_seen;        /* wake_seq of that claim */
} pipeline;

/* Record the batches whose transfers all ended. Jobs recorded, or < 0. */
static int pipeline_finish(vc_ctx *ctx, vc__engine *engine, pipeline *pl)
{
  int did = 0;

  for (size_t i = 0; i < pl->n;) {
    if (!vc__job_pending_ready(pl->batch[i])) {
      i++;
      continue;
    }
    did += vc__job_loop_end(ctx, engine, pl->batch[i]);
    memmove(&pl->batch[i], &pl->batch[i + 1],
            (pl->n - i - 1) * sizeof(pl->batch[0]));
    pl->n--;
    pl->claim = 1; /* more may be due */
  }
  return did;
}

/* Room for another batch: a free slot and fewer transfers queued than
 * the transport runs at once. */
static int pipeline_room(const vc__engine *engine, const pipeline *pl)
{
  return pl->n < PIPELINE &&
         (engine->transport == NULL ||
          vc__transport_backlog(engine->transport) <
            vc__transport_width(engine->transport));
}

/* One turn: record finished batches, start another when there is room,
 * deliver events, then drive the transfers. The work done, or < 0. */
static int pipeline_turn(vc_ctx *ctx, vc__engine *engine, pipeline *pl,
                         uint64_t seen, int stopping)
{
  int did, rc;

  did = pipeline_finish(ctx, engine, pl);
  if (seen != pl->claim_seen)
    pl->claim = 1; /* woken: something new may be due */
  if (!stopping && pl->claim && pipeline_room(engine, pl)) {
    vc__job_pending *p = NULL;
    if ((rc = vc__job_loop_start(ctx, engine, &p)) < 0)
      return rc;
    if (rc == 0) {
      pl->claim = 0;
      pl->claim_seen = seen;
    }
    if (p != NULL)
      pl->batch[pl->n++] = p;
    did += rc;
  }
  if ((rc = vc__event_deliver(ctx)) < 0)
    return rc;
  did += rc;
  if (pl->n > 0) {
    /* Wait for a transfer only when nothing else can be started. */
    int more = !stopping && pl->claim && pipeline_room(engine, pl);
    if ((rc = vc__transport_wait(engine->transport, more ? 0 : 1000)) < 0)
      VC_LOG(ctx, VC_LOG_ERROR, "engine: %s", vc_error_last()->message);
    did++;
  }
  return did;
}

static void *thread_main(void *arg)
{
  engine_thread *t = arg;
  vc_ctx *ctx = t->ctx;
  pipeline pl;

  memset(&pl, 0, sizeof(pl));
  pl.claim = 1;
  for (;;) {
    uint64_t seen;
    int did, stopping;
    int64_t ms;

    pthread_mutex_lock(&ctx->lock);
    seen = ctx->wake_seq;
    stopping = ctx->stopping;
    pthread_mutex_unlock(&ctx->lock);
    /* Stopping: finish the batches in flight, start no more. */
    if (stopping && pl.n == 0)
      break;

    did = pipeline_turn(ctx, &t->engine, &pl, seen, stopping);
    if (did > 0)
      continue;
    if (did < 0) {
      VC_LOG(ctx, VC_LOG_ERROR, "engine: %s", vc_error_last()->message);
      ms = ERROR_BACKOFF_MS;
    } else {
      ms = idle_ms(ctx, IDLE_WAIT_MS);
    }
    pthread_mutex_lock(&ctx->lock);
    wait_locked(ctx, seen, ms);
    pthread_mutex_unlock(&ctx->lock);
    pl.claim = 1;
  }
  vc__engine_fini(&t->engine);
  vc__free(t);
  return NULL;
}

int vc_ctx_start(vc_ctx *ctx, unsigned int nthreads)
{
  unsigned int started = 0;
  int rc = 0;

  VC_ASSERT_ARG(ctx);
  if (nthreads == 0 || nthreads > MAX_THREADS)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "nthreads must be 1..%d", MAX_THREADS);
  pthread_mutex_lock(&ctx->lock);
  if (ctx->threads != NULL) {
    pthread_mutex_unlock(&ctx->lock);
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "engine threads are already running");
  }
  ctx->stopping = 0;
  ctx->threads = vc__calloc(nthreads, sizeof(pthread_t));
  if (ctx->threads == NULL) {
    pthread_mutex_unlock(&ctx->lock);
    return vc_error_set_oom();
  }
  for (; started < nthreads; started++) {
    engine_thread *t = vc__calloc(1, sizeof(*t));
    if (t == NULL) {
      rc = vc_error_set_oom();
      break;
    }
    char owner[VC_ID_SIZE + 8];
    t->ctx = ctx;
    snprintf(owner, sizeof(owner), "%s/%u", ctx->instance_id, started);
    vc__engine_init(&t->engine, owner);
    if (pthread_create(&ctx->threads[started], NULL, thread_main, t) != 0) {
      vc__free(t);
      rc = vc__error_set(VC_ERRCLASS_OS, VC_ERROR,
                         "cannot create engine thread");
      break;
    }
  }
  ctx->nthreads = started;
  pthread_mutex_unlock(&ctx->lock);
  if (rc < 0) {
    vc_ctx_stop(ctx);
    /* vc_ctx_stop cleared the detail; set it again. */
    return vc__error_set(VC_ERRCLASS_OS, rc, "cannot start engine threads");
  }
  VC_LOG(ctx, VC_LOG_INFO, "engine started with %u thread(s)", nthreads);
  /* Sessions with inbound numbers listen from the start. */
  if (vc__sessions_open_inbound(ctx) < 0) {
    VC_LOG(ctx, VC_LOG_WARN, "inbound sessions: %s",
           vc_error_last()->message);
    vc_error_clear();
  }
  return 0;
}

int vc_ctx_stop(vc_ctx *ctx)
{
  pthread_t *threads;
  unsigned int n;

  VC_ASSERT_ARG(ctx);
  pthread_mutex_lock(&ctx->lock);
  if (ctx->threads == NULL) {
    pthread_mutex_unlock(&ctx->lock);
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "engine threads are not running");
  }
  threads = ctx->threads;
  n = ctx->nthreads;
  ctx->stopping = 1;
  pthread_cond_broadcast(&ctx->wake);
  pthread_mutex_unlock(&ctx->lock);
  for (unsigned int i = 0; i < n; i++)
    pthread_join(threads[i], NULL);
  pthread_mutex_lock(&ctx->lock);
  vc__free(ctx->threads);
  ctx->threads = NULL;
  ctx->nthreads = 0;
  ctx->stopping = 0;
  pthread_mutex_unlock(&ctx->lock);
  return 0;
}

int vc_ctx_wakeup(vc_ctx *ctx)
{
  vc_loop_hooks loop;

  VC_ASSERT_ARG(ctx);
  pthread_mutex_lock(&ctx->lock);
  ctx->wake_seq++;
  pthread_cond_broadcast(&ctx->wake);
  loop = ctx->loop;
  pthread_mutex_unlock(&ctx->lock);
  if (loop.timer != NULL)
    loop.timer(loop.payload, 0);
  return 0;
}

/* ---- the host's loop (vyomcomm/loop.h) --------------------------------- */

/* The transport's hooks are the host's (VC__POLL_* are VC_LOOP_*). */
static int loop_socket(void *payload, int fd, int events)
{
  vc_ctx *ctx = payload;

  return ctx->loop.socket(ctx->loop.payload, fd, events);
}

static int loop_timer(void *payload, long ms)
{
  vc_ctx *ctx = payload;

  return ctx->loop.timer(ctx->loop.payload, ms);
}

/* With host_lock held and no batch in flight: start the next batch, or
 * deliver events and sleep until the next due job. */
static int loop_step(vc_ctx *ctx)
{
  int jobs, events;

  jobs = vc__job_loop_start(ctx, &ctx->host_engine, &ctx->loop_pending);
  if (jobs < 0) {
    VC_LOG(ctx, VC_LOG_ERROR, "engine: %s", vc_error_last()->message);
    ctx->loop.timer(ctx->loop.payload, ERROR_BACKOFF_MS);
    return jobs;
  }
  if (ctx->loop_pending != NULL)
    return jobs; /* the transport's timer and sockets take over */
  if ((events = vc__event_deliver(ctx)) < 0)
    return events;
  /* More may be due at once; otherwise wake for the next due job. */
  ctx->loop.timer(ctx->loop.payload, jobs > 0 || events > 0
                                         ? 0 : (long)idle_ms(ctx, IDLE_WAIT_MS));
  return jobs + events;
}

/* A socket is ready (fd >= 0) or the timer fired (fd < 0). */
static int loop_action(vc_ctx *ctx, int fd, int events)
{
  int did = 0, rc;

  VC_ASSERT_ARG(ctx);
  pthread_mutex_lock(&ctx->host_lock);
  if (ctx->loop.timer == NULL) {
    pthread_mutex_unlock(&ctx->host_lock);
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "no loop is set (vc_ctx_set_loop)");
  }
  if (ctx->loop_pending != NULL) {
    rc = vc__transport_action(ctx->host_engine.transport, fd, events);
    if (rc == 0 || rc < 0) {
      /* Done, or the transport failed: a failed transport leaves every
       * unfinished transfer with an error, retried like any other. */
      if (rc < 0)
        VC_LOG(ctx, VC_LOG_ERROR, "engine: %s", vc_error_last()->message);
      did = vc__job_loop_end(ctx, &ctx->host_engine, ctx->loop_pending);
      ctx->loop_pending = NULL;
    }
  }
  if (ctx->loop_pending == NULL && fd < 0)
    did += (rc = loop_step(ctx)) < 0 ? 0 : rc;
  else if (ctx->loop_pending == NULL)
    ctx->loop.timer(ctx->loop.payload, 0); /* the next batch, from the timer */
  pthread_mutex_unlock(&ctx->host_lock);
  return did;
}

int vc_loop_hooks_init(vc_loop_hooks *hooks, unsigned int version)
{
  VC_INIT_STRUCT(hooks, version, VC_LOOP_HOOKS_VERSION, vc_loop_hooks,
                 VC_LOOP_HOOKS_INIT);
}

int vc_ctx_set_loop(vc_ctx *ctx, const vc_loop_hooks *hooks)
{
  vc__transport_opts o;
  int rc;

  VC_ASSERT_ARG(ctx);
  VC_ASSERT_ARG(hooks);
  VC_CHECK_VERSION(hooks, VC_LOOP_HOOKS_VERSION, "vc_loop_hooks");
  if (hooks->socket == NULL || hooks->timer == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "both loop hooks are required");
  pthread_mutex_lock(&ctx->host_lock);
  if (ctx->loop.timer != NULL) {
    pthread_mutex_unlock(&ctx->host_lock);
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "a loop is set already");
  }
  /* A transport of the loop's own, replacing the one vc_ctx_run used. */
  memset(&o, 0, sizeof(o));
  o.allow_private = ctx->allow_private_network;
  vc__transport_free(ctx->host_engine.transport);
  ctx->host_engine.transport = NULL;
  if ((rc = vc__transport_new(&ctx->host_engine.transport, &o)) == 0)
    rc = vc__transport_use_loop(ctx->host_engine.transport, loop_socket,
                                loop_timer, ctx);
  if (rc == 0) {
    pthread_mutex_lock(&ctx->lock);
    ctx->loop = *hooks;
    pthread_mutex_unlock(&ctx->lock);
  }
  pthread_mutex_unlock(&ctx->host_lock);
  if (rc == 0)
    hooks->timer(hooks->payload, 0);
  return rc;
}

int vc_ctx_loop_socket(vc_ctx *ctx, int fd, int events)
{
  if (fd < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a negative socket");
  return loop_action(ctx, fd, events);
}

int vc_ctx_loop_timeout(vc_ctx *ctx)
{
  return loop_action(ctx, -1, 0);
}

int vc_ctx_set_event_cb(vc_ctx *ctx, vc_event_cb cb, void *payload)
{
  VC_ASSERT_ARG(ctx);
  pthread_mutex_lock(&ctx->lock);
  ctx->event_cb = cb;
  ctx->event_payload = payload;
  pthread_mutex_unlock(&ctx->lock);
  if (cb != NULL)
    vc_ctx_wakeup(ctx);
  return 0;
}
