/*
 * Twilio Voice click-to-call end to end over loopback, public API only:
 * the engine places the call with libcurl at the simulator's Calls.json,
 * the simulator fetches the call's TwiML and posts its signed status
 * callbacks, <Dial> actions, whisper fetches, Gather keys and recording
 * callbacks back through vc_webhook_listen(). SQLite on disk; the
 * context's clock is the wall clock plus an offset the test controls
 * (the simulator keeps real time).
 *
 * Cases: the full life with an agent, its cost and ledger; failover
 * from a channel Twilio refuses to the next, and a refused number that
 * does not fail over; busy and no-answer on each leg; hold, unhold and
 * blind transfer; an IVR with a sub-menu (connect and hangup); recording
 * with consent, its purge at the provider and the compliance report; a
 * forged webhook.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "line_match.h"
#include "voice_env.h"
#include "cost_check.h"
#include "twilio_sign.h"

#include <curl/curl.h>

#define AGENT "+14155550111"
#define CUSTOMER "+14155550123"
#define CALLER_ID "+15005550006"
/* a transfer target that stays on the line until the test ends it */
#define TRANSFER_TO "+14155550199"
/* 32 hex digits, but not the simulator's auth token */
#define WRONG_TOKEN "0123456789abcdef0123456789abcdef"

