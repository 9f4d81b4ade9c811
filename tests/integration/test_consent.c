/*
 * Consent through the public API: states, the append-only log, the
 * tenant's policy, enforcement on sends, calls and at dispatch, the
 * do-not-call list, inbound keywords (STOP, START, HELP, a tenant's own
 * in another locale) arriving as signed Twilio webhooks from the
 * provider simulator, bounds and tenant isolation.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "net_util.h"

#include <sqlite3.h>
#include <stddef.h>

#define DB_NAME "consent.db"
#define OUR_NUMBER "+15005550006"

static int64_t g_now;

static int64_t test_clock(void *payload)
{
  (void)payload;
  return g_now;
}

static const uint8_t KEY[32] = { 4, 2 };

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t, *other;
  vc_sim *sim;                  /* with_sim only */
  char base[64];
  char sms[VC_ID_SIZE];         /* the SMS channel: sandbox or Twilio */
} env;

static void sandbox_channel(vc_tenant *t, const char *name,
                            const char *provider, char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  s.name = name;
  s.provider = provider;
  s.sender = strcmp(provider, "sandbox-email") == 0 ? "noreply@acme.test"
                                                    : OUR_NUMBER;
  CHECK_OK(vc_channel_new(&ch, t, &s));
  if (id != NULL)
    snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
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
  o.random_seed = 11;
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
    snprintf(e->sms, sizeof(e->sms), "%s", vc_channel_id(ch));
    vc_channel_free(ch);
  } else {
    sandbox_channel(e->t, "sms", "sandbox-sms", e->sms);
  }
  sandbox_channel(e->t, "mail", "sandbox-email", NULL);
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_tenant_free(e->other);
  vc_ctx_free(e->ctx);
  if (e->sim != NULL)
    vc_sim_stop(e->sim);
}

static void new_contact(vc_tenant *t, const char *phone, const char *locale,
                        char id[VC_ID_SIZE])
{
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;

  s.phone = phone;
  s.locale = locale;
  CHECK_OK(vc_contact_upsert(id, t, &s));
}

static int set_consent(vc_tenant *t, const char *contact, int kind,
                       int category, int state)
{
  vc_consent_spec s = VC_CONSENT_SPEC_INIT;

  s.contact_id = contact;
  s.kind = kind;
  s.category = category;
  s.state = state;
  return vc_consent_set(t, &s);
}

static int state_of(vc_tenant *t, const char *contact, int kind,
                    int category)
{
  vc_consent_info i = VC_CONSENT_INFO_INIT;

  CHECK_OK(vc_consent_get(&i, t, contact, kind, category));
  return i.state;
}

/* vc_message_send of an SMS; the id into id when not NULL. */
static int send_sms(vc_tenant *t, const char *to, int category,
                    char id[VC_ID_SIZE])
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;
  char tmp[VC_ID_SIZE];

  s.kind = VC_CHANNEL_SMS;
  s.to = to;
  s.text = category == VC_CATEGORY_MARKETING ? "Half price today"
                                             : "Your order shipped";
  s.category = category;
  return vc_message_send(id ? id : tmp, t, &s);
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

static int count_events(vc_tenant *t, const char *type)
{
  const vc_event *ev;
  vc_iter *it;
  int n = 0;

  CHECK_OK(vc_events_since(&it, t, 0));
  while (vc_event_next(&ev, it) == 0)
    n += strcmp(ev->type, type) == 0;
  vc_iter_free(it);
  return n;
}

/* The refusal names its rule and never the address. */
static int refused_for(const char *rule, const char *address)
{
  const vc_error *e = vc_error_last();

  if (e->code != VC_ECONSENT || strstr(e->message, rule) == NULL ||
      (address != NULL && strstr(e->message, address + 1) != NULL)) {
    fprintf(stderr, "  refusal: %d '%s' (wanted '%s')\n", e->code,
            e->message, rule);
    return 0;
  }
  return 1;
}

