/*
 * The simulated Asterisk's control functions of sim.h: what a test does
 * to it from outside (DTMF, a hangup from the far end, dropping the
 * events WebSocket, a raw frame, counts, a channel's state). Each runs
 * on the libre thread through sim_run(), which owns the ARI state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ari_int.h"

typedef struct ari_ctl {
  const char *id;
  const char *digits;
  int cause, graceful;
  int rc;
  vc_sim_ari_channel *out;
} ari_ctl;

static void ctl_dtmf(vc_sim *sim, void *arg)
{
  ari_state *st = sim_provider_state(sim, "ari");
  ari_ctl *x = arg;
  ari_chan *c = ari_chan_find(st, x->id);
  const char *d;

  if (c == NULL) {
    x->rc = -ENOENT;
    return;
  }
  if (strcmp(c->state, "Up") != 0) {
    x->rc = -EAGAIN;
    return;
  }
  for (d = x->digits; *d; d++) {
    sim_buf f = { 0 };
    sim_buf_printf(&f, ", \"digit\": \"%c\", \"duration_ms\": 100, "
                   "\"channel\": ", *d);
    ari_chan_json(&f, c);
    ari_emit(st, c->app, "ChannelDtmfReceived", &f);
    sim_buf_free(&f);
    ari_in_key(st, c, *d);
  }
  x->rc = 0;
}

int vc_sim_ari_dtmf(vc_sim *s, const char *channel_id, const char *digits)
{
  ari_ctl x = { channel_id, digits, 0, 0, 0, NULL };
  size_t n;

  if (s == NULL || channel_id == NULL || digits == NULL)
    return -EINVAL;
  n = strlen(digits);
  if (n == 0 || n > 32 || strspn(digits, "0123456789*#ABCD") != n)
    return -EINVAL;
  if (sim_run(s, ctl_dtmf, &x) != 0)
    return -ENOMEM;
  return x.rc;
}

static void ctl_hangup(vc_sim *sim, void *arg)
{
  ari_state *st = sim_provider_state(sim, "ari");
  ari_ctl *x = arg;
  ari_chan *c = ari_chan_find(st, x->id);

  if (c == NULL) {
    x->rc = -ENOENT;
    return;
  }
  /* Before the answer the callee declines; after it, hangs up. */
  if (c->dialing || strcmp(c->state, "Up") != 0) {
    if (c->dialing) {
      c->dialing = 0;
      ari_emit_dial(st, c, x->cause == 17 ? "BUSY" : "CANCEL");
    }
    ari_chan_end(st, c, x->cause, 0);
  } else {
    ari_chan_end(st, c, x->cause, 1);
  }
  x->rc = 0;
}

int vc_sim_ari_hangup(vc_sim *s, const char *channel_id, int cause)
{
  ari_ctl x = { channel_id, NULL, cause ? cause : 16, 0, 0, NULL };

  if (s == NULL || channel_id == NULL || cause < 0 || cause > 127)
    return -EINVAL;
  if (sim_run(s, ctl_hangup, &x) != 0)
    return -ENOMEM;
  return x.rc;
}

static void ctl_drop(vc_sim *sim, void *arg)
{
  ari_state *st = sim_provider_state(sim, "ari");
  ari_ctl *x = arg;

  x->rc = (int)st->nsocks;
  while (st->nsocks > 0) {
    ari_sock *k = st->socks[st->nsocks - 1];
    sim_ws_close(k->ws, x->graceful ? 1001 : 0);
    ari_sock_remove(st, k);
  }
}

int vc_sim_ari_drop(vc_sim *s, int graceful)
{
  ari_ctl x = { NULL, NULL, 0, graceful, 0, NULL };

  if (s == NULL)
    return -EINVAL;
  if (sim_run(s, ctl_drop, &x) != 0)
    return -ENOMEM;
  return x.rc;
}

typedef struct ari_raw {
  const char *text;
  size_t len;
  int rc;
} ari_raw;

static void ctl_send(vc_sim *sim, void *arg)
{
  ari_state *st = sim_provider_state(sim, "ari");
  ari_raw *x = arg;
  size_t i;

  x->rc = 0;
  for (i = 0; i < st->nsocks; i++)
    if (sim_ws_send(st->socks[i]->ws, x->text, x->len) == 0)
      x->rc++;
}

int vc_sim_ari_send(vc_sim *s, const char *text, size_t len)
{
  ari_raw x = { text, len, 0 };

  if (s == NULL || (text == NULL && len > 0))
    return -EINVAL;
  if (sim_run(s, ctl_send, &x) != 0)
    return -ENOMEM;
  return x.rc;
}

static void ctl_counts(vc_sim *sim, void *arg)
{
  ari_state *st = sim_provider_state(sim, "ari");
  ari_ctl *x = arg;

  x->rc = x->cause ? (int)st->nsocks : (int)st->requests;
}

long vc_sim_ari_requests(vc_sim *s)
{
  ari_ctl x = { NULL, NULL, 0, 0, 0, NULL };

  if (s == NULL || sim_run(s, ctl_counts, &x) != 0)
    return -EINVAL;
  return x.rc;
}

int vc_sim_ari_sockets(vc_sim *s)
{
  ari_ctl x = { NULL, NULL, 1, 0, 0, NULL };

  if (s == NULL || sim_run(s, ctl_counts, &x) != 0)
    return -EINVAL;
  return x.rc;
}

static void ctl_channel(vc_sim *sim, void *arg)
{
  ari_state *st = sim_provider_state(sim, "ari");
  ari_ctl *x = arg;
  ari_chan *c = ari_chan_any(st, x->id);
  vc_sim_ari_channel *o = x->out;

  if (c == NULL) {
    x->rc = -ENOENT;
    return;
  }
  memset(o, 0, sizeof(*o));
  snprintf(o->id, sizeof(o->id), "%s", c->id);
  snprintf(o->endpoint, sizeof(o->endpoint), "%s", c->endpoint);
  snprintf(o->state, sizeof(o->state), "%s", c->state);
  snprintf(o->bridge, sizeof(o->bridge), "%s", c->bridge);
  snprintf(o->dtmf_sent, sizeof(o->dtmf_sent), "%s", c->dtmf_sent);
  snprintf(o->redirect, sizeof(o->redirect), "%s", c->redirect);
  o->in_stasis = c->in_stasis;
  o->held = c->held;
  o->moh = c->moh;
  o->ended = c->ended;
  o->cause = c->cause;
  o->inbound = c->inbound;
  snprintf(o->played, sizeof(o->played), "%s", c->played);
  snprintf(o->recording, sizeof(o->recording), "%s", c->recording);
  x->rc = 0;
}

int vc_sim_ari_channel_get(vc_sim *s, const char *key,
                           vc_sim_ari_channel *out)
{
  ari_ctl x = { key, NULL, 0, 0, 0, out };

  if (s == NULL || out == NULL)
    return -EINVAL;
  if (sim_run(s, ctl_channel, &x) != 0)
    return -ENOMEM;
  return x.rc;
}
