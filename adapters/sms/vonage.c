/*
 * Vonage SMS API (the Nexmo rest.nexmo.com API): the "vonage-sms"
 * adapter.
 *
 * Pure translation (DESIGN 2, 6): a form-encoded POST to {base}/sms/json
 * with api_key and api_secret; the JSON answer, always HTTP 200, with
 * one messages[] entry per SMS part and a status per part; and the
 * delivery receipts and inbound messages Vonage sends back, signed with
 * a `sig` parameter (MD5 hash, HMAC-MD5/SHA1/SHA256/SHA512) or, for
 * channels configured so, a Bearer JWT (HS256) whose payload_hash
 * covers the body. Wire facts: providers.md sections 0, 0a.2-3 and 9.
 *
 * config:      {"base_url": "https://rest.nexmo.com",
 *               "signature_method": "md5hash" | "md5hmac" | "sha1hmac" |
 *                                   "sha256hmac" | "sha512hmac" | "jwt",
 *               "sign_requests": false,
 *               "currency": "EUR"}                   every key optional
 * credentials: {"api_key": "...", "api_secret": "...",
 *               "signature_secret": "..."}
 * A channel without a signature secret accepts no webhooks at all. With
 * sign_requests, sends carry timestamp and sig instead of api_secret.
 *
 * Vonage splits a long text itself: one request, one message id per
 * part, one delivery receipt per part. Every receipt names our message
 * through client-ref; statuses only move forward (the core), so the
 * first final receipt of any part decides `delivered` or `undelivered`.
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
#include "msg/segments.h"
#include "adapters/builtin.h"
#include "adapters/common.h"
#include "adapters/sms/vonage.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define DEFAULT_BASE_URL "https://rest.nexmo.com"
#define DEFAULT_CURRENCY "EUR"
#define SEND_PATH "/sms/json"
#define BASE_URL_MAX 512
#define API_KEY_LEN 8             /* the spec's minLength = maxLength */
#define API_SECRET_MIN 6
#define API_SECRET_MAX 32
#define SIG_SECRET_MIN 8
#define SIG_SECRET_MAX 256
#define ADDR_DIGITS_MIN 7         /* `to`: \d{7,15} */
#define ADDR_DIGITS_MAX 15
#define ALNUM_SENDER_MAX 11       /* an alphanumeric sender id */
#define TEXT_CHARS_MAX 1600       /* as the core's bound on SMS text */
#define CLIENT_REF_MAX 40
#define CALLBACK_MAX 100          /* longer: Vonage's status 23 */
#define ID_MAX 64                 /* Vonage message ids, nonces */
#define RESPONSE_MAX (256 * 1024) /* a send answer we bother to parse */
#define PARTS_MAX 255             /* a concatenated SMS numbers parts in
                                     one octet */
#define HOOK_BODY_MAX (64 * 1024)
#define HOOK_PARAMS_MAX 100
#define HOOK_JSON_DEPTH 4
#define JWT_MAX 4096
#define REPLAY_WINDOW_MS INT64_C(300000)
#define PRICE_DIGITS_MAX 9        /* unsigned; 255 parts sum safely */
#define RETRY_AFTER_MAX_S 86400
#define THROTTLE_WAIT_MS 1000     /* status 1 carries no Retry-After */

#define BAD_INPUT(...) \
  vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)
#define AUTH_FAIL(...) \
  vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH, __VA_ARGS__)

typedef struct vn_state {
  char api_key[API_KEY_LEN + 1];
  char *api_secret;             /* secret, wiped by fini */
  char *sig_secret;             /* secret, wiped; NULL: no webhooks */
  size_t sig_secret_len;
  int method;                   /* VC__VONAGE_* */
  int sign_requests;            /* sig instead of api_secret on sends */
  char currency[4];
  char *send_url;               /* {base_url}/sms/json */
} vn_state;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

/* 1..max bytes of [A-Za-z0-9_-]: ids we echo, match or store. */
static int is_id(const char *s, size_t max)
{
  size_t n;

  if (s == NULL || (n = strnlen(s, max + 1)) == 0 || n > max)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!vc__is_alnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
      return 0;
  return 1;
}

/* 1..max decimal digits. */
static int is_digits(const char *s, size_t min, size_t max)
{
  size_t n;

  if (s == NULL)
    return 0;
  n = strnlen(s, max + 1);
  return n >= min && n <= max && vc__all_of(s, n, vc__is_digit);
}

/* ------------------------------------------------------------------ */
/* init / fini                                                         */

static void vn_fini(void *state)
{
  vn_state *st = state;

  if (st == NULL)
    return;
  vc__adapter_free_secret(st->api_secret);
  vc__adapter_free_secret(st->sig_secret);
  vc__free(st->send_url);
  vc__wipe(st, sizeof(*st));
  vc__free(st);
}

static int set_base_url(vn_state *st, const char *base)
{
  size_t n = strnlen(base, BASE_URL_MAX + 1), skip, hlen;
  vc_buf url = VC_BUF_INIT;
  int rc;

  if (n > BASE_URL_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "config.base_url is longer than %d bytes",
                         BASE_URL_MAX);
  if (strncmp(base, "https://", 8) == 0)
    skip = 8;
  else if (strncmp(base, "http://", 7) == 0)
    skip = 7;
  else
    return BAD_INPUT("config.base_url must start with https://");
  for (size_t i = skip; i < n; i++) {
    unsigned char c = (unsigned char)base[i];
    if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '@' ||
        c == '\\')
      return BAD_INPUT("config.base_url has an invalid character at "
                       "byte %zu", i);
  }
  while (n > skip && base[n - 1] == '/')
    n--;
  hlen = strcspn(base + skip, "/");
  if (hlen == 0)
    return BAD_INPUT("config.base_url has no host");
  if (skip == 7 && !vc__adapter_loopback_host(base + skip, hlen))
    return BAD_INPUT("config.base_url may use http:// only for a "
                     "loopback host");
  if ((rc = vc__buf_put(&url, base, n)) < 0 ||
      (rc = vc__buf_puts(&url, SEND_PATH)) < 0) {
    vc_buf_dispose(&url);
    return rc;
  }
  st->send_url = url.ptr;
  return 0;
}

static const struct {
  const char *name;
  int method;
} METHODS[] = {
  { "md5hash", VC__VONAGE_MD5HASH },
  { "md5hmac", VC__VONAGE_MD5HMAC },
  { "sha1hmac", VC__VONAGE_SHA1HMAC },
  { "sha256hmac", VC__VONAGE_SHA256HMAC },
  { "sha512hmac", VC__VONAGE_SHA512HMAC },
  { "jwt", VC__VONAGE_JWT },
};

