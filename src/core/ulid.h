/*
 * ULIDs: 48-bit millisecond time and 80 random bits, in Crockford base32.
 * Ids from one generator increase strictly, even within a millisecond.
 */
#ifndef VC_CORE_ULID_H
#define VC_CORE_ULID_H

#include <pthread.h>
#include <stdint.h>

#include "random.h"

typedef struct vc__ulid_gen {
  pthread_mutex_t lock;
  int64_t last_ms;
  uint8_t last_rand[10];
  vc__rng *rng;
} vc__ulid_gen;

void vc__ulid_gen_init(vc__ulid_gen *g, vc__rng *rng);
void vc__ulid_gen_fini(vc__ulid_gen *g);
/* Write a new id (26 characters and a NUL) for time `now_ms`. */
int vc__ulid_next(vc__ulid_gen *g, int64_t now_ms, char out[27]);
/* 1 when `s` has the shape of an id. */
int vc__ulid_valid(const char *s);
/* The millisecond time encoded in an id; -1 when invalid. */
int64_t vc__ulid_time(const char *s);

#endif
