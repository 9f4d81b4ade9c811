/*
 * A list's items as JSON, one at a time: what the CLI's tables and the
 * server's pages both walk, whatever the kind of item.
 */
#ifndef VYOMCOMM_JSON_LIST_H
#define VYOMCOMM_JSON_LIST_H

#include <cJSON.h>

#include "vyomcomm.h"

/* The next item of `it` as JSON into *out (the caller's): 0, VC_ITEROVER
 * at the end, or a negative VC_E* code. */
typedef int (*json_next_fn)(cJSON **out, vc_iter *it);

/*
 * Define `static int name(cJSON **out, vc_iter *it)`, a json_next_fn over
 * handles of `type`: taken with NEXT, turned into JSON by TOJSON, freed
 * by FREE.
 */
#define JSON_NEXT_FN(name, type, NEXT, TOJSON, FREE)                      \
  static int name(cJSON **out, vc_iter *it)                               \
  {                                                                       \
    type *h;                                                              \
    int rc = NEXT(&h, it);                                                \
                                                                          \
    if (rc == 0) {                                                        \
      *out = TOJSON(h);                                                   \
      FREE(h);                                                            \
    }                                                                     \
    return rc;                                                            \
  }

#endif
