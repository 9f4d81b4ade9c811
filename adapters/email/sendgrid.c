/*
 * SendGrid: v3 Mail Send and the signed Event Webhook.
 *
 * Pure translation (sys/adapter.h): the request for POST /v3/mail/send,
 * the outcome of SendGrid's answer, the ECDSA check of an Event Webhook
 * POST, and the status updates in it. Our message and tenant ids travel
 * as personalization custom_args, which SendGrid copies as top-level
 * keys into every event of that message.
 *
 * config:      {"base_url": "https://api.sendgrid.com",
 *               "webhook_public_key": "<base64 DER SPKI>",
 *               "sandbox_mode": false}          every key optional
 * credentials: {"api_key": "SG...."}            required
 */
#include "core/common.h"
#include "core/json.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/ecdsa.h"
#include "core/text.h"
#include "msg/address.h"
#include "adapters/builtin.h"
#include "adapters/common.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <strings.h>

#define DEFAULT_BASE_URL "https://api.sendgrid.com"
#define SEND_PATH "/v3/mail/send"
#define SIG_HEADER "X-Twilio-Email-Event-Webhook-Signature"
#define TS_HEADER "X-Twilio-Email-Event-Webhook-Timestamp"

#define CONFIG_MAX (64 * 1024)       /* config or credentials JSON */
#define JSON_DEPTH_MAX 8             /* events nest 3 deep at most */
#define URL_MAX 2048
#define API_KEY_MAX 512
#define PUBKEY_TEXT_MAX 2048
#define REQUEST_MAX (30u * 1024 * 1024) /* SendGrid's message limit */
#define SUBJECT_MAX 998              /* RFC 5322 line length */
#define LABEL_MAX 255                /* names, filenames, MIME types */
#define ID_MAX 128                   /* our message and tenant ids */
#define ERROR_BODY_MAX (64 * 1024)   /* error bodies we bother to parse */
#define WEBHOOK_MAX (1024 * 1024)
#define EVENTS_MAX 1000              /* the sink's bound per request */
#define FIELD_MAX 1024               /* the sink's bound per field */
#define SIG_TEXT_MAX 256             /* base64 of a <= 72-byte DER */
#define TS_DIGITS_MAX 12
#define REPLAY_WINDOW_MS INT64_C(300000)
#define RETRY_AFTER_MAX_S (24 * 3600)

typedef struct sg_state {
  char *send_url;     /* {base_url}/v3/mail/send */
  char *bearer;       /* "Bearer <api key>": secret, wiped by fini */
  size_t bearer_len;
  uint8_t *pubkey;    /* webhook key, DER SPKI; NULL refuses webhooks */
  size_t pubkey_len;
  int sandbox;        /* -1 when not configured, else 0 or 1 */
} sg_state;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

/* Deepest bracket nesting of JSON text, strings skipped; stops early
 * once past `limit`. */
static int json_depth(const char *s, size_t n, int limit)
{
  int depth = 0, deepest = 0, in_str = 0;

  for (size_t i = 0; i < n && deepest <= limit; i++) {
    char c = s[i];
    if (in_str) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_str = 0;
    } else if (c == '"') {
      in_str = 1;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest)
        deepest = depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth--;
    }
  }
  return deepest;
}

