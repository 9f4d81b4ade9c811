/*
 * Inbound calls end to end over loopback, public API only: the provider
 * simulator plays a customer calling one of the tenant's numbers, for
 * Twilio (the incoming-call webhook, then the TwiML the library answers:
 * the menu's Gather, the queue's Dial of the agent picked, the Dial's
 * action) and for Exotel (the library's flow of applets: the arrival
 * Passthru, the Gather and Connect dynamic URLs, the Passthru after the
 * Connect), posting to vc_webhook_listen() with libcurl. SQLite on disk,
 * the wall clock (the simulator keeps real time).
 *
 * Cases, for each provider: the caller goes through the IVR to the
 * queue, the agent picked answers, talks and hangs up: the call's
 * states, timeline, screen-pop event (contact, IVR path, queue, agent)
 * and cost from the rate card, the agent free again; the caller hangs
 * up while waiting in the queue: canceled, abandoned. Malformed and
 * forged incoming webhooks: refused with a 4xx, nothing stored. Another
 * tenant's channel cannot take the tenant's number.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "net_util.h"
#include "cost_check.h"
#include "twilio_sign.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <unistd.h>

#define DID "+918047112345"          /* the tenant's number */
#define DID_EXOTEL "08047112345"     /* as Exotel writes it */
#define CALLER "+919876543210"
#define CALLER_EXOTEL "09876543210"
#define ALICE "+919812340001"
#define BOB "+919812340002"
#define SECRET "exotel-inbound-webhook-secret-0123456789"
#define RATE 1200000                  /* INR per minute, micro-units */

#define MENU \
  "{\"version\":1,\"entry\":\"main\",\"nodes\":{\"main\":{\"prompt\":" \
  "{\"say\":\"Press 1 for support.\"},\"options\":{" \
  "\"1\":{\"action\":\"queue\",\"queue\":\"support\"}}}}}"

typedef struct env {
  vc_sim *sim;
  vc_ctx *ctx;
  vc_tenant *t;
  char base[64];
  char channel[VC_ID_SIZE];
  const char *provider;
} env;

static void env_open(env *e, const char *provider, const char *db)
{
  static const uint8_t key[32] = { 9, 1, 9 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  char addr[32], setting[48];
  vc_store *store;
  int port = 0, tries = 0;

  memset(e, 0, sizeof(*e));
  e->provider = provider;
  CHECK_OK(vc_sim_start(&e->sim, NULL));
  snprintf(setting, sizeof(setting), "%s.ring_ms", provider);
  CHECK_OK(vc_sim_set(e->sim, setting, "100"));
  snprintf(setting, sizeof(setting), "%s.talk_ms", provider);
  CHECK_OK(vc_sim_set(e->sim, setting, "2500"));
  snprintf(setting, sizeof(setting), "%s.pause_ms", provider);
  CHECK_OK(vc_sim_set(e->sim, setting, "10"));
  mk.key = key;
  mk.key_len = 32;
  o.master_key = &mk;
  o.allow_private_network = 1;
  do {
    vc_ctx_free(e->ctx);
    e->ctx = NULL;
    port = free_port();
    snprintf(e->base, sizeof(e->base), "http://127.0.0.1:%d", port);
    CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(db), NULL));
    o.store = store;
    o.public_base_url = e->base;
    CHECK_OK(vc_ctx_new(&e->ctx, &o));
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  } while (vc_webhook_listen(e->ctx, addr) != port && ++tries < 5);
  CHECK(tries < 5);
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
  vc_sim_stop(e->sim);
}

