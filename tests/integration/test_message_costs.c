/*
 * Message costs through the public API, SQLite on disk, the provider
 * simulator over loopback: the estimate when a message is queued (by
 * segments and destination prefix, the default entry for email), no
 * entry without a card or a message price, the reversal when a message
 * fails or is canceled before a provider took it, the provider's price
 * from Twilio's send response and from Vonage's delivery receipts (per
 * part) as a correction, replays changing nothing, period summaries, a
 * balanced GL export of calls and messages, tenant isolation, and
 * callers with version 1 rate card entries.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "net_util.h"

#include <cJSON.h>
#include <sqlite3.h>
#include <time.h>

#define DAY_MS 86400000LL
#define IN_NUMBER "+919876543210"
#define US_NUMBER "+14155550100"

typedef struct env {
  vc_sim *sim;
  vc_ctx *ctx;
  vc_tenant *t, *other;
  char base[64];
} env;

/* The context's clock: the wall clock plus a shift a test may move. */
static int64_t g_shift_ms;

static int64_t shifted_clock(void *payload)
{
  struct timespec ts;

  (void)payload;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + g_shift_ms;
}

static void add_channel(env *e, vc_tenant *t, const char *name,
                        const char *provider, const char *config,
                        const char *creds, const char *sender,
                        char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  (void)e;
  s.name = name;
  s.provider = provider;
  s.config_json = config;
  s.credentials_json = creds;
  s.sender = sender;
  CHECK_OK(vc_channel_new(&ch, t, &s));
  if (id != NULL)
    snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void env_open(env *e)
{
  static const uint8_t key[32] = { 9, 9, 9 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;
  char addr[32];
  int port = 0, tries = 0;

  memset(e, 0, sizeof(*e));
  g_shift_ms = 0;
  CHECK_OK(vc_sim_start(&e->sim, NULL));
  mk.key = key;
  mk.key_len = 32;
  o.master_key = &mk;
  o.allow_private_network = 1;
  o.clock_cb = shifted_clock;
  do {
    vc_ctx_free(e->ctx);
    e->ctx = NULL;
    port = free_port();
    snprintf(e->base, sizeof(e->base), "http://127.0.0.1:%d", port);
    CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("costs.db"), NULL));
    o.store = store;
    o.public_base_url = e->base;
    CHECK_OK(vc_ctx_new(&e->ctx, &o));
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  } while (vc_webhook_listen(e->ctx, addr) != port && ++tries < 5);
  CHECK(tries < 5);
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  ts.slug = "other";
  CHECK_OK(vc_tenant_new(&e->other, e->ctx, &ts));
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_tenant_free(e->other);
  vc_ctx_free(e->ctx);
  vc_sim_stop(e->sim);
  unlink(vc_test_path("costs.db"));
  unlink(vc_test_path("costs.db-wal"));
  unlink(vc_test_path("costs.db-shm"));
}

/* A card of `provider` whose entries are "prefix:message_micros" pairs
 * (all USD), through vc_ratecard_set with version 2 entries. */
static void message_card(vc_tenant *t, const char *provider,
                         const char *prefix1, int64_t micros1,
                         const char *prefix2, int64_t micros2)
{
  vc_ratecard_entry en[2] = { VC_RATECARD_ENTRY_INIT,
                              VC_RATECARD_ENTRY_INIT };
  vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
  char id[VC_ID_SIZE];

  en[0].prefix = prefix1;
  en[0].message_micros = micros1;
  en[0].currency = "USD";
  en[1].prefix = prefix2;
  en[1].message_micros = micros2;
  en[1].currency = "USD";
  s.provider = provider;
  s.entries = en;
  s.nentries = prefix2 != NULL ? 2 : 1;
  CHECK_OK(vc_ratecard_set(id, t, &s));
}

/* Sums of one message's entries by kind; returns the entry count. */
typedef struct costs {
  int64_t estimate, price, reversal;
  int n;
  char currency[4], prefix_provider[65];
} costs;

