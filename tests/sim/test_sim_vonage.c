/*
 * The simulator's Vonage SMS API: every refusal (HTTP 200 with a
 * non-zero status and Vonage's error text), multi-part answers, the
 * injected faults as Vonage shows them, and the receipts and inbound
 * messages it posts back, their `sig` and JWT signatures recomputed
 * here with mbedTLS.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "sim.h"
#include "test_sim_util.h"

#define VKEY VC_SIM_VONAGE_API_KEY
#define VSECRET VC_SIM_VONAGE_API_SECRET
#define VSIG VC_SIM_VONAGE_SIGNATURE_SECRET
#define VAUTH "api_key=" VKEY "&api_secret=" VSECRET
#define VFORM "application/x-www-form-urlencoded"
#define VC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void vn_post(resp *r, vc_sim *s, const char *form)
{
  http(r, "POST", url_of(s, "/sms/json"), VFORM, form, strlen(form), NULL);
}

/* Vonage's answer: 200, JSON, `n` messages; the i-th entry's status. */
static cJSON *vn_answer(const resp *r, int n)
{
  cJSON *j;

  if (r->status != 200)
    fprintf(stderr, "  got %ld: %s\n", r->status, r->body ? r->body : "");
  CHECK(r->cc == CURLE_OK && r->status == 200);
  CHECK(strncmp(rhdr(r, "Content-Type"), "application/json", 16) == 0);
  CHECK((j = json(r)) != NULL);
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "messages"))
        == n);
  return j;
}

static void check_refused(vc_sim *s, const char *form, const char *status,
                          const char *text)
{
  resp r;
  cJSON *j, *m;

  vn_post(&r, s, form);
  j = vn_answer(&r, 1);
  m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "messages"),
                         0);
  CHECK_STR(jstr(j, "message-count"), "1");
  if (jstr(m, "status") == NULL || strcmp(jstr(m, "status"), status) != 0 ||
      (text && strcmp(jstr(m, "error-text"), text) != 0))
    fprintf(stderr, "  %s\n", r.body);
  CHECK_STR(jstr(m, "status"), status);
  if (text != NULL)
    CHECK_STR(jstr(m, "error-text"), text);
  CHECK(jstr(m, "message-id") == NULL);
  cJSON_Delete(j);
  resp_free(&r);
}

/* ---- an independent `sig` --------------------------------------------- */

/* The sig of kv pairs (sig skipped), recomputed: sorted names,
 * "&name=value", '&' and '=' in text as '_'; md5hash lowercase hex of
 * MD5(string + secret), the HMACs uppercase hex. */
static void expect_sig(const char *method, const char *secret, kv *f,
                       size_t n, char out[130])
{
  kv sorted[32];
  char *s = calloc(1, 8192);
  unsigned char mac[64];
  mbedtls_md_type_t t = MBEDTLS_MD_MD5;
  const mbedtls_md_info_t *md;
  size_t i, k = 0;

  for (i = 0; i < n; i++)
    if (strcmp(f[i].k, "sig") != 0)
      sorted[k++] = f[i];
  qsort(sorted, k, sizeof(kv), kv_cmp);
  for (i = 0; i < k; i++) {
    char *v = strdup(sorted[i].v), *p;
    if (strcmp(sorted[i].k, "text") == 0)
      for (p = v; *p; p++)
        if (*p == '&' || *p == '=')
          *p = '_';
    strcat(s, "&");
    strcat(s, sorted[i].k);
    strcat(s, "=");
    strcat(s, v);
    free(v);
  }
  if (strcmp(method, "sha1hmac") == 0)
    t = MBEDTLS_MD_SHA1;
  else if (strcmp(method, "sha256hmac") == 0)
    t = MBEDTLS_MD_SHA256;
  else if (strcmp(method, "sha512hmac") == 0)
    t = MBEDTLS_MD_SHA512;
  md = mbedtls_md_info_from_type(t);
  if (strcmp(method, "md5hash") == 0) {
    strcat(s, secret);
    mbedtls_md(md, (unsigned char *)s, strlen(s), mac);
  } else {
    mbedtls_md_hmac(md, (const unsigned char *)secret, strlen(secret),
                    (unsigned char *)s, strlen(s), mac);
  }
  for (i = 0; i < mbedtls_md_get_size(md); i++)
    sprintf(out + 2 * i, strcmp(method, "md5hash") ? "%02X" : "%02x",
            mac[i]);
  free(s);
}

