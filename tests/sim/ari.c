/*
 * Asterisk REST Interface (ARI), as a Stasis application sees it:
 *
 *   GET    /ari/events?app=<name>[&subscribeAll=true]   WebSocket of events
 *   GET    /ari/channels                                list
 *   POST   /ari/channels, /ari/channels/{channelId}     originate
 *   GET    /ari/channels/{channelId}                    get
 *   DELETE /ari/channels/{channelId}                    hangup
 *   POST|DELETE /ari/channels/{id}/hold, /moh           hold, music on hold
 *   POST   /ari/channels/{id}/redirect, /continue, /dtmf
 *   GET    /ari/bridges, POST /ari/bridges[/{bridgeId}] create
 *   GET|DELETE /ari/bridges/{bridgeId}
 *   POST   /ari/bridges/{id}/addChannel, /removeChannel, /record
 *   GET    /ari/recordings/live/{name}, POST .../stop
 *   GET|DELETE /ari/recordings/stored/{name}, GET /ari/recordings/stored
 *
 * Paths, parameter names, models and status codes follow the api-docs
 * (channels.json, bridges.json, events.json); errors are {"message": ...}.
 * Auth is HTTP Basic or ?api_key=user:password (ari.username,
 * ari.password). An originated channel rings by its number's call plan
 * (vc_sim_call_plan_set(s, "ari", ...)); answered, it enters its Stasis
 * application. The REST side runs on the libre thread, the life of each
 * channel on loop timers (sim_later), so all ARI state is the libre
 * thread's: sim.h's control functions (ari_control.c) reach it through
 * sim_run(). Only the shared voice part (plans, the status table) is
 * under v.mu.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "ari_int.h"


static const char *const ari_defaults[] = {
  "username", VC_SIM_ARI_USERNAME,
  "password", VC_SIM_ARI_PASSWORD,
  "asterisk_id", VC_SIM_ARI_ASTERISK_ID,
  "ring_ms", VC_SIM_VOICE_RING_MS,
  "talk_ms", VC_SIM_VOICE_TALK_MS,
  /* "1": a bridge recording fails (RecordingFailed) once started. */
  "record_fail", "0",
  /* How long one media URI of a playback plays. */
  "play_ms", "200",
  NULL
};

/* Channel technologies the simulated Asterisk has loaded. */
static const char *const ari_techs[] = {
  "PJSIP", "SIP", "IAX2", "DAHDI", "Local", NULL
};

static const char *const ari_formats[] = {
  "wav", "gsm", "ulaw", "alaw", "sln", "g722", "wav49", NULL
};

/* ---- small helpers ---------------------------------------------------- */

/* ARI's time format: ISO 8601, milliseconds and a numeric zone (UTC). */
static void ari_time(char out[40], int64_t ms)
{
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  char d[24];

  gmtime_r(&t, &tm);
  strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 40, "%s.%03d+0000", d, (int)(ms % 1000));
}

void ari_error(sim_resp *rs, int status, const char *msg)
{
  sim_buf_free(&rs->body);
  rs->status = status;
  rs->content_type = "application/json";
  sim_buf_str(&rs->body, "{\"message\": ");
  sim_buf_json_str(&rs->body, msg);
  sim_buf_str(&rs->body, "}");
}

void ari_no_content(sim_resp *rs)
{
  rs->status = 204;
  rs->content_type = NULL;
}

int ari_in_list(const char *const *l, const char *s)
{
  for (; *l; l++)
    if (strcmp(*l, s) == 0)
      return 1;
  return 0;
}

/* Asterisk's ast_true(). */
int ari_true(const char *s)
{
  return s && (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
               strcasecmp(s, "y") == 0 || strcasecmp(s, "t") == 0 ||
               strcmp(s, "1") == 0 || strcasecmp(s, "on") == 0);
}

