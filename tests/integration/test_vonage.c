/*
 * The Vonage SMS adapter end to end over loopback: the dispatcher sends
 * to the simulator's /sms/json with libcurl, and the simulator's signed
 * delivery receipts and inbound messages come back through
 * vc_webhook_listen(). Public API only; SQLite on disk (read directly
 * once, to see the stored inbound text).
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "net_util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <mbedtls/md.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <time.h>

#define TO "+447700900000"

typedef struct env {
  vc_sim *sim;
  vc_ctx *ctx;
  vc_tenant *t;
  char base[64];
  char sms[VC_ID_SIZE];
} env;

/* A vonage-sms channel for the simulator's account; `extra` is more
 * config JSON ("" for none). */
static void vonage_channel(env *e, const char *name, const char *method,
                           const char *extra, char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  char config[512], creds[256];
  vc_channel *ch;

  snprintf(config, sizeof(config), "{\"base_url\":\"%s\","
           "\"signature_method\":\"%s\"%s}", vc_sim_base_url(e->sim), method,
           extra);
  snprintf(creds, sizeof(creds), "{\"api_key\":\"%s\",\"api_secret\":\"%s\","
           "\"signature_secret\":\"%s\"}", VC_SIM_VONAGE_API_KEY,
           VC_SIM_VONAGE_API_SECRET, VC_SIM_VONAGE_SIGNATURE_SECRET);
  s.name = name;
  s.provider = "vonage-sms";
  s.config_json = config;
  s.credentials_json = creds;
  s.sender = "AcmeInc";
  CHECK_OK(vc_channel_new(&ch, e->t, &s));
  snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

/* The simulator signs as `method`; receipts come after `delay_ms`, so
 * the dispatcher has recorded `sent` by then. */
static void env_open(env *e, const char *method)
{
  static const uint8_t key[32] = { 7, 7, 7 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char addr[32], url[160];
  vc_store *store;
  int port = 0, tries = 0;

  memset(e, 0, sizeof(*e));
  /* The simulator first, so that its port is not the one picked next. */
  CHECK_OK(vc_sim_start(&e->sim, NULL));
  CHECK_OK(vc_sim_set(e->sim, "vonage.signature_method", method));
  mk.key = key;
  mk.key_len = 32;
  o.master_key = &mk;
  o.allow_private_network = 1;
  /* A port free a moment ago may be taken by then: try another. */
  do {
    vc_ctx_free(e->ctx);
    e->ctx = NULL;
    port = free_port();
    snprintf(e->base, sizeof(e->base), "http://127.0.0.1:%d", port);
    CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("v.db"), NULL));
    o.store = store;
    o.public_base_url = e->base;
    CHECK_OK(vc_ctx_new(&e->ctx, &o));
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  } while (vc_webhook_listen(e->ctx, addr) != port && ++tries < 5);
  CHECK(tries < 5);
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  vonage_channel(e, "sms", method, "", e->sms);
  /* inbound messages go to the number's URL: this channel's */
  snprintf(url, sizeof(url), "%s/webhooks/%s", e->base, e->sms);
  w.url = url;
  w.delay_ms = 150;
  CHECK_OK(vc_sim_webhooks_set(e->sim, "vonage", &w));
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

/* Run the engine on this thread until `id` has `want` (real time). */
static int run_until(env *e, const char *id, int want, int ms)
{
  int64_t deadline = wall_ms() + ms;

  while (wall_ms() < deadline) {
    if (status_of(e, id) == want)
      return 1;
    vc_ctx_run(e->ctx, 20);
  }
  return status_of(e, id) == want;
}

static void send_sms(env *e, char id[VC_ID_SIZE], const char *text)
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;

  s.kind = VC_CHANNEL_SMS;
  s.to = TO;
  s.text = text;
  CHECK_OK(vc_message_send(id, e->t, &s));
}

static int count_events(env *e, const char *type, const char *subject)
{
  vc_iter *it;
  const vc_event *ev;
  int n = 0;

  CHECK_OK(vc_events_since(&it, e->t, 0));
  while (vc_event_next(&ev, it) == 0)
    n += strcmp(ev->type, type) == 0 &&
         (subject == NULL || strcmp(ev->subject_id, subject) == 0);
  vc_iter_free(it);
  return n;
}

