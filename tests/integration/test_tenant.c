/*
 * Tenants through the public API only, on an SQLite file on disk:
 * create, lookup, getters, defaults, update, soft delete, listing with a
 * cursor, bad input, nothing half-written, events and isolation.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <sqlite3.h>

/* ---- helpers ------------------------------------------------------ */

#define DB_NAME "tenant.db"

static vc_ctx *open_ctx(void)
{
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  int rc;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(DB_NAME), NULL));
  o.store = store;
  rc = vc_ctx_new(&ctx, &o);
  if (rc != 0)
    vc_store_free(store);
  CHECK_OK(rc);
  return ctx;
}

/* The last failure on this thread has `code` and a one-line message. */
static int error_is(int code)
{
  const vc_error *e = vc_error_last();

  if (e == NULL || e->code != code || e->message == NULL ||
      e->message[0] == '\0' || strchr(e->message, '\n') != NULL) {
    fprintf(stderr, "  error detail: code %d (wanted %d), message '%s'\n",
            e ? e->code : 0, code, e && e->message ? e->message : "(null)");
    return 0;
  }
  return 1;
}

/* A call fails with `code`, and vc_error_last() agrees. */
#define CHECK_FAIL(call, code)                                          \
  do {                                                                  \
    vc_error_clear();                                                   \
    CHECK_RC(call, code);                                               \
    CHECK(error_is(code));                                              \
  } while (0)

