/*
 * Mailgun: the Messages API, event webhooks and routed inbound mail.
 *
 * Pure translation (sys/adapter.h): the request for
 * POST {base}/v3/{domain}/messages (urlencoded, or multipart/form-data
 * when the email has attachments), the outcome of Mailgun's answer, the
 * HMAC check of a webhook, and what it says. Our message and tenant ids
 * travel as v: variables, which Mailgun returns in every event's
 * user-variables. Wire facts: providers.md sections 0 and 7.
 *
 * Mailgun signs a timestamp and a random token, not the body, so a
 * signed envelope could be replayed with another body: every token is
 * recorded with vc_event_sink_once() and a token seen before applies
 * nothing; timestamps outside a window are refused.
 *
 * config:      {"domain": "mg.example.com",       required
 *               "region": "us" | "eu",            default "us"
 *               "base_url": "https://...",        instead of region
 *               "test_mode": false,               o:testmode
 *               "tracking_opens": true,           o:tracking-opens
 *               "tracking_clicks": true | false | "htmlonly",
 *               "webhook_window_s": 300}          60 to 86400
 * credentials: {"api_key": "...",                 required
 *               "webhook_signing_key": "..."}     required for webhooks
 *
 * The state is immutable after init, so every method may run on several
 * threads at once.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/multipart.h"
#include "core/text.h"
#include "msg/address.h"
#include "adapters/builtin.h"
#include "adapters/common.h"

#include <cJSON.h>
#include <math.h> /* isfinite: a macro, no libm */
#include <stdio.h>
#include <strings.h>

#define US_BASE_URL "https://api.mailgun.net"
#define EU_BASE_URL "https://api.eu.mailgun.net"

#define URL_MAX 2048
#define DOMAIN_MAX 253
#define KEY_MAX 256                  /* API and signing keys */
#define LABEL_MAX 255                /* names, filenames, MIME types */
#define SUBJECT_MAX 998              /* RFC 5322 line length */
#define ID_MAX 128                   /* our message and tenant ids */
/* Mailgun's message limit (25 MB, UNCONFIRMED); the request's
 * multipart framing counts too. */
#define REQUEST_MAX (25u * 1024 * 1024)
#define ERROR_BODY_MAX (64 * 1024)   /* error bodies we bother to parse */
#define WEBHOOK_MAX VC_WEBHOOK_MAX_BODY
#define JSON_DEPTH_MAX 16            /* user-variables may nest */
#define FORM_FIELDS_MAX 500          /* inbound: one per MIME header too */
#define FIELD_MAX 1024               /* the sink's bound per field */
#define TEXT_MAX (64 * 1024)         /* the sink's bound on a text */
#define TOKEN_MAX 256                /* Mailgun's tokens have 50 */
#define TS_DIGITS_MAX 11
#define SIG_HEX 64
#define WINDOW_DEFAULT_S 300
#define WINDOW_MIN_S 60
/* Tokens are remembered 72 hours: a window past that would let an old
 * token come back. */
#define WINDOW_MAX_S 86400
#define RETRY_AFTER_MAX_S 86400

#define BAD_INPUT(...) \
  vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)

typedef struct mg_state {
  char *send_url;       /* {base}/v3/{domain}/messages */
  char *api_key;        /* Basic password (user "api"): secret */
  char *signing_key;    /* webhook HMAC key: secret; NULL refuses them */
  int test_mode;        /* -1 when not configured, else 0 or 1 */
  int track_opens;      /* -1, 0, 1 */
  int track_clicks;     /* -1, 0, 1, or 2 for "htmlonly" */
  int64_t window_ms;    /* accepted webhook age, either way */
} mg_state;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

/* A whole number from lo to hi (a JSON number is a double); checked
 * before the cast, which is undefined out of range. */
static int whole_in(double v, double lo, double hi)
{
  return v >= lo && v <= hi && (double)(int64_t)v == v;
}

/* A one-line copy (vc__copy_line) without trailing spaces. */
static void copy_line(char *dst, size_t cap, const char *s, size_t len)
{
  size_t n = vc__copy_line(dst, cap, s, len);

  while (n > 0 && dst[n - 1] == ' ')
    n--;
  dst[n] = '\0';
}

/* A decimal of 1..max_digits digits and nothing else, or -1. */
static int64_t parse_digits(const char *s, int max_digits)
{
  int64_t v = 0;
  int n = 0;

  if (s == NULL)
    return -1;
  for (; *s >= '0' && *s <= '9'; s++, n++) {
    if (n == max_digits)
      return -1;
    v = v * 10 + (*s - '0');
  }
  return n > 0 && *s == '\0' ? v : -1;
}

