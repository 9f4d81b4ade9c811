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
 * Body of a vc_x_init(ptr, version) function: set the caller's struct,
 * `size` bytes long at that version, to its INIT value (the last
 * argument, variadic because it is a braced list) (whose `version`
 * member then says `version`). A caller built against an older header
 * has a shorter struct, so only its own members are written.
 */
#define VC_INIT_STRUCT_SIZED(ptr, version, latest, type, size, ...)      \
  do {                                                                   \
    VC_ASSERT_ARG(ptr);                                                  \
    if ((version) == 0 || (version) > (latest))                          \
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EVERSION,             \
                           "invalid version %u on %s",                   \
                           (unsigned)(version), #type);                  \
    {                                                                    \
      type tmpl_ = __VA_ARGS__;                                          \
      tmpl_.version = (version);                                         \
      memcpy((ptr), &tmpl_, (size));                                     \
    }                                                                    \
    return 0;                                                            \
  } while (0)

/* The same for a struct that has had only one version. */
#define VC_INIT_STRUCT(ptr, version, latest, type, init)                 \
  VC_INIT_STRUCT_SIZED(ptr, version, latest, type, sizeof(type), init)

#endif /* VC_CORE_COMMON_H */
