/**
 * @file vyomcomm/campaign.h
 * @brief Campaigns: one template sent to an audience of contacts over a
 *        chain of channels, on a schedule, at a rate, with progress kept
 *        in the store.
 *
 * A campaign is created as a draft (vc_campaign_new), given its audience
 * (in the spec, or by vc_campaign_import_csv), and started. A durable
 * job then streams the audience a page at a time into queued messages:
 * per recipient, the first link of the chain the contact has an address
 * (and consent) for; a message that fails for good moves the recipient
 * to the next link. Each recipient gets at most one message per link,
 * across crashes and restarts.
 *
 * Thread safety: every function may be called from any thread; a
 * vc_campaign handle is a snapshot and may be shared between threads. A
 * handle is valid while its tenant handle is.
 *
 * @defgroup vc_campaign Campaigns
 * @{
 */
#ifndef VYOMCOMM_CAMPAIGN_H
#define VYOMCOMM_CAMPAIGN_H

#include "common.h"
#include "types.h"
#include "category.h"
#include "contact.h"

VC_BEGIN_DECL

/** A campaign handle: a snapshot of the stored campaign. */
typedef struct vc_campaign vc_campaign;

/** Campaign states. Values are pinned. */
typedef enum vc_campaign_lifecycle {
  VC_CAMPAIGN_DRAFT = 1,      /**< created, not started */
  VC_CAMPAIGN_RUNNING = 2,    /**< fanning out or waiting for results */
  VC_CAMPAIGN_PAUSED = 3,     /**< no new messages; queued ones held */
  VC_CAMPAIGN_COMPLETED = 4,  /**< every recipient final, or end time */
  VC_CAMPAIGN_CANCELED = 5    /**< stopped; queued messages canceled */
} vc_campaign_lifecycle;

/** A static name for a state ("draft", ...). @since 0.3 */
VC_EXTERN(const char *) vc_campaign_state_name(int state);

/** Where the recipients come from. Values are pinned. */
typedef enum vc_campaign_audience {
  VC_AUDIENCE_LIST = 1,  /**< contact ids given in the spec */
  VC_AUDIENCE_TAG = 2,   /**< every contact with a tag */
  VC_AUDIENCE_CSV = 3    /**< rows of vc_campaign_import_csv() */
} vc_campaign_audience;

/** Limits. */
#define VC_CAMPAIGN_NAME_MAX 200
#define VC_CAMPAIGN_CHAIN_MAX 4
#define VC_CAMPAIGN_LIST_MAX 100000
#define VC_CAMPAIGN_VARS_MAX (64 * 1024)
#define VC_CAMPAIGN_RATE_MAX 10000.0

/**
 * A campaign. Strings are copied.
 *
 * Chain links are tried in order for each recipient; a link is a channel
 * kind by its address kind, `"whatsapp"`, `"telegram"`, `"sms"` or
 * `"email"` (the tenant's channels of that kind route it), or such a name
 * with `@` and a channel id or name (`"whatsapp@wa-main"`), which pins
 * the channel.
 */
typedef struct vc_campaign_spec {
  unsigned int version;       /**< VC_CAMPAIGN_SPEC_VERSION */
  const char *name;           /**< required, 1..VC_CAMPAIGN_NAME_MAX bytes */
  const char *template_name;  /**< a template id or name; required */
  /** The template locale for every recipient; NULL = each recipient's
   *  contact's locale (the tenant's for a contact without one), with
   *  the usual fallback (see vc_template_render_spec). */
  const char *locale;
  /** Variables for every recipient: a JSON object, or NULL. A
   *  recipient's own variables are merged over these. */
  const char *vars_json;
  const char *const *chain;   /**< 1..VC_CAMPAIGN_CHAIN_MAX links */
  size_t nchain;              /**< links in `chain` */
  int audience;               /**< a vc_campaign_audience; required */
  /** VC_AUDIENCE_LIST: up to VC_CAMPAIGN_LIST_MAX contact ids (a
   *  repeated id is one recipient), and optionally, parallel to them,
   *  each recipient's variables (a JSON object or NULL each). */
  const char *const *contact_ids;
  size_t ncontacts;           /**< ids in `contact_ids` */
  /** NULL, or `ncontacts` JSON objects (or NULLs) parallel to
   *  `contact_ids`. */
  const char *const *contact_vars;
  const char *tag;            /**< VC_AUDIENCE_TAG: the tag */
  int64_t start_at;           /**< Unix ms; 0 = when started */
  int64_t end_at;             /**< Unix ms; 0 = no end */
  /** Daily send window in the tenant's timezone, minutes after midnight
   *  (0..1439); start > end spans midnight; both 0 = all day. */
  int window_start_min;
  int window_end_min;         /**< end of the window (excluded) */
  /** Messages per second, 0 = no limit; at most VC_CAMPAIGN_RATE_MAX.
   *  Spacing is by due time: message n is due 1/rate after n-1. */
  double rate;
  int category;               /**< a vc_category; 0 = marketing */
} vc_campaign_spec;

