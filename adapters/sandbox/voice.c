/*
 * sandbox-voice: click-to-call without a provider. Nothing is dialled;
 * when the core has "placed" a call, local_progress reports its whole
 * life as a provider's webhooks would, with times offset from the
 * call's now_ms (so a test with an injected clock knows every one).
 *
 * Config (every key optional):
 *   "agent", "customer": "answer" (default), "busy", "no_answer" or
 *       "failed" (unreachable): how each leg ends up;
 *   "ring_s": seconds each leg rings before its outcome (default 5);
 *   "talk_s": seconds of conversation (default 60); -1: the call stays
 *       bridged until vc_call_hangup() (or the watchdog);
 *   "quality": {"jitter_ms", "packet_loss_pct", "rtt_ms", "mos"}:
 *       reported when the call ends (a missing figure is unknown);
 *   "price_micros" with "currency": the provider's price, at the end;
 *   "outcome": "accepted" (default), "retry", "rejected", "failover":
 *       the answer to placing the call;
 *   "control": "accepted" (default) or "rejected": the answer to hold,
 *       transfer, hangup and recording requests;
 *   "caller_ids": the core's caller-id pool (see docs/calls.md).
 *
 * Webhooks: a sandbox channel takes unsigned webhooks (it has no
 * credentials and its calls dial nobody) whose body is one JSON object,
 * or an array of at most 16, each a call update:
 *   {"type": "ringing" | "answered" | "ended" | "dtmf" | "hold" |
 *            "unhold" | "script",
 *    "leg": "agent" | "customer" | "none", "cause": "busy" (a
 *    vc_call_cause_name), "duration_s": 12, "digits": "1",
 *    "event_id": "...", "occurred_at": <Unix ms>,
 *    "provider_call_id": "..."}
 * so that tests and demos can drive a sandbox call from outside.
 *
 * The timeline of an accepted call placed at t (ring r, talk k):
 *   t       agent ringing
 *   t+r     agent answered (or its outcome: the call ends there)
 *   t+r     customer ringing
 *   t+2r    customer answered: bridged (or its outcome)
 *   t+2r    recording started (when the call records always)
 *   t+2r+k  customer hangs up (normal, duration k), then recording
 *           available, quality and price.
 */
#include "core/common.h"
#include "core/json.h"
#include "adapters/builtin.h"
#include "adapters/common.h"

#include <cJSON.h>
#include <stdio.h>

#define LEG_ANSWER 0

typedef struct voice {
  int agent, customer;          /* a vc_call_cause, 0 = answers */
  int ring_s, talk_s;
  int outcome, control;
  int has_quality;
  double jitter, loss, rtt, mos;
  int64_t price;
  char currency[4];
} voice;

static int leg_outcome(int *out, const cJSON *cfg, const char *key)
{
  const char *v = NULL;
  int rc;

  if ((rc = vc__adapter_get_str(&v, cfg, "sandbox-voice config", key)) < 0)
    return rc;
  *out = LEG_ANSWER;
  if (v == NULL || strcmp(v, "answer") == 0)
    return 0;
  *out = strcmp(v, "busy") == 0 ? VC_CAUSE_BUSY
         : strcmp(v, "no_answer") == 0 ? VC_CAUSE_NO_ANSWER
         : strcmp(v, "failed") == 0 ? VC_CAUSE_UNREACHABLE : -1;
  if (*out < 0)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "sandbox-voice config.%s must be answer, busy, "
                         "no_answer or failed", key);
  return 0;
}

static int int_key(int *out, const cJSON *cfg, const char *key, int def,
                   int min, int max)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);

  *out = def;
  if (v == NULL)
    return 0;
  if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max ||
      v->valuedouble != (double)(int)v->valuedouble)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "sandbox-voice config.%s must be an integer "
                         "%d..%d", key, min, max);
  *out = v->valueint;
  return 0;
}

static double figure(const cJSON *q, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(q, key);

  return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static int answer_key(int *out, const cJSON *cfg, const char *key,
                      int control)
{
  const char *v = NULL;
  int rc;

  if ((rc = vc__adapter_get_str(&v, cfg, "sandbox-voice config", key)) < 0)
    return rc;
  if (v == NULL)
    v = "accepted";
  *out = strcmp(v, "accepted") == 0 ? VC_SEND_ACCEPTED
         : strcmp(v, "rejected") == 0 ? VC_SEND_REJECTED
         : control ? 0
         : strcmp(v, "retry") == 0 ? VC_SEND_RETRY
         : strcmp(v, "failover") == 0 ? VC_SEND_FAILOVER : 0;
  if (*out == 0)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "sandbox-voice config.%s must be %s", key,
                         control ? "accepted or rejected"
                                 : "accepted, retry, rejected or "
                                   "failover");
  return 0;
}

