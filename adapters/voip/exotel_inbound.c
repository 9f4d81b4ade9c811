/*
 * Exotel inbound calls. A call to an ExoPhone runs the flow of applets
 * the number is connected to in Exotel's dashboard; the library takes
 * part through the applets of its inbound flow (docs/calls.md, "Exotel
 * inbound"), each requesting {webhook URL}?vc_call=inbound&vc_token=..
 * &vc_step=<step> with GET and the call's details in the query:
 *
 *   incoming  Passthru: the call arrives (VC_UPDATE_INCOMING)
 *   gather    Gather applet's dynamic URL: what the caller hears and
 *             keys (the call's script, rendered below)
 *   ivr       Connect applet's dynamic URL: the keys gathered (`digits`)
 *             and whom to dial (the script's DIAL)
 *   in_dial   Passthru after the Connect: how the dial went; answered
 *             302 after a conversation (the flow's Hangup), else 200
 *             (the flow waits in a Gather and asks the Connect again)
 *
 * Exotel signs nothing: the URLs carry the token of the pseudo call id
 * "inbound" under the channel's webhook_secret (exotel.c verifies it),
 * and the calls are found by their CallSid.
 *
 * A render_script answer cannot choose the HTTP status, and a flow's
 * transitions are drawn in the dashboard: what a script can say on
 * Exotel is limited (docs/calls.md lists what maps and what does not).
 * Pure functions, no state.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/text.h"
#include "adapters/common.h"
#include "adapters/voip/callback.h"
#include "adapters/voip/exotel_inbound.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#define BAD_HOOK(...) \
  vc__error_set(VC_ERRCLASS_ADAPTER, VC_EINVALID, __VA_ARGS__)
#define BAD_INPUT(...) \
  vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)

#define NUMBER_MAX 32
#define DIGITS_MAX 32
#define TEXT_MAX 4096
#define URL_MAX 2048
#define STEPS_MAX 64
#define ID_MAX VC__VOIP_PROVIDER_ID_MAX
#define WAIT_DEFAULT_S 5     /* a wait without a PAUSE's length */
#define RING_MAX_S 600
#define TALK_MAX_S 14400

int vc__exotel_inbound_step(const char *step)
{
  return step != NULL && (strcmp(step, "incoming") == 0 ||
                          strcmp(step, "gather") == 0 ||
                          strcmp(step, "ivr") == 0 ||
                          strcmp(step, "in_dial") == 0);
}

/* ---- the applets' requests ---------------------------------------------- */

/* The query's fields (and a form body's, when there is one). */
static int query_fields(vc__form *f, const vc_http_request *req)
{
  const char *q = req->target ? strchr(req->target, '?') : NULL;
  size_t len = q ? strlen(q + 1) : 0;

  if (len > VC__VOIP_BODY_MAX)
    return vc__error_set(VC_ERRCLASS_ADAPTER, VC_ETOOBIG,
                         "the request's query is longer than %d bytes",
                         VC__VOIP_BODY_MAX);
  return vc__form_parse(f, q ? q + 1 : "", len, VC__VOIP_FIELDS_MAX);
}

/* A field, "" as NULL; VC_EINVALID when it is not valid UTF-8 text of at
 * most `max` bytes. */
static int field(const char **out, const vc__form *f, const char *name,
                 size_t max)
{
  const char *v = vc__form_get(f, name);
  size_t n = v ? strnlen(v, max + 1) : 0;

  *out = NULL;
  if (v == NULL || v[0] == '\0')
    return 0;
  if (n > max || !vc__utf8_valid(v, n))
    return BAD_HOOK("%s is longer than %zu bytes or not UTF-8", name, max);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
      return BAD_HOOK("%s has a control character", name);
  *out = v;
  return 0;
}

/* Exotel writes Indian numbers nationally ("09812345678", "8047112345")
 * or with the country code ("919812345678"): E.164 for the core. Other
 * forms go as they are (the core checks them). */