static int64_t sql_count(const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int64_t n = -1;

  if (sqlite3_open_v2(vc_test_path(DB_NAME), &db, SQLITE_OPEN_READONLY,
                      NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static vc_tenant *new_tenant(vc_ctx *ctx, const char *slug)
{
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;

  s.slug = slug;
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  CHECK(t != NULL);
  return t;
}

static int is_json_object(const char *s)
{
  size_t n = s ? strlen(s) : 0;

  return n >= 2 && s[0] == '{' && s[n - 1] == '}';
}

/* ---- cases -------------------------------------------------------- */

static void test_tenant__create_and_lookup(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL, *by_slug = NULL, *by_id = NULL;
  int qs = 0, qe = 0;
  char id[VC_ID_SIZE];

  s.slug = "acme-corp_1";
  s.name = "Acme Corp \xc3\xa9\xe2\x82\xac"; /* é€ */
  s.timezone = "Asia/Kolkata";
  s.locale = "en-IN";
  s.currency = "INR";
  s.quiet_start_min = 21 * 60;
  s.quiet_end_min = 8 * 60;
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  CHECK(t != NULL);
  CHECK(strlen(vc_tenant_id(t)) == VC_ID_SIZE - 1);
  snprintf(id, sizeof(id), "%s", vc_tenant_id(t));
  CHECK_STR(vc_tenant_slug(t), "acme-corp_1");
  CHECK_STR(vc_tenant_name(t), "Acme Corp \xc3\xa9\xe2\x82\xac");
  CHECK_STR(vc_tenant_timezone(t), "Asia/Kolkata");
  CHECK_STR(vc_tenant_locale(t), "en-IN");
  CHECK_STR(vc_tenant_currency(t), "INR");
  CHECK_OK(vc_tenant_quiet_hours(t, &qs, &qe));
  CHECK(qs == 21 * 60 && qe == 8 * 60);
  CHECK(vc_tenant_created_at(t) > 0);
  CHECK(vc_tenant_deleted_at(t) == 0);

  CHECK_OK(vc_tenant_lookup(&by_slug, ctx, "acme-corp_1"));
  CHECK_STR(vc_tenant_id(by_slug), id);
  CHECK_STR(vc_tenant_name(by_slug), vc_tenant_name(t));
  CHECK_STR(vc_tenant_timezone(by_slug), "Asia/Kolkata");
  CHECK_STR(vc_tenant_locale(by_slug), "en-IN");
  CHECK_STR(vc_tenant_currency(by_slug), "INR");
  CHECK(vc_tenant_created_at(by_slug) == vc_tenant_created_at(t));
  qs = qe = 0;
  CHECK_OK(vc_tenant_quiet_hours(by_slug, &qs, &qe));
  CHECK(qs == 21 * 60 && qe == 8 * 60);

  CHECK_OK(vc_tenant_lookup_id(&by_id, ctx, id));
  CHECK_STR(vc_tenant_slug(by_id), "acme-corp_1");

  /* Unknown slug / id; malformed id. */
  {
    vc_tenant *none = (vc_tenant *)&none;
    CHECK_FAIL(vc_tenant_lookup(&none, ctx, "nobody"), VC_ENOTFOUND);
    CHECK(none == NULL);
    none = (vc_tenant *)&none;
    CHECK_FAIL(vc_tenant_lookup_id(&none, ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
               VC_ENOTFOUND);
    CHECK(none == NULL);
    CHECK_FAIL(vc_tenant_lookup_id(&none, ctx, "not-an-id"), VC_EINVALID);
    CHECK_FAIL(vc_tenant_lookup_id(&none, ctx, NULL), VC_EINVALID);
    CHECK_FAIL(vc_tenant_lookup(&none, ctx, "Acme"), VC_EINVALID);
  }

  /* Getters on NULL do not crash. */
  CHECK(vc_tenant_id(NULL) == NULL);
  CHECK(vc_tenant_slug(NULL) == NULL);
  CHECK(vc_tenant_created_at(NULL) == 0);
  CHECK_FAIL(vc_tenant_quiet_hours(NULL, &qs, &qe), VC_EINVALID);

  vc_tenant_free(by_id);
  vc_tenant_free(by_slug);
  vc_tenant_free(t);
  vc_tenant_free(NULL);
  vc_ctx_free(ctx);

  /* It is all still there after a reopen. */
  ctx = open_ctx();
  CHECK_OK(vc_tenant_lookup(&t, ctx, "acme-corp_1"));
  CHECK_STR(vc_tenant_id(t), id);
  CHECK_STR(vc_tenant_currency(t), "INR");
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_tenant__defaults(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant_spec s, init = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;
  int qs = 0, qe = 0;

  CHECK_OK(vc_tenant_spec_init(&s, VC_TENANT_SPEC_VERSION));
  CHECK(s.version == init.version && s.slug == NULL && s.name == NULL &&
        s.timezone == NULL && s.locale == NULL && s.currency == NULL &&
        s.quiet_start_min == VC_QUIET_NONE &&
        s.quiet_end_min == VC_QUIET_NONE);
  CHECK_FAIL(vc_tenant_spec_init(&s, 0), VC_EVERSION);
  CHECK_FAIL(vc_tenant_spec_init(&s, 99), VC_EVERSION);
  CHECK_FAIL(vc_tenant_spec_init(NULL, VC_TENANT_SPEC_VERSION), VC_EINVALID);

  CHECK_OK(vc_tenant_spec_init(&s, VC_TENANT_SPEC_VERSION));
  s.slug = "plain";
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  CHECK_STR(vc_tenant_slug(t), "plain");
  CHECK_STR(vc_tenant_name(t), "plain");
  CHECK_STR(vc_tenant_timezone(t), "UTC");
  CHECK_STR(vc_tenant_locale(t), "en");
  CHECK_STR(vc_tenant_currency(t), "USD");
  CHECK_OK(vc_tenant_quiet_hours(t, &qs, &qe));
  CHECK(qs == VC_QUIET_NONE && qe == VC_QUIET_NONE);
  CHECK_OK(vc_tenant_quiet_hours(t, NULL, NULL));
  vc_tenant_free(t);

  /* `out` may be NULL when the handle is not wanted. */
  s.slug = "no-handle";
  CHECK_OK(vc_tenant_new(NULL, ctx, &s));
  CHECK_OK(vc_tenant_lookup(&t, ctx, "no-handle"));
  CHECK_STR(vc_tenant_name(t), "no-handle");
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_tenant__update(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t, *fresh = NULL;
  const char *old_slug, *old_name, *old_tz, *old_locale, *old_cur, *old_id;
  int qs, qe;

  s.slug = "upd";
  s.name = "Before";
  s.quiet_start_min = 60;
  s.quiet_end_min = 120;
  CHECK_OK(vc_tenant_new(&t, ctx, &s));

  /* Borrow every string before the updates. */
  old_id = vc_tenant_id(t);
  old_slug = vc_tenant_slug(t);
  old_name = vc_tenant_name(t);
  old_tz = vc_tenant_timezone(t);
  old_locale = vc_tenant_locale(t);
  old_cur = vc_tenant_currency(t);

  /* An update spec with everything "keep". */
  memset(&s, 0, sizeof(s));
  s.version = VC_TENANT_SPEC_VERSION;
  s.quiet_start_min = s.quiet_end_min = VC_TENANT_KEEP;
  CHECK_OK(vc_tenant_update(t, &s));
  CHECK_STR(vc_tenant_slug(t), "upd");
  CHECK_STR(vc_tenant_name(t), "Before");
  CHECK_OK(vc_tenant_quiet_hours(t, &qs, &qe));
  CHECK(qs == 60 && qe == 120);

  /* One field at a time; the others are kept. */
  s.name = "After";
  CHECK_OK(vc_tenant_update(t, &s));
  CHECK_STR(vc_tenant_name(t), "After");
  CHECK_STR(vc_tenant_timezone(t), "UTC");
  s.name = NULL;
  s.timezone = "America/New_York";
  CHECK_OK(vc_tenant_update(t, &s));
  CHECK_STR(vc_tenant_timezone(t), "America/New_York");
  CHECK_STR(vc_tenant_name(t), "After");
  s.timezone = NULL;
  s.locale = "fr-CA";
  CHECK_OK(vc_tenant_update(t, &s));
  CHECK_STR(vc_tenant_locale(t), "fr-CA");
  s.locale = NULL;
  s.currency = "EUR";
  CHECK_OK(vc_tenant_update(t, &s));
  CHECK_STR(vc_tenant_currency(t), "EUR");
  s.currency = NULL;
  s.slug = "upd-renamed";
  CHECK_OK(vc_tenant_update(t, &s));
  CHECK_STR(vc_tenant_slug(t), "upd-renamed");
  s.slug = NULL;
  CHECK_OK(vc_tenant_quiet_hours(t, &qs, &qe));
  CHECK(qs == 60 && qe == 120); /* KEEP kept them through all of it */

  /* Quiet hours: set (wrapping past midnight), then clear. */
  s.quiet_start_min = 1380;
  s.quiet_end_min = 0;
  CHECK_OK(vc_tenant_update(t, &s));
  CHECK_OK(vc_tenant_quiet_hours(t, &qs, &qe));
  CHECK(qs == 1380 && qe == 0);
  s.quiet_start_min = s.quiet_end_min = VC_QUIET_NONE;
  CHECK_OK(vc_tenant_update(t, &s));
  CHECK_OK(vc_tenant_quiet_hours(t, &qs, &qe));
  CHECK(qs == VC_QUIET_NONE && qe == VC_QUIET_NONE);
  /* Half "keep" is not a value. */
  s.quiet_start_min = VC_TENANT_KEEP;
  s.quiet_end_min = 100;
  CHECK_FAIL(vc_tenant_update(t, &s), VC_EINVALID);
  s.quiet_start_min = s.quiet_end_min = VC_TENANT_KEEP;

  /* The strings borrowed before the updates are still readable. */
  CHECK(strlen(old_id) == VC_ID_SIZE - 1);
  CHECK_STR(old_slug, "upd");
  CHECK_STR(old_name, "Before");
  CHECK_STR(old_tz, "UTC");
  CHECK_STR(old_locale, "en");
  CHECK_STR(old_cur, "USD");
  CHECK_STR(vc_tenant_id(t), old_id);

  /* The store has the new values. */
  {
    vc_tenant *gone = NULL;
    CHECK_FAIL(vc_tenant_lookup(&gone, ctx, "upd"), VC_ENOTFOUND);
  }
  CHECK_OK(vc_tenant_lookup(&fresh, ctx, "upd-renamed"));
  CHECK_STR(vc_tenant_name(fresh), "After");
  CHECK_STR(vc_tenant_timezone(fresh), "America/New_York");
  CHECK_STR(vc_tenant_locale(fresh), "fr-CA");
  CHECK_STR(vc_tenant_currency(fresh), "EUR");
  CHECK_OK(vc_tenant_quiet_hours(fresh, &qs, &qe));
  CHECK(qs == VC_QUIET_NONE && qe == VC_QUIET_NONE);
  vc_tenant_free(fresh);

  /* Bad update input changes nothing. */
  s.name = "\xff\xfe";
  CHECK_FAIL(vc_tenant_update(t, &s), VC_EENCODING);
  s.name = "";
  CHECK_FAIL(vc_tenant_update(t, &s), VC_EINVALID);
  s.name = NULL;
  s.currency = "eur";
  CHECK_FAIL(vc_tenant_update(t, &s), VC_EINVALID);
  s.currency = "";
  CHECK_FAIL(vc_tenant_update(t, &s), VC_EINVALID);
  s.currency = NULL;
  s.timezone = "";
  CHECK_FAIL(vc_tenant_update(t, &s), VC_EINVALID);
  s.timezone = NULL;
  s.locale = "";
  CHECK_FAIL(vc_tenant_update(t, &s), VC_EINVALID);
  s.locale = NULL;
  s.slug = "";
  CHECK_FAIL(vc_tenant_update(t, &s), VC_EINVALID);
  s.currency = NULL;
  s.slug = "Bad Slug";
  CHECK_FAIL(vc_tenant_update(t, &s), VC_EINVALID);
  s.slug = NULL;
  s.version = 0;
  CHECK_FAIL(vc_tenant_update(t, &s), VC_EVERSION);
  s.version = VC_TENANT_SPEC_VERSION;
  CHECK_FAIL(vc_tenant_update(NULL, &s), VC_EINVALID);
  CHECK_FAIL(vc_tenant_update(t, NULL), VC_EINVALID);
  CHECK_STR(vc_tenant_name(t), "After");
  CHECK_STR(vc_tenant_currency(t), "EUR");

  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_tenant__update_slug_taken(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *a = new_tenant(ctx, "alpha"), *b = new_tenant(ctx, "beta");
  vc_tenant *check = NULL;
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  int64_t updated_events;

  updated_events = sql_count(
    "SELECT COUNT(*) FROM vc_event WHERE type = 'tenant.updated'");
  CHECK(updated_events == 0);
  s.quiet_start_min = s.quiet_end_min = VC_TENANT_KEEP;
  s.slug = "alpha";
  s.name = "Would-be";
  CHECK_FAIL(vc_tenant_update(b, &s), VC_EEXISTS);
  CHECK(strstr(vc_error_last()->message, "alpha") != NULL);
  /* Nothing changed: handle, store, and no event. */
  CHECK_STR(vc_tenant_slug(b), "beta");
  CHECK_STR(vc_tenant_name(b), "beta");
  CHECK_OK(vc_tenant_lookup(&check, ctx, "beta"));
  CHECK_STR(vc_tenant_name(check), "beta");
  vc_tenant_free(check);
  CHECK_OK(vc_tenant_lookup(&check, ctx, "alpha"));
  CHECK_STR(vc_tenant_id(check), vc_tenant_id(a));
  vc_tenant_free(check);
  CHECK(sql_count("SELECT COUNT(*) FROM vc_event WHERE type = "
                  "'tenant.updated'") == 0);
  /* Setting a tenant's own slug is fine. */
  s.slug = "beta";
  CHECK_OK(vc_tenant_update(b, &s));
  CHECK_STR(vc_tenant_name(b), "Would-be");

  vc_tenant_free(a);
  vc_tenant_free(b);
  vc_ctx_free(ctx);
}

static void test_tenant__soft_delete(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "doomed"), *other = NULL, *again = NULL;
  vc_tenant *x = NULL;
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant_filter f = VC_TENANT_FILTER_INIT;
  vc_iter *it = NULL;
  char id[VC_ID_SIZE];
  int live = 0, all = 0, rc, seen_deleted = 0;

  snprintf(id, sizeof(id), "%s", vc_tenant_id(t));
  other = new_tenant(ctx, "survivor");
  /* A second handle on the same tenant, loaded before the delete. */
  CHECK_OK(vc_tenant_lookup(&again, ctx, "doomed"));

  CHECK_OK(vc_tenant_delete(t));
  CHECK(vc_tenant_deleted_at(t) > 0);
  CHECK_FAIL(vc_tenant_lookup(&x, ctx, "doomed"), VC_ENOTFOUND);
  CHECK(x == NULL);
  CHECK_FAIL(vc_tenant_lookup_id(&x, ctx, id), VC_ENOTFOUND);
  CHECK_FAIL(vc_tenant_delete(t), VC_ENOTFOUND);
  CHECK_FAIL(vc_tenant_delete(again), VC_ENOTFOUND);
  CHECK_FAIL(vc_tenant_delete(NULL), VC_EINVALID);
  s.quiet_start_min = s.quiet_end_min = VC_TENANT_KEEP;
  s.name = "zombie";
  CHECK_FAIL(vc_tenant_update(t, &s), VC_ENOTFOUND);
  CHECK_FAIL(vc_tenant_update(again, &s), VC_ENOTFOUND);
  CHECK_STR(vc_tenant_name(t), "doomed");

  /* Not listed unless include_deleted. */
  CHECK_OK(vc_tenant_list(&it, ctx, NULL));
  while ((rc = vc_tenant_next(&x, it)) == 0) {
    CHECK(strcmp(vc_tenant_id(x), id) != 0);
    live++;
    vc_tenant_free(x);
  }
  CHECK(rc == VC_ITEROVER);
  vc_iter_free(it);
  CHECK(live == 1);
  f.include_deleted = 1;
  CHECK_OK(vc_tenant_list(&it, ctx, &f));
  while ((rc = vc_tenant_next(&x, it)) == 0) {
    if (strcmp(vc_tenant_id(x), id) == 0) {
      seen_deleted = 1;
      CHECK(vc_tenant_deleted_at(x) > 0);
      CHECK_STR(vc_tenant_slug(x), "doomed");
    } else {
      CHECK(vc_tenant_deleted_at(x) == 0);
    }
    all++;
    vc_tenant_free(x);
  }
  CHECK(rc == VC_ITEROVER);
  vc_iter_free(it);
  CHECK(all == 2 && seen_deleted);

  /* The slug is free again: a new tenant, with a new id. */
  x = new_tenant(ctx, "doomed");
  CHECK(strcmp(vc_tenant_id(x), id) != 0);
  vc_tenant_free(x);
  CHECK_OK(vc_tenant_lookup(&x, ctx, "doomed"));
  CHECK(strcmp(vc_tenant_id(x), id) != 0);
  CHECK(vc_tenant_deleted_at(x) == 0);
  vc_tenant_free(x);
  /* The old handle still cannot be updated, even to a free slug, and
   * cannot take its old slug back. */
  s.name = NULL;
  s.slug = "doomed-again";
  CHECK_FAIL(vc_tenant_update(t, &s), VC_ENOTFOUND);
  /* The row stays (soft delete). */
  CHECK(sql_count("SELECT COUNT(*) FROM vc_tenant") == 3);
  CHECK(sql_count("SELECT COUNT(*) FROM vc_tenant WHERE deleted_at IS NOT "
                  "NULL") == 1);
  /* The survivor is untouched. */
  CHECK_OK(vc_tenant_lookup(&x, ctx, "survivor"));
  CHECK_STR(vc_tenant_id(x), vc_tenant_id(other));
  vc_tenant_free(x);

  vc_tenant_free(again);
  vc_tenant_free(other);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

#define NLIST 130

static void test_tenant__list_paging(void)
{
  vc_ctx *ctx = open_ctx();
  static char ids[NLIST][VC_ID_SIZE];
  char slug[16], cursor[128];
  vc_tenant_filter f = VC_TENANT_FILTER_INIT;
  vc_iter *it = NULL;
  vc_tenant *t = NULL;
  int n = 0, rc;

  for (int i = 0; i < NLIST; i++) {
    snprintf(slug, sizeof(slug), "t%03d", i);
    t = new_tenant(ctx, slug);
    snprintf(ids[i], VC_ID_SIZE, "%s", vc_tenant_id(t));
    if (i > 0)
      CHECK(strcmp(ids[i - 1], ids[i]) < 0);
    vc_tenant_free(t);
  }

  /* All, in creation order, across pages. */
  CHECK_OK(vc_tenant_list(&it, ctx, NULL));
  CHECK_STR(vc_iter_cursor(it), "");
  while ((rc = vc_tenant_next(&t, it)) == 0) {
    CHECK(n < NLIST);
    snprintf(slug, sizeof(slug), "t%03d", n);
    CHECK_STR(vc_tenant_id(t), ids[n]);
    CHECK_STR(vc_tenant_slug(t), slug);
    CHECK(vc_iter_cursor(it)[0] != '\0');
    vc_tenant_free(t);
    n++;
  }
  CHECK_RC(rc, VC_ITEROVER);
  CHECK(t == NULL);
  CHECK(n == NLIST);
  CHECK_RC(vc_tenant_next(&t, it), VC_ITEROVER); /* stays over */
  vc_iter_free(it);

  /* Stop after 70, resume from the cursor in a new iterator. */
  CHECK_OK(vc_tenant_list(&it, ctx, NULL));
  for (n = 0; n < 70; n++) {
    CHECK_OK(vc_tenant_next(&t, it));
    vc_tenant_free(t);
  }
  snprintf(cursor, sizeof(cursor), "%s", vc_iter_cursor(it));
  vc_iter_free(it);
  f.after = cursor;
  CHECK_OK(vc_tenant_list(&it, ctx, &f));
  while ((rc = vc_tenant_next(&t, it)) == 0) {
    CHECK(n < NLIST);
    CHECK_STR(vc_tenant_id(t), ids[n]);
    vc_tenant_free(t);
    n++;
  }
  CHECK_RC(rc, VC_ITEROVER);
  CHECK(n == NLIST);
  vc_iter_free(it);

  /* Resume from the last one: nothing left. An empty cursor: all. */
  f.after = ids[NLIST - 1];
  CHECK_OK(vc_tenant_list(&it, ctx, &f));
  CHECK_RC(vc_tenant_next(&t, it), VC_ITEROVER);
  vc_iter_free(it);
  f.after = "";
  CHECK_OK(vc_tenant_list(&it, ctx, &f));
  CHECK_OK(vc_tenant_next(&t, it));
  CHECK_STR(vc_tenant_id(t), ids[0]);
  vc_tenant_free(t);
  vc_iter_free(it);

  /* Deleted ones are skipped, also across a page boundary. */
  for (int i = 45; i < 60; i++) {
    CHECK_OK(vc_tenant_lookup_id(&t, ctx, ids[i]));
    CHECK_OK(vc_tenant_delete(t));
    vc_tenant_free(t);
  }
  n = 0;
  CHECK_OK(vc_tenant_list(&it, ctx, NULL));
  while ((rc = vc_tenant_next(&t, it)) == 0) {
    int idx = atoi(vc_tenant_slug(t) + 1);
    CHECK(idx < 45 || idx >= 60);
    vc_tenant_free(t);
    n++;
  }
  CHECK_RC(rc, VC_ITEROVER);
  vc_iter_free(it);
  CHECK(n == NLIST - 15);
  f.after = NULL;
  f.include_deleted = 1;
  n = 0;
  CHECK_OK(vc_tenant_list(&it, ctx, &f));
  while ((rc = vc_tenant_next(&t, it)) == 0) {
    CHECK_STR(vc_tenant_id(t), ids[n]);
    vc_tenant_free(t);
    n++;
  }
  CHECK_RC(rc, VC_ITEROVER);
  vc_iter_free(it);
  CHECK(n == NLIST);

  /* Bad cursors and arguments. */
  f.include_deleted = 0;
  it = (vc_iter *)&it;
  f.after = "garbage";
  CHECK_FAIL(vc_tenant_list(&it, ctx, &f), VC_EINVALID);
  CHECK(it == NULL);
  f.after = "1234";
  CHECK_FAIL(vc_tenant_list(&it, ctx, &f), VC_EINVALID);
  f.after = "01ARZ3NDEKTSV4RRFFQ69G5FA"; /* 25 chars */
  CHECK_FAIL(vc_tenant_list(&it, ctx, &f), VC_EINVALID);
  f.after = NULL;
  f.version = 0;
  CHECK_FAIL(vc_tenant_list(&it, ctx, &f), VC_EVERSION);
  f.version = 99;
  CHECK_FAIL(vc_tenant_list(&it, ctx, &f), VC_EVERSION);
  CHECK_FAIL(vc_tenant_list(NULL, ctx, NULL), VC_EINVALID);
  CHECK_FAIL(vc_tenant_list(&it, NULL, NULL), VC_EINVALID);
  CHECK_FAIL(vc_tenant_next(NULL, NULL), VC_EINVALID);
  CHECK_FAIL(vc_tenant_next(&t, NULL), VC_EINVALID);
  CHECK_FAIL(vc_tenant_filter_init(&f, 0), VC_EVERSION);
  CHECK_OK(vc_tenant_filter_init(&f, VC_TENANT_FILTER_VERSION));
  CHECK(f.after == NULL && f.include_deleted == 0);

  /* An events iterator is not a tenant iterator. */
  CHECK_OK(vc_tenant_lookup_id(&t, ctx, ids[0]));
  {
    vc_iter *ev = NULL;
    vc_tenant *x = NULL;
    CHECK_OK(vc_events_since(&ev, t, 0));
    CHECK_FAIL(vc_tenant_next(&x, ev), VC_EINVALID);
    vc_iter_free(ev);
  }
  vc_tenant_free(t);
  CHECK_STR(vc_iter_cursor(NULL), "");
  vc_iter_free(NULL);
  vc_ctx_free(ctx);
}

static void test_tenant__bad_input(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = (vc_tenant *)&t;
  char slug64[65], slug63[64], name201[202], name200[201];

  CHECK_FAIL(vc_tenant_new(&t, NULL, &s), VC_EINVALID);
  CHECK(t == NULL);
  CHECK_FAIL(vc_tenant_new(&t, ctx, NULL), VC_EINVALID);
  CHECK_FAIL(vc_tenant_lookup(NULL, ctx, "x"), VC_EINVALID);
  CHECK_FAIL(vc_tenant_lookup(&t, NULL, "x"), VC_EINVALID);
  CHECK_FAIL(vc_tenant_lookup(&t, ctx, NULL), VC_EINVALID);
  CHECK_FAIL(vc_tenant_lookup(&t, ctx, ""), VC_EINVALID);
  CHECK_FAIL(vc_tenant_lookup_id(NULL, ctx, "x"), VC_EINVALID);

  /* Slugs. */
  s.slug = NULL;
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.slug = "";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.slug = "Acme";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.slug = "acme corp";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.slug = "-acme";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.slug = "_acme";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.slug = "acme/x";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.slug = "caf\xc3\xa9";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  memset(slug64, 'a', 64);
  slug64[64] = '\0';
  s.slug = slug64;
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_ETOOBIG);
  CHECK_FAIL(vc_tenant_lookup(&t, ctx, slug64), VC_ETOOBIG);
  memset(slug63, 'b', 63);
  slug63[63] = '\0';
  s.slug = slug63;
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  CHECK_STR(vc_tenant_slug(t), slug63);
  vc_tenant_free(t);
  t = NULL;
  s.slug = "0-ok_too";
  CHECK_OK(vc_tenant_new(NULL, ctx, &s));

  /* Names. */
  s.slug = "names";
  s.name = "bad \xc3\x28 utf8";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EENCODING);
  s.name = "overlong \xc0\xaf";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EENCODING);
  s.name = "surrogate \xed\xa0\x80";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EENCODING);
  s.name = "cut \xe2\x82";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EENCODING);
  memset(name201, 'n', 201);
  name201[201] = '\0';
  s.name = name201;
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_ETOOBIG);
  memset(name200, 'n', 200);
  name200[200] = '\0';
  s.name = name200;
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  CHECK_STR(vc_tenant_name(t), name200);
  vc_tenant_free(t);
  t = NULL;
  s.name = "";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.name = NULL;

  /* Currency, timezone, locale. */
  s.slug = "money";
  s.currency = "usd";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.currency = "US";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.currency = "USDX";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.currency = "";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.currency = "U$D";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.currency = NULL;
  s.timezone = "Europe/Paris; DROP TABLE";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.timezone = NULL;
  s.locale = "en_US!";
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.locale = NULL;

  /* Quiet hours. */
  s.slug = "quiet";
  s.quiet_start_min = 1440;
  s.quiet_end_min = 60;
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.quiet_start_min = -5;
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.quiet_start_min = 60;
  s.quiet_end_min = 1440;
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.quiet_start_min = 300;
  s.quiet_end_min = 300;
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.quiet_start_min = VC_QUIET_NONE;
  s.quiet_end_min = 300;
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.quiet_start_min = 300;
  s.quiet_end_min = VC_QUIET_NONE;
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  /* "Keep" means nothing on creation. */
  s.quiet_start_min = VC_TENANT_KEEP;
  s.quiet_end_min = VC_TENANT_KEEP;
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EINVALID);
  s.quiet_start_min = 0;
  s.quiet_end_min = 1439;
  CHECK_OK(vc_tenant_new(NULL, ctx, &s));
  s.quiet_start_min = s.quiet_end_min = VC_QUIET_NONE;

  /* Struct versions. */
  s.slug = "versions";
  s.version = 0;
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EVERSION);
  s.version = 99;
  CHECK_FAIL(vc_tenant_new(&t, ctx, &s), VC_EVERSION);
  s.version = VC_TENANT_SPEC_VERSION;

  /* None of the failures wrote anything. */
  CHECK(sql_count("SELECT COUNT(*) FROM vc_tenant") == 4);
  CHECK(sql_count("SELECT COUNT(*) FROM vc_event") == 4);
  CHECK(t == NULL);
  vc_ctx_free(ctx);
}

