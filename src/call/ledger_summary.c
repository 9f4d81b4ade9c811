/*
 * Period summaries of the ledger: per UTC day and currency, the sums by
 * kind and by source and the net cost (estimates + provider prices -
 * reversals). The entries are read in the order of the (tenant,
 * occurred_at) index and summed here, a day at a time: a GROUP BY would
 * sort every entry of the period first, holding them all in memory (the
 * store keeps temporary data in memory), however many there are. Memory
 * is one day's sums; the output is bounded by the period: at most
 * VC_LEDGER_SUMMARY_MAX_DAYS days.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "core/tenant.h"
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>

#define SOURCES_MAX 8
#define CURRENCIES_MAX 16

/* A period is the UTC date of occurred_at, so the index order keeps each
 * period's entries together. */
static const char SQL_ENTRIES[] =
  "SELECT period, currency, source, kind, amount_micros"
  " FROM vc_ledger WHERE tenant_id = ?1 AND occurred_at >= ?2"
  " AND occurred_at < ?3 ORDER BY occurred_at";

typedef struct sums {
  int64_t kind[4];            /* by vc_ledger_kind */
  int64_t entries;
} sums;

typedef struct group {
  char period[11], currency[4];
  sums all;
  size_t nsrc;
  char source[SOURCES_MAX][16];
  sums by_source[SOURCES_MAX];
} group;

/* The groups of the day being read, one per currency. */
typedef struct day {
  char period[11];
  size_t n;
  group g[CURRENCIES_MAX];
} day;

static void put_sums(vc_buf *b, int *rc, const sums *s)
{
  int64_t net = s->kind[VC_LEDGER_ESTIMATE] +
                s->kind[VC_LEDGER_PROVIDER_PRICE] -
                s->kind[VC_LEDGER_REVERSAL];

  if (*rc == 0)
    *rc = vc__buf_printf(b, "\"estimate_micros\":%lld,"
                         "\"provider_price_micros\":%lld,"
                         "\"reversal_micros\":%lld,\"net_micros\":%lld,"
                         "\"entries\":%lld",
                         (long long)s->kind[VC_LEDGER_ESTIMATE],
                         (long long)s->kind[VC_LEDGER_PROVIDER_PRICE],
                         (long long)s->kind[VC_LEDGER_REVERSAL],
                         (long long)net, (long long)s->entries);
}

static int flush(vc_buf *b, const group *g, int first)
{
  size_t order[SOURCES_MAX];
  int rc = vc__buf_printf(b, "%s\n{\"period\":\"%s\",\"currency\":\"%s\",",
                          first ? "" : ",", g->period, g->currency);

  /* Sources by name (insertion sort of at most SOURCES_MAX). */
  for (size_t i = 0; i < g->nsrc; i++) {
    size_t j = i;
    for (; j > 0 && strcmp(g->source[order[j - 1]], g->source[i]) > 0; j--)
      order[j] = order[j - 1];
    order[j] = i;
  }
  put_sums(b, &rc, &g->all);
  if (rc == 0)
    rc = vc__buf_puts(b, ",\"sources\":{");
  for (size_t i = 0; rc == 0 && i < g->nsrc; i++) {
    rc = vc__buf_printf(b, "%s\"%s\":{", i ? "," : "", g->source[order[i]]);
    put_sums(b, &rc, &g->by_source[order[i]]);
    if (rc == 0)
      rc = vc__buf_puts(b, "}");
  }
  if (rc == 0)
    rc = vc__buf_puts(b, "}}");
  return rc;
}

static int by_currency(const void *a, const void *b)
{
  return strcmp(((const group *)a)->currency, ((const group *)b)->currency);
}

/* Write the day's groups in currency order and start afresh. */
static int flush_day(vc_buf *b, day *d, int *n)
{
  int rc = 0;

  qsort(d->g, d->n, sizeof(d->g[0]), by_currency);
  for (size_t i = 0; rc == 0 && i < d->n; i++)
    rc = flush(b, &d->g[i], (*n)++ == 0);
  memset(d, 0, sizeof(*d));
  return rc;
}

/* Add one entry to its day's group. */
static int add(day *d, const char *currency, const char *source, int kind,
               int64_t amount)
{
  group *g = NULL;
  size_t i;

  for (i = 0; i < d->n && g == NULL; i++)
    if (strcmp(d->g[i].currency, currency) == 0)
      g = &d->g[i];
  if (g == NULL) {
    if (d->n == CURRENCIES_MAX)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "more than %d currencies on %s: summarize "
                           "with the ledger list", CURRENCIES_MAX,
                           d->period);
    g = &d->g[d->n++];
    memcpy(g->period, d->period, sizeof(g->period));
    snprintf(g->currency, sizeof(g->currency), "%s", currency);
  }
  for (i = 0; i < g->nsrc && strcmp(g->source[i], source) != 0; i++)
    ;
  if (i == g->nsrc && g->nsrc < SOURCES_MAX)
    snprintf(g->source[g->nsrc++], sizeof(g->source[0]), "%s", source);
  if (kind < VC_LEDGER_ESTIMATE || kind > VC_LEDGER_REVERSAL)
    return 0;
  g->all.kind[kind] += amount;
  g->all.entries++;
  if (i < g->nsrc) {
    g->by_source[i].kind[kind] += amount;
    g->by_source[i].entries++;
  }
  return 0;
}

static int summarize(vc_buf *b, vc__db *db, const char *tenant_id,
                     int64_t from, int64_t to)
{
  day *d = vc__calloc(1, sizeof(*d));
  vc__stmt *s;
  int rc, n = 0;

  if (d == NULL)
    return vc_error_set_oom();
  if ((rc = vc__db_query(&s, db, SQL_ENTRIES, "tii", tenant_id, from,
                         to)) < 0) {
    vc__free(d);
    return rc;
  }
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    const char *period = vc__stmt_text(s, 0);
    if (d->period[0] != '\0' && strcmp(d->period, period) != 0 &&
        (rc = flush_day(b, d, &n)) < 0)
      break;
    snprintf(d->period, sizeof(d->period), "%s", period);
    if ((rc = add(d, vc__stmt_text(s, 1), vc__stmt_text(s, 2),
                  (int)vc__stmt_int64(s, 3), vc__stmt_int64(s, 4))) < 0)
      break;
  }
  vc__stmt_done(s);
  if (rc == VC_STORAGE_DONE)
    rc = flush_day(b, d, &n);
  else if (rc >= 0)
    rc = VC_ERROR;
  vc__free(d);
  return rc;
}

int vc_ledger_summary(vc_buf *json_out, vc_tenant *t, int64_t from,
                      int64_t to)
{
  vc_buf b = VC_BUF_INIT;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(json_out);
  VC_ASSERT_ARG(t);
  vc_buf_dispose(json_out);
  if (from < 0 || to <= from)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "the period must have 0 <= from < to");
  if (to - from > (int64_t)VC_LEDGER_SUMMARY_MAX_DAYS * 86400000)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "a summary covers at most %d days",
                         VC_LEDGER_SUMMARY_MAX_DAYS);
  if ((rc = vc__buf_printf(&b, "{\"from\":%lld,\"to\":%lld,\"periods\":[",
                           (long long)from, (long long)to)) < 0)
    goto out;
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    goto out;
  rc = summarize(&b, db, vc_tenant_id(t), from, to);
  vc__db_release(db);
  if (rc == 0)
    rc = vc__buf_puts(&b, "\n]}\n");
  if (rc < 0)
    goto out;
  *json_out = b;
  return 0;
out:
  vc_buf_dispose(&b);
  return rc;
}
