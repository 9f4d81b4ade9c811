/*
 * vyomcomm demo, click-to-call: places a call through each voice
 * provider (Twilio Voice, Exotel, mCube, Asterisk ARI) on the provider
 * simulator. The simulator rings the agent, then the customer, and posts
 * the call's progress to the library's own listener (ARI: its events
 * WebSocket); the demo waits for every call
 * to complete, prints its transitions, the agent's state and the cost
 * from the tenant's rate cards, and exports the period's journal.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vyomcomm.h"
#include "sim.h"
#include "cli.h"
#include "demo_net.h"

#define WAIT_MS 30000

/* One provider of the demo and the call placed through it. */
typedef struct call_row {
  const char *provider;   /* adapter name */
  const char *channel;    /* channel name */
  const char *agent;      /* the agent's name */
  const char *agent_number;
  const char *customer;
  const char *caller_id;  /* the channel's sender */
  const char *rates;      /* the provider's rate card, CSV */
  char channel_id[VC_ID_SIZE];
  char call_id[VC_ID_SIZE];
} call_row;

/* A channel's settings and credentials on the simulator. */
static void voice_settings(const call_row *row, vc_sim *sim, char *config,
                           size_t nc, char *creds, size_t nk)
{
  const char *base = vc_sim_base_url(sim);

  if (strcmp(row->provider, "twilio-voice") == 0) {
    snprintf(config, nc, "{\"account_sid\":\"%s\",\"base_url\":\"%s\"}",
             VC_SIM_TWILIO_ACCOUNT_SID, base);
    snprintf(creds, nk, "{\"auth_token\":\"%s\"}", VC_SIM_TWILIO_AUTH_TOKEN);
  } else if (strcmp(row->provider, "exotel") == 0) {
    snprintf(config, nc, "{\"account_sid\":\"%s\",\"base_url\":\"%s\"}",
             VC_SIM_EXOTEL_ACCOUNT_SID, base);
    snprintf(creds, nk, "{\"api_key\":\"%s\",\"api_token\":\"%s\","
             "\"webhook_secret\":\"demo-exotel-callback-secret-0123456789abcdef\"}",
             VC_SIM_EXOTEL_API_KEY, VC_SIM_EXOTEL_API_TOKEN);
  } else if (strcmp(row->provider, "asterisk-ari") == 0) {
    snprintf(config, nc, "{\"base_url\":\"%s/ari\",\"app\":\"vyomcomm\","
             "\"agent_endpoint\":\"PJSIP/{digits}\","
             "\"customer_endpoint\":\"PJSIP/{number}@trunk\"}", base);
    snprintf(creds, nk, "{\"username\":\"%s\",\"password\":\"%s\"}",
             VC_SIM_ARI_USERNAME, VC_SIM_ARI_PASSWORD);
  } else { /* mcube */
    snprintf(config, nc, "{\"api\":\"classic\",\"base_url\":\"%s\","
             "\"did\":\"%s\"}", base, VC_SIM_MCUBE_DID);
    snprintf(creds, nk, "{\"api_key\":\"%s\",\"webhook_secret\":"
             "\"demo-mcube-callback-secret-0123456789abcdef\"}", VC_SIM_MCUBE_API_KEY);
  }
}

static int add_channel(demo_checks *c, vc_tenant *t, vc_sim *sim,
                       call_row *row)
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;
  char config[512], creds[512], what[96];
  int rc;

  voice_settings(row, sim, config, sizeof(config), creds, sizeof(creds));
  s.name = row->channel;
  s.provider = row->provider;
  s.config_json = config;
  s.credentials_json = creds;
  s.sender = row->caller_id;
  if ((rc = vc_channel_new(&ch, t, &s)) == 0) {
    snprintf(row->channel_id, VC_ID_SIZE, "%s", vc_channel_id(ch));
    vc_channel_free(ch);
  }
  snprintf(what, sizeof(what), "voice channel: %s (%s)", row->channel,
           row->provider);
  return demo_check(c, rc == 0, what);
}

/* The agent who places the row's call, and what its provider charges. */
static int add_agent_and_rates(demo_checks *c, vc_tenant *t,
                               const call_row *row)
{
  vc_agent_spec as = VC_AGENT_SPEC_INIT;
  vc_ratecard_spec rs = VC_RATECARD_SPEC_INIT;
  vc_agent *agent = NULL;
  char id[VC_ID_SIZE], what[96];
  int ok;

  as.name = row->agent;
  as.number = row->agent_number;
  as.wrap_up_s = 0;
  ok = vc_agent_new(&agent, t, &as) == 0 &&
       vc_agent_set_state(agent, VC_AGENT_AVAILABLE, NULL) == 0;
  vc_agent_free(agent);
  snprintf(what, sizeof(what), "agent %s, available", row->agent);
  ok &= demo_check(c, ok, what);
  rs.provider = row->provider;
  snprintf(what, sizeof(what), "rate card for %s", row->provider);
  return ok & demo_check(c, vc_ratecard_import(id, t, &rs, VC_RATECARD_CSV,
                                               row->rates,
                                               strlen(row->rates)) == 0,
                         what);
}

