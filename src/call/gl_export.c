/*
 * GL account codes per tenant, provider and channel, and the export of
 * the ledger as a balanced double-entry journal (CSV or JSON).
 *
 * The export steps one statement over the period's entries and writes
 * each as two lines straight into the output: the ledger is never held
 * in memory, only the output and one total per currency.
 */
#include "core/common.h"
#include "core/audit.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/tenant.h"
#include "core/text.h"
#include "core/ulid.h"
#include "ledger.h"
#include "ratecard.h"

#include <stdarg.h>
#include <stdio.h>

#define CODE_FIRST "A-Za-z0-9"
#define CODE_CHARS "A-Za-z0-9._:/ ,&()#-"
#define SCOPE_MAX (VC_ID_SIZE + VC__PROVIDER_MAX + 16)

/* ---- account codes ----------------------------------------------------- */

static const char SQL_SET[] =
  "INSERT INTO vc_gl_account (tenant_id, scope, expense_account,"
  " payable_account, cost_center, updated_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_CLEAR[] =
  "DELETE FROM vc_gl_account WHERE tenant_id = ?1 AND scope = ?2";
static const char SQL_CHANNEL_ID[] =
  "SELECT id FROM vc_channel WHERE tenant_id = ?1 AND (id = ?2 OR name = ?2)";

static int check_code(const char *field, const char *s)
{
  return s == NULL ? 0 : vc__check_token(field, s, VC_GL_CODE_MAX,
                                         CODE_FIRST, CODE_CHARS);
}

