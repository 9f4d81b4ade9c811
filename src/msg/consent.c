/*
 * Consent: the state per contact, channel kind and category with its
 * append-only log, the tenant's opt-in policy, the do-not-call list, and
 * the check every send and call asks (consent.h).
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "vyomcomm/consent.h"
#include "address.h"
#include "consent.h"
#include "contact.h"
#include "privacy.h"

#include <stdio.h>

/* ---- SQL -------------------------------------------------------------- */

/* A contact's consent rows are its own and those of the contacts merged
 * into it (they keep their ids, src/msg/contact.h). Opt-out (2) wins
 * over opt-in (1) over nothing (0): the highest state counts. */
#define OF_CONTACT \
  " contact_id IN (SELECT ?2 UNION ALL SELECT id FROM vc_contact" \
  "  WHERE tenant_id = ?1 AND merged_into = ?2)"
/* The contact's state and the tenant's policy, NULL where none is set. */
/* (The contact's own row and its merged contacts' rows as two key
 * lookups: the IN list of OF_CONTACT would be built as a temporary table
 * on every send.) */
static const char SQL_CHECK[] =
  "SELECT (SELECT MAX(s) FROM (SELECT state AS s FROM vc_consent"
  "  WHERE tenant_id = ?1 AND contact_id = ?2 AND channel_kind = ?3"
  "  AND category = ?4"
  "  UNION ALL SELECT c.state FROM vc_contact m JOIN vc_consent c"
  "  ON c.tenant_id = m.tenant_id AND c.contact_id = m.id"
  "  AND c.channel_kind = ?3 AND c.category = ?4"
  "  WHERE m.tenant_id = ?1 AND m.merged_into = ?2)),"
  " (SELECT requires_opt_in FROM vc_consent_policy WHERE tenant_id = ?1"
  "  AND channel_kind = ?3 AND category = ?4),"
  " (SELECT 1 FROM vc_privacy_key WHERE tenant_id = ?1 AND id = ?1)";
/* The same for a recipient who is no contact: no state to look up. ?2
 * is '' here; naming it keeps every parameter used. */
static const char SQL_CHECK_NO_CONTACT[] =
  "SELECT NULL,"
  " (SELECT requires_opt_in FROM vc_consent_policy WHERE tenant_id = ?1"
  "  AND channel_kind = ?3 AND category = ?4),"
  " (SELECT 1 FROM vc_privacy_key WHERE tenant_id = ?1 AND id = ?1)"
  " WHERE ?2 = ''";
static const char SQL_GET[] =
  "SELECT state, changed_at, source FROM vc_consent WHERE tenant_id = ?1"
  " AND channel_kind = ?3 AND category = ?4 AND" OF_CONTACT
  " ORDER BY state DESC, changed_at DESC LIMIT 1";
static const char SQL_STATE[] =
  "SELECT state FROM vc_consent WHERE tenant_id = ?1 AND contact_id = ?2"
  " AND channel_kind = ?3 AND category = ?4";
static const char SQL_LOG_ADD[] =
  "INSERT INTO vc_consent_log (tenant_id, id, contact_id, channel_kind,"
  " category, state, previous, source, proof, created_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char SQL_SET[] =
  "INSERT INTO vc_consent (tenant_id, contact_id, channel_kind, category,"
  " state, source, log_id, changed_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
  " ON CONFLICT (tenant_id, contact_id, channel_kind, category) DO UPDATE"
  " SET state = excluded.state, source = excluded.source,"
  " log_id = excluded.log_id, changed_at = excluded.changed_at";
static const char SQL_LOG_PAGE[] =
  "SELECT id, contact_id, channel_kind, category, state, previous, source,"
  " COALESCE(proof, ''), created_at FROM vc_consent_log"
  " WHERE tenant_id = ?1 AND contact_id = ?2 AND id > ?3"
  " AND (?4 = 0 OR channel_kind = ?4) ORDER BY id LIMIT 50";
static const char SQL_POLICY_GET[] =
  "SELECT requires_opt_in FROM vc_consent_policy WHERE tenant_id = ?1"
  " AND channel_kind = ?2 AND category = ?3";
