/*
 * Asterisk inbound calls end to end over loopback, public API only: an
 * "asterisk-ari" channel whose base_url is the in-process simulator's
 * {base}/ari, a number routed to an IVR menu whose option leads to a
 * queue. The simulator puts a caller's channel into the Stasis
 * application (vc_sim_ari_incoming) and plays the caller (keys during
 * the prompt, a hangup while waiting); the library's session answers
 * it, runs the core's scripts over ARI and dials agents, whom the
 * simulator rings, answers or not by their call plans. Cases: the whole
 * way to a bridged agent with its timeline, screen-pop and cost; the
 * caller hanging up in the queue; an agent who does not answer, then
 * the next one; junk and malformed events, and an unknown number.
 * SQLite on disk.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "line_match.h"
#include "net_util.h"
#include "cost_check.h"

#include <cJSON.h>
#include <errno.h>
#include <stdatomic.h>

#define DID "+914066000000"
#define CALLER "+919812345678"
#define ALICE "+919876543210"
#define ALICE_DIGITS "919876543210"
#define BOB "+919876500000"
#define BOB_DIGITS "919876500000"

#define MENU \
  "{\"version\":1,\"entry\":\"main\",\"nodes\":{\"main\":{\"prompt\":" \
  "{\"play\":\"https://media.example/menu.wav\"},\"options\":{" \
  "\"1\":{\"action\":\"queue\",\"queue\":\"support\"}}}}}"

typedef struct env {
  vc_sim *sim;
  vc_ctx *ctx;
  vc_tenant *t;
} env;

static atomic_int dropped_events;

static void on_log(int level, const char *message, void *payload)
{
  (void)payload;
  if (level <= VC_LOG_WARN && strstr(message, "ARI event dropped") != NULL)
    atomic_fetch_add(&dropped_events, 1);
  if (getenv("VC_TEST_LOG") != NULL)
    fprintf(stderr, "  log %d: %s\n", level, message);
}

static void plan(env *e, const char *number, vc_sim_call_outcome o,
                 unsigned ring_ms, unsigned talk_ms)
{
  vc_sim_call_plan p = { o, ring_ms, talk_ms };

  CHECK_OK(vc_sim_call_plan_set(e->sim, "ari", number, &p));
}

static void agent(env *e, const char *name, const char *number)
{
  vc_agent_spec s = VC_AGENT_SPEC_INIT;
  vc_agent *a;

  s.name = name;
  s.number = number;
  s.wrap_up_s = 0;
  CHECK_OK(vc_agent_new(&a, e->t, &s));
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
  vc_agent_free(a);
}

/* A tenant with an asterisk-ari channel, alice and bob in the support
 * queue (`members`), the menu and the number (which opens the session). */
