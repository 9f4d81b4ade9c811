/*
 * Inbound calls through Twilio's webhooks, public API only: the test
 * plays Twilio (signed form posts through vc_webhook_handle, the TwiML
 * answers read for the next URL) on the injected clock. SQLite on disk.
 *
 * Cases: IVR -> queue -> agent -> bridge -> completed with the timeline,
 * the screen-pop event and the cost; the queue strategies; an agent who
 * misses the call (no answer, unreachable) and the next one; the caller
 * hanging up in the queue and while an agent rings; overflow to
 * voicemail (in the inbox), to another queue, to a callback, to a
 * hangup; a queue without members; an unknown number; malformed and
 * forged arrivals; a repeated arrival; tenant isolation; the watchdog.
 */
#include "harness.h"
#include "vyomcomm.h"
#include "inbound_env.h"
#include "cost_check.h"

#include <cJSON.h>

static const uint8_t KEY[32] = { 8, 1, 8 };

#define ALICE "+14155550101"
#define BOB "+14155550102"
#define CAROL "+14155550103"

#define MENU \
  "{\"version\":1,\"entry\":\"main\",\"nodes\":{\"main\":{\"prompt\":" \
  "{\"say\":\"Press 1 for support, 2 to leave a message.\"},\"options\":{" \
  "\"1\":{\"action\":\"queue\",\"queue\":\"support\"}," \
  "\"2\":{\"action\":\"voicemail\"}}}}}"

static int g_sid;
static char g_channel[VC_ID_SIZE];

/* A fresh Twilio call SID. */
static void sid(char out[35])
{
  snprintf(out, 35, "CA%032x", ++g_sid);
}

static void post(env *e, const char *target, const char *const *kv,
                 size_t n, in_reply *r)
{
  in_post_ctx(e->ctx, target, kv, n, IN_TOKEN, r);
}

/* A call arriving on the channel: the answer. */
static void arrive(env *e, const char *channel, const char *call_sid,
                   const char *from, const char *to, in_reply *r)
{
  char target[128];
  const char *kv[] = {
    "AccountSid", IN_ACCOUNT, "CallSid", call_sid, "From", from, "To", to,
    "Direction", "inbound", "CallStatus", "ringing",
    "ApiVersion", "2010-04-01"
  };

  snprintf(target, sizeof(target), "/webhooks/%s", channel);
  post(e, target, kv, sizeof(kv) / sizeof(kv[0]) / 2, r);
}

/* The caller pressed `digits` at the Gather of `r`. */
static void press(env *e, const char *call_sid, const char *digits,
                  in_reply *r)
{
  char target[1200];
  const char *kv[] = { "AccountSid", IN_ACCOUNT, "CallSid", call_sid,
                       "Digits", digits };

  CHECK(in_twiml(r, "Gather", "action", target, sizeof(target))[0]);
  post(e, target, kv, 3, r);
}

/* The agent leg the Dial of `dial` rings reports `status`. */
static void leg(env *e, const in_reply *dial, const char *parent,
                const char *child, const char *status, int seq,
                const char *duration)
{
  char target[1200], seqs[8];
  in_reply r;
  const char *kv[] = { "AccountSid", IN_ACCOUNT, "CallSid", child,
                       "ParentCallSid", parent, "CallStatus", status,
                       "SequenceNumber", seqs, "CallDuration", duration };

  snprintf(seqs, sizeof(seqs), "%d", seq);
  CHECK(in_twiml(dial, "Number", "statusCallback", target,
                 sizeof(target))[0]);
  post(e, target, kv, duration ? 6 : 5, &r);
  CHECK(r.status == 200);
}

/* The Dial of `*r` ended with `status`: *r becomes the answer. */
static void dial_end(env *e, const char *parent, const char *child,
                     const char *status, const char *duration, in_reply *r)
{
  char target[1200];
  const char *kv[] = { "AccountSid", IN_ACCOUNT, "CallSid", parent,
                       "DialCallStatus", status, "DialCallSid", child,
                       "DialCallDuration", duration ? duration : "0" };

  CHECK(in_twiml(r, "Dial", "action", target, sizeof(target))[0]);
  post(e, target, kv, 5, r);
  CHECK(r->status == 200);
}

/* Twilio follows the Redirect of *r: *r becomes the answer. */
static inline void redirect(env *e, const char *call_sid, in_reply *r)
{
  char target[1200];
  const char *kv[] = { "AccountSid", IN_ACCOUNT, "CallSid", call_sid };

  CHECK(in_twiml(r, "Redirect", NULL, target, sizeof(target))[0]);
  post(e, target, kv, 2, r);
  CHECK(r->status == 200);
}

/* The caller hung up: the call's own status callback. */
static void caller_gone(env *e, const char *channel, const char *call_sid)
{
  char target[128];
  in_reply r;
  const char *kv[] = { "AccountSid", IN_ACCOUNT, "CallSid", call_sid,
                       "Direction", "inbound", "CallStatus", "completed",
                       "From", IN_CALLER, "To", IN_DID };

  snprintf(target, sizeof(target), "/webhooks/%s", channel);
  post(e, target, kv, 6, &r);
  CHECK(r.status == 200);
}

