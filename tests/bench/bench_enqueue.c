/*
 * bench_enqueue: the durable enqueue (vc_message_send) against raw
 * prepared SQLite inserts into the same schema with the same pragmas,
 * measured in the same run (DESIGN 9, issue 3 item 9).
 *
 * Every message is the same rows whoever writes them: one vc_message row,
 * one vc_job row ('message.send') and one vc_event row ('message.queued'),
 * in a database the library created (same tables, indexes and pragmas:
 * WAL, foreign_keys=ON, synchronous NORMAL or FULL).
 *
 *   (a) batched, synchronous=NORMAL. Baseline: raw inserts, 1,000
 *       messages per transaction. Against it: vc_message_send() as it is
 *       (one transaction per send), and vc_message_send() inside the
 *       host's BEGIN ... COMMIT around 1,000 sends through
 *       vc_store_wrap_sqlite(), the documented way to batch, also with
 *       the host's connection set to temp_store=MEMORY (each send's
 *       SAVEPOINT journals pages to a temporary file otherwise).
 *       Goal >= 0.5.
 *   (b) single durable enqueue, synchronous=FULL: vc_message_send() one
 *       after the other against raw commits of one message's rows each.
 *       Goal >= 0.9. Beside it, its floor: raw SQLite running the
 *       statements one such send runs (the contact and consent reads in
 *       a read transaction; the message, job, event, rollup and audit
 *       rows in a FULL commit), no library code in the measured path.
 *   (c) 16 producer threads, synchronous=FULL, each send returning after
 *       its own commit, against (b)'s raw single-message commit rate.
 *       Goal >= 8x (needs commits shared between producers: group commit).
 *       Raw SQLite with 16 threads, one connection each, is printed too,
 *       and the floor: a raw group commit of the same rows (no library
 *       code in the measured path; its sync in the commit, or overlapped
 *       with the next group's writes), what group commit itself allows;
 *       and floor (c): the best of those running floor (b)'s statements,
 *       the reads in each producer and the rollup and audit rows once a
 *       group, as the library does. After each the database must hold
 *       exactly the rows it wrote.
 *
 * Each measurement runs in a child process (peak memory is its own) and
 * the whole set is repeated --runs times; figures are medians with the
 * (min..max) spread, ratios are taken within a run.
 *
 *   bench_enqueue [--quick] [--runs N] [--messages N] [--durable N]
 *                 [--threads N] [--only TEXT]
 *
 * Default 20000 messages for (a), 2000 for (b) and (c), 3 runs; --quick
 * (or VC_BENCH_QUICK=1): 2000, 200, 1 run. --only runs the measurements
 * whose printed name contains TEXT (for a profiler).
 */
#include "bench_common.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/vfs.h>

#include "vyomcomm.h"

#define BATCH 1000
#define MAX_THREADS 64
#define TEXT "Your OTP is 482913. It expires in 10 minutes."
#define HASH "5f2b0c3a9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a"

static char g_template[600];   /* a database with the schema and a tenant */
static char g_tenant_id[VC_ID_SIZE];

static long g_messages = 20000, g_durable = 2000;
static int g_threads = 16;

/* ---- the database every measurement starts from ------------------------ */

static int make_template(void)
{
  vc_sqlite_options so = VC_SQLITE_OPTIONS_INIT;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_tenant *t = NULL;
  vc_channel *ch = NULL;
  int rc;

  bench_path(g_template, sizeof(g_template), "template.db");
  if ((rc = vc_store_open_sqlite(&store, g_template, &so)) != 0)
    goto fail;
  o.store = store;
  if ((rc = vc_ctx_new(&ctx, &o)) != 0) {
    vc_store_free(store);
    goto fail;
  }
  ts.slug = "acme";
  if ((rc = vc_tenant_new(&t, ctx, &ts)) != 0)
    goto fail;
  snprintf(g_tenant_id, sizeof(g_tenant_id), "%s", vc_tenant_id(t));
  /* A channel the messages route to by kind (the sandbox needs no
   * credentials); enqueue does not look it up. */
  cs.name = "sms";
  cs.provider = "sandbox-sms";
  if ((rc = vc_channel_new(&ch, t, &cs)) != 0)
    goto fail;
  vc_channel_free(ch);
  vc_tenant_free(t);
  vc_ctx_free(ctx); /* the last connection checkpoints the WAL away */
  return 0;
fail:
  fprintf(stderr, "bench_enqueue: setup: %s\n", vc_error_last()->message);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  return -1;
}

/* A fresh copy of the template for one measurement. */
static const char *fresh_db(char *buf, size_t size, const char *name)
{
  bench_path(buf, size, name);
  bench_db_remove(buf);
  if (bench_copy_file(g_template, buf) != 0) {
    perror("copy template");
    _exit(1);
  }
  return buf;
}

/* ---- raw SQLite: the baseline ------------------------------------------- */

typedef struct raw {
  sqlite3 *db;
  sqlite3_stmt *msg, *job, *ev, *begin, *commit;
  uint64_t seq;
  char prefix[11];
} raw;

static int raw_fail(raw *r, const char *what)
{
  fprintf(stderr, "bench_enqueue: sqlite %s: %s\n", what,
          r->db ? sqlite3_errmsg(r->db) : "?");
  return -1;
}

/* 26-character ids, time then a counter: ordered like the library's
 * monotonic ULIDs. */
static void id_encode(const char *prefix, uint64_t v, char out[27])
{
  static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

  memcpy(out, prefix, 10);
  for (int i = 25; i >= 10; i--) {
    out[i] = b32[v & 31];
    v >>= 5;
  }
  out[26] = '\0';
}

static void raw_id(raw *r, char out[27])
{
  id_encode(r->prefix, ++r->seq, out);
}