static void e164_of(char out[NUMBER_MAX + 2], const char *s)
{
  size_t n = strlen(s);
  int digits = n > 0 && strspn(s, "0123456789") == n;

  if (digits && n == 11 && s[0] == '0')
    snprintf(out, NUMBER_MAX + 2, "+91%s", s + 1);
  else if (digits && n == 10)
    snprintf(out, NUMBER_MAX + 2, "+91%s", s);
  else if (digits && n == 12 && s[0] == '9' && s[1] == '1')
    snprintf(out, NUMBER_MAX + 2, "+%s", s);
  else
    snprintf(out, NUMBER_MAX + 2, "%s", s);
}

typedef struct req_info {
  const char *sid, *from, *to, *digits_raw, *status, *whom, *type, *dur;
  const char *now_s;
  int64_t now;
} req_info;

static int read_info(req_info *r, const vc__form *f, int zone_min)
{
  int rc;

  memset(r, 0, sizeof(*r));
  if ((rc = field(&r->sid, f, "CallSid", ID_MAX)) < 0)
    return rc;
  if (r->sid == NULL || !vc__voip_is_id(r->sid, ID_MAX))
    return BAD_HOOK("the request has no valid CallSid");
  if ((rc = field(&r->from, f, "CallFrom", NUMBER_MAX)) < 0 ||
      (r->from == NULL &&
       (rc = field(&r->from, f, "From", NUMBER_MAX)) < 0) ||
      (rc = field(&r->to, f, "CallTo", NUMBER_MAX)) < 0 ||
      (r->to == NULL && (rc = field(&r->to, f, "To", NUMBER_MAX)) < 0) ||
      (rc = field(&r->digits_raw, f, "digits", DIGITS_MAX + 2)) < 0 ||
      (rc = field(&r->status, f, "DialCallStatus", 32)) < 0 ||
      (rc = field(&r->whom, f, "DialWhomNumber", NUMBER_MAX)) < 0 ||
      (rc = field(&r->type, f, "CallType", 32)) < 0 ||
      (rc = field(&r->dur, f, "DialCallDuration", 8)) < 0 ||
      (rc = field(&r->now_s, f, "CurrentTime", 32)) < 0 ||
      (rc = vc__voip_read_time(&r->now, f, "CurrentTime", zone_min)) < 0)
    return rc;
  return 0;
}

static void update_init(vc_call_update *u, const req_info *r, int type,
                        int leg)
{
  memset(u, 0, sizeof(*u));
  u->version = VC_CALL_UPDATE_VERSION;
  u->type = type;
  u->leg = leg;
  u->occurred_at = r->now;
  u->provider_call_id = r->sid;
  u->jitter_ms = u->packet_loss_pct = u->rtt_ms = u->mos = -1;
}

/* incoming: the call arrives. */
static int on_incoming(const req_info *r, vc_event_sink *sink)
{
  char from[NUMBER_MAX + 2], to[NUMBER_MAX + 2], eid[ID_MAX + 16];
  vc_call_update u;

  if (r->to == NULL)
    return BAD_HOOK("the request has no CallTo");
  e164_of(to, r->to);
  if (r->from != NULL)
    e164_of(from, r->from);
  snprintf(eid, sizeof(eid), "%s:incoming", r->sid);
  update_init(&u, r, VC_UPDATE_INCOMING, VC_LEG_CUSTOMER);
  u.event_id = eid;
  u.from = r->from ? from : NULL;
  u.to = to;
  u.provider_code = "incoming";
  return vc_event_sink_call(sink, &u);
}

/* gather, ivr: the call's script (with the keys gathered, for ivr). */
static int on_script(const req_info *r, const char *step,
                     vc_event_sink *sink)
{
  char digits[DIGITS_MAX + 1], eid[ID_MAX + 80];
  vc_call_update u;
  int rc;

  if (strcmp(step, "ivr") == 0 && r->digits_raw != NULL) {
    /* Exotel quotes them: "\"12\"" */
    const char *d = r->digits_raw;
    size_t n = strlen(d);
    if (n >= 2 && d[0] == '"' && d[n - 1] == '"') {
      d++;
      n -= 2;
    }
    if (n > DIGITS_MAX || strspn(d, "0123456789*#") < n)
      return BAD_HOOK("digits must be at most %d of 0-9 * #", DIGITS_MAX);
    memcpy(digits, d, n);
    digits[n] = '\0';
    if (n > 0) {
      /* Each request is its own press (CurrentTime moves); a retry of
       * one request is the same event. */
      snprintf(eid, sizeof(eid), "%s:ivr:%s:%s", r->sid,
               r->now_s ? r->now_s : "", digits);
      update_init(&u, r, VC_UPDATE_DTMF, VC_LEG_CUSTOMER);
      u.event_id = eid;
      u.digits = digits;
      if ((rc = vc_event_sink_call(sink, &u)) < 0)
        return rc;
    }
  }
  update_init(&u, r, VC_UPDATE_SCRIPT, VC_LEG_CUSTOMER);
  return vc_event_sink_call(sink, &u);
}

