/*
 * The unified inbox through the public API: inbound SMS arriving as
 * signed Twilio webhooks from the provider simulator open and move
 * conversations (creating the unknown sender as a contact); the
 * timeline merges inbound, outbound and calls in time order; a reply
 * goes out on the inbound's channel to its sender under the channel's
 * rules; statuses, snooze and its wake-up on the injected clock,
 * assignment (and its end when the agent is deleted), unread counts,
 * list filters, search and cursor paging; tenant isolation and bad
 * input.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "net_util.h"

#include <sqlite3.h>

#define DB_NAME "inbox.db"
#define OUR_NUMBER "+15005550006"

static int64_t g_now;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return g_now;
}

static const uint8_t KEY[32] = { 7, 1 };

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t, *other;
  vc_sim *sim;
  char base[64];
  char sms[VC_ID_SIZE];         /* Twilio SMS on the simulator */
  char mail[VC_ID_SIZE];        /* sandbox email */
} env;

static void sandbox_channel(vc_tenant *t, const char *name,
                            const char *provider, const char *sender,
                            char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  s.name = name;
  s.provider = provider;
  s.sender = sender;
  CHECK_OK(vc_channel_new(&ch, t, &s));
  if (id != NULL)
    snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void env_open(env *e)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_sim_options so = VC_SIM_OPTIONS_INIT;
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;
  vc_store *store;
  char config[256], creds[128], addr[32];
  int port;

  memset(e, 0, sizeof(*e));
  g_now = wall_ms();
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(DB_NAME), NULL));
  mk.key = KEY;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = test_clock;
  o.random_seed = 5;
  CHECK_OK(vc_sim_start(&e->sim, &so));
  port = free_port();
  snprintf(e->base, sizeof(e->base), "http://127.0.0.1:%d", port);
  o.public_base_url = e->base;
  o.allow_private_network = 1;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  CHECK(vc_webhook_listen(e->ctx, addr) == port);
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  ts.slug = "globex";
  CHECK_OK(vc_tenant_new(&e->other, e->ctx, &ts));
  snprintf(config, sizeof(config),
           "{\"account_sid\":\"%s\",\"base_url\":\"%s\"}",
           VC_SIM_TWILIO_ACCOUNT_SID, vc_sim_base_url(e->sim));
  snprintf(creds, sizeof(creds), "{\"auth_token\":\"%s\"}",
           VC_SIM_TWILIO_AUTH_TOKEN);
  s.name = "sms";
  s.provider = "twilio-sms";
  s.config_json = config;
  s.credentials_json = creds;
  s.sender = OUR_NUMBER;
  CHECK_OK(vc_channel_new(&ch, e->t, &s));
  snprintf(e->sms, sizeof(e->sms), "%s", vc_channel_id(ch));
  vc_channel_free(ch);
  sandbox_channel(e->t, "mail", "sandbox-email", "noreply@acme.test",
                  e->mail);
  sandbox_channel(e->t, "voice", "sandbox-voice", "+14155550000", NULL);
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_tenant_free(e->other);
  vc_ctx_free(e->ctx);
  vc_sim_stop(e->sim);
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

