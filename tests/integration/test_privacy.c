/*
 * Privacy through the public API, SQLite on disk, injected clock: a
 * contact with email and phone, tags, custom fields, consent log
 * entries, messages on two channels, an inbound SMS by webhook, a
 * sandbox call with a recording and its ledger entries, a campaign
 * membership and a do-not-call entry. Its export holds all of it; after
 * the erasure the export holds nothing personal, neither does the raw
 * database file (after a checkpoint), the ledger sums and the GL export
 * are unchanged, the number stays refused for calls and the opted-out
 * SMS, the erasure is listed and audited and a second one is a no-op.
 * Then tenant isolation, the refusals, and retention by the clock.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "vyomcomm/sys/adapter.h"
#include "harness.h"
#include "local_adapter.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000000LL
#define DAY 86400000LL

/* Personal data of the contact, each string unique in the store. */
#define NAME "Asha Qzverma"
#define EMAIL "asha.qz@example.com"
#define PHONE "+14155550177"
#define PHONE_DIGITS "4155550177"
#define TAG "tag-qzprivate"
#define FIELD "field-qz-secret"
#define PROOF "proof-qz-203.0.113.77"
#define SUBJECT "subject-qz-invoice"
#define EMAIL_BODY "email-body-qz-secret"
#define HTML_BODY "html-qz-secret"
#define SMS_BODY "sms-body-qz-secret"
#define META "meta-qz-secret"
#define INBOUND_TEXT "inbound-qz-secret"
#define COUPON "coupon-qz-secret"
#define REC_HOST "sandbox.invalid"

static const char *const PERSONAL[] = {
  NAME, EMAIL, PHONE_DIGITS, TAG, FIELD, PROOF, SUBJECT, EMAIL_BODY,
  HTML_BODY, SMS_BODY, META, INBOUND_TEXT, COUPON, REC_HOST
};
#define NPERSONAL (sizeof(PERSONAL) / sizeof(PERSONAL[0]))

static int64_t g_now = T0;
static int64_t test_clock(void *p) { (void)p; return g_now; }

/* ---- an SMS adapter that receives: the webhook body is "from|text" ---- */

static int in_parse(void *state, const vc_outbound *msg,
                    const vc_http_response *res, vc_send_result *out)
{
  (void)state; (void)res;
  out->outcome = VC_SEND_ACCEPTED;
  snprintf(out->provider_id, sizeof(out->provider_id), "in-%u", msg->part);
  return 0;
}
static int in_parse_webhook(void *state, const vc_http_request *req,
                            vc_event_sink *sink)
{
  char body[256], *bar;
  vc_inbound m = { VC_INBOUND_VERSION, NULL, NULL, "+14155550000", NULL,
                   NULL, 0, 0 };

  (void)state;
  snprintf(body, sizeof(body), "%.*s", (int)req->body_len,
           (const char *)req->body);
  if ((bar = strchr(body, '|')) == NULL)
    return VC_EINVALID;
  *bar = '\0';
  m.from = body;
  m.text = bar + 1;
  return vc_event_sink_inbound(sink, &m);
}
static const vc_adapter IN_ADAPTER = {
  VC_ADAPTER_VERSION, "privacy-in", VC_CHANNEL_SMS,
  VC_CAP_LOCAL | VC_CAP_INBOUND,
  local_init, local_fini, local_build, in_parse, local_verify_any,
  in_parse_webhook, NULL
};

/* ---- fixture ---------------------------------------------------------- */

typedef struct env {
  vc_ctx *ctx;
  vc_tenant *t, *other;
  char file[64];
  char in_channel[VC_ID_SIZE];
} env;

static const uint8_t KEY[32] = { 7, 1, 2, 3 };

