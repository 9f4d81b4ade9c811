/**
 * @file vyomcomm/tenant.h
 * @brief Tenants: the security boundary. Every object belongs to exactly
 *        one tenant and no call reaches another tenant's rows.
 *
 * Thread safety: every function may be called from any thread, and a
 * vc_tenant handle may be shared between threads (updates are serialised
 * on the handle; strings borrowed from it stay valid until it is freed).
 * vc_tenant_free() must be the last call on a handle.
 *
 * @defgroup vc_tenant Tenants
 * @{
 */
#ifndef VYOMCOMM_TENANT_H
#define VYOMCOMM_TENANT_H

#include "common.h"
#include "types.h"
#include "category.h"

VC_BEGIN_DECL

/** No quiet hours: the value of quiet_start_min and quiet_end_min. */
#define VC_QUIET_NONE (-1)

/** The categories quiet hours never hold back by default: one-time
 *  passwords (a bit mask of 1u << vc_category). @since 0.3 */
#define VC_QUIET_EXEMPT_DEFAULT (1u << VC_CATEGORY_OTP)
/** The quiet_exempt_categories value that keeps the current one in
 *  vc_tenant_update(). @since 0.3 */
#define VC_QUIET_EXEMPT_KEEP 0xFFFFFFFFu

/**
 * A tenant's settings. For vc_tenant_new(), NULL strings take the
 * defaults; for vc_tenant_update(), NULL strings, -2 minutes and
 * VC_QUIET_EXEMPT_KEEP keep the current value.
 */
typedef struct vc_tenant_spec {
  unsigned int version; /**< VC_TENANT_SPEC_VERSION */
  const char *slug;     /**< [a-z0-9][a-z0-9_-]{0,62}; unique; required */
  const char *name;     /**< display name, at most 200 bytes UTF-8 */
  /** IANA name of the system zoneinfo (at most 64 bytes), default
   *  "UTC"; an unknown zone is VC_EINVALID */
  const char *timezone;
  const char *locale;   /**< BCP 47, default "en" */
  const char *currency; /**< ISO 4217, default "USD" */
  /** Default quiet hours, minutes after local midnight (0..1439), or
   *  VC_QUIET_NONE in both. The window may wrap past midnight. */
  int quiet_start_min;
  int quiet_end_min;          /**< end of the quiet hours */
  /** Version 2. The categories sent even inside quiet hours: a bit mask
   *  of 1u << vc_category (VC_QUIET_EXEMPT_DEFAULT: OTP only; 0: none).
   *  A version-1 caller gets the default on vc_tenant_new() and keeps
   *  the current mask on vc_tenant_update(). @since 0.3 */
  unsigned int quiet_exempt_categories;
} vc_tenant_spec;

/** The current version of vc_tenant_spec, and an initializer with every
 *  member at its default (vc_tenant_spec_init() for other languages). */
#define VC_TENANT_SPEC_VERSION 2
#define VC_TENANT_SPEC_INIT \
  { VC_TENANT_SPEC_VERSION, NULL, NULL, NULL, NULL, NULL, \
    VC_QUIET_NONE, VC_QUIET_NONE, VC_QUIET_EXEMPT_DEFAULT }
/** The quiet-hour value that keeps the current one in vc_tenant_update(). */
#define VC_TENANT_KEEP (-2)

/** Initialise a vc_tenant_spec for `version`. @since 0.1 */
VC_EXTERN(int) vc_tenant_spec_init(vc_tenant_spec *s, unsigned int version);

/** What vc_tenant_list() returns. */
typedef struct vc_tenant_filter {
  unsigned int version; /**< VC_TENANT_FILTER_VERSION */
  const char *after;    /**< a vc_iter_cursor() value, or NULL */
  int include_deleted;  /**< 1 to include soft-deleted tenants */
} vc_tenant_filter;

/** The current version of vc_tenant_filter, and an initializer with every
 *  member at its default (vc_tenant_filter_init() for other languages). */
#define VC_TENANT_FILTER_VERSION 1
#define VC_TENANT_FILTER_INIT { VC_TENANT_FILTER_VERSION, NULL, 0 }

/** Initialise a vc_tenant_filter for `version`. @since 0.1 */
VC_EXTERN(int) vc_tenant_filter_init(vc_tenant_filter *f,
                                     unsigned int version);

