/*
 * Validation and normalisation of recipient addresses: E.164 phone
 * numbers, email addresses, Telegram chat ids, WhatsApp recipients.
 *
 * Pure functions: no I/O, no lookups, no guessing (a number without a
 * country code is rejected, never completed). Each returns 0, or
 * VC_EINVALID / VC_ETOOBIG / VC_EENCODING with a one-line message of
 * class VC_ERRCLASS_INVALID saying what is wrong. A message quotes at
 * most the first 64 bytes of the input, with control characters shown
 * as '?'. Outputs are written only on success.
 */
#ifndef VC_MSG_ADDRESS_H
#define VC_MSG_ADDRESS_H

#include <stddef.h>

#include "vyomcomm/buffer.h"

/* Output sizes, NUL included. */
#define VC__ADDR_PHONE_MAX 17    /* '+' and 15 digits */
#define VC__ADDR_TELEGRAM_MAX 34 /* '@' and 32, or '-' and 19 digits */
#define VC__ADDR_WHATSAPP_MAX 16 /* 15 digits */

/* Longer phone, Telegram and WhatsApp inputs are VC_ETOOBIG. */
#define VC__ADDR_INPUT_MAX 64
#define VC__ADDR_EMAIL_MAX 254   /* RFC 5321 4.5.3.1.3, without <> */
#define VC__ADDR_EMAIL_LOCAL_MAX 64
#define VC__ADDR_EMAIL_DOMAIN_MAX 253

/*
 * E.164: '+', then 2..15 digits, the first 1-9. Strict mode takes
 * exactly that. `lenient` also removes spaces, hyphens, dots and
 * parentheses, and turns a leading "00" into '+'. Writes "+digits".
 */
int vc__addr_phone(char out[VC__ADDR_PHONE_MAX], const char *in,
                   int lenient);

/* Flags reported by vc__addr_email_ex. */
#define VC__EMAIL_UTF8_LOCAL 0x1u  /* non-ASCII local part: SMTPUTF8 */
#define VC__EMAIL_UTF8_DOMAIN 0x2u /* U-labels: SMTPUTF8 or IDNA */
#define VC__EMAIL_QUOTED 0x4u      /* quoted-string local part */
#define VC__EMAIL_LITERAL 0x8u     /* [address literal] domain */

/*
 * An email address (addr-spec, a practical RFC 5321/5322 subset with
 * RFC 6531/6532 UTF-8):
 * - local part <= 64 octets: a dot-atom (atext and non-ASCII UTF-8, no
 *   leading, trailing or double dot) or a quoted string (printable
 *   ASCII, UTF-8, backslash pairs);
 * - domain <= 253 octets: LDH labels of 1..63 octets (non-ASCII
 *   U-labels allowed), at least two labels, not all-numeric at the top;
 *   or [IPv4] / [IPv6:...];
 * - whole <= 254 octets. Controls, CR, LF, spaces outside quotes,
 *   and Unicode line separators / format characters are rejected.
 * On success the buffer's contents are replaced by the address with
 * the ASCII letters of its domain lowercased (the local part keeps its
 * case). `normalized` and `flags` may be NULL.
 */
int vc__addr_email_ex(vc_buf *normalized, unsigned *flags,
                      const char *in);
int vc__addr_email(vc_buf *normalized, const char *in);

/*
 * A Telegram chat_id: a nonzero signed 64-bit integer in decimal
 * (e.g. -1001234567890), or '@' and 5..32 of [A-Za-z0-9_]. Written
 * unchanged (no leading zeros or '+' accepted, so it is canonical).
 */
int vc__addr_telegram(char out[VC__ADDR_TELEGRAM_MAX], const char *in);

/*
 * A WhatsApp Cloud API `to`: E.164 digits without '+', 8..15 digits,
 * the first 1-9. A leading '+' is accepted and dropped.
 */
int vc__addr_whatsapp(char out[VC__ADDR_WHATSAPP_MAX], const char *in);

#endif /* VC_MSG_ADDRESS_H */