static void channel(vc_tenant *t, const char *name, const char *provider,
                    const char *config, const char *sender, int priority,
                    char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  s.name = name;
  s.provider = provider;
  s.config_json = config;
  s.sender = sender;
  s.priority = priority;
  CHECK_OK(vc_channel_new(&ch, t, &s));
  if (id != NULL)
    snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void tenant_setup(env *e, vc_tenant *t, char in_id[VC_ID_SIZE])
{
  vc_recording_policy_spec rp = VC_RECORDING_POLICY_SPEC_INIT;
  vc_ratecard_spec rs = VC_RATECARD_SPEC_INIT;
  static const char csv[] = "prefix,rate_per_min,initial_s,subsequent_s,"
                            "connection_fee,currency\n1,20000,60,60,5000,"
                            "USD\n";
  char rid[VC_ID_SIZE];

  (void)e;
  channel(t, "mail", "sandbox-email", NULL, "noreply@acme.example", 10,
          NULL);
  channel(t, "sms", "sandbox-sms", NULL, "+14155550000", 10, NULL);
  channel(t, "sms-in", "privacy-in", NULL, "+14155550000", 90, in_id);
  channel(t, "voice", "sandbox-voice", "{\"talk_s\":90}", "+14155550000",
          10, NULL);
  rp.mode = VC_RECORD_ALWAYS;
  CHECK_OK(vc_recording_policy_set(t, &rp));
  rs.provider = "sandbox-voice";
  CHECK_OK(vc_ratecard_import(rid, t, &rs, VC_RATECARD_CSV, csv,
                              strlen(csv)));
}

static void env_open(env *e, const char *file, int two_tenants)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;
  char ignored[VC_ID_SIZE];

  memset(e, 0, sizeof(*e));
  g_now = T0;
  snprintf(e->file, sizeof(e->file), "%s", file);
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(file), NULL));
  mk.key = KEY;
  mk.key_len = sizeof(KEY);
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = test_clock;
  o.public_base_url = "https://erp.example.com";
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  CHECK_OK(vc_adapter_register(e->ctx, &IN_ADAPTER));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  tenant_setup(e, e->t, e->in_channel);
  if (two_tenants) {
    ts.slug = "other";
    CHECK_OK(vc_tenant_new(&e->other, e->ctx, &ts));
    tenant_setup(e, e->other, ignored);
  }
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_tenant_free(e->other);
  vc_ctx_free(e->ctx);
}

static void drain(env *e)
{
  for (int i = 0; i < 50 && vc_ctx_run(e->ctx, 0) > 0; i++)
    ;
}

static int64_t count_rows(env *e, const char *sql)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  int64_t n = -1;

  CHECK(sqlite3_open(vc_test_path(e->file), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static void inbound(env *e, const char *in_channel, const char *from,
                    const char *text)
{
  char target[64], body[256];
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_http_response res;

  snprintf(target, sizeof(target), "/webhooks/%s", in_channel);
  snprintf(body, sizeof(body), "%s|%s", from, text);
  req.method = "POST";
  req.target = target;
  req.body = (const uint8_t *)body;
  req.body_len = strlen(body);
  CHECK_OK(vc_webhook_handle(&res, e->ctx, &req));
  CHECK(res.status == 200);
  vc_http_response_dispose(&res);
}

/* The contact with everything a tenant may hold about a person; its id
 * into id. */
static void populate(env *e, vc_tenant *t, const char *in_channel,
                     char id[VC_ID_SIZE])
{
  vc_contact_spec cs = VC_CONTACT_SPEC_INIT;
  vc_consent_spec con;
  vc_message_spec ms;
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  vc_campaign_spec camp = VC_CAMPAIGN_SPEC_INIT;
  vc_call_spec call;
  vc_template *tpl;
  vc_campaign *c;
  vc_call *cl;
  char mid[VC_ID_SIZE];
  static const char *chain[] = { "sms" };
  const char *ids[1], *vars[1] = { "{\"coupon\":\"" COUPON "\"}" };

  cs.name = NAME;
  cs.email = EMAIL;
  cs.phone = PHONE;
  cs.tags = TAG ";vip";
  cs.fields_json = "{\"loyalty\":\"" FIELD "\"}";
  CHECK_OK(vc_contact_upsert(id, t, &cs));
  ids[0] = id;
  /* Consent: an opt-in with its proof, for marketing SMS. */
  vc_consent_spec_init(&con, VC_CONSENT_SPEC_VERSION);
  con.contact_id = id;
  con.kind = VC_CHANNEL_SMS;
  con.category = VC_CATEGORY_MARKETING;
  con.state = VC_CONSENT_OPTED_IN;
  con.source = "web-form";
  con.proof = PROOF;
  CHECK_OK(vc_consent_set(t, &con));
  /* Messages on two channels. */
  vc_message_spec_init(&ms, VC_MESSAGE_SPEC_VERSION);
  ms.kind = VC_CHANNEL_EMAIL;
  ms.to = EMAIL;
  ms.subject = SUBJECT;
  ms.text = EMAIL_BODY;
  ms.html = "<p>" HTML_BODY "</p>";
  ms.metadata_json = "{\"note\":\"" META "\"}";
  CHECK_OK(vc_message_send(mid, t, &ms));
  vc_message_spec_init(&ms, VC_MESSAGE_SPEC_VERSION);
  ms.channel = "sms";
  ms.to = PHONE;
  ms.text = SMS_BODY;
  CHECK_OK(vc_message_send(mid, t, &ms));
  drain(e);
  /* An inbound SMS, by webhook. */
  inbound(e, in_channel, PHONE, INBOUND_TEXT);
  /* A recorded call, priced by the rate card. */
  vc_call_spec_init(&call, VC_CALL_SPEC_VERSION);
  call.agent_number = "+14155550111";
  call.customer_number = PHONE;
  CHECK_OK(vc_call_start(&cl, t, &call));
  drain(e);
  g_now += 600000;
  drain(e);
  CHECK_OK(vc_call_refresh(cl));
  CHECK(vc_call_state_of(cl) == VC_CALL_COMPLETED);
  vc_call_free(cl);
  /* A campaign membership with its own variables (a draft). */
  ts.name = "offer";
  ts.kind = VC_CHANNEL_SMS;
  ts.text_body = "Offer {{coupon}}";
  CHECK_OK(vc_template_new(&tpl, t, &ts));
  vc_template_free(tpl);
  camp.name = "spring";
  camp.template_name = "offer";
  camp.chain = chain;
  camp.nchain = 1;
  camp.audience = VC_AUDIENCE_LIST;
  camp.contact_ids = ids;
  camp.contact_vars = vars;
  camp.ncontacts = 1;
  CHECK_OK(vc_campaign_new(&c, t, &camp));
  vc_campaign_free(c);
  /* Afterwards: no more transactional SMS, and no calls. */
  con.category = VC_CATEGORY_TRANSACTIONAL;
  con.state = VC_CONSENT_OPTED_OUT;
  con.source = "api";
  con.proof = NULL;
  CHECK_OK(vc_consent_set(t, &con));
  CHECK_OK(vc_dnc_add(t, PHONE, "api"));
}

static int has(const vc_buf *b, const char *s)
{
  return b->ptr != NULL && memmem(b->ptr, b->size, s, strlen(s)) != NULL;
}

static void export_of(vc_buf *b, vc_tenant *t, const char *id)
{
  b->size = 0;
  if (b->ptr != NULL)
    b->ptr[0] = '\0';
  CHECK_OK(vc_contact_export(b, t, id));
}

/* 1 when sqlite finds `json` well-formed. */
static int json_valid(env *e, const char *json)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  int ok = 0;

  CHECK(sqlite3_open(vc_test_path(e->file), &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, "SELECT json_valid(?1)", -1, &st, NULL)
        == SQLITE_OK);
  sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW)
    ok = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return ok;
}

