/*
 * Message internals shared with the dispatcher and the webhook handler.
 */
#ifndef VC_MSG_MESSAGE_H
#define VC_MSG_MESSAGE_H

#include "vyomcomm/message.h"
#include "store/db.h"

/* The job kind that delivers a message. */
#define VC__JOB_MESSAGE_SEND "message.send"

/* Up to VC__DB_IDS ids as rows of one column (column1), in the order of
 * their parameters ?1..?64, as vc__stmt_bind_ids binds them: a statement
 * that inserts one row per id selects FROM (VALUES ...) WHERE column1 IS
 * NOT NULL, and reads no table for them. */
#define VC__MSG_IDS_ROWS \
  "(?1), (?2), (?3), (?4), (?5), (?6), (?7), (?8), (?9), (?10), (?11)," \
  " (?12), (?13), (?14), (?15), (?16), (?17), (?18), (?19), (?20), (?21)," \
  " (?22), (?23), (?24), (?25), (?26), (?27), (?28), (?29), (?30), (?31)," \
  " (?32), (?33), (?34), (?35), (?36), (?37), (?38), (?39), (?40), (?41)," \
  " (?42), (?43), (?44), (?45), (?46), (?47), (?48), (?49), (?50), (?51)," \
  " (?52), (?53), (?54), (?55), (?56), (?57), (?58), (?59), (?60), (?61)," \
  " (?62), (?63), (?64)"

/* Rank for monotonic status changes: may `to` follow `from`? */
int vc__msg_status_may_follow(int from, int to);

/* A status is dispatch-final (the dispatcher's part is over). */
int vc__msg_status_dispatch_final(int status);

/*
 * Inside the caller's transaction: move a message to `status` when the
 * rank allows, recording the error fields (may be NULL) and appending a
 * message.<status> event. *changed is 1 when the row moved.
 */
typedef struct vc__msg_status_change {
  int status;
  const char *channel_id;     /* set channel_id when not NULL */
  const char *provider_id;    /* set provider_id when not NULL */
  int error;                  /* vc error code, 0 to keep */
  const char *provider_code;
  const char *error_message;
} vc__msg_status_change;

int vc__msg_set_status(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *message_id,
                       const vc__msg_status_change *c, int *changed);

/* The same when the caller knows the status the message should be in
 * (the dispatcher, which marked it sending): one guarded UPDATE instead
 * of a read and a write; when the message moved meanwhile, the general
 * path above decides. */
int vc__msg_set_status_from(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            const char *message_id, int expected,
                            const vc__msg_status_change *c, int *changed);

/*
 * vc__msg_set_status_from for up to VC__DB_IDS messages of one tenant
 * moving from `expected` with the same change but each its own provider
 * id (items[i].provider_id; NULL keeps the row's): one UPDATE for the
 * set, one INSERT of their events, one rollup upsert per group of the
 * same hour, channel and status. What it cannot do so goes through
 * vc__msg_set_status_from one by one, as before: every message when the
 * tenant has automation rules on messages (they act per event, before
 * the next change), and the messages of a campaign (its counters) or
 * that moved meanwhile. items[i].changed is set as *changed would be.
 */
typedef struct vc__msg_status_item {
  const char *message_id;
  const char *provider_id;
  int changed;
} vc__msg_status_item;

int vc__msg_set_status_many(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                            int expected, const vc__msg_status_change *c,
                            vc__msg_status_item *items, size_t n);

/*
 * vc_message_send() inside the caller's transaction on `db` (which it
 * must hold; a savepoint keeps a refusal from touching the rest): the
 * message is queued only if that transaction commits. The caller wakes
 * the engine (vc_ctx_wakeup) after its commit. Same codes as
 * vc_message_send().
 */
int vc__message_queue(char id_out[VC_ID_SIZE], vc__db *db, vc_tenant *t,
                      const vc_message_spec *spec);

/* The limits of a rendered body for a message of `kind` (a
 * vc_channel_kind); sets the SMS segment count. 0 or VC_EINVALID /
 * VC_ETOOBIG with the error set. */
int vc__msg_check_body(int kind, const char *subject, const char *text,
                       const char *html, int *segments);

/*
 * vc__message_queue() for a reply the carriers require whatever the
 * recipient's consent: the confirmation of an opt-out keyword or the
 * answer to HELP (keyword.c, its only user). It is queued without the
 * consent check and outside quiet hours, and marked so that the
 * dispatcher does not check consent again.
 */
int vc__message_queue_required(char id_out[VC_ID_SIZE], vc__db *db,
                               vc_tenant *t, const vc_message_spec *spec);

#endif
