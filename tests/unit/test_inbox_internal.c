/*
 * The inbox's hooks (src/msg/msg_hooks.h) on the caller's connection:
 * threading inbound messages of every address kind (an email sender
 * with a display name, a sender that is no address at all, messages
 * arriving out of order), the automation rules' assignment of a
 * contact's conversation, and the erasure of a contact's conversations;
 * and the timeline of a contact with another merged into it.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/tenant.h"
#include "store/db.h"
#include "msg/contact.h"
#include "msg/msg_hooks.h"
#include "harness.h"

#include <stdio.h>

static int64_t g_now = 1700000000000LL;

static int64_t env_clock(void *p) { (void)p; return g_now; }

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
  const char *tid;
} env;

static void env_open(env *e)
{
  static const uint8_t key[32] = { 5, 5, 5 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("i.db"), NULL));
  mk.key = key;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = env_clock;
  o.random_seed = 9;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  e->tid = vc_tenant_id(e->t);
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

/* Run one hook call in a transaction of its own, as the webhook does. */
static int on_inbound(env *e, const char *id, const char *channel, int kind,
                      const char *from, int64_t at)
{
  vc__msg_inbound m = { e->tid, id, channel, kind, from, "hi", at };
  vc__db *db;
  int rc;

  CHECK_OK(vc__db_acquire(&db, e->ctx->store));
  CHECK_OK(vc__db_begin(db));
  if ((rc = vc__msg_on_inbound(db, e->ctx, &m)) == 0)
    CHECK_OK(vc__db_commit(db));
  else
    vc__db_rollback(db);
  vc__db_release(db);
  return rc;
}

static int assign(env *e, const char *contact, const char *agent)
{
  vc__db *db;
  int rc;

  CHECK_OK(vc__db_acquire(&db, e->ctx->store));
  rc = vc__inbox_assign_contact(db, e->ctx, e->tid, contact, agent);
  vc__db_release(db);
  return rc;
}

static void erase(env *e, const char *contact)
{
  vc__db *db;

  CHECK_OK(vc__db_acquire(&db, e->ctx->store));
  CHECK_OK(vc__inbox_erase_contact(db, e->ctx, e->tid, contact));
  vc__db_release(db);
}

#define CH1 "01HZZZZZZZZZZZZZZZZZZZZZZ1"
#define CH2 "01HZZZZZZZZZZZZZZZZZZZZZZ2"

static void test_inbox_internal__threading(void)
{
  vc_conversation *c;
  vc_contact *k;
  env e;

  env_open(&e);
  /* An email sender with a display name becomes a contact. */
  CHECK_OK(on_inbound(&e, "01HAAAAAAAAAAAAAAAAAAAAAA1", CH1,
                      VC_CHANNEL_EMAIL, "Pat Lee <Pat@Example.COM>", g_now));
  CHECK_OK(vc_contact_find_by_address(&k, e.t, VC_ADDRESS_EMAIL,
                                      "Pat@example.com"));
  CHECK_OK(vc_conversation_lookup_contact(&c, e.t, vc_contact_id(k)));
  CHECK(vc_conversation_unread(c) == 1);
  CHECK(vc_conversation_last_channel_kind(c) == VC_CHANNEL_EMAIL);
  CHECK_STR(vc_conversation_last_channel_id(c), CH1);
  vc_conversation_free(c);
  /* An earlier message arriving later counts, but the latest inbound
   * still decides the reply's channel. */
  CHECK_OK(on_inbound(&e, "01HAAAAAAAAAAAAAAAAAAAAAA2", CH2,
                      VC_CHANNEL_EMAIL, "Pat@example.com", g_now - 5000));
  CHECK_OK(vc_conversation_lookup_contact(&c, e.t, vc_contact_id(k)));
  CHECK(vc_conversation_unread(c) == 2);
  CHECK_STR(vc_conversation_last_channel_id(c), CH1);
  CHECK(vc_conversation_last_activity_at(c) == g_now);
  vc_conversation_free(c);
  vc_contact_free(k);
  /* A sender that is no address: the message stays outside the inbox,
   * and the webhook goes on. */
  CHECK_OK(on_inbound(&e, "01HAAAAAAAAAAAAAAAAAAAAAA3", CH1,
                      VC_CHANNEL_SMS, "not a number", g_now));
  CHECK_OK(on_inbound(&e, "01HAAAAAAAAAAAAAAAAAAAAAA4", CH1,
                      VC_CHANNEL_EMAIL, "", g_now));
  {
    vc_iter *it;
    int n = 0;
    CHECK_OK(vc_conversation_list(&it, e.t, NULL));
    while (vc_conversation_next(&c, it) == 0) {
      vc_conversation_free(c);
      n++;
    }
    vc_iter_free(it);
    CHECK(n == 1);
  }
  env_close(&e);
}

