/*
 * bench_campaign: a campaign's fan-out over a tag audience, against raw
 * batched prepared SQLite inserts of the same rows into the same schema
 * with the same pragmas, measured in the same run (issue 7 item 11).
 *
 * Setup (once): a database the library created, with a tenant, a
 * sandbox SMS channel, a rate card that prices its messages, a template,
 * and N contacts (a phone address and the tag each) inserted by SQL.
 * Each measurement starts from a copy.
 *
 *   library  vc_campaign_new + vc_campaign_start, then vc_ctx_run until
 *            the fan-out has reached every recipient: per recipient one
 *            vc_message, one vc_job, one vc_campaign_recipient and one
 *            vc_ledger row (the estimate of its cost).
 *            The campaign's send window excludes the current hour, so
 *            no message is due and the engine runs only the fan-out.
 *   raw      the same audience read by the same kind of keyset query and
 *            the same four rows per recipient inserted by prepared
 *            statements, 1,000 recipients per transaction, the message
 *            text fixed (no rendering), ids from a counter.
 *
 * Goals: library time at most 2x raw; peak resident memory at most
 * 64 MiB and flat between 100,000 and N recipients (the resident set is
 * printed at both points). Ratios and goals are printed, never asserted.
 *
 *   bench_campaign [--quick] [--recipients N] [--runs N]
 *
 * Default 1,000,000 recipients, 1 run; --quick (or VC_BENCH_QUICK=1):
 * 20,000.
 */
#include "bench_common.h"

#include <sqlite3.h>

#include "vyomcomm.h"

#define RAW_BATCH 1000
#define PAGE 500
#define TEXT "Hi friend, 10% off today"

static long g_n = 1000000;
static char g_template_db[600];
static char g_tenant_id[VC_ID_SIZE];
static const uint8_t KEY[32] = { 1, 2, 3 };

static int fail(const char *what, sqlite3 *db)
{
  fprintf(stderr, "bench_campaign: %s: %s\n", what,
          db ? sqlite3_errmsg(db) : vc_error_last()->message);
  return -1;
}

static void contact_id(char out[27], long i)
{
  snprintf(out, 27, "01J0000000000000%010ld", i);
}

/* ---- setup ------------------------------------------------------------ */

static int open_ctx(vc_ctx **ctx, const char *path)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_store *store;

  if (vc_store_open_sqlite(&store, path, NULL) < 0)
    return fail("open store", NULL);
  mk.key = KEY;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  return vc_ctx_new(ctx, &o) < 0 ? fail("context", NULL) : 0;
}

static int add_contacts(const char *path, long n)
{
  sqlite3_stmt *c, *a, *g;
  char id[27], phone[24];
  sqlite3 *db;
  int rc = 0;

  if (sqlite3_open(path, &db) != SQLITE_OK)
    return fail("open", db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF", NULL,
               NULL, NULL);
  if (sqlite3_prepare_v2(db, "INSERT INTO vc_contact (tenant_id, id, name,"
                         " created_at, updated_at) VALUES (?1, ?2, NULL, 1,"
                         " 1)", -1, &c, NULL) ||
      sqlite3_prepare_v2(db, "INSERT INTO vc_contact_address VALUES (?1, 1,"
                         " ?3, ?2, 1)", -1, &a, NULL) ||
      sqlite3_prepare_v2(db, "INSERT INTO vc_contact_tag VALUES (?1, 'all',"
                         " ?2)", -1, &g, NULL))
    return fail("prepare", db);
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  for (long i = 0; i < n && rc == 0; i++) {
    sqlite3_stmt *st[3] = { c, a, g };
    contact_id(id, i);
    snprintf(phone, sizeof(phone), "+1415%07ld", i);
    for (int k = 0; k < 3; k++) {
      sqlite3_bind_text(st[k], 1, g_tenant_id, -1, SQLITE_STATIC);
      sqlite3_bind_text(st[k], 2, id, -1, SQLITE_STATIC);
      if (k == 1)
        sqlite3_bind_text(st[k], 3, phone, -1, SQLITE_STATIC);
      if (sqlite3_step(st[k]) != SQLITE_DONE)
        rc = fail("insert contact", db);
      sqlite3_reset(st[k]);
    }
    if (i % 100000 == 99999) {
      sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
      sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    }
  }
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  sqlite3_finalize(c);
  sqlite3_finalize(a);
  sqlite3_finalize(g);
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  sqlite3_close(db);
  return rc;
}

