/*
 * Inbound numbers through the public API: create, look up, find, update,
 * list and delete; normalization (one number written in E.164, with
 * separators, with "00", in the national format or as a SIP URI finds
 * the same row); uniqueness across tenants; entry points resolved by
 * name and refused when unknown; refused inputs store nothing; tenant
 * isolation; audit entries without the whole number. The routing the
 * arrival path uses is tested in tests/unit/test_inbound_internal.c.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"
#include "tenant_env.h"

#include <sqlite3.h>

static const uint8_t KEY[32] = { 8, 1 };

static int count_rows(const char *sql)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  int n = -1;

  CHECK(sqlite3_open(vc_test_path("n.db"), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static void channel(vc_tenant *t, const char *name, const char *provider)
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  s.name = name;
  s.provider = provider;
  s.sender = "+14155550000";
  CHECK_OK(vc_channel_new(&ch, t, &s));
  vc_channel_free(ch);
}

/* A voice channel "voice", an sms channel "sms", an agent "alice", a
 * queue "support" and an IVR menu "main" in tenant t. */
static void furnish(vc_tenant *t)
{
  vc_agent_spec as = VC_AGENT_SPEC_INIT;
  vc_queue_spec qs = VC_QUEUE_SPEC_INIT;
  vc_ivr_menu_spec ms = VC_IVR_MENU_SPEC_INIT;

  channel(t, "voice", "sandbox-voice");
  channel(t, "sms", "sandbox-sms");
  as.name = "alice";
  as.number = "+14155550101";
  CHECK_OK(vc_agent_new(NULL, t, &as));
  qs.name = "support";
  CHECK_OK(vc_queue_new(NULL, t, &qs));
  ms.name = "main";
  ms.definition_json = "{\"version\":1,\"entry\":\"a\",\"nodes\":{\"a\":"
                       "{\"prompt\":{\"say\":\"Hi\"},\"options\":{\"1\":"
                       "{\"action\":\"hangup\"}}}}}";
  CHECK_OK(vc_ivr_menu_new(NULL, t, &ms));
}

static void open_env(env *e, vc_tenant **other)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;

  CHECK_OK(vc_audit_actor_set(NULL));
  tenant_env_open(e, "n.db", KEY, 5, NULL);
  furnish(e->t);
  ts.slug = "globex";
  CHECK_OK(vc_tenant_new(other, e->ctx, &ts));
  furnish(*other);
}

static int new_number(vc_number **out, vc_tenant *t, const char *number,
                      int kind, const char *entry)
{
  vc_number_spec s = VC_NUMBER_SPEC_INIT;

  s.number = number;
  s.channel = "voice";
  s.entry_kind = kind;
  s.entry = entry;
  return vc_number_new(out, t, &s);
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
    /* Numbers are personal data: never whole in the trail. */
    CHECK(strstr(vc_audit_entry_summary_json(en), "12345678") == NULL);
    n++;
    vc_audit_entry_free(en);
  }
  vc_iter_free(it);
  return n;
}

