/*
 * The custom storage backend path, through the public API only: a
 * complete backend written here over SQLite's own API (its own
 * connections, statements, savepoint nesting, error mapping and
 * messages), plugged in with vc_store_custom(). It counts every call and
 * can be told to fail a method once, to prove that:
 *
 *   - vc_store_custom() validates the table (version, dialect, each
 *     required method by name) and copies it;
 *   - a context over it migrates (through `exec`), and tenants and
 *     secrets work through it;
 *   - the payload's `free` runs exactly once: at vc_ctx_free(), or at
 *     vc_store_free() when vc_ctx_new() failed (the caller kept it);
 *   - a failing method surfaces as its code and message from the public
 *     call, and leaves nothing half-written;
 *   - the library finalizes every statement and closes every connection.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "vyomcomm/sys/errors.h"
#include "vyomcomm/sys/storage.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stddef.h>

/* The harness keeps counters across its setjmp; gcc -O2 warns (a false
 * positive). */
#include "harness.h"

/* ------------------------------------------------------------------ */
/* The test backend                                                    */

typedef struct tb_payload {
  char path[512];
  /* Calls, per method. */
  atomic_int connect, disconnect, exec, prepare, bind, step, column, reset,
             finalize, changes, begin, commit, rollback, errmsg, freed;
  atomic_int live_conns, max_live_conns, live_stmts;
  /* Failure injection: a method fails on its n-th call from now. */
  atomic_int fail_connect;   /* 1: every connect fails */
  atomic_int fail_step_at;
  atomic_int fail_begin_at;
  atomic_int fail_commit_at;
  int fail_code;             /* the code injected failures return */
  _Atomic(struct tb_conn *) last_conn; /* the newest connection */
} tb_payload;

typedef struct tb_conn {
  sqlite3 *db;
  tb_payload *p;
  int depth;                 /* transaction nesting: 0 = none */
} tb_conn;

typedef struct tb_stmt {
  sqlite3_stmt *st;
  tb_conn *c;
} tb_stmt;

#define INJECTED_MESSAGE "testbackend: injected failure"

/* 1 when the countdown `at` reaches zero now (it then stays at zero). */
static int injected(atomic_int *at)
{
  int v = atomic_load(at);

  while (v > 0) {
    if (atomic_compare_exchange_weak(at, &v, v - 1))
      return v == 1;
  }
  return 0;
}

static int tb_inject(tb_payload *p)
{
  return vc_error_set_str(VC_ERRCLASS_STORAGE,
                          p->fail_code ? p->fail_code : VC_ESTORAGE,
                          INJECTED_MESSAGE);
}

/* Map an SQLite failure to a library code, with the backend's message. */
static int tb_fail(sqlite3 *db, int rc, const char *what)
{
  char msg[600];
  int code;

  switch (rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    code = VC_EBUSY;
    break;
  case SQLITE_CONSTRAINT:
    code = (rc == SQLITE_CONSTRAINT_UNIQUE ||
            rc == SQLITE_CONSTRAINT_PRIMARYKEY) ? VC_EEXISTS : VC_EINVALID;
    break;
  case SQLITE_NOTADB:
  case SQLITE_CORRUPT:
    code = VC_ECORRUPT;
    break;
  default:
    code = VC_ESTORAGE;
  }
  snprintf(msg, sizeof(msg), "testbackend %s: %s", what,
           db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  return vc_error_set_str(VC_ERRCLASS_STORAGE, code, msg);
}

static void note_live(tb_payload *p)
{
  int live = atomic_fetch_add(&p->live_conns, 1) + 1;
  int max = atomic_load(&p->max_live_conns);

  while (live > max &&
         !atomic_compare_exchange_weak(&p->max_live_conns, &max, live))
    ;
}

static int tb_connect(void **out, void *payload)
{
  tb_payload *p = payload;
  tb_conn *c;
  int rc;

  atomic_fetch_add(&p->connect, 1);
  if (atomic_load(&p->fail_connect))
    return vc_error_set_str(VC_ERRCLASS_STORAGE, VC_ESTORAGE,
                            "testbackend: the database server is down");
  if ((c = calloc(1, sizeof(*c))) == NULL)
    return vc_error_set_oom();
  c->p = p;
  rc = sqlite3_open_v2(p->path, &c->db, SQLITE_OPEN_READWRITE |
                       SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, 5000);
    rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL;"
                             "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
  }
  if (rc != SQLITE_OK) {
    rc = tb_fail(c->db, rc, "connect");
    sqlite3_close(c->db);
    free(c);
    return rc;
  }
  note_live(p);
  atomic_store(&p->last_conn, c);
  *out = c;
  return 0;
}

static void tb_disconnect(void *conn, void *payload)
{
  tb_conn *c = conn;
  tb_payload *p = payload;

  atomic_fetch_add(&p->disconnect, 1);
  atomic_fetch_sub(&p->live_conns, 1);
  {
    tb_conn *expect = c;
    atomic_compare_exchange_strong(&p->last_conn, &expect, NULL);
  }
  /* The library finalized its statements: close must succeed. */
  if (sqlite3_close(c->db) != SQLITE_OK)
    abort();
  free(c);
}

static int tb_exec(void *conn, const char *sql)
{
  tb_conn *c = conn;
  int rc;

  atomic_fetch_add(&c->p->exec, 1);
  rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? 0 : tb_fail(c->db, sqlite3_extended_errcode(c->db),
                                       "exec");
}

