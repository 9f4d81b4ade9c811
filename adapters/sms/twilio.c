/*
 * Twilio Programmable Messaging (SMS/MMS): the "twilio-sms" adapter.
 *
 * Pure translation (DESIGN 2, 6): a form-encoded POST to
 * /2010-04-01/Accounts/{AccountSid}/Messages.json with Basic auth, the
 * JSON answer or error, the X-Twilio-Signature check, and the status
 * callbacks and inbound messages Twilio posts back. Wire facts:
 * providers.md sections 0a and 8 (errors as in 1.3).
 *
 * The state is immutable after init, so every method may run on several
 * threads at once.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/text.h"
#include "adapters/builtin.h"
#include "adapters/common.h"
#include "adapters/sms/twilio.h"
#include "adapters/twilio_common.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define DEFAULT_BASE_URL "https://api.twilio.com"
#define SID_LEN 34              /* two letters and 32 hex digits */
#define TOKEN_LEN 32            /* an auth token: 32 hex digits */
#define KEY_SECRET_MIN 16
#define KEY_SECRET_MAX 128
#define BASE_URL_MAX 512
#define ADDR_MAX 256            /* To and From ("whatsapp:+1...") */
#define URL_MAX 2048            /* MediaUrl, StatusCallback */
#define MSG_ID_MAX 64
#define BODY_CHARS_MAX 1600     /* Twilio's Body limit (error 21617) */
#define MEDIA_MAX 10            /* media per message (error 21623) */
#define HOOK_BODY_MAX (64 * 1024)
#define HOOK_PARAMS_MAX 200
#define PRICE_DIGITS_MAX 12     /* before the point; a charge is "-0.0075" */
#define TWIML_EMPTY \
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"

#define BAD_INPUT(...) \
  vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)

typedef struct tw_state {
  char account_sid[SID_LEN + 1];
  char service_sid[SID_LEN + 1];  /* "" when not configured */
  char auth_user[SID_LEN + 1];    /* account SID or API key SID */
  char auth_token[TOKEN_LEN + 1]; /* the key of webhook signatures */
  char *auth_secret;              /* Basic password: token or key secret */
  char *authorization;            /* "Basic ..." of auth_user:auth_secret */
  char *messages_url;             /* .../Accounts/{sid}/Messages.json */
} tw_state;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */


/* 1..max bytes of [A-Za-z0-9_-]: ids we echo or store. */
static int is_id(const char *s, size_t max)
{
  size_t n = strnlen(s, max + 1);

  if (n == 0 || n > max)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!vc__is_alnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
      return 0;
  return 1;
}

/* An absolute http(s) URL on one line without spaces. */
static int check_url(const char *field, const char *url)
{
  int rc;

  if ((rc = vc__check_text(field, url, URL_MAX, 1)) < 0)
    return rc;
  if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
    return BAD_INPUT("%s must be an http(s) URL", field);
  for (const char *p = url; *p; p++)
    if ((unsigned char)*p <= 0x20 || *p == 0x7f)
      return BAD_INPUT("%s has a space or control character", field);
  return 0;
}


/* ------------------------------------------------------------------ */
/* init / fini                                                         */

static void tw_fini(void *state)
{
  tw_state *st = state;

  if (st == NULL)
    return;
  vc__adapter_free_secret(st->auth_secret);
  vc__adapter_free_secret(st->authorization);
  vc__free(st->messages_url);
  vc__wipe(st, sizeof(*st));
  vc__free(st);
}

/* The API's base URL: http(s), a host, an optional path; no userinfo,
 * query or fragment (the adapter appends a path); http:// only to a
 * loopback host, since every request carries the auth token. *len is its
 * length without trailing slashes. */
static int check_base_url(const char *base, size_t *len)
{
  size_t n = strnlen(base, BASE_URL_MAX + 1), skip;

  if (n > BASE_URL_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "config.base_url is longer than %d bytes",
                         BASE_URL_MAX);
  if (strncmp(base, "https://", 8) == 0)
    skip = 8;
  else if (strncmp(base, "http://", 7) == 0)
    skip = 7;
  else
    return BAD_INPUT("config.base_url must start with https:// or "
                     "http://");
  for (size_t i = skip; i < n; i++) {
    unsigned char c = (unsigned char)base[i];
    if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '@' ||
        c == '\\')
      return BAD_INPUT("config.base_url has an invalid character at "
                       "byte %zu", i);
  }
  while (n > skip && base[n - 1] == '/')
    n--;
  if (n == skip || base[skip] == '/')
    return BAD_INPUT("config.base_url has no host");
  if (skip == 7 &&
      !vc__adapter_loopback_host(base + skip, strcspn(base + skip, "/")))
    return BAD_INPUT("config.base_url may use http:// only for a loopback "
                     "host");
  *len = n;
  return 0;
}