/* Ledger sum per currency: "USD=123;" ... into out. */
static void ledger_sums(vc_tenant *t, char *out, size_t size)
{
  vc_ledger_filter f = VC_LEDGER_FILTER_INIT;
  vc_ledger_entry *le;
  vc_iter *it;
  int64_t usd = 0, n = 0;

  CHECK_OK(vc_ledger_list(&it, t, &f));
  while (vc_ledger_next(&le, it) == 0) {
    int64_t a = vc_ledger_entry_amount_micros(le);
    CHECK_STR(vc_ledger_entry_currency(le), "USD");
    usd += vc_ledger_entry_reverses(le) != NULL &&
           vc_ledger_entry_reverses(le)[0] ? -a : a;
    n++;
    vc_ledger_entry_free(le);
  }
  vc_iter_free(it);
  snprintf(out, size, "USD=%lld;n=%lld", (long long)usd, (long long)n);
}

static void gl_totals(vc_tenant *t, vc_buf *out)
{
  vc_gl_export_options o = VC_GL_EXPORT_OPTIONS_INIT;

  o.format = VC_GL_JSON;
  o.from = T0 - DAY;
  o.to = T0 + 30 * DAY;
  CHECK_OK(vc_gl_export(out, t, &o));
}

/* Read a file whole (empty when it does not exist). */
static void slurp(vc_buf *out, const char *path)
{
  FILE *f = fopen(path, "rb");
  char chunk[65536];
  size_t n;

  out->size = 0;
  if (f == NULL)
    return;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    char *p = realloc(out->ptr, out->size + n + 1);
    CHECK(p != NULL);
    out->ptr = p;
    memcpy(out->ptr + out->size, chunk, n);
    out->size += n;
    out->ptr[out->size] = '\0';
  }
  fclose(f);
}

/* Copy the WAL into the database file and empty it, with the
 * library's connections still open. */
static void checkpoint(env *e)
{
  sqlite3 *db;
  sqlite3_stmt *st;

  CHECK(sqlite3_open(vc_test_path(e->file), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  CHECK(sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &st,
                           NULL) == SQLITE_OK);
  CHECK(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) == 0);    /* not busy: complete */
  sqlite3_finalize(st);
  sqlite3_close(db);
}

/* ---- tests -------------------------------------------------------------- */