static vc_call *call_of(env *e, const in_reply *r)
{
  char target[1200], id[VC_ID_SIZE];
  vc_call *c;

  /* Any URL of the answer names the call. */
  if (!in_twiml(r, "Gather", "action", target, sizeof(target))[0] &&
      !in_twiml(r, "Dial", "action", target, sizeof(target))[0] &&
      !in_twiml(r, "Redirect", NULL, target, sizeof(target))[0])
    in_twiml(r, "Record", "action", target, sizeof(target));
  CHECK(in_call_of(target, id)[0]);
  CHECK_OK(vc_call_lookup(&c, e->t, id));
  return c;
}

/* The types of a call's timeline, space-separated. */
static void timeline(env *e, const char *call_id, char *out, size_t size)
{
  vc_call_entry *en;
  vc_iter *it;
  size_t n = 0;

  out[0] = '\0';
  CHECK_OK(vc_call_timeline(&it, e->t, call_id));
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

/* The payload of the latest event of `type` about `subject`; "" when
 * none. */
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

static int count_inbound(env *e)
{
  vc_call_filter f = VC_CALL_FILTER_INIT;
  vc_call *c;
  vc_iter *it;
  int n = 0;

  f.direction = VC_CALL_INBOUND;
  CHECK_OK(vc_call_list(&it, e->t, &f));
  while (vc_call_next(&c, it) == 0) {
    CHECK(vc_call_direction_of(c) == VC_CALL_INBOUND);
    vc_call_free(c);
    n++;
  }
  vc_iter_free(it);
  return n;
}

/* A context on a store file of its own. */
static void open_env(env *e)
{
  static int n;
  char file[32];

  snprintf(file, sizeof(file), "in%d.db", ++n);
  tenant_env_open(e, file, KEY, 8, IN_BASE);
}

/* A tenant with its channel, a support queue (alice and bob), the menu
 * and the number. */
static void setup(env *e, int strategy)
{
  open_env(e);
  in_channel(e->t, "twilio", g_channel);
  in_agent(e->t, "alice", ALICE, 1);
  g_now += 1000;
  in_agent(e->t, "bob", BOB, 1);
  g_now += 1000;
  in_queue(e->t, "support", strategy, 300, VC_QUEUE_OVERFLOW_HANGUP, NULL,
           "alice bob", 0);
  in_menu(e->t, "main", MENU);
  in_number(e->t, IN_DID, "twilio", VC_NUMBER_ENTRY_IVR, "main",
            "Support line");
  g_now += 1000;
}

/* ---- the whole way ---------------------------------------------------------- */

static void test_inbound__ivr_queue_agent_bridge(void)
{
  vc_contact_spec cs = VC_CONTACT_SPEC_INIT;
  char parent[35], child[35], contact[VC_ID_SIZE], alice[VC_ID_SIZE];
  char tl[2048], pop[4096], target[1200];
  in_reply r, again;
  env e;
  vc_call *c;
  cJSON *o, *v;

  setup(&e, VC_QUEUE_LONGEST_IDLE);
  cost_card(e.t, "twilio-voice", 1200000, 60, 60, 0);
  cs.name = "Asha Rao";
  cs.phone = IN_CALLER;
  CHECK_OK(vc_contact_upsert(contact, e.t, &cs));
  in_agent_id(e.t, "alice", alice);
  /* The call arrives: the menu. */
  sid(parent);
  arrive(&e, g_channel, parent, IN_CALLER, IN_DID, &r);
  CHECK(r.status == 200);
  CHECK(strstr(r.body, "<Gather") != NULL);
  CHECK(strstr(r.body, "Press 1 for support") != NULL);
  /* Twilio's retry of the arrival: the same call, the same answer. */
  arrive(&e, g_channel, parent, IN_CALLER, IN_DID, &again);
  CHECK(again.status == 200);
  CHECK_STR(again.body, r.body);
  CHECK(count_inbound(&e) == 1);
  c = call_of(&e, &r);
  CHECK(vc_call_direction_of(c) == VC_CALL_INBOUND);
  CHECK(vc_call_state_of(c) == VC_CALL_INITIATED);
  CHECK_STR(vc_call_customer_number(c), IN_CALLER);
  CHECK_STR(vc_call_caller_id(c), IN_DID);
  CHECK_STR(vc_call_channel_id(c), g_channel);
  CHECK_STR(vc_call_provider_id(c), parent);
  CHECK_STR(vc_call_contact_id(c), contact);
  CHECK_STR(vc_call_agent_id(c), "");
  /* 1: the support queue; alice has been available longest. */
  g_now += 4000;
  press(&e, parent, "1", &r);
  CHECK(r.status == 200);
  CHECK(strstr(r.body, "<Dial") != NULL);
  CHECK(strstr(r.body, ">" ALICE "</Number>") != NULL);
  CHECK(strstr(r.body, "callerId=\"" IN_DID "\"") != NULL);
  CHECK(in_twiml(&r, "Number", "statusCallback", target,
                 sizeof(target))[0]);
  CHECK(strstr(target, "vc_step=in_ring") != NULL);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_AGENT_RINGING);
  CHECK_STR(vc_call_agent_id(c), alice);
  CHECK_STR(vc_call_agent_number(c), ALICE);
  CHECK(in_agent_state(e.t, "alice") == VC_AGENT_RINGING);
  CHECK(in_agent_state(e.t, "bob") == VC_AGENT_AVAILABLE);
  /* The screen-pop, before the answer. */
  event_of(&e, "call.screen_pop", vc_call_id(c), pop, sizeof(pop));
  CHECK((o = cJSON_Parse(pop)) != NULL);
  CHECK_STR(cJSON_GetObjectItem(o, "call_id")->valuestring, vc_call_id(c));
  CHECK_STR(cJSON_GetObjectItem(o, "from")->valuestring, IN_CALLER);
  CHECK_STR(cJSON_GetObjectItem(o, "to")->valuestring, IN_DID);
  CHECK_STR(cJSON_GetObjectItem(o, "number_label")->valuestring,
            "Support line");
  v = cJSON_GetObjectItem(o, "contact");
  CHECK_STR(cJSON_GetObjectItem(v, "id")->valuestring, contact);
  CHECK_STR(cJSON_GetObjectItem(v, "name")->valuestring, "Asha Rao");
  v = cJSON_GetObjectItem(o, "ivr_path");
  CHECK(cJSON_GetArraySize(v) == 1);
  CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 0), "node")
              ->valuestring, "main");
  CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 0), "keys")
              ->valuestring, "1");
  CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "queue"), "name")
              ->valuestring, "support");
  v = cJSON_GetObjectItem(o, "agent");
  CHECK_STR(cJSON_GetObjectItem(v, "id")->valuestring, alice);
  CHECK_STR(cJSON_GetObjectItem(v, "name")->valuestring, "alice");
  cJSON_Delete(o);
  /* Alice's phone rings, she answers: bridged. */
  sid(child);
  g_now += 2000;
  leg(&e, &r, parent, child, "ringing", 1, NULL);
  g_now += 3000;
  leg(&e, &r, parent, child, "in-progress", 2, NULL);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_BRIDGED);
  CHECK(in_agent_state(e.t, "alice") == VC_AGENT_ON_CALL);
  /* 90 s later she hangs up: completed, priced at two minutes. */
  g_now += 90000;
  leg(&e, &r, parent, child, "completed", 3, "90");
  dial_end(&e, parent, child, "completed", "90", &r);
  CHECK(strstr(r.body, "<Hangup/>") != NULL);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  CHECK(vc_call_talk_seconds(c) == 90);
  CHECK(vc_call_cost_micros(c) == 2 * 1200000);
  CHECK_STR(vc_call_currency(c), "INR");
  CHECK(in_agent_state(e.t, "alice") == VC_AGENT_AVAILABLE);
  timeline(&e, vc_call_id(c), tl, sizeof(tl));
  CHECK_STR(tl, "initiated incoming dtmf queue agent_ring agent_ringing "
            "ringing answered agent_answered customer_ringing bridged "
            "bridged hangup completed");
  /* The caller's own hangup afterwards changes nothing. */
  caller_gone(&e, g_channel, parent);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  vc_call_free(c);
  tenant_env_close(&e);
}

