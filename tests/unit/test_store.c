/*
 * Unit tests of the SQLite store and the connection layer (db.c):
 * pragmas, the statement cache, nested transactions, error mapping
 * (busy, unique, not a database), ":memory:" and the connection pool.
 * Databases live on disk in the case's scratch directory, except the
 * ":memory:" case.
 */
#include "core/common.h"
#include "store/db.h"
#include "store/migrate.h"
#include "store/group.h"
#include "store/store.h"
#include "core/random.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

/* The harness keeps counters across its setjmp; gcc -O2 warns (a false
 * positive). */
#include "harness.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static vc_store *open_store(const char *name, const vc_sqlite_options *o)
{
  vc_store *s = NULL;
  int rc = vc_store_open_sqlite(&s, vc_test_path(name), o);

  if (rc != 0)
    fprintf(stderr, "  open %s: %s\n", name, vc_error_last()->message);
  CHECK(rc == 0 && s != NULL);
  return s;
}

static vc__db *acquire(vc_store *s)
{
  vc__db *db = NULL;

  CHECK_OK(vc__db_acquire(&db, s));
  CHECK(db != NULL);
  return db;
}

/* One integer from a query without parameters. */
static int64_t query_int(vc__db *db, const char *sql)
{
  vc__stmt *s;
  int64_t v;

  CHECK_OK(vc__db_query(&s, db, sql, ""));
  CHECK_RC(vc__stmt_step(s), VC_STORAGE_ROW);
  v = vc__stmt_int64(s, 0);
  vc__stmt_done(s);
  return v;
}

/* One text value (copied into `out`) from a query without parameters. */
static void query_text(vc__db *db, const char *sql, char *out, size_t size)
{
  vc__stmt *s;
  const char *t;

  CHECK_OK(vc__db_query(&s, db, sql, ""));
  CHECK_RC(vc__stmt_step(s), VC_STORAGE_ROW);
  t = vc__stmt_text(s, 0);
  snprintf(out, size, "%s", t ? t : "(null)");
  vc__stmt_done(s);
}

static int64_t now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char SQL_CREATE_T[] =
  "CREATE TABLE t (x INTEGER PRIMARY KEY, name TEXT UNIQUE,"
  " note TEXT NOT NULL DEFAULT '', data BLOB)";
static const char SQL_INSERT_X[] = "INSERT INTO t (x) VALUES (?1)";
static const char SQL_COUNT_T[] = "SELECT COUNT(*) FROM t";
static const char SQL_SUM_T[] = "SELECT COALESCE(SUM(x), 0) FROM t";

/* ------------------------------------------------------------------ */
/* Opening and pragmas                                                 */

static void test_store__pragmas_default(void)
{
  vc_store *st = open_store("p.db", NULL);
  vc__db *db = acquire(st);
  char mode[32];

  query_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
  CHECK_STR(mode, "wal");
  CHECK(query_int(db, "PRAGMA synchronous") == 1); /* NORMAL */
  CHECK(query_int(db, "PRAGMA foreign_keys") == 1);
  /* SQLite reports 0: the library waits with its own busy handler,
   * whose timeout busy_is_ebusy checks. */
  CHECK(query_int(db, "PRAGMA busy_timeout") == 0);
  CHECK(vc__db_dialect(db) == VC_DIALECT_SQLITE);
  vc__db_release(db);
  CHECK(st->ops.max_connections == 0); /* a file: one per thread */
  CHECK(st->stmt_cache_size == 64);
  vc_store_free(st);
}

static void test_store__pragmas_full(void)
{
  vc_sqlite_options o = VC_SQLITE_OPTIONS_INIT;
  vc_store *st;
  vc__db *db;
  char mode[32];

  o.synchronous = VC_SQLITE_SYNC_FULL;
  o.busy_timeout_ms = 1234;
  o.statement_cache = 8;
  st = open_store("full.db", &o);
  CHECK(st->stmt_cache_size == 8);
  db = acquire(st);
  query_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
  CHECK_STR(mode, "wal");
  CHECK(query_int(db, "PRAGMA synchronous") == 2); /* FULL */
  CHECK(query_int(db, "PRAGMA foreign_keys") == 1);
  CHECK(query_int(db, "PRAGMA busy_timeout") == 0);
  vc__db_release(db);
  vc_store_free(st);

  /* NORMAL said explicitly is the default. */
  o.synchronous = VC_SQLITE_SYNC_NORMAL;
  o.busy_timeout_ms = 0;
  st = open_store("normal.db", &o);
  db = acquire(st);
  CHECK(query_int(db, "PRAGMA synchronous") == 1);
  /* SQLite reports 0: the library waits with its own busy handler,
   * whose timeout busy_is_ebusy checks. */
  CHECK(query_int(db, "PRAGMA busy_timeout") == 0);
  vc__db_release(db);
  vc_store_free(st);
}

static void test_store__open_bad_arguments(void)
{
  vc_sqlite_options o = VC_SQLITE_OPTIONS_INIT;
  vc_store *st = (vc_store *)&o; /* anything non-NULL */

  CHECK_RC(vc_store_open_sqlite(NULL, "x.db", NULL), VC_EINVALID);
  CHECK_RC(vc_store_open_sqlite(&st, NULL, NULL), VC_EINVALID);
  CHECK(st == NULL);
  st = (vc_store *)&o;
  CHECK_RC(vc_store_open_sqlite(&st, "", NULL), VC_EINVALID);
  CHECK(st == NULL);
  o.synchronous = 7;
  CHECK_RC(vc_store_open_sqlite(&st, vc_test_path("x.db"), &o),
           VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "synchronous") != NULL);
  o.synchronous = 0;
  o.version = 0;
  CHECK_RC(vc_store_open_sqlite(&st, vc_test_path("x.db"), &o),
           VC_EVERSION);
  o.version = VC_SQLITE_OPTIONS_VERSION + 1;
  CHECK_RC(vc_store_open_sqlite(&st, vc_test_path("x.db"), &o),
           VC_EVERSION);
  CHECK(st == NULL);
  /* Nothing was created by the refused calls. */
  CHECK(access(vc_test_path("x.db"), F_OK) != 0);
  vc_store_free(NULL);
}

static void test_store__open_unreachable_path(void)
{
  vc_store *st = open_store("no/such/dir/x.db", NULL);
  vc__db *db = NULL;

  CHECK_RC(vc__db_acquire(&db, st), VC_ESTORAGE);
  CHECK(vc_error_last()->klass == VC_ERRCLASS_STORAGE);
  CHECK(strstr(vc_error_last()->message, "open") != NULL);
  CHECK(strchr(vc_error_last()->message, '\n') == NULL);
  /* The failed connection was not counted as open. */
  CHECK(st->nopen == 0);
  vc_store_free(st);
}

