/*
 * Language tags of calls. See language.h.
 */
#include "core/common.h"
#include "core/text.h"
#include "language.h"

int vc__language_ok(const char *s)
{
  size_t n = strlen(s), i = 0, sub;

  if (n == 0 || n > VC__LANGUAGE_MAX)
    return 0;
  while (i < n && vc__is_alpha(s[i]))
    i++;
  if (i < 2 || i > 3)
    return 0;
  while (i < n) {
    if (s[i++] != '-')
      return 0;
    for (sub = 0; i < n && vc__is_alnum(s[i]); i++)
      sub++;
    if (sub < 1 || sub > 8)
      return 0;
  }
  return 1;
}
