/*
 * The audit trail through the public API: one row per mutating call of
 * every family with its action, entity and the thread's actor; none for
 * a refused call; UPDATE and DELETE refused by the store; no secret,
 * body or address in any summary; filters, cursor and tenant isolation.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"
#include "tenant_env.h"

#include <pthread.h>
#include <sqlite3.h>

#define T0 VC_TEST_T0

static const uint8_t KEY[32] = { 3, 1, 4 };
static const uint8_t KEY2[32] = { 2, 7, 1 };

#define SECRET_CRED "SG.CREDENTIAL-VALUE-31337"
#define SECRET_CRED2 "SG.CREDENTIAL-VALUE-42424"
#define SECRET_VALUE "SECRET-VALUE-8675309"
#define BODY_TEXT "BODY-TEXT-do-not-audit"
#define TO_NUMBER "+14155550123"

static void env_open(env *e)
{
  CHECK_OK(vc_audit_actor_set(NULL));
  tenant_env_open(e, "a.db", KEY, 11, "https://hooks.example.com");
}

static void env_close(env *e)
{
  tenant_env_close(e);
  vc_audit_actor_set(NULL);
}

static int count_rows(const char *sql)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  int n = -1;

  CHECK(sqlite3_open(vc_test_path("a.db"), &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

/* Entries of `t` (or the context's, t NULL) with exactly `action` on
 * `entity` (NULL = any); the last one's actor into actor_out. */
static int count_audit(env *e, vc_tenant *t, const char *action,
                       const char *entity, char *actor_out)
{
  vc_audit_filter f = VC_AUDIT_FILTER_INIT;
  vc_audit_entry *en;
  vc_iter *it;
  int n = 0, rc;

  f.action_prefix = action;
  f.entity_id = entity;
  if (t != NULL)
    CHECK_OK(vc_audit_list(&it, t, &f));
  else
    CHECK_OK(vc_audit_list_context(&it, e->ctx, &f));
  while ((rc = vc_audit_next(&en, it)) == 0) {
    if (strcmp(vc_audit_entry_action(en), action) == 0) {
      n++;
      if (actor_out != NULL)
        strcpy(actor_out, vc_audit_entry_actor(en));
    }
    vc_audit_entry_free(en);
  }
  CHECK(rc == VC_ITEROVER);
  vc_iter_free(it);
  return n;
}

/* Exactly one row of `action` on `entity`, by actor "alice". */
#define ONE(e, t, action, entity)                                        \
  do {                                                                   \
    char actor_[256] = "";                                               \
    int n_ = count_audit((e), (t), (action), (entity), actor_);          \
    if (n_ != 1)                                                         \
      fprintf(stderr, "  %s: %d rows\n", (action), n_);                  \
    CHECK(n_ == 1);                                                      \
    CHECK(strcmp(actor_, "alice") == 0);                                 \
  } while (0)

static int total(void)
{
  return count_rows("SELECT COUNT(*) FROM vc_audit");
}