/* Parse bounded, well-formed UTF-8 JSON text. `what` names it. */
static int parse_json(cJSON **out, const char *text, size_t len,
                      size_t max, const char *what)
{
  const char *end = NULL;

  *out = NULL;
  if (len > max)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "%s is larger than %zu bytes", what, max);
  if (!vc__utf8_valid(text, len))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is not UTF-8", what);
  if (json_depth(text, len, JSON_DEPTH_MAX) > JSON_DEPTH_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s nests deeper than %d levels", what,
                         JSON_DEPTH_MAX);
  /* cJSON stops after the first value; only whitespace may follow. */
  if ((*out = vc__cjson_parse(text, len, &end, 0)) != NULL)
    while (end < text + len &&
           (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
      end++;
  if (*out == NULL || end != text + len)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is not valid JSON", what);
  return 0;
}

/* A config or credentials object; NULL counts as "{}". */
static int parse_object(cJSON **out, const char *json, const char *what)
{
  int rc;

  *out = NULL;
  if (json == NULL) {
    if ((*out = cJSON_CreateObject()) == NULL)
      return vc_error_set_oom();
    return 0;
  }
  if ((rc = parse_json(out, json, strlen(json), CONFIG_MAX, what)) < 0)
    return rc;
  if (!cJSON_IsObject(*out))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is not a JSON object", what);
  return 0;
}

/* A decimal of 1..max_digits digits, spaces around allowed. -1 if not. */
static int64_t parse_uint(const char *s, int max_digits)
{
  int64_t v = 0;
  int n = 0;

  if (s == NULL)
    return -1;
  while (*s == ' ' || *s == '\t')
    s++;
  for (; *s >= '0' && *s <= '9'; s++, n++) {
    if (n == max_digits)
      return -1;
    v = v * 10 + (*s - '0');
  }
  while (*s == ' ' || *s == '\t')
    s++;
  return n > 0 && *s == '\0' ? v : -1;
}

/* ------------------------------------------------------------------ */
/* init / fini                                                         */

static void sg_fini(void *state)
{
  sg_state *s = state;

  if (s == NULL)
    return;
  if (s->bearer != NULL) {
    vc__wipe(s->bearer, s->bearer_len);
    vc__free(s->bearer);
  }
  vc__free(s->send_url);
  vc__free(s->pubkey);
  vc__free(s);
}

static int set_base_url(sg_state *s, const char *url)
{
  size_t len;
  vc_buf b = VC_BUF_INIT;
  int rc;

  if ((rc = vc__adapter_check_base_url(url, URL_MAX, &len)) < 0)
    return rc;
  if ((rc = vc__buf_put(&b, url, len)) < 0 ||
      (rc = vc__buf_puts(&b, SEND_PATH)) < 0) {
    vc_buf_dispose(&b);
    return rc;
  }
  vc__free(s->send_url);
  s->send_url = b.ptr;
  return 0;
}

/* Base64 DER SPKI as the dashboard shows it; PEM armour is tolerated. */
static int set_pubkey(sg_state *s, const char *text)
{
  static const char begin[] = "-----BEGIN PUBLIC KEY-----";
  static const char end[] = "-----END PUBLIC KEY-----";
  const char *p = text, *q;
  vc_buf der = VC_BUF_INIT;
  int rc;

  if (strnlen(text, PUBKEY_TEXT_MAX + 1) > PUBKEY_TEXT_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "config 'webhook_public_key' is too long");
  if ((q = strstr(text, begin)) != NULL) {
    p = q + sizeof(begin) - 1;
    if ((q = strstr(p, end)) == NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "config 'webhook_public_key' has no PEM end");
  } else {
    q = p + strlen(p);
  }
  while (p < q && (*p == '\r' || *p == '\n' || *p == ' '))
    p++;
  if (p == q)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "config 'webhook_public_key' is empty");
  if ((rc = vc__base64_decode(&der, p, (size_t)(q - p))) == 0)
    rc = vc__ecdsa_p256_check_key((const uint8_t *)der.ptr, der.size);
  if (rc < 0) {
    vc_buf_dispose(&der);
    if (vc__error_code() == rc)
      vc__error_wrap("config 'webhook_public_key'");
    return rc == VC_ENOMEM ? rc : VC_EINVALID;
  }
  vc__free(s->pubkey);
  s->pubkey = (uint8_t *)der.ptr;
  s->pubkey_len = der.size;
  return 0;
}

static int read_config(sg_state *s, const cJSON *cfg)
{
  char name[68];
  unsigned seen = 0;
  int rc;

  for (const cJSON *it = cfg->child; it != NULL; it = it->next) {
    unsigned bit;
    if (strcmp(it->string, "base_url") == 0)
      bit = 1;
    else if (strcmp(it->string, "webhook_public_key") == 0)
      bit = 2;
    else if (strcmp(it->string, "sandbox_mode") == 0)
      bit = 4;
    else
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "unknown config key '%s'",
                           vc__json_key_name(name, it->string));
    if (seen & bit)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "config key '%s' appears twice", it->string);
    seen |= bit;
    if (bit == 4) {
      if (!cJSON_IsBool(it))
        return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                             "config 'sandbox_mode' must be true or "
                             "false");
      s->sandbox = cJSON_IsTrue(it);
      continue;
    }
    if (!cJSON_IsString(it) || it->valuestring == NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "config '%s' must be a string", it->string);
    rc = bit == 1 ? set_base_url(s, it->valuestring)
                  : set_pubkey(s, it->valuestring);
    if (rc < 0)
      return rc;
  }
  return (seen & 1) ? 0 : set_base_url(s, DEFAULT_BASE_URL);
}

