/*
 * Shared by the Exotel and mCube adapters: neither provider signs its
 * callbacks, so the library authenticates them by a per-call token in
 * the URL it gave (the brief of issue 5: hex HMAC-SHA256 of the call id
 * under the channel's webhook secret), and both post one flat kind of
 * body (JSON, a form, or multipart) with local "YYYY-MM-DD HH:MM:SS"
 * times.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/multipart.h"
#include "core/text.h"
#include "adapters/voip/callback.h"

#include <cJSON.h>
#include <stdio.h>
#include <strings.h>

#define RETRY_AFTER_MAX_S 86400
#define JSON_DEPTH_MAX 4
#define NAME_MAX_BYTES 128

static int auth_fail(const char *why)
{
  return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH, "%s", why);
}

static int bad_body(const char *why)
{
  return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID, "%s", why);
}

#define BAD_HOOK(...) \
  vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID, __VA_ARGS__)

int vc__voip_token(char out[65], const char *secret, const char *call_id)
{
  uint8_t mac[32];
  int rc;

  if ((rc = vc__hmac(mac, VC__MD_SHA256, secret, strlen(secret), call_id,
                     strlen(call_id))) < 0)
    return rc;
  vc__hex_encode(out, mac, sizeof(mac));
  vc__wipe(mac, sizeof(mac));
  return 0;
}

int vc__voip_callback_url(vc_buf *out, const char *webhook_url,
                          const char *step, const char *secret,
                          const char *call_id)
{
  char token[65];
  int rc;

  if (webhook_url == NULL || webhook_url[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a call on this channel needs a callback URL: "
                         "set the context's public_base_url");
  if (!vc__voip_is_url(webhook_url, 2048) ||
      strchr(webhook_url, '?') == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "the call's webhook URL is not an http(s) URL "
                         "with a query");
  if (!vc__voip_is_id(call_id, VC__VOIP_CALL_ID_MAX))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "the call id is not an id");
  if ((rc = vc__voip_token(token, secret, call_id)) < 0)
    return rc;
  rc = vc__buf_printf(out, "%s&vc_step=%s&vc_token=%s", webhook_url, step,
                      token);
  vc__wipe(token, sizeof(token));
  return rc;
}

int vc__voip_query(vc_buf *out, int *count, const char *target,
                   const char *name)
{
  vc_buf key = VC_BUF_INIT;
  const char *p = target ? strchr(target, '?') : NULL;
  int rc = 0;

  *count = 0;
  out->size = 0;
  if (p == NULL)
    return 0;
  p++;
  while (*p != '\0' && *p != '#') {
    size_t len = strcspn(p, "&#"), eq = strcspn(p, "=&#");

    key.size = 0;
    if ((rc = vc__percent_decode(&key, p, eq, 1)) < 0)
      break;
    if (key.ptr != NULL && key.size == strlen(name) &&
        memcmp(key.ptr, name, key.size) == 0 && (*count)++ == 0) {
      out->size = 0;
      rc = vc__percent_decode(out, p + eq + (eq < len),
                              len - eq - (eq < len), 1);
      if (rc == 0)
        rc = vc__buf_puts(out, "");     /* never NULL */
      if (rc < 0)
        break;
    }
    p += len;
    if (*p == '&')
      p++;
  }
  vc_buf_dispose(&key);
  return rc;
}

