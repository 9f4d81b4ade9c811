/*
 * Tenants. A handle holds a snapshot of the row; an update replaces the
 * snapshot and keeps the old one until the handle is freed, so strings
 * a caller borrowed stay valid (handles may be shared between threads).
 */
#include "common.h"
#include "ctx.h"
#include "event.h"
#include "iter.h"
#include "tenant.h"
#include "text.h"
#include "tz.h"

#include <stddef.h>
#include <stdio.h>

#define SLUG_MAX 63
#define NAME_MAX_BYTES 200
/* The bits of the categories there are (vyomcomm/category.h). */
#define EXEMPT_VALID ((1u << VC_CATEGORY_TRANSACTIONAL) | \
                      (1u << VC_CATEGORY_MARKETING) | (1u << VC_CATEGORY_OTP))

typedef struct tenant_row {
  char id[VC_ID_SIZE];
  char *slug, *name, *timezone, *locale, *currency;
  int quiet_start, quiet_end;
  unsigned int quiet_exempt;      /* 1u << vc_category bits */
  int64_t created_at, deleted_at;
  struct tenant_row *retired; /* older snapshots of the same handle */
} tenant_row;

struct vc_tenant {
  vc_ctx *ctx;
  pthread_mutex_t lock;
  tenant_row *row;
};

#define COLUMNS \
  "id, slug, name, timezone, locale, currency, quiet_start, quiet_end," \
  " created_at, COALESCE(deleted_at, 0), quiet_exempt"

static const char SQL_INSERT[] =
  "INSERT INTO vc_tenant (id, slug, name, timezone, locale, currency,"
  " quiet_start, quiet_end, created_at, updated_at, quiet_exempt)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)";
static const char SQL_BY_SLUG[] =
  "SELECT " COLUMNS " FROM vc_tenant WHERE slug = ?1 AND deleted_at IS NULL";
static const char SQL_BY_ID[] =
  "SELECT " COLUMNS " FROM vc_tenant WHERE id = ?1 AND deleted_at IS NULL";
static const char SQL_UPDATE[] =
  "UPDATE vc_tenant SET slug = ?2, name = ?3, timezone = ?4, locale = ?5,"
  " currency = ?6, quiet_start = ?7, quiet_end = ?8, updated_at = ?9,"
  " quiet_exempt = ?10 WHERE id = ?1 AND deleted_at IS NULL";
static const char SQL_DELETE[] =
  "UPDATE vc_tenant SET deleted_at = ?2, updated_at = ?2"
  " WHERE id = ?1 AND deleted_at IS NULL";
static const char SQL_PAGE[] =
  "SELECT " COLUMNS " FROM vc_tenant WHERE id > ?1"
  " AND (?2 = 1 OR deleted_at IS NULL) ORDER BY id LIMIT 50";

vc_ctx *vc__tenant_ctx(const vc_tenant *t)
{
  return t->ctx;
}

static void row_free(tenant_row *r)
{
  while (r != NULL) {
    tenant_row *next = r->retired;
    vc__free(r->slug);
    vc__free(r->name);
    vc__free(r->timezone);
    vc__free(r->locale);
    vc__free(r->currency);
    vc__free(r);
    r = next;
  }
}

static int row_from_stmt(tenant_row **out, vc__stmt *s)
{
  tenant_row *r = vc__calloc(1, sizeof(*r));

  if (r == NULL)
    return vc_error_set_oom();
  snprintf(r->id, sizeof(r->id), "%s", vc__stmt_text(s, 0));
  r->slug = vc__strdup(vc__stmt_text(s, 1));
  r->name = vc__strdup(vc__stmt_text(s, 2));
  r->timezone = vc__strdup(vc__stmt_text(s, 3));
  r->locale = vc__strdup(vc__stmt_text(s, 4));
  r->currency = vc__strdup(vc__stmt_text(s, 5));
  r->quiet_start = (int)vc__stmt_int64(s, 6);
  r->quiet_end = (int)vc__stmt_int64(s, 7);
  r->created_at = vc__stmt_int64(s, 8);
  r->deleted_at = vc__stmt_int64(s, 9);
  r->quiet_exempt = (unsigned int)vc__stmt_int64(s, 10);
  if (!r->slug || !r->name || !r->timezone || !r->locale || !r->currency) {
    row_free(r);
    return vc_error_set_oom();
  }
  *out = r;
  return 0;
}