static void test_consent__set_get_log(void)
{
  char c[VC_ID_SIZE], cursor[64];
  vc_consent_log_filter f = VC_CONSENT_LOG_FILTER_INIT;
  vc_consent_spec s = VC_CONSENT_SPEC_INIT;
  vc_consent_info i = VC_CONSENT_INFO_INIT;
  const vc_consent_entry *en;
  vc_iter *it;
  int64_t t0;
  int n;
  env e;

  env_open(&e, 0);
  t0 = g_now;
  new_contact(e.t, "+14155550101", NULL, c);
  /* Nothing recorded: transactional is allowed, marketing SMS is not. */
  CHECK_OK(vc_consent_get(&i, e.t, c, VC_CHANNEL_SMS,
                          VC_CATEGORY_TRANSACTIONAL));
  CHECK(i.state == VC_CONSENT_UNKNOWN && i.changed_at == 0);
  CHECK(i.allowed == 1 && i.requires_opt_in == 0);
  CHECK_STR(i.source, "");
  CHECK_OK(vc_consent_get(&i, e.t, c, VC_CHANNEL_SMS,
                          VC_CATEGORY_MARKETING));
  CHECK(i.allowed == 0 && i.requires_opt_in == 1);
  /* An opt-in from a web form, with its proof. */
  s.contact_id = c;
  s.kind = VC_CHANNEL_SMS;
  s.category = VC_CATEGORY_MARKETING;
  s.state = VC_CONSENT_OPTED_IN;
  s.source = "web-form";
  s.proof = "ip=203.0.113.7 form=signup at 2026-11-26T10:00:00Z";
  CHECK_OK(vc_consent_set(e.t, &s));
  CHECK_OK(vc_consent_get(&i, e.t, c, VC_CHANNEL_SMS,
                          VC_CATEGORY_MARKETING));
  CHECK(i.state == VC_CONSENT_OPTED_IN && i.allowed == 1);
  CHECK(i.changed_at == t0);
  CHECK_STR(i.source, "web-form");
  CHECK(count_events(e.t, "contact.opted_in") == 1);
  /* An opt-out of every category (category 0), later. */
  g_now += 1000;
  s.category = 0;
  s.state = VC_CONSENT_OPTED_OUT;
  s.source = NULL;
  s.proof = NULL;
  CHECK_OK(vc_consent_set(e.t, &s));
  CHECK(state_of(e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING) ==
        VC_CONSENT_OPTED_OUT);
  CHECK(state_of(e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_TRANSACTIONAL) ==
        VC_CONSENT_OPTED_OUT);
  CHECK(state_of(e.t, c, VC_CHANNEL_EMAIL, VC_CATEGORY_MARKETING) ==
        VC_CONSENT_UNKNOWN);
  CHECK_OK(vc_consent_get(&i, e.t, c, VC_CHANNEL_SMS,
                          VC_CATEGORY_TRANSACTIONAL));
  CHECK(i.allowed == 0 && i.changed_at == t0 + 1000);
  CHECK_STR(i.source, "api");
  CHECK(count_events(e.t, "contact.opted_out") == 1);
  /* The same state again is logged (evidence), without an event. */
  s.category = VC_CATEGORY_MARKETING;
  CHECK_OK(vc_consent_set(e.t, &s));
  CHECK(count_events(e.t, "contact.opted_out") == 1);
  /* The log, oldest first, with what each row changed. */
  f.contact_id = c;
  CHECK_OK(vc_consent_log_list(&it, e.t, &f));
  CHECK_OK(vc_consent_log_next(&en, it));
  CHECK(en->kind == VC_CHANNEL_SMS && en->category == VC_CATEGORY_MARKETING);
  CHECK(en->state == VC_CONSENT_OPTED_IN &&
        en->previous == VC_CONSENT_UNKNOWN);
  CHECK_STR(en->source, "web-form");
  CHECK_STR(en->proof, "ip=203.0.113.7 form=signup at 2026-11-26T10:00:00Z");
  CHECK(en->created_at == t0);
  CHECK_STR(en->contact_id, c);
  snprintf(cursor, sizeof(cursor), "%s", vc_iter_cursor(it));
  CHECK_STR(cursor, en->id);
  n = 1;
  while (vc_consent_log_next(&en, it) == 0) {
    n++;
    CHECK(en->state == VC_CONSENT_OPTED_OUT);
    CHECK_STR(en->proof, "");
  }
  CHECK(n == 4);
  vc_iter_free(it);
  /* Resumed after the first row; filtered by kind. */
  f.after = cursor;
  CHECK_OK(vc_consent_log_list(&it, e.t, &f));
  for (n = 0; vc_consent_log_next(&en, it) == 0; n++)
    ;
  CHECK(n == 3);
  vc_iter_free(it);
  f.after = NULL;
  f.kind = VC_CHANNEL_EMAIL;
  CHECK_OK(vc_consent_log_list(&it, e.t, &f));
  CHECK_RC(vc_consent_log_next(&en, it), VC_ITEROVER);
  vc_iter_free(it);
  env_close(&e);
}

static void test_consent__bad_input(void)
{
  char c[VC_ID_SIZE], big[VC_CONSENT_PROOF_MAX + 2];
  vc_consent_log_filter f = VC_CONSENT_LOG_FILTER_INIT;
  vc_consent_spec s = VC_CONSENT_SPEC_INIT;
  vc_consent_info i = VC_CONSENT_INFO_INIT;
  vc_iter *it;
  env e;

  env_open(&e, 0);
  new_contact(e.t, "+14155550102", NULL, c);
  s.contact_id = c;
  s.kind = VC_CHANNEL_SMS;
  s.category = VC_CATEGORY_MARKETING;
  s.state = VC_CONSENT_OPTED_IN;
  s.category = VC_CATEGORY_OTP;
  CHECK_RC(vc_consent_set(e.t, &s), VC_EINVALID);
  s.category = 9;
  CHECK_RC(vc_consent_set(e.t, &s), VC_EINVALID);
  s.category = VC_CATEGORY_MARKETING;
  s.kind = 7;
  CHECK_RC(vc_consent_set(e.t, &s), VC_EINVALID);
  s.kind = VC_CHANNEL_SMS;
  s.state = 3;
  CHECK_RC(vc_consent_set(e.t, &s), VC_EINVALID);
  s.state = VC_CONSENT_OPTED_IN;
  s.source = "Web Form";
  CHECK_RC(vc_consent_set(e.t, &s), VC_EINVALID);
  /* Bounds: a source of 32 bytes and a proof of 1024 pass, one more
   * does not. */
  s.source = "abcdefghijklmnopqrstuvwxyz012345x";
  CHECK(vc_consent_set(e.t, &s) < 0);
  memset(big, 'p', sizeof(big));
  big[VC_CONSENT_PROOF_MAX + 1] = '\0';
  s.source = "api";
  s.proof = big;
  CHECK_RC(vc_consent_set(e.t, &s), VC_ETOOBIG);
  s.proof = "\xff\xfe";
  CHECK(vc_consent_set(e.t, &s) < 0);
  s.contact_id = "01HZZZZZZZZZZZZZZZZZZZZZZZ";
  s.proof = NULL;
  CHECK_RC(vc_consent_set(e.t, &s), VC_ENOTFOUND);
  s.contact_id = "not an id";
  CHECK_RC(vc_consent_set(e.t, &s), VC_EINVALID);
  s.contact_id = NULL;
  CHECK_RC(vc_consent_set(e.t, &s), VC_EINVALID);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_consent_log") == 0);
  s.contact_id = c;
  s.source = "abcdefghijklmnopqrstuvwxyz012345";
  big[VC_CONSENT_PROOF_MAX] = '\0';
  s.proof = big;
  CHECK_OK(vc_consent_set(e.t, &s));
  CHECK(count_rows("SELECT COUNT(*) FROM vc_consent_log") == 1);
  s.version = 99;
  CHECK_RC(vc_consent_set(e.t, &s), VC_EVERSION);
  CHECK_RC(vc_consent_get(&i, e.t, c, VC_CHANNEL_SMS, 0), VC_EINVALID);
  CHECK_RC(vc_consent_get(&i, e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_OTP),
           VC_EINVALID);
  CHECK_RC(vc_consent_log_list(&it, e.t, &f), VC_EINVALID);
  f.contact_id = c;
  f.after = "garbage";
  CHECK_RC(vc_consent_log_list(&it, e.t, &f), VC_EINVALID);
  CHECK_RC(vc_consent_spec_init(&s, 2), VC_EVERSION);
  CHECK(vc_consent_name(VC_CONSENT_OPTED_OUT) != NULL &&
        strcmp(vc_consent_name(VC_CONSENT_OPTED_OUT), "opted_out") == 0);
  CHECK(vc_consent_name(5) == NULL);
  env_close(&e);
}