static void twilio_channel(env *e, const char *name, int priority,
                           const char *token, char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  char config[512], creds[256];
  vc_channel *ch;

  snprintf(config, sizeof(config), "{\"account_sid\":\"%s\",\"base_url\":"
           "\"%s\",\"caller_ids\":[\"%s\"]}", VC_SIM_TWILIO_ACCOUNT_SID,
           vc_sim_base_url(e->sim), CALLER_ID);
  snprintf(creds, sizeof(creds), "{\"auth_token\":\"%s\"}", token);
  s.name = name;
  s.provider = "twilio-voice";
  s.config_json = config;
  s.credentials_json = creds;
  s.sender = CALLER_ID;
  s.priority = priority;
  CHECK_OK(vc_channel_new(&ch, e->t, &s));
  if (id != NULL)
    snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void env_open(env *e)
{
  voice_env_open(e, "tv.db");
  CHECK_OK(vc_sim_set(e->sim, "twilio-voice.ring_ms", "100"));
  CHECK_OK(vc_sim_set(e->sim, "twilio-voice.talk_ms", "100"));
}

static void env_close(env *e)
{
  CHECK_OK(vc_sim_webhooks_wait(e->sim, 10000));
  voice_env_close(e);
}

static void start_call(env *e, vc_call **c, const vc_call_spec *extra)
{
  vc_call_spec s = VC_CALL_SPEC_INIT;

  if (extra != NULL)
    s = *extra;
  if (s.agent == NULL && s.agent_number == NULL)
    s.agent_number = AGENT;
  if (s.customer_number == NULL)
    s.customer_number = CUSTOMER;
  if (s.time_limit_s == 0)
    s.time_limit_s = 600;
  if (s.ring_timeout_s == 0)
    s.ring_timeout_s = 20;
  CHECK_OK(vc_call_start(c, e->t, &s));
}

/* The customer's child call: the leg_id of its first timeline entry. */
static int customer_leg(env *e, const char *id, char sid[48])
{
  vc_iter *it;
  vc_call_entry *en;
  int found = 0;

  sid[0] = '\0';
  CHECK_OK(vc_call_timeline(&it, e->t, id));
  while (!found && vc_call_entry_next(&en, it) == 0) {
    const char *d = vc_call_entry_detail_json(en), *p;
    if (vc_call_entry_leg(en) == VC_LEG_CUSTOMER &&
        (p = strstr(d, "\"leg_id\":\"")) != NULL) {
      snprintf(sid, 48, "%.34s", p + 10);
      found = strlen(sid) == 34 && strncmp(sid, "CA", 2) == 0;
    }
    vc_call_entry_free(en);
  }
  vc_iter_free(it);
  return found;
}

/* Run the engine until the call's customer leg is known. */
static int wait_customer_leg(env *e, const char *id, char sid[48], int ms)
{
  int64_t deadline = wall_ms() + ms;

  while (!customer_leg(e, id, sid)) {
    if (wall_ms() >= deadline)
      return 0;
    vc_ctx_run(e->ctx, 20);
  }
  return 1;
}

/* The i-th TwiML document the simulator has for a call, waiting for it
 * while running the engine. */
static int twiml_wait(env *e, const char *sid, size_t i, char *buf,
                      size_t size, int ms)
{
  int64_t deadline = wall_ms() + ms;

  while (vc_sim_twilio_voice_twiml(e->sim, sid, i, buf, size) < 0) {
    if (wall_ms() >= deadline)
      return 0;
    vc_ctx_run(e->ctx, 20);
  }
  return 1;
}

/* The Calls.json requests the simulator answered, in order: their
 * statuses into st[] (at most n), and how many there were. */
static size_t create_requests(env *e, int *st, size_t n)
{
  vc_sim_request r;
  size_t k = 0;

  for (size_t i = 0; i < vc_sim_received_count(e->sim); i++) {
    CHECK_OK(vc_sim_received_get(e->sim, i, &r));
    if (strcmp(r.provider, "twilio-voice") == 0 &&
        strcmp(r.method, "POST") == 0 &&
        strstr(r.path, "/Calls.json") != NULL) {
      if (k < n)
        st[k] = r.status;
      k++;
    }
  }
  return k;
}

/* ------------------------------------------------------------------ */

static void agent_new(env *e, vc_agent **a, const char *name, int wrap_up)
{
  vc_agent_spec s = VC_AGENT_SPEC_INIT;

  s.name = name;
  s.number = AGENT;
  s.wrap_up_s = wrap_up;
  CHECK_OK(vc_agent_new(a, e->t, &s));
  CHECK_OK(vc_agent_set_state(*a, VC_AGENT_AVAILABLE, NULL));
}

static void ratecard(env *e)
{
  vc_ratecard_entry en[2];
  vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
  char id[VC_ID_SIZE];

  CHECK_OK(vc_ratecard_entry_init(&en[0], VC_RATECARD_ENTRY_VERSION));
  CHECK_OK(vc_ratecard_entry_init(&en[1], VC_RATECARD_ENTRY_VERSION));
  en[0].prefix = "1415";
  en[0].rate_per_min_micros = 1234567;
  en[0].initial_s = 6;
  en[0].subsequent_s = 6;
  en[0].connection_fee_micros = 10000;
  en[0].currency = "USD";
  en[1].prefix = "";
  en[1].rate_per_min_micros = 9000000;
  en[1].initial_s = 60;
  en[1].subsequent_s = 60;
  en[1].currency = "USD";
  s.provider = "twilio-voice";
  s.entries = en;
  s.nentries = 2;
  CHECK_OK(vc_ratecard_set(id, e->t, &s));
}

static void test_twilio_voice__lifecycle(void)
{
  env e;
  vc_call *c;
  vc_agent *alice;
  vc_call_spec s = VC_CALL_SPEC_INIT;
  vc_sim_call_plan talk = { VC_SIM_CALL_ANSWER, 300, 1500 };
  char ch[VC_ID_SIZE], line[4096], detail[512], st[32], leg[48];
  int64_t t0, prev = 0;

  env_open(&e);
  twilio_channel(&e, "twilio", 10, VC_SIM_TWILIO_AUTH_TOKEN, ch);
  ratecard(&e);
  agent_new(&e, &alice, "alice", 30);
  /* The customer talks 1.5 s: Twilio's CallDuration rounds up to 2 s. */
  CHECK_OK(vc_sim_call_plan_set(e.sim, "twilio-voice", CUSTOMER, &talk));
  t0 = test_clock(NULL);
  s.agent = "alice";
  start_call(&e, &c, &s);
  CHECK_STR(vc_call_agent_id(c), vc_agent_id(alice));
  CHECK_STR(vc_call_agent_number(c), AGENT);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  CHECK(vc_call_failed_leg(c) == VC_LEG_NONE);
  CHECK(vc_call_attempts(c) == 1);
  CHECK_STR(vc_call_channel_id(c), ch);
  CHECK_STR(vc_call_caller_id(c), CALLER_ID);
  CHECK(strncmp(vc_call_provider_id(c), "CA", 2) == 0 &&
        strlen(vc_call_provider_id(c)) == 34);
  /* Talk time: the simulator talked 1500 ms; Twilio bills whole seconds
   * rounded up (CallDuration, DialCallDuration) = 2. */
  CHECK(vc_call_talk_seconds(c) == 2);
  /* Every state has a time, none earlier than the one before. */
  for (int k = VC_CALL_INITIATED; k <= VC_CALL_COMPLETED; k++) {
    int64_t at = vc_call_state_at(c, k);
    if (at < prev || at < t0 - 1000 || at > test_clock(NULL))
      fprintf(stderr, "  state %s at %lld (t0 %lld prev %lld)\n",
              vc_call_state_name(k), (long long)at, (long long)t0,
              (long long)prev);
    CHECK(at != 0);
    CHECK(at >= prev && at >= t0 - 1000 && at <= test_clock(NULL));
    prev = at;
  }
  /* Twilio's Timestamp is whole seconds (the bridge may be taken up to
   * the agent's answer, which has milliseconds): 1.5 s of talk shows as
   * more than 0.5 s. */
  CHECK(vc_call_state_at(c, VC_CALL_COMPLETED) >
        vc_call_state_at(c, VC_CALL_BRIDGED) + 500);
  timeline(&e, vc_call_id(c), line, sizeof(line), "hangup", detail,
           sizeof(detail));
  CHECK(in_order(line, "state/0 ringing/1 state/0 answered/1 state/0 "
                 "ringing/2 state/0 answered/2 bridged/0 state/0 hangup/2 "
                 "state/0"));
  CHECK(strstr(detail, "\"cause\":\"normal\"") != NULL);
  CHECK(strstr(detail, "\"duration_s\":2") != NULL);
  CHECK(customer_leg(&e, vc_call_id(c), leg));
  CHECK(vc_sim_call_status(e.sim, "twilio-voice", leg, st, sizeof(st)) > 0);
  CHECK_STR(st, "completed");
  CHECK(vc_sim_call_status(e.sim, "twilio-voice", vc_call_provider_id(c), st,
                           sizeof(st)) > 0);

  /* The agent: ringing, on the call, then wrap-up. */
  CHECK_OK(vc_agent_refresh(alice));
  CHECK(vc_agent_state_of(alice) == VC_AGENT_WRAP_UP);
  CHECK_STR(vc_agent_call_id(alice), "");
  CHECK(vc_agent_wrap_up_until(alice) >=
        vc_call_state_at(c, VC_CALL_COMPLETED) + 30000);
  {
    vc_iter *it;
    vc_agent_change *ac;
    int want[] = { VC_AGENT_OFFLINE, VC_AGENT_AVAILABLE, VC_AGENT_RINGING,
                   VC_AGENT_ON_CALL, VC_AGENT_WRAP_UP };
    size_t k = 0;
    int64_t at = 0;

    CHECK_OK(vc_agent_activity(&it, alice, NULL));
    while (vc_agent_change_next(&ac, it) == 0) {
      CHECK(k < sizeof(want) / sizeof(want[0]));
      CHECK(vc_agent_change_to(ac) == want[k]);
      CHECK(vc_agent_change_at(ac) >= at);
      at = vc_agent_change_at(ac);
      if (k >= 2) {
        CHECK(vc_agent_change_cause(ac) == VC_AGENT_CAUSE_CALL);
        CHECK_STR(vc_agent_change_call_id(ac), vc_call_id(c));
      }
      k++;
      vc_agent_change_free(ac);
    }
    vc_iter_free(it);
    CHECK(k == sizeof(want) / sizeof(want[0]));
  }

  /* Cost: +1415... takes the "1415" entry (the longest prefix; the
   * default would be 9.00/min). 2 s of talk on 6/6 pulses bills 6 s:
   * 6 * 1,234,567 / 60 = 123,456.7 -> 123,457 (half up), plus the
   * 10,000 connection fee = 133,457 micro-USD. */
  CHECK(vc_call_cost_micros(c) == 133457);
  CHECK_STR(vc_call_currency(c), "USD");
  CHECK(vc_call_cost_reported(c) == 0);
  {
    int64_t q = 0;
    char cur[4];
    CHECK_OK(vc_ratecard_quote(&q, cur, e.t, "twilio-voice", CUSTOMER, 2));
    CHECK(q == 133457);
  }
  {
    vc_ledger_filter f = VC_LEDGER_FILTER_INIT;
    vc_iter *it;
    vc_ledger_entry *le;
    int n = 0;

    f.source_id = vc_call_id(c);
    CHECK_OK(vc_ledger_list(&it, e.t, &f));
    while (vc_ledger_next(&le, it) == 0) {
      CHECK(vc_ledger_entry_kind(le) == VC_LEDGER_ESTIMATE);
      CHECK(vc_ledger_entry_amount_micros(le) == 133457);
      CHECK_STR(vc_ledger_entry_currency(le), "USD");
      CHECK_STR(vc_ledger_entry_source(le), "call");
      CHECK_STR(vc_ledger_entry_provider(le), "twilio-voice");
      CHECK_STR(vc_ledger_entry_channel_id(le), ch);
      n++;
      vc_ledger_entry_free(le);
    }
    vc_iter_free(it);
    CHECK(n == 1);
  }
  {
    vc_gl_export_options o = VC_GL_EXPORT_OPTIONS_INIT;
    vc_buf b = VC_BUF_INIT;
    char want[128];

    o.format = VC_GL_CSV;
    o.from = t0 - 86400000;
    o.to = test_clock(NULL) + 86400000;
    CHECK_OK(vc_gl_export(&b, e.t, &o));
    /* debit the expense account 0.13 (2 digits of USD) */
    snprintf(want, sizeof(want), ",COMMS-EXPENSE,0.13,0.00,,USD,%s,",
             vc_call_id(c));
    CHECK(strstr(b.ptr, want) != NULL);
    snprintf(want, sizeof(want), ",PROVIDER-PAYABLE,0.00,0.13,,USD,%s,",
             vc_call_id(c));
    CHECK(strstr(b.ptr, want) != NULL);
    CHECK(strstr(b.ptr, ",133457,0\r\n") != NULL);
    CHECK(strstr(b.ptr, ",0,133457\r\n") != NULL);
    vc_buf_dispose(&b);
  }
  vc_agent_free(alice);
  vc_call_free(c);
  env_close(&e);
}

/* How many GETs of the Call resource `sid` the simulator answered. */
static size_t price_fetches(env *e, const char *sid)
{
  vc_sim_request r;
  size_t n = 0;
  char tail[64];

  snprintf(tail, sizeof(tail), "/Calls/%s.json", sid);
  for (size_t i = 0; i < vc_sim_received_count(e->sim); i++) {
    CHECK_OK(vc_sim_received_get(e->sim, i, &r));
    if (strcmp(r.method, "GET") == 0 && strlen(r.path) > strlen(tail) &&
        strcmp(r.path + strlen(r.path) - strlen(tail), tail) == 0)
      n++;
  }
  return n;
}

/* Run the engine (real time) until `sid` was fetched `n` times and the
 * outcome recorded, or `ms` passed. */
static size_t run_until_fetched(env *e, const char *sid, size_t n, int ms)
{
  int64_t deadline = wall_ms() + ms;

  while (price_fetches(e, sid) < n && wall_ms() < deadline)
    vc_ctx_run(e->ctx, 20);
  vc_ctx_run(e->ctx, 50);
  return price_fetches(e, sid);
}

/* The provider's price replaces the estimate. Twilio rates a call after
 * it ended: the first ask (30 s after the end by the context's clock)
 * finds price null and is retried a minute later; then each leg's
 * price (the agent's call and the customer's <Dial> child, 1 started
 * minute each at the simulator's 0.0140 USD) adds up to 28,000
 * micro-USD, which replaces the 133,457 estimate: on the call, in the
 * ledger (estimate, its reversal, the provider's price) and in a GL
 * export that still balances. */
static void test_twilio_voice__provider_price(void)
{
  env e;
  vc_call *c;
  vc_sim_call_plan talk = { VC_SIM_CALL_ANSWER, 300, 1500 };
  char ch[VC_ID_SIZE], line[4096], detail[512], leg[48], sid[48];
  int64_t t0;

  env_open(&e);
  twilio_channel(&e, "twilio", 10, VC_SIM_TWILIO_AUTH_TOKEN, ch);
  ratecard(&e);
  CHECK_OK(vc_sim_call_plan_set(e.sim, "twilio-voice", CUSTOMER, &talk));
  /* not rated until told */
  CHECK_OK(vc_sim_set(e.sim, "twilio-voice.price_delay_ms", "3600000"));
  t0 = test_clock(NULL);
  start_call(&e, &c, NULL);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  snprintf(sid, sizeof(sid), "%s", vc_call_provider_id(c));
  CHECK(customer_leg(&e, vc_call_id(c), leg));
  /* the estimate first (as in the lifecycle case) */
  CHECK(vc_call_cost_micros(c) == 133457);
  CHECK(vc_call_cost_reported(c) == 0);
  cost_ledger(e.t, vc_call_id(c), line, sizeof(line));
  CHECK_STR(line, "estimate:133457:USD");

  /* Not before 30 s after the end. */
  atomic_store(&clock_offset, 25000);
  CHECK(run_until_fetched(&e, sid, 1, 300) == 0);
  /* Then: price null, nothing changes; asked again a minute later. */
  atomic_store(&clock_offset, 31000);
  CHECK(run_until_fetched(&e, sid, 1, 5000) == 1);
  CHECK(price_fetches(&e, leg) == 0);       /* the agent's leg first */
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_cost_micros(c) == 133457);
  CHECK(vc_call_cost_reported(c) == 0);
  atomic_store(&clock_offset, 31000 + 50000);
  CHECK(run_until_fetched(&e, sid, 2, 300) == 1);

  /* Twilio has rated both legs now. */
  CHECK_OK(vc_sim_set(e.sim, "twilio-voice.price_delay_ms", "0"));
  atomic_store(&clock_offset, 31000 + 61000);
  CHECK(run_until_fetched(&e, leg, 1, 5000) == 1);
  CHECK(price_fetches(&e, sid) == 2);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_cost_reported(c) == 1);
  CHECK(vc_call_cost_micros(c) == 28000);   /* 2 x 0.01400 USD */
  CHECK_STR(vc_call_currency(c), "USD");
  cost_ledger(e.t, vc_call_id(c), line, sizeof(line));
  CHECK_STR(line, "estimate:133457:USD reversal:133457:USD "
            "provider_price:28000:USD");
  /* the timeline says so last */
  timeline(&e, vc_call_id(c), line, sizeof(line), "price", detail,
           sizeof(detail));
  CHECK(in_order(line, "hangup/2 state/0 price/0"));
  CHECK(strstr(detail, "\"price_micros\":28000") != NULL);
  CHECK(strstr(detail, "\"previous_micros\":133457") != NULL);
  CHECK(strstr(detail, "\"currency\":\"USD\"") != NULL);
  /* and an event */
  {
    vc_iter *it;
    const vc_event *ev;
    int n = 0;
    CHECK_OK(vc_events_since(&it, e.t, 0));
    while (vc_event_next(&ev, it) == 0)
      if (strcmp(ev->type, "call.price") == 0) {
        CHECK_STR(ev->subject_id, vc_call_id(c));
        CHECK(strstr(ev->payload_json, "\"price_micros\":28000") != NULL);
        n++;
      }
    vc_iter_free(it);
    CHECK(n == 1);
  }
  /* The export of the whole time balances: three entries of two lines,
   * the reversal on the other sides, so each side has 133457 (the
   * estimate) + 133457 (its reversal) + 28000. */
  cost_gl_balanced(e.t, t0 - 86400000, test_clock(NULL) + 86400000, "USD",
                   6, 2 * 133457 + 28000);
  /* Done: never asked again. */
  atomic_store(&clock_offset, 3 * 3600000);
  vc_ctx_run(e.ctx, 200);
  CHECK(price_fetches(&e, sid) == 2 && price_fetches(&e, leg) == 1);
  vc_call_free(c);
  env_close(&e);
}

