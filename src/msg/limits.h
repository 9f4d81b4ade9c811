/*
 * Per-channel sending limits kept in memory by a context: a token bucket
 * for the channel's rate, and a circuit breaker that stops sending to a
 * channel that keeps failing. Times come from the context's clock.
 */
#ifndef VC_MSG_LIMITS_H
#define VC_MSG_LIMITS_H

#include <pthread.h>
#include <stdint.h>

#include "vyomcomm/common.h"

#define VC__BREAKER_THRESHOLD 5      /* consecutive failures to open */
#define VC__BREAKER_OPEN_MS 30000    /* how long it stays open */

typedef struct vc__limits vc__limits;

int vc__limits_new(vc__limits **out);
void vc__limits_free(vc__limits *l);

/*
 * Take one token of a channel's bucket (rate per second, 0 = unlimited;
 * burst = one second's worth, at least 1) and check its breaker.
 * Returns 1 when the message may go now; 0 otherwise, with *ready_at
 * the earliest time to try again.
 */
int vc__limits_acquire(vc__limits *l, const char *channel_id, double rate,
                       int64_t now, int64_t *ready_at);

/* Record the outcome of a request to the channel (1 = success). */
void vc__limits_report(vc__limits *l, const char *channel_id, int ok,
                       int64_t now);

/* 1 while the channel's breaker is open (for tests and stats). */
int vc__limits_breaker_open(vc__limits *l, const char *channel_id,
                            int64_t now);

#endif
