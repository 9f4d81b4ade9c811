/*
 * IVR menus through the public API: every validation rule of the menu
 * document (each refusal stores nothing), the normalized definition,
 * update, delete, list, tenant isolation, and a caller's path read from
 * a call's timeline (entries written with SQL as the call core does).
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <sqlite3.h>

static int64_t g_now = 1700000000000LL;
static int64_t test_clock(void *p) { (void)p; return g_now; }

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
} env;

static void env_open(env *e)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("i.db"), NULL));
  o.store = store;
  o.clock_cb = test_clock;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

static void sql(const char *stmt)
{
  sqlite3 *db;

  CHECK(sqlite3_open(vc_test_path("i.db"), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  CHECK(sqlite3_exec(db, stmt, NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
}

static int count_menus(void)
{
  sqlite3 *db;
  sqlite3_stmt *s;
  int n = -1;

  CHECK(sqlite3_open(vc_test_path("i.db"), &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM vc_ivr_menu", -1, &s,
                           NULL) == SQLITE_OK);
  if (sqlite3_step(s) == SQLITE_ROW)
    n = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

#define NODE_A "\"a\":{\"prompt\":{\"say\":\"Hi\"},\"options\":{\"1\":" \
               "{\"action\":\"hangup\"}}}"
#define MENU(nodes) "{\"version\":1,\"entry\":\"a\",\"nodes\":{" nodes "}}"

static const char OK_MENU[] = MENU(NODE_A);

typedef struct rule {
  const char *json;
  int rc;
  const char *message;  /* a part of the error message */
} rule;