static void agent(env *e, const char *name, const char *number, int avail)
{
  vc_agent_spec s = VC_AGENT_SPEC_INIT;
  vc_agent *a;

  s.name = name;
  s.number = number;
  s.wrap_up_s = 0;
  CHECK_OK(vc_agent_new(&a, e->t, &s));
  if (avail)
    CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
  vc_agent_free(a);
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

/* The channel, two agents in the support queue, the menu, the number,
 * the caller's contact and the provider's rate card. */
static void setup(env *e, int agents_available)
{
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_queue_spec qs = VC_QUEUE_SPEC_INIT;
  vc_ivr_menu_spec ms = VC_IVR_MENU_SPEC_INIT;
  vc_number_spec ns = VC_NUMBER_SPEC_INIT;
  vc_contact_spec ct = VC_CONTACT_SPEC_INIT;
  char config[256], creds[256], contact[VC_ID_SIZE];
  vc_channel *ch;
  vc_queue *q;

  if (strcmp(e->provider, "twilio-voice") == 0) {
    snprintf(config, sizeof(config), "{\"account_sid\":\"%s\",\"base_url\":"
             "\"%s\"}", VC_SIM_TWILIO_ACCOUNT_SID, vc_sim_base_url(e->sim));
    snprintf(creds, sizeof(creds), "{\"auth_token\":\"%s\"}",
             VC_SIM_TWILIO_AUTH_TOKEN);
  } else {
    snprintf(config, sizeof(config), "{\"account_sid\":\"%s\",\"base_url\":"
             "\"%s\"}", VC_SIM_EXOTEL_ACCOUNT_SID, vc_sim_base_url(e->sim));
    snprintf(creds, sizeof(creds), "{\"api_key\":\"%s\",\"api_token\":\"%s\","
             "\"webhook_secret\":\"" SECRET "\"}", VC_SIM_EXOTEL_API_KEY,
             VC_SIM_EXOTEL_API_TOKEN);
  }
  cs.name = "voice";
  cs.provider = e->provider;
  cs.config_json = config;
  cs.credentials_json = creds;
  cs.sender = DID;
  CHECK_OK(vc_channel_new(&ch, e->t, &cs));
  snprintf(e->channel, sizeof(e->channel), "%s", vc_channel_id(ch));
  vc_channel_free(ch);
  agent(e, "alice", ALICE, agents_available);
  agent(e, "bob", BOB, 0);
  qs.name = "support";
  qs.max_wait_s = 300;
  CHECK_OK(vc_queue_new(&q, e->t, &qs));
  CHECK_OK(vc_queue_member_add(q, "alice", NULL));
  CHECK_OK(vc_queue_member_add(q, "bob", NULL));
  vc_queue_free(q);
  ms.name = "main";
  ms.definition_json = MENU;
  CHECK_OK(vc_ivr_menu_new(NULL, e->t, &ms));
  ns.number = DID;
  ns.channel = "voice";
  ns.entry_kind = VC_NUMBER_ENTRY_IVR;
  ns.entry = "main";
  ns.label = "Support line";
  CHECK_OK(vc_number_new(NULL, e->t, &ns));
  ct.name = "Asha Rao";
  ct.phone = CALLER;
  CHECK_OK(vc_contact_upsert(contact, e->t, &ct));
  cost_card(e->t, e->provider, RATE, 60, 60, 0);
}

/* The number's URLs at the provider: Twilio's Voice URL (and status
 * callback) is the channel's webhook URL; Exotel's flow carries the
 * token of "inbound" and the applet's step. */
static void urls(env *e, char *voice, char *status, size_t size)
{
  unsigned char mac[32];
  char token[65];

  if (strcmp(e->provider, "twilio-voice") == 0) {
    snprintf(voice, size, "%s/webhooks/%s", e->base, e->channel);
    snprintf(status, size, "%s", voice);
    return;
  }
  CHECK(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                        (const unsigned char *)SECRET, strlen(SECRET),
                        (const unsigned char *)"inbound", 7, mac) == 0);
  for (int i = 0; i < 32; i++)
    snprintf(token + 2 * i, 3, "%02x", mac[i]);
  snprintf(voice, size, "%s/webhooks/%s?vc_call=inbound&vc_step={step}"
           "&vc_token=%s", e->base, e->channel, token);
  snprintf(status, size, "%s/webhooks/%s?vc_call=inbound&vc_step=status"
           "&vc_token=%s", e->base, e->channel, token);
}

/* The customer calls; returns when the simulator's side is over. */
static void call_in(env *e, const char *digits, const char *hangup_verb,
                    unsigned hangup_count, char *sid, char *log,
                    size_t size)
{
  vc_sim_incoming in = VC_SIM_INCOMING_INIT;
  char voice[512], status[512];
  int twilio = strcmp(e->provider, "twilio-voice") == 0;

  urls(e, voice, status, sizeof(voice));
  in.voice_url = voice;
  in.status_url = status;
  in.from = twilio ? CALLER : CALLER_EXOTEL;
  in.to = twilio ? DID : DID_EXOTEL;
  in.digits = digits;
  in.hangup_verb = hangup_verb;
  in.hangup_count = hangup_count;
  CHECK_OK(twilio ? vc_sim_twilio_incoming(e->sim, &in, sid)
                  : vc_sim_exotel_incoming(e->sim, &in, sid));
  CHECK_OK(vc_sim_incoming_wait(e->sim, e->provider, sid, 20000));
  CHECK(vc_sim_incoming_log(e->sim, e->provider, sid, log, size) > 0);
  /* the status callback is posted before the run ends: settle it */
  for (int i = 0; i < 50; i++) {
    vc_sim_webhook_stats st;
    vc_sim_webhooks_stats(e->sim, &st);
    if (st.pending == 0)
      break;
    usleep(10000);
  }
}

