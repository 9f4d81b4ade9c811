/*
 * Unit tests of the WhatsApp Cloud API adapter (adapters/chat/whatsapp.c):
 * configuration and credential checks, the messages request (text,
 * media, template), the 24-hour customer service window with injected
 * times, the Graph error mapping, X-Hub-Signature-256 against TV-META-1
 * and TV-META-2 (providers.md) and bodies signed with Python's hmac, the
 * GET handshake, status and message notifications, and bad input.
 * When VC_PROVIDER_VECTORS names providers' vectors.json, its
 * hub_signature_256 entries are checked as well.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/text.h"
#include "net/http_out.h"
#include "net/sink.h"
#include "adapters/builtin.h"

#include <cJSON.h>

#include "harness.h"

#define WA (&vc__adapter_whatsapp)

#define PNID "106540352242922"
#define TOKEN "EAAGm0PX4ZCpsBAKZCtestTokenForUnitTests0ZDZD"
#define APP_SECRET "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define VERIFY "my verify token"
#define CONFIG "{\"phone_number_id\": \"" PNID "\"}"
#define CREDS "{\"access_token\": \"" TOKEN "\", \"app_secret\": \"" \
  APP_SECRET "\", \"verify_token\": \"" VERIFY "\"}"
#define SEND_URL "https://graph.facebook.com/v26.0/" PNID "/messages"
#define MSG_ID "01J9ZK3M2V7Q8R4T6W0X1Y2Z3A"
#define NOW INT64_C(1700000000000)
#define HOUR INT64_C(3600000)
#define WINDOW_TEXT "outside the 24-hour customer service window; a " \
  "WhatsApp template is required"

/* Notification bodies; their signatures under APP_SECRET were computed
 * with Python: hmac.new(secret, body, hashlib.sha256).hexdigest(). */
#define STATUS_BODY                                                       \
  "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":"         \
  "\"102290129340398\",\"changes\":[{\"value\":{\"messaging_product\":"   \
  "\"whatsapp\",\"metadata\":{\"display_phone_number\":\"15550783881\","  \
  "\"phone_number_id\":\"106540352242922\"},\"statuses\":[{\"id\":"       \
  "\"wamid.HBgLMTQxNTU1NTAxMDAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA\","       \
  "\"status\":\"delivered\",\"timestamp\":\"1700000100\","                \
  "\"recipient_id\":\"14155550100\",\"biz_opaque_callback_data\":"        \
  "\"01J9ZK3M2V7Q8R4T6W0X1Y2Z3A\"}]},\"field\":\"messages\"}]}]}"
#define STATUS_SIG \
  "sha256=dcf66fcab317dacaa3af615964f96065e36b432c8c643e920a9d877ad684434c"
#define INBOUND_BODY                                                      \
  "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":"         \
  "\"102290129340398\",\"changes\":[{\"value\":{\"messaging_product\":"   \
  "\"whatsapp\",\"metadata\":{\"display_phone_number\":\"15550783881\","  \
  "\"phone_number_id\":\"106540352242922\"},\"contacts\":[{\"profile\":"  \
  "{\"name\":\"Ana\"},\"wa_id\":\"14155550100\"}],\"messages\":[{"        \
  "\"from\":\"14155550100\",\"id\":\"wamid.HBgLMTQxNTU1NTAxMDAVAgASGBQz"  \
  "QUE5NTU4QjE3RjNGMjU3RjhBRQA=\",\"timestamp\":\"1700000200\",\"text\":" \
  "{\"body\":\"Ol\\u00e1 \\ud83d\\ude00\"},\"type\":\"text\"}]},"         \
  "\"field\":\"messages\"}]}]}"
#define INBOUND_SIG \
  "sha256=36636c7eb2cf2be6650f0e62b2485be15e7b0a38f7cee4d65a3d1104dccbbab6"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static void *state_new(const char *config, const char *creds)
{
  void *st = NULL;
  int rc = WA->init(&st, config, creds);

  if (rc != 0)
    fprintf(stderr, "  init: %d %s\n", rc, vc_error_last()->message);
  CHECK(rc == 0 && st != NULL);
  return st;
}

static void check_clean_error(void)
{
  const char *m = vc_error_last()->message;

  for (const char *p = m; *p; p++)
    CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
  CHECK(strstr(m, TOKEN) == NULL);
  CHECK(strstr(m, APP_SECRET) == NULL);
  CHECK(strstr(m, VERIFY) == NULL);
}

/* A message to a user who wrote an hour ago. */
static vc_outbound outbound(const char *to, const char *text)
{
  vc_outbound m;

  memset(&m, 0, sizeof(m));
  m.version = VC_OUTBOUND_VERSION;
  m.kind = VC_CHANNEL_CHAT;
  m.message_id = MSG_ID;
  m.tenant_id = "01J9ZK0000000000000000TEN1";
  m.to = to;
  m.text = text;
  m.now_ms = NOW;
  m.last_inbound_ms = NOW - HOUR;
  return m;
}

