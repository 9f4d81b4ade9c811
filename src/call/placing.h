/*
 * Placing calls: the call.start job (routing over the tenant's voice
 * channels, the calls-per-second limit, caller ids, retries and
 * failover) and the call.watchdog job that ends a call whose provider
 * never reported its end.
 */
#ifndef VC_CALL_PLACING_H
#define VC_CALL_PLACING_H

#include "core/job.h"
#include "store/db.h"

/* Retries: exponential with full jitter from 1 s, at most 30 s apart (an
 * agent is waiting); 3 on one channel before the next, 8 in all. */
#define VC__CALL_RETRY_BASE_MS 1000
#define VC__CALL_RETRY_CAP_MS 30000
#define VC__CALL_CHANNEL_ATTEMPTS 3
#define VC__CALL_MAX_ATTEMPTS 8
/* The watchdog fires this long after both ring timeouts and the time
 * limit have passed since the provider took the call. */
#define VC__CALL_WATCHDOG_MARGIN_MS (5 * 60 * 1000)
/* A call deferred by quiet hours claims its agent when it is placed; an
 * agent on another call then is asked again this much later (and never
 * inside the customer's quiet hours). */
#define VC__CALL_AGENT_WAIT_MS 30000

/* Run a call job kind one job at a time: `fn` records its outcome with
 * vc__job_record in its own transaction (lease `owner`) or leaves it to
 * the engine; < 0 from it retries the job after a pause. */
typedef int (*vc__call_job_fn)(vc_ctx *ctx, const char *owner,
                               const vc__job *job, vc__job_outcome *out);
void vc__call_jobs_each(vc_ctx *ctx, vc__engine *engine,
                        const vc__job *jobs, size_t n, vc__job_outcome *out,
                        vc__call_job_fn fn);

/* Register call.start, call.watchdog and call.control (at context
 * creation). */
int vc__call_jobs_register(vc_ctx *ctx);

/*
 * The caller id to show for `customer` (E.164) from a channel config's
 * `caller_ids` pool: the entries with the customer's country calling
 * code, else the whole pool, taken in turn (`turn` counts the calls
 * placed from that set). "" when the pool is empty. `*set` receives the
 * country code the turn is counted under ("" for the whole pool).
 */
int vc__call_pool_pick(char out[257], char set[4], const char *config_json,
                       const char *customer, int64_t turn);

/* The length of the country calling code of an E.164 number (1..3). */
int vc__call_country_code_len(const char *e164);

#endif
