/*
 * vyomcomm demo, messaging: starts the provider simulator, sends through
 * every messaging provider (SMS: Twilio, Vonage, AWS SNS; email:
 * SendGrid, Mailgun; chat: Telegram, WhatsApp, the sandbox) from templates, receives the
 * signed delivery webhooks on the library's own listener, and prints a
 * table per provider.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vyomcomm.h"
#include "sim.h"
#include "cli.h"
#include "demo_net.h"

#define WAIT_MS 30000

/* One provider of the demo: its channel, what it sends, what each
 * message must reach (`delivered` where the provider reports delivery,
 * `sent` where it reports nothing more). */
typedef struct provider_row {
  const char *provider;  /* adapter name */
  const char *channel;   /* channel name */
  int kind;
  int want;
  const char *to[2];
  char channel_id[VC_ID_SIZE];
  char ids[2][VC_ID_SIZE];
  int n;
} provider_row;

static int add_template(vc_tenant *t, const char *name, int kind,
                        const char *subject, const char *text,
                        const char *html)
{
  vc_template_spec s = VC_TEMPLATE_SPEC_INIT;
  vc_template *tpl;
  int rc;

  s.name = name;
  s.kind = kind;
  s.subject = subject;
  s.text_body = text;
  s.html_body = html;
  s.variables_json = "[\"name\", \"order\", \"coupon?\"]";
  if ((rc = vc_template_new(&tpl, t, &s)) == 0)
    vc_template_free(tpl);
  return rc;
}

/* The secret Telegram sends with each update (setWebhook's secret_token). */
#define TELEGRAM_SECRET "demo-telegram-secret"

/* The settings and credentials of `row`'s channel on the simulator. */
static void channel_settings(const provider_row *row, vc_sim *sim,
                             char *config, size_t nc, char *creds, size_t nk,
                             const char **sender)
{
  const char *base = vc_sim_base_url(sim);

  if (strcmp(row->provider, "twilio-sms") == 0) {
    snprintf(config, nc, "{\"account_sid\":\"%s\",\"base_url\":\"%s\"}",
             VC_SIM_TWILIO_ACCOUNT_SID, base);
    snprintf(creds, nk, "{\"auth_token\":\"%s\"}", VC_SIM_TWILIO_AUTH_TOKEN);
    *sender = "+15005550006";
  } else if (strcmp(row->provider, "vonage-sms") == 0) {
    snprintf(config, nc, "{\"base_url\":\"%s\",\"signature_method\":"
             "\"sha256hmac\"}", base);
    snprintf(creds, nk, "{\"api_key\":\"%s\",\"api_secret\":\"%s\","
             "\"signature_secret\":\"%s\"}", VC_SIM_VONAGE_API_KEY,
             VC_SIM_VONAGE_API_SECRET, VC_SIM_VONAGE_SIGNATURE_SECRET);
    *sender = "AcmeInc";
  } else if (strcmp(row->provider, "aws-sns") == 0) {
    snprintf(config, nc, "{\"region\":\"%s\",\"endpoint\":\"%s\","
             "\"sms_type\":\"Transactional\",\"topic_arns\":[\"%s\"],"
             "\"fetch_base_url\":\"%s\"}", VC_SIM_SNS_REGION, base,
             VC_SIM_SNS_TOPIC_ARN, base);
    snprintf(creds, nk, "{\"access_key_id\":\"%s\",\"secret_access_key\":"
             "\"%s\"}", VC_SIM_SNS_ACCESS_KEY_ID, VC_SIM_SNS_SECRET_ACCESS_KEY);
    *sender = "ACME";
  } else if (strcmp(row->provider, "sendgrid") == 0) {
    snprintf(config, nc, "{\"base_url\":\"%s\",\"webhook_public_key\":"
             "\"%s\"}", base, vc_sim_sendgrid_public_key(sim));
    snprintf(creds, nk, "{\"api_key\":\"%s\"}", VC_SIM_SENDGRID_API_KEY);
    *sender = "billing@acme.test";
  } else if (strcmp(row->provider, "mailgun") == 0) {
    snprintf(config, nc, "{\"domain\":\"%s\",\"base_url\":\"%s\"}",
             VC_SIM_MAILGUN_DOMAIN, base);
    snprintf(creds, nk, "{\"api_key\":\"%s\",\"webhook_signing_key\":"
             "\"%s\"}", VC_SIM_MAILGUN_API_KEY, VC_SIM_MAILGUN_SIGNING_KEY);
    *sender = "billing@" VC_SIM_MAILGUN_DOMAIN;
  } else if (strcmp(row->provider, "telegram") == 0) {
    snprintf(config, nc, "{\"base_url\":\"%s\"}", base);
    snprintf(creds, nk, "{\"bot_token\":\"%s\",\"webhook_secret\":\"%s\"}",
             VC_SIM_TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET);
    *sender = "acme_bot";
  } else if (strcmp(row->provider, "whatsapp") == 0) {
    snprintf(config, nc, "{\"phone_number_id\":\"%s\",\"base_url\":"
             "\"%s/graph\"}", VC_SIM_WHATSAPP_PHONE_NUMBER_ID, base);
    snprintf(creds, nk, "{\"access_token\":\"%s\",\"app_secret\":\"%s\","
             "\"verify_token\":\"demo-verify-token\"}",
             VC_SIM_WHATSAPP_ACCESS_TOKEN, VC_SIM_WHATSAPP_APP_SECRET);
    *sender = "+15550001234";
  } else { /* the sandbox */
    snprintf(config, nc, "{}");
    snprintf(creds, nk, "{}");
    *sender = "acme-bot";
  }
}

