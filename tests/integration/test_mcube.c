/*
 * mCube (experimental) click-to-call end to end over loopback, public
 * API only: the engine places the call with libcurl at the simulator's
 * classic /api/outboundcall or cloud /Restmcube-api/outbound-calls, and
 * the simulator's end-of-call callback comes back through
 * vc_webhook_listen() with its vc_token. The full life with every
 * transition over both APIs, each leg's failure, failover from a
 * channel mCube refuses to the next, and a forged callback. SQLite on
 * disk.
 * The cost of each call from a rate card: on the call, in the ledger
 * and in a balanced GL export (cost_check.h).
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
#define SECRET "mcube-webhook-secret-0123456789abcdef"

static void mcube_channel(env *e, const char *name, int priority,
                          const char *api, const char *key,
                          char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  char config[512], creds[1024];
  vc_channel *ch;

  snprintf(config, sizeof(config), "{\"api\":\"%s\",\"base_url\":\"%s\","
           "\"did\":\"%s\"}", api, vc_sim_base_url(e->sim), VC_SIM_MCUBE_DID);
  snprintf(creds, sizeof(creds), "{\"%s\":\"%s\",\"webhook_secret\":"
           "\"%s\"}", strcmp(api, "cloud") == 0 ? "token" : "api_key", key,
           SECRET);
  s.name = name;
  s.provider = "mcube";
  s.config_json = config;
  s.credentials_json = creds;
  s.priority = priority;
  CHECK_OK(vc_channel_new(&ch, e->t, &s));
  if (id != NULL)
    snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void env_open(env *e)
{
  voice_env_open(e, "m.db");
  /* Long enough to tell the moments apart in mCube's whole seconds. */
  CHECK_OK(vc_sim_set(e->sim, "mcube.ring_ms", "1100"));
  CHECK_OK(vc_sim_set(e->sim, "mcube.talk_ms", "2100"));
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

static void lifecycle(const char *api, const char *key, const char *path)
{
  env e;
  vc_call *c;
  vc_sim_request r;
  char ch[VC_ID_SIZE], line[2048], st[32], want[256];
  int64_t t0 = wall_ms() - 1000, prev = 0;

  env_open(&e);
  mcube_channel(&e, "mcube", 10, api, key, ch);
  /* INR 1.23 a minute to India in whole minutes, INR 0.005 to
   * connect. */
  cost_card(e.t, "mcube", 1230000, 60, 60, 5000);
  start_call(&e, &c, 1);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  CHECK(vc_call_failed_leg(c) == VC_LEG_NONE);
  CHECK(vc_call_attempts(c) == 1);
  CHECK_STR(vc_call_channel_id(c), ch);
  CHECK(strlen(vc_call_provider_id(c)) == 20);   /* the simulator's callid */
  /* duration: 2.1 s rounded up */
  CHECK(vc_call_talk_seconds(c) == 3);
  /* 3 s of talk bill one minute: 5000 + 60 * 1230000 / 60 = 1235000
   * micro-INR, INR 1.235, which the journal rounds half up to 1.24. */
  cost_check(e.t, c, "mcube", ch, 1235000, "1.24");
  for (int s = VC_CALL_AGENT_RINGING; s <= VC_CALL_COMPLETED; s++) {
    int64_t at = vc_call_state_at(c, s);
    if (at < prev || at < t0 || at > wall_ms() + 1000)
      fprintf(stderr, "  state %d at %lld (t0 %lld)\n", s, (long long)at,
              (long long)t0);
    CHECK(at >= prev && at >= t0 && at <= wall_ms() + 1000);
    prev = at;
  }
  /* mCube's times are IST, read as +05:30: 3 s of talk before the end */
  CHECK(vc_call_state_at(c, VC_CALL_COMPLETED) ==
        vc_call_state_at(c, VC_CALL_BRIDGED) + 3000);
  timeline(&e, vc_call_id(c), line, sizeof(line), NULL, NULL, 0);
  CHECK(strstr(line, "ringing/1") != NULL);
  CHECK(strstr(line, "answered/1") != NULL);
  CHECK(strstr(line, "ringing/2") != NULL);
  CHECK(strstr(line, "answered/2") != NULL);
  CHECK(strstr(line, "bridged/0") != NULL);
  CHECK(strstr(line, "recording.available/0") != NULL);
  CHECK(vc_sim_call_status(e.sim, "mcube", vc_call_provider_id(c), st,
                           sizeof(st)) > 0);
  CHECK_STR(st, "ANSWER");
  /* The wire: 10-digit numbers, our call id as refid, the callback. */
  CHECK(provider_request(&e, "mcube", 0, &r));
  CHECK(strncmp(r.path, path, strlen(path)) == 0);
  CHECK(r.status == 200);
  if (strcmp(api, "cloud") == 0) {
    CHECK(strstr(r.body, "\"exenumber\":\"9876543210\",\"custnumber\":"
                 "\"9812345678\"") != NULL);
    snprintf(want, sizeof(want), "\"refid\":\"%s\"", vc_call_id(c));
    CHECK(strstr(r.body, want) != NULL);
    CHECK(strstr(r.body, "&vc_step=status&vc_token=") != NULL);
  } else {
    CHECK_STR(r.method, "GET");
    CHECK(strstr(r.path, "&exenumber=9876543210&custnumber=9812345678"
                 "&did=" VC_SIM_MCUBE_DID "&url=") != NULL);
    snprintf(want, sizeof(want), "&refid=%s&mct=600", vc_call_id(c));
    CHECK(strstr(r.path, want) != NULL);
  }
  vc_call_free(c);
  CHECK_OK(vc_sim_webhooks_wait(e.sim, 5000));
  env_close(&e);
}

