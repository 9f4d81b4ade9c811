/*
 * Rate cards: store (create or replace, whole or not at all), lookup,
 * list, delete; finding the entry that prices a destination; the cost
 * arithmetic, in integers only.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "msg/msg_ledger.h"
#include "msg/segments.h"
#include "ratecard.h"

#include <stdio.h>

/* ---- cost ------------------------------------------------------------- */

int vc__ratecard_cost(int64_t *cost, int64_t *billed_s,
                      const vc__rate_match *m, int talk_s)
{
  int64_t b, q, r, part, rest;

  *cost = 0;
  *billed_s = 0;
  if (talk_s <= 0)
    return 0;
  b = m->initial_s;
  if (talk_s > m->initial_s)
    b += ((int64_t)talk_s - m->initial_s + m->subsequent_s - 1) /
         m->subsequent_s * m->subsequent_s;
  /* b * rate / 60 rounded half up, without overflow: rate = 60q + r, so
   * (b*rate + 30) / 60 = b*q + (b*r + 30) / 60, where b*r < 2^31 * 60. */
  q = m->rate_per_min / 60;
  r = m->rate_per_min % 60;
  rest = (b * r + 30) / 60;
  if (q > 0 && b > (INT64_MAX - m->connection_fee - rest) / q)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "the cost of %d s does not fit in 63 bits", talk_s);
  part = b * q;
  *cost = m->connection_fee + part + rest;
  *billed_s = b;
  return 0;
}

int vc__e164_digits(char out[VC_RATECARD_PREFIX_MAX + 1], const char *s)
{
  size_t n = 0;

  out[0] = '\0';
  if (s == NULL)
    return -1;
  if (*s == '+')
    s++;
  for (; *s; s++) {
    if (!vc__is_digit((unsigned char)*s) || n >= VC_RATECARD_PREFIX_MAX)
      return -1;
    out[n++] = *s;
  }
  out[n] = '\0';
  return n > 0 && out[0] != '0' ? 0 : -1;
}

/* ---- matching --------------------------------------------------------- */

static const char SQL_CARD_AT[] =
  "SELECT id FROM vc_ratecard WHERE tenant_id = ?1 AND provider = ?2"
  " AND channel_id = ?3 AND effective_from <= ?4"
  " ORDER BY effective_from DESC LIMIT 1";
static const char SQL_ENTRY_BY_PREFIX[] =
  "SELECT rate_per_min, initial_s, subsequent_s, connection_fee, currency"
  " FROM vc_ratecard_entry WHERE tenant_id = ?1 AND card_id = ?2"
  " AND prefix = ?3";

/* The card in effect: 1 and its id, 0 when none. */
static int card_at(char id[VC_ID_SIZE], vc__db *db, const char *tenant_id,
                   const char *provider, const char *channel_id, int64_t at)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_CARD_AT, "ttti", tenant_id, provider,
                         channel_id, at)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    snprintf(id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
    rc = 1;
  } else if (rc == VC_STORAGE_DONE) {
    rc = 0;
  }
  vc__stmt_done(s);
  return rc;
}

/* Longest prefix first, down to the default "". */
static int entry_in(vc__rate_match *out, vc__db *db, const char *tenant_id,
                    const char *card_id, const char *digits)
{
  char prefix[VC_RATECARD_PREFIX_MAX + 1];
  size_t n = digits ? strlen(digits) : 0;

  snprintf(prefix, sizeof(prefix), "%s", digits ? digits : "");
  for (;;) {
    vc__stmt *s;
    int rc;

    prefix[n] = '\0';
    if ((rc = vc__db_query(&s, db, SQL_ENTRY_BY_PREFIX, "ttt", tenant_id,
                           card_id, prefix)) < 0)
      return rc;
    rc = vc__stmt_step(s);
    if (rc == VC_STORAGE_ROW) {
      snprintf(out->card_id, sizeof(out->card_id), "%s", card_id);
      snprintf(out->prefix, sizeof(out->prefix), "%s", prefix);
      out->rate_per_min = vc__stmt_int64(s, 0);
      out->initial_s = (int)vc__stmt_int64(s, 1);
      out->subsequent_s = (int)vc__stmt_int64(s, 2);
      out->connection_fee = vc__stmt_int64(s, 3);
      snprintf(out->currency, sizeof(out->currency), "%s",
               vc__stmt_text(s, 4));
      rc = 1;
    } else if (rc == VC_STORAGE_DONE) {
      rc = 0;
    }
    vc__stmt_done(s);
    if (rc != 0 || n == 0)
      return rc;
    n--;
  }
}

