/*
 * Unit tests of the Vonage SMS adapter (adapters/sms/vonage.c):
 * configuration checks, the /sms/json request (type=unicode, numbers
 * without '+'), every outcome class of Vonage's answer including
 * multi-part answers, the `sig` signature against the published vectors
 * (TV-VN-1..5) and negative cases, Bearer JWT webhooks, delivery
 * receipts, inbound messages and bad input.
 *
 * Signatures and JWTs not taken from the published vectors were
 * computed with Python's hmac, hashlib and base64, independently of the
 * adapter (the script's steps are in the comment above each value).
 * When VC_PROVIDER_VECTORS names providers' vectors.json, its
 * vonage_sms_sig entries are checked as well.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/text.h"
#include "net/http_out.h"
#include "net/sink.h"
#include "adapters/builtin.h"
#include "adapters/sms/vonage.h"

#include <cJSON.h>

#include "harness.h"

#define VN (&vc__adapter_vonage_sms)

#define API_KEY "abcd1234"
#define API_SECRET "s3cr3tS3cr3t1234"
#define SIG_SECRET "sig-secret-for-unit-tests-0123456789"
#define MSG_ID "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A"
#define CREDS "{\"api_key\": \"" API_KEY "\", \"api_secret\": \"" \
  API_SECRET "\"}"
#define SIGNED_CREDS "{\"api_key\": \"" API_KEY "\", \"api_secret\": \"" \
  API_SECRET "\", \"signature_secret\": \"" SIG_SECRET "\"}"
#define FORM "application/x-www-form-urlencoded"
#define T0 INT64_C(1700000000000)    /* the webhooks' timestamp, in ms */

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static void *state_new(const char *config, const char *creds)
{
  void *st = NULL;
  int rc = VN->init(&st, config, creds);

  if (rc != 0)
    fprintf(stderr, "  init: %d %s\n", rc, vc_error_last()->message);
  CHECK(rc == 0 && st != NULL);
  return st;
}

static void *signed_state(const char *method)
{
  char config[128];

  snprintf(config, sizeof(config), "{\"signature_method\": \"%s\"}",
           method);
  return state_new(config, SIGNED_CREDS);
}

/* The last error is one line and quotes no secret. */
static void check_clean_error(void)
{
  const char *m = vc_error_last()->message;

  for (const char *p = m; *p; p++)
    CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
  CHECK(strstr(m, API_SECRET) == NULL);
  CHECK(strstr(m, SIG_SECRET) == NULL);
}

static vc_outbound outbound(const char *to, const char *from,
                            const char *text)
{
  vc_outbound m;

  memset(&m, 0, sizeof(m));
  m.version = VC_OUTBOUND_VERSION;
  m.kind = VC_CHANNEL_SMS;
  m.message_id = MSG_ID;
  m.tenant_id = "01J9ZK0000000000000000TEN1";
  m.to = to;
  m.from = from;
  m.text = text;
  m.status_callback_url =
    "https://hooks.example.com/webhooks/01J9ZK0000000000000000CHAN";
  return m;
}

static const char *body_of(const vc_http_out *req)
{
  return req->body.ptr ? req->body.ptr : "";
}

/* build_send into a fresh request; the caller resets it. */
static int build(void *st, const vc_outbound *m, vc_http_out *req)
{
  vc__http_out_init(req);
  return VN->build_send(st, m, req);
}

static vc_send_result parse_full(void *st, int status, const char *body,
                                 const char *hname, const char *hvalue)
{
  vc_http_response res = VC_HTTP_RESPONSE_INIT;
  vc_http_header h = { hname, hvalue };
  vc_send_result r;
  vc_outbound m = outbound("+14155550100", "AcmeInc", "hi");

  res.status = status;
  res.content_type = "application/json";
  res.body.ptr = (char *)body;      /* borrowed: reserved stays 0 */
  res.body.size = body ? strlen(body) : 0;
  if (hname != NULL) {
    res.headers = &h;
    res.nheaders = 1;
  }
  memset(&r, 0, sizeof(r));
  r.version = VC_SEND_RESULT_VERSION;
  CHECK_OK(VN->parse_send(st, &m, &res, &r));
  return r;
}

static vc_send_result parse(void *st, const char *body)
{
  return parse_full(st, 200, body, NULL, NULL);
}

/* A webhook request. */
typedef struct hook {
  vc_http_header h[3];
  vc_http_request req;
} hook;

static void hook_set(hook *k, const char *method, const char *target,
                     const char *ctype, const char *body,
                     const char *bearer)
{
  static char auth[2048];
  size_t n = 0;

  memset(k, 0, sizeof(*k));
  if (ctype != NULL) {
    k->h[n].name = "Content-Type";
    k->h[n++].value = ctype;
  }
  if (bearer != NULL) {
    snprintf(auth, sizeof(auth), "Bearer %s", bearer);
    k->h[n].name = "Authorization";
    k->h[n++].value = auth;
  }
  k->req.version = VC_HTTP_REQUEST_VERSION;
  k->req.method = method;
  k->req.target = target;
  k->req.headers = k->h;
  k->req.nheaders = n;
  k->req.body = (const uint8_t *)body;
  k->req.body_len = body ? strlen(body) : 0;
}

/* What a sink received. */
typedef struct seen {
  int nstatus, ninbound;
  int status;
  char message_id[80], provider_id[80], code[16], error[128];
  int has_message_id, has_code, has_error;
  int64_t occurred_at;
  char from[64], to[64], text[256], in_id[64];
} seen;

static void copy(char *dst, size_t cap, const char *src)
{
  snprintf(dst, cap, "%s", src ? src : "");
}

static int on_status(void *p, const vc_status_update *u)
{
  seen *s = p;

  s->nstatus++;
  s->status = u->status;
  s->has_message_id = u->message_id != NULL;
  copy(s->message_id, sizeof(s->message_id), u->message_id);
  copy(s->provider_id, sizeof(s->provider_id), u->provider_id);
  s->has_code = u->provider_code != NULL;
  copy(s->code, sizeof(s->code), u->provider_code);
  s->has_error = u->error_message != NULL;
  copy(s->error, sizeof(s->error), u->error_message);
  s->occurred_at = u->occurred_at;
  if (u->event_id != NULL)
    s->nstatus += 100;         /* Vonage has none: must stay unset */
  return 0;
}

static int on_inbound(void *p, const vc_inbound *m)
{
  seen *s = p;

  s->ninbound++;
  copy(s->from, sizeof(s->from), m->from);
  copy(s->to, sizeof(s->to), m->to);
  copy(s->text, sizeof(s->text), m->text);
  copy(s->in_id, sizeof(s->in_id), m->provider_id);
  s->occurred_at = m->occurred_at;
  if (m->nmedia != 0)
    s->ninbound += 100;
  return 0;
}

/* parse_webhook on a request; returns its code. */
static int parse_hook(seen *s, const char *method, const char *target,
                      const char *ctype, const char *body)
{
  vc_event_sink sink;
  hook k;
  int rc;

  memset(s, 0, sizeof(*s));
  vc__sink_init(&sink, on_status, on_inbound, s);
  hook_set(&k, method, target, ctype, body, NULL);
  rc = VN->parse_webhook(NULL, &k.req, &sink);
  CHECK(sink.reply_status == 0 || sink.reply_status == 200);
  vc__sink_fini(&sink);
  return rc;
}

static int verify(void *st, const char *method, const char *target,
                  const char *ctype, const char *body, const char *bearer,
                  int64_t now)
{
  hook k;

  hook_set(&k, method, target, ctype, body, bearer);
  return vc__vonage_verify(st, &k.req, now);
}

/* ------------------------------------------------------------------ */
/* The vtable and init                                                 */

static void test_vonage__vtable(void)
{
  CHECK_STR(VN->name, "vonage-sms");
  CHECK(VN->kind == VC_CHANNEL_SMS);
  CHECK(VN->capabilities ==
        (VC_CAP_DELIVERY_REPORTS | VC_CAP_INBOUND |
         VC_CAP_SIGNED_WEBHOOKS));
  CHECK(VN->verify_webhook != NULL && VN->parse_webhook != NULL);
}

static void test_vonage__init_ok(void)
{
  static const char *const methods[] = {
    "md5hash", "md5hmac", "sha1hmac", "sha256hmac", "sha512hmac", "jwt"
  };
  void *st;

  VN->fini(state_new(NULL, CREDS));
  VN->fini(state_new("{}", CREDS));
  VN->fini(state_new("{\"base_url\": \"https://rest.nexmo.com/\", "
                     "\"currency\": \"usd\"}", CREDS));
  VN->fini(state_new("{\"base_url\": \"http://127.0.0.1:8080\"}", CREDS));
  /* signed requests need no API secret */
  VN->fini(state_new("{\"signature_method\": \"md5hash\", "
                     "\"sign_requests\": true}",
                     "{\"api_key\": \"" API_KEY "\", \"signature_secret\": "
                     "\"" SIG_SECRET "\"}"));
  VN->fini(state_new("{\"sign_requests\": false}", CREDS));
  for (size_t i = 0; i < VC_ARRAY_SIZE(methods); i++)
    VN->fini(signed_state(methods[i]));
  VN->fini(NULL);
  /* no signature secret: webhooks are refused, sends work */
  st = state_new(NULL, CREDS);
  CHECK(verify(st, "GET", "/webhooks/x?status=delivered", NULL, NULL, NULL,
               T0) == VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "no signature_secret") != NULL);
  VN->fini(st);
}

