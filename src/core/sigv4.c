/*
 * AWS Signature Version 4. See sigv4.h.
 */
#include "common.h"
#include "buf.h"
#include "codec.h"
#include "crypto.h"
#include "sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#define URL_MAX 8192
#define HOST_MAX 255
#define NAME_MAX_LEN 128
#define VALUE_MAX 8192
#define SCOPE_PART_MAX 64
#define KEY_ID_MIN 1
#define KEY_ID_MAX 128
#define SECRET_MAX 256
#define TOKEN_MAX 8192
#define QUERY_PARAMS_MAX 256

#define BAD(...) vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)

static int unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

/* RFC 3986 encoding as SigV4 wants it: unreserved bytes (and '/' when
 * keep_slash) stay, everything else %XX in upper case. */
static int uri_encode(vc_buf *out, const char *s, size_t len, int keep_slash)
{
  static const char digits[] = "0123456789ABCDEF";
  int rc;

  if ((rc = vc__buf_grow(out, 3 * len)) < 0)
    return rc;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (unreserved(c) || (keep_slash && c == '/')) {
      out->ptr[out->size++] = (char)c;
    } else {
      out->ptr[out->size++] = '%';
      out->ptr[out->size++] = digits[c >> 4];
      out->ptr[out->size++] = digits[c & 15];
    }
  }
  out->ptr[out->size] = '\0';
  return 0;
}

/* 1 when s has min..max bytes, each accepted by ok(). */
static int is_token(const char *s, size_t min, size_t max, int (*ok)(int))
{
  size_t n;

  if (s == NULL)
    return 0;
  n = strnlen(s, max + 1);
  if (n < min || n > max)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!ok((unsigned char)s[i]))
      return 0;
  return 1;
}

static int scope_char(int c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static int key_id_char(int c)
{
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int visible_char(int c)
{
  return c > 0x20 && c < 0x7f;
}

static int method_char(int c)
{
  return c >= 'A' && c <= 'Z';
}

/* RFC 9110 tchar. */
static int tchar(int c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

/* ------------------------------------------------------------------ */
/* URL                                                                 */

typedef struct parsed_url {
  const char *path;     /* up to '?', may be empty */
  size_t path_len;
  const char *query;    /* after '?', may be empty */
  size_t query_len;
} parsed_url;

/* Split an absolute http(s) URL and write its Host value (lowercase,
 * the scheme's default port dropped). */
static int parse_url(parsed_url *u, char host[264], const char *url)
{
  const char *auth, *end, *colon = NULL, *p;
  size_t n = strnlen(url, URL_MAX + 1), hlen;
  const char *def_port;

  if (n > URL_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "URL to sign is longer than %d bytes", URL_MAX);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)url[i] < 0x20 || url[i] == 0x7f)
      return BAD("URL to sign has a control character");
  if (strncmp(url, "https://", 8) == 0) {
    auth = url + 8;
    def_port = "443";
  } else if (strncmp(url, "http://", 7) == 0) {
    auth = url + 7;
    def_port = "80";
  } else {
    return BAD("URL to sign must be http(s)");
  }
  if (strchr(auth, '#') != NULL)
    return BAD("URL to sign has a fragment");
  end = auth + strcspn(auth, "/?");
  if (end == auth)
    return BAD("URL to sign has no host");
  if (*auth == '[') {
    p = memchr(auth, ']', (size_t)(end - auth));
    if (p == NULL)
      return BAD("URL to sign has a malformed IPv6 host");
    for (const char *q = auth + 1; q < p; q++)
      if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') ||
            (*q >= 'A' && *q <= 'F') || *q == ':' || *q == '.'))
        return BAD("URL to sign has a malformed IPv6 host");
    if (p + 1 < end) {
      if (p[1] != ':')
        return BAD("URL to sign has a malformed host");
      colon = p + 1;
    }
  } else {
    colon = memchr(auth, ':', (size_t)(end - auth));
    for (const char *q = auth; q < (colon ? colon : end); q++)
      if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') ||
            (*q >= 'A' && *q <= 'Z') || *q == '-' || *q == '.'))
        return BAD("URL to sign has an invalid host character");
  }
  if (colon != NULL) {
    size_t plen = (size_t)(end - colon - 1);
    if (plen == 0 || plen > 5 || strspn(colon + 1, "0123456789") < plen ||
        atol(colon + 1) < 1 || atol(colon + 1) > 65535)
      return BAD("URL to sign has an invalid port");
    if (colon == auth)
      return BAD("URL to sign has no host");
  }
  /* Drop the default port: clients send Host without it. */
  if (colon != NULL && (size_t)(end - colon - 1) == strlen(def_port) &&
      memcmp(colon + 1, def_port, strlen(def_port)) == 0)
    hlen = (size_t)(colon - auth);
  else
    hlen = (size_t)(end - auth);
  if (hlen > HOST_MAX)
    return BAD("URL to sign has a host longer than %d bytes", HOST_MAX);
  for (size_t i = 0; i < hlen; i++) {
    char c = auth[i];
    host[i] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
  }
  host[hlen] = '\0';
  u->path = end;
  u->path_len = strcspn(end, "?");
  u->query = end + u->path_len;
  if (*u->query == '?')
    u->query++;
  u->query_len = strlen(u->query);
  return 0;
}

