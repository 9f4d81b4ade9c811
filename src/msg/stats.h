/*
 * Analytics internals shared by the rollup writers (stats.c) and the
 * query (stats_query.c). The hooks themselves are declared where their
 * callers look: msg_hooks.h, call/ledger.h and call/hooks.h.
 */
#ifndef VC_MSG_STATS_H
#define VC_MSG_STATS_H

#include <stdint.h>

#define VC__STATS_HOUR_MS 3600000LL
#define VC__STATS_DAY_MS 86400000LL

/* Unix ms floored to its UTC hour (floor, also before 1970). */
int64_t vc__stats_hour(int64_t ms);

/* Queued-to-delivered latency histogram: bucket i holds times up to
 * vc__stats_latency_bounds[i] ms; the last bucket, past one day, has no
 * bound. */
#define VC__STATS_LATENCY_BUCKETS 18
extern const int64_t vc__stats_latency_bounds[VC__STATS_LATENCY_BUCKETS - 1];

/* The bucket of a latency in ms (negative counts as 0). */
int vc__stats_latency_bucket(int64_t ms);

#endif
