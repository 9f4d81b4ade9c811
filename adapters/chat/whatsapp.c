/*
 * WhatsApp Business Cloud API (Meta Graph API): the "whatsapp" adapter.
 *
 * Pure translation (sys/adapter.h): POST {base}/{version}/{phone number
 * id}/messages with a Bearer token and a JSON body (text, template, or
 * media by link), the Graph answer or error, the X-Hub-Signature-256
 * check of a webhook, Meta's GET subscription handshake, and the status
 * and message notifications. Wire facts: providers.md sections 0 and 12.
 *
 * The 24-hour customer service window (VC_CAP_SESSION_WINDOW): a free
 * message goes only within 24 hours of the recipient's latest message on
 * this channel (msg->last_inbound_ms against msg->now_ms, both from the
 * core); otherwise the message must be a template, given in the
 * message's metadata as
 *
 *   {"whatsapp_template": {"name": "order_update",
 *                          "language": "en_US",   (or {"code": ...})
 *                          "components": [ ... Graph's components ... ]}}
 *
 * which is sent as type "template" whatever the window. Our message id
 * travels as biz_opaque_callback_data, which Meta echoes in every status.
 *
 * config:      {"phone_number_id": "<digits>",                required
 *               "api_version": "v26.0",
 *               "base_url": "https://graph.facebook.com"}
 * credentials: {"access_token": "...",                        required
 *               "app_secret": "...",      (webhook signatures)
 *               "verify_token": "..."}    (the GET handshake)
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/text.h"
#include "msg/address.h"
#include "adapters/builtin.h"
#include "adapters/common.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define DEFAULT_BASE_URL "https://graph.facebook.com"
#define DEFAULT_VERSION "v26.0"
#define SIG_HEADER "X-Hub-Signature-256"

#define URL_MAX 2048
#define PHONE_ID_MAX 32
#define TOKEN_MAX 2048               /* Meta's tokens run to a few hundred */
#define SECRET_MAX 256
#define VERIFY_TOKEN_MAX 256
#define TEXT_MAX 4096                /* providers.md 12.2 */
#define ATTACH_MAX 10
#define METADATA_MAX (64 * 1024)
#define TEMPLATE_NAME_MAX 512
#define COMPONENTS_MAX 20
#define ID_MAX 64                    /* our message ids */
#define WAMID_MAX 128
#define ERROR_BODY_MAX (64 * 1024)
#define WEBHOOK_MAX (1024 * 1024)
#define JSON_DEPTH_MAX 16
#define ITEMS_MAX 1000               /* the sink's bound per request */
#define CHALLENGE_MAX 64
#define WINDOW_MS (24LL * 3600 * 1000)
#define PAIR_RATE_WAIT_MS 6000       /* 131056: ~1 message / 6 s per user */

#define BAD(...) vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)

typedef struct wa_state {
  char *send_url;           /* {base}/{version}/{phone_number_id}/messages */
  char *bearer;             /* "Bearer <token>": secret, wiped */
  size_t bearer_len;
  char *app_secret;         /* NULL: webhooks refused */
  size_t app_secret_len;
  int has_verify;
  uint8_t verify_hash[32];  /* SHA-256 of the verify token */
  char phone_number_id[PHONE_ID_MAX + 1];
} wa_state;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static int all_digits(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!vc__is_digit((unsigned char)s[i]))
      return 0;
  return n > 0;
}

/* 1..max of [A-Za-z0-9_-] (plus the bytes in `extra`). */
static int is_word(const char *s, size_t max, const char *extra)
{
  size_t n = s ? strnlen(s, max + 1) : 0;

  if (n == 0 || n > max)
    return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(vc__is_alnum(c) || c == '_' || c == '-' ||
          (extra && c && strchr(extra, c))))
      return 0;
  }
  return 1;
}

/* Text length as WhatsApp's limit reads most strictly: UTF-16 code
 * units (a character outside the BMP counts two). */
static size_t utf16_units(const char *s)
{
  size_t n = 0;

  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c & 0xc0) != 0x80)
      n += c >= 0xf0 ? 2 : 1;
  }
  return n;
}

/* Parse `len` bytes of JSON from outside (no NUL inside). */
static int parse_bytes(cJSON **out, const char *what, const void *data,
                       size_t len, size_t max)
{
  vc_buf text = VC_BUF_INIT;
  int rc;

  *out = NULL;
  if (len > max)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "%s is larger than %zu bytes", what, max);
  if (len == 0 || memchr(data, '\0', len) != NULL)
    return BAD("%s is empty or holds a NUL byte", what);
  if ((rc = vc__buf_put(&text, data, len)) == 0)
    rc = vc__json_parse(out, what, text.ptr, max, JSON_DEPTH_MAX, 1);
  vc_buf_dispose(&text);
  return rc;
}

/* ------------------------------------------------------------------ */
/* init / fini                                                         */

static void wa_fini(void *state)
{
  wa_state *s = state;

  if (s == NULL)
    return;
  if (s->bearer != NULL) {
    vc__wipe(s->bearer, s->bearer_len);
    vc__free(s->bearer);
  }
  if (s->app_secret != NULL) {
    vc__wipe(s->app_secret, s->app_secret_len);
    vc__free(s->app_secret);
  }
  vc__free(s->send_url);
  vc__wipe(s, sizeof(*s));
  vc__free(s);
}

/* "v" and a dotted version: v26.0. */
static int version_ok(const char *v)
{
  size_t a, b;

  if (v[0] != 'v')
    return 0;
  a = strspn(v + 1, "0123456789");
  if (a == 0 || a > 3 || v[1 + a] != '.')
    return 0;
  b = strspn(v + 2 + a, "0123456789");
  return b > 0 && b <= 3 && v[2 + a + b] == '\0';
}

