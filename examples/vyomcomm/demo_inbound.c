/*
 * vyomcomm demo, an inbound call: a customer calls the tenant's support
 * number on Twilio (the provider simulator plays Twilio and the caller).
 * The number leads to an IVR menu; the caller presses 1 for the support
 * queue, the library picks the available agent and rings her, the host's
 * event callback gets the screen-pop before she answers; she talks and
 * hangs up. The demo prints the screen-pop, the call's timeline and its
 * cost from the rate card, and checks each.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vyomcomm.h"
#include "sim.h"
#include "cli.h"
#include "demo_net.h"

#define WAIT_MS 30000
#define NUMBER "+918047112345"
#define CALLER "+919876543210"
#define AGENT "+919812340001"
#define MENU \
  "{\"version\":1,\"entry\":\"main\",\"nodes\":{\"main\":{\"prompt\":" \
  "{\"say\":\"Welcome to Acme. Press 1 for support.\"},\"options\":{" \
  "\"1\":{\"action\":\"queue\",\"queue\":\"support\"}}}}}"

/* What the host's event callback saw (the engine thread writes). */
typedef struct seen {
  pthread_mutex_t mu;
  char pop[2048];
  int pops;
} seen;

static int on_event(const vc_event *ev, void *payload)
{
  seen *s = payload;

  if (strcmp(ev->type, "call.screen_pop") == 0) {
    pthread_mutex_lock(&s->mu);
    if (s->pops++ == 0)
      snprintf(s->pop, sizeof(s->pop), "%s", ev->payload_json);
    pthread_mutex_unlock(&s->mu);
  }
  return 0;
}

/* The tenant's side: the Twilio channel, the agent and the queue, the
 * menu, the number, the caller's contact, the rate card. */
static int setup(demo_checks *c, vc_tenant *t, vc_sim *sim, char *channel)
{
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_agent_spec as = VC_AGENT_SPEC_INIT;
  vc_queue_spec qs = VC_QUEUE_SPEC_INIT;
  vc_ivr_menu_spec ms = VC_IVR_MENU_SPEC_INIT;
  vc_number_spec ns = VC_NUMBER_SPEC_INIT;
  vc_contact_spec ct = VC_CONTACT_SPEC_INIT;
  vc_ratecard_spec rs = VC_RATECARD_SPEC_INIT;
  static const char rates[] =
    "prefix,rate_per_min,initial_s,subsequent_s,connection_fee,currency\n"
    "91,600000,60,60,0,INR\n";
  char config[256], creds[128], id[VC_ID_SIZE];
  vc_channel *ch = NULL;
  vc_agent *a = NULL;
  vc_queue *q = NULL;
  int ok;

  snprintf(config, sizeof(config), "{\"account_sid\":\"%s\",\"base_url\":"
           "\"%s\"}", VC_SIM_TWILIO_ACCOUNT_SID, vc_sim_base_url(sim));
  snprintf(creds, sizeof(creds), "{\"auth_token\":\"%s\"}",
           VC_SIM_TWILIO_AUTH_TOKEN);
  cs.name = "voice-in";
  cs.provider = "twilio-voice";
  cs.config_json = config;
  cs.credentials_json = creds;
  cs.sender = NUMBER;
  ok = vc_channel_new(&ch, t, &cs) == 0;
  if (ok)
    snprintf(channel, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
  as.name = "priya";
  as.number = AGENT;
  as.wrap_up_s = 0;
  ok = ok && vc_agent_new(&a, t, &as) == 0 &&
       vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL) == 0;
  vc_agent_free(a);
  qs.name = "support";
  ok = ok && vc_queue_new(&q, t, &qs) == 0 &&
       vc_queue_member_add(q, "priya", NULL) == 0;
  vc_queue_free(q);
  if (!demo_check(c, ok, "Twilio channel, agent priya available, queue "
                  "support"))
    return 0;
  ms.name = "main";
  ms.definition_json = MENU;
  ns.number = NUMBER;
  ns.channel = "voice-in";
  ns.entry_kind = VC_NUMBER_ENTRY_IVR;
  ns.entry = "main";
  ns.label = "Support line";
  ct.name = "Asha Rao";
  ct.phone = CALLER;
  rs.provider = "twilio-voice";
  return demo_check(c, vc_ivr_menu_new(NULL, t, &ms) == 0 &&
                       vc_number_new(NULL, t, &ns) == 0,
                    "number " NUMBER " -> IVR menu (1: queue support)") &&
         demo_check(c, vc_contact_upsert(id, t, &ct) == 0 &&
                       vc_ratecard_import(id, t, &rs, VC_RATECARD_CSV, rates,
                                          strlen(rates)) == 0,
                    "the caller's contact, the rate card");
}

static vc_call *the_call(vc_tenant *t)
{
  vc_call_filter f = VC_CALL_FILTER_INIT;
  vc_call *call = NULL;
  vc_iter *it;

  f.direction = VC_CALL_INBOUND;
  if (vc_call_list(&it, t, &f) != 0)
    return NULL;
  if (vc_call_next(&call, it) != 0)
    call = NULL;
  vc_iter_free(it);
  return call;
}

/* The timeline, one line an entry, and whether the call went through
 * the IVR, the queue and the agent's ring to a bridge. */
