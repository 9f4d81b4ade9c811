/*
 * Privacy internals: the keyed address hashes that keep an erased
 * contact's refusals working, asked by the consent check and the
 * do-not-call list; the retention job.
 */
#ifndef VC_MSG_PRIVACY_H
#define VC_MSG_PRIVACY_H

#include "vyomcomm/privacy.h"
#include "store/db.h"

/* What vc__privacy_suppressed found. */
#define VC__SUPPRESS_DNC 1      /* the number was on the do-not-call list */
#define VC__SUPPRESS_OPT_OUT 2  /* opted out of that kind and category */

/* Whether the erased holder of `to` (normalized as for a send of `kind`)
 * refused: `dnc` asks for the do-not-call list, `category` (1 or 2, or
 * 0 for none) for an opt-out. A mask of VC__SUPPRESS_*, or < 0
 * (VC_EBUSY while the master key is being rotated). Only called for a
 * tenant with a hash key (the consent check reads whether it has one in
 * its own query): a tenant that never erased anyone pays nothing. */
int vc__privacy_suppressed(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                           int kind, int dnc, int category, const char *to);

/* vc_dnc_remove(): forget the hashed do-not-call entry of `number` too.
 * 1 when there was one, 0 when not, < 0. */
int vc__privacy_dnc_forget(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                           const char *number);

/* The retention job (at context creation). */
int vc__retention_register(vc_ctx *ctx);

#endif /* VC_MSG_PRIVACY_H */
