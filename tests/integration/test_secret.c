/*
 * Secrets through the public API only, on an SQLite file on disk: master
 * keys (raw and passphrase), round trips, names, missing and wrong keys,
 * tampered and moved ciphertexts, rotation (also across contexts and
 * with a bad row), isolation, and that secrets never reach the log, the
 * error messages or the database file in clear.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <pthread.h>
#include <sqlite3.h>

#define DB_NAME "secret.db"
#define KDF_ITER 1000

/* ---- keys --------------------------------------------------------- */

static uint8_t key1[32], key2[32], key3[32];
static const char PASS1[] = "correct horse battery staple";
static const char PASS2[] = "another passphrase, quite long";

static void make_keys(void)
{
  for (int i = 0; i < 32; i++) {
    key1[i] = (uint8_t)(0xa0 + i);
    key2[i] = (uint8_t)(0x41 + i); /* printable: "ABC..." */
    key3[i] = (uint8_t)(0xe0 - 3 * i);
  }
}

static vc_master_key raw_key(const uint8_t *k)
{
  vc_master_key mk = VC_MASTER_KEY_INIT;

  mk.key = k;
  mk.key_len = 32;
  return mk;
}

static vc_master_key pass_key(const char *pass, uint32_t iterations)
{
  vc_master_key mk = VC_MASTER_KEY_INIT;

  mk.passphrase = pass;
  mk.kdf_iterations = iterations;
  return mk;
}

/* ---- log capture -------------------------------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_lines[4096];
static int log_count;

static void log_cb(int level, const char *message, void *payload)
{
  (void)level;
  (void)payload;
  pthread_mutex_lock(&log_lock);
  if (log_count < (int)(sizeof(log_lines) / sizeof(log_lines[0])))
    log_lines[log_count++] = strdup(message);
  pthread_mutex_unlock(&log_lock);
}

static void log_reset(void)
{
  pthread_mutex_lock(&log_lock);
  for (int i = 0; i < log_count; i++)
    free(log_lines[i]);
  log_count = 0;
  pthread_mutex_unlock(&log_lock);
}

/* ---- helpers ------------------------------------------------------ */

/* Open a context on `name` with `mk` (may be NULL). On failure the store
 * is freed here, as the caller still owns it, and the code returned. */
static int try_open(vc_ctx **out, const char *name, const vc_master_key *mk)
{
  vc_store *store = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  int rc;

  *out = NULL;
  if ((rc = vc_store_open_sqlite(&store, vc_test_path(name), NULL)) < 0)
    return rc;
  o.store = store;
  o.master_key = mk;
  o.log_cb = log_cb;
  o.log_level = VC_LOG_TRACE;
  rc = vc_ctx_new(out, &o);
  if (rc < 0)
    vc_store_free(store);
  return rc;
}

static vc_ctx *open_ctx(const vc_master_key *mk)
{
  vc_ctx *ctx = NULL;

  CHECK_OK(try_open(&ctx, DB_NAME, mk));
  return ctx;
}

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

#define CHECK_FAIL(call, code)                                          \
  do {                                                                  \
    vc_error_clear();                                                   \
    CHECK_RC(call, code);                                               \
    CHECK(error_is(code));                                              \
  } while (0)

static vc_tenant *new_tenant(vc_ctx *ctx, const char *slug)
{
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;

  s.slug = slug;
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  return t;
}

static vc_tenant *lookup(vc_ctx *ctx, const char *slug)
{
  vc_tenant *t = NULL;

  CHECK_OK(vc_tenant_lookup(&t, ctx, slug));
  return t;
}

/* The secret reads back as exactly these bytes. */
static int secret_is(vc_tenant *t, const char *name, const void *v,
                     size_t len)
{
  vc_buf b = VC_BUF_INIT;
  int ok, rc = vc_secret_get(&b, t, name);

  if (rc != 0) {
    fprintf(stderr, "  get '%s': %d (%s)\n", name, rc,
            vc_error_last()->message);
    return 0;
  }
  ok = b.size == len && b.ptr != NULL && b.ptr[len] == '\0' &&
       (len == 0 || memcmp(b.ptr, v, len) == 0);
  vc_buf_dispose(&b);
  return ok;
}

static int secret_is_str(vc_tenant *t, const char *name, const char *v)
{
  return secret_is(t, name, v, strlen(v));
}

