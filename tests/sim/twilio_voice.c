/*
 * Twilio Programmable Voice, the Calls resource, as the real API answers:
 *
 *   POST /2010-04-01/Accounts/{AccountSid}/Calls.json         create
 *   POST /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json   update
 *   GET  /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json   fetch
 *
 * The same account, Basic auth and error JSON as the Messaging simulator
 * (settings twilio.account_sid, twilio.auth_token). A created call lives
 * on the webhook workers: each step of its life (initiated, ringing,
 * answered, the TwiML fetch, the final status) is a post that comes due
 * in turn; prepare() moves the call's status as its step comes due, so a
 * step nobody subscribed to still moves it, silently. Callbacks and
 * fetches are form posts signed with X-Twilio-Signature. Ending or
 * redirecting a call through the update bumps its generation, which
 * drops the rest of its original life.
 *
 * Error codes: 20003, 20404, 20004 and 21211/21212 are Twilio's known
 * codes; 21201 and 21210 match answers seen from the real API; the codes
 * marked UNCONFIRMED below are from memory of Twilio's error list and
 * are not in the stored spec.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim_int.h"

#define TWV_PREFIX "/2010-04-01/Accounts/"
#define TWV_API_VERSION "2010-04-01"
#define TWV_MAX_TWIML 4000    /* characters, per the spec */

enum {
  EV_INITIATED = 1, EV_RINGING = 2, EV_ANSWERED = 4, EV_COMPLETED = 8,
  TWV_MAX_STEPS = 8,
};

typedef struct twv_state {
  sim_voice v;                /* first: the shared voice state */
} twv_state;

static const char *const twv_defaults[] = {
  "ring_ms", VC_SIM_VOICE_RING_MS,
  "talk_ms", VC_SIM_VOICE_TALK_MS,
  /* Caller ids the account has not verified (21210), comma-separated. */
  "unverified_from", "",
  /* Destinations outside the account's geo permissions (21215), as
   * comma-separated prefixes such as "+882,+979". */
  "blocked_prefixes", "",
  NULL
};

/* ---- numbers and lists ------------------------------------------------ */

static int is_e164(const char *s)
{
  return strncmp(s, "whatsapp:", 9) != 0 && sim_tw_e164(s);
}

/* A phone number, a SIP URI or a Client identity. */
static int endpoint_ok(const char *s)
{
  if (strncmp(s, "sip:", 4) == 0)
    return strchr(s + 4, '@') != NULL && strlen(s) < 256;
  if (strncmp(s, "client:", 7) == 0)
    return s[7] != '\0' && strlen(s) < 256;
  return is_e164(s);
}

/* 1 when `s` equals (prefix 0) or starts with (prefix 1) an item of the
 * comma-separated list. */
static int in_list(const char *list, const char *s, int prefix)
{
  size_t sl = strlen(s);

  while (*list) {
    size_t n = strcspn(list, ",");
    if (n > 0 && (prefix ? n <= sl && strncmp(s, list, n) == 0
                         : n == sl && strncmp(s, list, n) == 0))
      return 1;
    list += n + (list[n] == ',');
  }
  return 0;
}

static int http_url(const char *s)
{
  return (strncmp(s, "http://", 7) == 0 && s[7] != '\0') ||
    (strncmp(s, "https://", 8) == 0 && s[8] != '\0');
}

/* ---- the call resource ------------------------------------------------ */

static void json_date(sim_buf *b, int64_t ms)
{
  char d[40];

  if (ms == 0) {
    sim_buf_str(b, "null");
    return;
  }
  sim_rfc2822(d, ms / 1000);
  sim_buf_printf(b, "\"%s\"", d);
}

/* Whole seconds between answer and end, rounded up (Twilio bills whole
 * seconds); 0 when never answered. */
static long call_seconds(const sim_vcall *c)
{
  if (c->answered_ms == 0 || c->ended_ms < c->answered_ms)
    return 0;
  return (long)((c->ended_ms - c->answered_ms + 999) / 1000);
}

