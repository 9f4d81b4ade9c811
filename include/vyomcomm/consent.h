/**
 * @file vyomcomm/consent.h
 * @brief Consent: whether a contact may be reached on a channel kind for
 *        a category, the append-only consent log, the tenant's opt-in
 *        policy, the do-not-call list and inbound keywords (STOP, START,
 *        HELP).
 *
 * Consent is kept per contact, channel kind (vyomcomm/channel.h) and
 * category (vyomcomm/category.h): transactional or marketing. One-time
 * passwords follow the transactional consent. Every send
 * (vc_message_send) and every call (vc_call_start) is checked, and a
 * queued message is checked again just before it goes out:
 *
 * - an opt-out always wins: a contact opted out of a kind and category
 *   gets nothing of that category on that kind (VC_ECONSENT);
 * - where the tenant's policy says a kind and category needs an opt-in,
 *   a contact who has not opted in (or a recipient with no contact) gets
 *   nothing of it;
 * - calls (voice) to a number on the tenant's do-not-call list are
 *   refused for every category except one-time passwords.
 *
 * The refusal's detail (vc_error_last()) names the rule, never the
 * address. See docs/engagement.md, "Consent", for the defaults and the
 * reasons for them.
 *
 * Thread safety: every function may be called from any thread.
 *
 * @defgroup vc_consent Consent
 * @{
 */
#ifndef VYOMCOMM_CONSENT_H
#define VYOMCOMM_CONSENT_H

#include "common.h"
#include "types.h"
#include "iter.h"
#include "channel.h"
#include "category.h"

VC_BEGIN_DECL

/** Consent states. Values are pinned. */
typedef enum vc_consent {
  VC_CONSENT_UNKNOWN = 0,    /**< never asked, or reset */
  VC_CONSENT_OPTED_IN = 1,
  VC_CONSENT_OPTED_OUT = 2
} vc_consent;

/** A static name ("unknown", "opted_in", "opted_out"), or NULL.
 *  @since 0.3 */
VC_EXTERN(const char *) vc_consent_name(int state);

/** Limits. */
#define VC_CONSENT_SOURCE_MAX 32   /**< bytes of a source */
#define VC_CONSENT_PROOF_MAX 1024  /**< bytes of a proof */

/** A consent change. Strings are copied before vc_consent_set returns. */
typedef struct vc_consent_spec {
  unsigned int version;      /**< VC_CONSENT_SPEC_VERSION */
  const char *contact_id;    /**< required */
  int kind;                  /**< a vc_channel_kind; required */
  /** VC_CATEGORY_TRANSACTIONAL or VC_CATEGORY_MARKETING; 0 = both.
   *  (VC_CATEGORY_OTP is VC_EINVALID: it follows transactional.) */
  int category;
  int state;                 /**< a vc_consent */
  /** Where the change came from: 1 to VC_CONSENT_SOURCE_MAX of
   *  [a-z0-9_.-], starting with a letter ("api", "web-form", "keyword",
   *  "unsubscribe", ...); NULL = "api". */
  const char *source;
  /** Evidence kept with the change (the form's IP address and time, a
   *  message id, ...): UTF-8, at most VC_CONSENT_PROOF_MAX bytes; or
   *  NULL. It is kept as given: put no secrets in it. */
  const char *proof;
} vc_consent_spec;

/** The current version of vc_consent_spec, and an initializer with every
 *  member at its default (vc_consent_spec_init() for other languages). */
#define VC_CONSENT_SPEC_VERSION 1
#define VC_CONSENT_SPEC_INIT \
  { VC_CONSENT_SPEC_VERSION, NULL, 0, 0, 0, NULL, NULL }

/** Initialise a vc_consent_spec for `version`. @since 0.3 */
VC_EXTERN(int) vc_consent_spec_init(vc_consent_spec *s,
                                    unsigned int version);

/**
 * Record a consent change: the contact's current state for the kind and
 * category (each of both when category is 0) and one log row each, in
 * one transaction, with a `contact.opted_in` or `contact.opted_out`
 * event when the state changed. Setting the same state again is logged
 * too (it is evidence), without an event.
 *
 * @return 0; VC_EINVALID (bad kind, category, state, source or proof),
 *   VC_ETOOBIG (source or proof too long), VC_ENOTFOUND (no such
 *   contact in the tenant)
 * @since 0.3
 */
VC_EXTERN(int) vc_consent_set(vc_tenant *tenant, const vc_consent_spec *spec);

/** A contact's consent for one kind and category. */
typedef struct vc_consent_info {
  unsigned int version;      /**< VC_CONSENT_INFO_VERSION; set by the
                                  caller */
  int state;                 /**< a vc_consent */
  int64_t changed_at;        /**< Unix ms of the last change; 0 = never */
  /** The source of the last change, "" when never set. */
  char source[VC_CONSENT_SOURCE_MAX + 1];
  /** 1 when the tenant's policy needs an opt-in for this kind and
   *  category. */
  int requires_opt_in;
  /** 1 when a message (or call) of this kind and category may reach the
   *  contact now, by consent alone (the do-not-call list is not
   *  considered: it is per number). */
  int allowed;
} vc_consent_info;