/* A decimal integer in [lo, hi]; 0, or -1 when malformed. */
int ari_int(const char *s, long lo, long hi, long *out)
{
  char *end;
  long v;

  if (s == NULL || *s == '\0')
    return -1;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

/* Q.850 cause texts as Asterisk's ast_cause2str() gives them. */
static const char *cause_txt(int cause)
{
  switch (cause) {
  case 1: return "Unallocated (unassigned) number";
  case 3: return "No route to destination";
  case 16: return "Normal Clearing";
  case 17: return "User busy";
  case 18: return "No user responding";
  case 19: return "User alerted, no answer";
  case 21: return "Call Rejected";
  case 26: return "Answered elsewhere";
  case 27: return "Destination out of order";
  case 28: return "Invalid number format (incomplete number)";
  case 31: return "Normal, unspecified";
  case 34: return "Circuit/channel congestion";
  case 38: return "Network out of order";
  case 41: return "Temporary failure";
  case 58: return "Bearer capability not available";
  case 127: return "Interworking, unspecified";
  default: return "Unknown";
  }
}

/* The hangup reasons of DELETE /channels/{id}?reason= and their causes. */
static int reason_cause(const char *r)
{
  static const struct { const char *name; int cause; } t[] = {
    { "normal", 16 }, { "busy", 17 }, { "congestion", 34 },
    { "no_answer", 19 }, { "timeout", 18 }, { "rejected", 21 },
    { "unallocated", 1 }, { "normal_unspecified", 31 },
    { "number_incomplete", 28 }, { "codec_mismatch", 58 },
    { "interworking", 127 }, { "failure", 38 },
    { "answered_elsewhere", 26 },
  };
  size_t i;

  for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    if (strcmp(r, t[i].name) == 0)
      return t[i].cause;
  return -1;
}

static void set_status(ari_state *st, ari_chan *c, const char *status,
                       int ended)
{
  if (c->vc == NULL)
    return;
  pthread_mutex_lock(&st->v.mu);
  snprintf(c->vc->status, sizeof(c->vc->status), "%s", status);
  if (ended) {
    c->vc->ended = 1;
    c->vc->ended_ms = sim_now_ms();
  }
  if (strcmp(status, "Up") == 0)
    c->vc->answered_ms = sim_now_ms();
  pthread_mutex_unlock(&st->v.mu);
}

/* ---- lookups ---------------------------------------------------------- */

/* A live channel by id, or NULL. */
ari_chan *ari_chan_find(ari_state *st, const char *id)
{
  size_t i;

  for (i = st->nchans; i-- > 0; )
    if (!st->chans[i]->ended && strcmp(st->chans[i]->id, id) == 0)
      return st->chans[i];
  return NULL;
}

/* The newest channel, live or not, by id or endpoint. */
ari_chan *ari_chan_any(ari_state *st, const char *key)
{
  size_t i;

  for (i = st->nchans; i-- > 0; )
    if (key == NULL || strcmp(st->chans[i]->id, key) == 0 ||
        strcmp(st->chans[i]->endpoint, key) == 0)
      return st->chans[i];
  return NULL;
}

static ari_bridge *bridge_find(ari_state *st, const char *id)
{
  size_t i;

  for (i = 0; i < st->nbridges; i++)
    if (!st->bridges[i]->gone && strcmp(st->bridges[i]->id, id) == 0)
      return st->bridges[i];
  return NULL;
}

static ari_rec *rec_find(ari_state *st, const char *name, int stored)
{
  size_t i;

  for (i = st->nrecs; i-- > 0; ) {
    ari_rec *r = st->recs[i];
    if (!r->deleted && strcmp(r->name, name) == 0 &&
        (stored ? r->stored : (strcmp(r->state, "queued") == 0 ||
                               strcmp(r->state, "recording") == 0)))
      return r;
  }
  return NULL;
}

/* ---- models ----------------------------------------------------------- */

void ari_chan_json(sim_buf *b, const ari_chan *c)
{
  char t[40];

  ari_time(t, c->created_ms);
  sim_buf_str(b, "{\"id\": ");
  sim_buf_json_str(b, c->id);
  sim_buf_str(b, ", \"name\": ");
  sim_buf_json_str(b, c->name);
  sim_buf_str(b, ", \"state\": ");
  sim_buf_json_str(b, c->state);
  sim_buf_str(b, ", \"protocol_id\": ");
  sim_buf_json_str(b, c->protocol_id);
  sim_buf_str(b, ", \"caller\": {\"name\": ");
  sim_buf_json_str(b, c->caller_name);
  sim_buf_str(b, ", \"number\": ");
  sim_buf_json_str(b, c->caller_num);
  sim_buf_str(b, "}, \"connected\": {\"name\": \"\", \"number\": \"\"}, "
              "\"accountcode\": \"\", \"dialplan\": {\"context\": ");
  sim_buf_json_str(b, c->context);
  sim_buf_str(b, ", \"exten\": ");
  sim_buf_json_str(b, c->exten);
  sim_buf_printf(b, ", \"priority\": %ld, \"app_name\": ", c->priority);
  if (c->in_stasis) {
    char data[600];
    snprintf(data, sizeof(data), "%s%s%s", c->app, c->args[0] ? "," : "",
             c->args);
    sim_buf_str(b, "\"Stasis\", \"app_data\": ");
    sim_buf_json_str(b, data);
  } else {
    sim_buf_str(b, "\"\", \"app_data\": \"\"");
  }
  sim_buf_printf(b, "}, \"creationtime\": \"%s\", \"language\": \"en\"", t);
  if (c->vars != NULL) {
    sim_buf_str(b, ", \"channelvars\": ");
    sim_buf_str(b, c->vars);
  }
  sim_buf_str(b, "}");
}

static void bridge_json(sim_buf *b, const ari_bridge *br)
{
  char t[40];
  size_t i;

  ari_time(t, br->created_ms);
  sim_buf_str(b, "{\"id\": ");
  sim_buf_json_str(b, br->id);
  /* Two parties mix natively; more need the softmix technology. */
  sim_buf_printf(b, ", \"technology\": \"%s\", \"bridge_type\": \"%s\", "
                 "\"bridge_class\": \"stasis\", \"creator\": \"Stasis\", "
                 "\"name\": ", br->n > 2 ? "softmix" : "simple_bridge",
                 strstr(br->type, "holding") ? "holding" : "mixing");
  sim_buf_json_str(b, br->name);
  sim_buf_str(b, ", \"channels\": [");
  for (i = 0; i < br->n; i++) {
    if (i)
      sim_buf_str(b, ", ");
    sim_buf_json_str(b, br->chans[i]);
  }
  sim_buf_printf(b, "], \"creationtime\": \"%s\"}", t);
}

static void rec_json(sim_buf *b, const ari_rec *r)
{
  sim_buf_str(b, "{\"name\": ");
  sim_buf_json_str(b, r->name);
  sim_buf_str(b, ", \"format\": ");
  sim_buf_json_str(b, r->format);
  if (r->stored) {
    sim_buf_str(b, "}");
    return;
  }
  sim_buf_str(b, ", \"target_uri\": ");
  sim_buf_json_str(b, r->target);
  sim_buf_printf(b, ", \"state\": \"%s\"", r->state);
  if (strcmp(r->state, "done") == 0)
    sim_buf_printf(b, ", \"duration\": %ld", r->duration);
  if (strcmp(r->state, "failed") == 0)
    sim_buf_str(b, ", \"cause\": \"Recording failed\"");
  sim_buf_str(b, "}");
}

/* ---- events ----------------------------------------------------------- */

static int sock_has(const ari_sock *k, const char *app)
{
  size_t i;

  for (i = 0; i < k->napps; i++)
    if (strcmp(k->apps[i], app) == 0)
      return 1;
  return 0;
}

/*
 * Send an event to the sockets that see it: those subscribed to `app`
 * (and those subscribed to all events); app NULL: every socket (bridge
 * and recording events, which the simulator does not tie to one app).
 * `fields` are the event's own members, each starting with ", ".
 */
void ari_emit(ari_state *st, const char *app, const char *type,
              const sim_buf *fields)
{
  char t[40], aid[64];
  size_t i;

  ari_time(t, sim_now_ms());
  sim_setting(st->sim, "ari.asterisk_id", aid, sizeof(aid));
  for (i = 0; i < st->nsocks; i++) {
    ari_sock *k = st->socks[i];
    const char *to;
    sim_buf m = { 0 };

    if (app == NULL || *app == '\0')
      to = app == NULL || k->all ? k->apps[0] : NULL;
    else
      to = sock_has(k, app) ? app : k->all ? k->apps[0] : NULL;
    if (to == NULL)
      continue;
    sim_buf_printf(&m, "{\"type\": \"%s\", \"timestamp\": \"%s\"", type, t);
    if (fields->len)
      sim_buf_add(&m, fields->ptr, fields->len);
    sim_buf_str(&m, ", \"asterisk_id\": ");
    sim_buf_json_str(&m, aid);
    sim_buf_str(&m, ", \"application\": ");
    sim_buf_json_str(&m, to);
    sim_buf_str(&m, "}");
    if (!m.oom)
      (void)sim_ws_send(k->ws, m.ptr, m.len);
    sim_buf_free(&m);
  }
}

/* An event whose only model is the channel. */
void ari_emit_chan(ari_state *st, const ari_chan *c, const char *type)
{
  sim_buf f = { 0 };

  sim_buf_str(&f, ", \"channel\": ");
  ari_chan_json(&f, c);
  ari_emit(st, c->app, type, &f);
  sim_buf_free(&f);
}

void ari_emit_dial(ari_state *st, const ari_chan *c, const char *status)
{
  ari_chan *caller = c->originator[0] ? ari_chan_find(st, c->originator) : NULL;
  sim_buf f = { 0 };

  if (caller != NULL) {
    sim_buf_str(&f, ", \"caller\": ");
    ari_chan_json(&f, caller);
  }
  sim_buf_str(&f, ", \"peer\": ");
  ari_chan_json(&f, c);
  sim_buf_str(&f, ", \"dialstring\": ");
  sim_buf_json_str(&f, c->resource);
  sim_buf_str(&f, ", \"dialstatus\": ");
  sim_buf_json_str(&f, status);
  ari_emit(st, c->app, "Dial", &f);
  sim_buf_free(&f);
}

static void emit_bridge(ari_state *st, const ari_bridge *br,
                        const ari_chan *c, const char *type)
{
  sim_buf f = { 0 };

  sim_buf_str(&f, ", \"bridge\": ");
  bridge_json(&f, br);
  if (c != NULL) {
    sim_buf_str(&f, ", \"channel\": ");
    ari_chan_json(&f, c);
    ari_emit(st, c->app, type, &f);
  } else {
    ari_emit(st, NULL, type, &f);
  }
  sim_buf_free(&f);
}

void ari_emit_rec(ari_state *st, const ari_rec *r, const char *type)
{
  sim_buf f = { 0 };

  sim_buf_str(&f, ", \"recording\": ");
  rec_json(&f, r);
  ari_emit(st, NULL, type, &f);
  sim_buf_free(&f);
}

void ari_set_state(ari_state *st, ari_chan *c, const char *state)
{
  snprintf(c->state, sizeof(c->state), "%s", state);
  set_status(st, c, state, 0);
  ari_emit_chan(st, c, "ChannelStateChange");
}

/* ---- bridges and recordings ------------------------------------------- */

static void bridge_leave(ari_state *st, ari_bridge *br, ari_chan *c)
{
  size_t i;

  for (i = 0; i < br->n; i++)
    if (strcmp(br->chans[i], c->id) == 0)
      break;
  if (i == br->n)
    return;
  memmove(br->chans[i], br->chans[i + 1], (br->n - i - 1) *
          sizeof(br->chans[0]));
  br->n--;
  c->bridge[0] = '\0';
  emit_bridge(st, br, c, "ChannelLeftBridge");
}

void ari_rec_finish(ari_state *st, ari_rec *r)
{
  ari_rec *old;

  if (strcmp(r->state, "recording") != 0 && strcmp(r->state, "queued") != 0)
    return;
  r->gen++;
  snprintf(r->state, sizeof(r->state), "done");
  r->duration = (long)((sim_now_ms() - r->started_ms + 500) / 1000);
  ari_emit_rec(st, r, "RecordingFinished");
  /* Kept as a stored recording, replacing one of the same name. */
  while ((old = rec_find(st, r->name, 1)) != NULL)
    old->deleted = 1;
  r->stored = 1;
}

static void bridge_destroy(ari_state *st, ari_bridge *br)
{
  size_t i;

  while (br->n > 0) {
    ari_chan *c = ari_chan_find(st, br->chans[br->n - 1]);
    if (c != NULL) {
      bridge_leave(st, br, c);
    } else {
      br->n--;
    }
  }
  for (i = 0; i < st->nrecs; i++)
    if (strncmp(st->recs[i]->target, "bridge:", 7) == 0 &&
        strcmp(st->recs[i]->target + 7, br->id) == 0)
      ari_rec_finish(st, st->recs[i]);
  br->gone = 1;
  emit_bridge(st, br, NULL, "BridgeDestroyed");
}

/* ---- a channel's life ------------------------------------------------- */

typedef struct ari_step {
  char id[64];
  unsigned gen;
  int step;
} ari_step;

static void step_run(vc_sim *sim, void *arg);

void ari_step_later(ari_state *st, ari_chan *c, int step, unsigned ms)
{
  ari_step s;

  memset(&s, 0, sizeof(s));
  memcpy(s.id, c->id, sizeof(s.id));
  s.gen = c->gen;
  s.step = step;
  (void)sim_later(st->sim, ms, step_run, &s, sizeof(s));
}

/*
 * The channel ends: a hangup request when `request` (1 far end, 2 a
 * soft hangup from the API), the bridge left, Stasis ended, destroyed.
 */
void ari_chan_end(ari_state *st, ari_chan *c, int cause, int request)
{
  ari_bridge *br;

  if (c->ended)
    return;
  if (request) {
    sim_buf f = { 0 };
    sim_buf_printf(&f, ", \"cause\": %d", cause);
    if (request == 2)
      sim_buf_str(&f, ", \"soft\": true");
    sim_buf_str(&f, ", \"channel\": ");
    ari_chan_json(&f, c);
    ari_emit(st, c->app, "ChannelHangupRequest", &f);
    sim_buf_free(&f);
  }
  if (c->dialing) {
    c->dialing = 0;
    ari_emit_dial(st, c, "CANCEL");
  }
  ari_in_chan_ending(st, c);
  if (c->bridge[0] && (br = bridge_find(st, c->bridge)) != NULL)
    bridge_leave(st, br, c);
  if (c->in_stasis) {
    c->in_stasis = 0;
    ari_emit_chan(st, c, "StasisEnd");
  }
  {
    sim_buf f = { 0 };
    sim_buf_printf(&f, ", \"cause\": %d, \"cause_txt\": ", cause);
    sim_buf_json_str(&f, cause_txt(cause));
    sim_buf_str(&f, ", \"channel\": ");
    ari_chan_json(&f, c);
    ari_emit(st, c->app, "ChannelDestroyed", &f);
    sim_buf_free(&f);
  }
  c->ended = 1;
  c->cause = cause;
  c->gen++;
  set_status(st, c, "Down", 1);
}

static void step_run(vc_sim *sim, void *arg)
{
  ari_state *st = sim_provider_state(sim, "ari");
  const ari_step *s = arg;
  ari_chan *c = st ? ari_chan_find(st, s->id) : NULL;

  if (c == NULL || c->gen != s->gen)
    return;                 /* ended meanwhile */
  switch (s->step) {
  case ST_DIAL:
    c->dialing = 1;
    ari_emit_dial(st, c, "");
    if (c->plan.outcome == VC_SIM_CALL_FAILED) {
      c->dialing = 0;
      ari_emit_dial(st, c, "CHANUNAVAIL");
      ari_chan_end(st, c, 1, 0);
      return;
    }
    ari_set_state(st, c, "Ringing");
    ari_emit_dial(st, c, "RINGING");
    ari_step_later(st, c, ST_OUTCOME, c->plan.ring_ms);
    break;
  case ST_OUTCOME:
    c->dialing = 0;
    switch (c->plan.outcome) {
    case VC_SIM_CALL_ANSWER:
      ari_emit_dial(st, c, "ANSWER");
      ari_set_state(st, c, "Up");
      if (c->app[0]) {
        sim_buf f = { 0 };
        const char *a = c->args;
        c->in_stasis = 1;
        sim_buf_str(&f, ", \"args\": [");
        /* appArgs split on commas, as Stasis() takes them. */
        while (*a) {
          size_t n = strcspn(a, ",");
          if (a != c->args)
            sim_buf_str(&f, ", ");
          sim_buf_json_strn(&f, a, n);
          a += n + (a[n] == ',');
        }
        sim_buf_str(&f, "], \"channel\": ");
        ari_chan_json(&f, c);
        ari_emit(st, c->app, "StasisStart", &f);
        sim_buf_free(&f);
      }
      ari_step_later(st, c, ST_TALK_END, c->plan.talk_ms);
      break;
    case VC_SIM_CALL_BUSY:
      ari_emit_dial(st, c, "BUSY");
      ari_chan_end(st, c, 17, 0);
      break;
    case VC_SIM_CALL_NO_ANSWER:
      ari_emit_dial(st, c, "NOANSWER");
      ari_chan_end(st, c, 19, 0);
      break;
    default:                /* the callee rejects it */
      ari_emit_dial(st, c, "CANCEL");
      ari_chan_end(st, c, 21, 0);
      break;
    }
    break;
  case ST_TALK_END:
  case ST_REDIRECTED:
    ari_chan_end(st, c, 16, 1);
    break;
  case ST_PRESS:
  case ST_CALLER_HANGUP:
    ari_in_step(st, c, s->step);
    break;
  }
}

/* ---- requests --------------------------------------------------------- */

/* The parameters of one request: query first, then the JSON body's
 * top-level members other than "variables" (as Asterisk takes them). */

const char *ari_arg(const ari_args *a, const char *name)
{
  const char *v = sim_form_get(&a->q, name);
  size_t i;

  if (v != NULL)
    return v;
  for (i = 0; i < a->n; i++)
    if (strcmp(a->key[i], name) == 0)
      return a->val[i];
  return NULL;
}

static void args_free(ari_args *a)
{
  size_t i;

  sim_form_free(&a->q);
  cJSON_Delete(a->body);
  for (i = 0; i < a->n; i++) {
    free(a->key[i]);
    free(a->val[i]);
  }
}

/* 0, or an HTTP status with rs filled. */
static int args_parse(ari_args *a, const sim_req *rq, sim_resp *rs)
{
  const char *ct;
  size_t ctl = 0;
  cJSON *it;

  memset(a, 0, sizeof(*a));
  if (sim_form_parse(&a->q, rq->query, strlen(rq->query)) != 0) {
    ari_error(rs, 500, "Allocation failed");
    return 500;
  }
  ct = sim_req_header(rq, "Content-Type", &ctl);
  if (rq->body_len == 0 || ct == NULL ||
      !sim_prefix_ci(ct, ctl, "application/json"))
    return 0;
  a->body = cJSON_ParseWithLength(rq->body, rq->body_len);
  if (a->body == NULL || !cJSON_IsObject(a->body)) {
    ari_error(rs, 400, "Error parsing request body");
    return 400;
  }
  cJSON_ArrayForEach(it, a->body) {
    char num[32];
    const char *v = NULL;
    if (strcmp(it->string, "variables") == 0 || a->n == ARI_MAX_PARAMS)
      continue;
    if (cJSON_IsString(it)) {
      v = it->valuestring;
    } else if (cJSON_IsNumber(it)) {
      snprintf(num, sizeof(num), "%.0f", it->valuedouble);
      v = num;
    } else if (cJSON_IsBool(it)) {
      v = cJSON_IsTrue(it) ? "true" : "false";
    }
    if (v == NULL)
      continue;
    a->key[a->n] = strdup(it->string);
    a->val[a->n] = strdup(v);
    if (a->key[a->n] == NULL || a->val[a->n] == NULL) {
      free(a->key[a->n]);
      free(a->val[a->n]);
      ari_error(rs, 500, "Allocation failed");
      return 500;
    }
    a->n++;
  }
  return 0;
}

/* HTTP Basic or ?api_key=user:password; 0, or -1 with the 401 filled. */
static int ari_auth(ari_state *st, const sim_req *rq, const ari_args *a,
                    sim_resp *rs)
{
  char user[128], pass[128], pair[260], want[360];
  const char *h, *key = sim_form_get(&a->q, "api_key");
  size_t hl = 0;

  sim_setting(st->sim, "ari.username", user, sizeof(user));
  sim_setting(st->sim, "ari.password", pass, sizeof(pass));
  snprintf(pair, sizeof(pair), "%s:%s", user, pass);
  h = sim_req_header(rq, "Authorization", &hl);
  if (h != NULL && sim_prefix_ci(h, hl, "Basic ") &&
      sim_base64(want, sizeof(want), pair, strlen(pair)) == 0) {
    size_t off = 6;
    while (off < hl && h[off] == ' ')
      off++;
    if (hl - off == strlen(want) && memcmp(h + off, want, hl - off) == 0)
      return 0;
  }
  if (key != NULL && strcmp(key, pair) == 0)
    return 0;
  sim_buf_str(&rs->headers,
              "WWW-Authenticate: Basic realm=\"Asterisk REST Interface\"\r\n");
  ari_error(rs, 401, "Authentication required");
  return -1;
}

/* ---- the events WebSocket --------------------------------------------- */

void ari_sock_remove(ari_state *st, ari_sock *k)
{
  size_t i;

  for (i = 0; i < st->nsocks; i++)
    if (st->socks[i] == k) {
      st->socks[i] = st->socks[--st->nsocks];
      break;
    }
  free(k);
}

static void sock_recv(void *arg, sim_ws *ws, int text, const char *data,
                      size_t len)
{
  /* Asterisk ignores what clients send on the events socket. */
  (void)arg;
  (void)ws;
  (void)text;
  (void)data;
  (void)len;
}

static void sock_closed(void *arg, sim_ws *ws)
{
  ari_sock *k = arg;
  vc_sim *sim = *(vc_sim **)(k + 1);
  ari_state *st = sim_provider_state(sim, "ari");

  (void)ws;
  ari_sock_remove(st, k);
}

static const sim_ws_handler sock_handler = { sock_recv, sock_closed };

static void h_events(ari_state *st, const sim_req *rq, const ari_args *a,
                     sim_resp *rs)
{
  ari_sock *k;
  size_t i;
  int status;

  if (sim_form_count(&a->q, "app") == 0) {
    ari_error(rs, 400, "Missing param 'app'");
    return;
  }
  if (st->nsocks == ARI_MAX_SOCKS) {
    ari_error(rs, 503, "Too many event connections");
    return;
  }
  /* The simulator handle follows the socket, for sock_closed(). */
  k = calloc(1, sizeof(*k) + sizeof(vc_sim *));
  if (k == NULL) {
    ari_error(rs, 500, "Allocation failed");
    return;
  }
  *(vc_sim **)(k + 1) = st->sim;
  /* app may repeat and may list names separated by commas. */
  for (i = 0; i < a->q.n; i++) {
    const char *v = a->q.val[i];
    if (strcmp(a->q.key[i], "app") != 0)
      continue;
    while (*v && k->napps < ARI_MAX_APPS) {
      size_t n = strcspn(v, ",");
      if (n > 0 && n < sizeof(k->apps[0])) {
        memcpy(k->apps[k->napps], v, n);
        k->apps[k->napps++][n] = '\0';
      }
      v += n + (v[n] == ',');
    }
  }
  if (k->napps == 0) {
    free(k);
    ari_error(rs, 400, "Invalid param 'app'");
    return;
  }
  k->all = ari_true(sim_form_get(&a->q, "subscribeAll"));
  status = sim_ws_accept(st->sim, rq, rs, "ari", &sock_handler, k, &k->ws);
  if (status != 0) {
    free(k);
    ari_error(rs, status, status == 426 ? "Upgrade Required"
                                        : "Bad Request");
    return;
  }
  st->socks[st->nsocks++] = k;
}

/* ---- channels --------------------------------------------------------- */

static int endpoint_split(const char *ep, char *tech, size_t tsz, char *res,
                          size_t rsz)
{
  const char *slash = strchr(ep, '/');

  if (slash == NULL || slash == ep || slash[1] == '\0' ||
      (size_t)(slash - ep) >= tsz || strlen(slash + 1) >= rsz)
    return -1;
  memcpy(tech, ep, (size_t)(slash - ep));
  tech[slash - ep] = '\0';
  strcpy(res, slash + 1);
  return 0;
}

/* "Name <number>", "<number>" or "number". */
static void caller_parse(const char *s, char *name, size_t nsz, char *num,
                         size_t msz)
{
  const char *lt = strchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;

  name[0] = num[0] = '\0';
  if (lt != NULL && gt != NULL) {
    size_t n = (size_t)(lt - s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '"'))
      n--;
    while (n > 0 && (*s == '"' || *s == ' ')) {
      s++;
      n--;
    }
    snprintf(name, nsz, "%.*s", (int)n, s);
    snprintf(num, msz, "%.*s", (int)(gt - lt - 1), lt + 1);
  } else {
    snprintf(num, msz, "%s", s);
  }
}

