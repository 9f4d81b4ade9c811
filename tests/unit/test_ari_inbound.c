/*
 * The asterisk-ari session's inbound side against the simulated
 * Asterisk, without the core: this program is the session's host (its
 * own vc_session_* functions record what the session says) and runs
 * libre's loop on its own thread, calling run_script as the core would.
 * Arrival, PLAY, GATHER with keys (and without), PAUSE, REDIRECT, HOLD
 * replaced by DIAL (ringing, answered, bridge, the agent's end handed
 * over), RECORD ended by the caller hanging up (the voicemail handed
 * over before the caller's end), HANGUP, a script running out, a caller
 * hanging up while an agent rings, refusals.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "sim.h"
#include "core/common.h"
#include "adapters/voip/ari.h"
#include "vyomcomm/sys/transport.h"

#include <re.h>

#define AGENT "+919876543210"
#define CALLER "+919812345678"
#define DID "+914066000000"

/* The host: what the session told, as lines. */
struct vc_session_host {
  int up;
  int refuse;                  /* vc_session_incoming fails */
  char chan[64], from[64], to[64];
  int incoming;
  char log[8192];              /* "fetch <url> <what>;" and "report ...;" */
};

static void told(vc_session_host *h, const char *line)
{
  strncat(h->log, line, sizeof(h->log) - strlen(h->log) - 1);
  strncat(h->log, ";", sizeof(h->log) - strlen(h->log) - 1);
  if (getenv("VC_TEST_LOG") != NULL)
    fprintf(stderr, "  told %s\n", line);
}

int vc_session_placed(vc_session_host *h, const char *call_id,
                      const vc_send_result *r)
{
  (void)h, (void)call_id, (void)r;
  return 0;
}

int vc_session_done(vc_session_host *h, uint64_t token,
                    const vc_send_result *r)
{
  (void)h, (void)token, (void)r;
  return 0;
}

static const char *what(const vc_call_update *u, char *b, size_t cap)
{
  if (u == NULL)
    return "none";
  switch (u->type) {
  case VC_UPDATE_DTMF:
    snprintf(b, cap, "dtmf:%s", u->digits);
    break;
  case VC_UPDATE_RINGING:
    snprintf(b, cap, "ringing:%d", u->leg);
    break;
  case VC_UPDATE_ANSWERED:
    snprintf(b, cap, "answered:%d", u->leg);
    break;
  case VC_UPDATE_ENDED:
    snprintf(b, cap, "ended:%d:%s", u->leg, vc_call_cause_name(u->cause));
    break;
  case VC_UPDATE_RECORDING:
    snprintf(b, cap, "recording:%d:%s", u->recording_status,
             u->recording_url ? strstr(u->recording_url, "/recordings")
                              : "-");
    break;
  default:
    snprintf(b, cap, "type:%d", u->type);
  }
  return b;
}

int vc_session_report(vc_session_host *h, const vc_call_update *u)
{
  char b[200], l[300];

  CHECK(u->call_id != NULL && u->event_id != NULL);
  snprintf(l, sizeof(l), "report %s", what(u, b, sizeof(b)));
  told(h, l);
  return 0;
}

void vc_session_link(vc_session_host *h, int up, const char *why)
{
  (void)why;
  h->up = up;
}

void vc_session_log(vc_session_host *h, int level, const char *text)
{
  (void)h;
  if (getenv("VC_TEST_LOG") != NULL)
    fprintf(stderr, "  log %d: %s\n", level, text);
}

int vc_session_incoming(vc_session_host *h, const vc_call_update *u)
{
  CHECK(u->type == VC_UPDATE_INCOMING && u->call_id == NULL);
  if (h->refuse)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED, "refused");
  snprintf(h->chan, sizeof(h->chan), "%s", u->provider_call_id);
  snprintf(h->from, sizeof(h->from), "%s", u->from ? u->from : "");
  snprintf(h->to, sizeof(h->to), "%s", u->to);
  h->incoming++;
  return 0;
}

int vc_session_fetch(vc_session_host *h, const char *call_id,
                     const char *url, const vc_call_update *u)
{
  char b[200], l[400];

  CHECK_STR(call_id, "C1");
  snprintf(l, sizeof(l), "fetch %s %s", url, what(u, b, sizeof(b)));
  told(h, l);
  return 0;
}