static int tb_prepare(void **out, void *conn, const char *sql)
{
  tb_conn *c = conn;
  tb_stmt *s;
  int rc;

  atomic_fetch_add(&c->p->prepare, 1);
  if ((s = calloc(1, sizeof(*s))) == NULL)
    return vc_error_set_oom();
  rc = sqlite3_prepare_v2(c->db, sql, -1, &s->st, NULL);
  if (rc != SQLITE_OK) {
    free(s);
    return tb_fail(c->db, rc, "prepare");
  }
  s->c = c;
  atomic_fetch_add(&c->p->live_stmts, 1);
  *out = s;
  return 0;
}

#define TB_BIND(s, call)                                                 \
  do {                                                                   \
    tb_stmt *s_ = (s);                                                   \
    int rc_;                                                             \
    atomic_fetch_add(&s_->c->p->bind, 1);                                \
    rc_ = (call);                                                        \
    return rc_ == SQLITE_OK ? 0 : tb_fail(s_->c->db, rc_, "bind");       \
  } while (0)

static int tb_bind_null(void *s, int i)
{
  TB_BIND(s, sqlite3_bind_null(((tb_stmt *)s)->st, i));
}

static int tb_bind_int64(void *s, int i, int64_t v)
{
  TB_BIND(s, sqlite3_bind_int64(((tb_stmt *)s)->st, i, v));
}

static int tb_bind_double(void *s, int i, double v)
{
  TB_BIND(s, sqlite3_bind_double(((tb_stmt *)s)->st, i, v));
}

static int tb_bind_text(void *s, int i, const char *t, size_t n)
{
  TB_BIND(s, sqlite3_bind_text64(((tb_stmt *)s)->st, i, t, n,
                                 SQLITE_TRANSIENT, SQLITE_UTF8));
}

static int tb_bind_blob(void *s, int i, const void *d, size_t n)
{
  TB_BIND(s, sqlite3_bind_blob64(((tb_stmt *)s)->st, i, d ? d : "", n,
                                 SQLITE_TRANSIENT));
}

static int tb_step(void *stmt)
{
  tb_stmt *s = stmt;
  tb_payload *p = s->c->p;
  int rc;

  atomic_fetch_add(&p->step, 1);
  if (injected(&p->fail_step_at))
    return tb_inject(p);
  rc = sqlite3_step(s->st);
  if (rc == SQLITE_ROW)
    return VC_STORAGE_ROW;
  if (rc == SQLITE_DONE)
    return VC_STORAGE_DONE;
  return tb_fail(s->c->db, sqlite3_extended_errcode(s->c->db), "step");
}

static int tb_column_type(void *stmt, int col)
{
  tb_stmt *s = stmt;

  atomic_fetch_add(&s->c->p->column, 1);
  switch (sqlite3_column_type(s->st, col)) {
  case SQLITE_INTEGER: return VC_STORAGE_INT;
  case SQLITE_FLOAT: return VC_STORAGE_FLOAT;
  case SQLITE_TEXT: return VC_STORAGE_TEXT;
  case SQLITE_BLOB: return VC_STORAGE_BLOB;
  default: return VC_STORAGE_NULL;
  }
}

static int64_t tb_column_int64(void *stmt, int col)
{
  tb_stmt *s = stmt;

  atomic_fetch_add(&s->c->p->column, 1);
  return sqlite3_column_int64(s->st, col);
}

static double tb_column_double(void *stmt, int col)
{
  tb_stmt *s = stmt;

  atomic_fetch_add(&s->c->p->column, 1);
  return sqlite3_column_double(s->st, col);
}

static const char *tb_column_text(void *stmt, int col, size_t *len)
{
  tb_stmt *s = stmt;
  const char *t;

  atomic_fetch_add(&s->c->p->column, 1);
  t = (const char *)sqlite3_column_text(s->st, col);
  *len = t ? (size_t)sqlite3_column_bytes(s->st, col) : 0;
  return t;
}

static const void *tb_column_blob(void *stmt, int col, size_t *len)
{
  tb_stmt *s = stmt;
  const void *d;

  atomic_fetch_add(&s->c->p->column, 1);
  d = sqlite3_column_blob(s->st, col);
  *len = (size_t)sqlite3_column_bytes(s->st, col);
  return d;
}

static int tb_reset(void *stmt)
{
  tb_stmt *s = stmt;

  atomic_fetch_add(&s->c->p->reset, 1);
  sqlite3_reset(s->st);
  sqlite3_clear_bindings(s->st);
  return 0;
}

static void tb_finalize(void *stmt)
{
  tb_stmt *s = stmt;

  atomic_fetch_add(&s->c->p->finalize, 1);
  atomic_fetch_sub(&s->c->p->live_stmts, 1);
  sqlite3_finalize(s->st);
  free(s);
}

static int64_t tb_changes(void *conn)
{
  tb_conn *c = conn;

  atomic_fetch_add(&c->p->changes, 1);
  return sqlite3_changes(c->db);
}

static int tb_sql(tb_conn *c, const char *sql, const char *what)
{
  int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

  return rc == SQLITE_OK ? 0 : tb_fail(c->db, sqlite3_extended_errcode(c->db),
                                       what);
}