/* Raw access to the file, as an attacker with the disk would have. */
static sqlite3 *raw_open(void)
{
  sqlite3 *db = NULL;

  CHECK(sqlite3_open_v2(vc_test_path(DB_NAME), &db, SQLITE_OPEN_READWRITE,
                        NULL) == SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  return db;
}

/* Read the sealed value of (tenant, name) into buf; returns its size. */
static size_t raw_get(const char *tenant_id, const char *name, uint8_t *buf,
                      size_t cap)
{
  sqlite3 *db = raw_open();
  sqlite3_stmt *st = NULL;
  size_t n = 0;

  CHECK(sqlite3_prepare_v2(db, "SELECT value FROM vc_secret WHERE "
                           "tenant_id = ?1 AND name = ?2", -1, &st,
                           NULL) == SQLITE_OK);
  sqlite3_bind_text(st, 1, tenant_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st) == SQLITE_ROW) {
    n = (size_t)sqlite3_column_bytes(st, 0);
    if (n <= cap)
      memcpy(buf, sqlite3_column_blob(st, 0), n);
    else
      n = 0;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  CHECK(n > 0);
  return n;
}

static void raw_put(const char *tenant_id, const char *name,
                    const uint8_t *buf, size_t n)
{
  sqlite3 *db = raw_open();
  sqlite3_stmt *st = NULL;

  CHECK(sqlite3_prepare_v2(db, "UPDATE vc_secret SET value = ?3 WHERE "
                           "tenant_id = ?1 AND name = ?2", -1, &st,
                           NULL) == SQLITE_OK);
  sqlite3_bind_text(st, 1, tenant_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob(st, 3, buf, (int)n, SQLITE_TRANSIENT);
  CHECK(sqlite3_step(st) == SQLITE_DONE);
  CHECK(sqlite3_changes(db) == 1);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

/* One text value of a query (first row, first column), copied. */
static void raw_text(const char *sql, char *out, size_t cap)
{
  sqlite3 *db = raw_open();
  sqlite3_stmt *st = NULL;

  out[0] = '\0';
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static int64_t raw_count(const char *sql)
{
  char text[32];

  raw_text(sql, text, sizeof(text));
  return text[0] ? strtoll(text, NULL, 10) : -1;
}

/* A checksum over every sealed value and its key version, to prove that
 * a failed rotation changed nothing. */
static uint64_t raw_digest(void)
{
  sqlite3 *db = raw_open();
  sqlite3_stmt *st = NULL;
  uint64_t h = 1469598103934665603ull;

  CHECK(sqlite3_prepare_v2(db, "SELECT tenant_id, id, value, key_version "
                           "FROM vc_secret ORDER BY tenant_id, id", -1, &st,
                           NULL) == SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    for (int c = 0; c < 4; c++) {
      const uint8_t *p = sqlite3_column_blob(st, c);
      int n = sqlite3_column_bytes(st, c);
      for (int i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
      h = (h ^ 0xff) * 1099511628211ull;
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return h;
}

/* ---- cases -------------------------------------------------------- */

static void test_secret__round_trip(void)
{
  vc_master_key mk;
  vc_ctx *ctx;
  vc_tenant *t;
  uint8_t bin[256];
  uint8_t *big;

  make_keys();
  mk = raw_key(key1);
  ctx = open_ctx(&mk);
  t = new_tenant(ctx, "acme");

  CHECK_OK(vc_secret_set(t, "twilio.auth_token", "s3cr3t", 6));
  CHECK(secret_is_str(t, "twilio.auth_token", "s3cr3t"));

  /* Empty, with and without a pointer. */
  CHECK_OK(vc_secret_set(t, "empty", "", 0));
  CHECK(secret_is(t, "empty", "", 0));
  CHECK_OK(vc_secret_set(t, "empty2", NULL, 0));
  CHECK(secret_is(t, "empty2", "", 0));

  /* Binary with NUL bytes. */
  for (int i = 0; i < 256; i++)
    bin[i] = (uint8_t)(255 - i);
  bin[10] = 0;
  CHECK_OK(vc_secret_set(t, "binary", bin, sizeof(bin)));
  CHECK(secret_is(t, "binary", bin, sizeof(bin)));

  /* The size limit: VC_SECRET_MAX fits, one more does not. */
  big = malloc(VC_SECRET_MAX + 1);
  CHECK(big != NULL);
  for (size_t i = 0; i < VC_SECRET_MAX + 1; i++)
    big[i] = (uint8_t)(i * 31 + 7);
  CHECK_OK(vc_secret_set(t, "big", big, VC_SECRET_MAX));
  CHECK(secret_is(t, "big", big, VC_SECRET_MAX));
  CHECK_FAIL(vc_secret_set(t, "bigger", big, VC_SECRET_MAX + 1), VC_ETOOBIG);
  CHECK_FAIL(vc_secret_set(t, "big", big, VC_SECRET_MAX + 1), VC_ETOOBIG);
  CHECK(secret_is(t, "big", big, VC_SECRET_MAX)); /* unchanged */
  {
    vc_buf b = VC_BUF_INIT;
    CHECK_FAIL(vc_secret_get(&b, t, "bigger"), VC_ENOTFOUND);
    CHECK(b.ptr == NULL && b.size == 0);
  }

  /* Replace: same row, new value. */
  CHECK_OK(vc_secret_set(t, "twilio.auth_token", "rotated-token", 13));
  CHECK(secret_is_str(t, "twilio.auth_token", "rotated-token"));
  CHECK(raw_count("SELECT COUNT(*) FROM vc_secret WHERE name = "
                  "'twilio.auth_token'") == 1);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_secret") == 5);

  /* A buffer that held a value is reused (the old bytes are replaced). */
  {
    vc_buf b = VC_BUF_INIT;
    CHECK_OK(vc_secret_get(&b, t, "binary"));
    CHECK_OK(vc_secret_get(&b, t, "twilio.auth_token"));
    CHECK(b.size == 13 && memcmp(b.ptr, "rotated-token", 14) == 0);
    vc_buf_dispose(&b);
    CHECK(b.ptr == NULL && b.size == 0);
  }

  /* Delete. */
  CHECK_OK(vc_secret_delete(t, "binary"));
  {
    vc_buf b = VC_BUF_INIT;
    CHECK_FAIL(vc_secret_get(&b, t, "binary"), VC_ENOTFOUND);
    CHECK(b.ptr == NULL);
  }
  CHECK_FAIL(vc_secret_delete(t, "binary"), VC_ENOTFOUND);
  CHECK_FAIL(vc_secret_delete(t, "never-was"), VC_ENOTFOUND);
  /* And set again after a delete. */
  CHECK_OK(vc_secret_set(t, "binary", bin, 3));
  CHECK(secret_is(t, "binary", bin, 3));

  /* Events: set and delete are recorded, without the values. */
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event WHERE type = "
                  "'secret.set'") == 7);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event WHERE type = "
                  "'secret.deleted'") == 1);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event WHERE payload LIKE "
                  "'%s3cr3t%' OR payload LIKE '%rotated-token%'") == 0);

  /* Everything survives a reopen with the same key. */
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  ctx = open_ctx(&mk);
  t = lookup(ctx, "acme");
  CHECK(secret_is_str(t, "twilio.auth_token", "rotated-token"));
  CHECK(secret_is(t, "big", big, VC_SECRET_MAX));
  CHECK(secret_is(t, "empty", "", 0));
  CHECK(secret_is(t, "binary", bin, 3));
  free(big);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  log_reset();
}

static void test_secret__passphrase(void)
{
  vc_master_key mk = pass_key(PASS1, KDF_ITER), other;
  vc_ctx *ctx;
  vc_tenant *t;
  char text[64];

  ctx = open_ctx(&mk);
  t = new_tenant(ctx, "pp");
  CHECK_OK(vc_secret_set(t, "token", "value-under-passphrase", 22));
  CHECK(secret_is_str(t, "token", "value-under-passphrase"));
  vc_tenant_free(t);
  vc_ctx_free(ctx);

  /* The store remembers its salt and iteration count. */
  raw_text("SELECT value FROM vc_meta WHERE key = 'kdf.iterations'", text,
           sizeof(text));
  CHECK_STR(text, "1000");
  CHECK(raw_count("SELECT length(data) FROM vc_meta WHERE key = "
                  "'kdf.salt'") == 16);

  /* Another count on reopen: the store's count is used. */
  other = pass_key(PASS1, 7777);
  ctx = open_ctx(&other);
  t = lookup(ctx, "pp");
  CHECK(secret_is_str(t, "token", "value-under-passphrase"));
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  other = pass_key(PASS1, 0); /* 0 = the default, also ignored */
  ctx = open_ctx(&other);
  vc_ctx_free(ctx);
  raw_text("SELECT value FROM vc_meta WHERE key = 'kdf.iterations'", text,
           sizeof(text));
  CHECK_STR(text, "1000");

  /* The wrong passphrase, or raw key bytes, do not open it. */
  other = pass_key(PASS2, KDF_ITER);
  CHECK_FAIL(try_open(&ctx, DB_NAME, &other), VC_EKEY);
  CHECK(ctx == NULL);
  make_keys();
  other = raw_key(key1);
  CHECK_FAIL(try_open(&ctx, DB_NAME, &other), VC_EKEY);
  CHECK(ctx == NULL);
  log_reset();
}

static void test_secret__master_key_validation(void)
{
  vc_master_key mk, init = VC_MASTER_KEY_INIT;
  vc_ctx *ctx = NULL;

  make_keys();
  CHECK_OK(vc_master_key_init(&mk, VC_MASTER_KEY_VERSION));
  CHECK(mk.version == init.version && mk.key == NULL && mk.key_len == 0 &&
        mk.passphrase == NULL && mk.kdf_iterations == 0);
  CHECK_FAIL(vc_master_key_init(&mk, 0), VC_EVERSION);
  CHECK_FAIL(vc_master_key_init(&mk, 2), VC_EVERSION);

  /* Neither, or both. */
  CHECK_FAIL(try_open(&ctx, DB_NAME, &mk), VC_EINVALID);
  mk = raw_key(key1);
  mk.passphrase = PASS1;
  CHECK_FAIL(try_open(&ctx, DB_NAME, &mk), VC_EINVALID);
  /* 31 or 33 key bytes. */
  mk = raw_key(key1);
  mk.key_len = 31;
  CHECK_FAIL(try_open(&ctx, DB_NAME, &mk), VC_EINVALID);
  mk.key_len = 33;
  CHECK_FAIL(try_open(&ctx, DB_NAME, &mk), VC_EINVALID);
  /* A passphrase that is too short. */
  mk = pass_key("1234567", KDF_ITER);
  CHECK_FAIL(try_open(&ctx, DB_NAME, &mk), VC_EINVALID);
  mk = pass_key("", KDF_ITER);
  CHECK_FAIL(try_open(&ctx, DB_NAME, &mk), VC_EINVALID);
  /* Versions. */
  mk = raw_key(key1);
  mk.version = 0;
  CHECK_FAIL(try_open(&ctx, DB_NAME, &mk), VC_EVERSION);
  mk.version = 9;
  CHECK_FAIL(try_open(&ctx, DB_NAME, &mk), VC_EVERSION);
  CHECK(ctx == NULL);

  /* None of that claimed the store for a key: the first good key does. */
  mk = raw_key(key2);
  ctx = open_ctx(&mk);
  vc_ctx_free(ctx);
  mk = raw_key(key1);
  CHECK_FAIL(try_open(&ctx, DB_NAME, &mk), VC_EKEY);
  log_reset();
}

static void test_secret__names(void)
{
  vc_master_key mk;
  vc_ctx *ctx;
  vc_tenant *t;
  char n128[129], n129[130];
  vc_buf b = VC_BUF_INIT;

  make_keys();
  mk = raw_key(key1);
  ctx = open_ctx(&mk);
  t = new_tenant(ctx, "names");
  memset(n128, 'x', 128);
  n128[128] = '\0';
  memset(n129, 'y', 129);
  n129[129] = '\0';

  CHECK_OK(vc_secret_set(t, "Aa_0.9:z-Z", "v", 1));
  CHECK(secret_is_str(t, "Aa_0.9:z-Z", "v"));
  CHECK_OK(vc_secret_set(t, n128, "v", 1));
  CHECK(secret_is_str(t, n128, "v"));
  CHECK_OK(vc_secret_set(t, "-", "v", 1));
  /* Names are case-sensitive. */
  CHECK_FAIL(vc_secret_get(&b, t, "aA_0.9:z-Z"), VC_ENOTFOUND);

  CHECK_FAIL(vc_secret_set(t, n129, "v", 1), VC_ETOOBIG);
  CHECK_FAIL(vc_secret_get(&b, t, n129), VC_ETOOBIG);
  CHECK_FAIL(vc_secret_delete(t, n129), VC_ETOOBIG);
  {
    const char *bad[] = { "", "a b", "a/b", "a\"b", "caf\xc3\xa9", "a\tb",
                          "x'; DROP TABLE vc_secret; --", "a\\b", "a\nb" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
      CHECK_FAIL(vc_secret_set(t, bad[i], "v", 1), VC_EINVALID);
      CHECK_FAIL(vc_secret_get(&b, t, bad[i]), VC_EINVALID);
      CHECK_FAIL(vc_secret_delete(t, bad[i]), VC_EINVALID);
    }
  }
  CHECK_FAIL(vc_secret_set(t, NULL, "v", 1), VC_EINVALID);
  CHECK_FAIL(vc_secret_get(&b, t, NULL), VC_EINVALID);
  CHECK_FAIL(vc_secret_delete(t, NULL), VC_EINVALID);
  CHECK(b.ptr == NULL && b.size == 0);

  /* Other bad arguments. */
  CHECK_FAIL(vc_secret_set(NULL, "n", "v", 1), VC_EINVALID);
  CHECK_FAIL(vc_secret_set(t, "n", NULL, 1), VC_EINVALID);
  CHECK_FAIL(vc_secret_get(NULL, t, "n"), VC_EINVALID);
  CHECK_FAIL(vc_secret_get(&b, NULL, "n"), VC_EINVALID);
  CHECK_FAIL(vc_secret_delete(NULL, "n"), VC_EINVALID);
  CHECK_FAIL(vc_secret_rotate_key(NULL, &mk), VC_EINVALID);
  CHECK_FAIL(vc_secret_rotate_key(ctx, NULL), VC_EINVALID);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_secret") == 3);

  vc_tenant_free(t);
  vc_ctx_free(ctx);
  log_reset();
}

static void test_secret__no_master_key(void)
{
  vc_master_key mk;
  vc_ctx *ctx;
  vc_tenant *t;
  vc_buf b = VC_BUF_INIT;

  make_keys();
  /* A store without a key: tenants work, credentials do not. */
  ctx = open_ctx(NULL);
  t = new_tenant(ctx, "keyless");
  CHECK_FAIL(vc_secret_set(t, "token", "abc", 3), VC_EKEY);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_secret") == 0);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event WHERE type = "
                  "'secret.set'") == 0);
  mk = raw_key(key2);
  CHECK_FAIL(vc_secret_rotate_key(ctx, &mk), VC_EKEY);
  vc_tenant_free(t);
  vc_ctx_free(ctx);

  /* Give it a key later; then open without one again. */
  mk = raw_key(key1);
  ctx = open_ctx(&mk);
  t = lookup(ctx, "keyless");
  CHECK_OK(vc_secret_set(t, "token", "abc", 3));
  vc_tenant_free(t);
  vc_ctx_free(ctx);

  ctx = open_ctx(NULL);
  t = lookup(ctx, "keyless");
  CHECK_FAIL(vc_secret_get(&b, t, "token"), VC_EKEY);
  CHECK(b.ptr == NULL && b.size == 0);
  CHECK_FAIL(vc_secret_set(t, "token", "xyz", 3), VC_EKEY);
  CHECK_FAIL(vc_secret_set(t, "other", "xyz", 3), VC_EKEY);
  vc_tenant_free(t);
  vc_ctx_free(ctx);

  /* The key still opens what was stored. */
  ctx = open_ctx(&mk);
  t = lookup(ctx, "keyless");
  CHECK(secret_is_str(t, "token", "abc"));
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  log_reset();
}

