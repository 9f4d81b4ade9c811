/*
 * vyomcomm demo, messaging: starts the provider simulator, sends through
 * every messaging provider (Twilio SMS, SendGrid email, the sandbox) from
 * templates, receives the signed delivery webhooks on the library's own
 * listener, and prints a table per provider.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vyomcomm.h"
#include "sim.h"
#include "cli.h"

#define WAIT_MS 30000

typedef struct provider_row {
  const char *provider;  /* adapter name */
  const char *channel;   /* channel name */
  int want;              /* the status each message must reach */
  char ids[2][VC_ID_SIZE];
  int n;
} provider_row;

static int64_t wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A loopback port free right now, for the webhook listener. */
static int free_port(void)
{
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0)
    close(fd);
  return port;
}

static int add_channel(vc_tenant *t, const char *name, const char *provider,
                       const char *config, const char *creds,
                       const char *sender, char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;
  int rc;

  s.name = name;
  s.provider = provider;
  s.config_json = config;
  s.credentials_json = creds;
  s.sender = sender;
  if ((rc = vc_channel_new(&ch, t, &s)) == 0) {
    snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
    vc_channel_free(ch);
  }
  return rc;
}

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

static int setup(demo_checks *c, vc_tenant *t, vc_sim *sim, const char *base)
{
  char config[512], creds[256], id[VC_ID_SIZE], url[160];
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  int ok = 1;

  snprintf(config, sizeof(config),
           "{\"account_sid\":\"%s\",\"base_url\":\"%s\"}",
           VC_SIM_TWILIO_ACCOUNT_SID, vc_sim_base_url(sim));
  snprintf(creds, sizeof(creds), "{\"auth_token\":\"%s\"}",
           VC_SIM_TWILIO_AUTH_TOKEN);
  ok &= demo_check(c, add_channel(t, "sms-twilio", "twilio-sms", config,
                                  creds, "+15005550006", id) == 0,
                   "channel: Twilio SMS (credentials sealed)");
  snprintf(config, sizeof(config),
           "{\"base_url\":\"%s\",\"webhook_public_key\":\"%s\"}",
           vc_sim_base_url(sim), vc_sim_sendgrid_public_key(sim));
  snprintf(creds, sizeof(creds), "{\"api_key\":\"%s\"}",
           VC_SIM_SENDGRID_API_KEY);
  ok &= demo_check(c, add_channel(t, "mail-sendgrid", "sendgrid", config,
                                  creds, "billing@acme.test", id) == 0,
                   "channel: SendGrid email (ECDSA-signed events)");
  snprintf(url, sizeof(url), "%s/webhooks/%s", base, id);
  w.url = url;
  vc_sim_webhooks_set(sim, "sendgrid", &w);
  ok &= demo_check(c, add_channel(t, "chat-sandbox", "sandbox-chat", NULL,
                                  NULL, "acme-bot", id) == 0,
                   "channel: sandbox chat (no credentials)");
  ok &= demo_check(c, add_template(t, "order-shipped", VC_CHANNEL_SMS, NULL,
                                   "Hi {{name}}, order {{order}} has "
                                   "shipped.{{#coupon}} Code: {{coupon}}"
                                   "{{/coupon}}", NULL) == 0 &&
                      add_template(t, "order-shipped", VC_CHANNEL_EMAIL,
                                   "Order {{order}} shipped", NULL,
                                   "<p>Hi {{name}}, order <b>{{order}}</b> "
                                   "is on its way.</p>") != 0,
                   "templates: SMS variant (a second template of the same "
                   "name is refused)");
  ok &= demo_check(c, add_template(t, "invoice", VC_CHANNEL_EMAIL,
                                   "Invoice {{order}}", "Dear {{name}}, "
                                   "invoice {{order}} is attached.",
                                   "<p>Dear {{name}}, invoice "
                                   "<b>{{order}}</b> is attached.</p>") == 0,
                   "templates: email (subject, text and HTML)");
  return ok;
}

static int send_all(demo_checks *c, vc_tenant *t, provider_row *rows)
{
  static const char *const names[] = { "Asha", "Ravi <R&D>" };
  char vars[160];
  int ok = 1;

  for (int i = 0; i < 2; i++) {
    vc_message_spec s = VC_MESSAGE_SPEC_INIT;
    snprintf(vars, sizeof(vars), "{\"name\":\"%s\",\"order\":\"A-10%d\"}",
             names[i], i);
    s.kind = VC_CHANNEL_SMS;
    s.to = i ? "+14155550124" : "+14155550123";
    s.template_name = "order-shipped";
    s.vars_json = vars;
    ok &= vc_message_send(rows[0].ids[rows[0].n++], t, &s) == 0;
    vc_message_spec_init(&s, VC_MESSAGE_SPEC_VERSION);
    s.kind = VC_CHANNEL_EMAIL;
    s.to = i ? "ravi@example.com" : "asha@example.com";
    s.template_name = "invoice";
    s.vars_json = vars;
    ok &= vc_message_send(rows[1].ids[rows[1].n++], t, &s) == 0;
    vc_message_spec_init(&s, VC_MESSAGE_SPEC_VERSION);
    s.kind = VC_CHANNEL_CHAT;
    s.to = i ? "@acme_support" : "-1001234567890";
    s.text = "Your ticket was updated.";
    ok &= vc_message_send(rows[2].ids[rows[2].n++], t, &s) == 0;
  }
  return demo_check(c, ok, "6 messages accepted (stored as queued before "
                           "anything is sent)");
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
  int ok[8];

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
    { "twilio-sms", "sms-twilio", VC_MSG_DELIVERED, { "", "" }, 0 },
    { "sendgrid", "mail-sendgrid", VC_MSG_DELIVERED, { "", "" }, 0 },
    { "sandbox-chat", "chat-sandbox", VC_MSG_SENT, { "", "" }, 0 },
  };
  vc_sim_options so = VC_SIM_OPTIONS_INIT;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store = NULL;
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  vc_sim *sim = NULL;
  char path[600], base[64], addr[32];
  int port = free_port(), reached = 0;
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
      !setup(c, t, sim, base) || !send_all(c, t, rows))
    goto out;
  demo_check(c, vc_ctx_start(ctx, 2) == 0, "start two engine threads");
  deadline = wall_ms() + WAIT_MS;
  while (!(reached = all_reached(t, rows, 3)) && wall_ms() < deadline)
    usleep(50000);
  demo_check(c, reached, "deliveries confirmed by signed webhooks");
  vc_ctx_stop(ctx);
  table(c, t, rows, 3);
out:
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  vc_sim_stop(sim);
}
