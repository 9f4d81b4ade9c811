/*
 * API keys (vyomcomm/apikey.h). A secret is "vck_" + the key's id + "_"
 * + 64 hex digits of OS randomness; the row keeps a 16-byte random salt
 * and SHA-256(salt || secret) in hex. The secret carries 256 random bits,
 * so one round of SHA-256 is enough: there is nothing to guess.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/random.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "vyomcomm/apikey.h"

#include <stdio.h>

#define PREFIX "vck_"
#define PREFIX_LEN 4
#define RANDOM_BYTES 32
#define SALT_BYTES 16
/* "vck_" + id + "_" + hex */
#define SECRET_LEN (PREFIX_LEN + (VC_ID_SIZE - 1) + 1 + 2 * RANDOM_BYTES)

typedef struct apikey_row {
  char tenant_id[VC_ID_SIZE];
  char id[VC_ID_SIZE];
  char label[VC_APIKEY_LABEL_MAX + 1];
  int64_t created_at, expires_at, revoked_at;
} apikey_row;

struct vc_apikey {
  apikey_row row;
};

#define COLUMNS "k.tenant_id, k.id, k.label, k.created_at, k.expires_at," \
                " k.revoked_at"

static const char SQL_INSERT[] =
  "INSERT INTO vc_apikey (tenant_id, id, label, salt, hash, created_at,"
  " expires_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 FROM vc_tenant"
  " WHERE id = ?1 AND deleted_at IS NULL";
static const char SQL_BY_ID[] =
  "SELECT " COLUMNS " FROM vc_apikey k WHERE k.tenant_id = ?1 AND k.id = ?2";
/* By id alone: the secret names the key, the key names the tenant. */
static const char SQL_VERIFY[] =
  "SELECT k.tenant_id, k.salt, k.hash, k.expires_at, k.revoked_at"
  " FROM vc_apikey k JOIN vc_tenant t ON t.id = k.tenant_id"
  " AND t.deleted_at IS NULL WHERE k.id = ?1";
static const char SQL_REVOKE[] =
  "UPDATE vc_apikey SET revoked_at = ?3 WHERE tenant_id = ?1 AND id = ?2"
  " AND revoked_at IS NULL";
static const char SQL_PAGE[] =
  "SELECT " COLUMNS " FROM vc_apikey k WHERE k.tenant_id = ?1 AND k.id > ?2"
  " AND (?3 = 1 OR k.revoked_at IS NULL) ORDER BY k.id LIMIT 50";

int vc_apikey_spec_init(vc_apikey_spec *s, unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_APIKEY_SPEC_VERSION, vc_apikey_spec,
                 VC_APIKEY_SPEC_INIT);
}

int vc_apikey_filter_init(vc_apikey_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_APIKEY_FILTER_VERSION, vc_apikey_filter,
                 VC_APIKEY_FILTER_INIT);
}

static int64_t col_time(vc__stmt *s, int col)
{
  return vc__stmt_is_null(s, col) ? 0 : vc__stmt_int64(s, col);
}

static int row_from_stmt(apikey_row **out, vc__stmt *s)
{
  apikey_row *r = vc__calloc(1, sizeof(*r));

  if (r == NULL)
    return vc_error_set_oom();
  snprintf(r->tenant_id, sizeof(r->tenant_id), "%s", vc__stmt_text(s, 0));
  snprintf(r->id, sizeof(r->id), "%s", vc__stmt_text(s, 1));
  snprintf(r->label, sizeof(r->label), "%s", vc__stmt_text(s, 2));
  r->created_at = vc__stmt_int64(s, 3);
  r->expires_at = col_time(s, 4);
  r->revoked_at = col_time(s, 5);
  *out = r;
  return 0;
}

/* A handle takes over the row. */
static int handle_new(vc_apikey **out, apikey_row *row)
{
  vc_apikey *k = vc__calloc(1, sizeof(*k));

  if (k == NULL) {
    vc__free(row);
    return vc_error_set_oom();
  }
  k->row = *row;
  vc__free(row);
  *out = k;
  return 0;
}

