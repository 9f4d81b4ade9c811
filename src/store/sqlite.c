/*
 * The SQLite storage backend: files opened by the library (one connection
 * per thread, WAL) or a connection borrowed from the host.
 */
#include "core/common.h"
#include "store.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define MAX_DEPTH 32

/* Checkpoints. SQLite's auto-checkpoint tries one after every commit once
 * the WAL holds 1,000 frames. While other connections keep reading (the
 * engine threads, the call session worker) the WAL cannot start over, so
 * it stays above that mark and every commit, on every thread, pays a
 * checkpoint attempt and its fsyncs. Instead a commit that finds the WAL
 * that long tries one only when no connection of the store tried in the
 * last CHECKPOINT_GAP_MS. */
#define CHECKPOINT_FRAMES 1000
#define CHECKPOINT_GAP_MS 50

typedef struct sqlite_store {
  char *path;         /* NULL when borrowing */
  sqlite3 *borrowed;  /* the host's connection, or NULL */
  int synchronous;
  int busy_timeout_ms;
  _Atomic int64_t checkpoint_tried; /* monotonic ms */
} sqlite_store;

/* The statements that open and close transactions, kept prepared: parsing
 * BEGIN and COMMIT again for every transaction was a tenth of a durable
 * send's instructions. */
enum { TX_BEGIN, TX_COMMIT, TX_SAVEPOINT, TX_RELEASE, TX_COUNT };
static const char *const TX_SQL[TX_COUNT] = {
  "BEGIN IMMEDIATE", "COMMIT", "SAVEPOINT vc_tx", "RELEASE vc_tx"
};

typedef struct sqlite_conn {
  sqlite3 *db;
  int owned;
  int depth;
  uint8_t savepoint[MAX_DEPTH]; /* per level: 1 = savepoint, 0 = BEGIN */
  sqlite3_stmt *tx[TX_COUNT];   /* prepared on first use */
} sqlite_conn;

/* Map an SQLite result code to a library code and set the detail. */
static int fail(sqlite3 *db, int src, const char *what)
{
  int code;
  const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(src);

  switch (src & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    code = VC_EBUSY;
    break;
  case SQLITE_CONSTRAINT:
    code = (src == SQLITE_CONSTRAINT_UNIQUE ||
            src == SQLITE_CONSTRAINT_PRIMARYKEY) ? VC_EEXISTS : VC_EINVALID;
    break;
  case SQLITE_NOTADB:
  case SQLITE_CORRUPT:
    code = VC_ECORRUPT;
    break;
  case SQLITE_NOMEM:
    return vc_error_set_oom();
  default:
    code = VC_ESTORAGE;
  }
  return vc__error_set(VC_ERRCLASS_STORAGE, code, "sqlite %s: %s", what,
                       msg);
}

static int conn_exec(sqlite_conn *c, const char *sql, const char *what)
{
  int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

  return rc == SQLITE_OK ? 0 : fail(c->db, sqlite3_extended_errcode(c->db),
                                    what);
}

static int s_exec(void *conn, const char *sql)
{
  return conn_exec(conn, sql, "exec");
}

static int64_t monotonic_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* After every commit (sqlite3_wal_hook), in place of the auto-checkpoint:
 * see CHECKPOINT_GAP_MS. A checkpoint that cannot finish now is tried
 * again by a later commit; its failure is not the commit's. */
static int wal_committed(void *payload, sqlite3 *db, const char *name,
                         int frames)
{
  sqlite_store *st = payload;
  int64_t now, tried;

  if (frames < CHECKPOINT_FRAMES)
    return SQLITE_OK;
  now = monotonic_ms();
  tried = atomic_load(&st->checkpoint_tried);
  if (now - tried < CHECKPOINT_GAP_MS ||
      !atomic_compare_exchange_strong(&st->checkpoint_tried, &tried, now))
    return SQLITE_OK;
  (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                  NULL);
  return SQLITE_OK;
}