/* ---- the loop --------------------------------------------------------- */

static struct tmr stop_tmr;

static void stop_h(void *arg)
{
  (void)arg;
  re_cancel();
}

/* Run the loop for `ms`. */
static void pump(unsigned ms)
{
  tmr_start(&stop_tmr, ms, stop_h, NULL);
  (void)re_main(NULL);
}

/* Run it until `needle` is in the host's log (or 5 s). */
static void wait_log(vc_session_host *h, const char *needle)
{
  for (int i = 0; i < 250 && strstr(h->log, needle) == NULL; i++)
    pump(20);
  if (strstr(h->log, needle) == NULL)
    fprintf(stderr, "  wanted '%s' in '%s'\n", needle, h->log);
  CHECK(strstr(h->log, needle) != NULL);
}

typedef struct env {
  vc_sim *sim;
  void *state, *sess;
  vc_session_host h;
} env;

static void env_open(env *e, const vc_sim_ari_inbound *plan)
{
  vc_sim_call_plan p = VC_SIM_CALL_PLAN_INIT;
  vc_sim_ari_inbound in = *plan;
  char config[512], creds[200];

  memset(e, 0, sizeof(*e));
  CHECK(libre_init() == 0);
  CHECK_OK(vc_sim_start(&e->sim, NULL));
  CHECK_OK(vc_sim_set(e->sim, "ari.play_ms", "300"));
  p.ring_ms = 100;
  p.talk_ms = 400;
  CHECK_OK(vc_sim_call_plan_set(e->sim, "ari", NULL, &p));
  snprintf(config, sizeof(config), "{\"base_url\":\"%s/ari\",\"app\":"
           "\"vyomcomm\",\"agent_endpoint\":\"PJSIP/{digits}\","
           "\"customer_endpoint\":\"PJSIP/{number}@trunk\"}",
           vc_sim_base_url(e->sim));
  snprintf(creds, sizeof(creds), "{\"username\":\"%s\",\"password\":"
           "\"%s\"}", VC_SIM_ARI_USERNAME, VC_SIM_ARI_PASSWORD);
  CHECK_OK(vc__ari_init(&e->state, config, creds));
  CHECK_OK(vc__ari_session_ops.open(&e->sess, e->state, &e->h));
  for (int i = 0; i < 250 && !e->h.up; i++)
    pump(20);
  CHECK(e->h.up);
  in.app = "vyomcomm";
  in.from = CALLER;
  in.to = DID;
  CHECK_OK(vc_sim_ari_incoming(e->sim, &in, e->h.chan));
  for (int i = 0; i < 250 && e->h.incoming == 0 && !e->h.refuse; i++)
    pump(20);
  if (!e->h.refuse) {
    CHECK(e->h.incoming == 1);
    CHECK_STR(e->h.from, CALLER);
    CHECK_STR(e->h.to, DID);
  }
}

static void env_close(env *e)
{
  vc__ari_session_ops.close(e->sess);
  vc__ari_fini(e->state);
  pump(10);
  vc_sim_stop(e->sim);
  tmr_cancel(&stop_tmr);
  libre_close();
}

static void run(env *e, const vc_call_step *steps, size_t n)
{
  vc_call_script sc = { VC_CALL_SCRIPT_VERSION, steps, n };

  CHECK_OK(vc__ari_session_ops.run_script(e->sess, "C1", e->h.chan, &sc));
}

static void chan(env *e, const char *key, vc_sim_ari_channel *out)
{
  CHECK_OK(vc_sim_ari_channel_get(e->sim, key, out));
}

/* ---- cases ------------------------------------------------------------ */