static void test_secret__wrong_key(void)
{
  vc_master_key mk, wrong;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_tenant *t;

  make_keys();
  mk = raw_key(key1);
  ctx = open_ctx(&mk);
  t = new_tenant(ctx, "wk");
  CHECK_OK(vc_secret_set(t, "token", "abc", 3));
  vc_tenant_free(t);
  vc_ctx_free(ctx);

  /* The wrong raw key: VC_EKEY, no context, and the store is still ours:
   * free it (ASan checks that nothing leaks). */
  wrong = raw_key(key2);
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(DB_NAME), NULL));
  o.store = store;
  o.master_key = &wrong;
  ctx = (vc_ctx *)&ctx;
  CHECK_FAIL(vc_ctx_new(&ctx, &o), VC_EKEY);
  CHECK(ctx == NULL);
  vc_store_free(store);

  /* The same store object may be retried with the right key. */
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(DB_NAME), NULL));
  o.store = store;
  CHECK_FAIL(vc_ctx_new(&ctx, &o), VC_EKEY);
  o.master_key = &mk;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  t = lookup(ctx, "wk");
  CHECK(secret_is_str(t, "token", "abc"));
  vc_tenant_free(t);
  vc_ctx_free(ctx);

  /* A passphrase on a raw-key store: VC_EKEY too. */
  wrong = pass_key(PASS1, KDF_ITER);
  CHECK_FAIL(try_open(&ctx, DB_NAME, &wrong), VC_EKEY);
  /* A key that differs in one bit. */
  {
    uint8_t k[32];
    memcpy(k, key1, 32);
    k[31] ^= 1;
    wrong = raw_key(k);
    CHECK_FAIL(try_open(&ctx, DB_NAME, &wrong), VC_EKEY);
  }
  log_reset();
}

