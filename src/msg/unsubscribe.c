/*
 * Unsubscribe links. See unsubscribe.h and vyomcomm/unsubscribe.h.
 *
 * A token is 75 bytes in base64url (100 characters):
 *
 *   1        format (1)
 *   4        key version, big-endian: the master key it was made under
 *   1        channel kind
 *   1        category
 *   26       tenant id
 *   26       contact id
 *   16       HMAC-SHA256 of the 59 bytes before, truncated
 *
 * The HMAC key is derived from the master key for this one purpose
 * (HMAC-SHA256 of a label under it), so a token proves nothing else and
 * the master key never signs outside data. Tokens do not expire: links
 * in old mail must keep working. A master key rotation does end them
 * (the old key is gone); mail sent after it carries new ones.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/ctx.h"
#include "core/keyring.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "consent.h"
#include "contact.h"
#include "unsubscribe.h"

#include <stdio.h>

#define FORMAT 1
#define BODY_LEN 59
#define MAC_LEN 16
#define RAW_LEN (BODY_LEN + MAC_LEN)
#define PATH "/unsubscribe/"

/* vc_consent's "opted out" (consent's header pins the value). */
#define STATE_OPTED_OUT 2

static const char LABEL[] = "vyomcomm unsubscribe link v1";

typedef struct token {
  uint32_t key_version;
  int kind, category;
  char tenant_id[VC_ID_SIZE];
  char contact_id[VC_ID_SIZE];
} token;

/* The purpose key of the current master key; the keyring's read lock is
 * held. VC_EKEY when there is no master key. */
static int purpose_key(uint8_t out[32], vc__keyring *kr)
{
  if (!kr->has_key)
    return vc__error_set(VC_ERRCLASS_CRYPTO, VC_EKEY,
                         "no master key: unsubscribe links need one");
  return vc__hmac(out, VC__MD_SHA256, kr->key, sizeof(kr->key), LABEL,
                  sizeof(LABEL) - 1);
}

static void body_of(uint8_t b[BODY_LEN], const token *t)
{
  b[0] = FORMAT;
  b[1] = (uint8_t)(t->key_version >> 24);
  b[2] = (uint8_t)(t->key_version >> 16);
  b[3] = (uint8_t)(t->key_version >> 8);
  b[4] = (uint8_t)t->key_version;
  b[5] = (uint8_t)t->kind;
  b[6] = (uint8_t)t->category;
  memcpy(b + 7, t->tenant_id, 26);
  memcpy(b + 33, t->contact_id, 26);
}

/* Write the token's 100 characters and a NUL into out. */
static int encode(char out[VC_UNSUBSCRIBE_TOKEN_LEN + 1], vc_ctx *ctx,
                  const token *t0)
{
  uint8_t raw[RAW_LEN], key[32], mac[32];
  vc_buf b64 = VC_BUF_INIT;
  token t = *t0;
  int rc;

  vc__keyring_rdlock(&ctx->keys);
  t.key_version = ctx->keys.version;
  rc = purpose_key(key, &ctx->keys);
  vc__keyring_unlock(&ctx->keys);
  if (rc < 0)
    return rc;
  body_of(raw, &t);
  if ((rc = vc__hmac(mac, VC__MD_SHA256, key, sizeof(key), raw,
                     BODY_LEN)) == 0) {
    memcpy(raw + BODY_LEN, mac, MAC_LEN);
    rc = vc__base64_encode(&b64, raw, RAW_LEN);
  }
  vc__wipe(key, sizeof(key));
  if (rc < 0) {
    vc_buf_dispose(&b64);
    return rc;
  }
  /* 75 bytes: 100 characters, no padding. To the URL alphabet. */
  for (size_t i = 0; i < VC_UNSUBSCRIBE_TOKEN_LEN; i++)
    out[i] = b64.ptr[i] == '+' ? '-' : b64.ptr[i] == '/' ? '_' : b64.ptr[i];
  out[VC_UNSUBSCRIBE_TOKEN_LEN] = '\0';
  vc_buf_dispose(&b64);
  return 0;
}

/* Links opt out of messages: email, SMS, chat. */
static int kind_ok(int kind)
{
  return kind >= VC_CHANNEL_EMAIL && kind <= VC_CHANNEL_CHAT;
}

static int refused(const char *why)
{
  return vc__error_set(VC_ERRCLASS_CRYPTO, VC_EAUTH,
                       "unsubscribe token refused: %s", why);
}

/* Check a token's shape and signature (in constant time) and read it.
 * VC_EAUTH for anything but a token this store's current key made. */
