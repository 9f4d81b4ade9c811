/**
 * @file vyomcomm/message.h
 * @brief Messages: accepted only once durably stored as `queued`, then
 *        delivered by the engine at least once, and tracked to a final
 *        state.
 *
 * Thread safety: every function may be called from any thread; a
 * vc_message handle is a snapshot and may be shared between threads.
 *
 * @defgroup vc_message Messages
 * @{
 */
#ifndef VYOMCOMM_MESSAGE_H
#define VYOMCOMM_MESSAGE_H

#include "common.h"
#include "types.h"
#include "channel.h"
#include "category.h"

VC_BEGIN_DECL

/** A message handle: a snapshot of the stored message. */
typedef struct vc_message vc_message;

/**
 * Message statuses (DESIGN 4a). Values are pinned and ranked by value:
 * a status only moves forward, terminal ones never change, except that
 * `read` may follow `delivered`.
 */
typedef enum vc_msg_status {
  VC_MSG_QUEUED = 1,
  VC_MSG_SENDING = 2,
  VC_MSG_SENT = 3,
  VC_MSG_DELIVERED = 4,
  VC_MSG_READ = 5,
  VC_MSG_FAILED = 6,      /**< no provider accepted it */
  VC_MSG_UNDELIVERED = 7, /**< accepted, not delivered */
  VC_MSG_BOUNCED = 8,     /**< email bounced */
  VC_MSG_CANCELED = 9
} vc_msg_status;

/** A static name for a status ("queued", ...). @since 0.1 */
VC_EXTERN(const char *) vc_message_status_name(int status);

/** An attachment: bytes (copied) or a URL the provider fetches. */
typedef struct vc_attachment {
  const char *filename;       /**< file name shown to the recipient */
  const char *content_type;   /**< MIME type, e.g. "application/pdf" */
  const uint8_t *data;   /**< the bytes, or NULL when `url` is set */
  size_t len;                 /**< bytes at `data` */
  const char *url;       /**< an https URL, or NULL */
} vc_attachment;

/** Limits on what a message may carry. */
#define VC_MESSAGE_MAX_ATTACHMENTS 10
#define VC_MESSAGE_MAX_ATTACHMENT_BYTES (10 * 1024 * 1024)

/** What to send. Strings are copied before vc_message_send() returns. */
typedef struct vc_message_spec {
  unsigned int version;       /**< VC_MESSAGE_SPEC_VERSION */
  int kind;                   /**< a vc_channel_kind; 0 when `channel` set */
  const char *channel;        /**< a channel id or name, or NULL to route
                                   by kind over the tenant's channels */
  const char *to;             /**< E.164 number, email address, chat id */
  const char *from;           /**< sender override, or NULL */
  const char *subject;        /**< email subject (raw body), or NULL */
  const char *text;           /**< raw text body, or NULL */
  const char *html;           /**< raw HTML body (email), or NULL */
  const char *template_name;  /**< a template id or name instead of a
                                   raw body, or NULL */
  /** Template locale; NULL = the recipient contact's (the contact given,
   *  or the one holding `to`), else the tenant's. */
  const char *locale;
  const char *vars_json;      /**< template variables, a JSON object */
  const vc_attachment *attachments; /**< NULL or `nattachments` of them */
  size_t nattachments;        /**< at most VC_MESSAGE_MAX_ATTACHMENTS */
  const char *metadata_json;  /**< a JSON object kept with the message */
  /** A caller's retry with the same key returns the first message's id
   *  without sending again; the same key with different content is
   *  VC_ECONFLICT. At most 255 bytes. */
  const char *idempotency_key;
  int64_t send_at;            /**< Unix ms; 0 = as soon as possible */

  /* Added in version 2 (vyomcomm 0.3). */
  /** A vc_category; 0 = the template's, or transactional for a raw
   *  body. Consent and quiet hours are checked for it. */
  int category;
  /** The contact the message is for, or NULL to find the contact that
   *  holds `to` (vyomcomm/contact.h). */
  const char *contact_id;
} vc_message_spec;

/** The current version of vc_message_spec, and an initializer with every
 *  member at its default (vc_message_spec_init() for other languages). */
#define VC_MESSAGE_SPEC_VERSION 2
#define VC_MESSAGE_SPEC_INIT \
  { VC_MESSAGE_SPEC_VERSION, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
    NULL, NULL, NULL, 0, NULL, NULL, 0, 0, NULL }

/** Initialise a vc_message_spec for `version`. @since 0.1 */
VC_EXTERN(int) vc_message_spec_init(vc_message_spec *s,
                                    unsigned int version);

/**
 * Validate, render and store a message as `queued`, in one transaction,
 * then return its id. Nothing is sent before this returns; the engine
 * (vc_ctx_run or vc_ctx_start) delivers it.
 *
 * A message to a contact who opted out of its channel kind and category,
 * or who has not opted in where the tenant's policy needs it, is refused
 * with VC_ECONSENT and nothing is stored. One whose send time falls in
 * the contact's quiet hours is stored and deferred to their end.
 *
 * @param id_out receives the message id
 * @return 0; VC_EINVALID (bad address, missing body, unknown variable),
 *   VC_ENOTFOUND (unknown channel, template or contact), VC_ETOOBIG,
 *   VC_ECONFLICT (idempotency key reused with other content),
 *   VC_ECONSENT, VC_ESTORAGE (the store failed; when the message says
 *   "committed, but the sync ... failed", the message was stored and may
 *   be sent, but could not be made durable: send it again with the same
 *   idempotency key to be sure of exactly one)
 * @since 0.1
 */
