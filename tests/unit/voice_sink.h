/*
 * For the voice adapters' unit tests: a sink that keeps every call
 * update reported, and webhook requests to feed parse_webhook.
 */
#ifndef VC_TEST_VOICE_SINK_H
#define VC_TEST_VOICE_SINK_H

#include "net/sink.h"

#define VS_MAX 16

typedef struct vs_update {
  int type, leg, cause, duration_s, recording_status, recording_duration_s;
  int64_t at;
  char event_id[160], provider_call_id[160], code[64], url[256];
  char from[64], to[64], digits[72];   /* INCOMING, DTMF */
} vs_update;

typedef struct vs_seen {
  int n;
  vs_update u[VS_MAX];
  int reply;                           /* the reply status set, or 0 */
} vs_seen;

static void vs_copy(char *dst, size_t cap, const char *src)
{
  snprintf(dst, cap, "%s", src ? src : "(null)");
}

static int vs_on_call(void *payload, const vc_call_update *u)
{
  vs_seen *s = payload;
  vs_update *o;

  if (s->n >= VS_MAX)
    return VC_ETOOBIG;
  o = &s->u[s->n++];
  o->type = u->type;
  o->leg = u->leg;
  o->cause = u->cause;
  o->duration_s = u->duration_s;
  o->recording_status = u->recording_status;
  o->recording_duration_s = u->recording_duration_s;
  o->at = u->occurred_at;
  vs_copy(o->event_id, sizeof(o->event_id), u->event_id);
  vs_copy(o->provider_call_id, sizeof(o->provider_call_id),
          u->provider_call_id);
  vs_copy(o->code, sizeof(o->code), u->provider_code);
  vs_copy(o->url, sizeof(o->url), u->recording_url);
  if (u->version >= 2) {
    vs_copy(o->from, sizeof(o->from), u->from);
    vs_copy(o->to, sizeof(o->to), u->to);
  }
  vs_copy(o->digits, sizeof(o->digits), u->digits);
  return 0;
}

/* A webhook request (borrowed strings). */
typedef struct vs_hook {
  vc_http_header h[1];
  vc_http_request req;
} vs_hook;

static void vs_hook_set(vs_hook *k, const char *target, const char *ctype,
                        const char *body, size_t len)
{
  memset(k, 0, sizeof(*k));
  k->req.version = VC_HTTP_REQUEST_VERSION;
  k->req.method = "POST";
  k->req.target = target;
  if (ctype != NULL) {
    k->h[0].name = "Content-Type";
    k->h[0].value = ctype;
    k->req.headers = k->h;
    k->req.nheaders = 1;
  }
  k->req.body = (const uint8_t *)body;
  k->req.body_len = len;
}

/* parse_webhook of `a` on a request; its code, the updates in *s. */
static int vs_parse(const vc_adapter *a, void *st, vs_seen *s,
                    const char *target, const char *ctype, const char *body)
{
  vc_event_sink sink;
  vs_hook k;
  int rc;

  memset(s, 0, sizeof(*s));
  vc__sink_init(&sink, NULL, NULL, s);
  vc__sink_set_call(&sink, vs_on_call);
  vs_hook_set(&k, target, ctype, body, body ? strlen(body) : 0);
  rc = a->parse_webhook(st, &k.req, &sink);
  s->reply = sink.reply_status;
  vc__sink_fini(&sink);
  return rc;
}

static int vs_verify(const vc_adapter *a, void *st, const char *target)
{
  vs_hook k;

  vs_hook_set(&k, target, "application/json", "{}", 2);
  return a->verify_webhook(st, &k.req, NULL);
}

/* One expected update: type, leg, time, cause, duration. */
#define VS_CHECK(s, i, ty, lg, when, cs, dur)                           \
  do {                                                                  \
    const vs_update *u_ = &(s)->u[i];                                   \
    if (u_->type != (ty) || u_->leg != (lg) || u_->at != (when) ||      \
        u_->cause != (cs) || u_->duration_s != (dur))                   \
      fprintf(stderr, "  update %d: type %d leg %d at %lld cause %d "   \
              "dur %d\n", (int)(i), u_->type, u_->leg,                  \
              (long long)u_->at, u_->cause, u_->duration_s);            \
    CHECK(u_->type == (ty) && u_->leg == (lg) && u_->at == (when) &&    \
          u_->cause == (cs) && u_->duration_s == (dur));                \
  } while (0)

#endif