static int handle_new(vc_tenant **out, vc_ctx *ctx, tenant_row *row)
{
  vc_tenant *t = vc__calloc(1, sizeof(*t));

  if (t == NULL) {
    row_free(row);
    return vc_error_set_oom();
  }
  t->ctx = ctx;
  t->row = row;
  pthread_mutex_init(&t->lock, NULL);
  *out = t;
  return 0;
}

/* Run a single-row SELECT of COLUMNS with one text parameter. */
static int load_one(tenant_row **out, vc__db *db, const char *sql,
                    const char *key)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, sql, "t", key)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW)
    rc = row_from_stmt(out, s);
  else if (rc == VC_STORAGE_DONE)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no tenant '%s'", key);
  vc__stmt_done(s);
  return rc;
}

/* Validate the settings of a spec. `creating`: NULL means default. */
static int check_spec(const vc_tenant_spec *s, int creating)
{
  int rc;

  if (creating || s->slug != NULL)
    if ((rc = vc__check_token("tenant slug", s->slug, SLUG_MAX, "a-z0-9",
                              "a-z0-9_-")) < 0)
      return rc;
  if ((rc = vc__check_text("tenant name", s->name, NAME_MAX_BYTES, 0)) < 0)
    return rc;
  if (s->name != NULL && s->name[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "tenant name is empty (NULL means the default)");
  if (s->timezone != NULL && (rc = vc__tz_check(s->timezone)) < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "tenant %s", vc_error_last()->message);
  if (s->locale != NULL &&
      (rc = vc__check_token("tenant locale", s->locale, 35, "a-z",
                            "A-Za-z0-9-")) < 0)
    return rc;
  if (s->currency != NULL &&
      (strlen(s->currency) != 3 ||
       (rc = vc__check_token("tenant currency", s->currency, 3, "A-Z",
                             "A-Z")) < 0))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "tenant currency must be an ISO 4217 code");
  {
    int keep = creating ? 0 : (s->quiet_start_min == VC_TENANT_KEEP &&
                               s->quiet_end_min == VC_TENANT_KEEP);
    int none = s->quiet_start_min == VC_QUIET_NONE &&
               s->quiet_end_min == VC_QUIET_NONE;
    int valid = s->quiet_start_min >= 0 && s->quiet_start_min < 1440 &&
                s->quiet_end_min >= 0 && s->quiet_end_min < 1440 &&
                s->quiet_start_min != s->quiet_end_min;
    if (!keep && !none && !valid)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "quiet hours must be two different minutes "
                           "0..1439, or both VC_QUIET_NONE");
  }
  if (!(s->quiet_exempt_categories == VC_QUIET_EXEMPT_KEEP && !creating) &&
      (s->quiet_exempt_categories & ~EXEMPT_VALID) != 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "quiet_exempt_categories has bits of no category "
                         "(0x%x)", s->quiet_exempt_categories);
  return 0;
}

/* A caller's spec in the latest layout. A version-1 caller has no
 * exemption mask: the default for a new tenant, the current one for an
 * update. */
static size_t spec_size(unsigned int version)
{
  return version >= 2 ? sizeof(vc_tenant_spec)
                      : offsetof(vc_tenant_spec, quiet_exempt_categories);
}