/* The only inbound call of the tenant. */
static vc_call *the_call(env *e)
{
  vc_call_filter f = VC_CALL_FILTER_INIT;
  vc_call *c = NULL, *extra = NULL;
  vc_iter *it;

  f.direction = VC_CALL_INBOUND;
  CHECK_OK(vc_call_list(&it, e->t, &f));
  CHECK_OK(vc_call_next(&c, it));
  CHECK(vc_call_next(&extra, it) == VC_ITEROVER);
  vc_iter_free(it);
  CHECK_OK(vc_call_refresh(c));
  return c;
}

static int inbound_calls(env *e)
{
  vc_call_filter f = VC_CALL_FILTER_INIT;
  vc_call *c;
  vc_iter *it;
  int n = 0;

  CHECK_OK(vc_call_list(&it, e->t, &f));
  while (vc_call_next(&c, it) == 0) {
    vc_call_free(c);
    n++;
  }
  vc_iter_free(it);
  return n;
}

/* The timeline's entry types (a state change by its state),
 * space-separated. */
static void timeline(env *e, const char *id, char *out, size_t size)
{
  vc_call_entry *en;
  vc_iter *it;
  size_t len = 0;

  out[0] = '\0';
  CHECK_OK(vc_call_timeline(&it, e->t, id));
  while (vc_call_entry_next(&en, it) == 0) {
    const char *type = vc_call_entry_type(en);
    cJSON *d = NULL;
    const cJSON *s = NULL;
    /* a state entry by its state's name */
    if (strcmp(type, "state") == 0) {
      d = cJSON_Parse(vc_call_entry_detail_json(en));
      s = cJSON_GetObjectItemCaseSensitive(d, "state");
    }
    len += (size_t)snprintf(out + len, size - len, "%s%s", len ? " " : "",
                            cJSON_IsString(s) ? s->valuestring : type);
    cJSON_Delete(d);
    CHECK(len < size);
    vc_call_entry_free(en);
  }
  vc_iter_free(it);
}

/* `words` occur in `line` in this order. */
static int in_order(const char *line, const char *words)
{
  char w[64];
  const char *p = line;

  while (*words) {
    size_t n = strcspn(words, " ");
    snprintf(w, sizeof(w), "%.*s", (int)n, words);
    if ((p = strstr(p, w)) == NULL)
      return 0;
    p += n;
    words += n + (words[n] == ' ');
  }
  return 1;
}

static void screen_pop(env *e, const char *call_id)
{
  const vc_event *ev;
  vc_iter *it;
  cJSON *o = NULL, *v;
  int n = 0;

  CHECK_OK(vc_events_since(&it, e->t, 0));
  while (vc_event_next(&ev, it) == 0)
    if (strcmp(ev->type, "call.screen_pop") == 0 &&
        strcmp(ev->subject_id, call_id) == 0 && n++ == 0)
      o = cJSON_Parse(ev->payload_json);
  vc_iter_free(it);
  CHECK(n == 1 && o != NULL);
  if (o == NULL)
    return;
  CHECK_STR(cJSON_GetObjectItem(o, "from")->valuestring, CALLER);
  CHECK_STR(cJSON_GetObjectItem(o, "to")->valuestring, DID);
  CHECK_STR(cJSON_GetObjectItem(o, "number_label")->valuestring,
            "Support line");
  v = cJSON_GetObjectItem(o, "contact");
  CHECK_STR(cJSON_GetObjectItem(v, "name")->valuestring, "Asha Rao");
  v = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "ivr_path"), 0);
  CHECK_STR(cJSON_GetObjectItem(v, "keys")->valuestring, "1");
  v = cJSON_GetObjectItem(o, "queue");
  CHECK_STR(cJSON_GetObjectItem(v, "name")->valuestring, "support");
  v = cJSON_GetObjectItem(o, "agent");
  CHECK_STR(cJSON_GetObjectItem(v, "name")->valuestring, "alice");
  cJSON_Delete(o);
}