int vc__ratecard_match(vc__rate_match *out, vc__db *db,
                       const char *tenant_id, const char *provider,
                       const char *channel_id, const char *digits,
                       int64_t at)
{
  char card[VC_ID_SIZE];
  int rc;

  memset(out, 0, sizeof(*out));
  if (provider == NULL || provider[0] == '\0')
    return 0;
  if (channel_id != NULL && channel_id[0] != '\0') {
    if ((rc = card_at(card, db, tenant_id, provider, channel_id, at)) < 0)
      return rc;
    if (rc == 1 && (rc = entry_in(out, db, tenant_id, card, digits)) != 0)
      return rc;
  }
  if ((rc = card_at(card, db, tenant_id, provider, "", at)) <= 0)
    return rc;
  return entry_in(out, db, tenant_id, card, digits);
}

/* Both cards at once: the channel's card in effect (its entries first),
 * then the provider's; in each, the longest prefix of the number among
 * the entries that price messages. ?5..?20 are the prefixes of the
 * number ("" and each length up to 15, the whole number repeated past
 * its length), so the entry lookups use the (tenant, card, prefix)
 * index; CROSS JOIN keeps the cards first (SQLite would otherwise scan a
 * tenant's priced entries). */
static const char SQL_MESSAGE_RATE[] =
  "SELECT c.id, e.prefix, e.message_micros, e.currency, c.provider"
  " FROM vc_ratecard c CROSS JOIN vc_ratecard_entry e"
  " WHERE e.tenant_id = c.tenant_id AND e.card_id = c.id"
  " AND c.tenant_id = ?1"
  " AND c.provider = COALESCE(?2, (SELECT provider FROM vc_channel"
  "  WHERE tenant_id = ?1 AND id = ?3))"
  " AND c.channel_id IN (?3, '')"
  " AND c.effective_from = (SELECT MAX(effective_from) FROM vc_ratecard x"
  "  WHERE x.tenant_id = ?1 AND x.provider = c.provider"
  "  AND x.channel_id = c.channel_id AND x.effective_from <= ?4)"
  " AND e.prefix IN (?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
  "  ?16, ?17, ?18, ?19, ?20)"
  " AND e.message_micros > 0"
  " ORDER BY c.channel_id = '', length(e.prefix) DESC LIMIT 1";

int vc__ratecard_match_message(vc__msg_rate *out, vc__db *db,
                               const char *tenant_id, const char *provider,
                               const char *channel_id, const char *digits,
                               int64_t at)
{
  char prefixes[VC_RATECARD_PREFIX_MAX + 1][VC_RATECARD_PREFIX_MAX + 1];
  size_t n = digits ? strlen(digits) : 0;
  vc__stmt *s;
  int rc;

  memset(out, 0, sizeof(*out));
  if (n > VC_RATECARD_PREFIX_MAX)
    n = VC_RATECARD_PREFIX_MAX;
  for (size_t i = 0; i <= VC_RATECARD_PREFIX_MAX; i++) {
    /* Lengths past the number repeat it: the IN list stays 16 long. */
    size_t len = i <= n ? i : n;
    memcpy(prefixes[i], digits ? digits : "", len);
    prefixes[i][len] = '\0';
  }
  if ((rc = vc__db_query(&s, db, SQL_MESSAGE_RATE, "ttti" "tttttttttttttttt",
                         tenant_id, provider,
                         channel_id ? channel_id : "", at, prefixes[0],
                         prefixes[1], prefixes[2], prefixes[3], prefixes[4],
                         prefixes[5], prefixes[6], prefixes[7], prefixes[8],
                         prefixes[9], prefixes[10], prefixes[11],
                         prefixes[12], prefixes[13], prefixes[14],
                         prefixes[15])) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    snprintf(out->card_id, sizeof(out->card_id), "%s", vc__stmt_text(s, 0));
    snprintf(out->prefix, sizeof(out->prefix), "%s", vc__stmt_text(s, 1));
    out->micros = vc__stmt_int64(s, 2);
    snprintf(out->currency, sizeof(out->currency), "%s",
             vc__stmt_text(s, 3));
    snprintf(out->provider, sizeof(out->provider), "%s",
             vc__stmt_text(s, 4));
    rc = 1;
  } else if (rc == VC_STORAGE_DONE) {
    rc = 0;
  }
  vc__stmt_done(s);
  return rc;
}