/* channelvars from the body's "variables" ({"NAME": "value"} or
 * {"NAME": {"value": "...", ...}}); 0, or -1 when malformed. */
static int vars_parse(const cJSON *body, char **out)
{
  const cJSON *vars = cJSON_GetObjectItemCaseSensitive(body, "variables");
  const cJSON *it;
  cJSON *o;

  *out = NULL;
  if (vars == NULL || cJSON_IsNull(vars))
    return 0;
  if (!cJSON_IsObject(vars))
    return -1;
  o = cJSON_CreateObject();
  if (o == NULL)
    return -1;
  cJSON_ArrayForEach(it, vars) {
    const cJSON *v = it;
    if (cJSON_IsObject(it))
      v = cJSON_GetObjectItemCaseSensitive(it, "value");
    if (!cJSON_IsString(v) ||
        cJSON_AddStringToObject(o, it->string, v->valuestring) == NULL) {
      cJSON_Delete(o);
      return -1;
    }
  }
  *out = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return *out ? 0 : -1;
}

ari_chan *ari_chan_new(ari_state *st)
{
  ari_chan *c;

  if (st->nchans >= ARI_MAX_CHANS)
    return NULL;
  if (st->nchans == st->capchans) {
    size_t ncap = st->capchans ? st->capchans * 2 : 32;
    ari_chan **nc = realloc(st->chans, ncap * sizeof(*nc));
    if (nc == NULL)
      return NULL;
    st->chans = nc;
    st->capchans = ncap;
  }
  c = calloc(1, sizeof(*c));
  if (c != NULL)
    st->chans[st->nchans++] = c;
  return c;
}

