/**
 * @file vyomcomm/recording.h
 * @brief Call recording: a tenant's policy (off, always, on demand), the
 *        consent announcement, retention; the recordings providers made,
 *        their purge past retention, and a compliance report.
 *
 * A call's record mode is its vc_call_spec.record, or for
 * VC_RECORD_DEFAULT the tenant's policy. A call that may be recorded
 * starts with the policy's consent announcement, spoken to the customer
 * before anything else (on providers that follow the library's scripts).
 * Recordings are kept as the provider reports them (id, URL, duration);
 * once available, a recording expires after the policy's retention, and
 * the purge (a durable job, or vc_recording_purge()) deletes it at the
 * provider where the provider's API can, else forgets its URL locally and
 * says so in the recording's purge kind.
 *
 * Thread safety: every function may be called from any thread; handles
 * are snapshots and may be shared between threads.
 *
 * @defgroup vc_recording Recording
 * @{
 */
#ifndef VYOMCOMM_RECORDING_H
#define VYOMCOMM_RECORDING_H

#include "common.h"
#include "types.h"
#include "buffer.h"
#include "iter.h"

VC_BEGIN_DECL

/** Limits. */
#define VC_RECORDING_CONSENT_MAX 1023      /**< consent text, bytes */
#define VC_RECORDING_RETENTION_MAX 36500   /**< days (100 years) */

/** The consent text of a policy that records and gives none. */
#define VC_RECORDING_DEFAULT_CONSENT \
  "This call may be recorded for quality and compliance purposes."

/** A tenant's recording policy, to set. Strings are copied. */
typedef struct vc_recording_policy_spec {
  unsigned int version;        /**< VC_RECORDING_POLICY_SPEC_VERSION */
  /** VC_RECORD_OFF, VC_RECORD_ALWAYS or VC_RECORD_ON_DEMAND
   *  (vyomcomm/call.h). */
  int mode;
  /** What the customer hears first on a call that may be recorded (at
   *  most VC_RECORDING_CONSENT_MAX bytes, no control characters). NULL =
   *  VC_RECORDING_DEFAULT_CONSENT, or "" with mode off; "" is allowed
   *  only with mode off. With mode off the text is still used by calls
   *  that ask to be recorded themselves. */
  const char *consent_text;
  /** The consent text's language, BCP 47; NULL = "en-US". */
  const char *consent_language;
  /** Days a recording is kept once available; 0 = forever. At most
   *  VC_RECORDING_RETENTION_MAX. */
  int retention_days;
} vc_recording_policy_spec;

/** The current version of vc_recording_policy_spec, and an initializer with
 *  every member at its default (vc_recording_policy_spec_init() for other
 *  languages). */
#define VC_RECORDING_POLICY_SPEC_VERSION 1
#define VC_RECORDING_POLICY_SPEC_INIT \
  { VC_RECORDING_POLICY_SPEC_VERSION, 1, NULL, NULL, 0 }

/** Initialise a vc_recording_policy_spec for `version`. @since 0.2 */
VC_EXTERN(int) vc_recording_policy_spec_init(vc_recording_policy_spec *s,
                                             unsigned int version);

/**
 * Set the tenant's recording policy (replacing the previous one). New
 * calls use it; recordings made later expire by its retention.
 * @return 0; VC_EINVALID (mode, empty consent with a recording mode,
 *   language, retention), VC_ETOOBIG, VC_EENCODING
 * @since 0.2
 */
VC_EXTERN(int) vc_recording_policy_set(vc_tenant *tenant,
                                       const vc_recording_policy_spec *p);

/** A tenant's policy as stored. */
typedef struct vc_recording_policy vc_recording_policy;

/**
 * The tenant's policy; a tenant that never set one gets mode off, no
 * consent text, "en-US" and retention 0 (updated_at 0).
 * @return 0
 * @since 0.2
 */
