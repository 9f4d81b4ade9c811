/*
 * bench_dispatch: the dispatcher, from `queued` to `sent`, against a bare
 * libcurl-multi loop sending the same requests to the same simulator in
 * the same run (DESIGN 9, issue 3 item 9). Goal: at least 0.7 of the bare
 * loop with two engine threads.
 *
 * N messages are enqueued beforehand (not measured) on a twilio-sms
 * channel pointing at the provider simulator, webhooks off. Then, from a
 * fresh copy of that database each time:
 *
 *   baseline   one curl multi handle, 32 keep-alive connections, POSTing
 *              the N Twilio Messages requests the library would send: the
 *              same form bodies and the same headers (Basic auth included),
 *              copied from a request the library sent to the simulator
 *              during set-up and checked byte for byte;
 *   1 thread   vc_ctx_start(ctx, 1) until every message is `sent`;
 *   2 threads  vc_ctx_start(ctx, 2) likewise;
 *   sandbox    vc_ctx_start(ctx, 1) on a sandbox-sms channel, whose
 *              adapter sends nothing: the same claims, plans, status
 *              changes and job updates without HTTP, i.e. what the store
 *              alone allows;
 *   floor      no library call: raw SQLite and curl-multi loops, one and
 *              two threads, on a copy of the same database, doing the
 *              least DESIGN 4a asks per message (the claim under a lease,
 *              `sending` and its event committed before the request, the
 *              request, `sent` with the provider id, its event and the
 *              job deleted, committed per batch): what the data model
 *              itself allows (see the floor section below for what it
 *              leaves out). It is printed against the bare loop, and the
 *              library against it.
 *
 * "Sent" is watched on the database file by a raw SQLite connection: an
 * index seek for any message still queued or sending, every 5 ms. The
 * simulator's server thread CPU time is printed for every measurement, so
 * that it is visibly not the bottleneck; so is each measurement's process
 * CPU time and peak memory (each runs in a child process).
 *
 *   bench_dispatch [--quick] [--runs N] [--messages N] [--connections N]
 *                  [--claim-batch N]
 *                  [--only base|1|2|sandbox|floor|floor1]
 *
 * Default 20000 messages, 3 runs; --quick (or VC_BENCH_QUICK=1): 2000, 1.
 * --only runs one kind of measurement (for a profiler); floor is the
 * two-thread floor, floor1 the one-thread one.
 */
#include "bench_common.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "sim.h"
#include "vyomcomm.h"

#define MAX_CONNS 256
#define MAX_HEADERS 24
#define SENDER "+15005550006"
#define PER_TX 1000

static const uint8_t MASTER_KEY[32] = { 7, 1, 2, 3, 4, 5, 6, 7, 8, 9 };

static vc_sim *g_sim;
static long g_n = 20000;
static int g_conns = 32;
static unsigned g_claim;          /* 0: the library's default */
static char g_template[600], g_probe[600], g_sandbox[600];
static char g_url[300];
/* The simulator lives in the parent: children only know its URL. */
static char g_base_url[128];
/* The library's request headers, as the simulator received them. */
static char g_headers[MAX_HEADERS][512];
static int g_nheaders;

/* ---- the messages ----------------------------------------------------- */

static void message_to(char *buf, size_t size, long i)
{
  snprintf(buf, size, "+1415555%04ld", i % 10000);
}

/* Each body differs, so that the simulator sees no duplicates. */
static void message_text(char *buf, size_t size, long i)
{
  snprintf(buf, size, "Your OTP is %06ld. It expires in 10 minutes.", i);
}

/* application/x-www-form-urlencoded, as the library encodes it. */
static size_t form_encode(char *out, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;

  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out[n++] = (char)c;
    } else if (c == ' ') {
      out[n++] = '+';
    } else {
      out[n++] = '%';
      out[n++] = hex[c >> 4];
      out[n++] = hex[c & 15];
    }
  }
  out[n] = '\0';
  return n;
}

/* The Twilio Messages form the adapter builds for message i. */
static void message_form(char *out, size_t size, long i)
{
  char to[32], text[128], eto[96], efrom[96], etext[400];

  message_to(to, sizeof(to), i);
  message_text(text, sizeof(text), i);
  form_encode(eto, to);
  form_encode(efrom, SENDER);
  form_encode(etext, text);
  snprintf(out, size, "To=%s&From=%s&Body=%s", eto, efrom, etext);
}

/* ---- the database ------------------------------------------------------ */

static int lib_fail(const char *what)
{
  fprintf(stderr, "bench_dispatch: %s: %s\n", what,
          vc_error_last()->message);
  return -1;
}

/*
 * A database with a tenant, a twilio-sms channel on the simulator and n
 * queued messages, enqueued in the host's transactions of PER_TX (set-up
 * only, not measured). Runs in a child.
 */