/* ------------------------------------------------------------------ */
/* Binding and columns                                                 */

static void test_store__bind_and_columns(void)
{
  vc_store *st = open_store("b.db", NULL);
  vc__db *db = acquire(st);
  vc__stmt *s;
  const void *p;
  size_t n = 99;

  CHECK_OK(vc__db_exec(db, SQL_CREATE_T));
  CHECK_OK(vc__db_run(db, "INSERT INTO t (x, name, note, data)"
                          " VALUES (?1, ?2, ?3, ?4)", "ittb",
                      (int64_t)INT64_MAX, "caf\xc3\xa9", "n1",
                      "\0\1\2", (size_t)3));
  CHECK(vc__db_changes(db) == 1);
  CHECK_OK(vc__db_run(db, "INSERT INTO t (x, name, data)"
                          " VALUES (?1, ?2, ?3)", "itb",
                      (int64_t)INT64_MIN, (const char *)NULL,
                      (const void *)NULL, (size_t)0));
  CHECK_OK(vc__db_run(db, "INSERT INTO t (x, name, data)"
                          " VALUES (?1, ?2, ?3)", "itn",
                      (int64_t)0, "zero"));

  CHECK_OK(vc__db_query(&s, db, "SELECT name, note, data FROM t"
                                " WHERE x = ?1", "i", (int64_t)INT64_MAX));
  CHECK_RC(vc__stmt_step(s), VC_STORAGE_ROW);
  CHECK_STR(vc__stmt_text(s, 0), "caf\xc3\xa9");
  CHECK_STR(vc__stmt_text(s, 1), "n1");
  p = vc__stmt_blob(s, 2, &n);
  CHECK(n == 3 && memcmp(p, "\0\1\2", 3) == 0);
  CHECK_RC(vc__stmt_step(s), VC_STORAGE_DONE);
  vc__stmt_done(s);

  /* A NULL text binds SQL NULL; a NULL zero-length blob is an empty
   * blob, not NULL. */
  CHECK_OK(vc__db_query(&s, db, "SELECT name, typeof(data), length(data)"
                                " FROM t WHERE x = ?1", "i",
                        (int64_t)INT64_MIN));
  CHECK_RC(vc__stmt_step(s), VC_STORAGE_ROW);
  CHECK(vc__stmt_is_null(s, 0));
  CHECK(vc__stmt_text(s, 0) == NULL);
  CHECK_STR(vc__stmt_text(s, 1), "blob");
  CHECK(vc__stmt_int64(s, 2) == 0);
  vc__stmt_done(s);

  CHECK_OK(vc__db_query(&s, db, "SELECT data FROM t WHERE x = 0", ""));
  CHECK_RC(vc__stmt_step(s), VC_STORAGE_ROW);
  CHECK(vc__stmt_is_null(s, 0));
  vc__stmt_done(s);

  /* Length-limited text. */
  CHECK_OK(vc__db_prepare(&s, db, "SELECT ?1"));
  CHECK_OK(vc__stmt_bind_textn(s, 1, "abcdef", 3));
  CHECK_RC(vc__stmt_step(s), VC_STORAGE_ROW);
  CHECK_STR(vc__stmt_text(s, 0), "abc");
  vc__stmt_done(s);

  /* A bad type letter is an internal error, and the statement goes back
   * to the cache. */
  CHECK_RC(vc__db_run(db, "SELECT ?1", "z"), VC_ERROR);
  CHECK(strstr(vc_error_last()->message, "bind type") != NULL);
  /* A bad parameter index is reported by the backend. */
  CHECK_OK(vc__db_prepare(&s, db, "SELECT ?1"));
  CHECK(vc__stmt_bind_int64(s, 5, 1) < 0);
  vc__stmt_done(s);
  /* Bad SQL fails to prepare, with SQLite's message. */
  CHECK_RC(vc__db_prepare(&s, db, "SELEKT 1"), VC_ESTORAGE);
  CHECK(strstr(vc_error_last()->message, "syntax error") != NULL);
  CHECK_RC(vc__db_exec(db, "CREATE TABLE"), VC_ESTORAGE);

  vc__db_release(db);
  vc_store_free(st);
  vc_error_clear();
}

/* ------------------------------------------------------------------ */
/* The statement cache                                                 */

static void test_store__stmt_cache_reuse(void)
{
  vc_store *st = open_store("c.db", NULL);
  vc__db *db = acquire(st);
  vc__stmt *a, *b;
  char *same_text = strdup("SELECT ?1 + 1");

  CHECK(same_text != NULL);
  CHECK_OK(vc__db_prepare(&a, db, "SELECT ?1 + 1"));
  CHECK_OK(vc__stmt_bind_int64(a, 1, 41));
  CHECK_RC(vc__stmt_step(a), VC_STORAGE_ROW);
  CHECK(vc__stmt_int64(a, 0) == 42);
  vc__stmt_done(a);

  /* The same SQL gives the same statement back... */
  CHECK_OK(vc__db_prepare(&b, db, "SELECT ?1 + 1"));
  CHECK(b == a);
  /* ...reset, with its bindings cleared. */
  CHECK_RC(vc__stmt_step(b), VC_STORAGE_ROW);
  CHECK(vc__stmt_is_null(b, 0));
  vc__stmt_done(b);

  /* Equal text at another address is found too. */
  CHECK_OK(vc__db_prepare(&b, db, same_text));
  CHECK(b == a);
  CHECK_OK(vc__stmt_bind_int64(b, 1, 1));
  CHECK_RC(vc__stmt_step(b), VC_STORAGE_ROW);
  CHECK(vc__stmt_int64(b, 0) == 2);
  vc__stmt_done(b);

  /* Another SQL text is another statement. */
  CHECK_OK(vc__db_prepare(&b, db, "SELECT ?1 + 2"));
  CHECK(b != a);
  vc__stmt_done(b);
  vc__stmt_done(NULL);

  vc__db_release(db);
  vc_store_free(st); /* finalizes the cached statements */
  free(same_text);
}

/* The value of "SELECT <i>" through the cache. */
static void select_n(vc__db *db, const char *sql, int64_t want,
                     vc__stmt **got)
{
  vc__stmt *s;

  CHECK_OK(vc__db_prepare(&s, db, sql));
  CHECK_RC(vc__stmt_step(s), VC_STORAGE_ROW);
  CHECK(vc__stmt_int64(s, 0) == want);
  CHECK_RC(vc__stmt_step(s), VC_STORAGE_DONE);
  vc__stmt_done(s);
  if (got != NULL)
    *got = s;
}