static int sv_init(void **state, const char *config_json,
                   const char *credentials_json)
{
  static const char *const keys[] = {
    "agent", "customer", "ring_s", "talk_s", "quality", "price_micros",
    "currency", "outcome", "control", "caller_ids"
  };
  cJSON *cfg = NULL;
  const cJSON *q, *price;
  const char *currency = NULL;
  voice v, *out;
  int rc;

  VC_UNUSED(credentials_json);
  memset(&v, 0, sizeof(v));
  if ((rc = vc__adapter_parse_config(&cfg, config_json,
                                     "sandbox-voice config")) < 0)
    return rc;
  if ((rc = vc__adapter_check_keys(cfg, "sandbox-voice config", keys,
                                   VC_ARRAY_SIZE(keys), 1)) < 0 ||
      (rc = leg_outcome(&v.agent, cfg, "agent")) < 0 ||
      (rc = leg_outcome(&v.customer, cfg, "customer")) < 0 ||
      (rc = int_key(&v.ring_s, cfg, "ring_s", 5, 0, VC_CALL_RING_TIMEOUT_MAX)) <
        0 ||
      (rc = int_key(&v.talk_s, cfg, "talk_s", 60, -1,
                    VC_CALL_TIME_LIMIT_MAX)) < 0 ||
      (rc = answer_key(&v.outcome, cfg, "outcome", 0)) < 0 ||
      (rc = answer_key(&v.control, cfg, "control", 1)) < 0 ||
      (rc = vc__adapter_get_str(&currency, cfg, "sandbox-voice config",
                                "currency")) < 0)
    goto out;
  q = cJSON_GetObjectItemCaseSensitive(cfg, "quality");
  if (q != NULL) {
    if (!cJSON_IsObject(q)) {
      rc = vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "sandbox-voice config.quality must be an object");
      goto out;
    }
    v.has_quality = 1;
    v.jitter = figure(q, "jitter_ms");
    v.loss = figure(q, "packet_loss_pct");
    v.rtt = figure(q, "rtt_ms");
    v.mos = figure(q, "mos");
  }
  price = cJSON_GetObjectItemCaseSensitive(cfg, "price_micros");
  if (price != NULL) {
    if (!cJSON_IsNumber(price) || price->valuedouble < 0 ||
        price->valuedouble > 1e12 || currency == NULL ||
        strlen(currency) != 3) {
      rc = vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                         "sandbox-voice config.price_micros needs a "
                         "non-negative number and a 3-letter currency");
      goto out;
    }
    v.price = (int64_t)price->valuedouble;
    snprintf(v.currency, sizeof(v.currency), "%s", currency);
  }
  if ((out = vc__calloc(1, sizeof(*out))) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  *out = v;
  *state = out;
out:
  cJSON_Delete(cfg);
  return rc;
}

static void sv_fini(void *state)
{
  vc__free(state);
}

static int sv_parse_call(void *state, const vc_call_outbound *call,
                         const vc_http_response *res, vc_send_result *out)
{
  const voice *v = state;

  VC_UNUSED(res);
  out->outcome = v->outcome;
  if (v->outcome == VC_SEND_ACCEPTED) {
    snprintf(out->provider_id, sizeof(out->provider_id), "sandbox-%s",
             call->call_id);
  } else {
    out->error = VC_EPROVIDER;
    snprintf(out->provider_code, sizeof(out->provider_code), "sandbox");
    snprintf(out->error_message, sizeof(out->error_message),
             "sandbox configured to answer this way");
  }
  return 0;
}

static int sv_parse_control(void *state, const vc_call_control *c,
                            const vc_http_response *res,
                            vc_send_result *out)
{
  const voice *v = state;

  VC_UNUSED(c);
  VC_UNUSED(res);
  out->outcome = v->control;
  if (v->control != VC_SEND_ACCEPTED) {
    out->error = VC_EPROVIDER;
    snprintf(out->error_message, sizeof(out->error_message),
             "sandbox configured to refuse call control");
  }
  return 0;
}

