/*
 * Agents through the public API only, on an SQLite file with an injected
 * clock: create with defaults, getters, numbers (E.164 and sip: URIs)
 * and every refusal of bad input with nothing stored, lookup by id and
 * name, update, the API's table of state moves, the activity log with
 * its cursor and filters, the figures of a period, listing with a state
 * filter and a cursor, agent.* events, and isolation between tenants.
 * Call-driven moves are tested on the hooks in tests/unit (the call core
 * is not on this branch).
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <sqlite3.h>

#define T0 1700000000000LL
#define SEC 1000LL

static int64_t now_ms = T0;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return now_ms;
}

static vc_ctx *open_ctx(void)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;

  now_ms = T0;
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("agent.db"), NULL));
  o.store = store;
  o.clock_cb = test_clock;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  return ctx;
}

static vc_tenant *new_tenant(vc_ctx *ctx, const char *slug)
{
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;

  s.slug = slug;
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  return t;
}

static vc_agent *new_agent(vc_tenant *t, const char *name,
                           const char *number)
{
  vc_agent_spec s = VC_AGENT_SPEC_INIT;
  vc_agent *a = NULL;

  s.name = name;
  s.number = number;
  CHECK_OK(vc_agent_new(&a, t, &s));
  return a;
}

/* Rows of a table, read from the file with sqlite3. */
static int rows(const char *table)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  char sql[128];
  int n = -1;

  CHECK(sqlite3_open(vc_test_path("agent.db"), &db) == SQLITE_OK);
  snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static void test_agent__create_and_lookup(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_agent_spec s = VC_AGENT_SPEC_INIT;
  vc_agent *a = NULL, *b = NULL, *c = NULL;

  s.name = "alice";
  s.display_name = "Alice Ray";
  s.number = "+14155550100";
  s.metadata_json = "{\"team\":\"north\"}";
  CHECK_OK(vc_agent_new(&a, t, &s));
  CHECK(strlen(vc_agent_id(a)) == 26);
  CHECK_STR(vc_agent_tenant_id(a), vc_tenant_id(t));
  CHECK_STR(vc_agent_name(a), "alice");
  CHECK_STR(vc_agent_display_name(a), "Alice Ray");
  CHECK_STR(vc_agent_number(a), "+14155550100");
  CHECK_STR(vc_agent_metadata_json(a), "{\"team\":\"north\"}");
  CHECK(vc_agent_wrap_up_seconds(a) == VC_AGENT_WRAP_UP_DEFAULT);
  CHECK(vc_agent_state_of(a) == VC_AGENT_OFFLINE);
  CHECK_STR(vc_agent_reason(a), "");
  CHECK_STR(vc_agent_call_id(a), "");
  CHECK(vc_agent_state_since(a) == T0);
  CHECK(vc_agent_created_at(a) == T0 && vc_agent_updated_at(a) == T0);
  CHECK(vc_agent_wrap_up_until(a) == 0);

  /* A SIP URI, wrap-up 0, no display name or metadata. */
  s.name = "bob.2";
  s.display_name = NULL;
  s.number = "sips:bob@pbx.example.com:5061;transport=tls";
  s.metadata_json = NULL;
  s.wrap_up_s = 0;
  CHECK_OK(vc_agent_new(NULL, t, &s));
  CHECK_OK(vc_agent_lookup(&b, t, "bob.2"));
  CHECK_STR(vc_agent_number(b), s.number);
  CHECK(vc_agent_wrap_up_seconds(b) == 0);
  CHECK_STR(vc_agent_display_name(b), "");
  CHECK_STR(vc_agent_metadata_json(b), "");
  CHECK_OK(vc_agent_lookup(&c, t, vc_agent_id(a)));
  CHECK_STR(vc_agent_name(c), "alice");
  vc_agent_free(c);
  c = NULL;
  CHECK_RC(vc_agent_lookup(&c, t, "carol"), VC_ENOTFOUND);
  CHECK(c == NULL);
  CHECK_RC(vc_agent_lookup(&c, t, "Bad Name"), VC_EINVALID);
  CHECK_RC(vc_agent_lookup(&c, t, NULL), VC_EINVALID);
  vc_agent_free(a);
  vc_agent_free(b);
  vc_agent_free(NULL);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_agent__bad_input(void)
{
  static const struct {
    const char *name, *number;
    int wrap_up_s;
    const char *metadata;
    int rc;
  } bad[] = {
    { NULL, "+14155550100", -1, NULL, VC_EINVALID },
    { "", "+14155550100", -1, NULL, VC_EINVALID },
    { "Alice", "+14155550100", -1, NULL, VC_EINVALID },
    { "-alice", "+14155550100", -1, NULL, VC_EINVALID },
    { "al ice", "+14155550100", -1, NULL, VC_EINVALID },
    { "a234567890123456789012345678901234567890123456789012345678901234x",
      "+14155550100", -1, NULL, VC_ETOOBIG },
    { "alice", NULL, -1, NULL, VC_EINVALID },
    { "alice", "", -1, NULL, VC_EINVALID },
    { "alice", "14155550100", -1, NULL, VC_EINVALID },
    { "alice", "+0155550100", -1, NULL, VC_EINVALID },
    { "alice", "+1 415 555 0100", -1, NULL, VC_EINVALID },
    { "alice", "+1415555010012345", -1, NULL, VC_EINVALID },
    { "alice", "sip:", -1, NULL, VC_EINVALID },
    { "alice", "sip:@host", -1, NULL, VC_EINVALID },
    { "alice", "sip:a@b@c", -1, NULL, VC_EINVALID },
    { "alice", "sip:alice smith@host", -1, NULL, VC_EINVALID },
    { "alice", "sip:alice@host\r\nX: y", -1, NULL, VC_EINVALID },
    { "alice", "sip:<alice@host>", -1, NULL, VC_EINVALID },
    { "alice", "tel:+14155550100", -1, NULL, VC_EINVALID },
    { "alice", "+14155550100", 3601, NULL, VC_EINVALID },
    { "alice", "+14155550100", -1, "[1]", VC_EINVALID },
    { "alice", "+14155550100", -1, "{", VC_EINVALID },
  };
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_agent_spec s = VC_AGENT_SPEC_INIT;
  char longnum[300], bigmeta[9000];
  vc_agent *a = NULL;

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    s.name = bad[i].name;
    s.number = bad[i].number;
    s.wrap_up_s = bad[i].wrap_up_s;
    s.metadata_json = bad[i].metadata;
    if (vc_agent_new(&a, t, &s) != bad[i].rc) {
      fprintf(stderr, "  case %zu: %s\n", i, vc_error_last()->message);
      CHECK(0);
    }
    CHECK(a == NULL);
    CHECK(vc_error_last()->message[0] != '\0');
  }
  s.name = "alice";
  memset(longnum, 'a', sizeof(longnum));
  memcpy(longnum, "sip:", 4);
  longnum[sizeof(longnum) - 1] = '\0';
  s.number = longnum;
  s.metadata_json = NULL;
  s.wrap_up_s = -1;
  CHECK_RC(vc_agent_new(&a, t, &s), VC_ETOOBIG);
  s.number = "+14155550100";
  memset(bigmeta, ' ', sizeof(bigmeta));
  memcpy(bigmeta, "{}", 2);
  bigmeta[sizeof(bigmeta) - 1] = '\0';
  s.metadata_json = bigmeta;
  CHECK_RC(vc_agent_new(&a, t, &s), VC_ETOOBIG);
  s.metadata_json = NULL;
  s.display_name = "Alice\nRay";
  CHECK_RC(vc_agent_new(&a, t, &s), VC_EINVALID);
  s.display_name = "\xff\xfe";
  CHECK_RC(vc_agent_new(&a, t, &s), VC_EENCODING);
  s.display_name = NULL;
  s.version = 2;
  CHECK_RC(vc_agent_new(&a, t, &s), VC_EVERSION);
  s.version = VC_AGENT_SPEC_VERSION;
  CHECK_RC(vc_agent_new(&a, NULL, &s), VC_EINVALID);
  CHECK_RC(vc_agent_new(&a, t, NULL), VC_EINVALID);
  /* Nothing was stored by any of them. */
  CHECK(rows("vc_agent") == 0);
  CHECK(rows("vc_agent_activity") == 0);
  /* A name is unique per tenant. */
  CHECK_OK(vc_agent_new(&a, t, &s));
  vc_agent_free(a);
  s.number = "sip:other@example.com";
  CHECK_RC(vc_agent_new(&a, t, &s), VC_EEXISTS);
  CHECK(rows("vc_agent") == 1);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_agent__update(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_agent *a = new_agent(t, "alice", "+14155550100");
  vc_agent *b = new_agent(t, "bob", "+14155550101");
  vc_agent_spec s = VC_AGENT_SPEC_INIT;
  const char *old_name = vc_agent_name(a);

  now_ms = T0 + 5 * SEC;
  s.number = "sip:alice@pbx.example.com";
  s.wrap_up_s = 90;
  s.display_name = "Alice";
  CHECK_OK(vc_agent_update(a, &s));
  CHECK_STR(vc_agent_number(a), "sip:alice@pbx.example.com");
  CHECK(vc_agent_wrap_up_seconds(a) == 90);
  CHECK_STR(vc_agent_display_name(a), "Alice");
  CHECK_STR(vc_agent_name(a), "alice");
  CHECK(vc_agent_updated_at(a) == T0 + 5 * SEC);
  /* A string borrowed before stays valid. */
  CHECK_STR(old_name, "alice");
  s = (vc_agent_spec)VC_AGENT_SPEC_INIT;
  s.name = "bob";
  CHECK_RC(vc_agent_update(a, &s), VC_EEXISTS);
  s.name = "Bob!";
  CHECK_RC(vc_agent_update(a, &s), VC_EINVALID);
  s.name = NULL;
  s.number = "12345";
  CHECK_RC(vc_agent_update(a, &s), VC_EINVALID);
  s.number = NULL;
  s.wrap_up_s = 4000;
  CHECK_RC(vc_agent_update(a, &s), VC_EINVALID);
  CHECK_OK(vc_agent_refresh(a));
  CHECK_STR(vc_agent_name(a), "alice");
  CHECK(vc_agent_wrap_up_seconds(a) == 90);
  s.wrap_up_s = -1;
  s.name = "alice2";
  s.metadata_json = "{\"k\":1}";
  CHECK_OK(vc_agent_update(a, &s));
  CHECK_STR(vc_agent_name(a), "alice2");
  CHECK_STR(vc_agent_metadata_json(a), "{\"k\":1}");
  CHECK_STR(vc_agent_number(a), "sip:alice@pbx.example.com");
  vc_agent_free(a);
  vc_agent_free(b);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

/* The API's moves (agent.h's table), the log, and the figures. */
static void test_agent__states(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_agent *a = new_agent(t, "alice", "+14155550100");
  vc_agent_totals tot = VC_AGENT_TOTALS_INIT;
  vc_agent_activity_filter f = VC_AGENT_ACTIVITY_FILTER_INIT;
  static const struct { int from, to, cause; const char *reason; } want[] = {
    { 0, VC_AGENT_OFFLINE, VC_AGENT_CAUSE_API, "" },
    { VC_AGENT_OFFLINE, VC_AGENT_AVAILABLE, VC_AGENT_CAUSE_API, "" },
    { VC_AGENT_AVAILABLE, VC_AGENT_BREAK, VC_AGENT_CAUSE_API, "lunch" },
    { VC_AGENT_BREAK, VC_AGENT_BREAK, VC_AGENT_CAUSE_API, "training" },
    { VC_AGENT_BREAK, VC_AGENT_AVAILABLE, VC_AGENT_CAUSE_API, "" },
    { VC_AGENT_AVAILABLE, VC_AGENT_OFFLINE, VC_AGENT_CAUSE_API, "shift" },
  };
  vc_agent_change *c;
  vc_iter *it;
  char cursor[64];
  size_t n = 0;

  now_ms = T0 + 10 * SEC;
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
  CHECK(vc_agent_state_of(a) == VC_AGENT_AVAILABLE);
  CHECK(vc_agent_state_since(a) == T0 + 10 * SEC);
  /* Again: nothing changes, nothing is logged. */
  now_ms = T0 + 20 * SEC;
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
  CHECK(vc_agent_state_since(a) == T0 + 10 * SEC);
  /* Refused moves. */
  CHECK_RC(vc_agent_set_state(a, VC_AGENT_BREAK, NULL), VC_EINVALID);
  CHECK_RC(vc_agent_set_state(a, VC_AGENT_BREAK, ""), VC_EINVALID);
  CHECK_RC(vc_agent_set_state(a, VC_AGENT_RINGING, NULL), VC_EINVALID);
  CHECK_RC(vc_agent_set_state(a, VC_AGENT_ON_CALL, NULL), VC_EINVALID);
  CHECK_RC(vc_agent_set_state(a, VC_AGENT_WRAP_UP, NULL), VC_EINVALID);
  CHECK_RC(vc_agent_set_state(a, 0, NULL), VC_EINVALID);
  CHECK_RC(vc_agent_set_state(a, 7, NULL), VC_EINVALID);
  CHECK_RC(vc_agent_set_state(a, VC_AGENT_BREAK, "a\nb"), VC_EINVALID);
  CHECK_RC(vc_agent_set_state(NULL, VC_AGENT_BREAK, "x"), VC_EINVALID);
  CHECK(vc_agent_state_of(a) == VC_AGENT_AVAILABLE);
  now_ms = T0 + 40 * SEC;
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_BREAK, "lunch"));
  CHECK_STR(vc_agent_reason(a), "lunch");
  now_ms = T0 + 50 * SEC;
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_BREAK, "lunch"));
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_BREAK, "training"));
  CHECK_STR(vc_agent_reason(a), "training");
  now_ms = T0 + 60 * SEC;
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
  CHECK_STR(vc_agent_reason(a), "");
  now_ms = T0 + 100 * SEC;
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_OFFLINE, "shift"));

  CHECK_OK(vc_agent_activity(&it, a, NULL));
  while (vc_agent_change_next(&c, it) == 0) {
    CHECK(n < sizeof(want) / sizeof(want[0]));
    CHECK(vc_agent_change_seq(c) == (int64_t)n + 1);
    CHECK(vc_agent_change_from(c) == want[n].from);
    CHECK(vc_agent_change_to(c) == want[n].to);
    CHECK(vc_agent_change_cause(c) == want[n].cause);
    CHECK_STR(vc_agent_change_reason(c), want[n].reason);
    CHECK_STR(vc_agent_change_call_id(c), "");
    if (n == 2) {
      CHECK(vc_agent_change_at(c) == T0 + 40 * SEC);
      snprintf(cursor, sizeof(cursor), "%s", vc_iter_cursor(it));
    }
    vc_agent_change_free(c);
    n++;
  }
  CHECK(n == sizeof(want) / sizeof(want[0]));
  vc_iter_free(it);
  /* After a cursor, and within a time window. */
  f.after = cursor;
  CHECK_OK(vc_agent_activity(&it, a, &f));
  CHECK_OK(vc_agent_change_next(&c, it));
  CHECK(vc_agent_change_seq(c) == 4);
  vc_agent_change_free(c);
  vc_iter_free(it);
  f.after = NULL;
  f.since = T0 + 45 * SEC;
  f.until = T0 + 100 * SEC;
  CHECK_OK(vc_agent_activity(&it, a, &f));
  n = 0;
  while (vc_agent_change_next(&c, it) == 0) {
    n++;
    vc_agent_change_free(c);
  }
  CHECK(n == 2);
  vc_iter_free(it);
  f.since = 0;
  f.until = 0;
  f.after = "x1";
  CHECK_RC(vc_agent_activity(&it, a, &f), VC_EINVALID);
  CHECK(vc_agent_state_name(VC_AGENT_WRAP_UP) != NULL);
  CHECK_STR(vc_agent_state_name(VC_AGENT_BREAK), "break");
  CHECK_STR(vc_agent_state_name(99), "unknown");
  CHECK_STR(vc_agent_cause_name(VC_AGENT_CAUSE_WRAP_UP), "wrap_up");

  /* Figures: offline 0-10 s, available 10-40 s and 60-100 s, break
   * 40-60 s, offline again from 100 s; counted up to now (130 s). */
  now_ms = T0 + 130 * SEC;
  CHECK_OK(vc_agent_stats(&tot, a, T0, 0));
  CHECK(tot.idle_ms == 70 * SEC);
  CHECK(tot.break_ms == 20 * SEC);
  CHECK(tot.offline_ms == 40 * SEC);
  CHECK(tot.calls == 0 && tot.answered_calls == 0 && tot.talk_ms == 0);
  CHECK(tot.wrap_up_ms == 0 && tot.on_call_ms == 0);
  /* Before the agent existed: nothing. A window cuts the intervals. */
  CHECK_OK(vc_agent_stats(&tot, a, T0 - 50 * SEC, T0 + 50 * SEC));
  CHECK(tot.offline_ms == 10 * SEC);
  CHECK(tot.idle_ms == 30 * SEC);
  CHECK(tot.break_ms == 10 * SEC);
  CHECK_RC(vc_agent_stats(&tot, a, T0 + 10, T0 + 10), VC_EINVALID);
  CHECK_RC(vc_agent_stats(&tot, a, -1, 0), VC_EINVALID);
  tot.version = 9;
  CHECK_RC(vc_agent_stats(&tot, a, T0, 0), VC_EVERSION);
  vc_agent_free(a);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_agent__list(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_agent_filter f = VC_AGENT_FILTER_INIT;
  char name[16], third[32];
  vc_agent *a;
  vc_iter *it;
  int n = 0;

  for (int i = 0; i < 60; i++) {
    snprintf(name, sizeof(name), "agent%02d", i);
    a = new_agent(t, name, "+14155550100");
    if (i % 3 == 0)
      CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
    vc_agent_free(a);
  }
  CHECK_OK(vc_agent_list(&it, t, NULL));
  while (vc_agent_next(&a, it) == 0) {
    snprintf(name, sizeof(name), "agent%02d", n);
    CHECK_STR(vc_agent_name(a), name);
    if (n == 2)
      snprintf(third, sizeof(third), "%s", vc_iter_cursor(it));
    vc_agent_free(a);
    n++;
  }
  CHECK(n == 60);
  vc_iter_free(it);
  f.state = VC_AGENT_AVAILABLE;
  CHECK_OK(vc_agent_list(&it, t, &f));
  n = 0;
  while (vc_agent_next(&a, it) == 0) {
    CHECK(vc_agent_state_of(a) == VC_AGENT_AVAILABLE);
    vc_agent_free(a);
    n++;
  }
  CHECK(n == 20);
  vc_iter_free(it);
  f.state = 0;
  f.after = third;
  CHECK_OK(vc_agent_list(&it, t, &f));
  CHECK_OK(vc_agent_next(&a, it));
  CHECK_STR(vc_agent_name(a), "agent03");
  vc_agent_free(a);
  vc_iter_free(it);
  f.after = "not-a-cursor";
  CHECK_RC(vc_agent_list(&it, t, &f), VC_EINVALID);
  f.after = NULL;
  f.state = 42;
  CHECK_RC(vc_agent_list(&it, t, &f), VC_EINVALID);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_agent__events(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_agent *a = new_agent(t, "alice", "+14155550100");
  const vc_event *e;
  vc_iter *it;
  int created = 0, states = 0, updated = 0;
  vc_agent_spec s = VC_AGENT_SPEC_INIT;

  CHECK_OK(vc_agent_set_state(a, VC_AGENT_BREAK, "coffee \"black\""));
  s.wrap_up_s = 5;
  CHECK_OK(vc_agent_update(a, &s));
  CHECK_OK(vc_events_since(&it, t, 0));
  while (vc_event_next(&e, it) == 0) {
    if (strcmp(e->type, "agent.created") == 0) {
      created++;
      CHECK_STR(e->subject_id, vc_agent_id(a));
      CHECK_STR(e->payload_json, "{\"name\":\"alice\"}");
    } else if (strcmp(e->type, "agent.state") == 0) {
      states++;
      CHECK_STR(e->subject_id, vc_agent_id(a));
      if (states == 2)
        CHECK(strstr(e->payload_json,
                     "\"from\":\"offline\",\"to\":\"break\","
                     "\"reason\":\"coffee \\\"black\\\"\","
                     "\"cause\":\"api\",\"call_id\":null") != NULL);
    } else if (strcmp(e->type, "agent.updated") == 0) {
      updated++;
    }
  }
  vc_iter_free(it);
  CHECK(created == 1 && states == 2 && updated == 1);
  vc_agent_free(a);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

/* Deleting: only an offline agent; out of its queues (an event each),
 * its activity gone, its name free again; the other agent, the other
 * tenant's agent of the same name and the queues themselves untouched. */
static void test_agent__delete(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme"), *u = new_tenant(ctx, "other");
  vc_agent *a = new_agent(t, "alice", "+14155550100");
  vc_agent *b = new_agent(t, "bob", "+14155550101");
  vc_agent *twin = new_agent(u, "alice", "+14155550100"), *got;
  vc_queue_spec qs = VC_QUEUE_SPEC_INIT;
  vc_queue *q1, *q2;
  vc_queue_member *m;
  const vc_event *e;
  vc_iter *it;
  char id[VC_ID_SIZE], where[96];
  int removed = 0, deleted = 0, members = 0;

  qs.name = "sales";
  CHECK_OK(vc_queue_new(&q1, t, &qs));
  qs.name = "support";
  CHECK_OK(vc_queue_new(&q2, t, &qs));
  CHECK_OK(vc_queue_member_add(q1, "alice", NULL));
  CHECK_OK(vc_queue_member_add(q1, "bob", NULL));
  CHECK_OK(vc_queue_member_add(q2, "alice", NULL));
  snprintf(id, sizeof(id), "%s", vc_agent_id(a));

  /* Not offline: refused, nothing changed. */
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL));
  CHECK_RC(vc_agent_delete(a), VC_ESTATE);
  CHECK(strstr(vc_error_last()->message, "available") != NULL);
  CHECK(rows("vc_agent") == 3);
  CHECK(rows("vc_queue_member") == 3);
  CHECK_OK(vc_agent_set_state(a, VC_AGENT_BREAK, "lunch"));
  CHECK_RC(vc_agent_delete(a), VC_ESTATE);

  CHECK_OK(vc_agent_set_state(a, VC_AGENT_OFFLINE, NULL));
  snprintf(where, sizeof(where), "vc_agent_activity WHERE agent_id = '%s'",
           id);
  CHECK(rows(where) > 0);
  CHECK_OK(vc_agent_delete(a));
  CHECK(rows("vc_agent") == 2);
  CHECK(rows("vc_queue_member") == 1);
  CHECK(rows(where) == 0);
  /* The handle keeps its snapshot; everything else says it is gone. */
  CHECK_STR(vc_agent_name(a), "alice");
  CHECK_RC(vc_agent_refresh(a), VC_ENOTFOUND);
  CHECK_RC(vc_agent_delete(a), VC_ENOTFOUND);
  CHECK_RC(vc_agent_set_state(a, VC_AGENT_AVAILABLE, NULL), VC_ENOTFOUND);
  CHECK_RC(vc_agent_lookup(&got, t, id), VC_ENOTFOUND);
  CHECK_RC(vc_agent_lookup(&got, t, "alice"), VC_ENOTFOUND);
  CHECK_RC(vc_queue_member_add(q2, id, NULL), VC_ENOTFOUND);

  /* Bob is still in sales, alone; the twin is untouched. */
  CHECK_OK(vc_queue_members(&it, q1, NULL));
  while (vc_queue_member_next(&m, it) == 0) {
    CHECK_STR(vc_queue_member_agent_id(m), vc_agent_id(b));
    members++;
    vc_queue_member_free(m);
  }
  vc_iter_free(it);
  CHECK(members == 1);
  CHECK_OK(vc_agent_refresh(twin));
  CHECK_OK(vc_agent_lookup(&got, u, "alice"));
  vc_agent_free(got);

  /* One queue.member_removed per queue, and agent.deleted. */
  CHECK_OK(vc_events_since(&it, t, 0));
  while (vc_event_next(&e, it) == 0) {
    if (strcmp(e->type, "queue.member_removed") == 0) {
      removed++;
      CHECK(strstr(e->payload_json, id) != NULL);
      CHECK(strcmp(e->subject_id, vc_queue_id(q1)) == 0 ||
            strcmp(e->subject_id, vc_queue_id(q2)) == 0);
    } else if (strcmp(e->type, "agent.deleted") == 0) {
      deleted++;
      CHECK_STR(e->subject_id, id);
      CHECK_STR(e->payload_json, "{\"name\":\"alice\"}");
    }
  }
  vc_iter_free(it);
  CHECK(removed == 2 && deleted == 1);

  /* The name is free again. */
  vc_agent_free(a);
  a = new_agent(t, "alice", "+14155550109");
  CHECK(strcmp(vc_agent_id(a), id) != 0);
  vc_queue_free(q1);
  vc_queue_free(q2);
  vc_agent_free(a);
  vc_agent_free(b);
  vc_agent_free(twin);
  vc_tenant_free(t);
  vc_tenant_free(u);
  vc_ctx_free(ctx);
}