int vc__voip_verify(const char *secret, const vc_http_request *req)
{
  vc_buf call = VC_BUF_INIT, token = VC_BUF_INIT;
  char want[65];
  int ncall = 0, ntoken = 0, rc;

  VC_ASSERT_ARG(req);
  if (secret == NULL || secret[0] == '\0')
    return auth_fail("the channel has no webhook_secret");
  if ((rc = vc__voip_query(&call, &ncall, req->target, "vc_call")) < 0 ||
      (rc = vc__voip_query(&token, &ntoken, req->target, "vc_token")) < 0)
    goto out;
  if (ncall != 1 || ntoken != 1) {
    rc = auth_fail(ntoken == 0 ? "the callback URL has no vc_token"
                   : ncall == 0 ? "the callback URL has no vc_call"
                                : "vc_call or vc_token appears twice");
    goto out;
  }
  if (strlen(call.ptr) != call.size ||
      !vc__voip_is_id(call.ptr, VC__VOIP_CALL_ID_MAX)) {
    rc = auth_fail("vc_call is not a call id");
    goto out;
  }
  if ((rc = vc__voip_token(want, secret, call.ptr)) < 0)
    goto out;
  /* The length is public (64); the comparison is constant-time. */
  rc = token.size == 64 && vc__ct_equal(want, token.ptr, 64)
         ? 0 : auth_fail("vc_token does not verify");
  vc__wipe(want, sizeof(want));
out:
  vc_buf_dispose(&call);
  vc_buf_dispose(&token);
  return rc;
}

/* ---- callback bodies ----------------------------------------------- */

static int add_field(vc__form *f, const char *name, const char *value)
{
  vc__form_pair *np;
  size_t n = strlen(name);

  if (n == 0 || n > NAME_MAX_BYTES)
    return bad_body("a callback field has an empty or overlong name");
  if (f->n >= VC__VOIP_FIELDS_MAX)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_ETOOBIG,
                         "more than %d fields in a callback",
                         VC__VOIP_FIELDS_MAX);
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->pairs[i].name, name) == 0)
      return bad_body("a callback field is given twice");
  if ((np = vc__realloc(f->pairs, (f->n + 1) * sizeof(*np))) == NULL)
    return vc_error_set_oom();
  f->pairs = np;
  np[f->n].name = vc__strdup(name);
  np[f->n].value = vc__strdup(value);
  if (np[f->n].name == NULL || np[f->n].value == NULL) {
    vc__free(np[f->n].name);
    vc__free(np[f->n].value);
    return vc_error_set_oom();
  }
  f->n++;
  return 0;
}

static int flatten(vc__form *f, const cJSON *item, const char *prefix)
{
  char name[NAME_MAX_BYTES + 2], num[40];
  const cJSON *c;
  int i = 0, rc;

  if (cJSON_IsNull(item))
    return 0;
  if (cJSON_IsString(item))
    return add_field(f, prefix, item->valuestring);
  if (cJSON_IsBool(item))
    return add_field(f, prefix, cJSON_IsTrue(item) ? "true" : "false");
  if (cJSON_IsNumber(item)) {
    double d = item->valuedouble;
    /* range first: the cast is defined only for values that fit */
    if (d > -1e15 && d < 1e15 && d == (double)(long long)d)
      snprintf(num, sizeof(num), "%lld", (long long)d);
    else
      snprintf(num, sizeof(num), "%.15g", d);
    return add_field(f, prefix, num);
  }
  cJSON_ArrayForEach(c, item) {
    int n;
    if (cJSON_IsArray(item))
      n = snprintf(name, sizeof(name), "%s[%d]", prefix, i++);
    else if (prefix[0] == '\0')
      n = snprintf(name, sizeof(name), "%s", c->string ? c->string : "");
    else
      n = snprintf(name, sizeof(name), "%s[%s]", prefix,
                   c->string ? c->string : "");
    if (n < 0 || (size_t)n > NAME_MAX_BYTES)
      return bad_body("a callback field has an overlong name");
    if ((rc = flatten(f, c, name)) < 0)
      return rc;
  }
  return 0;
}

static int json_fields(vc__form *f, const vc_http_request *req)
{
  char *text;
  cJSON *doc = NULL;
  int rc;

  if ((text = vc__strndup((const char *)req->body, req->body_len)) == NULL)
    return vc_error_set_oom();
  if (strlen(text) != req->body_len)
    rc = bad_body("the callback body holds a NUL byte");
  else
    rc = vc__json_parse(&doc, "callback body", text, VC__VOIP_BODY_MAX,
                        JSON_DEPTH_MAX, 1);
  vc__free(text);
  if (rc == 0)
    rc = flatten(f, doc, "");
  cJSON_Delete(doc);
  return rc;
}

