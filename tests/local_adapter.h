/*
 * The pieces every test's local adapter shares (VC_CAP_LOCAL: no HTTP,
 * the dispatcher asks parse_send for the outcome at once). A test builds
 * its vc_adapter from these and its own webhook functions.
 */
#ifndef VC_TESTS_LOCAL_ADAPTER_H
#define VC_TESTS_LOCAL_ADAPTER_H

#include <stdio.h>

#include "vyomcomm.h"
#include "vyomcomm/sys/adapter.h"

static inline int local_init(void **state, const char *config,
                             const char *creds)
{
  (void)config;
  (void)creds;
  *state = NULL;
  return 0;
}

static inline void local_fini(void *state)
{
  (void)state;
}

/* A local adapter builds no request. */
static inline int local_build(void *state, const vc_outbound *msg,
                              vc_http_out *req)
{
  (void)state; (void)msg; (void)req;
  return VC_ENOTSUPPORTED;
}

/* Every message accepted, as provider id "P-<message id>". */
static inline int local_accept(void *state, const vc_outbound *msg,
                               const vc_http_response *res,
                               vc_send_result *out)
{
  (void)state;
  (void)res;
  out->outcome = VC_SEND_ACCEPTED;
  snprintf(out->provider_id, sizeof(out->provider_id), "P-%s",
           msg->message_id);
  return 0;
}

/* Every webhook taken as signed. */
static inline int local_verify_any(void *state, const vc_http_request *req,
                                   vc_webhook_env *env)
{
  (void)state; (void)req; (void)env;
  return 0;
}

#endif