/* The i-th request the simulator answered on /sms/json. */
static int vonage_request(env *e, size_t nth, vc_sim_request *out)
{
  size_t k = 0;

  for (size_t i = 0; i < vc_sim_received_count(e->sim); i++) {
    CHECK_OK(vc_sim_received_get(e->sim, i, out));
    if (strcmp(out->provider, "vonage") == 0 && k++ == nth)
      return 1;
  }
  return 0;
}

/* ---- tests ------------------------------------------------------------ */

static void test_vonage__delivered(void)
{
  env e;
  char id[VC_ID_SIZE], want[128];
  vc_sim_request r;
  vc_message *m;

  env_open(&e, "md5hash");
  send_sms(&e, id, "Your order #42 ships today & arrives Friday");
  CHECK(run_until(&e, id, VC_MSG_DELIVERED, 10000));
  CHECK(vonage_request(&e, 0, &r));
  CHECK(r.status == 200 && strlen(r.message_id) == 16);
  CHECK_STR(r.path, "/sms/json");
  /* the wire: numbers without '+', our id as client-ref, our callback,
   * GSM-7 text without a type */
  CHECK(strstr(r.body, "api_key=" VC_SIM_VONAGE_API_KEY "&api_secret=")
        != NULL);
  CHECK(strstr(r.body, "&from=AcmeInc&to=447700900000&text=Your+order") !=
        NULL);
  CHECK(strstr(r.body, "type=") == NULL);
  snprintf(want, sizeof(want), "&client-ref=%s", id);
  CHECK(strstr(r.body, want) != NULL);
  snprintf(want, sizeof(want), "&callback=http%%3A%%2F%%2F127.0.0.1%%3A%s"
           "%%2Fwebhooks%%2F%s", strchr(e.base + 7, ':') + 1, e.sms);
  CHECK(strstr(r.body, want) != NULL);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK_STR(vc_message_provider_id(m), r.message_id);
  CHECK_STR(vc_message_channel_id(m), e.sms);
  vc_message_free(m);
  CHECK(vc_sim_webhooks_wait(e.sim, 10000) == 0);
  vc_ctx_run(e.ctx, 0);
  CHECK(count_events(&e, "message.delivered", id) == 1);
  env_close(&e);
}

static void test_vonage__unicode(void)
{
  env e;
  char id[VC_ID_SIZE];
  vc_sim_request r;

  env_open(&e, "sha256hmac");
  /* "Namaste" in Devanagari: not GSM-7 */
  send_sms(&e, id, "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d"
                   "\xe0\xa4\xa4\xe0\xa5\x87");
  CHECK(run_until(&e, id, VC_MSG_DELIVERED, 10000));
  CHECK(vonage_request(&e, 0, &r));
  CHECK(strstr(r.body, "&type=unicode") != NULL);
  CHECK(strstr(r.body, "&text=%E0%A4%A8%E0%A4%AE") != NULL);
  env_close(&e);
}