static void env_open(env *e, const char *members)
{
  static const uint8_t key[32] = { 6, 6, 6 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_queue_spec qs = VC_QUEUE_SPEC_INIT;
  vc_ivr_menu_spec ms = VC_IVR_MENU_SPEC_INIT;
  vc_number_spec ns = VC_NUMBER_SPEC_INIT;
  char config[640], creds[256], m[64], *save = NULL, *w;
  vc_store *store;
  vc_queue *q;

  memset(e, 0, sizeof(*e));
  atomic_store(&dropped_events, 0);
  CHECK_OK(vc_sim_start(&e->sim, NULL));
  CHECK_OK(vc_sim_set(e->sim, "ari.play_ms", "300"));
  plan(e, NULL, VC_SIM_CALL_ANSWER, 200, 1500);
  mk.key = key;
  mk.key_len = 32;
  o.master_key = &mk;
  o.allow_private_network = 1;
  o.log_cb = on_log;
  o.log_level = VC_LOG_DEBUG;
  /* No public_base_url: ARI needs no webhooks, and the steps of an
   * inbound call's scripts are named by relative URLs then. */
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("ari_in.db"), NULL));
  o.store = store;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  snprintf(config, sizeof(config), "{\"base_url\":\"%s/ari\",\"app\":"
           "\"vyomcomm\",\"agent_endpoint\":\"PJSIP/{digits}\","
           "\"customer_endpoint\":\"PJSIP/{number}@trunk\","
           "\"moh_class\":\"default\"}", vc_sim_base_url(e->sim));
  snprintf(creds, sizeof(creds), "{\"username\":\"%s\",\"password\":"
           "\"%s\"}", VC_SIM_ARI_USERNAME, VC_SIM_ARI_PASSWORD);
  cs.name = "pbx";
  cs.provider = "asterisk-ari";
  cs.config_json = config;
  cs.credentials_json = creds;
  cs.sender = DID;
  CHECK_OK(vc_channel_new(NULL, e->t, &cs));
  agent(e, "alice", ALICE);
  agent(e, "bob", BOB);
  qs.name = "support";
  qs.strategy = VC_QUEUE_LONGEST_IDLE;
  qs.max_wait_s = 600;
  qs.overflow_kind = VC_QUEUE_OVERFLOW_HANGUP;
  CHECK_OK(vc_queue_new(&q, e->t, &qs));
  snprintf(m, sizeof(m), "%s", members);
  for (w = strtok_r(m, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save))
    CHECK_OK(vc_queue_member_add(q, w, NULL));
  vc_queue_free(q);
  ms.name = "main";
  ms.definition_json = MENU;
  CHECK_OK(vc_ivr_menu_new(NULL, e->t, &ms));
  ns.number = DID;
  ns.channel = "pbx";
  ns.entry_kind = VC_NUMBER_ENTRY_IVR;
  ns.entry = "main";
  ns.label = "Support line";
  CHECK_OK(vc_number_new(NULL, e->t, &ns));
  /* The session listens once its events WebSocket is up. */
  for (int i = 0; i < 250 && vc_sim_ari_sockets(e->sim) < 1; i++)
    usleep(20000);
  CHECK(vc_sim_ari_sockets(e->sim) == 1);
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
  vc_sim_stop(e->sim);
}

static void run_for(env *e, int ms)
{
  int64_t deadline = wall_ms() + ms;

  while (wall_ms() < deadline)
    vc_ctx_run(e->ctx, 20);
}

/* The inbound calls: how many, the first's id into id (may be NULL). */
static int inbound_calls(env *e, char id[VC_ID_SIZE])
{
  vc_call_filter f = VC_CALL_FILTER_INIT;
  vc_call *c;
  vc_iter *it;
  int n = 0;

  f.direction = VC_CALL_INBOUND;
  CHECK_OK(vc_call_list(&it, e->t, &f));
  while (vc_call_next(&c, it) == 0) {
    if (n++ == 0 && id != NULL)
      snprintf(id, VC_ID_SIZE, "%s", vc_call_id(c));
    vc_call_free(c);
  }
  vc_iter_free(it);
  return n;
}

/* Run until the first inbound call exists and reaches `state` or a final
 * one (ms at most); its state. */
static int run_until(env *e, char id[VC_ID_SIZE], int state, int ms)
{
  int64_t deadline = wall_ms() + ms;
  vc_call *c;
  int st = -1;

  for (;;) {
    if (inbound_calls(e, id) > 0) {
      CHECK_OK(vc_call_lookup(&c, e->t, id));
      st = vc_call_state_of(c);
      vc_call_free(c);
      if (st == state || vc_call_state_final(st))
        return st;
    }
    if (wall_ms() >= deadline)
      return st;
    vc_ctx_run(e->ctx, 20);
  }
}

/* The call is bridged once the agent's leg answered; the adapter then
 * makes the bridge and adds both channels, which the simulator sees a
 * moment later. Wait (up to `ms`) for channel `key` to be in a bridge. */
static void wait_in_bridge(env *e, const char *key, vc_sim_ari_channel *ch,
                           int ms)
{
  int64_t deadline = wall_ms() + ms;

  for (;;) {
    CHECK_OK(vc_sim_ari_channel_get(e->sim, key, ch));
    if (ch->bridge[0] != '\0' || wall_ms() >= deadline)
      return;
    vc_ctx_run(e->ctx, 20);
  }
}

