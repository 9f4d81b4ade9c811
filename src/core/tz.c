/*
 * Time zones: TZif files (RFC 8536) of the system zoneinfo, with the
 * footer's POSIX TZ rule for instants past the last transition.
 *
 * Offsets are looked up by instant; a local wall time is turned into an
 * instant by walking the offset segments around it (offsets are within
 * a day of UTC, so two days either side hold every candidate).
 */
#include "common.h"
#include "ctx.h"
#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define TYPES_MAX 256
#define CHARS_MAX 1024
#define FOOTER_MAX 256
#define OFFSET_MAX (26 * 3600)          /* |UT offset| a type may have */
#define SEARCH_SPAN (2 * 86400)         /* seconds around a wall time */

/* A POSIX TZ rule date: Jn, n or Mm.w.d, at `secs` local time. */
typedef struct rule_date {
  char kind;                            /* 'J', 'D' (plain n) or 'M' */
  int n, m, w, d;
  int32_t secs;
} rule_date;

typedef struct posix_rule {
  int32_t std_off, dst_off;             /* seconds east of UTC */
  int has_dst;
  rule_date start, end;
} posix_rule;

struct vc__tz {
  char name[VC__TZ_NAME_MAX + 1];
  int64_t *trans;                       /* seconds, ascending */
  uint8_t *trans_type;
  size_t ntrans;
  int32_t utoff[TYPES_MAX];
  uint8_t isdst[TYPES_MAX];
  size_t ntypes;
  int has_rule;                         /* a footer rule */
  posix_rule rule;
  /* The cache's (under its lock). */
  int refs, cached;
  uint64_t used;
  struct vc__tz *next;
};

/* ---- civil dates ------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
  int64_t q = a / b;

  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t vc__days_from_civil(int64_t y, int m, int d)
{
  int64_t era, yoe, doy, doe;

  y -= m <= 2;
  era = floor_div(y, 400);
  yoe = y - era * 400;
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void vc__civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
  int64_t era, doe, yoe, doy, mp;

  z += 719468;
  era = floor_div(z, 146097);
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int wday_of(int64_t days)
{
  return (int)(days + 4 - floor_div(days + 4, 7) * 7); /* 1970-01-01: Thu */
}

static int leap_year(int64_t y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
  static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                              31 };

  return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* ---- the POSIX TZ rule ------------------------------------------------- */

/* A zone abbreviation: <...> or at least three letters. */
static const char *parse_abbr(const char *p)
{
  const char *s = p;

  if (*p == '<') {
    for (p++; *p != '>'; p++)
      if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || *p == '+' || *p == '-'))
        return NULL;
    return p - s >= 4 ? p + 1 : NULL;
  }
  while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
    p++;
  return p - s >= 3 ? p : NULL;
}

static const char *parse_num(const char *p, int min, int max, int *out)
{
  int v = 0, digits = 0;

  while (*p >= '0' && *p <= '9' && digits < 4) {
    v = v * 10 + (*p++ - '0');
    digits++;
  }
  if (digits == 0 || v < min || v > max)
    return NULL;
  *out = v;
  return p;
}

/* [+-]hh[:mm[:ss]] with hours up to `hmax`, in seconds. */
static const char *parse_hms(const char *p, int hmax, int32_t *out)
{
  int sign = 1, h, mi = 0, s = 0;

  if (*p == '+' || *p == '-')
    sign = *p++ == '-' ? -1 : 1;
  if ((p = parse_num(p, 0, hmax, &h)) == NULL)
    return NULL;
  if (*p == ':' && ((p = parse_num(p + 1, 0, 59, &mi)) == NULL ||
                    (*p == ':' && (p = parse_num(p + 1, 0, 59, &s)) == NULL)))
    return NULL;
  *out = sign * (h * 3600 + mi * 60 + s);
  return p;
}

static const char *parse_date(const char *p, rule_date *r)
{
  if (*p == 'J') {
    r->kind = 'J';
    p = parse_num(p + 1, 1, 365, &r->n);
  } else if (*p == 'M') {
    r->kind = 'M';
    if ((p = parse_num(p + 1, 1, 12, &r->m)) == NULL || *p != '.' ||
        (p = parse_num(p + 1, 1, 5, &r->w)) == NULL || *p != '.')
      return NULL;
    p = parse_num(p + 1, 0, 6, &r->d);
  } else {
    r->kind = 'D';
    p = parse_num(p, 0, 365, &r->n);
  }
  if (p == NULL)
    return NULL;
  r->secs = 7200;
  if (*p == '/')
    p = parse_hms(p + 1, 167, &r->secs);
  return p;
}

