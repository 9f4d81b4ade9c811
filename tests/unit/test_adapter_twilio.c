/*
 * Unit tests of the Twilio Messaging adapter (adapters/sms/twilio.c):
 * configuration checks, the Messages.json request, every outcome class
 * of its answer, X-Twilio-Signature verification against the published
 * vectors (TV-TW-1..9), status callbacks, inbound messages and bad
 * input.
 *
 * Signatures not taken from the published vectors were computed with
 * Python's hmac/hashlib, independently of the adapter.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/text.h"
#include "net/http_out.h"
#include "net/fetch.h"
#include "net/sink.h"
#include "adapters/builtin.h"
#include "adapters/sms/twilio.h"

#include <cJSON.h>

#include "harness.h"

#define TW (&vc__adapter_twilio_sms)

#define ACCOUNT "AC0123456789abcdef0123456789abcdef"
#define TOKEN "5f4dcc3b5aa765d61d8327deb882cf99"
#define SERVICE "MG0123456789abcdef0123456789abcdef"
#define KEY_SID "SK00112233445566778899aabbccddeeff"
#define KEY_SECRET "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tXY"

#define CONFIG "{\"account_sid\": \"" ACCOUNT "\"}"
#define CREDS "{\"auth_token\": \"" TOKEN "\"}"
#define MESSAGES_URL \
  "https://api.twilio.com/2010-04-01/Accounts/" ACCOUNT "/Messages.json"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static void *state_new(const char *config, const char *creds)
{
  void *st = NULL;
  int rc = TW->init(&st, config, creds);

  if (rc != 0)
    fprintf(stderr, "  init: %d %s\n", rc, vc_error_last()->message);
  CHECK(rc == 0 && st != NULL);
  return st;
}

/* The last error is one line, and quotes none of `secrets`. */
static void check_clean_error(const char *const *secrets, size_t n)
{
  const char *m = vc_error_last()->message;

  for (const char *p = m; *p; p++)
    CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
  for (size_t i = 0; i < n; i++)
    if (secrets[i] != NULL && secrets[i][0] != '\0')
      CHECK(strstr(m, secrets[i]) == NULL);
}

static vc_outbound outbound(const char *to, const char *from,
                            const char *text)
{
  vc_outbound m;

  memset(&m, 0, sizeof(m));
  m.version = VC_OUTBOUND_VERSION;
  m.kind = VC_CHANNEL_SMS;
  m.message_id = "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A";
  m.tenant_id = "01J9ZK0000000000000000TEN1";
  m.to = to;
  m.from = from;
  m.text = text;
  return m;
}

static const char *body_of(const vc_http_out *req)
{
  return req->body.ptr ? req->body.ptr : "";
}

/* A response with a JSON body and optional headers. */
typedef struct answer {
  vc_http_response res;
  vc_http_header h[2];
} answer;

static void answer_set(answer *a, int status, const char *body,
                       const char *hname, const char *hvalue)
{
  memset(a, 0, sizeof(*a));
  a->res.version = VC_HTTP_RESPONSE_VERSION;
  a->res.status = status;
  a->res.content_type = "application/json";
  /* borrowed, never freed (reserved == 0) */
  a->res.body.ptr = (char *)body;
  a->res.body.size = body ? strlen(body) : 0;
  if (hname != NULL) {
    a->h[0].name = hname;
    a->h[0].value = hvalue;
    a->res.headers = a->h;
    a->res.nheaders = 1;
  }
}

static vc_send_result parse(void *st, int status, const char *body,
                            const char *hname, const char *hvalue)
{
  answer a;
  vc_send_result r;
  vc_outbound m = outbound("+14155550100", "+14155550199", "hi");

  answer_set(&a, status, body, hname, hvalue);
  memset(&r, 0, sizeof(r));
  r.version = VC_SEND_RESULT_VERSION;
  CHECK_OK(TW->parse_send(st, &m, &a.res, &r));
  return r;
}

/* A webhook request. */
typedef struct hook {
  vc_http_header h[3];
  vc_http_request req;
} hook;

static void hook_set(hook *k, const char *target, const char *ctype,
                     const char *body, size_t len, const char *sig)
{
  size_t n = 0;

  memset(k, 0, sizeof(*k));
  if (sig != NULL) {
    k->h[n].name = "X-Twilio-Signature";
    k->h[n++].value = sig;
  }
  if (ctype != NULL) {
    k->h[n].name = "Content-Type";
    k->h[n++].value = ctype;
  }
  k->h[n].name = "User-Agent";
  k->h[n++].value = "TwilioProxy/1.1";
  k->req.version = VC_HTTP_REQUEST_VERSION;
  k->req.method = "POST";
  k->req.target = target;
  k->req.headers = k->h;
  k->req.nheaders = n;
  k->req.body = (const uint8_t *)body;
  k->req.body_len = len;
}

#define FORM "application/x-www-form-urlencoded"

/* What a sink received. */
typedef struct seen {
  int nstatus, ninbound;
  int status;
  char message_id[80], provider_id[80], code[16];
  int has_message_id, has_code;
  char from[64], to[64], text[256], in_id[64];
  int has_text;
  size_t nmedia;
  char media[10][256];
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
  if (u->event_id != NULL || u->occurred_at != 0)
    s->nstatus += 100;         /* Twilio has neither: must stay unset */
  return 0;
}

static int on_inbound(void *p, const vc_inbound *m)
{
  seen *s = p;

  s->ninbound++;
  copy(s->from, sizeof(s->from), m->from);
  copy(s->to, sizeof(s->to), m->to);
  s->has_text = m->text != NULL;
  copy(s->text, sizeof(s->text), m->text);
  copy(s->in_id, sizeof(s->in_id), m->provider_id);
  s->nmedia = m->nmedia;
  for (size_t i = 0; i < m->nmedia && i < 10; i++)
    copy(s->media[i], sizeof(s->media[i]), m->media_urls[i]);
  return 0;
}

/* Run parse_webhook on a form body; returns its code. */
static int parse_hook(seen *s, vc_event_sink *sink, const char *target,
                      const char *body)
{
  hook k;

  memset(s, 0, sizeof(*s));
  vc__sink_init(sink, on_status, on_inbound, s);
  hook_set(&k, target, FORM, body, strlen(body), NULL);
  return TW->parse_webhook(NULL, &k.req, sink);
}

/* A string of `n` copies of `unit`. */
static char *repeat(const char *unit, size_t n)
{
  size_t len = strlen(unit);
  char *s = malloc(len * n + 1);

  CHECK(s != NULL);
  for (size_t i = 0; i < n; i++)
    memcpy(s + i * len, unit, len);
  s[len * n] = '\0';
  return s;
}

/* ------------------------------------------------------------------ */
/* The vtable and init                                                 */

static void test_twilio__vtable(void)
{
  CHECK(TW->version == VC_ADAPTER_VERSION);
  CHECK_STR(TW->name, "twilio-sms");
  CHECK(TW->kind == VC_CHANNEL_SMS);
  CHECK(TW->capabilities == (VC_CAP_DELIVERY_REPORTS | VC_CAP_INBOUND |
                             VC_CAP_MEDIA | VC_CAP_SIGNED_WEBHOOKS));
  CHECK(TW->init && TW->fini && TW->build_send && TW->parse_send);
  CHECK(TW->verify_webhook && TW->parse_webhook);
  TW->fini(NULL);
}

static void test_twilio__init_ok(void)
{
  static const struct { const char *config, *creds; } ok[] = {
    { CONFIG, CREDS },
    { "{\"account_sid\": \"ACABCDEF0123456789ABCDEF0123456789\"}",
      "{\"auth_token\": \"5F4DCC3B5AA765D61D8327DEB882CF99\"}" },
    { "{\"account_sid\": \"" ACCOUNT "\", \"base_url\": "
      "\"http://127.0.0.1:8099\", \"messaging_service_sid\": \"" SERVICE
      "\"}", CREDS },
    { "{\"account_sid\": \"" ACCOUNT "\", \"base_url\": "
      "\"http://localhost/twilio/\"}", CREDS },
    { "{\"account_sid\": \"" ACCOUNT "\", \"messaging_service_sid\": "
      "null}", CREDS },
    { CONFIG, "{\"auth_token\": \"" TOKEN "\", \"api_key_sid\": \""
      KEY_SID "\", \"api_key_secret\": \"" KEY_SECRET "\"}" },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(ok); i++)
    TW->fini(state_new(ok[i].config, ok[i].creds));
}

