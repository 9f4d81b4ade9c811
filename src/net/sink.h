/*
 * The event sink adapters report webhook contents to. The webhook
 * handler applies what arrives; tests collect it.
 */
#ifndef VC_NET_SINK_H
#define VC_NET_SINK_H

#include "vyomcomm/sys/adapter.h"

/* At most this many events from one webhook request. */
#define VC__SINK_MAX_EVENTS 1000

/* The longest duration a call update may carry, seconds: adapters
 * refuse a longer one before they report anything. */
#define VC__SINK_SECONDS_MAX (2 * VC_CALL_TIME_LIMIT_MAX)

typedef int (*vc__sink_status_fn)(void *payload, const vc_status_update *u);
typedef int (*vc__sink_inbound_fn)(void *payload, const vc_inbound *m);
typedef int (*vc__sink_call_fn)(void *payload, const vc_call_update *u);
/* 0 the first time `key` is seen, VC_EEXISTS after. */
typedef int (*vc__sink_once_fn)(void *payload, const char *key);

struct vc_event_sink {
  vc__sink_status_fn on_status;
  vc__sink_inbound_fn on_inbound;
  vc__sink_once_fn on_once;   /* NULL: nothing is remembered (tests) */
  vc__sink_call_fn on_call;   /* NULL: call updates are checked only */
  void *payload;
  size_t nevents;
  int reply_status;           /* 0 until set: the handler answers 200 */
  const char *reply_content_type;
  vc_buf reply_body;
};

void vc__sink_init(vc_event_sink *s, vc__sink_status_fn on_status,
                   vc__sink_inbound_fn on_inbound, void *payload);
void vc__sink_fini(vc_event_sink *s);
void vc__sink_set_once(vc_event_sink *s, vc__sink_once_fn on_once);
void vc__sink_set_call(vc_event_sink *s, vc__sink_call_fn on_call);

#endif
