/*
 * Call queues (vyomcomm/queue.h): the stored queues and their members,
 * and for the arrival path (queue.h) the pick that claims an agent, the
 * line of waiting calls and the overflow decision.
 *
 * A pick reads the candidates in the strategy's order, then claims them
 * one by one with the agent's guarded UPDATE until one is taken: the
 * read only orders, the claim decides, so two picks racing for one agent
 * (threads, or processes on one store) give it to one call and move the
 * other on to the next candidate.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/snapshot.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "call/agent.h"
#include "call/hooks.h"
#include "call/queue.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

const char *vc_queue_strategy_name(int strategy)
{
  switch (strategy) {
  case VC_QUEUE_LONGEST_IDLE: return "longest_idle";
  case VC_QUEUE_ROUND_ROBIN: return "round_robin";
  case VC_QUEUE_RING_ALL: return "ring_all";
  case VC_QUEUE_BY_SKILL: return "by_skill";
  default: return "unknown";
  }
}

const char *vc_queue_overflow_name(int kind)
{
  switch (kind) {
  case VC_QUEUE_OVERFLOW_HANGUP: return "hangup";
  case VC_QUEUE_OVERFLOW_QUEUE: return "queue";
  case VC_QUEUE_OVERFLOW_VOICEMAIL: return "voicemail";
  case VC_QUEUE_OVERFLOW_CALLBACK: return "callback";
  default: return "unknown";
  }
}

/* ---- rows and handles ------------------------------------------------- */

typedef struct queue_row {
  char tenant_id[VC_ID_SIZE];
  char id[VC_ID_SIZE];
  char name[VC_QUEUE_NAME_MAX + 1];
  char overflow_target[VC_ID_SIZE];
  char *moh_url;
  int strategy, max_wait_s, announce, overflow_kind;
  int64_t created_at, updated_at;
  struct queue_row *retired;  /* older snapshots of the same handle */
} queue_row;

struct vc_queue {
  vc_ctx *ctx;
  pthread_mutex_t lock;
  queue_row *row;
};

#define COLUMNS "q.tenant_id, q.id, q.name, q.strategy, q.max_wait_s," \
                " q.announce_position, q.overflow_kind, q.overflow_target," \
                " q.moh_url, q.created_at, q.updated_at"
#define LIVE " JOIN vc_tenant t ON t.id = q.tenant_id AND t.deleted_at IS NULL"

static const char SQL_INSERT[] =
  "INSERT INTO vc_queue (tenant_id, id, name, strategy, max_wait_s,"
  " announce_position, overflow_kind, overflow_target, moh_url,"
  " created_at, updated_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)";
static const char SQL_UPDATE[] =
  "UPDATE vc_queue SET name = ?3, strategy = ?4, max_wait_s = ?5,"
  " announce_position = ?6, overflow_kind = ?7, overflow_target = ?8,"
  " moh_url = ?9, updated_at = ?10 WHERE tenant_id = ?1 AND id = ?2";
/* An id match wins over a name match. */
static const char SQL_BY_KEY[] =
  "SELECT " COLUMNS " FROM vc_queue q" LIVE
  " WHERE q.tenant_id = ?1 AND (q.id = ?2 OR q.name = ?2)"
  " ORDER BY CASE WHEN q.id = ?2 THEN 0 ELSE 1 END LIMIT 1";
static const char SQL_PAGE[] =
  "SELECT " COLUMNS " FROM vc_queue q" LIVE
  " WHERE q.tenant_id = ?1 AND q.id > ?2 ORDER BY q.id LIMIT 50";
static const char SQL_OVERFLOW_OF[] =
  "SELECT overflow_kind, overflow_target FROM vc_queue"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_IN_USE[] =
  "SELECT 'a number routes to it' FROM vc_number WHERE tenant_id = ?1"
  " AND entry_kind = 2 AND entry_id = ?2"
  " UNION ALL SELECT 'another queue overflows to it' FROM vc_queue"
  " WHERE tenant_id = ?1 AND overflow_target = ?2 AND overflow_kind = 2"
  " AND id <> ?2"
  " UNION ALL SELECT 'calls wait in it' FROM vc_queue_call"
  " WHERE tenant_id = ?1 AND queue_id = ?2";
static const char SQL_DELETE_MEMBERS[] =
  "DELETE FROM vc_queue_member WHERE tenant_id = ?1 AND queue_id = ?2";
static const char SQL_DELETE[] =
  "DELETE FROM vc_queue WHERE tenant_id = ?1 AND id = ?2";

static void row_free(queue_row *r)
{
  while (r != NULL) {
    queue_row *next = r->retired;
    vc__free(r->moh_url);
    vc__free(r);
    r = next;
  }
}

static int row_from_stmt(queue_row **out, vc__stmt *s)
{
  queue_row *r = vc__calloc(1, sizeof(*r));

  if (r == NULL)
    return vc_error_set_oom();
  snprintf(r->tenant_id, sizeof(r->tenant_id), "%s", vc__stmt_text(s, 0));
  snprintf(r->id, sizeof(r->id), "%s", vc__stmt_text(s, 1));
  snprintf(r->name, sizeof(r->name), "%s", vc__stmt_text(s, 2));
  r->strategy = (int)vc__stmt_int64(s, 3);
  r->max_wait_s = (int)vc__stmt_int64(s, 4);
  r->announce = (int)vc__stmt_int64(s, 5);
  r->overflow_kind = (int)vc__stmt_int64(s, 6);
  snprintf(r->overflow_target, sizeof(r->overflow_target), "%s",
           vc__stmt_text(s, 7));
  r->moh_url = vc__strdup(vc__stmt_text(s, 8));
  r->created_at = vc__stmt_int64(s, 9);
  r->updated_at = vc__stmt_int64(s, 10);
  if (r->moh_url == NULL) {
    row_free(r);
    return vc_error_set_oom();
  }
  *out = r;
  return 0;
}

