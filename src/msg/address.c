/*
 * Recipient address validation and normalisation. See address.h.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/text.h"
#include "address.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

/* Bytes of the input a message may quote. */
#define EXCERPT_MAX 64

/* ---- helpers ---------------------------------------------------- */

static int is_digit(unsigned c) { return c >= '0' && c <= '9'; }
static int is_alpha(unsigned c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Decode one code point of already validated UTF-8 at s[*i]; advance.
 * Invalid bytes (only possible in an excerpt cut mid-character) come
 * back as -1, one byte at a time.
 */
static long utf8_next(const unsigned char *s, size_t n, size_t *i)
{
  uint32_t cp;
  size_t len = vc__utf8_decode((const char *)s + *i, n - *i, &cp);

  if (len == 0) {
    (*i)++;
    return -1;
  }
  *i += len;
  return (long)cp;
}

/*
 * Code points that have no business in an address and can hide or
 * break things: C1 controls, Unicode spaces, line/paragraph separators
 * (some header code treats them as line breaks), bidi and other
 * invisible format characters, the BOM, noncharacters and U+FFFD (the
 * trace of a lossy conversion). ZWNJ/ZWJ stay: IDNA allows them in
 * context for some scripts.
 */
static int bad_unicode(uint32_t cp)
{
  return (cp >= 0x80 && cp <= 0xa0) || cp == 0xad || cp == 0x61c ||
         cp == 0x180e || (cp >= 0x2000 && cp <= 0x200b) ||
         (cp >= 0x200e && cp <= 0x200f) ||
         (cp >= 0x2028 && cp <= 0x202f) ||
         (cp >= 0x205f && cp <= 0x206f) || cp == 0x3000 ||
         cp == 0xfeff || (cp >= 0xfdd0 && cp <= 0xfdef) ||
         (cp >= 0xfff9 && cp <= 0xfffd) || (cp & 0xfffe) == 0xfffe ||
         (cp >= 0xe0000 && cp <= 0xe007f);
}

/*
 * A printable copy of at most the first EXCERPT_MAX bytes of `in`:
 * controls, invalid bytes and invisible characters become '?', and
 * "..." marks a cut. Never longer than EXCERPT_MAX + 3 bytes.
 */
static void excerpt(char dst[EXCERPT_MAX + 4], const char *in)
{
  const unsigned char *s = (const unsigned char *)in;
  size_t n = strnlen(in, EXCERPT_MAX + 1), i = 0, o = 0;
  int cut = n > EXCERPT_MAX;

  if (cut)
    n = EXCERPT_MAX;
  while (i < n) {
    size_t at = i;
    long cp = utf8_next(s, n, &i);

    if (cp < 0x20 || cp == 0x7f || bad_unicode((uint32_t)cp)) {
      dst[o++] = '?';
    } else {
      memcpy(dst + o, s + at, i - at);
      o += i - at;
    }
  }
  if (cut) {
    memcpy(dst + o, "...", 3);
    o += 3;
  }
  dst[o] = '\0';
}

/* Set "<what> "<excerpt>": <reason>" and return `code`. */
static int fail(int code, const char *what, const char *in,
                const char *fmt, ...) VC_FORMAT_PRINTF(4, 5);

static int fail(int code, const char *what, const char *in,
                const char *fmt, ...)
{
  char quoted[EXCERPT_MAX + 4], reason[160];
  va_list ap;

  excerpt(quoted, in);
  va_start(ap, fmt);
  vsnprintf(reason, sizeof(reason), fmt, ap);
  va_end(ap);
  return vc__error_set(VC_ERRCLASS_INVALID, code, "%s \"%s\": %s", what,
                       quoted, reason);
}

/* NULL, empty, too long or not UTF-8: the checks every kind shares. */
static int check_input(const char *what, const char *in, size_t max,
                       size_t *len)
{
  if (in == NULL || in[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is empty", what);
  *len = strnlen(in, max + 1);
  if (*len > max)
    return fail(VC_ETOOBIG, what, in, "longer than %zu bytes", max);
  if (!vc__utf8_valid(in, *len))
    return fail(VC_EENCODING, what, in, "not valid UTF-8");
  return 0;
}

/* ---- phone numbers ---------------------------------------------- */

static int is_phone_sep(unsigned c)
{
  return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

int vc__addr_phone(char out[VC__ADDR_PHONE_MAX], const char *in,
                   int lenient)
{
  static const char what[] = "phone number";
  char digits[VC__ADDR_PHONE_MAX];
  size_t n, i = 0, nd = 0;
  int rc, started = 0;

  VC_ASSERT_ARG(out != NULL);
  if ((rc = check_input(what, in, VC__ADDR_INPUT_MAX, &n)) < 0)
    return rc;
  while (i < n) {
    unsigned c = (unsigned char)in[i];

    if (lenient && c == '(' && in[i + 1] == '0' && in[i + 2] == ')')
      /* "+44 (0)20 ...": the trunk 0 is not dialled from abroad;
       * dropping it or keeping it would be a guess. */
      return fail(VC_EINVALID, what, in,
                  "remove the national trunk prefix \"(0)\"");
    if (lenient && is_phone_sep(c)) {
      i++;
      continue;
    }
    if (!started) {
      if (c == '+') {
        started = 1;
        i++;
        continue;
      }
      if (c == '0' && in[i + 1] == '0') {
        if (!lenient)
          return fail(VC_EINVALID, what, in,
                      "starts with 00; write the international "
                      "prefix as '+'");
        started = 1;
        i += 2;
        continue;
      }
      if (is_digit(c))
        return fail(VC_EINVALID, what, in,
                    "no country code: it must start with '+'%s",
                    lenient ? " or 00" : "");
    } else if (is_digit(c)) {
      if (nd < VC__ADDR_PHONE_MAX - 1)
        digits[nd] = (char)c;
      nd++;
      i++;
      continue;
    }
    if (c == '+')
      return fail(VC_EINVALID, what, in, "'+' at byte %zu is not at "
                  "the start", i);
    if (is_alpha(c))
      return fail(VC_EINVALID, what, in, "letter at byte %zu; E.164 is "
                  "'+' and digits only", i);
    if (is_phone_sep(c))
      return fail(VC_EINVALID, what, in, "'%c' at byte %zu; separators "
                  "are accepted only in lenient mode", (int)c, i);
    if (c >= 0x80)
      return fail(VC_EINVALID, what, in, "non-ASCII character at byte "
                  "%zu", i);
    return fail(VC_EINVALID, what, in, "invalid character at byte %zu",
                i);
  }
  if (nd == 0)
    return fail(VC_EINVALID, what, in, started ? "no digits after '+'"
                                               : "no digits");
  if (digits[0] == '0')
    return fail(VC_EINVALID, what, in, "a country code never starts "
                "with 0");
  if (nd < 2)
    return fail(VC_EINVALID, what, in, "too short: E.164 needs 2 to 15 "
                "digits");
  if (nd > 15)
    return fail(VC_EINVALID, what, in, "%zu digits; E.164 allows at "
                "most 15", nd);
  out[0] = '+';
  memcpy(out + 1, digits, nd);
  out[nd + 1] = '\0';
  return 0;
}

/* ---- email addresses -------------------------------------------- */

/* RFC 5322 atext, ASCII part. */
static int is_atext(unsigned c)
{
  return is_alpha(c) || is_digit(c) || (c != 0 &&
         strchr("!#$%&'*+-/=?^_`{|}~", (int)c) != NULL);
}

/* Quoted local part starting at in[0] == '"'. Sets *end past it. */
static int email_quoted(const char *what, const char *in, size_t n,
                        size_t *end)
{
  size_t i = 1;

  while (i < n && in[i] != '"') {
    unsigned c = (unsigned char)in[i];

    if (c == '\\') {
      unsigned d = i + 1 < n ? (unsigned char)in[i + 1] : 0;
      /* RFC 5321 quoted-pairSMTP: backslash, then %d32-126. */
      if (d < 0x20 || d > 0x7e)
        return fail(VC_EINVALID, what, in, "backslash at byte %zu must "
                    "escape a printable ASCII character", i);
      i += 2;
      continue;
    }
    i++;  /* controls were rejected earlier; the rest is qtext */
  }
  if (i >= n)
    return fail(VC_EINVALID, what, in, "unterminated quoted local "
                "part");
  if (i == 1)
    return fail(VC_EINVALID, what, in, "empty local part");
  *end = i + 1;
  return 0;
}

/* Dot-atom local part in in[0..at). */
static int email_dot_atom(const char *what, const char *in, size_t at)
{
  for (size_t i = 0; i < at; i++) {
    unsigned c = (unsigned char)in[i];

    if (c == '.') {
      if (i == 0)
        return fail(VC_EINVALID, what, in, "local part starts with a "
                    "dot");
      if (i + 1 == at)
        return fail(VC_EINVALID, what, in, "local part ends with a "
                    "dot");
      if (in[i + 1] == '.')
        return fail(VC_EINVALID, what, in, "two dots in a row in the "
                    "local part");
      continue;
    }
    if (c >= 0x80 || is_atext(c))
      continue;
    if (c == ' ')
      return fail(VC_EINVALID, what, in, "space at byte %zu (outside "
                  "quotes)", i);
    if (c == '"')
      return fail(VC_EINVALID, what, in, "quote at byte %zu; quote the "
                  "whole local part or nothing", i);
    return fail(VC_EINVALID, what, in, "'%c' at byte %zu is not allowed "
                "in an unquoted local part", (int)c, i);
  }
  return 0;
}

/* Dotted quad, each 0..255 without leading zeros. */
static int ipv4_valid(const char *s, size_t n)
{
  size_t i = 0;

  for (int part = 0; part < 4; part++) {
    unsigned v = 0, nd = 0;

    if (part > 0) {
      if (i >= n || s[i] != '.')
        return 0;
      i++;
    }
    while (i < n && is_digit((unsigned char)s[i]) && nd < 4) {
      v = v * 10 + (unsigned)(s[i] - '0');
      nd++;
      i++;
    }
    if (nd == 0 || nd > 3 || v > 255 || (nd > 1 && s[i - nd] == '0'))
      return 0;
  }
  return i == n;
}

/* "[1.2.3.4]" or "[IPv6:...]" in d[0..n). */
static int email_literal(const char *what, const char *in, const char *d,
                         size_t n)
{
  char tmp[64];

  if (n < 3 || d[n - 1] != ']')
    return fail(VC_EINVALID, what, in, "address literal must end with "
                "']'");
  d++;
  n -= 2;
  if (n > 5 && strncasecmp(d, "IPv6:", 5) == 0) {
    unsigned char addr[16];

    if (n - 5 >= sizeof(tmp))
      return fail(VC_EINVALID, what, in, "invalid IPv6 address literal");
    memcpy(tmp, d + 5, n - 5);
    tmp[n - 5] = '\0';
    if (inet_pton(AF_INET6, tmp, addr) != 1)
      return fail(VC_EINVALID, what, in, "invalid IPv6 address literal");
    return 0;
  }
  if (!ipv4_valid(d, n))
    return fail(VC_EINVALID, what, in, "address literal must be [a.b.c.d]"
                " or [IPv6:...]");
  return 0;
}

/* Host name of LDH labels (and UTF-8 U-labels) in d[0..n). */
static int email_domain(const char *what, const char *in, const char *d,
                        size_t n)
{
  const unsigned char *s = (const unsigned char *)d;
  size_t i = 0, label = 0, labels = 0;
  int numeric = 1;

  if (n > VC__ADDR_EMAIL_DOMAIN_MAX)
    return fail(VC_ETOOBIG, what, in, "domain longer than %d bytes",
                VC__ADDR_EMAIL_DOMAIN_MAX);
  while (i <= n) {
    size_t at = i;
    long cp;

    if (i == n || s[i] == '.') {
      if (label == 0)
        return fail(VC_EINVALID, what, in, i == n && labels > 0
                    ? "domain ends with a dot" : "empty domain label");
      if (s[i - 1] == '-')
        return fail(VC_EINVALID, what, in, "domain label ends with "
                    "'-'");
      labels++;
      if (i == n)
        break;
      label = 0;
      numeric = 1;
      i++;
      continue;
    }
    cp = utf8_next(s, n, &i);
    if (cp == '-' && label == 0)
      return fail(VC_EINVALID, what, in, "domain label starts with "
                  "'-'");
    if (cp == 0x3002 || cp == 0xff0e || cp == 0xff61)
      /* IDNA maps these to '.': the name would not be what it seems */
      return fail(VC_EINVALID, what, in, "full-stop look-alike in the "
                  "domain at byte %zu", at);
    if (cp == '@')
      return fail(VC_EINVALID, what, in, "more than one '@'");
    if (cp < 0x80 && !is_alpha((unsigned)cp) && !is_digit((unsigned)cp) &&
        cp != '-')
      return fail(VC_EINVALID, what, in, "'%c' at byte %zu is not "
                  "allowed in a domain", (int)cp, at);
    if (!is_digit((unsigned)cp))
      numeric = 0;
    label += i - at;
    if (label > 63)
      return fail(VC_EINVALID, what, in, "domain label longer than 63 "
                  "bytes");
  }
  if (labels < 2)
    return fail(VC_EINVALID, what, in, "domain needs at least one dot");
  if (numeric)
    return fail(VC_EINVALID, what, in, "top-level domain is numeric "
                "(write an IP address as [a.b.c.d])");
  return 0;
}

int vc__addr_email_ex(vc_buf *normalized, unsigned *flags,
                      const char *in)
{
  static const char what[] = "email address";
  char tmp[VC__ADDR_EMAIL_MAX + 1];
  unsigned fl = 0;
  size_t n, at, local_end = 0;
  const char *d;
  int rc;

  if ((rc = check_input(what, in, VC__ADDR_EMAIL_MAX, &n)) < 0)
    return rc;
  /* Anything that could end a header line or hide text goes first. */
  for (size_t i = 0; i < n;) {
    size_t p = i;
    long cp = utf8_next((const unsigned char *)in, n, &i);

    if (cp == '\r' || cp == '\n')
      return fail(VC_EINVALID, what, in, "CR or LF at byte %zu", p);
    if (cp < 0x20 || cp == 0x7f)
      return fail(VC_EINVALID, what, in, "control character at byte %zu",
                  p);
    if (bad_unicode((uint32_t)cp))
      return fail(VC_EINVALID, what, in, "invisible or separator "
                  "character at byte %zu", p);
  }
  if (in[0] == '"') {
    if ((rc = email_quoted(what, in, n, &local_end)) < 0)
      return rc;
    if (local_end >= n || in[local_end] != '@')
      return fail(VC_EINVALID, what, in, "quoted local part must be "
                  "followed by '@'");
    at = local_end;
    fl |= VC__EMAIL_QUOTED;
  } else {
    const char *p = memchr(in, '@', n);

    if (p == NULL)
      return fail(VC_EINVALID, what, in, "no '@'");
    at = (size_t)(p - in);
    if (at == 0)
      return fail(VC_EINVALID, what, in, "empty local part");
    if ((rc = email_dot_atom(what, in, at)) < 0)
      return rc;
  }
  if (at > VC__ADDR_EMAIL_LOCAL_MAX)
    return fail(VC_ETOOBIG, what, in, "local part longer than %d bytes",
                VC__ADDR_EMAIL_LOCAL_MAX);
  d = in + at + 1;
  if (at + 1 == n)
    return fail(VC_EINVALID, what, in, "empty domain");
  if (d[0] == '[') {
    if ((rc = email_literal(what, in, d, n - at - 1)) < 0)
      return rc;
    fl |= VC__EMAIL_LITERAL;
  } else if ((rc = email_domain(what, in, d, n - at - 1)) < 0) {
    return rc;
  }
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)in[i] >= 0x80)
      fl |= i < at ? VC__EMAIL_UTF8_LOCAL : VC__EMAIL_UTF8_DOMAIN;

  /* Domains are case-insensitive (RFC 5321 2.4); local parts are not.
   * Only ASCII is folded: Unicode folding is IDNA's business. */
  memcpy(tmp, in, n);
  tmp[n] = '\0';
  for (size_t i = at + 1; i < n; i++)
    if (tmp[i] >= 'A' && tmp[i] <= 'Z')
      tmp[i] = (char)(tmp[i] - 'A' + 'a');
  if (fl & VC__EMAIL_LITERAL)
    if (n - at - 1 > 6 && strncasecmp(tmp + at + 2, "ipv6:", 5) == 0)
      memcpy(tmp + at + 2, "IPv6:", 5);
  if (normalized != NULL) {
    vc_buf nb = VC_BUF_INIT;

    if ((rc = vc__buf_put(&nb, tmp, n)) < 0)
      return rc;
    vc_buf_dispose(normalized);
    *normalized = nb;
  }
  if (flags != NULL)
    *flags = fl;
  return 0;
}

int vc__addr_email(vc_buf *normalized, const char *in)
{
  return vc__addr_email_ex(normalized, NULL, in);
}

/* ---- chat ids --------------------------------------------------- */

int vc__addr_telegram(char out[VC__ADDR_TELEGRAM_MAX], const char *in)
{
  static const char what[] = "Telegram chat id";
  size_t n, i;
  int rc, neg;

  VC_ASSERT_ARG(out != NULL);
  if ((rc = check_input(what, in, VC__ADDR_INPUT_MAX, &n)) < 0)
    return rc;
  if (in[0] == '@') {
    if (n - 1 < 5 || n - 1 > 32)
      return fail(VC_EINVALID, what, in, "a username has 5 to 32 "
                  "characters");
    for (i = 1; i < n; i++) {
      unsigned c = (unsigned char)in[i];
      if (!is_alpha(c) && !is_digit(c) && c != '_')
        return fail(VC_EINVALID, what, in, "a username has only A-Z, "
                    "a-z, 0-9 and '_' (byte %zu)", i);
    }
    memcpy(out, in, n + 1);
    return 0;
  }
  neg = in[0] == '-';
  i = (size_t)neg;
  if (i == n)
    return fail(VC_EINVALID, what, in, "no digits");
  if (!is_digit((unsigned char)in[i]))
    return fail(VC_EINVALID, what, in, is_alpha((unsigned char)in[0])
                ? "a username must start with '@'"
                : "must be an integer or an @username");
  for (; i < n; i++)
    if (!is_digit((unsigned char)in[i]))
      return fail(VC_EINVALID, what, in, "must be an integer or an "
                  "@username (byte %zu)", i);
  if (in[neg] == '0')
    return fail(VC_EINVALID, what, in, n == (size_t)neg + 1
                ? "chat id 0 does not exist" : "leading zero");
  /* Fits a signed 64-bit integer: at most 19 digits, and at 19 digits
   * no more than 2^63 - 1 (or 2^63 when negative). Same length digit
   * strings compare like their values. */
  if (n - (size_t)neg > 19 ||
      (n - (size_t)neg == 19 &&
       strcmp(in + neg, neg ? "9223372036854775808"
                            : "9223372036854775807") > 0))
    return fail(VC_EINVALID, what, in, "out of the signed 64-bit range");
  memcpy(out, in, n + 1);
  return 0;
}

int vc__addr_whatsapp(char out[VC__ADDR_WHATSAPP_MAX], const char *in)
{
  static const char what[] = "WhatsApp recipient";
  size_t n, nd;
  const char *p;
  int rc;

  VC_ASSERT_ARG(out != NULL);
  if ((rc = check_input(what, in, VC__ADDR_INPUT_MAX, &n)) < 0)
    return rc;
  p = in[0] == '+' ? in + 1 : in;
  nd = n - (size_t)(p - in);
  for (size_t i = 0; i < nd; i++)
    if (!is_digit((unsigned char)p[i]))
      return fail(VC_EINVALID, what, in, "must be digits only, the "
                  "country code first (byte %zu)", (size_t)(p - in) + i);
  if (nd == 0)
    return fail(VC_EINVALID, what, in, "no digits");
  if (p[0] == '0')
    return fail(VC_EINVALID, what, in, "a country code never starts "
                "with 0");
  if (nd < 8 || nd > 15)
    return fail(VC_EINVALID, what, in, "%zu digits; a WhatsApp number "
                "has 8 to 15", nd);
  memcpy(out, p, nd + 1);
  return 0;
}
