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
#include "../call.h"
#include "../buffer.h"

VC_BEGIN_DECL

/* --- the outbound request an adapter builds ----------------------------- */

/** An HTTP request under construction, owned by the core. */
typedef struct vc_http_out vc_http_out;

/** Method ("POST") and absolute URL of the request. REQUIRED.
 *  @return 0, VC_EINVALID, VC_ENOMEM. @since 0.1 */
VC_EXTERN(int) vc_http_out_set_target(vc_http_out *req, const char *method,
                                      const char *url);
/** Add a header (copied). "Content-Length" is the core's.
 *  @return 0, VC_EINVALID (a name or value that is not one clean line,
 *  or Content-Length), VC_ETOOBIG (too many headers), VC_ENOMEM.
 *  @since 0.1 */
VC_EXTERN(int) vc_http_out_add_header(vc_http_out *req, const char *name,
                                      const char *value);
/** HTTP Basic authorization from a user and a password.
 *  @return 0, VC_EINVALID, VC_ENOMEM. @since 0.1 */
VC_EXTERN(int) vc_http_out_basic_auth(vc_http_out *req, const char *user,
                                      const char *password);
/** Replace the body with raw bytes (copied).
 *  @return 0, VC_ENOMEM. @since 0.1 */
VC_EXTERN(int) vc_http_out_set_body(vc_http_out *req, const void *data,
                                    size_t len);
/**
 * Append one application/x-www-form-urlencoded field to the body (name
 * and value are percent-encoded here) and set the Content-Type.
 * @return 0, VC_EINVALID (a multipart body already started), VC_ENOMEM
 * @since 0.1
 */
VC_EXTERN(int) vc_http_out_form_add(vc_http_out *req, const char *name,
                                    const char *value);
/**
 * Append one multipart/form-data field (RFC 7578) to the body; the data
 * is copied. The first call replaces the body and any Content-Type
 * header with "multipart/form-data; boundary=..." (a random boundary);
 * after every call the body is complete, closing delimiter included. A
 * file part has a `filename`; its Content-Type is `content_type`, or
 * application/octet-stream when NULL. A plain field has neither (NULL,
 * NULL). In `name` and `filename`, CR, LF and '"' are written %0D, %0A
 * and %22, as browsers do. A request is either a form or multipart: this
 * refuses a body started with vc_http_out_form_add(), and that function
 * refuses a multipart one.
 *
 * @return 0, VC_EINVALID (empty name, content type not one clean line,
 *         urlencoded fields already added), VC_ENOMEM
 * @since 0.2
 */
VC_EXTERN(int) vc_http_out_multipart_add(vc_http_out *req,
                                         const char *name,
                                         const char *filename,
                                         const char *content_type,
                                         const void *data, size_t len);

/* --- what an adapter is given -------------------------------------------- */

/** A normalized outbound message. All strings are UTF-8 and borrowed. */
typedef struct vc_outbound {
  unsigned int version;        /**< VC_OUTBOUND_VERSION */
  int kind;                    /**< a vc_channel_kind */
  const char *message_id;      /**< the library's id; echo it back if the
                                    provider can (custom args, callback
                                    URL) */
  const char *tenant_id;       /**< the tenant sending it */
  const char *to;              /**< validated, normalized recipient */
  const char *from;            /**< sender identity (channel default or
                                    the message's own) */
  const char *from_name;       /**< display name (email), or NULL */
  const char *subject;         /**< email subject, or NULL */
  const char *text;            /**< text body, or NULL */
  const char *html;            /**< HTML body (email), or NULL */
  const vc_attachment *attachments; /**< files to attach, or NULL */
  size_t nattachments;         /**< how many attachments */
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
  /* Version 2 (@since 0.3). */
  /** The `List-Unsubscribe` header value of a marketing email
   *  ("<https://.../unsubscribe/TOKEN>"), or NULL: an email adapter sends
   *  it as that header when set. */
  const char *list_unsubscribe;
  /** The `List-Unsubscribe-Post` header value
   *  ("List-Unsubscribe=One-Click", RFC 8058), or NULL. */
  const char *list_unsubscribe_post;
} vc_outbound;

/** The core fills the latest version. An adapter reads the members of the
 *  version it was built for, and accepts a higher version (the struct
 *  only grows). */
#define VC_OUTBOUND_VERSION 2

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

