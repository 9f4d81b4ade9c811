/*
 * The dispatcher: the batch handler of message.send jobs.
 */
#ifndef VC_MSG_DISPATCH_H
#define VC_MSG_DISPATCH_H

#include "core/job.h"

/* Backoff limits for retries (full jitter, exponential). */
#define VC__RETRY_BASE_MS 1000
#define VC__RETRY_CAP_MS (10 * 60 * 1000)
/* Retries on one channel before failing over to the next. */
#define VC__CHANNEL_ATTEMPTS 5
/* Attempts in all before the message fails. */
#define VC__MAX_ATTEMPTS 20

int vc__dispatch_register(vc_ctx *ctx);

#endif
