/*
 * The simulated Asterisk's inbound side: a call from the trunk entering
 * the Stasis application (vc_sim_ari_incoming), and what an application
 * does with such a channel:
 *
 *   POST   /ari/channels/{id}/answer
 *   POST   /ari/channels/{id}/play[/{playbackId}]?media=&lang=&playbackId=
 *   GET|DELETE /ari/playbacks/{playbackId}
 *   POST   /ari/channels/{id}/record?name=&format=&maxDurationSeconds=
 *          &maxSilenceSeconds=&ifExists=&beep=&terminateOn=
 *
 * A playback plays each media URI for ari.play_ms (PlaybackStarted, then
 * PlaybackFinished "done"; "failed" for a scheme Asterisk does not
 * have). The caller follows its plan: key groups pressed during the
 * playbacks, a hangup after arriving, after music on hold starts or
 * after a recording of the channel starts. All of it runs on the libre
 * thread (see ari.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ari_int.h"

static const char *const schemes[] = {
  "sound:", "recording:", "number:", "digits:", "characters:", "tone:", NULL
};

/* ---- playbacks -------------------------------------------------------- */

static ari_pb *pb_find(ari_state *st, const char *id)
{
  for (size_t i = 0; i < st->npbs; i++)
    if (strcmp(st->pbs[i].id, id) == 0)
      return &st->pbs[i];
  return NULL;
}

static void pb_json(sim_buf *b, const ari_pb *p)
{
  size_t n = strcspn(p->media, ",");

  sim_buf_str(b, "{\"id\": ");
  sim_buf_json_str(b, p->id);
  sim_buf_str(b, ", \"media_uri\": ");
  sim_buf_json_strn(b, p->media, n);
  sim_buf_str(b, ", \"target_uri\": \"channel:");
  sim_buf_add(b, p->chan, strlen(p->chan));
  sim_buf_str(b, "\", \"language\": \"en\", \"state\": ");
  sim_buf_json_str(b, p->state);
  sim_buf_str(b, "}");
}

static void pb_emit(ari_state *st, const ari_pb *p, const char *type)
{
  ari_chan *c = ari_chan_any(st, p->chan);
  sim_buf f = { 0 };

  sim_buf_str(&f, ", \"playback\": ");
  pb_json(&f, p);
  ari_emit(st, c ? c->app : NULL, type, &f);
  sim_buf_free(&f);
}

static void pb_finish(ari_state *st, ari_pb *p, const char *state)
{
  if (strcmp(p->state, "playing") != 0 && strcmp(p->state, "queued") != 0)
    return;
  p->gen++;
  snprintf(p->state, sizeof(p->state), "%s", state);
  pb_emit(st, p, "PlaybackFinished");
}

typedef struct pb_tick {
  char id[64];
  unsigned gen;
} pb_tick;

static void pb_end_tmr(vc_sim *sim, void *arg)
{
  ari_state *st = sim_provider_state(sim, "ari");
  const pb_tick *x = arg;
  ari_pb *p = st ? pb_find(st, x->id) : NULL;

  if (p != NULL && p->gen == x->gen)
    pb_finish(st, p, "done");
}

/* Every URI of the list has a scheme Asterisk plays. */
static int media_ok(const char *m)
{
  while (*m) {
    size_t n = strcspn(m, ","), i, ok = 0;
    for (i = 0; schemes[i] != NULL; i++)
      if (n > strlen(schemes[i]) &&
          strncmp(m, schemes[i], strlen(schemes[i])) == 0)
        ok = 1;
    if (!ok)
      return 0;
    m += n + (m[n] == ',');
  }
  return 1;
}

