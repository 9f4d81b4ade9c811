/*
 * One context used from 8 threads at once, through the public API only,
 * while 2 engine threads deliver events: tenants, secrets, listing, event
 * reads, and one tenant handle shared by all (read everywhere, updated by
 * one). Afterwards every count must be exact. Runs under TSan in CI.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <time.h>

#define DB_NAME "threads.db"
#define NWORKERS 8
#define TENANTS_PER 6
#define SECRETS_PER 4
#define DELETES_PER 2
#define SHARED_UPDATES 60
#define EVENTS_PER_TENANT (1 + SECRETS_PER + DELETES_PER)
#define TOTAL_TENANTS (NWORKERS * TENANTS_PER + 1)
#define TOTAL_EVENTS (TOTAL_TENANTS + \
                      NWORKERS * TENANTS_PER * (SECRETS_PER + DELETES_PER) + \
                      SHARED_UPDATES)
#define MAX_SEEN 4096

static uint8_t master[32];

/* ---- the event callback (engine threads) -------------------------- */

typedef struct delivered {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  uint64_t seq[MAX_SEEN];
  int n;
  int out_of_order;
  int bad_payload;
} delivered;

static delivered seen = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
                          { 0 }, 0, 0, 0 };

static int on_event(const vc_event *e, void *payload)
{
  delivered *d = payload;
  size_t plen = strlen(e->payload_json);

  pthread_mutex_lock(&d->lock);
  if (d->n > 0 && e->seq <= d->seq[d->n - 1])
    d->out_of_order++;
  if (plen < 2 || e->payload_json[0] != '{' ||
      e->payload_json[plen - 1] != '}')
    d->bad_payload++;
  if (d->n < MAX_SEEN)
    d->seq[d->n++] = e->seq;
  pthread_cond_broadcast(&d->cond);
  pthread_mutex_unlock(&d->lock);
  return 0;
}

/* ---- workers ------------------------------------------------------ */

typedef struct worker {
  int id;
  vc_ctx *ctx;
  vc_tenant *shared;
  int failures;
  char tenant_ids[TENANTS_PER][VC_ID_SIZE];
} worker;