/* 40 distinctive bytes. */
static const char VALUE40[] = "Zq8!vyomcomm-secret-VALUE-40-bytes-x#9Kp";

static void test_secret__tamper(void)
{
  vc_master_key mk;
  vc_ctx *ctx;
  vc_tenant *t;
  uint8_t orig[512], blob[512];
  size_t n;
  char tid[VC_ID_SIZE];

  CHECK(strlen(VALUE40) == 40);
  make_keys();
  mk = raw_key(key1);
  ctx = open_ctx(&mk);
  t = new_tenant(ctx, "tamper");
  snprintf(tid, sizeof(tid), "%s", vc_tenant_id(t));
  CHECK_OK(vc_secret_set(t, "token", VALUE40, 40));
  CHECK_OK(vc_secret_set(t, "other", "untouched", 9));
  n = raw_get(tid, "token", orig, sizeof(orig));
  CHECK(n > 40);

  /* Every single byte flipped: VC_ECRYPTO, never garbage. */
  for (size_t i = 0; i < n; i++) {
    vc_buf b = VC_BUF_INIT;
    int rc;
    memcpy(blob, orig, n);
    blob[i] ^= (i % 2) ? 0x01 : 0x80;
    raw_put(tid, "token", blob, n);
    vc_error_clear();
    rc = vc_secret_get(&b, t, "token");
    if (rc != VC_ECRYPTO)
      fprintf(stderr, "  byte %zu of %zu flipped: %d (%s)\n", i, n, rc,
              vc_error_last()->message);
    CHECK_RC(rc, VC_ECRYPTO);
    CHECK(error_is(VC_ECRYPTO));
    CHECK(b.ptr == NULL && b.size == 0);
    CHECK(strstr(vc_error_last()->message, VALUE40) == NULL);
  }
  /* Truncated, extended, emptied. */
  {
    vc_buf b = VC_BUF_INIT;
    raw_put(tid, "token", orig, n - 1);
    CHECK_FAIL(vc_secret_get(&b, t, "token"), VC_ECRYPTO);
    memcpy(blob, orig, n);
    blob[n] = 0;
    raw_put(tid, "token", blob, n + 1);
    CHECK_FAIL(vc_secret_get(&b, t, "token"), VC_ECRYPTO);
    raw_put(tid, "token", orig, 10);
    CHECK_FAIL(vc_secret_get(&b, t, "token"), VC_ECRYPTO);
    raw_put(tid, "token", orig, 1);
    CHECK_FAIL(vc_secret_get(&b, t, "token"), VC_ECRYPTO);
    CHECK(b.ptr == NULL && b.size == 0);
  }
  /* The other secret is fine; the original bytes work again. */
  CHECK(secret_is_str(t, "other", "untouched"));
  raw_put(tid, "token", orig, n);
  CHECK(secret_is(t, "token", VALUE40, 40));

  vc_tenant_free(t);
  vc_ctx_free(ctx);
  log_reset();
}

