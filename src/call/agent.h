/*
 * Agent internals beyond the call hooks (hooks.h): the claim queues
 * use, and the job that ends a wrap-up on time.
 */
#ifndef VC_CALL_AGENT_H
#define VC_CALL_AGENT_H

#include "vyomcomm/ctx.h"
#include "store/db.h"

/* Ends an agent's wrap-up at its time (subject: the agent id). */
#define VC__JOB_AGENT_WRAP_UP "agent.wrap_up"

/*
 * A queue's claim of an agent for a call: as vc__agent_claim (hooks.h),
 * but only an agent that is available (a finished wrap-up counts; a
 * running one does not) and holds no call; the guarded UPDATE decides
 * between concurrent claims. VC_EBUSY (after vc__error_set) otherwise;
 * 0 when the agent already holds this very call.
 */
int vc__agent_claim_available(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                              const char *agent_id, const char *call_id,
                              int64_t now);

/* Register the agent job handlers (at context creation). */
int vc__agent_register(vc_ctx *ctx);

#endif