static int setup_db(const char *path, long n, int sandbox)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  char config[256], creds[128];
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_tenant *t = NULL;
  vc_channel *ch = NULL;
  sqlite3 *host = NULL;

  bench_db_remove(path);
  if (sqlite3_open_v2(path, &host, SQLITE_OPEN_READWRITE |
                      SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      NULL) != SQLITE_OK ||
      sqlite3_exec(host, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                   " PRAGMA foreign_keys=ON;", NULL, NULL, NULL) !=
        SQLITE_OK) {
    fprintf(stderr, "bench_dispatch: open %s: %s\n", path,
            sqlite3_errmsg(host));
    return -1;
  }
  if (vc_store_wrap_sqlite(&store, host) != 0)
    return lib_fail("vc_store_wrap_sqlite");
  mk.key = MASTER_KEY;
  mk.key_len = sizeof(MASTER_KEY);
  o.store = store;
  o.master_key = &mk;
  if (vc_ctx_new(&ctx, &o) != 0) {
    vc_store_free(store);
    return lib_fail("vc_ctx_new");
  }
  ts.slug = "acme";
  if (vc_tenant_new(&t, ctx, &ts) != 0)
    return lib_fail("vc_tenant_new");
  snprintf(config, sizeof(config),
           "{\"account_sid\":\"%s\",\"base_url\":\"%s\"}",
           VC_SIM_TWILIO_ACCOUNT_SID, g_base_url);
  snprintf(creds, sizeof(creds), "{\"auth_token\":\"%s\"}",
           VC_SIM_TWILIO_AUTH_TOKEN);
  cs.name = "sms";
  cs.provider = sandbox ? "sandbox-sms" : "twilio-sms";
  cs.config_json = sandbox ? NULL : config;
  cs.credentials_json = sandbox ? NULL : creds;
  cs.sender = SENDER;
  if (vc_channel_new(&ch, t, &cs) != 0)
    return lib_fail("vc_channel_new");
  vc_channel_free(ch);
  for (long i = 0; i < n;) {
    if (sqlite3_exec(host, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
      return -1;
    for (long k = 0; k < PER_TX && i < n; k++, i++) {
      vc_message_spec s = VC_MESSAGE_SPEC_INIT;
      char id[VC_ID_SIZE], to[32], text[128];
      message_to(to, sizeof(to), i);
      message_text(text, sizeof(text), i);
      s.kind = VC_CHANNEL_SMS;  /* routed by kind to the channel */
      s.to = to;
      s.text = text;
      if (vc_message_send(id, t, &s) != 0)
        return lib_fail("vc_message_send");
    }
    if (sqlite3_exec(host, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
      return -1;
  }
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  sqlite3_exec(host, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  sqlite3_close(host);
  return 0;
}

static int child_setup(void *arg)
{
  const char *path = arg;

  return setup_db(path, path == g_probe ? 1 : g_n, path == g_sandbox) == 0
           ? 0 : 1;
}

/* ---- the library ------------------------------------------------------ */

typedef struct lib_args {
  const char *from;   /* database to copy */
  long n;
  unsigned threads;
} lib_args;

static int64_t raw_int(sqlite3 *db, const char *sql, const char *tenant)
{
  sqlite3_stmt *s = NULL;
  int64_t v = -1;

  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
    if (tenant != NULL)
      sqlite3_bind_text(s, 1, tenant, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
      v = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  return v;
}

/*
 * Copy the database, start the engine and wait until no message is queued
 * or sending. Reports messages/s and the seconds taken.
 */
static int child_lib(void *arg)
{
  lib_args *a = arg;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  char path[600], tenant[64] = "";
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  sqlite3 *poll = NULL;
  sqlite3_stmt *busy = NULL, *s = NULL;
  double t0, dt;
  int64_t sent;

  bench_path(path, sizeof(path), "run.db");
  bench_db_remove(path);
  if (bench_copy_file(a->from, path) != 0) {
    perror("copy");
    return 1;
  }
  if (vc_store_open_sqlite(&store, path, NULL) != 0)
    return lib_fail("vc_store_open_sqlite") < 0;
  mk.key = MASTER_KEY;
  mk.key_len = sizeof(MASTER_KEY);
  o.store = store;
  o.master_key = &mk;
  o.allow_private_network = 1;
  o.claim_batch = g_claim;
  if (vc_ctx_new(&ctx, &o) != 0) {
    vc_store_free(store);
    return lib_fail("vc_ctx_new") < 0;
  }
  /* The watcher: a connection of its own, as another process would. */
  if (sqlite3_open_v2(path, &poll, SQLITE_OPEN_READWRITE, NULL) !=
        SQLITE_OK ||
      sqlite3_prepare_v2(poll, "SELECT id FROM vc_tenant WHERE slug = 'acme'",
                         -1, &s, NULL) != SQLITE_OK ||
      sqlite3_step(s) != SQLITE_ROW) {
    fprintf(stderr, "bench_dispatch: watcher: %s\n", sqlite3_errmsg(poll));
    return 1;
  }
  snprintf(tenant, sizeof(tenant), "%s", sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_busy_timeout(poll, 5000);
  /* An index seek on (tenant_id, status, id): cheap however many. */
  if (sqlite3_prepare_v2(poll, "SELECT EXISTS (SELECT 1 FROM vc_message"
                         " WHERE tenant_id = ?1 AND status IN (1, 2))", -1,
                         &busy, NULL) != SQLITE_OK)
    return 1;
  sqlite3_bind_text(busy, 1, tenant, -1, SQLITE_STATIC);

  t0 = bench_now();
  if (vc_ctx_start(ctx, a->threads) != 0)
    return lib_fail("vc_ctx_start") < 0;
  for (;;) {
    int rc = sqlite3_step(busy), left;
    left = rc == SQLITE_ROW ? sqlite3_column_int(busy, 0) : 1;
    sqlite3_reset(busy);
    if (!left)
      break;
    if (bench_now() - t0 > 600) {
      fprintf(stderr, "bench_dispatch: not done after 600 s\n");
      return 1;
    }
    usleep(5000);
  }
  dt = bench_now() - t0;
  vc_ctx_stop(ctx);
  sqlite3_finalize(busy);
  sent = raw_int(poll, "SELECT count(*) FROM vc_message WHERE tenant_id = ?1"
                 " AND status = 3", tenant);
  if (sent != a->n) {
    fprintf(stderr, "bench_dispatch: %lld of %ld messages sent; failed: "
            "%lld\n", (long long)sent, a->n,
            (long long)raw_int(poll, "SELECT count(*) FROM vc_message"
                               " WHERE tenant_id = ?1 AND status = 6",
                               tenant));
    return 1;
  }
  sqlite3_close(poll);
  vc_ctx_free(ctx);
  bench_report((double)a->n / dt);
  bench_report(dt);
  return 0;
}

/* The set-up's one message, sent by the library (vc_ctx_run), so that
 * the baseline can copy its request. */
static int child_probe(void *arg)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  sqlite3 *db = NULL;
  double t0 = bench_now();

  (void)arg;
  if (setup_db(g_probe, 1, 0) != 0 ||
      vc_store_open_sqlite(&store, g_probe, NULL) != 0 ||
      sqlite3_open_v2(g_probe, &db, SQLITE_OPEN_READWRITE, NULL) !=
        SQLITE_OK)
    return 1;
  mk.key = MASTER_KEY;
  mk.key_len = sizeof(MASTER_KEY);
  o.store = store;
  o.master_key = &mk;
  o.allow_private_network = 1;
  if (vc_ctx_new(&ctx, &o) != 0)
    return lib_fail("vc_ctx_new") < 0;
  while (raw_int(db, "SELECT count(*) FROM vc_message WHERE status >= 3",
                 NULL) < 1 && bench_now() - t0 < 30)
    vc_ctx_run(ctx, 50);
  vc_ctx_free(ctx);
  sqlite3_close(db);
  return 0;
}

/* ---- the baseline: a bare curl-multi loop ------------------------------ */

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
  (void)p;
  (void)arg;
  return size * n;
}

typedef struct curl_args {
  long n;
  int conns;
} curl_args;

static int child_curl(void *arg)
{
  curl_args *a = arg;
  CURL *easy[MAX_CONNS];
  struct curl_slist *h = NULL;
  CURLM *m = curl_multi_init();
  char **body = calloc((size_t)a->n, sizeof(char *));
  long started = 0, done = 0, errors = 0;
  int running = 0;
  double t0, dt;

  if (m == NULL || body == NULL)
    return 1;
  /* Every body ready beforehand, as the library's are in its store. */
  for (long i = 0; i < a->n; i++) {
    char b[512];
    message_form(b, sizeof(b), i);
    if ((body[i] = strdup(b)) == NULL)
      return 1;
  }
  for (int i = 0; i < g_nheaders; i++)
    h = curl_slist_append(h, g_headers[i]);
  curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)a->conns);
  curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)a->conns);
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)a->conns);
  for (int i = 0; i < a->conns; i++) {
    easy[i] = curl_easy_init();
    curl_easy_setopt(easy[i], CURLOPT_URL, g_url);
    curl_easy_setopt(easy[i], CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(easy[i], CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy[i], CURLOPT_TIMEOUT, 30L);
  }

  t0 = bench_now();
  for (int i = 0; i < a->conns && started < a->n; i++, started++) {
    curl_easy_setopt(easy[i], CURLOPT_POSTFIELDS, body[started]);
    curl_multi_add_handle(m, easy[i]);
  }
  while (done < a->n) {
    CURLMsg *msg;
    int left;

    curl_multi_perform(m, &running);
    /* Collect after every perform, or poll waits on nothing. */
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
      long code = 0;
      CURL *e = msg->easy_handle;

      if (msg->msg != CURLMSG_DONE)
        continue;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
      if (msg->data.result != CURLE_OK || code != 201)
        errors++;
      done++;
      curl_multi_remove_handle(m, e);
      if (started < a->n) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body[started++]);
        curl_multi_add_handle(m, e);
      }
    }
    if (done < a->n)
      curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  dt = bench_now() - t0;
  if (errors) {
    fprintf(stderr, "bench_dispatch: baseline: %ld errors\n", errors);
    return 1;
  }
  bench_report((double)a->n / dt);
  bench_report(dt);
  return 0;
}

