/*
 * Unsubscribe links end to end over loopback: marketing email through
 * SendGrid and Mailgun (the provider simulator) carries List-Unsubscribe
 * and List-Unsubscribe-Post, transactional email does not; tokens round
 * trip, altered or foreign ones are refused and record nothing; the
 * built-in listener applies a one-click POST and answers GET with a page
 * that changes nothing.
 *
 * After the opt-out, the next marketing email to that contact fails with
 * VC_ECONSENT while transactional mail still goes.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "sim.h"
#include "harness.h"
#include "net_util.h"

#include <curl/curl.h>
#include <sqlite3.h>

#define READER "reader@example.com"
#define GONE "01HZZZZZZZZZZZZZZZZZZZZZZZ" /* no such contact */

typedef struct env {
  vc_sim *sim;
  vc_ctx *ctx;
  vc_tenant *t;
  char base[64];
  char sendgrid[VC_ID_SIZE], mailgun[VC_ID_SIZE];
  char contact[VC_ID_SIZE];  /* holds READER */
} env;

static void add_channel(env *e, const char *name, const char *provider,
                        const char *config, const char *creds,
                        const char *sender, char id[VC_ID_SIZE])
{
  vc_channel_spec cs = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;

  cs.name = name;
  cs.provider = provider;
  cs.kind = VC_CHANNEL_EMAIL;
  cs.config_json = config;
  cs.credentials_json = creds;
  cs.sender = sender;
  CHECK_OK(vc_channel_new(&ch, e->t, &cs));
  snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void env_open(env *e, const uint8_t *key, const char *db)
{
  vc_store *store;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  char config[256], creds[256], addr[32];
  int port = free_port();

  memset(e, 0, sizeof(*e));
  CHECK_OK(vc_sim_start(&e->sim, NULL));
  snprintf(e->base, sizeof(e->base), "http://127.0.0.1:%d", port);
  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(db), NULL));
  o.store = store;
  mk.key = key;
  mk.key_len = 32;
  o.master_key = &mk;
  o.public_base_url = e->base;
  o.allow_private_network = 1;
  CHECK_OK(vc_ctx_new(&e->ctx, &o));
  snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  CHECK(vc_webhook_listen(e->ctx, addr) == port);
  ts.slug = "acme";
  CHECK_OK(vc_tenant_new(&e->t, e->ctx, &ts));
  snprintf(config, sizeof(config), "{\"base_url\":\"%s\"}",
           vc_sim_base_url(e->sim));
  snprintf(creds, sizeof(creds), "{\"api_key\":\"%s\"}",
           VC_SIM_SENDGRID_API_KEY);
  add_channel(e, "sg", "sendgrid", config, creds, "news@acme.test",
              e->sendgrid);
  snprintf(config, sizeof(config),
           "{\"domain\":\"%s\",\"base_url\":\"%s\"}",
           VC_SIM_MAILGUN_DOMAIN, vc_sim_base_url(e->sim));
  snprintf(creds, sizeof(creds),
           "{\"api_key\":\"%s\",\"webhook_signing_key\":\"%s\"}",
           VC_SIM_MAILGUN_API_KEY, VC_SIM_MAILGUN_SIGNING_KEY);
  add_channel(e, "mg", "mailgun", config, creds,
              "news@" VC_SIM_MAILGUN_DOMAIN, e->mailgun);
  {
    vc_contact_spec c = VC_CONTACT_SPEC_INIT;
    c.email = READER;
    CHECK_OK(vc_contact_upsert(e->contact, e->t, &c));
  }
}

static void env_close(env *e)
{
  vc_tenant_free(e->t);
  vc_ctx_free(e->ctx);
  vc_sim_stop(e->sim);
}

static const uint8_t KEY[32] = { 5, 4, 3 };
static const uint8_t OTHER_KEY[32] = { 9, 8, 7 };

