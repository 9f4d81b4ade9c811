/*
 * Routing: the channels a message may use, and adapters bound to a
 * channel's settings and decrypted credentials, cached per context.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "core/tenant.h"
#include "adapter.h"
#include "route.h"
#include "template.h"

#include <stdio.h>

#define CACHE_MAX 256

static const char SQL_CANDIDATES[] =
  "SELECT id, provider, COALESCE(sender, ''), rate_per_second, updated_at"
  " FROM vc_channel WHERE tenant_id = ?1 AND kind = ?2 AND enabled = 1"
  " ORDER BY priority, id LIMIT 16";
static const char SQL_PINNED[] =
  "SELECT id, provider, COALESCE(sender, ''), rate_per_second, updated_at"
  " FROM vc_channel WHERE tenant_id = ?1 AND id = ?2 AND enabled = 1";
static const char SQL_LOOKUP[] =
  "SELECT id, kind FROM vc_channel WHERE tenant_id = ?1"
  " AND (id = ?2 OR name = ?2) AND enabled = 1";
static const char SQL_SECRETS[] =
  "SELECT config, credentials FROM vc_channel"
  " WHERE tenant_id = ?1 AND id = ?2";

int vc__route_candidates(vc__route_target *out, size_t *n, vc__db *db,
                         const char *tenant_id, int kind,
                         const char *pinned_id)
{
  vc__stmt *s;
  int rc;

  *n = 0;
  if (pinned_id != NULL)
    rc = vc__db_query(&s, db, SQL_PINNED, "tt", tenant_id, pinned_id);
  else
    rc = vc__db_query(&s, db, SQL_CANDIDATES, "ti", tenant_id,
                      (int64_t)kind);
  if (rc < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW &&
         *n < VC__ROUTE_MAX_CANDIDATES) {
    vc__route_target *t = &out[(*n)++];
    snprintf(t->id, sizeof(t->id), "%s", vc__stmt_text(s, 0));
    snprintf(t->provider, sizeof(t->provider), "%s", vc__stmt_text(s, 1));
    snprintf(t->sender, sizeof(t->sender), "%s", vc__stmt_text(s, 2));
    t->rate_per_second = vc__stmt_double(s, 3);
    t->updated_at = vc__stmt_int64(s, 4);
  }
  vc__stmt_done(s);
  return rc < 0 ? rc : 0;
}

int vc__route_lookup(vc__route_channel *out, vc_tenant *t,
                     const char *id_or_name)
{
  return vc__route_lookup_on(out, NULL, t, id_or_name);
}

int vc__route_lookup_on(vc__route_channel *out, vc__db *held, vc_tenant *t,
                        const char *id_or_name)
{
  vc_ctx *ctx = vc__tenant_ctx(t);
  vc__db *db = held;
  vc__stmt *s;
  int rc;

  if (id_or_name == NULL || id_or_name[0] == '\0' ||
      strlen(id_or_name) > 64)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "channel must be an id or a name");
  if (held == NULL && (rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_LOOKUP, "tt", vc_tenant_id(t),
                         id_or_name)) == 0) {
    rc = vc__stmt_step(s);
    if (rc == VC_STORAGE_ROW) {
      snprintf(out->id, sizeof(out->id), "%s", vc__stmt_text(s, 0));
      out->kind = (int)vc__stmt_int64(s, 1);
      rc = 0;
    } else if (rc == VC_STORAGE_DONE) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "no enabled channel '%.64s'", id_or_name);
    }
    vc__stmt_done(s);
  }
  if (held == NULL)
    vc__db_release(db);
  return rc;
}

/* ---- adapter instances ------------------------------------------------ */

typedef struct vc__route_cache {
  vc__route_instance *items[CACHE_MAX];
  size_t n;
} vc__route_cache;

static void instance_free(vc__route_instance *i)
{
  if (i == NULL)
    return;
  if (i->state != NULL)
    i->adapter.fini(i->state);
  vc__free(i);
}

/* Decrypt the channel's settings and let its adapter bind to them. */
static int instance_make(vc__route_instance **out, vc_ctx *ctx,
                         const char *tenant_id, const vc__route_target *t)
{
  vc__route_instance *inst = vc__calloc(1, sizeof(*inst));
  vc_buf config = VC_BUF_INIT, creds = VC_BUF_INIT;
  vc__db *db = NULL;
  vc__stmt *s = NULL;
  int rc;

  if (inst == NULL)
    return vc_error_set_oom();
  if ((rc = vc__adapter_find(&inst->adapter, ctx, t->provider)) < 0)
    goto out;
  vc__keyring_rdlock(&ctx->keys);
  if ((rc = vc__db_acquire(&db, ctx->store)) == 0 &&
      (rc = vc__db_query(&s, db, SQL_SECRETS, "tt", tenant_id, t->id)) == 0) {
    rc = vc__stmt_step(s);
    if (rc == VC_STORAGE_ROW) {
      size_t len = 0;
      const void *blob = vc__stmt_blob(s, 1, &len);
      rc = vc__buf_puts(&config, vc__stmt_text(s, 0));
      if (rc == 0 && blob != NULL && len > 0) {
        vc__seal_site at = { tenant_id, "vc_channel", "credentials", t->id };
        rc = vc__keyring_open(&ctx->keys, &creds, &at, blob, len);
      } else if (rc == 0) {
        rc = vc__buf_puts(&creds, "{}");
      }
    } else if (rc == VC_STORAGE_DONE) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "channel %s is gone", t->id);
    }
    vc__stmt_done(s);
  }
  vc__db_release(db);
  vc__keyring_unlock(&ctx->keys);
  if (rc < 0)
    goto out;
  if ((rc = inst->adapter.init(&inst->state, config.ptr, creds.ptr)) < 0) {
    inst->state = NULL;
    vc__error_wrap(t->provider);
    goto out;
  }
  snprintf(inst->channel_id, sizeof(inst->channel_id), "%s", t->id);
  inst->updated_at = t->updated_at;
  *out = inst;
  inst = NULL;
