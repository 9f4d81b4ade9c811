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

/* {public_base_url}/webhooks/{channel_id}?vc_call={call_id}, or "" when
 * the context has no public base URL. */
void vc__call_webhook_url(char *out, size_t size, vc_ctx *ctx,
                          const char *channel_id, const char *call_id);

/* A static name of a vc_call_op ("hold", "transfer", ...). */
const char *vc__call_op_name(int op);

#endif