/* A JSON object of strings as kv pairs. */
static size_t json_form(const char *body, kv *out, size_t max)
{
  cJSON *j = cJSON_Parse(body), *it;
  size_t n = 0;

  CHECK(cJSON_IsObject(j));
  cJSON_ArrayForEach(it, j) {
    CHECK(cJSON_IsString(it) && n < max);
    out[n].k = strdup(it->string);
    out[n].v = strdup(it->valuestring);
    n++;
  }
  cJSON_Delete(j);
  return n;
}

/* ---- refusals --------------------------------------------------------- */

static void test_vonage__credentials(void)
{
  vc_sim *s = start();

  check_refused(s, "api_secret=" VSECRET "&from=Acme&to=447700900000"
                "&text=hi", "2", "Missing api_key");
  check_refused(s, "api_key=" VKEY "&from=Acme&to=447700900000&text=hi",
                "2", "Missing api_secret");
  check_refused(s, "api_key=" VKEY "&api_secret=wrong&from=Acme"
                "&to=447700900000&text=hi", "4", "Bad Credentials");
  check_refused(s, "api_key=zzzz9999&api_secret=" VSECRET "&from=Acme"
                "&to=447700900000&text=hi", "4", "Bad Credentials");
  check_refused(s, VAUTH "&sig=0123456789abcdef0123456789abcdef&from=Acme"
                "&to=447700900000&text=hi", "32",
                "Signature and API secret disallowed");
  check_refused(s, "api_key=" VKEY "&sig=0123456789abcdef0123456789abcdef"
                "&from=Acme&to=447700900000&text=hi", "14",
                "Invalid Signature");
  CHECK(vc_sim_accepted_count(s, "vonage") == 0);
  vc_sim_stop(s);
}

static void test_vonage__signed_request(void)
{
  vc_sim *s = start();
  char form[512], sig[130];
  kv f[16];
  size_t n;
  resp r;
  cJSON *j;

  snprintf(form, sizeof(form), "api_key=" VKEY "&from=Acme"
           "&to=447700900000&text=a%%3D1%%26b&timestamp=%lld",
           (long long)time(NULL));
  n = parse_form(form, f, 16);
  expect_sig("md5hash", VSIG, f, n, sig);
  free_form(f, n);
  snprintf(form + strlen(form), sizeof(form) - strlen(form), "&sig=%s",
           sig);
  vn_post(&r, s, form);
  j = vn_answer(&r, 1);
  CHECK_STR(jstr(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
                   j, "messages"), 0), "status"), "0");
  cJSON_Delete(j);
  resp_free(&r);
  vc_sim_stop(s);
}