static void test_number__crud(void)
{
  vc_number_spec up = VC_NUMBER_SPEC_INIT;
  vc_number_filter f = VC_NUMBER_FILTER_INIT;
  vc_number *n, *m, *got;
  vc_queue *q;
  vc_tenant *b;
  vc_iter *it;
  char id[VC_ID_SIZE];
  const char *label_before;
  int seen = 0;
  env e;

  open_env(&e, &b);
  CHECK_OK(vc_queue_lookup(&q, e.t, "support"));
  CHECK_OK(new_number(&n, e.t, "+91 44 1234 5678", VC_NUMBER_ENTRY_QUEUE,
                      "support"));
  CHECK_STR(vc_number_number(n), "+914412345678");
  CHECK(vc_number_entry_kind(n) == VC_NUMBER_ENTRY_QUEUE);
  CHECK_STR(vc_number_entry_id(n), vc_queue_id(q));
  CHECK_STR(vc_number_label(n), "");
  CHECK(vc_number_created_at(n) == VC_TEST_T0);
  snprintf(id, sizeof(id), "%s", vc_number_id(n));
  CHECK_OK(vc_number_lookup(&got, e.t, id));
  CHECK_STR(vc_number_number(got), "+914412345678");
  CHECK_STR(vc_number_channel_id(got), vc_number_channel_id(n));
  vc_number_free(got);

  /* Update: the entry moves to the IVR menu, a label is set; strings
   * borrowed before stay valid. */
  label_before = vc_number_label(n);
  g_now += 1000;
  up.entry_kind = VC_NUMBER_ENTRY_IVR;
  up.entry = "main";
  up.label = "Support line";
  CHECK_OK(vc_number_update(n, &up));
  CHECK_STR(label_before, "");
  CHECK_STR(vc_number_label(n), "Support line");
  CHECK(vc_number_entry_kind(n) == VC_NUMBER_ENTRY_IVR);
  CHECK_STR(vc_number_number(n), "+914412345678");
  CHECK(vc_number_updated_at(n) == VC_TEST_T0 + 1000);
  /* A refused update changes nothing. */
  up.entry_kind = VC_NUMBER_ENTRY_AGENT;
  up.entry = "nobody";
  up.label = NULL;
  CHECK_RC(vc_number_update(n, &up), VC_ENOTFOUND);
  CHECK_OK(vc_number_lookup(&got, e.t, id));
  CHECK(vc_number_entry_kind(got) == VC_NUMBER_ENTRY_IVR);
  vc_number_free(got);

  /* List, with filters. */
  CHECK_OK(new_number(&m, e.t, "sip:desk@pbx.example.com",
                      VC_NUMBER_ENTRY_AGENT, "alice"));
  CHECK_OK(vc_number_list(&it, e.t, NULL));
  while (vc_number_next(&got, it) == 0) {
    seen++;
    vc_number_free(got);
  }
  vc_iter_free(it);
  CHECK(seen == 2);
  f.entry_kind = VC_NUMBER_ENTRY_AGENT;
  CHECK_OK(vc_number_list(&it, e.t, &f));
  CHECK_OK(vc_number_next(&got, it));
  CHECK_STR(vc_number_number(got), "sip:desk@pbx.example.com");
  vc_number_free(got);
  CHECK_RC(vc_number_next(&got, it), VC_ITEROVER);
  vc_iter_free(it);
  f.entry_kind = 7;
  CHECK_RC(vc_number_list(&it, e.t, &f), VC_EINVALID);
  f.entry_kind = 0;
  f.after = "not-a-cursor";
  CHECK_RC(vc_number_list(&it, e.t, &f), VC_EINVALID);

  /* A queue a number routes to cannot be deleted. */
  CHECK_OK(vc_number_update(n, &(vc_number_spec){ VC_NUMBER_SPEC_VERSION,
           NULL, NULL, VC_NUMBER_ENTRY_QUEUE, "support", NULL }));
  CHECK_RC(vc_queue_delete(q), VC_ESTATE);

  CHECK_OK(vc_number_delete(n));
  CHECK_RC(vc_number_delete(n), VC_ENOTFOUND);
  CHECK_RC(vc_number_lookup(&got, e.t, id), VC_ENOTFOUND);
  CHECK_RC(vc_number_find(&got, e.t, "+914412345678"), VC_ENOTFOUND);
  /* Free again once deleted. */
  CHECK_OK(new_number(NULL, b, "+914412345678", VC_NUMBER_ENTRY_AGENT,
                      "alice"));
  CHECK_OK(vc_queue_delete(q));

  /* One audit entry per change (the refused update wrote none). */
  CHECK(count_audit(e.t, "number.create", id) == 1);
  CHECK(count_audit(e.t, "number.update", id) == 2);
  CHECK(count_audit(e.t, "number.delete", id) == 1);
  vc_number_free(n);
  vc_number_free(m);
  vc_queue_free(q);
  vc_tenant_free(b);
  tenant_env_close(&e);
}