/**
 * Create a tenant.
 *
 * @param out receives the tenant handle (may be NULL if not wanted)
 * @return 0, VC_EEXISTS for a slug in use, VC_EINVALID (bad settings,
 *   an unknown timezone, unknown category bits)
 * @since 0.1
 */
VC_EXTERN(int) vc_tenant_new(vc_tenant **out, vc_ctx *ctx,
                             const vc_tenant_spec *spec);

/**
 * Load a live tenant by slug.
 * @return 0, VC_ENOTFOUND (also for a deleted tenant), VC_EINVALID
 * @since 0.1
 */
VC_EXTERN(int) vc_tenant_lookup(vc_tenant **out, vc_ctx *ctx,
                                const char *slug);

/** Load a live tenant by id. @return 0, VC_ENOTFOUND. @since 0.1 */
VC_EXTERN(int) vc_tenant_lookup_id(vc_tenant **out, vc_ctx *ctx,
                                   const char *id);

/**
 * Change a tenant's settings. The handle shows the new values afterwards;
 * strings borrowed from it before stay valid until vc_tenant_free().
 * @return 0, VC_EEXISTS (slug taken), VC_ENOTFOUND (deleted), VC_EINVALID
 *   (as vc_tenant_new())
 * @since 0.1
 */
VC_EXTERN(int) vc_tenant_update(vc_tenant *tenant,
                                const vc_tenant_spec *spec);

/**
 * Soft-delete a tenant: it disappears from lookups and lists, its slug may
 * be reused, and its rows stay until purged.
 * @return 0, VC_ENOTFOUND
 * @since 0.1
 */
VC_EXTERN(int) vc_tenant_delete(vc_tenant *tenant);

/**
 * List tenants in id (creation) order.
 * @param out receives the iterator; read it with vc_tenant_next()
 * @param filter NULL for all live tenants
 * @since 0.1
 */
VC_EXTERN(int) vc_tenant_list(vc_iter **out, vc_ctx *ctx,
                              const vc_tenant_filter *filter);

/**
 * The next tenant of a vc_tenant_list() iterator.
 * @param out receives a new handle, freed with vc_tenant_free()
 * @return 0, VC_ITEROVER, or a negative code
 * @since 0.1
 */
VC_EXTERN(int) vc_tenant_next(vc_tenant **out, vc_iter *it);

/** Free a tenant handle; NULL is accepted. @since 0.1 */
VC_EXTERN(void) vc_tenant_free(vc_tenant *tenant);

/** @name Getters
 *  Strings are borrowed from the handle (see vc_tenant_update). @since 0.1 */
/** The tenant's id. */
VC_EXTERN(const char *) vc_tenant_id(const vc_tenant *tenant);
/** The tenant's slug (its unique short name). */
VC_EXTERN(const char *) vc_tenant_slug(const vc_tenant *tenant);
/** The tenant's display name. */
VC_EXTERN(const char *) vc_tenant_name(const vc_tenant *tenant);
/** Its default IANA timezone ("Asia/Kolkata"). */
VC_EXTERN(const char *) vc_tenant_timezone(const vc_tenant *tenant);
/** Its default locale (BCP 47). */
VC_EXTERN(const char *) vc_tenant_locale(const vc_tenant *tenant);
/** Its currency (ISO 4217). */
VC_EXTERN(const char *) vc_tenant_currency(const vc_tenant *tenant);
/** Quiet hours; both VC_QUIET_NONE when unset. @since 0.1 */
VC_EXTERN(int) vc_tenant_quiet_hours(const vc_tenant *tenant,
                                     int *start_min, int *end_min);
/** The categories exempt from quiet hours (1u << vc_category bits).
 *  @return 0, VC_EINVALID (NULL handle). @since 0.3 */
VC_EXTERN(int) vc_tenant_quiet_exempt_categories(const vc_tenant *tenant,
                                                 unsigned int *mask);
/** Unix milliseconds. @since 0.1 */
VC_EXTERN(int64_t) vc_tenant_created_at(const vc_tenant *tenant);
/** 0 when live. @since 0.1 */
VC_EXTERN(int64_t) vc_tenant_deleted_at(const vc_tenant *tenant);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_TENANT_H */