/* ---- strategies ------------------------------------------------------------- */

/* A call to IN_DID pressing `digits` (NULL: no menu): the number the
 * Dial of the answer rings ("" when none), the call in *c. */
static void ring_of(env *e, const char *digits, char parent[35],
                    in_reply *r, char *target, size_t size)
{
  char *p, *q;

  sid(parent);
  arrive(e, g_channel, parent, IN_CALLER, IN_DID, r);
  CHECK(r->status == 200);
  if (digits != NULL)
    press(e, parent, digits, r);
  CHECK(r->status == 200);
  target[0] = '\0';
  if ((p = strstr(r->body, "<Number")) != NULL &&
      (p = strchr(p, '>')) != NULL && (q = strchr(p, '<')) != NULL)
    snprintf(target, size, "%.*s", (int)(q - p - 1), p + 1);
}

/* Answer and end the call the Dial of *r rings, after `talk_ms`. */
static void talk(env *e, const char *parent, in_reply *r, int64_t talk_ms)
{
  char child[35];

  sid(child);
  leg(e, r, parent, child, "in-progress", 1, NULL);
  g_now += talk_ms;
  dial_end(e, parent, child, "completed", "10", r);
  CHECK(strstr(r->body, "<Hangup/>") != NULL);
}

static void test_inbound__strategies(void)
{
  char parent[35], who[64];
  in_reply r;
  env e;

  /* Round robin: alice, bob, alice, whoever was idle longest. */
  setup(&e, VC_QUEUE_ROUND_ROBIN);
  for (int i = 0; i < 3; i++) {
    g_now += 1000;
    ring_of(&e, "1", parent, &r, who, sizeof(who));
    CHECK_STR(who, i % 2 == 0 ? ALICE : BOB);
    talk(&e, parent, &r, 5000);
  }
  tenant_env_close(&e);
  /* Longest idle: alice (available first), then bob (alice just hung
   * up), then alice. */
  setup(&e, VC_QUEUE_LONGEST_IDLE);
  for (int i = 0; i < 3; i++) {
    g_now += 1000;
    ring_of(&e, "1", parent, &r, who, sizeof(who));
    CHECK_STR(who, i % 2 == 0 ? ALICE : BOB);
    talk(&e, parent, &r, 5000);
  }
  tenant_env_close(&e);
  /* Ring all, one leg at a time: the longest idle first; the next when
   * the first does not answer. */
  setup(&e, VC_QUEUE_RING_ALL);
  g_now += 1000;
  ring_of(&e, "1", parent, &r, who, sizeof(who));
  CHECK_STR(who, ALICE);
  g_now += 20000;
  dial_end(&e, parent, "CA00000000000000000000000000000999", "no-answer",
           NULL, &r);
  CHECK(strstr(r.body, ">" BOB "</Number>") != NULL);
  CHECK(in_agent_state(e.t, "alice") == VC_AGENT_AVAILABLE);
  CHECK(in_agent_state(e.t, "bob") == VC_AGENT_RINGING);
  talk(&e, parent, &r, 5000);
  tenant_env_close(&e);
  /* By skill: the call wants hindi; only bob has it, though alice has
   * been idle longer. */
  open_env(&e);
  in_channel(e.t, "twilio", g_channel);
  in_agent(e.t, "alice", ALICE, 1);
  g_now += 1000;
  in_agent(e.t, "bob", BOB, 1);
  in_queue(e.t, "support", VC_QUEUE_BY_SKILL, 300, VC_QUEUE_OVERFLOW_HANGUP,
           NULL, "alice:english bob:hindi,english", 0);
  in_menu(e.t, "main",
          "{\"version\":1,\"entry\":\"main\",\"nodes\":{\"main\":{\"prompt\":"
          "{\"say\":\"1 English, 2 Hindi\"},\"options\":{"
          "\"1\":{\"action\":\"queue\",\"queue\":\"support\","
          "\"skills\":\"english\"},"
          "\"2\":{\"action\":\"queue\",\"queue\":\"support\","
          "\"skills\":\"hindi\"}}}}}");
  in_number(e.t, IN_DID, "twilio", VC_NUMBER_ENTRY_IVR, "main", NULL);
  g_now += 1000;
  ring_of(&e, "2", parent, &r, who, sizeof(who));
  CHECK_STR(who, BOB);
  ring_of(&e, "1", parent, &r, who, sizeof(who));
  CHECK_STR(who, ALICE);
  tenant_env_close(&e);
}