static void test_secret__moved_ciphertext(void)
{
  vc_master_key mk;
  vc_ctx *ctx;
  vc_tenant *a, *b;
  uint8_t blob_a[512], blob_x[512];
  size_t na, nx;
  char a_id[VC_ID_SIZE], b_id[VC_ID_SIZE];
  vc_buf out = VC_BUF_INIT;

  make_keys();
  mk = raw_key(key1);
  ctx = open_ctx(&mk);
  a = new_tenant(ctx, "mover-a");
  b = new_tenant(ctx, "mover-b");
  snprintf(a_id, sizeof(a_id), "%s", vc_tenant_id(a));
  snprintf(b_id, sizeof(b_id), "%s", vc_tenant_id(b));
  CHECK_OK(vc_secret_set(a, "token", "a-secret-value", 14));
  CHECK_OK(vc_secret_set(a, "spare", "a-spare-value", 13));
  CHECK_OK(vc_secret_set(b, "token", "b-secret-value", 14));

  /* A's ciphertext in B's row: does not open. */
  na = raw_get(a_id, "token", blob_a, sizeof(blob_a));
  raw_put(b_id, "token", blob_a, na);
  CHECK_FAIL(vc_secret_get(&out, b, "token"), VC_ECRYPTO);
  CHECK(out.ptr == NULL && out.size == 0);
  CHECK(secret_is_str(a, "token", "a-secret-value"));

  /* A's ciphertext in another row of A (another id): does not open. */
  nx = raw_get(a_id, "spare", blob_x, sizeof(blob_x));
  raw_put(a_id, "spare", blob_a, na);
  CHECK_FAIL(vc_secret_get(&out, a, "spare"), VC_ECRYPTO);
  CHECK(out.ptr == NULL && out.size == 0);
  raw_put(a_id, "spare", blob_x, nx);
  CHECK(secret_is_str(a, "spare", "a-spare-value"));

  /* Move the whole row to B (tenant_id changed): it does not open as B's
   * either. */
  {
    sqlite3 *db = raw_open();
    char sql[256];
    snprintf(sql, sizeof(sql), "UPDATE vc_secret SET tenant_id = '%s' "
             "WHERE tenant_id = '%s' AND name = 'spare'", b_id, a_id);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
  }
  CHECK_FAIL(vc_secret_get(&out, b, "spare"), VC_ECRYPTO);
  CHECK_FAIL(vc_secret_get(&out, a, "spare"), VC_ENOTFOUND);
  CHECK(out.ptr == NULL && out.size == 0);

  /* B can still overwrite its broken row with a good value. */
  CHECK_OK(vc_secret_set(b, "token", "b-new-value", 11));
  CHECK(secret_is_str(b, "token", "b-new-value"));
  CHECK(secret_is_str(a, "token", "a-secret-value"));

  vc_tenant_free(a);
  vc_tenant_free(b);
  vc_ctx_free(ctx);
  log_reset();
}

#define NBULK 130

static void bulk_value(char *buf, size_t cap, int tenant, int i)
{
  snprintf(buf, cap, "value-%d-%03d-%08x", tenant, i,
           (unsigned)(i * 2654435761u));
}

/* Three tenants: 0 has NBULK secrets, 1 and 2 have a few. */
static void bulk_fill(vc_ctx *ctx)
{
  char slug[16], name[32], value[64];

  for (int k = 0; k < 3; k++) {
    vc_tenant *t;
    snprintf(slug, sizeof(slug), "bulk%d", k);
    t = new_tenant(ctx, slug);
    for (int i = 0; i < (k == 0 ? NBULK : 5); i++) {
      snprintf(name, sizeof(name), "cred.%03d", i);
      bulk_value(value, sizeof(value), k, i);
      CHECK_OK(vc_secret_set(t, name, value, strlen(value)));
    }
    vc_tenant_free(t);
  }
}

static void bulk_verify(vc_ctx *ctx)
{
  char slug[16], name[32], value[64];

  for (int k = 0; k < 3; k++) {
    vc_tenant *t;
    snprintf(slug, sizeof(slug), "bulk%d", k);
    t = lookup(ctx, slug);
    for (int i = 0; i < (k == 0 ? NBULK : 5); i++) {
      snprintf(name, sizeof(name), "cred.%03d", i);
      bulk_value(value, sizeof(value), k, i);
      CHECK(secret_is_str(t, name, value));
    }
    vc_tenant_free(t);
  }
}