/* Caller holds v.mu. */
static void twv_resource(sim_resp *rs, const sim_vcall *c, int status)
{
  static const char *const subs[] = {
    "notifications", "Notifications", "recordings", "Recordings",
    "payments", "Payments", "events", "Events", "siprec", "Siprec",
    "streams", "Streams", "transcriptions", "Transcriptions",
    "user_defined_message_subscriptions", "UserDefinedMessageSubscriptions",
    "user_defined_messages", "UserDefinedMessages", NULL
  };
  sim_buf *b = &rs->body;
  size_t i;

  sim_resp_reset(rs);
  rs->status = status;
  rs->content_type = "application/json";
  sim_buf_str(b, "{\"account_sid\": ");
  sim_buf_json_str(b, c->account);
  sim_buf_printf(b, ", \"answered_by\": %s, \"api_version\": \""
                 TWV_API_VERSION "\", \"caller_name\": null, "
                 "\"date_created\": ",
                 c->amd && c->answered_ms ? "\"human\"" : "null");
  json_date(b, c->created_ms);
  sim_buf_str(b, ", \"date_updated\": ");
  json_date(b, c->ended_ms ? c->ended_ms
                           : c->answered_ms ? c->answered_ms
                                            : c->created_ms);
  sim_buf_str(b, ", \"direction\": \"outbound-api\", \"duration\": ");
  if (c->ended)
    sim_buf_printf(b, "\"%ld\"", call_seconds(c));
  else
    sim_buf_str(b, "null");
  sim_buf_str(b, ", \"end_time\": ");
  json_date(b, c->ended ? c->ended_ms : 0);
  sim_buf_str(b, ", \"forwarded_from\": null, \"from\": ");
  sim_buf_json_str(b, c->from);
  /* Twilio pretty-prints North American numbers; others stay E.164. */
  sim_buf_str(b, ", \"from_formatted\": ");
  sim_buf_json_str(b, c->from);
  sim_buf_str(b, ", \"group_sid\": null, \"parent_call_sid\": null, "
              "\"phone_number_sid\": null, \"price\": null, "
              "\"price_unit\": \"USD\", \"queue_time\": \"0\", \"sid\": ");
  sim_buf_json_str(b, c->id);
  sim_buf_str(b, ", \"start_time\": ");
  json_date(b, c->answered_ms);
  sim_buf_printf(b, ", \"status\": \"%s\", \"subresource_uris\": {",
                 c->status);
  for (i = 0; subs[i]; i += 2)
    sim_buf_printf(b, "%s\"%s\": \"/2010-04-01/Accounts/%s/Calls/%s/%s.json\"",
                   i ? ", " : "", subs[i], c->account, c->id, subs[i + 1]);
  sim_buf_str(b, "}, \"to\": ");
  sim_buf_json_str(b, c->to);
  sim_buf_str(b, ", \"to_formatted\": ");
  sim_buf_json_str(b, c->to);
  sim_buf_printf(b, ", \"trunk_sid\": null, \"uri\": \"/2010-04-01/Accounts/"
                 "%s/Calls/%s.json\"}", c->account, c->id);
}

/* ---- posts: callbacks, TwiML fetches, Gather actions ------------------ */

typedef struct twv_ctx {
  vc_sim *sim;
  char token[128];
  char base[128];             /* the simulator's base URL (recordings) */
} twv_ctx;

/* The parameters of every request about a call (caller holds v.mu). */
static size_t call_params(const sim_vcall *c, const char *status,
                          sim_kvp *p)
{
  size_t n = 0;

  p[n++] = (sim_kvp){ "AccountSid", c->account };
  p[n++] = (sim_kvp){ "ApiVersion", TWV_API_VERSION };
  p[n++] = (sim_kvp){ "CallSid", c->id };
  p[n++] = (sim_kvp){ "CallStatus", status };
  p[n++] = (sim_kvp){ "Called", c->to };
  p[n++] = (sim_kvp){ "Caller", c->from };
  p[n++] = (sim_kvp){ "Direction", "outbound-api" };
  p[n++] = (sim_kvp){ "From", c->from };
  p[n++] = (sim_kvp){ "To", c->to };
  return n;
}

static int set_tag(sim_post *p, const sim_vcall *c, const char *kind,
                   const char *status)
{
  if (asprintf(&p->tag, "%s %u %s %s", c->id, c->gen, kind, status) < 0) {
    p->tag = NULL;
    return -ENOMEM;
  }
  return 0;
}

/*
 * One status step (caller holds v.mu). `at_ms` is when it is due (Unix
 * ms), for Timestamp; `secs` the CallDuration of a final status (-1:
 * none). Unsubscribed steps are silent posts with an empty URL.
 */
static int status_step(twv_ctx *x, sim_vcall *c, sim_post *out,
                       const char *status, unsigned ev, int64_t at_ms,
                       long secs)
{
  sim_kvp p[20];
  char seq[16], ts[40], dur[24], rsid[40], rurl[300];
  size_t n;
  int rc;

  memset(out, 0, sizeof(*out));
  if (c->cb_url == NULL || !(c->events & ev)) {
    out->url = strdup("");
    out->no_dup = 1;
    if (out->url == NULL)
      return -ENOMEM;
    return set_tag(out, c, "status", status);
  }
  n = call_params(c, status, p);
  snprintf(seq, sizeof(seq), "%u", c->seq++);
  sim_rfc2822(ts, at_ms / 1000);
  p[n++] = (sim_kvp){ "CallbackSource", "call-progress-events" };
  p[n++] = (sim_kvp){ "SequenceNumber", seq };
  p[n++] = (sim_kvp){ "Timestamp", ts };
  if (secs >= 0) {
    snprintf(dur, sizeof(dur), "%ld", secs);
    p[n++] = (sim_kvp){ "CallDuration", dur };
    p[n++] = (sim_kvp){ "Duration", dur };
    if (c->record && strcmp(status, "completed") == 0 && secs > 0) {
      memcpy(rsid, "RE", 2);
      sim_random_hex(rsid + 2, 32);
      snprintf(rurl, sizeof(rurl), "%s/2010-04-01/Accounts/%s/Recordings/%s",
               x->base, c->account, rsid);
      p[n++] = (sim_kvp){ "RecordingDuration", dur };
      p[n++] = (sim_kvp){ "RecordingSid", rsid };
      p[n++] = (sim_kvp){ "RecordingUrl", rurl };
    }
  }
  if (strcmp(status, "in-progress") == 0 && c->amd)
    p[n++] = (sim_kvp){ "AnsweredBy", "human" };
  rc = sim_tw_form_post(out, x->token, c->cb_url, p, n);
  if (rc == 0)
    rc = set_tag(out, c, "status", status);
  return rc;
}