static void test_vonage__init_bad(void)
{
  static const struct {
    const char *config, *creds, *needle;
    int rc;
  } cases[] = {
    { "[]", CREDS, "JSON object", VC_EINVALID },
    { "{\"base_url\": 1}", CREDS, "must be a string", VC_EINVALID },
    { "{\"colour\": \"red\"}", CREDS, "unknown key 'colour'", VC_EINVALID },
    { "{\"base_url\": \"ftp://x\"}", CREDS, "https://", VC_EINVALID },
    { "{\"base_url\": \"http://rest.nexmo.com\"}", CREDS, "loopback",
      VC_EINVALID },
    { "{\"base_url\": \"https://\"}", CREDS, "no host", VC_EINVALID },
    { "{\"base_url\": \"https://a b\"}", CREDS, "invalid character",
      VC_EINVALID },
    { "{\"signature_method\": \"sha384hmac\"}", SIGNED_CREDS,
      "signature_method must be", VC_EINVALID },
    { "{\"signature_method\": \"md5hash\"}", CREDS,
      "needs credentials.signature_secret", VC_EINVALID },
    { "{}", SIGNED_CREDS, "needs config.signature_method", VC_EINVALID },
    { "{\"currency\": \"EURO\"}", CREDS, "ISO 4217", VC_EINVALID },
    { "{\"sign_requests\": 1}", CREDS, "true or false", VC_EINVALID },
    { "{\"sign_requests\": true}", CREDS, "needs a signature_secret",
      VC_EINVALID },
    { "{\"sign_requests\": true, \"signature_method\": \"jwt\"}",
      SIGNED_CREDS, "other than jwt", VC_EINVALID },
    { "{\"sign_requests\": false, \"signature_method\": \"md5hash\"}",
      "{\"api_key\": \"" API_KEY "\", \"signature_secret\": \"" SIG_SECRET
      "\"}", "are required", VC_EINVALID },
    { "{}", "{}", "are required", VC_EINVALID },
    { "{}", "{\"api_key\": \"abcd1234\"}", "are required", VC_EINVALID },
    { "{}", "{\"api_key\": \"abcd123\", \"api_secret\": \"" API_SECRET
      "\"}", "8 letters or digits", VC_EINVALID },
    { "{}", "{\"api_key\": \"abcd12345\", \"api_secret\": \"" API_SECRET
      "\"}", "8 letters or digits", VC_EINVALID },
    { "{}", "{\"api_key\": \"abcd1234\", \"api_secret\": \"12345\"}",
      "6 to 32", VC_EINVALID },
    { "{}", "{\"api_key\": \"abcd1234\", \"api_secret\": \"" API_SECRET
      " x\"}", "6 to 32", VC_EINVALID },
    { "{\"signature_method\": \"md5hash\"}",
      "{\"api_key\": \"abcd1234\", \"api_secret\": \"" API_SECRET
      "\", \"signature_secret\": \"short\"}", "8 to 256", VC_EINVALID },
    /* an unknown credential key is not quoted: it may be a secret */
    { "{}", "{\"api_key\": \"abcd1234\", \"api_secret\": \"" API_SECRET
      "\", \"" API_SECRET "x\": 1}", "unknown key", VC_EINVALID },
    { "{}", "{\"api_key\": \"abcd1234\", \"api_key\": \"abcd1234\", "
      "\"api_secret\": \"" API_SECRET "\"}", "given twice", VC_EINVALID },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    void *st = (void *)1;
    int rc = VN->init(&st, cases[i].config, cases[i].creds);

    if (rc != cases[i].rc ||
        strstr(vc_error_last()->message, cases[i].needle) == NULL)
      fprintf(stderr, "  case %zu: %d %s\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == cases[i].rc && st == NULL);
    CHECK(strstr(vc_error_last()->message, cases[i].needle) != NULL);
    check_clean_error();
  }
}

/* ------------------------------------------------------------------ */
/* build_send                                                          */

static void test_vonage__build_send_basic(void)
{
  void *st = state_new(NULL, CREDS);
  vc_outbound m = outbound("+14155550100", "+14155550199",
                           "Order #42 ships today & arrives Friday");
  vc_http_out req;

  CHECK_OK(build(st, &m, &req));
  CHECK_STR(req.method, "POST");
  CHECK_STR(req.url, "https://rest.nexmo.com/sms/json");
  CHECK_STR(vc__http_out_header(&req, "Content-Type"), FORM);
  CHECK_STR(vc__http_out_header(&req, "Accept"), "application/json");
  CHECK(vc__http_out_header(&req, "Authorization") == NULL);
  /* numbers without '+', no type for GSM-7 text, our id as client-ref */
  CHECK_STR(body_of(&req),
            "api_key=abcd1234&api_secret=s3cr3tS3cr3t1234"
            "&from=14155550199&to=14155550100"
            "&text=Order+%2342+ships+today+%26+arrives+Friday"
            "&callback=https%3A%2F%2Fhooks.example.com%2Fwebhooks%2F"
            "01J9ZK0000000000000000CHAN&client-ref=" MSG_ID);
  vc__http_out_reset(&req);
  VN->fini(st);

  /* a loopback base URL, an alphanumeric sender kept as it is, no
   * callback URL, no message id */
  st = state_new("{\"base_url\": \"http://127.0.0.1:8099//\"}", CREDS);
  m = outbound("+447700900000", "Acme Inc", "hello");
  m.status_callback_url = NULL;
  m.message_id = NULL;
  CHECK_OK(build(st, &m, &req));
  CHECK_STR(req.url, "http://127.0.0.1:8099/sms/json");
  CHECK_STR(body_of(&req),
            "api_key=abcd1234&api_secret=s3cr3tS3cr3t1234&from=Acme+Inc"
            "&to=447700900000&text=hello");
  vc__http_out_reset(&req);
  VN->fini(st);
}

/* A signed request (Python: the parameters sorted by name, "&name=value"
 * each with '&' and '=' in text as '_', then hashlib.md5(s +
 * SIG_SECRET).hexdigest() and hmac.new(SIG_SECRET, s,
 * hashlib.sha512).hexdigest().upper()). */
static void test_vonage__build_send_signed(void)
{
  static const struct {
    const char *method, *sig;
  } cases[] = {
    { "md5hash", "26dc07ef85ebfc913b2328ce6d6f790c" },
    { "sha512hmac",
      "A255265F73DE598904BB8DC9502A0087295600FE660F1A0EB62ACBB78B98C830"
      "0808CF0FC5A3DA0A449722A840CBD145180639C613271EBDB1B21EA2B42B5232" },
  };
  char config[128], want[1024];

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    void *st;
    vc_outbound m = outbound("+14155550100", "AcmeInc", "hi & bye=1");
    vc_http_out req;

    snprintf(config, sizeof(config), "{\"signature_method\": \"%s\", "
             "\"sign_requests\": true}", cases[i].method);
    st = state_new(config, SIGNED_CREDS);
    m.now_ms = INT64_C(1700000000999);
    CHECK_OK(build(st, &m, &req));
    snprintf(want, sizeof(want), "api_key=abcd1234&from=AcmeInc"
             "&to=14155550100&text=hi+%%26+bye%%3D1&callback=https%%3A%%2F%%2F"
             "hooks.example.com%%2Fwebhooks%%2F01J9ZK0000000000000000CHAN"
             "&client-ref=" MSG_ID "&timestamp=1700000000&sig=%s",
             cases[i].sig);
    /* the API secret never travels */
    CHECK_STR(body_of(&req), want);
    vc__http_out_reset(&req);
    /* no clock, no signed request */
    m.now_ms = 0;
    CHECK(build(st, &m, &req) == VC_EINVALID);
    CHECK(strstr(vc_error_last()->message, "now_ms") != NULL);
    vc__http_out_reset(&req);
    VN->fini(st);
  }
}

static void test_vonage__build_send_unicode(void)
{
  static const struct {
    const char *text;
    int unicode;
  } cases[] = {
    { "plain GSM text", 0 },
    { "GSM extension: {[~]} and \xe2\x82\xac", 0 },   /* euro sign */
    { "GSM Latin: \xc3\xa9t\xc3\xa9 \xc3\xbc", 0 },   /* e-acute, u-uml */
    { "not GSM: \xc3\xa1", 1 },                        /* a-acute */
    { "backtick ` is not GSM", 1 },
    { "emoji \xf0\x9f\x98\x9c", 1 },
    { "Devanagari \xe0\xa4\xb9", 1 },
  };
  void *st = state_new(NULL, CREDS);

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    vc_outbound m = outbound("+14155550100", "AcmeInc", cases[i].text);
    vc_http_out req;
    int has;

    CHECK_OK(build(st, &m, &req));
    has = strstr(body_of(&req), "&type=unicode") != NULL;
    if (has != cases[i].unicode)
      fprintf(stderr, "  case %zu: %s\n", i, body_of(&req));
    CHECK(has == cases[i].unicode);
    vc__http_out_reset(&req);
  }
  VN->fini(st);
}