static void test_audit__every_family(void)
{
  env e;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  vc_tenant_spec tu = VC_TENANT_SPEC_INIT;
  vc_message_spec ms, many[3];
  vc_agent_spec as = VC_AGENT_SPEC_INIT;
  vc_gl_accounts gl = VC_GL_ACCOUNTS_INIT;
  vc_ratecard_entry re = VC_RATECARD_ENTRY_INIT;
  vc_ratecard_spec rs = VC_RATECARD_SPEC_INIT;
  vc_recording_policy_spec rp = VC_RECORDING_POLICY_SPEC_INIT;
  vc_ivr_menu_spec is = VC_IVR_MENU_SPEC_INIT;
  vc_call_quality q = VC_CALL_QUALITY_INIT;
  vc_master_key mk2 = VC_MASTER_KEY_INIT;
  vc_call_spec calls = VC_CALL_SPEC_INIT;
  vc_tenant_spec other = VC_TENANT_SPEC_INIT;
  char mid[VC_ID_SIZE], ids[3][VC_ID_SIZE], rid[VC_ID_SIZE], cid[VC_ID_SIZE];
  vc_channel *ch, *voice;
  vc_template *tpl;
  vc_agent *ag;
  vc_ivr_menu *menu;
  vc_tenant *t2;
  vc_call *call;
  int results[3], purged;

  env_open(&e);
  CHECK_OK(vc_audit_actor_set("alice"));
  CHECK(strcmp(vc_audit_actor(), "alice") == 0);

  /* Tenants. */
  other.slug = "other";
  CHECK_OK(vc_tenant_new(&t2, e.ctx, &other));
  ONE(&e, t2, "tenant.create", vc_tenant_id(t2));
  tu.name = "Other Inc";
  tu.currency = "EUR";
  CHECK_OK(vc_tenant_update(t2, &tu));
  ONE(&e, t2, "tenant.update", vc_tenant_id(t2));
  CHECK(count_rows("SELECT COUNT(*) FROM vc_audit WHERE action ="
                   " 'tenant.update' AND summary ="
                   " '{\"fields\":[\"name\",\"currency\"]}'") == 1);
  CHECK_OK(vc_tenant_delete(t2));
  ONE(&e, t2, "tenant.delete", vc_tenant_id(t2));
  vc_tenant_free(t2);

  /* Channels, credentials by name only. */
  cs.name = "mail";
  cs.provider = "sendgrid";
  cs.credentials_json = "{\"api_key\":\"" SECRET_CRED "\"}";
  cs.sender = "noreply@acme.test";
  CHECK_OK(vc_channel_new(&ch, e.t, &cs));
  ONE(&e, e.t, "channel.create", vc_channel_id(ch));
  vc_channel_spec_init(&cs, VC_CHANNEL_SPEC_VERSION);
  cs.credentials_json = "{\"api_key\":\"" SECRET_CRED2 "\"}";
  cs.priority = 5;
  CHECK_OK(vc_channel_update(ch, &cs));
  ONE(&e, e.t, "channel.update", vc_channel_id(ch));
  CHECK(count_rows("SELECT COUNT(*) FROM vc_audit WHERE action ="
                   " 'channel.update' AND summary ="
                   " '{\"fields\":[\"credentials\",\"priority\"]}'") == 1);
  CHECK_OK(vc_channel_disable(ch));
  ONE(&e, e.t, "channel.disable", vc_channel_id(ch));
  CHECK_OK(vc_channel_disable(ch)); /* already: nothing changed */
  ONE(&e, e.t, "channel.disable", vc_channel_id(ch));
  CHECK_OK(vc_channel_enable(ch));
  ONE(&e, e.t, "channel.enable", vc_channel_id(ch));
  vc_channel_free(ch);

  /* Templates. */
  ts.name = "greet";
  ts.kind = VC_CHANNEL_SMS;
  ts.text_body = "Hi {{name}}";
  CHECK_OK(vc_template_new(&tpl, e.t, &ts));
  ONE(&e, e.t, "template.create", vc_template_id(tpl));
  ts.locale = "hi";
  CHECK_OK(vc_template_add_variant(tpl, &ts));
  ONE(&e, e.t, "template.add_variant", vc_template_id(tpl));
  vc_template_free(tpl);

  /* Messages: one row per call, none per message of a batch. */
  {
    vc_channel_spec ss = VC_CHANNEL_SPEC_INIT;
    ss.name = "sms";
    ss.provider = "sandbox-sms";
    ss.sender = "+15550001111";
    CHECK_OK(vc_channel_new(&ch, e.t, &ss));
    vc_channel_free(ch);
  }
  vc_message_spec_init(&ms, VC_MESSAGE_SPEC_VERSION);
  ms.kind = VC_CHANNEL_SMS;
  ms.to = TO_NUMBER;
  ms.text = BODY_TEXT;
  ms.send_at = T0 + 3600000;
  CHECK_OK(vc_message_send(mid, e.t, &ms));
  ONE(&e, e.t, "message.send", mid);
  for (int i = 0; i < 3; i++)
    many[i] = ms;
  many[2].to = "not a number";
  CHECK(vc_message_send_many(e.t, many, 3, ids, results) == 2);
  ONE(&e, e.t, "message.send_many", NULL);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_audit WHERE action ="
                   " 'message.send_many' AND entity_id = '' AND summary ="
                   " '{\"count\":2,\"refused\":1}'") == 1);
  CHECK(count_audit(&e, e.t, "message.send", NULL, NULL) == 1);
  CHECK_OK(vc_message_cancel(e.t, mid));
  ONE(&e, e.t, "message.cancel", mid);

  /* Secrets and the master key. */
  CHECK_OK(vc_secret_set(e.t, "erp.token", SECRET_VALUE,
                         strlen(SECRET_VALUE)));
  CHECK(count_audit(&e, e.t, "secret.set", NULL, NULL) == 1);
  CHECK_OK(vc_secret_delete(e.t, "erp.token"));
  ONE(&e, e.t, "secret.delete", vc_tenant_id(e.t));
  mk2.key = KEY2;
  mk2.key_len = 32;
  CHECK_OK(vc_secret_rotate_key(e.ctx, &mk2));
  ONE(&e, NULL, "master_key.rotate", NULL);

  /* Billing. */
  gl.expense_account = "6100";
  CHECK_OK(vc_gl_accounts_set(e.t, &gl));
  ONE(&e, e.t, "gl_accounts.set", vc_tenant_id(e.t));
  re.prefix = "1";
  re.rate_per_min_micros = 1000;
  re.currency = "USD";
  rs.provider = "sandbox-voice";
  rs.entries = &re;
  rs.nentries = 1;
  CHECK_OK(vc_ratecard_set(rid, e.t, &rs));
  ONE(&e, e.t, "ratecard.set", rid);
  rs.entries = NULL;
  rs.nentries = 0;
  rs.effective_from = T0 + 1;
  {
    static const char csv[] = "prefix,rate_per_min,initial_s,subsequent_s,"
                              "connection_fee,currency\n1,100,60,60,0,USD\n";
    CHECK_OK(vc_ratecard_import(rid, e.t, &rs, VC_RATECARD_CSV, csv,
                                strlen(csv)));
  }
  ONE(&e, e.t, "ratecard.import", rid);
  CHECK_OK(vc_ratecard_delete(e.t, rid));
  ONE(&e, e.t, "ratecard.delete", rid);

  /* Recording, IVR, agents. */
  rp.mode = VC_RECORD_ON_DEMAND;
  CHECK_OK(vc_recording_policy_set(e.t, &rp));
  ONE(&e, e.t, "recording_policy.set", vc_tenant_id(e.t));
  CHECK_OK(vc_recording_purge(&purged, e.t));
  ONE(&e, e.t, "recording.purge", vc_tenant_id(e.t));
  is.name = "main";
  is.definition_json = "{\"version\":1,\"entry\":\"a\",\"nodes\":{\"a\":"
                       "{\"prompt\":{\"say\":\"Hi\"},\"options\":{\"1\":"
                       "{\"action\":\"hangup\"}}}}}";
  CHECK_OK(vc_ivr_menu_new(&menu, e.t, &is));
  ONE(&e, e.t, "ivr_menu.create", vc_ivr_menu_id(menu));
  is.name = "main2";
  is.definition_json = NULL;
  CHECK_OK(vc_ivr_menu_update(menu, &is));
  ONE(&e, e.t, "ivr_menu.update", vc_ivr_menu_id(menu));
  CHECK_OK(vc_ivr_menu_delete(menu));
  ONE(&e, e.t, "ivr_menu.delete", vc_ivr_menu_id(menu));
  vc_ivr_menu_free(menu);
  as.name = "bob";
  as.number = "+14155550111";
  CHECK_OK(vc_agent_new(&ag, e.t, &as));
  ONE(&e, e.t, "agent.create", vc_agent_id(ag));
  vc_agent_spec_init(&as, VC_AGENT_SPEC_VERSION);
  as.display_name = "Bob";
  CHECK_OK(vc_agent_update(ag, &as));
  ONE(&e, e.t, "agent.update", vc_agent_id(ag));
  CHECK_OK(vc_agent_set_state(ag, VC_AGENT_AVAILABLE, NULL));
  ONE(&e, e.t, "agent.set_state", vc_agent_id(ag));
  CHECK(count_rows("SELECT COUNT(*) FROM vc_audit WHERE action ="
                   " 'agent.set_state' AND summary ="
                   " '{\"from\":\"offline\",\"to\":\"available\"}'") == 1);
  vc_agent_free(ag);

  /* Calls: start, then each control once bridged. */
  {
    vc_channel_spec vs = VC_CHANNEL_SPEC_INIT;
    vs.name = "voice";
    vs.provider = "sandbox-voice";
    vs.config_json = "{\"talk_s\":-1}";
    vs.sender = "+14155550000";
    CHECK_OK(vc_channel_new(&voice, e.t, &vs));
    vc_channel_free(voice);
  }
  calls.agent_number = "+14155550111";
  calls.customer_number = TO_NUMBER;
  CHECK_OK(vc_call_start(&call, e.t, &calls));
  snprintf(cid, sizeof(cid), "%s", vc_call_id(call));
  ONE(&e, e.t, "call.start", cid);
  for (int i = 0; i < 20 && vc_ctx_run(e.ctx, 0) > 0; i++)
    ;
  CHECK_OK(vc_call_refresh(call));
  CHECK(vc_call_state_of(call) == VC_CALL_BRIDGED);
  CHECK_OK(vc_call_hold(call, 1));
  ONE(&e, e.t, "call.hold", cid);
  CHECK_RC(vc_call_hold(call, 0), VC_ESTATE); /* not yet on hold */
  CHECK(count_audit(&e, e.t, "call.unhold", cid, NULL) == 0);
  CHECK_OK(vc_call_record(call, 1));
  ONE(&e, e.t, "call.record_start", cid);
  CHECK_OK(vc_call_transfer(call, "+14155550199"));
  ONE(&e, e.t, "call.transfer", cid);
  q.mos = 4.1;
  CHECK_OK(vc_call_quality_report(e.t, cid, &q));
  ONE(&e, e.t, "call.quality_report", cid);
  CHECK_OK(vc_call_hangup(call));
  ONE(&e, e.t, "call.hangup", cid);
  vc_call_free(call);

  /* No secret, body or address anywhere in the trail. */
  CHECK(count_rows("SELECT COUNT(*) FROM vc_audit WHERE"
                   " summary LIKE '%CREDENTIAL-VALUE%'"
                   " OR summary LIKE '%" SECRET_VALUE "%'"
                   " OR summary LIKE '%BODY-TEXT%'"
                   " OR summary LIKE '%4155550%'"
                   " OR entity_id LIKE '%4155550%'"
                   " OR summary LIKE '%noreply@%'") == 0);
  /* Every summary is a JSON object. */
  CHECK(count_rows("SELECT COUNT(*) FROM vc_audit WHERE"
                   " json_valid(summary) = 0"
                   " OR json_type(summary) != 'object'") == 0);
  env_close(&e);
}

