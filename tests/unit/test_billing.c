/*
 * Billing internals (src/call/billing.c, ledger.c, ratecard.c,
 * gl_export.c): the cost arithmetic with figures worked by hand, UTC
 * periods, currency precision, the call hooks posting to the ledger on a
 * store (a channel made through the API, vc_call rows inserted with
 * SQL), a provider's price replacing an estimate by a reversal and a new
 * entry, and the GL export of those entries parsed back (CSV with an
 * independent RFC 4180 reader, JSON with cJSON) and checked to the
 * micro-unit: balanced per currency, accounts by scope, periods.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "call/hooks.h"
#include "call/ledger.h"
#include "call/ratecard.h"
#include "store/db.h"
#include "harness.h"

#include <cJSON.h>
#include <limits.h>

/* 2026-03-01T00:00:00Z and the next day (python3: datetime(2026,3,1,
 * tzinfo=timezone.utc).timestamp() * 1000). */
#define DAY1 1772323200000LL
#define DAY2 (DAY1 + 86400000LL)
#define DAY3 (DAY2 + 86400000LL)

static int64_t now_ms = DAY1;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return now_ms;
}

/* ---- the cost arithmetic ---------------------------------------------- */

static vc__rate_match rate(int64_t per_min, int initial, int subsequent,
                           int64_t fee)
{
  vc__rate_match m;

  memset(&m, 0, sizeof(m));
  m.rate_per_min = per_min;
  m.initial_s = initial;
  m.subsequent_s = subsequent;
  m.connection_fee = fee;
  memcpy(m.currency, "USD", 4);
  return m;
}

static int64_t cost_of(vc__rate_match m, int talk, int64_t *billed)
{
  int64_t cost = -1;

  CHECK_OK(vc__ratecard_cost(&cost, billed, &m, talk));
  return cost;
}

static void test_billing__pulses(void)
{
  int64_t b;

  /* 60/60 at 1.20/min: 61 s bill as 60 + ceil(1/60)*60 = 120 s;
   * 120 * 1,200,000 / 60 = 2,400,000. */
  CHECK(cost_of(rate(1200000, 60, 60, 0), 61, &b) == 2400000 && b == 120);
  /* 1 s still bills the whole first minute: 1,200,000. */
  CHECK(cost_of(rate(1200000, 60, 60, 0), 1, &b) == 1200000 && b == 60);
  CHECK(cost_of(rate(1200000, 60, 60, 0), 60, &b) == 1200000 && b == 60);
  /* 1/1 at 1.00/min: 61 s = 61,000,000 / 60 = 1,016,666.67 -> 1,016,667. */
  CHECK(cost_of(rate(1000000, 1, 1, 0), 61, &b) == 1016667 && b == 61);
  /* 30/6 at 0.60/min: 20 s -> 30 s = 300,000; 31 s -> 30 + 6 = 36 s =
   * 360,000; 45 s -> 30 + ceil(15/6)*6 = 48 s = 480,000; 36 s -> 36. */
  CHECK(cost_of(rate(600000, 30, 6, 0), 20, &b) == 300000 && b == 30);
  CHECK(cost_of(rate(600000, 30, 6, 0), 31, &b) == 360000 && b == 36);
  CHECK(cost_of(rate(600000, 30, 6, 0), 45, &b) == 480000 && b == 48);
  CHECK(cost_of(rate(600000, 30, 6, 0), 36, &b) == 360000 && b == 36);
}

static void test_billing__rounding_fee_zero(void)
{
  int64_t b;

  /* One second at 90 micro-units a minute is 1.5: half up gives 2; at
   * 30 it is exactly 0.5: 1; at 89 it is 1.483: 1; at 29, 0.483: 0. */
  CHECK(cost_of(rate(90, 1, 1, 0), 1, &b) == 2);
  CHECK(cost_of(rate(30, 1, 1, 0), 1, &b) == 1);
  CHECK(cost_of(rate(89, 1, 1, 0), 1, &b) == 1);
  CHECK(cost_of(rate(29, 1, 1, 0), 1, &b) == 0);
  /* A connection fee of 50,000 on top of one 60 s pulse at 1,200,000. */
  CHECK(cost_of(rate(1200000, 60, 60, 50000), 1, &b) == 1250000);
  /* No conversation: nothing billed, no connection fee. */
  CHECK(cost_of(rate(1200000, 60, 60, 50000), 0, &b) == 0 && b == 0);
  /* The largest rate over an hour fits: 3600 * 10^15 / 60 = 6 * 10^16. */
  CHECK(cost_of(rate(VC_RATECARD_AMOUNT_MAX, 1, 1, 0), 3600, &b) ==
        60000000000000000LL);
  /* ... over INT_MAX seconds it does not. */
  {
    vc__rate_match m = rate(VC_RATECARD_AMOUNT_MAX, 1, 1,
                            VC_RATECARD_AMOUNT_MAX);
    int64_t cost = 7;
    CHECK_RC(vc__ratecard_cost(&cost, &b, &m, INT_MAX), VC_ETOOBIG);
  }
}

