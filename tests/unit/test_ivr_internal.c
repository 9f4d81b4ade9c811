/*
 * IVR steps through the hooks the call core calls (vc__ivr_resolve,
 * vc__ivr_step) on calls stored with SQL: scripts per node, a multi-level
 * path logged as dtmf entries and read back by vc_ivr_path(), timeouts,
 * wrong keys and the fallback, transfer targets (agents and numbers), and
 * the message-template option queueing a message in the same transaction.
 */
#include "call_env.h"
#include "msg/message.h"

#define WEBHOOK "https://host.test/webhooks/CH?vc_call=C1"

static const char MENU[] =
  "{\"version\":1,\"entry\":\"main\",\"language\":\"en-IN\","
  "\"nodes\":{"
  "\"main\":{\"prompt\":{\"say\":\"Press 1 for billing.\"},\"timeout\":4,"
  " \"retries\":1,\"options\":{"
  "  \"1\":{\"action\":\"menu\",\"node\":\"billing\"},"
  "  \"2\":{\"action\":\"transfer\",\"agent\":\"asha\"},"
  "  \"3\":{\"action\":\"message\",\"template\":\"link\",\"kind\":\"sms\","
  "   \"vars\":{\"url\":\"https://pay.test/x\"},\"say\":\"We sent a link.\","
  "   \"then\":{\"action\":\"hangup\",\"say\":\"Goodbye.\"}},"
  "  \"0\":{\"action\":\"connect\",\"say\":\"Connecting you.\"},"
  "  \"#\":{\"action\":\"hangup\"}}},"
  "\"billing\":{\"prompt\":{\"play\":\"https://cdn.test/billing.mp3\"},"
  " \"options\":{\"1\":{\"action\":\"transfer\",\"to\":\"+14155550100\"},"
  "  \"9\":{\"action\":\"repeat\"},"
  "  \"*\":{\"action\":\"menu\",\"node\":\"main\"}}}}}";

/* The agent "asha", and its id. */
static char asha_id[VC_ID_SIZE];

static void agent_asha(env *e)
{
  vc_agent_spec s = VC_AGENT_SPEC_INIT;
  vc_agent *a;

  s.name = "asha";
  s.number = "+14155550111";
  CHECK_OK(vc_agent_new(&a, e->t, &s));
  snprintf(asha_id, sizeof(asha_id), "%s", vc_agent_id(a));
  vc_agent_free(a);
}

static void setup(env *e, char menu_id[VC_ID_SIZE])
{
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_ivr_menu_spec ms = VC_IVR_MENU_SPEC_INIT;
  vc_template *tpl;
  vc_channel *ch;
  vc_ivr_menu *m;

  env_open(e, 0);
  agent_asha(e);
  cs.name = "sms";
  cs.provider = "sandbox-sms";
  cs.config_json = "{\"outcome\":\"accepted\"}";
  cs.sender = "+15550003333";
  CHECK_OK(vc_channel_new(&ch, e->t, &cs));
  vc_channel_free(ch);
  ts.name = "link";
  ts.kind = VC_CHANNEL_SMS;
  ts.text_body = "Pay here: {{url}}";
  ts.variables_json = "[\"url\"]";
  CHECK_OK(vc_template_new(&tpl, e->t, &ts));
  vc_template_free(tpl);
  ms.name = "support";
  ms.definition_json = MENU;
  CHECK_OK(vc_ivr_menu_new(&m, e->t, &ms));
  snprintf(menu_id, VC_ID_SIZE, "%s", vc_ivr_menu_id(m));
  vc_ivr_menu_free(m);
}

static int step(env *e, const char *call, const char *menu, const char *node,
                const char *digits, int attempt, vc__ivr_result *r)
{
  vc__db *db = env_db(e);
  int rc;

  CHECK_OK(vc__db_begin(db));
  rc = vc__ivr_step(db, e->ctx, e->tid, call, menu, node, digits, attempt,
                    WEBHOOK, r);
  CHECK_OK(vc__db_commit(db));
  vc__db_release(db);
  return rc;
}