static int read_config(wa_state *s, const cJSON *cfg)
{
  static const char *const keys[] = { "phone_number_id", "api_version",
                                      "base_url" };
  const char *val[3] = { NULL, DEFAULT_VERSION, DEFAULT_BASE_URL };
  char name[68];
  unsigned seen = 0;
  vc_buf url = VC_BUF_INIT;
  size_t base_len = 0;
  int rc;

  for (const cJSON *it = cfg->child; it != NULL; it = it->next) {
    unsigned k = 0;
    while (k < VC_ARRAY_SIZE(keys) && strcmp(it->string, keys[k]) != 0)
      k++;
    if (k == VC_ARRAY_SIZE(keys))
      return BAD("unknown config key '%s'",
                 vc__json_key_name(name, it->string));
    if (seen & (1u << k))
      return BAD("config key '%s' appears twice", it->string);
    seen |= 1u << k;
    if (!cJSON_IsString(it) || it->valuestring == NULL)
      return BAD("config '%s' must be a string", it->string);
    val[k] = it->valuestring;
  }
  if (val[0] == NULL)
    return BAD("config 'phone_number_id' is required");
  if (strlen(val[0]) > PHONE_ID_MAX || !all_digits(val[0], strlen(val[0])))
    return BAD("config 'phone_number_id' must be 1 to %d digits",
               PHONE_ID_MAX);
  if (!version_ok(val[1]))
    return BAD("config 'api_version' must look like \"v26.0\"");
  if ((rc = vc__adapter_check_base_url(val[2], URL_MAX, &base_len)) < 0)
    return rc;
  if ((rc = vc__buf_put(&url, val[2], base_len)) < 0 ||
      (rc = vc__buf_printf(&url, "/%s/%s/messages", val[1], val[0])) < 0) {
    vc_buf_dispose(&url);
    return rc;
  }
  snprintf(s->phone_number_id, sizeof(s->phone_number_id), "%s", val[0]);
  s->send_url = url.ptr;
  return 0;
}

/* A secret of printable ASCII (spaces only where `spaces`); never
 * quoted. */
static int secret_ok(const cJSON *it, size_t max, int spaces)
{
  size_t n;

  if (!cJSON_IsString(it) || it->valuestring == NULL)
    return 0;
  n = strnlen(it->valuestring, max + 1);
  if (n == 0 || n > max)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (it->valuestring[i] < 0x20 || it->valuestring[i] >= 0x7f ||
        (it->valuestring[i] == ' ' && !spaces))
      return 0;
  return 1;
}

static int read_credentials(wa_state *s, const cJSON *cred)
{
  static const char *const keys[] = { "access_token", "app_secret",
                                      "verify_token" };
  const cJSON *val[3] = { NULL, NULL, NULL };
  vc_buf b = VC_BUF_INIT;
  int rc;

  for (const cJSON *it = cred->child; it != NULL; it = it->next) {
    unsigned k = 0;
    while (k < VC_ARRAY_SIZE(keys) && strcmp(it->string, keys[k]) != 0)
      k++;
    if (k == VC_ARRAY_SIZE(keys))
      /* not quoted: a secret pasted as a key would be */
      return BAD("unknown credential key");
    if (val[k] != NULL)
      return BAD("credential '%s' appears twice", it->string);
    val[k] = it;
  }
  if (val[0] == NULL)
    return BAD("credential 'access_token' is required");
  /* The token goes into a header line: no spaces. The others are
   * only ever hashed. */
  if (!secret_ok(val[0], TOKEN_MAX, 0))
    return BAD("credential 'access_token' must be 1 to %d printable "
               "characters without spaces", TOKEN_MAX);
  if (val[1] != NULL && !secret_ok(val[1], SECRET_MAX, 1))
    return BAD("credential 'app_secret' must be 1 to %d printable "
               "ASCII characters", SECRET_MAX);
  if (val[2] != NULL && !secret_ok(val[2], VERIFY_TOKEN_MAX, 1))
    return BAD("credential 'verify_token' must be 1 to %d printable "
               "ASCII characters", VERIFY_TOKEN_MAX);
  if ((rc = vc__buf_puts(&b, "Bearer ")) < 0 ||
      (rc = vc__buf_puts(&b, val[0]->valuestring)) < 0) {
    vc__buf_wipe(&b);
    return rc;
  }
  s->bearer = b.ptr;
  s->bearer_len = b.size;
  if (val[1] != NULL) {
    s->app_secret_len = strlen(val[1]->valuestring);
    if ((s->app_secret = vc__strdup(val[1]->valuestring)) == NULL)
      return vc_error_set_oom();
  }
  if (val[2] != NULL) {
    if ((rc = vc__digest(s->verify_hash, VC__MD_SHA256,
                         val[2]->valuestring,
                         strlen(val[2]->valuestring))) < 0)
      return rc;
    s->has_verify = 1;
  }
  return 0;
}

