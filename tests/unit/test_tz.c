/*
 * Time zones read from the system zoneinfo.
 *
 * Expected values were computed independently with Python 3.11's
 * zoneinfo over the same /usr/share/zoneinfo files, e.g.
 *   datetime.fromtimestamp(1772953200, ZoneInfo("America/New_York"))
 *   int(datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo(...), fold=0)
 *       .timestamp())
 * and transitions found by bisecting utcoffset(); several were checked
 * with GNU date, e.g. TZ=Australia/Lord_Howe date -d @1791041400
 * (2026-10-04 02:30:00 +1100) and TZ=America/New_York
 * date -d '2100-03-14 03:00' +%s (4108690800).
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/tz.h"
#include "harness.h"

#include <pthread.h>
#include <sys/stat.h>

/* Without zoneinfo there is nothing to test: skip (meson's code 77). */
__attribute__((constructor)) static void need_zoneinfo(void)
{
  struct stat st;

  if (stat("/usr/share/zoneinfo/America/New_York", &st) != 0) {
    fprintf(stderr, "SKIP: /usr/share/zoneinfo is absent (install the "
                    "tzdata package)\n");
    exit(77);
  }
}

static vc_ctx *open_ctx(void)
{
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("tz.db"), NULL));
  o.store = store;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  return ctx;
}

typedef struct local_case {
  int64_t epoch;                 /* seconds */
  int y, mo, d, h, mi, s;
  int32_t utoff;
  int isdst, wday;
} local_case;

static void check_local(const vc__tz *z, const local_case *c)
{
  vc__tm tm;

  vc__tz_local(&tm, z, c->epoch * 1000 + 250);
  if (tm.year != c->y || tm.month != c->mo || tm.day != c->d ||
      tm.hour != c->h || tm.min != c->mi || tm.sec != c->s ||
      tm.utoff != c->utoff || tm.isdst != c->isdst || tm.wday != c->wday ||
      tm.ms != 250)
    fprintf(stderr, "  %s @%lld: got %04d-%02d-%02d %02d:%02d:%02d %d %d "
            "wday %d\n", vc__tz_name(z), (long long)c->epoch, tm.year,
            tm.month, tm.day, tm.hour, tm.min, tm.sec, (int)tm.utoff,
            tm.isdst, tm.wday);
  CHECK(tm.year == c->y && tm.month == c->mo && tm.day == c->d);
  CHECK(tm.hour == c->h && tm.min == c->mi && tm.sec == c->s);
  CHECK(tm.utoff == c->utoff && tm.isdst == c->isdst);
  CHECK(tm.wday == c->wday && tm.ms == 250);
}

static int64_t to_utc(const vc__tz *z, int y, int mo, int d, int h, int mi)
{
  vc__tm tm;

  memset(&tm, 0, sizeof(tm));
  tm.year = y;
  tm.month = mo;
  tm.day = d;
  tm.hour = h;
  tm.min = mi;
  return vc__tz_to_utc(z, &tm) / 1000;
}

static void test_tz__new_york(void)
{
  /* Python weekday() is Monday = 0; these wday are Sunday = 0. */
  static const local_case cases[] = {
    { 1772953199, 2026, 3, 8, 1, 59, 59, -18000, 0, 0 },
    { 1772953200, 2026, 3, 8, 3, 0, 0, -14400, 1, 0 },
    { 1793512799, 2026, 11, 1, 1, 59, 59, -14400, 1, 0 },
    { 1793512800, 2026, 11, 1, 1, 0, 0, -18000, 0, 0 },
    { 1780000000, 2026, 5, 28, 16, 26, 40, -14400, 1, 4 },
  };
  vc_ctx *ctx = open_ctx();
  const vc__tz *z;

  CHECK_OK(vc__tz_acquire(&z, ctx, "America/New_York"));
  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++)
    check_local(z, &cases[i]);
  CHECK(to_utc(z, 2026, 5, 28, 16, 26) == 1780000000 - 40);
  /* Spring forward: 02:30 does not exist; the gap ends at 07:00 UTC. */
  CHECK(to_utc(z, 2026, 3, 8, 2, 0) == 1772953200);
  CHECK(to_utc(z, 2026, 3, 8, 2, 30) == 1772953200);
  CHECK(to_utc(z, 2026, 3, 8, 3, 0) == 1772953200);
  CHECK(to_utc(z, 2026, 3, 8, 1, 59) == 1772953200 - 60);
  /* Fall back: 01:30 happens twice; the earlier (EDT) is taken. */
  CHECK(to_utc(z, 2026, 11, 1, 1, 30) == 1793511000);
  CHECK(to_utc(z, 2026, 11, 1, 2, 0) == 1793512800 + 3600);
  /* Next local midnight, on the short day and the long one. */
  CHECK(vc__tz_next_midnight(z, 1772953200000LL) == 1773028800000LL);
  CHECK(vc__tz_next_midnight(z, 1793512800000LL) == 1793595600000LL);
  vc__tz_release(ctx, z);
  vc_ctx_free(ctx);
}

