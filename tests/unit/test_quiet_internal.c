/*
 * The quiet-hour rules with a contact's settings given directly (the
 * contacts part reads them from the store): override, timezone, none;
 * and the window's bounds across clock changes.
 *
 * Instants were computed with Python 3.11's zoneinfo, e.g.
 *   int(datetime(2026, 11, 1, 1, 10, tzinfo=ZoneInfo("America/New_York"),
 *                fold=1).timestamp()) * 1000      -> 1793513400000
 * (fold=1: the second 01:10, in EST).
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/tenant.h"
#include "msg/quiet.h"
#include "harness.h"

#include <sys/stat.h>

__attribute__((constructor)) static void need_zoneinfo(void)
{
  struct stat st;

  if (stat("/usr/share/zoneinfo/America/New_York", &st) != 0) {
    fprintf(stderr, "SKIP: /usr/share/zoneinfo is absent (install the "
                    "tzdata package)\n");
    exit(77);
  }
}

/* America/New_York */
#define JUN10_2059 1781139540000LL
#define JUN10_2100 1781139600000LL
#define JUN10_2300 1781146800000LL
#define JUN11_0100 1781154000000LL
#define JUN11_0800 1781179200000LL
#define MAR07_2200 1772938800000LL
#define MAR08_0800 1772971200000LL   /* EDT */
#define MAR08_0159 1772953140000LL
#define MAR08_GAP 1772953200000LL    /* 02:00 EST = 03:00 EDT */
#define MAR08_0310 1772953800000LL
#define MAR08_0600 1772964000000LL
#define OCT31_2200 1793498400000LL
#define NOV01_0800 1793538000000LL   /* EST */
#define NOV01_0110_EDT 1793509800000LL
#define NOV01_0130_EDT 1793511000000LL
#define NOV01_0140_EDT 1793511600000LL
#define NOV01_0110_EST 1793513400000LL
#define NOV01_0500 1793527200000LL
/* Asia/Kolkata, Europe/London */
#define KOL_JUN10_2200 1781109000000LL
#define KOL_JUN11_0800 1781145000000LL
#define LON_JUN11_0900 1781164800000LL

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
} env;

static void env_open(env *e, int qs, int qe)
{
  vc_store *store = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("q.db"), NULL));
  o.store = store;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  s.slug = "acme";
  s.timezone = "America/New_York";
  s.quiet_start_min = qs;
  s.quiet_end_min = qe;
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &s));
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

static void set_window(env *e, int qs, int qe)
{
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;

  s.quiet_start_min = qs;
  s.quiet_end_min = qe;
  s.quiet_exempt_categories = VC_QUIET_EXEMPT_KEEP;
  CHECK_OK(vc_tenant_update(e->t, &s));
}

static int64_t open_at(env *e, const vc__contact_prefs *p, int category,
                       int64_t at)
{
  int64_t out = -1;

  CHECK_OK(vc__quiet_open_for(&out, e->t, p, category, at));
  return out;
}

static void prefs(vc__contact_prefs *p, const char *tz, int qs, int qe)
{
  memset(p, 0, sizeof(*p));
  snprintf(p->timezone, sizeof(p->timezone), "%s", tz);
  p->quiet_start_min = qs;
  p->quiet_end_min = qe;
}

#define TX VC_CATEGORY_TRANSACTIONAL

static void test_quiet__tenant_window(void)
{
  env e;

  env_open(&e, 21 * 60, 8 * 60);
  CHECK(open_at(&e, NULL, TX, JUN10_2059) == JUN10_2059);
  CHECK(open_at(&e, NULL, TX, JUN10_2100) == JUN11_0800);
  CHECK(open_at(&e, NULL, TX, JUN10_2300) == JUN11_0800);
  CHECK(open_at(&e, NULL, TX, JUN11_0100) == JUN11_0800);   /* wrapped */
  CHECK(open_at(&e, NULL, TX, JUN11_0800) == JUN11_0800);   /* [s, e) */
  CHECK(open_at(&e, NULL, TX, JUN11_0800 - 1) == JUN11_0800);
  CHECK(open_at(&e, NULL, VC_CATEGORY_MARKETING, JUN10_2300) == JUN11_0800);
  CHECK(open_at(&e, NULL, VC_CATEGORY_OTP, JUN10_2300) == JUN10_2300);
  /* A window inside one day. */
  set_window(&e, 0, 8 * 60);
  CHECK(open_at(&e, NULL, TX, JUN10_2300) == JUN10_2300);
  CHECK(open_at(&e, NULL, TX, JUN11_0100) == JUN11_0800);
  env_close(&e);
}

static void test_quiet__dst_nights(void)
{
  env e;

  env_open(&e, 21 * 60, 8 * 60);
  /* The window ends at 08:00 local: from 22:00 that is 9 h of UTC on
   * the short night and 11 on the long one (10 on an ordinary night). */
  CHECK(open_at(&e, NULL, TX, MAR07_2200) == MAR08_0800);
  CHECK(MAR08_0800 - MAR07_2200 == 9 * 3600000LL);
  CHECK(open_at(&e, NULL, TX, OCT31_2200) == NOV01_0800);
  CHECK(NOV01_0800 - OCT31_2200 == 11 * 3600000LL);
  env_close(&e);
}