/* The timeline's entry types, "state" entries as their state. */
static void timeline(env *e, const char *id, char *out, size_t size)
{
  vc_call_entry *en;
  vc_iter *it;
  size_t n = 0;

  out[0] = '\0';
  CHECK_OK(vc_call_timeline(&it, e->t, id));
  while (vc_call_entry_next(&en, it) == 0) {
    const char *type = vc_call_entry_type(en);
    if (strcmp(type, "state") == 0) {
      cJSON *d = cJSON_Parse(vc_call_entry_detail_json(en));
      const cJSON *s = cJSON_GetObjectItemCaseSensitive(d, "state");
      n += (size_t)snprintf(out + n, size - n, "%s%s", n ? " " : "",
                            cJSON_IsString(s) ? s->valuestring : "?");
      cJSON_Delete(d);
    } else {
      n += (size_t)snprintf(out + n, size - n, "%s%s", n ? " " : "", type);
    }
    vc_call_entry_free(en);
    CHECK(n < size);
  }
  vc_iter_free(it);
}

static void event_of(env *e, const char *type, const char *subject,
                     char *out, size_t size)
{
  const vc_event *ev;
  vc_iter *it;

  out[0] = '\0';
  CHECK_OK(vc_events_since(&it, e->t, 0));
  while (vc_event_next(&ev, it) == 0)
    if (strcmp(ev->type, type) == 0 && strcmp(ev->subject_id, subject) == 0)
      snprintf(out, size, "%s", ev->payload_json);
  vc_iter_free(it);
}

static int agent_state(env *e, const char *name)
{
  vc_agent *a;
  int st;

  CHECK_OK(vc_agent_lookup(&a, e->t, name));
  st = vc_agent_state_of(a);
  vc_agent_free(a);
  return st;
}

/* ------------------------------------------------------------------ */

/* The caller presses 1 during the menu's prompt; alice, available the
 * longest, answers and talks 1.5 s, then hangs up. */
static void test_ari_inbound__ivr_queue_agent(void)
{
  vc_sim_ari_inbound in = { 0 };
  vc_sim_ari_channel ch;
  char id[VC_ID_SIZE], chan[64], dial[128], tl[2048], pop[4096];
  vc_call *c;
  cJSON *o, *v;
  env e;

  env_open(&e, "alice bob");
  cost_card(e.t, "asterisk-ari", 1200000, 60, 60, 0);
  in.from = CALLER;
  in.to = DID;
  in.keys = "1";
  in.press_ms = 100;
  CHECK_OK(vc_sim_ari_incoming(e.sim, &in, chan));
  CHECK(run_until(&e, id, VC_CALL_BRIDGED, 10000) == VC_CALL_BRIDGED);
  CHECK(agent_state(&e, "alice") == VC_AGENT_ON_CALL);
  /* The caller's channel was answered and heard the menu; alice's
   * channel is in the bridge with it. */
  CHECK_OK(vc_sim_ari_channel_get(e.sim, chan, &ch));
  CHECK_STR(ch.state, "Up");
  CHECK_STR(ch.played, "sound:https://media.example/menu.wav");
  snprintf(dial, sizeof(dial), "vc-%s-d1", id);
  wait_in_bridge(&e, dial, &ch, 5000);
  CHECK_STR(ch.endpoint, "PJSIP/" ALICE_DIGITS);
  {
    char b[128];
    snprintf(b, sizeof(b), "vc-%s-b", id);
    CHECK_STR(ch.bridge, b);
  }
  /* The screen-pop came before the answer. */
  event_of(&e, "call.screen_pop", id, pop, sizeof(pop));
  CHECK((o = cJSON_Parse(pop)) != NULL);
  CHECK_STR(cJSON_GetObjectItem(o, "from")->valuestring, CALLER);
  CHECK_STR(cJSON_GetObjectItem(o, "to")->valuestring, DID);
  CHECK_STR(cJSON_GetObjectItem(o, "number_label")->valuestring,
            "Support line");
  v = cJSON_GetObjectItem(o, "ivr_path");
  CHECK(cJSON_GetArraySize(v) == 1);
  CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 0), "keys")
              ->valuestring, "1");
  CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "queue"), "name")
              ->valuestring, "support");
  CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "agent"), "name")
              ->valuestring, "alice");
  cJSON_Delete(o);
  /* Alice hangs up: completed; the caller's channel is hung up. */
  CHECK(run_until(&e, id, VC_CALL_COMPLETED, 10000) == VC_CALL_COMPLETED);
  CHECK_OK(vc_call_lookup(&c, e.t, id));
  CHECK(vc_call_direction_of(c) == VC_CALL_INBOUND);
  CHECK_STR(vc_call_customer_number(c), CALLER);
  CHECK_STR(vc_call_caller_id(c), DID);
  CHECK_STR(vc_call_provider_id(c), chan);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  CHECK(vc_call_talk_seconds(c) >= 1);
  CHECK(vc_call_cost_micros(c) == 1200000);
  CHECK_STR(vc_call_currency(c), "INR");
  vc_call_free(c);
  timeline(&e, id, tl, sizeof(tl));
  if (getenv("VC_TEST_LOG") != NULL)
    fprintf(stderr, "  timeline: %s\n", tl);
  CHECK(in_order(tl, "initiated incoming dtmf queue agent_ringing bridged "
                 "completed"));
  run_for(&e, 500);
  CHECK_OK(vc_sim_ari_channel_get(e.sim, chan, &ch));
  CHECK(ch.ended);
  CHECK(agent_state(&e, "alice") == VC_AGENT_AVAILABLE);
  env_close(&e);
}