/* ---- agents who miss the call -------------------------------------------------- */

static void test_inbound__agent_misses(void)
{
  char parent[35], who[64], tl[2048];
  in_reply r, first;
  vc_call *c;
  env e;

  setup(&e, VC_QUEUE_LONGEST_IDLE);
  ring_of(&e, "1", parent, &r, who, sizeof(who));
  CHECK_STR(who, ALICE);
  c = call_of(&e, &r);
  first = r;
  /* Alice does not answer: released, bob rings. */
  g_now += 20000;
  leg(&e, &r, parent, "CA000000000000000000000000000000a1", "no-answer", 1,
      NULL);
  CHECK(in_agent_state(e.t, "alice") == VC_AGENT_AVAILABLE);
  dial_end(&e, parent, "CA000000000000000000000000000000a1", "no-answer",
           NULL, &r);
  CHECK(strstr(r.body, ">" BOB "</Number>") != NULL);
  /* A late callback of alice's ring says it answered: it is about a leg
   * let go, so it neither bridges the call nor takes alice. */
  leg(&e, &first, parent, "CA000000000000000000000000000000a1",
      "in-progress", 2, NULL);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_AGENT_RINGING);
  CHECK(in_agent_state(e.t, "alice") == VC_AGENT_AVAILABLE);
  CHECK(in_agent_state(e.t, "alice") == VC_AGENT_AVAILABLE);
  CHECK(in_agent_state(e.t, "bob") == VC_AGENT_RINGING);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_AGENT_RINGING);
  CHECK_STR(vc_call_agent_number(c), BOB);
  /* Bob's phone is offline: unreachable mid-ring; released; alice again
   * (idle longer than bob now). */
  g_now += 3000;
  dial_end(&e, parent, "CA000000000000000000000000000000b1", "failed", NULL,
           &r);
  CHECK(strstr(r.body, ">" ALICE "</Number>") != NULL);
  CHECK(in_agent_state(e.t, "bob") == VC_AGENT_AVAILABLE);
  talk(&e, parent, &r, 10000);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(in_agent_state(e.t, "alice") == VC_AGENT_AVAILABLE);
  CHECK(in_agent_state(e.t, "bob") == VC_AGENT_AVAILABLE);
  timeline(&e, vc_call_id(c), tl, sizeof(tl));
  CHECK_STR(tl, "initiated incoming dtmf queue agent_ring agent_ringing "
            "hangup agent_missed agent_ring hangup agent_missed agent_ring "
            "answered agent_answered customer_ringing bridged bridged "
            "hangup completed");
  vc_call_free(c);
  tenant_env_close(&e);
}

/* ---- the caller hangs up ----------------------------------------------------------- */

static void test_inbound__abandoned(void)
{
  char parent[35], who[64];
  vc_queue *q;
  in_reply r;
  vc_call *c;
  env e;
  int pos;

  setup(&e, VC_QUEUE_LONGEST_IDLE);
  /* While alice's phone rings. */
  ring_of(&e, "1", parent, &r, who, sizeof(who));
  c = call_of(&e, &r);
  g_now += 4000;
  caller_gone(&e, g_channel, parent);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_CANCELED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_ABANDONED);
  CHECK(in_agent_state(e.t, "alice") == VC_AGENT_AVAILABLE);
  /* Twilio ends the dial too: nothing more. */
  dial_end(&e, parent, "CA000000000000000000000000000000c1", "canceled",
           NULL, &r);
  CHECK(strstr(r.body, "<Hangup/>") != NULL);
  CHECK(in_agent_state(e.t, "alice") == VC_AGENT_AVAILABLE);
  vc_call_free(c);
  /* While waiting: nobody is available. */
  {
    vc_agent *a;
    CHECK_OK(vc_agent_lookup(&a, e.t, "alice"));
    CHECK_OK(vc_agent_set_state(a, VC_AGENT_BREAK, "lunch"));
    vc_agent_free(a);
    CHECK_OK(vc_agent_lookup(&a, e.t, "bob"));
    CHECK_OK(vc_agent_set_state(a, VC_AGENT_OFFLINE, NULL));
    vc_agent_free(a);
  }
  ring_of(&e, "1", parent, &r, who, sizeof(who));
  CHECK_STR(who, "");
  CHECK(strstr(r.body, "<Pause length=\"5\"/>") != NULL);
  c = call_of(&e, &r);
  redirect(&e, parent, &r);
  CHECK(strstr(r.body, "<Redirect") != NULL);
  caller_gone(&e, g_channel, parent);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_CANCELED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_ABANDONED);
  CHECK_OK(vc_queue_lookup(&q, e.t, "support"));
  pos = 0;
  CHECK_RC(vc_queue_delete(q), 0); /* nobody waits in it any more */
  (void)pos;
  vc_queue_free(q);
  vc_call_free(c);
  tenant_env_close(&e);
}

