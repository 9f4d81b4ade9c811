/*
 * Exotel click-to-call end to end over loopback, public API only: the
 * engine places the call with libcurl at the simulator's
 * Calls/connect.json, and the simulator's answered and terminal
 * callbacks come back through vc_webhook_listen() with their vc_token.
 * The full life with every transition, each leg's failure, failover
 * from a channel Exotel refuses to the next, and a forged callback.
 * SQLite on disk.
 * The cost of each call from a rate card: on the call, in the ledger
 * and in a balanced GL export (cost_check.h); then Exotel's own Price
 * in its place.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "voice_env.h"
#include "cost_check.h"

#include <curl/curl.h>

#define AGENT "+919876543210"
#define CUSTOMER "+919812345678"
#define SECRET "exotel-webhook-secret-0123456789abcdef"

static void exotel_channel(env *e, const char *name, int priority,
                           const char *token, char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  char config[512], creds[512];
  vc_channel *ch;

  snprintf(config, sizeof(config), "{\"account_sid\":\"%s\",\"base_url\":"
           "\"%s\",\"caller_ids\":[\"%s\"]}", VC_SIM_EXOTEL_ACCOUNT_SID,
           vc_sim_base_url(e->sim), VC_SIM_EXOTEL_CALLER_ID);
  snprintf(creds, sizeof(creds), "{\"api_key\":\"%s\",\"api_token\":\"%s\","
           "\"webhook_secret\":\"%s\"}", VC_SIM_EXOTEL_API_KEY, token,
           SECRET);
  s.name = name;
  s.provider = "exotel";
  s.config_json = config;
  s.credentials_json = creds;
  s.sender = VC_SIM_EXOTEL_CALLER_ID;
  s.priority = priority;
  CHECK_OK(vc_channel_new(&ch, e->t, &s));
  if (id != NULL)
    snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void env_open(env *e)
{
  voice_env_open(e, "x.db");
  /* Long enough to tell the moments apart in Exotel's whole seconds. */
  CHECK_OK(vc_sim_set(e->sim, "exotel.ring_ms", "1100"));
  CHECK_OK(vc_sim_set(e->sim, "exotel.talk_ms", "2100"));
}

static void env_close(env *e)
{
  voice_env_close(e);
}

static void start_call(env *e, vc_call **c, int record)
{
  vc_call_spec s = VC_CALL_SPEC_INIT;

  s.agent_number = AGENT;
  s.customer_number = CUSTOMER;
  s.record = record ? VC_RECORD_ALWAYS : VC_RECORD_OFF;
  s.time_limit_s = 600;
  CHECK_OK(vc_call_start(c, e->t, &s));
}

