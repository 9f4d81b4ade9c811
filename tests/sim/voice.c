/*
 * What the voice providers share: per-number call plans (answer, busy,
 * no-answer, failed, canceled, with ring and talk times) and the table of
 * simulated calls. Each voice provider's state starts with a sim_voice,
 * so the control functions of sim.h reach it by provider name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_int.h"

static const char *const voice_providers[] = {
  "twilio-voice", "exotel", "mcube", NULL
};

static sim_voice *voice_of(vc_sim *s, const char *provider)
{
  size_t i;

  if (s == NULL || provider == NULL)
    return NULL;
  for (i = 0; voice_providers[i]; i++)
    if (strcmp(provider, voice_providers[i]) == 0)
      return sim_provider_state(s, provider);
  return NULL;
}

/* The digits of a number, bounded; "" when it has none. */
static void digits_of(const char *s, char out[40])
{
  size_t n = 0;

  for (; s && *s && n < 39; s++)
    if (*s >= '0' && *s <= '9')
      out[n++] = *s;
  out[n] = '\0';
}

int sim_voice_init(sim_voice *v, vc_sim *sim, const char *provider)
{
  memset(v, 0, sizeof(*v));
  v->sim = sim;
  v->provider = provider;
  return pthread_mutex_init(&v->mu, NULL) == 0 ? 0 : -ENOMEM;
}

static void call_free(sim_vcall *c)
{
  size_t i;

  free(c->cb_url);
  free(c->url);
  for (i = 0; i < c->ndocs; i++) {
    free(c->doc[i]);
    free(c->doc_url[i]);
  }
  free(c);
}

void sim_voice_fini(sim_voice *v)
{
  size_t i;

  for (i = 0; i < v->ncalls; i++)
    call_free(v->calls[i]);
  free(v->calls);
  free(v->plans);
  pthread_mutex_destroy(&v->mu);
}

static unsigned setting_ms(sim_voice *v, const char *name, unsigned dflt)
{
  char key[64], val[32], *end;
  unsigned long ms;

  snprintf(key, sizeof(key), "%s.%s", v->provider, name);
  sim_setting(v->sim, key, val, sizeof(val));
  ms = strtoul(val, &end, 10);
  if (end == val || *end != '\0' || ms > 3600000)
    return dflt;
  return (unsigned)ms;
}

void sim_voice_plan(sim_voice *v, const char *number, vc_sim_call_plan *out)
{
  static const vc_sim_call_plan init = VC_SIM_CALL_PLAN_INIT;
  char d[40];
  size_t i;

  digits_of(number, d);
  *out = init;
  pthread_mutex_lock(&v->mu);
  if (v->has_default)
    *out = v->dflt;
  for (i = 0; i < v->nplans; i++)
    if (strcmp(v->plans[i].digits, d) == 0)
      *out = v->plans[i].plan;
  pthread_mutex_unlock(&v->mu);
  if (out->ring_ms == 0)
    out->ring_ms = setting_ms(v, "ring_ms", 50);
  if (out->talk_ms == 0)
    out->talk_ms = setting_ms(v, "talk_ms", 50);
}

sim_vcall *sim_voice_add(sim_voice *v)
{
  sim_vcall *c;

  if (v->ncalls >= SIM_VOICE_MAX_CALLS)
    return NULL;
  if (v->ncalls == v->capcalls) {
    size_t ncap = v->capcalls ? v->capcalls * 2 : 64;
    sim_vcall **nc = realloc(v->calls, ncap * sizeof(*nc));
    if (nc == NULL)
      return NULL;
    v->calls = nc;
    v->capcalls = ncap;
  }
  c = calloc(1, sizeof(*c));
  if (c != NULL)
    v->calls[v->ncalls++] = c;
  return c;
}

sim_vcall *sim_voice_find(sim_voice *v, const char *id)
{
  size_t i;

  for (i = v->ncalls; i-- > 0; )
    if (strcmp(v->calls[i]->id, id) == 0)
      return v->calls[i];
  return NULL;
}

void sim_voice_datetime(char out[24], int64_t unix_ms)
{
  time_t t = (time_t)(unix_ms / 1000);
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(out, 24, "%Y-%m-%d %H:%M:%S", &tm);
}

