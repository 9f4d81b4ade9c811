/*
 * Per-tenant named credentials, sealed under the master key.
 */
#include "common.h"
#include "audit.h"
#include "buf.h"
#include "ctx.h"
#include "event.h"
#include "tenant.h"
#include "text.h"

#include <stdio.h>

#define NAME_MAX_LEN 128

static const char SQL_TENANT_LIVE[] =
  "SELECT 1 FROM vc_tenant WHERE id = ?1 AND deleted_at IS NULL";
static const char SQL_FIND[] =
  "SELECT id FROM vc_secret WHERE tenant_id = ?1 AND name = ?2";
/* A deleted tenant's credentials are not handed out, even through a
 * handle that was loaded before the delete. */
static const char SQL_GET[] =
  "SELECT s.id, s.value FROM vc_secret s JOIN vc_tenant t"
  " ON t.id = s.tenant_id AND t.deleted_at IS NULL"
  " WHERE s.tenant_id = ?1 AND s.name = ?2";
static const char SQL_INSERT[] =
  "INSERT INTO vc_secret (tenant_id, id, name, value, key_version,"
  " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";
static const char SQL_UPDATE[] =
  "UPDATE vc_secret SET value = ?3, key_version = ?4, updated_at = ?5"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_DELETE[] =
  "DELETE FROM vc_secret WHERE tenant_id = ?1 AND name = ?2";

static int check_name(const char *name)
{
  return vc__check_token("secret name", name, NAME_MAX_LEN, NULL,
                         "A-Za-z0-9_.:-");
}

static int tenant_live(vc__db *db, const char *tenant_id)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_TENANT_LIVE, "t", tenant_id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "tenant %s was deleted", tenant_id);
  return rc < 0 ? rc : 0;
}

/* The id of an existing secret, or "" when there is none. */
static int find_id(vc__db *db, const char *tenant_id, const char *name,
                   char id[VC_ID_SIZE])
{
  vc__stmt *s;
  int rc;

  id[0] = '\0';
  if ((rc = vc__db_query(&s, db, SQL_FIND, "tt", tenant_id, name)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    snprintf(id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

static void name_payload(char *buf, size_t size, const char *name)
{
  /* Names are [A-Za-z0-9_.:-]: nothing to escape in JSON. */
  snprintf(buf, size, "{\"name\":\"%s\"}", name);
}

int vc_secret_set(vc_tenant *t, const char *name, const void *value,
                  size_t len)
{
  char id[VC_ID_SIZE], payload[192];
  vc_buf blob = VC_BUF_INIT;
  const char *tenant_id;
  vc_ctx *ctx;
  vc__db *db;
  int64_t now;
  int rc, fresh;

  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(value != NULL || len == 0);
  if ((rc = check_name(name)) < 0)
    return rc;
  if (len > VC_SECRET_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "secret value is larger than %d bytes",
                         VC_SECRET_MAX);
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  now = vc__now(ctx);
  vc__keyring_rdlock(&ctx->keys);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__keyring_check_current(&ctx->keys, db)) < 0 ||
      (rc = tenant_live(db, tenant_id)) < 0 ||
      (rc = find_id(db, tenant_id, name, id)) < 0)
    goto fail;
  fresh = id[0] == '\0';
  if (fresh && (rc = vc__new_id(ctx, id)) < 0)
    goto fail;
  {
    vc__seal_site at = { tenant_id, "vc_secret", "value", id };
    if ((rc = vc__keyring_seal(&ctx->keys, &blob, &at, value, len)) < 0)
      goto fail;
  }
  if (fresh)
    rc = vc__db_run(db, SQL_INSERT, "tttbii", tenant_id, id, name, blob.ptr,
                    blob.size, (int64_t)ctx->keys.version, now);
  else
    rc = vc__db_run(db, SQL_UPDATE, "ttbii", tenant_id, id, blob.ptr,
                    blob.size, (int64_t)ctx->keys.version, now);
  name_payload(payload, sizeof(payload), name);
  if (rc < 0 ||
      (rc = vc__event_append(db, ctx, tenant_id, "secret.set", id,
                             payload)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "secret.set", id, payload)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  vc_ctx_wakeup(ctx);
  goto release;
fail:
  vc__db_rollback(db);
release:
  vc__db_release(db);
unlock:
  vc__keyring_unlock(&ctx->keys);
  vc_buf_dispose(&blob);
  return rc;
}

int vc_secret_get(vc_buf *out, vc_tenant *t, const char *name)
{
  const char *tenant_id;
  vc_ctx *ctx;
  vc__db *db;
  vc__stmt *s = NULL;
  int rc;

  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(t);
  if ((rc = check_name(name)) < 0)
    return rc;
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  vc__keyring_rdlock(&ctx->keys);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_query(&s, db, SQL_GET, "tt", tenant_id, name)) < 0)
    goto release;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_DONE) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no secret '%s'", name);
  } else if (rc == VC_STORAGE_ROW) {
    char id[VC_ID_SIZE];
    size_t n = 0;
    const void *blob;
    snprintf(id, sizeof(id), "%s", vc__stmt_text(s, 0));
    blob = vc__stmt_blob(s, 1, &n);
    {
      vc__seal_site at = { tenant_id, "vc_secret", "value", id };
      vc_buf pt = VC_BUF_INIT;
      rc = vc__keyring_open(&ctx->keys, &pt, &at, blob, n);
      if (rc == 0) {
        vc__buf_wipe(out);
        *out = pt;
      } else {
        vc__buf_wipe(&pt);
        vc__error_wrap(name);
      }
    }
  }
  vc__stmt_done(s);
  /* A header naming another key version is a rotation by another
   * context only when the store's version moved too; otherwise the
   * header was altered: report it as the tampering it is. */
  if (rc == VC_EKEY && ctx->keys.has_key) {
    if (vc__keyring_check_current(&ctx->keys, db) == 0)
      rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_ECRYPTO,
                         "%s: ciphertext does not authenticate: its key "
                         "version was altered", name);
    else
      rc = vc__error_wrap(name);
  }
release:
  vc__db_release(db);
unlock:
  vc__keyring_unlock(&ctx->keys);
  return rc;
}

int vc_secret_delete(vc_tenant *t, const char *name)
{
  char payload[192];
  const char *tenant_id;
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(t);
  if ((rc = check_name(name)) < 0)
    return rc;
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  rc = vc__db_run(db, SQL_DELETE, "tt", tenant_id, name);
  if (rc == 0 && vc__db_changes(db) == 0)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no secret '%s'", name);
  name_payload(payload, sizeof(payload), name);
  if (rc < 0 ||
      (rc = vc__event_append(db, ctx, tenant_id, "secret.deleted", tenant_id,
                             payload)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "secret.delete", tenant_id,
                      payload)) < 0 ||
      (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    goto release;
  }
  vc_ctx_wakeup(ctx);
release:
  vc__db_release(db);
  return rc;
}

int vc_secret_rotate_key(vc_ctx *ctx, const vc_master_key *new_key)
{
  int rc;

  VC_ASSERT_ARG(ctx);
  VC_ASSERT_ARG(new_key);
  rc = vc__keyring_rotate(&ctx->keys, ctx, new_key);
  if (rc == 0)
    VC_LOG(ctx, VC_LOG_INFO, "master key rotated");
  return rc;
}