static int read_credentials(sg_state *s, const cJSON *cred)
{
  const cJSON *key = NULL;
  char name[68];
  vc_buf b = VC_BUF_INIT;
  int rc;

  for (const cJSON *it = cred->child; it != NULL; it = it->next) {
    if (strcmp(it->string, "api_key") != 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "unknown credential '%s'",
                           vc__json_key_name(name, it->string));
    if (key != NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "credential 'api_key' appears twice");
    key = it;
  }
  if (key == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "credential 'api_key' is required");
  /* Printable ASCII without spaces: it goes into a header line. */
  if (!cJSON_IsString(key) || key->valuestring == NULL ||
      vc__check_token("credential 'api_key'", key->valuestring,
                      API_KEY_MAX, NULL, "!-~") < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "credential 'api_key' must be 1 to %d printable "
                         "characters without spaces", API_KEY_MAX);
  if ((rc = vc__buf_puts(&b, "Bearer ")) < 0 ||
      (rc = vc__buf_puts(&b, key->valuestring)) < 0) {
    vc__buf_wipe(&b);
    return rc;
  }
  s->bearer = b.ptr;
  s->bearer_len = b.size;
  return 0;
}

static int sg_init(void **state, const char *config_json,
                   const char *credentials_json)
{
  cJSON *cfg = NULL, *cred = NULL;
  sg_state *s = NULL;
  int rc;

  VC_ASSERT_ARG(state);
  *state = NULL;
  if ((rc = parse_object(&cfg, config_json, "config")) < 0 ||
      (rc = parse_object(&cred, credentials_json, "credentials")) < 0)
    goto out;
  if ((s = vc__calloc(1, sizeof(*s))) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  s->sandbox = -1;
  if ((rc = read_config(s, cfg)) < 0 ||
      (rc = read_credentials(s, cred)) < 0)
    goto out;
  *state = s;
  s = NULL;
out:
  cJSON_Delete(cfg);
  vc__json_wipe(cred);
  cJSON_Delete(cred);
  sg_fini(s);
  return rc;
}

/* ------------------------------------------------------------------ */
/* build_send                                                          */

static int no_controls(const char *field, const char *s)
{
  for (; s != NULL && *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "%s contains a control character", field);
  return 0;
}

/* A one-line label: optional unless `required`. */
static int check_label(const char *field, const char *s, size_t max,
                       int required)
{
  int rc;

  if ((rc = vc__check_text(field, s, max, required)) < 0)
    return rc;
  return no_controls(field, s);
}

/* Everything SendGrid would refuse, refused here with a clear message
 * before anything is built. */
static int check_message(const vc_outbound *m, vc_buf *to, vc_buf *from)
{
  size_t need = 4096; /* JSON framing, ids, addresses */
  int rc;

  if (vc__addr_email(to, m->to) < 0)
    return vc__error_wrap("recipient");
  if (vc__addr_email(from, m->from) < 0)
    return vc__error_wrap("sender");
  if ((rc = check_label("sender name", m->from_name, LABEL_MAX, 0)) < 0 ||
      (rc = check_label("subject", m->subject, SUBJECT_MAX, 1)) < 0 ||
      (rc = check_label("message id", m->message_id, ID_MAX, 0)) < 0 ||
      (rc = check_label("tenant id", m->tenant_id, ID_MAX, 0)) < 0 ||
      (rc = vc__check_text("text body", m->text, REQUEST_MAX, 0)) < 0 ||
      (rc = vc__check_text("HTML body", m->html, REQUEST_MAX, 0)) < 0)
    return rc;
  if (!vc__present(m->text) && !vc__present(m->html))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "an email needs a text or an HTML body");
  need += (m->text ? strlen(m->text) : 0) + (m->html ? strlen(m->html) : 0);
  if (m->nattachments > 0 && m->attachments == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "invalid argument: 'attachments'");
  for (size_t i = 0; i < m->nattachments && need <= REQUEST_MAX; i++) {
    const vc_attachment *a = &m->attachments[i];
    if (a->data == NULL && a->url != NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                           "attachment %zu is a URL; SendGrid takes "
                           "attachment content inline only", i + 1);
    if (a->data == NULL || a->len == 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "attachment %zu has no content", i + 1);
    if ((rc = check_label("attachment filename", a->filename, LABEL_MAX,
                          1)) < 0 ||
        (rc = check_label("attachment content type", a->content_type,
                          LABEL_MAX, 0)) < 0)
      return rc;
    /* Bounded before adding, so the sum cannot wrap. */
    need += a->len > REQUEST_MAX ? REQUEST_MAX + 1
                                 : 4 * ((a->len + 2) / 3) + 2 * LABEL_MAX;
  }
  if (need > REQUEST_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "the email is larger than SendGrid's 30 MB "
                         "limit");
  return 0;
}

