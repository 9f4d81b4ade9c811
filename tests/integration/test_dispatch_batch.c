/*
 * The dispatcher records a batch's plain `sent` outcomes together (one
 * UPDATE per 64 messages of a tenant and channel, one INSERT of their
 * events, one rollup upsert per group): through the public API, SQLite
 * on disk and an injected clock, with a test adapter that sends nothing.
 * Every message gets its provider id, one message.sent event and its
 * count, over several chunks of 64 and two tenants that never see each
 * other's; a message that moved while its request ran (a delivery
 * report overtook it) is left as it is; a tenant with automation rules
 * on messages still sees each event followed by its rule's run.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "vyomcomm/sys/adapter.h"
#include "harness.h"
#include "local_adapter.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#define DB_NAME "batch.db"
#define T0 1700000000000LL
#define N 150                /* three chunks of up to 64 per tenant */

static int64_t g_now = T0;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return g_now;
}

/* ---- a test adapter: accepts everything locally ------------------------ */

/* Set by a test: the recipient whose message is reported delivered (by
 * a side connection) while its request "runs". */
static const char *g_overtaken = NULL;
/* Set by a test: the message whose sends are counted in g_sends. */
static const char *g_counted = NULL;
static int g_sends;

static int ta_parse(void *state, const vc_outbound *msg,
                    const vc_http_response *res, vc_send_result *out)
{
  if (g_counted != NULL && strcmp(msg->message_id, g_counted) == 0)
    g_sends++;
  if (g_overtaken != NULL && strcmp(msg->to, g_overtaken) == 0) {
    /* The dispatcher records outcomes after parsing them all: this
     * status is what it finds when it does. */
    sqlite3 *db;
    char sql[160];
    CHECK(sqlite3_open(vc_test_path(DB_NAME), &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    snprintf(sql, sizeof(sql),
             "UPDATE vc_message SET status = 4 WHERE id = '%s'",
             msg->message_id);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
  }
  return local_accept(state, msg, res, out);
}

static int ta_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  (void)state;
  (void)req;
  (void)sink;
  return VC_ENOTSUPPORTED;
}

static const vc_adapter TEST_ADAPTER = {
  VC_ADAPTER_VERSION, "test-local", VC_CHANNEL_SMS, VC_CAP_LOCAL,
  local_init, local_fini, local_build, ta_parse, local_verify_any,
  ta_parse_webhook
};

/* ---- fixture ------------------------------------------------------------ */

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t, *other;
  char ch[VC_ID_SIZE], other_ch[VC_ID_SIZE];
} env;

static void channel_new(vc_tenant *t, char id[VC_ID_SIZE])
{
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  cs.name = "local";
  cs.provider = "test-local";
  cs.sender = "+15550001111";
  CHECK_OK(vc_channel_new(&ch, t, &cs));
  snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void env_open(env *e)
{
  static const uint8_t key[32] = { 3, 1, 4 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;

  g_now = T0;
  g_overtaken = NULL;
  g_counted = NULL;
  g_sends = 0;
  remove(vc_test_path(DB_NAME));
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(DB_NAME), NULL));
  mk.key = key;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = test_clock;
  o.random_seed = 9;
  o.public_base_url = "https://erp.example.com";
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  CHECK_OK(vc_adapter_register(e->ctx, &TEST_ADAPTER));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  ts.slug = "globex";
  CHECK_OK(vc_tenant_new(&e->other, e->ctx, &ts));
  channel_new(e->t, e->ch);
  channel_new(e->other, e->other_ch);
}

static void env_close(env *e)
{
  vc_tenant_free(e->other);
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

static void drain(env *e)
{
  for (int i = 0; i < 1000 && vc_ctx_run(e->ctx, 0) > 0; i++)
    ;
}

static void send_to(vc_tenant *t, const char *to, char id[VC_ID_SIZE])
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;

  s.channel = "local";
  s.to = to;
  s.text = "hello";
  CHECK_OK(vc_message_send(id, t, &s));
}

static void number(char out[16], int i)
{
  snprintf(out, 16, "+1415555%04d", i);
}

