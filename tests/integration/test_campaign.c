/*
 * Campaigns through the public API over sandbox channels, with an
 * injected clock: lifecycle, counters, the three audiences, the channel
 * chain and its fallback, schedule windows and end time, throttling by
 * due time, each recipient's locale, completion, invalid specs and tenant
 * isolation.
 *
 * Contacts are inserted by SQL (schema 11) for speed; the CSV audience
 * goes through the contacts import.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <sqlite3.h>

/* Marketing SMS and chat without an opt-in: these tests are not about
 * consent (an opt-out still refuses). */
static void no_opt_in(vc_tenant *t)
{
  CHECK_OK(vc_consent_policy_set(t, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                                 0));
  CHECK_OK(vc_consent_policy_set(t, VC_CHANNEL_CHAT, VC_CATEGORY_MARKETING,
                                 0));
}

static int64_t g_now = 1700000000000LL; /* 2023-11-14 22:13:20 UTC */

static int64_t test_clock(void *payload)
{
  (void)payload;
  return g_now;
}

static const uint8_t KEY[32] = { 9, 9, 9 };

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t;
  sqlite3 *db;           /* a side connection for fixtures and checks */
} env;

static void env_open(env *e)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;

  g_now = 1700000000000LL;
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("c.db"), NULL));
  mk.key = KEY;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = test_clock;
  o.random_seed = 7;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  no_opt_in(e->t);
  CHECK(sqlite3_open(vc_test_path("c.db"), &e->db) == SQLITE_OK);
  sqlite3_busy_timeout(e->db, 5000);
}

static void env_close(env *e)
{
  sqlite3_close(e->db);
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
}

static void sql(env *e, const char *q)
{
  char *err = NULL;

  if (sqlite3_exec(e->db, q, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "  SQL failed: %s\n  %s\n", err, q);
    sqlite3_free(err);
    CHECK(0);
  }
}