static int costs_of(costs *c, vc_tenant *t, const char *message_id)
{
  vc_ledger_filter f = VC_LEDGER_FILTER_INIT;
  vc_ledger_entry *en;
  vc_iter *it;

  memset(c, 0, sizeof(*c));
  f.source = "message";
  f.source_id = message_id;
  CHECK_OK(vc_ledger_list(&it, t, &f));
  while (vc_ledger_next(&en, it) == 0) {
    int64_t a = vc_ledger_entry_amount_micros(en);
    CHECK_STR(vc_ledger_entry_source(en), "message");
    CHECK_STR(vc_ledger_entry_source_id(en), message_id);
    switch (vc_ledger_entry_kind(en)) {
    case VC_LEDGER_ESTIMATE: c->estimate += a; break;
    case VC_LEDGER_PROVIDER_PRICE: c->price += a; break;
    default: c->reversal += a; break;
    }
    snprintf(c->currency, sizeof(c->currency), "%s",
             vc_ledger_entry_currency(en));
    snprintf(c->prefix_provider, sizeof(c->prefix_provider), "%s",
             vc_ledger_entry_provider(en));
    c->n++;
    vc_ledger_entry_free(en);
  }
  vc_iter_free(it);
  return c->n;
}

static void send_msg(char id[VC_ID_SIZE], vc_tenant *t, int kind,
                 const char *to, const char *text)
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;

  s.kind = kind;
  s.to = to;
  s.text = text;
  if (kind == VC_CHANNEL_EMAIL)
    s.subject = "Invoice";
  CHECK_OK(vc_message_send(id, t, &s));
}

static int status_of(vc_tenant *t, const char *id)
{
  vc_message *m;
  int st;

  CHECK_OK(vc_message_lookup(&m, t, id));
  st = vc_message_status(m);
  vc_message_free(m);
  return st;
}

/* `want`, or for VC_MSG_SENT a later delivery status (a provider's
 * receipt may come before this thread looks). */
static int reached(int status, int want)
{
  return status == want ||
         (want == VC_MSG_SENT && (status == VC_MSG_DELIVERED ||
                                  status == VC_MSG_READ));
}

static int run_until_of(env *e, vc_tenant *t, const char *id, int want,
                        int ms)
{
  int64_t deadline = wall_ms() + ms;

  while (wall_ms() < deadline) {
    if (reached(status_of(t, id), want))
      return 1;
    vc_ctx_run(e->ctx, 20);
  }
  if (!reached(status_of(t, id), want)) {
    vc_message *m;
    CHECK_OK(vc_message_lookup(&m, t, id));
    fprintf(stderr, "message %s: status %d, error %d: %s\n", id,
            vc_message_status(m), vc_message_error(m),
            vc_message_error_message(m));
    vc_message_free(m);
  }
  return reached(status_of(t, id), want);
}

static int run_until(env *e, const char *id, int want, int ms)
{
  return run_until_of(e, e->t, id, want, ms);
}

/* 170 GSM characters: two segments. */
static const char TWO_SEGMENTS[] =
  "Your order 4711 has shipped and will arrive on Friday between nine and "
  "five. Reply HELP for help or STOP to opt out of these order updates. "
  "Thank you for shopping.";

static void test_costs__estimate_by_segments_and_prefix(void)
{
  char sms[VC_ID_SIZE], m1[VC_ID_SIZE], m2[VC_ID_SIZE], m3[VC_ID_SIZE];
  vc_ratecard_entry en[3] = { VC_RATECARD_ENTRY_INIT, VC_RATECARD_ENTRY_INIT,
                              VC_RATECARD_ENTRY_INIT };
  vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
  char id[VC_ID_SIZE], cur[4];
  vc_message *m;
  int64_t q;
  costs c;
  env e;

  env_open(&e);
  add_channel(&e, e.t, "sms", "sandbox-sms", NULL, NULL, "+15550001111", sms);
  add_channel(&e, e.t, "mail", "sandbox-email", NULL, NULL,
              "billing@acme.example", NULL);
  /* India 0.01 a segment, elsewhere 0.004; a longer voice-only prefix
   * (no message price) does not shadow India's message price. */
  en[0].prefix = "91";
  en[0].message_micros = 10000;
  en[0].currency = "USD";
  en[1].prefix = "";
  en[1].message_micros = 4000;
  en[1].currency = "USD";
  en[2].prefix = "9198";
  en[2].rate_per_min_micros = 300000;
  en[2].currency = "USD";
  s.provider = "sandbox-sms";
  s.entries = en;
  s.nentries = 3;
  CHECK_OK(vc_ratecard_set(id, e.t, &s));
  message_card(e.t, "sandbox-email", "", 1500, NULL, 0);

  send_msg(m1, e.t, VC_CHANNEL_SMS, IN_NUMBER, TWO_SEGMENTS);
  CHECK_OK(vc_message_lookup(&m, e.t, m1));
  CHECK(vc_message_segments(m) == 2);
  vc_message_free(m);
  CHECK(costs_of(&c, e.t, m1) == 1);
  CHECK(c.estimate == 20000);     /* 2 x the +91 price */
  CHECK_STR(c.currency, "USD");
  CHECK_STR(c.prefix_provider, "sandbox-sms");
  send_msg(m2, e.t, VC_CHANNEL_SMS, US_NUMBER, "Hi");
  CHECK(costs_of(&c, e.t, m2) == 1 && c.estimate == 4000);
  send_msg(m3, e.t, VC_CHANNEL_EMAIL, "ann@example.com", "Your invoice");
  CHECK(costs_of(&c, e.t, m3) == 1 && c.estimate == 1500);

  /* the quote says the same */
  CHECK_OK(vc_ratecard_quote_message(&q, cur, e.t, "sms", IN_NUMBER, 2));
  CHECK(q == 20000);
  CHECK_STR(cur, "USD");
  CHECK_OK(vc_ratecard_quote_message(&q, cur, e.t, "sandbox-email", NULL,
                                     1));
  CHECK(q == 1500);
  CHECK_RC(vc_ratecard_quote_message(&q, cur, e.t, "sms", IN_NUMBER, 0),
           VC_EINVALID);
  CHECK_RC(vc_ratecard_quote_message(&q, cur, e.t, "sms", "12ab", 1),
           VC_EINVALID);
  /* the channel's own card goes first */
  {
    vc_ratecard_entry ce = VC_RATECARD_ENTRY_INIT;
    ce.prefix = "";
    ce.message_micros = 7000;
    ce.currency = "EUR";
    s.channel = sms;
    s.entries = &ce;
    s.nentries = 1;
    CHECK_OK(vc_ratecard_set(id, e.t, &s));
    send_msg(m2, e.t, VC_CHANNEL_SMS, US_NUMBER, "Hi again");
    CHECK(costs_of(&c, e.t, m2) == 1 && c.estimate == 7000);
    CHECK_STR(c.currency, "EUR");
  }
  env_close(&e);
}