#define TCHECK(w, expr)                                                 \
  do {                                                                  \
    if (!(expr)) {                                                      \
      fprintf(stderr, "  thread %d: %s:%d: %s failed (%s)\n", (w)->id,  \
              __FILE__, __LINE__, #expr, vc_error_last()->message);     \
      (w)->failures++;                                                  \
    }                                                                   \
  } while (0)

/* Read every getter of the shared handle; the values must be whole. */
static void read_shared(worker *w)
{
  const char *slug = vc_tenant_slug(w->shared);
  const char *name = vc_tenant_name(w->shared);
  int qs = 0, qe = 0;

  TCHECK(w, slug != NULL && strcmp(slug, "shared") == 0);
  TCHECK(w, name != NULL && strncmp(name, "shared", 6) == 0);
  TCHECK(w, strcmp(vc_tenant_timezone(w->shared), "UTC") == 0);
  TCHECK(w, strcmp(vc_tenant_locale(w->shared), "en") == 0);
  TCHECK(w, strcmp(vc_tenant_currency(w->shared), "USD") == 0);
  TCHECK(w, strlen(vc_tenant_id(w->shared)) == VC_ID_SIZE - 1);
  TCHECK(w, vc_tenant_created_at(w->shared) > 0);
  TCHECK(w, vc_tenant_quiet_hours(w->shared, &qs, &qe) == 0);
  /* Always a pair that was written together. */
  TCHECK(w, (qs == VC_QUIET_NONE && qe == VC_QUIET_NONE) ||
            (qs == 60 && qe == 120) || (qs == 1320 && qe == 420));
  /* A string borrowed before an update stays readable after it. */
  TCHECK(w, strncmp(name, "shared", 6) == 0);
}

static void update_shared(worker *w, int i)
{
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  char name[32];

  snprintf(name, sizeof(name), "shared-%d", i);
  s.name = name;
  switch (i % 3) {
  case 0: s.quiet_start_min = 60; s.quiet_end_min = 120; break;
  case 1: s.quiet_start_min = 1320; s.quiet_end_min = 420; break;
  default: s.quiet_start_min = s.quiet_end_min = VC_QUIET_NONE; break;
  }
  TCHECK(w, vc_tenant_update(w->shared, &s) == 0);
}

static void *work(void *arg)
{
  worker *w = arg;
  vc_tenant *mine[TENANTS_PER] = { NULL };
  char slug[32], name[32], value[64];

  for (int k = 0; k < TENANTS_PER; k++) {
    vc_tenant_spec s = VC_TENANT_SPEC_INIT;
    snprintf(slug, sizeof(slug), "w%d-%d", w->id, k);
    s.slug = slug;
    TCHECK(w, vc_tenant_new(&mine[k], w->ctx, &s) == 0);
    if (mine[k] == NULL)
      return NULL;
    snprintf(w->tenant_ids[k], VC_ID_SIZE, "%s", vc_tenant_id(mine[k]));
    read_shared(w);
    if (w->id == 0)
      for (int u = 0; u < SHARED_UPDATES / TENANTS_PER; u++)
        update_shared(w, k * (SHARED_UPDATES / TENANTS_PER) + u);
    if (w->id == NWORKERS - 1)
      TCHECK(w, vc_ctx_run(w->ctx, 0) >= 0); /* a host iteration too */
  }

  /* Secrets: set, read back, delete some. */
  for (int k = 0; k < TENANTS_PER; k++) {
    for (int j = 0; j < SECRETS_PER; j++) {
      snprintf(name, sizeof(name), "cred.%d", j);
      snprintf(value, sizeof(value), "value-%d-%d-%d", w->id, k, j);
      TCHECK(w, vc_secret_set(mine[k], name, value, strlen(value)) == 0);
    }
    for (int r = 0; r < 50; r++)
      read_shared(w);
    for (int j = 0; j < SECRETS_PER; j++) {
      vc_buf b = VC_BUF_INIT;
      snprintf(name, sizeof(name), "cred.%d", j);
      snprintf(value, sizeof(value), "value-%d-%d-%d", w->id, k, j);
      TCHECK(w, vc_secret_get(&b, mine[k], name) == 0);
      TCHECK(w, b.ptr != NULL && strcmp(b.ptr, value) == 0);
      vc_buf_dispose(&b);
    }
    for (int j = 0; j < DELETES_PER; j++) {
      vc_buf b = VC_BUF_INIT;
      snprintf(name, sizeof(name), "cred.%d", j);
      TCHECK(w, vc_secret_delete(mine[k], name) == 0);
      TCHECK(w, vc_secret_get(&b, mine[k], name) == VC_ENOTFOUND);
    }
  }

  /* Listing: every tenant of mine shows up exactly once. */
  {
    vc_iter *it = NULL;
    vc_tenant *t = NULL;
    int found[TENANTS_PER] = { 0 }, total = 0, rc = VC_ERROR;
    TCHECK(w, vc_tenant_list(&it, w->ctx, NULL) == 0);
    while (it != NULL && (rc = vc_tenant_next(&t, it)) == 0) {
      for (int k = 0; k < TENANTS_PER; k++)
        if (strcmp(vc_tenant_id(t), w->tenant_ids[k]) == 0)
          found[k]++;
      total++;
      vc_tenant_free(t);
    }
    TCHECK(w, rc == VC_ITEROVER);
    vc_iter_free(it);
    for (int k = 0; k < TENANTS_PER; k++)
      TCHECK(w, found[k] == 1);
    TCHECK(w, total >= TENANTS_PER + 1 && total <= TOTAL_TENANTS);
  }

  /* Events: exactly mine, in order, per tenant. */
  for (int k = 0; k < TENANTS_PER; k++) {
    vc_iter *it = NULL;
    const vc_event *e = NULL;
    uint64_t last = 0;
    int n = 0, rc = VC_ERROR;
    TCHECK(w, vc_events_since(&it, mine[k], 0) == 0);
    while (it != NULL && (rc = vc_event_next(&e, it)) == 0) {
      TCHECK(w, strcmp(e->tenant_id, w->tenant_ids[k]) == 0);
      TCHECK(w, e->seq > last);
      last = e->seq;
      n++;
    }
    TCHECK(w, rc == VC_ITEROVER);
    vc_iter_free(it);
    TCHECK(w, n == EVENTS_PER_TENANT);
    read_shared(w);
  }

  for (int k = 0; k < TENANTS_PER; k++)
    vc_tenant_free(mine[k]);
  return NULL;
}

/* ---- helpers ------------------------------------------------------ */

static int64_t raw_count(const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int64_t n = -1;

  if (sqlite3_open_v2(vc_test_path(DB_NAME), &db, SQLITE_OPEN_READONLY,
                      NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static int wait_delivered(int n, int seconds)
{
  struct timespec deadline;
  int got;

  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += seconds;
  pthread_mutex_lock(&seen.lock);
  while (seen.n < n)
    if (pthread_cond_timedwait(&seen.cond, &seen.lock, &deadline) ==
        ETIMEDOUT)
      break;
  got = seen.n;
  pthread_mutex_unlock(&seen.lock);
  return got;
}

/* ---- the case ----------------------------------------------------- */

static void test_threads__one_context_many_threads(void)
{
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *shared = NULL;
  static worker w[NWORKERS];
  pthread_t th[NWORKERS];
  int rc, failures = 0;

  for (int i = 0; i < 32; i++)
    master[i] = (uint8_t)(i * 7 + 1);
  mk.key = master;
  mk.key_len = 32;
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(DB_NAME), NULL));
  o.store = store;
  o.master_key = &mk;
  rc = vc_ctx_new(&ctx, &o);
  if (rc != 0)
    vc_store_free(store);
  CHECK_OK(rc);

  s.slug = "shared";
  s.name = "shared-initial";
  CHECK_OK(vc_tenant_new(&shared, ctx, &s));
  CHECK_OK(vc_ctx_set_event_cb(ctx, on_event, &seen));
  CHECK_OK(vc_ctx_start(ctx, 2));

  for (int i = 0; i < NWORKERS; i++) {
    w[i].id = i;
    w[i].ctx = ctx;
    w[i].shared = shared;
    w[i].failures = 0;
    CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0);
  }
  for (int i = 0; i < NWORKERS; i++) {
    pthread_join(th[i], NULL);
    failures += w[i].failures;
  }
  CHECK(failures == 0);

  /* Exact counts in the store. */
  CHECK(raw_count("SELECT COUNT(*) FROM vc_tenant") == TOTAL_TENANTS);
  CHECK(raw_count("SELECT COUNT(DISTINCT slug) FROM vc_tenant") ==
        TOTAL_TENANTS);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_secret") ==
        NWORKERS * TENANTS_PER * (SECRETS_PER - DELETES_PER));
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event") == TOTAL_EVENTS);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event WHERE type = "
                  "'tenant.updated'") == SHARED_UPDATES);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event WHERE type = "
                  "'secret.set'") == NWORKERS * TENANTS_PER * SECRETS_PER);

  /* Through the API: the list, and the shared handle's final state. */
  {
    vc_iter *it = NULL;
    vc_tenant *t = NULL;
    int n = 0;
    CHECK_OK(vc_tenant_list(&it, ctx, NULL));
    while ((rc = vc_tenant_next(&t, it)) == 0) {
      n++;
      vc_tenant_free(t);
    }
    vc_iter_free(it);
    CHECK_RC(rc, VC_ITEROVER);
    CHECK(n == TOTAL_TENANTS);
  }
  {
    char want[32];
    vc_tenant *fresh = NULL;
    snprintf(want, sizeof(want), "shared-%d", SHARED_UPDATES - 1);
    CHECK_STR(vc_tenant_name(shared), want);
    CHECK_OK(vc_tenant_lookup(&fresh, ctx, "shared"));
    CHECK_STR(vc_tenant_name(fresh), want);
    vc_tenant_free(fresh);
  }

  /* Every event reached the callback once, in order. */
  CHECK(wait_delivered(TOTAL_EVENTS, 60) == TOTAL_EVENTS);
  CHECK_OK(vc_ctx_stop(ctx));
  pthread_mutex_lock(&seen.lock);
  rc = seen.n == TOTAL_EVENTS && seen.out_of_order == 0 &&
       seen.bad_payload == 0;
  pthread_mutex_unlock(&seen.lock);
  CHECK(rc);
  CHECK_RC(vc_ctx_run(ctx, 0), 0); /* nothing left over */

  vc_tenant_free(shared);
  vc_ctx_free(ctx);
}