static void test_secret__rotation(void)
{
  vc_master_key k1, k2, p2, k3;
  vc_ctx *ctx, *other = NULL;
  char text[32];

  make_keys();
  k1 = raw_key(key1);
  k2 = raw_key(key2);
  k3 = raw_key(key3);
  p2 = pass_key(PASS2, KDF_ITER);
  ctx = open_ctx(&k1);
  bulk_fill(ctx);
  raw_text("SELECT value FROM vc_meta WHERE key = 'key.version'", text,
           sizeof(text));
  CHECK_STR(text, "1");

  /* To a new raw key. */
  CHECK_OK(vc_secret_rotate_key(ctx, &k2));
  bulk_verify(ctx);
  raw_text("SELECT value FROM vc_meta WHERE key = 'key.version'", text,
           sizeof(text));
  CHECK_STR(text, "2");
  CHECK(raw_count("SELECT COUNT(*) FROM vc_secret WHERE key_version <> 2")
        == 0);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_secret") == NBULK + 10);
  /* New writes use the new key. */
  {
    vc_tenant *t = lookup(ctx, "bulk1");
    CHECK_OK(vc_secret_set(t, "fresh", "after-rotation", 14));
    CHECK(secret_is_str(t, "fresh", "after-rotation"));
    CHECK_OK(vc_secret_delete(t, "fresh"));
    vc_tenant_free(t);
  }

  /* To a passphrase. */
  CHECK_OK(vc_secret_rotate_key(ctx, &p2));
  bulk_verify(ctx);
  raw_text("SELECT value FROM vc_meta WHERE key = 'key.version'", text,
           sizeof(text));
  CHECK_STR(text, "3");
  vc_ctx_free(ctx);

  /* The old keys no longer open the store; the new passphrase does. */
  CHECK_FAIL(try_open(&other, DB_NAME, &k1), VC_EKEY);
  CHECK_FAIL(try_open(&other, DB_NAME, &k2), VC_EKEY);
  ctx = open_ctx(&p2);
  bulk_verify(ctx);

  /* And back to raw bytes. */
  CHECK_OK(vc_secret_rotate_key(ctx, &k3));
  bulk_verify(ctx);
  vc_ctx_free(ctx);
  CHECK_FAIL(try_open(&other, DB_NAME, &p2), VC_EKEY);
  ctx = open_ctx(&k3);
  bulk_verify(ctx);
  /* Rotating to an invalid key changes nothing. */
  {
    vc_master_key bad = raw_key(key1);
    bad.key_len = 16;
    CHECK_FAIL(vc_secret_rotate_key(ctx, &bad), VC_EINVALID);
    bad = pass_key("short", KDF_ITER);
    CHECK_FAIL(vc_secret_rotate_key(ctx, &bad), VC_EINVALID);
  }
  bulk_verify(ctx);
  vc_ctx_free(ctx);
  log_reset();
}

static void test_secret__rotation_other_context(void)
{
  vc_master_key k1, k2;
  vc_ctx *c1, *c2, *c3;
  vc_tenant *t1, *t2, *t3;
  vc_buf b = VC_BUF_INIT;

  make_keys();
  k1 = raw_key(key1);
  k2 = raw_key(key2);
  c1 = open_ctx(&k1);
  t1 = new_tenant(c1, "shared");
  CHECK_OK(vc_secret_set(t1, "token", "before", 6));
  c2 = open_ctx(&k1);
  t2 = lookup(c2, "shared");
  CHECK(secret_is_str(t2, "token", "before"));

  CHECK_OK(vc_secret_rotate_key(c1, &k2));
  CHECK(secret_is_str(t1, "token", "before"));

  /* The second context still has the old key: it is told to reopen. */
  CHECK_FAIL(vc_secret_get(&b, t2, "token"), VC_EKEY);
  CHECK(strstr(vc_error_last()->message, "reopen") != NULL);
  CHECK(b.ptr == NULL && b.size == 0);
  CHECK_FAIL(vc_secret_set(t2, "token", "stale", 5), VC_EKEY);
  CHECK(strstr(vc_error_last()->message, "reopen") != NULL);
  CHECK_FAIL(vc_secret_set(t2, "new-name", "stale", 5), VC_EKEY);
  CHECK(strstr(vc_error_last()->message, "reopen") != NULL);
  CHECK_FAIL(vc_secret_rotate_key(c2, &k1), VC_EKEY);
  /* Nothing it tried got in. */
  CHECK(secret_is_str(t1, "token", "before"));
  {
    vc_buf x = VC_BUF_INIT;
    CHECK_FAIL(vc_secret_get(&x, t1, "new-name"), VC_ENOTFOUND);
  }

  /* A third context with the new key works alongside. */
  c3 = open_ctx(&k2);
  t3 = lookup(c3, "shared");
  CHECK(secret_is_str(t3, "token", "before"));
  CHECK_OK(vc_secret_set(t3, "token", "after", 5));
  CHECK(secret_is_str(t1, "token", "after"));

  vc_tenant_free(t1);
  vc_tenant_free(t2);
  vc_tenant_free(t3);
  vc_ctx_free(c2);
  vc_ctx_free(c3);
  vc_ctx_free(c1);
  log_reset();
}