static const char SQL_POLICY_SET[] =
  "INSERT INTO vc_consent_policy (tenant_id, channel_kind, category,"
  " requires_opt_in, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)"
  " ON CONFLICT (tenant_id, channel_kind, category) DO UPDATE"
  " SET requires_opt_in = excluded.requires_opt_in,"
  " updated_at = excluded.updated_at";
static const char SQL_DNC_HAS[] =
  "SELECT 1 FROM vc_dnc WHERE tenant_id = ?1 AND number = ?2";
static const char SQL_DNC_ADD[] =
  "INSERT INTO vc_dnc (tenant_id, number, source, created_at)"
  " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (tenant_id, number) DO NOTHING";
static const char SQL_DNC_REMOVE[] =
  "DELETE FROM vc_dnc WHERE tenant_id = ?1 AND number = ?2";
static const char SQL_DNC_PAGE[] =
  "SELECT number, source, created_at FROM vc_dnc WHERE tenant_id = ?1"
  " AND number > ?2 ORDER BY number LIMIT 50";

/* ---- names and checks -------------------------------------------------- */

const char *vc_consent_name(int state)
{
  static const char *const names[] = { "unknown", "opted_in", "opted_out" };

  return state >= VC_CONSENT_UNKNOWN && state <= VC_CONSENT_OPTED_OUT
           ? names[state] : NULL;
}

static int check_kind(int kind)
{
  if (kind < VC_CHANNEL_EMAIL || kind > VC_CHANNEL_VOICE)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown channel kind %d", kind);
  return 0;
}

/* Transactional or marketing; 0 too when `all_ok`. One-time passwords
 * have no consent of their own. */
static int check_category(int category, int all_ok)
{
  if (category == VC_CATEGORY_OTP)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "one-time passwords follow the transactional "
                         "consent: give VC_CATEGORY_TRANSACTIONAL");
  if ((category == 0 && all_ok) || category == VC_CATEGORY_TRANSACTIONAL ||
      category == VC_CATEGORY_MARKETING)
    return 0;
  return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "unknown consent category %d", category);
}

static int check_source(const char *source)
{
  return vc__check_token("consent source", source, VC_CONSENT_SOURCE_MAX,
                         "a-z", "a-z0-9_.-");
}

static int check_contact_id(const char *id)
{
  if (id == NULL || !vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "contact id is not a valid id");
  return 0;
}

/* The built-in policy: marketing needs an opt-in where regulation and
 * carrier practice usually ask for one first (SMS, chat, voice), and
 * not on email, where an opt-out regime is common. */
static int default_requires(int kind, int category)
{
  return category == VC_CATEGORY_MARKETING &&
         (kind == VC_CHANNEL_SMS || kind == VC_CHANNEL_CHAT ||
          kind == VC_CHANNEL_VOICE);
}

/* The category whose consent applies to a message's category. */
static int consent_category(int category)
{
  return category == VC_CATEGORY_OTP ? VC_CATEGORY_TRANSACTIONAL : category;
}

/* Tokens: nothing to escape in JSON. */
static void summary(char *buf, size_t size, int kind, int category,
                    int state, const char *source)
{
  snprintf(buf, size,
           "{\"kind\":\"%s\",\"category\":\"%s\",\"state\":\"%s\","
           "\"source\":\"%s\"}",
           vc_channel_kind_name(kind),
           category ? vc_category_name(category) : "all",
           vc_consent_name(state), source);
}

/* ---- enforcement ------------------------------------------------------- */

static int dnc_has(vc__db *db, const char *tenant_id, const char *number)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_DNC_HAS, "tt", tenant_id, number)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  vc__stmt_done(s);
  return rc == VC_STORAGE_ROW ? 1 : rc == VC_STORAGE_DONE ? 0 : rc;
}

/* The contact's state (VC_CONSENT_UNKNOWN when none) and whether the
 * tenant needs an opt-in, for a consent category. */
/* `hashes`: whether the tenant keeps erased contacts' refusals as
 * address hashes (privacy.h), read in the same statement so that a
 * tenant that never erased anyone pays nothing more. */