static void test_exotel__lifecycle(void)
{
  env e;
  vc_call *c;
  vc_sim_request r;
  char ch[VC_ID_SIZE], line[2048], st[32], want[256];
  int64_t t0 = wall_ms() - 1000, prev = 0;

  env_open(&e);
  exotel_channel(&e, "exotel", 10, VC_SIM_EXOTEL_API_TOKEN, ch);
  /* INR 1.45 a minute to India, a 30 s first pulse then 15 s pulses,
   * INR 0.10 to connect. */
  cost_card(e.t, "exotel", 1450000, 30, 15, 100000);
  start_call(&e, &c, 1);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  CHECK(vc_call_failed_leg(c) == VC_LEG_NONE);
  CHECK(vc_call_attempts(c) == 1);
  CHECK_STR(vc_call_channel_id(c), ch);
  CHECK(strlen(vc_call_provider_id(c)) == 32);
  CHECK_STR(vc_call_caller_id(c), VC_SIM_EXOTEL_CALLER_ID);
  /* ConversationDuration: 2.1 s rounded up */
  CHECK(vc_call_talk_seconds(c) == 3);
  /* 3 s of talk fall in the first pulse: 30 s billed, so the cost is
   * 100000 + 30 * 1450000 / 60 = 100000 + 725000 = 825000 micro-INR,
   * INR 0.825, which the journal rounds half up to 0.83. */
  cost_check(e.t, c, "exotel", ch, 825000, "0.83");
  /* Every state, in order, at Exotel's times (whole seconds, read as
   * +05:30 like the simulator writes them: near the wall clock). */
  for (int s = VC_CALL_AGENT_RINGING; s <= VC_CALL_BRIDGED; s++) {
    int64_t at = vc_call_state_at(c, s);
    if (at < prev || at < t0 || at > wall_ms() + 1000)
      fprintf(stderr, "  state %d at %lld (t0 %lld)\n", s, (long long)at,
              (long long)t0);
    CHECK(at >= prev && at >= t0 && at <= wall_ms() + 1000);
    prev = at;
  }
  CHECK(vc_call_state_at(c, VC_CALL_COMPLETED) >=
        vc_call_state_at(c, VC_CALL_BRIDGED) + 2000);
  CHECK(vc_call_state_at(c, VC_CALL_BRIDGED) >=
        vc_call_state_at(c, VC_CALL_AGENT_RINGING) + 1000);
  timeline(&e, vc_call_id(c), line, sizeof(line), NULL, NULL, 0);
  CHECK(strstr(line, "ringing/1") != NULL);
  CHECK(strstr(line, "answered/1") != NULL);
  CHECK(strstr(line, "ringing/2") != NULL);
  CHECK(strstr(line, "answered/2") != NULL);
  CHECK(strstr(line, "bridged/0") != NULL);
  CHECK(strstr(line, "recording.available/0") != NULL);
  CHECK(strstr(line, "state/0") != NULL);
  CHECK(vc_sim_call_status(e.sim, "exotel", vc_call_provider_id(c), st,
                           sizeof(st)) > 0);
  CHECK_STR(st, "completed");
  /* The wire: agent as From, customer as To, the tokened callback. */
  CHECK(provider_request(&e, "exotel", 0, &r));
  CHECK_STR(r.path, "/v1/Accounts/" VC_SIM_EXOTEL_ACCOUNT_SID
            "/Calls/connect.json");
  CHECK(strstr(r.body, "From=%2B919876543210&To=%2B919812345678&CallerId="
               VC_SIM_EXOTEL_CALLER_ID) != NULL);
  CHECK(strstr(r.body, "&Record=true") != NULL);
  CHECK(strstr(r.body, "&TimeLimit=600") != NULL);
  snprintf(want, sizeof(want), "&CustomField=%s&StatusCallback=",
           vc_call_id(c));
  CHECK(strstr(r.body, want) != NULL);
  CHECK(strstr(r.body, "%26vc_step%3Dstatus%26vc_token%3D") != NULL);
  vc_call_free(c);
  CHECK_OK(vc_sim_webhooks_wait(e.sim, 5000));
  env_close(&e);
}

static void test_exotel__leg_failures(void)
{
  static const struct {
    const char *number;
    vc_sim_call_outcome outcome;
    int state, cause, leg;
  } cases[] = {
    { AGENT, VC_SIM_CALL_BUSY, VC_CALL_BUSY, VC_CAUSE_BUSY, VC_LEG_AGENT },
    { AGENT, VC_SIM_CALL_NO_ANSWER, VC_CALL_NO_ANSWER, VC_CAUSE_NO_ANSWER,
      VC_LEG_AGENT },
    { CUSTOMER, VC_SIM_CALL_BUSY, VC_CALL_BUSY, VC_CAUSE_BUSY,
      VC_LEG_CUSTOMER },
    { CUSTOMER, VC_SIM_CALL_FAILED, VC_CALL_FAILED, VC_CAUSE_UNREACHABLE,
      VC_LEG_CUSTOMER },
  };
  env e;

  env_open(&e);
  CHECK_OK(vc_sim_set(e.sim, "exotel.ring_ms", "200"));
  exotel_channel(&e, "exotel", 10, VC_SIM_EXOTEL_API_TOKEN, NULL);
  cost_card(e.t, "exotel", 1450000, 30, 15, 100000);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    vc_sim_call_plan p = { cases[i].outcome, 0, 0 };
    vc_call *c;

    CHECK_OK(vc_sim_call_plan_set(e.sim, "exotel", cases[i].number, &p));
    start_call(&e, &c, 0);
    CHECK(run_until_final(&e, vc_call_id(c), 20000));
    CHECK_OK(vc_call_refresh(c));
    if (vc_call_state_of(c) != cases[i].state ||
        vc_call_failed_leg(c) != cases[i].leg)
      fprintf(stderr, "  case %zu: state %d cause %d leg %d\n", i,
              vc_call_state_of(c), vc_call_cause_of(c),
              vc_call_failed_leg(c));
    CHECK(vc_call_state_of(c) == cases[i].state);
    CHECK(vc_call_cause_of(c) == cases[i].cause);
    CHECK(vc_call_failed_leg(c) == cases[i].leg);
    CHECK(vc_call_state_at(c, VC_CALL_BRIDGED) == 0);
    CHECK(vc_call_talk_seconds(c) == 0);
    cost_none(e.t, c);   /* no talk: no connection fee either */
    CHECK((vc_call_state_at(c, VC_CALL_CUSTOMER_RINGING) != 0) ==
          (cases[i].leg == VC_LEG_CUSTOMER));
    vc_call_free(c);
    CHECK_OK(vc_sim_call_plan_set(e.sim, "exotel", cases[i].number, NULL));
  }
  CHECK_OK(vc_sim_webhooks_wait(e.sim, 5000));
  env_close(&e);
}