/* A TwiML request to url (caller holds v.mu): the call's parameters and,
 * for a Gather action, Digits. */
static int twiml_step(twv_ctx *x, sim_vcall *c, sim_post *out,
                      const char *url, const char *digits)
{
  sim_kvp p[16];
  size_t n;
  int rc;

  n = call_params(c, "in-progress", p);
  if (c->amd)
    p[n++] = (sim_kvp){ "AnsweredBy", "human" };
  if (digits != NULL)
    p[n++] = (sim_kvp){ "Digits", digits };
  rc = sim_tw_form_post(out, x->token, url, p, n);
  out->no_dup = 1;
  if (rc == 0)
    rc = set_tag(out, c, digits ? "gather" : "fetch", "-");
  return rc;
}

static void posts_free(sim_post *p, size_t n)
{
  while (n--)
    sim_post_free(&p[n]);
}

/* Queue steps; webhooks "off" silences callbacks but the life goes on. */
static void push(twv_state *st, sim_post *p, size_t n, int now)
{
  sim_wh_opts o;

  sim_webhook_opts(st->v.sim, "twilio-voice", &o);
  if (o.off) {
    size_t i;
    for (i = 0; i < n; i++)
      if (p[i].url && *p[i].url && p[i].tag &&
          strstr(p[i].tag, " status ") != NULL) {
        p[i].url[0] = '\0';
        p[i].no_dup = 1;
      }
    o.off = 0;
  }
  if (now) {
    o.delay_ms = 0;
    o.duplicates = 0;
  }
  sim_webhook_schedule(st->v.sim, "twilio-voice", p, n, &o);
}

static void ctx_init(twv_ctx *x, vc_sim *sim)
{
  x->sim = sim;
  sim_setting(sim, "twilio.auth_token", x->token, sizeof(x->token));
  snprintf(x->base, sizeof(x->base), "%s", vc_sim_base_url(sim));
}

/* The steps of a new call's life (caller holds v.mu). */
static size_t plan_life(twv_ctx *x, sim_vcall *c, const vc_sim_call_plan *pl,
                        long timeout_s, long limit_s, sim_post *s)
{
  vc_sim_call_outcome out = pl->outcome;
  unsigned ring = pl->ring_ms, talk = pl->talk_ms;
  int64_t at = sim_now_ms();
  size_t n = 0;
  int rc = 0;

  /* The callee outrings Timeout: no-answer when it runs out. */
  if (out == VC_SIM_CALL_ANSWER && timeout_s >= 0 &&
      (uint64_t)timeout_s * 1000 < ring) {
    out = VC_SIM_CALL_NO_ANSWER;
    ring = (unsigned)timeout_s * 1000;
  }
  if (limit_s > 0 && (uint64_t)limit_s * 1000 < talk)
    talk = (unsigned)limit_s * 1000;
  rc |= status_step(x, c, &s[n++], "initiated", EV_INITIATED, at, -1);
  if (out == VC_SIM_CALL_FAILED) {
    rc |= status_step(x, c, &s[n++], "failed", EV_COMPLETED, at, 0);
    return rc ? (posts_free(s, n), 0) : n;
  }
  rc |= status_step(x, c, &s[n++], "ringing", EV_RINGING, at, -1);
  at += ring;
  if (out == VC_SIM_CALL_ANSWER) {
    rc |= status_step(x, c, &s[n], "in-progress", EV_ANSWERED, at, -1);
    s[n++].wait_ms = ring;
    if (c->url != NULL)
      rc |= twiml_step(x, c, &s[n++], c->url, NULL);
    at += talk;
    rc |= status_step(x, c, &s[n], "completed", EV_COMPLETED, at,
                      (long)((talk + 999) / 1000));
    s[n++].wait_ms = talk;
  } else {
    const char *fin = out == VC_SIM_CALL_BUSY ? "busy"
      : out == VC_SIM_CALL_NO_ANSWER ? "no-answer" : "canceled";
    rc |= status_step(x, c, &s[n], fin, EV_COMPLETED, at, 0);
    s[n++].wait_ms = ring;
  }
  if (rc) {
    posts_free(s, n);
    return 0;
  }
  return n;
}

