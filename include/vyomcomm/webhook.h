/**
 * @file vyomcomm/webhook.h
 * @brief Webhooks from providers: delivery reports and inbound messages.
 *
 * Providers post to `{public_base_url}/webhooks/{channel_id}`. A host with
 * its own HTTP server hands each such request to vc_webhook_handle() and
 * sends back the response it fills. The handler finds the channel from
 * the path, verifies the provider's signature in constant time, and
 * applies what the webhook says exactly once: replays and duplicates are
 * recorded once, and a message's status never moves backwards.
 *
 * Thread safety: may be called from any thread, concurrently.
 *
 * @defgroup vc_webhook Webhooks
 * @{
 */
#ifndef VYOMCOMM_WEBHOOK_H
#define VYOMCOMM_WEBHOOK_H

#include "common.h"
#include "types.h"
#include "http.h"

VC_BEGIN_DECL

/** Largest webhook body accepted, in bytes. */
#define VC_WEBHOOK_MAX_BODY (1024 * 1024)

/**
 * Handle one webhook request. Always fills `out` with the response to
 * send (also on failure: 401 for a bad signature, 404 for an unknown
 * channel, 413 for an oversized body, 400 for a malformed one, 500 when
 * the store failed so that the provider retries). Dispose of it with
 * vc_http_response_dispose().
 *
 * The target may be `/webhooks/{channel_id}` or
 * `/api/v1/communication/webhooks/{type}?channel={channel_id}`.
 *
 * @return 0 when the webhook was applied (or was a duplicate); otherwise
 *   VC_EAUTH, VC_ENOTFOUND, VC_EINVALID, VC_ETOOBIG, VC_ESTATE (no
 *   public_base_url), or a storage error.
 * @since 0.1
 */
VC_EXTERN(int) vc_webhook_handle(vc_http_response *out, vc_ctx *ctx,
                                 const vc_http_request *req);

/**
 * Listen for webhooks on `addr` ("127.0.0.1:8080"; port 0 picks a free
 * port) with a built-in HTTP server on a library thread, handing each
 * request to vc_webhook_handle(). For hosts without an HTTP server of
 * their own; the listener stops when the context is freed. Bodies over
 * 512 KiB are dropped by the underlying server.
 *
 * @return the port listened on (> 0); VC_ESTATE when the context already
 *   listens; VC_ENET when the address cannot be bound
 * @since 0.1
 */
VC_EXTERN(int) vc_webhook_listen(vc_ctx *ctx, const char *addr);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_WEBHOOK_H */
