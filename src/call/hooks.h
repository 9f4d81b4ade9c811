/*
 * What the call core asks of the modules around a call: agents, IVR
 * menus, recording policy, quality and billing. Each function runs on
 * the caller's store connection, inside the transaction that changes
 * the call, so a call and everything it moved commit together.
 *
 * Owners: agent.c (vc__agent_*), quality.c (vc__quality_*), ivr.c
 * (vc__ivr_*), recording.c (vc__recording_*), billing.c (vc__billing_*),
 * src/msg/stats.c (vc__stats_on_call);
 * the call core (call.c, machine.c, placing.c, control.c) calls them.
 */
#ifndef VC_CALL_HOOKS_H
#define VC_CALL_HOOKS_H

#include "vyomcomm/sys/adapter.h"
#include "store/db.h"

/* ---- agents ------------------------------------------------------------ */

/*
 * An agent of the tenant by id or name: its id and number (E.164 or sip:
 * URI; `number` holds VC_CALL_ADDRESS_MAX + 1 bytes). VC_ENOTFOUND.
 */
int vc__agent_resolve(vc__db *db, const char *tenant_id,
                      const char *id_or_name, char agent_id[VC_ID_SIZE],
                      char *number);

/*
 * Give the agent the call about to be placed. VC_EBUSY (after
 * vc__error_set) when the agent already has a live call.
 */
int vc__agent_claim(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                    const char *agent_id, const char *call_id, int64_t now);

/*
 * The call moved to `state` at `at`: move the agent (ringing, on_call,
 * wrap_up or back to available), log it, and count talk time. Called
 * for every state change of a call that has an agent, terminal ones
 * included (the agent is then free of the call).
 */
int vc__agent_on_call_state(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *agent_id, const char *call_id,
                            int state, int64_t at);

/* ---- quality ------------------------------------------------------------- */

/*
 * Store quality figures of a call (negative: unknown); MOS is computed
 * with the E-model from delay, jitter and loss when not given.
 * *mos_out receives the stored MOS (0 when none could be had). It
 * appends the call's `quality` timeline entry (vc__call_entry_add) and
 * the `call.quality` event itself: the core adds neither.
 */
int vc__quality_record(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *call_id, double jitter_ms,
                       double packet_loss_pct, double rtt_ms, double mos,
                       int64_t at, double *mos_out);

/* ---- IVR ----------------------------------------------------------------- */

/* An IVR menu of the tenant by id or name. VC_ENOTFOUND. */
int vc__ivr_resolve(vc__db *db, const char *tenant_id,
                    const char *id_or_name, char menu_id[VC_ID_SIZE]);

/* What the call does after an IVR step. */
typedef enum vc__ivr_action {
  VC__IVR_SCRIPT = 1,    /* play `script` (a prompt with its gather) */
  VC__IVR_CONNECT = 2,   /* bridge the customer to the call's agent */
  VC__IVR_TRANSFER = 3,  /* connect the customer to `target` instead */
  VC__IVR_HANGUP = 4,    /* end the call (cause VC_CAUSE_IVR) */
  VC__IVR_QUEUE = 5,     /* inbound: wait in queue `target` (an id) for
                            an agent having every tag of `skills` */
  VC__IVR_VOICEMAIL = 6  /* inbound: record a voicemail */
} vc__ivr_action;

#define VC__IVR_MAX_STEPS 8

/* The IVR's answer; strings live in the struct. */
typedef struct vc__ivr_result {
  int action;                          /* a vc__ivr_action */
  vc_call_step steps[VC__IVR_MAX_STEPS];
  size_t nsteps;
  char target[VC_CALL_ADDRESS_MAX + 1]; /* TRANSFER: a number or URI */
  char node[128];                      /* the menu node now current */
  char strings[8192];                  /* what steps[] point into */
  char skills[520];                    /* QUEUE: "a,b", or "" */
} vc__ivr_result;

/*
 * One step of a call's path through menu `menu_id`. `node` is where the
 * caller is ("" = the menu's entry), `digits` what was pressed there
 * (NULL: entering the node, or the gather timed out when `attempt` > 0).
 * Logs a `dtmf` entry for keys (with menu and node) through
 * vc__call_entry_add, runs the option (a message template is queued),
 * and says what the call does next. Gather action URLs are
 * `webhook_url` + "&vc_step=ivr&vc_node={node}&vc_try={attempt}".
 */
int vc__ivr_step(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                 const char *call_id, const char *menu_id, const char *node,
                 const char *digits, int attempt, const char *webhook_url,
                 vc__ivr_result *out);

/* ---- recording ----------------------------------------------------------- */

/*
 * The recording mode of a new call: `requested` (a vc_record_mode) or,
 * for VC_RECORD_DEFAULT, the tenant's policy. `consent` (1024 bytes)
 * receives the announcement the customer hears first when the call may
 * be recorded, "" for none.
 */
int vc__recording_mode(vc__db *db, const char *tenant_id, int requested,
                       int *mode, char *consent);

/* The language (BCP 47; `language` holds 36 bytes) to speak that
 * announcement in: the tenant's policy's, "en-US" by default. */
int vc__recording_consent_language(vc__db *db, const char *tenant_id,
                                   char *language);

/*
 * A recording update of a call (VC_UPDATE_RECORDING): keep the
 * recording's id, URL, duration and consent, and its expiry by the
 * tenant's retention.
 */
int vc__recording_on_update(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *call_id, const vc_call_update *u);

/* The provider confirmed (ok 1) or refused the deletion of a recording. */
int vc__recording_on_deleted(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                             const char *recording_id, int ok, int64_t at);

/* ---- billing ------------------------------------------------------------- */

/*
 * The call ended after `talk_s` seconds of conversation on `channel_id`
 * to `destination`: estimate its cost from the rate card, post it to the
 * ledger, and return it (0 and "" when no rate card applies).
 */
int vc__billing_on_call_end(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *call_id, const char *channel_id,
                            const char *destination, int talk_s,
                            int64_t ended_at, int64_t *cost_micros,
                            char currency[4]);

/* The provider's own price of the call: it replaces the estimate in the
 * ledger. */
int vc__billing_on_call_price(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                              const char *call_id, int64_t price_micros,
                              const char *currency, int64_t at);

/* ---- analytics ----------------------------------------------------------- */

/* A call that reached its final state, as the rollups count it. */
typedef struct vc__stats_call {
  const char *agent_id;       /* "" when the call had no agent */
  const char *channel_id;     /* "" when never routed */
  int state;                  /* the final vc_call_state */
  int bridged;                /* 1: the customer was connected */
  int agent_answered;         /* 1: the agent picked up (wrap-up follows) */
  int talk_s;
  int64_t agent_ringing_at;   /* 0 when the agent never rang */
  int64_t ended_at;
} vc__stats_call;

/* Count a call's end for its agent and channel in the hour it ended:
 * attempts, answered, talk and handle seconds (stats.c). */
int vc__stats_on_call(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      const vc__stats_call *c);

/* ---- offered by the call core -------------------------------------------- */

/* Append an entry to a call's timeline (detail: a JSON object or NULL). */
int vc__call_entry_add(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *call_id, const char *type, int leg,
                       const char *detail_json, int64_t at);

/* Queue an operation on a call for the engine (call.control job); `arg`
 * is the transfer target or the recording id. */
int vc__call_control_enqueue(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                             const char *call_id, int op, const char *arg);

#endif