/* Savepoints named by depth: tb_sp1, tb_sp2, ... */
static int tb_begin(void *conn)
{
  tb_conn *c = conn;
  char sql[64];
  int rc;

  atomic_fetch_add(&c->p->begin, 1);
  if (injected(&c->p->fail_begin_at))
    return tb_inject(c->p);
  if (c->depth == 0 && sqlite3_get_autocommit(c->db)) {
    rc = tb_sql(c, "BEGIN IMMEDIATE", "begin");
  } else {
    snprintf(sql, sizeof(sql), "SAVEPOINT tb_sp%d", c->depth + 1);
    rc = tb_sql(c, sql, "begin");
  }
  if (rc == 0)
    c->depth++;
  return rc;
}

static int tb_commit(void *conn)
{
  tb_conn *c = conn;
  char sql[64];
  int rc;

  atomic_fetch_add(&c->p->commit, 1);
  if (c->depth == 0)
    return vc_error_set_str(VC_ERRCLASS_STORAGE, VC_ERROR,
                            "testbackend: commit without begin");
  if (injected(&c->p->fail_commit_at))
    return tb_inject(c->p); /* nothing committed; depth unchanged */
  if (c->depth == 1) {
    rc = tb_sql(c, "COMMIT", "commit");
  } else {
    snprintf(sql, sizeof(sql), "RELEASE tb_sp%d", c->depth);
    rc = tb_sql(c, sql, "commit");
  }
  if (rc == 0)
    c->depth--;
  return rc;
}

static int tb_rollback(void *conn)
{
  tb_conn *c = conn;
  char sql[96];

  atomic_fetch_add(&c->p->rollback, 1);
  if (c->depth == 0)
    return 0;
  if (c->depth == 1) {
    c->depth = 0;
    return sqlite3_get_autocommit(c->db) ? 0
                                         : tb_sql(c, "ROLLBACK", "rollback");
  }
  snprintf(sql, sizeof(sql), "ROLLBACK TO tb_sp%d; RELEASE tb_sp%d",
           c->depth, c->depth);
  c->depth--;
  return tb_sql(c, sql, "rollback");
}

static const char *tb_errmsg(void *conn)
{
  tb_conn *c = conn;

  atomic_fetch_add(&c->p->errmsg, 1);
  return sqlite3_errmsg(c->db);
}

static void tb_free(void *payload)
{
  tb_payload *p = payload;

  atomic_fetch_add(&p->freed, 1);
  /* The payload itself belongs to the test (it reads the counters after
   * the store is gone); a real backend would release it here. */
}

static void tb_ops(vc_storage_ops *ops)
{
  CHECK_OK(vc_storage_ops_init(ops, VC_STORAGE_OPS_VERSION));
  ops->dialect = VC_DIALECT_SQLITE;
  ops->max_connections = 0;
  ops->connect = tb_connect;
  ops->disconnect = tb_disconnect;
  ops->exec = tb_exec;
  ops->prepare = tb_prepare;
  ops->bind_null = tb_bind_null;
  ops->bind_int64 = tb_bind_int64;
  ops->bind_double = tb_bind_double;
  ops->bind_text = tb_bind_text;
  ops->bind_blob = tb_bind_blob;
  ops->step = tb_step;
  ops->column_type = tb_column_type;
  ops->column_int64 = tb_column_int64;
  ops->column_double = tb_column_double;
  ops->column_text = tb_column_text;
  ops->column_blob = tb_column_blob;
  ops->reset = tb_reset;
  ops->finalize = tb_finalize;
  ops->changes = tb_changes;
  ops->begin = tb_begin;
  ops->commit = tb_commit;
  ops->rollback = tb_rollback;
  ops->errmsg = tb_errmsg;
  ops->free = tb_free;
}

static tb_payload *tb_payload_new(const char *file)
{
  tb_payload *p = calloc(1, sizeof(*p));

  CHECK(p != NULL);
  snprintf(p->path, sizeof(p->path), "%s", vc_test_path(file));
  return p;
}

static vc_store *tb_store(tb_payload *p)
{
  vc_storage_ops ops;
  vc_store *st = NULL;

  tb_ops(&ops);
  CHECK_OK(vc_store_custom(&st, &ops, p));
  CHECK(st != NULL);
  return st;
}

