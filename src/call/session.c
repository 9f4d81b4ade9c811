/*
 * Session adapters' hosts. See session.h and vyomcomm/sys/transport.h.
 *
 * Threads: a session's methods run on the network thread; the engine
 * thread placing a call (or running an operation) waits on its pending
 * entry; one worker thread per context applies what sessions report,
 * in order. Everything shared is under the registry's mutex `mu`, which
 * is taken before the context's engine lock (for `stopping`), never
 * after it, and never held across a session method or a store call.
 *
 * An answer travels the report queue too, so a report the session made
 * after answering is applied only once the waiter recorded the answer
 * (the provider's id is stored before the first report that may need
 * it, and a call never looks ended before it was placed).
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/text.h"
#include "core/ulid.h"
#include "msg/limits.h"
#include "net/netthread.h"
#include "net/sink.h"
#include "net/webhook.h"
#include "machine.h"
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#define WAIT_SLICE_MS 100
/* Buckets of the worker's handed entries (a power of 2). */
#define HBUCKETS 1024

enum { PEND_PLACE = 1, PEND_OP = 2 };
enum { ITEM_REPORT = 1, ITEM_ANSWER = 2, ITEM_INCOMING = 3,
       ITEM_FETCH = 4 };

struct script_copy;

typedef struct item {
  int kind;
  struct item *next;
  uint64_t seq;                /* the order it was queued in */
  vc_session_host *host;       /* REPORT: a reference */
  struct pending *p;           /* ANSWER */
  int64_t at;                  /* REPORT: when it was made (context clock) */
  vc_call_update u;            /* REPORT: a deep copy */
  char *strs[11];
  /* The call its order is kept in: the call id, or for an arrival
   * "in:" and the provider's id. */
  char key[VC__CALL_PROVIDER_ID_MAX + 4];
  char *url;                   /* FETCH: the URL of the step */
  int has_update;              /* FETCH: `u` is what the step produced */
  struct script_copy *run;     /* INCOMING, FETCH: the script to run once
                                  the transaction committed */
} item;

typedef struct pending {
  int kind;
  char call_id[VC_ID_SIZE];
  uint64_t token;
  struct vc__sessions *reg;
  vc_session_host *host;       /* a reference while it waits */
  int listed;                  /* in host->pending */
  int answered, handed, released, abandoned;
  vc_send_result result;
  pthread_cond_t cond;
  item answer;                 /* queued when answered */
  struct pending *next;
  struct pending *hnext;       /* in reg->handed (the worker's) */
  /* Handed: in its bucket's chain, with the call's items that wait for
   * the waiter (the worker's). */
  struct pending *bnext;
  struct item *bhead, *btail;
} pending;

struct vc__session_wait {
  pending p;
};

struct vc_session_host {
  struct vc__sessions *reg;
  vc_ctx *ctx;
  char tenant_id[VC_ID_SIZE];
  char channel_id[VC_ID_SIZE];
  vc__route_instance *inst;    /* a reference until closed */
  const vc_session_ops *ops;
  void *session;               /* the network thread's */
  char open_error[200];        /* the network thread's */
  int open_tried;              /* the network thread's */
  int refs;                    /* under mu */
  int listed, closed;          /* under mu */
  int link_down;               /* under mu */
  pending *pending;            /* under mu */
  vc_session_host *next;
};

typedef struct vc__sessions {
  vc_ctx *ctx;
  pthread_mutex_t mu;
  pthread_cond_t work;
  vc_session_host *hosts;
  item *head, *tail;
  pending *handed;             /* handed to waiters, not reaped yet */
  int closing, stop_worker, worker_running;
  pthread_t worker;
  uint64_t next_token;
  uint64_t next_seq;           /* of the items queued */
  pending *hbucket[HBUCKETS];  /* the handed entries, by call id */
} vc__sessions;

int vc__session_adapter(const vc_adapter *a)
{
  return a->version >= 2 && a->session != NULL;
}

/* The message is `text` followed by `arg` (may be NULL). */
static void set_result(vc_send_result *r, int outcome, int error,
                       const char *text, const char *arg)
{
  memset(r, 0, sizeof(*r));
  r->version = VC_SEND_RESULT_VERSION;
  r->outcome = outcome;
  r->error = error;
  snprintf(r->error_message, sizeof(r->error_message), "%s%s", text,
           arg ? arg : "");
}

/* ---- hosts ---------------------------------------------------------------- */

/* Under mu. */
static void host_unref_locked(vc__sessions *reg, vc_session_host *h,
                              int *free_it)
{
  VC_UNUSED(reg);
  *free_it = --h->refs == 0;
}

static void host_unref(vc_session_host *h)
{
  vc__sessions *reg = h->reg;
  int free_it;

  pthread_mutex_lock(&reg->mu);
  host_unref_locked(reg, h, &free_it);
  pthread_mutex_unlock(&reg->mu);
  if (free_it)
    vc__free(h);
}

/* Under mu: queue an item for the worker. */
static void enqueue_locked(vc__sessions *reg, item *it)
{
  it->next = NULL;
  it->seq = ++reg->next_seq;
  if (reg->tail != NULL)
    reg->tail->next = it;
  else
    reg->head = it;
  reg->tail = it;
  pthread_cond_signal(&reg->work);
}