static int place(demo_checks *c, vc_tenant *t, call_row *row)
{
  vc_call_spec s = VC_CALL_SPEC_INIT;
  vc_call *call;
  char what[96];
  int rc;

  s.agent = row->agent;
  s.customer_number = row->customer;
  s.channel = row->channel_id;
  if ((rc = vc_call_start(&call, t, &s)) == 0) {
    snprintf(row->call_id, VC_ID_SIZE, "%s", vc_call_id(call));
    vc_call_free(call);
  }
  snprintf(what, sizeof(what), "click-to-call through %s stored",
           row->provider);
  return demo_check(c, rc == 0, what);
}

static int state_of(vc_tenant *t, const char *id)
{
  vc_call *call;
  int st = 0;

  if (vc_call_lookup(&call, t, id) == 0) {
    st = vc_call_state_of(call);
    vc_call_free(call);
  }
  return st;
}

static int all_ended(vc_tenant *t, call_row *rows, size_t n)
{
  for (size_t r = 0; r < n; r++)
    if (!vc_call_state_final(state_of(t, rows[r].call_id)))
      return 0;
  return 1;
}

/* Every state of a click-to-call, in order, with the time it was reached
 * relative to the call's creation. */
static void report(demo_checks *c, vc_tenant *t, const call_row *row)
{
  static const int path[] = { VC_CALL_AGENT_RINGING, VC_CALL_AGENT_ANSWERED,
                              VC_CALL_CUSTOMER_RINGING, VC_CALL_BRIDGED,
                              VC_CALL_COMPLETED };
  vc_call *call;
  char what[128];
  int every = 1;

  if (vc_call_lookup(&call, t, row->call_id) != 0) {
    demo_check(c, 0, "look the call up");
    return;
  }
  printf("  %-13s", row->provider);
  for (size_t i = 0; i < sizeof(path) / sizeof(path[0]); i++) {
    int64_t at = vc_call_state_at(call, path[i]);
    every &= at > 0;
    printf(" %s%s+%lldms", i ? "> " : "", vc_call_state_name(path[i]),
           at > 0 ? (long long)(at - vc_call_created_at(call)) : -1LL);
  }
  printf("\n  %-13s talked %ds, cost %lld micro-%s%s\n", "",
         vc_call_talk_seconds(call), (long long)vc_call_cost_micros(call),
         vc_call_currency(call)[0] ? vc_call_currency(call) : "(none)",
         vc_call_cost_reported(call) ? " (provider's price)" : " (rate card)");
  snprintf(what, sizeof(what), "%s: call completed through every state",
           row->provider);
  demo_check(c, every && vc_call_state_of(call) == VC_CALL_COMPLETED, what);
  snprintf(what, sizeof(what), "%s: cost from the rate card",
           row->provider);
  demo_check(c, vc_call_talk_seconds(call) > 0 &&
                vc_call_cost_micros(call) > 0, what);
  vc_call_free(call);
}

/* The agent is free again once the call ended (no wrap-up time). */
static void agent_free_again(demo_checks *c, vc_tenant *t,
                             const call_row *row)
{
  vc_agent *agent;
  char what[96];
  int st = -1;

  if (vc_agent_lookup(&agent, t, row->agent) == 0) {
    st = vc_agent_state_of(agent);
    vc_agent_free(agent);
  }
  snprintf(what, sizeof(what), "agent %s is %s again", row->agent,
           st >= 0 ? vc_agent_state_name(st) : "?");
  demo_check(c, st == VC_AGENT_AVAILABLE, what);
}

/* 1 when the journal has per-currency totals and each one's debit and
 * credit micro-units (its last two fields) are equal. */
static int demo_gl_balanced(const char *csv, size_t len)
{
  const char *p = csv, *end = csv + len;
  int totals = 0;

  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end, *comma;
    long long debit, credit;
    char tail[64];

    if (strncmp(p, "total,", 6) == 0) {
      size_t n;
      for (comma = line_end - 1, n = 0; comma > p && n < 2; comma--)
        n += *comma == ',';
      n = (size_t)(line_end - (comma + 2));
      if (n >= sizeof(tail))
        return 0;
      memcpy(tail, comma + 2, n);
      tail[n] = '\0';
      if (sscanf(tail, "%lld,%lld", &debit, &credit) != 2 ||
          debit != credit || debit <= 0)
        return 0;
      totals++;
    }
    p = line_end + 1;
  }
  return totals > 0;
}

