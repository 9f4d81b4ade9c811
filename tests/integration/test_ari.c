/*
 * Asterisk ARI click-to-call end to end over loopback, public API only:
 * an "asterisk-ari" channel whose base_url is the in-process simulator's
 * {base}/ari. The library's network thread keeps the events WebSocket
 * open and sends the REST requests with libre's HTTP client; the
 * simulator rings, answers and hangs up channels by its call plans. The
 * full life with every state and timeline entry, each leg's failure,
 * failover from a dead or refused ARI, hold (removeChannel + MOH),
 * blind transfer, hangup, DTMF, on-demand recording, a WebSocket dropped
 * mid-call, and junk events. SQLite on disk.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "line_match.h"
#include "voice_env.h"

#include <curl/curl.h>
#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>
#include <pthread.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#define AGENT "+919876543210"
#define AGENT_DIGITS "919876543210"
#define CUSTOMER "+919812345678"
#define CALLER_ID "+914066000000"
#define TARGET "+919800000001"

/* Warnings about dropped ARI events, and links lost and made, from the
 * context's log (any thread). */
static atomic_int dropped_events, links_down, links_up;

static void on_log(int level, const char *message, void *payload)
{
  (void)payload;
  if (level <= VC_LOG_WARN && strstr(message, "ARI event dropped") != NULL)
    atomic_fetch_add(&dropped_events, 1);
  if (strstr(message, "ARI events connection lost") != NULL)
    atomic_fetch_add(&links_down, 1);
  if (strstr(message, "ARI events connected") != NULL)
    atomic_fetch_add(&links_up, 1);
  if (getenv("VC_TEST_LOG") != NULL)
    fprintf(stderr, "  log %d: %s\n", level, message);
}

/* ------------------------------------------------------------------ */
/* set-up                                                              */

/* An asterisk-ari channel at `base_url` ({sim}/ari when NULL). */
static void ari_channel_with(env *e, const char *name, int priority,
                             const char *base_url, const char *password,
                             const char *extra, char id[VC_ID_SIZE]);

static void ari_channel(env *e, const char *name, int priority,
                        const char *base_url, const char *password,
                        char id[VC_ID_SIZE])
{
  ari_channel_with(e, name, priority, base_url, password, "", id);
}

/* The same, `extra` (",\"key\": value" or "") ending its config. */
static void ari_channel_with(env *e, const char *name, int priority,
                             const char *base_url, const char *password,
                             const char *extra, char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  char config[640], creds[256], base[128];
  vc_channel *ch;

  if (base_url == NULL) {
    snprintf(base, sizeof(base), "%s/ari", vc_sim_base_url(e->sim));
    base_url = base;
  }
  snprintf(config, sizeof(config), "{\"base_url\":\"%s\",\"app\":"
           "\"vyomcomm\",\"agent_endpoint\":\"PJSIP/{digits}\","
           "\"customer_endpoint\":\"PJSIP/{number}@trunk\","
           "\"moh_class\":\"default\",\"caller_ids\":[\"%s\"]%s}",
           base_url, CALLER_ID, extra);
  snprintf(creds, sizeof(creds), "{\"username\":\"%s\",\"password\":"
           "\"%s\"}", VC_SIM_ARI_USERNAME,
           password ? password : VC_SIM_ARI_PASSWORD);
  s.name = name;
  s.provider = "asterisk-ari";
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
  static const uint8_t key[32] = { 4, 4, 4 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;

  memset(e, 0, sizeof(*e));
  CHECK_OK(vc_sim_start(&e->sim, NULL));
  CHECK_OK(vc_sim_set(e->sim, "ari.ring_ms", "100"));
  CHECK_OK(vc_sim_set(e->sim, "ari.talk_ms", "30000"));
  mk.key = key;
  mk.key_len = 32;
  o.master_key = &mk;
  o.allow_private_network = 1;
  o.log_cb = on_log;
  o.log_level = VC_LOG_DEBUG;
  atomic_store(&dropped_events, 0);
  atomic_store(&links_down, 0);
  atomic_store(&links_up, 0);
  /* No public_base_url and no listener: ARI needs no webhooks. */
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("ari.db"), NULL));
  o.store = store;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
}

static void env_close(env *e)
{
  voice_env_close(e);
}

static void plan(env *e, const char *number, vc_sim_call_outcome o,
                 unsigned ring_ms, unsigned talk_ms)
{
  vc_sim_call_plan p = { o, ring_ms, talk_ms };

  CHECK_OK(vc_sim_call_plan_set(e->sim, "ari", number, &p));
}

/* ------------------------------------------------------------------ */
/* waiting                                                             */

/* Run the engine for `ms` (whatever happens). */
static void run_for(env *e, int ms)
{
  int64_t deadline = wall_ms() + ms;

  while (wall_ms() < deadline)
    vc_ctx_run(e->ctx, 20);
}

