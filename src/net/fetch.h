/*
 * Documents a webhook's verification needs (signing certificates,
 * subscription confirmations), fetched with GET and kept per context.
 */
#ifndef VC_NET_FETCH_H
#define VC_NET_FETCH_H

#include "core/common.h"

/* At most this many URLs are kept, each for a day. */
#define VC__FETCH_CACHE_SLOTS 32
#define VC__FETCH_CACHE_MS (24LL * 3600 * 1000)
#define VC__FETCH_TIMEOUT_MS 10000

typedef struct vc__fetch_cache vc__fetch_cache;

int vc__fetch_cache_new(vc__fetch_cache **out);
void vc__fetch_cache_free(vc__fetch_cache *cache);

/* GET `url` into `out` (see vc_webhook_env_fetch for the rules). */
int vc__fetch(vc_ctx *ctx, const char *url, size_t max_bytes,
              unsigned int flags, vc_buf *out);

/* What verify_webhook is given. `ctx` is NULL in unit tests, where
 * fetching is refused. */
struct vc_webhook_env {
  vc_ctx *ctx;
  const char *url;
  int64_t now_ms;
};

/* An environment for an adapter test: a URL and a clock, no context. */
#define VC__WEBHOOK_ENV(url, now) (&(vc_webhook_env){ NULL, (url), (now) })

#endif
