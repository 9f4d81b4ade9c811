/*
 * Exotel's side of an inbound call: a customer calls an ExoPhone whose
 * flow (an App of applets built in Exotel's dashboard) is the library's
 * inbound flow (docs/calls.md, "Exotel inbound"):
 *
 *   Passthru (incoming) -> Gather (dynamic URL, gather)
 *     -> Connect (dynamic URL, ivr) -> Passthru (in_dial)
 *     -> 302: Hangup; 200: a static Gather (the wait) -> the Connect
 *
 * Each applet's URL is the flow's first URL with its own vc_step. Exotel
 * requests them with GET and the call's details as query parameters; a
 * Passthru goes on by its answer's status (200 or 302), the Gather and
 * Connect applets take their settings from the JSON their URL answers.
 * The Connect rings its numbers by the exotel plans; the caller may hang
 * up at a planned applet or time. At the end the status callback gets
 * the terminal event with Direction=inbound. Facts and guesses: README.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "sim_int.h"

enum { GO_LOOP = 0, GO_END = 1 };

/* Exotel's times: "YYYY-MM-DD HH:MM:SS" in exotel.utc_offset. */
static void ex_time(vc_sim *sim, char out[24], int64_t unix_ms)
{
  char off[16];
  int64_t min = 0;

  sim_setting(sim, "exotel.utc_offset", off, sizeof(off));
  if (strlen(off) == 6 && (off[0] == '+' || off[0] == '-') && off[3] == ':')
    min = (off[0] == '-' ? -1 : 1) *
      (((off[1] - '0') * 10 + (off[2] - '0')) * 60 +
       (off[4] - '0') * 10 + (off[5] - '0'));
  sim_voice_datetime(out, unix_ms + min * 60000);
}

/* One applet's URL: the flow's URL with "{step}" replaced by the step,
 * else with its vc_step replaced (or added). */
static void applet_url(const sim_icall *t, const char *step, char *out,
                       size_t size)
{
  const char *u = t->voice_url, *p = strstr(u, "vc_step=");
  const char *ph = strstr(u, "{step}");

  if (ph != NULL)
    snprintf(out, size, "%.*s%s%s", (int)(ph - u), u, step, ph + 6);
  else if (p != NULL && (p[-1] == '?' || p[-1] == '&')) {
    const char *rest = p + 8 + strcspn(p + 8, "&");
    snprintf(out, size, "%.*svc_step=%s%s", (int)(p - u), u, step, rest);
  } else {
    snprintf(out, size, "%s%svc_step=%s", u, strchr(u, '?') ? "&" : "?",
             step);
  }
}

typedef struct ex_run {
  sim_icall *t;
  int64_t created_ms;
  char dial_status[24], whom[64], rec_url[300], call_type[24];
  long dial_secs, talk_secs;
} ex_run;

/* GET an applet's URL with the call's details; the status, and the body
 * when asked. */
static long applet(ex_run *r, const char *step, const char *digits,
                   char **answer)
{
  sim_icall *t = r->t;
  char url[2200], now[24], created[24], dur[24];
  sim_buf q = { 0 };
  const char *sep;
  long st;

  applet_url(t, step, url, sizeof(url));
  ex_time(t->v->sim, created, r->created_ms);
  ex_time(t->v->sim, now, sim_now_ms());
  snprintf(dur, sizeof(dur), "%ld", r->dial_secs);
  sim_buf_str(&q, url);
  sep = strchr(url, '?') ? "&" : "?";
#define Q(k, v) do { sim_buf_str(&q, sep); sep = "&"; \
                     sim_buf_str(&q, k "="); \
                     sim_buf_form_enc(&q, (v)); } while (0)
  Q("CallSid", t->sid);
  Q("CallFrom", t->from);
  Q("CallTo", t->to);
  Q("From", t->from);
  Q("To", t->to);
  Q("Direction", "incoming");
  Q("Created", created);
  Q("StartTime", created);
  Q("CurrentTime", now);
  Q("EndTime", "1970-01-01 05:30:00");
  Q("CallType", r->call_type);
  Q("DialCallDuration", dur);
  Q("DialWhomNumber", r->whom);
  if (r->dial_status[0])
    Q("DialCallStatus", r->dial_status);
  if (r->rec_url[0])
    Q("RecordingUrl", r->rec_url);
  if (digits != NULL) {
    /* Exotel quotes the gathered digits */
    char quoted[48];
    snprintf(quoted, sizeof(quoted), "\"%s\"", digits);
    Q("digits", quoted);
  }
