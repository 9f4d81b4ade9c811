/*
 * Internals of the AWS SNS adapter (sns.c) that tests reach.
 */
#ifndef VC_ADAPTERS_SMS_SNS_H
#define VC_ADAPTERS_SMS_SNS_H

#include <stddef.h>
#include <stdint.h>

#include "vyomcomm/sys/adapter.h"

/* What a URL in an SNS message must be. */
enum {
  VC__SNS_URL_CERT = 1,      /* SigningCertURL: a path ending in .pem */
  VC__SNS_URL_SUBSCRIBE = 2  /* SubscribeURL: any path and query */
};

/*
 * 0 when `url` is an https URL on SNS's own host
 * (sns.<region>.amazonaws.com, or .amazonaws.com.cn), with no userinfo,
 * no port, no fragment, and for VC__SNS_URL_CERT a path ending in
 * ".pem" and no query. *path_out (may be NULL) then points at the path.
 * VC_EAUTH otherwise.
 */
int vc__sns_check_url(const char *url, int kind, const char **path_out);

/*
 * Check the signature of an SNS HTTP(S) message (the JSON body as
 * posted) with the PEM certificate `cert`, as verify_webhook does after
 * fetching it: the canonical string of the message type's fields,
 * SHA1withRSA for SignatureVersion 1 and SHA256withRSA for 2, the
 * certificate valid at now_ms (VC__X509_ANY_TIME: not checked). The
 * SigningCertURL is checked, its timestamp and topic are not.
 * 0, VC_EAUTH, VC_EINVALID, VC_EENCODING or VC_ETOOBIG.
 */
int vc__sns_verify_with_cert(const void *body, size_t len, const void *cert,
                             size_t cert_len, int64_t now_ms);

#endif
