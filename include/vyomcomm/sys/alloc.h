/**
 * @file vyomcomm/sys/alloc.h
 * @brief For implementers: memory that crosses the plugin boundary.
 *
 * Anything a plugin hands to the library for the library to free must
 * come from vc_alloc(); release it with vc_free() if the plugin fails
 * before handing it over.
 *
 * @defgroup vc_sys_alloc Allocation
 * @{
 */
#ifndef VYOMCOMM_SYS_ALLOC_H
#define VYOMCOMM_SYS_ALLOC_H

#include "../common.h"
#include "../buffer.h"

VC_BEGIN_DECL

/** Allocate with the library's allocator. NULL on failure. @since 0.1 */
VC_EXTERN(void *) vc_alloc(size_t size);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_SYS_ALLOC_H */
