/*
 * Recording internals: the purge job. The hooks the call core uses are in
 * hooks.h; the public API in vyomcomm/recording.h.
 */
#ifndef VC_CALL_RECORDING_H
#define VC_CALL_RECORDING_H

#include "vyomcomm/recording.h"
#include "store/db.h"

/* The durable job that purges a tenant's expired recordings; its subject
 * is the tenant's id. Queued for the earliest expiry whenever a
 * recording becomes available, and again by itself while any remain. */
#define VC__JOB_RECORDING_PURGE "recording.purge"

/* Register the job's handler (at context creation). */
int vc__recording_register(vc_ctx *ctx);

/* Erasure and retention (src/msg/privacy.c, retention.c), in the
 * caller's transaction: drop the URL of every recording of a contact's
 * calls (the contact and those merged into it), counted into
 * `dropped_n`; or of up to 100 recordings created before `before` (the
 * number dropped). An available recording is deleted at the provider
 * when its channel can, else marked purged here. */
int vc__recording_drop_contact(vc__db *db, vc_ctx *ctx,
                               const char *tenant_id,
                               const char *contact_id, int64_t *dropped_n);
int vc__recording_drop_before(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                              int64_t before);

#endif
