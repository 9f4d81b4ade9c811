/*
 * Messages through the public API: the durable enqueue, idempotency,
 * scheduling, cancel, listing, isolation, and the dispatcher's outcomes
 * (sent, retry with backoff, failover, failed) over sandbox channels.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"
#include "tenant_env.h"

#include <sqlite3.h>
#include <stddef.h>

static const uint8_t KEY[32] = { 7, 7, 7 };

static void env_open(env *e)
{
  tenant_env_open(e, "m.db", KEY, 42, NULL);
}

static void env_close(env *e)
{
  tenant_env_close(e);
}

/* A sandbox channel answering with `outcome` ("accepted", ...). */
static void sandbox_channel(env *e, vc_tenant *t, const char *name,
                            const char *provider, int priority,
                            const char *outcome, char id[VC_ID_SIZE])
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  vc_channel *ch;
  char config[96];

  (void)e;
  snprintf(config, sizeof(config), "{\"outcome\":\"%s\"}", outcome);
  s.name = name;
  s.provider = provider;
  s.config_json = config;
  s.sender = strcmp(provider, "sandbox-email") == 0 ? "noreply@acme.test"
                                                    : "+15550001111";
  s.priority = priority;
  CHECK_OK(vc_channel_new(&ch, t, &s));
  if (id != NULL)
    snprintf(id, VC_ID_SIZE, "%s", vc_channel_id(ch));
  vc_channel_free(ch);
}

static void sms_spec(vc_message_spec *s, const char *text)
{
  vc_message_spec_init(s, VC_MESSAGE_SPEC_VERSION);
  s->kind = VC_CHANNEL_SMS;
  s->to = "+14155550123";
  s->text = text;
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

static int count_rows(const char *sql)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  int n = -1;

  CHECK(sqlite3_open(vc_test_path("m.db"), &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static void test_message__send_and_dispatch(void)
{
  env e;
  vc_message_spec s;
  vc_message *m;
  char id[VC_ID_SIZE];
  vc_iter *it;
  const vc_event *ev;
  int queued = 0, sending = 0, sent = 0;

  env_open(&e);
  sandbox_channel(&e, e.t, "sms", "sandbox-sms", 10, "accepted", NULL);
  sms_spec(&s, "Your order has shipped");
  CHECK_OK(vc_message_send(id, e.t, &s));
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_QUEUED);
  CHECK(vc_message_segments(m) == 1);
  CHECK_STR(vc_message_to(m), "+14155550123");
  vc_message_free(m);
  CHECK(vc_ctx_run(e.ctx, 0) >= 1);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_SENT);
  CHECK(strncmp(vc_message_provider_id(m), "sandbox-", 8) == 0);
  CHECK(vc_message_attempts(m) == 1);
  CHECK(vc_message_channel_id(m)[0] != '\0');
  vc_message_free(m);
  CHECK_OK(vc_events_since(&it, e.t, 0));
  while (vc_event_next(&ev, it) == 0) {
    if (strcmp(ev->subject_id, id) != 0)
      continue;
    queued += strcmp(ev->type, "message.queued") == 0;
    sending += strcmp(ev->type, "message.sending") == 0;
    sent += strcmp(ev->type, "message.sent") == 0;
  }
  vc_iter_free(it);
  CHECK(queued == 1 && sending == 1 && sent == 1);
  /* The job is gone once the message is sent. */
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 0);
  env_close(&e);
}

static void test_message__idempotency(void)
{
  env e;
  vc_message_spec s;
  char a[VC_ID_SIZE], b[VC_ID_SIZE];

  env_open(&e);
  sandbox_channel(&e, e.t, "sms", "sandbox-sms", 10, "accepted", NULL);
  sms_spec(&s, "hello");
  s.idempotency_key = "order-42";
  CHECK_OK(vc_message_send(a, e.t, &s));
  CHECK_OK(vc_message_send(b, e.t, &s));
  CHECK_STR(a, b);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message") == 1);
  s.text = "hello again";
  CHECK_RC(vc_message_send(b, e.t, &s), VC_ECONFLICT);
  CHECK(b[0] == '\0');
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message") == 1);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 1);
  env_close(&e);
}

