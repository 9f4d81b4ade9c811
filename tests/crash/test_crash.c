/*
 * The crash test (DESIGN 2, 4a and 9; issue 3): nothing accepted is lost
 * under kill -9, and the duplicates a provider sees are limited to the
 * requests in flight when a kill hit.
 *
 * The test process runs the provider simulator in-process (webhooks off:
 * delivery receipts are not part of this test) and starts children, each
 * a fresh exec of this program with --child, one after the other. A
 * child opens the same SQLite file as a context and, with two engine
 * threads dispatching (vc_ctx_start), enqueues the next messages of the
 * run: message i has the idempotency key "crash-<i>" and the body "crash
 * test message <i>", and the child writes i to a pipe only after
 * vc_message_send() returned 0, so the parent knows what was accepted. A
 * restart continues at the first index not reported; the one message a
 * kill may have stored but not reported is sent again under its key,
 * which returns the same message. The parent kills each child with
 * SIGKILL after a random 20..400 ms (every fourth child runs with
 * synchronous=FULL, the others with the default NORMAL) until at least
 * MIN_KILLS kills were made and every message was accepted (but no more
 * than 4 * MIN_KILLS kills on a slow machine). A final child is not
 * killed: it enqueues what is left and dispatches until no message is
 * queued or sending and no message.send job is left (the jobs of dead
 * children wait for their leases to expire, on the real clock), then
 * exits normally.
 *
 * The parent then reads the SQLite file directly: one message row per
 * index (idempotency), each in a dispatch-final state (all `sent`, the
 * simulator being healthy), no job left, one message.queued and one
 * message.sent event per message. And the simulator's records:
 * every index was received, every stored provider id is the id the
 * simulator gave to the last request for that message, and a message
 * received more than once was received by different children, each
 * earlier time by one that was then killed.
 *
 * The bound on duplicates. A child sends a message only in step 3 of a
 * dispatch batch (src/msg/dispatch.c), and only when step 1 found it
 * `queued` or `sending`; step 4 commits the outcome (`sent`) for the
 * whole batch at once, after which no engine sends it again (a kill
 * after that commit and before the job's own one leaves a leased job
 * whose message is `sent`: step 1 finishes it without sending). So a
 * request whose outcome is lost is one of a batch that was between step
 * 3 and the commit of step 4 when the child was killed. Each engine
 * thread has at most one batch of at most CLAIM_BATCH jobs in flight, so
 * a kill loses at most THREADS * CLAIM_BATCH outcomes, each of which is
 * one extra request once the lease (LEASE_MS) expires and another child
 * sends the message again. Hence extra requests <= kills * THREADS *
 * CLAIM_BATCH, and per killed child <= THREADS * CLAIM_BATCH; a child
 * that is not killed loses none. (A lease never expires under a living
 * engine here: a batch takes milliseconds, the lease two seconds.)
 *
 * To tell which child sent a request, the parent starts the next child
 * only after the simulator's record count has been still for QUIET_MS
 * after a kill, so every request of the dead child is recorded within
 * that child's time span, and spans do not overlap.
 *
 * Knobs (environment): VC_CRASH_SEED (the random seed, printed),
 * VC_CRASH_MESSAGES (default 10000), VC_CRASH_KILLS (default 20),
 * VC_CRASH_RATE (messages per second a killed child enqueues, default
 * 2000, so that enqueueing spans the kills; 0 = as fast as possible),
 * VC_CRASH_VERBOSE (one line per child).
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#define MESSAGES 10000
#define MIN_KILLS 20
#define KILL_MIN_MS 20
#define KILL_MAX_MS 400
/* Short, so that the final child does not wait long for the jobs of the
 * dead ones, and long against the time one batch takes. */
#define LEASE_MS 2000
/* Explicit (the default is 256): the bound on duplicates is in units of
 * it. */
#define CLAIM_BATCH 128
#define THREADS 2
#define RATE 2000
#define QUIET_MS 50
#define FINAL_TIMEOUT_MS 120000
#define MAX_CHILDREN 1000
#define CHILD_FD 3          /* the pipe's write end in a child */
#define TENANT "crash"
#define TO "+14155550123"

static const uint8_t master_key[32] = { 0x63, 0x72, 0x61, 0x73, 0x68 };