/* Every way a provider may write the number finds it. */
static void test_number__normalization(void)
{
  static const char *const forms[] = {
    "+914412345678", "+91 44 1234 5678", "+91-44-1234-5678",
    "0091 44 12345678", "044 1234 5678", "(044) 12345678", "914412345678",
    "4412345678", "  +91 4412345678 ",
    "sip:+914412345678@trunk.example.net;user=phone"
  };
  vc_number *n, *got;
  vc_tenant *b;
  env e;

  open_env(&e, &b);
  CHECK_OK(new_number(&n, e.t, "+91 (44) 1234.5678", VC_NUMBER_ENTRY_AGENT,
                      "alice"));
  CHECK_STR(vc_number_number(n), "+914412345678");
  for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
    int rc = vc_number_find(&got, e.t, forms[i]);

    if (rc != 0)
      fprintf(stderr, "  form '%s': %s\n", forms[i],
              vc_error_last()->message);
    CHECK(rc == 0);
    CHECK_STR(vc_number_id(got), vc_number_id(n));
    vc_number_free(got);
  }
  vc_number_free(n);

  /* A SIP URI: scheme and host case, parameters, the default port. */
  CHECK_OK(new_number(&n, e.t, "SIP:Desk@PBX.Example.COM:5060;transport=udp",
                      VC_NUMBER_ENTRY_AGENT, "alice"));
  CHECK_STR(vc_number_number(n), "sip:Desk@pbx.example.com");
  CHECK_OK(vc_number_find(&got, e.t, "sip:Desk@pbx.example.com?Subject=x"));
  CHECK_STR(vc_number_id(got), vc_number_id(n));
  vc_number_free(got);
  /* The user part is case-sensitive; another port is another URI. */
  CHECK_RC(vc_number_find(&got, e.t, "sip:desk@pbx.example.com"),
           VC_ENOTFOUND);
  CHECK_RC(vc_number_find(&got, e.t, "sip:Desk@pbx.example.com:5070"),
           VC_ENOTFOUND);
  vc_number_free(n);

  /* A national number of two countries is refused, not guessed. */
  CHECK_OK(new_number(NULL, e.t, "+44 20 7946 0000", VC_NUMBER_ENTRY_AGENT,
                      "alice"));
  CHECK_OK(new_number(NULL, e.t, "+1 207 946 0000", VC_NUMBER_ENTRY_AGENT,
                      "alice"));
  CHECK_RC(vc_number_find(&got, e.t, "020 7946 0000"), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "E.164") != NULL);
  CHECK_OK(vc_number_find(&got, e.t, "+44 20 7946 0000"));
  CHECK_STR(vc_number_number(got), "+442079460000");
  vc_number_free(got);
  vc_tenant_free(b);
  tenant_env_close(&e);
}

static void test_number__bad_input(void)
{
  static const struct { const char *number; int rc; } bad[] = {
    { "", VC_EINVALID }, { "044 1234 5678", VC_EINVALID },
    { "+1", VC_EINVALID }, { "+1415555010x", VC_EINVALID },
    { "hello", VC_EINVALID }, { "sip:", VC_EINVALID },
    { "sip:@host", VC_EINVALID }, { "sip:a@b@c", VC_EINVALID },
    { "sip:a b@host", VC_EINVALID }, { "sip:user@", VC_EINVALID },
  };
  vc_number_spec s = VC_NUMBER_SPEC_INIT;
  vc_number *n;
  char longer[400];
  vc_tenant *b;
  env e;

  open_env(&e, &b);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    CHECK_RC(new_number(&n, e.t, bad[i].number, VC_NUMBER_ENTRY_AGENT,
                        "alice"), bad[i].rc);
  memset(longer, '1', sizeof(longer) - 1);
  longer[0] = '+';
  longer[sizeof(longer) - 1] = '\0';
  CHECK_RC(new_number(&n, e.t, longer, VC_NUMBER_ENTRY_AGENT, "alice"),
           VC_ETOOBIG);
  CHECK_RC(new_number(&n, e.t, NULL, VC_NUMBER_ENTRY_AGENT, "alice"),
           VC_EINVALID);
  /* Entry points are resolved and checked. */
  CHECK_RC(new_number(&n, e.t, "+14155550199", VC_NUMBER_ENTRY_IVR, "nope"),
           VC_ENOTFOUND);
  CHECK(strstr(vc_error_last()->message, "IVR menu") != NULL);
  CHECK_RC(new_number(&n, e.t, "+14155550199", VC_NUMBER_ENTRY_QUEUE,
                      "nope"), VC_ENOTFOUND);
  CHECK_RC(new_number(&n, e.t, "+14155550199", VC_NUMBER_ENTRY_AGENT,
                      "nope"), VC_ENOTFOUND);
  CHECK_RC(new_number(&n, e.t, "+14155550199", 9, "alice"), VC_EINVALID);
  CHECK_RC(new_number(&n, e.t, "+14155550199", 0, "alice"), VC_EINVALID);
  CHECK_RC(new_number(&n, e.t, "+14155550199", VC_NUMBER_ENTRY_AGENT, NULL),
           VC_EINVALID);
  /* The channel must be a voice channel of the tenant. */
  s.number = "+14155550199";
  s.entry_kind = VC_NUMBER_ENTRY_AGENT;
  s.entry = "alice";
  s.channel = "sms";
  CHECK_RC(vc_number_new(&n, e.t, &s), VC_EINVALID);
  s.channel = "nope";
  CHECK_RC(vc_number_new(&n, e.t, &s), VC_ENOTFOUND);
  s.channel = NULL;
  CHECK_RC(vc_number_new(&n, e.t, &s), VC_EINVALID);
  s.channel = "voice";
  s.label = "bad\nlabel";
  CHECK_RC(vc_number_new(&n, e.t, &s), VC_EINVALID);
  s.version = 99;
  CHECK_RC(vc_number_new(&n, e.t, &s), VC_EVERSION);
  CHECK_RC(vc_number_lookup(&n, e.t, "nope"), VC_EINVALID);
  CHECK_RC(vc_number_find(&n, e.t, "hello"), VC_EINVALID);
  /* Nothing was stored, nothing audited. */
  CHECK(count_rows("SELECT COUNT(*) FROM vc_number") == 0);
  CHECK(count_audit(e.t, "number.", NULL) == 0);
  vc_tenant_free(b);
  tenant_env_close(&e);
}