static int decode(token *t, vc_ctx *ctx, const char *text, size_t len)
{
  uint8_t key[32], mac[32];
  char std[VC_UNSUBSCRIBE_TOKEN_LEN];
  vc_buf raw = VC_BUF_INIT;
  const uint8_t *b;
  int rc;

  if (len != VC_UNSUBSCRIBE_TOKEN_LEN)
    return refused("wrong length");
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    if (!vc__is_alnum(c) && c != '-' && c != '_')
      return refused("not base64url");
    std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  if (vc__base64_decode(&raw, std, sizeof(std)) < 0 ||
      raw.size != RAW_LEN) {
    vc_buf_dispose(&raw);
    return refused("not base64url");
  }
  b = (const uint8_t *)raw.ptr;
  vc__keyring_rdlock(&ctx->keys);
  t->key_version = ctx->keys.version;
  rc = purpose_key(key, &ctx->keys);
  vc__keyring_unlock(&ctx->keys);
  if (rc == 0)
    rc = vc__hmac(mac, VC__MD_SHA256, key, sizeof(key), b, BODY_LEN);
  vc__wipe(key, sizeof(key));
  if (rc < 0)
    goto out;
  /* Every check runs; one answer, so a failure tells nothing of which. */
  {
    uint32_t kv = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 |
                  (uint32_t)b[3] << 8 | b[4];
    int ok = vc__ct_equal(mac, b + BODY_LEN, MAC_LEN);
    ok &= b[0] == FORMAT;
    ok &= kv == t->key_version;
    t->kind = b[5];
    t->category = b[6];
    memcpy(t->tenant_id, b + 7, 26);
    t->tenant_id[26] = '\0';
    memcpy(t->contact_id, b + 33, 26);
    t->contact_id[26] = '\0';
    ok &= vc__ulid_valid(t->tenant_id) && vc__ulid_valid(t->contact_id);
    ok &= kind_ok(t->kind) && vc_category_name(t->category) != NULL;
    rc = ok ? 0 : refused("bad signature or contents");
  }
out:
  vc_buf_dispose(&raw);
  return rc;
}

/* ---- the header ---------------------------------------------------------- */

void vc__unsubscribe_header(char out[VC__UNSUBSCRIBE_HEADER_MAX],
                            vc_ctx *ctx, const char *tenant_id,
                            const char *contact_id, int kind, int category)
{
  char text[VC_UNSUBSCRIBE_TOKEN_LEN + 1];
  token t;
  int n;

  out[0] = '\0';
  /* Marketing only: an opt-out of receipts or one-time passwords is not
   * what the link would offer. */
  if (kind != VC_CHANNEL_EMAIL || category != VC_CATEGORY_MARKETING ||
      ctx->public_base_url == NULL || contact_id == NULL ||
      !vc__ulid_valid(contact_id) || !vc__ulid_valid(tenant_id))
    return;
  memset(&t, 0, sizeof(t));
  t.kind = kind;
  t.category = category;
  memcpy(t.tenant_id, tenant_id, VC_ID_SIZE);
  memcpy(t.contact_id, contact_id, VC_ID_SIZE);
  if (encode(text, ctx, &t) < 0)
    return;
  n = snprintf(out, VC__UNSUBSCRIBE_HEADER_MAX, "<%s" PATH "%s>",
               ctx->public_base_url, text);
  if (n < 0 || n >= VC__UNSUBSCRIBE_HEADER_MAX)
    out[0] = '\0';
}

/* ---- the API ------------------------------------------------------------- */

