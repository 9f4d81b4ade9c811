/*
 * What the Twilio adapters (Messaging and Voice) share: SIDs, query
 * parameters of a callback URL, Retry-After, the error JSON, and the
 * X-Twilio-Signature check (providers.md 8.5 and 0a.4, 0a.5).
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/text.h"
#include "adapters/twilio_common.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define SID_LEN VC__TWILIO_SID_LEN
#define HOOK_BODY_MAX VC__TWILIO_HOOK_BODY_MAX
#define HOOK_PARAMS_MAX VC__TWILIO_HOOK_PARAMS_MAX
#define HOOK_URL_MAX 8192
#define SIG_B64_LEN 28          /* base64 of a 20-byte HMAC-SHA1 */
#define RETRY_AFTER_MAX_S 86400 /* longer is surely a mistake: cap it */

#define BAD_INPUT(...) \
  vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)

/* A Twilio SID: `prefix` (any two capitals when NULL), 32 hex digits. */
int vc__twilio_is_sid(const char *s, const char *prefix)
{
  if (strnlen(s, SID_LEN + 1) != SID_LEN)
    return 0;
  if (prefix != NULL ? strncmp(s, prefix, 2) != 0
                     : !(s[0] >= 'A' && s[0] <= 'Z' &&
                         s[1] >= 'A' && s[1] <= 'Z'))
    return 0;
  return vc__all_of(s + 2, SID_LEN - 2, vc__is_hex);
}

/* The first value of a query parameter of a URL or request target,
 * percent-decoded into `out` (replaced). *found says whether it was. */
int vc__twilio_query_get(vc_buf *out, int *found, const char *url,
                     const char *name)
{
  vc_buf key = VC_BUF_INIT;
  const char *p = url ? strchr(url, '?') : NULL;
  int rc = 0;

  *found = 0;
  if (p == NULL)
    return 0;
  p++;
  while (*p != '\0' && *p != '#' && !*found) {
    size_t len = strcspn(p, "&#"), eq = strcspn(p, "=&#");

    key.size = 0;
    if ((rc = vc__percent_decode(&key, p, eq, 1)) < 0)
      break;
    if (key.ptr != NULL && strcmp(key.ptr, name) == 0) {
      vc_buf_dispose(out);
      rc = vc__percent_decode(out, p + eq + (eq < len),
                              len - eq - (eq < len), 1);
      if (rc < 0)
        break;
      /* A string stops at a NUL; its length must be the value's. */
      if (out->ptr != NULL && memchr(out->ptr, '\0', out->size) != NULL) {
        vc_buf_dispose(out);
        rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "the URL's %s holds a NUL byte", name);
        break;
      }
      *found = 1;
    }
    p += len;
    if (*p == '&')
      p++;
  }
  vc_buf_dispose(&key);
  return rc;
}


static int take_int(const char **p, int min, int max, int *out)
{
  int n = 0, v = 0;

  while (n < max && vc__is_digit((unsigned char)**p)) {
    v = v * 10 + (**p - '0');
    (*p)++;
    n++;
  }
  *out = v;
  return n >= min && !vc__is_digit((unsigned char)**p) ? 0 : -1;
}

static int take_month(const char **p, int *mon)
{
  static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

  for (int m = 0; m < 12; m++)
    if (strncmp(*p, names + 3 * m, 3) == 0) {
      *mon = m + 1;
      *p += 3;
      return 0;
    }
  return -1;
}