static cJSON *add_address(cJSON *parent, const char *key,
                          const char *email, const char *name)
{
  cJSON *o = cJSON_AddObjectToObject(parent, key);

  if (o == NULL || cJSON_AddStringToObject(o, "email", email) == NULL ||
      (vc__present(name) && cJSON_AddStringToObject(o, "name", name) == NULL))
    return NULL;
  return o;
}

static int add_content(cJSON *list, const char *type, const char *value)
{
  cJSON *o;

  if (!vc__present(value))
    return 0;
  if ((o = cJSON_CreateObject()) == NULL)
    return -1;
  cJSON_AddItemToArray(list, o);
  if (cJSON_AddStringToObject(o, "type", type) == NULL ||
      cJSON_AddStringToObject(o, "value", value) == NULL)
    return -1;
  return 0;
}

static int add_attachments(cJSON *root, const vc_outbound *m)
{
  cJSON *list, *o;
  vc_buf b64 = VC_BUF_INIT;
  int rc = 0;

  if (m->nattachments == 0)
    return 0;
  if ((list = cJSON_AddArrayToObject(root, "attachments")) == NULL)
    return vc_error_set_oom();
  for (size_t i = 0; i < m->nattachments; i++) {
    const vc_attachment *a = &m->attachments[i];
    if ((rc = vc__base64_encode(&b64, a->data, a->len)) < 0)
      goto out;
    if ((o = cJSON_CreateObject()) == NULL)
      goto oom;
    cJSON_AddItemToArray(list, o);
    if (cJSON_AddStringToObject(o, "content", b64.ptr) == NULL ||
        cJSON_AddStringToObject(o, "filename", a->filename) == NULL ||
        (vc__present(a->content_type) &&
         cJSON_AddStringToObject(o, "type", a->content_type) == NULL) ||
        cJSON_AddStringToObject(o, "disposition", "attachment") == NULL)
      goto oom;
    vc_buf_dispose(&b64);
  }
  goto out;
oom:
  rc = vc_error_set_oom();
out:
  vc_buf_dispose(&b64);
  return rc;
}

/* A header value of one line (no CR, LF or other control). */
static int header_value_ok(const char *v)
{
  for (; *v != '\0'; v++)
    if ((unsigned char)*v < 0x20 || *v == 0x7f)
      return 0;
  return 1;
}

/* List-Unsubscribe and List-Unsubscribe-Post (vc_outbound version 2), in
 * the message's "headers" object. */
static int add_unsubscribe(cJSON *root, const vc_outbound *m)
{
  cJSON *h;

  if (m->version < 2 || m->list_unsubscribe == NULL)
    return 0;
  if (!header_value_ok(m->list_unsubscribe) ||
      (m->list_unsubscribe_post != NULL &&
       !header_value_ok(m->list_unsubscribe_post)))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "List-Unsubscribe value is not one line");
  if ((h = cJSON_AddObjectToObject(root, "headers")) == NULL ||
      cJSON_AddStringToObject(h, "List-Unsubscribe",
                              m->list_unsubscribe) == NULL ||
      (m->list_unsubscribe_post != NULL &&
       cJSON_AddStringToObject(h, "List-Unsubscribe-Post",
                               m->list_unsubscribe_post) == NULL))
    return vc_error_set_oom();
  return 0;
}