static void exec_sql(const char *sql)
{
  sqlite3 *db;

  CHECK(sqlite3_open(vc_test_path(DB_NAME), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
}

/* Post inbound SMS through the simulator, signed as Twilio signs, and
 * wait until the library has answered every one. */
static void post_inbound(env *e, const char *from, const char *text)
{
  char url[160];

  snprintf(url, sizeof(url), "%s/webhooks/%s", e->base, e->sms);
  CHECK_OK(vc_sim_twilio_inbound(e->sim, url, from, OUR_NUMBER, text,
                                 NULL));
}

static void wait_inbound(env *e)
{
  vc_sim_webhook_stats st;

  CHECK_OK(vc_sim_webhooks_wait(e->sim, 20000));
  vc_sim_webhooks_stats(e->sim, &st);
  CHECK(st.failed == 0);
}

static void inbound(env *e, const char *from, const char *text)
{
  post_inbound(e, from, text);
  wait_inbound(e);
}

/* The conversation of the contact holding `phone`. */
static vc_conversation *conversation_of(vc_tenant *t, const char *phone)
{
  vc_conversation *c;
  vc_contact *k;

  CHECK_OK(vc_contact_find_by_address(&k, t, VC_ADDRESS_PHONE, phone));
  CHECK_OK(vc_conversation_lookup_contact(&c, t, vc_contact_id(k)));
  vc_contact_free(k);
  return c;
}

static void conversation_id_of(vc_tenant *t, const char *phone,
                               char id[VC_ID_SIZE])
{
  vc_conversation *c = conversation_of(t, phone);

  snprintf(id, VC_ID_SIZE, "%s", vc_conversation_id(c));
  vc_conversation_free(c);
}

static int audits(const char *action)
{
  char sql[160];

  snprintf(sql, sizeof(sql),
           "SELECT COUNT(*) FROM vc_audit WHERE action = '%s'", action);
  return count_rows(sql);
}

/* ---- inbound, timeline and reply -------------------------------------- */

static void test_inbox__inbound_timeline_reply(void)
{
  vc_conversation_item_filter tf = VC_CONVERSATION_ITEM_FILTER_INIT;
  vc_message_spec ms = VC_MESSAGE_SPEC_INIT;
  vc_call_spec cs = VC_CALL_SPEC_INIT;
  char contact[VC_ID_SIZE], conv[VC_ID_SIZE], mail[VC_ID_SIZE];
  char call_id[VC_ID_SIZE], reply[VC_ID_SIZE], inbound_id[VC_ID_SIZE];
  vc_conversation_item *item;
  vc_conversation *c;
  vc_contact *k;
  vc_message *m;
  vc_call *call;
  vc_iter *it;
  int64_t t0;
  env e;

  env_open(&e);
  t0 = g_now;
  /* An unknown sender writes: a contact and a conversation appear. */
  CHECK(count_rows("SELECT COUNT(*) FROM vc_contact") == 0);
  inbound(&e, "+14155550101", "Hello, has my order shipped?");
  CHECK_OK(vc_contact_find_by_address(&k, e.t, VC_ADDRESS_PHONE,
                                      "+14155550101"));
  snprintf(contact, sizeof(contact), "%s", vc_contact_id(k));
  vc_contact_free(k);
  CHECK_OK(vc_conversation_lookup_contact(&c, e.t, contact));
  snprintf(conv, sizeof(conv), "%s", vc_conversation_id(c));
  CHECK_STR(vc_conversation_contact_id(c), contact);
  CHECK(vc_conversation_status_of(c) == VC_CONVERSATION_OPEN);
  CHECK(vc_conversation_unread(c) == 1);
  CHECK_STR(vc_conversation_last_channel_id(c), e.sms);
  CHECK(vc_conversation_last_channel_kind(c) == VC_CHANNEL_SMS);
  CHECK(vc_conversation_last_activity_at(c) == t0);
  CHECK(vc_conversation_created_at(c) == t0);
  CHECK_STR(vc_conversation_assignee_id(c), "");
  CHECK(vc_conversation_snoozed_until(c) == 0);
  vc_conversation_free(c);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_inbound_message WHERE"
                   " contact_id IS NOT NULL") == 1);

  /* An email to the same contact, then a call, later. */
  CHECK_OK(vc_contact_address_add(e.t, contact, VC_ADDRESS_EMAIL,
                                  "pat@example.com"));
  g_now = t0 + 1000;
  ms.kind = VC_CHANNEL_EMAIL;
  ms.to = "pat@example.com";
  ms.subject = "Your order";
  ms.text = "It left the warehouse today.";
  CHECK_OK(vc_message_send(mail, e.t, &ms));
  g_now = t0 + 2000;
  cs.agent_number = "+14155550111";
  cs.customer_number = "+14155550101";
  CHECK_OK(vc_call_start(&call, e.t, &cs));
  snprintf(call_id, sizeof(call_id), "%s", vc_call_id(call));
  CHECK_STR(vc_call_contact_id(call), contact);
  vc_call_free(call);
  /* Outbound messages and calls leave the conversation as it was. */
  c = conversation_of(e.t, "+14155550101");
  CHECK(vc_conversation_unread(c) == 1);
  CHECK(vc_conversation_last_activity_at(c) == t0);
  vc_conversation_free(c);

  /* The timeline, oldest first. */
  g_now = t0 + 3000;
  tf.conversation_id = conv;
  CHECK_OK(vc_conversation_items(&it, e.t, &tf));
  CHECK_OK(vc_conversation_item_next(&item, it));
  CHECK(vc_conversation_item_type_of(item) == VC_CONVERSATION_ITEM_INBOUND);
  CHECK_STR(vc_conversation_item_type_name(VC_CONVERSATION_ITEM_INBOUND),
            "inbound");
  CHECK_STR(vc_conversation_item_type_name(VC_CONVERSATION_ITEM_CALL),
            "call");
  CHECK_STR(vc_conversation_item_type_name(0), "");
  CHECK_STR(vc_conversation_item_type_name(5), "");
  CHECK(vc_conversation_item_at(item) == t0);
  CHECK(vc_conversation_item_channel_kind(item) == VC_CHANNEL_SMS);
  CHECK_STR(vc_conversation_item_channel_id(item), e.sms);
  CHECK_STR(vc_conversation_item_text(item), "Hello, has my order shipped?");
  CHECK(vc_conversation_item_status(item) == 0);
  snprintf(inbound_id, sizeof(inbound_id), "%s",
           vc_conversation_item_id(item));
  vc_conversation_item_free(item);
  CHECK_OK(vc_conversation_item_next(&item, it));
  CHECK(vc_conversation_item_type_of(item) ==
        VC_CONVERSATION_ITEM_OUTBOUND);
  CHECK_STR(vc_conversation_item_id(item), mail);
  CHECK(vc_conversation_item_at(item) == t0 + 1000);
  CHECK(vc_conversation_item_channel_kind(item) == VC_CHANNEL_EMAIL);
  CHECK_STR(vc_conversation_item_text(item), "Your order");
  CHECK(vc_conversation_item_status(item) == VC_MSG_QUEUED);
  vc_conversation_item_free(item);
  CHECK_OK(vc_conversation_item_next(&item, it));
  CHECK(vc_conversation_item_type_of(item) == VC_CONVERSATION_ITEM_CALL);
  CHECK_STR(vc_conversation_item_id(item), call_id);
  CHECK(vc_conversation_item_at(item) == t0 + 2000);
  CHECK(vc_conversation_item_channel_kind(item) == VC_CHANNEL_VOICE);
  CHECK(vc_conversation_item_status(item) == VC_CALL_INITIATED);
  CHECK_STR(vc_conversation_item_text(item), "");
  vc_conversation_item_free(item);
  CHECK_RC(vc_conversation_item_next(&item, it), VC_ITEROVER);
  vc_iter_free(it);
  /* Newest first; and by contact id, the same timeline. */
  tf.conversation_id = NULL;
  tf.contact_id = contact;
  tf.newest_first = 1;
  CHECK_OK(vc_conversation_items(&it, e.t, &tf));
  CHECK_OK(vc_conversation_item_next(&item, it));
  CHECK_STR(vc_conversation_item_id(item), call_id);
  vc_conversation_item_free(item);
  /* Resume after the call from its cursor. */
  tf.after = vc_iter_cursor(it);
  {
    vc_iter *rest;
    CHECK_OK(vc_conversation_items(&rest, e.t, &tf));
    CHECK_OK(vc_conversation_item_next(&item, rest));
    CHECK_STR(vc_conversation_item_id(item), mail);
    vc_conversation_item_free(item);
    CHECK_OK(vc_conversation_item_next(&item, rest));
    CHECK_STR(vc_conversation_item_id(item), inbound_id);
    vc_conversation_item_free(item);
    CHECK_RC(vc_conversation_item_next(&item, rest), VC_ITEROVER);
    vc_iter_free(rest);
  }
  vc_iter_free(it);

  /* A marketing reply needs an SMS opt-in this contact never gave: the
   * send path's refusal comes back unchanged, nothing changes. */
  memset(&ms, 0, sizeof(ms));
  CHECK_OK(vc_message_spec_init(&ms, VC_MESSAGE_SPEC_VERSION));
  ms.text = "20% off everything this week!";
  ms.category = VC_CATEGORY_MARKETING;
  CHECK_RC(vc_conversation_reply(reply, e.t, conv, &ms), VC_ECONSENT);
  CHECK_STR(reply, "");
  CHECK(audits("conversation.reply") == 0);
  c = conversation_of(e.t, "+14155550101");
  CHECK(vc_conversation_unread(c) == 1);
  CHECK(vc_conversation_status_of(c) == VC_CONVERSATION_OPEN);
  vc_conversation_free(c);

  /* A reply (transactional by default) goes out on the SMS channel to
   * the sender, marks the conversation read and pending. */
  ms.text = "Yes: it left the warehouse today.";
  ms.category = 0;
  CHECK_OK(vc_conversation_reply(reply, e.t, conv, &ms));
  CHECK_OK(vc_message_lookup(&m, e.t, reply));
  CHECK_STR(vc_message_channel_id(m), e.sms);
  CHECK_STR(vc_message_to(m), "+14155550101");
  CHECK_STR(vc_message_contact_id(m), contact);
  CHECK(vc_message_category(m) == VC_CATEGORY_TRANSACTIONAL);
  vc_message_free(m);
  c = conversation_of(e.t, "+14155550101");
  CHECK(vc_conversation_unread(c) == 0);
  CHECK(vc_conversation_status_of(c) == VC_CONVERSATION_PENDING);
  CHECK(vc_conversation_last_activity_at(c) == t0 + 3000);
  vc_conversation_free(c);
  CHECK(audits("conversation.reply") == 1);
  for (int i = 0; i < 20 && vc_sim_sent_count(e.sim, "+14155550101") == 0;
       i++)
    vc_ctx_run(e.ctx, 100);
  CHECK(vc_sim_sent_count(e.sim, "+14155550101") == 1);
  CHECK_OK(vc_message_lookup(&m, e.t, reply));
  CHECK(vc_message_status(m) >= VC_MSG_SENT &&
        vc_message_status(m) <= VC_MSG_READ);
  vc_message_free(m);
  /* The reply closes the timeline. */
  tf.after = NULL;
  CHECK_OK(vc_conversation_items(&it, e.t, &tf));
  CHECK_OK(vc_conversation_item_next(&item, it));
  CHECK_STR(vc_conversation_item_id(item), reply);
  CHECK_STR(vc_conversation_item_text(item),
            "Yes: it left the warehouse today.");
  vc_conversation_item_free(item);
  vc_iter_free(it);

  /* The customer answers: open again, one unread, same contact. */
  g_now = t0 + 4000;
  inbound(&e, "14155550101", "Thanks!");
  c = conversation_of(e.t, "+14155550101");
  CHECK_STR(vc_conversation_id(c), conv);
  CHECK(vc_conversation_unread(c) == 1);
  CHECK(vc_conversation_status_of(c) == VC_CONVERSATION_OPEN);
  CHECK(vc_conversation_last_activity_at(c) == t0 + 4000);
  vc_conversation_free(c);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_contact") == 1);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_conversation") == 1);
  env_close(&e);
}

