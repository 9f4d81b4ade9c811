/*
 * Inbound keywords (STOP, START, HELP and a tenant's own): what an
 * inbound SMS or chat message that is a keyword does.
 */
#ifndef VC_MSG_KEYWORD_H
#define VC_MSG_KEYWORD_H

#include "vyomcomm/ctx.h"
#include "store/db.h"
#include "address.h"

/* The sender of an inbound message as a message recipient (`to`, as
 * vc_message_send stores it) and as a contact address (a
 * vc_address_kind and its normalized form). */
typedef struct vc__sender {
  char to[VC__ADDR_TELEGRAM_MAX + VC__ADDR_PHONE_MAX];
  int addr_kind;
  char address[VC__ADDR_TELEGRAM_MAX + VC__ADDR_PHONE_MAX];
} vc__sender;

/* `from` as a provider of channel `kind` (its adapter `provider`) gave
 * it: 0, or -1 when it is no address to answer (error detail set). */
int vc__sender_of(vc__sender *out, int kind, const char *provider,
                  const char *from);

/*
 * Act on an inbound message stored as `inbound_id` on channel
 * `channel_id` (of `kind`, through adapter `provider`), inside the
 * webhook's transaction on `db`: when its whole text is a keyword of the
 * tenant (vyomcomm/consent.h), record the sender's opt-out or opt-in
 * (creating a contact for an unknown sender) and queue the keyword's
 * reply to the sender on the same channel. 1 when it was a keyword, 0
 * when not; a negative code when the consent could not be recorded (the
 * webhook then fails, and the provider sends it again). A reply that
 * cannot be queued is logged and skipped: the consent change stands.
 */
int vc__keyword_inbound(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                        const char *channel_id, int kind,
                        const char *provider, const char *inbound_id,
                        const char *from, const char *text);

#endif /* VC_MSG_KEYWORD_H */
