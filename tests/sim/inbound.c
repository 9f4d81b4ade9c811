/*
 * Inbound calls, the part every provider shares: a call to one of the
 * account's numbers is a thread that plays the provider's side of the
 * call in order (twilio_inbound.c executes TwiML, exotel_inbound.c a
 * flow of applets), with blocking requests to the application. Waits are
 * interruptible: by the caller's planned hangup time, by an update of the
 * call through the provider's API, and by the simulator's stop. Each run
 * keeps a log of what it did, for tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "sim_int.h"

enum { INB_MAX_ANSWER = 64 * 1024, INB_TIMEOUT_MS = 10000 };

static unsigned setting_uint(vc_sim *sim, const char *provider,
                             const char *name, unsigned dflt)
{
  char key[64], val[32], *end;
  unsigned long n;

  snprintf(key, sizeof(key), "%s.%s", provider, name);
  sim_setting(sim, key, val, sizeof(val));
  n = strtoul(val, &end, 10);
  if (end == val || *end != '\0' || n > 3600000)
    return dflt;
  return (unsigned)n;
}

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

void sim_inbound_discard(sim_icall *t)
{
  if (t == NULL)
    return;
  free(t->voice_url);
  free(t->status_url);
  free(t->digits);
  free(t->hangup_verb);
  free(t->api_url);
  sim_buf_free(&t->log);
  free(t);
}

sim_icall *sim_inbound_new(sim_voice *v, const vc_sim_incoming *in)
{
  sim_icall *t = calloc(1, sizeof(*t));

  if (t == NULL)
    return NULL;
  t->v = v;
  snprintf(t->from, sizeof(t->from), "%s", in->from ? in->from : "");
  snprintf(t->to, sizeof(t->to), "%s", in->to ? in->to : "");
  t->voice_url = dup_or_null(in->voice_url);
  t->status_url = dup_or_null(in->status_url);
  t->digits = dup_or_null(in->digits);
  t->hangup_verb = dup_or_null(in->hangup_verb);
  t->digits_next = t->digits;
  t->hangup_count = in->hangup_count ? in->hangup_count : 1;
  t->hangup_after_ms = in->hangup_after_ms;
  t->record_s = in->record_s ? in->record_s : 5;
  /* Simulated time: a second of a Pause (or of a gather's timeout, of a
   * recording) lasts pause_ms; a Say or Play say_ms. */
  t->pause_ms = setting_uint(v->sim, v->provider, "pause_ms", 10);
  t->say_ms = setting_uint(v->sim, v->provider, "say_ms", 0);
  t->max_fetches = setting_uint(v->sim, v->provider, "max_fetches", 200);
  sim_setting(v->sim, "twilio.auth_token", t->token, sizeof(t->token));
  sim_setting(v->sim, strcmp(v->provider, "exotel") == 0
                        ? "exotel.account_sid" : "twilio.account_sid",
              t->account, sizeof(t->account));
  snprintf(t->base, sizeof(t->base), "%s", vc_sim_base_url(v->sim));
  t->start_mono = sim_mono_ms();
  if (t->voice_url == NULL || (in->status_url && !t->status_url) ||
      (in->digits && !t->digits) || (in->hangup_verb && !t->hangup_verb)) {
    sim_inbound_discard(t);
    return NULL;
  }
  return t;
}

int sim_inbound_start(sim_icall *t)
{
  sim_voice *v = t->v;
  int rc = 0;

  pthread_mutex_lock(&v->mu);
  if (v->inbound == NULL) {
    v->inbound = calloc(1, sizeof(*v->inbound));
    if (v->inbound == NULL ||
        pthread_cond_init(&v->inbound->cond, NULL) != 0) {
      free(v->inbound);
      v->inbound = NULL;
      rc = -ENOMEM;
    }
  }
  if (rc == 0 && v->inbound->stopping)
    rc = -ESHUTDOWN;
  if (rc == 0 && pthread_create(&t->th, NULL, t->fn, t) != 0)
    rc = -ENOMEM;
  if (rc == 0) {
    t->next = v->inbound->calls;
    v->inbound->calls = t;
  }
  pthread_mutex_unlock(&v->mu);
  if (rc != 0)
    sim_inbound_discard(t);
  return rc;
}