/* ---- status, snooze, assignment, unread ------------------------------- */

static void test_inbox__status_assign_read(void)
{
  vc_conversation_filter f = VC_CONVERSATION_FILTER_INIT;
  vc_agent_spec as = VC_AGENT_SPEC_INIT;
  char conv[VC_ID_SIZE], agent_id[VC_ID_SIZE], foreign[VC_ID_SIZE];
  vc_conversation *c;
  vc_agent *a;
  vc_iter *it;
  int64_t t0;
  env e;

  env_open(&e);
  t0 = g_now;
  inbound(&e, "+14155550102", "one");
  inbound(&e, "+14155550102", "two");
  conversation_id_of(e.t, "+14155550102", conv);
  c = conversation_of(e.t, "+14155550102");
  CHECK(vc_conversation_unread(c) == 2);
  vc_conversation_free(c);

  /* Statuses. */
  CHECK_OK(vc_conversation_set_status(e.t, conv, VC_CONVERSATION_RESOLVED,
                                      0));
  CHECK_OK(vc_conversation_lookup(&c, e.t, conv));
  CHECK(vc_conversation_status_of(c) == VC_CONVERSATION_RESOLVED);
  CHECK(vc_conversation_unread(c) == 2);
  vc_conversation_free(c);
  CHECK_OK(vc_conversation_set_status(e.t, conv, VC_CONVERSATION_PENDING,
                                      0));
  CHECK_OK(vc_conversation_lookup(&c, e.t, conv));
  CHECK(vc_conversation_status_of(c) == VC_CONVERSATION_PENDING);
  vc_conversation_free(c);
  CHECK_STR(vc_conversation_status_name(VC_CONVERSATION_PENDING), "pending");
  CHECK_STR(vc_conversation_status_name(9), "");
  /* A resolved conversation reopens when the customer writes. */
  CHECK_OK(vc_conversation_set_status(e.t, conv, VC_CONVERSATION_RESOLVED,
                                      0));
  inbound(&e, "+14155550102", "three");
  CHECK_OK(vc_conversation_lookup(&c, e.t, conv));
  CHECK(vc_conversation_status_of(c) == VC_CONVERSATION_OPEN);
  CHECK(vc_conversation_unread(c) == 3);
  vc_conversation_free(c);

  /* Snooze for a minute: snoozed until then, open after. */
  CHECK_RC(vc_conversation_set_status(e.t, conv, VC_CONVERSATION_SNOOZED,
                                      g_now - 1), VC_EINVALID);
  CHECK_RC(vc_conversation_set_status(e.t, conv, VC_CONVERSATION_SNOOZED,
                                      g_now), VC_EINVALID);
  CHECK_RC(vc_conversation_set_status(e.t, conv, VC_CONVERSATION_OPEN,
                                      g_now + 1000), VC_EINVALID);
  CHECK_RC(vc_conversation_set_status(e.t, conv, 0, 0), VC_EINVALID);
  CHECK_RC(vc_conversation_set_status(e.t, conv, 5, 0), VC_EINVALID);
  CHECK_OK(vc_conversation_set_status(e.t, conv, VC_CONVERSATION_SNOOZED,
                                      t0 + 60000));
  CHECK_OK(vc_conversation_lookup(&c, e.t, conv));
  CHECK(vc_conversation_status_of(c) == VC_CONVERSATION_SNOOZED);
  CHECK(vc_conversation_snoozed_until(c) == t0 + 60000);
  vc_conversation_free(c);
  f.status = VC_CONVERSATION_SNOOZED;
  CHECK_OK(vc_conversation_list(&it, e.t, &f));
  CHECK_OK(vc_conversation_next(&c, it));
  CHECK_STR(vc_conversation_id(c), conv);
  vc_conversation_free(c);
  CHECK_RC(vc_conversation_next(&c, it), VC_ITEROVER);
  vc_iter_free(it);
  f.status = VC_CONVERSATION_OPEN;
  CHECK_OK(vc_conversation_list(&it, e.t, &f));
  CHECK_RC(vc_conversation_next(&c, it), VC_ITEROVER);
  vc_iter_free(it);
  g_now = t0 + 60000;           /* the snooze ends: read as open */
  CHECK_OK(vc_conversation_lookup(&c, e.t, conv));
  CHECK(vc_conversation_status_of(c) == VC_CONVERSATION_OPEN);
  CHECK(vc_conversation_snoozed_until(c) == 0);
  vc_conversation_free(c);
  CHECK_OK(vc_conversation_list(&it, e.t, &f));
  CHECK_OK(vc_conversation_next(&c, it));
  CHECK_STR(vc_conversation_id(c), conv);
  vc_conversation_free(c);
  vc_iter_free(it);
  f.status = VC_CONVERSATION_SNOOZED;
  CHECK_OK(vc_conversation_list(&it, e.t, &f));
  CHECK_RC(vc_conversation_next(&c, it), VC_ITEROVER);
  vc_iter_free(it);
  /* A snoozed conversation wakes early when the customer writes. */
  CHECK_OK(vc_conversation_set_status(e.t, conv, VC_CONVERSATION_SNOOZED,
                                      g_now + 3600000));
  inbound(&e, "+14155550102", "four");
  CHECK_OK(vc_conversation_lookup(&c, e.t, conv));
  CHECK(vc_conversation_status_of(c) == VC_CONVERSATION_OPEN);
  CHECK(vc_conversation_snoozed_until(c) == 0);
  vc_conversation_free(c);
  CHECK(audits("conversation.status") == 5);

  /* Assignment. */
  as.name = "alice";
  as.number = "+14155550111";
  CHECK_OK(vc_agent_new(&a, e.t, &as));
  snprintf(agent_id, sizeof(agent_id), "%s", vc_agent_id(a));
  vc_agent_free(a);
  CHECK_OK(vc_agent_new(&a, e.other, &as));
  snprintf(foreign, sizeof(foreign), "%s", vc_agent_id(a));
  vc_agent_free(a);
  CHECK_OK(vc_conversation_assign(e.t, conv, agent_id));
  CHECK_OK(vc_conversation_lookup(&c, e.t, conv));
  CHECK_STR(vc_conversation_assignee_id(c), agent_id);
  vc_conversation_free(c);
  /* An unknown agent or name, or another tenant's: not found. */
  CHECK_RC(vc_conversation_assign(e.t, conv, "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
           VC_ENOTFOUND);
  CHECK_RC(vc_conversation_assign(e.t, conv, foreign), VC_ENOTFOUND);
  CHECK_RC(vc_conversation_assign(e.t, conv, "bob"), VC_ENOTFOUND);
  CHECK_RC(vc_conversation_assign(e.t, conv, NULL), VC_EINVALID);
  CHECK_OK(vc_conversation_lookup(&c, e.t, conv));
  CHECK_STR(vc_conversation_assignee_id(c), agent_id);
  vc_conversation_free(c);
  /* By name: the agent's id is stored. */
  CHECK_OK(vc_conversation_unassign(e.t, conv));
  CHECK_OK(vc_conversation_assign(e.t, conv, "alice"));
  CHECK_OK(vc_conversation_lookup(&c, e.t, conv));
  CHECK_STR(vc_conversation_assignee_id(c), agent_id);
  vc_conversation_free(c);
  CHECK_OK(vc_conversation_unassign(e.t, conv));
  CHECK_OK(vc_conversation_lookup(&c, e.t, conv));
  CHECK_STR(vc_conversation_assignee_id(c), "");
  vc_conversation_free(c);
  CHECK(audits("conversation.assign") == 2);
  CHECK(audits("conversation.unassign") == 2);
  /* Deleting the assignee unassigns the conversation. */
  CHECK_OK(vc_conversation_assign(e.t, conv, agent_id));
  CHECK_OK(vc_agent_lookup(&a, e.t, agent_id));
  CHECK_OK(vc_agent_delete(a));
  vc_agent_free(a);
  CHECK_OK(vc_conversation_lookup(&c, e.t, conv));
  CHECK_STR(vc_conversation_assignee_id(c), "");
  CHECK(vc_conversation_updated_at(c) == g_now);
  vc_conversation_free(c);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_audit WHERE action ="
                   " 'agent.delete' AND summary LIKE"
                   " '%\"conversations\":1}'") == 1);

  /* Read. */
  CHECK_OK(vc_conversation_mark_read(e.t, conv));
  CHECK_OK(vc_conversation_lookup(&c, e.t, conv));
  CHECK(vc_conversation_unread(c) == 0);
  CHECK(vc_conversation_updated_at(c) == g_now);
  vc_conversation_free(c);
  CHECK(audits("conversation.read") == 1);
  env_close(&e);
}

