/**
 * @file vyomcomm/channel.h
 * @brief Channels: a tenant's provider instances (a Twilio number, a
 *        SendGrid account), each of one kind, with encrypted credentials,
 *        a sender identity, a priority and a rate limit.
 *
 * Thread safety: every function may be called from any thread; a
 * vc_channel handle may be shared between threads (updates are serialised
 * on the handle). vc_channel_free() must be the last call on a handle.
 *
 * @defgroup vc_channel Channels
 * @{
 */
#ifndef VYOMCOMM_CHANNEL_H
#define VYOMCOMM_CHANNEL_H

#include "common.h"
#include "types.h"
#include "buffer.h"

VC_BEGIN_DECL

/** What a channel carries. Values are pinned. */
typedef enum vc_channel_kind {
  VC_CHANNEL_EMAIL = 1,
  VC_CHANNEL_SMS = 2,
  VC_CHANNEL_CHAT = 3,
  VC_CHANNEL_VOICE = 4
} vc_channel_kind;

/** A channel handle. */
typedef struct vc_channel vc_channel;

/** Limits on a channel's settings. */
#define VC_CHANNEL_NAME_MAX 64
#define VC_CHANNEL_SENDER_MAX 320
/** config_json and credentials_json, each. */
#define VC_CHANNEL_JSON_MAX (64 * 1024)

/**
 * A channel's settings. For vc_channel_new(), NULL strings and negative
 * numbers take the defaults; for vc_channel_update(), NULL strings and
 * negative numbers keep the current value.
 */
typedef struct vc_channel_spec {
  unsigned int version;     /**< VC_CHANNEL_SPEC_VERSION */
  /** Unique per tenant: [a-z0-9][a-z0-9_.-]{0,63}. Required. */
  const char *name;
  const char *provider;     /**< an adapter name: "twilio-sms", "sendgrid",
                                 "sandbox-sms", ...; required */
  /** Provider settings that are not secret, a JSON object (account id,
   *  region, base URL); NULL = "{}". Validated by the adapter and
   *  returned by vc_channel_config_json(). */
  const char *config_json;
  /** Secrets, a JSON object (auth token, API key); NULL = "{}".
   *  Encrypted at rest and never returned by any public function. */
  const char *credentials_json;
  /** Default sender: number, address, bot; NULL = none. At most
   *  VC_CHANNEL_SENDER_MAX bytes. */
  const char *sender;
  int32_t priority;         /**< lower is tried first; default 100 */
  /** Messages per second this channel may send; 0 = no limit (the
   *  default). At most 1e6. */
  double rate_per_second;
  /** The kind the caller expects, checked against the adapter's; 0 =
   *  the adapter's kind. A channel's kind never changes. */
  int kind;
} vc_channel_spec;

/** The current version of vc_channel_spec, and an initializer with every
 *  member at its default (vc_channel_spec_init() for other languages). */
#define VC_CHANNEL_SPEC_VERSION 1
#define VC_CHANNEL_SPEC_INIT \
  { VC_CHANNEL_SPEC_VERSION, NULL, NULL, NULL, NULL, NULL, -1, -1.0, 0 }

/** Initialise a vc_channel_spec for `version`. @since 0.1 */
VC_EXTERN(int) vc_channel_spec_init(vc_channel_spec *s,
                                    unsigned int version);

/** What vc_channel_list() returns. */
typedef struct vc_channel_filter {
  unsigned int version;   /**< VC_CHANNEL_FILTER_VERSION */
  const char *after;      /**< a vc_iter_cursor() value, or NULL */
  int kind;               /**< a vc_channel_kind, or 0 for any */
  int include_disabled;   /**< 1 to include disabled channels */
} vc_channel_filter;

/** The current version of vc_channel_filter, and an initializer with every
 *  member at its default (vc_channel_filter_init() for other languages). */
#define VC_CHANNEL_FILTER_VERSION 1
#define VC_CHANNEL_FILTER_INIT { VC_CHANNEL_FILTER_VERSION, NULL, 0, 0 }

/** Initialise a vc_channel_filter for `version`. @since 0.1 */
VC_EXTERN(int) vc_channel_filter_init(vc_channel_filter *f,
                                      unsigned int version);

/**
 * A static name for a kind: "email", "sms", "chat", "voice", or
 * "unknown". @since 0.1
 */
VC_EXTERN(const char *) vc_channel_kind_name(int kind);

/**
 * Create a channel. The provider's adapter must be registered on the
 * context (vc_adapter_register()); its init() validates the settings and
 * credentials, which are then encrypted at rest with a new random
 * webhook secret. Appends a channel.created event.
 *
 * Without a master key on the context, only a channel without
 * credentials can be created, and it has no webhook secret.
 *
 * @param out receives the handle (may be NULL if not wanted)
 * @return 0; VC_EINVALID (bad setting, kind mismatch, or rejected by the
 *   adapter); VC_ENOTFOUND (no such adapter, or the tenant was deleted);
 *   VC_EEXISTS (name taken); VC_EKEY (credentials without a master key)
 * @since 0.1
 */