/* The canonical URI: dot and empty segments removed, a trailing slash
 * kept, then every byte but unreserved ones and '/' encoded. */
static int canonical_path(vc_buf *out, const char *path, size_t len)
{
  const char **seg = NULL;
  size_t *seglen = NULL, nseg = 0, cap = len / 2 + 1;
  int trailing = len > 0 && path[len - 1] == '/';
  int rc = 0;

  if ((seg = vc__calloc(cap, sizeof(*seg))) == NULL ||
      (seglen = vc__calloc(cap, sizeof(*seglen))) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  for (size_t i = 0; i < len;) {
    size_t j = i;
    while (j < len && path[j] != '/')
      j++;
    if (j - i == 2 && path[i] == '.' && path[i + 1] == '.') {
      if (nseg > 0)
        nseg--;
    } else if (j > i && !(j - i == 1 && path[i] == '.')) {
      seg[nseg] = path + i;
      seglen[nseg++] = j - i;
    }
    i = j + 1;
  }
  if ((rc = vc__buf_puts(out, "/")) < 0)
    goto out;
  for (size_t k = 0; k < nseg; k++) {
    if ((k > 0 && (rc = vc__buf_puts(out, "/")) < 0) ||
        (rc = uri_encode(out, seg[k], seglen[k], 0)) < 0)
      goto out;
  }
  if (trailing && nseg > 0)
    rc = vc__buf_puts(out, "/");
out:
  vc__free(seg);
  vc__free(seglen);
  return rc;
}

typedef struct qparam {
  char *name;   /* encoded */
  char *value;  /* encoded */
} qparam;

static int qparam_cmp(const void *a, const void *b)
{
  const qparam *x = a, *y = b;
  int c = strcmp(x->name, y->name);

  return c ? c : strcmp(x->value, y->value);
}

/* Decode then strictly encode one query component into *out. */
static int recode(char **out, const char *s, size_t len)
{
  vc_buf dec = VC_BUF_INIT, enc = VC_BUF_INIT;
  int rc;

  *out = NULL;
  if ((rc = vc__percent_decode(&dec, s, len, 0)) < 0 ||
      (rc = uri_encode(&enc, dec.ptr ? dec.ptr : "", dec.size, 0)) < 0 ||
      (enc.ptr == NULL && (rc = vc__buf_puts(&enc, "")) < 0)) {
    vc_buf_dispose(&dec);
    vc_buf_dispose(&enc);
    return rc;
  }
  vc_buf_dispose(&dec);
  *out = enc.ptr;
  return 0;
}

static int canonical_query(vc_buf *out, const char *q, size_t len)
{
  qparam *p = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;

  for (size_t i = 0; i < len && rc == 0;) {
    size_t j = i, eq;
    while (j < len && q[j] != '&')
      j++;
    for (eq = i; eq < j && q[eq] != '='; eq++)
      ;
    if (j > i) {
      if (n == QUERY_PARAMS_MAX) {
        rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "URL to sign has more than %d query "
                           "parameters", QUERY_PARAMS_MAX);
        break;
      }
      if (n == cap) {
        size_t ncap = cap ? 2 * cap : 8;
        qparam *np = vc__realloc(p, ncap * sizeof(*np));
        if (np == NULL) {
          rc = vc_error_set_oom();
          break;
        }
        p = np;
        cap = ncap;
      }
      p[n].name = p[n].value = NULL;
      n++;
      if ((rc = recode(&p[n - 1].name, q + i, eq - i)) == 0)
        rc = recode(&p[n - 1].value, eq < j ? q + eq + 1 : "",
                    eq < j ? j - eq - 1 : 0);
    }
    i = j + 1;
  }
  if (rc == 0 && n > 1)
    qsort(p, n, sizeof(*p), qparam_cmp);
  for (size_t k = 0; k < n && rc == 0; k++)
    rc = vc__buf_printf(out, "%s%s=%s", k ? "&" : "", p[k].name,
                        p[k].value);
  for (size_t k = 0; k < n; k++) {
    vc__free(p[k].name);
    vc__free(p[k].value);
  }
  vc__free(p);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Headers                                                             */

typedef struct hdr {
  char name[NAME_MAX_LEN + 1];   /* lowercase */
  const char *value;
  size_t value_len;
  size_t order;
} hdr;

static int hdr_cmp(const void *a, const void *b)
{
  const hdr *x = a, *y = b;
  int c = strcmp(x->name, y->name);

  return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int add_hdr(hdr *h, size_t *n, const char *name, const char *value)
{
  size_t len = strnlen(name, NAME_MAX_LEN + 1);
  hdr *e;

  if (*n == VC__SIGV4_MAX_HEADERS + 3)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "more than %d headers to sign",
                         VC__SIGV4_MAX_HEADERS);
  if (len == 0 || len > NAME_MAX_LEN)
    return BAD("header name to sign is empty or too long");
  if (value == NULL || strnlen(value, VALUE_MAX + 1) > VALUE_MAX)
    return BAD("header '%.64s' has no value or one too long", name);
  for (size_t i = 0; i < len; i++)
    if (!tchar((unsigned char)name[i]))
      return BAD("header name to sign has an invalid character");
  for (const char *p = value; *p; p++)
    if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
      return BAD("header '%.64s' has a control character", name);
  e = &h[*n];
  for (size_t i = 0; i < len; i++)
    e->name[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] | 0x20
                                                         : name[i]);
  e->name[len] = '\0';
  e->value = value;
  e->value_len = strlen(value);
  e->order = *n;
  (*n)++;
  return 0;
}