static void h_originate(ari_state *st, const ari_args *a, const char *path_id,
                        sim_resp *rs)
{
  const char *ep = ari_arg(a, "endpoint"), *app = ari_arg(a, "app");
  const char *ext = ari_arg(a, "extension"), *id = path_id;
  const char *other = ari_arg(a, "otherChannelId"), *orig = ari_arg(a, "originator");
  const char *cid = ari_arg(a, "callerId"), *to = ari_arg(a, "timeout");
  char tech[16], res[96], *vars = NULL;
  const char *key;
  long timeout = 30, prio = 1;
  sim_accept_info ai;
  ari_chan *c;

  if (id == NULL)
    id = ari_arg(a, "channelId");
  if (ep == NULL || *ep == '\0') {
    ari_error(rs, 400, "Endpoint must be specified");
    return;
  }
  if (endpoint_split(ep, tech, sizeof(tech), res, sizeof(res)) != 0) {
    ari_error(rs, 400, "Invalid endpoint specified");
    return;
  }
  if (!ari_in_list(ari_techs, tech)) {
    ari_error(rs, 400, "Invalid endpoint specified");
    return;
  }
  if ((app == NULL || *app == '\0') && (ext == NULL || *ext == '\0')) {
    ari_error(rs, 400, "Application or extension must be specified");
    return;
  }
  if (app != NULL && *app && ext != NULL && *ext) {
    ari_error(rs, 400, "Application and extension are mutually exclusive");
    return;
  }
  if (to != NULL && ari_int(to, -1, 86400, &timeout) != 0) {
    ari_error(rs, 400, "Invalid timeout");
    return;
  }
  if (ari_arg(a, "priority") && ari_int(ari_arg(a, "priority"), 1, 100000,
                                    &prio) != 0) {
    ari_error(rs, 400, "Invalid priority");
    return;
  }
  if ((id && (strlen(id) >= 64 || *id == '\0')) ||
      (app && strlen(app) >= 64) || (ext && strlen(ext) >= 64) ||
      (cid && strlen(cid) >= 128) || strlen(ari_arg(a, "appArgs") ?
                                            ari_arg(a, "appArgs") : "") >= 512) {
    ari_error(rs, 400, "Invalid parameters for originating a channel");
    return;
  }
  if ((id && ari_chan_find(st, id)) || (other && ari_chan_find(st, other))) {
    ari_error(rs, 409, "Channel with given unique ID already exists");
    return;
  }
  if (orig != NULL && *orig && ari_chan_find(st, orig) == NULL) {
    ari_error(rs, 400, "Provided originator channel was not found");
    return;
  }
  if (a->body != NULL && vars_parse(a->body, &vars) != 0) {
    ari_error(rs, 400, "Invalid variables");
    return;
  }
  c = ari_chan_new(st);
  if (c == NULL) {
    free(vars);
    ari_error(rs, 500, "Allocation failed");
    return;
  }
  c->vars = vars;
  st->seq++;
  if (id != NULL)
    snprintf(c->id, sizeof(c->id), "%s", id);
  else
    snprintf(c->id, sizeof(c->id), "%lld.%lu",
             (long long)(sim_now_ms() / 1000), st->seq);
  /* PJSIP/+9198...@trunk is a channel of the endpoint "trunk". */
  snprintf(c->name, sizeof(c->name), "%s/%s-%08lx", tech,
           strchr(res, '@') ? strchr(res, '@') + 1 : res, st->seq);
  snprintf(c->endpoint, sizeof(c->endpoint), "%s", ep);
  snprintf(c->tech, sizeof(c->tech), "%s", tech);
  snprintf(c->resource, sizeof(c->resource), "%s", res);
  snprintf(c->app, sizeof(c->app), "%s", app ? app : "");
  snprintf(c->args, sizeof(c->args), "%s",
           ari_arg(a, "appArgs") ? ari_arg(a, "appArgs") : "");
  snprintf(c->originator, sizeof(c->originator), "%s", orig ? orig : "");
  if (cid != NULL)
    caller_parse(cid, c->caller_name, sizeof(c->caller_name), c->caller_num,
                 sizeof(c->caller_num));
  snprintf(c->state, sizeof(c->state), "Down");
  sim_random_hex(c->protocol_id, 32);
  if (ext != NULL && *ext) {
    snprintf(c->context, sizeof(c->context), "%s",
             ari_arg(a, "context") ? ari_arg(a, "context") : "default");
    snprintf(c->exten, sizeof(c->exten), "%s", ext);
  } else {
    snprintf(c->context, sizeof(c->context), "default");
    snprintf(c->exten, sizeof(c->exten), "s");
  }
  c->priority = prio;
  c->created_ms = sim_now_ms();

  /* The number's plan; a ring longer than the timeout goes unanswered. */
  sim_voice_plan(&st->v, res, &c->plan);
  if (timeout > 0 && c->plan.outcome != VC_SIM_CALL_FAILED &&
      (unsigned long)timeout * 1000 < c->plan.ring_ms) {
    c->plan.outcome = VC_SIM_CALL_NO_ANSWER;
    c->plan.ring_ms = (unsigned)timeout * 1000;
  }
  pthread_mutex_lock(&st->v.mu);
  c->vc = sim_voice_add(&st->v);
  if (c->vc != NULL) {
    snprintf(c->vc->id, sizeof(c->vc->id), "%s", c->id);
    snprintf(c->vc->to, sizeof(c->vc->to), "%s", res);
    snprintf(c->vc->from, sizeof(c->vc->from), "%s", c->caller_num);
    snprintf(c->vc->status, sizeof(c->vc->status), "Down");
    c->vc->created_ms = c->created_ms;
  }
  pthread_mutex_unlock(&st->v.mu);

  key = c->endpoint;
  memset(&ai, 0, sizeof(ai));
  ai.message_id = c->id;
  ai.keys = &key;
  ai.nkeys = 1;
  ai.identity = sim_fnv1a(SIM_FNV_INIT, c->id, strlen(c->id));
  rs->status = 200;
  rs->content_type = "application/json";
  ari_chan_json(&rs->body, c);
  sim_accept(st->sim, "ari", rs, &ai);
  ari_step_later(st, c, ST_DIAL, 0);
}