static int64_t wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_us(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_us(int64_t us)
{
  struct timespec ts;

  if (us <= 0)
    return;
  ts.tv_sec = us / 1000000;
  ts.tv_nsec = (us % 1000000) * 1000;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static long env_long(const char *name, long dflt)
{
  const char *v = getenv(name);

  return v != NULL && *v ? strtol(v, NULL, 10) : dflt;
}

static int open_store(vc_store **store, const char *path, int sync)
{
  vc_sqlite_options so = VC_SQLITE_OPTIONS_INIT;

  so.synchronous = sync;
  return vc_store_open_sqlite(store, path, &so);
}

/* ---- the child ------------------------------------------------------- */

static void child_log(int level, const char *message, void *payload)
{
  (void)payload;
  fprintf(stderr, "child %ld: %s: %s\n", (long)getpid(),
          vc_log_level_name(level), message);
}

static void child_fail(const char *what, int rc)
{
  fprintf(stderr, "child %ld: %s: %d (%s)\n", (long)getpid(), what, rc,
          vc_error_last()->message);
  exit(3);
}

/* Tell the parent that message `i` was accepted: one 4-byte write, which
 * a pipe takes whole or not at all. */
static void report(uint32_t i)
{
  while (write(CHILD_FD, &i, sizeof(i)) != (ssize_t)sizeof(i))
    if (errno != EINTR)
      exit(4); /* the parent is gone */
}

/* 1 when no message is queued or sending and no message.send job is
 * left: the final child's work is done. */
static int child_done(vc_tenant *t, sqlite3 *db)
{
  static const int busy[] = { VC_MSG_QUEUED, VC_MSG_SENDING };
  sqlite3_stmt *s;
  int jobs = 1, rc;

  for (size_t k = 0; k < 2; k++) {
    vc_message_filter f = VC_MESSAGE_FILTER_INIT;
    vc_message *m = NULL;
    vc_iter *it;
    f.status = busy[k];
    if ((rc = vc_message_list(&it, t, &f)) < 0)
      child_fail("vc_message_list", rc);
    rc = vc_message_next(&m, it);
    vc_message_free(m);
    vc_iter_free(it);
    if (rc == 0)
      return 0;
    if (rc != VC_ITEROVER)
      child_fail("vc_message_next", rc);
  }
  if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM vc_job WHERE kind ="
                         " 'message.send'", -1, &s, NULL) != SQLITE_OK)
    child_fail(sqlite3_errmsg(db), -1);
  if (sqlite3_step(s) == SQLITE_ROW)
    jobs = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  return jobs == 0;
}

/* argv: --child db first total sync final rate */
static int child_main(int argc, char **argv)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_store *store;
  vc_ctx *ctx;
  vc_tenant *t;
  uint32_t first, total;
  int sync, final, rc;
  long rate;
  int64_t t0;

  if (argc != 8)
    return 2;
  first = (uint32_t)strtoul(argv[3], NULL, 10);
  total = (uint32_t)strtoul(argv[4], NULL, 10);
  sync = atoi(argv[5]);
  final = atoi(argv[6]);
  rate = strtol(argv[7], NULL, 10);
  if ((rc = open_store(&store, argv[2], sync)) < 0)
    child_fail("vc_store_open_sqlite", rc);
  mk.key = master_key;
  mk.key_len = sizeof(master_key);
  o.store = store;
  o.master_key = &mk;
  o.log_cb = child_log;
  o.log_level = VC_LOG_WARN;
  o.lease_ms = LEASE_MS;
  o.claim_batch = CLAIM_BATCH;
  o.allow_private_network = 1;
  if ((rc = vc_ctx_new(&ctx, &o)) < 0)
    child_fail("vc_ctx_new", rc);
  if ((rc = vc_tenant_lookup(&t, ctx, TENANT)) < 0)
    child_fail("vc_tenant_lookup", rc);
  if ((rc = vc_ctx_start(ctx, THREADS)) < 0)
    child_fail("vc_ctx_start", rc);
  t0 = mono_us();
  for (uint32_t i = first; i < total; i++) {
    vc_message_spec s = VC_MESSAGE_SPEC_INIT;
    char id[VC_ID_SIZE], key[32], text[64];
    snprintf(key, sizeof(key), "crash-%05u", (unsigned)i);
    snprintf(text, sizeof(text), "crash test message %u", (unsigned)i);
    s.kind = VC_CHANNEL_SMS;
    s.to = TO;
    s.text = text;
    s.idempotency_key = key;
    if ((rc = vc_message_send(id, t, &s)) < 0)
      child_fail("vc_message_send", rc);
    report(i);
    if (!final && rate > 0)
      sleep_us(t0 + (int64_t)(i - first + 1) * 1000000 / rate - mono_us());
  }
  if (!final) {
    for (;;)
      pause(); /* dispatching until killed */
  }
  {
    int64_t deadline = wall_ms() + FINAL_TIMEOUT_MS;
    sqlite3 *db;
    if (sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READONLY, NULL) !=
        SQLITE_OK)
      child_fail("sqlite3_open_v2", -1);
    sqlite3_busy_timeout(db, 5000);
    while (!child_done(t, db)) {
      if (wall_ms() > deadline)
        child_fail("messages still queued or sending", -1);
      vc_ctx_wakeup(ctx);
      sleep_us(50000);
    }
    sqlite3_close(db);
  }
  if ((rc = vc_ctx_stop(ctx)) < 0)
    child_fail("vc_ctx_stop", rc);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  return 0;
}