static int read_config(void *state, const cJSON *cfg)
{
  tw_state *st = state;
  static const char *const known[] = {
    "account_sid", "base_url", "messaging_service_sid"
  };
  const char *sid, *base, *svc;
  vc_buf url = VC_BUF_INIT;
  size_t n = 0;
  int rc;

  if ((rc = vc__adapter_check_keys(cfg, "config", known,
                                   VC_ARRAY_SIZE(known), 1)) < 0 ||
      (rc = vc__adapter_get_str(&sid, cfg, "config", "account_sid")) < 0 ||
      (rc = vc__adapter_get_str(&base, cfg, "config", "base_url")) < 0 ||
      (rc = vc__adapter_get_str(&svc, cfg, "config",
                                "messaging_service_sid")) < 0)
    return rc;
  if (sid == NULL)
    return BAD_INPUT("config.account_sid is required");
  if (!vc__twilio_is_sid(sid, "AC"))
    return BAD_INPUT("config.account_sid must be 'AC' and 32 hex "
                     "digits");
  if (svc != NULL && !vc__twilio_is_sid(svc, "MG"))
    return BAD_INPUT("config.messaging_service_sid must be 'MG' and 32 "
                     "hex digits");
  if ((rc = check_base_url(base ? base : DEFAULT_BASE_URL, &n)) < 0)
    return rc;
  memcpy(st->account_sid, sid, SID_LEN + 1);
  if (svc != NULL)
    memcpy(st->service_sid, svc, SID_LEN + 1);
  if ((rc = vc__buf_put(&url, base ? base : DEFAULT_BASE_URL, n)) < 0 ||
      (rc = vc__buf_printf(&url, "/2010-04-01/Accounts/%s/Messages.json",
                           sid)) < 0) {
    vc_buf_dispose(&url);
    return rc;
  }
  st->messages_url = url.ptr;
  return 0;
}

/* The Authorization header every request carries, encoded once. */
static int encode_authorization(tw_state *st)
{
  vc_buf plain = VC_BUF_INIT, value = VC_BUF_INIT;
  int rc;

  if ((rc = vc__buf_printf(&plain, "%s:%s", st->auth_user,
                           st->auth_secret)) == 0 &&
      (rc = vc__buf_puts(&value, "Basic ")) == 0 &&
      (rc = vc__base64_encode(&value, plain.ptr, plain.size)) == 0 &&
      (st->authorization = vc__strdup(value.ptr)) == NULL)
    rc = vc_error_set_oom();
  vc__buf_wipe(&plain);
  vc__buf_wipe(&value);
  return rc;
}

/* Credential checks never quote the value. */
static int read_credentials(void *state, const cJSON *cred)
{
  tw_state *st = state;
  static const char *const known[] = {
    "auth_token", "api_key_sid", "api_key_secret"
  };
  const char *token, *key_sid, *secret;
  size_t n;
  int rc;

  if ((rc = vc__adapter_check_keys(cred, "credentials", known,
                                   VC_ARRAY_SIZE(known), 0)) < 0 ||
      (rc = vc__adapter_get_str(&token, cred, "credentials",
                                "auth_token")) < 0 ||
      (rc = vc__adapter_get_str(&key_sid, cred, "credentials",
                                "api_key_sid")) < 0 ||
      (rc = vc__adapter_get_str(&secret, cred, "credentials",
                                "api_key_secret")) < 0)
    return rc;
  if (token == NULL)
    return BAD_INPUT("credentials.auth_token is required (it also "
                     "verifies webhooks)");
  if (strnlen(token, TOKEN_LEN + 1) != TOKEN_LEN ||
      !vc__all_of(token, TOKEN_LEN, vc__is_hex))
    return BAD_INPUT("credentials.auth_token must be 32 hex digits");
  if (key_sid != NULL && secret == NULL)
    return BAD_INPUT("credentials.api_key_secret is required with "
                     "credentials.api_key_sid");
  if (secret != NULL && key_sid == NULL)
    return BAD_INPUT("credentials.api_key_sid is required with "
                     "credentials.api_key_secret");
  if (key_sid != NULL && !vc__twilio_is_sid(key_sid, "SK"))
    return BAD_INPUT("credentials.api_key_sid must be 'SK' and 32 hex "
                     "digits");
  if (secret != NULL) {
    n = strnlen(secret, KEY_SECRET_MAX + 1);
    if (n < KEY_SECRET_MIN || n > KEY_SECRET_MAX ||
        !vc__all_of(secret, n, vc__is_alnum))
      return BAD_INPUT("credentials.api_key_secret must be %d to %d "
                       "letters or digits", KEY_SECRET_MIN,
                       KEY_SECRET_MAX);
  }
  memcpy(st->auth_token, token, TOKEN_LEN + 1);
  memcpy(st->auth_user, key_sid ? key_sid : st->account_sid, SID_LEN + 1);
  if ((st->auth_secret = vc__strdup(secret ? secret : token)) == NULL)
    return vc_error_set_oom();
  return encode_authorization(st);
}

