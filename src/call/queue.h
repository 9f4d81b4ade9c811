/*
 * Queue internals for the arrival path: picking and claiming an agent,
 * the line of waiting calls, and the overflow decision. Each runs on the
 * caller's connection inside the caller's transaction.
 */
#ifndef VC_CALL_QUEUE_H
#define VC_CALL_QUEUE_H

#include "vyomcomm/queue.h"
#include "vyomcomm/ctx.h"
#include "store/db.h"

/* A queue of the tenant by id or name. VC_ENOTFOUND. */
int vc__queue_resolve(vc__db *db, const char *tenant_id,
                      const char *id_or_name, char queue_id[VC_ID_SIZE]);

/*
 * Pick an agent for `call_id` by the queue's strategy among its members
 * that are available and hold no call, having every tag of
 * `required_skills` ("a,b"; NULL or "" for none; any strategy), and
 * claim it (vc__agent_claim_available): the guarded UPDATE of the claim
 * decides between concurrent picks, and a candidate lost to another
 * pick is passed over for the next. A ring-all queue picks as longest
 * idle (for a provider that rings one leg at a time). Round robin moves
 * the queue's position to the agent picked. The call leaves the queue's
 * waiting line if it was in it.
 *
 * Returns 0 with the agent in `agent_id_out`, or 0 with "" when no
 * member can take the call now (wait, or overflow): that is not an
 * error, so the caller's transaction goes on. VC_ENOTFOUND for an
 * unknown queue, VC_EINVALID for malformed skills.
 */
int vc__queue_pick(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                   const char *queue_id, const char *call_id,
                   const char *required_skills, int64_t now,
                   char agent_id_out[VC_ID_SIZE]);

/* At most this many agents from vc__queue_ring_all. */
#define VC__QUEUE_RING_MAX 32

/*
 * Every member that could take the call now (as vc__queue_pick would
 * consider them), longest idle first, at most `max` (<=
 * VC__QUEUE_RING_MAX): *n of them in ids. Nothing is claimed: the
 * arrival path claims the member who answers first with
 * vc__agent_claim_available (VC_EBUSY if someone else's call took the
 * agent meanwhile) and hangs up the other legs.
 */
int vc__queue_ring_all(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *queue_id, const char *required_skills,
                       int64_t now, char ids[][VC_ID_SIZE], size_t max,
                       size_t *n);

/* At most this many calls wait in one queue. */
#define VC__QUEUE_WAITING_MAX 10000

/*
 * Put a call at the end of a queue's line, expiring after the queue's
 * maximum wait; *position (may be NULL) is its place, 1 first. A call
 * already in this queue keeps its place; VC_ESTATE when it waits in
 * another; VC_EBUSY when VC__QUEUE_WAITING_MAX calls wait.
 */
int vc__queue_enqueue(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                      const char *queue_id, const char *call_id,
                      int64_t now, int *position);

/* Take a call out of the line (answered elsewhere, hung up).
 * VC_ENOTFOUND when it is not waiting there. */
int vc__queue_dequeue(vc__db *db, const char *tenant_id,
                      const char *queue_id, const char *call_id);

/* A waiting call's place, 1 first. VC_ENOTFOUND. */
int vc__queue_position(vc__db *db, const char *tenant_id,
                       const char *queue_id, const char *call_id,
                       int *position);

/* The first call in the line, "" when none. */
int vc__queue_head(vc__db *db, const char *tenant_id, const char *queue_id,
                   char call_id[VC_ID_SIZE]);

/* What to do with a waiting call. */
typedef struct vc__queue_verdict {
  char call_id[VC_ID_SIZE];
  int due;                        /* 1: its maximum wait has passed */
  int kind;                       /* the queue's vc_queue_overflow */
  char target[VC_ID_SIZE];        /* the overflow queue or agent, or "" */
  int64_t waited_ms;
} vc__queue_verdict;

/*
 * The overflow decision for a waiting call at `now`: due when the wait
 * it started with has passed, and then the queue's overflow. The call
 * stays in the line (vc__queue_dequeue takes it out). VC_ENOTFOUND when
 * it is not waiting there.
 */
int vc__queue_overflow_decide(vc__db *db, const char *tenant_id,
                              const char *queue_id, const char *call_id,
                              int64_t now, vc__queue_verdict *out);

/*
 * Take the calls whose maximum wait has passed at `now` out of the line,
 * oldest first, at most `max`: *n verdicts, each due, with the overflow
 * to apply. Call again while *n == max.
 */
int vc__queue_expire(vc__db *db, const char *tenant_id,
                     const char *queue_id, int64_t now,
                     vc__queue_verdict *out, size_t max, size_t *n);

#endif