static int state_and_policy(vc__db *db, const char *tenant_id,
                            const char *contact_id, int kind, int category,
                            int *state, int *requires, int *hashes)
{
  vc__stmt *s;
  int rc;

  *state = VC_CONSENT_UNKNOWN;
  *requires = default_requires(kind, category);
  *hashes = 0;
  if ((rc = vc__db_query(&s, db,
                         contact_id[0] != '\0' ? SQL_CHECK
                                                : SQL_CHECK_NO_CONTACT,
                         "ttii", tenant_id, contact_id, (int64_t)kind,
                         (int64_t)category)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    if (!vc__stmt_is_null(s, 0))
      *state = (int)vc__stmt_int64(s, 0);
    if (!vc__stmt_is_null(s, 1))
      *requires = vc__stmt_int64(s, 1) != 0;
    *hashes = !vc__stmt_is_null(s, 2);
    rc = 0;
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

static int check_on(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                    const char *contact_id, int kind, int category,
                    const char *to)
{
  const char *kname = vc_channel_kind_name(kind);
  int cat = consent_category(category), state, requires, hashes, rc;
  int want_dnc = kind == VC_CHANNEL_VOICE && category != VC_CATEGORY_OTP;
  const char *cname = vc_category_name(cat);

  /* A number on the do-not-call list gets no call, except the one-time
   * password its owner is asking for right now. */
  if (want_dnc && to != NULL && (rc = dnc_has(db, tenant_id, to)) != 0)
    return rc < 0 ? rc
                  : vc__error_set(VC_ERRCLASS_INVALID, VC_ECONSENT,
                                  "no consent: the number is on the "
                                  "do-not-call list");
  if ((rc = state_and_policy(db, tenant_id, contact_id ? contact_id : "",
                             kind, cat, &state, &requires, &hashes)) < 0)
    return rc;
  /* An erased contact's refusals, kept as hashes of its addresses: the
   * do-not-call list always, an opt-out until whoever holds the address
   * now opts in. */
  if (hashes && (want_dnc || state == VC_CONSENT_UNKNOWN) &&
      (rc = vc__privacy_suppressed(db, ctx, tenant_id, kind, want_dnc,
                                   state == VC_CONSENT_UNKNOWN ? cat : 0,
                                   to)) != 0) {
    if (rc < 0)
      return rc;
    if (rc & VC__SUPPRESS_DNC)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ECONSENT,
                           "no consent: the number is on the do-not-call "
                           "list");
    state = VC_CONSENT_OPTED_OUT;
  }
  if (state == VC_CONSENT_OPTED_OUT)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ECONSENT,
                         "no consent: the contact opted out of %s on %s",
                         cname, kname);
  if (requires && state != VC_CONSENT_OPTED_IN)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ECONSENT,
                         "no consent: %s on %s needs an opt-in (tenant "
                         "policy) and %s", cname, kname,
                         contact_id && contact_id[0]
                           ? "the contact has not opted in"
                           : "the recipient is no known contact");
  return 0;
}

