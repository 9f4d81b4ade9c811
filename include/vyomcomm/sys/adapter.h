/**
 * @file vyomcomm/sys/adapter.h
 * @brief For implementers: provider adapters.
 *
 * An HTTP adapter translates and nothing else: it builds the request for
 * a normalized outbound message, parses the provider's response, and
 * verifies and parses the provider's webhooks. It opens no socket, starts
 * no thread, never sleeps and never touches the store: the core does all
 * I/O, retries, rate limiting and persistence. Every method may be called
 * from several threads at once with the same state, so the state must be
 * immutable after `init` (or locked by the adapter).
 *
 * Methods return 0 or a negative vc_error_code after vc_error_set_str()
 * (vyomcomm/sys/errors.h). Memory handed to the core comes from the
 * builder functions below, never from the adapter's own malloc.
 *
 * @defgroup vc_adapter Adapters
 * @{
 */
#ifndef VYOMCOMM_SYS_ADAPTER_H
#define VYOMCOMM_SYS_ADAPTER_H

#include "../common.h"
#include "../types.h"
#include "../http.h"
#include "../channel.h"
#include "../message.h"

VC_BEGIN_DECL

/* --- the outbound request an adapter builds ----------------------------- */

/** An HTTP request under construction, owned by the core. */
typedef struct vc_http_out vc_http_out;

/** Method ("POST") and absolute URL of the request. REQUIRED. */
VC_EXTERN(int) vc_http_out_set_target(vc_http_out *req, const char *method,
                                      const char *url);
/** Add a header (copied). "Content-Length" is the core's. */
VC_EXTERN(int) vc_http_out_add_header(vc_http_out *req, const char *name,
                                      const char *value);
/** HTTP Basic authorization from a user and a password. */
VC_EXTERN(int) vc_http_out_basic_auth(vc_http_out *req, const char *user,
                                      const char *password);
/** Replace the body with raw bytes (copied). */
VC_EXTERN(int) vc_http_out_set_body(vc_http_out *req, const void *data,
                                    size_t len);
/**
 * Append one application/x-www-form-urlencoded field to the body (name
 * and value are percent-encoded here) and set the Content-Type.
 */
VC_EXTERN(int) vc_http_out_form_add(vc_http_out *req, const char *name,
                                    const char *value);

/* --- what an adapter is given -------------------------------------------- */

/** A normalized outbound message. All strings are UTF-8 and borrowed. */
typedef struct vc_outbound {
  unsigned int version;        /**< VC_OUTBOUND_VERSION */
  int kind;                    /**< a vc_channel_kind */
  const char *message_id;      /**< the library's id; echo it back if the
                                    provider can (custom args, callback
                                    URL) */
  const char *tenant_id;
  const char *to;              /**< validated, normalized recipient */
  const char *from;            /**< sender identity (channel default or
                                    the message's own) */
  const char *from_name;       /**< display name (email), or NULL */
  const char *subject;         /**< email subject, or NULL */
  const char *text;            /**< text body, or NULL */
  const char *html;            /**< HTML body (email), or NULL */
  const vc_attachment *attachments;
  size_t nattachments;
  const char *metadata_json;   /**< the caller's metadata object, or NULL */
  /** Where the provider should post status callbacks:
   *  {public_base_url}/webhooks/{channel_id}, or NULL when unknown. */
  const char *status_callback_url;
  /** For adapters with VC_CAP_SESSION_WINDOW: when the latest message
   *  from `to` arrived on this channel (Unix ms), 0 when none did. */
  int64_t last_inbound_ms;
  /** Which request of a message split by count_parts() is being built
   *  (0-based); 0 otherwise. */
  unsigned int part;
  /** The context's clock when the request is built (Unix ms): adapters
   *  never read the system clock themselves. */
  int64_t now_ms;
} vc_outbound;

#define VC_OUTBOUND_VERSION 1

/* --- what an adapter reports back ----------------------------------------- */

/** What the provider's answer to a send means. Values are pinned. */
typedef enum vc_send_outcome {
  VC_SEND_ACCEPTED = 1,  /**< the provider took it: status `sent` */
  VC_SEND_RETRY = 2,     /**< transient (5xx, 429, timeout): try again */
  VC_SEND_REJECTED = 3,  /**< this message is refused (bad number,
                              content): final `failed`, no failover */
  VC_SEND_FAILOVER = 4   /**< this channel cannot send (auth, account,
                              persistent error): try the next channel */
} vc_send_outcome;