static int wa_init(void **state, const char *config_json,
                   const char *credentials_json)
{
  cJSON *cfg = NULL, *cred = NULL;
  wa_state *s = NULL;
  int rc;

  VC_ASSERT_ARG(state);
  *state = NULL;
  if ((rc = vc__adapter_parse_config(&cfg, config_json, "config")) < 0 ||
      (rc = vc__adapter_parse_config(&cred, credentials_json,
                                     "credentials")) < 0)
    goto out;
  if ((s = vc__calloc(1, sizeof(*s))) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  if ((rc = read_config(s, cfg)) < 0 || (rc = read_credentials(s, cred)) < 0)
    goto out;
  *state = s;
  s = NULL;
out:
  cJSON_Delete(cfg);
  vc__json_wipe(cred);
  cJSON_Delete(cred);
  wa_fini(s);
  return rc;
}

/* ------------------------------------------------------------------ */
/* The template in a message's metadata                                */

/*
 * The checked template object for the request, from the metadata's
 * "whatsapp_template", or NULL when the metadata has none.
 */
static int read_template(cJSON **out, const char *metadata)
{
  cJSON *meta = NULL, *t, *tpl = NULL, *lang, *comps;
  const cJSON *l, *c, *it;
  const char *name, *code, *policy = NULL;
  int rc;

  *out = NULL;
  if (metadata == NULL)
    return 0;
  if ((rc = vc__json_parse(&meta, "metadata", metadata, METADATA_MAX,
                           JSON_DEPTH_MAX, 1)) < 0)
    return rc;
  t = cJSON_GetObjectItemCaseSensitive(meta, "whatsapp_template");
  if (t == NULL || cJSON_IsNull(t)) {
    rc = 0;
    goto out;
  }
  rc = VC_EINVALID;
  name = vc__json_str(t, "name");
  l = cJSON_GetObjectItemCaseSensitive(t, "language");
  code = cJSON_IsString(l) ? l->valuestring : vc__json_str(l, "code");
  if (cJSON_IsObject(l))
    policy = vc__json_str(l, "policy");
  c = cJSON_GetObjectItemCaseSensitive(t, "components");
  if (!cJSON_IsObject(t)) {
    BAD("metadata 'whatsapp_template' must be an object");
  } else if (name == NULL || !is_word(name, TEMPLATE_NAME_MAX, NULL)) {
    BAD("whatsapp_template 'name' must be 1 to %d of a-z 0-9 _ -",
        TEMPLATE_NAME_MAX);
  } else if (code == NULL || !is_word(code, 16, NULL)) {
    BAD("whatsapp_template 'language' must be a language code such as "
        "\"en_US\" (or {\"code\": ...})");
  } else if (policy != NULL && strcmp(policy, "deterministic") != 0) {
    BAD("whatsapp_template language 'policy' can only be "
        "\"deterministic\"");
  } else if (c != NULL && (!cJSON_IsArray(c) ||
                           cJSON_GetArraySize(c) > COMPONENTS_MAX)) {
    BAD("whatsapp_template 'components' must be a list of at most %d",
        COMPONENTS_MAX);
  } else {
    rc = 0;
    cJSON_ArrayForEach(it, c)
      if (!cJSON_IsObject(it) || vc__json_str(it, "type") == NULL) {
        rc = BAD("each whatsapp_template component needs a 'type'");
        break;
      }
  }
  if (rc < 0)
    goto out;
  if ((tpl = cJSON_CreateObject()) == NULL ||
      cJSON_AddStringToObject(tpl, "name", name) == NULL ||
      (lang = cJSON_AddObjectToObject(tpl, "language")) == NULL ||
      (policy != NULL &&
       cJSON_AddStringToObject(lang, "policy", policy) == NULL) ||
      cJSON_AddStringToObject(lang, "code", code) == NULL)
    goto oom;
  if (c != NULL) {
    /* Graph's components as the caller wrote them */
    if ((comps = cJSON_Duplicate(c, 1)) == NULL)
      goto oom;
    cJSON_AddItemToObject(tpl, "components", comps);
  }
  *out = tpl;
  tpl = NULL;
  goto out;
oom:
  rc = vc_error_set_oom();
out:
  cJSON_Delete(tpl);
  cJSON_Delete(meta);
  return rc;
}

/* ------------------------------------------------------------------ */
/* count_parts / build_send                                            */

/* 1 when a free-form message may go: the recipient wrote within 24 h. */
static int window_open(const vc_outbound *m)
{
  return m->last_inbound_ms > 0 && m->now_ms >= m->last_inbound_ms - 60000 &&
         m->now_ms - m->last_inbound_ms < WINDOW_MS;
}

static int check_attachment(const vc_attachment *a, size_t i)
{
  if (a->url == NULL && a->data != NULL && a->len > 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                         "attachment %zu has bytes only: WhatsApp media "
                         "must be uploaded first, which this adapter does "
                         "not do; give a URL", i + 1);
  if (a->url == NULL)
    return BAD("attachment %zu has neither a URL nor bytes", i + 1);
  if (vc__check_token("attachment URL", a->url, URL_MAX, NULL, "!-~") < 0 ||
      strncmp(a->url, "https://", 8) != 0)
    return BAD("attachment %zu must be an https URL without spaces", i + 1);
  if (a->filename != NULL &&
      vc__check_text("attachment filename", a->filename, 240, 0) < 0)
    return vc__error_code();
  return 0;
}

/*
 * Everything WhatsApp would refuse, refused before anything is built:
 * the number of requests, with the template (or NULL) in *tpl and the
 * recipient's digits in `to`.
 */
static int plan(const vc_outbound *m, char *to, cJSON **tpl)
{
  int has_text = vc__present(m->text), rc;

  *tpl = NULL;
  if (vc__addr_whatsapp(to, m->to) < 0)
    return vc__error_wrap("recipient");
  if (m->message_id != NULL && !is_word(m->message_id, ID_MAX, NULL))
    return BAD("message id must be 1 to %d of A-Z a-z 0-9 _ -", ID_MAX);
  if ((rc = read_template(tpl, m->metadata_json)) < 0)
    return rc;
  if (*tpl != NULL) {
    /* A template carries its own media, in its header component. */
    if (m->nattachments > 0) {
      cJSON_Delete(*tpl);
      *tpl = NULL;
      return BAD("a WhatsApp template takes no attachments; put media in "
                 "its header component");
    }
    return 1;
  }
  if (!window_open(m))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "outside the 24-hour customer service window; a "
                         "WhatsApp template is required");
  if (has_text) {
    if ((rc = vc__check_text("text", m->text, 4 * TEXT_MAX, 1)) < 0)
      return rc;
    if (utf16_units(m->text) > TEXT_MAX)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "text is longer than WhatsApp's %d characters",
                           TEXT_MAX);
  }
  if (m->nattachments > 0 && m->attachments == NULL)
    return BAD("invalid argument: 'attachments'");
  if (m->nattachments > ATTACH_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "more than %d attachments", ATTACH_MAX);
  for (size_t i = 0; i < m->nattachments; i++)
    if ((rc = check_attachment(&m->attachments[i], i)) < 0)
      return rc;
  if (!has_text && m->nattachments == 0)
    return BAD("a WhatsApp message needs a text, an attachment URL or a "
               "template");
  return has_text + (int)m->nattachments;
}