static int read_config(void *state, const cJSON *cfg)
{
  vn_state *st = state;
  static const char *const known[] = {
    "base_url", "signature_method", "currency", "sign_requests"
  };
  const cJSON *sign;
  const char *base, *method, *cur;
  int rc;

  if ((rc = vc__adapter_check_keys(cfg, "config", known,
                                   VC_ARRAY_SIZE(known), 1)) < 0)
    return rc;
  sign = cJSON_GetObjectItemCaseSensitive(cfg, "sign_requests");
  if (sign != NULL && !cJSON_IsBool(sign))
    return BAD_INPUT("config.sign_requests must be true or false");
  st->sign_requests = cJSON_IsTrue(sign);
  if ((rc = vc__adapter_get_str(&base, cfg, "config", "base_url")) < 0 ||
      (rc = vc__adapter_get_str(&method, cfg, "config",
                                "signature_method")) < 0 ||
      (rc = vc__adapter_get_str(&cur, cfg, "config", "currency")) < 0)
    return rc;
  if (method != NULL) {
    for (size_t i = 0; i < VC_ARRAY_SIZE(METHODS); i++)
      if (strcmp(method, METHODS[i].name) == 0)
        st->method = METHODS[i].method;
    if (st->method == VC__VONAGE_SIG_NONE)
      return BAD_INPUT("config.signature_method must be md5hash, "
                       "md5hmac, sha1hmac, sha256hmac, sha512hmac or "
                       "jwt");
  }
  if (cur != NULL) {
    if (strlen(cur) != 3 || !vc__all_of(cur, 3, vc__is_alpha))
      return BAD_INPUT("config.currency must be an ISO 4217 code");
    for (int i = 0; i < 3; i++)
      st->currency[i] = (char)(cur[i] & ~0x20);
  } else {
    memcpy(st->currency, DEFAULT_CURRENCY, 3);
  }
  st->currency[3] = '\0';
  return set_base_url(st, base ? base : DEFAULT_BASE_URL);
}

/* Printable ASCII without spaces, min..max bytes. */
static int printable(const char *s, size_t min, size_t max)
{
  size_t n = strnlen(s, max + 1);

  if (n < min || n > max)
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
      return 0;
  return 1;
}

/* Credential checks never quote the value. */
static int read_credentials(void *state, const cJSON *cred)
{
  vn_state *st = state;
  static const char *const known[] = {
    "api_key", "api_secret", "signature_secret"
  };
  const char *key, *secret, *sig;
  int rc;

  if ((rc = vc__adapter_check_keys(cred, "credentials", known,
                                   VC_ARRAY_SIZE(known), 0)) < 0 ||
      (rc = vc__adapter_get_str(&key, cred, "credentials", "api_key")) < 0 ||
      (rc = vc__adapter_get_str(&secret, cred, "credentials",
                                "api_secret")) < 0 ||
      (rc = vc__adapter_get_str(&sig, cred, "credentials",
                                "signature_secret")) < 0)
    return rc;
  if (key == NULL || (secret == NULL && !st->sign_requests))
    return BAD_INPUT("credentials.api_key and credentials.api_secret "
                     "are required");
  if (strnlen(key, API_KEY_LEN + 1) != API_KEY_LEN ||
      !vc__all_of(key, API_KEY_LEN, vc__is_alnum))
    return BAD_INPUT("credentials.api_key must be %d letters or digits",
                     API_KEY_LEN);
  if (secret != NULL && !printable(secret, API_SECRET_MIN, API_SECRET_MAX))
    return BAD_INPUT("credentials.api_secret must be %d to %d printable "
                     "characters without spaces", API_SECRET_MIN,
                     API_SECRET_MAX);
  if (sig != NULL && !printable(sig, SIG_SECRET_MIN, SIG_SECRET_MAX))
    return BAD_INPUT("credentials.signature_secret must be %d to %d "
                     "printable characters without spaces",
                     SIG_SECRET_MIN, SIG_SECRET_MAX);
  /* Both or neither: a secret without a method (or the reverse) would
   * leave webhooks refused for no visible reason. */
  if (sig != NULL && st->method == VC__VONAGE_SIG_NONE)
    return BAD_INPUT("credentials.signature_secret needs "
                     "config.signature_method");
  if (sig == NULL && st->method != VC__VONAGE_SIG_NONE)
    return BAD_INPUT("config.signature_method needs "
                     "credentials.signature_secret");
  /* Vonage signs requests with the sig methods; a JWT is for webhooks
   * only. */
  if (st->sign_requests && (sig == NULL || st->method == VC__VONAGE_JWT))
    return BAD_INPUT("config.sign_requests needs a signature_secret and "
                     "a signature_method other than jwt");
  memcpy(st->api_key, key, API_KEY_LEN + 1);
  if (secret != NULL && (st->api_secret = vc__strdup(secret)) == NULL)
    return vc_error_set_oom();
  if (sig != NULL) {
    if ((st->sig_secret = vc__strdup(sig)) == NULL)
      return vc_error_set_oom();
    st->sig_secret_len = strlen(sig);
  }
  return 0;
}

static int vn_init(void **state, const char *config_json,
                   const char *credentials_json)
{
  return vc__adapter_init(state, sizeof(vn_state), config_json,
                          credentials_json, read_config, read_credentials,
                          vn_fini);
}

/* ------------------------------------------------------------------ */
/* build_send                                                          */

/* "+14155550100" -> "14155550100": Vonage takes E.164 without '+'. */
static int number_digits(char out[ADDR_DIGITS_MAX + 1], const char *s,
                         size_t min)
{
  if (*s == '+')
    s++;
  if (!is_digits(s, min, ADDR_DIGITS_MAX) || s[0] == '0')
    return -1;
  memcpy(out, s, strlen(s) + 1);
  return 0;
}

/* An alphanumeric sender id: letters, digits and spaces (which Vonage
 * ignores), at most 11 characters besides the spaces, one letter. */
static int alnum_sender(const char *s)
{
  size_t n = 0, letters = 0;

  for (; *s; s++) {
    if (*s == ' ')
      continue;
    if (!vc__is_alnum((unsigned char)*s) || ++n > ALNUM_SENDER_MAX)
      return 0;
    letters += vc__is_alpha((unsigned char)*s) != 0;
  }
  return letters > 0;
}

/* A callback URL Vonage takes: http(s), printable, at most 100 bytes.
 * 0 when usable, 1 when too long (it is left out), or an error. */
static int check_callback(const char *url)
{
  size_t n = strnlen(url, 8193);

  if (n > 8192)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "status callback URL is too long");
  if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
    return BAD_INPUT("status callback URL must be an http(s) URL");
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
      return BAD_INPUT("status callback URL has a space, control or "
                       "non-ASCII character");
  return n > CALLBACK_MAX;
}

typedef struct vn_out {
  char to[ADDR_DIGITS_MAX + 1];
  char from[64];
  int unicode;
  int callback;                  /* 1: send msg->status_callback_url */
} vn_out;