static void test_billing__periods_and_currencies(void)
{
  char p[11];

  vc__ledger_period(p, 0);
  CHECK_STR(p, "1970-01-01");
  vc__ledger_period(p, -1);
  CHECK_STR(p, "1969-12-31");
  /* 2000-02-29T23:59:59.999Z (python3: datetime(2000,2,29,23,59,59,
   * 999000, tzinfo=timezone.utc).timestamp()*1000 = 951868799999). */
  vc__ledger_period(p, 951868799999LL);
  CHECK_STR(p, "2000-02-29");
  vc__ledger_period(p, 951868800000LL);
  CHECK_STR(p, "2000-03-01");
  vc__ledger_period(p, DAY1 - 1);
  CHECK_STR(p, "2026-02-28");
  vc__ledger_period(p, DAY1);
  CHECK_STR(p, "2026-03-01");
  CHECK(vc__currency_exponent("USD") == 2);
  CHECK(vc__currency_exponent("INR") == 2);
  CHECK(vc__currency_exponent("JPY") == 0);
  CHECK(vc__currency_exponent("XPF") == 0);
  CHECK(vc__currency_exponent("KWD") == 3);
  CHECK(vc__currency_exponent("CLF") == 4);
  CHECK(vc__currency_exponent("ZZZ") == 2);
}

/* ---- a store with channels, cards and calls --------------------------- */

static int t_init(void **state, const char *config, const char *creds)
{
  (void)config; (void)creds;
  *state = NULL;
  return 0;
}
static void t_fini(void *state) { (void)state; }
static int t_build(void *state, const vc_call_outbound *call,
                   vc_http_out *req)
{
  (void)state; (void)call; (void)req;
  return 0;
}
static int t_parse(void *state, const vc_call_outbound *call,
                   const vc_http_response *res, vc_send_result *out)
{
  (void)state; (void)call; (void)res; (void)out;
  return 0;
}

typedef struct fixture {
  vc_ctx *ctx;
  vc_tenant *a, *b;
  char tw1[VC_ID_SIZE], tw2[VC_ID_SIZE], ex[VC_ID_SIZE], b_tw[VC_ID_SIZE];
} fixture;

static void channel(char id[VC_ID_SIZE], vc_tenant *t, const char *name,
                    const char *provider)
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *c = NULL;

  s.name = name;
  s.provider = provider;
  CHECK_OK(vc_channel_new(&c, t, &s));
  snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(c));
  vc_channel_free(c);
}

static void card(vc_tenant *t, const char *provider, const char *chan,
                 const vc_ratecard_entry *e, size_t n)
{
  vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
  char id[VC_ID_SIZE];

  s.provider = provider;
  s.channel = chan;
  s.entries = e;
  s.nentries = n;
  CHECK_OK(vc_ratecard_set(id, t, &s));
}

static vc_ratecard_entry entry(const char *prefix, int64_t per_min,
                               int initial, int subsequent, int64_t fee,
                               const char *currency)
{
  vc_ratecard_entry e = VC_RATECARD_ENTRY_INIT;

  e.prefix = prefix;
  e.rate_per_min_micros = per_min;
  e.initial_s = initial;
  e.subsequent_s = subsequent;
  e.connection_fee_micros = fee;
  e.currency = currency;
  return e;
}

static void setup(fixture *f)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store = NULL;
  vc_adapter ad;

  memset(f, 0, sizeof(*f));
  now_ms = DAY1;
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("billing.db"), NULL));
  o.store = store;
  o.clock_cb = test_clock;
  CHECK_OK(vc_ctx_new(&f->ctx, &o));
  memset(&ad, 0, sizeof(ad));
  ad.version = VC_ADAPTER_VERSION;
  ad.kind = VC_CHANNEL_VOICE;
  ad.init = t_init;
  ad.fini = t_fini;
  ad.build_call = t_build;
  ad.parse_call = t_parse;
  ad.name = "twilio-voice";
  CHECK_OK(vc_adapter_register(f->ctx, &ad));
  ad.name = "exotel";
  CHECK_OK(vc_adapter_register(f->ctx, &ad));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&f->a, f->ctx, &ts));
  ts.slug = "other";
  CHECK_OK(vc_tenant_new(&f->b, f->ctx, &ts));
  channel(f->tw1, f->a, "tw-main", "twilio-voice");
  channel(f->tw2, f->a, "tw-sales", "twilio-voice");
  channel(f->ex, f->a, "exo", "exotel");
  channel(f->b_tw, f->b, "tw-main", "twilio-voice");
  {
    /* Provider-wide: India 60/60 at 1.20/min with a 0.05 fee, the US
     * 1/1 at 1.00/min, anything else 30/6 at 0.60/min. */
    vc_ratecard_entry e[] = {
      entry("91", 1200000, 60, 60, 50000, "USD"),
      entry("1", 1000000, 1, 1, 0, "USD"),
      entry("", 600000, 30, 6, 0, "USD"),
    };
    card(f->a, "twilio-voice", NULL, e, 3);
  }
  {
    /* tw-sales only: Mumbai mobiles cheaper; no default of its own. */
    vc_ratecard_entry e[] = { entry("9198", 300000, 1, 1, 0, "USD") };
    card(f->a, NULL, "tw-sales", e, 1);
  }
  {
    /* Exotel in yen and dinars, for the precision of the export. */
    vc_ratecard_entry e[] = {
      entry("81", 90000000, 1, 1, 0, "JPY"),
      entry("965", 1234567 * 60LL, 1, 1, 0, "KWD"),
    };
    card(f->a, "exotel", NULL, e, 2);
  }
  {
    /* The other tenant's card would price India at 9.99/min. */
    vc_ratecard_entry e[] = { entry("", 9990000, 1, 1, 0, "EUR") };
    card(f->b, "twilio-voice", NULL, e, 1);
  }
}

