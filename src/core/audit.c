/*
 * The audit trail. See audit.h and vyomcomm/audit.h.
 *
 * The actor is thread-local: a host serving several users from a pool of
 * threads sets it at the start of each request, as it would a log
 * context. A row is one INSERT with the rest of the call's writes, so it
 * commits or rolls back with them; the table's triggers refuse UPDATE
 * and DELETE.
 */
#include "common.h"
#include "audit.h"
#include "ctx.h"
#include "iter.h"
#include "tenant.h"
#include "text.h"
#include "ulid.h"

#include <stdio.h>

#define FILTER_MAX 128 /* action prefix, actor */

static _Thread_local char t_actor[VC_AUDIT_ACTOR_MAX + 1];

int vc_audit_actor_set(const char *actor)
{
  size_t n;
  int rc;

  if (actor == NULL || actor[0] == '\0') {
    t_actor[0] = '\0';
    return 0;
  }
  if ((rc = vc__check_text("audit actor", actor, VC_AUDIT_ACTOR_MAX, 0)) < 0)
    return rc;
  n = strlen(actor);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)actor[i] < 0x20 || actor[i] == 0x7f)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "audit actor has a control character");
  memcpy(t_actor, actor, n + 1);
  return 0;
}

const char *vc_audit_actor(void)
{
  return t_actor;
}

static const char SQL_INSERT[] =
  "INSERT INTO vc_audit (tenant_id, id, actor, action, entity_id, summary,"
  " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

int vc__audit_as(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                 const char *actor, const char *action,
                 const char *entity_id, const char *summary_json)
{
  char id[VC_ID_SIZE];
  int rc;

  if ((rc = vc__new_id(ctx, id)) < 0)
    return rc;
  return vc__db_run(db, SQL_INSERT, "tttttti",
                    tenant_id ? tenant_id : "", id, actor ? actor : "",
                    action, entity_id ? entity_id : "",
                    summary_json ? summary_json : "{}", vc__now(ctx));
}

/* Eight rows a statement: each statement costs about a third of a
 * one-row INSERT on top of its rows. */
#define ROWS_AT_ONCE 8
#define ROW_VALUES(a, b, c, d, e, f, g) \
  "(?" #a ", ?" #b ", ?" #c ", ?" #d ", ?" #e ", ?" #f ", ?" #g ")"
static const char SQL_INSERT_8[] =
  "INSERT INTO vc_audit (tenant_id, id, actor, action, entity_id, summary,"
  " created_at) VALUES "
  ROW_VALUES(1, 2, 3, 4, 5, 6, 7) ", "
  ROW_VALUES(8, 9, 10, 11, 12, 13, 14) ", "
  ROW_VALUES(15, 16, 17, 18, 19, 20, 21) ", "
  ROW_VALUES(22, 23, 24, 25, 26, 27, 28) ", "
  ROW_VALUES(29, 30, 31, 32, 33, 34, 35) ", "
  ROW_VALUES(36, 37, 38, 39, 40, 41, 42) ", "
  ROW_VALUES(43, 44, 45, 46, 47, 48, 49) ", "
  ROW_VALUES(50, 51, 52, 53, 54, 55, 56);

static const char *or_empty(const char *s)
{
  return s ? s : "";
}

static int rows_at_once(vc__db *db, vc_ctx *ctx, const vc__audit_row *r)
{
  char ids[ROWS_AT_ONCE][VC_ID_SIZE];
  int64_t now = vc__now(ctx);
  vc__stmt *s;
  int rc;

  for (int i = 0; i < ROWS_AT_ONCE; i++)
    if ((rc = vc__new_id(ctx, ids[i])) < 0)
      return rc;
  if ((rc = vc__db_prepare(&s, db, SQL_INSERT_8)) < 0)
    return rc;
  for (int i = 0; i < ROWS_AT_ONCE && rc == 0; i++) {
    const char *text[6] = {
      or_empty(r[i].tenant_id), ids[i], or_empty(r[i].actor), r[i].action,
      or_empty(r[i].entity_id), r[i].summary_json ? r[i].summary_json : "{}"
    };
    /* Row i's parameters are ?(7i+1) to ?(7i+7), in column order. */
    for (int k = 0; k < 6 && rc == 0; k++)
      rc = vc__stmt_bind_text_kept(s, i * 7 + k + 1, text[k]);
    if (rc == 0)
      rc = vc__stmt_bind_int64(s, i * 7 + 7, now);
  }
  if (rc == 0 && (rc = vc__stmt_step(s)) > 0)
    rc = 0; /* done */
  vc__stmt_done(s);
  return rc;
}

