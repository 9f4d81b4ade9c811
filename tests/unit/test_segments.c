/*
 * Unit tests of SMS encoding choice, segment counting and splitting
 * (src/msg/segments.c): the published calculator cases, the GSM 03.38
 * tables, boundaries, pairs that must not straddle parts, bad input.
 */
#include "core/common.h"
#include "msg/segments.h"

#include "harness.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

#define BODY_MAX 4096

/* A test body: NUL-terminated, with its byte length. */
typedef struct body {
  char s[BODY_MAX];
  size_t len;
} body;

static void put(body *b, const char *s)
{
  size_t n = strlen(s);

  CHECK(b->len + n < BODY_MAX);
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void rep(body *b, const char *s, size_t times)
{
  for (size_t i = 0; i < times; i++)
    put(b, s);
}

/* `count` digits continuing the pattern 1234567890 from `first`. */
static void digits(body *b, int first, size_t count)
{
  for (size_t i = 0; i < count; i++) {
    char d[2] = { (char)('0' + (first + (int)i) % 10), '\0' };
    put(b, d);
  }
}

static void analyze_ok(vc__sms_info *info, const body *b)
{
  CHECK_OK(vc__sms_analyze(info, b->s, b->len));
}

/* Part offsets of b; returns the count (fills at most 16). */
static size_t split_ok(size_t off[16], const body *b)
{
  size_t n = 0;
  vc__sms_info info;

  CHECK_OK(vc__sms_split(off, 16, &n, &info, b->s, b->len));
  CHECK(n == info.segments);
  return n;
}

/* ------------------------------------------------------------------ */
/* Published cases (providers.md "SMS segment counting", TV-SEG-1..18) */

typedef struct seg_case {
  const char *id;
  const char *prefix;  /* UTF-8 before the fill */
  const char *fill;    /* repeated; NULL: digits continuing 1234567890 */
  int first_digit;     /* digit the pattern starts at (fill == NULL) */
  size_t count;        /* repetitions or digits */
  int encoding;
  size_t segments;
  size_t characters;   /* code points */
  size_t units;
  size_t unicode_chars;
  size_t bits;         /* calculator messageSize, 0 when not given */
} seg_case;

#define EMOJI_WINK "\xf0\x9f\x98\x9c"          /* U+1F61C */
#define EMOJI_GRIN "\xf0\x9f\x98\x80"          /* U+1F600 */
#define FLAG_IT "\xf0\x9f\x87\xae\xf0\x9f\x87\xb9" /* U+1F1EE U+1F1F9 */
/* U+1F3F3 U+FE0F U+200D U+1F308 */
#define FLAG_RAINBOW "\xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d" \
                     "\xf0\x9f\x8c\x88"
#define EURO "\xe2\x82\xac"
#define GSM VC__SMS_GSM7
#define UCS VC__SMS_UCS2

static const seg_case published[] = {
  /* id, prefix, fill, first, count, enc, segs, chars, units, uni, bits */
  { "TV-SEG-1", "", "1234567890", 0, 16, GSM, 1, 160, 160, 0, 1120 },
  { "TV-SEG-2",
    "1234567890123456789012345678901234567890123456789012345678901234"
    "5678901234567890123456789012345678901234567890123456789012345678"
    "90123456789012345678901234567890", "1", 0, 1,
    GSM, 2, 161, 161, 0, 1127 },
  { "TV-SEG-3", "", NULL, 1, 307, GSM, 3, 307, 307, 0, 2149 },
  { "TV-SEG-4", EMOJI_WINK, NULL, 2, 68, UCS, 1, 69, 70, 1, 1120 },
  { "TV-SEG-5", EMOJI_WINK, NULL, 2, 69, UCS, 2, 70, 71, 1, 1136 },
  { "TV-SEG-6", EMOJI_WINK, NULL, 2, 133, UCS, 3, 134, 135, 1, 2160 },
  { "TV-SEG-7", FLAG_IT, NULL, 2, 66, UCS, 1, 68, 70, 2, 1120 },
  { "TV-SEG-8", FLAG_IT, NULL, 2, 67, UCS, 2, 69, 71, 2, 1136 },
  { "TV-SEG-9", FLAG_RAINBOW, NULL, 2, 64, UCS, 1, 68, 70, 4, 1120 },
  { "TV-SEG-10", FLAG_RAINBOW, NULL, 2, 65, UCS, 2, 69, 71, 4, 1136 },
  { "TV-SEG-11 |", "|", NULL, 1, 158, GSM, 1, 159, 160, 0, 1120 },
  { "TV-SEG-12 |", "|", NULL, 1, 159, GSM, 2, 160, 161, 0, 1127 },
  { "TV-SEG-11 ^", "^", NULL, 1, 158, GSM, 1, 159, 160, 0, 1120 },
  { "TV-SEG-12 ^", "^", NULL, 1, 159, GSM, 2, 160, 161, 0, 1127 },
  { "TV-SEG-11 euro", EURO, NULL, 1, 158, GSM, 1, 159, 160, 0, 1120 },
  { "TV-SEG-12 euro", EURO, NULL, 1, 159, GSM, 2, 160, 161, 0, 1127 },
  { "TV-SEG-11 {", "{", NULL, 1, 158, GSM, 1, 159, 160, 0, 1120 },
  { "TV-SEG-12 {", "{", NULL, 1, 159, GSM, 2, 160, 161, 0, 1127 },
  { "TV-SEG-11 }", "}", NULL, 1, 158, GSM, 1, 159, 160, 0, 1120 },
  { "TV-SEG-12 }", "}", NULL, 1, 159, GSM, 2, 160, 161, 0, 1127 },
  { "TV-SEG-11 [", "[", NULL, 1, 158, GSM, 1, 159, 160, 0, 1120 },
  { "TV-SEG-12 [", "[", NULL, 1, 159, GSM, 2, 160, 161, 0, 1127 },
  { "TV-SEG-11 ]", "]", NULL, 1, 158, GSM, 1, 159, 160, 0, 1120 },
  { "TV-SEG-12 ]", "]", NULL, 1, 159, GSM, 2, 160, 161, 0, 1127 },
  { "TV-SEG-11 ~", "~", NULL, 1, 158, GSM, 1, 159, 160, 0, 1120 },
  { "TV-SEG-12 ~", "~", NULL, 1, 159, GSM, 2, 160, 161, 0, 1127 },
  { "TV-SEG-11 \\", "\\", NULL, 1, 158, GSM, 1, 159, 160, 0, 1120 },
  { "TV-SEG-12 \\", "\\", NULL, 1, 159, GSM, 2, 160, 161, 0, 1127 },
  /* TV-SEG-13/14: each of these alone forces UCS-2. */
  { "TV-SEG-13 A-acute", "", "\xc3\x81", 0, 70, UCS, 1, 70, 70, 70, 0 },
  { "TV-SEG-14 A-acute", "", "\xc3\x81", 0, 71, UCS, 2, 71, 71, 71, 0 },
  { "TV-SEG-13 U-acute", "", "\xc3\x9a", 0, 70, UCS, 1, 70, 70, 70, 0 },
  { "TV-SEG-14 U-acute", "", "\xc3\x9a", 0, 71, UCS, 2, 71, 71, 71, 0 },
  { "TV-SEG-13 u-acute", "", "\xc3\xba", 0, 70, UCS, 1, 70, 70, 70, 0 },
  { "TV-SEG-14 u-acute", "", "\xc3\xba", 0, 71, UCS, 2, 71, 71, 71, 0 },
  { "TV-SEG-13 c-cedil", "", "\xc3\xa7", 0, 70, UCS, 1, 70, 70, 70, 0 },
  { "TV-SEG-14 c-cedil", "", "\xc3\xa7", 0, 71, UCS, 2, 71, 71, 71, 0 },
  { "TV-SEG-13 i-acute", "", "\xc3\xad", 0, 70, UCS, 1, 70, 70, 70, 0 },
  { "TV-SEG-14 i-acute", "", "\xc3\xad", 0, 71, UCS, 2, 71, 71, 71, 0 },
  { "TV-SEG-13 I-acute", "", "\xc3\x8d", 0, 70, UCS, 1, 70, 70, 70, 0 },
  { "TV-SEG-14 I-acute", "", "\xc3\x8d", 0, 71, UCS, 2, 71, 71, 71, 0 },
  { "TV-SEG-13 o-acute", "", "\xc3\xb3", 0, 70, UCS, 1, 70, 70, 70, 0 },
  { "TV-SEG-14 o-acute", "", "\xc3\xb3", 0, 71, UCS, 2, 71, 71, 71, 0 },
  { "TV-SEG-13 O-acute", "", "\xc3\x93", 0, 70, UCS, 1, 70, 70, 70, 0 },
  { "TV-SEG-14 O-acute", "", "\xc3\x93", 0, 71, UCS, 2, 71, 71, 71, 0 },
  /* In UCS-2 an extension character costs 1 unit, not 2. */
  { "TV-SEG-15", EMOJI_GRIN, "]", 0, 68, UCS, 1, 69, 70, 1, 0 },
  { "TV-SEG-16", EMOJI_GRIN, "]", 0, 69, UCS, 2, 70, 71, 1, 0 },
  /* CR, LF are basic characters; CRLF is 2 characters. */
  { "TV-SEG-17", "\rabcde\r\n123", "", 0, 0, GSM, 1, 11, 11, 0, 0 },
  /* e + 3 x U+0301: one grapheme, 4 code points, 4 units. */
  { "TV-SEG-18a", "e\xcc\x81\xcc\x81\xcc\x81", "a", 0, 66,
    UCS, 1, 70, 70, 3, 0 },
  { "TV-SEG-18b", "e\xcc\x81\xcc\x81\xcc\x81", "a", 0, 67,
    UCS, 2, 71, 71, 3, 0 },
};

static void build(body *b, const seg_case *c)
{
  b->len = 0;
  b->s[0] = '\0';
  put(b, c->prefix);
  if (c->fill != NULL)
    rep(b, c->fill, c->count);
  else
    digits(b, c->first_digit, c->count);
}

static void check_case(const seg_case *c)
{
  body b;
  vc__sms_info info;

  build(&b, c);
  if (vc__sms_analyze(&info, b.s, b.len) != 0 ||
      info.encoding != c->encoding || info.segments != c->segments ||
      info.characters != c->characters || info.units != c->units ||
      info.unicode_chars != c->unicode_chars ||
      (c->bits != 0 &&
       info.units * (c->encoding == GSM ? 7u : 16u) != c->bits)) {
    fprintf(stderr, "  %s: enc %d segs %zu chars %zu units %zu uni %zu\n",
            c->id, info.encoding, info.segments, info.characters,
            info.units, info.unicode_chars);
    CHECK(!"case mismatch");
  }
}

static void test_segments__published(void)
{
  size_t tv = 0;

  for (size_t i = 0; i < VC_ARRAY_SIZE(published); i++)
    check_case(&published[i]);
  /* All 18 published ids are covered. */
  for (int id = 1; id <= 18; id++) {
    char want[16];
    int seen = 0;

    snprintf(want, sizeof(want), "TV-SEG-%d", id);
    for (size_t i = 0; i < VC_ARRAY_SIZE(published); i++) {
      size_t n = strlen(want);
      const char *p = published[i].id;
      if (strncmp(p, want, n) == 0 && (p[n] == '\0' || p[n] == ' ' ||
                                       p[n] == 'a' || p[n] == 'b'))
        seen = 1;
    }
    CHECK(seen);
    tv++;
  }
  CHECK(tv == 18);
}

/* TV-SEG-2's literal body equals the generated pattern. */
static void test_segments__published_pattern(void)
{
  body a = { .len = 0 }, b = { .len = 0 };

  put(&a, published[1].prefix);
  put(&a, "1");
  digits(&b, 1, 161);
  CHECK(a.len == b.len && memcmp(a.s, b.s, a.len) == 0);
}

/* ------------------------------------------------------------------ */
/* The GSM 03.38 tables                                                */

/* The default alphabet in septet order, stated independently of the
 * library's table; ESC (0x1b) is left out of the string. */
static const char alphabet[] =
  "@\xc2\xa3$\xc2\xa5\xc3\xa8\xc3\xa9\xc3\xb9\xc3\xac"      /* 00-07 */
  "\xc3\xb2\xc3\x87\n\xc3\x98\xc3\xb8\r\xc3\x85\xc3\xa5"    /* 08-0f */
  "\xce\x94_\xce\xa6\xce\x93\xce\x9b\xce\xa9\xce\xa0\xce\xa8" /* 10-17 */
  "\xce\xa3\xce\x98\xce\x9e"                                /* 18-1a */
  "\xc3\x86\xc3\xa6\xc3\x9f\xc3\x89"                        /* 1c-1f */
  " !\"#\xc2\xa4%&'()*+,-./0123456789:;<=>?"                /* 20-3f */
  "\xc2\xa1" "ABCDEFGHIJKLMNOPQRSTUVWXYZ"                   /* 40-5a */
  "\xc3\x84\xc3\x96\xc3\x91\xc3\x9c\xc2\xa7"                /* 5b-5f */
  "\xc2\xbf" "abcdefghijklmnopqrstuvwxyz"                   /* 60-7a */
  "\xc3\xa4\xc3\xb6\xc3\xb1\xc3\xbc\xc3\xa0";               /* 7b-7f */

/* Minimal decoder for the test's own well-formed literals. */
static uint32_t decode(const char *s, size_t *i)
{
  const unsigned char *u = (const unsigned char *)s;
  uint32_t c = u[*i];
  int extra = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;

  if (extra > 0)
    c &= 0x3fu >> extra;
  (*i)++;
  for (int k = 0; k < extra; k++)
    c = (c << 6) | (u[(*i)++] & 0x3f);
  return c;
}

static void test_segments__basic_table(void)
{
  size_t i = 0, n = strlen(alphabet);
  int septet = 0;
  body b = { .len = 0 };
  vc__sms_info info;

  while (i < n) {
    uint32_t cp = decode(alphabet, &i);
    if (septet == 0x1b)
      septet++;
    if (vc__gsm7_code(cp) != septet)
      fprintf(stderr, "  U+%04X: %d, wanted %d\n", (unsigned)cp,
              vc__gsm7_code(cp), septet);
    CHECK(vc__gsm7_code(cp) == septet);
    septet++;
  }
  CHECK(septet == 128);
  /* The whole alphabet is one GSM-7 part of 127 septets. */
  put(&b, alphabet);
  analyze_ok(&info, &b);
  CHECK(info.encoding == GSM && info.characters == 127 &&
        info.units == 127 && info.segments == 1);
}

static void test_segments__extension_table(void)
{
  static const struct { uint32_t cp; int code; } ext[] = {
    { 0x0c, 0x0a }, { '^', 0x14 }, { '{', 0x28 }, { '}', 0x29 },
    { '\\', 0x2f }, { '[', 0x3c }, { '~', 0x3d }, { ']', 0x3e },
    { '|', 0x40 }, { 0x20ac, 0x65 },
  };
  body b = { .len = 0 };
  vc__sms_info info;

  for (size_t i = 0; i < VC_ARRAY_SIZE(ext); i++)
    CHECK(vc__gsm7_code(ext[i].cp) == (0x1b00 | ext[i].code));
  put(&b, "\f^{}\\[~]|" EURO);
  analyze_ok(&info, &b);
  CHECK(info.encoding == GSM && info.characters == 10 &&
        info.units == 20 && info.segments == 1);
}

/* Exactly 127 + 10 code points have a GSM-7 form, nothing else. */
static void test_segments__table_is_closed(void)
{
  size_t basic = 0, ext = 0;

  for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
    int c = vc__gsm7_code(cp);
    if (c < 0)
      continue;
    CHECK(cp < 0xd800 || cp > 0xdfff);
    if (c > 0x7f)
      ext++;
    else
      basic++;
  }
  CHECK(basic == 127);
  CHECK(ext == 10);
  CHECK(vc__gsm7_code(0) == -1);      /* NUL is not '@' */
  CHECK(vc__gsm7_code(0x1b) == -1);   /* ESC is not a character */
  CHECK(vc__gsm7_code('@') == 0);
  CHECK(vc__gsm7_code('$') == 2);
  CHECK(vc__gsm7_code('_') == 0x11);
}