/* ---- the handle ------------------------------------------------------- */

struct vc_ratecard {
  char id[VC_ID_SIZE];
  char provider[VC__PROVIDER_MAX + 1];
  char channel_id[VC_ID_SIZE];
  int64_t effective_from, created_at, updated_at;
  vc__rc_rows rows;
};

void vc_ratecard_free(vc_ratecard *c)
{
  if (c == NULL)
    return;
  vc__rc_rows_free(&c->rows);
  vc__free(c);
}

const char *vc_ratecard_id(const vc_ratecard *c) { return c ? c->id : NULL; }
const char *vc_ratecard_provider(const vc_ratecard *c)
{
  return c ? c->provider : NULL;
}
const char *vc_ratecard_channel_id(const vc_ratecard *c)
{
  return c ? c->channel_id : NULL;
}
int64_t vc_ratecard_effective_from(const vc_ratecard *c)
{
  return c ? c->effective_from : 0;
}
int64_t vc_ratecard_created_at(const vc_ratecard *c)
{
  return c ? c->created_at : 0;
}
int64_t vc_ratecard_updated_at(const vc_ratecard *c)
{
  return c ? c->updated_at : 0;
}
size_t vc_ratecard_entry_count(const vc_ratecard *c)
{
  return c ? c->rows.n : 0;
}
const vc_ratecard_entry *vc_ratecard_entry_at(const vc_ratecard *c,
                                              size_t i)
{
  return c && i < c->rows.n ? &c->rows.row[i].pub : NULL;
}

#define CARD_COLUMNS \
  "id, provider, channel_id, effective_from, created_at, updated_at"

static const char SQL_CARD_BY_ID[] =
  "SELECT " CARD_COLUMNS " FROM vc_ratecard WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CARD_NEXT[] =
  "SELECT " CARD_COLUMNS " FROM vc_ratecard WHERE tenant_id = ?1"
  " AND id > ?2 AND (?3 = '' OR provider = ?3)"
  " AND (?4 = '' OR channel_id = ?4) ORDER BY id LIMIT 1";
static const char SQL_ENTRIES[] =
  "SELECT prefix, rate_per_min, initial_s, subsequent_s, connection_fee,"
  " currency, message_micros FROM vc_ratecard_entry WHERE tenant_id = ?1 AND card_id = ?2"
  " ORDER BY seq";

