/*
 * The call state machine: what a provider's report (vc_call_update)
 * does to a stored call, in the caller's transaction. States only move
 * forward; a state that was skipped is filled in with the same time;
 * every state entered gets its timestamp, a timeline entry, a
 * `call.<state>` event and the agent hook; a final state also prices the
 * call and frees its watchdog.
 */
#ifndef VC_CALL_MACHINE_H
#define VC_CALL_MACHINE_H

#include "vyomcomm/sys/adapter.h"
#include "store/db.h"

#define VC__JOB_CALL_START "call.start"
#define VC__JOB_CALL_CONTROL "call.control"
#define VC__JOB_CALL_WATCHDOG "call.watchdog"

#define VC__CALL_PROVIDER_ID_MAX 128

/* A stored call as the core's modules need it. */
typedef struct vc__call_row {
  char id[VC_ID_SIZE];
  char agent_id[VC_ID_SIZE];      /* "" when none */
  char channel_id[VC_ID_SIZE];    /* "" before routing */
  char ivr_menu_id[VC_ID_SIZE];   /* "" when none */
  char agent_number[VC_CALL_ADDRESS_MAX + 1];
  char customer_number[VC_CALL_ADDRESS_MAX + 1];
  char caller_id[VC_CALL_ADDRESS_MAX + 1];
  char provider_call_id[VC__CALL_PROVIDER_ID_MAX];
  char customer_leg_id[VC__CALL_PROVIDER_ID_MAX];
  int state, pinned, record_mode, recording, on_hold, transferred;
  int hangup_requested, ring_timeout_s, time_limit_s, cause;
  int attempts, channel_attempts, error;
  int direction;                  /* a vc_call_direction */
  /* When the call entered each live state, by vc_call_state; at[0] is
   * when it ended. */
  int64_t at[VC_CALL_BRIDGED + 1];
  int64_t created_at;
  int64_t last_entry_at;          /* of its latest timeline entry, or 0 */
  int64_t next_seq;               /* of its next timeline entry */
} vc__call_row;

/* Load a call of the tenant. VC_ENOTFOUND (with a message) when none. */
int vc__call_row_load(vc__call_row *r, vc__db *db, const char *tenant_id,
                      const char *call_id);

/*
 * Append a timeline entry to the call of `r`, a row loaded in this
 * transaction (or made for a call just inserted) whose state the caller
 * keeps current (a call's state moves only in machine.c, through its
 * row): the seq, state and latest time are the row's, so nothing is
 * read, and the row moves on. Like vc__call_entry_add otherwise (the
 * time is never before the latest entry's).
 */
int vc__call_row_entry(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       vc__call_row *r, const char *type, int leg,
                       const char *detail_json, int64_t at);

/* 1 for the live states, 0 for the final ones and unknown values. */
int vc__call_state_live(int state);

/* The final state of a call ended with `cause`: completed when it was
 * bridged, else busy, no_answer, canceled or failed by the cause. */
int vc__call_end_state(int cause, int bridged);

/*
 * The state a report moves a call to from `current` (0: it does not
 * move the call). `has_ivr`: the customer is bridged only when the IVR
 * says so; `legs_detached`: a hold or transfer is under way, so the end
 * of one leg does not end the call.
 */
int vc__call_update_target(int current, const vc_call_update *u,
                           int has_ivr, int legs_detached);

/*
 * Apply a provider's report to a call, in the caller's transaction.
 * `now` is the context's time; the report's own time, when given, is
 * kept (never earlier than the call's previous state). *changed (may be
 * NULL) is set to 1 when the call moved. VC_ENOTFOUND for an unknown
 * call. VC_UPDATE_SCRIPT is not the machine's (see script.h).
 */
int vc__call_apply(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                   const char *call_id, const vc_call_update *u,
                   int64_t now, int *changed);

/* vc__call_apply on a row the caller loaded in this transaction (it is
 * not changed: the machine works on a copy). */
int vc__call_apply_row(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const vc__call_row *r, const vc_call_update *u,
                       int64_t now, int *changed);

/* How a call ends when the core decides it (placing failed, a hangup
 * before placing, the watchdog, an IVR hangup). */
typedef struct vc__call_ending {
  int state;                 /* a final vc_call_state */
  int cause;                 /* a vc_call_cause */
  int leg;                   /* failed leg, VC_LEG_NONE */
  int error;                 /* a vc_error_code, or 0 */
  const char *provider_code; /* or NULL */
  const char *message;       /* or NULL */
  int64_t at;
} vc__call_ending;

/* End a live call now. 0 and nothing done when it already ended. */
int vc__call_end(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                 const char *call_id, const vc__call_ending *e);

/* The IVR let the customer through: the call is bridged at `at`. */
int vc__call_bridge(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                    const char *call_id, int64_t at);

/* Move a live call forward to live state `state` at `at`, filling the
 * states skipped (an inbound call's agent rings; vc__call_bridge for
 * bridged). 0 and nothing done when it is there or past it. */
int vc__call_advance(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                     const char *call_id, int state, int64_t at);

/* Set on_hold (`on` 1/0) and log `hold`/`unhold` when it changed. */
int vc__call_set_hold(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      const char *call_id, int on, int64_t at);

/* 1 when the end of `leg` does not end the call: while the customer is
 * on hold or a hold, unhold or transfer is queued for the provider (the
 * provider may take the legs apart to do it), and, once transferred,
 * for the agent's leg. */
int vc__call_legs_detached(vc__db *db, const char *tenant_id,
                           const vc__call_row *r, int leg, int *out);

#endif
