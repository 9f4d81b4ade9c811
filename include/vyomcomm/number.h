/**
 * @file vyomcomm/number.h
 * @brief Inbound numbers: the numbers (DIDs) and SIP URIs a tenant
 *        receives calls on, each with the voice channel it arrives on
 *        and where the call goes first: an IVR menu, a queue or an agent.
 *
 * A number is stored normalized: E.164 ("+914412345678") or a SIP URI
 * reduced to "sip:user@host" (host lowercased, ";params" and "?headers"
 * dropped, a default port 5060 dropped, "sips:" kept apart from "sip:").
 * A number belongs to exactly one tenant: creating it in a second
 * tenant fails with VC_EEXISTS.
 *
 * Lookup by number (vc_number_find()) takes the number as a provider
 * writes it: E.164 with or without separators ("+91 44 1234 5678",
 * "+91-44-12345678", "0091 44 12345678"), the digits of E.164 without
 * '+' ("914412345678"), or the national format with its trunk prefix
 * ("044 1234 5678", "(415) 555-0100"), matched on the national
 * significant number; a national number that matches numbers of two
 * countries is refused (VC_EINVALID), never guessed.
 *
 * Creating, updating and deleting a number appends `number.created`,
 * `number.updated`, `number.deleted` events and an audit entry.
 *
 * Thread safety: every function may be called from any thread; a
 * vc_number handle may be shared between threads (vc_number_update()
 * is serialised on the handle). vc_number_free() is the last call on a
 * handle.
 *
 * @defgroup vc_number Inbound numbers
 * @{
 */
#ifndef VYOMCOMM_NUMBER_H
#define VYOMCOMM_NUMBER_H

#include "common.h"
#include "types.h"
#include "iter.h"

VC_BEGIN_DECL

/** A number handle: a snapshot of the stored number. */
typedef struct vc_number vc_number;

/** Where a call to a number goes first. Values are pinned. */
typedef enum vc_number_entry {
  VC_NUMBER_ENTRY_IVR = 1,     /**< an IVR menu (vyomcomm/ivr.h) */
  VC_NUMBER_ENTRY_QUEUE = 2,   /**< a queue (vyomcomm/queue.h) */
  VC_NUMBER_ENTRY_AGENT = 3    /**< an agent (vyomcomm/agent.h) */
} vc_number_entry;

/** A static name for an entry kind ("ivr", "queue", "agent"), or
 *  "unknown". @since 0.3 */
VC_EXTERN(const char *) vc_number_entry_name(int kind);

/** Limits. */
#define VC_NUMBER_MAX 256          /**< a number or SIP URI, bytes */
#define VC_NUMBER_LABEL_MAX 256    /**< bytes of UTF-8 */

/**
 * A number's settings. For vc_number_new() every field but `label` is
 * required; for vc_number_update() NULL (and entry_kind 0) keep the
 * current value. Strings are copied.
 */
typedef struct vc_number_spec {
  unsigned int version;     /**< VC_NUMBER_SPEC_VERSION */
  /** E.164 (separators and a leading "00" accepted) or a sip:/sips:
   *  URI, at most VC_NUMBER_MAX bytes. */
  const char *number;
  /** The voice channel (id or name) calls to the number arrive on. */
  const char *channel;
  /** A vc_number_entry. */
  int entry_kind;
  /** The menu, queue or agent, by id or name; resolved to its id and
   *  checked when stored. Required with entry_kind. */
  const char *entry;
  /** Shown to people ("Support line"); "" = none. */
  const char *label;
} vc_number_spec;

/** The current version of vc_number_spec, and an initializer with every
 *  member at its default (vc_number_spec_init() for other languages). */
#define VC_NUMBER_SPEC_VERSION 1
#define VC_NUMBER_SPEC_INIT { VC_NUMBER_SPEC_VERSION, NULL, NULL, 0, NULL, NULL }

/** Initialise a vc_number_spec for `version`. @since 0.3 */
VC_EXTERN(int) vc_number_spec_init(vc_number_spec *s, unsigned int version);

/**
 * Store an inbound number of the tenant.
 *
 * @param out receives the handle (may be NULL if not wanted)
 * @return 0; VC_EINVALID (a malformed number, a national number, a
 *   channel that is not a voice channel, an unknown entry kind),
 *   VC_ENOTFOUND (no such channel, menu, queue or agent),
 *   VC_EEXISTS (the number is taken, by this or another tenant)
 * @since 0.3
 */