/* Waiting for another connection's lock. SQLite's own handler sleeps 1,
 * 2, 5, 10, ... ms between tries, while the library's write transactions
 * last tens to hundreds of microseconds: a writer that met another slept
 * many times longer than the other held the lock. This one sleeps 50 us
 * and doubles up to 2 ms, until busy_timeout_ms in all. */
static int busy_wait(void *payload, int tries)
{
  const sqlite_store *st = payload;
  int64_t slept = 0, step = 50;
  struct timespec ts;

  for (int i = 0; i < tries; i++) {
    slept += step;
    if (step < 2000)
      step = step * 2 < 2000 ? step * 2 : 2000;
    if (slept >= (int64_t)st->busy_timeout_ms * 1000)
      return 0;
  }
  ts.tv_sec = 0;
  ts.tv_nsec = (long)step * 1000;
  nanosleep(&ts, NULL);
  return 1;
}

/* Pragmas for a connection the library opened. */
static int configure(sqlite_conn *c, sqlite_store *st)
{
  char sql[160];
  sqlite3_stmt *stmt;
  int rc;

  sqlite3_busy_handler(c->db, busy_wait, st);
  sqlite3_wal_hook(c->db, wal_committed, st);
  /* The first read of the file: a file that is not a database fails
   * here with SQLITE_NOTADB. Switching a new file to WAL needs an
   * exclusive lock, and when several connections do it at once SQLite
   * returns SQLITE_BUSY without calling the busy handler (it could
   * deadlock): retry within the busy timeout. */
  for (int waited = 0;; waited += 10) {
    rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &stmt,
                            NULL);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(stmt);
      sqlite3_finalize(stmt);
    }
    if ((rc & 0xff) != SQLITE_BUSY || waited >= st->busy_timeout_ms)
      break;
    sqlite3_sleep(10);
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return fail(c->db, sqlite3_extended_errcode(c->db), "open");
  /* temp_store=MEMORY: a statement that changes many rows inside a
   * transaction (the dispatcher's batched UPDATEs and DELETEs) keeps its
   * statement journal in memory instead of a temporary file that every
   * page it changes is first written to. */
  /* secure_delete=ON: deleted and overwritten content is zeroed in the
   * file, so an erased contact's data does not linger in free space
   * (src/msg/privacy.c). Debian's SQLite has it on already; other
   * builds default to off. */
  snprintf(sql, sizeof(sql),
           "PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;"
           " PRAGMA temp_store=MEMORY; PRAGMA secure_delete=ON;",
           st->synchronous == VC_SQLITE_SYNC_FULL ? "FULL" : "NORMAL");
  return conn_exec(c, sql, "configure");
}

static int s_connect(void **out, void *payload)
{
  sqlite_store *st = payload;
  sqlite_conn *c = vc__calloc(1, sizeof(*c));
  int rc;

  if (c == NULL)
    return vc_error_set_oom();
  if (st->borrowed != NULL) {
    c->db = st->borrowed;
    *out = c;
    return 0;
  }
  rc = sqlite3_open_v2(st->path, &c->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                       SQLITE_OPEN_NOMUTEX, NULL);
  c->owned = 1;
  if (rc != SQLITE_OK) {
    rc = fail(c->db, rc, "open");
    sqlite3_close(c->db);
    vc__free(c);
    return rc;
  }
  sqlite3_extended_result_codes(c->db, 1);
  if ((rc = configure(c, st)) < 0) {
    sqlite3_close(c->db);
    vc__free(c);
    return rc;
  }
  *out = c;
  return 0;
}

static void s_disconnect(void *conn, void *payload)
{
  sqlite_conn *c = conn;

  VC_UNUSED(payload);
  for (int i = 0; i < TX_COUNT; i++)
    sqlite3_finalize(c->tx[i]);
  if (c->owned)
    sqlite3_close(c->db);
  vc__free(c);
}