/* Twilio never rates the call: six asks, 30 s after the end then 1, 2,
 * 4, 8 and 16 minutes apart, then the estimate stands and the control
 * is recorded as failed. */
static void test_twilio_voice__price_never(void)
{
  env e;
  vc_call *c;
  char ch[VC_ID_SIZE], line[256], sid[48];
  int64_t off = 0;
  int failed = 0;

  env_open(&e);
  twilio_channel(&e, "twilio", 10, VC_SIM_TWILIO_AUTH_TOKEN, ch);
  ratecard(&e);
  CHECK_OK(vc_sim_set(e.sim, "twilio-voice.price_per_min", ""));
  start_call(&e, &c, NULL);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK_OK(vc_call_refresh(c));
  snprintf(sid, sizeof(sid), "%s", vc_call_provider_id(c));
  for (size_t n = 1; n <= 6; n++) {
    int64_t pause = n == 1 ? 30000 : 60000 << (n - 2);
    /* not a second early */
    atomic_store(&clock_offset, off + pause - 5000);
    CHECK(run_until_fetched(&e, sid, n, 100) == n - 1);
    off += pause + 1000;
    atomic_store(&clock_offset, off);
    CHECK(run_until_fetched(&e, sid, n, 5000) == n);
  }
  atomic_store(&clock_offset, off + 3600000);
  vc_ctx_run(e.ctx, 200);
  CHECK(price_fetches(&e, sid) == 6);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_cost_reported(c) == 0);
  CHECK(vc_call_cost_micros(c) > 0);
  cost_ledger(e.t, vc_call_id(c), line, sizeof(line));
  CHECK(strncmp(line, "estimate:", 9) == 0 && strchr(line, ' ') == NULL);
  {
    vc_iter *it;
    const vc_event *ev;
    CHECK_OK(vc_events_since(&it, e.t, 0));
    while (vc_event_next(&ev, it) == 0)
      if (strcmp(ev->type, "call.control_failed") == 0) {
        CHECK(strstr(ev->payload_json, "\"op\":\"fetch_price\"") != NULL);
        CHECK(strstr(ev->payload_json, "no price from the provider after 6 "
                     "tries, the estimate stands") != NULL);
        failed++;
      }
    vc_iter_free(it);
  }
  CHECK(failed == 1);
  vc_call_free(c);
  env_close(&e);
}

/* Twilio refuses the first channel's credentials (401, 20003): the call
 * fails over to the next channel and completes there. A number Twilio
 * refuses (21215, geo permissions) fails the call on the first channel:
 * no other channel would take it. */