/* The value trimmed, inner runs of spaces as one. */
static int put_value(vc_buf *out, const char *v, size_t n)
{
  size_t i = 0, end = n;
  int rc = 0, space = 0;

  while (i < end && (v[i] == ' ' || v[i] == '\t'))
    i++;
  while (end > i && (v[end - 1] == ' ' || v[end - 1] == '\t'))
    end--;
  for (; i < end && rc == 0; i++) {
    if (v[i] == ' ') {
      space = 1;
      continue;
    }
    if (space && (rc = vc__buf_put(out, " ", 1)) < 0)
      break;
    space = 0;
    rc = vc__buf_put(out, v + i, 1);
  }
  return rc;
}

/* Canonical header lines and the signed-header list. */
static int canonical_headers(vc_buf *lines, vc_buf *names, hdr *h, size_t n)
{
  int rc = 0;

  qsort(h, n, sizeof(*h), hdr_cmp);
  for (size_t i = 0; i < n && rc == 0; i++) {
    int first = i == 0 || strcmp(h[i].name, h[i - 1].name) != 0;
    int last = i + 1 == n || strcmp(h[i].name, h[i + 1].name) != 0;

    if (first) {
      if ((rc = vc__buf_printf(lines, "%s:", h[i].name)) < 0 ||
          (rc = vc__buf_printf(names, "%s%s", i ? ";" : "",
                               h[i].name)) < 0)
        break;
    } else if ((rc = vc__buf_puts(lines, ",")) < 0) {
      break;
    }
    if ((rc = put_value(lines, h[i].value, h[i].value_len)) == 0 && last)
      rc = vc__buf_puts(lines, "\n");
  }
  return rc;
}