/** The current version of vc_send_result. */
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
  /* added in version 2 (vyomcomm 0.3) */
  /** What the provider charged for what `provider_id` names (one part
   *  of a message sent in parts, or the whole message), in micro-units,
   *  0..10^15; 0 when the webhook tells no price. @since 0.3 */
  int64_t price_micros;
  char currency[4];            /**< ISO 4217 of price_micros */
} vc_status_update;

/** The current version of vc_status_update. */
#define VC_STATUS_UPDATE_VERSION 2

/** A message received from a customer. */
typedef struct vc_inbound {
  unsigned int version;        /**< VC_INBOUND_VERSION */
  const char *provider_id;     /**< the provider's id of the message */
  const char *from;            /**< the sender's address, as the
                                    provider wrote it */
  const char *to;              /**< the address it was sent to */
  const char *text;            /**< the text, or NULL (media only) */
  const char *const *media_urls; /**< attached media URLs, or NULL */
  size_t nmedia;               /**< how many media_urls */
  int64_t occurred_at;         /**< Unix ms, 0 when unknown */
} vc_inbound;

/** The current version of vc_inbound. */
#define VC_INBOUND_VERSION 1

/** Report a status update found in a webhook.
 *  @return 0; VC_EINVALID (a malformed update: the webhook is refused)
 *  @since 0.1 */
VC_EXTERN(int) vc_event_sink_status(vc_event_sink *sink,
                                    const vc_status_update *update);
/** Report an inbound message found in a webhook.
 *  @return 0; VC_EINVALID (a malformed message: the webhook is refused)
 *  @since 0.1 */
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
 * @since 0.2
 */
VC_EXTERN(int) vc_event_sink_once(vc_event_sink *sink, const char *key);
/**
 * Set the HTTP reply the provider expects (default: 200 with no body).
 * `body` is copied; `content_type` must be static.
 * @return 0, VC_EINVALID (a status outside 200..599), VC_ENOMEM
 * @since 0.1
 */
VC_EXTERN(int) vc_event_sink_reply(vc_event_sink *sink, int status,
                                   const char *content_type,
                                   const char *body);

/* --- what verify_webhook may ask of the core -------------------------------- */

/** The full public URL the provider posted to: public_base_url followed
 *  by the request target, query included. @since 0.2 */
VC_EXTERN(const char *) vc_webhook_env_url(const vc_webhook_env *env);
/** The context's clock, Unix ms: timestamp windows use this.
 *  @since 0.2 */
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
 * @since 0.2
 */
VC_EXTERN(int) vc_webhook_env_fetch(vc_webhook_env *env, const char *url,
                                    size_t max_bytes, unsigned int flags,
                                    vc_buf *out);

/* --- voice ----------------------------------------------------------------- */

/**
 * A click-to-call to place. The provider rings `agent` first and, once
 * the agent answers, `customer`, and bridges them; a provider that asks
 * for instructions (render_script) is told to dial the customer then.
 * All strings are UTF-8 and borrowed.
 */
typedef struct vc_call_outbound {
  unsigned int version;        /**< VC_CALL_OUTBOUND_VERSION */
  const char *call_id;         /**< the library's id */
  const char *tenant_id;       /**< the tenant placing it */
  const char *agent;           /**< E.164 number or sip: URI */
  const char *customer;        /**< E.164 number */
  const char *caller_id;       /**< shown to the customer (and agent) */
  int record;                  /**< 1: record from the bridge on */
  int ring_timeout_s;          /**< per leg */
  int time_limit_s;            /**< of the conversation */
  /** {public_base_url}/webhooks/{channel_id}?vc_call={call_id}: where
   *  every callback and instruction fetch of this call goes. An adapter
   *  adds `&vc_step=...` of its own to tell them apart; the core reads
   *  vc_call from the query, so adapters need not report it. NULL when
   *  the context has no public_base_url. */
  const char *webhook_url;
  const char *metadata_json;   /**< the caller's metadata, or NULL */
  int64_t now_ms;              /**< the context's clock */
} vc_call_outbound;

/** The current version of vc_call_outbound. */
#define VC_CALL_OUTBOUND_VERSION 1