static void teardown(fixture *f)
{
  vc_tenant_free(f->a);
  vc_tenant_free(f->b);
  vc_ctx_free(f->ctx);
}

static const char SQL_CALL[] =
  "INSERT INTO vc_call (tenant_id, id, state, agent_number,"
  " customer_number, channel_id, record_mode, content_hash,"
  " ring_timeout_s, time_limit_s, created_at, updated_at)"
  " VALUES (?1, ?2, 6, '+15550001', ?3, ?4, 1, 'x', 30, 3600, ?5, ?5)";

/* A completed call row, as the core would have it. */
static void call_row(fixture *f, vc_tenant *t, char id[VC_ID_SIZE],
                     const char *to, const char *channel_id)
{
  vc__db *db;

  CHECK_OK(vc__new_id(f->ctx, id));
  CHECK_OK(vc__db_acquire(&db, f->ctx->store));
  CHECK_OK(vc__db_run(db, SQL_CALL, "tttti", vc_tenant_id(t), id, to,
                      channel_id, now_ms));
  vc__db_release(db);
}

/* The hooks run inside the core's transaction: so do they here. */
static int end_call(fixture *f, vc_tenant *t, const char *call_id,
                    const char *channel_id, const char *to, int talk,
                    int64_t at, int64_t *cost, char cur[4])
{
  vc__db *db;
  int rc;

  CHECK_OK(vc__db_acquire(&db, f->ctx->store));
  CHECK_OK(vc__db_begin(db));
  rc = vc__billing_on_call_end(db, f->ctx, vc_tenant_id(t), call_id,
                               channel_id, to, talk, at, cost, cur);
  if (rc == 0)
    CHECK_OK(vc__db_commit(db));
  else
    vc__db_rollback(db);
  vc__db_release(db);
  return rc;
}

static int price_call(fixture *f, vc_tenant *t, const char *call_id,
                      int64_t price, const char *cur, int64_t at)
{
  vc__db *db;
  int rc;

  CHECK_OK(vc__db_acquire(&db, f->ctx->store));
  CHECK_OK(vc__db_begin(db));
  rc = vc__billing_on_call_price(db, f->ctx, vc_tenant_id(t), call_id,
                                 price, cur, at);
  if (rc == 0)
    CHECK_OK(vc__db_commit(db));
  else
    vc__db_rollback(db);
  vc__db_release(db);
  return rc;
}

/* The entries of a call, oldest first: kinds and amounts. */
static size_t entries_of(fixture *f, vc_tenant *t, const char *call_id,
                         int *kinds, int64_t *amounts, size_t max)
{
  vc_ledger_filter lf = VC_LEDGER_FILTER_INIT;
  vc_ledger_entry *e;
  vc_iter *it;
  size_t n = 0;
  int rc;

  (void)f;
  lf.source_id = call_id;
  CHECK_OK(vc_ledger_list(&it, t, &lf));
  while ((rc = vc_ledger_next(&e, it)) == 0) {
    CHECK(n < max);
    kinds[n] = vc_ledger_entry_kind(e);
    amounts[n] = vc_ledger_entry_amount_micros(e);
    CHECK_STR(vc_ledger_entry_source(e), "call");
    CHECK_STR(vc_ledger_entry_source_id(e), call_id);
    n++;
    vc_ledger_entry_free(e);
  }
  vc_iter_free(it);
  CHECK(rc == VC_ITEROVER);
  return n;
}