/* A card with more message prices than the estimate keeps in memory is
 * asked per message, with the same answers; a card that takes effect
 * later applies from its time on. */
static void test_costs__large_and_later_cards(void)
{
  vc_ratecard_entry en[41];
  vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
  char prefixes[40][8], id[VC_ID_SIZE], m1[VC_ID_SIZE], m2[VC_ID_SIZE];
  costs c;
  env e;

  env_open(&e);
  add_channel(&e, e.t, "sms", "sandbox-sms", NULL, NULL, "+15550001111",
              NULL);
  for (int i = 0; i < 40; i++) {
    vc_ratecard_entry_init(&en[i], VC_RATECARD_ENTRY_VERSION);
    snprintf(prefixes[i], sizeof(prefixes[i]), "91%02d", i);
    en[i].prefix = prefixes[i];
    en[i].message_micros = 1000 + i;
    en[i].currency = "USD";
  }
  vc_ratecard_entry_init(&en[40], VC_RATECARD_ENTRY_VERSION);
  en[40].prefix = "";
  en[40].message_micros = 500;
  en[40].currency = "USD";
  s.provider = "sandbox-sms";
  s.entries = en;
  s.nentries = 41;
  CHECK_OK(vc_ratecard_set(id, e.t, &s));
  send_msg(m1, e.t, VC_CHANNEL_SMS, "+911112345678", "hi");
  send_msg(m2, e.t, VC_CHANNEL_SMS, US_NUMBER, "hi");
  CHECK(costs_of(&c, e.t, m1) == 1 && c.estimate == 1011);
  CHECK(costs_of(&c, e.t, m2) == 1 && c.estimate == 500);

  /* A small card from tomorrow: today's messages keep today's price. */
  s.entries = &en[40];
  s.nentries = 1;
  en[40].message_micros = 7000;
  s.effective_from = shifted_clock(NULL) + DAY_MS;
  CHECK_OK(vc_ratecard_set(id, e.t, &s));
  send_msg(m1, e.t, VC_CHANNEL_SMS, US_NUMBER, "hi");
  CHECK(costs_of(&c, e.t, m1) == 1 && c.estimate == 500);
  g_shift_ms = DAY_MS + 1000;
  send_msg(m2, e.t, VC_CHANNEL_SMS, "+919112345678", "hi");
  CHECK(costs_of(&c, e.t, m2) == 1 && c.estimate == 7000);
  env_close(&e);
}

