/*
 * Recording internals: the purge job. The hooks the call core uses are in
 * hooks.h; the public API in vyomcomm/recording.h.
 */
#ifndef VC_CALL_RECORDING_H
#define VC_CALL_RECORDING_H

#include "vyomcomm/recording.h"

/* The durable job that purges a tenant's expired recordings; its subject
 * is the tenant's id. Queued for the earliest expiry whenever a
 * recording becomes available, and again by itself while any remain. */
#define VC__JOB_RECORDING_PURGE "recording.purge"

/* Register the job's handler (at context creation). */
int vc__recording_register(vc_ctx *ctx);

#endif
