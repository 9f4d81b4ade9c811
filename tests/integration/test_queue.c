/*
 * Call queues through the public API: create with defaults, look up by
 * id and name, update, list, delete (refused while in use); members with
 * their skill tags (added, re-added, removed, listed); overflow targets
 * resolved, checked and free of loops; refused inputs store nothing;
 * tenant isolation; audit entries. Agent selection, the waiting line
 * and the overflow decision are internal: tests/unit/test_queue_internal.c.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"
#include "tenant_env.h"

#include <sqlite3.h>

static const uint8_t KEY[32] = { 9, 2 };

static int count_rows(const char *sql)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  int n = -1;

  CHECK(sqlite3_open(vc_test_path("q.db"), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static void agent(vc_tenant *t, const char *name)
{
  vc_agent_spec s = VC_AGENT_SPEC_INIT;

  s.name = name;
  s.number = "+14155550101";
  CHECK_OK(vc_agent_new(NULL, t, &s));
}

static void open_env(env *e, vc_tenant **other)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;

  CHECK_OK(vc_audit_actor_set(NULL));
  tenant_env_open(e, "q.db", KEY, 6, NULL);
  agent(e->t, "alice");
  agent(e->t, "bob");
  ts.slug = "globex";
  CHECK_OK(vc_tenant_new(other, e->ctx, &ts));
  agent(*other, "carol");
}

static int count_audit(vc_tenant *t, const char *action, const char *entity)
{
  vc_audit_filter f = VC_AUDIT_FILTER_INIT;
  vc_audit_entry *en;
  vc_iter *it;
  int n = 0;

  f.action_prefix = action;
  f.entity_id = entity;
  CHECK_OK(vc_audit_list(&it, t, &f));
  while (vc_audit_next(&en, it) == 0) {
    n++;
    vc_audit_entry_free(en);
  }
  vc_iter_free(it);
  return n;
}

static vc_queue *new_queue(vc_tenant *t, const char *name)
{
  vc_queue_spec s = VC_QUEUE_SPEC_INIT;
  vc_queue *q = NULL;

  s.name = name;
  CHECK_OK(vc_queue_new(&q, t, &s));
  return q;
}

static void test_queue__crud(void)
{
  vc_queue_spec s = VC_QUEUE_SPEC_INIT;
  vc_queue *q, *got, *other;
  const char *name_before;
  vc_tenant *b;
  vc_iter *it;
  int n = 0;
  env e;

  open_env(&e, &b);
  q = new_queue(e.t, "support");
  /* The defaults. */
  CHECK(vc_queue_strategy_of(q) == VC_QUEUE_LONGEST_IDLE);
  CHECK(vc_queue_max_wait_seconds(q) == VC_QUEUE_MAX_WAIT_DEFAULT);
  CHECK(vc_queue_announce_position(q) == 0);
  CHECK(vc_queue_overflow_kind(q) == VC_QUEUE_OVERFLOW_HANGUP);
  CHECK_STR(vc_queue_overflow_target(q), "");
  CHECK_STR(vc_queue_moh_url(q), "");
  CHECK_STR(vc_queue_strategy_name(vc_queue_strategy_of(q)), "longest_idle");
  CHECK_OK(vc_queue_lookup(&got, e.t, "support"));
  CHECK_STR(vc_queue_id(got), vc_queue_id(q));
  vc_queue_free(got);
  CHECK_OK(vc_queue_lookup(&got, e.t, vc_queue_id(q)));
  vc_queue_free(got);

  /* Update every setting; NULL/-1/0 keep the others. */
  other = new_queue(e.t, "sales");
  name_before = vc_queue_name(q);
  g_now += 500;
  s.strategy = VC_QUEUE_ROUND_ROBIN;
  s.max_wait_s = 60;
  s.announce_position = 1;
  s.overflow_kind = VC_QUEUE_OVERFLOW_QUEUE;
  s.overflow_target = "sales";
  s.moh_url = "https://media.example.com/hold.mp3";
  CHECK_OK(vc_queue_update(q, &s));
  CHECK_STR(name_before, "support");
  CHECK(vc_queue_strategy_of(q) == VC_QUEUE_ROUND_ROBIN);
  CHECK(vc_queue_max_wait_seconds(q) == 60);
  CHECK(vc_queue_announce_position(q) == 1);
  CHECK(vc_queue_overflow_kind(q) == VC_QUEUE_OVERFLOW_QUEUE);
  CHECK_STR(vc_queue_overflow_target(q), vc_queue_id(other));
  CHECK_STR(vc_queue_moh_url(q), "https://media.example.com/hold.mp3");
  CHECK(vc_queue_updated_at(q) == VC_TEST_T0 + 500);
  vc_queue_spec_init(&s, VC_QUEUE_SPEC_VERSION);
  s.max_wait_s = 0;
  CHECK_OK(vc_queue_update(q, &s));
  CHECK(vc_queue_max_wait_seconds(q) == 0);
  CHECK(vc_queue_strategy_of(q) == VC_QUEUE_ROUND_ROBIN);
  CHECK_STR(vc_queue_overflow_target(q), vc_queue_id(other));
  /* Overflow to a voicemail box: an agent's, or the queue's own. */
  vc_queue_spec_init(&s, VC_QUEUE_SPEC_VERSION);
  s.overflow_kind = VC_QUEUE_OVERFLOW_VOICEMAIL;
  s.overflow_target = "bob";
  CHECK_OK(vc_queue_update(q, &s));
  CHECK(vc_queue_overflow_kind(q) == VC_QUEUE_OVERFLOW_VOICEMAIL);
  CHECK(strlen(vc_queue_overflow_target(q)) == 26);
  s.overflow_kind = VC_QUEUE_OVERFLOW_CALLBACK;
  s.overflow_target = NULL;
  CHECK_OK(vc_queue_update(q, &s));
  CHECK_STR(vc_queue_overflow_target(q), "");

  /* Names are unique per tenant; another tenant may reuse one. */
  s.overflow_kind = 0;
  s.name = "sales";
  CHECK_RC(vc_queue_update(q, &s), VC_EEXISTS);
  CHECK_STR(vc_queue_name(q), "support");
  vc_queue_free(new_queue(b, "support"));

  CHECK_OK(vc_queue_list(&it, e.t, NULL));
  while (vc_queue_next(&got, it) == 0) {
    n++;
    vc_queue_free(got);
  }
  vc_iter_free(it);
  CHECK(n == 2);

  CHECK_OK(vc_queue_delete(q));
  CHECK_RC(vc_queue_delete(q), VC_ENOTFOUND);
  CHECK_RC(vc_queue_lookup(&got, e.t, "support"), VC_ENOTFOUND);
  CHECK(count_audit(e.t, "queue.create", vc_queue_id(q)) == 1);
  CHECK(count_audit(e.t, "queue.update", vc_queue_id(q)) == 4);
  CHECK(count_audit(e.t, "queue.delete", vc_queue_id(q)) == 1);
  vc_queue_free(q);
  vc_queue_free(other);
  vc_tenant_free(b);
  tenant_env_close(&e);
}

