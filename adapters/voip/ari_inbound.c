/*
 * Asterisk ARI inbound calls: the "asterisk-ari" session's run_script.
 *
 * The dialplan sends a call for one of the tenant's numbers to the
 * Stasis application (docs/calls.md, "Asterisk inbound"). Its StasisStart
 * names a channel we did not originate: that is an arrival, told to the
 * core with vc_session_incoming() (from = the caller's number, to = the
 * extension dialled). The core answers with scripts (run_script), run
 * here step by step on the caller's channel: media steps answer the
 * channel first, then PLAY plays, PAUSE and GATHER run libre timers,
 * GATHER collects ChannelDtmfReceived, HOLD starts music on hold, DIAL
 * originates the target into the application and bridges it when it
 * answers, RECORD records the channel. A step that names a URL hands over
 * with vc_session_fetch() when it is done; the core's answer is the next
 * script, which replaces whatever runs (a playback stopped, timers
 * cancelled, a ringing leg hung up).
 *
 * Every id we make names the call: the dialled leg "vc-<call>-d<n>",
 * its bridge "vc-<call>-b", playbacks "vc-<call>-p<n>", the voicemail
 * "vc-<call>-v<n>", a dialled leg's recording "vc-<call>-r<n>". Requests
 * carry the call's serial, so an answer that comes after the call was
 * forgotten finds nothing. Everything is bounded: calls per session,
 * steps and string lengths of a script, digits, timers.
 */
#include "core/common.h"
#include "core/buf.h"
#include "adapters/voip/ari.h"
#include "adapters/voip/ari_sess.h"
#include "vyomcomm/sys/transport.h"

#include <errno.h>
#include <stdio.h>

#define IN_CALLS_MAX 1000       /* inbound calls one session follows */
#define STEPS_MAX 64            /* steps of one script */
#define STR_MAX 2048            /* one string of a step */
#define DIGITS_MAX 32           /* keys one GATHER collects */
#define LOOPS_MAX 100           /* plays of one PLAY */
#define PAUSE_MAX_S 3600
#define GATHER_TIMEOUT_S 5      /* a GATHER's default, as Twilio's */
#define RING_TIMEOUT_S 30       /* a DIAL's default */
#define RECORD_MAX_S 3600       /* a RECORD's longest and default */
#define RECORD_SILENCE_S 5      /* a RECORD's default silence */
#define SCRIPT_WAIT_MS 60000    /* for the core's first or next script */
#define MEDIA_MAX 1100

typedef struct in_step {
  int kind;
  char *text, *language, *url, *finish_on_key, *action_url, *target;
  char *caller_id;
  unsigned loop, num_digits;
  int timeout_s, time_limit_s, record;
} in_step;

typedef struct in_call {
  struct le le;
  ari_sess *s;
  uint64_t serial;
  char chan[ID_MAX];            /* the caller's channel */
  char id[CALL_ID_MAX];         /* the core's call id ("" until a script) */
  char from[64];
  int answered;                 /* 0 no, 2 being answered, 1 yes */
  int gone;                     /* the caller's channel ended */
  int hup_cause;
  int ended_told, end_deferred;
  vc_call_update end;           /* the caller's end, to tell */
  char end_eid[ID_MAX * 2], end_code[64];
  in_step *steps;
  size_t nsteps, pc;
  int gen;                      /* bumped by every script */
  int waiting;                  /* for the core's next script */
  int hanging;                  /* the script hung up */
  struct tmr tmr;               /* PAUSE, GATHER, the wait for a script */
  /* PLAY, SAY and a GATHER's prompt */
  char play[ID_MAX];
  unsigned nplay, loops_left;
  char media[MEDIA_MAX];
  int holding;
  /* GATHER */
  int gathering, prompt_done;
  char digits[DIGITS_MAX + 1];
  /* DIAL */
  char dial[ID_MAX];
  unsigned ndial;
  int dial_live, dial_up, dial_hup_cause, dial_gen;
  char bridge[ID_MAX];
  int bridged;
  struct tmr limit;             /* the DIAL's time limit */
  char rec[ID_MAX];             /* the DIAL's recording, live */
  unsigned nrec;
  /* RECORD */
  char vm[ID_MAX];              /* the voicemail, live */
  unsigned nvm;
  int vm_gen;
} in_call;

static void in_next(in_call *c);
static void in_maybe_free(in_call *c);
static void in_report(in_call *c, const vc_call_update *u);

/* The caller's end, held back while its voicemail was handed over. */
static void tell_end(in_call *c)
{
  if (!c->end_deferred)
    return;
  c->end_deferred = 0;
  c->ended_told = 1;
  in_report(c, &c->end);
}

/* ------------------------------------------------------------------ */
/* small things                                                        */

static in_call *by_serial(ari_sess *s, uint64_t serial)
{
  for (struct le *le = s->incalls.head; le != NULL; le = le->next) {
    in_call *c = le->data;
    if (c->serial == serial)
      return c;
  }
  return NULL;
}

static in_call *by_chan(ari_sess *s, const char *chan, int *dial)
{
  for (struct le *le = s->incalls.head; le != NULL; le = le->next) {
    in_call *c = le->data;
    if (strcmp(c->chan, chan) == 0) {
      *dial = 0;
      return c;
    }
    if (c->dial[0] != '\0' && strcmp(c->dial, chan) == 0) {
      *dial = 1;
      return c;
    }
  }
  return NULL;
}

static void in_log(in_call *c, int level, const char *what)
{
  char m[320];

  snprintf(m, sizeof(m), "ARI inbound %s: %s", c->id[0] ? c->id : c->chan,
           what);
  vc_session_log(c->s->host, level, m);
}

static void in_report(in_call *c, const vc_call_update *u)
{
  if (c->id[0] == '\0')
    return;
  if (vc_session_report(c->s->host, u) < 0)
    in_log(c, VC_LOG_WARN, vc_error_last()->message);
}

/* A request about call c, tagged with its serial and script. */
static int in_rest(in_call *c, int kind, const char *a, const char *b,
                   const vc__ari_originate *o, req_done_h *done)
{
  ari_req *r;
  int rc = vc__ari_rest(c->s, kind, a, b, o, done, c->id, 0, &r);

  if (rc == 0) {
    r->token = c->serial;
    r->step = c->gen;
    r->op = -1;
  }
  return rc;
}