#undef Q
  if (q.oom) {
    sim_buf_free(&q);
    return 0;
  }
  st = sim_inbound_http(q.ptr, NULL, "Exotel-Version: 1.0\n"
                        "User-Agent: Exotel\n", NULL, 0, answer);
  sim_buf_free(&q);
  return st;
}

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long jnum(const cJSON *o, const char *k, long dflt, long lo, long hi)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi)
    return dflt;
  return (long)v->valuedouble;
}

/* A prompt object {"text": ...} or {"audio_url": ...}: logged, played. */
static int prompt(sim_icall *t, const cJSON *p, const char *what)
{
  const char *s;

  if (!cJSON_IsObject(p))
    return 0;
  if ((s = jstr(p, "text")) != NULL && *s) {
    sim_inbound_log(t, "%s say %s", what, s);
    return sim_inbound_wait(t, t->say_ms);
  }
  if ((s = jstr(p, "audio_url")) != NULL && *s) {
    sim_inbound_log(t, "%s play %s", what, s);
    return sim_inbound_wait(t, t->say_ms);
  }
  return 0;
}

/* The caller hangs up where planned or when it is time: 1. */
static int caller_gone(ex_run *r, const char *applet_name)
{
  if (sim_inbound_hangs_up_at(r->t, applet_name) ||
      sim_inbound_stopped(r->t)) {
    pthread_mutex_lock(&r->t->v->mu);
    r->t->caller_gone = 1;
    pthread_mutex_unlock(&r->t->v->mu);
    return 1;
  }
  return 0;
}

/* The Gather applet: its settings from the URL, the plan's keys. */
static int run_gather(ex_run *r, char keys[40])
{
  sim_icall *t = r->t;
  char *body = NULL;
  cJSON *j;
  long st, max, timeout;
  int rc = GO_LOOP;

  keys[0] = '\0';
  if (caller_gone(r, "Gather"))
    return GO_END;
  st = applet(r, "gather", NULL, &body);
  j = st == 200 && body ? cJSON_Parse(body) : NULL;
  free(body);
  if (!cJSON_IsObject(j)) {
    /* UNCONFIRMED: what Exotel does with a failing dynamic URL and no
     * fallback URL; the simulator ends the call */
    sim_inbound_log(t, "error gather %ld", st);
    cJSON_Delete(j);
    return GO_END;
  }
  max = jnum(j, "max_input_digits", 1, 1, 64);
  timeout = jnum(j, "input_timeout", 5, 1, 600);
  if (prompt(t, cJSON_GetObjectItemCaseSensitive(j, "gather_prompt"),
             "gather")) {
    rc = GO_END;
    goto out;
  }
  sim_inbound_digits(t, keys);
  if ((long)strlen(keys) > max)
    keys[max] = '\0';
  if (keys[0]) {
    sim_inbound_log(t, "gather %s", keys);
  } else {
    sim_inbound_log(t, "gather timeout %ld", timeout);
    if (sim_inbound_wait(t, (unsigned)timeout * t->pause_ms))
      rc = GO_END;
  }
out:
  cJSON_Delete(j);
  return rc;
}

/* A Passthru: 200 goes one way, 302 the other; else the end. */
static long passthru(ex_run *r, const char *step, const char *digits)
{
  long st = applet(r, step, digits, NULL);

  sim_inbound_log(r->t, "passthru %s %ld", step, st);
  return st;
}