VC_EXTERN(int) vc_channel_new(vc_channel **out, vc_tenant *tenant,
                              const vc_channel_spec *spec);

/**
 * Load a channel of the tenant (enabled or not) by id or by name; an id
 * match wins.
 * @return 0, VC_ENOTFOUND, VC_EINVALID
 * @since 0.1
 */
VC_EXTERN(int) vc_channel_lookup(vc_channel **out, vc_tenant *tenant,
                                 const char *id_or_name);

/**
 * List a tenant's channels in id (creation) order.
 * @param out receives the iterator; read it with vc_channel_next()
 * @param filter NULL for all enabled channels
 * @since 0.1
 */
VC_EXTERN(int) vc_channel_list(vc_iter **out, vc_tenant *tenant,
                               const vc_channel_filter *filter);

/**
 * The next channel of a vc_channel_list() iterator.
 * @param out receives a new handle, freed with vc_channel_free()
 * @return 0, VC_ITEROVER, or a negative code
 * @since 0.1
 */
VC_EXTERN(int) vc_channel_next(vc_channel **out, vc_iter *it);

/**
 * Change a channel's settings. When the provider, the configuration or
 * the credentials change, the adapter validates the result (with the
 * stored credentials when none are given, which needs the master key).
 * The handle shows the new values afterwards; strings borrowed from it
 * before stay valid until vc_channel_free(). Appends channel.updated.
 *
 * @return 0, VC_EINVALID (also a provider of another kind), VC_EEXISTS
 *   (name taken), VC_ENOTFOUND (gone), VC_EKEY
 * @since 0.1
 */
VC_EXTERN(int) vc_channel_update(vc_channel *channel,
                                 const vc_channel_spec *spec);

/**
 * Stop routing messages through a channel (its webhooks are still
 * accepted, for messages already sent), or start again. Doing either
 * twice is not an error. Appends channel.disabled / channel.enabled.
 * @return 0, VC_ENOTFOUND
 * @since 0.1
 */
VC_EXTERN(int) vc_channel_disable(vc_channel *channel);
/** Route through a disabled channel again (vc_channel_disable() tells
 *  how). @return 0, VC_ENOTFOUND @since 0.1 */
VC_EXTERN(int) vc_channel_enable(vc_channel *channel);

/** Free a channel handle; NULL is accepted. @since 0.1 */
VC_EXTERN(void) vc_channel_free(vc_channel *channel);

/** @name Getters
 *  Strings are borrowed from the handle (see vc_channel_update);
 *  there is deliberately no getter for the credentials. @since 0.1 */
/** The channel's id. */
VC_EXTERN(const char *) vc_channel_id(const vc_channel *channel);
/** The id of the channel's tenant. */
VC_EXTERN(const char *) vc_channel_tenant_id(const vc_channel *channel);
/** The channel's name, unique within the tenant. */
VC_EXTERN(const char *) vc_channel_name(const vc_channel *channel);
/** The channel's vc_channel_kind (named _of: the type has the plain
 *  name). @since 0.1 */
VC_EXTERN(int) vc_channel_kind_of(const vc_channel *channel);
/** The adapter name ("twilio-sms", "sendgrid", ...). */
VC_EXTERN(const char *) vc_channel_provider(const vc_channel *channel);
/** The default sender, "" when none. @since 0.1 */
VC_EXTERN(const char *) vc_channel_sender(const vc_channel *channel);
/** Its priority among channels of its kind; lower is tried first. */
VC_EXTERN(int32_t) vc_channel_priority(const vc_channel *channel);
/** Messages per second, 0 = no limit. @since 0.1 */
VC_EXTERN(double) vc_channel_rate_per_second(const vc_channel *channel);
/** 1 when enabled, 0 when disabled. @since 0.1 */
VC_EXTERN(int) vc_channel_enabled(const vc_channel *channel);
/** The provider settings as stored, a JSON object. @since 0.1 */
VC_EXTERN(const char *) vc_channel_config_json(const vc_channel *channel);
/** Unix milliseconds; disabled_at is 0 while enabled. @since 0.1 */
VC_EXTERN(int64_t) vc_channel_created_at(const vc_channel *channel);
/** When its settings last changed (Unix ms). */
VC_EXTERN(int64_t) vc_channel_updated_at(const vc_channel *channel);
/** When it was disabled (Unix ms); 0 while enabled. */
VC_EXTERN(int64_t) vc_channel_disabled_at(const vc_channel *channel);

/**
 * The path providers post this channel's webhooks to,
 * "/webhooks/{channel_id}". Borrowed from the handle. @since 0.1
 */
VC_EXTERN(const char *) vc_channel_webhook_path(const vc_channel *channel);

/**
 * The full webhook URL, the context's public_base_url followed by
 * vc_channel_webhook_path(), into `out` (replacing its contents).
 * @return 0, VC_ESTATE when the context has no public_base_url
 * @since 0.1
 */
VC_EXTERN(int) vc_channel_webhook_url(vc_buf *out,
                                      const vc_channel *channel);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_CHANNEL_H */