static void test_twilio_voice__failover(void)
{
  env e;
  vc_call *c;
  vc_call_spec s = VC_CALL_SPEC_INIT;
  char bad[VC_ID_SIZE], good[VC_ID_SIZE], line[4096];
  int st[4];
  size_t before;

  env_open(&e);
  twilio_channel(&e, "wrong", 1, WRONG_TOKEN, bad);
  twilio_channel(&e, "right", 2, VC_SIM_TWILIO_AUTH_TOKEN, good);
  start_call(&e, &c, NULL);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_attempts(c) == 2);
  CHECK_STR(vc_call_channel_id(c), good);
  CHECK(vc_call_error(c) == 0);
  CHECK(create_requests(&e, st, 4) == 2);
  CHECK(st[0] == 401 && st[1] == 201);
  timeline(&e, vc_call_id(c), line, sizeof(line), NULL, NULL, 0);
  CHECK(in_order(line, "ringing/1 answered/1 ringing/2 answered/2 "
                 "bridged/0 hangup/2"));
  vc_call_free(c);

  /* Refused: the first working channel refuses the number and the
   * next one (priority 3) is never asked. */
  twilio_channel(&e, "spare", 3, VC_SIM_TWILIO_AUTH_TOKEN, NULL);
  CHECK_OK(vc_sim_set(e.sim, "twilio-voice.blocked_prefixes", "+882"));
  before = create_requests(&e, NULL, 0);
  s.agent_number = "+8823456789";
  start_call(&e, &c, &s);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_FAILED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_PROVIDER_ERROR);
  CHECK(vc_call_error(c) == VC_EPROVIDER);
  CHECK_STR(vc_call_provider_code(c), "21215");
  CHECK(vc_call_error_message(c)[0] != '\0');
  CHECK_STR(vc_call_provider_id(c), "");
  CHECK(vc_call_state_at(c, VC_CALL_AGENT_RINGING) == 0);
  /* the bad channel, then the good one, which refused the number;
   * not the spare */
  CHECK(vc_call_attempts(c) == 2);
  CHECK(create_requests(&e, st, 4) == before + 2);
  CHECK(st[before] == 401 && st[before + 1] == 400);
  vc_call_free(c);
  env_close(&e);
}

/* Busy and no answer on either leg end the call in that state, naming
 * the leg. */
static void test_twilio_voice__leg_failures(void)
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
    { CUSTOMER, VC_SIM_CALL_NO_ANSWER, VC_CALL_NO_ANSWER, VC_CAUSE_NO_ANSWER,
      VC_LEG_CUSTOMER },
  };
  env e;
  vc_agent *bob;

  env_open(&e);
  twilio_channel(&e, "twilio", 10, VC_SIM_TWILIO_AUTH_TOKEN, NULL);
  agent_new(&e, &bob, "bob", 0);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    vc_sim_call_plan p = { cases[i].outcome, 100, 0 };
    vc_call_spec s = VC_CALL_SPEC_INIT;
    char line[4096], detail[512];
    vc_call *c;

    s.agent = "bob";
    CHECK_OK(vc_sim_call_plan_set(e.sim, "twilio-voice", cases[i].number,
                                  &p));
    start_call(&e, &c, &s);
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
    CHECK(vc_call_state_at(c, cases[i].state) != 0);
    CHECK(vc_call_talk_seconds(c) == 0);
    CHECK(vc_call_cost_micros(c) == 0);
    CHECK((vc_call_state_at(c, VC_CALL_CUSTOMER_RINGING) != 0) ==
          (cases[i].leg == VC_LEG_CUSTOMER));
    timeline(&e, vc_call_id(c), line, sizeof(line), "hangup", detail,
             sizeof(detail));
    CHECK(in_order(line, cases[i].leg == VC_LEG_AGENT
                           ? "ringing/1 hangup/1 state/0"
                           : "ringing/1 answered/1 ringing/2 hangup/2 "
                             "state/0"));
    CHECK(strstr(detail, cases[i].outcome == VC_SIM_CALL_BUSY
                           ? "\"cause\":\"busy\"" : "\"cause\":\"no_answer\"")
          != NULL);
    /* The agent is free again: back to available (no wrap-up). */
    CHECK_OK(vc_agent_refresh(bob));
    CHECK(vc_agent_state_of(bob) == VC_AGENT_AVAILABLE);
    CHECK_STR(vc_agent_call_id(bob), "");
    vc_call_free(c);
    CHECK_OK(vc_sim_call_plan_set(e.sim, "twilio-voice", cases[i].number,
                                  NULL));
  }
  vc_agent_free(bob);
  env_close(&e);
}

/* Run the engine until the customer is (on 1) or is not (0) on hold. */
static int run_until_hold(env *e, const char *id, int on, int ms)
{
  int64_t deadline = wall_ms() + ms;
  vc_call *c;
  int h;

  for (;;) {
    CHECK_OK(vc_call_lookup(&c, e->t, id));
    h = vc_call_on_hold(c);
    vc_call_free(c);
    if (h == on || wall_ms() >= deadline)
      return h == on;
    vc_ctx_run(e->ctx, 20);
  }
}

/* Run the engine until the timeline has an entry of `type`. */
static int run_until_entry(env *e, const char *id, const char *type, int ms)
{
  int64_t deadline = wall_ms() + ms;
  char line[4096], want[64];

  snprintf(want, sizeof(want), "%s/", type);
  for (;;) {
    timeline(e, id, line, sizeof(line), NULL, NULL, 0);
    if (strstr(line, want) != NULL)
      return 1;
    if (wall_ms() >= deadline)
      return 0;
    vc_ctx_run(e->ctx, 20);
  }
}


/* A request to the simulator's Twilio REST API with the account's
 * credentials, as Twilio's side of the world; the HTTP status. */
static size_t discard(char *p, size_t size, size_t n, void *u)
{
  (void)p;
  (void)u;
  return size * n;
}

static long sim_rest(env *e, const char *method, const char *path,
                     const char *form)
{
  char url[512];
  CURL *h;
  long code = 0;

  snprintf(url, sizeof(url), "%s/2010-04-01/Accounts/%s%s",
           vc_sim_base_url(e->sim), VC_SIM_TWILIO_ACCOUNT_SID, path);
  CHECK((h = curl_easy_init()) != NULL);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(h, CURLOPT_USERNAME, VC_SIM_TWILIO_ACCOUNT_SID);
  curl_easy_setopt(h, CURLOPT_PASSWORD, VC_SIM_TWILIO_AUTH_TOKEN);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  if (form != NULL)
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
  else
    curl_easy_setopt(h, CURLOPT_NOBODY, strcmp(method, "GET") != 0 ? 1L
                                                                   : 0L);
  CHECK(curl_easy_perform(h) == CURLE_OK);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(h);
  return code;
}

/* Hold, unhold and a blind transfer of a bridged call, with the TwiML
 * pattern docs/calls.md gives: the customer's leg is enqueued in the
 * call's own queue (the agent's <Dial> ends and the agent hears the hold
 * step), the agent's leg dials that queue again, and the customer's leg
 * dials the transfer target. The call ends when the transferred
 * customer hangs up. */
