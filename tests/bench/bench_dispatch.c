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
 *              alone allows.
 *
 * "Sent" is watched on the database file by a raw SQLite connection: an
 * index seek for any message still queued or sending, every 5 ms. The
 * simulator's server thread CPU time is printed for every measurement, so
 * that it is visibly not the bottleneck; so is each measurement's process
 * CPU time and peak memory (each runs in a child process).
 *
 *   bench_dispatch [--quick] [--runs N] [--messages N] [--connections N]
 *                  [--claim-batch N] [--only base|1|2|sandbox]
 *
 * Default 20000 messages, 3 runs; --quick (or VC_BENCH_QUICK=1): 2000, 1.
 * --only runs one kind of measurement (for a profiler).
 */
#include "bench_common.h"

#include <curl/curl.h>
#include <sqlite3.h>

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

enum { M_BASE, M_LIB1, M_LIB2, M_SANDBOX, NMEAS };

static const char *const NAMES[NMEAS] = {
  "bare curl-multi loop (baseline)",
  "vc_ctx_start(ctx, 1)",
  "vc_ctx_start(ctx, 2)",
  "sandbox-sms, 1 thread, no HTTP",
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

int main(int argc, char **argv)
{
  int runs = 3, quick = bench_quick_env(), runs_set = 0, n_set = 0;
  const char *only = NULL;
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  curl_args ca;
  lib_args la;
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
              "[--only base|1|2|sandbox]\n");
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
       strcmp(only, "2") && strcmp(only, "sandbox"))) {
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
  }
  vc_sim_stop(g_sim);
  curl_global_cleanup();
  return rc;
}