static void test_inbox_internal__assign_erase_merge(void)
{
  vc_conversation_item_filter tf = VC_CONVERSATION_ITEM_FILTER_INIT;
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;
  vc_agent_spec as = VC_AGENT_SPEC_INIT;
  vc_message_spec ms = VC_MESSAGE_SPEC_INIT;
  char a[VC_ID_SIZE], b[VC_ID_SIZE], msg_a[VC_ID_SIZE], msg_b[VC_ID_SIZE];
  char conv[VC_ID_SIZE];
  vc_conversation_item *item;
  vc_conversation *c;
  vc_agent *ag;
  vc_iter *it;
  env e;

  env_open(&e);
  {
    vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
    vc_channel *ch;
    cs.name = "sms";
    cs.provider = "sandbox-sms";
    cs.sender = "+15005550006";
    CHECK_OK(vc_channel_new(&ch, e.t, &cs));
    vc_channel_free(ch);
  }
  s.phone = "+14155550130";
  CHECK_OK(vc_contact_upsert(a, e.t, &s));
  s.phone = "+14155550131";
  CHECK_OK(vc_contact_upsert(b, e.t, &s));
  as.name = "carol";
  as.number = "+14155550113";
  CHECK_OK(vc_agent_new(&ag, e.t, &as));

  /* Rules assign by name or id; a contact without a conversation gets
   * one, open and read. */
  CHECK_RC(assign(&e, a, "nobody"), VC_ENOTFOUND);
  CHECK_RC(assign(&e, a, ""), VC_ENOTFOUND);
  CHECK_RC(assign(&e, "01ARZ3NDEKTSV4RRFFQ69G5FAV", "carol"), VC_ENOTFOUND);
  CHECK_RC(vc_conversation_lookup_contact(&c, e.t, a), VC_ENOTFOUND);
  CHECK_OK(assign(&e, a, "carol"));
  CHECK_OK(vc_conversation_lookup_contact(&c, e.t, a));
  CHECK_STR(vc_conversation_assignee_id(c), vc_agent_id(ag));
  CHECK(vc_conversation_status_of(c) == VC_CONVERSATION_OPEN);
  CHECK(vc_conversation_unread(c) == 0);
  CHECK(vc_conversation_last_channel_kind(c) == 0);
  snprintf(conv, sizeof(conv), "%s", vc_conversation_id(c));
  vc_conversation_free(c);
  CHECK_OK(assign(&e, a, vc_agent_id(ag)));
  CHECK_OK(vc_conversation_lookup_contact(&c, e.t, a));
  CHECK_STR(vc_conversation_id(c), conv);
  vc_conversation_free(c);
  /* Nothing to answer yet. */
  ms.text = "hello";
  CHECK_RC(vc_conversation_reply(msg_a, e.t, conv, &ms), VC_ENOTFOUND);

  /* The timeline of a contact reads the ids merged into it. */
  ms.kind = VC_CHANNEL_SMS;
  ms.to = "+14155550130";
  CHECK_OK(vc_message_send(msg_a, e.t, &ms));
  g_now += 1000;
  ms.to = "+14155550131";
  CHECK_OK(vc_message_send(msg_b, e.t, &ms));
  CHECK_OK(assign(&e, b, "carol"));
  CHECK_OK(vc_contact_merge(e.t, a, b));
  tf.conversation_id = conv;
  CHECK_OK(vc_conversation_items(&it, e.t, &tf));
  CHECK_OK(vc_conversation_item_next(&item, it));
  CHECK_STR(vc_conversation_item_id(item), msg_a);
  vc_conversation_item_free(item);
  CHECK_OK(vc_conversation_item_next(&item, it));
  CHECK_STR(vc_conversation_item_id(item), msg_b);
  vc_conversation_item_free(item);
  CHECK_RC(vc_conversation_item_next(&item, it), VC_ITEROVER);
  vc_iter_free(it);
  /* The merged contact's id names the survivor's conversation; its own
   * old conversation is left out of lists. */
  CHECK_OK(vc_conversation_lookup_contact(&c, e.t, b));
  CHECK_STR(vc_conversation_id(c), conv);
  vc_conversation_free(c);
  {
    int n = 0;
    CHECK_OK(vc_conversation_list(&it, e.t, NULL));
    while (vc_conversation_next(&c, it) == 0) {
      CHECK_STR(vc_conversation_id(c), conv);
      vc_conversation_free(c);
      n++;
    }
    vc_iter_free(it);
    CHECK(n == 1);
  }

  /* Erasure removes the contact's conversations, the merged one's too. */
  erase(&e, a);
  CHECK_RC(vc_conversation_lookup(&c, e.t, conv), VC_ENOTFOUND);
  {
    vc__db *db;
    vc__stmt *st;
    CHECK_OK(vc__db_acquire(&db, e.ctx->store));
    CHECK_OK(vc__db_query(&st, db, "SELECT COUNT(*) FROM vc_conversation",
                          ""));
    CHECK(vc__stmt_step(st) == VC_STORAGE_ROW);
    CHECK(vc__stmt_int64(st, 0) == 0);
    vc__stmt_done(st);
    vc__db_release(db);
  }
  vc_agent_free(ag);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_inbox_internal__threading),
  VC_TEST(test_inbox_internal__assign_erase_merge),
)