static void test_message__send_at(void)
{
  env e;
  vc_message_spec s;
  char id[VC_ID_SIZE];

  env_open(&e);
  sandbox_channel(&e, e.t, "sms", "sandbox-sms", 10, "accepted", NULL);
  sms_spec(&s, "later");
  s.send_at = g_now + 60000;
  CHECK_OK(vc_message_send(id, e.t, &s));
  CHECK(vc_ctx_run(e.ctx, 0) == 0);
  CHECK(status_of(&e, id) == VC_MSG_QUEUED);
  g_now += 59999;
  vc_ctx_run(e.ctx, 0);
  CHECK(status_of(&e, id) == VC_MSG_QUEUED);
  g_now += 1;
  vc_ctx_run(e.ctx, 0);
  CHECK(status_of(&e, id) == VC_MSG_SENT);
  env_close(&e);
}

static void test_message__cancel(void)
{
  env e;
  vc_message_spec s;
  char id[VC_ID_SIZE], id2[VC_ID_SIZE];

  env_open(&e);
  sandbox_channel(&e, e.t, "sms", "sandbox-sms", 10, "accepted", NULL);
  sms_spec(&s, "cancel me");
  s.send_at = g_now + 1000;
  CHECK_OK(vc_message_send(id, e.t, &s));
  CHECK_OK(vc_message_cancel(e.t, id));
  CHECK(status_of(&e, id) == VC_MSG_CANCELED);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 0);
  g_now += 2000;
  vc_ctx_run(e.ctx, 0);
  CHECK(status_of(&e, id) == VC_MSG_CANCELED);
  CHECK_RC(vc_message_cancel(e.t, id), VC_ESTATE);
  s.send_at = 0;
  CHECK_OK(vc_message_send(id2, e.t, &s));
  vc_ctx_run(e.ctx, 0);
  CHECK_RC(vc_message_cancel(e.t, id2), VC_ESTATE);
  CHECK_RC(vc_message_cancel(e.t, "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
           VC_ENOTFOUND);
  env_close(&e);
}

static void test_message__bad_input(void)
{
  env e;
  vc_message_spec s;
  char id[VC_ID_SIZE], big[2000];
  vc_attachment att = { "a.txt", "text/plain", (const uint8_t *)"x", 1,
                        "https://x.test/a" };

  env_open(&e);
  sandbox_channel(&e, e.t, "sms", "sandbox-sms", 10, "accepted", NULL);
  sms_spec(&s, "hi");
  s.to = "4155550123";
  CHECK_RC(vc_message_send(id, e.t, &s), VC_EINVALID);
  sms_spec(&s, NULL);
  CHECK_RC(vc_message_send(id, e.t, &s), VC_EINVALID);
  sms_spec(&s, "hi");
  s.channel = "nope";
  CHECK_RC(vc_message_send(id, e.t, &s), VC_ENOTFOUND);
  sms_spec(&s, "hi");
  s.kind = 0;
  CHECK_RC(vc_message_send(id, e.t, &s), VC_EINVALID);
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  sms_spec(&s, big);
  CHECK_RC(vc_message_send(id, e.t, &s), VC_ETOOBIG);
  sms_spec(&s, "bad \xff utf8");
  CHECK_RC(vc_message_send(id, e.t, &s), VC_EENCODING);
  sms_spec(&s, "hi");
  s.attachments = &att;
  s.nattachments = 1;
  CHECK_RC(vc_message_send(id, e.t, &s), VC_EINVALID);
  sms_spec(&s, "hi");
  s.metadata_json = "[1,2]";
  CHECK_RC(vc_message_send(id, e.t, &s), VC_EINVALID);
  /* JSON read as cJSON would change it: a number past a double's range
   * (kept as infinity, printed back as null), nesting past 16 levels. */
  s.metadata_json = "{\"n\": 1e999}";
  CHECK_RC(vc_message_send(id, e.t, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "metadata") != NULL);
  s.metadata_json = "{\"a\":[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}";
  CHECK_RC(vc_message_send(id, e.t, &s), VC_ETOOBIG);
  sms_spec(&s, "hi");
  s.vars_json = "{\"amount\": -1e400}";
  CHECK_RC(vc_message_send(id, e.t, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "template variables") != NULL);
  sms_spec(&s, "hi");
  s.version = 99;
  CHECK_RC(vc_message_send(id, e.t, &s), VC_EVERSION);
  CHECK_RC(vc_message_send(id, NULL, &s), VC_EINVALID);
  /* Nothing was stored. */
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message") == 0);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 0);
  env_close(&e);
}