/* ---- the parent ------------------------------------------------------ */

/* One child's life. */
typedef struct child {
  int64_t start_ms, end_ms;   /* its span: from fork to quiet after it */
  int64_t first_ms;           /* when it reported its first message */
  uint32_t first, accepted;   /* indices it was given, and took */
  size_t requests;            /* requests the simulator got meanwhile */
  int sync, killed, delay_ms;
  uint32_t lost;              /* its requests sent again later */
} child;

/* One request the simulator accepted. */
typedef struct receipt {
  uint32_t index;
  uint32_t child;
  size_t order;               /* in the simulator's records */
  char sid[48];
} receipt;

typedef struct run {
  vc_sim *sim;
  char db[512], self[512], tenant_id[VC_ID_SIZE];
  uint32_t total, next;
  uint8_t *reported;          /* per index: times reported accepted */
  child children[MAX_CHILDREN];
  size_t nchildren;
  unsigned kills, full_rounds;
  unsigned seed;
} run;

static void setup(run *r)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_sim_options so = VC_SIM_OPTIONS_INIT;
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  char config[256], creds[128];
  vc_store *store;
  vc_ctx *ctx;
  vc_tenant *t;
  vc_channel *ch;
  ssize_t n;

  CHECK_OK(vc_sim_start(&r->sim, &so));
  w.off = 1;
  CHECK_OK(vc_sim_webhooks_set(r->sim, "twilio", &w));
  n = readlink("/proc/self/exe", r->self, sizeof(r->self) - 1);
  CHECK(n > 0 && (size_t)n < sizeof(r->self) - 1);
  r->self[n] = '\0';
  snprintf(r->db, sizeof(r->db), "%s", vc_test_path("crash.db"));

  CHECK_OK(open_store(&store, r->db, 0));
  mk.key = master_key;
  mk.key_len = sizeof(master_key);
  o.store = store;
  o.master_key = &mk;
  o.allow_private_network = 1;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  ts.slug = TENANT;
  CHECK_OK(vc_tenant_new(&t, ctx, &ts));
  snprintf(r->tenant_id, sizeof(r->tenant_id), "%s", vc_tenant_id(t));
  snprintf(config, sizeof(config),
           "{\"account_sid\":\"%s\",\"base_url\":\"%s\"}",
           VC_SIM_TWILIO_ACCOUNT_SID, vc_sim_base_url(r->sim));
  snprintf(creds, sizeof(creds), "{\"auth_token\":\"%s\"}",
           VC_SIM_TWILIO_AUTH_TOKEN);
  cs.name = "sms";
  cs.provider = "twilio-sms";
  cs.config_json = config;
  cs.credentials_json = creds;
  cs.sender = "+15005550006";
  CHECK_OK(vc_channel_new(&ch, t, &cs));
  vc_channel_free(ch);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