static void test_billing__call_end(void)
{
  fixture f;
  char c1[VC_ID_SIZE], c2[VC_ID_SIZE], c3[VC_ID_SIZE], c4[VC_ID_SIZE];
  char c5[VC_ID_SIZE], cur[4];
  int kinds[8];
  int64_t amounts[8], cost;

  setup(&f);
  /* India on tw-main: 61 s -> 120 s at 1.20 + 0.05 = 2,450,000. */
  call_row(&f, f.a, c1, "+919876543210", f.tw1);
  CHECK_OK(end_call(&f, f.a, c1, f.tw1, "+919876543210", 61, DAY1 + 1000,
                    &cost, cur));
  CHECK(cost == 2450000);
  CHECK_STR(cur, "USD");
  CHECK(entries_of(&f, f.a, c1, kinds, amounts, 8) == 1);
  CHECK(kinds[0] == VC_LEDGER_ESTIMATE && amounts[0] == 2450000);
  /* Ending again (a retried transaction) posts nothing more. */
  cost = 0;
  CHECK_OK(end_call(&f, f.a, c1, f.tw1, "+919876543210", 61, DAY1 + 1000,
                    &cost, cur));
  CHECK(cost == 2450000);
  CHECK(entries_of(&f, f.a, c1, kinds, amounts, 8) == 1);

  /* tw-sales: its own card's 9198 wins over the provider's 91
   * (10 s at 1/1, 0.30/min = 50,000) ... */
  call_row(&f, f.a, c2, "+919812345678", f.tw2);
  CHECK_OK(end_call(&f, f.a, c2, f.tw2, "+919812345678", 10, DAY1 + 2000,
                    &cost, cur));
  CHECK(cost == 50000);
  /* ... and a number its card has no entry for falls back to the
   * provider's card: the US at 1/1, 1.00/min, 90 s = 1,500,000. */
  call_row(&f, f.a, c3, "+12125550100", f.tw2);
  CHECK_OK(end_call(&f, f.a, c3, f.tw2, "+12125550100", 90, DAY1 + 3000,
                    &cost, cur));
  CHECK(cost == 1500000);

  /* No conversation: cost 0 in the entry's currency, nothing posted. */
  call_row(&f, f.a, c4, "+442071234567", f.tw1);
  CHECK_OK(end_call(&f, f.a, c4, f.tw1, "+442071234567", 0, DAY1 + 4000,
                    &cost, cur));
  CHECK(cost == 0);
  CHECK_STR(cur, "USD");
  CHECK(entries_of(&f, f.a, c4, kinds, amounts, 8) == 0);

  /* A SIP destination meets only the default: 31 s at 30/6 = 360,000. */
  call_row(&f, f.a, c5, "sip:bob@example.com", f.tw1);
  CHECK_OK(end_call(&f, f.a, c5, f.tw1, "sip:bob@example.com", 31,
                    DAY1 + 5000, &cost, cur));
  CHECK(cost == 360000);

  /* The other tenant's channel of the same provider uses its own card
   * (9.99 EUR/min, 1/1, 60 s = 9,990,000), never acme's. */
  call_row(&f, f.b, c3, "+919876543210", f.b_tw);
  CHECK_OK(end_call(&f, f.b, c3, f.b_tw, "+919876543210", 60, DAY1 + 6000,
                    &cost, cur));
  CHECK(cost == 9990000);
  CHECK_STR(cur, "EUR");
  /* ... and acme cannot read that entry. */
  CHECK(entries_of(&f, f.b, c3, kinds, amounts, 8) == 1);
  CHECK(entries_of(&f, f.a, c3, kinds, amounts, 8) == 0);
  CHECK(entries_of(&f, f.a, c5, kinds, amounts, 8) == 1);
  CHECK(amounts[0] == 360000);

  /* A channel without any card: 0 and "". */
  {
    vc__db *db;
    CHECK_OK(vc__db_acquire(&db, f.ctx->store));
    CHECK_OK(vc__db_run(db, "DELETE FROM vc_ratecard_entry"
                        " WHERE tenant_id = ?1", "t", vc_tenant_id(f.b)));
    vc__db_release(db);
    call_row(&f, f.b, c4, "+919876543210", f.b_tw);
    CHECK_OK(end_call(&f, f.b, c4, f.b_tw, "+919876543210", 60, DAY1,
                      &cost, cur));
    CHECK(cost == 0 && cur[0] == '\0');
  }
  teardown(&f);
}