static int tw_init(void **state, const char *config_json,
                   const char *credentials_json)
{
  return vc__adapter_init(state, sizeof(tw_state), config_json,
                          credentials_json, read_config, read_credentials,
                          tw_fini);
}

/* ------------------------------------------------------------------ */
/* build_send                                                          */

/* Body length as Twilio's 1600-character limit reads most strictly:
 * in UTF-16 code units, like the segment counter, so a character
 * outside the BMP (most emoji) counts two. `s` is valid UTF-8. */
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

/* Everything is checked before the request is touched. */
static int check_outbound(const tw_state *st, const vc_outbound *msg)
{
  size_t nmedia = 0;
  int has_text = msg->text != NULL && msg->text[0] != '\0';
  int rc;

  if ((rc = vc__check_text("recipient", msg->to, ADDR_MAX, 1)) < 0)
    return rc;
  if (msg->from != NULL && msg->from[0] != '\0') {
    if ((rc = vc__check_text("sender", msg->from, ADDR_MAX, 1)) < 0)
      return rc;
  } else if (st->service_sid[0] == '\0') {
    return BAD_INPUT("a Twilio message needs a sender: the message's "
                     "from or config.messaging_service_sid");
  }
  if (has_text) {
    if ((rc = vc__check_text("text", msg->text, 4 * BODY_CHARS_MAX,
                             1)) < 0)
      return rc;
    if (utf16_units(msg->text) > BODY_CHARS_MAX)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "text is longer than Twilio's %d characters",
                           BODY_CHARS_MAX);
  }
  if (msg->nattachments > 0 && msg->attachments == NULL)
    return BAD_INPUT("attachments are missing");
  for (size_t i = 0; i < msg->nattachments; i++) {
    const vc_attachment *a = &msg->attachments[i];

    if (a->url != NULL) {
      if ((rc = check_url("attachment URL", a->url)) < 0)
        return rc;
      nmedia++;
    } else if (a->data != NULL && a->len > 0) {
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                           "attachment %zu has bytes only: Twilio "
                           "fetches media by URL", i);
    } else {
      return BAD_INPUT("attachment %zu has neither a URL nor bytes", i);
    }
  }
  if (nmedia > MEDIA_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "more than %d media URLs", MEDIA_MAX);
  if (!has_text && nmedia == 0)
    return BAD_INPUT("a Twilio message needs a text or a media URL");
  if (msg->status_callback_url != NULL) {
    if ((rc = check_url("status callback URL",
                        msg->status_callback_url)) < 0)
      return rc;
    if (strchr(msg->status_callback_url, '#') != NULL)
      return BAD_INPUT("status callback URL has a fragment");
  }
  if (msg->message_id != NULL && msg->message_id[0] != '\0' &&
      !is_id(msg->message_id, MSG_ID_MAX))
    return BAD_INPUT("message id must be 1 to %d of [A-Za-z0-9_-]",
                     MSG_ID_MAX);
  return 0;
}

/* The StatusCallback: our URL plus vc_msg=<message id>. Twilio posts to
 * exactly this URL and signs it, so the id comes back authenticated. */
static int callback_url(vc_buf *out, const vc_outbound *msg)
{
  const char *url = msg->status_callback_url;
  size_t n = strlen(url);
  const char *sep;
  int rc;

  if ((rc = vc__buf_put(out, url, n)) < 0)
    return rc;
  if (msg->message_id == NULL || msg->message_id[0] == '\0')
    return 0;
  if (strchr(url, '?') == NULL)
    sep = "?";
  else
    sep = (url[n - 1] == '?' || url[n - 1] == '&') ? "" : "&";
  if ((rc = vc__buf_printf(out, "%svc_msg=", sep)) < 0)
    return rc;
  return vc__form_encode(out, msg->message_id, strlen(msg->message_id));
}

