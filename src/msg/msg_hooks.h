/*
 * What the message core tells the modules that keep figures and threads
 * about messages: analytics rollups (stats.c), the cost ledger
 * (msg_ledger.c) and the inbox (inbox.c). (A campaign's own counters
 * are moved by the code that makes the change, with its own hook.)
 *
 * Each function runs on the caller's store connection, inside the
 * transaction that makes the change, so a message and every figure it
 * moved commit together or not at all. msg_hooks.c fans each change out
 * to the modules; the core calls only vc__msg_on_change and
 * vc__msg_on_inbound.
 */
#ifndef VC_MSG_HOOKS_H
#define VC_MSG_HOOKS_H

#include "store/db.h"

/*
 * A message was queued (`from` is 0) or moved from status `from` to `to`.
 * Strings are never NULL ("" when unknown or none).
 *
 * One move does not arrive here: the dispatcher marks a batch sending
 * (queued -> sending) with one UPDATE. Every other move does, the
 * cancelling of a campaign's queued messages included.
 */
typedef struct vc__msg_change {
  const char *tenant_id;
  const char *message_id;
  int kind;                 /* a vc_channel_kind */
  int category;             /* a vc_category */
  int from, to;             /* vc_msg_status; from 0 = just queued */
  const char *channel_id;   /* after the change; "" while unrouted */
  const char *to_addr;      /* the recipient (only when from is 0) */
  const char *campaign_id;
  const char *contact_id;
  int segments;             /* SMS parts; 0 for other kinds */
  int error;                /* vc error code of a failure, else 0 */
  int64_t created_at;       /* when the message was queued, Unix ms */
  int64_t at;               /* when this change happened, Unix ms */
} vc__msg_change;

int vc__msg_on_change(vc__db *db, vc_ctx *ctx, const vc__msg_change *c);

/* Changes c[0..n) made in one statement (n <= VC__DB_IDS): the same as
 * vc__msg_on_change for each, but rollups the changes share move by one
 * upsert. */
int vc__msg_on_changes(vc__db *db, vc_ctx *ctx, const vc__msg_change *c,
                       size_t n);

/* A message from a customer was stored (vc_inbound_message row `id`). */
typedef struct vc__msg_inbound {
  const char *tenant_id;
  const char *id;           /* the vc_inbound_message row */
  const char *channel_id;
  int kind;                 /* the channel's vc_channel_kind */
  const char *from_addr;    /* as the provider gave it */
  const char *text;         /* may be "" */
  int64_t at;               /* received, Unix ms */
} vc__msg_inbound;

int vc__msg_on_inbound(vc__db *db, vc_ctx *ctx, const vc__msg_inbound *m);

/* ---- the modules' halves, called by msg_hooks.c only ------------------- */

/* Analytics rollups (stats.c). */
int vc__stats_on_message(vc__db *db, vc_ctx *ctx, const vc__msg_change *c);
int vc__stats_on_messages(vc__db *db, vc_ctx *ctx, const vc__msg_change *c,
                          size_t n);
int vc__stats_on_inbound(vc__db *db, vc_ctx *ctx, const vc__msg_inbound *m);

/* Message costs (msg_ledger.c): the estimate when a message is queued,
 * its reversal when the message fails before any provider took it. */
int vc__msg_ledger_on_message(vc__db *db, vc_ctx *ctx,
                              const vc__msg_change *c);

/* The inbox (inbox.c): threads the inbound message into its contact's
 * conversation (creating the contact when the sender is unknown). */
int vc__inbox_on_inbound(vc__db *db, vc_ctx *ctx, const vc__msg_inbound *m);

/* Automation rules (rule.c) assign a contact's conversation to an agent
 * (id or name), opening the conversation when there is none.
 * VC_ENOTFOUND for an unknown agent or contact. */
int vc__inbox_assign_contact(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                             const char *contact_id, const char *agent);

/* Erasure (privacy.c) asks the inbox to forget a contact's
 * conversations. */
int vc__inbox_erase_contact(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *contact_id);

#endif /* VC_MSG_HOOKS_H */
