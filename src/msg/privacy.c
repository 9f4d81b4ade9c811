/*
 * Privacy: a contact's export, its erasure, the record of erasures, and
 * the keyed address hashes that keep an erased contact's opt-outs and
 * do-not-call entries working (privacy.h, vyomcomm/privacy.h).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/audit.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/random.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "call/recording.h"
#include "vyomcomm/audit.h"
#include "vyomcomm/channel.h"
#include "vyomcomm/message.h"
#include "contact.h"
#include "message.h"
#include "msg_hooks.h"
#include "privacy.h"

#include <pthread.h>
#include <stdio.h>

#define KEY_SIZE 32
#define HASH_HEX 65

/* ---- SQL ---------------------------------------------------------------- */

/* A contact (?2, the survivor) and the contacts merged into it: rows
 * elsewhere keep the id they were given (src/msg/contact.h). */
#define IDS_OF \
  " (SELECT ?2 UNION ALL SELECT id FROM vc_contact" \
  "  WHERE tenant_id = ?1 AND merged_into = ?2)"
/* The contact's addresses as a provider may spell a sender: as stored,
 * a phone number without its '+' (WhatsApp), a WhatsApp id with one. */
#define ADDRS_OF \
  " (SELECT address FROM vc_contact_address WHERE tenant_id = ?1" \
  "  AND contact_id IN" IDS_OF \
  "  UNION ALL SELECT substr(address, 2) FROM vc_contact_address" \
  "  WHERE tenant_id = ?1 AND addr_kind = 1 AND contact_id IN" IDS_OF \
  "  UNION ALL SELECT '+' || address FROM vc_contact_address" \
  "  WHERE tenant_id = ?1 AND addr_kind = 4 AND contact_id IN" IDS_OF ")"
/* Inbound messages from the contact: by address until the inbox's
 * contact_id column exists, then by either. */
#define INBOUND_BY_ADDR " from_addr IN" ADDRS_OF
#define INBOUND_BY_BOTH \
  " (from_addr IN" ADDRS_OF " OR contact_id IN" IDS_OF ")"

static const char SQL_HAS_INBOUND_CONTACT[] =
  "SELECT contact_id FROM vc_inbound_message WHERE 1 = 0";
static const char SQL_CONTACT[] =
  "SELECT COALESCE(merged_into, ''), erased_at FROM vc_contact"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_LAST_ERASURE[] =
  "SELECT id FROM vc_erasure WHERE tenant_id = ?1 AND survivor_id = ?2"
  " ORDER BY id DESC LIMIT 1";
static const char SQL_ADDRS[] =
  "SELECT addr_kind, address FROM vc_contact_address WHERE tenant_id = ?1"
  " AND contact_id IN" IDS_OF " ORDER BY addr_kind, address";
static const char SQL_OPTED_OUT[] =
  "SELECT DISTINCT channel_kind, category FROM vc_consent"
  " WHERE tenant_id = ?1 AND state = 2 AND contact_id IN" IDS_OF;
static const char SQL_DNC_DEL[] =
  "DELETE FROM vc_dnc WHERE tenant_id = ?1 AND number = ?2";
static const char SQL_KEY_GET[] =
  "SELECT value FROM vc_privacy_key WHERE tenant_id = ?1 AND id = ?1";
static const char SQL_KEY_ADD[] =
  "INSERT INTO vc_privacy_key (tenant_id, id, value, key_version,"
  " created_at) VALUES (?1, ?1, ?2, ?3, ?4)";
static const char SQL_SUPPRESS_ADD[] =
  "INSERT INTO vc_privacy_suppress (tenant_id, addr_hash, channel_kind,"
  " category, created_at) VALUES (?1, ?2, ?3, ?4, ?5)"
  " ON CONFLICT (tenant_id, addr_hash, channel_kind, category) DO NOTHING";
static const char SQL_SUPPRESS_HAS[] =
  "SELECT category FROM vc_privacy_suppress WHERE tenant_id = ?1"
  " AND addr_hash = ?2 AND channel_kind = ?3 AND category IN (?4, ?5)";
static const char SQL_SUPPRESS_DNC_DEL[] =
  "DELETE FROM vc_privacy_suppress WHERE tenant_id = ?1 AND addr_hash = ?2"
  " AND channel_kind = 4 AND category = 0";

/* The erasure, in order. */
static const char SQL_QUEUED[] =
  "SELECT id FROM vc_message WHERE tenant_id = ?1 AND status = 1"
  " AND contact_id IN" IDS_OF " LIMIT 100";
static const char SQL_CANCEL_JOBS[] =
  "DELETE FROM vc_job WHERE tenant_id = ?1 AND subject_id = ?2"
  " AND kind = 'message.send'";
static const char SQL_ERASE_INBOUND_ADDR[] =
  "UPDATE vc_inbound_message SET from_addr = '', text_body = NULL,"
  " media = '[]' WHERE tenant_id = ?1 AND" INBOUND_BY_ADDR;
static const char SQL_ERASE_INBOUND_BOTH[] =
  "UPDATE vc_inbound_message SET from_addr = '', text_body = NULL,"
  " media = '[]' WHERE tenant_id = ?1 AND" INBOUND_BY_BOTH;
static const char SQL_ERASE_CONTACTS[] =
  "UPDATE vc_contact SET name = NULL, timezone = NULL, locale = NULL,"
  " quiet_start_min = NULL, quiet_end_min = NULL, fields = '{}',"
  " erased_at = ?3, updated_at = ?3"
  " WHERE tenant_id = ?1 AND (id = ?2 OR merged_into = ?2)";
static const char SQL_ERASE_ADDRS[] =
  "DELETE FROM vc_contact_address WHERE tenant_id = ?1"
  " AND contact_id IN" IDS_OF;
static const char SQL_ERASE_TAGS[] =
  "DELETE FROM vc_contact_tag WHERE tenant_id = ?1 AND contact_id IN" IDS_OF;