out:
  vc_buf_dispose(&config);
  vc__buf_wipe(&creds);
  instance_free(inst);
  return rc;
}

int vc__route_instance_get(vc__route_instance **out, vc_ctx *ctx,
                           const char *tenant_id,
                           const vc__route_target *t)
{
  vc__route_cache *c;
  vc__route_instance *made = NULL;
  int rc;

  pthread_mutex_lock(&ctx->lock);
  if (ctx->routes == NULL &&
      (ctx->routes = vc__calloc(1, sizeof(*ctx->routes))) == NULL) {
    pthread_mutex_unlock(&ctx->lock);
    return vc_error_set_oom();
  }
  c = ctx->routes;
  for (size_t i = 0; i < c->n; i++) {
    vc__route_instance *inst = c->items[i];
    if (strcmp(inst->channel_id, t->id) == 0 && !inst->stale &&
        inst->updated_at == t->updated_at) {
      inst->refs++;
      *out = inst;
      pthread_mutex_unlock(&ctx->lock);
      return 0;
    }
  }
  pthread_mutex_unlock(&ctx->lock);

  /* Made outside the lock: it decrypts and reads the store. */
  if ((rc = instance_make(&made, ctx, tenant_id, t)) < 0)
    return rc;
  pthread_mutex_lock(&ctx->lock);
  for (size_t i = 0; i < c->n; i++) {
    vc__route_instance *old = c->items[i];
    if (strcmp(old->channel_id, t->id) == 0) {
      /* Replaced: freed when its last user lets go. */
      old->stale = 1;
      c->items[i] = c->items[--c->n];
      if (old->refs == 0)
        instance_free(old);
      break;
    }
  }
  made->refs = 1;
  if (c->n == CACHE_MAX) {
    /* Full: evict an idle instance, or keep this one uncached. */
    for (size_t i = 0; i < c->n; i++)
      if (c->items[i]->refs == 0) {
        instance_free(c->items[i]);
        c->items[i] = c->items[--c->n];
        break;
      }
  }
  if (c->n < CACHE_MAX)
    c->items[c->n++] = made;
  else
    made->stale = 1;
  *out = made;
  pthread_mutex_unlock(&ctx->lock);
  return 0;
}

void vc__route_instance_put(vc_ctx *ctx, vc__route_instance *inst)
{
  int free_it;

  pthread_mutex_lock(&ctx->lock);
  free_it = --inst->refs == 0 && inst->stale;
  pthread_mutex_unlock(&ctx->lock);
  if (free_it)
    instance_free(inst);
}

void vc__route_cache_free(vc_ctx *ctx)
{
  if (ctx->routes == NULL)
    return;
  for (size_t i = 0; i < ctx->routes->n; i++)
    instance_free(ctx->routes->items[i]);
  vc__free(ctx->routes);
  ctx->routes = NULL;
}

/* ---- bodies ------------------------------------------------------------ */

static int dup_opt(char **out, const char *s)
{
  *out = NULL;
  if (s != NULL && (*out = vc__strdup(s)) == NULL)
    return vc_error_set_oom();
  return 0;
}

int vc__rendered_raw(vc__rendered *out, const char *subject,
                     const char *text, const char *html)
{
  int rc;

  memset(out, 0, sizeof(*out));
  if ((rc = dup_opt(&out->subject, subject)) < 0 ||
      (rc = dup_opt(&out->text, text)) < 0 ||
      (rc = dup_opt(&out->html, html)) < 0)
    vc__rendered_free(out);
  return rc;
}

void vc__rendered_free(vc__rendered *r)
{
  vc__free(r->subject);
  vc__free(r->text);
  vc__free(r->html);
  r->subject = r->text = r->html = NULL;
}

/* Take a rendered part; NULL when the variant has none. */
static char *take(vc_buf *b)
{
  char *p = b->ptr;

  if (p == NULL)
    return NULL;
  if (b->reserved == 0)
    p = vc__strdup(p);
  memset(b, 0, sizeof(*b));
  return p;
}

int vc__route_render(vc__rendered *out, vc_tenant *t, const char *name,
                     int kind, const char *locale, const char *vars_json)
{
  return vc__route_render_on(out, NULL, t, name, kind, locale, vars_json);
}

int vc__route_render_on(vc__rendered *out, vc__db *db, vc_tenant *t,
                        const char *name, int kind, const char *locale,
                        const char *vars_json)
{
  vc__template_request req;
  vc__template_output r;
  int rc;

  memset(out, 0, sizeof(*out));
  memset(&req, 0, sizeof(req));
  memset(&r, 0, sizeof(r));
  req.template_name = name;
  req.kind = kind;
  req.locale = locale;
  req.vars_json = vars_json;
  if ((rc = vc__template_render_message(&r, t, db, &req)) < 0)
    return rc;
  out->subject = take(&r.subject);
  out->text = take(&r.text);
  out->html = take(&r.html);
  snprintf(out->template_id, sizeof(out->template_id), "%s", r.template_id);
  out->template_version = r.version;
  out->category = r.category;
  vc__template_output_dispose(&r);
  return 0;
}