static void test_twilio__init_bad_config(void)
{
  static const struct {
    const char *config;
    int code;
    const char *says;
  } bad[] = {
    { NULL, VC_EINVALID, "config.account_sid is required" },
    { "{}", VC_EINVALID, "config.account_sid is required" },
    { "", VC_EINVALID, "config is not valid JSON" },
    { "{\"account_sid\": ", VC_EINVALID, "config is not valid JSON" },
    { CONFIG " {}", VC_EINVALID, "config is not valid JSON" },
    { "{\"account_sid\": \"AC\xff\"}", VC_EENCODING,
      "config is not valid UTF-8" },
    { "[]", VC_EINVALID, "config is not a JSON object" },
    { "\"" ACCOUNT "\"", VC_EINVALID, "config is not a JSON object" },
    { "{\"account_sid\": 12}", VC_EINVALID,
      "config.account_sid must be a string" },
    { "{\"account_sid\": \"AC0123\"}", VC_EINVALID, "config.account_sid" },
    { "{\"account_sid\": \"SK0123456789abcdef0123456789abcdef\"}",
      VC_EINVALID, "config.account_sid must be 'AC'" },
    { "{\"account_sid\": \"AC0123456789abcdef0123456789abcdeg\"}",
      VC_EINVALID, "config.account_sid" },
    { "{\"account_sid\": \"AC0123456789abcdef0123456789abcdef0\"}",
      VC_EINVALID, "config.account_sid" },
    { "{\"account_sid\": \"" ACCOUNT "\", \"base_url\": "
      "\"ftp://api.twilio.com\"}", VC_EINVALID, "config.base_url" },
    { "{\"account_sid\": \"" ACCOUNT "\", \"base_url\": \"\"}",
      VC_EINVALID, "config.base_url" },
    { "{\"account_sid\": \"" ACCOUNT "\", \"base_url\": \"https://\"}",
      VC_EINVALID, "config.base_url has no host" },
    /* every request carries the auth token: in clear only to loopback */
    { "{\"account_sid\": \"" ACCOUNT "\", \"base_url\": "
      "\"http://api.twilio.com\"}", VC_EINVALID,
      "config.base_url may use http:// only for a loopback host" },
    { "{\"account_sid\": \"" ACCOUNT "\", \"base_url\": "
      "\"http://127.0.0.1.example.com/2010\"}", VC_EINVALID,
      "config.base_url may use http:// only for a loopback host" },
    { "{\"account_sid\": \"" ACCOUNT "\", \"base_url\": "
      "\"https://api.twilio.com/?x=1\"}", VC_EINVALID, "config.base_url" },
    { "{\"account_sid\": \"" ACCOUNT "\", \"base_url\": "
      "\"https://u:p@api.twilio.com\"}", VC_EINVALID, "config.base_url" },
    { "{\"account_sid\": \"" ACCOUNT "\", \"base_url\": "
      "\"https://api.twilio.com/a b\"}", VC_EINVALID, "config.base_url" },
    { "{\"account_sid\": \"" ACCOUNT "\", \"base_url\": true}",
      VC_EINVALID, "config.base_url must be a string" },
    { "{\"account_sid\": \"" ACCOUNT "\", \"messaging_service_sid\": "
      "\"MG123\"}", VC_EINVALID, "config.messaging_service_sid" },
    { "{\"account_sid\": \"" ACCOUNT "\", \"acount_sid\": \"x\"}",
      VC_EINVALID, "config has an unknown key 'acount_sid'" },
    { "{\"account_sid\": \"" ACCOUNT "\", \"account_sid\": \"" ACCOUNT
      "\"}", VC_EINVALID, "config.account_sid is given twice" },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    void *st = (void *)&st;
    int rc = TW->init(&st, bad[i].config, CREDS);

    if (rc != bad[i].code || strstr(vc_error_last()->message,
                                    bad[i].says) == NULL)
      fprintf(stderr, "  case %zu: %d \"%s\"\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == bad[i].code);
    CHECK(st == NULL);
    CHECK(strstr(vc_error_last()->message, bad[i].says) != NULL);
    CHECK(vc_error_last()->klass == VC_ERRCLASS_INVALID);
    check_clean_error((const char *const[]){ TOKEN }, 1);
  }
}

static void test_twilio__init_bad_credentials(void)
{
  /* Each case names the secret values it holds: no message may quote
   * them. */
  static const struct {
    const char *creds;
    const char *says;
    const char *secret1, *secret2;
  } bad[] = {
    { NULL, "credentials.auth_token is required", NULL, NULL },
    { "{}", "credentials.auth_token is required", NULL, NULL },
    { "{\"auth_token\": \"5f4dcc3b5aa765d61d8327deb882cf9\"}",
      "credentials.auth_token must be 32 hex digits",
      "5f4dcc3b5aa765d61d8327deb882cf9", NULL },
    { "{\"auth_token\": \"5f4dcc3b5aa765d61d8327deb882cf99a\"}",
      "credentials.auth_token must be 32 hex digits",
      "5f4dcc3b5aa765d61d8327deb882cf99a", NULL },
    { "{\"auth_token\": \"5f4dcc3b5aa765d61d8327deb882cfzz\"}",
      "credentials.auth_token must be 32 hex digits",
      "5f4dcc3b5aa765d61d8327deb882cfzz", NULL },
    { "{\"auth_token\": 5}", "credentials.auth_token must be a string",
      NULL, NULL },
    { "{\"auth_token\": \"" TOKEN "\", \"api_key_sid\": \"" KEY_SID "\"}",
      "credentials.api_key_secret is required", TOKEN, NULL },
    { "{\"auth_token\": \"" TOKEN "\", \"api_key_secret\": \"" KEY_SECRET
      "\"}", "credentials.api_key_sid is required", TOKEN, KEY_SECRET },
    { "{\"auth_token\": \"" TOKEN "\", \"api_key_sid\": \"AC"
      "00112233445566778899aabbccddeeff\", \"api_key_secret\": \""
      KEY_SECRET "\"}", "credentials.api_key_sid must be 'SK'", TOKEN,
      KEY_SECRET },
    { "{\"auth_token\": \"" TOKEN "\", \"api_key_sid\": \"" KEY_SID
      "\", \"api_key_secret\": \"short-secret\"}",
      "credentials.api_key_secret must be", TOKEN, "short-secret" },
    { "{\"auth_token\": \"" TOKEN "\", \"api_key_sid\": \"" KEY_SID
      "\", \"api_key_secret\": \"S3cr3t S3cr3t S3cr3t S3cr3t\"}",
      "credentials.api_key_secret must be", TOKEN, "S3cr3t S3cr3t" },
    /* a secret pasted as a key name is not quoted either */
    { "{\"auth_token\": \"" TOKEN "\", \"" KEY_SECRET "\": \"\"}",
      "credentials has an unknown key", TOKEN, KEY_SECRET },
    { "{\"auth_token\": \"" TOKEN "\", \"token\": \"" KEY_SECRET "\"}",
      "credentials has an unknown key", TOKEN, KEY_SECRET },
    { "{\"auth_token\": \"" TOKEN "\"", "credentials is not valid JSON",
      TOKEN, NULL },
    { "\"" TOKEN "\"", "credentials is not a JSON object", TOKEN, NULL },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    void *st = (void *)&st;
    int rc = TW->init(&st, CONFIG, bad[i].creds);

    if (rc != VC_EINVALID ||
        strstr(vc_error_last()->message, bad[i].says) == NULL)
      fprintf(stderr, "  case %zu: %d \"%s\"\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == VC_EINVALID);
    CHECK(st == NULL);
    CHECK(strstr(vc_error_last()->message, bad[i].says) != NULL);
    check_clean_error((const char *const[]){ bad[i].secret1,
                                             bad[i].secret2 }, 2);
  }
  /* bounded before parsing */
  {
    char *big = repeat(" ", 16 * 1024 + 1);
    void *st = (void *)&big;

    memcpy(big, "{\"auth_token\": \"" TOKEN "\"}", 50);
    CHECK_RC(TW->init(&st, CONFIG, big), VC_ETOOBIG);
    CHECK(st == NULL);
    check_clean_error((const char *const[]){ TOKEN }, 1);
    free(big);
  }
}

/* ------------------------------------------------------------------ */
/* build_send                                                          */

static void test_twilio__build_send_basic(void)
{
  void *st = state_new(CONFIG, CREDS);
  vc_outbound m = outbound("+14155550100", "+14155550199",
                           "Your order #42 ships today & arrives Friday");
  vc_http_out req;

  vc__http_out_init(&req);
  CHECK_OK(TW->build_send(st, &m, &req));
  CHECK_STR(req.method, "POST");
  CHECK_STR(req.url, MESSAGES_URL);
  /* base64("AC0123...cdef:5f4d...cf99") */
  CHECK_STR(vc__http_out_header(&req, "Authorization"),
            "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjo1ZjRkY2"
            "MzYjVhYTc2NWQ2MWQ4MzI3ZGViODgyY2Y5OQ==");
  CHECK_STR(vc__http_out_header(&req, "Content-Type"),
            "application/x-www-form-urlencoded");
  CHECK_STR(vc__http_out_header(&req, "Accept"), "application/json");
  CHECK_STR(body_of(&req),
            "To=%2B14155550100&From=%2B14155550199&Body=Your+order+%2342"
            "+ships+today+%26+arrives+Friday");
  vc__http_out_reset(&req);
  TW->fini(st);
}

static void test_twilio__build_send_api_key_and_base_url(void)
{
  void *st = state_new("{\"account_sid\": \"" ACCOUNT "\", \"base_url\": "
                       "\"http://127.0.0.1:8099//\"}",
                       "{\"auth_token\": \"" TOKEN "\", \"api_key_sid\": \""
                       KEY_SID "\", \"api_key_secret\": \"" KEY_SECRET
                       "\"}");
  vc_outbound m = outbound("whatsapp:+14155550100",
                           "whatsapp:+14155550199", "Namaste");
  vc_http_out req;

  vc__http_out_init(&req);
  CHECK_OK(TW->build_send(st, &m, &req));
  CHECK_STR(req.url, "http://127.0.0.1:8099/2010-04-01/Accounts/" ACCOUNT
            "/Messages.json");
  /* base64("SK0011...eeff:S3cr3t...XY"): the key, not the account */
  CHECK_STR(vc__http_out_header(&req, "Authorization"),
            "Basic U0swMDExMjIzMzQ0NTU2Njc3ODg5OWFhYmJjY2RkZWVmZjpTM2NyM3"
            "RTM2NyM3RTM2NyM3RTM2NyM3RTM2NyM3RYWQ==");
  CHECK_STR(body_of(&req), "To=whatsapp%3A%2B14155550100&From=whatsapp"
            "%3A%2B14155550199&Body=Namaste");
  vc__http_out_reset(&req);
  TW->fini(st);
}

static void test_twilio__build_send_messaging_service(void)
{
  void *st = state_new("{\"account_sid\": \"" ACCOUNT "\", "
                       "\"messaging_service_sid\": \"" SERVICE "\"}",
                       CREDS);
  vc_outbound m = outbound("+919876543210", NULL, "OTP 123456");
  vc_http_out req;

  vc__http_out_init(&req);
  CHECK_OK(TW->build_send(st, &m, &req));
  CHECK_STR(body_of(&req), "To=%2B919876543210&MessagingServiceSid="
            SERVICE "&Body=OTP+123456");
  vc__http_out_reset(&req);
  /* the message's own sender wins over the service */
  m.from = "+14155550199";
  CHECK_OK(TW->build_send(st, &m, &req));
  CHECK_STR(body_of(&req), "To=%2B919876543210&From=%2B14155550199"
            "&Body=OTP+123456");
  vc__http_out_reset(&req);
  TW->fini(st);
}

static void test_twilio__build_send_media_and_callback(void)
{
  static const vc_attachment media[] = {
    { "a.jpg", "image/jpeg", NULL, 0, "https://cdn.example.com/a.jpg" },
    { "b.pdf", "application/pdf", NULL, 0,
      "https://cdn.example.com/b.pdf?sig=x&y=1" },
  };
  void *st = state_new(CONFIG, CREDS);
  vc_outbound m = outbound("+14155550100", "+14155550199", "Invoice");
  vc_http_out req;

  m.attachments = media;
  m.nattachments = 2;
  m.status_callback_url =
    "https://hooks.example.com/webhooks/01JCHANNEL00000000000000000";
  vc__http_out_init(&req);
  CHECK_OK(TW->build_send(st, &m, &req));
  CHECK_STR(body_of(&req),
            "To=%2B14155550100&From=%2B14155550199&Body=Invoice"
            "&MediaUrl=https%3A%2F%2Fcdn.example.com%2Fa.jpg"
            "&MediaUrl=https%3A%2F%2Fcdn.example.com%2Fb.pdf%3Fsig%3Dx"
            "%26y%3D1"
            "&StatusCallback=https%3A%2F%2Fhooks.example.com%2Fwebhooks"
            "%2F01JCHANNEL00000000000000000%3Fvc_msg%3D"
            "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A");
  vc__http_out_reset(&req);

  /* a callback URL with a query gets &vc_msg= */
  m.attachments = NULL;
  m.nattachments = 0;
  m.status_callback_url = "https://hooks.example.com/wh?channel=c1";
  CHECK_OK(TW->build_send(st, &m, &req));
  CHECK_STR(body_of(&req),
            "To=%2B14155550100&From=%2B14155550199&Body=Invoice"
            "&StatusCallback=https%3A%2F%2Fhooks.example.com%2Fwh%3F"
            "channel%3Dc1%26vc_msg%3D01J9ZK3M2V7Q8R4T6W0X1Y2Z3A");
  vc__http_out_reset(&req);

  /* media only, no message id: the URL as given */
  m.attachments = media;
  m.nattachments = 1;
  m.text = NULL;
  m.message_id = NULL;
  m.status_callback_url = "https://hooks.example.com/wh";
  CHECK_OK(TW->build_send(st, &m, &req));
  CHECK_STR(body_of(&req),
            "To=%2B14155550100&From=%2B14155550199"
            "&MediaUrl=https%3A%2F%2Fcdn.example.com%2Fa.jpg"
            "&StatusCallback=https%3A%2F%2Fhooks.example.com%2Fwh");
  vc__http_out_reset(&req);
  TW->fini(st);
}

static void test_twilio__build_send_body_limit(void)
{
  static const struct {
    const char *unit;
    size_t n;
    int rc;
  } cases[] = {
    { "a", 1600, 0 },
    { "a", 1601, VC_ETOOBIG },
    { "\xc3\xa9", 1600, 0 },               /* é: one unit each */
    { "\xe0\xa4\xb9", 1600, 0 },           /* Devanagari HA */
    { "\xe0\xa4\xb9", 1601, VC_ETOOBIG },
    { "\xf0\x9f\x98\x80", 800, 0 },        /* emoji: two units each */
    { "\xf0\x9f\x98\x80", 801, VC_ETOOBIG },
  };
  void *st = state_new(CONFIG, CREDS);

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    char *text = repeat(cases[i].unit, cases[i].n);
    vc_outbound m = outbound("+14155550100", "+14155550199", text);
    vc_http_out req;
    int rc;

    vc__http_out_init(&req);
    rc = TW->build_send(st, &m, &req);
    vc__http_out_reset(&req);
    free(text);
    if (rc != cases[i].rc)
      fprintf(stderr, "  case %zu: %d %s\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == cases[i].rc);
  }
  TW->fini(st);
}

static void test_twilio__build_send_errors(void)
{
  static const vc_attachment raw[] = {
    { "a.jpg", "image/jpeg", (const uint8_t *)"\xff\xd8\xff", 3, NULL },
  };
  static const vc_attachment empty[] = {
    { "a.jpg", "image/jpeg", NULL, 0, NULL },
  };
  static const vc_attachment ftp[] = {
    { "a.jpg", "image/jpeg", NULL, 0, "ftp://cdn.example.com/a.jpg" },
  };
  vc_attachment eleven[11];
  void *st = state_new(CONFIG, CREDS);
  vc_http_out req;

  for (size_t i = 0; i < 11; i++)
    eleven[i] = (vc_attachment){ "x.png", "image/png", NULL, 0,
                                 "https://cdn.example.com/x.png" };
  for (int i = 0; i < 13; i++) {
    vc_outbound m = outbound("+14155550100", "+14155550199", "hello");
    int want = VC_EINVALID;
    const char *says = NULL;
    int rc;

    switch (i) {
    case 0: m.to = NULL; says = "recipient"; break;
    case 1: m.from = NULL; says = "needs a sender"; break;
    case 2: m.attachments = raw; m.nattachments = 1;
      want = VC_ENOTSUPPORTED; says = "by URL"; break;
    case 3: m.attachments = empty; m.nattachments = 1;
      says = "neither a URL nor bytes"; break;
    case 4: m.attachments = eleven; m.nattachments = 11;
      want = VC_ETOOBIG; says = "media"; break;
    case 5: m.text = NULL; says = "a text or a media URL"; break;
    case 6: m.text = ""; says = "a text or a media URL"; break;
    case 7: m.text = "caf\xc3"; want = VC_EENCODING; says = "UTF-8"; break;
    case 8: m.status_callback_url = "https://h.example.com/w#frag";
      says = "fragment"; break;
    case 9: m.status_callback_url = "javascript:alert(1)";
      says = "status callback URL"; break;
    case 10: m.attachments = ftp; m.nattachments = 1;
      says = "attachment URL"; break;
    case 11: m.message_id = "01J9 ZK<script>"; says = "message id"; break;
    case 12: m.version = 99; want = VC_EVERSION; break;
    }
    vc__http_out_init(&req);
    rc = TW->build_send(st, &m, &req);
    if (rc != want || (says && !strstr(vc_error_last()->message, says)))
      fprintf(stderr, "  case %d: %d %s\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == want);
    CHECK(says == NULL || strstr(vc_error_last()->message, says));
    /* nothing half-built */
    CHECK(req.url == NULL && req.nheaders == 0 && req.body.size == 0);
    vc__http_out_reset(&req);
  }
  TW->fini(st);
}

/* ------------------------------------------------------------------ */
/* parse_send                                                          */

/* The "create" example of twilio_api_v2010.json (price not yet set). */
static const char CREATED[] =
  "{\"account_sid\": \"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", "
  "\"api_version\": \"2010-04-01\", \"body\": \"Hello! \\ud83d\\udc4d\", "
  "\"date_created\": \"Thu, 24 Aug 2023 05:01:45 +0000\", "
  "\"date_sent\": \"Thu, 24 Aug 2023 05:01:45 +0000\", "
  "\"date_updated\": \"Thu, 24 Aug 2023 05:01:45 +0000\", "
  "\"direction\": \"outbound-api\", \"error_code\": null, "
  "\"error_message\": null, \"from\": \"+14155552345\", "
  "\"num_media\": \"0\", \"num_segments\": \"1\", \"price\": null, "
  "\"price_unit\": null, \"messaging_service_sid\": "
  "\"MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", "
  "\"sid\": \"SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"status\": \"queued\", "
  "\"subresource_uris\": {\"media\": \"/2010-04-01/Accounts/"
  "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages/"
  "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Media.json\"}, "
  "\"to\": \"+14155552345\", \"uri\": \"/2010-04-01/Accounts/"
  "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages/"
  "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json\"}";

static void test_twilio__parse_send_accepted(void)
{
  vc_send_result r = parse(NULL, 201, CREATED, NULL, NULL);

  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  CHECK(r.error == 0 && r.cost_micros == 0 && r.currency[0] == '\0');
  CHECK(r.retry_after_ms == 0 && r.retry_at_ms == 0);

  r = parse(NULL, 201, "{\"sid\": \"MM0a1b2c3d4e5f60718293a4b5c6d7e8f9\","
            " \"status\": \"queued\", \"price\": \"-0.00750\", "
            "\"price_unit\": \"USD\"}", NULL, NULL);
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id, "MM0a1b2c3d4e5f60718293a4b5c6d7e8f9");
  CHECK(r.cost_micros == 7500);
  CHECK_STR(r.currency, "USD");

  /* any 2xx with a sid; a lowercase unit is normalised */
  r = parse(NULL, 200, "{\"sid\": \"SMb\", \"price\": \"-0.0400\", "
            "\"price_unit\": \"inr\"}", NULL, NULL);
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK(r.cost_micros == 40000);
  CHECK_STR(r.currency, "INR");
}

static void test_twilio__parse_send_price(void)
{
  static const struct {
    const char *price, *unit;
    int64_t micros;
    const char *currency;
  } cases[] = {
    { "-0.00750", "USD", 7500, "USD" },
    { "-0.0075", "USD", 7500, "USD" },
    { "-1.5", "EUR", 1500000, "EUR" },
    { "0", "USD", 0, "USD" },
    { "0.00", "USD", 0, "USD" },
    { "-12", "GBP", 12000000, "GBP" },
    { "-0.0000005", "USD", 1, "USD" },     /* half up */
    { "-0.00000049", "USD", 0, "USD" },
    { "-0.12345678901", "USD", 123457, "USD" },
    { ".5", "USD", 500000, "USD" },
    /* malformed: no cost */
    { "abc", "USD", 0, "" },
    { "-", "USD", 0, "" },
    { "", "USD", 0, "" },
    { "1e-3", "USD", 0, "" },
    { "-0.0075 ", "USD", 0, "" },
    { "-1234567890123", "USD", 0, "" },
    { "-0.0075", "US", 0, "" },
    { "-0.0075", "U5D", 0, "" },
    { "-0.0075", NULL, 0, "" },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    char body[256];
    vc_send_result r;

    if (cases[i].unit != NULL)
      snprintf(body, sizeof(body), "{\"sid\": \"SMx\", \"price\": \"%s\", "
               "\"price_unit\": \"%s\"}", cases[i].price, cases[i].unit);
    else
      snprintf(body, sizeof(body), "{\"sid\": \"SMx\", \"price\": \"%s\", "
               "\"price_unit\": null}", cases[i].price);
    r = parse(NULL, 201, body, NULL, NULL);
    if (r.cost_micros != cases[i].micros ||
        strcmp(r.currency, cases[i].currency) != 0)
      fprintf(stderr, "  case %zu: %lld %s\n", i,
              (long long)r.cost_micros, r.currency);
    CHECK(r.outcome == VC_SEND_ACCEPTED);
    CHECK(r.cost_micros == cases[i].micros);
    CHECK_STR(r.currency, cases[i].currency);
  }
}

/* An error body in Twilio's shape (providers.md 1.3). */
static void error_body(char *out, size_t cap, int code, const char *msg,
                       int status)
{
  snprintf(out, cap, "{\"code\": %d, \"message\": \"%s\", \"more_info\": "
           "\"https://www.twilio.com/docs/errors/%d\", \"status\": %d}",
           code, msg, code, status);
}

static void test_twilio__parse_send_outcomes(void)
{
  static const struct {
    int status, code;
    const char *msg;
    int outcome, error;
  } cases[] = {
    /* the message or its recipient */
    { 400, 21211, "The 'To' number +1415 is not a valid phone number.",
      VC_SEND_REJECTED, VC_EPROVIDER },
    { 400, 21610, "Attempt to send to unsubscribed recipient",
      VC_SEND_REJECTED, VC_EPROVIDER },
    { 400, 21614, "'To' number is not a valid mobile number",
      VC_SEND_REJECTED, VC_EPROVIDER },
    { 400, 21408, "Permission to send an SMS has not been enabled for "
      "the region indicated by the 'To' number: +91987654321.",
      VC_SEND_REJECTED, VC_EPROVIDER },
    { 400, 21617, "The concatenated message body exceeds the 1600 "
      "character limit.", VC_SEND_REJECTED, VC_EPROVIDER },
    { 400, 21602, "Message body is required.", VC_SEND_REJECTED,
      VC_EPROVIDER },
    { 400, 21619, "A text message body or media urls must be specified.",
      VC_SEND_REJECTED, VC_EPROVIDER },
    { 400, 29999, "Some new parameter error", VC_SEND_REJECTED,
      VC_EPROVIDER },
    /* this channel */
    { 401, 20003, "Authenticate", VC_SEND_FAILOVER, VC_EAUTH },
    { 401, 0, "", VC_SEND_FAILOVER, VC_EAUTH },
    { 403, 20005, "Account not active", VC_SEND_FAILOVER, VC_EAUTH },
    { 404, 20404, "The requested resource /2010-04-01/Accounts/AC00/"
      "Messages.json was not found", VC_SEND_FAILOVER, VC_EPROVIDER },
    { 400, 21606, "The From phone number +14155550199 is not a valid, "
      "SMS-capable inbound phone number or short code for your account.",
      VC_SEND_FAILOVER, VC_EPROVIDER },
    { 400, 21659, "Source number +14155550199 is not a Twilio phone "
      "number", VC_SEND_FAILOVER, VC_EPROVIDER },
    { 400, 21612, "The 'To' phone number is not currently reachable "
      "using the 'From' phone number via SMS.", VC_SEND_FAILOVER,
      VC_EPROVIDER },
    /* transient */
    { 429, 20429, "Too Many Requests", VC_SEND_RETRY, VC_ERATELIMIT },
    { 429, 0, "", VC_SEND_RETRY, VC_ERATELIMIT },
    { 400, 21611, "This 'From' number has exceeded the maximum number "
      "of queued messages", VC_SEND_RETRY, VC_ERATELIMIT },
    { 500, 20500, "Internal Server Error", VC_SEND_RETRY, VC_EPROVIDER },
    { 503, 20503, "Service Unavailable", VC_SEND_RETRY, VC_EPROVIDER },
    /* a rejection code on a 5xx is still a 5xx */
    { 502, 21211, "Bad Gateway", VC_SEND_RETRY, VC_EPROVIDER },
    { 408, 0, "", VC_SEND_RETRY, VC_EPROVIDER },
    { 302, 0, "", VC_SEND_RETRY, VC_EPROVIDER },
    { 0, 0, "", VC_SEND_RETRY, VC_EPROVIDER },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    char body[512], code[16];
    vc_send_result r;

    if (cases[i].code != 0)
      error_body(body, sizeof(body), cases[i].code, cases[i].msg,
                 cases[i].status);
    else
      body[0] = '\0';
    r = parse(NULL, cases[i].status, body, NULL, NULL);
    if (r.outcome != cases[i].outcome || r.error != cases[i].error)
      fprintf(stderr, "  case %zu: outcome %d error %d\n", i, r.outcome,
              r.error);
    CHECK(r.outcome == cases[i].outcome);
    CHECK(r.error == cases[i].error);
    CHECK(r.provider_id[0] == '\0');
    if (cases[i].code != 0) {
      snprintf(code, sizeof(code), "%d", cases[i].code);
      CHECK_STR(r.provider_code, code);
      CHECK_STR(r.error_message, cases[i].msg);
    } else {
      CHECK(r.provider_code[0] == '\0');
      CHECK(strstr(r.error_message, "from Twilio") != NULL);
    }
  }
}

/* A 2xx body is read without cJSON when it is plain strict JSON: the
 * outcome must be what cJSON's reading gives, for bodies either reader
 * takes, and for those the fast one leaves to cJSON. */
static void test_twilio__parse_send_same_as_cjson(void)
{
  static const char *const bodies[] = {
    CREATED,
    "{\"sid\": \"SMa\"}",
    " \r\n\t{\"sid\":\"SMa\",\"price\":\"-0.0075\",\"price_unit\":\"USD\"} ",
    "{\"sid\": \"SMa\", \"sid\": \"SMb\"}",
    "{\"price\": \"-1\", \"price\": \"-2\", \"sid\": \"SMa\","
    " \"price_unit\": \"EUR\"}",
    "{\"s\\u0069d\": \"SMa\"}",
    "{\"sid\": \"SM\\u0061\"}",
    "{\"sid\": \"SMa\", \"price\": \"-0.5\", \"price_unit\": \"\\u0055SD\"}",
    "{\"nested\": {\"sid\": \"SMx\"}}",
    "{\"a\": [{\"sid\": \"SMx\"}], \"sid\": \"SMy\"}",
    "{\"sid\": \"SMa\", \"x\": \"\\udc00\"}",
    "{\"sid\": \"SMa\", \"x\": \"\\ud800\"}",
    "{\"sid\": \"SMa\", \"x\": \"\\ud800\\u0041\"}",
    "{\"sid\": \"SMa\", \"x\": \"\\ud83d\\udc4d \\\" \\\\ \\/ \\b\\f\\n\\r\\t\"}",
    "{\"sid\": \"SMa\", \"x\": \"\\q\"}",
    "{\"sid\": \"SMa\"} trailing",
    "\xef\xbb\xbf{\"sid\": \"SMa\"}",
    "{\"sid\": \"SMa\", \"n\": [0, -1, 1.5e3, 2E-2, 1e+9, true, false, null,"
    " {}, [], {\"b\": [[]]}]}",
    "{\"sid\": \"SMa\", \"n\": 01}",
    "{\"sid\": \"SMa\", \"n\": 1.}",
    "{\"sid\": \"SMa\", \"n\": -}",
    "{\"sid\": \"SMa\", \"n\": 123456789012345678901234567890123}",
    "{\"sid\": \"SMa\", \"n\": tru}",
    "{\"sid\": \"SMa\",}",
    "{\"sid\": \"SMa\" \"x\": 1}",
    "{\"sid\" \"SMa\"}",
    "{sid: \"SMa\"}",
    "{\"sid\": \"SMa\", \"x\": \"a\tb\"}",
    "{\"sid\": \"SMa\", \"x\": [1, 2}",
    "{\"sid\": \"SMa\"",
    "{\"sid\": \"SMa",
    "{\"sid\": null, \"price\": 5}",
    "{\"sid\": \"SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
    "{\"sid\": \"SMa\", \"price\": \"-0.00750000000000000000000000000000000"
    "000000000000000000000000000000000000001\", \"price_unit\": \"USD\"}",
    "[\"sid\", \"SMa\"]",
    "\"SMa\"",
    "",
  };
  char deep[200];
  size_t n = 0;

  /* Nested deeper than the fast reader goes. */
  n += (size_t)snprintf(deep, sizeof(deep), "{\"sid\": \"SMa\", \"d\": ");
  for (int i = 0; i < 40; i++)
    deep[n++] = '[';
  for (int i = 0; i < 40; i++)
    deep[n++] = ']';
  snprintf(deep + n, sizeof(deep) - n, "}");

  for (size_t i = 0; i <= VC_ARRAY_SIZE(bodies); i++) {
    const char *body = i < VC_ARRAY_SIZE(bodies) ? bodies[i] : deep;
    cJSON *doc = cJSON_ParseWithLengthOpts(body, strlen(body), NULL, 0);
    const cJSON *sid = cJSON_IsObject(doc)
                         ? cJSON_GetObjectItemCaseSensitive(doc, "sid")
                         : NULL;
    vc_send_result r = parse(NULL, 201, body, NULL, NULL);
    int want = cJSON_IsString(sid) && sid->valuestring[0] != '\0' &&
               strlen(sid->valuestring) < sizeof(r.provider_id) &&
               strspn(sid->valuestring, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                 strlen(sid->valuestring);
    if ((r.outcome == VC_SEND_ACCEPTED) != want)
      fprintf(stderr, "  body %zu: outcome %d, cJSON %s\n", i,
              (int)r.outcome, want ? "accepts" : "refuses");
    CHECK((r.outcome == VC_SEND_ACCEPTED) == want);
    if (want) {
      const cJSON *price = cJSON_GetObjectItemCaseSensitive(doc, "price");
      CHECK_STR(r.provider_id, sid->valuestring);
      /* the price only when both are strings, as in the cases above */
      if (!cJSON_IsString(price))
        CHECK(r.cost_micros == 0 && r.currency[0] == '\0');
    }
    cJSON_Delete(doc);
  }
  /* The kept members as cJSON reads them. */
  {
    vc_send_result r = parse(NULL, 201, bodies[4], NULL, NULL);
    CHECK_STR(r.provider_id, "SMa");
    CHECK(r.cost_micros == 1000000);
    CHECK_STR(r.currency, "EUR");
    r = parse(NULL, 201, bodies[7], NULL, NULL);
    CHECK(r.cost_micros == 500000);
    CHECK_STR(r.currency, "USD");
    r = parse(NULL, 201, bodies[2], NULL, NULL);
    CHECK(r.cost_micros == 7500);
  }
}

static void test_twilio__parse_send_unparseable(void)
{
  static const struct { int status; const char *body; } cases[] = {
    { 201, "" },
    { 201, "<html>OK</html>" },
    { 201, "[{\"sid\": \"SMx\"}]" },
    { 201, "{\"status\": \"queued\"}" },
    { 201, "{\"sid\": 12}" },
    { 201, "{\"sid\": \"\"}" },
    { 201, "{\"sid\": \"SM<script>\"}" },
    { 200, "{\"sid\": \"SMa\"" },
    { 500, "<html><body>502 Bad Gateway</body></html>" },
    { 503, "{\"code\": \"x\", \"message\": 5}" },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    vc_send_result r = parse(NULL, cases[i].status, cases[i].body, NULL,
                             NULL);
    CHECK(r.outcome == VC_SEND_RETRY);
    CHECK(r.error == VC_EPROVIDER);
    CHECK(r.provider_id[0] == '\0');
    CHECK(r.provider_code[0] == '\0');
    CHECK(r.error_message[0] != '\0');
  }
  /* a string code is read as well */
  {
    vc_send_result r = parse(NULL, 400, "{\"code\": \"21211\", "
                             "\"message\": \"Invalid To\"}", NULL, NULL);
    CHECK(r.outcome == VC_SEND_REJECTED);
    CHECK_STR(r.provider_code, "21211");
  }
}

static void test_twilio__parse_send_retry_after(void)
{
  static const struct {
    int status;
    const char *name, *value;
    int64_t after_ms, at_ms;
  } cases[] = {
    { 429, "Retry-After", "7", 7000, 0 },
    { 429, "retry-after", "120", 120000, 0 },
    { 429, "RETRY-AFTER", " 3 ", 3000, 0 },
    { 503, "Retry-After", "0", 0, 0 },
    { 429, "Retry-After", "99999999999999999999", 86400000, 0 },
    { 429, "Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT", 0,
      784111777000 },
    { 503, "Retry-After", "Sunday, 06-Nov-94 08:49:37 GMT", 0,
      784111777000 },
    { 429, "Retry-After", "Sun Nov  6 08:49:37 1994", 0, 784111777000 },
    { 429, "Retry-After", "Sat, 29 Feb 2020 12:00:00 GMT", 0,
      1582977600000 },
    /* not a delay: ignored */
    { 429, "Retry-After", "-5", 0, 0 },
    { 429, "Retry-After", "1.5", 0, 0 },
    { 429, "Retry-After", "", 0, 0 },
    { 429, "Retry-After", "soon", 0, 0 },
    { 429, "Retry-After", "Sun, 29 Feb 2019 12:00:00 GMT", 0, 0 },
    { 429, "Retry-After", "Sun, 06 Nov 1994 24:49:37 GMT", 0, 0 },
    { 429, "Retry-After", "Sun, 06 Nov 1994 08:49:37 UTC", 0, 0 },
    { 429, "Retry-After", "Sun, 06 Foo 1994 08:49:37 GMT", 0, 0 },
    { 429, "Retry-After", "Sun, 6 Nov 1994 08:49:37 GMT", 0, 0 },
    { 429, "Retry-After", "Thu, 01 Jan 1960 00:00:00 GMT", 0, 0 },
    { 429, "Retry-Later", "7", 0, 0 },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    vc_send_result r = parse(NULL, cases[i].status,
                             "{\"code\": 20429, \"message\": \"Too Many "
                             "Requests\", \"status\": 429}",
                             cases[i].name, cases[i].value);
    if (r.retry_after_ms != cases[i].after_ms ||
        r.retry_at_ms != cases[i].at_ms)
      fprintf(stderr, "  case %zu: after %lld at %lld\n", i,
              (long long)r.retry_after_ms, (long long)r.retry_at_ms);
    CHECK(r.retry_after_ms == cases[i].after_ms);
    CHECK(r.retry_at_ms == cases[i].at_ms);
  }
  /* only a retry waits */
  {
    vc_send_result r = parse(NULL, 400, "{\"code\": 21211}",
                             "Retry-After", "7");
    CHECK(r.outcome == VC_SEND_REJECTED && r.retry_after_ms == 0);
  }
}

static void test_twilio__parse_send_message_text(void)
{
  char body[1200], longmsg[700];
  vc_send_result r;

  /* control characters become spaces: one line */
  r = parse(NULL, 400, "{\"code\": 21211, \"message\": \"bad\\nnumber\\t"
            "+1\"}", NULL, NULL);
  CHECK_STR(r.error_message, "bad number +1");
  /* long text is cut on a character boundary */
  memset(longmsg, 0, sizeof(longmsg));
  for (size_t i = 0; i + 3 < 600; i += 3)
    memcpy(longmsg + i, "\xe0\xa4\xb9", 3);
  snprintf(body, sizeof(body), "{\"code\": 21211, \"message\": \"%s\"}",
           longmsg);
  r = parse(NULL, 400, body, NULL, NULL);
  CHECK(strlen(r.error_message) == 255);
  CHECK(vc__utf8_valid(r.error_message, strlen(r.error_message)));
  /* invalid UTF-8 is replaced */
  r = parse(NULL, 400, "{\"code\": 21211, \"message\": \"a\xff" "b\"}",
            NULL, NULL);
  CHECK(r.outcome == VC_SEND_REJECTED || r.outcome == VC_SEND_RETRY);
  CHECK(vc__utf8_valid(r.error_message, strlen(r.error_message)));
}

/* ------------------------------------------------------------------ */
/* verify_webhook: the published vectors, stated as facts              */

/* Auth token of TV-TW-*. */
#define TV_TOKEN "12345"
#define TV_U "https://mycompany.com/myapp.php?foo=1&bar=2"
/* P = {CallSid: CA1234567890ABCDE, Caller: +14158675309, Digits: 1234,
 *      From: +14158675309, To: +18005551212}, form-encoded */
#define TV_P \
  "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234" \
  "&From=%2B14158675309&To=%2B18005551212"
#define TV_MULTI \
  "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234"
#define TV_JSON "{\"property\": \"value\", \"boolean\": true}"
#define TV_JSON_SHA \
  "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
#define TV_EMPTY_SHA \
  "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

typedef struct sig_case {
  const char *id;
  const char *url, *ctype, *body, *sig;
  int rc;
} sig_case;

static const sig_case TV_CASES[] = {
  { "TV-TW-1", TV_U, FORM, TV_P, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", 0 },
  { "TV-TW-2", "https://mycompany.com:443/myapp.php?foo=1&bar=2", FORM,
    TV_P, "kvajT1Ptam85bY51eRf/AJRuM3w=", 0 },
  { "TV-TW-3", "http://mycompany.com:80/myapp.php?foo=1&bar=2", FORM,
    TV_P, "0ZXoZLH/DfblKGATFgpif+LLRf4=", 0 },
  { "TV-TW-4", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", FORM,
    TV_P, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", 0 },
  { "TV-TW-5", TV_U, FORM, TV_MULTI, "IK+Dwps556ElfBT0I3Rgjkr1wJU=", 0 },
  { "TV-TW-7", TV_U "&bodySHA256=" TV_JSON_SHA, "application/json",
    TV_JSON, "a9nBmqA0ju/hNViExpshrM61xv4=", 0 },
  { "TV-TW-8", "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    "&bodySHA256=" TV_EMPTY_SHA, "application/json", "{}",
    "Ldidvp12m26NI7eqEvxnEpkd9Hc=", 0 },
  { "TV-TW-9", "https://mycompany.com/myapp.php?bodySHA256=" TV_JSON_SHA,
    "application/json", TV_JSON, "y77kIzt2vzLz71DgmJGsen2scGs=", 0 },

  /* Port variants (providers.md 0a.4): the other form validates too. */
  { "TV-TW-1 with :443", "https://mycompany.com:443/myapp.php?foo=1&bar=2",
    FORM, TV_P, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", 0 },
  { "TV-TW-2 without port", TV_U, FORM, TV_P,
    "kvajT1Ptam85bY51eRf/AJRuM3w=", 0 },
  { "TV-TW-3 without port", "http://mycompany.com/myapp.php?foo=1&bar=2",
    FORM, TV_P, "0ZXoZLH/DfblKGATFgpif+LLRf4=", 0 },
  { "U with :1234 (port stripped)",
    "https://mycompany.com:1234/myapp.php?foo=1&bar=2", FORM, TV_P,
    "RSOYDt4T1cUTdK1PDd93/VVr8B8=", 0 },
  { "TV-TW-8 given without port", TV_U "&bodySHA256=" TV_EMPTY_SHA,
    "application/json", "{}", "Ldidvp12m26NI7eqEvxnEpkd9Hc=", 0 },
  { "TV-TW-8 port-less signature", TV_U "&bodySHA256=" TV_EMPTY_SHA,
    "application/json", "{}", "rw/jVviOgicj2+kHZULvebnA4ag=", 0 },
  { "TV-TW-8 port-less signature, URL with :443",
    "https://mycompany.com:443/myapp.php?foo=1&bar=2&bodySHA256="
    TV_EMPTY_SHA, "application/json", "{}",
    "rw/jVviOgicj2+kHZULvebnA4ag=", 0 },
  /* a non-default port is never swapped for the default one */
  { "TV-TW-4 signature, port removed",
    "http://mycompany.com/myapp.php?foo=1&bar=2", FORM, TV_P,
    "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", VC_EAUTH },
  { "TV-TW-4 signature, :80",
    "http://mycompany.com:80/myapp.php?foo=1&bar=2", FORM, TV_P,
    "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", VC_EAUTH },
  /* the scheme is signed */
  { "TV-TW-1 over http", "http://mycompany.com/myapp.php?foo=1&bar=2",
    FORM, TV_P, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", VC_EAUTH },

  /* Repeated names (0a.5): values as received, sorted, and deduped
   * (computed with Python's hmac). */
  { "TV-TW-5 values as received", TV_U, FORM, TV_MULTI,
    "eMV0TTCyejiqoUSkV7IwWuk0CRc=", 0 },
  { "TV-TW-5 values sorted, duplicates kept", TV_U, FORM, TV_MULTI,
    "tM//N+MVWOh7+ol2z8YCNxSY0Eg=", 0 },
  { "TV-TW-5 received in another order", TV_U, FORM,
    "Digits=1234&Sid=CA123&Digits=5678&SidAccount=AC123&Digits=1234",
    "IK+Dwps556ElfBT0I3Rgjkr1wJU=", 0 },

  /* Failures. */
  { "wrong signature", TV_U, FORM, TV_P, "RSOYDt4T1cUTdK1PDd93/VVr8B9=",
    VC_EAUTH },
  { "signature of another vector", TV_U, FORM, TV_P,
    "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", VC_EAUTH },
  { "empty signature", TV_U, FORM, TV_P, "", VC_EAUTH },
  { "short signature", TV_U, FORM, TV_P, "RSOYDt4T1cUTdK1PDd93", VC_EAUTH },
  { "long signature", TV_U, FORM, TV_P, "RSOYDt4T1cUTdK1PDd93/VVr8B8=A",
    VC_EAUTH },
  { "tampered value", TV_U, FORM,
    "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1235"
    "&From=%2B14158675309&To=%2B18005551212",
    "RSOYDt4T1cUTdK1PDd93/VVr8B8=", VC_EAUTH },
  { "added parameter", TV_U, FORM, TV_P "&Extra=1",
    "RSOYDt4T1cUTdK1PDd93/VVr8B8=", VC_EAUTH },
  { "removed parameter", TV_U, FORM,
    "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234"
    "&From=%2B14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", VC_EAUTH },
  { "tampered URL", "https://mycompany.com/myapp.php?foo=1&bar=3", FORM,
    TV_P, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", VC_EAUTH },
  /* a body present but no bodySHA256 in the URL */
  { "JSON body without bodySHA256", TV_U, "application/json", TV_JSON,
    "a9nBmqA0ju/hNViExpshrM61xv4=", VC_EAUTH },
  { "JSON body without bodySHA256 nor type", TV_U, NULL, TV_JSON,
    "a9nBmqA0ju/hNViExpshrM61xv4=", VC_EAUTH },
  { "JSON body tampered", TV_U "&bodySHA256=" TV_JSON_SHA,
    "application/json", "{\"property\": \"value\", \"boolean\": false}",
    "a9nBmqA0ju/hNViExpshrM61xv4=", VC_EAUTH },
  { "bodySHA256 not hex", TV_U "&bodySHA256=xyz", "application/json",
    TV_JSON, "a9nBmqA0ju/hNViExpshrM61xv4=", VC_EAUTH },
};

static void test_twilio__verify_vectors(void)
{
  for (size_t i = 0; i < VC_ARRAY_SIZE(TV_CASES); i++) {
    const sig_case *c = &TV_CASES[i];
    hook k;
    int rc;

    hook_set(&k, "/myapp.php", c->ctype, c->body, strlen(c->body),
             c->sig);
    rc = vc__twilio_check_signature(TV_TOKEN, &k.req, c->url);
    if (rc != c->rc)
      fprintf(stderr, "  %s: %d %s\n", c->id, rc,
              vc_error_last()->message);
    CHECK(rc == c->rc);
    if (rc < 0) {
      CHECK(vc_error_last()->code == VC_EAUTH);
      check_clean_error((const char *const[]){ TV_TOKEN }, 1);
    }
  }
}

static void test_twilio__verify_vector_facts(void)
{
  /* TV-TW-1's signed string and TV-TW-6's body hash, as published */
  static const char s1[] =
    "https://mycompany.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDE"
    "Caller+14158675309Digits1234From+14158675309To+18005551212";
  uint8_t mac[20], digest[32];
  char hex[65];
  vc_buf b64 = VC_BUF_INIT;

  CHECK_OK(vc__hmac(mac, VC__MD_SHA1, TV_TOKEN, 5, s1, strlen(s1)));
  CHECK_OK(vc__base64_encode(&b64, mac, sizeof(mac)));
  CHECK_STR(b64.ptr, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  vc_buf_dispose(&b64);
  CHECK_OK(vc__digest(digest, VC__MD_SHA256, TV_JSON, strlen(TV_JSON)));
  vc__hex_encode(hex, digest, sizeof(digest));
  CHECK_STR(hex, TV_JSON_SHA);                            /* TV-TW-6 */
}

static void test_twilio__verify_request_shapes(void)
{
  hook k;

  /* missing header */
  hook_set(&k, "/myapp.php", FORM, TV_P, strlen(TV_P), NULL);
  CHECK_RC(vc__twilio_check_signature(TV_TOKEN, &k.req, TV_U), VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "X-Twilio-Signature"));
  /* header names compare case-insensitively; whitespace is trimmed */
  hook_set(&k, "/myapp.php", FORM, TV_P, strlen(TV_P),
           " RSOYDt4T1cUTdK1PDd93/VVr8B8=\t");
  k.h[0].name = "x-twilio-signature";
  CHECK_OK(vc__twilio_check_signature(TV_TOKEN, &k.req, TV_U));
  /* a charset on the content type */
  k.h[1].value = "application/x-www-form-urlencoded; charset=UTF-8";
  CHECK_OK(vc__twilio_check_signature(TV_TOKEN, &k.req, TV_U));
  /* a form body under another content type is not read */
  k.h[1].value = "text/plain";
  CHECK_RC(vc__twilio_check_signature(TV_TOKEN, &k.req, TV_U), VC_EAUTH);
  /* a GET: the URL alone is signed (Python's hmac) */
  hook_set(&k, "/myapp.php", NULL, NULL, 0,
           "zYQTYrRWXE7LtzbG4PfP7/bkkGo=");
  k.req.method = "GET";
  CHECK_OK(vc__twilio_check_signature(TV_TOKEN, &k.req, TV_U));
  CHECK_RC(vc__twilio_check_signature(TV_TOKEN, &k.req, TV_U "&x=1"),
           VC_EAUTH);
}

static void test_twilio__verify_bounds(void)
{
  size_t n = 64 * 1024 + 1;
  char *big = malloc(n + 1);
  vc_buf many = VC_BUF_INIT;
  hook k;

  CHECK(big != NULL);
  memset(big, 'a', n);
  big[n] = '\0';
  hook_set(&k, "/x", FORM, big, n, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  CHECK_RC(vc__twilio_check_signature(TV_TOKEN, &k.req, TV_U),
           VC_ETOOBIG);
  /* exactly 64 KiB is read (and fails the signature) */
  k.req.body_len = n - 1;
  CHECK_RC(vc__twilio_check_signature(TV_TOKEN, &k.req, TV_U), VC_EAUTH);
  free(big);

  for (int i = 0; i < 201; i++)
    CHECK_OK(vc__buf_printf(&many, "%sp%d=v", i ? "&" : "", i));
  hook_set(&k, "/x", FORM, many.ptr, many.size,
           "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  CHECK_RC(vc__twilio_check_signature(TV_TOKEN, &k.req, TV_U),
           VC_ETOOBIG);
  /* 200 are read */
  k.req.body_len = (size_t)(strrchr(many.ptr, '&') - many.ptr);
  CHECK_RC(vc__twilio_check_signature(TV_TOKEN, &k.req, TV_U), VC_EAUTH);
  vc_buf_dispose(&many);
}

/* A status callback and an inbound MMS signed with TOKEN (Python). */
#define HOOK_URL "https://hooks.example.com/webhooks/" \
                 "01JCHANNEL00000000000000000"
#define HOOK_TARGET "/webhooks/01JCHANNEL00000000000000000"
#define STATUS_BODY \
  "SmsSid=SM1f0e2d3c4b5a69788796a5b4c3d2e1f0&SmsStatus=undelivered" \
  "&MessageStatus=undelivered&To=%2B14155550100" \
  "&MessageSid=SM1f0e2d3c4b5a69788796a5b4c3d2e1f0" \
  "&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B14155550199" \
  "&ApiVersion=2010-04-01&ErrorCode=30003"
#define STATUS_SIG "y1s2n7V9bcd/70CKN9ZUJ0QOcl4="
#define MMS_MEDIA(n) \
  "https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2F" \
  "AC0123456789abcdef0123456789abcdef%2FMessages%2F" \
  "MM0a1b2c3d4e5f60718293a4b5c6d7e8f9%2FMedia%2F" \
  "ME0000000000000000000000000000000" n
#define MMS_BODY \
  "ToCountry=US&ToState=CA&SmsMessageSid=" \
  "MM0a1b2c3d4e5f60718293a4b5c6d7e8f9&NumMedia=2&ToCity=SAN+FRANCISCO" \
  "&FromZip=94105&SmsSid=MM0a1b2c3d4e5f60718293a4b5c6d7e8f9" \
  "&FromState=CA&SmsStatus=received&FromCity=SAN+FRANCISCO" \
  "&Body=Photo+of+the+invoice+%F0%9F%93%84&FromCountry=US" \
  "&To=%2B14155550100&MessagingServiceSid=" \
  "MG0123456789abcdef0123456789abcdef&ToZip=94107&NumSegments=1" \
  "&MessageSid=MM0a1b2c3d4e5f60718293a4b5c6d7e8f9" \
  "&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B14155550123" \
  "&MediaContentType0=image%2Fjpeg&MediaUrl0=" MMS_MEDIA("1") \
  "&MediaContentType1=application%2Fpdf&MediaUrl1=" MMS_MEDIA("2") \
  "&ApiVersion=2010-04-01"
#define MMS_SIG "Wt74gk5u2HjEd4/weilvb2j0B5g="

static void test_twilio__webhook_signed_status(void)
{
  void *st = state_new(CONFIG, CREDS);
  vc_event_sink sink;
  seen s;
  hook k;

  memset(&s, 0, sizeof(s));
  hook_set(&k, HOOK_TARGET "?vc_msg=01J9ZK3M2V7Q8R4T6W0X1Y2Z3A", FORM,
           STATUS_BODY, strlen(STATUS_BODY), STATUS_SIG);
  CHECK_OK(TW->verify_webhook(st, &k.req, VC__WEBHOOK_ENV(HOOK_URL
                              "?vc_msg=01J9ZK3M2V7Q8R4T6W0X1Y2Z3A", 0)));
  /* given without the query, the request's own query is signed */
  CHECK_OK(TW->verify_webhook(st, &k.req, VC__WEBHOOK_ENV(HOOK_URL, 0)));
  /* another message id in the URL breaks the signature */
  CHECK_RC(TW->verify_webhook(st, &k.req, VC__WEBHOOK_ENV(HOOK_URL
                              "?vc_msg=01J9ZK3M2V7Q8R4T6W0X1Y2Z3B", 0)),
           VC_EAUTH);
  check_clean_error((const char *const[]){ TOKEN }, 1);
  k.req.target = HOOK_TARGET;
  CHECK_RC(TW->verify_webhook(st, &k.req, VC__WEBHOOK_ENV(HOOK_URL, 0)), VC_EAUTH);
  k.req.target = HOOK_TARGET "?vc_msg=01J9ZK3M2V7Q8R4T6W0X1Y2Z3A";

  vc__sink_init(&sink, on_status, on_inbound, &s);
  CHECK_OK(TW->parse_webhook(st, &k.req, &sink));
  CHECK(s.nstatus == 1 && s.ninbound == 0);
  CHECK(s.status == VC_MSG_UNDELIVERED);
  CHECK_STR(s.message_id, "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A");
  CHECK_STR(s.provider_id, "SM1f0e2d3c4b5a69788796a5b4c3d2e1f0");
  CHECK_STR(s.code, "30003");
  CHECK(sink.reply_status == 0);       /* a plain 200 */
  vc__sink_fini(&sink);
  TW->fini(st);
}

static void test_twilio__webhook_signed_inbound(void)
{
  void *st = state_new(CONFIG, CREDS);
  vc_event_sink sink;
  seen s;
  hook k;

  memset(&s, 0, sizeof(s));
  hook_set(&k, HOOK_TARGET, FORM, MMS_BODY, strlen(MMS_BODY), MMS_SIG);
  CHECK_OK(TW->verify_webhook(st, &k.req, VC__WEBHOOK_ENV(HOOK_URL, 0)));
  /* one byte changed */
  {
    char *copy_body = strdup(MMS_BODY);
    CHECK(copy_body != NULL);
    copy_body[strlen(copy_body) - 1] = '2';   /* ApiVersion */
    k.req.body = (const uint8_t *)copy_body;
    CHECK_RC(TW->verify_webhook(st, &k.req, VC__WEBHOOK_ENV(HOOK_URL, 0)), VC_EAUTH);
    free(copy_body);
    k.req.body = (const uint8_t *)MMS_BODY;
  }
  vc__sink_init(&sink, on_status, on_inbound, &s);
  CHECK_OK(TW->parse_webhook(st, &k.req, &sink));
  CHECK(s.ninbound == 1 && s.nstatus == 0);
  CHECK_STR(s.from, "+14155550123");
  CHECK_STR(s.to, "+14155550100");
  CHECK_STR(s.text, "Photo of the invoice \xf0\x9f\x93\x84");
  CHECK_STR(s.in_id, "MM0a1b2c3d4e5f60718293a4b5c6d7e8f9");
  CHECK(s.nmedia == 2);
  CHECK_STR(s.media[0], "https://api.twilio.com/2010-04-01/Accounts/"
            ACCOUNT "/Messages/MM0a1b2c3d4e5f60718293a4b5c6d7e8f9/Media/"
            "ME00000000000000000000000000000001");
  CHECK_STR(s.media[1], "https://api.twilio.com/2010-04-01/Accounts/"
            ACCOUNT "/Messages/MM0a1b2c3d4e5f60718293a4b5c6d7e8f9/Media/"
            "ME00000000000000000000000000000002");
  CHECK(sink.reply_status == 200);
  CHECK_STR(sink.reply_content_type, "text/xml");
  CHECK_STR(sink.reply_body.ptr,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
  vc__sink_fini(&sink);
  TW->fini(st);
}

/* ------------------------------------------------------------------ */
/* parse_webhook                                                       */

#define SID "SM1f0e2d3c4b5a69788796a5b4c3d2e1f0"

static void test_twilio__webhook_statuses(void)
{
  static const struct { const char *status; int want; } cases[] = {
    { "sent", VC_MSG_SENT },
    { "delivered", VC_MSG_DELIVERED },
    { "read", VC_MSG_READ },
    { "undelivered", VC_MSG_UNDELIVERED },
    { "failed", VC_MSG_UNDELIVERED },
    { "canceled", VC_MSG_CANCELED },
    /* nothing to record */
    { "queued", 0 },
    { "accepted", 0 },
    { "scheduled", 0 },
    { "sending", 0 },
    { "receiving", 0 },
    { "partially_delivered", 0 },
    { "some_future_status", 0 },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    char body[256];
    vc_event_sink sink;
    seen s;

    snprintf(body, sizeof(body), "MessageSid=" SID "&MessageStatus=%s"
             "&AccountSid=" ACCOUNT "&To=%%2B14155550100", cases[i].status);
    CHECK_OK(parse_hook(&s, &sink, HOOK_TARGET "?vc_msg=01J9ZK3M2V7Q8R4T6"
                        "W0X1Y2Z3A", body));
    CHECK(s.ninbound == 0);
    CHECK(s.nstatus == (cases[i].want != 0));
    if (cases[i].want != 0) {
      CHECK(s.status == cases[i].want);
      CHECK_STR(s.message_id, "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A");
      CHECK_STR(s.provider_id, SID);
      CHECK(!s.has_code);
    }
    CHECK(sink.reply_status == 0);
    vc__sink_fini(&sink);
  }
}

static void test_twilio__webhook_status_variants(void)
{
  vc_event_sink sink;
  seen s;

  /* legacy SmsSid/SmsStatus only, no vc_msg: provider id alone */
  CHECK_OK(parse_hook(&s, &sink, HOOK_TARGET,
                      "SmsSid=" SID "&SmsStatus=delivered"));
  CHECK(s.nstatus == 1 && s.status == VC_MSG_DELIVERED);
  CHECK(!s.has_message_id);
  CHECK_STR(s.provider_id, SID);
  vc__sink_fini(&sink);
  /* vc_msg among other query parameters; a NULL target */
  CHECK_OK(parse_hook(&s, &sink, "/wh?channel=c1&vc_msg=01J9ZK3M2V7Q8R4T6"
                      "W0X1Y2Z3A&x=", "MessageSid=" SID
                      "&MessageStatus=failed&ErrorCode=30008"));
  CHECK(s.status == VC_MSG_UNDELIVERED);
  CHECK_STR(s.message_id, "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A");
  CHECK_STR(s.code, "30008");
  vc__sink_fini(&sink);
  CHECK_OK(parse_hook(&s, &sink, NULL, "MessageSid=" SID
                      "&MessageStatus=sent&ErrorCode="));
  CHECK(s.nstatus == 1 && !s.has_message_id && !s.has_code);
  vc__sink_fini(&sink);
  /* MessageStatus wins over SmsStatus */
  CHECK_OK(parse_hook(&s, &sink, NULL, "MessageSid=" SID
                      "&SmsStatus=sent&MessageStatus=read"));
  CHECK(s.status == VC_MSG_READ);
  vc__sink_fini(&sink);
}

static void test_twilio__webhook_inbound_sms(void)
{
  vc_event_sink sink;
  seen s;

  CHECK_OK(parse_hook(&s, &sink, HOOK_TARGET,
                      "MessageSid=SM0a1b2c3d4e5f60718293a4b5c6d7e8f9"
                      "&SmsStatus=received&From=%2B919876543210"
                      "&To=%2B14155550100&Body=STOP&NumMedia=0"
                      "&NumSegments=1&AccountSid=" ACCOUNT));
  CHECK(s.ninbound == 1 && s.nstatus == 0);
  CHECK_STR(s.from, "+919876543210");
  CHECK_STR(s.text, "STOP");
  CHECK(s.nmedia == 0);
  CHECK_STR(sink.reply_content_type, "text/xml");
  vc__sink_fini(&sink);

  /* no SmsStatus; media counted from MediaUrlN; empty Body */
  CHECK_OK(parse_hook(&s, &sink, HOOK_TARGET,
                      "MessageSid=MM0a1b2c3d4e5f60718293a4b5c6d7e8f9"
                      "&From=%2B919876543210&Body="
                      "&MediaUrl0=https%3A%2F%2Fm.example.com%2F1"
                      "&MediaUrl1=https%3A%2F%2Fm.example.com%2F2"
                      "&MediaUrl2=https%3A%2F%2Fm.example.com%2F3"));
  CHECK(s.ninbound == 1 && s.nmedia == 3);
  CHECK(s.has_text && s.text[0] == '\0');
  CHECK_STR(s.media[2], "https://m.example.com/3");
  vc__sink_fini(&sink);

  /* ten media is the most */
  {
    vc_buf b = VC_BUF_INIT;
    CHECK_OK(vc__buf_puts(&b, "MessageSid=MM0a1b2c3d4e5f60718293a4b5c6d7e8f9"
                          "&From=%2B919876543210&NumMedia=10"));
    for (int i = 0; i < 10; i++)
      CHECK_OK(vc__buf_printf(&b, "&MediaUrl%d=https://m.example.com/%d",
                              i, i));
    CHECK_OK(parse_hook(&s, &sink, HOOK_TARGET, b.ptr));
    CHECK(s.nmedia == 10);
    vc__sink_fini(&sink);
    vc_buf_dispose(&b);
  }
}

static void test_twilio__webhook_bad_input(void)
{
  static const struct {
    const char *body;
    int code;
    const char *says;
  } bad[] = {
    { "", VC_EINVALID, "neither a status callback nor a message" },
    { "AccountSid=" ACCOUNT, VC_EINVALID, "neither" },
    { "{\"MessageStatus\": \"delivered\"}", VC_EINVALID, "invalid byte" },
    { "MessageSid=" SID "&MessageStatus=deliv%zzered", VC_EINVALID,
      "malformed escape" },
    { "MessageSid=" SID "&MessageStatus=delivered%4", VC_EINVALID,
      "malformed escape" },
    { "MessageSid=" SID "&MessageStatus=delivered%", VC_EINVALID,
      "malformed escape" },
    { "MessageSid=" SID "&MessageStatus=delivered&x=a b", VC_EINVALID,
      "invalid byte" },
    { "MessageSid=" SID "&MessageStatus=delivered\r\n", VC_EINVALID,
      "invalid byte" },
    { "MessageSid=" SID "&MessageStatus=deliv\xc3\xa9red", VC_EINVALID,
      "invalid byte" },
    { "MessageSid=" SID "&MessageStatus=delivered%00", VC_EINVALID,
      "encoded NUL" },
    { "MessageSid=" SID "&MessageStatus=delivered&Body=%C3%28",
      VC_EINVALID, "UTF-8" },
    { "MessageSid=" SID "&MessageStatus=%ED%A0%80", VC_EINVALID, "UTF-8" },
    { "MessageSid=" SID "&MessageStatus=%F0%9F%98", VC_EINVALID, "UTF-8" },
    { "MessageStatus=delivered", VC_EINVALID, "MessageSid" },
    { "MessageSid=SM123&MessageStatus=delivered", VC_EINVALID,
      "MessageSid" },
    { "MessageSid=" SID "&MessageStatus=", VC_EINVALID, "MessageStatus" },
    { "MessageSid=" SID "&MessageStatus=%3Cb%3E", VC_EINVALID,
      "MessageStatus" },
    { "MessageSid=" SID "&MessageStatus=delivered&MessageStatus=failed",
      VC_EINVALID, "more than once" },
    { "MessageSid=" SID "&MessageSid=SM2f0e2d3c4b5a69788796a5b4c3d2e1f0"
      "&MessageStatus=delivered", VC_EINVALID, "more than once" },
    { "MessageSid=" SID "&MessageStatus=failed&ErrorCode=abc",
      VC_EINVALID, "ErrorCode" },
    { "MessageSid=" SID "&From=%2B1415&Body=a&Body=b", VC_EINVALID,
      "more than once" },
    { "From=%2B14155550123&Body=hi", VC_EINVALID, "MessageSid" },
    { "MessageSid=" SID "&From=&Body=hi", VC_EINVALID, "no From" },
    { "MessageSid=" SID "&From=%2B14155550123", VC_EINVALID,
      "neither Body nor media" },
    { "MessageSid=" SID "&From=%2B1&Body=&NumMedia=11", VC_EINVALID,
      "NumMedia" },
    { "MessageSid=" SID "&From=%2B1&Body=&NumMedia=x", VC_EINVALID,
      "NumMedia" },
    { "MessageSid=" SID "&From=%2B1&Body=&NumMedia=2"
      "&MediaUrl0=https%3A%2F%2Fm.example.com%2F1", VC_EINVALID,
      "MediaUrl1 is missing" },
    { "MessageSid=" SID "&From=%2B1&Body=&NumMedia=1"
      "&MediaUrl0=file%3A%2F%2F%2Fetc%2Fpasswd", VC_EINVALID,
      "MediaUrl0" },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    vc_event_sink sink;
    seen s;
    int rc = parse_hook(&s, &sink, HOOK_TARGET, bad[i].body);

    if (rc != bad[i].code ||
        strstr(vc_error_last()->message, bad[i].says) == NULL)
      fprintf(stderr, "  case %zu: %d \"%s\"\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == bad[i].code);
    CHECK(strstr(vc_error_last()->message, bad[i].says) != NULL);
    check_clean_error(NULL, 0);
    /* nothing reported, no reply set */
    CHECK(s.nstatus == 0 && s.ninbound == 0 && sink.nevents == 0);
    CHECK(sink.reply_status == 0);
    vc__sink_fini(&sink);
  }
}

static void test_twilio__webhook_bad_target_and_bounds(void)
{
  vc_event_sink sink;
  vc_buf b = VC_BUF_INIT;
  seen s;
  char *big;
  hook k;

  CHECK_RC(parse_hook(&s, &sink, "/wh?vc_msg=%3Cscript%3E",
                      "MessageSid=" SID "&MessageStatus=delivered"),
           VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "vc_msg"));
  CHECK(s.nstatus == 0);
  vc__sink_fini(&sink);
  CHECK_RC(parse_hook(&s, &sink, "/wh?vc_msg=",
                      "MessageSid=" SID "&MessageStatus=delivered"),
           VC_EINVALID);
  vc__sink_fini(&sink);

  /* 201 fields */
  CHECK_OK(vc__buf_puts(&b, "MessageSid=" SID "&MessageStatus=sent"));
  for (int i = 0; i < 198; i++)
    CHECK_OK(vc__buf_printf(&b, "&p%d=v", i));
  CHECK_OK(parse_hook(&s, &sink, HOOK_TARGET, b.ptr));   /* 200 */
  vc__sink_fini(&sink);
  CHECK_OK(vc__buf_puts(&b, "&last=v"));
  CHECK_RC(parse_hook(&s, &sink, HOOK_TARGET, b.ptr), VC_ETOOBIG);
  CHECK(s.nstatus == 0);
  vc__sink_fini(&sink);
  vc_buf_dispose(&b);

  /* over 64 KiB */
  big = malloc(64 * 1024 + 2);
  CHECK(big != NULL);
  memset(big, 'a', 64 * 1024 + 1);
  {
    static const char head[] = "MessageSid=" SID "&MessageStatus=sent&P=";
    memcpy(big, head, sizeof(head) - 1);
  }
  big[64 * 1024 + 1] = '\0';
  vc__sink_init(&sink, on_status, on_inbound, &s);
  memset(&s, 0, sizeof(s));
  hook_set(&k, HOOK_TARGET, FORM, big, 64 * 1024 + 1, NULL);
  CHECK_RC(TW->parse_webhook(NULL, &k.req, &sink), VC_ETOOBIG);
  CHECK(s.nstatus == 0);
  k.req.body_len = 64 * 1024;
  CHECK_OK(TW->parse_webhook(NULL, &k.req, &sink));
  CHECK(s.nstatus == 1);
  vc__sink_fini(&sink);
  free(big);
}

VC_TESTS(
  VC_TEST(test_twilio__vtable),
  VC_TEST(test_twilio__init_ok),
  VC_TEST(test_twilio__init_bad_config),
  VC_TEST(test_twilio__init_bad_credentials),
  VC_TEST(test_twilio__build_send_basic),
  VC_TEST(test_twilio__build_send_api_key_and_base_url),
  VC_TEST(test_twilio__build_send_messaging_service),
  VC_TEST(test_twilio__build_send_media_and_callback),
  VC_TEST(test_twilio__build_send_body_limit),
  VC_TEST(test_twilio__build_send_errors),
  VC_TEST(test_twilio__parse_send_accepted),
  VC_TEST(test_twilio__parse_send_price),
  VC_TEST(test_twilio__parse_send_outcomes),
  VC_TEST(test_twilio__parse_send_same_as_cjson),
  VC_TEST(test_twilio__parse_send_unparseable),
  VC_TEST(test_twilio__parse_send_retry_after),
  VC_TEST(test_twilio__parse_send_message_text),
  VC_TEST(test_twilio__verify_vectors),
  VC_TEST(test_twilio__verify_vector_facts),
  VC_TEST(test_twilio__verify_request_shapes),
  VC_TEST(test_twilio__verify_bounds),
  VC_TEST(test_twilio__webhook_signed_status),
  VC_TEST(test_twilio__webhook_signed_inbound),
  VC_TEST(test_twilio__webhook_statuses),
  VC_TEST(test_twilio__webhook_status_variants),
  VC_TEST(test_twilio__webhook_inbound_sms),
  VC_TEST(test_twilio__webhook_bad_input),
  VC_TEST(test_twilio__webhook_bad_target_and_bounds),
)
