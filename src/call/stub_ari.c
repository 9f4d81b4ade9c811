/* TEMPORARY stand-ins for other modules; removed when branches merge. */
/* The session host's functions belong to the session core (i6-session). */
#include "core/common.h"
#include "vyomcomm/sys/transport.h"

int vc_session_placed(vc_session_host *host, const char *call_id,
                      const vc_send_result *result)
{
  VC_UNUSED(host); VC_UNUSED(call_id); VC_UNUSED(result);
  return VC_ENOTFOUND;
}

int vc_session_done(vc_session_host *host, uint64_t token,
                    const vc_send_result *result)
{
  VC_UNUSED(host); VC_UNUSED(token); VC_UNUSED(result);
  return VC_ENOTFOUND;
}

int vc_session_report(vc_session_host *host, const vc_call_update *update)
{
  VC_UNUSED(host); VC_UNUSED(update);
  return 0;
}

void vc_session_link(vc_session_host *host, int up, const char *why)
{
  VC_UNUSED(host); VC_UNUSED(up); VC_UNUSED(why);
}

void vc_session_log(vc_session_host *host, int level, const char *text)
{
  VC_UNUSED(host); VC_UNUSED(level); VC_UNUSED(text);
}
