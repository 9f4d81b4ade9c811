/**
 * @file vyomcomm/audit.h
 * @brief The audit trail: one append-only row per mutating API call,
 *        written in the call's own transaction, naming who did it (the
 *        actor the host set on the calling thread), what (an action such
 *        as "channel.update"), on which entity, when, and a summary that
 *        holds ids, counts and names of settings, never secrets, message
 *        bodies or addresses.
 *
 * Thread safety: every function may be called from any thread. The actor
 * is per thread. An audit entry handle is a snapshot and may be shared.
 *
 * @defgroup vc_audit Audit trail
 * @{
 */
#ifndef VYOMCOMM_AUDIT_H
#define VYOMCOMM_AUDIT_H

#include "common.h"
#include "types.h"

VC_BEGIN_DECL

/** The longest actor, in bytes. */
#define VC_AUDIT_ACTOR_MAX 128

/** The actor of the library's own work (an unsubscribe link applied by
 *  the built-in listener, ...), done on no host thread. */
#define VC_AUDIT_ACTOR_SYSTEM "system"

/**
 * Set the actor recorded for the mutating calls the calling thread makes
 * from now on (a user name, "erp:42", ...): copied; NULL or "" clears it
 * (the audit rows then say ""). Thread-local, like vc_error_last().
 * @return 0, VC_ETOOBIG (longer than VC_AUDIT_ACTOR_MAX bytes),
 *         VC_EENCODING (not UTF-8), VC_EINVALID (a control character);
 *         on error the actor is unchanged.
 * @since 0.3
 */
VC_EXTERN(int) vc_audit_actor_set(const char *actor);

/** The calling thread's actor, "" when none: borrowed, valid until the
 *  thread sets another. @since 0.3 */
VC_EXTERN(const char *) vc_audit_actor(void);

/** An audit entry handle: a snapshot of one row. */
typedef struct vc_audit_entry vc_audit_entry;

/** What vc_audit_list() returns, newest first. */
typedef struct vc_audit_filter {
  unsigned int version;   /**< VC_AUDIT_FILTER_VERSION */
  const char *after;      /**< a vc_iter_cursor() value, or NULL */
  const char *action_prefix; /**< "channel." or "channel.update", or NULL */
  const char *entity_id;  /**< an entity id, or NULL for any */
  const char *actor;      /**< an exact actor, or NULL for any */
  int64_t since;          /**< at or after (Unix ms), or 0 */
  int64_t until;          /**< before (Unix ms), or 0 */
} vc_audit_filter;

/** The current version of vc_audit_filter, and an initializer with every
 *  member at its default (vc_audit_filter_init() for other languages). */
#define VC_AUDIT_FILTER_VERSION 1
#define VC_AUDIT_FILTER_INIT \
  { VC_AUDIT_FILTER_VERSION, NULL, NULL, NULL, NULL, 0, 0 }

/** Initialise a vc_audit_filter for `version`. @since 0.3 */
VC_EXTERN(int) vc_audit_filter_init(vc_audit_filter *f,
                                    unsigned int version);

/**
 * List a tenant's audit entries, newest first, `filter` (NULL = all)
 * applied. Pages are read by a keyset cursor (the entry id).
 * @return 0, VC_EINVALID (a cursor or entity that is not an id, an
 *         inverted time range), VC_ETOOBIG (a filter string too long),
 *         VC_EVERSION
 * @since 0.3
 */
VC_EXTERN(int) vc_audit_list(vc_iter **out, vc_tenant *tenant,
                             const vc_audit_filter *filter);

/**
 * List the context-wide entries (those of no tenant, such as a master
 * key rotation), with the same filter.
 * @return as vc_audit_list()
 * @since 0.3
 */
VC_EXTERN(int) vc_audit_list_context(vc_iter **out, vc_ctx *ctx,
                                     const vc_audit_filter *filter);

/** The next entry of a list. @return 0, VC_ITEROVER. @since 0.3 */
VC_EXTERN(int) vc_audit_next(vc_audit_entry **out, vc_iter *it);

/** Free an entry; NULL is accepted. @since 0.3 */
VC_EXTERN(void) vc_audit_entry_free(vc_audit_entry *e);

/** @name Getters
 *  Strings are borrowed from the handle. @since 0.3 */
/** The entry's id (a ULID, ordered by time). */
VC_EXTERN(const char *) vc_audit_entry_id(const vc_audit_entry *e);
/** The tenant's id, "" for a context-wide entry. */
VC_EXTERN(const char *) vc_audit_entry_tenant_id(const vc_audit_entry *e);
/** Who: the actor set on the calling thread, "" when none. */
VC_EXTERN(const char *) vc_audit_entry_actor(const vc_audit_entry *e);
/** What: "<entity>.<verb>", e.g. "message.send". */
VC_EXTERN(const char *) vc_audit_entry_action(const vc_audit_entry *e);
/** On what: the entity's id, "" when the call has none (send_many). */
VC_EXTERN(const char *) vc_audit_entry_entity_id(const vc_audit_entry *e);
/** A JSON object: ids, counts, names of settings changed. */
VC_EXTERN(const char *) vc_audit_entry_summary_json(
  const vc_audit_entry *e);
/** When, by the context clock (Unix ms). */
VC_EXTERN(int64_t) vc_audit_entry_at(const vc_audit_entry *e);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_AUDIT_H */