static int load_entries(vc_ratecard *c, vc__db *db, const char *tenant_id)
{
  vc__stmt *s;
  int rc;

  c->rows.unit = "entry";
  if ((rc = vc__db_query(&s, db, SQL_ENTRIES, "tt", tenant_id, c->id)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    vc__rc_row *row;
    if (c->rows.n == c->rows.cap) {
      size_t cap = c->rows.cap ? c->rows.cap * 2 : 16;
      vc__rc_row *p = vc__realloc(c->rows.row, cap * sizeof(*p));
      if (p == NULL) {
        rc = vc_error_set_oom();
        break;
      }
      c->rows.row = p;
      c->rows.cap = cap;
    }
    row = &c->rows.row[c->rows.n++];
    memset(row, 0, sizeof(*row));
    row->number = c->rows.n;
    row->pub.version = VC_RATECARD_ENTRY_VERSION;
    snprintf(row->prefix, sizeof(row->prefix), "%s", vc__stmt_text(s, 0));
    row->pub.rate_per_min_micros = vc__stmt_int64(s, 1);
    row->pub.initial_s = (int)vc__stmt_int64(s, 2);
    row->pub.subsequent_s = (int)vc__stmt_int64(s, 3);
    row->pub.connection_fee_micros = vc__stmt_int64(s, 4);
    snprintf(row->currency, sizeof(row->currency), "%s",
             vc__stmt_text(s, 5));
    row->pub.message_micros = vc__stmt_int64(s, 6);
  }
  vc__stmt_done(s);
  if (rc != VC_STORAGE_DONE)
    return rc < 0 ? rc : VC_ERROR;
  vc__rc_rows_fix(&c->rows);
  return 0;
}

/* A card by `sql` (a CARD_COLUMNS query, already stepped to its row). */
static int card_from_stmt(vc_ratecard **out, vc__stmt *s)
{
  vc_ratecard *c = vc__calloc(1, sizeof(*c));

  if (c == NULL)
    return vc_error_set_oom();
  snprintf(c->id, sizeof(c->id), "%s", vc__stmt_text(s, 0));
  snprintf(c->provider, sizeof(c->provider), "%s", vc__stmt_text(s, 1));
  snprintf(c->channel_id, sizeof(c->channel_id), "%s", vc__stmt_text(s, 2));
  c->effective_from = vc__stmt_int64(s, 3);
  c->created_at = vc__stmt_int64(s, 4);
  c->updated_at = vc__stmt_int64(s, 5);
  *out = c;
  return 0;
}

static int load_card(vc_ratecard **out, vc__db *db, const char *tenant_id,
                     const char *id)
{
  vc__stmt *s;
  int rc;

  *out = NULL;
  if ((rc = vc__db_query(&s, db, SQL_CARD_BY_ID, "tt", tenant_id, id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW)
    rc = card_from_stmt(out, s);
  else if (rc == VC_STORAGE_DONE)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no rate card '%.32s'", id);
  vc__stmt_done(s);
  if (rc == 0 && (rc = load_entries(*out, db, tenant_id)) < 0) {
    vc_ratecard_free(*out);
    *out = NULL;
  }
  return rc;
}

int vc_ratecard_lookup(vc_ratecard **out, vc_tenant *t, const char *id)
{
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if (!vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "rate card id is not a valid id");
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    return rc;
  rc = load_card(out, db, vc_tenant_id(t), id);
  vc__db_release(db);
  return rc;
}

/* ---- store ------------------------------------------------------------- */

static const char SQL_CHANNEL[] =
  "SELECT id, provider FROM vc_channel WHERE tenant_id = ?1"
  " AND (id = ?2 OR name = ?2)";

/* A channel of the tenant by id or name: 1 with its id and provider, 0
 * when there is none. */
static int find_channel(char id[VC_ID_SIZE],
                        char provider[VC__PROVIDER_MAX + 1], vc__db *db,
                        const char *tenant_id, const char *id_or_name)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_CHANNEL, "tt", tenant_id,
                         id_or_name)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    snprintf(id, VC_ID_SIZE, "%s", vc__stmt_text(s, 0));
    snprintf(provider, VC__PROVIDER_MAX + 1, "%s", vc__stmt_text(s, 1));
    rc = 1;
  } else if (rc == VC_STORAGE_DONE) {
    rc = 0;
  }
  vc__stmt_done(s);
  return rc;
}

static const char SQL_CARD_BY_KEY[] =
  "SELECT id FROM vc_ratecard WHERE tenant_id = ?1 AND provider = ?2"
  " AND channel_id = ?3 AND effective_from = ?4";
static const char SQL_CARD_INSERT[] =
  "INSERT INTO vc_ratecard (tenant_id, id, provider, channel_id,"
  " effective_from, nentries, created_at, updated_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)";
static const char SQL_CARD_UPDATE[] =
  "UPDATE vc_ratecard SET nentries = ?3, updated_at = ?4"
  " WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_ENTRIES_DELETE[] =
  "DELETE FROM vc_ratecard_entry WHERE tenant_id = ?1 AND card_id = ?2";
static const char SQL_ENTRY_INSERT[] =
  "INSERT INTO vc_ratecard_entry (tenant_id, card_id, seq, prefix,"
  " rate_per_min, initial_s, subsequent_s, connection_fee, currency,"
  " message_micros) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char SQL_CARD_DELETE[] =
  "DELETE FROM vc_ratecard WHERE tenant_id = ?1 AND id = ?2";

/* The card's key, checked. */
typedef struct card_key {
  char provider[VC__PROVIDER_MAX + 1];
  char channel_id[VC_ID_SIZE];
  int64_t effective_from;
} card_key;