static int64_t count(env *e, const char *q)
{
  sqlite3_stmt *st;
  int64_t n = -1;

  CHECK(sqlite3_prepare_v2(e->db, q, -1, &st, NULL) == SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

/* A contact id: a valid ULID made of `n`. */
static void contact_id(char out[VC_ID_SIZE], int n)
{
  snprintf(out, VC_ID_SIZE, "01HZZZZZZZZZZZZZZZZ%07d", n);
}

/* A contact of `t` with the given addresses (NULL: none) and tag. */
static void contact(env *e, vc_tenant *t, int n, const char *phone,
                    const char *whatsapp, const char *tag)
{
  char id[VC_ID_SIZE], q[600];
  const char *tid = vc_tenant_id(t);

  contact_id(id, n);
  snprintf(q, sizeof(q),
           "INSERT INTO vc_contact (tenant_id, id, name, created_at,"
           " updated_at) VALUES ('%s', '%s', 'c%d', 1, 1)", tid, id, n);
  sql(e, q);
  if (phone) {
    snprintf(q, sizeof(q),
             "INSERT INTO vc_contact_address VALUES ('%s', 1, '%s', '%s', 1)",
             tid, phone, id);
    sql(e, q);
  }
  if (whatsapp) {
    snprintf(q, sizeof(q),
             "INSERT INTO vc_contact_address VALUES ('%s', 4, '%s', '%s', 1)",
             tid, whatsapp, id);
    sql(e, q);
  }
  if (tag) {
    snprintf(q, sizeof(q),
             "INSERT INTO vc_contact_tag VALUES ('%s', '%s', '%s')", tid, tag,
             id);
    sql(e, q);
  }
}

/* `n` tagged contacts with phones, in one transaction. */
static void tagged(env *e, vc_tenant *t, int first, int n, const char *tag)
{
  char phone[32];

  sql(e, "BEGIN");
  for (int i = first; i < first + n; i++) {
    snprintf(phone, sizeof(phone), "+1415%07d", i);
    contact(e, t, i, phone, NULL, tag);
  }
  sql(e, "COMMIT");
}

static void channel(vc_tenant *t, const char *name, const char *provider,
                    const char *outcome)
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;
  char config[96];

  snprintf(config, sizeof(config), "{\"outcome\":\"%s\"}", outcome);
  s.name = name;
  s.provider = provider;
  s.config_json = config;
  s.sender = "+15550001111";
  CHECK_OK(vc_channel_new(&ch, t, &s));
  vc_channel_free(ch);
}

static void template(vc_tenant *t, const char *name)
{
  vc_template_spec s = VC_TEMPLATE_SPEC_INIT;
  vc_template *tpl;

  s.name = name;
  s.kind = VC_CHANNEL_SMS;
  s.text_body = "Hi {{name}}, {{offer}} off today";
  s.variables_json = "[\"name\", \"offer\"]";
  CHECK_OK(vc_template_new(&tpl, t, &s));
  s.kind = VC_CHANNEL_CHAT;
  s.name = NULL;
  s.text_body = "Hello {{name}}: {{offer}} off";
  CHECK_OK(vc_template_add_variant(tpl, &s));
  vc_template_free(tpl);
}

static const char *SMS_ONLY[] = { "sms" };
static const char *WA_SMS[] = { "whatsapp", "sms" };

static void tag_spec(vc_campaign_spec *s, const char *tag)
{
  vc_campaign_spec_init(s, VC_CAMPAIGN_SPEC_VERSION);
  s->name = "November offer";
  s->template_name = "offer";
  s->vars_json = "{\"name\":\"friend\",\"offer\":\"10%\"}";
  s->chain = SMS_ONLY;
  s->nchain = 1;
  s->audience = VC_AUDIENCE_TAG;
  s->tag = tag;
}

/* Run the engine until nothing is due now. */
static void drain(env *e)
{
  for (int i = 0; i < 10000 && vc_ctx_run(e->ctx, 0) > 0; i++)
    ;
}

static vc_campaign_counters counters(vc_campaign *c)
{
  vc_campaign_counters k = VC_CAMPAIGN_COUNTERS_INIT;

  CHECK_OK(vc_campaign_counters_get(&k, c));
  return k;
}

static int events_of(env *e, const char *type, const char *subject)
{
  const vc_event *ev;
  vc_iter *it;
  int n = 0;

  CHECK_OK(vc_events_since(&it, e->t, 0));
  while (vc_event_next(&ev, it) == 0)
    n += strcmp(ev->type, type) == 0 && strcmp(ev->subject_id, subject) == 0;
  vc_iter_free(it);
  return n;
}

/* ---- cases -------------------------------------------------------------- */

static void test_campaign__tag_audience_runs_to_completion(void)
{
  vc_campaign_spec s;
  vc_campaign_counters k;
  vc_campaign *c, *again;
  char q[300];
  env e;

  env_open(&e);
  channel(e.t, "sms", "sandbox-sms", "accepted");
  template(e.t, "offer");
  tagged(&e, e.t, 1, 1234, "vip");        /* three pages of 500 */
  contact(&e, e.t, 5000, "+14150005000", NULL, "other");
  tag_spec(&s, "vip");
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  CHECK(vc_campaign_state(c) == VC_CAMPAIGN_DRAFT);
  CHECK(vc_campaign_category(c) == VC_CATEGORY_MARKETING);
  k = counters(c);
  CHECK(k.total == 0 && k.queued == 0);
  CHECK_OK(vc_campaign_start(c));
  CHECK(vc_campaign_state(c) == VC_CAMPAIGN_RUNNING);
  CHECK(events_of(&e, "campaign.started", vc_campaign_id(c)) == 1);
  drain(&e);
  k = counters(c);
  CHECK(k.state == VC_CAMPAIGN_COMPLETED);
  CHECK(k.total == 1234 && k.queued == 1234 && k.sent == 1234);
  CHECK(k.failed == 0 && k.open == 0 && k.skipped_address == 0);
  snprintf(q, sizeof(q),
           "SELECT COUNT(DISTINCT contact_id) FROM vc_message"
           " WHERE campaign_id = '%s' AND status = 3", vc_campaign_id(c));
  CHECK(count(&e, q) == 1234);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE text_body ="
                  " 'Hi friend, 10% off today'") == 1234);
  CHECK(events_of(&e, "campaign.completed", vc_campaign_id(c)) == 1);
  CHECK_OK(vc_campaign_lookup(&again, e.t, vc_campaign_id(c)));
  CHECK(vc_campaign_state(again) == VC_CAMPAIGN_COMPLETED);
  CHECK_STR(vc_campaign_name(again), "November offer");
  CHECK_RC(vc_campaign_start(again), VC_ESTATE);
  CHECK_RC(vc_campaign_cancel(again), VC_ESTATE);
  vc_campaign_free(again);
  vc_campaign_free(c);
  env_close(&e);
}

