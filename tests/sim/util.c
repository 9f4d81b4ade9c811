/* Small helpers shared by the simulator's files. */
#define _GNU_SOURCE
#include "sim_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <mbedtls/md.h>

/* ---- sim_buf --------------------------------------------------------- */

void sim_buf_free(sim_buf *b)
{
  free(b->ptr);
  memset(b, 0, sizeof(*b));
}

static int buf_grow(sim_buf *b, size_t extra)
{
  size_t need, cap;
  char *p;

  if (b->oom)
    return -1;
  need = b->len + extra + 1;
  if (need <= b->cap)
    return 0;
  cap = b->cap ? b->cap : 256;
  while (cap < need)
    cap *= 2;
  p = realloc(b->ptr, cap);
  if (p == NULL) {
    b->oom = 1;
    return -1;
  }
  b->ptr = p;
  b->cap = cap;
  return 0;
}

void sim_buf_add(sim_buf *b, const void *p, size_t n)
{
  if (buf_grow(b, n) < 0)
    return;
  if (n)
    memcpy(b->ptr + b->len, p, n);
  b->len += n;
  b->ptr[b->len] = '\0';
}

void sim_buf_str(sim_buf *b, const char *s)
{
  sim_buf_add(b, s, strlen(s));
}

void sim_buf_printf(sim_buf *b, const char *fmt, ...)
{
  va_list ap;
  size_t room;
  int n;

  /* Usually one pass: format into the free space, grow only if short. */
  if (buf_grow(b, 128) < 0)
    return;
  room = b->cap - b->len;
  va_start(ap, fmt);
  n = vsnprintf(b->ptr + b->len, room, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->ptr[b->len] = '\0';
    return;
  }
  if ((size_t)n >= room) {
    if (buf_grow(b, (size_t)n) < 0) {
      b->ptr[b->len] = '\0';
      return;
    }
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  b->len += (size_t)n;
}

void sim_buf_json_strn(sim_buf *b, const char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  size_t i, run = 0;

  sim_buf_add(b, "\"", 1);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    char u[7];

    switch (c) {
    case '"': esc = "\\\""; break;
    case '\\': esc = "\\\\"; break;
    case '\n': esc = "\\n"; break;
    case '\r': esc = "\\r"; break;
    case '\t': esc = "\\t"; break;
    default:
      if (c < 0x20) {
        memcpy(u, "\\u00", 4);
        u[4] = hex[c >> 4];
        u[5] = hex[c & 15];
        u[6] = '\0';
        esc = u;
      }
    }
    if (esc == NULL)
      continue;
    /* Copy the plain run before the escaped byte in one go. */
    sim_buf_add(b, s + run, i - run);
    sim_buf_str(b, esc);
    run = i + 1;
  }
  sim_buf_add(b, s + run, n - run);
  sim_buf_add(b, "\"", 1);
}

void sim_buf_json_str(sim_buf *b, const char *s)
{
  if (s == NULL)
    sim_buf_str(b, "null");
  else
    sim_buf_json_strn(b, s, strlen(s));
}

void sim_buf_form_enc(sim_buf *b, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";

  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char e[3];

    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      sim_buf_add(b, s, 1);
    } else if (c == ' ') {
      sim_buf_add(b, "+", 1);
    } else {
      e[0] = '%';
      e[1] = hex[c >> 4];
      e[2] = hex[c & 15];
      sim_buf_add(b, e, 3);
    }
  }
}

/* ---- forms ----------------------------------------------------------- */