static int resolve_key(card_key *k, vc__db *db, const char *tenant_id,
                       const vc_ratecard_spec *spec)
{
  int rc;

  memset(k, 0, sizeof(*k));
  if (spec->provider != NULL &&
      (rc = vc__check_token("rate card provider", spec->provider,
                            VC__PROVIDER_MAX, "a-z0-9", "a-z0-9_.-")) < 0)
    return rc;
  if (spec->effective_from < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "effective_from is negative");
  k->effective_from = spec->effective_from;
  if (spec->channel != NULL) {
    char provider[VC__PROVIDER_MAX + 1];
    if ((rc = vc__check_text("rate card channel", spec->channel, 128, 1)) <
        0)
      return rc;
    if ((rc = find_channel(k->channel_id, provider, db, tenant_id,
                           spec->channel)) < 0)
      return rc;
    if (rc == 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                           "no channel '%.64s'", spec->channel);
    if (spec->provider != NULL && strcmp(provider, spec->provider) != 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "channel '%.64s' is a '%s' channel, not '%s'",
                           spec->channel, provider, spec->provider);
    memcpy(k->provider, provider, sizeof(provider));
    return 0;
  }
  if (spec->provider == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a rate card needs a provider or a channel");
  snprintf(k->provider, sizeof(k->provider), "%s", spec->provider);
  return 0;
}

static int store_card(char id_out[VC_ID_SIZE], vc__db *db, vc_ctx *ctx,
                      const char *tenant_id, const vc_ratecard_spec *spec,
                      const vc__rc_rows *rows, const char *action)
{
  char id[VC_ID_SIZE], payload[160];
  int64_t now = vc__now(ctx);
  int existing = 0, rc;
  card_key k;
  vc__stmt *s;

  if ((rc = resolve_key(&k, db, tenant_id, spec)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_CARD_BY_KEY, "ttti", tenant_id,
                         k.provider, k.channel_id, k.effective_from)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    snprintf(id, sizeof(id), "%s", vc__stmt_text(s, 0));
    existing = 1;
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if (existing) {
    if ((rc = vc__db_run(db, SQL_ENTRIES_DELETE, "tt", tenant_id, id)) == 0)
      rc = vc__db_run(db, SQL_CARD_UPDATE, "ttii", tenant_id, id,
                      (int64_t)rows->n, now);
  } else if ((rc = vc__new_id(ctx, id)) == 0) {
    rc = vc__db_run(db, SQL_CARD_INSERT, "ttttiii", tenant_id, id,
                    k.provider, k.channel_id, k.effective_from,
                    (int64_t)rows->n, now);
  }
  if (rc < 0)
    return rc;
  for (size_t i = 0; i < rows->n; i++) {
    const vc__rc_row *r = &rows->row[i];
    if ((rc = vc__db_run(db, SQL_ENTRY_INSERT, "ttitiiiiti", tenant_id, id,
                         (int64_t)i, r->prefix, r->pub.rate_per_min_micros,
                         (int64_t)r->pub.initial_s,
                         (int64_t)r->pub.subsequent_s,
                         r->pub.connection_fee_micros, r->currency,
                         r->pub.message_micros)) < 0)
      return rc;
  }
  snprintf(payload, sizeof(payload),
           "{\"provider\":\"%s\",\"channel_id\":\"%s\",\"entries\":%zu}",
           k.provider, k.channel_id, rows->n);
  if ((rc = vc__event_append(db, ctx, tenant_id,
                             existing ? "ratecard.updated"
                                      : "ratecard.created",
                             id, payload)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, action, id, payload)) < 0)
    return rc;
  memcpy(id_out, id, VC_ID_SIZE);
  return 0;
}

/* Check, then store in one transaction. */
static int save(char id_out[VC_ID_SIZE], vc_tenant *t,
                const vc_ratecard_spec *spec, const vc__rc_rows *rows,
                const char *action)
{
  vc_ctx *ctx = vc__tenant_ctx(t);
  vc__db *db;
  int rc;

  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) == 0) {
    if ((rc = store_card(id_out, db, ctx, vc_tenant_id(t), spec, rows,
                         action)) < 0 ||
        (rc = vc__db_commit(db)) < 0)
      vc__db_rollback(db);
  }
  vc__db_release(db);
  if (rc == 0) {
    vc__msg_ledger_forget(ctx, vc_tenant_id(t));
    vc_ctx_wakeup(ctx);
  }
  return rc;
}

int vc_ratecard_set(char id_out[VC_ID_SIZE], vc_tenant *t,
                    const vc_ratecard_spec *spec)
{
  vc__rc_rows rows;
  int rc;

  VC_ASSERT_ARG(id_out);
  id_out[0] = '\0';
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_RATECARD_SPEC_VERSION, "vc_ratecard_spec");
  if ((rc = vc__ratecard_check(&rows, spec->entries, spec->nentries)) < 0)
    return rc;
  rc = save(id_out, t, spec, &rows, "ratecard.set");
  vc__rc_rows_free(&rows);
  return rc;
}