static void test_billing__provider_price(void)
{
  fixture f;
  char c1[VC_ID_SIZE], c2[VC_ID_SIZE], cur[4];
  int kinds[8];
  int64_t amounts[8], cost;
  vc_ledger_filter lf = VC_LEDGER_FILTER_INIT;
  vc_ledger_entry *e[4];
  vc_iter *it;

  setup(&f);
  call_row(&f, f.a, c1, "+12125550100", f.tw1);
  CHECK_OK(end_call(&f, f.a, c1, f.tw1, "+12125550100", 61, DAY1 + 1000,
                    &cost, cur));
  CHECK(cost == 1016667);
  /* The provider says 1,014,999 the next day: a reversal of the
   * estimate and the price, both on day 2. */
  now_ms = DAY2 + 500;
  CHECK_OK(price_call(&f, f.a, c1, 1014999, "USD", DAY2 + 100));
  CHECK(entries_of(&f, f.a, c1, kinds, amounts, 8) == 3);
  CHECK(kinds[0] == VC_LEDGER_ESTIMATE && amounts[0] == 1016667);
  CHECK(kinds[1] == VC_LEDGER_REVERSAL && amounts[1] == 1016667);
  CHECK(kinds[2] == VC_LEDGER_PROVIDER_PRICE && amounts[2] == 1014999);
  lf.source_id = c1;
  CHECK_OK(vc_ledger_list(&it, f.a, &lf));
  for (int i = 0; i < 3; i++)
    CHECK_OK(vc_ledger_next(&e[i], it));
  CHECK_RC(vc_ledger_next(&e[3], it), VC_ITEROVER);
  vc_iter_free(it);
  CHECK_STR(vc_ledger_entry_period(e[0]), "2026-03-01");
  CHECK_STR(vc_ledger_entry_period(e[1]), "2026-03-02");
  CHECK_STR(vc_ledger_entry_period(e[2]), "2026-03-02");
  CHECK_STR(vc_ledger_entry_reverses(e[1]), vc_ledger_entry_id(e[0]));
  CHECK_STR(vc_ledger_entry_reverses(e[2]), "");
  CHECK_STR(vc_ledger_entry_provider(e[2]), "twilio-voice");
  CHECK_STR(vc_ledger_entry_channel_id(e[2]), f.tw1);
  CHECK(vc_ledger_entry_occurred_at(e[2]) == DAY2 + 100);
  CHECK(vc_ledger_entry_created_at(e[2]) == DAY2 + 500);
  for (int i = 0; i < 3; i++)
    vc_ledger_entry_free(e[i]);

  /* The same price again changes nothing; a different one reverses the
   * price in force. */
  CHECK_OK(price_call(&f, f.a, c1, 1014999, "USD", DAY2 + 200));
  CHECK(entries_of(&f, f.a, c1, kinds, amounts, 8) == 3);
  CHECK_OK(price_call(&f, f.a, c1, 1020000, "USD", DAY2 + 300));
  CHECK(entries_of(&f, f.a, c1, kinds, amounts, 8) == 5);
  CHECK(kinds[3] == VC_LEDGER_REVERSAL && amounts[3] == 1014999);
  CHECK(kinds[4] == VC_LEDGER_PROVIDER_PRICE && amounts[4] == 1020000);
  /* The call ending late keeps the provider's price. */
  CHECK_OK(end_call(&f, f.a, c1, f.tw1, "+12125550100", 61, DAY2, &cost,
                    cur));
  CHECK(cost == 1020000);
  CHECK(entries_of(&f, f.a, c1, kinds, amounts, 8) == 5);

  /* A price before the end (no estimate): the channel comes from the
   * call row; the end then posts no estimate. */
  call_row(&f, f.a, c2, "+919876543210", f.tw2);
  CHECK_OK(price_call(&f, f.a, c2, 700000, "INR", DAY2 + 400));
  CHECK(entries_of(&f, f.a, c2, kinds, amounts, 8) == 1);
  CHECK(kinds[0] == VC_LEDGER_PROVIDER_PRICE);
  CHECK_OK(end_call(&f, f.a, c2, f.tw2, "+919876543210", 61, DAY2 + 500,
                    &cost, cur));
  CHECK(cost == 700000);
  CHECK_STR(cur, "INR");
  CHECK(entries_of(&f, f.a, c2, kinds, amounts, 8) == 1);

  /* Bad prices change nothing. */
  CHECK_RC(price_call(&f, f.a, c2, -5, "INR", DAY2), VC_EINVALID);
  CHECK_RC(price_call(&f, f.a, c2, 5, "inr", DAY2), VC_EINVALID);
  CHECK_RC(price_call(&f, f.a, c2, 5, NULL, DAY2), VC_EINVALID);
  CHECK(entries_of(&f, f.a, c2, kinds, amounts, 8) == 1);
  /* The other tenant cannot price or end acme's call: not its call. */
  CHECK_RC(price_call(&f, f.b, c2, 1, "INR", DAY2), VC_ENOTFOUND);
  CHECK_RC(end_call(&f, f.b, c2, f.b_tw, "+919876543210", 61, DAY2, &cost,
                    cur), VC_ENOTFOUND);
  CHECK(cost == 0 && cur[0] == '\0');
  CHECK(entries_of(&f, f.a, c2, kinds, amounts, 8) == 1);
  CHECK(amounts[0] == 700000);
  CHECK(entries_of(&f, f.b, c2, kinds, amounts, 8) == 0);
  teardown(&f);
}

/* ---- the GL export ------------------------------------------------------ */

/* An RFC 4180 reader, written apart from the library's writer. */
#define MAX_ROWS 64
#define MAX_COLS 12
typedef struct csv_doc {
  char cell[MAX_ROWS][MAX_COLS][128];
  size_t rows, cols[MAX_ROWS];
} csv_doc;

static void csv_read(csv_doc *d, const char *s)
{
  memset(d, 0, sizeof(*d));
  while (*s) {
    size_t c = 0;
    CHECK(d->rows < MAX_ROWS);
    for (;;) {
      char *out = d->cell[d->rows][c];
      size_t n = 0;
      CHECK(c < MAX_COLS);
      if (*s == '"') {
        for (s++;; s++) {
          CHECK(*s != '\0');
          if (*s == '"' && s[1] == '"')
            s++;
          else if (*s == '"')
            break;
          CHECK(n < 127);
          out[n++] = *s;
        }
        s++;
      } else {
        while (*s && *s != ',' && *s != '\r') {
          CHECK(n < 127 && *s != '"' && *s != '\n');
          out[n++] = *s++;
        }
      }
      c++;
      if (*s == ',') {
        s++;
        continue;
      }
      CHECK(s[0] == '\r' && s[1] == '\n'); /* CRLF ends every record */
      s += 2;
      break;
    }
    d->cols[d->rows++] = c;
  }
}

enum { TYPE, DATE, ACCOUNT, DEBIT, CREDIT, CC, CUR, REF, DESC, ENTRY,
       DEBIT_U, CREDIT_U };