/* Under mu. 0, or VC_ENOTFOUND when it was answered or given up. */
static int answer_locked(vc__sessions *reg, pending *p,
                         const vc_send_result *r)
{
  pending **pp;

  if (!p->listed || p->answered)
    return VC_ENOTFOUND;
  for (pp = &p->host->pending; *pp != NULL; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  p->listed = 0;
  p->answered = 1;
  p->result = *r;
  p->result.version = VC_SEND_RESULT_VERSION;
  p->answer.kind = ITEM_ANSWER;
  p->answer.p = p;
  enqueue_locked(reg, &p->answer);
  return 0;
}

/* Under mu: the entry still waiting for an answer, or NULL. */
static pending *find_locked(vc_session_host *h, int kind,
                            const char *call_id, uint64_t token)
{
  for (pending *p = h->pending; p != NULL; p = p->next)
    if (p->kind == kind && (kind == PEND_PLACE
                              ? strcmp(p->call_id, call_id) == 0
                              : p->token == token))
      return p;
  return NULL;
}

/* Answer a placement (by call id) or an operation (by token). */
static int answer(vc_session_host *h, int kind, const char *call_id,
                  uint64_t token, const vc_send_result *r)
{
  pending *p;
  int rc = VC_ENOTFOUND;

  pthread_mutex_lock(&h->reg->mu);
  if ((p = find_locked(h, kind, call_id, token)) != NULL)
    rc = answer_locked(h->reg, p, r);
  pthread_mutex_unlock(&h->reg->mu);
  return rc;
}

/* Under mu: answer every waiter of a closing host. */
static void fail_pending_locked(vc_session_host *h, int outcome,
                                const char *why)
{
  vc_send_result r;

  set_result(&r, outcome, VC_ENET, "", why);
  while (h->pending != NULL)
    (void)answer_locked(h->reg, h->pending, &r);
}

/* The part of closing that needs no loop. */
static void host_release(vc_session_host *h, int outcome, const char *why)
{
  vc__sessions *reg = h->reg;
  vc_ctx *ctx = h->ctx;
  vc__route_instance *inst;
  int free_it;

  pthread_mutex_lock(&reg->mu);
  h->closed = 1;
  fail_pending_locked(h, outcome, why);
  inst = h->inst;
  h->inst = NULL;
  host_unref_locked(reg, h, &free_it); /* the registry's reference */
  pthread_mutex_unlock(&reg->mu);
  /* Past the unlock `h` may be freed by a waiter's unref: use copies. */
  if (inst != NULL)
    vc__route_instance_put(ctx, inst);
  if (free_it)
    vc__free(h);
}

/* On the network thread. */
static void host_close_run(void *arg)
{
  vc_session_host *h = arg;

  if (h->session != NULL) {
    h->ops->close(h->session);
    h->session = NULL;
    VC_LOG(h->ctx, VC_LOG_INFO, "session of channel %s closed",
           h->channel_id);
  }
  host_release(h, VC_SEND_RETRY, "the session closed");
}

static void host_close_drop(void *arg)
{
  host_release(arg, VC_SEND_RETRY, "the session closed");
}

static int host_close_sync(void *arg)
{
  host_close_run(arg);
  return 0;
}

/* Under mu. */
static void unlist_locked(vc__sessions *reg, vc_session_host *h)
{
  vc_session_host **hp;

  for (hp = &reg->hosts; *hp != NULL; hp = &(*hp)->next)
    if (*hp == h) {
      *hp = h->next;
      break;
    }
  h->listed = 0;
}

/* On the network thread: open the session, once. The open is posted by
 * the engine thread that made the host; another engine thread's
 * placement on the same host may be posted before it, and opens it
 * first. */
static void host_open(vc_session_host *h)
{
  int rc = 0, closed;

  if (h->open_tried)
    return;
  h->open_tried = 1;
  pthread_mutex_lock(&h->reg->mu);
  closed = h->closed;
  pthread_mutex_unlock(&h->reg->mu);
  if (!closed)
    rc = h->ops->open(&h->session, h->inst->state, h);
  if (rc < 0 || h->session == NULL) {
    vc__sessions *reg = h->reg;
    int listed;
    snprintf(h->open_error, sizeof(h->open_error), "%s",
             rc < 0 ? vc_error_last()->message : "the session is closed");
    h->session = NULL;
    VC_LOG(h->ctx, VC_LOG_WARN, "session of channel %s did not open: %s",
           h->channel_id, h->open_error);
    /* The next call tries again. */
    pthread_mutex_lock(&reg->mu);
    listed = h->listed;
    if (listed)
      unlist_locked(reg, h);
    pthread_mutex_unlock(&reg->mu);
    if (listed) /* its calls go to the next channel */
      host_release(h, VC_SEND_FAILOVER, h->open_error);
  } else {
    VC_LOG(h->ctx, VC_LOG_INFO, "session of channel %s opened",
           h->channel_id);
  }
}

static void host_open_run(void *arg)
{
  vc_session_host *h = arg;

  host_open(h);
  host_unref(h); /* the open's own reference */
}

static void host_open_drop(void *arg)
{
  host_unref(arg);
}

static void *worker_main(void *arg);

/* The open host of the channel `inst` is bound to, opening one (and
 * closing one bound to an older version of the channel). A reference
 * for the caller. */
static int host_get(vc_session_host **out, vc_ctx *ctx,
                    const char *tenant_id, vc__route_instance *inst)
{
  vc__sessions *reg = ctx->sessions;
  vc_session_host *h, *old = NULL, *made;
  int rc = 0;

  if ((made = vc__calloc(1, sizeof(*made))) == NULL)
    return vc_error_set_oom();
  pthread_mutex_lock(&reg->mu);
  if (reg->closing) {
    pthread_mutex_unlock(&reg->mu);
    vc__free(made);
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "the context is closing");
  }
  for (h = reg->hosts; h != NULL; h = h->next)
    if (strcmp(h->channel_id, inst->channel_id) == 0)
      break;
  /* The same version of the channel in another instance (two engine
   * threads that made one each at once) keeps the open session. */
  if (h != NULL && (h->inst == inst ||
                    (h->inst != NULL &&
                     h->inst->updated_at == inst->updated_at))) {
    h->refs++;
    *out = h;
    pthread_mutex_unlock(&reg->mu);
    vc__free(made);
    return 0;
  }
  if (h != NULL) {
    old = h; /* the channel changed: its old session goes */
    unlist_locked(reg, old);
  }
  if (!reg->worker_running) {
    if (pthread_create(&reg->worker, NULL, worker_main, reg) != 0) {
      pthread_mutex_unlock(&reg->mu);
      vc__free(made);
      rc = vc__error_set(VC_ERRCLASS_OS, VC_ERROR,
                         "cannot start the session worker");
      goto close_old;
    }
    reg->worker_running = 1;
  }
  made->reg = reg;
  made->ctx = ctx;
  snprintf(made->tenant_id, sizeof(made->tenant_id), "%s", tenant_id);
  snprintf(made->channel_id, sizeof(made->channel_id), "%s",
           inst->channel_id);
  made->inst = inst;
  made->ops = inst->adapter.session;
  made->refs = 3; /* the registry's, the open's, the caller's */
  made->listed = 1;
  made->next = reg->hosts;
  reg->hosts = made;
  pthread_mutex_unlock(&reg->mu);
  pthread_mutex_lock(&ctx->lock);
  inst->refs++; /* kept until the session closes */
  pthread_mutex_unlock(&ctx->lock);
  if ((rc = vc__net_post(ctx, host_open_run, host_open_drop, made)) < 0) {
    pthread_mutex_lock(&reg->mu);
    unlist_locked(reg, made);
    made->refs--; /* no open */
    pthread_mutex_unlock(&reg->mu);
    host_release(made, VC_SEND_RETRY, "the network thread is not running");
    host_unref(made);
  } else {
    *out = made;
  }
close_old:
  if (old != NULL &&
      vc__net_post(ctx, host_close_run, host_close_drop, old) < 0)
    host_close_drop(old);
  return rc;
}

/* ---- placing and operations ---------------------------------------------- */

/* A copy of what goes to the network thread. */
typedef struct handoff {
  vc_session_host *host;       /* a reference */
  /* Its pending entry, found again by these: the waiter may have given
   * up and freed it meanwhile. */
  int kind;
  uint64_t token;
  vc_call_outbound ob;
  vc_call_control c;
  char *strs[8];
} handoff;

static const char *keep(handoff *o, int i, const char *s)
{
  if (s == NULL)
    return NULL;
  o->strs[i] = vc__strdup(s);
  return o->strs[i] ? o->strs[i] : "";
}

static void handoff_free(handoff *o)
{
  host_unref(o->host);
  for (size_t i = 0; i < VC_ARRAY_SIZE(o->strs); i++)
    vc__free(o->strs[i]);
  vc__free(o);
}

/* What a method that failed with `rc` said, or the code's name. */
static const char *error_text(int rc)
{
  const vc_error *e = vc_error_last();

  return e->code == rc && e->message[0] ? e->message : vc_strerror(rc);
}

