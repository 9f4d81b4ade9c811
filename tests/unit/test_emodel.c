/*
 * The G.107 E-model (src/call/emodel.c) against values computed
 * independently: a Python 3 script (the G.107 formulas written out
 * again, run with CPython 3.11 while writing this test) printed
 *
 *   defaults Ta=0: Ro=94.768822 Is=1.413568 Id=0.149046 R=93.206208
 *                  MOS=4.409406
 *   rtt, jitter, loss -> Ta = rtt/2 + 2 jitter + 20, R, MOS:
 *   0, 0, 0      -> 20,  92.531343, 4.395970
 *   40, 5, 0     -> 50,  91.756161, 4.379613
 *   100, 10, 1   -> 90,  72.945633, 3.731934   (Ie,eff 17.924528)
 *   300, 20, 2   -> 210, 54.424929, 2.808073   (Id 8.771594)
 *   600, 30, 5   -> 380, 12.987529, 1.082670   (Id 29.292455)
 *   200, 0, 0    -> 120, 90.264255, 4.345420   (Id 3.090999)
 *   1000, 50, 10 -> 620, -17.819091, 1.0
 *   0, 0, 100    -> 20,  1.447930,  1.0 (the polynomial's 0.992, clamped)
 *   R -> MOS: 50 -> 2.575, 60 -> 3.1, 80 -> 4.024, 93.2 -> 4.409286,
 *   -5 -> 1, 120 -> 4.5
 *
 * G.107 itself quotes R = 93.2 for the default values, MOS 4.41.
 */
#include "core/common.h"
#include "call/emodel.h"
#include "harness.h"

#include <math.h>

#define NEAR(a, b, eps) (fabs((a) - (b)) < (eps))

static void test_emodel__defaults(void)
{
  vc__emodel e;

  /* Ta = 0 is every G.107 default. */
  CHECK_OK(vc__emodel_rate(&e, 0, 0));
  CHECK(NEAR(e.ro, 94.768822, 1e-5));
  CHECK(NEAR(e.is, 1.413568, 1e-5));
  CHECK(NEAR(e.id, 0.149046, 1e-5));
  CHECK(NEAR(e.ie_eff, 0, 1e-12));
  CHECK(NEAR(e.r, 93.206208, 1e-5));
  CHECK(NEAR(e.mos, 4.409406, 1e-5));
  CHECK(NEAR(e.r, 93.2, 0.01));
  CHECK(NEAR(e.mos, 4.41, 0.005));
}

static void test_emodel__points(void)
{
  static const struct {
    double rtt, jitter, loss, ta, r, mos;
  } pts[] = {
    { 0, 0, 0, 20, 92.531343, 4.395970 },
    { 40, 5, 0, 50, 91.756161, 4.379613 },
    { 100, 10, 1, 90, 72.945633, 3.731934 },
    { 300, 20, 2, 210, 54.424929, 2.808073 },
    { 600, 30, 5, 380, 12.987529, 1.082670 },
    { 200, 0, 0, 120, 90.264255, 4.345420 },
    { 1000, 50, 10, 620, -17.819091, 1.0 },
    { 0, 0, 100, 20, 1.447930, 1.0 },
  };
  vc__emodel e;

  for (size_t i = 0; i < VC_ARRAY_SIZE(pts); i++) {
    CHECK_OK(vc__emodel_mos(&e, pts[i].rtt, pts[i].jitter, pts[i].loss));
    CHECK(NEAR(e.ta_ms, pts[i].ta, 1e-9));
    CHECK(NEAR(vc__emodel_delay(pts[i].rtt, pts[i].jitter), pts[i].ta,
               1e-9));
    CHECK(NEAR(e.r, pts[i].r, 1e-5));
    CHECK(NEAR(e.mos, pts[i].mos, 1e-5));
  }
  /* The parts of two of them. */
  CHECK_OK(vc__emodel_mos(&e, 100, 10, 1));
  CHECK(NEAR(e.ie_eff, 17.924528, 1e-5));
  CHECK_OK(vc__emodel_mos(&e, 300, 20, 2));
  CHECK(NEAR(e.id, 8.771594, 1e-5));
  CHECK(NEAR(e.ie_eff, 30.158730, 1e-5));
}

static void test_emodel__r_to_mos(void)
{
  CHECK(NEAR(vc__emodel_r_to_mos(50), 2.575, 1e-9));
  CHECK(NEAR(vc__emodel_r_to_mos(60), 3.1, 1e-9));
  CHECK(NEAR(vc__emodel_r_to_mos(80), 4.024, 1e-9));
  CHECK(NEAR(vc__emodel_r_to_mos(93.2), 4.409286, 1e-6));
  CHECK(vc__emodel_r_to_mos(-5) == 1.0);
  CHECK(vc__emodel_r_to_mos(0) == 1.0);
  CHECK(vc__emodel_r_to_mos(100) == 4.5);
  CHECK(vc__emodel_r_to_mos(120) == 4.5);
  CHECK(vc__emodel_r_to_mos(NAN) == 1.0);
  CHECK(vc__emodel_r_to_mos(3) == 1.0); /* the dip below 1, clamped */
}

/* MOS only falls as delay or loss grows. */
static void test_emodel__monotonic(void)
{
  vc__emodel e;
  double last = 5;

  for (double rtt = 0; rtt <= 2000; rtt += 25) {
    CHECK_OK(vc__emodel_mos(&e, rtt, 10, 0.5));
    CHECK(e.mos <= last + 1e-12);
    last = e.mos;
  }
  last = 5;
  for (double loss = 0; loss <= 100; loss += 0.5) {
    CHECK_OK(vc__emodel_mos(&e, 80, 5, loss));
    CHECK(e.mos <= last + 1e-12);
    last = e.mos;
  }
}

static void test_emodel__refused(void)
{
  vc__emodel e;

  CHECK_RC(vc__emodel_mos(&e, -1, 0, 0), VC_EINVALID);
  CHECK_RC(vc__emodel_mos(&e, 0, -0.5, 0), VC_EINVALID);
  CHECK_RC(vc__emodel_mos(&e, 0, 0, -1), VC_EINVALID);
  CHECK_RC(vc__emodel_mos(&e, NAN, 0, 0), VC_EINVALID);
  CHECK_RC(vc__emodel_mos(&e, 0, NAN, 0), VC_EINVALID);
  CHECK_RC(vc__emodel_mos(&e, 0, 0, NAN), VC_EINVALID);
  CHECK_RC(vc__emodel_mos(&e, INFINITY, 0, 0), VC_EINVALID);
  CHECK_RC(vc__emodel_mos(&e, 0, 0, 100.01), VC_EINVALID);
  CHECK_RC(vc__emodel_mos(&e, 60000.5, 0, 0), VC_EINVALID);
  CHECK_RC(vc__emodel_mos(&e, 0, 10001, 0), VC_EINVALID);
  CHECK_RC(vc__emodel_rate(&e, -1, 0), VC_EINVALID);
  CHECK_RC(vc__emodel_rate(&e, 1e9, 0), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "out of range") != NULL);
  CHECK_RC(vc__emodel_rate(NULL, 0, 0), VC_EINVALID);
  /* The bounds themselves are accepted. */
  CHECK_OK(vc__emodel_mos(&e, 60000, 10000, 100));
  CHECK(e.mos == 1.0);
}

VC_TESTS(
  VC_TEST(test_emodel__defaults),
  VC_TEST(test_emodel__points),
  VC_TEST(test_emodel__r_to_mos),
  VC_TEST(test_emodel__monotonic),
  VC_TEST(test_emodel__refused),
)