static long long num(const char *s)
{
  char *end;
  long long v = strtoll(s, &end, 10);

  CHECK(*s != '\0' && *end == '\0');
  return v;
}

/* "12.34" at `exp` decimals to minor units, strictly. */
static long long minor_of(const char *s, int exp)
{
  const char *dot = strchr(s, '.');
  long long v = 0;

  if (exp == 0)
    CHECK(dot == NULL);
  else
    CHECK(dot != NULL && strlen(dot + 1) == (size_t)exp);
  for (; *s; s++)
    if (*s != '.') {
      CHECK(*s >= '0' && *s <= '9');
      v = v * 10 + (*s - '0');
    }
  return v;
}

static void set_accounts(fixture *f)
{
  vc_gl_accounts a = VC_GL_ACCOUNTS_INIT;

  a.expense_account = "6100";
  a.payable_account = "2100";
  a.cost_center = "OPS";
  CHECK_OK(vc_gl_accounts_set(f->a, &a));
  memset(&a, 0, sizeof(a));
  CHECK_OK(vc_gl_accounts_init(&a, VC_GL_ACCOUNTS_VERSION));
  a.provider = "twilio-voice";
  a.payable_account = "2100-TW";
  CHECK_OK(vc_gl_accounts_set(f->a, &a));
  a.provider = NULL;
  a.channel = "tw-sales";
  a.payable_account = NULL;
  a.cost_center = "SALES, WEST";   /* a comma: the CSV must quote it */
  CHECK_OK(vc_gl_accounts_set(f->a, &a));
}

/* Entries over three days (figures as in the tests above):
 *   day 1  c1 tw-main  +1212 61 s  estimate 1,016,667 USD (1.02)
 *          c2 tw-sales +9198 10 s  estimate    50,000 USD (0.05)
 *          c3 exo      +81    1 s  estimate 1,500,000 JPY (2)
 *          c4 exo      +965   1 s  estimate 1,234,567 KWD (1.235)
 *   day 2  c1 reversal 1,016,667 USD (1.02), price 1,014,999 (1.01)
 *   day 3  c2 estimate... none: a call on day 3 outside the export. */
static void post_entries(fixture *f, char c[5][VC_ID_SIZE])
{
  char cur[4];
  int64_t cost;

  call_row(f, f->a, c[0], "+12125550100", f->tw1);
  CHECK_OK(end_call(f, f->a, c[0], f->tw1, "+12125550100", 61, DAY1 + 10,
                    &cost, cur));
  call_row(f, f->a, c[1], "+919812345678", f->tw2);
  CHECK_OK(end_call(f, f->a, c[1], f->tw2, "+919812345678", 10, DAY1 + 20,
                    &cost, cur));
  call_row(f, f->a, c[2], "+81312345678", f->ex);
  CHECK_OK(end_call(f, f->a, c[2], f->ex, "+81312345678", 1, DAY1 + 30,
                    &cost, cur));
  CHECK(cost == 1500000);
  call_row(f, f->a, c[3], "+96512345678", f->ex);
  CHECK_OK(end_call(f, f->a, c[3], f->ex, "+96512345678", 1, DAY1 + 40,
                    &cost, cur));
  CHECK(cost == 1234567);
  CHECK_OK(price_call(f, f->a, c[0], 1014999, "USD", DAY2 + 10));
  call_row(f, f->a, c[4], "+12125550100", f->tw1);
  CHECK_OK(end_call(f, f->a, c[4], f->tw1, "+12125550100", 1, DAY3 + 10,
                    &cost, cur));
}

static int export(fixture *f, vc_tenant *t, vc_buf *out, int format,
                  int64_t from, int64_t to)
{
  vc_gl_export_options o = VC_GL_EXPORT_OPTIONS_INIT;

  (void)f;
  o.format = format;
  o.from = from;
  o.to = to;
  return vc_gl_export(out, t, &o);
}

/* Find the line of `entry` on `account`. */
static size_t row_of(const csv_doc *d, const char *entry,
                     const char *account)
{
  for (size_t r = 1; r < d->rows; r++)
    if (strcmp(d->cell[r][ENTRY], entry) == 0 &&
        strcmp(d->cell[r][ACCOUNT], account) == 0)
      return r;
  CHECK(0);
  return 0;
}