/* Everything is checked before the request is touched. */
static int check_outbound(vn_out *o, const vc_outbound *msg)
{
  vc__sms_info info;
  size_t n;
  int rc;

  memset(o, 0, sizeof(*o));
  if ((rc = vc__check_text("recipient", msg->to, 64, 1)) < 0)
    return rc;
  if (number_digits(o->to, msg->to, ADDR_DIGITS_MIN) < 0)
    return BAD_INPUT("recipient must be an E.164 number of %d to %d "
                     "digits", ADDR_DIGITS_MIN, ADDR_DIGITS_MAX);
  if (msg->from == NULL || msg->from[0] == '\0')
    return BAD_INPUT("a Vonage SMS needs a sender: the message's from or "
                     "the channel's sender");
  if ((rc = vc__check_text("sender", msg->from, 32, 1)) < 0)
    return rc;
  if (number_digits(o->from, msg->from, 1) < 0) {
    if (msg->from[0] == '+' || !alnum_sender(msg->from))
      return BAD_INPUT("sender must be a number of at most %d digits or "
                       "an alphanumeric id of at most %d characters",
                       ADDR_DIGITS_MAX, ALNUM_SENDER_MAX);
    snprintf(o->from, sizeof(o->from), "%s", msg->from);
  }
  if ((rc = vc__check_text("text", msg->text, 4 * TEXT_CHARS_MAX, 1)) < 0)
    return rc;
  n = strlen(msg->text);
  if ((rc = vc__sms_analyze(&info, msg->text, n)) < 0)
    return rc;
  if (info.characters > TEXT_CHARS_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "text is longer than %d characters",
                         TEXT_CHARS_MAX);
  /* Vonage sends "text" as GSM-7: anything else must be UCS-2. */
  o->unicode = info.encoding == VC__SMS_UCS2;
  if (msg->nattachments > 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                         "the Vonage SMS API sends no media");
  if (msg->message_id != NULL && msg->message_id[0] != '\0' &&
      !is_id(msg->message_id, CLIENT_REF_MAX))
    return BAD_INPUT("message id must be 1 to %d of [A-Za-z0-9_-] to "
                     "travel as client-ref", CLIENT_REF_MAX);
  if (msg->status_callback_url != NULL) {
    if ((rc = check_callback(msg->status_callback_url)) < 0)
      return rc;
    /* Over Vonage's 100 characters: receipts go to the URL set in the
     * dashboard instead (docs/channels-templates.md). */
    o->callback = rc == 0;
  }
  return 0;
}

/* Add a parameter to the list a request is built from. */
static void param_add(vc__form *f, const char *name, const char *value)
{
  f->pairs[f->n].name = (char *)name;
  f->pairs[f->n].value = (char *)value;
  f->n++;
}

static int vn_build_send(void *state, const vc_outbound *msg,
                         vc_http_out *req)
{
  const vn_state *st = state;
  vc__form_pair pairs[12];
  vc__form f = { pairs, 0 };
  char ts[24], sig[VC__VONAGE_SIG_MAX];
  vn_out o;
  int rc;

  VC_ASSERT_ARG(st);
  VC_ASSERT_ARG(msg);
  VC_ASSERT_ARG(req);
  VC_CHECK_VERSION(msg, VC_OUTBOUND_VERSION, "vc_outbound");
  if ((rc = check_outbound(&o, msg)) < 0)
    return rc;
  param_add(&f, "api_key", st->api_key);
  if (!st->sign_requests)
    param_add(&f, "api_secret", st->api_secret);
  param_add(&f, "from", o.from);
  param_add(&f, "to", o.to);
  param_add(&f, "text", msg->text);
  if (o.unicode)
    param_add(&f, "type", "unicode");
  if (o.callback)
    param_add(&f, "callback", msg->status_callback_url);
  if (msg->message_id != NULL && msg->message_id[0] != '\0')
    param_add(&f, "client-ref", msg->message_id);
  if (st->sign_requests) {
    /* A signed request: the signature secret signs every parameter and
     * the time instead of the API secret travelling (providers.md 9.5);
     * the clock is the context's. */
    if (msg->now_ms <= 0)
      return BAD_INPUT("a signed Vonage request needs the time "
                       "(vc_outbound.now_ms)");
    snprintf(ts, sizeof(ts), "%lld", (long long)(msg->now_ms / 1000));
    param_add(&f, "timestamp", ts);
    if ((rc = vc__vonage_sig(sig, st->method, st->sig_secret,
                             st->sig_secret_len, &f, 0)) < 0)
      return rc;
    /* As Vonage writes them: md5hash in lower case, HMACs in upper. */
    for (char *c = sig; st->method != VC__VONAGE_MD5HASH && *c; c++)
      if (*c >= 'a' && *c <= 'f')
        *c = (char)(*c - 'a' + 'A');
    param_add(&f, "sig", sig);
  }
  if ((rc = vc_http_out_set_target(req, "POST", st->send_url)) < 0 ||
      (rc = vc_http_out_add_header(req, "Accept", "application/json")) < 0)
    return rc;
  for (size_t i = 0; i < f.n; i++)
    if ((rc = vc_http_out_form_add(req, f.pairs[i].name,
                                   f.pairs[i].value)) < 0)
      return rc;
  return 0;
}

/* ------------------------------------------------------------------ */
/* parse_send                                                          */

/* What each `status` of a messages[] entry means (providers.md 9.3). */
typedef struct status_rule {
  int code;
  int outcome;
  int error;
  const char *text;    /* when Vonage sends no error-text */
} status_rule;

static const status_rule STATUS_RULES[] = {
  { 1, VC_SEND_RETRY, VC_ERATELIMIT, "Throttled" },
  /* this message: every account would refuse it */
  { 2, VC_SEND_REJECTED, VC_EPROVIDER, "Missing parameters" },
  { 3, VC_SEND_REJECTED, VC_EPROVIDER, "Invalid parameters" },
  { 6, VC_SEND_REJECTED, VC_EPROVIDER, "Invalid message" },
  { 7, VC_SEND_REJECTED, VC_EPROVIDER, "Number barred" },
  { 12, VC_SEND_REJECTED, VC_ETOOBIG, "Message too long" },
  { 22, VC_SEND_REJECTED, VC_EPROVIDER, "Invalid network code" },
  { 33, VC_SEND_REJECTED, VC_EPROVIDER, "Number de-activated" },
  /* this account or channel cannot send: another one may */
  { 4, VC_SEND_FAILOVER, VC_EAUTH, "Invalid credentials" },
  { 8, VC_SEND_FAILOVER, VC_EPROVIDER, "Partner account barred" },
  { 9, VC_SEND_FAILOVER, VC_EPROVIDER, "Partner quota violation" },
  { 11, VC_SEND_FAILOVER, VC_EPROVIDER, "Account not enabled for HTTP" },
  { 14, VC_SEND_FAILOVER, VC_EAUTH, "Invalid signature" },
  { 15, VC_SEND_FAILOVER, VC_EPROVIDER, "Invalid sender address" },
  { 23, VC_SEND_FAILOVER, VC_EPROVIDER, "Invalid callback URL" },
  { 29, VC_SEND_FAILOVER, VC_EPROVIDER, "Non-whitelisted destination" },
  { 32, VC_SEND_FAILOVER, VC_EAUTH,
    "Signature and API secret disallowed" },
  /* transient */
  { 5, VC_SEND_RETRY, VC_EPROVIDER, "Internal error" },
  { 10, VC_SEND_RETRY, VC_ERATELIMIT, "Too many existing binds" },
};

/* A part's status: "0".."9999" (the spec's strings; a number is taken
 * too). -1 when missing or malformed. */
static int part_status(const cJSON *part)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(part, "status");

  if (cJSON_IsString(it) && is_digits(it->valuestring, 1, 4))
    return atoi(it->valuestring);
  if (cJSON_IsNumber(it) && it->valuedouble >= 0 &&
      it->valuedouble <= 9999 && it->valuedouble == (int)it->valuedouble)
    return (int)it->valuedouble;
  return -1;
}

