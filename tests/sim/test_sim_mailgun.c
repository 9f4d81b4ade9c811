/*
 * The simulator's Mailgun endpoint, driven over loopback with plain
 * libcurl: every rejection (with Mailgun's answer), urlencoded and
 * multipart successes, faults, and the signed webhooks and inbound posts
 * it sends back, checked with an HMAC computed here (itself checked
 * against Mailgun's published TV-MG-1 first).
 */
#define _GNU_SOURCE
#include "harness.h"
#include "sim.h"
#include "test_sim_util.h"

#define MGKEY VC_SIM_MAILGUN_API_KEY
#define MGDOM VC_SIM_MAILGUN_DOMAIN
#define MG_PATH "/v3/" MGDOM "/messages"
#define FORM_CT "application/x-www-form-urlencoded"

static const char mg_form[] =
  "from=ERP+%3Cbilling%40erp.example%3E&to=asha%40example.com"
  "&subject=Invoice+42&text=Your+invoice&v%3Avc_message_id="
  "01HZX0000000000000000000CC";

static void mg_post(resp *r, vc_sim *s, const char *path, const char *ctype,
                    const char *body, size_t len)
{
  req_opts o = { "api:" MGKEY, { NULL }, 0 };

  http(r, "POST", url_of(s, path), ctype, body, len, &o);
}

static void mg_form_post(resp *r, vc_sim *s, const char *form)
{
  mg_post(r, s, MG_PATH, FORM_CT, form, strlen(form));
}

/* A Mailgun error: status and {"message": msg}. */
static void check_mg_error(const resp *r, long status, const char *msg)
{
  cJSON *j;

  if (r->status != status)
    fprintf(stderr, "  got %ld: %s\n", r->status, r->body ? r->body : "");
  CHECK(r->cc == CURLE_OK);
  CHECK(r->status == status);
  CHECK(strncmp(rhdr(r, "Content-Type"), "application/json", 16) == 0);
  j = json(r);
  CHECK(j != NULL);
  CHECK_STR(jstr(j, "message"), msg);
  cJSON_Delete(j);
}

/* hex HMAC-SHA256(key, timestamp || token), as Mailgun signs. */
static void mg_hmac(const char *key, const char *ts, const char *token,
                    char out[65])
{
  unsigned char mac[32];
  char msg[256];

  snprintf(msg, sizeof(msg), "%s%s", ts, token);
  mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                  (const unsigned char *)key, strlen(key),
                  (const unsigned char *)msg, strlen(msg), mac);
  for (int i = 0; i < 32; i++)
    sprintf(out + 2 * i, "%02x", mac[i]);
}

/* ---- rejections --------------------------------------------------------- */

static void test_mailgun__hmac_helper_matches_tv_mg_1(void)
{
  char sig[65];

  /* TV-MG-1 (mailgun-php tests/Api/WebhookTest.php), as a fact. */
  mg_hmac("key-3ax6xnjp29jd6fds4gc373sgvjxteol0", "1403645220",
          "5egbgr1vjgqxtrnp65xfznchgdccwh5d6i09vijqi3whgowmn6", sig);
  CHECK_STR(sig,
            "9cfc5c41582e51246e73c88d34db3af0a3a2692a76fbab81492842f000256d33");
}

static void test_mailgun__auth(void)
{
  vc_sim *s = start();
  req_opts wrong = { "api:key-wrong", { NULL }, 0 };
  req_opts user = { "user:" MGKEY, { NULL }, 0 };
  resp r;

  http(&r, "POST", url_of(s, MG_PATH), FORM_CT, mg_form, strlen(mg_form),
       NULL);
  CHECK(r.status == 401);
  CHECK_STR(r.body, "Forbidden");
  resp_free(&r);
  http(&r, "POST", url_of(s, MG_PATH), FORM_CT, mg_form, strlen(mg_form),
       &wrong);
  CHECK(r.status == 401);
  CHECK_STR(r.body, "Forbidden");
  resp_free(&r);
  /* The user must be "api". */
  http(&r, "POST", url_of(s, MG_PATH), FORM_CT, mg_form, strlen(mg_form),
       &user);
  CHECK(r.status == 401);
  resp_free(&r);
  /* Auth comes before the domain check. */
  http(&r, "POST", url_of(s, "/v3/other.example/messages"), FORM_CT,
       mg_form, strlen(mg_form), NULL);
  CHECK(r.status == 401);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "mailgun") == 0);
  vc_sim_stop(s);
}