static int wa_count_parts(void *state, const vc_outbound *msg)
{
  char to[VC__ADDR_WHATSAPP_MAX];
  cJSON *tpl = NULL;
  int n;

  VC_ASSERT_ARG(state);
  VC_ASSERT_ARG(msg);
  VC_CHECK_VERSION(msg, VC_OUTBOUND_VERSION, "vc_outbound");
  n = plan(msg, to, &tpl);
  cJSON_Delete(tpl);
  return n;
}

/* The media type for an attachment's content type. */
static const char *media_type(const vc_attachment *a)
{
  const char *t = a->content_type ? a->content_type : "";

  if (strncasecmp(t, "image/", 6) == 0 && strcasecmp(t, "image/webp") != 0)
    return "image";
  if (strcasecmp(t, "image/webp") == 0)
    return "sticker";
  if (strncasecmp(t, "video/", 6) == 0)
    return "video";
  if (strncasecmp(t, "audio/", 6) == 0)
    return "audio";
  return "document";
}

static int wa_build_send(void *state, const vc_outbound *msg,
                         vc_http_out *req)
{
  const wa_state *s = state;
  char to[VC__ADDR_WHATSAPP_MAX];
  cJSON *root = NULL, *tpl = NULL, *o;
  char *body = NULL;
  int n, rc = 0, has_text;

  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(msg);
  VC_ASSERT_ARG(req);
  VC_CHECK_VERSION(msg, VC_OUTBOUND_VERSION, "vc_outbound");
  if ((n = plan(msg, to, &tpl)) < 0)
    return n;
  if (msg->part >= (unsigned)n) {
    rc = BAD("part %u of a message of %d parts", msg->part, n);
    goto out;
  }
  has_text = tpl == NULL && vc__present(msg->text);
  if ((root = cJSON_CreateObject()) == NULL ||
      cJSON_AddStringToObject(root, "messaging_product", "whatsapp") == NULL ||
      cJSON_AddStringToObject(root, "recipient_type", "individual") == NULL ||
      cJSON_AddStringToObject(root, "to", to) == NULL)
    goto oom;
  if (tpl != NULL) {
    if (cJSON_AddStringToObject(root, "type", "template") == NULL)
      goto oom;
    cJSON_AddItemToObject(root, "template", tpl);
    tpl = NULL;
  } else if (has_text && msg->part == 0) {
    if (cJSON_AddStringToObject(root, "type", "text") == NULL ||
        (o = cJSON_AddObjectToObject(root, "text")) == NULL ||
        cJSON_AddFalseToObject(o, "preview_url") == NULL ||
        cJSON_AddStringToObject(o, "body", msg->text) == NULL)
      goto oom;
  } else {
    const vc_attachment *a = &msg->attachments[msg->part - has_text];
    const char *type = media_type(a);
    if (cJSON_AddStringToObject(root, "type", type) == NULL ||
        (o = cJSON_AddObjectToObject(root, type)) == NULL ||
        cJSON_AddStringToObject(o, "link", a->url) == NULL ||
        (strcmp(type, "document") == 0 && vc__present(a->filename) &&
         cJSON_AddStringToObject(o, "filename", a->filename) == NULL))
      goto oom;
  }
  /* Meta echoes it in every status of the message. */
  if (vc__present(msg->message_id) &&
      cJSON_AddStringToObject(root, "biz_opaque_callback_data",
                              msg->message_id) == NULL)
    goto oom;
  if ((body = cJSON_PrintUnformatted(root)) == NULL)
    goto oom;
  if ((rc = vc_http_out_set_target(req, "POST", s->send_url)) < 0 ||
      (rc = vc_http_out_add_header(req, "Authorization", s->bearer)) < 0 ||
      (rc = vc_http_out_add_header(req, "Content-Type",
                                   "application/json")) < 0 ||
      (rc = vc_http_out_set_body(req, body, strlen(body))) < 0)
    goto out;
  goto out;
oom:
  rc = vc_error_set_oom();
out:
  cJSON_free(body);
  cJSON_Delete(root);
  cJSON_Delete(tpl);
  return rc;
}

/* ------------------------------------------------------------------ */
/* parse_send                                                          */

/* Graph error codes (providers.md 12.3, Meta's error-code list); a code
 * not listed falls back to the HTTP status. */
typedef struct code_rule {
  long lo, hi;
  int outcome;
  int error;
} code_rule;

