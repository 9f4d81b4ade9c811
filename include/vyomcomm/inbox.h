/**
 * @file vyomcomm/inbox.h
 * @brief The unified inbox: one conversation per contact across every
 *        channel, its timeline of inbound and outbound messages and
 *        calls, statuses, assignment to agents, unread counts, and
 *        replies on the channel the customer last wrote on.
 *
 * A conversation is opened by the first inbound message of a contact (an
 * unknown sender becomes a contact) and moved by later ones: each adds
 * one to its unread count, records the channel it came on and reopens
 * the conversation; so does a voicemail (an inbound call's, whose caller
 * becomes a contact when unknown). Outbound messages (campaigns included) do not touch
 * conversations; they appear in the timeline, which is read from the
 * messages, inbound messages and calls that carry the contact's id.
 *
 * Every function that changes a conversation writes an audit row
 * (vyomcomm/audit.h) in its own transaction.
 *
 * Thread safety: every function may be called from any thread; handles
 * are snapshots and may be shared between threads.
 *
 * @defgroup vc_inbox Unified inbox
 * @{
 */
#ifndef VYOMCOMM_INBOX_H
#define VYOMCOMM_INBOX_H

#include "common.h"
#include "types.h"
#include "message.h"

VC_BEGIN_DECL

/** A conversation handle: a snapshot of the stored conversation. */
typedef struct vc_conversation vc_conversation;

/** One entry of a conversation's timeline. */
typedef struct vc_conversation_item vc_conversation_item;

/** Conversation statuses. Values are pinned. */
typedef enum vc_conversation_status {
  VC_CONVERSATION_OPEN = 1,     /**< needs the tenant's attention */
  VC_CONVERSATION_PENDING = 2,  /**< answered, waiting on the customer */
  VC_CONVERSATION_RESOLVED = 3, /**< done, until the customer writes */
  VC_CONVERSATION_SNOOZED = 4   /**< set aside until a time */
} vc_conversation_status;

/** A static name for a status ("open", ...; "" when unknown).
 *  @since 0.3 */
VC_EXTERN(const char *) vc_conversation_status_name(int status);

/**
 * Load a conversation by id.
 * @return 0, VC_EINVALID (not an id), VC_ENOTFOUND
 * @since 0.3
 */
VC_EXTERN(int) vc_conversation_lookup(vc_conversation **out,
                                      vc_tenant *tenant, const char *id);

/**
 * Load a contact's conversation (a merged contact's id names the
 * survivor's).
 * @return 0, VC_EINVALID (not an id), VC_ENOTFOUND (no such contact, or
 *   the contact has no conversation yet)
 * @since 0.3
 */
VC_EXTERN(int) vc_conversation_lookup_contact(vc_conversation **out,
                                              vc_tenant *tenant,
                                              const char *contact_id);

/** The longest search text of a vc_conversation_filter, in bytes. */
#define VC_CONVERSATION_SEARCH_MAX 100

/**
 * What vc_conversation_list() returns, newest activity first. Every set
 * condition must hold.
 */
typedef struct vc_conversation_filter {
  unsigned int version;     /**< VC_CONVERSATION_FILTER_VERSION */
  const char *after;        /**< a vc_iter_cursor() value, or NULL */
  int status;               /**< a vc_conversation_status, or 0 for any */
  const char *assignee_id;  /**< an agent id, or NULL for any */
  int unassigned;           /**< 1: only conversations nobody is assigned */
  int unread;               /**< 1: only conversations with unread ones */
  int channel_kind;         /**< the last inbound's vc_channel_kind, or 0 */
  int64_t updated_since;    /**< changed at or after (Unix ms), or 0 */
  /**
   * Search, or NULL: the conversations whose contact's name or one of
   * its addresses, or the text of one of its inbound or outbound
   * messages, contains this text (ASCII letters match either case; at
   * most VC_CONVERSATION_SEARCH_MAX bytes). No index serves it: a page
   * reads conversations newest first until it has found a page of
   * matches, and each one read costs a look at its contact's messages.
   */
  const char *text;
} vc_conversation_filter;

/** The current version of vc_conversation_filter, and an initializer with
 *  every member at its default (vc_conversation_filter_init() for other
 *  languages). */
#define VC_CONVERSATION_FILTER_VERSION 1
#define VC_CONVERSATION_FILTER_INIT \
  { VC_CONVERSATION_FILTER_VERSION, NULL, 0, NULL, 0, 0, 0, 0, NULL }

/** Initialise a vc_conversation_filter for `version`. @since 0.3 */
VC_EXTERN(int) vc_conversation_filter_init(vc_conversation_filter *f,
                                           unsigned int version);

/**
 * List conversations, newest activity first, in pages. Conversations of
 * contacts that were merged into another or erased are left out.
 * @return 0; VC_EINVALID (bad cursor, status, channel kind or agent id,
 *   `unassigned` with `assignee_id`), VC_ETOOBIG (search text too long)
 * @since 0.3
 */
VC_EXTERN(int) vc_conversation_list(vc_iter **out, vc_tenant *tenant,
                                    const vc_conversation_filter *filter);