/* Whether a request's Content-Type is `type` (parameters allowed). */
static int content_type_is(const vc_http_request *req, const char *type)
{
  const char *ct = vc_http_request_header(req, "Content-Type");
  size_t n = strlen(type);

  if (ct == NULL)
    return 0;
  while (*ct == ' ' || *ct == '\t')
    ct++;
  return strncasecmp(ct, type, n) == 0 &&
         (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/* ------------------------------------------------------------------ */
/* init / fini                                                         */

static void mg_fini(void *state)
{
  mg_state *s = state;

  if (s == NULL)
    return;
  vc__adapter_free_secret(s->api_key);
  vc__adapter_free_secret(s->signing_key);
  vc__free(s->send_url);
  vc__free(s);
}

/* A sending domain: LDH labels of 1..63, at least two, at most 253. */
static int check_domain(const char *d)
{
  size_t n = strnlen(d, DOMAIN_MAX + 1), label = 0, labels = 1;

  if (n == 0 || n > DOMAIN_MAX)
    return BAD_INPUT("config 'domain' must be 1 to %d characters",
                     DOMAIN_MAX);
  for (size_t i = 0; i < n; i++) {
    char c = d[i];
    if (c == '.') {
      if (label == 0 || d[i - 1] == '-')
        return BAD_INPUT("config 'domain' is not a domain name");
      label = 0;
      labels++;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
      if (++label > 63)
        return BAD_INPUT("config 'domain' has a label over 63 "
                         "characters");
    } else {
      return BAD_INPUT("config 'domain' is not a domain name");
    }
  }
  if (label == 0 || d[n - 1] == '-' || labels < 2)
    return BAD_INPUT("config 'domain' is not a domain name");
  return 0;
}

/* The config's keys, each at most once. */
enum {
  K_DOMAIN = 1, K_REGION = 2, K_BASE_URL = 4, K_TEST = 8, K_OPENS = 16,
  K_CLICKS = 32, K_WINDOW = 64
};

static int config_bit(const char *key)
{
  static const struct { const char *name; int bit; } keys[] = {
    { "domain", K_DOMAIN }, { "region", K_REGION },
    { "base_url", K_BASE_URL }, { "test_mode", K_TEST },
    { "tracking_opens", K_OPENS }, { "tracking_clicks", K_CLICKS },
    { "webhook_window_s", K_WINDOW },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(keys); i++)
    if (strcmp(key, keys[i].name) == 0)
      return keys[i].bit;
  return 0;
}

static int read_config(mg_state *s, const cJSON *cfg)
{
  const char *domain = NULL, *base = NULL;
  char name[68];
  vc_buf url = VC_BUF_INIT;
  unsigned seen = 0;
  size_t blen = 0;
  int rc;

  s->test_mode = s->track_opens = s->track_clicks = -1;
  s->window_ms = WINDOW_DEFAULT_S * INT64_C(1000);
  for (const cJSON *it = cfg->child; it != NULL; it = it->next) {
    int bit = config_bit(it->string);
    if (bit == 0)
      return BAD_INPUT("unknown config key '%s'",
                       vc__json_key_name(name, it->string));
    if (seen & (unsigned)bit)
      return BAD_INPUT("config key '%s' appears twice", it->string);
    seen |= (unsigned)bit;
    switch (bit) {
    case K_DOMAIN:
    case K_BASE_URL:
      if (!cJSON_IsString(it) || it->valuestring == NULL)
        return BAD_INPUT("config '%s' must be a string", it->string);
      if (bit == K_DOMAIN)
        domain = it->valuestring;
      else
        base = it->valuestring;
      break;
    case K_REGION:
      if (!cJSON_IsString(it) || it->valuestring == NULL ||
          (strcmp(it->valuestring, "us") != 0 &&
           strcmp(it->valuestring, "eu") != 0))
        return BAD_INPUT("config 'region' must be \"us\" or \"eu\"");
      base = strcmp(it->valuestring, "eu") == 0 ? EU_BASE_URL
                                                : US_BASE_URL;
      break;
    case K_TEST:
    case K_OPENS:
      if (!cJSON_IsBool(it))
        return BAD_INPUT("config '%s' must be true or false", it->string);
      *(bit == K_TEST ? &s->test_mode : &s->track_opens) = cJSON_IsTrue(it);
      break;
    case K_CLICKS:
      if (cJSON_IsBool(it))
        s->track_clicks = cJSON_IsTrue(it);
      else if (cJSON_IsString(it) && it->valuestring != NULL &&
               strcmp(it->valuestring, "htmlonly") == 0)
        s->track_clicks = 2;
      else
        return BAD_INPUT("config 'tracking_clicks' must be true, false "
                         "or \"htmlonly\"");
      break;
    default: /* K_WINDOW */
      if (!cJSON_IsNumber(it) ||
          !whole_in(it->valuedouble, WINDOW_MIN_S, WINDOW_MAX_S))
        return BAD_INPUT("config 'webhook_window_s' must be a whole number "
                         "of seconds from %d to %d", WINDOW_MIN_S,
                         WINDOW_MAX_S);
      s->window_ms = (int64_t)it->valuedouble * 1000;
      break;
    }
  }
  if ((seen & K_REGION) && (seen & K_BASE_URL))
    return BAD_INPUT("config 'region' and 'base_url' exclude each other");
  if (domain == NULL)
    return BAD_INPUT("config 'domain' is required (the Mailgun sending "
                     "domain)");
  if ((rc = check_domain(domain)) < 0 ||
      (rc = vc__adapter_check_base_url(base ? base : US_BASE_URL, URL_MAX,
                                       &blen)) < 0)
    return rc;
  if ((rc = vc__buf_put(&url, base ? base : US_BASE_URL, blen)) < 0 ||
      (rc = vc__buf_printf(&url, "/v3/%s/messages", domain)) < 0) {
    vc_buf_dispose(&url);
    return rc;
  }
  /* Domains are case-insensitive; the path names it in lower case. */
  for (size_t i = url.size - strlen(domain) - 9; i < url.size - 9; i++)
    if (url.ptr[i] >= 'A' && url.ptr[i] <= 'Z')
      url.ptr[i] = (char)(url.ptr[i] | 0x20);
  s->send_url = url.ptr;
  return 0;
}

/* A key: 1 to KEY_MAX printable ASCII characters without spaces (it goes
 * into a header or an HMAC). The value is never quoted. */
static int take_key(char **out, const cJSON *it, const char *what)
{
  const char *v;
  size_t n;

  if (!cJSON_IsString(it) || it->valuestring == NULL)
    return BAD_INPUT("credential '%s' must be a string", what);
  v = it->valuestring;
  n = strnlen(v, KEY_MAX + 1);
  if (n == 0 || n > KEY_MAX)
    return BAD_INPUT("credential '%s' must be 1 to %d characters", what,
                     KEY_MAX);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
      return BAD_INPUT("credential '%s' must be printable ASCII without "
                       "spaces", what);
  if ((*out = vc__strdup(v)) == NULL)
    return vc_error_set_oom();
  return 0;
}

static int read_credentials(mg_state *s, const cJSON *cred)
{
  const cJSON *api = NULL, *sign = NULL;
  int rc;

  for (const cJSON *it = cred->child; it != NULL; it = it->next) {
    const cJSON **slot = strcmp(it->string, "api_key") == 0 ? &api
      : strcmp(it->string, "webhook_signing_key") == 0 ? &sign : NULL;
    /* Unknown credential names are not quoted: a pasted secret could
     * be one. */
    if (slot == NULL)
      return BAD_INPUT("credentials have an unknown key");
    if (*slot != NULL)
      return BAD_INPUT("credential '%s' appears twice", it->string);
    *slot = it;
  }
  if (api == NULL)
    return BAD_INPUT("credential 'api_key' is required");
  if ((rc = take_key(&s->api_key, api, "api_key")) < 0 ||
      (sign != NULL &&
       (rc = take_key(&s->signing_key, sign, "webhook_signing_key")) < 0))
    return rc;
  return 0;
}

static int mg_init(void **state, const char *config_json,
                   const char *credentials_json)
{
  cJSON *cfg = NULL, *cred = NULL;
  mg_state *s = NULL;
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
  if ((rc = read_config(s, cfg)) < 0 ||
      (rc = read_credentials(s, cred)) < 0)
    goto out;
  *state = s;
  s = NULL;
out:
  cJSON_Delete(cfg);
  vc__json_wipe(cred);
  cJSON_Delete(cred);
  mg_fini(s);
  return rc;
}

/* ------------------------------------------------------------------ */
/* build_send                                                          */

/* A one-line label: optional unless `required`. */
static int check_label(const char *field, const char *s, size_t max,
                       int required)
{
  int rc;

  if ((rc = vc__check_text(field, s, max, required)) < 0)
    return rc;
  for (; s != NULL && *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return BAD_INPUT("%s contains a control character", field);
  return 0;
}

/* Everything Mailgun would refuse, refused here with a clear message
 * before anything is built. */
static int check_message(const vc_outbound *m, vc_buf *to, vc_buf *from)
{
  size_t need = 8192; /* framing, ids, addresses */
  int rc;

  if (vc__addr_email(to, m->to) < 0)
    return vc__error_wrap("recipient");
  if (vc__addr_email(from, m->from) < 0)
    return vc__error_wrap("sender");
  if ((rc = check_label("sender name", m->from_name, LABEL_MAX, 0)) < 0 ||
      (rc = check_label("subject", m->subject, SUBJECT_MAX, 0)) < 0 ||
      (rc = check_label("message id", m->message_id, ID_MAX, 0)) < 0 ||
      (rc = check_label("tenant id", m->tenant_id, ID_MAX, 0)) < 0 ||
      (rc = vc__check_text("text body", m->text, REQUEST_MAX, 0)) < 0 ||
      (rc = vc__check_text("HTML body", m->html, REQUEST_MAX, 0)) < 0)
    return rc;
  if (!vc__present(m->text) && !vc__present(m->html))
    return BAD_INPUT("an email needs a text or an HTML body");
  need += (m->text ? strlen(m->text) : 0) + (m->html ? strlen(m->html) : 0);
  if (m->nattachments > 0 && m->attachments == NULL)
    return BAD_INPUT("invalid argument: 'attachments'");
  for (size_t i = 0; i < m->nattachments && need <= REQUEST_MAX; i++) {
    const vc_attachment *a = &m->attachments[i];
    if (a->data == NULL && a->url != NULL)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                           "attachment %zu is a URL; Mailgun takes "
                           "attachment bytes only", i + 1);
    if (a->data == NULL || a->len == 0)
      return BAD_INPUT("attachment %zu has no content", i + 1);
    if ((rc = check_label("attachment filename", a->filename, LABEL_MAX,
                          1)) < 0 ||
        (rc = check_label("attachment content type", a->content_type,
                          LABEL_MAX, 0)) < 0)
      return rc;
    /* Bounded before adding, so the sum cannot wrap. */
    need += a->len > REQUEST_MAX ? REQUEST_MAX + 1 : a->len + 3 * LABEL_MAX;
  }
  if (need > REQUEST_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "the email is larger than Mailgun's 25 MB limit");
  return 0;
}

/* RFC 5322 atext, and the space between words. */
static int atext_or_space(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c >= 0x80 || c == ' ' ||
         strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* `from` as Mailgun reads it: the address, or `Name <address>` with the
 * name quoted (and '"' and '\' escaped) unless it is plain words. */
static int format_from(vc_buf *out, const char *addr, const char *name)
{
  int plain = 1, rc;

  if (!vc__present(name))
    return vc__buf_puts(out, addr);
  for (const char *p = name; *p; p++)
    plain &= atext_or_space((unsigned char)*p);
  plain &= name[0] != ' ' && name[strlen(name) - 1] != ' ';
  if (plain)
    return vc__buf_printf(out, "%s <%s>", name, addr);
  if ((rc = vc__buf_puts(out, "\"")) < 0)
    return rc;
  for (const char *p = name; *p && rc == 0; p++)
    rc = (*p == '"' || *p == '\\') ? vc__buf_printf(out, "\\%c", *p)
                                   : vc__buf_put(out, p, 1);
  return rc < 0 ? rc : vc__buf_printf(out, "\" <%s>", addr);
}

/* One field: urlencoded, or multipart when the email has files. */
static int add_field(vc_http_out *req, int multipart, const char *name,
                     const char *value)
{
  return multipart
           ? vc_http_out_multipart_add(req, name, NULL, NULL, value,
                                       strlen(value))
           : vc_http_out_form_add(req, name, value);
}

/* A header value of one line (no CR, LF or other control). */
static int one_line(const char *v)
{
  for (; *v != '\0'; v++)
    if ((unsigned char)*v < 0x20 || *v == 0x7f)
      return 0;
  return 1;
}

static int mg_build_send(void *state, const vc_outbound *msg,
                         vc_http_out *req)
{
  static const char *const clicks[] = { "no", "yes", "htmlonly" };
  const mg_state *s = state;
  vc_buf to = VC_BUF_INIT, from = VC_BUF_INIT, sender = VC_BUF_INIT;
  int mp, rc;

  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(msg);
  VC_ASSERT_ARG(req);
  VC_CHECK_VERSION(msg, VC_OUTBOUND_VERSION, "vc_outbound");
  if ((rc = check_message(msg, &to, &from)) < 0 ||
      (rc = format_from(&sender, from.ptr, msg->from_name)) < 0)
    goto out;
  mp = msg->nattachments > 0;
  if ((rc = vc_http_out_set_target(req, "POST", s->send_url)) < 0 ||
      (rc = vc_http_out_basic_auth(req, "api", s->api_key)) < 0 ||
      (rc = vc_http_out_add_header(req, "Accept", "application/json")) < 0 ||
      (rc = add_field(req, mp, "from", sender.ptr)) < 0 ||
      (rc = add_field(req, mp, "to", to.ptr)) < 0 ||
      (vc__present(msg->subject) &&
       (rc = add_field(req, mp, "subject", msg->subject)) < 0) ||
      (vc__present(msg->text) &&
       (rc = add_field(req, mp, "text", msg->text)) < 0) ||
      (vc__present(msg->html) &&
       (rc = add_field(req, mp, "html", msg->html)) < 0))
    goto out;
  /* Our ids come back in every event's user-variables. */
  if ((vc__present(msg->message_id) &&
       (rc = add_field(req, mp, "v:vc_message_id", msg->message_id)) < 0) ||
      (vc__present(msg->tenant_id) &&
       (rc = add_field(req, mp, "v:vc_tenant_id", msg->tenant_id)) < 0) ||
      (s->test_mode == 1 &&
       (rc = add_field(req, mp, "o:testmode", "yes")) < 0) ||
      (s->track_opens >= 0 &&
       (rc = add_field(req, mp, "o:tracking-opens",
                       s->track_opens ? "yes" : "no")) < 0) ||
      (s->track_clicks >= 0 &&
       (rc = add_field(req, mp, "o:tracking-clicks",
                       clicks[s->track_clicks])) < 0))
    goto out;
  /* RFC 8058 one-click unsubscribe (vc_outbound version 2): custom
   * headers are h: fields. */
  if (msg->version >= 2 && msg->list_unsubscribe != NULL) {
    if (!one_line(msg->list_unsubscribe) ||
        (msg->list_unsubscribe_post != NULL &&
         !one_line(msg->list_unsubscribe_post))) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "List-Unsubscribe value is not one line");
      goto out;
    }
    if ((rc = add_field(req, mp, "h:List-Unsubscribe",
                        msg->list_unsubscribe)) < 0 ||
        (msg->list_unsubscribe_post != NULL &&
         (rc = add_field(req, mp, "h:List-Unsubscribe-Post",
                         msg->list_unsubscribe_post)) < 0))
      goto out;
  }
  for (size_t i = 0; i < msg->nattachments && rc == 0; i++) {
    const vc_attachment *a = &msg->attachments[i];
    rc = vc_http_out_multipart_add(req, "attachment", a->filename,
                                   vc__present(a->content_type)
                                     ? a->content_type : NULL,
                                   a->data, a->len);
  }
out:
  vc_buf_dispose(&to);
  vc_buf_dispose(&from);
  vc_buf_dispose(&sender);
  return rc;
}

/* ------------------------------------------------------------------ */
/* parse_send                                                          */

/* A response body as a C string (the transport's may hold anything):
 * 0 with a copy in *out, or -1 when there is none worth reading. */
static int body_text(vc_buf *out, const vc_http_response *res)
{
  if (res->body.ptr == NULL || res->body.size == 0 ||
      res->body.size > ERROR_BODY_MAX ||
      memchr(res->body.ptr, '\0', res->body.size) != NULL ||
      vc__buf_put(out, res->body.ptr, res->body.size) < 0) {
    vc_buf_dispose(out);
    return -1;
  }
  return 0;
}

/* Mailgun's text for an error: {"message": ...} (or "error"), else a
 * plain-text body such as 401's "Forbidden". */
static void error_detail(const vc_http_response *res, vc_send_result *out)
{
  const cJSON *m;
  cJSON *root = NULL;
  vc_buf text = VC_BUF_INIT;
  const char *body;

  snprintf(out->provider_code, sizeof(out->provider_code), "%d",
           res->status);
  snprintf(out->error_message, sizeof(out->error_message),
           "HTTP %d from Mailgun", res->status);
  if (body_text(&text, res) < 0)
    return;
  body = text.ptr;
  if (vc__json_parse(&root, "error body", body, ERROR_BODY_MAX,
                     JSON_DEPTH_MAX, 1) == 0) {
    m = cJSON_GetObjectItemCaseSensitive(root, "message");
    if (!cJSON_IsString(m) || !vc__present(m->valuestring))
      m = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsString(m) && vc__present(m->valuestring))
      copy_line(out->error_message, sizeof(out->error_message),
                m->valuestring, strlen(m->valuestring));
    cJSON_Delete(root);
  } else if (body[0] != '<' && body[0] != '{' && body[0] != '[') {
    /* Plain text: the first line. */
    copy_line(out->error_message, sizeof(out->error_message), body,
              strcspn(body, "\r\n"));
    if (out->error_message[0] == '\0')
      snprintf(out->error_message, sizeof(out->error_message),
               "HTTP %d from Mailgun", res->status);
  }
  vc_buf_dispose(&text);
  vc_error_clear();
}

/* The "id" of a 200 answer without its angle brackets, when it is one
 * printable token that fits. */
static void take_id(const vc_http_response *res, vc_send_result *out)
{
  int rc;
  const cJSON *id;
  cJSON *root = NULL;
  vc_buf text = VC_BUF_INIT;
  const char *v;
  size_t n;

  if (body_text(&text, res) < 0)
    return;
  rc = vc__json_parse(&root, "response", text.ptr, ERROR_BODY_MAX,
                      JSON_DEPTH_MAX, 1);
  vc_buf_dispose(&text);
  if (rc < 0) {
    vc_error_clear();
    return;
  }
  id = cJSON_GetObjectItemCaseSensitive(root, "id");
  if (cJSON_IsString(id) && (v = id->valuestring) != NULL) {
    n = strlen(v);
    if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
      v++;
      n -= 2;
    }
    if (n > 0 && n < sizeof(out->provider_id)) {
      size_t i = 0;
      while (i < n && (unsigned char)v[i] > 0x20 &&
             (unsigned char)v[i] < 0x7f && v[i] != '<' && v[i] != '>')
        i++;
      if (i == n)
        snprintf(out->provider_id, sizeof(out->provider_id), "%.*s",
                 (int)n, v);
    }
  }
  cJSON_Delete(root);
}

