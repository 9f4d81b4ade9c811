/*
 * Cost checks shared by the provider end-to-end tests, public API only:
 * a rate card for the provider, then, after a call, its cost on the
 * call, its entry in the ledger and a balanced GL export of its day.
 */
#ifndef VC_TEST_COST_CHECK_H
#define VC_TEST_COST_CHECK_H

#include "vyomcomm.h"
#include "harness.h"

#include <cJSON.h>
#include <time.h>

#define DAY_MS 86400000LL

/*
 * A card for `provider`: India (prefix 91) at `rate` micro-units a
 * minute with pulses `initial_s`/`subsequent_s` and a connection fee;
 * a dearer default entry for every other number; and a card taking
 * effect tomorrow at ten times the price, which no call of today meets.
 */
static inline void cost_card(vc_tenant *t, const char *provider,
                             int64_t rate, int initial_s, int subsequent_s,
                             int64_t fee)
{
  vc_ratecard_entry en[2] = { VC_RATECARD_ENTRY_INIT,
                              VC_RATECARD_ENTRY_INIT };
  vc_ratecard_spec s = VC_RATECARD_SPEC_INIT;
  char id[VC_ID_SIZE];

  en[0].prefix = "91";
  en[0].rate_per_min_micros = rate;
  en[0].initial_s = initial_s;
  en[0].subsequent_s = subsequent_s;
  en[0].connection_fee_micros = fee;
  en[0].currency = "INR";
  en[1].prefix = "";
  en[1].rate_per_min_micros = 50 * rate;
  en[1].currency = "INR";
  s.provider = provider;
  s.entries = en;
  s.nentries = 2;
  CHECK_OK(vc_ratecard_set(id, t, &s));
  en[0].rate_per_min_micros = 10 * rate;
  s.effective_from = (int64_t)time(NULL) * 1000 + DAY_MS;
  CHECK_OK(vc_ratecard_set(id, t, &s));
}