static const code_rule CODE_RULES[] = {
  /* transient: throughput, pair and account rate limits, outages */
  { 4, 4, VC_SEND_RETRY, VC_ERATELIMIT },           /* app call limit */
  { 80007, 80007, VC_SEND_RETRY, VC_ERATELIMIT },   /* WABA rate limit */
  { 130429, 130429, VC_SEND_RETRY, VC_ERATELIMIT }, /* throughput */
  { 131048, 131048, VC_SEND_RETRY, VC_ERATELIMIT }, /* spam rate limit */
  { 131056, 131056, VC_SEND_RETRY, VC_ERATELIMIT }, /* pair rate limit */
  { 1, 2, VC_SEND_RETRY, VC_EPROVIDER },            /* unknown, service */
  { 131000, 131000, VC_SEND_RETRY, VC_EPROVIDER },  /* something wrong */
  { 131016, 131016, VC_SEND_RETRY, VC_EPROVIDER },  /* overloaded */
  { 133004, 133004, VC_SEND_RETRY, VC_EPROVIDER },  /* unavailable */
  /* this channel cannot send: token, permissions, account */
  { 0, 0, VC_SEND_FAILOVER, VC_EAUTH },             /* AuthException */
  { 3, 3, VC_SEND_FAILOVER, VC_EAUTH },             /* capability */
  { 10, 10, VC_SEND_FAILOVER, VC_EAUTH },           /* permission */
  { 104, 104, VC_SEND_FAILOVER, VC_EAUTH },         /* no token */
  { 190, 190, VC_SEND_FAILOVER, VC_EAUTH },         /* token expired */
  { 200, 299, VC_SEND_FAILOVER, VC_EAUTH },         /* permissions */
  { 368, 368, VC_SEND_FAILOVER, VC_EPROVIDER },     /* policy block */
  { 131005, 131005, VC_SEND_FAILOVER, VC_EAUTH },   /* access denied */
  { 131031, 131031, VC_SEND_FAILOVER, VC_EPROVIDER }, /* account locked */
  { 131042, 131042, VC_SEND_FAILOVER, VC_EPROVIDER }, /* payment */
  { 131045, 131045, VC_SEND_FAILOVER, VC_EPROVIDER }, /* certificate */
  { 133010, 133010, VC_SEND_FAILOVER, VC_EPROVIDER }, /* not registered */
  /* this message: every channel on this number would refuse it */
  { 100, 100, VC_SEND_REJECTED, VC_EPROVIDER },     /* invalid parameter */
  { 470, 470, VC_SEND_REJECTED, VC_EPROVIDER },     /* old re-engagement */
  { 131008, 131009, VC_SEND_REJECTED, VC_EPROVIDER }, /* parameters */
  { 131021, 131021, VC_SEND_REJECTED, VC_EPROVIDER }, /* to == from */
  { 131026, 131026, VC_SEND_REJECTED, VC_EPROVIDER }, /* undeliverable */
  { 131047, 131047, VC_SEND_REJECTED, VC_ESTATE },  /* window closed */
  { 131049, 131050, VC_SEND_REJECTED, VC_EPROVIDER }, /* marketing */
  { 131051, 131053, VC_SEND_REJECTED, VC_EPROVIDER }, /* type, media */
  { 132000, 132999, VC_SEND_REJECTED, VC_EPROVIDER }, /* templates */
};

static void classify(vc_send_result *out, int status, long code)
{
  for (size_t i = 0; code >= 0 && i < VC_ARRAY_SIZE(CODE_RULES); i++)
    if (code >= CODE_RULES[i].lo && code <= CODE_RULES[i].hi) {
      out->outcome = CODE_RULES[i].outcome;
      out->error = CODE_RULES[i].error;
      return;
    }
  out->outcome = VC_SEND_RETRY;
  out->error = VC_EPROVIDER;
  if (status == 429) {
    out->error = VC_ERATELIMIT;
  } else if (status == 401 || status == 403) {
    out->outcome = VC_SEND_FAILOVER;
    out->error = VC_EAUTH;
  } else if (status == 404) {
    /* a wrong phone number id: this channel is misconfigured */
    out->outcome = VC_SEND_FAILOVER;
  } else if (status == 400 || status == 413 || status == 422) {
    out->outcome = VC_SEND_REJECTED;
    out->error = status == 413 ? VC_ETOOBIG : VC_EPROVIDER;
  }
}

static int wamid_ok(const char *s)
{
  return is_word(s, WAMID_MAX, ".=+/");
}

static int wa_parse_send(void *state, const vc_outbound *msg,
                         const vc_http_response *res, vc_send_result *out)
{
  cJSON *root = NULL;
  const cJSON *err, *v;
  const char *id, *text, *details;
  char line[512];
  long code = -1;
  int st;

  VC_UNUSED(state);
  VC_UNUSED(msg);
  VC_ASSERT_ARG(res);
  VC_ASSERT_ARG(out);
  st = res->status;
  if (res->body.ptr != NULL && res->body.size > 0 &&
      parse_bytes(&root, "answer", res->body.ptr, res->body.size,
                  ERROR_BODY_MAX) < 0) {
    vc_error_clear();
    root = NULL;
  }
  if (st >= 200 && st < 300) {
    /* {"messages": [{"id": "wamid..."}]}: the id statuses refer to */
    id = vc__json_str(cJSON_GetArrayItem(
                    cJSON_GetObjectItemCaseSensitive(root, "messages"), 0),
                  "id");
    if (id != NULL && wamid_ok(id)) {
      out->outcome = VC_SEND_ACCEPTED;
      snprintf(out->provider_id, sizeof(out->provider_id), "%s", id);
    } else {
      out->outcome = VC_SEND_RETRY;
      out->error = VC_EPROVIDER;
      snprintf(out->error_message, sizeof(out->error_message),
               "WhatsApp answered %d without a message id", st);
    }
    cJSON_Delete(root);
    return 0;
  }
  /* {"error": {"message", "type", "code", "error_subcode",
   *            "error_data": {"details"}, "fbtrace_id"}} */
  err = cJSON_GetObjectItemCaseSensitive(root, "error");
  v = cJSON_GetObjectItemCaseSensitive(err, "code");
  if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e9 &&
      v->valuedouble == (double)(long)v->valuedouble)
    code = (long)v->valuedouble;
  if (code >= 0)
    snprintf(out->provider_code, sizeof(out->provider_code), "%ld", code);
  text = vc__json_str(err, "message");
  details = vc__json_str(cJSON_GetObjectItemCaseSensitive(err, "error_data"),
                     "details");
  if (vc__present(text) && vc__present(details) && strcmp(text, details) != 0)
    snprintf(line, sizeof(line), "%s: %s", text, details);
  else if (vc__present(text))
    snprintf(line, sizeof(line), "%s", text);
  else
    snprintf(line, sizeof(line), "HTTP %d from WhatsApp", st);
  vc__copy_line(out->error_message, sizeof(out->error_message), line,
                strlen(line));
  classify(out, st, code);
  if (code == 131056)
    out->retry_after_ms = PAIR_RATE_WAIT_MS;
  cJSON_Delete(root);
  return 0;
}

