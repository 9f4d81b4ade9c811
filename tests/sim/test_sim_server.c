/*
 * The provider simulator's webhooks (signed, checked by recomputing the
 * signatures with mbedTLS; delay, reordering, duplication, final
 * statuses), its records and counts, settings, the control API and the
 * server itself. Threaded (libre thread, webhook workers, a receiver):
 * runs under TSan.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "sim.h"
#include "test_sim_util.h"

/* ---- webhooks --------------------------------------------------------- */

static void wh_url(char *out, size_t n, receiver *rv, const char *path)
{
  snprintf(out, n, "http://127.0.0.1:%u%s", rv->port, path);
}

/* Send one Twilio message with a StatusCallback; returns its sid. */
static void tw_send_cb(vc_sim *s, const char *cb, char sid[64])
{
  char form[1024], *esc;
  CURL *c = curl_easy_init();
  cJSON *j;
  resp r;

  esc = curl_easy_escape(c, cb, 0);
  snprintf(form, sizeof(form), "%s&StatusCallback=%s", good_form, esc);
  curl_free(esc);
  curl_easy_cleanup(c);
  tw_post(&r, s, form);
  CHECK(r.status == 201);
  j = json(&r);
  CHECK(j != NULL);
  snprintf(sid, 64, "%s", jstr(j, "sid"));
  cJSON_Delete(j);
  resp_free(&r);
}

static void check_tw_callback(const rx_req *q, const char *url,
                              const char *sid, const char *status)
{
  kv f[32];
  size_t n;

  check_twilio_signed(q, url);
  CHECK_STR(rx_hdr(q, "User-Agent"), "TwilioProxy/1.1");
  n = parse_form(q->body, f, 32);
  CHECK_STR(form_val(f, n, "MessageSid"), sid);
  CHECK_STR(form_val(f, n, "SmsSid"), sid);
  CHECK_STR(form_val(f, n, "MessageStatus"), status);
  CHECK_STR(form_val(f, n, "AccountSid"), SID);
  CHECK_STR(form_val(f, n, "From"), "+15005550006");
  CHECK_STR(form_val(f, n, "To"), "+14155550100");
  CHECK_STR(form_val(f, n, "ApiVersion"), "2010-04-01");
  free_form(f, n);
}

