/*
 * End to end over loopback with the "aws-sns" adapter: the dispatcher
 * publishes SMS to the simulator's SNS (which recomputes every SigV4
 * signature), and the simulator's signed SNS messages come back through
 * vc_webhook_listen(), where the adapter fetches the signing certificate
 * and the SubscribeURL from the simulator (config fetch_base_url) after
 * checking that they name SNS's own host.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "net_util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <time.h>

#define PHONE "+14155550123"
#define OUR_NUMBER "+12065550100"

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
  char hook[160];
  char sms[VC_ID_SIZE];
} env;

static void sns_channel(env *e, const char *name, int priority,
                        const char *secret, char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;
  char config[512], creds[256];

  snprintf(config, sizeof(config),
           "{\"region\":\"%s\",\"endpoint\":\"%s\",\"sms_type\":"
           "\"Transactional\",\"topic_arns\":[\"%s\"],"
           "\"fetch_base_url\":\"%s\"}", VC_SIM_SNS_REGION,
           vc_sim_base_url(e->sim), VC_SIM_SNS_TOPIC_ARN,
           vc_sim_base_url(e->sim));
  snprintf(creds, sizeof(creds),
           "{\"access_key_id\":\"%s\",\"secret_access_key\":\"%s\"}",
           VC_SIM_SNS_ACCESS_KEY_ID, secret);
  s.name = name;
  s.provider = "aws-sns";
  s.config_json = config;
  s.credentials_json = creds;
  s.sender = "ACME";
  s.priority = priority;
  CHECK_OK(vc_channel_new(&ch, e->t, &s));
  snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void env_open(env *e, int fake_clock_on)
{
  static const uint8_t key[32] = { 7, 7, 7 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;
  char addr[32];
  int port = free_port();

  memset(e, 0, sizeof(*e));
  CHECK_OK(vc_sim_start(&e->sim, NULL));
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
  snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  CHECK(vc_webhook_listen(e->ctx, addr) == port);
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  sns_channel(e, "sms", 10, VC_SIM_SNS_SECRET_ACCESS_KEY, e->sms);
  snprintf(e->hook, sizeof(e->hook), "%s/webhooks/%s", e->base, e->sms);
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
  vc_sim_stop(e->sim);
}

static void send_sms(env *e, char id[VC_ID_SIZE], const char *to,
                     const char *text)
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;

  s.kind = VC_CHANNEL_SMS;
  s.to = to;
  s.text = text;
  CHECK_OK(vc_message_send(id, e->t, &s));
}

static int count_events(env *e, const char *type)
{
  vc_iter *it;
  const vc_event *ev;
  int n = 0;

  CHECK_OK(vc_events_since(&it, e->t, 0));
  while (vc_event_next(&ev, it) == 0)
    n += strcmp(ev->type, type) == 0;
  vc_iter_free(it);
  return n;
}

/* Requests the simulator answered on `path_prefix` with `status`. */
static int sim_count(env *e, const char *method, const char *path_prefix,
                     int status)
{
  vc_sim_request r;
  int n = 0;

  for (size_t i = 0; i < vc_sim_received_count(e->sim); i++) {
    CHECK_OK(vc_sim_received_get(e->sim, i, &r));
    n += strcmp(r.method, method) == 0 &&
         strncmp(r.path, path_prefix, strlen(path_prefix)) == 0 &&
         (status == 0 || r.status == status);
  }
  return n;
}

/* POST a body as SNS would, with curl; the HTTP status. */
static long post_hook(env *e, const char *body, const char *type)
{
  struct curl_slist *h = NULL;
  char line[128];
  long status = 0;
  CURL *c = curl_easy_init();

  h = curl_slist_append(h, "Content-Type: text/plain; charset=UTF-8");
  snprintf(line, sizeof(line), "x-amz-sns-message-type: %s", type);
  h = curl_slist_append(h, line);
  curl_easy_setopt(c, CURLOPT_URL, e->hook);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return status;
}

