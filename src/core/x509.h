/*
 * RSA signature verification with the public key of an X.509
 * certificate, over mbedTLS: for webhooks signed by a key whose
 * certificate the provider publishes (AWS SNS, SigningCertURL).
 *
 * The certificate is parsed on every call (cheap next to a network
 * fetch), so nothing parsed is shared between threads. Its chain is not
 * checked: the caller trusts the certificate because of where it came
 * from (an https URL on the provider's own host).
 */
#ifndef VC_CORE_X509_H
#define VC_CORE_X509_H

#include <stddef.h>
#include <stdint.h>

/* now_ms value that skips the validity-period check (tests of expired
 * published vectors). */
#define VC__X509_ANY_TIME INT64_MIN
/* Smallest RSA modulus accepted. */
#define VC__X509_RSA_MIN_BITS 2048

/*
 * Verify an RSASSA-PKCS1-v1_5 signature `sig` of `msg` hashed with `md`
 * (VC__MD_SHA1 or VC__MD_SHA256) under the RSA key of `cert`, one PEM
 * or DER certificate of at most 16 KB. The certificate must be valid at
 * `now_ms` (Unix ms) unless that is VC__X509_ANY_TIME.
 *
 * 0 when it verifies; VC_EAUTH when the signature does not verify or
 * the certificate is expired or not yet valid; VC_EINVALID when `cert`
 * is not a certificate, its key is not RSA or is shorter than
 * VC__X509_RSA_MIN_BITS, or `md` is not one of the two.
 */
int vc__x509_rsa_verify(const void *cert, size_t cert_len, int md,
                        const uint8_t *msg, size_t msg_len,
                        const uint8_t *sig, size_t sig_len, int64_t now_ms);

#endif