static void spec_latest(vc_tenant_spec *out, const vc_tenant_spec *in,
                        int creating)
{
  memset(out, 0, sizeof(*out));
  memcpy(out, in, spec_size(in->version));
  if (in->version < 2)
    out->quiet_exempt_categories = creating ? VC_QUIET_EXEMPT_DEFAULT
                                            : VC_QUIET_EXEMPT_KEEP;
}

/* A small JSON object {"slug": ...} for events; slugs need no escaping. */
static void slug_payload(char *buf, size_t size, const char *slug)
{
  snprintf(buf, size, "{\"slug\":\"%s\"}", slug);
}

int vc_tenant_new(vc_tenant **out, vc_ctx *ctx, const vc_tenant_spec *in)
{
  char id[VC_ID_SIZE], payload[128];
  vc_tenant_spec copy, *spec = &copy;
  tenant_row *row = NULL;
  int64_t now;
  vc__db *db;
  int rc;

  if (out != NULL)
    *out = NULL;
  VC_ASSERT_ARG(ctx);
  VC_ASSERT_ARG(in);
  VC_CHECK_VERSION(in, VC_TENANT_SPEC_VERSION, "vc_tenant_spec");
  spec_latest(&copy, in, 1);
  if ((rc = check_spec(spec, 1)) < 0 || (rc = vc__new_id(ctx, id)) < 0)
    return rc;
  now = vc__now(ctx);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto out;
  rc = vc__db_run(db, SQL_INSERT, "ttttttiiii", id, spec->slug,
                  spec->name ? spec->name : spec->slug,
                  spec->timezone ? spec->timezone : "UTC",
                  spec->locale ? spec->locale : "en",
                  spec->currency ? spec->currency : "USD",
                  (int64_t)spec->quiet_start_min,
                  (int64_t)spec->quiet_end_min, now,
                  (int64_t)spec->quiet_exempt_categories);
  if (rc == VC_EEXISTS)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EEXISTS,
                       "tenant slug '%s' is taken", spec->slug);
  slug_payload(payload, sizeof(payload), spec->slug);
  if (rc < 0 ||
      (rc = vc__event_append(db, ctx, id, "tenant.created", id,
                             payload)) < 0 ||
      (out != NULL && (rc = load_one(&row, db, SQL_BY_ID, id)) < 0) ||
      (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    row_free(row);
    goto out;
  }
  vc_ctx_wakeup(ctx);
  if (out != NULL)
    rc = handle_new(out, ctx, row);
  vc__db_release(db);
  /* Logged with no connection held: the callback may call the library. */
  VC_LOG(ctx, VC_LOG_INFO, "tenant %s created (%s)", id, spec->slug);
  return rc;
out:
  vc__db_release(db);
  return rc;
}

static int lookup(vc_tenant **out, vc_ctx *ctx, const char *sql,
                  const char *key)
{
  tenant_row *row;
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = load_one(&row, db, sql, key);
  vc__db_release(db);
  if (rc == 0)
    rc = handle_new(out, ctx, row);
  return rc;
}

int vc__tenant_load(vc_tenant **out, vc_ctx *ctx, vc__db *db,
                    const char *id)
{
  tenant_row *row;
  int rc;

  *out = NULL;
  if ((rc = load_one(&row, db, SQL_BY_ID, id)) < 0)
    return rc;
  return handle_new(out, ctx, row);
}

int vc_tenant_lookup(vc_tenant **out, vc_ctx *ctx, const char *slug)
{
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(ctx);
  if ((rc = vc__check_token("tenant slug", slug, SLUG_MAX, NULL,
                            "a-z0-9_-")) < 0)
    return rc;
  return lookup(out, ctx, SQL_BY_SLUG, slug);
}

int vc_tenant_lookup_id(vc_tenant **out, vc_ctx *ctx, const char *id)
{
  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(ctx);
  if (!vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "tenant id is not a valid id");
  return lookup(out, ctx, SQL_BY_ID, id);
}