static const rule RULES[] = {
  { "[]", VC_EINVALID, "not a JSON object" },
  { "{\"version\":1,", VC_EINVALID, "not valid JSON" },
  { "{\"entry\":\"a\",\"nodes\":{" NODE_A "}}", VC_EINVALID,
    "'version' is required" },
  { "{\"version\":2,\"entry\":\"a\",\"nodes\":{" NODE_A "}}", VC_EINVALID,
    "format version 2 is not supported" },
  { "{\"version\":1.5,\"entry\":\"a\",\"nodes\":{" NODE_A "}}", VC_EINVALID,
    "whole number" },
  { "{\"version\":1,\"nodes\":{" NODE_A "}}", VC_EINVALID,
    "'entry' is required" },
  { "{\"version\":1,\"entry\":\"b\",\"nodes\":{" NODE_A "}}", VC_EINVALID,
    "'entry' names no node ('b')" },
  { "{\"version\":1,\"entry\":\"a\",\"nodes\":{}}", VC_EINVALID,
    "at least one node" },
  { "{\"version\":1,\"entry\":\"a\",\"extra\":1,\"nodes\":{" NODE_A "}}",
    VC_EINVALID, "unknown member 'extra'" },
  { "{\"version\":1,\"version\":1,\"entry\":\"a\",\"nodes\":{" NODE_A "}}",
    VC_EINVALID, "member 'version' appears twice" },
  { "{\"version\":1,\"entry\":\"a\",\"language\":\"english\",\"nodes\":{"
    NODE_A "}}", VC_EINVALID, "language tag" },
  { MENU("\"A\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":{\"action\":"
         "\"hangup\"}}}"), VC_EINVALID, "node name 'A'" },
  { MENU(NODE_A "," NODE_A), VC_EINVALID, "node 'a' is defined twice" },
  { MENU("\"a\":{\"options\":{\"1\":{\"action\":\"hangup\"}}}"),
    VC_EINVALID, "node 'a': 'prompt' is required" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\",\"play\":\"https://h/x\"},"
         "\"options\":{\"1\":{\"action\":\"hangup\"}}}"), VC_EINVALID,
    "exactly one of 'say' and 'play'" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"\"},\"options\":{\"1\":{\"action\":"
         "\"hangup\"}}}"), VC_EINVALID, "'say' is empty" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"a\\nb\"},\"options\":{\"1\":"
         "{\"action\":\"hangup\"}}}"), VC_EINVALID, "control character" },
  { MENU("\"a\":{\"prompt\":{\"play\":\"http://h/x.mp3\"},\"options\":"
         "{\"1\":{\"action\":\"hangup\"}}}"), VC_EINVALID, "https URL" },
  { MENU("\"a\":{\"prompt\":{\"play\":\"https://h/a b\"},\"options\":"
         "{\"1\":{\"action\":\"hangup\"}}}"), VC_EINVALID,
    "not allowed in a URL" },
  { MENU("\"a\":{\"prompt\":{\"play\":\"https://h/x\",\"language\":"
         "\"en\"},\"options\":{\"1\":{\"action\":\"hangup\"}}}"),
    VC_EINVALID, "'language' goes with 'say' only" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"timeout\":0,\"options\":"
         "{\"1\":{\"action\":\"hangup\"}}}"), VC_EINVALID,
    "'timeout' must be a whole number from 1 to 60" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"retries\":6,\"options\":"
         "{\"1\":{\"action\":\"hangup\"}}}"), VC_EINVALID,
    "'retries' must be a whole number from 0 to 5" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"retry\":1,\"options\":"
         "{\"1\":{\"action\":\"hangup\"}}}"), VC_EINVALID,
    "node 'a': unknown member 'retry'" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{}}"), VC_EINVALID,
    "at least one key" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"12\":"
         "{\"action\":\"hangup\"}}}"), VC_EINVALID, "'12' is not a key" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"hangup\"},\"1\":{\"action\":\"hangup\"}}}"),
    VC_EINVALID, "key '1' appears twice" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"dance\"}}}"), VC_EINVALID,
    "node 'a' key '1': unknown action" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"node\":\"a\"}}}"), VC_EINVALID, "'action' is required" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"repeat\",\"say\":\"x\"}}}"), VC_EINVALID,
    "unknown member 'say'" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"menu\"}}}"), VC_EINVALID, "needs 'node'" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"menu\",\"node\":\"zz\"}}}"), VC_EINVALID,
    "node 'a' key '1': no node 'zz'" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"menu\",\"node\":\"a\"}}}"), VC_EINVALID,
    "goes to its own node" },
  { MENU(NODE_A ",\"b\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"hangup\"}}}"), VC_EINVALID,
    "node 'b' cannot be reached" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"transfer\"}}}"), VC_EINVALID,
    "exactly one of 'agent' and 'to'" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"transfer\",\"to\":\"4155550100\"}}}"), VC_EINVALID,
    "E.164 number or a sip: URI" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"transfer\",\"to\":\"sip:a b@h\"}}}"), VC_EINVALID,
    "not a SIP URI" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"transfer\",\"agent\":\"nobody\"}}}"), VC_ENOTFOUND,
    "node 'a' key '1': no agent 'nobody'" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"message\",\"kind\":\"sms\",\"then\":{\"action\":"
         "\"hangup\"}}}}"), VC_EINVALID, "needs 'template'" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"message\",\"template\":\"t\",\"kind\":\"email\","
         "\"then\":{\"action\":\"hangup\"}}}}"), VC_EINVALID,
    "'kind' must be sms or chat" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"message\",\"template\":\"t\",\"kind\":\"sms\"}}}"),
    VC_EINVALID, "needs 'then'" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"message\",\"template\":\"t\",\"kind\":\"sms\","
         "\"then\":{\"action\":\"message\",\"template\":\"t\",\"kind\":"
         "\"sms\",\"then\":{\"action\":\"hangup\"}}}}}"), VC_EINVALID,
    "'then' cannot be another message" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"message\",\"template\":\"t\",\"kind\":\"sms\","
         "\"vars\":{\"x\":[1]},\"then\":{\"action\":\"hangup\"}}}}"),
    VC_EINVALID, "variable 'x' must be a string" },
  /* A number past a double's range would be stored as null. */
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"message\",\"template\":\"t\",\"kind\":\"sms\","
         "\"vars\":{\"n\":31e999},\"then\":{\"action\":\"hangup\"}}}}"),
    VC_EINVALID, "holds a number beyond the range of a double" },
  { MENU("\"a\":{\"prompt\":{\"say\":\"x\"},\"options\":{\"1\":"
         "{\"action\":\"message\",\"template\":\"nope\",\"kind\":\"sms\","
         "\"then\":{\"action\":\"hangup\"}}}}"), VC_ENOTFOUND,
    "no template 'nope'" },
  { "{\"version\":1,\"entry\":\"a\",\"nodes\":{" NODE_A "},\"fallback\":"
    "{\"action\":\"repeat\"}}", VC_EINVALID,
    "fallback: a fallback cannot be 'repeat'" },
  { "{\"version\":1,\"entry\":\"a\",\"nodes\":{" NODE_A "},\"fallback\":"
    "{\"action\":\"menu\",\"node\":\"a\"}}", VC_EINVALID,
    "a fallback cannot be 'menu'" },
  /* Refused after its vars were read: they are freed (a leak once). */
  { "{\"version\":1,\"entry\":\"a\",\"nodes\":{" NODE_A "},\"fallback\":"
    "{\"action\":\"message\",\"template\":\"t\",\"kind\":\"sms\","
    "\"vars\":{\"x\":1}}}", VC_EINVALID, "fallback: a message needs 'then'" },
  { "{\"version\":1,\"entry\":\"a\",\"nodes\":{" NODE_A "},\"invalid\":"
    "{\"say\":1}}", VC_EINVALID, "invalid: 'say' must be a string" },
};

