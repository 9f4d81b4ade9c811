/*
 * Validation of strings that come from outside: UTF-8, length, shape.
 * Each check sets a message naming the field and returns a code.
 */
#ifndef VC_CORE_TEXT_H
#define VC_CORE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
int vc__utf8_valid(const char *s, size_t n);

/* Decode the UTF-8 sequence at s[0] (at most `left` bytes, at least 1)
 * into *cp: its length, 1 to 4, or 0 when it is not a valid one (a stray
 * or overlong byte, a surrogate, past U+10FFFF, a sequence cut short). */
size_t vc__utf8_decode(const char *s, size_t left, uint32_t *cp);

/*
 * Check a text field: VC_EINVALID when NULL or empty (if required),
 * VC_ETOOBIG past `max` bytes, VC_EENCODING when not UTF-8, else 0.
 * A NULL optional field passes.
 */
int vc__check_text(const char *field, const char *s, size_t max,
                   int required);

/*
 * Check `s` against a simple shape: its length within [1, max], every
 * byte in `allowed` (a set of characters, with "a-z" style ranges), and
 * the first byte in `first` when non-NULL.
 */
int vc__check_token(const char *field, const char *s, size_t max,
                    const char *first, const char *allowed);

/* 1 when s is neither NULL nor empty. */
int vc__present(const char *s);

/* ASCII character classes (no locale), for checks of provider fields. */
int vc__is_digit(int c);
int vc__is_alpha(int c);
int vc__is_alnum(int c);
int vc__is_hex(int c);

/* 1 when every one of the n bytes of s is accepted by `pred`. */
int vc__all_of(const char *s, size_t n, int (*pred)(int));

/*
 * Copy `len` bytes of provider text into a fixed field as one clean
 * line: at most cap-1 bytes, cut between characters, controls as
 * spaces, bytes outside valid UTF-8 as '?'. Returns the bytes written.
 */
size_t vc__copy_line(char *dst, size_t cap, const char *s, size_t len);

#endif
