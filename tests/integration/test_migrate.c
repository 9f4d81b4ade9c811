/*
 * Schema migrations and the host-transaction wrap, through the public API
 * only (SQLite's own API pokes the file from outside):
 *
 *   - a fresh store migrates to vc_storage_schema_version(); reopening
 *     is a no-op; two contexts opening one fresh file at once both work;
 *   - a store written by a newer library is refused with VC_EVERSION and
 *     a message naming both versions, and is left untouched;
 *   - every table the library creates is prefixed vc_;
 *   - vc_storage_schema() hands out the scripts;
 *   - vc_store_wrap_sqlite(): library writes join the host's transaction
 *     (commit and rollback), a library failure inside it does not end it,
 *     and the host's connection outlives the context;
 *   - tests/resources/schema_v1.db, a store written by schema version 1
 *     (see tests/resources/gen_schema_v1.c), opens, migrates and decrypts
 *     with this library.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "vyomcomm/sys/storage.h"

#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

/* The harness keeps counters across its setjmp; gcc -O2 warns (a false
 * positive). */
#include "harness.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static vc_ctx *open_ctx_at(const char *path, const vc_master_key *mk)
{
  vc_store *st = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;

  CHECK_OK(vc_store_open_sqlite(&st, path, NULL));
  o.store = st;
  o.master_key = mk;
  if (vc_ctx_new(&ctx, &o) != 0) {
    fprintf(stderr, "  vc_ctx_new(%s): %s\n", path,
            vc_error_last()->message);
    vc_store_free(st);
    CHECK(0);
  }
  return ctx;
}

static sqlite3 *raw_open(const char *path)
{
  sqlite3 *db = NULL;

  CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) ==
        SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
  char *err = NULL;

  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "  sqlite3_exec(%s): %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    CHECK(0);
  }
}