int vc__audit_rows(vc__db *db, vc_ctx *ctx, const vc__audit_row *rows,
                   size_t n)
{
  size_t i = 0;
  int rc;

  for (; n - i >= ROWS_AT_ONCE; i += ROWS_AT_ONCE)
    if ((rc = rows_at_once(db, ctx, rows + i)) < 0)
      return rc;
  for (; i < n; i++)
    if ((rc = vc__audit_as(db, ctx, rows[i].tenant_id, rows[i].actor,
                           rows[i].action, rows[i].entity_id,
                           rows[i].summary_json)) < 0)
      return rc;
  return 0;
}

int vc__audit(vc__db *db, vc_ctx *ctx, const char *tenant_id,
              const char *action, const char *entity_id,
              const char *summary_json)
{
  return vc__audit_as(db, ctx, tenant_id, t_actor, action, entity_id,
                      summary_json);
}

void vc__audit_fields(char *out, size_t size, const char *const *names,
                      const int *set, size_t n)
{
  size_t len = 0;
  int first = 1;

  if (size < sizeof("{\"fields\":[]}"))
    return;
  len = (size_t)snprintf(out, size, "{\"fields\":[");
  for (size_t i = 0; i < n; i++) {
    size_t need;
    if (!set[i])
      continue;
    need = strlen(names[i]) + 3 + !first;
    if (len + need + 3 > size)
      break;
    len += (size_t)snprintf(out + len, size - len, "%s\"%s\"",
                            first ? "" : ",", names[i]);
    first = 0;
  }
  snprintf(out + len, size - len, "]}");
}

/* ---- entries ----------------------------------------------------------- */

struct vc_audit_entry {
  char id[VC_ID_SIZE];
  char tenant_id[VC_ID_SIZE];
  char *actor, *action, *entity_id, *summary;
  int64_t at;
};

void vc_audit_entry_free(vc_audit_entry *e)
{
  if (e == NULL)
    return;
  vc__free(e->actor);
  vc__free(e->action);
  vc__free(e->entity_id);
  vc__free(e->summary);
  vc__free(e);
}

const char *vc_audit_entry_id(const vc_audit_entry *e)
{
  return e ? e->id : NULL;
}

const char *vc_audit_entry_tenant_id(const vc_audit_entry *e)
{
  return e ? e->tenant_id : NULL;
}

const char *vc_audit_entry_actor(const vc_audit_entry *e)
{
  return e ? e->actor : NULL;
}

const char *vc_audit_entry_action(const vc_audit_entry *e)
{
  return e ? e->action : NULL;
}

const char *vc_audit_entry_entity_id(const vc_audit_entry *e)
{
  return e ? e->entity_id : NULL;
}

const char *vc_audit_entry_summary_json(const vc_audit_entry *e)
{
  return e ? e->summary : NULL;
}

int64_t vc_audit_entry_at(const vc_audit_entry *e)
{
  return e ? e->at : 0;
}

static char *dup_col(vc__stmt *s, int col)
{
  const char *v = vc__stmt_text(s, col);

  return vc__strdup(v ? v : "");
}

static int entry_from_stmt(void **out, vc__stmt *s)
{
  vc_audit_entry *e = vc__calloc(1, sizeof(*e));

  if (e == NULL)
    return vc_error_set_oom();
  snprintf(e->tenant_id, sizeof(e->tenant_id), "%s", vc__stmt_text(s, 0));
  snprintf(e->id, sizeof(e->id), "%s", vc__stmt_text(s, 1));
  e->actor = dup_col(s, 2);
  e->action = dup_col(s, 3);
  e->entity_id = dup_col(s, 4);
  e->summary = dup_col(s, 5);
  e->at = vc__stmt_int64(s, 6);
  if (!e->actor || !e->action || !e->entity_id || !e->summary) {
    vc_audit_entry_free(e);
    return vc_error_set_oom();
  }
  *out = e;
  return 0;
}