VC_EXTERN(int) vc_recording_policy_get(vc_recording_policy **out,
                                       vc_tenant *tenant);
/** Free a policy; NULL is accepted. @since 0.2 */
VC_EXTERN(void) vc_recording_policy_free(vc_recording_policy *p);
/** @name Getters
 *  Strings are borrowed from the handle. @since 0.2 */
/** VC_RECORD_OFF, VC_RECORD_ALWAYS or VC_RECORD_ON_DEMAND. */
VC_EXTERN(int) vc_recording_policy_mode(const vc_recording_policy *p);
/** What the customer hears first on a call that may be recorded. */
VC_EXTERN(const char *) vc_recording_policy_consent_text(
  const vc_recording_policy *p);
/** The consent text's language (BCP 47). */
VC_EXTERN(const char *) vc_recording_policy_consent_language(
  const vc_recording_policy *p);
/** Days a recording is kept once available; 0 = forever. */
VC_EXTERN(int) vc_recording_policy_retention_days(
  const vc_recording_policy *p);
/** When the policy was last set (Unix ms); 0 = never. */
VC_EXTERN(int64_t) vc_recording_policy_updated_at(
  const vc_recording_policy *p);

/** Where a recording is. Values are pinned. */
typedef enum vc_recording_status {
  VC_RECORDING_STATUS_RECORDING = 1,  /**< started, not yet available */
  VC_RECORDING_STATUS_AVAILABLE = 2,  /**< the provider has it at `url` */
  VC_RECORDING_STATUS_DELETING = 3,   /**< past retention; the provider
                                           was asked to delete it */
  VC_RECORDING_STATUS_PURGED = 4,     /**< gone (see the purge kind) */
  VC_RECORDING_STATUS_DELETE_FAILED = 5, /**< the provider refused to
                                              delete it */
  VC_RECORDING_STATUS_FAILED = 6      /**< the provider could not record */
} vc_recording_status;

/** A static name for a status ("available", "purged", ...). @since 0.2 */
VC_EXTERN(const char *) vc_recording_status_name(int status);

/** How a recording was purged. Values are pinned. */
typedef enum vc_recording_purge_mode {
  VC_RECORDING_PURGE_NONE = 0,
  /** The provider confirmed the deletion. */
  VC_RECORDING_PURGE_PROVIDER = 1,
  /** The provider cannot delete recordings through its API (or the
   *  recording has no provider id): the library forgot the URL; the
   *  provider's copy must be removed by other means. */
  VC_RECORDING_PURGE_LOCAL = 2
} vc_recording_purge_mode;

/** A recording handle: a snapshot. */
typedef struct vc_recording vc_recording;

/** Load a recording by its id. @return 0, VC_ENOTFOUND, VC_EINVALID.
 *  @since 0.2 */
VC_EXTERN(int) vc_recording_lookup(vc_recording **out, vc_tenant *tenant,
                                   const char *id);

/** What vc_recording_list() returns, newest first. */
typedef struct vc_recording_filter {
  unsigned int version;     /**< VC_RECORDING_FILTER_VERSION */
  const char *after;        /**< a vc_iter_cursor() value, or NULL */
  const char *call_id;      /**< one call's, or NULL for any */
  int status;               /**< a vc_recording_status, or 0 for any */
  int64_t since;            /**< created at or after (Unix ms), or 0 */
  int64_t until;            /**< created before (Unix ms), or 0 */
} vc_recording_filter;

/** The current version of vc_recording_filter, and an initializer with every
 *  member at its default (vc_recording_filter_init() for other languages). */
#define VC_RECORDING_FILTER_VERSION 1
#define VC_RECORDING_FILTER_INIT \
  { VC_RECORDING_FILTER_VERSION, NULL, NULL, 0, 0, 0 }

/** Initialise a vc_recording_filter for `version`. @since 0.2 */
VC_EXTERN(int) vc_recording_filter_init(vc_recording_filter *f,
                                        unsigned int version);