static int hexval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decode in place; returns the new length. */
static size_t form_unescape(char *s, size_t n)
{
  size_t i, o = 0;

  for (i = 0; i < n; i++) {
    if (s[i] == '+') {
      s[o++] = ' ';
    } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
               hexval(s[i + 2]) >= 0) {
      s[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else {
      s[o++] = s[i];
    }
  }
  return o;
}

int sim_form_parse(sim_form *f, const char *s, size_t len)
{
  size_t i, pairs = 1, n = 0;
  char *p, *end;

  memset(f, 0, sizeof(*f));
  for (i = 0; i < len; i++)
    if (s[i] == '&')
      pairs++;
  f->mem_ = malloc(len + 1);
  f->key = calloc(pairs, sizeof(char *));
  f->val = calloc(pairs, sizeof(char *));
  if (f->mem_ == NULL || f->key == NULL || f->val == NULL) {
    sim_form_free(f);
    return -ENOMEM;
  }
  memcpy(f->mem_, s, len);
  f->mem_[len] = '\0';
  p = f->mem_;
  end = f->mem_ + len;
  while (p < end) {
    char *amp = memchr(p, '&', (size_t)(end - p));
    char *stop = amp ? amp : end;
    char *eq = memchr(p, '=', (size_t)(stop - p));
    size_t kl, vl;

    if (stop == p) {          /* empty pair: "a=1&&b=2" */
      p = stop + 1;
      continue;
    }
    *stop = '\0';
    if (eq != NULL) {
      *eq = '\0';
      kl = form_unescape(p, (size_t)(eq - p));
      p[kl] = '\0';
      vl = form_unescape(eq + 1, (size_t)(stop - eq - 1));
      eq[1 + vl] = '\0';
      f->val[n] = eq + 1;
    } else {
      kl = form_unescape(p, (size_t)(stop - p));
      p[kl] = '\0';
      f->val[n] = stop;       /* the empty string */
    }
    f->key[n++] = p;
    p = stop + 1;
  }
  f->n = n;
  return 0;
}

void sim_form_free(sim_form *f)
{
  free(f->mem_);
  free(f->key);
  free(f->val);
  memset(f, 0, sizeof(*f));
}

const char *sim_form_get(const sim_form *f, const char *key)
{
  size_t i;

  for (i = 0; i < f->n; i++)
    if (strcmp(f->key[i], key) == 0)
      return f->val[i];
  return NULL;
}

size_t sim_form_count(const sim_form *f, const char *key)
{
  size_t i, n = 0;

  for (i = 0; i < f->n; i++)
    if (strcmp(f->key[i], key) == 0)
      n++;
  return n;
}

/* ---- randomness, time, encodings ------------------------------------- */

/* getrandom() until done; aborts when the kernel has no entropy. */
static void os_random(void *out, size_t n)
{
  unsigned char *p = out;

  while (n > 0) {
    ssize_t r = getrandom(p, n, 0);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      abort();
    }
    p += r;
    n -= (size_t)r;
  }
}

/*
 * Ids need to be unique, not secret: a per-thread splitmix64 seeded from
 * the kernel saves a system call per id on the request path.
 */
void sim_random(void *out, size_t n)
{
  static _Thread_local uint64_t state;
  static _Thread_local int seeded;
  unsigned char *p = out;

  if (!seeded) {
    os_random(&state, sizeof(state));
    seeded = 1;
  }
  while (n > 0) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    size_t k = n < 8 ? n : 8;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    memcpy(p, &z, k);
    p += k;
    n -= k;
  }
}

void sim_random_hex(char *out, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char r[64];
  size_t i;

  while (n > 0) {
    size_t k = n < sizeof(r) ? n : sizeof(r);
    sim_random(r, k);
    for (i = 0; i < k; i++)
      *out++ = hex[r[i] & 15];
    n -= k;
  }
  *out = '\0';
}

void sim_random_b64url(char *out, size_t n)
{
  static const char alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char r[64];
  size_t i;

  while (n > 0) {
    size_t k = n < sizeof(r) ? n : sizeof(r);
    sim_random(r, k);
    for (i = 0; i < k; i++)
      *out++ = alpha[r[i] & 63];
    n -= k;
  }
  *out = '\0';
}

int sim_rng(void *unused, unsigned char *out, size_t n)
{
  /* Key generation and signing: the kernel's generator. */
  (void)unused;
  os_random(out, n);
  return 0;
}