static void test_store__stmt_cache_lru(void)
{
  enum { CACHE = 4, DISTINCT = 50 };
  vc_sqlite_options o = VC_SQLITE_OPTIONS_INIT;
  static const char *const sql[] = {
    "SELECT 0", "SELECT 1", "SELECT 2", "SELECT 3", "SELECT 4",
  };
  char *many[DISTINCT];
  vc__stmt *pa, *pb, *pc, *pd, *pe, *p;
  vc_store *st;
  vc__db *db;

  o.statement_cache = CACHE;
  st = open_store("lru.db", &o);
  db = acquire(st);
  /* A, B, C, D fill the cache; touching A makes B the oldest. */
  select_n(db, sql[0], 0, &pa);
  select_n(db, sql[1], 1, &pb);
  select_n(db, sql[2], 2, &pc);
  select_n(db, sql[3], 3, &pd);
  CHECK(pa != pb && pb != pc && pc != pd && pa != pd);
  select_n(db, sql[0], 0, &p);
  CHECK(p == pa);
  /* E evicts B, the least recently used, and takes its slot. */
  select_n(db, sql[4], 4, &pe);
  CHECK(pe == pb);
  /* A is still cached. */
  select_n(db, sql[0], 0, &p);
  CHECK(p == pa);
  /* B comes back in the slot of C, now the oldest. */
  select_n(db, sql[1], 1, &p);
  CHECK(p == pc);
  select_n(db, sql[3], 3, &p);
  CHECK(p == pd);

  /* Far more distinct statements than slots, several rounds: every
   * result stays right. (Cached SQL text must outlive its statement.) */
  for (int i = 0; i < DISTINCT; i++) {
    many[i] = malloc(32);
    CHECK(many[i] != NULL);
    snprintf(many[i], 32, "SELECT %d", 1000 + i);
  }
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < DISTINCT; i++)
      select_n(db, many[(i * 7 + round) % DISTINCT],
               1000 + (i * 7 + round) % DISTINCT, NULL);
  vc__db_release(db);
  vc_store_free(st);
  for (int i = 0; i < DISTINCT; i++)
    free(many[i]);
}

static void test_store__stmt_nested_same_sql(void)
{
  static const char SQL_ALL[] = "SELECT x FROM t ORDER BY x";
  vc_sqlite_options o = VC_SQLITE_OPTIONS_INIT;
  vc__stmt *outer, *inner, *third;
  int64_t outer_sum = 0, pairs = 0;
  vc_store *st;
  vc__db *db;

  o.statement_cache = 2;
  st = open_store("nest.db", &o);
  db = acquire(st);
  CHECK_OK(vc__db_exec(db, SQL_CREATE_T));
  for (int64_t i = 1; i <= 5; i++)
    CHECK_OK(vc__db_run(db, SQL_INSERT_X, "i", i));

  /* The same SQL while it is in use gives a second statement, and both
   * step independently. */
  CHECK_OK(vc__db_query(&outer, db, SQL_ALL, ""));
  while (vc__stmt_step(outer) == VC_STORAGE_ROW) {
    int64_t x = vc__stmt_int64(outer, 0), n = 0;
    outer_sum += x;
    CHECK_OK(vc__db_query(&inner, db, SQL_ALL, ""));
    CHECK(inner != outer);
    /* Every slot is busy now: a third use gets an uncached statement. */
    CHECK_OK(vc__db_query(&third, db, SQL_ALL, ""));
    CHECK(third != outer && third != inner);
    while (vc__stmt_step(inner) == VC_STORAGE_ROW) {
      CHECK_RC(vc__stmt_step(third), VC_STORAGE_ROW);
      CHECK(vc__stmt_int64(third, 0) == vc__stmt_int64(inner, 0));
      n++;
    }
    CHECK(n == 5);
    CHECK_RC(vc__stmt_step(third), VC_STORAGE_DONE);
    vc__stmt_done(third); /* finalized and freed */
    vc__stmt_done(inner);
    /* The outer statement is unaffected. */
    CHECK(vc__stmt_int64(outer, 0) == x);
    pairs += n;
  }
  vc__stmt_done(outer);
  CHECK(outer_sum == 15);
  CHECK(pairs == 25);
  CHECK(query_int(db, SQL_COUNT_T) == 5);
  vc__db_release(db);
  vc_store_free(st);
}

/* ------------------------------------------------------------------ */
/* Transactions                                                        */

static void test_store__begin_nesting(void)
{
  vc_store *st = open_store("tx.db", NULL), *other;
  vc__db *db = acquire(st), *db2;

  CHECK_OK(vc__db_exec(db, SQL_CREATE_T));

  /* begin / begin / rollback inner / commit outer: outer writes only. */
  CHECK_OK(vc__db_begin(db));
  CHECK_OK(vc__db_run(db, SQL_INSERT_X, "i", (int64_t)1));
  CHECK_OK(vc__db_begin(db));
  CHECK_OK(vc__db_run(db, SQL_INSERT_X, "i", (int64_t)2));
  CHECK(query_int(db, SQL_SUM_T) == 3);
  vc__db_rollback(db);
  CHECK(query_int(db, SQL_SUM_T) == 1);
  CHECK_OK(vc__db_run(db, SQL_INSERT_X, "i", (int64_t)4));
  CHECK_OK(vc__db_commit(db));
  CHECK(query_int(db, SQL_SUM_T) == 5);

  /* begin / begin / commit inner / rollback outer: nothing. */
  CHECK_OK(vc__db_begin(db));
  CHECK_OK(vc__db_run(db, SQL_INSERT_X, "i", (int64_t)8));
  CHECK_OK(vc__db_begin(db));
  CHECK_OK(vc__db_run(db, SQL_INSERT_X, "i", (int64_t)16));
  CHECK_OK(vc__db_commit(db));
  CHECK(query_int(db, SQL_SUM_T) == 29);
  vc__db_rollback(db);
  CHECK(query_int(db, SQL_SUM_T) == 5);

  /* Three levels: roll back the middle one with the innermost in it. */
  CHECK_OK(vc__db_begin(db));
  CHECK_OK(vc__db_run(db, SQL_INSERT_X, "i", (int64_t)32));
  CHECK_OK(vc__db_begin(db));
  CHECK_OK(vc__db_run(db, SQL_INSERT_X, "i", (int64_t)64));
  CHECK_OK(vc__db_begin(db));
  CHECK_OK(vc__db_run(db, SQL_INSERT_X, "i", (int64_t)128));
  CHECK_OK(vc__db_commit(db));
  vc__db_rollback(db);
  CHECK_OK(vc__db_commit(db));
  CHECK(query_int(db, SQL_SUM_T) == 37);

  /* Commit without begin is an error, rollback without begin a no-op. */
  CHECK(vc__db_commit(db) < 0);
  vc__db_rollback(db);

  /* The rollback keeps the error detail that caused it. */
  CHECK_OK(vc__db_begin(db));
  vc_error_set_str(VC_ERRCLASS_STORAGE, VC_EBUSY, "the original cause");
  vc__db_rollback(db);
  CHECK(vc_error_last()->code == VC_EBUSY);
  CHECK_STR(vc_error_last()->message, "the original cause");

  /* Another connection sees exactly the committed rows. */
  other = open_store("tx.db", NULL);
  db2 = acquire(other);
  CHECK(query_int(db2, SQL_SUM_T) == 37);
  CHECK(query_int(db2, SQL_COUNT_T) == 3);
  vc__db_release(db2);
  vc_store_free(other);

  vc__db_release(db);
  vc_store_free(st);
  vc_error_clear();
}

