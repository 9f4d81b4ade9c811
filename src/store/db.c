/*
 * Connections taken from the store's pool, with a small cache of prepared
 * statements each. Library SQL strings are static, so the cache finds a
 * statement by the address of its SQL first.
 */
#include "core/common.h"
#include "db.h"

#include <stdarg.h>
#include <stdio.h>

struct vc__stmt {
  vc__db *db;
  void *handle;       /* the backend's statement */
  const char *sql;    /* the library's static SQL text */
  uint64_t last_used;
  int in_use;
  int cached;         /* 0: finalize when done */
  int checked;        /* parameter count checked against a type string */
};

struct vc__db {
  vc_store *store;
  void *conn;
  vc__stmt *cache;    /* store->stmt_cache_size slots */
  uint64_t tick;
};

static const vc_storage_ops *ops_of(const vc__db *db)
{
  return &db->store->ops;
}

static int db_open(vc__db **out, vc_store *store)
{
  vc__db *db = vc__calloc(1, sizeof(*db));
  int rc;

  if (db == NULL)
    return vc_error_set_oom();
  db->store = store;
  db->cache = vc__calloc(store->stmt_cache_size, sizeof(vc__stmt));
  if (db->cache == NULL) {
    vc__free(db);
    return vc_error_set_oom();
  }
  if ((rc = store->ops.connect(&db->conn, store->payload)) < 0) {
    vc__free(db->cache);
    vc__free(db);
    return rc;
  }
  *out = db;
  return 0;
}

void vc__db_close(vc__db *db);
void vc__db_close(vc__db *db)
{
  if (db == NULL)
    return;
  for (uint32_t i = 0; i < db->store->stmt_cache_size; i++)
    if (db->cache[i].handle != NULL)
      ops_of(db)->finalize(db->cache[i].handle);
  ops_of(db)->disconnect(db->conn, db->store->payload);
  vc__free(db->cache);
  vc__free(db);
}

int vc__db_acquire(vc__db **out, vc_store *s)
{
  int rc;

  pthread_mutex_lock(&s->lock);
  for (;;) {
    if (s->nidle > 0) {
      *out = s->idle[--s->nidle];
      pthread_mutex_unlock(&s->lock);
      return 0;
    }
    if (s->ops.max_connections == 0 || s->nopen < s->ops.max_connections)
      break;
    pthread_cond_wait(&s->idle_cond, &s->lock);
  }
  if (s->idle_cap <= s->nopen) {
    size_t cap = s->idle_cap ? s->idle_cap * 2 : 8;
    vc__db **p = vc__realloc(s->idle, cap * sizeof(*p));
    if (p == NULL) {
      pthread_mutex_unlock(&s->lock);
      return vc_error_set_oom();
    }
    s->idle = p;
    s->idle_cap = cap;
  }
  s->nopen++;
  pthread_mutex_unlock(&s->lock);

  if ((rc = db_open(out, s)) < 0) {
    pthread_mutex_lock(&s->lock);
    s->nopen--;
    pthread_cond_signal(&s->idle_cond);
    pthread_mutex_unlock(&s->lock);
  }
  return rc;
}

void vc__db_release(vc__db *db)
{
  vc_store *s;

  if (db == NULL)
    return;
  s = db->store;
  pthread_mutex_lock(&s->lock);
  s->idle[s->nidle++] = db; /* idle_cap >= nopen, so this fits */
  pthread_cond_signal(&s->idle_cond);
  pthread_mutex_unlock(&s->lock);
}

void vc__db_discard(vc__db *db)
{
  vc_store *s;

  if (db == NULL)
    return;
  s = db->store;
  vc__db_close(db);
  pthread_mutex_lock(&s->lock);
  s->nopen--;
  pthread_cond_signal(&s->idle_cond);
  pthread_mutex_unlock(&s->lock);
}

static const char SQL_READ_BEGIN[] = "BEGIN";
static const char SQL_READ_END[] = "COMMIT";

int vc__db_read_begin(vc__db *db)
{
  vc_error saved;
  char msg[512];

  if (ops_of(db)->dialect != VC_DIALECT_SQLITE)
    return 0;
  saved = *vc_error_last();
  snprintf(msg, sizeof(msg), "%s", saved.message);
  /* Kept prepared (from the statement cache): parsing BEGIN and COMMIT
   * for every send cost more than the locks they save. */
  if (vc__db_run(db, SQL_READ_BEGIN, "") < 0) {
    /* The host's transaction is open on its connection: read in it, and
     * keep the error the caller had. */
    vc_error_set_str(saved.klass, saved.code, msg);
    vc_error_set_provider_status(saved.provider_status);
    return 0;
  }
  return 1;
}

void vc__db_read_end(vc__db *db)
{
  /* Nothing was written: COMMIT only ends the snapshot. */
  vc__db_run(db, SQL_READ_END, "");
}

int vc__db_dialect(const vc__db *db)
{
  return ops_of(db)->dialect;
}

int vc__db_exec(vc__db *db, const char *sql)
{
  return ops_of(db)->exec(db->conn, sql);
}