/* On the network thread. */
static void place_run(void *arg)
{
  handoff *o = arg;
  vc_session_host *h = o->host;
  vc_send_result r;
  int rc;

  host_open(h);
  if (h->session == NULL) {
    set_result(&r, VC_SEND_FAILOVER, VC_ENET, "the session did not open: ",
               h->open_error[0] ? h->open_error : "closed");
    answer(h, o->kind, o->ob.call_id, o->token, &r);
  } else if ((rc = h->ops->place_call(h->session, &o->ob)) < 0) {
    set_result(&r, VC_SEND_REJECTED, rc, "", error_text(rc));
    answer(h, o->kind, o->ob.call_id, o->token, &r);
  }
  handoff_free(o);
}

static void op_run(void *arg)
{
  handoff *o = arg;
  vc_session_host *h = o->host;
  vc_send_result r;
  int rc;

  host_open(h);
  if (h->session == NULL) {
    set_result(&r, VC_SEND_RETRY, VC_ENET, "the session did not open: ",
               h->open_error[0] ? h->open_error : "closed");
    answer(h, o->kind, o->ob.call_id, o->token, &r);
  } else if (h->ops->operation == NULL) {
    set_result(&r, VC_SEND_REJECTED, VC_ENOTSUPPORTED,
               "the provider cannot do this", NULL);
    answer(h, o->kind, o->ob.call_id, o->token, &r);
  } else if ((rc = h->ops->operation(h->session, &o->c, o->token)) < 0) {
    set_result(&r, VC_SEND_REJECTED, rc, "", error_text(rc));
    answer(h, o->kind, o->ob.call_id, o->token, &r);
  }
  handoff_free(o);
}

static void handoff_drop(void *arg)
{
  handoff *o = arg;
  vc_send_result r;

  set_result(&r, VC_SEND_RETRY, VC_ESTATE, "the network thread ended",
             NULL);
  answer(o->host, o->kind, o->ob.call_id, o->token, &r);
  handoff_free(o);
}

static int engine_stopping(vc_ctx *ctx)
{
  int s;

  pthread_mutex_lock(&ctx->lock);
  s = ctx->stopping;
  pthread_mutex_unlock(&ctx->lock);
  return s;
}

/* Wait for p's answer until `until` on the context's clock; under
 * nothing. 0 once it is over: *result is the answer, or RETRY when the
 * engine stopped or `until` passed with `give_up` set (the entry is then
 * abandoned). 1 when `until` passed without `give_up`: still waiting. */
static int wait_answer(pending *p, vc_ctx *ctx, int64_t until, int give_up,
                       vc_send_result *result)
{
  vc__sessions *reg = ctx->sessions;
  vc_session_host *h = p->host;
  struct timespec ts;

  pthread_mutex_lock(&reg->mu);
  while (!p->handed) {
    if (!p->answered) {
      int stopping = engine_stopping(ctx);
      if (!stopping && !give_up && vc__now(ctx) >= until) {
        pthread_mutex_unlock(&reg->mu);
        return 1;
      }
      if (stopping || vc__now(ctx) >= until) {
        pending **pp;
        for (pp = &h->pending; *pp != NULL; pp = &(*pp)->next)
          if (*pp == p) {
            *pp = p->next;
            break;
          }
        p->listed = 0;
        p->abandoned = 1;
        if (stopping)
          set_result(result, VC_SEND_RETRY, VC_ESTATE,
                     "the engine stopped before the session answered",
                     NULL);
        else
          set_result(result, VC_SEND_RETRY, VC_ETIMEOUT,
                     "the session did not answer in time", NULL);
        break;
      }
    }
    /* Answers wake this at once; the slice only rechecks the clock
     * (a host's clock may move without real time passing). */
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += WAIT_SLICE_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    (void)pthread_cond_timedwait(&p->cond, &reg->mu, &ts);
  }
  if (p->handed)
    *result = p->result;
  p->host = NULL;
  pthread_mutex_unlock(&reg->mu);
  host_unref(h);
  return 0;
}

/* Register a pending entry on a host (a reference for it). */
static pending *pending_new(vc_session_host *h, int kind,
                            const char *call_id)
{
  vc__session_wait *w = vc__calloc(1, sizeof(*w));
  pending *p;

  if (w == NULL)
    return NULL;
  p = &w->p;
  p->kind = kind;
  snprintf(p->call_id, sizeof(p->call_id), "%s", call_id ? call_id : "");
  pthread_cond_init(&p->cond, NULL);
  p->reg = h->reg;
  pthread_mutex_lock(&h->reg->mu);
  if (h->closed) {
    /* Nobody would answer it. */
    pthread_mutex_unlock(&h->reg->mu);
    pthread_cond_destroy(&p->cond);
    vc__free(w);
    return NULL;
  }
  p->token = ++h->reg->next_token;
  p->host = h;
  h->refs++;
  p->listed = 1;
  p->next = h->pending;
  h->pending = p;
  pthread_mutex_unlock(&h->reg->mu);
  return p;
}

static void pending_free(pending *p)
{
  pthread_cond_destroy(&p->cond);
  vc__free(p); /* the vc__session_wait around it */
}

void vc__session_release(vc__session_wait *w)
{
  vc__sessions *reg;
  pending *p;
  int free_it;

  if (w == NULL)
    return;
  p = &w->p;
  reg = p->reg;
  pthread_mutex_lock(&reg->mu);
  p->released = 1;
  /* An answered entry is the worker's, which holds the call's later
   * reports back until this. */
  free_it = !p->answered;
  if (!free_it)
    pthread_cond_signal(&reg->work);
  pthread_mutex_unlock(&reg->mu);
  if (free_it)
    pending_free(p);
}

/* Hand `ob` or `c` to the session; *w is its pending entry, or NULL
 * with *result set when it could not go. */
