/*
 * Mailgun end to end over loopback, through the public API only: the
 * dispatcher sends through the "mailgun" adapter to the provider
 * simulator with libcurl, and signed webhooks come back through
 * vc_webhook_listen(): delivered, bounced, a replayed token applied once,
 * stale and tampered webhooks refused, a permanent error failed with
 * Mailgun's text, a 5xx and a 429 retried, routed inbound mail stored.
 *
 * The webhooks this test forges itself are signed here with mbedTLS's
 * HMAC (hex HMAC-SHA256 over timestamp || token), not with the library.
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
#include <sys/socket.h>
#include <time.h>

typedef struct env {
  vc_sim *sim;
  vc_ctx *ctx;
  vc_tenant *t;
  char base[64];
  char mail[VC_ID_SIZE];
  char hook[160];          /* the channel's webhook URL */
} env;

static void env_open(env *e)
{
  static const uint8_t key[32] = { 7, 7, 7 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char config[256], creds[256], addr[32];
  vc_channel *ch;
  vc_store *store;
  int port = free_port();

  memset(e, 0, sizeof(*e));
  CHECK_OK(vc_sim_start(&e->sim, NULL));
  snprintf(e->base, sizeof(e->base), "http://127.0.0.1:%d", port);
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("mg.db"), NULL));
  mk.key = key;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.public_base_url = e->base;
  o.allow_private_network = 1;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  CHECK(vc_webhook_listen(e->ctx, addr) == port);
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  snprintf(config, sizeof(config),
           "{\"domain\":\"%s\",\"base_url\":\"%s\"}",
           VC_SIM_MAILGUN_DOMAIN, vc_sim_base_url(e->sim));
  snprintf(creds, sizeof(creds),
           "{\"api_key\":\"%s\",\"webhook_signing_key\":\"%s\"}",
           VC_SIM_MAILGUN_API_KEY, VC_SIM_MAILGUN_SIGNING_KEY);
  cs.name = "mail";
  cs.provider = "mailgun";
  cs.kind = VC_CHANNEL_EMAIL;
  cs.config_json = config;
  cs.credentials_json = creds;
  cs.sender = "billing@" VC_SIM_MAILGUN_DOMAIN;
  CHECK_OK(vc_channel_new(&ch, e->t, &cs));
  snprintf(e->mail, sizeof(e->mail), "%s", vc_channel_id(ch));
  vc_channel_free(ch);
  snprintf(e->hook, sizeof(e->hook), "%s/webhooks/%s", e->base, e->mail);
  w.url = e->hook;
  CHECK_OK(vc_sim_webhooks_set(e->sim, "mailgun", &w));
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

/* Wait (real time, engine threads on) until the message has `want`. */
static int wait_status(env *e, const char *id, int want, int ms)
{
  int64_t deadline = wall_ms() + ms;

  while (wall_ms() < deadline) {
    if (status_of(e, id) == want)
      return 1;
    vc_ctx_wakeup(e->ctx);
    usleep(20000);
  }
  fprintf(stderr, "  status %d, wanted %d\n", status_of(e, id), want);
  return 0;
}

static void send_email(env *e, char id[VC_ID_SIZE], const char *to,
                       const vc_attachment *att, size_t natt)
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;

  s.kind = VC_CHANNEL_EMAIL;
  s.to = to;
  s.subject = "Invoice 42";
  s.text = "Invoice 42 is attached.";
  s.html = "<p>Invoice <b>42</b> is attached.</p>";
  s.attachments = att;
  s.nattachments = natt;
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

/* hex HMAC-SHA256(key, ts || token), computed here with mbedTLS. */
static void sign(const char *ts, const char *token, char out[65])
{
  unsigned char mac[32];
  char msg[128];

  snprintf(msg, sizeof(msg), "%s%s", ts, token);
  CHECK(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                        (const unsigned char *)VC_SIM_MAILGUN_SIGNING_KEY,
                        strlen(VC_SIM_MAILGUN_SIGNING_KEY),
                        (const unsigned char *)msg, strlen(msg), mac) == 0);
  for (int i = 0; i < 32; i++)
    sprintf(out + 2 * i, "%02x", mac[i]);
}