/* Providers that post their webhooks to one configured URL (rather than
 * a callback URL sent with each message) are told this channel's. */
static const char *const URL_CONFIGURED[] = { "sendgrid", "mailgun",
                                              "telegram", "whatsapp" };

static int setup_channels(demo_checks *c, vc_tenant *t, vc_sim *sim,
                          const char *base, provider_row *rows, size_t n)
{
  char config[768], creds[512], url[160], what[96];
  int ok = 1;

  if (vc_sim_set(sim, "vonage.signature_method", "sha256hmac") != 0 ||
      vc_sim_set(sim, "telegram.secret_token", TELEGRAM_SECRET) != 0)
    return demo_check(c, 0, "simulator: Vonage and Telegram settings");
  for (size_t r = 0; r < n; r++) {
    vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
    vc_channel *ch;
    const char *sender;
    int rc;
    channel_settings(&rows[r], sim, config, sizeof(config), creds,
                     sizeof(creds), &sender);
    s.name = rows[r].channel;
    s.provider = rows[r].provider;
    s.config_json = config;
    s.credentials_json = creds;
    s.sender = sender;
    if ((rc = vc_channel_new(&ch, t, &s)) == 0) {
      snprintf(rows[r].channel_id, VC_ID_SIZE, "%s", vc_channel_id(ch));
      vc_channel_free(ch);
    }
    snprintf(what, sizeof(what), "channel: %s (%s)", rows[r].channel,
             rows[r].provider);
    ok &= demo_check(c, rc == 0, what);
    for (size_t k = 0; rc == 0 && k < sizeof(URL_CONFIGURED) /
                                       sizeof(URL_CONFIGURED[0]); k++) {
      vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
      if (strcmp(rows[r].provider, URL_CONFIGURED[k]) != 0)
        continue;
      snprintf(url, sizeof(url), "%s/webhooks/%s", base, rows[r].channel_id);
      w.url = url;
      vc_sim_webhooks_set(sim, URL_CONFIGURED[k], &w);
    }
  }
  return ok;
}

/* What each message is estimated to cost when it is queued: a rate card
 * per provider with one default message price (USD). */
static int setup_prices(demo_checks *c, vc_tenant *t, const provider_row *rows,
                        size_t n)
{
  int ok = 1;

  for (size_t r = 0; r < n; r++) {
    vc_ratecard_entry e = VC_RATECARD_ENTRY_INIT;
    vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
    char id[VC_ID_SIZE];
    e.prefix = "";
    e.currency = "USD";
    e.message_micros = rows[r].kind == VC_CHANNEL_SMS     ? 7900
                       : rows[r].kind == VC_CHANNEL_EMAIL ? 1000
                                                          : 5000;
    s.provider = rows[r].provider;
    s.entries = &e;
    s.nentries = 1;
    ok &= vc_ratecard_set(id, t, &s) == 0;
  }
  return demo_check(c, ok, "message prices: a rate card per provider "
                           "(each message's cost is estimated when queued)");
}

