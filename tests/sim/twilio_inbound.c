/*
 * Twilio's side of an inbound call: a customer calls one of the
 * account's numbers. Twilio requests the number's Voice URL (a signed
 * form POST, CallStatus=ringing, Direction=inbound), answers the call
 * and executes the TwiML it gets, verb by verb: <Say>, <Play>, <Pause>,
 * <Gather> (the plan's keys posted to its action, or a timeout),
 * <Redirect>, <Dial> with <Number> or <Sip> (a child call with its own
 * status callbacks, ringing and answering by the number's plan, then the
 * Dial's action), <Record> (the recording posted to the action and the
 * recording status callback), <Hangup>, <Reject>. The caller may hang up
 * at a planned verb or time. When the call ends, the number's status
 * callback gets `completed`. The call and its dialed legs are Calls
 * resources of the twilio-voice provider (GET, and POST to hang up or
 * redirect). Facts not in the stored spec are marked in README.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim_int.h"

#define TWV_API_VERSION "2010-04-01"

enum {
  EV_INITIATED = 1, EV_RINGING = 2, EV_ANSWERED = 4, EV_COMPLETED = 8,
};

/* What a verb leaves the run with. */
enum { GO_ON = -1, END = 0, NEXT = 1 };

/* ---- a small reader for TwiML ------------------------------------------ */

typedef struct el {
  char name[24];
  const char *attrs, *attrs_end;
  const char *body, *body_end;   /* NULL for <Name/> */
} el;

/* The next element in [*p, end), skipping text, comments and <?..?>; 0,
 * or -1 at the end (a closing tag or nothing more). */
static int el_next(const char **p, const char *end, el *e)
{
  const char *s = *p, *n, *gt;
  char close[32];
  size_t nl;
  char q = 0;

  for (;;) {
    s = s < end ? memchr(s, '<', (size_t)(end - s)) : NULL;
    if (s == NULL || s + 1 >= end || s[1] == '/')
      return -1;
    if (s[1] != '?' && s[1] != '!')
      break;
    if ((s = memchr(s, '>', (size_t)(end - s))) == NULL)
      return -1;
  }
  for (n = s + 1; n < end && *n != ' ' && *n != '>' && *n != '/' &&
       *n != '\t' && *n != '\n' && *n != '\r'; n++)
    ;
  nl = (size_t)(n - s - 1);
  if (nl == 0 || nl >= sizeof(e->name))
    return -1;
  memcpy(e->name, s + 1, nl);
  e->name[nl] = '\0';
  for (gt = n; gt < end; gt++) {
    if (q) {
      if (*gt == q)
        q = 0;
    } else if (*gt == '"' || *gt == '\'') {
      q = *gt;
    } else if (*gt == '>') {
      break;
    }
  }
  if (gt >= end)
    return -1;
  e->attrs = n;
  if (gt[-1] == '/') {
    e->attrs_end = gt - 1;
    e->body = e->body_end = NULL;
    *p = gt + 1;
    return 0;
  }
  e->attrs_end = gt;
  snprintf(close, sizeof(close), "</%s>", e->name);
  e->body = gt + 1;
  e->body_end = strstr(e->body, close);
  if (e->body_end == NULL || e->body_end > end)
    return -1;
  *p = e->body_end + strlen(close);
  return 0;
}