static void test_privacy__export_erase(void)
{
  env e;
  vc_buf b = VC_BUF_INIT, gl_before = VC_BUF_INIT, gl_after = VC_BUF_INIT;
  vc_buf raw = VC_BUF_INIT;
  char id[VC_ID_SIZE], er[VC_ID_SIZE], er2[VC_ID_SIZE], sums[64];
  char sums_after[64], path[600];
  vc_erasure_filter ef = VC_ERASURE_FILTER_INIT;
  vc_audit_filter af = VC_AUDIT_FILTER_INIT;
  const vc_erasure_entry *ee;
  vc_audit_entry *ae;
  vc_message_spec ms;
  vc_call_spec call;
  vc_call *cl = NULL;
  vc_iter *it;
  sqlite3 *db;

  env_open(&e, "privacy.db", 0);
  populate(&e, e.t, e.in_channel, id);
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_ledger") > 0);
  ledger_sums(e.t, sums, sizeof(sums));
  gl_totals(e.t, &gl_before);

  /* The export holds all of it, as one valid JSON document. */
  export_of(&b, e.t, id);
  CHECK(json_valid(&e, b.ptr));
  for (size_t i = 0; i < NPERSONAL; i++) {
    if (!has(&b, PERSONAL[i]))
      fprintf(stderr, "export lacks %s\n", PERSONAL[i]);
    CHECK(has(&b, PERSONAL[i]));
  }
  CHECK(has(&b, "\"dnc\":[{\"number\":\"" PHONE "\""));
  /* The raw file holds them too before the erasure: the scan below can
   * see them. */
  checkpoint(&e);
  snprintf(path, sizeof(path), "%s", vc_test_path(e.file));
  slurp(&raw, path);
  for (size_t i = 0; i < NPERSONAL; i++)
    CHECK(has(&raw, PERSONAL[i]));
  CHECK(has(&b, "\"action\":\"contact.upsert\""));

  /* Refusals change nothing. */
  CHECK_RC(vc_contact_erase(er, e.t, id, NULL), VC_EINVALID);
  CHECK_RC(vc_contact_erase(er, e.t, id, ""), VC_EINVALID);
  CHECK_RC(vc_contact_erase(er, e.t, "not-an-id", "asked"), VC_EINVALID);
  CHECK_RC(vc_contact_erase(er, e.t, "01HZZZZZZZZZZZZZZZZZZZZZZZ", "x"),
           VC_ENOTFOUND);
  CHECK_RC(vc_contact_export(&b, e.t, "01HZZZZZZZZZZZZZZZZZZZZZZZ"),
           VC_ENOTFOUND);
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_erasure") == 0);

  /* Erase, as the data protection officer. */
  CHECK_OK(vc_audit_actor_set("dpo@acme"));
  CHECK_OK(vc_contact_erase(er, e.t, id, "art. 17 request #4411"));
  CHECK(er[0] != '\0');

  /* The export now holds nothing personal. */
  export_of(&b, e.t, id);
  CHECK(json_valid(&e, b.ptr));
  for (size_t i = 0; i < NPERSONAL; i++) {
    if (has(&b, PERSONAL[i]))
      fprintf(stderr, "export still holds %s\n", PERSONAL[i]);
    CHECK(!has(&b, PERSONAL[i]));
  }
  CHECK(has(&b, id));                       /* the skeleton stays */
  CHECK(has(&b, "\"erasures\":[{\"id\":\""));

  /* Nor does the database file, after a checkpoint into it. */
  checkpoint(&e);
  snprintf(path, sizeof(path), "%s", vc_test_path(e.file));
  slurp(&raw, path);
  CHECK(raw.size > 0);
  for (size_t i = 0; i < NPERSONAL; i++) {
    if (has(&raw, PERSONAL[i]))
      fprintf(stderr, "database file holds %s\n", PERSONAL[i]);
    CHECK(!has(&raw, PERSONAL[i]));
  }
  CHECK(has(&raw, id));                     /* the file is the right one */
  snprintf(path, sizeof(path), "%s-wal", vc_test_path(e.file));
  slurp(&raw, path);
  for (size_t i = 0; i < NPERSONAL; i++)
    CHECK(!has(&raw, PERSONAL[i]));

  /* The ledger still balances: the same sums, the same GL export. */
  ledger_sums(e.t, sums_after, sizeof(sums_after));
  CHECK_STR(sums_after, sums);
  gl_totals(e.t, &gl_after);
  CHECK(gl_after.size == gl_before.size &&
        memcmp(gl_after.ptr, gl_before.ptr, gl_after.size) == 0);
  /* 2 minutes at 0.02 a minute and a 0.005 connection fee, balanced. */
  CHECK(has(&gl_after, "{\"currency\":\"USD\",\"debit\":\"0.05\","
                       "\"credit\":\"0.05\",\"debit_micros\":45000,"
                       "\"credit_micros\":45000"));
  for (size_t i = 0; i < NPERSONAL; i++)
    CHECK(!has(&gl_after, PERSONAL[i]));

  /* The number stays refused: calls (do-not-call) and transactional SMS
   * (its opt-out); refusals store nothing. */
  CHECK(vc_dnc_contains(e.t, PHONE) == 1);
  vc_call_spec_init(&call, VC_CALL_SPEC_VERSION);
  call.agent_number = "+14155550111";
  call.customer_number = PHONE;
  CHECK_RC(vc_call_start(&cl, e.t, &call), VC_ECONSENT);
  CHECK(strstr(vc_error_last()->message, "do-not-call") != NULL);
  vc_message_spec_init(&ms, VC_MESSAGE_SPEC_VERSION);
  ms.channel = "sms";
  ms.to = PHONE;
  ms.text = "hello again";
  CHECK_RC(vc_message_send(er2, e.t, &ms), VC_ECONSENT);
  CHECK(strstr(vc_error_last()->message, "opted out") != NULL);
  ms.to = "+14155550178";                   /* a neighbour is not */
  CHECK_OK(vc_message_send(er2, e.t, &ms));

  /* Listed and audited, by the actor, with the counts. */
  CHECK_OK(vc_erasure_list(&it, e.t, &ef));
  CHECK_OK(vc_erasure_next(&ee, it));
  CHECK_STR(ee->id, er);
  CHECK_STR(ee->contact_id, id);
  CHECK_STR(ee->survivor_id, id);
  CHECK_STR(ee->actor, "dpo@acme");
  CHECK_STR(ee->reason, "art. 17 request #4411");
  CHECK(ee->at == g_now);
  CHECK(ee->contacts == 1);
  CHECK(ee->addresses == 2);
  CHECK(ee->messages == 2);
  CHECK(ee->inbound == 1);
  CHECK(ee->calls == 1);
  CHECK(ee->recordings == 1);
  CHECK(ee->consent_log == 1);
  CHECK(ee->campaign_recipients == 1);
  CHECK(ee->suppressions > 0);
  CHECK_RC(vc_erasure_next(&ee, it), VC_ITEROVER);
  vc_iter_free(it);
  af.action_prefix = "contact.erase";
  CHECK_OK(vc_audit_list(&it, e.t, &af));
  CHECK_OK(vc_audit_next(&ae, it));
  CHECK_STR(vc_audit_entry_entity_id(ae), id);
  CHECK_STR(vc_audit_entry_actor(ae), "dpo@acme");
  CHECK(strstr(vc_audit_entry_summary_json(ae), er) != NULL);
  CHECK(strstr(vc_audit_entry_summary_json(ae), "4411") == NULL);
  vc_audit_entry_free(ae);
  CHECK_RC(vc_audit_next(&ae, it), VC_ITEROVER);
  vc_iter_free(it);

  /* A second erasure is a no-op that says so. */
  CHECK_RC(vc_contact_erase(er2, e.t, id, "again"), VC_EEXISTS);
  CHECK_STR(er2, er);
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_erasure") == 1);
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_audit WHERE action ="
                       " 'contact.erase'") == 1);

  /* The consent log is still append-only. */
  CHECK(sqlite3_open(vc_test_path(e.file), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "UPDATE vc_consent_log SET proof = 'x'", NULL,
                     NULL, NULL) != SQLITE_OK);
  CHECK(sqlite3_exec(db, "UPDATE vc_consent_log SET state = 1, proof ="
                         " NULL", NULL, NULL, NULL) != SQLITE_OK);
  CHECK(sqlite3_exec(db, "DELETE FROM vc_consent_log", NULL, NULL, NULL)
        != SQLITE_OK);
  CHECK(sqlite3_exec(db, "DELETE FROM vc_erasure", NULL, NULL, NULL)
        != SQLITE_OK);
  sqlite3_close(db);

  /* A master key rotation re-seals the hash key: still refused. */
  {
    static const uint8_t key2[32] = { 9, 9, 9 };
    vc_master_key mk = VC_MASTER_KEY_INIT;
    mk.key = key2;
    mk.key_len = sizeof(key2);
    CHECK_OK(vc_secret_rotate_key(e.ctx, &mk));
    CHECK(vc_dnc_contains(e.t, PHONE) == 1);
    CHECK_RC(vc_call_start(&cl, e.t, &call), VC_ECONSENT);
    ms.to = PHONE;
    CHECK_RC(vc_message_send(er2, e.t, &ms), VC_ECONSENT);
  }

  /* Taking the number off the list takes its hash off too. */
  CHECK_OK(vc_dnc_remove(e.t, PHONE));
  CHECK(vc_dnc_contains(e.t, PHONE) == 0);
  CHECK_RC(vc_dnc_remove(e.t, PHONE), VC_ENOTFOUND);
  /* A new contact holding the number who opts in may be texted again. */
  {
    vc_contact_spec cs = VC_CONTACT_SPEC_INIT;
    vc_consent_spec con;
    char nid[VC_ID_SIZE];
    cs.phone = PHONE;
    CHECK_OK(vc_contact_upsert(nid, e.t, &cs));
    CHECK(strcmp(nid, id) != 0);
    ms.to = PHONE;
    CHECK_RC(vc_message_send(er2, e.t, &ms), VC_ECONSENT);
    vc_consent_spec_init(&con, VC_CONSENT_SPEC_VERSION);
    con.contact_id = nid;
    con.kind = VC_CHANNEL_SMS;
    con.category = VC_CATEGORY_TRANSACTIONAL;
    con.state = VC_CONSENT_OPTED_IN;
    CHECK_OK(vc_consent_set(e.t, &con));
    CHECK_OK(vc_message_send(er2, e.t, &ms));
  }
  vc_audit_actor_set(NULL);
  vc_buf_dispose(&b);
  vc_buf_dispose(&gl_before);
  vc_buf_dispose(&gl_after);
  free(raw.ptr);
  env_close(&e);
}