static cJSON *build(void *st, vc_outbound *m, unsigned part, vc_http_out *req)
{
  cJSON *j;

  m->part = part;
  vc__http_out_init(req);
  CHECK_OK(WA->build_send(st, m, req));
  CHECK_STR(req->method, "POST");
  CHECK_STR(req->url, SEND_URL);
  CHECK_STR(vc__http_out_header(req, "Authorization"), "Bearer " TOKEN);
  CHECK_STR(vc__http_out_header(req, "Content-Type"), "application/json");
  j = cJSON_Parse(req->body.ptr);
  CHECK(j != NULL);
  CHECK_STR(cJSON_GetObjectItemCaseSensitive(j, "messaging_product")
              ->valuestring, "whatsapp");
  return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *jobj(const cJSON *o, const char *k)
{
  return cJSON_GetObjectItemCaseSensitive(o, k);
}

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

static vc_send_result parse(void *st, int status, const char *body)
{
  vc_http_response res;
  vc_send_result r;
  vc_outbound m = outbound("14155550100", "hi");

  memset(&res, 0, sizeof(res));
  res.version = VC_HTTP_RESPONSE_VERSION;
  res.status = status;
  res.body.ptr = (char *)body;
  res.body.size = body ? strlen(body) : 0;
  memset(&r, 0, sizeof(r));
  r.version = VC_SEND_RESULT_VERSION;
  CHECK_OK(WA->parse_send(st, &m, &res, &r));
  return r;
}

typedef struct seen {
  int nstatus, ninbound;
  int status[8];
  char message_id[8][64], provider_id[8][128], event_id[8][160];
  char code[8][16], error[8][256];
  int64_t at[8];
  char from[64], to[64], text[256], in_id[160], media[160];
  int has_text;
  size_t nmedia;
  int64_t in_at;
} seen;

static int on_status(void *p, const vc_status_update *u)
{
  seen *s = p;
  int i = s->nstatus++;

  if (i >= 8)
    return 0;
  s->status[i] = u->status;
  snprintf(s->message_id[i], 64, "%s", u->message_id ? u->message_id : "");
  snprintf(s->provider_id[i], 128, "%s", u->provider_id);
  snprintf(s->event_id[i], 160, "%s", u->event_id ? u->event_id : "");
  snprintf(s->code[i], 16, "%s", u->provider_code ? u->provider_code : "");
  snprintf(s->error[i], 256, "%s", u->error_message ? u->error_message : "");
  s->at[i] = u->occurred_at;
  return 0;
}

static int on_inbound(void *p, const vc_inbound *m)
{
  seen *s = p;

  s->ninbound++;
  snprintf(s->from, sizeof(s->from), "%s", m->from);
  snprintf(s->to, sizeof(s->to), "%s", m->to ? m->to : "");
  s->has_text = m->text != NULL;
  snprintf(s->text, sizeof(s->text), "%s", m->text ? m->text : "");
  snprintf(s->in_id, sizeof(s->in_id), "%s", m->provider_id);
  s->nmedia = m->nmedia;
  snprintf(s->media, sizeof(s->media), "%s",
           m->nmedia ? m->media_urls[0] : "");
  s->in_at = m->occurred_at;
  return 0;
}

typedef struct hook {
  vc_http_header h[3];
  vc_http_request req;
} hook;

static void hook_set(hook *k, const char *method, const char *target,
                     const char *body, const char *sig)
{
  size_t n = 0;

  memset(k, 0, sizeof(*k));
  if (sig != NULL) {
    k->h[n].name = "X-Hub-Signature-256";
    k->h[n++].value = sig;
  }
  if (body != NULL) {
    k->h[n].name = "Content-Type";
    k->h[n++].value = "application/json";
  }
  k->req.version = VC_HTTP_REQUEST_VERSION;
  k->req.method = method;
  k->req.target = target;
  k->req.headers = k->h;
  k->req.nheaders = n;
  k->req.body = (const uint8_t *)body;
  k->req.body_len = body ? strlen(body) : 0;
}

/* parse_webhook of a POST body; the sink's reply status in *reply. */
static int parse_hook(void *st, seen *s, const char *body)
{
  vc_event_sink sink;
  hook k;
  int rc;

  memset(s, 0, sizeof(*s));
  vc__sink_init(&sink, on_status, on_inbound, s);
  hook_set(&k, "POST", "/webhooks/x", body, NULL);
  rc = WA->parse_webhook(st, &k.req, &sink);
  vc__sink_fini(&sink);
  return rc;
}

/* A notification around one value object of this channel's number. */
static char *notification(const char *value)
{
  char *out;

  CHECK(asprintf(&out, "{\"object\":\"whatsapp_business_account\","
                 "\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":"
                 "\"messages\",\"value\":{\"messaging_product\":\"whatsapp\","
                 "\"metadata\":{\"display_phone_number\":\"15550783881\","
                 "\"phone_number_id\":\"" PNID "\"},%s}}]}]}", value) > 0);
  return out;
}

/* ------------------------------------------------------------------ */
/* The vtable and init                                                 */

static void test_whatsapp__vtable(void)
{
  CHECK(WA->version == VC_ADAPTER_VERSION);
  CHECK_STR(WA->name, "whatsapp");
  CHECK(WA->kind == VC_CHANNEL_CHAT);
  CHECK(WA->capabilities ==
        (VC_CAP_DELIVERY_REPORTS | VC_CAP_INBOUND | VC_CAP_MEDIA |
         VC_CAP_SIGNED_WEBHOOKS | VC_CAP_SESSION_WINDOW));
  CHECK(WA->verify_webhook && WA->parse_webhook && WA->count_parts);
  WA->fini(NULL);
}

static void test_whatsapp__init(void)
{
  static const struct { const char *config, *creds, *says; } bad[] = {
    { NULL, CREDS, "config 'phone_number_id' is required" },
    { "{\"phone_number_id\": 106540352242922}", CREDS,
      "config 'phone_number_id' must be a string" },
    { "{\"phone_number_id\": \"+106540\"}", CREDS,
      "config 'phone_number_id' must be 1 to 32 digits" },
    { "{\"phone_number_id\": \"" PNID "\", \"api_version\": \"26.0\"}", CREDS,
      "config 'api_version' must look like" },
    { "{\"phone_number_id\": \"" PNID "\", \"api_version\": \"v26\"}", CREDS,
      "config 'api_version' must look like" },
    { "{\"phone_number_id\": \"" PNID "\", \"base_url\": "
      "\"http://graph.facebook.com\"}", CREDS, "loopback" },
    { "{\"phone_number_id\": \"" PNID "\", \"waba\": \"1\"}", CREDS,
      "unknown config key 'waba'" },
    { CONFIG, "{}", "credential 'access_token' is required" },
    { CONFIG, "{\"access_token\": \"EAAG with space\"}",
      "credential 'access_token' must be" },
    { CONFIG, "{\"access_token\": \"" TOKEN "\", \"app_secret\": \"\"}",
      "credential 'app_secret' must be" },
    { CONFIG, "{\"access_token\": \"" TOKEN "\", \"app_secret\": \"a\\tb\"}",
      "credential 'app_secret' must be" },
    { CONFIG, "{\"access_token\": \"" TOKEN "\", \"verify_token\": 1}",
      "credential 'verify_token' must be" },
    { CONFIG, "{\"access_token\": \"" TOKEN "\", \"" APP_SECRET "\": 1}",
      "unknown credential key" },
    { CONFIG, "{\"access_token\": \"" TOKEN "\", \"access_token\": \"x\"}",
      "appears twice" },
  };

  WA->fini(state_new(CONFIG, "{\"access_token\": \"" TOKEN "\"}"));
  WA->fini(state_new("{\"phone_number_id\": \"" PNID "\", \"api_version\": "
                     "\"v21.0\", \"base_url\": \"http://127.0.0.1:9/graph/\"}",
                     CREDS));
  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    void *st = (void *)&st;
    int rc = WA->init(&st, bad[i].config, bad[i].creds);

    if (rc != VC_EINVALID ||
        strstr(vc_error_last()->message, bad[i].says) == NULL)
      fprintf(stderr, "  case %zu: %d \"%s\"\n", i, rc,
              vc_error_last()->message);
    CHECK(rc == VC_EINVALID);
    CHECK(st == NULL);
    CHECK(strstr(vc_error_last()->message, bad[i].says) != NULL);
    check_clean_error();
  }
}

