/*
 * Unit tests of recipient address validation and normalisation
 * (src/msg/address.c): E.164 phone numbers (strict and lenient), email
 * addresses, Telegram chat ids, WhatsApp recipients, and the bounds on
 * what an error message may quote.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/text.h"
#include "msg/address.h"

#include "harness.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

typedef struct ok_case {
  const char *in;
  const char *want;  /* normalized form */
} ok_case;

typedef struct bad_case {
  const char *in;
  int code;
  const char *says;  /* a fragment the message must contain, or NULL */
} bad_case;

/* The last error is a one-line INVALID-class message with `says`. */
static void check_error(const char *in, int code, const char *says)
{
  const vc_error *e = vc_error_last();

  if (e->code != code || e->klass != VC_ERRCLASS_INVALID ||
      (says != NULL && strstr(e->message, says) == NULL))
    fprintf(stderr, "  input \"%s\": code %d class %d message \"%s\"\n",
            in ? in : "(null)", e->code, e->klass, e->message);
  CHECK(e->code == code);
  CHECK(e->klass == VC_ERRCLASS_INVALID);
  CHECK(says == NULL || strstr(e->message, says) != NULL);
  for (const char *p = e->message; *p; p++)
    CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
  CHECK(vc__utf8_valid(e->message, strlen(e->message)));
}

/* ------------------------------------------------------------------ */
/* Phone numbers                                                       */

static void test_address__phone_strict_ok(void)
{
  static const char *const ok[] = {
    "+14155552671", "+919876543210", "+442079460000", "+12",
    "+123456789012345", "+8613800138000", "+5511987654321",
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(ok); i++) {
    char out[VC__ADDR_PHONE_MAX];
    CHECK_OK(vc__addr_phone(out, ok[i], 0));
    CHECK_STR(out, ok[i]);
  }
}

static void test_address__phone_strict_bad(void)
{
  static const bad_case bad[] = {
    { "", VC_EINVALID, "empty" },
    { "14155552671", VC_EINVALID, "no country code" },
    { "4155552671", VC_EINVALID, "must start with '+'" },
    { "+", VC_EINVALID, "no digits" },
    { "+0123456", VC_EINVALID, "never starts with 0" },
    { "+1", VC_EINVALID, "too short" },
    { "+1234567890123456", VC_EINVALID, "16 digits" },
    { "+12345678901234567890", VC_EINVALID, "20 digits" },
    { "+1 415 555 2671", VC_EINVALID, "lenient" },
    { "+1-415-555-2671", VC_EINVALID, "lenient" },
    { "+1(415)5552671", VC_EINVALID, "lenient" },
    { " +14155552671", VC_EINVALID, "lenient" },
    { "00442079460000", VC_EINVALID, "starts with 00" },
    { "+1415555267a", VC_EINVALID, "letter at byte 11" },
    { "+1800FLOWERS", VC_EINVALID, "letter" },
    { "+1415+5552671", VC_EINVALID, "not at the start" },
    { "++14155552671", VC_EINVALID, "not at the start" },
    { "tel:+14155552671", VC_EINVALID, "letter" },
    { "+14155552671\n", VC_EINVALID, "invalid character" },
    { "+1415/5552671", VC_EINVALID, "invalid character at byte 5" },
    { "+1\xd9\xa4\xd9\xa1\xd9\xa5", VC_EINVALID, "non-ASCII" },
    { "+\xef\xbc\x91" "4155552671", VC_EINVALID, "non-ASCII" },
    { "+1415\xff", VC_EENCODING, "UTF-8" },
    { "+1415\xc3", VC_EENCODING, "UTF-8" },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    char out[VC__ADDR_PHONE_MAX] = "untouched";
    CHECK_RC(vc__addr_phone(out, bad[i].in, 0), bad[i].code);
    check_error(bad[i].in, bad[i].code, bad[i].says);
    CHECK_STR(out, "untouched");
  }
  {
    char out[VC__ADDR_PHONE_MAX];
    char big[80];

    CHECK_RC(vc__addr_phone(out, NULL, 0), VC_EINVALID);
    CHECK_RC(vc__addr_phone(NULL, "+14155552671", 0), VC_EINVALID);
    memset(big, '1', sizeof(big) - 1);
    big[0] = '+';
    big[sizeof(big) - 1] = '\0';
    CHECK_RC(vc__addr_phone(out, big, 0), VC_ETOOBIG);
    check_error(big, VC_ETOOBIG, "longer than 64 bytes");
    big[65] = '\0';
    CHECK_RC(vc__addr_phone(out, big, 0), VC_ETOOBIG);
    big[64] = '\0';   /* 64 bytes: parsed, then too many digits */
    CHECK_RC(vc__addr_phone(out, big, 0), VC_EINVALID);
  }
}

