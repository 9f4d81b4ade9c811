/*
 * The context's network thread. See netthread.h.
 *
 * libre 1.1.0 has no re_thread_async_main: other threads reach the loop
 * through a work list of our own, and an mqueue only wakes the loop
 * (its messages carry no data, so none is lost when the thread ends).
 * Posters push under ctx->net_lock, which vc__net_stop() also takes to
 * close the door, so the mqueue outlives every push.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "netthread.h"

#include <pthread.h>
#include <stdio.h>

#include <re.h>

#define MQ_WORK 1
#define MQ_STOP 2

typedef struct work {
  vc__net_fn run, drop;
  void *arg;
  struct work *next;
} work;

struct vc__netthread {
  vc_ctx *ctx;
  pthread_t thread;
  pthread_mutex_t mu;     /* the list and the flags below */
  pthread_cond_t cond;
  int ready, err;
  struct mqueue *mq;
  work *head, *tail;
};

static work *take_all(vc__netthread *n)
{
  work *w;

  pthread_mutex_lock(&n->mu);
  w = n->head;
  n->head = n->tail = NULL;
  pthread_mutex_unlock(&n->mu);
  return w;
}

static void on_mqueue(int id, void *data, void *arg)
{
  vc__netthread *n = arg;
  work *w, *next;

  VC_UNUSED(data);
  if (id == MQ_STOP) {
    re_cancel();
    return;
  }
  for (w = take_all(n); w != NULL; w = next) {
    next = w->next;
    w->run(w->arg);
    vc__free(w);
  }
}

static void started(vc__netthread *n, int err)
{
  pthread_mutex_lock(&n->mu);
  n->err = err;
  n->ready = 1;
  pthread_cond_broadcast(&n->cond);
  pthread_mutex_unlock(&n->mu);
}

static void *net_main(void *arg)
{
  vc__netthread *n = arg;
  int err;

  if ((err = re_thread_init()) != 0) {
    started(n, err);
    return NULL;
  }
  err = mqueue_alloc(&n->mq, on_mqueue, n);
  started(n, err);
  if (err == 0)
    (void)re_main(NULL);
  n->mq = mem_deref(n->mq);
  re_thread_close();
  return NULL;
}

/* Under ctx->net_lock. */
static int start(vc_ctx *ctx)
{
  vc__netthread *n = vc__calloc(1, sizeof(*n));
  int err;

  if (n == NULL)
    return vc_error_set_oom();
  n->ctx = ctx;
  pthread_mutex_init(&n->mu, NULL);
  pthread_cond_init(&n->cond, NULL);
  if (pthread_create(&n->thread, NULL, net_main, n) != 0) {
    err = -1;
  } else {
    pthread_mutex_lock(&n->mu);
    while (!n->ready)
      pthread_cond_wait(&n->cond, &n->mu);
    err = n->err;
    pthread_mutex_unlock(&n->mu);
    if (err != 0)
      pthread_join(n->thread, NULL);
  }
  if (err != 0) {
    pthread_cond_destroy(&n->cond);
    pthread_mutex_destroy(&n->mu);
    vc__free(n);
    return vc__error_set(VC_ERRCLASS_OS, VC_ERROR,
                         "cannot start the network thread");
  }
  ctx->net = n;
  VC_LOG(ctx, VC_LOG_DEBUG, "network thread started");
  return 0;
}

int vc__net_post(vc_ctx *ctx, vc__net_fn run, vc__net_fn drop, void *arg)
{
  work *w = vc__calloc(1, sizeof(*w));
  vc__netthread *n;
  int rc = 0;

  if (w == NULL)
    return vc_error_set_oom();
  w->run = run;
  w->drop = drop;
  w->arg = arg;
  pthread_mutex_lock(&ctx->net_lock);
  if (ctx->net_closed)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                       "the context is closing");
  else if (ctx->net == NULL)
    rc = start(ctx);
  if (rc == 0) {
    n = ctx->net;
    pthread_mutex_lock(&n->mu);
    if (n->tail != NULL)
      n->tail->next = w;
    else
      n->head = w;
    n->tail = w;
    pthread_mutex_unlock(&n->mu);
    if (mqueue_push(n->mq, MQ_WORK, NULL) != 0) {
      /* The item stays listed: the next wake-up or the stop takes it. */
      VC_LOG(ctx, VC_LOG_WARN, "cannot wake the network thread");
    }
  }
  pthread_mutex_unlock(&ctx->net_lock);
  if (rc < 0)
    vc__free(w);
  return rc;
}