VC_EXTERN(int) vc_message_send(char id_out[VC_ID_SIZE], vc_tenant *tenant,
                               const vc_message_spec *spec);

/** At most this many messages in one vc_message_send_many() call. */
#define VC_MESSAGE_SEND_MANY_MAX 1000

/**
 * vc_message_send() for several messages with one transaction and one
 * commit: the way to enqueue in bulk. Each message is validated and
 * stored on its own terms: one that fails (a bad address, an
 * idempotency conflict) is not stored and does not stop the others.
 * Idempotency keys repeated within the call behave as if the messages
 * were sent one after another.
 *
 * @param specs   `n` messages
 * @param ids     receives each message's id, "" for one not stored
 * @param results receives each message's result: 0 or what
 *                vc_message_send() would have returned; may be NULL
 * @return the number of messages stored (0..n), or a negative error when
 *   the call failed as a whole (VC_EINVALID: n over
 *   VC_MESSAGE_SEND_MANY_MAX; a store error: none was stored)
 * @since 0.2
 */
VC_EXTERN(int) vc_message_send_many(vc_tenant *tenant,
                                    const vc_message_spec *specs, size_t n,
                                    char (*ids)[VC_ID_SIZE], int *results);

/** Load a message by id. @return 0, VC_ENOTFOUND. @since 0.1 */
VC_EXTERN(int) vc_message_lookup(vc_message **out, vc_tenant *tenant,
                                 const char *id);

/**
 * Cancel a message that is still queued.
 * @return 0, VC_ENOTFOUND, VC_ESTATE (already being sent or final)
 * @since 0.1
 */
VC_EXTERN(int) vc_message_cancel(vc_tenant *tenant, const char *id);

/** What vc_message_list() returns, newest first. */
typedef struct vc_message_filter {
  unsigned int version;   /**< VC_MESSAGE_FILTER_VERSION */
  const char *after;      /**< a vc_iter_cursor() value, or NULL */
  int status;             /**< a vc_msg_status, or 0 for any */
  const char *channel;    /**< a channel id, or NULL for any */
  int64_t since;          /**< created at or after (Unix ms), or 0 */
  int64_t until;          /**< created before (Unix ms), or 0 */
} vc_message_filter;

/** The current version of vc_message_filter, and an initializer with every
 *  member at its default (vc_message_filter_init() for other languages). */
#define VC_MESSAGE_FILTER_VERSION 1
#define VC_MESSAGE_FILTER_INIT \
  { VC_MESSAGE_FILTER_VERSION, NULL, 0, NULL, 0, 0 }

/** Initialise a vc_message_filter for `version`. @since 0.1 */
VC_EXTERN(int) vc_message_filter_init(vc_message_filter *f,
                                      unsigned int version);

/** List messages, newest first. @since 0.1 */
VC_EXTERN(int) vc_message_list(vc_iter **out, vc_tenant *tenant,
                               const vc_message_filter *filter);
/** The next message of a list. @return 0, VC_ITEROVER. @since 0.1 */
VC_EXTERN(int) vc_message_next(vc_message **out, vc_iter *it);

/** Free a message handle; NULL is accepted. @since 0.1 */
VC_EXTERN(void) vc_message_free(vc_message *m);

/** @name Getters
 *  Strings are borrowed from the handle. @since 0.1 */
/** The message's id. */
VC_EXTERN(const char *) vc_message_id(const vc_message *m);
/** Its current status: a vc_msg_status. */
VC_EXTERN(int) vc_message_status(const vc_message *m);
/** Its channel kind: a vc_channel_kind. */
VC_EXTERN(int) vc_message_kind(const vc_message *m);
/** The channel that sent it (or is pinned), "" before routing. */
VC_EXTERN(const char *) vc_message_channel_id(const vc_message *m);
/** The recipient, as normalized when it was stored. */
VC_EXTERN(const char *) vc_message_to(const vc_message *m);
/** The provider's message id, "" until sent. */
VC_EXTERN(const char *) vc_message_provider_id(const vc_message *m);
/** The normalized error code of a failure, 0 otherwise. */
VC_EXTERN(int) vc_message_error(const vc_message *m);
/** The provider's own error code, "" when none. */
VC_EXTERN(const char *) vc_message_provider_code(const vc_message *m);
/** The failure's text (the provider's, or the library's own), "" when
 *  none. */
VC_EXTERN(const char *) vc_message_error_message(const vc_message *m);
/** SMS segments (0 for other kinds). */
VC_EXTERN(int) vc_message_segments(const vc_message *m);
/** Delivery attempts made so far. */
VC_EXTERN(int) vc_message_attempts(const vc_message *m);
/** The template version used, 0 for a raw body. */
VC_EXTERN(int) vc_message_template_version(const vc_message *m);
/** The vc_category the message was sent under. @since 0.3 */
VC_EXTERN(int) vc_message_category(const vc_message *m);
/** The contact the message is for, "" when no contact holds its
 *  address. @since 0.3 */
VC_EXTERN(const char *) vc_message_contact_id(const vc_message *m);
/** When the message was stored (Unix ms). */
VC_EXTERN(int64_t) vc_message_created_at(const vc_message *m);
/** When the message last changed (Unix ms). */
VC_EXTERN(int64_t) vc_message_updated_at(const vc_message *m);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_MESSAGE_H */