static void test_message__failover(void)
{
  env e;
  vc_message_spec s;
  vc_message *m;
  char id[VC_ID_SIZE], good[VC_ID_SIZE];

  env_open(&e);
  sandbox_channel(&e, e.t, "broken", "sandbox-sms", 1, "failover", NULL);
  sandbox_channel(&e, e.t, "backup", "sandbox-sms", 2, "accepted", good);
  sms_spec(&s, "fail over");
  CHECK_OK(vc_message_send(id, e.t, &s));
  vc_ctx_run(e.ctx, 0); /* the first channel refuses */
  vc_ctx_run(e.ctx, 0); /* the second takes it */
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_SENT);
  CHECK_STR(vc_message_channel_id(m), good);
  CHECK(vc_message_attempts(m) == 2);
  vc_message_free(m);
  env_close(&e);
}

static void test_message__retry_then_fail(void)
{
  env e;
  vc_message_spec s;
  vc_message *m;
  char id[VC_ID_SIZE];
  int rounds = 0;

  env_open(&e);
  sandbox_channel(&e, e.t, "flaky", "sandbox-sms", 1, "retry", NULL);
  sms_spec(&s, "retry");
  CHECK_OK(vc_message_send(id, e.t, &s));
  vc_ctx_run(e.ctx, 0);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_SENDING);
  CHECK(vc_message_attempts(m) == 1);
  vc_message_free(m);
  /* Not retried before its backoff has passed... */
  while (status_of(&e, id) == VC_MSG_SENDING && rounds++ < 100) {
    g_now += 11 * 60 * 1000; /* past the longest backoff */
    vc_ctx_run(e.ctx, 0);
  }
  /* ...and after a few attempts the only channel is given up. */
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_FAILED);
  CHECK(vc_message_attempts(m) == 5);
  CHECK(vc_message_error(m) != 0);
  vc_message_free(m);
  env_close(&e);
}

static void test_message__rejected(void)
{
  env e;
  vc_message_spec s;
  vc_message *m;
  char id[VC_ID_SIZE];

  env_open(&e);
  sandbox_channel(&e, e.t, "strict", "sandbox-sms", 1, "rejected", NULL);
  sandbox_channel(&e, e.t, "other", "sandbox-sms", 2, "accepted", NULL);
  sms_spec(&s, "rejected");
  CHECK_OK(vc_message_send(id, e.t, &s));
  vc_ctx_run(e.ctx, 0);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  /* A rejection is about the message: no failover. */
  CHECK(vc_message_status(m) == VC_MSG_FAILED);
  CHECK(vc_message_attempts(m) == 1);
  vc_message_free(m);
  env_close(&e);
}

static void test_message__pinned_channel(void)
{
  env e;
  vc_message_spec s;
  vc_message *m;
  char id[VC_ID_SIZE], pinned[VC_ID_SIZE];

  env_open(&e);
  sandbox_channel(&e, e.t, "first", "sandbox-sms", 1, "accepted", NULL);
  sandbox_channel(&e, e.t, "second", "sandbox-sms", 2, "accepted", pinned);
  sms_spec(&s, "pinned");
  s.kind = 0;
  s.channel = "second";
  CHECK_OK(vc_message_send(id, e.t, &s));
  vc_ctx_run(e.ctx, 0);
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_status(m) == VC_MSG_SENT);
  CHECK_STR(vc_message_channel_id(m), pinned);
  vc_message_free(m);
  env_close(&e);
}