static void test_queue__members(void)
{
  vc_queue_member_filter f = VC_QUEUE_MEMBER_FILTER_INIT;
  vc_queue_member *m;
  vc_agent *alice, *bob;
  vc_queue *q;
  vc_tenant *b;
  vc_iter *it;
  char cursor[64];
  env e;

  open_env(&e, &b);
  CHECK_OK(vc_agent_lookup(&alice, e.t, "alice"));
  CHECK_OK(vc_agent_lookup(&bob, e.t, "bob"));
  q = new_queue(e.t, "support");
  CHECK_OK(vc_queue_member_add(q, "alice", "hindi,billing,hindi"));
  CHECK_OK(vc_queue_member_add(q, vc_agent_id(bob), NULL));
  /* Again: new tags, same place. */
  CHECK_OK(vc_queue_member_add(q, "alice", "sales"));
  CHECK_OK(vc_queue_members(&it, q, NULL));
  CHECK_OK(vc_queue_member_next(&m, it));
  CHECK_STR(vc_queue_member_agent_id(m), vc_agent_id(alice));
  CHECK_STR(vc_queue_member_skills(m), "sales");
  CHECK(vc_queue_member_position(m) == 1);
  snprintf(cursor, sizeof(cursor), "%s", vc_iter_cursor(it));
  vc_queue_member_free(m);
  CHECK_OK(vc_queue_member_next(&m, it));
  CHECK_STR(vc_queue_member_agent_id(m), vc_agent_id(bob));
  CHECK_STR(vc_queue_member_skills(m), "");
  CHECK(vc_queue_member_position(m) == 2);
  vc_queue_member_free(m);
  CHECK_RC(vc_queue_member_next(&m, it), VC_ITEROVER);
  vc_iter_free(it);
  /* The cursor resumes after alice. */
  f.after = cursor;
  CHECK_OK(vc_queue_members(&it, q, &f));
  CHECK_OK(vc_queue_member_next(&m, it));
  CHECK_STR(vc_queue_member_agent_id(m), vc_agent_id(bob));
  vc_queue_member_free(m);
  vc_iter_free(it);
  f.after = "x";
  CHECK_RC(vc_queue_members(&it, q, &f), VC_EINVALID);

  /* Sorted, deduplicated tags. */
  CHECK_OK(vc_queue_member_add(q, "bob", "zulu,alpha,mike,alpha"));
  CHECK(count_rows("SELECT COUNT(*) FROM vc_queue_member"
                   " WHERE skills = ',alpha,mike,zulu,'") == 1);

  /* Bad tags, unknown agents: refused, nothing changed. */
  CHECK_RC(vc_queue_member_add(q, "alice", "Billing"), VC_EINVALID);
  CHECK_RC(vc_queue_member_add(q, "alice", "a,,b"), VC_EINVALID);
  CHECK_RC(vc_queue_member_add(q, "alice", ","), VC_EINVALID);
  CHECK_RC(vc_queue_member_add(q, "alice",
                               "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q"),
           VC_EINVALID);
  CHECK_RC(vc_queue_member_add(q, "alice",
                               "abcdefghijklmnopqrstuvwxyz0123456789"),
           VC_EINVALID);
  CHECK_RC(vc_queue_member_add(q, "nobody", NULL), VC_ENOTFOUND);
  CHECK_RC(vc_queue_member_add(q, "carol", NULL), VC_ENOTFOUND);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_queue_member"
                   " WHERE skills = ',sales,'") == 1);

  CHECK_OK(vc_queue_member_remove(q, "alice"));
  CHECK_RC(vc_queue_member_remove(q, "alice"), VC_ENOTFOUND);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_queue_member") == 1);
  /* A deleted queue takes its members along. */
  CHECK_OK(vc_queue_delete(q));
  CHECK(count_rows("SELECT COUNT(*) FROM vc_queue_member") == 0);
  CHECK_RC(vc_queue_member_add(q, "alice", NULL), VC_ENOTFOUND);
  CHECK(count_audit(e.t, "queue.member_add", vc_queue_id(q)) == 4);
  CHECK(count_audit(e.t, "queue.member_remove", vc_queue_id(q)) == 1);
  vc_agent_free(alice);
  vc_agent_free(bob);
  vc_queue_free(q);
  vc_tenant_free(b);
  tenant_env_close(&e);
}