static void test_vonage__multipart(void)
{
  env e;
  char id[VC_ID_SIZE], id2[VC_ID_SIZE], text[401];
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  vc_sim_request r;
  vc_message *m;

  env_open(&e, "sha1hmac");
  memset(text, 'x', 400);
  text[400] = '\0';
  send_sms(&e, id, text);
  CHECK(run_until(&e, id, VC_MSG_DELIVERED, 10000));
  CHECK(vc_sim_webhooks_wait(e.sim, 10000) == 0);
  vc_ctx_run(e.ctx, 0);
  CHECK(vonage_request(&e, 0, &r));
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  /* one request, three parts as the library counted them; the first
   * part's id kept, every part's receipt applied once */
  CHECK(vc_message_segments(m) == 3);
  CHECK_STR(vc_message_provider_id(m), r.message_id);
  vc_message_free(m);
  CHECK(count_events(&e, "message.delivered", id) == 1);
  CHECK(vc_sim_sent_count(e.sim, id) == 1);
  CHECK(!vonage_request(&e, 1, &r));

  /* parts that fail: the first final receipt decides, with Vonage's
   * err-code and its meaning */
  w.url = NULL;
  w.delay_ms = 150;
  w.final_status = "failed";
  CHECK_OK(vc_sim_webhooks_set(e.sim, "vonage", &w));
  send_sms(&e, id2, text);
  CHECK(run_until(&e, id2, VC_MSG_UNDELIVERED, 10000));
  CHECK(vc_sim_webhooks_wait(e.sim, 10000) == 0);
  vc_ctx_run(e.ctx, 0);
  CHECK_OK(vc_message_lookup(&m, e.t, id2));
  CHECK(vc_message_status(m) == VC_MSG_UNDELIVERED);
  CHECK_STR(vc_message_provider_code(m), "8");
  CHECK_STR(vc_message_error_message(m), "Network error");
  vc_message_free(m);
  CHECK(count_events(&e, "message.undelivered", id2) == 1);
  CHECK(count_events(&e, "message.delivered", id2) == 0);
  env_close(&e);
}