static int mg_parse_send(void *state, const vc_outbound *msg,
                         const vc_http_response *res, vc_send_result *out)
{
  const char *ra;
  int64_t v;
  int st;

  VC_UNUSED(state);
  VC_UNUSED(msg);
  VC_ASSERT_ARG(res);
  VC_ASSERT_ARG(out);
  st = res->status;
  if (st >= 200 && st < 300) {
    /* Queued. Without a readable id it is still accepted: a retry would
     * send a second email, and events find the message through the
     * vc_message_id variable. */
    out->outcome = VC_SEND_ACCEPTED;
    out->error = 0;
    take_id(res, out);
    return 0;
  }
  error_detail(res, out);
  if (st == 400) {
    /* A parameter of this message (addresses, body). */
    out->outcome = VC_SEND_REJECTED;
    out->error = VC_EPROVIDER;
  } else if (st == 401 || st == 403) {
    /* The key, or an account or domain not allowed to send: another
     * channel may. */
    out->outcome = VC_SEND_FAILOVER;
    out->error = VC_EAUTH;
  } else if (st == 413) {
    out->outcome = VC_SEND_REJECTED;
    out->error = VC_ETOOBIG;
  } else if (st == 429) {
    out->outcome = VC_SEND_RETRY;
    out->error = VC_ERATELIMIT;
  } else {
    /* 404 ("Domain not found", which Mailgun documents may be eventual
     * consistency), 5xx, and anything else: again later; a channel that
     * keeps failing is left by the dispatcher. */
    out->outcome = VC_SEND_RETRY;
    out->error = VC_EPROVIDER;
  }
  /* Mailgun does not name its rate-limit header (UNCONFIRMED);
   * Retry-After in seconds is honoured when present. */
  ra = vc_http_response_header(res, "Retry-After");
  if (out->outcome == VC_SEND_RETRY && ra != NULL) {
    while (*ra == ' ')
      ra++;
    if ((v = parse_digits(ra, 9)) >= 0)
      out->retry_after_ms = (v > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : v) *
                            INT64_C(1000);
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Webhook bodies                                                      */

/* A webhook's body, parsed once per call: JSON events, or the fields
 * of a routed message (urlencoded or multipart). */
typedef struct mg_body {
  cJSON *json;           /* events */
  vc__form form;         /* routed mail */
  size_t nfiles;
  const char *ts, *token, *sig;
  char ts_buf[24];       /* a JSON number timestamp, as text */
} mg_body;

static void body_free(mg_body *b)
{
  cJSON_Delete(b->json);
  vc__form_free(&b->form);
  memset(b, 0, sizeof(*b));
}

static int is_json(const vc_http_request *req)
{
  if (vc_http_request_header(req, "Content-Type") != NULL)
    return content_type_is(req, "application/json");
  /* No type: a JSON object starts with '{'. */
  for (size_t i = 0; i < req->body_len; i++)
    if (req->body[i] != ' ' && req->body[i] != '\t' &&
        req->body[i] != '\r' && req->body[i] != '\n')
      return req->body[i] == '{';
  return 0;
}

/* A field of a routed message that must not repeat (a repeated one
 * could be swapped without breaking a signature it is not part of). */
static int form_field(const char **out, const vc__form *f, const char *name)
{
  *out = NULL;
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->pairs[i].name, name) == 0) {
      if (*out != NULL)
        return BAD_INPUT("field '%s' appears more than once", name);
      *out = f->pairs[i].value;
    }
  return 0;
}