int vc__consent_check(vc__db *held, vc_tenant *t, const char *contact_id,
                      int kind, int category, const char *to)
{
  vc__db *db = held;
  int rc;

  if (category < VC_CATEGORY_TRANSACTIONAL || category > VC_CATEGORY_OTP)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown category %d", category);
  if (held == NULL && (rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    return rc;
  rc = check_on(db, vc__tenant_ctx(t), vc_tenant_id(t), contact_id, kind,
                category, to);
  if (held == NULL)
    vc__db_release(db);
  return rc;
}

/* ---- recording --------------------------------------------------------- */

/* Log and set one category's state; *changed is set to 1 when the state
 * moved. */
static int record_one(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      const char *contact_id, int kind, int category,
                      int state, const char *source, const char *proof,
                      int64_t now, int *changed)
{
  char id[VC_ID_SIZE];
  int previous = VC_CONSENT_UNKNOWN, rc;
  vc__stmt *s;

  if ((rc = vc__db_query(&s, db, SQL_STATE, "ttii", tenant_id, contact_id,
                         (int64_t)kind, (int64_t)category)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
    previous = (int)vc__stmt_int64(s, 0);
  vc__stmt_done(s);
  if (rc < 0 || (rc = vc__new_id(ctx, id)) < 0)
    return rc;
  if ((rc = vc__db_run(db, SQL_LOG_ADD, "tttiiiitti", tenant_id, id,
                       contact_id, (int64_t)kind, (int64_t)category,
                       (int64_t)state, (int64_t)previous, source, proof,
                       now)) < 0 ||
      (rc = vc__db_run(db, SQL_SET, "ttiiitti", tenant_id, contact_id,
                       (int64_t)kind, (int64_t)category, (int64_t)state,
                       source, id, now)) < 0)
    return rc;
  if (previous != state && state != VC_CONSENT_UNKNOWN)
    *changed = 1;
  return 0;
}

int vc__consent_record(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *contact_id, int kind, int category,
                       int state, const char *source, const char *proof)
{
  int64_t now = vc__now(ctx);
  char payload[192];
  int rc, changed = 0;

  if ((rc = check_contact_id(contact_id)) < 0 ||
      (rc = check_kind(kind)) < 0 ||
      (rc = check_category(category, 1)) < 0 ||
      (rc = check_source(source)) < 0 ||
      (rc = vc__check_text("consent proof", proof, VC_CONSENT_PROOF_MAX,
                           0)) < 0)
    return rc;
  if (vc_consent_name(state) == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown consent state %d", state);
  for (int c = VC_CATEGORY_TRANSACTIONAL; c <= VC_CATEGORY_MARKETING; c++)
    if ((category == 0 || category == c) &&
        (rc = record_one(db, ctx, tenant_id, contact_id, kind, c, state,
                         source, proof, now, &changed)) < 0)
      return rc;
  if (!changed)
    return 0;
  /* One event for the change, whatever number of categories it moved:
   * a STOP is one opt-out to the rules and the host, not one per
   * category. */
  summary(payload, sizeof(payload), kind, category, state, source);
  return vc__event_append(db, ctx, tenant_id,
                          state == VC_CONSENT_OPTED_OUT ? "contact.opted_out"
                                                        : "contact.opted_in",
                          contact_id, payload);
}

int vc_consent_set(vc_tenant *t, const vc_consent_spec *spec)
{
  char contact[VC_ID_SIZE], audit[192];
  const char *tenant_id, *source;
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_CONSENT_SPEC_VERSION, "vc_consent_spec");
  source = spec->source ? spec->source : "api";
  if ((rc = check_contact_id(spec->contact_id)) < 0 ||
      (rc = check_kind(spec->kind)) < 0 ||
      (rc = check_category(spec->category, 1)) < 0 ||
      (rc = check_source(source)) < 0 ||
      (rc = vc__check_text("consent proof", spec->proof,
                           VC_CONSENT_PROOF_MAX, 0)) < 0)
    return rc;
  if (vc_consent_name(spec->state) == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown consent state %d", spec->state);
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  summary(audit, sizeof(audit), spec->kind, spec->category, spec->state,
          source);
  if ((rc = vc__contact_resolve(contact, db, tenant_id,
                                spec->contact_id)) < 0 ||
      (rc = vc__consent_record(db, ctx, tenant_id, contact, spec->kind,
                               spec->category, spec->state, source,
                               spec->proof)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "consent.set", contact,
                      audit)) < 0 ||
      (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    goto release;
  }
  vc_ctx_wakeup(ctx);
release:
  vc__db_release(db);
  return rc;
}

int vc_consent_get(vc_consent_info *out, vc_tenant *t,
                   const char *contact_id, int kind, int category)
{
  char contact[VC_ID_SIZE];
  const char *tenant_id;
  vc_consent_info info;
  vc__db *db;
  vc__stmt *s;
  int rc, hashes;

  VC_ASSERT_ARG(out);
  VC_CHECK_VERSION(out, VC_CONSENT_INFO_VERSION, "vc_consent_info");
  VC_ASSERT_ARG(t);
  if ((rc = check_contact_id(contact_id)) < 0 ||
      (rc = check_kind(kind)) < 0 ||
      (rc = check_category(category, 0)) < 0)
    return rc;
  memset(&info, 0, sizeof(info));
  info.version = out->version;
  tenant_id = vc_tenant_id(t);
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    return rc;
  if ((rc = vc__contact_resolve(contact, db, tenant_id, contact_id)) < 0 ||
      (rc = state_and_policy(db, tenant_id, contact, kind, category,
                             &info.state, &info.requires_opt_in,
                             &hashes)) < 0 ||
      (rc = vc__db_query(&s, db, SQL_GET, "ttii", tenant_id, contact,
                         (int64_t)kind, (int64_t)category)) < 0)
    goto release;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    info.state = (int)vc__stmt_int64(s, 0);
    info.changed_at = vc__stmt_int64(s, 1);
    snprintf(info.source, sizeof(info.source), "%s", vc__stmt_text(s, 2));
  }
  vc__stmt_done(s);
  if (rc < 0)
    goto release;
  rc = 0;
  info.allowed = info.state != VC_CONSENT_OPTED_OUT &&
                 (info.state == VC_CONSENT_OPTED_IN || !info.requires_opt_in);
  *out = info;
release:
  vc__db_release(db);
  return rc;
}

/* ---- the log ------------------------------------------------------------ */

typedef struct log_row {
  vc_consent_entry e;
  char id[VC_ID_SIZE], contact_id[VC_ID_SIZE];
  char source[VC_CONSENT_SOURCE_MAX + 1];
  char proof[];                  /* NUL-terminated */
} log_row;

typedef struct log_iter {
  vc__page_iter page;
  char tenant_id[VC_ID_SIZE];
  char contact_id[VC_ID_SIZE];
  int kind;
  log_row *current;              /* handed out, freed on the next call */
} log_iter;

static int log_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const log_iter *it = (const log_iter *)p;

  return vc__db_query(out, db, SQL_LOG_PAGE, "ttti", it->tenant_id,
                      it->contact_id, p->base.cursor, (int64_t)it->kind);
}

static int log_row_make(void **out, vc__stmt *s)
{
  const char *proof = vc__stmt_text(s, 7);
  size_t n = strlen(proof ? proof : "");
  log_row *r = vc__calloc(1, sizeof(*r) + n + 1);

  if (r == NULL)
    return vc_error_set_oom();
  snprintf(r->id, sizeof(r->id), "%s", vc__stmt_text(s, 0));
  snprintf(r->contact_id, sizeof(r->contact_id), "%s", vc__stmt_text(s, 1));
  snprintf(r->source, sizeof(r->source), "%s", vc__stmt_text(s, 6));
  memcpy(r->proof, proof ? proof : "", n + 1);
  r->e.id = r->id;
  r->e.contact_id = r->contact_id;
  r->e.kind = (int)vc__stmt_int64(s, 2);
  r->e.category = (int)vc__stmt_int64(s, 3);
  r->e.state = (int)vc__stmt_int64(s, 4);
  r->e.previous = (int)vc__stmt_int64(s, 5);
  r->e.source = r->source;
  r->e.proof = r->proof;
  r->e.created_at = vc__stmt_int64(s, 8);
  *out = r;
  return 0;
}

static void row_free(void *row)
{
  vc__free(row);
}

static const char *log_row_key(const void *row)
{
  return ((const log_row *)row)->id;
}

static void log_iter_free(vc_iter *base)
{
  vc__page_iter_free(base);
  vc__free(((log_iter *)base)->current);
}

static const vc__page_ops LOG_PAGES = {
  { "consent log", log_iter_free }, log_query, log_row_make, row_free,
  log_row_key
};

int vc_consent_log_list(vc_iter **out, vc_tenant *t,
                        const vc_consent_log_filter *f)
{
  log_iter *it;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(f);
  VC_CHECK_VERSION(f, VC_CONSENT_LOG_FILTER_VERSION,
                   "vc_consent_log_filter");
  if ((rc = check_contact_id(f->contact_id)) < 0 ||
      (f->kind != 0 && (rc = check_kind(f->kind)) < 0))
    return rc;
  if (f->after != NULL && f->after[0] != '\0' && !vc__ulid_valid(f->after))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not a consent log cursor");
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(&it->page, &LOG_PAGES, vc__tenant_ctx(t)->store,
                     f->after);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  snprintf(it->contact_id, sizeof(it->contact_id), "%s", f->contact_id);
  it->kind = f->kind;
  *out = &it->page.base;
  return 0;
}

int vc_consent_log_next(const vc_consent_entry **out, vc_iter *base)
{
  log_iter *it = (log_iter *)base;
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(base);
  if ((rc = vc__page_iter_next(&row, base, &LOG_PAGES)) < 0)
    return rc;
  vc__free(it->current);
  it->current = row;
  *out = &it->current->e;
  return 0;
}

/* ---- policy -------------------------------------------------------------- */

int vc_consent_policy_set(vc_tenant *t, int kind, int category,
                          int requires_opt_in)
{
  char audit[128];
  const char *tenant_id;
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(t);
  if ((rc = check_kind(kind)) < 0 || (rc = check_category(category, 0)) < 0)
    return rc;
  if (requires_opt_in != 0 && requires_opt_in != 1)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "requires_opt_in must be 0 or 1");
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  snprintf(audit, sizeof(audit),
           "{\"kind\":\"%s\",\"category\":\"%s\",\"requires_opt_in\":%d}",
           vc_channel_kind_name(kind), vc_category_name(category),
           requires_opt_in);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__db_run(db, SQL_POLICY_SET, "tiiii", tenant_id,
                       (int64_t)kind, (int64_t)category,
                       (int64_t)requires_opt_in, vc__now(ctx))) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "consent_policy.set", NULL,
                      audit)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    vc__db_rollback(db);
release:
  vc__db_release(db);
  return rc;
}

