/*
 * Quiet hours. A window is two local wall-clock minutes, [start, end),
 * wrapping past midnight when end <= start. Each night's window is
 * turned into instants with the zone's rules (core/tz.h): a bound in a
 * spring-forward gap is the first instant after the gap, one in a
 * fall-back overlap the earlier instant. So a window ending at 08:00
 * ends at 08:00 local whatever the offset did overnight, and a window
 * that ended during the first pass of a repeated hour stays ended.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/tenant.h"
#include "core/tz.h"
#include "contact.h"
#include "quiet.h"

/* The window of the local day `back` days before `now`'s: its instants. */
static void window_of(const vc__tz *z, const vc__tm *now, int back, int qs,
                      int qe, int64_t *start, int64_t *end)
{
  vc__tm tm;

  memset(&tm, 0, sizeof(tm));
  tm.year = now->year;
  tm.month = now->month;
  tm.day = now->day - back;
  tm.hour = qs / 60;
  tm.min = qs % 60;
  *start = vc__tz_to_utc(z, &tm);
  tm.day += qe <= qs;
  tm.hour = qe / 60;
  tm.min = qe % 60;
  *end = vc__tz_to_utc(z, &tm);
}

/* The end of the window holding `at`, or `at` outside any. */
static int64_t open_after(const vc__tz *z, int qs, int qe, int64_t at)
{
  vc__tm now;

  vc__tz_local(&now, z, at);
  /* Yesterday's window may reach into today when it wraps. */
  for (int back = 1; back >= 0; back--) {
    int64_t s, e;
    window_of(z, &now, back, qs, qe, &s, &e);
    if (s <= at && at < e)
      return e;
  }
  return at;
}

static int window_valid(int qs, int qe)
{
  return qs >= 0 && qs < 1440 && qe >= 0 && qe < 1440 && qs != qe;
}

/* The contact's own settings, on `db` or a connection of our own. */
static int prefs_get(vc__contact_prefs *p, vc__db *db, vc_ctx *ctx,
                     const char *tenant_id, const char *contact_id)
{
  vc__db *own = NULL;
  int rc;

  if (db == NULL) {
    if ((rc = vc__db_acquire(&own, ctx->store)) < 0)
      return rc;
    db = own;
  }
  rc = vc__contact_prefs_get(p, db, tenant_id, contact_id);
  if (own != NULL)
    vc__db_release(own);
  return rc;
}

int vc__quiet_next_open(int64_t *open_at, vc__db *db, vc_tenant *t,
                        const char *contact_id, int category, int64_t at)
{
  vc__contact_prefs prefs;
  unsigned int exempt = 0;
  int rc;

  *open_at = at;
  vc_tenant_quiet_exempt_categories(t, &exempt);
  if (category > 0 && category < 32 && (exempt & (1u << category)) != 0)
    return 0;
  if (contact_id == NULL || contact_id[0] == '\0')
    return vc__quiet_open_for(open_at, t, NULL, category, at);
  if ((rc = prefs_get(&prefs, db, vc__tenant_ctx(t), vc_tenant_id(t),
                      contact_id)) < 0)
    return rc;
  return vc__quiet_open_for(open_at, t, &prefs, category, at);
}

int vc__quiet_open_for(int64_t *open_at, vc_tenant *t,
                       const vc__contact_prefs *prefs, int category,
                       int64_t at)
{
  vc_ctx *ctx = vc__tenant_ctx(t);
  const char *tz_name = vc_tenant_timezone(t);
  const vc__tz *z = NULL;
  unsigned int exempt = 0;
  int qs, qe, rc;

  *open_at = at;
  vc_tenant_quiet_exempt_categories(t, &exempt);
  if (category > 0 && category < 32 && (exempt & (1u << category)) != 0)
    return 0;
  vc_tenant_quiet_hours(t, &qs, &qe);
  if (prefs != NULL) {
    if (prefs->quiet_start_min != VC_TENANT_KEEP) {
      qs = prefs->quiet_start_min;
      qe = prefs->quiet_end_min;
    }
    if (prefs->timezone[0] != '\0' && window_valid(qs, qe) &&
        vc__tz_acquire(&z, ctx, prefs->timezone) < 0) {
      /* A contact's zone the system no longer knows: the tenant's. */
      VC_LOG(ctx, VC_LOG_WARN, "%s; quiet hours use the tenant's "
             "timezone", vc_error_last()->message);
      vc_error_clear();
      z = NULL;
    }
  }
  if (!window_valid(qs, qe)) {
    vc__tz_release(ctx, z);
    return 0; /* VC_QUIET_NONE */
  }
  if (z == NULL && (rc = vc__tz_acquire(&z, ctx, tz_name)) < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "quiet hours: tenant %s", vc_error_last()->message);
  /* One window ends where no other starts, but a window of nearly a
   * day may meet the next one across a clock change: go on past it. */
  for (int i = 0; i < 3; i++) {
    int64_t next = open_after(z, qs, qe, *open_at);
    if (next == *open_at)
      break;
    *open_at = next;
  }
  vc__tz_release(ctx, z);
  return 0;
}