static const uint8_t KEY_A[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t KEY_B[32] = "fedcba9876543210fedcba9876543210";

static vc_ctx *tb_ctx(tb_payload *p, const uint8_t *key)
{
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_store *st = tb_store(p);
  vc_ctx *ctx = NULL;

  mk.key = key;
  mk.key_len = 32;
  o.store = st;
  o.master_key = key ? &mk : NULL;
  if (vc_ctx_new(&ctx, &o) != 0) {
    fprintf(stderr, "  vc_ctx_new: %s\n", vc_error_last()->message);
    vc_store_free(st);
    CHECK(0);
  }
  return ctx;
}

/* An independent connection to the backend's file, for checks. */
static int64_t peek_int(tb_payload *p, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  int64_t v = -1;

  CHECK(sqlite3_open_v2(p->path, &db, SQLITE_OPEN_READONLY, NULL) ==
        SQLITE_OK);
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  CHECK(v >= 0);
  return v;
}

/*
 * A fingerprint of everything the library stores: every row of every
 * vc_ table, in order. Two equal fingerprints mean equal contents.
 */
static uint64_t fingerprint(tb_payload *p)
{
  static const char *const tables[] = {
    "vc_meta", "vc_tenant", "vc_secret", "vc_job", "vc_event",
    "vc_event_cursor", "vc_schema_version",
  };
  uint64_t h = 1469598103934665603ULL;
  sqlite3 *db = NULL;

  CHECK(sqlite3_open_v2(p->path, &db, SQLITE_OPEN_READONLY, NULL) ==
        SQLITE_OK);
  for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
    char sql[128];
    sqlite3_stmt *s = NULL;
    snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY 1, 2", tables[t]);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
      sqlite3_close(db);
      CHECK(0);
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(s); c++) {
        const unsigned char *b = sqlite3_column_blob(s, c);
        int n = sqlite3_column_bytes(s, c);
        h = (h ^ (uint64_t)(sqlite3_column_type(s, c) + 0x100)) *
            1099511628211ULL;
        for (int i = 0; i < n; i++)
          h = (h ^ b[i]) * 1099511628211ULL;
      }
      h = (h ^ 0x1ff) * 1099511628211ULL;
    }
    sqlite3_finalize(s);
    h = (h ^ 0x2ff) * 1099511628211ULL;
  }
  sqlite3_close(db);
  return h;
}

/* After every public call: no transaction left open on the backend. */
static void check_idle(tb_payload *p)
{
  tb_conn *c = atomic_load(&p->last_conn);

  CHECK(c != NULL);
  CHECK(c->depth == 0);
  CHECK(sqlite3_get_autocommit(c->db) == 1);
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */

typedef struct method {
  const char *name;
  size_t offset;
} method;

#define M(name) { #name, offsetof(vc_storage_ops, name) }
static const method REQUIRED[] = {
  M(connect), M(disconnect), M(exec), M(prepare), M(bind_null),
  M(bind_int64), M(bind_double), M(bind_text), M(bind_blob), M(step),
  M(column_type), M(column_int64), M(column_double), M(column_text),
  M(column_blob), M(reset), M(finalize), M(changes), M(begin), M(commit),
  M(rollback), M(errmsg),
};
#undef M

static void test_custom_store__validation(void)
{
  tb_payload *p = tb_payload_new("v.db");
  vc_storage_ops ops, bad;
  vc_store *st = (vc_store *)p;
  char quoted[64];

  tb_ops(&ops);
  CHECK_RC(vc_store_custom(NULL, &ops, p), VC_EINVALID);
  CHECK_RC(vc_store_custom(&st, NULL, p), VC_EINVALID);
  CHECK(st == NULL);

  /* Version. */
  bad = ops;
  bad.version = 0;
  st = (vc_store *)p;
  CHECK_RC(vc_store_custom(&st, &bad, p), VC_EVERSION);
  CHECK(st == NULL);
  CHECK(strstr(vc_error_last()->message, "vc_storage_ops") != NULL);
  bad.version = VC_STORAGE_OPS_VERSION + 1;
  CHECK_RC(vc_store_custom(&st, &bad, p), VC_EVERSION);
  CHECK(vc_storage_ops_init(&bad, 0) == VC_EVERSION);
  CHECK(vc_storage_ops_init(&bad, VC_STORAGE_OPS_VERSION + 1) ==
        VC_EVERSION);

  /* Dialect. */
  bad = ops;
  bad.dialect = 0;
  CHECK_RC(vc_store_custom(&st, &bad, p), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "dialect") != NULL);
  bad.dialect = 3;
  CHECK_RC(vc_store_custom(&st, &bad, p), VC_EINVALID);
  bad.dialect = -1;
  CHECK_RC(vc_store_custom(&st, &bad, p), VC_EINVALID);

  /* Each required method, by name. */
  for (size_t i = 0; i < sizeof(REQUIRED) / sizeof(REQUIRED[0]); i++) {
    bad = ops;
    memset((char *)&bad + REQUIRED[i].offset, 0, sizeof(void (*)(void)));
    st = (vc_store *)p;
    CHECK_RC(vc_store_custom(&st, &bad, p), VC_EINVALID);
    CHECK(st == NULL);
    CHECK(vc_error_last()->klass == VC_ERRCLASS_INVALID);
    snprintf(quoted, sizeof(quoted), "'%s'", REQUIRED[i].name);
    if (strstr(vc_error_last()->message, quoted) == NULL) {
      fprintf(stderr, "  missing %s: \"%s\"\n", REQUIRED[i].name,
              vc_error_last()->message);
      CHECK(0);
    }
  }
  /* Nothing was called, and the payload was never released. */
  CHECK(atomic_load(&p->connect) == 0);
  CHECK(atomic_load(&p->freed) == 0);

  /* `free` is optional. */
  bad = ops;
  bad.free = NULL;
  CHECK_OK(vc_store_custom(&st, &bad, p));
  vc_store_free(st);
  CHECK(atomic_load(&p->freed) == 0);

  /* A store never handed to a context: vc_store_free releases the
   * payload, once, without ever connecting. */
  CHECK_OK(vc_store_custom(&st, &ops, p));
  vc_store_free(st);
  CHECK(atomic_load(&p->freed) == 1);
  CHECK(atomic_load(&p->connect) == 0);
  free(p);
  vc_error_clear();
}