static int in_rest_media(in_call *c, int kind, const char *id,
                         const vc__ari_media *m, req_done_h *done)
{
  vc_buf url = VC_BUF_INIT;
  const char *method;
  ari_req *r;
  int rc;

  if ((rc = vc__ari_media_url(&url, &method, c->s->cfg, kind, c->chan, id,
                              m)) == 0)
    rc = vc__ari_rest_url(c->s, method, url.ptr, done, &r);
  vc_buf_dispose(&url);
  if (rc == 0) {
    r->token = c->serial;
    r->step = c->gen;
    r->op = -1;
  }
  return rc;
}

static int ok_status(int err, int status)
{
  return err == 0 && status >= 200 && status < 300;
}

static void fail_text(char *m, size_t cap, const char *what, int err,
                      int status, const char *body, size_t len)
{
  char t[256];

  if (err != 0)
    snprintf(t, sizeof(t), "ARI unreachable: %s", strerror(err));
  else
    vc__ari_error_text(t, sizeof(t), status, body, len);
  snprintf(m, cap, "%s failed (%s)", what, t);
}

/* The script waits for the core's next one (after a fetch or at the
 * arrival), at most SCRIPT_WAIT_MS. */
static void wait_tmr(void *arg);

static void wait_script(in_call *c)
{
  c->waiting = 1;
  c->pc = c->nsteps;
  tmr_start(&c->tmr, SCRIPT_WAIT_MS, wait_tmr, c);
}

/* Ask the core for the next script; c may be gone after this. */
static void in_fetch(in_call *c, const char *url, const vc_call_update *u)
{
  ari_sess *s = c->s;
  uint64_t serial = c->serial;
  char id[CALL_ID_MAX];

  snprintf(id, sizeof(id), "%s", c->id);
  if (!c->gone)
    wait_script(c);
  if (vc_session_fetch(s->host, id, url, u) < 0) {
    char m[320];
    snprintf(m, sizeof(m), "ARI inbound %s: the next script could not be "
             "asked for: %s", id, vc_error_last()->message);
    vc_session_log(s->host, VC_LOG_WARN, m);
    if ((c = by_serial(s, serial)) != NULL && !c->gone && c->waiting)
      (void)in_rest(c, VC__ARI_HANGUP, c->chan, NULL, NULL,
                    vc__ari_ignore_done);
  }
}

/* ------------------------------------------------------------------ */
/* scripts                                                             */

static void steps_free(in_step *st, size_t n)
{
  for (size_t i = 0; st != NULL && i < n; i++) {
    vc__free(st[i].text);
    vc__free(st[i].language);
    vc__free(st[i].url);
    vc__free(st[i].finish_on_key);
    vc__free(st[i].action_url);
    vc__free(st[i].target);
    vc__free(st[i].caller_id);
  }
  vc__free(st);
}

static int dup_str(char **out, const char *v, const char *what)
{
  *out = NULL;
  if (v == NULL)
    return 0;
  if (strnlen(v, STR_MAX + 1) > STR_MAX)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a script's %s is longer than %d bytes", what,
                         STR_MAX);
  if ((*out = vc__strdup(v)) == NULL)
    return vc_error_set_oom();
  return 0;
}

static int steps_copy(in_step **out, const vc_call_script *sc)
{
  in_step *st;
  int rc = 0;

  *out = NULL;
  if (sc->nsteps > STEPS_MAX || (sc->nsteps > 0 && sc->steps == NULL))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a script of more than %d steps", STEPS_MAX);
  if (sc->nsteps == 0)
    return 0;
  if ((st = vc__calloc(sc->nsteps, sizeof(*st))) == NULL)
    return vc_error_set_oom();
  for (size_t i = 0; i < sc->nsteps && rc == 0; i++) {
    const vc_call_step *f = &sc->steps[i];
    in_step *t = &st[i];
    t->kind = f->kind;
    t->loop = f->loop;
    t->num_digits = f->num_digits;
    t->timeout_s = f->timeout_s;
    t->time_limit_s = f->time_limit_s;
    t->record = f->record;
    if ((rc = dup_str(&t->text, f->text, "text")) < 0 ||
        (rc = dup_str(&t->language, f->language, "language")) < 0 ||
        (rc = dup_str(&t->url, f->url, "url")) < 0 ||
        (rc = dup_str(&t->finish_on_key, f->finish_on_key,
                      "finish_on_key")) < 0 ||
        (rc = dup_str(&t->action_url, f->action_url, "action_url")) < 0 ||
        (rc = dup_str(&t->target, f->target, "target")) < 0 ||
        (rc = dup_str(&t->caller_id, f->caller_id, "caller_id")) < 0)
      break;
  }
  if (rc < 0) {
    steps_free(st, sc->nsteps);
    return rc;
  }
  *out = st;
  return 0;
}

static void dial_hangup_done(ari_req *r, int err, int status,
                             const char *body, size_t len);

/* Whatever the running script does stops: a new script replaces it. */
static void in_stop(in_call *c)
{
  tmr_cancel(&c->tmr);
  c->gathering = 0;
  c->waiting = 0;
  if (c->play[0] != '\0') {
    (void)in_rest(c, VC__ARI_PLAYBACK_STOP, c->play, NULL, NULL,
                  vc__ari_ignore_done);
    c->play[0] = '\0';
  }
  if (c->holding) {
    (void)in_rest(c, VC__ARI_MOH_STOP, c->chan, NULL, NULL,
                  vc__ari_ignore_done);
    c->holding = 0;
  }
  if (c->vm[0] != '\0') {
    /* Stopped: its RecordingFinished finds no step to hand over to. */
    (void)in_rest(c, VC__ARI_RECORD_STOP, c->vm, NULL, NULL,
                  vc__ari_ignore_done);
    c->vm_gen = -1;
  }
  if (c->dial_live) {
    /* The dialled leg goes; its end is still reported, not handed over. */
    tmr_cancel(&c->limit);
    c->dial_gen = -1;
    (void)in_rest(c, VC__ARI_HANGUP, c->dial, NULL, NULL, dial_hangup_done);
  }
}

