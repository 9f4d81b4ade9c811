/* TEMPORARY stand-ins for other modules; removed when branches merge. */
/*
 * The session host functions (vyomcomm/sys/transport.h) belong to the
 * session core (helper "session"). Until it is merged these only let
 * the SIP adapter link; they do nothing.
 */
#include "core/common.h"
#include "vyomcomm/sys/transport.h"

int vc_session_placed(vc_session_host *host, const char *call_id,
                      const vc_send_result *result)
{
  (void)host; (void)call_id; (void)result;
  return VC_ENOTFOUND;
}

int vc_session_done(vc_session_host *host, uint64_t token,
                    const vc_send_result *result)
{
  (void)host; (void)token; (void)result;
  return VC_ENOTFOUND;
}

int vc_session_report(vc_session_host *host, const vc_call_update *update)
{
  (void)host; (void)update;
  return 0;
}

void vc_session_link(vc_session_host *host, int up, const char *why)
{
  (void)host; (void)up; (void)why;
}