/* IVR -> queue -> alice answers, talks 2.5 s, hangs up. */
static void reaches_agent(const char *provider, const char *db)
{
  /* Exotel's times have whole seconds: a talk long enough to show */
  vc_sim_call_plan answer = { VC_SIM_CALL_ANSWER, 100, 2500 };
  char sid[40], log[4096], want[512], tl[2048], st[32];
  vc_call *c;
  env e;

  env_open(&e, provider, db);
  setup(&e, 1);
  CHECK_OK(vc_sim_call_plan_set(e.sim, provider, ALICE, &answer));
  call_in(&e, "1", NULL, 0, sid, log, sizeof(log));
  if (strcmp(provider, "twilio-voice") == 0)
    snprintf(want, sizeof(want), "incoming 200\nsay Press 1 for support.\n"
             "gather 1\ndial " ALICE " completed\nhangup\ncompleted\n");
  else
    snprintf(want, sizeof(want), "passthru incoming 200\n"
             "gather say Press 1 for support.\ngather 1\n"
             "dial " ALICE " completed\npassthru in_dial 302\nhangup\n"
             "completed\n");
  CHECK_STR(log, want);
  CHECK(vc_sim_call_status(e.sim, provider, sid, st, sizeof(st)) > 0);
  CHECK_STR(st, "completed");

  c = the_call(&e);
  CHECK(vc_call_direction_of(c) == VC_CALL_INBOUND);
  CHECK_STR(vc_call_provider_id(c), sid);
  CHECK_STR(vc_call_customer_number(c), CALLER);
  CHECK_STR(vc_call_caller_id(c), DID);
  CHECK_STR(vc_call_agent_number(c), ALICE);
  CHECK(vc_call_contact_id(c)[0] != '\0');
  CHECK(vc_call_state_of(c) == VC_CALL_COMPLETED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_NORMAL);
  CHECK(vc_call_state_at(c, VC_CALL_AGENT_RINGING) > 0);
  CHECK(vc_call_state_at(c, VC_CALL_BRIDGED) >=
        vc_call_state_at(c, VC_CALL_AGENT_RINGING));
  CHECK(vc_call_state_at(c, VC_CALL_COMPLETED) >=
        vc_call_state_at(c, VC_CALL_BRIDGED));
  /* 2.5 s of talk, billed as a started minute from the rate card */
  if (vc_call_talk_seconds(c) < 1 || vc_call_talk_seconds(c) > 3)
    fprintf(stderr, "  talked %d s\n", vc_call_talk_seconds(c));
  CHECK(vc_call_talk_seconds(c) >= 1 && vc_call_talk_seconds(c) <= 3);
  CHECK(vc_call_cost_micros(c) == RATE);
  CHECK_STR(vc_call_currency(c), "INR");
  timeline(&e, vc_call_id(c), tl, sizeof(tl));
  if (!in_order(tl, "initiated incoming queue agent_ring agent_ringing "
                "bridged completed"))
    fprintf(stderr, "  timeline: %s\n", tl);
  CHECK(in_order(tl, "initiated incoming queue agent_ring agent_ringing "
                 "bridged completed"));
  screen_pop(&e, vc_call_id(c));
  CHECK(agent_state(&e, "alice") == VC_AGENT_AVAILABLE);
  vc_call_free(c);
  env_close(&e);
}

static void test_inbound_sim__twilio_reaches_agent(void)
{
  reaches_agent("twilio-voice", "tw.db");
}

static void test_inbound_sim__exotel_reaches_agent(void)
{
  reaches_agent("exotel", "ex.db");
}

/* Nobody is free: the caller waits in the queue and hangs up. */
static void hangs_up_in_queue(const char *provider, const char *db)
{
  char sid[40], log[4096], tl[2048];
  int twilio = strcmp(provider, "twilio-voice") == 0;
  vc_call *c;
  env e;

  env_open(&e, provider, db);
  setup(&e, 0);
  /* Twilio: the third Redirect of the wait; Exotel: the second Connect */
  call_in(&e, "1", twilio ? "Redirect" : "Connect", twilio ? 3 : 2, sid,
          log, sizeof(log));
  if (twilio)
    CHECK(in_order(log, "incoming gather pause redirect pause redirect "
                   "pause caller-hangup completed"));
  else
    CHECK(in_order(log, "incoming gather dial none in_dial 200 wait "
                   "caller-hangup no-answer"));
  c = the_call(&e);
  CHECK(vc_call_state_of(c) == VC_CALL_CANCELED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_ABANDONED);
  CHECK(vc_call_state_at(c, VC_CALL_AGENT_RINGING) == 0);
  CHECK(vc_call_cost_micros(c) == 0);
  timeline(&e, vc_call_id(c), tl, sizeof(tl));
  CHECK(in_order(tl, "initiated incoming queue hangup canceled"));
  CHECK(agent_state(&e, "alice") == VC_AGENT_OFFLINE);
  CHECK(agent_state(&e, "bob") == VC_AGENT_OFFLINE);
  vc_call_free(c);
  env_close(&e);
}