/* ---- worker hooks ----------------------------------------------------- */

typedef struct twv_tag {
  char sid[48], kind[16], status[24];
  unsigned gen;
} twv_tag;

static int tag_parse(const sim_post *p, twv_tag *t)
{
  return p->tag != NULL &&
    sscanf(p->tag, "%47s %u %15s %23s", t->sid, &t->gen, t->kind,
           t->status) == 4 ? 0 : -1;
}

static int is_final(const char *s)
{
  return strcmp(s, "completed") == 0 || strcmp(s, "busy") == 0 ||
    strcmp(s, "no-answer") == 0 || strcmp(s, "failed") == 0 ||
    strcmp(s, "canceled") == 0;
}

static int twv_prepare(void *state, const sim_post *post)
{
  twv_state *st = state;
  sim_vcall *c;
  twv_tag t;
  int rc = 0;

  if (tag_parse(post, &t) != 0)
    return 0;
  pthread_mutex_lock(&st->v.mu);
  c = sim_voice_find(&st->v, t.sid);
  if (c == NULL || (c->gen != t.gen && strcmp(t.kind, "status") == 0)) {
    rc = 2;                   /* ended early: the rest of its life goes */
  } else if (strcmp(t.kind, "status") == 0) {
    int64_t now = sim_now_ms();
    /* "initiated" is a callback word; the resource stays queued. */
    if (strcmp(t.status, "initiated") != 0)
      snprintf(c->status, sizeof(c->status), "%s", t.status);
    if (strcmp(t.status, "in-progress") == 0)
      c->answered_ms = now;
    if (is_final(t.status)) {
      c->ended = 1;
      c->ended_ms = now;
    }
    rc = *post->url ? 0 : 1;
  } else if (c->ended) {
    rc = 1;                   /* no TwiML for a call that hung up */
  }
  pthread_mutex_unlock(&st->v.mu);
  return rc;
}

static void twv_response(void *state, const sim_post *post, long status,
                         const char *body, size_t len)
{
  twv_state *st = state;
  sim_vcall *c;
  twv_tag t;

  if (tag_parse(post, &t) != 0 || strcmp(t.kind, "status") == 0 ||
      status < 200 || status > 299)
    return;
  pthread_mutex_lock(&st->v.mu);
  c = sim_voice_find(&st->v, t.sid);
  if (c != NULL && c->ndocs < SIM_VOICE_DOCS) {
    c->doc[c->ndocs] = strndup(body, len);
    c->doc_url[c->ndocs] = strdup(post->url);
    if (c->doc[c->ndocs] && c->doc_url[c->ndocs])
      c->ndocs++;
    else
      free(c->doc[c->ndocs]), free(c->doc_url[c->ndocs]);
  }
  pthread_mutex_unlock(&st->v.mu);
}

/* ---- the endpoints ---------------------------------------------------- */

static int add_doc(sim_vcall *c, const char *doc, const char *url)
{
  if (c->ndocs >= SIM_VOICE_DOCS)
    return -ENOSPC;
  c->doc[c->ndocs] = strdup(doc);
  c->doc_url[c->ndocs] = strdup(url);
  if (!c->doc[c->ndocs] || !c->doc_url[c->ndocs]) {
    free(c->doc[c->ndocs]);
    free(c->doc_url[c->ndocs]);
    return -ENOMEM;
  }
  c->ndocs++;
  return 0;
}

/* An optional integer parameter: its value, -1 when absent, -2 when
 * malformed or outside [lo, hi]. */
static long int_param(const sim_form *f, const char *name, long lo, long hi)
{
  const char *s = sim_form_get(f, name);
  char *end;
  long v;

  if (s == NULL || *s == '\0')
    return -1;
  v = strtol(s, &end, 10);
  if (*end != '\0' || v < lo || v > hi)
    return -2;
  return v;
}

static int method_ok(const char *m)
{
  return m == NULL || *m == '\0' || strcasecmp(m, "GET") == 0 ||
    strcasecmp(m, "POST") == 0;
}

