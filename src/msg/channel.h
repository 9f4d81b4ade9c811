/*
 * Channel internals for the dispatcher and the webhook router.
 *
 * Functions that take a `vc__db *db` use the caller's connection, or
 * acquire one when it is NULL. Functions that decrypt take the keyring
 * lock and a connection themselves, so they must be called holding no
 * connection (keyring.h: the lock comes first).
 */
#ifndef VC_MSG_CHANNEL_H
#define VC_MSG_CHANNEL_H

#include "vyomcomm/channel.h"
#include "vyomcomm/sys/adapter.h"
#include "store/db.h"

/* At most this many routing candidates per tenant and kind. */
#define VC__CHANNEL_CANDIDATES_MAX 32
#define VC__CHANNEL_WEBHOOK_SECRET_SIZE 32
#define VC__CHANNEL_PROVIDER_MAX 64

/* A channel's row, without its secrets: plain data, no allocation. */
typedef struct vc__channel_info {
  char tenant_id[VC_ID_SIZE];
  char id[VC_ID_SIZE];
  char name[VC_CHANNEL_NAME_MAX + 1];
  int kind;
  char provider[VC__CHANNEL_PROVIDER_MAX + 1];
  char sender[VC_CHANNEL_SENDER_MAX + 1];  /* "" when none */
  int32_t priority;
  double rate_per_second;                 /* 0 = no limit */
  int enabled;
  int64_t updated_at;                     /* changes with every update */
} vc__channel_info;

/*
 * The enabled channels of a tenant and kind, by priority then id: at most
 * `max` (itself at most VC__CHANNEL_CANDIDATES_MAX) into out[], their
 * number in *n (0 is not an error).
 */
int vc__channel_candidates(vc__channel_info *out, size_t max, size_t *n,
                           vc_ctx *ctx, vc__db *db, const char *tenant_id,
                           int kind);

/* A channel of a live tenant, enabled or not, by id or name (an id match
 * wins). VC_ENOTFOUND, VC_EINVALID. */
int vc__channel_find(vc__channel_info *out, vc_ctx *ctx, vc__db *db,
                     const char *tenant_id, const char *id_or_name);

/* A channel by its id alone, of whichever live tenant owns it: the
 * webhook router knows only the id from "/webhooks/{channel_id}". */
int vc__channel_find_by_id(vc__channel_info *out, vc_ctx *ctx, vc__db *db,
                           const char *channel_id);

/* Decrypt a channel's credentials (a JSON object, "{}" when it has none)
 * into `out`, replacing its contents. The caller wipes it with
 * vc_buf_dispose(). VC_ENOTFOUND, VC_EKEY, VC_ECRYPTO. */
int vc__channel_load_secret(vc_buf *out, vc_ctx *ctx, const char *tenant_id,
                            const char *channel_id);

/* Decrypt a channel's VC__CHANNEL_WEBHOOK_SECRET_SIZE-byte webhook secret
 * into `out`, replacing its contents. VC_ENOTFOUND when the channel has
 * none (made without a master key). */
int vc__channel_webhook_secret(vc_buf *out, vc_ctx *ctx,
                               const char *tenant_id,
                               const char *channel_id);

/*
 * Bind a channel's adapter to its stored settings: find the adapter by
 * the channel's provider, decrypt the credentials and call init(). On
 * success the caller owns *state_out and releases it with
 * adapter_out->fini(*state_out); *updated_at_out (may be NULL) tells
 * when the settings used were last changed, to notice a stale binding.
 */
int vc__channel_open_adapter(vc_adapter *adapter_out, void **state_out,
                             int64_t *updated_at_out, vc_ctx *ctx,
                             const char *tenant_id, const char *channel_id);

#endif