static int setup_templates(demo_checks *c, vc_tenant *t)
{
  int ok = demo_check(c, add_template(t, "order-shipped", VC_CHANNEL_SMS,
                                      NULL, "Hi {{name}}, order {{order}} "
                                      "has shipped.{{#coupon}} Code: "
                                      "{{coupon}}{{/coupon}}", NULL) == 0 &&
                           add_template(t, "order-shipped", VC_CHANNEL_EMAIL,
                                        "Order {{order}} shipped", NULL,
                                        "<p>Hi {{name}}, order <b>{{order}}"
                                        "</b> is on its way.</p>") != 0,
                      "templates: SMS variant (a second template of the "
                      "same name is refused)");

  ok &= demo_check(c, add_template(t, "invoice", VC_CHANNEL_EMAIL,
                                   "Invoice {{order}}", "Dear {{name}}, "
                                   "invoice {{order}} is attached.",
                                   "<p>Dear {{name}}, invoice "
                                   "<b>{{order}}</b> is attached.</p>") == 0,
                   "templates: email (subject, text and HTML)");
  return ok;
}

/* Chat customers write first: the inbound messages are stored, and on
 * WhatsApp they open the 24-hour window in which free text may be sent. */
static int customers_write(demo_checks *c, vc_sim *sim, provider_row *rows,
                           size_t n)
{
  int ok = 1, posted = 0;

  for (size_t r = 0; r < n; r++)
    for (int i = 0; i < 2; i++) {
      if (strcmp(rows[r].provider, "telegram") == 0)
        ok &= vc_sim_telegram_inbound(sim, atoll(rows[r].to[i]),
                                      "Where is my order?") > 0;
      else if (strcmp(rows[r].provider, "whatsapp") == 0)
        ok &= vc_sim_whatsapp_inbound(sim, rows[r].to[i],
                                      "Where is my order?") == 0;
      else
        continue;
      posted++;
    }
  ok &= vc_sim_webhooks_wait(sim, WAIT_MS) == 0;
  return demo_check(c, ok && posted > 0, "chat customers write first "
                    "(signed inbound webhooks, stored)");
}

/* Two messages on each provider's channel, from the kind's template (or
 * a plain text for chat). */
static int send_all(demo_checks *c, vc_tenant *t, provider_row *rows,
                    size_t n)
{
  static const char *const names[] = { "Asha", "Ravi <R&D>" };
  char vars[160], what[96];
  int ok = 1, total = 0;

  for (size_t r = 0; r < n; r++)
    for (int i = 0; i < 2; i++) {
      vc_message_spec s = VC_MESSAGE_SPEC_INIT;
      snprintf(vars, sizeof(vars), "{\"name\":\"%s\",\"order\":\"A-%zu%d\"}",
               names[i], r, i);
      s.channel = rows[r].channel_id;
      s.to = rows[r].to[i];
      if (rows[r].kind == VC_CHANNEL_CHAT) {
        s.text = "Your ticket was updated.";
      } else {
        s.template_name = rows[r].kind == VC_CHANNEL_SMS ? "order-shipped"
                                                         : "invoice";
        s.vars_json = vars;
      }
      if (vc_message_send(rows[r].ids[rows[r].n], t, &s) == 0) {
        rows[r].n++;
        total++;
      } else {
        ok = 0;
        fprintf(stderr, "  %s: %s\n", rows[r].provider,
                vc_error_last()->message);
      }
    }
  snprintf(what, sizeof(what), "%d messages accepted (stored as queued "
           "before anything is sent)", total);
  return demo_check(c, ok, what);
}

static int status_of(vc_tenant *t, const char *id)
{
  vc_message *m;
  int st = 0;

  if (vc_message_lookup(&m, t, id) == 0) {
    st = vc_message_status(m);
    vc_message_free(m);
  }
  return st;
}

static int all_reached(vc_tenant *t, provider_row *rows, size_t n)
{
  for (size_t r = 0; r < n; r++)
    for (int i = 0; i < rows[r].n; i++)
      if (status_of(t, rows[r].ids[i]) != rows[r].want)
        return 0;
  return 1;
}

static void table(demo_checks *c, vc_tenant *t, provider_row *rows,
                  size_t n)
{
  int ok[16];

  printf("\n  %-14s %-14s %5s %9s %6s\n", "provider", "channel", "sent",
         "delivered", "failed");
  for (size_t r = 0; r < n; r++) {
    int sent = 0, delivered = 0, failed = 0;
    for (int i = 0; i < rows[r].n; i++) {
      int st = status_of(t, rows[r].ids[i]);
      sent += st >= VC_MSG_SENT && st <= VC_MSG_READ;
      delivered += st == VC_MSG_DELIVERED || st == VC_MSG_READ;
      failed += st >= VC_MSG_FAILED;
    }
    printf("  %-14s %-14s %5d %9d %6d\n", rows[r].provider, rows[r].channel,
           sent, delivered, failed);
    ok[r] = failed == 0 &&
            (rows[r].want == VC_MSG_SENT ? sent : delivered) == rows[r].n;
  }
  printf("\n");
  for (size_t r = 0; r < n; r++) {
    char what[96];
    snprintf(what, sizeof(what), "%s: every message reached '%s'",
             rows[r].provider, vc_message_status_name(rows[r].want));
    demo_check(c, ok[r], what);
  }
}