/* The store itself refuses to change or delete the log. */
static void test_consent__log_immutable(void)
{
  char c[VC_ID_SIZE];
  sqlite3 *db;
  env e;

  env_open(&e, 0);
  new_contact(e.t, "+14155550103", NULL, c);
  CHECK_OK(set_consent(e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                       VC_CONSENT_OPTED_IN));
  CHECK(sqlite3_open(vc_test_path(DB_NAME), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  CHECK(sqlite3_exec(db, "UPDATE vc_consent_log SET state = 2", NULL, NULL,
                     NULL) == SQLITE_CONSTRAINT);
  CHECK(strstr(sqlite3_errmsg(db), "append-only") != NULL);
  CHECK(sqlite3_exec(db, "DELETE FROM vc_consent_log", NULL, NULL, NULL) ==
        SQLITE_CONSTRAINT);
  sqlite3_close(db);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_consent_log WHERE state = 1") ==
        1);
  env_close(&e);
}

static void test_consent__policy(void)
{
  static const int kinds[] = { VC_CHANNEL_EMAIL, VC_CHANNEL_SMS,
                               VC_CHANNEL_CHAT, VC_CHANNEL_VOICE };
  char c[VC_ID_SIZE], id[VC_ID_SIZE];
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;
  int r;
  env e;

  env_open(&e, 0);
  /* The defaults: marketing needs an opt-in except on email. */
  for (size_t k = 0; k < 4; k++) {
    CHECK_OK(vc_consent_policy_get(&r, e.t, kinds[k],
                                   VC_CATEGORY_TRANSACTIONAL));
    CHECK(r == 0);
    CHECK_OK(vc_consent_policy_get(&r, e.t, kinds[k],
                                   VC_CATEGORY_MARKETING));
    CHECK(r == (kinds[k] != VC_CHANNEL_EMAIL));
  }
  CHECK_RC(vc_consent_policy_get(&r, e.t, 0, VC_CATEGORY_MARKETING),
           VC_EINVALID);
  CHECK_RC(vc_consent_policy_set(e.t, VC_CHANNEL_SMS, VC_CATEGORY_OTP, 1),
           VC_EINVALID);
  CHECK_RC(vc_consent_policy_set(e.t, VC_CHANNEL_SMS,
                                 VC_CATEGORY_MARKETING, 2), VC_EINVALID);
  new_contact(e.t, "+14155550104", NULL, c);
  CHECK_OK(vc_contact_address_add(e.t, c, VC_ADDRESS_EMAIL,
                                  "asha@example.com"));
  /* Marketing email passes by default; not once the tenant asks for an
   * opt-in. */
  s.kind = VC_CHANNEL_EMAIL;
  s.to = "asha@example.com";
  s.subject = "Sale";
  s.text = "Half price";
  s.category = VC_CATEGORY_MARKETING;
  CHECK_OK(vc_message_send(id, e.t, &s));
  CHECK_OK(vc_consent_policy_set(e.t, VC_CHANNEL_EMAIL,
                                 VC_CATEGORY_MARKETING, 1));
  CHECK_OK(vc_consent_policy_get(&r, e.t, VC_CHANNEL_EMAIL,
                                 VC_CATEGORY_MARKETING));
  CHECK(r == 1);
  CHECK_RC(vc_message_send(id, e.t, &s), VC_ECONSENT);
  CHECK(refused_for("needs an opt-in", NULL));
  /* And marketing SMS without an opt-in, once the tenant drops it. */
  CHECK_RC(send_sms(e.t, "+14155550104", VC_CATEGORY_MARKETING, NULL),
           VC_ECONSENT);
  CHECK_OK(vc_consent_policy_set(e.t, VC_CHANNEL_SMS,
                                 VC_CATEGORY_MARKETING, 0));
  CHECK_OK(send_sms(e.t, "+14155550104", VC_CATEGORY_MARKETING, NULL));
  /* An opt-out still wins over a policy that needs nothing. */
  CHECK_OK(set_consent(e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                       VC_CONSENT_OPTED_OUT));
  CHECK_RC(send_sms(e.t, "+14155550104", VC_CATEGORY_MARKETING, NULL),
           VC_ECONSENT);
  /* The other tenant keeps the defaults. */
  CHECK_OK(vc_consent_policy_get(&r, e.other, VC_CHANNEL_SMS,
                                 VC_CATEGORY_MARKETING));
  CHECK(r == 1);
  env_close(&e);
}

static void test_consent__sends(void)
{
  vc_message_spec many[3];
  char c[VC_ID_SIZE], id[VC_ID_SIZE], ids[3][VC_ID_SIZE];
  int results[3];
  vc_message *m;
  env e;

  env_open(&e, 0);
  new_contact(e.t, "+14155550105", NULL, c);
  /* Marketing SMS without an opt-in: refused, nothing stored. */
  vc_error_clear();
  CHECK_RC(send_sms(e.t, "+14155550105", VC_CATEGORY_MARKETING, NULL),
           VC_ECONSENT);
  CHECK(refused_for("marketing on sms needs an opt-in", "+14155550105"));
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message") == 0);
  /* Nor to a number no contact holds. */
  CHECK_RC(send_sms(e.t, "+14155550999", VC_CATEGORY_MARKETING, NULL),
           VC_ECONSENT);
  CHECK(refused_for("no known contact", "+14155550999"));
  /* Transactional and one-time passwords pass. */
  CHECK_OK(send_sms(e.t, "+14155550105", VC_CATEGORY_TRANSACTIONAL, id));
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK_STR(vc_message_contact_id(m), c);
  vc_message_free(m);
  CHECK_OK(send_sms(e.t, "+14155550105", VC_CATEGORY_OTP, NULL));
  /* With an opt-in, marketing passes. */
  CHECK_OK(set_consent(e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                       VC_CONSENT_OPTED_IN));
  CHECK_OK(send_sms(e.t, "+14155550105", VC_CATEGORY_MARKETING, NULL));
  /* An opt-out of marketing blocks marketing only. */
  CHECK_OK(set_consent(e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                       VC_CONSENT_OPTED_OUT));
  CHECK_RC(send_sms(e.t, "+14155550105", VC_CATEGORY_MARKETING, NULL),
           VC_ECONSENT);
  CHECK(refused_for("opted out of marketing on sms", "+14155550105"));
  CHECK_OK(send_sms(e.t, "+14155550105", VC_CATEGORY_TRANSACTIONAL, NULL));
  /* An opt-out of transactional blocks one-time passwords too. */
  CHECK_OK(set_consent(e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_TRANSACTIONAL,
                       VC_CONSENT_OPTED_OUT));
  CHECK_RC(send_sms(e.t, "+14155550105", VC_CATEGORY_TRANSACTIONAL, NULL),
           VC_ECONSENT);
  CHECK_RC(send_sms(e.t, "+14155550105", VC_CATEGORY_OTP, NULL),
           VC_ECONSENT);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message") == 4);
  /* Bulk sends refuse per message. */
  for (int i = 0; i < 3; i++) {
    vc_message_spec_init(&many[i], VC_MESSAGE_SPEC_VERSION);
    many[i].kind = VC_CHANNEL_SMS;
    many[i].text = "bulk";
    many[i].category = VC_CATEGORY_TRANSACTIONAL;
    many[i].to = i == 1 ? "+14155550105" : "+14155550777";
  }
  CHECK(vc_message_send_many(e.t, many, 3, ids, results) == 2);
  CHECK(results[0] == 0 && results[1] == VC_ECONSENT && results[2] == 0);
  /* The spec's contact_id is the one checked. */
  {
    vc_message_spec s = VC_MESSAGE_SPEC_INIT;
    s.kind = VC_CHANNEL_SMS;
    s.to = "+14155550888";
    s.text = "for the contact";
    s.contact_id = c;
    CHECK_RC(vc_message_send(id, e.t, &s), VC_ECONSENT);
  }
  env_close(&e);
}

static void voice_channel(vc_tenant *t)
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  s.name = "voice";
  s.provider = "sandbox-voice";
  s.sender = "+14155550000";
  CHECK_OK(vc_channel_new(&ch, t, &s));
  vc_channel_free(ch);
}