/* Fork and exec a child; returns its pid and the pipe's read end. */
static pid_t spawn(run *r, uint32_t first, int sync, int final, long rate,
                   int *rfd)
{
  char a_first[16], a_total[16], a_sync[8], a_final[8], a_rate[24];
  char *args[] = { r->self, (char *)"--child", r->db, a_first, a_total,
                   a_sync, a_final, a_rate, NULL };
  pid_t pid, parent = getpid();
  int p[2];

  snprintf(a_first, sizeof(a_first), "%u", (unsigned)first);
  snprintf(a_total, sizeof(a_total), "%u", (unsigned)r->total);
  snprintf(a_sync, sizeof(a_sync), "%d", sync);
  snprintf(a_final, sizeof(a_final), "%d", final);
  snprintf(a_rate, sizeof(a_rate), "%ld", rate);
  CHECK(pipe2(p, O_CLOEXEC) == 0);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    /* Only async-signal-safe calls until exec. A child outlives no
     * parent, even one that failed a check. dup2 clears FD_CLOEXEC,
     * except on the same descriptor. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
      _exit(125);
    if (p[1] == CHILD_FD)
      fcntl(CHILD_FD, F_SETFD, 0);
    else if (dup2(p[1], CHILD_FD) < 0)
      _exit(126);
    /* Keep the simulator's sockets out of the child. */
    if (close_range(CHILD_FD + 1, ~0U, 0) != 0)
      for (int fd = CHILD_FD + 1; fd < 4096; fd++)
        close(fd);
    execv(r->self, args);
    _exit(127);
  }
  close(p[1]);
  *rfd = p[0];
  return pid;
}

/* Read what the child reported; returns 0 at the end of the pipe. */
static int drain(run *r, child *c, int fd, uint8_t carry[4], size_t *ncarry)
{
  uint8_t buf[4096];
  ssize_t n = read(fd, buf, sizeof(buf));

  if (n < 0)
    return errno == EINTR || errno == EAGAIN ? 1 : -1;
  if (n == 0)
    return 0;
  for (ssize_t k = 0; k < n; k++) {
    uint32_t i;
    carry[(*ncarry)++] = buf[k];
    if (*ncarry < 4)
      continue;
    *ncarry = 0;
    memcpy(&i, carry, 4);
    /* A child reports its indices in order from where it began. */
    CHECK(i == c->first + c->accepted);
    CHECK(i < r->total && r->reported[i] == 0);
    r->reported[i]++;
    if (c->accepted++ == 0)
      c->first_ms = wall_ms();
    r->next = i + 1;
  }
  return 1;
}

/* Wait until the simulator has recorded nothing new for QUIET_MS. */
static void quiesce(run *r)
{
  size_t last = vc_sim_received_count(r->sim);
  int64_t still = wall_ms();

  while (wall_ms() - still < QUIET_MS) {
    size_t now;
    sleep_us(5000);
    if ((now = vc_sim_received_count(r->sim)) != last) {
      last = now;
      still = wall_ms();
    }
  }
}