static void test_custom_store__ops_are_copied(void)
{
  tb_payload *p = tb_payload_new("copy.db");
  vc_storage_ops ops;
  vc_store *st = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;

  tb_ops(&ops);
  CHECK_OK(vc_store_custom(&st, &ops, p));
  /* Scribbling over the caller's table afterwards changes nothing. */
  memset(&ops, 0, sizeof(ops));
  o.store = st;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  CHECK_OK(vc_tenant_new(NULL, ctx, &(vc_tenant_spec){
    VC_TENANT_SPEC_VERSION, "copied", NULL, NULL, NULL, NULL,
    VC_QUIET_NONE, VC_QUIET_NONE }));
  vc_ctx_free(ctx);
  CHECK(atomic_load(&p->freed) == 1);
  free(p);
}

/* ------------------------------------------------------------------ */
/* Migration, tenants and secrets through the backend                  */

static void test_custom_store__migrate_tenants_secrets(void)
{
  tb_payload *p = tb_payload_new("custom.db"), *p2;
  int latest = vc_storage_schema_version();
  vc_tenant_spec spec = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL, *t2 = NULL;
  vc_buf value = VC_BUF_INIT;
  vc_iter *it = NULL;
  vc_ctx *ctx;
  char id[VC_ID_SIZE];
  int n, rc, fresh_exec;

  ctx = tb_ctx(p, KEY_A);
  /* The schema went in through exec. */
  fresh_exec = atomic_load(&p->exec);
  CHECK(fresh_exec >= 1 + latest);
  CHECK(peek_int(p, "SELECT MAX(version) FROM vc_schema_version") ==
        latest);
  CHECK(atomic_load(&p->begin) >= 1);
  check_idle(p);

  /* Tenants: create, look up, update, list, delete. */
  spec.slug = "acme";
  spec.name = "Acme Ltd";
  spec.currency = "EUR";
  CHECK_OK(vc_tenant_new(&t, ctx, &spec));
  snprintf(id, sizeof(id), "%s", vc_tenant_id(t));
  CHECK_STR(vc_tenant_currency(t), "EUR");
  CHECK_OK(vc_tenant_lookup(&t2, ctx, "acme"));
  CHECK_STR(vc_tenant_id(t2), id);
  CHECK_STR(vc_tenant_name(t2), "Acme Ltd");
  vc_tenant_free(t2);
  CHECK_OK(vc_tenant_lookup_id(&t2, ctx, id));
  vc_tenant_free(t2);
  CHECK_RC(vc_tenant_new(NULL, ctx, &spec), VC_EEXISTS);
  check_idle(p);
  {
    vc_tenant_spec up = VC_TENANT_SPEC_INIT;
    up.name = "Acme Holdings";
    up.quiet_start_min = VC_TENANT_KEEP;
    up.quiet_end_min = VC_TENANT_KEEP;
    CHECK_OK(vc_tenant_update(t, &up));
    CHECK_STR(vc_tenant_name(t), "Acme Holdings");
  }
  for (int i = 0; i < 3; i++) {
    char slug[16];
    snprintf(slug, sizeof(slug), "other-%d", i);
    spec.slug = slug;
    spec.name = NULL;
    spec.currency = NULL;
    CHECK_OK(vc_tenant_new(NULL, ctx, &spec));
  }
  CHECK_OK(vc_tenant_list(&it, ctx, NULL));
  n = 0;
  while ((rc = vc_tenant_next(&t2, it)) == 0) {
    n++;
    vc_tenant_free(t2);
  }
  CHECK(rc == VC_ITEROVER);
  CHECK(n == 4);
  vc_iter_free(it);

  /* Secrets: set, read, overwrite, delete. */
  CHECK_OK(vc_secret_set(t, "twilio.token", "tok-1", 5));
  CHECK_OK(vc_secret_get(&value, t, "twilio.token"));
  CHECK(value.size == 5 && memcmp(value.ptr, "tok-1", 5) == 0);
  CHECK_OK(vc_secret_set(t, "twilio.token", "tok-2!", 6));
  CHECK_OK(vc_secret_get(&value, t, "twilio.token"));
  CHECK(value.size == 6 && memcmp(value.ptr, "tok-2!", 6) == 0);
  CHECK_OK(vc_secret_set(t, "empty", "", 0));
  CHECK_OK(vc_secret_get(&value, t, "empty"));
  CHECK(value.size == 0);
  CHECK_OK(vc_secret_delete(t, "empty"));
  CHECK_RC(vc_secret_get(&value, t, "empty"), VC_ENOTFOUND);
  /* Stored encrypted: the plaintext is nowhere in the file's rows. */
  CHECK(peek_int(p, "SELECT COUNT(*) FROM vc_secret WHERE"
                    " instr(value, 'tok-2!') > 0") == 0);
  check_idle(p);

  /* Key rotation through the backend. */
  {
    vc_master_key nk = VC_MASTER_KEY_INIT;
    nk.key = KEY_B;
    nk.key_len = 32;
    CHECK_OK(vc_secret_rotate_key(ctx, &nk));
    CHECK_OK(vc_secret_get(&value, t, "twilio.token"));
    CHECK(value.size == 6 && memcmp(value.ptr, "tok-2!", 6) == 0);
  }

  /* The engine runs over it too. */
  CHECK(vc_ctx_run(ctx, 0) >= 0);

  /* Soft delete. */
  CHECK_OK(vc_tenant_delete(t));
  CHECK_RC(vc_tenant_lookup(&t2, ctx, "acme"), VC_ENOTFOUND);
  vc_tenant_free(t);
  vc_buf_dispose(&value);
  check_idle(p);
  vc_ctx_free(ctx);

  /* Everything the library opened, it closed. */
  CHECK(atomic_load(&p->freed) == 1);
  CHECK(atomic_load(&p->live_stmts) == 0);
  CHECK(atomic_load(&p->prepare) == atomic_load(&p->finalize));
  CHECK(atomic_load(&p->live_conns) == 0);
  CHECK(atomic_load(&p->connect) == atomic_load(&p->disconnect));
  CHECK(atomic_load(&p->begin) ==
        atomic_load(&p->commit) + atomic_load(&p->rollback));
  CHECK(atomic_load(&p->step) > 0 && atomic_load(&p->bind) > 0);
  CHECK(atomic_load(&p->column) > 0 && atomic_load(&p->reset) > 0);
  CHECK(atomic_load(&p->changes) > 0);

  /* Reopening through a fresh backend: the scripts do not run again,
   * and the data (under the rotated key) is there. */
  p2 = tb_payload_new("custom.db");
  ctx = tb_ctx(p2, KEY_B);
  CHECK(atomic_load(&p2->exec) < fresh_exec);
  CHECK(peek_int(p2, "SELECT COUNT(*) FROM vc_schema_version") == latest);
  CHECK_OK(vc_tenant_lookup(&t, ctx, "other-1"));
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  CHECK(atomic_load(&p2->freed) == 1);

  /* The old key is refused now. */
  {
    tb_payload *p3 = tb_payload_new("custom.db");
    vc_master_key mk = VC_MASTER_KEY_INIT;
    vc_ctx_options o = VC_CTX_OPTIONS_INIT;
    vc_store *st = tb_store(p3);
    vc_ctx *bad = NULL;
    mk.key = KEY_A;
    mk.key_len = 32;
    o.store = st;
    o.master_key = &mk;
    CHECK_RC(vc_ctx_new(&bad, &o), VC_EKEY);
    CHECK(atomic_load(&p3->freed) == 0);
    vc_store_free(st);
    CHECK(atomic_load(&p3->freed) == 1);
    CHECK(atomic_load(&p3->live_conns) == 0);
    CHECK(atomic_load(&p3->live_stmts) == 0);
    free(p3);
  }
  free(p);
  free(p2);
}

