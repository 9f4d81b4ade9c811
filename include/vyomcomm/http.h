/**
 * @file vyomcomm/http.h
 * @brief HTTP requests and responses as they cross the API: a webhook the
 *        host received and hands to vc_webhook_handle(), and the reply the
 *        library asks the host to send.
 *
 * Thread safety: plain data; a value is used by one thread at a time.
 *
 * @defgroup vc_http HTTP values
 * @{
 */
#ifndef VYOMCOMM_HTTP_H
#define VYOMCOMM_HTTP_H

#include "common.h"
#include "buffer.h"

VC_BEGIN_DECL

/** One header line. Names compare case-insensitively. */
typedef struct vc_http_header {
  const char *name;           /**< e.g. "Content-Type" */
  const char *value;          /**< the value, without the line end */
} vc_http_header;

/**
 * A request, described by the caller; every pointer is borrowed for the
 * duration of the call that receives it.
 */
typedef struct vc_http_request {
  unsigned int version;          /**< VC_HTTP_REQUEST_VERSION */
  const char *method;            /**< "POST", "GET", ... */
  /** The path and query as received ("/webhooks/01J...?x=1"). */
  const char *target;
  const vc_http_header *headers; /**< the header lines received */
  size_t nheaders;               /**< entries in `headers` */
  const uint8_t *body;           /**< raw bytes, exactly as received */
  size_t body_len;            /**< bytes in `body` */
  const char *remote_addr;       /**< peer address, for logs; may be NULL */
} vc_http_request;

/** The current version of vc_http_request, and an initializer with every
 *  member at its default (vc_http_request_init() for other languages). */
#define VC_HTTP_REQUEST_VERSION 1
#define VC_HTTP_REQUEST_INIT \
  { VC_HTTP_REQUEST_VERSION, NULL, NULL, NULL, 0, NULL, 0, NULL }

/** Initialise a vc_http_request for `version`. @since 0.1 */
VC_EXTERN(int) vc_http_request_init(vc_http_request *r,
                                    unsigned int version);

/**
 * A response: filled by the library (the reply to a webhook), or by the
 * library's transport for an adapter to parse. Dispose of one the
 * library filled for you with vc_http_response_dispose().
 */
typedef struct vc_http_response {
  unsigned int version;          /**< VC_HTTP_RESPONSE_VERSION */
  int status;                    /**< HTTP status code */
  /** Content-Type of the body, static storage; NULL when no body. */
  const char *content_type;
  const vc_http_header *headers; /**< further headers (may be none) */
  size_t nheaders;               /**< entries in `headers` */
  vc_buf body;                /**< the body; empty when none */
} vc_http_response;

/** The current version of vc_http_response, and an initializer with every
 *  member at its default (vc_http_response_init() for other languages). */
#define VC_HTTP_RESPONSE_VERSION 1
#define VC_HTTP_RESPONSE_INIT \
  { VC_HTTP_RESPONSE_VERSION, 0, NULL, NULL, 0, VC_BUF_INIT }

/** Initialise a vc_http_response for `version`. @since 0.1 */
VC_EXTERN(int) vc_http_response_init(vc_http_response *r,
                                     unsigned int version);

/** Release what the library put in a response; NULL is accepted.
 *  @since 0.1 */
VC_EXTERN(void) vc_http_response_dispose(vc_http_response *r);

/**
 * The value of the first header named `name` (case-insensitive), or NULL.
 * @since 0.1
 */
VC_EXTERN(const char *) vc_http_request_header(const vc_http_request *r,
                                               const char *name);

/**
 * The value of the first response header named `name`
 * (case-insensitive), or NULL. @since 0.1
 */
VC_EXTERN(const char *) vc_http_response_header(const vc_http_response *r,
                                                const char *name);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_HTTP_H */