static int count_rows(const char *sql)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  int n = -1;

  CHECK(sqlite3_open(vc_test_path(DB_NAME), &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

/* A tenant's events of `type` (all types when NULL) about `subject`
 * (any when NULL). */
static int events(vc_tenant *t, const char *type, const char *subject)
{
  const vc_event *ev;
  vc_iter *it;
  int n = 0;

  CHECK_OK(vc_events_since(&it, t, 0));
  while (vc_event_next(&ev, it) == 0)
    if ((type == NULL || strcmp(ev->type, type) == 0) &&
        (subject == NULL || strcmp(ev->subject_id, subject) == 0))
      n++;
  vc_iter_free(it);
  return n;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_dispatch_batch__every_message_sent_once(void)
{
  static char ids[N][VC_ID_SIZE], other[N][VC_ID_SIZE];
  char sql[256];
  env e;

  env_open(&e);
  for (int i = 0; i < N; i++) {
    char to[16];
    number(to, i);
    send_to(e.t, to, ids[i]);
    send_to(e.other, to, other[i]);
  }
  g_now += 1000;
  drain(&e);
  for (int i = 0; i < N; i++) {
    vc_message *m;
    char pid[VC_ID_SIZE + 2];
    CHECK_OK(vc_message_lookup(&m, e.t, ids[i]));
    CHECK(vc_message_status(m) == VC_MSG_SENT);
    snprintf(pid, sizeof(pid), "P-%s", ids[i]);
    CHECK(strcmp(vc_message_provider_id(m), pid) == 0);
    CHECK(strcmp(vc_message_channel_id(m), e.ch) == 0);
    CHECK(vc_message_updated_at(m) == g_now);
    vc_message_free(m);
    /* One event per move; none of them the other tenant's. */
    CHECK(events(e.t, "message.sent", ids[i]) == 1);
    CHECK(events(e.t, NULL, other[i]) == 0);
    CHECK(events(e.other, "message.sent", other[i]) == 1);
    CHECK(events(e.other, NULL, ids[i]) == 0);
    /* Another tenant cannot read it either. */
    CHECK(vc_message_lookup(&m, e.other, ids[i]) == VC_ENOTFOUND);
  }
  CHECK(events(e.t, "message.sent", NULL) == N);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_event WHERE type ="
                   " 'message.sent' AND payload = '{\"status\":\"sent\","
                   "\"previous\":\"sending\",\"error\":0}'") == 2 * N);
  /* The rollups count each tenant's messages on its own channel. */
  snprintf(sql, sizeof(sql),
           "SELECT SUM(n) FROM vc_stats_message WHERE status = 3 AND"
           " channel_id = '%s' AND tenant_id = '%s'", e.ch,
           vc_tenant_id(e.t));
  CHECK(count_rows(sql) == N);
  snprintf(sql, sizeof(sql),
           "SELECT SUM(n) FROM vc_stats_message WHERE status = 3 AND"
           " channel_id = '%s' AND tenant_id = '%s'", e.other_ch,
           vc_tenant_id(e.other));
  CHECK(count_rows(sql) == N);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 0);
  env_close(&e);
}

static void test_dispatch_batch__overtaken_message_left_alone(void)
{
  static char ids[N][VC_ID_SIZE];
  char late[16];
  int overtaken = 70; /* in the second chunk of 64 */
  vc_message *m;
  env e;

  env_open(&e);
  for (int i = 0; i < N; i++) {
    char to[16];
    number(to, i);
    send_to(e.t, to, ids[i]);
  }
  number(late, overtaken);
  g_overtaken = late;
  g_now += 1000;
  drain(&e);
  g_overtaken = NULL;
  /* Delivered stays delivered: no `sent` over it, no event, no count. */
  CHECK_OK(vc_message_lookup(&m, e.t, ids[overtaken]));
  CHECK(vc_message_status(m) == VC_MSG_DELIVERED);
  vc_message_free(m);
  CHECK(events(e.t, "message.sent", ids[overtaken]) == 0);
  for (int i = 0; i < N; i++) {
    if (i == overtaken)
      continue;
    CHECK_OK(vc_message_lookup(&m, e.t, ids[i]));
    CHECK(vc_message_status(m) == VC_MSG_SENT);
    vc_message_free(m);
    CHECK(events(e.t, "message.sent", ids[i]) == 1);
  }
  CHECK(count_rows("SELECT SUM(n) FROM vc_stats_message WHERE status = 3")
        == N - 1);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 0);
  env_close(&e);
}

