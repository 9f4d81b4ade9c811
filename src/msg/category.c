/*
 * Category names.
 */
#include "core/common.h"
#include "vyomcomm/category.h"

#include <string.h>

static const char *const NAMES[] = { NULL, "transactional", "marketing",
                                     "otp" };

const char *vc_category_name(int category)
{
  if (category < VC_CATEGORY_TRANSACTIONAL || category > VC_CATEGORY_OTP)
    return NULL;
  return NAMES[category];
}

int vc_category_from_name(const char *name)
{
  for (int c = VC_CATEGORY_TRANSACTIONAL; name && c <= VC_CATEGORY_OTP; c++)
    if (strcmp(name, NAMES[c]) == 0)
      return c;
  return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "unknown category '%.32s'", name ? name : "(null)");
}
