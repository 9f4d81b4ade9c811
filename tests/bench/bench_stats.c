/*
 * bench_stats: vc_stats_query over a tenant with N messages, against a
 * raw GROUP BY over vc_message measured in the same run (issue 7 item 7).
 *
 * Setup, all through the library, with an injected clock that walks over
 * 30 days: batches of 1,000 messages queued with vc_message_send_many on
 * a local test channel, each batch dispatched by vc_ctx_run (queued ->
 * sent through the real outcome path), then moved on by one webhook per
 * batch through vc_webhook_handle 30 s later (9 in 10 delivered, 1 in 10
 * failed), so every rollup is moved by the code paths that move it in
 * production.
 *
 *   library   vc_stats_query, every section, hourly, the 30 days
 *   raw       SELECT hour, channel_id, status, COUNT(*) FROM vc_message
 *             ... GROUP BY over the same window, straight on SQLite (the
 *             counts a rollup-less query would have to compute)
 *
 * Goal: the library's query under 1 s at 1,000,000 messages. Figures
 * are medians of 5 queries; ratios and goals are printed, never
 * asserted.
 *
 *   bench_stats [--quick] [--messages N]
 *
 * Default 1,000,000 messages; --quick (or VC_BENCH_QUICK=1): 20,000.
 */
#include "bench_common.h"
#include "../local_adapter.h"

#include <sqlite3.h>

#include "vyomcomm.h"
#include "vyomcomm/sys/adapter.h"
#include "vyomcomm/sys/errors.h"

#define BATCH 1000
#define QUERIES 5
#define HOUR 3600000LL
#define DAYS 30
/* 2023-11-01 00:00 UTC */
#define W0 1698796800000LL

static long g_n = 1000000;
static int64_t g_now = W0;
static const uint8_t KEY[32] = { 5, 5, 5 };

static int64_t bench_clock(void *payload)
{
  (void)payload;
  return g_now;
}

static int fail(const char *what)
{
  fprintf(stderr, "bench_stats: %s: %s\n", what, vc_error_last()->message);
  return -1;
}

/* ---- a local channel whose webhooks are lines of text ----------------- */

/* Lines "<message id> <status>". */
static int ba_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  const char *p = (const char *)req->body, *end = p + req->body_len;
  int rc = 0;

  (void)state;
  while (p < end && rc == 0) {
    char id[VC_ID_SIZE], ev[40];
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    vc_status_update u = { VC_STATUS_UPDATE_VERSION, NULL, NULL, 0, NULL,
                           0, NULL, NULL };
    if (nl == NULL || nl - p < VC_ID_SIZE + 1)
      break;
    memcpy(id, p, VC_ID_SIZE - 1);
    id[VC_ID_SIZE - 1] = '\0';
    snprintf(ev, sizeof(ev), "ev-%s", id);
    u.message_id = id;
    u.status = atoi(p + VC_ID_SIZE);
    u.event_id = ev;
    rc = vc_event_sink_status(sink, &u);
    p = nl + 1;
  }
  if (rc == 0)
    rc = vc_event_sink_reply(sink, 200, "text/plain", "ok");
  return rc;
}

static const vc_adapter BENCH_ADAPTER = {
  VC_ADAPTER_VERSION, "bench-hook", VC_CHANNEL_SMS,
  VC_CAP_LOCAL | VC_CAP_DELIVERY_REPORTS,
  local_init, local_fini, local_build, local_accept, local_verify_any,
  ba_parse_webhook
};

/* ---- setup ---------------------------------------------------------------- */

typedef struct setup {
  vc_ctx *ctx;
  vc_tenant *t;
  char channel[VC_ID_SIZE];
  double enqueue_s, dispatch_s, webhook_s;
} setup;