static int print_timeline(vc_tenant *t, const vc_call *call)
{
  vc_call_entry *en;
  vc_iter *it;
  int ivr = 0, queue = 0, ring = 0;

  if (vc_call_timeline(&it, t, vc_call_id(call)) != 0)
    return 0;
  while (vc_call_entry_next(&en, it) == 0) {
    const char *type = vc_call_entry_type(en);
    printf("    +%5lldms  %-14s %s\n",
           (long long)(vc_call_entry_at(en) - vc_call_created_at(call)),
           type, vc_call_entry_detail_json(en));
    ivr |= strcmp(type, "dtmf") == 0;
    queue |= strcmp(type, "queue") == 0;
    ring |= strcmp(type, "agent_ring") == 0;
    vc_call_entry_free(en);
  }
  vc_iter_free(it);
  return ivr && queue && ring;
}

void demo_inbound(demo_checks *c, const char *dir)
{
  static const uint8_t key[32] = { 0x49, 0x4e, 0x42 };
  vc_sim_call_plan answer = { VC_SIM_CALL_ANSWER, 1000, 2000 };
  vc_sim_incoming in = VC_SIM_INCOMING_INIT;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  seen s = { PTHREAD_MUTEX_INITIALIZER, "", 0 };
  vc_store *store = NULL;
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  vc_sim *sim = NULL;
  vc_call *call = NULL;
  char path[600], base[64], addr[32], channel[VC_ID_SIZE], url[160];
  char sid[40], log[2048];
  int port = demo_free_port(), pops = 0;
  int64_t deadline;

  printf("inbound call (Twilio on the provider simulator)\n");
  if (!demo_check(c, vc_sim_start(&sim, NULL) == 0 && port > 0,
                  "start the provider simulator"))
    return;
  vc_sim_set(sim, "twilio-voice.pause_ms", "100");
  vc_sim_call_plan_set(sim, "twilio-voice", AGENT, &answer);
  snprintf(path, sizeof(path), "%s/inbound.db", dir);
  snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
  snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  mk.key = key;
  mk.key_len = sizeof(key);
  o.master_key = &mk;
  o.public_base_url = base;
  o.allow_private_network = 1; /* the simulator is on loopback */
  if (!demo_check(c, vc_store_open_sqlite(&store, path, NULL) == 0 &&
                     (o.store = store, vc_ctx_new(&ctx, &o) == 0),
                  "open a store for inbound calls")) {
    vc_store_free(store);
    goto out;
  }
  ts.slug = "acme";
  if (!demo_check(c, vc_webhook_listen(ctx, addr) == port &&
                     vc_tenant_new(&t, ctx, &ts) == 0 &&
                     vc_ctx_set_event_cb(ctx, on_event, &s) == 0 &&
                     vc_ctx_start(ctx, 1) == 0,
                  "listen for webhooks, a tenant, the event callback") ||
      !setup(c, t, sim, channel))
    goto out;

  /* The number's Voice URL at Twilio is the channel's webhook URL. */
  snprintf(url, sizeof(url), "%s/webhooks/%s", base, channel);
  in.voice_url = url;
  in.status_url = url;
  in.from = CALLER;
  in.to = NUMBER;
  in.digits = "1";
  if (!demo_check(c, vc_sim_twilio_incoming(sim, &in, sid) == 0,
                  CALLER " calls " NUMBER))
    goto out;
  demo_check(c, vc_sim_incoming_wait(sim, "twilio-voice", sid, WAIT_MS) ==
                0, "the caller's side of the call is over");
  vc_sim_incoming_log(sim, "twilio-voice", sid, log, sizeof(log));
  printf("  what the simulated Twilio did:\n");
  for (char *l = strtok(log, "\n"); l != NULL; l = strtok(NULL, "\n"))
    printf("    %s\n", l);
  deadline = demo_wall_ms() + WAIT_MS;
  do {
    vc_call_free(call);
    call = the_call(t);
    pthread_mutex_lock(&s.mu);
    pops = s.pops;
    pthread_mutex_unlock(&s.mu);
    if (call != NULL && vc_call_state_final(vc_call_state_of(call)) &&
        pops > 0)
      break;
    usleep(50000);
  } while (demo_wall_ms() < deadline);
  vc_ctx_stop(ctx);
  pthread_mutex_lock(&s.mu);
  printf("  screen-pop (the host's event callback, before the answer):\n"
         "    %s\n", s.pop);
  demo_check(c, s.pops == 1 && strstr(s.pop, "\"Asha Rao\"") != NULL &&
                strstr(s.pop, "\"priya\"") != NULL &&
                strstr(s.pop, "\"support\"") != NULL,
             "screen-pop with the contact, the IVR path, queue and agent");
  pthread_mutex_unlock(&s.mu);
  if (!demo_check(c, call != NULL, "the inbound call is stored"))
    goto out;
  printf("  timeline:\n");
  demo_check(c, print_timeline(t, call),
             "timeline: the menu's key, the queue, the agent's ring");
  printf("  %s, talked %ds, cost %lld micro-%s (rate card)\n",
         vc_call_state_name(vc_call_state_of(call)),
         vc_call_talk_seconds(call), (long long)vc_call_cost_micros(call),
         vc_call_currency(call));
  demo_check(c, vc_call_direction_of(call) == VC_CALL_INBOUND &&
                vc_call_state_of(call) == VC_CALL_COMPLETED &&
                vc_call_state_at(call, VC_CALL_BRIDGED) > 0,
             "inbound call completed after the agent answered");
  demo_check(c, vc_call_talk_seconds(call) > 0 &&
                vc_call_cost_micros(call) > 0, "cost from the rate card");
out:
  vc_call_free(call);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  vc_sim_stop(sim);
}