/* ------------------------------------------------------------------ */
/* verify_webhook                                                      */

static int auth_fail(const char *why)
{
  return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH, "%s", why);
}

static int is_method(const vc_http_request *req, const char *m)
{
  return req->method != NULL && strcmp(req->method, m) == 0;
}

/* The query of a request target, parsed. */
static int query_of(vc__form *f, const vc_http_request *req)
{
  const char *q = req->target ? strchr(req->target, '?') : NULL;

  f->pairs = NULL;
  f->n = 0;
  if (q == NULL)
    return 0;
  q++;
  return vc__form_parse(f, q, strcspn(q, "#"), 20);
}

/* Meta's GET handshake: hub.mode=subscribe and a challenge to echo. */
static int handshake_shape(const vc__form *f)
{
  const char *mode = vc__form_get(f, "hub.mode");
  const char *challenge = vc__form_get(f, "hub.challenge");

  return mode != NULL && strcmp(mode, "subscribe") == 0 &&
         is_word(challenge, CHALLENGE_MAX, NULL);
}

static int wa_verify_webhook(void *state, const vc_http_request *req,
                             vc_webhook_env *env)
{
  const wa_state *s = state;
  const char *sig;
  uint8_t mac[32];
  char hex[65], got[65];
  vc__form f;
  int rc, ok;

  VC_UNUSED(env);
  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(req->body != NULL || req->body_len == 0);
  if (is_method(req, "GET")) {
    /* The handshake changes nothing: parse_webhook answers it, 200 with
     * the challenge for the right verify token, 403 otherwise. */
    if ((rc = query_of(&f, req)) < 0)
      return auth_fail("a GET is only Meta's subscription handshake");
    ok = handshake_shape(&f);
    vc__form_free(&f);
    return ok ? 0 : auth_fail("a GET is only Meta's subscription "
                              "handshake (hub.mode=subscribe, "
                              "hub.challenge)");
  }
  if (!is_method(req, "POST"))
    return auth_fail("Meta posts its notifications");
  if (s->app_secret == NULL)
    return auth_fail("no app secret configured (credential 'app_secret')");
  if (req->body_len > WEBHOOK_MAX)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_ETOOBIG,
                         "webhook body is larger than %d bytes", WEBHOOK_MAX);
  if ((sig = vc_http_request_header(req, SIG_HEADER)) == NULL)
    return auth_fail("missing " SIG_HEADER " header");
  while (*sig == ' ' || *sig == '\t')
    sig++;
  if (strncasecmp(sig, "sha256=", 7) != 0 || strnlen(sig + 7, 66) < 64 ||
      !is_word(sig + 7, 64, NULL) ||
      (sig[71] != '\0' && sig[71] != ' ' && sig[71] != '\t'))
    return auth_fail(SIG_HEADER " is not sha256=<64 hex digits>");
  for (int i = 0; i < 64; i++) {
    char c = sig[7 + i];
    got[i] = (char)(c >= 'A' && c <= 'F' ? c | 0x20 : c);
  }
  got[64] = '\0';
  /* The raw bytes as received: Meta signs its own escaped JSON. */
  if ((rc = vc__hmac(mac, VC__MD_SHA256, s->app_secret, s->app_secret_len,
                     req->body_len ? req->body : (const uint8_t *)"",
                     req->body_len)) < 0)
    return rc;
  vc__hex_encode(hex, mac, sizeof(mac));
  if (!vc__ct_equal(hex, got, 64))
    return auth_fail(SIG_HEADER " does not verify");
  return 0;
}

/* ------------------------------------------------------------------ */
/* parse_webhook                                                       */

static int bad_hook(const char *what, size_t i, const char *why)
{
  return BAD("WhatsApp %s %zu: %s", what, i, why);
}

/* Unix seconds as Meta writes them (a string of digits, or a number). */
static int read_time(const cJSON *v, int64_t *ms)
{
  *ms = 0;
  if (v == NULL)
    return 0;
  if (cJSON_IsString(v) && strlen(v->valuestring) <= 11 &&
      all_digits(v->valuestring, strlen(v->valuestring))) {
    *ms = (int64_t)strtoll(v->valuestring, NULL, 10) * 1000;
    return 0;
  }
  if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e11) {
    *ms = (int64_t)v->valuedouble * 1000;
    return 0;
  }
  return -1;
}

static int map_status(const char *s)
{
  if (strcmp(s, "sent") == 0)
    return VC_MSG_SENT;
  if (strcmp(s, "delivered") == 0)
    return VC_MSG_DELIVERED;
  if (strcmp(s, "read") == 0)
    return VC_MSG_READ;
  /* failed after Meta accepted it (providers.md 0a.8) */
  if (strcmp(s, "failed") == 0)
    return VC_MSG_UNDELIVERED;
  /* deleted, warning, played and new ones: nothing to record */
  return 0;
}