int vc__net_on_thread(vc_ctx *ctx)
{
  int on;

  pthread_mutex_lock(&ctx->net_lock);
  on = ctx->net != NULL && pthread_equal(ctx->net->thread, pthread_self());
  pthread_mutex_unlock(&ctx->net_lock);
  return on;
}

/* A synchronous call: the caller waits on `cond` for `done`. */
typedef struct call {
  int (*fn)(void *arg);
  void *arg;
  int rc, done, klass;
  char message[256];
  pthread_mutex_t mu;
  pthread_cond_t cond;
} call;

static void call_finish(call *c, int rc)
{
  pthread_mutex_lock(&c->mu);
  c->rc = rc;
  c->done = 1;
  pthread_cond_signal(&c->cond);
  pthread_mutex_unlock(&c->mu);
}

static void call_run(void *arg)
{
  call *c = arg;
  int rc = c->fn(c->arg);

  if (rc < 0) {
    /* The detail is thread-local: carry it to the caller. */
    c->klass = vc_error_last()->klass;
    snprintf(c->message, sizeof(c->message), "%s",
             vc_error_last()->message);
  }
  call_finish(c, rc);
}

static void call_drop(void *arg)
{
  call *c = arg;

  c->klass = VC_ERRCLASS_INVALID;
  snprintf(c->message, sizeof(c->message), "the network thread ended");
  call_finish(c, VC_ESTATE);
}

int vc__net_call(vc_ctx *ctx, int (*fn)(void *arg), void *arg)
{
  call c;
  int rc;

  if (vc__net_on_thread(ctx))
    return fn(arg);
  memset(&c, 0, sizeof(c));
  c.fn = fn;
  c.arg = arg;
  pthread_mutex_init(&c.mu, NULL);
  pthread_cond_init(&c.cond, NULL);
  if ((rc = vc__net_post(ctx, call_run, call_drop, &c)) == 0) {
    pthread_mutex_lock(&c.mu);
    while (!c.done)
      pthread_cond_wait(&c.cond, &c.mu);
    pthread_mutex_unlock(&c.mu);
    rc = c.rc;
    if (rc < 0)
      vc__error_set(c.klass, rc, "%s", c.message);
  }
  pthread_cond_destroy(&c.cond);
  pthread_mutex_destroy(&c.mu);
  return rc;
}

void vc__net_stop(vc_ctx *ctx)
{
  vc__netthread *n;
  work *w, *next;

  pthread_mutex_lock(&ctx->net_lock);
  ctx->net_closed = 1;
  n = ctx->net;
  if (n != NULL)
    (void)mqueue_push(n->mq, MQ_STOP, NULL);
  pthread_mutex_unlock(&ctx->net_lock);
  if (n == NULL)
    return;
  pthread_join(n->thread, NULL);
  pthread_mutex_lock(&ctx->net_lock);
  ctx->net = NULL;
  pthread_mutex_unlock(&ctx->net_lock);
  /* Work posted after the last wake-up the loop served. */
  for (w = take_all(n); w != NULL; w = next) {
    next = w->next;
    if (w->drop != NULL)
      w->drop(w->arg);
    vc__free(w);
  }
  pthread_cond_destroy(&n->cond);
  pthread_mutex_destroy(&n->mu);
  vc__free(n);
  VC_LOG(ctx, VC_LOG_DEBUG, "network thread stopped");
}