/** The current version of vc_campaign_spec, and an initializer with every
 *  member at its default (vc_campaign_spec_init() for other languages). */
#define VC_CAMPAIGN_SPEC_VERSION 1
#define VC_CAMPAIGN_SPEC_INIT                                           \
  { VC_CAMPAIGN_SPEC_VERSION, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, \
    0, NULL, NULL, 0, 0, 0, 0, 0.0, 0 }

/** Initialise a vc_campaign_spec for `version`. @since 0.3 */
VC_EXTERN(int) vc_campaign_spec_init(vc_campaign_spec *s,
                                     unsigned int version);

/**
 * Create a draft campaign (and a VC_AUDIENCE_LIST audience's
 * recipients) in one transaction.
 * @return 0, VC_EINVALID (a missing or malformed field: name, chain
 *         link, audience, contact id, variables JSON, window, rate,
 *         category; end before start), VC_ETOOBIG (a list, chain, name
 *         or variables over its limit), VC_ENOTFOUND (the template, or a
 *         channel a link pins), VC_EVERSION, VC_ESTORAGE.
 * @since 0.3
 */
VC_EXTERN(int) vc_campaign_new(vc_campaign **out, vc_tenant *tenant,
                               const vc_campaign_spec *spec);

/**
 * Stream a CSV into a draft VC_AUDIENCE_CSV campaign: each row creates
 * or updates its contact (as vc_contact_import_csv() does) and becomes a
 * recipient whose variables are the row's columns that are not contact
 * fields. May be called several times before the start.
 * @return 0, VC_ESTATE (not a draft CSV campaign), the codes of
 *         vc_contact_import_csv(), VC_ENOTSUPPORTED where contacts are
 *         not built in.
 * @since 0.3
 */
VC_EXTERN(int) vc_campaign_import_csv(vc_contact_import_result *out,
                                      vc_campaign *c,
                                      const vc_contact_import_spec *spec);

/**
 * Start a draft: the fan-out runs from `start_at` (or now). Also
 * updates the handle's snapshot.
 * @return 0, VC_ESTATE (not a draft), VC_ENOTFOUND, VC_ESTORAGE.
 * @since 0.3
 */
VC_EXTERN(int) vc_campaign_start(vc_campaign *c);
/**
 * Pause a running campaign: the fan-out stops after its current page
 * and its queued messages are held (those a dispatcher already claimed
 * still go). @return 0, VC_ESTATE, VC_ENOTFOUND. @since 0.3
 */
VC_EXTERN(int) vc_campaign_pause(vc_campaign *c);
/**
 * Resume a paused campaign: held messages keep their spacing, shifted by
 * the pause. @return 0, VC_ESTATE, VC_ENOTFOUND. @since 0.3
 */
VC_EXTERN(int) vc_campaign_resume(vc_campaign *c);
/**
 * Cancel a draft, running or paused campaign: no new messages, queued
 * ones canceled (one campaign.canceled event, not one per message).
 * @return 0, VC_ESTATE (completed or canceled), VC_ENOTFOUND. @since 0.3
 */
VC_EXTERN(int) vc_campaign_cancel(vc_campaign *c);

/** Load a campaign. @return 0, VC_EINVALID, VC_ENOTFOUND. @since 0.3 */
VC_EXTERN(int) vc_campaign_lookup(vc_campaign **out, vc_tenant *tenant,
                                  const char *id);

/** Which campaigns to list. */
typedef struct vc_campaign_filter {
  unsigned int version;   /**< VC_CAMPAIGN_FILTER_VERSION */
  const char *after;      /**< a vc_iter_cursor() value, or NULL */
  int state;              /**< a vc_campaign_lifecycle, or 0 for any */
} vc_campaign_filter;