static const char SQL_ERASE_PROOFS[] =
  "UPDATE vc_consent_log SET proof = NULL WHERE tenant_id = ?1"
  " AND proof IS NOT NULL AND contact_id IN" IDS_OF;
static const char SQL_ERASE_ATTACHMENTS[] =
  "DELETE FROM vc_message_attachment WHERE tenant_id = ?1 AND message_id IN"
  " (SELECT id FROM vc_message WHERE tenant_id = ?1 AND contact_id IN"
  IDS_OF ")";
static const char SQL_ERASE_MESSAGES[] =
  "UPDATE vc_message SET to_addr = '', from_addr = NULL, subject = NULL,"
  " text_body = NULL, html_body = NULL, metadata = NULL,"
  " error_message = NULL, content_hash = '', attachments = 0,"
  " updated_at = ?3 WHERE tenant_id = ?1 AND contact_id IN" IDS_OF;
static const char SQL_ERASE_CALL_ENTRIES[] =
  "UPDATE vc_call_event SET detail = '{}' WHERE tenant_id = ?1"
  " AND type IN ('dtmf', 'transfer') AND call_id IN (SELECT id FROM vc_call"
  " WHERE tenant_id = ?1 AND contact_id IN" IDS_OF ")";
static const char SQL_ERASE_CALL_CONTROLS[] =
  "UPDATE vc_call_control SET arg = NULL WHERE tenant_id = ?1 AND op = 4"
  " AND call_id IN (SELECT id FROM vc_call WHERE tenant_id = ?1"
  " AND contact_id IN" IDS_OF ")";
static const char SQL_ERASE_CALLS[] =
  "UPDATE vc_call SET customer_number = '', metadata = NULL,"
  " error_message = NULL, content_hash = '', updated_at = ?3"
  " WHERE tenant_id = ?1 AND contact_id IN" IDS_OF;
static const char SQL_ERASE_RECIPIENTS[] =
  "UPDATE vc_campaign_recipient SET vars = NULL WHERE tenant_id = ?1"
  " AND vars IS NOT NULL AND contact_id IN" IDS_OF;
static const char SQL_ERASURE_ADD[] =
  "INSERT INTO vc_erasure (tenant_id, id, contact_id, survivor_id, actor,"
  " reason, contacts, addresses, messages, inbound, calls, recordings,"
  " consent_log, campaign_recipients, suppressions, created_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
  " ?15, ?16)";

/* ---- helpers ------------------------------------------------------------ */

static int check_contact_id(const char *id)
{
  if (id == NULL || !vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "contact id is not a valid id");
  return 0;
}

/* The contact a caller named: its survivor in `survivor` and whether it
 * is erased. VC_ENOTFOUND when the tenant has no such contact. */
static int contact_of(char survivor[VC_ID_SIZE], int64_t *erased_at,
                      vc__db *db, const char *tenant_id, const char *id)
{
  vc__stmt *s;
  int rc;

  snprintf(survivor, VC_ID_SIZE, "%s", id);
  for (int hop = 0; hop < 2; hop++) {
    if ((rc = vc__db_query(&s, db, SQL_CONTACT, "tt", tenant_id,
                           survivor)) < 0)
      return rc;
    if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
      const char *into = vc__stmt_text(s, 0);
      *erased_at = vc__stmt_is_null(s, 1) ? 0 : vc__stmt_int64(s, 1);
      if (into[0] == '\0') {
        vc__stmt_done(s);
        return 0;
      }
      /* merged_into always names a live survivor: one hop. */
      snprintf(survivor, VC_ID_SIZE, "%s", into);
    }
    vc__stmt_done(s);
    if (rc < 0)
      return rc;
    if (rc == VC_STORAGE_DONE)
      break;
  }
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "contact %s not found", id);
}

/* Whether vc_inbound_message has the inbox's contact_id column (schema
 * 18). Asked before the transaction: a failed prepare is harmless. */
static int inbound_has_contact(vc__db *db)
{
  vc__stmt *s;

  if (vc__db_prepare(&s, db, SQL_HAS_INBOUND_CONTACT) < 0) {
    vc_error_clear();
    return 0;
  }
  vc__stmt_done(s);
  return 1;
}

/* ---- keyed address hashes ---------------------------------------------- */

/* The tenant's hash key with the keyring's read lock held: 1 and the
 * key, 0 when the tenant has none yet. */
static int key_get(uint8_t key[KEY_SIZE], vc__db *db, vc_ctx *ctx,
                   const char *tenant_id)
{
  vc__seal_site at = { tenant_id, "vc_privacy_key", "value", tenant_id };
  vc_buf pt = VC_BUF_INIT;
  const void *blob;
  size_t n;
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_KEY_GET, "t", tenant_id)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) != VC_STORAGE_ROW) {
    vc__stmt_done(s);
    return rc == VC_STORAGE_DONE ? 0 : rc;
  }
  blob = vc__stmt_blob(s, 0, &n);
  rc = vc__keyring_open(&ctx->keys, &pt, &at, blob, n);
  vc__stmt_done(s);
  if (rc == 0 && pt.size != KEY_SIZE)
    rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_ECRYPTO,
                       "the tenant's address-hash key is damaged");
  if (rc == 0)
    memcpy(key, pt.ptr, KEY_SIZE);
  vc__buf_wipe(&pt);
  return rc < 0 ? rc : 1;
}

