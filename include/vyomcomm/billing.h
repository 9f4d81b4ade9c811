/**
 * @file vyomcomm/billing.h
 * @brief Billing for accounting: the tenant's GL account codes and the
 *        export of the ledger (vyomcomm/ledger.h) as a balanced
 *        double-entry journal, CSV or JSON.
 *
 * Each ledger entry becomes two journal lines of the same amount: a
 * debit of the communication expense account and a credit of the
 * provider payable account; a reversal swaps the sides. Debits therefore
 * equal credits in every currency of every export.
 *
 * Amounts: `debit` and `credit` are decimal strings at the currency's
 * minor-unit precision (ISO 4217: 2 digits for most, 0 for JPY, KRW,
 * VND..., 3 for BHD, KWD, OMR...; 2 for codes the library does not know),
 * each entry's micro-units rounded half up. The exact micro-units are in
 * `debit_micros` and `credit_micros`. Totals per currency are the sums
 * of the lines in both forms (the decimal total is the sum of the
 * rounded lines, so it ties to them).
 *
 * Thread safety: every function may be called from any thread.
 *
 * @defgroup vc_billing Billing and GL export
 * @{
 */
#ifndef VYOMCOMM_BILLING_H
#define VYOMCOMM_BILLING_H

#include "common.h"
#include "types.h"
#include "buffer.h"

VC_BEGIN_DECL

/** The expense account when none is set. */
#define VC_GL_DEFAULT_EXPENSE "COMMS-EXPENSE"
/** The payable account when none is set. */
#define VC_GL_DEFAULT_PAYABLE "PROVIDER-PAYABLE"
/** Account codes and cost centers: 1-64 bytes of A-Z a-z 0-9, space and
 *  ". _ - : / , & ( ) #", starting with a letter or digit (so that no
 *  spreadsheet reads one as a formula). */
#define VC_GL_CODE_MAX 64

/**
 * GL account codes at one scope: the tenant's defaults (`provider` and
 * `channel` NULL), one provider's, or one channel's. A NULL code is not
 * set at this scope and falls back: a channel's to its provider's, a
 * provider's to the tenant's, the tenant's to the VC_GL_DEFAULT_*
 * values (cost center: "").
 */
typedef struct vc_gl_accounts {
  unsigned int version;        /**< VC_GL_ACCOUNTS_VERSION */
  const char *provider;        /**< an adapter name, or NULL */
  const char *channel;         /**< a channel id or name, or NULL */
  const char *expense_account; /**< debit of a cost */
  const char *payable_account; /**< credit of a cost */
  const char *cost_center;    /**< cost center code, or NULL */
} vc_gl_accounts;

/** The current version of vc_gl_accounts, and an initializer with every
 *  member at its default (vc_gl_accounts_init() for other languages). */
#define VC_GL_ACCOUNTS_VERSION 1
#define VC_GL_ACCOUNTS_INIT \
  { VC_GL_ACCOUNTS_VERSION, NULL, NULL, NULL, NULL, NULL }

/** Initialise a vc_gl_accounts for `version`. @since 0.2 */
VC_EXTERN(int) vc_gl_accounts_init(vc_gl_accounts *a, unsigned int version);

/**
 * Set the account codes of one scope, replacing what that scope had
 * (all three codes NULL clears it). At most one of `provider` and
 * `channel` may be given.
 *
 * @return 0; VC_EINVALID, VC_ENOTFOUND (unknown channel)
 * @since 0.2
 */
VC_EXTERN(int) vc_gl_accounts_set(vc_tenant *tenant,
                                  const vc_gl_accounts *accounts);

/** Export formats. Values are pinned. */
typedef enum vc_gl_format {
  /**
   * RFC 4180 CSV with CRLF line ends and a header line:
   * `type,date,account,debit,credit,cost_center,currency,reference,`
   * `description,entry,debit_micros,credit_micros`.
   * `type` is "line" for a journal line and "total" for the totals of a
   * currency, one row per currency after the lines (date, account,
   * cost_center, reference and entry empty).
   */
  VC_GL_CSV = 1,
  /**
   * JSON: {"from": ms, "to": ms, "lines": [{"date", "account", "debit",
   * "credit", "cost_center", "currency", "reference", "description",
   * "entry", "debit_micros", "credit_micros"}], "totals": [{"currency",
   * "debit", "credit", "debit_micros", "credit_micros", "lines"}]}.
   * Decimal amounts are strings; micro-units are integers.
   */
  VC_GL_JSON = 2
} vc_gl_format;

/** What vc_gl_export() writes. */
typedef struct vc_gl_export_options {
  unsigned int version;  /**< VC_GL_EXPORT_OPTIONS_VERSION */
  int format;            /**< a vc_gl_format */
  int64_t from;          /**< entries whose event is at or after (ms) */
  int64_t to;            /**< ... and before (ms); to > from */
} vc_gl_export_options;

/** The current version of vc_gl_export_options, and an initializer with every
 *  member at its default (vc_gl_export_options_init() for other languages). */
#define VC_GL_EXPORT_OPTIONS_VERSION 1
#define VC_GL_EXPORT_OPTIONS_INIT \
  { VC_GL_EXPORT_OPTIONS_VERSION, VC_GL_CSV, 0, 0 }

/** Initialise a vc_gl_export_options for `version`. @since 0.2 */
VC_EXTERN(int) vc_gl_export_options_init(vc_gl_export_options *o,
                                         unsigned int version);

/**
 * Write the journal of the tenant's ledger entries whose events fall in
 * [from, to), in event order, with totals per currency. The ledger is
 * read one entry at a time; only the output is held in memory.
 *
 * @param out receives the text (reset first), freed with vc_buf_dispose()
 * @return 0; VC_EINVALID (bad options)
 * @since 0.2
 */
VC_EXTERN(int) vc_gl_export(vc_buf *out, vc_tenant *tenant,
                            const vc_gl_export_options *options);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_BILLING_H */