/* POST a JSON event to the channel's webhook URL; the HTTP status. */
static long post_event(env *e, const char *ts, const char *token,
                       const char *sig, const char *event_data)
{
  struct curl_slist *h = NULL;
  long status = 0;
  char *body = NULL;
  CURL *c = curl_easy_init();

  CHECK(asprintf(&body, "{\"signature\":{\"timestamp\":\"%s\",\"token\":"
                 "\"%s\",\"signature\":\"%s\"},\"event-data\":%s}", ts,
                 token, sig, event_data) > 0);
  h = curl_slist_append(h, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, e->hook);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  free(body);
  return status;
}

/* An event of message `id` (our variable). */
static char *event_of(const char *event, const char *id, const char *extra)
{
  static char buf[1024];
  char evid[32];

  snprintf(evid, sizeof(evid), "ev%lld", (long long)wall_ms());
  snprintf(buf, sizeof(buf), "{\"id\":\"%s-%s\",\"event\":\"%s\","
           "\"timestamp\":%.3f,\"user-variables\":{\"vc_message_id\":"
           "\"%s\"}%s}", evid, event, event, (double)wall_ms() / 1000.0, id,
           extra ? extra : "");
  return buf;
}

/* ------------------------------------------------------------------ */

static void test_mailgun__delivered_by_signed_webhook(void)
{
  env e;
  char id[VC_ID_SIZE];
  vc_sim_request r;
  vc_message *m;
  int sent = 0;

  env_open(&e);
  send_email(&e, id, "customer@example.com", NULL, 0);
  CHECK_OK(vc_ctx_start(e.ctx, 1));
  CHECK(wait_status(&e, id, VC_MSG_DELIVERED, 20000));
  CHECK(vc_sim_webhooks_wait(e.sim, 10000) == 0);
  CHECK_OK(vc_ctx_stop(e.ctx));
  for (size_t i = 0; i < vc_sim_received_count(e.sim); i++) {
    CHECK_OK(vc_sim_received_get(e.sim, i, &r));
    if (strcmp(r.provider, "mailgun") != 0)
      continue;
    sent++;
    CHECK(r.status == 200);
    CHECK_STR(r.path, "/v3/" VC_SIM_MAILGUN_DOMAIN "/messages");
    CHECK(strncmp(r.authorization, "Basic ", 6) == 0);
    CHECK(strncmp(r.content_type, "application/x-www-form-urlencoded",
                  33) == 0);
    CHECK(strstr(r.body, "v%3Avc_message_id=") != NULL);
    CHECK(strstr(r.body, id) != NULL);
    CHECK_OK(vc_message_lookup(&m, e.t, id));
    /* The id of the answer, without its brackets. */
    CHECK_STR(vc_message_provider_id(m), r.message_id);
    CHECK(strchr(vc_message_provider_id(m), '<') == NULL);
    vc_message_free(m);
  }
  CHECK(sent == 1);
  CHECK(vc_sim_sent_count(e.sim, "customer@example.com") == 1);
  /* accepted (sent, already) then delivered: one delivered event. */
  CHECK(count_events(&e, "message.delivered", id) == 1);
  env_close(&e);
}

static void test_mailgun__attachment_multipart(void)
{
  static const uint8_t pdf[] = { '%', 'P', 'D', 'F', '-', '1', '.', '4',
                                 0, 1, 2, 3, '\r', '\n' };
  vc_attachment att = { "invoice-42.pdf", "application/pdf", pdf,
                        sizeof(pdf), NULL };
  env e;
  char id[VC_ID_SIZE];
  vc_sim_request r;
  int found = 0;

  env_open(&e);
  send_email(&e, id, "customer@example.com", &att, 1);
  CHECK_OK(vc_ctx_start(e.ctx, 1));
  CHECK(wait_status(&e, id, VC_MSG_DELIVERED, 20000));
  CHECK_OK(vc_ctx_stop(e.ctx));
  for (size_t i = 0; i < vc_sim_received_count(e.sim); i++) {
    CHECK_OK(vc_sim_received_get(e.sim, i, &r));
    if (strcmp(r.provider, "mailgun") != 0)
      continue;
    found++;
    CHECK(r.status == 200);
    CHECK(strncmp(r.content_type, "multipart/form-data; boundary=", 30) ==
          0);
    CHECK(memmem(r.body, r.body_len, pdf, sizeof(pdf)) != NULL);
    CHECK(strstr(r.body, "filename=\"invoice-42.pdf\"") != NULL);
  }
  CHECK(found == 1);
  env_close(&e);
}