static void session_start(vc__session_wait **w, vc_ctx *ctx,
                          const char *tenant_id, vc__route_instance *inst,
                          const vc_call_outbound *ob,
                          const vc_call_control *c, vc_send_result *result)
{
  vc_session_host *h = NULL;
  handoff *o = NULL;
  pending *p = NULL;
  int rc, down;

  *w = NULL;
  if ((rc = host_get(&h, ctx, tenant_id, inst)) < 0) {
    set_result(result, VC_SEND_RETRY, rc, "", vc_error_last()->message);
    return;
  }
  pthread_mutex_lock(&ctx->sessions->mu);
  down = h->link_down;
  pthread_mutex_unlock(&ctx->sessions->mu);
  if (down && ob != NULL) {
    /* Placing on a session whose link is down: the next channel. */
    set_result(result, VC_SEND_FAILOVER, VC_ENET,
               "the session's link is down", NULL);
    host_unref(h);
    return;
  }
  if ((o = vc__calloc(1, sizeof(*o))) == NULL ||
      (p = pending_new(h, ob ? PEND_PLACE : PEND_OP,
                       ob ? ob->call_id : c->call_id)) == NULL) {
    vc__free(o);
    host_unref(h);
    set_result(result, VC_SEND_RETRY, VC_ENET,
               "the session closed, or out of memory", NULL);
    return;
  }
  o->host = h; /* the caller's reference goes with the handoff */
  o->kind = p->kind;
  o->token = p->token;
  if (ob != NULL) {
    o->ob = *ob;
    o->ob.call_id = keep(o, 0, ob->call_id);
    o->ob.tenant_id = keep(o, 1, ob->tenant_id);
    o->ob.agent = keep(o, 2, ob->agent);
    o->ob.customer = keep(o, 3, ob->customer);
    o->ob.caller_id = keep(o, 4, ob->caller_id);
    o->ob.webhook_url = keep(o, 5, ob->webhook_url);
    o->ob.metadata_json = keep(o, 6, ob->metadata_json);
  } else {
    o->c = *c;
    o->c.call_id = keep(o, 0, c->call_id);
    o->c.provider_call_id = keep(o, 1, c->provider_call_id);
    o->c.customer_leg_id = keep(o, 2, c->customer_leg_id);
    o->c.target = keep(o, 3, c->target);
    o->c.caller_id = keep(o, 4, c->caller_id);
    o->c.recording_id = keep(o, 5, c->recording_id);
    o->c.webhook_url = keep(o, 6, c->webhook_url);
  }
  if ((rc = vc__net_post(ctx, ob ? place_run : op_run, handoff_drop,
                         o)) < 0) {
    vc_send_result r;
    set_result(&r, VC_SEND_RETRY, rc, "", vc_error_last()->message);
    answer(h, o->kind, o->ob.call_id, o->token, &r);
    handoff_free(o);
  }
  *w = (vc__session_wait *)p;
}

static void session_call(vc__session_wait **w, vc_ctx *ctx,
                         const char *tenant_id, vc__route_instance *inst,
                         const vc_call_outbound *ob, const vc_call_control *c,
                         int64_t deadline, vc_send_result *result)
{
  session_start(w, ctx, tenant_id, inst, ob, c, result);
  if (*w != NULL)
    (void)wait_answer(&(*w)->p, ctx, deadline, 1, result);
}

void vc__session_place(vc__session_wait **w, vc_ctx *ctx,
                       const char *tenant_id, vc__route_instance *inst,
                       const vc_call_outbound *ob, int64_t deadline,
                       vc_send_result *result)
{
  session_call(w, ctx, tenant_id, inst, ob, NULL, deadline, result);
}

void vc__session_operate(vc__session_wait **w, vc_ctx *ctx,
                         const char *tenant_id, vc__route_instance *inst,
                         const vc_call_control *c, int64_t deadline,
                         vc_send_result *result)
{
  session_call(w, ctx, tenant_id, inst, NULL, c, deadline, result);
}

void vc__session_place_start(vc__session_wait **w, vc_ctx *ctx,
                             const char *tenant_id, vc__route_instance *inst,
                             const vc_call_outbound *ob,
                             vc_send_result *result)
{
  session_start(w, ctx, tenant_id, inst, ob, NULL, result);
}

void vc__session_operate_start(vc__session_wait **w, vc_ctx *ctx,
                               const char *tenant_id,
                               vc__route_instance *inst,
                               const vc_call_control *c,
                               vc_send_result *result)
{
  session_start(w, ctx, tenant_id, inst, NULL, c, result);
}

int vc__session_await(vc__session_wait *w, vc_ctx *ctx, int64_t until,
                      int give_up, vc_send_result *result)
{
  if (w == NULL || w->p.host == NULL)
    return 0; /* answered already, or never started */
  return wait_answer(&w->p, ctx, until, give_up, result);
}

/* ---- what sessions report -------------------------------------------------- */

int vc_session_placed(vc_session_host *host, const char *call_id,
                      const vc_send_result *result)
{
  VC_ASSERT_ARG(host);
  VC_ASSERT_ARG(call_id);
  VC_ASSERT_ARG(result);
  VC_CHECK_VERSION(result, VC_SEND_RESULT_VERSION, "vc_send_result");
  if (answer(host, PEND_PLACE, call_id, 0, result) < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no placement of call %.40s is pending", call_id);
  return 0;
}

int vc_session_done(vc_session_host *host, uint64_t token,
                    const vc_send_result *result)
{
  VC_ASSERT_ARG(host);
  VC_ASSERT_ARG(result);
  VC_CHECK_VERSION(result, VC_SEND_RESULT_VERSION, "vc_send_result");
  if (answer(host, PEND_OP, NULL, token, result) < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no operation %llu is pending",
                         (unsigned long long)token);
  return 0;
}

static void script_copy_free(struct script_copy *c);

static void item_free(item *it)
{
  for (size_t i = 0; i < VC_ARRAY_SIZE(it->strs); i++)
    vc__free(it->strs[i]);
  vc__free(it->url);
  script_copy_free(it->run);
  if (it->host != NULL)
    host_unref(it->host);
  vc__free(it);
}

static const char *keep_str(item *it, int i, const char *s, int *oom)
{
  if (s == NULL)
    return NULL;
  if ((it->strs[i] = vc__strdup(s)) == NULL)
    *oom = 1;
  return it->strs[i];
}

int vc_session_report(vc_session_host *host, const vc_call_update *u)
{
  vc_event_sink check;
  item *it;
  int rc, oom = 0;

  VC_ASSERT_ARG(host);
  VC_ASSERT_ARG(u);
  /* The checks of vc_event_sink_call(), on a sink that keeps nothing. */
  vc__sink_init(&check, NULL, NULL, NULL);
  rc = vc_event_sink_call(&check, u);
  vc__sink_fini(&check);
  if (rc < 0)
    return rc;
  if (u->call_id == NULL || !vc__ulid_valid(u->call_id))
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "a session's call update names its call_id");
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  it->kind = ITEM_REPORT;
  it->at = vc__now(host->ctx);
  it->u = *u;
  it->u.call_id = keep_str(it, 0, u->call_id, &oom);
  it->u.provider_call_id = keep_str(it, 1, u->provider_call_id, &oom);
  it->u.leg_provider_id = keep_str(it, 2, u->leg_provider_id, &oom);
  it->u.event_id = keep_str(it, 3, u->event_id, &oom);
  it->u.provider_code = keep_str(it, 4, u->provider_code, &oom);
  it->u.digits = keep_str(it, 5, u->digits, &oom);
  it->u.recording_id = keep_str(it, 6, u->recording_id, &oom);
  it->u.recording_url = keep_str(it, 7, u->recording_url, &oom);
  it->u.from = it->u.to = NULL;
  snprintf(it->key, sizeof(it->key), "%s", u->call_id);
  if (oom) {
    item_free(it);
    return vc_error_set_oom();
  }
  pthread_mutex_lock(&host->reg->mu);
  host->refs++;
  it->host = host;
  enqueue_locked(host->reg, it);
  pthread_mutex_unlock(&host->reg->mu);
  return 0;
}

