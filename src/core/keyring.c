/*
 * Master key handling. See keyring.h.
 *
 * vc_meta holds: key.version (text integer), key.check (a sealed known
 * value, proving which key the store uses), and for passphrases kdf.salt
 * and kdf.iterations.
 */
#include "common.h"
#include "keyring.h"
#include "audit.h"
#include "ctx.h"
#include "buf.h"
#include "random.h"

#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_KDF_ITERATIONS 600000
#define SALT_SIZE 16
#define ROTATE_PAGE 100

static const char CHECK_PLAINTEXT[] = "vyomcomm master key check";

/* Every encrypted column of the schema, for rotation. A table added by a
 * later migration with a sealed column must be listed here. */
typedef struct sealed_column {
  const char *table;
  const char *column;
  const char *select_page; /* ?1 tenant_id, ?2 id: rows after them */
  const char *update_row;  /* ?1 value, ?2 key_version, ?3 tenant, ?4 id */
} sealed_column;

static const sealed_column SEALED[] = {
  { "vc_secret", "value",
    "SELECT tenant_id, id, value FROM vc_secret"
    " WHERE tenant_id > ?1 OR (tenant_id = ?1 AND id > ?2)"
    " ORDER BY tenant_id, id LIMIT 100",
    "UPDATE vc_secret SET value = ?1, key_version = ?2"
    " WHERE tenant_id = ?3 AND id = ?4" },
  /* A channel without credentials made without a master key has NULL
   * sealed columns: nothing to re-encrypt. */
  { "vc_channel", "credentials",
    "SELECT tenant_id, id, credentials FROM vc_channel"
    " WHERE (tenant_id > ?1 OR (tenant_id = ?1 AND id > ?2))"
    " AND credentials IS NOT NULL ORDER BY tenant_id, id LIMIT 100",
    "UPDATE vc_channel SET credentials = ?1, key_version = ?2"
    " WHERE tenant_id = ?3 AND id = ?4" },
  { "vc_channel", "webhook_secret",
    "SELECT tenant_id, id, webhook_secret FROM vc_channel"
    " WHERE (tenant_id > ?1 OR (tenant_id = ?1 AND id > ?2))"
    " AND webhook_secret IS NOT NULL ORDER BY tenant_id, id LIMIT 100",
    "UPDATE vc_channel SET webhook_secret = ?1, key_version = ?2"
    " WHERE tenant_id = ?3 AND id = ?4" },
  /* A tenant's address-hash key (schema 20, src/msg/privacy.c). */
  { "vc_privacy_key", "value",
    "SELECT tenant_id, id, value FROM vc_privacy_key"
    " WHERE tenant_id > ?1 OR (tenant_id = ?1 AND id > ?2)"
    " ORDER BY tenant_id, id LIMIT 100",
    "UPDATE vc_privacy_key SET value = ?1, key_version = ?2"
    " WHERE tenant_id = ?3 AND id = ?4" },
};

static const char SQL_META_GET[] =
  "SELECT value, data FROM vc_meta WHERE key = ?1";
static const char SQL_META_PUT[] =
  "INSERT INTO vc_meta (key, value, data) VALUES (?1, ?2, ?3)"
  " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
  " data = excluded.data";

/* Read a meta row. VC_ENOTFOUND when absent. */
static int meta_get(vc__db *db, const char *key, vc_buf *value, vc_buf *data)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_META_GET, "t", key)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    const char *v = vc__stmt_text(s, 0);
    size_t n = 0;
    const void *d = vc__stmt_blob(s, 1, &n);
    rc = 0;
    if (value != NULL && v != NULL)
      rc = vc__buf_puts(value, v);
    if (rc == 0 && data != NULL && d != NULL)
      rc = vc__buf_put(data, d, n);
  } else if (rc == VC_STORAGE_DONE) {
    rc = VC_ENOTFOUND;
  }
  vc__stmt_done(s);
  return rc;
}

static int meta_put(vc__db *db, const char *key, const char *value,
                    const void *data, size_t len)
{
  if (data != NULL)
    return vc__db_run(db, SQL_META_PUT, "ttb", key, value, data, len);
  return vc__db_run(db, SQL_META_PUT, "ttn", key, value);
}

static int meta_get_u32(vc__db *db, const char *key, uint32_t *out)
{
  vc_buf v = VC_BUF_INIT;
  int rc = meta_get(db, key, &v, NULL);

  if (rc == 0)
    *out = v.ptr ? (uint32_t)strtoul(v.ptr, NULL, 10) : 0;
  vc_buf_dispose(&v);
  return rc;
}