static int s_prepare(void **out, void *conn, const char *sql)
{
  sqlite_conn *c = conn;
  sqlite3_stmt *stmt;
  int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                              &stmt, NULL);

  if (rc != SQLITE_OK)
    return fail(c->db, rc, "prepare");
  *out = stmt;
  return 0;
}

#define STMT_DB(s) sqlite3_db_handle((sqlite3_stmt *)(s))
#define BIND_RESULT(s, rc) \
  ((rc) == SQLITE_OK ? 0 : fail(STMT_DB(s), (rc), "bind"))

static int s_bind_null(void *s, int i)
{
  int rc = sqlite3_bind_null(s, i);
  return BIND_RESULT(s, rc);
}

static int s_bind_int64(void *s, int i, int64_t v)
{
  int rc = sqlite3_bind_int64(s, i, v);
  return BIND_RESULT(s, rc);
}

static int s_bind_double(void *s, int i, double v)
{
  int rc = sqlite3_bind_double(s, i, v);
  return BIND_RESULT(s, rc);
}

static int s_bind_text(void *s, int i, const char *t, size_t n)
{
  int rc = sqlite3_bind_text64(s, i, t, n, SQLITE_TRANSIENT, SQLITE_UTF8);
  return BIND_RESULT(s, rc);
}

static int s_bind_blob(void *s, int i, const void *p, size_t n)
{
  /* SQLite binds a NULL pointer as SQL NULL; a zero-length blob is not. */
  int rc = sqlite3_bind_blob64(s, i, p ? p : "", n, SQLITE_TRANSIENT);
  return BIND_RESULT(s, rc);
}

/* The same without a copy (store.h): SQLite reads the caller's memory
 * until the statement is reset, and s_reset clears the bindings. */
static int s_bind_text_borrowed(void *s, int i, const char *t, size_t n)
{
  int rc = sqlite3_bind_text64(s, i, t, n, SQLITE_STATIC, SQLITE_UTF8);
  return BIND_RESULT(s, rc);
}

static int s_bind_blob_borrowed(void *s, int i, const void *p, size_t n)
{
  int rc = sqlite3_bind_blob64(s, i, p ? p : "", n, SQLITE_STATIC);
  return BIND_RESULT(s, rc);
}

static int s_step(void *s)
{
  int rc = sqlite3_step(s);

  if (rc == SQLITE_ROW)
    return VC_STORAGE_ROW;
  if (rc == SQLITE_DONE)
    return VC_STORAGE_DONE;
  return fail(STMT_DB(s), sqlite3_extended_errcode(STMT_DB(s)), "step");
}

static int s_column_type(void *s, int col)
{
  switch (sqlite3_column_type(s, col)) {
  case SQLITE_INTEGER: return VC_STORAGE_INT;
  case SQLITE_FLOAT: return VC_STORAGE_FLOAT;
  case SQLITE_TEXT: return VC_STORAGE_TEXT;
  case SQLITE_BLOB: return VC_STORAGE_BLOB;
  default: return VC_STORAGE_NULL;
  }
}

static int64_t s_column_int64(void *s, int col)
{
  return sqlite3_column_int64(s, col);
}

static double s_column_double(void *s, int col)
{
  return sqlite3_column_double(s, col);
}

static const char *s_column_text(void *s, int col, size_t *len)
{
  const char *t = (const char *)sqlite3_column_text(s, col);

  *len = t ? (size_t)sqlite3_column_bytes(s, col) : 0;
  return t;
}

static const void *s_column_blob(void *s, int col, size_t *len)
{
  const void *p = sqlite3_column_blob(s, col);

  *len = (size_t)sqlite3_column_bytes(s, col);
  return p;
}

static int s_reset(void *s)
{
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return 0;
}

static void s_finalize(void *s)
{
  sqlite3_finalize(s);
}