int vc_gl_accounts_set(vc_tenant *t, const vc_gl_accounts *a)
{
  char scope[SCOPE_MAX], payload[SCOPE_MAX + 32];
  const char *tenant_id;
  vc_ctx *ctx;
  vc__stmt *s;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(a);
  VC_CHECK_VERSION(a, VC_GL_ACCOUNTS_VERSION, "vc_gl_accounts");
  if (a->provider != NULL && a->channel != NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "give a provider or a channel, not both");
  if ((rc = check_code("expense account", a->expense_account)) < 0 ||
      (rc = check_code("payable account", a->payable_account)) < 0 ||
      (rc = check_code("cost center", a->cost_center)) < 0)
    return rc;
  if (a->provider != NULL &&
      (rc = vc__check_token("provider", a->provider, VC__PROVIDER_MAX,
                            "a-z0-9", "a-z0-9_.-")) < 0)
    return rc;
  if (a->channel != NULL &&
      (rc = vc__check_text("channel", a->channel, 128, 1)) < 0)
    return rc;
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  snprintf(scope, sizeof(scope), "%s%s", a->provider ? "provider:" : "",
           a->provider ? a->provider : "");
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if (a->channel != NULL) {
    if ((rc = vc__db_query(&s, db, SQL_CHANNEL_ID, "tt", tenant_id,
                           a->channel)) < 0)
      goto release;
    rc = vc__stmt_step(s);
    if (rc == VC_STORAGE_ROW)
      snprintf(scope, sizeof(scope), "channel:%s", vc__stmt_text(s, 0));
    vc__stmt_done(s);
    if (rc == VC_STORAGE_DONE)
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no channel '%.64s'", a->channel);
    if (rc < 0)
      goto release;
  }
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  /* Replace the scope's row (all codes NULL: just remove it). */
  rc = vc__db_run(db, SQL_CLEAR, "tt", tenant_id, scope);
  if (rc == 0 && (a->expense_account != NULL ||
                  a->payable_account != NULL || a->cost_center != NULL))
    rc = vc__db_run(db, SQL_SET, "ttttti", tenant_id, scope,
                    a->expense_account, a->payable_account, a->cost_center,
                    vc__now(ctx));
  snprintf(payload, sizeof(payload), "{\"scope\":\"%s\"}", scope);
  if (rc < 0 ||
      (rc = vc__event_append(db, ctx, tenant_id, "gl_accounts.updated",
                             tenant_id, payload)) < 0 ||
      (rc = vc__audit(db, ctx, tenant_id, "gl_accounts.set", tenant_id,
                      payload)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    vc__db_rollback(db);
release:
  vc__db_release(db);
  if (rc == 0)
    vc_ctx_wakeup(ctx);
  return rc < 0 ? rc : 0;
}

/* The codes in force for one provider and channel. */
typedef struct accounts {
  char provider[VC__PROVIDER_MAX + 1];
  char channel_id[VC_ID_SIZE];
  char expense[VC_GL_CODE_MAX + 1];
  char payable[VC_GL_CODE_MAX + 1];
  char cost_center[VC_GL_CODE_MAX + 1];
  int valid;
} accounts;

/* Rows of the three scopes, narrowest last so that it wins. */
static const char SQL_SCOPES[] =
  "SELECT expense_account, payable_account, cost_center FROM vc_gl_account"
  " WHERE tenant_id = ?1 AND scope IN ('', ?2, ?3)"
  " ORDER BY CASE WHEN scope = '' THEN 0"
  "  WHEN scope = ?2 THEN 1 ELSE 2 END";

static int resolve(accounts *a, vc__db *db, const char *tenant_id,
                   const char *provider, const char *channel_id)
{
  char pscope[SCOPE_MAX], cscope[SCOPE_MAX];
  vc__stmt *s;
  int rc;

  if (a->valid && strcmp(a->provider, provider) == 0 &&
      strcmp(a->channel_id, channel_id) == 0)
    return 0;
  snprintf(a->provider, sizeof(a->provider), "%s", provider);
  snprintf(a->channel_id, sizeof(a->channel_id), "%s", channel_id);
  snprintf(a->expense, sizeof(a->expense), "%s", VC_GL_DEFAULT_EXPENSE);
  snprintf(a->payable, sizeof(a->payable), "%s", VC_GL_DEFAULT_PAYABLE);
  a->cost_center[0] = '\0';
  a->valid = 0;
  /* An entry without a provider or channel matches no narrower scope. */
  snprintf(pscope, sizeof(pscope), "%s%s", provider[0] ? "provider:" : "-",
           provider);
  snprintf(cscope, sizeof(cscope), "%s%s", channel_id[0] ? "channel:" : "-",
           channel_id);
  if ((rc = vc__db_query(&s, db, SQL_SCOPES, "ttt", tenant_id, pscope,
                         cscope)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    if (!vc__stmt_is_null(s, 0))
      snprintf(a->expense, sizeof(a->expense), "%s", vc__stmt_text(s, 0));
    if (!vc__stmt_is_null(s, 1))
      snprintf(a->payable, sizeof(a->payable), "%s", vc__stmt_text(s, 1));
    if (!vc__stmt_is_null(s, 2))
      snprintf(a->cost_center, sizeof(a->cost_center), "%s",
               vc__stmt_text(s, 2));
  }
  vc__stmt_done(s);
  if (rc != VC_STORAGE_DONE)
    return rc < 0 ? rc : VC_ERROR;
  a->valid = 1;
  return 0;
}

/* ---- amounts ------------------------------------------------------------ */

static int64_t pow10i(int e)
{
  int64_t p = 1;

  while (e-- > 0)
    p *= 10;
  return p;
}

/* Micro-units to minor units, half up (amounts are positive). */
static int64_t to_minor(int64_t micros, int exponent)
{
  int64_t div = pow10i(6 - exponent);

  return micros / div + (micros % div >= (div + 1) / 2 ? 1 : 0);
}

/* A count of minor units as a decimal string: "12.34", "1200" (JPY). */
static void decimal(char out[32], int64_t minor, int exponent)
{
  int64_t p = pow10i(exponent);

  if (exponent == 0)
    snprintf(out, 32, "%lld", (long long)minor);
  else
    snprintf(out, 32, "%lld.%0*lld", (long long)(minor / p), exponent,
             (long long)(minor % p));
}

/* ---- totals ------------------------------------------------------------- */

typedef struct total {
  char currency[4];
  int exponent;
  int64_t debit_minor, credit_minor, debit_micros, credit_micros;
  int64_t lines;
} total;

typedef struct totals {
  total *t;
  size_t n, cap;
} totals;

static int add_to(int64_t *sum, int64_t v)
{
  if (*sum > INT64_MAX - v)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "a total of the export does not fit in 63 bits");
  *sum += v;
  return 0;
}

static int totals_add(totals *ts, const char *currency, int exponent,
                      int64_t micros, int64_t minor)
{
  total *t = NULL;
  int rc;

  for (size_t i = 0; i < ts->n && t == NULL; i++)
    if (strcmp(ts->t[i].currency, currency) == 0)
      t = &ts->t[i];
  if (t == NULL) {
    if (ts->n == ts->cap) {
      size_t cap = ts->cap ? ts->cap * 2 : 4;
      total *p = vc__realloc(ts->t, cap * sizeof(*p));
      if (p == NULL)
        return vc_error_set_oom();
      ts->t = p;
      ts->cap = cap;
    }
    t = &ts->t[ts->n++];
    memset(t, 0, sizeof(*t));
    snprintf(t->currency, sizeof(t->currency), "%s", currency);
    t->exponent = exponent;
  }
  /* Both sides of one entry: debits and credits move together. */
  if ((rc = add_to(&t->debit_micros, micros)) < 0 ||
      (rc = add_to(&t->credit_micros, micros)) < 0 ||
      (rc = add_to(&t->debit_minor, minor)) < 0 ||
      (rc = add_to(&t->credit_minor, minor)) < 0)
    return rc;
  t->lines += 2;
  return 0;
}

/* ---- writers ------------------------------------------------------------ */

/* The output with a sticky error: a failed append (out of memory) makes
 * the whole export fail rather than come back short. */
typedef struct wr {
  vc_buf b;
  int rc;
} wr;

static void w_put(wr *w, const void *p, size_t n)
{
  if (w->rc == 0)
    w->rc = vc__buf_put(&w->b, p, n);
}

static void w_puts(wr *w, const char *s)
{
  w_put(w, s, strlen(s));
}

static void w_printf(wr *w, const char *fmt, ...) VC_FORMAT_PRINTF(2, 3);

static void w_printf(wr *w, const char *fmt, ...)
{
  char tmp[512];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof(tmp)) {
    if (w->rc == 0)
      w->rc = vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR,
                            "GL export: a field is too long");
    return;
  }
  w_put(w, tmp, (size_t)n);
}

