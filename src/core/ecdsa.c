/*
 * ECDSA P-256 / SHA-256 verification (see ecdsa.h).
 */
#include "common.h"
#include "crypto.h"
#include "ecdsa.h"

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>

/* An SPKI for P-256 is 91 bytes; anything much longer is not one. */
#define KEY_MAX 512
/* A DER P-256 signature is at most 72 bytes. */
#define SIG_MAX 160

static int load_key(mbedtls_pk_context *pk, const uint8_t *der, size_t len)
{
  const mbedtls_ecp_keypair *ec;

  if (der == NULL || len == 0 || len > KEY_MAX ||
      mbedtls_pk_parse_public_key(pk, der, len) != 0)
    return vc__error_set(VC_ERRCLASS_CRYPTO, VC_EINVALID,
                         "public key is not a DER SubjectPublicKeyInfo");
  /* ECKEY only: id-ecDH keys are not for signatures. */
  if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY ||
      (ec = mbedtls_pk_ec(*pk)) == NULL ||
      ec->grp.id != MBEDTLS_ECP_DP_SECP256R1)
    return vc__error_set(VC_ERRCLASS_CRYPTO, VC_EINVALID,
                         "public key is not an EC P-256 key");
  return 0;
}

int vc__ecdsa_p256_check_key(const uint8_t *spki_der, size_t spki_len)
{
  mbedtls_pk_context pk;
  int rc;

  mbedtls_pk_init(&pk);
  rc = load_key(&pk, spki_der, spki_len);
  mbedtls_pk_free(&pk);
  return rc;
}

int vc__ecdsa_p256_verify(const uint8_t *spki_der, size_t spki_len,
                          const uint8_t *msg, size_t msg_len,
                          const uint8_t *sig_der, size_t sig_len)
{
  mbedtls_pk_context pk;
  uint8_t hash[32];
  int rc;

  mbedtls_pk_init(&pk);
  if ((rc = load_key(&pk, spki_der, spki_len)) < 0)
    goto out;
  if (msg == NULL && msg_len > 0) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "invalid argument: 'msg'");
    goto out;
  }
  if (sig_der == NULL || sig_len == 0 || sig_len > SIG_MAX) {
    rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_EAUTH,
                       "signature is not a DER ECDSA signature");
    goto out;
  }
  if ((rc = vc__digest(hash, VC__MD_SHA256, msg ? (const void *)msg : "",
                       msg_len)) < 0)
    goto out;
  /* Any failure is a bad signature: wrong key or message, malformed
   * DER, or trailing bytes (MBEDTLS_ERR_PK_SIG_LEN_MISMATCH). */
  if (mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, sizeof(hash),
                        sig_der, sig_len) != 0)
    rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_EAUTH,
                       "signature does not verify");
out:
  mbedtls_pk_free(&pk);
  return rc;
}