/* The key, made (random, sealed under the master key) on first use. */
static int key_ensure(uint8_t key[KEY_SIZE], vc__db *db, vc_ctx *ctx,
                      const char *tenant_id)
{
  vc__seal_site at = { tenant_id, "vc_privacy_key", "value", tenant_id };
  vc_buf blob = VC_BUF_INIT;
  int rc;

  if ((rc = key_get(key, db, ctx, tenant_id)) != 0)
    return rc < 0 ? rc : 0;
  if (!ctx->keys.has_key)
    return vc__error_set(VC_ERRCLASS_CRYPTO, VC_EKEY,
                         "no master key: the opt-outs of an erased contact "
                         "are kept as keyed hashes, which need one");
  if ((rc = vc__random_os(key, KEY_SIZE)) < 0 ||
      (rc = vc__keyring_seal(&ctx->keys, &blob, &at, key, KEY_SIZE)) < 0)
    return rc;
  rc = vc__db_run(db, SQL_KEY_ADD, "tbii", tenant_id, blob.ptr, blob.size,
                  (int64_t)ctx->keys.version, vc__now(ctx));
  vc_buf_dispose(&blob);
  return rc;
}

static int addr_hash(char out[HASH_HEX], const uint8_t key[KEY_SIZE],
                     const char *addr)
{
  uint8_t mac[32];
  int rc;

  if ((rc = vc__hmac(mac, VC__MD_SHA256, key, KEY_SIZE, addr,
                     strlen(addr))) < 0)
    return rc;
  vc__hex_encode(out, mac, sizeof(mac));
  return 0;
}

/* The hash of `addr` under the tenant's key: 1, or 0 when the tenant has
 * no key. The consent check runs holding a store connection, and the
 * lock order puts the keyring first: only try its read lock, and call a
 * rotation in progress busy (the send is retried). */
static int hash_for(char out[HASH_HEX], vc__db *db, vc_ctx *ctx,
                    const char *tenant_id, const char *addr)
{
  uint8_t key[KEY_SIZE];
  int rc;

  if (pthread_rwlock_tryrdlock(&ctx->keys.lock) != 0)
    return vc__error_set(VC_ERRCLASS_CRYPTO, VC_EBUSY,
                         "the master key is being rotated; try again");
  rc = key_get(key, db, ctx, tenant_id);
  vc__keyring_unlock(&ctx->keys);
  if (rc == 1) {
    rc = addr_hash(out, key, addr);
    rc = rc < 0 ? rc : 1;
  }
  vc__wipe(key, sizeof(key));
  return rc;
}

int vc__privacy_suppressed(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                           int kind, int dnc, int category, const char *to)
{
  char h[HASH_HEX];
  vc__stmt *s;
  int rc, mask = 0;

  if (to == NULL || to[0] == '\0' || (!dnc && category == 0))
    return 0;
  if ((rc = hash_for(h, db, ctx, tenant_id, to)) <= 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_SUPPRESS_HAS, "ttiii", tenant_id, h,
                         (int64_t)kind, (int64_t)(dnc ? 0 : -1),
                         (int64_t)(category ? category : -1))) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    mask |= vc__stmt_int64(s, 0) == 0 ? VC__SUPPRESS_DNC
                                       : VC__SUPPRESS_OPT_OUT;
  vc__stmt_done(s);
  return rc < 0 ? rc : mask;
}

int vc__privacy_dnc_forget(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                           const char *number)
{
  char h[HASH_HEX];
  int rc;

  if ((rc = hash_for(h, db, ctx, tenant_id, number)) <= 0)
    return rc;
  if ((rc = vc__db_run(db, SQL_SUPPRESS_DNC_DEL, "tt", tenant_id, h)) < 0)
    return rc;
  return vc__db_changes(db) > 0;
}

/* ---- erasure ------------------------------------------------------------ */

typedef struct addr {
  int kind;
  char *address;
} addr;

typedef struct erase_run {
  vc__db *db;
  vc_ctx *ctx;
  const char *tenant_id;
  const char *survivor;
  int64_t now;
  addr *addrs;
  size_t naddrs;
  int refused[5][3];    /* [channel kind][category]: opted out */
  int64_t contacts, addresses, messages, inbound, calls, recordings;
  int64_t consent_log, recipients, suppressions;
} erase_run;

static void addrs_free(erase_run *r)
{
  for (size_t i = 0; i < r->naddrs; i++)
    vc__free(r->addrs[i].address);
  vc__free(r->addrs);
}

/* Read what the erasure must remember before it removes it: the
 * addresses and the opt-outs. */