static void test_vonage__build_send_callback_limit(void)
{
  void *st = state_new(NULL, CREDS);
  vc_outbound m = outbound("+14155550100", "AcmeInc", "hi");
  char url[160];
  vc_http_out req;

  /* exactly 100 characters: sent */
  snprintf(url, sizeof(url), "https://h.example/%082d", 0);
  CHECK(strlen(url) == 100);
  m.status_callback_url = url;
  CHECK_OK(build(st, &m, &req));
  CHECK(strstr(body_of(&req), "&callback=") != NULL);
  vc__http_out_reset(&req);
  /* 101: over Vonage's limit, left out (the dashboard URL applies) */
  snprintf(url, sizeof(url), "https://h.example/%083d", 0);
  CHECK_OK(build(st, &m, &req));
  CHECK(strstr(body_of(&req), "callback") == NULL);
  CHECK(strstr(body_of(&req), "&client-ref=" MSG_ID) != NULL);
  vc__http_out_reset(&req);
  VN->fini(st);
}

static void test_vonage__build_send_errors(void)
{
  void *st = state_new(NULL, CREDS);
  vc_attachment att = { 0 };
  char *longtext = malloc(1602);
  struct {
    vc_outbound m;
    int rc;
    const char *needle;
  } cases[16];
  size_t n = 0;

  CHECK(longtext != NULL);
  memset(longtext, 'a', 1601);
  longtext[1601] = '\0';
  cases[n].m = outbound("+141555", "AcmeInc", "hi");
  cases[n].rc = VC_EINVALID;
  cases[n++].needle = "7 to 15 digits";
  cases[n].m = outbound("+1415555010012345", "AcmeInc", "hi");
  cases[n].rc = VC_EINVALID;
  cases[n++].needle = "7 to 15 digits";
  cases[n].m = outbound("14155550100x", "AcmeInc", "hi");
  cases[n].rc = VC_EINVALID;
  cases[n++].needle = "7 to 15 digits";
  cases[n].m = outbound("+14155550100", NULL, "hi");
  cases[n].rc = VC_EINVALID;
  cases[n++].needle = "needs a sender";
  cases[n].m = outbound("+14155550100", "TooLongSender1", "hi");
  cases[n].rc = VC_EINVALID;
  cases[n++].needle = "alphanumeric id";
  cases[n].m = outbound("+14155550100", "Acme!", "hi");
  cases[n].rc = VC_EINVALID;
  cases[n++].needle = "alphanumeric id";
  cases[n].m = outbound("+14155550100", "+1415", "hi");
  cases[n].m.from = "+";
  cases[n].rc = VC_EINVALID;
  cases[n++].needle = "alphanumeric id";
  cases[n].m = outbound("+14155550100", "AcmeInc", "");
  cases[n].rc = VC_EINVALID;
  cases[n++].needle = "text";
  cases[n].m = outbound("+14155550100", "AcmeInc", NULL);
  cases[n].rc = VC_EINVALID;
  cases[n++].needle = "text";
  cases[n].m = outbound("+14155550100", "AcmeInc", "bad \xff");
  cases[n].rc = VC_EENCODING;
  cases[n++].needle = "text";
  cases[n].m = outbound("+14155550100", "AcmeInc", longtext);
  cases[n].rc = VC_ETOOBIG;
  cases[n++].needle = "1600 characters";
  cases[n].m = outbound("+14155550100", "AcmeInc", "hi");
  cases[n].m.attachments = &att;
  cases[n].m.nattachments = 1;
  cases[n].rc = VC_ENOTSUPPORTED;
  cases[n++].needle = "no media";
  cases[n].m = outbound("+14155550100", "AcmeInc", "hi");
  cases[n].m.message_id = "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A-and-much-more-than-40";
  cases[n].rc = VC_EINVALID;
  cases[n++].needle = "client-ref";
  cases[n].m = outbound("+14155550100", "AcmeInc", "hi");
  cases[n].m.message_id = "id with space";
  cases[n].rc = VC_EINVALID;
  cases[n++].needle = "client-ref";
  cases[n].m = outbound("+14155550100", "AcmeInc", "hi");
  cases[n].m.status_callback_url = "ftp://h/x";
  cases[n].rc = VC_EINVALID;
  cases[n++].needle = "http(s)";
  cases[n].m = outbound("+14155550100", "AcmeInc", "hi");
  cases[n].m.status_callback_url = "https://h/a b";
  cases[n].rc = VC_EINVALID;
  cases[n++].needle = "space";

  for (size_t i = 0; i < n; i++) {
    vc_http_out req;
    int rc = build(st, &cases[i].m, &req);

    if (rc != cases[i].rc ||
        strstr(vc_error_last()->message, cases[i].needle) == NULL)
      fprintf(stderr, "  case %zu: %d %s\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == cases[i].rc);
    CHECK(strstr(vc_error_last()->message, cases[i].needle) != NULL);
    /* nothing was built */
    CHECK(req.url == NULL && req.body.size == 0);
    check_clean_error();
    vc__http_out_reset(&req);
  }
  free(longtext);
  VN->fini(st);
}

/* ------------------------------------------------------------------ */
/* parse_send                                                          */

static void test_vonage__parse_send_accepted(void)
{
  void *st = state_new(NULL, CREDS);
  vc_send_result r;

  /* the spec's example answer */
  r = parse(st, "{\"message-count\": \"1\", \"messages\": [{"
            "\"to\": \"447700900000\", \"message-id\": \"0A0000000123ABCD1\","
            " \"status\": \"0\", \"remaining-balance\": \"3.14159265\","
            " \"message-price\": \"0.03330000\", \"network\": \"12345\","
            " \"client-ref\": \"" MSG_ID "\"}]}");
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, "0A0000000123ABCD1");
  CHECK(r.cost_micros == 33300);
  CHECK_STR(r.currency, "EUR");
  CHECK(r.error == 0 && r.provider_code[0] == '\0' &&
        r.error_message[0] == '\0');
  VN->fini(st);

  /* the configured currency; a price Vonage omits leaves cost unknown */
  st = state_new("{\"currency\": \"usd\"}", CREDS);
  r = parse(st, "{\"message-count\": \"1\", \"messages\": [{"
            "\"message-id\": \"0A00000001\", \"status\": \"0\","
            " \"message-price\": \"0.00680000\"}]}");
  CHECK(r.cost_micros == 6800);
  CHECK_STR(r.currency, "USD");
  r = parse(st, "{\"message-count\": \"1\", \"messages\": [{"
            "\"message-id\": \"0A00000001\", \"status\": 0}]}");
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK(r.cost_micros == 0 && r.currency[0] == '\0');
  VN->fini(st);
}

static void test_vonage__parse_send_multipart(void)
{
  void *st = state_new(NULL, CREDS);
  vc_send_result r;

  /* one entry per part: the first part's id, the summed price */
  r = parse(st, "{\"message-count\": \"3\", \"messages\": ["
            "{\"to\": \"447700900000\", \"message-id\": \"1000000000000001\","
            " \"status\": \"0\", \"message-price\": \"0.03330000\"},"
            "{\"to\": \"447700900000\", \"message-id\": \"1000000000000002\","
            " \"status\": \"0\", \"message-price\": \"0.03330000\"},"
            "{\"to\": \"447700900000\", \"message-id\": \"1000000000000003\","
            " \"status\": \"0\", \"message-price\": \"0.03330001\"}]}");
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, "1000000000000001");
  CHECK(r.cost_micros == 99900);
  CHECK(r.error_message[0] == '\0');

  /* a later part refused: what went out cannot be recalled, so the
   * message is sent, with the refusal kept */
  r = parse(st, "{\"message-count\": \"2\", \"messages\": ["
            "{\"message-id\": \"1000000000000001\", \"status\": \"0\","
            " \"message-price\": \"0.03330000\"},"
            "{\"status\": \"1\", \"error-text\": \"Throughput Rate "
            "Exceeded\"}]}");
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK(r.error == 0 && r.retry_after_ms == 0);
  CHECK_STR(r.provider_id, "1000000000000001");
  CHECK_STR(r.provider_code, "1");
  CHECK_STR(r.error_message, "1 of 2 parts refused: Throughput Rate "
            "Exceeded");
  CHECK(r.cost_micros == 33300);

  /* the first part refused, a later one taken: still sent */
  r = parse(st, "{\"message-count\": \"2\", \"messages\": ["
            "{\"status\": \"5\", \"error-text\": \"Internal Error\"},"
            "{\"message-id\": \"1000000000000002\", \"status\": \"0\"}]}");
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, "1000000000000002");
  CHECK_STR(r.provider_code, "5");
  VN->fini(st);
}