/* Run one child: killed after `delay_ms`, or (delay_ms < 0) to its end. */
static void one_child(run *r, int sync, int delay_ms, long rate)
{
  child *c = &r->children[r->nchildren++];
  size_t before = vc_sim_received_count(r->sim), ncarry = 0;
  uint8_t carry[4];
  int fd, status, open = 1;
  int64_t deadline;
  pid_t pid;

  CHECK(r->nchildren <= MAX_CHILDREN);
  memset(c, 0, sizeof(*c));
  c->first = r->next;
  c->sync = sync;
  c->delay_ms = delay_ms;
  c->start_ms = wall_ms();
  pid = spawn(r, c->first, sync, delay_ms < 0, rate, &fd);
  deadline = wall_ms() + (delay_ms < 0 ? FINAL_TIMEOUT_MS + 30000
                                       : delay_ms);
  while (open) {
    struct pollfd pfd = { fd, POLLIN, 0 };
    int64_t left = deadline - wall_ms();
    if (left <= 0)
      break;
    if (poll(&pfd, 1, (int)left) > 0 && (open = drain(r, c, fd, carry,
                                                      &ncarry)) < 0)
      break;
  }
  if (delay_ms >= 0) {
    /* The end of the pipe before the kill: the child died by itself. */
    if (!open)
      fprintf(stderr, "  child %zu ended before its kill\n", r->nchildren);
    CHECK(open);
    kill(pid, SIGKILL);
    c->killed = 1;
    r->kills++;
    r->full_rounds += sync == VC_SQLITE_SYNC_FULL;
  } else if (open) {
    fprintf(stderr, "  the final child did not finish in time\n");
    kill(pid, SIGKILL);
  }
  CHECK(waitpid(pid, &status, 0) == pid);
  /* What it wrote before it died is still in the pipe. */
  while ((open = drain(r, c, fd, carry, &ncarry)) > 0)
    ;
  close(fd);
  CHECK(open == 0 && ncarry == 0);
  if (delay_ms >= 0) {
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  } else {
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      fprintf(stderr, "  final child: status %d\n", status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  quiesce(r);
  c->end_ms = wall_ms();
  c->requests = vc_sim_received_count(r->sim) - before;
  if (getenv("VC_CRASH_VERBOSE") != NULL)
    printf("  child %zu (%s): %s after %d ms, first accept at %d ms, "
           "accepted %u from %u, %zu requests\n", r->nchildren,
           sync == VC_SQLITE_SYNC_FULL ? "FULL" : "NORMAL",
           delay_ms >= 0 ? "killed" : "final", delay_ms,
           c->first_ms ? (int)(c->first_ms - c->start_ms) : -1,
           (unsigned)c->accepted, (unsigned)c->first, c->requests);
}

/* The value of a form field, decoded; 1 when found. */
static int form_value(const char *body, const char *name, char *out,
                      size_t size)
{
  size_t nlen = strlen(name), o = 0;
  const char *p = body;

  while (p != NULL && *p) {
    if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
      p += nlen + 1;
      while (*p && *p != '&' && o + 1 < size) {
        unsigned v;
        if (*p == '+') {
          out[o++] = ' ';
          p++;
        } else if (*p == '%' && sscanf(p + 1, "%2x", &v) == 1) {
          out[o++] = (char)v;
          p += 3;
        } else {
          out[o++] = *p++;
        }
      }
      out[o] = '\0';
      return 1;
    }
    if ((p = strchr(p, '&')) != NULL)
      p++;
  }
  return 0;
}

/* The child whose span holds time `ms`, or UINT32_MAX. */
static uint32_t child_at(const run *r, int64_t ms)
{
  for (size_t k = 0; k < r->nchildren; k++)
    if (ms >= r->children[k].start_ms && ms <= r->children[k].end_ms)
      return (uint32_t)k;
  return UINT32_MAX;
}

static int by_index(const void *a, const void *b)
{
  const receipt *x = a, *y = b;

  if (x->index != y->index)
    return x->index < y->index ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* The message rows: one per index, each sent; their provider ids. */
static void check_store(run *r, char (*provider_ids)[48], unsigned *sent)
{
  sqlite3 *db;
  sqlite3_stmt *s;
  uint8_t *seen = calloc(r->total, 1);
  unsigned rows = 0, other = 0, events = 0;
  int rc;

  CHECK(seen != NULL);
  CHECK(sqlite3_open_v2(r->db, &db, SQLITE_OPEN_READONLY, NULL) ==
        SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, "SELECT idempotency_key, status,"
                           " COALESCE(provider_id, ''), text_body"
                           " FROM vc_message WHERE tenant_id = ?1", -1,
                           &s, NULL) == SQLITE_OK);
  sqlite3_bind_text(s, 1, r->tenant_id, -1, SQLITE_STATIC);
  *sent = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *key = (const char *)sqlite3_column_text(s, 0);
    const char *body = (const char *)sqlite3_column_text(s, 3);
    int status = sqlite3_column_int(s, 1);
    char want[64];
    unsigned i;
    rows++;
    CHECK(key != NULL && sscanf(key, "crash-%u", &i) == 1);
    CHECK(i < r->total && !seen[i]);
    seen[i] = 1;
    snprintf(want, sizeof(want), "crash test message %u", i);
    CHECK_STR(body, want);
    if (status == VC_MSG_SENT) {
      (*sent)++;
    } else {
      if (other++ < 10)
        fprintf(stderr, "  message %u is %s\n", i,
                vc_message_status_name(status));
    }
    snprintf(provider_ids[i], 48, "%s",
             (const char *)sqlite3_column_text(s, 2));
  }
  CHECK(rc == SQLITE_DONE);
  sqlite3_finalize(s);
  CHECK(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM vc_job WHERE"
                           " kind = 'message.send'", -1, &s,
                           NULL) == SQLITE_OK);
  CHECK(sqlite3_step(s) == SQLITE_ROW);
  rc = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  /* Each change appended its event in its own transaction: one
   * message.queued and one message.sent per message, no more. */
  CHECK(sqlite3_prepare_v2(db, "SELECT type, COUNT(*),"
                           " COUNT(DISTINCT subject_id) FROM vc_event"
                           " WHERE tenant_id = ?1 AND type IN"
                           " ('message.queued', 'message.sent')"
                           " GROUP BY type", -1, &s, NULL) == SQLITE_OK);
  sqlite3_bind_text(s, 1, r->tenant_id, -1, SQLITE_STATIC);
  while (sqlite3_step(s) == SQLITE_ROW) {
    unsigned n = (unsigned)sqlite3_column_int(s, 1);
    unsigned d = (unsigned)sqlite3_column_int(s, 2);
    if (n != r->total || d != r->total)
      fprintf(stderr, "  %u %s events for %u messages\n", n,
              (const char *)sqlite3_column_text(s, 0), d);
    CHECK(n == r->total && d == r->total);
    events++;
  }
  sqlite3_finalize(s);
  CHECK(events == 2);
  sqlite3_close(db);
  free(seen);
  if (rc != 0)
    fprintf(stderr, "  %d jobs left\n", rc);
  CHECK(rc == 0);
  /* One row per accepted index, and nothing else. */
  CHECK(rows == r->total);
  /* Dispatch-final, and with a healthy simulator: sent. */
  CHECK(other == 0 && *sent == r->total);
}