static void test_billing__gl_csv(void)
{
  static csv_doc d;
  fixture f;
  char c[5][VC_ID_SIZE];
  vc_buf out = VC_BUF_INIT;
  long long dr_minor[3] = { 0 }, cr_minor[3] = { 0 };
  long long dr_u[3] = { 0 }, cr_u[3] = { 0 };
  const char *curs[3] = { "USD", "JPY", "KWD" };
  const int exps[3] = { 2, 0, 3 };
  size_t lines = 0, totals = 0, r;

  setup(&f);
  set_accounts(&f);
  post_entries(&f, c);
  CHECK_OK(export(&f, f.a, &out, VC_GL_CSV, DAY1, DAY3));
  csv_read(&d, out.ptr);
  CHECK(d.cols[0] == 12);
  CHECK_STR(d.cell[0][0], "type");
  CHECK_STR(d.cell[0][DEBIT_U], "debit_micros");
  for (r = 1; r < d.rows; r++) {
    int k = -1;
    CHECK(d.cols[r] == 12);
    for (int i = 0; i < 3; i++)
      if (strcmp(d.cell[r][CUR], curs[i]) == 0)
        k = i;
    CHECK(k >= 0);
    if (strcmp(d.cell[r][TYPE], "line") == 0) {
      long long dm = minor_of(d.cell[r][DEBIT], exps[k]);
      long long cm = minor_of(d.cell[r][CREDIT], exps[k]);
      /* One side per line. */
      CHECK((dm == 0) != (cm == 0));
      CHECK((num(d.cell[r][DEBIT_U]) == 0) != (num(d.cell[r][CREDIT_U]) ==
                                               0));
      dr_minor[k] += dm;
      cr_minor[k] += cm;
      dr_u[k] += num(d.cell[r][DEBIT_U]);
      cr_u[k] += num(d.cell[r][CREDIT_U]);
      CHECK(totals == 0); /* totals come after every line */
      lines++;
    } else {
      CHECK_STR(d.cell[r][TYPE], "total");
      /* The totals row states what the lines add up to. */
      CHECK(minor_of(d.cell[r][DEBIT], exps[k]) == dr_minor[k]);
      CHECK(minor_of(d.cell[r][CREDIT], exps[k]) == cr_minor[k]);
      CHECK(num(d.cell[r][DEBIT_U]) == dr_u[k]);
      CHECK(num(d.cell[r][CREDIT_U]) == cr_u[k]);
      totals++;
    }
  }
  /* Six entries in [day 1, day 3): twelve lines, three currencies. */
  CHECK(lines == 12 && totals == 3);
  /* Balanced, and exact against the figures worked above:
   * USD 1,016,667 + 50,000 + 1,016,667 + 1,014,999 = 3,098,333 micro;
   *     1.02 + 0.05 + 1.02 + 1.01 = 3.10 -> 310 cents;
   * JPY 1,500,000 micro = 1.5 yen -> 2; KWD 1,234,567 micro -> 1235. */
  for (int i = 0; i < 3; i++)
    CHECK(dr_minor[i] == cr_minor[i] && dr_u[i] == cr_u[i]);
  CHECK(dr_u[0] == 3098333 && dr_minor[0] == 310);
  CHECK(dr_u[1] == 1500000 && dr_minor[1] == 2);
  CHECK(dr_u[2] == 1234567 && dr_minor[2] == 1235);

  {
    /* Per line: c1's estimate debits expense 6100 and credits the
     * provider's payable 2100-TW on 2026-03-01 with cost center OPS. */
    vc_ledger_filter lf = VC_LEDGER_FILTER_INIT;
    vc_ledger_entry *e[3];
    vc_iter *it;

    lf.source_id = c[0];
    CHECK_OK(vc_ledger_list(&it, f.a, &lf));
    for (int i = 0; i < 3; i++)
      CHECK_OK(vc_ledger_next(&e[i], it));
    vc_iter_free(it);
    r = row_of(&d, vc_ledger_entry_id(e[0]), "6100");
    CHECK_STR(d.cell[r][DEBIT], "1.02");
    CHECK_STR(d.cell[r][CREDIT], "0.00");
    CHECK_STR(d.cell[r][DEBIT_U], "1016667");
    CHECK_STR(d.cell[r][DATE], "2026-03-01");
    CHECK_STR(d.cell[r][CC], "OPS");
    CHECK_STR(d.cell[r][REF], c[0]);
    r = row_of(&d, vc_ledger_entry_id(e[0]), "2100-TW");
    CHECK_STR(d.cell[r][CREDIT], "1.02");
    CHECK_STR(d.cell[r][DEBIT], "0.00");
    /* The reversal swaps: payable debited, expense credited, day 2. */
    r = row_of(&d, vc_ledger_entry_id(e[1]), "2100-TW");
    CHECK_STR(d.cell[r][DEBIT], "1.02");
    CHECK_STR(d.cell[r][DATE], "2026-03-02");
    r = row_of(&d, vc_ledger_entry_id(e[1]), "6100");
    CHECK_STR(d.cell[r][CREDIT], "1.02");
    CHECK(strstr(d.cell[r][DESC], vc_ledger_entry_id(e[0])) != NULL);
    r = row_of(&d, vc_ledger_entry_id(e[2]), "6100");
    CHECK_STR(d.cell[r][DEBIT], "1.01");
    CHECK_STR(d.cell[r][DEBIT_U], "1014999");
    for (int i = 0; i < 3; i++)
      vc_ledger_entry_free(e[i]);
  }
  /* tw-sales's cost center (quoted in the file, comma and all); exotel
   * has no payable of its own: the tenant's 2100; yen have no decimals
   * and dinars three. */
  for (r = 1; r < d.rows; r++) {
    if (strcmp(d.cell[r][REF], c[1]) == 0)
      CHECK_STR(d.cell[r][CC], "SALES, WEST");
    if (strcmp(d.cell[r][REF], c[2]) == 0) {
      CHECK(strcmp(d.cell[r][ACCOUNT], "2100") == 0 ||
            strcmp(d.cell[r][ACCOUNT], "6100") == 0);
      CHECK(strcmp(d.cell[r][DEBIT], "2") == 0 ||
            strcmp(d.cell[r][CREDIT], "2") == 0);
    }
    if (strcmp(d.cell[r][REF], c[3]) == 0)
      CHECK(strcmp(d.cell[r][DEBIT], "1.235") == 0 ||
            strcmp(d.cell[r][CREDIT], "1.235") == 0);
    CHECK(strcmp(d.cell[r][REF], c[4]) != 0); /* day 3: outside */
  }
  CHECK(strstr(out.ptr, "\"SALES, WEST\"") != NULL);

  /* Day 1 alone and day 2 alone each balance: the reversal lives in day
   * 2, so day 1's export is what it was before the price came. */
  CHECK_OK(export(&f, f.a, &out, VC_GL_CSV, DAY1, DAY2));
  csv_read(&d, out.ptr);
  CHECK(d.rows == 1 + 8 + 3);
  CHECK_OK(export(&f, f.a, &out, VC_GL_CSV, DAY2, DAY3));
  csv_read(&d, out.ptr);
  CHECK(d.rows == 1 + 4 + 1);
  CHECK_STR(d.cell[5][TYPE], "total");
  CHECK_STR(d.cell[5][DEBIT], "2.03");
  CHECK_STR(d.cell[5][CREDIT], "2.03");

  /* The other tenant sees none of it. */
  CHECK_OK(export(&f, f.b, &out, VC_GL_CSV, DAY1, DAY3));
  csv_read(&d, out.ptr);
  CHECK(d.rows == 1);
  vc_buf_dispose(&out);
  teardown(&f);
}