static int one_status(const cJSON *v, size_t i, vc_event_sink *sink)
{
  const char *id = vc__json_str(v, "id"), *status = vc__json_str(v, "status");
  const char *opaque = vc__json_str(v, "biz_opaque_callback_data");
  const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
                                        v, "errors"), 0);
  char event_id[WAMID_MAX + 32], code[24], text[512];
  const char *title, *details;
  vc_status_update u;
  int64_t at;
  int mapped;

  if (!cJSON_IsObject(v))
    return bad_hook("status", i, "not an object");
  if (id == NULL || !wamid_ok(id))
    return bad_hook("status", i, "no valid message id");
  if (status == NULL || !is_word(status, 32, NULL))
    return bad_hook("status", i, "no valid status");
  if (read_time(cJSON_GetObjectItemCaseSensitive(v, "timestamp"), &at) < 0)
    return bad_hook("status", i, "timestamp is not a Unix time");
  if ((mapped = map_status(status)) == 0 || sink == NULL)
    return 0;
  memset(&u, 0, sizeof(u));
  u.version = VC_STATUS_UPDATE_VERSION;
  /* our message id, when it is one we sent */
  u.message_id = opaque != NULL && is_word(opaque, ID_MAX, NULL) ? opaque
                                                                 : NULL;
  u.provider_id = id;
  u.status = mapped;
  snprintf(event_id, sizeof(event_id), "%s:%s", id, status);
  u.event_id = event_id;
  u.occurred_at = at;
  if (mapped == VC_MSG_UNDELIVERED && cJSON_IsObject(e)) {
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    if (cJSON_IsNumber(c) && c->valuedouble >= 0 && c->valuedouble < 1e9) {
      snprintf(code, sizeof(code), "%ld", (long)c->valuedouble);
      u.provider_code = code;
    }
    title = vc__json_str(e, "title");
    if (title == NULL)
      title = vc__json_str(e, "message");
    details = vc__json_str(cJSON_GetObjectItemCaseSensitive(e, "error_data"),
                       "details");
    if (vc__present(title) || vc__present(details)) {
      char line[1024];
      snprintf(line, sizeof(line), "%s%s%s", vc__present(title) ? title : "",
               vc__present(title) && vc__present(details) ? ": " : "",
               vc__present(details) ? details : "");
      vc__copy_line(text, sizeof(text), line, strlen(line));
      u.error_message = text;
    }
  }
  return vc_event_sink_status(sink, &u);
}

/* What a user's message says, and its media ids. */
static int message_content(const cJSON *m, const char *type, size_t i,
                           const char **text, char *media, size_t cap)
{
  static const char *const kinds[] = { "image", "video", "audio",
                                       "document", "sticker" };
  const cJSON *o = cJSON_GetObjectItemCaseSensitive(m, type);

  *text = NULL;
  media[0] = '\0';
  if (strcmp(type, "text") == 0) {
    if ((*text = vc__json_str(o, "body")) == NULL)
      return bad_hook("message", i, "text without a body");
    return 0;
  }
  for (size_t k = 0; k < VC_ARRAY_SIZE(kinds); k++)
    if (strcmp(type, kinds[k]) == 0) {
      const char *id = vc__json_str(o, "id");
      if (!is_word(id, 128, NULL))
        return bad_hook("message", i, "media without a valid id");
      /* the id fetches the file through Graph's media endpoint */
      snprintf(media, cap, "whatsapp-media:%s", id);
      *text = vc__json_str(o, "caption");
      return 0;
    }
  if (strcmp(type, "button") == 0) {
    *text = vc__json_str(o, "text");
  } else if (strcmp(type, "interactive") == 0) {
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "button_reply");
    if (r == NULL)
      r = cJSON_GetObjectItemCaseSensitive(o, "list_reply");
    *text = vc__json_str(r, "title");
  } else if (strcmp(type, "reaction") == 0) {
    *text = vc__json_str(o, "emoji");
  }
  /* location, contacts, order, unsupported...: the message counts (it
   * opens the service window) without text */
  return 0;
}

static int one_message(const cJSON *m, size_t i, const char *to,
                       vc_event_sink *sink)
{
  const char *from = vc__json_str(m, "from"), *id = vc__json_str(m, "id");
  const char *type = vc__json_str(m, "type"), *text;
  char sender[20], media[160];
  const char *urls[1];
  vc_inbound in;
  int64_t at;
  int rc;

  if (!cJSON_IsObject(m))
    return bad_hook("message", i, "not an object");
  if (from == NULL || strlen(from) > 15 || !all_digits(from, strlen(from)) ||
      from[0] == '0')
    return bad_hook("message", i, "'from' is not a WhatsApp number");
  if (id == NULL || !wamid_ok(id))
    return bad_hook("message", i, "no valid message id");
  if (type == NULL || !is_word(type, 32, NULL))
    return bad_hook("message", i, "no valid type");
  if (read_time(cJSON_GetObjectItemCaseSensitive(m, "timestamp"), &at) < 0)
    return bad_hook("message", i, "timestamp is not a Unix time");
  if ((rc = message_content(m, type, i, &text, media, sizeof(media))) < 0 ||
      sink == NULL)
    return rc;
  /* E.164 with its '+' */
  snprintf(sender, sizeof(sender), "+%s", from);
  urls[0] = media;
  memset(&in, 0, sizeof(in));
  in.version = VC_INBOUND_VERSION;
  in.provider_id = id;
  in.from = sender;
  in.to = to;
  in.text = text;
  in.media_urls = media[0] ? urls : NULL;
  in.nmedia = media[0] ? 1 : 0;
  in.occurred_at = at;
  return vc_event_sink_inbound(sink, &in);
}

/*
 * Walk the notification: check everything when `sink` is NULL, report
 * when it is not (so a malformed batch reports nothing). Changes for
 * another phone number of the account are skipped: each channel is one
 * number.
 */