int vc_consent_policy_get(int *requires_opt_in, vc_tenant *t, int kind,
                          int category)
{
  vc__db *db;
  vc__stmt *s;
  int rc;

  VC_ASSERT_ARG(requires_opt_in);
  *requires_opt_in = 0;
  VC_ASSERT_ARG(t);
  if ((rc = check_kind(kind)) < 0 || (rc = check_category(category, 0)) < 0)
    return rc;
  *requires_opt_in = default_requires(kind, category);
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_POLICY_GET, "tii", vc_tenant_id(t),
                         (int64_t)kind, (int64_t)category)) == 0) {
    if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW)
      *requires_opt_in = vc__stmt_int64(s, 0) != 0;
    vc__stmt_done(s);
    rc = rc < 0 ? rc : 0;
  }
  vc__db_release(db);
  return rc;
}

/* ---- the do-not-call list ---------------------------------------------- */

static int dnc_number(char out[VC__ADDR_PHONE_MAX], const char *in)
{
  if (in == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "number is required");
  return vc__addr_phone(out, in, 1);
}

/* Add or remove in one audited transaction. */
static int dnc_change(vc_tenant *t, const char *number, const char *source,
                      int add)
{
  char e164[VC__ADDR_PHONE_MAX], audit[96];
  const char *tenant_id;
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(t);
  if ((rc = dnc_number(e164, number)) < 0 ||
      (add && (rc = check_source(source)) < 0))
    return rc;
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  /* The number is personal data: the audit row names only the source. */
  snprintf(audit, sizeof(audit), "{\"source\":\"%s\"}", add ? source : "");
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if (add)
    rc = vc__db_run(db, SQL_DNC_ADD, "ttti", tenant_id, e164, source,
                    vc__now(ctx));
  else if ((rc = vc__db_run(db, SQL_DNC_REMOVE, "tt", tenant_id,
                            e164)) == 0) {
    int listed = vc__db_changes(db) > 0;
    /* An erased contact's entry lives on as a hash (privacy.h). */
    if ((rc = vc__privacy_dnc_forget(db, ctx, tenant_id, e164)) > 0)
      listed = 1;
    if (rc >= 0)
      rc = listed ? 0 : vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                                      "the number is not on the do-not-call "
                                      "list");
  }
  if (rc < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, add ? "dnc.add" : "dnc.remove",
                      NULL, add ? audit : NULL)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    vc__db_rollback(db);