static void test_webhook__twilio_signed(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  char url[256], sid[64], bad[64];
  vc_sim_webhook_stats st;
  const rx_req *q;

  wh_url(url, sizeof(url), rv, "/webhooks/ch_1?tenant=t%201&x=1");
  tw_send_cb(s, url, sid);
  CHECK(rx_wait(rv, 2, 5000) == 2);
  q = rx_get(rv, 0);
  CHECK(strcmp(q->path, "/webhooks/ch_1?tenant=t%201&x=1") == 0);
  check_tw_callback(q, url, sid, "sent");
  check_tw_callback(rx_get(rv, 1), url, sid, "delivered");
  CHECK(strlen(rx_hdr(q, "I-Twilio-Idempotency-Token")) == 36);
  /* The check itself rejects a tampered body or another key. */
  twilio_expected("another-token", url, q->body, bad);
  CHECK(strcmp(bad, rx_hdr(q, "X-Twilio-Signature")) != 0);
  twilio_expected(TOKEN, url, "MessageStatus=delivered", bad);
  CHECK(strcmp(bad, rx_hdr(q, "X-Twilio-Signature")) != 0);
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  vc_sim_webhooks_stats(s, &st);
  CHECK(st.posted == 2 && st.failed == 0 && st.pending == 0);
  /* A changed auth token signs the next callbacks. */
  CHECK_OK(vc_sim_set(s, "twilio.auth_token", "0000aaaa1111bbbb"));
  {
    req_opts o = { SID ":0000aaaa1111bbbb", { NULL }, 0 };
    char form[1024];
    CURL *c = curl_easy_init();
    char *esc = curl_easy_escape(c, url, 0);
    resp r;
    snprintf(form, sizeof(form), "%s&StatusCallback=%s", good_form, esc);
    curl_free(esc);
    curl_easy_cleanup(c);
    http(&r, "POST", url_of(s, TW_PATH),
         "application/x-www-form-urlencoded", form, strlen(form), &o);
    CHECK(r.status == 201);
    resp_free(&r);
  }
  CHECK(rx_wait(rv, 4, 5000) == 4);
  twilio_expected("0000aaaa1111bbbb", url, rx_get(rv, 2)->body, bad);
  CHECK_STR(rx_hdr(rx_get(rv, 2), "X-Twilio-Signature"), bad);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_webhook__sendgrid_signed(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  const char *pub = vc_sim_sendgrid_public_key(s);
  char url[256], xmid[64], pubcopy[256];
  const char *mail =
    "{\"personalizations\":[{\"to\":[{\"email\":\"a1@example.com\"},"
    "{\"email\":\"a2@example.com\"}],\"custom_args\":{\"p\":\"v\"}}],"
    "\"from\":{\"email\":\"erp@example.com\"},\"subject\":\"s\","
    "\"content\":[{\"type\":\"text/plain\",\"value\":\"v\"}],"
    "\"custom_args\":{\"vc_message_id\":\"01HZX0000000000000000000BB\"}}";
  const rx_req *q;
  cJSON *j, *ev;
  resp r;
  int i;

  CHECK(pub != NULL && strlen(pub) == 124);     /* P-256 SPKI, base64 */
  CHECK(vc_sim_get(s, "sendgrid.public_key", pubcopy, sizeof(pubcopy)) ==
        124);
  CHECK_STR(pubcopy, pub);
  wh_url(url, sizeof(url), rv, "/webhooks/ch_mail");
  w.url = url;
  CHECK_OK(vc_sim_webhooks_set(s, "sendgrid", &w));
  sg_post(&r, s, mail);
  CHECK(r.status == 202);
  snprintf(xmid, sizeof(xmid), "%s", rhdr(&r, "X-Message-Id"));
  resp_free(&r);
  CHECK(rx_wait(rv, 1, 5000) == 1);
  q = rx_get(rv, 0);
  CHECK_STR(q->path, "/webhooks/ch_mail");
  CHECK(strncmp(rx_hdr(q, "Content-Type"), "application/json", 16) == 0);
  CHECK(strlen(rx_hdr(q, "X-Twilio-Email-Event-Webhook-Timestamp")) >= 10);
  CHECK(sendgrid_verify(pub, rx_hdr(q,
                                    "X-Twilio-Email-Event-Webhook-Timestamp"),
                        q->body, q->len,
                        rx_hdr(q, "X-Twilio-Email-Event-Webhook-Signature"))
        == 0);
  /* Tampering with the body or the timestamp breaks it. */
  CHECK(sendgrid_verify(pub, "1600112502", q->body, q->len,
                        rx_hdr(q, "X-Twilio-Email-Event-Webhook-Signature"))
        != 0);
  CHECK(sendgrid_verify(pub, rx_hdr(q,
                                    "X-Twilio-Email-Event-Webhook-Timestamp"),
                        q->body, q->len - 1,
                        rx_hdr(q, "X-Twilio-Email-Event-Webhook-Signature"))
        != 0);
  /* SendGrid's framing: events split by ",\r\n", a final "\r\n". */
  CHECK(q->len > 4 && strcmp(q->body + q->len - 3, "]\r\n") == 0);
  CHECK(strstr(q->body, "},\r\n{") != NULL);
  j = cJSON_Parse(q->body);
  CHECK(cJSON_IsArray(j) && cJSON_GetArraySize(j) == 4);
  for (i = 0; i < 4; i++) {
    ev = cJSON_GetArrayItem(j, i);
    CHECK_STR(jstr(ev, "event"), i < 2 ? "processed" : "delivered");
    CHECK_STR(jstr(ev, "email"), i % 2 ? "a2@example.com" : "a1@example.com");
    CHECK(strncmp(jstr(ev, "sg_message_id"), xmid, strlen(xmid)) == 0);
    CHECK(jstr(ev, "sg_message_id")[strlen(xmid)] == '.');
    CHECK(strlen(jstr(ev, "sg_event_id")) >= 20);
    CHECK(jnum(ev, "timestamp") > 1.7e9);
    CHECK_STR(jstr(ev, "vc_message_id"), "01HZX0000000000000000000BB");
    CHECK_STR(jstr(ev, "p"), "v");
    CHECK(strstr(jstr(ev, "smtp-id"), xmid) != NULL);
  }
  CHECK(strcmp(jstr(cJSON_GetArrayItem(j, 0), "sg_event_id"),
               jstr(cJSON_GetArrayItem(j, 2), "sg_event_id")) != 0);
  cJSON_Delete(j);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_webhook__delay(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char url[256], sid[64];
  double t0;

  w.delay_ms = 400;
  w.gap_ms = 200;
  CHECK_OK(vc_sim_webhooks_set(s, "twilio", &w));
  wh_url(url, sizeof(url), rv, "/cb");
  t0 = now_s();
  tw_send_cb(s, url, sid);
  CHECK(rx_wait(rv, 1, 5000) == 1);
  CHECK(rx_get(rv, 0)->at - t0 >= 0.38);
  CHECK(rx_wait(rv, 2, 5000) == 2);
  CHECK(rx_get(rv, 1)->at - rx_get(rv, 0)->at >= 0.18);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_webhook__reorder(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char url[256], sid[64];
  cJSON *j;
  resp r;

  w.reorder = 1;
  CHECK_OK(vc_sim_webhooks_set(s, "twilio", &w));
  wh_url(url, sizeof(url), rv, "/cb");
  tw_send_cb(s, url, sid);
  CHECK(rx_wait(rv, 2, 5000) == 2);
  check_tw_callback(rx_get(rv, 0), url, sid, "delivered");
  check_tw_callback(rx_get(rv, 1), url, sid, "sent");

  w.url = url;
  CHECK_OK(vc_sim_webhooks_set(s, "sendgrid", &w));
  sg_post(&r, s, good_mail);
  CHECK(r.status == 202);
  resp_free(&r);
  CHECK(rx_wait(rv, 3, 5000) == 3);
  j = cJSON_Parse(rx_get(rv, 2)->body);
  CHECK(cJSON_GetArraySize(j) == 2);
  CHECK_STR(jstr(cJSON_GetArrayItem(j, 0), "event"), "delivered");
  CHECK_STR(jstr(cJSON_GetArrayItem(j, 1), "event"), "processed");
  cJSON_Delete(j);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_webhook__duplicates(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char url[256], sid[64];
  resp r;

  w.duplicates = 1;
  CHECK_OK(vc_sim_webhooks_set(s, "twilio", &w));
  wh_url(url, sizeof(url), rv, "/cb");
  tw_send_cb(s, url, sid);
  CHECK(rx_wait(rv, 4, 5000) == 4);
  check_tw_callback(rx_get(rv, 0), url, sid, "sent");
  check_tw_callback(rx_get(rv, 1), url, sid, "sent");
  check_tw_callback(rx_get(rv, 2), url, sid, "delivered");
  check_tw_callback(rx_get(rv, 3), url, sid, "delivered");
  CHECK_STR(rx_get(rv, 0)->body, rx_get(rv, 1)->body);
  /* A retried delivery carries the same idempotency token. */
  CHECK_STR(rx_hdr(rx_get(rv, 2), "I-Twilio-Idempotency-Token"),
            rx_hdr(rx_get(rv, 3), "I-Twilio-Idempotency-Token"));

  w.url = url;
  CHECK_OK(vc_sim_webhooks_set(s, "sendgrid", &w));
  sg_post(&r, s, good_mail);
  CHECK(r.status == 202);
  resp_free(&r);
  CHECK(rx_wait(rv, 6, 5000) == 6);
  /* The same events (same sg_event_id), each copy signed on its own. */
  CHECK_STR(rx_get(rv, 4)->body, rx_get(rv, 5)->body);
  CHECK(sendgrid_verify(vc_sim_sendgrid_public_key(s),
                        rx_hdr(rx_get(rv, 5),
                               "X-Twilio-Email-Event-Webhook-Timestamp"),
                        rx_get(rv, 5)->body, rx_get(rv, 5)->len,
                        rx_hdr(rx_get(rv, 5),
                               "X-Twilio-Email-Event-Webhook-Signature"))
        == 0);
  CHECK_OK(vc_sim_webhooks_wait(s, 5000));
  sleep_ms(100);
  CHECK(rx_wait(rv, 7, 0) == 6);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_webhook__final_status(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  vc_sim_webhook_stats st;
  char url[256], sid[64];
  kv f[32];
  size_t n;
  cJSON *j;
  resp r;

  w.final_status = "undelivered";
  CHECK_OK(vc_sim_webhooks_set(s, "twilio", &w));
  wh_url(url, sizeof(url), rv, "/cb");
  tw_send_cb(s, url, sid);
  CHECK(rx_wait(rv, 2, 5000) == 2);
  check_tw_callback(rx_get(rv, 1), url, sid, "undelivered");
  n = parse_form(rx_get(rv, 1)->body, f, 32);
  CHECK_STR(form_val(f, n, "ErrorCode"), "30003");
  free_form(f, n);

  w.final_status = "bounce";
  w.url = url;
  CHECK_OK(vc_sim_webhooks_set(s, "sendgrid", &w));
  sg_post(&r, s, good_mail);
  resp_free(&r);
  CHECK(rx_wait(rv, 3, 5000) == 3);
  j = cJSON_Parse(rx_get(rv, 2)->body);
  CHECK_STR(jstr(cJSON_GetArrayItem(j, 1), "event"), "bounce");
  CHECK_STR(jstr(cJSON_GetArrayItem(j, 1), "type"), "bounce");
  cJSON_Delete(j);

  /* Off: nothing is posted; a failing receiver is counted. */
  w.off = 1;
  CHECK_OK(vc_sim_webhooks_set(s, "twilio", &w));
  tw_send_cb(s, url, sid);
  w.off = 0;
  w.final_status = NULL;
  CHECK_OK(vc_sim_webhooks_set(s, "twilio", &w));
  /* The receiver records a request before it answers: let the three
   * earlier posts be answered (200) before it starts answering 500. */
  for (int tries = 0; tries < 250; tries++) {
    vc_sim_webhooks_stats(s, &st);
    if (st.posted >= 3)
      break;
    usleep(20000);
  }
  atomic_store(&rv->answer, 500);
  tw_send_cb(s, url, sid);
  /* The final callback is queued only after the first one is answered:
   * wait for both to have failed, not just for an empty queue. */
  for (int tries = 0; tries < 250; tries++) {
    CHECK_OK(vc_sim_webhooks_wait(s, 5000));
    vc_sim_webhooks_stats(s, &st);
    if (st.failed >= 2)
      break;
    usleep(20000);
  }
  CHECK(st.posted == 3 && st.failed == 2);
  CHECK(rx_wait(rv, 5, 5000) == 5);
  vc_sim_stop(s);
  rx_stop(rv);
}

/* ---- records, settings, control, server ------------------------------- */

static void test_records__received(void)
{
  vc_sim *s = start();
  req_opts o = { SID ":" TOKEN, { "I-Twilio-Idempotency-Token: idem-1",
                                  "User-Agent: vyomcomm-test/1" }, 0 };
  vc_sim_request q;
  char v[64];
  resp r;

  http(&r, "POST", url_of(s, TW_PATH "?Page=1"),
       "application/x-www-form-urlencoded", good_form, strlen(good_form),
       &o);
  CHECK(r.status == 201);
  resp_free(&r);
  sg_post(&r, s, "{}");
  resp_free(&r);
  CHECK(vc_sim_received_count(s) == 2);
  CHECK_OK(vc_sim_received_get(s, 0, &q));
  CHECK_STR(q.provider, "twilio");
  CHECK_STR(q.method, "POST");
  CHECK_STR(q.path, TW_PATH "?Page=1");
  CHECK(strncmp(q.authorization, "Basic ", 6) == 0);
  CHECK_STR(q.content_type, "application/x-www-form-urlencoded");
  CHECK_STR(q.body, good_form);
  CHECK(q.body_len == strlen(good_form));
  CHECK(q.status == 201);
  CHECK(strncmp(q.message_id, "SM", 2) == 0);
  CHECK(q.fault == VC_SIM_FAULT_NONE);
  CHECK(q.received_ms > 1700000000000LL);
  CHECK(vc_sim_request_header(&q, "i-twilio-idempotency-token", v,
                              sizeof(v)) == 6);
  CHECK_STR(v, "idem-1");
  CHECK(vc_sim_request_header(&q, "User-Agent", v, sizeof(v)) > 0);
  CHECK_STR(v, "vyomcomm-test/1");
  CHECK(vc_sim_request_header(&q, "X-Nothing", v, sizeof(v)) == -ENOENT);
  CHECK_OK(vc_sim_received_get(s, 1, &q));
  CHECK_STR(q.provider, "sendgrid");
  CHECK(q.status == 400);
  CHECK_STR(q.message_id, "");
  CHECK(vc_sim_received_get(s, 2, &q) == -ENOENT);
  vc_sim_received_clear(s);
  CHECK(vc_sim_received_count(s) == 0);
  CHECK(vc_sim_accepted_count(s, NULL) == 0);
  CHECK(vc_sim_sent_count(s, "+14155550100") == 0);
  vc_sim_stop(s);
}

static void test_records__duplicates(void)
{
  vc_sim *s = start();
  resp r;
  int i;

  for (i = 0; i < 3; i++) {
    tw_post(&r, s, good_form);
    resp_free(&r);
  }
  tw_post(&r, s, "To=%2B14155550100&From=%2B15005550006&Body=other");
  resp_free(&r);
  tw_post(&r, s, "To=%2B14155550199&From=%2B15005550006&Body=other");
  resp_free(&r);
  sg_post(&r, s, good_mail);
  resp_free(&r);
  sg_post(&r, s, good_mail);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, NULL) == 7);
  CHECK(vc_sim_sent_count(s, "+14155550100") == 4);
  CHECK(vc_sim_sent_count(s, "+14155550199") == 1);
  CHECK(vc_sim_sent_count(s, "asha@example.com") == 2);
  CHECK(vc_sim_sent_count(s, "nobody") == 0);
  CHECK(vc_sim_duplicate_count(s, "twilio") == 2);
  CHECK(vc_sim_duplicate_count(s, "sendgrid") == 1);
  CHECK(vc_sim_duplicate_count(s, NULL) == 3);
  vc_sim_stop(s);
}

static void test_settings(void)
{
  const char *set[] = { "sendgrid.api_key=SG.custom.key", NULL };
  vc_sim_options o = VC_SIM_OPTIONS_INIT;
  req_opts old = { SID ":" TOKEN, { NULL }, 0 };
  req_opts bearer = { NULL, { "Authorization: Bearer SG.custom.key" }, 0 };
  char buf[128];
  vc_sim *s = NULL;
  resp r;

  o.settings = set;
  CHECK_OK(vc_sim_start(&s, &o));
  CHECK(vc_sim_get(s, "sendgrid.api_key", buf, sizeof(buf)) > 0);
  CHECK_STR(buf, "SG.custom.key");
  CHECK(vc_sim_get(s, "twilio.account_sid", buf, sizeof(buf)) == 34);
  CHECK_STR(buf, SID);
  http(&r, "POST", url_of(s, "/v3/mail/send"), "application/json",
       good_mail, strlen(good_mail), &bearer);
  CHECK(r.status == 202);
  resp_free(&r);
  CHECK_OK(vc_sim_set(s, "twilio.auth_token", "new-token"));
  http(&r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       good_form, strlen(good_form), &old);
  CHECK(r.status == 401);
  resp_free(&r);
  old.userpwd = SID ":new-token";
  http(&r, "POST", url_of(s, TW_PATH), "application/x-www-form-urlencoded",
       good_form, strlen(good_form), &old);
  CHECK(r.status == 201);
  resp_free(&r);
  CHECK(vc_sim_set(s, "sendgrid.public_key", "x") == -EPERM);
  CHECK(vc_sim_set(s, "nobody.key", "x") == -ENOENT);
  CHECK(vc_sim_set(s, "nodot", "x") == -ENOENT);
  CHECK(vc_sim_get(s, "twilio.none", buf, sizeof(buf)) == -ENOENT);
  CHECK(vc_sim_get(s, "twilio.account_sid", buf, 4) == -ENOSPC);
  vc_sim_stop(s);
  /* A bad setting fails the start cleanly. */
  set[0] = "bogus=1";
  CHECK(vc_sim_start(&s, &o) == -ENOENT);
  CHECK(s == NULL);
}

static void test_control_api(void)
{
  vc_sim *s = start();
  cJSON *j, *a;
  resp r;

  http(&r, "GET", url_of(s, "/__sim/health"), NULL, NULL, 0, NULL);
  CHECK(r.status == 200);
  j = json(&r);
  CHECK(jnum(j, "port") == vc_sim_port(s));
  cJSON_Delete(j);
  resp_free(&r);
  http(&r, "POST", url_of(s, "/__sim/fault?provider=twilio&kind=429&"
                          "retry_after=3"), NULL, "", 0, NULL);
  CHECK(r.status == 200);
  resp_free(&r);
  tw_post(&r, s, good_form);
  CHECK(r.status == 429);
  CHECK_STR(rhdr(&r, "Retry-After"), "3");
  resp_free(&r);
  tw_post(&r, s, good_form);
  resp_free(&r);
  http(&r, "GET", url_of(s, "/__sim/sent?key=%2B14155550100"), NULL, NULL, 0,
       NULL);
  j = json(&r);
  CHECK(jnum(j, "count") == 1);
  cJSON_Delete(j);
  resp_free(&r);
  http(&r, "GET", url_of(s, "/__sim/stats"), NULL, NULL, 0, NULL);
  j = json(&r);
  CHECK(j != NULL);
  a = cJSON_GetObjectItemCaseSensitive(j, "accepted");
  CHECK(jnum(a, "twilio") == 1 && jnum(a, "sendgrid") == 0);
  CHECK(jnum(j, "received") >= 2);
  cJSON_Delete(j);
  resp_free(&r);
  http(&r, "GET", url_of(s, "/__sim/get?key=sendgrid.public_key"), NULL,
       NULL, 0, NULL);
  j = json(&r);
  CHECK_STR(jstr(j, "value"), vc_sim_sendgrid_public_key(s));
  cJSON_Delete(j);
  resp_free(&r);
  http(&r, "POST", url_of(s, "/__sim/fault?provider=none&kind=5xx"), NULL,
       "", 0, NULL);
  CHECK(r.status == 400);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_server__keepalive(void)
{
  vc_sim *s = start();
  req_opts o = { SID ":" TOKEN, { NULL }, 0 };
  CURL *c = curl_easy_init();
  resp r;
  int i;

  for (i = 0; i < 5; i++) {
    http_on(c, &r, "POST", url_of(s, TW_PATH),
            "application/x-www-form-urlencoded", good_form,
            strlen(good_form), &o);
    CHECK(r.status == 201);
    /* One connection for all: only the first request opens one. */
    CHECK(r.connects == (i == 0 ? 1 : 0));
    resp_free(&r);
  }
  /* An error answer keeps the connection too. */
  http_on(c, &r, "POST", url_of(s, TW_PATH),
          "application/x-www-form-urlencoded", "Body=x", 6, &o);
  CHECK(r.status == 400 && r.connects == 0);
  resp_free(&r);
  curl_easy_cleanup(c);
  vc_sim_stop(s);
}

static void test_server__expect_continue(void)
{
  vc_sim *s = start();
  req_opts o = { NULL, { "Authorization: Bearer " SGKEY,
                         "Expect: 100-continue" }, 0 };
  char *m = big_mail(64 * 1024);
  resp r;

  http(&r, "POST", url_of(s, "/v3/mail/send"), "application/json", m,
       strlen(m), &o);
  CHECK(r.status == 202);
  /* The interim answer came (curl would otherwise wait a second). */
  CHECK(strstr(r.hdr, "HTTP/1.1 100 Continue\r\n") != NULL);
  resp_free(&r);
  free(m);
  vc_sim_stop(s);
}

typedef struct held_client {
  vc_sim *s;
  resp r;
} held_client;

static void *held_main(void *arg)
{
  held_client *h = arg;

  tw_post(&h->r, h->s, good_form);
  return NULL;
}

static void test_server__stop_while_held(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  held_client h;
  pthread_t th;
  double t0;

  f.kind = VC_SIM_FAULT_TIMEOUT;      /* hold until the end */
  CHECK_OK(vc_sim_fault_add(s, "twilio", &f));
  memset(&h, 0, sizeof(h));
  h.s = s;
  CHECK(pthread_create(&th, NULL, held_main, &h) == 0);
  for (t0 = now_s(); vc_sim_received_count(s) == 0 && now_s() - t0 < 10;)
    sleep_ms(10);
  t0 = now_s();
  vc_sim_stop(s);
  pthread_join(th, NULL);
  CHECK(h.r.cc != CURLE_OK);
  CHECK(now_s() - t0 < 5.0);
  resp_free(&h.r);
}

/* Several client threads at once, with webhooks: exact counts after. */
typedef struct load {
  vc_sim *s;
  const char *cb;
  int ok;
} load;

#define LOAD_THREADS 4
#define LOAD_EACH 40

static void *load_main(void *arg)
{
  load *l = arg;
  req_opts o = { SID ":" TOKEN, { NULL }, 0 };
  CURL *c = curl_easy_init(), *e = curl_easy_init();
  char form[512], *esc = curl_easy_escape(e, l->cb, 0);
  int i;

  for (i = 0; i < LOAD_EACH; i++) {
    resp r;
    snprintf(form, sizeof(form), "To=%%2B1415555%04d&From=%%2B15005550006"
             "&Body=n%d&StatusCallback=%s", (int)(i + 100 * (l->ok + 1)), i,
             esc);
    http_on(c, &r, "POST", url_of(l->s, TW_PATH),
            "application/x-www-form-urlencoded", form, strlen(form), &o);
    if (r.status == 201)
      l->ok++;
    resp_free(&r);
  }
  curl_free(esc);
  curl_easy_cleanup(e);
  curl_easy_cleanup(c);
  return NULL;
}

static void test_server__concurrent(void)
{
  vc_sim_options o = VC_SIM_OPTIONS_INIT;
  vc_sim_webhook_stats st;
  pthread_t th[LOAD_THREADS];
  load l[LOAD_THREADS];
  vc_sim *s = NULL;
  receiver *rv = rx_start();
  char url[256];
  double t0;
  int i, ok = 0;

  o.webhook_workers = 3;
  CHECK_OK(vc_sim_start(&s, &o));
  wh_url(url, sizeof(url), rv, "/cb");
  for (i = 0; i < LOAD_THREADS; i++) {
    l[i] = (load){ s, url, 0 };
    CHECK(pthread_create(&th[i], NULL, load_main, &l[i]) == 0);
  }
  /* Readers race the writers. */
  for (t0 = now_s(); now_s() - t0 < 10 &&
       vc_sim_received_count(s) < LOAD_THREADS * LOAD_EACH / 2; ) {
    vc_sim_webhooks_stats(s, &st);
    (void)vc_sim_accepted_count(s, NULL);
    sleep_ms(1);
  }
  for (i = 0; i < LOAD_THREADS; i++) {
    pthread_join(th[i], NULL);
    ok += l[i].ok;
  }
  CHECK(ok == LOAD_THREADS * LOAD_EACH);
  CHECK(vc_sim_accepted_count(s, "twilio") == LOAD_THREADS * LOAD_EACH);
  CHECK_OK(vc_sim_webhooks_wait(s, 20000));
  vc_sim_webhooks_stats(s, &st);
  CHECK(st.posted == 2 * LOAD_THREADS * LOAD_EACH);
  CHECK(rx_wait(rv, 2 * LOAD_THREADS * LOAD_EACH, 5000) ==
        2 * LOAD_THREADS * LOAD_EACH);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_server__program(void)
{
  const char *exe = getenv("VC_SIM_PROGRAM");
  char buf[4096] = "", *port;
  size_t len = 0;
  int fds[2], st = 0;
  double t0 = now_s();
  pid_t pid;

  /* The program prints its port, serves, and exits 0 on SIGTERM. */
  if (exe == NULL) {
    printf("  (VC_SIM_PROGRAM not set: skipped)\n");
    return;
  }
  CHECK(pipe(fds) == 0);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execl(exe, exe, "--twilio-token", "tok", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  while (strstr(buf, "ready\n") == NULL && now_s() - t0 < 20) {
    ssize_t k = read(fds[0], buf + len, sizeof(buf) - 1 - len);
    if (k <= 0)
      break;
    len += (size_t)k;
    buf[len] = '\0';
  }
  close(fds[0]);
  port = strstr(buf, "port ");
  if (port != NULL && strstr(buf, "ready\n") != NULL) {
    char url[128];
    resp r;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/__sim/health",
             atoi(port + 5));
    http(&r, "GET", url, NULL, NULL, 0, NULL);
    CHECK(r.status == 200);
    resp_free(&r);
  }
  kill(pid, SIGTERM);
  CHECK(waitpid(pid, &st, 0) == pid);
  CHECK(port != NULL && atoi(port + 5) > 0);
  CHECK(strstr(buf, "sendgrid_public_key MFkw") != NULL);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The simulator's start and stop take and drop curl's global state: keep
 * one reference for the whole run, as a host program would. */
__attribute__((constructor)) static void curl_once(void)
{
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

VC_TESTS(
  VC_TEST(test_webhook__twilio_signed),
  VC_TEST(test_webhook__sendgrid_signed),
  VC_TEST(test_webhook__delay),
  VC_TEST(test_webhook__reorder),
  VC_TEST(test_webhook__duplicates),
  VC_TEST(test_webhook__final_status),
  VC_TEST(test_records__received),
  VC_TEST(test_records__duplicates),
  VC_TEST(test_settings),
  VC_TEST(test_control_api),
  VC_TEST(test_server__keepalive),
  VC_TEST(test_server__expect_continue),
  VC_TEST(test_server__stop_while_held),
  VC_TEST(test_server__concurrent),
  VC_TEST(test_server__program),
)