static void test_ari_inbound__ivr_queue_agent_voicemail(void)
{
  vc_sim_ari_inbound plan = { 0 };
  vc_sim_ari_channel ch;
  env e;

  /* Nothing during the greeting, '2' during the menu; a voicemail the
   * caller ends by hanging up 300 ms in. */
  plan.keys = ",2";
  plan.press_ms = 50;
  plan.hangup_record_ms = 300;
  env_open(&e, &plan);

  {
    vc_call_step s[3] = { { 0 } };
    s[0].kind = VC_STEP_SAY;
    s[0].text = "Welcome";           /* no speech: skipped */
    s[1].kind = VC_STEP_PLAY;
    s[1].url = "https://media.example/greeting.wav";
    s[2].kind = VC_STEP_GATHER;
    s[2].url = "sound:menu";
    s[2].num_digits = 1;
    s[2].timeout_s = 3;
    s[2].action_url = "A1";
    run(&e, s, 3);
  }
  wait_log(&e.h, "fetch A1 dtmf:2");
  chan(&e, e.h.chan, &ch);
  CHECK_STR(ch.state, "Up");
  CHECK_STR(ch.played, "sound:https://media.example/greeting.wav,"
            "sound:menu");

  /* A GATHER without keys hands over nothing. */
  {
    vc_call_step s[1] = { { 0 } };
    s[0].kind = VC_STEP_GATHER;
    s[0].timeout_s = 1;
    s[0].action_url = "A2";
    run(&e, s, 1);
  }
  wait_log(&e.h, "fetch A2 none");

  /* The queue: a pause, then the core asked again. */
  {
    vc_call_step s[2] = { { 0 } };
    s[0].kind = VC_STEP_PAUSE;
    s[0].timeout_s = 1;
    s[1].kind = VC_STEP_REDIRECT;
    s[1].url = "R1";
    run(&e, s, 2);
  }
  wait_log(&e.h, "fetch R1 none");

  /* Music on hold, replaced by a DIAL to the agent. */
  {
    vc_call_step s[1] = { { 0 } };
    s[0].kind = VC_STEP_HOLD;
    run(&e, s, 1);
  }
  pump(100);
  chan(&e, e.h.chan, &ch);
  CHECK(ch.moh);
  {
    vc_call_step s[1] = { { 0 } };
    s[0].kind = VC_STEP_DIAL;
    s[0].target = AGENT;
    s[0].timeout_s = 20;
    s[0].action_url = "D1";
    run(&e, s, 1);
  }
  wait_log(&e.h, "report ringing:1");
  wait_log(&e.h, "report answered:1");
  pump(100);
  chan(&e, e.h.chan, &ch);
  CHECK(!ch.moh);
  CHECK_STR(ch.bridge, "vc-C1-b");
  chan(&e, "vc-C1-d1", &ch);
  CHECK_STR(ch.endpoint, "PJSIP/919876543210");
  CHECK_STR(ch.bridge, "vc-C1-b");
  /* The agent hangs up after talk_ms: its end is reported and handed
   * over. */
  wait_log(&e.h, "fetch D1 ended:1:normal");
  CHECK(strstr(e.h.log, "report ended:1:normal") != NULL);

  /* Voicemail: the caller hangs up 300 ms in; the recording is handed
   * over first, then the caller's end is reported. */
  {
    vc_call_step s[1] = { { 0 } };
    s[0].kind = VC_STEP_RECORD;
    s[0].time_limit_s = 30;
    s[0].action_url = "V1";
    run(&e, s, 1);
  }
  wait_log(&e.h, "report ended:2:normal");
  {
    const char *v = strstr(e.h.log, "fetch V1 recording:3:/recordings/"
                           "stored/vc-C1-v1/file");
    CHECK(v != NULL);
    CHECK(v < strstr(e.h.log, "report ended:2:normal"));
  }
  chan(&e, e.h.chan, &ch);
  CHECK(ch.ended);
  CHECK_STR(ch.recording, "vc-C1-v1");
  /* A script for a call that is over: unknown. */
  {
    vc_call_step s[1] = { { 0 } };
    vc_call_script sc = { VC_CALL_SCRIPT_VERSION, s, 1 };
    s[0].kind = VC_STEP_HANGUP;
    CHECK_RC(vc__ari_session_ops.run_script(e.sess, "C1", e.h.chan, &sc),
             VC_ENOTFOUND);
  }
  env_close(&e);
}

/* The caller hangs up while the agent rings: the agent's channel goes,
 * nothing is handed over. */