/* ---- overflow ------------------------------------------------------------------------ */

static int count_events(env *e, const char *type, const char *subject)
{
  const vc_event *ev;
  vc_iter *it;
  int n = 0;

  CHECK_OK(vc_events_since(&it, e->t, 0));
  while (vc_event_next(&ev, it) == 0)
    n += strcmp(ev->type, type) == 0 &&
         strcmp(ev->subject_id, subject) == 0;
  vc_iter_free(it);
  return n;
}

static void test_inbound__overflow_voicemail_inbox(void)
{
  char parent[35], target[1200];
  vc_conversation_item_filter f = VC_CONVERSATION_ITEM_FILTER_INIT;
  vc_conversation_item *item;
  vc_conversation *conv;
  vc_contact *ct;
  vc_iter *it;
  in_reply r;
  vc_call *c;
  int n = 0, found = 0;
  env e;

  open_env(&e);
  in_channel(e.t, "twilio", g_channel);
  in_agent(e.t, "alice", ALICE, 0); /* offline */
  in_queue(e.t, "sales", 0, 60, VC_QUEUE_OVERFLOW_VOICEMAIL, NULL, "alice",
           1);
  in_number(e.t, IN_DID, "twilio", VC_NUMBER_ENTRY_QUEUE, "sales", NULL);
  sid(parent);
  arrive(&e, g_channel, parent, IN_CALLER, IN_DID, &r);
  CHECK(strstr(r.body, "You are number 1 in line.") != NULL);
  c = call_of(&e, &r);
  g_now += 30000;
  redirect(&e, parent, &r);
  CHECK(strstr(r.body, "<Redirect") != NULL);
  /* The wait is over: a voicemail. */
  g_now += 31000;
  redirect(&e, parent, &r);
  CHECK(strstr(r.body, "<Record playBeep=\"true\"") != NULL);
  CHECK(in_twiml(&r, "Record", "action", target, sizeof(target))[0]);
  CHECK(strstr(target, "vc_step=in_record") != NULL);
  CHECK(strstr(r.body, "recordingStatusCallback=") != NULL);
  {
    const char *kv[] = { "AccountSid", IN_ACCOUNT, "CallSid", parent,
                         "RecordingSid", "RE0123456789abcdef0123456789abcdef",
                         "RecordingUrl", "https://api.twilio.com/rec/RE1",
                         "RecordingDuration", "14", "Digits", "#" };
    g_now += 15000;
    post(&e, target, kv, 6, &r);
    CHECK(r.status == 200);
    CHECK(strstr(r.body, "<Hangup/>") != NULL);
    /* Its recording status callback is the same recording. */
    snprintf(strstr(target, "in_record"), 10, "recording");
    post(&e, target, kv, 5, &r);
    CHECK(r.status == 200);
  }
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_NO_ANSWER);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_VOICEMAIL);
  CHECK(count_events(&e, "call.voicemail", vc_call_id(c)) == 1);
  /* The unknown caller became a contact; the voicemail is in its
   * conversation, open with one unread. */
  CHECK_OK(vc_contact_find_by_address(&ct, e.t, VC_ADDRESS_PHONE,
                                      IN_CALLER));
  CHECK_OK(vc_conversation_lookup_contact(&conv, e.t, vc_contact_id(ct)));
  CHECK(vc_conversation_status_of(conv) == VC_CONVERSATION_OPEN);
  CHECK(vc_conversation_unread(conv) == 1);
  f.conversation_id = vc_conversation_id(conv);
  CHECK_OK(vc_conversation_items(&it, e.t, &f));
  while (vc_conversation_item_next(&item, it) == 0) {
    n++;
    if (vc_conversation_item_type_of(item) == VC_CONVERSATION_ITEM_VOICEMAIL)
    {
      found++;
      CHECK_STR(vc_conversation_item_type_name(
                  vc_conversation_item_type_of(item)), "voicemail");
      CHECK_STR(vc_conversation_item_id(item), vc_call_id(c));
      CHECK_STR(vc_conversation_item_recording_url(item),
                "https://api.twilio.com/rec/RE1");
      CHECK(vc_conversation_item_duration(item) == 14);
      CHECK(vc_conversation_item_status(item) == VC_CALL_NO_ANSWER);
    }
    vc_conversation_item_free(item);
  }
  vc_iter_free(it);
  CHECK(found == 1);
  CHECK(n == 2); /* the call and its voicemail */
  vc_conversation_free(conv);
  vc_contact_free(ct);
  vc_call_free(c);
  tenant_env_close(&e);
}