static void test_vonage__parameters(void)
{
  vc_sim *s = start();
  resp r;

  /* a JSON body is not read: the first parameter is missing */
  http(&r, "POST", url_of(s, "/sms/json"), "application/json",
       "{\"api_key\":\"" VKEY "\"}", strlen("{\"api_key\":\"" VKEY "\"}"),
       NULL);
  CHECK(r.status == 200 && strstr(r.body, "Missing api_key") != NULL);
  resp_free(&r);
  check_refused(s, VAUTH "&to=447700900000&text=hi", "2",
                "Missing from param");
  check_refused(s, VAUTH "&from=Acme&text=hi", "2", "Missing to param");
  check_refused(s, VAUTH "&from=Acme&to=447700900000", "2",
                "Missing text param");
  check_refused(s, VAUTH "&from=Acme&to=447700900000&text=", "2",
                "Missing text param");
  check_refused(s, VAUTH "&from=Acme&to=447700900000&text=hi&type=binary",
                "3", "Invalid type param");
  /* E.164 without '+' */
  check_refused(s, VAUTH "&from=Acme&to=%2B447700900000&text=hi", "3",
                "Invalid to address: +447700900000");
  check_refused(s, VAUTH "&from=Acme&to=123456&text=hi", "3", NULL);
  check_refused(s, VAUTH "&from=AcmeIncorporated&to=447700900000&text=hi",
                "15", "Illegal Sender Address - rejected");
  check_refused(s, VAUTH "&from=Acme%21&to=447700900000&text=hi", "15",
                NULL);
  check_refused(s, VAUTH "&from=Acme&to=447700900000&text=hi&callback="
                "ftp%3A%2F%2Fh%2Fx", "23", "Invalid callback url");
  {
    char form[512];
    snprintf(form, sizeof(form), VAUTH "&from=Acme&to=447700900000&text=hi"
             "&callback=https%%3A%%2F%%2Fh.example%%2F%0*d", 83, 0);
    check_refused(s, form, "23", "Invalid callback url");
  }
  check_refused(s, VAUTH "&from=Acme&to=447700900000&text=hi&client-ref="
                "01234567890123456789012345678901234567890", "3",
                "Invalid client-ref param");
  {
    char *form = malloc(4000);
    strcpy(form, VAUTH "&from=Acme&to=447700900000&text=");
    memset(form + strlen(form), 'x', 3601);
    form[strlen(VAUTH "&from=Acme&to=447700900000&text=") + 3601] = '\0';
    check_refused(s, form, "12", "Message too long");
    free(form);
  }
  CHECK_OK(vc_sim_set(s, "vonage.barred", "447700900001,447700900002"));
  check_refused(s, VAUTH "&from=Acme&to=447700900002&text=hi", "7",
                "Number barred");
  CHECK(vc_sim_accepted_count(s, "vonage") == 0);
  /* other paths and methods */
  http(&r, "POST", url_of(s, "/sms/xml"), VFORM, VAUTH, strlen(VAUTH),
       NULL);
  CHECK(r.status == 404);
  resp_free(&r);
  http(&r, "GET", url_of(s, "/sms/json"), NULL, NULL, 0, NULL);
  CHECK(r.status == 405);
  resp_free(&r);
  vc_sim_stop(s);
}

/* ---- successes -------------------------------------------------------- */

static void check_parts(vc_sim *s, const char *form, int nparts)
{
  cJSON *j, *m;
  resp r;
  char count[8];

  vn_post(&r, s, form);
  j = vn_answer(&r, nparts);
  snprintf(count, sizeof(count), "%d", nparts);
  CHECK_STR(jstr(j, "message-count"), count);
  cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "messages")) {
    const char *id = jstr(m, "message-id");
    CHECK_STR(jstr(m, "status"), "0");
    CHECK_STR(jstr(m, "to"), "447700900000");
    CHECK(id != NULL && strlen(id) == 16 &&
          strspn(id, "0123456789ABCDEF") == 16);
    CHECK_STR(jstr(m, "message-price"), "0.03330000");
    CHECK(jstr(m, "remaining-balance") != NULL);
    CHECK_STR(jstr(m, "network"), "23410");
  }
  cJSON_Delete(j);
  resp_free(&r);
}

static char *text_form(const char *type, const char *unit, size_t n)
{
  size_t ul = strlen(unit), base;
  char *form = malloc(256 + ul * n);

  snprintf(form, 256, VAUTH "&from=Acme&to=447700900000%s%s&text=",
           type ? "&type=" : "", type ? type : "");
  base = strlen(form);
  for (size_t i = 0; i < n; i++)
    memcpy(form + base + i * ul, unit, ul);
  form[base + n * ul] = '\0';
  return form;
}