/* ------------------------------------------------------------------ */
/* Ownership of the payload                                            */

static void test_custom_store__payload_ownership(void)
{
  tb_payload *p = tb_payload_new("own.db");
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_store *st = tb_store(p);
  vc_ctx *ctx = NULL;

  /* Refused options: the store and its payload stay the caller's. */
  o.store = st;
  o.log_level = 99;
  CHECK_RC(vc_ctx_new(&ctx, &o), VC_EINVALID);
  CHECK(ctx == NULL);
  CHECK(atomic_load(&p->freed) == 0);
  o.log_level = 0;

  /* The backend cannot connect: its code and message come back. */
  atomic_store(&p->fail_connect, 1);
  CHECK_RC(vc_ctx_new(&ctx, &o), VC_ESTORAGE);
  CHECK(vc_error_last()->klass == VC_ERRCLASS_STORAGE);
  CHECK(strstr(vc_error_last()->message, "server is down") != NULL);
  CHECK(atomic_load(&p->freed) == 0);
  CHECK(atomic_load(&p->live_conns) == 0);

  /* The same store works once the backend does. */
  atomic_store(&p->fail_connect, 0);
  CHECK_OK(vc_ctx_new(&ctx, &o));
  CHECK(atomic_load(&p->freed) == 0);
  vc_ctx_free(ctx);
  CHECK(atomic_load(&p->freed) == 1);
  CHECK(atomic_load(&p->live_conns) == 0);
  CHECK(atomic_load(&p->live_stmts) == 0);

  /* vc_ctx_new fails after connecting (a newer schema): still the
   * caller's, and vc_store_free releases it and its connections. */
  {
    tb_payload *q = tb_payload_new("own.db");
    sqlite3 *db = NULL;
    char sql[160];
    vc_store *st2;

    CHECK(sqlite3_open_v2(q->path, &db, SQLITE_OPEN_READWRITE, NULL) ==
          SQLITE_OK);
    snprintf(sql, sizeof(sql),
             "INSERT INTO vc_schema_version VALUES (%d, 0, 'future')",
             vc_storage_schema_version() + 1);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_close(db) == SQLITE_OK);

    st2 = tb_store(q);
    o.store = st2;
    CHECK_RC(vc_ctx_new(&ctx, &o), VC_EVERSION);
    CHECK(atomic_load(&q->connect) >= 1);
    CHECK(atomic_load(&q->freed) == 0);
    CHECK(atomic_load(&q->begin) ==
          atomic_load(&q->commit) + atomic_load(&q->rollback));
    vc_store_free(st2);
    CHECK(atomic_load(&q->freed) == 1);
    CHECK(atomic_load(&q->live_conns) == 0);
    CHECK(atomic_load(&q->live_stmts) == 0);
    free(q);
  }
  /* The payload of the first store was released exactly once. */
  CHECK(atomic_load(&p->freed) == 1);
  free(p);
}