static int not_found(const char *key)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND, "no queue '%.64s'",
                       key);
}

static int load(queue_row **out, vc__db *db, const char *tenant_id,
                const char *key)
{
  vc__stmt *s;
  int rc;

  *out = NULL;
  if ((rc = vc__db_query(&s, db, SQL_BY_KEY, "tt", tenant_id, key)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    rc = row_from_stmt(out, s);
  else if (rc == VC_STORAGE_DONE)
    rc = not_found(key);
  vc__stmt_done(s);
  return rc;
}

static int handle_new(vc_queue **out, vc_ctx *ctx, queue_row *row)
{
  vc_queue *q = vc__calloc(1, sizeof(*q));

  if (q == NULL) {
    row_free(row);
    return vc_error_set_oom();
  }
  q->ctx = ctx;
  q->row = row;
  pthread_mutex_init(&q->lock, NULL);
  *out = q;
  return 0;
}

void vc_queue_free(vc_queue *q)
{
  if (q == NULL)
    return;
  row_free(q->row);
  pthread_mutex_destroy(&q->lock);
  vc__free(q);
}

#define GETTER(type, name, expr, none) \
  VC__SNAPSHOT_GETTER(queue, type, name, expr, none)
GETTER(const char *, id, id, NULL)
GETTER(const char *, tenant_id, tenant_id, NULL)
GETTER(const char *, name, name, NULL)
GETTER(int, strategy_of, strategy, 0)
GETTER(int, max_wait_seconds, max_wait_s, 0)
GETTER(int, announce_position, announce, 0)
GETTER(int, overflow_kind, overflow_kind, 0)
GETTER(const char *, overflow_target, overflow_target, NULL)
GETTER(const char *, moh_url, moh_url, NULL)
GETTER(int64_t, created_at, created_at, 0)
GETTER(int64_t, updated_at, updated_at, 0)
#undef GETTER

int vc_queue_spec_init(vc_queue_spec *s, unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_QUEUE_SPEC_VERSION, vc_queue_spec,
                 VC_QUEUE_SPEC_INIT);
}

int vc_queue_filter_init(vc_queue_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_QUEUE_FILTER_VERSION, vc_queue_filter,
                 VC_QUEUE_FILTER_INIT);
}

int vc_queue_member_filter_init(vc_queue_member_filter *f,
                                unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_QUEUE_MEMBER_FILTER_VERSION,
                 vc_queue_member_filter, VC_QUEUE_MEMBER_FILTER_INIT);
}

/* ---- validation --------------------------------------------------------- */

static int check_name(const char *name)
{
  return vc__check_token("queue name", name, VC_QUEUE_NAME_MAX, "a-z0-9",
                         "a-z0-9_.-");
}

static int check_key(const char *key)
{
  return vc__ulid_valid(key) ? 0 : check_name(key);
}

/* An https URL with a host, printable ASCII without spaces. */
static int check_url(const char *s)
{
  size_t n;

  if (s == NULL || s[0] == '\0')
    return 0;
  n = strnlen(s, VC_QUEUE_URL_MAX + 1);
  if (n > VC_QUEUE_URL_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "queue moh_url is longer than %d bytes",
                         VC_QUEUE_URL_MAX);
  if (strncmp(s, "https://", 8) != 0 || n == 8 || s[8] == '/' ||
      s[8] == '?' || s[8] == '#')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "queue moh_url must be an https URL with a host");
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
        s[i] == '"' || s[i] == '<' || s[i] == '>' || s[i] == '\\')
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "queue moh_url has a character not allowed in "
                           "a URL");
  return 0;
}

/* The settings to store: the spec over the current row (or defaults). */
typedef struct settings {
  const char *name, *moh_url;
  int strategy, max_wait_s, announce, overflow_kind;
  char overflow_target[VC_ID_SIZE];
} settings;

/* Overflow to another queue must not come back to `self` ("" for a new
 * queue, which nothing can point at yet). */
static int check_overflow_loop(vc__db *db, const char *tenant_id,
                               const char *self, const char *target)
{
  char at[VC_ID_SIZE];
  vc__stmt *s;
  int rc;

  snprintf(at, sizeof(at), "%s", target);
  for (int hop = 0; hop < 32; hop++) {
    int kind = 0;

    if (strcmp(at, self) == 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "queue overflow leads back to the queue");
    if ((rc = vc__db_query(&s, db, SQL_OVERFLOW_OF, "tt", tenant_id,
                           at)) < 0)
      return rc;
    if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
      kind = (int)vc__stmt_int64(s, 0);
      snprintf(at, sizeof(at), "%s", vc__stmt_text(s, 1));
    }
    vc__stmt_done(s);
    if (rc < 0)
      return rc;
    if (kind != VC_QUEUE_OVERFLOW_QUEUE)
      return 0;
  }
  return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "queue overflow chain is longer than 32 queues");
}