static int body_parse(mg_body *b, const vc_http_request *req)
{
  const cJSON *sig, *ts, *tok, *hex;
  vc_buf text = VC_BUF_INIT;
  int rc;

  memset(b, 0, sizeof(*b));
  if (req->body_len > WEBHOOK_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "webhook body is larger than %d bytes",
                         WEBHOOK_MAX);
  if (is_json(req)) {
    if (req->body_len > 0 && memchr(req->body, '\0', req->body_len) != NULL)
      return BAD_INPUT("webhook body holds a NUL byte");
    if ((rc = vc__buf_put(&text, req->body ? req->body : (const uint8_t *)"",
                          req->body_len)) < 0)
      return rc;
    rc = vc__json_parse(&b->json, "webhook body", text.ptr, WEBHOOK_MAX,
                        JSON_DEPTH_MAX, 1);
    vc_buf_dispose(&text);
    if (rc < 0)
      return rc;
    sig = cJSON_GetObjectItemCaseSensitive(b->json, "signature");
    if (!cJSON_IsObject(sig))
      return BAD_INPUT("webhook has no 'signature' object");
    ts = cJSON_GetObjectItemCaseSensitive(sig, "timestamp");
    tok = cJSON_GetObjectItemCaseSensitive(sig, "token");
    hex = cJSON_GetObjectItemCaseSensitive(sig, "signature");
    if (cJSON_IsString(ts)) {
      b->ts = ts->valuestring;
    } else if (cJSON_IsNumber(ts) && whole_in(ts->valuedouble, 0, 1e11)) {
      /* Mailgun sends a string; a whole number is read as its digits. */
      snprintf(b->ts_buf, sizeof(b->ts_buf), "%lld",
               (long long)ts->valuedouble);
      b->ts = b->ts_buf;
    }
    b->token = cJSON_IsString(tok) ? tok->valuestring : NULL;
    b->sig = cJSON_IsString(hex) ? hex->valuestring : NULL;
    return 0;
  }
  if (content_type_is(req, "multipart/form-data")) {
    rc = vc__multipart_parse(&b->form, &b->nfiles,
                             vc_http_request_header(req, "Content-Type"),
                             req->body, req->body_len, FORM_FIELDS_MAX);
  } else if (content_type_is(req, "application/x-www-form-urlencoded") ||
             vc_http_request_header(req, "Content-Type") == NULL) {
    /* Files are multipart; a form is text, and an encoded NUL would cut
     * a value short. */
    if (req->body_len > 0 && memchr(req->body, '\0', req->body_len) != NULL)
      return BAD_INPUT("webhook body holds a NUL byte");
    for (size_t i = 0; i + 2 < req->body_len; i++)
      if (req->body[i] == '%' && req->body[i + 1] == '0' &&
          req->body[i + 2] == '0')
        return BAD_INPUT("webhook body holds an encoded NUL");
    rc = vc__form_parse(&b->form, (const char *)req->body, req->body_len,
                        FORM_FIELDS_MAX);
  } else {
    return BAD_INPUT("webhook body is neither JSON nor a form");
  }
  if (rc < 0)
    return rc;
  if ((rc = form_field(&b->ts, &b->form, "timestamp")) < 0 ||
      (rc = form_field(&b->token, &b->form, "token")) < 0 ||
      (rc = form_field(&b->sig, &b->form, "signature")) < 0)
    return rc;
  return 0;
}