static int tw_build_send(void *state, const vc_outbound *msg,
                         vc_http_out *req)
{
  const tw_state *st = state;
  vc_buf cb = VC_BUF_INIT;
  int rc;

  VC_ASSERT_ARG(st);
  VC_ASSERT_ARG(msg);
  VC_ASSERT_ARG(req);
  VC_CHECK_VERSION(msg, VC_OUTBOUND_VERSION, "vc_outbound");
  if ((rc = check_outbound(st, msg)) < 0)
    return rc;
  if (msg->status_callback_url != NULL &&
      (rc = callback_url(&cb, msg)) < 0)
    goto out;
  if ((rc = vc_http_out_set_target(req, "POST", st->messages_url)) < 0 ||
      (rc = vc_http_out_add_header(req, "Authorization",
                                   st->authorization)) < 0 ||
      (rc = vc_http_out_add_header(req, "Accept",
                                   "application/json")) < 0 ||
      (rc = vc_http_out_form_add(req, "To", msg->to)) < 0)
    goto out;
  if (msg->from != NULL && msg->from[0] != '\0')
    rc = vc_http_out_form_add(req, "From", msg->from);
  else
    rc = vc_http_out_form_add(req, "MessagingServiceSid", st->service_sid);
  if (rc < 0)
    goto out;
  if (msg->text != NULL && msg->text[0] != '\0' &&
      (rc = vc_http_out_form_add(req, "Body", msg->text)) < 0)
    goto out;
  for (size_t i = 0; i < msg->nattachments; i++)
    if ((rc = vc_http_out_form_add(req, "MediaUrl",
                                   msg->attachments[i].url)) < 0)
      goto out;
  if (cb.ptr != NULL)
    rc = vc_http_out_form_add(req, "StatusCallback", cb.ptr);
out:
  vc_buf_dispose(&cb);
  return rc;
}

/* ------------------------------------------------------------------ */
/* parse_send                                                          */

/* How Twilio error codes (providers.md 1.3, 8.3) map to outcomes; a
 * code not listed falls back to the HTTP status. */
typedef struct code_rule {
  int code;
  int outcome;
  int error;
} code_rule;

static const code_rule CODE_RULES[] = {
  /* the recipient or the content: every channel would refuse it */
  { 21211, VC_SEND_REJECTED, VC_EPROVIDER },  /* invalid To */
  { 21265, VC_SEND_REJECTED, VC_EPROVIDER },  /* To is a short code */
  { 21408, VC_SEND_REJECTED, VC_EPROVIDER },  /* To's region disabled */
  { 21602, VC_SEND_REJECTED, VC_EPROVIDER },  /* Body required */
  { 21604, VC_SEND_REJECTED, VC_EPROVIDER },  /* To required */
  { 21610, VC_SEND_REJECTED, VC_EPROVIDER },  /* recipient sent STOP */
  { 21614, VC_SEND_REJECTED, VC_EPROVIDER },  /* To is not mobile */
  { 21617, VC_SEND_REJECTED, VC_EPROVIDER },  /* Body over 1600 chars */
  { 21619, VC_SEND_REJECTED, VC_EPROVIDER },  /* no Body, no media */
  { 21620, VC_SEND_REJECTED, VC_EPROVIDER },  /* invalid media URL */
  { 21623, VC_SEND_REJECTED, VC_EPROVIDER },  /* too many media */
  /* this channel cannot send: another one may */
  { 20003, VC_SEND_FAILOVER, VC_EAUTH },      /* authentication */
  { 20005, VC_SEND_FAILOVER, VC_EAUTH },      /* account not active */
  { 20404, VC_SEND_FAILOVER, VC_EPROVIDER },  /* account not found */
  { 21603, VC_SEND_FAILOVER, VC_EPROVIDER },  /* From required */
  { 21606, VC_SEND_FAILOVER, VC_EPROVIDER },  /* From cannot send */
  { 21608, VC_SEND_FAILOVER, VC_EPROVIDER },  /* trial: To unverified */
  { 21612, VC_SEND_FAILOVER, VC_EPROVIDER },  /* To unreachable from From */
  { 21621, VC_SEND_FAILOVER, VC_EPROVIDER },  /* From has no MMS */
  { 21659, VC_SEND_FAILOVER, VC_EPROVIDER },  /* From not a Twilio number */
  { 21660, VC_SEND_FAILOVER, VC_EPROVIDER },  /* From of another account */
  /* transient */
  { 20429, VC_SEND_RETRY, VC_ERATELIMIT },    /* too many requests */
  { 21611, VC_SEND_RETRY, VC_ERATELIMIT },    /* From's queue is full */
};

static void classify(vc_send_result *out, int status, long code)
{
  if (status >= 400 && status < 500)
    for (size_t i = 0; i < VC_ARRAY_SIZE(CODE_RULES); i++)
      if (CODE_RULES[i].code == code) {
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
    out->outcome = VC_SEND_FAILOVER;
  } else if (status == 400 || status == 422) {
    /* a parameter of this message was refused */
    out->outcome = VC_SEND_REJECTED;
  }
  /* 408, 5xx and anything unexpected: retry */
}