static int make_template(void)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_template_spec tp = VC_TEMPLATE_SPEC_INIT;
  vc_ratecard_entry re = VC_RATECARD_ENTRY_INIT;
  vc_ratecard_spec rs = VC_RATECARD_SPEC_INIT;
  char card[VC_ID_SIZE];
  vc_template *tpl;
  vc_channel *ch;
  vc_tenant *t;
  vc_ctx *ctx;

  bench_path(g_template_db, sizeof(g_template_db), "template.db");
  if (open_ctx(&ctx, g_template_db) < 0)
    return -1;
  ts.slug = "bench";
  cs.name = "sms";
  cs.provider = "sandbox-sms";
  cs.sender = "+15550001111";
  tp.name = "offer";
  tp.kind = VC_CHANNEL_SMS;
  tp.text_body = "Hi {{name}}, {{offer}} off today";
  /* Marketing SMS without an opt-in: every contact is sent to, and the
   * opt-out check still runs for each. */
  /* Every message is priced (per segment, US numbers): the library
   * writes each one's estimate. */
  re.prefix = "1";
  re.message_micros = 7500;
  re.currency = "USD";
  rs.provider = "sandbox-sms";
  rs.entries = &re;
  rs.nentries = 1;
  if (vc_tenant_new(&t, ctx, &ts) < 0 || vc_channel_new(&ch, t, &cs) < 0 ||
      vc_template_new(&tpl, t, &tp) < 0 ||
      vc_ratecard_set(card, t, &rs) < 0 ||
      vc_consent_policy_set(t, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING, 0) < 0)
    return fail("setup", NULL);
  snprintf(g_tenant_id, sizeof(g_tenant_id), "%s", vc_tenant_id(t));
  vc_template_free(tpl);
  vc_channel_free(ch);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  return add_contacts(g_template_db, g_n);
}

static int copy_db(char *path, size_t size, const char *name)
{
  bench_path(path, size, name);
  bench_db_remove(path);
  return bench_copy_file(g_template_db, path);
}

/* ---- the library --------------------------------------------------------- */

static int run_library(void *arg)
{
  static const char *chain[] = { "sms" };
  vc_campaign_spec s = VC_CAMPAIGN_SPEC_INIT;
  vc_campaign_counters k = VC_CAMPAIGN_COUNTERS_INIT;
  const char *path = arg;
  double t0, t1;
  long rss_100k = 0;
  vc_campaign *c;
  vc_tenant *t;
  vc_ctx *ctx;
  int minute;

  if (open_ctx(&ctx, path) < 0 || vc_tenant_lookup(&t, ctx, "bench") < 0)
    return fail("open", NULL);
  /* A window two hours from now: no message is due during the run. */
  minute = (int)((time(NULL) / 60) % 1440);
  s.name = "bench";
  s.template_name = "offer";
  s.vars_json = "{\"name\":\"friend\",\"offer\":\"10%\"}";
  s.chain = chain;
  s.nchain = 1;
  s.audience = VC_AUDIENCE_TAG;
  s.tag = "all";
  s.window_start_min = (minute + 120) % 1440;
  s.window_end_min = (minute + 180) % 1440;
  if (vc_campaign_new(&c, t, &s) < 0)
    return fail("campaign", NULL);
  t0 = bench_now();
  if (vc_campaign_start(c) < 0)
    return fail("start", NULL);
  for (;;) {
    if (vc_ctx_run(ctx, 0) < 0 || vc_campaign_counters_get(&k, c) < 0)
      return fail("run", NULL);
    if (rss_100k == 0 && k.total >= 100000)
      rss_100k = bench_rss_kb();
    if (k.total >= (uint64_t)g_n)
      break;
  }
  t1 = bench_now();
  if (k.queued != (uint64_t)g_n)
    return fail("not every recipient queued", NULL);
  {
    /* Every message's estimate was booked. */
    char want[48];
    vc_buf sum = VC_BUF_INIT;
    int64_t now = (int64_t)time(NULL) * 1000;
    snprintf(want, sizeof(want), "\"entries\":%ld}", g_n);
    if (vc_ledger_summary(&sum, t, now - 86400000, now + 86400000) < 0 ||
        strstr(sum.ptr, want) == NULL)
      return fail("not every message's estimate in the ledger", NULL);
    vc_buf_dispose(&sum);
  }
  bench_report(t1 - t0);
  bench_report((double)rss_100k);
  bench_report((double)bench_rss_kb());
  vc_campaign_free(c);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  return 0;
}

/* ---- raw SQLite ---------------------------------------------------------- */