static int resolve_settings(settings *st, vc__db *db, const char *tenant_id,
                            const char *self, const vc_queue_spec *spec,
                            const queue_row *cur)
{
  const char *target;
  int rc;

  memset(st, 0, sizeof(*st));
  if ((spec->name != NULL || cur == NULL) &&
      (rc = check_name(spec->name)) < 0)
    return rc;
  st->name = spec->name ? spec->name : cur->name;
  if (spec->strategy < 0 || spec->strategy > VC_QUEUE_BY_SKILL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown queue strategy %d", spec->strategy);
  st->strategy = spec->strategy ? spec->strategy
                 : cur ? cur->strategy : VC_QUEUE_LONGEST_IDLE;
  if (spec->max_wait_s < -1 || spec->max_wait_s > VC_QUEUE_MAX_WAIT_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "queue max_wait_s must be 0..%d",
                         VC_QUEUE_MAX_WAIT_MAX);
  st->max_wait_s = spec->max_wait_s >= 0 ? spec->max_wait_s
                   : cur ? cur->max_wait_s : VC_QUEUE_MAX_WAIT_DEFAULT;
  if (spec->announce_position < -1 || spec->announce_position > 1)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "queue announce_position must be 0 or 1");
  st->announce = spec->announce_position >= 0 ? spec->announce_position
                 : cur ? cur->announce : 0;
  if ((rc = check_url(spec->moh_url)) < 0)
    return rc;
  st->moh_url = spec->moh_url ? spec->moh_url : cur ? cur->moh_url : "";
  if (spec->overflow_kind < 0 ||
      spec->overflow_kind > VC_QUEUE_OVERFLOW_CALLBACK)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown queue overflow kind %d",
                         spec->overflow_kind);
  st->overflow_kind = spec->overflow_kind ? spec->overflow_kind
                      : cur ? cur->overflow_kind : VC_QUEUE_OVERFLOW_HANGUP;
  /* A new kind without a target names none. */
  target = spec->overflow_target != NULL ? spec->overflow_target
           : spec->overflow_kind != 0 || cur == NULL ? ""
           : cur->overflow_target;
  if (target[0] != '\0' && check_key(target) < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "queue overflow_target must be an id or a name");
  switch (st->overflow_kind) {
  case VC_QUEUE_OVERFLOW_HANGUP:
    if (target[0] != '\0')
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "queue overflow 'hangup' takes no target");
    break;
  case VC_QUEUE_OVERFLOW_QUEUE:
    if (target[0] == '\0')
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "queue overflow 'queue' needs a target queue");
    if ((rc = vc__queue_resolve(db, tenant_id, target,
                                st->overflow_target)) < 0)
      return vc__error_wrap("queue overflow_target");
    if ((rc = check_overflow_loop(db, tenant_id, self,
                                  st->overflow_target)) < 0)
      return rc;
    break;
  default: /* voicemail, callback: an agent or none */
    if (target[0] != '\0') {
      char number[VC_CALL_ADDRESS_MAX + 1];

      if ((rc = vc__agent_resolve(db, tenant_id, target,
                                  st->overflow_target, number)) < 0)
        return vc__error_wrap("queue overflow_target");
    }
    break;
  }
  return 0;
}

static void name_payload(char *buf, size_t size, const char *name)
{
  snprintf(buf, size, "{\"name\":\"%s\"}", name);
}

/* ---- create, look up, update, delete ------------------------------------ */

int vc__queue_resolve(vc__db *db, const char *tenant_id,
                      const char *key, char queue_id[VC_ID_SIZE])
{
  queue_row *r;
  int rc;

  if (key == NULL || check_key(key) < 0)
    return not_found(key ? key : "");
  if ((rc = load(&r, db, tenant_id, key)) < 0)
    return rc;
  snprintf(queue_id, VC_ID_SIZE, "%s", r->id);
  row_free(r);
  return 0;
}

