/*
 * Telegram adapter internals shared with its unit tests.
 */
#ifndef VC_ADAPTERS_CHAT_TELEGRAM_H
#define VC_ADAPTERS_CHAT_TELEGRAM_H

#include <stddef.h>

/* The Bot API's limit on a message's text, in characters (code points,
 * after entity parsing). */
#define VC__TELEGRAM_TEXT_MAX 4096

/*
 * Split text (valid UTF-8, `len` bytes) into parts of at most `limit`
 * characters: at the last blank line, else line break, else space or
 * tab found in the second half of the part, else after `limit`
 * characters; never inside a UTF-8 sequence. Whitespace around a cut,
 * and at the start and end of the text, is dropped (Telegram trims it
 * too). Writes part i's byte range to [start[i], end[i]) for the first
 * `max` parts and returns how many parts there are (0 for a blank
 * text); `start` and `end` may be NULL to count only.
 */
size_t vc__telegram_split(const char *text, size_t len, size_t limit,
                          size_t *start, size_t *end, size_t max);

#endif