/* ------------------------------------------------------------------ */
/* build_send and the window                                           */

static void test_whatsapp__text(void)
{
  void *st = state_new(CONFIG, CREDS), *other;
  vc_outbound m = outbound("+14155550100", "Your order shipped");
  vc_http_out req;
  cJSON *j;

  CHECK(WA->count_parts(st, &m) == 1);
  j = build(st, &m, 0, &req);
  CHECK_STR(jstr(j, "recipient_type"), "individual");
  CHECK_STR(jstr(j, "to"), "14155550100");          /* digits only */
  CHECK_STR(jstr(j, "type"), "text");
  CHECK(cJSON_IsFalse(jobj(jobj(j, "text"), "preview_url")));
  CHECK_STR(jstr(jobj(j, "text"), "body"), "Your order shipped");
  CHECK_STR(jstr(j, "biz_opaque_callback_data"), MSG_ID);
  cJSON_Delete(j);
  vc__http_out_reset(&req);
  /* the version and base URL come from the config */
  other = state_new("{\"phone_number_id\": \"42\", \"api_version\": "
                    "\"v21.0\", \"base_url\": \"http://127.0.0.1:8080/graph\"}",
                    CREDS);
  vc__http_out_init(&req);
  CHECK_OK(WA->build_send(other, &m, &req));
  CHECK_STR(req.url, "http://127.0.0.1:8080/graph/v21.0/42/messages");
  vc__http_out_reset(&req);
  WA->fini(other);
  WA->fini(st);
}

static void test_whatsapp__window(void)
{
  void *st = state_new(CONFIG, CREDS);
  vc_outbound m = outbound("14155550100", "hello");
  vc_http_out req;

  /* 23:59:59.999 after the user wrote: open */
  m.last_inbound_ms = NOW - 24 * HOUR + 1;
  CHECK(WA->count_parts(st, &m) == 1);
  /* 24 hours: closed */
  m.last_inbound_ms = NOW - 24 * HOUR;
  CHECK_RC(WA->count_parts(st, &m), VC_ESTATE);
  CHECK_STR(vc_error_last()->message, WINDOW_TEXT);
  vc__http_out_init(&req);
  CHECK_RC(WA->build_send(st, &m, &req), VC_ESTATE);
  CHECK(req.url == NULL);
  vc__http_out_reset(&req);
  /* never wrote */
  m.last_inbound_ms = 0;
  CHECK_RC(WA->count_parts(st, &m), VC_ESTATE);
  CHECK_STR(vc_error_last()->message, WINDOW_TEXT);
  /* a message from the future: a little clock skew is fine, more not */
  m.last_inbound_ms = NOW + 30000;
  CHECK(WA->count_parts(st, &m) == 1);
  m.last_inbound_ms = NOW + 5 * 60000;
  CHECK_RC(WA->count_parts(st, &m), VC_ESTATE);
  /* other metadata does not make a template */
  m.last_inbound_ms = 0;
  m.metadata_json = "{\"order\": 42}";
  CHECK_RC(WA->count_parts(st, &m), VC_ESTATE);
  WA->fini(st);
}

static void test_whatsapp__template(void)
{
  void *st = state_new(CONFIG, CREDS);
  vc_outbound m = outbound("14155550100", "fallback text, not sent");
  const cJSON *t, *c;
  vc_http_out req;
  cJSON *j;

  /* outside the window, a template goes */
  m.last_inbound_ms = 0;
  m.metadata_json = "{\"order\": 42, \"whatsapp_template\": {\"name\": "
                    "\"order_update\", \"language\": \"en_US\", "
                    "\"components\": [{\"type\": \"body\", \"parameters\": "
                    "[{\"type\": \"text\", \"text\": \"42\"}]}]}}";
  CHECK(WA->count_parts(st, &m) == 1);
  j = build(st, &m, 0, &req);
  CHECK_STR(jstr(j, "type"), "template");
  CHECK(jobj(j, "text") == NULL);
  t = jobj(j, "template");
  CHECK_STR(jstr(t, "name"), "order_update");
  CHECK_STR(jstr(jobj(t, "language"), "code"), "en_US");
  c = cJSON_GetArrayItem(jobj(t, "components"), 0);
  CHECK_STR(jstr(c, "type"), "body");
  CHECK_STR(jstr(cJSON_GetArrayItem(jobj(c, "parameters"), 0), "text"), "42");
  CHECK_STR(jstr(j, "biz_opaque_callback_data"), MSG_ID);
  cJSON_Delete(j);
  vc__http_out_reset(&req);
  /* inside the window too; language as an object, no components */
  m.last_inbound_ms = NOW - HOUR;
  m.metadata_json = "{\"whatsapp_template\": {\"name\": \"hello_world\", "
                    "\"language\": {\"code\": \"en\", \"policy\": "
                    "\"deterministic\"}}}";
  j = build(st, &m, 0, &req);
  t = jobj(j, "template");
  CHECK_STR(jstr(jobj(t, "language"), "policy"), "deterministic");
  CHECK(jobj(t, "components") == NULL);
  cJSON_Delete(j);
  vc__http_out_reset(&req);
  WA->fini(st);
}