/* POST a body to the channel's webhook URL; the HTTP status. */
static long post_raw(env *e, const char *ctype, const char *body,
                     const char *auth)
{
  char url[160], h1[160], h2[1024];
  struct curl_slist *h = NULL;
  long status = 0;
  CURL *c = curl_easy_init();

  snprintf(url, sizeof(url), "%s/webhooks/%s", e->base, e->sms);
  snprintf(h1, sizeof(h1), "Content-Type: %s", ctype);
  h = curl_slist_append(h, h1);
  if (auth != NULL) {
    snprintf(h2, sizeof(h2), "Authorization: %s", auth);
    h = curl_slist_append(h, h2);
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

/* GET the channel's webhook URL with a query; the HTTP status. */
static long get_raw(env *e, const char *query)
{
  char url[2048];
  long status = 0;
  CURL *c = curl_easy_init();

  snprintf(url, sizeof(url), "%s/webhooks/%s?%s", e->base, e->sms, query);
  curl_easy_setopt(c, CURLOPT_URL, url);
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  return status;
}

/* hex HMAC-SHA256 of s under the simulator's signature secret, as
 * Vonage writes it (upper case). */
static void hmac256(const char *s, char out[65])
{
  unsigned char mac[32];

  mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                  (const unsigned char *)VC_SIM_VONAGE_SIGNATURE_SECRET,
                  strlen(VC_SIM_VONAGE_SIGNATURE_SECRET),
                  (const unsigned char *)s, strlen(s), mac);
  for (int i = 0; i < 32; i++)
    sprintf(out + 2 * i, "%02X", mac[i]);
}

static void test_vonage__forged_refused(void)
{
  env e;
  char id[VC_ID_SIZE], body[1024], signed_str[1024], sig[65], q[1200];
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  vc_message *m;
  long long now = (long long)(wall_ms() / 1000);
  const char *pid;

  env_open(&e, "sha256hmac");
  w.off = 1;
  CHECK_OK(vc_sim_webhooks_set(e.sim, "vonage", &w));
  send_sms(&e, id, "forged");
  CHECK(run_until(&e, id, VC_MSG_SENT, 10000));
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  pid = vc_message_provider_id(m);
  /* a receipt signed here, the way the simulator and Vonage sign:
   * sorted "&name=value", HMAC-SHA256, hex */
  snprintf(signed_str, sizeof(signed_str), "&client-ref=%s&messageId=%s"
           "&msisdn=447700900000&nonce=n-%lld&status=failed&timestamp=%lld",
           id, pid, now, now);
  hmac256(signed_str, sig);
  /* unsigned, a wrong sig, a tampered status: refused */
  snprintf(body, sizeof(body), "client-ref=%s&messageId=%s&msisdn="
           "447700900000&nonce=n-%lld&status=failed&timestamp=%lld", id,
           pid, now, now);
  CHECK(post_raw(&e, "application/x-www-form-urlencoded", body, NULL) ==
        401);
  snprintf(body, sizeof(body), "client-ref=%s&messageId=%s&msisdn="
           "447700900000&nonce=n-%lld&status=failed&timestamp=%lld&sig=%064d",
           id, pid, now, now, 0);
  CHECK(post_raw(&e, "application/x-www-form-urlencoded", body, NULL) ==
        401);
  snprintf(body, sizeof(body), "client-ref=%s&messageId=%s&msisdn="
           "447700900000&nonce=n-%lld&status=delivered&timestamp=%lld&sig=%s",
           id, pid, now, now, sig);
  CHECK(post_raw(&e, "application/x-www-form-urlencoded", body, NULL) ==
        401);
  /* a stale one, correctly signed an hour ago */
  {
    char old_str[1024], old_sig[65];
    snprintf(old_str, sizeof(old_str), "&client-ref=%s&messageId=%s"
             "&msisdn=447700900000&nonce=n-old&status=failed&timestamp=%lld",
             id, pid, now - 3600);
    hmac256(old_str, old_sig);
    snprintf(q, sizeof(q), "client-ref=%s&messageId=%s&msisdn=447700900000"
             "&nonce=n-old&status=failed&timestamp=%lld&sig=%s", id, pid,
             now - 3600, old_sig);
    CHECK(get_raw(&e, q) == 401);
  }
  vc_ctx_run(e.ctx, 0);
  CHECK(status_of(&e, id) == VC_MSG_SENT);
  /* the genuine one, as a GET receipt, applies; its replay does not */
  snprintf(q, sizeof(q), "client-ref=%s&messageId=%s&msisdn=447700900000"
           "&nonce=n-%lld&status=failed&timestamp=%lld&sig=%s", id, pid, now,
           now, sig);
  CHECK(get_raw(&e, q) == 200);
  CHECK(status_of(&e, id) == VC_MSG_UNDELIVERED);
  CHECK(get_raw(&e, q) == 200);
  CHECK(count_events(&e, "message.undelivered", id) == 1);
  vc_message_free(m);
  env_close(&e);
}

static void test_vonage__unsigned_sender_refused(void)
{
  env e;
  char id[VC_ID_SIZE];
  vc_sim_webhook_stats ws;

  /* the simulator posts unsigned receipts to a channel that wants md5 */
  env_open(&e, "md5hash");
  CHECK_OK(vc_sim_set(e.sim, "vonage.signature_method", "none"));
  send_sms(&e, id, "unsigned");
  CHECK(run_until(&e, id, VC_MSG_SENT, 10000));
  CHECK(vc_sim_webhooks_wait(e.sim, 10000) == 0);
  vc_sim_webhooks_stats(e.sim, &ws);
  CHECK(ws.posted == 0 && ws.failed == 2);
  vc_ctx_run(e.ctx, 0);
  CHECK(status_of(&e, id) == VC_MSG_SENT);
  env_close(&e);
}

static void test_vonage__jwt(void)
{
  env e;
  char id[VC_ID_SIZE];

  env_open(&e, "jwt");
  CHECK_OK(vc_sim_set(e.sim, "vonage.webhook_format", "json"));
  send_sms(&e, id, "signed with a JWT");
  CHECK(run_until(&e, id, VC_MSG_DELIVERED, 10000));
  /* a JSON body under a JWT that is not its own */
  CHECK(post_raw(&e, "application/json", "{\"messageId\":\"1\","
                 "\"status\":\"failed\"}", "Bearer a.b.c") == 401);
  CHECK(status_of(&e, id) == VC_MSG_DELIVERED);
  env_close(&e);
}

static void test_vonage__signed_requests(void)
{
  env e;
  char id[VC_ID_SIZE], ch[VC_ID_SIZE];
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;
  vc_sim_request r;

  env_open(&e, "sha512hmac");
  vonage_channel(&e, "signed", "sha512hmac", ",\"sign_requests\":true", ch);
  s.kind = VC_CHANNEL_SMS;
  s.to = TO;
  s.text = "signed & sealed";
  s.channel = ch;
  CHECK_OK(vc_message_send(id, e.t, &s));
  CHECK(run_until(&e, id, VC_MSG_SENT, 10000));
  CHECK(vonage_request(&e, 0, &r));
  CHECK(r.status == 200 && r.message_id[0] != '\0');
  CHECK(strstr(r.body, "api_secret") == NULL);
  CHECK(strstr(r.body, "&timestamp=") != NULL && strstr(r.body, "&sig=") !=
        NULL);
  env_close(&e);
}

static void test_vonage__throttled_retried(void)
{
  env e;
  char id[VC_ID_SIZE];
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  vc_sim_request r1, r2, r3;
  vc_message *m;

  env_open(&e, "md5hash");
  f.kind = VC_SIM_FAULT_429;     /* Vonage: status 1 inside a 200 */
  CHECK_OK(vc_sim_fault_add(e.sim, "vonage", &f));
  send_sms(&e, id, "throttled once");
  CHECK(run_until(&e, id, VC_MSG_DELIVERED, 15000));
  CHECK(vonage_request(&e, 0, &r1) && vonage_request(&e, 1, &r2));
  CHECK(r1.fault == VC_SIM_FAULT_429 && r2.fault == VC_SIM_FAULT_NONE);
  CHECK(!vonage_request(&e, 2, &r3));
  /* a second at least: throttling says no time */
  CHECK(r2.received_ms - r1.received_ms >= 1000);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_attempts(m) == 2);
  vc_message_free(m);
  env_close(&e);
}