/* A merged id erases the survivor and the merged contact. */
static void test_privacy__merged(void)
{
  env e;
  vc_contact_spec cs = VC_CONTACT_SPEC_INIT;
  char a[VC_ID_SIZE], b[VC_ID_SIZE], er[VC_ID_SIZE];
  vc_buf x = VC_BUF_INIT;

  env_open(&e, "merged.db", 0);
  cs.name = "Merged Qzperson";
  cs.email = "merged.qz@example.com";
  CHECK_OK(vc_contact_upsert(a, e.t, &cs));
  cs.name = NULL;
  cs.email = NULL;
  cs.phone = "+14155550166";
  CHECK_OK(vc_contact_upsert(b, e.t, &cs));
  CHECK_OK(vc_contact_merge(e.t, a, b));
  export_of(&x, e.t, b);                  /* the merged id: the survivor */
  CHECK(has(&x, "merged.qz@example.com"));
  CHECK(has(&x, "+14155550166"));
  CHECK(has(&x, "\"merged\":[{\"id\":\""));
  CHECK_OK(vc_contact_erase(er, e.t, b, "asked by merged id"));
  export_of(&x, e.t, a);
  CHECK(!has(&x, "Merged Qzperson"));
  CHECK(!has(&x, "merged.qz@example.com"));
  CHECK(!has(&x, "4155550166"));
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_contact WHERE"
                       " erased_at IS NULL") == 0);
  CHECK_RC(vc_contact_erase(er, e.t, a, "again"), VC_EEXISTS);
  /* Listed under the id asked for and under the survivor's. */
  {
    vc_erasure_filter f = VC_ERASURE_FILTER_INIT;
    const vc_erasure_entry *ee;
    vc_iter *it;
    f.contact_id = a;
    CHECK_OK(vc_erasure_list(&it, e.t, &f));
    CHECK_OK(vc_erasure_next(&ee, it));
    CHECK_STR(ee->contact_id, b);
    CHECK_STR(ee->survivor_id, a);
    CHECK(ee->contacts == 2);
    CHECK(ee->addresses == 2);
    CHECK_RC(vc_erasure_next(&ee, it), VC_ITEROVER);
    vc_iter_free(it);
    f.contact_id = "01HZZZZZZZZZZZZZZZZZZZZZZZ";
    CHECK_OK(vc_erasure_list(&it, e.t, &f));
    CHECK_RC(vc_erasure_next(&ee, it), VC_ITEROVER);
    vc_iter_free(it);
    f.contact_id = NULL;
    f.after = "bad cursor";
    CHECK_RC(vc_erasure_list(&it, e.t, &f), VC_EINVALID);
    f.after = NULL;
    f.version = 2;
    CHECK_RC(vc_erasure_list(&it, e.t, &f), VC_EVERSION);
  }
  vc_buf_dispose(&x);
  env_close(&e);
}