/* An RFC 4180 field: quoted when it holds a comma, quote or line end. */
static void csv_field(wr *w, const char *s, int last)
{
  if (strpbrk(s, ",\"\r\n") != NULL) {
    w_puts(w, "\"");
    for (; *s; s++) {
      if (*s == '"')
        w_puts(w, "\"");
      w_put(w, s, 1);
    }
    w_puts(w, "\"");
  } else {
    w_puts(w, s);
  }
  w_puts(w, last ? "\r\n" : ",");
}

static void json_string(wr *w, const char *s)
{
  w_puts(w, "\"");
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      w_printf(w, "\\%c", c);
    else if (c < 0x20)
      w_printf(w, "\\u%04x", c);
    else
      w_put(w, s, 1);
  }
  w_puts(w, "\"");
}

/* One journal line. */
typedef struct line {
  const char *date, *account, *cost_center, *currency, *reference;
  const char *description, *entry;
  int64_t debit_micros, credit_micros, debit_minor, credit_minor;
  int exponent;
} line;

static void write_line(wr *w, int format, const line *l, int first)
{
  char debit[32], credit[32];

  decimal(debit, l->debit_minor, l->exponent);
  decimal(credit, l->credit_minor, l->exponent);
  if (format == VC_GL_CSV) {
    csv_field(w, "line", 0);
    csv_field(w, l->date, 0);
    csv_field(w, l->account, 0);
    csv_field(w, debit, 0);
    csv_field(w, credit, 0);
    csv_field(w, l->cost_center, 0);
    csv_field(w, l->currency, 0);
    csv_field(w, l->reference, 0);
    csv_field(w, l->description, 0);
    csv_field(w, l->entry, 0);
    w_printf(w, "%lld,%lld\r\n", (long long)l->debit_micros,
                   (long long)l->credit_micros);
    return;
  }
  w_puts(w, first ? "\n  {" : ",\n  {");
  w_puts(w, "\"date\":");
  json_string(w, l->date);
  w_puts(w, ",\"account\":");
  json_string(w, l->account);
  w_printf(w, ",\"debit\":\"%s\",\"credit\":\"%s\",", debit, credit);
  w_puts(w, "\"cost_center\":");
  json_string(w, l->cost_center);
  w_puts(w, ",\"currency\":");
  json_string(w, l->currency);
  w_puts(w, ",\"reference\":");
  json_string(w, l->reference);
  w_puts(w, ",\"description\":");
  json_string(w, l->description);
  w_puts(w, ",\"entry\":");
  json_string(w, l->entry);
  w_printf(w, ",\"debit_micros\":%lld,\"credit_micros\":%lld}",
                 (long long)l->debit_micros, (long long)l->credit_micros);
}

