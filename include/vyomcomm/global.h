/**
 * @file vyomcomm/global.h
 * @brief Process-wide initialisation, the allocator hook and build features.
 * @defgroup vc_global Global initialisation
 * @{
 */
#ifndef VYOMCOMM_GLOBAL_H
#define VYOMCOMM_GLOBAL_H

#include "common.h"

VC_BEGIN_DECL

/**
 * A host allocator. All three functions must be thread-safe. `realloc`
 * with a NULL pointer must behave as `malloc`.
 */
typedef struct vc_allocator {
  unsigned int version; /**< VC_ALLOCATOR_VERSION */
  /** Allocate `size` bytes; NULL when out of memory. */
  void *VC_CALLBACK(malloc)(size_t size, void *opaque);
  /** Resize a block from `malloc` or `realloc` as realloc(3) does. */
  void *VC_CALLBACK(realloc)(void *ptr, size_t size, void *opaque);
  /** Release a block from `malloc` or `realloc`. */
  void VC_CALLBACK(free)(void *ptr, void *opaque);
  void *opaque;               /**< passed to each of the three */
} vc_allocator;

/** The current version of vc_allocator, and an initializer with every
 *  member at its default (vc_allocator_init() for other languages). */
#define VC_ALLOCATOR_VERSION 1
#define VC_ALLOCATOR_INIT { VC_ALLOCATOR_VERSION, NULL, NULL, NULL, NULL }

/** Initialise a vc_allocator for `version`. @return 0 or VC_EVERSION.
 *  @since 0.1 */
VC_EXTERN(int) vc_allocator_init(vc_allocator *a, unsigned int version);

/** Options for the first vc_global_init(). */
typedef struct vc_global_options {
  unsigned int version; /**< VC_GLOBAL_OPTIONS_VERSION */
  /** The library's allocator, or NULL for the C library's. Copied. */
  const vc_allocator *allocator;
} vc_global_options;

/** The current version of vc_global_options, and an initializer with every
 *  member at its default (vc_global_options_init() for other languages). */
#define VC_GLOBAL_OPTIONS_VERSION 1
#define VC_GLOBAL_OPTIONS_INIT { VC_GLOBAL_OPTIONS_VERSION, NULL }

/** Initialise a vc_global_options for `version`. @return 0 or
 *  VC_EVERSION. @since 0.1 */
VC_EXTERN(int) vc_global_options_init(vc_global_options *o,
                                      unsigned int version);

/**
 * Initialise the library. Counted: each successful call must be matched by
 * one vc_global_shutdown(). vc_ctx_new() initialises implicitly with the
 * defaults when the host has not (that implicit reference is never
 * dropped), so calling this is needed only to install an allocator.
 *
 * The host's process-global hooks of SQLite, libcurl, mbedTLS and cJSON
 * are never changed.
 *
 * @param opts NULL for defaults; only the first call may pass options
 * @return the number of active initialisations (>= 1), VC_EBUSY when
 *   options are passed after the first call, VC_EINVALID or VC_EVERSION
 *   for bad options
 * @note Thread-safe. @since 0.1
 */
VC_EXTERN(int) vc_global_init(const vc_global_options *opts);

/**
 * Drop one reference taken by vc_global_init().
 *
 * @return the number of remaining initialisations, or VC_ESTATE when the
 *   library was not initialised
 * @note Thread-safe. @since 0.1
 */
VC_EXTERN(int) vc_global_shutdown(void);

/** Feature bits reported by vc_features(). */
#define VC_FEATURE_THREADS      (1u << 0) /**< vc_ctx_start() is available */
#define VC_FEATURE_EVENT_THREAD (1u << 1) /**< libre event thread (SIP) */
#define VC_FEATURE_SQLITE       (1u << 2) /**< the SQLite store */
#define VC_FEATURE_POSTGRES     (1u << 3) /**< the PostgreSQL store */

/** The features of this build, a mask of VC_FEATURE_*. @since 0.1 */
VC_EXTERN(uint32_t) vc_features(void);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_GLOBAL_H */