static void test_twilio_voice__hold_transfer(void)
{
  env e;
  vc_call *c;
  vc_sim_call_plan talk = { VC_SIM_CALL_ANSWER, 100, 60000 };
  char line[4096], detail[512], leg[48], doc[16384], want[1024], st[32];
  char agent_sid[48], path[128], hook[512];

  env_open(&e);
  twilio_channel(&e, "twilio", 10, VC_SIM_TWILIO_AUTH_TOKEN, NULL);
  CHECK_OK(vc_sim_call_plan_set(e.sim, "twilio-voice", CUSTOMER, &talk));
  CHECK_OK(vc_sim_call_plan_set(e.sim, "twilio-voice", TRANSFER_TO, &talk));
  start_call(&e, &c, NULL);
  CHECK_RC(vc_call_hold(c, 1), VC_ESTATE);       /* not bridged yet */
  CHECK(run_until_state(&e, vc_call_id(c), VC_CALL_BRIDGED, 20000) ==
        VC_CALL_BRIDGED);
  CHECK_OK(vc_call_refresh(c));
  snprintf(agent_sid, sizeof(agent_sid), "%s", vc_call_provider_id(c));
  snprintf(hook, sizeof(hook), "%s/webhooks/%s?vc_call=%s", e.base,
           vc_call_channel_id(c), vc_call_id(c));
  CHECK(customer_leg(&e, vc_call_id(c), leg));
  CHECK(vc_call_on_hold(c) == 0);
  CHECK_RC(vc_call_hold(c, 0), VC_ESTATE);       /* not on hold */

  /* Hold: the customer's leg waits in the call's queue. Twilio may end
   * the agent's <Dial> (its action) before the engine hears that Twilio
   * took the hold: made certain here by moving the customer's leg from
   * the test, as the engine would, before the engine runs. The action
   * must get the hold step (silence: the channel has no hold music),
   * not a hangup. */
  CHECK_OK(vc_call_hold(c, 1));
  snprintf(path, sizeof(path), "/Calls/%s.json", leg);
  snprintf(want, sizeof(want), "Twiml=%%3CResponse%%3E%%3CEnqueue%%3Evc-%s"
           "%%3C%%2FEnqueue%%3E%%3C%%2FResponse%%3E", vc_call_id(c));
  CHECK(sim_rest(&e, "POST", path, want) == 200);
  {
    int64_t deadline = wall_ms() + 10000;
    while (vc_sim_twilio_voice_twiml(e.sim, agent_sid, 1, doc,
                                     sizeof(doc)) < 0 && wall_ms() < deadline)
      usleep(10000);
  }
  CHECK(vc_sim_twilio_voice_twiml(e.sim, agent_sid, 1, doc, sizeof(doc)) > 0);
  CHECK(strstr(doc, "<Response><Pause length=\"60\"/><Pause") != NULL);
  CHECK(strstr(doc, "Hangup") == NULL);
  CHECK(run_until_hold(&e, vc_call_id(c), 1, 10000));
  CHECK(vc_call_on_hold(c) == 0);                /* a snapshot ... */
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_on_hold(c) == 1);                /* ... refreshed */
  CHECK_RC(vc_call_hold(c, 1), VC_ESTATE);       /* already */
  /* The engine's own request: the same TwiML. */
  snprintf(want, sizeof(want), "<Response><Enqueue>vc-%s</Enqueue>"
           "</Response>", vc_call_id(c));
  CHECK(twiml_wait(&e, leg, 1, doc, sizeof(doc), 10000));
  CHECK_STR(doc, want);
  CHECK(vc_sim_twilio_voice_twiml(e.sim, leg, 0, doc, sizeof(doc)) > 0);
  CHECK_STR(doc, want);
  CHECK(vc_sim_call_status(e.sim, "twilio-voice", agent_sid, st,
                           sizeof(st)) > 0);
  CHECK_STR(st, "in-progress");
  CHECK(vc_sim_call_status(e.sim, "twilio-voice", leg, st, sizeof(st)) > 0);
  CHECK_STR(st, "in-progress");
  CHECK(run_until_state(&e, vc_call_id(c), VC_CALL_COMPLETED, 200) ==
        VC_CALL_BRIDGED);

  /* Unhold: the agent's leg dials the queue again. */
  CHECK_OK(vc_call_hold(c, 0));
  CHECK(run_until_hold(&e, vc_call_id(c), 0, 10000));
  CHECK(twiml_wait(&e, agent_sid, 2, doc, sizeof(doc), 10000));
  snprintf(want, sizeof(want), "<Response><Dial action=\"%s&amp;vc_step="
           "dial_end\" method=\"POST\"><Queue>vc-%s</Queue></Dial>"
           "</Response>", hook, vc_call_id(c));
  CHECK_STR(doc, want);
  CHECK(run_until_state(&e, vc_call_id(c), VC_CALL_COMPLETED, 200) ==
        VC_CALL_BRIDGED);

  /* Blind transfer: the customer's leg dials the target. */
  CHECK_RC(vc_call_transfer(c, "not a number"), VC_EINVALID);
  CHECK_OK(vc_call_transfer(c, TRANSFER_TO));
  CHECK(run_until_entry(&e, vc_call_id(c), "transfer", 10000));
  CHECK(twiml_wait(&e, leg, 2, doc, sizeof(doc), 10000));
  CHECK_STR(doc, "<Response><Dial callerId=\"" CALLER_ID "\"><Number>"
            "+14155550199</Number></Dial></Response>");
  timeline(&e, vc_call_id(c), line, sizeof(line), "transfer", detail,
           sizeof(detail));
  CHECK_STR(detail, "{\"to\":\"+14155550199\"}");
  CHECK(state_of(&e, vc_call_id(c)) == VC_CALL_BRIDGED);

  /* The transferred customer hangs up: the customer's leg ends at
   * Twilio, and with it the call. */
  CHECK(sim_rest(&e, "POST", path, "Status=completed") == 200);
  CHECK(run_until_final(&e, vc_call_id(c), 10000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  CHECK(vc_call_on_hold(c) == 0);
  CHECK(vc_call_talk_seconds(c) >= 0);
  timeline(&e, vc_call_id(c), line, sizeof(line), NULL, NULL, 0);
  /* The <Dial>'s ends at the hold and the transfer are not the
   * customer's: one hangup/2 line, the last. */
  CHECK(in_order(line, "bridged/0 state/0 hold/2 unhold/2 transfer/2 "
                 "hangup/2 state/0"));
  CHECK(count_of(line, "hangup/2") == 1);
  /* Timestamps never go back, though Twilio's are whole seconds and the
   * hold entries ours (timeline() checks each entry). */
  CHECK(vc_call_state_at(c, VC_CALL_COMPLETED) >=
        vc_call_state_at(c, VC_CALL_BRIDGED));
  vc_call_free(c);
  env_close(&e);
}

/* vc_call_hangup() while the customer's leg is apart from the agent's
 * (held, or transferred) ends both legs at Twilio, and the call. */
static void hangup_apart(int transfer)
{
  env e;
  vc_call *c;
  vc_sim_call_plan talk = { VC_SIM_CALL_ANSWER, 100, 60000 };
  char leg[48], agent_sid[48], st[32];
  int64_t deadline;

  env_open(&e);
  twilio_channel(&e, "twilio", 10, VC_SIM_TWILIO_AUTH_TOKEN, NULL);
  CHECK_OK(vc_sim_call_plan_set(e.sim, "twilio-voice", CUSTOMER, &talk));
  CHECK_OK(vc_sim_call_plan_set(e.sim, "twilio-voice", TRANSFER_TO, &talk));
  start_call(&e, &c, NULL);
  CHECK(run_until_state(&e, vc_call_id(c), VC_CALL_BRIDGED, 20000) ==
        VC_CALL_BRIDGED);
  CHECK_OK(vc_call_refresh(c));
  snprintf(agent_sid, sizeof(agent_sid), "%s", vc_call_provider_id(c));
  CHECK(customer_leg(&e, vc_call_id(c), leg));
  if (transfer) {
    CHECK_OK(vc_call_transfer(c, TRANSFER_TO));
    CHECK(run_until_entry(&e, vc_call_id(c), "transfer", 10000));
  } else {
    CHECK_OK(vc_call_hold(c, 1));
    CHECK(run_until_hold(&e, vc_call_id(c), 1, 10000));
  }
  CHECK_OK(vc_call_refresh(c));
  /* The agent's <Dial> ends with the customer's leg redirected out of
   * it; that is not the customer's end, which the hangup must still
   * find live. */
  deadline = wall_ms() + 500;
  while (wall_ms() < deadline)
    vc_ctx_run(e.ctx, 20);
  CHECK_OK(vc_call_hangup(c));
  CHECK(run_until_final(&e, vc_call_id(c), 10000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_API_HANGUP);
  /* Both legs ended at the provider (the customer's by the second
   * hangup, which the engine sends after the call ended). */
  deadline = wall_ms() + 10000;
  while (wall_ms() < deadline) {
    vc_ctx_run(e.ctx, 20);
    if (vc_sim_call_status(e.sim, "twilio-voice", leg, st, sizeof(st)) > 0 &&
        strcmp(st, "completed") == 0)
      break;
  }
  CHECK(vc_sim_call_status(e.sim, "twilio-voice", leg, st, sizeof(st)) > 0);
  CHECK_STR(st, "completed");
  CHECK(vc_sim_call_status(e.sim, "twilio-voice", agent_sid, st,
                           sizeof(st)) > 0);
  CHECK_STR(st, "completed");
  vc_call_free(c);
  env_close(&e);
}

static void test_twilio_voice__hangup_while_held(void)
{
  hangup_apart(0);
}

static void test_twilio_voice__hangup_after_transfer(void)
{
  hangup_apart(1);
}

static const char MENU[] =
  "{\"version\": 1, \"entry\": \"main\", \"language\": \"en-US\","
  " \"nodes\": {"
  "  \"main\": {\"prompt\": {\"say\": \"For sales press 1. To leave press"
  "   9.\"}, \"timeout\": 10,"
  "   \"options\": {\"1\": {\"action\": \"menu\", \"node\": \"sales\"},"
  "    \"9\": {\"action\": \"hangup\", \"say\": \"Goodbye.\"}}},"
  "  \"sales\": {\"prompt\": {\"say\": \"To talk to us press 2.\"},"
  "   \"timeout\": 10,"
  "   \"options\": {\"2\": {\"action\": \"connect\", \"say\":"
  "    \"Connecting you.\"},"
  "    \"*\": {\"action\": \"menu\", \"node\": \"main\"}}}}}";

/* Press keys on the customer's leg once its latest TwiML (document i)
 * is there. */
static void press(env *e, const char *leg, size_t i, const char *digits)
{
  char doc[8192];

  CHECK(twiml_wait(e, leg, i, doc, sizeof(doc), 10000));
  CHECK(strstr(doc, "<Gather") != NULL);
  CHECK_OK(vc_sim_twilio_voice_press(e->sim, leg, digits));
}

/* An IVR with a sub-menu: the customer's keys go through the whisper's
 * <Gather>s, the path comes back from the log, CONNECT bridges the call
 * and HANGUP ends it. */
static void test_twilio_voice__ivr(void)
{
  env e;
  vc_call *c;
  vc_ivr_menu *m;
  vc_ivr_menu_spec ms = VC_IVR_MENU_SPEC_INIT;
  vc_call_spec s = VC_CALL_SPEC_INIT;
  vc_sim_call_plan talk = { VC_SIM_CALL_ANSWER, 100, 20000 };
  vc_buf path = VC_BUF_INIT;
  char leg[48], doc[8192], line[4096], want[512];

  env_open(&e);
  twilio_channel(&e, "twilio", 10, VC_SIM_TWILIO_AUTH_TOKEN, NULL);
  CHECK_OK(vc_sim_call_plan_set(e.sim, "twilio-voice", CUSTOMER, &talk));
  ms.name = "front";
  ms.definition_json = MENU;
  CHECK_OK(vc_ivr_menu_new(&m, e.t, &ms));
  s.ivr_menu = "front";

  /* 1 (main -> sales), then 2 (connect). */
  start_call(&e, &c, &s);
  CHECK(wait_customer_leg(&e, vc_call_id(c), leg, 20000));
  press(&e, leg, 0, "1");
  CHECK(twiml_wait(&e, leg, 0, doc, sizeof(doc), 100));
  CHECK(strstr(doc, "For sales press 1.") != NULL);
  CHECK(strstr(doc, "vc_step=ivr&amp;vc_node=main") != NULL);
  /* answered, but not bridged before the IVR says so */
  CHECK(state_of(&e, vc_call_id(c)) == VC_CALL_CUSTOMER_RINGING);
  press(&e, leg, 1, "2");
  CHECK(twiml_wait(&e, leg, 1, doc, sizeof(doc), 100));
  CHECK(strstr(doc, "To talk to us press 2.") != NULL);
  CHECK(strstr(doc, "vc_node=sales") != NULL);
  CHECK(run_until_state(&e, vc_call_id(c), VC_CALL_BRIDGED, 10000) ==
        VC_CALL_BRIDGED);
  CHECK(twiml_wait(&e, leg, 2, doc, sizeof(doc), 10000));
  /* the option's words before the bridge */
  CHECK(strstr(doc, "<Response><Say language=\"en-US\">Connecting you."
               "</Say></Response>") != NULL);
  CHECK(strstr(doc, "<Gather") == NULL && strstr(doc, "Hangup") == NULL);
  CHECK_OK(vc_ivr_path(&path, e.t, vc_call_id(c)));
  snprintf(want, sizeof(want), "\"menu\":\"%s\",\"node\":\"main\","
           "\"digits\":\"1\",\"action\":\"menu\",\"to\":\"sales\"",
           vc_ivr_menu_id(m));
  CHECK(strstr(path.ptr, want) != NULL);
  snprintf(want, sizeof(want), "\"menu\":\"%s\",\"node\":\"sales\","
           "\"digits\":\"2\",\"action\":\"connect\"", vc_ivr_menu_id(m));
  CHECK(strstr(path.ptr, want) != NULL);
  CHECK(strstr(path.ptr, "\"node\":\"main\"") < strstr(path.ptr,
                                                       "\"node\":\"sales\""));
  vc_buf_dispose(&path);
  timeline(&e, vc_call_id(c), line, sizeof(line), NULL, NULL, 0);
  CHECK(in_order(line, "ringing/2 answered/2 dtmf/2 dtmf/2 bridged/0 "
                 "state/0"));
  /* The host ends it. */
  CHECK_OK(vc_call_hangup(c));
  CHECK(run_until_final(&e, vc_call_id(c), 10000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_API_HANGUP);
  vc_call_free(c);

  /* 9: the IVR hangs up before any bridge. */
  start_call(&e, &c, &s);
  CHECK(wait_customer_leg(&e, vc_call_id(c), leg, 20000));
  press(&e, leg, 0, "9");
  CHECK(run_until_final(&e, vc_call_id(c), 10000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_CANCELED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_IVR);
  CHECK(vc_call_failed_leg(c) == VC_LEG_CUSTOMER);
  CHECK(vc_call_state_at(c, VC_CALL_BRIDGED) == 0);
  CHECK(twiml_wait(&e, leg, 1, doc, sizeof(doc), 10000));
  CHECK(strstr(doc, "<Response><Say language=\"en-US\">Goodbye.</Say>"
               "<Hangup/></Response>") != NULL);
  CHECK_OK(vc_ivr_path(&path, e.t, vc_call_id(c)));
  snprintf(want, sizeof(want), "\"menu\":\"%s\",\"node\":\"main\","
           "\"digits\":\"9\",\"action\":\"hangup\"", vc_ivr_menu_id(m));
  CHECK(strstr(path.ptr, want) != NULL);
  CHECK(strstr(path.ptr, "\"node\":\"sales\"") == NULL);
  vc_buf_dispose(&path);
  vc_call_free(c);
  vc_ivr_menu_free(m);
  env_close(&e);
}

#define CONSENT "This call is recorded for training."

static vc_recording *recording_of(env *e, const char *call_id)
{
  vc_recording_filter f = VC_RECORDING_FILTER_INIT;
  vc_recording *r = NULL, *extra = NULL;
  vc_iter *it;

  f.call_id = call_id;
  CHECK_OK(vc_recording_list(&it, e->t, &f));
  CHECK_OK(vc_recording_next(&r, it));
  CHECK_RC(vc_recording_next(&extra, it), VC_ITEROVER);
  vc_iter_free(it);
  return r;
}

/* Recording by the tenant's policy: the consent is said to the customer
 * first, the recording arrives with its URL and duration, and past its
 * retention (the context's clock moved on; the simulator keeps real
 * time) the library deletes it at Twilio; the compliance report shows
 * it with its consent and purge. */
static void test_twilio_voice__recording(void)
{
  env e;
  vc_call *c;
  vc_recording *r;
  vc_recording_policy_spec ps = VC_RECORDING_POLICY_SPEC_INIT;
  vc_sim_call_plan talk = { VC_SIM_CALL_ANSWER, 100, 1500 };
  vc_buf rep = VC_BUF_INIT;
  char leg[48], doc[8192], rid[VC_ID_SIZE], rsid[48], path[128], want[256];
  int n = -1;

  env_open(&e);
  twilio_channel(&e, "twilio", 10, VC_SIM_TWILIO_AUTH_TOKEN, NULL);
  CHECK_OK(vc_sim_call_plan_set(e.sim, "twilio-voice", CUSTOMER, &talk));
  ps.mode = VC_RECORD_ALWAYS;
  ps.consent_text = CONSENT;
  ps.retention_days = 1;
  CHECK_OK(vc_recording_policy_set(e.t, &ps));
  start_call(&e, &c, NULL);                      /* record: the policy's */
  CHECK(vc_call_record_mode(c) == VC_RECORD_ALWAYS);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK(state_of(&e, vc_call_id(c)) == VC_CALL_COMPLETED);
  CHECK(run_until_entry(&e, vc_call_id(c), "recording.available", 10000));
  CHECK_OK(vc_call_refresh(c));
  /* The agent's <Dial> records and asks the whisper; the whisper says
   * the consent to the customer before the bridge. */
  CHECK(vc_sim_twilio_voice_twiml(e.sim, vc_call_provider_id(c), 0, doc,
                                  sizeof(doc)) > 0);
  CHECK(strstr(doc, " record=\"record-from-answer\" "
               "recordingStatusCallback=\"") != NULL);
  CHECK(strstr(doc, "vc_step=customer_answer\" method=\"POST\">") != NULL);
  CHECK(customer_leg(&e, vc_call_id(c), leg));
  CHECK(vc_sim_twilio_voice_twiml(e.sim, leg, 0, doc, sizeof(doc)) > 0);
  CHECK_STR(doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
            "<Say language=\"en-US\">" CONSENT "</Say></Response>");

  /* recording.available: the URL at Twilio, 2 s (1.5 s rounded up). */
  r = recording_of(&e, vc_call_id(c));
  snprintf(rid, sizeof(rid), "%s", vc_recording_id(r));
  snprintf(rsid, sizeof(rsid), "%s", vc_recording_provider_id(r));
  CHECK(strncmp(rsid, "RE", 2) == 0 && strlen(rsid) == 34);
  CHECK(vc_recording_status_of(r) == VC_RECORDING_STATUS_AVAILABLE);
  snprintf(want, sizeof(want), "%s/2010-04-01/Accounts/%s/Recordings/%s",
           vc_sim_base_url(e.sim), VC_SIM_TWILIO_ACCOUNT_SID, rsid);
  CHECK_STR(vc_recording_url(r), want);
  CHECK(vc_recording_duration_s(r) == 2);
  CHECK(vc_recording_consent(r) == 1);
  CHECK_STR(vc_recording_channel_id(r), vc_call_channel_id(c));
  CHECK(vc_recording_available_at(r) > 0);
  CHECK(vc_recording_expires_at(r) == vc_recording_available_at(r) + DAY_MS);
  CHECK(vc_recording_purged_at(r) == 0);
  vc_recording_free(r);
  snprintf(path, sizeof(path), "/Recordings/%s.json", rsid);
  CHECK(sim_rest(&e, "GET", path, NULL) == 200);

  /* Not expired yet: nothing to purge. */
  CHECK_OK(vc_recording_purge(&n, e.t));
  CHECK(n == 0);
  /* A day and a minute later by the context's clock. */
  atomic_store(&clock_offset, DAY_MS + 60000);
  CHECK_OK(vc_recording_purge(&n, e.t));
  CHECK(n == 1);
  CHECK_OK(vc_recording_lookup(&r, e.t, rid));
  CHECK(vc_recording_status_of(r) == VC_RECORDING_STATUS_DELETING);
  vc_recording_free(r);
  {
    int64_t deadline = wall_ms() + 10000;
    int st;
    do {
      vc_ctx_run(e.ctx, 20);
      CHECK_OK(vc_recording_lookup(&r, e.t, rid));
      st = vc_recording_status_of(r);
      vc_recording_free(r);
    } while (st == VC_RECORDING_STATUS_DELETING && wall_ms() < deadline);
    CHECK(st == VC_RECORDING_STATUS_PURGED);
  }
  CHECK_OK(vc_recording_lookup(&r, e.t, rid));
  CHECK(vc_recording_purge_kind(r) == VC_RECORDING_PURGE_PROVIDER);
  CHECK_STR(vc_recording_url(r), "");
  CHECK(vc_recording_purged_at(r) >= vc_recording_expires_at(r));
  /* Twilio no longer has it. */
  CHECK(sim_rest(&e, "GET", path, NULL) == 404);
  {
    vc_sim_request q;
    int deletes = 0;
    for (size_t i = 0; i < vc_sim_received_count(e.sim); i++) {
      CHECK_OK(vc_sim_received_get(e.sim, i, &q));
      if (strcmp(q.method, "DELETE") == 0) {
        snprintf(want, sizeof(want), "/2010-04-01/Accounts/%s/Recordings/"
                 "%s.json", VC_SIM_TWILIO_ACCOUNT_SID, rsid);
        CHECK_STR(q.path, want);
        CHECK(q.status == 204);
        deletes++;
      }
    }
    CHECK(deletes == 1);
  }

  /* The compliance report. */
  CHECK_OK(vc_recording_report(&rep, e.t, 0, 0, VC_RECORDING_REPORT_JSON));
  snprintf(want, sizeof(want), "\"recording_id\":\"%s\"", rid);
  CHECK(strstr(rep.ptr, want) != NULL);
  snprintf(want, sizeof(want), "\"provider_recording_id\":\"%s\"", rsid);
  CHECK(strstr(rep.ptr, want) != NULL);
  CHECK(strstr(rep.ptr, "\"consent\":true") != NULL);
  CHECK(strstr(rep.ptr, "\"status\":\"purged\"") != NULL);
  CHECK(strstr(rep.ptr, "\"purge\":\"provider\"") != NULL);
  snprintf(want, sizeof(want), "\"purged_at\":%lld",
           (long long)vc_recording_purged_at(r));
  CHECK(strstr(rep.ptr, want) != NULL);
  CHECK(strstr(rep.ptr, "\"totals\":{\"recorded\":1,\"with_consent\":1,"
               "\"duration_s\":2,\"purged\":1}") != NULL);
  vc_buf_dispose(&rep);
  vc_recording_free(r);
  vc_call_free(c);
  env_close(&e);
}

/* POST a form to the library's webhook URL with an optional
 * X-Twilio-Signature; the HTTP status. */
static long post_hook(const char *url, const char *form, const char *sig)
{
  struct curl_slist *hd = NULL;
  char h[256];
  CURL *c;
  long code = 0;

  CHECK((c = curl_easy_init()) != NULL);
  hd = curl_slist_append(hd, "Content-Type: "
                         "application/x-www-form-urlencoded");
  if (sig != NULL) {
    snprintf(h, sizeof(h), "X-Twilio-Signature: %s", sig);
    hd = curl_slist_append(hd, h);
  }
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  CHECK(curl_easy_perform(c) == CURLE_OK);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(hd);
  curl_easy_cleanup(c);
  return code;
}

/* Webhooks to a call's URL that Twilio did not sign (none, a made-up
 * signature, an empty one) are refused with 401 and change
 * nothing. */
static void test_twilio_voice__forged_webhook(void)
{
  env e;
  vc_call *c;
  vc_sim_call_plan slow = { VC_SIM_CALL_ANSWER, 3000, 0 };
  char url[512], form[512], before[4096], after[4096];

  env_open(&e);
  twilio_channel(&e, "twilio", 10, VC_SIM_TWILIO_AUTH_TOKEN, NULL);
  CHECK_OK(vc_sim_call_plan_set(e.sim, "twilio-voice", AGENT, &slow));
  start_call(&e, &c, NULL);
  CHECK(run_until_state(&e, vc_call_id(c), VC_CALL_AGENT_RINGING, 10000) ==
        VC_CALL_AGENT_RINGING);
  CHECK_OK(vc_call_refresh(c));
  timeline(&e, vc_call_id(c), before, sizeof(before), NULL, NULL, 0);
  snprintf(url, sizeof(url), "%s/webhooks/%s?vc_call=%s&vc_step=agent",
           e.base, vc_call_channel_id(c), vc_call_id(c));
  snprintf(form, sizeof(form), "AccountSid=%s&CallSid=%s&CallStatus=busy"
           "&SequenceNumber=9&ApiVersion=2010-04-01", VC_SIM_TWILIO_ACCOUNT_SID,
           vc_call_provider_id(c));
  CHECK(post_hook(url, form, NULL) == 401);
  CHECK(post_hook(url, form, "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==") == 401);
  CHECK(post_hook(url, form, "") == 401);
  /* the instruction fetch gets no TwiML either */
  snprintf(url, sizeof(url), "%s/webhooks/%s?vc_call=%s&vc_step=answer",
           e.base, vc_call_channel_id(c), vc_call_id(c));
  CHECK(post_hook(url, form, NULL) == 401);
  CHECK(state_of(&e, vc_call_id(c)) == VC_CALL_AGENT_RINGING);
  timeline(&e, vc_call_id(c), after, sizeof(after), NULL, NULL, 0);
  CHECK_STR(after, before);
  /* The host hangs up the ringing call: canceled. */
  CHECK_OK(vc_call_hangup(c));
  CHECK(run_until_final(&e, vc_call_id(c), 10000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_CANCELED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_API_HANGUP);
  CHECK(vc_call_failed_leg(c) == VC_LEG_AGENT);
  vc_call_free(c);
  env_close(&e);
}

/* Twilio sends a bridge's <Dial> action and the customer leg's own
 * "completed" at the same moment, in either order. The action first:
 * the bridge ended with the legs together, so the call ends as the
 * customer's hangup there and then, not as the agent's hangup that
 * answers the action; the leg's callback after it changes nothing. */
static void test_twilio_voice__dial_end_first(void)
{
  env e;
  vc_call *c;
  vc_sim_call_plan talk = { VC_SIM_CALL_ANSWER, 100, 60000 };
  char url[512], form[1024], sig[64], leg[48], path[128], line[4096];
  char detail[256];
  const char *kv[12];
  int64_t deadline;

  env_open(&e);
  twilio_channel(&e, "twilio", 10, VC_SIM_TWILIO_AUTH_TOKEN, NULL);
  CHECK_OK(vc_sim_call_plan_set(e.sim, "twilio-voice", CUSTOMER, &talk));
  start_call(&e, &c, NULL);
  CHECK(run_until_state(&e, vc_call_id(c), VC_CALL_BRIDGED, 20000) ==
        VC_CALL_BRIDGED);
  CHECK_OK(vc_call_refresh(c));
  CHECK(customer_leg(&e, vc_call_id(c), leg));
  snprintf(url, sizeof(url), "%s/webhooks/%s?vc_call=%s&vc_step=dial_end",
           e.base, vc_call_channel_id(c), vc_call_id(c));
  kv[0] = "AccountSid";
  kv[1] = VC_SIM_TWILIO_ACCOUNT_SID;
  kv[2] = "CallSid";
  kv[3] = vc_call_provider_id(c);
  kv[4] = "CallStatus";
  kv[5] = "in-progress";
  kv[6] = "DialCallStatus";
  kv[7] = "completed";
  kv[8] = "DialCallSid";
  kv[9] = leg;
  kv[10] = "DialCallDuration";
  kv[11] = "7";
  snprintf(form, sizeof(form), "%s=%s&%s=%s&%s=%s&%s=%s&%s=%s&%s=%s",
           kv[0], kv[1], kv[2], kv[3], kv[4], kv[5], kv[6], kv[7], kv[8],
           kv[9], kv[10], kv[11]);
  twilio_sign(sig, VC_SIM_TWILIO_AUTH_TOKEN, url, kv, 6);
  CHECK(post_hook(url, form, sig) == 200);
  /* Ended by the webhook itself, before any other callback. */
  CHECK(state_of(&e, vc_call_id(c)) == VC_CALL_COMPLETED);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  CHECK(vc_call_failed_leg(c) == VC_LEG_NONE);
  CHECK(vc_call_talk_seconds(c) == 7);   /* Twilio's DialCallDuration */
  /* The customer's leg ends at Twilio: its callback comes after. */
  snprintf(path, sizeof(path), "/Calls/%s.json", leg);
  CHECK(sim_rest(&e, "POST", path, "Status=completed") == 200);
  deadline = wall_ms() + 500;
  while (wall_ms() < deadline)
    vc_ctx_run(e.ctx, 20);
  timeline(&e, vc_call_id(c), line, sizeof(line), "hangup", detail,
           sizeof(detail));
  CHECK(in_order(line, "bridged/0 state/0 hangup/2 state/0"));
  CHECK(count_of(line, "hangup/2") == 1);
  CHECK(count_of(line, "hangup/1") == 0);
  CHECK_STR(detail, "{\"cause\":\"normal\",\"duration_s\":7}");
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  vc_call_free(c);
  env_close(&e);
}

/* The same through the simulator: each bridged leg's <Dial> action
 * comes before its own "completed". The call ends as the customer's
 * hangup with Twilio's talk time, and nothing after changes it. */
static void test_twilio_voice__action_first(void)
{
  env e;
  vc_call *c;
  vc_sim_call_plan talk = { VC_SIM_CALL_ANSWER, 100, 1500 };
  char line[4096], detail[512], leg[48], st[32];
  int64_t deadline;

  env_open(&e);
  CHECK_OK(vc_sim_set(e.sim, "twilio-voice.action_first", "1"));
  twilio_channel(&e, "twilio", 10, VC_SIM_TWILIO_AUTH_TOKEN, NULL);
  CHECK_OK(vc_sim_call_plan_set(e.sim, "twilio-voice", CUSTOMER, &talk));
  start_call(&e, &c, NULL);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  /* the leg's own callback and the agent's end, after the call's */
  CHECK(customer_leg(&e, vc_call_id(c), leg));
  deadline = wall_ms() + 10000;
  while (wall_ms() < deadline &&
         (vc_sim_call_status(e.sim, "twilio-voice", vc_call_provider_id(c),
                             st, sizeof(st)) <= 0 ||
          strcmp(st, "completed") != 0))
    vc_ctx_run(e.ctx, 20);
  deadline = wall_ms() + 300;
  while (wall_ms() < deadline)
    vc_ctx_run(e.ctx, 20);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  CHECK(vc_call_talk_seconds(c) == 2);   /* 1.5 s, rounded up by Twilio */
  timeline(&e, vc_call_id(c), line, sizeof(line), "hangup", detail,
           sizeof(detail));
  CHECK(in_order(line, "bridged/0 state/0 hangup/2 state/0"));
  CHECK(count_of(line, "hangup/2") == 1);
  CHECK(count_of(line, "hangup/1") == 0);
  CHECK(strstr(detail, "\"duration_s\":2") != NULL);
  CHECK(vc_sim_call_status(e.sim, "twilio-voice", leg, st, sizeof(st)) > 0);
  CHECK_STR(st, "completed");
  vc_call_free(c);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_twilio_voice__lifecycle),
  VC_TEST(test_twilio_voice__provider_price),
  VC_TEST(test_twilio_voice__price_never),
  VC_TEST(test_twilio_voice__failover),
  VC_TEST(test_twilio_voice__leg_failures),
  VC_TEST(test_twilio_voice__hold_transfer),
  VC_TEST(test_twilio_voice__hangup_while_held),
  VC_TEST(test_twilio_voice__hangup_after_transfer),
  VC_TEST(test_twilio_voice__ivr),
  VC_TEST(test_twilio_voice__recording),
  VC_TEST(test_twilio_voice__forged_webhook),
  VC_TEST(test_twilio_voice__dial_end_first),
  VC_TEST(test_twilio_voice__action_first),
)