void demo_messaging(demo_checks *c, const char *dir)
{
  static const uint8_t key[32] = { 0x5a, 0x17, 0x33 };
  provider_row rows[] = {
    { "twilio-sms", "sms-twilio", VC_CHANNEL_SMS, VC_MSG_DELIVERED,
      { "+14155550123", "+14155550124" }, "", { "", "" }, 0 },
    { "vonage-sms", "sms-vonage", VC_CHANNEL_SMS, VC_MSG_DELIVERED,
      { "+447700900123", "+447700900124" }, "", { "", "" }, 0 },
    { "aws-sns", "sms-sns", VC_CHANNEL_SMS, VC_MSG_SENT,
      { "+14155550125", "+14155550126" }, "", { "", "" }, 0 },
    { "sendgrid", "mail-sendgrid", VC_CHANNEL_EMAIL, VC_MSG_DELIVERED,
      { "asha@example.com", "ravi@example.com" }, "", { "", "" }, 0 },
    { "mailgun", "mail-mailgun", VC_CHANNEL_EMAIL, VC_MSG_DELIVERED,
      { "asha@example.org", "ravi@example.org" }, "", { "", "" }, 0 },
    { "telegram", "chat-telegram", VC_CHANNEL_CHAT, VC_MSG_SENT,
      { "731001", "731002" }, "", { "", "" }, 0 },
    { "whatsapp", "chat-whatsapp", VC_CHANNEL_CHAT, VC_MSG_READ,
      { "+919812345601", "+919812345602" }, "", { "", "" }, 0 },
    { "sandbox-chat", "chat-sandbox", VC_CHANNEL_CHAT, VC_MSG_SENT,
      { "-1001234567890", "@acme_support" }, "", { "", "" }, 0 },
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
  int port = demo_free_port(), reached = 0;
  int64_t deadline;

  printf("messaging (provider simulator on loopback)\n");
  if (!demo_check(c, vc_sim_start(&sim, &so) == 0 && port > 0,
                  "start the provider simulator"))
    return;
  snprintf(path, sizeof(path), "%s/messaging.db", dir);
  snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
  snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  mk.key = key;
  mk.key_len = sizeof(key);
  o.master_key = &mk;
  o.public_base_url = base;
  o.allow_private_network = 1; /* the simulator is on loopback */
  if (!demo_check(c, vc_store_open_sqlite(&store, path, NULL) == 0 &&
                     (o.store = store, vc_ctx_new(&ctx, &o) == 0),
                  "open a second store for messaging")) {
    vc_store_free(store);
    goto out;
  }
  if (!demo_check(c, vc_webhook_listen(ctx, addr) == port,
                  "listen for webhooks (libre HTTP server)"))
    goto out;
  ts.slug = "acme";
  if (!demo_check(c, vc_tenant_new(&t, ctx, &ts) == 0, "create a tenant") ||
      !setup_channels(c, t, sim, base, rows, nrows) ||
      !setup_prices(c, t, rows, nrows) ||
      !setup_templates(c, t) || !customers_write(c, sim, rows, nrows) ||
      !send_all(c, t, rows, nrows))
    goto out;
  demo_check(c, vc_ctx_start(ctx, 2) == 0, "start two engine threads");
  deadline = demo_wall_ms() + WAIT_MS;
  while (!(reached = all_reached(t, rows, nrows)) && demo_wall_ms() < deadline)
    usleep(50000);
  demo_check(c, reached, "deliveries confirmed by signed webhooks");
  table(c, t, rows, nrows);
  for (size_t r = 0; r < nrows; r++)
    if (strcmp(rows[r].provider, "whatsapp") == 0)
      demo_inbox(c, t, rows[r].channel_id, WAIT_MS);
  vc_ctx_stop(ctx);
  demo_stats(c, t, demo_wall_ms());
out:
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  vc_sim_stop(sim);
}