/* The media type of a Content-Type, lowercase, without parameters. */
static void media_type(char out[64], const char *ct)
{
  size_t n = 0;

  out[0] = '\0';
  if (ct == NULL)
    return;
  while (*ct == ' ' || *ct == '\t')
    ct++;
  while (n < 63 && *ct && *ct != ';' && *ct != ' ' && *ct != '\t') {
    out[n++] = (char)(*ct >= 'A' && *ct <= 'Z' ? *ct | 0x20 : *ct);
    ct++;
  }
  out[n] = '\0';
}

int vc__voip_fields(vc__form *f, const vc_http_request *req)
{
  const char *ct = vc_http_request_header(req, "Content-Type");
  const uint8_t *b = req->body;
  char type[64];
  size_t nfiles = 0, n = req->body_len;
  int rc;

  f->pairs = NULL;
  f->n = 0;
  if (n > VC__VOIP_BODY_MAX)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_ETOOBIG,
                         "callback body is longer than %d bytes",
                         VC__VOIP_BODY_MAX);
  if (n == 0 || b == NULL)
    return bad_body("the callback has no body");
  media_type(type, ct);
  if (strcmp(type, "application/json") == 0 ||
      (type[0] == '\0' && b[0] == '{')) {
    rc = json_fields(f, req);
  } else if (strcmp(type, "multipart/form-data") == 0) {
    rc = vc__multipart_parse(f, &nfiles, ct, b, n, VC__VOIP_FIELDS_MAX);
    if (rc == 0 && nfiles > 0)
      rc = bad_body("a callback carries no files");
  } else if (strcmp(type, "application/x-www-form-urlencoded") == 0 ||
             type[0] == '\0') {
    for (size_t i = 0; i < n; i++)
      if (b[i] == '%' && i + 2 < n && b[i + 1] == '0' && b[i + 2] == '0')
        return bad_body("the callback form has an encoded NUL");
    rc = vc__form_parse(f, (const char *)b, n, VC__VOIP_FIELDS_MAX);
  } else {
    return bad_body("the callback body is neither JSON nor a form");
  }
  for (size_t i = 0; rc == 0 && i < f->n; i++) {
    if (!vc__utf8_valid(f->pairs[i].name, strlen(f->pairs[i].name)) ||
        !vc__utf8_valid(f->pairs[i].value, strlen(f->pairs[i].value)))
      rc = vc__error_set(VC_ERRCLASS_ADAPTER, VC_EENCODING,
                         "callback field %zu is not valid UTF-8", i);
    for (size_t j = 0; rc == 0 && j < i; j++)
      if (strcmp(f->pairs[i].name, f->pairs[j].name) == 0)
        rc = bad_body("a callback field is given twice");
  }
  if (rc < 0)
    vc__form_free(f);
  return rc;
}

const char *vc__voip_field(const vc__form *f, const char *name)
{
  return vc__form_get(f, name);
}

/* ---- times ----------------------------------------------------------- */

int vc__voip_zone(int *minutes, const char *zone, const char *what)
{
  if (zone == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s must be a string", what);
  if (strcmp(zone, "UTC") == 0 || strcmp(zone, "Z") == 0) {
    *minutes = 0;
    return 0;
  }
  /* India has kept +05:30 without daylight saving since 1945. */
  if (strcmp(zone, "Asia/Kolkata") == 0 || strcmp(zone, "IST") == 0) {
    *minutes = 330;
    return 0;
  }
  if (strlen(zone) == 6 && (zone[0] == '+' || zone[0] == '-') &&
      vc__is_digit((unsigned char)zone[1]) &&
      vc__is_digit((unsigned char)zone[2]) && zone[3] == ':' &&
      vc__is_digit((unsigned char)zone[4]) &&
      vc__is_digit((unsigned char)zone[5])) {
    int h = (zone[1] - '0') * 10 + (zone[2] - '0');
    int m = (zone[4] - '0') * 10 + (zone[5] - '0');
    if (h <= 14 && m < 60) {
      *minutes = (zone[0] == '-' ? -1 : 1) * (h * 60 + m);
      return 0;
    }
  }
  return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "%s must be \"+HH:MM\", \"-HH:MM\", \"UTC\" or "
                       "\"Asia/Kolkata\"", what);
}