/* Another tenant's identical contact is untouched, and unreachable. */
static void test_privacy__isolation(void)
{
  env e;
  vc_buf a = VC_BUF_INIT, b = VC_BUF_INIT, b2 = VC_BUF_INIT;
  char ida[VC_ID_SIZE], idb[VC_ID_SIZE], er[VC_ID_SIZE];
  vc_erasure_filter ef = VC_ERASURE_FILTER_INIT;
  const vc_erasure_entry *ee;
  vc_iter *it;

  env_open(&e, "isolation.db", 1);
  populate(&e, e.t, e.in_channel, ida);
  {
    /* The other tenant's inbound channel id. */
    vc_channel *ch;
    CHECK_OK(vc_channel_lookup(&ch, e.other, "sms-in"));
    populate(&e, e.other, vc_channel_id(ch), idb);
    vc_channel_free(ch);
  }
  export_of(&b, e.other, idb);
  CHECK(has(&b, INBOUND_TEXT));
  /* Neither tenant reaches the other's contact. */
  CHECK_RC(vc_contact_export(&a, e.other, ida), VC_ENOTFOUND);
  CHECK_RC(vc_contact_erase(er, e.other, ida, "x"), VC_ENOTFOUND);
  CHECK_OK(vc_contact_erase(er, e.t, ida, "asked"));
  export_of(&a, e.t, ida);
  CHECK(!has(&a, NAME));
  export_of(&b2, e.other, idb);
  /* The other's document is the same, but for the audit rows after it
   * (none were written for it). */
  CHECK(b2.size == b.size && memcmp(b2.ptr, b.ptr, b.size) == 0);
  CHECK_OK(vc_erasure_list(&it, e.other, &ef));
  CHECK_RC(vc_erasure_next(&ee, it), VC_ITEROVER);
  vc_iter_free(it);
  /* The other tenant's number is still called: no hash crosses over. */
  CHECK(vc_dnc_contains(e.other, PHONE) == 1);  /* its own plain entry */
  CHECK_OK(vc_dnc_remove(e.other, PHONE));
  CHECK(vc_dnc_contains(e.other, PHONE) == 0);
  CHECK(vc_dnc_contains(e.t, PHONE) == 1);
  vc_buf_dispose(&a);
  vc_buf_dispose(&b);
  vc_buf_dispose(&b2);
  env_close(&e);
}