/* The channel of a /channels/{id}/... operation that needs Stasis. */
ari_chan *ari_chan_stasis(ari_state *st, const char *id, sim_resp *rs)
{
  ari_chan *c = ari_chan_find(st, id);

  if (c == NULL) {
    ari_error(rs, 404, "Channel not found");
    return NULL;
  }
  if (!c->in_stasis) {
    ari_error(rs, 409, "Channel not in Stasis application");
    return NULL;
  }
  return c;
}

static void h_hangup(ari_state *st, const ari_args *a, const char *id,
                     sim_resp *rs)
{
  const char *code = ari_arg(a, "reason_code"), *reason = ari_arg(a, "reason");
  ari_chan *c;
  long cause = 16;

  if (code != NULL && reason != NULL) {
    ari_error(rs, 400, "The reason and reason_code can't both be specified");
    return;
  }
  if (code != NULL && ari_int(code, 0, 127, &cause) != 0) {
    ari_error(rs, 400, "Invalid reason for hangup provided");
    return;
  }
  if (reason != NULL && (cause = reason_cause(reason)) < 0) {
    ari_error(rs, 400, "Invalid reason for hangup provided");
    return;
  }
  c = ari_chan_find(st, id);
  if (c == NULL) {
    ari_error(rs, 404, "Channel not found");
    return;
  }
  ari_no_content(rs);
  ari_chan_end(st, c, (int)cause, 2);
}

