/**
 * @file vyomcomm/types.h
 * @brief Opaque handle types. Their layout is never part of the ABI.
 * @defgroup vc_types Handle types
 * @{
 */
#ifndef VYOMCOMM_TYPES_H
#define VYOMCOMM_TYPES_H

#include "common.h"

VC_BEGIN_DECL

/** A library context: one store, one master key, engine threads. */
typedef struct vc_ctx vc_ctx;
/** A storage backend, owned by the context once passed to vc_ctx_new(). */
typedef struct vc_store vc_store;
/** A tenant: the security boundary for every other object. */
typedef struct vc_tenant vc_tenant;
/** A cursor over a list; see vyomcomm/iter.h. */
typedef struct vc_iter vc_iter;

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_TYPES_H */
