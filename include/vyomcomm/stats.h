/**
 * @file vyomcomm/stats.h
 * @brief Analytics: a tenant's message, delivery, latency, inbound,
 *        campaign, call and cost figures over a window, as one JSON
 *        document (docs/analytics.md describes its shape).
 *
 * The figures come from hourly rollups that the library moves in the
 * transaction of each change it counts (a message's move into a status,
 * an inbound message, a call's end, a ledger entry), so a query reads a
 * few rows per hour of the window whatever the number of messages.
 * Hours and days are UTC.
 *
 * Thread safety: may be called from any thread.
 *
 * @defgroup vc_stats Analytics
 * @{
 */
#ifndef VYOMCOMM_STATS_H
#define VYOMCOMM_STATS_H

#include "common.h"
#include "types.h"
#include "buffer.h"

VC_BEGIN_DECL

/** The buckets of a series. Values are pinned. */
typedef enum vc_stats_granularity {
  VC_STATS_HOUR = 1,   /**< one point per UTC hour */
  VC_STATS_DAY = 2     /**< one point per UTC day (00:00 to 24:00 UTC) */
} vc_stats_granularity;

/** The sections of a query's answer (vc_stats_spec.what). Pinned. */
typedef enum vc_stats_section {
  VC_STATS_MESSAGES = 1 << 0,  /**< counts by status, kind, channel,
                                    provider; series; delivery rate */
  VC_STATS_LATENCY = 1 << 1,   /**< queued-to-delivered percentiles */
  VC_STATS_CAMPAIGNS = 1 << 2, /**< campaign funnels */
  VC_STATS_CALLS = 1 << 3,     /**< attempts, answer rate, talk and
                                    handle times by agent */
  VC_STATS_COSTS = 1 << 4,     /**< ledger amounts by source, channel,
                                    provider, campaign and currency */
  VC_STATS_INBOUND = 1 << 5,   /**< inbound messages by channel; series */
  VC_STATS_ALL = (1 << 6) - 1
} vc_stats_section;

/** The longest window at hour granularity: 31 days. */
#define VC_STATS_MAX_HOURS (31 * 24)
/** The longest window at day granularity: 400 days. */
#define VC_STATS_MAX_DAYS 400
/** At most this many campaigns, agents or cost rows are listed; a list
 *  cut short says so ("..._truncated": true). */
#define VC_STATS_LIST_MAX 500

/** What vc_stats_query() reports. */
typedef struct vc_stats_spec {
  unsigned int version;    /**< VC_STATS_SPEC_VERSION */
  /** The window, Unix ms, `from` included, `to` excluded: both whole
   *  UTC hours, 0 <= from < to; required. */
  int64_t from, to;
  /** A vc_stats_granularity; 0 = VC_STATS_HOUR. The window spans at
   *  most VC_STATS_MAX_HOURS hours at hour granularity and
   *  VC_STATS_MAX_DAYS days at day granularity. */
  int granularity;
  /** vc_stats_section bits; 0 = VC_STATS_ALL. */
  unsigned int what;
  /** Only this channel (an id of the tenant), or NULL / "" for all. */
  const char *channel_id;
  /** Only this campaign (an id of the tenant), or NULL / "" for all.
   *  Calls and inbound messages belong to no campaign: with a campaign
   *  those sections are left out. */
  const char *campaign_id;
} vc_stats_spec;

/** The current version of vc_stats_spec, and an initializer with every
 *  member at its default (vc_stats_spec_init() for other languages). */
#define VC_STATS_SPEC_VERSION 1
#define VC_STATS_SPEC_INIT \
  { VC_STATS_SPEC_VERSION, 0, 0, VC_STATS_HOUR, VC_STATS_ALL, NULL, NULL }

/** Initialise a vc_stats_spec for `version`. @since 0.3 */
VC_EXTERN(int) vc_stats_spec_init(vc_stats_spec *q, unsigned int version);

/**
 * A tenant's figures over `q`'s window as a JSON object (UTF-8), written
 * to `json_out` (which the caller disposes with vc_buf_dispose();
 * whatever it held is replaced). The document's size is bounded by the
 * window limits and VC_STATS_LIST_MAX.
 *
 * @return 0; VC_EINVALID (a member of `q` out of range: the message
 *   names it; a filter that is not an id), VC_ENOTFOUND (the channel or
 *   campaign is not the tenant's), VC_EVERSION; a store error. On error
 *   `json_out` is left empty.
 * @since 0.3
 */
VC_EXTERN(int) vc_stats_query(vc_buf *json_out, vc_tenant *tenant,
                              const vc_stats_spec *q);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_STATS_H */
