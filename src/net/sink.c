/*
 * vc_event_sink: checks what an adapter reports before the core sees it.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/text.h"
#include "call/ratecard.h"
#include "sink.h"

#include <math.h>

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

int vc_event_sink_status(vc_event_sink *s, const vc_status_update *in)
{
  vc_status_update latest, *u = &latest;
  int rc;

  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(in);
  VC_CHECK_VERSION(in, VC_STATUS_UPDATE_VERSION, "vc_status_update");
  /* A version 1 adapter's update is shorter: it tells no price. */
  memset(&latest, 0, sizeof(latest));
  memcpy(&latest, in, in->version >= 2 ? sizeof(latest)
                      : offsetof(vc_status_update, price_micros));
  if (u->price_micros < 0 || u->price_micros > VC_RATECARD_AMOUNT_MAX)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "a status update's price is out of range");
  if (u->price_micros > 0 && (memchr(u->currency, '\0', 4) == NULL ||
                              !vc__currency_valid(u->currency)))
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "a status update's price has no ISO 4217 "
                         "currency");
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

/* Bounds of call updates. */
#define CALL_ID_MAX 127          /* provider ids of calls and legs */
#define URL_MAX 2048
#define DIGITS_MAX 64
#define SECONDS_MAX VC__SINK_SECONDS_MAX
#define NUMBER_MAX VC_CALL_ADDRESS_MAX
#define TIME_MAX 32503680000000LL /* year 3000, Unix ms */
#define PRICE_MAX 1000000000000LL /* a million units */

/* A quality figure: negative (unknown) or within [0, max]. */
static int check_figure(const char *field, double v, double max)
{
  if (isnan(v) || v > max)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "%s is out of range", field);
  return 0;
}

static int check_call_kind_fields(const vc_call_update *u)
{
  int rc;

  switch (u->type) {
  case VC_UPDATE_ENDED:
    if (u->cause < VC_CAUSE_NONE || u->cause > VC_CAUSE_UNKNOWN_NUMBER)
      return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                           "unknown call cause %d", u->cause);
    break;
  case VC_UPDATE_INCOMING:
    if (u->version < 2 || u->to == NULL || u->to[0] == '\0')
      return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                           "an incoming call names the number called");
    if (u->provider_call_id == NULL || u->provider_call_id[0] == '\0')
      return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                           "an incoming call has the provider's id");
    if ((rc = vc__check_text("called number", u->to, NUMBER_MAX, 0)) < 0 ||
        (rc = vc__check_text("caller number", u->from, NUMBER_MAX, 0)) < 0)
      return rc;
    break;
  case VC_UPDATE_DTMF:
    if ((rc = vc__check_token("DTMF digits", u->digits, DIGITS_MAX,
                              NULL, "0-9*#A-Dw")) < 0)
      return rc;
    break;
  case VC_UPDATE_RECORDING:
    if (u->recording_status < VC_RECORDING_STARTED ||
        u->recording_status > VC_RECORDING_FAILED)
      return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                           "unknown recording status %d",
                           u->recording_status);
    if (u->recording_url != NULL &&
        strncmp(u->recording_url, "https://", 8) != 0 &&
        strncmp(u->recording_url, "http://", 7) != 0)
      return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                           "recording URL is not http(s)");
    break;
  case VC_UPDATE_QUALITY:
    if ((rc = check_figure("jitter", u->jitter_ms, 10000)) < 0 ||
        (rc = check_figure("packet loss", u->packet_loss_pct, 100)) < 0 ||
        (rc = check_figure("round-trip time", u->rtt_ms, 60000)) < 0 ||
        (rc = check_figure("MOS", u->mos, 5)) < 0)
      return rc;
    break;
  case VC_UPDATE_PRICE:
    if (u->price_micros < 0 || u->price_micros > PRICE_MAX)
      return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                           "call price is out of range");
    for (int i = 0; i < 3; i++)
      if (u->currency[i] < 'A' || u->currency[i] > 'Z')
        return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                             "call price currency is not ISO 4217");
    if (u->currency[3] != '\0')
      return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                           "call price currency is not ISO 4217");
    break;
  default:
    break;
  }
  return 0;
}

int vc_event_sink_call(vc_event_sink *s, const vc_call_update *u)
{
  int rc;

  VC_ASSERT_ARG(s);
  VC_ASSERT_ARG(u);
  VC_CHECK_VERSION(u, VC_CALL_UPDATE_VERSION, "vc_call_update");
  if (u->type < VC_UPDATE_RINGING || u->type > VC_UPDATE_INCOMING)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "unknown call update type %d", u->type);
  if (u->leg < VC_LEG_NONE || u->leg > VC_LEG_CUSTOMER)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "unknown call leg %d", u->leg);
  if ((u->type == VC_UPDATE_RINGING || u->type == VC_UPDATE_ANSWERED) &&
      u->leg == VC_LEG_NONE)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "ringing and answered name a leg");
  if (u->occurred_at < 0 || u->occurred_at > TIME_MAX ||
      u->duration_s < 0 || u->duration_s > SECONDS_MAX ||
      u->recording_duration_s < 0 || u->recording_duration_s > SECONDS_MAX)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "call update time or duration out of range");
  if ((rc = vc__check_text("call id", u->call_id, FIELD_MAX, 0)) < 0 ||
      (rc = vc__check_text("provider call id", u->provider_call_id,
                           CALL_ID_MAX, 0)) < 0 ||
      (rc = vc__check_text("leg id", u->leg_provider_id, CALL_ID_MAX,
                           0)) < 0 ||
      (rc = vc__check_text("event id", u->event_id, FIELD_MAX, 0)) < 0 ||
      (rc = vc__check_text("provider code", u->provider_code, FIELD_MAX,
                           0)) < 0 ||
      (rc = vc__check_text("digits", u->digits, DIGITS_MAX, 0)) < 0 ||
      (rc = vc__check_text("recording id", u->recording_id, CALL_ID_MAX,
                           0)) < 0 ||
      (rc = vc__check_text("recording URL", u->recording_url, URL_MAX,
                           0)) < 0 ||
      (rc = check_call_kind_fields(u)) < 0 ||
      (rc = count_event(s)) < 0)
    return rc;
  return s->on_call ? s->on_call(s->payload, u) : 0;
}