static void test_mcube__lifecycle_classic(void)
{
  lifecycle("classic", VC_SIM_MCUBE_API_KEY, "/api/outboundcall");
}

static void test_mcube__lifecycle_cloud(void)
{
  lifecycle("cloud", VC_SIM_MCUBE_TOKEN, "/Restmcube-api/outbound-calls");
}

static void test_mcube__leg_failures(void)
{
  static const struct {
    const char *number;
    vc_sim_call_outcome outcome;
    int state, cause, leg;
  } cases[] = {
    /* the simulator's plans go by the digits mCube was given */
    { "9876543210", VC_SIM_CALL_BUSY, VC_CALL_BUSY, VC_CAUSE_BUSY, VC_LEG_AGENT },
    { "9876543210", VC_SIM_CALL_NO_ANSWER, VC_CALL_NO_ANSWER, VC_CAUSE_NO_ANSWER,
      VC_LEG_AGENT },
    { "9812345678", VC_SIM_CALL_BUSY, VC_CALL_BUSY, VC_CAUSE_BUSY,
      VC_LEG_CUSTOMER },
    { "9812345678", VC_SIM_CALL_NO_ANSWER, VC_CALL_NO_ANSWER,
      VC_CAUSE_NO_ANSWER, VC_LEG_CUSTOMER },
  };
  env e;

  env_open(&e);
  CHECK_OK(vc_sim_set(e.sim, "mcube.ring_ms", "200"));
  mcube_channel(&e, "mcube", 10, "classic", VC_SIM_MCUBE_API_KEY, NULL);
  cost_card(e.t, "mcube", 1230000, 60, 60, 5000);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    vc_sim_call_plan p = { cases[i].outcome, 0, 0 };
    vc_call *c;

    CHECK_OK(vc_sim_call_plan_set(e.sim, "mcube", cases[i].number, &p));
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
    CHECK_OK(vc_sim_call_plan_set(e.sim, "mcube", cases[i].number, NULL));
  }
  CHECK_OK(vc_sim_webhooks_wait(e.sim, 5000));
  env_close(&e);
}

/* mCube refuses the first channel's API key (401): the call goes to
 * the next channel (the cloud API) and completes there. */
static void test_mcube__failover(void)
{
  env e;
  vc_call *c;
  char good[VC_ID_SIZE];
  vc_sim_request r;

  env_open(&e);
  CHECK_OK(vc_sim_set(e.sim, "mcube.ring_ms", "100"));
  CHECK_OK(vc_sim_set(e.sim, "mcube.talk_ms", "100"));
  mcube_channel(&e, "wrong", 1, "classic", "not-the-key", NULL);
  mcube_channel(&e, "right", 2, "cloud", VC_SIM_MCUBE_TOKEN, good);
  start_call(&e, &c, 0);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_attempts(c) == 2);
  CHECK_STR(vc_call_channel_id(c), good);
  CHECK(provider_request(&e, "mcube", 0, &r) && r.status == 401);
  CHECK(provider_request(&e, "mcube", 1, &r) && r.status == 200);
  vc_call_free(c);
  CHECK_OK(vc_sim_webhooks_wait(e.sim, 5000));
  env_close(&e);
}

/* A callback with another call's token changes nothing. */
static void test_mcube__forged_callback(void)
{
  env e;
  vc_call *c;
  char url[512], body[256];
  CURL *h;
  long code = 0;

  env_open(&e);
  mcube_channel(&e, "mcube", 10, "classic", VC_SIM_MCUBE_API_KEY, NULL);
  CHECK_OK(vc_sim_set(e.sim, "mcube.ring_ms", "3000"));
  start_call(&e, &c, 0);
  {
    vc_channel *ch;
    CHECK_OK(vc_channel_lookup(&ch, e.t, "mcube"));
    /* hex HMAC-SHA256(SECRET, "01J9ZK3M2V7Q8R4T6W0X1Y2Z3D"), computed
     * with Python: valid, but for another call */
    snprintf(url, sizeof(url), "%s/webhooks/%s?vc_call=%s&vc_step=status"
             "&vc_token=c2ebf3fb26e4bb58e0c255efd8945b5731648098ddd6afa816a"
             "af6e38e1c4942", e.base, vc_channel_id(ch), vc_call_id(c));
    vc_channel_free(ch);
  }
  snprintf(body, sizeof(body), "{\"callid\": \"abc\", \"dialstatus\": "
           "\"Busy\", \"endtime\": \"2024-01-15 14:30:20\"}");
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
  VC_TEST(test_mcube__lifecycle_classic),
  VC_TEST(test_mcube__lifecycle_cloud),
  VC_TEST(test_mcube__leg_failures),
  VC_TEST(test_mcube__failover),
  VC_TEST(test_mcube__forged_callback),
)
