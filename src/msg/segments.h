/*
 * SMS encoding choice and segment counting (providers.md section 13).
 *
 * Pure functions over UTF-8 text: no allocation, no I/O. Used for cost
 * estimates at send time and by the dispatcher to know where each part
 * of a concatenated SMS starts.
 *
 * Rules (3GPP TS 23.038 / 23.040):
 * - GSM-7 when every code point is in the default alphabet (1 septet)
 *   or its extension table (ESC + code, 2 septets); otherwise the whole
 *   message is UCS-2, counted in UTF-16 code units (a code point above
 *   U+FFFF is a surrogate pair, 2 units).
 * - One part holds 160 septets / 70 units. A longer message is sent as
 *   parts of 153 septets / 67 units (6-octet UDH each).
 * - An escape pair or a surrogate pair is never split across parts: a
 *   code point that does not fit in the current part starts the next.
 *   (Grapheme clusters may be split: that is one calculator's choice,
 *   not a 3GPP rule; providers.md 0a item 9.)
 * - U+0000 is rejected: septet 0x00 is '@', and a NUL in a body is a
 *   caller's length error, not text.
 */
#ifndef VC_MSG_SEGMENTS_H
#define VC_MSG_SEGMENTS_H

#include <stddef.h>
#include <stdint.h>

typedef enum { VC__SMS_GSM7 = 1, VC__SMS_UCS2 = 2 } vc__sms_encoding;

/* Units per part: single-part and concatenated. */
#define VC__SMS_GSM7_SINGLE 160
#define VC__SMS_GSM7_MULTI 153
#define VC__SMS_UCS2_SINGLE 70
#define VC__SMS_UCS2_MULTI 67

/* A concatenated SMS numbers its parts in one octet (TS 23.040). */
#define VC__SMS_MAX_PARTS 255

typedef struct vc__sms_info {
  int encoding;         /* a vc__sms_encoding */
  size_t characters;    /* Unicode code points */
  size_t units;         /* septets (GSM-7) or UTF-16 code units (UCS-2) */
  size_t segments;      /* parts needed; 1 for an empty text */
  size_t unicode_chars; /* code points outside GSM-7 (0 when GSM-7) */
} vc__sms_info;

/*
 * Analyze utf8[0..len). 0 on success; VC_EENCODING for invalid UTF-8,
 * VC_EINVALID for a U+0000 or a NULL pointer with len > 0 (class
 * VC_ERRCLASS_INVALID, message names the byte offset). `out` is
 * zeroed on failure.
 */
int vc__sms_analyze(vc__sms_info *out, const char *utf8, size_t len);

/*
 * Where each part starts: byte offsets into utf8 (offsets[0] is 0; part
 * i spans [offsets[i], offsets[i + 1]) and the last ends at len). Sets
 * *nparts to the number of parts (== info.segments) and fills up to
 * `cap` offsets; offsets may be NULL when cap is 0 (a size query).
 * Returns 0, VC_ETOOBIG when cap < *nparts (the first cap offsets are
 * filled), or the codes of vc__sms_analyze. `info` may be NULL.
 */
int vc__sms_split(size_t *offsets, size_t cap, size_t *nparts,
                  vc__sms_info *info, const char *utf8, size_t len);

/*
 * The GSM-7 code of a code point: 0..127 for the default alphabet,
 * 0x1b00 | code for the extension table (ESC, then code), -1 when
 * the code point has no GSM-7 form.
 */
int vc__gsm7_code(uint32_t cp);

#endif /* VC_MSG_SEGMENTS_H */