static void test_costs__no_card_no_entry(void)
{
  char id[VC_ID_SIZE], card[VC_ID_SIZE];
  vc_ratecard_entry en = VC_RATECARD_ENTRY_INIT;
  vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
  int64_t q;
  char cur[4];
  costs c;
  env e;

  env_open(&e);
  add_channel(&e, e.t, "sms", "sandbox-sms", NULL, NULL, "+15550001111",
              NULL);
  send_msg(id, e.t, VC_CHANNEL_SMS, IN_NUMBER, "No card");
  CHECK(costs_of(&c, e.t, id) == 0);
  /* a card that prices calls only */
  en.prefix = "";
  en.rate_per_min_micros = 1000000;
  en.currency = "USD";
  s.provider = "sandbox-sms";
  s.entries = &en;
  s.nentries = 1;
  CHECK_OK(vc_ratecard_set(card, e.t, &s));
  send_msg(id, e.t, VC_CHANNEL_SMS, IN_NUMBER, "Calls only");
  CHECK(costs_of(&c, e.t, id) == 0);
  CHECK_RC(vc_ratecard_quote_message(&q, cur, e.t, "sms", IN_NUMBER, 1),
           VC_ENOTFOUND);
  /* the card changes on this context: the next message is priced */
  en.message_micros = 5000;
  CHECK_OK(vc_ratecard_set(card, e.t, &s));
  send_msg(id, e.t, VC_CHANNEL_SMS, IN_NUMBER, "Priced");
  CHECK(costs_of(&c, e.t, id) == 1 && c.estimate == 5000);
  /* and deleted: the next is not; what was booked stays */
  CHECK_OK(vc_ratecard_delete(e.t, card));
  CHECK(costs_of(&c, e.t, id) == 1);
  send_msg(id, e.t, VC_CHANNEL_SMS, IN_NUMBER, "Card gone");
  CHECK(costs_of(&c, e.t, id) == 0);
  env_close(&e);
}

static void test_costs__failure_before_acceptance_reverses(void)
{
  char m1[VC_ID_SIZE], m2[VC_ID_SIZE], m3[VC_ID_SIZE];
  costs c;
  env e;

  env_open(&e);
  add_channel(&e, e.t, "sms", "sandbox-sms", "{\"outcome\":\"rejected\"}",
              NULL, "+15550001111", NULL);
  message_card(e.t, "sandbox-sms", "", 5000, NULL, 0);
  /* refused by the provider: failed, never taken */
  send_msg(m1, e.t, VC_CHANNEL_SMS, US_NUMBER, "Refused");
  CHECK(run_until(&e, m1, VC_MSG_FAILED, 15000));
  CHECK(costs_of(&c, e.t, m1) == 2);
  CHECK(c.estimate == 5000 && c.reversal == 5000 && c.price == 0);
  /* canceled while queued */
  send_msg(m2, e.t, VC_CHANNEL_SMS, US_NUMBER, "Canceled");
  CHECK_OK(vc_message_cancel(e.t, m2));
  CHECK(costs_of(&c, e.t, m2) == 2);
  CHECK(c.estimate == 5000 && c.reversal == 5000);
  /* a message a provider took keeps its estimate (the other tenant's
   * channel accepts) */
  add_channel(&e, e.other, "sms", "sandbox-sms", NULL, NULL, "+15550001111",
              NULL);
  message_card(e.other, "sandbox-sms", "", 6000, NULL, 0);
  send_msg(m3, e.other, VC_CHANNEL_SMS, US_NUMBER, "Taken");
  CHECK(run_until_of(&e, e.other, m3, VC_MSG_SENT, 15000));
  CHECK(costs_of(&c, e.other, m3) == 1 && c.estimate == 6000);
  env_close(&e);
}

static void twilio_channel(env *e, char id[VC_ID_SIZE])
{
  char config[256], creds[128];

  snprintf(config, sizeof(config),
           "{\"account_sid\":\"%s\",\"base_url\":\"%s\"}",
           VC_SIM_TWILIO_ACCOUNT_SID, vc_sim_base_url(e->sim));
  snprintf(creds, sizeof(creds), "{\"auth_token\":\"%s\"}",
           VC_SIM_TWILIO_AUTH_TOKEN);
  add_channel(e, e->t, "tw", "twilio-sms", config, creds, "+15005550006",
              id);
}

static void vonage_channel(env *e, char id[VC_ID_SIZE])
{
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char config[256], creds[256], url[160];

  snprintf(config, sizeof(config), "{\"base_url\":\"%s\","
           "\"signature_method\":\"md5hash\",\"currency\":\"EUR\"}",
           vc_sim_base_url(e->sim));
  snprintf(creds, sizeof(creds), "{\"api_key\":\"%s\",\"api_secret\":\"%s\","
           "\"signature_secret\":\"%s\"}", VC_SIM_VONAGE_API_KEY,
           VC_SIM_VONAGE_API_SECRET, VC_SIM_VONAGE_SIGNATURE_SECRET);
  add_channel(e, e->t, "vn", "vonage-sms", config, creds, "AcmeInc", id);
  snprintf(url, sizeof(url), "%s/webhooks/%s", e->base, id);
  w.url = url;
  w.delay_ms = 100;
  CHECK_OK(vc_sim_webhooks_set(e->sim, "vonage", &w));
}