static void check_gather(const vc__ivr_result *r, const char *node,
                         int attempt)
{
  char url[256];
  const vc_call_step *g = NULL, *redirect = NULL;

  CHECK(r->action == VC__IVR_SCRIPT);
  CHECK_STR(r->node, node);
  for (size_t i = 0; i < r->nsteps; i++) {
    if (r->steps[i].kind == VC_STEP_GATHER)
      g = &r->steps[i];
    if (r->steps[i].kind == VC_STEP_REDIRECT)
      redirect = &r->steps[i];
  }
  CHECK(g != NULL && redirect != NULL && redirect > g);
  CHECK(g->num_digits == 1);
  snprintf(url, sizeof(url), "%s&vc_step=ivr&vc_node=%s&vc_try=%d", WEBHOOK,
           node, attempt);
  CHECK_STR(g->action_url, url);
  snprintf(url, sizeof(url), "%s&vc_step=ivr&vc_node=%s&vc_try=%d", WEBHOOK,
           node, attempt + 1);
  CHECK_STR(redirect->url, url);
}

static void entry_is(env *e, const char *call, size_t i, const char *field,
                     const char *want)
{
  char type[32], detail[2048], v[256];

  CHECK(env_entry(e, call, i, type, sizeof(type), detail,
                  sizeof(detail)) == 0);
  CHECK_STR(type, "dtmf");
  CHECK_STR(json_field(v, sizeof(v), detail, field), want);
}

/* Copy the stand-in's entries into the timeline, as the core will have
 * written them, so that vc_ivr_path() reads them from the store. */
static void store_entries(env *e, const char *call)
{
  char type[32], detail[2048];
  vc__db *db;

  if (!vc__stub_ivr_entry)
    return; /* the core wrote them */
  db = env_db(e);
  for (size_t i = 0;
       env_entry(e, call, i, type, sizeof(type), detail, sizeof(detail)) == 0;
       i++)
    CHECK_OK(vc__db_run(db, "INSERT INTO vc_call_event (tenant_id, call_id,"
                        " seq, type, leg, state, detail, occurred_at,"
                        " created_at) VALUES (?1, ?2, ?3, ?4, 2, 5, ?5, ?6,"
                        " ?6)", "ttitti", e->tid, call, (int64_t)i + 1, type,
                        detail, g_now + (int64_t)i));
  vc__db_release(db);
}

static void test_ivr__path_through_levels(void)
{
  char menu[VC_ID_SIZE], call[VC_ID_SIZE], resolved[VC_ID_SIZE], v[64];
  vc_buf path = VC_BUF_INIT;
  vc__ivr_result r;
  vc__db *db;
  cJSON *doc, *steps, *st;
  env e;

  setup(&e, menu);
  env_call(&e, e.t, "+14155550199", VC_RECORD_OFF, call);
  db = env_db(&e);
  CHECK_OK(vc__ivr_resolve(db, e.tid, "support", resolved));
  CHECK_STR(resolved, menu);
  CHECK_OK(vc__ivr_resolve(db, e.tid, menu, resolved));
  CHECK_RC(vc__ivr_resolve(db, e.tid, "nope", resolved), VC_ENOTFOUND);
  vc__db_release(db);
  /* Entering: the entry's prompt in a one-key gather, in its language. */
  CHECK_OK(step(&e, call, menu, "", NULL, 0, &r));
  check_gather(&r, "main", 0);
  CHECK(r.nsteps == 2 && r.steps[0].kind == VC_STEP_GATHER);
  CHECK_STR(r.steps[0].text, "Press 1 for billing.");
  CHECK_STR(r.steps[0].language, "en-IN");
  CHECK(r.steps[0].timeout_s == 4);
  CHECK(env_entry(&e, call, 0, v, sizeof(v), v, sizeof(v)) < 0);
  /* 1: down to billing, whose prompt is audio. */
  CHECK_OK(step(&e, call, menu, "main", "1", 0, &r));
  check_gather(&r, "billing", 0);
  CHECK_STR(r.steps[0].url, "https://cdn.test/billing.mp3");
  CHECK(r.steps[0].timeout_s == 5); /* the default */
  entry_is(&e, call, 0, "digits", "1");
  entry_is(&e, call, 0, "node", "main");
  entry_is(&e, call, 0, "menu", menu);
  entry_is(&e, call, 0, "action", "menu");
  entry_is(&e, call, 0, "to", "billing");
  /* 9 repeats billing; * goes back up; 0 connects to the agent. */
  CHECK_OK(step(&e, call, menu, "billing", "9", 0, &r));
  check_gather(&r, "billing", 0);
  CHECK_OK(step(&e, call, menu, "billing", "*", 0, &r));
  check_gather(&r, "main", 0);
  CHECK_OK(step(&e, call, menu, "main", "0", 0, &r));
  CHECK(r.action == VC__IVR_CONNECT);
  CHECK(r.nsteps == 1 && r.steps[0].kind == VC_STEP_SAY);
  CHECK_STR(r.steps[0].text, "Connecting you.");
  entry_is(&e, call, 3, "action", "connect");
  /* The path, from the timeline. */
  store_entries(&e, call);
  CHECK_OK(vc_ivr_path(&path, e.t, call));
  doc = cJSON_Parse(path.ptr);
  steps = cJSON_GetObjectItem(doc, "steps");
  CHECK(cJSON_GetArraySize(steps) == 4);
  st = cJSON_GetArrayItem(steps, 0);
  CHECK_STR(cJSON_GetObjectItem(st, "node")->valuestring, "main");
  CHECK_STR(cJSON_GetObjectItem(st, "to")->valuestring, "billing");
  st = cJSON_GetArrayItem(steps, 1);
  CHECK_STR(cJSON_GetObjectItem(st, "node")->valuestring, "billing");
  CHECK_STR(cJSON_GetObjectItem(st, "action")->valuestring, "repeat");
  st = cJSON_GetArrayItem(steps, 2);
  CHECK_STR(cJSON_GetObjectItem(st, "digits")->valuestring, "*");
  CHECK_STR(cJSON_GetObjectItem(st, "to")->valuestring, "main");
  st = cJSON_GetArrayItem(steps, 3);
  CHECK_STR(cJSON_GetObjectItem(st, "action")->valuestring, "connect");
  CHECK(cJSON_GetObjectItem(st, "seq")->valueint == 4);
  cJSON_Delete(doc);
  vc_buf_dispose(&path);
  env_close(&e);
}