static int erase_read(erase_run *r)
{
  size_t cap = 0;
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, r->db, SQL_ADDRS, "tt", r->tenant_id,
                         r->survivor)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    if (r->naddrs == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      addr *n = vc__realloc(r->addrs, ncap * sizeof(*n));
      if (n == NULL) {
        rc = vc_error_set_oom();
        break;
      }
      r->addrs = n;
      cap = ncap;
    }
    r->addrs[r->naddrs].kind = (int)vc__stmt_int64(s, 0);
    if ((r->addrs[r->naddrs].address =
           vc__strdup(vc__stmt_text(s, 1))) == NULL) {
      rc = vc_error_set_oom();
      break;
    }
    r->naddrs++;
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if ((rc = vc__db_query(&s, r->db, SQL_OPTED_OUT, "tt", r->tenant_id,
                         r->survivor)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    int64_t k = vc__stmt_int64(s, 0), c = vc__stmt_int64(s, 1);
    if (k >= 1 && k <= 4 && c >= 1 && c <= 2)
      r->refused[k][c] = 1;
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

static int suppress_add(erase_run *r, const uint8_t key[KEY_SIZE],
                        const char *address, int kind, int category)
{
  char h[HASH_HEX];
  int rc;

  if ((rc = addr_hash(h, key, address)) < 0 ||
      (rc = vc__db_run(r->db, SQL_SUPPRESS_ADD, "ttiii", r->tenant_id, h,
                       (int64_t)kind, (int64_t)category, r->now)) < 0)
    return rc;
  r->suppressions += vc__db_changes(r->db);
  return 0;
}

/* Keep what the contact refused as hashes of its addresses: each
 * opt-out under every address (a send's recipient is hashed as it is
 * normalized for its kind, and a contact's address of each kind is
 * stored that way), and its numbers' do-not-call entries, which leave
 * the plain list. */
static int erase_suppress(erase_run *r)
{
  uint8_t key[KEY_SIZE];
  char number[VC__CONTACT_ADDR_MAX + 2];
  int any = 0, have_key = 0, rc = 0;

  for (int k = 1; k <= 4; k++)
    for (int c = 1; c <= 2; c++)
      any |= r->refused[k][c];
  for (size_t i = 0; rc == 0 && i < r->naddrs; i++) {
    const addr *a = &r->addrs[i];
    int dnc;
    if (a->kind != 1 && a->kind != 4)
      continue;
    snprintf(number, sizeof(number), "%s%s", a->kind == 4 ? "+" : "",
             a->address);
    if ((rc = vc__db_run(r->db, SQL_DNC_DEL, "tt", r->tenant_id,
                         number)) < 0)
      break;
    if ((dnc = vc__db_changes(r->db) > 0) == 0)
      continue;
    if (!have_key && (rc = key_ensure(key, r->db, r->ctx, r->tenant_id)) < 0)
      break;
    have_key = 1;
    rc = suppress_add(r, key, number, VC_CHANNEL_VOICE, 0);
  }
  if (rc < 0 || !any || r->naddrs == 0)
    goto out;
  if (!have_key && (rc = key_ensure(key, r->db, r->ctx, r->tenant_id)) < 0)
    goto out;
  have_key = 1;
  for (size_t i = 0; rc == 0 && i < r->naddrs; i++)
    for (int k = 1; rc == 0 && k <= 4; k++)
      for (int c = 1; rc == 0 && c <= 2; c++)
        if (r->refused[k][c])
          rc = suppress_add(r, key, r->addrs[i].address, k, c);
out:
  vc__wipe(key, sizeof(key));
  return rc;
}

/* Cancel the contact's queued messages, as vc_message_cancel would
 * (counters and hooks move). */
static int erase_cancel_queued(erase_run *r)
{
  vc__msg_status_change c = { VC_MSG_CANCELED, NULL, NULL, VC_ECANCELED,
                              NULL, NULL };
  char ids[100][VC_ID_SIZE];
  size_t n;
  vc__stmt *s;
  int rc, changed;

  do {
    n = 0;
    if ((rc = vc__db_query(&s, r->db, SQL_QUEUED, "tt", r->tenant_id,
                           r->survivor)) < 0)
      return rc;
    while (n < 100 && (rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
      snprintf(ids[n++], VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
    vc__stmt_done(s);
    if (rc < 0)
      return rc;
    for (size_t i = 0; i < n; i++) {
      changed = 0;
      if ((rc = vc__msg_set_status(r->db, r->ctx, r->tenant_id, ids[i], &c,
                                   &changed)) < 0 ||
          (rc = vc__db_run(r->db, SQL_CANCEL_JOBS, "tt", r->tenant_id,
                           ids[i])) < 0)
        return rc;
      if (!changed)
        return vc__error_set(VC_ERRCLASS_STORAGE, VC_ESTORAGE,
                             "message %s could not be canceled", ids[i]);
    }
  } while (n == 100);
  return 0;
}

/* Run `sql` (?1 tenant, ?2 survivor, ?3 now when `with_now`), adding
 * the rows it changed to *count. */
static int erase_step(erase_run *r, const char *sql, int with_now,
                      int64_t *count)
{
  int rc = with_now
             ? vc__db_run(r->db, sql, "tti", r->tenant_id, r->survivor,
                          r->now)
             : vc__db_run(r->db, sql, "tt", r->tenant_id, r->survivor);

  if (rc == 0 && count != NULL)
    *count += vc__db_changes(r->db);
  return rc;
}

static int erase_all(erase_run *r, int inbound_by_contact)
{
  int64_t ignored = 0;
  int rc;

  if ((rc = erase_read(r)) < 0 ||
      (rc = erase_suppress(r)) < 0 ||
      (rc = erase_cancel_queued(r)) < 0 ||
      /* Inbound rows are found by the addresses: before they go. */
      (rc = erase_step(r, inbound_by_contact ? SQL_ERASE_INBOUND_BOTH
                                             : SQL_ERASE_INBOUND_ADDR,
                       0, &r->inbound)) < 0 ||
      (rc = erase_step(r, SQL_ERASE_CONTACTS, 1, &r->contacts)) < 0 ||
      (rc = erase_step(r, SQL_ERASE_ADDRS, 0, &r->addresses)) < 0 ||
      (rc = erase_step(r, SQL_ERASE_TAGS, 0, &ignored)) < 0 ||
      /* After the contacts are marked erased: the log's trigger allows
       * exactly this update of an erased contact's rows. */
      (rc = erase_step(r, SQL_ERASE_PROOFS, 0, &r->consent_log)) < 0 ||
      (rc = erase_step(r, SQL_ERASE_ATTACHMENTS, 0, NULL)) < 0 ||
      (rc = erase_step(r, SQL_ERASE_MESSAGES, 1, &r->messages)) < 0 ||
      (rc = erase_step(r, SQL_ERASE_CALL_ENTRIES, 0, NULL)) < 0 ||
      (rc = erase_step(r, SQL_ERASE_CALL_CONTROLS, 0, NULL)) < 0 ||
      (rc = erase_step(r, SQL_ERASE_CALLS, 1, &r->calls)) < 0 ||
      (rc = vc__recording_drop_contact(r->db, r->ctx, r->tenant_id,
                                       r->survivor, &r->recordings)) < 0 ||
      (rc = erase_step(r, SQL_ERASE_RECIPIENTS, 0, &r->recipients)) < 0)
    return rc;
  return vc__inbox_erase_contact(r->db, r->ctx, r->tenant_id, r->survivor);
}

static int erase_record(erase_run *r, char id[VC_ID_SIZE],
                        const char *asked, const char *reason)
{
  char summary[512], payload[96];
  int rc;

  snprintf(summary, sizeof(summary),
           "{\"erasure_id\":\"%s\",\"survivor_id\":\"%s\",\"contacts\":%lld,"
           "\"addresses\":%lld,\"messages\":%lld,\"inbound\":%lld,"
           "\"calls\":%lld,\"recordings\":%lld,\"consent_log\":%lld,"
           "\"campaign_recipients\":%lld,\"suppressions\":%lld}",
           id, r->survivor, (long long)r->contacts,
           (long long)r->addresses, (long long)r->messages,
           (long long)r->inbound, (long long)r->calls,
           (long long)r->recordings, (long long)r->consent_log,
           (long long)r->recipients, (long long)r->suppressions);
  snprintf(payload, sizeof(payload), "{\"erasure_id\":\"%s\"}", id);
  if ((rc = vc__db_run(r->db, SQL_ERASURE_ADD, "ttttttiiiiiiiiii",
                       r->tenant_id, id, asked, r->survivor,
                       vc_audit_actor(), reason, r->contacts, r->addresses,
                       r->messages, r->inbound, r->calls, r->recordings,
                       r->consent_log, r->recipients, r->suppressions,
                       r->now)) < 0 ||
      (rc = vc__event_append(r->db, r->ctx, r->tenant_id, "contact.erased",
                             r->survivor, payload)) < 0)
    return rc;
  /* Counts and ids only: the reason may name the person. */
  return vc__audit(r->db, r->ctx, r->tenant_id, "contact.erase",
                   r->survivor, summary);
}

int vc_contact_erase(char erasure_id_out[VC_ID_SIZE], vc_tenant *t,
                     const char *contact_id, const char *reason)
{
  char survivor[VC_ID_SIZE];
  erase_run r;
  int64_t erased_at = 0;
  vc__stmt *s;
  vc_ctx *ctx;
  int rc, by_contact;

  VC_ASSERT_ARG(erasure_id_out);
  erasure_id_out[0] = '\0';
  VC_ASSERT_ARG(t);
  if ((rc = check_contact_id(contact_id)) < 0 ||
      (rc = vc__check_text("erasure reason", reason, VC_ERASURE_REASON_MAX,
                           1)) < 0)
    return rc;
  ctx = vc__tenant_ctx(t);
  memset(&r, 0, sizeof(r));
  r.ctx = ctx;
  r.tenant_id = vc_tenant_id(t);
  r.survivor = survivor;
  r.now = vc__now(ctx);
  /* Lock order: the keyring before a connection (a hash key may be
   * sealed). */
  vc__keyring_rdlock(&ctx->keys);
  if ((rc = vc__db_acquire(&r.db, ctx->store)) < 0)
    goto unlock;
  by_contact = inbound_has_contact(r.db);
  if ((rc = vc__db_begin(r.db)) < 0)
    goto release;
  if ((rc = contact_of(survivor, &erased_at, r.db, r.tenant_id,
                       contact_id)) < 0)
    goto fail;
  if (erased_at != 0) {
    if ((rc = vc__db_query(&s, r.db, SQL_LAST_ERASURE, "tt", r.tenant_id,
                           survivor)) < 0)
      goto fail;
    if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
      snprintf(erasure_id_out, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
    vc__stmt_done(s);
    if (rc >= 0)
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EEXISTS,
                         "contact %s was erased before (erasure %s): "
                         "nothing to do", survivor, erasure_id_out);
    goto fail;
  }
  if ((rc = vc__new_id(ctx, erasure_id_out)) < 0 ||
      (rc = erase_all(&r, by_contact)) < 0 ||
      (rc = erase_record(&r, erasure_id_out, contact_id, reason)) < 0 ||
      (rc = vc__db_commit(r.db)) < 0) {
    erasure_id_out[0] = '\0';
    goto fail;
  }
  VC_LOG(ctx, VC_LOG_INFO, "contact %s erased (erasure %s)", survivor,
         erasure_id_out);
  goto release;
fail:
  vc__db_rollback(r.db);
release:
  vc__db_release(r.db);
unlock:
  vc__keyring_unlock(&ctx->keys);
  addrs_free(&r);
  return rc;
}

/* ---- export ------------------------------------------------------------- */

/* A column of an exported row: 't' text (or null), 'i' integer, 'j' JSON
 * the library stored (written as it is, or null). */
typedef struct col {
  const char *name;
  char type;
} col;

/* One array of the export: `sql` binds ?1 tenant, ?2 survivor, ?3 the
 * key after which the page starts (column 0, text) and ends in
 * "ORDER BY <key> LIMIT 50". */
typedef struct section {
  const char *name;
  const char *sql;
  const char *sql_by_contact;   /* when the inbox's column exists */
  const col *cols;
  size_t ncols;
} section;

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static const col ADDR_COLS[] = {
  { "address", 't' }, { "kind", 'i' }, { "contact_id", 't' },
  { "created_at", 'i' }
};
static const col TAG_COLS[] = { { "tag", 't' }, { "contact_id", 't' } };
static const col CONSENT_COLS[] = {
  { "key", 't' }, { "contact_id", 't' }, { "kind", 'i' },
  { "category", 'i' }, { "state", 'i' }, { "source", 't' },
  { "changed_at", 'i' }
};
static const col LOG_COLS[] = {
  { "id", 't' }, { "contact_id", 't' }, { "kind", 'i' }, { "category", 'i' },
  { "state", 'i' }, { "previous", 'i' }, { "source", 't' }, { "proof", 't' },
  { "created_at", 'i' }
};
static const col MSG_COLS[] = {
  { "id", 't' }, { "contact_id", 't' }, { "kind", 'i' },
  { "category", 'i' }, { "channel_id", 't' }, { "status", 'i' },
  { "to", 't' }, { "from", 't' }, { "subject", 't' }, { "text", 't' },
  { "html", 't' }, { "metadata", 't' }, { "campaign_id", 't' },
  { "attachments", 'i' }, { "send_at", 'i' }, { "created_at", 'i' },
  { "updated_at", 'i' }
};
static const col INBOUND_COLS[] = {
  { "id", 't' }, { "channel_id", 't' }, { "from", 't' }, { "to", 't' },
  { "text", 't' }, { "media", 'j' }, { "received_at", 'i' }
};
static const col CALL_COLS[] = {
  { "id", 't' }, { "contact_id", 't' }, { "state", 'i' },
  { "category", 'i' }, { "agent_id", 't' }, { "customer_number", 't' },
  { "caller_id", 't' }, { "channel_id", 't' }, { "metadata", 't' },
  { "talk_s", 'i' }, { "bridged_at", 'i' }, { "ended_at", 'i' },
  { "created_at", 'i' }
};
static const col REC_COLS[] = {
  { "id", 't' }, { "call_id", 't' }, { "url", 't' }, { "status", 'i' },
  { "duration_s", 'i' }, { "created_at", 'i' }, { "purged_at", 'i' }
};
static const col CAMPAIGN_COLS[] = {
  { "campaign_id", 't' }, { "contact_id", 't' }, { "name", 't' },
  { "state", 'i' }, { "vars", 'j' }, { "message_id", 't' }
};
static const col DNC_COLS[] = {
  { "number", 't' }, { "source", 't' }, { "created_at", 'i' }
};
static const col ERASURE_COLS[] = {
  { "id", 't' }, { "contact_id", 't' }, { "actor", 't' }, { "reason", 't' },
  { "messages", 'i' }, { "calls", 'i' }, { "created_at", 'i' }
};
static const col AUDIT_COLS[] = {
  { "id", 't' }, { "actor", 't' }, { "action", 't' }, { "entity_id", 't' },
  { "summary", 'j' }, { "created_at", 'i' }
};

#define INBOUND_SELECT \
  "SELECT id, channel_id, from_addr, to_addr, text_body, media," \
  " received_at FROM vc_inbound_message WHERE tenant_id = ?1 AND id > ?3" \
  " AND"

static const section SECTIONS[] = {
  { "addresses",
    "SELECT address, addr_kind, contact_id, created_at FROM"
    " vc_contact_address WHERE tenant_id = ?1 AND contact_id IN" IDS_OF
    " AND address > ?3 ORDER BY address LIMIT 50", NULL,
    ADDR_COLS, NCOLS(ADDR_COLS) },
  { "tags",
    "SELECT tag, contact_id FROM vc_contact_tag WHERE tenant_id = ?1"
    " AND contact_id IN" IDS_OF " AND tag > ?3 ORDER BY tag LIMIT 50", NULL,
    TAG_COLS, NCOLS(TAG_COLS) },
  { "consent",
    "SELECT contact_id || ':' || channel_kind || ':' || category, contact_id,"
    " channel_kind, category, state, source, changed_at FROM vc_consent"
    " WHERE tenant_id = ?1 AND contact_id IN" IDS_OF " AND contact_id || ':'"
    " || channel_kind || ':' || category > ?3 ORDER BY 1 LIMIT 50", NULL,
    CONSENT_COLS, NCOLS(CONSENT_COLS) },
  { "consent_log",
    "SELECT id, contact_id, channel_kind, category, state, previous, source,"
    " proof, created_at FROM vc_consent_log WHERE tenant_id = ?1"
    " AND contact_id IN" IDS_OF " AND id > ?3 ORDER BY id LIMIT 50", NULL,
    LOG_COLS, NCOLS(LOG_COLS) },
  { "messages",
    "SELECT id, contact_id, kind, category, channel_id, status, to_addr,"
    " from_addr, subject, text_body, html_body, metadata, campaign_id,"
    " attachments, send_at, created_at, updated_at FROM vc_message"
    " WHERE tenant_id = ?1 AND contact_id IN" IDS_OF " AND id > ?3"
    " ORDER BY id LIMIT 50", NULL, MSG_COLS, NCOLS(MSG_COLS) },
  { "inbound",
    INBOUND_SELECT INBOUND_BY_ADDR " ORDER BY id LIMIT 50",
    INBOUND_SELECT INBOUND_BY_BOTH " ORDER BY id LIMIT 50",
    INBOUND_COLS, NCOLS(INBOUND_COLS) },
  { "calls",
    "SELECT id, contact_id, state, category, agent_id, customer_number,"
    " caller_id, channel_id, metadata, talk_s, bridged_at, ended_at,"
    " created_at FROM vc_call WHERE tenant_id = ?1 AND contact_id IN" IDS_OF
    " AND id > ?3 ORDER BY id LIMIT 50", NULL, CALL_COLS, NCOLS(CALL_COLS) },
  { "recordings",
    "SELECT id, call_id, url, status, duration_s, created_at, purged_at"
    " FROM vc_recording WHERE tenant_id = ?1 AND call_id IN (SELECT id"
    " FROM vc_call WHERE tenant_id = ?1 AND contact_id IN" IDS_OF ")"
    " AND id > ?3 ORDER BY id LIMIT 50", NULL, REC_COLS, NCOLS(REC_COLS) },
  { "campaigns",
    "SELECT r.campaign_id, r.contact_id, c.name, c.state, r.vars,"
    " r.message_id FROM vc_campaign_recipient r JOIN vc_campaign c"
    " ON c.tenant_id = r.tenant_id AND c.id = r.campaign_id"
    " WHERE r.tenant_id = ?1 AND r.contact_id IN" IDS_OF
    " AND r.campaign_id > ?3 ORDER BY r.campaign_id LIMIT 50", NULL,
    CAMPAIGN_COLS, NCOLS(CAMPAIGN_COLS) },
  { "dnc",
    "SELECT number, source, created_at FROM vc_dnc WHERE tenant_id = ?1"
    " AND number IN" ADDRS_OF " AND number > ?3 ORDER BY number LIMIT 50",
    NULL, DNC_COLS, NCOLS(DNC_COLS) },
  { "erasures",
    "SELECT id, contact_id, actor, reason, messages, calls, created_at"
    " FROM vc_erasure WHERE tenant_id = ?1 AND survivor_id = ?2"
    " AND id > ?3 ORDER BY id LIMIT 50", NULL,
    ERASURE_COLS, NCOLS(ERASURE_COLS) },
  { "audit",
    "SELECT id, actor, action, entity_id, summary, created_at FROM vc_audit"
    " WHERE tenant_id = ?1 AND entity_id IN" IDS_OF " AND id > ?3"
    " ORDER BY id LIMIT 50", NULL, AUDIT_COLS, NCOLS(AUDIT_COLS) },
};

static const char SQL_EXPORT_CONTACT[] =
  "SELECT id, name, timezone, locale, quiet_start_min, quiet_end_min,"
  " fields, erased_at, created_at, updated_at FROM vc_contact"
  " WHERE tenant_id = ?1 AND id = ?2";
static const col CONTACT_COLS[] = {
  { "id", 't' }, { "name", 't' }, { "timezone", 't' }, { "locale", 't' },
  { "quiet_start_min", 'i' }, { "quiet_end_min", 'i' }, { "fields", 'j' },
  { "erased_at", 'i' }, { "created_at", 'i' }, { "updated_at", 'i' }
};
static const char SQL_EXPORT_MERGED[] =
  "SELECT id FROM vc_contact WHERE tenant_id = ?1 AND merged_into = ?2"
  " AND id > ?3 ORDER BY id LIMIT 50";

/* A JSON string of `s` (UTF-8 as stored: bytes >= 0x80 pass through). */
static int put_string(vc_buf *b, const char *s)
{
  static const char hex[] = "0123456789abcdef";
  int rc;

  if ((rc = vc__buf_put(b, "\"", 1)) < 0)
    return rc;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[7] = { '\\', 0, 0, 0, 0, 0, 0 };
    size_t n = 2;
    switch (*p) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    default:
      if (*p >= 0x20) {
        rc = vc__buf_put(b, p, 1);
        n = 0;
        break;
      }
      memcpy(esc + 1, "u00", 3);
      esc[4] = hex[*p >> 4];
      esc[5] = hex[*p & 15];
      n = 6;
    }
    if (n > 0)
      rc = vc__buf_put(b, esc, n);
    if (rc < 0)
      return rc;
  }
  return vc__buf_put(b, "\"", 1);
}

/* One row as a JSON object. */
static int put_row(vc_buf *b, vc__stmt *s, const col *cols, size_t n)
{
  int rc = vc__buf_put(b, "{", 1);

  for (size_t i = 0; rc == 0 && i < n; i++) {
    if ((rc = vc__buf_printf(b, "%s\"%s\":", i ? "," : "",
                             cols[i].name)) < 0)
      break;
    if (vc__stmt_is_null(s, (int)i))
      rc = vc__buf_puts(b, "null");
    else if (cols[i].type == 'i')
      rc = vc__buf_printf(b, "%lld", (long long)vc__stmt_int64(s, (int)i));
    else if (cols[i].type == 'j')
      rc = vc__buf_puts(b, vc__stmt_text(s, (int)i));
    else
      rc = put_string(b, vc__stmt_text(s, (int)i));
  }
  return rc < 0 ? rc : vc__buf_put(b, "}", 1);
}

static int too_big(const vc_buf *b, size_t start)
{
  if (b->size - start <= VC_CONTACT_EXPORT_MAX)
    return 0;
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                       "the export is larger than %u bytes",
                       VC_CONTACT_EXPORT_MAX);
}

/* `"name":[rows...]`, a page of 50 at a time after the last key. */
static int put_section(vc_buf *b, size_t start, vc__db *db,
                       const char *tenant_id, const char *survivor,
                       const char *name, const char *sql, const col *cols,
                       size_t ncols)
{
  char cursor[512] = "";
  size_t rows = 0, page;
  vc__stmt *s;
  int rc;

  if ((rc = vc__buf_printf(b, ",\"%s\":[", name)) < 0)
    return rc;
  do {
    page = 0;
    if ((rc = vc__db_query(&s, db, sql, "ttt", tenant_id, survivor,
                           cursor)) < 0)
      return rc;
    while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
      const char *key = vc__stmt_text(s, 0);
      if ((rows > 0 && (rc = vc__buf_put(b, ",", 1)) < 0) ||
          (rc = put_row(b, s, cols, ncols)) < 0 ||
          (rc = too_big(b, start)) < 0)
        break;
      snprintf(cursor, sizeof(cursor), "%s", key ? key : "");
      rows++;
      page++;
    }
    vc__stmt_done(s);
    if (rc < 0)
      return rc;
  } while (page == VC__PAGE);
  return vc__buf_put(b, "]", 1);
}

static int export_on(vc_buf *b, size_t start, vc__db *db,
                     const char *tenant_id, const char *survivor,
                     int by_contact)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__buf_puts(b, "{\"contact\":")) < 0 ||
      (rc = vc__db_query(&s, db, SQL_EXPORT_CONTACT, "tt", tenant_id,
                         survivor)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    rc = put_row(b, s, CONTACT_COLS, NCOLS(CONTACT_COLS));
  else if (rc == VC_STORAGE_DONE)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "contact %s not found", survivor);
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  {
    static const col merged[] = { { "id", 't' } };
    if ((rc = put_section(b, start, db, tenant_id, survivor, "merged",
                          SQL_EXPORT_MERGED, merged, 1)) < 0)
      return rc;
  }
  for (size_t i = 0; i < NCOLS(SECTIONS); i++) {
    const section *sec = &SECTIONS[i];
    const char *sql = by_contact && sec->sql_by_contact ? sec->sql_by_contact
                                                        : sec->sql;
    if ((rc = put_section(b, start, db, tenant_id, survivor, sec->name, sql,
                          sec->cols, sec->ncols)) < 0)
      return rc;
  }
  return vc__buf_put(b, "}", 1);
}