int vc__ari_run_script(void *session, const char *call_id,
                       const char *provider_call_id,
                       const vc_call_script *script)
{
  ari_sess *s = session;
  in_call *c;
  in_step *steps;
  int dial = 0, rc;

  if (call_id == NULL || provider_call_id == NULL || script == NULL ||
      script->version < 1 || strnlen(call_id, CALL_ID_MAX) >= CALL_ID_MAX - 8)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "run_script needs a call id (at most %d bytes), "
                         "a channel and a script", CALL_ID_MAX - 9);
  if ((c = by_chan(s, provider_call_id, &dial)) == NULL || dial)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                         "channel '%.64s' is no inbound call of this "
                         "session", provider_call_id);
  if (c->id[0] != '\0' && strcmp(c->id, call_id) != 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "channel '%.64s' belongs to another call",
                         provider_call_id);
  if ((rc = steps_copy(&steps, script)) < 0)
    return rc;
  snprintf(c->id, sizeof(c->id), "%s", call_id);
  if (c->gone) {
    /* The caller hung up before the core knew the call: told now. */
    steps_free(steps, script->nsteps);
    tmr_cancel(&c->tmr);
    if (!c->ended_told && !c->end_deferred) {
      c->end.call_id = c->id;
      c->ended_told = 1;
      in_report(c, &c->end);
    }
    in_maybe_free(c);
    return 0;
  }
  in_stop(c);
  steps_free(c->steps, c->nsteps);
  c->steps = steps;
  c->nsteps = script->nsteps;
  c->pc = 0;
  c->gen++;
  c->hanging = 0;
  in_next(c);
  return 0;
}

/* ------------------------------------------------------------------ */
/* media                                                               */

static int play_start(in_call *c);

static void play_finished(in_call *c)
{
  if (c->gathering) {
    /* The prompt is over: the keys' timeout runs from now. */
    c->prompt_done = 1;
    return;
  }
  if (c->loops_left > 1) {
    c->loops_left--;
    if (play_start(c) == 0)
      return;
  }
  c->pc++;
  in_next(c);
}

static void gather_arm(in_call *c);

static void play_made(ari_req *r, int err, int status, const char *body,
                      size_t len)
{
  in_call *c = by_serial(r->s, r->token);
  char m[320];

  if (c == NULL || ok_status(err, status) || c->play[0] == '\0' ||
      strcmp(c->play, r->arg) != 0)
    return;
  fail_text(m, sizeof(m), "a playback", err, status, body, len);
  in_log(c, VC_LOG_WARN, m);
  c->play[0] = '\0';
  c->loops_left = 0;
  if (c->gathering) {
    c->prompt_done = 1;
    gather_arm(c);
  } else {
    play_finished(c);
  }
}

/* Play c->media (a new playback id each time): 0, or -1 (logged) when
 * the request cannot start. */
static int play_start(in_call *c)
{
  vc__ari_media m;
  const in_step *st = &c->steps[c->pc];
  ari_req *r = NULL;
  vc_buf url = VC_BUF_INIT;
  const char *method;
  int rc;

  snprintf(c->play, sizeof(c->play), "vc-%s-p%u", c->id, ++c->nplay);
  memset(&m, 0, sizeof(m));
  m.media = c->media;
  m.lang = st->language;
  if ((rc = vc__ari_media_url(&url, &method, c->s->cfg, VC__ARI_PLAY,
                              c->chan, c->play, &m)) == 0)
    rc = vc__ari_rest_url(c->s, method, url.ptr, play_made, &r);
  vc_buf_dispose(&url);
  if (rc < 0) {
    in_log(c, VC_LOG_WARN, vc_error_last()->message);
    c->play[0] = '\0';
    c->loops_left = 0;
    return -1;
  }
  r->token = c->serial;
  r->step = c->gen;
  r->op = -1;
  snprintf(r->arg, sizeof(r->arg), "%s", c->play);
  return 0;
}

/* The media a SAY or PLAY step plays: 0 with c->media set, or -1 when
 * Asterisk cannot (logged). */
static int step_media(in_call *c, const in_step *st)
{
  char m[200];

  if (st->kind == VC_STEP_SAY) {
    /* Asterisk has no speech of its own: only a text naming a sound
     * plays. */
    if (st->text != NULL && strncmp(st->text, "sound:", 6) == 0 &&
        vc__ari_media_uri(c->media, sizeof(c->media), st->text) == 0)
      return 0;
    vc_error_clear();
    in_log(c, VC_LOG_INFO, "SAY skipped: Asterisk has no speech (the text "
           "names no sound: file)");
    return -1;
  }
  if (vc__ari_media_uri(c->media, sizeof(c->media), st->url) == 0)
    return 0;
  snprintf(m, sizeof(m), "PLAY skipped: %s", vc_error_last()->message);
  vc_error_clear();
  in_log(c, VC_LOG_INFO, m);
  return -1;
}

static void pause_tmr(void *arg)
{
  in_call *c = arg;

  c->pc++;
  in_next(c);
}

/* ------------------------------------------------------------------ */
/* GATHER                                                              */

static void gather_end(in_call *c)
{
  const in_step *st = &c->steps[c->pc];
  vc_call_update u;
  char eid[ID_MAX * 2];

  c->gathering = 0;
  tmr_cancel(&c->tmr);
  if (c->play[0] != '\0') {
    (void)in_rest(c, VC__ARI_PLAYBACK_STOP, c->play, NULL, NULL,
                  vc__ari_ignore_done);
    c->play[0] = '\0';
  }
  if (st->action_url == NULL) {
    /* Nowhere to hand the keys: the script goes on. */
    c->pc++;
    in_next(c);
    return;
  }
  if (c->digits[0] == '\0') {
    in_fetch(c, st->action_url, NULL);
    return;
  }
  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.type = VC_UPDATE_DTMF;
  u.call_id = c->id;
  u.leg = VC_LEG_CUSTOMER;
  u.leg_provider_id = c->chan;
  u.digits = c->digits;
  u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
  snprintf(eid, sizeof(eid), "ari:%s:gather:%d:%zu:%s", c->chan, c->gen,
           c->pc, c->digits);
  u.event_id = eid;
  in_fetch(c, st->action_url, &u);
}

static void gather_tmr(void *arg)
{
  gather_end(arg);
}

/* The keys' timeout, from the end of the prompt or the last key. */
static void gather_arm(in_call *c)
{
  const in_step *st = &c->steps[c->pc];
  int t = st->timeout_s > 0 ? st->timeout_s : GATHER_TIMEOUT_S;

  if (t > PAUSE_MAX_S)
    t = PAUSE_MAX_S;
  tmr_start(&c->tmr, (uint64_t)t * 1000, gather_tmr, c);
}