static void test_ivr__every_rule_refused(void)
{
  vc_ivr_menu_spec s = VC_IVR_MENU_SPEC_INIT;
  vc_ivr_menu *m = NULL;
  env e;

  env_open(&e);
  s.name = "m";
  for (size_t i = 0; i < sizeof(RULES) / sizeof(RULES[0]); i++) {
    s.definition_json = RULES[i].json;
    if (vc_ivr_menu_new(&m, e.t, &s) != RULES[i].rc ||
        strstr(vc_error_last()->message, RULES[i].message) == NULL) {
      fprintf(stderr, "  rule %zu: got '%s'\n", i,
              vc_error_last()->message);
      CHECK(0);
    }
    CHECK(m == NULL);
  }
  CHECK(count_menus() == 0);
  env_close(&e);
}

static void test_ivr__limits(void)
{
  vc_ivr_menu_spec s = VC_IVR_MENU_SPEC_INIT;
  char *json = malloc(70000), *p;
  vc_ivr_menu *m = NULL;
  env e;

  env_open(&e);
  s.name = "m";
  /* 33 nodes. */
  p = json + sprintf(json, "{\"version\":1,\"entry\":\"n0\",\"nodes\":{");
  for (int i = 0; i < 33; i++)
    p += sprintf(p, "%s\"n%d\":{\"prompt\":{\"say\":\"x\"},\"options\":"
                 "{\"1\":{\"action\":\"menu\",\"node\":\"n%d\"}}}",
                 i ? "," : "", i, (i + 1) % 33);
  strcpy(p, "}}");
  s.definition_json = json;
  CHECK_RC(vc_ivr_menu_new(&m, e.t, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "more than 32 nodes") != NULL);
  /* A chain 10 keys deep (the limit is 8). */
  p = json + sprintf(json, "{\"version\":1,\"entry\":\"n0\",\"nodes\":{");
  for (int i = 0; i < 10; i++)
    p += sprintf(p, "%s\"n%d\":{\"prompt\":{\"say\":\"x\"},\"options\":"
                 "{\"1\":{\"action\":\"menu\",\"node\":\"n%d\"}}}",
                 i ? "," : "", i, (i + 1) % 10);
  strcpy(p, "}}");
  CHECK_RC(vc_ivr_menu_new(&m, e.t, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "deeper than 8 keys") != NULL);
  /* Too big, too deep, not UTF-8, a text too long. */
  memset(json, ' ', 65537);
  json[0] = '{';
  strcpy(json + 65537, "}");
  CHECK_RC(vc_ivr_menu_new(&m, e.t, &s), VC_ETOOBIG);
  s.definition_json = "{\"a\":[[[[[[[[[[1]]]]]]]]]]}";
  CHECK_RC(vc_ivr_menu_new(&m, e.t, &s), VC_ETOOBIG);
  s.definition_json = "{\"version\":1,\"x\":\"\xff\"}";
  CHECK_RC(vc_ivr_menu_new(&m, e.t, &s), VC_EENCODING);
  p = json + sprintf(json, "{\"version\":1,\"entry\":\"a\",\"nodes\":{\"a\":"
                     "{\"prompt\":{\"say\":\"");
  memset(p, 'x', 1025);
  strcpy(p + 1025, "\"},\"options\":{\"1\":{\"action\":\"hangup\"}}}}}");
  s.definition_json = json;
  CHECK_RC(vc_ivr_menu_new(&m, e.t, &s), VC_ETOOBIG);
  /* Names and the spec. */
  s.definition_json = OK_MENU;
  s.name = "Bad Name";
  CHECK_RC(vc_ivr_menu_new(&m, e.t, &s), VC_EINVALID);
  s.name = NULL;
  CHECK_RC(vc_ivr_menu_new(&m, e.t, &s), VC_EINVALID);
  s.name = "m";
  s.definition_json = NULL;
  CHECK_RC(vc_ivr_menu_new(&m, e.t, &s), VC_EINVALID);
  s.version = 2;
  CHECK_RC(vc_ivr_menu_new(&m, e.t, &s), VC_EVERSION);
  CHECK(count_menus() == 0);
  free(json);
  env_close(&e);
}