/* ------------------------------------------------------------------ */
/* verify_webhook                                                      */

static int auth_fail(const char *why)
{
  return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH, "Mailgun webhook: %s",
                       why);
}

/* hex HMAC-SHA256(key, timestamp || token) against `sig`. */
static int check_signature(const char *key, const char *ts,
                           const char *token, const char *sig)
{
  uint8_t mac[32];
  char want[SIG_HEX + 1], got[SIG_HEX + 1];
  vc_buf msg = VC_BUF_INIT;
  int rc;

  if (strnlen(sig, SIG_HEX + 1) != SIG_HEX)
    return auth_fail("signature is not 64 hex digits");
  for (int i = 0; i < SIG_HEX; i++) {
    char c = sig[i];
    if (c >= 'A' && c <= 'F')
      c = (char)(c | 0x20);
    else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return auth_fail("signature is not 64 hex digits");
    got[i] = c;
  }
  got[SIG_HEX] = '\0';
  if ((rc = vc__buf_puts(&msg, ts)) < 0 ||
      (rc = vc__buf_puts(&msg, token)) < 0 ||
      (rc = vc__hmac(mac, VC__MD_SHA256, key, strlen(key), msg.ptr,
                     msg.size)) < 0)
    goto out;
  vc__hex_encode(want, mac, sizeof(mac));
  rc = vc__ct_equal(want, got, SIG_HEX) ? 0
                                        : auth_fail("signature does not "
                                                    "verify");
out:
  vc_buf_dispose(&msg);
  return rc;
}