/* ------------------------------------------------------------------ */
/* Failing methods leave nothing half-written                          */

typedef int (*op_fn)(vc_ctx *ctx, vc_tenant *t);

static int op_tenant_new(vc_ctx *ctx, vc_tenant *t)
{
  vc_tenant *nt = NULL;
  vc_tenant_spec spec = VC_TENANT_SPEC_INIT;
  int rc;

  (void)t;
  spec.slug = "atomic";
  spec.name = "Atomic";
  rc = vc_tenant_new(&nt, ctx, &spec);
  if (rc == 0 && nt == NULL)
    return VC_ERROR;
  if (rc != 0 && nt != NULL)
    return VC_ERROR;
  vc_tenant_free(nt);
  return rc;
}

static int op_tenant_update(vc_ctx *ctx, vc_tenant *t)
{
  vc_tenant_spec up = VC_TENANT_SPEC_INIT;

  (void)ctx;
  up.name = "Renamed";
  up.timezone = "Europe/Berlin";
  up.quiet_start_min = 60;
  up.quiet_end_min = 120;
  return vc_tenant_update(t, &up);
}

static int op_secret_set_new(vc_ctx *ctx, vc_tenant *t)
{
  (void)ctx;
  return vc_secret_set(t, "new.secret", "value-1", 7);
}

static int op_secret_overwrite(vc_ctx *ctx, vc_tenant *t)
{
  (void)ctx;
  return vc_secret_set(t, "base.secret", "overwritten", 11);
}

static int op_secret_delete(vc_ctx *ctx, vc_tenant *t)
{
  (void)ctx;
  return vc_secret_delete(t, "base.secret");
}

static int op_rotate(vc_ctx *ctx, vc_tenant *t)
{
  vc_master_key nk = VC_MASTER_KEY_INIT;

  (void)t;
  nk.key = KEY_B;
  nk.key_len = 32;
  return vc_secret_rotate_key(ctx, &nk);
}

static int op_tenant_delete(vc_ctx *ctx, vc_tenant *t)
{
  (void)ctx;
  return vc_tenant_delete(t);
}

/* The base state each operation starts from. */
static vc_tenant *setup_base(vc_ctx *ctx)
{
  vc_tenant_spec spec = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;

  spec.slug = "base";
  CHECK_OK(vc_tenant_new(&t, ctx, &spec));
  CHECK_OK(vc_secret_set(t, "base.secret", "original", 8));
  CHECK_OK(vc_secret_set(t, "other.secret", "untouched", 9));
  return t;
}

/*
 * Make the k-th call of a backend method (the countdown at `fail_offset`
 * in the payload) fail for k = 1, 2, ... until the operation gets
 * through. Each failure must return the injected code with the backend's
 * message, leave no transaction open and the store exactly as it was.
 * Returns the number of failures seen.
 */
static int fail_each_point(const char *name, op_fn op, size_t fail_offset,
                           int code)
{
  static int serial;
  char file[32];
  tb_payload *p;
  atomic_int *which;
  vc_ctx *ctx;
  vc_tenant *t;
  uint64_t before;
  vc_buf value = VC_BUF_INIT;
  int k, rc = -1, failures = 0;

  snprintf(file, sizeof(file), "inject-%d.db", ++serial);
  p = tb_payload_new(file);
  which = (atomic_int *)((char *)p + fail_offset);
  ctx = tb_ctx(p, KEY_A);
  t = setup_base(ctx);
  before = fingerprint(p);

  p->fail_code = code;
  for (k = 1; k < 500; k++) {
    atomic_store(which, k);
    rc = op(ctx, t);
    if (atomic_load(which) != 0) {
      /* The operation made fewer than k calls: it got through. */
      atomic_store(which, 0);
      break;
    }
    if (rc == 0) {
      fprintf(stderr, "  %s: the failure of call %d was swallowed\n", name,
              k);
      CHECK(0);
    }
    if (rc != code || vc_error_last()->code != code ||
        vc_error_last()->klass != VC_ERRCLASS_STORAGE ||
        strstr(vc_error_last()->message, INJECTED_MESSAGE) == NULL) {
      fprintf(stderr, "  %s: the failure of call %d gave %d \"%s\"\n", name,
              k, rc, vc_error_last()->message);
      CHECK(0);
    }
    check_idle(p);
    if (fingerprint(p) != before) {
      fprintf(stderr, "  %s: the failure of call %d left a partial write\n",
              name, k);
      CHECK(0);
    }
    /* The context is still usable, with the old key and data. */
    CHECK_OK(vc_secret_get(&value, t, "other.secret"));
    CHECK(value.size == 9 && memcmp(value.ptr, "untouched", 9) == 0);
    failures++;
  }
  if (rc != 0)
    fprintf(stderr, "  %s: %s\n", name, vc_error_last()->message);
  CHECK_OK(rc);
  CHECK(failures >= 1);
  /* Once through, the operation did change the store. */
  CHECK(fingerprint(p) != before);
  check_idle(p);
  if (op == op_tenant_delete) {
    /* A deleted tenant's credentials are no longer handed out. */
    CHECK_RC(vc_secret_get(&value, t, "other.secret"), VC_ENOTFOUND);
  } else {
    CHECK_OK(vc_secret_get(&value, t, "other.secret"));
    CHECK(value.size == 9 && memcmp(value.ptr, "untouched", 9) == 0);
  }
  vc_buf_dispose(&value);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  CHECK(atomic_load(&p->live_stmts) == 0);
  CHECK(atomic_load(&p->live_conns) == 0);
  CHECK(atomic_load(&p->freed) == 1);
  free(p);
  return failures;
}