static void test_message__email_and_list(void)
{
  env e;
  vc_message_spec s;
  vc_message_filter f = VC_MESSAGE_FILTER_INIT;
  vc_message *m;
  vc_iter *it;
  char ids[7][VC_ID_SIZE], cursor[64];
  int n = 0;

  env_open(&e);
  sandbox_channel(&e, e.t, "mail", "sandbox-email", 1, "accepted", NULL);
  for (int i = 0; i < 7; i++) {
    vc_message_spec_init(&s, VC_MESSAGE_SPEC_VERSION);
    s.kind = VC_CHANNEL_EMAIL;
    s.to = "Customer@Example.COM";
    s.subject = "Invoice";
    s.html = "<p>Your invoice</p>";
    CHECK_OK(vc_message_send(ids[i], e.t, &s));
    g_now += 10;
  }
  CHECK_OK(vc_message_lookup(&m, e.t, ids[0]));
  CHECK_STR(vc_message_to(m), "Customer@example.com");
  vc_message_free(m);
  /* Newest first, resumable from the cursor. */
  CHECK_OK(vc_message_list(&it, e.t, NULL));
  for (int i = 0; i < 3; i++) {
    CHECK_OK(vc_message_next(&m, it));
    CHECK_STR(vc_message_id(m), ids[6 - i]);
    vc_message_free(m);
  }
  snprintf(cursor, sizeof(cursor), "%s", vc_iter_cursor(it));
  vc_iter_free(it);
  f.after = cursor;
  CHECK_OK(vc_message_list(&it, e.t, &f));
  while (vc_message_next(&m, it) == 0) {
    CHECK_STR(vc_message_id(m), ids[3 - n]);
    n++;
    vc_message_free(m);
  }
  vc_iter_free(it);
  CHECK(n == 4);
  vc_ctx_run(e.ctx, 0);
  f.after = NULL;
  f.status = VC_MSG_QUEUED;
  CHECK_OK(vc_message_list(&it, e.t, &f));
  CHECK_RC(vc_message_next(&m, it), VC_ITEROVER);
  vc_iter_free(it);
  env_close(&e);
}

static void test_message__isolation(void)
{
  env e;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_tenant *b;
  vc_message_spec s;
  vc_message *m;
  vc_iter *it;
  char id[VC_ID_SIZE];

  env_open(&e);
  sandbox_channel(&e, e.t, "sms", "sandbox-sms", 1, "accepted", NULL);
  ts.slug = "other";
  CHECK_OK(vc_tenant_new(&b, e.ctx, &ts));
  sms_spec(&s, "private");
  CHECK_OK(vc_message_send(id, e.t, &s));
  CHECK_RC(vc_message_lookup(&m, b, id), VC_ENOTFOUND);
  CHECK_RC(vc_message_cancel(b, id), VC_ENOTFOUND);
  CHECK_OK(vc_message_list(&it, b, NULL));
  CHECK_RC(vc_message_next(&m, it), VC_ITEROVER);
  vc_iter_free(it);
  /* B has no channel of its own: A's channel is not B's. */
  s.kind = 0;
  s.channel = "sms";
  CHECK_RC(vc_message_send(id, b, &s), VC_ENOTFOUND);
  vc_tenant_free(b);
  env_close(&e);
}

