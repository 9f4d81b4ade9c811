/*
 * Channels through the public API only (and sqlite3 to look at the
 * file), with test adapters registered through vyomcomm/sys/adapter.h:
 * create, getters, defaults, webhook URLs, credentials that never come
 * back and are not in the file in clear, wrong and rejected providers,
 * bad input, update and its re-validation, disable and enable, listing
 * with a cursor and filters, isolation between tenants, events, key
 * rotation of channel credentials, and a context without a master key.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "vyomcomm/sys/adapter.h"
#include "vyomcomm/sys/errors.h"
#include "harness.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>

#define DB_NAME "channel.db"
#define TOKEN "tok-SECRET-7f3a9c1e55d04b2a"
#define TOKEN2 "tok-ROTATED-0b8e21d6aa4c93f7"

/* ---- test adapters ------------------------------------------------ */

/* "test-sms" wants {"account": ...} in its settings and {"token": ...}
 * in its credentials; "test-email" takes anything. Each init records the
 * credentials it saw, so that tests can tell what the library decrypted
 * without any public getter for them. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char seen_creds[512];
static char seen_config[512];
static int inits, finis;

static int record(const char *config, const char *creds)
{
  pthread_mutex_lock(&seen_lock);
  snprintf(seen_config, sizeof(seen_config), "%s", config);
  snprintf(seen_creds, sizeof(seen_creds), "%s", creds);
  inits++;
  pthread_mutex_unlock(&seen_lock);
  return 0;
}

static int sms_init(void **state, const char *config, const char *creds)
{
  record(config, creds);
  if (strstr(config, "\"account\"") == NULL)
    return vc_error_set_str(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                            "config needs \"account\"");
  if (strstr(creds, "\"token\"") == NULL)
    return vc_error_set_str(VC_ERRCLASS_ADAPTER, VC_EINVALID,
                            "credentials need \"token\"");
  *state = &inits;
  return 0;
}

static int any_init(void **state, const char *config, const char *creds)
{
  record(config, creds);
  *state = &finis;
  return 0;
}

/* Fails without setting any error detail. */
static int mute_init(void **state, const char *config, const char *creds)
{
  (void)state;
  record(config, creds);
  return VC_EAUTH;
}

static void t_fini(void *state)
{
  (void)state;
  pthread_mutex_lock(&seen_lock);
  finis++;
  pthread_mutex_unlock(&seen_lock);
}

static int t_build(void *state, const vc_outbound *msg, vc_http_out *req)
{
  (void)state; (void)msg; (void)req;
  return 0;
}

static int t_parse(void *state, const vc_outbound *msg,
                   const vc_http_response *res, vc_send_result *out)
{
  (void)state; (void)msg; (void)res;
  out->outcome = VC_SEND_ACCEPTED;
  return 0;
}

static void register_adapters(vc_ctx *ctx)
{
  vc_adapter a;

  memset(&a, 0, sizeof(a));
  a.version = VC_ADAPTER_VERSION;
  a.build_send = t_build;
  a.parse_send = t_parse;
  a.fini = t_fini;
  a.name = "test-sms";
  a.kind = VC_CHANNEL_SMS;
  a.init = sms_init;
  CHECK_OK(vc_adapter_register(ctx, &a));
  a.name = "test-sms2";
  CHECK_OK(vc_adapter_register(ctx, &a));
  a.name = "test-email";
  a.kind = VC_CHANNEL_EMAIL;
  a.init = any_init;
  CHECK_OK(vc_adapter_register(ctx, &a));
  a.name = "test-chat";
  a.kind = VC_CHANNEL_CHAT;
  CHECK_OK(vc_adapter_register(ctx, &a));
  a.name = "test-mute";
  a.kind = VC_CHANNEL_SMS;
  a.init = mute_init;
  CHECK_OK(vc_adapter_register(ctx, &a));
}

/* ---- log capture -------------------------------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_leaked, log_count;

static void log_cb(int level, const char *message, void *payload)
{
  (void)level;
  (void)payload;
  pthread_mutex_lock(&log_lock);
  log_count++;
  if (strstr(message, "SECRET") || strstr(message, "ROTATED"))
    log_leaked = 1;
  pthread_mutex_unlock(&log_lock);
}

/* ---- helpers ------------------------------------------------------ */

static uint8_t key1[32], key2[32];

static vc_master_key raw_key(const uint8_t *k, uint8_t seed)
{
  vc_master_key mk = VC_MASTER_KEY_INIT;

  for (int i = 0; i < 32; i++)
    ((uint8_t *)k)[i] = (uint8_t)(seed + 7 * i);
  mk.key = k;
  mk.key_len = 32;
  return mk;
}

static int try_open(vc_ctx **out, const vc_master_key *mk, const char *base)
{
  vc_store *store = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  int rc;

  *out = NULL;
  if ((rc = vc_store_open_sqlite(&store, vc_test_path(DB_NAME), NULL)) < 0)
    return rc;
  o.store = store;
  o.master_key = mk;
  o.public_base_url = base;
  o.log_cb = log_cb;
  o.log_level = VC_LOG_TRACE;
  if ((rc = vc_ctx_new(out, &o)) < 0)
    vc_store_free(store);
  return rc;
}

static vc_ctx *open_ctx_base(const char *base)
{
  vc_master_key mk = raw_key(key1, 0x11);
  vc_ctx *ctx = NULL;

  CHECK_OK(try_open(&ctx, &mk, base));
  register_adapters(ctx);
  return ctx;
}

static vc_ctx *open_ctx(void)
{
  return open_ctx_base(NULL);
}

static int error_is(int code)
{
  const vc_error *e = vc_error_last();

  if (e == NULL || e->code != code || e->message == NULL ||
      e->message[0] == '\0' || strchr(e->message, '\n') != NULL) {
    fprintf(stderr, "  error detail: code %d (wanted %d), message '%s'\n",
            e ? e->code : 0, code, e && e->message ? e->message : "(null)");
    return 0;
  }
  return 1;
}