static void test_whatsapp__bad_templates(void)
{
  static const char *const bad[] = {
    "{\"whatsapp_template\": \"order_update\"}",
    "{\"whatsapp_template\": {\"language\": \"en\"}}",
    "{\"whatsapp_template\": {\"name\": \"Order Update\", \"language\": "
    "\"en\"}}",
    "{\"whatsapp_template\": {\"name\": \"x\"}}",
    "{\"whatsapp_template\": {\"name\": \"x\", \"language\": \"en US\"}}",
    "{\"whatsapp_template\": {\"name\": \"x\", \"language\": {\"code\": "
    "\"en\", \"policy\": \"fallback\"}}}",
    "{\"whatsapp_template\": {\"name\": \"x\", \"language\": \"en\", "
    "\"components\": {}}}",
    "{\"whatsapp_template\": {\"name\": \"x\", \"language\": \"en\", "
    "\"components\": [{\"parameters\": []}]}}",
    "{\"whatsapp_template\": {\"name\": \"x\", \"language\": \"en\", "
    "\"components\": [1]}}",
  };
  void *st = state_new(CONFIG, CREDS);
  vc_outbound m = outbound("14155550100", "hi");
  vc_attachment a = { 0 };

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    m.metadata_json = bad[i];
    if (WA->count_parts(st, &m) != VC_EINVALID)
      fprintf(stderr, "  case %zu: %s\n", i, vc_error_last()->message);
    CHECK_RC(WA->count_parts(st, &m), VC_EINVALID);
    CHECK(strstr(vc_error_last()->message, "template") != NULL);
  }
  m.metadata_json = "[1]";
  CHECK(WA->count_parts(st, &m) < 0);
  /* media belongs in the template's header */
  a.url = "https://example.com/a.jpg";
  a.content_type = "image/jpeg";
  m.attachments = &a;
  m.nattachments = 1;
  m.metadata_json = "{\"whatsapp_template\": {\"name\": \"x\", \"language\": "
                    "\"en\"}}";
  CHECK_RC(WA->count_parts(st, &m), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "header component") != NULL);
  WA->fini(st);
}

static void test_whatsapp__media_and_limits(void)
{
  void *st = state_new(CONFIG, CREDS);
  vc_attachment a[3];
  vc_outbound m = outbound("14155550100", "photos");
  vc_http_out req;
  char *text;
  cJSON *j;

  memset(a, 0, sizeof(a));
  a[0].url = "https://example.com/a.jpg";
  a[0].content_type = "image/jpeg";
  a[1].url = "https://example.com/r.pdf";
  a[1].content_type = "application/pdf";
  a[1].filename = "report.pdf";
  a[2].url = "https://example.com/v.mp4";
  a[2].content_type = "video/mp4";
  m.attachments = a;
  m.nattachments = 3;
  CHECK(WA->count_parts(st, &m) == 4);
  j = build(st, &m, 1, &req);
  CHECK_STR(jstr(j, "type"), "image");
  CHECK_STR(jstr(jobj(j, "image"), "link"), "https://example.com/a.jpg");
  cJSON_Delete(j);
  vc__http_out_reset(&req);
  j = build(st, &m, 2, &req);
  CHECK_STR(jstr(j, "type"), "document");
  CHECK_STR(jstr(jobj(j, "document"), "filename"), "report.pdf");
  cJSON_Delete(j);
  vc__http_out_reset(&req);
  j = build(st, &m, 3, &req);
  CHECK_STR(jstr(j, "type"), "video");
  cJSON_Delete(j);
  vc__http_out_reset(&req);
  m.part = 4;
  vc__http_out_init(&req);
  CHECK_RC(WA->build_send(st, &m, &req), VC_EINVALID);
  vc__http_out_reset(&req);
  /* media by bytes need an upload; plain http is refused */
  a[0].url = NULL;
  a[0].data = (const uint8_t *)"JPEG";
  a[0].len = 4;
  m.part = 0;
  CHECK_RC(WA->count_parts(st, &m), VC_ENOTSUPPORTED);
  a[0].data = NULL;
  a[0].url = "http://example.com/a.jpg";
  CHECK_RC(WA->count_parts(st, &m), VC_EINVALID);
  /* 4,096 UTF-16 units: an emoji counts two */
  m.nattachments = 0;
  text = repeat("\xf0\x9f\x98\x80", 2048);
  m.text = text;
  CHECK(WA->count_parts(st, &m) == 1);
  free(text);
  text = repeat("\xf0\x9f\x98\x80", 2049);
  m.text = text;
  CHECK_RC(WA->count_parts(st, &m), VC_ETOOBIG);
  free(text);
  /* recipients */
  m = outbound("alice", "hi");
  CHECK_RC(WA->count_parts(st, &m), VC_EINVALID);
  CHECK(strncmp(vc_error_last()->message, "recipient", 9) == 0);
  m = outbound("+0123456789", "hi");
  CHECK_RC(WA->count_parts(st, &m), VC_EINVALID);
  m = outbound("14155550100", NULL);
  CHECK_RC(WA->count_parts(st, &m), VC_EINVALID);
  WA->fini(st);
}

/* ------------------------------------------------------------------ */
/* parse_send                                                          */