static int take_time(const char **p, int *h, int *m, int *s)
{
  if (take_int(p, 2, 2, h) < 0 || *(*p)++ != ':' ||
      take_int(p, 2, 2, m) < 0 || *(*p)++ != ':' ||
      take_int(p, 2, 2, s) < 0)
    return -1;
  return *h < 24 && *m < 60 && *s <= 60 ? 0 : -1;
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

/* An HTTP-date (RFC 9110 5.6.7): IMF-fixdate, RFC 850 or asctime, as
 * Unix seconds. -1 if it is none of them. */
static int parse_http_date(const char *s, int64_t *out)
{
  static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
                               30, 31 };
  const char *p = s;
  int day, mon, year, hh, mm, ss, nday = 0;

  while (vc__is_alpha((unsigned char)*p) && nday < 9) {
    p++;
    nday++;
  }
  if (nday < 3)
    return -1;
  if (*p == ',') {                      /* IMF-fixdate or RFC 850 */
    char sep;
    if (*++p != ' ')
      return -1;
    p++;
    if (take_int(&p, 2, 2, &day) < 0 || (*p != ' ' && *p != '-'))
      return -1;
    sep = *p++;
    if (take_month(&p, &mon) < 0 || *p++ != sep)
      return -1;
    if (sep == ' ' ? take_int(&p, 4, 4, &year) < 0
                   : take_int(&p, 2, 2, &year) < 0)
      return -1;
    if (sep == '-')                     /* RFC 850's two-digit year */
      year += year < 70 ? 2000 : 1900;
    if (*p++ != ' ' || take_time(&p, &hh, &mm, &ss) < 0 ||
        strcmp(p, " GMT") != 0)
      return -1;
  } else if (*p == ' ') {               /* asctime: "Sun Nov  6 ..." */
    p++;
    if (take_month(&p, &mon) < 0 || *p++ != ' ')
      return -1;
    if (*p == ' ')
      p++;
    if (take_int(&p, 1, 2, &day) < 0 || *p++ != ' ' ||
        take_time(&p, &hh, &mm, &ss) < 0 || *p++ != ' ' ||
        take_int(&p, 4, 4, &year) < 0 || *p != '\0')
      return -1;
  } else {
    return -1;
  }
  if (year < 1970 || day < 1 || day > mdays[mon - 1] ||
      (mon == 2 && day == 29 &&
       !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))))
    return -1;
  *out = days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 +
         ss;
  return 0;
}

/* Retry-After: delay-seconds or an HTTP-date. parse_send has no clock,
 * so a date becomes retry_at_ms. Anything else is ignored. */
void vc__twilio_read_retry_after(vc_send_result *out,
                             const vc_http_response *res)
{
  const char *v = vc_http_response_header(res, "Retry-After");
  char buf[64];
  size_t n;
  int64_t secs = 0;

  if (v == NULL)
    return;
  while (*v == ' ' || *v == '\t')
    v++;
  n = strnlen(v, sizeof(buf));
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
    n--;
  if (n == 0 || n >= sizeof(buf))
    return;
  memcpy(buf, v, n);
  buf[n] = '\0';
  if (vc__all_of(buf, n, vc__is_digit)) {
    for (size_t i = 0; i < n && secs < RETRY_AFTER_MAX_S; i++)
      secs = secs * 10 + (buf[i] - '0');
    if (secs > RETRY_AFTER_MAX_S)
      secs = RETRY_AFTER_MAX_S;
    out->retry_after_ms = secs * 1000;
  } else if (parse_http_date(buf, &secs) == 0) {
    out->retry_at_ms = secs * 1000;
  }
}

/* ------------------------------------------------------------------ */
/* X-Twilio-Signature                                                  */

static int auth_fail(const char *why)
{
  return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EAUTH, "%s", why);
}

/* The URL Twilio signed: the public URL, plus the request's query when
 * the caller gave the URL without one (Twilio signs the query too). */
static int full_url(vc_buf *out, const char *url, const char *target)
{
  const char *q = target ? strchr(target, '?') : NULL;
  size_t n = strnlen(url, HOOK_URL_MAX + 1);

  if (q != NULL && strchr(url, '?') != NULL)
    q = NULL;
  if (n + (q ? strnlen(q, HOOK_URL_MAX + 1) : 0) > HOOK_URL_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "webhook URL is longer than %d bytes",
                         HOOK_URL_MAX);
  if (q != NULL)
    return vc__buf_printf(out, "%s%s", url, q);
  return vc__buf_put(out, url, n);
}

/*
 * The other form of the URL the SDKs accept (providers.md 0a.4): with
 * its port removed when it has one, else with the scheme's default
 * port added. A non-default port is never swapped for the default.
 * Leaves `out` empty when the URL is not http(s).
 */
