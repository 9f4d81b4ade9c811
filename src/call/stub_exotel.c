/* TEMPORARY stand-ins for other modules; removed when branches merge. */
/*
 * vc_event_sink_call belongs to the call core (branch i5-core); until it
 * merges, this hands an update to the sink's on_call callback unchecked,
 * so that the voice adapters' tests can collect what they report.
 */
#include "core/common.h"
#include "net/sink.h"

int vc_event_sink_call(vc_event_sink *s, const vc_call_update *u)
{
  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(u);
  VC_CHECK_VERSION(u, VC_CALL_UPDATE_VERSION, "vc_call_update");
  return s->on_call ? s->on_call(s->payload, u) : 0;
}
