/*
 * Helpers shared by the benchmarks: clocks, peak memory, a scratch
 * directory, repeated runs in child processes, and the spread of figures.
 *
 * Each measurement runs in a forked child, so that its peak memory
 * (wait4's ru_maxrss) and CPU time are its own and one measurement leaves
 * no threads, connections or caches behind for the next. A child reports
 * its figures as doubles through a pipe; a crash or a non-zero exit fails
 * the benchmark.
 */
#ifndef VC_BENCH_COMMON_H
#define VC_BENCH_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_MAX_RESULTS 16
#define BENCH_MAX_RUNS 32

static inline double bench_now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 when VC_BENCH_QUICK is set to something other than "" or "0". */
static inline int bench_quick_env(void)
{
  const char *q = getenv("VC_BENCH_QUICK");

  return q != NULL && *q != '\0' && strcmp(q, "0") != 0;
}

/* The current resident set of this process, in KiB (0 if unknown). */
static inline long bench_rss_kb(void)
{
  char line[256];
  long kb = 0;
  FILE *f = fopen("/proc/self/status", "r");

  if (f == NULL)
    return 0;
  while (fgets(line, sizeof(line), f) != NULL)
    if (strncmp(line, "VmRSS:", 6) == 0) {
      kb = strtol(line + 6, NULL, 10);
      break;
    }
  fclose(f);
  return kb;
}

/* ---- scratch directory ---------------------------------------------- */

static char bench_dir_[512];

static int bench_rm_(const char *p, const struct stat *s, int f,
                     struct FTW *w)
{
  (void)s;
  (void)f;
  (void)w;
  return remove(p);
}

static inline void bench_dir_cleanup(void)
{
  if (bench_dir_[0] != '\0')
    nftw(bench_dir_, bench_rm_, 16, FTW_DEPTH | FTW_PHYS);
  bench_dir_[0] = '\0';
}

/* A fresh directory under $TMPDIR (default /tmp), removed at exit. A
 * benchmark of durable commits must not run on tmpfs, where fsync is
 * free: the directory's file system is printed. */
static inline const char *bench_dir(const char *name)
{
  const char *tmp = getenv("TMPDIR");

  if (bench_dir_[0] != '\0')
    return bench_dir_;
  snprintf(bench_dir_, sizeof(bench_dir_), "%s/%s.XXXXXX",
           tmp && *tmp ? tmp : "/tmp", name);
  if (mkdtemp(bench_dir_) == NULL) {
    perror("mkdtemp");
    exit(1);
  }
  atexit(bench_dir_cleanup);
  return bench_dir_;
}

static inline const char *bench_path(char *buf, size_t size,
                                     const char *file)
{
  snprintf(buf, size, "%s/%s", bench_dir_, file);
  return buf;
}

/* Remove a database and its -wal and -shm files. */
static inline void bench_db_remove(const char *path)
{
  char p[600];

  unlink(path);
  snprintf(p, sizeof(p), "%s-wal", path);
  unlink(p);
  snprintf(p, sizeof(p), "%s-shm", path);
  unlink(p);
}

static inline int bench_copy_file(const char *from, const char *to)
{
  char buf[1 << 16];
  ssize_t n;
  int in = open(from, O_RDONLY), out, rc = 0;

  if (in < 0)
    return -1;
  out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (out < 0) {
    close(in);
    return -1;
  }
  while ((n = read(in, buf, sizeof(buf))) > 0)
    if (write(out, buf, (size_t)n) != n) {
      rc = -1;
      break;
    }
  if (n < 0)
    rc = -1;
  close(in);
  close(out);
  return rc;
}

/* ---- one measurement in a child process -------------------------------- */

typedef struct bench_child {
  double v[BENCH_MAX_RESULTS];  /* what the child reported */
  int n;
  long maxrss_kb;               /* the child's peak resident set */
  long start_rss_kb;            /* its resident set when it started */
  double cpu_s;                 /* the child's user + system CPU time */
} bench_child;

static int bench_child_fd_ = -1;

/* Called by the child: report one figure. */
static inline void bench_report(double v)
{
  if (bench_child_fd_ >= 0 &&
      write(bench_child_fd_, &v, sizeof(v)) != (ssize_t)sizeof(v))
    _exit(3);
}