/* ---- the floor: the data model's least, in raw SQLite and curl --------- */

/*
 * What DESIGN 4a asks of queued -> sent, and nothing more, with no library
 * call: per engine thread a connection and a multi handle of 32
 * connections (the library's transport limit), on the same database file,
 * schema and pragmas. Per claim batch:
 *
 *   1. one transaction: the library's claim (UPDATE ... RETURNING on
 *      vc_job, message.send jobs), then per 64 messages one UPDATE ...
 *      RETURNING that marks them sending (status, attempts, channel) and
 *      reads their To and Body, and one INSERT of their
 *      `message.sending` events from the ids it returned;
 *   2. the requests: the probe's headers, each message's form;
 *   3. one transaction: per 64 messages one UPDATE to `sent` with the
 *      answers' sids, one INSERT of their `message.sent` events, one
 *      DELETE of their jobs.
 *
 * Statements of 64 ids, as the library's: one statement per message
 * cost about 60,000 more instructions a message in SQLite (callgrind).
 *
 * As in the library, a thread prepares (1) its next batch while its
 * requests run, and sends nothing of it before (3) of the running one is
 * committed; the threads' write transactions take turns on a mutex.
 * Left out: routing, consent, rate limits and breakers, retries and
 * failover, the rollup, ledger and rules hooks, the event callback.
 */

#define FLOOR_CONNS 32        /* the library's transport, per thread */
#define FLOOR_ANSWER 2048     /* the simulator's answer is under 1 KiB */
#define FLOOR_LEASE_MS 60000  /* the library's default lease */
/* The library's checkpoint pacing (src/store/sqlite.c). */
#define FLOOR_CHECKPOINT_FRAMES 1000
#define FLOOR_CHECKPOINT_GAP_MS 50

enum {
  Q_BEGIN, Q_COMMIT, Q_CLAIM, Q_MARK, Q_MARK_AGAIN, Q_EV_SENDING, Q_SENT,
  Q_EV_SENT, Q_DONE, NQ
};

/* Ids per statement, as the library's (VC__DB_IDS): ids in ?1..?64 (NULL
 * past a chunk's end matches nothing), then the other parameters.
 * FLOOR_IDS is "?1, ..., ?64", FLOOR_ROWS "(?1), ..., (?64)", FLOOR_PAIRS
 * "(?1, ?65), ..., (?64, ?128)"; floor_sql fills them in. */
#define FLOOR_CHUNK 64

static const char *const FLOOR_SQL[NQ] = {
  "BEGIN IMMEDIATE",
  "COMMIT",
  /* The library's claim (src/core/job.c), message.send jobs only. */
  "UPDATE vc_job SET lease_owner = ?1, lease_until = ?2, due_at = ?2,"
  " attempts = attempts + 1"
  " WHERE rowid IN (SELECT rowid FROM vc_job WHERE due_at <= ?3"
  "  AND kind = 'message.send' ORDER BY due_at LIMIT ?4)"
  " RETURNING tenant_id, id, subject_id",
  /* The read is the mark's RETURNING. Status 1 queued, 2 sending. */
  "UPDATE vc_message SET status = 2, attempts = attempts + 1,"
  " channel_id = ?67, updated_at = ?66"
  " WHERE tenant_id = ?65 AND id IN (FLOOR_IDS) AND status = 1"
  " RETURNING id, to_addr, text_body",
  /* One a crash left sending goes again, without a second event. */
  "UPDATE vc_message SET attempts = attempts + 1, channel_id = ?3,"
  " updated_at = ?4 WHERE tenant_id = ?1 AND id = ?2 AND status = 2"
  " RETURNING id, to_addr, text_body",
  "INSERT INTO vc_event (tenant_id, type, subject_id, payload, created_at)"
  " SELECT ?65, 'message.sending', column1,"
  " '{\"status\":\"sending\",\"previous\":\"queued\",\"error\":0}', ?66"
  " FROM (VALUES FLOOR_ROWS) WHERE column1 IS NOT NULL",
  /* A message that moved meanwhile (a report overtook it) keeps its
   * status and gets no event. */
  "UPDATE vc_message SET status = 3, provider_id = v.column2,"
  " updated_at = ?130 FROM (VALUES FLOOR_PAIRS) AS v"
  " WHERE vc_message.tenant_id = ?129 AND vc_message.id = v.column1"
  " AND vc_message.status = 2 RETURNING id",
  "INSERT INTO vc_event (tenant_id, type, subject_id, payload, created_at)"
  " SELECT ?65, 'message.sent', column1,"
  " '{\"status\":\"sent\",\"previous\":\"sending\",\"error\":0}', ?66"
  " FROM (VALUES FLOOR_ROWS) WHERE column1 IS NOT NULL",
  "DELETE FROM vc_job WHERE tenant_id = ?65 AND lease_owner = ?66"
  " AND id IN (FLOOR_IDS)",
};

/* FLOOR_SQL[q] with its lists written out. */
static char *floor_sql(int q)
{
  static const char *const names[3] = { "FLOOR_IDS", "FLOOR_ROWS",
                                        "FLOOR_PAIRS" };
  char list[3][1400], *out;
  const char *src = FLOOR_SQL[q];
  size_t len[3] = { 0, 0, 0 }, n = 0;

  for (int i = 1; i <= FLOOR_CHUNK; i++) {
    const char *sep = i > 1 ? ", " : "";
    len[0] += (size_t)snprintf(list[0] + len[0], sizeof(list[0]) - len[0],
                               "%s?%d", sep, i);
    len[1] += (size_t)snprintf(list[1] + len[1], sizeof(list[1]) - len[1],
                               "%s(?%d)", sep, i);
    len[2] += (size_t)snprintf(list[2] + len[2], sizeof(list[2]) - len[2],
                               "%s(?%d, ?%d)", sep, i, i + FLOOR_CHUNK);
  }
  /* Each statement names at most one list, the longest is FLOOR_PAIRS. */
  if ((out = malloc(strlen(src) + len[2] + 1)) == NULL)
    return NULL;
  while (*src) {
    int k = -1;
    for (int i = 0; i < 3 && k < 0; i++)
      if (strncmp(src, names[i], strlen(names[i])) == 0)
        k = i;
    if (k < 0) {
      out[n++] = *src++;
      continue;
    }
    memcpy(out + n, list[k], len[k]);
    n += len[k];
    src += strlen(names[k]);
  }
  out[n] = '\0';
  return out;
}