/** The next conversation of a list. @return 0, VC_ITEROVER. @since 0.3 */
VC_EXTERN(int) vc_conversation_next(vc_conversation **out, vc_iter *it);

/**
 * Set a conversation's status. Snoozing needs a time in the future; a
 * snoozed conversation is open again once that time has passed (it is
 * read as open from then on: no job runs, and no event is appended).
 * An inbound message reopens a conversation of any status.
 *
 * @param snoozed_until Unix ms, only with VC_CONVERSATION_SNOOZED (else 0)
 * @return 0; VC_EINVALID (unknown status, a snooze time not in the
 *   future, or one given with another status), VC_ENOTFOUND
 * @since 0.3
 */
VC_EXTERN(int) vc_conversation_set_status(vc_tenant *tenant, const char *id,
                                          int status, int64_t snoozed_until);

/**
 * Assign a conversation to an agent (vyomcomm/agent.h) by id or name (an
 * id match wins, as vc_agent_lookup()), replacing any earlier assignee.
 * @return 0; VC_EINVALID (the conversation id is not an id, no agent
 *   given), VC_ENOTFOUND (no such conversation or agent)
 * @since 0.3
 */
VC_EXTERN(int) vc_conversation_assign(vc_tenant *tenant, const char *id,
                                      const char *agent);

/** Leave a conversation unassigned. @return 0, VC_EINVALID,
 *  VC_ENOTFOUND. @since 0.3 */
VC_EXTERN(int) vc_conversation_unassign(vc_tenant *tenant, const char *id);

/** Set a conversation's unread count to 0. @return 0, VC_EINVALID,
 *  VC_ENOTFOUND. @since 0.3 */
VC_EXTERN(int) vc_conversation_mark_read(vc_tenant *tenant, const char *id);

/**
 * Reply to the customer: the message goes on the channel of the
 * conversation's latest inbound message, to the address it came from,
 * through vc_message_send()'s path in this call's transaction, so that
 * consent, quiet hours, a channel's session window and every other rule
 * of that channel apply, with their errors returned unchanged. The
 * message is for the conversation's contact; its category is the
 * spec's (0: the template's, or transactional for a raw body).
 *
 * A queued reply marks the conversation read, sets it pending (waiting
 * on the customer, until their next message reopens it) and counts as
 * activity. Nothing changes when the message is refused.
 *
 * @param id_out receives the message id
 * @param spec   the body: text, html, subject, template and variables,
 *               attachments, category, idempotency key, send time. Its
 *               `kind`, `channel`, `to` and `contact_id` must be unset:
 *               the conversation decides them.
 * @return 0; VC_EINVALID (not an id, a routing field set),
 *   VC_ENOTFOUND (no such conversation, or no inbound message to answer
 *   yet), and every error of vc_message_send() (VC_ECONSENT, ...)
 * @since 0.3
 */
VC_EXTERN(int) vc_conversation_reply(char id_out[VC_ID_SIZE],
                                     vc_tenant *tenant,
                                     const char *conversation_id,
                                     const vc_message_spec *spec);

/** Free a conversation handle; NULL is accepted. @since 0.3 */
VC_EXTERN(void) vc_conversation_free(vc_conversation *c);

/** @name Getters
 *  Strings are borrowed from the handle. @since 0.3 */
/** The conversation's id. */
VC_EXTERN(const char *) vc_conversation_id(const vc_conversation *c);
/** The contact the conversation is with. */
VC_EXTERN(const char *) vc_conversation_contact_id(const vc_conversation *c);
/** The status as of the lookup: a snooze that ended reads as open. */
VC_EXTERN(int) vc_conversation_status_of(const vc_conversation *c);
/** Until when it is snoozed (Unix ms), 0 when it is not. */
VC_EXTERN(int64_t) vc_conversation_snoozed_until(const vc_conversation *c);
/** The assigned agent's id, "" when nobody is assigned. */
VC_EXTERN(const char *) vc_conversation_assignee_id(
  const vc_conversation *c);
/** Inbound messages since the conversation was last read or answered. */
VC_EXTERN(int64_t) vc_conversation_unread(const vc_conversation *c);
/** The channel of the latest inbound message, "" before the first. */
VC_EXTERN(const char *) vc_conversation_last_channel_id(
  const vc_conversation *c);
/** That channel's vc_channel_kind, 0 before the first inbound. */
VC_EXTERN(int) vc_conversation_last_channel_kind(const vc_conversation *c);
/** The latest inbound message or reply (Unix ms). */
VC_EXTERN(int64_t) vc_conversation_last_activity_at(
  const vc_conversation *c);
/** When the conversation was created (Unix ms). */
VC_EXTERN(int64_t) vc_conversation_created_at(const vc_conversation *c);
/** When the conversation last changed (Unix ms). */
VC_EXTERN(int64_t) vc_conversation_updated_at(const vc_conversation *c);

/* ---- the timeline --------------------------------------------------- */