static int64_t wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int raw_open(raw *r, const char *path, int full, unsigned salt)
{
  char sql[128];

  memset(r, 0, sizeof(*r));
  snprintf(r->prefix, sizeof(r->prefix), "01J%07u", salt % 10000000u);
  if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE |
                      SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    return raw_fail(r, "open");
  /* 16 raw writers starve one another in SQLite's busy handler (one
   * waited over 5 s on a loaded machine): the baseline waits, it does
   * not fail. */
  sqlite3_busy_timeout(r->db, 120000);
  /* The library's pragmas (src/store/sqlite.c). */
  snprintf(sql, sizeof(sql), "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
           " PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;",
           full ? "FULL" : "NORMAL");
  if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return raw_fail(r, "pragmas");
  /* The library's own statements (src/msg/message.c, core/job.c,
   * core/event.c). */
  if (sqlite3_prepare_v2(r->db,
        "INSERT INTO vc_message (tenant_id, id, kind, channel_id, pinned,"
        " to_addr, from_addr, subject, text_body, html_body, metadata,"
        " template_id, template_version, idempotency_key, content_hash,"
        " status, segments, send_at, created_at, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
        " ?14, ?15, 1, ?16, ?17, ?18, ?18)", -1, &r->msg, NULL) ||
      sqlite3_prepare_v2(r->db,
        "INSERT INTO vc_job (tenant_id, id, kind, subject_id, due_at,"
        " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &r->job, NULL) ||
      sqlite3_prepare_v2(r->db,
        "INSERT INTO vc_event (tenant_id, type, subject_id, payload,"
        " created_at) VALUES (?1, ?2, ?3, ?4, ?5)", -1, &r->ev, NULL) ||
      sqlite3_prepare_v2(r->db, "BEGIN IMMEDIATE", -1, &r->begin, NULL) ||
      sqlite3_prepare_v2(r->db, "COMMIT", -1, &r->commit, NULL))
    return raw_fail(r, "prepare");
  return 0;
}

static void raw_close(raw *r)
{
  sqlite3_finalize(r->msg);
  sqlite3_finalize(r->job);
  sqlite3_finalize(r->ev);
  sqlite3_finalize(r->begin);
  sqlite3_finalize(r->commit);
  sqlite3_close(r->db);
}

static int raw_step(raw *r, sqlite3_stmt *s, const char *what)
{
  int rc = sqlite3_step(s);

  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : raw_fail(r, what);
}

/* A queued message's job and event rows; `ids` says how the ids are
 * bound (each measurement keeps the way it was first measured). */
static int raw_job_event(raw *r, const char *id, const char *job,
                         int64_t now, sqlite3_destructor_type ids)
{
  sqlite3_bind_text(r->job, 1, g_tenant_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(r->job, 2, job, -1, ids);
  sqlite3_bind_text(r->job, 3, "message.send", -1, SQLITE_STATIC);
  sqlite3_bind_text(r->job, 4, id, -1, ids);
  sqlite3_bind_int64(r->job, 5, now);
  sqlite3_bind_int64(r->job, 6, now);
  if (raw_step(r, r->job, "insert job") != 0)
    return -1;
  sqlite3_bind_text(r->ev, 1, g_tenant_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(r->ev, 2, "message.queued", -1, SQLITE_STATIC);
  sqlite3_bind_text(r->ev, 3, id, -1, ids);
  sqlite3_bind_text(r->ev, 4, "{\"status\":\"queued\",\"kind\":2}", -1,
                    SQLITE_STATIC);
  sqlite3_bind_int64(r->ev, 5, now);
  return raw_step(r, r->ev, "insert event");
}

/* One message's three rows from values made beforehand (inside a
 * transaction). */
static int raw_insert(raw *r, const char *id, const char *job,
                      const char *to, int64_t now)
{
  sqlite3_bind_text(r->msg, 1, g_tenant_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(r->msg, 2, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(r->msg, 3, 2);
  sqlite3_bind_null(r->msg, 4);
  sqlite3_bind_int64(r->msg, 5, 0);
  sqlite3_bind_text(r->msg, 6, to, -1, SQLITE_TRANSIENT);
  for (int c = 7; c <= 12; c++)
    sqlite3_bind_null(r->msg, c);
  sqlite3_bind_text(r->msg, 9, TEXT, -1, SQLITE_STATIC);
  sqlite3_bind_int64(r->msg, 13, 0);
  sqlite3_bind_null(r->msg, 14);
  sqlite3_bind_text(r->msg, 15, HASH, -1, SQLITE_STATIC);
  sqlite3_bind_int64(r->msg, 16, 1);
  sqlite3_bind_int64(r->msg, 17, now);
  sqlite3_bind_int64(r->msg, 18, now);
  if (raw_step(r, r->msg, "insert message") != 0)
    return -1;
  return raw_job_event(r, id, job, now, SQLITE_TRANSIENT);
}

/* One message's three rows (inside a transaction). */
static int raw_message(raw *r, long i)
{
  char id[27], job[27], to[24];
  int64_t now = wall_ms();

  raw_id(r, id);
  raw_id(r, job);
  snprintf(to, sizeof(to), "+1415555%04ld", i % 10000);
  return raw_insert(r, id, job, to, now);
}

/* n messages, `per_tx` per transaction; returns messages/s or < 0. */
static double raw_run(raw *r, long n, long per_tx)
{
  double t0 = bench_now();

  for (long i = 0; i < n;) {
    if (raw_step(r, r->begin, "begin") != 0)
      return -1;
    for (long k = 0; k < per_tx && i < n; k++, i++)
      if (raw_message(r, i) != 0)
        return -1;
    if (raw_step(r, r->commit, "commit") != 0)
      return -1;
  }
  return (double)n / (bench_now() - t0);
}

typedef struct raw_args {
  int full;
  long n, per_tx;
} raw_args;

static int child_raw(void *arg)
{
  raw_args *a = arg;
  char path[600];
  raw r;
  double rate;

  fresh_db(path, sizeof(path), "raw.db");
  if (raw_open(&r, path, a->full, 1) != 0)
    return 1;
  rate = raw_run(&r, a->n, a->per_tx);
  raw_close(&r);
  if (rate < 0)
    return 1;
  bench_report(rate);
  return 0;
}

/* Raw, several threads, each its own connection and single-message
 * commits: what SQLite does without shared commits. */
typedef struct raw_thread {
  pthread_t th;
  pthread_barrier_t *go;
  const char *path;
  int full;
  unsigned idx;
  long n;
  int err;
} raw_thread;

static void *raw_thread_main(void *arg)
{
  raw_thread *t = arg;
  raw r;

  if (raw_open(&r, t->path, t->full, 1000 + t->idx) != 0) {
    t->err = 1;
    pthread_barrier_wait(t->go);
    return NULL;
  }
  pthread_barrier_wait(t->go);
  if (raw_run(&r, t->n, 1) < 0)
    t->err = 1;
  raw_close(&r);
  return NULL;
}

static int child_raw_threads(void *arg)
{
  raw_args *a = arg;
  raw_thread th[MAX_THREADS];
  pthread_barrier_t go;
  char path[600];
  long per = a->n / g_threads;
  double t0;
  int err = 0;

  fresh_db(path, sizeof(path), "rawmt.db");
  pthread_barrier_init(&go, NULL, (unsigned)g_threads + 1);
  for (int i = 0; i < g_threads; i++) {
    th[i] = (raw_thread){ 0, &go, path, a->full, (unsigned)i, per, 0 };
    pthread_create(&th[i].th, NULL, raw_thread_main, &th[i]);
  }
  pthread_barrier_wait(&go);
  t0 = bench_now();
  for (int i = 0; i < g_threads; i++) {
    pthread_join(th[i].th, NULL);
    err |= th[i].err;
  }
  if (err)
    return 1;
  bench_report((double)(per * g_threads) / (bench_now() - t0));
  return 0;
}

/* ---- raw, one send's statements: a data-model floor for (b) ------------ */

/*
 * What one durable vc_message_send of lib_send's message (SMS, raw text,
 * no contact, no idempotency key) runs in the store, as raw SQLite with
 * no library code in the measured path: the reads in one read
 * transaction, then the writes in one FULL commit, each statement the
 * library's own SQL text (traced from a send, copied from the source:
 * msg/contact.c, msg/consent.c, msg/message.c, core/job.c, core/event.c,
 * core/audit.c, msg/stats.c), bound with the values the library binds.
 * Quiet hours read nothing here: a recipient who is no contact gets the
 * tenant's window, which the tenant handle holds.
 */
typedef struct sendraw {
  raw r;           /* the pragmas, job and event inserts, BEGIN IMMEDIATE,
                    * COMMIT */
  sqlite3_stmt *read, *contact, *consent, *msg, *audit, *rollup;
} sendraw;

static const char *const SENT_TABLES[5] = {
  "vc_message", "vc_job", "vc_event", "vc_audit", "vc_stats_message"
};

static int sendraw_open(sendraw *s, const char *path, int full)
{
  raw *r = &s->r;

  memset(s, 0, sizeof(*s));
  if (raw_open(r, path, full, 1) != 0)
    return -1;
  if (sqlite3_prepare_v2(r->db, "BEGIN", -1, &s->read, NULL) ||
      sqlite3_prepare_v2(r->db,
        "SELECT a.contact_id FROM vc_contact_address a JOIN vc_contact c"
        " ON c.tenant_id = a.tenant_id AND c.id = a.contact_id"
        " WHERE a.tenant_id = ?1 AND a.addr_kind = ?2 AND a.address = ?3"
        " AND c.erased_at IS NULL", -1, &s->contact, NULL) ||
      /* Consent for a recipient who is no contact: the tenant's policy
       * and whether it has a privacy key. */
      sqlite3_prepare_v2(r->db,
        "SELECT NULL,"
        " (SELECT requires_opt_in FROM vc_consent_policy WHERE tenant_id = ?1"
        "  AND channel_kind = ?3 AND category = ?4),"
        " (SELECT 1 FROM vc_privacy_key WHERE tenant_id = ?1 AND id = ?1)"
        " WHERE ?2 = ''", -1, &s->consent, NULL) ||
      /* The library's message insert (more columns than raw_insert's). */
      sqlite3_prepare_v2(r->db,
        "INSERT INTO vc_message (tenant_id, id, kind, channel_id, pinned,"
        " to_addr, from_addr, subject, text_body, html_body, metadata,"
        " template_id, template_version, idempotency_key, content_hash,"
        " status, segments, send_at, created_at, updated_at, attachments,"
        " category, contact_id, consent_exempt)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
        " ?14, ?15, 1, ?16, ?17, ?18, ?18, ?19, ?20, ?21, ?22)", -1,
        &s->msg, NULL) ||
      sqlite3_prepare_v2(r->db,
        "INSERT INTO vc_audit (tenant_id, id, actor, action, entity_id,"
        " summary, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1,
        &s->audit, NULL) ||
      sqlite3_prepare_v2(r->db,
        "INSERT INTO vc_stats_message (tenant_id, hour, kind, channel_id,"
        " campaign_id, status, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT (tenant_id, hour, kind, channel_id, campaign_id,"
        " status) DO UPDATE SET n = vc_stats_message.n + excluded.n", -1,
        &s->rollup, NULL))
    return raw_fail(r, "prepare");
  return 0;
}

static void sendraw_close(sendraw *s)
{
  sqlite3_finalize(s->read);
  sqlite3_finalize(s->contact);
  sqlite3_finalize(s->consent);
  sqlite3_finalize(s->msg);
  sqlite3_finalize(s->audit);
  sqlite3_finalize(s->rollup);
  raw_close(&s->r);
}

/* A read stepped once, as the library does, then reset. */
static int sendraw_read(sendraw *s, sqlite3_stmt *q, const char *what)
{
  int rc = sqlite3_step(q);

  if (rc == SQLITE_ROW)
    for (int c = 0; c < sqlite3_column_count(q); c++)
      (void)sqlite3_column_int64(q, c);
  sqlite3_reset(q);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
         : raw_fail(&s->r, what);
}

/* The UTC hour of a time, the rollup's key (msg/stats.c). */
static int64_t hour_of(int64_t ms)
{
  return ms - ms % 3600000;
}

/* A send's reads, in a read transaction of their own. */
static int sendraw_reads(sendraw *s, const char *to)
{
  raw *r = &s->r;

  if (raw_step(r, s->read, "begin read") != 0)
    return -1;
  sqlite3_bind_text(s->contact, 1, g_tenant_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s->contact, 2, VC_ADDRESS_PHONE);
  sqlite3_bind_text(s->contact, 3, to, -1, SQLITE_STATIC);
  if (sendraw_read(s, s->contact, "contact") != 0)
    return -1;
  sqlite3_bind_text(s->consent, 1, g_tenant_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s->consent, 2, "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(s->consent, 3, VC_CHANNEL_SMS);
  sqlite3_bind_int64(s->consent, 4, VC_CATEGORY_TRANSACTIONAL);
  if (sendraw_read(s, s->consent, "consent") != 0)
    return -1;
  return raw_step(r, r->commit, "commit read");
}

/* A send's message, job and event rows (inside a transaction). */
static int sendraw_rows(sendraw *s, const char *id, const char *job,
                        const char *to, int64_t now)
{
  raw *r = &s->r;

  sqlite3_bind_text(s->msg, 1, g_tenant_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s->msg, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s->msg, 3, VC_CHANNEL_SMS);
  sqlite3_bind_null(s->msg, 4);
  sqlite3_bind_int64(s->msg, 5, 0);
  sqlite3_bind_text(s->msg, 6, to, -1, SQLITE_STATIC);
  for (int c = 7; c <= 12; c++)
    sqlite3_bind_null(s->msg, c);
  sqlite3_bind_text(s->msg, 9, TEXT, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s->msg, 13, 0);
  sqlite3_bind_null(s->msg, 14);
  sqlite3_bind_text(s->msg, 15, "", -1, SQLITE_STATIC); /* no key */
  sqlite3_bind_int64(s->msg, 16, 1);
  sqlite3_bind_int64(s->msg, 17, now);
  sqlite3_bind_int64(s->msg, 18, now);
  sqlite3_bind_int64(s->msg, 19, 0);
  sqlite3_bind_int64(s->msg, 20, VC_CATEGORY_TRANSACTIONAL);
  sqlite3_bind_null(s->msg, 21);
  sqlite3_bind_int64(s->msg, 22, 0);
  if (raw_step(r, s->msg, "insert message") != 0)
    return -1;
  return raw_job_event(r, id, job, now, SQLITE_STATIC);
}

/* The rollup's count of `n` queued messages in the hour of `now`. */
static int sendraw_rollup(sendraw *s, int64_t now, long n)
{
  sqlite3_bind_text(s->rollup, 1, g_tenant_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s->rollup, 2, hour_of(now));
  sqlite3_bind_int64(s->rollup, 3, VC_CHANNEL_SMS);
  sqlite3_bind_text(s->rollup, 4, "", -1, SQLITE_STATIC);
  sqlite3_bind_text(s->rollup, 5, "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(s->rollup, 6, 1);   /* queued */
  sqlite3_bind_int64(s->rollup, 7, n);
  return raw_step(&s->r, s->rollup, "rollup");
}

/* A send's audit row. */
static int sendraw_audit(sendraw *s, const char *audit, const char *id,
                         int64_t now)
{
  sqlite3_bind_text(s->audit, 1, g_tenant_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s->audit, 2, audit, -1, SQLITE_STATIC);
  sqlite3_bind_text(s->audit, 3, "", -1, SQLITE_STATIC);
  sqlite3_bind_text(s->audit, 4, "message.send", -1, SQLITE_STATIC);
  sqlite3_bind_text(s->audit, 5, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s->audit, 6, "{\"kind\":\"sms\","
                    "\"category\":\"transactional\"}", -1, SQLITE_STATIC);
  sqlite3_bind_int64(s->audit, 7, now);
  return raw_step(&s->r, s->audit, "insert audit");
}

/* One send's statements: the read transaction, then the write one.
 * *hour: the rollup row's. */
static int sendraw_message(sendraw *s, long i, int64_t *hour)
{
  raw *r = &s->r;
  char id[27], job[27], audit[27], to[24];
  int64_t now = wall_ms();

  snprintf(to, sizeof(to), "+1415555%04ld", i % 10000);
  if (sendraw_reads(s, to) != 0)
    return -1;
  /* The ids in the library's order: message, job, audit row. */
  raw_id(r, id);
  raw_id(r, job);
  raw_id(r, audit);
  *hour = hour_of(now);
  /* The rollup, then the audit row: the library's flush, in its order. */
  if (raw_step(r, r->begin, "begin") != 0 ||
      sendraw_rows(s, id, job, to, now) != 0 ||
      sendraw_rollup(s, now, 1) != 0 ||
      sendraw_audit(s, audit, id, now) != 0)
    return -1;
  return raw_step(r, r->commit, "commit");
}

/* The rows of SENT_TABLES, and the rollup's total count. */
static int sendraw_counts(sendraw *s, long out[6])
{
  for (int k = 0; k < 6; k++) {
    char sql[64];
    sqlite3_stmt *q = NULL;
    int rc;
    if (k < 5)
      snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", SENT_TABLES[k]);
    else
      snprintf(sql, sizeof(sql), "SELECT total(n) FROM vc_stats_message");
    rc = sqlite3_prepare_v2(s->r.db, sql, -1, &q, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
      out[k] = (long)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW)
      return raw_fail(&s->r, "count");
  }
  return 0;
}

static int child_sendraw(void *arg)
{
  raw_args *a = arg;
  char path[600];
  sendraw s;
  long before[6], after[6], want[6], hours = 0;
  int64_t hour, last_hour = -1;
  double t0, dt;

  fresh_db(path, sizeof(path), "sendraw.db");
  if (sendraw_open(&s, path, 1) != 0 || sendraw_counts(&s, before) != 0)
    return 1;
  t0 = bench_now();
  for (long i = 0; i < a->n; i++) {
    if (sendraw_message(&s, i, &hour) != 0)
      return 1;
    /* A new hour is a new rollup row (the template has none). */
    if (hour != last_hour)
      hours++;
    last_hour = hour;
  }
  dt = bench_now() - t0;
  if (sendraw_counts(&s, after) != 0)
    return 1;
  for (int k = 0; k < 6; k++)
    want[k] = a->n;
  want[4] = hours;
  for (int k = 0; k < 6; k++)
    if (after[k] - before[k] != want[k]) {
      fprintf(stderr, "bench_enqueue: one send's statements: %ld %s more"
              " in %s, expected %ld\n", after[k] - before[k],
              k < 5 ? "rows" : "counted", k < 5 ? SENT_TABLES[k]
              : "vc_stats_message's n", want[k]);
      return 1;
    }
  sendraw_close(&s);
  bench_report((double)a->n / dt);
  return 0;
}

/* ---- the library ------------------------------------------------------- */

typedef struct lib {
  vc_ctx *ctx;
  vc_tenant *t;
  sqlite3 *host;  /* the host's connection, wrapped */
} lib;

static int lib_fail(const char *what)
{
  fprintf(stderr, "bench_enqueue: %s: %s\n", what, vc_error_last()->message);
  return -1;
}

static int lib_open(lib *l, const char *path, int full, int wrap)
{
  vc_sqlite_options so = VC_SQLITE_OPTIONS_INIT;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_store *store = NULL;

  memset(l, 0, sizeof(*l));
  if (wrap) {
    /* The host's connection with the library's pragmas. */
    if (sqlite3_open_v2(path, &l->host, SQLITE_OPEN_READWRITE |
                        SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK ||
        sqlite3_exec(l->host, full
                       ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                         " PRAGMA foreign_keys=ON;"
                       : "PRAGMA journal_mode=WAL;"
                         " PRAGMA synchronous=NORMAL;"
                         " PRAGMA foreign_keys=ON;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        /* The host's own choice: statement journals in memory. */
        (wrap == 2 && sqlite3_exec(l->host, "PRAGMA temp_store=MEMORY",
                                   NULL, NULL, NULL) != SQLITE_OK)) {
      fprintf(stderr, "bench_enqueue: host open: %s\n",
              sqlite3_errmsg(l->host));
      return -1;
    }
    sqlite3_busy_timeout(l->host, 5000);
    if (vc_store_wrap_sqlite(&store, l->host) != 0)
      return lib_fail("vc_store_wrap_sqlite");
  } else {
    so.synchronous = full ? VC_SQLITE_SYNC_FULL : VC_SQLITE_SYNC_NORMAL;
    if (vc_store_open_sqlite(&store, path, &so) != 0)
      return lib_fail("vc_store_open_sqlite");
  }
  o.store = store;
  if (vc_ctx_new(&l->ctx, &o) != 0) {
    vc_store_free(store);
    return lib_fail("vc_ctx_new");
  }
  if (vc_tenant_lookup(&l->t, l->ctx, "acme") != 0)
    return lib_fail("vc_tenant_lookup");
  return 0;
}

static void lib_close(lib *l)
{
  vc_tenant_free(l->t);
  vc_ctx_free(l->ctx);
  if (l->host != NULL)
    sqlite3_close(l->host);
}

static int lib_send(vc_tenant *t, long i)
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;
  char id[VC_ID_SIZE], to[24];

  snprintf(to, sizeof(to), "+1415555%04ld", i % 10000);
  s.kind = VC_CHANNEL_SMS;
  s.to = to;
  s.text = TEXT;
  return vc_message_send(id, t, &s) == 0 ? 0 : lib_fail("vc_message_send");
}

/* Before the clock starts: the baselines open their connections and
 * prepare their statements untimed, so the library does too. A send
 * opens the pool's connections it needs and prepares its statements. */
static int lib_warm_up(vc_tenant *t, long which)
{
  return lib_send(t, 9000 + which);
}

typedef struct lib_args {
  int full, wrap;   /* wrap: 1 host's connection, 2 with temp_store=MEMORY */
  long n;
} lib_args;

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

/* vc_message_send n times on one thread; with wrap, inside the host's
 * transactions of BATCH sends. Reports messages/s and, per send, the
 * median and 99th percentile latency in ms. */
static int child_lib(void *arg)
{
  lib_args *a = arg;
  char path[600];
  double *lat = calloc((size_t)a->n, sizeof(double)), t0, dt;
  lib l;

  fresh_db(path, sizeof(path), "lib.db");
  if (lat == NULL || lib_open(&l, path, a->full, a->wrap) != 0 ||
      lib_warm_up(l.t, 0) != 0)
    return 1;
  t0 = bench_now();
  for (long i = 0; i < a->n;) {
    if (a->wrap && sqlite3_exec(l.host, "BEGIN IMMEDIATE", NULL, NULL,
                                NULL) != SQLITE_OK)
      return 1;
    for (long k = 0; k < (a->wrap ? BATCH : 1) && i < a->n; k++, i++) {
      double s0 = bench_now();
      if (lib_send(l.t, i) != 0)
        return 1;
      lat[i] = bench_now() - s0;
    }
    if (a->wrap && sqlite3_exec(l.host, "COMMIT", NULL, NULL, NULL) !=
                     SQLITE_OK) {
      fprintf(stderr, "bench_enqueue: host commit: %s\n",
              sqlite3_errmsg(l.host));
      return 1;
    }
  }
  dt = bench_now() - t0;
  lib_close(&l);
  qsort(lat, (size_t)a->n, sizeof(double), cmp_double);
  bench_report((double)a->n / dt);
  bench_report(lat[a->n / 2] * 1e3);
  bench_report(lat[(size_t)((double)a->n * 0.99)] * 1e3);
  bench_report(lat[a->n - 1] * 1e3);
  free(lat);
  return 0;
}

/* vc_message_send_many with BATCH messages per call, on one thread.
 * Latencies are per call. */
static int child_lib_many(void *arg)
{
  lib_args *a = arg;
  char path[600], (*ids)[VC_ID_SIZE] = calloc(BATCH, VC_ID_SIZE);
  char (*to)[24] = calloc(BATCH, 24);
  vc_message_spec *specs = calloc(BATCH, sizeof(*specs));
  long ncalls = (a->n + BATCH - 1) / BATCH, c = 0;
  double *lat = calloc((size_t)ncalls, sizeof(double)), t0, dt;
  lib l;

  fresh_db(path, sizeof(path), "lib.db");
  if (ids == NULL || to == NULL || specs == NULL || lat == NULL ||
      lib_open(&l, path, a->full, 0) != 0 || lib_warm_up(l.t, 0) != 0)
    return 1;
  t0 = bench_now();
  for (long i = 0; i < a->n; c++) {
    long k = 0;
    double s0 = bench_now();
    for (; k < BATCH && i < a->n; k++, i++) {
      vc_message_spec_init(&specs[k], VC_MESSAGE_SPEC_VERSION);
      snprintf(to[k], sizeof(to[k]), "+1415555%04ld", i % 10000);
      specs[k].kind = VC_CHANNEL_SMS;
      specs[k].to = to[k];
      specs[k].text = TEXT;
    }
    if (vc_message_send_many(l.t, specs, (size_t)k, ids, NULL) != k)
      return lib_fail("vc_message_send_many");
    lat[c] = bench_now() - s0;
  }
  dt = bench_now() - t0;
  lib_close(&l);
  qsort(lat, (size_t)ncalls, sizeof(double), cmp_double);
  bench_report((double)a->n / dt);
  bench_report(lat[ncalls / 2] * 1e3);
  bench_report(lat[(size_t)((double)ncalls * 0.99)] * 1e3);
  bench_report(lat[ncalls - 1] * 1e3);
  free(lat);
  free(specs);
  free(to);
  free(ids);
  return 0;
}

/* 16 producers on one context (one connection each from its pool). */
typedef struct producer {
  pthread_t th;
  pthread_barrier_t *go;
  vc_tenant *t;
  long first, n;
  double *lat;
  int err;
} producer;

static void *producer_main(void *arg)
{
  producer *p = arg;

  /* All producers at once: the pool grows to what they need. */
  if (lib_warm_up(p->t, p->first / (p->n > 0 ? p->n : 1)) != 0)
    p->err = 1;
  pthread_barrier_wait(p->go);
  if (p->err)
    return NULL;
  for (long i = 0; i < p->n; i++) {
    double s0 = bench_now();
    if (lib_send(p->t, p->first + i) != 0) {
      p->err = 1;
      return NULL;
    }
    p->lat[i] = bench_now() - s0;
  }
  return NULL;
}

static int child_lib_threads(void *arg)
{
  lib_args *a = arg;
  producer pr[MAX_THREADS];
  pthread_barrier_t go;
  char path[600];
  long per = a->n / g_threads, total = per * g_threads;
  double *lat = calloc((size_t)total, sizeof(double)), t0, dt;
  int err = 0;
  lib l;

  fresh_db(path, sizeof(path), "libmt.db");
  if (lat == NULL || lib_open(&l, path, a->full, 0) != 0)
    return 1;
  pthread_barrier_init(&go, NULL, (unsigned)g_threads + 1);
  for (int i = 0; i < g_threads; i++) {
    pr[i] = (producer){ 0, &go, l.t, i * per, per, lat + i * per, 0 };
    pthread_create(&pr[i].th, NULL, producer_main, &pr[i]);
  }
  pthread_barrier_wait(&go);
  t0 = bench_now();
  for (int i = 0; i < g_threads; i++) {
    pthread_join(pr[i].th, NULL);
    err |= pr[i].err;
  }
  dt = bench_now() - t0;
  lib_close(&l);
  if (err)
    return 1;
  qsort(lat, (size_t)total, sizeof(double), cmp_double);
  bench_report((double)total / dt);
  bench_report(lat[total / 2] * 1e3);
  bench_report(lat[(size_t)((double)total * 0.99)] * 1e3);
  bench_report(lat[total - 1] * 1e3);
  free(lat);
  return 0;
}

/* ---- raw group commit: the floor for (c) -------------------------------- */

/*
 * What group commit itself allows, with no library code in the measured
 * path: producer threads each make one message's values (ids, address,
 * time) outside any lock, queue a request and wait on a condition
 * variable of their own. The first waiter finding no group being written
 * leads: it takes every queued request (up to FLOOR_MAX), writes their
 * rows on the one writer connection in one transaction, commits, and wakes
 * that group's producers one by one; requests queued meanwhile form the
 * next group, whose first waiter leads. A producer goes on only once its
 * rows are durable.
 *
 * Two ways to sync, each plain or joining (four variants):
 *   in the commit   the connection is FULL: COMMIT syncs the WAL.
 *   overlapped      the connection is NORMAL: the leader commits, hands
 *                   the leader role on, then syncs the WAL file itself and
 *                   only then wakes its group. One sync in flight at a
 *                   time: the next leader writes its group meanwhile, but
 *                   commits only once that sync ended.
 *   joining         requests queued while the leader writes its group
 *                   join it before the commit (overlapped: also those
 *                   queued until the previous group's sync ended), as the
 *                   library's group commit does (src/store/group.c).
 */
#define FLOOR_MAX 256

typedef struct floor_req {
  char id[27], job[27], audit[27], to[24];
  int64_t now;
  int rc, taken, done;
  pthread_cond_t cond;
  struct floor_req *next;
} floor_req;

typedef struct floor_q {
  pthread_mutex_t lock;
  floor_req *head, *tail;     /* queued, not yet in a group */
  int leading;                /* a group is being written */
  int syncing;                /* overlapped: a group's sync in flight */
  int waiting;                /* a leader waits for that sync */
  pthread_cond_t synced;      /* that leader's */
  int overlap, join;
  sendraw w;                  /* the writer connection (w.r) */
  int statements;             /* a send's statements, not three rows */
  /* Ids: one counter for all producers, as the library's ULIDs are
   * ordered across its threads (each row goes to the right edge of its
   * B-trees, not to one of 16 places in them). */
  _Atomic uint64_t seq;
  long groups;                /* commits */
  double commit_s;            /* in COMMIT and the WAL's sync, all groups */
} floor_q;

/* Wake a group's producers, one by one (lock held). */
static void floor_finish(floor_req *list, int rc)
{
  for (floor_req *g = list; g != NULL; g = g->next) {
    g->rc = rc;
    g->done = 1;
    pthread_cond_signal(&g->cond);
  }
}

/* Move up to `room` queued requests after *last (lock held). */
static size_t floor_take(floor_q *q, floor_req **last, size_t room)
{
  size_t n = 0;

  while (q->head != NULL && n < room) {
    floor_req *g = q->head;
    q->head = g->next;
    g->next = NULL;
    g->taken = 1;
    if (*last != NULL)
      (*last)->next = g;
    *last = g;
    n++;
  }
  if (q->head == NULL)
    q->tail = NULL;
  return n;
}

static int floor_insert(floor_q *q, floor_req *from)
{
  for (floor_req *g = from; g != NULL; g = g->next)
    if (q->statements ? sendraw_rows(&q->w, g->id, g->job, g->to, g->now)
                      : raw_insert(&q->w.r, g->id, g->job, g->to, g->now))
      return -1;
  return 0;
}

/* A send's statements: after a group's rows, as the library's flush,
 * one rollup upsert an hour for the group, then the audit rows. */
static int floor_flush(floor_q *q, floor_req *list)
{
  int64_t hour = 0, at = 0;
  long n = 0;

  for (floor_req *g = list; g != NULL; g = g->next) {
    if (n > 0 && hour_of(g->now) != hour) {
      if (sendraw_rollup(&q->w, at, n) != 0)
        return -1;
      n = 0;
    }
    hour = hour_of(g->now);
    at = g->now;
    n++;
  }
  if (n > 0 && sendraw_rollup(&q->w, at, n) != 0)
    return -1;
  for (floor_req *g = list; g != NULL; g = g->next)
    if (sendraw_audit(&q->w, g->audit, g->id, g->now) != 0)
      return -1;
  return 0;
}

/* Lead one group: called with the lock held and `list` taken; returns
 * with the lock held. */
static void floor_lead(floor_q *q, floor_req *list, floor_req *last,
                       size_t n)
{
  sqlite3_file *wal = NULL;
  double t0;
  int rc;

  pthread_mutex_unlock(&q->lock);
  rc = raw_step(&q->w.r, q->w.r.begin, "begin") == 0 &&
       floor_insert(q, list) == 0 ? 0 : -1;
  pthread_mutex_lock(&q->lock);
  /* Joining: the requests queued while the group is written join it,
   * and, overlapped, those queued until the previous group is durable
   * (they would wait for that sync anyway). */
  for (;;) {
    floor_req *before = last;
    if (rc != 0)
      break;
    if (q->join && q->head != NULL && n < FLOOR_MAX) {
      n += floor_take(q, &last, FLOOR_MAX - n);
      pthread_mutex_unlock(&q->lock);
      rc = floor_insert(q, before->next);
      pthread_mutex_lock(&q->lock);
      continue;
    }
    if (!q->syncing)
      break;
    q->waiting = 1;
    pthread_cond_wait(&q->synced, &q->lock);
    q->waiting = 0;
  }
  pthread_mutex_unlock(&q->lock);
  if (rc == 0 && q->statements)
    rc = floor_flush(q, list);
  t0 = bench_now();
  if (rc == 0)
    rc = raw_step(&q->w.r, q->w.r.commit, "commit");
  else
    sqlite3_exec(q->w.r.db, "ROLLBACK", NULL, NULL, NULL);
  if (rc == 0 && q->overlap &&
      (sqlite3_file_control(q->w.r.db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
                            &wal) != SQLITE_OK ||
       wal == NULL || wal->pMethods == NULL))
    rc = raw_fail(&q->w.r, "journal pointer");
  pthread_mutex_lock(&q->lock);
  q->groups++;
  q->commit_s += bench_now() - t0;
  q->leading = 0;
  if (rc != 0 || !q->overlap)
    floor_finish(list, rc);
  else
    q->syncing = 1;
  /* The first queued producer leads next. */
  if (q->head != NULL)
    pthread_cond_signal(&q->head->cond);
  if (rc != 0 || !q->overlap)
    return;
  /* Committed, not yet durable: sync the WAL, then wake the group. */
  pthread_mutex_unlock(&q->lock);
  t0 = bench_now();
  if (wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) != SQLITE_OK) {
    /* Not sqlite3_errmsg: the next leader is using the connection. */
    fprintf(stderr, "bench_enqueue: sync of the WAL failed\n");
    rc = -1;
  }
  pthread_mutex_lock(&q->lock);
  q->commit_s += bench_now() - t0;
  q->syncing = 0;
  floor_finish(list, rc);
  if (q->waiting)
    pthread_cond_signal(&q->synced);
}

/* Queue one request and return once its rows are durable. */
static int floor_send(floor_q *q, floor_req *r)
{
  pthread_mutex_lock(&q->lock);
  r->next = NULL;
  r->taken = r->done = 0;
  if (q->tail != NULL)
    q->tail->next = r;
  else
    q->head = r;
  q->tail = r;
  if (q->waiting && q->join)
    pthread_cond_signal(&q->synced);
  while (!r->done) {
    floor_req *list, *last = NULL;
    size_t n;
    if (q->leading || r->taken) {
      pthread_cond_wait(&r->cond, &q->lock);
      continue;
    }
    /* Lead: the queue (r in it, unless FLOOR_MAX came before it). */
    q->leading = 1;
    list = q->head;
    n = floor_take(q, &last, FLOOR_MAX);
    floor_lead(q, list, last, n);
  }
  pthread_mutex_unlock(&q->lock);
  return r->rc;
}

typedef struct floor_producer {
  pthread_t th;
  pthread_barrier_t *go;
  floor_q *q;
  const char *path;  /* a send's statements: its own read connection */
  long first, n;
  double *lat;
  int err;
} floor_producer;

static void *floor_producer_main(void *arg)
{
  floor_producer *p = arg;
  const char *prefix = p->q->w.r.prefix;
  sendraw reader;
  floor_req r;
  int reads = p->q->statements;

  memset(&r, 0, sizeof(r));
  pthread_cond_init(&r.cond, NULL);
  if (reads && sendraw_open(&reader, p->path, 1) != 0)
    p->err = 1;
  pthread_barrier_wait(p->go);
  for (long i = 0; i < p->n && !p->err; i++) {
    double s0 = bench_now();
    /* The values raw_message makes (and a send's reads), made before
     * queueing. */
    snprintf(r.to, sizeof(r.to), "+1415555%04ld", (p->first + i) % 10000);
    if (reads && sendraw_reads(&reader, r.to) != 0) {
      p->err = 1;
      break;
    }
    id_encode(prefix, atomic_fetch_add(&p->q->seq, 1) + 1, r.id);
    id_encode(prefix, atomic_fetch_add(&p->q->seq, 1) + 1, r.job);
    if (reads)
      id_encode(prefix, atomic_fetch_add(&p->q->seq, 1) + 1, r.audit);
    r.now = wall_ms();
    if (floor_send(p->q, &r) != 0) {
      p->err = 1;
      break;
    }
    p->lat[i] = bench_now() - s0;
  }
  if (reads)
    sendraw_close(&reader);
  pthread_cond_destroy(&r.cond);
  return NULL;
}

typedef struct floor_args {
  int overlap, join, statements;
  long n;
} floor_args;

/* n messages from g_threads producers through the raw group commit.
 * Reports messages/s, latency p50, p99 and max in ms, the average group
 * (messages per commit) and the average time of a group's COMMIT with
 * its sync, in ms. */
static int child_floor(void *arg)
{
  floor_args *a = arg;
  floor_producer pr[MAX_THREADS];
  pthread_barrier_t go;
  floor_q q;
  char path[600];
  long per = a->n / g_threads, total = per * g_threads, before[6],
       after[6];
  double *lat = calloc((size_t)total, sizeof(double)), t0, dt;
  int err = 0;

  fresh_db(path, sizeof(path), "floor.db");
  memset(&q, 0, sizeof(q));
  pthread_mutex_init(&q.lock, NULL);
  pthread_cond_init(&q.synced, NULL);
  q.overlap = a->overlap;
  q.join = a->join;
  q.statements = a->statements;
  /* Overlapped: the commit does not sync, the leader does. */
  if (lat == NULL || sendraw_open(&q.w, path, !a->overlap) != 0 ||
      sendraw_counts(&q.w, before) != 0)
    return 1;
  pthread_barrier_init(&go, NULL, (unsigned)g_threads + 1);
  for (int i = 0; i < g_threads; i++) {
    pr[i] = (floor_producer){ 0, &go, &q, path, i * per, per,
                              lat + i * per, 0 };
    pthread_create(&pr[i].th, NULL, floor_producer_main, &pr[i]);
  }
  pthread_barrier_wait(&go);
  t0 = bench_now();
  for (int i = 0; i < g_threads; i++) {
    pthread_join(pr[i].th, NULL);
    err |= pr[i].err;
  }
  dt = bench_now() - t0;
  if (err || sendraw_counts(&q.w, after) != 0)
    return 1;
  /* Three rows a message, or all a send's (the rollup's hour rows
   * aside: their count of messages). */
  for (int k = 0; k < 6; k++)
    if ((k < 3 || (q.statements && k != 4)) &&
        after[k] - before[k] != total) {
      fprintf(stderr, "bench_enqueue: raw group commit: %ld %s more in"
              " %s, expected %ld\n", after[k] - before[k],
              k < 5 ? "rows" : "counted", k < 5 ? SENT_TABLES[k]
              : "vc_stats_message's n", total);
      return 1;
    }
  sendraw_close(&q.w);
  qsort(lat, (size_t)total, sizeof(double), cmp_double);
  bench_report((double)total / dt);
  bench_report(lat[total / 2] * 1e3);
  bench_report(lat[(size_t)((double)total * 0.99)] * 1e3);
  bench_report(lat[total - 1] * 1e3);
  bench_report((double)total / (double)q.groups);
  bench_report(q.commit_s / (double)q.groups * 1e3);
  free(lat);
  return 0;
}

/* ---- main ---------------------------------------------------------------- */

#define NFLOOR 5

enum {
  RAW_BATCH, LIB_MANY, LIB_SEND, LIB_HOSTTX, LIB_HOSTTX_MEM,
  RAW_SINGLE_N,                                  /* (a) */
  RAW_SINGLE_F, LIB_SEND_F,                      /* (b) */
  RAW_SEND_F,                                    /* (b)'s floor */
  LIB_THREADS_F, RAW_THREADS_F,                  /* (c) */
  RAW_GROUP_F,                                   /* (c)'s floor: */
  NMEAS = RAW_GROUP_F + NFLOOR                   /* NFLOOR of them */
};

static const char *NAMES[NMEAS] = {
  "raw inserts, 1,000 messages per transaction (NORMAL)",
  "vc_message_send_many, 1,000 per call (NORMAL)",
  "vc_message_send, one transaction each (NORMAL)",
  "vc_message_send in the host's transaction of 1,000 (NORMAL)",
  "  the same, host's connection with temp_store=MEMORY",
  "raw, one message per transaction (NORMAL)",
  "raw, one message per transaction (FULL)",
  "vc_message_send, one after another (FULL)",
  "raw, one send's statements per transaction (FULL)",
  "vc_message_send, producer threads (FULL)",
  "raw, producer threads, own connection each (FULL)",
  /* the floor's, with --threads: in main */
};

/* The floor's variants. */
static const struct {
  int overlap, join, statements;
  const char *tag;    /* its name without the threads, and in ratios */
} FLOORS[NFLOOR] = {
  { 0, 0, 0, "raw group commit" },
  { 0, 1, 0, "raw group commit, joining" },
  { 1, 0, 0, "raw group commit, overlapped" },
  { 1, 1, 0, "raw group commit, overlapped, joining" },
  { 1, 1, 1, "floor (c), a send's statements" },
};

typedef struct meas {
  bench_stat rate, p50, p99, max, rss, grow, cpu, cpu_us;
  bench_stat group;   /* messages per commit, where a child reports it */
  bench_stat commit;  /* ms in a commit and its sync, likewise */
} meas;

static meas g_m[NMEAS];
static const char *g_only;   /* run only measurements whose name has it */

static int measure(int which, int (*fn)(void *), void *arg, long n)
{
  bench_child c;

  if (g_only != NULL && strstr(NAMES[which], g_only) == NULL)
    return 0;
  if (bench_run_child(&c, fn, arg) != 0 || c.n < 1) {
    fprintf(stderr, "bench_enqueue: '%s' failed\n", NAMES[which]);
    return -1;
  }
  bench_stat_add(&g_m[which].rate, c.v[0]);
  if (c.n >= 3) {
    bench_stat_add(&g_m[which].p50, c.v[1]);
    bench_stat_add(&g_m[which].p99, c.v[2]);
  }
  if (c.n >= 4)
    bench_stat_add(&g_m[which].max, c.v[3]);
  if (c.n >= 5)
    bench_stat_add(&g_m[which].group, c.v[4]);
  if (c.n >= 6)
    bench_stat_add(&g_m[which].commit, c.v[5]);
  bench_stat_add(&g_m[which].rss, (double)c.maxrss_kb / 1024.0);
  bench_stat_add(&g_m[which].grow,
                 (double)(c.maxrss_kb - c.start_rss_kb) / 1024.0);
  bench_stat_add(&g_m[which].cpu, c.cpu_s);
  /* The child's whole CPU time (set-up included) per message. */
  bench_stat_add(&g_m[which].cpu_us, c.cpu_s / (double)n * 1e6);
  return 0;
}

static void print_meas(int which, const char *unit)
{
  char a[96], b[96], c[96], d[96], e[96], f[96], g[96];
  meas *m = &g_m[which];

  if (m->rate.n == 0)
    return;
  printf("  %-62s %s %s/s\n", NAMES[which],
         bench_stat_fmt(a, sizeof(a), &m->rate, 0), unit);
  if (m->p50.n > 0)
    printf("  %-62s latency p50 %s ms, p99 %s ms, max %s ms\n", "",
           bench_stat_fmt(b, sizeof(b), &m->p50, 3),
           bench_stat_fmt(c, sizeof(c), &m->p99, 2),
           bench_stat_fmt(f, sizeof(f), &m->max, 1));
  printf("  %-62s peak RSS %s MiB, of which %s MiB grown during it\n",
         "", bench_stat_fmt(d, sizeof(d), &m->rss, 1),
         bench_stat_fmt(e, sizeof(e), &m->grow, 1));
  printf("  %-62s CPU (user + system, whole process) %s us per message\n",
         "", bench_stat_fmt(g, sizeof(g), &m->cpu_us, 1));
  if (m->group.n > 0)
    printf("  %-62s %s messages per commit (average group)\n", "",
           bench_stat_fmt(a, sizeof(a), &m->group, 1));
  if (m->commit.n > 0)
    printf("  %-62s %s ms a commit with its sync (average)\n", "",
           bench_stat_fmt(a, sizeof(a), &m->commit, 3));
}

/* The ratio of two measurements within each run. */
static void print_ratio(const char *label, int num, int den, double goal,
                        double scale_den)
{
  bench_stat r = { { 0 }, 0 };
  char buf[96];

  for (int i = 0; i < g_m[num].rate.n && i < g_m[den].rate.n; i++)
    bench_stat_add(&r, g_m[num].rate.v[i] /
                         (g_m[den].rate.v[i] * scale_den));
  if (r.n == 0)
    return;
  printf("  ratio %-56s %s", label, bench_stat_fmt(buf, sizeof(buf), &r,
                                                   3));
  if (goal > 0)
    printf("   goal >= %.2f: %s", goal,
           bench_verdict(bench_stat_median(&r), goal));
  printf("\n");
}

static const char *fs_name(const char *dir)
{
  struct statfs s;

  if (statfs(dir, &s) != 0)
    return "?";
  switch ((unsigned long)s.f_type) {
  case 0x01021994UL: return "tmpfs (fsync is free: FULL figures mean little)";
  case 0xEF53UL: return "ext2/3/4";
  case 0x58465342UL: return "xfs";
  case 0x9123683EUL: return "btrfs";
  case 0x794c7630UL: return "overlayfs";
  default: return "other";
  }
}

int main(int argc, char **argv)
{
  int runs = 3, quick = bench_quick_env();
  raw_args ra;
  lib_args la;
  char line[96], floor_name[NFLOOR][96];
  floor_args fa;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0)
      quick = 1;
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc)
      g_messages = atol(argv[++i]);
    else if (strcmp(argv[i], "--durable") == 0 && i + 1 < argc)
      g_durable = atol(argv[++i]);
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      g_threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
      g_only = argv[++i];
    else {
      fprintf(stderr, "usage: bench_enqueue [--quick] [--runs N] "
              "[--messages N] [--durable N] [--threads N] "
              "[--only TEXT]\n");
      return 2;
    }
  }
  if (quick) {
    /* Explicit sizes after --quick still win. */
    int i;
    for (i = 1; i < argc; i++)
      if (strcmp(argv[i], "--runs") == 0)
        break;
    if (i == argc)
      runs = 1;
    for (i = 1; i < argc; i++)
      if (strcmp(argv[i], "--messages") == 0)
        break;
    if (i == argc)
      g_messages = 2000;
    for (i = 1; i < argc; i++)
      if (strcmp(argv[i], "--durable") == 0)
        break;
    if (i == argc)
      g_durable = 200;
  }
  if (runs < 1 || runs > BENCH_MAX_RUNS || g_messages < 1 ||
      g_durable < 1 || g_threads < 1 || g_threads > MAX_THREADS ||
      g_durable < g_threads) {
    fprintf(stderr, "bench_enqueue: bad arguments\n");
    return 2;
  }
  for (int k = 0; k < NFLOOR; k++) {
    snprintf(floor_name[k], sizeof(floor_name[k]), "%s, %d %s (FULL)",
             FLOORS[k].tag, g_threads,
             FLOORS[k].overlap && FLOORS[k].join ? "threads"
                                                 : "producer threads");
    if (FLOORS[k].statements)
      snprintf(floor_name[k], sizeof(floor_name[k]), "%s, %d threads "
               "(FULL)", FLOORS[k].tag, g_threads);
    NAMES[RAW_GROUP_F + k] = floor_name[k];
  }
  bench_dir("vc-bench-enqueue");
  if (make_template() != 0)
    return 1;
  printf("bench_enqueue: %ld messages (a), %ld durable (b, c), %d "
         "producer threads, %d run(s)%s\n", g_messages, g_durable,
         g_threads, runs, quick ? " [quick]" : "");
  printf("  scratch %s on %s; SQLite %s\n", bench_dir_, fs_name(bench_dir_),
         sqlite3_libversion());
  printf("  each message: vc_message + vc_job + vc_event rows, WAL,"
         " foreign_keys=ON\n");
  for (int r = 0; r < runs; r++) {
    ra = (raw_args){ 0, g_messages, BATCH };
    if (measure(RAW_BATCH, child_raw, &ra, ra.n) != 0)
      return 1;
    la = (lib_args){ 0, 0, g_messages };
    if (measure(LIB_MANY, child_lib_many, &la, la.n) != 0)
      return 1;
    if (measure(LIB_SEND, child_lib, &la, la.n) != 0)
      return 1;
    la = (lib_args){ 0, 1, g_messages };
    if (measure(LIB_HOSTTX, child_lib, &la, la.n) != 0)
      return 1;
    la = (lib_args){ 0, 2, g_messages };
    if (measure(LIB_HOSTTX_MEM, child_lib, &la, la.n) != 0)
      return 1;
    ra = (raw_args){ 0, g_durable * 2, 1 };
    if (measure(RAW_SINGLE_N, child_raw, &ra, ra.n) != 0)
      return 1;
    ra = (raw_args){ 1, g_durable, 1 };
    if (measure(RAW_SINGLE_F, child_raw, &ra, ra.n) != 0)
      return 1;
    la = (lib_args){ 1, 0, g_durable };
    if (measure(LIB_SEND_F, child_lib, &la, la.n) != 0)
      return 1;
    ra = (raw_args){ 1, g_durable, 1 };
    if (measure(RAW_SEND_F, child_sendraw, &ra, ra.n) != 0)
      return 1;
    la = (lib_args){ 1, 0, g_durable };
    if (measure(LIB_THREADS_F, child_lib_threads, &la, la.n) != 0)
      return 1;
    ra = (raw_args){ 1, g_durable, 1 };
    if (measure(RAW_THREADS_F, child_raw_threads, &ra, ra.n) != 0)
      return 1;
    for (int k = 0; k < NFLOOR; k++) {
      fa = (floor_args){ FLOORS[k].overlap, FLOORS[k].join,
                         FLOORS[k].statements, g_durable };
      if (measure(RAW_GROUP_F + k, child_floor, &fa, fa.n) != 0)
        return 1;
    }
  }

  printf("\n(a) batched enqueue, synchronous=NORMAL  [median (min..max)]\n");
  print_meas(RAW_BATCH, "messages");
  print_meas(LIB_MANY, "messages");
  print_meas(LIB_SEND, "messages");
  print_meas(LIB_HOSTTX, "messages");
  print_meas(LIB_HOSTTX_MEM, "messages");
  print_meas(RAW_SINGLE_N, "messages");
  print_ratio("vc_message_send_many / raw batched", LIB_MANY, RAW_BATCH,
              0.5, 1);
  print_ratio("vc_message_send / raw batched", LIB_SEND, RAW_BATCH, 0, 1);
  print_ratio("vc_message_send in host tx / raw batched", LIB_HOSTTX,
              RAW_BATCH, 0.5, 1);
  print_ratio("  the same, temp_store=MEMORY / raw batched",
              LIB_HOSTTX_MEM, RAW_BATCH, 0.5, 1);
  print_ratio("vc_message_send / raw one per transaction", LIB_SEND,
              RAW_SINGLE_N, 0, 1);

  printf("\n(b) single durable enqueue, synchronous=FULL\n");
  print_meas(RAW_SINGLE_F, "commits");
  print_meas(LIB_SEND_F, "messages");
  print_ratio("vc_message_send / raw single commits", LIB_SEND_F,
              RAW_SINGLE_F, 0.9, 1);
  print_meas(RAW_SEND_F, "messages");
  print_ratio("floor (b) / raw single commits", RAW_SEND_F, RAW_SINGLE_F,
              0, 1);
  print_ratio("vc_message_send / floor (b)", LIB_SEND_F, RAW_SEND_F, 0, 1);
  if (g_m[RAW_SEND_F].rate.n > 0)
    printf("  (floor (b): the statements one vc_message_send runs, as raw "
           "SQLite: BEGIN,\n   contact and consent reads, COMMIT; BEGIN "
           "IMMEDIATE, message, job, event,\n   rollup upsert, audit row, "
           "COMMIT)\n");

  printf("\n(c) %d concurrent producers, synchronous=FULL, each send "
         "returns after its commit\n", g_threads);
  print_meas(LIB_THREADS_F, "messages");
  print_meas(RAW_THREADS_F, "messages");
  for (int k = 0; k < NFLOOR; k++)
    print_meas(RAW_GROUP_F + k, "messages");
  print_ratio("producers / raw single-commit rate (b)", LIB_THREADS_F,
              RAW_SINGLE_F, 8.0, 1);
  print_ratio("raw threads / raw single-commit rate (b)", RAW_THREADS_F,
              RAW_SINGLE_F, 0, 1);
  for (int k = 0; k < NFLOOR; k++) {
    char a[96], b[96];
    snprintf(a, sizeof(a), k == 0 ? "%s / raw single-commit rate (b)"
             : "%s / (b)", FLOORS[k].tag);
    snprintf(b, sizeof(b), "producers / %s", FLOORS[k].tag);
    print_ratio(a, RAW_GROUP_F + k, RAW_SINGLE_F, 0, 1);
    print_ratio(b, LIB_THREADS_F, RAW_GROUP_F + k, 0, 1);
  }
  printf("  (sends waiting at the same moment share one transaction and "
         "one WAL fsync:\n   group commit; the raw threads each commit "
         "alone)\n");
  for (int k = 0; k < NFLOOR; k++)
    if (g_m[RAW_GROUP_F + k].rate.n > 0) {
      printf("  (raw group commit: the same rows from raw SQLite, no "
             "library code, one\n   writer connection, the first waiting "
             "producer leads each group: what\n   group commit itself "
             "allows. Joining: requests queued while a group is\n   "
             "written join it. Overlapped: the leader syncs the WAL after "
             "its commit\n   while the next group is written, which "
             "commits once that sync ended)\n");
      break;
    }
  for (int k = 0; k < NFLOOR; k++)
    if (FLOORS[k].statements && g_m[RAW_GROUP_F + k].rate.n > 0)
      printf("  (floor (c): the overlapped, joining raw group commit of "
             "floor (b)'s\n   statements: each producer's reads on its own "
             "connection, then in the\n   group its message, job and "
             "event rows, and for the group one rollup\n   upsert an hour "
             "and the audit rows, as the library's flush)\n");
  snprintf(line, sizeof(line), "%.1f", (double)bench_rss_kb() / 1024.0);
  printf("\npeak RSS: of each measurement's own process (forked from this "
         "%s MiB one)\n", line);
  return 0;
}
