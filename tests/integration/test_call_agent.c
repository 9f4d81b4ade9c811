/*
 * Calls placed for agents, end to end through the public API on
 * sandbox-voice channels, SQLite on disk and an injected clock: the
 * agent rings, is on the call, wraps up and is available again when its
 * wrap-up seconds have passed; a second call for an agent who has one
 * is refused with VC_EBUSY and stores nothing; a call the agent never
 * answered puts the agent back where it was; the agent's figures count
 * the calls and their talk time; an idempotent retry gets the live call
 * back, and racing threads cannot give an agent two calls.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <pthread.h>
#include <sqlite3.h>

#define T0 1700000000000LL

static int64_t g_now = T0;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return g_now;
}

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
} env;

static void env_open(env *e)
{
  static const uint8_t key[32] = { 4, 4, 4 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;

  g_now = T0;
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("agents.db"), NULL));
  mk.key = key;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = test_clock;
  o.random_seed = 11;
  o.public_base_url = "https://hooks.example.com";
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

static void voice_channel(vc_tenant *t, const char *name,
                          const char *config)
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  s.name = name;
  s.provider = "sandbox-voice";
  s.config_json = config;
  s.sender = "+14155550000";
  CHECK_OK(vc_channel_new(&ch, t, &s));
  vc_channel_free(ch);
}

/* An agent in `state` (with `reason`) since now. */
static vc_agent *agent_new(env *e, const char *name, const char *number,
                           int wrap_up_s, int state, const char *reason)
{
  vc_agent_spec s = VC_AGENT_SPEC_INIT;
  vc_agent *a;

  s.name = name;
  s.number = number;
  s.wrap_up_s = wrap_up_s;
  CHECK_OK(vc_agent_new(&a, e->t, &s));
  CHECK_OK(vc_agent_set_state(a, state, reason));
  return a;
}

static int start(env *e, vc_call **c, const char *agent, const char *channel)
{
  vc_call_spec s = VC_CALL_SPEC_INIT;

  s.agent = agent;
  s.customer_number = "+14155550123";
  s.channel = channel;
  return vc_call_start(c, e->t, &s);
}