static void test_whatsapp__parse_send(void)
{
  static const struct {
    int status;
    const char *body;
    int outcome, error;
    const char *code;
  } cases[] = {
    { 400, "{\"error\":{\"message\":\"(#131047) Re-engagement message\","
      "\"type\":\"OAuthException\",\"code\":131047,\"error_data\":{"
      "\"messaging_product\":\"whatsapp\",\"details\":\"Message failed to "
      "send because more than 24 hours have passed since the customer last "
      "replied to this number.\"},\"fbtrace_id\":\"AbCdEf\"}}",
      VC_SEND_REJECTED, VC_ESTATE, "131047" },
    { 429, "{\"error\":{\"message\":\"(#130429) Rate limit hit\",\"code\":"
      "130429}}", VC_SEND_RETRY, VC_ERATELIMIT, "130429" },
    { 400, "{\"error\":{\"message\":\"(#80007) Rate limit issues\","
      "\"code\":80007}}", VC_SEND_RETRY, VC_ERATELIMIT, "80007" },
    { 401, "{\"error\":{\"message\":\"Error validating access token: "
      "Session has expired\",\"type\":\"OAuthException\",\"code\":190,"
      "\"error_subcode\":463}}", VC_SEND_FAILOVER, VC_EAUTH, "190" },
    { 400, "{\"error\":{\"message\":\"(#100) Invalid parameter\",\"code\":"
      "100}}", VC_SEND_REJECTED, VC_EPROVIDER, "100" },
    { 404, "{\"error\":{\"message\":\"(#132001) Template name does not "
      "exist in the translation\",\"code\":132001}}", VC_SEND_REJECTED,
      VC_EPROVIDER, "132001" },
    { 400, "{\"error\":{\"message\":\"Message undeliverable\",\"code\":"
      "131026}}", VC_SEND_REJECTED, VC_EPROVIDER, "131026" },
    { 403, "{\"error\":{\"message\":\"(#10) Application does not have "
      "permission for this action\",\"code\":10}}", VC_SEND_FAILOVER,
      VC_EAUTH, "10" },
    { 503, "{\"error\":{\"message\":\"Service temporarily unavailable\","
      "\"code\":2}}", VC_SEND_RETRY, VC_EPROVIDER, "2" },
    /* codes we do not know: the HTTP status decides */
    { 400, "{\"error\":{\"message\":\"new\",\"code\":999999}}",
      VC_SEND_REJECTED, VC_EPROVIDER, "999999" },
    { 500, "{\"error\":{\"message\":\"new\",\"code\":999999}}",
      VC_SEND_RETRY, VC_EPROVIDER, "999999" },
    { 401, "not json", VC_SEND_FAILOVER, VC_EAUTH, "" },
    { 502, "<html>Bad Gateway</html>", VC_SEND_RETRY, VC_EPROVIDER, "" },
    { 429, NULL, VC_SEND_RETRY, VC_ERATELIMIT, "" },
  };
  void *st = state_new(CONFIG, CREDS);
  vc_send_result r;

  r = parse(st, 200, "{\"messaging_product\":\"whatsapp\",\"contacts\":[{"
            "\"input\":\"14155550100\",\"wa_id\":\"14155550100\"}],"
            "\"messages\":[{\"id\":\"wamid.HBgLMTQxNTU1NTAxMDAVAgARGBI5QTND"
            "QTVCM0Q0Q0Q2RTY3RTcA\"}]}");
  CHECK(r.outcome == VC_SEND_ACCEPTED);
  CHECK_STR(r.provider_id,
            "wamid.HBgLMTQxNTU1NTAxMDAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA");
  r = parse(st, 200, "{\"messages\":[]}");
  CHECK(r.outcome == VC_SEND_RETRY && r.error == VC_EPROVIDER);
  r = parse(st, 200, "{\"messages\":[{\"id\":\"wamid with space\"}]}");
  CHECK(r.outcome == VC_SEND_RETRY);
  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    r = parse(st, cases[i].status, cases[i].body);
    if (r.outcome != cases[i].outcome || r.error != cases[i].error)
      fprintf(stderr, "  case %zu: outcome %d error %d\n", i, r.outcome,
              r.error);
    CHECK(r.outcome == cases[i].outcome && r.error == cases[i].error);
    CHECK_STR(r.provider_code, cases[i].code);
    CHECK(r.error_message[0] != '\0');
  }
  r = parse(st, 400, cases[0].body);
  CHECK_STR(r.error_message, "(#131047) Re-engagement message: Message "
            "failed to send because more than 24 hours have passed since "
            "the customer last replied to this number.");
  /* the pair rate limit asks for a pause */
  r = parse(st, 400, "{\"error\":{\"message\":\"(#131056) (Business Account,"
            " Consumer Account) pair rate limit hit\",\"code\":131056}}");
  CHECK(r.outcome == VC_SEND_RETRY && r.retry_after_ms == 6000);
  WA->fini(st);
}

/* ------------------------------------------------------------------ */
/* Signatures and the handshake                                        */