static int make_body(cJSON **out, const sg_state *s, const vc_outbound *m,
                     const char *to, const char *from)
{
  cJSON *root, *pers, *p, *tos, *rcpt, *args, *content, *ms;
  int rc;

  if ((*out = root = cJSON_CreateObject()) == NULL)
    return vc_error_set_oom();
  if ((pers = cJSON_AddArrayToObject(root, "personalizations")) == NULL ||
      (p = cJSON_CreateObject()) == NULL)
    return vc_error_set_oom();
  cJSON_AddItemToArray(pers, p);
  if ((tos = cJSON_AddArrayToObject(p, "to")) == NULL ||
      (rcpt = cJSON_CreateObject()) == NULL)
    return vc_error_set_oom();
  cJSON_AddItemToArray(tos, rcpt);
  if (cJSON_AddStringToObject(rcpt, "email", to) == NULL)
    return vc_error_set_oom();
  /* Our ids come back as top-level keys of every event. */
  if (vc__present(m->message_id) || vc__present(m->tenant_id)) {
    if ((args = cJSON_AddObjectToObject(p, "custom_args")) == NULL ||
        (vc__present(m->message_id) &&
         cJSON_AddStringToObject(args, "vc_message_id",
                                 m->message_id) == NULL) ||
        (vc__present(m->tenant_id) &&
         cJSON_AddStringToObject(args, "vc_tenant_id",
                                 m->tenant_id) == NULL))
      return vc_error_set_oom();
  }
  if (add_address(root, "from", from, m->from_name) == NULL ||
      cJSON_AddStringToObject(root, "subject", m->subject) == NULL ||
      (content = cJSON_AddArrayToObject(root, "content")) == NULL ||
      /* SendGrid wants text/plain before text/html. */
      add_content(content, "text/plain", m->text) < 0 ||
      add_content(content, "text/html", m->html) < 0)
    return vc_error_set_oom();
  if ((rc = add_attachments(root, m)) < 0 ||
      (rc = add_unsubscribe(root, m)) < 0)
    return rc;
  if (s->sandbox >= 0 &&
      ((ms = cJSON_AddObjectToObject(root, "mail_settings")) == NULL ||
       (ms = cJSON_AddObjectToObject(ms, "sandbox_mode")) == NULL ||
       cJSON_AddBoolToObject(ms, "enable", s->sandbox) == NULL))
    return vc_error_set_oom();
  return 0;
}

static int sg_build_send(void *state, const vc_outbound *msg,
                         vc_http_out *req)
{
  const sg_state *s = state;
  vc_buf to = VC_BUF_INIT, from = VC_BUF_INIT;
  cJSON *root = NULL;
  char *body = NULL;
  size_t len;
  int rc;

  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(msg);
  VC_ASSERT_ARG(req);
  VC_CHECK_VERSION(msg, VC_OUTBOUND_VERSION, "vc_outbound");
  if ((rc = check_message(msg, &to, &from)) < 0 ||
      (rc = make_body(&root, s, msg, to.ptr, from.ptr)) < 0)
    goto out;
  if ((body = cJSON_PrintUnformatted(root)) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  /* Free the tree first: with attachments it is as large as the body. */
  cJSON_Delete(root);
  root = NULL;
  if ((len = strlen(body)) > REQUEST_MAX) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                       "the email is larger than SendGrid's 30 MB limit");
    goto out;
  }
  if ((rc = vc_http_out_set_target(req, "POST", s->send_url)) < 0 ||
      (rc = vc_http_out_add_header(req, "Authorization", s->bearer)) < 0 ||
      (rc = vc_http_out_add_header(req, "Content-Type",
                                   "application/json")) < 0 ||
      (rc = vc_http_out_set_body(req, body, len)) < 0)
    goto out;
out:
  cJSON_free(body);
  cJSON_Delete(root);
  vc_buf_dispose(&to);
  vc_buf_dispose(&from);
  return rc;
}

/* ------------------------------------------------------------------ */
/* parse_send                                                          */

/* errors[0].message and .field of a SendGrid error body, if any. */
static void error_detail(const vc_http_response *res, vc_send_result *out)
{
  const cJSON *e, *msg, *field;
  cJSON *root = NULL;
  char line[sizeof(out->error_message)];

  snprintf(out->provider_code, sizeof(out->provider_code), "%d",
           res->status);
  snprintf(out->error_message, sizeof(out->error_message),
           "HTTP %d from SendGrid", res->status);
  if (res->body.ptr == NULL || res->body.size == 0 ||
      res->body.size > ERROR_BODY_MAX ||
      json_depth(res->body.ptr, res->body.size, JSON_DEPTH_MAX) >
          JSON_DEPTH_MAX ||
      (root = vc__cjson_parse(res->body.ptr, res->body.size, NULL, 0)) ==
          NULL)
    return;
  e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "errors"),
                         0);
  msg = cJSON_GetObjectItemCaseSensitive(e, "message");
  field = cJSON_GetObjectItemCaseSensitive(e, "field");
  if (cJSON_IsString(msg) && vc__present(msg->valuestring)) {
    /* The spec's examples send a JSON null as the string "null". */
    if (cJSON_IsString(field) && vc__present(field->valuestring) &&
        strcmp(field->valuestring, "null") != 0)
      snprintf(line, sizeof(line), "%s (field %s)", msg->valuestring,
               field->valuestring);
    else
      snprintf(line, sizeof(line), "%s", msg->valuestring);
    vc__copy_line(out->error_message, sizeof(out->error_message), line,
                  strlen(line));
  }
  cJSON_Delete(root);
}