static const struct {
  const char *name;
  op_fn op;
} OPS[] = {
  { "vc_tenant_new", op_tenant_new },
  { "vc_tenant_update", op_tenant_update },
  { "vc_tenant_delete", op_tenant_delete },
  { "vc_secret_set (new)", op_secret_set_new },
  { "vc_secret_set (overwrite)", op_secret_overwrite },
  { "vc_secret_delete", op_secret_delete },
  { "vc_secret_rotate_key", op_rotate },
};

static void test_custom_store__step_failure_leaves_nothing(void)
{
  for (size_t i = 0; i < sizeof(OPS) / sizeof(OPS[0]); i++) {
    int failures = fail_each_point(OPS[i].name, OPS[i].op,
                                   offsetof(tb_payload, fail_step_at),
                                   VC_ESTORAGE);
    /* Every one of these writes more than once before it commits, so
     * some failures came after a write had succeeded. */
    if (failures < 2)
      fprintf(stderr, "  %s: only %d step(s)\n", OPS[i].name, failures);
    CHECK(failures >= 2);
  }
}

static void test_custom_store__begin_commit_failure(void)
{
  for (size_t i = 0; i < sizeof(OPS) / sizeof(OPS[0]); i++) {
    fail_each_point(OPS[i].name, OPS[i].op,
                    offsetof(tb_payload, fail_begin_at), VC_EBUSY);
    /* A commit that fails is rolled back, not left pending. */
    fail_each_point(OPS[i].name, OPS[i].op,
                    offsetof(tb_payload, fail_commit_at), VC_EBUSY);
  }
}

/* ------------------------------------------------------------------ */
/* Connection limits                                                   */

enum { WORKERS = 6, PER_WORKER = 15 };

typedef struct worker {
  vc_ctx *ctx;
  int index;
  int rc;
  char message[256];
} worker;

static void *worker_main(void *arg)
{
  worker *w = arg;

  for (int i = 0; i < PER_WORKER && w->rc == 0; i++) {
    char slug[32];
    vc_tenant *t = NULL;
    snprintf(slug, sizeof(slug), "w%d-%d", w->index, i);
    w->rc = vc_tenant_new(&t, w->ctx, &(vc_tenant_spec){
      VC_TENANT_SPEC_VERSION, slug, NULL, NULL, NULL, NULL,
      VC_QUIET_NONE, VC_QUIET_NONE });
    if (w->rc == 0)
      w->rc = vc_secret_set(t, "s", slug, strlen(slug));
    vc_tenant_free(t);
    if (w->rc == 0)
      w->rc = vc_tenant_lookup(&t, w->ctx, slug);
    vc_tenant_free(t);
  }
  snprintf(w->message, sizeof(w->message), "%s", vc_error_last()->message);
  return NULL;
}

static void test_custom_store__connection_limit(void)
{
  tb_payload *p = tb_payload_new("limit.db");
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_storage_ops ops;
  vc_store *st = NULL;
  vc_ctx *ctx = NULL;
  pthread_t th[WORKERS];
  worker w[WORKERS];

  tb_ops(&ops);
  ops.max_connections = 2;
  CHECK_OK(vc_store_custom(&st, &ops, p));
  mk.key = KEY_A;
  mk.key_len = 32;
  o.store = st;
  o.master_key = &mk;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  for (int i = 0; i < WORKERS; i++) {
    w[i].ctx = ctx;
    w[i].index = i;
    w[i].rc = 0;
    w[i].message[0] = '\0';
    CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
  }
  for (int i = 0; i < WORKERS; i++)
    CHECK(pthread_join(th[i], NULL) == 0);
  for (int i = 0; i < WORKERS; i++) {
    if (w[i].rc != 0)
      fprintf(stderr, "  worker %d: %d %s\n", i, w[i].rc, w[i].message);
    CHECK(w[i].rc == 0);
  }
  /* Never more connections than the backend allows. */
  CHECK(atomic_load(&p->max_live_conns) <= 2);
  CHECK(atomic_load(&p->connect) <= 2);
  CHECK(peek_int(p, "SELECT COUNT(*) FROM vc_tenant") == WORKERS * PER_WORKER);
  CHECK(peek_int(p, "SELECT COUNT(*) FROM vc_secret") == WORKERS * PER_WORKER);
  vc_ctx_free(ctx);
  CHECK(atomic_load(&p->live_conns) == 0);
  CHECK(atomic_load(&p->live_stmts) == 0);
  CHECK(atomic_load(&p->freed) == 1);
  free(p);
}

VC_TESTS(
  VC_TEST(test_custom_store__validation),
  VC_TEST(test_custom_store__ops_are_copied),
  VC_TEST(test_custom_store__migrate_tenants_secrets),
  VC_TEST(test_custom_store__payload_ownership),
  VC_TEST(test_custom_store__step_failure_leaves_nothing),
  VC_TEST(test_custom_store__begin_commit_failure),
  VC_TEST(test_custom_store__connection_limit),
)