static void test_inbound_sim__twilio_hangs_up_in_queue(void)
{
  hangs_up_in_queue("twilio-voice", "twq.db");
}

static void test_inbound_sim__exotel_hangs_up_in_queue(void)
{
  hangs_up_in_queue("exotel", "exq.db");
}

/* ---- malformed and forged incoming webhooks --------------------------- */

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
  (void)p;
  (void)arg;
  return size * n;
}

/* POST (form, or GET when form is NULL) with an optional signature;
 * the HTTP status. */
static long raw(const char *url, const char *form, const char *signature)
{
  CURL *curl = curl_easy_init();
  struct curl_slist *h = NULL;
  char line[128];
  long code = 0;

  CHECK(curl != NULL);
  if (signature != NULL) {
    snprintf(line, sizeof(line), "X-Twilio-Signature: %s", signature);
    h = curl_slist_append(h, line);
  }
  curl_easy_setopt(curl, CURLOPT_URL, url);
  if (form != NULL) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
    h = curl_slist_append(h, "Content-Type: "
                          "application/x-www-form-urlencoded");
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  if (curl_easy_perform(curl) == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(h);
  curl_easy_cleanup(curl);
  return code;
}

static void test_inbound_sim__malformed(void)
{
  /* no To: the number called is unknown */
  static const char *const no_to[] = {
    "AccountSid", VC_SIM_TWILIO_ACCOUNT_SID, "CallSid",
    "CA0123456789abcdef0123456789abcdef", "CallStatus", "ringing",
    "Direction", "inbound", "From", "+919876543210"
  };
  /* a CallSid that is not one */
  static const char *const bad_sid[] = {
    "AccountSid", VC_SIM_TWILIO_ACCOUNT_SID, "CallSid", "XY12",
    "CallStatus", "ringing", "Direction", "inbound", "From",
    "+919876543210", "To", DID
  };
  char url[256], sig[64], exurl[512], status[512];
  env e;

  env_open(&e, "twilio-voice", "bad.db");
  setup(&e, 1);
  snprintf(url, sizeof(url), "%s/webhooks/%s", e.base, e.channel);
  twilio_sign(sig, VC_SIM_TWILIO_AUTH_TOKEN, url, no_to, 5);
  CHECK(raw(url, "AccountSid=" VC_SIM_TWILIO_ACCOUNT_SID "&CallSid="
            "CA0123456789abcdef0123456789abcdef&CallStatus=ringing"
            "&Direction=inbound&From=%2B919876543210", sig) == 400);
  twilio_sign(sig, VC_SIM_TWILIO_AUTH_TOKEN, url, bad_sid, 6);
  CHECK(raw(url, "AccountSid=" VC_SIM_TWILIO_ACCOUNT_SID "&CallSid=XY12"
            "&CallStatus=ringing&Direction=inbound&From=%2B919876543210"
            "&To=%2B918047112345", sig) == 400);
  /* forged: no signature, another key's */
  CHECK(raw(url, "AccountSid=" VC_SIM_TWILIO_ACCOUNT_SID "&CallSid="
            "CA0123456789abcdef0123456789abcdef&CallStatus=ringing"
            "&Direction=inbound&From=%2B919876543210&To=%2B918047112345",
            NULL) / 100 == 4);
  CHECK(raw(url, "AccountSid=" VC_SIM_TWILIO_ACCOUNT_SID "&CallSid="
            "CA0123456789abcdef0123456789abcdef&CallStatus=ringing"
            "&Direction=inbound&From=%2B919876543210&To=%2B918047112345",
            "bm90IGEgc2lnbmF0dXJlIG9mIHRoaXM=") / 100 == 4);
  CHECK(inbound_calls(&e) == 0);
  env_close(&e);

  env_open(&e, "exotel", "badex.db");
  setup(&e, 1);
  urls(&e, exurl, status, sizeof(exurl));
  /* the flow's token, but no CallSid / a malformed one / no CallTo */
  snprintf(url, sizeof(url), "%s", exurl);
  *strstr(url, "{step}") = '\0';
  snprintf(exurl, sizeof(exurl), "%sincoming%s&CallFrom=09876543210"
           "&CallTo=08047112345", url, strstr(status, "&vc_token"));
  CHECK(raw(exurl, NULL, NULL) == 400);
  snprintf(exurl, sizeof(exurl), "%sincoming%s&CallSid=a%%20b"
           "&CallTo=08047112345", url, strstr(status, "&vc_token"));
  CHECK(raw(exurl, NULL, NULL) == 400);
  snprintf(exurl, sizeof(exurl), "%sincoming%s&CallSid="
           "0123456789abcdef0123456789abcdef", url,
           strstr(status, "&vc_token"));
  CHECK(raw(exurl, NULL, NULL) == 400);
  /* forged: no token, a wrong one */
  snprintf(exurl, sizeof(exurl), "%sincoming&CallSid="
           "0123456789abcdef0123456789abcdef&CallTo=08047112345", url);
  CHECK(raw(exurl, NULL, NULL) / 100 == 4);
  snprintf(exurl, sizeof(exurl), "%sincoming&vc_token=%064d&CallSid="
           "0123456789abcdef0123456789abcdef&CallTo=08047112345", url, 0);
  CHECK(raw(exurl, NULL, NULL) / 100 == 4);
  CHECK(inbound_calls(&e) == 0);
  env_close(&e);
}

/* Another tenant's Exotel channel cannot take the tenant's number: the
 * call is refused on that channel's tenant, the number's owner sees
 * nothing. */
static void test_inbound_sim__other_tenant(void)
{
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_sim_incoming in = VC_SIM_INCOMING_INIT;
  char config[256], creds[256], voice[512], status[512], sid[40];
  char log[4096];
  vc_tenant *acme;
  vc_channel *ch;
  vc_call *c;
  env e;

  env_open(&e, "exotel", "iso.db");
  setup(&e, 1);
  acme = e.t;
  ts.slug = "globex";
  CHECK_OK(vc_tenant_new(&e.t, e.ctx, &ts));
  snprintf(config, sizeof(config), "{\"account_sid\":\"%s\",\"base_url\":"
           "\"%s\"}", VC_SIM_EXOTEL_ACCOUNT_SID, vc_sim_base_url(e.sim));
  snprintf(creds, sizeof(creds), "{\"api_key\":\"%s\",\"api_token\":\"%s\","
           "\"webhook_secret\":\"" SECRET "\"}", VC_SIM_EXOTEL_API_KEY,
           VC_SIM_EXOTEL_API_TOKEN);
  cs.name = "voice";
  cs.provider = "exotel";
  cs.config_json = config;
  cs.credentials_json = creds;
  CHECK_OK(vc_channel_new(&ch, e.t, &cs));
  snprintf(e.channel, sizeof(e.channel), "%s", vc_channel_id(ch));
  vc_channel_free(ch);
  /* the same secret, another channel: its flow's URLs verify */
  urls(&e, voice, status, sizeof(voice));
  in.voice_url = voice;
  in.status_url = status;
  in.from = CALLER_EXOTEL;
  in.to = DID_EXOTEL;
  in.digits = "1";
  /* a refused call cannot reach the flow's Hangup applet (docs/calls.md):
   * the caller gives up */
  in.hangup_after_ms = 300;
  CHECK_OK(vc_sim_exotel_incoming(e.sim, &in, sid));
  CHECK_OK(vc_sim_incoming_wait(e.sim, "exotel", sid, 20000));
  CHECK(vc_sim_incoming_log(e.sim, "exotel", sid, log, sizeof(log)) > 0);
  CHECK(strstr(log, "dial none") != NULL && strstr(log, "dial +") == NULL);
  /* refused where it arrived, unknown to the number's owner */
  c = the_call(&e);
  CHECK(vc_call_state_of(c) == VC_CALL_FAILED);
  CHECK(vc_call_cause_of(c) == VC_CAUSE_UNKNOWN_NUMBER);
  vc_call_free(c);
  CHECK(inbound_calls(&(env){ .t = acme }) == 0);
  CHECK(agent_state(&(env){ .t = acme }, "alice") == VC_AGENT_AVAILABLE);
  vc_tenant_free(acme);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_inbound_sim__twilio_reaches_agent),
  VC_TEST(test_inbound_sim__exotel_reaches_agent),
  VC_TEST(test_inbound_sim__twilio_hangs_up_in_queue),
  VC_TEST(test_inbound_sim__exotel_hangs_up_in_queue),
  VC_TEST(test_inbound_sim__malformed),
  VC_TEST(test_inbound_sim__other_tenant),
)