/* The Connect applet: ring its numbers in order until one answers. */
static int run_connect(ex_run *r, const char *keys)
{
  sim_icall *t = r->t;
  const cJSON *nums, *dest, *n;
  char *body = NULL;
  cJSON *j;
  long st, ring_cap, talk_cap;
  int hang, rc = GO_LOOP, dialed = 0;

  r->dial_status[0] = r->whom[0] = r->rec_url[0] = '\0';
  r->dial_secs = 0;
  snprintf(r->call_type, sizeof(r->call_type), "incomplete");
  /* the Connect's URL also gets the keys of the Gather before it */
  st = applet(r, "ivr", keys && keys[0] ? keys : NULL, &body);
  j = st == 200 && body ? cJSON_Parse(body) : NULL;
  free(body);
  if (!cJSON_IsObject(j)) {
    sim_inbound_log(t, "error connect %ld", st);
    cJSON_Delete(j);
    return GO_END;
  }
  ring_cap = jnum(j, "max_ringing_duration", 45, 1, 600);
  talk_cap = jnum(j, "max_conversation_duration", 3600, 1, 14400);
  dest = cJSON_GetObjectItemCaseSensitive(j, "destination");
  nums = cJSON_GetObjectItemCaseSensitive(dest, "numbers");
  if (prompt(t, cJSON_GetObjectItemCaseSensitive(j, "start_call_playback"),
             "connect")) {
    cJSON_Delete(j);
    return GO_END;
  }
  hang = sim_inbound_hangs_up_at(t, "Dial");
  cJSON_ArrayForEach(n, nums) {
    vc_sim_call_plan plan;
    unsigned ring;
    if (!cJSON_IsString(n) || !*n->valuestring)
      continue;
    dialed = 1;
    snprintf(r->whom, sizeof(r->whom), "%s", n->valuestring);
    sim_voice_plan(t->v, r->whom, &plan);
    ring = plan.ring_ms;
    if (plan.outcome == VC_SIM_CALL_ANSWER &&
        (uint64_t)ring_cap * 1000 < ring) {
      plan.outcome = VC_SIM_CALL_NO_ANSWER;
      ring = (unsigned)ring_cap * 1000;
    }
    if ((uint64_t)talk_cap * 1000 < plan.talk_ms)
      plan.talk_ms = (unsigned)talk_cap * 1000;
    if (hang) {
      (void)sim_inbound_wait(t, ring / 2);
      snprintf(r->dial_status, sizeof(r->dial_status), "canceled");
      snprintf(r->call_type, sizeof(r->call_type), "client-hangup");
      pthread_mutex_lock(&t->v->mu);
      t->caller_gone = 1;
      pthread_mutex_unlock(&t->v->mu);
      rc = GO_END;
      break;
    }
    if (plan.outcome != VC_SIM_CALL_FAILED && sim_inbound_wait(t, ring)) {
      snprintf(r->dial_status, sizeof(r->dial_status), "canceled");
      snprintf(r->call_type, sizeof(r->call_type), "client-hangup");
      rc = GO_END;
      break;
    }
    if (plan.outcome == VC_SIM_CALL_ANSWER) {
      int64_t at = sim_now_ms();
      cJSON *rec = cJSON_GetObjectItemCaseSensitive(j, "record");
      int gone = sim_inbound_wait(t, plan.talk_ms);
      r->dial_secs = (long)((sim_now_ms() - at + 999) / 1000);
      r->talk_secs += r->dial_secs;
      snprintf(r->dial_status, sizeof(r->dial_status), "completed");
      snprintf(r->call_type, sizeof(r->call_type), "completed");
      if (cJSON_IsTrue(rec))
        snprintf(r->rec_url, sizeof(r->rec_url),
                 "%s/exotel/recordings/%s.mp3", t->base, t->sid);
      if (gone)
        rc = GO_END;
      break;
    }
    snprintf(r->dial_status, sizeof(r->dial_status), "%s",
             plan.outcome == VC_SIM_CALL_BUSY ? "busy"
             : plan.outcome == VC_SIM_CALL_FAILED ? "failed" : "no-answer");
    sim_inbound_log(t, "dial %s %s", r->whom, r->dial_status);
  }
  if (!dialed) {
    /* UNCONFIRMED: a Connect with nobody to dial ends at once */
    snprintf(r->dial_status, sizeof(r->dial_status), "failed");
    sim_inbound_log(t, "dial none");
  } else if (strcmp(r->dial_status, "busy") != 0 &&
             strcmp(r->dial_status, "no-answer") != 0 &&
             strcmp(r->dial_status, "failed") != 0) {
    sim_inbound_log(t, "dial %s %s", r->whom, r->dial_status);
  }
  cJSON_Delete(j);
  return rc;
}

/* The terminal status callback, multipart/form-data as Exotel's default. */
static void terminal(ex_run *r)
{
  sim_icall *t = r->t;
  char bnd[40], now[24], created[24], talk[24], ct[80];
  sim_buf b = { 0 };

  if (t->status_url == NULL)
    return;
  memcpy(bnd, "----vcsim", 9);
  sim_random_hex(bnd + 9, 24);
  ex_time(t->v->sim, now, sim_now_ms());
  ex_time(t->v->sim, created, r->created_ms);
  snprintf(talk, sizeof(talk), "%ld", r->talk_secs);
#define F(k, v) sim_buf_printf(&b, "--%s\r\nContent-Disposition: form-data; " \
                               "name=\"%s\"\r\n\r\n%s\r\n", bnd, k, v)
  F("CallSid", t->sid);
  F("Status", r->talk_secs > 0 ? "completed" : "no-answer");
  F("RecordingUrl", r->rec_url);
  F("DateUpdated", now);
  F("EventType", "terminal");
  F("DateCreated", created);
  F("To", t->to);
  F("From", t->from);
  F("PhoneNumberSid", t->to);
  F("StartTime", created);
  F("EndTime", now);
  F("ConversationDuration", talk);
  F("Direction", "inbound");
  F("CustomField", "");
