/*
 * SMS encoding and segment counting. See segments.h.
 */
#include "core/common.h"
#include "core/text.h"
#include "segments.h"

/* No code point: marks the ESC slot of the default alphabet. */
#define NO_CP 0xffffffffu

/*
 * The GSM 03.38 default alphabet in septet order (3GPP TS 23.038,
 * 6.2.1): index = septet, value = Unicode code point. 127 characters
 * plus ESC at 0x1b.
 */
static const uint32_t gsm7_basic[128] = {
  /* 0x00 */ 0x0040, 0x00a3, 0x0024, 0x00a5, 0x00e8, 0x00e9, 0x00f9, 0x00ec,
  /* 0x08 */ 0x00f2, 0x00c7, 0x000a, 0x00d8, 0x00f8, 0x000d, 0x00c5, 0x00e5,
  /* 0x10 */ 0x0394, 0x005f, 0x03a6, 0x0393, 0x039b, 0x03a9, 0x03a0, 0x03a8,
  /* 0x18 */ 0x03a3, 0x0398, 0x039e, NO_CP,  0x00c6, 0x00e6, 0x00df, 0x00c9,
  /* 0x20 */ 0x0020, 0x0021, 0x0022, 0x0023, 0x00a4, 0x0025, 0x0026, 0x0027,
  /* 0x28 */ 0x0028, 0x0029, 0x002a, 0x002b, 0x002c, 0x002d, 0x002e, 0x002f,
  /* 0x30 */ 0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
  /* 0x38 */ 0x0038, 0x0039, 0x003a, 0x003b, 0x003c, 0x003d, 0x003e, 0x003f,
  /* 0x40 */ 0x00a1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
  /* 0x48 */ 0x0048, 0x0049, 0x004a, 0x004b, 0x004c, 0x004d, 0x004e, 0x004f,
  /* 0x50 */ 0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
  /* 0x58 */ 0x0058, 0x0059, 0x005a, 0x00c4, 0x00d6, 0x00d1, 0x00dc, 0x00a7,
  /* 0x60 */ 0x00bf, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
  /* 0x68 */ 0x0068, 0x0069, 0x006a, 0x006b, 0x006c, 0x006d, 0x006e, 0x006f,
  /* 0x70 */ 0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
  /* 0x78 */ 0x0078, 0x0079, 0x007a, 0x00e4, 0x00f6, 0x00f1, 0x00fc, 0x00e0,
};

/* The extension table (TS 23.038 6.2.1.1): sent as ESC (0x1b), code. */
static const struct {
  uint32_t cp;
  uint8_t code;
} gsm7_ext[] = {
  { 0x000c, 0x0a }, /* form feed */
  { 0x005e, 0x14 }, /* ^ */
  { 0x007b, 0x28 }, /* { */
  { 0x007d, 0x29 }, /* } */
  { 0x005c, 0x2f }, /* \ */
  { 0x005b, 0x3c }, /* [ */
  { 0x007e, 0x3d }, /* ~ */
  { 0x005d, 0x3e }, /* ] */
  { 0x007c, 0x40 }, /* | */
  { 0x20ac, 0x65 }, /* euro sign */
};

int vc__gsm7_code(uint32_t cp)
{
  /* Most ASCII maps to itself: skip the table walk for it. */
  if ((cp >= 0x20 && cp <= 0x3f && cp != 0x24) ||
      (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) ||
      cp == 0x0a || cp == 0x0d)
    return (int)cp;
  for (size_t i = 0; i < VC_ARRAY_SIZE(gsm7_basic); i++)
    if (gsm7_basic[i] == cp)
      return (int)i;
  for (size_t i = 0; i < VC_ARRAY_SIZE(gsm7_ext); i++)
    if (gsm7_ext[i].cp == cp)
      return 0x1b00 | gsm7_ext[i].code;
  return -1;
}

/*
 * Decode one code point at s[*i]; advance *i. 0, or -1 on malformed
 * UTF-8 (truncated, bad continuation, overlong, surrogate, > U+10FFFF).
 */