/* Nobody is available: the caller waits in the queue and hangs up
 * 2.5 s in: canceled, abandoned. */
static void test_ari_inbound__caller_leaves_queue(void)
{
  vc_sim_ari_inbound in = { 0 };
  vc_sim_ari_channel ch;
  char id[VC_ID_SIZE], chan[64];
  vc_agent *a;
  vc_call *c;
  env e;

  env_open(&e, "alice");
  CHECK_OK(vc_agent_lookup(&a, e.t, "alice"));
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_OFFLINE, NULL));
  vc_agent_free(a);
  in.from = CALLER;
  in.to = DID;
  in.keys = "1";
  in.press_ms = 50;
  in.hangup_ms = 2500;
  CHECK_OK(vc_sim_ari_incoming(e.sim, &in, chan));
  CHECK(run_until(&e, id, VC_CALL_CANCELED, 10000) == VC_CALL_CANCELED);
  CHECK_OK(vc_call_lookup(&c, e.t, id));
  CHECK(vc_call_cause_of(c) == VC_CAUSE_ABANDONED);
  CHECK_STR(vc_call_agent_id(c), "");
  vc_call_free(c);
  {
    char tl[1024];
    timeline(&e, id, tl, sizeof(tl));
    CHECK(in_order(tl, "initiated incoming dtmf queue canceled"));
  }
  CHECK_OK(vc_sim_ari_channel_get(e.sim, chan, &ch));
  CHECK(ch.ended && ch.cause == 16);
  /* No agent channel was ever made. */
  {
    char dial[128];
    snprintf(dial, sizeof(dial), "vc-%s-d1", id);
    CHECK_RC(vc_sim_ari_channel_get(e.sim, dial, &ch), -ENOENT);
  }
  env_close(&e);
}

/* Alice's phone rings out; the caller goes back to the queue and bob
 * takes the call. */
static void test_ari_inbound__no_answer_next_agent(void)
{
  vc_sim_ari_inbound in = { 0 };
  char id[VC_ID_SIZE], chan[64];
  vc_call *c;
  vc_agent *a;
  env e;

  env_open(&e, "alice bob");
  plan(&e, ALICE_DIGITS, VC_SIM_CALL_NO_ANSWER, 300, 0);
  plan(&e, BOB_DIGITS, VC_SIM_CALL_ANSWER, 200, 60000);
  in.from = CALLER;
  in.to = DID;
  in.keys = "1";
  in.press_ms = 50;
  CHECK_OK(vc_sim_ari_incoming(e.sim, &in, chan));
  CHECK(run_until(&e, id, VC_CALL_BRIDGED, 20000) == VC_CALL_BRIDGED);
  CHECK_OK(vc_call_lookup(&c, e.t, id));
  CHECK_OK(vc_agent_lookup(&a, e.t, "bob"));
  CHECK_STR(vc_call_agent_id(c), vc_agent_id(a));
  vc_agent_free(a);
  vc_call_free(c);
  CHECK(agent_state(&e, "alice") != VC_AGENT_RINGING);
  CHECK(agent_state(&e, "bob") == VC_AGENT_ON_CALL);
  /* Alice's phone rang out (19) first; bob's channel came next. */
  {
    vc_sim_ari_channel ch;
    char dial[128];
    snprintf(dial, sizeof(dial), "vc-%s-d1", id);
    CHECK_OK(vc_sim_ari_channel_get(e.sim, dial, &ch));
    CHECK_STR(ch.endpoint, "PJSIP/" ALICE_DIGITS);
    CHECK(ch.ended && ch.cause == 19);
    snprintf(dial, sizeof(dial), "vc-%s-d2", id);
    CHECK_OK(vc_sim_ari_channel_get(e.sim, dial, &ch));
    CHECK_STR(ch.endpoint, "PJSIP/" BOB_DIGITS);
    CHECK_STR(ch.state, "Up");
  }
  /* The caller hangs up while talking: completed. */
  CHECK_OK(vc_sim_ari_hangup(e.sim, chan, 16));
  CHECK(run_until(&e, id, VC_CALL_COMPLETED, 10000) == VC_CALL_COMPLETED);
  run_for(&e, 300);
  CHECK(agent_state(&e, "bob") == VC_AGENT_AVAILABLE);
  env_close(&e);
}