/* One integer from a query; the query must return a row. */
static int64_t raw_int(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *s = NULL;
  int64_t v;

  CHECK(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK);
  if (sqlite3_step(s) != SQLITE_ROW) {
    sqlite3_finalize(s);
    CHECK(0);
  }
  v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

static int64_t file_int(const char *path, const char *sql)
{
  sqlite3 *db = raw_open(path);
  int64_t v = raw_int(db, sql);

  CHECK(sqlite3_close(db) == SQLITE_OK);
  return v;
}

/* The whole file, malloc'd; *len receives its size. */
static unsigned char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  unsigned char *buf;
  long n;

  CHECK(f != NULL);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fclose(f);
    free(buf);
    CHECK(0);
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static void copy_file(const char *from, const char *to)
{
  size_t n;
  unsigned char *buf = slurp(from, &n);
  FILE *f = fopen(to, "wb");

  if (f == NULL || fwrite(buf, 1, n, f) != n) {
    if (f)
      fclose(f);
    free(buf);
    CHECK(0);
  }
  free(buf);
  CHECK(fclose(f) == 0);
}

/* 1 when `msg` mentions the number `n` as a whole number. */
static int mentions_number(const char *msg, long n)
{
  const char *p = msg;

  while (*p) {
    if (isdigit((unsigned char)*p)) {
      char *end;
      long v = strtol(p, &end, 10);
      if (v == n && (p == msg || !isdigit((unsigned char)p[-1])))
        return 1;
      p = end;
    } else {
      p++;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Fresh, reopen, concurrent open                                      */

static void test_migrate__fresh_store(void)
{
  const char *path = vc_test_path("fresh.db");
  int latest = vc_storage_schema_version();
  vc_ctx *ctx;
  sqlite3 *db;
  sqlite3_stmt *s;

  CHECK(latest >= 1);
  ctx = open_ctx_at(path, NULL);
  vc_ctx_free(ctx);

  db = raw_open(path);
  CHECK(raw_int(db, "SELECT MAX(version) FROM vc_schema_version") ==
        latest);
  CHECK(raw_int(db, "SELECT COUNT(*) FROM vc_schema_version") == latest);
  CHECK(raw_int(db, "SELECT MIN(version) FROM vc_schema_version") == 1);
  /* Each row names the library that applied it, and when. */
  CHECK(sqlite3_prepare_v2(db, "SELECT library, applied_at FROM"
                               " vc_schema_version", -1, &s, NULL) ==
        SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW) {
    const char *lib = (const char *)sqlite3_column_text(s, 0);
    int ok = lib != NULL && strcmp(lib, vc_version_string()) == 0 &&
             sqlite3_column_int64(s, 1) > 1600000000000;
    if (!ok)
      sqlite3_finalize(s);
    CHECK(ok);
  }
  sqlite3_finalize(s);
  /* The schema's tables exist and are empty. */
  CHECK(raw_int(db, "SELECT COUNT(*) FROM vc_tenant") == 0);
  CHECK(raw_int(db, "SELECT COUNT(*) FROM vc_secret") == 0);
  {
    sqlite3_stmt *ic;
    CHECK(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &ic,
                             NULL) == SQLITE_OK);
    CHECK(sqlite3_step(ic) == SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(ic, 0), "ok");
    sqlite3_finalize(ic);
  }
  CHECK(sqlite3_close(db) == SQLITE_OK);
}

static void test_migrate__reopen_is_noop(void)
{
  const char *path = vc_test_path("reopen.db");
  int latest = vc_storage_schema_version();
  vc_tenant_spec spec = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;
  vc_ctx *ctx;
  int64_t applied, schema_objects;

  ctx = open_ctx_at(path, NULL);
  spec.slug = "kept";
  CHECK_OK(vc_tenant_new(&t, ctx, &spec));
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  applied = file_int(path, "SELECT SUM(applied_at) FROM vc_schema_version");
  schema_objects = file_int(path, "SELECT COUNT(*) FROM sqlite_master");

  for (int i = 0; i < 3; i++) {
    ctx = open_ctx_at(path, NULL);
    /* The data survived. */
    CHECK_OK(vc_tenant_lookup(&t, ctx, "kept"));
    vc_tenant_free(t);
    vc_ctx_free(ctx);
  }
  CHECK(file_int(path, "SELECT COUNT(*) FROM vc_schema_version") == latest);
  CHECK(file_int(path, "SELECT SUM(applied_at) FROM vc_schema_version") ==
        applied);
  CHECK(file_int(path, "SELECT COUNT(*) FROM sqlite_master") ==
        schema_objects);
}

typedef struct opener {
  const char *path;
  pthread_barrier_t *barrier;
  int rc;
  char message[512];
} opener;

static void *open_thread(void *p)
{
  opener *o = p;
  vc_store *st = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options co = VC_CTX_OPTIONS_INIT;

  o->rc = vc_store_open_sqlite(&st, o->path, NULL);
  pthread_barrier_wait(o->barrier);
  if (o->rc == 0) {
    co.store = st;
    o->rc = vc_ctx_new(&ctx, &co);
    if (o->rc != 0)
      vc_store_free(st);
  }
  snprintf(o->message, sizeof(o->message), "%s", vc_error_last()->message);
  vc_ctx_free(ctx);
  return NULL;
}

static void test_migrate__concurrent_first_open(void)
{
  enum { N = 4 };
  const char *path = vc_test_path("race.db");
  pthread_barrier_t barrier;
  pthread_t th[N];
  opener o[N];

  CHECK(pthread_barrier_init(&barrier, NULL, N) == 0);
  for (int i = 0; i < N; i++) {
    o[i].path = path;
    o[i].barrier = &barrier;
    o[i].rc = -1;
    o[i].message[0] = '\0';
    CHECK(pthread_create(&th[i], NULL, open_thread, &o[i]) == 0);
  }
  for (int i = 0; i < N; i++)
    CHECK(pthread_join(th[i], NULL) == 0);
  pthread_barrier_destroy(&barrier);
  for (int i = 0; i < N; i++) {
    if (o[i].rc != 0)
      fprintf(stderr, "  opener %d: %d %s\n", i, o[i].rc, o[i].message);
    CHECK(o[i].rc == 0);
  }
  /* The scripts ran once. */
  CHECK(file_int(path, "SELECT COUNT(*) FROM vc_schema_version") ==
        vc_storage_schema_version());
}

/* ------------------------------------------------------------------ */
/* A store from a newer library                                        */

static void test_migrate__newer_store_refused(void)
{
  const char *path = vc_test_path("newer.db");
  int latest = vc_storage_schema_version();
  unsigned char *before, *after;
  size_t nbefore, nafter;
  vc_store *st = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec spec = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;
  sqlite3 *db;
  char sql[200], wal[600];

  ctx = open_ctx_at(path, NULL);
  spec.slug = "old-data";
  CHECK_OK(vc_tenant_new(&t, ctx, &spec));
  vc_tenant_free(t);
  vc_ctx_free(ctx);

  /* A newer library recorded version latest + 1. */
  db = raw_open(path);
  snprintf(sql, sizeof(sql),
           "INSERT INTO vc_schema_version (version, applied_at, library)"
           " VALUES (%d, 1900000000000, '99.0.0')", latest + 1);
  raw_exec(db, sql);
  CHECK(sqlite3_close(db) == SQLITE_OK);
  snprintf(wal, sizeof(wal), "%s-wal", path);
  CHECK(access(wal, F_OK) != 0);
  before = slurp(path, &nbefore);

  CHECK_OK(vc_store_open_sqlite(&st, path, NULL));
  o.store = st;
  CHECK_RC(vc_ctx_new(&ctx, &o), VC_EVERSION);
  CHECK(ctx == NULL);
  CHECK(vc_error_last()->code == VC_EVERSION);
  CHECK(strchr(vc_error_last()->message, '\n') == NULL);
  if (!mentions_number(vc_error_last()->message, latest + 1) ||
      !mentions_number(vc_error_last()->message, latest)) {
    fprintf(stderr, "  message: %s\n", vc_error_last()->message);
    CHECK(0);
  }
  CHECK(strstr(vc_error_last()->message, "newer") != NULL);
  /* Twice: the same answer (nothing was half-done the first time). */
  CHECK_RC(vc_ctx_new(&ctx, &o), VC_EVERSION);
  /* On failure the caller still owns the store. */
  vc_store_free(st);

  /* The file is byte for byte what it was, and no journal is left. */
  after = slurp(path, &nafter);
  CHECK(nafter == nbefore);
  CHECK(memcmp(before, after, nbefore) == 0);
  free(before);
  free(after);
  CHECK(access(wal, F_OK) != 0);
  CHECK(file_int(path, "SELECT COUNT(*) FROM vc_schema_version") ==
        latest + 1);
  CHECK(file_int(path, "SELECT COUNT(*) FROM vc_tenant") == 1);
}

/* ------------------------------------------------------------------ */
/* Names and scripts                                                   */

static void check_all_prefixed(sqlite3 *db, const char *host_table)
{
  sqlite3_stmt *s;
  int n = 0;

  CHECK(sqlite3_prepare_v2(db, "SELECT type, name, tbl_name FROM"
                               " sqlite_master", -1, &s, NULL) ==
        SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW) {
    const char *type = (const char *)sqlite3_column_text(s, 0);
    const char *name = (const char *)sqlite3_column_text(s, 1);
    const char *tbl = (const char *)sqlite3_column_text(s, 2);
    int ok;
    if (host_table != NULL && strcmp(tbl, host_table) == 0)
      continue;
    /* SQLite's own objects (sqlite_sequence, sqlite_autoindex_vc_x_1)
     * belong to a vc_ table or to SQLite itself. */
    ok = strncmp(tbl, "vc_", 3) == 0 ||
         strcmp(tbl, "sqlite_sequence") == 0;
    ok = ok && (strncmp(name, "vc_", 3) == 0 ||
                strncmp(name, "sqlite_", 7) == 0);
    if (!ok) {
      fprintf(stderr, "  %s %s (on %s) is not prefixed vc_\n", type, name,
              tbl);
      sqlite3_finalize(s);
      CHECK(0);
    }
    n++;
  }
  sqlite3_finalize(s);
  CHECK(n >= 7); /* at least the tables of schema 1 */
}

static void test_migrate__tables_prefixed(void)
{
  const char *path = vc_test_path("names.db");
  vc_ctx *ctx = open_ctx_at(path, NULL);
  sqlite3 *db;

  vc_ctx_free(ctx);
  db = raw_open(path);
  check_all_prefixed(db, NULL);
  CHECK(raw_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE"
                    " type = 'table' AND name = 'vc_schema_version'") == 1);
  CHECK(sqlite3_close(db) == SQLITE_OK);
}

static void test_migrate__schema_scripts(void)
{
  int latest = vc_storage_schema_version();
  const char *sql = (const char *)1;

  for (int v = 1; v <= latest; v++) {
    sql = NULL;
    CHECK_OK(vc_storage_schema(&sql, VC_DIALECT_SQLITE, v));
    CHECK(sql != NULL && strlen(sql) > 10);
    CHECK(sqlite3_complete(sql));
  }
  CHECK_OK(vc_storage_schema(&sql, VC_DIALECT_SQLITE, 1));
  CHECK(strstr(sql, "CREATE TABLE vc_tenant") != NULL);

  sql = (const char *)1;
  CHECK_RC(vc_storage_schema(&sql, VC_DIALECT_SQLITE, 0), VC_ENOTFOUND);
  CHECK(sql == NULL);
  sql = (const char *)1;
  CHECK_RC(vc_storage_schema(&sql, VC_DIALECT_SQLITE, latest + 1),
           VC_ENOTFOUND);
  CHECK(sql == NULL);
  CHECK_RC(vc_storage_schema(&sql, VC_DIALECT_SQLITE, -1), VC_ENOTFOUND);
  CHECK_RC(vc_storage_schema(&sql, VC_DIALECT_SQLITE, INT_MAX),
           VC_ENOTFOUND);
  CHECK_RC(vc_storage_schema(&sql, 0, 1), VC_ENOTFOUND);
  CHECK_RC(vc_storage_schema(&sql, 99, 1), VC_ENOTFOUND);
  CHECK_RC(vc_storage_schema(NULL, VC_DIALECT_SQLITE, 1), VC_EINVALID);

  /* The scripts build the schema a library-made store has. */
  {
    const char *path = vc_test_path("manual.db");
    sqlite3 *db = NULL;
    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
                          SQLITE_OPEN_CREATE, NULL) == SQLITE_OK);
    for (int v = 1; v <= latest; v++) {
      CHECK_OK(vc_storage_schema(&sql, VC_DIALECT_SQLITE, v));
      raw_exec(db, sql);
    }
    check_all_prefixed(db, NULL);
    CHECK(sqlite3_close(db) == SQLITE_OK);
  }
  vc_error_clear();
}