/** Operations on a live call. Values are pinned. */
typedef enum vc_call_op {
  VC_CALL_OP_HANGUP = 1,
  VC_CALL_OP_HOLD = 2,
  VC_CALL_OP_UNHOLD = 3,
  VC_CALL_OP_TRANSFER = 4,        /**< blind, to `target` */
  VC_CALL_OP_RECORD_START = 5,
  VC_CALL_OP_RECORD_STOP = 6,
  VC_CALL_OP_DELETE_RECORDING = 7, /**< remove `recording_id` at the
                                       provider (retention purge) */
  /**
   * Ask the provider what it charged for the call `provider_call_id`
   * names, after the call ended (VC_CAP_CALL_PRICE; @since 0.2).
   * build_control builds the request (a GET of the provider's call
   * resource); parse_control answers:
   * - ACCEPTED with vc_send_result.cost_micros, the charge as a
   *   non-negative count of micro-units (a provider that writes charges
   *   as negative amounts is turned around; the decimal converted
   *   exactly, never through floating point) and `currency` (ISO 4217),
   *   when the provider has priced the call (0 is a price: a call that
   *   cost nothing);
   * - RETRY, with retry_after_ms when the adapter knows how long the
   *   provider takes, while the provider has not priced the call yet;
   *   RETRY with error VC_EPROVIDER for a price it cannot read;
   * - REJECTED (the call is unknown there) or FAILOVER (the channel's
   *   credentials or account) otherwise, as for the other operations.
   * The core asks a little after the call ended, a bounded number of
   * times; the price replaces the rate-card estimate. When the
   * customer's leg has an id of its own (customer_leg_id, a Twilio
   * <Dial> child) the provider prices it apart: the core asks for that
   * id too (as provider_call_id) and adds the two prices.
   */
  VC_CALL_OP_FETCH_PRICE = 8
} vc_call_op;

/** A request about a call placed earlier. Strings are borrowed. */
typedef struct vc_call_control {
  unsigned int version;        /**< VC_CALL_CONTROL_VERSION */
  int op;                      /**< a vc_call_op */
  const char *call_id;         /**< the library's id of the call */
  /** The id parse_call reported. HANGUP ends the call this id names:
   *  while the customer's leg is apart from the agent's (on hold,
   *  transferred) the core sends a second HANGUP whose provider_call_id
   *  is the customer's leg. */
  const char *provider_call_id;
  /** The provider's id of the customer's leg when it has its own (a
   *  Twilio <Dial> child call), else NULL. */
  const char *customer_leg_id;
  const char *target;          /**< TRANSFER: E.164 or sip: URI */
  const char *caller_id;       /**< TRANSFER: the number shown */
  const char *recording_id;    /**< DELETE_RECORDING */
  const char *webhook_url;     /**< as in vc_call_outbound */
  int64_t now_ms;              /**< the context's clock */
} vc_call_control;

/** The current version of vc_call_control. */
#define VC_CALL_CONTROL_VERSION 1

/** What a call update reports. Values are pinned. */
typedef enum vc_call_update_type {
  VC_UPDATE_RINGING = 1,       /**< `leg` rings */
  VC_UPDATE_ANSWERED = 2,      /**< `leg` answered */
  VC_UPDATE_ENDED = 3,         /**< `leg` (or the call: VC_LEG_NONE)
                                    ended; `cause` says how */
  VC_UPDATE_DTMF = 4,          /**< `digits` were pressed */
  VC_UPDATE_RECORDING = 5,     /**< recording_status says what */
  VC_UPDATE_QUALITY = 6,       /**< quality figures of the call */
  VC_UPDATE_PRICE = 7,         /**< the provider's price of the call */
  VC_UPDATE_SCRIPT = 8,        /**< the provider waits for instructions
                                    (the answer of this webhook) */
  VC_UPDATE_HOLD = 9,          /**< the provider confirms a hold */
  VC_UPDATE_UNHOLD = 10,
  /** A call to one of the tenant's numbers arrives (`from` calls `to`;
   *  `provider_call_id` names it): the core routes the number
   *  (vyomcomm/number.h), stores an inbound call and, as for
   *  VC_UPDATE_SCRIPT, answers with the call's first script: a webhook
   *  through the adapter's render_script, a session through its
   *  run_script. A call the number does not route is refused with a
   *  HANGUP script and recorded failed (cause VC_CAUSE_UNKNOWN_NUMBER).
   *  @since 0.3 */
  VC_UPDATE_INCOMING = 11
} vc_call_update_type;

/** Recording statuses of VC_UPDATE_RECORDING. */
#define VC_RECORDING_STARTED 1
#define VC_RECORDING_STOPPED 2
#define VC_RECORDING_AVAILABLE 3
#define VC_RECORDING_FAILED 4