static int64_t s_changes(void *conn)
{
  return sqlite3_changes64(((sqlite_conn *)conn)->db);
}

static int tx_run(sqlite_conn *c, int which, const char *what)
{
  sqlite3_stmt *stmt = c->tx[which];
  int rc;

  if (stmt == NULL) {
    rc = sqlite3_prepare_v2(c->db, TX_SQL[which], -1, &stmt, NULL);
    if (rc != SQLITE_OK)
      return fail(c->db, sqlite3_extended_errcode(c->db), what);
    c->tx[which] = stmt;
  }
  rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) {
    rc = fail(c->db, sqlite3_extended_errcode(c->db), what);
    sqlite3_reset(stmt);
    return rc;
  }
  sqlite3_reset(stmt);
  return 0;
}

static int s_begin(void *conn)
{
  sqlite_conn *c = conn;
  int sp = !sqlite3_get_autocommit(c->db);
  int rc;

  if (c->depth >= MAX_DEPTH)
    return vc__error_set(VC_ERRCLASS_STORAGE, VC_ESTORAGE,
                         "transactions nested too deeply");
  /* IMMEDIATE takes the write lock now, so a transaction never fails
   * half-way on a lock upgrade; inside the host's (or our own)
   * transaction a savepoint nests instead. */
  rc = tx_run(c, sp ? TX_SAVEPOINT : TX_BEGIN, "begin");
  if (rc == 0)
    c->savepoint[c->depth++] = (uint8_t)sp;
  return rc;
}

static int s_commit(void *conn)
{
  sqlite_conn *c = conn;
  int rc;

  if (c->depth == 0)
    return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR,
                         "commit without begin");
  rc = tx_run(c, c->savepoint[c->depth - 1] ? TX_RELEASE : TX_COMMIT,
              "commit");
  if (rc == 0)
    c->depth--;
  return rc;
}

static int s_rollback(void *conn)
{
  sqlite_conn *c = conn;
  int rc;

  if (c->depth == 0)
    return 0;
  if (c->savepoint[--c->depth])
    rc = conn_exec(c, "ROLLBACK TO vc_tx; RELEASE vc_tx", "rollback");
  else
    rc = sqlite3_get_autocommit(c->db) ? 0 : conn_exec(c, "ROLLBACK",
                                                       "rollback");
  return rc;
}

/* Deferred durability on a FULL store (store.h). NORMAL in WAL mode
 * commits without syncing the WAL, and still syncs the WAL before and the
 * database after every checkpoint, so a checkpoint that runs before our
 * sync leaves the frames it copied durable in the database file. The
 * level can only change outside a transaction, and takes effect when
 * the PRAGMA is prepared: hence sqlite3_exec, once per connection. */
static int s_set_lazy(void *conn, int lazy)
{
  return conn_exec(conn, lazy ? "PRAGMA synchronous=NORMAL"
                              : "PRAGMA synchronous=FULL", "synchronous");
}

/* Sync the connection's WAL file, as a FULL commit would have. One
 * fsync covers every frame written before it by any connection (it is
 * one file), including those of later groups. */
static int s_sync(void *conn)
{
  sqlite_conn *c = conn;
  sqlite3_file *wal = NULL;
  int rc;

  rc = sqlite3_file_control(c->db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
                            &wal);
  if (rc != SQLITE_OK || wal == NULL || wal->pMethods == NULL)
    return vc__error_set(VC_ERRCLASS_STORAGE, VC_ESTORAGE,
                         "sqlite sync: the connection has no open WAL");
  rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
  return rc == SQLITE_OK ? 0 : fail(NULL, rc, "sync");
}

static const char *s_errmsg(void *conn)
{
  return sqlite3_errmsg(((sqlite_conn *)conn)->db);
}

static void s_free(void *payload)
{
  sqlite_store *st = payload;

  vc__free(st->path);
  vc__free(st);
}