/* ---- list, filters, cursor paging, search ----------------------------- */

#define N_CONV 120

static void phone_of(char out[32], int i)
{
  snprintf(out, 32, "+1415555%04d", 1000 + i);
}

/* Walk a list to its end: the number of conversations, checking the
 * order (newest activity first, then id). */
static int walk(vc_tenant *t, const vc_conversation_filter *f)
{
  int64_t prev_at = INT64_MAX;
  char prev_id[VC_ID_SIZE] = "~";
  vc_conversation *c;
  vc_iter *it;
  int n = 0, rc;

  CHECK_OK(vc_conversation_list(&it, t, f));
  while ((rc = vc_conversation_next(&c, it)) == 0) {
    int64_t at = vc_conversation_last_activity_at(c);
    CHECK(at < prev_at ||
          (at == prev_at && strcmp(vc_conversation_id(c), prev_id) < 0));
    prev_at = at;
    snprintf(prev_id, sizeof(prev_id), "%s", vc_conversation_id(c));
    vc_conversation_free(c);
    n++;
  }
  CHECK(rc == VC_ITEROVER);
  vc_iter_free(it);
  return n;
}

static void test_inbox__list_filters_search(void)
{
  vc_conversation_filter f = VC_CONVERSATION_FILTER_INIT;
  vc_contact_spec ks = VC_CONTACT_SPEC_INIT;
  vc_agent_spec as = VC_AGENT_SPEC_INIT;
  char phone[32], text[64], agent_id[VC_ID_SIZE], conv[VC_ID_SIZE];
  char cursor[64], seen[N_CONV][VC_ID_SIZE], big[256];
  vc_conversation *c;
  vc_contact *k;
  vc_agent *a;
  vc_iter *it;
  int64_t t0, mid;
  int n;
  env e;

  env_open(&e);
  t0 = g_now;
  /* Two at each time: ties are ordered by id. */
  for (int i = 0; i < N_CONV; i++) {
    g_now = t0 + (i / 2) * 1000;
    phone_of(phone, i);
    snprintf(text, sizeof(text), "question number %d", i);
    inbound(&e, phone, i == 7 ? "Is 50% off_today?" : text);
  }
  CHECK(count_rows("SELECT COUNT(*) FROM vc_conversation") == N_CONV);
  CHECK(walk(e.t, NULL) == N_CONV);
  CHECK(walk(e.t, &f) == N_CONV);

  /* Paging: 30, then resume from the cursor for the rest; no repeats. */
  CHECK_OK(vc_conversation_list(&it, e.t, &f));
  for (n = 0; n < 30; n++) {
    CHECK_OK(vc_conversation_next(&c, it));
    snprintf(seen[n], VC_ID_SIZE, "%s", vc_conversation_id(c));
    vc_conversation_free(c);
  }
  snprintf(cursor, sizeof(cursor), "%s", vc_iter_cursor(it));
  vc_iter_free(it);
  f.after = cursor;
  CHECK_OK(vc_conversation_list(&it, e.t, &f));
  while (vc_conversation_next(&c, it) == 0) {
    for (int j = 0; j < n; j++)
      CHECK(strcmp(seen[j], vc_conversation_id(c)) != 0);
    CHECK(n < N_CONV);
    snprintf(seen[n++], VC_ID_SIZE, "%s", vc_conversation_id(c));
    vc_conversation_free(c);
  }
  vc_iter_free(it);
  CHECK(n == N_CONV);
  f.after = NULL;
  /* The newest is the last one written. */
  CHECK_OK(vc_conversation_list(&it, e.t, &f));
  CHECK_OK(vc_conversation_next(&c, it));
  CHECK(vc_conversation_last_activity_at(c) == t0 + 59000);
  vc_conversation_free(c);
  vc_iter_free(it);

  /* Filters. */
  as.name = "bob";
  as.number = "+14155550112";
  CHECK_OK(vc_agent_new(&a, e.t, &as));
  snprintf(agent_id, sizeof(agent_id), "%s", vc_agent_id(a));
  vc_agent_free(a);
  mid = g_now + 1;
  g_now = mid;
  for (int i = 0; i < 10; i++) {
    phone_of(phone, i);
    conversation_id_of(e.t, phone, conv);
    CHECK_OK(vc_conversation_mark_read(e.t, conv));
    if (i < 4)
      CHECK_OK(vc_conversation_assign(e.t, conv, agent_id));
    if (i < 3)
      CHECK_OK(vc_conversation_set_status(e.t, conv,
                                          VC_CONVERSATION_RESOLVED, 0));
  }
  f.unread = 1;
  CHECK(walk(e.t, &f) == N_CONV - 10);
  f.unread = 0;
  f.assignee_id = agent_id;
  CHECK(walk(e.t, &f) == 4);
  f.assignee_id = NULL;
  f.unassigned = 1;
  CHECK(walk(e.t, &f) == N_CONV - 4);
  f.status = VC_CONVERSATION_RESOLVED;
  CHECK(walk(e.t, &f) == 0);     /* the resolved ones are assigned */
  f.unassigned = 0;
  CHECK(walk(e.t, &f) == 3);
  f.status = VC_CONVERSATION_OPEN;
  CHECK(walk(e.t, &f) == N_CONV - 3);
  f.status = 0;
  f.channel_kind = VC_CHANNEL_SMS;
  CHECK(walk(e.t, &f) == N_CONV);
  f.channel_kind = VC_CHANNEL_EMAIL;
  CHECK(walk(e.t, &f) == 0);
  f.channel_kind = 0;
  f.updated_since = mid;
  CHECK(walk(e.t, &f) == 10);
  f.updated_since = 0;

  /* Search: the contact's name (either case), an address, inbound text;
   * LIKE's wildcards are plain characters. */
  phone_of(phone, 42);
  CHECK_OK(vc_contact_find_by_address(&k, e.t, VC_ADDRESS_PHONE, phone));
  ks.name = "Priya Raman";
  CHECK_OK(vc_contact_update(e.t, vc_contact_id(k), &ks));
  vc_contact_free(k);
  f.text = "raman";
  CHECK(walk(e.t, &f) == 1);
  f.text = "PRIYA R";
  CHECK(walk(e.t, &f) == 1);
  f.text = "5551042";
  CHECK(walk(e.t, &f) == 1);
  f.text = "number 11";     /* 11, 110..119 */
  CHECK(walk(e.t, &f) == 11);
  f.text = "50% off_";
  CHECK(walk(e.t, &f) == 1);
  f.text = "%";
  CHECK(walk(e.t, &f) == 1);
  f.text = "_";
  CHECK(walk(e.t, &f) == 1);
  f.text = "number_1";
  CHECK(walk(e.t, &f) == 0);
  f.text = "question";
  f.unread = 1;
  CHECK(walk(e.t, &f) == N_CONV - 10);  /* 0..9 were read */
  f.unread = 0;
  /* An outbound message's text is searched too. */
  {
    vc_message_spec ms = VC_MESSAGE_SPEC_INIT;
    char id[VC_ID_SIZE];
    phone_of(phone, 99);
    ms.kind = VC_CHANNEL_SMS;
    ms.to = phone;
    ms.text = "Your refund is on its way";
    CHECK_OK(vc_message_send(id, e.t, &ms));
    f.text = "REFUND";
    CHECK(walk(e.t, &f) == 1);
  }
  /* Bounds. */
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  big[VC_CONVERSATION_SEARCH_MAX] = '\0';
  f.text = big;
  CHECK(walk(e.t, &f) == 0);
  big[VC_CONVERSATION_SEARCH_MAX] = 'a';
  CHECK_RC(vc_conversation_list(&it, e.t, &f), VC_ETOOBIG);
  f.text = "bad\nline";
  CHECK_RC(vc_conversation_list(&it, e.t, &f), VC_EINVALID);
  f.text = "\xff\xfe";
  CHECK_RC(vc_conversation_list(&it, e.t, &f), VC_EENCODING);
  f.text = NULL;
  env_close(&e);
}