/* ---- concurrent sends (group commit) ----------------------------- */

#define SENDERS 16
#define SENDS_PER 40

typedef struct sender {
  vc_tenant *t;
  int id;
  int failures, conflicts;
  char same_id[32], clash_id[32];
} sender;

static void *send_many(void *arg)
{
  sender *sd = arg;
  char id[32], text[64];

  for (int i = 0; i < SENDS_PER; i++) {
    vc_message_spec m = VC_MESSAGE_SPEC_INIT;
    m.kind = VC_CHANNEL_SMS;
    m.to = "+14155550123";
    snprintf(text, sizeof(text), "sender %d message %d", sd->id, i);
    m.text = text;
    if (vc_message_send(id, sd->t, &m) != 0 || strlen(id) != 26)
      sd->failures++;
    if (i == SENDS_PER / 2) {
      /* Every sender the same key and content: one message. */
      m.text = "same";
      m.idempotency_key = "same";
      if (vc_message_send(sd->same_id, sd->t, &m) != 0)
        sd->failures++;
      /* The same key with each sender's own content: one wins. */
      m.text = text;
      m.idempotency_key = "clash";
      if ((vc_message_send(sd->clash_id, sd->t, &m)) == VC_ECONFLICT &&
          vc_error_last()->code == VC_ECONFLICT)
        sd->conflicts++;
    }
  }
  return NULL;
}