static void h_channel_op(ari_state *st, const char *method, const ari_args *a,
                         const char *id, const char *op, sim_resp *rs)
{
  int post = strcmp(method, "POST") == 0, del = strcmp(method, "DELETE") == 0;
  ari_chan *c;

  if (strcmp(op, "hold") == 0 && (post || del)) {
    if ((c = ari_chan_stasis(st, id, rs)) == NULL)
      return;
    c->held = post;
    ari_no_content(rs);
    ari_emit_chan(st, c, post ? "ChannelHold" : "ChannelUnhold");
  } else if (strcmp(op, "moh") == 0 && (post || del)) {
    if ((c = ari_chan_stasis(st, id, rs)) == NULL)
      return;
    c->moh = post;
    ari_no_content(rs);
    if (post)
      ari_in_moh(st, c);
  } else if (strcmp(op, "answer") == 0 && post) {
    if ((c = ari_chan_stasis(st, id, rs)) != NULL)
      ari_in_answer(st, c, rs);
  } else if (strcmp(op, "play") == 0 && post) {
    if ((c = ari_chan_stasis(st, id, rs)) != NULL)
      ari_in_play(st, a, c, NULL, rs);
  } else if (strcmp(op, "record") == 0 && post) {
    if ((c = ari_chan_stasis(st, id, rs)) != NULL)
      ari_in_record(st, a, c, rs);
  } else if (strcmp(op, "dtmf") == 0 && post) {
    const char *d = ari_arg(a, "dtmf");
    if (d == NULL || *d == '\0') {
      ari_error(rs, 400, "DTMF is required");
      return;
    }
    if ((c = ari_chan_stasis(st, id, rs)) == NULL)
      return;
    strncat(c->dtmf_sent, d, sizeof(c->dtmf_sent) - strlen(c->dtmf_sent) - 1);
    ari_no_content(rs);
  } else if (strcmp(op, "redirect") == 0 && post) {
    const char *ep = ari_arg(a, "endpoint");
    char tech[16], res[96];
    if (ep == NULL || *ep == '\0') {
      ari_error(rs, 400, "Required parameter endpoint not provided");
      return;
    }
    if ((c = ari_chan_stasis(st, id, rs)) == NULL)
      return;
    if (endpoint_split(ep, tech, sizeof(tech), res, sizeof(res)) != 0 ||
        !ari_in_list(ari_techs, tech)) {
      ari_error(rs, 404, "Endpoint not found");
      return;
    }
    if (strcasecmp(tech, c->tech) != 0) {
      ari_error(rs, 422, "Endpoint is not the same type as the channel");
      return;
    }
    snprintf(c->redirect, sizeof(c->redirect), "%s", ep);
    ari_no_content(rs);
    /* The far end takes the transfer and the channel goes away. */
    ari_step_later(st, c, ST_REDIRECTED, 0);
  } else if (strcmp(op, "continue") == 0 && post) {
    if ((c = ari_chan_stasis(st, id, rs)) == NULL)
      return;
    if (ari_arg(a, "context"))
      snprintf(c->context, sizeof(c->context), "%s", ari_arg(a, "context"));
    if (ari_arg(a, "extension"))
      snprintf(c->exten, sizeof(c->exten), "%s", ari_arg(a, "extension"));
    ari_no_content(rs);
    c->in_stasis = 0;
    ari_emit_chan(st, c, "StasisEnd");
  } else {
    ari_error(rs, post || del || strcmp(method, "GET") == 0 ? 404 : 405,
              post || del || strcmp(method, "GET") == 0 ?
              "Resource not found" : "Invalid method");
  }
}

static void h_channels(ari_state *st, const char *method, const ari_args *a,
                       char **seg, size_t nseg, sim_resp *rs)
{
  size_t i;
  ari_chan *c;

  if (nseg == 1 && strcmp(method, "GET") == 0) {
    rs->status = 200;
    rs->content_type = "application/json";
    sim_buf_str(&rs->body, "[");
    for (i = 0, nseg = 0; i < st->nchans; i++) {
      if (st->chans[i]->ended)
        continue;
      if (nseg++)
        sim_buf_str(&rs->body, ", ");
      ari_chan_json(&rs->body, st->chans[i]);
    }
    sim_buf_str(&rs->body, "]");
  } else if (nseg == 1 && strcmp(method, "POST") == 0) {
    h_originate(st, a, NULL, rs);
  } else if (nseg == 2 && strcmp(method, "POST") == 0) {
    h_originate(st, a, seg[1], rs);
  } else if (nseg == 2 && strcmp(method, "GET") == 0) {
    if ((c = ari_chan_find(st, seg[1])) == NULL) {
      ari_error(rs, 404, "Channel not found");
      return;
    }
    rs->status = 200;
    rs->content_type = "application/json";
    ari_chan_json(&rs->body, c);
  } else if (nseg == 2 && strcmp(method, "DELETE") == 0) {
    h_hangup(st, a, seg[1], rs);
  } else if (nseg == 3) {
    h_channel_op(st, method, a, seg[1], seg[2], rs);
  } else if (nseg == 4 && strcmp(seg[2], "play") == 0 &&
             strcmp(method, "POST") == 0) {
    if ((c = ari_chan_stasis(st, seg[1], rs)) != NULL)
      ari_in_play(st, a, c, seg[3], rs);
  } else {
    ari_error(rs, nseg <= 2 ? 405 : 404,
              nseg <= 2 ? "Invalid method" : "Resource not found");
  }
}

/* ---- bridges ---------------------------------------------------------- */

static int bridge_type_ok(const char *t)
{
  static const char *const ok[] = {
    "mixing", "holding", "dtmf_events", "proxy_media", "video_sfu",
    "video_single", "sdp_label", NULL
  };
  char w[32];

  while (*t) {
    size_t n = strcspn(t, ",");
    if (n == 0 || n >= sizeof(w))
      return 0;
    memcpy(w, t, n);
    w[n] = '\0';
    if (!ari_in_list(ok, w))
      return 0;
    t += n + (t[n] == ',');
  }
  return 1;
}

static void h_bridge_create(ari_state *st, const ari_args *a,
                            const char *path_id, sim_resp *rs)
{
  const char *type = ari_arg(a, "type"), *id = path_id, *name = ari_arg(a, "name");
  ari_bridge *br;

  if (id == NULL)
    id = ari_arg(a, "bridgeId");
  if (type != NULL && !bridge_type_ok(type)) {
    ari_error(rs, 400, "Invalid bridge type");
    return;
  }
  if ((id && (strlen(id) >= 64 || *id == '\0')) ||
      (name && strlen(name) >= 64) || (type && strlen(type) >= 64)) {
    ari_error(rs, 400, "Invalid parameters");
    return;
  }
  if (id != NULL && bridge_find(st, id) != NULL) {
    ari_error(rs, 409, "Bridge with the same bridgeId already exists");
    return;
  }
  if (st->nbridges >= ARI_MAX_BRIDGES) {
    ari_error(rs, 500, "Unable to create bridge");
    return;
  }
  if (st->nbridges == st->capbridges) {
    size_t ncap = st->capbridges ? st->capbridges * 2 : 16;
    ari_bridge **nb = realloc(st->bridges, ncap * sizeof(*nb));
    if (nb == NULL) {
      ari_error(rs, 500, "Allocation failed");
      return;
    }
    st->bridges = nb;
    st->capbridges = ncap;
  }
  br = calloc(1, sizeof(*br));
  if (br == NULL) {
    ari_error(rs, 500, "Allocation failed");
    return;
  }
  st->bridges[st->nbridges++] = br;
  if (id != NULL) {
    snprintf(br->id, sizeof(br->id), "%s", id);
  } else {
    /* A UUID, as Asterisk names bridges. */
    char h[33];
    sim_random_hex(h, 32);
    snprintf(br->id, sizeof(br->id), "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8,
             h + 12, h + 16, h + 20);
  }
  snprintf(br->name, sizeof(br->name), "%s", name ? name : "");
  snprintf(br->type, sizeof(br->type), "%s", type ? type : "mixing");
  br->created_ms = sim_now_ms();
  rs->status = 200;
  rs->content_type = "application/json";
  bridge_json(&rs->body, br);
  emit_bridge(st, br, NULL, "BridgeCreated");
}

/* The comma-separated channel list of add/removeChannel, resolved. */
static size_t chan_list(ari_state *st, const char *list, ari_chan **out,
                        size_t max, int *missing)
{
  size_t n = 0;

  *missing = 0;
  while (*list) {
    size_t l = strcspn(list, ",");
    char id[64];
    if (l > 0 && l < sizeof(id)) {
      ari_chan *c;
      memcpy(id, list, l);
      id[l] = '\0';
      c = ari_chan_find(st, id);
      if (c == NULL)
        *missing = 1;
      else if (n < max)
        out[n++] = c;
    } else {
      *missing = 1;
    }
    list += l + (list[l] == ',');
  }
  return n;
}