/* How many GETs of the call's details the simulator answered. */
static size_t price_fetches(env *e, const char *sid)
{
  vc_sim_request r;
  char path[128];
  size_t n = 0;

  snprintf(path, sizeof(path), "/v1/Accounts/" VC_SIM_EXOTEL_ACCOUNT_SID
           "/Calls/%s.json", sid);
  for (size_t i = 0; i < vc_sim_received_count(e->sim); i++) {
    CHECK_OK(vc_sim_received_get(e->sim, i, &r));
    if (strcmp(r.method, "GET") == 0 && strcmp(r.path, path) == 0)
      n++;
  }
  return n;
}

/* Run the engine until the call's cost is the provider's (real time). */
static int run_until_priced(env *e, vc_call *c, int ms)
{
  int64_t deadline = wall_ms() + ms;

  for (;;) {
    CHECK_OK(vc_call_refresh(c));
    if (vc_call_cost_reported(c) || wall_ms() >= deadline)
      return vc_call_cost_reported(c);
    vc_ctx_run(e->ctx, 20);
  }
}

/* Exotel's Price replaces the estimate half a minute after the end (by
 * the context's clock): 1.200 INR, the simulator's price of a started
 * minute, for the 825,000 micro-INR estimate of the lifecycle case; the
 * ledger has the estimate, its reversal and Exotel's price, and the GL
 * export balances. A call nobody answered has no estimate and Exotel's
 * price 0.000 for it. */
static void test_exotel__provider_price(void)
{
  env e;
  vc_call *c, *b;
  vc_sim_call_plan busy = { VC_SIM_CALL_BUSY, 0, 0 };
  char ch[VC_ID_SIZE], line[512];
  int64_t t0;

  env_open(&e);
  t0 = test_clock(NULL);
  CHECK_OK(vc_sim_set(e.sim, "exotel.price_delay_ms", "0"));
  exotel_channel(&e, "exotel", 10, VC_SIM_EXOTEL_API_TOKEN, ch);
  cost_card(e.t, "exotel", 1450000, 30, 15, 100000);
  start_call(&e, &c, 0);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  cost_check(e.t, c, "exotel", ch, 825000, "0.83");
  /* not asked before 30 s */
  atomic_store(&clock_offset, 20000);
  vc_ctx_run(e.ctx, 200);
  CHECK(price_fetches(&e, vc_call_provider_id(c)) == 0);
  atomic_store(&clock_offset, 31000);
  CHECK(run_until_priced(&e, c, 5000));
  CHECK(price_fetches(&e, vc_call_provider_id(c)) == 1);
  CHECK(vc_call_cost_micros(c) == 1200000);
  CHECK_STR(vc_call_currency(c), "INR");
  cost_ledger(e.t, vc_call_id(c), line, sizeof(line));
  CHECK_STR(line, "estimate:825000:INR reversal:825000:INR "
            "provider_price:1200000:INR");
  /* each side: the estimate, its reversal (the other side) and the
   * price */
  cost_gl_balanced(e.t, t0 - DAY_MS, test_clock(NULL) + DAY_MS, "INR", 6,
                   2 * 825000 + 1200000);
  timeline(&e, vc_call_id(c), line, sizeof(line), NULL, NULL, 0);
  CHECK(strstr(line, "state/0 price/0") != NULL);

  /* Busy: no talk, no estimate; Exotel prices it at 0 */
  CHECK_OK(vc_sim_call_plan_set(e.sim, "exotel", CUSTOMER, &busy));
  start_call(&e, &b, 0);
  CHECK(run_until_final(&e, vc_call_id(b), 20000));
  CHECK_OK(vc_call_refresh(b));
  CHECK(vc_call_state_of(b) == VC_CALL_BUSY);
  cost_none(e.t, b);
  CHECK(vc_call_cost_reported(b) == 0);
  atomic_store(&clock_offset, 31000 + 60000);
  CHECK(run_until_priced(&e, b, 5000));
  CHECK(vc_call_cost_micros(b) == 0);
  CHECK_STR(vc_call_currency(b), "INR");
  cost_ledger(e.t, vc_call_id(b), line, sizeof(line));
  CHECK_STR(line, "");
  /* the first call is not asked again; the GL export is as it was */
  CHECK(price_fetches(&e, vc_call_provider_id(c)) == 1);
  cost_gl_balanced(e.t, t0 - DAY_MS, test_clock(NULL) + DAY_MS, "INR", 6,
                   2 * 825000 + 1200000);
  vc_call_free(b);
  vc_call_free(c);
  CHECK_OK(vc_sim_webhooks_wait(e.sim, 5000));
  env_close(&e);
}

