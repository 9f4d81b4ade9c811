/*
 * The context's registry of provider adapters.
 */
#ifndef VC_MSG_ADAPTER_H
#define VC_MSG_ADAPTER_H

#include "vyomcomm/sys/adapter.h"

/* Register the built-in adapters (at context creation). */
int vc__adapters_init(vc_ctx *ctx);
void vc__adapters_fini(vc_ctx *ctx);

/* Copy the adapter registered under `name` into *out. VC_ENOTFOUND when
 * there is none. The copy's strings live as long as the context. */
int vc__adapter_find(vc_adapter *out, vc_ctx *ctx, const char *name);

#endif
