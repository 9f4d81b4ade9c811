/*
 * Exotel inbound calls (exotel_inbound.c): the requests of the applets
 * of the library's inbound flow (docs/calls.md, "Exotel inbound") and
 * the scripts rendered for the Gather and Connect applets. Internal.
 */
#ifndef VC_ADAPTERS_VOIP_EXOTEL_INBOUND_H
#define VC_ADAPTERS_VOIP_EXOTEL_INBOUND_H

#include "vyomcomm/sys/adapter.h"
#include "core/codec.h"

/* The pseudo call id of the flow's URLs: their vc_token signs it. */
#define VC__EXOTEL_INBOUND_ID "inbound"

/* 1 when vc_step names a request of the inbound flow. */
int vc__exotel_inbound_step(const char *step);

/*
 * parse_webhook of an applet's request (GET, the call's details in the
 * query): `step` is its vc_step. `zone_min` is the offset of Exotel's
 * times.
 */
int vc__exotel_inbound_parse(const vc_http_request *req, const char *step,
                             vc_event_sink *sink, int zone_min);

/*
 * An inbound call's status callback (Direction=inbound or incoming in
 * the fields `f`): the caller's leg ended. 1 when it was one (handled),
 * 0 when the callback is not about an inbound call.
 */
int vc__exotel_inbound_status(const vc__form *f, vc_event_sink *sink,
                              int zone_min, int *rc);

/* render_script: the JSON the Gather and the Connect applets take. */
int vc__exotel_render_script(void *state, const vc_call_script *script,
                             vc_buf *out, const char **content_type);

#endif