static void start_call(env *e, vc_call **c, int record)
{
  vc_call_spec s = VC_CALL_SPEC_INIT;

  s.agent_number = AGENT;
  s.customer_number = CUSTOMER;
  s.record = record;
  s.ring_timeout_s = 20;
  s.time_limit_s = 600;
  CHECK_OK(vc_call_start(c, e->t, &s));
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

/* The simulator's channel `key` (id or endpoint), waiting (running the
 * engine) until `pred` holds for it. */
typedef int (*chan_pred)(const vc_sim_ari_channel *ch);

static int chan_wait(env *e, const char *key, chan_pred pred,
                     vc_sim_ari_channel *out, int ms)
{
  int64_t deadline = wall_ms() + ms;

  for (;;) {
    if (vc_sim_ari_channel_get(e->sim, key, out) == 0 &&
        (pred == NULL || pred(out)))
      return 1;
    if (wall_ms() >= deadline)
      return 0;
    vc_ctx_run(e->ctx, 20);
  }
}

static int ch_ended(const vc_sim_ari_channel *ch) { return ch->ended; }

/* The index of the first ARI request from `from` on whose method is
 * `method`, whose path (with query) starts with `prefix` and whose status
 * is `status` (-1: any); -1 when there is none. */
static int req_index(env *e, size_t from, const char *method,
                     const char *prefix, int status)
{
  vc_sim_request r;

  for (size_t i = from; i < vc_sim_received_count(e->sim); i++) {
    CHECK_OK(vc_sim_received_get(e->sim, i, &r));
    if (strcmp(r.provider, "ari") == 0 && strcmp(r.method, method) == 0 &&
        strncmp(r.path, prefix, strlen(prefix)) == 0 &&
        (status < 0 || r.status == status))
      return (int)i;
  }
  return -1;
}

/* ------------------------------------------------------------------ */
/* cases                                                               */

/* Agent answers, customer answers, bridged; the customer hangs up. */
static void test_ari__lifecycle(void)
{
  env e;
  vc_call *c;
  vc_sim_ari_channel a, cu;
  char ch[VC_ID_SIZE], line[4096], detail[512], want[128];
  int64_t t0, prev = 0;

  env_open(&e);
  ari_channel(&e, "pbx", 10, NULL, NULL, ch);
  plan(&e, AGENT, VC_SIM_CALL_ANSWER, 150, 30000);
  plan(&e, CUSTOMER, VC_SIM_CALL_ANSWER, 150, 1200);
  t0 = wall_ms();
  start_call(&e, &c, VC_RECORD_OFF);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK_OK(vc_call_refresh(c));
  if (vc_call_state_of(c) != VC_CALL_COMPLETED)
    fprintf(stderr, "  state %s cause %s leg %d: %s\n",
            vc_call_state_name(vc_call_state_of(c)),
            vc_call_cause_name(vc_call_cause_of(c)), vc_call_failed_leg(c),
            vc_call_error_message(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  CHECK(vc_call_failed_leg(c) == VC_LEG_NONE);
  CHECK(vc_call_attempts(c) == 1);
  CHECK_STR(vc_call_channel_id(c), ch);
  CHECK_STR(vc_call_caller_id(c), CALLER_ID);
  snprintf(want, sizeof(want), "vc-%s-a", vc_call_id(c));
  CHECK_STR(vc_call_provider_id(c), want);
  /* 1.2 s of talk. */
  CHECK(vc_call_talk_seconds(c) >= 1 && vc_call_talk_seconds(c) <= 2);
  for (int k = VC_CALL_INITIATED; k <= VC_CALL_COMPLETED; k++) {
    int64_t at = vc_call_state_at(c, k);
    if (at == 0 || at < prev || at < t0 - 1000 || at > wall_ms())
      fprintf(stderr, "  state %s at %lld (t0 %lld prev %lld)\n",
              vc_call_state_name(k), (long long)at, (long long)t0,
              (long long)prev);
    CHECK(at != 0);
    CHECK(at >= prev && at >= t0 - 1000 && at <= wall_ms());
    prev = at;
  }
  /* Each ring is 150 ms; the customer talked 1.2 s. */
  CHECK(vc_call_state_at(c, VC_CALL_AGENT_ANSWERED) >=
        vc_call_state_at(c, VC_CALL_AGENT_RINGING) + 100);
  CHECK(vc_call_state_at(c, VC_CALL_BRIDGED) >=
        vc_call_state_at(c, VC_CALL_CUSTOMER_RINGING) + 100);
  CHECK(vc_call_state_at(c, VC_CALL_COMPLETED) >=
        vc_call_state_at(c, VC_CALL_BRIDGED) + 1000);
  timeline(&e, vc_call_id(c), line, sizeof(line), "hangup", detail,
           sizeof(detail));
  if (!in_order(line, "state/0 ringing/1 state/0 answered/1 state/0 "
                "ringing/2 state/0 answered/2 bridged/0 state/0 hangup/2 "
                "state/0"))
    CHECK(0);
  CHECK(strstr(detail, "\"cause\":\"normal\"") != NULL);
  CHECK(count_of(line, "ringing/1") == 1);
  CHECK(count_of(line, "answered/2") == 1);
  /* The simulator's side: both legs ended, as originated. */
  snprintf(want, sizeof(want), "vc-%s-a", vc_call_id(c));
  CHECK(chan_wait(&e, want, ch_ended, &a, 5000));
  CHECK_STR(a.endpoint, "PJSIP/" AGENT_DIGITS);
  snprintf(want, sizeof(want), "vc-%s-c", vc_call_id(c));
  CHECK(chan_wait(&e, want, ch_ended, &cu, 5000));
  CHECK_STR(cu.endpoint, "PJSIP/" CUSTOMER "@trunk");
  CHECK(cu.cause == 16);
  /* The wire: originate the agent, then the customer with the agent as
   * originator, a mixing bridge with both, and the agent hung up after
   * the customer's end. */
  {
    const char *id = vc_call_id(c);
    char p[512];
    int i;
    snprintf(p, sizeof(p), "/ari/channels?endpoint=PJSIP%%2F" AGENT_DIGITS
             "&app=vyomcomm&appArgs=%s&callerId=%%2B914066000000&timeout=20"
             "&channelId=vc-%s-a", id, id);
    CHECK((i = req_index(&e, 0, "POST", p, 200)) >= 0);
    snprintf(p, sizeof(p), "/ari/channels?endpoint=PJSIP%%2F%%2B919812345678"
             "%%40trunk&app=vyomcomm&appArgs=%s&callerId=%%2B914066000000"
             "&timeout=20&channelId=vc-%s-c&originator=vc-%s-a", id, id, id);
    CHECK((i = req_index(&e, (size_t)i + 1, "POST", p, 200)) >= 0);
    snprintf(p, sizeof(p), "/ari/bridges?type=mixing%%2Cdtmf_events"
             "&bridgeId=vc-%s-b", id);
    CHECK((i = req_index(&e, (size_t)i + 1, "POST", p, 200)) >= 0);
    snprintf(p, sizeof(p), "/ari/bridges/vc-%s-b/addChannel?channel=vc-%s-a"
             "%%2Cvc-%s-c", id, id, id);
    CHECK((i = req_index(&e, (size_t)i + 1, "POST", p, 204)) >= 0);
    snprintf(p, sizeof(p), "/ari/channels/vc-%s-a", id);
    CHECK((i = req_index(&e, (size_t)i + 1, "DELETE", p, 204)) >= 0);
    snprintf(p, sizeof(p), "/ari/bridges/vc-%s-b", id);
    CHECK(req_index(&e, (size_t)i, "DELETE", p, 204) >= 0);
  }
  vc_call_free(c);
  env_close(&e);
}

/* Busy and no answer on each leg: the Q.850 causes 17 and 19 of the
 * simulator's ChannelDestroyed. */
static void test_ari__leg_failures(void)
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
    { CUSTOMER, VC_SIM_CALL_NO_ANSWER, VC_CALL_NO_ANSWER,
      VC_CAUSE_NO_ANSWER, VC_LEG_CUSTOMER },
    { CUSTOMER, VC_SIM_CALL_FAILED, VC_CALL_FAILED, VC_CAUSE_UNREACHABLE,
      VC_LEG_CUSTOMER },
  };
  env e;
  char line[4096], detail[512], want[128];

  env_open(&e);
  ari_channel(&e, "pbx", 10, NULL, NULL, NULL);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    vc_call *c;
    vc_sim_ari_channel a;

    plan(&e, cases[i].number, cases[i].outcome, 100, 30000);
    start_call(&e, &c, VC_RECORD_OFF);
    CHECK(run_until_final(&e, vc_call_id(c), 20000));
    CHECK_OK(vc_call_refresh(c));
    if (vc_call_state_of(c) != cases[i].state ||
        vc_call_failed_leg(c) != cases[i].leg)
      fprintf(stderr, "  case %zu: state %s cause %s leg %d\n", i,
              vc_call_state_name(vc_call_state_of(c)),
              vc_call_cause_name(vc_call_cause_of(c)),
              vc_call_failed_leg(c));
    CHECK(vc_call_state_of(c) == cases[i].state);
    CHECK(vc_call_cause_of(c) == cases[i].cause);
    CHECK(vc_call_failed_leg(c) == cases[i].leg);
    CHECK(vc_call_state_at(c, VC_CALL_BRIDGED) == 0);
    CHECK(vc_call_talk_seconds(c) == 0);
    CHECK(vc_call_state_at(c, vc_call_state_of(c)) != 0);
    CHECK((vc_call_state_at(c, VC_CALL_AGENT_ANSWERED) != 0) ==
          (cases[i].leg == VC_LEG_CUSTOMER));
    /* Failed never rings. */
    CHECK((vc_call_state_at(c, VC_CALL_CUSTOMER_RINGING) != 0) ==
          (cases[i].leg == VC_LEG_CUSTOMER &&
           cases[i].outcome != VC_SIM_CALL_FAILED));
    timeline(&e, vc_call_id(c), line, sizeof(line), "hangup", detail,
             sizeof(detail));
    snprintf(want, sizeof(want), "hangup/%d state/0", cases[i].leg);
    CHECK(in_order(line, want));
    snprintf(want, sizeof(want), "\"cause\":\"%s\"",
             vc_call_cause_name(cases[i].cause));
    CHECK(strstr(detail, want) != NULL);
    /* The agent is hung up when the customer's leg fails. */
    snprintf(want, sizeof(want), "vc-%s-a", vc_call_id(c));
    CHECK(chan_wait(&e, want, ch_ended, &a, 5000));
    vc_call_free(c);
    CHECK_OK(vc_sim_call_plan_set(e.sim, "ari", cases[i].number, NULL));
  }
  env_close(&e);
}

