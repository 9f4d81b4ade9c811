/*
 * Internal common header: every library source file includes it first.
 */
#ifndef VC_CORE_COMMON_H
#define VC_CORE_COMMON_H

#ifndef _GNU_SOURCE
# define _GNU_SOURCE
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vyomcomm.h"
#include "vyomcomm/sys/errors.h"
#include "vyomcomm/sys/alloc.h"

#include "alloc.h"
#include "error.h"

#define VC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VC_UNUSED(x) ((void)(x))

/*
 * Argument check: in every build it sets VC_ERRCLASS_INVALID with the
 * failed expression and returns VC_EINVALID. (Not an assert: a host's
 * bad argument must never abort the host.)
 */
#define VC_ASSERT_ARG(expr)                                              \
  do {                                                                   \
    if (!(expr))                                                         \
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,             \
                           "invalid argument: '%s'", #expr);             \
  } while (0)

/*
 * Check the version field of a caller's struct: 0 < version <= latest.
 */
#define VC_CHECK_VERSION(ptr, latest, name)                              \
  do {                                                                   \
    if ((ptr) != NULL &&                                                 \
        ((ptr)->version == 0 || (ptr)->version > (latest)))              \
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EVERSION,             \
                           "invalid version %u on %s",                   \
                           (ptr)->version, name);                        \
  } while (0)

/*
 * Body of a vc_x_init(ptr, version) function: zero the struct, then set
 * it to its INIT value when the version is known.
 */
#define VC_INIT_STRUCT(ptr, version, latest, type, init)                 \
  do {                                                                   \
    VC_ASSERT_ARG(ptr);                                                  \
    if ((version) == 0 || (version) > (latest))                          \
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EVERSION,             \
                           "invalid version %u on %s",                   \
                           (unsigned)(version), #type);                  \
    {                                                                    \
      type tmpl_ = init;                                                 \
      memcpy((ptr), &tmpl_, sizeof(tmpl_));                              \
    }                                                                    \
    return 0;                                                            \
  } while (0)

#endif /* VC_CORE_COMMON_H */
