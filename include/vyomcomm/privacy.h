/**
 * @file vyomcomm/privacy.h
 * @brief Privacy: export everything held about a contact, erase a
 *        contact's personal data, and retention policies per tenant.
 *
 * - vc_contact_export() writes one JSON document with the contact, its
 *   consent and consent log, the messages to it, the inbound messages
 *   from it, its calls and recording references, its campaign
 *   memberships, do-not-call entries of its numbers, its erasures and
 *   the audit rows about it.
 * - vc_contact_erase() removes or blanks the contact's personal data
 *   everywhere, in one transaction, keeping ids, statuses, counts, times
 *   and ledger amounts. An opt-out or a do-not-call entry of the contact
 *   keeps working: its addresses are kept as keyed hashes (HMAC-SHA256
 *   under a per-tenant key sealed with the master key) that every send
 *   and call consults. Every erasure is recorded (vc_erasure_list) and
 *   audited (`contact.erase`).
 * - vc_retention_set() purges message bodies, recording references and
 *   events after a number of days, in bounded batches on the engine.
 *
 * See docs/engagement.md, "Privacy: export, erasure, retention".
 *
 * Thread safety: every function may be called from any thread.
 *
 * @defgroup vc_privacy Privacy
 * @{
 */
#ifndef VYOMCOMM_PRIVACY_H
#define VYOMCOMM_PRIVACY_H

#include "common.h"
#include "types.h"
#include "buffer.h"
#include "iter.h"

VC_BEGIN_DECL

/** The largest export: a contact whose document would be larger is
 *  VC_ETOOBIG (64 MiB). */
#define VC_CONTACT_EXPORT_MAX (64u * 1024u * 1024u)

/**
 * Everything held about a contact, as one JSON object appended to
 * `json_out` (members: `contact`, `addresses`, `tags`, `fields`,
 * `consent`, `consent_log`, `messages`, `inbound`, `calls`,
 * `campaigns`, `dnc`, `erasures`, `audit`). A merged id exports its
 * survivor (with the contacts merged into it); an erased contact exports
 * what is left, which holds nothing personal. The rows are read a page
 * at a time.
 *
 * @return 0; VC_EINVALID (bad id), VC_ENOTFOUND (no such contact of the
 *         tenant), VC_ETOOBIG (over VC_CONTACT_EXPORT_MAX; `json_out` is
 *         then left as it was), VC_ENOMEM, VC_ESTORAGE
 * @since 0.3
 */
VC_EXTERN(int) vc_contact_export(vc_buf *json_out, vc_tenant *tenant,
                                 const char *contact_id);

/** The longest reason of an erasure, in bytes. */
#define VC_ERASURE_REASON_MAX 512

/**
 * Erase a contact (a merged id erases its survivor and every contact
 * merged into it), in one transaction: the contact keeps its id and
 * loses its name, timezone, locale, quiet hours, custom fields,
 * addresses and tags; its messages lose their addresses, subjects,
 * bodies, metadata, error texts and attachments (queued ones are
 * canceled); inbound messages from its addresses lose sender, text and
 * media; its calls lose the customer's number, metadata and the
 * details of DTMF and transfer entries; its recordings lose their URL
 * (deleted at the provider when the channel can); campaign variables and
 * consent-log proofs are dropped; conversations are forgotten. Opt-outs
 * and do-not-call entries are kept as keyed hashes of the addresses
 * (which needs a master key). Ledger entries are not touched.
 *
 * @param erasure_id_out the new vc_erasure row's id; with VC_EEXISTS
 *        the id of the erasure that already erased the contact
 * @param reason free text (required, at most VC_ERASURE_REASON_MAX
 *        bytes of UTF-8), stored with the erasure, never audited
 * @return 0; VC_EEXISTS when the contact was erased before (nothing
 *         changes), VC_EINVALID, VC_ETOOBIG, VC_EENCODING,
 *         VC_ENOTFOUND (no such contact), VC_EKEY (the contact opted out
 *         or is on the do-not-call list and the context has no master
 *         key), VC_ESTORAGE
 * @since 0.3
 */
VC_EXTERN(int) vc_contact_erase(char erasure_id_out[VC_ID_SIZE],
                                vc_tenant *tenant, const char *contact_id,
                                const char *reason);