/* The day's journal: one debit and one credit per call, balanced. */
static void journal(demo_checks *c, vc_tenant *t, int64_t from, int64_t to)
{
  vc_gl_export_options o = VC_GL_EXPORT_OPTIONS_INIT;
  vc_buf csv = VC_BUF_INIT;
  int rc;

  o.format = VC_GL_CSV;
  o.from = from;
  o.to = to;
  rc = vc_gl_export(&csv, t, &o);
  if (rc == 0)
    printf("%.*s\n", (int)csv.size, csv.ptr);
  demo_check(c, rc == 0 && demo_gl_balanced(csv.ptr, csv.size),
             "journal export: debits equal credits per currency");
  vc_buf_dispose(&csv);
}

void demo_calls(demo_checks *c, const char *dir)
{
  static const uint8_t key[32] = { 0x6b, 0x21, 0x47 };
  call_row rows[] = {
    { "twilio-voice", "voice-twilio", "asha", "+14155550100",
      "+14155550199", "+15005550006",
      "prefix,rate_per_min,initial_s,subsequent_s,connection_fee,currency\n"
      "1,14000,60,60,0,USD\n,30000,60,60,0,USD\n", "", "" },
    { "exotel", "voice-exotel", "ravi", "+919812340001", "+919812349999",
      VC_SIM_EXOTEL_CALLER_ID,
      "prefix,rate_per_min,initial_s,subsequent_s,connection_fee,currency\n"
      "91,600000,60,60,100000,INR\n", "", "" },
    { "mcube", "voice-mcube", "meera", "+919812340002", "+919812348888",
      NULL,
      "prefix,rate_per_min,initial_s,subsequent_s,connection_fee,currency\n"
      "91,450000,1,1,0,INR\n", "", "" },
    { "asterisk-ari", "voice-asterisk", "kiran", "+919812340003",
      "+919812347777", "+918047110000",
      "prefix,rate_per_min,initial_s,subsequent_s,connection_fee,currency\n"
      "91,300000,60,60,0,INR\n", "", "" },
  };
  const size_t nrows = sizeof(rows) / sizeof(rows[0]);
  vc_sim_options so = VC_SIM_OPTIONS_INIT;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store = NULL;
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  vc_sim *sim = NULL;
  char path[600], base[64], addr[32];
  int port = demo_free_port(), ended = 0, ok = 1;
  int64_t deadline, started = demo_wall_ms();

  printf("click-to-call (provider simulator on loopback)\n");
  if (!demo_check(c, vc_sim_start(&sim, &so) == 0 && port > 0,
                  "start the provider simulator"))
    return;
  /* Legs ring for a second and talk for two, so that the providers'
   * one-second timestamps tell the states apart. */
  for (size_t r = 0; r < nrows; r++) {
    /* The simulator's settings are named after the API: "ari.". */
    const char *api = strcmp(rows[r].provider, "asterisk-ari") == 0
                      ? "ari" : rows[r].provider;
    char setting[48];
    snprintf(setting, sizeof(setting), "%s.ring_ms", api);
    vc_sim_set(sim, setting, "1000");
    snprintf(setting, sizeof(setting), "%s.talk_ms", api);
    /* Asterisk's legs talk from the agent's answer, a ring before the
     * customer's: a second more for the same conversation. */
    vc_sim_set(sim, setting, strcmp(api, "ari") == 0 ? "3000" : "2000");
  }
  snprintf(path, sizeof(path), "%s/calls.db", dir);
  snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
  snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  mk.key = key;
  mk.key_len = sizeof(key);
  o.master_key = &mk;
  o.public_base_url = base;
  o.allow_private_network = 1; /* the simulator is on loopback */
  if (!demo_check(c, vc_store_open_sqlite(&store, path, NULL) == 0 &&
                     (o.store = store, vc_ctx_new(&ctx, &o) == 0),
                  "open a store for calls")) {
    vc_store_free(store);
    goto out;
  }
  if (!demo_check(c, vc_webhook_listen(ctx, addr) == port,
                  "listen for call progress webhooks"))
    goto out;
  ts.slug = "acme";
  if (!demo_check(c, vc_tenant_new(&t, ctx, &ts) == 0, "create a tenant"))
    goto out;
  for (size_t r = 0; r < nrows; r++)
    ok &= add_channel(c, t, sim, &rows[r]) &&
          add_agent_and_rates(c, t, &rows[r]) && place(c, t, &rows[r]);
  if (!ok)
    goto out;
  demo_check(c, vc_ctx_start(ctx, 1) == 0, "start an engine thread");
  deadline = demo_wall_ms() + WAIT_MS;
  while (!(ended = all_ended(t, rows, nrows)) && demo_wall_ms() < deadline)
    usleep(50000);
  demo_check(c, ended, "every call ended, reported by the providers");
  vc_ctx_stop(ctx);
  printf("\n");
  for (size_t r = 0; r < nrows; r++) {
    report(c, t, &rows[r]);
    agent_free_again(c, t, &rows[r]);
  }
  printf("\n");
  journal(c, t, started - 1000, demo_wall_ms() + 1000);
out:
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  vc_sim_stop(sim);
}
