/*
 * Voicemail: a recording an inbound caller left (inbound.c) is kept with
 * the call, announced (`call.voicemail`) and lands in the unified inbox
 * as an item of the caller's contact's conversation.
 */
#ifndef VC_CALL_VOICEMAIL_H
#define VC_CALL_VOICEMAIL_H

#include "machine.h"

/*
 * The voicemail of inbound call `r` is recorded (u: VC_UPDATE_RECORDING,
 * VC_RECORDING_AVAILABLE; the recording module stored it already): keep
 * its id, URL and duration, append the event and the inbox item. `box`
 * is the agent or queue whose mailbox it is ("" the tenant's). Once per
 * call.
 */
int vc__voicemail_store(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        const vc__call_row *r, const char *box,
                        const vc_call_update *u, int64_t at);

#endif