int vc_unsubscribe_url(vc_buf *out, vc_tenant *tn, const char *contact_id,
                       int kind, int category)
{
  char text[VC_UNSUBSCRIBE_TOKEN_LEN + 1];
  vc_ctx *ctx;
  token t;
  int rc;

  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(tn);
  if (contact_id == NULL || !vc__ulid_valid(contact_id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "contact id is not an id");
  if (!kind_ok(kind) || vc_category_name(category) == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown channel kind %d or category %d", kind,
                         category);
  ctx = vc__tenant_ctx(tn);
  if (ctx->public_base_url == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ESTATE,
                         "public_base_url is not set: no link to give");
  memset(&t, 0, sizeof(t));
  t.kind = kind;
  t.category = category;
  snprintf(t.tenant_id, sizeof(t.tenant_id), "%s", vc_tenant_id(tn));
  memcpy(t.contact_id, contact_id, VC_ID_SIZE);
  if ((rc = encode(text, ctx, &t)) < 0)
    return rc;
  out->size = 0;
  return vc__buf_printf(out, "%s" PATH "%s", ctx->public_base_url, text);
}

static const char SQL_TENANT_LIVE[] =
  "SELECT 1 FROM vc_tenant WHERE id = ?1 AND deleted_at IS NULL";

/* Record the opt-out on `db` in a transaction; `actor` for the audit. */
static int apply(vc_ctx *ctx, const token *t, const char *actor)
{
  char contact[VC_ID_SIZE], summary[96];
  vc__stmt *s;
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__db_query(&s, db, SQL_TENANT_LIVE, "t", t->tenant_id)) < 0)
    goto fail;
  rc = vc__stmt_step(s);
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    rc = refused("its tenant is gone");
  if (rc < 0)
    goto fail;
  /* A merged contact's opt-out goes to the survivor. One that is gone
   * (erased) gets no more mail: nothing to record, and the link still
   * answers that it worked. */
  rc = vc__contact_resolve(contact, db, t->tenant_id, t->contact_id);
  if (rc == VC_ENOTFOUND) {
    vc__db_rollback(db);
    vc__db_release(db);
    vc_error_clear();
    return 0;
  }
  snprintf(summary, sizeof(summary),
           "{\"kind\":\"%s\",\"category\":\"%s\"}",
           vc_channel_kind_name(t->kind), vc_category_name(t->category));
  if (rc < 0 ||
      (rc = vc__consent_record(db, ctx, t->tenant_id, contact, t->kind,
                               t->category, STATE_OPTED_OUT, "unsubscribe",
                               "one-click unsubscribe link")) < 0 ||
      (rc = vc__audit_as(db, ctx, t->tenant_id, actor,
                         "consent.unsubscribe", contact, summary)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  vc__db_release(db);
  vc_ctx_wakeup(ctx);
  VC_LOG(ctx, VC_LOG_INFO, "tenant %s: contact %s unsubscribed (%s %s)",
         t->tenant_id, contact, vc_channel_kind_name(t->kind),
         vc_category_name(t->category));
  return 0;
fail:
  vc__db_rollback(db);
release:
  vc__db_release(db);
  return rc;
}

int vc_unsubscribe_apply(vc_ctx *ctx, const char *text)
{
  token t;
  int rc;

  VC_ASSERT_ARG(ctx);
  if (text == NULL)
    return refused("no token");
  if ((rc = decode(&t, ctx, text, strnlen(text, 256))) < 0)
    return rc;
  return apply(ctx, &t, vc_audit_actor());
}

/* ---- the route ------------------------------------------------------------ */

static const char PAGE[] =
  "<!doctype html><meta charset=\"utf-8\"><title>Unsubscribe</title>"
  "<p>Unsubscribe from these messages?</p>"
  "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\""
  " value=\"One-Click\"><button type=\"submit\">Unsubscribe</button>"
  "</form>\n";

static int answer(vc_http_response *out, int status, const char *type,
                  const char *body)
{
  out->status = status;
  out->content_type = type;
  if (vc__buf_puts(&out->body, body) < 0)
    return vc_error_set_oom();
  return 0;
}

int vc__unsubscribe_route(vc_http_response *out, vc_ctx *ctx,
                          const vc_http_request *req)
{
  const char *p, *end;
  token t;
  int rc;

  if (strncmp(req->target, PATH, sizeof(PATH) - 1) != 0)
    return VC__NOT_UNSUBSCRIBE;
  p = req->target + sizeof(PATH) - 1;
  end = p + strcspn(p, "?#");
  if ((rc = decode(&t, ctx, p, (size_t)(end - p))) < 0) {
    answer(out, rc == VC_EAUTH ? 404 : 500, "text/plain",
           rc == VC_EAUTH ? "This unsubscribe link is not valid.\n"
                          : "Please try again later.\n");
    return rc;
  }
  /* GET changes nothing: scanners and previews follow links. */
  if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) {
    return answer(out, 200, "text/html; charset=utf-8", PAGE);
  }
  if (strcmp(req->method, "POST") != 0) {
    answer(out, 405, "text/plain", "Method not allowed.\n");
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unsubscribe takes GET or POST, not %.16s",
                         req->method);
  }
  /* RFC 8058: the body is "List-Unsubscribe=One-Click" (the confirmation
   * page's form posts the same). */
  if (req->body_len < sizeof(VC_UNSUBSCRIBE_ONE_CLICK) - 1 ||
      memmem(req->body, req->body_len, VC_UNSUBSCRIBE_ONE_CLICK,
             sizeof(VC_UNSUBSCRIBE_ONE_CLICK) - 1) == NULL) {
    answer(out, 400, "text/plain",
           "Expected List-Unsubscribe=One-Click.\n");
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unsubscribe POST without List-Unsubscribe="
                         "One-Click");
  }
  /* The recipient acts here, not a user of the host. */
  if ((rc = apply(ctx, &t, VC_AUDIT_ACTOR_SYSTEM)) < 0) {
    answer(out, 500, "text/plain", "Please try again later.\n");
    return rc;
  }
  return answer(out, 200, "text/plain", "You are unsubscribed.\n");
}
