/**
 * @file vyomcomm/sys/errors.h
 * @brief For implementers: setting the thread-local error detail.
 *
 * A backend or adapter reports a failure by setting the detail and
 * returning the matching negative code.
 *
 * @defgroup vc_sys_errors Setting errors
 * @{
 */
#ifndef VYOMCOMM_SYS_ERRORS_H
#define VYOMCOMM_SYS_ERRORS_H

#include "../common.h"
#include "../errors.h"

VC_BEGIN_DECL

/** Set the detail: class, code and a message (copied, truncated at 511
 *  bytes). Returns `code`, for `return vc_error_set_str(...)`.
 *  @since 0.1 */
VC_EXTERN(int) vc_error_set_str(int klass, int code, const char *message);

/** Record an out-of-memory failure. Returns VC_ENOMEM. @since 0.1 */
VC_EXTERN(int) vc_error_set_oom(void);

/** Set the provider's status (HTTP status, SIP code) on the detail.
 *  @since 0.1 */
VC_EXTERN(void) vc_error_set_provider_status(int status);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_SYS_ERRORS_H */
