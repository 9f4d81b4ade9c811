/*
 * The call side of a webhook: which call it is about (the URL's
 * ?vc_call=...&vc_step=...), applying its reports through the machine,
 * and the script that answers a VC_UPDATE_SCRIPT (DIAL the customer,
 * consent and IVR, HANGUP after the dial), rendered by the adapter.
 */
#ifndef VC_CALL_SCRIPT_H
#define VC_CALL_SCRIPT_H

#include "vyomcomm/sys/adapter.h"
#include "store/db.h"

#define VC__CALL_STEP_MAX 32
#define VC__CALL_NODE_MAX 128

/* One webhook request's view of its call. */
typedef struct vc__call_webhook {
  vc_ctx *ctx;
  vc__db *db;                 /* in the webhook's transaction */
  const char *tenant_id;      /* the channel's tenant */
  const char *channel_id;
  const vc_adapter *adapter;  /* for render_script */
  void *state;
  vc_event_sink *sink;        /* where the script reply goes */
  int64_t now;
  /* From the request target. */
  char call_id[VC_ID_SIZE];   /* "" when the URL names none */
  char step[VC__CALL_STEP_MAX];
  char node[VC__CALL_NODE_MAX];
  int attempt;
  /* Keys of an IVR gather, kept for its SCRIPT. */
  char digits[65];
  int have_digits;
  /* A session's way to run a script (NULL: a webhook, rendered by the
   * adapter as its answer): called with the call's ids. */
  int (*run)(void *arg, const char *call_id, const char *provider_call_id,
             const vc_call_script *script);
  void *run_arg;
} vc__call_webhook;

/* Read vc_call, vc_step, vc_node and vc_try from a request target;
 * malformed values are left empty (the call is then looked up by the
 * provider's id, or unknown). */
void vc__call_webhook_init(vc__call_webhook *w, const char *target);

/*
 * Apply one call update of the webhook (already deduplicated): through
 * the machine, or as the answer script for VC_UPDATE_SCRIPT. The call
 * must belong to the webhook's channel and tenant; VC_ENOTFOUND (no
 * error message kept) when it does not: the caller counts it unmatched
 * and changes nothing (a SCRIPT for an unknown call is answered with a
 * HANGUP so the provider does not wait).
 */
int vc__call_webhook_update(vc__call_webhook *w, const vc_call_update *u);

/* Hand a script to the provider: the session's run, else rendered by the
 * adapter as the webhook's answer (`*body`/`*type`, when not NULL,
 * receive a copy of the rendered answer: vc__free them). */
int vc__call_webhook_answer(vc__call_webhook *w, const char *call_id,
                            const char *provider_call_id,
                            const vc_call_script *s, char **body,
                            char **type);

#endif