void vc_session_link(vc_session_host *host, int up, const char *why)
{
  vc_ctx *ctx;
  int was_down;

  if (host == NULL)
    return;
  ctx = host->ctx;
  pthread_mutex_lock(&host->reg->mu);
  was_down = host->link_down;
  host->link_down = !up;
  pthread_mutex_unlock(&host->reg->mu);
  if (up)
    VC_LOG(ctx, was_down ? VC_LOG_INFO : VC_LOG_DEBUG,
           "session of channel %s: link up%s%.200s", host->channel_id,
           why ? ": " : "", why ? why : "");
  else
    VC_LOG(ctx, VC_LOG_WARN, "session of channel %s: link down%s%.200s",
           host->channel_id, why ? ": " : "", why ? why : "");
  /* A link that went down counts as a failed request to the channel, one
   * that came back as a success (it closes the breaker). */
  vc__limits_report(ctx->limits, host->channel_id, up != 0, vc__now(ctx));
}

void vc_session_log(vc_session_host *host, int level, const char *text)
{
  if (host == NULL || text == NULL)
    return;
  VC_LOG(host->ctx, level, "session of channel %s: %.300s",
         host->channel_id, text);
}

/* ---- the worker ------------------------------------------------------------ */

/* At most this many reports share one transaction. */
#define BATCH_MAX 256

static int apply_inbound(vc__sessions *reg, vc__db *db, item *it,
                         int *outcome);

/* Apply one report on `db`, inside the caller's transaction. */
static int apply_one(vc__sessions *reg, vc__db *db, item *it, int *outcome)
{
  vc_session_host *h = it->host;
  vc__call_webhook w;
  int rc;

  *outcome = 0;
  if (it->kind == ITEM_INCOMING || it->kind == ITEM_FETCH)
    return apply_inbound(reg, db, it, outcome);
  if (it->u.type == VC_UPDATE_SCRIPT) {
    VC_LOG(reg->ctx, VC_LOG_DEBUG, "session of channel %s: a script report "
           "is not a session's; ignored", h->channel_id);
    return 0;
  }
  memset(&w, 0, sizeof(w));
  w.ctx = reg->ctx;
  w.db = db;
  w.tenant_id = h->tenant_id;
  w.channel_id = h->channel_id;
  /* The time the session made it, however long it queued. */
  w.now = it->at;
  if ((rc = vc__webhook_call_update(&w, &it->u)) < 0)
    return rc;
  *outcome = rc;
  VC_LOG(reg->ctx, VC_LOG_DEBUG, "session report (type %d) for call %s: %s",
         it->u.type, it->u.call_id,
         rc == VC__CALL_UPDATE_APPLIED ? "applied"
         : rc == VC__CALL_UPDATE_DUPLICATE ? "duplicate" : "no such call");
  return 0;
}

static void script_post(vc_ctx *ctx, struct script_copy *c);

/* Apply `n` reports in one transaction. 1 when one of them changed a
 * call; < 0 when the transaction failed (nothing of it stays). */
static int apply_together(vc__sessions *reg, item *const *its, size_t n)
{
  vc_ctx *ctx = reg->ctx;
  vc__db *db;
  int rc, outcome, applied = 0;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    for (size_t i = 0; i < n && rc == 0; i++)
      if ((rc = apply_one(reg, db, its[i], &outcome)) == 0 &&
          outcome == VC__CALL_UPDATE_APPLIED)
        applied = 1;
    if (rc == 0)
      rc = vc__webhook_seen_purge(db, vc__now(ctx));
    if (rc == 0)
      rc = vc__db_commit(db);
    if (rc < 0)
      vc__db_rollback(db);
  }
  vc__db_release(db);
  /* The scripts go to their sessions once what made them is stored. */
  for (size_t i = 0; i < n; i++)
    if (its[i]->run != NULL) {
      if (rc == 0)
        script_post(ctx, its[i]->run);
      else
        script_copy_free(its[i]->run);
      its[i]->run = NULL;
    }
  return rc < 0 ? rc : applied;
}

/* Apply a batch of reports, in order: in one transaction, or when that
 * fails, each in its own, so that one report the store refuses is the
 * only one lost (and logged). */
static void apply_batch(vc__sessions *reg, item *const *its, size_t n)
{
  vc_ctx *ctx = reg->ctx;
  int rc, applied = 0;

  if (n == 0)
    return;
  if ((rc = apply_together(reg, its, n)) >= 0) {
    applied = rc;
  } else {
    vc_error_clear();
    for (size_t i = 0; i < n; i++) {
      if ((rc = apply_together(reg, its + i, 1)) >= 0) {
        applied |= rc;
        continue;
      }
      VC_LOG(ctx, VC_LOG_WARN, "session report for call %s not applied: %s",
             its[i]->u.call_id, vc_error_last()->message);
      vc_error_clear();
    }
  }
  if (applied)
    vc_ctx_wakeup(ctx);
}

static const char *item_call(const item *it)
{
  return it->kind == ITEM_ANSWER ? it->p->call_id : it->key;
}

/* Under mu, without the sets: whether an item of the call was kept this
 * turn. */
static int kept_locked(const item *kept, const char *call_id)
{
  for (const item *it = kept; it != NULL; it = it->next)
    if (strcmp(item_call(it), call_id) == 0)
      return 1;
  return 0;
}

/* A turn's set of call ids, open addressing; the strings are the
 * items' and the pendings', which outlive the turn's scan. With a few
 * hundred calls reporting at once, scanning the lists per item made the
 * turn quadratic. (id_hash also picks a handed entry's bucket.) */
typedef struct idset {
  const char **slot;
  size_t mask;
} idset;

static size_t id_hash(const char *s)
{
  size_t h = 2166136261u;

  while (*s != '\0')
    h = (h ^ (unsigned char)*s++) * 16777619u;
  return h;
}

/* 0, or -1 when out of memory (the caller scans the lists instead). */
static int idset_init(idset *set, size_t n)
{
  size_t cap = 64;

  while (cap < 2 * n)
    cap *= 2;
  set->mask = cap - 1;
  set->slot = vc__calloc(cap, sizeof(*set->slot));
  return set->slot != NULL ? 0 : -1;
}

static int idset_has(const idset *set, const char *id)
{
  for (size_t i = id_hash(id) & set->mask; set->slot[i] != NULL;
       i = (i + 1) & set->mask)
    if (strcmp(set->slot[i], id) == 0)
      return 1;
  return 0;
}

/* At most as many distinct ids as the set was made for. */
static void idset_add(idset *set, const char *id)
{
  size_t i = id_hash(id) & set->mask;

  for (; set->slot[i] != NULL; i = (i + 1) & set->mask)
    if (strcmp(set->slot[i], id) == 0)
      return;
  set->slot[i] = id;
}

/* Under mu: the handed entries, chained by bucket. A call has at most
 * one (its later answers wait behind it like its reports), which holds
 * the call's items that wait. */
static pending **bucket_of(vc__sessions *reg, const char *call_id)
{
  return &reg->hbucket[id_hash(call_id) & (HBUCKETS - 1)];
}

static pending *handed_of(vc__sessions *reg, const char *call_id)
{
  for (pending *p = *bucket_of(reg, call_id); p != NULL; p = p->bnext)
    if (strcmp(p->call_id, call_id) == 0)
      return p;
  return NULL;
}

/* Under mu: hand an answer to its waiter; the call's later items wait
 * until the waiter recorded it. */