static void test_address__phone_lenient(void)
{
  static const ok_case ok[] = {
    { "+14155552671", "+14155552671" },
    { "+1 (415) 555-2671", "+14155552671" },
    { "+1.415.555.2671", "+14155552671" },
    { "+91 98765 43210", "+919876543210" },
    { "0044 20 7946 0000", "+442079460000" },
    { "00919876543210", "+919876543210" },
    { "(+44) 20 7946 0000", "+442079460000" },
    { "  +1 415 555 2671  ", "+14155552671" },
    { "+49 (30) 1234-5678", "+493012345678" },
    { "+1-(415)-555-2671", "+14155552671" },
  };
  static const bad_case bad[] = {
    { "415 555 2671", VC_EINVALID, "'+' or 00" },
    { "(415) 555-2671", VC_EINVALID, "no country code" },
    { "0 20 7946 0000", VC_EINVALID, "no country code" },
    { "+44 (0)20 7946 0000", VC_EINVALID, "trunk prefix" },
    { "1-800-FLOWERS", VC_EINVALID, "no country code" },
    { "+1-800-FLOWERS", VC_EINVALID, "letter" },
    { "+1 415 555 2671 ext 5", VC_EINVALID, "letter" },
    { "00", VC_EINVALID, "no digits" },
    { "000442079460000", VC_EINVALID, "never starts with 0" },
    { " - . ( ) ", VC_EINVALID, "no digits" },
    { "+1/415/555/2671", VC_EINVALID, "invalid character" },
    { "+1\t415", VC_EINVALID, "invalid character" },
    { "+1 415 555 2671 00000", VC_EINVALID, "16 digits" },
    { "+1 + 415", VC_EINVALID, "not at the start" },
    { "+1_415", VC_EINVALID, "invalid character" },
  };

  for (size_t i = 0; i < VC_ARRAY_SIZE(ok); i++) {
    char out[VC__ADDR_PHONE_MAX];
    CHECK_OK(vc__addr_phone(out, ok[i].in, 1));
    CHECK_STR(out, ok[i].want);
  }
  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    char out[VC__ADDR_PHONE_MAX];
    CHECK_RC(vc__addr_phone(out, bad[i].in, 1), bad[i].code);
    check_error(bad[i].in, bad[i].code, bad[i].says);
  }
}

/* ------------------------------------------------------------------ */
/* Email addresses                                                     */

/* n copies of c, NUL-terminated, in a static slot (8 slots). */
static const char *repeat(char c, size_t n)
{
  static char slots[8][300];
  static int next;
  char *p = slots[next++ % 8];

  CHECK(n < sizeof(slots[0]));
  memset(p, c, n);
  p[n] = '\0';
  return p;
}