static void test_queue__bad_input(void)
{
  vc_queue_spec s = VC_QUEUE_SPEC_INIT;
  vc_queue *q, *a, *b2, *c;
  char url[VC_QUEUE_URL_MAX + 16];
  vc_tenant *b;
  env e;

  open_env(&e, &b);
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_EINVALID);          /* no name */
  s.name = "Support";
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_EINVALID);
  s.name = "support";
  s.strategy = 5;
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_EINVALID);
  s.strategy = 0;
  s.max_wait_s = VC_QUEUE_MAX_WAIT_MAX + 1;
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_EINVALID);
  s.max_wait_s = -2;
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_EINVALID);
  s.max_wait_s = -1;
  s.announce_position = 2;
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_EINVALID);
  s.announce_position = -1;
  s.moh_url = "http://media.example.com/hold.mp3";
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_EINVALID);
  s.moh_url = "https://media.example.com/a b.mp3";
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_EINVALID);
  memset(url, 'a', sizeof(url) - 1);
  memcpy(url, "https://", 8);
  url[sizeof(url) - 1] = '\0';
  s.moh_url = url;
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_ETOOBIG);
  s.moh_url = NULL;
  s.overflow_kind = 7;
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_EINVALID);
  s.overflow_kind = VC_QUEUE_OVERFLOW_QUEUE;
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_EINVALID);          /* no target */
  s.overflow_target = "nope";
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_ENOTFOUND);
  s.overflow_kind = VC_QUEUE_OVERFLOW_HANGUP;
  s.overflow_target = "alice";
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_EINVALID);
  s.overflow_kind = VC_QUEUE_OVERFLOW_VOICEMAIL;
  s.overflow_target = "carol";                              /* B's agent */
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_ENOTFOUND);
  s.version = 2;
  CHECK_RC(vc_queue_new(&q, e.t, &s), VC_EVERSION);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_queue") == 0);
  CHECK(count_audit(e.t, "queue.", NULL) == 0);

  /* Overflow never loops: a -> b -> c -> a is refused. */
  a = new_queue(e.t, "a");
  b2 = new_queue(e.t, "b");
  c = new_queue(e.t, "c");
  vc_queue_spec_init(&s, VC_QUEUE_SPEC_VERSION);
  s.overflow_kind = VC_QUEUE_OVERFLOW_QUEUE;
  s.overflow_target = "a";
  CHECK_RC(vc_queue_update(a, &s), VC_EINVALID);             /* itself */
  s.overflow_target = "b";
  CHECK_OK(vc_queue_update(a, &s));
  s.overflow_target = "c";
  CHECK_OK(vc_queue_update(b2, &s));
  s.overflow_target = "a";
  CHECK_RC(vc_queue_update(c, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "back") != NULL);
  CHECK(vc_queue_overflow_kind(c) == VC_QUEUE_OVERFLOW_HANGUP);
  /* b is a's overflow: in use. */
  CHECK_RC(vc_queue_delete(b2), VC_ESTATE);
  vc_queue_free(a);
  vc_queue_free(b2);
  vc_queue_free(c);
  vc_tenant_free(b);
  tenant_env_close(&e);
}

