/**
 * @file vyomcomm/unsubscribe.h
 * @brief Unsubscribe links (RFC 8058 one-click): marketing email carries
 *        `List-Unsubscribe: <{public_base_url}/unsubscribe/{token}>` and
 *        `List-Unsubscribe-Post: List-Unsubscribe=One-Click`; the token is
 *        signed and names the tenant, the contact, the channel kind and
 *        the category, never an address.
 *
 * The built-in listener (vc_webhook_listen) and vc_webhook_handle()
 * answer `POST /unsubscribe/{token}` by applying it, and `GET` with a
 * confirmation page that changes nothing (mail scanners follow links).
 *
 * Thread safety: every function may be called from any thread.
 *
 * @defgroup vc_unsubscribe Unsubscribe links
 * @{
 */
#ifndef VYOMCOMM_UNSUBSCRIBE_H
#define VYOMCOMM_UNSUBSCRIBE_H

#include "common.h"
#include "types.h"
#include "buffer.h"

VC_BEGIN_DECL

/** The length of a token, in characters (base64url, no padding). */
#define VC_UNSUBSCRIBE_TOKEN_LEN 100

/** The body of a one-click unsubscribe POST (RFC 8058). */
#define VC_UNSUBSCRIBE_ONE_CLICK "List-Unsubscribe=One-Click"

/**
 * Write the unsubscribe URL of a contact for a channel kind and category
 * into `out` (replacing its contents): what the library puts in
 * `List-Unsubscribe`, for a host that also wants the link in a message's
 * footer. Reads nothing from the store.
 * @return 0, VC_EINVALID (a contact id that is not an id, an unknown
 *         kind or category), VC_ESTATE (no public_base_url),
 *         VC_EKEY (no master key)
 * @since 0.3
 */
VC_EXTERN(int) vc_unsubscribe_url(vc_buf *out, vc_tenant *tenant,
                                  const char *contact_id, int kind,
                                  int category);

/**
 * Apply a token: record an opt-out of its contact for its channel kind
 * and category (source "unsubscribe"), with an audit row
 * ("consent.unsubscribe"), in one transaction. Applying it again leaves
 * the contact opted out.
 * @return 0, VC_EAUTH (malformed, altered, made under another key or for
 *         a tenant that is gone: nothing recorded), VC_EKEY (no master
 *         key), or a store error
 * @since 0.3
 */
VC_EXTERN(int) vc_unsubscribe_apply(vc_ctx *ctx, const char *token);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_UNSUBSCRIBE_H */