int vc_queue_new(vc_queue **out, vc_tenant *t, const vc_queue_spec *spec)
{
  char id[VC_ID_SIZE], payload[128];
  queue_row *row = NULL;
  const char *tenant_id;
  settings st;
  vc__db *db;
  vc_ctx *ctx;
  int rc;

  if (out != NULL)
    *out = NULL;
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_QUEUE_SPEC_VERSION, "vc_queue_spec");
  if ((rc = check_name(spec->name)) < 0)
    return rc;
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  if ((rc = vc__new_id(ctx, id)) < 0 ||
      (rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  name_payload(payload, sizeof(payload), spec->name);
  if ((rc = resolve_settings(&st, db, tenant_id, "", spec, NULL)) < 0)
    goto fail;
  rc = vc__db_run(db, SQL_INSERT, "tttii" "iitti", tenant_id, id, st.name,
                  (int64_t)st.strategy, (int64_t)st.max_wait_s,
                  (int64_t)st.announce, (int64_t)st.overflow_kind,
                  st.overflow_target, st.moh_url, vc__now(ctx));
  if (rc == VC_EEXISTS)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EEXISTS,
                       "a queue named '%s' exists", spec->name);
  if (rc < 0 ||
      (rc = vc__event_append(db, ctx, tenant_id, "queue.created", id,
                             payload)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "queue.create", id, payload)) < 0 ||
      (rc = load(&row, db, tenant_id, id)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  goto release;
fail:
  vc__db_rollback(db);
  row_free(row);
  row = NULL;
release:
  vc__db_release(db);
  if (rc == 0 && out != NULL)
    return handle_new(out, ctx, row);
  row_free(row);
  return rc;
}

int vc_queue_lookup(vc_queue **out, vc_tenant *t, const char *key)
{
  queue_row *row = NULL;
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if (key == NULL || check_key(key) < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "queue key must be an id or a name");
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = load(&row, db, vc_tenant_id(t), key);
  vc__db_release(db);
  return rc < 0 ? rc : handle_new(out, ctx, row);
}

int vc_queue_update(vc_queue *q, const vc_queue_spec *spec)
{
  char payload[128], fields[160];
  queue_row *cur, *row = NULL;
  settings st;
  vc__db *db = NULL;
  int rc;

  VC_ASSERT_ARG(q);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_QUEUE_SPEC_VERSION, "vc_queue_spec");
  pthread_mutex_lock(&q->lock);
  cur = q->row;
  if ((rc = vc__db_acquire(&db, q->ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = resolve_settings(&st, db, cur->tenant_id, cur->id, spec,
                             cur)) < 0)
    goto fail;
  rc = vc__db_run(db, SQL_UPDATE, "tttii" "iitti", cur->tenant_id, cur->id,
                  st.name, (int64_t)st.strategy, (int64_t)st.max_wait_s,
                  (int64_t)st.announce, (int64_t)st.overflow_kind,
                  st.overflow_target, st.moh_url, vc__now(q->ctx));
  if (rc == VC_EEXISTS)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EEXISTS,
                       "a queue named '%s' exists", st.name);
  if (rc == 0 && vc__db_changes(db) == 0)
    rc = not_found(cur->id);
  if (rc < 0)
    goto fail;
  name_payload(payload, sizeof(payload), st.name);
  {
    static const char *const names[] = {
      "name", "strategy", "max_wait_s", "announce_position", "overflow",
      "moh_url"
    };
    const int set[] = {
      spec->name != NULL, spec->strategy != 0, spec->max_wait_s >= 0,
      spec->announce_position >= 0,
      spec->overflow_kind != 0 || spec->overflow_target != NULL,
      spec->moh_url != NULL
    };
    vc__audit_fields(fields, sizeof(fields), names, set, 6);
  }
  if ((rc = vc__event_append(db, q->ctx, cur->tenant_id, "queue.updated",
                             cur->id, payload)) < 0 ||
      (rc = vc__audit(db, q->ctx, cur->tenant_id, "queue.update", cur->id,
                      fields)) < 0 ||
      (rc = load(&row, db, cur->tenant_id, cur->id)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  row->retired = q->row;
  q->row = row;
  goto release;
fail:
  vc__db_rollback(db);
  row_free(row);
release:
  vc__db_release(db);
unlock:
  pthread_mutex_unlock(&q->lock);
  return rc;
}

int vc_queue_delete(vc_queue *q)
{
  char payload[128];
  const queue_row *cur;
  vc__stmt *s;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(q);
  pthread_mutex_lock(&q->lock);
  cur = q->row;
  name_payload(payload, sizeof(payload), cur->name);
  if ((rc = vc__db_acquire(&db, q->ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__db_query(&s, db, SQL_IN_USE, "tt", cur->tenant_id,
                         cur->id)) < 0)
    goto fail;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                       "queue '%s' is in use: %s", cur->name,
                       vc__stmt_text(s, 0));
  vc__stmt_done(s);
  if (rc < 0)
    goto fail;
  if ((rc = vc__db_run(db, SQL_DELETE, "tt", cur->tenant_id, cur->id)) < 0)
    goto fail;
  if (vc__db_changes(db) == 0) {
    rc = not_found(cur->id);
    goto fail;
  }
  if ((rc = vc__db_run(db, SQL_DELETE_MEMBERS, "tt", cur->tenant_id,
                       cur->id)) < 0 ||
      (rc = vc__event_append(db, q->ctx, cur->tenant_id, "queue.deleted",
                             cur->id, payload)) < 0 ||
      (rc = vc__audit(db, q->ctx, cur->tenant_id, "queue.delete", cur->id,
                      payload)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  goto release;
fail:
  vc__db_rollback(db);
release:
  vc__db_release(db);
unlock:
  pthread_mutex_unlock(&q->lock);
  return rc;
}

/* ---- vc_queue_list ------------------------------------------------------- */

typedef struct queue_iter {
  vc__page_iter page;
  vc_ctx *ctx;
  char tenant_id[VC_ID_SIZE];
} queue_iter;

static int page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const queue_iter *it = (const queue_iter *)p;

  return vc__db_query(out, db, SQL_PAGE, "tt", it->tenant_id,
                      p->base.cursor);
}

static int page_row(void **out, vc__stmt *s)
{
  return row_from_stmt((queue_row **)out, s);
}

static void page_row_free(void *row)
{
  row_free(row);
}

static const char *page_row_key(const void *row)
{
  return ((const queue_row *)row)->id;
}

static const vc__page_ops QUEUE_PAGES = {
  { "queue", vc__page_iter_free }, page_query, page_row, page_row_free,
  page_row_key
};

int vc_queue_list(vc_iter **out, vc_tenant *t, const vc_queue_filter *f)
{
  queue_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_QUEUE_FILTER_VERSION, "vc_queue_filter");
  if (f != NULL && f->after != NULL && f->after[0] != '\0' &&
      !vc__ulid_valid(f->after))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not a queue list cursor");
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  it->ctx = vc__tenant_ctx(t);
  vc__page_iter_init(&it->page, &QUEUE_PAGES, it->ctx->store,
                     f != NULL ? f->after : NULL);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  *out = &it->page.base;
  return 0;
}

int vc_queue_next(vc_queue **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &QUEUE_PAGES)) < 0)
    return rc;
  return handle_new(out, ((queue_iter *)base)->ctx, row);
}

/* ---- skills -------------------------------------------------------------- */

typedef struct skill_set {
  char tags[VC_QUEUE_SKILLS_MAX][VC_QUEUE_SKILL_MAX + 1];
  size_t n;
} skill_set;

static int cmp_tag(const void *a, const void *b)
{
  return strcmp(a, b);
}

/* "a,b" into a sorted set without duplicates; NULL or "" is empty. */
static int parse_skills(skill_set *set, const char *what, const char *in)
{
  const char *p = in;

  set->n = 0;
  if (in == NULL || in[0] == '\0')
    return 0;
  if (strnlen(in, 1024) >= 1024)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "%s: too long", what);
  for (;;) {
    size_t len = strcspn(p, ",");
    char tag[VC_QUEUE_SKILL_MAX + 1];
    int rc;

    if (len == 0 || len > VC_QUEUE_SKILL_MAX)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "%s: a tag has 1..%d bytes", what,
                           VC_QUEUE_SKILL_MAX);
    memcpy(tag, p, len);
    tag[len] = '\0';
    if ((rc = vc__check_token(what, tag, VC_QUEUE_SKILL_MAX, "a-z0-9",
                              "a-z0-9_-")) < 0)
      return rc;
    {
      int dup = 0;

      for (size_t i = 0; i < set->n; i++)
        dup |= strcmp(set->tags[i], tag) == 0;
      if (!dup) {
        if (set->n == VC_QUEUE_SKILLS_MAX)
          return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                               "%s: more than %d tags", what,
                               VC_QUEUE_SKILLS_MAX);
        memcpy(set->tags[set->n++], tag, len + 1);
      }
    }
    if (p[len] == '\0')
      break;
    p += len + 1;
  }
  qsort(set->tags, set->n, sizeof(set->tags[0]), cmp_tag);
  return 0;
}