static void test_vonage__parse_send_errors(void)
{
  static const struct {
    int code;
    int outcome, error;
  } cases[] = {
    { 1, VC_SEND_RETRY, VC_ERATELIMIT },
    { 2, VC_SEND_REJECTED, VC_EPROVIDER },
    { 3, VC_SEND_REJECTED, VC_EPROVIDER },
    { 4, VC_SEND_FAILOVER, VC_EAUTH },
    { 5, VC_SEND_RETRY, VC_EPROVIDER },
    { 6, VC_SEND_REJECTED, VC_EPROVIDER },
    { 7, VC_SEND_REJECTED, VC_EPROVIDER },
    { 8, VC_SEND_FAILOVER, VC_EPROVIDER },
    { 9, VC_SEND_FAILOVER, VC_EPROVIDER },
    { 10, VC_SEND_RETRY, VC_ERATELIMIT },
    { 11, VC_SEND_FAILOVER, VC_EPROVIDER },
    { 12, VC_SEND_REJECTED, VC_ETOOBIG },
    { 14, VC_SEND_FAILOVER, VC_EAUTH },
    { 15, VC_SEND_FAILOVER, VC_EPROVIDER },
    { 22, VC_SEND_REJECTED, VC_EPROVIDER },
    { 23, VC_SEND_FAILOVER, VC_EPROVIDER },
    { 29, VC_SEND_FAILOVER, VC_EPROVIDER },
    { 32, VC_SEND_FAILOVER, VC_EAUTH },
    { 33, VC_SEND_REJECTED, VC_EPROVIDER },
    { 99, VC_SEND_RETRY, VC_EPROVIDER },     /* undocumented */
  };
  char body[256], code[8];

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    vc_send_result r;

    /* Vonage's shape: HTTP 200, the status inside */
    snprintf(body, sizeof(body), "{\"message-count\": \"1\", \"messages\":"
             " [{\"status\": \"%d\", \"error-text\": \"text %d\"}]}",
             cases[i].code, cases[i].code);
    r = parse(NULL, body);
    snprintf(code, sizeof(code), "%d", cases[i].code);
    if (r.outcome != cases[i].outcome || r.error != cases[i].error)
      fprintf(stderr, "  status %d: outcome %d error %d\n", cases[i].code,
              r.outcome, r.error);
    CHECK(r.outcome == cases[i].outcome && r.error == cases[i].error);
    CHECK_STR(r.provider_code, code);
    snprintf(body, sizeof(body), "text %d", cases[i].code);
    CHECK_STR(r.error_message, body);
    CHECK(r.provider_id[0] == '\0');
    /* throttling says no time: a second before the next try */
    CHECK(r.retry_after_ms == (cases[i].code == 1 ? 1000 : 0));
  }
  /* the spec's error example; a missing error-text gets the code's
   * meaning */
  {
    vc_send_result r = parse(NULL, "{\"message-count\": \"1\", "
                             "\"messages\": [{\"status\": \"2\", "
                             "\"error-text\": \"Missing to param\"}]}");
    CHECK(r.outcome == VC_SEND_REJECTED);
    CHECK_STR(r.error_message, "Missing to param");
    r = parse(NULL, "{\"messages\": [{\"status\": \"4\"}]}");
    CHECK_STR(r.error_message, "Invalid credentials");
    /* control characters and bad UTF-8 in the text are cleaned */
    r = parse(NULL, "{\"messages\": [{\"status\": \"3\", \"error-text\": "
              "\"bad\\nnumber \\u0001x\"}]}");
    CHECK_STR(r.error_message, "bad number  x");
  }
}

static void test_vonage__parse_send_http_and_garbage(void)
{
  vc_send_result r;

  r = parse_full(NULL, 500, "<html>oops</html>", NULL, NULL);
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  CHECK_STR(r.error_message, "HTTP 500 from Vonage");
  r = parse_full(NULL, 503, NULL, "Retry-After", "7");
  CHECK(r.outcome == VC_SEND_RETRY && r.retry_after_ms == 7000);
  r = parse_full(NULL, 429, "", "Retry-After", "99999999");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_ERATELIMIT);
  CHECK(r.retry_after_ms == 86400000);
  r = parse_full(NULL, 429, "", "Retry-After", "soon");
  CHECK(r.retry_after_ms == 0);
  r = parse_full(NULL, 401, "", NULL, NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EAUTH);
  r = parse_full(NULL, 404, "", NULL, NULL);
  CHECK(r.outcome == VC_SEND_FAILOVER && r.error == VC_EPROVIDER);
  r = parse_full(NULL, 413, "", NULL, NULL);
  CHECK(r.outcome == VC_SEND_REJECTED && r.error == VC_ETOOBIG);
  r = parse_full(NULL, 408, "", NULL, NULL);
  CHECK(r.outcome == VC_SEND_RETRY);
  /* 200 without a usable answer: retried */
  r = parse(NULL, "");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  r = parse(NULL, "not json");
  CHECK(r.outcome == VC_SEND_RETRY);
  r = parse(NULL, "{\"message-count\": \"0\", \"messages\": []}");
  CHECK(r.outcome == VC_SEND_RETRY);
  r = parse(NULL, "{\"messages\": {}}");
  CHECK(r.outcome == VC_SEND_RETRY);
  r = parse(NULL, "{\"messages\": [{\"status\": \"0\"}]}");
  CHECK(r.outcome == VC_SEND_RETRY);          /* no message-id */
  r = parse(NULL, "{\"messages\": [{\"status\": \"0\", \"message-id\": "
            "\"bad id\"}]}");
  CHECK(r.outcome == VC_SEND_RETRY);
  r = parse(NULL, "{\"messages\": [{\"status\": \"x\"}]}");
  CHECK(r.outcome == VC_SEND_RETRY);
  r = parse(NULL, "{\"messages\": [1]}");
  CHECK(r.outcome == VC_SEND_RETRY);
}

/* ------------------------------------------------------------------ */
/* The `sig` signature: the published vectors, stated as facts          */

/* TV-VN-1..5 (providers.md, from Vonage's Node SDK): these parameters
 * signed with the secret "my_secret_key_for_testing". */
#define TV_SECRET "my_secret_key_for_testing"
#define TV_QUERY \
  "message-timestamp=2013-11-21+15%3A27%3A30&messageId=020000001B0FE827" \
  "&msisdn=14843472194&text=Test+again&timestamp=1385047698" \
  "&to=13239877404&type=text"
#define TV_NOW INT64_C(1385047698000)

static const struct {
  const char *id, *method, *sig;
} TV[] = {
  { "TV-VN-1", "md5hash", "d2e7b1dc968737c5998ad624e02f90b7" },
  { "TV-VN-2", "md5hmac", "DDEBD46008C2D4E93CCE578A332A52D5" },
  { "TV-VN-3", "sha1hmac", "27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A" },
  { "TV-VN-4", "sha256hmac",
    "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330" },
  { "TV-VN-5", "sha512hmac",
    "E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D819481CD3C3"
    "11D59CF6165ECD1139622D5BA3A256C0D763AC4A9AD9144B5A426B94FE82" },
};

static void *tv_state(const char *method)
{
  char config[96];

  snprintf(config, sizeof(config), "{\"signature_method\": \"%s\"}",
           method);
  return state_new(config, "{\"api_key\": \"" API_KEY "\", \"api_secret\":"
                   " \"" API_SECRET "\", \"signature_secret\": \""
                   TV_SECRET "\"}");
}

static int method_id(const char *name)
{
  static const char *const names[] = {
    "", "md5hash", "md5hmac", "sha1hmac", "sha256hmac", "sha512hmac"
  };

  for (int i = 1; i < 6; i++)
    if (strcmp(names[i], name) == 0)
      return i;
  return 0;
}

/* Upper- or lower-case copy. */
static char *recase(char *out, const char *s, int upper)
{
  size_t i = 0;

  for (; s[i]; i++)
    out[i] = (char)(upper ? (s[i] >= 'a' && s[i] <= 'f' ? s[i] - 32 : s[i])
                          : (s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32
                                                        : s[i]));
  out[i] = '\0';
  return out;
}