int vc__db_prepare(vc__stmt **out, vc__db *db, const char *sql)
{
  uint32_t n = db->store->stmt_cache_size;
  vc__stmt *slot = NULL, *free_slot = NULL, *lru = NULL;
  void *handle;
  int rc;

  /* The library passes its static SQL strings: a pointer match first,
   * and string comparisons only when that fails. */
  for (uint32_t i = 0; i < n && slot == NULL; i++) {
    vc__stmt *c = &db->cache[i];
    if (c->handle != NULL && !c->in_use && c->sql == sql)
      slot = c;
  }
  for (uint32_t i = 0; i < n && slot == NULL; i++) {
    vc__stmt *c = &db->cache[i];
    if (c->handle == NULL) {
      if (free_slot == NULL)
        free_slot = c;
      continue;
    }
    if (!c->in_use && strcmp(c->sql, sql) == 0) {
      slot = c;
      break;
    }
    if (!c->in_use && (lru == NULL || c->last_used < lru->last_used))
      lru = c;
  }
  if (slot != NULL) {
    slot->in_use = 1;
    slot->last_used = ++db->tick;
    *out = slot;
    return 0;
  }
  if ((rc = ops_of(db)->prepare(&handle, db->conn, sql)) < 0)
    return rc;
  if (free_slot == NULL && lru != NULL) {
    ops_of(db)->finalize(lru->handle);
    lru->handle = NULL;
    free_slot = lru;
  }
  if (free_slot == NULL) {
    /* Every slot is in use (deeply nested queries): an uncached one. */
    vc__stmt *s = vc__calloc(1, sizeof(*s));
    if (s == NULL) {
      ops_of(db)->finalize(handle);
      return vc_error_set_oom();
    }
    free_slot = s;
  } else {
    free_slot->cached = 1;
  }
  free_slot->db = db;
  free_slot->handle = handle;
  free_slot->sql = sql;
  free_slot->in_use = 1;
  free_slot->checked = 0;
  free_slot->last_used = ++db->tick;
  *out = free_slot;
  return 0;
}

void vc__stmt_done(vc__stmt *s)
{
  if (s == NULL)
    return;
  if (!s->cached) {
    ops_of(s->db)->finalize(s->handle);
    vc__free(s);
    return;
  }
  ops_of(s->db)->reset(s->handle);
  s->in_use = 0;
}

int vc__db_begin(vc__db *db)
{
  return ops_of(db)->begin(db->conn);
}

int vc__db_commit(vc__db *db)
{
  return ops_of(db)->commit(db->conn);
}

void vc__db_rollback(vc__db *db)
{
  vc_error saved = *vc_error_last();
  char msg[512];

  snprintf(msg, sizeof(msg), "%s", saved.message);
  ops_of(db)->rollback(db->conn);
  vc_error_set_str(saved.klass, saved.code, msg);
  vc_error_set_provider_status(saved.provider_status);
}

int64_t vc__db_changes(vc__db *db)
{
  return ops_of(db)->changes(db->conn);
}

int vc__db_can_defer_sync(const vc_store *store)
{
  return store->set_lazy != NULL && store->sync != NULL;
}

int vc__db_set_lazy(vc__db *db, int lazy)
{
  if (!vc__db_can_defer_sync(db->store))
    return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ENOTSUPPORTED,
                         "the store cannot defer its syncs");
  return db->store->set_lazy(db->conn, lazy);
}

int vc__db_sync(vc__db *db)
{
  if (!vc__db_can_defer_sync(db->store))
    return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ENOTSUPPORTED,
                         "the store cannot defer its syncs");
  return db->store->sync(db->conn);
}

int vc__stmt_bind_text(vc__stmt *s, int idx, const char *text)
{
  if (text == NULL)
    return ops_of(s->db)->bind_null(s->handle, idx);
  return ops_of(s->db)->bind_text(s->handle, idx, text, strlen(text));
}

int vc__stmt_bind_text_kept(vc__stmt *s, int idx, const char *text)
{
  if (text == NULL)
    return ops_of(s->db)->bind_null(s->handle, idx);
  if (s->db->store->bind_text_borrowed != NULL)
    return s->db->store->bind_text_borrowed(s->handle, idx, text,
                                            strlen(text));
  return ops_of(s->db)->bind_text(s->handle, idx, text, strlen(text));
}

int vc__stmt_bind_textn(vc__stmt *s, int idx, const char *text, size_t n)
{
  return ops_of(s->db)->bind_text(s->handle, idx, text, n);
}

int vc__stmt_bind_int64(vc__stmt *s, int idx, int64_t v)
{
  return ops_of(s->db)->bind_int64(s->handle, idx, v);
}

int vc__stmt_bind_blob(vc__stmt *s, int idx, const void *p, size_t n)
{
  return ops_of(s->db)->bind_blob(s->handle, idx, p, n);
}

int vc__stmt_bind_null(vc__stmt *s, int idx)
{
  return ops_of(s->db)->bind_null(s->handle, idx);
}

int vc__stmt_bind_double(vc__stmt *s, int idx, double v)
{
  return ops_of(s->db)->bind_double(s->handle, idx, v);
}