static void test_address__email_ok(void)
{
  static const ok_case ok[] = {
    { "user@example.com", "user@example.com" },
    { "User.Name+tag@Example.COM", "User.Name+tag@example.com" },
    { "a@b.co", "a@b.co" },
    { "x!#$%&'*+-/=?^_`{|}~y@example.org",
      "x!#$%&'*+-/=?^_`{|}~y@example.org" },
    { "first.middle.last@sub.domain.example.co.uk",
      "first.middle.last@sub.domain.example.co.uk" },
    { "\"john doe\"@example.com", "\"john doe\"@example.com" },
    { "\"a@b\"@Example.com", "\"a@b\"@example.com" },
    { "\"quo\\\"ted\"@example.com", "\"quo\\\"ted\"@example.com" },
    { "\"back\\\\slash\"@example.com", "\"back\\\\slash\"@example.com" },
    { "\"..dots..\"@example.com", "\"..dots..\"@example.com" },
    { "user@[192.0.2.1]", "user@[192.0.2.1]" },
    { "user@[255.255.255.255]", "user@[255.255.255.255]" },
    { "user@[IPv6:2001:DB8::1]", "user@[IPv6:2001:db8::1]" },
    { "user@[ipv6:::1]", "user@[IPv6:::1]" },
    { "user@[IPv6:::ffff:192.0.2.1]", "user@[IPv6:::ffff:192.0.2.1]" },
    { "user@xn--bcher-kva.Example", "user@xn--bcher-kva.example" },
    { "user@sub-domain.example-1.com", "user@sub-domain.example-1.com" },
    { "a@1.2.3.com", "a@1.2.3.com" },
    { "a@example.c0m", "a@example.c0m" },
    { "CASE@EXAMPLE.COM", "CASE@example.com" },
    /* RFC 6531/6532: UTF-8 local parts and domains. */
    { "jos\xc3\xa9@B\xc3\xbc" "cher.DE", "jos\xc3\xa9@b\xc3\xbc" "cher.de" },
    { "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf"
      "\xe5\x91\x8a",
      "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf"
      "\xe5\x91\x8a" },
    { "\xe0\xa4\xb0\xe0\xa4\xbe\xe0\xa4\xae@\xe0\xa4\xad\xe0\xa4\xbe"
      "\xe0\xa4\xb0\xe0\xa4\xa4.in",
      "\xe0\xa4\xb0\xe0\xa4\xbe\xe0\xa4\xae@\xe0\xa4\xad\xe0\xa4\xbe"
      "\xe0\xa4\xb0\xe0\xa4\xa4.in" },
  };
  vc_buf b = VC_BUF_INIT;

  for (size_t i = 0; i < VC_ARRAY_SIZE(ok); i++) {
    CHECK_OK(vc__addr_email(&b, ok[i].in));
    CHECK_STR(b.ptr, ok[i].want);
    CHECK(b.size == strlen(ok[i].want));
    CHECK_OK(vc__addr_email(NULL, ok[i].in));
  }
  vc_buf_dispose(&b);
}

static void test_address__email_limits(void)
{
  char addr[300];
  vc_buf b = VC_BUF_INIT;

  /* Local part: 64 octets pass, 65 do not. */
  snprintf(addr, sizeof(addr), "%s@example.com", repeat('l', 64));
  CHECK_OK(vc__addr_email(&b, addr));
  snprintf(addr, sizeof(addr), "%s@example.com", repeat('l', 65));
  CHECK_RC(vc__addr_email(&b, addr), VC_ETOOBIG);
  check_error(addr, VC_ETOOBIG, "local part longer than 64");
  /* The quotes count in the local part. */
  snprintf(addr, sizeof(addr), "\"%s\"@example.com", repeat('q', 62));
  CHECK_OK(vc__addr_email(&b, addr));
  snprintf(addr, sizeof(addr), "\"%s\"@example.com", repeat('q', 63));
  CHECK_RC(vc__addr_email(&b, addr), VC_ETOOBIG);

  /* Labels: 63 octets pass, 64 do not. */
  snprintf(addr, sizeof(addr), "u@%s.com", repeat('d', 63));
  CHECK_OK(vc__addr_email(&b, addr));
  snprintf(addr, sizeof(addr), "u@%s.com", repeat('d', 64));
  CHECK_RC(vc__addr_email(&b, addr), VC_EINVALID);
  check_error(addr, VC_EINVALID, "label longer than 63");

  /* Whole address: 254 octets pass, 255 do not. (With a local part
   * of at least one octet this bounds the domain at 252, under the
   * 253 a host name may have.) */
  snprintf(addr, sizeof(addr), "u@%s.%s.%s.%s", repeat('a', 63),
           repeat('b', 63), repeat('c', 63), repeat('e', 60));
  CHECK(strlen(addr) == 254);
  CHECK_OK(vc__addr_email(&b, addr));
  CHECK(b.size == 254);
  snprintf(addr, sizeof(addr), "%s@%s.%s.%s.%s", repeat('u', 10),
           repeat('a', 63), repeat('b', 63), repeat('c', 63),
           repeat('e', 52));
  CHECK(strlen(addr) == 255);
  CHECK_RC(vc__addr_email(&b, addr), VC_ETOOBIG);
  check_error(addr, VC_ETOOBIG, "longer than 254 bytes");
  vc_buf_dispose(&b);
}