typedef struct floor_msg {
  char tenant[32], job[32], id[32];
  int send;                   /* 1: its request goes out */
  int event;                  /* 1: it went from queued to sending */
  int sent;                   /* 1: it went from sending to sent */
  char form[512];
  char sid[64];
  char answer[FLOOR_ANSWER];
  size_t answer_len;
} floor_msg;

typedef struct floor_batch {
  floor_msg *m;
  size_t n;                   /* jobs claimed */
  size_t started;             /* m[0..started) looked at by floor_start */
  size_t total, done;         /* requests to send, and answered */
} floor_batch;

typedef struct floor_shared {
  const char *path;
  char channel[32];
  unsigned batch;
  pthread_mutex_t write;      /* one write transaction at a time */
  _Atomic int64_t checkpoint_tried;
} floor_shared;

typedef struct floor_thread {
  floor_shared *sh;
  pthread_t tid;
  char owner[48];
  sqlite3 *db;
  sqlite3_stmt *q[NQ];
  CURLM *multi;
  CURL *easy[FLOOR_CONNS], *idle[FLOOR_CONNS];
  int nidle;
  struct curl_slist *headers;
  floor_batch b[2];
  floor_batch *cur;           /* requests running */
  floor_batch *next;          /* marked sending, waiting for cur */
  int rc;
  char error[256];
} floor_thread;

static int64_t wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
  return (int64_t)(bench_now() * 1000.0);
}

static int floor_fail(floor_thread *t, const char *what)
{
  snprintf(t->error, sizeof(t->error), "%s: %s", what,
           t->db ? sqlite3_errmsg(t->db) : "");
  return -1;
}

static void copy_id(char *dst, size_t size, const unsigned char *src)
{
  snprintf(dst, size, "%s", src ? (const char *)src : "");
}

static int floor_wal_hook(void *arg, sqlite3 *db, const char *name,
                          int frames)
{
  floor_shared *sh = arg;
  int64_t now, tried;

  if (frames < FLOOR_CHECKPOINT_FRAMES)
    return SQLITE_OK;
  now = mono_ms();
  tried = atomic_load(&sh->checkpoint_tried);
  if (now - tried < FLOOR_CHECKPOINT_GAP_MS ||
      !atomic_compare_exchange_strong(&sh->checkpoint_tried, &tried, now))
    return SQLITE_OK;
  (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                  NULL);
  return SQLITE_OK;
}

/* Step a statement that returns no row, and reset it. */
static int floor_run(floor_thread *t, int q, const char *what)
{
  int rc = sqlite3_step(t->q[q]);

  sqlite3_reset(t->q[q]);
  return rc == SQLITE_DONE ? 0 : floor_fail(t, what);
}

static int floor_begin(floor_thread *t)
{
  pthread_mutex_lock(&t->sh->write);
  if (floor_run(t, Q_BEGIN, "begin") < 0) {
    pthread_mutex_unlock(&t->sh->write);
    return -1;
  }
  return 0;
}

static int floor_end(floor_thread *t, int rc)
{
  if (rc == 0)
    rc = floor_run(t, Q_COMMIT, "commit");
  if (rc < 0)
    sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
  pthread_mutex_unlock(&t->sh->write);
  return rc;
}

static size_t floor_answer(char *p, size_t size, size_t n, void *arg)
{
  floor_msg *m = arg;
  size_t len = size * n;

  if (len > sizeof(m->answer) - 1 - m->answer_len)
    return 0; /* longer than any answer of the simulator: fails */
  memcpy(m->answer + m->answer_len, p, len);
  m->answer_len += len;
  m->answer[m->answer_len] = '\0';
  return len;
}

/* The answer's top-level "sid" (a scan: "account_sid" does not match). */
static int floor_take_sid(floor_msg *m)
{
  const char *p = strstr(m->answer, "\"sid\""), *end;

  if (p == NULL)
    return -1;
  p += 5;
  while (*p == ' ' || *p == ':')
    p++;
  if (*p++ != '"' || (end = strchr(p, '"')) == NULL ||
      end == p || (size_t)(end - p) >= sizeof(m->sid))
    return -1;
  memcpy(m->sid, p, (size_t)(end - p));
  m->sid[end - p] = '\0';
  return 0;
}

/* Start the running batch's next requests on idle connections. */
static void floor_start(floor_thread *t)
{
  floor_batch *b = t->cur;

  while (b != NULL && t->nidle > 0 && b->started < b->n) {
    floor_msg *m = &b->m[b->started++];
    CURL *e;
    if (!m->send)
      continue;
    e = t->idle[--t->nidle];
    m->answer_len = 0;
    m->answer[0] = '\0';
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, m->form);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, m);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)m);
    curl_multi_add_handle(t->multi, e);
  }
}

/* Move the transfers on: collect every finished one (after every
 * perform), start the next. */
static int floor_pump(floor_thread *t)
{
  CURLMsg *msg;
  int running, left;

  curl_multi_perform(t->multi, &running);
  while ((msg = curl_multi_info_read(t->multi, &left)) != NULL) {
    CURL *e = msg->easy_handle;
    CURLcode res = msg->data.result;
    floor_msg *m = NULL;
    long code = 0;

    if (msg->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&m);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_multi_remove_handle(t->multi, e);
    t->idle[t->nidle++] = e;
    if (res != CURLE_OK || code != 201 || floor_take_sid(m) < 0) {
      snprintf(t->error, sizeof(t->error), "message %s: %s, HTTP %ld: %.80s",
               m->id, curl_easy_strerror(res), code, m->answer);
      return -1;
    }
    t->cur->done++;
  }
  floor_start(t);
  return 0;
}

/* Bind the ids of the chunk's messages that `pick` takes to ?1..?64,
 * NULL for the rest. */
static void floor_bind_ids(sqlite3_stmt *s, const floor_msg *m, size_t k,
                           int job, int (*pick)(const floor_msg *))
{
  size_t n = 0;

  for (size_t i = 0; i < k; i++)
    if (pick == NULL || pick(&m[i]))
      sqlite3_bind_text(s, (int)++n, job ? m[i].job : m[i].id, -1,
                        SQLITE_STATIC);
  while (n < FLOOR_CHUNK)
    sqlite3_bind_null(s, (int)++n);
}

static int pick_event(const floor_msg *m)
{
  return m->event;
}

static int pick_sent(const floor_msg *m)
{
  return m->sent;
}

/* The message of the chunk with this id (rows come in about its order:
 * look from the last match). */