static void read_price(vc_send_result *out, const char *price,
                       const char *unit)
{
  int64_t micros;

  if (price == NULL || unit == NULL || strlen(unit) != 3 ||
      !vc__all_of(unit, 3, vc__is_alpha) ||
      vc__adapter_parse_price(price, 1, PRICE_DIGITS_MAX, &micros) < 0)
    return;
  out->cost_micros = micros;
  for (int i = 0; i < 3; i++)  /* Twilio has sent "usd" as well */
    out->currency[i] = (char)(unit[i] & ~0x20);
  out->currency[3] = '\0';
}

/*
 * A 2xx body read without building a tree: a strict JSON reader that
 * walks the whole document and keeps the top-level string members
 * "sid", "price" and "price_unit" (the first of each, as cJSON's lookup
 * would). It answers only when the answer is certainly cJSON's: for
 * anything it does not take exactly as strict JSON (a byte order mark,
 * deep nesting, long numbers, an escape inside a kept member, trailing
 * bytes) it declines, and the body goes through cJSON as before. Most of
 * a dispatch's parsing time was cJSON's allocations (and its lock).
 */
#define SCAN_DEPTH 32
#define SCAN_NUMBER_MAX 30
#define SCAN_KEEP 3

typedef struct scan {
  const char *p, *end;
  /* Kept members: raw bytes (no escapes) and length; NULL when absent
   * or not a string. */
  const char *val[SCAN_KEEP];
  size_t len[SCAN_KEEP];
  uint8_t seen[SCAN_KEEP];
} scan;

static const char *const scan_keys[SCAN_KEEP] = { "sid", "price",
                                                  "price_unit" };

static void scan_ws(scan *s)
{
  const char *p = s->p;

  while (p < s->end && (*p == ' ' || *p == '\t' || *p == '\n' ||
                        *p == '\r'))
    p++;
  s->p = p;
}

static int scan_hex4(scan *s, unsigned *code)
{
  *code = 0;
  if (s->end - s->p < 4)
    return -1;
  for (int i = 0; i < 4; i++) {
    char c = s->p[i];
    unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
               : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
               : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
    if (d > 15)
      return -1;
    *code = *code * 16 + d;
  }
  s->p += 4;
  return 0;
}

/* A string at s->p: its raw bytes in [*start, +*len); *plain is 0 when
 * it has an escape. -1 when it is not strict JSON (or a \u escape cJSON
 * would refuse: a lone surrogate). */
static int scan_string(scan *s, const char **start, size_t *len, int *plain)
{
  s->p++; /* the opening quote */
  *start = s->p;
  *plain = 1;
  while (s->p < s->end) {
    unsigned char c;
    const char *p = s->p;
    /* The plain run first, in a register. */
    while (p < s->end && (c = (unsigned char)*p) != '"' && c != '\\' &&
           c >= 0x20)
      p++;
    s->p = p;
    if (p >= s->end)
      break;
    c = (unsigned char)*p;
    if (c == '"') {
      *len = (size_t)(s->p - *start);
      s->p++;
      return 0;
    }
    if (c < 0x20)
      return -1;
    s->p++;
    if (c != '\\')
      continue;
    *plain = 0;
    if (s->p >= s->end)
      return -1;
    c = (unsigned char)*s->p++;
    if (c == 'u') {
      unsigned code, low;
      if (scan_hex4(s, &code) < 0 || (code >= 0xDC00 && code <= 0xDFFF))
        return -1;
      if (code >= 0xD800 && code <= 0xDBFF &&
          (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
           (s->p += 2, scan_hex4(s, &low) < 0) || low < 0xDC00 ||
           low > 0xDFFF))
        return -1;
    } else if (strchr("\"\\/bfnrt", (int)c) == NULL || c == '\0') {
      return -1;
    }
  }
  return -1;
}

static int scan_number(scan *s)
{
  const char *start = s->p;

  if (s->p < s->end && *s->p == '-')
    s->p++;
  if (s->p >= s->end || !vc__is_digit((unsigned char)*s->p))
    return -1;
  if (*s->p == '0')
    s->p++;
  else
    while (s->p < s->end && vc__is_digit((unsigned char)*s->p))
      s->p++;
  if (s->p < s->end && *s->p == '.') {
    s->p++;
    if (s->p >= s->end || !vc__is_digit((unsigned char)*s->p))
      return -1;
    while (s->p < s->end && vc__is_digit((unsigned char)*s->p))
      s->p++;
  }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    s->p++;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
      s->p++;
    if (s->p >= s->end || !vc__is_digit((unsigned char)*s->p))
      return -1;
    while (s->p < s->end && vc__is_digit((unsigned char)*s->p))
      s->p++;
  }
  return s->p - start <= SCAN_NUMBER_MAX ? 0 : -1;
}

static int scan_word(scan *s, const char *w)
{
  size_t n = strlen(w);

  if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
    return -1;
  s->p += n;
  return 0;
}

