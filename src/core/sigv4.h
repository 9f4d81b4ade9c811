/*
 * AWS Signature Version 4 (AWS4-HMAC-SHA256) for requests to AWS APIs.
 *
 * The signer is pure: it takes the request as it will go on the wire
 * (method, URL, the headers to sign, body) and the time, and returns
 * the headers to add. Every header passed in is signed; `host` is
 * derived from the URL, `x-amz-date` from `now_ms` and
 * `x-amz-security-token` from a session token, and all three must be
 * sent exactly as returned.
 *
 * Canonical form (the AWS test suite's "normalize" rules): the path
 * with dot segments and empty segments removed, then percent-encoded
 * again (so the bytes on the wire are what gets encoded: "%20" signs
 * as "%2520"); query parameters decoded, re-encoded (RFC 3986
 * unreserved bytes kept, everything else %XX, '+' a literal plus) and
 * sorted by name then value; header names lowercased, values trimmed
 * with inner runs of spaces collapsed, repeated names joined with ','
 * in the order given, sorted by name; the payload hash is the hex
 * SHA-256 of the body.
 */
#ifndef VC_CORE_SIGV4_H
#define VC_CORE_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "vyomcomm/buffer.h"
#include "vyomcomm/http.h"

#define VC__SIGV4_MAX_HEADERS 32

typedef struct vc__aws_creds {
  const char *access_key_id;     /* "AKIA..." / "ASIA..." */
  const char *secret_access_key;
  const char *session_token;     /* temporary credentials, else NULL */
} vc__aws_creds;

typedef struct vc__sigv4 {
  char amz_date[17];             /* X-Amz-Date: "YYYYMMDDTHHMMSSZ" */
  char host[264];                /* Host, as signed */
  vc_buf authorization;          /* Authorization header value */
  vc_buf canonical_request;      /* what was signed, for tests */
  vc_buf string_to_sign;
} vc__sigv4;

/*
 * Sign a request. `headers` (may be NULL when nheaders is 0) must not
 * contain Host, X-Amz-Date, X-Amz-Security-Token or Authorization.
 * 0, VC_EINVALID (a malformed URL, header, region, service or
 * credential; the message never quotes a secret), VC_ETOOBIG, VC_ENOMEM.
 * Dispose of `out` with vc__sigv4_dispose() in every case.
 */
int vc__sigv4_sign(vc__sigv4 *out, const char *method, const char *url,
                   const vc_http_header *headers, size_t nheaders,
                   const void *body, size_t body_len, const char *region,
                   const char *service, const vc__aws_creds *creds,
                   int64_t now_ms);

void vc__sigv4_dispose(vc__sigv4 *s);

/* The derived signing key for a date ("YYYYMMDD"), region, service. */
int vc__sigv4_signing_key(uint8_t out[32], const char *secret,
                          const char *date, const char *region,
                          const char *service);

#endif