static void test_segments__not_gsm(void)
{
  /* Look-alikes that are not in the table force UCS-2. */
  static const char *const non_gsm[] = {
    "`", "\t", "\x7f", "\x01", "\xc3\xa1", "\xc3\xad", "\xc3\xb3",
    "\xc3\xba", "\xc3\x81", "\xc3\xa7", "\xe2\x80\x99" /* ' */,
    "\xe2\x80\x93" /* en dash */, "\xc2\xa0" /* NBSP */,
    "\xc2\xa2" /* cent */, "\xd0\x96" /* Cyrillic Zhe */,
    "\xe0\xa4\xb9" /* Devanagari HA */,
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(non_gsm); i++) {
    body b = { .len = 0 };
    vc__sms_info info;

    put(&b, "Hello ");
    put(&b, non_gsm[i]);
    analyze_ok(&info, &b);
    CHECK(info.encoding == UCS);
    CHECK(info.unicode_chars == 1);
    CHECK(info.characters == 7 && info.units == 7);
  }
}

/* ------------------------------------------------------------------ */
/* Boundaries                                                          */

typedef struct bound_case {
  const char *fill;
  size_t count;
  int encoding;
  size_t segments;
} bound_case;

static void test_segments__boundaries(void)
{
  static const bound_case cases[] = {
    { "a", 1, GSM, 1 },
    { "a", 160, GSM, 1 },
    { "a", 161, GSM, 2 },
    { "a", 153 * 2, GSM, 2 },
    { "a", 153 * 2 + 1, GSM, 3 },
    { "a", 153 * 3, GSM, 3 },
    { "a", 153 * 3 + 1, GSM, 4 },
    { EURO, 80, GSM, 1 },          /* 160 septets */
    { EURO, 81, GSM, 2 },          /* 162 septets, 153 holds 76 */
    { EURO, 153, GSM, 3 },         /* 76 + 76 + 1 */
    { "\xd0\x96", 1, UCS, 1 },
    { "\xd0\x96", 70, UCS, 1 },
    { "\xd0\x96", 71, UCS, 2 },
    { "\xd0\x96", 67 * 2, UCS, 2 },
    { "\xd0\x96", 67 * 2 + 1, UCS, 3 },
    { EMOJI_WINK, 35, UCS, 1 },    /* 70 units */
    { EMOJI_WINK, 36, UCS, 2 },    /* 72 units, 67 holds 33 */
    { EMOJI_WINK, 67, UCS, 3 },    /* 33 + 33 + 1 */
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(cases); i++) {
    body b = { .len = 0 };
    vc__sms_info info;

    rep(&b, cases[i].fill, cases[i].count);
    analyze_ok(&info, &b);
    if (info.encoding != cases[i].encoding ||
        info.segments != cases[i].segments)
      fprintf(stderr, "  case %zu: enc %d segs %zu\n", i, info.encoding,
              info.segments);
    CHECK(info.encoding == cases[i].encoding);
    CHECK(info.segments == cases[i].segments);
    CHECK(info.characters == cases[i].count);
  }
}

