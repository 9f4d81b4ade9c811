/*
 * The ledger: append-only entries of costs, read back through an
 * iterator. A changed cost is never an update: the old entry is reversed
 * and a new one posted (src/call/billing.c).
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "ledger.h"

#include <stdio.h>

const char *vc_ledger_kind_name(int kind)
{
  static const char *const names[] = {
    "unknown", "estimate", "provider_price", "reversal"
  };

  return kind >= VC_LEDGER_ESTIMATE && kind <= VC_LEDGER_REVERSAL
           ? names[kind] : names[0];
}

/* ---- periods and currencies ------------------------------------------ */

void vc__ledger_period(char out[11], int64_t ms)
{
  /* Days since 1970-01-01 to a civil date (proleptic Gregorian), after
   * H. Hinnant's days_from_civil inverse; floor division for ms < 0. */
  int64_t z = (ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000);
  int64_t era, doe, yoe, y, doy, mp, d, m;

  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  if (y < 0 || y > 9999)
    y = y < 0 ? 0 : 9999;
  snprintf(out, 11, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
}

int vc__currency_exponent(const char *code)
{
  /* ISO 4217 currencies whose minor unit is not 1/100. */
  static const char zero[] =
    "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
  static const char three[] = "BHD IQD JOD KWD LYD OMR TND";
  static const char four[] = "CLF UYW";

  if (code == NULL || strlen(code) != 3)
    return 2;
  for (const char *p = zero; *p; p += p[3] ? 4 : 3)
    if (memcmp(p, code, 3) == 0)
      return 0;
  for (const char *p = three; *p; p += p[3] ? 4 : 3)
    if (memcmp(p, code, 3) == 0)
      return 3;
  for (const char *p = four; *p; p += p[3] ? 4 : 3)
    if (memcmp(p, code, 3) == 0)
      return 4;
  return 2;
}

/* ---- posting ---------------------------------------------------------- */

static const char SQL_INSERT[] =
  "INSERT INTO vc_ledger (tenant_id, id, source, source_id, kind,"
  " amount_micros, currency, period, occurred_at, reverses, provider,"
  " channel_id, ratecard_id, prefix, billed_s, created_at, campaign_id,"
  " price_ref)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
  " ?15, ?16, ?17, ?18)";

int vc__ledger_post_entry(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                          const vc__ledger_post *p, char id_out[VC_ID_SIZE])
{
  char id[VC_ID_SIZE], period[11], payload[256];
  int rc;

  if (p->amount_micros <= 0 || p->kind < VC_LEDGER_ESTIMATE ||
      p->kind > VC_LEDGER_REVERSAL)
    return vc__error_set(VC_ERRCLASS_INTERNAL, VC_EINVALID,
                         "ledger entries need a kind and an amount > 0");
  vc__ledger_period(period, p->occurred_at);
  if ((rc = vc__new_id(ctx, id)) < 0 ||
      (rc = vc__db_run(db, SQL_INSERT, "ttttiittitttttiitt", tenant_id, id,
                       p->source, p->source_id, (int64_t)p->kind,
                       p->amount_micros, p->currency, period,
                       p->occurred_at, p->reverses,
                       p->provider ? p->provider : "",
                       p->channel_id ? p->channel_id : "", p->ratecard_id,
                       p->prefix, p->billed_s, vc__now(ctx),
                       p->campaign_id && p->campaign_id[0] ? p->campaign_id
                                                           : NULL,
                       p->price_ref)) < 0)
    return rc;
  snprintf(payload, sizeof(payload),
           "{\"kind\":\"%s\",\"amount_micros\":%lld,\"currency\":\"%s\","
           "\"source\":\"%s\",\"source_id\":\"%.26s\",\"period\":\"%s\"}",
           vc_ledger_kind_name(p->kind), (long long)p->amount_micros,
           p->currency, p->source, p->source_id, period);
  if ((rc = vc__event_append(db, ctx, tenant_id, "ledger.posted", id,
                             payload)) < 0 ||
      (rc = vc__stats_on_ledger(db, ctx, tenant_id, p, period)) < 0)
    return rc;
  if (id_out)
    memcpy(id_out, id, VC_ID_SIZE);
  return 0;
}

static const char SQL_CURRENT[] =
  "SELECT e.id, e.kind, e.amount_micros, e.currency, e.provider,"
  " e.channel_id FROM vc_ledger e WHERE e.tenant_id = ?1"
  " AND e.source = ?2 AND e.source_id = ?3 AND e.kind <> 3"
  " AND NOT EXISTS (SELECT 1 FROM vc_ledger r WHERE r.tenant_id = ?1"
  "  AND r.reverses = e.id)"
  " ORDER BY e.id DESC LIMIT 1";
static const char SQL_ANY[] =
  "SELECT 1 FROM vc_ledger WHERE tenant_id = ?1 AND source = ?2"
  " AND source_id = ?3 LIMIT 1";

int vc__ledger_current_of(vc__ledger_current *out, int *any, vc__db *db,
                          const char *tenant_id, const char *source,
                          const char *source_id)
{
  vc__stmt *s;
  int rc;

  memset(out, 0, sizeof(*out));
  if (any != NULL) {
    *any = 0;
    if ((rc = vc__db_query(&s, db, SQL_ANY, "ttt", tenant_id, source,
                           source_id)) < 0)
      return rc;
    rc = vc__stmt_step(s);
    vc__stmt_done(s);
    if (rc < 0)
      return rc;
    *any = rc == VC_STORAGE_ROW;
  }
  if ((rc = vc__db_query(&s, db, SQL_CURRENT, "ttt", tenant_id, source,
                         source_id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    snprintf(out->id, sizeof(out->id), "%s", vc__stmt_text(s, 0));
    out->kind = (int)vc__stmt_int64(s, 1);
    out->amount_micros = vc__stmt_int64(s, 2);
    snprintf(out->currency, sizeof(out->currency), "%s",
             vc__stmt_text(s, 3));
    snprintf(out->provider, sizeof(out->provider), "%s",
             vc__stmt_text(s, 4));
    snprintf(out->channel_id, sizeof(out->channel_id), "%s",
             vc__stmt_text(s, 5));
    rc = 1;
  } else if (rc == VC_STORAGE_DONE) {
    rc = 0;
  }
  vc__stmt_done(s);
  return rc;
}

/* ---- the handle ------------------------------------------------------- */

struct vc_ledger_entry {
  char id[VC_ID_SIZE];
  int kind;
  int64_t amount_micros;
  char currency[4];
  char source[16];
  char source_id[VC_ID_SIZE];
  char period[11];
  char reverses[VC_ID_SIZE];
  char provider[65];
  char channel_id[VC_ID_SIZE];
  int64_t occurred_at, created_at;
};

#define COLUMNS \
  "id, kind, amount_micros, currency, source, source_id, period," \
  " COALESCE(reverses, ''), provider, channel_id, occurred_at, created_at"

static const char SQL_PAGE[] =
  "SELECT " COLUMNS " FROM vc_ledger WHERE tenant_id = ?1"
  " AND (?2 = '' OR id > ?2) AND (?3 = 0 OR occurred_at >= ?3)"
  " AND (?4 = 0 OR occurred_at < ?4) AND (?5 = '' OR source = ?5)"
  " AND (?6 = '' OR source_id = ?6) ORDER BY id LIMIT 50";

void vc_ledger_entry_free(vc_ledger_entry *e)
{
  vc__free(e);
}

#define COPY(field, col) \
  snprintf(e->field, sizeof(e->field), "%s", vc__stmt_text(s, col))

static int entry_from_stmt(vc_ledger_entry **out, vc__stmt *s)
{
  vc_ledger_entry *e = vc__calloc(1, sizeof(*e));

  if (e == NULL)
    return vc_error_set_oom();
  COPY(id, 0);
  e->kind = (int)vc__stmt_int64(s, 1);
  e->amount_micros = vc__stmt_int64(s, 2);
  COPY(currency, 3);
  COPY(source, 4);
  COPY(source_id, 5);
  COPY(period, 6);
  COPY(reverses, 7);
  COPY(provider, 8);
  COPY(channel_id, 9);
  e->occurred_at = vc__stmt_int64(s, 10);
  e->created_at = vc__stmt_int64(s, 11);
  *out = e;
  return 0;
}

#define STR_GETTER(name)                                                 \
  const char *vc_ledger_entry_##name(const vc_ledger_entry *e)          \
  {                                                                      \
    return e ? e->name : NULL;                                           \
  }
STR_GETTER(id)
STR_GETTER(currency)
STR_GETTER(source)
STR_GETTER(source_id)
STR_GETTER(period)
STR_GETTER(reverses)
STR_GETTER(provider)
STR_GETTER(channel_id)

int vc_ledger_entry_kind(const vc_ledger_entry *e) { return e ? e->kind : 0; }
int64_t vc_ledger_entry_amount_micros(const vc_ledger_entry *e)
{
  return e ? e->amount_micros : 0;
}
int64_t vc_ledger_entry_occurred_at(const vc_ledger_entry *e)
{
  return e ? e->occurred_at : 0;
}
int64_t vc_ledger_entry_created_at(const vc_ledger_entry *e)
{
  return e ? e->created_at : 0;
}

/* ---- list ------------------------------------------------------------- */

typedef struct ledger_iter {
  vc__page_iter page;
  char tenant_id[VC_ID_SIZE];
  char source[16];
  char source_id[VC_ID_SIZE];
  int64_t from, to;
} ledger_iter;

static int page_query(vc__stmt **out, vc__db *db, const vc__page_iter *p)
{
  const ledger_iter *it = (const ledger_iter *)p;

  return vc__db_query(out, db, SQL_PAGE, "ttiitt", it->tenant_id,
                      p->base.cursor, it->from, it->to, it->source,
                      it->source_id);
}

static int page_row(void **out, vc__stmt *s)
{
  return entry_from_stmt((vc_ledger_entry **)out, s);
}

static void page_row_free(void *row)
{
  vc_ledger_entry_free(row);
}

static const char *page_row_key(const void *row)
{
  return ((const vc_ledger_entry *)row)->id;
}

static const vc__page_ops LEDGER_PAGES = {
  { "ledger", vc__page_iter_free }, page_query, page_row, page_row_free,
  page_row_key
};

int vc_ledger_list(vc_iter **out, vc_tenant *t, const vc_ledger_filter *f)
{
  ledger_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_LEDGER_FILTER_VERSION, "vc_ledger_filter");
  if (f != NULL) {
    if (f->after != NULL && f->after[0] != '\0' && !vc__ulid_valid(f->after))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "cursor is not a ledger list cursor");
    if (f->from < 0 || f->to < 0 || (f->to != 0 && f->to <= f->from))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "the period must have 0 <= from < to");
    if (f->source != NULL &&
        vc__check_token("source filter", f->source, 15, "a-z", "a-z_") < 0)
      return VC_EINVALID;
    if (f->source_id != NULL && !vc__ulid_valid(f->source_id))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "source_id filter is not an id");
  }
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  vc__page_iter_init(&it->page, &LEDGER_PAGES, vc__tenant_ctx(t)->store,
                     f != NULL ? f->after : NULL);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  if (f != NULL) {
    snprintf(it->source, sizeof(it->source), "%s",
             f->source ? f->source : "");
    snprintf(it->source_id, sizeof(it->source_id), "%s",
             f->source_id ? f->source_id : "");
    it->from = f->from;
    it->to = f->to;
  }
  *out = &it->page.base;
  return 0;
}

int vc_ledger_next(vc_ledger_entry **out, vc_iter *base)
{
  void *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__page_iter_next(&row, base, &LEDGER_PAGES)) < 0)
    return rc;
  *out = row;
  return 0;
}

int vc_ledger_filter_init(vc_ledger_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_LEDGER_FILTER_VERSION, vc_ledger_filter,
                 VC_LEDGER_FILTER_INIT);
}