/* A number routes to one tenant: a second tenant cannot take it, in any
 * writing, and learns nothing more than that it is taken. */
static void test_number__unique_across_tenants(void)
{
  vc_number_spec up = VC_NUMBER_SPEC_INIT;
  vc_number *n, *m;
  vc_tenant *b;
  env e;

  open_env(&e, &b);
  CHECK_OK(new_number(&n, e.t, "+914412345678", VC_NUMBER_ENTRY_AGENT,
                      "alice"));
  CHECK_RC(new_number(&m, b, "0091 44 1234 5678", VC_NUMBER_ENTRY_AGENT,
                      "alice"), VC_EEXISTS);
  CHECK(strstr(vc_error_last()->message, "another tenant") != NULL);
  CHECK(strstr(vc_error_last()->message, vc_tenant_id(e.t)) == NULL);
  CHECK_RC(new_number(&m, e.t, "+91 44 12345678", VC_NUMBER_ENTRY_AGENT,
                      "alice"), VC_EEXISTS);
  CHECK(strstr(vc_error_last()->message, "this tenant") != NULL);
  /* Nor by renumbering one of its own. */
  CHECK_OK(new_number(&m, b, "+914412345679", VC_NUMBER_ENTRY_AGENT,
                      "alice"));
  up.number = "+914412345678";
  CHECK_RC(vc_number_update(m, &up), VC_EEXISTS);
  CHECK_STR(vc_number_number(m), "+914412345679");
  CHECK(count_rows("SELECT COUNT(*) FROM vc_number"
                   " WHERE number = '+914412345678'") == 1);
  vc_number_free(n);
  vc_number_free(m);
  vc_tenant_free(b);
  tenant_env_close(&e);
}

static void test_number__tenant_isolation(void)
{
  vc_number_spec up = VC_NUMBER_SPEC_INIT;
  vc_number *n, *got;
  vc_queue *qa;
  vc_tenant *b;
  vc_iter *it;
  env e;

  open_env(&e, &b);
  CHECK_OK(new_number(&n, e.t, "+914412345678", VC_NUMBER_ENTRY_QUEUE,
                      "support"));
  CHECK_RC(vc_number_lookup(&got, b, vc_number_id(n)), VC_ENOTFOUND);
  CHECK_RC(vc_number_find(&got, b, "+914412345678"), VC_ENOTFOUND);
  CHECK_RC(vc_number_find(&got, b, "044 1234 5678"), VC_ENOTFOUND);
  CHECK_OK(vc_number_list(&it, b, NULL));
  CHECK_RC(vc_number_next(&got, it), VC_ITEROVER);
  vc_iter_free(it);
  /* Names resolve in the caller's tenant: A's queue by id is unknown
   * to B. */
  CHECK_OK(vc_queue_lookup(&qa, e.t, "support"));
  CHECK_RC(new_number(&got, b, "+14155550199", VC_NUMBER_ENTRY_QUEUE,
                      vc_queue_id(qa)), VC_ENOTFOUND);
  up.entry_kind = VC_NUMBER_ENTRY_QUEUE;
  up.entry = "support";
  CHECK_OK(vc_number_update(n, &up));
  CHECK_STR(vc_number_entry_id(n), vc_queue_id(qa));
  CHECK(count_audit(b, "number.", NULL) == 0);
  vc_queue_free(qa);
  vc_number_free(n);
  vc_tenant_free(b);
  tenant_env_close(&e);
}

VC_TESTS(
  VC_TEST(test_number__crud),
  VC_TEST(test_number__normalization),
  VC_TEST(test_number__bad_input),
  VC_TEST(test_number__unique_across_tenants),
  VC_TEST(test_number__tenant_isolation),
)