static void test_whatsapp__meta_vectors(void)
{
  /* TV-META-1 (github/docs) and TV-META-2 (providers.md test vectors) */
  void *v1 = state_new(CONFIG, "{\"access_token\": \"t\", \"app_secret\": "
                       "\"It's a Secret to Everybody\"}");
  void *v2 = state_new(CONFIG, "{\"access_token\": \"t\", \"app_secret\": "
                       "\"secret\"}");
  hook k;

  hook_set(&k, "POST", "/webhooks/x", "Hello, World!", "sha256=757107ea0eb"
           "2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  CHECK_OK(WA->verify_webhook(v1, &k.req, NULL));
  /* hex in capitals is the same digest */
  hook_set(&k, "POST", "/webhooks/x", "Hello, World!", "sha256=757107EA0EB"
           "2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17");
  CHECK_OK(WA->verify_webhook(v1, &k.req, NULL));
  hook_set(&k, "POST", "/webhooks/x", "test", "sha256=0329a06b62cd16b33eb6"
           "792be8c60b158d89a2ee3a876fce9a881ebb488c0914");
  CHECK_OK(WA->verify_webhook(v2, &k.req, NULL));
  /* each vector under the other key, and with its body changed */
  CHECK_RC(WA->verify_webhook(v1, &k.req, NULL), VC_EAUTH);
  hook_set(&k, "POST", "/webhooks/x", "test ", "sha256=0329a06b62cd16b33eb6"
           "792be8c60b158d89a2ee3a876fce9a881ebb488c0914");
  CHECK_RC(WA->verify_webhook(v2, &k.req, NULL), VC_EAUTH);
  WA->fini(v1);
  WA->fini(v2);
}

/* The same vectors from the machine-readable file, when the caller points
 * at it (VC_PROVIDER_VECTORS=/path/to/vectors.json). */
static void test_whatsapp__hub_vectors_file(void)
{
  const char *path = getenv("VC_PROVIDER_VECTORS");
  const cJSON *v;
  cJSON *doc, *cred;
  char *text, *creds;
  FILE *fp;
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
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(doc,
                                                         "hub_signature_256")) {
    const char *secret = jstr(v, "secret"), *payload = jstr(v, "payload");
    const char *want = jstr(v, "expected_header");
    int ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "ok"));
    void *st;
    hook k;

    CHECK(secret != NULL && payload != NULL && want != NULL);
    CHECK((cred = cJSON_CreateObject()) != NULL);
    cJSON_AddStringToObject(cred, "access_token", "t");
    cJSON_AddStringToObject(cred, "app_secret", secret);
    CHECK((creds = cJSON_PrintUnformatted(cred)) != NULL);
    st = state_new(CONFIG, creds);
    hook_set(&k, "POST", "/webhooks/x", payload, want);
    CHECK_RC(WA->verify_webhook(st, &k.req, NULL), ok ? 0 : VC_EAUTH);
    if (ok && payload[0] != '\0') {
      /* the payload with its last byte dropped no longer verifies */
      k.req.body_len--;
      CHECK_RC(WA->verify_webhook(st, &k.req, NULL), VC_EAUTH);
    }
    WA->fini(st);
    cJSON_free(creds);
    cJSON_Delete(cred);
    checked++;
  }
  cJSON_Delete(doc);
  CHECK(checked >= 2);
}

static void test_whatsapp__verify(void)
{
  void *st = state_new(CONFIG, CREDS), *none;
  static const char *const bad_sigs[] = {
    "sha256=dcf66fcab317dacaa3af615964f96065e36b432c8c643e920a9d877ad684434d",
    "dcf66fcab317dacaa3af615964f96065e36b432c8c643e920a9d877ad684434c",
    "sha1=dcf66fcab317dacaa3af615964f96065e36b432c8c643e920a9d877ad684434c",
    "sha256=dcf66fcab317dacaa3af615964f96065e36b432c8c643e920a9d877ad68443",
    "sha256=dcf66fcab317dacaa3af615964f96065e36b432c8c643e920a9d877ad684434cc",
    "sha256=zcf66fcab317dacaa3af615964f96065e36b432c8c643e920a9d877ad684434c",
    "sha256=", "",
  };
  char *tampered;
  hook k;

  hook_set(&k, "POST", "/webhooks/x", STATUS_BODY, STATUS_SIG);
  CHECK_OK(WA->verify_webhook(st, &k.req, NULL));
  hook_set(&k, "POST", "/webhooks/x", INBOUND_BODY, INBOUND_SIG);
  CHECK_OK(WA->verify_webhook(st, &k.req, NULL));
  for (size_t i = 0; i < VC_ARRAY_SIZE(bad_sigs); i++) {
    hook_set(&k, "POST", "/webhooks/x", STATUS_BODY, bad_sigs[i]);
    CHECK_RC(WA->verify_webhook(st, &k.req, NULL), VC_EAUTH);
    check_clean_error();
  }
  /* the signature of one body on another */
  hook_set(&k, "POST", "/webhooks/x", INBOUND_BODY, STATUS_SIG);
  CHECK_RC(WA->verify_webhook(st, &k.req, NULL), VC_EAUTH);
  /* one byte changed: "read" for "delivered" would be a forgery */
  tampered = strdup(STATUS_BODY);
  memcpy(strstr(tampered, "1700000100"), "1700000101", 10);
  hook_set(&k, "POST", "/webhooks/x", tampered, STATUS_SIG);
  CHECK_RC(WA->verify_webhook(st, &k.req, NULL), VC_EAUTH);
  free(tampered);
  /* no header; no secret configured */
  hook_set(&k, "POST", "/webhooks/x", STATUS_BODY, NULL);
  CHECK_RC(WA->verify_webhook(st, &k.req, NULL), VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "missing") != NULL);
  none = state_new(CONFIG, "{\"access_token\": \"" TOKEN "\"}");
  hook_set(&k, "POST", "/webhooks/x", STATUS_BODY, STATUS_SIG);
  CHECK_RC(WA->verify_webhook(none, &k.req, NULL), VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "app_secret") != NULL);
  WA->fini(none);
  /* methods other than POST and the handshake GET */
  hook_set(&k, "PUT", "/webhooks/x", STATUS_BODY, STATUS_SIG);
  CHECK_RC(WA->verify_webhook(st, &k.req, NULL), VC_EAUTH);
  WA->fini(st);
}

/* The GET handshake through verify and parse: the reply. */
static int handshake(void *st, const char *target, int *status,
                     char *body, size_t cap)
{
  vc_event_sink sink;
  hook k;
  int rc;

  hook_set(&k, "GET", target, NULL, NULL);
  if ((rc = WA->verify_webhook(st, &k.req, NULL)) < 0)
    return rc;
  vc__sink_init(&sink, on_status, on_inbound, NULL);
  rc = WA->parse_webhook(st, &k.req, &sink);
  *status = sink.reply_status;
  snprintf(body, cap, "%s", sink.reply_body.ptr ? sink.reply_body.ptr : "");
  if (rc == 0 && sink.reply_status == 200)
    CHECK_STR(sink.reply_content_type, "text/plain");
  vc__sink_fini(&sink);
  return rc;
}

