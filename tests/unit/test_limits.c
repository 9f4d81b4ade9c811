/*
 * Channel rate buckets and circuit breakers (src/msg/limits.c).
 */
#include "core/common.h"
#include "msg/limits.h"
#include "harness.h"

static const char CH[] = "01HZZZZZZZZZZZZZZZZZZZZZZZ";

static void test_limits__unlimited(void)
{
  vc__limits *l;
  int64_t at;

  CHECK_OK(vc__limits_new(&l));
  for (int i = 0; i < 1000; i++)
    CHECK(vc__limits_acquire(l, CH, 0, 1000, &at) == 1);
  vc__limits_free(l);
}

static void test_limits__token_bucket(void)
{
  vc__limits *l;
  int64_t now = 1000000, at;
  int ok = 0;

  CHECK_OK(vc__limits_new(&l));
  /* 10/s: a burst of 10, then one every 100 ms. */
  for (int i = 0; i < 20; i++)
    ok += vc__limits_acquire(l, CH, 10, now, &at);
  CHECK(ok == 10);
  CHECK(at > now && at <= now + 101);
  CHECK(vc__limits_acquire(l, CH, 10, now + 99, &at) == 0);
  CHECK(vc__limits_acquire(l, CH, 10, now + 100, &at) == 1);
  /* Over ten seconds, about 100 more and never more. */
  ok = 0;
  for (int64_t t = now + 100; t <= now + 10100; t += 10)
    ok += vc__limits_acquire(l, CH, 10, t, &at);
  CHECK(ok >= 99 && ok <= 101);
  /* A slow channel: 0.5/s. */
  CHECK(vc__limits_acquire(l, "slow", 0.5, now, &at) == 1);
  CHECK(vc__limits_acquire(l, "slow", 0.5, now, &at) == 0);
  CHECK(at >= now + 1999 && at <= now + 2001);
  CHECK(vc__limits_acquire(l, "slow", 0.5, now + 2000, &at) == 1);
  vc__limits_free(l);
}

static void test_limits__breaker(void)
{
  vc__limits *l;
  int64_t now = 5000000, at;

  CHECK_OK(vc__limits_new(&l));
  for (int i = 0; i < VC__BREAKER_THRESHOLD - 1; i++)
    vc__limits_report(l, CH, 0, now);
  CHECK(!vc__limits_breaker_open(l, CH, now));
  /* A success resets the count. */
  vc__limits_report(l, CH, 1, now);
  for (int i = 0; i < VC__BREAKER_THRESHOLD; i++)
    vc__limits_report(l, CH, 0, now);
  CHECK(vc__limits_breaker_open(l, CH, now));
  CHECK(vc__limits_acquire(l, CH, 0, now + 1, &at) == 0);
  CHECK(at == now + VC__BREAKER_OPEN_MS);
  /* Half-open: one probe goes through, the next waits for it. */
  now += VC__BREAKER_OPEN_MS;
  CHECK(vc__limits_acquire(l, CH, 0, now, &at) == 1);
  CHECK(vc__limits_acquire(l, CH, 0, now, &at) == 0);
  /* The probe failing opens it again at once. */
  vc__limits_report(l, CH, 0, now);
  CHECK(vc__limits_breaker_open(l, CH, now + 1));
  now += VC__BREAKER_OPEN_MS;
  CHECK(vc__limits_acquire(l, CH, 0, now, &at) == 1);
  /* And a successful probe closes it. */
  vc__limits_report(l, CH, 1, now);
  CHECK(!vc__limits_breaker_open(l, CH, now));
  CHECK(vc__limits_acquire(l, CH, 0, now, &at) == 1);
  CHECK(vc__limits_acquire(l, CH, 0, now, &at) == 1);
  vc__limits_free(l);
}

static void test_limits__bounded(void)
{
  vc__limits *l;
  char id[32];
  int64_t at;

  CHECK_OK(vc__limits_new(&l));
  /* More channels than it keeps: the oldest are forgotten, no growth
   * past the bound, and nothing fails. */
  for (int i = 0; i < 10000; i++) {
    snprintf(id, sizeof(id), "ch-%d", i);
    CHECK(vc__limits_acquire(l, id, 1, i, &at) == 1);
  }
  vc__limits_free(l);
}

VC_TESTS(
  VC_TEST(test_limits__unlimited),
  VC_TEST(test_limits__token_bucket),
  VC_TEST(test_limits__breaker),
  VC_TEST(test_limits__bounded),
)