/* ------------------------------------------------------------------ */

int vc__sigv4_signing_key(uint8_t out[32], const char *secret,
                          const char *date, const char *region,
                          const char *service)
{
  vc_buf k = VC_BUF_INIT;
  uint8_t a[32], b[32];
  int rc;

  if ((rc = vc__buf_printf(&k, "AWS4%s", secret)) < 0)
    goto out;
  if ((rc = vc__hmac(a, VC__MD_SHA256, k.ptr, k.size, date,
                     strlen(date))) < 0 ||
      (rc = vc__hmac(b, VC__MD_SHA256, a, 32, region, strlen(region))) < 0 ||
      (rc = vc__hmac(a, VC__MD_SHA256, b, 32, service,
                     strlen(service))) < 0 ||
      (rc = vc__hmac(out, VC__MD_SHA256, a, 32, "aws4_request", 12)) < 0)
    goto out;
out:
  vc__wipe(a, sizeof(a));
  vc__wipe(b, sizeof(b));
  vc__buf_wipe(&k);
  return rc;
}

void vc__sigv4_dispose(vc__sigv4 *s)
{
  if (s == NULL)
    return;
  vc_buf_dispose(&s->authorization);
  vc_buf_dispose(&s->canonical_request);
  vc_buf_dispose(&s->string_to_sign);
}

static int check_inputs(const char *method, const char *region,
                        const char *service, const vc__aws_creds *c)
{
  if (!is_token(method, 1, 16, method_char))
    return BAD("HTTP method to sign must be upper-case letters");
  if (!is_token(region, 1, SCOPE_PART_MAX, scope_char))
    return BAD("AWS region must be 1 to %d of [a-z0-9-]", SCOPE_PART_MAX);
  if (!is_token(service, 1, SCOPE_PART_MAX, scope_char))
    return BAD("AWS service must be 1 to %d of [a-z0-9-]", SCOPE_PART_MAX);
  if (c == NULL ||
      !is_token(c->access_key_id, KEY_ID_MIN, KEY_ID_MAX, key_id_char))
    return BAD("AWS access key id must be %d to %d of [A-Z0-9]",
               KEY_ID_MIN, KEY_ID_MAX);
  if (!is_token(c->secret_access_key, 1, SECRET_MAX, visible_char))
    return BAD("AWS secret access key must be 1 to %d printable "
               "characters", SECRET_MAX);
  if (c->session_token != NULL &&
      !is_token(c->session_token, 1, TOKEN_MAX, visible_char))
    return BAD("AWS session token must be 1 to %d printable characters",
               TOKEN_MAX);
  return 0;
}

