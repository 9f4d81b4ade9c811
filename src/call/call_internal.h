/*
 * What the call core's files share about the public handle.
 */
#ifndef VC_CALL_INTERNAL_H
#define VC_CALL_INTERNAL_H

#include "vyomcomm/call.h"
#include "vyomcomm/tenant.h"
#include "store/db.h"

/* Load a call of the tenant into a new handle. VC_ENOTFOUND. */
int vc__call_load(vc_call **out, vc_ctx *ctx, const char *tenant_id,
                  const char *id);
vc_ctx *vc__call_ctx(const vc_call *c);
const char *vc__call_tenant_id(const vc_call *c);

/* An E.164 number (or, with sip_ok, a sip:/sips: URI) into out;
 * VC_EINVALID naming `field`. */
int vc__call_check_address(char out[VC_CALL_ADDRESS_MAX + 1],
                           const char *field, const char *in, int sip_ok);

/* The first instant at or after `at` outside the quiet hours of the
 * customer (the contact holding the number, else the tenant's window)
 * for a call of `category`. */
int vc__call_quiet_open(int64_t *open_at, vc__db *db, vc_tenant *t,
                        const char *customer, int category, int64_t at);

/* vc_call_start() in the caller's transaction (an automation rule's
 * callback), placed at `not_before` at the earliest (`why` names the
 * reason in the call's `deferred` entry). The spec is of the latest
 * version. id_out: the call, or the earlier one of its idempotency key. */
int vc__call_create(char id_out[VC_ID_SIZE], vc__db *db, vc_tenant *t,
                    const vc_call_spec *spec, int64_t not_before,
                    const char *why);

#endif
