/*
 * What the Twilio adapters (twilio-sms, twilio-voice) share: SIDs, the
 * query of a callback URL, form bodies, Retry-After, the error JSON and
 * the X-Twilio-Signature check. Internal: nothing here is exported.
 */
#ifndef VC_ADAPTERS_TWILIO_COMMON_H
#define VC_ADAPTERS_TWILIO_COMMON_H

#include "vyomcomm/sys/adapter.h"
#include "core/codec.h"

#include <cJSON.h>

#define VC__TWILIO_SID_LEN 34           /* two letters, 32 hex digits */
#define VC__TWILIO_HOOK_BODY_MAX (64 * 1024)
#define VC__TWILIO_HOOK_PARAMS_MAX 200

/* A Twilio SID: `prefix` (any two capitals when NULL), 32 hex digits. */
int vc__twilio_is_sid(const char *s, const char *prefix);

/* The first value of a query parameter of a URL or request target,
 * percent-decoded into `out` (replaced); *found says whether it was.
 * VC_EINVALID when the value decodes to a NUL byte ("%00"). */
int vc__twilio_query_get(vc_buf *out, int *found, const char *url,
                         const char *name);

/* A form body as Twilio sends it: printable ASCII, well-formed %XX
 * escapes, no encoded NUL. 0 or VC_EINVALID. */
int vc__twilio_check_form_syntax(const uint8_t *b, size_t n);

/* The single value of a form parameter, NULL when absent; VC_EINVALID
 * when it repeats (a repeated one could be reordered under the
 * signature). */
int vc__twilio_param(const char **out, const vc__form *f, const char *name);

/* Retry-After (seconds or an HTTP-date) into retry_after_ms or
 * retry_at_ms; anything else is ignored. */
void vc__twilio_read_retry_after(vc_send_result *out,
                                 const vc_http_response *res);

/* Twilio's error JSON ({"code", "message", ...}, `doc` may be NULL):
 * provider_code and error_message filled; returns the code, 0 if none. */
long vc__twilio_error_fields(vc_send_result *out, const cJSON *doc,
                             int status);

/*
 * Check the X-Twilio-Signature of `req` posted to `url` under `token`:
 * the URL (with and without the default port) and the form parameters
 * sorted by name, or bodySHA256 for a JSON body. Exposed because the
 * published test vectors sign with the token "12345", which a channel's
 * strict credential check refuses. 0, VC_EAUTH, VC_ETOOBIG or
 * VC_EINVALID.
 */
int vc__twilio_check_signature(const char *token,
                               const vc_http_request *req,
                               const char *url);

#endif
