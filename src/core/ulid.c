/*
 * ULID generation. See ulid.h.
 */
#include "common.h"
#include "ulid.h"

static const char ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void vc__ulid_gen_init(vc__ulid_gen *g, vc__rng *rng)
{
  memset(g, 0, sizeof(*g));
  pthread_mutex_init(&g->lock, NULL);
  g->rng = rng;
  g->last_ms = -1;
}

void vc__ulid_gen_fini(vc__ulid_gen *g)
{
  pthread_mutex_destroy(&g->lock);
}

/* Add one to an 80-bit big-endian number; 1 on overflow. */
static int increment(uint8_t r[10])
{
  for (int i = 9; i >= 0; i--)
    if (++r[i] != 0)
      return 0;
  return 1;
}

int vc__ulid_next(vc__ulid_gen *g, int64_t now_ms, char out[27])
{
  uint8_t b[16];
  uint64_t hi, lo;
  int rc = 0;

  if (now_ms < 0)
    now_ms = 0;
  pthread_mutex_lock(&g->lock);
  /* Monotonic: a clock that stands still or steps back reuses the last
   * time and increments the random part. */
  if (now_ms <= g->last_ms) {
    if (increment(g->last_rand))
      g->last_ms++; /* 2^80 ids in one millisecond: move time on */
    now_ms = g->last_ms;
  } else {
    rc = vc__rng_bytes(g->rng, g->last_rand, sizeof(g->last_rand));
    /* Keep headroom so increments within a millisecond rarely carry. */
    g->last_rand[0] &= 0x7f;
    g->last_ms = now_ms;
  }
  for (int i = 0; i < 6; i++)
    b[i] = (uint8_t)((uint64_t)now_ms >> (8 * (5 - i)));
  memcpy(b + 6, g->last_rand, 10);
  pthread_mutex_unlock(&g->lock);
  if (rc < 0)
    return rc;

  /* 128 bits into 26 base32 digits, the last digit from the lowest five
   * bits; the first digit carries 3 bits. */
  hi = 0;
  lo = 0;
  for (int i = 0; i < 8; i++) {
    hi = hi << 8 | b[i];
    lo = lo << 8 | b[8 + i];
  }
  for (int i = 25; i >= 0; i--) {
    out[i] = ALPHABET[lo & 31];
    lo = lo >> 5 | hi << 59;
    hi >>= 5;
  }
  out[26] = '\0';
  return 0;
}

static int digit(char c)
{
  const char *p = (c != '\0') ? strchr(ALPHABET, c) : NULL;

  return p ? (int)(p - ALPHABET) : -1;
}

int vc__ulid_valid(const char *s)
{
  if (s == NULL || strlen(s) != 26 || digit(s[0]) > 7)
    return 0;
  for (int i = 0; i < 26; i++)
    if (digit(s[i]) < 0)
      return 0;
  return 1;
}

int64_t vc__ulid_time(const char *s)
{
  uint64_t t = 0;

  if (!vc__ulid_valid(s))
    return -1;
  for (int i = 0; i < 10; i++)
    t = (t << 5) | (uint64_t)digit(s[i]);
  return (int64_t)t;
}