static void write_totals(wr *w, int format, const totals *ts)
{
  for (size_t i = 0; i < ts->n; i++) {
    const total *t = &ts->t[i];
    char debit[32], credit[32], desc[48];

    decimal(debit, t->debit_minor, t->exponent);
    decimal(credit, t->credit_minor, t->exponent);
    if (format == VC_GL_CSV) {
      snprintf(desc, sizeof(desc), "total %s, %lld lines", t->currency,
               (long long)t->lines);
      w_printf(w, "total,,,%s,%s,,%s,,", debit, credit, t->currency);
      csv_field(w, desc, 0);
      w_printf(w, ",%lld,%lld\r\n", (long long)t->debit_micros,
                     (long long)t->credit_micros);
    } else {
      w_printf(w, "%s\n  {\"currency\":\"%s\",\"debit\":\"%s\","
                     "\"credit\":\"%s\",\"debit_micros\":%lld,"
                     "\"credit_micros\":%lld,\"lines\":%lld}",
                     i ? "," : "", t->currency, debit, credit,
                     (long long)t->debit_micros, (long long)t->credit_micros,
                     (long long)t->lines);
    }
  }
}

/* ---- export ------------------------------------------------------------- */

static const char SQL_PERIOD[] =
  "SELECT id, source, source_id, kind, amount_micros, currency, period,"
  " provider, channel_id, COALESCE(reverses, '') FROM vc_ledger"
  " WHERE tenant_id = ?1 AND occurred_at >= ?2 AND occurred_at < ?3"
  " ORDER BY occurred_at, id";

static void describe(char *out, size_t cap, int kind, const char *source,
                     const char *provider, const char *reverses)
{
  const char *by = provider[0] ? provider : "unknown provider";

  if (kind == VC_LEDGER_ESTIMATE)
    snprintf(out, cap, "%s cost estimate (%s)", source, by);
  else if (kind == VC_LEDGER_PROVIDER_PRICE)
    snprintf(out, cap, "%s provider price (%s)", source, by);
  else
    snprintf(out, cap, "reversal of %s (%s)", reverses, by);
}