static int mg_verify_webhook(void *state, const vc_http_request *req,
                             vc_webhook_env *env)
{
  const mg_state *s = state;
  mg_body b;
  int64_t t, now;
  size_t tl;
  int rc;

  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(env);
  VC_ASSERT_ARG(req->body != NULL || req->body_len == 0);
  if (s->signing_key == NULL)
    return auth_fail("no signing key configured (credential "
                     "'webhook_signing_key')");
  if (req->body_len > WEBHOOK_MAX)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_ETOOBIG,
                         "webhook body is larger than %d bytes",
                         WEBHOOK_MAX);
  if ((rc = body_parse(&b, req)) < 0) {
    body_free(&b);
    if (rc == VC_ENOMEM)
      return rc;
    return auth_fail("unreadable body, no signature found");
  }
  if (b.ts == NULL || b.token == NULL || b.sig == NULL) {
    rc = auth_fail("timestamp, token or signature missing");
    goto out;
  }
  if ((t = parse_digits(b.ts, TS_DIGITS_MAX)) < 0) {
    rc = auth_fail("timestamp is not a Unix time");
    goto out;
  }
  tl = strnlen(b.token, TOKEN_MAX + 1);
  if (tl == 0 || tl > TOKEN_MAX) {
    rc = auth_fail("token is empty or too long");
    goto out;
  }
  for (size_t i = 0; i < tl; i++)
    if ((unsigned char)b.token[i] <= 0x20 ||
        (unsigned char)b.token[i] >= 0x7f) {
      rc = auth_fail("token is not printable ASCII");
      goto out;
    }
  if ((rc = check_signature(s->signing_key, b.ts, b.token, b.sig)) < 0)
    goto out;
  /* Checked after the signature, so that a forged timestamp is reported
   * as a bad signature. */
  now = vc_webhook_env_now(env);
  if (now < t * 1000 - s->window_ms || now > t * 1000 + s->window_ms) {
    rc = vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH,
                       "Mailgun webhook: timestamp is outside the %lld s "
                       "window", (long long)(s->window_ms / 1000));
    goto out;
  }
  rc = 0;
out:
  body_free(&b);
  return rc;
}

/* ------------------------------------------------------------------ */
/* parse_webhook: events                                               */

/* The fields of one event that we read. */
typedef struct mg_event {
  const char *event;
  const char *id;            /* event-data.id: the dedupe key */
  const char *message_id;    /* user-variables.vc_message_id */
  const char *provider_id;   /* message.headers.message-id */
  const char *severity;
  const char *reason;
  const char *ds_message;    /* delivery-status.message */
  const char *ds_desc;       /* delivery-status.description */
  const char *reject;        /* reject.reason / reject.description */
  char code[24];             /* delivery-status.code as text */
  int64_t occurred_at;
} mg_event;

/* An optional string member: absent and null give NULL, anything else
 * but a string is malformed, and so is one past `max` bytes. */
static int opt_string(const char **out, const cJSON *obj, const char *key,
                      size_t max)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

  *out = NULL;
  if (v == NULL || cJSON_IsNull(v))
    return 0;
  if (!cJSON_IsString(v) || v->valuestring == NULL)
    return BAD_INPUT("event-data: '%s' is not a string", key);
  if (max > 0 && strlen(v->valuestring) > max)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "event-data: '%s' is longer than %zu bytes", key,
                         max);
  *out = vc__present(v->valuestring) ? v->valuestring : NULL;
  return 0;
}

/* An optional object member: NULL when absent or null. */
static int opt_object(const cJSON **out, const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

  *out = NULL;
  if (v == NULL || cJSON_IsNull(v))
    return 0;
  if (!cJSON_IsObject(v))
    return BAD_INPUT("event-data: '%s' is not an object", key);
  *out = v;
  return 0;
}

/* What an event means for the message's status; 0 for nothing. */
static int event_status(const mg_event *e)
{
  if (strcmp(e->event, "accepted") == 0)
    return VC_MSG_SENT;
  if (strcmp(e->event, "delivered") == 0)
    return VC_MSG_DELIVERED;
  /* A click comes from someone who opened it. */
  if (strcmp(e->event, "opened") == 0 || strcmp(e->event, "clicked") == 0)
    return VC_MSG_READ;
  if (strcmp(e->event, "failed") == 0) {
    if (e->severity == NULL || strcmp(e->severity, "permanent") != 0)
      return 0;              /* temporary: Mailgun tries again */
    /* Not even tried (a suppressed address) is undelivered, like
     * SendGrid's dropped; a remote refusal is a bounce. */
    return e->reason != NULL && strncmp(e->reason, "suppress-", 9) == 0
             ? VC_MSG_UNDELIVERED : VC_MSG_BOUNCED;
  }
  if (strcmp(e->event, "rejected") == 0)
    return VC_MSG_UNDELIVERED;
  /* unsubscribed, complained, stored, list events, new ones: not a
   * delivery status. */
  return 0;
}