/* A call fails with `code`; the detail agrees and leaks no secret. */
#define CHECK_FAIL(call, code)                                          \
  do {                                                                  \
    vc_error_clear();                                                   \
    CHECK_RC(call, code);                                               \
    CHECK(error_is(code));                                              \
    CHECK(strstr(vc_error_last()->message, "SECRET") == NULL);          \
  } while (0)

static vc_tenant *new_tenant(vc_ctx *ctx, const char *slug)
{
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;

  s.slug = slug;
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  return t;
}

static vc_channel_spec sms_spec(const char *name)
{
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;

  s.name = name;
  s.provider = "test-sms";
  s.config_json = "{\"account\":\"AC123\",\"region\":\"in\"}";
  s.credentials_json = "{\"token\":\"" TOKEN "\"}";
  s.sender = "+919800000001";
  return s;
}

static vc_channel *new_sms(vc_tenant *t, const char *name)
{
  vc_channel_spec s = sms_spec(name);
  vc_channel *c = NULL;

  CHECK_OK(vc_channel_new(&c, t, &s));
  CHECK(c != NULL);
  return c;
}

static sqlite3 *raw_open(void)
{
  sqlite3 *db = NULL;

  CHECK(sqlite3_open_v2(vc_test_path(DB_NAME), &db, SQLITE_OPEN_READWRITE,
                        NULL) == SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  return db;
}

static int64_t raw_count(const char *sql)
{
  sqlite3 *db = raw_open();
  sqlite3_stmt *st = NULL;
  int64_t n = -1;

  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static void raw_exec(const char *sql)
{
  sqlite3 *db = raw_open();

  CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
}

/* A blob column of one channel, hex-encoded, for comparisons. */
static void raw_hex(const char *column, const char *id, char *out,
                    size_t cap)
{
  sqlite3 *db = raw_open();
  sqlite3_stmt *st = NULL;
  char sql[128];

  out[0] = '\0';
  snprintf(sql, sizeof(sql), "SELECT hex(%s) FROM vc_channel WHERE id = ?1",
           column);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static int file_contains(const char *suffix, const char *needle)
{
  char path[600];
  FILE *f;
  long size;
  char *data;
  int hit;

  snprintf(path, sizeof(path), "%s%s", vc_test_path(DB_NAME), suffix);
  if ((f = fopen(path, "rb")) == NULL)
    return 0;
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  data = malloc(size > 0 ? (size_t)size : 1);
  if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size) {
    fclose(f);
    free(data);
    return 1;
  }
  fclose(f);
  hit = memmem(data, (size_t)size, needle, strlen(needle)) != NULL;
  free(data);
  return hit;
}

static int db_has(const char *needle)
{
  return file_contains("", needle) || file_contains("-wal", needle);
}

/* Ask the library to re-validate `c` (a config change), so that the test
 * adapter records the credentials the library decrypted. */
static int decrypted_creds(vc_channel *c, char *out, size_t cap)
{
  vc_channel_spec u = VC_CHANNEL_SPEC_INIT;
  int rc;

  u.config_json = vc_channel_config_json(c);
  rc = vc_channel_update(c, &u);
  pthread_mutex_lock(&seen_lock);
  snprintf(out, cap, "%s", seen_creds);
  pthread_mutex_unlock(&seen_lock);
  return rc;
}

/* ---- cases -------------------------------------------------------- */

static void test_channel__create_and_lookup(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_channel_spec s = sms_spec("twilio-main");
  vc_channel *c = NULL, *by_id = NULL, *by_name = NULL;
  char id[VC_ID_SIZE], path[64];
  int before = inits, fin = finis;

  s.priority = 5;
  s.rate_per_second = 12.5;
  s.kind = VC_CHANNEL_SMS;
  CHECK_OK(vc_channel_new(&c, t, &s));
  /* The adapter validated the settings once, and let go of its state. */
  CHECK(inits == before + 1 && finis == fin + 1);
  CHECK(strstr(seen_creds, TOKEN) != NULL);
  CHECK(strlen(vc_channel_id(c)) == VC_ID_SIZE - 1);
  snprintf(id, sizeof(id), "%s", vc_channel_id(c));
  CHECK_STR(vc_channel_tenant_id(c), vc_tenant_id(t));
  CHECK_STR(vc_channel_name(c), "twilio-main");
  CHECK(vc_channel_kind_of(c) == VC_CHANNEL_SMS);
  CHECK_STR(vc_channel_provider(c), "test-sms");
  CHECK_STR(vc_channel_sender(c), "+919800000001");
  CHECK(vc_channel_priority(c) == 5);
  CHECK(vc_channel_rate_per_second(c) == 12.5);
  CHECK(vc_channel_enabled(c) == 1);
  CHECK_STR(vc_channel_config_json(c),
            "{\"account\":\"AC123\",\"region\":\"in\"}");
  CHECK(vc_channel_created_at(c) > 0);
  CHECK(vc_channel_updated_at(c) == vc_channel_created_at(c));
  CHECK(vc_channel_disabled_at(c) == 0);
  snprintf(path, sizeof(path), "/webhooks/%s", id);
  CHECK_STR(vc_channel_webhook_path(c), path);
  CHECK_STR(vc_channel_kind_name(VC_CHANNEL_SMS), "sms");
  CHECK_STR(vc_channel_kind_name(VC_CHANNEL_EMAIL), "email");
  CHECK_STR(vc_channel_kind_name(VC_CHANNEL_CHAT), "chat");
  CHECK_STR(vc_channel_kind_name(VC_CHANNEL_VOICE), "voice");
  CHECK_STR(vc_channel_kind_name(0), "unknown");

  /* No public_base_url: no URL. */
  {
    vc_buf url = VC_BUF_INIT;
    CHECK_FAIL(vc_channel_webhook_url(&url, c), VC_ESTATE);
    CHECK(url.ptr == NULL);
  }

  CHECK_OK(vc_channel_lookup(&by_id, t, id));
  CHECK_OK(vc_channel_lookup(&by_name, t, "twilio-main"));
  CHECK_STR(vc_channel_id(by_id), id);
  CHECK_STR(vc_channel_id(by_name), id);
  CHECK_STR(vc_channel_config_json(by_name), vc_channel_config_json(c));
  CHECK(vc_channel_rate_per_second(by_name) == 12.5);
  CHECK(vc_channel_priority(by_id) == 5);
  CHECK_STR(vc_channel_webhook_path(by_id), path);
  {
    vc_channel *none = (vc_channel *)&none;
    CHECK_FAIL(vc_channel_lookup(&none, t, "nope"), VC_ENOTFOUND);
    CHECK(none == NULL);
    CHECK_FAIL(vc_channel_lookup(&none, t, "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
               VC_ENOTFOUND);
    CHECK_FAIL(vc_channel_lookup(&none, t, "Bad Name"), VC_EINVALID);
    CHECK_FAIL(vc_channel_lookup(&none, t, ""), VC_EINVALID);
    CHECK_FAIL(vc_channel_lookup(&none, t, NULL), VC_EINVALID);
    CHECK_FAIL(vc_channel_lookup(NULL, t, "x"), VC_EINVALID);
    CHECK_FAIL(vc_channel_lookup(&none, NULL, "x"), VC_EINVALID);
  }
  /* A handle is optional. */
  s.name = "no-handle";
  CHECK_OK(vc_channel_new(NULL, t, &s));
  CHECK(raw_count("SELECT COUNT(*) FROM vc_channel") == 2);

  vc_channel_free(by_id);
  vc_channel_free(by_name);
  vc_channel_free(c);
  vc_channel_free(NULL);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_channel__defaults_and_url(void)
{
  vc_ctx *ctx = open_ctx_base("https://erp.example.com/");
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT, init;
  vc_channel *c = NULL;
  vc_buf url = VC_BUF_INIT;
  char want[128];

  CHECK_OK(vc_channel_spec_init(&init, VC_CHANNEL_SPEC_VERSION));
  CHECK(init.priority == -1 && init.rate_per_second < 0 && init.kind == 0 &&
        init.name == NULL && init.credentials_json == NULL);
  CHECK_FAIL(vc_channel_spec_init(&init, 0), VC_EVERSION);
  CHECK_FAIL(vc_channel_spec_init(&init, 2), VC_EVERSION);
  CHECK_FAIL(vc_channel_spec_init(NULL, 1), VC_EINVALID);

  s.name = "mail";
  s.provider = "test-email";
  CHECK_OK(vc_channel_new(&c, t, &s));
  CHECK(vc_channel_kind_of(c) == VC_CHANNEL_EMAIL);
  CHECK(vc_channel_priority(c) == 100);
  CHECK(vc_channel_rate_per_second(c) == 0.0);
  CHECK_STR(vc_channel_sender(c), "");
  CHECK_STR(vc_channel_config_json(c), "{}");
  /* The adapter saw empty objects for what was not given. */
  CHECK_STR(seen_config, "{}");
  CHECK_STR(seen_creds, "{}");

  /* A trailing slash on the base does not double. */
  snprintf(want, sizeof(want), "https://erp.example.com/webhooks/%s",
           vc_channel_id(c));
  CHECK_OK(vc_channel_webhook_url(&url, c));
  CHECK_STR(url.ptr, want);
  /* The buffer is replaced, not appended to. */
  CHECK_OK(vc_channel_webhook_url(&url, c));
  CHECK_STR(url.ptr, want);
  vc_buf_dispose(&url);
  CHECK_FAIL(vc_channel_webhook_url(NULL, c), VC_EINVALID);
  CHECK_FAIL(vc_channel_webhook_url(&url, NULL), VC_EINVALID);

  /* Getters on NULL. */
  CHECK(vc_channel_id(NULL) == NULL);
  CHECK(vc_channel_kind_of(NULL) == 0);
  CHECK(vc_channel_enabled(NULL) == 0);
  CHECK(vc_channel_webhook_path(NULL) == NULL);

  vc_channel_free(c);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_channel__credentials_stay_secret(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_channel *c = new_sms(t, "quiet");
  char hex[256], creds[512];
  vc_iter *it = NULL;
  vc_channel *x = NULL;

  log_leaked = 0;
  /* Nothing readable returns them. */
  CHECK(strstr(vc_channel_config_json(c), "SECRET") == NULL);
  CHECK_OK(vc_channel_list(&it, t, NULL));
  CHECK_OK(vc_channel_next(&x, it));
  CHECK(strstr(vc_channel_config_json(x), "SECRET") == NULL);
  vc_channel_free(x);
  vc_iter_free(it);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event WHERE payload LIKE "
                  "'%SECRET%'") == 0);
  /* Sealed: bigger than the value by the header, nonce and tag. */
  CHECK(raw_count("SELECT length(credentials) FROM vc_channel") ==
        (int64_t)strlen("{\"token\":\"" TOKEN "\"}") + 33);
  CHECK(raw_count("SELECT length(webhook_secret) FROM vc_channel") ==
        32 + 33);
  CHECK(raw_count("SELECT key_version FROM vc_channel") == 1);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_channel WHERE CAST(credentials"
                  " AS TEXT) LIKE '%SECRET%'") == 0);
  CHECK(!db_has("SECRET"));

  /* The library itself can still read them (the adapter sees them). */
  CHECK_OK(decrypted_creds(c, creds, sizeof(creds)));
  CHECK_STR(creds, "{\"token\":\"" TOKEN "\"}");

  /* A ciphertext moved to another channel does not open there. */
  {
    vc_channel *d = new_sms(t, "victim");
    char sql[512];
    raw_hex("credentials", vc_channel_id(c), hex, sizeof(hex));
    snprintf(sql, sizeof(sql), "UPDATE vc_channel SET credentials = "
             "X'%s' WHERE id = '%s'", hex, vc_channel_id(d));
    raw_exec(sql);
    CHECK_FAIL(decrypted_creds(d, creds, sizeof(creds)), VC_ECRYPTO);
    /* Tampered in place: the same. */
    hex[40] = hex[40] == 'A' ? 'B' : 'A';
    snprintf(sql, sizeof(sql), "UPDATE vc_channel SET credentials = "
             "X'%s' WHERE id = '%s'", hex, vc_channel_id(c));
    raw_exec(sql);
    CHECK_FAIL(decrypted_creds(c, creds, sizeof(creds)), VC_ECRYPTO);
    /* New credentials need no old ones. */
    {
      vc_channel_spec u = VC_CHANNEL_SPEC_INIT;
      u.credentials_json = "{\"token\":\"" TOKEN2 "\"}";
      CHECK_OK(vc_channel_update(d, &u));
      CHECK_OK(decrypted_creds(d, creds, sizeof(creds)));
      CHECK_STR(creds, "{\"token\":\"" TOKEN2 "\"}");
    }
    vc_channel_free(d);
  }
  vc_channel_free(c);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  CHECK(!db_has("SECRET"));
  CHECK(!db_has("ROTATED"));
  CHECK(log_count > 0);
  CHECK(!log_leaked);
}

static void test_channel__wrong_provider(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_channel_spec s = sms_spec("x");
  vc_channel *c = (vc_channel *)&c;
  int fin;

  /* Unknown adapter. */
  s.provider = "no-such-adapter";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_ENOTFOUND);
  CHECK(c == NULL);
  CHECK(strstr(vc_error_last()->message, "no-such-adapter") != NULL);
  /* An adapter of another kind than the caller expects. */
  s.provider = "test-email";
  s.kind = VC_CHANNEL_SMS;
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "email") != NULL);
  s.provider = "test-sms";
  s.kind = VC_CHANNEL_CHAT;
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  s.kind = 9;
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  s.kind = 0;

  /* Settings the adapter rejects: its message, naming the provider. */
  fin = finis;
  s.config_json = "{\"region\":\"in\"}";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "test-sms") != NULL);
  CHECK(strstr(vc_error_last()->message, "account") != NULL);
  CHECK(finis == fin); /* nothing to release after a failed init */
  s.config_json = "{\"account\":\"AC1\"}";
  s.credentials_json = "{\"key\":\"" TOKEN "\"}";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  CHECK(strstr(vc_error_last()->message, "token") != NULL);
  /* An adapter that fails without a word still gets a message. */
  s = sms_spec("x");
  s.provider = "test-mute";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EAUTH);
  CHECK(strstr(vc_error_last()->message, "test-mute") != NULL);

  CHECK(raw_count("SELECT COUNT(*) FROM vc_channel") == 0);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event WHERE type LIKE "
                  "'channel.%'") == 0);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_channel__bad_input(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_channel_spec s = sms_spec("x");
  vc_channel *c = NULL;
  char *big, deep[200], name65[66];

  /* Names. */
  s.name = NULL;
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  s.name = "";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  s.name = "Upper";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  s.name = "-lead";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  s.name = "sp ace";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  memset(name65, 'a', 65);
  name65[65] = '\0';
  s.name = name65;
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_ETOOBIG);
  name65[64] = '\0';
  CHECK_OK(vc_channel_new(&c, t, &s));  /* 64 is fine */
  vc_channel_free(c);
  c = NULL;
  s = sms_spec("x");
  s.provider = NULL;
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  s.provider = "Test-SMS";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);

  /* JSON: not JSON, not an object, invalid UTF-8, too big, too deep. */
  s = sms_spec("x");
  s.config_json = "{\"account\":";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  s.config_json = "[\"account\"]";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  s.config_json = "{\"account\":\"AC1\"} trailing";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  s.config_json = "{\"account\":\"\xc3\x28\"}";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EENCODING);
  s.config_json = sms_spec("x").config_json;
  s.credentials_json = "\"" TOKEN "\"";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  s.credentials_json = "{\"token\": " TOKEN "}";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  big = malloc(VC_CHANNEL_JSON_MAX + 64);
  CHECK(big != NULL);
  memset(big, ' ', VC_CHANNEL_JSON_MAX + 63);
  memcpy(big, "{\"token\":\"x\"}", 13);
  big[VC_CHANNEL_JSON_MAX + 63] = '\0';
  s.credentials_json = big;
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_ETOOBIG);
  free(big);
  {
    size_t n = 0;
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"account\":");
    for (int i = 0; i < 40; i++)
      deep[n++] = '[';
    for (int i = 0; i < 40; i++)
      deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
  }
  s = sms_spec("x");
  s.config_json = deep;
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_ETOOBIG);

  /* Sender, rate, versions, arguments. */
  s = sms_spec("x");
  s.sender = "a\r\nBcc: victim@example.com";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  s.sender = "\xff";
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EENCODING);
  s = sms_spec("x");
  s.rate_per_second = 2e6;
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  s.rate_per_second = NAN;
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EINVALID);
  s.rate_per_second = -1;
  s.version = 0;
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EVERSION);
  s.version = 2;
  CHECK_FAIL(vc_channel_new(&c, t, &s), VC_EVERSION);
  s.version = 1;
  CHECK_FAIL(vc_channel_new(&c, NULL, &s), VC_EINVALID);
  CHECK_FAIL(vc_channel_new(&c, t, NULL), VC_EINVALID);

  /* Only the 64-byte name made it. */
  CHECK(raw_count("SELECT COUNT(*) FROM vc_channel") == 1);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_channel__duplicate_name(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *a = new_tenant(ctx, "a"), *b = new_tenant(ctx, "b");
  vc_channel_spec s = sms_spec("main");
  vc_channel *c1 = new_sms(a, "main"), *c2 = NULL;

  CHECK_FAIL(vc_channel_new(&c2, a, &s), VC_EEXISTS);
  CHECK(strstr(vc_error_last()->message, "main") != NULL);
  /* A disabled channel keeps its name. */
  CHECK_OK(vc_channel_disable(c1));
  CHECK_FAIL(vc_channel_new(&c2, a, &s), VC_EEXISTS);
  /* Another tenant has its own names. */
  CHECK_OK(vc_channel_new(&c2, b, &s));
  CHECK(strcmp(vc_channel_id(c1), vc_channel_id(c2)) != 0);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_channel") == 2);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event WHERE type = "
                  "'channel.created'") == 2);
  vc_channel_free(c1);
  vc_channel_free(c2);
  vc_tenant_free(a);
  vc_tenant_free(b);
  vc_ctx_free(ctx);
}