static void test_message__template(void)
{
  env e;
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  vc_template *tpl;
  vc_message_spec s;
  vc_message *m;
  char id[VC_ID_SIZE];

  env_open(&e);
  sandbox_channel(&e, e.t, "sms", "sandbox-sms", 1, "accepted", NULL);
  ts.name = "otp";
  ts.kind = VC_CHANNEL_SMS;
  ts.text_body = "Code {{code}} for {{name}}";
  ts.variables_json = "[\"code\", \"name\"]";
  CHECK_OK(vc_template_new(&tpl, e.t, &ts));
  sms_spec(&s, NULL);
  s.template_name = "otp";
  s.vars_json = "{\"code\": \"4821\", \"name\": \"Asha\"}";
  CHECK_OK(vc_message_send(id, e.t, &s));
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_template_version(m) == vc_template_version(tpl));
  vc_message_free(m);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message"
                   " WHERE text_body = 'Code 4821 for Asha'") == 1);
  /* A missing variable is refused, and nothing is stored. */
  s.vars_json = "{\"code\": \"4821\"}";
  CHECK_RC(vc_message_send(id, e.t, &s), VC_EINVALID);
  s.template_name = "nope";
  CHECK_RC(vc_message_send(id, e.t, &s), VC_ENOTFOUND);
  /* A template with a raw body is ambiguous. */
  s.template_name = "otp";
  s.text = "raw";
  CHECK_RC(vc_message_send(id, e.t, &s), VC_EINVALID);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message") == 1);
  vc_template_free(tpl);
  env_close(&e);
}

/* A template's category reaches the messages sent from it; a spec's own
 * category wins; a version-1 template spec makes a transactional one. */
static void test_message__template_category(void)
{
  const size_t v1 = offsetof(vc_template_spec, category);
  vc_template_spec ts = VC_TEMPLATE_SPEC_INIT;
  unsigned char *old = malloc(v1);
  vc_template *tpl, *again;
  vc_message_spec s;
  vc_message *m;
  char id[VC_ID_SIZE];
  env e;

  CHECK(old != NULL);
  env_open(&e);
  sandbox_channel(&e, e.t, "mail", "sandbox-email", 1, "accepted", NULL);
  ts.name = "promo";
  ts.kind = VC_CHANNEL_EMAIL;
  ts.subject = "Sale";
  ts.text_body = "Everything half price";
  ts.category = 9;
  CHECK_RC(vc_template_new(&tpl, e.t, &ts), VC_EINVALID);
  ts.category = VC_CATEGORY_MARKETING;
  CHECK_OK(vc_template_new(&tpl, e.t, &ts));
  CHECK(vc_template_category(tpl) == VC_CATEGORY_MARKETING);
  vc_message_spec_init(&s, VC_MESSAGE_SPEC_VERSION);
  s.kind = VC_CHANNEL_EMAIL;
  s.to = "asha@example.com";
  s.template_name = "promo";
  CHECK_OK(vc_message_send(id, e.t, &s));
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_category(m) == VC_CATEGORY_MARKETING);
  vc_message_free(m);
  s.category = VC_CATEGORY_TRANSACTIONAL;
  CHECK_OK(vc_message_send(id, e.t, &s));
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_category(m) == VC_CATEGORY_TRANSACTIONAL);
  vc_message_free(m);
  /* A variant with category 0 keeps it; another value changes it. */
  ts.name = NULL;
  ts.category = 0;
  ts.text_body = "Everything half price, again";
  CHECK_OK(vc_template_add_variant(tpl, &ts));
  CHECK(vc_template_category(tpl) == VC_CATEGORY_MARKETING);
  ts.category = 7;
  CHECK_RC(vc_template_add_variant(tpl, &ts), VC_EINVALID);
  CHECK(vc_template_version(tpl) == 2);
  ts.category = VC_CATEGORY_TRANSACTIONAL;
  CHECK_OK(vc_template_add_variant(tpl, &ts));
  CHECK(vc_template_category(tpl) == VC_CATEGORY_TRANSACTIONAL);
  CHECK_OK(vc_template_lookup(&again, e.t, "promo"));
  CHECK(vc_template_category(again) == VC_CATEGORY_TRANSACTIONAL);
  vc_template_free(again);
  s.category = 0;
  CHECK_OK(vc_message_send(id, e.t, &s));
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_category(m) == VC_CATEGORY_TRANSACTIONAL);
  vc_message_free(m);
  vc_template_free(tpl);
  /* A caller built against the version-1 header: transactional. */
  vc_template_spec_init(&ts, VC_TEMPLATE_SPEC_VERSION);
  ts.name = "old";
  ts.kind = VC_CHANNEL_EMAIL;
  ts.text_body = "From an older caller";
  ts.version = 1;
  memcpy(old, &ts, v1);
  CHECK_OK(vc_template_new(&tpl, e.t, (vc_template_spec *)old));
  CHECK(vc_template_category(tpl) == VC_CATEGORY_TRANSACTIONAL);
  vc_template_free(tpl);
  CHECK(vc_template_category(NULL) == 0);
  env_close(&e);
  free(old);
}