/* The sum of one source's net_micros over every period and currency
 * `currency` of a summary of [from, to). */
static int64_t summary_net(vc_tenant *t, int64_t from, int64_t to,
                           const char *source, const char *currency)
{
  vc_buf b = VC_BUF_INIT;
  const cJSON *p, *periods;
  int64_t net = 0;
  cJSON *doc;

  CHECK_OK(vc_ledger_summary(&b, t, from, to));
  doc = cJSON_Parse(b.ptr);
  CHECK(doc != NULL);
  periods = cJSON_GetObjectItemCaseSensitive(doc, "periods");
  CHECK(cJSON_IsArray(periods));
  cJSON_ArrayForEach(p, periods) {
    const cJSON *src, *one;
    if (strcmp(cJSON_GetObjectItemCaseSensitive(p, "currency")->valuestring,
               currency) != 0)
      continue;
    src = cJSON_GetObjectItemCaseSensitive(p, "sources");
    one = cJSON_GetObjectItemCaseSensitive(src, source);
    if (one != NULL)
      net += (int64_t)cJSON_GetObjectItemCaseSensitive(one, "net_micros")
               ->valuedouble;
  }
  cJSON_Delete(doc);
  vc_buf_dispose(&b);
  return net;
}

static void test_costs__twilio_price_corrects_the_estimate(void)
{
  char ch[VC_ID_SIZE], m1[VC_ID_SIZE], m2[VC_ID_SIZE];
  int64_t now = wall_ms();
  costs c;
  env e;

  env_open(&e);
  twilio_channel(&e, ch);
  message_card(e.t, "twilio-sms", "91", 8000, "", 5000);
  /* Twilio answers the Message resource with its price */
  CHECK_OK(vc_sim_set(e.sim, "twilio.price", "-0.00750"));
  send_msg(m1, e.t, VC_CHANNEL_SMS, IN_NUMBER, "Priced by Twilio");
  CHECK(costs_of(&c, e.t, m1) == 1 && c.estimate == 8000);
  CHECK(run_until(&e, m1, VC_MSG_SENT, 15000));
  CHECK(costs_of(&c, e.t, m1) == 3);
  CHECK(c.estimate == 8000 && c.reversal == 8000 && c.price == 7500);
  CHECK_STR(c.currency, "USD");
  /* not priced at send: the estimate stands */
  CHECK_OK(vc_sim_set(e.sim, "twilio.price", ""));
  send_msg(m2, e.t, VC_CHANNEL_SMS, US_NUMBER, "Priced later");
  CHECK(run_until(&e, m2, VC_MSG_SENT, 15000));
  CHECK(costs_of(&c, e.t, m2) == 1 && c.estimate == 5000);
  /* the period's net: the price of one, the estimate of the other */
  CHECK(summary_net(e.t, now - DAY_MS, now + DAY_MS, "message", "USD") ==
        7500 + 5000);
  env_close(&e);
}

/* Wait until `n` receipts reached the listener and were applied. */
static void receipts(env *e)
{
  CHECK(vc_sim_webhooks_wait(e->sim, 10000) == 0);
  for (int i = 0; i < 10; i++)
    vc_ctx_run(e->ctx, 20);
}

