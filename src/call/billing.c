/*
 * What the call core asks of billing (hooks.h): estimate and post a
 * call's cost when it ends, and replace the estimate by the provider's
 * price when one comes. Both run inside the caller's transaction; each
 * posts through a savepoint, so a failure leaves no half of a change.
 *
 * Replacing a cost never rewrites the ledger: the entry in force is
 * reversed and the new one posted, both dated by the report, so a period
 * already exported stays as it was and every period balances.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "hooks.h"
#include "ledger.h"
#include "ratecard.h"

#include <stdio.h>

static const char SQL_CHANNEL_PROVIDER[] =
  "SELECT provider FROM vc_channel WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_CALL_CHANNEL[] =
  "SELECT COALESCE(channel_id, '') FROM vc_call"
  " WHERE tenant_id = ?1 AND id = ?2";

/* One text column of a one-row query into out: 1, or 0 ("") when there
 * is no row. */
static int one_text(char *out, size_t cap, vc__db *db, const char *sql,
                    const char *tenant_id, const char *id)
{
  vc__stmt *s;
  int rc;

  out[0] = '\0';
  if (id == NULL || id[0] == '\0')
    return 0;
  if ((rc = vc__db_query(&s, db, sql, "tt", tenant_id, id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW)
    snprintf(out, cap, "%s", vc__stmt_text(s, 0));
  vc__stmt_done(s);
  return rc < 0 ? rc : rc == VC_STORAGE_ROW;
}

/* The call must be the tenant's: its channel ("" when none yet). */
static int call_channel(char channel_id[VC_ID_SIZE], vc__db *db,
                        const char *tenant_id, const char *call_id)
{
  int rc = one_text(channel_id, VC_ID_SIZE, db, SQL_CALL_CHANNEL,
                    tenant_id, call_id);

  if (rc == 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no call '%.32s'", call_id);
  return rc < 0 ? rc : 0;
}

/* Run `fn` in a savepoint of the caller's transaction. */
static int in_savepoint(vc__db *db, int rc_of_fn(void *), void *arg)
{
  int rc;

  if ((rc = vc__db_begin(db)) < 0)
    return rc;
  if ((rc = rc_of_fn(arg)) < 0 || (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    return rc;
  }
  return 0;
}

/* ---- the end of a call ------------------------------------------------ */

typedef struct end_args {
  vc__db *db;
  vc_ctx *ctx;
  const char *tenant_id, *call_id, *channel_id, *destination;
  int talk_s;
  int64_t ended_at;
  int64_t *cost;
  char *currency;
} end_args;

static int on_end(void *arg)
{
  end_args *a = arg;
  char provider[VC__PROVIDER_MAX + 1], digits[VC_RATECARD_PREFIX_MAX + 1];
  char call_chan[VC_ID_SIZE];
  vc__ledger_current cur;
  vc__ledger_post p;
  vc__rate_match m;
  int64_t billed;
  int any, rc;

  if ((rc = call_channel(call_chan, a->db, a->tenant_id, a->call_id)) < 0)
    return rc;
  /* Ended twice, or priced by the provider already: what is in force
   * stands. */
  if ((rc = vc__ledger_current_of(&cur, &any, a->db, a->tenant_id, "call",
                                  a->call_id)) < 0)
    return rc;
  if (rc == 1) {
    *a->cost = cur.amount_micros;
    memcpy(a->currency, cur.currency, 4);
    return 0;
  }
  if (any)
    return 0; /* priced at zero by the provider */
  if ((rc = one_text(provider, sizeof(provider), a->db, SQL_CHANNEL_PROVIDER,
                     a->tenant_id, a->channel_id)) < 0)
    return rc;
  /* A destination that is not a number (a SIP URI) meets only the
   * default entry. */
  if ((rc = vc__ratecard_match(&m, a->db, a->tenant_id, provider,
                               a->channel_id,
                               vc__e164_digits(digits, a->destination) == 0
                                 ? digits : NULL,
                               a->ended_at)) <= 0)
    return rc;
  if ((rc = vc__ratecard_cost(a->cost, &billed, &m, a->talk_s)) < 0)
    return rc;
  memcpy(a->currency, m.currency, 4);
  if (*a->cost == 0)
    return 0; /* nothing to account for */
  memset(&p, 0, sizeof(p));
  p.source = "call";
  p.source_id = a->call_id;
  p.kind = VC_LEDGER_ESTIMATE;
  p.amount_micros = *a->cost;
  p.currency = m.currency;
  p.occurred_at = a->ended_at;
  p.provider = provider;
  p.channel_id = a->channel_id;
  p.ratecard_id = m.card_id;
  p.prefix = m.prefix;
  p.billed_s = billed;
  return vc__ledger_post_entry(a->db, a->ctx, a->tenant_id, &p, NULL);
}

int vc__billing_on_call_end(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *call_id, const char *channel_id,
                            const char *destination, int talk_s,
                            int64_t ended_at, int64_t *cost_micros,
                            char currency[4])
{
  end_args a = { db, ctx, tenant_id, call_id, channel_id, destination,
                 talk_s, ended_at, cost_micros, currency };
  int rc;

  VC_ASSERT_ARG(cost_micros && currency);
  *cost_micros = 0;
  currency[0] = '\0';
  VC_ASSERT_ARG(db && ctx && tenant_id && call_id);
  if ((rc = in_savepoint(db, on_end, &a)) < 0) {
    *cost_micros = 0;
    currency[0] = '\0';
  }
  return rc;
}

/* ---- the provider's price --------------------------------------------- */

typedef struct price_args {
  vc__db *db;
  vc_ctx *ctx;
  const char *tenant_id, *call_id;
  int64_t price;
  const char *currency;
  int64_t at;
} price_args;

static int on_price(void *arg)
{
  price_args *a = arg;
  char channel_id[VC_ID_SIZE], provider[VC__PROVIDER_MAX + 1];
  vc__ledger_current cur;
  vc__ledger_post p;
  int rc;

  if ((rc = call_channel(channel_id, a->db, a->tenant_id, a->call_id)) < 0 ||
      (rc = vc__ledger_current_of(&cur, NULL, a->db, a->tenant_id, "call",
                                  a->call_id)) < 0)
    return rc;
  /* The same price reported again changes nothing. */
  if (rc == 1 && cur.kind == VC_LEDGER_PROVIDER_PRICE &&
      cur.amount_micros == a->price && strcmp(cur.currency, a->currency) == 0)
    return 0;
  /* Booked where the estimate was; else on the call's channel. */
  if (rc == 1) {
    snprintf(channel_id, sizeof(channel_id), "%s", cur.channel_id);
    snprintf(provider, sizeof(provider), "%s", cur.provider);
  } else if ((rc = one_text(provider, sizeof(provider), a->db,
                            SQL_CHANNEL_PROVIDER, a->tenant_id,
                            channel_id)) < 0) {
    return rc;
  }
  memset(&p, 0, sizeof(p));
  p.source = "call";
  p.source_id = a->call_id;
  p.occurred_at = a->at;
  p.provider = provider;
  p.channel_id = channel_id;
  if (cur.id[0] != '\0') {
    p.kind = VC_LEDGER_REVERSAL;
    p.amount_micros = cur.amount_micros;
    p.currency = cur.currency;
    p.reverses = cur.id;
    if ((rc = vc__ledger_post_entry(a->db, a->ctx, a->tenant_id, &p,
                                    NULL)) < 0)
      return rc;
  }
  if (a->price == 0)
    return 0;
  p.kind = VC_LEDGER_PROVIDER_PRICE;
  p.amount_micros = a->price;
  p.currency = a->currency;
  p.reverses = NULL;
  return vc__ledger_post_entry(a->db, a->ctx, a->tenant_id, &p, NULL);
}

int vc__billing_on_call_price(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                              const char *call_id, int64_t price_micros,
                              const char *currency, int64_t at)
{
  price_args a = { db, ctx, tenant_id, call_id, price_micros, currency,
                   at };

  VC_ASSERT_ARG(db && ctx && tenant_id && call_id);
  if (price_micros < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a call's price must not be negative (a charge "
                         "is a positive amount)");
  if (!vc__currency_valid(currency))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a call's price needs an ISO 4217 currency");
  return in_savepoint(db, on_price, &a);
}