typedef struct ari_rec_tick {
  char name[128];
  unsigned gen;
  long dur;
} ari_rec_tick;

static void rec_started(vc_sim *sim, void *arg);

/* Start a recording of `target` ("bridge:<id>", "channel:<id>") with
 * the request's parameters: the recording, or NULL with rs filled. */
ari_rec *ari_rec_start(ari_state *st, const ari_args *a, const char *target,
                       sim_resp *rs)
{
  ari_rec_tick x;
  const char *name = ari_arg(a, "name"), *fmt = ari_arg(a, "format");
  const char *ife = ari_arg(a, "ifExists"), *maxd = ari_arg(a, "maxDurationSeconds");
  const char *maxs = ari_arg(a, "maxSilenceSeconds");
  const char *term = ari_arg(a, "terminateOn");
  char fail[8], loc[200];
  long dur = 0, sil = 0;
  ari_rec *r;

  if (name == NULL || *name == '\0' || fmt == NULL || *fmt == '\0' ||
      strlen(name) >= sizeof(r->name) || strchr(name, '/') != NULL) {
    ari_error(rs, 400, "Invalid parameters");
    return NULL;
  }
  if ((maxd && ari_int(maxd, 0, 86400, &dur) != 0) ||
      (maxs && ari_int(maxs, 0, 86400, &sil) != 0)) {
    ari_error(rs, 400, "Invalid parameters");
    return NULL;
  }
  if ((ife != NULL && strcmp(ife, "fail") != 0 &&
       strcmp(ife, "overwrite") != 0 && strcmp(ife, "append") != 0) ||
      (term != NULL && strcmp(term, "none") != 0 && strcmp(term, "any") != 0
       && strcmp(term, "*") != 0 && strcmp(term, "#") != 0)) {
    ari_error(rs, 400, "Invalid parameters");
    return NULL;
  }
  if (!ari_in_list(ari_formats, fmt)) {
    ari_error(rs, 422, "The format specified is unknown on this system");
    return NULL;
  }
  if (rec_find(st, name, 0) != NULL ||
      ((ife == NULL || strcmp(ife, "fail") == 0) && rec_find(st, name, 1))) {
    ari_error(rs, 409, "A recording with the same name already exists "
              "on the system");
    return NULL;
  }
  if (st->nrecs >= ARI_MAX_RECS) {
    ari_error(rs, 500, "Unable to record");
    return NULL;
  }
  if (st->nrecs == st->caprecs) {
    size_t ncap = st->caprecs ? st->caprecs * 2 : 16;
    ari_rec **nr = realloc(st->recs, ncap * sizeof(*nr));
    if (nr == NULL) {
      ari_error(rs, 500, "Allocation failed");
      return NULL;
    }
    st->recs = nr;
    st->caprecs = ncap;
  }
  r = calloc(1, sizeof(*r));
  if (r == NULL) {
    ari_error(rs, 500, "Allocation failed");
    return NULL;
  }
  st->recs[st->nrecs++] = r;
  snprintf(r->name, sizeof(r->name), "%s", name);
  snprintf(r->format, sizeof(r->format), "%s", fmt);
  snprintf(r->target, sizeof(r->target), "%s", target);
  snprintf(r->term, sizeof(r->term), "%s", term ? term : "none");
  snprintf(r->state, sizeof(r->state), "queued");
  r->started_ms = sim_now_ms();
  rs->status = 201;
  rs->content_type = "application/json";
  snprintf(loc, sizeof(loc), "Location: /recordings/live/%s\r\n", name);
  sim_buf_str(&rs->headers, loc);
  rec_json(&rs->body, r);

  /* It starts on the next turn of the loop, after the answer. */
  sim_setting(st->sim, "ari.record_fail", fail, sizeof(fail));
  if (strcmp(fail, "1") == 0) {
    snprintf(r->state, sizeof(r->state), "failed");
    r->gen++;
  } else {
    snprintf(r->state, sizeof(r->state), "recording");
  }
  memset(&x, 0, sizeof(x));
  memcpy(x.name, r->name, sizeof(x.name));
  x.gen = r->gen;
  x.dur = dur;
  (void)sim_later(st->sim, 0, rec_started, &x, sizeof(x));
  return r;
}

static ari_rec *rec_by_gen(ari_state *st, const ari_rec_tick *x)
{
  size_t i;

  for (i = st->nrecs; i-- > 0; )
    if (!st->recs[i]->deleted && !st->recs[i]->stored &&
        strcmp(st->recs[i]->name, x->name) == 0)
      return st->recs[i]->gen == x->gen ? st->recs[i] : NULL;
  return NULL;
}

static void rec_timeout(vc_sim *sim, void *arg)
{
  ari_state *st = sim_provider_state(sim, "ari");
  ari_rec *r = rec_by_gen(st, arg);

  if (r != NULL)
    ari_rec_finish(st, r);
}

static void rec_started(vc_sim *sim, void *arg)
{
  ari_state *st = sim_provider_state(sim, "ari");
  const ari_rec_tick *x = arg;
  size_t i;

  for (i = st->nrecs; i-- > 0; ) {
    ari_rec *r = st->recs[i];
    if (r->deleted || r->stored || strcmp(r->name, x->name) != 0)
      continue;
    if (strcmp(r->state, "failed") == 0) {
      ari_emit_rec(st, r, "RecordingFailed");
    } else if (r->gen == x->gen) {
      ari_emit_rec(st, r, "RecordingStarted");
      ari_in_rec_started(st, r);
      if (x->dur > 0)
        (void)sim_later(sim, (unsigned)x->dur * 1000, rec_timeout, x,
                        sizeof(*x));
    }
    return;
  }
}

static void h_bridges(ari_state *st, const char *method, const ari_args *a,
                      char **seg, size_t nseg, sim_resp *rs)
{
  int post = strcmp(method, "POST") == 0;
  ari_bridge *br;
  size_t i;

  if (nseg == 1 && strcmp(method, "GET") == 0) {
    rs->status = 200;
    rs->content_type = "application/json";
    sim_buf_str(&rs->body, "[");
    for (i = 0, nseg = 0; i < st->nbridges; i++) {
      if (st->bridges[i]->gone)
        continue;
      if (nseg++)
        sim_buf_str(&rs->body, ", ");
      bridge_json(&rs->body, st->bridges[i]);
    }
    sim_buf_str(&rs->body, "]");
    return;
  }
  if (nseg == 1 && post) {
    h_bridge_create(st, a, NULL, rs);
    return;
  }
  if (nseg == 2 && post) {
    h_bridge_create(st, a, seg[1], rs);
    return;
  }
  if (nseg < 2 || nseg > 3) {
    ari_error(rs, nseg == 1 ? 405 : 404,
              nseg == 1 ? "Invalid method" : "Resource not found");
    return;
  }
  if (nseg == 3 && (!post || (strcmp(seg[2], "addChannel") != 0 &&
                              strcmp(seg[2], "removeChannel") != 0 &&
                              strcmp(seg[2], "record") != 0))) {
    ari_error(rs, 404, "Resource not found");
    return;
  }
  if (nseg == 3 && strcmp(seg[2], "record") != 0) {
    const char *list = ari_arg(a, "channel");
    ari_chan *cs[ARI_BRIDGE_MAX];
    int missing;
    size_t n;
    if (list == NULL || *list == '\0') {
      ari_error(rs, 400, "Missing parameter channel");
      return;
    }
    n = chan_list(st, list, cs, ARI_BRIDGE_MAX, &missing);
    br = bridge_find(st, seg[1]);
    if (br == NULL) {
      ari_error(rs, 404, "Bridge not found");
      return;
    }
    if (missing) {
      ari_error(rs, 400, "Channel not found");
      return;
    }
    if (strcmp(seg[2], "addChannel") == 0) {
      for (i = 0; i < n; i++)
        if (!cs[i]->in_stasis) {
          ari_error(rs, 422, "Channel not in Stasis application");
          return;
        }
      if (br->n + n > ARI_BRIDGE_MAX) {
        ari_error(rs, 409, "Bridge is full");
        return;
      }
      ari_no_content(rs);
      for (i = 0; i < n; i++) {
        ari_bridge *old = cs[i]->bridge[0] ?
          bridge_find(st, cs[i]->bridge) : NULL;
        if (old == br)
          continue;
        if (old != NULL)
          bridge_leave(st, old, cs[i]);
        memcpy(br->chans[br->n++], cs[i]->id, sizeof(br->chans[0]));
        memcpy(cs[i]->bridge, br->id, sizeof(cs[i]->bridge));
        emit_bridge(st, br, cs[i], "ChannelEnteredBridge");
      }
    } else {
      for (i = 0; i < n; i++)
        if (strcmp(cs[i]->bridge, br->id) != 0) {
          ari_error(rs, 422, "Channel not in this bridge");
          return;
        }
      ari_no_content(rs);
      for (i = 0; i < n; i++)
        bridge_leave(st, br, cs[i]);
    }
    return;
  }
  br = bridge_find(st, seg[1]);
  if (nseg == 2 && strcmp(method, "GET") != 0 &&
      strcmp(method, "DELETE") != 0) {
    ari_error(rs, 405, "Invalid method");
    return;
  }
  if (br == NULL) {
    ari_error(rs, 404, "Bridge not found");
    return;
  }
  if (nseg == 3) {
    char target[80];
    snprintf(target, sizeof(target), "bridge:%s", br->id);
    (void)ari_rec_start(st, a, target, rs);
  } else if (strcmp(method, "GET") == 0) {
    rs->status = 200;
    rs->content_type = "application/json";
    bridge_json(&rs->body, br);
  } else {
    ari_no_content(rs);
    bridge_destroy(st, br);
  }
}

