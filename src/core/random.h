/*
 * Randomness: the operating system's for keys, nonces and salts; a
 * seedable generator (the context's) for ids and jitter.
 */
#ifndef VC_CORE_RANDOM_H
#define VC_CORE_RANDOM_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

/* Fill `buf` from the operating system's CSPRNG. 0 or VC_ERROR. */
int vc__random_os(void *buf, size_t len);

/* A generator: seeded (deterministic) or reading the OS. Thread-safe. */
typedef struct vc__rng {
  pthread_mutex_t lock;
  uint64_t s[4];   /* xoshiro256** state when seeded */
  int seeded;
  /* Unseeded: OS bytes read ahead, so that an id costs no system call.
   * Dropped in a child process (fork), which must not repeat them. */
  uint8_t pool[256];
  size_t pool_left;            /* unused bytes at the end of pool */
  unsigned pool_fork;          /* forks counted (random.c) when filled */
} vc__rng;

void vc__rng_init(vc__rng *r, uint64_t seed); /* 0 = OS randomness */
void vc__rng_fini(vc__rng *r);
int vc__rng_bytes(vc__rng *r, void *buf, size_t len);
/* Uniform in [0, bound); bound > 0. */
uint64_t vc__rng_below(vc__rng *r, uint64_t bound);

#endif