static int cause_of(const char *status, const char *type)
{
  static const struct { const char *word; int cause; } map[] = {
    { "completed", VC_CAUSE_NORMAL },
    { "busy", VC_CAUSE_BUSY },
    { "no-answer", VC_CAUSE_NO_ANSWER },
    { "failed", VC_CAUSE_UNREACHABLE },
    { "canceled", VC_CAUSE_CANCELED },
    /* CallType, when there is no DialCallStatus */
    { "incomplete", VC_CAUSE_NO_ANSWER },
    { "client-hangup", VC_CAUSE_CANCELED },
  };
  const char *s = status ? status : type;

  for (size_t i = 0; s != NULL && i < VC_ARRAY_SIZE(map); i++)
    if (strcmp(s, map[i].word) == 0)
      return map[i].cause;
  return VC_CAUSE_NO_ANSWER;
}

/* in_dial: the Connect's dial ended; the answer's status picks the
 * flow's branch. */
static int on_dial_end(const req_info *r, vc_event_sink *sink)
{
  char eid[ID_MAX + 80];
  vc_call_update u;
  long secs = r->dur ? vc__voip_seconds(r->dur) : 0;
  int cause, rc;

  if (r->dur != NULL && secs < 0)
    return BAD_HOOK("DialCallDuration is not a count of seconds");
  /* Nobody dialed (the script had no DIAL: a wait) is reported as an
   * agent who did not answer: the core ignores it for a caller waiting,
   * and releases an agent it picked on a request that could not dial. */
  cause = r->whom ? cause_of(r->status, r->type) : VC_CAUSE_NO_ANSWER;
  snprintf(eid, sizeof(eid), "%s:in_dial:%s:%s", r->sid,
           r->now_s ? r->now_s : "", r->whom ? r->whom : "");
  if (cause == VC_CAUSE_NORMAL && secs > 0) {
    /* The Connect talked: the agent answered DialCallDuration before. */
    char aid[ID_MAX + 96];
    snprintf(aid, sizeof(aid), "%s:answered", eid);
    update_init(&u, r, VC_UPDATE_ANSWERED, VC_LEG_AGENT);
    u.event_id = aid;
    if (r->now > 0)
      u.occurred_at = r->now - (int64_t)secs * 1000;
    u.provider_code = "in-progress";
    if ((rc = vc_event_sink_call(sink, &u)) < 0)
      return rc;
  }
  update_init(&u, r, VC_UPDATE_ENDED, VC_LEG_AGENT);
  u.event_id = eid;
  u.cause = cause;
  u.provider_code = !r->whom ? "none" : r->status ? r->status
                  : r->type ? r->type : "";
  if (cause == VC_CAUSE_NORMAL && secs > 0)
    u.duration_s = (int)secs;
  if ((rc = vc_event_sink_call(sink, &u)) < 0)
    return rc;
  /* After a conversation the call is over: the flow's Hangup applet. */
  return vc_event_sink_reply(sink, cause == VC_CAUSE_NORMAL ? 302 : 200,
                             "text/plain", "");
}

int vc__exotel_inbound_parse(const vc_http_request *req, const char *step,
                             vc_event_sink *sink, int zone_min)
{
  vc__form f = { NULL, 0 };
  req_info r;
  int rc;

  if ((rc = query_fields(&f, req)) < 0 ||
      (rc = read_info(&r, &f, zone_min)) < 0)
    goto out;
  if (strcmp(step, "incoming") == 0)
    rc = on_incoming(&r, sink);
  else if (strcmp(step, "in_dial") == 0)
    rc = on_dial_end(&r, sink);
  else
    rc = on_script(&r, step, sink);
out:
  vc__form_free(&f);
  return rc;
}

