/* Trampolines from the library's callbacks into the Go functions
 * exported in callbacks.go. The payload is a runtime/cgo.Handle. */
#include <stdint.h>
#include <vyomcomm.h>
#include "_cgo_export.h"

static int64_t clock_tramp(void *payload)
{
  return vcgoClock((uintptr_t)payload);
}

static void log_tramp(int level, const char *message, void *payload)
{
  vcgoLog(level, (char *)message, (uintptr_t)payload);
}

static int event_tramp(const vc_event *ev, void *payload)
{
  return vcgoEvent((vc_event *)ev, (uintptr_t)payload);
}

void vcgo_set_clock(vc_ctx_options *o, uintptr_t h)
{
  o->clock_cb = clock_tramp;
  o->clock_payload = (void *)h;
}

void vcgo_set_log(vc_ctx_options *o, uintptr_t h, int level)
{
  o->log_cb = log_tramp;
  o->log_payload = (void *)h;
  o->log_level = level;
}

int vcgo_set_event_cb(vc_ctx *ctx, uintptr_t h)
{
  return vc_ctx_set_event_cb(ctx, h != 0 ? event_tramp : NULL, (void *)h);
}
