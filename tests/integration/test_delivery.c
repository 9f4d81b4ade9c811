/*
 * End to end over loopback: the dispatcher sends through the Twilio and
 * SendGrid adapters to the provider simulator with libcurl, and the
 * simulator's signed webhooks come back through vc_webhook_listen().
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "net_util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

static int64_t g_fake_now;

static int64_t fake_clock(void *payload)
{
  (void)payload;
  return g_fake_now;
}

typedef struct env {
  vc_sim *sim;
  vc_ctx *ctx;
  vc_tenant *t;
  char base[64];
  char sms[VC_ID_SIZE], email[VC_ID_SIZE];
} env;

static void add_channel(env *e, const char *name, const char *provider,
                        int priority, const char *config, const char *creds,
                        const char *sender, char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  s.name = name;
  s.provider = provider;
  s.config_json = config;
  s.credentials_json = creds;
  s.sender = sender;
  s.priority = priority;
  CHECK_OK(vc_channel_new(&ch, e->t, &s));
  snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void twilio_channel(env *e, const char *name, int priority,
                           const char *token, char id[VC_ID_SIZE])
{
  char config[256], creds[128];

  snprintf(config, sizeof(config),
           "{\"account_sid\":\"%s\",\"base_url\":\"%s\"}",
           VC_SIM_TWILIO_ACCOUNT_SID, vc_sim_base_url(e->sim));
  snprintf(creds, sizeof(creds), "{\"auth_token\":\"%s\"}", token);
  add_channel(e, name, "twilio-sms", priority, config, creds,
              "+15005550006", id);
}

static void env_open(env *e, int fake_clock_on)
{
  static const uint8_t key[32] = { 1, 2, 3 };
  vc_sim_options so = VC_SIM_OPTIONS_INIT;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char config[512], creds[256], url[160];
  vc_store *store;
  int port = free_port();

  memset(e, 0, sizeof(*e));
  CHECK_OK(vc_sim_start(&e->sim, &so));
  snprintf(e->base, sizeof(e->base), "http://127.0.0.1:%d", port);
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("d.db"), NULL));
  mk.key = key;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.public_base_url = e->base;
  o.allow_private_network = 1;
  if (fake_clock_on) {
    g_fake_now = wall_ms();
    o.clock_cb = fake_clock;
  }
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  {
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    CHECK(vc_webhook_listen(e->ctx, addr) == port);
  }
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  twilio_channel(e, "sms", 10, VC_SIM_TWILIO_AUTH_TOKEN, e->sms);
  snprintf(config, sizeof(config),
           "{\"base_url\":\"%s\",\"webhook_public_key\":\"%s\"}",
           vc_sim_base_url(e->sim), vc_sim_sendgrid_public_key(e->sim));
  snprintf(creds, sizeof(creds), "{\"api_key\":\"%s\"}",
           VC_SIM_SENDGRID_API_KEY);
  add_channel(e, "mail", "sendgrid", 10, config, creds,
              "billing@acme.test", e->email);
  snprintf(url, sizeof(url), "%s/webhooks/%s", e->base, e->email);
  w.url = url;
  CHECK_OK(vc_sim_webhooks_set(e->sim, "sendgrid", &w));
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
  vc_sim_stop(e->sim);
}

static int status_of(env *e, const char *id)
{
  vc_message *m;
  int st;

  CHECK_OK(vc_message_lookup(&m, e->t, id));
  st = vc_message_status(m);
  vc_message_free(m);
  return st;
}

/* Wait (real time) until every message has `want`, engine threads on. */
static int wait_status(env *e, char (*ids)[VC_ID_SIZE], size_t n, int want,
                       int ms)
{
  int64_t deadline = wall_ms() + ms;

  while (wall_ms() < deadline) {
    size_t ok = 0;
    for (size_t i = 0; i < n; i++)
      ok += status_of(e, ids[i]) == want;
    if (ok == n)
      return 1;
    vc_ctx_wakeup(e->ctx);
    usleep(20000);
  }
  return 0;
}

static void send_sms(env *e, char id[VC_ID_SIZE], const char *text)
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;

  s.kind = VC_CHANNEL_SMS;
  s.to = "+14155550123";
  s.text = text;
  CHECK_OK(vc_message_send(id, e->t, &s));
}