static void test_store__busy_is_ebusy(void)
{
  vc_sqlite_options quick = VC_SQLITE_OPTIONS_INIT;
  vc_store *sa = open_store("busy.db", NULL), *sb;
  vc__db *a = acquire(sa), *b;
  int64_t t0, waited;

  CHECK_OK(vc__db_exec(a, SQL_CREATE_T));
  quick.busy_timeout_ms = 50;
  sb = open_store("busy.db", &quick);
  b = acquire(sb);

  /* A holds the write lock (BEGIN IMMEDIATE). */
  CHECK_OK(vc__db_begin(a));
  CHECK_OK(vc__db_run(a, SQL_INSERT_X, "i", (int64_t)1));

  t0 = now_ms();
  CHECK_RC(vc__db_begin(b), VC_EBUSY);
  waited = now_ms() - t0;
  CHECK(vc_error_last()->klass == VC_ERRCLASS_STORAGE);
  CHECK(strstr(vc_error_last()->message, "locked") != NULL);
  CHECK(waited >= 40 && waited < 3000);
  /* A write outside a transaction is refused the same way. */
  CHECK_RC(vc__db_run(b, SQL_INSERT_X, "i", (int64_t)2), VC_EBUSY);
  /* Readers are not blocked (WAL), and see the last commit only. */
  CHECK(query_int(b, SQL_COUNT_T) == 0);
  /* B's failed begin left no transaction behind. */
  CHECK(vc__db_commit(b) < 0);

  CHECK_OK(vc__db_commit(a));
  CHECK_OK(vc__db_begin(b));
  CHECK_OK(vc__db_run(b, SQL_INSERT_X, "i", (int64_t)2));
  CHECK_OK(vc__db_commit(b));
  CHECK(query_int(a, SQL_SUM_T) == 3);

  vc__db_release(b);
  vc_store_free(sb);
  vc__db_release(a);
  vc_store_free(sa);
  vc_error_clear();
}

static void test_store__constraints(void)
{
  static const char SQL_CHILD[] =
    "CREATE TABLE c (id INTEGER PRIMARY KEY,"
    " parent INTEGER NOT NULL REFERENCES t (x))";
  vc_store *st = open_store("u.db", NULL);
  vc__db *db = acquire(st);

  CHECK_OK(vc__db_exec(db, SQL_CREATE_T));
  CHECK_OK(vc__db_exec(db, SQL_CHILD));
  CHECK_OK(vc__db_run(db, "INSERT INTO t (x, name) VALUES (?1, ?2)", "it",
                      (int64_t)1, "one"));
  /* UNIQUE and PRIMARY KEY: VC_EEXISTS. */
  CHECK_RC(vc__db_run(db, "INSERT INTO t (x, name) VALUES (?1, ?2)", "it",
                      (int64_t)2, "one"), VC_EEXISTS);
  CHECK(vc_error_last()->klass == VC_ERRCLASS_STORAGE);
  CHECK(strstr(vc_error_last()->message, "UNIQUE") != NULL);
  CHECK_RC(vc__db_run(db, "INSERT INTO t (x, name) VALUES (?1, ?2)", "it",
                      (int64_t)1, "uno"), VC_EEXISTS);
  /* Other constraints are invalid input. */
  CHECK_RC(vc__db_run(db, "INSERT INTO t (x, note) VALUES (?1, ?2)", "in",
                      (int64_t)3), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "NOT NULL") != NULL);
  /* Foreign keys are enforced. */
  CHECK_RC(vc__db_run(db, "INSERT INTO c (parent) VALUES (?1)", "i",
                      (int64_t)99), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "FOREIGN KEY") != NULL);
  CHECK_OK(vc__db_run(db, "INSERT INTO c (parent) VALUES (?1)", "i",
                      (int64_t)1));

  /* A failed statement inside a transaction: the caller rolls back and
   * nothing of it remains. */
  CHECK_OK(vc__db_begin(db));
  CHECK_OK(vc__db_run(db, "INSERT INTO t (x, name) VALUES (?1, ?2)", "it",
                      (int64_t)10, "ten"));
  CHECK_RC(vc__db_run(db, "INSERT INTO t (x, name) VALUES (?1, ?2)", "it",
                      (int64_t)11, "ten"), VC_EEXISTS);
  vc__db_rollback(db);
  CHECK(vc_error_last()->code == VC_EEXISTS);
  CHECK(query_int(db, SQL_COUNT_T) == 1);

  vc__db_release(db);
  vc_store_free(st);
  vc_error_clear();
}

/* ------------------------------------------------------------------ */
/* Files that are not databases                                        */