/* ---- a channel's rules: WhatsApp's 24-hour window ---------------------- */

#define WINDOW_TEXT "outside the 24-hour customer service window; a " \
  "WhatsApp template is required"

/* The customer writes on SMS, then on WhatsApp: one contact, one
 * conversation, and the reply follows them to WhatsApp, where the
 * channel's window decides whether free text may go. */
static void test_inbox__whatsapp_reply_window(void)
{
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_message_spec ms = VC_MESSAGE_SPEC_INIT;
  char config[512], creds[256], url[160], wa[VC_ID_SIZE], conv[VC_ID_SIZE];
  char id[VC_ID_SIZE];
  vc_conversation *c;
  vc_channel *ch;
  vc_message *m;
  env e;

  env_open(&e);
  snprintf(config, sizeof(config), "{\"phone_number_id\": \"%s\", "
           "\"base_url\": \"%s/graph\"}", VC_SIM_WHATSAPP_PHONE_NUMBER_ID,
           vc_sim_base_url(e.sim));
  snprintf(creds, sizeof(creds), "{\"access_token\": \"%s\", "
           "\"app_secret\": \"%s\", \"verify_token\": \"v\"}",
           VC_SIM_WHATSAPP_ACCESS_TOKEN, VC_SIM_WHATSAPP_APP_SECRET);
  s.name = "wa";
  s.provider = "whatsapp";
  s.config_json = config;
  s.credentials_json = creds;
  CHECK_OK(vc_channel_new(&ch, e.t, &s));
  snprintf(wa, sizeof(wa), "%s", vc_channel_id(ch));
  snprintf(url, sizeof(url), "%s/webhooks/%s", e.base, wa);
  vc_channel_free(ch);
  w.url = url;
  CHECK_OK(vc_sim_webhooks_set(e.sim, "whatsapp", &w));

  /* Twilio's inbound carries no time (received now, by our clock);
   * WhatsApp's carries Meta's, in seconds, from the wall clock. */
  g_now = wall_ms() - 5000;
  inbound(&e, "+14155550160", "Hi by SMS");
  g_now = wall_ms();
  CHECK_OK(vc_sim_whatsapp_inbound(e.sim, "14155550160", "Hi on WhatsApp"));
  wait_inbound(&e);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_contact") == 1);
  c = conversation_of(e.t, "+14155550160");
  snprintf(conv, sizeof(conv), "%s", vc_conversation_id(c));
  CHECK(vc_conversation_unread(c) == 2);
  CHECK_STR(vc_conversation_last_channel_id(c), wa);
  CHECK(vc_conversation_last_channel_kind(c) == VC_CHANNEL_CHAT);
  vc_conversation_free(c);

  /* Inside the window: free text goes out on WhatsApp. */
  ms.text = "Hello from support";
  CHECK_OK(vc_conversation_reply(id, e.t, conv, &ms));
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK_STR(vc_message_channel_id(m), wa);
  CHECK_STR(vc_message_to(m), "14155550160");
  vc_message_free(m);
  for (int i = 0; i < 5; i++)
    vc_ctx_run(e.ctx, 0);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) >= VC_MSG_SENT &&
        vc_message_status(m) <= VC_MSG_READ);
  vc_message_free(m);

  /* A day later the window has closed: the reply is accepted and the
   * channel's rule refuses it at dispatch, as for any send. */
  g_now += 25LL * 3600 * 1000;
  ms.text = "Anything else?";
  CHECK_OK(vc_conversation_reply(id, e.t, conv, &ms));
  for (int i = 0; i < 5; i++)
    vc_ctx_run(e.ctx, 0);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_FAILED);
  CHECK(vc_message_error(m) == VC_ESTATE);
  CHECK_STR(vc_message_error_message(m), WINDOW_TEXT);
  vc_message_free(m);
  env_close(&e);
}

