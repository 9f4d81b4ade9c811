/*
 * What webhooks and session adapters (call/session.c) share: a call
 * update deduplicated in vc_webhook_seen, then applied to its call.
 */
#ifndef VC_NET_WEBHOOK_H
#define VC_NET_WEBHOOK_H

#include "call/script.h"

#define VC__CALL_UPDATE_APPLIED 0
#define VC__CALL_UPDATE_DUPLICATE 1
#define VC__CALL_UPDATE_UNMATCHED 2

/*
 * One call update of channel `w->channel_id`, in the transaction of
 * `w->db`: deduplicated by its event id, else by a hash of its fields
 * and of the webhook's call, step, node and try (a SCRIPT never is),
 * then applied (vc__call_webhook_update). Returns one of the three
 * outcomes above, or < 0. An update for no call of the channel is
 * remembered as seen and ignored.
 */
int vc__webhook_call_update(vc__call_webhook *w, const vc_call_update *u);

/* Forget deduplication keys older than the dedupe window. */
int vc__webhook_seen_purge(vc__db *db, int64_t now);

#endif