/* A non-2xx answer: Vonage's API answers 200 to anything it processed,
 * so this is the front end or a proxy. */
static void http_failure(vc_send_result *out, const vc_http_response *res)
{
  const char *ra;

  snprintf(out->provider_code, sizeof(out->provider_code), "HTTP %d",
           res->status);
  snprintf(out->error_message, sizeof(out->error_message),
           "HTTP %d from Vonage", res->status);
  out->outcome = VC_SEND_RETRY;
  out->error = VC_EPROVIDER;
  if (res->status == 429) {
    out->error = VC_ERATELIMIT;
  } else if (res->status == 401 || res->status == 403) {
    out->outcome = VC_SEND_FAILOVER;
    out->error = VC_EAUTH;
  } else if (res->status == 413) {
    out->outcome = VC_SEND_REJECTED;
    out->error = VC_ETOOBIG;
  } else if (res->status >= 400 && res->status < 500 &&
             res->status != 408) {
    /* A wrong base_url or path: this channel cannot send. */
    out->outcome = VC_SEND_FAILOVER;
  }
  if (out->outcome == VC_SEND_RETRY &&
      (ra = vc_http_response_header(res, "Retry-After")) != NULL) {
    int64_t secs = 0;
    size_t n;

    while (*ra == ' ' || *ra == '\t')
      ra++;
    n = strspn(ra, "0123456789");
    if (n > 0 && n <= 9 && (ra[n] == '\0' || ra[n] == ' ')) {
      for (size_t i = 0; i < n; i++)
        secs = secs * 10 + (ra[i] - '0');
      out->retry_after_ms = (secs > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S
                                                      : secs) * 1000;
    }
  }
}

/* The outcome of a refused part, with Vonage's code and text. */
static void part_failure(vc_send_result *out, const cJSON *part, int code)
{
  const status_rule *rule = NULL;
  const char *text = vc__json_str(part, "error-text");

  for (size_t i = 0; i < VC_ARRAY_SIZE(STATUS_RULES); i++)
    if (STATUS_RULES[i].code == code)
      rule = &STATUS_RULES[i];
  snprintf(out->provider_code, sizeof(out->provider_code), "%d", code);
  if (text != NULL && text[0] != '\0')
    vc__copy_line(out->error_message, sizeof(out->error_message), text,
                  strlen(text));
  else
    snprintf(out->error_message, sizeof(out->error_message), "%s",
             rule ? rule->text : "Vonage refused the message");
  /* A status Vonage has not documented: try again, then the next
   * channel (the core bounds both). */
  out->outcome = rule ? rule->outcome : VC_SEND_RETRY;
  out->error = rule ? rule->error : VC_EPROVIDER;
  if (code == 1)
    out->retry_after_ms = THROTTLE_WAIT_MS;
}

static int vn_parse_send(void *state, const vc_outbound *msg,
                         const vc_http_response *res, vc_send_result *out)
{
  const vn_state *st = state;
  const cJSON *parts, *part, *refused = NULL;
  cJSON *doc = NULL;
  const char *first_id = NULL;
  int64_t cost = 0;
  int nparts = 0, naccepted = 0, priced = 1, refused_code = 0, n;

  VC_UNUSED(msg);
  VC_ASSERT_ARG(res);
  VC_ASSERT_ARG(out);
  if (res->status < 200 || res->status >= 300) {
    http_failure(out, res);
    return 0;
  }
  if (res->body.ptr != NULL && res->body.size > 0 &&
      res->body.size <= RESPONSE_MAX &&
      vc__utf8_valid(res->body.ptr, res->body.size))
    doc = vc__cjson_parse(res->body.ptr, res->body.size, NULL, 0);
  parts = cJSON_GetObjectItemCaseSensitive(doc, "messages");
  n = cJSON_IsArray(parts) ? cJSON_GetArraySize(parts) : 0;
  if (!cJSON_IsObject(doc) || n < 1 || n > PARTS_MAX) {
    /* Nothing says Vonage took it: sending again is the lesser harm. */
    out->outcome = VC_SEND_RETRY;
    out->error = VC_EPROVIDER;
    snprintf(out->error_message, sizeof(out->error_message),
             "Vonage answered %d without a messages list", res->status);
    goto out;
  }
  cJSON_ArrayForEach(part, parts) {
    int code = cJSON_IsObject(part) ? part_status(part) : -1;
    const char *id = vc__json_str(part, "message-id");
    const char *price = vc__json_str(part, "message-price");
    int64_t micros;

    nparts++;
    if (code == 0 && is_id(id, sizeof(out->provider_id) - 1)) {
      if (naccepted++ == 0)
        first_id = id;
      if (price != NULL &&
          vc__adapter_parse_price(price, 0, PRICE_DIGITS_MAX, &micros) == 0)
        cost += micros;
      else
        priced = 0;
    } else if (refused == NULL) {
      refused = part;
      refused_code = code;
    }
  }
  if (naccepted == 0) {
    if (refused_code > 0) {
      part_failure(out, refused, refused_code);
    } else {
      out->outcome = VC_SEND_RETRY;
      out->error = VC_EPROVIDER;
      snprintf(out->error_message, sizeof(out->error_message),
               "Vonage answered a part without a valid status or "
               "message-id");
    }
    goto out;
  }
  /* Some part went out: sending again would repeat it to the
   * recipient. Accepted, with the refused part's code and text kept. */
  out->outcome = VC_SEND_ACCEPTED;
  memcpy(out->provider_id, first_id, strlen(first_id) + 1);
  if (priced) {
    out->cost_micros = cost;
    memcpy(out->currency, st ? st->currency : DEFAULT_CURRENCY, 4);
  }
  if (refused != NULL) {
    char why[sizeof(out->error_message)] = "unreadable answer";

    if (refused_code > 0) {
      part_failure(out, refused, refused_code);
      snprintf(why, sizeof(why), "%s", out->error_message);
    }
    snprintf(out->error_message, sizeof(out->error_message),
             "%d of %d parts refused: %s", nparts - naccepted, nparts,
             why);
    out->outcome = VC_SEND_ACCEPTED;
    out->error = 0;
    out->retry_after_ms = 0;
  }
out:
  cJSON_Delete(doc);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Webhook parameters                                                  */

/* What Vonage sends as a form or query: printable ASCII, well-formed
 * %XX escapes, no encoded NUL (it would cut a value short). */
static int check_form_syntax(const char *b, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)b[i];
    if (c == '%') {
      if (i + 2 >= n || !vc__is_hex((unsigned char)b[i + 1]) ||
          !vc__is_hex((unsigned char)b[i + 2]))
        return BAD_INPUT("webhook parameters have a malformed escape at "
                         "byte %zu", i);
      if (b[i + 1] == '0' && b[i + 2] == '0')
        return BAD_INPUT("webhook parameters have an encoded NUL at byte "
                         "%zu", i);
      i += 2;
    } else if (c <= 0x20 || c >= 0x7f) {
      return BAD_INPUT("webhook parameters have an invalid byte at %zu",
                       i);
    }
  }
  return 0;
}