static void test_costs__vonage_receipt_prices(void)
{
  char ch[VC_ID_SIZE], m1[VC_ID_SIZE], m2[VC_ID_SIZE];
  int64_t now = wall_ms();
  costs c;
  env e;

  env_open(&e);
  vonage_channel(&e, ch);
  message_card(e.t, "vonage-sms", "", 30000, NULL, 0);
  /* The send response prices the whole message (2 parts x 0.0333 EUR):
   * each part's receipts say it again and change nothing. */
  send_msg(m1, e.t, VC_CHANNEL_SMS, IN_NUMBER, TWO_SEGMENTS);
  CHECK(run_until(&e, m1, VC_MSG_SENT, 15000));
  receipts(&e);
  CHECK(status_of(e.t, m1) == VC_MSG_DELIVERED);
  CHECK(costs_of(&c, e.t, m1) == 3);
  CHECK(c.estimate == 60000 && c.reversal == 60000 && c.price == 66600);
  CHECK_STR(c.currency, "EUR");

  /* No price in the send response: each part's receipt prices its part
   * (the sum is the message's price); every part has two receipts
   * (accepted, delivered) with the same price, applied once. */
  CHECK_OK(vc_sim_set(e.sim, "vonage.price", ""));
  CHECK_OK(vc_sim_set(e.sim, "vonage.receipt_price", "0.04000000"));
  send_msg(m2, e.t, VC_CHANNEL_SMS, IN_NUMBER, TWO_SEGMENTS);
  CHECK(run_until(&e, m2, VC_MSG_SENT, 15000));
  CHECK(costs_of(&c, e.t, m2) == 1 && c.estimate == 60000);
  receipts(&e);
  CHECK(status_of(e.t, m2) == VC_MSG_DELIVERED);
  CHECK(costs_of(&c, e.t, m2) == 4);
  CHECK(c.estimate == 60000 && c.reversal == 60000 && c.price == 80000);

  /* the net of the period is what the provider charged */
  CHECK(summary_net(e.t, now - DAY_MS, now + DAY_MS, "message", "EUR") ==
        66600 + 80000);
  CHECK(summary_net(e.t, now - DAY_MS, now + DAY_MS, "message", "USD") ==
        0);
  env_close(&e);
}

static void test_costs__gl_export_of_calls_and_messages_balances(void)
{
  vc_gl_export_options go = VC_GL_EXPORT_OPTIONS_INIT;
  vc_call_spec cs = VC_CALL_SPEC_INIT;
  char m1[VC_ID_SIZE], m2[VC_ID_SIZE];
  int64_t now = wall_ms(), dr = 0, cr = 0, call_net, msg_net;
  const cJSON *lines, *l, *totals, *tot;
  vc_buf b = VC_BUF_INIT;
  int saw_message = 0, saw_call = 0;
  vc_call *call;
  cJSON *doc;
  env e;

  env_open(&e);
  add_channel(&e, e.t, "sms", "sandbox-sms", NULL, NULL, "+15550001111",
              NULL);
  add_channel(&e, e.t, "fail", "sandbox-email", "{\"outcome\":\"rejected\"}",
              NULL, "a@acme.example", NULL);
  add_channel(&e, e.t, "voice", "sandbox-voice",
              "{\"talk_s\":61,\"price_micros\":25000,\"currency\":\"USD\"}",
              NULL, "+15550002222", NULL);
  message_card(e.t, "sandbox-sms", "", 5000, NULL, 0);
  message_card(e.t, "sandbox-email", "", 1000, NULL, 0);
  {
    vc_ratecard_entry en = VC_RATECARD_ENTRY_INIT;
    vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
    char id[VC_ID_SIZE];
    en.prefix = "";
    en.rate_per_min_micros = 1200000;
    en.currency = "USD";
    s.provider = "sandbox-voice";
    s.entries = &en;
    s.nentries = 1;
    CHECK_OK(vc_ratecard_set(id, e.t, &s));
  }
  send_msg(m1, e.t, VC_CHANNEL_SMS, US_NUMBER, "Sent");
  send_msg(m2, e.t, VC_CHANNEL_EMAIL, "bob@example.com", "Refused");
  cs.agent_number = "+15550003333";
  cs.customer_number = US_NUMBER;
  CHECK_OK(vc_call_start(&call, e.t, &cs));
  CHECK(run_until(&e, m1, VC_MSG_SENT, 15000));
  CHECK(run_until(&e, m2, VC_MSG_FAILED, 15000));
  for (int i = 0; i < 50; i++)
    vc_ctx_run(e.ctx, 20);
  vc_call_free(call);

  call_net = summary_net(e.t, now - DAY_MS, now + DAY_MS, "call", "USD");
  msg_net = summary_net(e.t, now - DAY_MS, now + DAY_MS, "message", "USD");
  CHECK(call_net > 0);
  CHECK(msg_net == 5000);         /* the refused email cost nothing */

  go.format = VC_GL_JSON;
  go.from = now - DAY_MS;
  go.to = now + DAY_MS;
  CHECK_OK(vc_gl_export(&b, e.t, &go));
  doc = cJSON_Parse(b.ptr);
  CHECK(doc != NULL);
  lines = cJSON_GetObjectItemCaseSensitive(doc, "lines");
  cJSON_ArrayForEach(l, lines) {
    const char *desc =
      cJSON_GetObjectItemCaseSensitive(l, "description")->valuestring;
    const char *ref =
      cJSON_GetObjectItemCaseSensitive(l, "reference")->valuestring;
    dr += (int64_t)cJSON_GetObjectItemCaseSensitive(l, "debit_micros")
            ->valuedouble;
    cr += (int64_t)cJSON_GetObjectItemCaseSensitive(l, "credit_micros")
            ->valuedouble;
    if (strncmp(desc, "message", 7) == 0) {
      saw_message = 1;
      CHECK(strcmp(ref, m1) == 0 || strcmp(ref, m2) == 0);
    }
    if (strncmp(desc, "call", 4) == 0)
      saw_call = 1;
  }
  CHECK(saw_message && saw_call);
  CHECK(dr == cr);
  totals = cJSON_GetObjectItemCaseSensitive(doc, "totals");
  cJSON_ArrayForEach(tot, totals) {
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(tot, "debit")->valuestring,
              cJSON_GetObjectItemCaseSensitive(tot, "credit")->valuestring);
  }
  cJSON_Delete(doc);
  vc_buf_dispose(&b);
  env_close(&e);
}