/* Rows of vc_inbound_message, read from the database file. */
static int inbound_rows(const char *from, const char *to, const char *text)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  int n = -1;

  CHECK(sqlite3_open_v2(vc_test_path("d.db"), &db, SQLITE_OPEN_READONLY,
                        NULL) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM vc_inbound_message "
                           "WHERE from_addr = ?1 AND to_addr = ?2 AND "
                           "text_body = ?3", -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

/* Wait (real time) until `cond` holds. */
#define WAIT_FOR(cond, ms)                                                \
  do {                                                                    \
    int64_t until_ = wall_ms() + (ms);                                    \
    while (!(cond) && wall_ms() < until_)                                 \
      usleep(20000);                                                      \
    CHECK(cond);                                                          \
  } while (0)

/* ------------------------------------------------------------------ */

static void test_sns__sent_with_message_id(void)
{
  env e;
  char id[VC_ID_SIZE];
  vc_sim_request r;
  vc_message *m;
  int found = 0;

  env_open(&e, 0);
  send_sms(&e, id, PHONE, "Your code is 123456");
  vc_ctx_run(e.ctx, 0);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_SENT);
  CHECK(strlen(vc_message_provider_id(m)) == 36);
  CHECK(vc_sim_sent_count(e.sim, vc_message_provider_id(m)) == 1);
  vc_message_free(m);
  CHECK(vc_sim_sent_count(e.sim, PHONE) == 1);
  for (size_t i = 0; i < vc_sim_received_count(e.sim); i++) {
    CHECK_OK(vc_sim_received_get(e.sim, i, &r));
    if (strcmp(r.provider, "sns") != 0 || r.status != 200)
      continue;
    found++;
    CHECK(strncmp(r.authorization, "AWS4-HMAC-SHA256 Credential="
                  VC_SIM_SNS_ACCESS_KEY_ID "/", 49) == 0);
    CHECK(strstr(r.authorization, "/us-east-1/sns/aws4_request, "
                 "SignedHeaders=content-type;host;x-amz-date, ") != NULL);
    CHECK(strstr(r.body, "Action=Publish&Version=2010-03-31&PhoneNumber="
                 "%2B14155550123&Message=Your+code+is+123456") != NULL);
    CHECK(strstr(r.body, "StringValue=Transactional") != NULL);
    /* The channel's sender is an alphanumeric sender ID. */
    CHECK(strstr(r.body, "Name=AWS.SNS.SMS.SenderID&") != NULL);
    CHECK(strstr(r.body, "StringValue=ACME") != NULL);
  }
  CHECK(found == 1);
  /* SNS reports no delivery: the message stays sent. */
  CHECK(count_events(&e, "message.delivered") == 0);
  env_close(&e);
}

static void test_sns__permanent_error_failed(void)
{
  env e;
  char id[VC_ID_SIZE];
  vc_message *m;

  env_open(&e, 0);
  send_sms(&e, id, "+15005550001", "nobody there");
  vc_ctx_run(e.ctx, 0);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_FAILED);
  CHECK_STR(vc_message_provider_code(m), "InvalidParameter");
  CHECK_STR(vc_message_error_message(m), "Invalid parameter: PhoneNumber "
            "Reason: +15005550001 is not valid to publish to");
  CHECK(vc_message_attempts(m) == 1);
  vc_message_free(m);
  env_close(&e);
}

static void test_sns__wrong_secret_fails_over(void)
{
  env e;
  char bad[VC_ID_SIZE], id[VC_ID_SIZE];
  vc_message *m;

  env_open(&e, 0);
  /* A higher-priority channel signing with the wrong secret: 403
   * SignatureDoesNotMatch, then the next channel. */
  sns_channel(&e, "sms-wrong", 1, "bm90LXRoZS1zZWNyZXQ", bad);
  send_sms(&e, id, PHONE, "fail over");
  for (int i = 0; i < 3; i++)
    vc_ctx_run(e.ctx, 0);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_SENT);
  CHECK_STR(vc_message_channel_id(m), e.sms);
  vc_message_free(m);
  CHECK(sim_count(&e, "POST", "/", 403) == 1);
  env_close(&e);
}