int vc__stmt_step(vc__stmt *s)
{
  return ops_of(s->db)->step(s->handle);
}

int vc__stmt_is_null(vc__stmt *s, int col)
{
  return ops_of(s->db)->column_type(s->handle, col) == VC_STORAGE_NULL;
}

int64_t vc__stmt_int64(vc__stmt *s, int col)
{
  return ops_of(s->db)->column_int64(s->handle, col);
}

double vc__stmt_double(vc__stmt *s, int col)
{
  return ops_of(s->db)->column_double(s->handle, col);
}

const char *vc__stmt_text(vc__stmt *s, int col)
{
  size_t len;

  return ops_of(s->db)->column_text(s->handle, col, &len);
}

const void *vc__stmt_blob(vc__stmt *s, int col, size_t *len)
{
  return ops_of(s->db)->column_blob(s->handle, col, len);
}

/* The highest ?N in `sql`: the number of parameters library SQL has. */
static int parameter_count(const char *sql)
{
  int max = 0;

  for (const char *p = sql; *p; p++) {
    if (*p == '\'') {
      while (p[1] != '\0' && *++p != '\'')
        ;
    } else if (*p == '?') {
      int n = 0;
      while (p[1] >= '0' && p[1] <= '9')
        n = n * 10 + (*++p - '0');
      if (n > max)
        max = n;
    }
  }
  return max;
}

/* `borrow`: the statement runs to its end and is reset before the
 * caller's arguments go away (vc__db_run), so a backend that can bind
 * text and blobs without copying them may. */
static int bind_args(vc__stmt *s, const char *types, int borrow,
                     va_list ap)
{
  const vc_store *st = s->db->store;
  int (*text)(void *, int, const char *, size_t) =
    borrow && st->bind_text_borrowed ? st->bind_text_borrowed
                                     : ops_of(s->db)->bind_text;
  int (*blob)(void *, int, const void *, size_t) =
    borrow && st->bind_blob_borrowed ? st->bind_blob_borrowed
                                     : ops_of(s->db)->bind_blob;
  int rc = 0;

  /* A type string that does not match the SQL would read the wrong
   * arguments: check once per prepared statement. */
  if (!s->checked) {
    if ((int)strlen(types) != parameter_count(s->sql))
      return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR,
                           "%zu bind types for %d parameters in: %.80s",
                           strlen(types), parameter_count(s->sql), s->sql);
    s->checked = 1;
  }

  for (int idx = 1; types[idx - 1] != '\0' && rc == 0; idx++) {
    switch (types[idx - 1]) {
    case 't': {
      const char *t = va_arg(ap, const char *);
      rc = t == NULL ? vc__stmt_bind_null(s, idx)
                     : text(s->handle, idx, t, strlen(t));
      break;
    }
    case 'i':
      rc = vc__stmt_bind_int64(s, idx, va_arg(ap, int64_t));
      break;
    case 'd':
      rc = vc__stmt_bind_double(s, idx, va_arg(ap, double));
      break;
    case 'b': {
      const void *p = va_arg(ap, const void *);
      size_t n = va_arg(ap, size_t);
      rc = blob(s->handle, idx, p, n);
      break;
    }
    case 'n':
      rc = vc__stmt_bind_null(s, idx);
      break;
    default:
      rc = vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR,
                         "bad bind type '%c'", types[idx - 1]);
    }
  }
  return rc;
}

int vc__db_query(vc__stmt **out, vc__db *db, const char *sql,
                 const char *types, ...)
{
  vc__stmt *s;
  va_list ap;
  int rc;

  if ((rc = vc__db_prepare(&s, db, sql)) < 0)
    return rc;
  va_start(ap, types);
  rc = bind_args(s, types, 0, ap);
  va_end(ap);
  if (rc < 0) {
    vc__stmt_done(s);
    return rc;
  }
  *out = s;
  return 0;
}

int vc__db_run(vc__db *db, const char *sql, const char *types, ...)
{
  vc__stmt *s;
  va_list ap;
  int rc;

  if ((rc = vc__db_prepare(&s, db, sql)) < 0)
    return rc;
  va_start(ap, types);
  rc = bind_args(s, types, 1, ap);
  va_end(ap);
  while (rc == 0 && (rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    rc = 0;
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

int vc__stmt_bind_ids(vc__stmt *s, const char *const *ids, size_t n)
{
  int rc = 0;

  for (size_t i = 0; i < VC__DB_IDS && rc == 0; i++)
    rc = i < n ? vc__stmt_bind_text(s, (int)i + 1, ids[i])
               : vc__stmt_bind_null(s, (int)i + 1);
  return rc;
}

int vc__db_batch(vc_store *store, size_t n, vc__db_step_fn step, void *arg)
{
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    for (size_t i = 0; i < n && rc == 0; i++)
      rc = step(db, i, arg);
    if (rc == 0)
      rc = vc__db_commit(db);
    if (rc < 0)
      vc__db_rollback(db);
  }
  vc__db_release(db);
  return rc;
}
