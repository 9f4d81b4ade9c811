/*
 * What the inbound call tests share: a tenant with a Twilio voice
 * channel, agents, queues, numbers, and Twilio's side played by hand:
 * signed form webhooks through vc_webhook_handle() (the host's server),
 * their TwiML answers read back, on the injected clock (g_now).
 */
#ifndef VC_TEST_INBOUND_ENV_H
#define VC_TEST_INBOUND_ENV_H

#include "tenant_env.h"
#include "twilio_sign.h"

#define IN_BASE "https://hooks.example.com"
#define IN_ACCOUNT "AC0123456789abcdef0123456789abcdef"
#define IN_TOKEN "f0e1d2c3b4a5968778695a4b3c2d1e0f"
#define IN_DID "+914412345678"
#define IN_CALLER "+919876543210"

/* One webhook's answer. */
typedef struct in_reply {
  int status;
  char body[16384];
} in_reply;

static inline void in_channel(vc_tenant *t, const char *name,
                              char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  s.name = name;
  s.provider = "twilio-voice";
  s.config_json = "{\"account_sid\":\"" IN_ACCOUNT "\"}";
  s.credentials_json = "{\"auth_token\":\"" IN_TOKEN "\"}";
  s.sender = IN_DID;
  CHECK_OK(vc_channel_new(&ch, t, &s));
  snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static inline void in_agent(vc_tenant *t, const char *name,
                            const char *number, int available)
{
  vc_agent_spec s = VC_AGENT_SPEC_INIT;
  vc_agent *a;

  s.name = name;
  s.number = number;
  s.wrap_up_s = 0;
  CHECK_OK(vc_agent_new(&a, t, &s));
  if (available)
    CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
  vc_agent_free(a);
}

static inline int in_agent_state(vc_tenant *t, const char *name)
{
  vc_agent *a;
  int st;

  CHECK_OK(vc_agent_lookup(&a, t, name));
  st = vc_agent_state_of(a);
  vc_agent_free(a);
  return st;
}

static inline void in_agent_id(vc_tenant *t, const char *name,
                               char id[VC_ID_SIZE])
{
  vc_agent *a;

  CHECK_OK(vc_agent_lookup(&a, t, name));
  snprintf(id, VC_ID_SIZE, "%s", vc_agent_id(a));
  vc_agent_free(a);
}

static inline void in_queue(vc_tenant *t, const char *name, int strategy,
                            int max_wait_s, int overflow, const char *target,
                            const char *members, int announce)
{
  vc_queue_spec s = VC_QUEUE_SPEC_INIT;
  char buf[256], *save = NULL, *m;
  vc_queue *q;

  s.name = name;
  s.strategy = strategy;
  s.max_wait_s = max_wait_s;
  s.overflow_kind = overflow;
  s.overflow_target = target;
  s.announce_position = announce;
  CHECK_OK(vc_queue_new(&q, t, &s));
  snprintf(buf, sizeof(buf), "%s", members ? members : "");
  for (m = strtok_r(buf, " ", &save); m != NULL;
       m = strtok_r(NULL, " ", &save)) {
    char *colon = strchr(m, ':');
    if (colon != NULL)
      *colon++ = '\0';
    CHECK_OK(vc_queue_member_add(q, m, colon));
  }
  vc_queue_free(q);
}

static inline void in_number(vc_tenant *t, const char *number,
                             const char *channel, int kind,
                             const char *entry, const char *label)
{
  vc_number_spec s = VC_NUMBER_SPEC_INIT;

  s.number = number;
  s.channel = channel;
  s.entry_kind = kind;
  s.entry = entry;
  s.label = label;
  CHECK_OK(vc_number_new(NULL, t, &s));
}

static inline void in_menu(vc_tenant *t, const char *name, const char *json)
{
  vc_ivr_menu_spec s = VC_IVR_MENU_SPEC_INIT;

  s.name = name;
  s.definition_json = json;
  CHECK_OK(vc_ivr_menu_new(NULL, t, &s));
}

/* ---- signed form webhooks ------------------------------------------------ */

static inline void in_enc(char *out, size_t size, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;

  for (; *s && n + 4 < size; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out[n++] = (char)c;
    } else {
      out[n++] = '%';
      out[n++] = hex[c >> 4];
      out[n++] = hex[c & 15];
    }
  }
  out[n] = '\0';
}

/* POST kv (n pairs) to `target` (the part after IN_BASE) on `ctx`,
 * signed with `token` (NULL: unsigned). */
static inline void in_post_ctx(vc_ctx *ctx, const char *target,
                               const char *const *kv, size_t n,
                               const char *token, in_reply *r)
{
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_http_response res;
  vc_http_header h[2];
  char body[8192], enc[2048], url[2048], sig[64];
  size_t len = 0;

  body[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    in_enc(enc, sizeof(enc), kv[2 * i + 1]);
    len += (size_t)snprintf(body + len, sizeof(body) - len, "%s%s=%s",
                            i ? "&" : "", kv[2 * i], enc);
  }
  snprintf(url, sizeof(url), "%s%s", IN_BASE, target);
  h[0].name = "Content-Type";
  h[0].value = "application/x-www-form-urlencoded";
  req.nheaders = 1;
  if (token != NULL) {
    twilio_sign(sig, token, url, kv, n);
    h[1].name = "X-Twilio-Signature";
    h[1].value = sig;
    req.nheaders = 2;
  }
  req.headers = h;
  req.method = "POST";
  req.target = target;
  req.body = (const uint8_t *)body;
  req.body_len = strlen(body);
  vc_webhook_handle(&res, ctx, &req);
  r->status = res.status;
  snprintf(r->body, sizeof(r->body), "%.*s", (int)res.body.size,
           res.body.ptr ? res.body.ptr : "");
  vc_http_response_dispose(&res);
}

/* The first `attr` of the first `<tag` in a TwiML answer, XML-unescaped
 * and made a request target (IN_BASE cut off); "" when none. For
 * attr NULL: the element's text (a Redirect's URL). */
static inline const char *in_twiml(const in_reply *r, const char *tag,
                                   const char *attr, char *out, size_t size)
{
  char open[64], name[64];
  const char *p, *v, *end;
  size_t n = 0;

  out[0] = '\0';
  snprintf(open, sizeof(open), "<%s", tag);
  if ((p = strstr(r->body, open)) == NULL)
    return out;
  if (attr == NULL) {
    if ((v = strchr(p, '>')) == NULL)
      return out;
    v++;
    end = strchr(v, '<');
  } else {
    snprintf(name, sizeof(name), " %s=\"", attr);
    if ((v = strstr(p, name)) == NULL || v > strchr(p, '>'))
      return out;
    v += strlen(name);
    end = strchr(v, '"');
  }
  if (end == NULL)
    return out;
  if (strncmp(v, IN_BASE, strlen(IN_BASE)) == 0)
    v += strlen(IN_BASE);
  while (v < end && n + 1 < size) {
    if (strncmp(v, "&amp;", 5) == 0) {
      out[n++] = '&';
      v += 5;
    } else {
      out[n++] = *v++;
    }
  }
  out[n] = '\0';
  return out;
}

/* The vc_call of a target. */
static inline const char *in_call_of(const char *target,
                                     char id[VC_ID_SIZE])
{
  const char *p = strstr(target, "vc_call=");

  id[0] = '\0';
  if (p != NULL)
    snprintf(id, VC_ID_SIZE, "%.26s", p + 8);
  return id;
}

#endif
