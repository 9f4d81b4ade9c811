/*
 * Fuzz target for the TZif reader and its POSIX TZ rules
 * (src/core/tz.c).
 *
 * Input: the raw bytes are a zone file. Beyond what ASan and UBSan
 * catch, it aborts when a file that parsed gives an instant for a local
 * time that is not within four days of it, or a failure is not of the
 * INVALID class.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/tzif_fuzzer.c and -o tzif_fuzzer, then
 *   ./tzif_fuzzer tests/fuzz/corpus/tzif
 */
#include "core/common.h"
#include "core/tz.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const int64_t at[] = {
    -2208988800000LL, 0, 1772953200000LL, 1793512800000LL,
    4108690800000LL, 10413792000000LL
  };
  vc__tz *z = NULL;

  if (vc__tz_parse(&z, "fuzz", data, size) < 0) {
    if (vc_error_last()->klass != VC_ERRCLASS_INVALID &&
        vc_error_last()->code != VC_ENOMEM)
      abort();
    return 0;
  }
  for (size_t i = 0; i < VC_ARRAY_SIZE(at); i++) {
    vc__tm tm;
    int64_t back, next;
    vc__tz_local(&tm, z, at[i]);
    back = vc__tz_to_utc(z, &tm);
    if (back < at[i] - 4 * 86400000LL || back > at[i] + 4 * 86400000LL)
      abort();
    next = vc__tz_next_midnight(z, at[i]);
    if (next <= at[i])
      abort();
  }
  vc__tz_free(z);
  return 0;
}