static int start_call(vc_tenant *t, const char *number, int category,
                      vc_call **out)
{
  vc_call_spec s = VC_CALL_SPEC_INIT;
  vc_call *c = NULL;
  int rc;

  s.agent_number = "+14155550111";
  s.customer_number = number;
  s.category = category;
  rc = vc_call_start(&c, t, &s);
  if (out != NULL)
    *out = c;
  else
    vc_call_free(c);
  return rc;
}

static void test_consent__calls_and_dnc(void)
{
  const size_t v1 = offsetof(vc_call_spec, category);
  char c[VC_ID_SIZE], cursor[64];
  vc_dnc_filter f = VC_DNC_FILTER_INIT;
  const vc_dnc_entry *d;
  unsigned char *old;
  vc_call_spec s;
  vc_iter *it;
  vc_call *call;
  int n;
  env e;

  env_open(&e, 0);
  voice_channel(e.t);
  voice_channel(e.other);
  new_contact(e.t, "+14155550106", NULL, c);
  /* A transactional call with no consent recorded passes. */
  CHECK_OK(start_call(e.t, "+14155550106", 0, &call));
  CHECK(vc_call_category(call) == VC_CATEGORY_TRANSACTIONAL);
  CHECK_STR(vc_call_contact_id(call), c);
  vc_call_free(call);
  /* A marketing call needs an opt-in; with it, it passes. */
  CHECK_RC(start_call(e.t, "+14155550106", VC_CATEGORY_MARKETING, NULL),
           VC_ECONSENT);
  CHECK(refused_for("marketing on voice needs an opt-in", "+14155550106"));
  CHECK_OK(set_consent(e.t, c, VC_CHANNEL_VOICE, VC_CATEGORY_MARKETING,
                       VC_CONSENT_OPTED_IN));
  CHECK_OK(start_call(e.t, "+14155550106", VC_CATEGORY_MARKETING, &call));
  CHECK(vc_call_category(call) == VC_CATEGORY_MARKETING);
  vc_call_free(call);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call") == 2);
  /* The do-not-call list blocks every category but one-time passwords,
   * whatever the contact's consent; nothing is stored. */
  CHECK(vc_dnc_contains(e.t, "+14155550106") == 0);
  CHECK_OK(vc_dnc_add(e.t, "+1 (415) 555-0106", "complaint"));
  CHECK_OK(vc_dnc_add(e.t, "+14155550106", NULL));  /* already listed */
  CHECK(vc_dnc_contains(e.t, "+14155550106") == 1);
  CHECK_RC(start_call(e.t, "+14155550106", VC_CATEGORY_MARKETING, NULL),
           VC_ECONSENT);
  CHECK(refused_for("do-not-call list", "+14155550106"));
  CHECK_RC(start_call(e.t, "+14155550106", 0, NULL), VC_ECONSENT);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_call") == 2);
  CHECK_OK(start_call(e.t, "+14155550106", VC_CATEGORY_OTP, NULL));
  /* A number no contact holds is checked all the same. */
  CHECK_OK(vc_dnc_add(e.t, "+14155550107", NULL));
  CHECK_RC(start_call(e.t, "+14155550107", 0, NULL), VC_ECONSENT);
  /* The other tenant's list is its own. */
  CHECK(vc_dnc_contains(e.other, "+14155550106") == 0);
  CHECK_OK(start_call(e.other, "+14155550106", 0, NULL));
  CHECK_RC(vc_dnc_remove(e.other, "+14155550106"), VC_ENOTFOUND);
  /* The list, in pages, resumable. */
  CHECK_OK(vc_dnc_list(&it, e.t, NULL));
  CHECK_OK(vc_dnc_next(&d, it));
  CHECK_STR(d->number, "+14155550106");
  CHECK_STR(d->source, "complaint");
  snprintf(cursor, sizeof(cursor), "%s", vc_iter_cursor(it));
  for (n = 1; vc_dnc_next(&d, it) == 0; n++)
    CHECK_STR(d->source, "api");
  CHECK(n == 2);
  vc_iter_free(it);
  f.after = cursor;
  CHECK_OK(vc_dnc_list(&it, e.t, &f));
  CHECK_OK(vc_dnc_next(&d, it));
  CHECK_STR(d->number, "+14155550107");
  CHECK_RC(vc_dnc_next(&d, it), VC_ITEROVER);
  vc_iter_free(it);
  CHECK_OK(vc_dnc_list(&it, e.other, NULL));
  CHECK_RC(vc_dnc_next(&d, it), VC_ITEROVER);
  vc_iter_free(it);
  /* Taken off the list, the number may be called again. */
  CHECK_OK(vc_dnc_remove(e.t, "+14155550106"));
  CHECK_RC(vc_dnc_remove(e.t, "+14155550106"), VC_ENOTFOUND);
  CHECK_OK(start_call(e.t, "+14155550106", 0, NULL));
  /* An opt-out of voice blocks calls of that category. */
  CHECK_OK(set_consent(e.t, c, VC_CHANNEL_VOICE, VC_CATEGORY_TRANSACTIONAL,
                       VC_CONSENT_OPTED_OUT));
  CHECK_RC(start_call(e.t, "+14155550106", 0, NULL), VC_ECONSENT);
  CHECK(refused_for("opted out of transactional on voice", NULL));
  /* Bad input. */
  CHECK_RC(vc_dnc_add(e.t, "12", NULL), VC_EINVALID);
  CHECK_RC(vc_dnc_add(e.t, NULL, NULL), VC_EINVALID);
  CHECK_RC(vc_dnc_add(e.t, "+14155550108", "Bad Source"), VC_EINVALID);
  CHECK_RC(vc_dnc_contains(e.t, "nope"), VC_EINVALID);
  f.after = "nope";
  CHECK_RC(vc_dnc_list(&it, e.t, &f), VC_EINVALID);
  CHECK_RC(start_call(e.t, "+14155550109", 9, NULL), VC_EINVALID);
  /* A caller built against the version-1 header: a transactional call
   * to the contact holding the number. */
  old = malloc(v1);
  CHECK(old != NULL);
  CHECK_OK(vc_call_spec_init((vc_call_spec *)old, 1));
  vc_call_spec_init(&s, VC_CALL_SPEC_VERSION);
  s.version = 1;
  s.agent_number = "+14155550111";
  s.customer_number = "+14155550199";
  memcpy(old, &s, v1);
  CHECK_OK(vc_call_start(&call, e.t, (vc_call_spec *)old));
  CHECK(vc_call_category(call) == VC_CATEGORY_TRANSACTIONAL);
  CHECK_STR(vc_call_contact_id(call), "");
  vc_call_free(call);
  free(old);
  env_close(&e);
}