/* ------------------------------------------------------------------ */
/* The host's own connection                                           */

static sqlite3 *host_open(const char *path)
{
  sqlite3 *db = NULL;

  CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
                        SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  raw_exec(db, "CREATE TABLE IF NOT EXISTS erp_invoice ("
               " id INTEGER PRIMARY KEY, customer TEXT NOT NULL)");
  return db;
}

static vc_ctx *wrap_ctx(sqlite3 *db)
{
  vc_store *st = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;

  CHECK_OK(vc_store_wrap_sqlite(&st, db));
  o.store = st;
  if (vc_ctx_new(&ctx, &o) != 0) {
    fprintf(stderr, "  vc_ctx_new: %s\n", vc_error_last()->message);
    vc_store_free(st);
    CHECK(0);
  }
  return ctx;
}

static int tenant_exists(vc_ctx *ctx, const char *slug)
{
  vc_tenant *t = NULL;
  int rc = vc_tenant_lookup(&t, ctx, slug);

  vc_tenant_free(t);
  if (rc == VC_ENOTFOUND)
    return 0;
  CHECK_OK(rc);
  return 1;
}

static void test_migrate__wrap_commit_and_rollback(void)
{
  const char *path = vc_test_path("host.db");
  vc_tenant_spec spec = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;
  sqlite3 *db = host_open(path);
  vc_ctx *ctx;

  /* The context migrates through the host's connection. */
  ctx = wrap_ctx(db);
  CHECK(raw_int(db, "SELECT MAX(version) FROM vc_schema_version") ==
        vc_storage_schema_version());
  check_all_prefixed(db, "erp_invoice");

  /* Commit: the host's row and the tenant are both there. */
  raw_exec(db, "BEGIN");
  raw_exec(db, "INSERT INTO erp_invoice (id, customer) VALUES (1, 'a')");
  spec.slug = "committed";
  CHECK_OK(vc_tenant_new(&t, ctx, &spec));
  CHECK_STR(vc_tenant_slug(t), "committed");
  vc_tenant_free(t);
  /* Still inside the host's transaction. */
  CHECK(sqlite3_get_autocommit(db) == 0);
  raw_exec(db, "COMMIT");
  CHECK(raw_int(db, "SELECT COUNT(*) FROM erp_invoice WHERE id = 1") == 1);
  CHECK(tenant_exists(ctx, "committed"));

  /* Rollback: neither. */
  raw_exec(db, "BEGIN");
  raw_exec(db, "INSERT INTO erp_invoice (id, customer) VALUES (2, 'b')");
  spec.slug = "rolled-back";
  CHECK_OK(vc_tenant_new(&t, ctx, &spec));
  vc_tenant_free(t);
  CHECK(tenant_exists(ctx, "rolled-back")); /* visible inside */
  raw_exec(db, "ROLLBACK");
  CHECK(!tenant_exists(ctx, "rolled-back"));
  {
    vc_tenant *none = NULL;
    CHECK_RC(vc_tenant_lookup(&none, ctx, "rolled-back"), VC_ENOTFOUND);
    CHECK(none == NULL);
  }
  CHECK(raw_int(db, "SELECT COUNT(*) FROM erp_invoice WHERE id = 2") == 0);
  CHECK(raw_int(db, "SELECT COUNT(*) FROM vc_event WHERE payload LIKE"
                    " '%rolled-back%'") == 0);

  /* A library failure inside the host's transaction undoes only the
   * library's part: the host's transaction stays open and commits. */
  raw_exec(db, "BEGIN");
  raw_exec(db, "INSERT INTO erp_invoice (id, customer) VALUES (3, 'c')");
  spec.slug = "committed"; /* taken */
  CHECK_RC(vc_tenant_new(&t, ctx, &spec), VC_EEXISTS);
  CHECK(t == NULL);
  CHECK(sqlite3_get_autocommit(db) == 0);
  spec.slug = "after-failure";
  CHECK_OK(vc_tenant_new(NULL, ctx, &spec));
  raw_exec(db, "COMMIT");
  CHECK(raw_int(db, "SELECT COUNT(*) FROM erp_invoice WHERE id = 3") == 1);
  CHECK(tenant_exists(ctx, "after-failure"));

  /* Outside a host transaction the library commits on its own. */
  CHECK(sqlite3_get_autocommit(db) == 1);
  spec.slug = "autocommit";
  CHECK_OK(vc_tenant_new(NULL, ctx, &spec));
  CHECK(sqlite3_get_autocommit(db) == 1);
  CHECK(raw_int(db, "SELECT COUNT(*) FROM vc_tenant") == 3);

  /* After the context: no statement of the library is left on the
   * connection, the host keeps using it, and closing it succeeds. */
  vc_ctx_free(ctx);
  CHECK(sqlite3_next_stmt(db, NULL) == NULL);
  raw_exec(db, "INSERT INTO erp_invoice (id, customer) VALUES (4, 'd')");
  CHECK(raw_int(db, "SELECT COUNT(*) FROM erp_invoice") == 3);
  CHECK(sqlite3_close(db) == SQLITE_OK);

  /* And the file is a normal store afterwards. */
  ctx = open_ctx_at(path, NULL);
  CHECK(tenant_exists(ctx, "committed"));
  CHECK(tenant_exists(ctx, "after-failure"));
  CHECK(!tenant_exists(ctx, "rolled-back"));
  vc_ctx_free(ctx);
}