static void test_mailgun__domain_and_routing(void)
{
  vc_sim *s = start();
  vc_sim_request q;
  resp r;

  mg_post(&r, s, "/v3/other.example/messages", FORM_CT, mg_form,
          strlen(mg_form));
  check_mg_error(&r, 404, "Domain not found: other.example");
  resp_free(&r);
  /* The rest of /v3/ is still SendGrid's. */
  sg_post(&r, s, good_mail);
  CHECK(r.status == 202);
  resp_free(&r);
  CHECK_OK(vc_sim_received_get(s, 0, &q));
  CHECK_STR(q.provider, "mailgun");
  CHECK_OK(vc_sim_received_get(s, 1, &q));
  CHECK_STR(q.provider, "sendgrid");
  vc_sim_stop(s);
}

static void test_mailgun__required_params(void)
{
  vc_sim *s = start();
  resp r;

  mg_form_post(&r, s, "to=a%40example.com&text=hi");
  check_mg_error(&r, 400, "'from' parameter is missing");
  resp_free(&r);
  mg_form_post(&r, s, "from=&to=a%40example.com&text=hi");
  check_mg_error(&r, 400, "'from' parameter is missing");
  resp_free(&r);
  mg_form_post(&r, s, "from=b%40erp.example&text=hi");
  check_mg_error(&r, 400, "'to' parameter is missing");
  resp_free(&r);
  mg_form_post(&r, s, "from=b%40erp.example&to=a%40example.com");
  check_mg_error(&r, 400, "Need at least one of 'text', 'html', "
                 "'amp-html' or 'template' parameters specified");
  resp_free(&r);
  mg_form_post(&r, s, "from=b%40erp.example&to=a%40example.com&text=");
  check_mg_error(&r, 400, "Need at least one of 'text', 'html', "
                 "'amp-html' or 'template' parameters specified");
  resp_free(&r);
  /* A JSON body is not read: from is missing. */
  mg_post(&r, s, MG_PATH, "application/json",
          "{\"from\":\"b@erp.example\"}", 24);
  check_mg_error(&r, 400, "'from' parameter is missing");
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, NULL) == 0);
  vc_sim_stop(s);
}

static void test_mailgun__invalid_addresses(void)
{
  static const char *const bad_from[] = {
    "from=billing&to=a%40example.com&text=hi",
    "from=ERP+%3Cbilling%3E&to=a%40example.com&text=hi",
    "from=a%40b.example%2C+c%40d.example&to=a%40example.com&text=hi",
  };
  static const char *const bad_to[] = {
    "from=b%40erp.example&to=asha&text=hi",
    "from=b%40erp.example&to=a%40example.com%2C+nobody&text=hi",
    "from=b%40erp.example&to=a%40example.com&to=a+b%40c.example&text=hi",
  };
  vc_sim *s = start();
  resp r;

  for (size_t i = 0; i < sizeof(bad_from) / sizeof(bad_from[0]); i++) {
    mg_form_post(&r, s, bad_from[i]);
    check_mg_error(&r, 400, "'from' parameter is not a valid address. "
                   "please check documentation");
    resp_free(&r);
  }
  for (size_t i = 0; i < sizeof(bad_to) / sizeof(bad_to[0]); i++) {
    mg_form_post(&r, s, bad_to[i]);
    check_mg_error(&r, 400, "'to' parameter is not a valid address. "
                   "please check documentation");
    resp_free(&r);
  }
  /* A quoted display name may hold a comma. */
  mg_form_post(&r, s, "from=%22Billing%2C+ERP%22+%3Cb%40erp.example%3E"
               "&to=Asha+%3Ca%40example.com%3E%2C+c%40example.com&text=hi");
  CHECK(r.status == 200);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_mailgun__send_ok(void)
{
  vc_sim *s = start();
  vc_sim_request q;
  char id[160];
  const char *v;
  cJSON *j;
  resp r;

  mg_form_post(&r, s, mg_form);
  CHECK(r.status == 200);
  CHECK(strncmp(rhdr(&r, "Content-Type"), "application/json", 16) == 0);
  j = json(&r);
  CHECK(j != NULL);
  CHECK_STR(jstr(j, "message"), "Queued. Thank you.");
  v = jstr(j, "id");
  CHECK(v != NULL && v[0] == '<' && v[strlen(v) - 1] == '>');
  CHECK(strstr(v, "@" MGDOM ">") != NULL);
  snprintf(id, sizeof(id), "%.*s", (int)strlen(v) - 2, v + 1);
  cJSON_Delete(j);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "mailgun") == 1);
  /* The id without brackets, the recipient and v: values count. */
  CHECK(vc_sim_sent_count(s, id) == 1);
  CHECK(vc_sim_sent_count(s, "asha@example.com") == 1);
  CHECK(vc_sim_sent_count(s, "01HZX0000000000000000000CC") == 1);
  CHECK_OK(vc_sim_received_get(s, 0, &q));
  CHECK_STR(q.message_id, id);
  CHECK(strncmp(q.authorization, "Basic ", 6) == 0);
  /* The same fields again: a duplicate. */
  mg_form_post(&r, s, mg_form);
  CHECK(r.status == 200);
  resp_free(&r);
  CHECK(vc_sim_duplicate_count(s, "mailgun") == 1);
  vc_sim_stop(s);
}