static void test_campaign__list_audience_with_own_variables(void)
{
  const char *ids[3], *vars[3] = { "{\"name\":\"Asha\"}", NULL,
                                   "{\"name\":\"Ravi\",\"offer\":\"20%\"}" };
  char idbuf[3][VC_ID_SIZE];
  vc_campaign_spec s;
  vc_campaign_counters k;
  vc_campaign *c;
  env e;

  env_open(&e);
  channel(e.t, "sms", "sandbox-sms", "accepted");
  template(e.t, "offer");
  for (int i = 0; i < 3; i++) {
    char phone[32];
    snprintf(phone, sizeof(phone), "+1415555000%d", i);
    contact(&e, e.t, i + 1, phone, NULL, NULL);
    contact_id(idbuf[i], i + 1);
    ids[i] = idbuf[i];
  }
  tag_spec(&s, NULL);
  s.audience = VC_AUDIENCE_LIST;
  s.tag = NULL;
  s.contact_ids = ids;
  s.contact_vars = vars;
  s.ncontacts = 3;
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  k = counters(&*c);
  CHECK(k.state == VC_CAMPAIGN_COMPLETED && k.sent == 3 && k.total == 3);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE text_body ="
                  " 'Hi Asha, 10% off today'") == 1);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE text_body ="
                  " 'Hi friend, 10% off today'") == 1);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE text_body ="
                  " 'Hi Ravi, 20% off today'") == 1);
  vc_campaign_free(c);
  env_close(&e);
}

static void test_campaign__chain_fallback(void)
{
  vc_campaign_spec s;
  vc_campaign_counters k;
  vc_campaign *c;
  char a[VC_ID_SIZE], q[300];
  env e;

  env_open(&e);
  /* WhatsApp refuses everything for good; SMS accepts. */
  channel(e.t, "wa", "sandbox-chat", "rejected");
  channel(e.t, "sms", "sandbox-sms", "accepted");
  template(e.t, "offer");
  contact(&e, e.t, 1, "+14155550001", "+14155550001", "t"); /* both */
  contact(&e, e.t, 2, "+14155550002", NULL, "t");           /* SMS only */
  contact(&e, e.t, 3, NULL, NULL, "t");                     /* nothing */
  tag_spec(&s, "t");
  s.chain = WA_SMS;
  s.nchain = 2;
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  k = counters(c);
  CHECK(k.total == 3);
  CHECK(k.queued == 3);          /* WA + SMS for 1, SMS for 2 */
  CHECK(k.failed == 1 && k.sent == 2);
  CHECK(k.skipped_address == 1 && k.open == 0);
  CHECK(k.state == VC_CAMPAIGN_COMPLETED);
  contact_id(a, 1);
  snprintf(q, sizeof(q),
           "SELECT COUNT(*) FROM vc_message WHERE contact_id = '%s'"
           " AND ((campaign_link = 0 AND kind = 3 AND status = 6) OR"
           " (campaign_link = 1 AND kind = 2 AND status = 3))", a);
  CHECK(count(&e, q) == 2);
  contact_id(a, 2);
  snprintf(q, sizeof(q),
           "SELECT COUNT(*) FROM vc_message WHERE contact_id = '%s'"
           " AND campaign_link = 1 AND kind = 2", a);
  CHECK(count(&e, q) == 1);
  vc_campaign_free(c);
  env_close(&e);
}

static void test_campaign__last_link_failure_fails_recipient(void)
{
  vc_campaign_spec s;
  vc_campaign_counters k;
  vc_campaign *c;
  env e;

  env_open(&e);
  channel(e.t, "sms", "sandbox-sms", "rejected");
  template(e.t, "offer");
  tagged(&e, e.t, 1, 5, "t");
  tag_spec(&s, "t");
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  k = counters(c);
  CHECK(k.queued == 5 && k.failed == 5 && k.sent == 0 && k.open == 0);
  CHECK(k.state == VC_CAMPAIGN_COMPLETED);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_campaign_recipient"
                  " WHERE state = 2") == 5);
  vc_campaign_free(c);
  env_close(&e);
}

static void test_campaign__throttle_spaces_due_times(void)
{
  vc_campaign_spec s;
  vc_campaign *c;
  sqlite3_stmt *st;
  int64_t prev = 0;
  int n = 0;
  env e;

  env_open(&e);
  channel(e.t, "sms", "sandbox-sms", "accepted");
  template(e.t, "offer");
  tagged(&e, e.t, 1, 40, "t");
  tag_spec(&s, "t");
  s.rate = 4; /* one every 250 ms */
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  CHECK(sqlite3_prepare_v2(e.db, "SELECT send_at FROM vc_message"
                           " ORDER BY send_at", -1, &st, NULL) == SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    int64_t at = sqlite3_column_int64(st, 0);
    if (n == 0)
      CHECK(at == g_now);
    else
      CHECK(at - prev == 250);
    prev = at;
    n++;
  }
  sqlite3_finalize(st);
  CHECK(n == 40);
  /* With the clock frozen only the first is due. */
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE status = 3") == 1);
  g_now += 10 * 1000;
  drain(&e);
  CHECK(counters(c).sent == 40);
  CHECK(counters(c).state == VC_CAMPAIGN_COMPLETED);
  vc_campaign_free(c);
  env_close(&e);
}