static void test_costs__tenant_isolation(void)
{
  char sms[VC_ID_SIZE], m1[VC_ID_SIZE], m2[VC_ID_SIZE];
  vc_ledger_filter f = VC_LEDGER_FILTER_INIT;
  vc_buf b = VC_BUF_INIT;
  vc_ledger_entry *en;
  int64_t now = wall_ms(), q;
  vc_iter *it;
  char cur[4];
  costs c;
  env e;

  env_open(&e);
  add_channel(&e, e.t, "sms", "sandbox-sms", NULL, NULL, "+15550001111",
              sms);
  add_channel(&e, e.other, "sms", "sandbox-sms", NULL, NULL,
              "+15550001111", NULL);
  /* only the other tenant prices messages: not ours */
  message_card(e.other, "sandbox-sms", "", 9000, NULL, 0);
  send_msg(m1, e.t, VC_CHANNEL_SMS, US_NUMBER, "Ours");
  CHECK(costs_of(&c, e.t, m1) == 0);
  message_card(e.t, "sandbox-sms", "", 4000, NULL, 0);
  send_msg(m1, e.t, VC_CHANNEL_SMS, US_NUMBER, "Ours, priced");
  send_msg(m2, e.other, VC_CHANNEL_SMS, US_NUMBER, "Theirs");
  CHECK(costs_of(&c, e.t, m1) == 1 && c.estimate == 4000);
  CHECK(costs_of(&c, e.other, m2) == 1 && c.estimate == 9000);
  /* neither sees the other's entries, by id or in a list */
  CHECK(costs_of(&c, e.other, m1) == 0);
  CHECK(costs_of(&c, e.t, m2) == 0);
  f.source = "message";
  CHECK_OK(vc_ledger_list(&it, e.other, &f));
  while (vc_ledger_next(&en, it) == 0) {
    CHECK(strcmp(vc_ledger_entry_source_id(en), m1) != 0);
    vc_ledger_entry_free(en);
  }
  vc_iter_free(it);
  /* nor in a summary */
  CHECK(summary_net(e.other, now - DAY_MS, now + DAY_MS, "message",
                    "USD") == 9000);
  CHECK(summary_net(e.t, now - DAY_MS, now + DAY_MS, "message", "USD") ==
        4000);
  /* nor quotes through the other's channel id */
  CHECK_RC(vc_ratecard_quote_message(&q, cur, e.other, sms, US_NUMBER, 1),
           VC_ENOTFOUND);
  /* a failure of the other's message does not reverse ours */
  CHECK_RC(vc_message_cancel(e.other, m1), VC_ENOTFOUND);
  CHECK(costs_of(&c, e.t, m1) == 1 && c.reversal == 0);
  /* summary bounds */
  CHECK_RC(vc_ledger_summary(&b, e.t, now, now), VC_EINVALID);
  CHECK_RC(vc_ledger_summary(&b, e.t, -1, now), VC_EINVALID);
  CHECK_RC(vc_ledger_summary(&b, e.t, 0, 400 * DAY_MS), VC_ETOOBIG);
  env_close(&e);
}

/* A caller built against the version 1 header: its entries are shorter. */
typedef struct entry_v1 {
  unsigned int version;
  const char *prefix;
  int64_t rate_per_min_micros;
  int initial_s;
  int subsequent_s;
  int64_t connection_fee_micros;
  const char *currency;
} entry_v1;

