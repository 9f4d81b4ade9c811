/*
 * Automation rules through the public API: an inbound keyword arriving as
 * a signed Twilio webhook from the provider simulator answered with a
 * template the simulator receives, patterns, a delivery receipt tagging
 * the contact, a call ending unanswered answered by SMS, a campaign's end
 * reaching the host's event callback, opt-outs, conditions (tag,
 * channel, time window on the injected clock), the fixed order, loops
 * refused and chains bounded, the audit trail, tenant isolation and bad
 * input.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "net_util.h"

#include <sqlite3.h>
#include <stddef.h>
#include <time.h>

#define DB_NAME "rules.db"
#define OUR_NUMBER "+15005550006"

static int64_t g_now;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return g_now;
}

static const uint8_t KEY[32] = { 7, 1, 9 };

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t, *other;
  vc_sim *sim;                  /* with_sim only */
  char base[64];
  char twilio[VC_ID_SIZE];      /* with_sim: the Twilio SMS channel */
} env;

static void channel(vc_tenant *t, const char *name, const char *provider,
                    const char *config)
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  s.name = name;
  s.provider = provider;
  s.config_json = config;
  s.sender = strcmp(provider, "sandbox-email") == 0 ? "noreply@acme.test"
                                                    : OUR_NUMBER;
  CHECK_OK(vc_channel_new(&ch, t, &s));
  vc_channel_free(ch);
}

static void template_new(vc_tenant *t, const char *name, int kind,
                         const char *text)
{
  vc_template_spec s = VC_TEMPLATE_SPEC_INIT;
  vc_template *tpl;

  s.name = name;
  s.kind = kind;
  s.text_body = text;
  if (kind == VC_CHANNEL_EMAIL)
    s.subject = "Acme";
  CHECK_OK(vc_template_new(&tpl, t, &s));
  vc_template_free(tpl);
}

static void env_open(env *e, int with_sim)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;
  int port = 0;

  memset(e, 0, sizeof(*e));
  g_now = wall_ms();
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(DB_NAME), NULL));
  mk.key = KEY;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = test_clock;
  o.random_seed = 5;
  if (with_sim) {
    vc_sim_options so = VC_SIM_OPTIONS_INIT;
    CHECK_OK(vc_sim_start(&e->sim, &so));
    port = free_port();
    snprintf(e->base, sizeof(e->base), "http://127.0.0.1:%d", port);
    o.public_base_url = e->base;
    o.allow_private_network = 1;
  } else {
    o.public_base_url = "https://hooks.example.com";
  }
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  if (with_sim) {
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    CHECK(vc_webhook_listen(e->ctx, addr) == port);
  }
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  ts.slug = "globex";
  CHECK_OK(vc_tenant_new(&e->other, e->ctx, &ts));
  if (with_sim) {
    vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
    vc_channel *ch;
    char config[256], creds[128];
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
    snprintf(e->twilio, sizeof(e->twilio), "%s", vc_channel_id(ch));
    vc_channel_free(ch);
  } else {
    channel(e->t, "sms", "sandbox-sms", NULL);
  }
  channel(e->t, "mail", "sandbox-email", NULL);
  template_new(e->t, "price", VC_CHANNEL_SMS, "Our price is {{amount}}.");
  template_new(e->t, "bye", VC_CHANNEL_EMAIL, "Sorry to see you go.");
  template_new(e->t, "missed", VC_CHANNEL_SMS, "Sorry we missed you.");
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_tenant_free(e->other);
  vc_ctx_free(e->ctx);
  if (e->sim != NULL)
    vc_sim_stop(e->sim);
}

static void drain(env *e)
{
  for (int i = 0; i < 30 && vc_ctx_run(e->ctx, 0) > 0; i++)
    ;
}

static void new_contact(vc_tenant *t, const char *phone, const char *email,
                        const char *tags, char id[VC_ID_SIZE])
{
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;

  s.phone = phone;
  s.email = email;
  s.tags = tags;
  CHECK_OK(vc_contact_upsert(id, t, &s));
}

static int opt_out(vc_tenant *t, const char *contact, int kind)
{
  vc_consent_spec s = VC_CONSENT_SPEC_INIT;

  s.contact_id = contact;
  s.kind = kind;
  s.category = VC_CATEGORY_TRANSACTIONAL;   /* one change, one event */
  s.state = VC_CONSENT_OPTED_OUT;
  return vc_consent_set(t, &s);
}

static int send_on(vc_tenant *t, const char *channel_name, const char *to)
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;
  char id[VC_ID_SIZE];

  s.channel = channel_name;
  s.to = to;
  s.text = "Your order shipped";
  if (strchr(to, '@') != NULL)
    s.subject = "Order";
  return vc_message_send(id, t, &s);
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

static int has_tag(const char *contact, const char *tag)
{
  char sql[256];

  snprintf(sql, sizeof(sql),
           "SELECT COUNT(*) FROM vc_contact_tag WHERE contact_id = '%s'"
           " AND tag = '%s'", contact, tag);
  return count_rows(sql);
}

/* Events of `type` of a tenant; the payloads joined with '|' into buf
 * (when not NULL), oldest first. */