static void test_mailgun__bounce_is_bounced_with_reason(void)
{
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  env e;
  char id[VC_ID_SIZE];
  vc_message *m;

  env_open(&e);
  w.url = e.hook;
  w.final_status = "permanent_fail";
  CHECK_OK(vc_sim_webhooks_set(e.sim, "mailgun", &w));
  send_email(&e, id, "gone@example.com", NULL, 0);
  CHECK_OK(vc_ctx_start(e.ctx, 1));
  CHECK(wait_status(&e, id, VC_MSG_BOUNCED, 20000));
  CHECK_OK(vc_ctx_stop(e.ctx));
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK_STR(vc_message_provider_code(m), "550");
  CHECK(count_events(&e, "message.bounced", id) == 1);
  CHECK(strstr(vc_message_error_message(m), "5.1.1") != NULL);
  vc_message_free(m);
  env_close(&e);
}

static void test_mailgun__replayed_token_applied_once(void)
{
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  env e;
  char a[VC_ID_SIZE], b[VC_ID_SIZE], ts[24], sig[65];
  const char *token = "replaytoken0123456789abcdefghijklmnopqrstuvwxyz0123";

  env_open(&e);
  w.off = 1;
  CHECK_OK(vc_sim_webhooks_set(e.sim, "mailgun", &w));
  send_email(&e, a, "a@example.com", NULL, 0);
  send_email(&e, b, "b@example.com", NULL, 0);
  vc_ctx_run(e.ctx, 0);
  CHECK(status_of(&e, a) == VC_MSG_SENT && status_of(&e, b) == VC_MSG_SENT);
  snprintf(ts, sizeof(ts), "%lld", (long long)(wall_ms() / 1000));
  sign(ts, token, sig);
  CHECK(post_event(&e, ts, token, sig, event_of("delivered", a, NULL)) ==
        200);
  CHECK(status_of(&e, a) == VC_MSG_DELIVERED);
  /* The same signed envelope around another body: answered 200 (the
   * provider must not retry it), applied never. */
  CHECK(post_event(&e, ts, token, sig,
                   event_of("failed", b, ",\"severity\":\"permanent\","
                            "\"reason\":\"bounce\"")) == 200);
  CHECK(post_event(&e, ts, token, sig, event_of("opened", a, NULL)) == 200);
  CHECK(status_of(&e, b) == VC_MSG_SENT);
  CHECK(status_of(&e, a) == VC_MSG_DELIVERED);
  CHECK(count_events(&e, "message.bounced", NULL) == 0);
  CHECK(count_events(&e, "message.read", NULL) == 0);
  env_close(&e);
}

static void test_mailgun__stale_and_tampered_refused(void)
{
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  env e;
  char id[VC_ID_SIZE], ts[24], sig[65];
  const char *token = "stale0123456789abcdefghijklmnopqrstuvwxyz012345678";

  env_open(&e);
  w.off = 1;
  CHECK_OK(vc_sim_webhooks_set(e.sim, "mailgun", &w));
  send_email(&e, id, "c@example.com", NULL, 0);
  vc_ctx_run(e.ctx, 0);
  CHECK(status_of(&e, id) == VC_MSG_SENT);
  /* Signed right, ten minutes old: refused. */
  snprintf(ts, sizeof(ts), "%lld", (long long)(wall_ms() / 1000 - 600));
  sign(ts, token, sig);
  CHECK(post_event(&e, ts, token, sig, event_of("delivered", id, NULL)) ==
        401);
  /* Ten minutes ahead: refused too. */
  snprintf(ts, sizeof(ts), "%lld", (long long)(wall_ms() / 1000 + 600));
  sign(ts, token, sig);
  CHECK(post_event(&e, ts, token, sig, event_of("delivered", id, NULL)) ==
        401);
  /* Fresh, but the timestamp or the token changed after signing. */
  snprintf(ts, sizeof(ts), "%lld", (long long)(wall_ms() / 1000));
  sign(ts, token, sig);
  CHECK(post_event(&e, "1403645220", token, sig,
                   event_of("delivered", id, NULL)) == 401);
  CHECK(post_event(&e, ts, "x123456789abcdefghijklmnopqrstuvwxyz012345678",
                   sig, event_of("delivered", id, NULL)) == 401);
  sig[0] = sig[0] == 'a' ? 'b' : 'a';
  CHECK(post_event(&e, ts, token, sig, event_of("delivered", id, NULL)) ==
        401);
  CHECK(status_of(&e, id) == VC_MSG_SENT);
  /* The refused token was not consumed: the genuine post applies. */
  sign(ts, token, sig);
  CHECK(post_event(&e, ts, token, sig, event_of("delivered", id, NULL)) ==
        200);
  CHECK(status_of(&e, id) == VC_MSG_DELIVERED);
  env_close(&e);
}