static void gather_key(in_call *c, char key)
{
  const in_step *st = &c->steps[c->pc];
  const char *fin = st->finish_on_key ? st->finish_on_key : "#";
  size_t n = strlen(c->digits);

  if (c->play[0] != '\0') {
    /* A key stops the prompt. */
    (void)in_rest(c, VC__ARI_PLAYBACK_STOP, c->play, NULL, NULL,
                  vc__ari_ignore_done);
    c->play[0] = '\0';
    c->prompt_done = 1;
  }
  if (fin[0] != '\0' && key == fin[0]) {
    gather_end(c);
    return;
  }
  if (n < DIGITS_MAX) {
    c->digits[n++] = key;
    c->digits[n] = '\0';
  }
  if ((st->num_digits > 0 && n >= st->num_digits) || n >= DIGITS_MAX) {
    gather_end(c);
    return;
  }
  gather_arm(c);
}

/* ------------------------------------------------------------------ */
/* DIAL                                                                */

static void dial_ended(in_call *c, const vc__ari_event *ev);

static void dial_hangup_done(ari_req *r, int err, int status,
                             const char *body, size_t len)
{
  in_call *c = by_serial(r->s, r->token);
  vc__ari_event ev;

  if (c == NULL || !c->dial_live || status != 404) {
    vc__ari_ignore_done(r, err, status, body, len);
    return;
  }
  /* Gone already, its end unheard: ended now. */
  memset(&ev, 0, sizeof(ev));
  ev.type = VC__ARI_EV_DESTROYED;
  snprintf(ev.name, sizeof(ev.name), "ChannelDestroyed");
  snprintf(ev.channel_id, sizeof(ev.channel_id), "%s", c->dial);
  ev.cause = c->dial_up ? 16 : 0;
  snprintf(ev.cause_txt, sizeof(ev.cause_txt), "gone");
  dial_ended(c, &ev);
}

static void limit_tmr(void *arg)
{
  in_call *c = arg;

  in_log(c, VC_LOG_INFO, "the dialled leg reached its time limit");
  (void)in_rest(c, VC__ARI_HANGUP, c->dial, NULL, NULL, dial_hangup_done);
}

static void dial_originated(ari_req *r, int err, int status,
                            const char *body, size_t len)
{
  in_call *c = by_serial(r->s, r->token);
  vc__ari_event ev;
  char m[320];

  if (c == NULL || ok_status(err, status) || !c->dial_live)
    return;
  fail_text(m, sizeof(m), "dialling", err, status, body, len);
  in_log(c, VC_LOG_WARN, m);
  memset(&ev, 0, sizeof(ev));
  ev.type = VC__ARI_EV_DESTROYED;
  snprintf(ev.name, sizeof(ev.name), "ChannelDestroyed");
  snprintf(ev.channel_id, sizeof(ev.channel_id), "%s", c->dial);
  ev.cause = 38;  /* failure: reported unreachable */
  snprintf(ev.cause_txt, sizeof(ev.cause_txt), "originate failed");
  dial_ended(c, &ev);
}

static int dial_start(in_call *c, const in_step *st)
{
  vc_buf ep = VC_BUF_INIT;
  vc__ari_originate o;
  int rc;

  if (st->target == NULL ||
      (rc = vc__ari_endpoint(&ep, c->s->cfg->agent_endpoint,
                             st->target)) < 0) {
    vc_buf_dispose(&ep);
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "DIAL without a target an endpoint can hold");
  }
  snprintf(c->dial, sizeof(c->dial), "vc-%s-d%u", c->id, ++c->ndial);
  memset(&o, 0, sizeof(o));
  o.endpoint = ep.ptr;
  o.channel_id = c->dial;
  o.app_args = c->id;
  o.caller_id = st->caller_id ? st->caller_id
                : c->from[0] ? c->from : NULL;
  o.timeout_s = st->timeout_s > 0 && st->timeout_s <= 600 ? st->timeout_s
                                                           : RING_TIMEOUT_S;
  o.originator = c->chan;
  c->dial_live = 1;
  c->dial_up = 0;
  c->dial_hup_cause = -1;
  c->dial_gen = c->gen;
  rc = in_rest(c, VC__ARI_ORIGINATE, NULL, NULL, &o, dial_originated);
  vc_buf_dispose(&ep);
  if (rc < 0)
    c->dial_live = 0;
  return rc;
}

static void bridge_added(ari_req *r, int err, int status, const char *body,
                         size_t len)
{
  in_call *c = by_serial(r->s, r->token);
  char m[320];

  if (c == NULL || !c->dial_live)
    return;
  if (!ok_status(err, status)) {
    fail_text(m, sizeof(m), "the bridge", err, status, body, len);
    in_log(c, VC_LOG_WARN, m);
    (void)in_rest(c, VC__ARI_HANGUP, c->dial, NULL, NULL, dial_hangup_done);
    return;
  }
  c->bridged = 1;
  if (c->nsteps > 0 && c->pc < c->nsteps && c->dial_gen == c->gen &&
      c->steps[c->pc].record) {
    snprintf(c->rec, sizeof(c->rec), "vc-%s-r%u", c->id, ++c->nrec);
    if (in_rest(c, VC__ARI_RECORD, c->bridge, c->rec, NULL,
                vc__ari_ignore_done) < 0)
      c->rec[0] = '\0';
  }
}

static void bridge_made(ari_req *r, int err, int status, const char *body,
                        size_t len)
{
  in_call *c = by_serial(r->s, r->token);
  char both[ID_MAX * 2 + 2];

  if (c == NULL || !c->dial_live)
    return;
  if (!ok_status(err, status) && status != 409) {
    bridge_added(r, err, status, body, len);
    return;
  }
  snprintf(both, sizeof(both), "%s,%s", c->chan, c->dial);
  if (in_rest(c, VC__ARI_BRIDGE_ADD, c->bridge, both, NULL, bridge_added) < 0)
    bridge_added(r, ENOMEM, 0, NULL, 0);
}