/* A journal line or total's member as an integer (-1 when absent). */
static inline int64_t cost_int(const cJSON *o, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

  return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

static inline const char *cost_str(const cJSON *o, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

  return cJSON_IsString(v) ? v->valuestring : "";
}

/*
 * The call `c` (refreshed, completed on `channel_id` of `provider`) cost
 * `want` micro-units of INR: on the call, as the one ledger entry of the
 * call (an estimate dated the call's end), and in the GL export of that
 * UTC day, which balances: `decimal` on the debit line of the expense
 * account and on the credit line of the payable account, and the INR
 * totals equal on both sides.
 */
static inline void cost_check(vc_tenant *t, const vc_call *c,
                              const char *provider, const char *channel_id,
                              int64_t want, const char *decimal)
{
  vc_ledger_filter f = VC_LEDGER_FILTER_INIT;
  vc_gl_export_options o = VC_GL_EXPORT_OPTIONS_INIT;
  vc_buf b = VC_BUF_INIT;
  vc_ledger_entry *le;
  vc_iter *it;
  int64_t ended = vc_call_state_at(c, VC_CALL_COMPLETED);
  char period[16];
  time_t secs = (time_t)(ended / 1000);
  struct tm tm;
  cJSON *doc, *lines, *totals, *l;
  int debit = 0, credit = 0;

  CHECK(vc_call_cost_micros(c) == want);
  CHECK_STR(vc_call_currency(c), "INR");
  CHECK(vc_call_cost_reported(c) == 0);
  /* The ledger: one estimate for the call, at its end. */
  f.source = "call";
  f.source_id = vc_call_id(c);
  CHECK_OK(vc_ledger_list(&it, t, &f));
  CHECK_OK(vc_ledger_next(&le, it));
  CHECK(vc_ledger_entry_kind(le) == VC_LEDGER_ESTIMATE);
  CHECK(vc_ledger_entry_amount_micros(le) == want);
  CHECK_STR(vc_ledger_entry_currency(le), "INR");
  CHECK_STR(vc_ledger_entry_source(le), "call");
  CHECK_STR(vc_ledger_entry_source_id(le), vc_call_id(c));
  CHECK_STR(vc_ledger_entry_provider(le), provider);
  CHECK_STR(vc_ledger_entry_channel_id(le), channel_id);
  CHECK(vc_ledger_entry_occurred_at(le) == ended);
  gmtime_r(&secs, &tm);
  strftime(period, sizeof(period), "%Y-%m-%d", &tm);
  CHECK_STR(vc_ledger_entry_period(le), period);
  vc_ledger_entry_free(le);
  CHECK_RC(vc_ledger_next(&le, it), VC_ITEROVER);
  vc_iter_free(it);
  /* The GL export of that day balances. */
  o.format = VC_GL_JSON;
  o.from = ended - ended % DAY_MS;
  o.to = o.from + DAY_MS;
  CHECK_OK(vc_gl_export(&b, t, &o));
  CHECK((doc = cJSON_Parse(b.ptr)) != NULL);
  lines = cJSON_GetObjectItemCaseSensitive(doc, "lines");
  CHECK(cJSON_GetArraySize(lines) == 2);
  cJSON_ArrayForEach(l, lines) {
    CHECK_STR(cost_str(l, "currency"), "INR");
    if (strcmp(cost_str(l, "account"), VC_GL_DEFAULT_EXPENSE) == 0) {
      CHECK_STR(cost_str(l, "debit"), decimal);
      CHECK(cost_int(l, "debit_micros") == want);
      CHECK(cost_int(l, "credit_micros") == 0);
      debit++;
    } else {
      CHECK_STR(cost_str(l, "account"), VC_GL_DEFAULT_PAYABLE);
      CHECK_STR(cost_str(l, "credit"), decimal);
      CHECK(cost_int(l, "credit_micros") == want);
      CHECK(cost_int(l, "debit_micros") == 0);
      credit++;
    }
  }
  CHECK(debit == 1 && credit == 1);
  totals = cJSON_GetObjectItemCaseSensitive(doc, "totals");
  CHECK(cJSON_GetArraySize(totals) == 1);
  l = cJSON_GetArrayItem(totals, 0);
  CHECK_STR(cost_str(l, "currency"), "INR");
  CHECK(cost_int(l, "debit_micros") == want);
  CHECK(cost_int(l, "credit_micros") == want);
  CHECK_STR(cost_str(l, "debit"), decimal);
  CHECK_STR(cost_str(l, "credit"), decimal);
  cJSON_Delete(doc);
  vc_buf_dispose(&b);
}

/* The call's ledger entries in posting order: "estimate:133457:USD
 * reversal:133457:USD ..." (kinds by name). */
static inline void cost_ledger(vc_tenant *t, const char *call_id,
                               char *out, size_t size)
{
  static const char *const kinds[] = { "?", "estimate", "provider_price",
                                       "reversal" };
  vc_ledger_filter f = VC_LEDGER_FILTER_INIT;
  vc_ledger_entry *le;
  vc_iter *it;
  size_t len = 0;

  out[0] = '\0';
  f.source = "call";
  f.source_id = call_id;
  CHECK_OK(vc_ledger_list(&it, t, &f));
  while (vc_ledger_next(&le, it) == 0) {
    int k = vc_ledger_entry_kind(le);
    len += (size_t)snprintf(out + len, size - len, "%s%s:%lld:%s",
                            len ? " " : "",
                            kinds[k >= 1 && k <= 3 ? k : 0],
                            (long long)vc_ledger_entry_amount_micros(le),
                            vc_ledger_entry_currency(le));
    CHECK(len < size);
    vc_ledger_entry_free(le);
  }
  vc_iter_free(it);
}

/* The GL export of [from, to) has `nlines` journal lines and balances in
 * its one currency: debits and credits both `want` micro-units. */
static inline void cost_gl_balanced(vc_tenant *t, int64_t from,
                                    int64_t to, const char *currency,
                                    int nlines, int64_t want)
{
  vc_gl_export_options o = VC_GL_EXPORT_OPTIONS_INIT;
  vc_buf b = VC_BUF_INIT;
  cJSON *doc, *totals, *l;
  int64_t debit = 0, credit = 0;

  o.format = VC_GL_JSON;
  o.from = from;
  o.to = to;
  CHECK_OK(vc_gl_export(&b, t, &o));
  CHECK((doc = cJSON_Parse(b.ptr)) != NULL);
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "lines"))
        == nlines);
  cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(doc, "lines")) {
    debit += cost_int(l, "debit_micros");
    credit += cost_int(l, "credit_micros");
  }
  CHECK(debit == want && credit == want);
  totals = cJSON_GetObjectItemCaseSensitive(doc, "totals");
  CHECK(cJSON_GetArraySize(totals) == 1);
  l = cJSON_GetArrayItem(totals, 0);
  CHECK_STR(cost_str(l, "currency"), currency);
  CHECK(cost_int(l, "debit_micros") == want);
  CHECK(cost_int(l, "credit_micros") == want);
  CHECK_STR(cost_str(l, "debit"), cost_str(l, "credit"));
  cJSON_Delete(doc);
  vc_buf_dispose(&b);
}

/* A call that never talked costs nothing and leaves no ledger entry. */
static inline void cost_none(vc_tenant *t, const vc_call *c)
{
  vc_ledger_filter f = VC_LEDGER_FILTER_INIT;
  vc_ledger_entry *le;
  vc_iter *it;

  CHECK(vc_call_cost_micros(c) == 0);
  f.source_id = vc_call_id(c);
  CHECK_OK(vc_ledger_list(&it, t, &f));
  CHECK_RC(vc_ledger_next(&le, it), VC_ITEROVER);
  vc_iter_free(it);
}

#endif