static void test_inbound__overflow_queue_callback_hangup(void)
{
  char parent[35], bob[VC_ID_SIZE], pl[1024];
  in_reply r;
  vc_call *c;
  env e;

  open_env(&e);
  in_channel(e.t, "twilio", g_channel);
  in_agent(e.t, "alice", ALICE, 1);
  in_agent(e.t, "bob", BOB, 0);
  in_agent_id(e.t, "bob", bob);
  /* "empty" has no members: it overflows at once, to "second". */
  in_queue(e.t, "second", 0, 300, VC_QUEUE_OVERFLOW_HANGUP, NULL, "alice",
           0);
  in_queue(e.t, "empty", 0, 300, VC_QUEUE_OVERFLOW_QUEUE, "second", NULL, 0);
  in_queue(e.t, "later", 0, 30, VC_QUEUE_OVERFLOW_CALLBACK, "bob", "bob", 0);
  in_queue(e.t, "closed", 0, 30, VC_QUEUE_OVERFLOW_HANGUP, NULL, "bob", 0);
  in_number(e.t, IN_DID, "twilio", VC_NUMBER_ENTRY_QUEUE, "empty", NULL);
  in_number(e.t, "+914412345679", "twilio", VC_NUMBER_ENTRY_QUEUE, "later",
            NULL);
  in_number(e.t, "+914412345680", "twilio", VC_NUMBER_ENTRY_QUEUE, "closed",
            NULL);
  sid(parent);
  arrive(&e, g_channel, parent, IN_CALLER, IN_DID, &r);
  CHECK(strstr(r.body, ">" ALICE "</Number>") != NULL);
  c = call_of(&e, &r);
  CHECK(vc_call_state_of(c) == VC_CALL_AGENT_RINGING);
  vc_call_free(c);
  /* Callback: bob is offline; after the 30 s. */
  sid(parent);
  arrive(&e, g_channel, parent, IN_CALLER, "+914412345679", &r);
  CHECK(strstr(r.body, "<Redirect") != NULL);
  c = call_of(&e, &r);
  g_now += 31000;
  redirect(&e, parent, &r);
  CHECK(strstr(r.body, "call you back") != NULL);
  CHECK(strstr(r.body, "<Hangup/>") != NULL);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_NO_ANSWER);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_CALLBACK);
  event_of(&e, "call.callback_requested", vc_call_id(c), pl, sizeof(pl));
  CHECK(strstr(pl, bob) != NULL);
  CHECK(strstr(pl, IN_CALLER) != NULL);
  vc_call_free(c);
  /* Hangup: the queue's timeout. */
  sid(parent);
  arrive(&e, g_channel, parent, IN_CALLER, "+914412345680", &r);
  c = call_of(&e, &r);
  g_now += 31000;
  redirect(&e, parent, &r);
  CHECK(strstr(r.body, "<Hangup/>") != NULL);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_NO_ANSWER);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_QUEUE_TIMEOUT);
  vc_call_free(c);
  tenant_env_close(&e);
}

/* ---- bad arrivals ---------------------------------------------------------------------- */

static int count_calls(vc_tenant *t)
{
  vc_iter *it;
  vc_call *c;
  int n = 0;

  CHECK_OK(vc_call_list(&it, t, NULL));
  while (vc_call_next(&c, it) == 0) {
    vc_call_free(c);
    n++;
  }
  vc_iter_free(it);
  return n;
}

static void test_inbound__unknown_number_and_isolation(void)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  char parent[35], other_channel[VC_ID_SIZE];
  vc_tenant *other;
  in_reply r;
  vc_call *c;
  env e;

  setup(&e, 0);
  ts.slug = "globex";
  CHECK_OK(vc_tenant_new(&other, e.ctx, &ts));
  in_channel(other, "twilio", other_channel);
  in_agent(other, "carol", CAROL, 1);
  in_number(other, "+914455555555", "twilio", VC_NUMBER_ENTRY_AGENT, "carol",
            NULL);
  /* A number nobody has. */
  sid(parent);
  arrive(&e, g_channel, parent, IN_CALLER, "+914400000001", &r);
  CHECK(r.status == 200);
  CHECK(strstr(r.body, "<Hangup/>") != NULL);
  CHECK(strstr(r.body, "<Dial") == NULL);
  CHECK(count_calls(e.t) == 1);
  /* Twilio's retry: the same refusal, still one call. */
  {
    in_reply again;
    arrive(&e, g_channel, parent, IN_CALLER, "+914400000001", &again);
    CHECK_STR(again.body, r.body);
  }
  CHECK(count_calls(e.t) == 1);
  {
    vc_iter *it;
    CHECK_OK(vc_call_list(&it, e.t, NULL));
    CHECK_OK(vc_call_next(&c, it));
    vc_iter_free(it);
  }
  CHECK(vc_call_state_of(c) == VC_CALL_FAILED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_UNKNOWN_NUMBER);
  CHECK(vc_call_direction_of(c) == VC_CALL_INBOUND);
  vc_call_free(c);
  /* The other tenant's number, on this tenant's channel: unknown here,
   * nothing for the other tenant. */
  sid(parent);
  arrive(&e, g_channel, parent, IN_CALLER, "+914455555555", &r);
  CHECK(strstr(r.body, "<Hangup/>") != NULL);
  CHECK(strstr(r.body, CAROL) == NULL);
  CHECK(count_calls(e.t) == 2);
  CHECK(count_calls(other) == 0);
  CHECK(in_agent_state(other, "carol") == VC_AGENT_AVAILABLE);
  /* On its own channel it rings carol; this tenant cannot see it. */
  sid(parent);
  arrive(&e, other_channel, parent, IN_CALLER, "+914455555555", &r);
  CHECK(strstr(r.body, ">" CAROL "</Number>") != NULL);
  CHECK(count_calls(other) == 1);
  {
    char id[VC_ID_SIZE], target[1200];
    CHECK(in_twiml(&r, "Dial", "action", target, sizeof(target))[0]);
    in_call_of(target, id);
    CHECK_RC(vc_call_lookup(&c, e.t, id), VC_ENOTFOUND);
    /* Its URLs on this tenant's channel name no call of it. */
    snprintf(strstr(target, other_channel), VC_ID_SIZE, "%s", g_channel);
    target[strlen("/webhooks/") + 26] = '?';
    {
      const char *kv[] = { "AccountSid", IN_ACCOUNT, "CallSid", parent,
                           "DialCallStatus", "completed" };
      post(&e, target, kv, 3, &r);
    }
    CHECK(strstr(r.body, "<Hangup/>") != NULL);
    CHECK(in_agent_state(other, "carol") == VC_AGENT_RINGING);
  }
  vc_tenant_free(other);
  tenant_env_close(&e);
}