/* std offset [dst [offset] [,start[/time],end[/time]]]; "" = none. */
static int parse_rule(posix_rule *r, const char *s)
{
  const char *p = s;
  int32_t off;

  memset(r, 0, sizeof(*r));
  if ((p = parse_abbr(p)) == NULL || (p = parse_hms(p, 24, &off)) == NULL)
    return -1;
  r->std_off = -off;
  if (*p == '\0')
    return 0;
  if ((p = parse_abbr(p)) == NULL)
    return -1;
  r->has_dst = 1;
  r->dst_off = r->std_off + 3600;
  if (*p != ',' && *p != '\0') {
    if ((p = parse_hms(p, 24, &off)) == NULL)
      return -1;
    r->dst_off = -off;
  }
  if (*p == '\0') {
    /* No rule given: the one POSIX implementations assume (US). */
    r->start = (rule_date){ 'M', 0, 3, 2, 0, 7200 };
    r->end = (rule_date){ 'M', 0, 11, 1, 0, 7200 };
    return 0;
  }
  if (*p != ',' || (p = parse_date(p + 1, &r->start)) == NULL ||
      *p != ',' || (p = parse_date(p + 1, &r->end)) == NULL || *p != '\0')
    return -1;
  return 0;
}

/* The local (wall, in the offset then in force) seconds since the epoch
 * at which a rule date falls in year `y`. */
static int64_t rule_local(const rule_date *r, int64_t y)
{
  int64_t day;

  if (r->kind == 'J') {
    day = vc__days_from_civil(y, 1, 1) + r->n - 1 +
          (leap_year(y) && r->n >= 60);
  } else if (r->kind == 'D') {
    day = vc__days_from_civil(y, 1, 1) + r->n;
  } else {
    int64_t first = vc__days_from_civil(y, r->m, 1);
    int wday = wday_of(first);
    int dom = 1 + (r->d - wday + 7) % 7 + (r->w - 1) * 7;
    while (dom > month_days(y, r->m))
      dom -= 7;
    day = first + dom - 1;
  }
  return day * 86400 + r->secs;
}

/* The instants DST starts and ends in year `y`. */
static void rule_year(const posix_rule *r, int64_t y, int64_t *start,
                      int64_t *end)
{
  *start = rule_local(&r->start, y) - r->std_off;
  *end = rule_local(&r->end, y) - r->dst_off;
}

static int64_t year_of(int64_t t)
{
  int64_t y;
  int m, d;

  vc__civil_from_days(floor_div(t, 86400), &y, &m, &d);
  return y;
}

static void rule_at(const posix_rule *r, int64_t t, int32_t *off, int *dst)
{
  int64_t s, e;
  int in;

  *off = r->std_off;
  *dst = 0;
  if (!r->has_dst)
    return;
  rule_year(r, year_of(t + r->std_off), &s, &e);
  in = s < e ? (t >= s && t < e) : !(t >= e && t < s);
  if (in) {
    *off = r->dst_off;
    *dst = 1;
  }
}

/* The first rule transition after t, or INT64_MAX. */
static int64_t rule_next(const posix_rule *r, int64_t t)
{
  int64_t best = INT64_MAX, y;

  if (!r->has_dst)
    return best;
  y = year_of(t + r->std_off);
  for (int64_t k = y - 1; k <= y + 1; k++) {
    int64_t s, e;
    rule_year(r, k, &s, &e);
    if (s > t && s < best)
      best = s;
    if (e > t && e < best)
      best = e;
  }
  return best;
}

/* ---- lookups ----------------------------------------------------------- */