/* The first problem of a create request, filled in rs; 0 when none. */
static int create_check(vc_sim *sim, const sim_form *f, sim_resp *rs)
{
  const char *to = sim_form_get(f, "To"), *from = sim_form_get(f, "From");
  const char *url = sim_form_get(f, "Url"), *twiml = sim_form_get(f, "Twiml");
  const char *app = sim_form_get(f, "ApplicationSid");
  const char *digits = sim_form_get(f, "SendDigits");
  char list[1024], msg[400];
  size_t i;

  if (to == NULL || *to == '\0') {
    sim_tw_error(rs, 400, 21201, "No 'To' number is specified");
    return -1;
  }
  if (from == NULL || *from == '\0') {
    /* UNCONFIRMED: code 21213 and its text are from memory. */
    sim_tw_error(rs, 400, 21213, "No 'From' number is specified");
    return -1;
  }
  if ((url == NULL || *url == '\0') && (twiml == NULL || *twiml == '\0') &&
      (app == NULL || *app == '\0')) {
    /* UNCONFIRMED: code 21205 for a missing instruction source. */
    sim_tw_error(rs, 400, 21205, "Url parameter is required.");
    return -1;
  }
  if (!endpoint_ok(to)) {
    snprintf(msg, sizeof(msg), "The phone number you are attempting to "
             "call, %.64s, is not valid.", to);
    sim_tw_error(rs, 400, 21211, msg);
    return -1;
  }
  /* A phone number must call from a phone number (spec: From). */
  if (!(is_e164(from) || (strncmp(from, "client:", 7) == 0 && from[7] &&
                          !is_e164(to)))) {
    snprintf(msg, sizeof(msg), "From is not a valid phone number: %.64s",
             from);
    sim_tw_error(rs, 400, 21212, msg);
    return -1;
  }
  if (url != NULL && *url != '\0' && !http_url(url)) {
    /* UNCONFIRMED: 21205 "Invalid URL" text. */
    snprintf(msg, sizeof(msg), "Url is not a valid URL: %.200s", url);
    sim_tw_error(rs, 400, 21205, msg);
    return -1;
  }
  if (twiml != NULL && strlen(twiml) > TWV_MAX_TWIML &&
      (url == NULL || *url == '\0')) {
    /* UNCONFIRMED: the code of an over-long Twiml (the limit is the
     * spec's). */
    sim_tw_error(rs, 400, 21232, "Twiml exceeds the 4000 character limit.");
    return -1;
  }
  if (app != NULL && *app != '\0' &&
      (strlen(app) != 34 || strncmp(app, "AP", 2) != 0 ||
       strspn(app + 2, "0123456789abcdefABCDEF") != 32)) {
    /* UNCONFIRMED: 21218 "Invalid ApplicationSid". */
    sim_tw_error(rs, 400, 21218, "Invalid ApplicationSid");
    return -1;
  }
  if (int_param(f, "Timeout", 1, 600) == -2) {
    sim_tw_error(rs, 400, 21208, "Invalid Timeout");   /* UNCONFIRMED */
    return -1;
  }
  if (int_param(f, "TimeLimit", 1, 86400) == -2) {
    sim_tw_error(rs, 400, 21208, "Invalid TimeLimit"); /* UNCONFIRMED */
    return -1;
  }
  if (!method_ok(sim_form_get(f, "Method")) ||
      !method_ok(sim_form_get(f, "StatusCallbackMethod")) ||
      !method_ok(sim_form_get(f, "FallbackMethod"))) {
    sim_tw_error(rs, 400, 21209, "Invalid Method");    /* UNCONFIRMED */
    return -1;
  }
  if (digits != NULL &&
      (strlen(digits) > 32 || strspn(digits, "0123456789ABCD#*wW") !=
       strlen(digits))) {
    sim_tw_error(rs, 400, 21206, "Invalid SendDigits"); /* UNCONFIRMED */
    return -1;
  }
  for (i = 0; i < f->n; i++)
    if (strcmp(f->key[i], "StatusCallbackEvent") == 0 &&
        strcmp(f->val[i], "initiated") && strcmp(f->val[i], "ringing") &&
        strcmp(f->val[i], "answered") && strcmp(f->val[i], "completed")) {
      /* UNCONFIRMED: Twilio's answer to an unknown event. */
      snprintf(msg, sizeof(msg), "Invalid StatusCallbackEvent: %.64s",
               f->val[i]);
      sim_tw_error(rs, 400, 21626, msg);
      return -1;
    }
  sim_setting(sim, "twilio-voice.unverified_from", list, sizeof(list));
  if (in_list(list, from, 0)) {
    snprintf(msg, sizeof(msg), "The source phone number provided, %.64s, is "
             "not yet verified for your account. You may only make calls "
             "from phone numbers that you've verified or purchased from "
             "Twilio.", from);
    sim_tw_error(rs, 400, 21210, msg);
    return -1;
  }
  sim_setting(sim, "twilio-voice.blocked_prefixes", list, sizeof(list));
  if (is_e164(to) && in_list(list, to, 1)) {
    /* UNCONFIRMED: the text of 21215 (geo permissions). */
    snprintf(msg, sizeof(msg), "Account not authorized to call %.64s. "
             "Perhaps you need to enable some international permissions.",
             to);
    sim_tw_error(rs, 400, 21215, msg);
    return -1;
  }
  return 0;
}

