/*
 * Unsubscribe links: signed tokens, the List-Unsubscribe header of an
 * outgoing email, and the /unsubscribe/{token} route of the webhook
 * handler. See vyomcomm/unsubscribe.h.
 */
#ifndef VC_MSG_UNSUBSCRIBE_H
#define VC_MSG_UNSUBSCRIBE_H

#include "vyomcomm/ctx.h"
#include "vyomcomm/http.h"

/* Room for "<{public_base_url}/unsubscribe/{token}>". */
#define VC__UNSUBSCRIBE_HEADER_MAX 1200

/* The List-Unsubscribe value of a message into out, or "" when it gets
 * none (not email, not marketing, no contact, no public_base_url or no
 * master key). Takes the keyring's read lock: call it with no store
 * connection held. */
void vc__unsubscribe_header(char out[VC__UNSUBSCRIBE_HEADER_MAX],
                            vc_ctx *ctx, const char *tenant_id,
                            const char *contact_id, int kind, int category);

/* VC__NOT_UNSUBSCRIBE when req->target is some other path; else *out
 * is the answer (a POST applied) and the result 0 or an error. */
#define VC__NOT_UNSUBSCRIBE 1
int vc__unsubscribe_route(vc_http_response *out, vc_ctx *ctx,
                          const vc_http_request *req);

#endif /* VC_MSG_UNSUBSCRIBE_H */