static int sg_parse_send(void *state, const vc_outbound *msg,
                         const vc_http_response *res, vc_send_result *out)
{
  const char *id;
  int64_t v;
  int st;

  VC_UNUSED(state);
  VC_UNUSED(msg);
  VC_ASSERT_ARG(res);
  VC_ASSERT_ARG(out);
  st = res->status;
  if (st >= 200 && st < 300) {
    /* 202, or 200 in sandbox mode. Without X-Message-Id it is still
     * accepted: a retry would send a second email, and events find the
     * message through the vc_message_id custom arg. */
    out->outcome = VC_SEND_ACCEPTED;
    out->error = 0;
    id = vc_http_response_header(res, "X-Message-Id");
    if (id != NULL && vc__check_token("X-Message-Id", id,
                                      sizeof(out->provider_id) - 1, NULL,
                                      "!-~") == 0)
      snprintf(out->provider_id, sizeof(out->provider_id), "%s", id);
    return 0;
  }
  error_detail(res, out);
  if (st == 400) {
    out->outcome = VC_SEND_REJECTED;
    out->error = VC_EPROVIDER;
  } else if (st == 401 || st == 403) {
    /* This account cannot send (key, scope, sender identity); another
     * channel may. */
    out->outcome = VC_SEND_FAILOVER;
    out->error = VC_EAUTH;
  } else if (st == 413) {
    out->outcome = VC_SEND_REJECTED;
    out->error = VC_ETOOBIG;
  } else if (st == 429) {
    out->outcome = VC_SEND_RETRY;
    out->error = VC_ERATELIMIT;
    /* SendGrid documents X-RateLimit-Reset in epoch seconds. */
    if ((v = parse_uint(vc_http_response_header(res, "X-RateLimit-Reset"),
                        11)) > 0)
      out->retry_at_ms = v * 1000;
  } else {
    /* 5xx, and anything SendGrid does not document for mail send. */
    out->outcome = VC_SEND_RETRY;
    out->error = VC_EPROVIDER;
  }
  /* Not documented by SendGrid, but honoured when a proxy sends it. */
  if (out->outcome == VC_SEND_RETRY &&
      (v = parse_uint(vc_http_response_header(res, "Retry-After"), 9)) >= 0)
    out->retry_after_ms = (v > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : v) *
                          INT64_C(1000);
  return 0;
}

/* ------------------------------------------------------------------ */
/* verify_webhook                                                      */

static int sg_verify_webhook(void *state, const vc_http_request *req,
                             vc_webhook_env *env)
{
  int64_t now_ms = vc_webhook_env_now(env);
  const sg_state *s = state;
  const char *sig, *ts;
  vc_buf der = VC_BUF_INIT, signed_bytes = VC_BUF_INIT;
  int64_t t;
  int rc;

  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(req->body != NULL || req->body_len == 0);
  if (s->pubkey == NULL)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH,
                         "no verification key configured (config "
                         "'webhook_public_key')");
  if (req->body_len > WEBHOOK_MAX)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_ETOOBIG,
                         "webhook body is larger than %d bytes",
                         WEBHOOK_MAX);
  sig = vc_http_request_header(req, SIG_HEADER);
  ts = vc_http_request_header(req, TS_HEADER);
  if (sig == NULL || ts == NULL)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH, "missing %s header",
                         sig == NULL ? SIG_HEADER : TS_HEADER);
  /* Digits only: the header is signed verbatim, so no trimming. */
  if (strspn(ts, "0123456789") != strlen(ts) ||
      (t = parse_uint(ts, TS_DIGITS_MAX)) < 0)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH,
                         "%s is not a Unix time", TS_HEADER);
  /* SendGrid documents no replay window; a signed POST is only good
   * for 300 s either side of now. */
  if (now_ms < t * 1000 - REPLAY_WINDOW_MS ||
      now_ms > t * 1000 + REPLAY_WINDOW_MS)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH,
                         "webhook timestamp is outside the 300 s replay "
                         "window");
  if (strnlen(sig, SIG_TEXT_MAX + 1) > SIG_TEXT_MAX ||
      vc__base64_decode(&der, sig, strlen(sig)) < 0 || der.size == 0) {
    rc = vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH,
                       "%s is not base64", SIG_HEADER);
    goto out;
  }
  /* One signature covers the whole POST: timestamp || raw body. */
  if ((rc = vc__buf_puts(&signed_bytes, ts)) < 0 ||
      (rc = vc__buf_put(&signed_bytes, req->body, req->body_len)) < 0)
    goto out;
  rc = vc__ecdsa_p256_verify(s->pubkey, s->pubkey_len,
                             (const uint8_t *)signed_bytes.ptr,
                             signed_bytes.size, (const uint8_t *)der.ptr,
                             der.size);
  if (rc < 0)
    vc__error_wrap("SendGrid webhook");
