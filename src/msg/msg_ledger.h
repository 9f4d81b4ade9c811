/*
 * Message costs: the estimate when a message is queued (msg_hooks.h),
 * its reversal when the message never went out, and the provider's
 * price as a correction (from the dispatcher and delivery webhooks).
 * See docs/engagement.md "Costs".
 */
#ifndef VC_MSG_MSG_LEDGER_H
#define VC_MSG_MSG_LEDGER_H

#include "store/db.h"

/* The per-context cache of which tenants price messages. */
struct vc__price_cache;
int vc__price_cache_new(struct vc__price_cache **out);
void vc__price_cache_free(struct vc__price_cache *c);

/* A tenant's rate cards changed on this context: ask the store again. */
void vc__msg_ledger_forget(vc_ctx *ctx, const char *tenant_id);

/* A price a provider reported for a message. */
typedef struct vc__msg_price {
  const char *tenant_id;
  const char *message_id;
  /* NULL or "": the price of the whole message (a send response); else
   * the provider's id of the one part it prices (a delivery receipt). */
  const char *ref;
  int64_t micros;           /* > 0 */
  const char *currency;     /* ISO 4217 */
  int64_t at;               /* when it was reported, Unix ms */
} vc__msg_price;

/*
 * Book it inside the caller's transaction: the estimate in force (and a
 * different earlier price of the same thing) is reversed and the price
 * posted; the same price again changes nothing, and a part's price is
 * ignored once the whole message has a price. VC_ENOTFOUND for a
 * message the tenant does not have.
 */
int vc__msg_ledger_price(vc__db *db, vc_ctx *ctx, const vc__msg_price *p);

#endif