static void test_channel__update(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_channel *c = new_sms(t, "main"), *other = new_sms(t, "other");
  vc_channel *again = NULL;
  vc_channel_spec u = VC_CHANNEL_SPEC_INIT;
  const char *old_name, *old_config;
  char creds[512];
  int64_t created = vc_channel_created_at(c);

  old_name = vc_channel_name(c);
  old_config = vc_channel_config_json(c);

  /* Plain fields: no adapter involved. */
  inits = 0;
  u.name = "primary";
  u.priority = 1;
  u.rate_per_second = 3;
  u.sender = "";
  CHECK_OK(vc_channel_update(c, &u));
  CHECK(inits == 0);
  CHECK_STR(vc_channel_name(c), "primary");
  CHECK(vc_channel_priority(c) == 1);
  CHECK(vc_channel_rate_per_second(c) == 3.0);
  CHECK_STR(vc_channel_sender(c), "");
  CHECK(vc_channel_created_at(c) == created);
  /* Strings borrowed before the update are still readable. */
  CHECK_STR(old_name, "main");
  CHECK_STR(old_config, "{\"account\":\"AC123\",\"region\":\"in\"}");
  /* The store agrees; the old name is free, the new one is not. */
  CHECK_OK(vc_channel_lookup(&again, t, "primary"));
  CHECK(vc_channel_priority(again) == 1);
  vc_channel_free(again);
  CHECK_FAIL(vc_channel_lookup(&again, t, "main"), VC_ENOTFOUND);
  u = (vc_channel_spec)VC_CHANNEL_SPEC_INIT;
  u.name = "other";
  CHECK_FAIL(vc_channel_update(c, &u), VC_EEXISTS);
  CHECK_STR(vc_channel_name(c), "primary");

  /* Keep everything: nothing changes but updated_at. */
  u = (vc_channel_spec)VC_CHANNEL_SPEC_INIT;
  CHECK_OK(vc_channel_update(c, &u));
  CHECK(vc_channel_priority(c) == 1 && vc_channel_rate_per_second(c) == 3);

  /* New configuration: validated with the stored credentials. */
  u.config_json = "{\"account\":\"AC999\"}";
  CHECK_OK(vc_channel_update(c, &u));
  CHECK(inits == 1);
  CHECK_STR(seen_config, "{\"account\":\"AC999\"}");
  CHECK_STR(seen_creds, "{\"token\":\"" TOKEN "\"}");
  CHECK_STR(vc_channel_config_json(c), "{\"account\":\"AC999\"}");
  /* A configuration the adapter rejects changes nothing. */
  u.config_json = "{\"nope\":1}";
  u.name = "renamed-too";
  CHECK_FAIL(vc_channel_update(c, &u), VC_EINVALID);
  CHECK_STR(vc_channel_config_json(c), "{\"account\":\"AC999\"}");
  CHECK_STR(vc_channel_name(c), "primary");
  CHECK_OK(vc_channel_lookup(&again, t, vc_channel_id(c)));
  CHECK_STR(vc_channel_name(again), "primary");
  CHECK_STR(vc_channel_config_json(again), "{\"account\":\"AC999\"}");
  vc_channel_free(again);

  /* New credentials: validated, sealed anew. */
  u = (vc_channel_spec)VC_CHANNEL_SPEC_INIT;
  u.credentials_json = "{\"token\":\"" TOKEN2 "\"}";
  CHECK_OK(vc_channel_update(c, &u));
  CHECK_OK(decrypted_creds(c, creds, sizeof(creds)));
  CHECK_STR(creds, "{\"token\":\"" TOKEN2 "\"}");
  u.credentials_json = "{\"no-token\":1}";
  CHECK_FAIL(vc_channel_update(c, &u), VC_EINVALID);
  CHECK_OK(decrypted_creds(c, creds, sizeof(creds)));
  CHECK_STR(creds, "{\"token\":\"" TOKEN2 "\"}");

  /* Another provider of the same kind is fine; another kind is not. */
  u = (vc_channel_spec)VC_CHANNEL_SPEC_INIT;
  u.provider = "test-sms2";
  CHECK_OK(vc_channel_update(c, &u));
  CHECK_STR(vc_channel_provider(c), "test-sms2");
  u.provider = "test-email";
  CHECK_FAIL(vc_channel_update(c, &u), VC_EINVALID);
  u.provider = "missing";
  CHECK_FAIL(vc_channel_update(c, &u), VC_ENOTFOUND);
  u.provider = NULL;
  u.kind = VC_CHANNEL_EMAIL;
  CHECK_FAIL(vc_channel_update(c, &u), VC_EINVALID);
  u.kind = VC_CHANNEL_SMS;           /* the same kind is no change */
  CHECK_OK(vc_channel_update(c, &u));
  CHECK_STR(vc_channel_provider(c), "test-sms2");
  CHECK(vc_channel_kind_of(c) == VC_CHANNEL_SMS);

  /* Bad input. */
  u = (vc_channel_spec)VC_CHANNEL_SPEC_INIT;
  u.name = "";
  CHECK_FAIL(vc_channel_update(c, &u), VC_EINVALID);
  u.name = NULL;
  u.config_json = "not json";
  CHECK_FAIL(vc_channel_update(c, &u), VC_EINVALID);
  u.config_json = NULL;
  u.version = 7;
  CHECK_FAIL(vc_channel_update(c, &u), VC_EVERSION);
  CHECK_FAIL(vc_channel_update(NULL, &u), VC_EINVALID);
  CHECK_FAIL(vc_channel_update(c, NULL), VC_EINVALID);

  /* Events: created twice, then one per successful update. */
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event WHERE type = "
                  "'channel.updated'") == 8);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event WHERE type LIKE "
                  "'channel.%' AND payload LIKE '%SECRET%'") == 0);
  vc_channel_free(c);
  vc_channel_free(other);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_channel__disable_enable(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_channel *a = new_sms(t, "a"), *b = new_sms(t, "b"), *x = NULL;
  vc_channel_filter f = VC_CHANNEL_FILTER_INIT;
  vc_iter *it = NULL;
  int n;

  CHECK_OK(vc_channel_disable(a));
  CHECK(vc_channel_enabled(a) == 0);
  CHECK(vc_channel_disabled_at(a) > 0);
  CHECK_OK(vc_channel_disable(a));     /* twice: fine, no new event */
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event WHERE type = "
                  "'channel.disabled'") == 1);
  /* Still found by lookup, with its state. */
  CHECK_OK(vc_channel_lookup(&x, t, "a"));
  CHECK(vc_channel_enabled(x) == 0);
  vc_channel_free(x);
  /* Lists skip it unless asked. */
  CHECK_OK(vc_channel_list(&it, t, NULL));
  n = 0;
  while (vc_channel_next(&x, it) == 0) {
    CHECK_STR(vc_channel_name(x), "b");
    vc_channel_free(x);
    n++;
  }
  vc_iter_free(it);
  CHECK(n == 1);
  f.include_disabled = 1;
  CHECK_OK(vc_channel_list(&it, t, &f));
  n = 0;
  while (vc_channel_next(&x, it) == 0) {
    vc_channel_free(x);
    n++;
  }
  vc_iter_free(it);
  CHECK(n == 2);

  CHECK_OK(vc_channel_enable(a));
  CHECK(vc_channel_enabled(a) == 1);
  CHECK(vc_channel_disabled_at(a) == 0);
  CHECK_OK(vc_channel_enable(a));
  CHECK(raw_count("SELECT COUNT(*) FROM vc_event WHERE type = "
                  "'channel.enabled'") == 1);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_channel WHERE enabled = 1 AND "
                  "disabled_at IS NULL") == 2);
  CHECK_FAIL(vc_channel_disable(NULL), VC_EINVALID);
  CHECK_FAIL(vc_channel_enable(NULL), VC_EINVALID);
  vc_channel_free(a);
  vc_channel_free(b);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