static void test_vonage__sig_vectors(void)
{
  char target[512], body[512], hex[VC__VONAGE_SIG_MAX], other[160];

  for (size_t i = 0; i < VC_ARRAY_SIZE(TV); i++) {
    void *st = tv_state(TV[i].method);
    vc__form f;

    /* the signature itself */
    CHECK_OK(vc__form_parse(&f, TV_QUERY, strlen(TV_QUERY), 20));
    CHECK_OK(vc__vonage_sig(hex, method_id(TV[i].method), TV_SECRET,
                            strlen(TV_SECRET), &f, 0));
    CHECK_STR(hex, recase(other, TV[i].sig, 0));
    vc__form_free(&f);

    /* a GET receipt, a form POST and a JSON POST carrying it */
    snprintf(target, sizeof(target), "/webhooks/ch?%s&sig=%s", TV_QUERY,
             TV[i].sig);
    CHECK_OK(verify(st, "GET", target, NULL, NULL, NULL, TV_NOW));
    snprintf(body, sizeof(body), "%s&sig=%s", TV_QUERY, TV[i].sig);
    CHECK_OK(verify(st, "POST", "/webhooks/ch", FORM, body, NULL, TV_NOW));
    snprintf(body, sizeof(body), "{\"message-timestamp\": \"2013-11-21 "
             "15:27:30\", \"messageId\": \"020000001B0FE827\", \"msisdn\":"
             " \"14843472194\", \"text\": \"Test again\", \"timestamp\": "
             "\"1385047698\", \"to\": \"13239877404\", \"type\": \"text\","
             " \"sig\": \"%s\"}", TV[i].sig);
    CHECK_OK(verify(st, "POST", "/webhooks/ch", "application/json; "
                    "charset=utf-8", body, NULL, TV_NOW));
    /* hex compares without regard to case */
    snprintf(target, sizeof(target), "/webhooks/ch?%s&sig=%s", TV_QUERY,
             recase(other, TV[i].sig, TV[i].sig[0] == 'd'));
    CHECK_OK(verify(st, "GET", target, NULL, NULL, NULL, TV_NOW));
    /* the edges of the 300 s window */
    snprintf(target, sizeof(target), "/webhooks/ch?%s&sig=%s", TV_QUERY,
             TV[i].sig);
    CHECK_OK(verify(st, "GET", target, NULL, NULL, NULL,
                    TV_NOW + 300000));
    CHECK_OK(verify(st, "GET", target, NULL, NULL, NULL,
                    TV_NOW - 300000));
    CHECK(verify(st, "GET", target, NULL, NULL, NULL, TV_NOW + 300001) ==
          VC_EAUTH);
    CHECK(strstr(vc_error_last()->message, "replay window") != NULL);
    CHECK(verify(st, "GET", target, NULL, NULL, NULL, TV_NOW - 300001) ==
          VC_EAUTH);
    VN->fini(st);
  }
}

/* Cross-check against the machine-readable vectors when the caller
 * points at them (VC_PROVIDER_VECTORS=/path/to/vectors.json). */
static void test_vonage__sig_vectors_file(void)
{
  const char *path = getenv("VC_PROVIDER_VECTORS");
  const cJSON *list, *v, *p;
  FILE *fp;
  cJSON *doc;
  char *text;
  long len;
  int checked = 0;

  if (path == NULL || path[0] == '\0' || (fp = fopen(path, "rb")) == NULL) {
    printf("  note: reference vectors not found (VC_PROVIDER_VECTORS=%s): "
           "skipped\n", path ? path : "");
    return;
  }
  fseek(fp, 0, SEEK_END);
  len = ftell(fp);
  rewind(fp);
  CHECK(len > 0 && (text = malloc((size_t)len + 1)) != NULL);
  CHECK(fread(text, 1, (size_t)len, fp) == (size_t)len);
  text[len] = '\0';
  fclose(fp);
  doc = cJSON_Parse(text);
  free(text);
  list = cJSON_GetObjectItemCaseSensitive(doc, "vonage_sms_sig");
  cJSON_ArrayForEach(v, list) {
    const char *secret = cJSON_GetObjectItemCaseSensitive(
      v, "signature_secret")->valuestring;
    const char *want = cJSON_GetObjectItemCaseSensitive(
      v, "expected_sig")->valuestring;
    int method = method_id(cJSON_GetObjectItemCaseSensitive(
      v, "algorithm")->valuestring);
    char hex[VC__VONAGE_SIG_MAX], lower[VC__VONAGE_SIG_MAX];
    vc_buf q = VC_BUF_INIT;
    vc__form f;

    CHECK(method > 0);
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(v, "params")) {
      vc__buf_printf(&q, "%s%s=", q.size ? "&" : "", p->string);
      vc__form_encode(&q, p->valuestring, strlen(p->valuestring));
    }
    CHECK_OK(vc__form_parse(&f, q.ptr, q.size, 50));
    CHECK_OK(vc__vonage_sig(hex, method, secret, strlen(secret), &f, 0));
    CHECK_STR(hex, recase(lower, want, 0));
    vc__form_free(&f);
    vc_buf_dispose(&q);
    checked++;
  }
  cJSON_Delete(doc);
  CHECK(checked == 5);
}

/* Receipts of this file's own, signed with SIG_SECRET (Python: sort the
 * names, "&name=value" each with '&' and '=' in `text` replaced by '_',
 * then hashlib.md5(s + secret).hexdigest() or hmac.new(secret, s,
 * hashlib.sha256 / sha512 / sha1).hexdigest().upper()). */
#define DLR_Q \
  "msisdn=447700900000&to=AcmeInc&network-code=23410" \
  "&messageId=0A0000001234567B&price=0.03330000&status=delivered" \
  "&scts=2001011400&err-code=0&api-key=abcd1234" \
  "&client-ref=01J9ZK3M2V7Q8R4T6W0X1Y2Z3A" \
  "&message-timestamp=2020-01-01+12%3A00%3A00&timestamp=1700000000" \
  "&nonce=ec11dd3e-1e7f-4db5-9467-82b02cd223b9"
#define DLR_MD5 "a8bef1bdcadf01a1a4d5b38ea2af0851"
#define DLR_SHA256 \
  "7E00E62E658E2C54D7747604AF62390D9121CDE2954BE5F48DC942F806C61DAD"
#define DLR_SHA512 \
  "F8E91D0C4C0A491BE544DE64A84FC5B262A03C02F17A626E259F9EF60FE42482D2D2" \
  "5D9795B40D5CAA71CE392C79AFCDB9AA7FF2A5E24901CD4F127F70C3CA3C"
/* An inbound message whose text and keyword hold '&' and '=':
 * "a=1&b=2" and "A=1&B=2". Signed with HMAC-SHA1 twice: replacing in
 * `text` only (the documented form) and in every value (the SDKs). */
#define INB_Q \
  "api-key=abcd1234&msisdn=447700900001&to=447700900000" \
  "&messageId=0A0000000123ABCD1&text=a%3D1%26b%3D2&type=text" \
  "&keyword=A%3D1%26B%3D2&message-timestamp=2020-01-01+12%3A00%3A00" \
  "&timestamp=1700000000&nonce=aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
#define INB_SHA1_TEXT "CAD674C6D0CD83B7442D6D5342F57C9438270433"
#define INB_SHA1_ALL "388185F9E1B651DE312C3E586CD7B97157FEC3C1"

static void test_vonage__sig_own_values(void)
{
  static const struct {
    const char *method, *query, *sig;
  } ok[] = {
    { "md5hash", DLR_Q, DLR_MD5 },
    { "sha256hmac", DLR_Q, DLR_SHA256 },
    { "sha512hmac", DLR_Q, DLR_SHA512 },
    { "sha1hmac", INB_Q, INB_SHA1_TEXT },
    { "sha1hmac", INB_Q, INB_SHA1_ALL },
  };
  char target[1024], body[1024];

  for (size_t i = 0; i < VC_ARRAY_SIZE(ok); i++) {
    void *st = signed_state(ok[i].method);

    snprintf(target, sizeof(target), "/webhooks/ch?%s&sig=%s",
             ok[i].query, ok[i].sig);
    CHECK_OK(verify(st, "GET", target, NULL, NULL, NULL, T0 + 1000));
    /* the sig may come first */
    snprintf(body, sizeof(body), "sig=%s&%s", ok[i].sig, ok[i].query);
    CHECK_OK(verify(st, "POST", "/webhooks/ch", FORM, body, NULL, T0));
    VN->fini(st);
  }
}