/** The current version of vc_campaign_filter, and an initializer with every
 *  member at its default (vc_campaign_filter_init() for other languages). */
#define VC_CAMPAIGN_FILTER_VERSION 1
#define VC_CAMPAIGN_FILTER_INIT { VC_CAMPAIGN_FILTER_VERSION, NULL, 0 }

/** Initialise a vc_campaign_filter for `version`. @since 0.3 */
VC_EXTERN(int) vc_campaign_filter_init(vc_campaign_filter *f,
                                       unsigned int version);

/** List campaigns, newest first. @return 0, VC_EINVALID. @since 0.3 */
VC_EXTERN(int) vc_campaign_list(vc_iter **out, vc_tenant *tenant,
                                const vc_campaign_filter *filter);
/** The next campaign of a list. @return 0, VC_ITEROVER. @since 0.3 */
VC_EXTERN(int) vc_campaign_next(vc_campaign **out, vc_iter *it);

/**
 * Progress, read from the store (not the handle's snapshot). Each
 * counter moves in the transaction of the change it counts.
 */
typedef struct vc_campaign_counters {
  unsigned int version;      /**< VC_CAMPAIGN_COUNTERS_VERSION */
  int state;                 /**< the current vc_campaign_lifecycle state */
  uint64_t total;            /**< recipients the fan-out has reached */
  uint64_t queued;           /**< messages created (all links) */
  uint64_t sent;             /**< messages a provider accepted */
  uint64_t delivered;        /**< messages delivered (or read) */
  /** messages failed, undelivered or bounced, and recipients whose
   *  message could not be rendered */
  uint64_t failed;
  uint64_t canceled;         /**< messages canceled with the campaign */
  uint64_t skipped_consent;  /**< recipients no link had consent for */
  uint64_t skipped_address;  /**< recipients with no address on any link */
  uint64_t deferred_quiet;   /**< messages moved by quiet hours */
  uint64_t expired;          /**< recipients whose message would have
                                  been due after end_at */
  uint64_t open;             /**< recipients whose message is not final */
} vc_campaign_counters;

/** The current version of vc_campaign_counters, and an initializer with every
 *  member at its default (vc_campaign_counters_init() for other languages). */
#define VC_CAMPAIGN_COUNTERS_VERSION 1
#define VC_CAMPAIGN_COUNTERS_INIT \
  { VC_CAMPAIGN_COUNTERS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/** Initialise a vc_campaign_counters for `version`. @since 0.3 */
VC_EXTERN(int) vc_campaign_counters_init(vc_campaign_counters *c,
                                         unsigned int version);

/** Read a campaign's counters. @return 0, VC_EVERSION, VC_ENOTFOUND.
 *  @since 0.3 */
VC_EXTERN(int) vc_campaign_counters_get(vc_campaign_counters *out,
                                        vc_campaign *c);

/** Free a campaign handle; NULL is accepted. @since 0.3 */
VC_EXTERN(void) vc_campaign_free(vc_campaign *c);

/** @name Getters
 *  Strings are borrowed from the handle. @since 0.3 */
/** The campaign's id. */
VC_EXTERN(const char *) vc_campaign_id(const vc_campaign *c);
/** The campaign's name. */
VC_EXTERN(const char *) vc_campaign_name(const vc_campaign *c);
/** Its state: a vc_campaign_lifecycle. */
VC_EXTERN(int) vc_campaign_state(const vc_campaign *c);
/** Where its recipients come from: a vc_campaign_audience. */
VC_EXTERN(int) vc_campaign_audience_kind(const vc_campaign *c);
/** The vc_category its messages are sent under. */
VC_EXTERN(int) vc_campaign_category(const vc_campaign *c);
/** The id of the template it sends. */
VC_EXTERN(const char *) vc_campaign_template_id(const vc_campaign *c);
/** Messages per second; 0 = no limit. */
VC_EXTERN(double) vc_campaign_rate(const vc_campaign *c);
/** When it starts (Unix ms); 0 = when started. */
VC_EXTERN(int64_t) vc_campaign_start_at(const vc_campaign *c);
/** When it ends (Unix ms); 0 = no end. */
VC_EXTERN(int64_t) vc_campaign_end_at(const vc_campaign *c);
/** When it was created (Unix ms). */
VC_EXTERN(int64_t) vc_campaign_created_at(const vc_campaign *c);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_CAMPAIGN_H */