/* One tenant can neither see nor touch another's agents. */
static void test_agent__tenant_isolation(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme"), *u = new_tenant(ctx, "umbrella");
  vc_agent *a = new_agent(t, "alice", "+14155550100");
  vc_agent *b = NULL;
  vc_iter *it;
  const vc_event *e;

  /* Same name in another tenant is another agent. */
  b = new_agent(u, "alice", "+14155550199");
  CHECK(strcmp(vc_agent_id(a), vc_agent_id(b)) != 0);
  vc_agent_free(b);
  b = NULL;
  CHECK_RC(vc_agent_lookup(&b, u, vc_agent_id(a)), VC_ENOTFOUND);
  CHECK_OK(vc_agent_lookup(&b, u, "alice"));
  CHECK_STR(vc_agent_number(b), "+14155550199");
  CHECK_OK(vc_agent_set_state(b, VC_AGENT_AVAILABLE, NULL));
  vc_agent_free(b);
  CHECK_OK(vc_agent_refresh(a));
  CHECK(vc_agent_state_of(a) == VC_AGENT_OFFLINE);
  CHECK_OK(vc_agent_list(&it, u, NULL));
  CHECK_OK(vc_agent_next(&b, it));
  CHECK(strcmp(vc_agent_id(b), vc_agent_id(a)) != 0);
  vc_agent_free(b);
  CHECK_RC(vc_agent_next(&b, it), VC_ITEROVER);
  vc_iter_free(it);
  /* Events stay with their tenant. */
  CHECK_OK(vc_events_since(&it, u, 0));
  while (vc_event_next(&e, it) == 0)
    CHECK(strcmp(e->subject_id, vc_agent_id(a)) != 0);
  vc_iter_free(it);
  /* A deleted tenant's agents are gone. */
  CHECK_OK(vc_tenant_delete(t));
  CHECK_RC(vc_agent_refresh(a), VC_ENOTFOUND);
  vc_agent_free(a);
  vc_tenant_free(t);
  vc_tenant_free(u);
  vc_ctx_free(ctx);
}

VC_TESTS(
  VC_TEST(test_agent__create_and_lookup),
  VC_TEST(test_agent__bad_input),
  VC_TEST(test_agent__update),
  VC_TEST(test_agent__states),
  VC_TEST(test_agent__list),
  VC_TEST(test_agent__events),
  VC_TEST(test_agent__delete),
  VC_TEST(test_agent__tenant_isolation),
)