static void test_segments__empty(void)
{
  vc__sms_info info;
  size_t off[2] = { 99, 99 }, n = 0;

  CHECK_OK(vc__sms_analyze(&info, "", 0));
  CHECK(info.encoding == GSM && info.characters == 0 &&
        info.units == 0 && info.segments == 1);
  CHECK_OK(vc__sms_analyze(&info, NULL, 0));
  CHECK(info.segments == 1);
  CHECK_OK(vc__sms_split(off, 2, &n, NULL, "", 0));
  CHECK(n == 1 && off[0] == 0);
}

/* ------------------------------------------------------------------ */
/* Pairs never straddle a part boundary                                */

static void test_segments__escape_straddle(void)
{
  body b = { .len = 0 };
  vc__sms_info info;
  size_t off[16], n;

  /* 152 + 2 + 152 = 306 septets = 2 x 153, but the escape pair cannot
   * take the last septet of part 1: three parts. */
  rep(&b, "a", 152);
  put(&b, EURO);
  rep(&b, "a", 152);
  analyze_ok(&info, &b);
  CHECK(info.encoding == GSM && info.units == 306);
  CHECK(info.segments == 3);
  n = split_ok(off, &b);
  CHECK(n == 3);
  CHECK(off[0] == 0);
  CHECK(off[1] == 152);                 /* the euro opens part 2 */
  CHECK(off[2] == 152 + 3 + 151);       /* 2 + 151 = 153 septets */

  /* 151 + 2 fills part 1 exactly: two parts. */
  b.len = 0;
  rep(&b, "a", 151);
  put(&b, EURO);
  rep(&b, "a", 153);
  n = split_ok(off, &b);
  CHECK(n == 2);
  CHECK(off[1] == 151 + 3);

  /* Same with an ASCII escape character. */
  b.len = 0;
  rep(&b, "a", 152);
  put(&b, "[");
  rep(&b, "a", 152);
  n = split_ok(off, &b);
  CHECK(n == 3 && off[1] == 152 && off[2] == 152 + 1 + 151);
}

