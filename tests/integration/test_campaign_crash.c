/*
 * The campaign crash test (DESIGN 4 and 9; issue 7): a campaign of
 * 50,000 recipients fanned out and dispatched by children that are
 * killed with SIGKILL at random points, restarted each time. At the end
 * every recipient has exactly one message, and the campaign's counters
 * equal what the store holds.
 *
 * The parent prepares the SQLite file (a tenant, a sandbox SMS channel,
 * a template, the contacts by SQL, all tagged) and starts the campaign
 * (no throttle). Then it runs children, each a fresh exec of this program
 * with --child, one after the other: a child opens the file as a context
 * with two engine threads (vc_ctx_start), which fan out and dispatch at
 * once. The parent kills each child after a random 30..700 ms past the
 * lease (1 s: the fan-out job a dead child held is claimed again once
 * its lease expires), reading the campaign's progress just before, until
 * it has made MIN_KILLS kills while the fan-out was in progress (at most
 * MAX_KILLS kills in all). A
 * final child is not killed: it runs until the campaign is completed and
 * no job is left (the jobs leased by dead children come back when their
 * leases expire, on the real clock), then exits normally.
 *
 * The parent then reads the file: 50,000 recipient rows, one message per
 * recipient (none with two), all `sent`; the counters total, queued and
 * sent equal those counts, failed and open are zero, the campaign is
 * completed with exactly one campaign.completed event.
 *
 * Knobs (environment): VC_CRASH_SEED, VC_CRASH_RECIPIENTS (default
 * 50000), VC_CRASH_KILLS (default 8), VC_CRASH_VERBOSE.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#define RECIPIENTS 50000
#define MIN_KILLS 8
#define MAX_KILLS 60
/* After the lease of the job a dead child held has expired. */
#define KILL_MIN_MS (LEASE_MS + 30)
#define KILL_MAX_MS (LEASE_MS + 700)
#define LEASE_MS 1000
#define THREADS 2
#define FINAL_TIMEOUT_MS 300000
#define TENANT "crash"

/* Marketing SMS and chat without an opt-in: these tests are not about
 * consent (an opt-out still refuses). */
static void no_opt_in(vc_tenant *t)
{
  CHECK_OK(vc_consent_policy_set(t, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                                 0));
  CHECK_OK(vc_consent_policy_set(t, VC_CHANNEL_CHAT, VC_CATEGORY_MARKETING,
                                 0));
}

static const uint8_t master_key[32] = { 0x63, 0x61, 0x6d, 0x70 };

static int64_t wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
  struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static long env_long(const char *name, long dflt)
{
  const char *v = getenv(name);

  return v != NULL && *v ? strtol(v, NULL, 10) : dflt;
}

static int open_ctx(vc_ctx **ctx, const char *path, vc_log_cb log)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_store *store;
  int rc;

  if ((rc = vc_store_open_sqlite(&store, path, NULL)) < 0)
    return rc;
  mk.key = master_key;
  mk.key_len = sizeof(master_key);
  o.store = store;
  o.master_key = &mk;
  o.lease_ms = LEASE_MS;
  o.log_cb = log;
  o.log_level = VC_LOG_WARN;
  return vc_ctx_new(ctx, &o);
}