/* Exotel refuses the first channel's credentials (401): the call goes
 * to the next channel and completes there. */
static void test_exotel__failover(void)
{
  env e;
  vc_call *c;
  char good[VC_ID_SIZE];
  vc_sim_request r;

  env_open(&e);
  CHECK_OK(vc_sim_set(e.sim, "exotel.ring_ms", "100"));
  CHECK_OK(vc_sim_set(e.sim, "exotel.talk_ms", "100"));
  exotel_channel(&e, "wrong", 1, "not-the-token", NULL);
  exotel_channel(&e, "right", 2, VC_SIM_EXOTEL_API_TOKEN, good);
  start_call(&e, &c, 0);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_attempts(c) == 2);
  CHECK_STR(vc_call_channel_id(c), good);
  CHECK(provider_request(&e, "exotel", 0, &r) && r.status == 401);
  CHECK(provider_request(&e, "exotel", 1, &r) && r.status == 200);
  vc_call_free(c);
  CHECK_OK(vc_sim_webhooks_wait(e.sim, 5000));
  env_close(&e);
}

/* A callback with another call's token changes nothing. */
static void test_exotel__forged_callback(void)
{
  env e;
  vc_call *c;
  char url[512], body[256];
  CURL *h;
  long code = 0;

  env_open(&e);
  exotel_channel(&e, "exotel", 10, VC_SIM_EXOTEL_API_TOKEN, NULL);
  CHECK_OK(vc_sim_set(e.sim, "exotel.ring_ms", "3000"));
  start_call(&e, &c, 0);
  {
    vc_channel *ch;
    CHECK_OK(vc_channel_lookup(&ch, e.t, "exotel"));
    /* hex HMAC-SHA256(SECRET, "01J9ZK3M2V7Q8R4T6W0X1Y2Z3D"), computed
     * with Python: valid, but for another call */
    snprintf(url, sizeof(url), "%s/webhooks/%s?vc_call=%s&vc_step=status"
             "&vc_token=0e1713cc14f183a5eda518d38881e86f26d564dfff9d9b890db"
             "4215ad12dc3d5", e.base, vc_channel_id(ch), vc_call_id(c));
    vc_channel_free(ch);
  }
  snprintf(body, sizeof(body), "{\"CallSid\": \"abc\", \"Status\": "
           "\"busy\", \"DateUpdated\": \"2024-01-15 14:30:20\"}");
  CHECK((h = curl_easy_init()) != NULL);
  {
    struct curl_slist *hd = curl_slist_append(NULL,
                                              "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    CHECK(curl_easy_perform(h) == CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hd);
  }
  curl_easy_cleanup(h);
  CHECK(code >= 400);
  CHECK(!vc_call_state_final(state_of(&e, vc_call_id(c))));
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK(state_of(&e, vc_call_id(c)) == VC_CALL_COMPLETED);
  vc_call_free(c);
  CHECK_OK(vc_sim_webhooks_wait(e.sim, 5000));
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_exotel__lifecycle),
  VC_TEST(test_exotel__provider_price),
  VC_TEST(test_exotel__leg_failures),
  VC_TEST(test_exotel__failover),
  VC_TEST(test_exotel__forged_callback),
)