static int read_event(mg_event *e, const cJSON *ed)
{
  const cJSON *uv, *msg, *hdrs, *ds, *rej, *v;
  int rc;

  memset(e, 0, sizeof(*e));
  if (!cJSON_IsObject(ed))
    return BAD_INPUT("webhook has no 'event-data' object");
  if ((rc = opt_string(&e->event, ed, "event", 64)) < 0)
    return rc;
  if (e->event == NULL)
    return BAD_INPUT("event-data has no 'event'");
  if ((rc = opt_string(&e->severity, ed, "severity", 64)) < 0 ||
      (rc = opt_string(&e->reason, ed, "reason", FIELD_MAX)) < 0)
    return rc;
  if (event_status(e) == 0)
    return 0;                /* not read further: nothing to apply */
  if ((rc = opt_string(&e->id, ed, "id", FIELD_MAX)) < 0 ||
      (rc = opt_object(&uv, ed, "user-variables")) < 0 ||
      (rc = opt_object(&msg, ed, "message")) < 0 ||
      (rc = opt_object(&ds, ed, "delivery-status")) < 0 ||
      (rc = opt_object(&rej, ed, "reject")) < 0)
    return rc;
  /* A user variable may hold any JSON our sends never put there: only a
   * string is our id. */
  v = cJSON_GetObjectItemCaseSensitive(uv, "vc_message_id");
  if (cJSON_IsString(v) && vc__present(v->valuestring) &&
      strlen(v->valuestring) <= ID_MAX)
    e->message_id = v->valuestring;
  if (msg != NULL) {
    if ((rc = opt_object(&hdrs, msg, "headers")) < 0 ||
        (hdrs != NULL &&
         (rc = opt_string(&e->provider_id, hdrs, "message-id",
                          FIELD_MAX)) < 0))
      return rc;
  }
  if (ds != NULL) {
    if ((rc = opt_string(&e->ds_message, ds, "message", 0)) < 0 ||
        (rc = opt_string(&e->ds_desc, ds, "description", 0)) < 0)
      return rc;
    v = cJSON_GetObjectItemCaseSensitive(ds, "code");
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e6)
      snprintf(e->code, sizeof(e->code), "%d", (int)v->valuedouble);
  }
  if (rej != NULL) {
    const char *r, *d;
    if ((rc = opt_string(&r, rej, "reason", 0)) < 0 ||
        (rc = opt_string(&d, rej, "description", 0)) < 0)
      return rc;
    e->reject = d ? d : r;
  }
  v = cJSON_GetObjectItemCaseSensitive(ed, "timestamp");
  if (v != NULL && !cJSON_IsNull(v)) {
    /* Float seconds, up to year 5138: times 1000 fits easily. */
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble < 0 || v->valuedouble >= 1e11)
      return BAD_INPUT("event-data: 'timestamp' is not a Unix time");
    e->occurred_at = (int64_t)(v->valuedouble * 1000.0);
  }
  return 0;
}

static int report_event(vc_event_sink *sink, const mg_event *e)
{
  vc_status_update u;
  char text[FIELD_MAX + 1], pid[FIELD_MAX + 1];
  const char *why;
  int status = event_status(e);

  if (status == 0)
    return 0;
  memset(&u, 0, sizeof(u));
  u.version = VC_STATUS_UPDATE_VERSION;
  u.message_id = e->message_id;
  if (e->provider_id != NULL) {
    /* Events write the id without the brackets of the send answer;
     * strip them if some other sender kept them. */
    const char *p = e->provider_id;
    size_t n = strlen(p);
    if (n >= 2 && p[0] == '<' && p[n - 1] == '>') {
      p++;
      n -= 2;
    }
    snprintf(pid, sizeof(pid), "%.*s", (int)n, p);
    u.provider_id = pid[0] != '\0' ? pid : NULL;
  }
  /* Mail this library did not send carries neither id. */
  if (u.message_id == NULL && u.provider_id == NULL)
    return 0;
  u.status = status;
  u.event_id = e->id;
  u.occurred_at = e->occurred_at;
  if (status == VC_MSG_BOUNCED || status == VC_MSG_UNDELIVERED) {
    u.provider_code = e->code[0] ? e->code : e->reason;
    why = e->ds_message ? e->ds_message
        : e->ds_desc ? e->ds_desc
        : e->reject ? e->reject : e->reason;
    if (why != NULL) {
      /* Remote MTAs write these: one line, cut to the sink's bound. */
      copy_line(text, sizeof(text), why, strlen(why));
      u.error_message = text[0] ? text : NULL;
    }
  }
  return vc_event_sink_status(sink, &u);
}

/* ------------------------------------------------------------------ */
/* parse_webhook: routed mail                                          */

/* The address of a From header ("Name <addr>" or "addr"), into out. */
static int header_address(vc_buf *out, const char *from)
{
  const char *lt = strrchr(from, '<'), *gt;
  vc_buf tmp = VC_BUF_INIT;
  int rc;

  if (lt != NULL && (gt = strchr(lt, '>')) != NULL) {
    if ((rc = vc__buf_put(&tmp, lt + 1, (size_t)(gt - lt - 1))) == 0)
      rc = vc__addr_email(out, tmp.ptr);
    vc_buf_dispose(&tmp);
    return rc;
  }
  return vc__addr_email(out, from);
}

/* The Message-Id: the field Mailgun adds per MIME header, else the one
 * in message-headers ([[name, value], ...]); brackets stripped. */