/** Something a provider reported about a call. */
typedef struct vc_call_update {
  unsigned int version;        /**< VC_CALL_UPDATE_VERSION */
  int type;                    /**< a vc_call_update_type */
  const char *call_id;         /**< the library's id when known, or NULL */
  const char *provider_call_id;  /**< the provider's id, or NULL */
  /** The provider's id of this leg when it has its own, or NULL. */
  const char *leg_provider_id;
  int leg;                     /**< a vc_call_leg */
  /** The provider's unique id of this event, or NULL: then the core
   *  hashes the update's fields for deduplication. */
  const char *event_id;
  int64_t occurred_at;         /**< Unix ms, 0 when unknown */
  int cause;                   /**< ENDED: a vc_call_cause */
  /** ENDED: seconds this leg talked; SCRIPT asked at a DIAL's end
   *  (its action_url): seconds the DIAL's bridge lasted, when known. */
  int duration_s;
  const char *provider_code;   /**< the provider's status or cause text */
  const char *digits;          /**< DTMF */
  int recording_status;        /**< RECORDING: VC_RECORDING_* */
  const char *recording_id;    /**< RECORDING: the provider's id */
  const char *recording_url;   /**< RECORDING: where to fetch it */
  int recording_duration_s;    /**< RECORDING: its length, seconds */
  /** QUALITY: a figure the provider did not give is negative. */
  double jitter_ms, packet_loss_pct, rtt_ms, mos;
  int64_t price_micros;        /**< PRICE: what the provider charged */
  char currency[4];            /**< PRICE: ISO 4217 */

  /* Added in version 2 (vyomcomm 0.3). */
  /** INCOMING: the caller's number (E.164, a sip: URI, or the
   *  provider's form: the core normalizes it), or NULL when withheld. */
  const char *from;
  /** INCOMING: the number called, as the provider wrote it (E.164, a
   *  national number, or a sip: URI). Required for INCOMING. */
  const char *to;
} vc_call_update;

/** The current version of vc_call_update. */
#define VC_CALL_UPDATE_VERSION 2

/** Report something a webhook said about a call.
 *  @return 0; VC_EINVALID (a malformed update: the webhook is refused)
 *  @since 0.2 */
VC_EXTERN(int) vc_event_sink_call(vc_event_sink *sink,
                                  const vc_call_update *update);

/* --- call scripts: what a call does next ----------------------------------- */

/** The kinds of step of a call script. Values are pinned. */
typedef enum vc_call_step_kind {
  VC_STEP_SAY = 1,      /**< speak `text` in `language` */
  VC_STEP_PLAY = 2,     /**< play the audio at `url` */
  VC_STEP_PAUSE = 3,    /**< silence for `timeout_s` */
  /** Collect up to `num_digits` keys (or until `finish_on_key`) within
   *  `timeout_s` while playing `text`/`url` as the prompt; the keys go
   *  to `action_url`. Without a key the script goes on. */
  VC_STEP_GATHER = 4,
  /** Connect the call to `target` (E.164 or sip: URI) with `caller_id`,
   *  ringing `timeout_s` at most, talking `time_limit_s` at most;
   *  progress of the new leg goes to `status_url`, its end to
   *  `action_url`; `answer_url` runs on the called party before the
   *  bridge (an IVR, a whisper); `record` records from the answer. */
  VC_STEP_DIAL = 5,
  VC_STEP_HANGUP = 6,
  VC_STEP_REDIRECT = 7, /**< fetch the next script from `url` */
  VC_STEP_HOLD = 8,     /**< music on hold from `url` (NULL: default)
                             until redirected */
  /** Record the caller (a voicemail) after a beep: at most
   *  `time_limit_s` seconds, ending early on `finish_on_key` or after
   *  `timeout_s` seconds of silence. The recording is reported to
   *  `action_url` (VC_UPDATE_RECORDING, VC_RECORDING_AVAILABLE with its
   *  id, URL and duration; VC_RECORDING_FAILED when there is none), which
   *  answers with what the call does next. @since 0.3 */
  VC_STEP_RECORD = 9
} vc_call_step_kind;

/** One step. Unused fields are NULL or 0. */
typedef struct vc_call_step {
  int kind;             /**< a vc_call_step_kind */
  const char *text;     /**< SAY, GATHER's prompt: the words */
  const char *language; /**< BCP 47, NULL: the provider's default */
  const char *url;      /**< PLAY, HOLD, GATHER's prompt: audio; REDIRECT:
                             the next script */
  unsigned int loop;    /**< repeats of SAY, PLAY, HOLD; 0 = once */
  unsigned int num_digits;   /**< GATHER: keys to collect, 0 = any */
  const char *finish_on_key; /**< GATHER, RECORD: the key that ends it */
  int timeout_s;        /**< GATHER: wait for a key; DIAL: ring;
                             RECORD: silence; PAUSE: length */
  const char *action_url;    /**< GATHER, DIAL, RECORD: where the
                                  outcome goes (and the next script) */
  const char *target;   /**< DIAL: E.164 or sip: URI */
  const char *caller_id;     /**< DIAL: the number shown */
  int time_limit_s;     /**< DIAL: talk at most; RECORD: record at most */
  const char *status_url;    /**< DIAL: the new leg's progress */
  const char *answer_url;    /**< DIAL: script for the called party */
  int record;           /**< DIAL: 1 records from the answer */
} vc_call_step;