static void test_billing__gl_json(void)
{
  fixture f;
  char c[5][VC_ID_SIZE];
  vc_buf out = VC_BUF_INIT;
  cJSON *root, *lines, *totals, *l;
  long long usd_dr = 0, usd_cr = 0;
  int n = 0;

  setup(&f);
  set_accounts(&f);
  post_entries(&f, c);
  CHECK_OK(export(&f, f.a, &out, VC_GL_JSON, DAY1, DAY3));
  CHECK((root = cJSON_Parse(out.ptr)) != NULL);
  CHECK(cJSON_GetObjectItem(root, "from")->valuedouble == (double)DAY1);
  lines = cJSON_GetObjectItem(root, "lines");
  totals = cJSON_GetObjectItem(root, "totals");
  CHECK(cJSON_GetArraySize(lines) == 12 && cJSON_GetArraySize(totals) == 3);
  cJSON_ArrayForEach(l, lines) {
    const char *cur = cJSON_GetObjectItem(l, "currency")->valuestring;
    CHECK(cJSON_IsString(cJSON_GetObjectItem(l, "debit")));
    CHECK(cJSON_IsString(cJSON_GetObjectItem(l, "account")));
    CHECK(cJSON_IsString(cJSON_GetObjectItem(l, "reference")));
    if (strcmp(cur, "USD") == 0) {
      usd_dr += minor_of(cJSON_GetObjectItem(l, "debit")->valuestring, 2);
      usd_cr += minor_of(cJSON_GetObjectItem(l, "credit")->valuestring, 2);
    }
    n++;
  }
  CHECK(n == 12 && usd_dr == 310 && usd_cr == 310);
  cJSON_ArrayForEach(l, totals) {
    const char *cur = cJSON_GetObjectItem(l, "currency")->valuestring;
    CHECK(cJSON_GetObjectItem(l, "debit_micros")->valuedouble ==
          cJSON_GetObjectItem(l, "credit_micros")->valuedouble);
    CHECK_STR(cJSON_GetObjectItem(l, "debit")->valuestring,
              cJSON_GetObjectItem(l, "credit")->valuestring);
    if (strcmp(cur, "USD") == 0) {
      CHECK_STR(cJSON_GetObjectItem(l, "debit")->valuestring, "3.10");
      CHECK(cJSON_GetObjectItem(l, "debit_micros")->valuedouble == 3098333);
      CHECK(cJSON_GetObjectItem(l, "lines")->valuedouble == 8);
    }
    if (strcmp(cur, "KWD") == 0)
      CHECK_STR(cJSON_GetObjectItem(l, "credit")->valuestring, "1.235");
  }
  cJSON_Delete(root);

  /* An empty period is still a document. */
  CHECK_OK(export(&f, f.b, &out, VC_GL_JSON, DAY1, DAY3));
  CHECK((root = cJSON_Parse(out.ptr)) != NULL);
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(root, "lines")) == 0);
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(root, "totals")) == 0);
  cJSON_Delete(root);
  vc_buf_dispose(&out);
  teardown(&f);
}

VC_TESTS(
  VC_TEST(test_billing__pulses),
  VC_TEST(test_billing__rounding_fee_zero),
  VC_TEST(test_billing__periods_and_currencies),
  VC_TEST(test_billing__call_end),
  VC_TEST(test_billing__provider_price),
  VC_TEST(test_billing__gl_csv),
  VC_TEST(test_billing__gl_json),
)