/* The stored form: ",a,b," ("" when empty), so a tag is found as ",a,". */
static void skills_stored(char *out, size_t size, const skill_set *set)
{
  size_t len = 0;

  out[0] = '\0';
  for (size_t i = 0; i < set->n; i++)
    len += (size_t)snprintf(out + len, size - len, "%s%s,",
                            i == 0 ? "," : "", set->tags[i]);
}

static int has_all(const char *stored, const skill_set *need)
{
  char probe[VC_QUEUE_SKILL_MAX + 3];

  for (size_t i = 0; i < need->n; i++) {
    snprintf(probe, sizeof(probe), ",%s,", need->tags[i]);
    if (strstr(stored, probe) == NULL)
      return 0;
  }
  return 1;
}

/* ---- members ------------------------------------------------------------- */

static const char SQL_MEMBER_SKILLS[] =
  "UPDATE vc_queue_member SET skills = ?4"
  " WHERE tenant_id = ?1 AND queue_id = ?2 AND agent_id = ?3";
static const char SQL_MEMBER_COUNT[] =
  "SELECT COUNT(*), COALESCE(MAX(position), 0) FROM vc_queue_member"
  " WHERE tenant_id = ?1 AND queue_id = ?2";
static const char SQL_MEMBER_ADD[] =
  "INSERT INTO vc_queue_member (tenant_id, queue_id, agent_id, position,"
  " skills, added_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_MEMBER_REMOVE[] =
  "DELETE FROM vc_queue_member WHERE tenant_id = ?1 AND queue_id = ?2"
  " AND agent_id = ?3";
static const char SQL_QUEUE_LIVE[] =
  "SELECT 1 FROM vc_queue q" LIVE " WHERE q.tenant_id = ?1 AND q.id = ?2";

static int queue_live(vc__db *db, const queue_row *q)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_QUEUE_LIVE, "tt", q->tenant_id,
                         q->id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    return not_found(q->id);
  return rc < 0 ? rc : 0;
}

/* {"agent_id":"...","skills":",a,b,"}: ids and tags, nothing to escape. */
static void member_payload(char *buf, size_t size, const char *agent_id,
                           const char *skills)
{
  snprintf(buf, size, "{\"agent_id\":\"%s\",\"skills\":\"%s\"}", agent_id,
           skills);
}