static int events(vc_tenant *t, const char *type, char *buf, size_t size)
{
  const vc_event *ev;
  vc_iter *it;
  int n = 0;

  if (buf != NULL)
    buf[0] = '\0';
  CHECK_OK(vc_events_since(&it, t, 0));
  while (vc_event_next(&ev, it) == 0) {
    if (strcmp(ev->type, type) != 0)
      continue;
    n++;
    if (buf != NULL) {
      size_t len = strlen(buf);
      snprintf(buf + len, size - len, "%s|", ev->payload_json);
    }
  }
  vc_iter_free(it);
  return n;
}

static void action_send(vc_rule_action *a, const char *tpl,
                        const char *channel_name)
{
  vc_rule_action_init(a, VC_RULE_ACTION_VERSION);
  a->kind = VC_RULE_SEND_TEMPLATE;
  a->template_name = tpl;
  a->channel = channel_name;
}

static void action_tag(vc_rule_action *a, const char *tag)
{
  vc_rule_action_init(a, VC_RULE_ACTION_VERSION);
  a->kind = VC_RULE_TAG_CONTACT;
  a->tag = tag;
}

static void spec_of(vc_rule_spec *s, const char *name, int trigger,
                    const vc_rule_action *a, size_t n)
{
  vc_rule_spec_init(s, VC_RULE_SPEC_VERSION);
  s->name = name;
  s->trigger = trigger;
  s->actions = a;
  s->nactions = n;
}

/* Create a rule (the handle freed). */
static int rule_add(vc_tenant *t, const vc_rule_spec *s)
{
  vc_rule *r = NULL;
  int rc = vc_rule_new(&r, t, s);

  CHECK((rc == 0) == (r != NULL));
  vc_rule_free(r);
  return rc;
}

static int rule_count(vc_tenant *t)
{
  vc_iter *it;
  vc_rule *r;
  int n = 0;

  CHECK_OK(vc_rule_list(&it, t, NULL));
  while (vc_rule_next(&r, it) == 0) {
    n++;
    vc_rule_free(r);
  }
  vc_iter_free(it);
  return n;
}

/* Post an inbound SMS through the simulator, signed as Twilio signs. */
static void inbound(env *e, const char *from, const char *text)
{
  char url[160];
  vc_sim_webhook_stats st;

  snprintf(url, sizeof(url), "%s/webhooks/%s", e->base, e->twilio);
  CHECK_OK(vc_sim_twilio_inbound(e->sim, url, from, OUR_NUMBER, text,
                                 NULL));
  CHECK_OK(vc_sim_webhooks_wait(e->sim, 10000));
  vc_sim_webhooks_stats(e->sim, &st);
  CHECK(st.failed == 0);
}

/* ---- triggers --------------------------------------------------------- */

static void test_rules__keyword_reply_by_webhook(void)
{
  vc_rule_action a[2];
  vc_rule_spec s;
  char buf[2048];
  env e;

  env_open(&e, 1);
  action_send(&a[0], "price", NULL);
  a[0].vars_json = "{\"amount\":\"10 USD\"}";
  spec_of(&s, "price reply", VC_RULE_ON_INBOUND, a, 1);
  s.keyword = "PRICE";
  CHECK_OK(rule_add(e.t, &s));
  /* Pattern: any text with an order number; the sender becomes a
   * contact to be tagged. */
  action_tag(&a[0], "order-query");
  vc_rule_action_init(&a[1], VC_RULE_ACTION_VERSION);
  a[1].kind = VC_RULE_ASSIGN;
  a[1].agent = "orders-desk";
  spec_of(&s, "order query", VC_RULE_ON_INBOUND, a, 2);
  s.pattern = "order +#?[0-9]+";
  CHECK_OK(rule_add(e.t, &s));

  inbound(&e, "+14155550140", "  price \n");
  inbound(&e, "+14155550141", "prices");            /* not the keyword */
  inbound(&e, "+14155550142", "Where is ORDER #1234?");
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message WHERE to_addr ="
                   " '+14155550140' AND text_body = 'Our price is 10 USD.'"
                   " AND channel_id IS NOT NULL") == 1);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message") == 1);
  /* The reply goes out on the channel the keyword came on. */
  drain(&e);
  CHECK(vc_sim_sent_count(e.sim, "+14155550140") == 1);
  CHECK(vc_sim_sent_count(e.sim, "+14155550141") == 0);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_contact_tag t JOIN"
                   " vc_contact_address a ON a.contact_id = t.contact_id"
                   " WHERE t.tag = 'order-query' AND a.address ="
                   " '+14155550142'") == 1);
  /* Each run is recorded with its outcome. */
  CHECK(events(e.t, "rule.ran", buf, sizeof(buf)) == 2);
  CHECK(strstr(buf, "\"trigger\":\"inbound.received\"") != NULL);
  CHECK(strstr(buf, "\"action\":\"send_template\",\"outcome\":\"queued\"")
        != NULL);
  CHECK(strstr(buf, "\"action\":\"tag_contact\",\"outcome\":\"ok\"") !=
        NULL);
  CHECK(strstr(buf, "\"action\":\"assign\"") != NULL);
  /* A STOP still works beside the rules (one event per category). */
  inbound(&e, "+14155550140", "STOP");
  CHECK(events(e.t, "contact.opted_out", NULL, 0) == 1);
  env_close(&e);
}