/* A queued message whose contact opts out before it goes out ends
 * failed with VC_ECONSENT, and nothing reaches the provider. */
static void test_consent__dispatch_recheck(void)
{
  char a[VC_ID_SIZE], b[VC_ID_SIZE], ma[VC_ID_SIZE], mb[VC_ID_SIZE];
  char mm[VC_ID_SIZE];
  vc_message *m;
  env e;

  env_open(&e, 0);
  new_contact(e.t, "+14155550110", NULL, a);
  new_contact(e.t, "+14155550112", NULL, b);
  CHECK_OK(set_consent(e.t, a, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                       VC_CONSENT_OPTED_IN));
  CHECK_OK(send_sms(e.t, "+14155550110", VC_CATEGORY_TRANSACTIONAL, ma));
  CHECK_OK(send_sms(e.t, "+14155550110", VC_CATEGORY_MARKETING, mm));
  CHECK_OK(send_sms(e.t, "+14155550112", VC_CATEGORY_TRANSACTIONAL, mb));
  /* a withdraws marketing only; then everything on SMS. */
  CHECK_OK(set_consent(e.t, a, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                       VC_CONSENT_OPTED_OUT));
  CHECK(vc_ctx_run(e.ctx, 0) >= 1);
  CHECK_OK(vc_message_lookup(&m, e.t, mm));
  CHECK(vc_message_status(m) == VC_MSG_FAILED);
  CHECK(vc_message_error(m) == VC_ECONSENT);
  CHECK_STR(vc_message_provider_id(m), "");   /* the sandbox's record */
  CHECK(strstr(vc_message_error_message(m), "opted out") != NULL);
  vc_message_free(m);
  CHECK_OK(vc_message_lookup(&m, e.t, ma));
  CHECK(vc_message_status(m) == VC_MSG_SENT);
  CHECK(strncmp(vc_message_provider_id(m), "sandbox-", 8) == 0);
  vc_message_free(m);
  CHECK_OK(vc_message_lookup(&m, e.t, mb));
  CHECK(vc_message_status(m) == VC_MSG_SENT);
  vc_message_free(m);
  /* Queue, opt out of every category, run. */
  CHECK_OK(send_sms(e.t, "+14155550110", VC_CATEGORY_OTP, ma));
  CHECK_OK(set_consent(e.t, a, VC_CHANNEL_SMS, 0, VC_CONSENT_OPTED_OUT));
  CHECK(vc_ctx_run(e.ctx, 0) >= 1);
  CHECK_OK(vc_message_lookup(&m, e.t, ma));
  CHECK(vc_message_status(m) == VC_MSG_FAILED);
  CHECK(vc_message_error(m) == VC_ECONSENT);
  CHECK(vc_message_attempts(m) == 0);
  vc_message_free(m);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 0);
  env_close(&e);
}