static void test_sns__throttling_retried(void)
{
  env e;
  char id[VC_ID_SIZE];
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  vc_message *m;
  int rounds = 0;

  env_open(&e, 1);
  /* Both throttling answers: 429 Throttled, then 400 Throttling. */
  f.kind = VC_SIM_FAULT_429;
  CHECK_OK(vc_sim_fault_add(e.sim, "sns", &f));
  send_sms(&e, id, PHONE, "after the throttle");
  vc_ctx_run(e.ctx, 0);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_QUEUED ||
        vc_message_status(m) == VC_MSG_SENDING);
  vc_message_free(m);
  CHECK(sim_count(&e, "POST", "/", 429) == 1);
  CHECK_OK(vc_sim_set(e.sim, "sns.throttling", "Throttling"));
  CHECK_OK(vc_sim_fault_add(e.sim, "sns", &f));
  do {
    g_fake_now += 5000;           /* past the first backoffs */
    vc_ctx_run(e.ctx, 0);
    CHECK_OK(vc_message_lookup(&m, e.t, id));
    if (vc_message_status(m) == VC_MSG_SENT)
      break;
    vc_message_free(m);
    m = NULL;
  } while (++rounds < 40);
  CHECK(m != NULL);
  CHECK(vc_message_status(m) == VC_MSG_SENT);
  CHECK(vc_message_attempts(m) == 3);
  vc_message_free(m);
  CHECK(sim_count(&e, "POST", "/", 429) == 1);
  CHECK(sim_count(&e, "POST", "/", 400) == 1);
  CHECK(sim_count(&e, "POST", "/", 200) == 1);
  env_close(&e);
}

static void test_sns__subscription_confirmed(void)
{
  env e;
  vc_sim_sns_message m = VC_SIM_SNS_MESSAGE_INIT;
  vc_sim_webhook_stats ws;
  char path[128];

  env_open(&e, 0);
  m.type = "SubscriptionConfirmation";
  m.signature_version = 2;
  CHECK_OK(vc_sim_sns_post(e.sim, e.hook, &m));
  CHECK(vc_sim_webhooks_wait(e.sim, 20000) == 0);
  vc_sim_webhooks_stats(e.sim, &ws);
  CHECK(ws.posted == 1 && ws.failed == 0);
  CHECK(vc_sim_sns_confirmed(e.sim, VC_SIM_SNS_TOPIC_ARN) == 1);
  /* The certificate was fetched from the simulator, once. */
  CHECK(vc_sim_get(e.sim, "sns.cert_path", path, sizeof(path)) > 0);
  CHECK(sim_count(&e, "GET", path, 200) == 1);
  CHECK(sim_count(&e, "GET", "/?Action=ConfirmSubscription", 200) == 1);
  /* A second message reuses the cached certificate. */
  m.type = "UnsubscribeConfirmation";
  m.signature_version = 1;
  CHECK_OK(vc_sim_sns_post(e.sim, e.hook, &m));
  CHECK(vc_sim_webhooks_wait(e.sim, 20000) == 0);
  vc_sim_webhooks_stats(e.sim, &ws);
  CHECK(ws.posted == 2 && ws.failed == 0);
  CHECK(sim_count(&e, "GET", path, 0) == 1);
  CHECK(sim_count(&e, "GET", "/?Action=ConfirmSubscription", 0) == 1);
  env_close(&e);
}

static void test_sns__inbound_stored(void)
{
  env e;
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  vc_sim_webhook_stats ws;

  env_open(&e, 0);
  w.url = e.hook;
  w.duplicates = 1;             /* SNS redelivers: stored once */
  CHECK_OK(vc_sim_webhooks_set(e.sim, "sns", &w));
  CHECK_OK(vc_sim_sns_inbound(e.sim, NULL, PHONE, OUR_NUMBER,
                              "Yes, confirm my order"));
  CHECK(vc_sim_webhooks_wait(e.sim, 20000) == 0);
  vc_sim_webhooks_stats(e.sim, &ws);
  CHECK(ws.posted == 2 && ws.failed == 0);
  WAIT_FOR(count_events(&e, "inbound.received") == 1, 5000);
  CHECK(inbound_rows(PHONE, OUR_NUMBER, "Yes, confirm my order") == 1);
  /* A notification that is not a two-way SMS is acknowledged, nothing
   * more. */
  {
    vc_sim_sns_message m = VC_SIM_SNS_MESSAGE_INIT;
    m.message = "some other topic traffic";
    m.subject = "hello";
    CHECK_OK(vc_sim_sns_post(e.sim, NULL, &m));
    CHECK(vc_sim_webhooks_wait(e.sim, 20000) == 0);
    vc_sim_webhooks_stats(e.sim, &ws);
    CHECK(ws.posted == 4 && ws.failed == 0);
  }
  CHECK(count_events(&e, "inbound.received") == 1);
  env_close(&e);
}