static void test_migrate__wrap_misuse(void)
{
  const char *path = vc_test_path("host2.db");
  sqlite3 *db = host_open(path);
  vc_store *st = (vc_store *)db;
  vc_store *st2 = NULL;
  vc_ctx *ctx = NULL, *ctx2 = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;

  CHECK_RC(vc_store_wrap_sqlite(&st, NULL), VC_EINVALID);
  CHECK(st == NULL);
  CHECK_RC(vc_store_wrap_sqlite(NULL, db), VC_EINVALID);

  /* A wrapped store that is never used leaves the connection alone. */
  CHECK_OK(vc_store_wrap_sqlite(&st, db));
  vc_store_free(st);
  CHECK(raw_int(db, "SELECT COUNT(*) FROM erp_invoice") == 0);

  /* A store given to a context cannot be given to a second one. */
  CHECK_OK(vc_store_wrap_sqlite(&st, db));
  o.store = st;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  CHECK_RC(vc_ctx_new(&ctx2, &o), VC_EINVALID);
  CHECK(ctx2 == NULL);
  /* Two contexts over two wraps of one connection work in turn. */
  CHECK_OK(vc_store_wrap_sqlite(&st2, db));
  o.store = st2;
  CHECK_OK(vc_ctx_new(&ctx2, &o));
  CHECK_OK(vc_tenant_new(NULL, ctx2, &(vc_tenant_spec){
    VC_TENANT_SPEC_VERSION, "via-two", NULL, NULL, NULL, NULL,
    VC_QUIET_NONE, VC_QUIET_NONE }));
  CHECK(tenant_exists(ctx, "via-two"));
  vc_ctx_free(ctx2);
  vc_ctx_free(ctx);
  CHECK(sqlite3_next_stmt(db, NULL) == NULL);
  CHECK(sqlite3_close(db) == SQLITE_OK);
  vc_error_clear();
}