static void send_email(env *e, char id[VC_ID_SIZE])
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;

  s.kind = VC_CHANNEL_EMAIL;
  s.to = "customer@example.com";
  s.subject = "Your invoice";
  s.text = "Invoice 42 is attached.";
  s.html = "<p>Invoice <b>42</b> is attached.</p>";
  CHECK_OK(vc_message_send(id, e->t, &s));
}

static int count_events(env *e, const char *type, const char *subject)
{
  vc_iter *it;
  const vc_event *ev;
  int n = 0;

  CHECK_OK(vc_events_since(&it, e->t, 0));
  while (vc_event_next(&ev, it) == 0)
    n += strcmp(ev->type, type) == 0 && strcmp(ev->subject_id, subject) == 0;
  vc_iter_free(it);
  return n;
}

static void test_delivery__sms_and_email_delivered(void)
{
  env e;
  char ids[2][VC_ID_SIZE];
  vc_sim_request r;
  vc_message *m;
  int twilio = 0, sendgrid = 0;

  env_open(&e, 0);
  send_sms(&e, ids[0], "Your order shipped");
  send_email(&e, ids[1]);
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  CHECK(wait_status(&e, ids, 2, VC_MSG_DELIVERED, 20000));
  CHECK_OK(vc_ctx_stop(e.ctx));
  for (size_t i = 0; i < vc_sim_received_count(e.sim); i++) {
    CHECK_OK(vc_sim_received_get(e.sim, i, &r));
    if (strcmp(r.provider, "twilio") == 0 && r.status == 201) {
      twilio++;
      CHECK(strncmp(r.authorization, "Basic ", 6) == 0);
      CHECK(strstr(r.body, "To=%2B14155550123") != NULL);
      CHECK(strstr(r.body, "StatusCallback=") != NULL);
    } else if (strcmp(r.provider, "sendgrid") == 0 && r.status == 202) {
      sendgrid++;
      CHECK(strncmp(r.authorization, "Bearer ", 7) == 0);
      CHECK(strstr(r.body, ids[1]) != NULL); /* custom_args */
    }
  }
  CHECK(twilio == 1 && sendgrid == 1);
  CHECK_OK(vc_message_lookup(&m, e.t, ids[0]));
  CHECK(strncmp(vc_message_provider_id(m), "SM", 2) == 0);
  vc_message_free(m);
  env_close(&e);
}

static void test_delivery__duplicates_and_reordering(void)
{
  env e;
  char ids[1][VC_ID_SIZE];
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;

  env_open(&e, 0);
  w.duplicates = 2;
  w.reorder = 1;
  CHECK_OK(vc_sim_webhooks_set(e.sim, "twilio", &w));
  send_sms(&e, ids[0], "twice");
  CHECK_OK(vc_ctx_start(e.ctx, 1));
  CHECK(wait_status(&e, ids, 1, VC_MSG_DELIVERED, 20000));
  /* Every callback arrived three times, `delivered` before `sent`. */
  CHECK(vc_sim_webhooks_wait(e.sim, 10000) == 0);
  CHECK_OK(vc_ctx_stop(e.ctx));
  CHECK(status_of(&e, ids[0]) == VC_MSG_DELIVERED);
  CHECK(count_events(&e, "message.delivered", ids[0]) == 1);
  env_close(&e);
}

static long post_raw(env *e, const char *channel, const char *sig,
                     const char *body)
{
  char url[160], header[160];
  struct curl_slist *h = NULL;
  long status = 0;
  CURL *c = curl_easy_init();

  snprintf(url, sizeof(url), "%s/webhooks/%s", e->base, channel);
  if (sig != NULL) {
    snprintf(header, sizeof(header), "X-Twilio-Signature: %s", sig);
    h = curl_slist_append(h, header);
  }
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return status;
}