#undef F
  sim_buf_printf(&b, "--%s--\r\n", bnd);
  snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", bnd);
  if (!b.oom)
    (void)sim_inbound_http(t->status_url, ct, "User-Agent: Exotel\n",
                           b.ptr, b.len, NULL);
  sim_buf_free(&b);
}

/* The flow's static Gather between two Connects: the caller waits
 * exotel.wait_s seconds (a key pressed then goes to the next Connect). */
static int wait_gather(ex_run *r, char keys[40])
{
  sim_icall *t = r->t;
  char val[16];
  long s;

  keys[0] = '\0';
  if (caller_gone(r, "Gather"))
    return GO_END;
  sim_setting(t->v->sim, "exotel.wait_s", val, sizeof(val));
  s = strtol(val, NULL, 10);
  if (s < 1 || s > 600)
    s = 5;
  sim_inbound_digits(t, keys);
  if (keys[0]) {
    sim_inbound_log(t, "wait %s", keys);
    return GO_LOOP;
  }
  sim_inbound_log(t, "wait %ld", s);
  return sim_inbound_wait(t, (unsigned)s * t->pause_ms) ? GO_END : GO_LOOP;
}

static void *exin_run(void *arg)
{
  sim_icall *t = arg;
  ex_run r;
  char keys[40];
  long st;
  unsigned turns = 0;

  memset(&r, 0, sizeof(r));
  r.t = t;
  r.created_ms = sim_now_ms();
  snprintf(r.call_type, sizeof(r.call_type), "call-attempt");
  st = passthru(&r, "incoming", NULL);
  if (st != 200) {
    sim_inbound_log(t, st == 302 ? "hangup" : "error");
    goto end;
  }
  pthread_mutex_lock(&t->v->mu);
  {
    sim_vcall *c = sim_voice_find(t->v, t->sid);
    if (c != NULL) {
      snprintf(c->status, sizeof(c->status), "in-progress");
      c->answered_ms = sim_now_ms();
    }
  }
  pthread_mutex_unlock(&t->v->mu);
  if (run_gather(&r, keys) == GO_END)
    goto gone;
  for (;;) {
    if (++turns > t->max_fetches) {
      sim_inbound_log(t, "gave-up");
      break;
    }
    if (caller_gone(&r, "Connect") || run_connect(&r, keys) == GO_END)
      break;
    st = passthru(&r, "in_dial", NULL);
    if (st == 302) {
      sim_inbound_log(t, "hangup");
      break;
    }
    if (st != 200 || wait_gather(&r, keys) == GO_END)
      break;
  }
gone:
  pthread_mutex_lock(&t->v->mu);
  if (t->caller_gone) {
    pthread_mutex_unlock(&t->v->mu);
    sim_inbound_log(t, "caller-hangup");
  } else {
    pthread_mutex_unlock(&t->v->mu);
  }
end:
  pthread_mutex_lock(&t->v->mu);
  {
    sim_vcall *c = sim_voice_find(t->v, t->sid);
    if (c != NULL) {
      snprintf(c->status, sizeof(c->status), "%s",
               r.talk_secs > 0 ? "completed" : "no-answer");
      c->ended = 1;
      c->ended_ms = sim_now_ms();
    }
  }
  pthread_mutex_unlock(&t->v->mu);
  terminal(&r);
  sim_inbound_log(t, "%s", r.talk_secs > 0 ? "completed" : "no-answer");
  sim_inbound_finish(t);
  return NULL;
}

int vc_sim_exotel_incoming(vc_sim *s, const vc_sim_incoming *in,
                           char *sid_out)
{
  sim_voice *v = s ? sim_provider_state(s, "exotel") : NULL;
  sim_icall *t;
  sim_vcall *c;

  if (v == NULL || in == NULL || in->voice_url == NULL ||
      (strncmp(in->voice_url, "http://", 7) != 0 &&
       strncmp(in->voice_url, "https://", 8) != 0) ||
      strlen(in->voice_url) > 2000 || in->from == NULL || in->to == NULL ||
      strlen(in->from) >= 64 || strlen(in->to) >= 64)
    return -EINVAL;
  if ((t = sim_inbound_new(v, in)) == NULL)
    return -ENOMEM;
  t->fn = exin_run;
  pthread_mutex_lock(&v->mu);
  c = sim_voice_add(v);
  if (c != NULL) {
    sim_random_hex(c->id, 32);
    snprintf(t->sid, sizeof(t->sid), "%s", c->id);
    snprintf(c->to, sizeof(c->to), "%s", in->to);
    snprintf(c->from, sizeof(c->from), "%s", in->from);
    snprintf(c->caller_id, sizeof(c->caller_id), "%s", in->to);
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
    snprintf(sid_out, 33, "%s", t->sid);
  return sim_inbound_start(t);
}