/* The dialled leg answered: stop the caller's media, bridge them. */
static void dial_answered(in_call *c, const vc__ari_event *ev)
{
  const in_step *st = c->dial_gen == c->gen && c->pc < c->nsteps
                      ? &c->steps[c->pc] : NULL;
  vc_call_update u;
  vc_buf url = VC_BUF_INIT;
  char eid[ID_MAX * 2];

  if (c->dial_up)
    return;
  c->dial_up = 1;
  if (vc__ari_event_update(&u, ev, c->id, VC_LEG_AGENT, eid, sizeof(eid),
                           &url, c->s->cfg) == 0) {
    u.type = VC_UPDATE_ANSWERED;
    in_report(c, &u);
  }
  vc_buf_dispose(&url);
  if (c->gone || st == NULL) {
    (void)in_rest(c, VC__ARI_HANGUP, c->dial, NULL, NULL, dial_hangup_done);
    return;
  }
  if (c->play[0] != '\0') {
    (void)in_rest(c, VC__ARI_PLAYBACK_STOP, c->play, NULL, NULL,
                  vc__ari_ignore_done);
    c->play[0] = '\0';
  }
  if (c->holding) {
    (void)in_rest(c, VC__ARI_MOH_STOP, c->chan, NULL, NULL,
                  vc__ari_ignore_done);
    c->holding = 0;
  }
  if (st->time_limit_s > 0)
    tmr_start(&c->limit, (uint64_t)st->time_limit_s * 1000, limit_tmr, c);
  snprintf(c->bridge, sizeof(c->bridge), "vc-%s-b", c->id);
  if (in_rest(c, VC__ARI_BRIDGE_NEW, NULL, c->bridge, NULL, bridge_made) < 0)
    (void)in_rest(c, VC__ARI_HANGUP, c->dial, NULL, NULL, dial_hangup_done);
}

/* The dialled leg ended: reported; its DIAL hands over (or the script
 * goes on) while the caller is there. */
static void dial_ended(in_call *c, const vc__ari_event *ev)
{
  vc__ari_event e = *ev;
  vc_call_update u;
  vc_buf url = VC_BUF_INIT;
  char eid[ID_MAX * 2];
  const in_step *st;
  int mine;

  if (!c->dial_live)
    return;
  c->dial_live = 0;
  tmr_cancel(&c->limit);
  if (e.cause == 0 && c->dial_hup_cause > 0)
    e.cause = c->dial_hup_cause;
  mine = c->dial_gen == c->gen && !c->gone && c->pc < c->nsteps &&
         c->steps[c->pc].kind == VC_STEP_DIAL;
  if (c->bridge[0] != '\0') {
    (void)in_rest(c, VC__ARI_BRIDGE_DELETE, c->bridge, NULL, NULL,
                  vc__ari_ignore_done);
    c->bridge[0] = '\0';
    c->bridged = 0;
  }
  if (c->rec[0] != '\0')
    (void)in_rest(c, VC__ARI_RECORD_STOP, c->rec, NULL, NULL,
                  vc__ari_ignore_done);
  if (vc__ari_event_update(&u, &e, c->id, VC_LEG_AGENT, eid, sizeof(eid),
                           &url, c->s->cfg) < 0) {
    vc_buf_dispose(&url);
    in_maybe_free(c);
    return;
  }
  /* After it talked the leg ends normally whatever the far end said. */
  if (c->dial_up && u.cause != VC_CAUSE_NORMAL)
    u.cause = VC_CAUSE_NORMAL;
  in_report(c, &u);
  if (!mine) {
    vc_buf_dispose(&url);
    in_maybe_free(c);
    return;
  }
  st = &c->steps[c->pc];
  if (st->action_url == NULL) {
    vc_buf_dispose(&url);
    c->pc++;
    in_next(c);
    return;
  }
  in_fetch(c, st->action_url, &u);
  vc_buf_dispose(&url);
}

/* ------------------------------------------------------------------ */
/* RECORD                                                              */

static void vm_made(ari_req *r, int err, int status, const char *body,
                    size_t len)
{
  in_call *c = by_serial(r->s, r->token);
  vc_call_update u;
  char m[320], eid[ID_MAX * 2];

  if (c == NULL || ok_status(err, status) || c->vm[0] == '\0')
    return;
  fail_text(m, sizeof(m), "the recording", err, status, body, len);
  in_log(c, VC_LOG_WARN, m);
  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.type = VC_UPDATE_RECORDING;
  u.call_id = c->id;
  u.recording_id = c->vm;
  u.recording_status = VC_RECORDING_FAILED;
  u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
  snprintf(eid, sizeof(eid), "ari:%s:record-failed", c->vm);
  u.event_id = eid;
  {
    int mine = c->vm_gen == c->gen && c->pc < c->nsteps;
    const char *action = mine ? c->steps[c->pc].action_url : NULL;
    c->vm[0] = '\0';
    tell_end(c);
    if (mine && action != NULL && !c->gone) {
      in_fetch(c, action, &u);
      return;
    }
    if (mine && !c->gone) {
      c->pc++;
      in_next(c);
      return;
    }
    in_maybe_free(c);
  }
}

static int record_start(in_call *c, const in_step *st)
{
  vc__ari_media m;
  const char *k = st->finish_on_key ? st->finish_on_key : "#";

  memset(&m, 0, sizeof(m));
  m.max_s = st->time_limit_s > 0 && st->time_limit_s < RECORD_MAX_S
            ? st->time_limit_s : RECORD_MAX_S;
  m.silence_s = st->timeout_s > 0 ? (st->timeout_s < PAUSE_MAX_S
                                     ? st->timeout_s : PAUSE_MAX_S)
                                  : RECORD_SILENCE_S;
  /* ARI ends a recording on one key, '*' or '#', or on any. */
  m.terminate_on = k[0] == '\0' ? "none" : strchr(k, '#') ? "#"
                   : strchr(k, '*') ? "*" : "any";
  snprintf(c->vm, sizeof(c->vm), "vc-%s-v%u", c->id, ++c->nvm);
  c->vm_gen = c->gen;
  if (in_rest_media(c, VC__ARI_CHANNEL_RECORD, c->vm, &m, vm_made) < 0) {
    c->vm[0] = '\0';
    return -1;
  }
  return 0;
}

/* A recording of ours ended: a voicemail hands over, a dialled leg's is
 * reported as the call's. */