static int digits(const char *s, int n)
{
  int v = 0;

  for (int i = 0; i < n; i++) {
    if (!vc__is_digit((unsigned char)s[i]))
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
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

int vc__voip_local_time(int64_t *ms, const char *s, int offset_min)
{
  static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
                               30, 31 };
  int y, mo, d, h, mi, se;

  if (s == NULL || strlen(s) != 19 || s[4] != '-' || s[7] != '-' ||
      s[10] != ' ' || s[13] != ':' || s[16] != ':')
    return -1;
  y = digits(s, 4);
  mo = digits(s + 5, 2);
  d = digits(s + 8, 2);
  h = digits(s + 11, 2);
  mi = digits(s + 14, 2);
  se = digits(s + 17, 2);
  if (y < 2000 || y > 2199 || mo < 1 || mo > 12 || d < 1 ||
      d > mdays[mo - 1] || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      se < 0 || se > 59 ||
      (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
    return -1;
  *ms = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
         (int64_t)offset_min * 60) * 1000;
  return 0;
}

long vc__voip_seconds(const char *s)
{
  size_t n = s ? strlen(s) : 0;
  long v = 0;

  if (n == 0 || n > 9 || !vc__all_of(s, n, vc__is_digit))
    return -1;
  for (size_t i = 0; i < n; i++)
    v = v * 10 + (s[i] - '0');
  return v;
}

void vc__voip_retry_after(vc_send_result *out, const vc_http_response *res)
{
  const char *v = vc_http_response_header(res, "Retry-After");
  size_t n;
  int64_t secs = 0;

  if (v == NULL)
    return;
  while (*v == ' ' || *v == '\t')
    v++;
  n = strspn(v, "0123456789");
  if (n == 0 || (v[n] != '\0' && v[n] != ' ' && v[n] != '\t'))
    return;
  for (size_t i = 0; i < n && secs < RETRY_AFTER_MAX_S; i++)
    secs = secs * 10 + (v[i] - '0');
  if (secs > RETRY_AFTER_MAX_S)
    secs = RETRY_AFTER_MAX_S;
  out->retry_after_ms = secs * 1000;
}

int vc__voip_read_time(int64_t *out, const vc__form *f, const char *name,
                       int zone_min)
{
  const char *v = vc__voip_field(f, name);

  *out = 0;
  if (v == NULL || v[0] == '\0')
    return 0;
  if (vc__voip_local_time(out, v, zone_min) < 0)
    return BAD_HOOK("%s is not a YYYY-MM-DD HH:MM:SS time", name);
  return 0;
}

/* ---- webhooks and answers -------------------------------------------- */

int vc__voip_status_fields(vc__form *f, const vc_http_request *req,
                           const char *provider)
{
  vc_buf step = VC_BUF_INIT;
  int nstep = 0, rc;

  if ((rc = vc__voip_query(&step, &nstep, req->target, "vc_step")) < 0)
    goto out;
  if (nstep != 1 || strcmp(step.ptr, "status") != 0) {
    rc = BAD_HOOK("an %s callback URL has vc_step=status", provider);
    goto out;
  }
  rc = vc__voip_fields(f, req);
out:
  vc_buf_dispose(&step);
  return rc;
}

cJSON *vc__voip_answer(const vc_http_response *res)
{
  cJSON *doc = NULL;

  if (res->body.ptr != NULL && res->body.size > 0)
    doc = vc__cjson_parse(res->body.ptr, res->body.size, NULL, 0);
  if (doc != NULL && !cJSON_IsObject(doc)) {
    cJSON_Delete(doc);
    doc = NULL;
  }
  return doc;
}

int vc__voip_caller_ids(const cJSON *cfg, int max,
                        int (*is_number)(const char *s),
                        const char *array_of, const char *each)
{
  const cJSON *ids = cJSON_GetObjectItemCaseSensitive(cfg, "caller_ids");
  const cJSON *it;
  int n = 0;

  if (ids == NULL)
    return 0;
  if (!cJSON_IsArray(ids))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "config.caller_ids must be an array of %s",
                         array_of);
  cJSON_ArrayForEach(it, ids) {
    if (!cJSON_IsString(it) || !is_number(it->valuestring))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "config.caller_ids[%d] must be %s", n, each);
    if (++n > max)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "config.caller_ids has more than %d numbers",
                           max);
  }
  return 0;
}