static void test_campaign__pause_resume_cancel(void)
{
  vc_campaign_spec s;
  vc_campaign_counters k;
  vc_campaign *c;
  env e;

  env_open(&e);
  channel(e.t, "sms", "sandbox-sms", "accepted");
  template(e.t, "offer");
  tagged(&e, e.t, 1, 20, "t");
  tag_spec(&s, "t");
  s.rate = 1;
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  CHECK_RC(vc_campaign_pause(c), VC_ESTATE);
  CHECK_RC(vc_campaign_resume(c), VC_ESTATE);
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  CHECK(counters(c).sent == 1 && counters(c).queued == 20);
  /* Paused: the held messages stay, however late it gets. */
  CHECK_OK(vc_campaign_pause(c));
  CHECK(vc_campaign_state(c) == VC_CAMPAIGN_PAUSED);
  CHECK_RC(vc_campaign_pause(c), VC_ESTATE);
  g_now += 3600 * 1000;
  drain(&e);
  CHECK(counters(c).sent == 1);
  /* Resumed: spacing kept, shifted by the pause. */
  CHECK_OK(vc_campaign_resume(c));
  drain(&e);
  CHECK(counters(c).sent == 1);
  g_now += 1000;
  drain(&e);
  CHECK(counters(c).sent == 2);
  g_now += 4000;
  drain(&e);
  CHECK(counters(c).sent == 6);
  /* Cancel: the rest is canceled, no job left. */
  CHECK_OK(vc_campaign_cancel(c));
  k = counters(c);
  CHECK(k.state == VC_CAMPAIGN_CANCELED);
  CHECK(k.canceled == 14 && k.sent == 6 && k.open == 0);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE status = 9") == 14);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_job") == 0);
  g_now += 3600 * 1000;
  drain(&e);
  CHECK(counters(c).sent == 6);
  CHECK(events_of(&e, "campaign.canceled", vc_campaign_id(c)) == 1);
  CHECK(events_of(&e, "campaign.completed", vc_campaign_id(c)) == 0);
  CHECK_RC(vc_campaign_resume(c), VC_ESTATE);
  vc_campaign_free(c);
  env_close(&e);
}

/* Cancelling more queued messages than one page of the cancel. */
static void test_campaign__cancel_pages_through_queued(void)
{
  vc_campaign_spec s;
  vc_campaign_counters k;
  vc_campaign *c;
  env e;

  env_open(&e);
  channel(e.t, "sms", "sandbox-sms", "accepted");
  template(e.t, "offer");
  tagged(&e, e.t, 1, 700, "t");
  tag_spec(&s, "t");
  s.rate = 1;
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  CHECK(counters(c).sent == 1 && counters(c).queued == 700);
  CHECK_OK(vc_campaign_cancel(c));
  k = counters(c);
  CHECK(k.canceled == 699 && k.sent == 1 && k.open == 0);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE status = 9") ==
        699);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE status = 1") == 0);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_job") == 0);
  vc_campaign_free(c);
  env_close(&e);
}

/* A contact's name and custom fields are the `contact` variables. */
static void test_campaign__contact_variables(void)
{
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  vc_template *tpl;
  vc_campaign_spec s;
  vc_campaign *c;
  char q[300];
  env e;

  env_open(&e);
  channel(e.t, "sms", "sandbox-sms", "accepted");
  ts.name = "hello";
  ts.kind = VC_CHANNEL_SMS;
  ts.text_body = "Hi {{contact.name}} of {{contact.city}}, {{offer}} off";
  ts.variables_json = "[\"contact.name\", \"contact.city?\", \"offer\"]";
  CHECK_OK(vc_template_new(&tpl, e.t, &ts));
  vc_template_free(tpl);
  tagged(&e, e.t, 1, 2, "t");
  snprintf(q, sizeof(q), "UPDATE vc_contact SET fields ="
           " '{\"city\":\"Pune\",\"name\":\"shadowed\"}'"
           " WHERE id LIKE '%%0000001'");
  sql(&e, q);
  tag_spec(&s, "t");
  s.template_name = "hello";
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  CHECK(counters(c).sent == 2);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE text_body ="
                  " 'Hi c1 of Pune, 10% off'") == 1);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE text_body ="
                  " 'Hi c2 of , 10% off'") == 1);
  vc_campaign_free(c);
  env_close(&e);
}

/* Each recipient gets the variant of its contact's locale, with the
 * usual fallback; a campaign's own locale overrides them all. More
 * locales than the fan-out keeps plans for are met on the way. */