static void test_dispatch_batch__rules_see_each_event(void)
{
  static char ids[N][VC_ID_SIZE];
  vc_rule_action a;
  vc_rule_spec s;
  vc_rule *r;
  const vc_event *ev;
  vc_iter *it;
  char last[64] = "";
  int sent = 0, ran = 0;
  env e;

  env_open(&e);
  for (int i = 0; i < N; i++) {
    char to[16], contact[VC_ID_SIZE];
    vc_contact_spec cs = VC_CONTACT_SPEC_INIT;
    number(to, i);
    cs.phone = to;
    CHECK_OK(vc_contact_upsert(contact, e.t, &cs));
    send_to(e.t, to, ids[i]);
  }
  vc_rule_action_init(&a, VC_RULE_ACTION_VERSION);
  a.kind = VC_RULE_TAG_CONTACT;
  a.tag = "reached";
  vc_rule_spec_init(&s, VC_RULE_SPEC_VERSION);
  s.name = "reached";
  s.trigger = VC_RULE_ON_MESSAGE;
  s.states = 1u << VC_MSG_SENT;
  s.actions = &a;
  s.nactions = 1;
  CHECK_OK(vc_rule_new(&r, e.t, &s));
  vc_rule_free(r);
  g_now += 1000;
  drain(&e);
  /* Each rule run follows its message's event, before the next
   * message's: one change at a time, as without the batch. */
  CHECK_OK(vc_events_since(&it, e.t, 0));
  while (vc_event_next(&ev, it) == 0) {
    if (strcmp(ev->type, "message.sent") == 0) {
      CHECK(last[0] == '\0'); /* the previous one's rule ran */
      snprintf(last, sizeof(last), "\"subject_id\":\"%s\"",
               ev->subject_id);
      sent++;
    } else if (strcmp(ev->type, "rule.ran") == 0) {
      CHECK(last[0] != '\0' && strstr(ev->payload_json, last) != NULL);
      last[0] = '\0';
      ran++;
    }
  }
  vc_iter_free(it);
  CHECK(sent == N);
  CHECK(ran == N);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_contact_tag WHERE tag ="
                   " 'reached'") == N);
  CHECK(count_rows("SELECT SUM(n) FROM vc_stats_message WHERE status = 3")
        == N);
  env_close(&e);
}

/* Step 2 marks the messages step 1 read as queued with one UPDATE and
 * one INSERT of their message.sending events built from the ids it
 * returned; a message already `sending` (a batch repeated after a crash)
 * is marked again without a second event. */
static void test_dispatch_batch__sending_marked_once(void)
{
  static char ids[N][VC_ID_SIZE], other[N][VC_ID_SIZE];
  int again[] = { 5, 70, 149 }; /* in each chunk of 64 */
  char sql[200];
  env e;

  env_open(&e);
  for (int i = 0; i < N; i++) {
    char to[16];
    number(to, i);
    send_to(e.t, to, ids[i]);
    send_to(e.other, to, other[i]);
  }
  for (size_t k = 0; k < sizeof(again) / sizeof(again[0]); k++) {
    /* As a crash after step 2's commit leaves it. */
    snprintf(sql, sizeof(sql), "UPDATE vc_message SET status = 2,"
             " attempts = 1 WHERE id = '%s'", ids[again[k]]);
    CHECK(count_rows(sql) == -1); /* no row: the UPDATE ran */
  }
  g_now += 1000;
  drain(&e);
  for (int i = 0; i < N; i++) {
    int was_sending = 0;
    vc_message *m;
    for (size_t k = 0; k < sizeof(again) / sizeof(again[0]); k++)
      was_sending |= again[k] == i;
    CHECK_OK(vc_message_lookup(&m, e.t, ids[i]));
    CHECK(vc_message_status(m) == VC_MSG_SENT);
    CHECK(vc_message_attempts(m) == (was_sending ? 2 : 1));
    vc_message_free(m);
    CHECK(events(e.t, "message.sending", ids[i]) == (was_sending ? 0 : 1));
    CHECK(events(e.t, "message.sent", ids[i]) == 1);
    CHECK(events(e.other, "message.sending", other[i]) == 1);
    /* Neither tenant sees the other's events. */
    CHECK(events(e.t, NULL, other[i]) == 0);
    CHECK(events(e.other, NULL, ids[i]) == 0);
  }
  CHECK(count_rows("SELECT COUNT(*) FROM vc_event WHERE type ="
                   " 'message.sending' AND payload = '{\"status\":"
                   "\"sending\",\"previous\":\"queued\",\"error\":0}'")
        == 2 * N - 3);
  /* Each message's sending event comes before its sent event. */
  snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM vc_event a JOIN vc_event"
           " b ON a.subject_id = b.subject_id WHERE a.type ="
           " 'message.sending' AND b.type = 'message.sent' AND a.seq > b.seq");
  CHECK(count_rows(sql) == 0);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 0);
  env_close(&e);
}

