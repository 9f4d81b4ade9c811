/*
 * AWS SNS: SMS through Publish, and the HTTP(S) notifications SNS
 * posts to a subscribed endpoint (two-way SMS inbound): the "aws-sns"
 * adapter.
 *
 * Pure translation (DESIGN 2, 6): a form-encoded Query API POST
 * (Action=Publish) signed with AWS Signature Version 4, the XML answer
 * or error, and the RSA signature of SNS's messages, whose certificate
 * the core fetches. Wire facts: providers.md sections 0, 0a and 10.
 *
 * SNS reports no per-message delivery status to a URL (it writes SMS
 * delivery logs to CloudWatch Logs), so a message accepted by Publish
 * stays `sent`. What SNS does post are topic messages: subscription
 * (un)confirmations, which verify_webhook confirms, and notifications,
 * of which the two-way SMS payload (originationNumber, messageBody, ...)
 * becomes an inbound message.
 *
 * config:      {"region": "us-east-1",                  required
 *               "endpoint": "https://sns.us-east-1.amazonaws.com",
 *               "sms_type": "Transactional" | "Promotional",
 *               "sender_id": "ACME", "max_price": "0.50",
 *               "entity_id": "...", "template_id": "...",  India DLT
 *               "topic_arns": ["arn:aws:sns:...:topic"],   webhooks
 *               "fetch_base_url": "http://127.0.0.1:port"} tests
 * credentials: {"access_key_id": "AKIA...", "secret_access_key": "...",
 *               "session_token": "..."}                   token optional
 *
 * The state is immutable after init, so every method may run on several
 * threads at once.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/sigv4.h"
#include "core/text.h"
#include "core/x509.h"
#include "adapters/builtin.h"
#include "adapters/common.h"
#include "adapters/sms/sns.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define API_VERSION "2010-03-31"
#define SERVICE "sns"
#define CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

#define URL_MAX 512             /* endpoint, fetch_base_url */
#define HOST_MAX 255            /* their host and port, as SigV4 signs */
#define REGION_MAX 32
#define KEY_ID_MIN 16
#define KEY_ID_MAX 128
#define SECRET_MAX 128
#define TOKEN_MAX 4096
#define TOPICS_MAX 16
#define ARN_MAX 256
#define DLT_ID_MAX 64
#define TEXT_BYTES_MAX 1600     /* SNS: 1,600 bytes per SMS publish */
#define SENDER_ID_MAX 11
#define RESPONSE_MAX (64 * 1024)
#define XML_DEPTH_MAX 16
#define XML_NAME_MAX 64
#define RETRY_AFTER_MAX_S 86400
#define HOOK_BODY_MAX (1024 * 1024)
#define HOOK_DEPTH_MAX 8
#define HOOK_URL_MAX 2048
#define SIG_B64_MAX 1400        /* base64 of an 8192-bit signature */
#define CERT_MAX (16 * 1024)
#define CONFIRM_MAX (16 * 1024)
#define INBOUND_MAX (64 * 1024) /* the two-way SMS payload */
#define MSG_ID_MAX 100
/* SNS keeps retrying a delivery for up to an hour with a custom
 * policy; its Timestamp is the publish time and does not change. */
#define MAX_AGE_MS (3600 * INT64_C(1000))
#define MAX_SKEW_MS (300 * INT64_C(1000))

#define BAD_INPUT(...) \
  vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)

typedef struct sns_state {
  char region[REGION_MAX + 1];
  char *publish_url;            /* {endpoint}/ */
  char *fetch_base;             /* NULL, or a base without '/' at the end */
  char sms_type[16];            /* "" when not configured */
  char sender_id[SENDER_ID_MAX + 1];
  char max_price[24];
  char entity_id[DLT_ID_MAX + 1];
  char template_id[DLT_ID_MAX + 1];
  char *topics[TOPICS_MAX];
  size_t ntopics;
  char access_key_id[KEY_ID_MAX + 1];
  char *secret;                 /* wiped by fini */
  char *session_token;          /* wiped by fini; NULL when none */
} sns_state;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

/* 1..max bytes, each accepted by pred. */
static int is_word(const char *s, size_t max, int (*pred)(int))
{
  size_t n;

  if (s == NULL)
    return 0;
  n = strnlen(s, max + 1);
  return n > 0 && n <= max && vc__all_of(s, n, pred);
}

static int id_char(int c) { return vc__is_alnum(c) || c == '-' || c == '_'; }
static int visible(int c) { return c > 0x20 && c < 0x7f; }
static int key_id_char(int c)
{
  return (c >= 'A' && c <= 'Z') || vc__is_digit(c);
}

/* "+" and 2 to 15 digits, the first not 0. */
static int is_e164(const char *s)
{
  size_t n;

  if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9')
    return 0;
  n = strnlen(s + 1, 16);
  return n >= 2 && n <= 15 && vc__all_of(s + 1, n, vc__is_digit);
}

/* An alphanumeric sender ID: 1 to 11 letters and digits, a letter
 * among them. */
