/*
 * Inbound calls on a session adapter (vyomcomm/sys/transport.h), public
 * API only: "test-inbound", a session adapter of this file, keeps every
 * script the core runs (run_script, on the network thread); the test
 * plays the provider from its own thread with vc_session_incoming(),
 * vc_session_report() and vc_session_fetch().
 *
 * Cases: a call to a queue reaches its agent, is bridged and completed;
 * an unknown number gets a script that only hangs up; the agent misses
 * the call and the caller leaves a voicemail; malformed input.
 */
#include "harness.h"
#include "vyomcomm.h"
#include "vyomcomm/sys/adapter.h"
#include "vyomcomm/sys/errors.h"
#include "vyomcomm/sys/transport.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define DID "+914412345678"
#define CALLER "+919876543210"
#define ALICE "+14155550101"

/* What the adapter saw, shared with the test thread under mu. */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  vc_session_host *host;
  int scripts;                /* run_script calls */
  char call_id[32];
  char pcid[64];
  char kinds[256];            /* the last script: "say dial" */
  char target[64];
  char action_url[1200];
  char status_url[1200];
} g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, "", "",
        "", "", "", "" };

static _Atomic int64_t g_clock = 1700000000000LL;

static int64_t clock_cb(void *payload)
{
  (void)payload;
  return atomic_load(&g_clock);
}

static int ti_init(void **state, const char *config, const char *cred)
{
  (void)config;
  (void)cred;
  *state = NULL;
  return 0;
}

static void ti_fini(void *state)
{
  (void)state;
}

static int ti_open(void **session, void *state, vc_session_host *host)
{
  (void)state;
  pthread_mutex_lock(&g.mu);
  g.host = host;
  pthread_cond_broadcast(&g.cond);
  pthread_mutex_unlock(&g.mu);
  vc_session_link(host, 1, "test: listening");
  *session = host;
  return 0;
}

static void ti_close(void *session)
{
  (void)session;
  pthread_mutex_lock(&g.mu);
  g.host = NULL;
  pthread_mutex_unlock(&g.mu);
}

static int ti_place(void *session, const vc_call_outbound *ob)
{
  (void)session;
  (void)ob;
  return VC_ENOTSUPPORTED;
}

static int ti_run(void *session, const char *call_id,
                  const char *provider_call_id, const vc_call_script *s)
{
  static const char *const names[] = { "?", "say", "play", "pause",
                                       "gather", "dial", "hangup",
                                       "redirect", "hold", "record" };
  size_t n = 0;

  (void)session;
  pthread_mutex_lock(&g.mu);
  snprintf(g.call_id, sizeof(g.call_id), "%s", call_id);
  snprintf(g.pcid, sizeof(g.pcid), "%s", provider_call_id);
  g.kinds[0] = g.target[0] = g.action_url[0] = g.status_url[0] = '\0';
  for (size_t i = 0; i < s->nsteps; i++) {
    const vc_call_step *st = &s->steps[i];
    n += (size_t)snprintf(g.kinds + n, sizeof(g.kinds) - n, "%s%s",
                          i ? " " : "",
                          st->kind >= 1 && st->kind <= 9 ? names[st->kind]
                                                         : "?");
    if (st->target != NULL)
      snprintf(g.target, sizeof(g.target), "%s", st->target);
    if (st->action_url != NULL)
      snprintf(g.action_url, sizeof(g.action_url), "%s", st->action_url);
    if (st->kind == VC_STEP_REDIRECT && st->url != NULL)
      snprintf(g.action_url, sizeof(g.action_url), "%s", st->url);
    if (st->status_url != NULL)
      snprintf(g.status_url, sizeof(g.status_url), "%s", st->status_url);
  }
  g.scripts++;
  pthread_cond_broadcast(&g.cond);
  pthread_mutex_unlock(&g.mu);
  return 0;
}

static const vc_session_ops TI_OPS = {
  VC_SESSION_OPS_VERSION, ti_open, ti_close, ti_place, NULL, ti_run
};

/* Wait (real time, bounded) until the adapter has run `n` scripts. */
static int wait_scripts(int n)
{
  struct timespec until;
  int ok;

  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  pthread_mutex_lock(&g.mu);
  while (g.scripts < n &&
         pthread_cond_timedwait(&g.cond, &g.mu, &until) == 0)
    ;
  ok = g.scripts >= n;
  pthread_mutex_unlock(&g.mu);
  return ok;
}