static void test_vonage__parts(void)
{
  static const struct {
    const char *type, *unit;
    size_t n;
    int parts;
  } cases[] = {
    { NULL, "a", 160, 1 },
    { NULL, "a", 161, 2 },
    { NULL, "a", 306, 2 },
    { NULL, "a", 307, 3 },
    { "text", "%5B", 80, 1 },        /* '[': two septets each */
    { "text", "%5B", 81, 2 },
    { "unicode", "a", 70, 1 },
    { "unicode", "a", 71, 2 },
    { "unicode", "%E0%A4%B9", 134, 2 },
    { "unicode", "%E0%A4%B9", 135, 3 },
    /* an emoji is two UTF-16 units and is never split */
    { "unicode", "%F0%9F%98%9C", 35, 1 },
    { "unicode", "%F0%9F%98%9C", 36, 2 },
  };
  vc_sim *s = start();

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    char *form = text_form(cases[i].type, cases[i].unit, cases[i].n);
    check_parts(s, form, cases[i].parts);
    free(form);
  }
  /* 152 septets, then 77 escape pairs: 306 septets would fill two
   * parts, but a pair never straddles two parts, so it takes three */
  {
    char *form = text_form("text", "a", 152), *full;
    CHECK((full = malloc(strlen(form) + 77 * 3 + 1)) != NULL);
    strcpy(full, form);
    for (int i = 0; i < 77; i++)
      strcat(full, "%5B");
    check_parts(s, full, 3);
    free(full);
    free(form);
  }
  CHECK(vc_sim_accepted_count(s, "vonage") == VC_ARRAY_SIZE(cases) + 1);
  vc_sim_stop(s);
}

static void test_vonage__accepted_records(void)
{
  vc_sim *s = start();
  const char *form = VAUTH "&from=14155550199&to=447700900000&text=hello"
    "&client-ref=01J9ZK3M2V7Q8R4T6W0X1Y2Z3A";
  vc_sim_request rq;
  cJSON *j;
  resp r;

  vn_post(&r, s, form);
  j = vn_answer(&r, 1);
  CHECK_STR(jstr(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
                   j, "messages"), 0), "client-ref"),
            "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A");
  cJSON_Delete(j);
  resp_free(&r);
  CHECK(vc_sim_sent_count(s, "447700900000") == 1);
  CHECK(vc_sim_sent_count(s, "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A") == 1);
  CHECK_OK(vc_sim_received_get(s, 0, &rq));
  CHECK_STR(rq.provider, "vonage");
  CHECK(rq.status == 200 && strlen(rq.message_id) == 16);
  CHECK(vc_sim_sent_count(s, rq.message_id) == 1);
  vn_post(&r, s, form);
  resp_free(&r);
  CHECK(vc_sim_duplicate_count(s, "vonage") == 1);
  vc_sim_stop(s);
}

static void test_vonage__faults(void)
{
  vc_sim *s = start();
  vc_sim_fault f = VC_SIM_FAULT_INIT;
  const char *form = VAUTH "&from=Acme&to=447700900000&text=hi";
  cJSON *j, *m;
  resp r;

  /* Throttling is a status inside a 200, as Vonage does it */
  f.kind = VC_SIM_FAULT_429;
  f.retry_after_s = 2;
  CHECK_OK(vc_sim_fault_add(s, "vonage", &f));
  vn_post(&r, s, form);
  j = vn_answer(&r, 1);
  m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "messages"),
                         0);
  CHECK_STR(jstr(m, "status"), "1");
  CHECK_STR(jstr(m, "error-text"),
            "Throughput Rate Exceeded - please wait [ 2000 ] and retry");
  cJSON_Delete(j);
  resp_free(&r);
  f.kind = VC_SIM_FAULT_5XX;
  f.status = 503;
  CHECK_OK(vc_sim_fault_add(s, "vonage", &f));
  vn_post(&r, s, form);
  CHECK(r.status == 503 && strstr(r.body, "\"status\":\"5\"") != NULL);
  resp_free(&r);
  CHECK(vc_sim_accepted_count(s, "vonage") == 0);
  check_parts(s, form, 1);
  vc_sim_stop(s);
}