/** List recordings, newest first. @return 0, VC_EINVALID. @since 0.2 */
VC_EXTERN(int) vc_recording_list(vc_iter **out, vc_tenant *tenant,
                                 const vc_recording_filter *filter);
/** The next recording. @return 0, VC_ITEROVER. @since 0.2 */
VC_EXTERN(int) vc_recording_next(vc_recording **out, vc_iter *it);
/** Free a recording; NULL is accepted. @since 0.2 */
VC_EXTERN(void) vc_recording_free(vc_recording *r);

/** @name Getters
 *  Strings are borrowed from the handle, "" when unset.
 *  @since 0.2 */
/** The recording's id. */
VC_EXTERN(const char *) vc_recording_id(const vc_recording *r);
/** The call it recorded. */
VC_EXTERN(const char *) vc_recording_call_id(const vc_recording *r);
/** The voice channel of that call. */
VC_EXTERN(const char *) vc_recording_channel_id(const vc_recording *r);
/** The provider's id of the recording. */
VC_EXTERN(const char *) vc_recording_provider_id(const vc_recording *r);
/** Where the provider keeps it; "" before it is available and once
 *  purged. */
VC_EXTERN(const char *) vc_recording_url(const vc_recording *r);
/** Its length in seconds; 0 until known. */
VC_EXTERN(int) vc_recording_duration_s(const vc_recording *r);
/** 1 when the customer heard the consent announcement first. */
VC_EXTERN(int) vc_recording_consent(const vc_recording *r);
/** A vc_recording_status. */
VC_EXTERN(int) vc_recording_status_of(const vc_recording *r);
/** A vc_recording_purge_mode. */
VC_EXTERN(int) vc_recording_purge_kind(const vc_recording *r);
/** When it was created (Unix ms). */
VC_EXTERN(int64_t) vc_recording_created_at(const vc_recording *r);
/** When it became available (Unix ms); 0 before. */
VC_EXTERN(int64_t) vc_recording_available_at(const vc_recording *r);
/** When it expires (Unix ms); 0 = kept forever. */
VC_EXTERN(int64_t) vc_recording_expires_at(const vc_recording *r);
/** When it was purged (Unix ms); 0 while kept. */
VC_EXTERN(int64_t) vc_recording_purged_at(const vc_recording *r);

/**
 * Purge the tenant's recordings past their expiry (by the context's
 * clock) now, without waiting for the `recording.purge` job: each is
 * either handed to the engine for deletion at the provider (status
 * deleting; the provider's answer makes it purged or delete_failed) when
 * its channel's adapter can delete recordings, or forgotten locally at
 * once (status purged, purge kind local, URL removed).
 *
 * @param purged_out receives how many recordings were purged or handed
 *   over for deletion (may be NULL)
 * @return 0
 * @since 0.2
 */
VC_EXTERN(int) vc_recording_purge(int *purged_out, vc_tenant *tenant);

/** Formats of vc_recording_report(). Values are pinned. */
typedef enum vc_recording_report_format {
  VC_RECORDING_REPORT_JSON = 1,
  VC_RECORDING_REPORT_CSV = 2
} vc_recording_report_format;

/**
 * The compliance report of a period: every recording made in
 * [since, until) or purged in it, oldest first, with its call, the
 * customer's number, consent flag, provider id, duration, status, when it
 * became available, expires and was purged, and how. JSON is an object
 * (times in Unix ms) with the rows and totals; CSV has a header line and
 * ISO 8601 UTC times. See docs/calls.md ("Recording").
 *
 * @param out receives the report (appended; the caller disposes of it)
 * @param since, until Unix ms; until 0 = no end
 * @return 0; VC_EINVALID (format, period)
 * @since 0.2
 */
VC_EXTERN(int) vc_recording_report(vc_buf *out, vc_tenant *tenant,
                                   int64_t since, int64_t until,
                                   int format);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_RECORDING_H */