static int is_sender_id(const char *s)
{
  size_t n;

  if (!is_word(s, SENDER_ID_MAX, vc__is_alnum))
    return 0;
  n = strlen(s);
  for (size_t i = 0; i < n; i++)
    if (vc__is_alpha((unsigned char)s[i]))
      return 1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* init / fini                                                         */

static void sns_fini(void *state)
{
  sns_state *st = state;

  if (st == NULL)
    return;
  vc__adapter_free_secret(st->secret);
  vc__adapter_free_secret(st->session_token);
  for (size_t i = 0; i < st->ntopics; i++)
    vc__free(st->topics[i]);
  vc__free(st->publish_url);
  vc__free(st->fetch_base);
  vc__wipe(st, sizeof(*st));
  vc__free(st);
}

/* A base URL: http(s)://host[:port], no path, userinfo, query or
 * fragment; *len without a trailing '/'. The host is a name of letters,
 * digits, '.' and '-', or an IPv6 literal in brackets; the port 1 to
 * 65535; host and port at most HOST_MAX bytes: what the SigV4 signer
 * takes (src/core/sigv4.c), so that an endpoint init accepts can sign
 * every request. */
static int check_base(const char *key, const char *url, size_t *len)
{
  size_t n = strnlen(url, URL_MAX + 1), skip, i, end;

  if (n > URL_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "config.%s is longer than %d bytes", key, URL_MAX);
  if (strncmp(url, "https://", 8) == 0)
    skip = 8;
  else if (strncmp(url, "http://", 7) == 0)
    skip = 7;
  else
    return BAD_INPUT("config.%s must start with https:// or http://", key);
  while (n > skip && url[n - 1] == '/')
    n--;
  for (i = skip; i < n; i++) {
    unsigned char c = (unsigned char)url[i];
    if (!(vc__is_alnum(c) || c == '.' || c == '-' || c == ':' || c == '[' ||
          c == ']'))
      return BAD_INPUT("config.%s must be a scheme and a host only "
                       "(byte %zu)", key, i);
  }
  if (n - skip > HOST_MAX)
    return BAD_INPUT("config.%s has a host longer than %d bytes", key,
                     HOST_MAX);
  /* The host: a bracketed IPv6 literal, or a name. */
  i = skip;
  if (i < n && url[i] == '[') {
    for (i++; i < n && (vc__is_hex((unsigned char)url[i]) ||
                        url[i] == ':' || url[i] == '.');
         i++)
      ;
    if (i >= n || url[i] != ']' || i == skip + 1)
      return BAD_INPUT("config.%s has a malformed IPv6 host", key);
    i++;
  } else {
    while (i < n && url[i] != ':' && url[i] != '[' && url[i] != ']')
      i++;
  }
  end = i;
  if (end == skip)
    return BAD_INPUT("config.%s has no host", key);
  if (end < n) {
    size_t digits = n - end - 1;
    long port = digits >= 1 && digits <= 5 &&
                    strspn(url + end + 1, "0123456789") >= digits
                  ? strtol(url + end + 1, NULL, 10) : 0;
    if (url[end] != ':' || port < 1 || port > 65535)
      return BAD_INPUT("config.%s must end with its host or a port from 1 "
                       "to 65535", key);
  }
  if (skip == 7 && !vc__adapter_loopback_host(url + skip, n - skip))
    return BAD_INPUT("config.%s may use http:// only for a loopback host",
                     key);
  *len = n;
  return 0;
}

static int region_char(int c)
{
  return (c >= 'a' && c <= 'z') || vc__is_digit(c) || c == '-';
}

/* An AWS region: "us-east-1", "cn-north-1", "us-gov-west-1". */
static int is_region(const char *s)
{
  size_t n;

  if (!is_word(s, REGION_MAX, region_char) || s[0] < 'a' || s[0] > 'z')
    return 0;
  n = strlen(s);
  return strchr(s, '-') != NULL && s[n - 1] != '-' &&
         strstr(s, "--") == NULL;
}

/* USD with at most 5 decimals: "0.50". */
static int is_price(const char *s)
{
  size_t n = strnlen(s, 24), dot = strcspn(s, ".");

  if (n == 0 || n > 12 || dot == 0 || dot > 6)
    return 0;
  if (!vc__all_of(s, dot, vc__is_digit))
    return 0;
  if (dot == n)
    return 1;
  return n - dot - 1 >= 1 && n - dot - 1 <= 5 &&
         vc__all_of(s + dot + 1, n - dot - 1, vc__is_digit);
}

static int read_topics(sns_state *st, const cJSON *cfg)
{
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(cfg, "topic_arns");
  const cJSON *it;

  if (arr == NULL || cJSON_IsNull(arr))
    return 0;
  if (!cJSON_IsArray(arr))
    return BAD_INPUT("config.topic_arns must be an array of topic ARNs");
  if (cJSON_GetArraySize(arr) > TOPICS_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "config.topic_arns has more than %d topics",
                         TOPICS_MAX);
  cJSON_ArrayForEach(it, arr) {
    const char *s = cJSON_IsString(it) ? it->valuestring : NULL;

    if (!is_word(s, ARN_MAX, visible) || strncmp(s, "arn:", 4) != 0 ||
        strstr(s, ":sns:") == NULL)
      return BAD_INPUT("config.topic_arns[%zu] is not an SNS topic ARN",
                       st->ntopics);
    if ((st->topics[st->ntopics] = vc__strdup(s)) == NULL)
      return vc_error_set_oom();
    st->ntopics++;
  }
  return 0;
}

static int read_config(sns_state *st, const cJSON *cfg)
{
  static const char *const known[] = {
    "region", "endpoint", "sms_type", "sender_id", "max_price",
    "entity_id", "template_id", "topic_arns", "fetch_base_url"
  };
  const char *region, *endpoint, *type, *sender, *price, *entity, *tmpl,
             *fetch;
  vc_buf url = VC_BUF_INIT;
  size_t n = 0;
  int rc;

  if ((rc = vc__adapter_check_keys(cfg, "config", known,
                                   VC_ARRAY_SIZE(known), 1)) < 0 ||
      (rc = vc__adapter_get_str(&region, cfg, "config", "region")) < 0 ||
      (rc = vc__adapter_get_str(&endpoint, cfg, "config", "endpoint")) < 0 ||
      (rc = vc__adapter_get_str(&type, cfg, "config", "sms_type")) < 0 ||
      (rc = vc__adapter_get_str(&sender, cfg, "config", "sender_id")) < 0 ||
      (rc = vc__adapter_get_str(&price, cfg, "config", "max_price")) < 0 ||
      (rc = vc__adapter_get_str(&entity, cfg, "config", "entity_id")) < 0 ||
      (rc = vc__adapter_get_str(&tmpl, cfg, "config", "template_id")) < 0 ||
      (rc = vc__adapter_get_str(&fetch, cfg, "config", "fetch_base_url")) < 0)
    return rc;
  if (region == NULL)
    return BAD_INPUT("config.region is required");
  if (!is_region(region))
    return BAD_INPUT("config.region is not an AWS region name");
  snprintf(st->region, sizeof(st->region), "%s", region);
  if (type != NULL) {
    if (strcmp(type, "Transactional") != 0 &&
        strcmp(type, "Promotional") != 0)
      return BAD_INPUT("config.sms_type must be Transactional or "
                       "Promotional");
    snprintf(st->sms_type, sizeof(st->sms_type), "%s", type);
  }
  if (sender != NULL) {
    if (!is_sender_id(sender))
      return BAD_INPUT("config.sender_id must be 1 to %d letters and "
                       "digits, at least one a letter", SENDER_ID_MAX);
    snprintf(st->sender_id, sizeof(st->sender_id), "%s", sender);
  }
  if (price != NULL) {
    if (!is_price(price))
      return BAD_INPUT("config.max_price must be a USD amount such as "
                       "\"0.50\"");
    snprintf(st->max_price, sizeof(st->max_price), "%s", price);
  }
  if (entity != NULL) {
    if (!is_word(entity, DLT_ID_MAX, vc__is_alnum))
      return BAD_INPUT("config.entity_id must be 1 to %d letters and "
                       "digits", DLT_ID_MAX);
    snprintf(st->entity_id, sizeof(st->entity_id), "%s", entity);
  }
  if (tmpl != NULL) {
    if (!is_word(tmpl, DLT_ID_MAX, vc__is_alnum))
      return BAD_INPUT("config.template_id must be 1 to %d letters and "
                       "digits", DLT_ID_MAX);
    snprintf(st->template_id, sizeof(st->template_id), "%s", tmpl);
  }
  if ((rc = read_topics(st, cfg)) < 0)
    return rc;
  if (fetch != NULL) {
    if ((rc = check_base("fetch_base_url", fetch, &n)) < 0)
      return rc;
    if ((st->fetch_base = vc__strndup(fetch, n)) == NULL)
      return vc_error_set_oom();
  }
  if (endpoint != NULL) {
    if ((rc = check_base("endpoint", endpoint, &n)) < 0 ||
        (rc = vc__buf_put(&url, endpoint, n)) < 0)
      goto out;
  } else if ((rc = vc__buf_printf(&url, "https://sns.%s.amazonaws.com%s",
                                  region,
                                  strncmp(region, "cn-", 3) == 0 ? ".cn"
                                                                 : "")) < 0) {
    goto out;
  }
  if ((rc = vc__buf_puts(&url, "/")) < 0)
    goto out;
  st->publish_url = url.ptr;
  return 0;
out:
  vc_buf_dispose(&url);
  return rc;
}

/* Credential checks never quote the value. */
static int read_credentials(sns_state *st, const cJSON *cred)
{
  static const char *const known[] = {
    "access_key_id", "secret_access_key", "session_token"
  };
  const char *id, *secret, *token;
  int rc;

  if ((rc = vc__adapter_check_keys(cred, "credentials", known,
                                   VC_ARRAY_SIZE(known), 0)) < 0 ||
      (rc = vc__adapter_get_str(&id, cred, "credentials",
                                "access_key_id")) < 0 ||
      (rc = vc__adapter_get_str(&secret, cred, "credentials",
                    "secret_access_key")) < 0 ||
      (rc = vc__adapter_get_str(&token, cred, "credentials",
                                "session_token")) < 0)
    return rc;
  if (id == NULL || secret == NULL)
    return BAD_INPUT("credentials.access_key_id and "
                     "credentials.secret_access_key are required");
  if (strnlen(id, KEY_ID_MAX + 1) < KEY_ID_MIN ||
      !is_word(id, KEY_ID_MAX, key_id_char))
    return BAD_INPUT("credentials.access_key_id must be %d to %d capital "
                     "letters and digits", KEY_ID_MIN, KEY_ID_MAX);
  if (!is_word(secret, SECRET_MAX, visible))
    return BAD_INPUT("credentials.secret_access_key must be 1 to %d "
                     "printable characters without spaces", SECRET_MAX);
  if (token != NULL && !is_word(token, TOKEN_MAX, visible))
    return BAD_INPUT("credentials.session_token must be 1 to %d "
                     "printable characters without spaces", TOKEN_MAX);
  snprintf(st->access_key_id, sizeof(st->access_key_id), "%s", id);
  if ((st->secret = vc__strdup(secret)) == NULL ||
      (token != NULL && (st->session_token = vc__strdup(token)) == NULL))
    return vc_error_set_oom();
  return 0;
}

static int sns_init(void **state, const char *config_json,
                    const char *credentials_json)
{
  cJSON *cfg = NULL, *cred = NULL;
  sns_state *st;
  int rc;

  VC_ASSERT_ARG(state);
  *state = NULL;
  if ((st = vc__calloc(1, sizeof(*st))) == NULL)
    return vc_error_set_oom();
  if ((rc = vc__adapter_parse_config(&cfg, config_json, "config")) < 0 ||
      (rc = read_config(st, cfg)) < 0)
    goto out;
  if ((rc = vc__adapter_parse_config(&cred, credentials_json,
                                     "credentials")) < 0) {
    /* Never point into text that may hold a secret. */
    if (rc == VC_EINVALID)
      rc = BAD_INPUT("credentials is not a valid JSON object");
    goto out;
  }
  if ((rc = read_credentials(st, cred)) < 0)
    goto out;
  *state = st;
  st = NULL;
out:
  vc__json_wipe(cred);
  cJSON_Delete(cred);
  cJSON_Delete(cfg);
  sns_fini(st);
  return rc;
}

/* ------------------------------------------------------------------ */
/* build_send                                                          */

static int check_outbound(const vc_outbound *msg)
{
  int rc;

  if (!is_e164(msg->to))
    return BAD_INPUT("recipient must be an E.164 phone number");
  if (msg->from != NULL && msg->from[0] != '\0' && !is_e164(msg->from) &&
      !is_sender_id(msg->from))
    return BAD_INPUT("sender must be an E.164 number or a sender ID of 1 "
                     "to %d letters and digits", SENDER_ID_MAX);
  if ((rc = vc__check_text("text", msg->text, TEXT_BYTES_MAX, 1)) < 0) {
    if (rc == VC_ETOOBIG)
      vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                    "text is longer than SNS's %d bytes", TEXT_BYTES_MAX);
    return rc;
  }
  if (msg->nattachments > 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                         "SNS sends text only: no attachments");
  if (msg->now_ms <= 0)
    return BAD_INPUT("no clock to sign the request with");
  return 0;
}