/** The current version of vc_consent_info, and an initializer with every
 *  member at its default (vc_consent_info_init() for other languages). */
#define VC_CONSENT_INFO_VERSION 1
#define VC_CONSENT_INFO_INIT \
  { VC_CONSENT_INFO_VERSION, 0, 0, { 0 }, 0, 0 }

/** Initialise a vc_consent_info for `version`. @since 0.3 */
VC_EXTERN(int) vc_consent_info_init(vc_consent_info *i,
                                    unsigned int version);

/**
 * A contact's current consent for a kind and a category
 * (VC_CATEGORY_TRANSACTIONAL or VC_CATEGORY_MARKETING). A merged
 * contact's id gives the survivor's; the survivor's consent includes
 * that of the contacts merged into it, an opt-out of any of them
 * winning.
 *
 * @param out set its version first (VC_CONSENT_INFO_INIT)
 * @return 0; VC_EINVALID, VC_ENOTFOUND (no such contact)
 * @since 0.3
 */
VC_EXTERN(int) vc_consent_get(vc_consent_info *out, vc_tenant *tenant,
                              const char *contact_id, int kind,
                              int category);

/** One row of the consent log, borrowed from its iterator. */
typedef struct vc_consent_entry {
  const char *id;            /**< the row's id (log order) */
  const char *contact_id;     /**< the contact whose consent changed */
  int kind;                  /**< a vc_channel_kind */
  int category;              /**< a vc_category */
  int state;                 /**< the state set */
  int previous;              /**< the state before */
  const char *source;        /**< where the change came from ("api", ...) */
  const char *proof;         /**< "" when none was given */
  int64_t created_at;        /**< Unix ms */
} vc_consent_entry;

/** What vc_consent_log_list() returns, oldest first. */
typedef struct vc_consent_log_filter {
  unsigned int version;      /**< VC_CONSENT_LOG_FILTER_VERSION */
  const char *after;         /**< a vc_iter_cursor() value, or NULL */
  const char *contact_id;    /**< required */
  int kind;                  /**< a vc_channel_kind, or 0 for any */
} vc_consent_log_filter;

/** The current version of vc_consent_log_filter, and an initializer with
 *  every member at its default (vc_consent_log_filter_init() for other
 *  languages). */
#define VC_CONSENT_LOG_FILTER_VERSION 1
#define VC_CONSENT_LOG_FILTER_INIT \
  { VC_CONSENT_LOG_FILTER_VERSION, NULL, NULL, 0 }

/** Initialise a vc_consent_log_filter for `version`. @since 0.3 */
VC_EXTERN(int) vc_consent_log_filter_init(vc_consent_log_filter *f,
                                          unsigned int version);

/**
 * A contact's consent log, oldest first, read in pages. The rows of a
 * contact merged into another stay under the merged contact's id (list
 * them by that id). The log is append-only: the store refuses to change
 * or delete its rows.
 *
 * @return 0; VC_EINVALID (no contact id, bad cursor or kind)
 * @since 0.3
 */
VC_EXTERN(int) vc_consent_log_list(vc_iter **out, vc_tenant *tenant,
                                   const vc_consent_log_filter *filter);

/**
 * The next row of a consent log.
 * @param out a borrowed row, valid until the next call on the iterator
 * @return 0, VC_ITEROVER at the end, or a negative code
 * @since 0.3
 */
VC_EXTERN(int) vc_consent_log_next(const vc_consent_entry **out,
                                   vc_iter *it);

/**
 * Whether a kind and category needs an opt-in in this tenant. The
 * built-in policy: marketing on SMS, chat and voice needs one; marketing
 * email and every transactional message do not.
 *
 * @return 0; VC_EINVALID (bad kind; category not transactional or
 *   marketing)
 * @since 0.3
 */
VC_EXTERN(int) vc_consent_policy_set(vc_tenant *tenant, int kind,
                                     int category, int requires_opt_in);

/** The tenant's policy for a kind and category (1 = opt-in needed).
 *  @return 0; VC_EINVALID. @since 0.3 */
VC_EXTERN(int) vc_consent_policy_get(int *requires_opt_in,
                                     vc_tenant *tenant, int kind,
                                     int category);

/* ---- the do-not-call list ----------------------------------------- */

/**
 * Put a number (E.164; spaces, dots, hyphens and parentheses are
 * removed, a leading 00 becomes +) on the tenant's do-not-call list.
 * Adding a listed number changes nothing.
 *
 * @param source as in vc_consent_spec; NULL = "api"
 * @return 0; VC_EINVALID (not a number, bad source)
 * @since 0.3
 */
VC_EXTERN(int) vc_dnc_add(vc_tenant *tenant, const char *number,
                          const char *source);