static int make_store(vc_store **out, sqlite_store *st, uint32_t max_conn,
                      uint32_t cache)
{
  vc_storage_ops ops;
  int rc;

  vc_storage_ops_init(&ops, VC_STORAGE_OPS_VERSION);
  ops.dialect = VC_DIALECT_SQLITE;
  ops.max_connections = max_conn;
  ops.connect = s_connect;
  ops.disconnect = s_disconnect;
  ops.exec = s_exec;
  ops.prepare = s_prepare;
  ops.bind_null = s_bind_null;
  ops.bind_int64 = s_bind_int64;
  ops.bind_double = s_bind_double;
  ops.bind_text = s_bind_text;
  ops.bind_blob = s_bind_blob;
  ops.step = s_step;
  ops.column_type = s_column_type;
  ops.column_int64 = s_column_int64;
  ops.column_double = s_column_double;
  ops.column_text = s_column_text;
  ops.column_blob = s_column_blob;
  ops.reset = s_reset;
  ops.finalize = s_finalize;
  ops.changes = s_changes;
  ops.begin = s_begin;
  ops.commit = s_commit;
  ops.rollback = s_rollback;
  ops.errmsg = s_errmsg;
  ops.free = s_free;
  if ((rc = vc__store_new(out, &ops, st, cache)) < 0) {
    s_free(st);
    return rc;
  }
  (*out)->bind_text_borrowed = s_bind_text_borrowed;
  (*out)->bind_blob_borrowed = s_bind_blob_borrowed;
  /* Only files the library opened, in WAL mode, whose commits sync. */
  if (st->path != NULL && max_conn != 1 &&
      st->synchronous == VC_SQLITE_SYNC_FULL) {
    (*out)->set_lazy = s_set_lazy;
    (*out)->sync = s_sync;
  }
  return 0;
}

int vc_store_open_sqlite(vc_store **out, const char *path,
                         const vc_sqlite_options *opts)
{
  sqlite_store *st;
  vc_store *store;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(path);
  VC_CHECK_VERSION(opts, VC_SQLITE_OPTIONS_VERSION, "vc_sqlite_options");
  if (path[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "empty database path");
  if (opts != NULL && opts->synchronous != 0 &&
      opts->synchronous != VC_SQLITE_SYNC_NORMAL &&
      opts->synchronous != VC_SQLITE_SYNC_FULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown synchronous mode %d", opts->synchronous);
  if ((st = vc__calloc(1, sizeof(*st))) == NULL ||
      (st->path = vc__strdup(path)) == NULL) {
    vc__free(st);
    return vc_error_set_oom();
  }
  st->synchronous = opts && opts->synchronous ? opts->synchronous
                                              : VC_SQLITE_SYNC_NORMAL;
  st->busy_timeout_ms = opts && opts->busy_timeout_ms > 0
                          ? opts->busy_timeout_ms : 5000;
  /* Each connection to ":memory:" would be a separate database. */
  rc = make_store(&store, st, strcmp(path, ":memory:") == 0 ? 1 : 0,
                  opts ? opts->statement_cache : 0);
  if (rc < 0)
    return rc;
  *out = store;
  return 0;
}

int vc_store_wrap_sqlite(vc_store **out, struct sqlite3 *db)
{
  sqlite_store *st;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(db);
  if (!sqlite3_threadsafe())
    return vc__error_set(VC_ERRCLASS_STORAGE, VC_ENOTSUPPORTED,
                         "SQLite was built without thread support");
  if ((st = vc__calloc(1, sizeof(*st))) == NULL)
    return vc_error_set_oom();
  st->borrowed = db;
  return make_store(out, st, 1, 0);
}

int vc_sqlite_options_init(vc_sqlite_options *o, unsigned int version)
{
  VC_INIT_STRUCT(o, version, VC_SQLITE_OPTIONS_VERSION, vc_sqlite_options,
                 VC_SQLITE_OPTIONS_INIT);
}