out:
  vc_buf_dispose(&der);
  vc_buf_dispose(&signed_bytes);
  return rc;
}

/* ------------------------------------------------------------------ */
/* parse_webhook                                                       */

/* The fields of one event that we read. */
typedef struct sg_event {
  const char *event;
  const char *message_id;   /* our vc_message_id custom arg */
  const char *provider_id;  /* sg_message_id */
  const char *event_id;     /* sg_event_id */
  const char *type;         /* bounce: "bounce" or "blocked" */
  const char *status;       /* bounce: enhanced SMTP status */
  const char *reason;
  const char *response;
  int machine_open;
  int64_t occurred_at;
} sg_event;

/* An optional string field: absent and null give NULL; anything else
 * but a string, or one past the sink's bound, is malformed. */
static int opt_string(const char **out, const cJSON *ev, const char *key,
                      size_t i, size_t max)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, key);

  *out = NULL;
  if (v == NULL || cJSON_IsNull(v))
    return 0;
  if (!cJSON_IsString(v) || v->valuestring == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "event %zu: '%s' is not a string", i, key);
  if (max > 0 && strlen(v->valuestring) > max)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "event %zu: '%s' is longer than %zu bytes", i,
                         key, max);
  *out = v->valuestring[0] != '\0' ? v->valuestring : NULL;
  return 0;
}

/* What an event means for the message's status; 0 for nothing. */
static int event_status(const sg_event *e)
{
  if (strcmp(e->event, "processed") == 0)
    return VC_MSG_SENT;
  if (strcmp(e->event, "delivered") == 0)
    return VC_MSG_DELIVERED;
  if (strcmp(e->event, "open") == 0)
    /* Apple Mail Privacy Protection fetches every image on arrival:
     * that proves delivery, not that anyone read it. */
    return e->machine_open ? VC_MSG_DELIVERED : VC_MSG_READ;
  if (strcmp(e->event, "bounce") == 0)
    return e->type != NULL && strcmp(e->type, "blocked") == 0
               ? VC_MSG_UNDELIVERED : VC_MSG_BOUNCED;
  if (strcmp(e->event, "dropped") == 0)
    return VC_MSG_UNDELIVERED;
  /* deferred: SendGrid retries. click, spamreport, unsubscribe,
   * group_*: engagement, not delivery. Others: unknown to us. */
  return 0;
}

/* Read and type-check event i. Unknown event types are not checked
 * further: SendGrid adds new ones, and they must not fail a batch. */
