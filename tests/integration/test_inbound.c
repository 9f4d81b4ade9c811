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

/* A tenant with its channel, a support queue (alice and bob), the menu
 * and the number. */
static void setup(env *e, int strategy)
{
  tenant_env_open(e, "in.db", KEY, 8, IN_BASE);
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
  if (r.status != 200)
    fprintf(stderr, "%d %s (%s)\n", r.status, r.body, vc_error_last()->message);
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

VC_TESTS(
  VC_TEST(test_inbound__ivr_queue_agent_bridge),
)