/** One erasure, borrowed from its iterator. The counts are rows touched. */
typedef struct vc_erasure_entry {
  const char *id;             /**< the erasure id vc_contact_erase() gave */
  const char *contact_id;    /**< as asked */
  const char *survivor_id;   /**< the contact erased */
  const char *actor;         /**< vc_audit_actor_set() of the caller */
  const char *reason;         /**< the reason given to vc_contact_erase() */
  int64_t at;                /**< Unix ms */
  /** Contacts, addresses, messages, inbound messages, calls and
   *  recordings erased. */
  int64_t contacts, addresses, messages, inbound, calls, recordings;
  /** Consent log rows and campaign recipients erased. */
  int64_t consent_log, campaign_recipients;
  int64_t suppressions;      /**< keyed hashes kept */
} vc_erasure_entry;

/** What vc_erasure_list() returns, oldest first. */
typedef struct vc_erasure_filter {
  unsigned int version;      /**< VC_ERASURE_FILTER_VERSION */
  const char *contact_id;    /**< only this contact's (asked or erased
                                  id), or NULL */
  const char *after;         /**< a vc_iter_cursor() value, or NULL */
} vc_erasure_filter;

/** The current version of vc_erasure_filter, and an initializer with every
 *  member at its default (vc_erasure_filter_init() for other languages). */
#define VC_ERASURE_FILTER_VERSION 1
#define VC_ERASURE_FILTER_INIT { VC_ERASURE_FILTER_VERSION, NULL, NULL }

/** Initialise a vc_erasure_filter for `version`. @since 0.3 */
VC_EXTERN(int) vc_erasure_filter_init(vc_erasure_filter *f,
                                      unsigned int version);

/** The tenant's erasures, in pages. `filter` may be NULL.
 *  @return 0; VC_EINVALID (bad id or cursor), VC_EVERSION. @since 0.3 */
VC_EXTERN(int) vc_erasure_list(vc_iter **out, vc_tenant *tenant,
                               const vc_erasure_filter *filter);

/** The next erasure; `out` is valid until the next call.
 *  @return 0, VC_ITEROVER, or a negative code. @since 0.3 */
VC_EXTERN(int) vc_erasure_next(const vc_erasure_entry **out, vc_iter *it);

/** The longest retention, in days (100 years). */
#define VC_RETENTION_DAYS_MAX 36500

/**
 * A tenant's retention policy. Each member is a number of days after
 * which the data goes, or 0 to keep it forever (the default).
 */
typedef struct vc_retention_spec {
  unsigned int version;      /**< VC_RETENTION_SPEC_VERSION */
  int message_body_days;     /**< subjects, bodies and attachments of
                                  messages that reached a final status,
                                  and text and media of inbound ones */
  int recording_days;        /**< recording references (URLs), deleted at
                                  the provider when the channel can */
  int event_days;            /**< events (vc_events_since), delivered or
                                  not */
} vc_retention_spec;

/** The current version of vc_retention_spec, and an initializer with every
 *  member at its default (vc_retention_spec_init() for other languages). */
#define VC_RETENTION_SPEC_VERSION 1
#define VC_RETENTION_SPEC_INIT { VC_RETENTION_SPEC_VERSION, 0, 0, 0 }

/** Initialise a vc_retention_spec for `version`. @since 0.3 */
VC_EXTERN(int) vc_retention_spec_init(vc_retention_spec *s,
                                      unsigned int version);

/**
 * Set the tenant's retention (audited as `retention.set`). The purge
 * runs as a job on the engine (vc_ctx_run or vc_ctx_start) at once and
 * then hourly while any retention is set, in batches of 500 rows per
 * transaction.
 * @return 0; VC_EINVALID (a value outside 0..VC_RETENTION_DAYS_MAX),
 *         VC_EVERSION, VC_ESTORAGE
 * @since 0.3
 */
VC_EXTERN(int) vc_retention_set(vc_tenant *tenant,
                                const vc_retention_spec *spec);

/** The tenant's retention into `out` (whose version the caller set);
 *  all 0 when none was set. @return 0; VC_EVERSION, VC_ESTORAGE.
 *  @since 0.3 */
VC_EXTERN(int) vc_retention_get(vc_retention_spec *out, vc_tenant *tenant);

/** Run the purge for the tenant now, on the calling thread (what the
 *  periodic job does); `purged_out` (may be NULL) gets the rows changed.
 *  @return 0; VC_ESTORAGE. @since 0.3 */
VC_EXTERN(int) vc_retention_purge(int64_t *purged_out, vc_tenant *tenant);

VC_END_DECL

/** @} */

#endif /* VYOMCOMM_PRIVACY_H */