static void test_rules__delivered_tags_contact(void)
{
  vc_rule_action a;
  vc_rule_spec s;
  char c[VC_ID_SIZE];
  env e;

  env_open(&e, 1);
  new_contact(e.t, "+14155550150", NULL, NULL, c);
  action_tag(&a, "reached");
  spec_of(&s, "reached", VC_RULE_ON_MESSAGE, &a, 1);
  s.states = 1u << VC_MSG_DELIVERED;
  s.channel = "sms";
  CHECK_OK(rule_add(e.t, &s));
  CHECK_OK(send_on(e.t, "sms", "+14155550150"));
  CHECK(has_tag(c, "reached") == 0);
  for (int i = 0; i < 10 && has_tag(c, "reached") == 0; i++) {
    drain(&e);
    CHECK_OK(vc_sim_webhooks_wait(e.sim, 10000));
  }
  CHECK(has_tag(c, "reached") == 1);
  CHECK(events(e.t, "message.delivered", NULL, 0) == 1);
  CHECK(events(e.t, "rule.ran", NULL, 0) == 1);
  env_close(&e);
}

static void test_rules__call_no_answer_sends_sms(void)
{
  vc_call_spec cs = VC_CALL_SPEC_INIT;
  vc_rule_action a;
  vc_rule_spec s;
  vc_call *call;
  char c[VC_ID_SIZE], buf[1024];
  env e;

  env_open(&e, 0);
  channel(e.t, "voice", "sandbox-voice", "{\"customer\":\"no_answer\"}");
  new_contact(e.t, "+14155550123", NULL, NULL, c);
  action_send(&a, "missed", "sms");
  spec_of(&s, "missed call", VC_RULE_ON_CALL, &a, 1);
  s.causes = 1u << VC_CAUSE_NO_ANSWER;
  CHECK_OK(rule_add(e.t, &s));
  cs.agent_number = "+14155550111";
  cs.customer_number = "+14155550123";
  CHECK_OK(vc_call_start(&call, e.t, &cs));
  drain(&e);
  vc_call_free(call);
  CHECK(events(e.t, "call.no_answer", NULL, 0) == 1);
  CHECK(events(e.t, "rule.ran", buf, sizeof(buf)) == 1);
  CHECK(strstr(buf, "\"trigger\":\"call.no_answer\"") != NULL);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message WHERE to_addr ="
                   " '+14155550123' AND text_body = 'Sorry we missed you.'")
        == 1);
  /* Sent by the sandbox on the SMS channel named. */
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message m JOIN vc_channel c"
                   " ON c.id = m.channel_id WHERE c.name = 'sms' AND"
                   " m.status = 3") == 1);
  env_close(&e);
}

typedef struct seen {
  int notify;
  char subject[VC_ID_SIZE];
  char payload[512];
} seen;

static int on_event(const vc_event *ev, void *payload)
{
  seen *s = payload;

  if (strcmp(ev->type, "rule.notify") == 0) {
    s->notify++;
    snprintf(s->subject, sizeof(s->subject), "%s", ev->subject_id);
    snprintf(s->payload, sizeof(s->payload), "%s", ev->payload_json);
  }
  return 0;
}

static void test_rules__campaign_completed_notifies_host(void)
{
  static const char *chain[] = { "sms" };
  vc_campaign_spec cs = VC_CAMPAIGN_SPEC_INIT;
  const char *ids[1];
  vc_campaign *camp;
  vc_rule_action a;
  vc_rule_spec s;
  char c[VC_ID_SIZE];
  seen got;
  env e;

  env_open(&e, 0);
  memset(&got, 0, sizeof(got));
  CHECK_OK(vc_ctx_set_event_cb(e.ctx, on_event, &got));
  new_contact(e.t, "+14155550160", NULL, NULL, c);
  vc_rule_action_init(&a, VC_RULE_ACTION_VERSION);
  a.kind = VC_RULE_NOTIFY;
  spec_of(&s, "campaign done", VC_RULE_ON_CAMPAIGN, &a, 1);
  s.states = 1u << VC_CAMPAIGN_COMPLETED;
  CHECK_OK(rule_add(e.t, &s));
  ids[0] = c;
  cs.name = "promo";
  cs.template_name = "price";
  cs.vars_json = "{\"amount\":\"5 USD\"}";
  cs.chain = chain;
  cs.nchain = 1;
  cs.audience = VC_AUDIENCE_LIST;
  cs.contact_ids = ids;
  cs.ncontacts = 1;
  cs.category = VC_CATEGORY_TRANSACTIONAL;
  CHECK_OK(vc_campaign_new(&camp, e.t, &cs));
  CHECK_OK(vc_campaign_start(camp));
  for (int i = 0; i < 20 && got.notify == 0; i++) {
    drain(&e);
    g_now += 1000;
  }
  CHECK(got.notify == 1);
  CHECK_STR(got.subject, vc_campaign_id(camp));
  CHECK(strstr(got.payload, "\"trigger\":\"campaign.completed\"") != NULL);
  CHECK(strstr(got.payload, "\"rule\":\"campaign done\"") != NULL);
  vc_campaign_free(camp);
  env_close(&e);
}