static int count_rows(const char *sql)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  int n = -1;

  CHECK(sqlite3_open(vc_test_path("agents.db"), &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static void drain(env *e)
{
  for (int i = 0; i < 20 && vc_ctx_run(e->ctx, 0) > 0; i++)
    ;
}

/* The agent's activity after its first `skip` entries, as
 * "from>to:cause@offset" joined with ' '; every entry a call caused
 * names `call_id`. */
static void activity(const vc_agent *a, size_t skip, const char *call_id,
                     char *out, size_t size)
{
  vc_agent_change *ch;
  vc_iter *it;
  size_t len = 0, i = 0;

  out[0] = '\0';
  CHECK_OK(vc_agent_activity(&it, a, NULL));
  while (vc_agent_change_next(&ch, it) == 0) {
    if (i++ >= skip) {
      if (vc_agent_change_cause(ch) == VC_AGENT_CAUSE_API)
        CHECK_STR(vc_agent_change_call_id(ch), "");
      else
        CHECK_STR(vc_agent_change_call_id(ch), call_id);
      len += (size_t)snprintf(out + len, size - len, "%s%s>%s:%s%s%s@%lld",
                              len ? " " : "",
                              vc_agent_state_name(vc_agent_change_from(ch)),
                              vc_agent_state_name(vc_agent_change_to(ch)),
                              vc_agent_cause_name(vc_agent_change_cause(ch)),
                              vc_agent_change_reason(ch)[0] ? "/" : "",
                              vc_agent_change_reason(ch),
                              (long long)(vc_agent_change_at(ch) - T0));
      CHECK(len < size);
    }
    vc_agent_change_free(ch);
  }
  vc_iter_free(it);
}

static void test_call_agent__answered_call_and_wrap_up(void)
{
  vc_agent_totals tot = VC_AGENT_TOTALS_INIT;
  char line[1024];
  vc_agent *a;
  vc_call *c, *other;
  env e;

  env_open(&e);
  voice_channel(e.t, "voice", "{\"ring_s\":5,\"talk_s\":-1}");
  a = agent_new(&e, "asha", "+14155550111", 20, VC_AGENT_AVAILABLE, NULL);
  g_now = T0 + 1000;
  CHECK_OK(start(&e, &c, "asha", NULL));
  /* The call is the agent's, to the agent's number, before it rings. */
  CHECK_STR(vc_call_agent_id(c), vc_agent_id(a));
  CHECK_STR(vc_call_agent_number(c), "+14155550111");
  CHECK_OK(vc_agent_refresh(a));
  CHECK_STR(vc_agent_call_id(a), vc_call_id(c));
  CHECK(vc_agent_state_of(a) == VC_AGENT_AVAILABLE);
  /* A second call for the agent, by name or id: refused, nothing kept. */
  other = (vc_call *)&e;
  CHECK_RC(start(&e, &other, "asha", NULL), VC_EBUSY);
  CHECK(other == NULL);
  CHECK_RC(start(&e, &other, vc_agent_id(a), NULL), VC_EBUSY);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call") == 1);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call_event") == 1);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_event WHERE type ="
                   " 'call.initiated'") == 1);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job WHERE kind ="
                   " 'call.start'") == 1);
  /* The engine places it: the agent rings (at 1 s), answers (6 s) and
   * the customer answers (11 s); the call stays up. */
  drain(&e);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_BRIDGED);
  CHECK(vc_call_state_at(c, VC_CALL_BRIDGED) == T0 + 11000);
  CHECK_OK(vc_agent_refresh(a));
  CHECK(vc_agent_state_of(a) == VC_AGENT_ON_CALL);
  CHECK(vc_agent_state_since(a) == T0 + 6000);
  CHECK_STR(vc_agent_call_id(a), vc_call_id(c));
  CHECK_RC(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL), VC_ESTATE);
  CHECK_RC(start(&e, &other, "asha", NULL), VC_EBUSY);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call") == 1);
  /* Hung up at 46 s: 35 s of talk; 20 s of wrap-up from then. */
  g_now = T0 + 41000;
  CHECK_OK(vc_call_hangup(c));
  g_now = T0 + 46000;
  drain(&e);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_state_at(c, VC_CALL_COMPLETED) == T0 + 46000);
  CHECK(vc_call_talk_seconds(c) == 35);
  CHECK_OK(vc_agent_refresh(a));
  CHECK(vc_agent_state_of(a) == VC_AGENT_WRAP_UP);
  CHECK(vc_agent_state_since(a) == T0 + 46000);
  CHECK(vc_agent_wrap_up_until(a) == T0 + 66000);
  CHECK_STR(vc_agent_call_id(a), "");
  /* Still wrapping up a millisecond before; available at 66 s, moved
   * there by the engine's job. */
  g_now = T0 + 66000 - 1;
  drain(&e);
  CHECK_OK(vc_agent_refresh(a));
  CHECK(vc_agent_state_of(a) == VC_AGENT_WRAP_UP);
  g_now = T0 + 66000;
  drain(&e);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 0);
  CHECK_OK(vc_agent_refresh(a));
  CHECK(vc_agent_state_of(a) == VC_AGENT_AVAILABLE);
  CHECK(vc_agent_state_since(a) == T0 + 66000);
  CHECK(vc_agent_wrap_up_until(a) == 0);
  activity(a, 0, vc_call_id(c), line, sizeof(line));
  CHECK_STR(line, "unknown>offline:api@0 offline>available:api@0 "
                  "available>ringing:call@1000 ringing>on_call:call@6000 "
                  "on_call>wrap_up:call@46000 "
                  "wrap_up>available:wrap_up@66000");
  /* The figures of [T0, T0 + 100 s): one call, answered; 35 s of talk;
   * ringing and on the call from 1 s to 46 s; 20 s of wrap-up; available
   * for the first second and from 66 s on. */
  g_now = T0 + 100000;
  CHECK_OK(vc_agent_stats(&tot, a, T0, T0 + 100000));
  CHECK(tot.calls == 1);
  CHECK(tot.answered_calls == 1);
  CHECK(tot.talk_ms == 35000);
  CHECK(tot.on_call_ms == 45000);
  CHECK(tot.wrap_up_ms == 20000);
  CHECK(tot.idle_ms == 1000 + 34000);
  CHECK(tot.break_ms == 0 && tot.offline_ms == 0);
  /* Free again: the next call is accepted. */
  CHECK_OK(start(&e, &other, "asha", NULL));
  vc_call_free(other);
  vc_call_free(c);
  vc_agent_free(a);
  env_close(&e);
}