static void pb_start_tmr(vc_sim *sim, void *arg)
{
  ari_state *st = sim_provider_state(sim, "ari");
  const pb_tick *x = arg;
  ari_pb *p = st ? pb_find(st, x->id) : NULL;
  ari_chan *c;
  char ms[16];
  long each = 200;
  size_t n = 1;
  pb_tick t;

  if (p == NULL || p->gen != x->gen)
    return;
  snprintf(p->state, sizeof(p->state), "playing");
  pb_emit(st, p, "PlaybackStarted");
  if (!media_ok(p->media)) {
    pb_finish(st, p, "failed");
    return;
  }
  c = ari_chan_find(st, p->chan);
  if (c != NULL && c->inbound && c->keys[c->key_pos] != '\0')
    ari_step_later(st, c, ST_PRESS, c->press_ms);
  sim_setting(st->sim, "ari.play_ms", ms, sizeof(ms));
  (void)ari_int(ms, 0, 600000, &each);
  for (const char *m = p->media; *m; m++)
    n += *m == ',';
  memcpy(&t, x, sizeof(t));
  (void)sim_later(st->sim, (unsigned)(each * (long)n), pb_end_tmr, &t,
                  sizeof(t));
}

void ari_in_play(ari_state *st, const ari_args *a, ari_chan *c,
                 const char *playback_id, sim_resp *rs)
{
  const char *media = ari_arg(a, "media");
  const char *id = playback_id ? playback_id : ari_arg(a, "playbackId");
  char loc[160];
  ari_pb *p = NULL;
  pb_tick t;
  size_t i;

  if (media == NULL || *media == '\0') {
    ari_error(rs, 400, "media: Missing required parameter");
    return;
  }
  if (strlen(media) >= sizeof(p->media) ||
      (id != NULL && (*id == '\0' || strlen(id) >= sizeof(p->id)))) {
    ari_error(rs, 400, "Invalid parameters");
    return;
  }
  if (strcmp(c->state, "Up") != 0) {
    ari_error(rs, 412, "Channel in invalid state");
    return;
  }
  if (id != NULL && (p = pb_find(st, id)) != NULL &&
      (strcmp(p->state, "playing") == 0 || strcmp(p->state, "queued") == 0)) {
    ari_error(rs, 409, "A playback with the same id is in progress");
    return;
  }
  if (p == NULL && st->npbs < ARI_MAX_PBS) {
    if (st->pbs == NULL &&
        (st->pbs = calloc(ARI_MAX_PBS, sizeof(*st->pbs))) == NULL) {
      ari_error(rs, 500, "Allocation failed");
      return;
    }
    p = &st->pbs[st->npbs++];
  }
  for (i = 0; p == NULL && i < st->npbs; i++)
    if (strcmp(st->pbs[i].state, "playing") != 0 &&
        strcmp(st->pbs[i].state, "queued") != 0)
      p = &st->pbs[i];
  if (p == NULL) {
    ari_error(rs, 500, "Too many playbacks");
    return;
  }
  /* One playback at a time here: a new one ends the channel's last. */
  for (i = 0; i < st->npbs; i++)
    if (&st->pbs[i] != p && strcmp(st->pbs[i].chan, c->id) == 0)
      pb_finish(st, &st->pbs[i], "done");
  memset(p, 0, sizeof(*p));
  p->gen = ++st->pb_gen;
  if (id != NULL) {
    snprintf(p->id, sizeof(p->id), "%s", id);
  } else {
    char h[33];
    sim_random_hex(h, 32);
    snprintf(p->id, sizeof(p->id), "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8,
             h + 12, h + 16, h + 20);
  }
  snprintf(p->chan, sizeof(p->chan), "%s", c->id);
  snprintf(p->media, sizeof(p->media), "%s", media);
  snprintf(p->state, sizeof(p->state), "queued");
  if (c->played[0] != '\0')
    strncat(c->played, ",", sizeof(c->played) - strlen(c->played) - 1);
  strncat(c->played, media, sizeof(c->played) - strlen(c->played) - 1);
  rs->status = 201;
  rs->content_type = "application/json";
  snprintf(loc, sizeof(loc), "Location: /playbacks/%s\r\n", p->id);
  sim_buf_str(&rs->headers, loc);
  pb_json(&rs->body, p);
  memset(&t, 0, sizeof(t));
  memcpy(t.id, p->id, sizeof(t.id));
  t.gen = p->gen;
  (void)sim_later(st->sim, 0, pb_start_tmr, &t, sizeof(t));
}