static int64_t query_int(sqlite3 *db, const char *sql, const char *arg)
{
  sqlite3_stmt *s;
  int64_t v = -1;

  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
    return -2;
  if (arg != NULL)
    sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
  if (sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
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

/* argv: --child db campaign_id final */
static int child_main(int argc, char **argv)
{
  vc_campaign *c;
  vc_tenant *t;
  vc_ctx *ctx;
  sqlite3 *db;
  int64_t deadline = wall_ms() + FINAL_TIMEOUT_MS;
  int final, rc;

  if (argc != 5)
    return 2;
  final = atoi(argv[4]);
  if ((rc = open_ctx(&ctx, argv[2], child_log)) < 0)
    child_fail("vc_ctx_new", rc);
  if ((rc = vc_tenant_lookup(&t, ctx, TENANT)) < 0)
    child_fail("vc_tenant_lookup", rc);
  if ((rc = vc_campaign_lookup(&c, t, argv[3])) < 0)
    child_fail("vc_campaign_lookup", rc);
  if ((rc = vc_ctx_start(ctx, THREADS)) < 0)
    child_fail("vc_ctx_start", rc);
  if (!final)
    for (;;)
      pause(); /* fanning out and dispatching until killed */
  if (sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    child_fail("sqlite3_open_v2", -1);
  sqlite3_busy_timeout(db, 5000);
  for (;;) {
    vc_campaign_counters k = VC_CAMPAIGN_COUNTERS_INIT;
    if ((rc = vc_campaign_counters_get(&k, c)) < 0)
      child_fail("vc_campaign_counters_get", rc);
    if (k.state == VC_CAMPAIGN_COMPLETED &&
        query_int(db, "SELECT COUNT(*) FROM vc_job", NULL) == 0)
      break;
    if (wall_ms() > deadline)
      child_fail("the campaign did not complete", -1);
    vc_ctx_wakeup(ctx);
    sleep_ms(50);
  }
  sqlite3_close(db);
  if ((rc = vc_ctx_stop(ctx)) < 0)
    child_fail("vc_ctx_stop", rc);
  vc_campaign_free(c);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  return 0;
}

/* ---- the parent ------------------------------------------------------ */

typedef struct run {
  char db[512], self[512], campaign[VC_ID_SIZE];
  long recipients;
} run;

static void setup(run *r)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_template_spec tp = VC_TEMPLATE_SPEC_INIT;
  vc_campaign_spec s = VC_CAMPAIGN_SPEC_INIT;
  static const char *chain[] = { "sms" };
  sqlite3_stmt *st[3];
  char id[32], phone[24], tid[VC_ID_SIZE];
  vc_template *tpl;
  vc_campaign *c;
  vc_channel *ch;
  vc_tenant *t;
  vc_ctx *ctx;
  sqlite3 *db;

  CHECK_OK(open_ctx(&ctx, r->db, NULL));
  ts.slug = TENANT;
  CHECK_OK(vc_tenant_new(&t, ctx, &ts));
  no_opt_in(t);
  snprintf(tid, sizeof(tid), "%s", vc_tenant_id(t));
  cs.name = "sms";
  cs.provider = "sandbox-sms";
  cs.sender = "+15550001111";
  CHECK_OK(vc_channel_new(&ch, t, &cs));
  vc_channel_free(ch);
  tp.name = "offer";
  tp.kind = VC_CHANNEL_SMS;
  tp.text_body = "Hi {{name}}, the sale starts now";
  CHECK_OK(vc_template_new(&tpl, t, &tp));
  vc_template_free(tpl);
  /* The contacts, by SQL until the contacts API lands. */
  CHECK(sqlite3_open(r->db, &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  CHECK(sqlite3_prepare_v2(db, "INSERT INTO vc_contact (tenant_id, id,"
                           " created_at, updated_at) VALUES (?1, ?2, 1, 1)",
                           -1, &st[0], NULL) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, "INSERT INTO vc_contact_address VALUES (?1,"
                           " 1, ?3, ?2, 1)", -1, &st[1], NULL) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, "INSERT INTO vc_contact_tag VALUES (?1,"
                           " 'crowd', ?2)", -1, &st[2], NULL) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
  for (long i = 0; i < r->recipients; i++) {
    snprintf(id, sizeof(id), "01HC0000000000000%09ld", i);
    snprintf(phone, sizeof(phone), "+1415%07ld", i);
    for (int k = 0; k < 3; k++) {
      sqlite3_bind_text(st[k], 1, tid, -1, SQLITE_STATIC);
      sqlite3_bind_text(st[k], 2, id, -1, SQLITE_STATIC);
      if (k == 1)
        sqlite3_bind_text(st[k], 3, phone, -1, SQLITE_STATIC);
      CHECK(sqlite3_step(st[k]) == SQLITE_DONE);
      sqlite3_reset(st[k]);
    }
  }
  CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
  for (int k = 0; k < 3; k++)
    sqlite3_finalize(st[k]);
  sqlite3_close(db);
  s.name = "crash";
  s.template_name = "offer";
  s.vars_json = "{\"name\":\"you\"}";
  s.chain = chain;
  s.nchain = 1;
  s.audience = VC_AUDIENCE_TAG;
  s.tag = "crowd";
  CHECK_OK(vc_campaign_new(&c, t, &s));
  CHECK_OK(vc_campaign_start(c));
  snprintf(r->campaign, sizeof(r->campaign), "%s", vc_campaign_id(c));
  vc_campaign_free(c);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static pid_t spawn(run *r, int final)
{
  char *args[] = { r->self, (char *)"--child", r->db, r->campaign,
                   (char *)(final ? "1" : "0"), NULL };
  pid_t pid, parent = getpid();

  fflush(stdout);
  fflush(stderr);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
      _exit(125);
    execv(r->self, args);
    _exit(127);
  }
  return pid;
}

/* The fan-out's progress: recipients reached, and whether it is done. */
static void progress(run *r, int64_t *total, int64_t *done)
{
  sqlite3 *db;

  CHECK(sqlite3_open_v2(r->db, &db, SQLITE_OPEN_READONLY, NULL) ==
        SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  *total = query_int(db, "SELECT total FROM vc_campaign WHERE id = ?1",
                     r->campaign);
  *done = query_int(db, "SELECT fanout_done FROM vc_campaign WHERE id = ?1",
                    r->campaign);
  sqlite3_close(db);
}

static void check_store(run *r)
{
  const char *id = r->campaign;
  sqlite3 *db;
  int64_t n;

  CHECK(sqlite3_open_v2(r->db, &db, SQLITE_OPEN_READONLY, NULL) ==
        SQLITE_OK);
  n = r->recipients;
  CHECK(query_int(db, "SELECT COUNT(*) FROM vc_campaign_recipient WHERE"
                  " campaign_id = ?1", id) == n);
  CHECK(query_int(db, "SELECT COUNT(*) FROM vc_campaign_recipient WHERE"
                  " campaign_id = ?1 AND state = 1", id) == n);
  /* Exactly one message per recipient. */
  CHECK(query_int(db, "SELECT COUNT(*) FROM vc_message WHERE"
                  " campaign_id = ?1", id) == n);
  CHECK(query_int(db, "SELECT COUNT(DISTINCT contact_id) FROM vc_message"
                  " WHERE campaign_id = ?1", id) == n);
  CHECK(query_int(db, "SELECT COUNT(*) FROM (SELECT contact_id FROM"
                  " vc_message WHERE campaign_id = ?1 GROUP BY contact_id"
                  " HAVING COUNT(*) > 1)", id) == 0);
  CHECK(query_int(db, "SELECT COUNT(*) FROM vc_message WHERE"
                  " campaign_id = ?1 AND status = 3", id) == n);
  /* The recipient rows point at those messages. */
  CHECK(query_int(db, "SELECT COUNT(*) FROM vc_campaign_recipient k JOIN"
                  " vc_message m ON m.tenant_id = k.tenant_id AND"
                  " m.id = k.message_id AND m.contact_id = k.contact_id"
                  " WHERE k.campaign_id = ?1", id) == n);
  /* The counters are the truth. */
  CHECK(query_int(db, "SELECT total FROM vc_campaign WHERE id = ?1", id) == n);
  CHECK(query_int(db, "SELECT queued FROM vc_campaign WHERE id = ?1", id) ==
        n);
  CHECK(query_int(db, "SELECT sent FROM vc_campaign WHERE id = ?1", id) == n);
  CHECK(query_int(db, "SELECT failed + canceled + skipped_consent +"
                  " skipped_address + expired + open_count FROM vc_campaign"
                  " WHERE id = ?1", id) == 0);
  CHECK(query_int(db, "SELECT state FROM vc_campaign WHERE id = ?1", id) ==
        VC_CAMPAIGN_COMPLETED);
  CHECK(query_int(db, "SELECT COUNT(*) FROM vc_event WHERE type ="
                  " 'campaign.completed' AND subject_id = ?1", id) == 1);
  CHECK(query_int(db, "SELECT COUNT(*) FROM vc_job", NULL) == 0);
  sqlite3_close(db);
}

static void test_campaign_crash__kill9_during_fanout(void)
{
  unsigned seed = (unsigned)env_long("VC_CRASH_SEED", (long)time(NULL));
  long min_kills = env_long("VC_CRASH_KILLS", MIN_KILLS);
  int verbose = env_long("VC_CRASH_VERBOSE", 0) != 0;
  int kills = 0, during = 0, status;
  int64_t total = 0, done = 0, t0 = wall_ms();
  pid_t pid;
  run r;

  memset(&r, 0, sizeof(r));
  r.recipients = env_long("VC_CRASH_RECIPIENTS", RECIPIENTS);
  printf("  seed %u, %ld recipients\n", seed, r.recipients);
  srand(seed);
  snprintf(r.db, sizeof(r.db), "%s", vc_test_path("crash.db"));
  CHECK(readlink("/proc/self/exe", r.self, sizeof(r.self) - 1) > 0);
  setup(&r);
  while (during < min_kills && kills < MAX_KILLS) {
    int delay = KILL_MIN_MS + rand() % (KILL_MAX_MS - KILL_MIN_MS + 1);
    int64_t before = total;
    pid = spawn(&r, 0);
    sleep_ms(delay);
    progress(&r, &total, &done);
    CHECK(kill(pid, SIGKILL) == 0);
    CHECK(waitpid(pid, &status, 0) == pid);
    /* A child that died by itself failed. */
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    kills++;
    during += !done && total > 0;
    if (verbose)
      printf("  kill %d after %d ms: %lld recipients (+%lld)%s\n", kills,
             delay, (long long)total, (long long)(total - before),
             done ? ", fan-out done" : "");
    if (done)
      break;
  }
  printf("  %d kills, %d during the fan-out (%lld of %ld recipients"
         " reached)\n", kills, during, (long long)total, r.recipients);
  CHECK(during >= 1);
  pid = spawn(&r, 1);
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  printf("  completed in %.1f s\n", (wall_ms() - t0) / 1000.0);
  check_store(&r);
}

static const vc_test_case cases[] = {
  VC_TEST(test_campaign_crash__kill9_during_fanout),
};

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "--child") == 0)
    return child_main(argc, argv);
  return vc_test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