/* ---- receipts and inbound messages ------------------------------------ */

static void wh_url(char *out, size_t n, receiver *rv, const char *path)
{
  snprintf(out, n, "http://127.0.0.1:%u%s", rv->port, path);
}

/* Send a message with a callback; the part ids into ids[]. */
static int send_with_callback(vc_sim *s, const char *cb, const char *text,
                              char ids[4][24])
{
  char form[2048], *esc;
  CURL *c = curl_easy_init();
  cJSON *j, *m;
  int n = 0;
  resp r;

  esc = curl_easy_escape(c, cb, 0);
  snprintf(form, sizeof(form), VAUTH "&from=AcmeInc&to=447700900000"
           "&client-ref=REF42&callback=%s&text=%s", esc, text);
  curl_free(esc);
  curl_easy_cleanup(c);
  vn_post(&r, s, form);
  CHECK(r.status == 200);
  CHECK((j = json(&r)) != NULL);
  cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "messages"))
    if (n < 4)
      snprintf(ids[n++], 24, "%s", jstr(m, "message-id"));
  cJSON_Delete(j);
  resp_free(&r);
  return n;
}

/* Check one receipt's fields and its sig under `method`. */
static void check_receipt(const rx_req *q, const char *method, int json_body,
                          const char *id, const char *status,
                          const char *err)
{
  kv f[32];
  size_t n;
  char want[130];
  long long ts;

  if (json_body) {
    CHECK_STR(rx_hdr(q, "Content-Type"), "application/json");
    n = json_form(q->body, f, 32);
  } else {
    CHECK_STR(rx_hdr(q, "Content-Type"), VFORM);
    n = parse_form(q->body, f, 32);
  }
  CHECK_STR(form_val(f, n, "messageId"), id);
  CHECK_STR(form_val(f, n, "status"), status);
  CHECK_STR(form_val(f, n, "err-code"), err);
  CHECK_STR(form_val(f, n, "msisdn"), "447700900000");
  CHECK_STR(form_val(f, n, "to"), "AcmeInc");
  CHECK_STR(form_val(f, n, "client-ref"), "REF42");
  CHECK_STR(form_val(f, n, "api-key"), VKEY);
  CHECK_STR(form_val(f, n, "price"), "0.03330000");
  CHECK(strlen(form_val(f, n, "scts")) == 10);
  CHECK(strlen(form_val(f, n, "message-timestamp")) == 19);
  if (strcmp(method, "none") == 0 || strcmp(method, "jwt") == 0) {
    CHECK(form_val(f, n, "sig") == NULL);
    CHECK(form_val(f, n, "timestamp") == NULL);
  } else {
    ts = atoll(form_val(f, n, "timestamp"));
    CHECK(llabs(ts - (long long)time(NULL)) < 60);
    CHECK(strlen(form_val(f, n, "nonce")) == 36);
    expect_sig(method, VSIG, f, n, want);
    CHECK_STR(form_val(f, n, "sig"), want);
  }
  free_form(f, n);
}

