/*
 * Randomness sources. See random.h.
 */
#include "common.h"
#include "random.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/random.h>

int vc__random_os(void *buf, size_t len)
{
  uint8_t *p = buf;

  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return vc__error_set(VC_ERRCLASS_OS, VC_ERROR,
                           "getrandom failed: %s", strerror(errno));
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Forks seen by this process: a pool filled before a fork is not used
 * after it, in the child or the parent's other child. */
static atomic_uint forks;
static pthread_once_t forks_once = PTHREAD_ONCE_INIT;

static void count_fork(void)
{
  atomic_fetch_add(&forks, 1);
}

static void forks_init(void)
{
  pthread_atfork(NULL, NULL, count_fork);
}

static int pool_bytes(vc__rng *r, uint8_t *p, size_t len)
{
  unsigned now;
  int rc;

  pthread_once(&forks_once, forks_init);
  now = atomic_load(&forks);
  pthread_mutex_lock(&r->lock);
  if (r->pool_fork != now)
    r->pool_left = 0;
  while (len > 0) {
    size_t n;
    if (r->pool_left == 0) {
      if ((rc = vc__random_os(r->pool, sizeof(r->pool))) < 0) {
        pthread_mutex_unlock(&r->lock);
        return rc;
      }
      r->pool_left = sizeof(r->pool);
      r->pool_fork = now;
    }
    n = len < r->pool_left ? len : r->pool_left;
    memcpy(p, r->pool + sizeof(r->pool) - r->pool_left, n);
    /* Each byte is given out once. */
    memset(r->pool + sizeof(r->pool) - r->pool_left, 0, n);
    r->pool_left -= n;
    p += n;
    len -= n;
  }
  pthread_mutex_unlock(&r->lock);
  return 0;
}

static uint64_t splitmix64(uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro_next(uint64_t s[4])
{
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

void vc__rng_init(vc__rng *r, uint64_t seed)
{
  memset(r, 0, sizeof(*r));
  pthread_mutex_init(&r->lock, NULL);
  if (seed != 0) {
    for (int i = 0; i < 4; i++)
      r->s[i] = splitmix64(&seed);
    r->seeded = 1;
  }
}

void vc__rng_fini(vc__rng *r)
{
  pthread_mutex_destroy(&r->lock);
}

int vc__rng_bytes(vc__rng *r, void *buf, size_t len)
{
  uint8_t *p = buf;

  if (!r->seeded)
    return pool_bytes(r, p, len);
  pthread_mutex_lock(&r->lock);
  while (len > 0) {
    uint64_t v = xoshiro_next(r->s);
    size_t n = len < 8 ? len : 8;
    memcpy(p, &v, n);
    p += n;
    len -= n;
  }
  pthread_mutex_unlock(&r->lock);
  return 0;
}

uint64_t vc__rng_below(vc__rng *r, uint64_t bound)
{
  uint64_t v, limit = UINT64_MAX - UINT64_MAX % bound;

  do {
    if (vc__rng_bytes(r, &v, sizeof(v)) < 0)
      return 0;
  } while (v >= limit);
  return v % bound;
}