sim_icall *sim_inbound_find(sim_voice *v, const char *sid)
{
  sim_icall *t;

  for (t = v->inbound ? v->inbound->calls : NULL; t; t = t->next)
    if (strcmp(t->sid, sid) == 0)
      return t;
  return NULL;
}

/* Caller holds mu. */
static int must_stop(sim_icall *t, uint64_t now)
{
  if (t->v->inbound->stopping || t->api_hangup || t->api_url != NULL ||
      t->caller_gone || t->leg_hangup)
    return 1;
  if (t->hangup_after_ms > 0 && now >= t->start_mono + t->hangup_after_ms) {
    t->caller_gone = 1;
    return 1;
  }
  return 0;
}

int sim_inbound_stopped(sim_icall *t)
{
  int rc;

  pthread_mutex_lock(&t->v->mu);
  rc = must_stop(t, sim_mono_ms());
  pthread_mutex_unlock(&t->v->mu);
  return rc;
}

int sim_inbound_wait(sim_icall *t, unsigned ms)
{
  uint64_t end = sim_mono_ms() + ms, now;
  int rc = 0;

  pthread_mutex_lock(&t->v->mu);
  while (!(rc = must_stop(t, now = sim_mono_ms())) && now < end) {
    uint64_t until = end;
    struct timespec ts;
    if (t->hangup_after_ms > 0 && t->start_mono + t->hangup_after_ms < until)
      until = t->start_mono + t->hangup_after_ms;
    /* The condition uses the realtime clock: wait the difference. */
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)((until - now) / 1000);
    ts.tv_nsec += (long)((until - now) % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    (void)pthread_cond_timedwait(&t->v->inbound->cond, &t->v->mu, &ts);
  }
  pthread_mutex_unlock(&t->v->mu);
  return rc;
}

void sim_inbound_log(sim_icall *t, const char *fmt, ...)
{
  char line[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&t->v->mu);
  sim_buf_str(&t->log, line);
  sim_buf_str(&t->log, "\n");
  pthread_mutex_unlock(&t->v->mu);
}

void sim_inbound_digits(sim_icall *t, char out[40])
{
  const char *p = t->digits_next;
  size_t n;

  out[0] = '\0';
  if (p == NULL)
    return;
  n = strcspn(p, ",");
  snprintf(out, 40, "%.*s", (int)(n < 39 ? n : 39), p);
  t->digits_next = p[n] == ',' ? p + n + 1 : NULL;
}

int sim_inbound_hangs_up_at(sim_icall *t, const char *verb)
{
  if (t->hangup_verb == NULL || strcasecmp(t->hangup_verb, verb) != 0)
    return 0;
  return ++t->verbs_seen == t->hangup_count;
}

void sim_inbound_kick(sim_icall *t)
{
  if (t->v->inbound != NULL)
    pthread_cond_broadcast(&t->v->inbound->cond);
}

void sim_inbound_finish(sim_icall *t)
{
  pthread_mutex_lock(&t->v->mu);
  t->done = 1;
  pthread_cond_broadcast(&t->v->inbound->cond);
  pthread_mutex_unlock(&t->v->mu);
}

static size_t keep(char *p, size_t size, size_t n, void *arg)
{
  sim_buf *b = arg;
  size_t len = size * n;

  if (b->len < INB_MAX_ANSWER)
    sim_buf_add(b, p, len < INB_MAX_ANSWER - b->len ? len
                                                   : INB_MAX_ANSWER - b->len);
  return len;
}