static void test_vonage__sig_negative(void)
{
  void *st = signed_state("sha256hmac"), *md5 = signed_state("md5hash");
  void *other = state_new("{\"signature_method\": \"sha256hmac\"}",
                          "{\"api_key\": \"zzzz9999\", \"api_secret\": \""
                          API_SECRET "\", \"signature_secret\": \""
                          SIG_SECRET "\"}");
  void *wrong = state_new("{\"signature_method\": \"sha256hmac\"}",
                          "{\"api_key\": \"" API_KEY "\", \"api_secret\":"
                          " \"" API_SECRET "\", \"signature_secret\": "
                          "\"another-secret-0123456789\"}");
  static const struct {
    const char *query, *needle;
  } bad[] = {
    /* tampered values, added and removed parameters */
    { "msisdn=447700900000&to=AcmeInc&network-code=23410"
      "&messageId=0A0000001234567B&price=0.03330000&status=expired"
      "&scts=2001011400&err-code=0&api-key=abcd1234"
      "&client-ref=01J9ZK3M2V7Q8R4T6W0X1Y2Z3A"
      "&message-timestamp=2020-01-01+12%3A00%3A00&timestamp=1700000000"
      "&nonce=ec11dd3e-1e7f-4db5-9467-82b02cd223b9&sig=" DLR_SHA256,
      "does not verify" },
    { DLR_Q "&extra=1&sig=" DLR_SHA256, "does not verify" },
    { "msisdn=447700900000&to=AcmeInc&network-code=23410"
      "&messageId=0A0000001234567B&price=0.03330000&status=delivered"
      "&scts=2001011400&err-code=0&api-key=abcd1234"
      "&message-timestamp=2020-01-01+12%3A00%3A00&timestamp=1700000000"
      "&nonce=ec11dd3e-1e7f-4db5-9467-82b02cd223b9&sig=" DLR_SHA256,
      "does not verify" },
    /* a different timestamp, still fresh */
    { "msisdn=447700900000&to=AcmeInc&network-code=23410"
      "&messageId=0A0000001234567B&price=0.03330000&status=delivered"
      "&scts=2001011400&err-code=0&api-key=abcd1234"
      "&client-ref=01J9ZK3M2V7Q8R4T6W0X1Y2Z3A"
      "&message-timestamp=2020-01-01+12%3A00%3A00&timestamp=1700000001"
      "&nonce=ec11dd3e-1e7f-4db5-9467-82b02cd223b9&sig=" DLR_SHA256,
      "does not verify" },
    /* no sig, a sig of another method's length, not hex, no timestamp */
    { DLR_Q, "no sig" },
    { DLR_Q "&sig=" DLR_MD5, "hex digest" },
    { DLR_Q "&sig=7E00E62E658E2C54D7747604AF62390D9121CDE2954BE5F48DC942F8"
      "06C61DAZ", "hex digest" },
    { DLR_Q "&sig=", "hex digest" },
    { "status=delivered&messageId=1&sig=" DLR_SHA256, "no valid timestamp" },
    { "status=delivered&timestamp=17e8&sig=" DLR_SHA256,
      "no valid timestamp" },
    /* a repeated parameter */
    { DLR_Q "&status=delivered&sig=" DLR_SHA256, "appears twice" },
    { DLR_Q "&sig=" DLR_SHA256 "&sig=" DLR_SHA256, "appears twice" },
  };
  char target[1024];

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    int rc;

    snprintf(target, sizeof(target), "/webhooks/ch?%s", bad[i].query);
    rc = verify(st, "GET", target, NULL, NULL, NULL, T0);
    if (rc >= 0 || strstr(vc_error_last()->message, bad[i].needle) == NULL)
      fprintf(stderr, "  case %zu: %d %s\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == VC_EAUTH || rc == VC_EINVALID);
    CHECK(strstr(vc_error_last()->message, bad[i].needle) != NULL);
    check_clean_error();
  }
  snprintf(target, sizeof(target), "/webhooks/ch?%s&sig=%s", DLR_Q,
           DLR_SHA256);
  /* stale, from the future */
  CHECK(verify(st, "GET", target, NULL, NULL, NULL, T0 + 300001) ==
        VC_EAUTH);
  CHECK(verify(st, "GET", target, NULL, NULL, NULL, T0 - 300001) ==
        VC_EAUTH);
  /* the wrong key, another method, another account's api-key */
  CHECK(verify(wrong, "GET", target, NULL, NULL, NULL, T0) == VC_EAUTH);
  CHECK(verify(md5, "GET", target, NULL, NULL, NULL, T0) == VC_EAUTH);
  CHECK(verify(other, "GET", target, NULL, NULL, NULL, T0) == VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "another API key") != NULL);
  /* the parameters of a POST are its body, not its query */
  CHECK(verify(st, "POST", target, FORM, "", NULL, T0) == VC_EAUTH);
  /* the parameters as a query, but signed md5hash with the sha256 sig
   * and the other way round */
  snprintf(target, sizeof(target), "/webhooks/ch?%s&sig=%s", DLR_Q,
           DLR_MD5);
  CHECK_OK(verify(md5, "GET", target, NULL, NULL, NULL, T0));
  CHECK(verify(st, "GET", target, NULL, NULL, NULL, T0) == VC_EAUTH);
  /* shapes that are refused before any signature */
  CHECK(verify(st, "PUT", "/webhooks/ch", FORM, DLR_Q, NULL, T0) ==
        VC_EINVALID);
  CHECK(verify(st, "POST", "/webhooks/ch", "text/plain", DLR_Q, NULL,
               T0) == VC_EINVALID);
  VN->fini(st);
  VN->fini(md5);
  VN->fini(other);
  VN->fini(wrong);
}

/* ------------------------------------------------------------------ */
/* Bearer JWT webhooks                                                 */

/* A receipt as JSON, and JWTs over it made with Python: header
 * {"alg":"HS256","typ":"JWT"}, claims {"iat":1700000000,"jti":"c3b0a7e2-
 * 5d1f-4c55-9b0e-2f8a1f0d9e11","iss":"Vonage","payload_hash":
 * hashlib.sha256(JWT_BODY).hexdigest(),"api_key":"abcd1234",
 * "application_id":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab"} compact,
 * base64url without padding, signed hmac.new(SIG_SECRET, h + "." + p,
 * hashlib.sha256). Variants change one thing each. */
#define JWT_BODY \
  "{\"msisdn\":\"447700900000\",\"to\":\"AcmeInc\",\"messageId\":" \
  "\"0A0000001234567B\",\"status\":\"delivered\",\"err-code\":\"0\"," \
  "\"api-key\":\"abcd1234\",\"client-ref\":\"01J9ZK3M2V7Q8R4T6W0X1Y2Z3A\"" \
  ",\"message-timestamp\":\"2020-01-01 12:00:00\"}"
#define JWT_H "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
#define JWT_P \
  "eyJpYXQiOjE3MDAwMDAwMDAsImp0aSI6ImMzYjBhN2UyLTVkMWYtNGM1NS05YjBlLTJm" \
  "OGExZjBkOWUxMSIsImlzcyI6IlZvbmFnZSIsInBheWxvYWRfaGFzaCI6ImE5YWUxNTI2" \
  "NjRmMjk5NzRlOTRlMDZlZDlkMmFlNmIxMmM4ZDhkMjEzMTVlNTc1ZjM4YTQ3NGNlZTAw" \
  "MDkxMjAiLCJhcGlfa2V5IjoiYWJjZDEyMzQiLCJhcHBsaWNhdGlvbl9pZCI6ImFhYWFh" \
  "YWFhLWJiYmItY2NjYy1kZGRkLTAxMjM0NTY3ODlhYiJ9"
#define JWT_OK JWT_H JWT_P ".9zAWG47_OjwOg1TMnhyWXX0rHsXcPi2ehpNXVs1HgZ0"
/* signed with "another-secret-0123456789" */
#define JWT_WRONG_KEY JWT_H JWT_P \
  ".jDMcRugiREDuin1tU6G5k3jF6j8efzpGpqf2LNan6FE"
/* without payload_hash */
#define JWT_NO_HASH JWT_H \
  "eyJpYXQiOjE3MDAwMDAwMDAsImp0aSI6ImMzYjBhN2UyLTVkMWYtNGM1NS05YjBlLTJm" \
  "OGExZjBkOWUxMSIsImlzcyI6IlZvbmFnZSIsImFwaV9rZXkiOiJhYmNkMTIzNCIsImFw" \
  "cGxpY2F0aW9uX2lkIjoiYWFhYWFhYWEtYmJiYi1jY2NjLWRkZGQtMDEyMzQ1Njc4OWFi" \
  "In0.fjYrYEs9yWJKvSmF4kKgZ5ysKyrrMrb2Eh27uQXka0U"
/* with "exp":1699999990 */
#define JWT_EXPIRED JWT_H \
  "eyJpYXQiOjE3MDAwMDAwMDAsImp0aSI6ImMzYjBhN2UyLTVkMWYtNGM1NS05YjBlLTJm" \
  "OGExZjBkOWUxMSIsImlzcyI6IlZvbmFnZSIsInBheWxvYWRfaGFzaCI6ImE5YWUxNTI2" \
  "NjRmMjk5NzRlOTRlMDZlZDlkMmFlNmIxMmM4ZDhkMjEzMTVlNTc1ZjM4YTQ3NGNlZTAw" \
  "MDkxMjAiLCJhcGlfa2V5IjoiYWJjZDEyMzQiLCJhcHBsaWNhdGlvbl9pZCI6ImFhYWFh" \
  "YWFhLWJiYmItY2NjYy1kZGRkLTAxMjM0NTY3ODlhYiIsImV4cCI6MTY5OTk5OTk5MH0." \
  "ngxtyNwE5w4KnaNJa7ozbPo5Mgfye3vGbwpcPqccAHk"
/* with "api_key":"zzzz9999" */
#define JWT_OTHER_KEY JWT_H \
  "eyJpYXQiOjE3MDAwMDAwMDAsImp0aSI6ImMzYjBhN2UyLTVkMWYtNGM1NS05YjBlLTJm" \
  "OGExZjBkOWUxMSIsImlzcyI6IlZvbmFnZSIsInBheWxvYWRfaGFzaCI6ImE5YWUxNTI2" \
  "NjRmMjk5NzRlOTRlMDZlZDlkMmFlNmIxMmM4ZDhkMjEzMTVlNTc1ZjM4YTQ3NGNlZTAw" \
  "MDkxMjAiLCJhcGlfa2V5Ijoienp6ejk5OTkiLCJhcHBsaWNhdGlvbl9pZCI6ImFhYWFh" \
  "YWFhLWJiYmItY2NjYy1kZGRkLTAxMjM0NTY3ODlhYiJ9." \
  "-OEUv4X3h23aGUHJLlDMtPV6He9AWLNysFlAYUIvQ8I"
