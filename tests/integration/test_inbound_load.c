/*
 * Many inbound calls at once over a queue of a few agents, public API
 * only: 200 callers played from four threads, two on each of two
 * contexts over one SQLite file (as two processes would share it),
 * through signed Twilio webhooks. Agents answer or miss at random,
 * callers hang up at random while they wait.
 *
 * Checked: every call reaches a final state; each agent's activity log
 * never shows a second call while one is held (ringing or talking), and
 * no call is bridged to an agent who had another; no agent is left
 * ringing or on a call.
 */
#include "harness.h"
#include "vyomcomm.h"
#include "inbound_env.h"

#include <pthread.h>
#include <stdatomic.h>

#define CALLS 200
#define THREADS 4
#define AGENTS 4

static const uint8_t KEY[32] = { 4, 2 };
static _Atomic int64_t g_clock = 1700000000000LL;
static _Atomic int g_next;             /* the next caller to play */
static _Atomic int g_server_errors;    /* 5xx answers (retried) */

static int64_t clock_cb(void *payload)
{
  (void)payload;
  return atomic_load(&g_clock);
}

typedef struct worker {
  vc_ctx *ctx;
  const char *channel;
  unsigned seed;
  int done, stuck;
} worker;

/* POST, retrying what the store refused for contention (a provider
 * retries a webhook that failed). */
static void send(worker *w, const char *target, const char *const *kv,
                 size_t n, in_reply *r)
{
  for (int i = 0; i < 50; i++) {
    in_post_ctx(w->ctx, target, kv, n, IN_TOKEN, r);
    if (r->status < 500)
      return;
    atomic_fetch_add(&g_server_errors, 1);
    usleep(1000);
  }
}

/* One caller, played a step at a time. */
typedef struct caller {
  int k, steps, over;
  char parent[35];
  in_reply r;
} caller;

static void arrive(worker *w, caller *c)
{
  char target[128], from[20];
  const char *kv[] = { "AccountSid", IN_ACCOUNT, "CallSid", c->parent,
                       "From", from, "To", IN_DID, "Direction", "inbound",
                       "CallStatus", "ringing" };

  snprintf(c->parent, sizeof(c->parent), "CA%032x", 0x10000 + c->k);
  snprintf(from, sizeof(from), "+9198%08d", c->k);
  snprintf(target, sizeof(target), "/webhooks/%s", w->channel);
  send(w, target, kv, 6, &c->r);
}

/* The caller's next step after the answer it holds; 1 when it is over. */
static int step(worker *w, caller *c)
{
  char child[35], target[1200];
  in_reply *r = &c->r;

  atomic_fetch_add(&g_clock, 250);
  if (r->status != 200 || ++c->steps > 2000) {
    w->stuck++;
    return 1;
  }
  if (strstr(r->body, "<Hangup/>") != NULL)
    return 1;
  if (strstr(r->body, "<Dial") != NULL) {
    int answer = rand_r(&w->seed) % 3 != 0;
    snprintf(child, sizeof(child), "CA%016x%016x", 0x20000 + c->k,
             c->steps);
    if (answer) {
      const char *kv[] = { "AccountSid", IN_ACCOUNT, "CallSid", child,
                           "ParentCallSid", c->parent,
                           "CallStatus", "in-progress",
                           "SequenceNumber", "1" };
      in_reply lr;
      in_twiml(r, "Number", "statusCallback", target, sizeof(target));
      send(w, target, kv, 5, &lr);
      if (lr.status != 200)
        w->stuck++;
    }
    {
      const char *kv[] = { "AccountSid", IN_ACCOUNT, "CallSid", c->parent,
                           "DialCallStatus",
                           answer ? "completed" : "no-answer",
                           "DialCallSid", child,
                           "DialCallDuration", answer ? "3" : "0" };
      in_twiml(r, "Dial", "action", target, sizeof(target));
      send(w, target, kv, 5, r);
    }
    return 0;
  }
  if (strstr(r->body, "<Redirect") != NULL) {
    if (rand_r(&w->seed) % 400 == 0) {
      /* The caller gives up. */
      const char *kv[] = { "AccountSid", IN_ACCOUNT, "CallSid", c->parent,
                           "Direction", "inbound",
                           "CallStatus", "completed" };
      snprintf(target, sizeof(target), "/webhooks/%s", w->channel);
      send(w, target, kv, 4, r);
      return 1;
    }
    {
      const char *kv[] = { "AccountSid", IN_ACCOUNT, "CallSid", c->parent };
      in_twiml(r, "Redirect", NULL, target, sizeof(target));
      send(w, target, kv, 2, r);
    }
    return 0;
  }
  w->stuck++;
  return 1;
}

/* A quarter of the callers, all of them on the line at once: each round
 * moves every caller still there one step. */