static void test_inbound__malformed(void)
{
  char target[128];
  in_reply r;
  env e;

  setup(&e, 0);
  snprintf(target, sizeof(target), "/webhooks/%s", g_channel);
  {
    const char *no_to[] = { "AccountSid", IN_ACCOUNT, "CallSid",
                            "CA00000000000000000000000000000001",
                            "From", IN_CALLER, "Direction", "inbound",
                            "CallStatus", "ringing" };
    post(&e, target, no_to, 5, &r);
    CHECK(r.status == 400);
  }
  {
    const char *no_sid[] = { "AccountSid", IN_ACCOUNT, "From", IN_CALLER,
                             "To", IN_DID, "Direction", "inbound",
                             "CallStatus", "ringing" };
    post(&e, target, no_sid, 5, &r);
    CHECK(r.status == 400);
  }
  {
    const char *outbound[] = { "AccountSid", IN_ACCOUNT, "CallSid",
                               "CA00000000000000000000000000000002",
                               "From", IN_CALLER, "To", IN_DID,
                               "Direction", "outbound-api",
                               "CallStatus", "ringing" };
    post(&e, target, outbound, 6, &r);
    CHECK(r.status == 400);
  }
  {
    const char *kv[] = { "AccountSid", IN_ACCOUNT, "CallSid",
                         "CA00000000000000000000000000000003",
                         "From", IN_CALLER, "To", IN_DID,
                         "Direction", "inbound", "CallStatus", "ringing" };
    in_post_ctx(e.ctx, target, kv, 6, NULL, &r);
    CHECK(r.status == 401);
    in_post_ctx(e.ctx, target, kv, 6, "00000000000000000000000000000000",
                &r);
    CHECK(r.status == 401);
  }
  CHECK(count_calls(e.t) == 0);
  CHECK(in_agent_state(e.t, "alice") == VC_AGENT_AVAILABLE);
  tenant_env_close(&e);
}

/* ---- the watchdog --------------------------------------------------------------------- */

static void test_inbound__watchdog(void)
{
  char parent[35];
  in_reply r;
  vc_call *c;
  env e;

  open_env(&e);
  in_channel(e.t, "twilio", g_channel);
  in_agent(e.t, "alice", ALICE, 0);
  in_queue(e.t, "support", 0, 0, VC_QUEUE_OVERFLOW_HANGUP, NULL, "alice", 0);
  in_number(e.t, IN_DID, "twilio", VC_NUMBER_ENTRY_QUEUE, "support", NULL);
  sid(parent);
  arrive(&e, g_channel, parent, IN_CALLER, IN_DID, &r);
  CHECK(strstr(r.body, "<Redirect") != NULL);
  c = call_of(&e, &r);
  /* The provider stops fetching, and says nothing more. */
  g_now += 200000;
  for (int i = 0; i < 5; i++)
    vc_ctx_run(e.ctx, 0);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_INITIATED);
  g_now += 101000;
  for (int i = 0; i < 5; i++)
    vc_ctx_run(e.ctx, 0);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_state_of(c) == VC_CALL_CANCELED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_ABANDONED);
  vc_call_free(c);
  tenant_env_close(&e);
}

/* ---- missed calls and rules ------------------------------------------------------ */

