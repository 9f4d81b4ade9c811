/* TEMPORARY stand-ins for other modules; removed when branches merge. */
/*
 * vc_event_sink_call() and vc__sink_set_call() are the call core's
 * (i5-core, src/net/sink.c). Until it lands, one global receiver stands
 * for the sink's own, so the tests already use the core's interface.
 */
#include "core/common.h"
#include "net/sink.h"

static int (*stub_on_call)(void *payload, const vc_call_update *u);

void vc__sink_set_call(vc_event_sink *s,
                       int (*on_call)(void *payload,
                                      const vc_call_update *u));

void vc__sink_set_call(vc_event_sink *s,
                       int (*on_call)(void *payload,
                                      const vc_call_update *u))
{
  (void)s;
  stub_on_call = on_call;
}

int vc_event_sink_call(vc_event_sink *sink, const vc_call_update *update)
{
  if (sink == NULL || update == NULL)
    return VC_EINVALID;
  sink->nevents++;
  return stub_on_call ? stub_on_call(sink->payload, update) : 0;
}