static int has_type(const vc_http_request *req, const char *type)
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

static int add_pair(vc__form *f, size_t *cap, const char *name,
                    const char *value)
{
  vc__form_pair *p;

  if (f->n == HOOK_PARAMS_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "webhook has more than %d parameters",
                         HOOK_PARAMS_MAX);
  if (f->n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 16;
    vc__form_pair *np = vc__realloc(f->pairs, ncap * sizeof(*np));
    if (np == NULL)
      return vc_error_set_oom();
    f->pairs = np;
    *cap = ncap;
  }
  p = &f->pairs[f->n];
  p->name = vc__strdup(name);
  p->value = vc__strdup(value);
  f->n++;
  if (p->name == NULL || p->value == NULL)
    return vc_error_set_oom();
  return 0;
}

/* A JSON body: one object whose values are strings (null is skipped). */
static int json_params(vc__form *f, const vc_http_request *req)
{
  vc_buf text = VC_BUF_INIT;
  cJSON *doc = NULL;
  const cJSON *it;
  size_t cap = 0;
  char name[68];
  int rc;

  /* A NUL would end the text early and leave the rest unread. */
  if (req->body_len > 0 && memchr(req->body, '\0', req->body_len) != NULL)
    return BAD_INPUT("webhook body has a NUL byte");
  if ((rc = vc__buf_put(&text, req->body, req->body_len)) < 0 ||
      (rc = vc__json_parse(&doc, "webhook body", text.ptr ? text.ptr : "",
                           HOOK_BODY_MAX, HOOK_JSON_DEPTH, 1)) < 0)
    goto out;
  cJSON_ArrayForEach(it, doc) {
    if (cJSON_IsNull(it))
      continue;
    if (!cJSON_IsString(it) || it->valuestring == NULL) {
      rc = BAD_INPUT("webhook field '%s' is not a string",
                     vc__json_key_name(name, it->string));
      goto out;
    }
    if ((rc = add_pair(f, &cap, it->string, it->valuestring)) < 0)
      goto out;
  }
out:
  cJSON_Delete(doc);
  vc_buf_dispose(&text);
  return rc;
}

/*
 * The parameters of a webhook, whichever way the dashboard sends them:
 * the query of a GET, or the body of a POST as a form or a JSON object.
 * Names must be unique (a repeated one could be reordered without
 * breaking a signature) and every value valid UTF-8.
 */
static int read_params(vc__form *f, const vc_http_request *req)
{
  const char *q;
  char name[68];
  int rc;

  f->pairs = NULL;
  f->n = 0;
  VC_ASSERT_ARG(req->body != NULL || req->body_len == 0);
  if (req->body_len > HOOK_BODY_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "webhook body is longer than %d bytes",
                         HOOK_BODY_MAX);
  if (req->method != NULL && strcmp(req->method, "GET") == 0) {
    q = req->target ? strchr(req->target, '?') : NULL;
    q = q ? q + 1 : "";
    if (strlen(q) > HOOK_BODY_MAX)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "webhook query is longer than %d bytes",
                           HOOK_BODY_MAX);
    if ((rc = check_form_syntax(q, strlen(q))) < 0 ||
        (rc = vc__form_parse(f, q, strlen(q), HOOK_PARAMS_MAX)) < 0)
      goto fail;
  } else if (req->method == NULL || strcmp(req->method, "POST") != 0) {
    return BAD_INPUT("webhook method must be GET or POST");
  } else if (has_type(req, "application/json")) {
    if ((rc = json_params(f, req)) < 0)
      goto fail;
  } else if (has_type(req, "application/x-www-form-urlencoded") ||
             vc_http_request_header(req, "Content-Type") == NULL) {
    if ((rc = check_form_syntax((const char *)req->body,
                                req->body_len)) < 0 ||
        (rc = vc__form_parse(f, (const char *)req->body, req->body_len,
                             HOOK_PARAMS_MAX)) < 0)
      goto fail;
  } else {
    return BAD_INPUT("webhook body must be a form or JSON");
  }
  for (size_t i = 0; i < f->n; i++) {
    if (!vc__utf8_valid(f->pairs[i].name, strlen(f->pairs[i].name)) ||
        !vc__utf8_valid(f->pairs[i].value, strlen(f->pairs[i].value))) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EENCODING,
                         "webhook parameter %zu is not valid UTF-8", i);
      goto fail;
    }
    for (size_t j = 0; j < i; j++)
      if (strcmp(f->pairs[i].name, f->pairs[j].name) == 0) {
        rc = BAD_INPUT("webhook parameter '%s' appears twice",
                       vc__json_key_name(name, f->pairs[i].name));
        goto fail;
      }
  }
  return 0;
fail:
  vc__form_free(f);
  return rc;
}

/* ------------------------------------------------------------------ */
/* verify_webhook: the `sig` parameter                                 */

typedef struct pair_ref {
  const vc__form_pair *p;
} pair_ref;

static int by_name(const void *a, const void *b)
{
  return strcmp(((const pair_ref *)a)->p->name,
                ((const pair_ref *)b)->p->name);
}

/* Append a value with '&' and '=' as '_' when `replace`. */
static int put_value(vc_buf *out, const char *v, int replace)
{
  size_t start = out->size;
  int rc;

  if ((rc = vc__buf_puts(out, v)) < 0 || !replace)
    return rc;
  for (size_t i = start; i < out->size; i++)
    if (out->ptr[i] == '&' || out->ptr[i] == '=')
      out->ptr[i] = '_';
  return 0;
}

static int md_of(int method)
{
  switch (method) {
  case VC__VONAGE_MD5HASH:
  case VC__VONAGE_MD5HMAC:
    return VC__MD_MD5;
  case VC__VONAGE_SHA1HMAC:
    return VC__MD_SHA1;
  case VC__VONAGE_SHA256HMAC:
    return VC__MD_SHA256;
  case VC__VONAGE_SHA512HMAC:
    return VC__MD_SHA512;
  default:
    return 0;
  }
}

int vc__vonage_sig(char out[VC__VONAGE_SIG_MAX], int method,
                   const char *secret, size_t secret_len,
                   const vc__form *params, int all_values)
{
  vc_buf s = VC_BUF_INIT;
  pair_ref *refs = NULL;
  uint8_t mac[64];
  size_t n = 0;
  int md = md_of(method), rc;

  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(secret);
  VC_ASSERT_ARG(params);
  out[0] = '\0';
  if (md == 0)
    return BAD_INPUT("signature method %d is not a sig method", method);
  if (params->n > 0 &&
      (refs = vc__calloc(params->n, sizeof(*refs))) == NULL)
    return vc_error_set_oom();
  for (size_t i = 0; i < params->n; i++)
    if (strcmp(params->pairs[i].name, "sig") != 0)
      refs[n++].p = &params->pairs[i];
  if (n > 1)
    qsort(refs, n, sizeof(*refs), by_name);
  rc = vc__buf_puts(&s, "");
  for (size_t i = 0; i < n && rc == 0; i++)
    if ((rc = vc__buf_printf(&s, "&%s=", refs[i].p->name)) == 0)
      rc = put_value(&s, refs[i].p->value,
                     all_values || strcmp(refs[i].p->name, "text") == 0);
  if (rc < 0)
    goto out;
  if (method == VC__VONAGE_MD5HASH) {
    /* MD5 of the signed string followed by the secret. */
    if ((rc = vc__buf_put(&s, secret, secret_len)) == 0)
      rc = vc__digest(mac, md, s.ptr, s.size);
  } else {
    rc = vc__hmac(mac, md, secret, secret_len, s.ptr, s.size);
  }
  if (rc == 0)
    vc__hex_encode(out, mac, vc__md_size(md));
out:
  vc__buf_wipe(&s);
  vc__free(refs);
  vc__wipe(mac, sizeof(mac));
  return rc;
}