static int find_message_id(vc_buf *out, const vc__form *f)
{
  const char *v = NULL, *h;
  cJSON *list = NULL;
  const cJSON *pair;
  size_t n;
  int rc;

  for (size_t i = 0; i < f->n && v == NULL; i++)
    if (strcasecmp(f->pairs[i].name, "Message-Id") == 0)
      v = f->pairs[i].value;
  if (v == NULL && (rc = form_field(&h, f, "message-headers")) == 0 &&
      h != NULL &&
      vc__json_parse(&list, "message-headers", h, WEBHOOK_MAX,
                     JSON_DEPTH_MAX, 0) == 0 && cJSON_IsArray(list)) {
    cJSON_ArrayForEach(pair, list) {
      const cJSON *k = cJSON_GetArrayItem(pair, 0);
      const cJSON *val = cJSON_GetArrayItem(pair, 1);
      if (cJSON_IsString(k) && cJSON_IsString(val) &&
          strcasecmp(k->valuestring, "Message-Id") == 0) {
        v = val->valuestring;
        break;
      }
    }
  }
  vc_error_clear();
  rc = 0;
  if (v != NULL) {
    while (*v == ' ' || *v == '\t')
      v++;
    n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
      n--;
    if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
      v++;
      n -= 2;
    }
    if (n > 0 && n <= FIELD_MAX && vc__utf8_valid(v, n))
      rc = vc__buf_put(out, v, n);
  }
  cJSON_Delete(list);
  return rc;
}

static int parse_routed(const mg_body *b, vc_event_sink *sink)
{
  const char *sender, *from, *rcpt, *plain;
  vc_buf addr = VC_BUF_INIT, id = VC_BUF_INIT, text = VC_BUF_INIT;
  int64_t t;
  vc_inbound m;
  size_t n;
  int rc;

  if ((rc = form_field(&sender, &b->form, "sender")) < 0 ||
      (rc = form_field(&from, &b->form, "from")) < 0 ||
      (rc = form_field(&rcpt, &b->form, "recipient")) < 0 ||
      (rc = form_field(&plain, &b->form, "body-plain")) < 0)
    return rc;
  for (size_t i = 0; i < b->form.n; i++)
    if (!vc__utf8_valid(b->form.pairs[i].name,
                        strlen(b->form.pairs[i].name)) ||
        !vc__utf8_valid(b->form.pairs[i].value,
                        strlen(b->form.pairs[i].value)))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EENCODING,
                           "field %zu of the routed message is not UTF-8",
                           i);
  if (!vc__present(sender) && !vc__present(from))
    return BAD_INPUT("routed message has neither 'sender' nor 'from'");
  /* The From header's address is whom a reply goes to; the envelope
   * sender (often a bounce address) when it has none we can read. */
  if (!vc__present(from) || header_address(&addr, from) < 0) {
    vc_buf_dispose(&addr);
    if (!vc__present(sender) || vc__addr_email(&addr, sender) < 0) {
      rc = vc__error_wrap("routed message sender");
      goto out;
    }
  }
  vc_error_clear();
  if (vc__present(rcpt) && strlen(rcpt) > FIELD_MAX) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                       "routed message recipient is too long");
    goto out;
  }
  if ((rc = find_message_id(&id, &b->form)) < 0)
    goto out;
  if (plain != NULL) {
    /* The sink keeps 64 KB of text: cut between characters. */
    n = strlen(plain);
    if (n > TEXT_MAX) {
      n = TEXT_MAX;
      while (n > 0 && ((unsigned char)plain[n] & 0xc0) == 0x80)
        n--;
    }
    if ((rc = vc__buf_put(&text, plain, n)) < 0)
      goto out;
  }
  memset(&m, 0, sizeof(m));
  m.version = VC_INBOUND_VERSION;
  m.provider_id = id.ptr;
  m.from = addr.ptr;
  m.to = vc__present(rcpt) ? rcpt : NULL;
  m.text = text.ptr;
  /* Attachments arrive as bytes, not URLs: not kept (vc_inbound carries
   * media URLs only). */
  if ((t = parse_digits(b->ts, TS_DIGITS_MAX)) > 0)
    m.occurred_at = t * 1000;
  rc = vc_event_sink_inbound(sink, &m);
out:
  vc_buf_dispose(&addr);
  vc_buf_dispose(&id);
  vc_buf_dispose(&text);
  return rc;
}

static int mg_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  mg_body b;
  mg_event e;
  const char *event;
  int rc;

  VC_UNUSED(state);
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(sink);
  VC_ASSERT_ARG(req->body != NULL || req->body_len == 0);
  if ((rc = body_parse(&b, req)) < 0)
    goto out;
  if (b.token == NULL || b.token[0] == '\0' ||
      strnlen(b.token, TOKEN_MAX + 1) > TOKEN_MAX) {
    rc = BAD_INPUT("webhook has no token of 1 to %d bytes", TOKEN_MAX);
    goto out;
  }
  /* Every token once: the signature does not cover the body, so a token
   * seen before must change nothing, whatever the body says. */
  if ((rc = vc_event_sink_once(sink, b.token)) == VC_EEXISTS) {
    vc_error_clear();
    rc = 0;
    goto out;
  }
  if (rc < 0)
    goto out;
  if (b.json != NULL) {
    if ((rc = read_event(&e, cJSON_GetObjectItemCaseSensitive(
                               b.json, "event-data"))) < 0 ||
        (rc = report_event(sink, &e)) < 0)
      goto out;
  } else {
    if ((rc = form_field(&event, &b.form, "event")) < 0)
      goto out;
    if (event != NULL) {
      /* A legacy form-encoded event webhook: answered 406, which tells
       * Mailgun not to retry. The JSON webhooks replace it. */
      rc = vc_event_sink_reply(sink, 406, "text/plain",
                               "legacy Mailgun webhooks are not "
                               "supported: use the JSON webhooks\n");
      goto out;
    }
    if ((rc = parse_routed(&b, sink)) < 0)
      goto out;
  }
  rc = vc_event_sink_reply(sink, 200, NULL, NULL);
out:
  body_free(&b);
  return rc;
}

const vc_adapter vc__adapter_mailgun = {
  .version = VC_ADAPTER_VERSION,
  .name = "mailgun",
  .kind = VC_CHANNEL_EMAIL,
  .capabilities = VC_CAP_DELIVERY_REPORTS | VC_CAP_INBOUND | VC_CAP_MEDIA |
                  VC_CAP_HTML | VC_CAP_SIGNED_WEBHOOKS,
  .init = mg_init,
  .fini = mg_fini,
  .build_send = mg_build_send,
  .parse_send = mg_parse_send,
  .verify_webhook = mg_verify_webhook,
  .parse_webhook = mg_parse_webhook,
};