/* 16 threads sending at once: every send stored once with its job and
 * event, idempotency keys honoured across the threads' shared commits. */
static void test_threads__concurrent_sends(void)
{
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;
  static sender sd[SENDERS];
  pthread_t th[SENDERS];
  int failures = 0, conflicts = 0;
  const int64_t total = SENDERS * SENDS_PER + 2;

  remove(vc_test_path(DB_NAME));
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(DB_NAME), NULL));
  o.store = store;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  ts.slug = "senders";
  CHECK_OK(vc_tenant_new(&t, ctx, &ts));
  for (int i = 0; i < SENDERS; i++) {
    sd[i].t = t;
    sd[i].id = i;
    CHECK(pthread_create(&th[i], NULL, send_many, &sd[i]) == 0);
  }
  for (int i = 0; i < SENDERS; i++) {
    pthread_join(th[i], NULL);
    failures += sd[i].failures;
    conflicts += sd[i].conflicts;
  }
  CHECK(failures == 0);
  CHECK(conflicts == SENDERS - 1);
  for (int i = 1; i < SENDERS; i++)
    CHECK_STR(sd[i].same_id, sd[0].same_id);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_message") == total);
  CHECK(raw_count("SELECT COUNT(DISTINCT id) FROM vc_message") == total);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_job WHERE kind = "
                  "'message.send'") == total);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event WHERE type = "
                  "'message.queued'") == total);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

VC_TESTS(
  VC_TEST(test_threads__one_context_many_threads),
  VC_TEST(test_threads__concurrent_sends),
)