static void test_vonage__receipts_signed(void)
{
  static const char *const methods[] = {
    "md5hash", "md5hmac", "sha1hmac", "sha256hmac", "sha512hmac", "none"
  };
  vc_sim *s = start();
  receiver *rv = rx_start();
  char url[128], ids[4][24];

  wh_url(url, sizeof(url), rv, "/dlr");
  for (size_t i = 0; i < VC_ARRAY_SIZE(methods); i++) {
    size_t base = rx_wait(rv, 0, 0);
    int json_body = i % 2 == 0;

    CHECK_OK(vc_sim_set(s, "vonage.signature_method", methods[i]));
    CHECK_OK(vc_sim_set(s, "vonage.webhook_format",
                        json_body ? "json" : "form"));
    CHECK(send_with_callback(s, url, "hello", ids) == 1);
    CHECK(rx_wait(rv, base + 2, 5000) == base + 2);
    CHECK_STR(rx_get(rv, base)->path, "/dlr");
    check_receipt(rx_get(rv, base), methods[i], json_body, ids[0],
                  "accepted", "0");
    check_receipt(rx_get(rv, base + 1), methods[i], json_body, ids[0],
                  "delivered", "0");
  }
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_vonage__receipts_parts_and_final(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char url[128], ids[4][24], *text;

  wh_url(url, sizeof(url), rv, "/dlr");
  /* three parts, reordered, ending failed */
  w.reorder = 1;
  w.final_status = "failed";
  CHECK_OK(vc_sim_webhooks_set(s, "vonage", &w));
  text = malloc(400);
  memset(text, 'z', 399);
  text[399] = '\0';
  CHECK(send_with_callback(s, url, text, ids) == 3);
  free(text);
  CHECK(rx_wait(rv, 6, 5000) == 6);
  for (int k = 0; k < 3; k++) {
    check_receipt(rx_get(rv, 2 * k), "md5hash", 1, ids[k], "failed", "8");
    check_receipt(rx_get(rv, 2 * k + 1), "md5hash", 1, ids[k], "accepted",
                  "0");
  }
  /* no final receipt at all */
  w.reorder = 0;
  w.final_status = "buffered";
  CHECK_OK(vc_sim_webhooks_set(s, "vonage", &w));
  CHECK(send_with_callback(s, url, "x", ids) == 1);
  CHECK(vc_sim_webhooks_wait(s, 5000) == 0);
  CHECK(rx_wait(rv, 7, 5000) == 7);
  check_receipt(rx_get(rv, 6), "md5hash", 1, ids[0], "buffered", "0");
  vc_sim_stop(s);
  CHECK(rx_wait(rv, 8, 200) == 7);
  rx_stop(rv);
}

static void test_vonage__receipts_jwt(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  char url[128], ids[4][24], sig_in[64], hex[65];
  const char *auth, *tok, *d1, *d2;
  unsigned char mac[32], hash[32], b64[64];
  size_t olen = 0, i;
  const rx_req *q;
  cJSON *claims;
  char payload[1024], padded[1100];

  wh_url(url, sizeof(url), rv, "/dlr");
  CHECK_OK(vc_sim_set(s, "vonage.signature_method", "jwt"));
  CHECK(send_with_callback(s, url, "hello", ids) == 1);
  CHECK(rx_wait(rv, 2, 5000) == 2);
  q = rx_get(rv, 1);
  check_receipt(q, "jwt", 1, ids[0], "delivered", "0");
  auth = rx_hdr(q, "Authorization");
  CHECK(strncmp(auth, "Bearer ", 7) == 0);
  tok = auth + 7;
  CHECK((d1 = strchr(tok, '.')) != NULL && (d2 = strchr(d1 + 1, '.')));
  /* HMAC-SHA256 over header.payload, base64url */
  mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                  (const unsigned char *)VSIG, strlen(VSIG),
                  (const unsigned char *)tok, (size_t)(d2 - tok), mac);
  mbedtls_base64_encode(b64, sizeof(b64), &olen, mac, sizeof(mac));
  for (i = 0; i < olen && b64[i] != '='; i++)
    sig_in[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
  sig_in[i] = '\0';
  CHECK_STR(d2 + 1, sig_in);
  /* the claims: payload_hash of the body, a fresh iat, our api_key */
  snprintf(padded, sizeof(padded), "%.*s", (int)(d2 - d1 - 1), d1 + 1);
  for (i = 0; padded[i]; i++)
    padded[i] = padded[i] == '-' ? '+' : padded[i] == '_' ? '/' : padded[i];
  while (i % 4)
    padded[i++] = '=';
  padded[i] = '\0';
  CHECK(mbedtls_base64_decode((unsigned char *)payload, sizeof(payload) - 1,
                              &olen, (unsigned char *)padded, i) == 0);
  payload[olen] = '\0';
  CHECK((claims = cJSON_Parse(payload)) != NULL);
  mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
             (const unsigned char *)q->body, q->len, hash);
  for (i = 0; i < 32; i++)
    sprintf(hex + 2 * i, "%02x", hash[i]);
  CHECK_STR(jstr(claims, "payload_hash"), hex);
  CHECK_STR(jstr(claims, "api_key"), VKEY);
  CHECK(jnum(claims, "iat") > (double)time(NULL) - 60 &&
        jnum(claims, "iat") < (double)time(NULL) + 60);
  cJSON_Delete(claims);
  vc_sim_stop(s);
  rx_stop(rv);
}