static void test_tz__london(void)
{
  static const local_case cases[] = {
    { 1774745999, 2026, 3, 29, 0, 59, 59, 0, 0, 0 },
    { 1774746000, 2026, 3, 29, 2, 0, 0, 3600, 1, 0 },
    { 1792889999, 2026, 10, 25, 1, 59, 59, 3600, 1, 0 },
    { 1792890000, 2026, 10, 25, 1, 0, 0, 0, 0, 0 },
  };
  vc_ctx *ctx = open_ctx();
  const vc__tz *z;

  CHECK_OK(vc__tz_acquire(&z, ctx, "Europe/London"));
  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++)
    check_local(z, &cases[i]);
  CHECK(to_utc(z, 2026, 3, 29, 1, 30) == 1774746000);
  CHECK(to_utc(z, 2026, 10, 25, 1, 30) == 1792888200);
  vc__tz_release(ctx, z);
  vc_ctx_free(ctx);
}

static void test_tz__kolkata(void)
{
  static const local_case cases[] = {
    { 0, 1970, 1, 1, 5, 30, 0, 19800, 0, 4 },
    { -1, 1970, 1, 1, 5, 29, 59, 19800, 0, 4 },
    { 1780000000, 2026, 5, 29, 1, 56, 40, 19800, 0, 5 },
  };
  vc_ctx *ctx = open_ctx();
  const vc__tz *z;

  CHECK_OK(vc__tz_acquire(&z, ctx, "Asia/Kolkata"));
  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++)
    check_local(z, &cases[i]);
  CHECK(to_utc(z, 1970, 1, 1, 5, 30) == 0);
  CHECK(to_utc(z, 2026, 5, 29, 1, 56) == 1780000000 - 40);
  /* 2026-05-29 00:00 IST = 2026-05-28 18:30 UTC. */
  CHECK(vc__tz_next_midnight(z, 1780000000000LL - 86400000LL) ==
        (1780000000LL - 40 - 3600 - 56 * 60) * 1000);
  vc__tz_release(ctx, z);
  vc_ctx_free(ctx);
}

static void test_tz__lord_howe(void)
{
  /* Half-hour DST: +10:30 standard, +11 summer. */
  static const local_case cases[] = {
    { 1775314799, 2026, 4, 5, 1, 59, 59, 39600, 1, 0 },
    { 1775314800, 2026, 4, 5, 1, 30, 0, 37800, 0, 0 },
    { 1791041399, 2026, 10, 4, 1, 59, 59, 37800, 0, 0 },
    { 1791041400, 2026, 10, 4, 2, 30, 0, 39600, 1, 0 },
  };
  vc_ctx *ctx = open_ctx();
  const vc__tz *z;

  CHECK_OK(vc__tz_acquire(&z, ctx, "Australia/Lord_Howe"));
  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++)
    check_local(z, &cases[i]);
  CHECK(to_utc(z, 2026, 10, 4, 2, 15) == 1791041400);        /* gap */
  CHECK(to_utc(z, 2026, 4, 5, 1, 45) == 1775313900);         /* overlap */
  vc__tz_release(ctx, z);
  vc_ctx_free(ctx);
}

static void test_tz__footer_rule(void)
{
  /* Far past any transition a file lists: the footer's POSIX rule. */
  static const local_case ny[] = {
    { 4111084800, 2100, 4, 10, 20, 0, 0, -14400, 1, 6 },
    { 4151260800, 2101, 7, 19, 20, 0, 0, -14400, 1, 2 },
    { 10413792000, 2299, 12, 31, 19, 0, 0, -18000, 0, 0 },
  };
  vc_ctx *ctx = open_ctx();
  const vc__tz *z, *lh;

  CHECK_OK(vc__tz_acquire(&z, ctx, "America/New_York"));
  for (size_t i = 0; i < VC_ARRAY_SIZE(ny); i++)
    check_local(z, &ny[i]);
  CHECK(to_utc(z, 2100, 3, 14, 2, 30) == 4108690800);        /* gap */
  CHECK(to_utc(z, 2100, 3, 14, 3, 0) == 4108690800);
  CHECK(to_utc(z, 2100, 11, 7, 1, 30) == 4129250400 - 1800); /* overlap */
  /* A southern rule: DST from October to April. */
  CHECK_OK(vc__tz_acquire(&lh, ctx, "Australia/Lord_Howe"));
  CHECK(to_utc(lh, 2100, 10, 3, 2, 10) == 4126174200);
  CHECK(to_utc(lh, 2100, 4, 4, 1, 45) == 4110447600 - 900);
  vc__tz_release(ctx, lh);
  vc__tz_release(ctx, z);
  vc_ctx_free(ctx);
}

