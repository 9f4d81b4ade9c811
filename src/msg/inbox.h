/*
 * What inbox.c (conversations) and inbox_thread.c (the timeline) share.
 * The hooks the message core calls are in msg_hooks.h.
 */
#ifndef VC_MSG_INBOX_H
#define VC_MSG_INBOX_H

#include "vyomcomm/inbox.h"
#include "vyomcomm/ctx.h"
#include "store/db.h"

/* A list cursor "<time>:<id>": 0 and its parts, or VC_EINVALID with the
 * error set (`what` names the list). "" and NULL give 0 with *at = -1. */
int vc__inbox_cursor_parse(const char *cursor, const char *what,
                           int64_t *at, char id[VC_ID_SIZE]);

/* The contact a conversation is for, as it is now (a merged contact's
 * survivor): 0, or VC_ENOTFOUND. */
int vc__inbox_conversation_contact(char contact_id[VC_ID_SIZE], vc__db *db,
                                   const char *tenant_id,
                                   const char *conversation_id);

/* A voicemail of contact `contact_id` was recorded at `at`: open its
 * conversation, or reopen it with one more unread (the reply channel
 * stays the latest message's). In the caller's transaction. */
int vc__inbox_on_voicemail(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                           const char *contact_id, int64_t at);

#endif