/* Two message.send jobs of one message in one batch: it is marked and
 * sent once, and both jobs end. */
static void test_dispatch_batch__two_jobs_of_a_message(void)
{
  char ids[3][VC_ID_SIZE], sql[400];
  env e;

  env_open(&e);
  send_to(e.t, "+14155550001", ids[0]);
  send_to(e.t, "+14155550002", ids[1]);
  send_to(e.t, "+14155550003", ids[2]);
  snprintf(sql, sizeof(sql), "INSERT INTO vc_job (tenant_id, id, kind,"
           " subject_id, due_at, created_at) SELECT tenant_id,"
           " '01HZZZZZZZZZZZZZZZZZZZZZZZ', kind, subject_id, due_at,"
           " created_at FROM vc_job WHERE subject_id = '%s'", ids[1]);
  CHECK(count_rows(sql) == -1); /* no row: the INSERT ran */
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 4);
  g_counted = ids[1];
  g_now += 1000;
  drain(&e);
  CHECK(g_sends == 1);
  for (int i = 0; i < 3; i++) {
    vc_message *m;
    CHECK_OK(vc_message_lookup(&m, e.t, ids[i]));
    CHECK(vc_message_status(m) == VC_MSG_SENT);
    CHECK(vc_message_attempts(m) == 1);
    vc_message_free(m);
    CHECK(events(e.t, "message.sending", ids[i]) == 1);
    CHECK(events(e.t, "message.sent", ids[i]) == 1);
  }
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 0);
  env_close(&e);
}

/* The plan of `sql` on the store names `index` (schema 25 keyed two
 * indexes on their deciding column first: the queries that filter by
 * tenant and that column must still search them). */
static int plan_uses(const char *sql, const char *index)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  char q[600];
  int found = 0;

  snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
  CHECK(sqlite3_open(vc_test_path(DB_NAME), &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *d = (const char *)sqlite3_column_text(st, 3);
    if (d != NULL && strstr(d, index) != NULL &&
        strncmp(d, "SEARCH", 6) == 0)
      found = 1;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return found;
}

static void test_dispatch_batch__indexes_still_searched(void)
{
  env e;

  env_open(&e);
  /* A webhook's lookup of a message by its provider id. */
  CHECK(plan_uses("SELECT id FROM vc_message WHERE tenant_id = ?1"
                  " AND channel_id = ?2 AND provider_id = ?3",
                  "vc_message_provider"));
  /* A canceled message's job; a campaign's jobs. */
  CHECK(plan_uses("DELETE FROM vc_job WHERE tenant_id = ?1"
                  " AND subject_id = ?2 AND kind = 'message.send'",
                  "vc_job_subject"));
  CHECK(plan_uses("DELETE FROM vc_job WHERE tenant_id = ?1 AND kind ="
                  " 'message.send' AND subject_id IN (SELECT id FROM"
                  " vc_message WHERE tenant_id = ?1 AND campaign_id = ?2"
                  " AND status = 1)", "vc_job_subject"));
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_dispatch_batch__every_message_sent_once),
  VC_TEST(test_dispatch_batch__overtaken_message_left_alone),
  VC_TEST(test_dispatch_batch__rules_see_each_event),
  VC_TEST(test_dispatch_batch__sending_marked_once),
  VC_TEST(test_dispatch_batch__two_jobs_of_a_message),
  VC_TEST(test_dispatch_batch__indexes_still_searched),
)