/* Report one update of the call. */
static int report(vc_event_sink *sink, const vc_call_outbound *call,
                  const char *leg_id, int type, int leg, int64_t at)
{
  vc_call_update u;

  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.type = type;
  u.call_id = call->call_id;
  u.leg = leg;
  u.leg_provider_id = leg == VC_LEG_CUSTOMER ? leg_id : NULL;
  u.occurred_at = at;
  u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
  return vc_event_sink_call(sink, &u);
}

static int ended(vc_event_sink *sink, const vc_call_outbound *call,
                 const char *leg_id, int leg, int cause, int duration,
                 int64_t at)
{
  vc_call_update u;

  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.type = VC_UPDATE_ENDED;
  u.call_id = call->call_id;
  u.leg = leg;
  u.leg_provider_id = leg == VC_LEG_CUSTOMER ? leg_id : NULL;
  u.occurred_at = at;
  u.cause = cause;
  u.duration_s = duration;
  u.provider_code = vc_call_cause_name(cause);
  u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
  return vc_event_sink_call(sink, &u);
}

static int sv_local_progress(void *state, const vc_call_outbound *call,
                             vc_event_sink *sink)
{
  const voice *v = state;
  int64_t ring = (int64_t)v->ring_s * 1000, t = call->now_ms, end;
  char leg_id[96], rec_id[96], rec_url[160];
  vc_call_update u;
  int rc;

  snprintf(leg_id, sizeof(leg_id), "sandbox-leg-%s", call->call_id);
  if ((rc = report(sink, call, NULL, VC_UPDATE_RINGING, VC_LEG_AGENT, t)) < 0)
    return rc;
  t += ring;
  if (v->agent != LEG_ANSWER)
    return ended(sink, call, NULL, VC_LEG_AGENT, v->agent, 0, t);
  if ((rc = report(sink, call, NULL, VC_UPDATE_ANSWERED, VC_LEG_AGENT,
                   t)) < 0 ||
      (rc = report(sink, call, leg_id, VC_UPDATE_RINGING, VC_LEG_CUSTOMER,
                   t)) < 0)
    return rc;
  t += ring;
  if (v->customer != LEG_ANSWER)
    return ended(sink, call, leg_id, VC_LEG_CUSTOMER, v->customer, 0, t);
  if ((rc = report(sink, call, leg_id, VC_UPDATE_ANSWERED, VC_LEG_CUSTOMER,
                   t)) < 0)
    return rc;
  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.call_id = call->call_id;
  u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
  snprintf(rec_id, sizeof(rec_id), "sandbox-rec-%s", call->call_id);
  snprintf(rec_url, sizeof(rec_url), "https://sandbox.invalid/%s.wav",
           rec_id);
  if (call->record) {
    u.type = VC_UPDATE_RECORDING;
    u.recording_status = VC_RECORDING_STARTED;
    u.recording_id = rec_id;
    u.occurred_at = t;
    if ((rc = vc_event_sink_call(sink, &u)) < 0)
      return rc;
  }
  if (v->talk_s < 0)
    return 0; /* bridged until hung up */
  end = t + (int64_t)v->talk_s * 1000;
  if ((rc = ended(sink, call, leg_id, VC_LEG_CUSTOMER, VC_CAUSE_NORMAL,
                  v->talk_s, end)) < 0)
    return rc;
  u.occurred_at = end;
  if (call->record) {
    u.type = VC_UPDATE_RECORDING;
    u.recording_status = VC_RECORDING_AVAILABLE;
    u.recording_url = rec_url;
    u.recording_duration_s = v->talk_s;
    if ((rc = vc_event_sink_call(sink, &u)) < 0)
      return rc;
    u.recording_url = NULL;
    u.recording_duration_s = 0;
    u.recording_id = NULL;
  }
  if (v->has_quality) {
    u.type = VC_UPDATE_QUALITY;
    u.recording_status = 0;
    u.jitter_ms = v->jitter;
    u.packet_loss_pct = v->loss;
    u.rtt_ms = v->rtt;
    u.mos = v->mos;
    if ((rc = vc_event_sink_call(sink, &u)) < 0)
      return rc;
    u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
  }
  if (v->currency[0] != '\0') {
    u.type = VC_UPDATE_PRICE;
    u.recording_status = 0;
    u.price_micros = v->price;
    memcpy(u.currency, v->currency, sizeof(u.currency));
    if ((rc = vc_event_sink_call(sink, &u)) < 0)
      return rc;
  }
  return 0;
}