static int form_add(vc_buf *b, const char *name, const char *value)
{
  int rc;

  if ((b->size > 0 && (rc = vc__buf_puts(b, "&")) < 0) ||
      (rc = vc__form_encode(b, name, strlen(name))) < 0 ||
      (rc = vc__buf_puts(b, "=")) < 0)
    return rc;
  return vc__form_encode(b, value, strlen(value));
}

/* One MessageAttributes entry, numbered from 1. */
static int add_attribute(vc_buf *b, unsigned *n, const char *name,
                         const char *type, const char *value)
{
  char key[64];
  int rc;

  if (value == NULL || value[0] == '\0')
    return 0;
  ++*n;
  snprintf(key, sizeof(key), "MessageAttributes.entry.%u.Name", *n);
  if ((rc = form_add(b, key, name)) < 0)
    return rc;
  snprintf(key, sizeof(key), "MessageAttributes.entry.%u.Value.DataType",
           *n);
  if ((rc = form_add(b, key, type)) < 0)
    return rc;
  snprintf(key, sizeof(key),
           "MessageAttributes.entry.%u.Value.StringValue", *n);
  return form_add(b, key, value);
}

static int publish_body(vc_buf *b, const sns_state *st,
                        const vc_outbound *msg)
{
  const char *from = msg->from != NULL && msg->from[0] != '\0' ? msg->from
                                                               : NULL;
  const char *sender = from && !is_e164(from) ? from
                       : st->sender_id[0] ? st->sender_id : NULL;
  unsigned n = 0;
  int rc;

  if ((rc = form_add(b, "Action", "Publish")) < 0 ||
      (rc = form_add(b, "Version", API_VERSION)) < 0 ||
      (rc = form_add(b, "PhoneNumber", msg->to)) < 0 ||
      (rc = form_add(b, "Message", msg->text)) < 0 ||
      (rc = add_attribute(b, &n, "AWS.SNS.SMS.SMSType", "String",
                          st->sms_type)) < 0 ||
      (rc = add_attribute(b, &n, "AWS.SNS.SMS.SenderID", "String",
                          sender)) < 0 ||
      (rc = add_attribute(b, &n, "AWS.MM.SMS.OriginationNumber", "String",
                          from && is_e164(from) ? from : NULL)) < 0 ||
      (rc = add_attribute(b, &n, "AWS.SNS.SMS.MaxPrice", "Number",
                          st->max_price)) < 0 ||
      (rc = add_attribute(b, &n, "AWS.MM.SMS.EntityId", "String",
                          st->entity_id)) < 0 ||
      (rc = add_attribute(b, &n, "AWS.MM.SMS.TemplateId", "String",
                          st->template_id)) < 0)
    return rc;
  return 0;
}

