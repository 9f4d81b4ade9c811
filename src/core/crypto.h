/*
 * Symmetric crypto primitives over mbedTLS: AES-256-GCM sealing with a
 * self-describing header, PBKDF2-HMAC-SHA256, constant-time comparison.
 *
 * A sealed blob is:  0x01 | key_version (4 bytes, big-endian) |
 *                    nonce (12) | ciphertext | tag (16)
 * The first five bytes are authenticated with the caller's associated
 * data, so the key version cannot be altered either.
 */
#ifndef VC_CORE_CRYPTO_H
#define VC_CORE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "vyomcomm/buffer.h"

#define VC__KEY_SIZE 32
#define VC__SEAL_OVERHEAD (1 + 4 + 12 + 16)

/* Encrypt `pt` into `out` (appended). 0 or a negative code. */
int vc__seal(vc_buf *out, const uint8_t key[VC__KEY_SIZE],
             uint32_t key_version, const void *aad, size_t aad_len,
             const void *pt, size_t pt_len);

/*
 * Decrypt a sealed blob into `out` (appended). VC_ECRYPTO when the blob
 * is malformed, was made under another key or associated data, or was
 * altered.
 */
int vc__open(vc_buf *out, const uint8_t key[VC__KEY_SIZE], const void *aad,
             size_t aad_len, const void *blob, size_t blob_len);

/* The key version in a sealed blob's header. VC_ECRYPTO if malformed. */
int vc__sealed_key_version(uint32_t *out, const void *blob, size_t len);

int vc__pbkdf2_sha256(uint8_t out[VC__KEY_SIZE], const char *pass,
                      size_t pass_len, const uint8_t *salt, size_t salt_len,
                      uint32_t iterations);

/* Message digests for HMACs and hashes. */
typedef enum vc__md {
  VC__MD_MD5 = 1,
  VC__MD_SHA1 = 2,
  VC__MD_SHA256 = 3,
  VC__MD_SHA512 = 4
} vc__md;

/* The digest size of `md` in bytes (at most 64). */
size_t vc__md_size(int md);
/* HMAC of msg under key; `out` holds vc__md_size(md) bytes. */
int vc__hmac(uint8_t *out, int md, const void *key, size_t key_len,
             const void *msg, size_t msg_len);
/* Plain digest of data; `out` holds vc__md_size(md) bytes. */
int vc__digest(uint8_t *out, int md, const void *data, size_t len);

/* 1 when equal; time depends only on `n`. */
int vc__ct_equal(const void *a, const void *b, size_t n);

#endif