/* One value at s->p; `key` is the kept member it is the value of (-1:
 * none). */
static int scan_value(scan *s, int depth, int key)
{
  const char *str;
  size_t len;
  int plain;

  scan_ws(s);
  if (s->p >= s->end)
    return -1;
  switch (*s->p) {
  case '"':
    if (scan_string(s, &str, &len, &plain) < 0)
      return -1;
    if (key >= 0) {
      if (!plain)
        return -1; /* cJSON decodes it: let it */
      s->val[key] = str;
      s->len[key] = len;
    }
    return 0;
  case '{':
  case '[': {
    char close = *s->p == '{' ? '}' : ']';
    if (depth >= SCAN_DEPTH)
      return -1;
    s->p++;
    scan_ws(s);
    if (s->p < s->end && *s->p == close) {
      s->p++;
      return 0;
    }
    for (;;) {
      int k = -1;
      if (close == '}') {
        scan_ws(s);
        if (s->p >= s->end || *s->p != '"' ||
            scan_string(s, &str, &len, &plain) < 0)
          return -1;
        for (int i = 0; depth == 0 && i < SCAN_KEEP && k < 0; i++)
          if (strlen(scan_keys[i]) == len &&
              memcmp(scan_keys[i], str, len) == 0)
            k = i;
        if (depth == 0 && !plain)
          return -1; /* an escaped key may be one of ours */
        if (k >= 0 && s->seen[k])
          k = -1; /* cJSON's lookup finds the first */
        else if (k >= 0)
          s->seen[k] = 1;
        scan_ws(s);
        if (s->p >= s->end || *s->p++ != ':')
          return -1;
      }
      if (scan_value(s, depth + 1, k) < 0)
        return -1;
      scan_ws(s);
      if (s->p >= s->end)
        return -1;
      if (*s->p == close) {
        s->p++;
        return 0;
      }
      if (*s->p++ != ',')
        return -1;
    }
  }
  case 't':
    return scan_word(s, "true");
  case 'f':
    return scan_word(s, "false");
  case 'n':
    return scan_word(s, "null");
  default:
    return scan_number(s);
  }
}

/* 1 with the kept members read, 0 to leave the body to cJSON. */
static int scan_body(scan *s, const char *body, size_t size)
{
  memset(s, 0, sizeof(*s));
  s->p = body;
  s->end = body + size;
  scan_ws(s);
  if (body == NULL || s->p >= s->end || *s->p != '{' ||
      scan_value(s, 0, -1) < 0)
    return 0;
  scan_ws(s);
  return s->p == s->end;
}

/* A kept member as a string in `buf`, or NULL (absent, not a string, or
 * longer than `buf` holds: then `*fits` is 0). */
static const char *scan_str(const scan *s, int key, char *buf, size_t size,
                            int *fits)
{
  *fits = 1;
  if (s->val[key] == NULL)
    return NULL;
  if (s->len[key] >= size) {
    *fits = 0;
    return NULL;
  }
  memcpy(buf, s->val[key], s->len[key]);
  buf[s->len[key]] = '\0';
  return buf;
}

/* The 2xx outcome from the sid and price read either way. */
static void accepted(vc_send_result *out, const vc_http_response *res,
                     const char *sid, const char *price, const char *unit)
{
  if (sid != NULL && is_id(sid, sizeof(out->provider_id) - 1)) {
    out->outcome = VC_SEND_ACCEPTED;
    memcpy(out->provider_id, sid, strlen(sid) + 1);
    read_price(out, price, unit);
  } else {
    out->outcome = VC_SEND_RETRY;
    out->error = VC_EPROVIDER;
    snprintf(out->error_message, sizeof(out->error_message),
             "Twilio answered %d without a message sid", res->status);
  }
}