static void test_quiet__start_in_gap(void)
{
  env e;

  /* 02:30 does not exist on 2026-03-08: the window starts at 03:00 EDT. */
  env_open(&e, 2 * 60 + 30, 6 * 60);
  CHECK(open_at(&e, NULL, TX, MAR08_0159) == MAR08_0159);
  CHECK(open_at(&e, NULL, TX, MAR08_GAP - 1) == MAR08_GAP - 1);
  CHECK(open_at(&e, NULL, TX, MAR08_GAP) == MAR08_0600);
  CHECK(open_at(&e, NULL, TX, MAR08_0310) == MAR08_0600);
  env_close(&e);
}

static void test_quiet__repeated_hour(void)
{
  env e;

  /* A window starting at 01:30 starts at the first 01:30 (EDT) and
   * covers the repeated hour. */
  env_open(&e, 90, 5 * 60);
  CHECK(open_at(&e, NULL, TX, NOV01_0110_EDT) == NOV01_0110_EDT);
  CHECK(open_at(&e, NULL, TX, NOV01_0140_EDT) == NOV01_0500);
  CHECK(open_at(&e, NULL, TX, NOV01_0110_EST) == NOV01_0500);
  /* A window ending at 01:30 ends at the first 01:30 and does not come
   * back in the repeated hour. */
  set_window(&e, 21 * 60, 90);
  CHECK(open_at(&e, NULL, TX, NOV01_0110_EDT) == NOV01_0130_EDT);
  CHECK(open_at(&e, NULL, TX, NOV01_0140_EDT) == NOV01_0140_EDT);
  CHECK(open_at(&e, NULL, TX, NOV01_0110_EST) == NOV01_0110_EST);
  env_close(&e);
}

static void test_quiet__contact(void)
{
  vc__contact_prefs p;
  env e;

  env_open(&e, 21 * 60, 8 * 60);
  /* The tenant's window in the contact's zone. */
  prefs(&p, "Asia/Kolkata", VC_TENANT_KEEP, VC_TENANT_KEEP);
  CHECK(open_at(&e, &p, TX, KOL_JUN10_2200) == KOL_JUN11_0800);
  CHECK(open_at(&e, NULL, TX, KOL_JUN10_2200) == KOL_JUN10_2200);
  /* The contact's own window, in its zone. */
  prefs(&p, "Europe/London", 0, 9 * 60);
  CHECK(open_at(&e, &p, TX, LON_JUN11_0900 - 3600000) == LON_JUN11_0900);
  CHECK(open_at(&e, &p, TX, JUN10_2300) == LON_JUN11_0900); /* 04:00 BST */
  CHECK(open_at(&e, &p, TX, LON_JUN11_0900) == LON_JUN11_0900);
  /* The contact's own window in the tenant's zone. */
  prefs(&p, "", 22 * 60, 23 * 60 + 30);
  CHECK(open_at(&e, &p, TX, JUN10_2300) == JUN10_2300 + 1800000);
  CHECK(open_at(&e, &p, TX, JUN11_0100) == JUN11_0100);
  /* None for this contact. */
  prefs(&p, "Asia/Kolkata", VC_QUIET_NONE, VC_QUIET_NONE);
  CHECK(open_at(&e, &p, TX, JUN10_2300) == JUN10_2300);
  /* A zone the system does not know: the tenant's. */
  prefs(&p, "Mars/Olympus", VC_TENANT_KEEP, VC_TENANT_KEEP);
  CHECK(open_at(&e, &p, TX, JUN10_2300) == JUN11_0800);
  /* OTP is exempt whatever the contact says. */
  prefs(&p, "", 0, 1439);
  CHECK(open_at(&e, &p, VC_CATEGORY_OTP, JUN10_2300) == JUN10_2300);
  env_close(&e);
}

static void test_quiet__tenant_none(void)
{
  vc__contact_prefs p;
  env e;

  env_open(&e, VC_QUIET_NONE, VC_QUIET_NONE);
  CHECK(open_at(&e, NULL, TX, JUN10_2300) == JUN10_2300);
  prefs(&p, "", VC_TENANT_KEEP, VC_TENANT_KEEP);
  CHECK(open_at(&e, &p, TX, JUN10_2300) == JUN10_2300);
  /* A contact may still ask for quiet hours of its own. */
  prefs(&p, "", 21 * 60, 8 * 60);
  CHECK(open_at(&e, &p, TX, JUN10_2300) == JUN11_0800);
  env_close(&e);
}

static void test_quiet__unknown_tenant_zone(void)
{
  vc_tenant *t;
  vc__db *db;
  int64_t out;
  env e;

  /* A row from before timezones were checked. */
  env_open(&e, 21 * 60, 8 * 60);
  CHECK_OK(vc__db_acquire(&db, e.ctx->store));
  CHECK_OK(vc__db_run(db, "UPDATE vc_tenant SET timezone = 'Old/Gone'",
                      ""));
  vc__db_release(db);
  CHECK_OK(vc_tenant_lookup(&t, e.ctx, "acme"));
  CHECK_RC(vc__quiet_open_for(&out, t, NULL, TX, JUN10_2300), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "Old/Gone") != NULL);
  /* Exempt categories and "none" need no zone. */
  CHECK_OK(vc__quiet_open_for(&out, t, NULL, VC_CATEGORY_OTP, JUN10_2300));
  CHECK(out == JUN10_2300);
  vc_tenant_free(t);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_quiet__tenant_window),
  VC_TEST(test_quiet__dst_nights),
  VC_TEST(test_quiet__start_in_gap),
  VC_TEST(test_quiet__repeated_hour),
  VC_TEST(test_quiet__contact),
  VC_TEST(test_quiet__tenant_none),
  VC_TEST(test_quiet__unknown_tenant_zone),
)