static void hand_locked(vc__sessions *reg, pending *p)
{
  pending **bp = bucket_of(reg, p->call_id);

  p->bnext = *bp;
  *bp = p;
  p->bhead = p->btail = NULL;
  p->handed = 1;
  p->hnext = reg->handed;
  reg->handed = p;
  pthread_cond_broadcast(&p->cond);
}

/* Under mu: take the handed entries their waiters released; their
 * calls' waiting items go back on *unblocked. */
static pending *reap_locked(vc__sessions *reg, item **unblocked)
{
  pending *done = NULL, **pp = &reg->handed;

  while (*pp != NULL) {
    pending *p = *pp, **bp;
    if (!p->released) {
      pp = &p->hnext;
      continue;
    }
    *pp = p->hnext;
    p->hnext = done;
    done = p;
    for (bp = bucket_of(reg, p->call_id); *bp != p; bp = &(*bp)->bnext)
      ;
    *bp = p->bnext;
    if (p->bhead != NULL) {
      p->btail->next = *unblocked;
      *unblocked = p->bhead;
      p->bhead = p->btail = NULL;
    }
  }
  return done;
}

/* Items in the order they were queued (a merge sort of the list). */
static item *by_seq(item *list)
{
  item *a = NULL, *b = NULL, *out = NULL, **tail = &out;
  int side = 0;

  if (list == NULL || list->next == NULL)
    return list;
  while (list != NULL) {
    item *next = list->next;
    item **half = side ? &b : &a;
    list->next = *half;
    *half = list;
    side = !side;
    list = next;
  }
  a = by_seq(a);
  b = by_seq(b);
  while (a != NULL && b != NULL) {
    item **from = a->seq < b->seq ? &a : &b;
    *tail = *from;
    *from = (*from)->next;
    tail = &(*tail)->next;
  }
  *tail = a != NULL ? a : b;
  return out;
}

/*
 * Items are applied in the order the sessions made them, call by call:
 * each turn hands every answer that can go to its waiter, and applies
 * every report that can go in one transaction. A call's items after an
 * answer wait until its waiter recorded that answer
 * (vc__session_release); an answer waits for the call's reports made
 * before it to commit. Other calls' items do not wait for either.
 *
 * The items that wait for a waiter are kept with the call's handed
 * answer, and come back (in their order among the others) when it is
 * released, so a turn looks only at the items that may go: with a few
 * hundred calls waiting, looking at every waiting item every turn made
 * the turns quadratic.
 */
static void *worker_main(void *arg)
{
  vc__sessions *reg = arg;
  item *todo = NULL, *batch[BATCH_MAX];
  idset kept_calls, in_batch;
  int again = 0, sets;

  pthread_mutex_lock(&reg->mu);
  for (;;) {
    item *unblocked = NULL, *fresh = reg->head;
    pending *reaped = reap_locked(reg, &unblocked);
    item *kept = NULL, **kept_tail = &kept, *it, *next;
    size_t n = 0, count = 0;

    reg->head = reg->tail = NULL;
    if (fresh == NULL && reaped == NULL && !again) {
      if (reg->stop_worker && todo == NULL && reg->handed == NULL)
        break; /* stopping, and everything was applied */
      pthread_cond_wait(&reg->work, &reg->mu);
      continue;
    }
    again = 0;
    /* What was kept last turn and what came back, in their order, then
     * what is new (queued after all of them). */
    if (unblocked != NULL) {
      item **tp = &unblocked;
      while (*tp != NULL)
        tp = &(*tp)->next;
      *tp = todo;
      todo = by_seq(unblocked);
    }
    {
      item **tp = &todo;
      while (*tp != NULL) {
        tp = &(*tp)->next;
        count++;
      }
      *tp = fresh;
      for (it = fresh; it != NULL; it = it->next)
        count++;
    }
    /* The calls with an item kept this turn and those in the batch; when
     * the sets cannot be made, the lists are scanned. */
    sets = idset_init(&kept_calls, count) == 0;
    if (sets && idset_init(&in_batch, count) < 0) {
      vc__free(kept_calls.slot);
      sets = 0;
    }
    for (it = todo; it != NULL; it = next) {
      const char *call_id = item_call(it);
      pending *holder;
      int keep = 0;
      next = it->next;
      it->next = NULL;
      if ((holder = handed_of(reg, call_id)) != NULL) {
        /* Its waiter has not recorded the call's answer yet. */
        if (holder->btail != NULL)
          holder->btail->next = it;
        else
          holder->bhead = it;
        holder->btail = it;
        continue;
      }
      if (n == BATCH_MAX) {
        keep = again = 1; /* the rest next turn */
      } else if (sets ? idset_has(&kept_calls, call_id)
                      : kept_locked(kept, call_id)) {
        keep = 1; /* behind an earlier item of the call */
      } else if (it->kind == ITEM_ANSWER) {
        if (sets)
          keep = again = idset_has(&in_batch, call_id);
        for (size_t i = 0; !sets && i < n && !keep; i++)
          if (strcmp(item_call(batch[i]), call_id) == 0)
            keep = again = 1; /* once the batch committed */
        if (!keep)
          hand_locked(reg, it->p);
      } else {
        batch[n++] = it;
        if (sets)
          idset_add(&in_batch, call_id);
      }
      if (keep) {
        *kept_tail = it;
        kept_tail = &it->next;
        if (sets)
          idset_add(&kept_calls, call_id);
      }
    }
    if (sets) {
      vc__free(kept_calls.slot);
      vc__free(in_batch.slot);
    }
    todo = kept;
    pthread_mutex_unlock(&reg->mu);
    while (reaped != NULL) {
      pending *p = reaped;
      reaped = p->hnext;
      pending_free(p);
    }
    apply_batch(reg, batch, n);
    for (size_t i = 0; i < n; i++)
      item_free(batch[i]);
    pthread_mutex_lock(&reg->mu);
  }
  pthread_mutex_unlock(&reg->mu);
  return NULL;
}

/* ---- inbound calls ----------------------------------------------------------- */

/* A script for a session's run_script, copied out of the transaction
 * that made it, with a reference on its host. */
typedef struct script_copy {
  vc_session_host *host;
  char call_id[VC_ID_SIZE];
  char *provider_call_id;
  vc_call_step *steps;
  size_t n;
  char **strs;                 /* n * 9 */
} script_copy;

static void script_copy_free(script_copy *c)
{
  if (c == NULL)
    return;
  if (c->strs != NULL)
    for (size_t i = 0; i < c->n * 9; i++)
      vc__free(c->strs[i]);
  vc__free(c->strs);
  vc__free(c->steps);
  vc__free(c->provider_call_id);
  if (c->host != NULL)
    host_unref(c->host);
  vc__free(c);
}

static const char *dup_into(script_copy *c, size_t i, const char *s,
                            int *oom)
{
  if (s == NULL)
    return NULL;
  if ((c->strs[i] = vc__strdup(s)) == NULL)
    *oom = 1;
  return c->strs[i];
}