static void test_segments__surrogate_straddle(void)
{
  body b = { .len = 0 };
  vc__sms_info info;
  size_t off[16], n;

  /* 66 + 2 + 66 = 134 units = 2 x 67, but the pair cannot take the
   * last unit of part 1: three parts. */
  digits(&b, 1, 66);
  put(&b, EMOJI_WINK);
  digits(&b, 1, 66);
  analyze_ok(&info, &b);
  CHECK(info.encoding == UCS && info.units == 134);
  CHECK(info.segments == 3);
  n = split_ok(off, &b);
  CHECK(n == 3);
  CHECK(off[1] == 66);
  CHECK(off[2] == 66 + 4 + 65);

  /* 65 + 2 fills part 1 exactly. */
  b.len = 0;
  digits(&b, 1, 65);
  put(&b, EMOJI_WINK);
  digits(&b, 1, 67);
  n = split_ok(off, &b);
  CHECK(n == 2 && off[1] == 65 + 4);

  /* A grapheme (flag: two pairs) may be split between its pairs. */
  b.len = 0;
  digits(&b, 1, 65);
  put(&b, FLAG_IT);
  digits(&b, 1, 65);
  n = split_ok(off, &b);
  CHECK(n == 2 && off[1] == 65 + 4);
}

/* A GSM-7 message with CR LF and form feed. */
static void test_segments__controls(void)
{
  body b = { .len = 0 };
  vc__sms_info info;

  put(&b, "a\r\nb\fc");
  analyze_ok(&info, &b);
  CHECK(info.encoding == GSM && info.characters == 6 && info.units == 7);
}

