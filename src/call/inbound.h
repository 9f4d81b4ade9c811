/*
 * Inbound calls: a customer calls one of the tenant's numbers. The
 * arrival (VC_UPDATE_INCOMING) routes the number and stores the call;
 * then every script the provider fetches moves the caller on: the
 * number's IVR menu, a queue (waiting, ringing the agent picked, back to
 * the line when the agent misses it, overflow when the wait is over),
 * an agent, a voicemail. The call keeps the state machine of outbound
 * calls (initiated -> agent_ringing -> bridged -> a final state); where
 * the caller is on the way is kept in vc_inbound_call.
 *
 * Steps of the call's webhook URL (vc_step) an inbound call uses:
 *   ivr        a GATHER's keys (the IVR module's own URLs)
 *   in_wait    the caller waits in a queue: REDIRECT back here
 *   in_ring    the progress of the leg a DIAL rings (VC_LEG_AGENT)
 *   in_dial    a DIAL's end (its VC_UPDATE_ENDED for VC_LEG_AGENT first)
 *   in_record  a voicemail RECORD's end (its VC_UPDATE_RECORDING first)
 *   recording  a recording's status (as for outbound calls)
 */
#ifndef VC_CALL_INBOUND_H
#define VC_CALL_INBOUND_H

#include "machine.h"
#include "script.h"

/* The watchdog of an inbound call (subject: the call id). */
#define VC__JOB_CALL_INBOUND "call.inbound"

/* A caller not heard of for this long (no fetch, no report) outside a
 * conversation is taken for gone: ABANDONED. */
#define VC__INBOUND_IDLE_MS (300 * 1000)

/*
 * A call arrives (VC_UPDATE_INCOMING of w's channel): route u->to, store
 * the inbound call (or find the one a repeated arrival made) and answer
 * with its first script. A number no live number of the channel's tenant
 * has is refused: the call is stored failed (UNKNOWN_NUMBER) and answered
 * with a HANGUP.
 */
int vc__inbound_arrive(vc__call_webhook *w, const vc_call_update *u);

/* The script an inbound call's fetch (VC_UPDATE_SCRIPT) gets, answered
 * through vc__call_webhook_answer. */
int vc__inbound_script(vc__call_webhook *w, const vc__call_row *r);

/* A leg's ringing, answer or end on an inbound call, in the caller's
 * transaction (from vc__call_apply). */
int vc__inbound_leg(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                    vc__call_row *r, const vc_call_update *u, int64_t at,
                    int *changed);

/* A recording of an inbound call was stored: a voicemail's lands in the
 * inbox. */
int vc__inbound_recorded(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                         const vc__call_row *r, const vc_call_update *u,
                         int64_t at);

/*
 * 1 when a report of the webhook is about a leg an earlier DIAL rang
 * (its URL's vc_try is not the call's ring now): a late status callback
 * of an agent who was let go must not move the call (an "answered"
 * would bridge the wrong agent). 0 otherwise, or an error.
 */
int vc__inbound_stale(vc__call_webhook *w, const vc__call_row *r);

/* Register the watchdog job (at context creation). */
int vc__inbound_register(vc_ctx *ctx);

#endif
