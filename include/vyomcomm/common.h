/**
 * @file vyomcomm/common.h
 * @brief Export, calling-convention and declaration macros shared by every
 *        public header.
 * @defgroup vc_common Common macros
 * @{
 */
#ifndef VYOMCOMM_COMMON_H
#define VYOMCOMM_COMMON_H

#include <stddef.h>
#include <stdint.h>

/** Open and close a block of C declarations (extern "C" in C++). */
#ifdef __cplusplus
# define VC_BEGIN_DECL extern "C" {
# define VC_END_DECL   }
#else
# define VC_BEGIN_DECL /* nothing */
# define VC_END_DECL   /* nothing */
#endif

#if defined(VC_BUILDING_LIBRARY) && defined(VC_STATIC_USE)
# error "VC_BUILDING_LIBRARY and VC_STATIC_USE are mutually exclusive"
#endif

/** Declare a public function returning `type`. */
#if defined(_WIN32)
# if defined(VC_STATIC) || defined(VC_STATIC_USE)
#  define VC_EXTERN(type) extern type
# elif defined(VC_BUILDING_LIBRARY)
#  define VC_EXTERN(type) extern __declspec(dllexport) type
# else
#  define VC_EXTERN(type) extern __declspec(dllimport) type
# endif
#elif defined(__GNUC__) || defined(__clang__)
# define VC_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
# define VC_EXTERN(type) extern type
#endif

/** Declare a function-pointer member or typedef named `name`. */
#if defined(_WIN32)
# define VC_CALLBACK(name) (__cdecl *name)
#else
# define VC_CALLBACK(name) (*name)
#endif

/** Mark a declaration deprecated since version `since`, with a hint. */
#if defined(VC_NO_DEPRECATION_WARNINGS)
# define VC_DEPRECATED(since, msg)
#elif defined(__GNUC__) || defined(__clang__)
# define VC_DEPRECATED(since, msg) \
  __attribute__((deprecated("since " #since ": " msg)))
#else
# define VC_DEPRECATED(since, msg)
#endif

/** printf-style format checking for internal and implementer functions. */
#if defined(__GNUC__) || defined(__clang__)
# define VC_FORMAT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
# define VC_FORMAT_PRINTF(a, b)
#endif

/**
 * Size of a buffer that holds an id: 26 ULID characters and a NUL.
 * Ids are sortable by creation time and unique across hosts.
 */
#define VC_ID_SIZE 27

/** @} */
#endif /* VYOMCOMM_COMMON_H */