int vc_contact_export(vc_buf *json_out, vc_tenant *t, const char *contact_id)
{
  char survivor[VC_ID_SIZE];
  int64_t erased_at;
  size_t start;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(json_out);
  VC_ASSERT_ARG(t);
  if ((rc = check_contact_id(contact_id)) < 0)
    return rc;
  start = json_out->size;
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    return rc;
  /* No transaction: a store transaction takes the write lock, and an
   * export may take a while. Each page is read on its own. */
  if ((rc = contact_of(survivor, &erased_at, db, vc_tenant_id(t),
                       contact_id)) == 0)
    rc = export_on(json_out, start, db, vc_tenant_id(t), survivor,
                   inbound_has_contact(db));
  vc__db_release(db);
  if (rc < 0 && json_out->ptr != NULL) {
    json_out->size = start;
    json_out->ptr[start] = '\0';
  }
  return rc;
}

/* ---- the record of erasures ------------------------------------------- */

static const char SQL_ERASURE_PAGE[] =
  "SELECT id, contact_id, survivor_id, actor, reason, created_at, contacts,"
  " addresses, messages, inbound, calls, recordings, consent_log,"
  " campaign_recipients, suppressions FROM vc_erasure WHERE tenant_id = ?1"
  " AND (?2 = '' OR contact_id = ?2 OR survivor_id = ?2) AND id > ?3"
  " ORDER BY id LIMIT 50";