static const char mp_head[] =
  "--XyZ\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\n"
  "b@erp.example\r\n"
  "--XyZ\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\n"
  "a@example.com\r\n"
  "--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n"
  "line 1\r\nline 2\r\n";

static void test_mailgun__multipart(void)
{
  vc_sim *s = start();
  const char *ct = "multipart/form-data; boundary=XyZ";
  char body[1024];
  size_t n;
  resp r;

  /* A file attachment with bytes that look like a delimiter, but are
   * not one (no CR LF before them). */
  n = (size_t)snprintf(body, sizeof(body), "%s--XyZ\r\nContent-Disposition:"
                       " form-data; name=\"attachment\"; filename=\"a.bin\""
                       "\r\nContent-Type: application/octet-stream\r\n\r\n"
                       "x--XyZ\x01\x02\r\n--XyZ--\r\n", mp_head);
  mg_post(&r, s, MG_PATH, ct, body, n);
  CHECK(r.status == 200);
  resp_free(&r);
  /* An attachment that is not a file part. */
  n = (size_t)snprintf(body, sizeof(body), "%s--XyZ\r\nContent-Disposition:"
                       " form-data; name=\"attachment\"\r\n\r\nabc\r\n"
                       "--XyZ--\r\n", mp_head);
  mg_post(&r, s, MG_PATH, ct, body, n);
  check_mg_error(&r, 400, "'attachment' parameter is not a file");
  resp_free(&r);
  /* Unterminated: no closing delimiter. */
  n = (size_t)snprintf(body, sizeof(body), "%s", mp_head);
  mg_post(&r, s, MG_PATH, ct, body, n);
  check_mg_error(&r, 400, "Bad Request");
  resp_free(&r);
  /* No boundary parameter. */
  mg_post(&r, s, MG_PATH, "multipart/form-data", body, n);
  check_mg_error(&r, 400, "Bad Request");
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "mailgun") == 1);
  vc_sim_stop(s);
}

static void test_mailgun__faults(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  resp r;

  f.kind = VC_SIM_FAULT_429;
  f.retry_after_s = 3;
  CHECK_OK(vc_sim_fault_add(s, "mailgun", &f));
  mg_form_post(&r, s, mg_form);
  check_mg_error(&r, 429, "Too many requests");
  CHECK_STR(rhdr(&r, "Retry-After"), "3");
  resp_free(&r);
  f = (vc_sim_fault)VC_SIM_FAULT_INIT;
  f.kind = VC_SIM_FAULT_5XX;
  f.status = 502;
  CHECK_OK(vc_sim_fault_add(s, "mailgun", &f));
  mg_form_post(&r, s, mg_form);
  check_mg_error(&r, 502, "Internal Server Error");
  resp_free(&r);
  mg_form_post(&r, s, mg_form);
  CHECK(r.status == 200);
  resp_free(&r);
  vc_sim_stop(s);
}