static void test_tz__midnight_gap(void)
{
  /* America/Santiago springs forward at 24:00: 2026-09-06 00:00 never
   * happens; that day starts at 01:00 -03 (1788667200). */
  vc_ctx *ctx = open_ctx();
  const vc__tz *z;
  vc__tm tm;

  CHECK_OK(vc__tz_acquire(&z, ctx, "America/Santiago"));
  CHECK(vc__tz_next_midnight(z, 1788667200000LL - 12 * 3600000LL) ==
        1788667200000LL);
  vc__tz_local(&tm, z, 1788667200000LL);
  CHECK(tm.day == 6 && tm.hour == 1 && tm.utoff == -10800);
  vc__tz_release(ctx, z);
  vc_ctx_free(ctx);
}

static void test_tz__names(void)
{
  static const char *const bad[] = {
    "", "../etc/passwd", "/etc/localtime", "America/../UTC", "Europe/",
    "Europe//London", "Foo/Bar", "America", "zone.tab", "UTC ",
    "Asia/Kolkata\n", "Europe/Lon don", "localtime",
    "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  };
  static const char *const good[] = {
    "UTC", "Etc/GMT+5", "Etc/GMT-14", "America/Argentina/Buenos_Aires",
    "America/Port-au-Prince", "Asia/Kolkata",
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    CHECK_RC(vc__tz_check(bad[i]), VC_EINVALID);
    CHECK(strstr(vc_error_last()->message, "timezone") != NULL);
  }
  CHECK_RC(vc__tz_check(NULL), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "unknown zone") == NULL);
  CHECK_RC(vc__tz_check("Foo/Bar"), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "unknown zone") != NULL);
  for (size_t i = 0; i < VC_ARRAY_SIZE(good); i++)
    CHECK_OK(vc__tz_check(good[i]));
}

static void test_tz__bad_files(void)
{
  unsigned char buf[128];
  vc__tz *z = NULL;

  memset(buf, 0, sizeof(buf));
  CHECK_RC(vc__tz_parse(&z, "x", buf, sizeof(buf)), VC_EINVALID);
  memcpy(buf, "TZif2", 5);
  /* Counts claim more than the file holds. */
  buf[35] = 200;   /* timecnt */
  buf[39] = 1;     /* typecnt */
  buf[43] = 4;     /* charcnt */
  CHECK_RC(vc__tz_parse(&z, "x", buf, sizeof(buf)), VC_EINVALID);
  CHECK_RC(vc__tz_parse(&z, "x", buf, 20), VC_EINVALID);
  /* A minimal v1 file: one type, no transitions, UTC. */
  memset(buf, 0, sizeof(buf));
  memcpy(buf, "TZif", 4);
  buf[39] = 1;
  buf[43] = 4;
  memcpy(buf + 44 + 6, "UTC", 4);
  CHECK_OK(vc__tz_parse(&z, "mini", buf, 44 + 6 + 4));
  {
    vc__tm tm;
    vc__tz_local(&tm, z, 86400000LL);
    CHECK(tm.day == 2 && tm.hour == 0 && tm.utoff == 0);
  }
  vc__tz_free(z);
  /* A type pointing past the abbreviations. */
  buf[44 + 5] = 9;
  CHECK_RC(vc__tz_parse(&z, "mini", buf, 44 + 6 + 4), VC_EINVALID);
  buf[44 + 5] = 0;
  /* More transitions than the limit, and a file over the size limit. */
  buf[34] = (VC__TZ_TRANSITIONS_MAX + 1) >> 8 & 0xff;
  buf[35] = (VC__TZ_TRANSITIONS_MAX + 1) & 0xff;
  CHECK_RC(vc__tz_parse(&z, "mini", buf, 44 + 6 + 4), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "out of range") != NULL);
  {
    unsigned char *big = calloc(1, VC__TZ_FILE_MAX + 1);
    CHECK(big != NULL);
    memcpy(big, buf, 44 + 6 + 4);
    big[34] = big[35] = 0;
    CHECK_OK(vc__tz_parse(&z, "mini", big, VC__TZ_FILE_MAX));
    vc__tz_free(z);
    CHECK_RC(vc__tz_parse(&z, "mini", big, VC__TZ_FILE_MAX + 1),
             VC_EINVALID);
    CHECK(strstr(vc_error_last()->message, "too large") != NULL);
    free(big);
  }
}

