/*
 * Campaign internals shared by the API (campaign.c), the fan-out job
 * (campaign_fanout.c) and message status changes (message.c).
 */
#ifndef VC_MSG_CAMPAIGN_H
#define VC_MSG_CAMPAIGN_H

#include "vyomcomm/campaign.h"
#include "store/db.h"

#define VC__JOB_CAMPAIGN_FANOUT "campaign.fanout"

#define VC__CAMPAIGN_TAG_MAX 100
#define VC__CAMPAIGN_LINK_MAX (16 + VC_ID_SIZE)
#define VC__CAMPAIGN_CHAIN_TEXT (VC_CAMPAIGN_CHAIN_MAX * VC__CAMPAIGN_LINK_MAX)

/* Added to a held message's job due time while its campaign is paused:
 * far beyond any real time, and keeps the spacing for the resume. */
#define VC__CAMPAIGN_HOLD (INT64_C(1) << 50)

/* A recipient's state (vc_campaign_recipient.state). */
enum {
  VC__RCPT_PENDING = 0,     /* stored, not reached by the fan-out */
  VC__RCPT_MESSAGE = 1,     /* has a message on `link`: its status tells */
  VC__RCPT_FAILED = 2,      /* every link tried failed, or no render */
  VC__RCPT_NO_CONSENT = 3,
  VC__RCPT_NO_ADDRESS = 4,
  VC__RCPT_EXPIRED = 5      /* would have been due after end_at */
};

/* One link of a chain, parsed. */
typedef struct vc__campaign_link {
  int addr_kind;            /* a vc_address_kind */
  int channel_kind;         /* a vc_channel_kind */
  char channel_id[VC_ID_SIZE]; /* "" = routed by kind */
} vc__campaign_link;

/* Parse the stored chain text ("whatsapp sms@<id>"). */
int vc__campaign_chain_parse(vc__campaign_link *links, size_t *n,
                             const char *text);

/* A stored campaign, without its variables. */
typedef struct vc__campaign_row {
  char tenant_id[VC_ID_SIZE];
  char id[VC_ID_SIZE];
  char name[VC_CAMPAIGN_NAME_MAX + 1];
  char template_id[VC_ID_SIZE];
  char locale[40];
  char chain[VC__CAMPAIGN_CHAIN_TEXT];
  char tag[VC__CAMPAIGN_TAG_MAX + 1];
  char cursor[VC_ID_SIZE + 8];
  int audience, category, state, window_start, window_end, fanout_done;
  double rate;
  int64_t start_at, end_at, base_at, base_n, paused_at;
  int64_t created_at, updated_at, started_at, finished_at;
  int64_t total, queued, sent, delivered, failed, canceled;
  int64_t skipped_consent, skipped_address, deferred_quiet, expired, open;
} vc__campaign_row;

/* Load a campaign row on the caller's connection. VC_ENOTFOUND. */
int vc__campaign_row_load(vc__campaign_row *out, vc__db *db,
                          const char *tenant_id, const char *id);

/*
 * Inside the transaction of a campaign message's status change (from
 * vc__msg_set_status): move the counters, queue the next link after a
 * permanent failure, and complete the campaign when nothing is open.
 */
int vc__campaign_on_status(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                           const char *campaign_id, const char *message_id,
                           int from, int to);

/* Complete the campaign of `r` (running, fan-out done, nothing open)
 * and append campaign.completed, in the caller's transaction. */
int vc__campaign_complete_if_done(vc__db *db, vc_ctx *ctx,
                                  const vc__campaign_row *r);

/* Queue a recipient's message on the first usable link at or after
 * `first_link` (the fallback after a failure), inside the caller's
 * transaction: 1 when queued, 0 when no link is usable (the recipient's
 * row then says why), < 0 on failure. */
int vc__campaign_fallback(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                          const char *campaign_id, const char *contact_id,
                          int first_link);

/* When the daily window [start, end) minutes after local midnight in
 * zone `z` (NULL: UTC) next opens at or after `at`. */
struct vc__tz;
int64_t vc__campaign_window_open(const struct vc__tz *z, int64_t at,
                                 int start_min, int end_min);

/* Register the fan-out job kind. */
int vc__campaign_register(vc_ctx *ctx);

#endif