static size_t read_file(const char *path, unsigned char *buf, size_t cap)
{
  FILE *f = fopen(path, "rb");
  size_t n;

  CHECK(f != NULL);
  n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

static void write_file(const char *path, const unsigned char *buf,
                       size_t n)
{
  FILE *f = fopen(path, "wb");

  CHECK(f != NULL);
  CHECK(fwrite(buf, 1, n, f) == n);
  CHECK(fclose(f) == 0);
}

static void check_not_a_database(const char *name,
                                 const unsigned char *bytes, size_t n)
{
  static unsigned char after[16384];
  char path[512];
  vc_store *st;
  vc__db *db = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options co = VC_CTX_OPTIONS_INIT;

  snprintf(path, sizeof(path), "%s", vc_test_path(name));
  write_file(path, bytes, n);

  st = open_store(name, NULL);
  CHECK_RC(vc__db_acquire(&db, st), VC_ECORRUPT);
  CHECK(vc_error_last()->klass == VC_ERRCLASS_STORAGE);
  CHECK(strstr(vc_error_last()->message, "not a database") != NULL);
  CHECK(strchr(vc_error_last()->message, '\n') == NULL);
  CHECK(st->nopen == 0);

  /* Through the context: VC_ECORRUPT, and the store stays the caller's. */
  co.store = st;
  CHECK_RC(vc_ctx_new(&ctx, &co), VC_ECORRUPT);
  CHECK(ctx == NULL);
  CHECK(strstr(vc_error_last()->message, "not a database") != NULL);
  vc_store_free(st);

  /* The file was not touched, and no journal was left behind. */
  CHECK(read_file(path, after, sizeof(after)) == n);
  CHECK(memcmp(after, bytes, n) == 0);
  {
    char side[600];
    snprintf(side, sizeof(side), "%s-wal", path);
    CHECK(access(side, F_OK) != 0);
  }
}

static void test_store__not_a_database(void)
{
  static unsigned char bytes[8192];
  vc__rng rng;

  /* Random bytes. */
  vc__rng_init(&rng, 20240601);
  CHECK_OK(vc__rng_bytes(&rng, bytes, sizeof(bytes)));
  vc__rng_fini(&rng);
  check_not_a_database("random.db", bytes, sizeof(bytes));

  /* Text. */
  {
    static const char text[] =
      "This is a text file, not a database.\nIt has two lines.\n";
    check_not_a_database("text.db", (const unsigned char *)text,
                         sizeof(text) - 1);
  }
  vc_error_clear();
}

/* ------------------------------------------------------------------ */
/* ":memory:" and the connection pool                                  */

typedef struct waiter {
  vc_store *store;
  vc__db *got;
  int rc;
  volatile int done;
  int64_t seen;
} waiter;

static void *acquire_in_thread(void *arg)
{
  waiter *w = arg;

  w->rc = vc__db_acquire(&w->got, w->store);
  if (w->rc == 0) {
    vc__stmt *s;
    if (vc__db_query(&s, w->got, SQL_COUNT_T, "") == 0) {
      if (vc__stmt_step(s) == VC_STORAGE_ROW)
        w->seen = vc__stmt_int64(s, 0);
      vc__stmt_done(s);
    }
    vc__db_release(w->got);
  }
  __atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void test_store__memory_one_connection(void)
{
  vc_store *st = NULL;
  vc__db *db;
  pthread_t th;
  waiter w;

  CHECK_OK(vc_store_open_sqlite(&st, ":memory:", NULL));
  CHECK(st->ops.max_connections == 1);
  db = acquire(st);
  CHECK_OK(vc__db_exec(db, SQL_CREATE_T));
  CHECK_OK(vc__db_run(db, SQL_INSERT_X, "i", (int64_t)7));

  /* A second acquire waits for the only connection... */
  memset(&w, 0, sizeof(w));
  w.store = st;
  w.seen = -1;
  CHECK(pthread_create(&th, NULL, acquire_in_thread, &w) == 0);
  usleep(150 * 1000);
  CHECK(__atomic_load_n(&w.done, __ATOMIC_SEQ_CST) == 0);
  CHECK(st->nopen == 1);
  /* ...and gets the same one, with the same database, when released. */
  vc__db_release(db);
  CHECK(pthread_join(th, NULL) == 0);
  CHECK(w.rc == 0);
  CHECK(w.got == db);
  CHECK(w.seen == 1);
  CHECK(st->nopen == 1);
  vc_store_free(st);

  /* A whole context over ":memory:". */
  {
    vc_ctx *ctx = NULL;
    vc_ctx_options co = VC_CTX_OPTIONS_INIT;
    vc_tenant_spec spec = VC_TENANT_SPEC_INIT;
    vc_tenant *t = NULL, *t2 = NULL;

    CHECK_OK(vc_store_open_sqlite(&st, ":memory:", NULL));
    co.store = st;
    CHECK_OK(vc_ctx_new(&ctx, &co));
    spec.slug = "mem";
    CHECK_OK(vc_tenant_new(&t, ctx, &spec));
    CHECK_OK(vc_tenant_lookup(&t2, ctx, "mem"));
    CHECK_STR(vc_tenant_id(t), vc_tenant_id(t2));
    CHECK(st->nopen == 1);
    vc_tenant_free(t);
    vc_tenant_free(t2);
    vc_ctx_free(ctx);
  }
}

enum { POOL_THREADS = 8, STRESS_THREADS = 12, STRESS_ROUNDS = 40 };

typedef struct pool_arg {
  vc_store *store;
  pthread_barrier_t *barrier;
  int index;
  vc__db *got;
  int rc;
} pool_arg;

static void *pool_thread(void *p)
{
  pool_arg *a = p;
  int rc;

  if ((a->rc = vc__db_acquire(&a->got, a->store)) != 0) {
    pthread_barrier_wait(a->barrier);
    return NULL;
  }
  /* Everyone holds a connection at the same time. */
  pthread_barrier_wait(a->barrier);
  if ((rc = vc__db_begin(a->got)) == 0) {
    rc = vc__db_run(a->got, SQL_INSERT_X, "i", (int64_t)(a->index + 1));
    if (rc == 0)
      rc = vc__db_commit(a->got);
    else
      vc__db_rollback(a->got);
  }
  a->rc = rc;
  vc__db_release(a->got);
  return NULL;
}

static void *stress_thread(void *p)
{
  pool_arg *a = p;

  for (int i = 0; i < STRESS_ROUNDS && a->rc == 0; i++) {
    vc__db *db;
    int64_t x = 1000 + (int64_t)a->index * STRESS_ROUNDS + i;
    if ((a->rc = vc__db_acquire(&db, a->store)) != 0)
      break;
    if ((a->rc = vc__db_begin(db)) == 0) {
      a->rc = vc__db_run(db, SQL_INSERT_X, "i", x);
      if (a->rc == 0)
        a->rc = vc__db_commit(db);
      else
        vc__db_rollback(db);
    }
    vc__db_release(db);
  }
  return NULL;
}

static void test_store__pool_threads(void)
{
  vc_store *st = open_store("pool.db", NULL);
  pool_arg args[STRESS_THREADS];
  pthread_t th[STRESS_THREADS];
  pthread_barrier_t barrier;
  vc__db *db = acquire(st);

  CHECK_OK(vc__db_exec(db, SQL_CREATE_T));
  vc__db_release(db);
  CHECK(st->nopen == 1);

  CHECK(pthread_barrier_init(&barrier, NULL, POOL_THREADS) == 0);
  for (int i = 0; i < POOL_THREADS; i++) {
    args[i].store = st;
    args[i].barrier = &barrier;
    args[i].index = i;
    args[i].got = NULL;
    args[i].rc = -1;
    CHECK(pthread_create(&th[i], NULL, pool_thread, &args[i]) == 0);
  }
  for (int i = 0; i < POOL_THREADS; i++)
    CHECK(pthread_join(th[i], NULL) == 0);
  pthread_barrier_destroy(&barrier);
  for (int i = 0; i < POOL_THREADS; i++) {
    CHECK_RC(args[i].rc, 0);
    for (int j = 0; j < i; j++)
      CHECK(args[i].got != args[j].got);
  }
  /* N connections were open at once, and all are idle again. */
  CHECK(st->nopen == POOL_THREADS);
  CHECK(st->nidle == POOL_THREADS);

  /* The pool reuses idle connections. */
  db = acquire(st);
  CHECK(st->nopen == POOL_THREADS);
  CHECK(query_int(db, SQL_COUNT_T) == POOL_THREADS);
  CHECK(query_int(db, SQL_SUM_T) == POOL_THREADS * (POOL_THREADS + 1) / 2);
  vc__db_release(db);

  /* Many short acquire/write/release cycles from more threads. */
  for (int i = 0; i < STRESS_THREADS; i++) {
    args[i].store = st;
    args[i].index = i;
    args[i].rc = 0;
    CHECK(pthread_create(&th[i], NULL, stress_thread, &args[i]) == 0);
  }
  for (int i = 0; i < STRESS_THREADS; i++)
    CHECK(pthread_join(th[i], NULL) == 0);
  for (int i = 0; i < STRESS_THREADS; i++)
    CHECK_RC(args[i].rc, 0);
  CHECK(st->nopen <= STRESS_THREADS);
  CHECK(st->nidle == st->nopen);
  db = acquire(st);
  CHECK(query_int(db, SQL_COUNT_T) ==
        POOL_THREADS + STRESS_THREADS * STRESS_ROUNDS);
  vc__db_release(db);
  vc_store_free(st);
}

/* ------------------------------------------------------------------ */
/* The migration runner at the connection level                        */

static void test_store__migrate_runner(void)
{
  vc_store *st = open_store("m.db", NULL);
  vc__db *db = acquire(st);
  int version = -1, latest = vc_storage_schema_version();

  CHECK(latest >= 1);
  CHECK_OK(vc__migrate(db, &version));
  CHECK(version == latest);
  CHECK(query_int(db, "SELECT COUNT(*) FROM vc_schema_version") == latest);
  /* Again: nothing to do. */
  version = -1;
  CHECK_OK(vc__migrate(db, &version));
  CHECK(version == latest);
  CHECK(query_int(db, "SELECT COUNT(*) FROM vc_schema_version") == latest);
  CHECK_OK(vc__migrate(db, NULL));

  /* A newer store is refused, and the refusal changes nothing. */
  CHECK_OK(vc__db_run(db, "INSERT INTO vc_schema_version"
                          " (version, applied_at, library)"
                          " VALUES (?1, 0, 'future')", "i",
                      (int64_t)latest + 1));
  CHECK_RC(vc__migrate(db, &version), VC_EVERSION);
  CHECK(vc_error_last()->klass == VC_ERRCLASS_STORAGE);
  CHECK(query_int(db, "SELECT COUNT(*) FROM vc_schema_version") ==
        latest + 1);
  /* No transaction was left open. */
  CHECK(vc__db_commit(db) < 0);
  vc__db_release(db);
  vc_store_free(st);
  vc_error_clear();
}


/* ------------------------------------------------------------------ */
/* Group commit                                                        */

typedef struct group_write {
  vc_store *store;
  int v;          /* the row it inserts; 0 leads and waits for 15 more */
  int fail;       /* fails instead */
  int runs;       /* times the write ran */
  int lead_wait;  /* 0 waits for this many queued (default 15) */
  int flush_fail; /* its flush fails */
  int rc;
  char message[160];
} group_write;

static size_t queued(vc_store *s)
{
  size_t n;

  pthread_mutex_lock(&s->group_lock);
  n = s->group_queued;
  pthread_mutex_unlock(&s->group_lock);
  return n;
}

static void wait_queued(vc_store *s, size_t n)
{
  struct timespec ms = { 0, 1000000 };

  while (queued(s) < n)
    nanosleep(&ms, NULL);
}

static int group_fn(vc__db *db, void *arg)
{
  group_write *w = arg;

  if (w->v == 0 && w->runs == 0) /* the others queue meanwhile */
    wait_queued(w->store, w->lead_wait ? (size_t)w->lead_wait : 15);
  w->runs++;
  if (w->fail)
    return vc_error_set_str(VC_ERRCLASS_INVALID, VC_ECONFLICT, "planned");
  if (vc__db_run(db, "INSERT INTO g (v) VALUES (?1)", "i",
                 (int64_t)w->v) < 0)
    return VC_ERROR;
  return w->v;
}

static void *group_thread(void *arg)
{
  group_write *w = arg;

  w->rc = vc__store_write_grouped(w->store, group_fn, w);
  snprintf(w->message, sizeof(w->message), "%s", vc_error_last()->message);
  return NULL;
}

/* Writes queued while a group is written join it before its commit; a
 * write that fails fails alone, and the others of its group run again
 * without it. */
static void group_commit_on(const char *name, int synchronous)
{
  vc_sqlite_options o = VC_SQLITE_OPTIONS_INIT;
  vc_store *s;
  group_write w[16];
  pthread_t th[16];
  vc__db *db;

  o.synchronous = synchronous;
  s = open_store(name, &o);
  CHECK(vc__db_can_defer_sync(s) == (synchronous == VC_SQLITE_SYNC_FULL));
  s->group_defer_always = 1; /* the lone leader's group too */
  db = acquire(s);
  CHECK_OK(vc__db_run(db, "CREATE TABLE g (v INTEGER PRIMARY KEY)", ""));
  vc__db_release(db);
  memset(w, 0, sizeof(w));
  for (int i = 0; i < 16; i++) {
    w[i].store = s;
    w[i].v = i;
  }
  w[15].fail = 1;
  /* 0 leads and holds its group until 1..15 are queued, 15 last: they
   * join it, 1..14 run before 15 fails, and 0..14 run again. */
  CHECK(pthread_create(&th[0], NULL, group_thread, &w[0]) == 0);
  for (int leading = 0; !leading;) {
    struct timespec ms = { 0, 1000000 };
    nanosleep(&ms, NULL);
    pthread_mutex_lock(&s->group_lock);
    leading = s->group_leader && s->group_queued == 0;
    pthread_mutex_unlock(&s->group_lock);
  }
  for (int i = 1; i < 15; i++)
    CHECK(pthread_create(&th[i], NULL, group_thread, &w[i]) == 0);
  wait_queued(s, 14);
  CHECK(pthread_create(&th[15], NULL, group_thread, &w[15]) == 0);
  for (int i = 0; i < 16; i++)
    pthread_join(th[i], NULL);
  CHECK(w[0].rc == 0 && w[0].runs == 2);
  for (int i = 1; i < 15; i++) {
    CHECK(w[i].rc == i);
    CHECK(w[i].runs == 2);
  }
  CHECK_RC(w[15].rc, VC_ECONFLICT);
  CHECK_STR(w[15].message, "planned");
  CHECK(w[15].runs == 1);
  db = acquire(s);
  CHECK(query_int(db, "SELECT count(*) FROM g") == 15);
  CHECK(query_int(db, "SELECT count(*) FROM g WHERE v = 15") == 0);
  vc__db_release(db);
  vc_store_free(s);
}

/* The same on a FULL store, whose groups sync after handing on the
 * leader role. */
static void test_store__group_commit(void)
{
  group_commit_on("g.db", VC_SQLITE_SYNC_NORMAL);
  group_commit_on("gfull.db", VC_SQLITE_SYNC_FULL);
}

/* A group's flush runs once for its writes; when it fails, each write
 * flushes alone, and the one whose flush fails fails alone. */
static int flush_calls, flush_max_n;

static int flush_fn(vc__db *db, void *const *args, size_t n)
{
  flush_calls++;
  if ((int)n > flush_max_n)
    flush_max_n = (int)n;
  for (size_t i = 0; i < n; i++)
    if (((group_write *)args[i])->flush_fail)
      return vc_error_set_str(VC_ERRCLASS_INVALID, VC_ECONFLICT,
                              "planned flush failure");
  for (size_t i = 0; i < n; i++)
    if (vc__db_run(db, "INSERT INTO f (v) VALUES (?1)", "i",
                   (int64_t)((group_write *)args[i])->v) < 0)
      return VC_ERROR;
  return 0;
}

static void *flushed_thread(void *arg)
{
  group_write *w = arg;

  w->rc = vc__store_write_flushed(w->store, group_fn, flush_fn, w);
  snprintf(w->message, sizeof(w->message), "%s", vc_error_last()->message);
  return NULL;
}

static void flush_round(vc_store *s, group_write *w, int fail)
{
  pthread_t th[5];

  memset(w, 0, 5 * sizeof(*w));
  for (int i = 0; i < 5; i++) {
    w[i].store = s;
    w[i].v = i;
  }
  w[0].lead_wait = 4;
  w[3].flush_fail = fail;
  flush_calls = flush_max_n = 0;
  CHECK(pthread_create(&th[0], NULL, flushed_thread, &w[0]) == 0);
  for (int leading = 0; !leading;) {
    struct timespec ms = { 0, 1000000 };
    nanosleep(&ms, NULL);
    pthread_mutex_lock(&s->group_lock);
    leading = s->group_leader && s->group_queued == 0;
    pthread_mutex_unlock(&s->group_lock);
  }
  for (int i = 1; i < 5; i++)
    CHECK(pthread_create(&th[i], NULL, flushed_thread, &w[i]) == 0);
  for (int i = 0; i < 5; i++)
    pthread_join(th[i], NULL);
}

static void test_store__group_flush(void)
{
  vc_store *s = open_store("gflush.db", NULL);
  group_write w[5];
  vc__db *db = acquire(s);

  CHECK_OK(vc__db_run(db, "CREATE TABLE g (v INTEGER PRIMARY KEY)", ""));
  CHECK_OK(vc__db_run(db, "CREATE TABLE f (v INTEGER PRIMARY KEY)", ""));
  vc__db_release(db);
  /* 0 leads and its group takes 1..4: one flush for the five. */
  flush_round(s, w, 0);
  for (int i = 0; i < 5; i++)
    CHECK(w[i].rc == i);
  CHECK(flush_calls == 1 && flush_max_n == 5);
  db = acquire(s);
  CHECK(query_int(db, "SELECT count(*) FROM f") == 5);
  CHECK_OK(vc__db_run(db, "DELETE FROM g", ""));
  CHECK_OK(vc__db_run(db, "DELETE FROM f", ""));
  vc__db_release(db);
  /* 3's flush fails: the group again, flushing alone; 3 fails alone. */
  flush_round(s, w, 1);
  for (int i = 0; i < 5; i++)
    if (i != 3)
      CHECK(w[i].rc == i);
  CHECK_RC(w[3].rc, VC_ECONFLICT);
  CHECK_STR(w[3].message, "planned flush failure");
  CHECK(flush_max_n == 5);
  db = acquire(s);
  CHECK(query_int(db, "SELECT count(*) FROM g") == 4);
  CHECK(query_int(db, "SELECT count(*) FROM f") == 4);
  CHECK(query_int(db, "SELECT count(*) FROM f WHERE v = 3") == 0);
  vc__db_release(db);
  vc_store_free(s);
}

/* Deferred sync (FULL store): a group's writers return only after the
 * sync of their group; the next group is written meanwhile, and commits
 * once that sync ended. */
static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_cond = PTHREAD_COND_INITIALIZER;
static int syncs_started, syncs_done, gate_open, sync_fail;
static int (*real_sync)(void *conn);

static int gated_sync(void *conn)
{
  int rc, first;

  pthread_mutex_lock(&sync_lock);
  first = syncs_started++ == 0;
  pthread_cond_broadcast(&sync_cond);
  while (first && !gate_open)
    pthread_cond_wait(&sync_cond, &sync_lock);
  pthread_mutex_unlock(&sync_lock);
  rc = sync_fail ? vc_error_set_str(VC_ERRCLASS_STORAGE, VC_ESTORAGE,
                                    "planned sync failure")
                 : real_sync(conn);
  pthread_mutex_lock(&sync_lock);
  syncs_done++;
  pthread_cond_broadcast(&sync_cond);
  pthread_mutex_unlock(&sync_lock);
  return rc;
}

typedef struct synced_write {
  group_write w;
  int finished;       /* returned */
  int syncs_done;     /* syncs ended when it returned */
  pthread_t th;
} synced_write;

static void *synced_thread(void *arg)
{
  synced_write *sw = arg;

  group_thread(&sw->w);
  pthread_mutex_lock(&sync_lock);
  sw->finished = 1;
  sw->syncs_done = syncs_done;
  pthread_cond_broadcast(&sync_cond);
  pthread_mutex_unlock(&sync_lock);
  return NULL;
}

static void wait_for(int *what, int value)
{
  pthread_mutex_lock(&sync_lock);
  while (*what < value)
    pthread_cond_wait(&sync_cond, &sync_lock);
  pthread_mutex_unlock(&sync_lock);
}

static vc_store *open_full_g(const char *name)
{
  vc_sqlite_options o = VC_SQLITE_OPTIONS_INIT;
  vc_store *s;
  vc__db *db;

  o.synchronous = VC_SQLITE_SYNC_FULL;
  s = open_store(name, &o);
  db = acquire(s);
  CHECK_OK(vc__db_run(db, "CREATE TABLE g (v INTEGER PRIMARY KEY)", ""));
  vc__db_release(db);
  CHECK(vc__db_can_defer_sync(s));
  real_sync = s->sync;
  s->sync = gated_sync;
  s->group_defer_always = 1;
  syncs_started = syncs_done = gate_open = sync_fail = 0;
  return s;
}

static int leading_alone(vc_store *s)
{
  int r;

  pthread_mutex_lock(&s->group_lock);
  r = s->group_leader && s->group_queued == 0;
  pthread_mutex_unlock(&s->group_lock);
  return r;
}

static void test_store__group_deferred_sync(void)
{
  vc_store *s = open_full_g("gs.db");
  synced_write a, b;
  int a_finished, b_finished;
  vc__db *db;

  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  a.w.store = b.w.store = s;
  a.w.v = 1;
  b.w.v = 2;
  CHECK(pthread_create(&a.th, NULL, synced_thread, &a) == 0);
  wait_for(&syncs_started, 1);
  /* a's group committed (visible) and waits for its sync; the leader
   * role is free. */
  CHECK(!leading_alone(s));
  db = acquire(s);
  CHECK(query_int(db, "SELECT count(*) FROM g WHERE v = 1") == 1);
  /* A connection from the pool still syncs on commit. */
  CHECK(query_int(db, "PRAGMA synchronous") == 2);
  vc__db_release(db);
  /* b leads the next group meanwhile, and commits it only once a's sync
   * ended (writes that come until then join it). */
  CHECK(pthread_create(&b.th, NULL, synced_thread, &b) == 0);
  while (!leading_alone(s)) {
    struct timespec ms = { 0, 1000000 };
    nanosleep(&ms, NULL);
  }
  {
    struct timespec pause = { 0, 50000000 };
    nanosleep(&pause, NULL);
  }
  pthread_mutex_lock(&sync_lock);
  a_finished = a.finished;
  b_finished = b.finished;
  CHECK(syncs_started == 1);
  gate_open = 1;
  pthread_cond_broadcast(&sync_cond);
  pthread_mutex_unlock(&sync_lock);
  CHECK(!a_finished && !b_finished);
  pthread_join(a.th, NULL);
  pthread_join(b.th, NULL);
  CHECK(a.w.rc == 1 && a.syncs_done >= 1);
  CHECK(b.w.rc == 2 && b.syncs_done == 2);
  CHECK(syncs_started == 2);
  db = acquire(s);
  CHECK(query_int(db, "SELECT count(*) FROM g") == 2);
  vc__db_release(db);
  vc_store_free(s);
}

/* A failed sync fails every write of its group (their rows were
 * committed, but the caller cannot be told they are durable); the next
 * group is not affected. */
static void test_store__group_sync_failure(void)
{
  vc_store *s = open_full_g("gf.db");
  synced_write a;

  memset(&a, 0, sizeof(a));
  a.w.store = s;
  a.w.v = 1;
  gate_open = 1;
  sync_fail = 1;
  CHECK(pthread_create(&a.th, NULL, synced_thread, &a) == 0);
  pthread_join(a.th, NULL);
  CHECK_RC(a.w.rc, VC_ESTORAGE);
  CHECK_STR(a.w.message, "committed, but the sync that makes it durable "
                         "failed: planned sync failure");
  sync_fail = 0;
  a.w.v = 3;
  CHECK(pthread_create(&a.th, NULL, synced_thread, &a) == 0);
  pthread_join(a.th, NULL);
  CHECK(a.w.rc == 3);
  vc_store_free(s);
}

/* Only a FULL file store defers its syncs. */
static void test_store__group_sync_only_full(void)
{
  vc_sqlite_options o = VC_SQLITE_OPTIONS_INIT;
  vc_store *s = open_store("gn.db", NULL);

  CHECK(!vc__db_can_defer_sync(s));
  vc_store_free(s);
  o.synchronous = VC_SQLITE_SYNC_FULL;
  CHECK_OK(vc_store_open_sqlite(&s, ":memory:", &o));
  CHECK(!vc__db_can_defer_sync(s));
  vc_store_free(s);
}

/* A lone writer on a FULL store commits FULL itself: no deferred sync. */
static void test_store__group_lone_writer_syncs(void)
{
  vc_store *s = open_full_g("gl.db");
  group_write w;

  s->group_defer_always = 0;
  memset(&w, 0, sizeof(w));
  w.store = s;
  w.v = 7;
  group_thread(&w);
  CHECK(w.rc == 7);
  CHECK(syncs_started == 0);
  vc_store_free(s);
}

/* After a group of several writes, a lone writer defers its sync
 * (others are likely to join it); after a lone one, it syncs itself. */
static void test_store__group_lone_after_group_defers(void)
{
  vc_store *s = open_full_g("gd.db");
  group_write lead, w;
  pthread_t th[2];

  s->group_defer_always = 0;
  gate_open = 1;
  memset(&lead, 0, sizeof(lead));
  lead.store = s;
  lead.lead_wait = 1; /* v = 0 holds its group until one more queued */
  memset(&w, 0, sizeof(w));
  w.store = s;
  w.v = 1;
  CHECK(pthread_create(&th[0], NULL, group_thread, &lead) == 0);
  while (!leading_alone(s)) {
    struct timespec ms = { 0, 1000000 };
    nanosleep(&ms, NULL);
  }
  CHECK(pthread_create(&th[1], NULL, group_thread, &w) == 0);
  pthread_join(th[0], NULL);
  pthread_join(th[1], NULL);
  CHECK(lead.rc == 0 && w.rc == 1);
  /* That group began alone: it synced inside its commit. */
  CHECK(syncs_started == 0);
  CHECK(s->group_last_size == 2);
  w.v = 2;
  group_thread(&w);
  CHECK(w.rc == 2);
  CHECK(syncs_started == 1 && syncs_done == 1);
  w.v = 3;
  group_thread(&w);
  CHECK(w.rc == 3);
  CHECK(syncs_started == 1);
  vc_store_free(s);
}

VC_TESTS(
  VC_TEST(test_store__pragmas_default),
  VC_TEST(test_store__pragmas_full),
  VC_TEST(test_store__open_bad_arguments),
  VC_TEST(test_store__open_unreachable_path),
  VC_TEST(test_store__bind_and_columns),
  VC_TEST(test_store__stmt_cache_reuse),
  VC_TEST(test_store__stmt_cache_lru),
  VC_TEST(test_store__stmt_nested_same_sql),
  VC_TEST(test_store__begin_nesting),
  VC_TEST(test_store__busy_is_ebusy),
  VC_TEST(test_store__constraints),
  VC_TEST(test_store__not_a_database),
  VC_TEST(test_store__memory_one_connection),
  VC_TEST(test_store__pool_threads),
  VC_TEST(test_store__group_commit),
  VC_TEST(test_store__group_flush),
  VC_TEST(test_store__group_deferred_sync),
  VC_TEST(test_store__group_sync_failure),
  VC_TEST(test_store__group_sync_only_full),
  VC_TEST(test_store__group_lone_writer_syncs),
  VC_TEST(test_store__group_lone_after_group_defers),
  VC_TEST(test_store__migrate_runner),
)