static floor_msg *floor_find(floor_msg *m, size_t k, size_t *hint,
                             const unsigned char *id)
{
  for (size_t j = 0; id != NULL && j < k; j++) {
    floor_msg *x = &m[(*hint + j) % k];
    if (strcmp(x->id, (const char *)id) == 0) {
      *hint = (*hint + j + 1) % k;
      return x;
    }
  }
  return NULL;
}

/* The request of a row of Q_MARK or Q_MARK_AGAIN. */
static int floor_take_row(floor_thread *t, floor_msg *m, sqlite3_stmt *s)
{
  const unsigned char *to = sqlite3_column_text(s, 1);
  const unsigned char *text = sqlite3_column_text(s, 2);
  char eto[96], efrom[96], etext[400];

  if (m == NULL || m->send || to == NULL || text == NULL ||
      strlen((const char *)to) > 30 || strlen((const char *)text) > 120) {
    snprintf(t->error, sizeof(t->error), "mark: unexpected row");
    return -1;
  }
  form_encode(eto, (const char *)to);
  form_encode(efrom, SENDER);
  form_encode(etext, (const char *)text);
  /* At most 90 + 45 + 360 bytes: it fits. */
  snprintf(m->form, sizeof(m->form), "To=%s&From=%s&Body=%s", eto, efrom,
           etext);
  m->send = 1;
  return 0;
}

/* Mark the chunk m[0..k) of one tenant sending, with the events of those
 * that were queued, and read what their requests need. */
static int floor_mark(floor_thread *t, floor_msg *m, size_t k, int64_t now)
{
  sqlite3_stmt *s = t->q[Q_MARK];
  size_t hint = 0, nev = 0;
  int step, rc = 0;

  floor_bind_ids(s, m, k, 0, NULL);
  sqlite3_bind_text(s, 65, m[0].tenant, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 66, now);
  sqlite3_bind_text(s, 67, t->sh->channel, -1, SQLITE_STATIC);
  while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
    floor_msg *x = floor_find(m, k, &hint, sqlite3_column_text(s, 0));
    if ((rc = floor_take_row(t, x, s)) == 0)
      x->event = 1;
  }
  sqlite3_reset(s);
  if (rc == 0 && step != SQLITE_DONE)
    return floor_fail(t, "mark sending");
  /* Not queued: left sending by a crash (sent again), or done. */
  for (size_t i = 0; i < k && rc == 0; i++) {
    nev += (size_t)m[i].event;
    if (m[i].send)
      continue;
    s = t->q[Q_MARK_AGAIN];
    sqlite3_bind_text(s, 1, m[i].tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, m[i].id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, t->sh->channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    if ((step = sqlite3_step(s)) == SQLITE_ROW &&
        (rc = floor_take_row(t, &m[i], s)) == 0)
      step = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == 0 && step != SQLITE_DONE)
      rc = floor_fail(t, "mark sending again");
  }
  if (rc < 0 || nev == 0)
    return rc;
  s = t->q[Q_EV_SENDING];
  floor_bind_ids(s, m, k, 0, pick_event);
  sqlite3_bind_text(s, 65, m[0].tenant, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 66, now);
  return floor_run(t, Q_EV_SENDING, "sending events");
}

/* How many of m[0..n) follow m[0] in one chunk: same tenant, at most
 * FLOOR_CHUNK. */
static size_t floor_chunk(const floor_msg *m, size_t n)
{
  size_t k = 1;

  while (k < n && k < FLOOR_CHUNK && strcmp(m[k].tenant, m[0].tenant) == 0)
    k++;
  return k;
}

/* Step 1 into b: claim, mark sending with the events, build the forms.
 * Returns how many jobs were claimed (0: none due), or -1. */
static int floor_claim(floor_thread *t, floor_batch *b)
{
  int64_t now = wall_ms();
  sqlite3_stmt *s = t->q[Q_CLAIM];
  int rc = 0, step;

  b->n = b->started = b->total = b->done = 0;
  if (floor_begin(t) < 0)
    return -1;
  sqlite3_bind_text(s, 1, t->owner, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, now + FLOOR_LEASE_MS);
  sqlite3_bind_int64(s, 3, now);
  sqlite3_bind_int64(s, 4, (sqlite3_int64)t->sh->batch);
  while ((step = sqlite3_step(s)) == SQLITE_ROW && b->n < t->sh->batch) {
    floor_msg *m = &b->m[b->n++];
    copy_id(m->tenant, sizeof(m->tenant), sqlite3_column_text(s, 0));
    copy_id(m->job, sizeof(m->job), sqlite3_column_text(s, 1));
    copy_id(m->id, sizeof(m->id), sqlite3_column_text(s, 2));
    m->send = m->event = m->sent = 0;
  }
  sqlite3_reset(s);
  if (step != SQLITE_DONE)
    rc = floor_fail(t, "claim");
  for (size_t i = 0, k; i < b->n && rc == 0; i += k) {
    k = floor_chunk(&b->m[i], b->n - i);
    rc = floor_mark(t, &b->m[i], k, now);
    /* The running batch's connections do not wait for all of it. */
    if (rc == 0)
      rc = floor_pump(t);
  }
  for (size_t i = 0; i < b->n; i++)
    b->total += (size_t)b->m[i].send;
  if (floor_end(t, rc) < 0)
    return -1;
  return (int)b->n;
}

/* Step 3 for the chunk m[0..k) of one tenant. */
static int floor_record_chunk(floor_thread *t, floor_msg *m, size_t k,
                              int64_t now)
{
  sqlite3_stmt *s = t->q[Q_SENT];
  size_t hint = 0, n = 0, nsent = 0;
  int step;

  for (size_t i = 0; i < k; i++)
    if (m[i].send) {
      n++;
      sqlite3_bind_text(s, (int)n, m[i].id, -1, SQLITE_STATIC);
      sqlite3_bind_text(s, (int)n + FLOOR_CHUNK, m[i].sid, -1,
                        SQLITE_STATIC);
    }
  for (; n < FLOOR_CHUNK; n++) {
    sqlite3_bind_null(s, (int)n + 1);
    sqlite3_bind_null(s, (int)n + 1 + FLOOR_CHUNK);
  }
  sqlite3_bind_text(s, 129, m[0].tenant, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 130, now);
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    floor_msg *x = floor_find(m, k, &hint, sqlite3_column_text(s, 0));
    if (x != NULL && !x->sent) {
      x->sent = 1;
      nsent++;
    }
  }
  sqlite3_reset(s);
  if (step != SQLITE_DONE)
    return floor_fail(t, "sent");
  if (nsent > 0) {
    s = t->q[Q_EV_SENT];
    floor_bind_ids(s, m, k, 0, pick_sent);
    sqlite3_bind_text(s, 65, m[0].tenant, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 66, now);
    if (floor_run(t, Q_EV_SENT, "sent events") < 0)
      return -1;
  }
  s = t->q[Q_DONE];
  floor_bind_ids(s, m, k, 1, NULL);
  sqlite3_bind_text(s, 65, m[0].tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 66, t->owner, -1, SQLITE_STATIC);
  return floor_run(t, Q_DONE, "jobs done");
}

