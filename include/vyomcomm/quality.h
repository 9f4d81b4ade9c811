/**
 * @file vyomcomm/quality.h
 * @brief Call quality: jitter, packet loss, round-trip time and MOS of a
 *        call, from the provider, from the host's own softphone, or
 *        computed.
 *
 * Figures arrive from a provider's webhooks and from the host
 * (vc_call_quality_report()). Each figure keeps where it came from; a
 * later report replaces the figures it gives and keeps the others. When
 * no one measured the MOS, it is computed with the ITU-T G.107 E-model
 * from the known round-trip time, jitter and packet loss (a figure not
 * known counts as 0, so the estimate is then an upper bound), assuming
 * G.711 and a mouth-to-ear delay of rtt/2 + 2 x jitter + 20 ms; see
 * docs/calls.md. A measured MOS is never replaced by a computed one.
 *
 * Every report appends a `quality` entry to the call's timeline and a
 * `call.quality` event.
 *
 * Thread safety: every function may be called from any thread.
 *
 * @defgroup vc_quality Call quality
 * @{
 */
#ifndef VYOMCOMM_QUALITY_H
#define VYOMCOMM_QUALITY_H

#include "common.h"
#include "types.h"

VC_BEGIN_DECL

/** Where a figure came from. Values are pinned. */
typedef enum vc_quality_source {
  VC_QUALITY_NONE = 0,      /**< not known */
  VC_QUALITY_PROVIDER = 1,  /**< the voice provider reported it */
  VC_QUALITY_HOST = 2,      /**< the host reported it */
  VC_QUALITY_COMPUTED = 3   /**< computed (MOS by the E-model) */
} vc_quality_source;

/** A static name for a source ("none", "provider", "host",
 *  "computed"). @since 0.2 */
VC_EXTERN(const char *) vc_quality_source_name(int source);

/** A figure that is not known. */
#define VC_QUALITY_UNKNOWN (-1.0)

/** Bounds of the figures: beyond them a report is refused. */
#define VC_QUALITY_JITTER_MAX 10000.0  /**< ms */
#define VC_QUALITY_RTT_MAX 60000.0     /**< ms */

/**
 * A call's quality figures. For vc_call_quality_report(), set the
 * figures measured and leave the others VC_QUALITY_UNKNOWN; the sources,
 * `r_factor` and `reports` are ignored. vc_call_quality_get() fills it
 * all.
 */
typedef struct vc_call_quality {
  unsigned int version;     /**< VC_CALL_QUALITY_VERSION */
  double jitter_ms;         /**< 0..VC_QUALITY_JITTER_MAX, or unknown */
  double packet_loss_pct;   /**< 0..100, or unknown */
  double rtt_ms;            /**< 0..VC_QUALITY_RTT_MAX, or unknown */
  double mos;               /**< 1..5, or unknown */
  int jitter_source;        /**< a vc_quality_source */
  int loss_source;            /**< a vc_quality_source */
  int rtt_source;             /**< a vc_quality_source */
  int mos_source;             /**< a vc_quality_source */
  /** The E-model's R when the MOS was computed, else unknown. */
  double r_factor;
  /** When measured (Unix ms): for a report, 0 = now; from
   *  vc_call_quality_get(), the latest report's. */
  int64_t measured_at;
  int reports;              /**< how many reports were merged */
} vc_call_quality;

/** The current version of vc_call_quality, and an initializer with every
 *  member at its default (vc_call_quality_init() for other languages). */
#define VC_CALL_QUALITY_VERSION 1
#define VC_CALL_QUALITY_INIT \
  { VC_CALL_QUALITY_VERSION, -1.0, -1.0, -1.0, -1.0, 0, 0, 0, 0, -1.0, 0, 0 }

/** Initialise a vc_call_quality for `version`. @since 0.2 */
VC_EXTERN(int) vc_call_quality_init(vc_call_quality *q,
                                    unsigned int version);

/**
 * Report quality figures of a call the host measured (its softphone's
 * RTCP figures, say). At least one figure must be given.
 *
 * @return 0; VC_EINVALID (no figure, a figure negative, NaN, infinite
 *   or out of bounds), VC_ENOTFOUND (no such call in the tenant)
 * @since 0.2
 */
VC_EXTERN(int) vc_call_quality_report(vc_tenant *tenant, const char *call_id,
                                      const vc_call_quality *metrics);

/**
 * A call's quality figures as merged so far. The caller sets
 * out->version.
 * @return 0; VC_ENOTFOUND (no such call, or no figures yet), VC_EINVALID
 * @since 0.2
 */
VC_EXTERN(int) vc_call_quality_get(vc_call_quality *out, vc_tenant *tenant,
                                   const char *call_id);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_QUALITY_H */
