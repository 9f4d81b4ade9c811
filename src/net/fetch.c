/*
 * vc_webhook_env_fetch: a blocking GET on a transport of its own (the
 * same address rules as sends), with a small cache so that a signing
 * certificate is fetched once rather than for every webhook.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "core/text.h"
#include "fetch.h"
#include "transport.h"

#include <pthread.h>
#include <strings.h>

#define URL_MAX 2048

typedef struct slot {
  char *url;
  vc_buf body;
  int64_t fetched_at;
} slot;

struct vc__fetch_cache {
  pthread_mutex_t lock;
  slot slots[VC__FETCH_CACHE_SLOTS];
};

int vc__fetch_cache_new(vc__fetch_cache **out)
{
  vc__fetch_cache *c = vc__calloc(1, sizeof(*c));

  if (c == NULL)
    return vc_error_set_oom();
  pthread_mutex_init(&c->lock, NULL);
  *out = c;
  return 0;
}

static void slot_clear(slot *s)
{
  vc__free(s->url);
  vc_buf_dispose(&s->body);
  memset(s, 0, sizeof(*s));
}

void vc__fetch_cache_free(vc__fetch_cache *c)
{
  if (c == NULL)
    return;
  for (size_t i = 0; i < VC__FETCH_CACHE_SLOTS; i++)
    slot_clear(&c->slots[i]);
  pthread_mutex_destroy(&c->lock);
  vc__free(c);
}

/* A fresh cached body for `url` copied into `out`: 1, else 0. */
static int cache_get(vc__fetch_cache *c, const char *url, size_t max,
                     int64_t now, vc_buf *out, int *rc)
{
  int hit = 0;

  pthread_mutex_lock(&c->lock);
  for (size_t i = 0; i < VC__FETCH_CACHE_SLOTS && !hit; i++) {
    slot *s = &c->slots[i];
    if (s->url == NULL || strcmp(s->url, url) != 0)
      continue;
    if (now - s->fetched_at >= VC__FETCH_CACHE_MS || now < s->fetched_at ||
        s->body.size > max) {
      slot_clear(s);
      break;
    }
    out->size = 0;
    *rc = vc__buf_put(out, s->body.ptr ? s->body.ptr : "", s->body.size);
    hit = 1;
  }
  pthread_mutex_unlock(&c->lock);
  return hit;
}

/* Keep a copy, replacing the oldest entry when every slot is taken. */
static void cache_put(vc__fetch_cache *c, const char *url, const vc_buf *b,
                      int64_t now)
{
  slot *victim = &c->slots[0];
  char *copy = vc__strdup(url);
  vc_buf body = VC_BUF_INIT;

  if (copy == NULL || vc__buf_put(&body, b->ptr ? b->ptr : "", b->size) < 0) {
    vc__free(copy);
    vc_buf_dispose(&body);
    vc_error_clear(); /* not kept: the next webhook fetches again */
    return;
  }
  pthread_mutex_lock(&c->lock);
  for (size_t i = 0; i < VC__FETCH_CACHE_SLOTS; i++) {
    slot *s = &c->slots[i];
    if (s->url == NULL || strcmp(s->url, url) == 0) {
      victim = s;
      break;
    }
    if (s->fetched_at < victim->fetched_at)
      victim = s;
  }
  slot_clear(victim);
  victim->url = copy;
  victim->body = body;
  victim->fetched_at = now;
  pthread_mutex_unlock(&c->lock);
}

static int get(vc_ctx *ctx, const char *url, size_t max, vc_buf *out)
{
  vc__transport_opts o;
  vc__transport *t = NULL;
  vc__transfer x, *xp = &x;
  int rc;

  memset(&o, 0, sizeof(o));
  o.max_connections = 1;
  o.timeout_ms = VC__FETCH_TIMEOUT_MS;
  o.connect_timeout_ms = VC__FETCH_TIMEOUT_MS;
  o.max_response = max;
  o.allow_private = ctx->allow_private_network;
  vc__transfer_init(&x);
  if ((rc = vc__transport_new(&t, &o)) < 0 ||
      (rc = vc_http_out_set_target(&x.req, "GET", url)) < 0 ||
      (rc = vc__transport_run(t, &xp, 1)) < 0)
    goto out;
  if (x.error != 0) {
    rc = vc__error_set(VC_ERRCLASS_NET, x.error, "fetching %s: %s", url,
                       x.error_text);
    goto out;
  }
  if (x.res.status < 200 || x.res.status > 299) {
    rc = vc__error_set(VC_ERRCLASS_NET, VC_EPROVIDER,
                       "fetching %s: HTTP status %d", url, x.res.status);
    goto out;
  }
  out->size = 0;
  rc = vc__buf_put(out, x.res.body.ptr ? x.res.body.ptr : "",
                   x.res.body.size);
out:
  vc__transfer_reset(&x);
  vc__transport_free(t);
  return rc;
}

int vc__fetch(vc_ctx *ctx, const char *url, size_t max, unsigned int flags,
              vc_buf *out)
{
  int64_t now = vc__now(ctx);
  int rc = 0;

  if ((rc = vc__check_text("fetch URL", url, URL_MAX, 1)) < 0)
    return rc;
  if (strncasecmp(url, "https://", 8) != 0 &&
      strncasecmp(url, "http://", 7) != 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "only http and https URLs are fetched");
  if ((flags & VC_WEBHOOK_FETCH_CACHE) &&
      cache_get(ctx->fetch_cache, url, max, now, out, &rc))
    return rc;
  if ((rc = get(ctx, url, max, out)) == 0 && (flags & VC_WEBHOOK_FETCH_CACHE))
    cache_put(ctx->fetch_cache, url, out, now);
  return rc;
}

const char *vc_webhook_env_url(const vc_webhook_env *env)
{
  return env ? env->url : NULL;
}

int64_t vc_webhook_env_now(const vc_webhook_env *env)
{
  return env ? env->now_ms : 0;
}

int vc_webhook_env_fetch(vc_webhook_env *env, const char *url,
                         size_t max_bytes, unsigned int flags, vc_buf *out)
{
  VC_ASSERT_ARG(env);
  VC_ASSERT_ARG(url);
  VC_ASSERT_ARG(out);
  if (env->ctx == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                         "no context to fetch %s with", url);
  return vc__fetch(env->ctx, url, max_bytes, flags, out);
}