static int param_has_special(const vc__form *f)
{
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->pairs[i].name, "text") != 0 &&
        strcmp(f->pairs[i].name, "sig") != 0 &&
        strpbrk(f->pairs[i].value, "&=") != NULL)
      return 1;
  return 0;
}

/* The Unix seconds of `timestamp` within the replay window of now. */
static int check_fresh(const char *ts, int64_t now_ms, const char *what)
{
  int64_t t = 0;

  if (!is_digits(ts, 1, 12))
    return AUTH_FAIL("webhook has no valid %s", what);
  for (const char *p = ts; *p; p++)
    t = t * 10 + (*p - '0');
  if (now_ms < t * 1000 - REPLAY_WINDOW_MS ||
      now_ms > t * 1000 + REPLAY_WINDOW_MS)
    return AUTH_FAIL("webhook %s is outside the 300 s replay window",
                     what);
  return 0;
}

static int verify_sig(const vn_state *st, const vc_http_request *req,
                      int64_t now_ms)
{
  vc__form f = { NULL, 0 };
  const char *sig, *key;
  char want[VC__VONAGE_SIG_MAX], got[VC__VONAGE_SIG_MAX];
  size_t len = 2 * vc__md_size(md_of(st->method));
  int rc;

  if ((rc = read_params(&f, req)) < 0)
    return rc;
  sig = vc__form_get(&f, "sig");
  if (sig == NULL) {
    rc = AUTH_FAIL("webhook has no sig parameter");
    goto out;
  }
  /* md5hash signatures arrive in lower case, HMACs in upper case. */
  if (strlen(sig) != len || !vc__all_of(sig, len, vc__is_hex)) {
    rc = AUTH_FAIL("sig is not a hex digest of the configured method");
    goto out;
  }
  for (size_t i = 0; i <= len; i++)
    got[i] = (char)(sig[i] >= 'A' && sig[i] <= 'F' ? sig[i] | 0x20
                                                   : sig[i]);
  if ((rc = check_fresh(vc__form_get(&f, "timestamp"), now_ms,
                        "timestamp")) < 0)
    goto out;
  /* The documented form first (text only), then every value (the
   * SDKs), when that differs (providers.md 0a.2). */
  rc = VC_EAUTH;
  for (int all = 0; all < 2 && rc == VC_EAUTH; all++) {
    if (all && !param_has_special(&f))
      break;
    if ((rc = vc__vonage_sig(want, st->method, st->sig_secret,
                             st->sig_secret_len, &f, all)) < 0)
      goto out;
    rc = vc__ct_equal(want, got, len) ? 0 : VC_EAUTH;
  }
  if (rc == VC_EAUTH) {
    rc = AUTH_FAIL("sig does not verify");
    goto out;
  }
  key = vc__form_get(&f, "api-key");
  if (key != NULL && strcmp(key, st->api_key) != 0)
    rc = AUTH_FAIL("webhook is for another API key");
out:
  vc__wipe(want, sizeof(want));
  vc__form_free(&f);
  return rc;
}

/* ------------------------------------------------------------------ */
/* verify_webhook: a Bearer JWT (Messages-API style signed webhooks)   */