/*
 * Run fn(arg) in a child; it reports figures with bench_report() and
 * returns 0 on success. Returns 0, or -1 when the child failed (its exit
 * status is printed).
 */
static inline int bench_run_child(bench_child *out, int (*fn)(void *),
                                  void *arg)
{
  struct rusage ru;
  int fds[2], status = 0;
  pid_t pid;
  ssize_t got;
  size_t have = 0;

  memset(out, 0, sizeof(*out));
  fflush(stdout);
  fflush(stderr);
  if (pipe(fds) != 0) {
    perror("pipe");
    return -1;
  }
  /* The child starts with the pages it shares with this process: keep
   * them few, and measure its growth from where it starts. */
  malloc_trim(0);
  pid = fork();
  if (pid < 0) {
    perror("fork");
    return -1;
  }
  if (pid == 0) {
    int rc;
    close(fds[0]);
    bench_child_fd_ = fds[1];
    bench_report((double)bench_rss_kb());
    rc = fn(arg);
    fflush(stdout);
    fflush(stderr);
    _exit(rc == 0 ? 0 : 1);
  }
  close(fds[1]);
  while (have < sizeof(out->v) &&
         (got = read(fds[0], (char *)out->v + have,
                     sizeof(out->v) - have)) != 0) {
    if (got < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    have += (size_t)got;
  }
  close(fds[0]);
  out->n = (int)(have / sizeof(double));
  if (out->n > 0) {
    out->start_rss_kb = (long)out->v[0];
    memmove(out->v, out->v + 1, sizeof(double) * (size_t)(out->n - 1));
    out->n--;
  }
  while (wait4(pid, &status, 0, &ru) < 0)
    if (errno != EINTR) {
      perror("wait4");
      return -1;
    }
  out->maxrss_kb = ru.ru_maxrss;
  out->cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  if (WIFSIGNALED(status)) {
    fprintf(stderr, "bench: measurement killed by signal %d\n",
            WTERMSIG(status));
    return -1;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "bench: measurement failed (exit %d)\n",
            WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return -1;
  }
  return 0;
}

/* ---- spread over repeated runs ------------------------------------------ */

typedef struct bench_stat {
  double v[BENCH_MAX_RUNS];
  int n;
} bench_stat;

static inline void bench_stat_add(bench_stat *s, double v)
{
  if (s->n < BENCH_MAX_RUNS)
    s->v[s->n++] = v;
}

static int bench_cmp_(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static inline double bench_stat_median(const bench_stat *s)
{
  double t[BENCH_MAX_RUNS];

  if (s->n == 0)
    return 0;
  memcpy(t, s->v, sizeof(double) * (size_t)s->n);
  qsort(t, (size_t)s->n, sizeof(double), bench_cmp_);
  return s->n % 2 ? t[s->n / 2] : (t[s->n / 2 - 1] + t[s->n / 2]) / 2;
}

static inline double bench_stat_min(const bench_stat *s)
{
  double m = s->n ? s->v[0] : 0;

  for (int i = 1; i < s->n; i++)
    if (s->v[i] < m)
      m = s->v[i];
  return m;
}

static inline double bench_stat_max(const bench_stat *s)
{
  double m = s->n ? s->v[0] : 0;

  for (int i = 1; i < s->n; i++)
    if (s->v[i] > m)
      m = s->v[i];
  return m;
}

/* "median (min..max)", each with `prec` decimals. */
static inline const char *bench_stat_fmt(char *buf, size_t size,
                                         const bench_stat *s, int prec)
{
  char a[32], b[32], c[32];

  snprintf(a, sizeof(a), "%.*f", prec, bench_stat_median(s));
  if (s->n < 2) {
    snprintf(buf, size, "%s", a);
    return buf;
  }
  snprintf(b, sizeof(b), "%.*f", prec, bench_stat_min(s));
  snprintf(c, sizeof(c), "%.*f", prec, bench_stat_max(s));
  snprintf(buf, size, "%s (%s..%s)", a, b, c);
  return buf;
}

/* The goal verdict printed next to a ratio; never asserted. */
static inline const char *bench_verdict(double ratio, double goal)
{
  return ratio >= goal ? "meets the goal" : "BELOW the goal";
}

#endif
