/*
 * Period summaries of the ledger: per UTC day and currency, the sums by
 * kind and by source and the net cost (estimates + provider prices -
 * reversals), from one grouped query over the (tenant, occurred_at)
 * index. The output is bounded by the period: at most
 * VC_LEDGER_SUMMARY_MAX_DAYS days.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "core/tenant.h"
#include "ledger.h"

#include <stdio.h>

#define SOURCES_MAX 8

static const char SQL_SUMMARY[] =
  "SELECT period, currency, source, kind, SUM(amount_micros), COUNT(*)"
  " FROM vc_ledger WHERE tenant_id = ?1 AND occurred_at >= ?2"
  " AND occurred_at < ?3 GROUP BY period, currency, source, kind"
  " ORDER BY period, currency, source, kind";

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
  int rc = vc__buf_printf(b, "%s\n{\"period\":\"%s\",\"currency\":\"%s\",",
                          first ? "" : ",", g->period, g->currency);

  put_sums(b, &rc, &g->all);
  if (rc == 0)
    rc = vc__buf_puts(b, ",\"sources\":{");
  for (size_t i = 0; rc == 0 && i < g->nsrc; i++) {
    rc = vc__buf_printf(b, "%s\"%s\":{", i ? "," : "", g->source[i]);
    put_sums(b, &rc, &g->by_source[i]);
    if (rc == 0)
      rc = vc__buf_puts(b, "}");
  }
  if (rc == 0)
    rc = vc__buf_puts(b, "}}");
  return rc;
}

static int summarize(vc_buf *b, vc__db *db, const char *tenant_id,
                     int64_t from, int64_t to)
{
  group g;
  vc__stmt *s;
  int rc, n = 0;

  memset(&g, 0, sizeof(g));
  if ((rc = vc__db_query(&s, db, SQL_SUMMARY, "tii", tenant_id, from,
                         to)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    const char *period = vc__stmt_text(s, 0);
    const char *currency = vc__stmt_text(s, 1);
    const char *source = vc__stmt_text(s, 2);
    int kind = (int)vc__stmt_int64(s, 3);
    int64_t sum = vc__stmt_int64(s, 4), count = vc__stmt_int64(s, 5);
    size_t i;

    if (g.period[0] != '\0' && (strcmp(g.period, period) != 0 ||
                                strcmp(g.currency, currency) != 0)) {
      if ((rc = flush(b, &g, n++ == 0)) < 0)
        break;
      memset(&g, 0, sizeof(g));
    }
    snprintf(g.period, sizeof(g.period), "%s", period);
    snprintf(g.currency, sizeof(g.currency), "%s", currency);
    for (i = 0; i < g.nsrc && strcmp(g.source[i], source) != 0; i++)
      ;
    if (i == g.nsrc && g.nsrc < SOURCES_MAX)
      snprintf(g.source[g.nsrc++], sizeof(g.source[0]), "%s", source);
    if (kind < VC_LEDGER_ESTIMATE || kind > VC_LEDGER_REVERSAL)
      continue;
    g.all.kind[kind] += sum;
    g.all.entries += count;
    if (i < g.nsrc) {
      g.by_source[i].kind[kind] += sum;
      g.by_source[i].entries += count;
    }
  }
  vc__stmt_done(s);
  if (rc != VC_STORAGE_DONE)
    return rc < 0 ? rc : VC_ERROR;
  if (g.period[0] != '\0')
    return flush(b, &g, n == 0);
  return 0;
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