static void test_crash__kill9_during_enqueue_and_dispatch(void)
{
  static run rr;
  run *r = &rr;
  char (*provider_ids)[48];
  receipt *rec = NULL;
  size_t nrec = 0, nreq, rejected = 0;
  unsigned sent, dup_msgs = 0, extras = 0, worst = 0, bound, per_kill;
  const child *last;
  long min_kills = env_long("VC_CRASH_KILLS", MIN_KILLS);
  long rate = env_long("VC_CRASH_RATE", RATE);
  int64_t t0 = mono_us();

  memset(r, 0, sizeof(*r));
  r->total = (uint32_t)env_long("VC_CRASH_MESSAGES", MESSAGES);
  r->seed = (unsigned)env_long("VC_CRASH_SEED",
                               (long)(time(NULL) ^ (getpid() << 8)));
  srand(r->seed);
  printf("crash: seed %u (VC_CRASH_SEED), %u messages, lease %d ms, "
         "claim batch %d, %d engine threads\n", r->seed,
         (unsigned)r->total, LEASE_MS, CLAIM_BATCH, THREADS);
  r->reported = calloc(r->total, 1);
  provider_ids = calloc(r->total, sizeof(*provider_ids));
  CHECK(r->reported != NULL && provider_ids != NULL && r->total > 0);
  setup(r);

  /* Kill at random points until enough kills were made and every
   * message was accepted (or, on a slow machine, four times as many
   * kills were made: the final child enqueues the rest). */
  while (r->kills < (unsigned)min_kills ||
         (r->next < r->total && r->kills < 4 * (unsigned)min_kills)) {
    int sync = r->nchildren % 4 == 3 ? VC_SQLITE_SYNC_FULL
                                     : VC_SQLITE_SYNC_NORMAL;
    int delay = KILL_MIN_MS + rand() % (KILL_MAX_MS - KILL_MIN_MS + 1);
    CHECK(r->nchildren < MAX_CHILDREN - 1);
    one_child(r, sync, delay, rate);
  }
  one_child(r, VC_SQLITE_SYNC_NORMAL, -1, 0);
  last = &r->children[r->nchildren - 1];
  CHECK(r->next == r->total);
  for (uint32_t i = 0; i < r->total; i++)
    CHECK(r->reported[i] == 1);

  check_store(r, provider_ids, &sent);

  /* What the simulator received. */
  nreq = vc_sim_received_count(r->sim);
  rec = calloc(nreq + 1, sizeof(*rec));
  CHECK(rec != NULL);
  for (size_t k = 0; k < nreq; k++) {
    vc_sim_request q;
    char body[128];
    unsigned i;
    CHECK_OK(vc_sim_received_get(r->sim, k, &q));
    if (q.status != 201 || strcmp(q.provider, "twilio") != 0) {
      if (rejected++ < 5)
        fprintf(stderr, "  request %zu: %s %s answered %d\n", k, q.method,
                q.path, q.status);
      continue;
    }
    CHECK(form_value(q.body, "Body", body, sizeof(body)));
    CHECK(sscanf(body, "crash test message %u", &i) == 1);
    CHECK(i < r->total);
    CHECK(q.message_id[0] != '\0');
    rec[nrec].index = i;
    rec[nrec].order = k;
    rec[nrec].child = child_at(r, q.received_ms);
    if (rec[nrec].child == UINT32_MAX)
      fprintf(stderr, "  request %zu at %lld: no child alive\n", k,
              (long long)q.received_ms);
    CHECK(rec[nrec].child != UINT32_MAX);
    snprintf(rec[nrec].sid, sizeof(rec[nrec].sid), "%s", q.message_id);
    nrec++;
  }
  /* A healthy simulator rejects nothing (a request cut by a kill is
   * never complete, so never answered). */
  CHECK(rejected == 0);
  qsort(rec, nrec, sizeof(*rec), by_index);

  for (size_t k = 0, e; k < nrec; k = e) {
    uint32_t i = rec[k].index;
    for (e = k + 1; e < nrec && rec[e].index == i; e++)
      ;
    /* The stored provider id is the last request's: after its outcome
     * was committed, nothing sent the message again. */
    if (strcmp(provider_ids[i], rec[e - 1].sid) != 0)
      fprintf(stderr, "  message %u: stored provider id '%s', last "
              "request got '%s'\n", (unsigned)i, provider_ids[i],
              rec[e - 1].sid);
    CHECK_STR(provider_ids[i], rec[e - 1].sid);
    provider_ids[i][0] = '\0'; /* seen */
    if (e - k == 1)
      continue;
    dup_msgs++;
    for (size_t j = k; j + 1 < e; j++) {
      child *c = &r->children[rec[j].child];
      /* A lost outcome: the child that sent it died before committing
       * it, and the next request came from a later child. */
      if (!c->killed || rec[j + 1].child <= rec[j].child)
        fprintf(stderr, "  message %u: sent by child %u and then by "
                "child %u (killed: %d; the same child: did a lease expire"
                " under a living engine?)\n", (unsigned)i,
                (unsigned)rec[j].child + 1, (unsigned)rec[j + 1].child + 1,
                c->killed);
      CHECK(c->killed);
      CHECK(rec[j + 1].child > rec[j].child);
      c->lost++;
      extras++;
    }
  }
  /* Every message reached the simulator. */
  for (uint32_t i = 0; i < r->total; i++) {
    if (provider_ids[i][0] != '\0')
      fprintf(stderr, "  message %u: provider id %s never given\n",
              (unsigned)i, provider_ids[i]);
    CHECK(provider_ids[i][0] == '\0');
  }
  CHECK(nrec == r->total + extras);

  per_kill = THREADS * CLAIM_BATCH;
  bound = r->kills * per_kill;
  for (size_t k = 0; k < r->nchildren; k++) {
    if (r->children[k].lost > worst)
      worst = r->children[k].lost;
    CHECK(r->children[k].lost <= per_kill);
  }
  printf("crash: %u accepted, %u sent, %u kills (%u with synchronous="
         "FULL), %u duplicates in %u messages (bound %u = %u kills x %d "
         "threads x %d claim batch; worst kill %u), %u enqueued by the "
         "final child, %.1f s\n",
         (unsigned)r->total, sent, r->kills, r->full_rounds, extras,
         dup_msgs, bound, r->kills, THREADS, CLAIM_BATCH, worst,
         (unsigned)last->accepted, (double)(mono_us() - t0) / 1e6);
  CHECK(extras <= bound);
  CHECK(r->kills >= (unsigned)min_kills);

  free(rec);
  free(provider_ids);
  free(r->reported);
  vc_sim_stop(r->sim);
}

static const vc_test_case cases[] = {
  VC_TEST(test_crash__kill9_during_enqueue_and_dispatch),
};

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "--child") == 0)
    return child_main(argc, argv);
  return vc_test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