VC_EXTERN(int) vc_number_new(vc_number **out, vc_tenant *tenant,
                             const vc_number_spec *spec);

/**
 * Load a number of the tenant by id.
 * @return 0, VC_ENOTFOUND, VC_EINVALID (not an id)
 * @since 0.3
 */
VC_EXTERN(int) vc_number_lookup(vc_number **out, vc_tenant *tenant,
                                const char *id);

/**
 * Load the tenant's number that `number` (as a provider writes it, see
 * above) denotes.
 * @return 0; VC_ENOTFOUND (none of the tenant's), VC_EINVALID
 *   (malformed, or a national number of two countries)
 * @since 0.3
 */
VC_EXTERN(int) vc_number_find(vc_number **out, vc_tenant *tenant,
                              const char *number);

/**
 * Change a number's settings; the handle shows the new values (strings
 * borrowed before stay valid until vc_number_free()).
 * @return 0; as vc_number_new(), VC_ENOTFOUND (deleted)
 * @since 0.3
 */
VC_EXTERN(int) vc_number_update(vc_number *number,
                                const vc_number_spec *spec);

/**
 * Delete a number: calls to it are refused from now on. The handle's
 * getters still answer.
 * @return 0, VC_ENOTFOUND (already deleted)
 * @since 0.3
 */
VC_EXTERN(int) vc_number_delete(vc_number *number);

/** What vc_number_list() returns, in id (creation) order. */
typedef struct vc_number_filter {
  unsigned int version;   /**< VC_NUMBER_FILTER_VERSION */
  const char *after;      /**< a vc_iter_cursor() value, or NULL */
  int entry_kind;         /**< a vc_number_entry, or 0 for any */
  const char *entry_id;   /**< only numbers to this menu/queue/agent id */
  const char *channel_id; /**< only numbers arriving on this channel */
} vc_number_filter;

/** The current version of vc_number_filter, and an initializer with every
 *  member at its default (vc_number_filter_init() for other languages). */
#define VC_NUMBER_FILTER_VERSION 1
#define VC_NUMBER_FILTER_INIT { VC_NUMBER_FILTER_VERSION, NULL, 0, NULL, NULL }

/** Initialise a vc_number_filter for `version`. @since 0.3 */
VC_EXTERN(int) vc_number_filter_init(vc_number_filter *f,
                                     unsigned int version);

/**
 * List the tenant's numbers in id order.
 * @param filter NULL for all
 * @return 0, VC_EINVALID (a cursor, channel or entry that is not an id,
 *   an unknown entry kind)
 * @since 0.3
 */
VC_EXTERN(int) vc_number_list(vc_iter **out, vc_tenant *tenant,
                              const vc_number_filter *filter);
/** The next number of a list. @return 0, VC_ITEROVER. @since 0.3 */
VC_EXTERN(int) vc_number_next(vc_number **out, vc_iter *it);

/** Free a number handle; NULL is accepted. @since 0.3 */
VC_EXTERN(void) vc_number_free(vc_number *number);

/** @name Getters
 *  Strings are borrowed from the handle. @since 0.3 */
/** The number's id. */
VC_EXTERN(const char *) vc_number_id(const vc_number *number);
/** Its tenant's id. */
VC_EXTERN(const char *) vc_number_tenant_id(const vc_number *number);
/** The normalized number or URI. @since 0.3 */
VC_EXTERN(const char *) vc_number_number(const vc_number *number);
/** The voice channel calls to it arrive on. */
VC_EXTERN(const char *) vc_number_channel_id(const vc_number *number);
/** A vc_number_entry. @since 0.3 */
VC_EXTERN(int) vc_number_entry_kind(const vc_number *number);
/** The menu, queue or agent id. @since 0.3 */
VC_EXTERN(const char *) vc_number_entry_id(const vc_number *number);
/** Its label, "" when none. */
VC_EXTERN(const char *) vc_number_label(const vc_number *number);
/** When it was stored, Unix ms. */
VC_EXTERN(int64_t) vc_number_created_at(const vc_number *number);
/** When it last changed, Unix ms. */
VC_EXTERN(int64_t) vc_number_updated_at(const vc_number *number);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_NUMBER_H */