/* The run callback of a session's vc__call_webhook: keep the script. */
static int script_keep(void *arg, const char *call_id,
                       const char *provider_call_id,
                       const vc_call_script *s)
{
  item *it = arg;
  script_copy *c;
  int oom = 0;

  script_copy_free(it->run);
  it->run = NULL;
  if ((c = vc__calloc(1, sizeof(*c))) == NULL)
    return vc_error_set_oom();
  snprintf(c->call_id, sizeof(c->call_id), "%s", call_id ? call_id : "");
  c->provider_call_id = vc__strdup(provider_call_id ? provider_call_id : "");
  c->n = s->nsteps;
  if (c->provider_call_id == NULL ||
      (c->n > 0 && ((c->steps = vc__calloc(c->n, sizeof(*c->steps))) == NULL
                    || (c->strs = vc__calloc(c->n * 9,
                                             sizeof(char *))) == NULL))) {
    script_copy_free(c);
    return vc_error_set_oom();
  }
  for (size_t i = 0; i < c->n; i++) {
    vc_call_step *d = &c->steps[i];
    *d = s->steps[i];
    d->text = dup_into(c, i * 9, d->text, &oom);
    d->language = dup_into(c, i * 9 + 1, d->language, &oom);
    d->url = dup_into(c, i * 9 + 2, d->url, &oom);
    d->finish_on_key = dup_into(c, i * 9 + 3, d->finish_on_key, &oom);
    d->action_url = dup_into(c, i * 9 + 4, d->action_url, &oom);
    d->target = dup_into(c, i * 9 + 5, d->target, &oom);
    d->caller_id = dup_into(c, i * 9 + 6, d->caller_id, &oom);
    d->status_url = dup_into(c, i * 9 + 7, d->status_url, &oom);
    d->answer_url = dup_into(c, i * 9 + 8, d->answer_url, &oom);
  }
  if (oom) {
    script_copy_free(c);
    return vc_error_set_oom();
  }
  pthread_mutex_lock(&it->host->reg->mu);
  it->host->refs++;
  c->host = it->host;
  pthread_mutex_unlock(&it->host->reg->mu);
  it->run = c;
  return 0;
}

/* On the network thread. */
static void script_run(void *arg)
{
  script_copy *c = arg;
  vc_session_host *h = c->host;
  vc_call_script s = { VC_CALL_SCRIPT_VERSION, c->steps, c->n };
  int rc;

  host_open(h);
  if (h->session == NULL)
    VC_LOG(h->ctx, VC_LOG_WARN, "session of channel %s is closed: the "
           "script of call %s is not run", h->channel_id, c->call_id);
  else if ((rc = h->ops->run_script(h->session, c->call_id,
                                    c->provider_call_id, &s)) < 0)
    VC_LOG(h->ctx, VC_LOG_WARN, "session of channel %s did not run the "
           "script of call %s: %s", h->channel_id, c->call_id,
           error_text(rc));
  script_copy_free(c);
}

static void script_drop(void *arg)
{
  script_copy_free(arg);
}

static void script_post(vc_ctx *ctx, script_copy *c)
{
  if (vc__net_post(ctx, script_run, script_drop, c) < 0) {
    VC_LOG(ctx, VC_LOG_WARN, "the script of call %s is not run: %s",
           c->call_id, vc_error_last()->message);
    vc_error_clear();
    script_copy_free(c);
  }
}

/* An arrival or a step's end, in the caller's transaction: the update
 * applied as a webhook's would be, then the call's next script kept for
 * the session. */
static int apply_inbound(vc__sessions *reg, vc__db *db, item *it,
                         int *outcome)
{
  vc_session_host *h = it->host;
  vc__call_webhook w;
  vc_call_update fetch;
  int rc;

  script_copy_free(it->run);
  it->run = NULL;
  memset(&w, 0, sizeof(w));
  vc__call_webhook_init(&w, it->kind == ITEM_FETCH ? it->url : "");
  w.ctx = reg->ctx;
  w.db = db;
  w.tenant_id = h->tenant_id;
  w.channel_id = h->channel_id;
  w.now = it->at;
  w.run = script_keep;
  w.run_arg = it;
  if (it->kind == ITEM_INCOMING) {
    rc = vc__webhook_call_update(&w, &it->u);
    *outcome = rc < 0 ? 0 : rc;
    return rc < 0 ? rc : 0;
  }
  snprintf(w.call_id, sizeof(w.call_id), "%s", it->key);
  if (it->has_update &&
      (rc = vc__webhook_call_update(&w, &it->u)) < 0)
    return rc;
  memset(&fetch, 0, sizeof(fetch));
  fetch.version = VC_CALL_UPDATE_VERSION;
  fetch.type = VC_UPDATE_SCRIPT;
  fetch.leg = VC_LEG_CUSTOMER;
  fetch.call_id = it->key;
  fetch.jitter_ms = fetch.packet_loss_pct = fetch.rtt_ms = fetch.mos = -1;
  rc = vc__webhook_call_update(&w, &fetch);
  *outcome = rc < 0 ? 0 : rc;
  return rc < 0 ? rc : 0;
}

static int inbound_ok(vc_session_host *host)
{
  if (host->ops->version < 2 || host->ops->run_script == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                         "the session of channel %s takes no inbound "
                         "calls (no run_script)", host->channel_id);
  return 0;
}

/* Copy `u` into a new item of `kind`. */
static int item_new(item **out, vc_session_host *host, int kind,
                    const vc_call_update *u)
{
  item *it;
  int oom = 0;

  *out = NULL;
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  it->kind = kind;
  it->at = vc__now(host->ctx);
  if (u != NULL) {
    it->u = *u;
    it->u.call_id = keep_str(it, 0, u->call_id, &oom);
    it->u.provider_call_id = keep_str(it, 1, u->provider_call_id, &oom);
    it->u.leg_provider_id = keep_str(it, 2, u->leg_provider_id, &oom);
    it->u.event_id = keep_str(it, 3, u->event_id, &oom);
    it->u.provider_code = keep_str(it, 4, u->provider_code, &oom);
    it->u.digits = keep_str(it, 5, u->digits, &oom);
    it->u.recording_id = keep_str(it, 6, u->recording_id, &oom);
    it->u.recording_url = keep_str(it, 7, u->recording_url, &oom);
    if (u->version >= 2) {
      it->u.from = keep_str(it, 8, u->from, &oom);
      it->u.to = keep_str(it, 9, u->to, &oom);
    } else {
      it->u.from = it->u.to = NULL;
    }
    it->u.version = VC_CALL_UPDATE_VERSION;
  }
  if (oom) {
    item_free(it);
    return vc_error_set_oom();
  }
  *out = it;
  return 0;
}

static void item_queue(vc_session_host *host, item *it)
{
  pthread_mutex_lock(&host->reg->mu);
  host->refs++;
  it->host = host;
  enqueue_locked(host->reg, it);
  pthread_mutex_unlock(&host->reg->mu);
}

/* The checks of vc_event_sink_call(), on a sink that keeps nothing. */
static int update_check(const vc_call_update *u)
{
  vc_event_sink check;
  int rc;

  vc__sink_init(&check, NULL, NULL, NULL);
  rc = vc_event_sink_call(&check, u);
  vc__sink_fini(&check);
  return rc;
}