/** Take a number off the list (also the entry an erased contact left
 *  as a keyed hash, vyomcomm/privacy.h). @return 0; VC_EINVALID,
 *  VC_ENOTFOUND, VC_EBUSY (during a master key rotation).
 *  @since 0.3 */
VC_EXTERN(int) vc_dnc_remove(vc_tenant *tenant, const char *number);

/** 1 when the number is on the list (or was, for an erased contact:
 *  kept as a keyed hash, not listed by vc_dnc_list), 0 when not, or a
 *  negative code (VC_EINVALID, VC_EBUSY during a master key rotation).
 *  @since 0.3 */
VC_EXTERN(int) vc_dnc_contains(vc_tenant *tenant, const char *number);

/** One listed number, borrowed from its iterator. */
typedef struct vc_dnc_entry {
  const char *number;        /**< E.164 */
  const char *source;        /**< as given to vc_dnc_add() ("api", ...) */
  int64_t created_at;        /**< Unix ms */
} vc_dnc_entry;

/** What vc_dnc_list() returns, in number order. */
typedef struct vc_dnc_filter {
  unsigned int version;      /**< VC_DNC_FILTER_VERSION */
  const char *after;         /**< a vc_iter_cursor() value, or NULL */
} vc_dnc_filter;

/** The current version of vc_dnc_filter, and an initializer with every
 *  member at its default (vc_dnc_filter_init() for other languages). */
#define VC_DNC_FILTER_VERSION 1
#define VC_DNC_FILTER_INIT { VC_DNC_FILTER_VERSION, NULL }

/** Initialise a vc_dnc_filter for `version`. @since 0.3 */
VC_EXTERN(int) vc_dnc_filter_init(vc_dnc_filter *f, unsigned int version);

/** The tenant's do-not-call list, in pages. `filter` may be NULL.
 *  @return 0; VC_EINVALID (bad cursor). @since 0.3 */
VC_EXTERN(int) vc_dnc_list(vc_iter **out, vc_tenant *tenant,
                           const vc_dnc_filter *filter);

/** The next listed number; `out` is valid until the next call.
 *  @return 0, VC_ITEROVER, or a negative code. @since 0.3 */
VC_EXTERN(int) vc_dnc_next(const vc_dnc_entry **out, vc_iter *it);

/* ---- inbound keywords ------------------------------------------------ */

/**
 * What an inbound keyword does. An SMS or chat message whose whole text,
 * trimmed and with ASCII letters case-folded, is a keyword is answered
 * with the keyword's reply on the channel it came in on, and:
 *
 * - VC_KEYWORD_OPT_OUT opts the sender out of every category on that
 *   channel kind (built in: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END,
 *   QUIT);
 * - VC_KEYWORD_OPT_IN opts them in to transactional and marketing
 *   messages (built in: START, UNSTOP);
 * - VC_KEYWORD_HELP only answers (built in: HELP).
 *
 * The confirmation of an opt-out and a HELP answer are sent whatever the
 * sender's consent, as carriers require. Values are pinned.
 */
typedef enum vc_keyword_action {
  VC_KEYWORD_OPT_OUT = 1,
  VC_KEYWORD_OPT_IN = 2,
  VC_KEYWORD_HELP = 3
} vc_keyword_action;

/** Limits. */
#define VC_KEYWORD_MAX 64            /**< bytes of a keyword */
#define VC_KEYWORD_REPLY_MAX 640     /**< bytes of a reply */
#define VC_KEYWORD_TENANT_MAX 200    /**< keywords a tenant may add */

/**
 * Add or change a keyword of the tenant for a locale. Matching tries the
 * sender's (contact's) locale, then the tenant's, then keywords set for
 * any locale, then the built-in ones; a locale also matches its language
 * alone ("hi-IN" finds a keyword set for "hi").
 *
 * @param locale a BCP 47 tag ("hi", "pt-BR"), or NULL for any locale
 * @param keyword 1 to VC_KEYWORD_MAX bytes of UTF-8, no control
 *   characters, no leading or trailing space; matched case-insensitively
 *   for ASCII letters
 * @param action a vc_keyword_action; a built-in opt-out keyword stays an
 *   opt-out
 * @param reply the text sent back (at most VC_KEYWORD_REPLY_MAX bytes),
 *   or NULL for the action's built-in English reply
 * @return 0; VC_EINVALID, VC_ETOOBIG (too long, or the tenant has
 *   VC_KEYWORD_TENANT_MAX keywords)
 * @since 0.3
 */
VC_EXTERN(int) vc_keyword_set(vc_tenant *tenant, const char *locale,
                              const char *keyword, int action,
                              const char *reply);

/** Remove a keyword the tenant added (built-in ones stay).
 *  @return 0; VC_EINVALID, VC_ENOTFOUND. @since 0.3 */
VC_EXTERN(int) vc_keyword_remove(vc_tenant *tenant, const char *locale,
                                 const char *keyword);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_CONSENT_H */