int vc_ratecard_import(char id_out[VC_ID_SIZE], vc_tenant *t,
                       const vc_ratecard_spec *spec, int format,
                       const char *text, size_t len)
{
  vc__rc_rows rows;
  int rc;

  VC_ASSERT_ARG(id_out);
  id_out[0] = '\0';
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(spec);
  VC_CHECK_VERSION(spec, VC_RATECARD_SPEC_VERSION, "vc_ratecard_spec");
  if (spec->entries != NULL || spec->nentries != 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "an import takes its entries from the text, not "
                         "the spec");
  if ((rc = vc__ratecard_parse(&rows, format, text, len)) < 0)
    return rc;
  rc = save(id_out, t, spec, &rows, "ratecard.import");
  vc__rc_rows_free(&rows);
  return rc;
}

int vc_ratecard_delete(vc_tenant *t, const char *id)
{
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(t);
  if (!vc__ulid_valid(id))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "rate card id is not a valid id");
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = vc__db_run(db, SQL_CARD_DELETE, "tt", vc_tenant_id(t), id)) < 0)
    goto fail;
  if (vc__db_changes(db) == 0) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no rate card '%.32s'", id);
    goto fail;
  }
  if ((rc = vc__db_run(db, SQL_ENTRIES_DELETE, "tt", vc_tenant_id(t),
                       id)) < 0 ||
      (rc = vc__event_append(db, ctx, vc_tenant_id(t), "ratecard.deleted",
                             id, NULL)) < 0 ||
      (rc = vc__audit(db, ctx, vc_tenant_id(t), "ratecard.delete", id,
                      NULL)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  vc__msg_ledger_forget(ctx, vc_tenant_id(t));
  vc_ctx_wakeup(ctx);
  goto release;
fail:
  vc__db_rollback(db);
release:
  vc__db_release(db);
  return rc;
}

/* ---- list --------------------------------------------------------------- */

typedef struct card_iter {
  vc_iter base;
  vc_store *store;
  char tenant_id[VC_ID_SIZE];
  char provider[VC__PROVIDER_MAX + 1];
  char channel[VC_ID_SIZE];
  int done;
} card_iter;

static const vc__iter_ops CARD_ITER = { "ratecard", NULL };

int vc_ratecard_list(vc_iter **out, vc_tenant *t,
                     const vc_ratecard_filter *f)
{
  card_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_RATECARD_FILTER_VERSION, "vc_ratecard_filter");
  if (f != NULL && f->after != NULL && f->after[0] != '\0' &&
      !vc__ulid_valid(f->after))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not a rate card list cursor");
  if (f != NULL && f->channel != NULL && !vc__ulid_valid(f->channel))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "channel filter is not a channel id");
  if (f != NULL && f->provider != NULL &&
      vc__check_token("provider filter", f->provider, VC__PROVIDER_MAX,
                      "a-z0-9", "a-z0-9_.-") < 0)
    return VC_EINVALID;
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  it->base.ops = &CARD_ITER;
  it->store = vc__tenant_ctx(t)->store;
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  if (f != NULL) {
    snprintf(it->base.cursor, sizeof(it->base.cursor), "%s",
             f->after ? f->after : "");
    snprintf(it->provider, sizeof(it->provider), "%s",
             f->provider ? f->provider : "");
    snprintf(it->channel, sizeof(it->channel), "%s",
             f->channel ? f->channel : "");
  }
  *out = &it->base;
  return 0;
}

int vc_ratecard_next(vc_ratecard **out, vc_iter *base)
{
  card_iter *it = (card_iter *)base;
  vc__stmt *s;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__iter_check(base, &CARD_ITER)) < 0)
    return rc;
  if (it->done)
    return VC_ITEROVER;
  if ((rc = vc__db_acquire(&db, it->store)) < 0)
    return rc;
  /* One card at a time: a card may hold many entries. */
  if ((rc = vc__db_query(&s, db, SQL_CARD_NEXT, "tttt", it->tenant_id,
                         base->cursor, it->provider, it->channel)) == 0) {
    rc = vc__stmt_step(s);
    if (rc == VC_STORAGE_ROW)
      rc = card_from_stmt(out, s);
    else if (rc == VC_STORAGE_DONE)
      rc = VC_ITEROVER;
    vc__stmt_done(s);
  }
  if (rc == 0 && (rc = load_entries(*out, db, it->tenant_id)) < 0) {
    vc_ratecard_free(*out);
    *out = NULL;
  }
  vc__db_release(db);
  if (rc == VC_ITEROVER)
    it->done = 1;
  else if (rc == 0)
    snprintf(base->cursor, sizeof(base->cursor), "%s", (*out)->id);
  return rc;
}