static void test_campaign__recipient_locale(void)
{
  static const char *const LOCALES[] = {
    "'hi-IN'", "'hi'", "'ta'", "'en'", "NULL", "'fr'", "'de'", "'es'",
    "'it'", "'pt'", "'ja'", "'hi-IN'"
  };
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  vc_template *tpl;
  vc_campaign_spec s;
  vc_campaign *c;
  char q[300], id[VC_ID_SIZE];
  env e;

  env_open(&e);
  channel(e.t, "sms", "sandbox-sms", "accepted");
  template(e.t, "offer");
  CHECK_OK(vc_template_lookup(&tpl, e.t, "offer"));
  ts.kind = VC_CHANNEL_SMS;
  ts.locale = "hi";
  ts.text_body = "Namaste {{name}}, {{offer}} ki chhoot";
  CHECK_OK(vc_template_add_variant(tpl, &ts));
  ts.locale = "ta";
  ts.text_body = "Vanakkam {{name}}, {{offer}}";
  CHECK_OK(vc_template_add_variant(tpl, &ts));
  vc_template_free(tpl);
  tagged(&e, e.t, 1, 12, "t");
  for (int i = 0; i < 12; i++) {
    contact_id(id, i + 1);
    snprintf(q, sizeof(q), "UPDATE vc_contact SET locale = %s WHERE id ="
             " '%s'", LOCALES[i], id);
    sql(&e, q);
  }
  tag_spec(&s, "t");
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  CHECK(counters(c).sent == 12);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE text_body ="
                  " 'Namaste friend, 10% ki chhoot'") == 3);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message m JOIN vc_contact k"
                  " ON k.id = m.contact_id WHERE m.text_body LIKE"
                  " 'Namaste%' AND k.locale NOT LIKE 'hi%'") == 0);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE text_body ="
                  " 'Vanakkam friend, 10%'") == 1);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE text_body ="
                  " 'Hi friend, 10% off today'") == 8);
  vc_campaign_free(c);

  s.name = "Tamil only";
  s.locale = "ta";
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  CHECK(counters(c).sent == 12);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE text_body ="
                  " 'Vanakkam friend, 10%'") == 13);
  vc_campaign_free(c);
  env_close(&e);
}

static void test_campaign__pause_stops_fanout_within_a_page(void)
{
  vc_campaign_spec s;
  vc_campaign *c;
  env e;

  env_open(&e);
  channel(e.t, "sms", "sandbox-sms", "accepted");
  template(e.t, "offer");
  tagged(&e, e.t, 1, 1200, "t");
  tag_spec(&s, "t");
  s.start_at = g_now + 1000;
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  CHECK_OK(vc_campaign_start(c));
  drain(&e);                    /* not due yet */
  CHECK(counters(c).queued == 0);
  CHECK_OK(vc_campaign_pause(c));
  g_now += 2000;
  drain(&e);
  CHECK(counters(c).queued == 0);
  CHECK_OK(vc_campaign_resume(c));
  drain(&e);
  CHECK(counters(c).queued == 1200);
  CHECK(counters(c).state == VC_CAMPAIGN_COMPLETED);
  vc_campaign_free(c);
  env_close(&e);
}

static void test_campaign__window_and_end(void)
{
  vc_campaign_spec s;
  vc_campaign_counters k;
  vc_campaign *c;
  int64_t midnight, open;
  env e;

  env_open(&e);
  /* g_now is 22:13 UTC: a 09:00-17:00 window opens tomorrow 09:00. */
  midnight = g_now - g_now % 86400000;
  open = midnight + 86400000 + 9 * 3600000;
  channel(e.t, "sms", "sandbox-sms", "accepted");
  template(e.t, "offer");
  tagged(&e, e.t, 1, 10, "t");
  tag_spec(&s, "t");
  s.window_start_min = 9 * 60;
  s.window_end_min = 17 * 60;
  s.rate = 1;
  s.end_at = open + 5500;        /* room for six messages */
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  k = counters(c);
  CHECK(k.queued == 6 && k.sent == 0);
  CHECK(count(&e, "SELECT MIN(send_at) FROM vc_message") == open);
  CHECK(count(&e, "SELECT MAX(send_at) FROM vc_message") == open + 5000);
  CHECK(k.total == 6);
  g_now = open + 6000;
  drain(&e);
  k = counters(c);
  CHECK(k.sent == 6 && k.state == VC_CAMPAIGN_COMPLETED);
  vc_campaign_free(c);
  env_close(&e);
}