/** The parsed result of a send. The core zero-fills it first. */
typedef struct vc_send_result {
  unsigned int version;        /**< VC_SEND_RESULT_VERSION */
  int outcome;                 /**< a vc_send_outcome */
  char provider_id[128];       /**< the provider's message id */
  /** Wait at least this long before retrying (Retry-After and similar),
   *  0 when the provider said nothing. */
  int64_t retry_after_ms;
  /** Or: retry no earlier than this Unix time in ms (a rate-limit reset
   *  timestamp), 0 when none. The later of the two applies. */
  int64_t retry_at_ms;
  int error;                   /**< a vc_error_code when not accepted */
  char provider_code[32];      /**< the provider's own error code */
  char error_message[256];     /**< the provider's own text */
  int64_t cost_micros;         /**< price when the provider says, else 0 */
  char currency[4];            /**< ISO 4217 of cost_micros */
} vc_send_result;

#define VC_SEND_RESULT_VERSION 1

/** Where parse_webhook reports what a webhook said. */
typedef struct vc_event_sink vc_event_sink;

/** What the core offers verify_webhook; valid during that call only. */
typedef struct vc_webhook_env vc_webhook_env;

/** A delivery status change of a message sent earlier. */
typedef struct vc_status_update {
  unsigned int version;        /**< VC_STATUS_UPDATE_VERSION */
  const char *message_id;      /**< the library's id when echoed, or NULL */
  const char *provider_id;     /**< the provider's message id, or NULL */
  int status;                  /**< a vc_msg_status */
  /** The provider's unique id of this event for deduplication, or NULL:
   *  then the core hashes the event's fields. */
  const char *event_id;
  int64_t occurred_at;         /**< Unix ms, 0 when unknown */
  const char *provider_code;   /**< provider error code, or NULL */
  const char *error_message;   /**< provider error text, or NULL */
} vc_status_update;

#define VC_STATUS_UPDATE_VERSION 1

/** A message received from a customer. */
typedef struct vc_inbound {
  unsigned int version;        /**< VC_INBOUND_VERSION */
  const char *provider_id;     /**< the provider's id of the message */
  const char *from;
  const char *to;
  const char *text;
  const char *const *media_urls;
  size_t nmedia;
  int64_t occurred_at;         /**< Unix ms, 0 when unknown */
} vc_inbound;

#define VC_INBOUND_VERSION 1

/** Report a status update found in a webhook. */
VC_EXTERN(int) vc_event_sink_status(vc_event_sink *sink,
                                    const vc_status_update *update);
/** Report an inbound message found in a webhook. */
VC_EXTERN(int) vc_event_sink_inbound(vc_event_sink *sink,
                                     const vc_inbound *message);
/**
 * Record a single-use value a webhook carries (a signature nonce, such
 * as Mailgun's token) for the 72-hour dedupe window, in the same
 * transaction as the webhook's effects. A signature that does not cover
 * the body can be replayed with another body: a value seen before means
 * the request must change nothing.
 *
 * @return 0 the first time; VC_EEXISTS when seen before: the adapter
 *         then reports nothing and returns 0 (answered, never applied)
 */
VC_EXTERN(int) vc_event_sink_once(vc_event_sink *sink, const char *key);
/**
 * Set the HTTP reply the provider expects (default: 200 with no body).
 * `body` is copied; `content_type` must be static.
 */
VC_EXTERN(int) vc_event_sink_reply(vc_event_sink *sink, int status,
                                   const char *content_type,
                                   const char *body);

/* --- what verify_webhook may ask of the core -------------------------------- */

/** The full public URL the provider posted to: public_base_url followed
 *  by the request target, query included. */
VC_EXTERN(const char *) vc_webhook_env_url(const vc_webhook_env *env);
/** The context's clock, Unix ms: timestamp windows use this. */
VC_EXTERN(int64_t) vc_webhook_env_now(const vc_webhook_env *env);

/** vc_webhook_env_fetch() flag: keep the body for later calls with the
 *  same URL (signing certificates). */
#define VC_WEBHOOK_FETCH_CACHE 1u

/**
 * GET a document the verification needs: a signing certificate, or a
 * subscription confirmation URL. http and https only, no redirects,
 * loopback and private addresses refused unless the context allows them
 * (vc_ctx_options.allow_private_network), at most `max_bytes` of body,
 * 10 seconds at most. The adapter checks the URL's host against the
 * provider's own before calling. With VC_WEBHOOK_FETCH_CACHE a body is
 * kept per URL for 24 hours (at most 32 URLs per context).
 *
 * @param out receives the body (replaced)
 * @return 0, VC_EINVALID (not an http(s) URL), VC_ENET, VC_ETIMEOUT,
 *         VC_ETOOBIG (body over max_bytes), VC_EPROVIDER (status not 2xx)
 */