/* An opt-out tags the contact; a goodbye on the channel just opted out of
 * is refused, which is the rule's outcome and not an error: the opt-out
 * stands. */
static void test_rules__opt_out(void)
{
  vc_consent_info info = VC_CONSENT_INFO_INIT;
  vc_rule_action a[2];
  vc_rule_spec s;
  char c[VC_ID_SIZE], buf[1024];
  env e;

  env_open(&e, 0);
  new_contact(e.t, "+14155550170", NULL, NULL, c);
  action_tag(&a[0], "churned");
  action_send(&a[1], "missed", "sms");
  spec_of(&s, "churn", VC_RULE_ON_OPT_OUT, a, 2);
  CHECK_OK(rule_add(e.t, &s));
  CHECK_OK(opt_out(e.t, c, VC_CHANNEL_SMS));
  CHECK(has_tag(c, "churned") == 1);
  CHECK_OK(vc_consent_get(&info, e.t, c, VC_CHANNEL_SMS,
                          VC_CATEGORY_TRANSACTIONAL));
  CHECK(info.state == VC_CONSENT_OPTED_OUT);
  CHECK(events(e.t, "rule.ran", buf, sizeof(buf)) == 1);
  CHECK(strstr(buf, "\"outcome\":\"consent: ") != NULL);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message") == 0);
  env_close(&e);
}

/* ---- conditions and order -------------------------------------------- */

/* Unix ms of a UTC date and time. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
  struct tm tm;

  memset(&tm, 0, sizeof(tm));
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  return (int64_t)timegm(&tm) * 1000;
}

static void test_rules__conditions(void)
{
  vc_rule_action a[3];
  vc_rule_spec s;
  char vip[VC_ID_SIZE], plain[VC_ID_SIZE], m[VC_ID_SIZE];
  env e;

  env_open(&e, 0);
  new_contact(e.t, "+14155550180", "vip@example.com", "vip", vip);
  new_contact(e.t, "+14155550181", "plain@example.com", NULL, plain);
  /* Tag: only a vip's opt-out. */
  action_tag(&a[0], "vip-lost");
  spec_of(&s, "vip lost", VC_RULE_ON_OPT_OUT, &a[0], 1);
  s.tag = "vip";
  CHECK_OK(rule_add(e.t, &s));
  CHECK_OK(opt_out(e.t, plain, VC_CHANNEL_EMAIL));
  CHECK_OK(opt_out(e.t, vip, VC_CHANNEL_EMAIL));
  CHECK(has_tag(vip, "vip-lost") == 1);
  CHECK(has_tag(plain, "vip-lost") == 0);
  /* Channel: a message queued on "mail", not on "sms". */
  action_tag(&a[1], "emailed");
  spec_of(&s, "emailed", VC_RULE_ON_MESSAGE, &a[1], 1);
  s.states = 1u << VC_MSG_QUEUED;
  s.channel = "mail";
  CHECK_OK(rule_add(e.t, &s));
  CHECK_OK(send_on(e.t, "sms", "+14155550181"));
  CHECK(has_tag(plain, "emailed") == 0);
  /* (plain opted out of email: the send is refused, nothing fires) */
  CHECK_RC(send_on(e.t, "mail", "plain@example.com"), VC_ECONSENT);
  CHECK(has_tag(plain, "emailed") == 0);
  new_contact(e.t, NULL, "third@example.com", NULL, m);
  CHECK_OK(send_on(e.t, "mail", "third@example.com"));
  CHECK(has_tag(m, "emailed") == 1);
  /* Time window: weekdays 09:00-17:00 in the tenant's timezone (UTC). */
  action_tag(&a[2], "office-hours");
  spec_of(&s, "office hours", VC_RULE_ON_MESSAGE, &a[2], 1);
  s.states = 1u << VC_MSG_QUEUED;
  s.channel_kind = VC_CHANNEL_SMS;
  s.days = 0x3e;                               /* Monday to Friday */
  s.window_start_min = 9 * 60;
  s.window_end_min = 17 * 60;
  CHECK_OK(rule_add(e.t, &s));
  g_now = utc(2026, 11, 28, 10, 0);            /* a Saturday */
  CHECK_OK(send_on(e.t, "sms", "+14155550181"));
  CHECK(has_tag(plain, "office-hours") == 0);
  g_now = utc(2026, 11, 30, 8, 59);            /* Monday, before */
  CHECK_OK(send_on(e.t, "sms", "+14155550181"));
  CHECK(has_tag(plain, "office-hours") == 0);
  g_now = utc(2026, 11, 30, 17, 0);            /* Monday, the end */
  CHECK_OK(send_on(e.t, "sms", "+14155550181"));
  CHECK(has_tag(plain, "office-hours") == 0);
  g_now = utc(2026, 11, 30, 9, 0);             /* Monday, the start */
  CHECK_OK(send_on(e.t, "sms", "+14155550181"));
  CHECK(has_tag(plain, "office-hours") == 1);
  env_close(&e);
}