static void test_call_agent__unanswered_returns_prior_state(void)
{
  vc_agent_totals tot = VC_AGENT_TOTALS_INIT;
  char line[1024];
  vc_agent *a;
  vc_call *c;
  env e;

  env_open(&e);
  voice_channel(e.t, "no-answer", "{\"agent\":\"no_answer\",\"ring_s\":5}");
  voice_channel(e.t, "busy", "{\"agent\":\"busy\",\"ring_s\":3}");
  voice_channel(e.t, "cust-busy", "{\"customer\":\"busy\",\"ring_s\":4}");
  a = agent_new(&e, "ravi", "+14155550112", 30, VC_AGENT_BREAK, "lunch");
  /* On a break: the phone rings 5 s, nobody answers, back on the same
   * break. */
  CHECK_OK(start(&e, &c, "ravi", "no-answer"));
  drain(&e);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_NO_ANSWER);
  CHECK(vc_call_failed_leg(c) == VC_LEG_AGENT);
  CHECK_OK(vc_agent_refresh(a));
  CHECK(vc_agent_state_of(a) == VC_AGENT_BREAK);
  CHECK_STR(vc_agent_reason(a), "lunch");
  CHECK_STR(vc_agent_call_id(a), "");
  CHECK(vc_agent_wrap_up_until(a) == 0);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job WHERE kind ="
                   " 'agent.wrap_up'") == 0);
  activity(a, 2, vc_call_id(c), line, sizeof(line));
  CHECK_STR(line, "break>ringing:call@0 ringing>break:call/lunch@5000");
  vc_call_free(c);
  /* Available at 10 s; the agent's line is busy at 13 s: available
   * again. */
  g_now = T0 + 10000;
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
  CHECK_OK(start(&e, &c, "ravi", "busy"));
  drain(&e);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_BUSY);
  CHECK(vc_call_failed_leg(c) == VC_LEG_AGENT);
  CHECK_OK(vc_agent_refresh(a));
  CHECK(vc_agent_state_of(a) == VC_AGENT_AVAILABLE);
  CHECK(vc_agent_state_since(a) == T0 + 13000);
  activity(a, 5, vc_call_id(c), line, sizeof(line));
  CHECK_STR(line,
            "available>ringing:call@10000 ringing>available:call@13000");
  vc_call_free(c);
  /* Answered by the agent, but the customer is busy: the agent was on
   * the call, so it wraps up (30 s). */
  g_now = T0 + 20000;
  CHECK_OK(start(&e, &c, "ravi", "cust-busy"));
  drain(&e);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_BUSY);
  CHECK(vc_call_failed_leg(c) == VC_LEG_CUSTOMER);
  CHECK(vc_call_talk_seconds(c) == 0);
  CHECK_OK(vc_agent_refresh(a));
  CHECK(vc_agent_state_of(a) == VC_AGENT_WRAP_UP);
  CHECK(vc_agent_wrap_up_until(a) == T0 + 28000 + 30000);
  vc_call_free(c);
  /* Three calls, one answered by the agent, no talk. */
  g_now = T0 + 60000;
  drain(&e);
  CHECK_OK(vc_agent_refresh(a));
  CHECK(vc_agent_state_of(a) == VC_AGENT_AVAILABLE);
  CHECK_OK(vc_agent_stats(&tot, a, T0, T0 + 60000));
  CHECK(tot.calls == 3);
  CHECK(tot.answered_calls == 1);
  CHECK(tot.talk_ms == 0);
  CHECK(tot.break_ms == 10000 - 5000);
  CHECK(tot.wrap_up_ms == 30000);
  vc_agent_free(a);
  env_close(&e);
}