/* A store with one connection (the host's): the dispatcher must never
 * need a second one while it holds the first. */
static void test_message__single_connection_store(void)
{
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_message_spec s;
  env e;
  sqlite3 *db;
  vc_store *store;
  char id[VC_ID_SIZE];

  CHECK(sqlite3_open_v2(vc_test_path("m.db"), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_FULLMUTEX, NULL) == SQLITE_OK);
  CHECK_OK(vc_store_wrap_sqlite(&store, db));
  o.store = store;
  CHECK_OK(vc_ctx_new(&e.ctx, &o));
  ts.slug = "solo";
  CHECK_OK(vc_tenant_new(&e.t, e.ctx, &ts));
  sandbox_channel(&e, e.t, "sms", "sandbox-sms", 1, "accepted", NULL);
  sms_spec(&s, "one connection");
  CHECK_OK(vc_message_send(id, e.t, &s));
  CHECK(vc_ctx_run(e.ctx, 0) >= 1);
  CHECK(status_of(&e, id) == VC_MSG_SENT);
  /* A batch inside the host's own transaction: its reads cannot open a
   * snapshot of their own, and its writes nest; both land with the
   * host's commit. */
  {
    vc_message_spec many[2];
    char ids[2][VC_ID_SIZE];
    int results[2];

    sms_spec(&many[0], "in the host's transaction");
    sms_spec(&many[1], "in the host's transaction too");
    CHECK(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(vc_message_send_many(e.t, many, 2, ids, results) == 2);
    CHECK(results[0] == 0 && results[1] == 0);
    CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(vc_ctx_run(e.ctx, 0) >= 1);
    CHECK(status_of(&e, ids[0]) == VC_MSG_SENT);
    CHECK(status_of(&e, ids[1]) == VC_MSG_SENT);
  }
  env_close(&e);
  CHECK(sqlite3_close(db) == SQLITE_OK);
}

/* Bulk enqueue: one commit, each message on its own terms. */
static void test_message__send_many(void)
{
  env e;
  vc_message_spec s[6];
  char ids[6][VC_ID_SIZE];
  int results[6];

  env_open(&e);
  sandbox_channel(&e, e.t, "sms", "sandbox-sms", 10, "accepted", NULL);
  sms_spec(&s[0], "one");
  sms_spec(&s[1], "bad address");
  s[1].to = "+1";
  sms_spec(&s[2], "keyed");
  s[2].idempotency_key = "k";
  sms_spec(&s[3], "keyed");          /* the same key and content */
  s[3].idempotency_key = "k";
  sms_spec(&s[4], "keyed, other");   /* the same key, other content */
  s[4].idempotency_key = "k";
  sms_spec(&s[5], "six");
  CHECK(vc_message_send_many(e.t, s, 6, ids, results) == 4);
  CHECK(results[0] == 0 && strlen(ids[0]) == 26);
  CHECK(results[1] == VC_EINVALID && ids[1][0] == '\0');
  CHECK(results[2] == 0 && results[3] == 0);
  CHECK_STR(ids[3], ids[2]);
  CHECK(results[4] == VC_ECONFLICT && ids[4][0] == '\0');
  CHECK(results[5] == 0 && strcmp(ids[5], ids[0]) != 0);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message") == 3);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_job") == 3);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_event WHERE type = "
                   "'message.queued'") == 3);
  /* Every stored message goes out. */
  CHECK(vc_ctx_run(e.ctx, 0) >= 1);
  CHECK(status_of(&e, ids[0]) == VC_MSG_SENT);
  CHECK(status_of(&e, ids[2]) == VC_MSG_SENT);
  CHECK(status_of(&e, ids[5]) == VC_MSG_SENT);
  /* A replay of the whole call stores nothing new. */
  CHECK(vc_message_send_many(e.t, s + 2, 2, ids, NULL) == 2);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message") == 3);
  /* Bounds. */
  CHECK(vc_message_send_many(e.t, s, 0, ids, results) == 0);
  CHECK_RC(vc_message_send_many(e.t, s, VC_MESSAGE_SEND_MANY_MAX + 1, ids,
                                results), VC_EINVALID);
  env_close(&e);
}