/** What a timeline item is. Values are pinned. */
typedef enum vc_conversation_item_type {
  VC_CONVERSATION_ITEM_INBOUND = 1,  /**< a message from the customer */
  VC_CONVERSATION_ITEM_OUTBOUND = 2, /**< a message to the customer */
  VC_CONVERSATION_ITEM_CALL = 3,     /**< a call with the customer */
  /** A voicemail the customer left (an inbound call: its id is the
   *  call's; vc_conversation_item_recording_url() and
   *  vc_conversation_item_duration() tell the recording). @since 0.3 */
  VC_CONVERSATION_ITEM_VOICEMAIL = 4
} vc_conversation_item_type;

/** A static name for an item type ("inbound", "outbound", "call",
 *  "voicemail"), or "" for another value. @since 0.3 */
VC_EXTERN(const char *) vc_conversation_item_type_name(int type);

/** The longest text of an item, in characters (UTF-8). */
#define VC_CONVERSATION_ITEM_TEXT_MAX 160

/** Which timeline vc_conversation_items() reads. */
typedef struct vc_conversation_item_filter {
  unsigned int version;        /**< VC_CONVERSATION_ITEM_FILTER_VERSION */
  /** The conversation, or NULL to give `contact_id` instead (a contact
   *  with no conversation still has a timeline of what was sent to it). */
  const char *conversation_id;
  const char *contact_id;      /**< when `conversation_id` is NULL */
  const char *after;           /**< a vc_iter_cursor() value, or NULL */
  int newest_first;            /**< 1: newest first; 0: oldest first */
} vc_conversation_item_filter;

/** The current version of vc_conversation_item_filter, and an initializer with
 *  every member at its default (vc_conversation_item_filter_init() for other
 *  languages). */
#define VC_CONVERSATION_ITEM_FILTER_VERSION 1
#define VC_CONVERSATION_ITEM_FILTER_INIT \
  { VC_CONVERSATION_ITEM_FILTER_VERSION, NULL, NULL, NULL, 0 }

/** Initialise a vc_conversation_item_filter for `version`. @since 0.3 */
VC_EXTERN(int) vc_conversation_item_filter_init(
  vc_conversation_item_filter *f, unsigned int version);

/**
 * A contact's timeline: its inbound messages (by the time received),
 * outbound messages (by the time queued), calls (by the time started)
 * and voicemails (by the time recorded), in time order and then by id, in pages. The contacts merged
 * into it are included. A page reads the contact's items after the
 * cursor and sorts them: its cost grows with one contact's history, not
 * with the tenant's.
 *
 * @return 0; VC_EINVALID (neither or both of conversation_id and
 *   contact_id, not an id, a bad cursor), VC_ENOTFOUND (no such
 *   conversation or contact)
 * @since 0.3
 */
VC_EXTERN(int) vc_conversation_items(vc_iter **out, vc_tenant *tenant,
                                     const vc_conversation_item_filter *f);
/** The next item of a timeline. @return 0, VC_ITEROVER. @since 0.3 */
VC_EXTERN(int) vc_conversation_item_next(vc_conversation_item **out,
                                         vc_iter *it);
/** Free an item; NULL is accepted. @since 0.3 */
VC_EXTERN(void) vc_conversation_item_free(vc_conversation_item *item);

/** @name Getters
 *  Strings are borrowed from the item. @since 0.3 */
/** A vc_conversation_item_type. */
VC_EXTERN(int) vc_conversation_item_type_of(const vc_conversation_item *i);
/** The id of the inbound message, message (vc_message_lookup) or call
 *  (vc_call_lookup). */
VC_EXTERN(const char *) vc_conversation_item_id(
  const vc_conversation_item *i);
/** When it was received, queued or started (Unix ms). */
VC_EXTERN(int64_t) vc_conversation_item_at(const vc_conversation_item *i);
/** Its vc_channel_kind (VC_CHANNEL_VOICE for a call). */
VC_EXTERN(int) vc_conversation_item_channel_kind(
  const vc_conversation_item *i);
/** Its channel, "" while an outbound message or call is not routed. */
VC_EXTERN(const char *) vc_conversation_item_channel_id(
  const vc_conversation_item *i);
/** The start of its text: an inbound or outbound message's text (an
 *  email's subject when it has one), at most
 *  VC_CONVERSATION_ITEM_TEXT_MAX characters; "" for a call. */
VC_EXTERN(const char *) vc_conversation_item_text(
  const vc_conversation_item *i);
/** An outbound message's vc_msg_status, a call's (or a voicemail's
 *  call's) vc_call_state, 0 for an inbound message. */
VC_EXTERN(int) vc_conversation_item_status(const vc_conversation_item *i);
/** A voicemail's recording URL (as the provider gave it); "" for other
 *  items. @since 0.3 */
VC_EXTERN(const char *) vc_conversation_item_recording_url(
  const vc_conversation_item *i);
/** A voicemail's length in seconds; 0 for other items. @since 0.3 */
VC_EXTERN(int) vc_conversation_item_duration(const vc_conversation_item *i);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_INBOX_H */