/* Base64url without padding, as JWTs carry it, decoded into out. */
static int b64url_decode(vc_buf *out, const char *s, size_t n)
{
  vc_buf std = VC_BUF_INIT;
  int rc;

  if (n % 4 == 1)
    return BAD_INPUT("malformed base64url");
  for (size_t i = 0; i < n; i++)
    if (!vc__is_alnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
      return BAD_INPUT("malformed base64url");
  if ((rc = vc__buf_put(&std, s, n)) < 0)
    goto out;
  for (size_t i = 0; i < n; i++)
    std.ptr[i] = std.ptr[i] == '-' ? '+' : std.ptr[i] == '_' ? '/'
                                                              : std.ptr[i];
  while (rc == 0 && std.size % 4 != 0)
    rc = vc__buf_puts(&std, "=");
  if (rc == 0)
    rc = vc__base64_decode(out, std.ptr, std.size);
out:
  vc_buf_dispose(&std);
  return rc;
}

typedef struct jwt {
  const char *text;            /* header.payload.signature */
  size_t hlen, plen, slen;     /* lengths of the three parts */
  cJSON *header, *claims;
} jwt;

static void jwt_free(jwt *j)
{
  cJSON_Delete(j->header);
  cJSON_Delete(j->claims);
  j->header = j->claims = NULL;
}

/* Split and decode the Bearer token of `req` (its signature unchecked). */
static int jwt_read(jwt *j, const vc_http_request *req)
{
  const char *auth = vc_http_request_header(req, "Authorization"), *dot;
  vc_buf part = VC_BUF_INIT;
  size_t n;
  int rc;

  memset(j, 0, sizeof(*j));
  if (auth == NULL)
    return AUTH_FAIL("webhook has no Authorization header");
  while (*auth == ' ' || *auth == '\t')
    auth++;
  if (strncasecmp(auth, "Bearer ", 7) != 0)
    return AUTH_FAIL("Authorization is not a Bearer token");
  for (auth += 7; *auth == ' '; auth++)
    ;
  n = strnlen(auth, JWT_MAX + 1);
  while (n > 0 && (auth[n - 1] == ' ' || auth[n - 1] == '\t'))
    n--;
  if (n > JWT_MAX)
    return AUTH_FAIL("Bearer token is longer than %d bytes", JWT_MAX);
  j->text = auth;
  if ((dot = memchr(auth, '.', n)) == NULL)
    return AUTH_FAIL("Bearer token is not a JWT");
  j->hlen = (size_t)(dot - auth);
  if ((dot = memchr(dot + 1, '.', n - j->hlen - 1)) == NULL)
    return AUTH_FAIL("Bearer token is not a JWT");
  j->plen = (size_t)(dot - auth) - j->hlen - 1;
  j->slen = n - j->hlen - j->plen - 2;
  if (memchr(dot + 1, '.', j->slen) != NULL || j->hlen == 0 ||
      j->plen == 0 || j->slen == 0)
    return AUTH_FAIL("Bearer token is not a JWT");
  if (b64url_decode(&part, auth, j->hlen) < 0 ||
      vc__json_parse(&j->header, "JWT header", part.ptr, JWT_MAX, 4,
                     1) < 0) {
    rc = AUTH_FAIL("JWT header is not a base64url JSON object");
    goto out;
  }
  part.size = 0;
  if (b64url_decode(&part, auth + j->hlen + 1, j->plen) < 0 ||
      vc__json_parse(&j->claims, "JWT claims", part.ptr, JWT_MAX, 4,
                     1) < 0) {
    rc = AUTH_FAIL("JWT claims are not a base64url JSON object");
    goto out;
  }
  rc = 0;
out:
  vc_buf_dispose(&part);
  if (rc < 0)
    jwt_free(j);
  return rc;
}

static int verify_jwt(const vn_state *st, const vc_http_request *req,
                      int64_t now_ms)
{
  const cJSON *iat, *exp;
  const char *alg, *hash, *key;
  vc_buf sig = VC_BUF_INIT;
  uint8_t mac[32], digest[32];
  char hex[65], got[65], ts[24];
  jwt j;
  int rc;

  if (req->method == NULL || strcmp(req->method, "POST") != 0)
    return AUTH_FAIL("a JWT-signed webhook must be a POST");
  if (req->body_len > HOOK_BODY_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "webhook body is longer than %d bytes",
                         HOOK_BODY_MAX);
  if ((rc = jwt_read(&j, req)) < 0)
    return rc;
  /* HS256 only: "none" or another algorithm is a forgery attempt. */
  alg = vc__json_str(j.header, "alg");
  if (alg == NULL || strcmp(alg, "HS256") != 0) {
    rc = AUTH_FAIL("JWT algorithm is not HS256");
    goto out;
  }
  if (b64url_decode(&sig, j.text + j.hlen + j.plen + 2, j.slen) < 0 ||
      sig.size != sizeof(mac)) {
    rc = AUTH_FAIL("JWT signature is not 32 base64url bytes");
    goto out;
  }
  if ((rc = vc__hmac(mac, VC__MD_SHA256, st->sig_secret,
                     st->sig_secret_len, j.text,
                     j.hlen + 1 + j.plen)) < 0)
    goto out;
  if (!vc__ct_equal(mac, sig.ptr, sizeof(mac))) {
    rc = AUTH_FAIL("JWT signature does not verify");
    goto out;
  }
  iat = cJSON_GetObjectItemCaseSensitive(j.claims, "iat");
  if (!cJSON_IsNumber(iat) || iat->valuedouble < 0 ||
      iat->valuedouble >= 1e11) {
    rc = AUTH_FAIL("JWT has no valid iat");
    goto out;
  }
  /* Vonage documents no window: the library's 300 s (0a.3). */
  snprintf(ts, sizeof(ts), "%lld", (long long)iat->valuedouble);
  if ((rc = check_fresh(ts, now_ms, "iat")) < 0)
    goto out;
  exp = cJSON_GetObjectItemCaseSensitive(j.claims, "exp");
  if (exp != NULL && (!cJSON_IsNumber(exp) ||
                      exp->valuedouble * 1000 < (double)now_ms)) {
    rc = AUTH_FAIL("JWT has expired");
    goto out;
  }
  hash = vc__json_str(j.claims, "payload_hash");
  if (hash == NULL || strlen(hash) != 64 ||
      !vc__all_of(hash, 64, vc__is_hex)) {
    rc = AUTH_FAIL("JWT has no payload_hash");
    goto out;
  }
  for (int i = 0; i <= 64; i++)
    got[i] = (char)(hash[i] >= 'A' && hash[i] <= 'F' ? hash[i] | 0x20
                                                     : hash[i]);
  if ((rc = vc__digest(digest, VC__MD_SHA256,
                       req->body_len ? req->body : (const uint8_t *)"",
                       req->body_len)) < 0)
    goto out;
  vc__hex_encode(hex, digest, sizeof(digest));
  if (!vc__ct_equal(hex, got, 64)) {
    rc = AUTH_FAIL("body does not match the JWT's payload_hash");
    goto out;
  }
  key = vc__json_str(j.claims, "api_key");
  if (key != NULL && strcmp(key, st->api_key) != 0)
    rc = AUTH_FAIL("webhook is for another API key");
out:
  vc__wipe(mac, sizeof(mac));
  vc_buf_dispose(&sig);
  jwt_free(&j);
  return rc;
}

int vc__vonage_verify(const void *state, const vc_http_request *req,
                      int64_t now_ms)
{
  const vn_state *st = state;

  VC_ASSERT_ARG(st);
  VC_ASSERT_ARG(req);
  if (st->sig_secret == NULL)
    return AUTH_FAIL("no signature_secret configured: the channel "
                     "accepts no webhooks");
  if (st->method == VC__VONAGE_JWT)
    return verify_jwt(st, req, now_ms);
  return verify_sig(st, req, now_ms);
}

static int vn_verify_webhook(void *state, const vc_http_request *req,
                             vc_webhook_env *env)
{
  VC_ASSERT_ARG(env);
  return vc__vonage_verify(state, req, vc_webhook_env_now(env));
}

/* ------------------------------------------------------------------ */
/* parse_webhook                                                       */

/* Days from 1970-01-01 to a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
  int64_t era, yoe, doy;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* "YYYY-MM-DD HH:MM:SS" (UTC) as Unix ms; 0 when absent or malformed. */
static int64_t parse_stamp(const char *s)
{
  static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
                               30, 31 };
  int v[6] = { 0 };
  static const char shape[] = "dddd-dd-dd dd:dd:dd";

  if (s == NULL || strlen(s) != sizeof(shape) - 1)
    return 0;
  for (size_t i = 0, k = 0; i < sizeof(shape) - 1; i++) {
    if (shape[i] == 'd') {
      if (!vc__is_digit((unsigned char)s[i]))
        return 0;
      v[k] = v[k] * 10 + (s[i] - '0');
    } else if (s[i] != shape[i]) {
      return 0;
    } else {
      k++;
    }
  }
  if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
      v[2] > mdays[v[1] - 1] || v[3] > 23 || v[4] > 59 || v[5] > 60)
    return 0;
  return (days_from_civil(v[0], v[1], v[2]) * 86400 + v[3] * 3600 +
          v[4] * 60 + v[5]) * 1000;
}

/* A delivery receipt's status (providers.md 9.4, 0a.8); 0: nothing. */
static int map_status(const char *s)
{
  static const struct { const char *name; int status; } map[] = {
    { "delivered", VC_MSG_DELIVERED },
    /* accepted by Vonage, then not delivered */
    { "expired", VC_MSG_UNDELIVERED },
    { "failed", VC_MSG_UNDELIVERED },
    { "rejected", VC_MSG_UNDELIVERED },
    /* on its way: the message is already `sent` or beyond */
    { "accepted", VC_MSG_SENT },
    { "buffered", VC_MSG_SENT },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(map); i++)
    if (strcmp(s, map[i].name) == 0)
      return map[i].status;
  /* "unknown" and anything new: nothing to apply */
  return 0;
}

/* What a receipt's err-code means (api.support.vonage.com, "SMS
 * Delivery Error Codes", via providers.md 9.4). */
static const char *err_text(int code)
{
  static const char *const texts[] = {
    NULL, "Unknown", "Absent subscriber (temporary)",
    "Absent subscriber (permanent)", "Call barred by user",
    "Portability error", "Anti-spam rejection", "Handset busy",
    "Network error", "Illegal number", "Illegal message",
    "Unroutable", "Destination unreachable", "Subscriber age restriction",
    "Number blocked by carrier",
  };

  return code > 0 && code < (int)VC_ARRAY_SIZE(texts) ? texts[code] : NULL;
}