/* Calls that never reached the agent's phone free the agent too: one
 * hung up before it was placed, one no channel would place. */
static void test_call_agent__never_placed(void)
{
  vc_agent *a;
  vc_call *c;
  env e;

  env_open(&e);
  voice_channel(e.t, "rejects", "{\"outcome\":\"rejected\"}");
  voice_channel(e.t, "ok", "{\"talk_s\":-1}");
  a = agent_new(&e, "asha", "+14155550111", 20, VC_AGENT_BREAK, "coffee");
  CHECK_OK(start(&e, &c, "asha", "ok"));
  CHECK_OK(vc_call_hangup(c));
  drain(&e);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_CANCELED);
  CHECK_OK(vc_agent_refresh(a));
  CHECK_STR(vc_agent_call_id(a), "");
  CHECK(vc_agent_state_of(a) == VC_AGENT_BREAK);
  CHECK_STR(vc_agent_reason(a), "coffee");
  vc_call_free(c);
  CHECK_OK(start(&e, &c, "asha", "rejects"));
  drain(&e);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_FAILED);
  CHECK_OK(vc_agent_refresh(a));
  CHECK_STR(vc_agent_call_id(a), "");
  CHECK(vc_agent_state_of(a) == VC_AGENT_BREAK);
  vc_call_free(c);
  /* Free for the next. */
  CHECK_OK(start(&e, &c, "asha", "ok"));
  drain(&e);
  CHECK_OK(vc_agent_refresh(a));
  CHECK(vc_agent_state_of(a) == VC_AGENT_ON_CALL);
  vc_call_free(c);
  vc_agent_free(a);
  env_close(&e);
}

/* A bridged call the watchdog ends (the provider went silent) ends the
 * agent's call like a hangup: wrap-up, then available. */
static void test_call_agent__watchdog(void)
{
  vc_call_spec s = VC_CALL_SPEC_INIT;
  vc_agent *a;
  vc_call *c;
  int64_t end;
  env e;

  env_open(&e);
  voice_channel(e.t, "voice", "{\"talk_s\":-1}");
  a = agent_new(&e, "asha", "+14155550111", 20, VC_AGENT_AVAILABLE, NULL);
  s.agent = "asha";
  s.customer_number = "+14155550123";
  s.ring_timeout_s = 20;
  s.time_limit_s = 600;
  CHECK_OK(vc_call_start(&c, e.t, &s));
  drain(&e);
  /* Due after both ring timeouts, the time limit and 5 minutes. */
  end = T0 + (2 * 20 + 600) * 1000LL + 300000;
  g_now = end;
  drain(&e);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_FAILED);
  CHECK_OK(vc_agent_refresh(a));
  CHECK_STR(vc_agent_call_id(a), "");
  CHECK(vc_agent_state_of(a) == VC_AGENT_WRAP_UP);
  CHECK(vc_agent_wrap_up_until(a) == end + 20000);
  g_now = end + 20000;
  drain(&e);
  CHECK_OK(vc_agent_refresh(a));
  CHECK(vc_agent_state_of(a) == VC_AGENT_AVAILABLE);
  vc_call_free(c);
  vc_agent_free(a);
  env_close(&e);
}

/* A retry with the idempotency key of the agent's live call returns
 * that call; another key is refused. */
