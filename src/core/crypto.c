/*
 * AES-256-GCM, PBKDF2 and constant-time comparison. See crypto.h.
 */
#include "common.h"
#include "crypto.h"
#include "buf.h"
#include "random.h"

#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>

#define FORMAT 0x01
#define HEADER 5
#define NONCE 12
#define TAG 16

/* The header and the caller's associated data, as one AAD. */
static int make_aad(vc_buf *b, const uint8_t *header, const void *aad,
                    size_t aad_len)
{
  int rc = vc__buf_put(b, header, HEADER);

  if (rc == 0 && aad_len > 0)
    rc = vc__buf_put(b, aad, aad_len);
  return rc;
}

int vc__seal(vc_buf *out, const uint8_t key[VC__KEY_SIZE],
             uint32_t key_version, const void *aad, size_t aad_len,
             const void *pt, size_t pt_len)
{
  mbedtls_gcm_context gcm;
  vc_buf full_aad = VC_BUF_INIT;
  uint8_t header[HEADER], *dst;
  size_t start = out->size;
  int rc;

  header[0] = FORMAT;
  header[1] = (uint8_t)(key_version >> 24);
  header[2] = (uint8_t)(key_version >> 16);
  header[3] = (uint8_t)(key_version >> 8);
  header[4] = (uint8_t)key_version;
  if (pt_len > SIZE_MAX - VC__SEAL_OVERHEAD)
    return vc__error_set(VC_ERRCLASS_CRYPTO, VC_ETOOBIG, "too large");
  if ((rc = make_aad(&full_aad, header, aad, aad_len)) < 0 ||
      (rc = vc__buf_grow(out, VC__SEAL_OVERHEAD + pt_len)) < 0) {
    vc_buf_dispose(&full_aad);
    return rc;
  }
  dst = (uint8_t *)out->ptr + start;
  memcpy(dst, header, HEADER);
  if ((rc = vc__random_os(dst + HEADER, NONCE)) < 0) {
    vc_buf_dispose(&full_aad);
    return rc;
  }
  mbedtls_gcm_init(&gcm);
  if (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256) != 0 ||
      mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, pt_len,
                                dst + HEADER, NONCE,
                                (const uint8_t *)full_aad.ptr, full_aad.size,
                                pt, dst + HEADER + NONCE, TAG,
                                dst + HEADER + NONCE + pt_len) != 0)
    rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_ERROR, "AES-GCM failed");
  mbedtls_gcm_free(&gcm);
  vc_buf_dispose(&full_aad);
  if (rc < 0) {
    vc__wipe(dst, VC__SEAL_OVERHEAD + pt_len);
    return rc;
  }
  out->size = start + VC__SEAL_OVERHEAD + pt_len;
  out->ptr[out->size] = '\0';
  return 0;
}

int vc__sealed_key_version(uint32_t *out, const void *blob, size_t len)
{
  const uint8_t *b = blob;

  if (b == NULL || len < VC__SEAL_OVERHEAD || b[0] != FORMAT)
    return vc__error_set(VC_ERRCLASS_CRYPTO, VC_ECRYPTO,
                         "malformed ciphertext");
  *out = ((uint32_t)b[1] << 24) | ((uint32_t)b[2] << 16) |
         ((uint32_t)b[3] << 8) | b[4];
  return 0;
}

int vc__open(vc_buf *out, const uint8_t key[VC__KEY_SIZE], const void *aad,
             size_t aad_len, const void *blob, size_t blob_len)
{
  const uint8_t *b = blob;
  mbedtls_gcm_context gcm;
  vc_buf full_aad = VC_BUF_INIT;
  size_t start = out->size, ct_len;
  uint32_t kv;
  int rc;

  if ((rc = vc__sealed_key_version(&kv, blob, blob_len)) < 0)
    return rc;
  ct_len = blob_len - VC__SEAL_OVERHEAD;
  if ((rc = make_aad(&full_aad, b, aad, aad_len)) < 0 ||
      (rc = vc__buf_grow(out, ct_len)) < 0) {
    vc_buf_dispose(&full_aad);
    return rc;
  }
  mbedtls_gcm_init(&gcm);
  if (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256) != 0)
    rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_ERROR, "AES-GCM setkey");
  else if (mbedtls_gcm_auth_decrypt(&gcm, ct_len, b + HEADER, NONCE,
                                    (const uint8_t *)full_aad.ptr,
                                    full_aad.size, b + blob_len - TAG, TAG,
                                    b + HEADER + NONCE,
                                    (uint8_t *)out->ptr + start) != 0)
    rc = vc__error_set(VC_ERRCLASS_CRYPTO, VC_ECRYPTO,
                       "ciphertext does not authenticate: wrong key, "
                       "altered, or moved from another row");
  mbedtls_gcm_free(&gcm);
  vc_buf_dispose(&full_aad);
  if (rc < 0) {
    vc__wipe(out->ptr + start, ct_len);
    out->ptr[start] = '\0';
    return rc;
  }
  out->size = start + ct_len;
  out->ptr[out->size] = '\0';
  return 0;
}

int vc__pbkdf2_sha256(uint8_t out[VC__KEY_SIZE], const char *pass,
                      size_t pass_len, const uint8_t *salt, size_t salt_len,
                      uint32_t iterations)
{
  mbedtls_md_context_t md;
  int rc;

  mbedtls_md_init(&md);
  rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
  if (rc == 0)
    rc = mbedtls_pkcs5_pbkdf2_hmac(&md, (const uint8_t *)pass, pass_len,
                                   salt, salt_len, iterations, VC__KEY_SIZE,
                                   out);
  mbedtls_md_free(&md);
  if (rc != 0)
    return vc__error_set(VC_ERRCLASS_CRYPTO, VC_ERROR, "PBKDF2 failed");
  return 0;
}

int vc__ct_equal(const void *a, const void *b, size_t n)
{
  const volatile uint8_t *x = a, *y = b;
  uint8_t d = 0;

  for (size_t i = 0; i < n; i++)
    d |= x[i] ^ y[i];
  return d == 0;
}

static const mbedtls_md_info_t *md_info(int md)
{
  switch (md) {
  case VC__MD_MD5: return mbedtls_md_info_from_type(MBEDTLS_MD_MD5);
  case VC__MD_SHA1: return mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
  case VC__MD_SHA256: return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  case VC__MD_SHA512: return mbedtls_md_info_from_type(MBEDTLS_MD_SHA512);
  default: return NULL;
  }
}

size_t vc__md_size(int md)
{
  const mbedtls_md_info_t *info = md_info(md);

  return info ? mbedtls_md_get_size(info) : 0;
}

int vc__hmac(uint8_t *out, int md, const void *key, size_t key_len,
             const void *msg, size_t msg_len)
{
  const mbedtls_md_info_t *info = md_info(md);

  if (info == NULL ||
      mbedtls_md_hmac(info, key, key_len, msg, msg_len, out) != 0)
    return vc__error_set(VC_ERRCLASS_CRYPTO, VC_ERROR, "HMAC failed");
  return 0;
}

int vc__digest(uint8_t *out, int md, const void *data, size_t len)
{
  const mbedtls_md_info_t *info = md_info(md);

  if (info == NULL || mbedtls_md(info, data, len, out) != 0)
    return vc__error_set(VC_ERRCLASS_CRYPTO, VC_ERROR, "digest failed");
  return 0;
}