static int open_all(setup *s, const char *path)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;
  vc_store *store;

  if (vc_store_open_sqlite(&store, path, NULL) < 0)
    return fail("store");
  mk.key = KEY;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = bench_clock;
  o.random_seed = 3;
  o.public_base_url = "https://erp.example.com";
  if (vc_ctx_new(&s->ctx, &o) < 0 ||
      vc_adapter_register(s->ctx, &BENCH_ADAPTER) < 0)
    return fail("context");
  ts.slug = "acme";
  if (vc_tenant_new(&s->t, s->ctx, &ts) < 0)
    return fail("tenant");
  cs.name = "hook";
  cs.provider = "bench-hook";
  cs.sender = "+15550001111";
  if (vc_channel_new(&ch, s->t, &cs) < 0)
    return fail("channel");
  snprintf(s->channel, sizeof(s->channel), "%s", vc_channel_id(ch));
  vc_channel_free(ch);
  return 0;
}

static int batch(setup *s, long first, long n, char (*ids)[VC_ID_SIZE],
                 vc_message_spec *specs, char *body, size_t body_size)
{
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_http_response res;
  char path[64];
  size_t len = 0;
  double t0;
  int rc;

  for (long i = 0; i < n; i++) {
    vc_message_spec_init(&specs[i], VC_MESSAGE_SPEC_VERSION);
    specs[i].channel = "hook";
    specs[i].to = "+14155550123";
    specs[i].text = "Your order has shipped";
  }
  t0 = bench_now();
  if ((rc = vc_message_send_many(s->t, specs, (size_t)n, ids, NULL)) !=
      (int)n)
    return fail("send_many");
  s->enqueue_s += bench_now() - t0;
  t0 = bench_now();
  while ((rc = vc_ctx_run(s->ctx, 0)) > 0)
    ;
  if (rc < 0)
    return fail("dispatch");
  s->dispatch_s += bench_now() - t0;
  /* The receipts, 30 s later: 1 in 10 failed. */
  g_now += 30000;
  for (long i = 0; i < n; i++)
    len += (size_t)snprintf(body + len, body_size - len, "%s %d\n", ids[i],
                            (first + i) % 10 == 9 ? VC_MSG_FAILED
                                                  : VC_MSG_DELIVERED);
  snprintf(path, sizeof(path), "/webhooks/%s", s->channel);
  req.method = "POST";
  req.target = path;
  req.body = (const uint8_t *)body;
  req.body_len = len;
  t0 = bench_now();
  rc = vc_webhook_handle(&res, s->ctx, &req);
  vc_http_response_dispose(&res);
  if (rc < 0)
    return fail("webhook");
  s->webhook_s += bench_now() - t0;
  return 0;
}

static int fill(setup *s)
{
  char (*ids)[VC_ID_SIZE] = calloc(BATCH, VC_ID_SIZE);
  vc_message_spec *specs = calloc(BATCH, sizeof(*specs));
  size_t body_size = BATCH * 48;
  char *body = malloc(body_size);
  long nbatches = (g_n + BATCH - 1) / BATCH;
  int rc = 0;

  if (ids == NULL || specs == NULL || body == NULL) {
    rc = -1;
    goto done;
  }
  for (long b = 0; b < nbatches && rc == 0; b++) {
    long n = g_n - b * BATCH < BATCH ? g_n - b * BATCH : BATCH;
    /* Batches spread evenly over the 30 days. */
    g_now = W0 + b * (DAYS * 24 * HOUR / nbatches);
    rc = batch(s, b * BATCH, n, ids, specs, body, body_size);
  }
done:
  free(ids);
  free(specs);
  free(body);
  return rc;
}

