/* TEMPORARY stand-ins for other modules; removed when branches merge. */
/*
 * vc_event_sink_call() is the call core's (i5-core). Until it lands, a
 * call update goes to vc__stub_twilio_on_call when a test set it.
 */
#include "core/common.h"
#include "net/sink.h"

int (*vc__stub_twilio_on_call)(void *payload, const vc_call_update *u);

int vc_event_sink_call(vc_event_sink *sink, const vc_call_update *update)
{
  if (sink == NULL || update == NULL)
    return VC_EINVALID;
  sink->nevents++;
  return vc__stub_twilio_on_call ? vc__stub_twilio_on_call(sink->payload,
                                                           update) : 0;
}
