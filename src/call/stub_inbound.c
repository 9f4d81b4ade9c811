/*
 * Stand-ins for the session side of inbound calls until it lands on
 * s6-inbound (the core's vc_session_incoming and vc_session_fetch): the
 * asterisk-ari session calls them. Delete this file when the real ones
 * are merged (the link then fails on duplicates, never silently).
 */
#include "core/common.h"
#include "vyomcomm/sys/transport.h"

int vc_session_incoming(vc_session_host *host, const vc_call_update *update)
{
  (void)host;
  (void)update;
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                       "inbound calls on sessions are not built yet");
}

int vc_session_fetch(vc_session_host *host, const char *call_id,
                     const char *url, const vc_call_update *update)
{
  (void)host;
  (void)call_id;
  (void)url;
  (void)update;
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTSUPPORTED,
                       "inbound calls on sessions are not built yet");
}