/* ---- the cache under threads ------------------------------------------- */

static const char *const zones[] = {
  "America/New_York", "Europe/London", "Asia/Kolkata",
  "Australia/Lord_Howe", "America/Chicago", "America/Denver",
  "America/Los_Angeles", "America/Sao_Paulo", "America/Santiago",
  "America/Mexico_City", "America/Toronto", "America/Havana",
  "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Moscow",
  "Europe/Dublin", "Europe/Lisbon", "Africa/Cairo", "Africa/Lagos",
  "Africa/Johannesburg", "Asia/Tokyo", "Asia/Shanghai", "Asia/Dubai",
  "Asia/Kathmandu", "Asia/Tehran", "Asia/Singapore", "Asia/Karachi",
  "Australia/Sydney", "Australia/Adelaide", "Pacific/Auckland",
  "Pacific/Chatham", "Pacific/Apia", "Atlantic/Azores", "UTC",
  "Etc/GMT+5", "Etc/GMT-14", "America/St_Johns", "Asia/Dhaka",
  "Pacific/Honolulu",
};

typedef struct worker {
  vc_ctx *ctx;
  int seed, errors;
} worker;

static void *work(void *arg)
{
  worker *w = arg;

  for (int i = 0; i < 400; i++) {
    const char *name = zones[(size_t)(i * 7 + w->seed) % VC_ARRAY_SIZE(zones)];
    const vc__tz *z;
    vc__tm tm;
    if (vc__tz_acquire(&z, w->ctx, name) < 0) {
      w->errors++;
      continue;
    }
    if (strcmp(vc__tz_name(z), name) != 0)
      w->errors++;
    vc__tz_local(&tm, z, 1780000000000LL);
    if (strcmp(name, "Asia/Kolkata") == 0 && tm.utoff != 19800)
      w->errors++;
    if (strcmp(name, "America/New_York") == 0 && tm.utoff != -14400)
      w->errors++;
    vc__tz_release(w->ctx, z);
  }
  return NULL;
}

static void test_tz__cache_threads(void)
{
  vc_ctx *ctx = open_ctx();
  pthread_t th[6];
  worker w[6];
  const vc__tz *a, *b;

  /* More zones than the cache holds: entries are evicted and reloaded
   * while others are held. */
  CHECK(VC_ARRAY_SIZE(zones) > VC__TZ_CACHE_MAX);
  for (int i = 0; i < 6; i++) {
    w[i].ctx = ctx;
    w[i].seed = i * 5;
    w[i].errors = 0;
    CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0);
  }
  for (int i = 0; i < 6; i++) {
    pthread_join(th[i], NULL);
    CHECK(w[i].errors == 0);
  }
  /* A held zone is shared, not parsed again. */
  CHECK_OK(vc__tz_acquire(&a, ctx, "Asia/Kolkata"));
  CHECK_OK(vc__tz_acquire(&b, ctx, "Asia/Kolkata"));
  CHECK(a == b);
  vc__tz_release(ctx, a);
  vc__tz_release(ctx, b);
  CHECK_RC(vc__tz_acquire(&a, ctx, "Nowhere/Land"), VC_EINVALID);
  CHECK(a == NULL);
  vc_ctx_free(ctx);
}

static void test_tz__civil(void)
{
  int64_t y;
  int m, d;

  CHECK(vc__days_from_civil(1970, 1, 1) == 0);
  CHECK(vc__days_from_civil(2000, 3, 1) == 11017);
  CHECK(vc__days_from_civil(1969, 12, 31) == -1);
  vc__civil_from_days(-1, &y, &m, &d);
  CHECK(y == 1969 && m == 12 && d == 31);
  vc__civil_from_days(vc__days_from_civil(2024, 2, 29), &y, &m, &d);
  CHECK(y == 2024 && m == 2 && d == 29);
}

VC_TESTS(
  VC_TEST(test_tz__new_york),
  VC_TEST(test_tz__london),
  VC_TEST(test_tz__kolkata),
  VC_TEST(test_tz__lord_howe),
  VC_TEST(test_tz__footer_rule),
  VC_TEST(test_tz__midnight_gap),
  VC_TEST(test_tz__names),
  VC_TEST(test_tz__bad_files),
  VC_TEST(test_tz__cache_threads),
  VC_TEST(test_tz__civil),
)