/* The index of the last transition at or before t, or -1. */
static ptrdiff_t trans_index(const vc__tz *z, int64_t t)
{
  size_t lo = 0, hi = z->ntrans;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (z->trans[mid] <= t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return (ptrdiff_t)lo - 1;
}

static void offset_at(const vc__tz *z, int64_t t, int32_t *off, int *dst)
{
  ptrdiff_t i = trans_index(z, t);

  if (z->has_rule && (z->ntrans == 0 || i == (ptrdiff_t)z->ntrans - 1)) {
    rule_at(&z->rule, t, off, dst);
    return;
  }
  /* Before the first transition: the first type (RFC 8536 3.2). */
  *off = z->utoff[i < 0 ? 0 : z->trans_type[i]];
  *dst = z->isdst[i < 0 ? 0 : z->trans_type[i]];
}

static int64_t next_transition(const vc__tz *z, int64_t t)
{
  ptrdiff_t i = trans_index(z, t);

  if (i + 1 < (ptrdiff_t)z->ntrans)
    return z->trans[i + 1];
  return z->has_rule ? rule_next(&z->rule, t) : INT64_MAX;
}

void vc__tz_local(vc__tm *out, const vc__tz *z, int64_t utc_ms)
{
  int64_t t = floor_div(utc_ms, 1000), local, days, y, secs;
  int32_t off;
  int dst;

  offset_at(z, t, &off, &dst);
  local = t + off;
  days = floor_div(local, 86400);
  secs = local - days * 86400;
  vc__civil_from_days(days, &y, &out->month, &out->day);
  out->year = (int)y;
  out->hour = (int)(secs / 3600);
  out->min = (int)(secs / 60 % 60);
  out->sec = (int)(secs % 60);
  out->ms = (int)(utc_ms - t * 1000);
  out->wday = wday_of(days);
  out->utoff = off;
  out->isdst = dst;
}

int64_t vc__tz_to_utc(const vc__tz *z, const vc__tm *tm)
{
  int64_t y = tm->year, mon = tm->month - 1, L, from, until;
  int32_t off, next_off;
  int dst;

  /* Normalise the month, then let days, hours, ... carry. */
  y += floor_div(mon, 12);
  mon -= floor_div(mon, 12) * 12;
  L = (vc__days_from_civil(y, (int)mon + 1, 1) + tm->day - 1) * 86400 +
      (int64_t)tm->hour * 3600 + (int64_t)tm->min * 60 + tm->sec;
  from = L - SEARCH_SPAN;
  until = L + SEARCH_SPAN;
  offset_at(z, from, &off, &dst);
  for (int guard = 0; guard < 64; guard++) {
    int64_t end = next_transition(z, from), c = L - off;
    if (c >= from && c < end)
      return c * 1000 + tm->ms; /* the earliest: the overlap's first */
    if (end == INT64_MAX || end > until)
      break;
    offset_at(z, end, &next_off, &dst);
    if (L >= end + off && L < end + next_off)
      return end * 1000; /* in the gap: the first instant after it */
    from = end;
    off = next_off;
  }
  return (L - off) * 1000 + tm->ms;
}

int64_t vc__tz_next_midnight(const vc__tz *z, int64_t utc_ms)
{
  vc__tm tm;
  int64_t at = utc_ms;

  /* Twice at most: a day whose midnight fell into an earlier gap. */
  for (int i = 0; i < 3; i++) {
    int64_t next;
    vc__tz_local(&tm, z, at);
    tm.day++;
    tm.hour = tm.min = tm.sec = tm.ms = 0;
    next = vc__tz_to_utc(z, &tm);
    if (next > utc_ms)
      return next;
    at = next + 86400 * 1000LL;
  }
  return utc_ms + 86400 * 1000LL;
}

const char *vc__tz_name(const vc__tz *z)
{
  return z->name;
}

/* ---- TZif -------------------------------------------------------------- */

typedef struct tzif_header {
  int version;
  uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

static uint32_t be32(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static int64_t be64(const unsigned char *p)
{
  return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int bad(const char *name, const char *why)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "timezone '%s': %s", name, why);
}

static int read_header(tzif_header *h, const unsigned char *p, size_t len)
{
  if (len < 44 || memcmp(p, "TZif", 4) != 0)
    return -1;
  h->version = p[4] == 0 ? 1 : p[4] - '0';
  if (h->version < 1 || h->version > 4)
    return -1;
  h->isutcnt = be32(p + 20);
  h->isstdcnt = be32(p + 24);
  h->leapcnt = be32(p + 28);
  h->timecnt = be32(p + 32);
  h->typecnt = be32(p + 36);
  h->charcnt = be32(p + 40);
  return 0;
}

/* The size of the data block after a header (`tsize`: 4 or 8). */
static size_t block_size(const tzif_header *h, size_t tsize)
{
  return h->timecnt * tsize + h->timecnt + h->typecnt * 6 + h->charcnt +
         h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

int vc__tz_parse(vc__tz **out, const char *name, const unsigned char *data,
                 size_t len)
{
  tzif_header h;
  const unsigned char *p = data, *end = data + len;
  size_t tsize = 4, size;
  vc__tz *z;

  *out = NULL;
  if (len > VC__TZ_FILE_MAX)
    return bad(name, "file too large");
  if (read_header(&h, p, len) < 0)
    return bad(name, "not a TZif file");
  if (h.version >= 2) {
    /* Skip the 32-bit part: the 64-bit one follows with its header. */
    if (h.timecnt > VC__TZ_TRANSITIONS_MAX || h.typecnt > TYPES_MAX ||
        h.charcnt > CHARS_MAX || h.leapcnt > VC__TZ_TRANSITIONS_MAX ||
        h.isutcnt > TYPES_MAX || h.isstdcnt > TYPES_MAX ||
        block_size(&h, 4) > len - 44)
      return bad(name, "truncated or oversized TZif data");
    p += 44 + block_size(&h, 4);
    if (read_header(&h, p, (size_t)(end - p)) < 0)
      return bad(name, "bad second TZif header");
    tsize = 8;
  }
  if (h.timecnt > VC__TZ_TRANSITIONS_MAX || h.typecnt == 0 ||
      h.typecnt > TYPES_MAX || h.charcnt == 0 || h.charcnt > CHARS_MAX ||
      (h.isstdcnt != 0 && h.isstdcnt != h.typecnt) ||
      (h.isutcnt != 0 && h.isutcnt != h.typecnt) ||
      h.leapcnt > VC__TZ_TRANSITIONS_MAX)
    return bad(name, "TZif counts out of range");
  if (h.leapcnt != 0)
    return bad(name, "zones with leap seconds are not supported");
  p += 44;
  size = block_size(&h, tsize);
  if (size > (size_t)(end - p))
    return bad(name, "truncated TZif data");
  if ((z = vc__calloc(1, sizeof(*z))) == NULL)
    return vc_error_set_oom();
  snprintf(z->name, sizeof(z->name), "%s", name);
  z->ntrans = h.timecnt;
  z->ntypes = h.typecnt;
  if (h.timecnt > 0 &&
      ((z->trans = vc__calloc(h.timecnt, sizeof(*z->trans))) == NULL ||
       (z->trans_type = vc__calloc(h.timecnt, 1)) == NULL)) {
    vc__tz_free(z);
    return vc_error_set_oom();
  }
  for (size_t i = 0; i < h.timecnt; i++) {
    z->trans[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
    if (i > 0 && z->trans[i] <= z->trans[i - 1])
      goto corrupt;
  }
  p += h.timecnt * tsize;
  for (size_t i = 0; i < h.timecnt; i++) {
    z->trans_type[i] = p[i];
    if (p[i] >= h.typecnt)
      goto corrupt;
  }
  p += h.timecnt;
  for (size_t i = 0; i < h.typecnt; i++) {
    int32_t off = (int32_t)be32(p + i * 6);
    if (off < -OFFSET_MAX || off > OFFSET_MAX || p[i * 6 + 4] > 1 ||
        p[i * 6 + 5] >= h.charcnt)
      goto corrupt;
    z->utoff[i] = off;
    z->isdst[i] = p[i * 6 + 4];
  }
  p += size - h.timecnt * tsize - h.timecnt;
  if (h.version >= 2) {
    /* The footer: "\n" TZ string "\n". */
    const unsigned char *nl;
    char rule[FOOTER_MAX + 1];
    size_t n;
    if (p >= end || *p != '\n' ||
        (nl = memchr(p + 1, '\n', (size_t)(end - p - 1))) == NULL ||
        (n = (size_t)(nl - p - 1)) > FOOTER_MAX)
      goto corrupt;
    memcpy(rule, p + 1, n);
    rule[n] = '\0';
    if (n > 0) {
      if (parse_rule(&z->rule, rule) < 0 ||
          z->rule.std_off < -OFFSET_MAX || z->rule.std_off > OFFSET_MAX ||
          z->rule.dst_off < -OFFSET_MAX || z->rule.dst_off > OFFSET_MAX) {
        vc__tz_free(z);
        return bad(name, "unreadable TZ rule in the TZif footer");
      }
      z->has_rule = 1;
    }
  }
  *out = z;
  return 0;
corrupt:
  vc__tz_free(z);
  return bad(name, "corrupt TZif data");
}

void vc__tz_free(vc__tz *z)
{
  if (z == NULL)
    return;
  vc__free(z->trans);
  vc__free(z->trans_type);
  vc__free(z);
}

/* ---- names and files --------------------------------------------------- */

static int check_name(const char *name)
{
  size_t n;

  if (name == NULL || name[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "timezone is empty");
  n = strnlen(name, VC__TZ_NAME_MAX + 1);
  if (n > VC__TZ_NAME_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "timezone is longer than %d bytes", VC__TZ_NAME_MAX);
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' ||
          c == '/'))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "timezone '%.64s' is not an IANA name "
                           "(character %zu)", name, i + 1);
  }
  /* "localtime" is the host's own setting, not a zone. */
  if (name[0] == '/' || name[n - 1] == '/' || strstr(name, "//") != NULL ||
      strcmp(name, "localtime") == 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "timezone '%.64s' is not an IANA name", name);
  return 0;
}

static int load(vc__tz **out, const char *name)
{
  char path[sizeof(ZONEINFO_DIR) + VC__TZ_NAME_MAX + 2];
  unsigned char *data = NULL;
  struct stat st;
  size_t got = 0;
  int fd, rc;

  *out = NULL;
  if ((rc = check_name(name)) < 0)
    return rc;
  snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, name);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return errno == ENOENT || errno == ENOTDIR
             ? bad(name, "unknown zone (not in " ZONEINFO_DIR ")")
             : bad(name, "zone file unreadable");
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return bad(name, "unknown zone (not a zone file)");
  }
  if (st.st_size > VC__TZ_FILE_MAX) {
    close(fd);
    return bad(name, "file too large");
  }
  if ((data = vc__malloc((size_t)st.st_size + 1)) == NULL) {
    close(fd);
    return vc_error_set_oom();
  }
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  rc = vc__tz_parse(out, name, data, got);
  vc__free(data);
  return rc;
}