static void test_delivery__forged_webhooks_refused(void)
{
  env e;
  char ids[1][VC_ID_SIZE], body[256];
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  vc_message *m;

  env_open(&e, 0);
  w.off = 1;
  CHECK_OK(vc_sim_webhooks_set(e.sim, "twilio", &w));
  send_sms(&e, ids[0], "forged");
  vc_ctx_run(e.ctx, 0);
  CHECK(status_of(&e, ids[0]) == VC_MSG_SENT);
  CHECK_OK(vc_message_lookup(&m, e.t, ids[0]));
  snprintf(body, sizeof(body),
           "MessageSid=%s&MessageStatus=undelivered&AccountSid=%s",
           vc_message_provider_id(m), VC_SIM_TWILIO_ACCOUNT_SID);
  vc_message_free(m);
  CHECK(post_raw(&e, e.sms, NULL, body) == 401);
  CHECK(post_raw(&e, e.sms, "bm90IGEgc2lnbmF0dXJl", body) == 401);
  CHECK(status_of(&e, ids[0]) == VC_MSG_SENT);
  env_close(&e);
}

static void test_delivery__retry_after_429(void)
{
  env e;
  char ids[1][VC_ID_SIZE];
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  vc_sim_request r;
  int64_t first = 0, second = 0;

  env_open(&e, 0);
  f.kind = VC_SIM_FAULT_429;
  f.retry_after_s = 1;
  CHECK_OK(vc_sim_fault_add(e.sim, "twilio", &f));
  send_sms(&e, ids[0], "rate limited");
  CHECK_OK(vc_ctx_start(e.ctx, 1));
  CHECK(wait_status(&e, ids, 1, VC_MSG_DELIVERED, 20000));
  CHECK_OK(vc_ctx_stop(e.ctx));
  for (size_t i = 0; i < vc_sim_received_count(e.sim); i++) {
    CHECK_OK(vc_sim_received_get(e.sim, i, &r));
    if (strcmp(r.provider, "twilio") != 0)
      continue;
    if (r.status == 429)
      first = r.received_ms;
    else if (r.status == 201)
      second = r.received_ms;
  }
  CHECK(first > 0 && second > 0);
  /* Retry-After: 1 was honoured. */
  CHECK(second - first >= 1000);
  env_close(&e);
}

static void test_delivery__persistent_5xx_fails_over(void)
{
  env e;
  char backup[VC_ID_SIZE], ids[1][VC_ID_SIZE];
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  vc_message *m;
  int rounds = 0;

  env_open(&e, 1);
  twilio_channel(&e, "sms-backup", 20, VC_SIM_TWILIO_AUTH_TOKEN, backup);
  f.kind = VC_SIM_FAULT_5XX;
  f.status = 503;
  f.count = 5;
  CHECK_OK(vc_sim_fault_add(e.sim, "twilio", &f));
  send_sms(&e, ids[0], "fail over");
  while (status_of(&e, ids[0]) != VC_MSG_SENT && rounds++ < 50) {
    vc_ctx_run(e.ctx, 0);
    g_fake_now += 11 * 60 * 1000; /* past the longest backoff */
  }
  CHECK_OK(vc_message_lookup(&m, e.t, ids[0]));
  CHECK(vc_message_status(m) >= VC_MSG_SENT);
  CHECK_STR(vc_message_channel_id(m), backup);
  CHECK(vc_message_attempts(m) == 6);
  vc_message_free(m);
  env_close(&e);
}

static void test_delivery__auth_failure_fails_over(void)
{
  env e;
  char good[VC_ID_SIZE], bad[VC_ID_SIZE], ids[1][VC_ID_SIZE];
  vc_message *m;

  env_open(&e, 0);
  /* A higher-priority channel with a wrong token: 401, then the next. */
  twilio_channel(&e, "sms-wrong", 1, "00000000000000000000000000000000",
                 bad);
  (void)bad;
  snprintf(good, sizeof(good), "%s", e.sms);
  send_sms(&e, ids[0], "auth");
  vc_ctx_run(e.ctx, 0);
  vc_ctx_run(e.ctx, 0);
  CHECK_OK(vc_message_lookup(&m, e.t, ids[0]));
  CHECK(vc_message_status(m) >= VC_MSG_SENT);
  CHECK_STR(vc_message_channel_id(m), good);
  vc_message_free(m);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_delivery__sms_and_email_delivered),
  VC_TEST(test_delivery__duplicates_and_reordering),
  VC_TEST(test_delivery__forged_webhooks_refused),
  VC_TEST(test_delivery__retry_after_429),
  VC_TEST(test_delivery__persistent_5xx_fails_over),
  VC_TEST(test_delivery__auth_failure_fails_over),
)