/* Step 3: every outcome of b, and its jobs deleted, in one commit. */
static int floor_record(floor_thread *t, floor_batch *b)
{
  int64_t now = wall_ms();
  int rc = 0;

  if (floor_begin(t) < 0)
    return -1;
  for (size_t i = 0, k; i < b->n && rc == 0; i += k) {
    k = floor_chunk(&b->m[i], b->n - i);
    rc = floor_record_chunk(t, &b->m[i], k, now);
  }
  return floor_end(t, rc);
}

static int floor_open(floor_thread *t)
{
  floor_shared *sh = t->sh;

  if (sqlite3_open_v2(sh->path, &t->db, SQLITE_OPEN_READWRITE |
                      SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    return floor_fail(t, "open");
  sqlite3_busy_timeout(t->db, 5000);
  sqlite3_wal_hook(t->db, floor_wal_hook, sh);
  /* The library's store's pragmas (src/store/sqlite.c), its default
   * synchronous=NORMAL as in child_lib. */
  if (sqlite3_exec(t->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                   " PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                   " PRAGMA secure_delete=ON;", NULL, NULL, NULL) !=
        SQLITE_OK)
    return floor_fail(t, "pragmas");
  for (int q = 0; q < NQ; q++) {
    char *sql = floor_sql(q);
    int rc = sql == NULL ? SQLITE_NOMEM
                         : sqlite3_prepare_v3(t->db, sql, -1,
                                              SQLITE_PREPARE_PERSISTENT,
                                              &t->q[q], NULL);
    free(sql);
    if (rc != SQLITE_OK)
      return floor_fail(t, "prepare");
  }
  for (int i = 0; i < 2; i++)
    if ((t->b[i].m = calloc(sh->batch, sizeof(floor_msg))) == NULL)
      return floor_fail(t, "out of memory");
  if ((t->multi = curl_multi_init()) == NULL)
    return floor_fail(t, "curl_multi_init");
  curl_multi_setopt(t->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                    (long)FLOOR_CONNS);
  curl_multi_setopt(t->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                    (long)FLOOR_CONNS);
  curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, (long)FLOOR_CONNS);
  for (int i = 0; i < g_nheaders; i++)
    t->headers = curl_slist_append(t->headers, g_headers[i]);
  for (int i = 0; i < FLOOR_CONNS; i++) {
    CURL *e = curl_easy_init();
    if (e == NULL)
      return floor_fail(t, "curl_easy_init");
    curl_easy_setopt(e, CURLOPT_URL, g_url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, floor_answer);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
    t->easy[i] = t->idle[t->nidle++] = e;
  }
  return 0;
}

static void floor_close(floor_thread *t)
{
  for (int i = 0; i < FLOOR_CONNS; i++)
    if (t->easy[i] != NULL) {
      curl_multi_remove_handle(t->multi, t->easy[i]);
      curl_easy_cleanup(t->easy[i]);
    }
  if (t->multi != NULL)
    curl_multi_cleanup(t->multi);
  curl_slist_free_all(t->headers);
  for (int q = 0; q < NQ; q++)
    sqlite3_finalize(t->q[q]);
  sqlite3_close(t->db);
  free(t->b[0].m);
  free(t->b[1].m);
}

/* One engine thread: claim and mark the next batch while the running one
 * sends; record it; start the next; until nothing is due. */
static void *floor_main(void *arg)
{
  floor_thread *t = arg;
  int drained = 0;

  t->rc = -1;
  if (floor_open(t) < 0)
    return NULL;
  for (;;) {
    if (t->next == NULL && !drained) {
      floor_batch *b = t->cur == &t->b[0] ? &t->b[1] : &t->b[0];
      int n = floor_claim(t, b);
      if (n < 0)
        return NULL;
      if (n == 0)
        drained = 1; /* what is left is leased to the other thread */
      else
        t->next = b;
    }
    if (t->cur == NULL) {
      if (t->next == NULL)
        break;
      t->cur = t->next;
      t->next = NULL;
      floor_start(t);
      continue;
    }
    if (floor_pump(t) < 0)
      return NULL;
    if (t->cur->started == t->cur->n && t->cur->done == t->cur->total) {
      if (floor_record(t, t->cur) < 0)
        return NULL;
      t->cur = NULL;
      continue;
    }
    curl_multi_poll(t->multi, NULL, 0, 100, NULL);
  }
  t->rc = 0;
  return NULL;
}

typedef struct floor_args {
  const char *from;   /* database to copy */
  long n;
  int threads;
} floor_args;

/* Every message of the tenant sent with a provider id, with one
 * message.sending event before one message.sent event, and no job left. */
static const char FLOOR_CHECK[] =
  "SELECT count(*) FROM vc_message m JOIN (SELECT subject_id,"
  "  sum(type = 'message.sending') AS a, sum(type = 'message.sent') AS b,"
  "  max(CASE WHEN type = 'message.sending' THEN seq END) AS sa,"
  "  max(CASE WHEN type = 'message.sent' THEN seq END) AS sb"
  "  FROM vc_event WHERE tenant_id = ?1"
  "  AND type IN ('message.sending', 'message.sent') GROUP BY subject_id) e"
  " ON e.subject_id = m.id"
  " WHERE m.tenant_id = ?1 AND m.status = 3 AND m.provider_id <> ''"
  " AND e.a = 1 AND e.b = 1 AND e.sa < e.sb";

static int child_floor(void *arg)
{
  floor_args *a = arg;
  floor_shared sh;
  floor_thread th[2];
  char path[600], tenant[64] = "";
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  double t0, dt;
  int64_t ok, jobs;
  int rc = 0;

  bench_path(path, sizeof(path), "run.db");
  bench_db_remove(path);
  if (bench_copy_file(a->from, path) != 0) {
    perror("copy");
    return 1;
  }
  memset(&sh, 0, sizeof(sh));
  memset(th, 0, sizeof(th));
  sh.path = path;
  sh.batch = g_claim ? g_claim : 256;
  pthread_mutex_init(&sh.write, NULL);
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
        SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT t.id, c.id FROM vc_tenant t"
                         " JOIN vc_channel c ON c.tenant_id = t.id"
                         " WHERE t.slug = 'acme'", -1, &s, NULL) !=
        SQLITE_OK ||
      sqlite3_step(s) != SQLITE_ROW) {
    fprintf(stderr, "bench_dispatch: floor: %s\n", sqlite3_errmsg(db));
    return 1;
  }
  snprintf(tenant, sizeof(tenant), "%s", sqlite3_column_text(s, 0));
  snprintf(sh.channel, sizeof(sh.channel), "%s", sqlite3_column_text(s, 1));
  sqlite3_finalize(s);
  sqlite3_busy_timeout(db, 5000);

  t0 = bench_now();
  for (int i = 0; i < a->threads; i++) {
    th[i].sh = &sh;
    snprintf(th[i].owner, sizeof(th[i].owner), "floor-%d-%d", (int)getpid(),
             i);
    if (pthread_create(&th[i].tid, NULL, floor_main, &th[i]) != 0) {
      perror("pthread_create");
      return 1;
    }
  }
  for (int i = 0; i < a->threads; i++)
    pthread_join(th[i].tid, NULL);
  dt = bench_now() - t0;
  for (int i = 0; i < a->threads; i++) {
    if (th[i].rc != 0) {
      fprintf(stderr, "bench_dispatch: floor thread %d: %s\n", i,
              th[i].error);
      rc = 1;
    }
    floor_close(&th[i]);
  }
  if (rc != 0)
    return rc;
  ok = raw_int(db, FLOOR_CHECK, tenant);
  jobs = raw_int(db, "SELECT count(*) FROM vc_job WHERE tenant_id = ?1"
                 " AND kind = 'message.send'", tenant);
  if (ok != a->n || jobs != 0) {
    fprintf(stderr, "bench_dispatch: floor: %lld of %ld messages sent with "
            "a provider id and their two events; %lld jobs left\n",
            (long long)ok, a->n, (long long)jobs);
    return 1;
  }
  sqlite3_close(db);
  pthread_mutex_destroy(&sh.write);
  bench_report((double)a->n / dt);
  bench_report(dt);
  return 0;
}