release:
  vc__db_release(db);
  return rc;
}

int vc_dnc_add(vc_tenant *t, const char *number, const char *source)
{
  return dnc_change(t, number, source ? source : "api", 1);
}

int vc_dnc_remove(vc_tenant *t, const char *number)
{
  return dnc_change(t, number, NULL, 0);
}

int vc_dnc_contains(vc_tenant *t, const char *number)
{
  char e164[VC__ADDR_PHONE_MAX];
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(t);
  if ((rc = dnc_number(e164, number)) < 0)
    return rc;
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    return rc;
  if ((rc = dnc_has(db, vc_tenant_id(t), e164)) == 0 &&
      (rc = vc__privacy_suppressed(db, vc__tenant_ctx(t), vc_tenant_id(t),
                                   VC_CHANNEL_VOICE, 1, 0, e164)) > 0)
    rc = 1;
  vc__db_release(db);
  return rc;
}

typedef struct dnc_row {
  vc_dnc_entry e;
  char number[VC__ADDR_PHONE_MAX];
  char source[VC_CONSENT_SOURCE_MAX + 1];
} dnc_row;

typedef struct dnc_iter {
  vc__page_iter page;
  char tenant_id[VC_ID_SIZE];
  dnc_row *current;
} dnc_iter;

static int dnc_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  return vc__db_query(out, db, SQL_DNC_PAGE, "tt",
                      ((const dnc_iter *)p)->tenant_id, p->base.cursor);
}

