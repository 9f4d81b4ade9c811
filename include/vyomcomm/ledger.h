/**
 * @file vyomcomm/ledger.h
 * @brief The ledger: every cost the library accounts for, in integer
 *        micro-units with an ISO 4217 currency.
 *
 * The ledger is append-only. When a call ends its estimated cost (from
 * the rate cards, vyomcomm/ratecard.h) is posted as an `estimate`; when
 * the provider reports its own price, a `reversal` of the estimate and a
 * `provider_price` entry are posted, both at the time of the report. A
 * period already exported therefore never changes, and every period
 * balances on its own. Two sources post entries: "call" (when a call
 * ends) and "message" (an estimate when a message is queued, reversed
 * when it never went out, corrected by the provider's price; see
 * docs/engagement.md "Costs").
 *
 * Every entry has a period: the UTC date (YYYY-MM-DD) of the event it
 * records. (The tenant's timezone is not applied: pass local-midnight
 * times as `from` and `to` to read a local day.)
 *
 * Thread safety: every function may be called from any thread; an entry
 * handle is a snapshot and may be shared between threads.
 *
 * @defgroup vc_ledger Ledger
 * @{
 */
#ifndef VYOMCOMM_LEDGER_H
#define VYOMCOMM_LEDGER_H

#include "common.h"
#include "types.h"
#include "iter.h"
#include "buffer.h"

VC_BEGIN_DECL

/** A ledger entry handle. */
typedef struct vc_ledger_entry vc_ledger_entry;

/** What an entry records. Values are pinned. */
typedef enum vc_ledger_kind {
  VC_LEDGER_ESTIMATE = 1,       /**< the cost from a rate card */
  VC_LEDGER_PROVIDER_PRICE = 2, /**< the provider's own price */
  VC_LEDGER_REVERSAL = 3        /**< undoes the entry it names */
} vc_ledger_kind;

/** A static name for a kind ("estimate", "provider_price", ...), or
 *  "unknown". @since 0.2 */
VC_EXTERN(const char *) vc_ledger_kind_name(int kind);

/** What vc_ledger_list() returns, in id (posting) order. */
typedef struct vc_ledger_filter {
  unsigned int version;  /**< VC_LEDGER_FILTER_VERSION */
  const char *after;     /**< a vc_iter_cursor() value, or NULL */
  int64_t from;          /**< events at or after (Unix ms), or 0 */
  int64_t to;            /**< events before (Unix ms), or 0 for no end */
  const char *source;    /**< "call" or "message", or NULL for any */
  const char *source_id; /**< one call's or message's entries, or NULL */
} vc_ledger_filter;

/** The current version of vc_ledger_filter, and an initializer with every
 *  member at its default (vc_ledger_filter_init() for other languages). */
#define VC_LEDGER_FILTER_VERSION 1
#define VC_LEDGER_FILTER_INIT \
  { VC_LEDGER_FILTER_VERSION, NULL, 0, 0, NULL, NULL }

/** Initialise a vc_ledger_filter for `version`. @since 0.2 */
VC_EXTERN(int) vc_ledger_filter_init(vc_ledger_filter *f,
                                     unsigned int version);

/**
 * List a tenant's ledger entries.
 * @return 0, VC_EINVALID
 * @since 0.2
 */
VC_EXTERN(int) vc_ledger_list(vc_iter **out, vc_tenant *tenant,
                              const vc_ledger_filter *filter);

/** The next entry of a list. @return 0, VC_ITEROVER. @since 0.2 */
VC_EXTERN(int) vc_ledger_next(vc_ledger_entry **out, vc_iter *it);

/** Free an entry handle; NULL is accepted. @since 0.2 */
VC_EXTERN(void) vc_ledger_entry_free(vc_ledger_entry *e);

/** @name Getters
 *  Strings are borrowed from the handle. @since 0.2 */
/** The entry's id. */
VC_EXTERN(const char *) vc_ledger_entry_id(const vc_ledger_entry *e);
/** A vc_ledger_kind. */
VC_EXTERN(int) vc_ledger_entry_kind(const vc_ledger_entry *e);
/** Always > 0; a reversal is booked on the opposite sides. */
VC_EXTERN(int64_t) vc_ledger_entry_amount_micros(const vc_ledger_entry *e);
/** The ISO 4217 currency of the amount. */
VC_EXTERN(const char *) vc_ledger_entry_currency(const vc_ledger_entry *e);
/** "call" or "message". */
VC_EXTERN(const char *) vc_ledger_entry_source(const vc_ledger_entry *e);
/** The call's or message's id. */
VC_EXTERN(const char *) vc_ledger_entry_source_id(const vc_ledger_entry *e);
/** The UTC date of the event, YYYY-MM-DD. */
VC_EXTERN(const char *) vc_ledger_entry_period(const vc_ledger_entry *e);
/** The reversed entry's id for a reversal, else "". */
VC_EXTERN(const char *) vc_ledger_entry_reverses(const vc_ledger_entry *e);
/** The provider (adapter name) and channel id, "" when unknown. */
VC_EXTERN(const char *) vc_ledger_entry_provider(const vc_ledger_entry *e);
/** The channel id, "" when unknown. */
VC_EXTERN(const char *) vc_ledger_entry_channel_id(const vc_ledger_entry *e);
/** Unix ms of the event, and of the posting. */
VC_EXTERN(int64_t) vc_ledger_entry_occurred_at(const vc_ledger_entry *e);
/** When the entry was written (Unix ms). */
VC_EXTERN(int64_t) vc_ledger_entry_created_at(const vc_ledger_entry *e);

/** The longest period vc_ledger_summary() covers, in days. */
#define VC_LEDGER_SUMMARY_MAX_DAYS 366

/**
 * Sums of a tenant's ledger per period (UTC day) and currency, for the
 * entries whose events fall in [from, to), as JSON:
 *
 *     {"from": ms, "to": ms, "periods": [
 *       {"period": "2026-11-27", "currency": "USD",
 *        "estimate_micros": E, "provider_price_micros": P,
 *        "reversal_micros": R, "net_micros": E + P - R, "entries": n,
 *        "sources": {"call": {the same five}, "message": {...}}}, ...]}
 *
 * in period then currency order. `net_micros` is the cost booked for
 * the period: an estimate replaced by a price counts once. It reads
 * every entry of the period (its time grows with them; its memory does
 * not).
 *
 * @param json_out receives the JSON (dispose with vc_buf_dispose)
 * @return 0; VC_EINVALID (not 0 <= from < to), VC_ETOOBIG (more than
 *   VC_LEDGER_SUMMARY_MAX_DAYS days, or more than 16 currencies in one
 *   day)
 * @since 0.3
 */
VC_EXTERN(int) vc_ledger_summary(vc_buf *json_out, vc_tenant *tenant,
                                 int64_t from, int64_t to);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_LEDGER_H */