static void test_rules__fixed_order(void)
{
  vc_rule_action a;
  vc_rule_spec s;
  vc_rule *r;
  char c[VC_ID_SIZE], buf[2048];
  const char *p1, *p2, *p3;
  env e;

  env_open(&e, 0);
  new_contact(e.t, "+14155550190", NULL, NULL, c);
  vc_rule_action_init(&a, VC_RULE_ACTION_VERSION);
  a.kind = VC_RULE_NOTIFY;
  spec_of(&s, "second", VC_RULE_ON_OPT_OUT, &a, 1);
  s.position = 20;
  CHECK_OK(rule_add(e.t, &s));
  spec_of(&s, "first", VC_RULE_ON_OPT_OUT, &a, 1);
  s.position = 10;
  CHECK_OK(rule_add(e.t, &s));
  spec_of(&s, "third", VC_RULE_ON_OPT_OUT, &a, 1);
  s.position = 20;                             /* a tie: by id */
  CHECK_OK(rule_add(e.t, &s));
  spec_of(&s, "off", VC_RULE_ON_OPT_OUT, &a, 1);
  s.disabled = 1;
  CHECK_OK(vc_rule_new(&r, e.t, &s));
  CHECK(vc_rule_enabled(r) == 0);
  vc_rule_free(r);
  CHECK_OK(opt_out(e.t, c, VC_CHANNEL_SMS));
  CHECK(events(e.t, "rule.ran", buf, sizeof(buf)) == 3);
  p1 = strstr(buf, "\"rule\":\"first\"");
  p2 = strstr(buf, "\"rule\":\"second\"");
  p3 = strstr(buf, "\"rule\":\"third\"");
  CHECK(p1 != NULL && p2 != NULL && p3 != NULL);
  CHECK(p1 < p2 && p2 < p3);
  CHECK(strstr(buf, "\"rule\":\"off\"") == NULL);
  CHECK(events(e.t, "rule.notify", NULL, 0) == 3);
  /* A change applies to the next event at once (the context's cache). */
  CHECK_OK(vc_rule_lookup(&r, e.t, "first"));
  spec_of(&s, "first", VC_RULE_ON_OPT_OUT, &a, 1);
  s.position = 10;
  s.disabled = 1;
  CHECK_OK(vc_rule_update(r, &s));
  vc_rule_free(r);
  CHECK_OK(opt_out(e.t, c, VC_CHANNEL_EMAIL));
  CHECK(events(e.t, "rule.ran", NULL, 0) == 5);
  CHECK(events(e.t, "rule.notify", NULL, 0) == 5);
  env_close(&e);
}

/* ---- loops ------------------------------------------------------------- */

static void test_rules__loops_refused(void)
{
  vc_rule_action a[2];
  vc_rule_spec s;
  vc_rule *r;
  env e;

  env_open(&e, 0);
  /* A reply to every message sent is a message sent. */
  action_send(&a[0], "price", NULL);
  spec_of(&s, "echo", VC_RULE_ON_MESSAGE, a, 1);
  s.states = 1u << VC_MSG_SENT;
  CHECK_RC(rule_add(e.t, &s), VC_ELOOP);
  CHECK(strstr(vc_error_last()->message, "echo") != NULL);
  /* An opt-out that opts out. */
  vc_rule_action_init(&a[1], VC_RULE_ACTION_VERSION);
  a[1].kind = VC_RULE_SET_CONSENT;
  a[1].consent = VC_CONSENT_OPTED_OUT;
  spec_of(&s, "everywhere", VC_RULE_ON_OPT_OUT, &a[1], 1);
  CHECK_RC(rule_add(e.t, &s), VC_ELOOP);
  CHECK(rule_count(e.t) == 0);
  /* On other channels there is no loop. */
  action_send(&a[0], "price", "sms");
  spec_of(&s, "mail to sms", VC_RULE_ON_MESSAGE, a, 1);
  s.states = 1u << VC_MSG_SENT;
  s.channel = "mail";
  CHECK_OK(rule_add(e.t, &s));
  /* Two rules that trigger each other: an SMS opts the contact out of
   * email, an email opt-out... sends an SMS. */
  a[1].channel_kind = VC_CHANNEL_EMAIL;
  spec_of(&s, "sms opts out", VC_RULE_ON_MESSAGE, &a[1], 1);
  s.states = 1u << VC_MSG_QUEUED;
  s.channel = "sms";
  CHECK_OK(rule_add(e.t, &s));
  action_send(&a[0], "price", "sms");
  spec_of(&s, "opt-out texts", VC_RULE_ON_OPT_OUT, a, 1);
  s.channel_kind = VC_CHANNEL_EMAIL;
  CHECK_RC(rule_add(e.t, &s), VC_ELOOP);
  CHECK(strstr(vc_error_last()->message, "trigger each other") != NULL);
  /* Stored disabled it is harmless; enabling it is refused. */
  s.disabled = 1;
  CHECK_OK(vc_rule_new(&r, e.t, &s));
  s.disabled = 0;
  CHECK_RC(vc_rule_update(r, &s), VC_ELOOP);
  CHECK(vc_rule_enabled(r) == 0);
  vc_rule_free(r);
  CHECK_OK(vc_rule_lookup(&r, e.t, "opt-out texts"));
  CHECK(vc_rule_enabled(r) == 0);
  vc_rule_free(r);
  CHECK(rule_count(e.t) == 3);
  env_close(&e);
}

