/*
 * ECDSA P-256 / SHA-256 signature verification over mbedTLS, for
 * webhooks signed with an elliptic-curve key (SendGrid's Event Webhook).
 *
 * Keys are DER SubjectPublicKeyInfo bytes; signatures are DER
 * ECDSA-Sig-Value (SEQUENCE of r and s). The key is parsed on every
 * call: mbedTLS caches point tables inside a parsed key's group, so a
 * parsed key shared between threads would be written concurrently.
 */
#ifndef VC_CORE_ECDSA_H
#define VC_CORE_ECDSA_H

#include <stddef.h>
#include <stdint.h>

/* 0 when spki_der is a well-formed P-256 public key, else VC_EINVALID. */
int vc__ecdsa_p256_check_key(const uint8_t *spki_der, size_t spki_len);

/*
 * Verify sig_der over sha256(msg) with the key. 0 when valid,
 * VC_EAUTH when the signature is malformed or does not verify,
 * VC_EINVALID when the key is not a P-256 public key.
 */
int vc__ecdsa_p256_verify(const uint8_t *spki_der, size_t spki_len,
                          const uint8_t *msg, size_t msg_len,
                          const uint8_t *sig_der, size_t sig_len);

#endif