/* ---- list -------------------------------------------------------------- */

/* The action prefix matches with substr(), not LIKE: '_' and '%' are
 * ordinary characters of an action. */
static const char SQL_PAGE[] =
  "SELECT tenant_id, id, actor, action, entity_id, summary, created_at"
  " FROM vc_audit WHERE tenant_id = ?1 AND (?2 = '' OR id < ?2)"
  " AND (?3 = '' OR substr(action, 1, length(?3)) = ?3)"
  " AND (?4 = '' OR entity_id = ?4) AND (?5 IS NULL OR actor = ?5)"
  " AND (?6 = 0 OR created_at >= ?6) AND (?7 = 0 OR created_at < ?7)"
  " ORDER BY id DESC LIMIT 50";

typedef struct audit_iter {
  vc__page_iter page;
  char tenant_id[VC_ID_SIZE];
  char prefix[FILTER_MAX + 1];
  char entity[VC_ID_SIZE];
  char actor[VC_AUDIT_ACTOR_MAX + 1];
  int has_actor;
  int64_t since, until;
} audit_iter;

static int page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const audit_iter *it = (const audit_iter *)p;

  return vc__db_query(out, db, SQL_PAGE, "tttttii", it->tenant_id,
                      p->base.cursor, it->prefix, it->entity,
                      it->has_actor ? it->actor : NULL, it->since,
                      it->until);
}

static void page_row_free(void *row)
{
  vc_audit_entry_free(row);
}

static const char *page_row_key(const void *row)
{
  return ((const vc_audit_entry *)row)->id;
}

static const vc__page_ops AUDIT_PAGES = {
  { "audit entry", vc__page_iter_free }, page_query, entry_from_stmt,
  page_row_free, page_row_key
};

static int list(vc_iter **out, vc_store *store, const char *tenant_id,
                const vc_audit_filter *f)
{
  audit_iter *it;
  int rc;

  VC_CHECK_VERSION(f, VC_AUDIT_FILTER_VERSION, "vc_audit_filter");
  if (f != NULL) {
    if (f->after != NULL && f->after[0] != '\0' && !vc__ulid_valid(f->after))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "cursor is not an audit list cursor");
    /* Every entity the library audits has an id of this shape. */
    if (f->entity_id != NULL && f->entity_id[0] != '\0' &&
        !vc__ulid_valid(f->entity_id))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "entity filter is not an id");
    if ((rc = vc__check_text("action prefix", f->action_prefix, FILTER_MAX,
                             0)) < 0 ||
        (rc = vc__check_text("actor filter", f->actor, VC_AUDIT_ACTOR_MAX,
                             0)) < 0)
      return rc;
    if (f->since < 0 || f->until < 0 ||
        (f->until != 0 && f->until < f->since))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "time range is negative or inverted");
  }
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(&it->page, &AUDIT_PAGES, store,
                     f != NULL ? f->after : NULL);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", tenant_id);
  if (f != NULL) {
    snprintf(it->prefix, sizeof(it->prefix), "%s",
             f->action_prefix ? f->action_prefix : "");
    snprintf(it->entity, sizeof(it->entity), "%s",
             f->entity_id ? f->entity_id : "");
    if (f->actor != NULL) {
      it->has_actor = 1;
      snprintf(it->actor, sizeof(it->actor), "%s", f->actor);
    }
    it->since = f->since;
    it->until = f->until;
  }
  *out = &it->page.base;
  return 0;
}

int vc_audit_list(vc_iter **out, vc_tenant *t, const vc_audit_filter *f)
{
  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  return list(out, vc__tenant_ctx(t)->store, vc_tenant_id(t), f);
}

int vc_audit_list_context(vc_iter **out, vc_ctx *ctx,
                          const vc_audit_filter *f)
{
  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(ctx);
  return list(out, ctx->store, "", f);
}

int vc_audit_next(vc_audit_entry **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &AUDIT_PAGES)) < 0)
    return rc;
  *out = row;
  return 0;
}

int vc_audit_filter_init(vc_audit_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_AUDIT_FILTER_VERSION, vc_audit_filter,
                 VC_AUDIT_FILTER_INIT);
}