static void test_address__email_bad(void)
{
  static const bad_case bad[] = {
    { "", VC_EINVALID, "empty" },
    { "plainaddress", VC_EINVALID, "no '@'" },
    { "@example.com", VC_EINVALID, "empty local part" },
    { "user@", VC_EINVALID, "empty domain" },
    { "user@@example.com", VC_EINVALID, "more than one '@'" },
    { "a@b@example.com", VC_EINVALID, "more than one '@'" },
    { ".user@example.com", VC_EINVALID, "starts with a dot" },
    { "user.@example.com", VC_EINVALID, "ends with a dot" },
    { "us..er@example.com", VC_EINVALID, "two dots" },
    { "user name@example.com", VC_EINVALID, "space" },
    { "a\"b@example.com", VC_EINVALID, "quote" },
    { "user(comment)@example.com", VC_EINVALID, "'('" },
    { "Name <user@example.com>", VC_EINVALID, "space" },
    { "<user@example.com>", VC_EINVALID, "'<'" },
    { "user@example.com, other@example.com", VC_EINVALID, "','" },
    { "user@example.com;x@y.com", VC_EINVALID, "';'" },
    { "user@example", VC_EINVALID, "at least one dot" },
    { "user@localhost", VC_EINVALID, "at least one dot" },
    { "user@-example.com", VC_EINVALID, "starts with '-'" },
    { "user@example-.com", VC_EINVALID, "ends with '-'" },
    { "user@exa_mple.com", VC_EINVALID, "'_'" },
    { "user@example..com", VC_EINVALID, "empty domain label" },
    { "user@.example.com", VC_EINVALID, "empty domain label" },
    { "user@example.com.", VC_EINVALID, "ends with a dot" },
    { "user@1.2.3.4", VC_EINVALID, "numeric" },
    { "user@example.123", VC_EINVALID, "numeric" },
    { "user@exam ple.com", VC_EINVALID, "' '" },
    /* Header injection and invisible text. */
    { "user@example.com\r\nBcc: victim@example.org", VC_EINVALID,
      "CR or LF at byte 16" },
    { "user@example.com\nX-Evil: 1", VC_EINVALID, "CR or LF" },
    { "\"a\r\nb\"@example.com", VC_EINVALID, "CR or LF" },
    { "user\t@example.com", VC_EINVALID, "control character" },
    { "user\x7f@example.com", VC_EINVALID, "control character" },
    { "\"a\x01\"@example.com", VC_EINVALID, "control character" },
    { "user@exa\xe2\x80\xa8mple.com", VC_EINVALID, "separator" },
    { "user\xe2\x80\x8b@example.com", VC_EINVALID, "invisible" },
    { "user@example.com\xe2\x80\xae", VC_EINVALID, "invisible" },
    { "user\xc2\x85@example.com", VC_EINVALID, "invisible" },
    { "user\xc2\xa0@example.com", VC_EINVALID, "invisible" },
    { "\xef\xbb\xbfuser@example.com", VC_EINVALID, "invisible" },
    { "user@example\xe3\x80\x82" "com", VC_EINVALID, "look-alike" },
    { "user@example\xef\xbc\x8e" "com", VC_EINVALID, "look-alike" },
    /* Quoted strings. */
    { "\"unterminated@example.com", VC_EINVALID, "unterminated" },
    { "\"\"@example.com", VC_EINVALID, "empty local part" },
    { "\"a\"b@example.com", VC_EINVALID, "followed by '@'" },
    { "\"a\".b@example.com", VC_EINVALID, "followed by '@'" },
    { "\"a\\\xc3\xa9\"@example.com", VC_EINVALID, "backslash" },
    { "\"a\\", VC_EINVALID, "backslash" },
    /* Address literals. */
    { "user@[300.1.1.1]", VC_EINVALID, "address literal" },
    { "user@[1.2.3]", VC_EINVALID, "address literal" },
    { "user@[1.2.3.4.5]", VC_EINVALID, "address literal" },
    { "user@[01.2.3.4]", VC_EINVALID, "address literal" },
    { "user@[1.2.3.4", VC_EINVALID, "end with ']'" },
    { "user@[]", VC_EINVALID, "end with ']'" },
    { "user@[IPv6:zz::1]", VC_EINVALID, "IPv6" },
    { "user@[IPv6:1:2:3:4:5:6:7:8:9]", VC_EINVALID, "IPv6" },
    { "user@[IPv6:fe80::1%eth0]", VC_EINVALID, "IPv6" },
    { "user@[tag:content]", VC_EINVALID, "address literal" },
    { "user@[1.2.3.4].com", VC_EINVALID, "end with ']'" },
    /* Encoding. */
    { "us\xc3@example.com", VC_EENCODING, "not valid UTF-8" },
    { "user@ex\xff.com", VC_EENCODING, "not valid UTF-8" },
    { "user@\xed\xa0\x80.com", VC_EENCODING, "not valid UTF-8" },
  };
  vc_buf b = VC_BUF_INIT;

  CHECK_OK(vc__buf_puts(&b, "previous"));
  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    CHECK_RC(vc__addr_email(&b, bad[i].in), bad[i].code);
    check_error(bad[i].in, bad[i].code, bad[i].says);
    CHECK_STR(b.ptr, "previous");   /* untouched on failure */
  }
  CHECK_RC(vc__addr_email(&b, NULL), VC_EINVALID);
  vc_buf_dispose(&b);
}