static int read_event(sg_event *e, const cJSON *ev, size_t i)
{
  const cJSON *v;
  int rc;

  memset(e, 0, sizeof(*e));
  if (!cJSON_IsObject(ev))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "event %zu is not a JSON object", i);
  if ((rc = opt_string(&e->event, ev, "event", i, 0)) < 0)
    return rc;
  if (e->event == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "event %zu has no 'event'", i);
  if (event_status(e) == 0)
    return 0;
  if ((rc = opt_string(&e->message_id, ev, "vc_message_id", i,
                       FIELD_MAX)) < 0 ||
      (rc = opt_string(&e->provider_id, ev, "sg_message_id", i,
                       FIELD_MAX)) < 0 ||
      (rc = opt_string(&e->event_id, ev, "sg_event_id", i, FIELD_MAX)) < 0 ||
      (rc = opt_string(&e->type, ev, "type", i, 0)) < 0 ||
      (rc = opt_string(&e->status, ev, "status", i, FIELD_MAX)) < 0 ||
      (rc = opt_string(&e->reason, ev, "reason", i, 0)) < 0 ||
      (rc = opt_string(&e->response, ev, "response", i, 0)) < 0)
    return rc;
  v = cJSON_GetObjectItemCaseSensitive(ev, "timestamp");
  if (v != NULL && !cJSON_IsNull(v)) {
    /* Unix seconds, up to year 5138: times 1000 fits easily. */
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble < 0 || v->valuedouble >= 1e11)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "event %zu: 'timestamp' is not a Unix time", i);
    e->occurred_at = (int64_t)v->valuedouble * 1000;
  }
  v = cJSON_GetObjectItemCaseSensitive(ev, "sg_machine_open");
  e->machine_open = cJSON_IsTrue(v);
  return 0;
}

static int report_event(vc_event_sink *sink, const sg_event *e)
{
  vc_status_update u;
  char text[FIELD_MAX + 1], pid[FIELD_MAX + 1];
  int status = event_status(e);

  /* Mail this library did not send (SMTP relay, other apps on the same
   * account) carries neither id: nothing to update. */
  if (status == 0 || (e->message_id == NULL &&
                      (e->provider_id == NULL || e->provider_id[0] == '.')))
    return 0;
  memset(&u, 0, sizeof(u));
  u.version = VC_STATUS_UPDATE_VERSION;
  u.message_id = e->message_id;
  if (e->provider_id != NULL) {
    /* sg_message_id is the X-Message-Id that parse_send stored, then
     * ".<server and recipient suffix>": report the part that matches. */
    snprintf(pid, sizeof(pid), "%.*s",
             (int)strcspn(e->provider_id, "."), e->provider_id);
    u.provider_id = pid[0] != '\0' ? pid : NULL;
  }
  u.status = status;
  u.event_id = e->event_id;
  u.occurred_at = e->occurred_at;
  if (status == VC_MSG_BOUNCED || status == VC_MSG_UNDELIVERED) {
    u.provider_code = e->status;
    if (e->reason != NULL || e->response != NULL) {
      /* Remote MTAs write these: one line, cut to the sink's bound. */
      const char *why = e->reason ? e->reason : e->response;

      vc__copy_line(text, sizeof(text), why, strlen(why));
      u.error_message = text;
    }
  }
  return vc_event_sink_status(sink, &u);
}

static int sg_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  cJSON *root = NULL;
  const cJSON *ev;
  sg_event e;
  size_t i;
  int rc;

  VC_UNUSED(state);
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(sink);
  VC_ASSERT_ARG(req->body != NULL || req->body_len == 0);
  if ((rc = parse_json(&root, (const char *)req->body, req->body_len,
                       WEBHOOK_MAX, "webhook body")) < 0)
    goto out;
  if (!cJSON_IsArray(root)) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "webhook body is not a JSON array of events");
    goto out;
  }
  if (cJSON_GetArraySize(root) > EVENTS_MAX) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                       "more than %d events in one webhook", EVENTS_MAX);
    goto out;
  }
  /* Check every event before reporting any: a malformed batch reports
   * nothing. */
  for (ev = root->child, i = 0; ev != NULL; ev = ev->next, i++)
    if ((rc = read_event(&e, ev, i)) < 0)
      goto out;
  for (ev = root->child, i = 0; ev != NULL; ev = ev->next, i++)
    if ((rc = read_event(&e, ev, i)) < 0 ||
        (rc = report_event(sink, &e)) < 0)
      goto out;
  rc = vc_event_sink_reply(sink, 200, NULL, NULL);
out:
  cJSON_Delete(root);
  return rc;
}

const vc_adapter vc__adapter_sendgrid = {
  VC_ADAPTER_VERSION,
  "sendgrid",
  VC_CHANNEL_EMAIL,
  VC_CAP_DELIVERY_REPORTS | VC_CAP_HTML | VC_CAP_MEDIA |
      VC_CAP_SIGNED_WEBHOOKS,
  sg_init,
  sg_fini,
  sg_build_send,
  sg_parse_send,
  sg_verify_webhook,
  sg_parse_webhook,
};
