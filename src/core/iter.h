/*
 * The iterator base. Each list embeds it first and fills its ops.
 */
#ifndef VC_CORE_ITER_H
#define VC_CORE_ITER_H

#include "vyomcomm/iter.h"

typedef struct vc__iter_ops {
  const char *kind;              /* "tenant", "event", ... */
  void (*free)(vc_iter *it);     /* releases the subtype's own fields */
} vc__iter_ops;

struct vc_iter {
  const vc__iter_ops *ops;
  char cursor[64];               /* position after the last item */
};

/* VC_EINVALID unless `it` is an iterator of `ops`. */
int vc__iter_check(const vc_iter *it, const vc__iter_ops *ops);

#endif