static void test_address__email_flags(void)
{
  unsigned fl = 99;

  CHECK_OK(vc__addr_email_ex(NULL, &fl, "user@example.com"));
  CHECK(fl == 0);
  CHECK_OK(vc__addr_email_ex(NULL, &fl, "jos\xc3\xa9@example.com"));
  CHECK(fl == VC__EMAIL_UTF8_LOCAL);
  CHECK_OK(vc__addr_email_ex(NULL, &fl, "user@b\xc3\xbc" "cher.de"));
  CHECK(fl == VC__EMAIL_UTF8_DOMAIN);
  CHECK_OK(vc__addr_email_ex(NULL, &fl, "\"x y\"@[192.0.2.1]"));
  CHECK(fl == (VC__EMAIL_QUOTED | VC__EMAIL_LITERAL));
  CHECK_OK(vc__addr_email_ex(NULL, &fl, "\"\xc3\xa9\"@\xc3\xa9.fr"));
  CHECK(fl == (VC__EMAIL_QUOTED | VC__EMAIL_UTF8_LOCAL |
               VC__EMAIL_UTF8_DOMAIN));
  fl = 77;
  CHECK_RC(vc__addr_email_ex(NULL, &fl, "bad"), VC_EINVALID);
  CHECK(fl == 77);
}

/* Normalising twice gives the same address (idempotent). */
static void test_address__email_idempotent(void)
{
  static const char *const in[] = {
    "User@EXAMPLE.Com", "\"A B\"@Ex.Org", "u@[IPV6:ABCD::1]",
    "\303\211lise@\303\211cole.FR",
  };
  vc_buf a = VC_BUF_INIT, b = VC_BUF_INIT;

  for (size_t i = 0; i < VC_ARRAY_SIZE(in); i++) {
    CHECK_OK(vc__addr_email(&a, in[i]));
    CHECK_OK(vc__addr_email(&b, a.ptr));
    CHECK_STR(a.ptr, b.ptr);
  }
  /* Only ASCII letters of the domain are folded. */
  CHECK_STR(a.ptr, "\xc3\x89lise@\xc3\x89" "cole.fr");
  vc_buf_dispose(&a);
  vc_buf_dispose(&b);
}

/* ------------------------------------------------------------------ */
/* Chat ids                                                            */