static void test_ivr__timeouts_wrong_keys_and_fallback(void)
{
  char menu[VC_ID_SIZE], call[VC_ID_SIZE], v[64];
  vc__ivr_result r;
  env e;

  setup(&e, menu);
  env_call(&e, e.t, "+14155550199", VC_RECORD_OFF, call);
  /* No key at attempt 0: replay as attempt 1 (retries 1). */
  CHECK_OK(step(&e, call, menu, "main", NULL, 1, &r));
  check_gather(&r, "main", 1);
  CHECK(r.nsteps == 2);
  /* No key again: the fallback, hang up with the default goodbye. */
  CHECK_OK(step(&e, call, menu, "main", NULL, 2, &r));
  CHECK(r.action == VC__IVR_HANGUP);
  CHECK(r.nsteps == 2 && r.steps[0].kind == VC_STEP_SAY &&
        r.steps[1].kind == VC_STEP_HANGUP);
  CHECK_STR(r.steps[0].text,
            "Sorry, we did not get a valid choice. Goodbye.");
  CHECK_STR(r.steps[0].language, "en-IN");
  /* Timeouts press no key: no dtmf entry. */
  CHECK(env_entry(&e, call, 0, v, sizeof(v), v, sizeof(v)) < 0);
  /* A wrong key: the invalid notice, then the node as attempt 1. */
  CHECK_OK(step(&e, call, menu, "main", "7", 0, &r));
  check_gather(&r, "main", 1);
  CHECK(r.nsteps == 3 && r.steps[0].kind == VC_STEP_SAY);
  CHECK_STR(r.steps[0].text, "Sorry, that is not a valid choice.");
  entry_is(&e, call, 0, "action", "invalid");
  entry_is(&e, call, 0, "digits", "7");
  /* Wrong again: the fallback, logged on the entry. */
  CHECK_OK(step(&e, call, menu, "main", "5", 1, &r));
  CHECK(r.action == VC__IVR_HANGUP);
  {
    char type[32], detail[2048];
    CHECK(env_entry(&e, call, 1, type, sizeof(type), detail,
                    sizeof(detail)) == 0);
    CHECK(strstr(detail, "\"fallback\":1") != NULL);
  }
  /* Garbage from a provider is a wrong key, shown safely. */
  CHECK_OK(step(&e, call, menu, "main", "1\"x", 0, &r));
  entry_is(&e, call, 2, "action", "invalid");
  entry_is(&e, call, 2, "digits", "1??");
  /* #: hang up without words. */
  CHECK_OK(step(&e, call, menu, "main", "#", 0, &r));
  CHECK(r.action == VC__IVR_HANGUP && r.nsteps == 1 &&
        r.steps[0].kind == VC_STEP_HANGUP);
  /* A node that went away (menu updated): back to the entry. */
  CHECK_OK(step(&e, call, menu, "gone", "1", 0, &r));
  check_gather(&r, "main", 0);
  env_close(&e);
}