static int url_variant(vc_buf *out, const char *url)
{
  const char *auth, *end, *host, *colon = NULL, *port;

  if (strncasecmp(url, "https://", 8) == 0) {
    auth = url + 8;
    port = "443";
  } else if (strncasecmp(url, "http://", 7) == 0) {
    auth = url + 7;
    port = "80";
  } else {
    return 0;
  }
  end = auth + strcspn(auth, "/?#");
  host = auth;
  for (const char *p = auth; p < end; p++)
    if (*p == '@')
      host = p + 1;
  if (*host == '[') {                  /* an IPv6 literal */
    const char *close = memchr(host, ']', (size_t)(end - host));
    if (close == NULL)
      return 0;
    if (close + 1 < end && close[1] == ':')
      colon = close + 1;
  } else {
    colon = memchr(host, ':', (size_t)(end - host));
  }
  if (colon != NULL)
    return vc__buf_printf(out, "%.*s%s", (int)(colon - url), url, end);
  return vc__buf_printf(out, "%.*s:%s%s", (int)(end - url), url, port,
                        end);
}

/* A Content-Type the body's parameters can be read from. */
static int form_body(const vc_http_request *req)
{
  static const char form[] = "application/x-www-form-urlencoded";
  const char *ct = vc_http_request_header(req, "Content-Type");
  size_t n = sizeof(form) - 1;

  if (req->body_len == 0 || ct == NULL)
    return 1;
  while (*ct == ' ' || *ct == '\t')
    ct++;
  return strncasecmp(ct, form, n) == 0 &&
         (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/* JSON webhooks: the URL's bodySHA256 must be the hex SHA-256 of the
 * raw body (providers.md 8.5 item 4). */
static int check_body_hash(const char *want, const vc_http_request *req)
{
  uint8_t digest[32];
  char hex[65], got[65];
  int rc;

  if (strlen(want) != 64 || !vc__all_of(want, 64, vc__is_hex))
    return auth_fail("bodySHA256 is not a SHA-256 hex digest");
  for (int i = 0; i < 64; i++)
    got[i] = (char)(want[i] >= 'A' && want[i] <= 'F' ? want[i] | 0x20
                                                     : want[i]);
  got[64] = '\0';
  if ((rc = vc__digest(digest, VC__MD_SHA256,
                       req->body_len ? req->body : (const uint8_t *)"",
                       req->body_len)) < 0)
    return rc;
  vc__hex_encode(hex, digest, sizeof(digest));
  if (!vc__ct_equal(hex, got, 64))
    return auth_fail("body does not match bodySHA256");
  return 0;
}

typedef struct pair_ref {
  const vc__form_pair *p;
  size_t i;                            /* received position */
} pair_ref;

static int by_name(const void *a, const void *b)
{
  const pair_ref *x = a, *y = b;
  int c = strcmp(x->p->name, y->p->name);

  return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int by_name_value(const void *a, const void *b)
{
  const pair_ref *x = a, *y = b;
  int c = strcmp(x->p->name, y->p->name);

  if (c == 0)
    c = strcmp(x->p->value, y->p->value);
  return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int append_pairs(vc_buf *out, const pair_ref *refs, size_t n,
                        int dedupe)
{
  int rc = 0;

  /* Never leave ptr NULL: an empty list is an empty string. */
  if ((rc = vc__buf_puts(out, "")) < 0)
    return rc;
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (dedupe && i > 0 &&
        strcmp(refs[i].p->name, refs[i - 1].p->name) == 0 &&
        strcmp(refs[i].p->value, refs[i - 1].p->value) == 0)
      continue;
    if ((rc = vc__buf_puts(out, refs[i].p->name)) == 0)
      rc = vc__buf_puts(out, refs[i].p->value);
  }
  return rc;
}

/*
 * The parameter part of the signed string: names sorted, each name
 * followed by its value, no separators. When a name repeats, Twilio's
 * order is unconfirmed (providers.md 0a.5): values as received, then
 * sorted, then sorted without duplicates (what the SDKs sign). Writes
 * the 1 to 3 distinct strings to out[0..*nout).
 */
static int param_strings(vc_buf out[3], size_t *nout, const vc__form *f)
{
  vc_buf cand[3] = { VC_BUF_INIT, VC_BUF_INIT, VC_BUF_INIT };
  pair_ref *refs = NULL;
  size_t ncand = 1;
  int repeated = 0, rc;

  *nout = 0;
  if (f->n > 0 && (refs = vc__calloc(f->n, sizeof(*refs))) == NULL)
    return vc_error_set_oom();
  for (size_t i = 0; i < f->n; i++) {
    refs[i].p = &f->pairs[i];
    refs[i].i = i;
  }
  if (f->n > 1)
    qsort(refs, f->n, sizeof(*refs), by_name);
  for (size_t i = 1; i < f->n; i++)
    repeated |= strcmp(refs[i].p->name, refs[i - 1].p->name) == 0;
  if ((rc = append_pairs(&cand[0], refs, f->n, 0)) < 0)
    goto out;
  if (repeated) {
    qsort(refs, f->n, sizeof(*refs), by_name_value);
    if ((rc = append_pairs(&cand[1], refs, f->n, 0)) < 0 ||
        (rc = append_pairs(&cand[2], refs, f->n, 1)) < 0)
      goto out;
    ncand = 3;
  }
  for (size_t k = 0; k < ncand; k++) {
    size_t j = 0;

    while (j < *nout && strcmp(out[j].ptr, cand[k].ptr) != 0)
      j++;
    if (j == *nout) {
      out[(*nout)++] = cand[k];
      cand[k] = (vc_buf)VC_BUF_INIT;
    }
  }
out:
  for (size_t k = 0; k < 3; k++)
    vc_buf_dispose(&cand[k]);
  vc__free(refs);
  return rc;
}

/* 0 when base64(HMAC-SHA1(token, url + params)) equals `sig` (28
 * characters), VC_EAUTH when not. */
static int sig_matches(const char *token, const char *url,
                       const vc_buf *params, const char *sig)
{
  vc_buf msg = VC_BUF_INIT, b64 = VC_BUF_INIT;
  uint8_t mac[20];
  int rc;

  if ((rc = vc__buf_puts(&msg, url)) < 0 ||
      (rc = vc__buf_put(&msg, params->ptr ? params->ptr : "",
                        params->size)) < 0 ||
      (rc = vc__hmac(mac, VC__MD_SHA1, token, strlen(token), msg.ptr,
                     msg.size)) < 0 ||
      (rc = vc__base64_encode(&b64, mac, sizeof(mac))) < 0)
    goto out;
  rc = b64.size == SIG_B64_LEN && vc__ct_equal(b64.ptr, sig, SIG_B64_LEN)
         ? 0 : VC_EAUTH;
out:
  vc_buf_dispose(&msg);
  vc_buf_dispose(&b64);
  return rc;
}

int vc__twilio_check_signature(const char *token,
                               const vc_http_request *req,
                               const char *url)
{
  vc_buf full = VC_BUF_INIT, alt = VC_BUF_INIT, hash = VC_BUF_INIT;
  vc_buf params[3] = { VC_BUF_INIT, VC_BUF_INIT, VC_BUF_INIT };
  vc__form form = { NULL, 0 };
  const char *sig, *urls[2];
  size_t siglen, nparams = 0;
  int found, rc;

  VC_ASSERT_ARG(token);
  VC_ASSERT_ARG(req);
  VC_ASSERT_ARG(url);
  VC_ASSERT_ARG(req->body != NULL || req->body_len == 0);
  if ((sig = vc_http_request_header(req, "X-Twilio-Signature")) == NULL)
    return auth_fail("missing X-Twilio-Signature header");
  while (*sig == ' ' || *sig == '\t')
    sig++;
  siglen = strnlen(sig, SIG_B64_LEN + 2);
  while (siglen > 0 && (sig[siglen - 1] == ' ' || sig[siglen - 1] == '\t'))
    siglen--;
  if (req->body_len > HOOK_BODY_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "webhook body is longer than %d bytes",
                         HOOK_BODY_MAX);
  if ((rc = full_url(&full, url, req->target)) < 0 ||
      (rc = vc__twilio_query_get(&hash, &found, full.ptr, "bodySHA256")) < 0)
    goto out;
  if (found) {
    /* A JSON webhook: the URL alone is signed, the hash covers the
     * body. */
    if ((rc = check_body_hash(hash.ptr ? hash.ptr : "", req)) < 0 ||
        (rc = vc__buf_puts(&params[0], "")) < 0)
      goto out;
    nparams = 1;
  } else if (!form_body(req)) {
    rc = auth_fail("a body that is not a form must be signed with "
                   "bodySHA256");
    goto out;
  } else if ((rc = vc__form_parse(&form, (const char *)req->body,
                                  req->body_len, HOOK_PARAMS_MAX)) < 0 ||
             (rc = param_strings(params, &nparams, &form)) < 0) {
    goto out;
  }
  if ((rc = url_variant(&alt, full.ptr)) < 0)
    goto out;
  urls[0] = full.ptr;
  urls[1] = alt.ptr;
  rc = VC_EAUTH;
  for (size_t u = 0; u < 2 && rc == VC_EAUTH && siglen == SIG_B64_LEN;
       u++)
    for (size_t k = 0; k < nparams && rc == VC_EAUTH && urls[u]; k++)
      rc = sig_matches(token, urls[u], &params[k], sig);
  if (rc == VC_EAUTH)
    rc = auth_fail("X-Twilio-Signature does not verify");
out:
  vc__form_free(&form);
  for (size_t k = 0; k < 3; k++)
    vc_buf_dispose(&params[k]);
  vc_buf_dispose(&full);
  vc_buf_dispose(&alt);
  vc_buf_dispose(&hash);
  return rc;
}

/* What Twilio sends: printable ASCII, well-formed %XX escapes, no
 * encoded NUL (it would cut a value short). */
int vc__twilio_check_form_syntax(const uint8_t *b, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (b[i] == '%') {
      if (i + 2 >= n || !vc__is_hex(b[i + 1]) || !vc__is_hex(b[i + 2]))
        return BAD_INPUT("form body has a malformed escape at byte %zu",
                         i);
      if (b[i + 1] == '0' && b[i + 2] == '0')
        return BAD_INPUT("form body has an encoded NUL at byte %zu", i);
      i += 2;
    } else if (b[i] <= 0x20 || b[i] >= 0x7f) {
      return BAD_INPUT("form body has an invalid byte at %zu", i);
    }
  }
  return 0;
}

/* The value of a parameter we read, which must not repeat (a repeated
 * one could be reordered without breaking the signature). */
int vc__twilio_param(const char **out, const vc__form *f, const char *name)
{
  *out = NULL;
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->pairs[i].name, name) == 0) {
      if (*out != NULL)
        return BAD_INPUT("parameter %s appears more than once", name);
      *out = f->pairs[i].value;
    }
  return 0;
}

long vc__twilio_error_fields(vc_send_result *out, const cJSON *doc,
                             int status)
{
  const cJSON *code_item = cJSON_GetObjectItemCaseSensitive(doc, "code");
  const char *text;
  long code = 0;

  /* The error shape: {"code", "message", "more_info", "status"}. */
  if (cJSON_IsNumber(code_item) && code_item->valuedouble >= 1 &&
      code_item->valuedouble < 1e9)
    code = (long)code_item->valuedouble;
  else if (cJSON_IsString(code_item) &&
           strnlen(code_item->valuestring, 10) >= 1 &&
           strnlen(code_item->valuestring, 10) <= 9 &&
           vc__all_of(code_item->valuestring,
                      strlen(code_item->valuestring), vc__is_digit))
    code = strtol(code_item->valuestring, NULL, 10);
  if (code > 0)
    snprintf(out->provider_code, sizeof(out->provider_code), "%ld", code);
  if ((text = vc__json_str(doc, "message")) != NULL && text[0] != '\0')
    vc__copy_line(out->error_message, sizeof(out->error_message), text,
                  strlen(text));
  else
    snprintf(out->error_message, sizeof(out->error_message),
             "HTTP %d from Twilio", status);
  return code;
}