static void test_secret__rotation_bad_row(void)
{
  vc_master_key k1, k2, p2;
  vc_ctx *ctx, *other = NULL;
  vc_tenant *t;
  uint8_t orig[256], blob[256];
  size_t n;
  char tid[VC_ID_SIZE], ver[32], salt_before[64], salt_after[64];
  uint64_t digest;

  make_keys();
  k1 = raw_key(key1);
  k2 = raw_key(key2);
  p2 = pass_key(PASS2, KDF_ITER);
  ctx = open_ctx(&k1);
  bulk_fill(ctx);
  /* Spoil one row in the second rotation page of tenant 0, and one of
   * tenant 2 (the last one visited), in separate attempts. */
  t = lookup(ctx, "bulk0");
  snprintf(tid, sizeof(tid), "%s", vc_tenant_id(t));
  vc_tenant_free(t);
  n = raw_get(tid, "cred.117", orig, sizeof(orig));
  memcpy(blob, orig, n);
  blob[n - 3] ^= 0x20;
  raw_put(tid, "cred.117", blob, n);
  digest = raw_digest();
  raw_text("SELECT hex(data) FROM vc_meta WHERE key = 'kdf.salt'",
           salt_before, sizeof(salt_before));

  CHECK_FAIL(vc_secret_rotate_key(ctx, &k2), VC_ECRYPTO);
  CHECK_FAIL(vc_secret_rotate_key(ctx, &p2), VC_ECRYPTO);
  /* Nothing changed: rows, key version, salt. */
  CHECK(raw_digest() == digest);
  raw_text("SELECT value FROM vc_meta WHERE key = 'key.version'", ver,
           sizeof(ver));
  CHECK_STR(ver, "1");
  raw_text("SELECT hex(data) FROM vc_meta WHERE key = 'kdf.salt'",
           salt_after, sizeof(salt_after));
  CHECK_STR(salt_after, salt_before);

  /* The context keeps the old key and reads everything else. */
  t = lookup(ctx, "bulk0");
  {
    vc_buf b = VC_BUF_INIT;
    CHECK_FAIL(vc_secret_get(&b, t, "cred.117"), VC_ECRYPTO);
  }
  CHECK(secret_is_str(t, "cred.000", "value-0-000-00000000"));
  CHECK_OK(vc_secret_set(t, "still-writable", "yes", 3));
  CHECK_OK(vc_secret_delete(t, "still-writable"));
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  /* The old key still opens the store, the new one does not. */
  CHECK_FAIL(try_open(&other, DB_NAME, &k2), VC_EKEY);
  ctx = open_ctx(&k1);

  /* Repair the row, spoil one of the last tenant's instead. */
  raw_put(tid, "cred.117", orig, n);
  t = lookup(ctx, "bulk2");
  snprintf(tid, sizeof(tid), "%s", vc_tenant_id(t));
  vc_tenant_free(t);
  n = raw_get(tid, "cred.004", orig, sizeof(orig));
  raw_put(tid, "cred.004", orig, 3);
  digest = raw_digest();
  CHECK_FAIL(vc_secret_rotate_key(ctx, &k2), VC_ECRYPTO);
  CHECK(raw_digest() == digest);
  /* A row whose header names another key version. */
  memcpy(blob, orig, n);
  blob[4] ^= 0x02;
  raw_put(tid, "cred.004", blob, n);
  digest = raw_digest();
  CHECK_FAIL(vc_secret_rotate_key(ctx, &k2), VC_ECRYPTO);
  CHECK(raw_digest() == digest);
  raw_put(tid, "cred.004", orig, n);

  /* Repaired: now rotation goes through. */
  CHECK_OK(vc_secret_rotate_key(ctx, &k2));
  bulk_verify(ctx);
  vc_ctx_free(ctx);
  CHECK_FAIL(try_open(&other, DB_NAME, &k1), VC_EKEY);
  log_reset();
}

static void test_secret__isolation(void)
{
  vc_master_key mk;
  vc_ctx *ctx;
  vc_tenant *a, *b;
  vc_buf out = VC_BUF_INIT;

  make_keys();
  mk = raw_key(key1);
  ctx = open_ctx(&mk);
  a = new_tenant(ctx, "iso-a");
  b = new_tenant(ctx, "iso-b");
  CHECK_OK(vc_secret_set(a, "api_key", "a-only", 6));

  CHECK_FAIL(vc_secret_get(&out, b, "api_key"), VC_ENOTFOUND);
  CHECK(out.ptr == NULL);
  CHECK_FAIL(vc_secret_delete(b, "api_key"), VC_ENOTFOUND);
  CHECK(secret_is_str(a, "api_key", "a-only"));

  /* Same name in B is B's own. */
  CHECK_OK(vc_secret_set(b, "api_key", "b-only", 6));
  CHECK(secret_is_str(a, "api_key", "a-only"));
  CHECK(secret_is_str(b, "api_key", "b-only"));
  CHECK_OK(vc_secret_delete(b, "api_key"));
  CHECK(secret_is_str(a, "api_key", "a-only"));
  CHECK_FAIL(vc_secret_get(&out, b, "api_key"), VC_ENOTFOUND);
  CHECK_FAIL(vc_secret_delete(b, "api_key"), VC_ENOTFOUND);

  /* A deleted tenant takes no new credentials; the other is unaffected. */
  CHECK_OK(vc_tenant_delete(b));
  CHECK_FAIL(vc_secret_set(b, "api_key", "ghost", 5), VC_ENOTFOUND);
  CHECK(secret_is_str(a, "api_key", "a-only"));
  CHECK(raw_count("SELECT COUNT(*) FROM vc_secret") == 1);

  vc_tenant_free(a);
  vc_tenant_free(b);
  vc_ctx_free(ctx);
  log_reset();
}

/* ---- secrets never logged ----------------------------------------- */

static int contains(const void *hay, size_t hn, const void *needle,
                    size_t nn)
{
  if (hay == NULL || needle == NULL || nn == 0 || hn < nn)
    return 0;
  return memmem(hay, hn, needle, nn) != NULL;
}

static void hex(char *out, const uint8_t *k, int upper)
{
  static const char *digits[2] = { "0123456789abcdef", "0123456789ABCDEF" };

  for (int i = 0; i < 32; i++) {
    out[2 * i] = digits[upper][k[i] >> 4];
    out[2 * i + 1] = digits[upper][k[i] & 15];
  }
  out[64] = '\0';
}

/* Does `text` leak a secret, the passphrases or the keys (raw or hex)? */
static int leaks(const char *text)
{
  static const char *words[] = { VALUE40, PASS1, PASS2, "s3cr3t-logged" };
  const uint8_t *keys[] = { key1, key2, key3 };
  size_t n = strlen(text);

  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
    if (strstr(text, words[i]) != NULL)
      return 1;
  for (size_t i = 0; i < 3; i++) {
    char h[65];
    if (contains(text, n, keys[i], 32))
      return 1;
    /* Also a long-enough run of the key's bytes. */
    if (contains(text, n, keys[i], 8) || contains(text, n, keys[i] + 24, 8))
      return 1;
    hex(h, keys[i], 0);
    if (strstr(text, h) != NULL || contains(text, n, h, 16))
      return 1;
    hex(h, keys[i], 1);
    if (strstr(text, h) != NULL || contains(text, n, h, 16))
      return 1;
  }
  return 0;
}

/* After a failing call: the message is clean. */
#define CHECK_CLEAN_FAIL(call, code)                                    \
  do {                                                                  \
    CHECK_FAIL(call, code);                                             \
    CHECK(!leaks(vc_error_last()->message));                            \
  } while (0)

static int file_leaks(const char *path, const void *needle, size_t n)
{
  FILE *f = fopen(path, "rb");
  uint8_t *data;
  long size;
  int hit;

  if (f == NULL)
    return 0; /* e.g. no -wal file */
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  data = malloc(size > 0 ? (size_t)size : 1);
  if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size) {
    fclose(f);
    free(data);
    return 1; /* cannot tell: count it as a failure */
  }
  fclose(f);
  hit = contains(data, (size_t)size, needle, n);
  free(data);
  return hit;
}