static void test_ivr__fallback_of_the_menu(void)
{
  vc_ivr_menu_spec ms = VC_IVR_MENU_SPEC_INIT;
  char call[VC_ID_SIZE];
  vc__ivr_result r;
  vc_ivr_menu *m;
  env e;

  env_open(&e, 0);
  agent_asha(&e);
  ms.name = "fb";
  ms.definition_json =
    "{\"version\":1,\"entry\":\"a\",\"nodes\":{\"a\":{\"prompt\":{\"say\":"
    "\"Hi\"},\"retries\":0,\"options\":{\"1\":{\"action\":\"hangup\"}}}},"
    "\"fallback\":{\"action\":\"transfer\",\"to\":\"sip:desk@pbx.test\","
    "\"say\":\"Let me find someone.\"}}";
  CHECK_OK(vc_ivr_menu_new(&m, e.t, &ms));
  env_call(&e, e.t, "+14155550199", VC_RECORD_OFF, call);
  CHECK_OK(step(&e, call, vc_ivr_menu_id(m), "a", NULL, 1, &r));
  CHECK(r.action == VC__IVR_TRANSFER);
  CHECK_STR(r.target, "sip:desk@pbx.test");
  CHECK(r.nsteps == 1);
  CHECK_STR(r.steps[0].text, "Let me find someone.");
  CHECK_STR(r.steps[0].language, "en-US");
  vc_ivr_menu_free(m);
  env_close(&e);
}

static void test_ivr__transfer_targets(void)
{
  char menu[VC_ID_SIZE], call[VC_ID_SIZE];
  vc__ivr_result r;
  env e;

  setup(&e, menu);
  env_call(&e, e.t, "+14155550199", VC_RECORD_OFF, call);
  /* An agent by name: its number. */
  CHECK_OK(step(&e, call, menu, "main", "2", 0, &r));
  CHECK(r.action == VC__IVR_TRANSFER);
  CHECK_STR(r.target, "+14155550111");
  entry_is(&e, call, 0, "target", "+14155550111");
  entry_is(&e, call, 0, "agent", asha_id);
  /* A number as written. */
  CHECK_OK(step(&e, call, menu, "billing", "1", 0, &r));
  CHECK(r.action == VC__IVR_TRANSFER);
  CHECK_STR(r.target, "+14155550100");
  entry_is(&e, call, 1, "target", "+14155550100");
  /* The agent is gone by the time the key is pressed: the fallback. */
  if (vc__stub_ivr_reset) {
    vc__stub_ivr_reset();
    CHECK_OK(step(&e, call, menu, "main", "2", 0, &r));
    CHECK(r.action == VC__IVR_HANGUP);
    entry_is(&e, call, 0, "action", "transfer");
    {
      char type[32], detail[2048];
      CHECK(env_entry(&e, call, 0, type, sizeof(type), detail,
                      sizeof(detail)) == 0);
      CHECK(strstr(detail, "\"error\":\"no agent 'asha'\"") != NULL);
      CHECK(strstr(detail, "\"fallback\":1") != NULL);
    }
  }
  env_close(&e);
}

static void test_ivr__message_option_queues_a_message(void)
{
  char menu[VC_ID_SIZE], call[VC_ID_SIZE], mid[64], type[32], detail[2048];
  vc_message *msg;
  vc__ivr_result r;
  env e;

  setup(&e, menu);
  env_call(&e, e.t, "+14155550199", VC_RECORD_OFF, call);
  CHECK_OK(step(&e, call, menu, "main", "3", 0, &r));
  CHECK(r.action == VC__IVR_HANGUP);
  CHECK(r.nsteps == 3);
  CHECK_STR(r.steps[0].text, "We sent a link.");
  CHECK_STR(r.steps[1].text, "Goodbye.");
  CHECK(r.steps[2].kind == VC_STEP_HANGUP);
  entry_is(&e, call, 0, "action", "message");
  entry_is(&e, call, 0, "then", "hangup");
  entry_is(&e, call, 0, "template", "link");
  CHECK(env_entry(&e, call, 0, type, sizeof(type), detail,
                  sizeof(detail)) == 0);
  json_field(mid, sizeof(mid), detail, "message_id");
  CHECK_OK(vc_message_lookup(&msg, e.t, mid));
  CHECK_STR(vc_message_to(msg), "+14155550199");
  CHECK(vc_message_status(msg) == VC_MSG_QUEUED);
  vc_message_free(msg);
  CHECK(env_count(&e, "SELECT COUNT(*) FROM vc_message WHERE text_body ="
                  " 'Pay here: https://pay.test/x'") == 1);
  CHECK(env_count(&e, "SELECT COUNT(*) FROM vc_job WHERE kind ="
                  " 'message.send'") == 1);
  /* The same key again (a provider's retry): still one message. */
  CHECK_OK(step(&e, call, menu, "main", "3", 0, &r));
  CHECK(env_count(&e, "SELECT COUNT(*) FROM vc_message") == 1);
  env_close(&e);
}