static void twv_create(twv_state *st, const sim_form *f, const char *account,
                       sim_resp *rs)
{
  vc_sim *sim = st->v.sim;
  const char *to = sim_form_get(f, "To"), *from = sim_form_get(f, "From");
  const char *url = sim_form_get(f, "Url"), *twiml = sim_form_get(f, "Twiml");
  const char *cb = sim_form_get(f, "StatusCallback");
  const char *rec = sim_form_get(f, "Record");
  const char *keys[1];
  sim_post steps[TWV_MAX_STEPS];
  vc_sim_call_plan plan;
  sim_accept_info a;
  sim_vcall *c;
  twv_ctx x;
  size_t i, n;
  uint64_t id;

  if (create_check(sim, f, rs) != 0)
    return;
  ctx_init(&x, sim);
  sim_voice_plan(&st->v, to, &plan);
  pthread_mutex_lock(&st->v.mu);
  c = sim_voice_add(&st->v);
  if (c == NULL) {
    pthread_mutex_unlock(&st->v.mu);
    sim_tw_fault(sim, st, 500, 0, rs);
    return;
  }
  memcpy(c->id, "CA", 2);
  sim_random_hex(c->id + 2, 32);
  snprintf(c->to, sizeof(c->to), "%s", to);
  snprintf(c->from, sizeof(c->from), "%s", from);
  snprintf(c->account, sizeof(c->account), "%s", account);
  snprintf(c->status, sizeof(c->status), "queued");
  c->created_ms = sim_now_ms();
  c->record = rec != NULL && strcasecmp(rec, "true") == 0;
  c->amd = sim_form_get(f, "MachineDetection") != NULL;
  if (cb != NULL && *cb != '\0')
    c->cb_url = strdup(cb);
  for (i = 0; i < f->n; i++)
    if (strcmp(f->key[i], "StatusCallbackEvent") == 0)
      c->events |= strcmp(f->val[i], "initiated") == 0 ? EV_INITIATED
        : strcmp(f->val[i], "ringing") == 0 ? EV_RINGING
        : strcmp(f->val[i], "answered") == 0 ? EV_ANSWERED : EV_COMPLETED;
  if (c->events == 0)
    c->events = EV_COMPLETED;        /* the spec's default */
  /* Url wins over Twiml (spec); inline TwiML is the first document. */
  if (url != NULL && *url != '\0')
    c->url = strdup(url);
  else if (twiml != NULL && *twiml != '\0')
    (void)add_doc(c, twiml, "");
  n = plan_life(&x, c, &plan, int_param(f, "Timeout", 1, 600),
                int_param(f, "TimeLimit", 1, 86400), steps);
  twv_resource(rs, c, 201);
  pthread_mutex_unlock(&st->v.mu);

  id = sim_fnv1a(SIM_FNV_INIT, to, strlen(to) + 1);
  id = sim_fnv1a(id, from, strlen(from) + 1);
  id = sim_fnv1a(id, url ? url : "", url ? strlen(url) + 1 : 1);
  id = sim_fnv1a(id, twiml ? twiml : "", twiml ? strlen(twiml) + 1 : 1);
  keys[0] = to;
  a.message_id = c->id;       /* calls are never freed before stop */
  a.keys = keys;
  a.nkeys = 1;
  a.identity = id;
  sim_accept(sim, "twilio-voice", rs, &a);
  if (n > 0)
    push(st, steps, n, 0);
}

static void twv_update(twv_state *st, const sim_form *f, sim_vcall *c,
                       sim_resp *rs)
{
  const char *status = sim_form_get(f, "Status");
  const char *url = sim_form_get(f, "Url"), *twiml = sim_form_get(f, "Twiml");
  sim_post step;
  twv_ctx x;
  int queue = 0;

  ctx_init(&x, st->v.sim);
  memset(&step, 0, sizeof(step));
  if (status != NULL && *status != '\0') {
    int live = strcmp(c->status, "in-progress") == 0;
    if (strcmp(status, "completed") != 0 && strcmp(status, "canceled") != 0) {
      /* UNCONFIRMED: the code for a Status outside the enum. */
      sim_tw_error(rs, 400, 20001, "Status must be one of: canceled, "
                   "completed");
      return;
    }
    /* canceled only stops a call that is not yet answered; completed
     * hangs up either (UNCONFIRMED: reported as canceled before answer).
     * A call that already ended stays as it is. */
    if (!c->ended && (strcmp(status, "completed") == 0 || !live)) {
      const char *fin = live ? "completed" : "canceled";
      char prefix[64];
      snprintf(prefix, sizeof(prefix), "%s ", c->id);
      sim_webhook_cancel(st->v.sim, "twilio-voice", prefix);
      c->gen++;
      c->ended = 1;
      c->ended_ms = sim_now_ms();
      snprintf(c->status, sizeof(c->status), "%s", fin);
      if (status_step(&x, c, &step, fin, EV_COMPLETED, c->ended_ms,
                      call_seconds(c)) == 0)
        queue = 1;
      else
        sim_post_free(&step);
    }
  } else if ((url && *url) || (twiml && *twiml)) {
    if (c->ended || strcmp(c->status, "in-progress") != 0) {
      /* UNCONFIRMED text; 21220 is Twilio's "Invalid call state". */
      sim_tw_error(rs, 400, 21220, "Call is not in-progress. Cannot "
                   "redirect.");
      return;
    }
    if (url && *url) {
      if (!http_url(url)) {
        sim_tw_error(rs, 400, 21205, "Url is not a valid URL");
        return;
      }
      if (twiml_step(&x, c, &step, url, NULL) == 0)
        queue = 1;
      else
        sim_post_free(&step);
    } else {
      (void)add_doc(c, twiml, "");
    }
  }
  twv_resource(rs, c, 200);
  if (queue) {
    /* Schedule after the answer is built; the lock is the caller's. */
    pthread_mutex_unlock(&st->v.mu);
    push(st, &step, 1, 1);
    pthread_mutex_lock(&st->v.mu);
  }
}