static int format_date(char out[17], int64_t now_ms)
{
  time_t t;
  struct tm tm;

  if (now_ms < 0 || now_ms / 1000 > INT64_C(253402300799))
    return BAD("time to sign is out of range");
  t = (time_t)(now_ms / 1000);
  if (gmtime_r(&t, &tm) == NULL)
    return BAD("time to sign is out of range");
  snprintf(out, 17, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return 0;
}

int vc__sigv4_sign(vc__sigv4 *out, const char *method, const char *url,
                   const vc_http_header *headers, size_t nheaders,
                   const void *body, size_t body_len, const char *region,
                   const char *service, const vc__aws_creds *creds,
                   int64_t now_ms)
{
  static const char *const reserved[] = {
    "host", "x-amz-date", "x-amz-security-token", "authorization"
  };
  hdr h[VC__SIGV4_MAX_HEADERS + 3];
  vc_buf lines = VC_BUF_INIT, names = VC_BUF_INIT;
  parsed_url u = { NULL, 0, NULL, 0 };
  uint8_t digest[32], key[32], mac[32];
  char hex[65], date[9];
  size_t nh = 0;
  int rc;

  VC_ASSERT_ARG(out);
  memset(out, 0, sizeof(*out));
  VC_ASSERT_ARG(url);
  VC_ASSERT_ARG(headers != NULL || nheaders == 0);
  VC_ASSERT_ARG(body != NULL || body_len == 0);
  if ((rc = check_inputs(method, region, service, creds)) < 0)
    return rc;
  if (nheaders > VC__SIGV4_MAX_HEADERS)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "more than %d headers to sign",
                         VC__SIGV4_MAX_HEADERS);
  if ((rc = parse_url(&u, out->host, url)) < 0 ||
      (rc = format_date(out->amz_date, now_ms)) < 0)
    return rc;
  for (size_t i = 0; i < nheaders; i++) {
    if (headers[i].name == NULL)
      return BAD("header to sign has no name");
    for (size_t k = 0; k < VC_ARRAY_SIZE(reserved); k++)
      if (strcasecmp(headers[i].name, reserved[k]) == 0)
        return BAD("header '%s' is the signer's", reserved[k]);
    if ((rc = add_hdr(h, &nh, headers[i].name, headers[i].value)) < 0)
      return rc;
  }
  if ((rc = add_hdr(h, &nh, "host", out->host)) < 0 ||
      (rc = add_hdr(h, &nh, "x-amz-date", out->amz_date)) < 0 ||
      (creds->session_token != NULL &&
       (rc = add_hdr(h, &nh, "x-amz-security-token",
                     creds->session_token)) < 0))
    return rc;

  /* The canonical request. */
  if ((rc = vc__buf_printf(&out->canonical_request, "%s\n", method)) < 0 ||
      (rc = canonical_path(&out->canonical_request, u.path,
                           u.path_len)) < 0 ||
      (rc = vc__buf_puts(&out->canonical_request, "\n")) < 0 ||
      (rc = canonical_query(&out->canonical_request, u.query,
                            u.query_len)) < 0 ||
      (rc = vc__buf_puts(&out->canonical_request, "\n")) < 0 ||
      (rc = canonical_headers(&lines, &names, h, nh)) < 0 ||
      (rc = vc__digest(digest, VC__MD_SHA256, body ? body : "",
                       body_len)) < 0)
    goto out;
  vc__hex_encode(hex, digest, 32);
  if ((rc = vc__buf_printf(&out->canonical_request, "%s\n%s\n%s",
                           lines.ptr, names.ptr, hex)) < 0)
    goto out;

  /* The string to sign and the signature. */
  memcpy(date, out->amz_date, 8);
  date[8] = '\0';
  if ((rc = vc__digest(digest, VC__MD_SHA256, out->canonical_request.ptr,
                       out->canonical_request.size)) < 0)
    goto out;
  vc__hex_encode(hex, digest, 32);
  if ((rc = vc__buf_printf(&out->string_to_sign,
                           "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
                           out->amz_date, date, region, service, hex)) < 0 ||
      (rc = vc__sigv4_signing_key(key, creds->secret_access_key, date,
                                  region, service)) < 0 ||
      (rc = vc__hmac(mac, VC__MD_SHA256, key, sizeof(key),
                     out->string_to_sign.ptr,
                     out->string_to_sign.size)) < 0)
    goto out;
  vc__hex_encode(hex, mac, 32);
  rc = vc__buf_printf(&out->authorization,
                      "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request,"
                      " SignedHeaders=%s, Signature=%s",
                      creds->access_key_id, date, region, service,
                      names.ptr, hex);
out:
  vc__wipe(key, sizeof(key));
  vc__wipe(mac, sizeof(mac));
  vc_buf_dispose(&lines);
  vc_buf_dispose(&names);
  if (rc < 0)
    vc__sigv4_dispose(out);
  return rc;
}