static void rec_event(in_call *c, const vc__ari_event *ev, int vm)
{
  vc_call_update u;
  vc_buf url = VC_BUF_INIT;
  char eid[ID_MAX * 2];
  int mine;
  const char *action;

  if (vc__ari_event_update(&u, ev, c->id, VC_LEG_NONE, eid, sizeof(eid),
                           &url, c->s->cfg) < 0) {
    vc_buf_dispose(&url);
    return;
  }
  if (!vm) {
    if (ev->type != VC__ARI_EV_REC_STARTED)
      c->rec[0] = '\0';
    in_report(c, &u);
    vc_buf_dispose(&url);
    in_maybe_free(c);
    return;
  }
  if (ev->type == VC__ARI_EV_REC_STARTED) {
    vc_buf_dispose(&url);
    return;
  }
  mine = c->vm_gen == c->gen && c->pc < c->nsteps &&
         c->steps[c->pc].kind == VC_STEP_RECORD;
  action = mine ? c->steps[c->pc].action_url : NULL;
  c->vm[0] = '\0';
  if (mine && action != NULL) {
    /* Handed over even when the caller hung up meanwhile (the usual end
     * of a voicemail); the caller's end is told after it. */
    uint64_t serial = c->serial;
    ari_sess *s = c->s;
    in_fetch(c, action, &u);
    vc_buf_dispose(&url);
    if ((c = by_serial(s, serial)) != NULL && c->end_deferred) {
      tell_end(c);
      in_maybe_free(c);
    }
    return;
  }
  vc_buf_dispose(&url);
  tell_end(c);
  if (mine && !c->gone) {
    c->pc++;
    in_next(c);
    return;
  }
  in_maybe_free(c);
}

/* ------------------------------------------------------------------ */
/* the interpreter                                                     */

static void answer_done(ari_req *r, int err, int status, const char *body,
                        size_t len)
{
  in_call *c = by_serial(r->s, r->token);
  char m[320];

  if (c == NULL || c->gone)
    return;
  if (!ok_status(err, status)) {
    fail_text(m, sizeof(m), "answering", err, status, body, len);
    in_log(c, VC_LOG_WARN, m);
    c->answered = 0;
    c->hanging = 1;
    (void)in_rest(c, VC__ARI_HANGUP, c->chan, NULL, NULL,
                  vc__ari_ignore_done);
    return;
  }
  c->answered = 1;
  in_next(c);
}

static int needs_media(int kind)
{
  return kind != VC_STEP_REDIRECT && kind != VC_STEP_HANGUP;
}

/* Run one step: 0 done (go on), 1 it waits for an event, a timer or
 * the core. */
static int run_step(in_call *c, const in_step *st)
{
  char m[320];
  int t;

  switch (st->kind) {
  case VC_STEP_SAY:
  case VC_STEP_PLAY:
    if (step_media(c, st) < 0)
      return 0;
    c->loops_left = st->loop == 0 ? 1 : st->loop > LOOPS_MAX ? LOOPS_MAX
                                                             : st->loop;
    return play_start(c) == 0 ? 1 : 0;
  case VC_STEP_PAUSE:
    t = st->timeout_s > 0 ? (st->timeout_s < PAUSE_MAX_S ? st->timeout_s
                                                         : PAUSE_MAX_S) : 1;
    tmr_start(&c->tmr, (uint64_t)t * 1000, pause_tmr, c);
    return 1;
  case VC_STEP_GATHER:
    c->gathering = 1;
    c->digits[0] = '\0';
    c->prompt_done = 1;
    gather_arm(c);
    if ((st->text != NULL && strncmp(st->text, "sound:", 6) == 0 &&
         vc__ari_media_uri(c->media, sizeof(c->media), st->text) == 0) ||
        (st->url != NULL &&
         vc__ari_media_uri(c->media, sizeof(c->media), st->url) == 0)) {
      /* The timeout runs from the prompt's end (or the first key). */
      tmr_cancel(&c->tmr);
      c->prompt_done = 0;
      c->loops_left = 1;
      if (play_start(c) < 0) {
        c->prompt_done = 1;
        gather_arm(c);
      }
    } else {
      vc_error_clear();
      if (st->text != NULL || st->url != NULL)
        in_log(c, VC_LOG_INFO, "GATHER's prompt skipped: Asterisk cannot "
               "play it");
    }
    return 1;
  case VC_STEP_HOLD:
    if (st->url != NULL)
      in_log(c, VC_LOG_INFO, "HOLD plays the channel's music-on-hold class, "
             "not its URL");
    if (in_rest(c, VC__ARI_MOH_START, c->chan, NULL, NULL,
                vc__ari_ignore_done) == 0)
      c->holding = 1;
    return 1;
  case VC_STEP_REDIRECT:
    if (st->url == NULL) {
      in_log(c, VC_LOG_WARN, "REDIRECT without a URL skipped");
      return 0;
    }
    in_fetch(c, st->url, NULL);
    return 1;
  case VC_STEP_DIAL:
    if (dial_start(c, st) == 0)
      return 1;
    snprintf(m, sizeof(m), "DIAL failed: %s", vc_error_last()->message);
    in_log(c, VC_LOG_WARN, m);
    if (st->action_url != NULL) {
      vc_call_update u;
      char eid[ID_MAX * 2];
      memset(&u, 0, sizeof(u));
      u.version = VC_CALL_UPDATE_VERSION;
      u.type = VC_UPDATE_ENDED;
      u.call_id = c->id;
      u.leg = VC_LEG_AGENT;
      u.cause = VC_CAUSE_PROVIDER_ERROR;
      u.provider_code = "dial failed";
      u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
      snprintf(eid, sizeof(eid), "ari:%s:dial-failed:%u", c->id, c->ndial);
      u.event_id = eid;
      in_fetch(c, st->action_url, &u);
      return 1;
    }
    return 0;
  case VC_STEP_RECORD:
    if (record_start(c, st) == 0)
      return 1;
    snprintf(m, sizeof(m), "RECORD failed: %s", vc_error_last()->message);
    in_log(c, VC_LOG_WARN, m);
    return 0;
  case VC_STEP_HANGUP:
    c->hanging = 1;
    c->pc = c->nsteps;
    (void)in_rest(c, VC__ARI_HANGUP, c->chan, NULL, NULL,
                  vc__ari_ignore_done);
    return 1;
  default:
    snprintf(m, sizeof(m), "a step of kind %d skipped", st->kind);
    in_log(c, VC_LOG_INFO, m);
    return 0;
  }
}