static void test_address__telegram(void)
{
  static const char *const ok[] = {
    "-1001234567890", "123456789", "1", "-1", "@durov_bot", "@abcde",
    "@_____", "@12345", "@ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef",
    "9223372036854775807", "-9223372036854775808",
  };
  static const bad_case bad[] = {
    { "", VC_EINVALID, "empty" },
    { "0", VC_EINVALID, "does not exist" },
    { "-0", VC_EINVALID, "does not exist" },
    { "0123", VC_EINVALID, "leading zero" },
    { "-0123", VC_EINVALID, "leading zero" },
    { "+123", VC_EINVALID, "integer or an @username" },
    { "-", VC_EINVALID, "no digits" },
    { "--1", VC_EINVALID, "integer or an @username" },
    { "12a", VC_EINVALID, "byte 2" },
    { "1.5", VC_EINVALID, "byte 1" },
    { "1 2", VC_EINVALID, "byte 1" },
    { "9223372036854775808", VC_EINVALID, "64-bit" },
    { "-9223372036854775809", VC_EINVALID, "64-bit" },
    { "12345678901234567890", VC_EINVALID, "64-bit" },
    { "99999999999999999999999", VC_EINVALID, "64-bit" },
    { "durov", VC_EINVALID, "start with '@'" },
    { "@", VC_EINVALID, "5 to 32" },
    { "@abcd", VC_EINVALID, "5 to 32" },
    { "@ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg", VC_EINVALID, "5 to 32" },
    { "@user-name", VC_EINVALID, "byte 5" },
    { "@user name", VC_EINVALID, "byte 5" },
    { "@user\n", VC_EINVALID, "byte 5" },
    { "@\xc3\xa9" "abcde", VC_EINVALID, "byte 1" },
    { "@@abcde", VC_EINVALID, "byte 1" },
    { "@abc\xff" "de", VC_EENCODING, "UTF-8" },
  };
  char out[VC__ADDR_TELEGRAM_MAX];
  char big[80];

  for (size_t i = 0; i < VC_ARRAY_SIZE(ok); i++) {
    CHECK_OK(vc__addr_telegram(out, ok[i]));
    CHECK_STR(out, ok[i]);
  }
  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    strcpy(out, "untouched");
    CHECK_RC(vc__addr_telegram(out, bad[i].in), bad[i].code);
    check_error(bad[i].in, bad[i].code, bad[i].says);
    CHECK_STR(out, "untouched");
  }
  CHECK_RC(vc__addr_telegram(out, NULL), VC_EINVALID);
  CHECK_RC(vc__addr_telegram(NULL, "123"), VC_EINVALID);
  memset(big, '7', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  CHECK_RC(vc__addr_telegram(out, big), VC_ETOOBIG);
  check_error(big, VC_ETOOBIG, "longer than 64 bytes");
}

