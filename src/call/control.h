/*
 * Operations on live calls: vc_call_hold/transfer/hangup/record check
 * them at once and queue a vc_call_control row with a call.control job;
 * the job asks the channel's adapter (build_control, parse_control) and
 * records what the provider took.
 */
#ifndef VC_CALL_CONTROL_H
#define VC_CALL_CONTROL_H

#include "vyomcomm/ctx.h"
#include "store/db.h"

#include <stddef.h>

/* Retries of one control request before it fails. */
#define VC__CALL_CONTROL_ATTEMPTS 5

int vc__call_control_register(vc_ctx *ctx);

/* Asking a provider its price of a call (VC_CALL_OP_FETCH_PRICE): the
 * first try this long after the end, then after 1, 2, 4, 8, 16 minutes
 * (or the provider's own hint), at most this many tries and never past
 * the window after the end; the estimate stands when all failed. */
#define VC__CALL_PRICE_DELAY_MS 30000
#define VC__CALL_PRICE_TRIES 6
#define VC__CALL_PRICE_WINDOW_MS 3600000
/* A price above this is not believed (the rate cards' bound). */
#define VC__CALL_PRICE_MAX_MICROS 1000000000000000LL

/* The call just ended: when its channel's adapter tells prices
 * (VC_CAP_CALL_PRICE) and the provider named the call, queue a
 * FETCH_PRICE, in the caller's transaction. */
int vc__call_price_schedule(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *call_id);

/* {public_base_url}/webhooks/{channel_id}?vc_call={call_id}, or "" when
 * the context has no public base URL. */
void vc__call_webhook_url(char *out, size_t size, vc_ctx *ctx,
                          const char *channel_id, const char *call_id);

/* A static name of a vc_call_op ("hold", "transfer", ...). */
const char *vc__call_op_name(int op);

#endif
