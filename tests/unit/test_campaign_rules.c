/*
 * A campaign's fan-out against consent refusals and quiet hours. The
 * consent and quiet-hours stand-ins never refuse nor defer, so this test
 * links the library's objects statically and supplies its own
 * vc__consent_check and vc__quiet_next_open (the linker then leaves the
 * stand-ins out): contact 1 refuses everything, contact 2 refuses chat,
 * contact 3 (in Tokyo) is in quiet hours for the next hour.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"
#include "core/common.h"
#include "msg/consent.h"
#include "msg/contact.h"
#include "msg/quiet.h"

#include <sqlite3.h>

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

static int is_contact(const char *id, int n)
{
  char want[VC_ID_SIZE];

  contact_id(want, n);
  return id != NULL && strcmp(id, want) == 0;
}

int vc__consent_check(vc__db *db, vc_tenant *t, const char *contact_id,
                      int kind, int category, const char *to)
{
  (void)db, (void)t, (void)category, (void)to;
  if (is_contact(contact_id, 1) ||
      (is_contact(contact_id, 2) && kind == VC_CHANNEL_CHAT))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ECONSENT, "opted out");
  return 0;
}

int vc__consent_record(vc__db *db, vc_ctx *ctx, const char *tenant_id,
                       const char *contact_id, int kind, int category,
                       int state, const char *source, const char *proof)
{
  (void)db, (void)ctx, (void)tenant_id, (void)contact_id, (void)kind;
  (void)category, (void)state, (void)source, (void)proof;
  return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ENOTSUPPORTED, "test");
}

int vc_template_category(const vc_template *tpl)
{
  return tpl ? VC_CATEGORY_TRANSACTIONAL : 0;
}

/* Contact 3, the one in Tokyo, is in quiet hours for an hour. */
int vc__quiet_open_for(int64_t *open_at, vc_tenant *t,
                       const vc__contact_prefs *prefs, int category,
                       int64_t at)
{
  (void)t, (void)category;
  *open_at = prefs != NULL && strcmp(prefs->timezone, "Asia/Tokyo") == 0 &&
             at < g_now + 3600000 ? g_now + 3600000 : at;
  return 0;
}

int vc__quiet_next_open(int64_t *open_at, vc__db *db, vc_tenant *t,
                        const char *contact_id, int category, int64_t at)
{
  (void)db, (void)t, (void)category, (void)contact_id;
  *open_at = at;
  return 0;
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
             " timezone, created_at, updated_at) VALUES ('%s', '%s', %s, 1,"
             " 1);"
             " INSERT INTO vc_contact_tag VALUES ('%s', 't', '%s')",
             vc_tenant_id(t), id, i == 3 ? "'Asia/Tokyo'" : "NULL",
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
          sqlite3_column_int64(st, 0) == g_now + 3600000);
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