/* Junk on the events socket is dropped and logged, never a call; the
 * session goes on: a number nobody has is refused without an answer. */
static void test_ari_inbound__junk_and_unknown_number(void)
{
  static const char *const junk[] = {
    "not json",
    "{\"type\": \"StasisStart\"}",
    "{\"type\": \"StasisStart\", \"channel\": {\"id\": 7}}",
    "{\"type\": \"StasisStart\", \"channel\": {\"id\": \"9.9\", "
    "\"dialplan\": {\"exten\": [1]}}}",
    "{\"type\": \"PlaybackFinished\", \"playback\": {}}",
    "{\"type\": \"ChannelDtmfReceived\", \"digit\": \"x\", \"channel\": "
    "{\"id\": \"9.9\"}}",
  };
  vc_sim_ari_inbound in = { 0 };
  vc_sim_ari_channel ch;
  char id[VC_ID_SIZE], chan[64];
  vc_call *c;
  env e;

  env_open(&e, "alice");
  for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
    CHECK(vc_sim_ari_send(e.sim, junk[i], strlen(junk[i])) == 1);
  /* Well-formed but not ours: a StasisStart of a "vc-" channel and a
   * playback nobody started. */
  {
    const char *s = "{\"type\": \"StasisStart\", \"args\": [\"x\"], "
                    "\"channel\": {\"id\": \"vc-nobody-d1\", \"dialplan\": "
                    "{\"exten\": \"" DID "\"}}}";
    CHECK(vc_sim_ari_send(e.sim, s, strlen(s)) == 1);
    s = "{\"type\": \"PlaybackFinished\", \"playback\": {\"id\": \"pb\"}}";
    CHECK(vc_sim_ari_send(e.sim, s, strlen(s)) == 1);
  }
  run_for(&e, 500);
  CHECK(atomic_load(&dropped_events) == 6);
  CHECK(inbound_calls(&e, NULL) == 0);
  in.from = CALLER;
  in.to = "+914400000000";
  CHECK_OK(vc_sim_ari_incoming(e.sim, &in, chan));
  CHECK(run_until(&e, id, VC_CALL_FAILED, 10000) == VC_CALL_FAILED);
  CHECK_OK(vc_call_lookup(&c, e.t, id));
  CHECK(vc_call_cause_of(c) == VC_CAUSE_UNKNOWN_NUMBER);
  vc_call_free(c);
  for (int i = 0; i < 100; i++) {
    CHECK_OK(vc_sim_ari_channel_get(e.sim, chan, &ch));
    if (ch.ended)
      break;
    run_for(&e, 20);
  }
  CHECK(ch.ended);
  CHECK(strcmp(ch.state, "Up") != 0);   /* never answered */
  CHECK_STR(ch.played, "");
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_ari_inbound__ivr_queue_agent),
  VC_TEST(test_ari_inbound__caller_leaves_queue),
  VC_TEST(test_ari_inbound__no_answer_next_agent),
  VC_TEST(test_ari_inbound__junk_and_unknown_number),
)