static int count_rows(const char *sql)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  int n = -1;

  CHECK(sqlite3_open(vc_test_path("u.db"), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static int unsub_rows(void)
{
  return count_rows("SELECT COUNT(*) FROM vc_audit WHERE action ="
                    " 'consent.unsubscribe'");
}

/* An email to READER pinned to a channel. */
static int send_email(env *e, char id[VC_ID_SIZE], const char *channel,
                      int category)
{
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;

  s.channel = channel;
  s.to = READER;
  s.subject = "News";
  s.text = "Our news.";
  s.category = category;
  return vc_message_send(id, e->t, &s);
}

static int status_of(env *e, const char *id)
{
  vc_message *m;
  int st;

  CHECK_OK(vc_message_lookup(&m, e->t, id));
  st = vc_message_status(m);
  vc_message_free(m);
  return st;
}

/* ---- the headers --------------------------------------------------------- */

static void test_unsubscribe__marketing_email_headers(void)
{
  env e;
  char ids[3][VC_ID_SIZE], want[512], enc[1024];
  vc_buf url = VC_BUF_INIT;
  vc_sim_request r;
  int sg = 0, mg = 0, plain = 0;
  int64_t deadline;
  CURL *c;

  env_open(&e, KEY, "u.db");
  CHECK_OK(send_email(&e, ids[0], e.sendgrid, VC_CATEGORY_MARKETING));
  CHECK_OK(send_email(&e, ids[1], e.mailgun, VC_CATEGORY_MARKETING));
  CHECK_OK(send_email(&e, ids[2], e.sendgrid, VC_CATEGORY_TRANSACTIONAL));
  {
    vc_message *m;
    CHECK_OK(vc_message_lookup(&m, e.t, ids[0]));
    CHECK(strcmp(vc_message_contact_id(m), e.contact) == 0);
    vc_message_free(m);
  }
  CHECK_OK(vc_ctx_start(e.ctx, 1));
  deadline = wall_ms() + 20000;
  while (wall_ms() < deadline &&
         (status_of(&e, ids[0]) != VC_MSG_SENT ||
          status_of(&e, ids[1]) != VC_MSG_SENT ||
          status_of(&e, ids[2]) != VC_MSG_SENT)) {
    vc_ctx_wakeup(e.ctx);
    usleep(20000);
  }
  CHECK_OK(vc_ctx_stop(e.ctx));
  for (int i = 0; i < 3; i++)
    CHECK(status_of(&e, ids[i]) == VC_MSG_SENT);
  CHECK_OK(vc_unsubscribe_url(&url, e.t, e.contact, VC_CHANNEL_EMAIL,
                              VC_CATEGORY_MARKETING));
  CHECK(strncmp(url.ptr, e.base, strlen(e.base)) == 0);
  CHECK(strlen(url.ptr) == strlen(e.base) + strlen("/unsubscribe/") +
                           VC_UNSUBSCRIBE_TOKEN_LEN);
  c = curl_easy_init();
  for (size_t i = 0; i < vc_sim_received_count(e.sim); i++) {
    CHECK_OK(vc_sim_received_get(e.sim, i, &r));
    if (strcmp(r.provider, "sendgrid") == 0 && r.status == 202) {
      if (strstr(r.body, ids[2]) != NULL) {
        CHECK(strstr(r.body, "List-Unsubscribe") == NULL);
        plain++;
        continue;
      }
      snprintf(want, sizeof(want),
               "\"headers\":{\"List-Unsubscribe\":\"<%s>\","
               "\"List-Unsubscribe-Post\":\"List-Unsubscribe=One-Click\"}",
               url.ptr);
      CHECK(strstr(r.body, want) != NULL);
      sg++;
    } else if (strcmp(r.provider, "mailgun") == 0 && r.status == 200) {
      char *u = curl_easy_escape(c, url.ptr, 0);
      snprintf(enc, sizeof(enc), "h%%3AList-Unsubscribe=%%3C%s%%3E", u);
      curl_free(u);
      CHECK(strstr(r.body, enc) != NULL);
      CHECK(strstr(r.body, "h%3AList-Unsubscribe-Post="
                           "List-Unsubscribe%3DOne-Click") != NULL);
      mg++;
    }
  }
  curl_easy_cleanup(c);
  CHECK(sg == 1 && mg == 1 && plain == 1);
  /* The token names no address. */
  CHECK(strstr(url.ptr, "reader") == NULL);
  vc_buf_dispose(&url);
  env_close(&e);
}

/* ---- tokens ------------------------------------------------------------ */

static const char *token_of(const vc_buf *url)
{
  return url->ptr + url->size - VC_UNSUBSCRIBE_TOKEN_LEN;
}

/* The contact's marketing email consent: a vc_consent state. */
static int email_marketing(env *e)
{
  vc_consent_info i = VC_CONSENT_INFO_INIT;

  CHECK_OK(vc_consent_get(&i, e->t, e->contact, VC_CHANNEL_EMAIL,
                          VC_CATEGORY_MARKETING));
  return i.state;
}

static int count_log(env *e)
{
  vc_consent_log_filter f = VC_CONSENT_LOG_FILTER_INIT;
  const vc_consent_entry *en;
  vc_iter *it;
  int n = 0;

  f.contact_id = e->contact;
  CHECK_OK(vc_consent_log_list(&it, e->t, &f));
  while (vc_consent_log_next(&en, it) == 0) {
    CHECK(strcmp(en->source, "unsubscribe") == 0);
    CHECK(en->kind == VC_CHANNEL_EMAIL);
    CHECK(en->category == VC_CATEGORY_MARKETING);
    CHECK(en->state == VC_CONSENT_OPTED_OUT);
    n++;
  }
  vc_iter_free(it);
  return n;
}

static void test_unsubscribe__token_round_trip(void)
{
  env e, other;
  vc_buf url = VC_BUF_INIT, url2 = VC_BUF_INIT;
  char bad[VC_UNSUBSCRIBE_TOKEN_LEN + 2], id[VC_ID_SIZE];
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_tenant *gone;

  env_open(&e, KEY, "u.db");
  CHECK_OK(vc_audit_actor_set("crm-user"));
  CHECK_OK(vc_unsubscribe_url(&url, e.t, e.contact, VC_CHANNEL_EMAIL,
                              VC_CATEGORY_MARKETING));
  /* Deterministic: every mail to the contact carries the same link. */
  CHECK_OK(vc_unsubscribe_url(&url2, e.t, e.contact, VC_CHANNEL_EMAIL,
                              VC_CATEGORY_MARKETING));
  CHECK(strcmp(url.ptr, url2.ptr) == 0);
  /* Altered anywhere: refused, nothing recorded. */
  for (size_t i = 0; i < VC_UNSUBSCRIBE_TOKEN_LEN; i += 7) {
    memcpy(bad, token_of(&url), VC_UNSUBSCRIBE_TOKEN_LEN + 1);
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    CHECK_RC(vc_unsubscribe_apply(e.ctx, bad), VC_EAUTH);
  }
  memcpy(bad, token_of(&url), VC_UNSUBSCRIBE_TOKEN_LEN + 1);
  bad[VC_UNSUBSCRIBE_TOKEN_LEN - 1] = '\0';
  CHECK_RC(vc_unsubscribe_apply(e.ctx, bad), VC_EAUTH);
  bad[VC_UNSUBSCRIBE_TOKEN_LEN - 1] = '!';
  CHECK_RC(vc_unsubscribe_apply(e.ctx, bad), VC_EAUTH);
  CHECK_RC(vc_unsubscribe_apply(e.ctx, NULL), VC_EAUTH);
  CHECK_RC(vc_unsubscribe_apply(e.ctx, ""), VC_EAUTH);
  /* Another category is another token. */
  CHECK_OK(vc_unsubscribe_url(&url2, e.t, e.contact, VC_CHANNEL_EMAIL,
                              VC_CATEGORY_TRANSACTIONAL));
  CHECK(strcmp(url.ptr, url2.ptr) != 0);
  CHECK(unsub_rows() == 0);
  CHECK(email_marketing(&e) == VC_CONSENT_UNKNOWN);
  CHECK(count_log(&e) == 0);
  CHECK_OK(send_email(&e, id, e.sendgrid, VC_CATEGORY_MARKETING));
  /* The real one: opted out, logged, audited with the thread's actor. */
  CHECK_OK(vc_unsubscribe_apply(e.ctx, token_of(&url)));
  CHECK(email_marketing(&e) == VC_CONSENT_OPTED_OUT);
  CHECK(count_log(&e) == 1);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_audit WHERE action ="
                   " 'consent.unsubscribe' AND actor = 'crm-user'") == 1);
  /* The next marketing email is refused; transactional mail goes. */
  CHECK_RC(send_email(&e, id, e.sendgrid, VC_CATEGORY_MARKETING),
           VC_ECONSENT);
  CHECK_OK(send_email(&e, id, e.sendgrid, VC_CATEGORY_TRANSACTIONAL));
  /* Again: still opted out, no error. */
  CHECK_OK(vc_unsubscribe_apply(e.ctx, token_of(&url)));
  CHECK(email_marketing(&e) == VC_CONSENT_OPTED_OUT);
  /* A contact that is gone: nothing to record, not an error. */
  CHECK_OK(vc_unsubscribe_url(&url2, e.t, GONE, VC_CHANNEL_EMAIL,
                              VC_CATEGORY_MARKETING));
  CHECK_OK(vc_unsubscribe_apply(e.ctx, token_of(&url2)));
  CHECK(count_rows("SELECT COUNT(*) FROM vc_audit WHERE entity_id = '"
                   GONE "'") == 0);
  /* A tenant that is gone. */
  ts.slug = "gone";
  CHECK_OK(vc_tenant_new(&gone, e.ctx, &ts));
  CHECK_OK(vc_unsubscribe_url(&url2, gone, e.contact, VC_CHANNEL_EMAIL,
                              VC_CATEGORY_MARKETING));
  CHECK_OK(vc_tenant_delete(gone));
  CHECK_RC(vc_unsubscribe_apply(e.ctx, token_of(&url2)), VC_EAUTH);
  vc_tenant_free(gone);
  /* Bad arguments. */
  CHECK_RC(vc_unsubscribe_url(&url2, e.t, "nope", VC_CHANNEL_EMAIL,
                              VC_CATEGORY_MARKETING), VC_EINVALID);
  CHECK_RC(vc_unsubscribe_url(&url2, e.t, e.contact, 77,
                              VC_CATEGORY_MARKETING), VC_EINVALID);
  CHECK_RC(vc_unsubscribe_url(&url2, e.t, e.contact, VC_CHANNEL_EMAIL, 0),
           VC_EINVALID);
  vc_audit_actor_set(NULL);
  env_close(&e);

  /* Made by another store's key: refused there. */
  env_open(&other, OTHER_KEY, "other.db");
  CHECK_RC(vc_unsubscribe_apply(other.ctx, token_of(&url)), VC_EAUTH);
  env_close(&other);
  vc_buf_dispose(&url);
  vc_buf_dispose(&url2);
}