#define NLIST 120

static void test_channel__list_paging(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  static char ids[NLIST][VC_ID_SIZE];
  vc_channel_filter f = VC_CHANNEL_FILTER_INIT;
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  char name[16], cursor[128];
  vc_channel *c = NULL;
  vc_iter *it = NULL;
  int n = 0, rc;

  for (int i = 0; i < NLIST; i++) {
    snprintf(name, sizeof(name), "c%03d", i);
    s.name = name;
    /* Every third one is email. */
    s.provider = i % 3 == 0 ? "test-email" : "test-chat";
    CHECK_OK(vc_channel_new(&c, t, &s));
    snprintf(ids[i], VC_ID_SIZE, "%s", vc_channel_id(c));
    vc_channel_free(c);
  }
  CHECK_OK(vc_channel_list(&it, t, NULL));
  CHECK_STR(vc_iter_cursor(it), "");
  while ((rc = vc_channel_next(&c, it)) == 0) {
    CHECK(n < NLIST);
    CHECK_STR(vc_channel_id(c), ids[n]);
    vc_channel_free(c);
    n++;
  }
  CHECK_RC(rc, VC_ITEROVER);
  CHECK(c == NULL);
  CHECK(n == NLIST);
  CHECK_RC(vc_channel_next(&c, it), VC_ITEROVER);
  vc_iter_free(it);

  /* Resume after 70. */
  CHECK_OK(vc_channel_list(&it, t, NULL));
  for (n = 0; n < 70; n++) {
    CHECK_OK(vc_channel_next(&c, it));
    vc_channel_free(c);
  }
  snprintf(cursor, sizeof(cursor), "%s", vc_iter_cursor(it));
  CHECK_STR(cursor, ids[69]);
  vc_iter_free(it);
  f.after = cursor;
  CHECK_OK(vc_channel_list(&it, t, &f));
  while (vc_channel_next(&c, it) == 0) {
    CHECK_STR(vc_channel_id(c), ids[n]);
    vc_channel_free(c);
    n++;
  }
  CHECK(n == NLIST);
  vc_iter_free(it);

  /* By kind. */
  f.after = NULL;
  f.kind = VC_CHANNEL_EMAIL;
  n = 0;
  CHECK_OK(vc_channel_list(&it, t, &f));
  while (vc_channel_next(&c, it) == 0) {
    CHECK(vc_channel_kind_of(c) == VC_CHANNEL_EMAIL);
    CHECK_STR(vc_channel_id(c), ids[3 * n]);
    vc_channel_free(c);
    n++;
  }
  vc_iter_free(it);
  CHECK(n == NLIST / 3);
  f.kind = VC_CHANNEL_VOICE;
  CHECK_OK(vc_channel_list(&it, t, &f));
  CHECK_RC(vc_channel_next(&c, it), VC_ITEROVER);
  vc_iter_free(it);

  /* Bad filters and iterators. */
  it = (vc_iter *)&it;
  f.kind = 77;
  CHECK_FAIL(vc_channel_list(&it, t, &f), VC_EINVALID);
  CHECK(it == NULL);
  f.kind = 0;
  f.after = "garbage";
  CHECK_FAIL(vc_channel_list(&it, t, &f), VC_EINVALID);
  f.after = NULL;
  f.version = 0;
  CHECK_FAIL(vc_channel_list(&it, t, &f), VC_EVERSION);
  CHECK_FAIL(vc_channel_list(NULL, t, NULL), VC_EINVALID);
  CHECK_FAIL(vc_channel_list(&it, NULL, NULL), VC_EINVALID);
  CHECK_FAIL(vc_channel_next(NULL, NULL), VC_EINVALID);
  CHECK_FAIL(vc_channel_next(&c, NULL), VC_EINVALID);
  CHECK_FAIL(vc_channel_filter_init(&f, 0), VC_EVERSION);
  CHECK_OK(vc_channel_filter_init(&f, VC_CHANNEL_FILTER_VERSION));
  CHECK(f.after == NULL && f.kind == 0 && f.include_disabled == 0);
  {
    vc_iter *ev = NULL;
    CHECK_OK(vc_events_since(&ev, t, 0));
    CHECK_FAIL(vc_channel_next(&c, ev), VC_EINVALID);
    vc_iter_free(ev);
  }
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_channel__isolation(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *a = new_tenant(ctx, "tenant-a");
  vc_tenant *b = new_tenant(ctx, "tenant-b");
  vc_channel *ca = new_sms(a, "shared-name"), *x = (vc_channel *)&x;
  vc_iter *it = NULL;
  char id[VC_ID_SIZE];

  snprintf(id, sizeof(id), "%s", vc_channel_id(ca));
  /* B sees nothing of A's: by id, by name, by listing. */
  CHECK_FAIL(vc_channel_lookup(&x, b, id), VC_ENOTFOUND);
  CHECK(x == NULL);
  CHECK_FAIL(vc_channel_lookup(&x, b, "shared-name"), VC_ENOTFOUND);
  CHECK_OK(vc_channel_list(&it, b, NULL));
  CHECK_RC(vc_channel_next(&x, it), VC_ITEROVER);
  vc_iter_free(it);
  {
    vc_channel_filter f = VC_CHANNEL_FILTER_INIT;
    f.include_disabled = 1;
    CHECK_OK(vc_channel_list(&it, b, &f));
    CHECK_RC(vc_channel_next(&x, it), VC_ITEROVER);
    vc_iter_free(it);
  }
  /* B's own channel of the same name is B's. */
  {
    vc_channel *cb = new_sms(b, "shared-name");
    CHECK_OK(vc_channel_lookup(&x, b, "shared-name"));
    CHECK_STR(vc_channel_id(x), vc_channel_id(cb));
    CHECK_STR(vc_channel_tenant_id(x), vc_tenant_id(b));
    vc_channel_free(x);
    CHECK_OK(vc_channel_lookup(&x, a, "shared-name"));
    CHECK_STR(vc_channel_id(x), id);
    vc_channel_free(x);
    /* A's id does not reach B's channel even through B's name. */
    CHECK_FAIL(vc_channel_lookup(&x, a, vc_channel_id(cb)), VC_ENOTFOUND);
    vc_channel_free(cb);
  }
  /* A deleted tenant has no channels, and gets no new ones. */
  CHECK_OK(vc_tenant_delete(a));
  CHECK_FAIL(vc_channel_lookup(&x, a, id), VC_ENOTFOUND);
  {
    vc_channel_spec s = sms_spec("late");
    CHECK_FAIL(vc_channel_new(&x, a, &s), VC_ENOTFOUND);
    CHECK_OK(vc_channel_list(&it, a, NULL));
    CHECK_RC(vc_channel_next(&x, it), VC_ITEROVER);
    vc_iter_free(it);
  }
  CHECK(raw_count("SELECT COUNT(*) FROM vc_channel") == 2);
  vc_channel_free(ca);
  vc_tenant_free(a);
  vc_tenant_free(b);
  vc_ctx_free(ctx);
}

static void test_channel__events(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_channel *c = new_sms(t, "evt");
  vc_channel_spec u = VC_CHANNEL_SPEC_INIT;
  const char *want[] = { "tenant.created", "channel.created",
                         "channel.updated", "channel.disabled",
                         "channel.enabled" };
  const vc_event *ev = NULL;
  vc_iter *it = NULL;
  int n = 0;

  u.priority = 7;
  CHECK_OK(vc_channel_update(c, &u));
  CHECK_OK(vc_channel_disable(c));
  CHECK_OK(vc_channel_enable(c));
  CHECK_OK(vc_events_since(&it, t, 0));
  while (vc_event_next(&ev, it) == 0) {
    CHECK(n < 5);
    CHECK_STR(ev->type, want[n]);
    if (n > 0) {
      CHECK_STR(ev->subject_id, vc_channel_id(c));
      CHECK(strstr(ev->payload_json, "\"name\":\"evt\"") != NULL);
      CHECK(strstr(ev->payload_json, "\"kind\":\"sms\"") != NULL);
      CHECK(strstr(ev->payload_json, "SECRET") == NULL);
    }
    n++;
  }
  vc_iter_free(it);
  CHECK(n == 5);
  vc_channel_free(c);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_channel__key_rotation(void)
{
  vc_master_key k1 = raw_key(key1, 0x11), k2 = raw_key(key2, 0x5a);
  vc_ctx *ctx = NULL, *other = NULL;
  vc_tenant *t;
  vc_channel *c[3];
  char before[3][256], after[256], hook_before[256], hook_after[256];
  char creds[512], name[16];

  CHECK_OK(try_open(&ctx, &k1, NULL));
  register_adapters(ctx);
  t = new_tenant(ctx, "rot");
  /* Credentials of channels, and a named secret, under key 1. */
  CHECK_OK(vc_secret_set(t, "plain", "value", 5));
  for (int i = 0; i < 3; i++) {
    snprintf(name, sizeof(name), "ch%d", i);
    c[i] = new_sms(t, name);
    raw_hex("credentials", vc_channel_id(c[i]), before[i], 256);
  }
  raw_hex("webhook_secret", vc_channel_id(c[0]), hook_before, 256);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_channel WHERE key_version = 1")
        == 3);

  CHECK_OK(vc_secret_rotate_key(ctx, &k2));
  CHECK(raw_count("SELECT COUNT(*) FROM vc_channel WHERE key_version = 2")
        == 3);
  for (int i = 0; i < 3; i++) {
    raw_hex("credentials", vc_channel_id(c[i]), after, sizeof(after));
    CHECK(strcmp(after, before[i]) != 0);  /* re-encrypted */
    CHECK_OK(decrypted_creds(c[i], creds, sizeof(creds)));
    CHECK_STR(creds, "{\"token\":\"" TOKEN "\"}");
  }
  raw_hex("webhook_secret", vc_channel_id(c[0]), hook_after, 256);
  CHECK(strcmp(hook_before, hook_after) != 0);
  CHECK(!db_has("SECRET"));
  /* A context still on the old key may not decrypt or seal. */
  CHECK_RC(try_open(&other, &k1, NULL), VC_EKEY);
  for (int i = 0; i < 3; i++)
    vc_channel_free(c[i]);
  vc_tenant_free(t);
  vc_ctx_free(ctx);

  /* Reopened with the new key: everything reads back. */
  CHECK_OK(try_open(&ctx, &k2, NULL));
  register_adapters(ctx);
  CHECK_OK(vc_tenant_lookup(&t, ctx, "rot"));
  CHECK_OK(vc_channel_lookup(&c[0], t, "ch2"));
  CHECK_OK(decrypted_creds(c[0], creds, sizeof(creds)));
  CHECK_STR(creds, "{\"token\":\"" TOKEN "\"}");
  {
    vc_buf v = VC_BUF_INIT;
    CHECK_OK(vc_secret_get(&v, t, "plain"));
    CHECK_STR(v.ptr, "value");
    vc_buf_dispose(&v);
  }
  /* A spoiled channel row stops a rotation, which changes nothing. */
  raw_hex("credentials", vc_channel_id(c[0]), before[0], 256);
  {
    char sql[512], spoiled[256];
    snprintf(spoiled, sizeof(spoiled), "%s", before[0]);
    spoiled[50] = spoiled[50] == '0' ? '1' : '0';
    snprintf(sql, sizeof(sql), "UPDATE vc_channel SET credentials = X'%s'"
             " WHERE id = '%s'", spoiled, vc_channel_id(c[0]));
    raw_exec(sql);
    CHECK_FAIL(vc_secret_rotate_key(ctx, &k1), VC_ECRYPTO);
    CHECK(strstr(vc_error_last()->message, "vc_channel.credentials")
          != NULL);
    CHECK(raw_count("SELECT COUNT(*) FROM vc_channel WHERE key_version = 2")
          == 3);
    snprintf(sql, sizeof(sql), "UPDATE vc_channel SET credentials = X'%s'"
             " WHERE id = '%s'", before[0], vc_channel_id(c[0]));
    raw_exec(sql);
  }
  CHECK_OK(vc_secret_rotate_key(ctx, &k1));
  CHECK_OK(decrypted_creds(c[0], creds, sizeof(creds)));
  CHECK_STR(creds, "{\"token\":\"" TOKEN "\"}");
  vc_channel_free(c[0]);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_channel__no_master_key(void)
{
  vc_ctx *ctx = NULL;
  vc_tenant *t;
  vc_channel *c = NULL;
  vc_channel_spec s = VC_CHANNEL_SPEC_INIT;
  char creds[512];

  CHECK_OK(try_open(&ctx, NULL, NULL));
  register_adapters(ctx);
  t = new_tenant(ctx, "nokey");
  /* No secret to keep: allowed, with no webhook secret either. */
  s.name = "mail";
  s.provider = "test-email";
  s.credentials_json = "{ }";
  CHECK_OK(vc_channel_new(&c, t, &s));
  CHECK(raw_count("SELECT COUNT(*) FROM vc_channel WHERE credentials IS "
                  "NULL AND webhook_secret IS NULL AND key_version = 0")
        == 1);
  CHECK_OK(decrypted_creds(c, creds, sizeof(creds)));
  CHECK_STR(creds, "{}");
  /* Credentials need a key, at creation and in an update. */
  s = sms_spec("sms");
  CHECK_FAIL(vc_channel_new(NULL, t, &s), VC_EKEY);
  {
    vc_channel_spec u = VC_CHANNEL_SPEC_INIT;
    u.credentials_json = "{\"token\":\"" TOKEN "\"}";
    CHECK_FAIL(vc_channel_update(c, &u), VC_EKEY);
  }
  CHECK(raw_count("SELECT COUNT(*) FROM vc_channel") == 1);
  vc_channel_free(c);
  vc_tenant_free(t);
  vc_ctx_free(ctx);

  /* The same store with a key: the channel gets its webhook secret at
   * its next update, and rotation skips rows with nothing sealed. */
  {
    vc_master_key k = raw_key(key1, 0x11);
    vc_master_key k2 = raw_key(key2, 0x5a);
    vc_channel_spec u = VC_CHANNEL_SPEC_INIT;
    CHECK_OK(try_open(&ctx, &k, NULL));
    register_adapters(ctx);
    CHECK_OK(vc_tenant_lookup(&t, ctx, "nokey"));
    CHECK_OK(vc_secret_rotate_key(ctx, &k2));
    CHECK_OK(vc_channel_lookup(&c, t, "mail"));
    u.priority = 3;
    CHECK_OK(vc_channel_update(c, &u));
    CHECK(raw_count("SELECT COUNT(*) FROM vc_channel WHERE credentials IS "
                    "NULL AND length(webhook_secret) = 65 AND "
                    "key_version = 2") == 1);
    CHECK_OK(decrypted_creds(c, creds, sizeof(creds)));
    CHECK_STR(creds, "{}");
    vc_channel_free(c);
    vc_tenant_free(t);
    vc_ctx_free(ctx);
  }
}

VC_TESTS(
  VC_TEST(test_channel__create_and_lookup),
  VC_TEST(test_channel__defaults_and_url),
  VC_TEST(test_channel__credentials_stay_secret),
  VC_TEST(test_channel__wrong_provider),
  VC_TEST(test_channel__bad_input),
  VC_TEST(test_channel__duplicate_name),
  VC_TEST(test_channel__update),
  VC_TEST(test_channel__disable_enable),
  VC_TEST(test_channel__list_paging),
  VC_TEST(test_channel__isolation),
  VC_TEST(test_channel__events),
  VC_TEST(test_channel__key_rotation),
  VC_TEST(test_channel__no_master_key),
)