static int load(apikey_row **out, vc__db *db, const char *tenant_id,
                const char *id)
{
  vc__stmt *s;
  int rc;

  *out = NULL;
  if ((rc = vc__db_query(&s, db, SQL_BY_ID, "tt", tenant_id, id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    rc = row_from_stmt(out, s);
  else if (rc == VC_STORAGE_DONE)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND, "no API key %s",
                       id);
  vc__stmt_done(s);
  return rc;
}

/* hex(SHA-256(salt || secret)) into hash (65 bytes). */
static int hash_secret(char hash[65], const uint8_t salt[SALT_BYTES],
                       const char *secret, size_t len)
{
  uint8_t in[SALT_BYTES + SECRET_LEN], md[32];
  int rc;

  memcpy(in, salt, SALT_BYTES);
  memcpy(in + SALT_BYTES, secret, len);
  rc = vc__digest(md, VC__MD_SHA256, in, SALT_BYTES + len);
  memset(in, 0, sizeof(in));
  if (rc < 0)
    return rc;
  vc__hex_encode(hash, md, sizeof(md));
  return 0;
}

static int check_label(const char *label)
{
  int rc = vc__check_text("API key label", label, VC_APIKEY_LABEL_MAX, 0);

  for (const char *p = label; rc == 0 && p != NULL && *p != '\0'; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "API key label contains a control character");
  return rc;
}

int vc_apikey_new(vc_apikey **out, char secret[VC_APIKEY_SECRET_SIZE],
                  vc_tenant *t, const vc_apikey_spec *spec)
{
  vc_apikey_spec dflt = VC_APIKEY_SPEC_INIT;
  uint8_t rnd[RANDOM_BYTES], salt[SALT_BYTES];
  char id[VC_ID_SIZE], salt_hex[2 * SALT_BYTES + 1], hash[65];
  char rnd_hex[2 * RANDOM_BYTES + 1], key[SECRET_LEN + 1];
  apikey_row *row = NULL;
  const char *tenant_id;
  vc_ctx *ctx;
  vc__db *db;
  int64_t now;
  int rc;

  if (out != NULL)
    *out = NULL;
  VC_ASSERT_ARG(secret);
  secret[0] = '\0';
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(spec, VC_APIKEY_SPEC_VERSION, "vc_apikey_spec");
  if (spec == NULL)
    spec = &dflt;
  if ((rc = check_label(spec->label)) < 0)
    return rc;
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  now = vc__now(ctx);
  if (spec->expires_at < 0 || (spec->expires_at != 0 &&
                               spec->expires_at <= now))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "API key expiry must be in the future");
  if ((rc = vc__new_id(ctx, id)) < 0)
    return rc;
  if ((rc = vc__random_os(rnd, sizeof(rnd))) < 0 ||
      (rc = vc__random_os(salt, sizeof(salt))) < 0)
    return rc;
  vc__hex_encode(rnd_hex, rnd, sizeof(rnd));
  vc__hex_encode(salt_hex, salt, sizeof(salt));
  snprintf(key, sizeof(key), PREFIX "%s_%s", id, rnd_hex);
  memset(rnd, 0, sizeof(rnd));
  memset(rnd_hex, 0, sizeof(rnd_hex));
  if ((rc = hash_secret(hash, salt, key, SECRET_LEN)) < 0)
    goto wipe;
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    goto wipe;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  rc = vc__db_run(db, SQL_INSERT, "tttttii", tenant_id, id,
                  spec->label ? spec->label : "", salt_hex, hash, now,
                  spec->expires_at);
  if (rc == 0 && vc__db_changes(db) == 0)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "tenant %s was deleted", tenant_id);
  if (rc < 0 ||
      (rc = vc__event_append(db, ctx, tenant_id, "apikey.created", id,
                             NULL)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "apikey.create", id, NULL)) < 0 ||
      (rc = load(&row, db, tenant_id, id)) < 0 ||
      (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    vc__free(row);
    row = NULL;
  }
release:
  vc__db_release(db);
  if (rc == 0) {
    memcpy(secret, key, SECRET_LEN + 1);
    if (out != NULL)
      rc = handle_new(out, row);
    else
      vc__free(row);
  }
wipe:
  memset(key, 0, sizeof(key));
  return rc;
}

/* Malformed and wrong secrets fail alike: nothing says which part. */
static int refused(void)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_EAUTH,
                       "the API key is not valid");
}

int vc_apikey_verify(vc_tenant **out, vc_ctx *ctx, const char *secret)
{
  char id[VC_ID_SIZE], tenant_id[VC_ID_SIZE], hash[65], stored[65];
  uint8_t salt[SALT_BYTES];
  int64_t expires_at = 0;
  int rc, revoked = 0, ok;
  size_t len;
  vc__stmt *s;
  vc__db *db;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(ctx);
  VC_ASSERT_ARG(secret);
  len = strnlen(secret, SECRET_LEN + 1);
  if (len != SECRET_LEN || memcmp(secret, PREFIX, PREFIX_LEN) != 0 ||
      secret[PREFIX_LEN + VC_ID_SIZE - 1] != '_')
    return refused();
  memcpy(id, secret + PREFIX_LEN, VC_ID_SIZE - 1);
  id[VC_ID_SIZE - 1] = '\0';
  if (!vc__ulid_valid(id))
    return refused();
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_VERIFY, "t", id)) < 0) {
    vc__db_release(db);
    return rc;
  }
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    const char *salt_hex = vc__stmt_text(s, 1);

    snprintf(tenant_id, sizeof(tenant_id), "%s", vc__stmt_text(s, 0));
    snprintf(stored, sizeof(stored), "%s", vc__stmt_text(s, 2));
    expires_at = col_time(s, 3);
    revoked = !vc__stmt_is_null(s, 4);
    for (size_t i = 0; i < SALT_BYTES; i++) {
      unsigned int b = 0;

      if (salt_hex == NULL || sscanf(salt_hex + 2 * i, "%2x", &b) != 1)
        b = 0;
      salt[i] = (uint8_t)b;
    }
  }
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE) {
    /* Do the same work as for a known key. */
    memset(salt, 0, sizeof(salt));
    memset(stored, '0', 64);
    stored[64] = '\0';
    revoked = 1;
  } else if (rc != VC_STORAGE_ROW) {
    vc__db_release(db);
    return rc;
  }
  if ((rc = hash_secret(hash, salt, secret, SECRET_LEN)) < 0) {
    vc__db_release(db);
    return rc;
  }
  ok = vc__ct_equal(hash, stored, 64) && !revoked &&
       (expires_at == 0 || vc__now(ctx) < expires_at);
  if (!ok) {
    vc__db_release(db);
    return refused();
  }
  rc = vc__tenant_load(out, ctx, db, tenant_id);
  vc__db_release(db);
  return rc == VC_ENOTFOUND ? refused() : rc;
}