/* ---- webhooks -------------------------------------------------------------- */

static void wh_url(char *out, size_t n, receiver *rv, const char *path)
{
  snprintf(out, n, "http://127.0.0.1:%u%s", rv->port, path);
}

/* The event-data of a received webhook, after checking its signature
 * with `key`; NULL when it does not verify. Frees nothing: the caller
 * deletes *root. */
static const cJSON *signed_event(const rx_req *q, const char *key,
                                 cJSON **root)
{
  const cJSON *sig;
  const char *ts, *token, *got;
  char want[65];

  *root = cJSON_Parse(q->body);
  CHECK(*root != NULL);
  sig = cJSON_GetObjectItemCaseSensitive(*root, "signature");
  ts = jstr(sig, "timestamp");
  token = jstr(sig, "token");
  got = jstr(sig, "signature");
  CHECK(ts != NULL && token != NULL && got != NULL);
  CHECK(strlen(token) == 50);
  CHECK(llabs(atoll(ts) - (long long)time(NULL)) < 60);
  mg_hmac(key, ts, token, want);
  if (strcmp(want, got) != 0)
    return NULL;
  return cJSON_GetObjectItemCaseSensitive(*root, "event-data");
}

static void test_mailgun__webhooks_signed(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char url[256], id[160], token0[64];
  const cJSON *ev, *hdrs, *uv;
  cJSON *root, *j;
  resp r;

  wh_url(url, sizeof(url), rv, "/webhooks/ch_mg");
  w.url = url;
  CHECK_OK(vc_sim_webhooks_set(s, "mailgun", &w));
  mg_form_post(&r, s, "from=b%40erp.example&to=a1%40example.com%2C+"
               "a2%40example.com&text=hi&subject=S&o%3Atag=invoice"
               "&v%3Avc_message_id=01HZX0000000000000000000DD");
  CHECK(r.status == 200);
  j = json(&r);
  snprintf(id, sizeof(id), "%.*s", (int)strlen(jstr(j, "id")) - 2,
           jstr(j, "id") + 1);
  cJSON_Delete(j);
  resp_free(&r);
  /* accepted then delivered, for each of the two recipients. */
  CHECK(rx_wait(rv, 4, 5000) == 4);
  CHECK(vc_sim_webhooks_wait(s, 5000) == 0);
  for (size_t i = 0; i < 4; i++) {
    const rx_req *q = rx_get(rv, i);
    CHECK_STR(q->path, "/webhooks/ch_mg");
    CHECK(strncmp(rx_hdr(q, "Content-Type"), "application/json", 16) == 0);
    ev = signed_event(q, VC_SIM_MAILGUN_SIGNING_KEY, &root);
    CHECK(ev != NULL);
    /* A different key does not verify it. */
    {
      cJSON *again;
      CHECK(signed_event(q, "another-key", &again) == NULL);
      cJSON_Delete(again);
    }
    CHECK_STR(jstr(ev, "event"), i % 2 == 0 ? "accepted" : "delivered");
    CHECK(jstr(ev, "id") != NULL && strlen(jstr(ev, "id")) == 22);
    CHECK(jnum(ev, "timestamp") > 1.6e9);
    hdrs = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(ev, "message"), "headers");
    CHECK_STR(jstr(hdrs, "message-id"), id);
    uv = cJSON_GetObjectItemCaseSensitive(ev, "user-variables");
    CHECK_STR(jstr(uv, "vc_message_id"), "01HZX0000000000000000000DD");
    CHECK_STR(jstr(ev, "recipient"), i < 2 ? "a1@example.com"
                                           : "a2@example.com");
    CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ev,
                                                                  "tags"),
                                 0)->valuestring, "invoice");
    if (i == 1) {
      const cJSON *ds = cJSON_GetObjectItemCaseSensitive(ev,
                                                         "delivery-status");
      CHECK(jnum(ds, "code") == 250);
    }
    if (i == 0)
      snprintf(token0, sizeof(token0), "%s",
               jstr(cJSON_GetObjectItemCaseSensitive(root, "signature"),
                    "token"));
    else   /* every post has its own token */
      CHECK(strcmp(token0, jstr(cJSON_GetObjectItemCaseSensitive(root,
                                                                 "signature"),
                                "token")) != 0);
    cJSON_Delete(root);
  }
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_mailgun__webhook_final_statuses(void)
{
  static const struct {
    const char *final, *event, *severity, *reason;
    double code;
  } cases[] = {
    { "permanent_fail", "failed", "permanent", "bounce", 550 },
    { "suppress", "failed", "permanent", "suppress-bounce", 605 },
    { "temporary_fail", "failed", "temporary", "generic", 452 },
  };
  vc_sim *s = start();
  receiver *rv = rx_start();
  char url[256];
  size_t got = 0;
  resp r;

  wh_url(url, sizeof(url), rv, "/webhooks/ch_mg");
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
    const cJSON *ev, *ds;
    cJSON *root;

    w.url = url;
    w.final_status = cases[c].final;
    w.reorder = 1;
    CHECK_OK(vc_sim_webhooks_set(s, "mailgun", &w));
    mg_form_post(&r, s, mg_form);
    CHECK(r.status == 200);
    resp_free(&r);
    got += 2;
    CHECK(rx_wait(rv, got, 5000) == got);
    /* Reordered: the final event first. */
    ev = signed_event(rx_get(rv, got - 2), VC_SIM_MAILGUN_SIGNING_KEY,
                      &root);
    CHECK(ev != NULL);
    CHECK_STR(jstr(ev, "event"), cases[c].event);
    CHECK_STR(jstr(ev, "severity"), cases[c].severity);
    CHECK_STR(jstr(ev, "reason"), cases[c].reason);
    ds = cJSON_GetObjectItemCaseSensitive(ev, "delivery-status");
    CHECK(jnum(ds, "code") == cases[c].code);
    cJSON_Delete(root);
    ev = signed_event(rx_get(rv, got - 1), VC_SIM_MAILGUN_SIGNING_KEY,
                      &root);
    CHECK_STR(jstr(ev, "event"), "accepted");
    cJSON_Delete(root);
  }
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_mailgun__signing_key_setting(void)
{
  const char *set[] = { "mailgun.signing_key=custom-signing-key", NULL };
  vc_sim_options o = VC_SIM_OPTIONS_INIT;
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  receiver *rv = rx_start();
  vc_sim *s = NULL;
  char url[256], buf[64];
  cJSON *root;
  resp r;

  o.settings = set;
  CHECK_OK(vc_sim_start(&s, &o));
  CHECK(vc_sim_get(s, "mailgun.signing_key", buf, sizeof(buf)) > 0);
  CHECK_STR(buf, "custom-signing-key");
  wh_url(url, sizeof(url), rv, "/webhooks/ch_mg");
  w.url = url;
  w.final_status = "accepted";       /* no receipt: one post */
  CHECK_OK(vc_sim_webhooks_set(s, "mailgun", &w));
  mg_form_post(&r, s, mg_form);
  CHECK(r.status == 200);
  resp_free(&r);
  CHECK(rx_wait(rv, 1, 5000) == 1);
  CHECK(signed_event(rx_get(rv, 0), "custom-signing-key", &root) != NULL);
  cJSON_Delete(root);
  CHECK(signed_event(rx_get(rv, 0), VC_SIM_MAILGUN_SIGNING_KEY, &root) ==
        NULL);
  cJSON_Delete(root);
  CHECK(vc_sim_webhooks_wait(s, 5000) == 0);
  CHECK(rv->n == 1);
  vc_sim_stop(s);
  rx_stop(rv);
}

