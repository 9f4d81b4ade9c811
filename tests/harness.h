/*
 * A small test harness. A test file defines its cases and lists them:
 *
 *   static void test_store__reopen(void) { ... CHECK(x == 1); ... }
 *   VC_TESTS(
 *     VC_TEST(test_store__reopen),
 *   )
 *
 * Run all cases: ./test_store. Run some: ./test_store reopen migrate
 * (a case runs when its name contains an argument). Each case runs in a
 * fresh temporary directory (vc_test_dir()), which is removed afterwards
 * unless it failed. The last line is "N passed, N failed".
 */
#ifndef VC_TEST_HARNESS_H
#define VC_TEST_HARNESS_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include <ftw.h>
#include <setjmp.h>

typedef struct vc_test_case {
  const char *name;
  void (*fn)(void);
} vc_test_case;

#define VC_TEST(fn) { #fn, fn }
#define VC_TESTS(...)                                                  \
  static const vc_test_case vc_test_cases_[] = { __VA_ARGS__ };        \
  int main(int argc, char **argv)                                      \
  {                                                                    \
    return vc_test_main(vc_test_cases_,                                \
                        sizeof(vc_test_cases_) / sizeof(vc_test_cases_[0]), \
                        argc, argv);                                   \
  }

static int vc_test_failed_;
static char vc_test_dir_[256];
static jmp_buf vc_test_jmp_;

/* Abort the current case with a message (keeps going with the next). */
#define CHECK(expr)                                                    \
  do {                                                                 \
    if (!(expr)) {                                                     \
      fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__,         \
              __LINE__, #expr);                                        \
      vc_test_failed_ = 1;                                             \
      longjmp(vc_test_jmp_, 1);                                        \
    }                                                                  \
  } while (0)

/* CHECK that a call returned `want`, printing the error detail if not. */
#define CHECK_RC(call, want)                                           \
  do {                                                                 \
    int rc_ = (call);                                                  \
    if (rc_ != (want)) {                                               \
      fprintf(stderr, "  %s:%d: %s returned %d, wanted %d (%s)\n",     \
              __FILE__, __LINE__, #call, rc_, (int)(want),             \
              vc_test_error_message_());                               \
      vc_test_failed_ = 1;                                             \
      longjmp(vc_test_jmp_, 1);                                        \
    }                                                                  \
  } while (0)

#define CHECK_OK(call) CHECK_RC(call, 0)

#define CHECK_STR(a, b)                                                \
  do {                                                                 \
    const char *a_ = (a), *b_ = (b);                                   \
    if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {             \
      fprintf(stderr, "  %s:%d: \"%s\" != \"%s\"\n", __FILE__,         \
              __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)");       \
      vc_test_failed_ = 1;                                             \
      longjmp(vc_test_jmp_, 1);                                        \
    }                                                                  \
  } while (0)

/* The error text, when the library's errors.h is included. */
#ifdef VYOMCOMM_ERRORS_H
static const char *vc_test_error_message_(void)
{
  return vc_error_last()->message;
}
#else
static const char *vc_test_error_message_(void) { return ""; }
#endif

/* The case's scratch directory. */
static inline const char *vc_test_dir(void) { return vc_test_dir_; }

/* A path inside the scratch directory (static storage, 4 slots). */
static inline const char *vc_test_path(const char *name)
{
  static char paths[4][512];
  static int next;
  char *p = paths[next++ % 4];
  snprintf(p, 512, "%s/%s", vc_test_dir_, name);
  return p;
}

static int vc_test_rm_(const char *p, const struct stat *s, int f,
                       struct FTW *w)
{
  (void)s; (void)f; (void)w;
  return remove(p);
}

static int vc_test_main(const vc_test_case *cases, size_t n, int argc,
                        char **argv)
{
  /* volatile: they live across setjmp/longjmp. */
  volatile int passed = 0, failed = 0;
  const char *tmp = getenv("TMPDIR");

  setvbuf(stdout, NULL, _IONBF, 0);
  for (volatile size_t i = 0; i < n; i++) {
    int run = argc < 2;
    for (int a = 1; a < argc; a++)
      if (strstr(cases[i].name, argv[a]) != NULL)
        run = 1;
    if (!run)
      continue;
    snprintf(vc_test_dir_, sizeof(vc_test_dir_), "%s/vctest.XXXXXX",
             tmp ? tmp : "/tmp");
    if (mkdtemp(vc_test_dir_) == NULL) {
      perror("mkdtemp");
      return 2;
    }
    vc_test_failed_ = 0;
    if (setjmp(vc_test_jmp_) == 0)
      cases[i].fn();
    if (vc_test_failed_) {
      printf("not ok %s (kept %s)\n", cases[i].name, vc_test_dir_);
      failed++;
    } else {
      printf("ok %s\n", cases[i].name);
      passed++;
      nftw(vc_test_dir_, vc_test_rm_, 16, FTW_DEPTH | FTW_PHYS);
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

#endif