static int sns_build_send(void *state, const vc_outbound *msg,
                          vc_http_out *req)
{
  const sns_state *st = state;
  vc_http_header ct = { "Content-Type", CONTENT_TYPE };
  vc__aws_creds creds;
  vc__sigv4 sig;
  vc_buf body = VC_BUF_INIT;
  int rc;

  VC_ASSERT_ARG(st);
  VC_ASSERT_ARG(msg);
  VC_ASSERT_ARG(req);
  VC_CHECK_VERSION(msg, VC_OUTBOUND_VERSION, "vc_outbound");
  memset(&sig, 0, sizeof(sig));
  if ((rc = check_outbound(msg)) < 0 ||
      (rc = publish_body(&body, st, msg)) < 0)
    goto out;
  creds.access_key_id = st->access_key_id;
  creds.secret_access_key = st->secret;
  creds.session_token = st->session_token;
  if ((rc = vc__sigv4_sign(&sig, "POST", st->publish_url, &ct, 1, body.ptr,
                           body.size, st->region, SERVICE, &creds,
                           msg->now_ms)) < 0 ||
      (rc = vc_http_out_set_target(req, "POST", st->publish_url)) < 0 ||
      (rc = vc_http_out_add_header(req, "Host", sig.host)) < 0 ||
      (rc = vc_http_out_add_header(req, "Content-Type", CONTENT_TYPE)) < 0 ||
      (rc = vc_http_out_add_header(req, "X-Amz-Date", sig.amz_date)) < 0 ||
      (st->session_token != NULL &&
       (rc = vc_http_out_add_header(req, "X-Amz-Security-Token",
                                    st->session_token)) < 0) ||
      (rc = vc_http_out_add_header(req, "Authorization",
                                   sig.authorization.ptr)) < 0 ||
      (rc = vc_http_out_set_body(req, body.ptr, body.size)) < 0)
    goto out;
out:
  vc__sigv4_dispose(&sig);
  vc__buf_wipe(&body);
  return rc;
}

/* ------------------------------------------------------------------ */
/* A small XML reader: the text of a few elements, nothing else        */

typedef struct xml_field {
  const char *path;   /* local names from the root: "A/B/C" */
  char *out;
  size_t cap;
  int found;
} xml_field;

/* Offset of `pat` in d[from..n), or n when absent. */
static size_t find(const char *d, size_t n, size_t from, const char *pat)
{
  size_t m = strlen(pat);

  for (size_t i = from; i + m <= n; i++)
    if (memcmp(d + i, pat, m) == 0)
      return i;
  return n;
}

static int starts(const char *d, size_t n, size_t i, const char *pat)
{
  size_t m = strlen(pat);

  return i + m <= n && memcmp(d + i, pat, m) == 0;
}

static void put_byte(char *out, size_t cap, size_t *o, char c)
{
  if (*o + 1 < cap)
    out[(*o)++] = c;
}

/* A character reference or one of the five predefined entities at
 * d[i] == '&'; *next is past its ';'. -1 when malformed. */