/* A chain of four rules without a cycle: the fourth is beyond the depth
 * bound, so it does not fire and the stop is recorded once. */
static void test_rules__chain_depth_bound(void)
{
  vc_rule_action a[4];
  vc_rule_spec s;
  char c[VC_ID_SIZE], buf[1024];
  env e;

  env_open(&e, 0);
  new_contact(e.t, "+14155550200", "deep@example.com", NULL, c);
  /* 1: an SMS queued opts the contact out of chat. */
  vc_rule_action_init(&a[0], VC_RULE_ACTION_VERSION);
  a[0].kind = VC_RULE_SET_CONSENT;
  a[0].consent = VC_CONSENT_OPTED_OUT;
  a[0].channel_kind = VC_CHANNEL_CHAT;
  a[0].category = VC_CATEGORY_TRANSACTIONAL;
  spec_of(&s, "r1", VC_RULE_ON_MESSAGE, &a[0], 1);
  s.states = 1u << VC_MSG_QUEUED;
  s.channel = "sms";
  CHECK_OK(rule_add(e.t, &s));
  /* 2: a chat opt-out emails a goodbye. */
  action_send(&a[1], "bye", "mail");
  spec_of(&s, "r2", VC_RULE_ON_OPT_OUT, &a[1], 1);
  s.channel_kind = VC_CHANNEL_CHAT;
  CHECK_OK(rule_add(e.t, &s));
  /* 3: an email queued opts the contact out of calls. */
  a[2] = a[0];
  a[2].channel_kind = VC_CHANNEL_VOICE;
  spec_of(&s, "r3", VC_RULE_ON_MESSAGE, &a[2], 1);
  s.states = 1u << VC_MSG_QUEUED;
  s.channel = "mail";
  CHECK_OK(rule_add(e.t, &s));
  /* 4: a voice opt-out tags. */
  action_tag(&a[3], "too-deep");
  spec_of(&s, "r4", VC_RULE_ON_OPT_OUT, &a[3], 1);
  s.channel_kind = VC_CHANNEL_VOICE;
  CHECK_OK(rule_add(e.t, &s));

  CHECK_OK(send_on(e.t, "sms", "+14155550200"));
  CHECK(events(e.t, "rule.ran", NULL, 0) == 3);
  CHECK(events(e.t, "contact.opted_out", NULL, 0) == 2);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message WHERE to_addr ="
                   " 'deep@example.com'") == 1);
  CHECK(has_tag(c, "too-deep") == 0);
  CHECK(events(e.t, "rule.loop_stopped", buf, sizeof(buf)) == 1);
  CHECK(strstr(buf, "\"depth\":3") != NULL);
  env_close(&e);
}

/* Engine threads evaluate rules (message.sending, message.sent) while
 * the host changes them: the cache is shared and dropped under them. */
static void test_rules__threads(void)
{
  char ids[20][VC_ID_SIZE], phone[20];
  vc_rule_action a[2];
  vc_rule_spec s;
  vc_rule *other;
  env e;
  int n = 0;

  env_open(&e, 0);
  for (int i = 0; i < 20; i++) {
    snprintf(phone, sizeof(phone), "+1415555%04d", 300 + i);
    new_contact(e.t, phone, NULL, NULL, ids[i]);
  }
  action_tag(&a[0], "sent");
  spec_of(&s, "sent", VC_RULE_ON_MESSAGE, &a[0], 1);
  s.states = 1u << VC_MSG_SENT;
  CHECK_OK(rule_add(e.t, &s));
  action_tag(&a[1], "moving");
  spec_of(&s, "moving", VC_RULE_ON_MESSAGE, &a[1], 1);
  s.states = 1u << VC_MSG_SENDING;
  CHECK_OK(vc_rule_new(&other, e.t, &s));
  CHECK_OK(vc_ctx_start(e.ctx, 2));
  for (int i = 0; i < 20; i++) {
    snprintf(phone, sizeof(phone), "+1415555%04d", 300 + i);
    CHECK_OK(send_on(e.t, "sms", phone));
    s.position = i;
    CHECK_OK(vc_rule_update(other, &s));
  }
  for (int i = 0; i < 200 && n < 20; i++) {
    usleep(50 * 1000);
    n = count_rows("SELECT COUNT(*) FROM vc_contact_tag WHERE tag = 'sent'");
  }
  CHECK_OK(vc_ctx_stop(e.ctx));
  CHECK(n == 20);
  vc_rule_free(other);
  env_close(&e);
}

/* ---- audit, isolation, bad input --------------------------------------- */