/* "+digits" for a number Vonage writes without '+'; NULL for anything
 * that is not one. */
static const char *plus_number(char out[ADDR_DIGITS_MAX + 2],
                               const char *s)
{
  if (!is_digits(s, 2, ADDR_DIGITS_MAX) || s[0] == '0')
    return NULL;
  snprintf(out, ADDR_DIGITS_MAX + 2, "+%s", s);
  return out;
}

static int parse_receipt(const vn_state *st, const vc__form *f,
                         vc_event_sink *sink)
{
  const char *price = vc__form_get(f, "price");
  const char *status = vc__form_get(f, "status");
  const char *id = vc__form_get(f, "messageId");
  const char *ref = vc__form_get(f, "client-ref");
  const char *code = vc__form_get(f, "err-code");
  vc_status_update u;
  int mapped, ncode = 0;

  if (!is_id(id, ID_MAX))
    return BAD_INPUT("delivery receipt has no valid messageId");
  if (!is_id(status, 32))
    return BAD_INPUT("delivery receipt has a malformed status");
  if (code != NULL && code[0] != '\0') {
    if (!is_digits(code, 1, 4))
      return BAD_INPUT("delivery receipt has a malformed err-code");
    ncode = atoi(code);
  }
  if ((mapped = map_status(status)) == 0)
    return 0;
  memset(&u, 0, sizeof(u));
  u.version = VC_STATUS_UPDATE_VERSION;
  /* Our id came back as client-ref; another application's reference on
   * the same account simply matches nothing. */
  u.message_id = is_id(ref, CLIENT_REF_MAX) ? ref : NULL;
  u.provider_id = id;
  u.status = mapped;
  u.event_id = NULL;            /* none: the core hashes the fields */
  u.occurred_at = parse_stamp(vc__form_get(f, "message-timestamp"));
  if (ncode != 0 && mapped != VC_MSG_DELIVERED) {
    u.provider_code = code;
    u.error_message = err_text(ncode);
  }
  /* What this part cost (one receipt per part, each with the part's
   * messageId), in the account's currency; a price that does not read
   * is left out rather than refusing the receipt. */
  if (price != NULL && price[0] != '\0' &&
      vc__adapter_parse_price(price, 0, PRICE_DIGITS_MAX,
                              &u.price_micros) == 0)
    memcpy(u.currency, st ? st->currency : DEFAULT_CURRENCY, 4);
  else
    u.price_micros = 0;
  return vc_event_sink_status(sink, &u);
}

static int parse_inbound(const vc__form *f, vc_event_sink *sink)
{
  const char *msisdn = vc__form_get(f, "msisdn");
  const char *to = vc__form_get(f, "to");
  const char *id = vc__form_get(f, "messageId");
  const char *type = vc__form_get(f, "type");
  const char *text = vc__form_get(f, "text");
  char from_buf[ADDR_DIGITS_MAX + 2], to_buf[ADDR_DIGITS_MAX + 2];
  vc_inbound m;

  if (msisdn == NULL || msisdn[0] == '\0' || strlen(msisdn) > 32)
    return BAD_INPUT("webhook is neither a delivery receipt nor a "
                     "message: no status, no valid msisdn");
  if (!is_id(id, ID_MAX))
    return BAD_INPUT("inbound message has no valid messageId");
  if (type != NULL && strcmp(type, "binary") == 0)
    return 0;                   /* acknowledged, not stored */
  if (type != NULL && strcmp(type, "text") != 0 &&
      strcmp(type, "unicode") != 0)
    return BAD_INPUT("inbound message has an unknown type");
  if (text == NULL)
    return BAD_INPUT("inbound message has no text");
  memset(&m, 0, sizeof(m));
  m.version = VC_INBOUND_VERSION;
  m.provider_id = id;
  /* An alphanumeric sender stays as it is. */
  m.from = plus_number(from_buf, msisdn);
  if (m.from == NULL)
    m.from = msisdn;
  m.to = to != NULL ? plus_number(to_buf, to) : NULL;
  if (m.to == NULL)
    m.to = to;
  m.text = text;
  m.occurred_at = parse_stamp(vc__form_get(f, "message-timestamp"));
  /* Each part of a concatenated message arrives, and is stored, on its
   * own (concat-ref, concat-part): the adapter keeps no state. */
  return vc_event_sink_inbound(sink, &m);
}

/*
 * The single-use value of a verified webhook: the `nonce` Vonage signs
 * with a `sig`, or the JWT's jti. Vonage sends a new one with every
 * request it makes, so a second request with the same one is a replay
 * (or our own answer lost): "" when the request has none.
 */
static int replay_key(char out[ID_MAX + 8], const vn_state *st,
                      const vc_http_request *req, const vc__form *f)
{
  const char *v = NULL;
  jwt j;
  int rc = 0;

  out[0] = '\0';
  if (st == NULL || st->sig_secret == NULL)
    return 0;
  if (st->method != VC__VONAGE_JWT) {
    v = vc__form_get(f, "nonce");
    if (v != NULL && !printable(v, 1, ID_MAX))
      return BAD_INPUT("webhook has a malformed nonce");
    if (v != NULL)
      snprintf(out, ID_MAX + 8, "nonce:%s", v);
    return 0;
  }
  /* verify_webhook read it already: failing now is a malformed call */
  if (jwt_read(&j, req) < 0)
    return BAD_INPUT("webhook has no readable JWT");
  v = vc__json_str(j.claims, "jti");
  if (v != NULL && !printable(v, 1, ID_MAX))
    rc = BAD_INPUT("JWT has a malformed jti");
  else if (v != NULL)
    snprintf(out, ID_MAX + 8, "jti:%s", v);
  jwt_free(&j);
  return rc;
}

static int vn_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  vc__form f = { NULL, 0 };
  char once[ID_MAX + 8];
  int rc;

  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(sink);
  if ((rc = read_params(&f, req)) < 0)
    return rc;
  if ((rc = replay_key(once, state, req, &f)) < 0)
    goto out;
  if (once[0] != '\0' && (rc = vc_event_sink_once(sink, once)) < 0) {
    /* Seen before: answered, applied never. */
    if (rc == VC_EEXISTS) {
      vc_error_clear();
      rc = 0;
    }
    goto out;
  }
  if (vc__form_get(&f, "status") != NULL)
    rc = parse_receipt(state, &f, sink);
  else
    rc = parse_inbound(&f, sink);
out:
  vc__form_free(&f);
  return rc;
}

/* ------------------------------------------------------------------ */

const vc_adapter vc__adapter_vonage_sms = {
  .version = VC_ADAPTER_VERSION,
  .name = "vonage-sms",
  .kind = VC_CHANNEL_SMS,
  .capabilities = VC_CAP_DELIVERY_REPORTS | VC_CAP_INBOUND |
                  VC_CAP_SIGNED_WEBHOOKS,
  .init = vn_init,
  .fini = vn_fini,
  .build_send = vn_build_send,
  .parse_send = vn_parse_send,
  .verify_webhook = vn_verify_webhook,
  .parse_webhook = vn_parse_webhook,
};
