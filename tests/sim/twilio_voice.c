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

/* A recording made by <Dial record>: served and deleted through
 * /Recordings/{sid}.json (under v.mu). */
typedef struct twv_rec {
  char sid[40], account[64], call[48];
  long secs;
  int64_t created_ms;
  int deleted;
} twv_rec;

typedef struct twv_state {
  sim_voice v;                /* first: the shared voice state */
  twv_rec *recs;
  size_t nrecs, caprecs;
} twv_state;

static const char *const twv_defaults[] = {
  "ring_ms", VC_SIM_VOICE_RING_MS,
  "talk_ms", VC_SIM_VOICE_TALK_MS,
  /* Caller ids the account has not verified (21210), comma-separated. */
  "unverified_from", "",
  /* Destinations outside the account's geo permissions (21215), as
   * comma-separated prefixes such as "+882,+979". */
  "blocked_prefixes", "",
  /* "1": a bridged leg's <Dial> action before the leg's "completed". */
  "action_first", "0",
  /* What a call costs per started minute of each leg (answer to end),
   * shown as its price this long after it ended ("" : never priced). */
  "price_per_min", "0.0140",
  "price_delay_ms", "2000",
  "price_unit", "USD",
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
static void twv_resource(vc_sim *sim, sim_resp *rs, const sim_vcall *c,
                         int status)
{
  static const char *const subs[] = {
    "notifications", "Notifications", "recordings", "Recordings",
    "payments", "Payments", "events", "Events", "siprec", "Siprec",
    "streams", "Streams", "transcriptions", "Transcriptions",
    "user_defined_message_subscriptions", "UserDefinedMessageSubscriptions",
    "user_defined_messages", "UserDefinedMessages", NULL
  };
  sim_buf *b = &rs->body;
  char price[40], unit[8];
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
  sim_buf_printf(b, ", \"direction\": \"%s\", \"duration\": ",
                 c->inbound == 1 ? "inbound"
                 : c->parent[0] ? "outbound-dial" : "outbound-api");
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
  sim_buf_str(b, ", \"group_sid\": null, \"parent_call_sid\": ");
  sim_buf_json_str(b, c->parent[0] ? c->parent : NULL);
  /* null until the call is rated, some time after its end; then a
   * negative amount (a charge) with five decimals */
  sim_buf_str(b, ", \"phone_number_sid\": null, \"price\": ");
  if (sim_voice_price(sim, "twilio-voice", c, call_seconds(c), 5, 1, price,
                      sizeof(price)))
    sim_buf_json_str(b, price);
  else
    sim_buf_str(b, "null");
  sim_setting(sim, "twilio-voice.price_unit", unit, sizeof(unit));
  sim_buf_str(b, ", \"price_unit\": ");
  sim_buf_json_str(b, unit);
  sim_buf_str(b, ", \"queue_time\": \"0\", \"sid\": ");
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
  int action_first;           /* twilio-voice.action_first */
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
  p[n++] = (sim_kvp){ "Direction", c->parent[0] ? "outbound-dial"
                                                : "outbound-api" };
  p[n++] = (sim_kvp){ "From", c->from };
  p[n++] = (sim_kvp){ "To", c->to };
  if (c->parent[0])
    p[n++] = (sim_kvp){ "ParentCallSid", c->parent };
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
  sim_kvp p[24];
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
  sim_kvp p[20];
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
  char flag[8];

  x->sim = sim;
  sim_setting(sim, "twilio.auth_token", x->token, sizeof(x->token));
  snprintf(x->base, sizeof(x->base), "%s", vc_sim_base_url(sim));
  sim_setting(sim, "twilio-voice.action_first", flag, sizeof(flag));
  x->action_first = strcmp(flag, "1") == 0;
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

/* ---- TwiML the simulator follows: <Dial><Number> -------------------- */

static const struct { const char *e; char c; } xml_ents[] = {
  { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
  { "&apos;", '\'' } };

/* Copy XML text [a, end) into out, entities decoded. */
static void xml_copy(const char *a, const char *end, char *out, size_t size)
{
  size_t n = 0, k;

  for (; a < end && n + 1 < size; a++) {
    for (k = 0; k < 5; k++)
      if (strncmp(a, xml_ents[k].e, strlen(xml_ents[k].e)) == 0)
        break;
    if (k < 5) {
      out[n++] = xml_ents[k].c;
      a += strlen(xml_ents[k].e) - 1;
    } else {
      out[n++] = *a;
    }
  }
  out[n] = '\0';
}

/* The first <tag ...> of doc (not a longer name), or NULL. */
static const char *tag_find(const char *doc, const char *tag)
{
  size_t tl = strlen(tag);
  const char *g;

  for (g = doc; (g = strstr(g, tag)) != NULL; g += tl)
    if (g > doc && g[-1] == '<' && (g[tl] == ' ' || g[tl] == '>' ||
                                    g[tl] == '/' || g[tl] == '\t' ||
                                    g[tl] == '\n'))
      return g - 1;
  return NULL;
}

/* An attribute of the first <tag>, entities decoded: 1 found, 0 not,
 * -1 no such tag. */
static int tag_attr(const char *doc, const char *tag, const char *name,
                    char *out, size_t size)
{
  const char *g = tag_find(doc, tag), *end, *a, *close;
  size_t nl = strlen(name);
  char q;

  out[0] = '\0';
  if (g == NULL || (end = strchr(g, '>')) == NULL)
    return -1;
  for (a = g + 1 + strlen(tag); a < end; a++)
    if ((a[-1] == ' ' || a[-1] == '\t' || a[-1] == '\n') &&
        strncmp(a, name, nl) == 0 && a[nl] == '=' &&
        (a[nl + 1] == '"' || a[nl + 1] == '\''))
      break;
  if (a >= end)
    return 0;
  q = a[nl + 1];
  a += nl + 2;
  close = memchr(a, q, (size_t)(end - a));
  xml_copy(a, close ? close : end, out, size);
  return 1;
}

/* The text of the first <tag>...</tag>, decoded and trimmed; 1 found. */
static int tag_text(const char *doc, const char *tag, char *out, size_t size)
{
  const char *g = tag_find(doc, tag), *a, *end;
  char close[32];

  out[0] = '\0';
  if (g == NULL || (a = strchr(g, '>')) == NULL || a[-1] == '/')
    return 0;
  snprintf(close, sizeof(close), "</%s>", tag);
  if ((end = strstr(++a, close)) == NULL)
    return 0;
  while (a < end && (*a == ' ' || *a == '\n' || *a == '\t'))
    a++;
  while (end > a && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\t'))
    end--;
  xml_copy(a, end, out, size);
  return 1;
}

/* A document that ends the call: <Hangup/>, or no verb at all. */
static int twiml_hangs_up(const char *doc)
{
  const char *r = tag_find(doc, "Response"), *gt;

  if (tag_find(doc, "Hangup") != NULL)
    return 1;
  if (r == NULL || (gt = strchr(r, '>')) == NULL)
    return 0;
  if (gt[-1] == '/')
    return 1;
  while (*++gt == ' ' || *gt == '\n' || *gt == '\t' || *gt == '\r')
    ;
  return strncmp(gt, "</Response>", 11) == 0;
}

static unsigned event_bits(const char *list)
{
  unsigned ev = 0;

  if (strstr(list, "initiated"))
    ev |= EV_INITIATED;
  if (strstr(list, "ringing"))
    ev |= EV_RINGING;
  if (strstr(list, "answered"))
    ev |= EV_ANSWERED;
  if (strstr(list, "completed"))
    ev |= EV_COMPLETED;
  return ev ? ev : EV_COMPLETED;
}

static int add_doc(sim_vcall *c, const char *doc, const char *url);
static void twv_after_dial(twv_state *st, const char *child_sid);

/* A new recording of `secs` seconds for `parent` (caller holds v.mu). */
static const twv_rec *rec_add(twv_state *st, const sim_vcall *parent,
                              long secs)
{
  twv_rec *r;

  if (st->nrecs == st->caprecs) {
    size_t ncap = st->caprecs ? st->caprecs * 2 : 16;
    twv_rec *nr = realloc(st->recs, ncap * sizeof(*nr));
    if (nr == NULL)
      return NULL;
    st->recs = nr;
    st->caprecs = ncap;
  }
  r = &st->recs[st->nrecs++];
  memset(r, 0, sizeof(*r));
  memcpy(r->sid, "RE", 2);
  sim_random_hex(r->sid + 2, 32);
  snprintf(r->account, sizeof(r->account), "%s", parent->account);
  snprintf(r->call, sizeof(r->call), "%s", parent->id);
  r->secs = secs;
  r->created_ms = sim_now_ms();
  return r;
}

/*
 * The end of a <Dial> (caller holds v.mu): the action request on the
 * parent's behalf (DialCallStatus, DialCallSid, DialCallDuration and,
 * when recorded, the recording) and the recording's status callback.
 * Tagged with the child's sid; out[] gets 0 to 2 posts.
 */
static size_t dial_end_posts(twv_ctx *x, twv_state *st, sim_vcall *child,
                             const char *dial_status, long secs,
                             sim_post *out)
{
  sim_vcall *parent = sim_voice_find(&st->v, child->parent);
  const twv_rec *rec = NULL;
  sim_kvp p[24];
  char dur[24], rdur[24], rurl[300];
  size_t n = 0, k;
  int rc = 0;

  if (parent == NULL)
    return 0;
  snprintf(dur, sizeof(dur), "%ld", secs);
  /* a recording planned for an end that did not come never existed */
  for (k = 0; child->rec_sid[0] && k < st->nrecs; k++)
    if (strcmp(st->recs[k].sid, child->rec_sid) == 0)
      st->recs[k].deleted = 1;
  child->rec_sid[0] = '\0';
  if (child->dial_record && secs > 0) {
    rec = rec_add(st, parent, secs);
    if (rec != NULL)
      snprintf(child->rec_sid, sizeof(child->rec_sid), "%s", rec->sid);
    if (rec != NULL) {
      snprintf(rurl, sizeof(rurl), "%s/2010-04-01/Accounts/%s/Recordings/%s",
               x->base, rec->account, rec->sid);
      snprintf(rdur, sizeof(rdur), "%ld", secs);
    }
  }
  memset(&out[0], 0, sizeof(out[0]));
  if (child->dial_action != NULL) {
    k = call_params(parent, "in-progress", p);
    p[k++] = (sim_kvp){ "DialBridged", child->answered_ms ? "true" : "false" };
    p[k++] = (sim_kvp){ "DialCallDuration", dur };
    p[k++] = (sim_kvp){ "DialCallSid", child->id };
    p[k++] = (sim_kvp){ "DialCallStatus", dial_status };
    if (rec != NULL) {
      p[k++] = (sim_kvp){ "RecordingDuration", rdur };
      p[k++] = (sim_kvp){ "RecordingSid", rec->sid };
      p[k++] = (sim_kvp){ "RecordingUrl", rurl };
    }
    rc = sim_tw_form_post(&out[0], x->token, child->dial_action, p, k);
    out[0].no_dup = 1;
  } else {
    /* No action: the parent goes on after <Dial>; the step still ends
     * the parent when it comes due. */
    out[0].url = strdup("");
    out[0].no_dup = 1;
    rc = out[0].url ? 0 : -ENOMEM;
  }
  if (rc == 0)
    rc = set_tag(&out[0], child, "action", dial_status);
  n = 1;
  if (rc == 0 && rec != NULL && child->rec_cb != NULL) {
    k = 0;
    p[k++] = (sim_kvp){ "AccountSid", parent->account };
    p[k++] = (sim_kvp){ "CallSid", parent->id };
    p[k++] = (sim_kvp){ "RecordingChannels", "1" };
    p[k++] = (sim_kvp){ "RecordingDuration", rdur };
    p[k++] = (sim_kvp){ "RecordingSid", rec->sid };
    p[k++] = (sim_kvp){ "RecordingSource", "DialVerb" };
    p[k++] = (sim_kvp){ "RecordingStatus", "completed" };
    p[k++] = (sim_kvp){ "RecordingUrl", rurl };
    rc = sim_tw_form_post(&out[1], x->token, child->rec_cb, p, k);
    if (rc == 0)
      rc = set_tag(&out[1], child, "recording", "completed");
    n = 2;
  }
  if (rc != 0) {
    posts_free(out, n);
    return 0;
  }
  return n;
}

/* Seconds since the child answered (rounded up), 0 when it did not. */
static long child_secs(const sim_vcall *c, int64_t now)
{
  if (c->answered_ms == 0 || now < c->answered_ms)
    return 0;
  return (long)((now - c->answered_ms + 999) / 1000);
}

/*
 * Start the <Dial><Number> of `doc` on `parent` (caller holds v.mu):
 * the child call with its own life, ending in the Dial's action. The
 * parent's own planned end is dropped (its gen moves): the Dial decides
 * when it ends. Fills s[] and returns the number of steps.
 */
static size_t dial_start(twv_ctx *x, twv_state *st, sim_vcall *parent,
                         const char *doc, const vc_sim_call_plan *plan,
                         sim_post *s)
{
  char number[64], caller[64], buf[1100], rec[40];
  vc_sim_call_plan pl = *plan;
  vc_sim_call_outcome out;
  unsigned ring, talk;
  sim_vcall *c;
  long timeout = 30, limit = 14400, secs;
  int64_t at = sim_now_ms();
  size_t n = 0, k;
  int rc = 0;

  if (tag_text(doc, "Number", number, sizeof(number)) != 1 ||
      !is_e164(number) || (c = sim_voice_add(&st->v)) == NULL)
    return 0;
  parent->gen++;              /* the planned end goes: the Dial decides */
  memcpy(c->id, "CA", 2);
  sim_random_hex(c->id + 2, 32);
  snprintf(c->parent, sizeof(c->parent), "%s", parent->id);
  snprintf(parent->child, sizeof(parent->child), "%s", c->id);
  snprintf(c->to, sizeof(c->to), "%s", number);
  if (tag_attr(doc, "Dial", "callerId", caller, sizeof(caller)) == 1 &&
      caller[0])
    snprintf(c->from, sizeof(c->from), "%s", caller);
  else
    snprintf(c->from, sizeof(c->from), "%s", parent->from);
  snprintf(c->account, sizeof(c->account), "%s", parent->account);
  snprintf(c->status, sizeof(c->status), "queued");
  c->created_ms = at;
  if (tag_attr(doc, "Number", "statusCallback", buf, sizeof(buf)) == 1 &&
      http_url(buf))
    c->cb_url = strdup(buf);
  c->events = tag_attr(doc, "Number", "statusCallbackEvent", buf,
                       sizeof(buf)) == 1 ? event_bits(buf) : EV_COMPLETED;
  if (tag_attr(doc, "Number", "url", buf, sizeof(buf)) == 1 && http_url(buf))
    c->url = strdup(buf);
  if (tag_attr(doc, "Dial", "action", buf, sizeof(buf)) == 1 &&
      http_url(buf))
    c->dial_action = strdup(buf);
  if (tag_attr(doc, "Dial", "recordingStatusCallback", buf,
               sizeof(buf)) == 1 && http_url(buf))
    c->rec_cb = strdup(buf);
  c->dial_record = tag_attr(doc, "Dial", "record", rec, sizeof(rec)) == 1 &&
    strncmp(rec, "record-from-", 12) == 0;
  if (tag_attr(doc, "Dial", "timeout", buf, sizeof(buf)) == 1)
    timeout = strtol(buf, NULL, 10);
  if (tag_attr(doc, "Dial", "timeLimit", buf, sizeof(buf)) == 1)
    limit = strtol(buf, NULL, 10);
  if (timeout < 1 || timeout > 600)
    timeout = 30;
  if (limit < 1 || limit > 86400)
    limit = 14400;
  out = pl.outcome;
  ring = pl.ring_ms;
  talk = pl.talk_ms;
  if (out == VC_SIM_CALL_ANSWER && (uint64_t)timeout * 1000 < ring) {
    out = VC_SIM_CALL_NO_ANSWER;
    ring = (unsigned)timeout * 1000;
  }
  if ((uint64_t)limit * 1000 < talk)
    talk = (unsigned)limit * 1000;
  /* child legs skip queued: initiated, ringing, then the outcome */
  rc |= status_step(x, c, &s[n++], "initiated", EV_INITIATED, at, -1);
  if (out == VC_SIM_CALL_FAILED) {
    rc |= status_step(x, c, &s[n++], "failed", EV_COMPLETED, at, 0);
    k = rc ? 0 : dial_end_posts(x, st, c, "failed", 0, &s[n]);
    n += k;
    goto done;
  }
  rc |= status_step(x, c, &s[n++], "ringing", EV_RINGING, at, -1);
  at += ring;
  if (out != VC_SIM_CALL_ANSWER) {
    const char *fin = out == VC_SIM_CALL_BUSY ? "busy"
      : out == VC_SIM_CALL_NO_ANSWER ? "no-answer" : "canceled";
    rc |= status_step(x, c, &s[n], fin, EV_COMPLETED, at, 0);
    s[n++].wait_ms = ring;
    k = rc ? 0 : dial_end_posts(x, st, c, fin, 0, &s[n]);
    n += k;
    goto done;
  }
  rc |= status_step(x, c, &s[n], "in-progress", EV_ANSWERED, at, -1);
  s[n++].wait_ms = ring;
  if (c->url != NULL)         /* the whisper, before the bridge */
    rc |= twiml_step(x, c, &s[n++], c->url, NULL);
  at += talk;
  secs = (long)((talk + 999) / 1000);
  rc |= status_step(x, c, &s[n], "completed", EV_COMPLETED, at, secs);
  s[n++].wait_ms = talk;
  k = rc ? 0 : dial_end_posts(x, st, c, "completed", secs, &s[n]);
  if (k > 0 && x->action_first) {
    /* Twilio sends the two at once: the <Dial> action goes first. */
    sim_post leg_end = s[n - 1];
    s[n - 1] = s[n];
    s[n] = leg_end;
    s[n - 1].wait_ms = leg_end.wait_ms;
    s[n].wait_ms = 0;
  }
  n += k;
done:
  if (rc || k == 0) {
    posts_free(s, n);
    return 0;
  }
  return n;
}

/* The parent's end now (caller holds v.mu): its final callback. */
static int parent_end(twv_ctx *x, sim_vcall *p, sim_post *out)
{
  if (p->ended)
    return -1;
  p->gen++;
  p->ended = 1;
  p->ended_ms = sim_now_ms();
  snprintf(p->status, sizeof(p->status), "completed");
  if (status_step(x, p, out, "completed", EV_COMPLETED, p->ended_ms,
                  call_seconds(p)) != 0) {
    sim_post_free(out);
    return -1;
  }
  return 0;
}

/*
 * A child that ends or leaves the bridge before its plan says (caller
 * holds v.mu): its pending life goes; with `final`, its final callback;
 * with `action`, the parent's <Dial> ends (action, recording). Returns
 * the number of posts in s (at most 3).
 */
static size_t child_stop(twv_ctx *x, twv_state *st, sim_vcall *c,
                         const char *final, int action, sim_post *s)
{
  char prefix[64];
  int64_t now = sim_now_ms();
  long secs = child_secs(c, now);
  size_t n = 0;

  snprintf(prefix, sizeof(prefix), "%s ", c->id);
  sim_webhook_cancel(st->v.sim, "twilio-voice", prefix);
  c->gen++;
  if (final != NULL && !c->ended) {
    c->ended = 1;
    c->ended_ms = now;
    snprintf(c->status, sizeof(c->status), "%s", final);
    if (status_step(x, c, &s[n], final, EV_COMPLETED, now, secs) == 0)
      n++;
    else
      sim_post_free(&s[n]);
  }
  if (action)
    n += dial_end_posts(x, st, c, "completed", secs, &s[n]);
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
  if (c == NULL || (c->gen != t.gen && strcmp(t.kind, "fetch") != 0 &&
                    strcmp(t.kind, "gather") != 0)) {
    rc = 2;                   /* ended early: the rest of its life goes */
  } else if (strcmp(t.kind, "status") == 0) {
    int64_t now = sim_now_ms();
    /* "initiated" is a callback word; the resource stays queued. */
    if (strcmp(t.status, "initiated") != 0)
      snprintf(c->status, sizeof(c->status), "%s", t.status);
    if (strcmp(t.status, "in-progress") == 0)
      c->answered_ms = c->bridged_ms = now;
    if (is_final(t.status)) {
      c->ended = 1;
      c->ended_ms = now;
    }
    rc = *post->url ? 0 : 1;
  } else if (strcmp(t.kind, "action") == 0) {
    /* a <Dial>'s action runs on the parent, which must still be there */
    sim_vcall *p = sim_voice_find(&st->v, c->parent);
    rc = p == NULL || p->ended || !*post->url ? 1 : 0;
  } else if (strcmp(t.kind, "recording") == 0) {
    rc = *post->url ? 0 : 1;  /* the recording is there either way */
  } else if (c->ended) {
    rc = 1;                   /* no TwiML for a call that hung up */
  }
  pthread_mutex_unlock(&st->v.mu);
  /* An action with no URL: the parent goes on after <Dial> and, having
   * nothing more, hangs up. */
  if (strcmp(t.kind, "action") == 0 && !*post->url && rc == 1)
    twv_after_dial(st, t.sid);
  return rc;
}

/* Keep a fetched document and follow it (worker thread). */
static void twv_response(void *state, const sim_post *post, long status,
                         const char *body, size_t len)
{
  twv_state *st = state;
  sim_post steps[TWV_MAX_STEPS + 4];
  vc_sim_call_plan plan;
  sim_vcall *c, *target;
  char number[64];
  size_t n = 0;
  twv_tag t;
  twv_ctx x;
  char *doc;

  if (tag_parse(post, &t) != 0 || strcmp(t.kind, "status") == 0 ||
      strcmp(t.kind, "recording") == 0 || status < 200 || status > 299)
    return;
  if ((doc = strndup(body, len)) == NULL)
    return;
  ctx_init(&x, st->v.sim);
  /* the plan of a number to dial is read before taking the lock */
  if (tag_find(doc, "Dial") != NULL &&
      tag_text(doc, "Number", number, sizeof(number)) == 1)
    sim_voice_plan(&st->v, number, &plan);
  else
    number[0] = '\0';
  pthread_mutex_lock(&st->v.mu);
  c = sim_voice_find(&st->v, t.sid);
  /* A <Dial> action's answer is the parent's document. */
  target = c != NULL && strcmp(t.kind, "action") == 0
             ? sim_voice_find(&st->v, c->parent) : c;
  if (target != NULL && add_doc(target, doc, post->url) == 0 &&
      !target->ended) {
    if (target->parent[0]) {
      /* a child's own TwiML (the whisper, a Gather's answer) with
       * <Hangup/> ends it before the bridge; when it just ends, the
       * bridge happens */
      if (tag_find(doc, "Hangup") != NULL && !target->redirected)
        n = child_stop(&x, st, target, "completed", 1, steps);
    } else if (number[0]) {
      n = dial_start(&x, st, target, doc, &plan, steps);
    } else if (strcmp(t.kind, "action") == 0 && twiml_hangs_up(doc)) {
      if (parent_end(&x, target, &steps[0]) == 0)
        n = 1;
    }
  }
  pthread_mutex_unlock(&st->v.mu);
  free(doc);
  if (n > 0)
    push(st, steps, n, 1);
}

/* The parent of a child whose <Dial> had no action: nothing follows the
 * Dial in the simulator's TwiML, so the parent hangs up. */
static void twv_after_dial(twv_state *st, const char *child_sid)
{
  sim_post step;
  sim_vcall *c, *p;
  twv_ctx x;
  int ok = 0;

  ctx_init(&x, st->v.sim);
  pthread_mutex_lock(&st->v.mu);
  c = sim_voice_find(&st->v, child_sid);
  p = c ? sim_voice_find(&st->v, c->parent) : NULL;
  if (p != NULL && parent_end(&x, p, &step) == 0)
    ok = 1;
  pthread_mutex_unlock(&st->v.mu);
  if (ok)
    push(st, &step, 1, 1);
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
  twv_resource(st->v.sim, rs, c, 201);
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
  sim_post steps[8];
  sim_vcall *kid;
  twv_ctx x;
  size_t n = 0;
  /* a child still in its parent's <Dial> bridge */
  int bridged = c->parent[0] && !c->redirected && !c->ended;

  if (c->inbound) {
    /* an inbound call and its legs run on their own thread */
    sim_twin_update(&st->v, c, status && *status ? status : NULL,
                    url && *url && http_url(url) ? url : NULL);
    twv_resource(st->v.sim, rs, c, 200);
    return;
  }
  ctx_init(&x, st->v.sim);
  memset(steps, 0, sizeof(steps));
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
      if (bridged) {
        /* the customer hangs up: the parent's <Dial> ends */
        n = child_stop(&x, st, c, fin, 1, steps);
        goto answer;
      }
      snprintf(prefix, sizeof(prefix), "%s ", c->id);
      sim_webhook_cancel(st->v.sim, "twilio-voice", prefix);
      c->gen++;
      c->ended = 1;
      c->ended_ms = sim_now_ms();
      snprintf(c->status, sizeof(c->status), "%s", fin);
      if (status_step(&x, c, &steps[n], fin, EV_COMPLETED, c->ended_ms,
                      call_seconds(c)) == 0)
        n++;
      else
        sim_post_free(&steps[n]);
      /* the parent hangs up: its <Dial>'s child goes with it */
      kid = c->child[0] ? sim_voice_find(&st->v, c->child) : NULL;
      if (kid != NULL && !kid->ended && !kid->redirected)
        n += child_stop(&x, st, kid, kid->answered_ms ? "completed"
                                                      : "canceled", 0,
                        &steps[n]);
    }
  } else if ((url && *url) || (twiml && *twiml)) {
    if (c->ended || strcmp(c->status, "in-progress") != 0) {
      /* UNCONFIRMED text; 21220 is Twilio's "Invalid call state". */
      sim_tw_error(rs, 400, 21220, "Call is not in-progress. Cannot "
                   "redirect.");
      return;
    }
    if (url && *url && !http_url(url)) {
      sim_tw_error(rs, 400, 21205, "Url is not a valid URL");
      return;
    }
    if (bridged) {
      /* The child leaves the bridge for its new TwiML; the parent's
       * <Dial> ends and its action runs. */
      n = child_stop(&x, st, c, NULL, 1, steps);
      c->redirected = 1;
    }
    if (url && *url) {
      if (twiml_step(&x, c, &steps[n], url, NULL) == 0)
        n++;
      else
        sim_post_free(&steps[n]);
    } else {
      (void)add_doc(c, twiml, "");
    }
  }
answer:
  twv_resource(st->v.sim, rs, c, 200);
  if (n > 0) {
    /* Schedule after the answer is built; the lock is the caller's. */
    pthread_mutex_unlock(&st->v.mu);
    push(st, steps, n, 1);
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
    strncmp(slash, "/Calls/", 7) == 0 ||
    strncmp(slash, "/Recordings/", 12) == 0;
}

/* GET .../Recordings/{sid}.json (the resource), GET .../Recordings/{sid}
 * (the audio), DELETE .../Recordings/{sid}.json (204, then 404). */
static void twv_recording(twv_state *st, const sim_req *rq,
                          const char *account, const char *rest,
                          const char *msg, sim_resp *rs)
{
  size_t sl = strcspn(rest, "."), i;
  int json = strcmp(rest + sl, ".json") == 0;
  twv_rec *r = NULL;
  char sid[40], d[40];

  if (sl != 34 || strncmp(rest, "RE", 2) != 0 || (rest[sl] && !json)) {
    sim_tw_error(rs, 404, 20404, msg);
    return;
  }
  memcpy(sid, rest, sl);
  sid[sl] = '\0';
  if (strcmp(rq->method, "GET") != 0 &&
      !(json && strcmp(rq->method, "DELETE") == 0)) {
    sim_tw_error(rs, 405, 20004, "Method not allowed");
    return;
  }
  pthread_mutex_lock(&st->v.mu);
  for (i = 0; i < st->nrecs; i++)
    if (strcmp(st->recs[i].sid, sid) == 0 && !st->recs[i].deleted &&
        strcmp(st->recs[i].account, account) == 0)
      r = &st->recs[i];
  if (r == NULL) {
    sim_tw_error(rs, 404, 20404, msg);
  } else if (strcmp(rq->method, "DELETE") == 0) {
    r->deleted = 1;
    sim_resp_reset(rs);
    rs->status = 204;
  } else if (!json) {
    /* a tiny stand-in for the audio */
    sim_resp_reset(rs);
    rs->status = 200;
    rs->content_type = "audio/x-wav";
    sim_buf_str(&rs->body, "RIFF");
  } else {
    sim_resp_reset(rs);
    rs->status = 200;
    rs->content_type = "application/json";
    sim_rfc2822(d, r->created_ms / 1000);
    sim_buf_str(&rs->body, "{\"account_sid\": ");
    sim_buf_json_str(&rs->body, r->account);
    sim_buf_str(&rs->body, ", \"api_version\": \"" TWV_API_VERSION "\", "
                "\"call_sid\": ");
    sim_buf_json_str(&rs->body, r->call);
    sim_buf_printf(&rs->body, ", \"channels\": 1, \"date_created\": \"%s\", "
                   "\"duration\": \"%ld\", \"sid\": ", d, r->secs);
    sim_buf_json_str(&rs->body, r->sid);
    sim_buf_printf(&rs->body, ", \"source\": \"DialVerb\", \"status\": "
                   "\"completed\", \"uri\": \"/2010-04-01/Accounts/%s/"
                   "Recordings/%s.json\"}", r->account, r->sid);
  }
  pthread_mutex_unlock(&st->v.mu);
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
  if (strncmp(slash, "/Recordings/", 12) == 0) {
    twv_recording(st, rq, account, slash + 12, msg, rs);
    goto out;
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
      twv_resource(st->v.sim, rs, c, 200);
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

int sim_twv_recording_add(sim_voice *v, const sim_vcall *call, long secs,
                          char sid_out[40])
{
  const twv_rec *r = rec_add((twv_state *)v, call, secs);

  if (r == NULL)
    return -ENOMEM;
  memcpy(sid_out, r->sid, sizeof(r->sid));
  return 0;
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
  free(st->recs);
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
