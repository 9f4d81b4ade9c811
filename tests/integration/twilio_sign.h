/*
 * Twilio's webhook signature, for tests that play Twilio's side by hand:
 * HMAC-SHA1 under the auth token over the full URL and the form's
 * parameters sorted by name, each name followed by its value, base64.
 */
#ifndef VC_TEST_TWILIO_SIGN_H
#define VC_TEST_TWILIO_SIGN_H

#include "harness.h"

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int twilio_sign_cmp(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The signature of posting kv (n name/value pairs) to `url`. */
static inline void twilio_sign(char out[64], const char *token,
                               const char *url, const char *const *kv,
                               size_t n)
{
  const char *keys[32];
  char data[8192];
  unsigned char mac[20];
  size_t len, olen = 0;

  CHECK(n <= 32);
  for (size_t i = 0; i < n; i++)
    keys[i] = kv[2 * i];
  qsort(keys, n, sizeof(keys[0]), twilio_sign_cmp);
  len = (size_t)snprintf(data, sizeof(data), "%s", url);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      if (kv[2 * j] == keys[i])
        len += (size_t)snprintf(data + len, sizeof(data) - len, "%s%s",
                                kv[2 * j], kv[2 * j + 1]);
  CHECK(len < sizeof(data));
  CHECK(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1),
                        (const unsigned char *)token, strlen(token),
                        (const unsigned char *)data, len, mac) == 0);
  CHECK(mbedtls_base64_encode((unsigned char *)out, 64, &olen, mac, 20) ==
        0);
  out[olen] = '\0';
}

#endif