/* ---- keywords by signed webhook -------------------------------------- */

/* Post an inbound SMS from `from` through the simulator, signed as
 * Twilio signs, and wait until the library answered it. */
static void inbound(env *e, const char *from, const char *text)
{
  char url[160];
  vc_sim_webhook_stats st;

  snprintf(url, sizeof(url), "%s/webhooks/%s", e->base, e->sms);
  CHECK_OK(vc_sim_twilio_inbound(e->sim, url, from, OUR_NUMBER, text,
                                 NULL));
  CHECK_OK(vc_sim_webhooks_wait(e->sim, 10000));
  vc_sim_webhooks_stats(e->sim, &st);
  CHECK(st.failed == 0);
}

/* Messages queued to `to` with this text. */
static int replies(const char *to, const char *text)
{
  char sql[512];

  snprintf(sql, sizeof(sql),
           "SELECT COUNT(*) FROM vc_message WHERE to_addr = '%s'"
           " AND text_body = '%s' AND category = 1 AND consent_exempt IN"
           " (0, 1)", to, text);
  return count_rows(sql);
}

static const char STOP_REPLY[] =
  "You are unsubscribed and will get no more messages from us. "
  "Reply START to subscribe again.";

static void test_consent__stop_start_by_webhook(void)
{
  vc_consent_log_filter f = VC_CONSENT_LOG_FILTER_INIT;
  const vc_consent_entry *en;
  char c[VC_ID_SIZE], id[VC_ID_SIZE], promo[VC_ID_SIZE];
  vc_message *m;
  vc_contact *k;
  vc_iter *it;
  env e;

  env_open(&e, 1);
  new_contact(e.t, "+14155550120", NULL, c);
  CHECK_OK(set_consent(e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                       VC_CONSENT_OPTED_IN));
  /* Queued before the STOP, sent after it: it must not go out. */
  CHECK_OK(send_sms(e.t, "+14155550120", VC_CATEGORY_MARKETING, promo));
  /* STOP, as people type it. */
  inbound(&e, "+14155550120", "  Stop \n");
  CHECK_RC(send_sms(e.t, "+14155550120", VC_CATEGORY_MARKETING, NULL),
           VC_ECONSENT);
  CHECK(refused_for("opted out of marketing on sms", "+14155550120"));
  /* On SMS a STOP ends everything, transactional too. */
  CHECK_RC(send_sms(e.t, "+14155550120", VC_CATEGORY_TRANSACTIONAL, NULL),
           VC_ECONSENT);
  CHECK(state_of(e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_TRANSACTIONAL) ==
        VC_CONSENT_OPTED_OUT);
  CHECK(state_of(e.t, c, VC_CHANNEL_EMAIL, VC_CATEGORY_MARKETING) ==
        VC_CONSENT_UNKNOWN);
  /* Logged with the keyword as source and the inbound message as proof. */
  f.contact_id = c;
  f.kind = VC_CHANNEL_SMS;
  f.after = NULL;
  CHECK_OK(vc_consent_log_list(&it, e.t, &f));
  CHECK_OK(vc_consent_log_next(&en, it));     /* the API opt-in */
  CHECK_OK(vc_consent_log_next(&en, it));
  CHECK_STR(en->source, "keyword");
  CHECK(strlen(en->proof) == 26);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_inbound_message") == 1);
  vc_iter_free(it);
  /* The confirmation is queued, exempt from the opt-out it confirms,
   * and goes out to the provider. */
  CHECK(replies("+14155550120", STOP_REPLY) == 1);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message WHERE consent_exempt"
                   " = 1") == 1);
  for (int i = 0; i < 5; i++)
    vc_ctx_run(e.ctx, 0);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message WHERE consent_exempt"
                   " = 1 AND status >= 3 AND status <= 5") == 1);
  CHECK(vc_sim_sent_count(e.sim, "+14155550120") == 1);
  CHECK_OK(vc_message_lookup(&m, e.t, promo));
  CHECK(vc_message_status(m) == VC_MSG_FAILED);
  CHECK(vc_message_error(m) == VC_ECONSENT);
  vc_message_free(m);
  /* HELP answers and changes nothing. */
  inbound(&e, "+14155550120", "help");
  CHECK(replies("+14155550120",
                "Reply STOP to unsubscribe, START to subscribe again.") == 1);
  CHECK(state_of(e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING) ==
        VC_CONSENT_OPTED_OUT);
  /* START restores marketing and transactional messages. */
  inbound(&e, "+14155550120", "START");
  CHECK_OK(send_sms(e.t, "+14155550120", VC_CATEGORY_MARKETING, NULL));
  CHECK_OK(send_sms(e.t, "+14155550120", VC_CATEGORY_TRANSACTIONAL, NULL));
  CHECK(replies("+14155550120", "You are subscribed again. Reply STOP to "
                "unsubscribe, HELP for help.") == 1);
  CHECK(count_events(e.t, "contact.opted_out") == 1);
  CHECK(count_events(e.t, "contact.opted_in") == 2);
  /* Not a keyword: stored, nothing else. */
  inbound(&e, "+14155550120", "stop sending me the catalogue please");
  CHECK(state_of(e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING) ==
        VC_CONSENT_OPTED_IN);
  /* An unknown sender who sends STOP becomes a contact, opted out. */
  inbound(&e, "+14155550121", "UNSUBSCRIBE");
  CHECK_OK(vc_contact_find_by_address(&k, e.t, VC_ADDRESS_PHONE,
                                      "+14155550121"));
  CHECK(state_of(e.t, vc_contact_id(k), VC_CHANNEL_SMS,
                 VC_CATEGORY_TRANSACTIONAL) == VC_CONSENT_OPTED_OUT);
  vc_contact_free(k);
  CHECK_RC(send_sms(e.t, "+14155550121", VC_CATEGORY_TRANSACTIONAL, id),
           VC_ECONSENT);
  CHECK(replies("+14155550121", STOP_REPLY) == 1);
  env_close(&e);
}

