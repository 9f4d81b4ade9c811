/*
 * Token buckets and circuit breakers per channel. See limits.h.
 *
 * A breaker opens after VC__BREAKER_THRESHOLD consecutive failures and
 * stays open VC__BREAKER_OPEN_MS; then it lets one request through
 * (half-open): success closes it, failure opens it again.
 */
#include "core/common.h"
#include "limits.h"

#include <stdio.h>

#define MAX_CHANNELS 4096

typedef struct channel_state {
  char id[VC_ID_SIZE];
  double tokens;
  int64_t refilled_at;
  int failures;          /* consecutive */
  int64_t open_until;    /* 0 when closed */
  int probing;           /* a half-open request is out */
  int64_t last_used;
} channel_state;

struct vc__limits {
  pthread_mutex_t lock;
  channel_state *items;
  size_t n, cap;
};

int vc__limits_new(vc__limits **out)
{
  vc__limits *l = vc__calloc(1, sizeof(*l));

  if (l == NULL)
    return vc_error_set_oom();
  pthread_mutex_init(&l->lock, NULL);
  *out = l;
  return 0;
}

void vc__limits_free(vc__limits *l)
{
  if (l == NULL)
    return;
  pthread_mutex_destroy(&l->lock);
  vc__free(l->items);
  vc__free(l);
}

/* The state of a channel, created on first use. With the lock held. */
static channel_state *state_of(vc__limits *l, const char *id, int64_t now)
{
  channel_state *oldest = NULL;

  for (size_t i = 0; i < l->n; i++) {
    if (strcmp(l->items[i].id, id) == 0)
      return &l->items[i];
    if (oldest == NULL || l->items[i].last_used < oldest->last_used)
      oldest = &l->items[i];
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    channel_state *p;
    if (cap > MAX_CHANNELS)
      cap = MAX_CHANNELS;
    if (l->n < cap && (p = vc__realloc(l->items, cap * sizeof(*p))) != NULL) {
      l->items = p;
      l->cap = cap;
    } else if (oldest != NULL) {
      /* Bounded: forget the channel idle the longest. */
      memset(oldest, 0, sizeof(*oldest));
      snprintf(oldest->id, sizeof(oldest->id), "%s", id);
      oldest->tokens = -1;
      return oldest;
    } else {
      return NULL;
    }
  }
  memset(&l->items[l->n], 0, sizeof(l->items[0]));
  snprintf(l->items[l->n].id, sizeof(l->items[0].id), "%s", id);
  l->items[l->n].tokens = -1; /* fill on first use */
  l->items[l->n].last_used = now;
  return &l->items[l->n++];
}

int vc__limits_acquire(vc__limits *l, const char *channel_id, double rate,
                       int64_t now, int64_t *ready_at)
{
  channel_state *c;
  int ok = 1;

  *ready_at = now;
  pthread_mutex_lock(&l->lock);
  if ((c = state_of(l, channel_id, now)) == NULL) {
    pthread_mutex_unlock(&l->lock);
    return 1; /* out of memory for bookkeeping: do not block sending */
  }
  c->last_used = now;
  if (c->open_until > 0) {
    if (now < c->open_until || c->probing) {
      *ready_at = c->probing ? now + 1000 : c->open_until;
      pthread_mutex_unlock(&l->lock);
      return 0;
    }
    c->probing = 1; /* half-open: this request is the probe */
  }
  if (rate > 0) {
    double burst = rate < 1 ? 1 : rate;
    if (c->tokens < 0) {
      c->tokens = burst;
      c->refilled_at = now;
    }
    c->tokens += (double)(now - c->refilled_at) * rate / 1000.0;
    if (c->tokens > burst)
      c->tokens = burst;
    c->refilled_at = now;
    if (c->tokens >= 1) {
      c->tokens -= 1;
    } else {
      ok = 0;
      *ready_at = now + (int64_t)((1 - c->tokens) * 1000.0 / rate) + 1;
      if (c->probing)
        c->probing = 0;
    }
  }
  pthread_mutex_unlock(&l->lock);
  return ok;
}

void vc__limits_report(vc__limits *l, const char *channel_id, int ok,
                       int64_t now)
{
  channel_state *c;

  pthread_mutex_lock(&l->lock);
  if ((c = state_of(l, channel_id, now)) != NULL) {
    if (ok) {
      c->failures = 0;
      c->open_until = 0;
      c->probing = 0;
    } else {
      c->failures++;
      if (c->probing || c->failures >= VC__BREAKER_THRESHOLD) {
        c->open_until = now + VC__BREAKER_OPEN_MS;
        c->probing = 0;
      }
    }
  }
  pthread_mutex_unlock(&l->lock);
}

int vc__limits_breaker_open(vc__limits *l, const char *channel_id,
                            int64_t now)
{
  channel_state *c;
  int open = 0;

  pthread_mutex_lock(&l->lock);
  if ((c = state_of(l, channel_id, now)) != NULL)
    open = c->open_until > 0 && now < c->open_until;
  pthread_mutex_unlock(&l->lock);
  return open;
}