static int meta_put_u32(vc__db *db, const char *key, uint32_t value)
{
  char text[16];

  snprintf(text, sizeof(text), "%u", value);
  return meta_put(db, key, text, NULL, 0);
}

/* The associated data of a sealed value: its site, NUL-separated. */
static int site_aad(vc_buf *aad, const vc__seal_site *at)
{
  const char *parts[] = { "vyomcomm", at->tenant_id, at->table, at->column,
                          at->row_id };
  int rc = 0;

  for (size_t i = 0; i < VC_ARRAY_SIZE(parts) && rc == 0; i++)
    rc = vc__buf_put(aad, parts[i], strlen(parts[i]) + 1);
  return rc;
}

static int validate_master_key(const vc_master_key *mk)
{
  VC_CHECK_VERSION(mk, VC_MASTER_KEY_VERSION, "vc_master_key");
  if ((mk->key != NULL) == (mk->passphrase != NULL))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "master key: give either key bytes or a "
                         "passphrase");
  if (mk->key != NULL && mk->key_len != VC_MASTER_KEY_SIZE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "master key must be %d bytes, not %zu",
                         VC_MASTER_KEY_SIZE, mk->key_len);
  if (mk->passphrase != NULL && strlen(mk->passphrase) < 8)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "master key passphrase is shorter than 8 bytes");
  return 0;
}

/*
 * Turn a master key into AES key bytes. A passphrase uses the store's
 * salt, or a new salt written in the current transaction when `fresh` or
 * when the store has none.
 */
static int derive(uint8_t key[VC__KEY_SIZE], vc__db *db,
                  const vc_master_key *mk, int fresh)
{
  vc_buf salt = VC_BUF_INIT;
  uint32_t iterations = 0;
  uint8_t new_salt[SALT_SIZE];
  int rc;

  if (mk->key != NULL) {
    memcpy(key, mk->key, VC__KEY_SIZE);
    return 0;
  }
  rc = fresh ? VC_ENOTFOUND : meta_get(db, "kdf.salt", NULL, &salt);
  if (rc == 0)
    rc = meta_get_u32(db, "kdf.iterations", &iterations);
  if (rc == VC_ENOTFOUND || (rc == 0 && salt.size != SALT_SIZE)) {
    iterations = mk->kdf_iterations ? mk->kdf_iterations
                                    : DEFAULT_KDF_ITERATIONS;
    vc_buf_dispose(&salt);
    if ((rc = vc__random_os(new_salt, sizeof(new_salt))) < 0 ||
        (rc = meta_put(db, "kdf.salt", NULL, new_salt, SALT_SIZE)) < 0 ||
        (rc = meta_put_u32(db, "kdf.iterations", iterations)) < 0 ||
        (rc = vc__buf_put(&salt, new_salt, SALT_SIZE)) < 0)
      goto out;
  } else if (rc < 0) {
    goto out;
  }
  if (iterations == 0) {
    rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_ECORRUPT,
                       "store has no key derivation iteration count");
    goto out;
  }
  rc = vc__pbkdf2_sha256(key, mk->passphrase, strlen(mk->passphrase),
                         (const uint8_t *)salt.ptr, salt.size, iterations);
out:
  vc_buf_dispose(&salt);
  return rc;
}

static const vc__seal_site CHECK_SITE = { "", "vc_meta", "data",
                                          "key.check" };

static int write_check(vc__db *db, const uint8_t key[VC__KEY_SIZE],
                       uint32_t version)
{
  vc_buf aad = VC_BUF_INIT, blob = VC_BUF_INIT;
  int rc;

  if ((rc = site_aad(&aad, &CHECK_SITE)) == 0 &&
      (rc = vc__seal(&blob, key, version, aad.ptr, aad.size,
                     CHECK_PLAINTEXT, sizeof(CHECK_PLAINTEXT) - 1)) == 0 &&
      (rc = meta_put(db, "key.check", NULL, blob.ptr, blob.size)) == 0)
    rc = meta_put_u32(db, "key.version", version);
  vc_buf_dispose(&aad);
  vc_buf_dispose(&blob);
  return rc;
}

/* 0 when `key` opens the store's key check; VC_EKEY when it does not. */
static int verify_check(vc__db *db, const uint8_t key[VC__KEY_SIZE],
                        uint32_t *version)
{
  vc_buf aad = VC_BUF_INIT, blob = VC_BUF_INIT, pt = VC_BUF_INIT;
  int rc;

  if ((rc = meta_get(db, "key.check", NULL, &blob)) < 0)
    goto out;
  if ((rc = vc__sealed_key_version(version, blob.ptr, blob.size)) < 0 ||
      (rc = site_aad(&aad, &CHECK_SITE)) < 0)
    goto out;
  rc = vc__open(&pt, key, aad.ptr, aad.size, blob.ptr, blob.size);
  if (rc == VC_ECRYPTO ||
      (rc == 0 && (pt.size != sizeof(CHECK_PLAINTEXT) - 1 ||
                   memcmp(pt.ptr, CHECK_PLAINTEXT, pt.size) != 0)))
    rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_EKEY,
                       "the master key is not this store's key");