int vc_queue_member_add(vc_queue *q, const char *agent, const char *skills)
{
  char agent_id[VC_ID_SIZE], number[VC_CALL_ADDRESS_MAX + 1];
  char stored[VC_QUEUE_SKILLS_MAX * (VC_QUEUE_SKILL_MAX + 1) + 2];
  char payload[sizeof(stored) + 64];
  const queue_row *cur;
  skill_set set;
  vc__stmt *s;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(q);
  if ((rc = parse_skills(&set, "queue member skills", skills)) < 0)
    return rc;
  skills_stored(stored, sizeof(stored), &set);
  pthread_mutex_lock(&q->lock);
  cur = q->row;
  if ((rc = vc__db_acquire(&db, q->ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = queue_live(db, cur)) < 0 ||
      (rc = vc__agent_resolve(db, cur->tenant_id, agent, agent_id,
                              number)) < 0 ||
      (rc = vc__db_run(db, SQL_MEMBER_SKILLS, "tttt", cur->tenant_id,
                       cur->id, agent_id, stored)) < 0)
    goto fail;
  if (vc__db_changes(db) == 0) {
    int64_t count = 0, last = 0;

    if ((rc = vc__db_query(&s, db, SQL_MEMBER_COUNT, "tt", cur->tenant_id,
                           cur->id)) < 0)
      goto fail;
    if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
      count = vc__stmt_int64(s, 0);
      last = vc__stmt_int64(s, 1);
      rc = 0;
    }
    vc__stmt_done(s);
    if (rc < 0)
      goto fail;
    if (count >= VC_QUEUE_MEMBERS_MAX) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "queue '%s' has %d members already", cur->name,
                         VC_QUEUE_MEMBERS_MAX);
      goto fail;
    }
    if ((rc = vc__db_run(db, SQL_MEMBER_ADD, "tttiti", cur->tenant_id,
                         cur->id, agent_id, last + 1, stored,
                         vc__now(q->ctx))) < 0)
      goto fail;
  }
  member_payload(payload, sizeof(payload), agent_id, stored);
  if ((rc = vc__event_append(db, q->ctx, cur->tenant_id,
                             "queue.member_added", cur->id, payload)) < 0 ||
      (rc = vc__audit(db, q->ctx, cur->tenant_id, "queue.member_add",
                      cur->id, payload)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  goto release;
fail:
  vc__db_rollback(db);
release:
  vc__db_release(db);
unlock:
  pthread_mutex_unlock(&q->lock);
  return rc;
}

int vc_queue_member_remove(vc_queue *q, const char *agent)
{
  char agent_id[VC_ID_SIZE], number[VC_CALL_ADDRESS_MAX + 1], payload[96];
  const queue_row *cur;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(q);
  pthread_mutex_lock(&q->lock);
  cur = q->row;
  if ((rc = vc__db_acquire(&db, q->ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__agent_resolve(db, cur->tenant_id, agent, agent_id,
                              number)) < 0 ||
      (rc = vc__db_run(db, SQL_MEMBER_REMOVE, "ttt", cur->tenant_id, cur->id,
                       agent_id)) < 0)
    goto fail;
  if (vc__db_changes(db) == 0) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "agent '%.64s' is not a member of queue '%s'", agent,
                       cur->name);
    goto fail;
  }
  snprintf(payload, sizeof(payload), "{\"agent_id\":\"%s\"}", agent_id);
  if ((rc = vc__event_append(db, q->ctx, cur->tenant_id,
                             "queue.member_removed", cur->id, payload)) < 0 ||
      (rc = vc__audit(db, q->ctx, cur->tenant_id, "queue.member_remove",
                      cur->id, payload)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  goto release;
fail:
  vc__db_rollback(db);
release:
  vc__db_release(db);
unlock:
  pthread_mutex_unlock(&q->lock);
  return rc;
}

struct vc_queue_member {
  char agent_id[VC_ID_SIZE];
  char skills[VC_QUEUE_SKILLS_MAX * (VC_QUEUE_SKILL_MAX + 1) + 2];
  char key[24];               /* the position in decimal: the cursor */
  int position;
  int64_t added_at;
};

static const char SQL_MEMBER_PAGE[] =
  "SELECT agent_id, position, skills, added_at FROM vc_queue_member"
  " WHERE tenant_id = ?1 AND queue_id = ?2 AND position > ?3"
  " ORDER BY position LIMIT 50";

typedef struct member_iter {
  vc__page_iter page;
  char tenant_id[VC_ID_SIZE];
  char queue_id[VC_ID_SIZE];
} member_iter;

static int member_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const member_iter *it = (const member_iter *)p;

  return vc__db_query(out, db, SQL_MEMBER_PAGE, "tti", it->tenant_id,
                      it->queue_id,
                      (int64_t)strtoll(p->base.cursor, NULL, 10));
}

static int member_row(void **out, vc__stmt *s)
{
  vc_queue_member *m = vc__calloc(1, sizeof(*m));
  const char *sk;
  size_t n;

  if (m == NULL)
    return vc_error_set_oom();
  snprintf(m->agent_id, sizeof(m->agent_id), "%s", vc__stmt_text(s, 0));
  m->position = (int)vc__stmt_int64(s, 1);
  /* Shown without the bounding commas: "a,b". */
  sk = vc__stmt_text(s, 2);
  sk = sk ? sk : "";
  n = strlen(sk);
  if (n >= 2)
    snprintf(m->skills, sizeof(m->skills), "%.*s", (int)(n - 2), sk + 1);
  m->added_at = vc__stmt_int64(s, 3);
  snprintf(m->key, sizeof(m->key), "%d", m->position);
  *out = m;
  return 0;
}

static void member_free(void *m)
{
  vc__free(m);
}

static const char *member_key(const void *m)
{
  return ((const vc_queue_member *)m)->key;
}

static const vc__page_ops MEMBER_PAGES = {
  { "queue member", vc__page_iter_free }, member_query, member_row,
  member_free, member_key
};

int vc_queue_members(vc_iter **out, const vc_queue *q,
                     const vc_queue_member_filter *f)
{
  member_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(q);
  VC_CHECK_VERSION(f, VC_QUEUE_MEMBER_FILTER_VERSION,
                   "vc_queue_member_filter");
  if (f != NULL && f->after != NULL && f->after[0] != '\0' &&
      (strlen(f->after) > 9 ||
       !vc__all_of(f->after, strlen(f->after), vc__is_digit)))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not a queue member cursor");
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(&it->page, &MEMBER_PAGES, q->ctx->store,
                     f != NULL ? f->after : NULL);
  pthread_mutex_lock((pthread_mutex_t *)&q->lock);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", q->row->tenant_id);
  snprintf(it->queue_id, sizeof(it->queue_id), "%s", q->row->id);
  pthread_mutex_unlock((pthread_mutex_t *)&q->lock);
  *out = &it->page.base;
  return 0;
}

int vc_queue_member_next(vc_queue_member **out, vc_iter *base)
{
  void *m;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&m, base, &MEMBER_PAGES)) < 0)
    return rc;
  *out = m;
  return 0;
}

void vc_queue_member_free(vc_queue_member *m)
{
  vc__free(m);
}

const char *vc_queue_member_agent_id(const vc_queue_member *m)
{
  return m ? m->agent_id : NULL;
}
const char *vc_queue_member_skills(const vc_queue_member *m)
{
  return m ? m->skills : NULL;
}
int vc_queue_member_position(const vc_queue_member *m)
{
  return m ? m->position : 0;
}
int64_t vc_queue_member_added_at(const vc_queue_member *m)
{
  return m ? m->added_at : 0;
}

/* ---- the pick ------------------------------------------------------------- */

/*
 * The members that could take a call at ?3, in the strategy's order:
 * available (an expired wrap-up reads as available from its end), no
 * call held. ?4 is the round-robin position: members after it first,
 * then from the start. ?5 1 orders by idle time, 0 by position.
 */
static const char SQL_CANDIDATES[] =
  "SELECT m.agent_id, m.position, m.skills FROM vc_queue_member m"
  " JOIN vc_agent a ON a.tenant_id = m.tenant_id AND a.id = m.agent_id"
  " WHERE m.tenant_id = ?1 AND m.queue_id = ?2 AND a.call_id IS NULL"
  " AND (a.state = 2 OR (a.state = 5 AND a.wrap_until <= ?3))"
  " ORDER BY CASE WHEN ?5 = 1 THEN (CASE WHEN a.state = 5"
  "  THEN a.wrap_until ELSE a.state_since END) ELSE 0 END,"
  " CASE WHEN m.position > ?4 THEN 0 ELSE 1 END, m.position"
  " LIMIT 500";
static const char SQL_QUEUE_PICK[] =
  "SELECT strategy, rr_position FROM vc_queue q" LIVE
  " WHERE q.tenant_id = ?1 AND q.id = ?2";
static const char SQL_RR_SET[] =
  "UPDATE vc_queue SET rr_position = ?3 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_WAIT_REMOVE[] =
  "DELETE FROM vc_queue_call WHERE tenant_id = ?1 AND queue_id = ?2"
  " AND call_id = ?3";