static void test_queue__tenant_isolation(void)
{
  vc_queue_spec s = VC_QUEUE_SPEC_INIT;
  vc_queue *qa, *qb, *got;
  vc_tenant *b;
  vc_iter *it;
  env e;

  open_env(&e, &b);
  qa = new_queue(e.t, "support");
  CHECK_OK(vc_queue_member_add(qa, "alice", NULL));
  CHECK_RC(vc_queue_lookup(&got, b, vc_queue_id(qa)), VC_ENOTFOUND);
  CHECK_RC(vc_queue_lookup(&got, b, "support"), VC_ENOTFOUND);
  CHECK_OK(vc_queue_list(&it, b, NULL));
  CHECK_RC(vc_queue_next(&got, it), VC_ITEROVER);
  vc_iter_free(it);
  /* B cannot overflow into A's queue, nor add A's agent to its own. */
  qb = new_queue(b, "mine");
  s.overflow_kind = VC_QUEUE_OVERFLOW_QUEUE;
  s.overflow_target = vc_queue_id(qa);
  CHECK_RC(vc_queue_update(qb, &s), VC_ENOTFOUND);
  CHECK_RC(vc_queue_member_add(qb, "alice", NULL), VC_ENOTFOUND);
  CHECK(count_audit(b, "queue.member", NULL) == 0);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_queue_member") == 1);
  vc_queue_free(qa);
  vc_queue_free(qb);
  vc_tenant_free(b);
  tenant_env_close(&e);
}

VC_TESTS(
  VC_TEST(test_queue__crud),
  VC_TEST(test_queue__members),
  VC_TEST(test_queue__bad_input),
  VC_TEST(test_queue__tenant_isolation),
)