/* Run the script from c->pc until a step waits. A script that runs out
 * hangs up, as a provider's does. */
static void in_next(in_call *c)
{
  while (!c->gone && !c->waiting && !c->hanging && c->pc < c->nsteps) {
    const in_step *st = &c->steps[c->pc];
    int gen = c->gen, rc;
    size_t pc = c->pc;
    if (needs_media(st->kind) && c->answered != 1) {
      if (c->answered == 0) {
        c->answered = 2;
        if (in_rest(c, VC__ARI_ANSWER, c->chan, NULL, NULL,
                    answer_done) < 0) {
          c->answered = 0;
          in_log(c, VC_LOG_WARN, vc_error_last()->message);
          c->hanging = 1;
          (void)in_rest(c, VC__ARI_HANGUP, c->chan, NULL, NULL,
                        vc__ari_ignore_done);
        }
      }
      return;
    }
    rc = run_step(c, st);
    if (rc != 0 || gen != c->gen || pc != c->pc)
      return; /* it waits, or moved the script on itself */
    c->pc++;
  }
  if (!c->gone && !c->waiting && !c->hanging && c->nsteps > 0 &&
      c->pc >= c->nsteps) {
    c->hanging = 1;
    (void)in_rest(c, VC__ARI_HANGUP, c->chan, NULL, NULL,
                  vc__ari_ignore_done);
  }
}

static void wait_tmr(void *arg)
{
  in_call *c = arg;

  if (c->gone) {
    /* The core never took up a call that is over: forgotten. */
    c->ended_told = 1;
    in_maybe_free(c);
    return;
  }
  in_log(c, VC_LOG_WARN, "no script came for the call in 60 s: hung up");
  c->waiting = 0;
  c->hanging = 1;
  (void)in_rest(c, VC__ARI_HANGUP, c->chan, NULL, NULL, vc__ari_ignore_done);
}

/* ------------------------------------------------------------------ */
/* arrival, the caller's end, events                                   */

static void in_free(in_call *c)
{
  tmr_cancel(&c->tmr);
  tmr_cancel(&c->limit);
  list_unlink(&c->le);
  c->s->nincalls--;
  steps_free(c->steps, c->nsteps);
  vc__free(c);
}

static void in_maybe_free(in_call *c)
{
  if (c == NULL || !c->gone || !c->ended_told || c->end_deferred ||
      c->dial_live || c->vm[0] != '\0')
    return;
  in_free(c);
}

static void arrive(ari_sess *s, const vc__ari_event *ev)
{
  vc_call_update u;
  in_call *c;
  char eid[ID_MAX * 2], m[320];
  uint64_t serial;

  if (s->nincalls >= IN_CALLS_MAX || ev->exten[0] == '\0') {
    snprintf(m, sizeof(m), "ARI inbound channel %s refused: %s", ev->channel_id,
             ev->exten[0] == '\0' ? "the dialplan gave no extension (the "
             "number called)" : "too many inbound calls on this session");
    vc_session_log(s->host, VC_LOG_WARN, m);
    (void)vc__ari_rest(s, VC__ARI_HANGUP, ev->channel_id, NULL, NULL,
                       vc__ari_ignore_done, NULL, 0, NULL);
    return;
  }
  if ((c = vc__calloc(1, sizeof(*c))) == NULL) {
    vc_session_log(s->host, VC_LOG_ERROR, "ARI inbound: out of memory");
    return;
  }
  c->s = s;
  c->serial = ++s->in_serial;
  snprintf(c->chan, sizeof(c->chan), "%s", ev->channel_id);
  snprintf(c->from, sizeof(c->from), "%s", ev->caller_num);
  c->hup_cause = -1;
  c->dial_gen = -1;
  c->vm_gen = -1;
  tmr_init(&c->tmr);
  tmr_init(&c->limit);
  list_append(&s->incalls, &c->le, c);
  s->nincalls++;
  serial = c->serial;
  wait_script(c);
  memset(&u, 0, sizeof(u));
  u.version = VC_CALL_UPDATE_VERSION;
  u.type = VC_UPDATE_INCOMING;
  u.provider_call_id = c->chan;
  u.from = c->from[0] ? c->from : NULL;
  u.to = ev->exten;
  u.occurred_at = ev->at_ms;
  u.jitter_ms = u.packet_loss_pct = u.rtt_ms = u.mos = -1;
  vc__ari_event_id(eid, sizeof(eid), ev, NULL);
  u.event_id = eid;
  if (vc_session_incoming(s->host, &u) < 0) {
    snprintf(m, sizeof(m), "ARI inbound channel %s refused: %s",
             ev->channel_id, vc_error_last()->message);
    vc_session_log(s->host, VC_LOG_WARN, m);
    if ((c = by_serial(s, serial)) != NULL && c->id[0] == '\0') {
      (void)in_rest(c, VC__ARI_HANGUP, c->chan, NULL, NULL,
                    vc__ari_ignore_done);
      in_free(c);
    }
  }
}

/* The caller's channel ended (or left the application). */
static void caller_gone(in_call *c, const vc__ari_event *ev)
{
  vc__ari_event e = *ev;
  vc_buf url = VC_BUF_INIT;

  if (c->gone)
    return;
  c->gone = 1;
  tmr_cancel(&c->tmr);
  c->gathering = 0;
  c->play[0] = '\0';
  if (e.cause <= 0)
    e.cause = c->hup_cause > 0 ? c->hup_cause : 16;
  if (vc__ari_event_update(&c->end, &e, NULL, VC_LEG_CUSTOMER, c->end_eid,
                           sizeof(c->end_eid), &url, c->s->cfg) == 0) {
    c->end.type = VC_UPDATE_ENDED;
    c->end.cause = vc__ari_cause(e.cause);
    snprintf(c->end_code, sizeof(c->end_code), "%s", e.cause_txt);
    c->end.provider_code = c->end_code[0] ? c->end_code : NULL;
    c->end.leg_provider_id = c->chan;
  }
  vc_buf_dispose(&url);
  if (c->dial_live)
    (void)in_rest(c, VC__ARI_HANGUP, c->dial, NULL, NULL, dial_hangup_done);
  if (c->id[0] == '\0') {
    /* Told once the core's first script names the call. */
    tmr_start(&c->tmr, SCRIPT_WAIT_MS, wait_tmr, c);
    return;
  }
  c->end.call_id = c->id;
  if (c->vm[0] != '\0') {
    /* The recording ends with the channel: it is handed over first. */
    c->end_deferred = 1;
    return;
  }
  c->ended_told = 1;
  in_report(c, &c->end);
  in_maybe_free(c);
}