static void test_mailgun__permanent_error_failed_with_text(void)
{
  env e;
  char id[VC_ID_SIZE];
  vc_message *m;

  env_open(&e);
  /* A quoted local part with a space: valid for the library, refused by
   * the simulator as Mailgun refuses what it cannot parse. */
  send_email(&e, id, "\"john doe\"@example.com", NULL, 0);
  vc_ctx_run(e.ctx, 0);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_FAILED);
  CHECK(vc_message_error(m) == VC_EPROVIDER);
  CHECK_STR(vc_message_provider_code(m), "400");
  CHECK_STR(vc_message_error_message(m), "'to' parameter is not a valid "
            "address. please check documentation");
  CHECK(vc_message_attempts(m) == 1);
  vc_message_free(m);
  CHECK(vc_sim_accepted_count(e.sim, "mailgun") == 0);
  env_close(&e);
}

static void test_mailgun__5xx_and_429_retried(void)
{
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  vc_sim_request r;
  env e;
  char id[VC_ID_SIZE];
  int64_t t429 = 0, t200 = 0;
  int n503 = 0;

  env_open(&e);
  f.kind = VC_SIM_FAULT_5XX;
  f.status = 503;
  CHECK_OK(vc_sim_fault_add(e.sim, "mailgun", &f));
  f = (vc_sim_fault)VC_SIM_FAULT_INIT;
  f.kind = VC_SIM_FAULT_429;
  f.retry_after_s = 2;
  CHECK_OK(vc_sim_fault_add(e.sim, "mailgun", &f));
  send_email(&e, id, "d@example.com", NULL, 0);
  CHECK_OK(vc_ctx_start(e.ctx, 1));
  CHECK(wait_status(&e, id, VC_MSG_DELIVERED, 30000));
  CHECK_OK(vc_ctx_stop(e.ctx));
  for (size_t i = 0; i < vc_sim_received_count(e.sim); i++) {
    CHECK_OK(vc_sim_received_get(e.sim, i, &r));
    if (strcmp(r.provider, "mailgun") != 0)
      continue;
    if (r.status == 503)
      n503++;
    else if (r.status == 429)
      t429 = r.received_ms;
    else if (r.status == 200)
      t200 = r.received_ms;
  }
  CHECK(n503 == 1 && t429 > 0 && t200 > 0);
  /* Retry-After: 2 was honoured. */
  CHECK(t200 - t429 >= 2000);
  CHECK(vc_sim_accepted_count(e.sim, "mailgun") == 1);
  env_close(&e);
}

static void test_mailgun__inbound_stored(void)
{
  vc_sim_mailgun_mail m = { "Asha <asha@example.com>",
                            "support@" VC_SIM_MAILGUN_DOMAIN,
                            "Re: Invoice 42", "Paid, thanks.", NULL, NULL };
  env e;
  char mid[200];
  int64_t deadline;

  env_open(&e);
  CHECK_OK(vc_sim_mailgun_inbound(e.sim, &m, mid, sizeof(mid)));
  m.attachment = "scanned receipt";
  m.html = "<p>Paid, thanks.</p>";
  CHECK_OK(vc_sim_mailgun_inbound(e.sim, &m, NULL, 0));
  CHECK(vc_sim_webhooks_wait(e.sim, 10000) == 0);
  deadline = wall_ms() + 5000;
  while (count_events(&e, "inbound.received", NULL) < 2 &&
         wall_ms() < deadline)
    usleep(20000);
  CHECK(count_events(&e, "inbound.received", NULL) == 2);
  {
    vc_sim_webhook_stats st;
    vc_sim_webhooks_stats(e.sim, &st);
    CHECK(st.posted == 2 && st.failed == 0);
  }
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_mailgun__delivered_by_signed_webhook),
  VC_TEST(test_mailgun__attachment_multipart),
  VC_TEST(test_mailgun__bounce_is_bounced_with_reason),
  VC_TEST(test_mailgun__replayed_token_applied_once),
  VC_TEST(test_mailgun__stale_and_tampered_refused),
  VC_TEST(test_mailgun__permanent_error_failed_with_text),
  VC_TEST(test_mailgun__5xx_and_429_retried),
  VC_TEST(test_mailgun__inbound_stored),
)