static void test_audit__refused_call_writes_none(void)
{
  env e;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_tenant_spec tu = VC_TENANT_SPEC_INIT;
  vc_message_spec ms;
  vc_agent_spec as = VC_AGENT_SPEC_INIT;
  char mid[VC_ID_SIZE];
  vc_channel *ch;
  vc_agent *ag;
  int before;

  env_open(&e);
  CHECK_OK(vc_audit_actor_set("alice"));
  as.name = "bob";
  as.number = "+14155550111";
  CHECK_OK(vc_agent_new(&ag, e.t, &as));
  before = total();
  cs.name = "x";
  cs.provider = "no-such-provider";
  CHECK(vc_channel_new(&ch, e.t, &cs) < 0);
  tu.currency = "euro";
  CHECK_RC(vc_tenant_update(e.t, &tu), VC_EINVALID);
  vc_message_spec_init(&ms, VC_MESSAGE_SPEC_VERSION);
  ms.kind = VC_CHANNEL_SMS;
  ms.to = "not a number";
  ms.text = "x";
  CHECK(vc_message_send(mid, e.t, &ms) < 0);
  CHECK_RC(vc_message_cancel(e.t, "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
           VC_ENOTFOUND);
  CHECK_RC(vc_agent_set_state(ag, 99, NULL), VC_EINVALID);
  CHECK_RC(vc_secret_delete(e.t, "missing"), VC_ENOTFOUND);
  CHECK(total() == before);
  vc_agent_free(ag);
  env_close(&e);
}

static void test_audit__append_only(void)
{
  env e;
  sqlite3 *db;
  char *err = NULL;

  env_open(&e);
  CHECK(total() == 1); /* tenant.create */
  CHECK(sqlite3_open(vc_test_path("a.db"), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  CHECK(sqlite3_exec(db, "UPDATE vc_audit SET actor = 'mallory'", NULL,
                     NULL, &err) != SQLITE_OK);
  CHECK(err != NULL && strstr(err, "append-only") != NULL);
  sqlite3_free(err);
  err = NULL;
  CHECK(sqlite3_exec(db, "DELETE FROM vc_audit", NULL, NULL, &err) !=
        SQLITE_OK);
  CHECK(err != NULL && strstr(err, "append-only") != NULL);
  sqlite3_free(err);
  sqlite3_close(db);
  CHECK(total() == 1);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_audit WHERE actor = ''") == 1);
  env_close(&e);
}

/* ---- the actor ------------------------------------------------------------ */

typedef struct worker {
  env *e;
  const char *actor;
  int rc;
} worker;

static void *worker_main(void *arg)
{
  worker *w = arg;
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  char name[32];

  w->rc = vc_audit_actor_set(w->actor);
  ts.kind = VC_CHANNEL_SMS;
  ts.text_body = "x";
  for (int i = 0; i < 10 && w->rc == 0; i++) {
    snprintf(name, sizeof(name), "%s-%d", w->actor, i);
    ts.name = name;
    w->rc = vc_template_new(NULL, w->e->t, &ts);
  }
  return NULL;
}

static int count_by_actor(env *e, const char *actor)
{
  vc_audit_filter f = VC_AUDIT_FILTER_INIT;
  vc_audit_entry *en;
  vc_iter *it;
  int n = 0;

  f.actor = actor;
  CHECK_OK(vc_audit_list(&it, e->t, &f));
  while (vc_audit_next(&en, it) == 0) {
    if (strcmp(vc_audit_entry_actor(en), actor) == 0 &&
        strcmp(vc_audit_entry_action(en), "template.create") == 0)
      n++;
    vc_audit_entry_free(en);
  }
  vc_iter_free(it);
  return n;
}

static void test_audit__actor_per_thread(void)
{
  env e;
  worker w[2];
  pthread_t th[2];
  char big[VC_AUDIT_ACTOR_MAX + 2];

  env_open(&e);
  w[0].e = w[1].e = &e;
  w[0].actor = "alice";
  w[1].actor = "bob";
  CHECK_OK(vc_audit_actor_set("main"));
  for (int i = 0; i < 2; i++)
    CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
  for (int i = 0; i < 2; i++)
    pthread_join(th[i], NULL);
  CHECK_OK(w[0].rc);
  CHECK_OK(w[1].rc);
  CHECK(strcmp(vc_audit_actor(), "main") == 0); /* untouched here */
  CHECK(count_by_actor(&e, "alice") == 10);
  CHECK(count_by_actor(&e, "bob") == 10);
  CHECK(count_by_actor(&e, "main") == 0);

  /* Bounds: 128 bytes pass, 129 do not and change nothing. */
  memset(big, 'a', sizeof(big));
  big[VC_AUDIT_ACTOR_MAX + 1] = '\0';
  CHECK_RC(vc_audit_actor_set(big), VC_ETOOBIG);
  CHECK(strcmp(vc_audit_actor(), "main") == 0);
  big[VC_AUDIT_ACTOR_MAX] = '\0';
  CHECK_OK(vc_audit_actor_set(big));
  CHECK(strlen(vc_audit_actor()) == VC_AUDIT_ACTOR_MAX);
  CHECK_RC(vc_audit_actor_set("a\nb"), VC_EINVALID);
  CHECK_RC(vc_audit_actor_set("\xff"), VC_EENCODING);
  CHECK_OK(vc_audit_actor_set(NULL));
  CHECK(strcmp(vc_audit_actor(), "") == 0);
  env_close(&e);
}

/* ---- list ------------------------------------------------------------------ */

/* Sends from threads with different actors: each audit row carries the
 * actor of the thread that sent the message, though the sends share
 * transactions (group commit) written by whichever thread leads. */
#define SENDERS 4
#define SENDS 40

typedef struct sender {
  env *e;
  char actor[16];
  char ids[SENDS][VC_ID_SIZE];
  int rc;
} sender;

static void *sender_main(void *arg)
{
  sender *w = arg;
  vc_message_spec ms;

  vc_message_spec_init(&ms, VC_MESSAGE_SPEC_VERSION);
  ms.kind = VC_CHANNEL_SMS;
  ms.to = TO_NUMBER;
  ms.text = BODY_TEXT;
  w->rc = vc_audit_actor_set(w->actor);
  for (int i = 0; i < SENDS && w->rc == 0; i++)
    w->rc = vc_message_send(w->ids[i], w->e->t, &ms);
  /* And one bulk send each. */
  if (w->rc == 0) {
    vc_message_spec many[2] = { ms, ms };
    char ids[2][VC_ID_SIZE];
    int results[2];
    w->rc = vc_message_send_many(w->e->t, many, 2, ids, results) == 2
            ? 0 : -1;
  }
  return NULL;
}

static int sender_of(sender *w, const char *message_id)
{
  for (int s = 0; s < SENDERS; s++)
    for (int i = 0; i < SENDS; i++)
      if (strcmp(w[s].ids[i], message_id) == 0)
        return s;
  return -1;
}

static void test_audit__send_actor_is_the_senders(void)
{
  env e;
  sender w[SENDERS];
  pthread_t th[SENDERS];
  vc_channel_spec ss = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;
  vc_audit_filter f = VC_AUDIT_FILTER_INIT;
  vc_audit_entry *en;
  vc_iter *it;
  int sends = 0, bulk[SENDERS] = { 0 };

  env_open(&e);
  ss.name = "sms";
  ss.provider = "sandbox-sms";
  ss.sender = "+15550001111";
  CHECK_OK(vc_channel_new(&ch, e.t, &ss));
  vc_channel_free(ch);
  memset(w, 0, sizeof(w));
  for (int i = 0; i < SENDERS; i++) {
    w[i].e = &e;
    snprintf(w[i].actor, sizeof(w[i].actor), "sender-%d", i);
    CHECK(pthread_create(&th[i], NULL, sender_main, &w[i]) == 0);
  }
  for (int i = 0; i < SENDERS; i++)
    pthread_join(th[i], NULL);
  for (int i = 0; i < SENDERS; i++)
    CHECK_OK(w[i].rc);
  f.action_prefix = "message.send";
  CHECK_OK(vc_audit_list(&it, e.t, &f));
  while (vc_audit_next(&en, it) == 0) {
    const char *action = vc_audit_entry_action(en);
    const char *actor = vc_audit_entry_actor(en);
    if (strcmp(action, "message.send") == 0) {
      int s = sender_of(w, vc_audit_entry_entity_id(en));
      CHECK(s >= 0);
      if (s >= 0)
        CHECK(strcmp(actor, w[s].actor) == 0);
      sends++;
    } else if (strcmp(action, "message.send_many") == 0) {
      CHECK(strncmp(actor, "sender-", 7) == 0);
      if (strncmp(actor, "sender-", 7) == 0)
        bulk[actor[7] - '0']++;
    }
    vc_audit_entry_free(en);
  }
  vc_iter_free(it);
  CHECK(sends == SENDERS * SENDS);
  for (int i = 0; i < SENDERS; i++)
    CHECK(bulk[i] == 1);
  env_close(&e);
}

static void test_audit__filters_and_cursor(void)
{
  env e;
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  vc_audit_filter f = VC_AUDIT_FILTER_INIT;
  vc_audit_entry *en;
  vc_iter *it;
  char name[32], last[VC_ID_SIZE] = "", cursor[64];
  int n, rc;

  env_open(&e);
  ts.kind = VC_CHANNEL_SMS;
  ts.text_body = "x";
  for (int i = 0; i < 120; i++) {
    g_now = T0 + 1000 * (i + 1);
    CHECK_OK(vc_audit_actor_set(i % 2 ? "odd" : "even"));
    snprintf(name, sizeof(name), "t%03d", i);
    ts.name = name;
    CHECK_OK(vc_template_new(NULL, e.t, &ts));
  }
  /* Everything, newest first, across pages of 50. */
  CHECK_OK(vc_audit_list(&it, e.t, NULL));
  n = 0;
  while ((rc = vc_audit_next(&en, it)) == 0) {
    if (last[0] != '\0')
      CHECK(strcmp(vc_audit_entry_id(en), last) < 0);
    snprintf(last, sizeof(last), "%s", vc_audit_entry_id(en));
    if (n == 0)
      CHECK(vc_audit_entry_at(en) == T0 + 120000);
    CHECK(strcmp(vc_audit_entry_tenant_id(en), vc_tenant_id(e.t)) == 0);
    n++;
    if (n == 70)
      snprintf(cursor, sizeof(cursor), "%s", vc_iter_cursor(it));
    vc_audit_entry_free(en);
  }
  CHECK(rc == VC_ITEROVER);
  CHECK(n == 121); /* and tenant.create */
  vc_iter_free(it);
  /* Resume after the 70th. */
  f.after = cursor;
  CHECK_OK(vc_audit_list(&it, e.t, &f));
  n = 0;
  while (vc_audit_next(&en, it) == 0) {
    CHECK(strcmp(vc_audit_entry_id(en), cursor) < 0);
    n++;
    vc_audit_entry_free(en);
  }
  CHECK(n == 51);
  vc_iter_free(it);
  /* Prefix, actor and time range together. */
  vc_audit_filter_init(&f, VC_AUDIT_FILTER_VERSION);
  f.action_prefix = "template.";
  f.actor = "odd";
  f.since = T0 + 10000;
  f.until = T0 + 20000; /* 10..19 s: i = 9..18, odd: 9, 11, 13, 15, 17 */
  CHECK_OK(vc_audit_list(&it, e.t, &f));
  n = 0;
  while (vc_audit_next(&en, it) == 0) {
    CHECK(strcmp(vc_audit_entry_actor(en), "odd") == 0);
    CHECK(vc_audit_entry_at(en) >= T0 + 10000 &&
          vc_audit_entry_at(en) < T0 + 20000);
    n++;
    vc_audit_entry_free(en);
  }
  CHECK(n == 5);
  vc_iter_free(it);
  /* A prefix matches literally: '%' and '_' are not wildcards. */
  f = (vc_audit_filter)VC_AUDIT_FILTER_INIT;
  f.action_prefix = "templ%";
  CHECK_OK(vc_audit_list(&it, e.t, &f));
  CHECK(vc_audit_next(&en, it) == VC_ITEROVER);
  vc_iter_free(it);
  f.action_prefix = "tenant";
  CHECK_OK(vc_audit_list(&it, e.t, &f));
  CHECK_OK(vc_audit_next(&en, it));
  CHECK(strcmp(vc_audit_entry_action(en), "tenant.create") == 0);
  CHECK(strcmp(vc_audit_entry_entity_id(en), vc_tenant_id(e.t)) == 0);
  CHECK(strcmp(vc_audit_entry_summary_json(en), "{\"slug\":\"acme\"}") == 0);
  vc_audit_entry_free(en);
  vc_iter_free(it);
  /* Bad filters. */
  f = (vc_audit_filter)VC_AUDIT_FILTER_INIT;
  f.after = "not-a-cursor";
  CHECK_RC(vc_audit_list(&it, e.t, &f), VC_EINVALID);
  CHECK(it == NULL);
  f.after = NULL;
  f.entity_id = "x";
  CHECK_RC(vc_audit_list(&it, e.t, &f), VC_EINVALID);
  f.entity_id = NULL;
  f.since = 10;
  f.until = 5;
  CHECK_RC(vc_audit_list(&it, e.t, &f), VC_EINVALID);
  f.until = 0;
  f.version = 99;
  CHECK_RC(vc_audit_list(&it, e.t, &f), VC_EVERSION);
  CHECK_RC(vc_audit_filter_init(&f, 0), VC_EVERSION);
  env_close(&e);
}

static void test_audit__tenant_isolation(void)
{
  env e;
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  vc_audit_filter f = VC_AUDIT_FILTER_INIT;
  vc_audit_entry *en;
  vc_template *tpl;
  vc_tenant *b;
  vc_iter *it;
  int n = 0;

  env_open(&e);
  ts.name = "a-only";
  ts.kind = VC_CHANNEL_SMS;
  ts.text_body = "x";
  CHECK_OK(vc_template_new(&tpl, e.t, &ts));
  s.slug = "beta";
  CHECK_OK(vc_tenant_new(&b, e.ctx, &s));
  /* B sees its own creation only, even asking for A's entity. */
  CHECK_OK(vc_audit_list(&it, b, NULL));
  while (vc_audit_next(&en, it) == 0) {
    CHECK(strcmp(vc_audit_entry_tenant_id(en), vc_tenant_id(b)) == 0);
    n++;
    vc_audit_entry_free(en);
  }
  vc_iter_free(it);
  CHECK(n == 1);
  f.entity_id = vc_template_id(tpl);
  CHECK_OK(vc_audit_list(&it, b, &f));
  CHECK(vc_audit_next(&en, it) == VC_ITEROVER);
  vc_iter_free(it);
  CHECK_OK(vc_audit_list(&it, e.t, &f));
  CHECK_OK(vc_audit_next(&en, it));
  vc_audit_entry_free(en);
  vc_iter_free(it);
  /* Nor the context-wide list. */
  CHECK_OK(vc_audit_list_context(&it, e.ctx, NULL));
  CHECK(vc_audit_next(&en, it) == VC_ITEROVER);
  vc_iter_free(it);
  vc_template_free(tpl);
  vc_tenant_free(b);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_audit__every_family),
  VC_TEST(test_audit__refused_call_writes_none),
  VC_TEST(test_audit__append_only),
  VC_TEST(test_audit__actor_per_thread),
  VC_TEST(test_audit__send_actor_is_the_senders),
  VC_TEST(test_audit__filters_and_cursor),
  VC_TEST(test_audit__tenant_isolation),
)