/* WhatsApp (chat kind): STOP opts the sender out of chat messages,
 * confirmed on WhatsApp; SMS stays as it was. */
static void test_consent__stop_on_whatsapp(void)
{
  vc_sim_webhooks w = VC_SIM_WEBHOOKS_INIT;
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_message_spec ms = VC_MESSAGE_SPEC_INIT;
  char config[512], creds[256], url[160], c[VC_ID_SIZE], id[VC_ID_SIZE];
  vc_channel *ch;
  env e;

  env_open(&e, 1);
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
  snprintf(url, sizeof(url), "%s/webhooks/%s", e.base, vc_channel_id(ch));
  vc_channel_free(ch);
  w.url = url;
  CHECK_OK(vc_sim_webhooks_set(e.sim, "whatsapp", &w));
  new_contact(e.t, "+14155550160", NULL, c);
  CHECK_OK(vc_contact_address_add(e.t, c, VC_ADDRESS_WHATSAPP,
                                  "+14155550160"));
  CHECK_OK(vc_sim_whatsapp_inbound(e.sim, "14155550160", "STOP"));
  CHECK_OK(vc_sim_webhooks_wait(e.sim, 10000));
  CHECK(state_of(e.t, c, VC_CHANNEL_CHAT, VC_CATEGORY_TRANSACTIONAL) ==
        VC_CONSENT_OPTED_OUT);
  CHECK(state_of(e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_TRANSACTIONAL) ==
        VC_CONSENT_UNKNOWN);
  CHECK(replies("14155550160", STOP_REPLY) == 1);
  ms.kind = VC_CHANNEL_CHAT;
  ms.to = "14155550160";
  ms.text = "Your order shipped";
  CHECK_RC(vc_message_send(id, e.t, &ms), VC_ECONSENT);
  CHECK(refused_for("opted out of transactional on chat", "+14155550160"));
  CHECK_OK(send_sms(e.t, "+14155550160", VC_CATEGORY_TRANSACTIONAL, NULL));
  /* The confirmation goes out on WhatsApp, in the window STOP opened. */
  for (int i = 0; i < 5; i++)
    vc_ctx_run(e.ctx, 0);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message WHERE kind = 3 AND"
                   " consent_exempt = 1 AND status >= 3 AND status <= 5") ==
        1);
  env_close(&e);
}

static void test_consent__tenant_keywords(void)
{
  static const char HI_STOP[] = "\xe0\xa4\xb0\xe0\xa5\x8b\xe0\xa4\x95\xe0"
                                "\xa5\x87\xe0\xa4\x82";   /* "rokein" */
  static const char HI_REPLY[] = "\xe0\xa4\xa0\xe0\xa5\x80\xe0\xa4\x95 "
                                 "(ok)";
  char hi[VC_ID_SIZE], en_[VC_ID_SIZE], kw[80];
  env e;

  env_open(&e, 1);
  new_contact(e.t, "+14155550130", "hi-IN", hi);
  new_contact(e.t, "+14155550131", "en", en_);
  CHECK_OK(vc_keyword_set(e.t, "hi", HI_STOP, VC_KEYWORD_OPT_OUT,
                          HI_REPLY));
  /* Any locale: the tenant's own HELP answer, and a new opt-in word. */
  CHECK_OK(vc_keyword_set(e.t, NULL, "HELP", VC_KEYWORD_HELP,
                          "Acme: call 1800 000 000. STOP to end."));
  CHECK_OK(vc_keyword_set(e.t, NULL, "Yes Please", VC_KEYWORD_OPT_IN,
                          NULL));
  /* The Hindi keyword works for the contact whose locale is hi-IN... */
  inbound(&e, "+14155550130", HI_STOP);
  CHECK(state_of(e.t, hi, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING) ==
        VC_CONSENT_OPTED_OUT);
  CHECK(replies("+14155550130", HI_REPLY) == 1);
  /* ...and not for one whose locale is English (nor the tenant's). */
  inbound(&e, "+14155550131", HI_STOP);
  CHECK(state_of(e.t, en_, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING) ==
        VC_CONSENT_UNKNOWN);
  inbound(&e, "+14155550131", "help");
  CHECK(replies("+14155550131", "Acme: call 1800 000 000. STOP to end.") ==
        1);
  inbound(&e, "+14155550131", "yes please");
  CHECK(state_of(e.t, en_, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING) ==
        VC_CONSENT_OPTED_IN);
  /* Removed, the word is ordinary text again. */
  CHECK_OK(vc_keyword_remove(e.t, NULL, "yes please"));
  CHECK_RC(vc_keyword_remove(e.t, NULL, "yes please"), VC_ENOTFOUND);
  CHECK_RC(vc_keyword_remove(e.t, NULL, "stop"), VC_ENOTFOUND);
  /* Another tenant's keyword means nothing here. */
  CHECK_OK(vc_keyword_set(e.other, NULL, "PAUSE", VC_KEYWORD_OPT_OUT,
                          NULL));
  inbound(&e, "+14155550131", "pause");
  CHECK(state_of(e.t, en_, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING) ==
        VC_CONSENT_OPTED_IN);
  /* Bad input and bounds. */
  CHECK_RC(vc_keyword_set(e.t, NULL, "STOP", VC_KEYWORD_HELP, NULL),
           VC_EINVALID);
  CHECK_OK(vc_keyword_set(e.t, "en", "stop", VC_KEYWORD_OPT_OUT,
                          "Acme: unsubscribed."));
  CHECK_RC(vc_keyword_set(e.t, NULL, "go", 0, NULL), VC_EINVALID);
  CHECK_RC(vc_keyword_set(e.t, NULL, "go", 4, NULL), VC_EINVALID);
  CHECK_RC(vc_keyword_set(e.t, NULL, " go", 1, NULL), VC_EINVALID);
  CHECK_RC(vc_keyword_set(e.t, NULL, "g\no", 1, NULL), VC_EINVALID);
  CHECK_RC(vc_keyword_set(e.t, NULL, "", 1, NULL), VC_EINVALID);
  CHECK_RC(vc_keyword_set(e.t, "h i", "go", 1, NULL), VC_EINVALID);
  CHECK_RC(vc_keyword_set(e.t, NULL, "go", 1, ""), VC_EINVALID);
  memset(kw, 'k', sizeof(kw));
  kw[VC_KEYWORD_MAX + 1] = '\0';
  CHECK_RC(vc_keyword_set(e.t, NULL, kw, 1, NULL), VC_ETOOBIG);
  kw[VC_KEYWORD_MAX] = '\0';
  CHECK_OK(vc_keyword_set(e.t, NULL, kw, 1, NULL));
  {
    char reply[VC_KEYWORD_REPLY_MAX + 2];
    memset(reply, 'r', sizeof(reply));
    reply[VC_KEYWORD_REPLY_MAX + 1] = '\0';
    CHECK_RC(vc_keyword_set(e.t, NULL, "go", 1, reply), VC_ETOOBIG);
    reply[VC_KEYWORD_REPLY_MAX] = '\0';
    CHECK_OK(vc_keyword_set(e.t, NULL, "go", 1, reply));
  }
  /* At most VC_KEYWORD_TENANT_MAX keywords; changing one still works. */
  for (int i = 0; i < VC_KEYWORD_TENANT_MAX; i++) {
    snprintf(kw, sizeof(kw), "word%d", i);
    int rc = vc_keyword_set(e.t, NULL, kw, VC_KEYWORD_HELP, "hi");
    CHECK(rc == 0 || (rc == VC_ETOOBIG && i >= VC_KEYWORD_TENANT_MAX - 6));
  }
  CHECK(count_rows("SELECT COUNT(*) FROM vc_keyword WHERE tenant_id ="
                   " (SELECT id FROM vc_tenant WHERE slug = 'acme')") ==
        VC_KEYWORD_TENANT_MAX);
  CHECK_RC(vc_keyword_set(e.t, NULL, "one more", 1, NULL), VC_ETOOBIG);
  CHECK_OK(vc_keyword_set(e.t, NULL, "word0", VC_KEYWORD_OPT_IN, NULL));
  env_close(&e);
}