VC_EXTERN(int) vc_webhook_env_fetch(vc_webhook_env *env, const char *url,
                                    size_t max_bytes, unsigned int flags,
                                    vc_buf *out);

/* --- the vtable ------------------------------------------------------------ */

/** Capability bits. */
#define VC_CAP_DELIVERY_REPORTS (1u << 0) /**< sends status webhooks */
#define VC_CAP_INBOUND          (1u << 1) /**< receives messages */
#define VC_CAP_MEDIA            (1u << 2) /**< attachments / MMS */
#define VC_CAP_HTML             (1u << 3) /**< HTML bodies */
#define VC_CAP_SIGNED_WEBHOOKS  (1u << 4) /**< webhooks are verifiable */
/** Sends nothing over the network: build_send is not called and
 *  parse_send receives a NULL response (the sandbox adapters). */
#define VC_CAP_LOCAL            (1u << 5)
/** The provider allows free-form messages only for a while after the
 *  customer wrote (WhatsApp): the core fills vc_outbound.last_inbound_ms. */
#define VC_CAP_SESSION_WINDOW   (1u << 6)

/** A provider adapter. */
typedef struct vc_adapter {
  unsigned int version;        /**< VC_ADAPTER_VERSION */
  const char *name;            /**< unique: "twilio-sms", "sendgrid" */
  int kind;                    /**< the vc_channel_kind it serves */
  uint64_t capabilities;       /**< VC_CAP_* */

  /**
   * REQUIRED. Validate a channel's settings and credentials (JSON
   * objects, either may be "{}") and make the adapter's state for it.
   * VC_EINVALID names the offending key; a credential's value never
   * appears in a message.
   */
  int VC_CALLBACK(init)(void **state, const char *config_json,
                        const char *credentials_json);
  /** REQUIRED. Release the state (wipe credentials). */
  void VC_CALLBACK(fini)(void *state);
  /** REQUIRED. Build the request that sends `msg`. */
  int VC_CALLBACK(build_send)(void *state, const vc_outbound *msg,
                              vc_http_out *req);
  /** REQUIRED. Interpret the provider's response to that request. A
   *  response it cannot parse is VC_SEND_RETRY with error VC_EPROVIDER
   *  unless its status says otherwise. */
  int VC_CALLBACK(parse_send)(void *state, const vc_outbound *msg,
                              const vc_http_response *res,
                              vc_send_result *out);
  /**
   * OPTIONAL (NULL: the channel accepts no webhooks). Check the webhook's
   * signature in constant time, outside any store transaction. `env`
   * gives the public URL the provider posted to, the clock, and a fetch
   * for certificates. VC_EAUTH when it does not verify.
   */
  int VC_CALLBACK(verify_webhook)(void *state, const vc_http_request *req,
                                  vc_webhook_env *env);
  /** OPTIONAL with verify_webhook. Report what a verified webhook says.
   *  VC_EINVALID for a malformed body. */
  int VC_CALLBACK(parse_webhook)(void *state, const vc_http_request *req,
                                 vc_event_sink *sink);
  /**
   * OPTIONAL (NULL: one request per message). How many requests sending
   * `msg` takes (1 or more), for a provider whose limit forces a long
   * text into several messages. The core sends part 0, 1, ... in order,
   * one after another, with msg->part set; a retry resumes at the first
   * part not accepted (the part in flight at a crash may go twice); once
   * a part is accepted the message stays on that channel; it is `sent`
   * when every part is, with the first part's provider id. VC_ETOOBIG or
   * VC_EINVALID (after vc_error_set_str) refuses the message: it ends
   * `failed` with that error and nothing is sent.
   */
  int VC_CALLBACK(count_parts)(void *state, const vc_outbound *msg);
} vc_adapter;

#define VC_ADAPTER_VERSION 1

/**
 * Register an adapter on a context, or replace the one of the same name.
 * The vtable is copied; its strings must stay valid while the context
 * lives. Built-in adapters are registered when the context is created.
 *
 * @return 0, VC_EVERSION, VC_EINVALID (a required method is missing)
 * @since 0.1
 */
VC_EXTERN(int) vc_adapter_register(vc_ctx *ctx, const vc_adapter *adapter);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_SYS_ADAPTER_H */