/* ---- the measurements ----------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  return v[n / 2];
}

static int library_query(setup *s, double *secs, size_t *bytes,
                         long *queued)
{
  vc_stats_spec q = VC_STATS_SPEC_INIT;
  vc_buf out = VC_BUF_INIT;
  double t[QUERIES];
  const char *p;

  q.from = W0;
  q.to = W0 + DAYS * 24 * HOUR;
  for (int i = 0; i < QUERIES; i++) {
    double t0 = bench_now();
    if (vc_stats_query(&out, s->t, &q) < 0)
      return fail("vc_stats_query");
    t[i] = bench_now() - t0;
  }
  *secs = median(t, QUERIES);
  *bytes = out.size;
  p = strstr(out.ptr, "\"by_status\":{\"queued\":");
  *queued = p ? atol(p + strlen("\"by_status\":{\"queued\":")) : -1;
  vc_buf_dispose(&out);
  return 0;
}

static int raw_query(const char *path, const char *tenant_id, double *secs,
                     long *total)
{
  static const char SQL[] =
    "SELECT created_at - created_at % 3600000, channel_id, status,"
    " COUNT(*) FROM vc_message WHERE tenant_id = ?1 AND created_at >= ?2"
    " AND created_at < ?3 GROUP BY 1, 2, 3";
  double t[QUERIES];
  sqlite3 *db;
  sqlite3_stmt *st;

  if (sqlite3_open(path, &db) != SQLITE_OK ||
      sqlite3_prepare_v2(db, SQL, -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "bench_stats: raw: %s\n", sqlite3_errmsg(db));
    return -1;
  }
  for (int i = 0; i < QUERIES; i++) {
    double t0 = bench_now();
    *total = 0;
    sqlite3_bind_text(st, 1, tenant_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, W0);
    sqlite3_bind_int64(st, 3, W0 + DAYS * 24 * HOUR);
    while (sqlite3_step(st) == SQLITE_ROW)
      *total += (long)sqlite3_column_int64(st, 3);
    sqlite3_reset(st);
    t[i] = bench_now() - t0;
  }
  *secs = median(t, QUERIES);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return 0;
}

int main(int argc, char **argv)
{
  char path[600], tenant_id[VC_ID_SIZE];
  double lib_s = 0, raw_s = 0;
  size_t bytes = 0;
  long queued = -1, total = -1;
  setup s;
  double l[3];
  int quick = bench_quick_env();

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0)
      quick = 1;
    else if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc)
      g_n = atol(argv[++i]);
    else {
      fprintf(stderr, "usage: bench_stats [--quick] [--messages N]\n");
      return 2;
    }
  }
  if (quick && g_n == 1000000)
    g_n = 20000;
  if (g_n < 1) {
    fprintf(stderr, "bench_stats: --messages must be >= 1\n");
    return 2;
  }
  getloadavg(l, 3);
  printf("bench_stats: %ld messages over %d days%s, load average "
         "%.2f %.2f %.2f\n", g_n, DAYS, quick ? " [quick]" : "", l[0], l[1],
         l[2]);
  bench_dir("vc-bench-stats");
  bench_path(path, sizeof(path), "stats.db");
  memset(&s, 0, sizeof(s));
  if (open_all(&s, path) < 0 || fill(&s) < 0)
    return 1;
  snprintf(tenant_id, sizeof(tenant_id), "%s", vc_tenant_id(s.t));
  printf("  setup: send_many %.1f s (%.0f/s), dispatch %.1f s (%.0f/s),"
         " webhooks %.1f s (%.0f/s)\n", s.enqueue_s, g_n / s.enqueue_s,
         s.dispatch_s, g_n / s.dispatch_s, s.webhook_s,
         g_n / s.webhook_s);
  if (library_query(&s, &lib_s, &bytes, &queued) < 0)
    return 1;
  vc_tenant_free(s.t);
  vc_ctx_free(s.ctx);
  if (raw_query(path, tenant_id, &raw_s, &total) < 0)
    return 1;
  printf("  vc_stats_query, 30 days hourly, every section"
         "  %9.3f ms  (%zu bytes of JSON, %ld queued)\n", lib_s * 1000,
         bytes, queued);
  printf("  raw GROUP BY over vc_message (counts only)     %9.3f ms  "
         "(%ld messages)\n", raw_s * 1000, total);
  printf("  ratio raw / vc_stats_query                     %9.1f\n",
         raw_s / lib_s);
  printf("  vc_stats_query %.3f s: goal < 1 s: %s\n", lib_s,
         lib_s < 1.0 ? "meets the goal" : "MISSES the goal");
  if (queued != g_n || total != g_n)
    printf("  note: counts differ from %ld (rollup %ld, raw %ld)\n", g_n,
           queued, total);
  return 0;
}