/* ------------------------------------------------------------------ */
/* The storage-format fixture                                          */

#define FIXTURE "schema_v1.db"
#define FIXTURE_TENANT_ID "01HF7YAT008M8CE3VDNZSB7TJD"
#define FIXTURE_GONE_ID "01HF7YAT008M8CE3VDNZSB7TJF"

static int try_resource(char *out, size_t size, const char *dir)
{
  snprintf(out, size, "%s/%s", dir, FIXTURE);
  return access(out, R_OK) == 0;
}

/*
 * Find tests/resources/<FIXTURE>: $VC_TEST_RESOURCES, or the resources
 * directory beside this source file, whose path (__FILE__) is absolute
 * or relative to the build directory (the executable's parent).
 */
static int find_fixture(char *out, size_t size)
{
  char src[PATH_MAX], exe[PATH_MAX], base[PATH_MAX], dir[2 * PATH_MAX];
  const char *env = getenv("VC_TEST_RESOURCES");
  ssize_t n;

  if (env != NULL && try_resource(out, size, env))
    return 1;
  snprintf(src, sizeof(src), "%s", __FILE__);
  snprintf(base, sizeof(base), "%s", dirname(src)); /* .../integration */
  if (base[0] == '/') {
    snprintf(dir, sizeof(dir), "%s/../resources", base);
    return try_resource(out, size, dir);
  }
  snprintf(dir, sizeof(dir), "%s/../resources", base);
  if (try_resource(out, size, dir))
    return 1;
  n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0)
    return 0;
  exe[n] = '\0';
  {
    char *exe_dir = dirname(exe);
    const char *up[] = { "", "/..", "/../.." };
    for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
      snprintf(dir, sizeof(dir), "%s%s/%s/../resources", exe_dir, up[i],
               base);
      if (try_resource(out, size, dir))
        return 1;
    }
  }
  return 0;
}