/* ------------------------------------------------------------------ */
/* Split API                                                           */

static void test_segments__split_api(void)
{
  body b = { .len = 0 };
  size_t off[4] = { 0 }, n = 0;
  vc__sms_info info;

  rep(&b, "a", 400);   /* 153 + 153 + 94 */
  CHECK_RC(vc__sms_split(NULL, 0, &n, NULL, b.s, b.len), VC_ETOOBIG);
  CHECK(n == 3);
  CHECK(vc_error_last()->klass == VC_ERRCLASS_INVALID);
  CHECK_RC(vc__sms_split(off, 2, &n, &info, b.s, b.len), VC_ETOOBIG);
  CHECK(n == 3 && off[0] == 0 && off[1] == 153 && off[2] == 0);
  CHECK(info.segments == 3);
  CHECK_OK(vc__sms_split(off, 4, &n, &info, b.s, b.len));
  CHECK(n == 3 && off[1] == 153 && off[2] == 306);
  CHECK_RC(vc__sms_split(off, 4, NULL, NULL, b.s, b.len), VC_EINVALID);
  CHECK_RC(vc__sms_split(NULL, 4, &n, NULL, b.s, b.len), VC_EINVALID);
  CHECK_RC(vc__sms_analyze(NULL, b.s, b.len), VC_EINVALID);
  CHECK_RC(vc__sms_analyze(&info, NULL, 3), VC_EINVALID);
}

