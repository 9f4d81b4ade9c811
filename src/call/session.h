/*
 * The core's side of session adapters (vyomcomm/sys/transport.h): one
 * vc_session_host per channel whose adapter has `session`, opened on
 * the network thread on first use with the channel's adapter state, and
 * closed when the channel changes or the context ends.
 *
 * Placing a call or running an operation hands a copy to the session on
 * the network thread and waits (bounded, on the context's clock) for its
 * answer. Reports and answers are applied in the order the session made
 * them by one worker thread per context, off the network thread: a
 * report is deduplicated and applied in a transaction of its own, as a
 * webhook's; an answer is handed to its waiter, and the reports after it
 * wait until the waiter committed its outcome (vc__session_release).
 */
#ifndef VC_CALL_SESSION_H
#define VC_CALL_SESSION_H

#include "vyomcomm/sys/transport.h"
#include "msg/route.h"

/* How long the core waits for an operation's answer. */
#define VC__SESSION_OP_WAIT_MS 30000
/* Added to the ring timeout for a placement's answer (transport.h). */
#define VC__SESSION_PLACE_MARGIN_MS 30000

typedef struct vc__session_wait vc__session_wait;

/* 1 when `a` places calls through a session. */
int vc__session_adapter(const vc_adapter *a);

/*
 * Place `ob` (copied) on the session of the channel `inst` is bound to,
 * opening it when needed, and wait for the answer until `deadline` on
 * the context's clock. *result: the session's answer; FAILOVER at once
 * while the session's link is down or it cannot open; RETRY with
 * VC_ETIMEOUT after the deadline; RETRY when the session closes or the
 * engine stops first. When *w is set, call vc__session_release(*w) once
 * the outcome is committed (the session's later reports wait for it).
 */
void vc__session_place(vc__session_wait **w, vc_ctx *ctx,
                       const char *tenant_id, vc__route_instance *inst,
                       const vc_call_outbound *ob, int64_t deadline,
                       vc_send_result *result);

/* The same for an operation (the session's `operation`, with a token). */
void vc__session_operate(vc__session_wait **w, vc_ctx *ctx,
                         const char *tenant_id, vc__route_instance *inst,
                         const vc_call_control *c, int64_t deadline,
                         vc_send_result *result);

/*
 * vc__session_place() in two halves, so that an engine thread can have
 * many placements out at once: start hands `ob` to the session (*w
 * NULL, *result set, when it cannot go); await waits for its answer
 * until `until` and returns 0 with *result set (RETRY with VC_ETIMEOUT
 * once `until` passed when `give_up`), or 1 when `until` passed and
 * `give_up` is 0 (still waiting; await again). Then release *w.
 */
void vc__session_place_start(vc__session_wait **w, vc_ctx *ctx,
                             const char *tenant_id, vc__route_instance *inst,
                             const vc_call_outbound *ob,
                             vc_send_result *result);
/* The start of vc__session_operate(), likewise. */
void vc__session_operate_start(vc__session_wait **w, vc_ctx *ctx,
                               const char *tenant_id,
                               vc__route_instance *inst,
                               const vc_call_control *c,
                               vc_send_result *result);
int vc__session_await(vc__session_wait *w, vc_ctx *ctx, int64_t until,
                      int give_up, vc_send_result *result);

/* The waiter recorded its outcome (NULL: nothing to do). */
void vc__session_release(vc__session_wait *w);

/* Open the session of every channel that has inbound numbers (they
 * listen for calls: vc_session_incoming); those open already stay. At
 * vc_ctx_start() and when a number is stored. */
int vc__sessions_open_inbound(vc_ctx *ctx);

/* At context creation. */
int vc__sessions_new(vc_ctx *ctx);
/* At vc_ctx_free(), before the engine and the network thread stop:
 * refuse new work, close every session on the network thread (their
 * waiters get RETRY), apply what they reported, stop the worker. */
void vc__sessions_shutdown(vc_ctx *ctx);
void vc__sessions_free(vc_ctx *ctx);

#endif
