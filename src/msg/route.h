/*
 * What messages need from channels and templates: resolving the channel
 * a caller names, and rendering a template for a message.
 */
#ifndef VC_MSG_ROUTE_H
#define VC_MSG_ROUTE_H

#include "vyomcomm/message.h"

typedef struct vc__route_channel {
  char id[VC_ID_SIZE];
  int kind;
} vc__route_channel;

/* A live, enabled channel of the tenant by id or name. */
int vc__route_lookup(vc__route_channel *out, vc_tenant *t,
                     const char *id_or_name);

/* A message body: raw, or rendered from a template. */
typedef struct vc__rendered {
  char *subject, *text, *html;
  char template_id[VC_ID_SIZE];  /* "" for a raw body */
  int template_version;
  int category;                  /* the template's vc_category; 0 raw */
} vc__rendered;

int vc__rendered_raw(vc__rendered *out, const char *subject,
                     const char *text, const char *html);
int vc__route_render(vc__rendered *out, vc_tenant *t, const char *name,
                     int kind, const char *locale, const char *vars_json);

/* The same on a connection the caller holds (NULL: one of the store's). */
struct vc__db;
int vc__route_lookup_on(vc__route_channel *out, struct vc__db *db,
                        vc_tenant *t, const char *id_or_name);
int vc__route_render_on(vc__rendered *out, struct vc__db *db,
                        vc_tenant *t, const char *name, int kind,
                        const char *locale, const char *vars_json);
void vc__rendered_free(vc__rendered *r);

/* ---- for the dispatcher -------------------------------------------- */

#include "store/db.h"
#include "vyomcomm/sys/adapter.h"

#define VC__ROUTE_MAX_CANDIDATES 16

/* A channel a message may go out on. */
typedef struct vc__route_target {
  char id[VC_ID_SIZE];
  char provider[65];
  char sender[321];
  double rate_per_second;
  int64_t updated_at;
} vc__route_target;

/*
 * The enabled channels of a tenant and kind, by priority then id (or only
 * `pinned_id` when set), at most VC__ROUTE_MAX_CANDIDATES.
 */
int vc__route_candidates(vc__route_target *out, size_t *n, vc__db *db,
                         const char *tenant_id, int kind,
                         const char *pinned_id);

/* An adapter bound to one channel's settings and credentials. */
typedef struct vc__route_instance {
  vc_adapter adapter;
  void *state;
  char channel_id[VC_ID_SIZE];
  int64_t updated_at;
  int refs;
  int stale;
} vc__route_instance;

/* The cached instance for a channel (made on first use, remade when the
 * channel changed). Release with vc__route_instance_put(). */
int vc__route_instance_get(vc__route_instance **out, vc_ctx *ctx,
                           const char *tenant_id,
                           const vc__route_target *target);
void vc__route_instance_put(vc_ctx *ctx, vc__route_instance *inst);
void vc__route_cache_free(vc_ctx *ctx);

#endif