int64_t sim_now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t sim_mono_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void sim_rfc2822(char out[40], int64_t unix_s)
{
  static const char days[7][4] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
  static const char months[12][4] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  time_t t = (time_t)unix_s;
  struct tm tm;

  /* Fixed English names: strftime would follow the locale. */
  gmtime_r(&t, &tm);
  snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000",
           days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
           tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

uint64_t sim_fnv1a(uint64_t h, const void *p, size_t n)
{
  const unsigned char *s = p;

  while (n--) {
    h ^= *s++;
    h *= 0x100000001b3ULL;
  }
  return h;
}

int sim_base64(char *out, size_t size, const void *in, size_t n)
{
  static const char alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *s = in;
  size_t i, o = 0;

  if (size < (n + 2) / 3 * 4 + 1)
    return -ENOSPC;
  for (i = 0; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
    out[o++] = alpha[v >> 18];
    out[o++] = alpha[(v >> 12) & 63];
    out[o++] = alpha[(v >> 6) & 63];
    out[o++] = alpha[v & 63];
  }
  if (i < n) {
    uint32_t v = (uint32_t)s[i] << 16;
    if (i + 1 < n)
      v |= (uint32_t)s[i + 1] << 8;
    out[o++] = alpha[v >> 18];
    out[o++] = alpha[(v >> 12) & 63];
    out[o++] = i + 1 < n ? alpha[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  out[o] = '\0';
  return 0;
}

int sim_prefix_ci(const char *s, size_t len, const char *prefix)
{
  size_t n = strlen(prefix);

  return len >= n && strncasecmp(s, prefix, n) == 0;
}

const char *sim_reason(int status)
{
  switch (status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 409: return "Conflict";
  case 411: return "Length Required";
  case 413: return "Payload Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 422: return "Unprocessable Entity";
  case 426: return "Upgrade Required";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return status >= 500 ? "Server Error" : "Unknown";
  }
}

/* ---- Twilio: shared by Messaging and Voice --------------------------- */

void sim_tw_error(sim_resp *rs, int status, int code, const char *msg)
{
  sim_resp_reset(rs);
  rs->status = status;
  rs->content_type = "application/json";
  sim_buf_printf(&rs->body, "{\"code\": %d, \"message\": ", code);
  sim_buf_json_str(&rs->body, msg);
  sim_buf_printf(&rs->body,
                 ", \"more_info\": \"https://www.twilio.com/docs/errors/%d\", "
                 "\"status\": %d}", code, status);
}

void sim_tw_fault(vc_sim *sim, void *state, int status,
                  unsigned retry_after_s, sim_resp *rs)
{
  (void)sim;
  (void)state;
  if (status == 413) {
    /* The front end refuses it before the API sees it. */
    sim_resp_reset(rs);
    rs->status = 413;
    rs->content_type = "text/html";
    sim_buf_str(&rs->body, "<html><head><title>413 Request Entity Too "
                "Large</title></head><body>413 Request Entity Too Large"
                "</body></html>\n");
  } else if (status == 429) {
    sim_tw_error(rs, 429, 20429, "Too Many Requests");
    sim_buf_printf(&rs->headers, "Retry-After: %u\r\n", retry_after_s);
  } else if (status == 503) {
    sim_tw_error(rs, 503, 20503, "Service Unavailable");
  } else {
    sim_tw_error(rs, status, 20500, "Internal Server Error");
  }
}

/* Basic credentials; 0 when they match, else the 401 already filled. */
int sim_tw_auth(vc_sim *sim, const sim_req *rq, const char *path_sid,
                sim_resp *rs)
{
  char sid[128], token[128], pair[260], want[360];
  size_t len = 0, wl;
  const char *h = sim_req_header(rq, "Authorization", &len);

  if (h == NULL || len == 0) {
    sim_tw_error(rs, 401, 20003,
                 "Authentication Error - No credentials provided");
    goto challenge;
  }
  sim_setting(sim, "twilio.account_sid", sid, sizeof(sid));
  sim_setting(sim, "twilio.auth_token", token, sizeof(token));
  /* Compare encoded: the canonical base64 of "sid:token". */
  snprintf(pair, sizeof(pair), "%s:%s", sid, token);
  if (sim_base64(want, sizeof(want), pair, strlen(pair)) != 0)
    goto denied;
  wl = strlen(want);
  if (!sim_prefix_ci(h, len, "Basic ") || len - 6 != wl ||
      memcmp(h + 6, want, wl) != 0 || strcmp(path_sid, sid) != 0)
    goto denied;
  return 0;
denied:
  sim_tw_error(rs, 401, 20003, "Authenticate");
challenge:
  sim_buf_str(&rs->headers, "WWW-Authenticate: Basic realm=\"Twilio API\"\r\n");
  return -1;
}

/* E.164, optionally behind a channel prefix such as "whatsapp:". */
int sim_tw_e164(const char *s)
{
  size_t n = 0;

  if (strncmp(s, "whatsapp:", 9) == 0)
    s += 9;
  if (s[0] != '+' || s[1] < '1' || s[1] > '9')
    return 0;
  for (s++; *s; s++, n++)
    if (*s < '0' || *s > '9')
      return 0;
  return n >= 2 && n <= 15;
}

static int kvp_cmp(const void *a, const void *b)
{
  const sim_kvp *x = a, *y = b;
  int c = strcmp(x->k, y->k);

  return c ? c : strcmp(x->v, y->v);
}

/* X-Twilio-Signature of a form POST to url. */
int sim_tw_sign(const char *token, const char *url, sim_kvp *p,
                size_t n, char out[64])
{
  unsigned char mac[20];
  sim_buf s = { 0 };
  size_t i;
  int rc;

  qsort(p, n, sizeof(*p), kvp_cmp);
  sim_buf_str(&s, url);
  for (i = 0; i < n; i++) {
    sim_buf_str(&s, p[i].k);
    sim_buf_str(&s, p[i].v);
  }
  if (s.oom) {
    sim_buf_free(&s);
    return -ENOMEM;
  }
  rc = mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1),
                       (const unsigned char *)token, strlen(token),
                       (const unsigned char *)s.ptr, s.len, mac);
  sim_buf_free(&s);
  if (rc != 0)
    return -EIO;
  return sim_base64(out, 64, mac, sizeof(mac));
}

/* A signed Twilio form post of the pairs (sorted in place) to url. */
int sim_tw_form_post(sim_post *out, const char *token, const char *url,
                     sim_kvp *p, size_t n)
{
  char sig[64], idem[40];
  sim_buf body = { 0 }, hdr = { 0 };
  size_t i;

  memset(out, 0, sizeof(*out));
  if (sim_tw_sign(token, url, p, n, sig) != 0)
    return -EIO;
  for (i = 0; i < n; i++) {
    if (i)
      sim_buf_str(&body, "&");
    sim_buf_form_enc(&body, p[i].k);
    sim_buf_str(&body, "=");
    sim_buf_form_enc(&body, p[i].v);
  }
  sim_random_hex(idem, 32);
  sim_buf_printf(&hdr, "X-Twilio-Signature: %s\nUser-Agent: TwilioProxy/1.1\n"
                 "I-Twilio-Idempotency-Token: %.8s-%.4s-%.4s-%.4s-%.12s\n",
                 sig, idem, idem + 8, idem + 12, idem + 16, idem + 20);
  out->url = strdup(url);
  out->content_type = strdup("application/x-www-form-urlencoded");
  out->headers = hdr.ptr;
  out->body = body.ptr ? body.ptr : strdup("");
  out->body_len = body.len;
  if (body.oom || hdr.oom || !out->url || !out->content_type ||
      !out->body || !out->headers)
    return -ENOMEM;
  return 0;
}
