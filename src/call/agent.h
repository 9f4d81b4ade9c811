/*
 * Agent internals beyond the call hooks (hooks.h): the job that ends a
 * wrap-up on time.
 */
#ifndef VC_CALL_AGENT_H
#define VC_CALL_AGENT_H

#include "vyomcomm/ctx.h"

/* Ends an agent's wrap-up at its time (subject: the agent id). */
#define VC__JOB_AGENT_WRAP_UP "agent.wrap_up"

/* Register the agent job handlers (at context creation). */
int vc__agent_register(vc_ctx *ctx);

#endif