/* A stored definition whose numbers no library would write (a damaged
 * or hand-edited row) still loads: such a number reads as 0, it is never
 * cast out of range. */
static void test_rules__stored_numbers_out_of_range(void)
{
  vc_rule_action a;
  vc_rule_spec s;
  vc_rule *r, *again;
  sqlite3 *db;
  env e;

  env_open(&e, 0);
  action_tag(&a, "x");
  spec_of(&s, "damaged", VC_RULE_ON_OPT_OUT, &a, 1);
  CHECK_OK(vc_rule_new(&r, e.t, &s));
  CHECK(sqlite3_open(vc_test_path(DB_NAME), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "UPDATE vc_rule SET definition = json_set("
                     "definition, '$.days', 1e300, '$.window_start', "
                     "-1e300, '$.actions[0].kind', 1e30)", NULL, NULL,
                     NULL) == SQLITE_OK);
  sqlite3_close(db);
  CHECK_OK(vc_rule_lookup(&again, e.t, "damaged"));
  CHECK(vc_rule_action_count(again) == 1);
  vc_rule_free(again);
  vc_rule_free(r);
  env_close(&e);
}

static void test_rules__audit(void)
{
  vc_rule_action a;
  vc_rule_spec s;
  vc_rule *r, *again;
  env e;

  env_open(&e, 0);
  action_tag(&a, "x");
  spec_of(&s, "audited", VC_RULE_ON_OPT_OUT, &a, 1);
  CHECK_OK(vc_rule_new(&r, e.t, &s));
  CHECK(strlen(vc_rule_id(r)) == 26);
  CHECK_STR(vc_rule_name(r), "audited");
  CHECK(vc_rule_trigger_of(r) == VC_RULE_ON_OPT_OUT);
  CHECK(vc_rule_action_count(r) == 1);
  CHECK(vc_rule_created_at(r) == g_now);
  CHECK(strstr(vc_rule_definition_json(r), "\"tag\":\"x\"") != NULL);
  g_now += 5000;
  s.name = "renamed";
  s.position = 7;
  CHECK_OK(vc_rule_update(r, &s));
  CHECK_STR(vc_rule_name(r), "renamed");
  CHECK(vc_rule_position(r) == 7);
  CHECK(vc_rule_updated_at(r) == g_now);
  CHECK_OK(vc_rule_lookup(&again, e.t, "renamed"));
  CHECK_STR(vc_rule_id(again), vc_rule_id(r));
  vc_rule_free(again);
  CHECK_OK(vc_rule_lookup(&again, e.t, vc_rule_id(r)));
  vc_rule_free(again);
  CHECK_OK(vc_rule_delete(r));
  CHECK_RC(vc_rule_delete(r), VC_ENOTFOUND);
  CHECK_RC(vc_rule_lookup(&again, e.t, "renamed"), VC_ENOTFOUND);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_audit WHERE action IN"
                   " ('rule.create', 'rule.update', 'rule.delete')") == 3);
  vc_rule_free(r);
  env_close(&e);
}

static void test_rules__tenant_isolation(void)
{
  vc_rule_action a;
  vc_rule_spec s;
  vc_rule *r, *x;
  vc_iter *it;
  char mine[VC_ID_SIZE], theirs[VC_ID_SIZE];
  env e;

  env_open(&e, 0);
  new_contact(e.t, "+14155550210", NULL, NULL, mine);
  new_contact(e.other, "+14155550210", NULL, NULL, theirs);
  action_tag(&a, "gone");
  spec_of(&s, "gone", VC_RULE_ON_OPT_OUT, &a, 1);
  CHECK_OK(vc_rule_new(&r, e.t, &s));
  /* Not visible to the other tenant. */
  CHECK_RC(vc_rule_lookup(&x, e.other, vc_rule_id(r)), VC_ENOTFOUND);
  CHECK_RC(vc_rule_lookup(&x, e.other, "gone"), VC_ENOTFOUND);
  CHECK_OK(vc_rule_list(&it, e.other, NULL));
  CHECK_RC(vc_rule_next(&x, it), VC_ITEROVER);
  vc_iter_free(it);
  /* The same name is free there; its channels are its own. */
  CHECK_OK(rule_add(e.other, &s));
  s.channel = "mail";
  CHECK_RC(rule_add(e.other, &s), VC_ENOTFOUND);
  s.channel = NULL;
  /* Its events fire its rules only. */
  CHECK_OK(opt_out(e.other, theirs, VC_CHANNEL_SMS));
  CHECK(has_tag(theirs, "gone") == 1);
  CHECK(has_tag(mine, "gone") == 0);
  CHECK(events(e.t, "rule.ran", NULL, 0) == 0);
  CHECK(events(e.other, "rule.ran", NULL, 0) == 1);
  vc_rule_free(r);
  env_close(&e);
}