static int tw_parse_send(void *state, const vc_outbound *msg,
                         const vc_http_response *res, vc_send_result *out)
{
  cJSON *doc = NULL;
  long code = 0;

  VC_UNUSED(state);
  VC_UNUSED(msg);
  VC_ASSERT_ARG(res);
  VC_ASSERT_ARG(out);
  if (res->status >= 200 && res->status < 300 && res->body.size > 0) {
    /* Longer than these hold: not an id, not a price; cJSON decides. */
    char sid[sizeof(out->provider_id) + 1], price[64], unit[8];
    const char *v[SCAN_KEEP];
    int fits[SCAN_KEEP];
    scan s;
    if (scan_body(&s, res->body.ptr, res->body.size)) {
      v[0] = scan_str(&s, 0, sid, sizeof(sid), &fits[0]);
      v[1] = scan_str(&s, 1, price, sizeof(price), &fits[1]);
      v[2] = scan_str(&s, 2, unit, sizeof(unit), &fits[2]);
      if (fits[0] && fits[1] && fits[2]) {
        accepted(out, res, v[0], v[1], v[2]);
        return 0;
      }
    }
  }
  if (res->body.ptr != NULL && res->body.size > 0)
    doc = vc__cjson_parse(res->body.ptr, res->body.size, NULL, 0);
  if (doc != NULL && !cJSON_IsObject(doc)) {
    cJSON_Delete(doc);
    doc = NULL;
  }
  if (res->status >= 200 && res->status < 300) {
    /* Only a sid proves Twilio took it and lets webhooks find it. */
    accepted(out, res, vc__json_str(doc, "sid"), vc__json_str(doc, "price"),
             vc__json_str(doc, "price_unit"));
    goto out;
  }
  code = vc__twilio_error_fields(out, doc, res->status);
  classify(out, res->status, code);
  if (out->outcome == VC_SEND_RETRY)
    vc__twilio_read_retry_after(out, res);
out:
  cJSON_Delete(doc);
  return 0;
}


/* ------------------------------------------------------------------ */
/* verify_webhook                                                      */

static int tw_verify_webhook(void *state, const vc_http_request *req,
                             vc_webhook_env *env)
{
  const tw_state *st = state;

  /* Twilio signs no timestamp: replays are the core's dedupe. */
  VC_ASSERT_ARG(st);
  return vc__twilio_check_signature(st->auth_token, req,
                                    vc_webhook_env_url(env));
}

/* ------------------------------------------------------------------ */
/* parse_webhook                                                       */


static int map_status(const char *s)
{
  static const struct { const char *name; int status; } map[] = {
    { "sent", VC_MSG_SENT },
    { "delivered", VC_MSG_DELIVERED },
    { "read", VC_MSG_READ },
    { "undelivered", VC_MSG_UNDELIVERED },
    /* failed after Twilio accepted it (providers.md 0a.8) */
    { "failed", VC_MSG_UNDELIVERED },
    { "canceled", VC_MSG_CANCELED },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(map); i++)
    if (strcmp(s, map[i].name) == 0)
      return map[i].status;
  /* queued, accepted, scheduled, sending: the message is already at
   * `sent` or beyond; partially_delivered and new ones: nothing to do */
  return 0;
}

static int parse_status(const vc__form *f, const char *status,
                        const char *target, vc_event_sink *sink)
{
  vc_status_update u;
  vc_buf id = VC_BUF_INIT;
  const char *sid, *code;
  int found = 0, mapped, rc;

  memset(&u, 0, sizeof(u));
  if ((rc = vc__twilio_param(&sid, f, "MessageSid")) < 0 ||
      (sid == NULL && (rc = vc__twilio_param(&sid, f, "SmsSid")) < 0) ||
      (rc = vc__twilio_param(&code, f, "ErrorCode")) < 0)
    goto out;
  if (sid == NULL || !vc__twilio_is_sid(sid, NULL)) {
    rc = BAD_INPUT("status callback has no valid MessageSid");
    goto out;
  }
  if (!is_id(status, 32)) {
    rc = BAD_INPUT("status callback has a malformed MessageStatus");
    goto out;
  }
  if (code != NULL && code[0] != '\0' &&
      (strlen(code) > 10 || !vc__all_of(code, strlen(code), vc__is_digit))) {
    rc = BAD_INPUT("status callback has a malformed ErrorCode");
    goto out;
  }
  if ((rc = vc__twilio_query_get(&id, &found, target, "vc_msg")) < 0)
    goto out;
  if (found && (id.ptr == NULL || !is_id(id.ptr, MSG_ID_MAX))) {
    rc = BAD_INPUT("vc_msg in the callback URL is not a message id");
    goto out;
  }
  if ((mapped = map_status(status)) == 0)
    goto out;
  u.version = VC_STATUS_UPDATE_VERSION;
  u.message_id = found ? id.ptr : NULL;
  u.provider_id = sid;
  u.status = mapped;
  u.event_id = NULL;            /* Twilio has none: the core hashes */
  u.provider_code = code != NULL && code[0] != '\0' ? code : NULL;
  rc = vc_event_sink_status(sink, &u);
out:
  vc_buf_dispose(&id);
  return rc;
}