/* A fallback that sends a message with variables: accepted, written out
 * with its vars, and freed with the menu (its vars once leaked, the
 * fallback being the one action outside the parser's pool). */
static void test_ivr__fallback_message_with_vars(void)
{
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  vc_ivr_menu_spec s = VC_IVR_MENU_SPEC_INIT;
  vc_template *tpl;
  vc_ivr_menu *m, *got;
  env e;

  env_open(&e);
  ts.name = "t";
  ts.kind = VC_CHANNEL_SMS;
  ts.text_body = "Call us at {{x}}";
  ts.variables_json = "[\"x\"]";
  CHECK_OK(vc_template_new(&tpl, e.t, &ts));
  vc_template_free(tpl);
  s.name = "m";
  s.definition_json =
    "{\"version\":1,\"entry\":\"a\",\"nodes\":{" NODE_A "},\"fallback\":"
    "{\"action\":\"message\",\"template\":\"t\",\"kind\":\"sms\","
    "\"vars\":{\"x\":\"555\"},\"then\":{\"action\":\"hangup\"}}}";
  CHECK_OK(vc_ivr_menu_new(&m, e.t, &s));
  CHECK(strstr(vc_ivr_menu_definition_json(m),
               "\"fallback\":{\"action\":\"message\",\"template\":\"t\","
               "\"kind\":\"sms\",\"vars\":{\"x\":\"555\"}") != NULL);
  CHECK_OK(vc_ivr_menu_lookup(&got, e.t, "m"));
  CHECK_STR(vc_ivr_menu_definition_json(got), vc_ivr_menu_definition_json(m));
  vc_ivr_menu_free(got);
  vc_ivr_menu_free(m);
  env_close(&e);
}