typedef struct erasure_row {
  vc_erasure_entry e;
  char id[VC_ID_SIZE], contact_id[VC_ID_SIZE], survivor_id[VC_ID_SIZE];
  char actor[VC_AUDIT_ACTOR_MAX + 1];
  char reason[];
} erasure_row;

typedef struct erasure_iter {
  vc__page_iter page;
  char tenant_id[VC_ID_SIZE];
  char contact_id[VC_ID_SIZE];
  erasure_row *current;
} erasure_iter;

static int erasure_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const erasure_iter *it = (const erasure_iter *)p;

  return vc__db_query(out, db, SQL_ERASURE_PAGE, "ttt", it->tenant_id,
                      it->contact_id, p->base.cursor);
}

static int erasure_row_make(void **out, vc__stmt *s)
{
  const char *reason = vc__stmt_text(s, 4);
  size_t n = strlen(reason ? reason : "");
  erasure_row *r = vc__calloc(1, sizeof(*r) + n + 1);
  int64_t *counts[] = { &r->e.contacts, &r->e.addresses, &r->e.messages,
                        &r->e.inbound, &r->e.calls, &r->e.recordings,
                        &r->e.consent_log, &r->e.campaign_recipients,
                        &r->e.suppressions };

  if (r == NULL)
    return vc_error_set_oom();
  snprintf(r->id, sizeof(r->id), "%s", vc__stmt_text(s, 0));
  snprintf(r->contact_id, sizeof(r->contact_id), "%s", vc__stmt_text(s, 1));
  snprintf(r->survivor_id, sizeof(r->survivor_id), "%s",
           vc__stmt_text(s, 2));
  snprintf(r->actor, sizeof(r->actor), "%s", vc__stmt_text(s, 3));
  memcpy(r->reason, reason ? reason : "", n + 1);
  r->e.id = r->id;
  r->e.contact_id = r->contact_id;
  r->e.survivor_id = r->survivor_id;
  r->e.actor = r->actor;
  r->e.reason = r->reason;
  r->e.at = vc__stmt_int64(s, 5);
  for (size_t i = 0; i < NCOLS(counts); i++)
    *counts[i] = vc__stmt_int64(s, (int)i + 6);
  *out = r;
  return 0;
}