static int export_rows(wr *w, vc__db *db, const char *tenant_id,
                       const vc_gl_export_options *o, totals *ts)
{
  accounts acc;
  vc__stmt *s;
  int first = 1, rc;

  memset(&acc, 0, sizeof(acc));
  if ((rc = vc__db_query(&s, db, SQL_PERIOD, "tii", tenant_id, o->from,
                         o->to)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    char id[VC_ID_SIZE], source[16], source_id[VC_ID_SIZE], currency[4];
    char date[11], provider[VC__PROVIDER_MAX + 1], channel[VC_ID_SIZE];
    char reverses[VC_ID_SIZE], desc[160];
    int kind = (int)vc__stmt_int64(s, 3), exponent;
    int64_t micros = vc__stmt_int64(s, 4), minor;
    line dr, cr;

    snprintf(id, sizeof(id), "%s", vc__stmt_text(s, 0));
    snprintf(source, sizeof(source), "%s", vc__stmt_text(s, 1));
    snprintf(source_id, sizeof(source_id), "%s", vc__stmt_text(s, 2));
    snprintf(currency, sizeof(currency), "%s", vc__stmt_text(s, 5));
    snprintf(date, sizeof(date), "%s", vc__stmt_text(s, 6));
    snprintf(provider, sizeof(provider), "%s", vc__stmt_text(s, 7));
    snprintf(channel, sizeof(channel), "%s", vc__stmt_text(s, 8));
    snprintf(reverses, sizeof(reverses), "%s", vc__stmt_text(s, 9));
    if (micros <= 0)
      continue; /* the ledger holds none; never write an unbalanced pair */
    if ((rc = resolve(&acc, db, tenant_id, provider, channel)) < 0)
      break;
    exponent = vc__currency_exponent(currency);
    minor = to_minor(micros, exponent);
    describe(desc, sizeof(desc), kind, source, provider, reverses);
    memset(&dr, 0, sizeof(dr));
    dr.date = date;
    dr.cost_center = acc.cost_center;
    dr.currency = currency;
    dr.reference = source_id;
    dr.description = desc;
    dr.entry = id;
    dr.exponent = exponent;
    cr = dr;
    /* A cost debits expense and credits payable; a reversal swaps. */
    dr.account = kind == VC_LEDGER_REVERSAL ? acc.payable : acc.expense;
    cr.account = kind == VC_LEDGER_REVERSAL ? acc.expense : acc.payable;
    dr.debit_micros = cr.credit_micros = micros;
    dr.debit_minor = cr.credit_minor = minor;
    write_line(w, o->format, &dr, first);
    write_line(w, o->format, &cr, 0);
    first = 0;
    if ((rc = totals_add(ts, currency, exponent, micros, minor)) < 0)
      break;
  }
  vc__stmt_done(s);
  if (rc != VC_STORAGE_DONE)
    return rc < 0 ? rc : VC_ERROR;
  return w->rc;
}

int vc_gl_export(vc_buf *out, vc_tenant *t, const vc_gl_export_options *o)
{
  totals ts = { NULL, 0, 0 };
  wr w = { VC_BUF_INIT, 0 };
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(o);
  VC_CHECK_VERSION(o, VC_GL_EXPORT_OPTIONS_VERSION, "vc_gl_export_options");
  vc_buf_dispose(out);
  if (o->format != VC_GL_CSV && o->format != VC_GL_JSON)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown GL export format %d", o->format);
  if (o->from < 0 || o->to <= o->from)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "the period must have 0 <= from < to");
  if (o->format == VC_GL_CSV)
    w_puts(&w, "type,date,account,debit,credit,cost_center,currency,"
           "reference,description,entry,debit_micros,credit_micros\r\n");
  else
    w_printf(&w, "{\"from\":%lld,\"to\":%lld,\"lines\":[",
             (long long)o->from, (long long)o->to);
  if ((rc = vc__db_acquire(&db, vc__tenant_ctx(t)->store)) < 0)
    goto out;
  rc = export_rows(&w, db, vc_tenant_id(t), o, &ts);
  vc__db_release(db);
  if (rc < 0)
    goto out;
  /* Lines were written exactly when there are totals. */
  if (o->format == VC_GL_JSON)
    w_puts(&w, ts.n ? "\n],\"totals\":[" : "],\"totals\":[");
  write_totals(&w, o->format, &ts);
  if (o->format == VC_GL_JSON)
    w_puts(&w, ts.n ? "\n]}\n" : "]}\n");
  if ((rc = w.rc) < 0)
    goto out;
  *out = w.b;
  memset(&w.b, 0, sizeof(w.b));
out:
  vc_buf_dispose(&w.b);
  vc__free(ts.t);
  return rc;
}

int vc_gl_accounts_init(vc_gl_accounts *a, unsigned int version)
{
  VC_INIT_STRUCT(a, version, VC_GL_ACCOUNTS_VERSION, vc_gl_accounts,
                 VC_GL_ACCOUNTS_INIT);
}

int vc_gl_export_options_init(vc_gl_export_options *o, unsigned int version)
{
  VC_INIT_STRUCT(o, version, VC_GL_EXPORT_OPTIONS_VERSION,
                 vc_gl_export_options, VC_GL_EXPORT_OPTIONS_INIT);
}