int vc_tenant_update(vc_tenant *t, const vc_tenant_spec *in)
{
  char payload[128];
  vc_tenant_spec copy, *spec = &copy;
  tenant_row *cur, *row = NULL;
  unsigned int exempt;
  int qs, qe, rc;
  vc__db *db;

  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(in);
  VC_CHECK_VERSION(in, VC_TENANT_SPEC_VERSION, "vc_tenant_spec");
  spec_latest(&copy, in, 0);
  if ((rc = check_spec(spec, 0)) < 0)
    return rc;
  pthread_mutex_lock(&t->lock);
  cur = t->row;
  qs = spec->quiet_start_min == VC_TENANT_KEEP ? cur->quiet_start
                                               : spec->quiet_start_min;
  qe = spec->quiet_end_min == VC_TENANT_KEEP ? cur->quiet_end
                                             : spec->quiet_end_min;
  exempt = spec->quiet_exempt_categories == VC_QUIET_EXEMPT_KEEP
             ? cur->quiet_exempt : spec->quiet_exempt_categories;
  if ((rc = vc__db_acquire(&db, t->ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  rc = vc__db_run(db, SQL_UPDATE, "tttttt" "iiii", cur->id,
                  spec->slug ? spec->slug : cur->slug,
                  spec->name ? spec->name : cur->name,
                  spec->timezone ? spec->timezone : cur->timezone,
                  spec->locale ? spec->locale : cur->locale,
                  spec->currency ? spec->currency : cur->currency,
                  (int64_t)qs, (int64_t)qe, vc__now(t->ctx),
                  (int64_t)exempt);
  if (rc == VC_EEXISTS)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EEXISTS,
                       "tenant slug '%s' is taken", spec->slug);
  else if (rc == 0 && vc__db_changes(db) == 0)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "tenant %s was deleted", cur->id);
  slug_payload(payload, sizeof(payload), spec->slug ? spec->slug : cur->slug);
  if (rc < 0 ||
      (rc = vc__event_append(db, t->ctx, cur->id, "tenant.updated", cur->id,
                             payload)) < 0 ||
      (rc = load_one(&row, db, SQL_BY_ID, cur->id)) < 0 ||
      (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    row_free(row);
    goto release;
  }
  row->retired = cur;
  t->row = row;
  vc_ctx_wakeup(t->ctx);
release:
  vc__db_release(db);
unlock:
  pthread_mutex_unlock(&t->lock);
  return rc;
}

int vc_tenant_delete(vc_tenant *t)
{
  int64_t now;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(t);
  pthread_mutex_lock(&t->lock);
  now = vc__now(t->ctx);
  if ((rc = vc__db_acquire(&db, t->ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  rc = vc__db_run(db, SQL_DELETE, "ti", t->row->id, now);
  if (rc == 0 && vc__db_changes(db) == 0)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "tenant %s is already deleted", t->row->id);
  if (rc < 0 ||
      (rc = vc__event_append(db, t->ctx, t->row->id, "tenant.deleted",
                             t->row->id, NULL)) < 0 ||
      (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    goto release;
  }
  /* deleted_at is the one field a handle changes in place: an int. */
  t->row->deleted_at = now;
  vc_ctx_wakeup(t->ctx);
release:
  vc__db_release(db);
unlock:
  pthread_mutex_unlock(&t->lock);
  return rc;
}

void vc_tenant_free(vc_tenant *t)
{
  if (t == NULL)
    return;
  row_free(t->row);
  pthread_mutex_destroy(&t->lock);
  vc__free(t);
}

/* Getters read the current snapshot under the handle's lock. */
#define GETTER(field)                                             \
  const char *vc_tenant_##field(const vc_tenant *t)               \
  {                                                               \
    const char *v;                                                \
    if (t == NULL)                                                \
      return NULL;                                                \
    pthread_mutex_lock((pthread_mutex_t *)&t->lock);              \
    v = t->row->field;                                            \
    pthread_mutex_unlock((pthread_mutex_t *)&t->lock);            \
    return v;                                                     \
  }
GETTER(id)
GETTER(slug)
GETTER(name)
GETTER(timezone)
GETTER(locale)
GETTER(currency)
#undef GETTER

int vc_tenant_quiet_hours(const vc_tenant *t, int *start_min, int *end_min)
{
  VC_ASSERT_ARG(t);
  pthread_mutex_lock((pthread_mutex_t *)&t->lock);
  if (start_min)
    *start_min = t->row->quiet_start;
  if (end_min)
    *end_min = t->row->quiet_end;
  pthread_mutex_unlock((pthread_mutex_t *)&t->lock);
  return 0;
}

int vc_tenant_quiet_exempt_categories(const vc_tenant *t,
                                      unsigned int *mask)
{
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(mask);
  pthread_mutex_lock((pthread_mutex_t *)&t->lock);
  *mask = t->row->quiet_exempt;
  pthread_mutex_unlock((pthread_mutex_t *)&t->lock);
  return 0;
}

int64_t vc_tenant_created_at(const vc_tenant *t)
{
  int64_t v;

  if (t == NULL)
    return 0;
  pthread_mutex_lock((pthread_mutex_t *)&t->lock);
  v = t->row->created_at;
  pthread_mutex_unlock((pthread_mutex_t *)&t->lock);
  return v;
}

int64_t vc_tenant_deleted_at(const vc_tenant *t)
{
  int64_t v;

  if (t == NULL)
    return 0;
  pthread_mutex_lock((pthread_mutex_t *)&t->lock);
  v = t->row->deleted_at;
  pthread_mutex_unlock((pthread_mutex_t *)&t->lock);
  return v;
}

/* vc_tenant_list */
typedef struct tenant_iter {
  vc__page_iter page;
  vc_ctx *ctx;
  int include_deleted;
} tenant_iter;

static int page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const tenant_iter *it = (const tenant_iter *)p;

  return vc__db_query(out, db, SQL_PAGE, "ti", p->base.cursor,
                      (int64_t)it->include_deleted);
}

static int page_row(void **out, vc__stmt *s)
{
  return row_from_stmt((tenant_row **)out, s);
}

static void page_row_free(void *row)
{
  row_free(row);
}

static const char *page_row_key(const void *row)
{
  return ((const tenant_row *)row)->id;
}

static const vc__page_ops TENANT_PAGES = {
  { "tenant", vc__page_iter_free }, page_query, page_row, page_row_free,
  page_row_key
};

int vc_tenant_list(vc_iter **out, vc_ctx *ctx, const vc_tenant_filter *f)
{
  tenant_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(ctx);
  VC_CHECK_VERSION(f, VC_TENANT_FILTER_VERSION, "vc_tenant_filter");
  if (f != NULL && f->after != NULL && f->after[0] != '\0' &&
      !vc__ulid_valid(f->after))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not a tenant list cursor");
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(&it->page, &TENANT_PAGES, ctx->store,
                     f != NULL ? f->after : NULL);
  it->ctx = ctx;
  it->include_deleted = f != NULL && f->include_deleted;
  *out = &it->page.base;
  return 0;
}

int vc_tenant_next(vc_tenant **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &TENANT_PAGES)) < 0)
    return rc;
  return handle_new(out, ((tenant_iter *)base)->ctx, row);
}

int vc_tenant_spec_init(vc_tenant_spec *s, unsigned int version)
{
  VC_INIT_STRUCT_SIZED(s, version, VC_TENANT_SPEC_VERSION, vc_tenant_spec,
                       spec_size(version), VC_TENANT_SPEC_INIT);
}

int vc_tenant_filter_init(vc_tenant_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_TENANT_FILTER_VERSION, vc_tenant_filter,
                 VC_TENANT_FILTER_INIT);
}
