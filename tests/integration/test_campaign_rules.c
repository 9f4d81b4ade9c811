/*
 * A campaign's fan-out against real consent refusals and quiet hours:
 * contact 1 opted out of marketing on every kind, contact 2 of marketing
 * on chat only, contact 3 (in Tokyo) is in its own quiet hours, contact 4
 * has no address.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <sqlite3.h>
#include <stdio.h>

static int64_t g_now = 1700000000000LL;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return g_now;
}

static void contact_id(char out[VC_ID_SIZE], int n)
{
  snprintf(out, VC_ID_SIZE, "01HZZZZZZZZZZZZZZZZ%07d", n);
}

/* Contact n opts out of marketing on `kind`. */
static void opt_out(vc_tenant *t, int n, int kind)
{
  vc_consent_spec c = VC_CONSENT_SPEC_INIT;
  char id[VC_ID_SIZE];

  contact_id(id, n);
  c.contact_id = id;
  c.kind = kind;
  c.category = VC_CATEGORY_MARKETING;
  c.state = VC_CONSENT_OPTED_OUT;
  CHECK_OK(vc_consent_set(t, &c));
}

static void sql(sqlite3 *db, const char *q)
{
  CHECK(sqlite3_exec(db, q, NULL, NULL, NULL) == SQLITE_OK);
}

static void test_campaign_rules__consent_and_quiet_hours(void)
{
  static const uint8_t key[32] = { 5 };
  static const char *chain[] = { "whatsapp", "sms" };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_template_spec tp = VC_TEMPLATE_SPEC_INIT;
  vc_campaign_spec s = VC_CAMPAIGN_SPEC_INIT;
  vc_campaign_counters k = VC_CAMPAIGN_COUNTERS_INIT;
  vc_template *tpl;
  vc_campaign *c;
  vc_channel *ch;
  vc_store *store;
  vc_tenant *t;
  vc_ctx *ctx;
  sqlite3 *db;
  char q[400], id[VC_ID_SIZE];

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("r.db"), NULL));
  mk.key = key;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = test_clock;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&t, ctx, &ts));
  cs.name = "sms";
  cs.provider = "sandbox-sms";
  cs.sender = "+15550001111";
  CHECK_OK(vc_channel_new(&ch, t, &cs));
  vc_channel_free(ch);
  cs.name = "wa";
  cs.provider = "sandbox-chat";
  CHECK_OK(vc_channel_new(&ch, t, &cs));
  vc_channel_free(ch);
  tp.name = "offer";
  tp.kind = VC_CHANNEL_SMS;
  tp.text_body = "Sale today";
  CHECK_OK(vc_template_new(&tpl, t, &tp));
  tp.name = NULL;
  tp.kind = VC_CHANNEL_CHAT;
  CHECK_OK(vc_template_add_variant(tpl, &tp));
  vc_template_free(tpl);
  CHECK(sqlite3_open(vc_test_path("r.db"), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  for (int i = 1; i <= 4; i++) {
    contact_id(id, i);
    snprintf(q, sizeof(q), "INSERT INTO vc_contact (tenant_id, id,"
             " timezone, quiet_start_min, quiet_end_min, created_at,"
             " updated_at) VALUES ('%s', '%s', %s, 1, 1);"
             " INSERT INTO vc_contact_tag VALUES ('%s', 't', '%s')",
             vc_tenant_id(t), id,
             i == 3 ? "'Asia/Tokyo', 0, 480" : "NULL, NULL, NULL",
             vc_tenant_id(t), id);
    sql(db, q);
    if (i == 4)
      continue; /* no address at all */
    snprintf(q, sizeof(q), "INSERT INTO vc_contact_address VALUES ('%s', 1,"
             " '+1415555000%d', '%s', 1); INSERT INTO vc_contact_address"
             " VALUES ('%s', 4, '+1415555000%d', '%s', 1)", vc_tenant_id(t),
             i, id, vc_tenant_id(t), i, id);
    sql(db, q);
  }
  /* Marketing SMS and chat need no opt-in here: only opt-outs refuse. */
  CHECK_OK(vc_consent_policy_set(t, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                                 0));
  CHECK_OK(vc_consent_policy_set(t, VC_CHANNEL_CHAT, VC_CATEGORY_MARKETING,
                                 0));
  opt_out(t, 1, VC_CHANNEL_SMS);
  opt_out(t, 1, VC_CHANNEL_CHAT);
  opt_out(t, 2, VC_CHANNEL_CHAT);
  s.name = "rules";
  s.template_name = "offer";
  s.chain = chain;
  s.nchain = 2;
  s.audience = VC_AUDIENCE_TAG;
  s.tag = "t";
  CHECK_OK(vc_campaign_new(&c, t, &s));
  CHECK_OK(vc_campaign_start(c));
  while (vc_ctx_run(ctx, 0) > 0)
    ;
  CHECK_OK(vc_campaign_counters_get(&k, c));
  CHECK(k.total == 4 && k.queued == 2);
  CHECK(k.skipped_consent == 1 && k.skipped_address == 1);
  CHECK(k.deferred_quiet == 1);
  CHECK(k.sent == 1 && k.open == 1);     /* 3 waits for its quiet hours */
  contact_id(id, 2);
  snprintf(q, sizeof(q), "SELECT COUNT(*) FROM vc_message WHERE"
           " contact_id = '%s' AND kind = 2 AND status = 3", id);
  {
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1);
    sqlite3_finalize(st);
    contact_id(id, 3);
    snprintf(q, sizeof(q), "SELECT send_at FROM vc_message WHERE"
             " contact_id = '%s' AND kind = 3", id);
    CHECK(sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW &&
          /* 08:00 in Tokyo (UTC+9), 2023-11-14 23:00:00 UTC */
          sqlite3_column_int64(st, 0) == 1700002800000LL);
    sqlite3_finalize(st);
    CHECK(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM vc_campaign_recipient"
                             " WHERE state = 3", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1);
    sqlite3_finalize(st);
  }
  g_now += 3600000;
  while (vc_ctx_run(ctx, 0) > 0)
    ;
  CHECK_OK(vc_campaign_counters_get(&k, c));
  CHECK(k.sent == 2 && k.open == 0 && k.state == VC_CAMPAIGN_COMPLETED);
  sqlite3_close(db);
  vc_campaign_free(c);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

VC_TESTS(
  VC_TEST(test_campaign_rules__consent_and_quiet_hours),
)