static void test_inbound__missed_call_rules(void)
{
  vc_channel_spec chs = VC_CHANNEL_SPEC_INIT;
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  vc_rule_spec rs = VC_RULE_SPEC_INIT;
  vc_rule_action acts[2] = { VC_RULE_ACTION_INIT, VC_RULE_ACTION_INIT };
  char parent[35], who[64], bob[VC_ID_SIZE], tl[2048], det[512];
  char missed[VC_ID_SIZE];
  vc_call_filter f = VC_CALL_FILTER_INIT;
  vc_call_entry *en;
  vc_message *m;
  vc_template *tpl;
  vc_rule *rule;
  vc_iter *it;
  vc_call *c, *cb;
  in_reply r;
  int64_t ended;
  int n;
  env e;

  setup(&e, VC_QUEUE_LONGEST_IDLE);
  in_agent_id(e.t, "bob", bob);
  chs.name = "sms";
  chs.provider = "sandbox-sms";
  chs.config_json = "{}";
  chs.credentials_json = "{}";
  chs.sender = "+14155550999";
  CHECK_OK(vc_channel_new(NULL, e.t, &chs));
  ts.name = "missed";
  ts.kind = VC_CHANNEL_SMS;
  ts.text_body = "Sorry we missed your call. We will call you back.";
  CHECK_OK(vc_template_new(&tpl, e.t, &ts));
  vc_template_free(tpl);
  acts[0].kind = VC_RULE_SEND_TEMPLATE;
  acts[0].template_name = "missed";
  acts[0].channel = "sms";
  acts[1].kind = VC_RULE_CALLBACK;
  acts[1].agent = "bob";
  rs.name = "missed inbound";
  rs.trigger = VC_RULE_ON_CALL;
  rs.causes = (1u << VC_CAUSE_ABANDONED) | (1u << VC_CAUSE_QUEUE_TIMEOUT) |
              (1u << VC_CAUSE_CALLBACK);
  rs.direction = VC_CALL_INBOUND;
  rs.callback_delay_s = 600;
  rs.actions = acts;
  rs.nactions = 2;
  /* A callback only where it cannot loop: inbound calls. */
  rs.direction = 0;
  CHECK_RC(vc_rule_new(&rule, e.t, &rs), VC_EINVALID);
  rs.direction = 3;
  CHECK_RC(vc_rule_new(&rule, e.t, &rs), VC_EINVALID);
  rs.direction = VC_CALL_INBOUND;
  acts[1].agent = "nobody";
  CHECK_RC(vc_rule_new(&rule, e.t, &rs), VC_ENOTFOUND);
  acts[1].agent = "bob";
  CHECK_OK(vc_rule_new(&rule, e.t, &rs));
  vc_rule_free(rule);
  /* A call answered and completed: nothing. */
  ring_of(&e, "1", parent, &r, who, sizeof(who));
  talk(&e, parent, &r, 5000);
  /* The caller hangs up while alice rings: missed. */
  g_now += 60000;
  ring_of(&e, "1", parent, &r, who, sizeof(who));
  c = call_of(&e, &r);
  g_now += 8000;
  caller_gone(&e, g_channel, parent);
  CHECK_OK(vc_call_refresh(c));
  CHECK(vc_call_cause_of(c) == VC_CAUSE_ABANDONED);
  ended = vc_call_state_at(c, VC_CALL_CANCELED);
  snprintf(missed, sizeof(missed), "%s", vc_call_id(c));
  vc_call_free(c);
  /* The callback: a click-to-call from bob to the caller, initiated,
   * placed ten minutes after the missed call ended. */
  f.direction = VC_CALL_OUTBOUND;
  CHECK_OK(vc_call_list(&it, e.t, &f));
  n = 0;
  cb = NULL;
  while (vc_call_next(&c, it) == 0) {
    if (n++ == 0)
      cb = c;
    else
      vc_call_free(c);
  }
  vc_iter_free(it);
  CHECK(n == 1);
  CHECK(vc_call_state_of(cb) == VC_CALL_INITIATED);
  CHECK(vc_call_direction_of(cb) == VC_CALL_OUTBOUND);
  CHECK_STR(vc_call_agent_id(cb), bob);
  CHECK_STR(vc_call_customer_number(cb), IN_CALLER);
  CHECK_STR(vc_call_caller_id(cb), IN_DID);
  CHECK(strstr(vc_call_metadata_json(cb), missed) != NULL);
  timeline(&e, vc_call_id(cb), tl, sizeof(tl));
  CHECK_STR(tl, "initiated deferred");
  CHECK_OK(vc_call_timeline(&it, e.t, vc_call_id(cb)));
  det[0] = '\0';
  while (vc_call_entry_next(&en, it) == 0) {
    if (strcmp(vc_call_entry_type(en), "deferred") == 0)
      snprintf(det, sizeof(det), "%s", vc_call_entry_detail_json(en));
    vc_call_entry_free(en);
  }
  vc_iter_free(it);
  {
    char want[128];
    snprintf(want, sizeof(want), "{\"reason\":\"callback\",\"due_at\":%lld}",
             (long long)(ended + 600000));
    CHECK_STR(det, want);
  }
  /* Bob is not claimed before the callback is placed. */
  CHECK(in_agent_state(e.t, "bob") == VC_AGENT_AVAILABLE);
  /* The "we missed your call" message, queued through the template. */
  CHECK_OK(vc_message_list(&it, e.t, NULL));
  n = 0;
  while (vc_message_next(&m, it) == 0) {
    n++;
    CHECK_STR(vc_message_to(m), IN_CALLER);
    CHECK(vc_message_status(m) == VC_MSG_QUEUED);
    vc_message_free(m);
  }
  vc_iter_free(it);
  CHECK(n == 1);
  vc_call_free(cb);
  tenant_env_close(&e);
}

VC_TESTS(
  VC_TEST(test_inbound__ivr_queue_agent_bridge),
  VC_TEST(test_inbound__strategies),
  VC_TEST(test_inbound__agent_misses),
  VC_TEST(test_inbound__abandoned),
  VC_TEST(test_inbound__overflow_voicemail_inbox),
  VC_TEST(test_inbound__overflow_queue_callback_hangup),
  VC_TEST(test_inbound__unknown_number_and_isolation),
  VC_TEST(test_inbound__malformed),
  VC_TEST(test_inbound__watchdog),
  VC_TEST(test_inbound__missed_call_rules),
)