static void test_address__whatsapp(void)
{
  static const ok_case ok[] = {
    { "14155552671", "14155552671" },
    { "+14155552671", "14155552671" },
    { "919876543210", "919876543210" },
    { "12345678", "12345678" },
    { "123456789012345", "123456789012345" },
    { "+123456789012345", "123456789012345" },
  };
  static const bad_case bad[] = {
    { "", VC_EINVALID, "empty" },
    { "+", VC_EINVALID, "no digits" },
    { "1234567", VC_EINVALID, "7 digits" },
    { "+1234567", VC_EINVALID, "7 digits" },
    { "1234567890123456", VC_EINVALID, "16 digits" },
    { "014155552671", VC_EINVALID, "never starts with 0" },
    { "+014155552671", VC_EINVALID, "never starts with 0" },
    { "1 415 555 2671", VC_EINVALID, "byte 1" },
    { "1-415-555-2671", VC_EINVALID, "byte 1" },
    { "++14155552671", VC_EINVALID, "byte 1" },
    { "1415+5552671", VC_EINVALID, "byte 4" },
    { "whatsapp:+14155552671", VC_EINVALID, "digits only" },
    { "\xd9\xa1\xd9\xa4\xd9\xa1\xd9\xa5\xd9\xa5\xd9\xa5\xd9\xa5\xd9\xa5",
      VC_EINVALID, "digits only" },
    { "1415555\xff", VC_EENCODING, "UTF-8" },
  };
  char out[VC__ADDR_WHATSAPP_MAX];
  char big[80];

  for (size_t i = 0; i < VC_ARRAY_SIZE(ok); i++) {
    CHECK_OK(vc__addr_whatsapp(out, ok[i].in));
    CHECK_STR(out, ok[i].want);
  }
  for (size_t i = 0; i < VC_ARRAY_SIZE(bad); i++) {
    strcpy(out, "untouched");
    CHECK_RC(vc__addr_whatsapp(out, bad[i].in), bad[i].code);
    check_error(bad[i].in, bad[i].code, bad[i].says);
    CHECK_STR(out, "untouched");
  }
  CHECK_RC(vc__addr_whatsapp(out, NULL), VC_EINVALID);
  CHECK_RC(vc__addr_whatsapp(NULL, "14155552671"), VC_EINVALID);
  memset(big, '9', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  CHECK_RC(vc__addr_whatsapp(out, big), VC_ETOOBIG);
}

/* ------------------------------------------------------------------ */
/* What a message may quote                                            */

/* The message quotes at most the first 64 bytes of `in`: the bytes
 * after them ("MARKER...") never appear, and the message stays short,
 * one line, valid UTF-8. */
static void check_bounded(const char *in)
{
  const char *m = vc_error_last()->message;
  size_t xs = 0;

  CHECK(strstr(m, "MARKER") == NULL);
  CHECK(strlen(m) < 64 + 200);
  for (const char *p = m; *p; p++) {
    CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
    xs += *p == 'x';
  }
  CHECK(xs <= 64);
  CHECK(vc__utf8_valid(m, strlen(m)));
  (void)in;
}

static void test_address__message_bounds(void)
{
  char in[400], out[VC__ADDR_TELEGRAM_MAX];
  vc_buf b = VC_BUF_INIT;

  /* Too long for each kind. */
  memset(in, 'x', 64);
  strcpy(in + 64, "MARKER");
  CHECK(vc__addr_phone(out, in, 1) < 0);
  check_bounded(in);
  CHECK(vc__addr_telegram(out, in) < 0);
  check_bounded(in);
  CHECK(vc__addr_whatsapp(out, in) < 0);
  check_bounded(in);
  memset(in, 'x', 300);
  memcpy(in + 64, "MARKER", 6);
  in[300] = '\0';
  CHECK_RC(vc__addr_email(&b, in), VC_ETOOBIG);
  check_bounded(in);

  /* Invalid at a late byte, within the length limits. */
  snprintf(in, sizeof(in), "%sMARKER\r\n@example.com", repeat('x', 64));
  CHECK_RC(vc__addr_email(&b, in), VC_EINVALID);
  check_bounded(in);
  snprintf(in, sizeof(in), "%sMARKER@example.com", repeat('x', 64));
  CHECK_RC(vc__addr_email(&b, in), VC_ETOOBIG);
  check_bounded(in);
  snprintf(in, sizeof(in), "u@%s.MARKER.c_m", repeat('x', 62));
  CHECK_RC(vc__addr_email(&b, in), VC_EINVALID);
  check_bounded(in);

  /* A cut inside a UTF-8 character leaves no partial sequence. */
  snprintf(in, sizeof(in), "%s\xc3\xa9MARKER@example.com",
           repeat('x', 63));
  CHECK_RC(vc__addr_email(&b, in), VC_ETOOBIG);
  check_bounded(in);
  CHECK(strstr(vc_error_last()->message, "?...") != NULL);

  /* Controls and invisible characters are shown as '?'. */
  CHECK_RC(vc__addr_email(&b, "a\tb\xe2\x80\xae@example.com"),
           VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "\"a?b?@example.com\"") != NULL);
  CHECK_RC(vc__addr_phone(out, "+1\x1b[31m", 0), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "\"+1?[31m\"") != NULL);
  /* Valid UTF-8 is quoted as is. */
  CHECK_RC(vc__addr_email(&b, "jos\xc3\xa9"), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "\"jos\xc3\xa9\"") != NULL);
  vc_buf_dispose(&b);
}

VC_TESTS(
  VC_TEST(test_address__phone_strict_ok),
  VC_TEST(test_address__phone_strict_bad),
  VC_TEST(test_address__phone_lenient),
  VC_TEST(test_address__email_ok),
  VC_TEST(test_address__email_limits),
  VC_TEST(test_address__email_bad),
  VC_TEST(test_address__email_flags),
  VC_TEST(test_address__email_idempotent),
  VC_TEST(test_address__telegram),
  VC_TEST(test_address__whatsapp),
  VC_TEST(test_address__message_bounds),
)