/* The ARI of priority 1 cannot be used before anyone answered (nobody
 * listens on its port; it refuses the password): the call goes to the
 * next channel and completes there. */
static void failover_case(const char *what)
{
  env e;
  vc_call *c;
  char good[VC_ID_SIZE], dead[128], want[128];

  env_open(&e);
  plan(&e, CUSTOMER, VC_SIM_CALL_ANSWER, 100, 300);
  if (strcmp(what, "dead") == 0) {
    snprintf(dead, sizeof(dead), "http://127.0.0.1:%d/ari", free_port());
    ari_channel(&e, "dead", 1, dead, NULL, NULL);
  } else {
    ari_channel(&e, "wrong", 1, NULL, "not-the-password", NULL);
  }
  if (strcmp(what, "sandbox") == 0) {
    vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
    vc_channel *ch;
    s.name = "sandbox";
    s.provider = "sandbox-voice";
    s.config_json = "{\"ring_s\": 0, \"talk_s\": 1}";
    s.sender = CALLER_ID;
    s.priority = 2;
    CHECK_OK(vc_channel_new(&ch, e.t, &s));
    snprintf(good, sizeof(good), "%s", vc_channel_id(ch));
    vc_channel_free(ch);
  } else {
    ari_channel(&e, "good", 2, NULL, NULL, good);
  }
  start_call(&e, &c, VC_RECORD_OFF);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK_OK(vc_call_refresh(c));
  if (vc_call_state_of(c) != VC_CALL_COMPLETED)
    fprintf(stderr, "  %s: state %s cause %s: %s\n", what,
            vc_call_state_name(vc_call_state_of(c)),
            vc_call_cause_name(vc_call_cause_of(c)),
            vc_call_error_message(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_attempts(c) == 2);
  CHECK_STR(vc_call_channel_id(c), good);
  /* The refused upgrade first (none at a dead port), then the good
   * channel's upgrade and originate; no originate was refused. */
  if (strcmp(what, "dead") != 0)
    CHECK(req_index(&e, 0, "GET", "/ari/events?app=vyomcomm", 401) == 0);
  if (strcmp(what, "sandbox") != 0) {
    CHECK(req_index(&e, 0, "GET", "/ari/events?app=vyomcomm", 101) >= 0);
    CHECK(req_index(&e, 0, "POST", "/ari/channels?", 200) > 0);
  } else {
    CHECK(req_index(&e, 0, "POST", "/ari/channels?", -1) < 0);
  }
  CHECK(req_index(&e, 0, "POST", "/ari/channels?", 401) < 0);
  if (strcmp(what, "sandbox") != 0) {
    snprintf(want, sizeof(want), "vc-%s-a", vc_call_id(c));
    CHECK_STR(vc_call_provider_id(c), want);
  }
  vc_call_free(c);
  env_close(&e);
}

static void test_ari__failover_dead_port(void)
{
  failover_case("dead");
}

static void test_ari__failover_wrong_password(void)
{
  failover_case("wrong");
}

static void test_ari__failover_to_sandbox(void)
{
  failover_case("sandbox");
}

/* An ARI that never answers an originate. `how`: "alone" (one channel:
 * the request is dropped after config.request_timeout_ms and the call
 * fails at once with VC_ETIMEOUT, not after its ring timeout plus 30 s),
 * "failover" (a second channel takes it and the call completes there),
 * "heard" (the ARI made the agent's channel all the same and its events
 * come: the lost answer counts as taken, the call completes on the same
 * channel and nobody is dialled twice). */
static void request_timeout_case(const char *how)
{
  env e;
  vc_call *c;
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  char silent[VC_ID_SIZE], good[VC_ID_SIZE], prefix[128];
  int64_t t0, took;
  size_t from;
  int backup = strcmp(how, "failover") == 0, heard = strcmp(how, "heard") == 0;

  env_open(&e);
  plan(&e, CUSTOMER, VC_SIM_CALL_ANSWER, 100, 300);
  ari_channel_with(&e, "silent", 1, NULL, NULL,
                   ",\"request_timeout_ms\": 300", silent);
  if (backup)
    ari_channel(&e, "good", 2, NULL, NULL, good);
  /* A first call opens the session (its events connection). */
  start_call(&e, &c, VC_RECORD_OFF);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK_STR(vc_call_channel_id(c), silent);
  vc_call_free(c);
  /* Its clean-up requests (hang-ups, the bridge) are done. */
  run_for(&e, 500);
  from = vc_sim_received_count(e.sim);

  /* The agent rings long enough for the timeout to come first. */
  plan(&e, AGENT, VC_SIM_CALL_ANSWER, 1000, 300);
  f.kind = VC_SIM_FAULT_TIMEOUT; /* hold_ms 0: never answered */
  f.accept_first = heard;        /* the channel is made all the same */
  CHECK_OK(vc_sim_fault_add(e.sim, "ari", &f));
  t0 = wall_ms();
  start_call(&e, &c, VC_RECORD_OFF);
  CHECK(run_until_final(&e, vc_call_id(c), 20000));
  took = wall_ms() - t0;
  CHECK_OK(vc_call_refresh(c));
  if (vc_call_state_of(c) != (backup || heard ? VC_CALL_COMPLETED
                                              : VC_CALL_FAILED))
    fprintf(stderr, "  %s: state %s cause %s error %d: %s (%lld ms)\n", how,
            vc_call_state_name(vc_call_state_of(c)),
            vc_call_cause_name(vc_call_cause_of(c)), vc_call_error(c),
            vc_call_error_message(c), (long long)took);
  snprintf(prefix, sizeof(prefix), "/ari/channels/vc-%s-a", vc_call_id(c));
  if (backup) {
    CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
    CHECK_STR(vc_call_channel_id(c), good);
    CHECK(vc_call_attempts(c) == 2);
  } else if (heard) {
    CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
    CHECK_STR(vc_call_channel_id(c), silent);
    CHECK(vc_call_attempts(c) == 1);
    CHECK(vc_call_state_at(c, VC_CALL_BRIDGED) > 0);
  } else {
    CHECK(vc_call_state_of(c) == VC_CALL_FAILED);
    CHECK(vc_call_error(c) == VC_ETIMEOUT);
    CHECK(strstr(vc_call_error_message(c), "did not answer") != NULL);
    CHECK(vc_call_state_at(c, VC_CALL_FAILED) > 0);
    /* Well inside the ring timeout (20 s) and the core's 30 s more. */
    CHECK(took < 8000);
  }
  if (!heard) {
    /* The agent's channel the silent originate might have made was
     * hung up, before any other channel dialled the agent. The hang-up
     * may still be on its way when the call is final. */
    int64_t until = wall_ms() + 5000;
    int del, again;
    while ((del = req_index(&e, from, "DELETE", prefix, -1)) < 0 &&
           wall_ms() < until)
      vc_ctx_run(e.ctx, 20);
    again = req_index(&e, from + 1, "POST",
                      "/ari/channels?endpoint=PJSIP%2F919876543210", -1);
    CHECK(del > (int)from);
    CHECK(!backup || again > del);
  } else {
    int one = req_index(&e, from, "POST",
                        "/ari/channels?endpoint=PJSIP%2F919876543210", -1);
    CHECK(one >= 0);
    CHECK(req_index(&e, (size_t)one + 1, "POST",
                    "/ari/channels?endpoint=PJSIP%2F919876543210", -1) < 0);
  }
  vc_call_free(c);
  env_close(&e);
}

static void test_ari__request_timeout(void)
{
  request_timeout_case("alone");
}

static void test_ari__request_timeout_failover(void)
{
  request_timeout_case("failover");
}

static void test_ari__request_timeout_heard(void)
{
  request_timeout_case("heard");
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

static int ch_up(const vc_sim_ari_channel *ch)
{
  return strcmp(ch->state, "Up") == 0 && ch->bridge[0] != '\0';
}

/* A bridged call (both legs talk 30 s). */
static void bridged_call(env *e, vc_call **c, int record)
{
  start_call(e, c, record);
  CHECK(run_until_state(e, vc_call_id(*c), VC_CALL_BRIDGED, 20000) ==
        VC_CALL_BRIDGED);
  CHECK_OK(vc_call_refresh(*c));
}

/* Hold takes the customer out of the bridge and plays music on hold;
 * unhold stops it and puts the customer back. Then a blind transfer:
 * the target is originated with the customer as originator, the agent
 * is hung up, the target joins the customer's bridge; the call goes on
 * until vc_call_hangup(). */
static void test_ari__hold_transfer_hangup(void)
{
  env e;
  vc_call *c;
  vc_sim_ari_channel a, cu, t;
  char line[4096], detail[512], chan_a[80], chan_c[80], chan_t[80];
  char bridge[80], p[256];
  int i;

  env_open(&e);
  ari_channel(&e, "pbx", 10, NULL, NULL, NULL);
  bridged_call(&e, &c, VC_RECORD_OFF);
  snprintf(chan_a, sizeof(chan_a), "vc-%s-a", vc_call_id(c));
  snprintf(chan_c, sizeof(chan_c), "vc-%s-c", vc_call_id(c));
  snprintf(chan_t, sizeof(chan_t), "vc-%s-t", vc_call_id(c));
  snprintf(bridge, sizeof(bridge), "vc-%s-b", vc_call_id(c));
  CHECK(chan_wait(&e, chan_c, ch_up, &cu, 5000));
  CHECK_STR(cu.bridge, bridge);
  CHECK_RC(vc_call_hold(c, 0), VC_ESTATE);       /* not on hold */

  /* Hold. */
  CHECK_OK(vc_call_hold(c, 1));
  CHECK(run_until_hold(&e, vc_call_id(c), 1, 10000));
  CHECK_OK(vc_call_refresh(c));
  CHECK_RC(vc_call_hold(c, 1), VC_ESTATE);       /* already */
  CHECK_OK(vc_sim_ari_channel_get(e.sim, chan_c, &cu));
  CHECK_STR(cu.bridge, "");
  CHECK(cu.moh == 1 && !cu.ended);
  CHECK_OK(vc_sim_ari_channel_get(e.sim, chan_a, &a));
  CHECK_STR(a.bridge, bridge);
  CHECK(a.moh == 0 && !a.ended);
  snprintf(p, sizeof(p), "/ari/bridges/%s/removeChannel?channel=%s", bridge,
           chan_c);
  CHECK((i = req_index(&e, 0, "POST", p, 204)) >= 0);
  snprintf(p, sizeof(p), "/ari/channels/%s/moh?mohClass=default", chan_c);
  CHECK((i = req_index(&e, (size_t)i + 1, "POST", p, 204)) >= 0);
  CHECK(state_of(&e, vc_call_id(c)) == VC_CALL_BRIDGED);

  /* Unhold. */
  CHECK_OK(vc_call_hold(c, 0));
  CHECK(run_until_hold(&e, vc_call_id(c), 0, 10000));
  CHECK_OK(vc_call_refresh(c));
  CHECK_OK(vc_sim_ari_channel_get(e.sim, chan_c, &cu));
  CHECK_STR(cu.bridge, bridge);
  CHECK(cu.moh == 0 && !cu.ended);
  snprintf(p, sizeof(p), "/ari/channels/%s/moh", chan_c);
  CHECK((i = req_index(&e, (size_t)i + 1, "DELETE", p, 204)) >= 0);
  snprintf(p, sizeof(p), "/ari/bridges/%s/addChannel?channel=%s", bridge,
           chan_c);
  CHECK((i = req_index(&e, (size_t)i + 1, "POST", p, 204)) >= 0);

  /* Blind transfer. */
  plan(&e, TARGET, VC_SIM_CALL_ANSWER, 100, 30000);
  CHECK_RC(vc_call_transfer(c, "not a number"), VC_EINVALID);
  CHECK_OK(vc_call_transfer(c, TARGET));
  CHECK(run_until_entry(&e, vc_call_id(c), "transfer", 10000));
  CHECK(chan_wait(&e, chan_t, ch_up, &t, 10000));
  CHECK_STR(t.bridge, bridge);
  CHECK_STR(t.endpoint, "PJSIP/" TARGET "@trunk");
  CHECK(chan_wait(&e, chan_a, ch_ended, &a, 10000));
  CHECK_OK(vc_sim_ari_channel_get(e.sim, chan_c, &cu));
  CHECK_STR(cu.bridge, bridge);
  CHECK(!cu.ended);
  snprintf(p, sizeof(p), "/ari/channels?endpoint=PJSIP%%2F%%2B919800000001"
           "%%40trunk&app=vyomcomm&appArgs=%s&callerId=%%2B914066000000&"
           "timeout=20&channelId=%s&originator=%s", vc_call_id(c), chan_t,
           chan_c);
  CHECK((i = req_index(&e, (size_t)i + 1, "POST", p, 200)) >= 0);
  snprintf(p, sizeof(p), "/ari/bridges/%s/addChannel?channel=%s", bridge,
           chan_t);
  CHECK(req_index(&e, (size_t)i + 1, "POST", p, 204) >= 0);
  /* The agent's end is expected: the call goes on. */
  run_for(&e, 300);
  CHECK(state_of(&e, vc_call_id(c)) == VC_CALL_BRIDGED);

  /* Hangup. */
  CHECK_OK(vc_call_refresh(c));
  CHECK_OK(vc_call_hangup(c));
  CHECK(run_until_final(&e, vc_call_id(c), 10000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_API_HANGUP);
  CHECK(vc_call_on_hold(c) == 0);
  CHECK(chan_wait(&e, chan_c, ch_ended, &cu, 10000));
  CHECK(chan_wait(&e, chan_t, ch_ended, &t, 10000));
  CHECK_RC(vc_call_hangup(c), VC_ESTATE);
  timeline(&e, vc_call_id(c), line, sizeof(line), "transfer", detail,
           sizeof(detail));
  /* the agent's end after the transfer, then the customer's */
  CHECK(in_order(line, "bridged/0 state/0 hold/2 unhold/2 transfer/2 "
                 "hangup/1 hangup/2 state/0"));
  CHECK(strstr(detail, "\"to\":\"" TARGET "\"") != NULL);
  CHECK(count_of(line, "hangup/2") == 1);
  vc_call_free(c);
  env_close(&e);
}

/* vc_call_hangup() of a bridged call, and of one whose agent rings. */
static void test_ari__hangup(void)
{
  env e;
  vc_call *c;
  vc_sim_ari_channel a, cu;
  char chan[80];

  env_open(&e);
  ari_channel(&e, "pbx", 10, NULL, NULL, NULL);
  bridged_call(&e, &c, VC_RECORD_OFF);
  CHECK_OK(vc_call_hangup(c));
  CHECK(run_until_final(&e, vc_call_id(c), 10000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_API_HANGUP);
  snprintf(chan, sizeof(chan), "vc-%s-a", vc_call_id(c));
  CHECK(chan_wait(&e, chan, ch_ended, &a, 10000));
  snprintf(chan, sizeof(chan), "vc-%s-c", vc_call_id(c));
  CHECK(chan_wait(&e, chan, ch_ended, &cu, 10000));
  vc_call_free(c);

  /* The agent rings for 5 s: the hangup cancels the call. */
  plan(&e, AGENT, VC_SIM_CALL_ANSWER, 5000, 30000);
  start_call(&e, &c, VC_RECORD_OFF);
  CHECK(run_until_state(&e, vc_call_id(c), VC_CALL_AGENT_RINGING, 10000) ==
        VC_CALL_AGENT_RINGING);
  CHECK_OK(vc_call_refresh(c));
  CHECK_OK(vc_call_hangup(c));
  CHECK(run_until_final(&e, vc_call_id(c), 10000));
  CHECK_OK(vc_call_refresh(c));
  if (vc_call_state_of(c) != VC_CALL_CANCELED)
    fprintf(stderr, "  state %s cause %s leg %d\n",
            vc_call_state_name(vc_call_state_of(c)),
            vc_call_cause_name(vc_call_cause_of(c)), vc_call_failed_leg(c));
  CHECK(vc_call_state_of(c) == VC_CALL_CANCELED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_API_HANGUP);
  CHECK(vc_call_state_at(c, VC_CALL_AGENT_ANSWERED) == 0);
  snprintf(chan, sizeof(chan), "vc-%s-a", vc_call_id(c));
  CHECK(chan_wait(&e, chan, ch_ended, &a, 10000));
  /* Nobody dialled the customer. */
  snprintf(chan, sizeof(chan), "vc-%s-c", vc_call_id(c));
  CHECK(vc_sim_ari_channel_get(e.sim, chan, &cu) == -ENOENT);
  vc_call_free(c);
  env_close(&e);
}

/* Keys the customer presses come as ChannelDtmfReceived: one dtmf
 * entry each, on the customer's leg. */
static void test_ari__dtmf(void)
{
  env e;
  vc_call *c;
  vc_iter *it;
  vc_call_entry *en;
  char chan[80], got[16] = "";
  size_t n = 0;
  int64_t deadline;

  env_open(&e);
  ari_channel(&e, "pbx", 10, NULL, NULL, NULL);
  bridged_call(&e, &c, VC_RECORD_OFF);
  snprintf(chan, sizeof(chan), "vc-%s-c", vc_call_id(c));
  CHECK_RC(vc_sim_ari_dtmf(e.sim, chan, "12#"), 0);
  snprintf(chan, sizeof(chan), "vc-%s-a", vc_call_id(c));
  CHECK_RC(vc_sim_ari_dtmf(e.sim, chan, "*"), 0);
  deadline = wall_ms() + 10000;
  while (n < 4 && wall_ms() < deadline) {
    vc_ctx_run(e.ctx, 20);
    n = 0;
    CHECK_OK(vc_call_timeline(&it, e.t, vc_call_id(c)));
    while (vc_call_entry_next(&en, it) == 0) {
      if (strcmp(vc_call_entry_type(en), "dtmf") == 0 && n < 4) {
        const char *d = strstr(vc_call_entry_detail_json(en),
                               "\"digits\":\"");
        CHECK(d != NULL);
        if (d != NULL)
          got[n] = d[10];
        CHECK(vc_call_entry_leg(en) ==
              (n < 3 ? VC_LEG_CUSTOMER : VC_LEG_AGENT));
        n++;
      }
      vc_call_entry_free(en);
    }
    vc_iter_free(it);
  }
  CHECK(n == 4);
  got[n] = '\0';
  CHECK_STR(got, "12#*");
  CHECK(state_of(&e, vc_call_id(c)) == VC_CALL_BRIDGED);
  CHECK_OK(vc_call_hangup(c));
  CHECK(run_until_final(&e, vc_call_id(c), 10000));
  vc_call_free(c);
  env_close(&e);
}

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

/* An on-demand recording of the bridge: started and stopped through
 * vc_call_record(), stored with the ARI URL of its file. */
static void test_ari__recording_on_demand(void)
{
  env e;
  vc_call *c;
  vc_recording *r;
  char name[96], p[256], want[256], line[4096];
  int i;

  env_open(&e);
  ari_channel(&e, "pbx", 10, NULL, NULL, NULL);
  bridged_call(&e, &c, VC_RECORD_ON_DEMAND);
  CHECK(vc_call_record_mode(c) == VC_RECORD_ON_DEMAND);
  CHECK_RC(vc_call_record(c, 0), VC_ESTATE);     /* not recording */
  CHECK_OK(vc_call_record(c, 1));
  CHECK(run_until_entry(&e, vc_call_id(c), "recording.started", 10000));
  snprintf(name, sizeof(name), "vc-%s-r1", vc_call_id(c));
  snprintf(p, sizeof(p), "/ari/bridges/vc-%s-b/record?name=%s&format=wav",
           vc_call_id(c), name);
  CHECK((i = req_index(&e, 0, "POST", p, 201)) >= 0);
  run_for(&e, 1100);                             /* about a second */
  CHECK_OK(vc_call_refresh(c));
  CHECK_OK(vc_call_record(c, 0));
  CHECK(run_until_entry(&e, vc_call_id(c), "recording.available", 10000));
  snprintf(p, sizeof(p), "/ari/recordings/live/%s/stop", name);
  CHECK(req_index(&e, (size_t)i + 1, "POST", p, 204) >= 0);
  r = recording_of(&e, vc_call_id(c));
  CHECK(vc_recording_status_of(r) == VC_RECORDING_STATUS_AVAILABLE);
  CHECK_STR(vc_recording_provider_id(r), name);
  snprintf(want, sizeof(want), "%s/ari/recordings/stored/%s/file",
           vc_sim_base_url(e.sim), name);
  CHECK_STR(vc_recording_url(r), want);
  CHECK(vc_recording_duration_s(r) >= 1 && vc_recording_duration_s(r) <= 2);
  CHECK_STR(vc_recording_channel_id(r), vc_call_channel_id(c));
  vc_recording_free(r);
  CHECK(state_of(&e, vc_call_id(c)) == VC_CALL_BRIDGED);
  CHECK_OK(vc_call_hangup(c));
  CHECK(run_until_final(&e, vc_call_id(c), 10000));
  timeline(&e, vc_call_id(c), line, sizeof(line), NULL, NULL, 0);
  CHECK(in_order(line, "bridged/0 state/0 recording.started/0 "
                 "recording.available/0 state/0"));
  vc_call_free(c);
  env_close(&e);
}

static int sockets_wait(env *e, int n, int ms)
{
  int64_t deadline = wall_ms() + ms;

  while (vc_sim_ari_sockets(e->sim) != n && wall_ms() < deadline)
    vc_ctx_run(e->ctx, 20);
  return vc_sim_ari_sockets(e->sim) == n;
}

/* The events WebSocket dropped mid-call (the TCP connection just
 * closes) and the customer hangs up meanwhile: the session reconnects,
 * asks after each leg, learns the customer is gone (404) and ends the
 * call; then a graceful drop (Close 1001) with nothing missed: the call
 * ends by its own events after the reconnect. */
static void test_ari__drop_resync(void)
{
  env e;
  vc_call *c;
  vc_sim_ari_channel a;
  char chan_c[80], chan_a[80], p[128], line[4096], detail[512];

  env_open(&e);
  ari_channel(&e, "pbx", 10, NULL, NULL, NULL);
  bridged_call(&e, &c, VC_RECORD_OFF);
  snprintf(chan_a, sizeof(chan_a), "vc-%s-a", vc_call_id(c));
  snprintf(chan_c, sizeof(chan_c), "vc-%s-c", vc_call_id(c));
  CHECK(vc_sim_ari_sockets(e.sim) == 1);
  CHECK(vc_sim_ari_drop(e.sim, 0) == 1);
  CHECK_OK(vc_sim_ari_hangup(e.sim, chan_c, 16));  /* nobody hears it */
  CHECK(sockets_wait(&e, 1, 10000));
  CHECK(run_until_final(&e, vc_call_id(c), 10000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  snprintf(p, sizeof(p), "/ari/channels/%s", chan_c);
  CHECK(req_index(&e, 0, "GET", p, 404) >= 0);
  CHECK(chan_wait(&e, chan_a, ch_ended, &a, 5000));   /* torn down */
  timeline(&e, vc_call_id(c), line, sizeof(line), "hangup", detail,
           sizeof(detail));
  CHECK(in_order(line, "bridged/0 state/0 hangup/2 state/0"));
  CHECK(strstr(detail, "\"provider_code\":\"gone at resync\"") != NULL);
  CHECK(atomic_load(&links_down) >= 1);
  CHECK(atomic_load(&links_up) >= 1);    /* (the first is debug) */
  vc_call_free(c);

  /* Graceful, and the call goes on: the customer talks 1.5 s. */
  plan(&e, CUSTOMER, VC_SIM_CALL_ANSWER, 100, 1500);
  bridged_call(&e, &c, VC_RECORD_OFF);
  CHECK(vc_sim_ari_drop(e.sim, 1) == 1);
  CHECK(sockets_wait(&e, 1, 10000));
  CHECK(state_of(&e, vc_call_id(c)) == VC_CALL_BRIDGED);
  CHECK(run_until_final(&e, vc_call_id(c), 10000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  timeline(&e, vc_call_id(c), line, sizeof(line), "hangup", detail,
           sizeof(detail));
  CHECK(strstr(detail, "\"provider_code\":\"Normal Clearing\"") != NULL);
  vc_call_free(c);
  env_close(&e);
}

/* The customer answers while the WebSocket is down (its StasisStart is
 * lost): the resync finds the channel Up and bridges the call. */
static void test_ari__drop_while_ringing(void)
{
  env e;
  vc_call *c;
  vc_sim_ari_channel cu;
  char chan_c[80];

  env_open(&e);
  ari_channel(&e, "pbx", 10, NULL, NULL, NULL);
  plan(&e, CUSTOMER, VC_SIM_CALL_ANSWER, 200, 1500);
  start_call(&e, &c, VC_RECORD_OFF);
  CHECK(run_until_state(&e, vc_call_id(c), VC_CALL_CUSTOMER_RINGING,
                        10000) == VC_CALL_CUSTOMER_RINGING);
  CHECK(vc_sim_ari_drop(e.sim, 0) == 1);
  snprintf(chan_c, sizeof(chan_c), "vc-%s-c", vc_call_id(c));
  CHECK(sockets_wait(&e, 1, 10000));
  CHECK(run_until_state(&e, vc_call_id(c), VC_CALL_BRIDGED, 10000) ==
        VC_CALL_BRIDGED);
  CHECK(chan_wait(&e, chan_c, ch_up, &cu, 5000));
  CHECK(run_until_final(&e, vc_call_id(c), 10000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  vc_call_free(c);
  env_close(&e);
}

/* Junk on the WebSocket is dropped with a warning and changes nothing:
 * the call goes on and ends as it would have. */
static void test_ari__junk_events(void)
{
  static const char *const junk[] = {
    "", "not json", "[]", "{}", "null", "{\"type\": 17}",
    "{\"type\": \"StasisStart\"}",
    "{\"type\": \"StasisStart\", \"channel\": \"x\"}",
    "{\"type\": \"ChannelDestroyed\", \"channel\": {\"id\": 5}}",
    "{\"type\": \"Whatever\", \"timestamp\": \"2024-05-01T10:00:00.000"
    "+0000\"}",
    "{\"type\": \"ChannelDestroyed\", \"timestamp\": \"2024-05-01T10:00:"
    "00.000+0000\", \"cause\": 16, \"channel\": {\"id\": "
    "\"someone-else\", \"state\": \"Up\"}}",
    "{\"type\": \"ChannelDtmfReceived\", \"digit\": \"12\", "
    "\"channel\": {\"id\": \"nobody\"}}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "{\"type\": \"RecordingFinished\", \"recording\": {\"name\": "
    "\"vc-x-r1\"}}",
    "{\"type\": \"ChannelDestroyed\", \"timestamp\": \"yesterday\", "
    "\"cause\": \"x\", \"channel\": {\"id\": \"vc-nobody-a\"}}",
  };
  env e;
  vc_call *c;
  char big[70000], chan_c[128], ev[512];

  env_open(&e);
  ari_channel(&e, "pbx", 10, NULL, NULL, NULL);
  plan(&e, CUSTOMER, VC_SIM_CALL_ANSWER, 100, 1500);
  bridged_call(&e, &c, VC_RECORD_OFF);
  for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
    CHECK(vc_sim_ari_send(e.sim, junk[i], strlen(junk[i])) == 1);
  /* Too big (64 KiB at most); bytes that are not UTF-8. */
  memset(big, ' ', sizeof(big));
  {
    static const char head[] = "{\"type\": \"Whatever\", \"x\": \"";
    memcpy(big, head, sizeof(head) - 1);
  }
  memcpy(big + sizeof(big) - 2, "\"}", 2);
  CHECK(vc_sim_ari_send(e.sim, big, sizeof(big)) == 1);
  CHECK(vc_sim_ari_send(e.sim, "{\"type\": \"\xff\xfe\"}", 14) == 1);
  /* Our own channel, with a cause that is not a number and no time. */
  snprintf(chan_c, sizeof(chan_c), "vc-%s-c", vc_call_id(c));
  snprintf(ev, sizeof(ev), "{\"type\": \"ChannelDestroyed\", \"cause\": "
           "\"sixteen\", \"channel\": {\"id\": \"%s\", \"state\": "
           "[1]}}", chan_c);
  CHECK(vc_sim_ari_send(e.sim, ev, strlen(ev)) == 1);
  run_for(&e, 200);
  CHECK(state_of(&e, vc_call_id(c)) == VC_CALL_BRIDGED);
  CHECK(run_until_final(&e, vc_call_id(c), 10000));
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  CHECK(vc_call_talk_seconds(c) >= 1);
  CHECK(atomic_load(&dropped_events) == 15);  /* the malformed ones */
  CHECK(vc_sim_ari_sockets(e.sim) == 1);        /* still connected */
  vc_call_free(c);
  env_close(&e);
}

/* A peer that completes the WebSocket upgrade of one connection and
 * then never reads again: an Asterisk that does not answer a Close. */
typedef struct mute_peer {
  int lfd, fd;
  pthread_t thread;
} mute_peer;

static void *mute_main(void *arg)
{
  mute_peer *m = arg;
  char req[4096], key[64] = "", src[128], resp[256];
  unsigned char digest[20], acc[64];
  size_t n = 0, olen = 0;
  const char *k;

  if ((m->fd = accept(m->lfd, NULL, NULL)) < 0)
    return NULL;
  while (n + 1 < sizeof(req) && strstr(req, "\r\n\r\n") == NULL) {
    ssize_t r = read(m->fd, req + n, sizeof(req) - 1 - n);
    if (r <= 0)
      return NULL;
    n += (size_t)r;
    req[n] = '\0';
  }
  if ((k = strcasestr(req, "Sec-WebSocket-Key: ")) != NULL)
    sscanf(k + 19, "%63[^\r]", key);
  snprintf(src, sizeof(src), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
  mbedtls_sha1_ret((const unsigned char *)src, strlen(src), digest);
  mbedtls_base64_encode(acc, sizeof(acc), &olen, digest, 20);
  snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching Protocols\r\n"
           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
  CHECK(write(m->fd, resp, strlen(resp)) == (ssize_t)strlen(resp));
  return NULL;
}

/* A context freed while its session's WebSocket is open and the peer
 * never answers the Close frame: nothing is left behind (LeakSanitizer
 * in the sanitizer build; libre used to keep the connection for the
 * closing handshake on a loop that had stopped). */
static void test_ari__close_while_connected(void)
{
  env e;
  mute_peer m;
  struct sockaddr_in a;
  socklen_t alen = sizeof(a);
  char base[64];
  vc_call *c;
  int64_t deadline;

  memset(&m, 0, sizeof(m));
  m.fd = -1;
  CHECK((m.lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(m.lfd, (struct sockaddr *)&a, sizeof(a)) == 0);
  CHECK(listen(m.lfd, 4) == 0);
  CHECK(getsockname(m.lfd, (struct sockaddr *)&a, &alen) == 0);
  CHECK(pthread_create(&m.thread, NULL, mute_main, &m) == 0);
  snprintf(base, sizeof(base), "http://127.0.0.1:%d/ari",
           ntohs(a.sin_port));
  env_open(&e);
  ari_channel(&e, "mute", 10, base, NULL, NULL);
  /* The first call opens the session; the originate gets no answer,
   * so the engine thread placing it waits: engine threads of the
   * library's own, which vc_ctx_free() stops. */
  start_call(&e, &c, VC_RECORD_OFF);
  CHECK_OK(vc_ctx_start(e.ctx, 1));
  deadline = wall_ms() + 5000;
  while (atomic_load(&links_up) == 0 && wall_ms() < deadline)
    usleep(10000);
  CHECK(atomic_load(&links_up) == 1);
  pthread_join(m.thread, NULL);
  CHECK(m.fd >= 0);
  vc_call_free(c);
  env_close(&e);            /* the session closes; the peer is mute */
  close(m.fd);
  close(m.lfd);
}

VC_TESTS(
  VC_TEST(test_ari__lifecycle),
  VC_TEST(test_ari__leg_failures),
  VC_TEST(test_ari__failover_dead_port),
  VC_TEST(test_ari__failover_wrong_password),
  VC_TEST(test_ari__failover_to_sandbox),
  VC_TEST(test_ari__request_timeout),
  VC_TEST(test_ari__request_timeout_failover),
  VC_TEST(test_ari__request_timeout_heard),
  VC_TEST(test_ari__hold_transfer_hangup),
  VC_TEST(test_ari__hangup),
  VC_TEST(test_ari__dtmf),
  VC_TEST(test_ari__recording_on_demand),
  VC_TEST(test_ari__drop_resync),
  VC_TEST(test_ari__drop_while_ringing),
  VC_TEST(test_ari__junk_events),
  VC_TEST(test_ari__close_while_connected),
)
