/**
 * @file vyomcomm/version.h
 * @brief Compile-time version macros and their run-time twins.
 * @defgroup vc_version Version
 * @{
 */
#ifndef VYOMCOMM_VERSION_H
#define VYOMCOMM_VERSION_H

#include "common.h"

VC_BEGIN_DECL

/** The version of these headers: major, minor, patch, and as a string. */
#define VC_VERSION_MAJOR 0
#define VC_VERSION_MINOR 2
#define VC_VERSION_PATCH 0
#define VC_VERSION_STRING "0.2.0"

/** The version as 0xMMmmpp, comparable with `VC_VERSION_CHECK`. */
#define VC_VERSION_NUMBER \
  ((VC_VERSION_MAJOR << 16) | (VC_VERSION_MINOR << 8) | VC_VERSION_PATCH)

/** True when the headers are at least version M.m.p. */
#define VC_VERSION_CHECK(M, m, p) \
  (VC_VERSION_NUMBER >= (((M) << 16) | ((m) << 8) | (p)))

/**
 * The ABI major: the number in the SONAME (`libvyomcomm.so.1`). It changes
 * only when the ABI breaks; see docs/ABI.md.
 */
#define VC_ABI_VERSION 1

/**
 * The version of the library linked at run time.
 *
 * @param major receives the major version; may be NULL
 * @param minor receives the minor version; may be NULL
 * @param patch receives the patch version; may be NULL
 * @return 0 always
 * @note Thread-safe.
 * @since 0.1
 */
VC_EXTERN(int) vc_version(int *major, int *minor, int *patch);

/** The run-time `VC_VERSION_NUMBER`. Thread-safe. @since 0.1 */
VC_EXTERN(uint32_t) vc_version_number(void);

/** The run-time `VC_VERSION_STRING`; static storage. @since 0.1 */
VC_EXTERN(const char *) vc_version_string(void);

/** The run-time `VC_ABI_VERSION`. @since 0.1 */
VC_EXTERN(int) vc_abi_version(void);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_VERSION_H */