static void fixture_key(uint8_t key[32], vc_master_key *mk)
{
  for (int i = 0; i < 32; i++)
    key[i] = (uint8_t)i;
  *mk = (vc_master_key)VC_MASTER_KEY_INIT;
  mk->key = key;
  mk->key_len = 32;
}

static void test_migrate__fixture_schema_v1(void)
{
  char src[PATH_MAX + 64];
  const char *path = vc_test_path(FIXTURE);
  uint8_t key[32];
  vc_master_key mk;
  vc_store *st = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant *t = NULL;
  vc_buf value = VC_BUF_INIT;
  int qs = 0, qe = 0;

  if (!find_fixture(src, sizeof(src))) {
    fprintf(stderr, "  cannot find tests/resources/" FIXTURE
            " (set VC_TEST_RESOURCES)\n");
    CHECK(0);
  }
  copy_file(src, path);

  /* What the fixture is: a store at schema version 1. */
  CHECK(file_int(path, "SELECT COUNT(*) FROM vc_schema_version") == 1);
  CHECK(file_int(path, "SELECT MAX(version) FROM vc_schema_version") == 1);

  /* The current library opens and migrates it. */
  fixture_key(key, &mk);
  ctx = open_ctx_at(path, &mk);
  CHECK(file_int(path, "SELECT MAX(version) FROM vc_schema_version") ==
        vc_storage_schema_version());
  /* Version 1 is the fixture's own row (applied when it was made), not
   * applied again. */
  CHECK(file_int(path, "SELECT applied_at FROM vc_schema_version"
                       " WHERE version = 1") == 1795705001263);

  CHECK_OK(vc_tenant_lookup(&t, ctx, "fixture-tenant"));
  CHECK_STR(vc_tenant_id(t), FIXTURE_TENANT_ID);
  CHECK_STR(vc_tenant_name(t), "Fixture Tenant Ltd");
  CHECK_STR(vc_tenant_timezone(t), "Asia/Kolkata");
  CHECK_STR(vc_tenant_locale(t), "en-IN");
  CHECK_STR(vc_tenant_currency(t), "INR");
  CHECK_OK(vc_tenant_quiet_hours(t, &qs, &qe));
  CHECK(qs == 1320 && qe == 480);
  CHECK(vc_tenant_created_at(t) == 1700000000000);
  CHECK(vc_tenant_deleted_at(t) == 0);

  /* Its credential, sealed by schema version 1's library, decrypts. */
  CHECK_OK(vc_secret_get(&value, t, "smtp.password"));
  CHECK(value.size == 9 && memcmp(value.ptr, "s3cret-v1", 9) == 0);
  vc_buf_dispose(&value);
  vc_tenant_free(t);

  /* The soft-deleted tenant stays deleted. */
  CHECK_RC(vc_tenant_lookup(&t, ctx, "gone"), VC_ENOTFOUND);
  {
    vc_iter *it = NULL;
    vc_tenant_filter f = VC_TENANT_FILTER_INIT;
    int n = 0, rc;
    f.include_deleted = 1;
    CHECK_OK(vc_tenant_list(&it, ctx, &f));
    while ((rc = vc_tenant_next(&t, it)) == 0) {
      if (strcmp(vc_tenant_id(t), FIXTURE_GONE_ID) == 0)
        CHECK(vc_tenant_deleted_at(t) == 1700000000000);
      vc_tenant_free(t);
      n++;
    }
    vc_iter_free(it);
    CHECK(rc == VC_ITEROVER);
    CHECK(n == 2);
  }

  /* It takes new writes. */
  CHECK_OK(vc_tenant_lookup(&t, ctx, "fixture-tenant"));
  CHECK_OK(vc_secret_set(t, "api.key", "k2", 2));
  CHECK_OK(vc_secret_get(&value, t, "api.key"));
  CHECK(value.size == 2 && memcmp(value.ptr, "k2", 2) == 0);
  vc_buf_dispose(&value);
  vc_tenant_free(t);
  vc_ctx_free(ctx);

  /* Reopening the migrated fixture is a no-op. */
  ctx = open_ctx_at(path, &mk);
  vc_ctx_free(ctx);
  CHECK(file_int(path, "SELECT COUNT(*) FROM vc_schema_version") ==
        vc_storage_schema_version());

  /* A wrong key is told apart from a damaged store. */
  {
    uint8_t bad[32];
    vc_master_key bmk;
    fixture_key(bad, &bmk);
    bad[0] ^= 0xff;
    CHECK_OK(vc_store_open_sqlite(&st, path, NULL));
    o.store = st;
    o.master_key = &bmk;
    CHECK_RC(vc_ctx_new(&ctx, &o), VC_EKEY);
    CHECK(ctx == NULL);
    vc_store_free(st);
  }
}

VC_TESTS(
  VC_TEST(test_migrate__fresh_store),
  VC_TEST(test_migrate__reopen_is_noop),
  VC_TEST(test_migrate__concurrent_first_open),
  VC_TEST(test_migrate__newer_store_refused),
  VC_TEST(test_migrate__tables_prefixed),
  VC_TEST(test_migrate__schema_scripts),
  VC_TEST(test_migrate__wrap_commit_and_rollback),
  VC_TEST(test_migrate__wrap_misuse),
  VC_TEST(test_migrate__fixture_schema_v1),
)