static void test_ivr__message_refused_goes_on(void)
{
  vc_ivr_menu_spec ms = VC_IVR_MENU_SPEC_INIT;
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  char call[VC_ID_SIZE], type[32], detail[2048];
  vc__ivr_result r;
  vc_template *tpl;
  vc_ivr_menu *m;
  vc__db *db;
  env e;

  env_open(&e, 0);
  ts.name = "needs";
  ts.kind = VC_CHANNEL_SMS;
  ts.text_body = "Hi {{name}}";
  ts.variables_json = "[\"name\"]";
  CHECK_OK(vc_template_new(&tpl, e.t, &ts));
  vc_template_free(tpl);
  ms.name = "m";
  ms.definition_json =
    "{\"version\":1,\"entry\":\"a\",\"nodes\":{\"a\":{\"prompt\":{\"say\":"
    "\"Hi\"},\"options\":{\"1\":{\"action\":\"message\",\"template\":"
    "\"needs\",\"kind\":\"sms\",\"then\":{\"action\":\"repeat\"}}}}}}";
  CHECK_OK(vc_ivr_menu_new(&m, e.t, &ms));
  env_call(&e, e.t, "+14155550199", VC_RECORD_OFF, call);
  /* In a transaction the step's own writes share: a refused message
   * leaves nothing behind, and the caller hears the node again. */
  db = env_db(&e);
  CHECK_OK(vc__db_begin(db));
  CHECK_OK(vc__db_run(db, "CREATE TABLE probe (x)", ""));
  CHECK_OK(vc__ivr_step(db, e.ctx, e.tid, call, vc_ivr_menu_id(m), "a", "1",
                        0, WEBHOOK, &r));
  CHECK_OK(vc__db_commit(db));
  vc__db_release(db);
  check_gather(&r, "a", 0);
  CHECK(env_count(&e, "SELECT COUNT(*) FROM vc_message") == 0);
  CHECK(env_count(&e, "SELECT COUNT(*) FROM probe") == 0);
  CHECK(env_entry(&e, call, 0, type, sizeof(type), detail,
                  sizeof(detail)) == 0);
  CHECK(strstr(detail, "\"error\":") != NULL);
  vc_ivr_menu_free(m);
  env_close(&e);
}

static void test_ivr__tenant_isolation(void)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  char menu[VC_ID_SIZE], call[VC_ID_SIZE], other_call[VC_ID_SIZE];
  char resolved[VC_ID_SIZE];
  vc_buf path = VC_BUF_INIT;
  vc__ivr_result r;
  vc_tenant *other;
  vc_ivr_menu *m;
  vc__db *db;
  env e;

  setup(&e, menu);
  ts.slug = "other";
  CHECK_OK(vc_tenant_new(&other, e.ctx, &ts));
  env_call(&e, e.t, "+14155550199", VC_RECORD_OFF, call);
  env_call(&e, other, "+14155550198", VC_RECORD_OFF, other_call);
  CHECK_RC(vc_ivr_menu_lookup(&m, other, "support"), VC_ENOTFOUND);
  CHECK_RC(vc_ivr_menu_lookup(&m, other, menu), VC_ENOTFOUND);
  db = env_db(&e);
  CHECK_RC(vc__ivr_resolve(db, vc_tenant_id(other), menu, resolved),
           VC_ENOTFOUND);
  /* The other tenant's step cannot use this tenant's menu. */
  CHECK_RC(vc__ivr_step(db, e.ctx, vc_tenant_id(other), other_call, menu,
                        "", NULL, 0, WEBHOOK, &r), VC_ENOTFOUND);
  vc__db_release(db);
  CHECK_RC(vc_ivr_path(&path, other, call), VC_ENOTFOUND);
  vc_buf_dispose(&path);
  vc_tenant_free(other);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_ivr__path_through_levels),
  VC_TEST(test_ivr__timeouts_wrong_keys_and_fallback),
  VC_TEST(test_ivr__fallback_of_the_menu),
  VC_TEST(test_ivr__transfer_targets),
  VC_TEST(test_ivr__message_option_queues_a_message),
  VC_TEST(test_ivr__message_refused_goes_on),
  VC_TEST(test_ivr__tenant_isolation),
)