/* A named field of a received form or multipart body ("" when absent). */
static const char *field(const rx_req *q, const char *name)
{
  static _Thread_local char out[4096];
  const char *ct = rx_hdr(q, "Content-Type");
  char pat[160];

  out[0] = '\0';
  if (strncmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
    kv f[64];
    size_t n = parse_form(q->body, f, 64);
    const char *v = form_val(f, n, name);
    snprintf(out, sizeof(out), "%s", v ? v : "");
    free_form(f, n);
  } else {
    const char *p, *e;
    snprintf(pat, sizeof(pat), "name=\"%s\"\r\n\r\n", name);
    if ((p = strstr(q->body, pat)) != NULL &&
        (e = strstr(p + strlen(pat), "\r\n--")) != NULL)
      snprintf(out, sizeof(out), "%.*s", (int)(e - p - strlen(pat)),
               p + strlen(pat));
  }
  return out;
}

static void test_mailgun__inbound(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  vc_sim_mailgun_mail m = { "Asha <asha@example.com>", "support@" MGDOM,
                            "Re: Invoice 42", "Paid, thanks.", NULL, NULL };
  char url[256], mid[200], want[65], ts[32], token[64];
  const rx_req *q;
  cJSON *h;

  CHECK(vc_sim_mailgun_inbound(s, &m, mid, sizeof(mid)) == -ENOENT);
  wh_url(url, sizeof(url), rv, "/webhooks/ch_in");
  w.url = url;
  CHECK_OK(vc_sim_webhooks_set(s, "mailgun", &w));
  CHECK_OK(vc_sim_mailgun_inbound(s, &m, mid, sizeof(mid)));
  CHECK(strchr(mid, '@') != NULL && mid[0] != '<');
  m.attachment = "a note";
  m.html = "<p>Paid, thanks.</p>";
  CHECK_OK(vc_sim_mailgun_inbound(s, &m, NULL, 0));
  CHECK(rx_wait(rv, 2, 5000) == 2);
  for (size_t i = 0; i < 2; i++) {
    q = rx_get(rv, i);
    CHECK_STR(q->path, "/webhooks/ch_in");
    CHECK(strncmp(rx_hdr(q, "Content-Type"), i == 0
                  ? "application/x-www-form-urlencoded"
                  : "multipart/form-data; boundary=", i == 0 ? 33 : 30)
          == 0);
    CHECK_STR(field(q, "recipient"), "support@" MGDOM);
    CHECK_STR(field(q, "sender"), "asha@example.com");
    CHECK_STR(field(q, "from"), "Asha <asha@example.com>");
    CHECK_STR(field(q, "subject"), "Re: Invoice 42");
    CHECK_STR(field(q, "body-plain"), "Paid, thanks.");
    CHECK(strlen(field(q, "token")) == 50);
    snprintf(ts, sizeof(ts), "%s", field(q, "timestamp"));
    snprintf(token, sizeof(token), "%s", field(q, "token"));
    mg_hmac(VC_SIM_MAILGUN_SIGNING_KEY, ts, token, want);
    CHECK_STR(field(q, "signature"), want);
    h = cJSON_Parse(field(q, "message-headers"));
    CHECK(cJSON_IsArray(h) && cJSON_GetArraySize(h) == 4);
    cJSON_Delete(h);
  }
  q = rx_get(rv, 0);
  {
    char bracketed[210];
    snprintf(bracketed, sizeof(bracketed), "<%s>", mid);
    CHECK_STR(field(q, "Message-Id"), bracketed);
  }
  q = rx_get(rv, 1);
  CHECK_STR(field(q, "body-html"), "<p>Paid, thanks.</p>");
  CHECK_STR(field(q, "attachment-count"), "1");
  CHECK(strstr(q->body, "filename=\"note.txt\"") != NULL);
  vc_sim_stop(s);
  rx_stop(rv);
}

VC_TESTS(
  VC_TEST(test_mailgun__hmac_helper_matches_tv_mg_1),
  VC_TEST(test_mailgun__auth),
  VC_TEST(test_mailgun__domain_and_routing),
  VC_TEST(test_mailgun__required_params),
  VC_TEST(test_mailgun__invalid_addresses),
  VC_TEST(test_mailgun__send_ok),
  VC_TEST(test_mailgun__multipart),
  VC_TEST(test_mailgun__faults),
  VC_TEST(test_mailgun__webhooks_signed),
  VC_TEST(test_mailgun__webhook_final_statuses),
  VC_TEST(test_mailgun__signing_key_setting),
  VC_TEST(test_mailgun__inbound),
)