static void test_ivr__store_update_delete_list(void)
{
  vc_ivr_menu_spec s = VC_IVR_MENU_SPEC_INIT;
  vc_ivr_menu *m, *m2, *got;
  vc_iter *it;
  int n = 0;
  env e;

  env_open(&e);
  s.name = "main";
  s.definition_json = OK_MENU;
  CHECK_OK(vc_ivr_menu_new(&m, e.t, &s));
  CHECK(vc_ivr_menu_revision(m) == 1);
  CHECK(vc_ivr_menu_created_at(m) == g_now);
  /* Defaults written out. */
  CHECK_STR(vc_ivr_menu_definition_json(m),
            "{\"version\":1,\"entry\":\"a\",\"language\":\"en-US\","
            "\"nodes\":{\"a\":{\"prompt\":{\"say\":\"Hi\",\"language\":"
            "\"en-US\"},\"timeout\":5,\"retries\":2,\"options\":{\"1\":"
            "{\"action\":\"hangup\"}}}},\"invalid\":{\"say\":\"Sorry, that "
            "is not a valid choice.\",\"language\":\"en-US\"},\"fallback\":"
            "{\"action\":\"hangup\",\"say\":\"Sorry, we did not get a valid "
            "choice. Goodbye.\"}}");
  /* The normalized form is itself a valid definition. */
  s.name = "copy";
  s.definition_json = vc_ivr_menu_definition_json(m);
  CHECK_OK(vc_ivr_menu_new(&m2, e.t, &s));
  CHECK_STR(vc_ivr_menu_definition_json(m2), vc_ivr_menu_definition_json(m));
  s.name = "main";
  CHECK_RC(vc_ivr_menu_new(NULL, e.t, &s), VC_EEXISTS);
  CHECK_OK(vc_ivr_menu_lookup(&got, e.t, "main"));
  CHECK_STR(vc_ivr_menu_id(got), vc_ivr_menu_id(m));
  vc_ivr_menu_free(got);
  /* Update: a refused definition changes nothing. */
  s.name = NULL;
  s.definition_json = "{\"version\":1}";
  g_now += 1000;
  CHECK_RC(vc_ivr_menu_update(m, &s), VC_EINVALID);
  CHECK(vc_ivr_menu_revision(m) == 1);
  s.definition_json = MENU("\"a\":{\"prompt\":{\"say\":\"Hello\"},"
                           "\"options\":{\"#\":{\"action\":\"connect\"}}}");
  CHECK_OK(vc_ivr_menu_update(m, &s));
  CHECK(vc_ivr_menu_revision(m) == 2);
  CHECK(vc_ivr_menu_updated_at(m) == g_now);
  CHECK(strstr(vc_ivr_menu_definition_json(m), "Hello") != NULL);
  s.name = "copy";
  s.definition_json = NULL;
  CHECK_RC(vc_ivr_menu_update(m, &s), VC_EEXISTS);
  s.name = "renamed";
  CHECK_OK(vc_ivr_menu_update(m, &s));
  CHECK_STR(vc_ivr_menu_name(m), "renamed");
  CHECK(strstr(vc_ivr_menu_definition_json(m), "Hello") != NULL);
  CHECK_OK(vc_ivr_menu_list(&it, e.t, NULL));
  while (vc_ivr_menu_next(&got, it) == 0) {
    n++;
    vc_ivr_menu_free(got);
  }
  vc_iter_free(it);
  CHECK(n == 2);
  /* Delete: gone for lookups and lists, the name free again. */
  CHECK_OK(vc_ivr_menu_delete(m2));
  CHECK_RC(vc_ivr_menu_delete(m2), VC_ENOTFOUND);
  CHECK_RC(vc_ivr_menu_lookup(&got, e.t, "copy"), VC_ENOTFOUND);
  CHECK_RC(vc_ivr_menu_lookup(&got, e.t, vc_ivr_menu_id(m2)), VC_ENOTFOUND);
  s.name = "copy";
  s.definition_json = OK_MENU;
  CHECK_OK(vc_ivr_menu_new(NULL, e.t, &s));
  vc_ivr_menu_free(m);
  vc_ivr_menu_free(m2);
  env_close(&e);
}