/* Units of s[0..len) in `enc`, from the test's own decoder. */
static size_t units_of(const char *s, size_t len, int enc)
{
  size_t i = 0, u = 0;

  while (i < len) {
    uint32_t cp = decode(s, &i);
    if (enc == UCS)
      u += cp > 0xffff ? 2 : 1;
    else
      u += vc__gsm7_code(cp) > 0x7f ? 2 : 1;
  }
  return u;
}

/* Random texts: every part fits, is greedy (the next code point would
 * not have fitted) and starts on a code point; the parts add up. */
static void test_segments__split_invariants(void)
{
  static const char *const atoms[] = {
    "a", "7", " ", "\n", EURO, "]", "\xc3\xa9", "\xd0\x96", EMOJI_WINK,
  };
  uint64_t seed = 0x9e3779b97f4a7c15u;

  for (int round = 0; round < 2000; round++) {
    body b = { .len = 0 };
    size_t off[16], n, nat, per, single, sum = 0;
    vc__sms_info info;
    int gsm_only = round % 2 == 0;

    seed = seed * 6364136223846793005u + 1442695040888963407u;
    nat = (size_t)(seed >> 33) % 480;
    for (size_t k = 0; k < nat; k++) {
      seed = seed * 6364136223846793005u + 1442695040888963407u;
      /* The first 7 atoms are GSM-7. */
      put(&b, atoms[(size_t)(seed >> 33) % (gsm_only ? 7 : 9)]);
    }
    analyze_ok(&info, &b);
    n = split_ok(off, &b);
    CHECK(n == info.segments);
    CHECK(!gsm_only || info.encoding == GSM);
    CHECK(info.units == units_of(b.s, b.len, info.encoding));
    per = info.encoding == GSM ? 153 : 67;
    single = info.encoding == GSM ? 160 : 70;
    CHECK(off[0] == 0);
    CHECK((n == 1) == (info.units <= single));
    for (size_t p = 0; p < n && n > 1; p++) {
      size_t end = p + 1 < n ? off[p + 1] : b.len;
      size_t u = units_of(b.s + off[p], end - off[p], info.encoding);

      CHECK(end > off[p]);
      CHECK(((unsigned char)b.s[off[p]] & 0xc0) != 0x80);
      CHECK(u <= per);
      if (p + 1 < n) {
        size_t next = end;
        (void)decode(b.s, &next);
        CHECK(u + units_of(b.s + end, next - end, info.encoding) > per);
      }
      sum += u;
    }
    CHECK(n == 1 || sum == info.units);
  }
}