static void test_sns__forged_messages_refused(void)
{
  env e;
  vc_sim_sns_message m = VC_SIM_SNS_MESSAGE_INIT;
  char *body, *p, path[128];
  int fetched;

  env_open(&e, 0);
  CHECK(vc_sim_get(e.sim, "sns.cert_path", path, sizeof(path)) > 0);
  m.message = "{\"originationNumber\":\"" PHONE "\",\"destinationNumber\":"
              "\"" OUR_NUMBER "\",\"messageBody\":\"pay 100\","
              "\"inboundMessageId\":\"x\"}";
  /* Genuine: accepted. */
  CHECK_OK(vc_sim_sns_build(e.sim, &m, &body));
  CHECK(post_hook(&e, body, "Notification") == 200);
  free(body);
  CHECK(inbound_rows(PHONE, OUR_NUMBER, "pay 100") == 1);
  /* Tampered: one digit changed after signing. */
  CHECK_OK(vc_sim_sns_build(e.sim, &m, &body));
  p = strstr(body, "pay 100");
  CHECK(p != NULL);
  p[4] = '9';
  CHECK(post_hook(&e, body, "Notification") == 401);
  free(body);
  CHECK(inbound_rows(PHONE, OUR_NUMBER, "pay 900") == 0);
  /* Signed by the same key but naming a certificate on another host:
   * refused before anything is fetched. */
  fetched = sim_count(&e, "GET", path, 0);
  m.cert_host = "sns.us-east-1.amazonaws.com.evil.example";
  CHECK_OK(vc_sim_sns_build(e.sim, &m, &body));
  CHECK(post_hook(&e, body, "Notification") == 401);
  free(body);
  CHECK(sim_count(&e, "GET", path, 0) == fetched);
  /* Another topic, or a stale message: refused. */
  m.cert_host = NULL;
  m.topic_arn = "arn:aws:sns:us-east-1:999999999999:someone-else";
  CHECK_OK(vc_sim_sns_build(e.sim, &m, &body));
  CHECK(post_hook(&e, body, "Notification") == 401);
  free(body);
  m.topic_arn = NULL;
  m.timestamp_ms = wall_ms() - 2 * 3600 * 1000;
  CHECK_OK(vc_sim_sns_build(e.sim, &m, &body));
  CHECK(post_hook(&e, body, "Notification") == 401);
  free(body);
  /* A subscription to a topic not configured is never confirmed. */
  m.timestamp_ms = 0;
  m.type = "SubscriptionConfirmation";
  m.message = NULL;
  m.topic_arn = "arn:aws:sns:us-east-1:999999999999:someone-else";
  CHECK_OK(vc_sim_sns_build(e.sim, &m, &body));
  CHECK(post_hook(&e, body, "SubscriptionConfirmation") == 401);
  free(body);
  CHECK(vc_sim_sns_confirmed(e.sim, NULL) == 0);
  CHECK(count_events(&e, "inbound.received") == 1);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_sns__sent_with_message_id),
  VC_TEST(test_sns__permanent_error_failed),
  VC_TEST(test_sns__wrong_secret_fails_over),
  VC_TEST(test_sns__throttling_retried),
  VC_TEST(test_sns__subscription_confirmed),
  VC_TEST(test_sns__inbound_stored),
  VC_TEST(test_sns__forged_messages_refused),
)