int vc_session_incoming(vc_session_host *host, const vc_call_update *u)
{
  item *it;
  int rc;

  VC_ASSERT_ARG(host);
  VC_ASSERT_ARG(u);
  if ((rc = inbound_ok(host)) < 0 || (rc = update_check(u)) < 0)
    return rc;
  if (u->type != VC_UPDATE_INCOMING)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "vc_session_incoming takes VC_UPDATE_INCOMING");
  if ((rc = item_new(&it, host, ITEM_INCOMING, u)) < 0)
    return rc;
  it->u.call_id = NULL;
  snprintf(it->key, sizeof(it->key), "in:%s", u->provider_call_id);
  item_queue(host, it);
  return 0;
}

int vc_session_fetch(vc_session_host *host, const char *call_id,
                     const char *url, const vc_call_update *update)
{
  vc__call_webhook probe;
  item *it;
  int rc;

  VC_ASSERT_ARG(host);
  VC_ASSERT_ARG(call_id);
  VC_ASSERT_ARG(url);
  if ((rc = inbound_ok(host)) < 0)
    return rc;
  if (!vc__ulid_valid(call_id))
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "vc_session_fetch needs a call id");
  if (vc__check_text("step URL", url, 2048, 1) < 0)
    return VC_EINVALID;
  vc__call_webhook_init(&probe, url);
  if (strcmp(probe.call_id, call_id) != 0 || probe.step[0] == '\0')
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "the URL is not a step of call %s", call_id);
  /* A gather that timed out collected nothing: no update. */
  if (update != NULL && update->type == VC_UPDATE_DTMF &&
      (update->digits == NULL || update->digits[0] == '\0'))
    update = NULL;
  if (update != NULL) {
    if ((rc = update_check(update)) < 0)
      return rc;
    if (update->type == VC_UPDATE_SCRIPT ||
        update->type == VC_UPDATE_INCOMING ||
        (update->call_id != NULL && strcmp(update->call_id, call_id) != 0))
      return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                           "a step's update is about its call");
  }
  if ((rc = item_new(&it, host, ITEM_FETCH, update)) < 0)
    return rc;
  snprintf(it->key, sizeof(it->key), "%s", call_id);
  it->has_update = update != NULL;
  if (update != NULL)
    it->u.call_id = it->key;
  if ((it->url = vc__strdup(url)) == NULL) {
    item_free(it);
    return vc_error_set_oom();
  }
  item_queue(host, it);
  return 0;
}

/* Channels with inbound numbers, across tenants (the sessions that must
 * listen for calls), at most a page at a time. */
static const char SQL_INBOUND_CHANNELS[] =
  "SELECT DISTINCT c.tenant_id, c.id, c.provider, COALESCE(c.sender, ''),"
  " c.rate_per_second, c.updated_at FROM vc_number n"
  " JOIN vc_channel c ON c.tenant_id = n.tenant_id AND c.id = n.channel_id"
  " WHERE c.id > ?1 ORDER BY c.id LIMIT 64";

int vc__sessions_open_inbound(vc_ctx *ctx)
{
  char after[VC_ID_SIZE] = "", tenants[64][VC_ID_SIZE];
  vc__route_target targets[64];
  size_t n;
  vc__db *db;
  vc__stmt *s;
  int rc;

  do {
    n = 0;
    if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
      return rc;
    if ((rc = vc__db_query(&s, db, SQL_INBOUND_CHANNELS, "t", after)) == 0) {
      while (n < 64 && (rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
        vc__route_target *t = &targets[n];
        memset(t, 0, sizeof(*t));
        snprintf(tenants[n], VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
        snprintf(t->id, sizeof(t->id), "%s", vc__stmt_text(s, 1));
        snprintf(t->provider, sizeof(t->provider), "%s",
                 vc__stmt_text(s, 2));
        snprintf(t->sender, sizeof(t->sender), "%s", vc__stmt_text(s, 3));
        t->rate_per_second = vc__stmt_double(s, 4);
        t->updated_at = vc__stmt_int64(s, 5);
        n++;
      }
      vc__stmt_done(s);
      rc = rc < 0 ? rc : 0;
    }
    vc__db_release(db);
    if (rc < 0)
      return rc;
    for (size_t i = 0; i < n; i++) {
      vc__route_instance *inst = NULL;
      vc_session_host *h;
      snprintf(after, sizeof(after), "%s", targets[i].id);
      if (vc__route_instance_get(&inst, ctx, tenants[i], &targets[i]) < 0) {
        VC_LOG(ctx, VC_LOG_WARN, "channel %s cannot take inbound calls: "
               "%s", targets[i].id, vc_error_last()->message);
        vc_error_clear();
        continue;
      }
      if (vc__session_adapter(&inst->adapter) &&
          host_get(&h, ctx, tenants[i], inst) == 0)
        host_unref(h);
      vc_error_clear();
      vc__route_instance_put(ctx, inst);
    }
  } while (n == 64);
  return 0;
}

/* ---- the context's registry ------------------------------------------------ */

int vc__sessions_new(vc_ctx *ctx)
{
  vc__sessions *reg = vc__calloc(1, sizeof(*reg));

  if (reg == NULL)
    return vc_error_set_oom();
  reg->ctx = ctx;
  pthread_mutex_init(&reg->mu, NULL);
  pthread_cond_init(&reg->work, NULL);
  ctx->sessions = reg;
  return 0;
}

void vc__sessions_shutdown(vc_ctx *ctx)
{
  vc__sessions *reg = ctx->sessions;
  vc_session_host *h;
  item *it;
  int running;

  if (reg == NULL)
    return;
  pthread_mutex_lock(&reg->mu);
  reg->closing = 1;
  pthread_mutex_unlock(&reg->mu);
  for (;;) {
    pthread_mutex_lock(&reg->mu);
    if ((h = reg->hosts) != NULL)
      unlist_locked(reg, h);
    pthread_mutex_unlock(&reg->mu);
    if (h == NULL)
      break;
    /* Closed on its own thread, now: its waiters are answered RETRY. */
    if (vc__net_call(ctx, host_close_sync, h) < 0)
      host_close_drop(h);
  }
  pthread_mutex_lock(&reg->mu);
  reg->stop_worker = 1;
  running = reg->worker_running;
  pthread_cond_signal(&reg->work);
  pthread_mutex_unlock(&reg->mu);
  if (running)
    pthread_join(reg->worker, NULL);
  pthread_mutex_lock(&reg->mu);
  reg->worker_running = 0;
  it = reg->head;
  reg->head = reg->tail = NULL;
  pthread_mutex_unlock(&reg->mu);
  /* Reported after the worker ended (a session's close, too late):
   * nothing applies them. */
  while (it != NULL) {
    item *next = it->next;
    if (it->kind == ITEM_REPORT)
      item_free(it);
    it = next;
  }
}

void vc__sessions_free(vc_ctx *ctx)
{
  vc__sessions *reg = ctx->sessions;

  if (reg == NULL)
    return;
  pthread_cond_destroy(&reg->work);
  pthread_mutex_destroy(&reg->mu);
  vc__free(reg);
  ctx->sessions = NULL;
}