static vc_session_host *host_wait(void)
{
  struct timespec until;
  vc_session_host *h;

  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  pthread_mutex_lock(&g.mu);
  while (g.host == NULL &&
         pthread_cond_timedwait(&g.cond, &g.mu, &until) == 0)
    ;
  h = g.host;
  pthread_mutex_unlock(&g.mu);
  return h;
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
  vc_agent_spec as = VC_AGENT_SPEC_INIT;
  vc_queue_spec qs = VC_QUEUE_SPEC_INIT;
  vc_number_spec ns = VC_NUMBER_SPEC_INIT;
  vc_adapter a;
  vc_store *store;
  vc_agent *ag;
  vc_queue *q;

  memset(e, 0, sizeof(*e));
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("s.db"), NULL));
  o.store = store;
  o.clock_cb = clock_cb;
  /* No public_base_url: a session's steps need none. */
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  memset(&a, 0, sizeof(a));
  a.version = VC_ADAPTER_VERSION;
  a.name = "test-inbound";
  a.kind = VC_CHANNEL_VOICE;
  a.init = ti_init;
  a.fini = ti_fini;
  a.session = &TI_OPS;
  CHECK_OK(vc_adapter_register(e->ctx, &a));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  cs.name = "pbx";
  cs.provider = "test-inbound";
  cs.config_json = "{}";
  cs.credentials_json = "{}";
  CHECK_OK(vc_channel_new(NULL, e->t, &cs));
  as.name = "alice";
  as.number = ALICE;
  as.wrap_up_s = 0;
  CHECK_OK(vc_agent_new(&ag, e->t, &as));
  CHECK_OK(vc_agent_set_state(ag, VC_AGENT_AVAILABLE, NULL));
  vc_agent_free(ag);
  qs.name = "support";
  qs.overflow_kind = VC_QUEUE_OVERFLOW_VOICEMAIL;
  CHECK_OK(vc_queue_new(&q, e->t, &qs));
  CHECK_OK(vc_queue_member_add(q, "alice", NULL));
  vc_queue_free(q);
  /* Storing the number opens the channel's session: it listens. */
  ns.number = DID;
  ns.channel = "pbx";
  ns.entry_kind = VC_NUMBER_ENTRY_QUEUE;
  ns.entry = "support";
  CHECK_OK(vc_number_new(NULL, e->t, &ns));
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
  pthread_mutex_lock(&g.mu);
  g.host = NULL;
  g.scripts = 0;
  pthread_mutex_unlock(&g.mu);
}

static void update_init(vc_call_update *u, int type, int leg,
                        const char *call_id)
{
  memset(u, 0, sizeof(*u));
  u->version = VC_CALL_UPDATE_VERSION;
  u->type = type;
  u->leg = leg;
  u->call_id = call_id;
  u->jitter_ms = u->packet_loss_pct = u->rtt_ms = u->mos = -1;
}

static int state_of(env *e, const char *id)
{
  vc_call *c;
  int st;

  CHECK_OK(vc_call_lookup(&c, e->t, id));
  st = vc_call_state_of(c);
  vc_call_free(c);
  return st;
}

/* The worker applies reports on its own thread: wait (bounded). */
static int wait_state(env *e, const char *id, int state)
{
  for (int i = 0; i < 1000; i++) {
    if (state_of(e, id) == state)
      return 1;
    usleep(10000);
  }
  return 0;
}

static void test_inbound_session__queue_agent_bridge(void)
{
  char id[32], url[1200], action[1200];
  vc_session_host *h;
  vc_call_update u;
  vc_call *c;
  env e;

  env_open(&e);
  CHECK((h = host_wait()) != NULL);
  update_init(&u, VC_UPDATE_INCOMING, VC_LEG_CUSTOMER, NULL);
  u.provider_call_id = "chan-1";
  u.from = CALLER;
  u.to = DID;
  CHECK_OK(vc_session_incoming(h, &u));
  CHECK(wait_scripts(1));
  pthread_mutex_lock(&g.mu);
  snprintf(id, sizeof(id), "%s", g.call_id);
  CHECK_STR(g.pcid, "chan-1");
  CHECK_STR(g.kinds, "dial");
  CHECK_STR(g.target, ALICE);
  snprintf(url, sizeof(url), "%s", g.status_url);
  snprintf(action, sizeof(action), "%s", g.action_url);
  pthread_mutex_unlock(&g.mu);
  CHECK(strstr(url, "vc_step=in_ring") != NULL);
  CHECK(wait_state(&e, id, VC_CALL_AGENT_RINGING));
  /* The agent's leg rings and answers: bridged. */
  atomic_fetch_add(&g_clock, 2000);
  update_init(&u, VC_UPDATE_RINGING, VC_LEG_AGENT, id);
  u.leg_provider_id = "chan-2";
  CHECK_OK(vc_session_report(h, &u));
  update_init(&u, VC_UPDATE_ANSWERED, VC_LEG_AGENT, id);
  u.leg_provider_id = "chan-2";
  CHECK_OK(vc_session_report(h, &u));
  CHECK(wait_state(&e, id, VC_CALL_BRIDGED));
  /* The dial ends after the talk: completed, the script hangs up. */
  atomic_fetch_add(&g_clock, 30000);
  update_init(&u, VC_UPDATE_ENDED, VC_LEG_AGENT, id);
  u.cause = VC_CAUSE_NORMAL;
  u.duration_s = 30;
  CHECK_OK(vc_session_fetch(h, id, action, &u));
  CHECK(wait_scripts(2));
  pthread_mutex_lock(&g.mu);
  CHECK_STR(g.kinds, "hangup");
  pthread_mutex_unlock(&g.mu);
  CHECK(wait_state(&e, id, VC_CALL_COMPLETED));
  CHECK_OK(vc_call_lookup(&c, e.t, id));
  CHECK(vc_call_direction_of(c) == VC_CALL_INBOUND);
  CHECK(vc_call_talk_seconds(c) == 30);
  CHECK_STR(vc_call_customer_number(c), CALLER);
  vc_call_free(c);
  env_close(&e);
}