static int run_raw(void *arg)
{
  const char *path = arg;
  sqlite3_stmt *page, *msg, *job, *rcpt, *cost, *begin, *commit;
  char cursor[27] = "", campaign[27], mid[27], jid[27], lid[27];
  int64_t now = (int64_t)time(NULL) * 1000;
  long done = 0, seq = 0;
  double t0, t1;
  sqlite3 *db;

  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    return fail("open", db);
  /* The library's pragmas (src/store/sqlite.c). */
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
               " PRAGMA foreign_keys=ON;", NULL, NULL, NULL);
  snprintf(campaign, sizeof(campaign), "01JCAMPA1GN000000000000000");
  if (sqlite3_prepare_v2(db,
        "SELECT k.contact_id, (SELECT MIN(a.address) FROM vc_contact_address"
        " a WHERE a.tenant_id = ?1 AND a.contact_id = k.contact_id AND"
        " +a.addr_kind = 1) FROM vc_contact_tag k WHERE k.tenant_id = ?1 AND"
        " k.tag = 'all' AND k.contact_id > ?2 ORDER BY k.contact_id"
        " LIMIT ?3", -1, &page, NULL) ||
      sqlite3_prepare_v2(db,
        "INSERT INTO vc_message (tenant_id, id, kind, channel_id, pinned,"
        " to_addr, subject, text_body, html_body, template_id,"
        " template_version, content_hash, status, segments, send_at,"
        " created_at, updated_at, category, contact_id, campaign_id,"
        " campaign_link) VALUES (?1, ?2, 2, NULL, 0, ?3, NULL, ?4, NULL,"
        " NULL, 1, '', 1, 1, ?5, ?5, ?5, 2, ?6, ?7, 0)", -1, &msg, NULL) ||
      sqlite3_prepare_v2(db,
        "INSERT INTO vc_job (tenant_id, id, kind, subject_id, due_at,"
        " created_at) VALUES (?1, ?2, 'message.send', ?3, ?4, ?4)", -1,
        &job, NULL) ||
      sqlite3_prepare_v2(db,
        "INSERT INTO vc_campaign_recipient (tenant_id, campaign_id,"
        " contact_id, state, link, message_id) VALUES (?1, ?2, ?3, 1, 0,"
        " ?4)", -1, &rcpt, NULL) ||
      sqlite3_prepare_v2(db,
        "INSERT INTO vc_ledger (tenant_id, id, source, source_id, kind,"
        " amount_micros, currency, period, occurred_at, provider,"
        " channel_id, prefix, created_at, campaign_id) VALUES (?1, ?2,"
        " 'message', ?3, 1, 7500, 'USD', '2026-11-27', ?4, 'sandbox-sms',"
        " '', '1', ?4, ?5)", -1, &cost, NULL) ||
      sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) ||
      sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL))
    return fail("prepare", db);
  t0 = bench_now();
  while (done < g_n) {
    long got = 0;
    sqlite3_step(begin);
    sqlite3_reset(begin);
    sqlite3_bind_text(page, 1, g_tenant_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(page, 2, cursor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(page, 3, RAW_BATCH);
    /* Rows are read and written in one pass, as a raw loop would. */
    while (sqlite3_step(page) == SQLITE_ROW) {
      const char *cid = (const char *)sqlite3_column_text(page, 0);
      const char *to = (const char *)sqlite3_column_text(page, 1);
      snprintf(mid, sizeof(mid), "01JM%022ld", seq++);
      snprintf(jid, sizeof(jid), "01JJ%022ld", seq++);
      snprintf(lid, sizeof(lid), "01JL%022ld", seq++);
      sqlite3_bind_text(msg, 1, g_tenant_id, -1, SQLITE_STATIC);
      sqlite3_bind_text(msg, 2, mid, -1, SQLITE_STATIC);
      sqlite3_bind_text(msg, 3, to, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(msg, 4, TEXT, -1, SQLITE_STATIC);
      sqlite3_bind_int64(msg, 5, now);
      sqlite3_bind_text(msg, 6, cid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(msg, 7, campaign, -1, SQLITE_STATIC);
      sqlite3_bind_text(job, 1, g_tenant_id, -1, SQLITE_STATIC);
      sqlite3_bind_text(job, 2, jid, -1, SQLITE_STATIC);
      sqlite3_bind_text(job, 3, mid, -1, SQLITE_STATIC);
      sqlite3_bind_int64(job, 4, now);
      sqlite3_bind_text(rcpt, 1, g_tenant_id, -1, SQLITE_STATIC);
      sqlite3_bind_text(rcpt, 2, campaign, -1, SQLITE_STATIC);
      sqlite3_bind_text(rcpt, 3, cid, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(rcpt, 4, mid, -1, SQLITE_STATIC);
      sqlite3_bind_text(cost, 1, g_tenant_id, -1, SQLITE_STATIC);
      sqlite3_bind_text(cost, 2, lid, -1, SQLITE_STATIC);
      sqlite3_bind_text(cost, 3, mid, -1, SQLITE_STATIC);
      sqlite3_bind_int64(cost, 4, now);
      sqlite3_bind_text(cost, 5, campaign, -1, SQLITE_STATIC);
      if (sqlite3_step(msg) != SQLITE_DONE ||
          sqlite3_step(job) != SQLITE_DONE ||
          sqlite3_step(rcpt) != SQLITE_DONE ||
          sqlite3_step(cost) != SQLITE_DONE)
        return fail("insert", db);
      sqlite3_reset(msg);
      sqlite3_reset(job);
      sqlite3_reset(rcpt);
      sqlite3_reset(cost);
      snprintf(cursor, sizeof(cursor), "%s", cid);
      got++;
    }
    sqlite3_reset(page);
    if (sqlite3_step(commit) != SQLITE_DONE)
      return fail("commit", db);
    sqlite3_reset(commit);
    done += got;
    if (got == 0)
      break;
  }
  t1 = bench_now();
  if (done != g_n)
    return fail("raw: not every recipient", NULL);
  bench_report(t1 - t0);
  sqlite3_finalize(page);
  sqlite3_finalize(msg);
  sqlite3_finalize(job);
  sqlite3_finalize(rcpt);
  sqlite3_finalize(cost);
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
  sqlite3_close(db);
  return 0;
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
  bench_stat lib = { { 0 }, 0 }, raw = { { 0 }, 0 }, ratio = { { 0 }, 0 };
  int runs = 1, quick = bench_quick_env();
  long peak_kb = 0, rss_100k = 0, rss_end = 0;
  char path[600], a[96], b[96], c[96];
  double loadavg[3] = { 0, 0, 0 };
  bench_child ch;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0)
      quick = 1;
    else if (strcmp(argv[i], "--recipients") == 0 && i + 1 < argc)
      g_n = atol(argv[++i]);
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: bench_campaign [--quick] [--recipients N]"
                      " [--runs N]\n");
      return 2;
    }
  }
  if (quick && g_n == 1000000)
    g_n = 20000;
  if (g_n < 1 || runs < 1 || runs > BENCH_MAX_RUNS)
    return 2;
  bench_dir("bench_campaign");
  getloadavg(loadavg, 3);
  printf("bench_campaign: %ld recipients, %d run(s)%s, load average %.2f"
         " %.2f %.2f\n", g_n, runs, quick ? " [quick]" : "", loadavg[0],
         loadavg[1], loadavg[2]);
  if (make_template() < 0)
    return 1;
  for (int r = 0; r < runs; r++) {
    double tl, tr;
    if (copy_db(path, sizeof(path), "raw.db") < 0 ||
        bench_run_child(&ch, run_raw, path) < 0 || ch.n < 1)
      return 1;
    tr = ch.v[0];
    bench_db_remove(path);
    if (copy_db(path, sizeof(path), "lib.db") < 0 ||
        bench_run_child(&ch, run_library, path) < 0 || ch.n < 3)
      return 1;
    tl = ch.v[0];
    bench_db_remove(path);
    if (ch.maxrss_kb > peak_kb)
      peak_kb = ch.maxrss_kb;
    rss_100k = (long)ch.v[1];
    rss_end = (long)ch.v[2];
    bench_stat_add(&lib, tl);
    bench_stat_add(&raw, tr);
    bench_stat_add(&ratio, tl / tr);
  }
  printf("  raw inserts      %s s (%.0f recipients/s)\n",
         bench_stat_fmt(a, sizeof(a), &raw, 2), g_n / bench_stat_median(&raw));
  printf("  campaign fan-out %s s (%.0f recipients/s)\n",
         bench_stat_fmt(b, sizeof(b), &lib, 2), g_n / bench_stat_median(&lib));
  printf("  fan-out / raw    %s (goal <= 2.0: %s)\n",
         bench_stat_fmt(c, sizeof(c), &ratio, 2),
         bench_stat_median(&ratio) <= 2.0 ? "meets the goal"
                                          : "ABOVE the goal");
  if (rss_100k > 0)
    printf("  resident set     %.1f MiB at 100,000, %.1f MiB at %ld\n",
           rss_100k / 1024.0, rss_end / 1024.0, g_n);
  else
    printf("  resident set     %.1f MiB at %ld\n", rss_end / 1024.0, g_n);
  printf("  peak memory      %.1f MiB (goal <= 64: %s)\n", peak_kb / 1024.0,
         peak_kb <= 64 * 1024 ? "meets the goal" : "ABOVE the goal");
  getloadavg(loadavg, 3);
  printf("  load average at the end %.2f %.2f %.2f\n", loadavg[0],
         loadavg[1], loadavg[2]);
  return 0;
}