static int twv_match(const char *path)
{
  const char *p = path + strlen(TWV_PREFIX), *slash;

  if (strncmp(path, TWV_PREFIX, strlen(TWV_PREFIX)) != 0 ||
      (slash = strchr(p, '/')) == NULL)
    return 0;
  return strcmp(slash, "/Calls.json") == 0 ||
    strncmp(slash, "/Calls/", 7) == 0;
}

static void twv_handle(vc_sim *sim, void *state, const sim_req *rq,
                       sim_resp *rs)
{
  twv_state *st = state;
  const char *p = rq->path + strlen(TWV_PREFIX), *slash = strchr(p, '/');
  const char *ct, *rest;
  char account[64], sid[48], msg[300];
  size_t ctlen = 0, sl;
  sim_form f;

  memset(&f, 0, sizeof(f));
  account[0] = '\0';
  if (slash != NULL && (size_t)(slash - p) < sizeof(account)) {
    memcpy(account, p, (size_t)(slash - p));
    account[slash - p] = '\0';
  }
  if (sim_tw_auth(sim, rq, account, rs) != 0)
    return;
  if (slash == NULL) {
    sim_tw_error(rs, 404, 20404, "The requested resource was not found");
    return;
  }
  snprintf(msg, sizeof(msg), "The requested resource %.200s was not found",
           rq->path);
  ct = sim_req_header(rq, "Content-Type", &ctlen);
  if (strcmp(rq->method, "POST") == 0 && ct != NULL &&
      sim_prefix_ci(ct, ctlen, "application/x-www-form-urlencoded") &&
      sim_form_parse(&f, rq->body ? rq->body : "", rq->body_len) != 0) {
    sim_tw_fault(sim, state, 500, 0, rs);
    return;
  }
  if (strcmp(slash, "/Calls.json") == 0) {
    /* Listing calls is not simulated. */
    if (strcmp(rq->method, "POST") != 0)
      sim_tw_error(rs, 405, 20004, "Method not allowed");
    else
      twv_create(st, &f, account, rs);
    goto out;
  }
  /* /Calls/{Sid}.json; subresources are not simulated. */
  rest = slash + 7;
  sl = strcspn(rest, "/");
  if (sl < 6 || sl - 5 >= sizeof(sid) || rest[sl] != '\0' ||
      strcmp(rest + sl - 5, ".json") != 0) {
    sim_tw_error(rs, 404, 20404, msg);
    goto out;
  }
  memcpy(sid, rest, sl - 5);
  sid[sl - 5] = '\0';
  if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "POST") != 0) {
    sim_tw_error(rs, 405, 20004, "Method not allowed");
    goto out;
  }
  pthread_mutex_lock(&st->v.mu);
  {
    sim_vcall *c = sim_voice_find(&st->v, sid);
    if (c == NULL || strcmp(c->account, account) != 0)
      sim_tw_error(rs, 404, 20404, msg);
    else if (strcmp(rq->method, "GET") == 0)
      twv_resource(rs, c, 200);
    else
      twv_update(st, &f, c, rs);
  }
  pthread_mutex_unlock(&st->v.mu);
out:
  sim_form_free(&f);
}

/* ---- control: TwiML documents and Gather keypresses -------------------- */

int vc_sim_twilio_voice_twiml(vc_sim *s, const char *call_sid, size_t i,
                              char *buf, size_t size)
{
  twv_state *st = s ? sim_provider_state(s, "twilio-voice") : NULL;
  sim_vcall *c;
  int rc = -ENOENT;

  if (st == NULL || call_sid == NULL || buf == NULL || size == 0)
    return -EINVAL;
  pthread_mutex_lock(&st->v.mu);
  c = sim_voice_find(&st->v, call_sid);
  if (c != NULL && i < c->ndocs) {
    size_t n = strlen(c->doc[i]);
    snprintf(buf, size, "%s", c->doc[i]);
    rc = n > (size_t)0x7fffffff ? 0x7fffffff : (int)n;
  }
  pthread_mutex_unlock(&st->v.mu);
  return rc;
}