static void on_caller(in_call *c, const vc__ari_event *ev)
{
  vc_call_update u;
  vc_buf url = VC_BUF_INIT;
  char eid[ID_MAX * 2];

  switch (ev->type) {
  case VC__ARI_EV_HANGUP_REQUEST:
    if (ev->cause > 0)
      c->hup_cause = ev->cause;
    break;
  case VC__ARI_EV_STASIS_END:
  case VC__ARI_EV_DESTROYED:
    caller_gone(c, ev);
    break;
  case VC__ARI_EV_DTMF:
    if (c->gathering && !c->gone) {
      gather_key(c, ev->digit[0]);
    } else if (c->bridged &&
               vc__ari_event_update(&u, ev, c->id, VC_LEG_CUSTOMER, eid,
                                    sizeof(eid), &url, c->s->cfg) == 0) {
      in_report(c, &u);
    }
    break;
  default:
    break;
  }
  vc_buf_dispose(&url);
}

static void on_dial(in_call *c, const vc__ari_event *ev)
{
  vc_call_update u;
  vc_buf url = VC_BUF_INIT;
  char eid[ID_MAX * 2];

  if (!c->dial_live)
    return;
  switch (ev->type) {
  case VC__ARI_EV_STATE:
    if (!c->dial_up &&
        vc__ari_event_update(&u, ev, c->id, VC_LEG_AGENT, eid, sizeof(eid),
                             &url, c->s->cfg) == 0 && u.type != 0)
      in_report(c, &u);
    break;
  case VC__ARI_EV_STASIS_START:
    if (strcmp(ev->arg0, c->id) == 0)
      dial_answered(c, ev);
    break;
  case VC__ARI_EV_HANGUP_REQUEST:
    if (ev->cause > 0)
      c->dial_hup_cause = ev->cause;
    break;
  case VC__ARI_EV_DESTROYED:
    dial_ended(c, ev);
    break;
  case VC__ARI_EV_DTMF:
    if (c->bridged &&
        vc__ari_event_update(&u, ev, c->id, VC_LEG_AGENT, eid, sizeof(eid),
                             &url, c->s->cfg) == 0)
      in_report(c, &u);
    break;
  default:
    break;
  }
  vc_buf_dispose(&url);
}

int vc__ari_in_event(ari_sess *s, const vc__ari_event *ev)
{
  in_call *c;
  int dial = 0;

  if (ev->type == VC__ARI_EV_PLAY_STARTED ||
      ev->type == VC__ARI_EV_PLAY_FINISHED) {
    for (struct le *le = s->incalls.head; le != NULL; le = le->next) {
      c = le->data;
      if (c->play[0] != '\0' && strcmp(c->play, ev->playback) == 0) {
        if (ev->type == VC__ARI_EV_PLAY_FINISHED) {
          c->play[0] = '\0';
          if (c->gathering)
            gather_arm(c);
          play_finished(c);
        }
        break;
      }
    }
    return 1; /* only inbound calls play */
  }
  if (ev->type == VC__ARI_EV_REC_STARTED ||
      ev->type == VC__ARI_EV_REC_FINISHED ||
      ev->type == VC__ARI_EV_REC_FAILED) {
    for (struct le *le = s->incalls.head; le != NULL; le = le->next) {
      c = le->data;
      if (c->vm[0] != '\0' && strcmp(c->vm, ev->recording) == 0) {
        rec_event(c, ev, 1);
        return 1;
      }
      if (c->rec[0] != '\0' && strcmp(c->rec, ev->recording) == 0) {
        rec_event(c, ev, 0);
        return 1;
      }
    }
    return 0;
  }
  if (ev->channel_id[0] == '\0')
    return 0;
  if ((c = by_chan(s, ev->channel_id, &dial)) != NULL) {
    if (dial)
      on_dial(c, ev);
    else
      on_caller(c, ev);
    return 1;
  }
  /* A channel we did not originate (ours are all "vc-...") entering the
   * application: a call arriving. */
  if (ev->type == VC__ARI_EV_STASIS_START &&
      strncmp(ev->channel_id, "vc-", 3) != 0) {
    arrive(s, ev);
    return 1;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* reconnects and close                                                */

static void resynced(ari_req *r, int err, int status, const char *body,
                     size_t len)
{
  in_call *c = by_serial(r->s, r->token);
  vc__ari_event ev;

  VC_UNUSED(body);
  VC_UNUSED(len);
  if (c == NULL || err != 0 || status != 404)
    return; /* alive, or no answer: the next reconnect asks again */
  memset(&ev, 0, sizeof(ev));
  ev.type = VC__ARI_EV_DESTROYED;
  snprintf(ev.name, sizeof(ev.name), "ChannelDestroyed");
  snprintf(ev.cause_txt, sizeof(ev.cause_txt), "gone at resync");
  ev.cause = 16;
  if (r->leg == 1) {
    snprintf(ev.channel_id, sizeof(ev.channel_id), "%s", c->dial);
    dial_ended(c, &ev);
  } else {
    snprintf(ev.channel_id, sizeof(ev.channel_id), "%s", c->chan);
    caller_gone(c, &ev);
  }
}

void vc__ari_in_resync(ari_sess *s)
{
  for (struct le *le = s->incalls.head; le != NULL; le = le->next) {
    in_call *c = le->data;
    ari_req *r;
    if (!c->gone &&
        vc__ari_rest(s, VC__ARI_CHANNEL_GET, c->chan, NULL, NULL, resynced,
                     c->id, 0, &r) == 0)
      r->token = c->serial;
    if (c->dial_live &&
        vc__ari_rest(s, VC__ARI_CHANNEL_GET, c->dial, NULL, NULL, resynced,
                     c->id, 1, &r) == 0)
      r->token = c->serial;
  }
}

void vc__ari_in_close(ari_sess *s)
{
  struct le *le;

  while ((le = s->incalls.head) != NULL)
    in_free(le->data);
}