static void test_costs__version_1_entries(void)
{
  entry_v1 old[2] = {
    { 1, "91", 1200000, 60, 60, 0, "USD" },
    { 1, "", 2000000, 60, 60, 0, "USD" }
  };
  struct { entry_v1 e; unsigned char canary[16]; } init;
  vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
  const vc_ratecard_entry *got;
  char id[VC_ID_SIZE], cur[4];
  vc_ratecard *card;
  int64_t q;
  env e;

  env_open(&e);
  s.provider = "twilio-voice";
  s.entries = (const vc_ratecard_entry *)(const void *)old;
  s.nentries = 2;
  CHECK_OK(vc_ratecard_set(id, e.t, &s));
  CHECK_OK(vc_ratecard_lookup(&card, e.t, id));
  CHECK(vc_ratecard_entry_count(card) == 2);
  got = vc_ratecard_entry_at(card, 1);
  CHECK_STR(got->prefix, "");
  CHECK(got->rate_per_min_micros == 2000000);
  CHECK(got->message_micros == 0);
  vc_ratecard_free(card);
  CHECK_OK(vc_ratecard_quote(&q, cur, e.t, "twilio-voice", IN_NUMBER, 60));
  CHECK(q == 1200000);
  /* versions mixed in one array are refused */
  old[1].version = 2;
  CHECK_RC(vc_ratecard_set(id, e.t, &s), VC_EVERSION);
  old[1].version = 3;
  old[0].version = 3;
  CHECK_RC(vc_ratecard_set(id, e.t, &s), VC_EVERSION);
  /* vc_ratecard_entry_init for version 1 writes a version 1 entry only */
  memset(&init, 0xab, sizeof(init));
  CHECK_OK(vc_ratecard_entry_init((vc_ratecard_entry *)(void *)&init.e, 1));
  CHECK(init.e.version == 1 && init.e.initial_s == 60);
  for (size_t i = 0; i < sizeof(init.canary); i++)
    CHECK(init.canary[i] == 0xab);
  env_close(&e);
}

static void test_costs__import_message_prices(void)
{
  static const char csv[] =
    "prefix,rate_per_min,initial_s,subsequent_s,connection_fee,currency,"
    "message_price\r\n"
    "91,0,60,60,0,INR,250000\r\n"
    ",0,60,60,0,INR,\r\n";
  static const char json[] =
    "{\"entries\":[{\"prefix\":\"44\",\"currency\":\"GBP\","
    "\"message_price\":40000}]}";
  static const char bad[] =
    "prefix,rate_per_min,initial_s,subsequent_s,connection_fee,currency,"
    "message_price\r\n91,0,60,60,0,INR,-5\r\n";
  vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
  char id[VC_ID_SIZE], cur[4];
  vc_ratecard *card;
  int64_t q;
  env e;

  env_open(&e);
  s.provider = "vonage-sms";
  CHECK_OK(vc_ratecard_import(id, e.t, &s, VC_RATECARD_CSV, csv,
                              strlen(csv)));
  CHECK_OK(vc_ratecard_lookup(&card, e.t, id));
  CHECK(vc_ratecard_entry_at(card, 0)->message_micros == 250000);
  CHECK(vc_ratecard_entry_at(card, 1)->message_micros == 0);
  vc_ratecard_free(card);
  CHECK_OK(vc_ratecard_quote_message(&q, cur, e.t, "vonage-sms", IN_NUMBER,
                                     3));
  CHECK(q == 750000);
  CHECK_STR(cur, "INR");
  /* the default entry prices no message */
  CHECK_RC(vc_ratecard_quote_message(&q, cur, e.t, "vonage-sms", US_NUMBER,
                                     1), VC_ENOTFOUND);
  s.provider = "twilio-sms";
  CHECK_OK(vc_ratecard_import(id, e.t, &s, VC_RATECARD_JSON, json,
                              strlen(json)));
  CHECK_OK(vc_ratecard_quote_message(&q, cur, e.t, "twilio-sms",
                                     "+447700900000", 1));
  CHECK(q == 40000);
  CHECK_STR(cur, "GBP");
  CHECK_RC(vc_ratecard_import(id, e.t, &s, VC_RATECARD_CSV, bad,
                              strlen(bad)), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "line 2") != NULL);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_costs__estimate_by_segments_and_prefix),
  VC_TEST(test_costs__no_card_no_entry),
  VC_TEST(test_costs__large_and_later_cards),
  VC_TEST(test_costs__failure_before_acceptance_reverses),
  VC_TEST(test_costs__twilio_price_corrects_the_estimate),
  VC_TEST(test_costs__vonage_receipt_prices),
  VC_TEST(test_costs__gl_export_of_calls_and_messages_balances),
  VC_TEST(test_costs__tenant_isolation),
  VC_TEST(test_costs__version_1_entries),
  VC_TEST(test_costs__import_message_prices)
)