static long xml_entity(const char *d, size_t n, size_t i, size_t *next)
{
  static const struct { const char *name; char c; } named[] = {
    { "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' },
    { "apos", '\'' },
  };
  size_t semi = i + 1;
  long cp = 0;

  while (semi < n && semi - i <= 10 && d[semi] != ';')
    semi++;
  if (semi >= n || d[semi] != ';')
    return -1;
  *next = semi + 1;
  for (size_t k = 0; k < VC_ARRAY_SIZE(named); k++)
    if (semi - i - 1 == strlen(named[k].name) &&
        memcmp(d + i + 1, named[k].name, semi - i - 1) == 0)
      return named[k].c;
  if (d[i + 1] != '#' || semi - i < 3)
    return -1;
  if (d[i + 2] == 'x') {
    if (semi - i < 4)
      return -1;
    for (size_t k = i + 3; k < semi; k++) {
      char c = d[k];
      int v = vc__is_digit((unsigned char)c) ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (v < 0)
        return -1;
      cp = cp * 16 + v;
    }
  } else {
    for (size_t k = i + 2; k < semi; k++) {
      if (!vc__is_digit((unsigned char)d[k]))
        return -1;
      cp = cp * 10 + (d[k] - '0');
    }
  }
  if (cp <= 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return -1;
  return cp;
}

/* The decoded text of d[from..to) into out (cut at cap-1 bytes):
 * entities, CDATA sections, comments and processing instructions
 * skipped. -1 when malformed. */
static int xml_text(char *out, size_t cap, const char *d, size_t from,
                    size_t to)
{
  size_t o = 0, i = from, end;

  while (i < to) {
    if (d[i] == '&') {
      long cp = xml_entity(d, to, i, &i);
      unsigned char u[4];
      size_t k = 0;

      if (cp < 0)
        return -1;
      if (cp < 0x80) {
        u[k++] = (unsigned char)cp;
      } else if (cp < 0x800) {
        u[k++] = (unsigned char)(0xc0 | (cp >> 6));
        u[k++] = (unsigned char)(0x80 | (cp & 0x3f));
      } else if (cp < 0x10000) {
        u[k++] = (unsigned char)(0xe0 | (cp >> 12));
        u[k++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        u[k++] = (unsigned char)(0x80 | (cp & 0x3f));
      } else {
        u[k++] = (unsigned char)(0xf0 | (cp >> 18));
        u[k++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        u[k++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        u[k++] = (unsigned char)(0x80 | (cp & 0x3f));
      }
      if (o + k < cap) {
        memcpy(out + o, u, k);
        o += k;
      }
    } else if (starts(d, to, i, "<![CDATA[")) {
      end = find(d, to, i + 9, "]]>");
      for (size_t k = i + 9; k < end; k++)
        put_byte(out, cap, &o, d[k]);
      i = end + 3;
    } else if (starts(d, to, i, "<!--")) {
      i = find(d, to, i + 4, "-->") + 3;
    } else if (starts(d, to, i, "<?")) {
      i = find(d, to, i + 2, "?>") + 2;
    } else {
      put_byte(out, cap, &o, d[i++]);
    }
  }
  if (cap > 0)
    out[o] = '\0';
  return 0;
}

static int name_char(int c)
{
  return vc__is_alnum(c) || c == '_' || c == ':' || c == '.' || c == '-';
}

/* An element name at d[i]; its local part (after any prefix) copied
 * to name. Returns the offset past it, or 0 when malformed. */
static size_t xml_name(const char *d, size_t n, size_t i,
                       char name[XML_NAME_MAX + 1])
{
  size_t start = i, local;

  if (i >= n || !(vc__is_alpha((unsigned char)d[i]) || d[i] == '_'))
    return 0;
  while (i < n && name_char((unsigned char)d[i]))
    i++;
  if (i - start > XML_NAME_MAX)
    return 0;
  local = start;
  for (size_t k = start; k < i; k++)
    if (d[k] == ':')
      local = k + 1;
  if (local == i)
    return 0;
  memcpy(name, d + local, i - local);
  name[i - local] = '\0';
  return i;
}

static void xml_take(char stack[][XML_NAME_MAX + 1], size_t depth,
                     xml_field *f, size_t nf, const char *d, size_t from,
                     size_t to, int *bad)
{
  char path[XML_DEPTH_MAX * (XML_NAME_MAX + 1)];
  size_t p = 0;

  for (size_t k = 0; k < depth; k++) {
    size_t len = strlen(stack[k]);
    if (k > 0)
      path[p++] = '/';
    memcpy(path + p, stack[k], len);
    p += len;
  }
  path[p] = '\0';
  for (size_t k = 0; k < nf; k++)
    if (!f[k].found && strcmp(path, f[k].path) == 0) {
      if (xml_text(f[k].out, f[k].cap, d, from, to) < 0)
        *bad = 1;
      f[k].found = 1;
    }
}

/*
 * Read the text of the first element at each field's path. Elements
 * with children have no text; attributes, namespaces (prefixes are
 * dropped) and everything else are ignored. A DOCTYPE, mismatched or
 * unclosed tags, nesting past XML_DEPTH_MAX or a bad entity make it -1.
 */
static int xml_read(const char *d, size_t n, xml_field *f, size_t nf)
{
  char stack[XML_DEPTH_MAX][XML_NAME_MAX + 1], name[XML_NAME_MAX + 1];
  size_t depth = 0, text_from = 0, i = 0;
  int leaf = 0, roots = 0, bad = 0;

  while (i < n && !bad) {
    size_t j;

    if (d[i] != '<') {
      i++;
      continue;
    }
    if (starts(d, n, i, "<![CDATA[")) {
      if (depth == 0 || (j = find(d, n, i + 9, "]]>")) == n)
        return -1;
      i = j + 3;
    } else if (starts(d, n, i, "<!--")) {
      if ((j = find(d, n, i + 4, "-->")) == n)
        return -1;
      i = j + 3;
    } else if (starts(d, n, i, "<?")) {
      if ((j = find(d, n, i + 2, "?>")) == n)
        return -1;
      i = j + 2;
    } else if (starts(d, n, i, "<!")) {
      return -1;                        /* DOCTYPE: never */
    } else if (starts(d, n, i, "</")) {
      if (depth == 0 || (j = xml_name(d, n, i + 2, name)) == 0 ||
          strcmp(name, stack[depth - 1]) != 0)
        return -1;
      while (j < n && (d[j] == ' ' || d[j] == '\t' || d[j] == '\r' ||
                       d[j] == '\n'))
        j++;
      if (j >= n || d[j] != '>')
        return -1;
      if (leaf)
        xml_take(stack, depth, f, nf, d, text_from, i, &bad);
      depth--;
      leaf = 0;
      i = j + 1;
    } else {
      char quote = 0;
      int empty = 0;

      if ((j = xml_name(d, n, i + 1, name)) == 0 ||
          depth == XML_DEPTH_MAX || (depth == 0 && roots++ > 0))
        return -1;
      /* Attributes: skipped, quotes respected. */
      for (; j < n; j++) {
        if (quote) {
          if (d[j] == quote)
            quote = 0;
        } else if (d[j] == '"' || d[j] == '\'') {
          quote = d[j];
        } else if (d[j] == '<') {
          return -1;
        } else if (d[j] == '>') {
          break;
        }
      }
      if (j >= n)
        return -1;
      empty = d[j - 1] == '/';
      memcpy(stack[depth++], name, strlen(name) + 1);
      if (empty) {
        xml_take(stack, depth, f, nf, d, j, j, &bad);
        depth--;
        leaf = 0;
      } else {
        leaf = 1;
        text_from = j + 1;
      }
      i = j + 1;
    }
  }
  return !bad && depth == 0 && roots == 1 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* parse_send                                                          */

/* How AWS error codes map to outcomes; a code not listed falls back to
 * the HTTP status. */
typedef struct code_rule {
  const char *code;
  int outcome;
  int error;
} code_rule;

static const code_rule CODE_RULES[] = {
  /* transient */
  { "Throttling", VC_SEND_RETRY, VC_ERATELIMIT },
  { "Throttled", VC_SEND_RETRY, VC_ERATELIMIT },
  { "ThrottlingException", VC_SEND_RETRY, VC_ERATELIMIT },
  { "RequestThrottled", VC_SEND_RETRY, VC_ERATELIMIT },
  { "KMSThrottling", VC_SEND_RETRY, VC_ERATELIMIT },
  { "InternalError", VC_SEND_RETRY, VC_EPROVIDER },
  { "InternalFailure", VC_SEND_RETRY, VC_EPROVIDER },
  { "ServiceUnavailable", VC_SEND_RETRY, VC_EPROVIDER },
  /* this message: every channel would refuse it */
  { "InvalidParameter", VC_SEND_REJECTED, VC_EPROVIDER },
  { "InvalidParameterValue", VC_SEND_REJECTED, VC_EPROVIDER },
  { "MissingParameter", VC_SEND_REJECTED, VC_EPROVIDER },
  { "ValidationError", VC_SEND_REJECTED, VC_EPROVIDER },
  { "ValidationException", VC_SEND_REJECTED, VC_EPROVIDER },
  { "UserError", VC_SEND_REJECTED, VC_EPROVIDER },
  /* this channel cannot send (credentials, permissions, clock, account):
   * another one may */
  { "InvalidClientTokenId", VC_SEND_FAILOVER, VC_EAUTH },
  { "SignatureDoesNotMatch", VC_SEND_FAILOVER, VC_EAUTH },
  { "AuthorizationError", VC_SEND_FAILOVER, VC_EAUTH },
  { "AccessDenied", VC_SEND_FAILOVER, VC_EAUTH },
  { "AccessDeniedException", VC_SEND_FAILOVER, VC_EAUTH },
  { "UnrecognizedClientException", VC_SEND_FAILOVER, VC_EAUTH },
  { "IncompleteSignature", VC_SEND_FAILOVER, VC_EAUTH },
  { "MissingAuthenticationToken", VC_SEND_FAILOVER, VC_EAUTH },
  { "ExpiredToken", VC_SEND_FAILOVER, VC_EAUTH },
  { "RequestExpired", VC_SEND_FAILOVER, VC_EAUTH },
  { "OptInRequired", VC_SEND_FAILOVER, VC_EAUTH },
  { "InvalidAction", VC_SEND_FAILOVER, VC_EPROVIDER },
  { "KMSAccessDenied", VC_SEND_FAILOVER, VC_EPROVIDER },
  { "KMSDisabled", VC_SEND_FAILOVER, VC_EPROVIDER },
};

static void classify(vc_send_result *out, int status, const char *code)
{
  if (code[0] != '\0')
    for (size_t i = 0; i < VC_ARRAY_SIZE(CODE_RULES); i++)
      if (strcmp(CODE_RULES[i].code, code) == 0) {
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
  } else if (status == 400) {
    out->outcome = VC_SEND_REJECTED;
  }
  /* 408, 5xx and anything unexpected: retry */
}

/* Retry-After in seconds (SNS sends none; a proxy may). */
static void read_retry_after(vc_send_result *out,
                             const vc_http_response *res)
{
  const char *v = vc_http_response_header(res, "Retry-After");
  int64_t secs = 0;
  size_t n;

  if (v == NULL)
    return;
  while (*v == ' ')
    v++;
  n = strspn(v, "0123456789");
  if (n == 0 || n > 9 || (v[n] != '\0' && v[n] != ' '))
    return;
  for (size_t i = 0; i < n; i++)
    secs = secs * 10 + (v[i] - '0');
  out->retry_after_ms = (secs > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S
                                                  : secs) * 1000;
}

static int sns_parse_send(void *state, const vc_outbound *msg,
                          const vc_http_response *res, vc_send_result *out)
{
  char id[sizeof(out->provider_id)], code[64], text[512], type[32];
  xml_field ok[] = {
    { "PublishResponse/PublishResult/MessageId", id, sizeof(id), 0 },
  };
  xml_field err[] = {
    { "ErrorResponse/Error/Code", code, sizeof(code), 0 },
    { "ErrorResponse/Error/Message", text, sizeof(text), 0 },
    { "ErrorResponse/Error/Type", type, sizeof(type), 0 },
  };
  const char *body = res->body.ptr;
  size_t len = res->body.size;
  int parsed;

  VC_UNUSED(state);
  VC_UNUSED(msg);
  VC_ASSERT_ARG(res);
  VC_ASSERT_ARG(out);
  id[0] = code[0] = text[0] = type[0] = '\0';
  if (body == NULL || len > RESPONSE_MAX)
    len = 0;
  if (res->status >= 200 && res->status < 300) {
    /* Only a MessageId proves SNS took it. */
    parsed = len > 0 && xml_read(body, len, ok, 1) == 0;
    if (parsed && ok[0].found && is_word(id, MSG_ID_MAX, id_char)) {
      out->outcome = VC_SEND_ACCEPTED;
      memcpy(out->provider_id, id, strlen(id) + 1);
    } else {
      out->outcome = VC_SEND_RETRY;
      out->error = VC_EPROVIDER;
      snprintf(out->error_message, sizeof(out->error_message),
               "SNS answered %d without a MessageId", res->status);
    }
    return 0;
  }
  parsed = len > 0 && xml_read(body, len, err, VC_ARRAY_SIZE(err)) == 0;
  if (!parsed || !is_word(code, sizeof(out->provider_code) - 1,
                          id_char)) {
    code[0] = '\0';
    snprintf(out->provider_code, sizeof(out->provider_code), "%d",
             res->status);
  } else {
    memcpy(out->provider_code, code, strlen(code) + 1);
  }
  if (parsed && text[0] != '\0')
    vc__copy_line(out->error_message, sizeof(out->error_message), text,
                  strlen(text));
  else
    snprintf(out->error_message, sizeof(out->error_message),
             "HTTP %d from SNS", res->status);
  classify(out, res->status, code);
  if (out->outcome == VC_SEND_RETRY)
    read_retry_after(out, res);
  return 0;
}

/* ------------------------------------------------------------------ */
/* SNS messages: reading and checking                                  */

enum { T_NOTIFICATION = 1, T_SUBSCRIBE, T_UNSUBSCRIBE };

typedef struct sns_msg {
  cJSON *root;
  int type;
  int version;                  /* SignatureVersion: 1 or 2 */
  const char *type_name, *message, *message_id, *subject, *subscribe_url,
             *timestamp, *token, *topic_arn, *signature, *cert_url;
  int64_t timestamp_ms;
} sns_msg;

#define AUTH_FAIL(...) \
  vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH, __VA_ARGS__)

static void msg_free(sns_msg *m)
{
  cJSON_Delete(m->root);
  memset(m, 0, sizeof(*m));
}

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

static int digits(const char *s, int n, int *out)
{
  int v = 0;

  for (int i = 0; i < n; i++) {
    if (!vc__is_digit((unsigned char)s[i]))
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

/* "2022-07-28T21:23:58.317Z" (fraction optional, 1 to 9 digits). */
static int parse_timestamp(const char *s, int64_t *ms)
{
  static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
                               30, 31 };
  int y, mo, d, h, mi, se, frac = 0;
  size_t n = strnlen(s, 40), k = 19;

  if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
      s[13] != ':' || s[16] != ':' || digits(s, 4, &y) < 0 ||
      digits(s + 5, 2, &mo) < 0 || digits(s + 8, 2, &d) < 0 ||
      digits(s + 11, 2, &h) < 0 || digits(s + 14, 2, &mi) < 0 ||
      digits(s + 17, 2, &se) < 0)
    return -1;
  if (s[k] == '.') {
    size_t f = ++k;
    while (k < n && vc__is_digit((unsigned char)s[k]) && k - f < 9) {
      if (k - f < 3)
        frac = frac * 10 + (s[k] - '0');
      k++;
    }
    if (k == f)
      return -1;
    for (size_t z = k - f; z < 3; z++)
      frac *= 10;
  }
  if (s[k] != 'Z' || k + 1 != n || y < 1970 || mo < 1 || mo > 12 ||
      d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
    return -1;
  *ms = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) *
          1000 + frac;
  return 0;
}

/* The envelope's string fields: each at most once, a string (a null
 * Subject counts as none). */
static int read_fields(sns_msg *m)
{
  static const char *const keys[] = {
    "Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
    "SignatureVersion", "Signature", "SigningCertURL", "SubscribeURL",
    "Token", "UnsubscribeURL"
  };
  const char *vals[VC_ARRAY_SIZE(keys)];

  for (size_t k = 0; k < VC_ARRAY_SIZE(keys); k++) {
    const cJSON *it, *hit = NULL;

    vals[k] = NULL;
    cJSON_ArrayForEach(it, m->root) {
      if (it->string == NULL || strcmp(it->string, keys[k]) != 0)
        continue;
      if (hit != NULL)
        return BAD_INPUT("SNS message has %s twice", keys[k]);
      hit = it;
    }
    if (hit == NULL || cJSON_IsNull(hit))
      continue;
    if (!cJSON_IsString(hit) || hit->valuestring == NULL)
      return BAD_INPUT("SNS message field %s is not a string", keys[k]);
    vals[k] = hit->valuestring;
  }
  m->type_name = vals[0];
  m->message_id = vals[1];
  m->topic_arn = vals[2];
  m->subject = vals[3];
  m->message = vals[4];
  m->timestamp = vals[5];
  m->signature = vals[7];
  m->cert_url = vals[8];
  m->subscribe_url = vals[9];
  m->token = vals[10];
  if (vals[6] != NULL && strcmp(vals[6], "1") == 0)
    m->version = 1;
  else if (vals[6] != NULL && strcmp(vals[6], "2") == 0)
    m->version = 2;
  else
    return BAD_INPUT("SNS message has no SignatureVersion 1 or 2");
  return 0;
}

/* Parse and check a posted SNS message (not its signature). */
static int read_msg(sns_msg *m, const void *body, size_t len)
{
  char *text;
  int rc;

  memset(m, 0, sizeof(*m));
  if (len > HOOK_BODY_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "SNS message is larger than %d bytes",
                         HOOK_BODY_MAX);
  if (body == NULL && len > 0)
    return BAD_INPUT("SNS message has no body");
  if (len > 0 && memchr(body, '\0', len) != NULL)
    return BAD_INPUT("SNS message has a NUL byte");
  if ((text = vc__malloc(len + 1)) == NULL)
    return vc_error_set_oom();
  if (len > 0)
    memcpy(text, body, len);
  text[len] = '\0';
  rc = vc__json_parse(&m->root, "SNS message", text, HOOK_BODY_MAX,
                      HOOK_DEPTH_MAX, 1);
  vc__free(text);
  if (rc < 0 || (rc = read_fields(m)) < 0)
    goto fail;
  if (m->type_name == NULL) {
    rc = BAD_INPUT("SNS message has no Type");
    goto fail;
  }
  if (strcmp(m->type_name, "Notification") == 0)
    m->type = T_NOTIFICATION;
  else if (strcmp(m->type_name, "SubscriptionConfirmation") == 0)
    m->type = T_SUBSCRIBE;
  else if (strcmp(m->type_name, "UnsubscribeConfirmation") == 0)
    m->type = T_UNSUBSCRIBE;
  else {
    rc = BAD_INPUT("SNS message has an unknown Type");
    goto fail;
  }
  if (m->message == NULL || m->timestamp == NULL || m->signature == NULL ||
      m->cert_url == NULL ||
      (m->type != T_NOTIFICATION &&
       (m->token == NULL || m->subscribe_url == NULL))) {
    rc = BAD_INPUT("SNS %s lacks a required field", m->type_name);
    goto fail;
  }
  if (!is_word(m->message_id, MSG_ID_MAX, id_char)) {
    rc = BAD_INPUT("SNS message has no valid MessageId");
    goto fail;
  }
  if (!is_word(m->topic_arn, ARN_MAX, visible) ||
      strncmp(m->topic_arn, "arn:", 4) != 0) {
    rc = BAD_INPUT("SNS message has no valid TopicArn");
    goto fail;
  }
  if (parse_timestamp(m->timestamp, &m->timestamp_ms) < 0) {
    rc = BAD_INPUT("SNS message Timestamp is not an ISO 8601 UTC time");
    goto fail;
  }
  return 0;
fail:
  msg_free(m);
  return rc;
}

/* The canonical string SNS signs: "Key\nValue\n" for the type's keys,
 * in byte order, absent ones skipped (providers.md 0, 10.5). */
static int string_to_sign(vc_buf *out, const sns_msg *m)
{
  const char *keys[7], *vals[7];
  size_t n = 0;
  int rc = 0;

  keys[n] = "Message";
  vals[n++] = m->message;
  keys[n] = "MessageId";
  vals[n++] = m->message_id;
  if (m->type == T_NOTIFICATION) {
    keys[n] = "Subject";
    vals[n++] = m->subject;
  } else {
    keys[n] = "SubscribeURL";
    vals[n++] = m->subscribe_url;
  }
  keys[n] = "Timestamp";
  vals[n++] = m->timestamp;
  if (m->type != T_NOTIFICATION) {
    keys[n] = "Token";
    vals[n++] = m->token;
  }
  keys[n] = "TopicArn";
  vals[n++] = m->topic_arn;
  keys[n] = "Type";
  vals[n++] = m->type_name;
  for (size_t i = 0; i < n && rc == 0; i++)
    if (vals[i] != NULL)
      rc = vc__buf_printf(out, "%s\n%s\n", keys[i], vals[i]);
  return rc;
}

/* sns.<region>.amazonaws.com or .amazonaws.com.cn, exactly. */
static int sns_host(const char *h, size_t n)
{
  static const char com[] = ".amazonaws.com", cn[] = ".amazonaws.com.cn";
  size_t tail, mid;

  if (n > 4 + 64 + sizeof(cn) || n < 4 || memcmp(h, "sns.", 4) != 0)
    return 0;
  if (n > sizeof(cn) - 1 &&
      memcmp(h + n - (sizeof(cn) - 1), cn, sizeof(cn) - 1) == 0)
    tail = sizeof(cn) - 1;
  else if (n > sizeof(com) - 1 &&
           memcmp(h + n - (sizeof(com) - 1), com, sizeof(com) - 1) == 0)
    tail = sizeof(com) - 1;
  else
    return 0;
  if (n < 4 + tail + 3)
    return 0;
  mid = n - 4 - tail;
  for (size_t i = 0; i < mid; i++)
    if (!vc__is_alnum((unsigned char)h[4 + i]) && h[4 + i] != '-')
      return 0;
  return 1;
}

int vc__sns_check_url(const char *url, int kind, const char **path_out)
{
  const char *host, *path;
  size_t n, hlen;

  if (path_out != NULL)
    *path_out = NULL;
  if (url == NULL)
    return AUTH_FAIL("%s is missing", "URL");
  n = strnlen(url, HOOK_URL_MAX + 1);
  if (n > HOOK_URL_MAX)
    return AUTH_FAIL("%s is too long", "URL");
  if (strncmp(url, "https://", 8) != 0)
    return AUTH_FAIL("%s is not https", kind == VC__SNS_URL_CERT
                                          ? "SigningCertURL"
                                          : "SubscribeURL");
  host = url + 8;
  hlen = strcspn(host, "/?#");
  /* "@" and ":" mean userinfo or a port: neither is SNS's. */
  if (!sns_host(host, hlen) || host[hlen] != '/')
    return AUTH_FAIL("%s is not on an SNS host", kind == VC__SNS_URL_CERT
                                                 ? "SigningCertURL"
                                                 : "SubscribeURL");
  path = host + hlen;
  for (const char *p = path; *p; p++)
    if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '#' ||
        *p == '\\' || (unsigned char)*p >= 0x80)
      return AUTH_FAIL("%s has a character SNS never sends",
                       kind == VC__SNS_URL_CERT ? "SigningCertURL"
                                                : "SubscribeURL");
  if (kind == VC__SNS_URL_CERT) {
    size_t plen = strlen(path);

    if (plen < 5 || strcmp(path + plen - 4, ".pem") != 0 ||
        strpbrk(path, "?%") != NULL || strstr(path, "/.") != NULL ||
        strstr(path, "//") != NULL)
      return AUTH_FAIL("%s is not a .pem file", "SigningCertURL");
  }
  if (path_out != NULL)
    *path_out = path;
  return 0;
}

static int check_signature(const sns_msg *m, const void *cert,
                           size_t cert_len, int64_t now_ms)
{
  vc_buf sig = VC_BUF_INIT, text = VC_BUF_INIT;
  size_t slen = strnlen(m->signature, SIG_B64_MAX + 1);
  int rc;

  if ((rc = vc__sns_check_url(m->cert_url, VC__SNS_URL_CERT, NULL)) < 0)
    return rc;
  if (slen == 0 || slen > SIG_B64_MAX ||
      vc__base64_decode(&sig, m->signature, slen) < 0 || sig.size == 0) {
    rc = AUTH_FAIL("%s is not base64", "Signature");
    goto out;
  }
  if ((rc = string_to_sign(&text, m)) < 0)
    goto out;
  rc = vc__x509_rsa_verify(cert, cert_len,
                           m->version == 1 ? VC__MD_SHA1 : VC__MD_SHA256,
                           (const uint8_t *)text.ptr, text.size,
                           (const uint8_t *)sig.ptr, sig.size, now_ms);
  if (rc < 0)
    vc__error_wrap("SNS message");
  if (rc == VC_EINVALID)           /* a bad certificate: still refused */
    rc = VC_EAUTH;
out:
  vc_buf_dispose(&sig);
  vc_buf_dispose(&text);
  return rc;
}

int vc__sns_verify_with_cert(const void *body, size_t len, const void *cert,
                             size_t cert_len, int64_t now_ms)
{
  sns_msg m;
  int rc;

  if ((rc = read_msg(&m, body, len)) < 0)
    return rc;
  rc = check_signature(&m, cert, cert_len, now_ms);
  msg_free(&m);
  return rc;
}

/* ------------------------------------------------------------------ */
/* verify_webhook                                                      */

/* The URL to GET for an SNS URL already checked: the same, or its path
 * and query on fetch_base_url (tests, private mirrors). */
static int fetch_url(vc_buf *out, const sns_state *st, const char *url,
                     const char *path)
{
  if (st->fetch_base == NULL)
    return vc__buf_puts(out, url);
  return vc__buf_printf(out, "%s%s", st->fetch_base, path);
}

static int topic_allowed(const sns_state *st, const char *arn)
{
  for (size_t i = 0; i < st->ntopics; i++)
    if (strcmp(st->topics[i], arn) == 0)
      return 1;
  return 0;
}

/* GET SubscribeURL: SNS then starts delivering the topic to us. */
static int confirm(const sns_state *st, const sns_msg *m,
                   vc_webhook_env *env)
{
  vc_buf url = VC_BUF_INIT, body = VC_BUF_INIT;
  const char *path;
  int rc;

  if ((rc = vc__sns_check_url(m->subscribe_url, VC__SNS_URL_SUBSCRIBE,
                              &path)) < 0 ||
      (rc = fetch_url(&url, st, m->subscribe_url, path)) < 0)
    goto out;
  if ((rc = vc_webhook_env_fetch(env, url.ptr, CONFIRM_MAX, 0, &body)) < 0)
    vc__error_wrap("confirming the SNS subscription");
out:
  vc_buf_dispose(&url);
  vc_buf_dispose(&body);
  return rc;
}

static int sns_verify_webhook(void *state, const vc_http_request *req,
                              vc_webhook_env *env)
{
  const sns_state *st = state;
  vc_buf url = VC_BUF_INIT, cert = VC_BUF_INIT;
  const char *hdr, *path;
  int64_t now;
  sns_msg m;
  int rc;

  VC_ASSERT_ARG(st);
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(env);
  /* Any AWS account can subscribe a URL to its own topic and have SNS
   * sign what it posts: only the channel's topics are accepted. */
  if (st->ntopics == 0)
    return AUTH_FAIL("no %s configured: SNS messages are refused",
                     "config.topic_arns");
  if ((rc = read_msg(&m, req->body, req->body_len)) < 0)
    return rc;
  hdr = vc_http_request_header(req, "x-amz-sns-message-type");
  if (hdr != NULL && strcmp(hdr, m.type_name) != 0) {
    rc = AUTH_FAIL("%s does not match the message's Type",
                   "x-amz-sns-message-type");
    goto out;
  }
  if (!topic_allowed(st, m.topic_arn)) {
    rc = AUTH_FAIL("%s is not one of config.topic_arns", "TopicArn");
    goto out;
  }
  now = vc_webhook_env_now(env);
  if (now - m.timestamp_ms > MAX_AGE_MS ||
      m.timestamp_ms - now > MAX_SKEW_MS) {
    rc = AUTH_FAIL("%s is outside the accepted window (an hour old, "
                   "5 minutes ahead)", "Timestamp");
    goto out;
  }
  if ((rc = vc__sns_check_url(m.cert_url, VC__SNS_URL_CERT, &path)) < 0 ||
      (rc = fetch_url(&url, st, m.cert_url, path)) < 0)
    goto out;
  if ((rc = vc_webhook_env_fetch(env, url.ptr, CERT_MAX,
                                 VC_WEBHOOK_FETCH_CACHE, &cert)) < 0) {
    vc__error_wrap("fetching the SNS signing certificate");
    goto out;
  }
  if ((rc = check_signature(&m, cert.ptr, cert.size, now)) < 0)
    goto out;
  if (m.type == T_SUBSCRIBE)
    rc = confirm(st, &m, env);
out:
  vc_buf_dispose(&url);
  vc_buf_dispose(&cert);
  msg_free(&m);
  return rc;
}

/* ------------------------------------------------------------------ */
/* parse_webhook                                                       */

static const char *obj_str(const cJSON *o, const char *key)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

  return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* A two-way SMS payload in a notification's Message: an inbound
 * message. Other notifications are not ours to read: nothing. */
static int report_inbound(const sns_msg *m, vc_event_sink *sink)
{
  const char *from, *to, *text;
  cJSON *doc = NULL;
  vc_inbound in;
  int rc = 0;

  if (m->message[0] != '{' ||
      vc__json_parse(&doc, "SNS Message", m->message, INBOUND_MAX, 4,
                     1) < 0) {
    vc_error_clear();
    return 0;
  }
  from = obj_str(doc, "originationNumber");
  to = obj_str(doc, "destinationNumber");
  text = obj_str(doc, "messageBody");
  if (from == NULL || text == NULL)
    goto out;                   /* some other JSON */
  if (!is_e164(from)) {
    rc = BAD_INPUT("two-way SMS originationNumber is not E.164");
    goto out;
  }
  if (to != NULL && !is_e164(to)) {
    rc = BAD_INPUT("two-way SMS destinationNumber is not E.164");
    goto out;
  }
  memset(&in, 0, sizeof(in));
  in.version = VC_INBOUND_VERSION;
  /* SNS's MessageId: a redelivery of the same notification dedupes. */
  in.provider_id = m->message_id;
  in.from = from;
  in.to = to;
  in.text = text;
  in.occurred_at = m->timestamp_ms;
  rc = vc_event_sink_inbound(sink, &in);
out:
  cJSON_Delete(doc);
  return rc;
}

static int sns_parse_webhook(void *state, const vc_http_request *req,
                             vc_event_sink *sink)
{
  sns_msg m;
  int rc;

  VC_UNUSED(state);
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(sink);
  if ((rc = read_msg(&m, req->body, req->body_len)) < 0)
    return rc;
  /* (Un)subscription confirmations: verify_webhook confirmed. */
  if (m.type == T_NOTIFICATION)
    rc = report_inbound(&m, sink);
  msg_free(&m);
  return rc < 0 ? rc : vc_event_sink_reply(sink, 200, NULL, NULL);
}

/* ------------------------------------------------------------------ */

const vc_adapter vc__adapter_aws_sns = {
  .version = VC_ADAPTER_VERSION,
  .name = "aws-sns",
  .kind = VC_CHANNEL_SMS,
  .capabilities = VC_CAP_INBOUND | VC_CAP_SIGNED_WEBHOOKS,
  .init = sns_init,
  .fini = sns_fini,
  .build_send = sns_build_send,
  .parse_send = sns_parse_send,
  .verify_webhook = sns_verify_webhook,
  .parse_webhook = sns_parse_webhook,
};