/* header {"alg":"none"} and no signature; header "HS512" (signed with
 * HS256 all the same) */
#define JWT_NONE "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." JWT_P "."
#define JWT_HS512 "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9." JWT_P \
  ".mPBy05G3KROxwtFli1o6AafUXTdq-tKLjlIfYL7Dlfg"

static void test_vonage__jwt(void)
{
  void *st = signed_state("jwt");
  static const struct {
    const char *token, *body, *needle;
  } bad[] = {
    { JWT_WRONG_KEY, JWT_BODY, "signature does not verify" },
    { JWT_OK, JWT_BODY " ", "payload_hash" },
    { JWT_OK, "{\"msisdn\":\"447700900000\",\"status\":\"failed\"}",
      "payload_hash" },
    { JWT_NO_HASH, JWT_BODY, "no payload_hash" },
    { JWT_EXPIRED, JWT_BODY, "expired" },
    { JWT_OTHER_KEY, JWT_BODY, "another API key" },
    { JWT_NONE, JWT_BODY, "not a JWT" },
    { JWT_HS512, JWT_BODY, "not HS256" },
    { JWT_H JWT_P, JWT_BODY, "not a JWT" },
    { JWT_OK ".x", JWT_BODY, "not a JWT" },
    { "abc", JWT_BODY, "not a JWT" },
    { JWT_H JWT_P ".9zAWG47_OjwOg1TMnhyWXX0rHsXcPi2ehpNXVs1HgZ",
      JWT_BODY, "32 base64url bytes" },
    { JWT_H JWT_P ".9zAWG47_OjwOg1TMnhyWXX0rHsXcPi2ehpNXVs1HgZ4",
      JWT_BODY, "does not verify" },
    { "eyJhbGciOiJIUzI1NiJ9!." JWT_P ".x", JWT_BODY, "JWT header" },
    { JWT_H "e30.x", JWT_BODY, "32 base64url bytes" },
  };
  vc_event_sink sink;
  seen s;
  hook k;

  CHECK_OK(verify(st, "POST", "/webhooks/ch", "application/json",
                  JWT_BODY, JWT_OK, T0));
  CHECK_OK(verify(st, "POST", "/webhooks/ch", "application/json",
                  JWT_BODY, JWT_OK, T0 + 300000));
  CHECK(verify(st, "POST", "/webhooks/ch", "application/json", JWT_BODY,
               JWT_OK, T0 + 300001) == VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "iat") != NULL);
  CHECK(verify(st, "POST", "/webhooks/ch", "application/json", JWT_BODY,
               JWT_OK, T0 - 300001) == VC_EAUTH);
  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    int rc = verify(st, "POST", "/webhooks/ch", "application/json",
                    bad[i].body, bad[i].token, T0);

    if (rc != VC_EAUTH ||
        strstr(vc_error_last()->message, bad[i].needle) == NULL)
      fprintf(stderr, "  case %zu: %d %s\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == VC_EAUTH);
    CHECK(strstr(vc_error_last()->message, bad[i].needle) != NULL);
    check_clean_error();
  }
  /* no token, another scheme, a GET */
  CHECK(verify(st, "POST", "/webhooks/ch", "application/json", JWT_BODY,
               NULL, T0) == VC_EAUTH);
  hook_set(&k, "POST", "/webhooks/ch", "application/json", JWT_BODY, NULL);
  k.h[1].name = "Authorization";
  k.h[1].value = "Basic " JWT_OK;
  k.req.nheaders = 2;
  CHECK(vc__vonage_verify(st, &k.req, T0) == VC_EAUTH);
  CHECK(verify(st, "GET", "/webhooks/ch?status=delivered", NULL, NULL,
               JWT_OK, T0) == VC_EAUTH);
  /* a `sig` is no substitute */
  CHECK(verify(st, "GET", "/webhooks/ch?" DLR_Q "&sig=" DLR_SHA256, NULL,
               NULL, NULL, T0) == VC_EAUTH);

  /* the verified body parses as a receipt */
  memset(&s, 0, sizeof(s));
  vc__sink_init(&sink, on_status, on_inbound, &s);
  hook_set(&k, "POST", "/webhooks/ch", "application/json", JWT_BODY,
           JWT_OK);
  CHECK_OK(VN->parse_webhook(st, &k.req, &sink));
  vc__sink_fini(&sink);
  CHECK(s.nstatus == 1 && s.status == VC_MSG_DELIVERED);
  CHECK_STR(s.message_id, MSG_ID);
  VN->fini(st);
}

/* ------------------------------------------------------------------ */
/* parse_webhook                                                       */

static void test_vonage__webhook_receipts(void)
{
  static const struct {
    const char *status, *err;
    int mapped;
    const char *code, *text;
  } cases[] = {
    { "delivered", "0", VC_MSG_DELIVERED, NULL, NULL },
    { "expired", "2", VC_MSG_UNDELIVERED, "2",
      "Absent subscriber (temporary)" },
    { "failed", "6", VC_MSG_UNDELIVERED, "6", "Anti-spam rejection" },
    { "rejected", "14", VC_MSG_UNDELIVERED, "14",
      "Number blocked by carrier" },
    { "failed", "99", VC_MSG_UNDELIVERED, "99", NULL },
    { "accepted", "0", VC_MSG_SENT, NULL, NULL },
    { "buffered", "0", VC_MSG_SENT, NULL, NULL },
    { "unknown", "1", 0, NULL, NULL },
    { "something-new", "0", 0, NULL, NULL },
  };
  char body[512];
  seen s;

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    snprintf(body, sizeof(body), "msisdn=447700900000&to=AcmeInc"
             "&messageId=0A0000001234567B&status=%s&err-code=%s"
             "&client-ref=" MSG_ID "&message-timestamp=2020-01-01+12%%3A00"
             "%%3A00&price=0.03330000", cases[i].status, cases[i].err);
    CHECK_OK(parse_hook(&s, "POST", "/webhooks/ch", FORM, body));
    if (cases[i].mapped == 0) {
      CHECK(s.nstatus == 0 && s.ninbound == 0);
      continue;
    }
    CHECK(s.nstatus == 1 && s.ninbound == 0);
    CHECK(s.status == cases[i].mapped);
    CHECK_STR(s.message_id, MSG_ID);
    CHECK_STR(s.provider_id, "0A0000001234567B");
    CHECK(s.occurred_at == INT64_C(1577880000000));
    CHECK(s.has_code == (cases[i].code != NULL));
    if (cases[i].code)
      CHECK_STR(s.code, cases[i].code);
    CHECK(s.has_error == (cases[i].text != NULL));
    if (cases[i].text)
      CHECK_STR(s.error, cases[i].text);
  }

  /* the same receipt as a GET query and as JSON */
  CHECK_OK(parse_hook(&s, "GET", "/webhooks/ch?" DLR_Q "&sig=" DLR_SHA256,
                      NULL, NULL));
  CHECK(s.nstatus == 1 && s.status == VC_MSG_DELIVERED);
  CHECK_STR(s.message_id, MSG_ID);
  CHECK_OK(parse_hook(&s, "POST", "/webhooks/ch", "application/json",
                      JWT_BODY));
  CHECK(s.nstatus == 1 && s.status == VC_MSG_DELIVERED);
  CHECK_STR(s.provider_id, "0A0000001234567B");
  /* another application's client-ref, or none: matched by messageId */
  CHECK_OK(parse_hook(&s, "POST", "/webhooks/ch", FORM,
                      "messageId=0A0000001234567B&status=delivered"
                      "&client-ref=order+42"));
  CHECK(s.nstatus == 1 && !s.has_message_id);
  CHECK_OK(parse_hook(&s, "POST", "/webhooks/ch", FORM,
                      "messageId=0A0000001234567B&status=failed"
                      "&message-timestamp=2020-13-01+12%3A00%3A00"));
  CHECK(s.nstatus == 1 && !s.has_message_id && s.occurred_at == 0);
  CHECK(s.status == VC_MSG_UNDELIVERED && !s.has_code);
}