int vc__tz_check(const char *name)
{
  vc__tz *z;
  int rc;

  if ((rc = load(&z, name)) < 0)
    return rc;
  vc__tz_free(z);
  return 0;
}

/* ---- the context's cache ----------------------------------------------- */

struct vc__tz_cache {
  pthread_mutex_t lock;
  vc__tz *head;
  size_t n;
  uint64_t tick;
};

int vc__tz_cache_new(struct vc__tz_cache **out)
{
  struct vc__tz_cache *c = vc__calloc(1, sizeof(*c));

  if (c == NULL)
    return vc_error_set_oom();
  pthread_mutex_init(&c->lock, NULL);
  *out = c;
  return 0;
}

void vc__tz_cache_free(struct vc__tz_cache *c)
{
  if (c == NULL)
    return;
  while (c->head != NULL) {
    vc__tz *next = c->head->next;
    vc__tz_free(c->head);
    c->head = next;
  }
  pthread_mutex_destroy(&c->lock);
  vc__free(c);
}

static vc__tz *cache_find(struct vc__tz_cache *c, const char *name)
{
  for (vc__tz *z = c->head; z != NULL; z = z->next)
    if (strcmp(z->name, name) == 0) {
      z->refs++;
      z->used = ++c->tick;
      return z;
    }
  return NULL;
}