/* A contact with no refusals is erased without a master key. */
static void test_privacy__no_key(void)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_contact_spec cs = VC_CONTACT_SPEC_INIT;
  vc_consent_spec con;
  vc_store *store;
  vc_ctx *ctx;
  vc_tenant *t;
  char a[VC_ID_SIZE], b[VC_ID_SIZE], er[VC_ID_SIZE];

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("nokey.db"), NULL));
  o.store = store;
  o.clock_cb = test_clock;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&t, ctx, &ts));
  cs.email = "plain.qz@example.com";
  CHECK_OK(vc_contact_upsert(a, t, &cs));
  cs.email = "refusing.qz@example.com";
  CHECK_OK(vc_contact_upsert(b, t, &cs));
  vc_consent_spec_init(&con, VC_CONSENT_SPEC_VERSION);
  con.contact_id = b;
  con.kind = VC_CHANNEL_EMAIL;
  con.category = VC_CATEGORY_MARKETING;
  con.state = VC_CONSENT_OPTED_OUT;
  CHECK_OK(vc_consent_set(t, &con));
  CHECK_OK(vc_contact_erase(er, t, a, "no refusals"));
  /* Its opt-out could not be kept: refused, nothing changed. */
  CHECK_RC(vc_contact_erase(er, t, b, "refusals"), VC_EKEY);
  CHECK(er[0] == '\0');
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_privacy__retention(void)
{
  env e;
  vc_retention_spec r, got;
  vc_message_spec ms;
  char id[VC_ID_SIZE], old_id[VC_ID_SIZE], new_id[VC_ID_SIZE], q[256];
  int64_t purged = -1;

  env_open(&e, "retention.db", 1);
  /* Refusals and defaults. */
  CHECK_OK(vc_retention_spec_init(&got, VC_RETENTION_SPEC_VERSION));
  CHECK_OK(vc_retention_get(&got, e.t));
  CHECK(got.message_body_days == 0 && got.recording_days == 0 &&
        got.event_days == 0);
  CHECK_OK(vc_retention_spec_init(&r, VC_RETENTION_SPEC_VERSION));
  r.message_body_days = -1;
  CHECK_RC(vc_retention_set(e.t, &r), VC_EINVALID);
  r.message_body_days = VC_RETENTION_DAYS_MAX + 1;
  CHECK_RC(vc_retention_set(e.t, &r), VC_EINVALID);
  r.message_body_days = 7;
  r.version = 9;
  CHECK_RC(vc_retention_set(e.t, &r), VC_EVERSION);
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_retention") == 0);

  /* Day 0: an SMS, an inbound message and a call with a recording. */
  vc_message_spec_init(&ms, VC_MESSAGE_SPEC_VERSION);
  ms.channel = "sms";
  ms.to = "+14155550190";
  ms.text = "old-body-qz";
  CHECK_OK(vc_message_send(old_id, e.t, &ms));
  drain(&e);
  inbound(&e, e.in_channel, "+14155550190", "old-inbound-qz");
  {
    vc_call_spec call;
    vc_call *cl;
    vc_call_spec_init(&call, VC_CALL_SPEC_VERSION);
    call.agent_number = "+14155550111";
    call.customer_number = "+14155550190";
    CHECK_OK(vc_call_start(&cl, e.t, &call));
    drain(&e);
    vc_call_free(cl);
  }
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_recording WHERE url IS NOT"
                       " NULL") == 2 - 1);
  /* Day 8: newer ones, and a queued one that is not yet due. */
  g_now = T0 + 8 * DAY;
  ms.text = "new-body-qz";
  CHECK_OK(vc_message_send(new_id, e.t, &ms));
  drain(&e);
  inbound(&e, e.in_channel, "+14155550190", "new-inbound-qz");
  /* The other tenant's old message. */
  ms.text = "other-body-qz";
  g_now = T0;
  CHECK_OK(vc_message_send(id, e.other, &ms));
  drain(&e);
  g_now = T0 + 8 * DAY;

  /* Keep bodies and recordings 7 days, events 5. */
  r.version = VC_RETENTION_SPEC_VERSION;
  r.message_body_days = 7;
  r.recording_days = 7;
  r.event_days = 5;
  CHECK_OK(vc_retention_set(e.t, &r));
  CHECK_OK(vc_retention_get(&got, e.t));
  CHECK(got.message_body_days == 7 && got.recording_days == 7 &&
        got.event_days == 5);
  CHECK_OK(vc_retention_get(&got, e.other));
  CHECK(got.message_body_days == 0);
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_audit WHERE action ="
                       " 'retention.set'") == 1);
  /* The job runs on the engine. */
  drain(&e);
  snprintf(q, sizeof(q), "SELECT COUNT(*) FROM vc_message WHERE id = '%s'"
           " AND text_body IS NULL", old_id);
  CHECK(count_rows(&e, q) == 1);
  snprintf(q, sizeof(q), "SELECT COUNT(*) FROM vc_message WHERE id = '%s'"
           " AND text_body = 'new-body-qz'", new_id);
  CHECK(count_rows(&e, q) == 1);
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_message WHERE"
                       " text_body = 'other-body-qz'") == 1);
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_inbound_message WHERE"
                       " text_body = 'old-inbound-qz'") == 0);
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_inbound_message WHERE"
                       " text_body = 'new-inbound-qz'") == 1);
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_recording WHERE url IS NOT"
                       " NULL") == 0);
  snprintf(q, sizeof(q), "SELECT COUNT(*) FROM vc_event WHERE tenant_id ="
           " '%s' AND created_at < %lld", vc_tenant_id(e.t),
           (long long)(g_now - 5 * DAY));
  CHECK(count_rows(&e, q) == 0);
  snprintf(q, sizeof(q), "SELECT COUNT(*) FROM vc_event WHERE tenant_id ="
           " '%s' AND created_at < %lld", vc_tenant_id(e.other),
           (long long)(g_now - 5 * DAY));
  CHECK(count_rows(&e, q) > 0);             /* not the other tenant's */
  /* It comes back hourly: day 8 + 7 days later the new body goes too. */
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_job WHERE kind ="
                       " 'privacy.retention'") == 1);
  g_now = T0 + 15 * DAY + 1;
  drain(&e);
  snprintf(q, sizeof(q), "SELECT COUNT(*) FROM vc_message WHERE id = '%s'"
           " AND text_body IS NULL", new_id);
  CHECK(count_rows(&e, q) == 1);
  /* On demand, audited; nothing left to do. */
  CHECK_OK(vc_retention_purge(&purged, e.t));
  CHECK(purged == 0);
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_audit WHERE action ="
                       " 'retention.purge'") == 1);
  /* Off: the job stops coming back. */
  r.message_body_days = r.recording_days = r.event_days = 0;
  CHECK_OK(vc_retention_set(e.t, &r));
  g_now += 2 * 3600000LL;
  drain(&e);
  CHECK(count_rows(&e, "SELECT COUNT(*) FROM vc_job WHERE kind ="
                       " 'privacy.retention'") == 0);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_privacy__export_erase),
  VC_TEST(test_privacy__merged),
  VC_TEST(test_privacy__isolation),
  VC_TEST(test_privacy__no_key),
  VC_TEST(test_privacy__retention)
)