int vc__exotel_inbound_status(const vc__form *f, vc_event_sink *sink,
                              int zone_min, int *rc)
{
  const char *dir = vc__voip_field(f, "Direction"), *sid, *status;
  char eid[ID_MAX + 16];
  vc_call_update u;
  int64_t at = 0;

  if (dir == NULL || (strcmp(dir, "inbound") != 0 &&
                      strcmp(dir, "incoming") != 0))
    return 0;
  sid = vc__voip_field(f, "CallSid");
  status = vc__voip_field(f, "Status");
  if (sid == NULL || !vc__voip_is_id(sid, ID_MAX)) {
    *rc = BAD_HOOK("the callback has no valid CallSid");
    return 1;
  }
  if ((*rc = vc__voip_read_time(&at, f, "EndTime", zone_min)) < 0 ||
      (at == 0 &&
       (*rc = vc__voip_read_time(&at, f, "DateUpdated", zone_min)) < 0))
    return 1;
  /* The caller's leg is over; the core knows whether it talked. */
  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.type = VC_UPDATE_ENDED;
  u.leg = VC_LEG_CUSTOMER;
  u.occurred_at = at;
  u.provider_call_id = sid;
  u.cause = status && strcmp(status, "completed") == 0 ? VC_CAUSE_NORMAL
                                                       : VC_CAUSE_CANCELED;
  u.provider_code = status ? status : "";
  u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
  snprintf(eid, sizeof(eid), "%s:caller:end", sid);
  u.event_id = eid;
  *rc = vc_event_sink_call(sink, &u);
  return 1;
}

/* ---- render_script -------------------------------------------------------- */

static int text_ok(const char *what, const char *s, size_t max)
{
  size_t n = s ? strnlen(s, max + 1) : 0;

  if (s == NULL || n == 0 || n > max || !vc__utf8_valid(s, n))
    return BAD_INPUT("%s must be 1 to %zu bytes of UTF-8", what, max);
  return 0;
}

static int url_ok(const char *what, const char *s)
{
  if (s == NULL || !vc__voip_is_url(s, URL_MAX))
    return BAD_INPUT("%s must be an http(s) URL", what);
  return 0;
}

/*
 * One JSON object for both applets that ask for scripts, each taking its
 * own keys (UNCONFIRMED that Exotel ignores the other's):
 *   Gather:  gather_prompt, max_input_digits, finish_on_key,
 *            input_timeout, repeat_menu
 *   Connect: destination.numbers, outgoing_phone_number, record,
 *            recording_channels, max_ringing_duration,
 *            max_conversation_duration, music_on_hold,
 *            fetch_after_attempt
 * SAY and PLAY become the Gather's prompt (the texts joined); a GATHER
 * its keys; a PAUSE (or a wait without one) its timeout, so that a
 * caller waiting in a queue hears the music for that long before the
 * Connect is asked again; a DIAL the Connect's number. HOLD, REDIRECT,
 * RECORD and HANGUP have no applet to go to (docs/calls.md).
 */