static int check_id(const char *id)
{
  if (id == NULL || !vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "API key id is not an id");
  return 0;
}

int vc_apikey_lookup(vc_apikey **out, vc_tenant *t, const char *id)
{
  apikey_row *row = NULL;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if ((rc = check_id(id)) < 0)
    return rc;
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    return rc;
  rc = load(&row, db, vc_tenant_id(t), id);
  vc__db_release(db);
  return rc < 0 ? rc : handle_new(out, row);
}

int vc_apikey_revoke(vc_tenant *t, const char *id)
{
  apikey_row *row = NULL;
  const char *tenant_id;
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(t);
  if ((rc = check_id(id)) < 0)
    return rc;
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = load(&row, db, tenant_id, id)) < 0)
    goto fail;
  if (row->revoked_at != 0) {
    rc = 0;      /* already revoked: nothing to change */
    goto fail;
  }
  if ((rc = vc__db_run(db, SQL_REVOKE, "tti", tenant_id, id,
                       vc__now(ctx))) < 0 ||
      (rc = vc__event_append(db, ctx, tenant_id, "apikey.revoked", id,
                             NULL)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "apikey.revoke", id, NULL)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  goto release;
fail:
  vc__db_rollback(db);
release:
  vc__db_release(db);
  vc__free(row);
  return rc;
}

/* ---- vc_apikey_list ------------------------------------------------------ */

typedef struct apikey_iter {
  vc__page_iter page;
  char tenant_id[VC_ID_SIZE];
  int include_revoked;
} apikey_iter;

static int page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const apikey_iter *it = (const apikey_iter *)p;

  return vc__db_query(out, db, SQL_PAGE, "tti", it->tenant_id,
                      p->base.cursor, (int64_t)it->include_revoked);
}

static int page_row(void **out, vc__stmt *s)
{
  return row_from_stmt((apikey_row **)out, s);
}

static void page_row_free(void *row)
{
  vc__free(row);
}

static const char *page_row_key(const void *row)
{
  return ((const apikey_row *)row)->id;
}

static const vc__page_ops APIKEY_PAGES = {
  { "apikey", vc__page_iter_free }, page_query, page_row, page_row_free,
  page_row_key
};

int vc_apikey_list(vc_iter **out, vc_tenant *t, const vc_apikey_filter *f)
{
  vc__page_iter *page;
  apikey_iter *it;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_APIKEY_FILTER_VERSION, "vc_apikey_filter");
  if ((rc = vc__page_iter_new(&page, sizeof(*it), &APIKEY_PAGES,
                              vc__tenant_ctx(t)->store,
                              f != NULL ? f->after : NULL, "an id")) < 0)
    return rc;
  it = (apikey_iter *)page;
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  it->include_revoked = f != NULL && f->include_revoked;
  *out = &it->page.base;
  return 0;
}

int vc_apikey_next(vc_apikey **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &APIKEY_PAGES)) < 0)
    return rc;
  return handle_new(out, row);
}

void vc_apikey_free(vc_apikey *k)
{
  vc__free(k);
}

const char *vc_apikey_id(const vc_apikey *k)
{
  return k ? k->row.id : NULL;
}

const char *vc_apikey_tenant_id(const vc_apikey *k)
{
  return k ? k->row.tenant_id : NULL;
}

const char *vc_apikey_label(const vc_apikey *k)
{
  return k ? k->row.label : NULL;
}

int64_t vc_apikey_created_at(const vc_apikey *k)
{
  return k ? k->row.created_at : 0;
}

int64_t vc_apikey_expires_at(const vc_apikey *k)
{
  return k ? k->row.expires_at : 0;
}

int64_t vc_apikey_revoked_at(const vc_apikey *k)
{
  return k ? k->row.revoked_at : 0;
}
