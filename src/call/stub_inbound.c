/*
 * Stand-ins for the inbound call path until it lands (issue 8): the
 * declarations exist so adapters can be written against them.
 */
#include "core/common.h"
#include "vyomcomm/sys/transport.h"

int vc_call_direction_of(const vc_call *call)
{
  (void)call;
  return VC_CALL_OUTBOUND;
}

int vc_session_incoming(vc_session_host *host, const vc_call_update *update)
{
  (void)host;
  (void)update;
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                       "inbound calls are not built yet");
}

int vc_session_fetch(vc_session_host *host, const char *call_id,
                     const char *url, const vc_call_update *update)
{
  (void)host;
  (void)call_id;
  (void)url;
  (void)update;
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                       "inbound calls are not built yet");
}