static void test_tenant__duplicate_slug(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL, *dup = (vc_tenant *)&dup;

  s.slug = "dup";
  s.name = "First";
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  s.name = "Second";
  s.currency = "EUR";
  CHECK_FAIL(vc_tenant_new(&dup, ctx, &s), VC_EEXISTS);
  CHECK(dup == NULL);
  CHECK(strstr(vc_error_last()->message, "dup") != NULL);
  CHECK_FAIL(vc_tenant_new(NULL, ctx, &s), VC_EEXISTS);

  /* Nothing half-written: one tenant, one tenant.created. */
  CHECK(sql_count("SELECT COUNT(*) FROM vc_tenant") == 1);
  CHECK(sql_count("SELECT COUNT(*) FROM vc_event") == 1);
  CHECK(sql_count("SELECT COUNT(*) FROM vc_event WHERE type = "
                  "'tenant.created'") == 1);
  CHECK(sql_count("SELECT COUNT(*) FROM vc_tenant WHERE name = 'First' AND "
                  "currency = 'USD'") == 1);
  vc_tenant_free(t);
  CHECK_OK(vc_tenant_lookup(&t, ctx, "dup"));
  CHECK_STR(vc_tenant_name(t), "First");
  vc_tenant_free(t);
  /* The context is still usable afterwards (no transaction left open). */
  s.slug = "after-dup";
  CHECK_OK(vc_tenant_new(NULL, ctx, &s));
  CHECK(sql_count("SELECT COUNT(*) FROM vc_tenant") == 2);
  vc_ctx_free(ctx);
}