static void test_ari_inbound__caller_leaves_while_ringing(void)
{
  vc_sim_ari_inbound plan = { 0 };
  vc_sim_call_plan p = VC_SIM_CALL_PLAN_INIT;
  vc_sim_ari_channel ch;
  env e;

  env_open(&e, &plan);
  p.ring_ms = 5000;
  CHECK_OK(vc_sim_call_plan_set(e.sim, "ari", "919876543210", &p));
  {
    vc_call_step s[1] = { { 0 } };
    s[0].kind = VC_STEP_DIAL;
    s[0].target = AGENT;
    s[0].action_url = "D1";
    run(&e, s, 1);
  }
  wait_log(&e.h, "report ringing:1");
  CHECK_OK(vc_sim_ari_hangup(e.sim, e.h.chan, 16));
  wait_log(&e.h, "report ended:2:normal");
  wait_log(&e.h, "report ended:1:");
  pump(200);
  CHECK(strstr(e.h.log, "fetch") == NULL);
  chan(&e, "vc-C1-d1", &ch);
  CHECK(ch.ended);
  env_close(&e);
}

/* A script that runs out hangs up, as a provider's does; HANGUP too; a
 * script for an unknown channel or with too many steps is refused. */
static void test_ari_inbound__script_end_and_refusals(void)
{
  vc_sim_ari_inbound plan = { 0 };
  vc_sim_ari_channel ch;
  vc_call_step many[65];
  vc_call_script sc = { VC_CALL_SCRIPT_VERSION, many, 65 };
  env e;

  env_open(&e, &plan);
  memset(many, 0, sizeof(many));
  for (size_t i = 0; i < 65; i++)
    many[i].kind = VC_STEP_PAUSE;
  CHECK_RC(vc__ari_session_ops.run_script(e.sess, "C1", e.h.chan, &sc),
           VC_EINVALID);
  sc.nsteps = 1;
  CHECK_RC(vc__ari_session_ops.run_script(e.sess, "C1", "nope", &sc),
           VC_ENOTFOUND);
  {
    vc_call_step s[1] = { { 0 } };
    s[0].kind = VC_STEP_PLAY;
    s[0].url = "ftp://nope";         /* ARI cannot: skipped */
    run(&e, s, 1);
  }
  wait_log(&e.h, "report ended:2:normal");
  chan(&e, e.h.chan, &ch);
  CHECK(ch.ended);
  CHECK_STR(ch.played, "");
  env_close(&e);

  /* A call the host refuses is hung up at once. */
  plan.hangup_ms = 0;
  memset(&e, 0, sizeof(e));
  {
    env *ep = &e;
    ep->h.refuse = 1;
  }
  {
    vc_sim_ari_inbound in = { 0 };
    vc_sim_call_plan p = VC_SIM_CALL_PLAN_INIT;
    char config[512], creds[200], id[64];
    CHECK(libre_init() == 0);
    CHECK_OK(vc_sim_start(&e.sim, NULL));
    CHECK_OK(vc_sim_call_plan_set(e.sim, "ari", NULL, &p));
    snprintf(config, sizeof(config), "{\"base_url\":\"%s/ari\","
             "\"customer_endpoint\":\"PJSIP/{number}@trunk\"}",
             vc_sim_base_url(e.sim));
    snprintf(creds, sizeof(creds), "{\"username\":\"%s\",\"password\":"
             "\"%s\"}", VC_SIM_ARI_USERNAME, VC_SIM_ARI_PASSWORD);
    CHECK_OK(vc__ari_init(&e.state, config, creds));
    CHECK_OK(vc__ari_session_ops.open(&e.sess, e.state, &e.h));
    for (int i = 0; i < 250 && !e.h.up; i++)
      pump(20);
    in.to = DID;
    CHECK_OK(vc_sim_ari_incoming(e.sim, &in, id));
    for (int i = 0; i < 100; i++) {
      pump(20);
      if (vc_sim_ari_channel_get(e.sim, id, &ch) == 0 && ch.ended)
        break;
    }
    CHECK(ch.ended);
    /* And a channel of ours ("vc-...") entering the app is no arrival;
     * junk is dropped. */
    CHECK(vc_sim_ari_send(e.sim, "{\"type\":\"StasisStart\"}", 22) == 1);
    CHECK(vc_sim_ari_send(e.sim, "not json", 8) == 1);
    pump(100);
    CHECK(e.h.incoming == 0);
    env_close(&e);
  }
}

VC_TESTS(
  VC_TEST(test_ari_inbound__ivr_queue_agent_voicemail),
  VC_TEST(test_ari_inbound__caller_leaves_while_ringing),
  VC_TEST(test_ari_inbound__script_end_and_refusals),
)