static void test_whatsapp__handshake(void)
{
  void *st = state_new(CONFIG, CREDS), *none;
  char body[128];
  int status = 0;

  CHECK_OK(handshake(st, "/webhooks/x?hub.mode=subscribe&hub.challenge="
                     "1158201444&hub.verify_token=my+verify%20token",
                     &status, body, sizeof(body)));
  CHECK(status == 200);
  CHECK_STR(body, "1158201444");
  /* the wrong token: 403, as Meta expects */
  CHECK_OK(handshake(st, "/webhooks/x?hub.mode=subscribe&hub.challenge=1&"
                     "hub.verify_token=my+verify+tokeN", &status, body,
                     sizeof(body)));
  CHECK(status == 403);
  CHECK(strstr(body, "1") == NULL);
  CHECK_OK(handshake(st, "/webhooks/x?hub.challenge=1&hub.mode=subscribe",
                     &status, body, sizeof(body)));
  CHECK(status == 403);
  /* not a handshake at all: refused before parsing */
  CHECK_RC(handshake(st, "/webhooks/x", &status, body, sizeof(body)),
           VC_EAUTH);
  CHECK_RC(handshake(st, "/webhooks/x?hub.mode=unsubscribe&hub.challenge=1&"
                     "hub.verify_token=my+verify+token", &status, body,
                     sizeof(body)), VC_EAUTH);
  /* a challenge we would not echo */
  CHECK_RC(handshake(st, "/webhooks/x?hub.mode=subscribe&hub.challenge="
                     "%3Cscript%3E&hub.verify_token=my+verify+token", &status,
                     body, sizeof(body)), VC_EAUTH);
  /* no verify token configured: every handshake fails */
  none = state_new(CONFIG, "{\"access_token\": \"" TOKEN "\"}");
  CHECK_OK(handshake(none, "/webhooks/x?hub.mode=subscribe&hub.challenge=1&"
                     "hub.verify_token=", &status, body, sizeof(body)));
  CHECK(status == 403);
  WA->fini(none);
  WA->fini(st);
}

/* ------------------------------------------------------------------ */
/* Notifications                                                       */

static void test_whatsapp__statuses(void)
{
  void *st = state_new(CONFIG, CREDS);
  char *body;
  seen s;

  CHECK_OK(parse_hook(st, &s, STATUS_BODY));
  CHECK(s.nstatus == 1 && s.ninbound == 0);
  CHECK(s.status[0] == VC_MSG_DELIVERED);
  CHECK_STR(s.message_id[0], MSG_ID);
  CHECK_STR(s.provider_id[0],
            "wamid.HBgLMTQxNTU1NTAxMDAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA");
  CHECK_STR(s.event_id[0], "wamid.HBgLMTQxNTU1NTAxMDAVAgARGBI5QTNDQTVCM0Q0Q"
            "0Q2RTY3RTcA:delivered");
  CHECK(s.at[0] == INT64_C(1700000100000));
  /* several statuses; read is one; failed carries its error */
  body = notification("\"statuses\":[{\"id\":\"wamid.A\",\"status\":\"sent\","
                      "\"timestamp\":\"1700000001\"},{\"id\":\"wamid.A\","
                      "\"status\":\"read\",\"timestamp\":1700000003},{\"id\":"
                      "\"wamid.B\",\"status\":\"failed\",\"timestamp\":"
                      "\"1700000004\",\"errors\":[{\"code\":131026,\"title\":"
                      "\"Message undeliverable\",\"error_data\":{\"details\":"
                      "\"Receiver is incapable of receiving this message\"}}]},"
                      "{\"id\":\"wamid.C\",\"status\":\"deleted\","
                      "\"timestamp\":\"1700000005\"},{\"id\":\"wamid.D\","
                      "\"status\":\"sent\",\"biz_opaque_callback_data\":"
                      "\"not ours!\"}]");
  CHECK_OK(parse_hook(st, &s, body));
  free(body);
  CHECK(s.nstatus == 4);
  CHECK(s.status[0] == VC_MSG_SENT && s.status[1] == VC_MSG_READ);
  CHECK(s.status[2] == VC_MSG_UNDELIVERED);
  CHECK_STR(s.code[2], "131026");
  CHECK_STR(s.error[2], "Message undeliverable: Receiver is incapable of "
            "receiving this message");
  CHECK_STR(s.message_id[0], "");
  CHECK_STR(s.message_id[3], "");        /* not one of our ids */
  CHECK(s.at[3] == 0);
  /* another phone number of the account, another field: skipped */
  body = strdup(STATUS_BODY);
  memcpy(strstr(body, PNID), "106540352242923", 15);
  CHECK_OK(parse_hook(st, &s, body));
  CHECK(s.nstatus == 0);
  free(body);
  CHECK_OK(parse_hook(st, &s, "{\"object\":\"whatsapp_business_account\","
                      "\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":"
                      "\"message_template_status_update\",\"value\":{\"event\":"
                      "\"APPROVED\"}}]}]}"));
  CHECK(s.nstatus == 0 && s.ninbound == 0);
  WA->fini(st);
}