out:
  vc_buf_dispose(&aad);
  vc_buf_dispose(&blob);
  vc_buf_dispose(&pt);
  return rc;
}

void vc__keyring_init(vc__keyring *kr)
{
  memset(kr, 0, sizeof(*kr));
  pthread_rwlock_init(&kr->lock, NULL);
}

void vc__keyring_fini(vc__keyring *kr)
{
  vc__wipe(kr->key, sizeof(kr->key));
  pthread_rwlock_destroy(&kr->lock);
}

int vc__keyring_load(vc__keyring *kr, vc__db *db, const vc_master_key *mk)
{
  uint8_t key[VC__KEY_SIZE];
  uint32_t version = 0;
  int rc;

  if (mk == NULL)
    return 0;
  if ((rc = validate_master_key(mk)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    return rc;
  if ((rc = derive(key, db, mk, 0)) < 0)
    goto fail;
  rc = verify_check(db, key, &version);
  if (rc == VC_ENOTFOUND) {
    version = 1;
    rc = write_check(db, key, version);
  }
  if (rc < 0 || (rc = vc__db_commit(db)) < 0)
    goto fail;
  pthread_rwlock_wrlock(&kr->lock);
  memcpy(kr->key, key, sizeof(key));
  kr->version = version;
  kr->has_key = 1;
  pthread_rwlock_unlock(&kr->lock);
  vc__wipe(key, sizeof(key));
  return 0;
fail:
  vc__wipe(key, sizeof(key));
  vc__db_rollback(db);
  return rc;
}

void vc__keyring_rdlock(vc__keyring *kr)
{
  pthread_rwlock_rdlock(&kr->lock);
}

void vc__keyring_unlock(vc__keyring *kr)
{
  pthread_rwlock_unlock(&kr->lock);
}

static int no_key(void)
{
  return vc__error_set(VC_ERRCLASS_CRYPTO, VC_EKEY,
                       "no master key: pass one in vc_ctx_options");
}

int vc__keyring_check_current(vc__keyring *kr, vc__db *db)
{
  uint32_t stored = 0;
  int rc;

  if (!kr->has_key)
    return no_key();
  if ((rc = meta_get_u32(db, "key.version", &stored)) < 0)
    return rc;
  if (stored != kr->version)
    return vc__error_set(VC_ERRCLASS_CRYPTO, VC_EKEY,
                         "the store's master key was rotated (version %u, "
                         "this context has %u): reopen with the new key",
                         stored, kr->version);
  return 0;
}

int vc__keyring_seal(vc__keyring *kr, vc_buf *out, const vc__seal_site *at,
                     const void *pt, size_t len)
{
  vc_buf aad = VC_BUF_INIT;
  int rc;

  if (!kr->has_key)
    return no_key();
  if ((rc = site_aad(&aad, at)) == 0)
    rc = vc__seal(out, kr->key, kr->version, aad.ptr, aad.size, pt, len);
  vc_buf_dispose(&aad);
  return rc;
}

int vc__keyring_open(vc__keyring *kr, vc_buf *out, const vc__seal_site *at,
                     const void *blob, size_t len)
{
  vc_buf aad = VC_BUF_INIT;
  uint32_t version;
  int rc;

  if (!kr->has_key)
    return no_key();
  if ((rc = vc__sealed_key_version(&version, blob, len)) < 0)
    return rc;
  if (version != kr->version)
    return vc__error_set(VC_ERRCLASS_CRYPTO, VC_EKEY,
                         "value is sealed under master key version %u, this "
                         "context has %u: reopen with the current key",
                         version, kr->version);
  if ((rc = site_aad(&aad, at)) == 0)
    rc = vc__open(out, kr->key, aad.ptr, aad.size, blob, len);
  vc_buf_dispose(&aad);
  return rc;
}

typedef struct page_row {
  char tenant_id[VC_ID_SIZE + 1];
  char id[VC_ID_SIZE + 1];
  vc_buf value;
} page_row;

/* Read up to ROTATE_PAGE rows after (tenant, id). */
static int read_page(vc__db *db, const sealed_column *col,
                     const char *tenant, const char *id, page_row *rows,
                     size_t *n)
{
  vc__stmt *s;
  int rc;

  *n = 0;
  if ((rc = vc__db_query(&s, db, col->select_page, "tt", tenant, id)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW && *n < ROTATE_PAGE) {
    page_row *r = &rows[*n];
    size_t len = 0;
    const void *blob = vc__stmt_blob(s, 2, &len);
    snprintf(r->tenant_id, sizeof(r->tenant_id), "%s", vc__stmt_text(s, 0));
    snprintf(r->id, sizeof(r->id), "%s", vc__stmt_text(s, 1));
    (*n)++;
    if ((rc = vc__buf_put(&r->value, blob, len)) < 0)
      break;
  }
  vc__stmt_done(s);
  if (rc < 0) {
    /* A failed page hands back nothing: release what was read. */
    for (size_t i = 0; i < *n; i++)
      vc_buf_dispose(&rows[i].value);
    *n = 0;
    return rc;
  }
  return 0;
}

static int rotate_column(vc__db *db, const sealed_column *col,
                         vc__keyring *old, vc__keyring *new_kr)
{
  page_row *rows = vc__calloc(ROTATE_PAGE, sizeof(*rows));
  char last_tenant[VC_ID_SIZE + 1] = "", last_id[VC_ID_SIZE + 1] = "";
  size_t n = 0;
  int rc;

  if (rows == NULL)
    return vc_error_set_oom();
  do {
    if ((rc = read_page(db, col, last_tenant, last_id, rows, &n)) < 0)
      break;
    for (size_t i = 0; i < n && rc == 0; i++) {
      vc__seal_site at = { rows[i].tenant_id, col->table, col->column,
                           rows[i].id };
      vc_buf pt = VC_BUF_INIT, blob = VC_BUF_INIT;
      if ((rc = vc__keyring_open(old, &pt, &at, rows[i].value.ptr,
                                 rows[i].value.size)) < 0) {
        /* The store's version is ours (checked): a row naming another
         * version was altered, like one that fails to authenticate. */
        if (rc == VC_EKEY)
          rc = VC_ECRYPTO;
        vc__error_set(VC_ERRCLASS_CRYPTO, rc,
                      "key rotation: %s.%s row %s of tenant %s does not "
                      "decrypt", col->table, col->column, rows[i].id,
                      rows[i].tenant_id);
      } else if ((rc = vc__keyring_seal(new_kr, &blob, &at, pt.ptr,
                                        pt.size)) == 0) {
        rc = vc__db_run(db, col->update_row, "bitt", blob.ptr, blob.size,
                        (int64_t)new_kr->version, rows[i].tenant_id,
                        rows[i].id);
      }
      vc__buf_wipe(&pt);
      vc_buf_dispose(&blob);
    }
    if (n > 0) {
      memcpy(last_tenant, rows[n - 1].tenant_id, sizeof(last_tenant));
      memcpy(last_id, rows[n - 1].id, sizeof(last_id));
    }
    for (size_t i = 0; i < n; i++)
      vc_buf_dispose(&rows[i].value);
  } while (rc == 0 && n == ROTATE_PAGE);
  vc__free(rows);
  return rc;
}

int vc__keyring_rotate(vc__keyring *kr, vc_ctx *ctx,
                       const vc_master_key *mk)
{
  vc_store *store = ctx->store;
  char summary[48];
  vc__keyring next;
  vc__db *db = NULL;
  int rc;

  if ((rc = validate_master_key(mk)) < 0)
    return rc;
  vc__keyring_init(&next);
  pthread_rwlock_wrlock(&kr->lock);
  if ((rc = vc__db_acquire(&db, store)) < 0)
    goto out;
  if ((rc = vc__db_begin(db)) < 0)
    goto out;
  if ((rc = vc__keyring_check_current(kr, db)) < 0 ||
      (rc = derive(next.key, db, mk, 1)) < 0)
    goto fail;
  next.version = kr->version + 1;
  next.has_key = 1;
  for (size_t i = 0; i < VC_ARRAY_SIZE(SEALED) && rc == 0; i++)
    rc = rotate_column(db, &SEALED[i], kr, &next);
  snprintf(summary, sizeof(summary), "{\"key_version\":%u}",
           (unsigned)next.version);
  if (rc < 0 || (rc = write_check(db, next.key, next.version)) < 0 ||
      (rc = vc__audit(db, ctx, "", "master_key.rotate", "", summary)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  memcpy(kr->key, next.key, sizeof(kr->key));
  kr->version = next.version;
  goto out;
fail:
  vc__db_rollback(db);
out:
  vc__db_release(db);
  pthread_rwlock_unlock(&kr->lock);
  vc__keyring_fini(&next);
  return rc;
}