void ari_in_playbacks(ari_state *st, const char *method, char **seg,
                      size_t nseg, sim_resp *rs)
{
  ari_pb *p = nseg == 2 ? pb_find(st, seg[1]) : NULL;

  if (nseg != 2) {
    ari_error(rs, 404, "Resource not found");
    return;
  }
  if (strcmp(method, "GET") != 0 && strcmp(method, "DELETE") != 0) {
    ari_error(rs, 405, "Invalid method");
    return;
  }
  if (p == NULL || (strcmp(p->state, "playing") != 0 &&
                    strcmp(p->state, "queued") != 0)) {
    ari_error(rs, 404, "Playback not found");
    return;
  }
  if (strcmp(method, "GET") == 0) {
    rs->status = 200;
    rs->content_type = "application/json";
    pb_json(&rs->body, p);
    return;
  }
  ari_no_content(rs);
  pb_finish(st, p, "done");
}

/* ---- answer, record ---------------------------------------------------- */

void ari_in_answer(ari_state *st, ari_chan *c, sim_resp *rs)
{
  ari_no_content(rs);
  if (strcmp(c->state, "Up") != 0)
    ari_set_state(st, c, "Up");
}

void ari_in_record(ari_state *st, const ari_args *a, ari_chan *c,
                   sim_resp *rs)
{
  char target[80];
  ari_rec *r;

  if (c->bridge[0] != '\0') {
    ari_error(rs, 409, "Channel is currently bridged with other channels");
    return;
  }
  if (strcmp(c->state, "Up") != 0) {
    ari_error(rs, 412, "Channel in invalid state");
    return;
  }
  snprintf(target, sizeof(target), "channel:%s", c->id);
  if ((r = ari_rec_start(st, a, target, rs)) != NULL)
    snprintf(c->recording, sizeof(c->recording), "%s", r->name);
}

static int rec_of(const ari_rec *r, const ari_chan *c)
{
  return strncmp(r->target, "channel:", 8) == 0 &&
         strcmp(r->target + 8, c->id) == 0 && !r->stored && !r->deleted &&
         (strcmp(r->state, "recording") == 0 ||
          strcmp(r->state, "queued") == 0);
}

void ari_in_chan_ending(ari_state *st, ari_chan *c)
{
  size_t i;

  for (i = 0; i < st->npbs; i++)
    if (strcmp(st->pbs[i].chan, c->id) == 0)
      pb_finish(st, &st->pbs[i], "done");
  /* A recording of the channel ends with it (a voicemail's usual end). */
  for (i = 0; i < st->nrecs; i++)
    if (rec_of(st->recs[i], c))
      ari_rec_finish(st, st->recs[i]);
}

void ari_in_key(ari_state *st, ari_chan *c, char key)
{
  for (size_t i = 0; i < st->nrecs; i++) {
    ari_rec *r = st->recs[i];
    if (rec_of(r, c) && (strcmp(r->term, "any") == 0 ||
                         (r->term[0] == key && r->term[1] == '\0')))
      ari_rec_finish(st, r);
  }
}

void ari_in_rec_started(ari_state *st, const ari_rec *r)
{
  ari_chan *c;

  if (strncmp(r->target, "channel:", 8) != 0 ||
      (c = ari_chan_find(st, r->target + 8)) == NULL)
    return;
  if (c->inbound && c->hangup_rec_ms > 0)
    ari_step_later(st, c, ST_CALLER_HANGUP, c->hangup_rec_ms);
}

void ari_in_moh(ari_state *st, ari_chan *c)
{
  if (c->inbound && c->hangup_moh_ms > 0)
    ari_step_later(st, c, ST_CALLER_HANGUP, c->hangup_moh_ms);
}