static void test_rules__bad_input(void)
{
  vc_rule_action a[VC_RULE_ACTIONS_MAX + 1];
  char big[VC_RULE_PATTERN_MAX + 2], c[VC_ID_SIZE], buf[1024];
  vc_rule_spec s;
  vc_rule *r = NULL;
  env e;

  env_open(&e, 0);
  for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++)
    action_tag(&a[i], "t");
  spec_of(&s, "bad", VC_RULE_ON_INBOUND, a, 1);
  s.pattern = "order (";
  CHECK_RC(vc_rule_new(&r, e.t, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "pattern") != NULL);
  CHECK(r == NULL);
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  s.pattern = big;
  CHECK_RC(rule_add(e.t, &s), VC_ETOOBIG);
  s.pattern = NULL;
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);    /* neither */
  s.keyword = "hi";
  s.pattern = "hi";
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);    /* both */
  s.pattern = NULL;
  s.nactions = VC_RULE_ACTIONS_MAX + 1;
  CHECK_RC(rule_add(e.t, &s), VC_ETOOBIG);
  s.nactions = 0;
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);
  s.nactions = 1;
  s.name = NULL;
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);
  s.name = "bad";
  s.trigger = 99;
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);
  spec_of(&s, "bad", VC_RULE_ON_MESSAGE, a, 1);
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);    /* no statuses */
  s.states = 1u << 12;
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);
  s.states = 1u << VC_MSG_FAILED;
  s.window_start_min = 600;
  s.window_end_min = 600;
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);
  s.window_end_min = 1440;
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);
  s.window_end_min = 0;
  s.days = 1u << 7;
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);
  s.days = 0;
  s.causes = 1u << VC_CAUSE_BUSY;              /* not a call trigger */
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);
  s.causes = 0;
  s.channel = "nowhere";
  CHECK_RC(rule_add(e.t, &s), VC_ENOTFOUND);
  s.channel = NULL;
  s.version = 99;
  CHECK_RC(rule_add(e.t, &s), VC_EVERSION);
  s.version = VC_RULE_SPEC_VERSION;
  /* Actions: an unknown template is refused when the rule is stored. */
  action_send(&a[0], "no-such-template", NULL);
  CHECK_RC(rule_add(e.t, &s), VC_ENOTFOUND);
  CHECK(strstr(vc_error_last()->message, "no-such-template") != NULL);
  action_send(&a[0], "price", NULL);
  a[0].vars_json = "[1]";
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);
  /* Refused when stored, as the template's render would refuse it when
   * the rule fires. */
  a[0].vars_json = "{\"amount\": 1e999}";
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "action 0 vars") != NULL);
  action_tag(&a[0], "a;b");
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);
  vc_rule_action_init(&a[0], VC_RULE_ACTION_VERSION);
  a[0].kind = VC_RULE_SET_CONSENT;
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);    /* no consent state */
  a[0].kind = 42;
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);
  a[0].kind = VC_RULE_ASSIGN;
  CHECK_RC(rule_add(e.t, &s), VC_EINVALID);    /* no agent */
  CHECK(rule_count(e.t) == 0);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_audit WHERE action LIKE"
                   " 'rule.%'") == 0);
  /* A duplicate name. */
  action_tag(&a[0], "t");
  CHECK_OK(rule_add(e.t, &s));
  CHECK_RC(rule_add(e.t, &s), VC_EEXISTS);
  /* A template without a variant for the channel fails at run time: the
   * run records it and the change that triggered it stands. */
  new_contact(e.t, "+14155550220", NULL, NULL, c);
  action_send(&a[0], "bye", "sms");            /* bye: email only */
  spec_of(&s, "no variant", VC_RULE_ON_OPT_OUT, a, 1);
  CHECK_OK(rule_add(e.t, &s));
  CHECK_OK(opt_out(e.t, c, VC_CHANNEL_EMAIL));
  CHECK(events(e.t, "rule.ran", buf, sizeof(buf)) == 1);
  CHECK(strstr(buf, "\"outcome\":\"error: ") != NULL);
  CHECK(events(e.t, "contact.opted_out", NULL, 0) == 1);
  CHECK(rule_count(e.t) == 2);
  /* Arguments. */
  CHECK_RC(vc_rule_new(NULL, e.t, &s), VC_EINVALID);
  CHECK_RC(vc_rule_new(&r, NULL, &s), VC_EINVALID);
  CHECK_RC(vc_rule_new(&r, e.t, NULL), VC_EINVALID);
  CHECK_RC(vc_rule_lookup(&r, e.t, ""), VC_EINVALID);
  vc_rule_free(NULL);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_rules__keyword_reply_by_webhook),
  VC_TEST(test_rules__delivered_tags_contact),
  VC_TEST(test_rules__call_no_answer_sends_sms),
  VC_TEST(test_rules__campaign_completed_notifies_host),
  VC_TEST(test_rules__opt_out),
  VC_TEST(test_rules__conditions),
  VC_TEST(test_rules__fixed_order),
  VC_TEST(test_rules__loops_refused),
  VC_TEST(test_rules__chain_depth_bound),
  VC_TEST(test_rules__threads),
  VC_TEST(test_rules__audit),
  VC_TEST(test_rules__stored_numbers_out_of_range),
  VC_TEST(test_rules__tenant_isolation),
  VC_TEST(test_rules__bad_input),
)