/* Collect one tenant's events. */
typedef struct ev_copy {
  uint64_t seq;
  char type[32];
  char tenant_id[VC_ID_SIZE];
  char subject_id[VC_ID_SIZE];
  int payload_ok;
} ev_copy;

static int collect(vc_tenant *t, uint64_t cursor, ev_copy *out, int max)
{
  vc_iter *it = NULL;
  const vc_event *ev;
  int n = 0, rc;

  CHECK_OK(vc_events_since(&it, t, cursor));
  while ((rc = vc_event_next(&ev, it)) == 0) {
    CHECK(n < max);
    out[n].seq = ev->seq;
    snprintf(out[n].type, sizeof(out[n].type), "%s", ev->type);
    snprintf(out[n].tenant_id, sizeof(out[n].tenant_id), "%s",
             ev->tenant_id);
    snprintf(out[n].subject_id, sizeof(out[n].subject_id), "%s",
             ev->subject_id);
    out[n].payload_ok = is_json_object(ev->payload_json) &&
                        ev->created_at > 0;
    n++;
  }
  CHECK_RC(rc, VC_ITEROVER);
  CHECK(ev == NULL);
  vc_iter_free(it);
  return n;
}

static void test_tenant__events(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "evt");
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  static ev_copy evs[200];
  char id[VC_ID_SIZE], name[32];
  int n;

  snprintf(id, sizeof(id), "%s", vc_tenant_id(t));
  s.quiet_start_min = s.quiet_end_min = VC_TENANT_KEEP;
  s.name = "Renamed";
  CHECK_OK(vc_tenant_update(t, &s));
  CHECK_OK(vc_tenant_delete(t));

  n = collect(t, 0, evs, 200);
  CHECK(n == 3);
  CHECK_STR(evs[0].type, "tenant.created");
  CHECK_STR(evs[1].type, "tenant.updated");
  CHECK_STR(evs[2].type, "tenant.deleted");
  for (int i = 0; i < n; i++) {
    CHECK_STR(evs[i].tenant_id, id);
    CHECK_STR(evs[i].subject_id, id);
    CHECK(evs[i].payload_ok);
    if (i > 0)
      CHECK(evs[i].seq > evs[i - 1].seq);
  }
  /* A cursor skips what was handled. */
  n = collect(t, evs[0].seq, evs, 200);
  CHECK(n == 2);
  CHECK_STR(evs[0].type, "tenant.updated");
  n = collect(t, evs[1].seq, evs, 200);
  CHECK(n == 0);
  vc_tenant_free(t);

  /* More events than one page of the iterator. */
  t = new_tenant(ctx, "busy");
  for (int i = 0; i < 150; i++) {
    snprintf(name, sizeof(name), "name %d", i);
    s.name = name;
    CHECK_OK(vc_tenant_update(t, &s));
  }
  n = collect(t, 0, evs, 200);
  CHECK(n == 151);
  CHECK_STR(evs[0].type, "tenant.created");
  for (int i = 1; i < n; i++) {
    CHECK_STR(evs[i].type, "tenant.updated");
    CHECK(evs[i].seq > evs[i - 1].seq);
  }
  /* The iterator's cursor is the last seq, as text. */
  {
    vc_iter *it = NULL;
    const vc_event *ev = NULL;
    char want[32];
    CHECK_OK(vc_events_since(&it, t, 0));
    CHECK_STR(vc_iter_cursor(it), "0");
    CHECK_OK(vc_event_next(&ev, it));
    snprintf(want, sizeof(want), "%llu", (unsigned long long)ev->seq);
    CHECK_STR(vc_iter_cursor(it), want);
    vc_iter_free(it);
    CHECK_FAIL(vc_events_since(NULL, t, 0), VC_EINVALID);
    CHECK_FAIL(vc_events_since(&it, NULL, 0), VC_EINVALID);
    CHECK_FAIL(vc_event_next(NULL, NULL), VC_EINVALID);
    CHECK_FAIL(vc_event_next(&ev, NULL), VC_EINVALID);
  }
  /* A tenant iterator is not an events iterator. */
  {
    vc_iter *it = NULL;
    const vc_event *ev = NULL;
    CHECK_OK(vc_tenant_list(&it, ctx, NULL));
    CHECK_FAIL(vc_event_next(&ev, it), VC_EINVALID);
    vc_iter_free(it);
  }
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_tenant__isolation(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *a = new_tenant(ctx, "tenant-a"), *b = new_tenant(ctx, "tenant-b");
  vc_tenant *x = NULL;
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  static ev_copy evs[64];
  char a_id[VC_ID_SIZE], b_id[VC_ID_SIZE];
  int n;

  snprintf(a_id, sizeof(a_id), "%s", vc_tenant_id(a));
  snprintf(b_id, sizeof(b_id), "%s", vc_tenant_id(b));
  s.quiet_start_min = s.quiet_end_min = VC_TENANT_KEEP;
  for (int i = 0; i < 5; i++) {
    s.name = i % 2 ? "A odd" : "A even";
    CHECK_OK(vc_tenant_update(a, &s));
  }
  s.name = "B once";
  CHECK_OK(vc_tenant_update(b, &s));
  s.name = NULL;
  s.slug = "tenant-a2";
  CHECK_OK(vc_tenant_update(a, &s));
  CHECK_OK(vc_tenant_delete(a));

  /* B sees only its own two events, from any cursor. */
  n = collect(b, 0, evs, 64);
  CHECK(n == 2);
  for (int i = 0; i < n; i++) {
    CHECK_STR(evs[i].tenant_id, b_id);
    CHECK_STR(evs[i].subject_id, b_id);
  }
  CHECK_STR(evs[0].type, "tenant.created");
  CHECK_STR(evs[1].type, "tenant.updated");
  /* A sees its own eight. */
  n = collect(a, 0, evs, 64);
  CHECK(n == 8);
  for (int i = 0; i < n; i++)
    CHECK_STR(evs[i].tenant_id, a_id);
  CHECK_STR(evs[7].type, "tenant.deleted");
  /* A cursor taken from A's events gives B nothing of A's. */
  n = collect(b, evs[0].seq, evs, 64);
  for (int i = 0; i < n; i++)
    CHECK_STR(evs[i].tenant_id, b_id);

  /* B is untouched by everything done to A. */
  CHECK_OK(vc_tenant_lookup(&x, ctx, "tenant-b"));
  CHECK_STR(vc_tenant_id(x), b_id);
  CHECK_STR(vc_tenant_name(x), "B once");
  CHECK(vc_tenant_deleted_at(x) == 0);
  vc_tenant_free(x);
  /* B cannot take over A's (deleted) id through lookup. */
  CHECK_FAIL(vc_tenant_lookup_id(&x, ctx, a_id), VC_ENOTFOUND);

  vc_tenant_free(a);
  vc_tenant_free(b);
  vc_ctx_free(ctx);
}

VC_TESTS(
  VC_TEST(test_tenant__create_and_lookup),
  VC_TEST(test_tenant__defaults),
  VC_TEST(test_tenant__update),
  VC_TEST(test_tenant__update_slug_taken),
  VC_TEST(test_tenant__soft_delete),
  VC_TEST(test_tenant__list_paging),
  VC_TEST(test_tenant__bad_input),
  VC_TEST(test_tenant__duplicate_slug),
  VC_TEST(test_tenant__events),
  VC_TEST(test_tenant__isolation),
)