static int sv_verify(void *state, const vc_http_request *req,
                     vc_webhook_env *env)
{
  VC_UNUSED(state);
  VC_UNUSED(env);
  if (req->body_len > 64 * 1024)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_ETOOBIG,
                         "sandbox-voice webhook body is too large");
  return 0;
}

static int name_index(const char *v, const char *const *names, size_t n)
{
  for (size_t i = 0; v != NULL && i < n; i++)
    if (names[i] != NULL && strcmp(v, names[i]) == 0)
      return (int)i;
  return -1;
}

static int bad(const char *what)
{
  return vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                       "sandbox-voice webhook: bad %s", what);
}

static int one_update(const cJSON *o, vc_event_sink *sink)
{
  static const char *const types[] = {
    NULL, "ringing", "answered", "ended", "dtmf", NULL, NULL, NULL,
    "script", "hold", "unhold"
  };
  static const char *const legs[] = { "none", "agent", "customer" };
  const cJSON *n;
  vc_call_update u;
  int i;

  if (!cJSON_IsObject(o))
    return bad("update (not an object)");
  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
  if ((i = name_index(vc__json_str(o, "type"), types,
                      VC_ARRAY_SIZE(types))) <= 0)
    return bad("type");
  u.type = i;
  n = cJSON_GetObjectItemCaseSensitive(o, "leg");
  if (n != NULL &&
      (i = name_index(vc__json_str(o, "leg"), legs, 3)) < 0)
    return bad("leg");
  u.leg = n != NULL ? i : VC_LEG_NONE;
  if ((n = cJSON_GetObjectItemCaseSensitive(o, "cause")) != NULL) {
    for (i = VC_CAUSE_NONE; i <= VC_CAUSE_IVR; i++)
      if (cJSON_IsString(n) && strcmp(n->valuestring,
                                      vc_call_cause_name(i)) == 0)
        break;
    if (i > VC_CAUSE_IVR)
      return bad("cause");
    u.cause = i;
  }
  if ((n = cJSON_GetObjectItemCaseSensitive(o, "duration_s")) != NULL) {
    if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > 1e6)
      return bad("duration_s");
    u.duration_s = (int)n->valuedouble;
  }
  if ((n = cJSON_GetObjectItemCaseSensitive(o, "occurred_at")) != NULL) {
    if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > 4e13)
      return bad("occurred_at");
    u.occurred_at = (int64_t)n->valuedouble;
  }
  u.digits = vc__json_str(o, "digits");
  u.event_id = vc__json_str(o, "event_id");
  u.provider_call_id = vc__json_str(o, "provider_call_id");
  return vc_event_sink_call(sink, &u);
}

static int sv_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  cJSON *body = NULL, *it;
  char *text;
  int rc, n = 0;

  VC_UNUSED(state);
  if (req->body_len > 64 * 1024)
    return bad("body (too large)");
  if ((text = vc__malloc(req->body_len + 1)) == NULL)
    return vc_error_set_oom();
  if (req->body_len > 0)
    memcpy(text, req->body, req->body_len);
  text[req->body_len] = '\0';
  if (strlen(text) != req->body_len) {
    vc__free(text);
    return bad("body (a NUL byte)");
  }
  rc = vc__json_parse(&body, "sandbox-voice webhook", text, 64 * 1024, 4,
                      0);
  vc__free(text);
  if (rc < 0)
    return rc;
  if (cJSON_IsArray(body)) {
    cJSON_ArrayForEach(it, body) {
      if (++n > 16) {
        rc = bad("update list (more than 16)");
        break;
      }
      if ((rc = one_update(it, sink)) < 0)
        break;
    }
  } else {
    rc = one_update(body, sink);
  }
  cJSON_Delete(body);
  return rc;
}

const vc_adapter vc__adapter_sandbox_voice = {
  .version = VC_ADAPTER_VERSION,
  .name = "sandbox-voice",
  .kind = VC_CHANNEL_VOICE,
  .capabilities = VC_CAP_LOCAL | VC_CAP_CALL_HOLD | VC_CAP_CALL_TRANSFER |
                  VC_CAP_CALL_HANGUP | VC_CAP_CALL_RECORD |
                  VC_CAP_RECORDING_DELETE,
  .init = sv_init,
  .fini = sv_fini,
  .parse_call = sv_parse_call,
  .verify_webhook = sv_verify,
  .parse_webhook = sv_parse_webhook,
  .parse_control = sv_parse_control,
  .local_progress = sv_local_progress,
};