/* ---- call updates ---------------------------------------------------- */

int vc__voip_report(vc_event_sink *sink, const char *id, vc_call_update *u,
                    const char *what)
{
  char eid[VC__VOIP_PROVIDER_ID_MAX + 24];

  snprintf(eid, sizeof(eid), "%s:%s", id, what);
  u->version = VC_CALL_UPDATE_VERSION;
  u->provider_call_id = id;
  u->event_id = eid;
  return vc_event_sink_call(sink, u);
}

int vc__voip_leg_event(vc_event_sink *sink, const char *id, int type,
                       int leg, int64_t at)
{
  vc_call_update u;
  char what[24];

  memset(&u, 0, sizeof(u));
  u.type = type;
  u.leg = leg;
  u.occurred_at = at;
  snprintf(what, sizeof(what), "%s:%s",
           leg == VC_LEG_AGENT ? "agent" : "customer",
           type == VC_UPDATE_RINGING ? "ringing" : "answered");
  return vc__voip_report(sink, id, &u, what);
}

int vc__voip_report_end(vc_event_sink *sink, const char *id, int leg,
                        int64_t at, int cause, long talk_s,
                        const char *provider_code, const char *rec_url)
{
  vc_call_update u;
  int rc;

  memset(&u, 0, sizeof(u));
  u.type = VC_UPDATE_ENDED;
  u.leg = leg;
  u.occurred_at = at;
  u.cause = cause;
  u.duration_s = (int)talk_s;
  u.provider_code = provider_code;
  if ((rc = vc__voip_report(sink, id, &u, "ended")) < 0 || rec_url == NULL)
    return rc;
  memset(&u, 0, sizeof(u));
  u.type = VC_UPDATE_RECORDING;
  u.leg = VC_LEG_NONE;
  u.occurred_at = at;
  u.recording_status = VC_RECORDING_AVAILABLE;
  u.recording_url = rec_url;
  u.recording_duration_s = (int)talk_s;
  return vc__voip_report(sink, id, &u, "recording");
}

/* ---- small checks ---------------------------------------------------- */

int vc__voip_contains(const char *s, const char *needle)
{
  size_t n = strlen(needle);

  for (; s != NULL && *s; s++)
    if (strncasecmp(s, needle, n) == 0)
      return 1;
  return 0;
}

int vc__voip_is_id(const char *s, size_t max)
{
  size_t n = s ? strnlen(s, max + 1) : 0;

  if (n == 0 || n > max)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!vc__is_alnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
      return 0;
  return 1;
}

int vc__voip_is_url(const char *s, size_t max)
{
  size_t n = s ? strnlen(s, max + 1) : 0;

  if (n == 0 || n > max)
    return 0;
  if (strncasecmp(s, "https://", 8) != 0 && strncasecmp(s, "http://", 7) != 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
      return 0;
  return 1;
}

int vc__voip_is_recording_url(const char *s, size_t max)
{
  /* The sink takes only a lowercase scheme: a recording URL it refused
   * came after the end had been reported. */
  return vc__voip_is_url(s, max) &&
         (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0);
}