static void test_consent__isolation(void)
{
  char c[VC_ID_SIZE], mine[VC_ID_SIZE];
  vc_consent_log_filter f = VC_CONSENT_LOG_FILTER_INIT;
  vc_consent_info i = VC_CONSENT_INFO_INIT;
  const vc_consent_entry *en;
  vc_iter *it;
  env e;

  env_open(&e, 0);
  new_contact(e.t, "+14155550140", NULL, c);
  new_contact(e.other, "+14155550140", NULL, mine);
  CHECK_OK(set_consent(e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                       VC_CONSENT_OPTED_IN));
  /* The other tenant can neither read nor change it. */
  CHECK_RC(vc_consent_get(&i, e.other, c, VC_CHANNEL_SMS,
                          VC_CATEGORY_MARKETING), VC_ENOTFOUND);
  CHECK_RC(set_consent(e.other, c, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                       VC_CONSENT_OPTED_OUT), VC_ENOTFOUND);
  f.contact_id = c;
  CHECK_OK(vc_consent_log_list(&it, e.other, &f));
  CHECK_RC(vc_consent_log_next(&en, it), VC_ITEROVER);
  vc_iter_free(it);
  CHECK(state_of(e.t, c, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING) ==
        VC_CONSENT_OPTED_IN);
  /* The same number in the other tenant is another contact, whose
   * consent is its own. */
  CHECK(state_of(e.other, mine, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING) ==
        VC_CONSENT_UNKNOWN);
  CHECK_RC(send_sms(e.other, "+14155550140", VC_CATEGORY_MARKETING, NULL),
           VC_ECONSENT);
  CHECK_OK(set_consent(e.other, mine, VC_CHANNEL_SMS, 0,
                       VC_CONSENT_OPTED_OUT));
  CHECK_OK(send_sms(e.t, "+14155550140", VC_CATEGORY_MARKETING, NULL));
  CHECK_OK(vc_consent_policy_set(e.other, VC_CHANNEL_SMS,
                                 VC_CATEGORY_TRANSACTIONAL, 1));
  CHECK_OK(send_sms(e.t, "+14155550140", VC_CATEGORY_TRANSACTIONAL, NULL));
  env_close(&e);
}

/* Merged contacts: an opt-out of either side holds for the survivor. */
static void test_consent__merged_contact(void)
{
  char a[VC_ID_SIZE], b[VC_ID_SIZE];
  env e;

  env_open(&e, 0);
  new_contact(e.t, "+14155550150", NULL, a);
  new_contact(e.t, "+14155550151", NULL, b);
  CHECK_OK(set_consent(e.t, a, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                       VC_CONSENT_OPTED_IN));
  CHECK_OK(set_consent(e.t, b, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING,
                       VC_CONSENT_OPTED_OUT));
  CHECK_OK(vc_contact_merge(e.t, a, b));
  CHECK_RC(send_sms(e.t, "+14155550150", VC_CATEGORY_MARKETING, NULL),
           VC_ECONSENT);
  CHECK(state_of(e.t, a, VC_CHANNEL_SMS, VC_CATEGORY_MARKETING) ==
        VC_CONSENT_OPTED_OUT);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_consent__set_get_log),
  VC_TEST(test_consent__bad_input),
  VC_TEST(test_consent__log_immutable),
  VC_TEST(test_consent__policy),
  VC_TEST(test_consent__sends),
  VC_TEST(test_consent__calls_and_dnc),
  VC_TEST(test_consent__dispatch_recheck),
  VC_TEST(test_consent__stop_start_by_webhook),
  VC_TEST(test_consent__stop_on_whatsapp),
  VC_TEST(test_consent__tenant_keywords),
  VC_TEST(test_consent__isolation),
  VC_TEST(test_consent__merged_contact),
)
