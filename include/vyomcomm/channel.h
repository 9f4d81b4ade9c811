/**
 * @file vyomcomm/channel.h
 * @brief Channels: a tenant's provider instances (a Twilio number, a
 *        SendGrid account), each of one kind, with encrypted credentials,
 *        a sender identity, a priority and a rate limit.
 *
 * Thread safety: every function may be called from any thread; a
 * vc_channel handle may be shared between threads.
 *
 * @defgroup vc_channel Channels
 * @{
 */
#ifndef VYOMCOMM_CHANNEL_H
#define VYOMCOMM_CHANNEL_H

#include "common.h"
#include "types.h"

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

/**
 * A channel's settings. For vc_channel_update(), NULL strings and
 * negative numbers keep the current value.
 */
typedef struct vc_channel_spec {
  unsigned int version;     /**< VC_CHANNEL_SPEC_VERSION */
  const char *name;         /**< unique per tenant, [a-z0-9_.-]{1,64} */
  const char *provider;     /**< an adapter name: "twilio-sms", "sendgrid",
                                 "sandbox-sms", ... */
  /** Provider settings that are not secret, a JSON object (account id,
   *  region, base URL). Validated by the adapter. */
  const char *config_json;
  /** Secrets, a JSON object (auth token, API key): encrypted at rest and
   *  never returned by any function. */
  const char *credentials_json;
  const char *sender;       /**< default sender: number, address, bot */
  int32_t priority;         /**< lower is tried first; default 100 */
  /** Messages per second this channel may send; 0 = no limit. */
  double rate_per_second;
} vc_channel_spec;

#define VC_CHANNEL_SPEC_VERSION 1
#define VC_CHANNEL_SPEC_INIT \
  { VC_CHANNEL_SPEC_VERSION, NULL, NULL, NULL, NULL, NULL, -1, -1.0 }

/** Initialise a vc_channel_spec for `version`. @since 0.1 */
VC_EXTERN(int) vc_channel_spec_init(vc_channel_spec *s,
                                    unsigned int version);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_CHANNEL_H */