/* ---- sim.h ----------------------------------------------------------- */

int vc_sim_call_plan_set(vc_sim *s, const char *provider, const char *number,
                         const vc_sim_call_plan *p)
{
  sim_voice *v = voice_of(s, provider);
  char d[40];
  size_t i;
  int rc = 0;

  if (v == NULL)
    return s == NULL ? -EINVAL : -ENOENT;
  if (p != NULL && (unsigned)p->outcome > VC_SIM_CALL_CANCELED)
    return -EINVAL;
  digits_of(number, d);
  if (number != NULL && d[0] == '\0')
    return -EINVAL;
  pthread_mutex_lock(&v->mu);
  if (number == NULL) {
    v->has_default = p != NULL;
    if (p != NULL)
      v->dflt = *p;
    goto out;
  }
  for (i = 0; i < v->nplans; i++)
    if (strcmp(v->plans[i].digits, d) == 0)
      break;
  if (p == NULL) {
    if (i < v->nplans)
      v->plans[i] = v->plans[--v->nplans];
    goto out;
  }
  if (i == v->nplans) {
    sim_voice_plan_entry *np = realloc(v->plans, (v->nplans + 1) *
                                       sizeof(*np));
    if (np == NULL) {
      rc = -ENOMEM;
      goto out;
    }
    v->plans = np;
    memcpy(v->plans[v->nplans++].digits, d, sizeof(d));
  }
  v->plans[i].plan = *p;
out:
  pthread_mutex_unlock(&v->mu);
  return rc;
}

int vc_sim_call_status(vc_sim *s, const char *provider, const char *call_id,
                       char *buf, size_t size)
{
  sim_voice *v = voice_of(s, provider);
  sim_vcall *c;
  int rc;

  if (v == NULL || call_id == NULL || buf == NULL || size == 0)
    return v == NULL && s != NULL && provider != NULL ? -ENOENT : -EINVAL;
  pthread_mutex_lock(&v->mu);
  c = sim_voice_find(v, call_id);
  if (c == NULL) {
    rc = -ENOENT;
  } else if (strlen(c->status) >= size) {
    rc = -ENOSPC;
  } else {
    strcpy(buf, c->status);
    rc = (int)strlen(c->status);
  }
  pthread_mutex_unlock(&v->mu);
  return rc;
}

/* ---- a generic call life (Exotel, mCube) ------------------------------ */

int sim_voice_tag(sim_post *p, const sim_vcall *c, const char *kind,
                  const char *status)
{
  if (asprintf(&p->tag, "%s %u %s %s", c->id, c->gen, kind, status) < 0) {
    p->tag = NULL;
    return -ENOMEM;
  }
  return 0;
}

int sim_voice_silent(sim_post *p, const sim_vcall *c, const char *kind,
                     const char *status, unsigned wait_ms)
{
  memset(p, 0, sizeof(*p));
  p->url = strdup("");
  p->no_dup = 1;
  p->wait_ms = wait_ms;
  if (p->url == NULL)
    return -ENOMEM;
  return sim_voice_tag(p, c, kind, status);
}

int sim_voice_prepare(void *state, const sim_post *post)
{
  sim_voice *v = state;
  char id[48], kind[16], status[24];
  unsigned gen;
  sim_vcall *c;
  int rc;

  if (post->tag == NULL ||
      sscanf(post->tag, "%47s %u %15s %23s", id, &gen, kind, status) != 4)
    return 0;
  pthread_mutex_lock(&v->mu);
  c = sim_voice_find(v, id);
  if (c == NULL || c->gen != gen) {
    rc = 2;
  } else {
    int64_t now = sim_now_ms();
    /* '_' stands for a space in a tag ("Executive_Busy"). */
    for (char *p = status; *p; p++)
      if (*p == '_')
        *p = ' ';
    snprintf(c->status, sizeof(c->status), "%s", status);
    if (strcmp(kind, "answer") == 0)
      c->answered_ms = now;
    if (strcmp(kind, "final") == 0) {
      c->ended = 1;
      c->ended_ms = now;
    }
    rc = *post->url ? 0 : 1;
  }
  pthread_mutex_unlock(&v->mu);
  return rc;
}