/* ------------------------------------------------------------------ */
/* Bad input                                                           */

static void test_segments__invalid_utf8(void)
{
  static const struct { const char *s; size_t len; size_t at; } bad[] = {
    { "ab\x80", 3, 2 },                 /* lone continuation */
    { "ab\xe2\x82", 4, 2 },             /* truncated */
    { "\xc0\xaf", 2, 0 },               /* overlong '/' */
    { "\xe0\x80\xaf", 3, 0 },           /* overlong, 3 bytes */
    { "x\xed\xa0\x80", 4, 1 },          /* UTF-16 surrogate */
    { "\xf4\x90\x80\x80", 4, 0 },       /* above U+10FFFF */
    { "abc\xff", 4, 3 },
    { "\xf8\x88\x80\x80\x80", 5, 0 },   /* 5-byte form */
    { "\xc3(", 2, 0 },                  /* bad continuation */
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    vc__sms_info info;
    size_t off[4], n = 7;
    char want[32];

    memset(&info, 0xff, sizeof(info));
    CHECK_RC(vc__sms_analyze(&info, bad[i].s, bad[i].len),
             VC_EENCODING);
    CHECK(info.segments == 0 && info.units == 0 && info.encoding == 0);
    CHECK(vc_error_last()->klass == VC_ERRCLASS_INVALID);
    snprintf(want, sizeof(want), "at byte %zu", bad[i].at);
    CHECK(strstr(vc_error_last()->message, want) != NULL);
    CHECK_RC(vc__sms_split(off, 4, &n, NULL, bad[i].s, bad[i].len),
             VC_EENCODING);
    CHECK(n == 0);
  }
}

static void test_segments__nul(void)
{
  vc__sms_info info;

  CHECK_RC(vc__sms_analyze(&info, "ab\0cd", 5), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "NUL at byte 2") != NULL);
  CHECK_RC(vc__sms_analyze(&info, "\0", 1), VC_EINVALID);
  /* The length is the caller's: a NUL past it is not looked at. */
  CHECK_OK(vc__sms_analyze(&info, "ab\0cd", 2));
  CHECK(info.characters == 2);
}

VC_TESTS(
  VC_TEST(test_segments__published),
  VC_TEST(test_segments__published_pattern),
  VC_TEST(test_segments__basic_table),
  VC_TEST(test_segments__extension_table),
  VC_TEST(test_segments__table_is_closed),
  VC_TEST(test_segments__not_gsm),
  VC_TEST(test_segments__boundaries),
  VC_TEST(test_segments__empty),
  VC_TEST(test_segments__escape_straddle),
  VC_TEST(test_segments__surrogate_straddle),
  VC_TEST(test_segments__controls),
  VC_TEST(test_segments__split_api),
  VC_TEST(test_segments__split_invariants),
  VC_TEST(test_segments__invalid_utf8),
  VC_TEST(test_segments__nul),
)