/* An attribute of the first <Gather> tag, XML-unescaped (&amp; and
 * friends); 1 when found. */
static int gather_attr(const char *doc, const char *name, char *out,
                       size_t size)
{
  const char *g = strstr(doc, "<Gather"), *end, *a;
  size_t nl = strlen(name), n = 0;
  char q;

  if (g == NULL || (end = strchr(g, '>')) == NULL)
    return -1;
  for (a = g + 7; a < end; a++) {
    if ((a[-1] == ' ' || a[-1] == '\t' || a[-1] == '\n') &&
        strncmp(a, name, nl) == 0 && a[nl] == '=' &&
        (a[nl + 1] == '"' || a[nl + 1] == '\''))
      break;
  }
  if (a >= end)
    return 0;
  q = a[nl + 1];
  for (a += nl + 2; a < end && *a != q && n + 1 < size; a++) {
    static const struct { const char *e; char c; } ents[] = {
      { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
      { "&quot;", '"' }, { "&apos;", '\'' } };
    size_t k;
    for (k = 0; k < 5; k++)
      if (strncmp(a, ents[k].e, strlen(ents[k].e)) == 0)
        break;
    if (k < 5) {
      out[n++] = ents[k].c;
      a += strlen(ents[k].e) - 1;
    } else {
      out[n++] = *a;
    }
  }
  out[n] = '\0';
  return 1;
}

int vc_sim_twilio_voice_press(vc_sim *s, const char *call_sid,
                              const char *digits)
{
  twv_state *st = s ? sim_provider_state(s, "twilio-voice") : NULL;
  char action[1024], url[1100];
  const char *doc;
  sim_vcall *c;
  sim_post step;
  twv_ctx x;
  int rc = 0, found;

  if (st == NULL || call_sid == NULL || digits == NULL || *digits == '\0' ||
      strlen(digits) > 32 ||
      strspn(digits, "0123456789*#") != strlen(digits))
    return -EINVAL;
  ctx_init(&x, s);
  memset(&step, 0, sizeof(step));
  pthread_mutex_lock(&st->v.mu);
  c = sim_voice_find(&st->v, call_sid);
  if (c == NULL) {
    rc = -ENOENT;
    goto out;
  }
  if (c->ended || strcmp(c->status, "in-progress") != 0 || c->ndocs == 0) {
    rc = -EAGAIN;
    goto out;
  }
  doc = c->doc[c->ndocs - 1];
  found = gather_attr(doc, "action", action, sizeof(action));
  if (found < 0) {
    rc = -EAGAIN;
    goto out;
  }
  /* No action: Twilio posts back to the document's own URL. A relative
   * action resolves against it (only "/path" forms are simulated). */
  if (found == 0 || action[0] == '\0')
    snprintf(url, sizeof(url), "%s", c->doc_url[c->ndocs - 1]);
  else if (action[0] == '/') {
    const char *du = c->doc_url[c->ndocs - 1], *h = strstr(du, "://");
    size_t hl = h ? strcspn(h + 3, "/") + (size_t)(h + 3 - du) : 0;
    snprintf(url, sizeof(url), "%.*s%s", (int)hl, du, action);
  } else {
    snprintf(url, sizeof(url), "%s", action);
  }
  if (!http_url(url)) {
    rc = -EAGAIN;
    goto out;
  }
  rc = twiml_step(&x, c, &step, url, digits);
out:
  pthread_mutex_unlock(&st->v.mu);
  if (rc == 0 && step.url != NULL)
    push(st, &step, 1, 1);
  else
    sim_post_free(&step);
  return rc;
}

/* ---- the provider ----------------------------------------------------- */

static int twv_init(vc_sim *sim, void **state)
{
  twv_state *st = calloc(1, sizeof(*st));

  if (st == NULL)
    return -ENOMEM;
  if (sim_voice_init(&st->v, sim, "twilio-voice") != 0) {
    free(st);
    return -ENOMEM;
  }
  *state = st;
  return 0;
}

static void twv_fini(void *state)
{
  twv_state *st = state;

  sim_voice_fini(&st->v);
  free(st);
}

const sim_provider sim_twilio_voice = {
  .name = "twilio-voice",
  .prefix = TWV_PREFIX,
  .max_body = 1024 * 1024,
  .defaults = twv_defaults,
  .init = twv_init,
  .fini = twv_fini,
  .handle = twv_handle,
  .error = sim_tw_fault,
  .sign = NULL,
  .match = twv_match,
  .prepare = twv_prepare,
  .response = twv_response,
};