static int walk(const wa_state *s, const cJSON *root, vc_event_sink *sink)
{
  const cJSON *entry, *e, *change, *v, *list, *it;
  const char *object = vc__json_str(root, "object");
  size_t nitems = 0, i;
  int rc;

  if (object == NULL || strcmp(object, "whatsapp_business_account") != 0)
    return BAD("WhatsApp notification: 'object' is not "
               "\"whatsapp_business_account\"");
  entry = cJSON_GetObjectItemCaseSensitive(root, "entry");
  if (!cJSON_IsArray(entry))
    return BAD("WhatsApp notification: 'entry' is not a list");
  cJSON_ArrayForEach(e, entry) {
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(e, "changes");
    if (!cJSON_IsObject(e) || !cJSON_IsArray(changes))
      return BAD("WhatsApp notification: an entry has no 'changes' list");
    cJSON_ArrayForEach(change, changes) {
      const char *field = vc__json_str(change, "field"), *pnid, *disp;
      char to[20];
      v = cJSON_GetObjectItemCaseSensitive(change, "value");
      if (!cJSON_IsObject(change) || field == NULL)
        return BAD("WhatsApp notification: a change has no 'field'");
      if (strcmp(field, "messages") != 0)
        continue;         /* template status, account updates... */
      if (!cJSON_IsObject(v))
        return BAD("WhatsApp notification: a change has no 'value'");
      pnid = vc__json_str(cJSON_GetObjectItemCaseSensitive(v, "metadata"),
                      "phone_number_id");
      disp = vc__json_str(cJSON_GetObjectItemCaseSensitive(v, "metadata"),
                      "display_phone_number");
      if (pnid == NULL)
        return BAD("WhatsApp notification: no metadata.phone_number_id");
      if (strcmp(pnid, s->phone_number_id) != 0)
        continue;
      to[0] = '\0';
      if (disp != NULL && strlen(disp) <= 15 && all_digits(disp,
                                                           strlen(disp)))
        snprintf(to, sizeof(to), "+%s", disp);
      list = cJSON_GetObjectItemCaseSensitive(v, "statuses");
      if (list != NULL && !cJSON_IsArray(list))
        return BAD("WhatsApp notification: 'statuses' is not a list");
      i = 0;
      cJSON_ArrayForEach(it, list) {
        if (++nitems > ITEMS_MAX)
          return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                               "more than %d items in one notification",
                               ITEMS_MAX);
        if ((rc = one_status(it, i++, sink)) < 0)
          return rc;
      }
      list = cJSON_GetObjectItemCaseSensitive(v, "messages");
      if (list != NULL && !cJSON_IsArray(list))
        return BAD("WhatsApp notification: 'messages' is not a list");
      i = 0;
      cJSON_ArrayForEach(it, list) {
        if (++nitems > ITEMS_MAX)
          return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                               "more than %d items in one notification",
                               ITEMS_MAX);
        if ((rc = one_message(it, i++, to[0] ? to : NULL, sink)) < 0)
          return rc;
      }
    }
  }
  return 0;
}

/* The GET handshake: echo the challenge for the right verify token. */
static int handshake(const wa_state *s, const vc_http_request *req,
                     vc_event_sink *sink)
{
  const char *token;
  uint8_t hash[32];
  vc__form f;
  int rc, ok = 0;

  if ((rc = query_of(&f, req)) < 0)
    return rc;
  if (!handshake_shape(&f)) {
    vc__form_free(&f);
    return BAD("not a subscription handshake");
  }
  token = vc__form_get(&f, "hub.verify_token");
  if (s->has_verify && token != NULL &&
      (rc = vc__digest(hash, VC__MD_SHA256, token,
                       strnlen(token, VERIFY_TOKEN_MAX + 1))) == 0)
    ok = vc__ct_equal(hash, s->verify_hash, sizeof(hash));
  if (rc == 0)
    rc = ok ? vc_event_sink_reply(sink, 200, "text/plain",
                                  vc__form_get(&f, "hub.challenge"))
            : vc_event_sink_reply(sink, 403, "text/plain",
                                  "verify token mismatch");
  vc__form_free(&f);
  return rc;
}

static int wa_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  const wa_state *s = state;
  const char *ct;
  cJSON *root = NULL;
  int rc;

  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(sink);
  VC_ASSERT_ARG(req->body != NULL || req->body_len == 0);
  if (is_method(req, "GET"))
    return handshake(s, req, sink);
  if (!is_method(req, "POST"))
    return BAD("Meta posts its notifications");
  ct = vc_http_request_header(req, "Content-Type");
  if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
      (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' '))
    return BAD("webhook body is not application/json");
  if ((rc = parse_bytes(&root, "WhatsApp notification", req->body,
                        req->body_len, WEBHOOK_MAX)) < 0)
    return rc;
  if ((rc = walk(s, root, NULL)) == 0)
    rc = walk(s, root, sink);
  cJSON_Delete(root);
  return rc;
}

/* ------------------------------------------------------------------ */

const vc_adapter vc__adapter_whatsapp = {
  .version = VC_ADAPTER_VERSION,
  .name = "whatsapp",
  .kind = VC_CHANNEL_CHAT,
  .capabilities = VC_CAP_DELIVERY_REPORTS | VC_CAP_INBOUND | VC_CAP_MEDIA |
                  VC_CAP_SIGNED_WEBHOOKS | VC_CAP_SESSION_WINDOW,
  .init = wa_init,
  .fini = wa_fini,
  .build_send = wa_build_send,
  .parse_send = wa_parse_send,
  .verify_webhook = wa_verify_webhook,
  .parse_webhook = wa_parse_webhook,
  .count_parts = wa_count_parts,
};