/* ---- main ---------------------------------------------------------------- */

/* Copy the library's request headers from the probe's recorded request,
 * and check that the baseline's body is the library's, byte for byte. */
static int take_probe_request(void)
{
  vc_sim_request r;
  char want[512];
  const char *p;

  if (vc_sim_received_count(g_sim) < 1 ||
      vc_sim_received_get(g_sim, 0, &r) != 0 || r.status != 201) {
    fprintf(stderr, "bench_dispatch: the library's probe message did not "
            "reach the simulator\n");
    return -1;
  }
  message_form(want, sizeof(want), 0);
  if (strcmp(want, r.body) != 0) {
    fprintf(stderr, "bench_dispatch: the baseline's body differs from the "
            "library's:\n  library:  %s\n  baseline: %s\n", r.body, want);
    return -1;
  }
  snprintf(g_url, sizeof(g_url), "%s%s", vc_sim_base_url(g_sim), r.path);
  /* Every header but those curl writes itself from the request. */
  for (p = r.headers; *p && g_nheaders < MAX_HEADERS;) {
    const char *end = strstr(p, "\r\n");
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > 0 && len < sizeof(g_headers[0]) &&
        strncasecmp(p, "Host:", 5) != 0 &&
        strncasecmp(p, "Content-Length:", 15) != 0) {
      memcpy(g_headers[g_nheaders], p, len);
      g_headers[g_nheaders++][len] = '\0';
    }
    p += len + (end ? 2 : 0);
  }
  printf("  request: POST %s, %zu-byte form, headers:", r.path,
         r.body_len);
  for (int i = 0; i < g_nheaders; i++)
    printf(" %.*s;", (int)strcspn(g_headers[i], ":"), g_headers[i]);
  printf(" (the baseline sends the same)\n");
  return 0;
}

enum { M_BASE, M_LIB1, M_LIB2, M_SANDBOX, M_FLOOR1, M_FLOOR2, NMEAS };

static const char *const NAMES[NMEAS] = {
  "bare curl-multi loop (baseline)",
  "vc_ctx_start(ctx, 1)",
  "vc_ctx_start(ctx, 2)",
  "sandbox-sms, 1 thread, no HTTP",
  "floor: raw SQLite+curl, 1 thread",
  "floor: raw SQLite+curl, 2 threads",
};

typedef struct meas {
  bench_stat rate, secs, sim_cpu, sim_util, cpu, cpu_us, rss, grow;
} meas;

static meas g_m[NMEAS];

static int measure(int which, int (*fn)(void *), void *arg, long n)
{
  bench_child c;
  double cpu0, cpu1;
  size_t accepted;

  vc_sim_received_clear(g_sim);
  cpu0 = vc_sim_cpu_seconds(g_sim);
  if (bench_run_child(&c, fn, arg) != 0 || c.n < 2) {
    fprintf(stderr, "bench_dispatch: '%s' failed\n", NAMES[which]);
    return -1;
  }
  cpu1 = vc_sim_cpu_seconds(g_sim);
  accepted = vc_sim_accepted_count(g_sim, "twilio");
  if (which != M_SANDBOX && accepted != (size_t)n)
    printf("  NOTE: %s: the simulator accepted %zu requests for %ld "
           "messages (%zu duplicates)\n", NAMES[which], accepted, n,
           vc_sim_duplicate_count(g_sim, "twilio"));
  bench_stat_add(&g_m[which].rate, c.v[0]);
  bench_stat_add(&g_m[which].secs, c.v[1]);
  bench_stat_add(&g_m[which].sim_cpu, cpu1 - cpu0);
  bench_stat_add(&g_m[which].sim_util, (cpu1 - cpu0) / c.v[1]);
  bench_stat_add(&g_m[which].cpu, c.cpu_s);
  bench_stat_add(&g_m[which].cpu_us, c.cpu_s / (double)n * 1e6);
  bench_stat_add(&g_m[which].rss, (double)c.maxrss_kb / 1024.0);
  bench_stat_add(&g_m[which].grow,
                 (double)(c.maxrss_kb - c.start_rss_kb) / 1024.0);
  return 0;
}

static void print_meas(int which)
{
  char a[96], b[96], c[96], d[96], e[96], f[96], g[96];
  meas *m = &g_m[which];

  if (m->rate.n == 0)
    return;
  printf("  %-34s %s %s/s\n", NAMES[which],
         bench_stat_fmt(a, sizeof(a), &m->rate, 0),
         which == M_SANDBOX ? "messages" : "requests");
  printf("  %-34s process CPU %s s = %s us per message\n", "",
         bench_stat_fmt(d, sizeof(d), &m->cpu, 2),
         bench_stat_fmt(f, sizeof(f), &m->cpu_us, 0));
  printf("  %-34s peak RSS %s MiB, of which %s MiB grown during it\n", "",
         bench_stat_fmt(e, sizeof(e), &m->rss, 1),
         bench_stat_fmt(g, sizeof(g), &m->grow, 1));
  if (which != M_SANDBOX)
    printf("  %-34s simulator CPU %s s (%s of a core)\n", "",
           bench_stat_fmt(b, sizeof(b), &m->sim_cpu, 2),
           bench_stat_fmt(c, sizeof(c), &m->sim_util, 2));
}

static void print_ratio(int num, double goal)
{
  bench_stat r = { { 0 }, 0 };
  char buf[96];

  for (int i = 0; i < g_m[num].rate.n && i < g_m[M_BASE].rate.n; i++)
    bench_stat_add(&r, g_m[num].rate.v[i] / g_m[M_BASE].rate.v[i]);
  if (r.n == 0)
    return;
  printf("  ratio %-34s %s", NAMES[num], bench_stat_fmt(buf, sizeof(buf),
                                                          &r, 3));
  if (goal > 0)
    printf("   goal >= %.2f: %s", goal,
           bench_verdict(bench_stat_median(&r), goal));
  printf("\n");
}