/* ---- the caller's plan ------------------------------------------------- */

void ari_in_step(ari_state *st, ari_chan *c, int step)
{
  if (step == ST_CALLER_HANGUP) {
    ari_chan_end(st, c, 16, 1);
    return;
  }
  /* ST_PRESS: the next group of keys, one event each. */
  while (c->keys[c->key_pos] != '\0' && c->keys[c->key_pos] != ',') {
    sim_buf f = { 0 };
    char key = c->keys[c->key_pos++];
    sim_buf_printf(&f, ", \"digit\": \"%c\", \"duration_ms\": 100, "
                   "\"channel\": ", key);
    ari_chan_json(&f, c);
    ari_emit(st, c->app, "ChannelDtmfReceived", &f);
    sim_buf_free(&f);
    ari_in_key(st, c, key);
    if (c->ended)
      return;
  }
  if (c->keys[c->key_pos] == ',')
    c->key_pos++;
}

typedef struct ari_inc {
  const vc_sim_ari_inbound *in;
  char *id;
  int rc;
} ari_inc;

static void ctl_incoming(vc_sim *sim, void *arg)
{
  ari_state *st = sim_provider_state(sim, "ari");
  ari_inc *x = arg;
  const vc_sim_ari_inbound *in = x->in;
  ari_chan *c = ari_chan_new(st);
  sim_buf f = { 0 };

  if (c == NULL) {
    x->rc = -ENOMEM;
    return;
  }
  st->seq++;
  snprintf(c->id, sizeof(c->id), "%lld.%lu",
           (long long)(sim_now_ms() / 1000), st->seq);
  snprintf(c->name, sizeof(c->name), "PJSIP/trunk-%08lx", st->seq);
  snprintf(c->endpoint, sizeof(c->endpoint), "PJSIP/trunk");
  snprintf(c->tech, sizeof(c->tech), "PJSIP");
  snprintf(c->resource, sizeof(c->resource), "trunk");
  snprintf(c->app, sizeof(c->app), "%s", in->app ? in->app : "vyomcomm");
  snprintf(c->caller_num, sizeof(c->caller_num), "%s",
           in->from ? in->from : "");
  snprintf(c->state, sizeof(c->state), "Ring");
  sim_random_hex(c->protocol_id, 32);
  snprintf(c->context, sizeof(c->context), "from-trunk");
  snprintf(c->exten, sizeof(c->exten), "%s", in->to);
  c->priority = 2;
  c->created_ms = sim_now_ms();
  c->inbound = 1;
  c->in_stasis = 1;
  snprintf(c->keys, sizeof(c->keys), "%s", in->keys ? in->keys : "");
  c->press_ms = in->press_ms ? in->press_ms : 100;
  c->hangup_moh_ms = in->hangup_moh_ms;
  c->hangup_rec_ms = in->hangup_record_ms;
  sim_buf_str(&f, ", \"args\": [], \"channel\": ");
  ari_chan_json(&f, c);
  ari_emit(st, c->app, "StasisStart", &f);
  sim_buf_free(&f);
  if (in->hangup_ms > 0)
    ari_step_later(st, c, ST_CALLER_HANGUP, in->hangup_ms);
  snprintf(x->id, 64, "%s", c->id);
  x->rc = 0;
}

int vc_sim_ari_incoming(vc_sim *s, const vc_sim_ari_inbound *in,
                        char id[64])
{
  ari_inc x = { in, id, 0 };

  if (s == NULL || in == NULL || id == NULL || in->to == NULL ||
      in->to[0] == '\0' || strlen(in->to) >= 64 ||
      (in->from != NULL && strlen(in->from) >= 64) ||
      (in->app != NULL && (in->app[0] == '\0' || strlen(in->app) >= 64)) ||
      (in->keys != NULL && strlen(in->keys) >= 128))
    return -EINVAL;
  if (sim_run(s, ctl_incoming, &x) != 0)
    return -ENOMEM;
  return x.rc;
}