int vc__exotel_render_script(void *state, const vc_call_script *script,
                             vc_buf *out, const char **content_type)
{
  vc_buf say = VC_BUF_INIT;
  const vc_call_step *gather = NULL, *dial = NULL;
  const char *play = NULL;
  int wait_s = 0, rc = 0;
  cJSON *o = NULL, *p, *d, *nums;
  char *json = NULL;

  VC_UNUSED(state);
  VC_ASSERT_ARG(script);
  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(content_type);
  VC_CHECK_VERSION(script, VC_CALL_SCRIPT_VERSION, "vc_call_script");
  if (script->nsteps > STEPS_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "a script has at most %d steps", STEPS_MAX);
  if (script->nsteps > 0 && script->steps == NULL)
    return BAD_INPUT("script steps are missing");
  for (size_t i = 0; i < script->nsteps && rc == 0; i++) {
    const vc_call_step *s = &script->steps[i];
    switch (s->kind) {
    case VC_STEP_SAY:
      if ((rc = text_ok("say text", s->text, TEXT_MAX)) == 0)
        rc = vc__buf_printf(&say, "%s%s", say.size ? " " : "", s->text);
      break;
    case VC_STEP_PLAY:
    case VC_STEP_HOLD:
      if (s->url != NULL && (rc = url_ok("play URL", s->url)) == 0)
        play = s->url;
      break;
    case VC_STEP_PAUSE:
      if (s->timeout_s < 0 || s->timeout_s > 600)
        rc = BAD_INPUT("a pause lasts 0 to 600 seconds");
      else
        wait_s += s->timeout_s;
      break;
    case VC_STEP_GATHER:
      gather = s;
      if (s->text != NULL && (rc = text_ok("gather prompt", s->text,
                                           TEXT_MAX)) == 0)
        rc = vc__buf_printf(&say, "%s%s", say.size ? " " : "", s->text);
      if (rc == 0 && s->url != NULL && (rc = url_ok("gather prompt URL",
                                                    s->url)) == 0)
        play = s->url;
      break;
    case VC_STEP_DIAL:
      if (s->target == NULL || s->target[0] != '+' ||
          strlen(s->target) < 9 || strlen(s->target) > 16 ||
          strspn(s->target + 1, "0123456789") != strlen(s->target) - 1)
        rc = BAD_INPUT("Exotel dials E.164 numbers only");
      else
        dial = s;
      break;
    case VC_STEP_HANGUP:
    case VC_STEP_REDIRECT:
    case VC_STEP_RECORD:
      break;                  /* no applet for them: docs/calls.md */
    default:
      rc = BAD_INPUT("unknown call step kind %d", s->kind);
    }
  }
  if (rc < 0)
    goto out;
  if ((o = cJSON_CreateObject()) == NULL || (p = cJSON_CreateObject()) ==
      NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  cJSON_AddItemToObject(o, "gather_prompt", p);
  if (say.size > 0)
    cJSON_AddStringToObject(p, "text", say.ptr);
  else if (play != NULL)
    cJSON_AddStringToObject(p, "audio_url", play);
  cJSON_AddNumberToObject(o, "max_input_digits",
                          gather && gather->num_digits > 0
                            ? gather->num_digits : 1);
  if (gather != NULL && gather->finish_on_key != NULL &&
      gather->finish_on_key[0] != '\0') {
    if (strlen(gather->finish_on_key) != 1 ||
        strchr("0123456789*#", gather->finish_on_key[0]) == NULL) {
      rc = BAD_INPUT("finish_on_key must be one of 0-9 * #");
      goto out;
    }
    cJSON_AddStringToObject(o, "finish_on_key", gather->finish_on_key);
  }
  cJSON_AddNumberToObject(o, "input_timeout",
                          gather && gather->timeout_s > 0 ? gather->timeout_s
                          : wait_s > 0 ? wait_s
                          : dial ? 1 : WAIT_DEFAULT_S);
  cJSON_AddNumberToObject(o, "repeat_menu", 1);
  cJSON_AddFalseToObject(o, "fetch_after_attempt");
  if ((d = cJSON_AddObjectToObject(o, "destination")) == NULL ||
      (nums = cJSON_AddArrayToObject(d, "numbers")) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  if (dial != NULL) {
    cJSON_AddItemToArray(nums, cJSON_CreateString(dial->target));
    if (dial->caller_id != NULL)
      cJSON_AddStringToObject(o, "outgoing_phone_number", dial->caller_id);
    cJSON_AddBoolToObject(o, "record", dial->record != 0);
    cJSON_AddStringToObject(o, "recording_channels", "single");
    if (dial->timeout_s > 0)
      cJSON_AddNumberToObject(o, "max_ringing_duration",
                              dial->timeout_s < RING_MAX_S ? dial->timeout_s
                                                           : RING_MAX_S);
    if (dial->time_limit_s > 0)
      cJSON_AddNumberToObject(o, "max_conversation_duration",
                              dial->time_limit_s < TALK_MAX_S
                                ? dial->time_limit_s : TALK_MAX_S);
  }
  p = cJSON_AddObjectToObject(o, "music_on_hold");
  if (p != NULL)
    cJSON_AddStringToObject(p, "type", "operator_tone");
  if ((json = cJSON_PrintUnformatted(o)) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  vc_buf_dispose(out);
  if ((rc = vc__buf_puts(out, json)) == 0)
    *content_type = "application/json";
out:
  if (json != NULL)
    cJSON_free(json);
  cJSON_Delete(o);
  vc_buf_dispose(&say);
  return rc;
}