/* A caller built against the version-1 header: its structs are shorter,
 * so the library must neither read nor write past them. The buffers are
 * sized exactly so that ASan sees any access beyond. */
static void test_message__spec_version_1(void)
{
  const size_t v1 = offsetof(vc_message_spec, category);
  vc_message_spec full;
  unsigned char *one = malloc(v1), *two = malloc(2 * v1);
  char ids[2][VC_ID_SIZE], id[VC_ID_SIZE];
  unsigned int version;
  vc_message *m;
  env e;

  CHECK(one != NULL && two != NULL);
  env_open(&e);
  sandbox_channel(&e, e.t, "sms", "sandbox-sms", 10, "accepted", NULL);
  CHECK_OK(vc_message_spec_init((vc_message_spec *)one, 1));
  memcpy(&version, one, sizeof(version));  /* the first member */
  CHECK(version == 1);
  sms_spec(&full, "v1");
  full.version = 1;
  memcpy(one, &full, v1);
  CHECK_OK(vc_message_send(id, e.t, (vc_message_spec *)one));
  CHECK_OK(vc_message_lookup(&m, e.t, id));
  CHECK(vc_message_category(m) == VC_CATEGORY_TRANSACTIONAL);
  CHECK_STR(vc_message_contact_id(m), "");
  vc_message_free(m);
  /* An array of version-1 specs has their stride. */
  memcpy(two, &full, v1);
  full.text = "v1 second";
  memcpy(two + v1, &full, v1);
  CHECK(vc_message_send_many(e.t, (vc_message_spec *)two, 2, ids, NULL) == 2);
  CHECK(count_rows("SELECT COUNT(*) FROM vc_message WHERE text_body ="
                   " 'v1 second'") == 1);
  /* Mixed versions in one array are refused. */
  version = 2;
  memcpy(two + v1, &version, sizeof(version));
  CHECK_RC(vc_message_send_many(e.t, (vc_message_spec *)two, 2, ids, NULL),
           VC_EVERSION);
  env_close(&e);
  free(one);
  free(two);
}

VC_TESTS(
  VC_TEST(test_message__send_and_dispatch),
  VC_TEST(test_message__spec_version_1),
  VC_TEST(test_message__idempotency),
  VC_TEST(test_message__send_many),
  VC_TEST(test_message__send_at),
  VC_TEST(test_message__cancel),
  VC_TEST(test_message__bad_input),
  VC_TEST(test_message__failover),
  VC_TEST(test_message__retry_then_fail),
  VC_TEST(test_message__rejected),
  VC_TEST(test_message__pinned_channel),
  VC_TEST(test_message__email_and_list),
  VC_TEST(test_message__isolation),
  VC_TEST(test_message__template),
  VC_TEST(test_message__template_category),
  VC_TEST(test_message__single_connection_store),
)