static void test_campaign__window_in_tenant_timezone(void)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_campaign_spec s;
  vc_campaign *c;
  vc_tenant *t;
  int64_t midnight, open;
  env e;

  env_open(&e);
  /* 22:13 UTC is 03:43 in Kolkata (UTC+5:30): 09:00 there is 03:30 UTC
   * the next day. */
  midnight = g_now - g_now % 86400000;
  open = midnight + 86400000 + 3 * 3600000 + 30 * 60000;
  ts.slug = "kolkata";
  ts.timezone = "Asia/Kolkata";
  CHECK_OK(vc_tenant_new(&t, e.ctx, &ts));
  no_opt_in(t);
  channel(t, "sms", "sandbox-sms", "accepted");
  template(t, "offer");
  tagged(&e, t, 1, 3, "t");
  tag_spec(&s, "t");
  s.window_start_min = 9 * 60;
  s.window_end_min = 17 * 60;
  CHECK_OK(vc_campaign_new(&c, t, &s));
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  CHECK(counters(c).queued == 3 && counters(c).sent == 0);
  CHECK(count(&e, "SELECT MIN(send_at) FROM vc_message") == open);
  CHECK(count(&e, "SELECT MAX(send_at) FROM vc_message") == open);
  g_now = open;
  drain(&e);
  CHECK(counters(c).sent == 3);
  vc_campaign_free(c);
  vc_tenant_free(t);
  env_close(&e);
}

static void test_campaign__quiet_hours_defer(void)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_campaign_spec s;
  vc_campaign_counters k;
  vc_campaign *c;
  vc_tenant *t;
  char q[300], id[VC_ID_SIZE];
  int64_t eight;
  env e;

  env_open(&e);
  /* 22:13 UTC is inside the tenant's 21:00-08:00 quiet hours. */
  eight = g_now - g_now % 86400000 + 86400000 + 8 * 3600000;
  ts.slug = "quiet";
  ts.quiet_start_min = 21 * 60;
  ts.quiet_end_min = 8 * 60;
  CHECK_OK(vc_tenant_new(&t, e.ctx, &ts));
  no_opt_in(t);
  channel(t, "sms", "sandbox-sms", "accepted");
  template(t, "offer");
  tagged(&e, t, 1, 3, "t");
  /* Contact 3 has no quiet hours of its own. */
  contact_id(id, 3);
  snprintf(q, sizeof(q), "UPDATE vc_contact SET quiet_start_min = -1,"
           " quiet_end_min = -1 WHERE id = '%s'", id);
  sql(&e, q);
  tag_spec(&s, "t");
  CHECK_OK(vc_campaign_new(&c, t, &s));
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  k = counters(c);
  CHECK(k.queued == 3 && k.deferred_quiet == 2 && k.sent == 1);
  snprintf(q, sizeof(q), "SELECT COUNT(*) FROM vc_message WHERE send_at ="
           " %lld", (long long)eight);
  CHECK(count(&e, q) == 2);
  g_now = eight;
  drain(&e);
  CHECK(counters(c).sent == 3);
  CHECK(counters(c).state == VC_CAMPAIGN_COMPLETED);
  vc_campaign_free(c);
  vc_tenant_free(t);
  env_close(&e);
}

static void test_campaign__end_expires_rest_of_a_list(void)
{
  const char *ids[4];
  char idbuf[4][VC_ID_SIZE];
  vc_campaign_spec s;
  vc_campaign_counters k;
  vc_campaign *c;
  env e;

  env_open(&e);
  channel(e.t, "sms", "sandbox-sms", "accepted");
  template(e.t, "offer");
  tagged(&e, e.t, 1, 4, NULL);
  for (int i = 0; i < 4; i++) {
    contact_id(idbuf[i], i + 1);
    ids[i] = idbuf[i];
  }
  tag_spec(&s, NULL);
  s.audience = VC_AUDIENCE_LIST;
  s.tag = NULL;
  s.contact_ids = ids;
  s.ncontacts = 4;
  s.rate = 1;
  s.end_at = g_now + 1500;      /* two slots */
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  k = counters(c);
  CHECK(k.queued == 2 && k.expired == 2 && k.total == 4 && k.sent == 1);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_campaign_recipient"
                  " WHERE state = 5") == 2);
  g_now += 2000;
  drain(&e);
  k = counters(c);
  CHECK(k.sent == 2);
  CHECK(k.state == VC_CAMPAIGN_COMPLETED);
  vc_campaign_free(c);
  env_close(&e);
}

/* A CSV held in memory, read in small pieces. */
typedef struct csv_src {
  const char *text;
  size_t at;
} csv_src;

static int csv_read(void *payload, char *buf, size_t cap, size_t *got)
{
  csv_src *s = payload;
  size_t left = strlen(s->text) - s->at;

  *got = left < cap ? left : cap;
  if (*got > 7)
    *got = 7;
  memcpy(buf, s->text + s->at, *got);
  s->at += *got;
  return 0;
}