/* The agent misses the call; the queue offers nobody else, its wait is
 * over: the caller records a voicemail, and the call ends with it. */
static void test_inbound_session__missed_then_voicemail(void)
{
  char id[32], action[1200];
  vc_session_host *h;
  vc_call_update u;
  vc_call *c;
  env e;

  env_open(&e);
  CHECK((h = host_wait()) != NULL);
  update_init(&u, VC_UPDATE_INCOMING, VC_LEG_CUSTOMER, NULL);
  u.provider_call_id = "chan-7";
  u.from = CALLER;
  u.to = DID;
  CHECK_OK(vc_session_incoming(h, &u));
  CHECK(wait_scripts(1));
  pthread_mutex_lock(&g.mu);
  snprintf(id, sizeof(id), "%s", g.call_id);
  snprintf(action, sizeof(action), "%s", g.action_url);
  pthread_mutex_unlock(&g.mu);
  /* No answer; 301 s later: the queue's 300 s are over. */
  atomic_fetch_add(&g_clock, 301000);
  update_init(&u, VC_UPDATE_ENDED, VC_LEG_AGENT, id);
  u.cause = VC_CAUSE_NO_ANSWER;
  CHECK_OK(vc_session_fetch(h, id, action, &u));
  CHECK(wait_scripts(2));
  pthread_mutex_lock(&g.mu);
  CHECK_STR(g.kinds, "say record");
  snprintf(action, sizeof(action), "%s", g.action_url);
  pthread_mutex_unlock(&g.mu);
  CHECK(strstr(action, "vc_step=in_record") != NULL);
  update_init(&u, VC_UPDATE_RECORDING, VC_LEG_NONE, id);
  u.recording_status = VC_RECORDING_AVAILABLE;
  u.recording_id = "rec-1";
  u.recording_url = "https://pbx.example.com/rec-1.wav";
  u.recording_duration_s = 12;
  CHECK_OK(vc_session_fetch(h, id, action, &u));
  CHECK(wait_scripts(3));
  pthread_mutex_lock(&g.mu);
  CHECK_STR(g.kinds, "say hangup");
  pthread_mutex_unlock(&g.mu);
  CHECK(wait_state(&e, id, VC_CALL_NO_ANSWER));
  CHECK_OK(vc_call_lookup(&c, e.t, id));
  CHECK(vc_call_cause_of(c) == VC_CAUSE_VOICEMAIL);
  vc_call_free(c);
  env_close(&e);
}

static void test_inbound_session__unknown_and_bad_input(void)
{
  char id[32];
  vc_session_host *h;
  vc_call_update u;
  vc_call *c;
  env e;

  env_open(&e);
  CHECK((h = host_wait()) != NULL);
  update_init(&u, VC_UPDATE_INCOMING, VC_LEG_CUSTOMER, NULL);
  u.provider_call_id = "chan-9";
  u.from = CALLER;
  u.to = "+914400000000";
  CHECK_OK(vc_session_incoming(h, &u));
  CHECK(wait_scripts(1));
  pthread_mutex_lock(&g.mu);
  snprintf(id, sizeof(id), "%s", g.call_id);
  CHECK_STR(g.kinds, "hangup");
  pthread_mutex_unlock(&g.mu);
  CHECK_OK(vc_call_lookup(&c, e.t, id));
  CHECK(vc_call_state_of(c) == VC_CALL_FAILED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_UNKNOWN_NUMBER);
  vc_call_free(c);
  /* Malformed: no number called, not an arrival, a URL of no call. */
  u.to = NULL;
  CHECK_RC(vc_session_incoming(h, &u), VC_EINVALID);
  update_init(&u, VC_UPDATE_RINGING, VC_LEG_AGENT, NULL);
  CHECK_RC(vc_session_incoming(h, &u), VC_EINVALID);
  CHECK_RC(vc_session_fetch(h, id, "https://hooks.example.com/webhooks/x",
                            NULL), VC_EINVALID);
  CHECK_RC(vc_session_fetch(h, "not-an-id", "https://h/x?vc_call=1", NULL),
           VC_EINVALID);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_inbound_session__queue_agent_bridge),
  VC_TEST(test_inbound_session__missed_then_voicemail),
  VC_TEST(test_inbound_session__unknown_and_bad_input),
)