static void test_whatsapp__inbound(void)
{
  void *st = state_new(CONFIG, CREDS);
  char *body;
  seen s;

  CHECK_OK(parse_hook(st, &s, INBOUND_BODY));
  CHECK(s.ninbound == 1 && s.nstatus == 0);
  CHECK_STR(s.from, "+14155550100");     /* E.164 */
  CHECK_STR(s.to, "+15550783881");
  CHECK_STR(s.text, "Ol\xc3\xa1 \xf0\x9f\x98\x80");
  CHECK_STR(s.in_id,
            "wamid.HBgLMTQxNTU1NTAxMDAVAgASGBQzQUE5NTU4QjE3RjNGMjU3RjhBRQA=");
  CHECK(s.in_at == INT64_C(1700000200000));
  CHECK(s.nmedia == 0);
  /* an image with a caption: its media id */
  body = notification("\"messages\":[{\"from\":\"4915112345678\",\"id\":"
                      "\"wamid.X\",\"timestamp\":\"1700000300\",\"type\":"
                      "\"image\",\"image\":{\"caption\":\"look\",\"mime_type\":"
                      "\"image/jpeg\",\"sha256\":\"abc\",\"id\":"
                      "\"1234567890123456\"}}]");
  CHECK_OK(parse_hook(st, &s, body));
  free(body);
  CHECK(s.ninbound == 1);
  CHECK_STR(s.from, "+4915112345678");
  CHECK_STR(s.text, "look");
  CHECK(s.nmedia == 1);
  CHECK_STR(s.media, "whatsapp-media:1234567890123456");
  /* a button reply; a location (no text, still a message) */
  body = notification("\"messages\":[{\"from\":\"14155550100\",\"id\":"
                      "\"wamid.Y\",\"timestamp\":\"1700000400\",\"type\":"
                      "\"interactive\",\"interactive\":{\"type\":"
                      "\"button_reply\",\"button_reply\":{\"id\":\"b1\","
                      "\"title\":\"Yes\"}}},{\"from\":\"14155550100\",\"id\":"
                      "\"wamid.Z\",\"timestamp\":\"1700000401\",\"type\":"
                      "\"location\",\"location\":{\"latitude\":1}}]");
  CHECK_OK(parse_hook(st, &s, body));
  free(body);
  CHECK(s.ninbound == 2);
  CHECK(!s.has_text && s.nmedia == 0);   /* the last one: the location */
  WA->fini(st);
}

static void test_whatsapp__malformed(void)
{
  static const char *const values[] = {
    "\"statuses\":{}",
    "\"statuses\":[{\"status\":\"sent\"}]",
    "\"statuses\":[{\"id\":\"wamid.A\"}]",
    "\"statuses\":[{\"id\":\"wamid.A\",\"status\":\"sent\",\"timestamp\":"
    "\"soon\"}]",
    "\"statuses\":[1]",
    "\"messages\":[{\"from\":\"+14155550100\",\"id\":\"wamid.A\",\"type\":"
    "\"text\",\"text\":{\"body\":\"x\"}}]",
    "\"messages\":[{\"from\":\"14155550100\",\"type\":\"text\",\"text\":"
    "{\"body\":\"x\"}}]",
    "\"messages\":[{\"from\":\"14155550100\",\"id\":\"wamid.A\",\"type\":"
    "\"text\",\"text\":{}}]",
    "\"messages\":[{\"from\":\"14155550100\",\"id\":\"wamid.A\",\"type\":"
    "\"image\",\"image\":{\"id\":\"../x\"}}]",
    /* a good status, then a bad message: nothing is reported */
    "\"statuses\":[{\"id\":\"wamid.A\",\"status\":\"sent\"}],\"messages\":"
    "[{\"from\":\"x\",\"id\":\"wamid.B\",\"type\":\"text\"}]",
  };
  static const char *const bodies[] = {
    "", "[]", "not json", "{\"object\":\"page\",\"entry\":[]}",
    "{\"object\":\"whatsapp_business_account\"}",
    "{\"object\":\"whatsapp_business_account\",\"entry\":[{}]}",
    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":"
    "[{\"value\":{}}]}]}",
    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":"
    "[{\"field\":\"messages\",\"value\":{}}]}]}",
  };
  void *st = state_new(CONFIG, CREDS);
  vc_event_sink sink;
  hook k;
  seen s;
  int rc;

  for (size_t i = 0; i < VC_ARRAY_SIZE(values); i++) {
    char *body = notification(values[i]);
    rc = parse_hook(st, &s, body);
    if (rc != VC_EINVALID)
      fprintf(stderr, "  value %zu: %d\n", i, rc);
    CHECK(rc == VC_EINVALID);
    CHECK(s.nstatus == 0 && s.ninbound == 0);
    free(body);
  }
  for (size_t i = 0; i < VC_ARRAY_SIZE(bodies); i++) {
    rc = parse_hook(st, &s, bodies[i]);
    if (rc >= 0)
      fprintf(stderr, "  body %zu accepted\n", i);
    CHECK(rc == VC_EINVALID || rc == VC_ETOOBIG || rc == VC_EENCODING);
    CHECK(s.nstatus == 0 && s.ninbound == 0);
  }
  /* JSON only */
  vc__sink_init(&sink, on_status, on_inbound, &s);
  hook_set(&k, "POST", "/webhooks/x", STATUS_BODY, STATUS_SIG);
  k.h[1].value = "application/x-www-form-urlencoded";
  CHECK_RC(WA->parse_webhook(st, &k.req, &sink), VC_EINVALID);
  vc__sink_fini(&sink);
  WA->fini(st);
}

VC_TESTS(
  VC_TEST(test_whatsapp__vtable),
  VC_TEST(test_whatsapp__init),
  VC_TEST(test_whatsapp__text),
  VC_TEST(test_whatsapp__window),
  VC_TEST(test_whatsapp__template),
  VC_TEST(test_whatsapp__bad_templates),
  VC_TEST(test_whatsapp__media_and_limits),
  VC_TEST(test_whatsapp__parse_send),
  VC_TEST(test_whatsapp__meta_vectors),
  VC_TEST(test_whatsapp__hub_vectors_file),
  VC_TEST(test_whatsapp__verify),
  VC_TEST(test_whatsapp__handshake),
  VC_TEST(test_whatsapp__statuses),
  VC_TEST(test_whatsapp__inbound),
  VC_TEST(test_whatsapp__malformed),
)
