/*
 * Tenant internals other modules need.
 */
#ifndef VC_CORE_TENANT_H
#define VC_CORE_TENANT_H

#include "vyomcomm/tenant.h"

vc_ctx *vc__tenant_ctx(const vc_tenant *t);

#endif