static void test_campaign__csv_audience(void)
{
  vc_contact_import_spec is = VC_CONTACT_IMPORT_SPEC_INIT;
  vc_contact_import_result r = VC_CONTACT_IMPORT_RESULT_INIT;
  csv_src src = { "phone,name,offer\n"
                  "+14155550001,Asha,15%\n"
                  "+14155550002,Ravi,\n"
                  "not a phone,Bad,5%\n"
                  "+14155550003,Mei,30%\n", 0 };
  vc_campaign_spec s;
  vc_campaign_counters k;
  vc_campaign *c, *tagc;
  env e;

  env_open(&e);
  channel(e.t, "sms", "sandbox-sms", "accepted");
  template(e.t, "offer");
  tag_spec(&s, NULL);
  s.audience = VC_AUDIENCE_CSV;
  s.tag = NULL;
  s.vars_json = "{\"name\":\"friend\",\"offer\":\"10%\"}";
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  tag_spec(&s, "t");
  CHECK_OK(vc_campaign_new(&tagc, e.t, &s));
  is.read = csv_read;
  is.read_payload = &src;
  CHECK_RC(vc_campaign_import_csv(&r, tagc, &is), VC_ESTATE);
  CHECK_OK(vc_campaign_import_csv(&r, c, &is));
  CHECK(r.rows == 4 && r.created == 3 && r.rejected == 1);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_campaign_recipient") == 3);
  CHECK_OK(vc_campaign_start(c));
  /* Started: no more rows. */
  src.at = 0;
  CHECK_RC(vc_campaign_import_csv(&r, c, &is), VC_ESTATE);
  drain(&e);
  k = counters(c);
  CHECK(k.total == 3 && k.sent == 3 && k.state == VC_CAMPAIGN_COMPLETED);
  /* The name column is the contact's name, not a variable; the offer
   * column is, and an empty cell keeps the campaign's. */
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE text_body ="
                  " 'Hi friend, 15% off today' AND to_addr = '+14155550001'")
        == 1);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE text_body ="
                  " 'Hi friend, 10% off today' AND to_addr = '+14155550002'")
        == 1);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message WHERE text_body ="
                  " 'Hi friend, 30% off today' AND to_addr = '+14155550003'")
        == 1);
  vc_campaign_free(tagc);
  vc_campaign_free(c);
  env_close(&e);
}

static void test_campaign__invalid_specs(void)
{
  const char *bad_link[] = { "pigeon" };
  const char *bad_chan[] = { "sms@nope" };
  const char *five[] = { "sms", "sms", "sms", "sms", "sms" };
  const char *ids[] = { "not-an-id" };
  vc_campaign_spec s;
  vc_campaign *c = NULL;
  env e;

  env_open(&e);
  channel(e.t, "sms", "sandbox-sms", "accepted");
  template(e.t, "offer");
#define BAD(field_set, code)                                         \
  do {                                                               \
    tag_spec(&s, "t");                                               \
    field_set;                                                       \
    CHECK_RC(vc_campaign_new(&c, e.t, &s), code);                    \
    CHECK(c == NULL);                                                \
  } while (0)
  BAD(s.template_name = "nope", VC_ENOTFOUND);
  BAD(s.template_name = NULL, VC_EINVALID);
  BAD(s.nchain = 0, VC_EINVALID);
  BAD((s.chain = five, s.nchain = 5), VC_ETOOBIG);
  BAD((s.chain = bad_link, s.nchain = 1), VC_EINVALID);
  BAD((s.chain = bad_chan, s.nchain = 1), VC_ENOTFOUND);
  BAD((s.start_at = g_now + 5000, s.end_at = g_now + 1000), VC_EINVALID);
  BAD(s.end_at = g_now - 1, VC_EINVALID);
  BAD(s.rate = -1, VC_EINVALID);
  BAD(s.rate = 1e9, VC_EINVALID);
  BAD(s.rate = 0.0 / 0.0, VC_EINVALID);
  BAD(s.name = "", VC_EINVALID);
  BAD(s.audience = 9, VC_EINVALID);
  BAD(s.tag = NULL, VC_EINVALID);
  BAD(s.vars_json = "[1]", VC_EINVALID);
  BAD(s.category = 77, VC_EINVALID);
  BAD((s.window_start_min = 1440), VC_EINVALID);
  BAD((s.audience = VC_AUDIENCE_LIST, s.tag = NULL, s.contact_ids = ids,
       s.ncontacts = 1), VC_EINVALID);
  BAD((s.audience = VC_AUDIENCE_LIST, s.tag = NULL, s.contact_ids = ids,
       s.ncontacts = VC_CAMPAIGN_LIST_MAX + 1), VC_ETOOBIG);
  s.version = 99;
  CHECK_RC(vc_campaign_new(&c, e.t, &s), VC_EVERSION);
#undef BAD
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_campaign") == 0);
  env_close(&e);
}