static void test_ivr__tenant_isolation_and_path(void)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_ivr_menu_spec s = VC_IVR_MENU_SPEC_INIT;
  vc_buf path = VC_BUF_INIT;
  vc_ivr_menu *m, *got;
  vc_tenant *other;
  vc_iter *it;
  char stmt[1024];
  env e;

  env_open(&e);
  ts.slug = "other";
  CHECK_OK(vc_tenant_new(&other, e.ctx, &ts));
  s.name = "main";
  s.definition_json = OK_MENU;
  CHECK_OK(vc_ivr_menu_new(&m, e.t, &s));
  CHECK_RC(vc_ivr_menu_lookup(&got, other, "main"), VC_ENOTFOUND);
  CHECK_RC(vc_ivr_menu_lookup(&got, other, vc_ivr_menu_id(m)), VC_ENOTFOUND);
  CHECK_OK(vc_ivr_menu_list(&it, other, NULL));
  CHECK_RC(vc_ivr_menu_next(&got, it), VC_ITEROVER);
  vc_iter_free(it);
  /* Both may use the same name. */
  CHECK_OK(vc_ivr_menu_new(NULL, other, &s));
  /* A call with two keys in its timeline, and a state entry between. */
  snprintf(stmt, sizeof(stmt),
    "INSERT INTO vc_call (tenant_id, id, state, agent_number,"
    " customer_number, record_mode, content_hash, ring_timeout_s,"
    " time_limit_s, created_at, updated_at) VALUES ('%s',"
    " '01HCA770000000000000000001', 5, '+15550001', '+15550002', 1, 'h',"
    " 30, 60, 1, 1);"
    "INSERT INTO vc_call_event VALUES ('%s', '01HCA770000000000000000001',"
    " 1, 'dtmf', 2, 4, '{\"digits\":\"1\",\"menu\":\"%s\",\"node\":\"a\","
    "\"action\":\"menu\",\"to\":\"b\",\"attempt\":0}', 100, 100);"
    "INSERT INTO vc_call_event VALUES ('%s', '01HCA770000000000000000001',"
    " 2, 'state', 0, 5, '{}', 150, 150);"
    "INSERT INTO vc_call_event VALUES ('%s', '01HCA770000000000000000001',"
    " 3, 'dtmf', 2, 5, '{\"digits\":\"#\",\"menu\":\"%s\",\"node\":\"b\","
    "\"action\":\"hangup\",\"attempt\":1}', 200, 200);",
    vc_tenant_id(e.t), vc_tenant_id(e.t), vc_ivr_menu_id(m),
    vc_tenant_id(e.t), vc_tenant_id(e.t), vc_ivr_menu_id(m));
  sql(stmt);
  CHECK_OK(vc_ivr_path(&path, e.t, "01HCA770000000000000000001"));
  snprintf(stmt, sizeof(stmt),
    "{\"call_id\":\"01HCA770000000000000000001\",\"steps\":["
    "{\"seq\":1,\"at\":100,\"menu\":\"%s\",\"node\":\"a\",\"digits\":\"1\","
    "\"action\":\"menu\",\"to\":\"b\",\"attempt\":0},"
    "{\"seq\":3,\"at\":200,\"menu\":\"%s\",\"node\":\"b\",\"digits\":\"#\","
    "\"action\":\"hangup\",\"attempt\":1}]}", vc_ivr_menu_id(m),
    vc_ivr_menu_id(m));
  CHECK_STR(path.ptr, stmt);
  vc_buf_dispose(&path);
  CHECK_RC(vc_ivr_path(&path, other, "01HCA770000000000000000001"),
           VC_ENOTFOUND);
  CHECK_RC(vc_ivr_path(&path, e.t, "not-an-id"), VC_EINVALID);
  vc_buf_dispose(&path);
  vc_ivr_menu_free(m);
  vc_tenant_free(other);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_ivr__every_rule_refused),
  VC_TEST(test_ivr__limits),
  VC_TEST(test_ivr__fallback_message_with_vars),
  VC_TEST(test_ivr__store_update_delete_list),
  VC_TEST(test_ivr__tenant_isolation_and_path),
)
