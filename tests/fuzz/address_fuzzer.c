/*
 * Fuzz target for recipient address validation (src/msg/address.c).
 *
 * Input: the bytes up to the first NUL are one candidate address, given
 * to every validator (phone strict and lenient, email, Telegram,
 * WhatsApp). Beyond what ASan and UBSan catch, it aborts when an
 * invariant breaks: an accepted address must have its documented shape
 * and validate again to itself (normalisation is idempotent), strict
 * acceptance implies lenient acceptance; a rejection must leave the
 * output untouched and set one printable line of the INVALID class,
 * with a known code and a bounded length.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/address_fuzzer.c and -o address_fuzzer, then
 *   ./address_fuzzer tests/fuzz/corpus/address
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/text.h"
#include "msg/address.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char sentinel[] = "untouched";

static void check_failure(int rc)
{
  const vc_error *e = vc_error_last();
  size_t n = strlen(e->message);

  if ((rc != VC_EINVALID && rc != VC_ETOOBIG && rc != VC_EENCODING) ||
      e->code != rc || e->klass != VC_ERRCLASS_INVALID || n > 320 ||
      !vc__utf8_valid(e->message, n))
    abort();
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)e->message[i] < 0x20 || e->message[i] == 0x7f)
      abort();
}

static int all_digits(const char *s, size_t min, size_t max)
{
  size_t n = strlen(s);

  if (n < min || n > max || s[0] == '0')
    return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

static void fuzz_phone(const char *in)
{
  char strict[VC__ADDR_PHONE_MAX], lenient[VC__ADDR_PHONE_MAX];
  char again[VC__ADDR_PHONE_MAX];
  int rs, rl;

  memcpy(strict, sentinel, sizeof(sentinel));
  memcpy(lenient, sentinel, sizeof(sentinel));
  rs = vc__addr_phone(strict, in, 0);
  if (rs != 0) {
    check_failure(rs);
    if (strcmp(strict, sentinel) != 0)
      abort();
  }
  rl = vc__addr_phone(lenient, in, 1);
  if (rl != 0) {
    check_failure(rl);
    if (strcmp(lenient, sentinel) != 0 || rs == 0)
      abort();
    return;
  }
  if (lenient[0] != '+' || !all_digits(lenient + 1, 2, 15))
    abort();
  if (rs == 0 && strcmp(strict, lenient) != 0)
    abort();
  if (vc__addr_phone(again, lenient, 0) != 0 ||
      strcmp(again, lenient) != 0)
    abort();
}

static void fuzz_email(const char *in)
{
  vc_buf out = VC_BUF_INIT, again = VC_BUF_INIT;
  unsigned fl = 0, fl2 = 0;
  int rc;

  if (vc__buf_puts(&out, sentinel) != 0)
    return;
  rc = vc__addr_email_ex(&out, &fl, in);
  if (rc != 0) {
    check_failure(rc);
    if (strcmp(out.ptr, sentinel) != 0)
      abort();
    goto done;
  }
  if (out.size == 0 || out.size > VC__ADDR_EMAIL_MAX ||
      out.size != strlen(in) || strchr(out.ptr, '@') == NULL)
    abort();
  for (size_t i = 0; i < out.size; i++)
    if ((unsigned char)out.ptr[i] < 0x20 || out.ptr[i] == 0x7f)
      abort();
  if (vc__addr_email_ex(&again, &fl2, out.ptr) != 0 ||
      strcmp(again.ptr, out.ptr) != 0 || fl2 != fl)
    abort();
done:
  vc_buf_dispose(&out);
  vc_buf_dispose(&again);
}

static void fuzz_telegram(const char *in)
{
  char out[VC__ADDR_TELEGRAM_MAX];
  int rc;

  memcpy(out, sentinel, sizeof(sentinel));
  rc = vc__addr_telegram(out, in);
  if (rc != 0) {
    check_failure(rc);
    if (strcmp(out, sentinel) != 0)
      abort();
    return;
  }
  if (strcmp(out, in) != 0)
    abort();
  if (out[0] == '@') {
    if (strlen(out) < 6 || strlen(out) > 33)
      abort();
  } else if (!all_digits(out + (out[0] == '-'), 1, 19)) {
    abort();
  }
}

static void fuzz_whatsapp(const char *in)
{
  char out[VC__ADDR_WHATSAPP_MAX], again[VC__ADDR_WHATSAPP_MAX];
  int rc;

  memcpy(out, sentinel, sizeof(sentinel));
  rc = vc__addr_whatsapp(out, in);
  if (rc != 0) {
    check_failure(rc);
    if (strcmp(out, sentinel) != 0)
      abort();
    return;
  }
  if (!all_digits(out, 8, 15) ||
      vc__addr_whatsapp(again, out) != 0 || strcmp(again, out) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* Exact-size copy plus NUL: ASan catches reads past the string. */
  char *in = malloc(size + 1);

  if (in == NULL)
    return 0;
  if (size > 0)
    memcpy(in, data, size);
  in[size] = '\0';
  fuzz_phone(in);
  fuzz_email(in);
  fuzz_telegram(in);
  fuzz_whatsapp(in);
  free(in);
  return 0;
}
