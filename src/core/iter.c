/*
 * Iterator base. See iter.h.
 */
#include "common.h"
#include "iter.h"

int vc__iter_check(const vc_iter *it, const vc__iter_ops *ops)
{
  VC_ASSERT_ARG(it);
  if (it->ops != ops)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "iterator over %s used as one over %s",
                         it->ops->kind, ops->kind);
  return 0;
}

const char *vc_iter_cursor(const vc_iter *it)
{
  return it ? it->cursor : "";
}

void vc_iter_free(vc_iter *it)
{
  if (it == NULL)
    return;
  if (it->ops->free)
    it->ops->free(it);
  vc__free(it);
}
