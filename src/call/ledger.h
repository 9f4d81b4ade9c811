/*
 * Ledger internals: posting entries inside a caller's transaction, the
 * entry of a source that is in force, periods and currency precision.
 */
#ifndef VC_CALL_LEDGER_H
#define VC_CALL_LEDGER_H

#include "vyomcomm/ledger.h"
#include "store/db.h"

/* An entry to post. Strings may be NULL (stored as ""/NULL). */
typedef struct vc__ledger_post {
  const char *source;      /* "call" or "message" */
  const char *source_id;
  int kind;                /* a vc_ledger_kind */
  int64_t amount_micros;   /* > 0 */
  const char *currency;
  int64_t occurred_at;
  const char *reverses;    /* reversal: the entry undone */
  const char *provider;
  const char *channel_id;
  const char *ratecard_id; /* estimate */
  const char *prefix;      /* estimate */
  int64_t billed_s;        /* estimate */
  const char *campaign_id; /* a campaign's message, else NULL */
  const char *price_ref;   /* a message's provider price: "" for the
                              whole message, else the part's provider id */
} vc__ledger_post;

/* Append an entry and its "ledger.posted" event. */
int vc__ledger_post_entry(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                          const vc__ledger_post *p,
                          char id_out[VC_ID_SIZE]);

/* Analytics (stats.c): cost rollups move with each entry posted, in its
 * transaction. A reversal (kind VC_LEDGER_REVERSAL) subtracts. */
int vc__stats_on_ledger(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        const vc__ledger_post *p, const char period[11]);

/* The entry of a source in force: the latest one that is not a reversal
 * and has not been reversed. */
typedef struct vc__ledger_current {
  char id[VC_ID_SIZE];
  int kind;
  int64_t amount_micros;
  char currency[4];
  char provider[65];
  char channel_id[VC_ID_SIZE];
} vc__ledger_current;

/* 1 with the entry in force, 0 when none; *any (may be NULL) is set to 1
 * when the source has any entry at all. */
int vc__ledger_current_of(vc__ledger_current *out, int *any, vc__db *db,
                          const char *tenant_id, const char *source,
                          const char *source_id);

/* The UTC date of Unix ms `ms`, YYYY-MM-DD. */
void vc__ledger_period(char out[11], int64_t ms);

/* Digits after the point of a currency's minor unit (ISO 4217): 0, 2, 3
 * or 4; 2 for codes not in the library's table. */
int vc__currency_exponent(const char *code);

#endif
