/*
 * Internals of the Vonage SMS adapter (vonage.c) that tests reach.
 */
#ifndef VC_ADAPTERS_SMS_VONAGE_H
#define VC_ADAPTERS_SMS_VONAGE_H

#include "core/codec.h"
#include "vyomcomm/sys/adapter.h"

/* How a channel's webhooks are signed (config "signature_method"). */
enum {
  VC__VONAGE_SIG_NONE = 0,     /* no signature secret: no webhooks */
  VC__VONAGE_MD5HASH = 1,      /* hex MD5(signed string + secret) */
  VC__VONAGE_MD5HMAC = 2,      /* hex HMAC-<alg>(secret, signed string) */
  VC__VONAGE_SHA1HMAC = 3,
  VC__VONAGE_SHA256HMAC = 4,
  VC__VONAGE_SHA512HMAC = 5,
  VC__VONAGE_JWT = 6           /* Bearer JWT, HS256, payload_hash */
};

/* The longest `sig`: hex of a SHA-512 HMAC, and its NUL. */
#define VC__VONAGE_SIG_MAX 129

/*
 * The `sig` of `params` (any `sig` among them is skipped) under `secret`
 * with `method` (MD5HASH..SHA512HMAC), as lowercase hex into `out`. The
 * signed string is "&name=value" per parameter, names in byte order;
 * inside values '&' and '=' become '_': in every value when
 * `all_values`, else in `text` only (providers.md 0a.2). 0, VC_EINVALID
 * (a bad method) or VC_ENOMEM.
 */
int vc__vonage_sig(char out[VC__VONAGE_SIG_MAX], int method,
                   const char *secret, size_t secret_len,
                   const vc__form *params, int all_values);

/* What verify_webhook does, at the Unix time `now_ms`: 0, VC_EAUTH,
 * VC_ETOOBIG, VC_EINVALID or VC_EENCODING. */
int vc__vonage_verify(const void *state, const vc_http_request *req,
                      int64_t now_ms);

#endif