static const struct { const char *e; char c; } ents[] = {
  { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
  { "&apos;", '\'' } };

/* Copy [a, end) into out, entities decoded, blanks at both ends trimmed. */
static void xml_copy(const char *a, const char *end, char *out, size_t size)
{
  size_t n = 0, k;

  while (a < end && (*a == ' ' || *a == '\n' || *a == '\t' || *a == '\r'))
    a++;
  while (end > a && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\t' ||
                     end[-1] == '\r'))
    end--;
  for (; a < end && n + 1 < size; a++) {
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
}

/* An attribute, decoded: 1 found, 0 not. */
static int el_attr(const el *e, const char *name, char *out, size_t size)
{
  size_t nl = strlen(name);
  const char *a, *close;
  char q;

  out[0] = '\0';
  for (a = e->attrs + 1; a + nl + 1 < e->attrs_end; a++)
    if ((a[-1] == ' ' || a[-1] == '\t' || a[-1] == '\n' || a[-1] == '\r') &&
        strncmp(a, name, nl) == 0 && a[nl] == '=' &&
        (a[nl + 1] == '"' || a[nl + 1] == '\'')) {
      q = a[nl + 1];
      a += nl + 2;
      close = memchr(a, q, (size_t)(e->attrs_end - a));
      xml_copy(a, close ? close : e->attrs_end, out, size);
      return 1;
    }
  return 0;
}

static long el_long(const el *e, const char *name, long dflt, long lo,
                    long hi)
{
  char buf[24], *end;
  long v;

  if (!el_attr(e, name, buf, sizeof(buf)))
    return dflt;
  v = strtol(buf, &end, 10);
  return end == buf || *end || v < lo || v > hi ? dflt : v;
}

static void el_text(const el *e, char *out, size_t size)
{
  if (e->body == NULL)
    out[0] = '\0';
  else
    xml_copy(e->body, e->body_end, out, size);
}

/* ---- requests ----------------------------------------------------------- */

static int http_url(const char *s)
{
  return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* An action or redirect URL against the document's own URL: absolute,
 * "/path" (same host) or relative to its directory. */
static void resolve(const char *base, const char *href, char *out,
                    size_t size)
{
  const char *h = strstr(base, "://"), *q;
  size_t hl;

  if (http_url(href) || h == NULL) {
    snprintf(out, size, "%s", href);
    return;
  }
  hl = (size_t)(h + 3 - base) + strcspn(h + 3, "/?");
  if (href[0] == '/') {
    snprintf(out, size, "%.*s%s", (int)hl, base, href);
    return;
  }
  q = base + hl + strcspn(base + hl, "?");
  while (q > base + hl && q[-1] != '/')
    q--;
  snprintf(out, size, "%.*s%s%s", (int)(q - base), base,
           q == base + hl ? "/" : "", href);
}

/* The parameters of every request about the caller's call. */
static size_t parent_params(const sim_icall *t, const char *status,
                            sim_kvp *p)
{
  size_t n = 0;

  p[n++] = (sim_kvp){ "AccountSid", t->account };
  p[n++] = (sim_kvp){ "ApiVersion", TWV_API_VERSION };
  p[n++] = (sim_kvp){ "CallSid", t->sid };
  p[n++] = (sim_kvp){ "CallStatus", status };
  p[n++] = (sim_kvp){ "Called", t->to };
  p[n++] = (sim_kvp){ "Caller", t->from };
  p[n++] = (sim_kvp){ "Direction", "inbound" };
  p[n++] = (sim_kvp){ "From", t->from };
  p[n++] = (sim_kvp){ "To", t->to };
  return n;
}

/* A signed form POST; the answer's status (0: none) and body. */
static long post(sim_icall *t, const char *url, sim_kvp *p, size_t n,
                 char **answer)
{
  sim_post sp;
  long st = 0;

  if (answer)
    *answer = NULL;
  if (sim_tw_form_post(&sp, t->token, url, p, n) == 0)
    st = sim_inbound_http(sp.url, sp.content_type, sp.headers, sp.body,
                          sp.body_len, answer);
  sim_post_free(&sp);
  return st;
}

/* A TwiML request for the caller's call; 1 with the document in *doc
 * (and its URL in *doc_url), 0 when there is none (logged). */
static int fetch(sim_icall *t, const char *url, const char *status,
                 sim_kvp *extra, size_t nextra, char **doc, char **doc_url)
{
  sim_kvp p[24];
  size_t n = parent_params(t, status, p);
  char *answer = NULL;
  long st;

  *doc = *doc_url = NULL;
  if (++t->fetches > t->max_fetches) {
    sim_inbound_log(t, "gave-up");
    return 0;
  }
  for (size_t i = 0; i < nextra && n < 24; i++)
    p[n++] = extra[i];
  st = post(t, url, p, n, &answer);
  if (st < 200 || st > 299 || answer == NULL) {
    sim_inbound_log(t, "error %ld", st);
    free(answer);
    return 0;
  }
  *doc = answer;
  *doc_url = strdup(url);
  if (*doc_url == NULL) {
    free(answer);
    *doc = NULL;
    return 0;
  }
  return 1;
}

/* ---- the calls in the twilio-voice table ------------------------------ */

static void set_status(sim_icall *t, const char *sid, const char *status)
{
  sim_vcall *c;

  pthread_mutex_lock(&t->v->mu);
  if ((c = sim_voice_find(t->v, sid)) != NULL && !c->ended) {
    int64_t now = sim_now_ms();
    snprintf(c->status, sizeof(c->status), "%s", status);
    if (strcmp(status, "in-progress") == 0 && c->answered_ms == 0)
      c->answered_ms = c->bridged_ms = now;
    if (strcmp(status, "completed") == 0 || strcmp(status, "busy") == 0 ||
        strcmp(status, "no-answer") == 0 || strcmp(status, "failed") == 0 ||
        strcmp(status, "canceled") == 0) {
      c->ended = 1;
      c->ended_ms = now;
    }
  }
  pthread_mutex_unlock(&t->v->mu);
}

/* Seconds a call talked (rounded up), 0 when never answered. */
static long talked(sim_icall *t, const char *sid)
{
  sim_vcall *c;
  long s = 0;

  pthread_mutex_lock(&t->v->mu);
  if ((c = sim_voice_find(t->v, sid)) != NULL && c->answered_ms &&
      c->ended_ms >= c->answered_ms)
    s = (long)((c->ended_ms - c->answered_ms + 999) / 1000);
  pthread_mutex_unlock(&t->v->mu);
  return s;
}

/* A status callback (call-progress-events) of the caller's call or a
 * dialed leg. */
static void status_post(sim_icall *t, const char *url, sim_kvp *p,
                        size_t n, unsigned *seq, long secs)
{
  char sq[16], ts[40], dur[24];

  snprintf(sq, sizeof(sq), "%u", (*seq)++);
  sim_rfc2822(ts, sim_now_ms() / 1000);
  p[n++] = (sim_kvp){ "CallbackSource", "call-progress-events" };
  p[n++] = (sim_kvp){ "SequenceNumber", sq };
  p[n++] = (sim_kvp){ "Timestamp", ts };
  if (secs >= 0) {
    snprintf(dur, sizeof(dur), "%ld", secs);
    p[n++] = (sim_kvp){ "CallDuration", dur };
    p[n++] = (sim_kvp){ "Duration", dur };
  }
  (void)post(t, url, p, n, NULL);
}

/* ---- <Dial> ------------------------------------------------------------- */

typedef struct leg {
  char sid[48], to[256], from[64];
  char cb[1024];
  unsigned events, seq;
} leg;

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

/* The leg moves to `status`: the table, then its callback if asked. */
static void leg_step(sim_icall *t, leg *l, const char *status, unsigned ev,
                     long secs)
{
  sim_kvp p[24];
  size_t n = 0;

  set_status(t, l->sid, status);
  if (l->cb[0] == '\0' || !(l->events & ev))
    return;
  p[n++] = (sim_kvp){ "AccountSid", t->account };
  p[n++] = (sim_kvp){ "ApiVersion", TWV_API_VERSION };
  p[n++] = (sim_kvp){ "CallSid", l->sid };
  p[n++] = (sim_kvp){ "CallStatus", status };
  p[n++] = (sim_kvp){ "Called", l->to };
  p[n++] = (sim_kvp){ "Caller", l->from };
  p[n++] = (sim_kvp){ "Direction", "outbound-dial" };
  p[n++] = (sim_kvp){ "From", l->from };
  p[n++] = (sim_kvp){ "ParentCallSid", t->sid };
  p[n++] = (sim_kvp){ "To", l->to };
  status_post(t, l->cb, p, n, &l->seq, secs);
}

/* Why a wait of the Dial stopped (caller holds nothing). */
enum { W_CALLER = 1, W_API = 2, W_LEG = 3, W_STOP = 4, W_REDIRECT = 5 };

static int why(sim_icall *t)
{
  int w = 0;

  pthread_mutex_lock(&t->v->mu);
  if (t->v->inbound->stopping)
    w = W_STOP;
  else if (t->api_hangup)
    w = W_API;
  else if (t->caller_gone)
    w = W_CALLER;
  else if (t->leg_hangup)
    w = W_LEG;
  else if (t->api_url)
    w = W_REDIRECT;
  t->leg_hangup = 0;
  pthread_mutex_unlock(&t->v->mu);
  return w;
}

/* A recording of the call: kept by the twilio-voice provider, so its URL
 * answers. */
static int recording(sim_icall *t, long secs, char sid[40], char *url,
                     size_t size)
{
  sim_vcall *c;
  int rc = -ENOENT;

  pthread_mutex_lock(&t->v->mu);
  if ((c = sim_voice_find(t->v, t->sid)) != NULL)
    rc = sim_twv_recording_add(t->v, c, secs, sid);
  pthread_mutex_unlock(&t->v->mu);
  if (rc == 0)
    snprintf(url, size, "%s/2010-04-01/Accounts/%s/Recordings/%s", t->base,
             t->account, sid);
  return rc;
}

static void recording_post(sim_icall *t, const char *cb, const char *rsid,
                           const char *rurl, long secs, const char *source)
{
  sim_kvp p[12];
  char dur[24], start[40];
  size_t n = 0;

  snprintf(dur, sizeof(dur), "%ld", secs);
  sim_rfc2822(start, sim_now_ms() / 1000 - secs);
  p[n++] = (sim_kvp){ "AccountSid", t->account };
  p[n++] = (sim_kvp){ "CallSid", t->sid };
  p[n++] = (sim_kvp){ "RecordingChannels", "1" };
  p[n++] = (sim_kvp){ "RecordingDuration", dur };
  p[n++] = (sim_kvp){ "RecordingSid", rsid };
  p[n++] = (sim_kvp){ "RecordingSource", source };
  p[n++] = (sim_kvp){ "RecordingStartTime", start };
  p[n++] = (sim_kvp){ "RecordingStatus", "completed" };
  p[n++] = (sim_kvp){ "RecordingUrl", rurl };
  (void)post(t, cb, p, n, NULL);
}

static int run_dial(sim_icall *t, const el *e, const char *doc_url,
                    char **next, char **next_url)
{
  char action[1100], buf[1100], rec[40], rsid[40] = "", rurl[300] = "";
  const char *dial_status;
  const char *p = e->body;
  vc_sim_call_plan plan;
  el noun;
  leg l;
  long timeout, limit, secs = 0;
  unsigned ring, talk;
  int hang, w = 0, answered = 0;
  sim_vcall *c;

  memset(&l, 0, sizeof(l));
  memset(&noun, 0, sizeof(noun));
  if (p != NULL && el_next(&p, e->body_end, &noun) == 0) {
    if (strcmp(noun.name, "Number") == 0 || strcmp(noun.name, "Sip") == 0) {
      el_text(&noun, l.to, sizeof(l.to));
      if (el_attr(&noun, "statusCallback", buf, sizeof(buf)))
        resolve(doc_url, buf, l.cb, sizeof(l.cb));
      l.events = el_attr(&noun, "statusCallbackEvent", buf, sizeof(buf))
                   ? event_bits(buf) : EV_COMPLETED;
    }
  } else if (e->body != NULL) {
    /* a bare number as the Dial's text */
    el_text(e, l.to, sizeof(l.to));
    noun.name[0] = '\0';
  }
  if (l.to[0] == '\0') {
    sim_inbound_log(t, "skip Dial");
    return GO_ON;
  }
  if (!el_attr(e, "callerId", l.from, sizeof(l.from)) || !l.from[0])
    snprintf(l.from, sizeof(l.from), "%s", t->from);
  timeout = el_long(e, "timeout", 30, 1, 600);
  limit = el_long(e, "timeLimit", 14400, 1, 86400);
  /* A SIP target rings by the plan of its user part's digits. */
  if (strncmp(l.to, "sip:", 4) == 0 || strncmp(l.to, "sips:", 5) == 0) {
    const char *u = strchr(l.to, ':') + 1;
    snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(u, "@;"), u);
    sim_voice_plan(t->v, buf, &plan);
  } else {
    sim_voice_plan(t->v, l.to, &plan);
  }
  ring = plan.ring_ms;
  talk = plan.talk_ms;
  if (plan.outcome == VC_SIM_CALL_ANSWER && (uint64_t)timeout * 1000 < ring) {
    plan.outcome = VC_SIM_CALL_NO_ANSWER;
    ring = (unsigned)timeout * 1000;
  }
  if ((uint64_t)limit * 1000 < talk)
    talk = (unsigned)limit * 1000;
  hang = sim_inbound_hangs_up_at(t, "Dial");

  pthread_mutex_lock(&t->v->mu);
  c = sim_voice_add(t->v);
  if (c != NULL) {
    memcpy(c->id, "CA", 2);
    sim_random_hex(c->id + 2, 32);
    snprintf(l.sid, sizeof(l.sid), "%s", c->id);
    snprintf(c->to, sizeof(c->to), "%.63s", l.to);
    snprintf(c->from, sizeof(c->from), "%s", l.from);
    snprintf(c->account, sizeof(c->account), "%s", t->account);
    snprintf(c->parent, sizeof(c->parent), "%s", t->sid);
    snprintf(c->status, sizeof(c->status), "queued");
    c->created_ms = sim_now_ms();
    c->inbound = 2;
    if ((c = sim_voice_find(t->v, t->sid)) != NULL)
      snprintf(c->child, sizeof(c->child), "%s", l.sid);
  }
  pthread_mutex_unlock(&t->v->mu);
  if (l.sid[0] == '\0')
    return END;

  leg_step(t, &l, "initiated", EV_INITIATED, -1);
  if (plan.outcome == VC_SIM_CALL_FAILED) {
    dial_status = "failed";
    leg_step(t, &l, dial_status, EV_COMPLETED, 0);
    goto ended;
  }
  leg_step(t, &l, "ringing", EV_RINGING, -1);
  if (hang) {
    /* the caller gives up while the number rings */
    (void)sim_inbound_wait(t, ring / 2);
    pthread_mutex_lock(&t->v->mu);
    t->caller_gone = 1;
    pthread_mutex_unlock(&t->v->mu);
  }
  if (hang || sim_inbound_wait(t, ring)) {
    /* hung up while ringing: by the caller, the API, or on the leg */
    w = why(t);
    dial_status = w == W_LEG ? "no-answer" : "canceled";
    leg_step(t, &l, dial_status, EV_COMPLETED, 0);
    goto ended;
  }
  if (plan.outcome != VC_SIM_CALL_ANSWER) {
    dial_status = plan.outcome == VC_SIM_CALL_BUSY ? "busy"
      : plan.outcome == VC_SIM_CALL_NO_ANSWER ? "no-answer" : "canceled";
    leg_step(t, &l, dial_status, EV_COMPLETED, 0);
    goto ended;
  }
  leg_step(t, &l, "in-progress", EV_ANSWERED, -1);
  answered = 1;
  if (noun.name[0] && el_attr(&noun, "url", buf, sizeof(buf))) {
    /* the whisper plays to the dialed party before the bridge */
    char *doc = NULL;
    sim_kvp q[20];
    size_t n = 0;
    char wurl[1100];
    resolve(doc_url, buf, wurl, sizeof(wurl));
    q[n++] = (sim_kvp){ "AccountSid", t->account };
    q[n++] = (sim_kvp){ "CallSid", l.sid };
    q[n++] = (sim_kvp){ "CallStatus", "in-progress" };
    q[n++] = (sim_kvp){ "Direction", "outbound-dial" };
    q[n++] = (sim_kvp){ "From", l.from };
    q[n++] = (sim_kvp){ "ParentCallSid", t->sid };
    q[n++] = (sim_kvp){ "To", l.to };
    sim_inbound_log(t, "whisper %ld", post(t, wurl, q, n, &doc));
    free(doc);
  }
  if (sim_inbound_wait(t, talk))
    w = why(t);
  dial_status = "completed";
  set_status(t, l.sid, "completed");
  secs = talked(t, l.sid);
  leg_step(t, &l, "completed", EV_COMPLETED, secs);
ended:
  sim_inbound_log(t, "dial %s %s", l.to, dial_status);
  if (answered && secs > 0 && el_attr(e, "record", rec, sizeof(rec)) &&
      strncmp(rec, "record-from-", 12) == 0)
    (void)recording(t, secs, rsid, rurl, sizeof(rurl));
  if (w == W_STOP || w == W_API || w == W_REDIRECT)
    return w == W_REDIRECT ? GO_ON : END;
  if (el_attr(e, "action", buf, sizeof(buf)) && buf[0]) {
    sim_kvp q[8];
    char dur[24];
    size_t n = 0;
    int gone = w == W_CALLER;
    resolve(doc_url, buf, action, sizeof(action));
    snprintf(dur, sizeof(dur), "%ld", secs);
    q[n++] = (sim_kvp){ "DialBridged", answered ? "true" : "false" };
    q[n++] = (sim_kvp){ "DialCallDuration", dur };
    q[n++] = (sim_kvp){ "DialCallSid", l.sid };
    q[n++] = (sim_kvp){ "DialCallStatus", dial_status };
    if (rsid[0]) {
      q[n++] = (sim_kvp){ "RecordingDuration", dur };
      q[n++] = (sim_kvp){ "RecordingSid", rsid };
      q[n++] = (sim_kvp){ "RecordingUrl", rurl };
    }
    /* The caller hung up: the action is still requested, its answer is
     * not executed (UNCONFIRMED). */
    if (fetch(t, action, gone ? "completed" : "in-progress", q, n, next,
              next_url) && gone) {
      free(*next);
      free(*next_url);
      *next = *next_url = NULL;
    }
    if (rsid[0] && el_attr(e, "recordingStatusCallback", buf, sizeof(buf)))
      recording_post(t, buf, rsid, rurl, secs, "DialVerb");
    if (gone) {
      sim_inbound_log(t, "caller-hangup");
      return END;
    }
    return *next ? NEXT : END;
  }
  if (rsid[0] && el_attr(e, "recordingStatusCallback", buf, sizeof(buf)))
    recording_post(t, buf, rsid, rurl, secs, "DialVerb");
  if (w == W_CALLER) {
    sim_inbound_log(t, "caller-hangup");
    return END;
  }
  return GO_ON;
}

/* ---- the other verbs ---------------------------------------------------- */

/* An interruption between verbs: the next document (a redirect through
 * the API), the end, or GO_ON when nothing happened. */
static int interrupted(sim_icall *t, char **next, char **next_url)
{
  char *url = NULL;
  int w;

  pthread_mutex_lock(&t->v->mu);
  if (t->hangup_after_ms > 0 &&
      sim_mono_ms() >= t->start_mono + t->hangup_after_ms)
    t->caller_gone = 1;
  w = t->v->inbound->stopping ? W_STOP : t->api_hangup ? W_API
    : t->caller_gone ? W_CALLER : t->api_url ? W_REDIRECT : 0;
  if (w == W_REDIRECT) {
    url = t->api_url;
    t->api_url = NULL;
  }
  t->leg_hangup = 0;
  pthread_mutex_unlock(&t->v->mu);
  switch (w) {
  case W_STOP:
    return END;
  case W_API:
    sim_inbound_log(t, "api-hangup");
    return END;
  case W_CALLER:
    sim_inbound_log(t, "caller-hangup");
    return END;
  case W_REDIRECT:
    sim_inbound_log(t, "api-redirect %s", url);
    w = fetch(t, url, "in-progress", NULL, 0, next, next_url) ? NEXT : END;
    free(url);
    return w;
  default:
    return GO_ON;
  }
}

/* Say and Play, also inside a Gather. */
static int say_play(sim_icall *t, const el *e)
{
  char text[512];

  el_text(e, text, sizeof(text));
  if (strcmp(e->name, "Say") == 0) {
    sim_inbound_log(t, "say %s", text);
    return sim_inbound_wait(t, t->say_ms);
  }
  if (el_long(e, "loop", 1, 0, 1000) == 0) {
    /* music for ever: until something else happens to the call */
    sim_inbound_log(t, "play %s loop", text);
    return sim_inbound_wait(t, 3600u * 1000u);
  }
  sim_inbound_log(t, "play %s", text);
  return sim_inbound_wait(t, t->say_ms);
}

static int run_gather(sim_icall *t, const el *e, const char *doc_url,
                      char **next, char **next_url)
{
  char keys[40], buf[1100], action[1100];
  const char *p = e->body;
  long timeout = el_long(e, "timeout", 5, 1, 600);
  el in;
  sim_kvp q[2];

  while (p != NULL && el_next(&p, e->body_end, &in) == 0)
    if ((strcmp(in.name, "Say") == 0 || strcmp(in.name, "Play") == 0) &&
        say_play(t, &in))
      return interrupted(t, next, next_url);
  sim_inbound_digits(t, keys);
  if (el_attr(e, "action", buf, sizeof(buf)) && buf[0])
    resolve(doc_url, buf, action, sizeof(action));
  else
    snprintf(action, sizeof(action), "%s", doc_url);
  if (keys[0] == '\0') {
    sim_inbound_log(t, "gather timeout");
    if (sim_inbound_wait(t, (unsigned)timeout * t->pause_ms))
      return interrupted(t, next, next_url);
    if (el_attr(e, "actionOnEmptyResult", buf, sizeof(buf)) &&
        strcmp(buf, "true") == 0)
      return fetch(t, action, "in-progress", NULL, 0, next, next_url)
        ? NEXT : END;
    return GO_ON;           /* Twilio goes on with the next verb */
  }
  sim_inbound_log(t, "gather %s", keys);
  q[0] = (sim_kvp){ "Digits", keys };
  q[1] = (sim_kvp){ "FinishedOnKey", "" };
  return fetch(t, action, "in-progress", q, 2, next, next_url) ? NEXT : END;
}

static int run_record(sim_icall *t, const el *e, const char *doc_url,
                      char **next, char **next_url)
{
  char buf[1100], action[1100], rsid[40], rurl[300], dur[24];
  long max = el_long(e, "maxLength", 3600, 1, 14400);
  long secs = t->record_s < (unsigned long)max ? (long)t->record_s : max;
  int gone = 0, ok;
  sim_kvp q[4];

  sim_inbound_log(t, "record %ld", secs);
  if (sim_inbound_wait(t, (unsigned)secs * t->pause_ms)) {
    int w = why(t);
    if (w == W_STOP || w == W_API)
      return END;
    /* The caller hanging up ends the recording, which is still posted. */
    gone = 1;
  }
  if (el_attr(e, "action", buf, sizeof(buf)) && buf[0])
    resolve(doc_url, buf, action, sizeof(action));
  else
    snprintf(action, sizeof(action), "%s", doc_url);
  if (recording(t, secs, rsid, rurl, sizeof(rurl)) != 0)
    return END;
  snprintf(dur, sizeof(dur), "%ld", secs);
  q[0] = (sim_kvp){ "Digits", gone ? "hangup" : "" };
  q[1] = (sim_kvp){ "RecordingDuration", dur };
  q[2] = (sim_kvp){ "RecordingSid", rsid };
  q[3] = (sim_kvp){ "RecordingUrl", rurl };
  ok = fetch(t, action, gone ? "completed" : "in-progress", q, 4, next,
             next_url);
  if (el_attr(e, "recordingStatusCallback", buf, sizeof(buf)) && buf[0]) {
    char cb[1100];
    resolve(doc_url, buf, cb, sizeof(cb));
    recording_post(t, cb, rsid, rurl, secs, "RecordVerb");
  }
  if (gone || !ok) {
    free(*next);
    free(*next_url);
    *next = *next_url = NULL;
    if (gone)
      sim_inbound_log(t, "caller-hangup");
    return END;
  }
  return NEXT;
}

/* Run one document: NEXT with the next one, or END. */
static int run_doc(sim_icall *t, const char *doc, const char *doc_url,
                   char **next, char **next_url, const char **final)
{
  const char *p = doc, *end = doc + strlen(doc);
  el resp, e;
  int rc;

  *next = *next_url = NULL;
  /* the root must be <Response> */
  if (el_next(&p, end, &resp) != 0 || strcmp(resp.name, "Response") != 0) {
    sim_inbound_log(t, "error bad-twiml");
    return END;
  }
  p = resp.body;
  while (p != NULL && el_next(&p, resp.body_end, &e) == 0) {
    if ((rc = interrupted(t, next, next_url)) != GO_ON)
      return rc;
    if (strcmp(e.name, "Dial") != 0 && sim_inbound_hangs_up_at(t, e.name)) {
      sim_inbound_log(t, "caller-hangup");
      return END;
    }
    if (strcmp(e.name, "Say") == 0 || strcmp(e.name, "Play") == 0) {
      rc = say_play(t, &e) ? interrupted(t, next, next_url) : GO_ON;
    } else if (strcmp(e.name, "Pause") == 0) {
      long len = el_long(&e, "length", 1, 0, 600);
      sim_inbound_log(t, "pause %ld", len);
      rc = sim_inbound_wait(t, (unsigned)len * t->pause_ms)
        ? interrupted(t, next, next_url) : GO_ON;
    } else if (strcmp(e.name, "Gather") == 0) {
      rc = run_gather(t, &e, doc_url, next, next_url);
    } else if (strcmp(e.name, "Redirect") == 0) {
      char href[1100], url[1100];
      el_text(&e, href, sizeof(href));
      resolve(doc_url, href, url, sizeof(url));
      sim_inbound_log(t, "redirect %s", url);
      rc = fetch(t, url, "in-progress", NULL, 0, next, next_url) ? NEXT
                                                                 : END;
    } else if (strcmp(e.name, "Dial") == 0) {
      rc = run_dial(t, &e, doc_url, next, next_url);
      if (rc == GO_ON && (rc = interrupted(t, next, next_url)) == GO_ON)
        continue;
    } else if (strcmp(e.name, "Record") == 0) {
      rc = run_record(t, &e, doc_url, next, next_url);
    } else if (strcmp(e.name, "Hangup") == 0) {
      sim_inbound_log(t, "hangup");
      rc = END;
    } else if (strcmp(e.name, "Reject") == 0) {
      /* UNCONFIRMED: a rejected call's final status */
      sim_inbound_log(t, "reject");
      *final = "busy";
      rc = END;
    } else {
      sim_inbound_log(t, "skip %s", e.name);
      rc = GO_ON;
    }
    if (rc != GO_ON)
      return rc;
  }
  if ((rc = interrupted(t, next, next_url)) != GO_ON)
    return rc;
  sim_inbound_log(t, "end");   /* no more verbs: Twilio hangs up */
  return END;
}

static void *twin_run(void *arg)
{
  sim_icall *t = arg;
  char *doc = NULL, *doc_url = NULL, *next, *next_url;
  const char *final = "completed";
  sim_kvp p[24];
  unsigned seq = 0;
  size_t n;
  int ok;

  ok = fetch(t, t->voice_url, "ringing", NULL, 0, &doc, &doc_url);
  sim_inbound_log(t, "incoming %s", ok ? "200" : "failed");
  if (ok) {
    /* Twilio answers the call once it has TwiML */
    set_status(t, t->sid, "in-progress");
    while (doc != NULL &&
           run_doc(t, doc, doc_url, &next, &next_url, &final) == NEXT) {
      free(doc);
      free(doc_url);
      doc = next;
      doc_url = next_url;
    }
  }
  free(doc);
  free(doc_url);
  set_status(t, t->sid, final);
  if (t->status_url != NULL) {
    n = parent_params(t, final, p);
    status_post(t, t->status_url, p, n, &seq, talked(t, t->sid));
  }
  sim_inbound_log(t, "%s", final);
  sim_inbound_finish(t);
  return NULL;
}

/* ---- control ------------------------------------------------------------ */

int vc_sim_twilio_incoming(vc_sim *s, const vc_sim_incoming *in,
                           char *sid_out)
{
  sim_voice *v = s ? sim_provider_state(s, "twilio-voice") : NULL;
  sim_icall *t;
  sim_vcall *c;

  if (v == NULL || in == NULL || in->voice_url == NULL ||
      !http_url(in->voice_url) || in->from == NULL || in->to == NULL ||
      strlen(in->from) >= 64 || strlen(in->to) >= 64 ||
      (in->status_url && !http_url(in->status_url)))
    return -EINVAL;
  if ((t = sim_inbound_new(v, in)) == NULL)
    return -ENOMEM;
  t->fn = twin_run;
  pthread_mutex_lock(&v->mu);
  c = sim_voice_add(v);
  if (c != NULL) {
    memcpy(c->id, "CA", 2);
    sim_random_hex(c->id + 2, 32);
    snprintf(t->sid, sizeof(t->sid), "%s", c->id);
    snprintf(c->to, sizeof(c->to), "%s", in->to);
    snprintf(c->from, sizeof(c->from), "%s", in->from);
    snprintf(c->account, sizeof(c->account), "%s", t->account);
    snprintf(c->status, sizeof(c->status), "ringing");
    c->created_ms = sim_now_ms();
    c->inbound = 1;
  }
  pthread_mutex_unlock(&v->mu);
  if (c == NULL) {
    sim_inbound_discard(t);
    return -ENOMEM;
  }
  if (sid_out != NULL)
    snprintf(sid_out, 35, "%s", t->sid);
  return sim_inbound_start(t);
}

void sim_twin_update(sim_voice *v, sim_vcall *c, const char *status,
                     const char *url)
{
  sim_icall *t = sim_inbound_find(v, c->inbound == 2 ? c->parent : c->id);

  if (t == NULL || t->done || c->ended)
    return;
  if (status != NULL && (strcmp(status, "completed") == 0 ||
                         strcmp(status, "canceled") == 0)) {
    if (c->inbound == 2)
      t->leg_hangup = 1;
    else
      t->api_hangup = 1;
  } else if (url != NULL && c->inbound == 1) {
    free(t->api_url);
    t->api_url = strdup(url);
  }
  sim_inbound_kick(t);
}