static int db_files_leak(void)
{
  char wal[600], shm[600];
  const char *main_db = vc_test_path(DB_NAME);
  const void *needles[] = { VALUE40, PASS1, PASS2, key1, key2, key3 };
  size_t sizes[] = { 40, strlen(PASS1), strlen(PASS2), 32, 32, 32 };

  snprintf(wal, sizeof(wal), "%s-wal", main_db);
  snprintf(shm, sizeof(shm), "%s-shm", main_db);
  for (size_t i = 0; i < 6; i++)
    if (file_leaks(main_db, needles[i], sizes[i]) ||
        file_leaks(wal, needles[i], sizes[i]) ||
        file_leaks(shm, needles[i], sizes[i]))
      return 1;
  return 0;
}

static void test_secret__never_logged(void)
{
  vc_master_key p1, k2, wrong;
  vc_ctx *ctx, *other = NULL;
  vc_tenant *t, *u;
  vc_buf b = VC_BUF_INIT;
  uint8_t orig[256], blob[256];
  size_t n;
  char tid[VC_ID_SIZE];

  make_keys();
  log_reset();
  p1 = pass_key(PASS1, KDF_ITER);
  k2 = raw_key(key2);
  ctx = open_ctx(&p1);
  t = new_tenant(ctx, "quiet");
  u = new_tenant(ctx, "noisy");
  snprintf(tid, sizeof(tid), "%s", vc_tenant_id(t));
  CHECK_OK(vc_secret_set(t, "token", VALUE40, 40));
  CHECK_OK(vc_secret_set(t, "token2", VALUE40, 40));
  CHECK_OK(vc_secret_set(u, "pass-as-value", PASS1, strlen(PASS1)));
  CHECK(secret_is(t, "token", VALUE40, 40));
  CHECK(db_files_leak() == 0);

  /* Failing calls of every kind. */
  CHECK_CLEAN_FAIL(vc_secret_set(t, "bad name", VALUE40, 40), VC_EINVALID);
  CHECK_CLEAN_FAIL(vc_secret_get(&b, t, "missing"), VC_ENOTFOUND);
  CHECK_CLEAN_FAIL(vc_secret_get(&b, u, "token"), VC_ENOTFOUND);
  {
    char big[VC_SECRET_MAX + 64];
    memset(big, 'v', sizeof(big));
    memcpy(big, VALUE40, 40);
    CHECK_CLEAN_FAIL(vc_secret_set(t, "big", big, sizeof(big)), VC_ETOOBIG);
  }
  n = raw_get(tid, "token", orig, sizeof(orig));
  memcpy(blob, orig, n);
  blob[n / 2] ^= 0x55;
  raw_put(tid, "token", blob, n);
  CHECK_CLEAN_FAIL(vc_secret_get(&b, t, "token"), VC_ECRYPTO);
  CHECK_CLEAN_FAIL(vc_secret_rotate_key(ctx, &k2), VC_ECRYPTO);
  raw_put(tid, "token", orig, n);
  wrong = raw_key(key1);
  wrong.key_len = 31;
  CHECK_CLEAN_FAIL(vc_secret_rotate_key(ctx, &wrong), VC_EINVALID);
  wrong = pass_key("short", KDF_ITER);
  CHECK_CLEAN_FAIL(vc_secret_rotate_key(ctx, &wrong), VC_EINVALID);

  /* A good rotation, a second context with the old key, wrong keys. */
  CHECK_OK(vc_secret_rotate_key(ctx, &k2));
  CHECK(secret_is(t, "token", VALUE40, 40));
  CHECK_CLEAN_FAIL(try_open(&other, DB_NAME, &p1), VC_EKEY);
  wrong = raw_key(key1);
  CHECK_CLEAN_FAIL(try_open(&other, DB_NAME, &wrong), VC_EKEY);
  wrong = pass_key(PASS2, KDF_ITER);
  CHECK_CLEAN_FAIL(try_open(&other, DB_NAME, &wrong), VC_EKEY);
  CHECK_OK(try_open(&other, DB_NAME, &k2));
  {
    vc_tenant *t2 = lookup(other, "quiet");
    CHECK_OK(vc_secret_rotate_key(ctx, &p1));
    CHECK_CLEAN_FAIL(vc_secret_get(&b, t2, "token"), VC_EKEY);
    CHECK_CLEAN_FAIL(vc_secret_set(t2, "token", VALUE40, 40), VC_EKEY);
    vc_tenant_free(t2);
  }
  vc_ctx_free(other);
  CHECK(secret_is(t, "token", VALUE40, 40));
  CHECK(db_files_leak() == 0);
  vc_tenant_free(t);
  vc_tenant_free(u);
  vc_ctx_free(ctx);

  /* The log saw the work, and nothing secret. */
  pthread_mutex_lock(&log_lock);
  {
    int count = log_count, leaked = 0;
    for (int i = 0; i < count; i++)
      if (leaks(log_lines[i])) {
        fprintf(stderr, "  leaked in log: %s\n", log_lines[i]);
        leaked = 1;
      }
    pthread_mutex_unlock(&log_lock);
    CHECK(count > 0);
    CHECK(!leaked);
  }
  /* Nor the file, after the WAL was checkpointed on close. */
  CHECK(db_files_leak() == 0);
  log_reset();
}

VC_TESTS(
  VC_TEST(test_secret__round_trip),
  VC_TEST(test_secret__passphrase),
  VC_TEST(test_secret__master_key_validation),
  VC_TEST(test_secret__names),
  VC_TEST(test_secret__no_master_key),
  VC_TEST(test_secret__wrong_key),
  VC_TEST(test_secret__tamper),
  VC_TEST(test_secret__moved_ciphertext),
  VC_TEST(test_secret__rotation),
  VC_TEST(test_secret__rotation_other_context),
  VC_TEST(test_secret__rotation_bad_row),
  VC_TEST(test_secret__isolation),
  VC_TEST(test_secret__never_logged),
)