/* ---- quote --------------------------------------------------------------- */

int vc_ratecard_quote(int64_t *cost_micros, char currency[4], vc_tenant *t,
                      const char *provider_or_channel,
                      const char *destination, int talk_s)
{
  char digits[VC_RATECARD_PREFIX_MAX + 1];
  char channel_id[VC_ID_SIZE] = "", provider[VC__PROVIDER_MAX + 1];
  vc__rate_match m;
  int64_t billed;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(cost_micros);
  *cost_micros = 0;
  VC_ASSERT_ARG(currency);
  currency[0] = '\0';
  VC_ASSERT_ARG(t);
  if ((rc = vc__check_text("provider or channel", provider_or_channel, 128,
                           1)) < 0)
    return rc;
  if (vc__e164_digits(digits, destination) < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "destination is not an E.164 number");
  if (talk_s < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "talk_s is negative");
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    return rc;
  rc = find_channel(channel_id, provider, db, vc_tenant_id(t),
                    provider_or_channel);
  if (rc == 0)
    snprintf(provider, sizeof(provider), "%s", provider_or_channel);
  if (rc >= 0)
    rc = vc__ratecard_match(&m, db, vc_tenant_id(t), provider, channel_id,
                            digits, vc__now(vc__tenant_ctx(t)));
  vc__db_release(db);
  if (rc < 0)
    return rc;
  if (rc == 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no rate card entry prices +%s", digits);
  if ((rc = vc__ratecard_cost(cost_micros, &billed, &m, talk_s)) < 0)
    return rc;
  memcpy(currency, m.currency, 4);
  return 0;
}

int vc_ratecard_quote_message(int64_t *cost_micros, char currency[4],
                              vc_tenant *t, const char *provider_or_channel,
                              const char *destination, int segments)
{
  char digits[VC_RATECARD_PREFIX_MAX + 1] = "";
  char channel_id[VC_ID_SIZE] = "", provider[VC__PROVIDER_MAX + 1];
  int number = destination != NULL && destination[0] != '\0';
  vc__msg_rate m;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(cost_micros);
  *cost_micros = 0;
  VC_ASSERT_ARG(currency);
  currency[0] = '\0';
  VC_ASSERT_ARG(t);
  if ((rc = vc__check_text("provider or channel", provider_or_channel, 128,
                           1)) < 0)
    return rc;
  if (number && vc__e164_digits(digits, destination) < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "destination is not an E.164 number");
  if (segments < 1 || segments > VC__SMS_MAX_PARTS)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "segments must be 1..%d", VC__SMS_MAX_PARTS);
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    return rc;
  rc = find_channel(channel_id, provider, db, vc_tenant_id(t),
                    provider_or_channel);
  if (rc == 0)
    snprintf(provider, sizeof(provider), "%s", provider_or_channel);
  if (rc >= 0)
    rc = vc__ratecard_match_message(&m, db, vc_tenant_id(t), provider,
                                    channel_id, number ? digits : NULL,
                                    vc__now(vc__tenant_ctx(t)));
  vc__db_release(db);
  if (rc < 0)
    return rc;
  if (rc == 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no rate card entry prices messages to %s%s",
                         number ? "+" : "", number ? digits : "\"\"");
  /* micros <= 10^15 and segments <= 255: no overflow. */
  *cost_micros = m.micros * segments;
  memcpy(currency, m.currency, 4);
  return 0;
}

int vc_ratecard_entry_init(vc_ratecard_entry *e, unsigned int version)
{
  VC_INIT_STRUCT_SIZED(e, version, VC_RATECARD_ENTRY_VERSION,
                       vc_ratecard_entry, vc__ratecard_entry_size(version),
                       VC_RATECARD_ENTRY_INIT);
}

int vc_ratecard_spec_init(vc_ratecard_spec *s, unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_RATECARD_SPEC_VERSION, vc_ratecard_spec,
                 VC_RATECARD_SPEC_INIT);
}

int vc_ratecard_filter_init(vc_ratecard_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_RATECARD_FILTER_VERSION, vc_ratecard_filter,
                 VC_RATECARD_FILTER_INIT);
}