static void erasure_row_free(void *row)
{
  vc__free(row);
}

static const char *erasure_row_key(const void *row)
{
  return ((const erasure_row *)row)->id;
}

static void erasure_iter_free(vc_iter *base)
{
  vc__page_iter_free(base);
  vc__free(((erasure_iter *)base)->current);
}

static const vc__page_ops ERASURE_PAGES = {
  { "erasure", erasure_iter_free }, erasure_query, erasure_row_make,
  erasure_row_free, erasure_row_key
};

int vc_erasure_list(vc_iter **out, vc_tenant *t, const vc_erasure_filter *f)
{
  erasure_iter *it;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if (f != NULL) {
    VC_CHECK_VERSION(f, VC_ERASURE_FILTER_VERSION, "vc_erasure_filter");
    if (f->contact_id != NULL && (rc = check_contact_id(f->contact_id)) < 0)
      return rc;
    if (f->after != NULL && f->after[0] != '\0' && !vc__ulid_valid(f->after))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "cursor is not an erasure id");
  }
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(&it->page, &ERASURE_PAGES, vc__tenant_ctx(t)->store,
                     f ? f->after : NULL);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  snprintf(it->contact_id, sizeof(it->contact_id), "%s",
           f && f->contact_id ? f->contact_id : "");
  *out = &it->page.base;
  return 0;
}

int vc_erasure_next(const vc_erasure_entry **out, vc_iter *base)
{
  erasure_iter *it = (erasure_iter *)base;
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(base);
  if ((rc = vc__page_iter_next(&row, base, &ERASURE_PAGES)) < 0)
    return rc;
  vc__free(it->current);
  it->current = row;
  *out = &it->current->e;
  return 0;
}

int vc_erasure_filter_init(vc_erasure_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_ERASURE_FILTER_VERSION, vc_erasure_filter,
                 VC_ERASURE_FILTER_INIT);
}
