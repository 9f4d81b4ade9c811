/*
 * Internals of the Twilio Messaging adapter (twilio.c) that tests reach.
 */
#ifndef VC_ADAPTERS_SMS_TWILIO_H
#define VC_ADAPTERS_SMS_TWILIO_H

#include "vyomcomm/sys/adapter.h"

/*
 * Check the X-Twilio-Signature of `req` posted to `url` under `token`,
 * as the adapter's verify_webhook does. Exposed because the published
 * test vectors sign with the token "12345", which a channel's strict
 * credential check refuses. 0, VC_EAUTH, VC_ETOOBIG or VC_EINVALID.
 */
int vc__twilio_check_signature(const char *token,
                               const vc_http_request *req,
                               const char *url);

#endif