long sim_inbound_http(const char *url, const char *content_type,
                      const char *headers, const char *body, size_t len,
                      char **answer)
{
  CURL *curl = curl_easy_init();
  struct curl_slist *h = NULL;
  sim_buf got = { 0 };
  long code = 0;
  char line[1200];

  if (answer)
    *answer = NULL;
  if (curl == NULL)
    return 0;
  if (content_type != NULL) {
    snprintf(line, sizeof(line), "Content-Type: %s", content_type);
    h = curl_slist_append(h, line);
  }
  for (const char *p = headers; p && *p; ) {
    size_t n = strcspn(p, "\n");
    if (n > 0 && n < sizeof(line)) {
      memcpy(line, p, n);
      line[n] = '\0';
      h = curl_slist_append(h, line);
    }
    p += n + (p[n] == '\n');
  }
  h = curl_slist_append(h, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url);
  if (body != NULL) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)INB_TIMEOUT_MS);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &got);
  if (curl_easy_perform(curl) == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(h);
  curl_easy_cleanup(curl);
  if (answer != NULL && !got.oom)
    *answer = got.ptr ? got.ptr : strdup("");
  else
    sim_buf_free(&got);
  return code;
}

void sim_inbound_fini(sim_voice *v)
{
  sim_icall *t, *next;

  if (v->inbound == NULL)
    return;
  pthread_mutex_lock(&v->mu);
  v->inbound->stopping = 1;
  pthread_cond_broadcast(&v->inbound->cond);
  t = v->inbound->calls;
  v->inbound->calls = NULL;
  pthread_mutex_unlock(&v->mu);
  for (; t; t = next) {
    next = t->next;
    pthread_join(t->th, NULL);
    sim_inbound_discard(t);
  }
  pthread_cond_destroy(&v->inbound->cond);
  free(v->inbound);
  v->inbound = NULL;
}

/* ---- sim.h ----------------------------------------------------------- */

static sim_voice *voice(vc_sim *s, const char *provider)
{
  if (s == NULL || provider == NULL ||
      (strcmp(provider, "twilio-voice") != 0 &&
       strcmp(provider, "exotel") != 0))
    return NULL;
  return sim_provider_state(s, provider);
}

int vc_sim_incoming_wait(vc_sim *s, const char *provider, const char *sid,
                         int timeout_ms)
{
  sim_voice *v = voice(s, provider);
  uint64_t end = sim_mono_ms() + (timeout_ms > 0 ? (unsigned)timeout_ms : 0);
  sim_icall *t;
  int rc = 0;

  if (v == NULL || sid == NULL)
    return -EINVAL;
  pthread_mutex_lock(&v->mu);
  while ((t = sim_inbound_find(v, sid)) != NULL && !t->done) {
    struct timespec ts;
    uint64_t now = sim_mono_ms();
    if (timeout_ms >= 0 && now >= end) {
      rc = -ETIMEDOUT;
      break;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    if (timeout_ms >= 0 && end - now < 1000) {
      ts.tv_sec -= 1;
      ts.tv_nsec += (long)(end - now) * 1000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
    }
    (void)pthread_cond_timedwait(&v->inbound->cond, &v->mu, &ts);
  }
  if (t == NULL)
    rc = -ENOENT;
  pthread_mutex_unlock(&v->mu);
  return rc;
}

int vc_sim_incoming_log(vc_sim *s, const char *provider, const char *sid,
                        char *buf, size_t size)
{
  sim_voice *v = voice(s, provider);
  sim_icall *t;
  int rc = -ENOENT;

  if (v == NULL || sid == NULL || buf == NULL || size == 0)
    return -EINVAL;
  pthread_mutex_lock(&v->mu);
  if ((t = sim_inbound_find(v, sid)) != NULL) {
    snprintf(buf, size, "%s", t->log.ptr ? t->log.ptr : "");
    rc = (int)(t->log.len < 0x7fffffff ? t->log.len : 0x7fffffff);
  }
  pthread_mutex_unlock(&v->mu);
  return rc;
}