static int next_cp(const unsigned char *s, size_t n, size_t *i,
                   uint32_t *out)
{
  size_t len = vc__utf8_decode((const char *)s + *i, n - *i, out);

  if (len == 0)
    return -1;
  *i += len;
  return 0;
}

/* Units one code point takes in the chosen encoding. */
static size_t cp_units(uint32_t cp, int encoding)
{
  if (encoding == VC__SMS_UCS2)
    return cp > 0xffff ? 2 : 1;
  return vc__gsm7_code(cp) > 0x7f ? 2 : 1;
}

/* First pass: validate, choose the encoding, count. */
static int analyze(vc__sms_info *info, const unsigned char *s,
                   size_t len)
{
  size_t i = 0, septets = 0, utf16 = 0;

  memset(info, 0, sizeof(*info));
  while (i < len) {
    size_t at = i;
    uint32_t cp;
    int code;

    if (next_cp(s, len, &i, &cp) < 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EENCODING,
                           "SMS text is not valid UTF-8 at byte %zu",
                           at);
    if (cp == 0)
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "SMS text contains a NUL at byte %zu", at);
    info->characters++;
    utf16 += cp > 0xffff ? 2 : 1;
    code = vc__gsm7_code(cp);
    if (code < 0)
      info->unicode_chars++;
    else
      septets += code > 0x7f ? 2 : 1;
  }
  if (info->unicode_chars == 0) {
    info->encoding = VC__SMS_GSM7;
    info->units = septets;
  } else {
    info->encoding = VC__SMS_UCS2;
    info->units = utf16;
  }
  return 0;
}

/*
 * Second pass over validated text: fill part offsets greedily, moving
 * a code point that does not fit whole to the next part. Returns the
 * number of parts.
 */
static size_t split(size_t *offsets, size_t cap, const vc__sms_info *info,
                    const unsigned char *s, size_t len)
{
  size_t single, per_part, i = 0, used = 0, parts = 1;

  if (cap > 0)
    offsets[0] = 0;
  single = info->encoding == VC__SMS_GSM7 ? VC__SMS_GSM7_SINGLE
                                          : VC__SMS_UCS2_SINGLE;
  if (info->units <= single)
    return 1;
  per_part = info->encoding == VC__SMS_GSM7 ? VC__SMS_GSM7_MULTI
                                            : VC__SMS_UCS2_MULTI;
  while (i < len) {
    size_t at = i, w;
    uint32_t cp = 0;

    (void)next_cp(s, len, &i, &cp);  /* validated by analyze() */
    w = cp_units(cp, info->encoding);
    if (used + w > per_part) {
      if (parts < cap)
        offsets[parts] = at;
      parts++;
      used = 0;
    }
    used += w;
  }
  return parts;
}

/* Both passes; info->segments set. */
static int run(size_t *offsets, size_t cap, vc__sms_info *info,
               const char *utf8, size_t len)
{
  const unsigned char *s = (const unsigned char *)utf8;
  int rc;

  if ((rc = analyze(info, s, len)) < 0)
    goto fail;
  info->segments = split(offsets, cap, info, s, len);
  return 0;

fail:
  memset(info, 0, sizeof(*info));
  return rc;
}

int vc__sms_analyze(vc__sms_info *out, const char *utf8, size_t len)
{
  VC_ASSERT_ARG(out != NULL);
  memset(out, 0, sizeof(*out));
  VC_ASSERT_ARG(utf8 != NULL || len == 0);
  return run(NULL, 0, out, utf8, len);
}

int vc__sms_split(size_t *offsets, size_t cap, size_t *nparts,
                  vc__sms_info *info, const char *utf8, size_t len)
{
  vc__sms_info local;
  int rc;

  VC_ASSERT_ARG(nparts != NULL);
  *nparts = 0;
  if (info == NULL)
    info = &local;
  memset(info, 0, sizeof(*info));
  VC_ASSERT_ARG(utf8 != NULL || len == 0);
  VC_ASSERT_ARG(offsets != NULL || cap == 0);
  if ((rc = run(offsets, cap, info, utf8, len)) < 0)
    return rc;
  *nparts = info->segments;
  if (cap < *nparts)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "SMS has %zu parts; room for %zu offsets",
                         *nparts, cap);
  return 0;
}