static void test_call_agent__idempotent_retry(void)
{
  vc_call_spec s = VC_CALL_SPEC_INIT;
  vc_agent *a;
  vc_call *c, *again;
  env e;

  env_open(&e);
  voice_channel(e.t, "voice", "{\"talk_s\":-1}");
  a = agent_new(&e, "asha", "+14155550111", 0, VC_AGENT_AVAILABLE, NULL);
  s.agent = "asha";
  s.customer_number = "+14155550123";
  s.idempotency_key = "k1";
  CHECK_OK(vc_call_start(&c, e.t, &s));
  CHECK_OK(vc_call_start(&again, e.t, &s));
  CHECK_STR(vc_call_id(again), vc_call_id(c));
  vc_call_free(again);
  s.idempotency_key = "k2";
  CHECK_RC(vc_call_start(&again, e.t, &s), VC_EBUSY);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call") == 1);
  /* Wrap-up 0: available as soon as the call ends. */
  drain(&e);
  CHECK_OK(vc_call_hangup(c));
  g_now += 30000;
  drain(&e);
  CHECK_OK(vc_agent_refresh(a));
  CHECK(vc_agent_state_of(a) == VC_AGENT_AVAILABLE);
  CHECK(vc_agent_state_since(a) == g_now);
  CHECK_OK(vc_call_start(&again, e.t, &s));
  vc_call_free(again);
  vc_call_free(c);
  vc_agent_free(a);
  env_close(&e);
}

/* Threads starting calls for one agent at once: exactly one wins. */
typedef struct racer {
  vc_tenant *t;
  int rc;
} racer;

static void *race(void *p)
{
  racer *r = p;
  vc_call_spec s = VC_CALL_SPEC_INIT;
  vc_call *c = NULL;

  s.agent = "asha";
  s.customer_number = "+14155550123";
  r->rc = vc_call_start(&c, r->t, &s);
  vc_call_free(c);
  return NULL;
}

static void test_call_agent__concurrent_starts(void)
{
  pthread_t th[6];
  racer r[6];
  vc_agent *a;
  int won = 0;
  env e;

  env_open(&e);
  voice_channel(e.t, "voice", NULL);
  a = agent_new(&e, "asha", "+14155550111", 0, VC_AGENT_AVAILABLE, NULL);
  for (int i = 0; i < 6; i++) {
    r[i].t = e.t;
    CHECK(pthread_create(&th[i], NULL, race, &r[i]) == 0);
  }
  for (int i = 0; i < 6; i++) {
    CHECK(pthread_join(th[i], NULL) == 0);
    if (r[i].rc == 0)
      won++;
    else
      CHECK_RC(r[i].rc, VC_EBUSY);
  }
  CHECK(won == 1);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call") == 1);
  vc_agent_free(a);
  env_close(&e);
}

/* Another tenant's call cannot name this tenant's agent. */
static void test_call_agent__tenant_isolation(void)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_call_spec s = VC_CALL_SPEC_INIT;
  vc_tenant *other;
  vc_agent *a;
  vc_call *c;
  env e;

  env_open(&e);
  a = agent_new(&e, "asha", "+14155550111", 20, VC_AGENT_AVAILABLE, NULL);
  ts.slug = "other";
  CHECK_OK(vc_tenant_new(&other, e.ctx, &ts));
  voice_channel(other, "voice", NULL);
  s.agent = vc_agent_id(a);
  s.customer_number = "+14155550123";
  CHECK_RC(vc_call_start(&c, other, &s), VC_ENOTFOUND);
  s.agent = "asha";
  CHECK_RC(vc_call_start(&c, other, &s), VC_ENOTFOUND);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call") == 0);
  CHECK_OK(vc_agent_refresh(a));
  CHECK_STR(vc_agent_call_id(a), "");
  vc_tenant_free(other);
  vc_agent_free(a);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_call_agent__answered_call_and_wrap_up),
  VC_TEST(test_call_agent__unanswered_returns_prior_state),
  VC_TEST(test_call_agent__never_placed),
  VC_TEST(test_call_agent__watchdog),
  VC_TEST(test_call_agent__idempotent_retry),
  VC_TEST(test_call_agent__concurrent_starts),
  VC_TEST(test_call_agent__tenant_isolation),
)
