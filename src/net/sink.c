/*
 * vc_event_sink: checks what an adapter reports before the core sees it.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/text.h"
#include "sink.h"

#define FIELD_MAX 1024
#define TEXT_MAX (64 * 1024)
#define MEDIA_MAX 10

void vc__sink_init(vc_event_sink *s, vc__sink_status_fn on_status,
                   vc__sink_inbound_fn on_inbound, void *payload)
{
  memset(s, 0, sizeof(*s));
  s->on_status = on_status;
  s->on_inbound = on_inbound;
  s->payload = payload;
}

void vc__sink_set_once(vc_event_sink *s, vc__sink_once_fn on_once)
{
  s->on_once = on_once;
}

void vc__sink_set_call(vc_event_sink *s, vc__sink_call_fn on_call)
{
  s->on_call = on_call;
}

void vc__sink_fini(vc_event_sink *s)
{
  vc_buf_dispose(&s->reply_body);
}

static int count_event(vc_event_sink *s)
{
  if (s->nevents >= VC__SINK_MAX_EVENTS)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_ETOOBIG,
                         "more than %d events in one webhook",
                         VC__SINK_MAX_EVENTS);
  s->nevents++;
  return 0;
}

int vc_event_sink_status(vc_event_sink *s, const vc_status_update *u)
{
  int rc;

  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(u);
  VC_CHECK_VERSION(u, VC_STATUS_UPDATE_VERSION, "vc_status_update");
  if (u->status < VC_MSG_QUEUED || u->status > VC_MSG_CANCELED)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "unknown message status %d", u->status);
  if (u->message_id == NULL && u->provider_id == NULL)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "a status update names no message");
  if ((rc = vc__check_text("message id", u->message_id, FIELD_MAX, 0)) < 0 ||
      (rc = vc__check_text("provider id", u->provider_id, FIELD_MAX, 0)) < 0 ||
      (rc = vc__check_text("event id", u->event_id, FIELD_MAX, 0)) < 0 ||
      (rc = vc__check_text("provider code", u->provider_code, FIELD_MAX,
                           0)) < 0 ||
      (rc = vc__check_text("error message", u->error_message, FIELD_MAX,
                           0)) < 0 ||
      (rc = count_event(s)) < 0)
    return rc;
  return s->on_status ? s->on_status(s->payload, u) : 0;
}

int vc_event_sink_inbound(vc_event_sink *s, const vc_inbound *m)
{
  int rc;

  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(m);
  VC_CHECK_VERSION(m, VC_INBOUND_VERSION, "vc_inbound");
  if ((rc = vc__check_text("sender", m->from, FIELD_MAX, 1)) < 0 ||
      (rc = vc__check_text("recipient", m->to, FIELD_MAX, 0)) < 0 ||
      (rc = vc__check_text("provider id", m->provider_id, FIELD_MAX, 0)) < 0 ||
      (rc = vc__check_text("text", m->text, TEXT_MAX, 0)) < 0)
    return rc;
  if (m->nmedia > MEDIA_MAX || (m->nmedia > 0 && m->media_urls == NULL))
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "at most %d media URLs", MEDIA_MAX);
  for (size_t i = 0; i < m->nmedia; i++)
    if ((rc = vc__check_text("media URL", m->media_urls[i], FIELD_MAX,
                             1)) < 0)
      return rc;
  if ((rc = count_event(s)) < 0)
    return rc;
  return s->on_inbound ? s->on_inbound(s->payload, m) : 0;
}

int vc_event_sink_once(vc_event_sink *s, const char *key)
{
  int rc;

  VC_ASSERT_ARG(s);
  if ((rc = vc__check_text("single-use value", key, FIELD_MAX, 1)) < 0)
    return rc;
  return s->on_once ? s->on_once(s->payload, key) : 0;
}

int vc_event_sink_reply(vc_event_sink *s, int status,
                        const char *content_type, const char *body)
{
  VC_ASSERT_ARG(s);
  if (status < 200 || status > 599)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "reply status %d is out of range", status);
  vc_buf_dispose(&s->reply_body);
  s->reply_status = status;
  s->reply_content_type = body ? content_type : NULL;
  return body ? vc__buf_puts(&s->reply_body, body) : 0;
}