/* ---- the listener ------------------------------------------------------- */

static size_t keep(char *p, size_t size, size_t n, void *arg)
{
  vc_buf *b = arg;
  size_t len = size * n;
  char *q = realloc(b->ptr, b->size + len + 1);

  if (q == NULL)
    return 0;
  memcpy(q + b->size, p, len);
  b->size += len;
  q[b->size] = '\0';
  b->ptr = q;
  return len;
}

/* GET (body NULL) or POST `body` to url; the status, the body in out. */
static long http(const char *url, const char *body, char *out, size_t size)
{
  vc_buf got = { NULL, 0, 0 };
  long status = 0;
  CURL *c = curl_easy_init();

  curl_easy_setopt(c, CURLOPT_URL, url);
  if (body != NULL)
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
  CHECK(curl_easy_perform(c) == CURLE_OK);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  snprintf(out, size, "%s", got.ptr ? got.ptr : "");
  free(got.ptr);
  return status;
}

static void test_unsubscribe__listener(void)
{
  env e;
  vc_buf url = VC_BUF_INIT;
  char body[2048], bad[512];
  vc_http_request req = VC_HTTP_REQUEST_INIT;
  vc_http_response res;
  long st;

  env_open(&e, KEY, "u.db");
  CHECK_OK(vc_unsubscribe_url(&url, e.t, e.contact, VC_CHANNEL_EMAIL,
                              VC_CATEGORY_MARKETING));
  /* GET: a page, nothing recorded (mail scanners follow links). */
  CHECK(http(url.ptr, NULL, body, sizeof(body)) == 200);
  CHECK(strstr(body, "<form method=\"post\">") != NULL);
  CHECK(unsub_rows() == 0);
  CHECK(email_marketing(&e) == VC_CONSENT_UNKNOWN);
  /* Altered: 404, nothing recorded. */
  snprintf(bad, sizeof(bad), "%s", url.ptr);
  bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'x' ? 'y' : 'x';
  CHECK(http(bad, "List-Unsubscribe=One-Click", body, sizeof(body)) == 404);
  /* A POST without the one-click body. */
  CHECK(http(url.ptr, "x=1", body, sizeof(body)) == 400);
  CHECK(unsub_rows() == 0);
  /* One click. */
  CHECK(email_marketing(&e) == VC_CONSENT_UNKNOWN);
  st = http(url.ptr, "List-Unsubscribe=One-Click", body, sizeof(body));
  CHECK(st == 200);
  CHECK(strstr(body, "unsubscribed") != NULL);
  CHECK(email_marketing(&e) == VC_CONSENT_OPTED_OUT);
  CHECK(count_log(&e) == 1);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_audit WHERE action ="
                   " 'consent.unsubscribe' AND actor = 'system' AND"
                   " entity_id = (SELECT id FROM vc_contact)") == 1);
  {
    char id[VC_ID_SIZE];
    CHECK_RC(send_email(&e, id, e.mailgun, VC_CATEGORY_MARKETING),
             VC_ECONSENT);
  }
  /* The host's own server routes it through vc_webhook_handle. */
  req.method = "GET";
  req.target = url.ptr + strlen(e.base);
  CHECK_OK(vc_webhook_handle(&res, e.ctx, &req));
  CHECK(res.status == 200 && res.body.ptr != NULL &&
        strstr(res.body.ptr, "Unsubscribe") != NULL);
  vc_http_response_dispose(&res);
  req.method = "DELETE";
  CHECK_RC(vc_webhook_handle(&res, e.ctx, &req), VC_EINVALID);
  CHECK(res.status == 405);
  vc_http_response_dispose(&res);
  req.method = "GET";
  req.target = "/unsubscribe/short";
  CHECK_RC(vc_webhook_handle(&res, e.ctx, &req), VC_EAUTH);
  CHECK(res.status == 404);
  vc_http_response_dispose(&res);
  vc_buf_dispose(&url);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_unsubscribe__marketing_email_headers),
  VC_TEST(test_unsubscribe__token_round_trip),
  VC_TEST(test_unsubscribe__listener),
)