/* A ratio between two measurements of the same runs. */
static void print_ratio_of(const char *label, int num, int den)
{
  bench_stat r = { { 0 }, 0 };
  char buf[96];

  for (int i = 0; i < g_m[num].rate.n && i < g_m[den].rate.n; i++)
    bench_stat_add(&r, g_m[num].rate.v[i] / g_m[den].rate.v[i]);
  if (r.n == 0)
    return;
  printf("  ratio %-34s %s\n", label, bench_stat_fmt(buf, sizeof(buf), &r,
                                                       3));
}

static int wanted(const char *only, const char *kind)
{
  return only == NULL || strcmp(only, kind) == 0;
}

int main(int argc, char **argv)
{
  int runs = 3, quick = bench_quick_env(), runs_set = 0, n_set = 0;
  const char *only = NULL;
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  curl_args ca;
  lib_args la;
  floor_args fa;
  double load[3] = { 0, 0, 0 };
  int rc = 0;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0)
      quick = 1;
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = atoi(argv[++i]), runs_set = 1;
    else if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc)
      g_n = atol(argv[++i]), n_set = 1;
    else if (strcmp(argv[i], "--connections") == 0 && i + 1 < argc)
      g_conns = atoi(argv[++i]);
    else if (strcmp(argv[i], "--claim-batch") == 0 && i + 1 < argc)
      g_claim = (unsigned)atoi(argv[++i]);
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
      only = argv[++i];
    else {
      fprintf(stderr, "usage: bench_dispatch [--quick] [--runs N] "
              "[--messages N] [--connections N] [--claim-batch N] "
              "[--only base|1|2|sandbox|floor|floor1]\n");
      return 2;
    }
  }
  if (quick && !runs_set)
    runs = 1;
  if (quick && !n_set)
    g_n = 2000;
  if (runs < 1 || runs > BENCH_MAX_RUNS || g_n < 1 || g_conns < 1 ||
      g_conns > MAX_CONNS || g_claim > 10000 ||
      (only && strcmp(only, "base") && strcmp(only, "1") &&
       strcmp(only, "2") && strcmp(only, "sandbox") &&
       strcmp(only, "floor") && strcmp(only, "floor1"))) {
    fprintf(stderr, "bench_dispatch: bad arguments\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  bench_dir("vc-bench-dispatch");
  bench_path(g_template, sizeof(g_template), "template.db");
  bench_path(g_probe, sizeof(g_probe), "probe.db");
  bench_path(g_sandbox, sizeof(g_sandbox), "sandbox.db");
  if (vc_sim_start(&g_sim, NULL) != 0) {
    fprintf(stderr, "bench_dispatch: cannot start the simulator\n");
    return 1;
  }
  snprintf(g_base_url, sizeof(g_base_url), "%s", vc_sim_base_url(g_sim));
  w.off = 1;
  vc_sim_webhooks_set(g_sim, "twilio", &w);
  if (getloadavg(load, 3) < 0)
    load[0] = -1;
  printf("bench_dispatch: %ld messages, twilio-sms to the simulator "
         "(webhooks off), claim_batch %u%s, %d run(s)%s\n", g_n,
         g_claim ? g_claim : 256, g_claim ? "" : " (default)", runs,
         quick ? " [quick]" : "");
  printf("  %ld CPUs online, load average %.2f at start; SQLite %s, %s\n",
         sysconf(_SC_NPROCESSORS_ONLN), load[0], sqlite3_libversion(),
         curl_version());
  {
    bench_child c;
    if (bench_run_child(&c, child_probe, NULL) != 0 ||
        take_probe_request() != 0) {
      vc_sim_stop(g_sim);
      return 1;
    }
    if (bench_run_child(&c, child_setup, g_template) != 0 ||
        bench_run_child(&c, child_setup, g_sandbox) != 0) {
      fprintf(stderr, "bench_dispatch: set-up failed\n");
      vc_sim_stop(g_sim);
      return 1;
    }
  }
  printf("  baseline: %d keep-alive connections; the library: 32 per "
         "engine thread (its transport's limit)\n", g_conns);

  for (int r = 0; r < runs && rc == 0; r++) {
    ca = (curl_args){ g_n, g_conns };
    if ((!only || !strcmp(only, "base")) &&
        measure(M_BASE, child_curl, &ca, g_n) != 0)
      rc = 1;
    la = (lib_args){ g_template, g_n, 1 };
    if (rc == 0 && (!only || !strcmp(only, "1")) &&
        measure(M_LIB1, child_lib, &la, g_n) != 0)
      rc = 1;
    la = (lib_args){ g_template, g_n, 2 };
    if (rc == 0 && (!only || !strcmp(only, "2")) &&
        measure(M_LIB2, child_lib, &la, g_n) != 0)
      rc = 1;
    la = (lib_args){ g_sandbox, g_n, 1 };
    if (rc == 0 && (!only || !strcmp(only, "sandbox")) &&
        measure(M_SANDBOX, child_lib, &la, g_n) != 0)
      rc = 1;
    fa = (floor_args){ g_template, g_n, 2 };
    if (rc == 0 && wanted(only, "floor") &&
        measure(M_FLOOR2, child_floor, &fa, g_n) != 0)
      rc = 1;
    fa = (floor_args){ g_template, g_n, 1 };
    if (rc == 0 && wanted(only, "floor1") &&
        measure(M_FLOOR1, child_floor, &fa, g_n) != 0)
      rc = 1;
  }
  if (rc == 0) {
    printf("\nqueued -> sent, %ld messages  [median (min..max) over %d "
           "run(s)]\n", g_n, runs);
    for (int i = 0; i < NMEAS; i++)
      print_meas(i);
    print_ratio(M_LIB1, 0);
    print_ratio(M_LIB2, 0.7);
    print_ratio(M_SANDBOX, 0);
    printf("  (the sandbox line is the store's share alone: the same "
           "dispatcher with an adapter\n   that sends nothing; the "
           "library runs up to 32 connections per engine thread)\n");
    print_ratio_of("floor, 1 thread / bare loop", M_FLOOR1, M_BASE);
    print_ratio_of("floor, 2 threads / bare loop", M_FLOOR2, M_BASE);
    print_ratio_of("library / floor, 1 thread each", M_LIB1, M_FLOOR1);
    print_ratio_of("library / floor, 2 threads each", M_LIB2, M_FLOOR2);
    if (g_m[M_FLOOR1].rate.n > 0 || g_m[M_FLOOR2].rate.n > 0)
      printf("  (the floor is raw SQLite and curl, no library call: the "
             "claim; per 64 messages\n   one UPDATE to sending that reads "
             "To and Body, and their events, committed;\n   the requests, "
             "32 connections per thread; per 64 one UPDATE to sent with "
             "the\n   provider ids, their events and their jobs deleted, "
             "committed per batch. It\n   leaves out routing, the consent "
             "check, rate limits and breakers, retries and\n   failover, "
             "the rollup, ledger and rules hooks and the event callback: "
             "it is\n   not the library's equal)\n");
  }
  vc_sim_stop(g_sim);
  curl_global_cleanup();
  return rc;
}