static void *worker_main(void *arg)
{
  worker *w = arg;
  caller *cs = calloc(CALLS / THREADS, sizeof(*cs));
  int live = 0;

  if (cs == NULL)
    return NULL;
  for (int i = 0; i < CALLS / THREADS; i++) {
    cs[i].k = atomic_fetch_add(&g_next, 1);
    arrive(w, &cs[i]);
    live++;
  }
  while (live > 0)
    for (int i = 0; i < CALLS / THREADS; i++)
      if (!cs[i].over && step(w, &cs[i])) {
        cs[i].over = 1;
        w->done++;
        live--;
      }
  free(cs);
  return NULL;
}

static vc_ctx *ctx_open(void)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_store *store;
  vc_ctx *ctx;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("load.db"), NULL));
  mk.key = KEY;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = clock_cb;
  o.public_base_url = IN_BASE;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  return ctx;
}

/* An agent's log never holds two calls at once. */
static void check_agent(vc_tenant *t, const char *name, int *calls)
{
  char holding[VC_ID_SIZE] = "";
  vc_agent_change *ch;
  vc_agent *a;
  vc_iter *it;

  CHECK_OK(vc_agent_lookup(&a, t, name));
  CHECK(vc_agent_state_of(a) == VC_AGENT_AVAILABLE);
  CHECK_OK(vc_agent_activity(&it, a, NULL));
  while (vc_agent_change_next(&ch, it) == 0) {
    const char *call = vc_agent_change_call_id(ch);
    int to = vc_agent_change_to(ch);
    if (to == VC_AGENT_RINGING) {
      CHECK(holding[0] == '\0');
      snprintf(holding, sizeof(holding), "%s", call);
      (*calls)++;
    } else if (to == VC_AGENT_ON_CALL) {
      CHECK_STR(call, holding);
    } else if (vc_agent_change_cause(ch) == VC_AGENT_CAUSE_CALL &&
               holding[0] != '\0') {
      CHECK_STR(call, holding);
      holding[0] = '\0';
    }
    vc_agent_change_free(ch);
  }
  vc_iter_free(it);
  CHECK(holding[0] == '\0');
  vc_agent_free(a);
}

static void test_inbound_load__many_callers(void)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  char channel[VC_ID_SIZE], members[64] = "";
  vc_call_filter f = VC_CALL_FILTER_INIT;
  pthread_t th[THREADS];
  worker w[THREADS];
  vc_tenant *t, *t2;
  vc_ctx *a, *b;
  vc_iter *it;
  vc_call *c;
  int n = 0, bridged = 0, rung = 0, stuck = 0;

  a = ctx_open();
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&t, a, &ts));
  in_channel(t, "twilio", channel);
  for (int i = 0; i < AGENTS; i++) {
    char name[16], number[20];
    snprintf(name, sizeof(name), "agent%d", i);
    snprintf(number, sizeof(number), "+1415555020%d", i);
    in_agent(t, name, number, 1);
    snprintf(members + strlen(members), sizeof(members) - strlen(members),
             "%s%s", i ? " " : "", name);
  }
  in_queue(t, "support", VC_QUEUE_LONGEST_IDLE, 0, VC_QUEUE_OVERFLOW_HANGUP,
           NULL, members, 0);
  in_number(t, IN_DID, "twilio", VC_NUMBER_ENTRY_QUEUE, "support", NULL);
  b = ctx_open();
  CHECK_OK(vc_tenant_lookup(&t2, b, "acme"));
  for (int i = 0; i < THREADS; i++) {
    memset(&w[i], 0, sizeof(w[i]));
    w[i].ctx = i % 2 ? b : a;
    w[i].channel = channel;
    w[i].seed = 17u + (unsigned)i;
    CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    stuck += w[i].stuck;
  }
  CHECK(stuck == 0);
  /* Every call ended, each once. */
  f.direction = VC_CALL_INBOUND;
  CHECK_OK(vc_call_list(&it, t, &f));
  while (vc_call_next(&c, it) == 0) {
    n++;
    CHECK(vc_call_state_final(vc_call_state_of(c)));
    if (vc_call_state_of(c) == VC_CALL_COMPLETED) {
      bridged++;
      CHECK(vc_call_agent_id(c)[0] != '\0');
    }
    vc_call_free(c);
  }
  vc_iter_free(it);
  CHECK(n == CALLS);
  CHECK(bridged > 0);
  for (int i = 0; i < AGENTS; i++) {
    char name[16];
    snprintf(name, sizeof(name), "agent%d", i);
    check_agent(t, name, &rung);
  }
  CHECK(rung >= bridged);
  fprintf(stderr, "  %d calls, %d completed, %d agent rings, %d webhook "
          "answers retried\n", n, bridged, rung,
          atomic_load(&g_server_errors));
  vc_tenant_free(t2);
  vc_tenant_free(t);
  vc_ctx_free(b);
  vc_ctx_free(a);
}

VC_TESTS(
  VC_TEST(test_inbound_load__many_callers),
)
