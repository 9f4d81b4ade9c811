/*
 * Fuzz target for SMS encoding and segment counting
 * (src/msg/segments.c).
 *
 * Input: the raw bytes are the SMS text. Beyond what ASan and UBSan
 * catch, it aborts when an invariant breaks: success must match "valid
 * UTF-8 without NUL"; counts must agree with each other; every part
 * must fit, start on a code point, be greedy (the next code point would
 * not fit) and the parts must add up to the whole; a failure must leave
 * a zeroed result and a one-line message of the INVALID class.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/segments_fuzzer.c and -o segments_fuzzer, then
 *   ./segments_fuzzer tests/fuzz/corpus/segments
 */
#include "core/common.h"
#include "core/text.h"
#include "msg/segments.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARTS 64

/* Units of s[0..n) counted the way the message's encoding counts. */
static size_t units_in(const char *s, size_t n, int encoding)
{
  vc__sms_info part;

  if (vc__sms_analyze(&part, s, n) != 0)
    abort();
  if (encoding == VC__SMS_GSM7) {
    if (part.encoding != VC__SMS_GSM7)
      abort();
    return part.units;
  }
  /* A GSM-only slice of a UCS-2 text has no pairs: 1 unit each. */
  return part.encoding == VC__SMS_UCS2 ? part.units : part.characters;
}

/* Length of the UTF-8 sequence led by c (input already validated). */
static size_t seq_len(unsigned char c)
{
  return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

static void check_failure(int rc, const vc__sms_info *info)
{
  const vc_error *e = vc_error_last();
  vc__sms_info zero;

  memset(&zero, 0, sizeof(zero));
  if ((rc != VC_EENCODING && rc != VC_EINVALID) || e->code != rc ||
      e->klass != VC_ERRCLASS_INVALID ||
      strchr(e->message, '\n') != NULL ||
      memcmp(info, &zero, sizeof(zero)) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data;
  size_t off[MAX_PARTS], n = 0, per, single, sum = 0;
  vc__sms_info info, info2;
  int rc, valid;

  valid = vc__utf8_valid(s, size) && memchr(s, 0, size) == NULL;
  rc = vc__sms_analyze(&info, s, size);
  if ((rc == 0) != valid)
    abort();
  if (rc != 0) {
    check_failure(rc, &info);
    rc = vc__sms_split(off, MAX_PARTS, &n, &info2, s, size);
    check_failure(rc, &info2);
    if (n != 0)
      abort();
    return 0;
  }

  /* Counts agree. */
  if (info.segments < 1 || info.characters > size ||
      info.units < info.characters || info.units > 2 * info.characters)
    abort();
  if (info.encoding == VC__SMS_GSM7) {
    if (info.unicode_chars != 0)
      abort();
    per = VC__SMS_GSM7_MULTI;
    single = VC__SMS_GSM7_SINGLE;
  } else if (info.encoding == VC__SMS_UCS2) {
    if (info.unicode_chars < 1 || info.unicode_chars > info.characters)
      abort();
    per = VC__SMS_UCS2_MULTI;
    single = VC__SMS_UCS2_SINGLE;
  } else {
    abort();
  }
  if ((info.segments == 1) != (info.units <= single))
    abort();
  /* Pairs can only add parts over the arithmetic count, and each
   * part loses at most one unit to a pair moved on. */
  if (info.segments > 1 &&
      (info.segments < (info.units + per - 1) / per ||
       info.segments > (info.units + per - 2) / (per - 1)))
    abort();

  /* Parts. */
  rc = vc__sms_split(off, MAX_PARTS, &n, &info2, s, size);
  if (n != info.segments || memcmp(&info, &info2, sizeof(info)) != 0)
    abort();
  if (n > MAX_PARTS) {
    if (rc != VC_ETOOBIG)
      abort();
    return 0;
  }
  if (rc != 0 || off[0] != 0)
    abort();
  for (size_t p = 0; p < n && n > 1; p++) {
    size_t end = p + 1 < n ? off[p + 1] : size, u;

    if (end <= off[p] || ((unsigned char)s[off[p]] & 0xc0) == 0x80)
      abort();
    u = units_in(s + off[p], end - off[p], info.encoding);
    if (u > per)
      abort();
    if (p + 1 < n &&
        units_in(s + off[p], end - off[p] + seq_len((unsigned char)s[end]),
                 info.encoding) <= per)
      abort();
    sum += u;
  }
  if (n > 1 && sum != info.units)
    abort();
  /* A short buffer reports the count and fills what fits. */
  if (n > 1) {
    size_t small[1], n2 = 0;

    if (vc__sms_split(small, 1, &n2, NULL, s, size) != VC_ETOOBIG ||
        n2 != n || small[0] != 0)
      abort();
  }
  return 0;
}