/** A script: steps run in order. */
typedef struct vc_call_script {
  unsigned int version;        /**< VC_CALL_SCRIPT_VERSION */
  const vc_call_step *steps;   /**< the steps, borrowed */
  size_t nsteps;               /**< how many steps */
} vc_call_script;

/** The current version of vc_call_script. */
#define VC_CALL_SCRIPT_VERSION 1

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

/** Voice: vc_call_hold() works (call_control HOLD, UNHOLD). */
#define VC_CAP_CALL_HOLD        (1u << 7)
/** Voice: vc_call_transfer() works. */
#define VC_CAP_CALL_TRANSFER    (1u << 8)
/** Voice: vc_call_hangup() works on a live call. */
#define VC_CAP_CALL_HANGUP      (1u << 9)
/** Voice: recording can start and stop during a call. */
#define VC_CAP_CALL_RECORD      (1u << 10)
/** Voice: recordings can be deleted at the provider. */
#define VC_CAP_RECORDING_DELETE (1u << 11)
/** Voice: the provider follows scripts (render_script). */
#define VC_CAP_CALL_SCRIPT      (1u << 12)
/** Voice: the provider tells a call's price after it ended
 *  (call_control VC_CALL_OP_FETCH_PRICE). @since 0.2 */
#define VC_CAP_CALL_PRICE       (1u << 13)

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
  /** REQUIRED except for voice. Build the request that sends `msg`. */
  int VC_CALLBACK(build_send)(void *state, const vc_outbound *msg,
                              vc_http_out *req);
  /** REQUIRED except for voice. Interpret the provider's response to
   *  that request. A response it cannot parse is VC_SEND_RETRY with
   *  error VC_EPROVIDER unless its status says otherwise. */
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

  /* --- since VC_ADAPTER_VERSION 2: voice (kind VC_CHANNEL_VOICE) --------- */

  /** REQUIRED for voice (where build_send and parse_send are not):
   *  build the request that places `call`. */
  int VC_CALLBACK(build_call)(void *state, const vc_call_outbound *call,
                              vc_http_out *req);
  /** REQUIRED for voice. Interpret the answer: ACCEPTED with the call's
   *  provider id, or RETRY, REJECTED, FAILOVER as for messages. */
  int VC_CALLBACK(parse_call)(void *state, const vc_call_outbound *call,
                              const vc_http_response *res,
                              vc_send_result *out);
  /** OPTIONAL. Build the request for an operation on a live call, or
   *  VC_ENOTSUPPORTED (after vc_error_set_str) when the provider has
   *  none; the capability bits say which ones it has. */
  int VC_CALLBACK(build_control)(void *state, const vc_call_control *c,
                                 vc_http_out *req);
  /** OPTIONAL with build_control: interpret its answer. */
  int VC_CALLBACK(parse_control)(void *state, const vc_call_control *c,
                                 const vc_http_response *res,
                                 vc_send_result *out);
  /** OPTIONAL (VC_CAP_CALL_SCRIPT): write `script` in the provider's own
   *  form (TwiML) into `out`, and its media type into `*content_type`
   *  (static). The core answers a VC_UPDATE_SCRIPT webhook with it. */
  int VC_CALLBACK(render_script)(void *state, const vc_call_script *script,
                                 vc_buf *out, const char **content_type);
  /** OPTIONAL, for VC_CAP_LOCAL voice adapters (the sandbox): report the
   *  whole life of a call just accepted, as a webhook would. */
  int VC_CALLBACK(local_progress)(void *state, const vc_call_outbound *call,
                                  vc_event_sink *sink);
  /** OPTIONAL, voice only: a provider reached over a long-lived
   *  connection (vyomcomm/sys/transport.h). An adapter with `session`
   *  has no build_call or parse_call. */
  const struct vc_session_ops *session;
} vc_adapter;

/** The current version of vc_adapter (2: voice methods). */
#define VC_ADAPTER_VERSION 2

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