static void test_campaign__list_and_lookup(void)
{
  vc_campaign_filter f = VC_CAMPAIGN_FILTER_INIT;
  vc_campaign_spec s;
  vc_campaign *a, *b, *got;
  vc_iter *it;
  int n = 0;
  env e;

  env_open(&e);
  template(e.t, "offer");
  tag_spec(&s, "t");
  CHECK_OK(vc_campaign_new(&a, e.t, &s));
  g_now += 1;
  CHECK_OK(vc_campaign_new(&b, e.t, &s));
  CHECK_OK(vc_campaign_start(b));
  CHECK_OK(vc_campaign_list(&it, e.t, NULL));
  while (vc_campaign_next(&got, it) == 0) {
    CHECK_STR(vc_campaign_id(got), vc_campaign_id(n == 0 ? b : a));
    vc_campaign_free(got);
    n++;
  }
  vc_iter_free(it);
  CHECK(n == 2);
  f.state = VC_CAMPAIGN_DRAFT;
  CHECK_OK(vc_campaign_list(&it, e.t, &f));
  CHECK_OK(vc_campaign_next(&got, it));
  CHECK_STR(vc_campaign_id(got), vc_campaign_id(a));
  vc_campaign_free(got);
  CHECK_RC(vc_campaign_next(&got, it), VC_ITEROVER);
  vc_iter_free(it);
  f.state = 42;
  CHECK_RC(vc_campaign_list(&it, e.t, &f), VC_EINVALID);
  CHECK_RC(vc_campaign_lookup(&got, e.t, "bad"), VC_EINVALID);
  CHECK_RC(vc_campaign_lookup(&got, e.t, "01HZZZZZZZZZZZZZZZZZZZZZZZ"),
           VC_ENOTFOUND);
  vc_campaign_free(a);
  vc_campaign_free(b);
  env_close(&e);
}

static void test_campaign__tenant_isolation(void)
{
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_campaign_spec s;
  vc_campaign *c, *got;
  vc_tenant *other;
  vc_iter *it;
  env e;

  env_open(&e);
  ts.slug = "globex";
  CHECK_OK(vc_tenant_new(&other, e.ctx, &ts));
  no_opt_in(other);
  channel(e.t, "sms", "sandbox-sms", "accepted");
  template(e.t, "offer");
  tagged(&e, e.t, 1, 3, "t");
  tagged(&e, other, 100, 4, "t");      /* same tag, other tenant */
  tag_spec(&s, "t");
  CHECK_OK(vc_campaign_new(&c, e.t, &s));
  /* The other tenant has no such template, cannot see the campaign. */
  CHECK_RC(vc_campaign_new(&got, other, &s), VC_ENOTFOUND);
  CHECK_RC(vc_campaign_lookup(&got, other, vc_campaign_id(c)), VC_ENOTFOUND);
  CHECK_OK(vc_campaign_list(&it, other, NULL));
  CHECK_RC(vc_campaign_next(&got, it), VC_ITEROVER);
  vc_iter_free(it);
  CHECK_OK(vc_campaign_start(c));
  drain(&e);
  CHECK(counters(c).total == 3 && counters(c).sent == 3);
  CHECK(count(&e, "SELECT COUNT(*) FROM vc_message m JOIN vc_tenant t"
                  " ON t.id = m.tenant_id WHERE t.slug = 'globex'") == 0);
  vc_campaign_free(c);
  vc_tenant_free(other);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_campaign__tag_audience_runs_to_completion),
  VC_TEST(test_campaign__list_audience_with_own_variables),
  VC_TEST(test_campaign__chain_fallback),
  VC_TEST(test_campaign__last_link_failure_fails_recipient),
  VC_TEST(test_campaign__throttle_spaces_due_times),
  VC_TEST(test_campaign__pause_resume_cancel),
  VC_TEST(test_campaign__cancel_pages_through_queued),
  VC_TEST(test_campaign__contact_variables),
  VC_TEST(test_campaign__recipient_locale),
  VC_TEST(test_campaign__pause_stops_fanout_within_a_page),
  VC_TEST(test_campaign__window_and_end),
  VC_TEST(test_campaign__window_in_tenant_timezone),
  VC_TEST(test_campaign__quiet_hours_defer),
  VC_TEST(test_campaign__end_expires_rest_of_a_list),
  VC_TEST(test_campaign__csv_audience),
  VC_TEST(test_campaign__invalid_specs),
  VC_TEST(test_campaign__list_and_lookup),
  VC_TEST(test_campaign__tenant_isolation),
)
