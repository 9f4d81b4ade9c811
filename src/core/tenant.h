/*
 * Tenant internals other modules need.
 */
#ifndef VC_CORE_TENANT_H
#define VC_CORE_TENANT_H

#include "vyomcomm/tenant.h"

vc_ctx *vc__tenant_ctx(const vc_tenant *t);

/* A handle of a live tenant by id, read on the caller's connection (for
 * code that holds one and needs the tenant's handle). VC_ENOTFOUND. */
#include "store/db.h"
int vc__tenant_load(vc_tenant **out, vc_ctx *ctx, vc__db *db,
                    const char *id);

#endif