static void test_vonage__inbound(void)
{
  vc_sim *s = start();
  receiver *rv = rx_start();
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char url[128], want[130];
  const rx_req *ascii = NULL, *other = NULL;
  int copies = 0;
  kv f[32];
  size_t n;

  wh_url(url, sizeof(url), rv, "/in");
  CHECK(vc_sim_vonage_inbound(s, NULL, "+447700900001", "447700900000",
                              "hi") == -EINVAL);
  w.url = url;
  w.duplicates = 1;
  CHECK_OK(vc_sim_webhooks_set(s, "vonage", &w));
  CHECK_OK(vc_sim_set(s, "vonage.signature_method", "sha256hmac"));
  CHECK_OK(vc_sim_vonage_inbound(s, NULL, "+447700900001", "447700900000",
                                 "stop all & = messages"));
  CHECK_OK(vc_sim_vonage_inbound(s, url, "447700900001", "447700900000",
                                 "\xe0\xa4\xa8\xe0\xa4\xae"));
  CHECK(rx_wait(rv, 4, 5000) == 4);
  /* each posted twice (a retrying sender), the same bytes */
  for (size_t i = 0; i < 4; i++) {
    const rx_req *q = rx_get(rv, i);
    CHECK_STR(q->path, "/in");
    if (strstr(q->body, "stop all") != NULL) {
      if (ascii != NULL)
        CHECK_STR(q->body, ascii->body);
      ascii = q;
      copies++;
    } else {
      if (other != NULL)
        CHECK_STR(q->body, other->body);
      other = q;
    }
  }
  CHECK(copies == 2 && ascii != NULL && other != NULL);
  n = json_form(ascii->body, f, 32);
  CHECK_STR(form_val(f, n, "msisdn"), "447700900001");
  CHECK_STR(form_val(f, n, "to"), "447700900000");
  CHECK_STR(form_val(f, n, "text"), "stop all & = messages");
  CHECK_STR(form_val(f, n, "type"), "text");
  CHECK_STR(form_val(f, n, "keyword"), "STOP");
  CHECK_STR(form_val(f, n, "api-key"), VKEY);
  CHECK(strlen(form_val(f, n, "messageId")) == 16);
  expect_sig("sha256hmac", VSIG, f, n, want);
  CHECK_STR(form_val(f, n, "sig"), want);
  free_form(f, n);
  n = json_form(other->body, f, 32);
  CHECK_STR(form_val(f, n, "type"), "unicode");
  free_form(f, n);
  vc_sim_stop(s);
  rx_stop(rv);
}

VC_TESTS(
  VC_TEST(test_vonage__credentials),
  VC_TEST(test_vonage__signed_request),
  VC_TEST(test_vonage__parameters),
  VC_TEST(test_vonage__parts),
  VC_TEST(test_vonage__accepted_records),
  VC_TEST(test_vonage__faults),
  VC_TEST(test_vonage__receipts_signed),
  VC_TEST(test_vonage__receipts_parts_and_final),
  VC_TEST(test_vonage__receipts_jwt),
  VC_TEST(test_vonage__inbound),
)
