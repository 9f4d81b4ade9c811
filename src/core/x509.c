/*
 * RSA verification with an X.509 certificate's key (see x509.h).
 */
#include "common.h"
#include "crypto.h"
#include "x509.h"

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#define CERT_MAX (16 * 1024)
#define SIG_MAX 1024          /* an 8192-bit signature */

/* Days from 1970-01-01 to a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
  int64_t era, yoe, doy;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int64_t x509_time_ms(const mbedtls_x509_time *t)
{
  return (days_from_civil(t->year, t->mon, t->day) * 86400 +
          t->hour * 3600 + t->min * 60 + t->sec) * 1000;
}

/* Parse one certificate; PEM needs its NUL inside the length. */
static int parse(mbedtls_x509_crt *crt, const void *cert, size_t len)
{
  uint8_t *copy;
  int rc;

  if (cert == NULL || len == 0 || len > CERT_MAX)
    return vc__error_set(VC_ERRCLASS_CRYPTO, VC_EINVALID,
                         "certificate is empty or over %d bytes", CERT_MAX);
  if ((copy = vc__malloc(len + 1)) == NULL)
    return vc_error_set_oom();
  memcpy(copy, cert, len);
  copy[len] = '\0';
  rc = mbedtls_x509_crt_parse(crt, copy,
                              memchr(copy, '\0', len) == NULL ? len + 1
                                                              : len);
  vc__free(copy);
  /* One certificate only: a bundle would leave the key ambiguous. */
  if (rc != 0 || crt->next != NULL)
    return vc__error_set(VC_ERRCLASS_CRYPTO, VC_EINVALID,
                         "not one X.509 certificate");
  return 0;
}

int vc__x509_rsa_verify(const void *cert, size_t cert_len, int md,
                        const uint8_t *msg, size_t msg_len,
                        const uint8_t *sig, size_t sig_len, int64_t now_ms)
{
  mbedtls_x509_crt crt;
  mbedtls_md_type_t type;
  uint8_t hash[32];
  int rc;

  if (md == VC__MD_SHA1)
    type = MBEDTLS_MD_SHA1;
  else if (md == VC__MD_SHA256)
    type = MBEDTLS_MD_SHA256;
  else
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "RSA signatures are checked with SHA-1 or SHA-256");
  VC_ASSERT_ARG(msg != NULL || msg_len == 0);
  mbedtls_x509_crt_init(&crt);
  if ((rc = parse(&crt, cert, cert_len)) < 0)
    goto out;
  if (!mbedtls_pk_can_do(&crt.pk, MBEDTLS_PK_RSA) ||
      mbedtls_pk_get_type(&crt.pk) != MBEDTLS_PK_RSA) {
    rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_EINVALID,
                       "certificate key is not RSA");
    goto out;
  }
  if (mbedtls_pk_get_bitlen(&crt.pk) < VC__X509_RSA_MIN_BITS) {
    rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_EINVALID,
                       "certificate key has fewer than %d bits",
                       VC__X509_RSA_MIN_BITS);
    goto out;
  }
  if (now_ms != VC__X509_ANY_TIME) {
    if (now_ms < x509_time_ms(&crt.valid_from)) {
      rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_EAUTH,
                         "certificate is not valid yet");
      goto out;
    }
    /* notAfter is the last valid second. */
    if (now_ms >= x509_time_ms(&crt.valid_to) + 1000) {
      rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_EAUTH,
                         "certificate has expired");
      goto out;
    }
  }
  if (sig == NULL || sig_len == 0 || sig_len > SIG_MAX) {
    rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_EAUTH,
                       "signature is empty or too long");
    goto out;
  }
  if ((rc = vc__digest(hash, md, msg ? (const void *)msg : "", msg_len)) < 0)
    goto out;
  /* A wrong length, padding or digest all fail the same way. */
  if (mbedtls_pk_verify(&crt.pk, type, hash, vc__md_size(md), sig,
                        sig_len) != 0)
    rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_EAUTH,
                       "RSA signature does not verify");
out:
  mbedtls_x509_crt_free(&crt);
  return rc;
}