/* ---- recordings ------------------------------------------------------- */

static void h_recordings(ari_state *st, const char *method, char **seg,
                         size_t nseg, sim_resp *rs)
{
  int stored = nseg >= 2 && strcmp(seg[1], "stored") == 0;
  int live = nseg >= 2 && strcmp(seg[1], "live") == 0;
  ari_rec *r;
  size_t i, k;

  if (stored && nseg == 2 && strcmp(method, "GET") == 0) {
    rs->status = 200;
    rs->content_type = "application/json";
    sim_buf_str(&rs->body, "[");
    for (i = 0, k = 0; i < st->nrecs; i++) {
      if (!st->recs[i]->stored || st->recs[i]->deleted)
        continue;
      if (k++)
        sim_buf_str(&rs->body, ", ");
      rec_json(&rs->body, st->recs[i]);
    }
    sim_buf_str(&rs->body, "]");
    return;
  }
  if (!(stored && nseg == 3) && !(live && (nseg == 3 || nseg == 4))) {
    ari_error(rs, 404, "Resource not found");
    return;
  }
  r = rec_find(st, seg[2], stored);
  if (stored && strcmp(method, "GET") == 0) {
    if (r == NULL) {
      ari_error(rs, 404, "Recording not found");
      return;
    }
    rs->status = 200;
    rs->content_type = "application/json";
    rec_json(&rs->body, r);
  } else if (stored && strcmp(method, "DELETE") == 0) {
    if (r == NULL) {
      ari_error(rs, 404, "Recording not found");
      return;
    }
    r->deleted = 1;
    ari_no_content(rs);
  } else if (live && nseg == 3 && strcmp(method, "GET") == 0) {
    if (r == NULL) {
      ari_error(rs, 404, "Recording not found");
      return;
    }
    rs->status = 200;
    rs->content_type = "application/json";
    rec_json(&rs->body, r);
  } else if (live && nseg == 4 && strcmp(seg[3], "stop") == 0 &&
             strcmp(method, "POST") == 0) {
    if (r == NULL) {
      ari_error(rs, 404, "Recording not found");
      return;
    }
    ari_no_content(rs);
    ari_rec_finish(st, r);
  } else {
    ari_error(rs, 405, "Invalid method");
  }
}

/* ---- the provider ----------------------------------------------------- */

/* Split the path after /ari/ into segments (percent-decoded, bounded). */
static size_t path_split(const char *p, char buf[1024], char **seg,
                         size_t max)
{
  size_t n = 0, o = 0;

  while (*p == '/')
    p++;
  while (*p && n < max && o < 1000) {
    seg[n++] = buf + o;
    while (*p && *p != '/' && o < 1000) {
      if (*p == '%' && p[1] && p[2]) {
        char h[3] = { p[1], p[2], 0 };
        buf[o++] = (char)strtol(h, NULL, 16);
        p += 3;
      } else {
        buf[o++] = *p++;
      }
    }
    buf[o++] = '\0';
    while (*p == '/')
      p++;
  }
  return *p ? 0 : n;
}

static void ari_handle(vc_sim *sim, void *state, const sim_req *rq,
                       sim_resp *rs)
{
  ari_state *st = state;
  char buf[1024], *seg[8];
  size_t nseg;
  ari_args a;

  (void)sim;
  if (strcmp(rq->path, "/ari") != 0 && strncmp(rq->path, "/ari/", 5) != 0) {
    ari_error(rs, 404, "Resource not found");
    return;
  }
  if (args_parse(&a, rq, rs) != 0) {
    args_free(&a);
    return;
  }
  if (ari_auth(st, rq, &a, rs) != 0) {
    args_free(&a);
    return;
  }
  nseg = path_split(rq->path + 4, buf, seg, 8);
  if (nseg == 1 && strcmp(seg[0], "events") == 0 &&
      strcmp(rq->method, "GET") == 0) {
    h_events(st, rq, &a, rs);
    args_free(&a);
    return;
  }
  st->requests++;
  if (nseg >= 1 && strcmp(seg[0], "channels") == 0)
    h_channels(st, rq->method, &a, seg, nseg, rs);
  else if (nseg >= 1 && strcmp(seg[0], "bridges") == 0)
    h_bridges(st, rq->method, &a, seg, nseg, rs);
  else if (nseg >= 1 && strcmp(seg[0], "recordings") == 0)
    h_recordings(st, rq->method, seg, nseg, rs);
  else if (nseg >= 1 && strcmp(seg[0], "playbacks") == 0)
    ari_in_playbacks(st, rq->method, seg, nseg, rs);
  else
    ari_error(rs, 404, "Resource not found");
  args_free(&a);
}

static void ari_fault(vc_sim *sim, void *state, int status,
                      unsigned retry_after_s, sim_resp *rs)
{
  (void)sim;
  (void)state;
  (void)retry_after_s;
  sim_resp_reset(rs);
  ari_error(rs, status, status == 413 ? "Request body too large"
                                      : sim_reason(status));
}

static int ari_init(vc_sim *sim, void **state)
{
  ari_state *st = calloc(1, sizeof(*st));

  if (st == NULL)
    return -ENOMEM;
  if (sim_voice_init(&st->v, sim, "ari") != 0) {
    free(st);
    return -ENOMEM;
  }
  st->sim = sim;
  *state = st;
  return 0;
}

static void ari_fini(void *state)
{
  ari_state *st = state;
  size_t i;

  /* The loop has stopped: its connections (and sockets) are gone. */
  for (i = 0; i < st->nsocks; i++)
    free(st->socks[i]);
  for (i = 0; i < st->nchans; i++) {
    free(st->chans[i]->vars);
    free(st->chans[i]);
  }
  free(st->pbs);
  free(st->chans);
  for (i = 0; i < st->nbridges; i++)
    free(st->bridges[i]);
  free(st->bridges);
  for (i = 0; i < st->nrecs; i++)
    free(st->recs[i]);
  free(st->recs);
  sim_voice_fini(&st->v);
  free(st);
}

const sim_provider sim_ari = {
  "ari", "/ari", 64 * 1024, ari_defaults, ari_init, ari_fini, ari_handle,
  ari_fault, NULL, NULL, NULL, NULL,
};
