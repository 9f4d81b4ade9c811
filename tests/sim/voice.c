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
  "twilio-voice", "exotel", "mcube", "ari", NULL
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
  free(c->dial_action);
  free(c->rec_cb);
  for (i = 0; i < c->ndocs; i++) {
    free(c->doc[i]);
    free(c->doc_url[i]);
  }
  free(c);
}

void sim_voice_fini(sim_voice *v)
{
  size_t i;

  sim_inbound_fini(v);        /* its threads use the calls */
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

/* A decimal such as "0.0140" in micro-units (digits beyond the sixth
 * dropped); -1 when it is not one. */
static long long micros_of(const char *s)
{
  long long whole = 0, frac = 0;
  int nw = 0, nf = 0;

  for (; *s >= '0' && *s <= '9' && nw < 12; s++, nw++)
    whole = whole * 10 + (*s - '0');
  if (*s == '.')
    for (s++; *s >= '0' && *s <= '9'; s++, nf++)
      if (nf < 6)
        frac = frac * 10 + (*s - '0');
  if (*s != '\0' || nw + nf == 0)
    return -1;
  for (; nf < 6; nf++)
    frac *= 10;
  return whole * 1000000 + frac;
}

int sim_voice_price(vc_sim *sim, const char *provider, const sim_vcall *c,
                    long secs, int decimals, int negative, char *out,
                    size_t size)
{
  char key[64], rate[32], delay[32];
  long long per_min, total, unit = 1;

  if (!c->ended || c->ended_ms == 0)
    return 0;
  snprintf(key, sizeof(key), "%s.price_per_min", provider);
  sim_setting(sim, key, rate, sizeof(rate));
  snprintf(key, sizeof(key), "%s.price_delay_ms", provider);
  sim_setting(sim, key, delay, sizeof(delay));
  if ((per_min = micros_of(rate)) < 0 ||
      sim_now_ms() < c->ended_ms + strtoll(delay, NULL, 10))
    return 0;
  total = per_min * ((secs + 59) / 60);
  for (int i = decimals; i < 6; i++)
    total /= 10;                 /* the provider's precision: truncated */
  for (int i = 0; i < decimals; i++)
    unit *= 10;
  snprintf(out, size, "%s%lld.%0*lld", negative && total ? "-" : "",
           total / unit, decimals, total % unit);
  return 1;
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
  char *s;

  if (asprintf(&p->tag, "%s %u %s %s", c->id, c->gen, kind, status) < 0) {
    p->tag = NULL;
    return -ENOMEM;
  }
  /* The status is the tag's last word: '_' stands for its spaces. */
  for (s = p->tag + strlen(p->tag) - strlen(status); *s; s++)
    if (*s == ' ')
      *s = '_';
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

int sim_voice_number(const char *s)
{
  size_t n = strlen(s);

  if (s[0] == '+')
    return n >= 9 && n <= 16 && strspn(s + 1, "0123456789") == n - 1;
  if (strspn(s, "0123456789") != n)
    return 0;
  return n == 10 || (n == 11 && s[0] == '0') ||
    (n == 12 && s[0] == '9' && s[1] == '1');
}

void sim_voice_limits(vc_sim_call_plan *p1, vc_sim_call_plan *p2,
                      unsigned long ring_s, unsigned long talk_s)
{
  vc_sim_call_plan *p[2] = { p1, p2 };
  int i;

  /* Bounded by the settings' hour, so the products cannot overflow. */
  if (talk_s > 0 && talk_s < 86400 && talk_s * 1000 < p2->talk_ms)
    p2->talk_ms = (unsigned)(talk_s * 1000);
  for (i = 0; i < 2 && ring_s > 0 && ring_s < 86400; i++)
    if (p[i]->outcome == VC_SIM_CALL_ANSWER && ring_s * 1000 < p[i]->ring_ms) {
      p[i]->outcome = VC_SIM_CALL_NO_ANSWER;
      p[i]->ring_ms = (unsigned)(ring_s * 1000);
    }
}

/* One step from the builder, silent when it posts nothing. */
static int two_legs_step(sim_vcall *c, const sim_voice_moment *m,
                         const char *kind, unsigned wait_ms, int ask,
                         sim_voice_post_fn fn, void *ctx, sim_post *out)
{
  const char *status = "in-progress";
  int rc = 0;

  memset(out, 0, sizeof(*out));
  if (ask)
    rc = fn(ctx, m, out, &status);
  if (rc == 0 && out->url == NULL) {
    sim_post_free(out);
    rc = sim_voice_silent(out, c, kind, status, 0);
  }
  out->wait_ms = wait_ms;
  if (rc == 0 && out->tag == NULL)
    rc = sim_voice_tag(out, c, kind, status);
  return rc;
}

size_t sim_voice_two_legs(sim_vcall *c, const vc_sim_call_plan *p1,
                          const vc_sim_call_plan *p2, int answer_moment,
                          sim_voice_post_fn fn, void *ctx, sim_post *s)
{
  sim_voice_moment m;
  size_t n = 0;
  int rc = 0;

  memset(&m, 0, sizeof(m));
  m.at = sim_now_ms();
  rc |= sim_voice_silent(&s[n++], c, "step", "ringing", 0);
  if (p1->outcome != VC_SIM_CALL_ANSWER) {
    /* A failed leg fails at once; the others after ringing. */
    unsigned w = p1->outcome == VC_SIM_CALL_FAILED ? 0 : p1->ring_ms;
    m.final = 1;
    m.leg = 1;
    m.outcome = p1->outcome;
    m.at += w;
    rc |= two_legs_step(c, &m, "final", w, 1, fn, ctx, &s[n++]);
    goto done;
  }
  /* The agent answered; the customer's leg rings. */
  m.at += p1->ring_ms;
  rc |= sim_voice_silent(&s[n++], c, "step", "ringing", p1->ring_ms);
  if (p2->outcome != VC_SIM_CALL_ANSWER) {
    unsigned w = p2->outcome == VC_SIM_CALL_FAILED ? 0 : p2->ring_ms;
    m.final = 1;
    m.leg = 2;
    m.outcome = p2->outcome;
    m.leg_s[0] = (long)((w + 999) / 1000);
    m.at += w;
    rc |= two_legs_step(c, &m, "final", w, 1, fn, ctx, &s[n++]);
    goto done;
  }
  m.at += p2->ring_ms;
  m.outcome = VC_SIM_CALL_ANSWER;
  rc |= two_legs_step(c, &m, "answer", p2->ring_ms, answer_moment, fn, ctx,
                      &s[n++]);
  m.final = 1;
  m.at += p2->talk_ms;
  m.talk_s = m.leg_s[1] = (long)((p2->talk_ms + 999) / 1000);
  m.leg_s[0] = (long)((p2->ring_ms + p2->talk_ms + 999) / 1000);
  rc |= two_legs_step(c, &m, "final", p2->talk_ms, 1, fn, ctx, &s[n++]);
done:
  if (rc) {
    while (n--)
      sim_post_free(&s[n]);
    return 0;
  }
  return n;
}

void sim_voice_schedule(vc_sim *sim, const char *provider, sim_post *s,
                        size_t n)
{
  sim_wh_opts o;
  size_t i;

  if (n == 0)
    return;
  sim_webhook_opts(sim, provider, &o);
  if (o.off) {
    for (i = 0; i < n; i++)
      if (*s[i].url) {
        s[i].url[0] = '\0';
        s[i].no_dup = 1;
      }
    o.off = 0;
  }
  sim_webhook_schedule(sim, provider, s, n, &o);
}