typedef struct candidate {
  char agent_id[VC_ID_SIZE];
  int position;
} candidate;

/* The queue's strategy and round-robin position. */
static int pick_settings(vc__db *db, const char *tenant_id,
                         const char *queue_id, int *strategy, int64_t *rr)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_QUEUE_PICK, "tt", tenant_id,
                         queue_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    *strategy = (int)vc__stmt_int64(s, 0);
    *rr = vc__stmt_int64(s, 1);
    rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = not_found(queue_id);
  }
  vc__stmt_done(s);
  return rc;
}

/* Up to `max` candidates with the skills, in order; *n of them. */
static int candidates(vc__db *db, const char *tenant_id,
                      const char *queue_id, const skill_set *need,
                      int64_t now, int by_idle, int64_t rr, candidate *out,
                      size_t max, size_t *n)
{
  vc__stmt *s;
  int rc;

  *n = 0;
  if ((rc = vc__db_query(&s, db, SQL_CANDIDATES, "ttiii", tenant_id,
                         queue_id, now, rr, (int64_t)by_idle)) < 0)
    return rc;
  while (*n < max && (rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    const char *skills = vc__stmt_text(s, 2);

    if (!has_all(skills ? skills : "", need))
      continue;
    snprintf(out[*n].agent_id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
    out[*n].position = (int)vc__stmt_int64(s, 1);
    (*n)++;
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

int vc__queue_pick(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                   const char *queue_id, const char *call_id,
                   const char *required_skills, int64_t now,
                   char agent_id_out[VC_ID_SIZE])
{
  candidate *cand;
  skill_set need;
  int64_t rr = 0;
  size_t n = 0;
  int strategy = 0, rc;

  agent_id_out[0] = '\0';
  if (call_id == NULL || call_id[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a pick needs a call id");
  if ((rc = parse_skills(&need, "required skills", required_skills)) < 0 ||
      (rc = pick_settings(db, tenant_id, queue_id, &strategy, &rr)) < 0)
    return rc;
  if ((cand = vc__calloc(VC_QUEUE_MEMBERS_MAX, sizeof(*cand))) == NULL)
    return vc_error_set_oom();
  rc = candidates(db, tenant_id, queue_id, &need, now,
                  strategy != VC_QUEUE_ROUND_ROBIN,
                  strategy == VC_QUEUE_ROUND_ROBIN ? rr : 0, cand,
                  VC_QUEUE_MEMBERS_MAX, &n);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    rc = vc__agent_claim_available(db, ctx, tenant_id, cand[i].agent_id,
                                   call_id, now);
    if (rc == VC_EBUSY) {        /* taken meanwhile: the next one */
      rc = 0;
      continue;
    }
    if (rc < 0)
      break;
    snprintf(agent_id_out, VC_ID_SIZE, "%s", cand[i].agent_id);
    if (strategy == VC_QUEUE_ROUND_ROBIN)
      rc = vc__db_run(db, SQL_RR_SET, "tti", tenant_id, queue_id,
                      (int64_t)cand[i].position);
    if (rc == 0)
      rc = vc__db_run(db, SQL_WAIT_REMOVE, "ttt", tenant_id, queue_id,
                      call_id);
    break;
  }
  vc__free(cand);
  if (rc < 0)
    agent_id_out[0] = '\0';
  return rc;
}

int vc__queue_ring_all(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *queue_id, const char *required_skills,
                       int64_t now, char ids[][VC_ID_SIZE], size_t max,
                       size_t *n)
{
  candidate cand[VC__QUEUE_RING_MAX];
  skill_set need;
  int64_t rr;
  int strategy, rc;

  (void)ctx;
  *n = 0;
  if (max > VC__QUEUE_RING_MAX)
    max = VC__QUEUE_RING_MAX;
  if ((rc = parse_skills(&need, "required skills", required_skills)) < 0 ||
      (rc = pick_settings(db, tenant_id, queue_id, &strategy, &rr)) < 0 ||
      (rc = candidates(db, tenant_id, queue_id, &need, now, 1, 0, cand, max,
                       n)) < 0)
    return rc;
  for (size_t i = 0; i < *n; i++)
    memcpy(ids[i], cand[i].agent_id, VC_ID_SIZE);
  return 0;
}

/* ---- the waiting line ------------------------------------------------------ */

static const char SQL_WAIT_ADD[] =
  "INSERT INTO vc_queue_call (tenant_id, queue_id, call_id, seq,"
  " enqueued_at, expires_at)"
  " SELECT ?1, ?2, ?3, COALESCE(MAX(c.seq), 0) + 1, ?4,"
  " CASE WHEN q.max_wait_s > 0 THEN ?4 + q.max_wait_s * 1000 ELSE 0 END"
  " FROM vc_queue q LEFT JOIN vc_queue_call c ON c.tenant_id = q.tenant_id"
  " AND c.queue_id = q.id WHERE q.tenant_id = ?1 AND q.id = ?2"
  " GROUP BY q.max_wait_s";
static const char SQL_WAIT_QUEUE_OF[] =
  "SELECT queue_id FROM vc_queue_call WHERE tenant_id = ?1 AND call_id = ?2";
static const char SQL_WAIT_POSITION[] =
  "SELECT COUNT(*) FROM vc_queue_call c WHERE c.tenant_id = ?1"
  " AND c.queue_id = ?2 AND c.seq <= (SELECT seq FROM vc_queue_call"
  " WHERE tenant_id = ?1 AND queue_id = ?2 AND call_id = ?3)";
static const char SQL_WAIT_HEAD[] =
  "SELECT call_id FROM vc_queue_call WHERE tenant_id = ?1 AND queue_id = ?2"
  " ORDER BY seq LIMIT 1";
static const char SQL_WAIT_ROW[] =
  "SELECT c.call_id, c.enqueued_at, c.expires_at, q.overflow_kind,"
  " q.overflow_target FROM vc_queue_call c JOIN vc_queue q"
  " ON q.tenant_id = c.tenant_id AND q.id = c.queue_id"
  " WHERE c.tenant_id = ?1 AND c.queue_id = ?2 AND c.call_id = ?3";
static const char SQL_WAIT_EXPIRED[] =
  "SELECT c.call_id, c.enqueued_at, c.expires_at, q.overflow_kind,"
  " q.overflow_target FROM vc_queue_call c JOIN vc_queue q"
  " ON q.tenant_id = c.tenant_id AND q.id = c.queue_id"
  " WHERE c.tenant_id = ?1 AND c.queue_id = ?2 AND c.expires_at > 0"
  " AND c.expires_at <= ?3 ORDER BY c.seq LIMIT ?4";

static int waiting_queue(vc__db *db, const char *tenant_id,
                         const char *call_id, char queue_id[VC_ID_SIZE])
{
  vc__stmt *s;
  int rc;

  queue_id[0] = '\0';
  if ((rc = vc__db_query(&s, db, SQL_WAIT_QUEUE_OF, "tt", tenant_id,
                         call_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    snprintf(queue_id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

int vc__queue_position(vc__db *db, const char *tenant_id,
                       const char *queue_id, const char *call_id,
                       int *position)
{
  vc__stmt *s;
  int rc;

  *position = 0;
  if ((rc = vc__db_query(&s, db, SQL_WAIT_POSITION, "ttt", tenant_id,
                         queue_id, call_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    *position = (int)vc__stmt_int64(s, 0);
    rc = 0;
  }
  vc__stmt_done(s);
  if (rc == 0 && *position == 0)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "call %.26s is not waiting in queue %.26s", call_id,
                       queue_id);
  return rc < 0 ? rc : 0;
}

int vc__queue_enqueue(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      const char *queue_id, const char *call_id,
                      int64_t now, int *position)
{
  char in[VC_ID_SIZE];
  int pos = 0, rc;

  (void)ctx;
  if (position != NULL)
    *position = 0;
  if (call_id == NULL || call_id[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "enqueueing needs a call id");
  if ((rc = waiting_queue(db, tenant_id, call_id, in)) < 0)
    return rc;
  if (in[0] != '\0' && strcmp(in, queue_id) != 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "call %.26s waits in another queue", call_id);
  if (in[0] == '\0') {
    if ((rc = vc__db_run(db, SQL_WAIT_ADD, "ttti", tenant_id, queue_id,
                         call_id, now)) < 0)
      return rc;
    if (vc__db_changes(db) == 0)
      return not_found(queue_id);
  }
  if ((rc = vc__queue_position(db, tenant_id, queue_id, call_id, &pos)) < 0)
    return rc;
  if (pos > VC__QUEUE_WAITING_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EBUSY,
                         "queue %.26s has %d calls waiting", queue_id,
                         VC__QUEUE_WAITING_MAX);
  if (position != NULL)
    *position = pos;
  return 0;
}

int vc__queue_dequeue(vc__db *db, const char *tenant_id,
                      const char *queue_id, const char *call_id)
{
  int rc;

  if ((rc = vc__db_run(db, SQL_WAIT_REMOVE, "ttt", tenant_id, queue_id,
                       call_id)) < 0)
    return rc;
  if (vc__db_changes(db) == 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "call %.26s is not waiting in queue %.26s",
                         call_id ? call_id : "", queue_id);
  return 0;
}

int vc__queue_head(vc__db *db, const char *tenant_id, const char *queue_id,
                   char call_id[VC_ID_SIZE])
{
  vc__stmt *s;
  int rc;

  call_id[0] = '\0';
  if ((rc = vc__db_query(&s, db, SQL_WAIT_HEAD, "tt", tenant_id,
                         queue_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    snprintf(call_id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

static void verdict_from(vc__queue_verdict *v, vc__stmt *s, int64_t now)
{
  int64_t expires = vc__stmt_int64(s, 2);

  memset(v, 0, sizeof(*v));
  snprintf(v->call_id, sizeof(v->call_id), "%s", vc__stmt_text(s, 0));
  v->waited_ms = now - vc__stmt_int64(s, 1);
  if (v->waited_ms < 0)
    v->waited_ms = 0;
  v->due = expires > 0 && now >= expires;
  v->kind = (int)vc__stmt_int64(s, 3);
  snprintf(v->target, sizeof(v->target), "%s", vc__stmt_text(s, 4));
}

int vc__queue_overflow_decide(vc__db *db, const char *tenant_id,
                              const char *queue_id, const char *call_id,
                              int64_t now, vc__queue_verdict *out)
{
  vc__stmt *s;
  int rc;

  memset(out, 0, sizeof(*out));
  if ((rc = vc__db_query(&s, db, SQL_WAIT_ROW, "ttt", tenant_id, queue_id,
                         call_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    verdict_from(out, s, now);
    rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "call %.26s is not waiting in queue %.26s",
                       call_id ? call_id : "", queue_id);
  }
  vc__stmt_done(s);
  return rc;
}

int vc__queue_expire(vc__db *db, const char *tenant_id,
                     const char *queue_id, int64_t now,
                     vc__queue_verdict *out, size_t max, size_t *n)
{
  vc__stmt *s;
  int rc;

  *n = 0;
  if (max == 0)
    return 0;
  if ((rc = vc__db_query(&s, db, SQL_WAIT_EXPIRED, "ttii", tenant_id,
                         queue_id, now, (int64_t)max)) < 0)
    return rc;
  while (*n < max && (rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    verdict_from(&out[(*n)++], s, now);
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  for (size_t i = 0; i < *n; i++)
    if ((rc = vc__db_run(db, SQL_WAIT_REMOVE, "ttt", tenant_id, queue_id,
                         out[i].call_id)) < 0)
      return rc;
  return 0;
}