/* Make room: drop the least recently used zone nobody holds. */
static int cache_evict(struct vc__tz_cache *c)
{
  vc__tz **victim = NULL;

  for (vc__tz **pz = &c->head; *pz != NULL; pz = &(*pz)->next)
    if ((*pz)->refs == 0 && (victim == NULL || (*pz)->used < (*victim)->used))
      victim = pz;
  if (victim == NULL)
    return 0;
  {
    vc__tz *z = *victim;
    *victim = z->next;
    vc__tz_free(z);
    c->n--;
  }
  return 1;
}

int vc__tz_acquire(const vc__tz **out, vc_ctx *ctx, const char *name)
{
  struct vc__tz_cache *c = ctx->tzs;
  vc__tz *z, *loaded;
  int rc;

  *out = NULL;
  if ((rc = check_name(name)) < 0)
    return rc;
  pthread_mutex_lock(&c->lock);
  z = cache_find(c, name);
  pthread_mutex_unlock(&c->lock);
  if (z != NULL) {
    *out = z;
    return 0;
  }
  /* Read the file with the lock released; another thread may have
   * cached the same zone meanwhile. */
  if ((rc = load(&loaded, name)) < 0)
    return rc;
  pthread_mutex_lock(&c->lock);
  if ((z = cache_find(c, name)) != NULL) {
    pthread_mutex_unlock(&c->lock);
    vc__tz_free(loaded);
    *out = z;
    return 0;
  }
  loaded->refs = 1;
  loaded->used = ++c->tick;
  if (c->n < VC__TZ_CACHE_MAX || cache_evict(c)) {
    loaded->cached = 1;
    loaded->next = c->head;
    c->head = loaded;
    c->n++;
  }
  pthread_mutex_unlock(&c->lock);
  *out = loaded;
  return 0;
}

void vc__tz_release(vc_ctx *ctx, const vc__tz *cz)
{
  struct vc__tz_cache *c = ctx->tzs;
  vc__tz *z = (vc__tz *)cz;
  int drop;

  if (z == NULL)
    return;
  pthread_mutex_lock(&c->lock);
  drop = --z->refs == 0 && !z->cached;
  pthread_mutex_unlock(&c->lock);
  if (drop)
    vc__tz_free(z);
}