static int dnc_row_make(void **out, vc__stmt *s)
{
  dnc_row *r = vc__calloc(1, sizeof(*r));

  if (r == NULL)
    return vc_error_set_oom();
  snprintf(r->number, sizeof(r->number), "%s", vc__stmt_text(s, 0));
  snprintf(r->source, sizeof(r->source), "%s", vc__stmt_text(s, 1));
  r->e.number = r->number;
  r->e.source = r->source;
  r->e.created_at = vc__stmt_int64(s, 2);
  *out = r;
  return 0;
}

static const char *dnc_row_key(const void *row)
{
  return ((const dnc_row *)row)->number;
}

static void dnc_iter_free(vc_iter *base)
{
  vc__page_iter_free(base);
  vc__free(((dnc_iter *)base)->current);
}

static const vc__page_ops DNC_PAGES = {
  { "do-not-call list", dnc_iter_free }, dnc_query, dnc_row_make, row_free,
  dnc_row_key
};

int vc_dnc_list(vc_iter **out, vc_tenant *t, const vc_dnc_filter *f)
{
  char cursor[VC__ADDR_PHONE_MAX] = "";
  dnc_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_DNC_FILTER_VERSION, "vc_dnc_filter");
  if (f != NULL && f->after != NULL && f->after[0] != '\0' &&
      vc__addr_phone(cursor, f->after, 0) < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not a do-not-call list cursor");
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(&it->page, &DNC_PAGES, vc__tenant_ctx(t)->store,
                     cursor);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  *out = &it->page.base;
  return 0;
}

int vc_dnc_next(const vc_dnc_entry **out, vc_iter *base)
{
  dnc_iter *it = (dnc_iter *)base;
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(base);
  if ((rc = vc__page_iter_next(&row, base, &DNC_PAGES)) < 0)
    return rc;
  vc__free(it->current);
  it->current = row;
  *out = &it->current->e;
  return 0;
}

/* ---- struct initialisers ------------------------------------------------ */

int vc_consent_spec_init(vc_consent_spec *s, unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_CONSENT_SPEC_VERSION, vc_consent_spec,
                 VC_CONSENT_SPEC_INIT);
}

int vc_consent_info_init(vc_consent_info *i, unsigned int version)
{
  VC_INIT_STRUCT(i, version, VC_CONSENT_INFO_VERSION, vc_consent_info,
                 VC_CONSENT_INFO_INIT);
}

int vc_consent_log_filter_init(vc_consent_log_filter *f,
                               unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_CONSENT_LOG_FILTER_VERSION,
                 vc_consent_log_filter, VC_CONSENT_LOG_FILTER_INIT);
}

int vc_dnc_filter_init(vc_dnc_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_DNC_FILTER_VERSION, vc_dnc_filter,
                 VC_DNC_FILTER_INIT);
}
