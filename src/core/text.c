/*
 * String validation. See text.h.
 */
#include "common.h"
#include "text.h"

size_t vc__utf8_decode(const char *str, size_t left, uint32_t *out)
{
  const unsigned char *s = (const unsigned char *)str;
  unsigned c = s[0];
  size_t len;
  uint32_t cp, min;

  if (c < 0x80) {
    *out = c;
    return 1;
  }
  if ((c & 0xe0) == 0xc0) {
    len = 2; cp = c & 0x1f; min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3; cp = c & 0x0f; min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4; cp = c & 0x07; min = 0x10000;
  } else {
    return 0;
  }
  if (left < len)
    return 0;
  for (size_t k = 1; k < len; k++) {
    if ((s[k] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[k] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  *out = cp;
  return len;
}

int vc__utf8_valid(const char *str, size_t n)
{
  size_t i = 0, len;
  uint32_t cp;

  while (i < n) {
    if ((len = vc__utf8_decode(str + i, n - i, &cp)) == 0)
      return 0;
    i += len;
  }
  return 1;
}

int vc__check_text(const char *field, const char *s, size_t max,
                   int required)
{
  size_t n;

  if (s == NULL || s[0] == '\0') {
    if (!required)
      return 0;
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is required", field);
  }
  n = strnlen(s, max + 1);
  if (n > max)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "%s is longer than %zu bytes", field, max);
  if (!vc__utf8_valid(s, n))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EENCODING,
                         "%s is not valid UTF-8", field);
  return 0;
}

static int in_set(const char *set, unsigned char c)
{
  for (const char *p = set; *p; p++) {
    if (p[1] == '-' && p[2] != '\0') {
      if (c >= (unsigned char)p[0] && c <= (unsigned char)p[2])
        return 1;
      p += 2;
    } else if ((unsigned char)*p == c) {
      return 1;
    }
  }
  return 0;
}

int vc__check_token(const char *field, const char *s, size_t max,
                    const char *first, const char *allowed)
{
  size_t n;

  if (s == NULL || s[0] == '\0')
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is required", field);
  n = strnlen(s, max + 1);
  if (n > max)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "%s is longer than %zu bytes", field, max);
  if (first != NULL && !in_set(first, (unsigned char)s[0]))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s has an invalid first character", field);
  for (size_t i = 0; i < n; i++)
    if (!in_set(allowed, (unsigned char)s[i]))
      return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "%s has an invalid character at byte %zu",
                           field, i);
  return 0;
}

int vc__present(const char *s)
{
  return s != NULL && s[0] != '\0';
}

int vc__is_digit(int c) { return c >= '0' && c <= '9'; }

int vc__is_alpha(int c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int vc__is_alnum(int c) { return vc__is_alpha(c) || vc__is_digit(c); }

int vc__is_hex(int c)
{
  return vc__is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int vc__all_of(const char *s, size_t n, int (*pred)(int))
{
  for (size_t i = 0; i < n; i++)
    if (!pred((unsigned char)s[i]))
      return 0;
  return 1;
}

size_t vc__copy_line(char *dst, size_t cap, const char *s, size_t len)
{
  size_t n = 0, i = 0;

  if (cap == 0)
    return 0;
  while (i < len && n + 1 < cap) {
    unsigned char c = (unsigned char)s[i];
    size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (c < 0x80 || k > len - i || !vc__utf8_valid(s + i, k)) {
      dst[n++] = c < 0x20 || c == 0x7f ? ' ' : c >= 0x80 ? '?' : (char)c;
      i++;
      continue;
    }
    if (n + k + 1 > cap)  /* a whole character or none */
      break;
    memcpy(dst + n, s + i, k);
    n += k;
    i += k;
  }
  dst[n] = '\0';
  return n;
}