static void test_vonage__webhook_inbound(void)
{
  seen s;

  CHECK_OK(parse_hook(&s, "POST", "/webhooks/ch", FORM,
                      INB_Q "&sig=" INB_SHA1_TEXT));
  CHECK(s.ninbound == 1 && s.nstatus == 0);
  CHECK_STR(s.from, "+447700900001");
  CHECK_STR(s.to, "+447700900000");
  CHECK_STR(s.text, "a=1&b=2");
  CHECK_STR(s.in_id, "0A0000000123ABCD1");
  CHECK(s.occurred_at == INT64_C(1577880000000));
  /* unicode text, the spec's JSON shape, an alphanumeric sender */
  CHECK_OK(parse_hook(&s, "POST", "/webhooks/ch", "application/json",
                      "{\"api-key\": \"abcd1234\", \"msisdn\": \"Bank\", "
                      "\"to\": \"447700900000\", \"messageId\": \"0A01\", "
                      "\"text\": \"\\u0928\\u092e\\u0938\\u094d\\u0924\\u0947"
                      "\", \"type\": \"unicode\", \"keyword\": \"X\", "
                      "\"message-timestamp\": \"2020-01-01 12:00:00\", "
                      "\"concat\": \"true\", \"concat-ref\": \"1\", "
                      "\"concat-total\": \"2\", \"concat-part\": \"1\"}"));
  CHECK(s.ninbound == 1);
  CHECK_STR(s.from, "Bank");
  CHECK_STR(s.text, "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d"
                    "\xe0\xa4\xa4\xe0\xa5\x87");
  /* a GET query; a binary message is acknowledged, not stored */
  CHECK_OK(parse_hook(&s, "GET", "/webhooks/ch?msisdn=447700900001"
                      "&to=447700900000&messageId=0A02&text=hi+there"
                      "&type=text", NULL, NULL));
  CHECK(s.ninbound == 1);
  CHECK_STR(s.text, "hi there");
  CHECK_OK(parse_hook(&s, "POST", "/webhooks/ch", FORM,
                      "msisdn=447700900001&messageId=0A03&type=binary"
                      "&data=0011&udh=050003CC0201"));
  CHECK(s.ninbound == 0 && s.nstatus == 0);
}

/* The single-use values parse_webhook records. */
static char g_once[4][96];
static int g_nonce_seen;

static int record_once(void *payload, const char *key)
{
  (void)payload;
  snprintf(g_once[g_nonce_seen++ % 4], sizeof(g_once[0]), "%s", key);
  /* the second time round, the core has seen it */
  return g_nonce_seen > 1 ? vc_error_set_str(VC_ERRCLASS_ADAPTER, VC_EEXISTS,
                                             "webhook nonce already used")
                          : 0;
}

static void test_vonage__webhook_replays(void)
{
  void *st = signed_state("sha256hmac"), *jw = signed_state("jwt");
  vc_event_sink sink;
  seen s;
  hook k;

  /* the nonce of a `sig`: recorded, then a replay applies nothing */
  g_nonce_seen = 0;
  for (int round = 0; round < 2; round++) {
    memset(&s, 0, sizeof(s));
    vc__sink_init(&sink, on_status, on_inbound, &s);
    vc__sink_set_once(&sink, record_once);
    hook_set(&k, "POST", "/webhooks/ch", FORM,
             DLR_Q "&sig=" DLR_SHA256, NULL);
    CHECK_OK(VN->parse_webhook(st, &k.req, &sink));
    vc__sink_fini(&sink);
    CHECK(s.nstatus == (round == 0 ? 1 : 0));
  }
  CHECK(g_nonce_seen == 2);
  CHECK_STR(g_once[0], "nonce:ec11dd3e-1e7f-4db5-9467-82b02cd223b9");
  /* a JWT's jti */
  g_nonce_seen = 0;
  memset(&s, 0, sizeof(s));
  vc__sink_init(&sink, on_status, on_inbound, &s);
  vc__sink_set_once(&sink, record_once);
  hook_set(&k, "POST", "/webhooks/ch", "application/json", JWT_BODY,
           JWT_OK);
  CHECK_OK(VN->parse_webhook(jw, &k.req, &sink));
  vc__sink_fini(&sink);
  CHECK(s.nstatus == 1 && g_nonce_seen == 1);
  CHECK_STR(g_once[0], "jti:c3b0a7e2-5d1f-4c55-9b0e-2f8a1f0d9e11");
  /* a nonce with a space is refused before anything is recorded */
  g_nonce_seen = 0;
  memset(&s, 0, sizeof(s));
  vc__sink_init(&sink, on_status, on_inbound, &s);
  vc__sink_set_once(&sink, record_once);
  hook_set(&k, "POST", "/webhooks/ch", FORM,
           "messageId=1&status=delivered&nonce=a+b", NULL);
  CHECK(VN->parse_webhook(st, &k.req, &sink) == VC_EINVALID);
  vc__sink_fini(&sink);
  CHECK(s.nstatus == 0 && g_nonce_seen == 0);
  VN->fini(st);
  VN->fini(jw);
}

static void test_vonage__webhook_bad_input(void)
{
  static const struct {
    const char *method, *ctype, *body;
    int rc;
    const char *needle;
  } cases[] = {
    { "POST", FORM, "status=delivered", VC_EINVALID, "messageId" },
    { "POST", FORM, "status=delivered&messageId=a+b", VC_EINVALID,
      "messageId" },
    { "POST", FORM, "status=deli+vered&messageId=1", VC_EINVALID,
      "malformed status" },
    { "POST", FORM, "status=&messageId=1", VC_EINVALID, "malformed status" },
    { "POST", FORM, "status=failed&messageId=1&err-code=x", VC_EINVALID,
      "err-code" },
    { "POST", FORM, "status=failed&messageId=1&err-code=12345", VC_EINVALID,
      "err-code" },
    { "POST", FORM, "status=failed&status=delivered&messageId=1",
      VC_EINVALID, "appears twice" },
    { "POST", FORM, "status=failed&messageId=1&x=%zz", VC_EINVALID,
      "malformed escape" },
    { "POST", FORM, "status=failed&messageId=1&x=%00", VC_EINVALID,
      "encoded NUL" },
    { "POST", FORM, "status=failed&messageId=1&x=\xc3\xa9", VC_EINVALID,
      "invalid byte" },
    { "POST", FORM, "status=failed&messageId=1&x=%C3", VC_EENCODING,
      "UTF-8" },
    { "POST", "application/json", "[]", VC_EINVALID, "object" },
    { "POST", "application/json", "{\"status\": 1}", VC_EINVALID,
      "not a string" },
    { "POST", "application/json", "{\"status\": {\"a\": 1}}", VC_EINVALID,
      "not a string" },
    { "POST", "application/json", "{\"status\": \"delivered\"", VC_EINVALID,
      "JSON" },
    { "POST", "text/plain", "status=delivered", VC_EINVALID, "form or JSON" },
    { "DELETE", FORM, "status=delivered", VC_EINVALID, "GET or POST" },
    { "POST", FORM, "", VC_EINVALID, "neither" },
    { "POST", FORM, "msisdn=447700900001&text=hi", VC_EINVALID,
      "messageId" },
    { "POST", FORM, "msisdn=447700900001&messageId=1&type=vcard",
      VC_EINVALID, "unknown type" },
    { "POST", FORM, "msisdn=447700900001&messageId=1&type=text",
      VC_EINVALID, "no text" },
  };
  char *big;
  seen s;

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    int rc = parse_hook(&s, cases[i].method, "/webhooks/ch", cases[i].ctype,
                        cases[i].body);

    if (rc != cases[i].rc ||
        strstr(vc_error_last()->message, cases[i].needle) == NULL)
      fprintf(stderr, "  case %zu: %d %s\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == cases[i].rc);
    CHECK(strstr(vc_error_last()->message, cases[i].needle) != NULL);
    CHECK(s.nstatus == 0 && s.ninbound == 0);
    check_clean_error();
  }
  /* bounds: the body and the number of parameters */
  CHECK((big = malloc(70 * 1024)) != NULL);
  memset(big, 'a', 70 * 1024 - 1);
  big[70 * 1024 - 1] = '\0';
  CHECK(parse_hook(&s, "POST", "/webhooks/ch", FORM, big) == VC_ETOOBIG);
  big[0] = '\0';
  for (int i = 0; i < 101; i++)
    snprintf(big + strlen(big), 32, "%sp%d=1", i ? "&" : "", i);
  CHECK(parse_hook(&s, "POST", "/webhooks/ch", FORM, big) == VC_ETOOBIG);
  free(big);
}

VC_TESTS(
  VC_TEST(test_vonage__vtable),
  VC_TEST(test_vonage__init_ok),
  VC_TEST(test_vonage__init_bad),
  VC_TEST(test_vonage__build_send_basic),
  VC_TEST(test_vonage__build_send_signed),
  VC_TEST(test_vonage__build_send_unicode),
  VC_TEST(test_vonage__build_send_callback_limit),
  VC_TEST(test_vonage__build_send_errors),
  VC_TEST(test_vonage__parse_send_accepted),
  VC_TEST(test_vonage__parse_send_multipart),
  VC_TEST(test_vonage__parse_send_errors),
  VC_TEST(test_vonage__parse_send_http_and_garbage),
  VC_TEST(test_vonage__sig_vectors),
  VC_TEST(test_vonage__sig_vectors_file),
  VC_TEST(test_vonage__sig_own_values),
  VC_TEST(test_vonage__sig_negative),
  VC_TEST(test_vonage__jwt),
  VC_TEST(test_vonage__webhook_receipts),
  VC_TEST(test_vonage__webhook_inbound),
  VC_TEST(test_vonage__webhook_replays),
  VC_TEST(test_vonage__webhook_bad_input),
)