static void test_vonage__permanent_error(void)
{
  env e;
  char id[VC_ID_SIZE];
  vc_message *m;

  env_open(&e, "md5hash");
  CHECK_OK(vc_sim_set(e.sim, "vonage.barred", "447700900000"));
  send_sms(&e, id, "to a barred number");
  CHECK(run_until(&e, id, VC_MSG_FAILED, 10000));
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_error(m) == VC_EPROVIDER);
  CHECK_STR(vc_message_provider_code(m), "7");
  CHECK_STR(vc_message_error_message(m), "Number barred");
  CHECK(vc_message_attempts(m) == 1);
  vc_message_free(m);
  env_close(&e);
}

static void test_vonage__inbound(void)
{
  env e;
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char url[160], path[512], *text = NULL, *from = NULL;
  sqlite3 *db;
  sqlite3_stmt *st;
  int64_t deadline;

  env_open(&e, "sha1hmac");
  snprintf(url, sizeof(url), "%s/webhooks/%s", e.base, e.sms);
  w.url = url;
  w.duplicates = 1;            /* a retrying sender: stored once */
  CHECK_OK(vc_sim_webhooks_set(e.sim, "vonage", &w));
  CHECK_OK(vc_sim_vonage_inbound(e.sim, NULL, "+447700900001",
                                 "447700900000", "STOP sending & = please"));
  CHECK(vc_sim_webhooks_wait(e.sim, 10000) == 0);
  deadline = wall_ms() + 5000;
  while (count_events(&e, "inbound.received", NULL) < 1 &&
         wall_ms() < deadline)
    vc_ctx_run(e.ctx, 20);
  CHECK(count_events(&e, "inbound.received", NULL) == 1);
  snprintf(path, sizeof(path), "%s", vc_test_path("v.db"));
  CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, "SELECT from_addr, text_body FROM "
                           "vc_inbound_message", -1, &st, NULL) ==
        SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW) {
    from = strdup((const char *)sqlite3_column_text(st, 0));
    text = strdup((const char *)sqlite3_column_text(st, 1));
  }
  CHECK(sqlite3_step(st) == SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);
  CHECK_STR(from, "+447700900001");
  CHECK_STR(text, "STOP sending & = please");
  free(from);
  free(text);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_vonage__delivered),
  VC_TEST(test_vonage__unicode),
  VC_TEST(test_vonage__multipart),
  VC_TEST(test_vonage__forged_refused),
  VC_TEST(test_vonage__unsigned_sender_refused),
  VC_TEST(test_vonage__jwt),
  VC_TEST(test_vonage__signed_requests),
  VC_TEST(test_vonage__throttled_retried),
  VC_TEST(test_vonage__permanent_error),
  VC_TEST(test_vonage__inbound),
)