static int parse_inbound(const vc__form *f, vc_event_sink *sink)
{
  const char *urls[MEDIA_MAX];
  const char *from, *to, *body, *sid, *num;
  char name[16];
  size_t nmedia = 0;
  vc_inbound m;
  int rc;

  if ((rc = vc__twilio_param(&from, f, "From")) < 0 ||
      (rc = vc__twilio_param(&to, f, "To")) < 0 ||
      (rc = vc__twilio_param(&body, f, "Body")) < 0 ||
      (rc = vc__twilio_param(&num, f, "NumMedia")) < 0 ||
      (rc = vc__twilio_param(&sid, f, "MessageSid")) < 0 ||
      (sid == NULL && (rc = vc__twilio_param(&sid, f, "SmsMessageSid")) < 0) ||
      (sid == NULL && (rc = vc__twilio_param(&sid, f, "SmsSid")) < 0))
    return rc;
  if (from == NULL || from[0] == '\0')
    return BAD_INPUT("webhook is neither a status callback nor a "
                     "message: no MessageStatus, no From");
  if (sid == NULL || !vc__twilio_is_sid(sid, NULL))
    return BAD_INPUT("inbound message has no valid MessageSid");
  if (num != NULL) {
    if (num[0] == '\0' || strlen(num) > 2 ||
        !vc__all_of(num, strlen(num), vc__is_digit) || atoi(num) > MEDIA_MAX)
      return BAD_INPUT("NumMedia must be 0 to %d", MEDIA_MAX);
    nmedia = (size_t)atoi(num);
  } else {
    /* no count: take MediaUrl0, MediaUrl1, ... as they come */
    const char *u;
    do {
      snprintf(name, sizeof(name), "MediaUrl%zu", nmedia);
      if ((rc = vc__twilio_param(&u, f, name)) < 0)
        return rc;
    } while (u != NULL && ++nmedia <= MEDIA_MAX);
    if (nmedia > MEDIA_MAX)
      return BAD_INPUT("more than %d media", MEDIA_MAX);
  }
  for (size_t i = 0; i < nmedia; i++) {
    snprintf(name, sizeof(name), "MediaUrl%zu", i);
    if ((rc = vc__twilio_param(&urls[i], f, name)) < 0)
      return rc;
    if (urls[i] == NULL)
      return BAD_INPUT("%s is missing", name);
    if (check_url(name, urls[i]) < 0)
      return BAD_INPUT("%s is not an http(s) URL", name);
  }
  if (body == NULL && nmedia == 0)
    return BAD_INPUT("inbound message has neither Body nor media");
  memset(&m, 0, sizeof(m));
  m.version = VC_INBOUND_VERSION;
  m.provider_id = sid;
  m.from = from;
  m.to = to;
  m.text = body;
  m.media_urls = nmedia ? urls : NULL;
  m.nmedia = nmedia;
  if ((rc = vc_event_sink_inbound(sink, &m)) < 0)
    return rc;
  /* Empty TwiML: answer nothing to the sender. */
  return vc_event_sink_reply(sink, 200, "text/xml", TWIML_EMPTY);
}

static int tw_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  vc__form f = { NULL, 0 };
  const char *status, *sms_status;
  int rc;

  VC_UNUSED(state);
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(sink);
  VC_ASSERT_ARG(req->body != NULL || req->body_len == 0);
  if (req->body_len > HOOK_BODY_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "webhook body is longer than %d bytes",
                         HOOK_BODY_MAX);
  if ((rc = vc__twilio_check_form_syntax(req->body, req->body_len)) < 0 ||
      (rc = vc__form_parse(&f, (const char *)req->body, req->body_len,
                           HOOK_PARAMS_MAX)) < 0)
    return rc;
  for (size_t i = 0; i < f.n; i++)
    if (!vc__utf8_valid(f.pairs[i].name, strlen(f.pairs[i].name)) ||
        !vc__utf8_valid(f.pairs[i].value, strlen(f.pairs[i].value))) {
      rc = BAD_INPUT("form field %zu is not valid UTF-8", i);
      goto out;
    }
  if ((rc = vc__twilio_param(&status, &f, "MessageStatus")) < 0 ||
      (rc = vc__twilio_param(&sms_status, &f, "SmsStatus")) < 0)
    goto out;
  if (status == NULL)
    status = sms_status;
  /* An inbound message carries SmsStatus=received. */
  if (status != NULL && strcmp(status, "received") != 0)
    rc = parse_status(&f, status, req->target, sink);
  else
    rc = parse_inbound(&f, sink);
out:
  vc__form_free(&f);
  return rc;
}

/* ------------------------------------------------------------------ */

const vc_adapter vc__adapter_twilio_sms = {
  .version = VC_ADAPTER_VERSION,
  .name = "twilio-sms",
  .kind = VC_CHANNEL_SMS,
  .capabilities = VC_CAP_DELIVERY_REPORTS | VC_CAP_INBOUND |
                  VC_CAP_MEDIA | VC_CAP_SIGNED_WEBHOOKS,
  .init = tw_init,
  .fini = tw_fini,
  .build_send = tw_build_send,
  .parse_send = tw_parse_send,
  .verify_webhook = tw_verify_webhook,
  .parse_webhook = tw_parse_webhook,
};
