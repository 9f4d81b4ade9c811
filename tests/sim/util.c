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
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 411: return "Length Required";
  case 413: return "Payload Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return status >= 500 ? "Server Error" : "Unknown";
  }
}