/* ---- tenant isolation and bad input ----------------------------------- */

static void test_inbox__isolation_bad_input(void)
{
  vc_conversation_item_filter tf = VC_CONVERSATION_ITEM_FILTER_INIT;
  vc_conversation_filter f = VC_CONVERSATION_FILTER_INIT;
  vc_message_spec ms = VC_MESSAGE_SPEC_INIT;
  static const char UNKNOWN[] = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  char conv[VC_ID_SIZE], id[VC_ID_SIZE], contact[VC_ID_SIZE], sql[200];
  vc_conversation_item *item;
  vc_conversation *c;
  vc_iter *it;
  env e;

  env_open(&e);
  inbound(&e, "+14155550103", "hello");
  conversation_id_of(e.t, "+14155550103", conv);
  c = conversation_of(e.t, "+14155550103");
  snprintf(contact, sizeof(contact), "%s", vc_conversation_contact_id(c));
  vc_conversation_free(c);

  /* Another tenant sees and changes nothing. */
  CHECK_RC(vc_conversation_lookup(&c, e.other, conv), VC_ENOTFOUND);
  CHECK_RC(vc_conversation_lookup_contact(&c, e.other, contact),
           VC_ENOTFOUND);
  CHECK_RC(vc_conversation_set_status(e.other, conv,
                                      VC_CONVERSATION_RESOLVED, 0),
           VC_ENOTFOUND);
  CHECK_RC(vc_conversation_mark_read(e.other, conv), VC_ENOTFOUND);
  CHECK_RC(vc_conversation_unassign(e.other, conv), VC_ENOTFOUND);
  ms.text = "not yours";
  CHECK_RC(vc_conversation_reply(id, e.other, conv, &ms), VC_ENOTFOUND);
  tf.conversation_id = conv;
  CHECK_RC(vc_conversation_items(&it, e.other, &tf), VC_ENOTFOUND);
  tf.conversation_id = NULL;
  tf.contact_id = contact;
  CHECK_RC(vc_conversation_items(&it, e.other, &tf), VC_ENOTFOUND);
  CHECK_OK(vc_conversation_list(&it, e.other, NULL));
  CHECK_RC(vc_conversation_next(&c, it), VC_ITEROVER);
  vc_iter_free(it);
  f.text = "hello";
  CHECK_OK(vc_conversation_list(&it, e.other, &f));
  CHECK_RC(vc_conversation_next(&c, it), VC_ITEROVER);
  vc_iter_free(it);
  CHECK_OK(vc_conversation_lookup(&c, e.t, conv));
  CHECK(vc_conversation_status_of(c) == VC_CONVERSATION_OPEN);
  CHECK(vc_conversation_unread(c) == 1);
  vc_conversation_free(c);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message") == 0);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_audit WHERE action LIKE"
                   " 'conversation.%'") == 0);

  /* Unknown and malformed ids. */
  CHECK_RC(vc_conversation_lookup(&c, e.t, UNKNOWN), VC_ENOTFOUND);
  CHECK_RC(vc_conversation_lookup(&c, e.t, "nope"), VC_EINVALID);
  CHECK_RC(vc_conversation_lookup(&c, e.t, NULL), VC_EINVALID);
  CHECK_RC(vc_conversation_lookup_contact(&c, e.t, UNKNOWN), VC_ENOTFOUND);
  CHECK_RC(vc_conversation_set_status(e.t, UNKNOWN,
                                      VC_CONVERSATION_RESOLVED, 0),
           VC_ENOTFOUND);
  CHECK_RC(vc_conversation_mark_read(e.t, UNKNOWN), VC_ENOTFOUND);
  CHECK_RC(vc_conversation_reply(id, e.t, UNKNOWN, &ms), VC_ENOTFOUND);
  CHECK_RC(vc_conversation_reply(id, e.t, "x", &ms), VC_EINVALID);
  CHECK_RC(vc_conversation_assign(e.t, conv, NULL), VC_EINVALID);

  /* A reply decides its own channel and recipient. */
  ms.to = "+14155550999";
  CHECK_RC(vc_conversation_reply(id, e.t, conv, &ms), VC_EINVALID);
  ms.to = NULL;
  ms.channel = "sms";
  CHECK_RC(vc_conversation_reply(id, e.t, conv, &ms), VC_EINVALID);
  ms.channel = NULL;
  ms.contact_id = contact;
  CHECK_RC(vc_conversation_reply(id, e.t, conv, &ms), VC_EINVALID);
  ms.contact_id = NULL;
  ms.text = NULL;               /* no body: the send path's refusal */
  CHECK_RC(vc_conversation_reply(id, e.t, conv, &ms), VC_EINVALID);
  ms.version = 99;
  CHECK_RC(vc_conversation_reply(id, e.t, conv, &ms), VC_EVERSION);
  ms.version = VC_MESSAGE_SPEC_VERSION;
  /* Nothing left to answer: not found, with a clear message. */
  snprintf(sql, sizeof(sql), "UPDATE vc_conversation SET last_inbound_id"
           " = NULL WHERE id = '%s'", conv);
  exec_sql(sql);
  ms.text = "hello?";
  CHECK_RC(vc_conversation_reply(id, e.t, conv, &ms), VC_ENOTFOUND);
  CHECK(strstr(vc_error_last()->message, "no inbound message") != NULL);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message") == 0);

  /* Lists and timelines. */
  CHECK_RC(vc_conversation_items(&it, e.t, NULL), VC_EINVALID);
  tf.conversation_id = conv;
  CHECK_RC(vc_conversation_items(&it, e.t, &tf), VC_EINVALID);  /* both */
  tf.contact_id = NULL;
  tf.after = "12:nope";
  CHECK_RC(vc_conversation_items(&it, e.t, &tf), VC_EINVALID);
  tf.after = "x:01ARZ3NDEKTSV4RRFFQ69G5FAV";
  CHECK_RC(vc_conversation_items(&it, e.t, &tf), VC_EINVALID);
  tf.after = NULL;
  tf.conversation_id = UNKNOWN;
  CHECK_RC(vc_conversation_items(&it, e.t, &tf), VC_ENOTFOUND);
  tf.conversation_id = conv;
  tf.version = 0;
  CHECK_RC(vc_conversation_items(&it, e.t, &tf), VC_EVERSION);
  tf.version = VC_CONVERSATION_ITEM_FILTER_VERSION;
  CHECK_OK(vc_conversation_items(&it, e.t, &tf));
  CHECK_OK(vc_conversation_item_next(&item, it));
  vc_conversation_item_free(item);
  CHECK_RC(vc_conversation_next(&c, it), VC_EINVALID);  /* wrong kind */
  vc_iter_free(it);
  f.text = NULL;
  f.after = "garbage";
  CHECK_RC(vc_conversation_list(&it, e.t, &f), VC_EINVALID);
  f.after = NULL;
  f.status = 7;
  CHECK_RC(vc_conversation_list(&it, e.t, &f), VC_EINVALID);
  f.status = 0;
  f.channel_kind = 9;
  CHECK_RC(vc_conversation_list(&it, e.t, &f), VC_EINVALID);
  f.channel_kind = 0;
  f.assignee_id = "bob";
  CHECK_RC(vc_conversation_list(&it, e.t, &f), VC_EINVALID);
  f.assignee_id = UNKNOWN;
  f.unassigned = 1;
  CHECK_RC(vc_conversation_list(&it, e.t, &f), VC_EINVALID);
  f.unassigned = 0;
  f.assignee_id = NULL;
  f.updated_since = -1;
  CHECK_RC(vc_conversation_list(&it, e.t, &f), VC_EINVALID);
  f.updated_since = 0;
  f.version = 2;
  CHECK_RC(vc_conversation_list(&it, e.t, &f), VC_EVERSION);
  CHECK_OK(vc_conversation_filter_init(&f, VC_CONVERSATION_FILTER_VERSION));
  CHECK_OK(vc_conversation_item_filter_init(
    &tf, VC_CONVERSATION_ITEM_FILTER_VERSION));
  CHECK(tf.conversation_id == NULL && tf.newest_first == 0);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_inbox__inbound_timeline_reply),
  VC_TEST(test_inbox__status_assign_read),
  VC_TEST(test_inbox__list_filters_search),
  VC_TEST(test_inbox__whatsapp_reply_window),
  VC_TEST(test_inbox__isolation_bad_input),
)
