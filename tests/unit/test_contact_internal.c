/*
 * What the rest of the library asks of contacts (src/msg/contact.h): the
 * contact of a recipient per channel kind, creating one for an unknown
 * sender, resolving merged ids, the preferences quiet hours read, a
 * contact's address of a kind, and the import's row hook.
 */
#include "core/common.h"
#include "core/ctx.h"
#include "core/tenant.h"
#include "store/db.h"
#include "msg/contact.h"
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
  static const uint8_t key[32] = { 4, 4, 4 };
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  vc_tenant_spec ts = VC_TENANT_SPEC_INIT;
  vc_store *store;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path("c.db"), NULL));
  mk.key = key;
  mk.key_len = 32;
  o.store = store;
  o.master_key = &mk;
  o.clock_cb = env_clock;
  o.random_seed = 3;
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

static vc__db *env_db(env *e)
{
  vc__db *db;

  CHECK_OK(vc__db_acquire(&db, e->ctx->store));
  return db;
}

static void test_contact_internal__recipient_and_ensure(void)
{
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;
  char p[VC_ID_SIZE], w[VC_ID_SIZE], tg[VC_ID_SIZE], id[VC_ID_SIZE];
  char addr[64];
  vc__db *db;
  env e;

  env_open(&e);
  s.phone = "+14155550123";
  s.email = "a@example.com";
  CHECK_OK(vc_contact_upsert(p, e.t, &s));
  vc_contact_spec_init(&s, VC_CONTACT_SPEC_VERSION);
  s.whatsapp = "+919876543210";
  CHECK_OK(vc_contact_upsert(w, e.t, &s));
  vc_contact_spec_init(&s, VC_CONTACT_SPEC_VERSION);
  s.telegram = "-1001234567890";
  CHECK_OK(vc_contact_upsert(tg, e.t, &s));
  db = env_db(&e);
  CHECK(vc__contact_for_recipient(id, db, e.tid, VC_CHANNEL_SMS,
                                  "+14155550123") == 1);
  CHECK_STR(id, p);
  CHECK(vc__contact_for_recipient(id, db, e.tid, VC_CHANNEL_VOICE,
                                  "+14155550123") == 1);
  CHECK(vc__contact_for_recipient(id, db, e.tid, VC_CHANNEL_EMAIL,
                                  "a@example.com") == 1);
  CHECK_STR(id, p);
  /* Chat: a WhatsApp number, a Telegram chat id, or the phone. */
  CHECK(vc__contact_for_recipient(id, db, e.tid, VC_CHANNEL_CHAT,
                                  "919876543210") == 1);
  CHECK_STR(id, w);
  CHECK(vc__contact_for_recipient(id, db, e.tid, VC_CHANNEL_CHAT,
                                  "-1001234567890") == 1);
  CHECK_STR(id, tg);
  CHECK(vc__contact_for_recipient(id, db, e.tid, VC_CHANNEL_CHAT,
                                  "14155550123") == 1);
  CHECK_STR(id, p);
  CHECK(vc__contact_for_recipient(id, db, e.tid, VC_CHANNEL_SMS,
                                  "+14155550999") == 0);
  CHECK_STR(id, "");
  /* The email of the phone's contact is not a phone. */
  CHECK(vc__contact_for_recipient(id, db, e.tid, VC_CHANNEL_SMS,
                                  "a@example.com") == 0);
  /* An unknown sender gets a contact, once. */
  CHECK(vc__contact_ensure(id, db, e.ctx, e.tid, VC_ADDRESS_PHONE,
                           "+14155550999") == 1);
  CHECK(vc__contact_ensure(addr, db, e.ctx, e.tid, VC_ADDRESS_PHONE,
                           "+14155550999") == 0);
  CHECK_STR(addr, id);
  CHECK(vc__contact_ensure(addr, db, e.ctx, e.tid, VC_ADDRESS_PHONE,
                           "+14155550123") == 0);
  CHECK_STR(addr, p);
  CHECK_RC(vc__contact_ensure(addr, db, e.ctx, e.tid, VC_ADDRESS_PHONE,
                              "not a number"), VC_EINVALID);
  /* Addresses of a kind. */
  CHECK(vc__contact_address(addr, sizeof(addr), db, e.tid, p,
                            VC_ADDRESS_EMAIL) == 1);
  CHECK_STR(addr, "a@example.com");
  CHECK(vc__contact_address(addr, sizeof(addr), db, e.tid, p,
                            VC_ADDRESS_TELEGRAM) == 0);
  CHECK_STR(addr, "");
  vc__db_release(db);
  env_close(&e);
}

static void test_contact_internal__resolve_and_prefs(void)
{
  vc_contact_spec s = VC_CONTACT_SPEC_INIT;
  char a[VC_ID_SIZE], b[VC_ID_SIZE], id[VC_ID_SIZE], addr[64];
  vc__contact_prefs pr;
  vc__db *db;
  env e;

  env_open(&e);
  s.phone = "+14155550001";
  s.timezone = "Asia/Kolkata";
  s.locale = "hi-IN";
  s.quiet_start_min = 1260;
  s.quiet_end_min = 480;
  CHECK_OK(vc_contact_upsert(a, e.t, &s));
  vc_contact_spec_init(&s, VC_CONTACT_SPEC_VERSION);
  s.email = "b@example.com";
  CHECK_OK(vc_contact_upsert(b, e.t, &s));
  db = env_db(&e);
  CHECK_OK(vc__contact_prefs_get(&pr, db, e.tid, b));
  CHECK_STR(pr.timezone, "");
  CHECK(pr.quiet_start_min == VC_TENANT_KEEP);
  CHECK_OK(vc__contact_prefs_get(&pr, db, e.tid, ""));
  CHECK(pr.quiet_end_min == VC_TENANT_KEEP);
  vc__db_release(db);
  CHECK_OK(vc_contact_merge(e.t, a, b));
  db = env_db(&e);
  CHECK_OK(vc__contact_resolve(id, db, e.tid, b));
  CHECK_STR(id, a);
  CHECK_RC(vc__contact_resolve(id, db, e.tid, "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
           VC_ENOTFOUND);
  CHECK_STR(id, "");
  CHECK_RC(vc__contact_resolve(id, db, e.tid, "junk"), VC_ENOTFOUND);
  /* Read through the merged id: the survivor's. */
  CHECK_OK(vc__contact_prefs_get(&pr, db, e.tid, b));
  CHECK_STR(pr.timezone, "Asia/Kolkata");
  CHECK_STR(pr.locale, "hi-IN");
  CHECK(pr.quiet_start_min == 1260 && pr.quiet_end_min == 480);
  CHECK(vc__contact_address(addr, sizeof(addr), db, e.tid, b,
                            VC_ADDRESS_EMAIL) == 1);
  CHECK_STR(addr, "b@example.com");
  CHECK(vc__contact_for_recipient(id, db, e.tid, VC_CHANNEL_EMAIL,
                                  "b@example.com") == 1);
  CHECK_STR(id, a);
  /* Another tenant's id is unknown here. */
  CHECK_RC(vc__contact_resolve(id, db, "01ARZ3NDEKTSV4RRFFQ69G5FAV", a),
           VC_ENOTFOUND);
  vc__db_release(db);
  env_close(&e);
}

/* The import's row hook: sees each stored row, may refuse one. */
typedef struct hook_seen {
  int calls;
  char extra[3][128];
  uint64_t line[3];
} hook_seen;

static int hook(void *arg, vc__db *db, const char *contact_id,
                const char *extra_json, uint64_t line)
{
  hook_seen *h = arg;

  (void)db;
  CHECK(strlen(contact_id) == 26);
  if (h->calls < 3) {
    snprintf(h->extra[h->calls], sizeof(h->extra[0]), "%s", extra_json);
    h->line[h->calls] = line;
  }
  h->calls++;
  return strstr(extra_json, "\"refuse\"") != NULL ? VC_EINVALID : 0;
}

typedef struct text_reader {
  const char *text;
  size_t pos;
} text_reader;

static int read_text(void *payload, char *buf, size_t cap, size_t *got)
{
  text_reader *r = payload;
  size_t n = strlen(r->text + r->pos);

  if (n > cap)
    n = cap;
  memcpy(buf, r->text + r->pos, n);
  r->pos += n;
  *got = n;
  return 0;
}

static int errors_seen;
static void on_error(void *payload, uint64_t line, int error,
                     const char *message)
{
  (void)payload;
  (void)message;
  CHECK(line == 3 && error == VC_EINVALID);
  errors_seen++;
}

static void test_contact_internal__import_row_hook(void)
{
  text_reader r = { "phone,name,first,mode\n"
                    "+14155550001,A,Asha,\n"
                    "+14155550002,B,Bala,refuse\n"
                    "+14155550003,C,,ok\n", 0 };
  vc_contact_import_spec spec = VC_CONTACT_IMPORT_SPEC_INIT;
  vc_contact_import_result res = VC_CONTACT_IMPORT_RESULT_INIT;
  hook_seen h;
  vc_contact *c;
  env e;

  env_open(&e);
  memset(&h, 0, sizeof(h));
  spec.read = read_text;
  spec.read_payload = &r;
  spec.on_error = on_error;
  errors_seen = 0;
  CHECK_OK(vc__contact_import_csv(&res, e.t, &spec, hook, &h));
  CHECK(h.calls == 3);
  CHECK_STR(h.extra[0], "{\"first\":\"Asha\",\"mode\":\"\"}");
  CHECK(h.line[0] == 2 && h.line[2] == 4);
  CHECK_STR(h.extra[2], "{\"first\":\"\",\"mode\":\"ok\"}");
  CHECK(res.rows == 3 && res.created == 2 && res.rejected == 1);
  CHECK(errors_seen == 1);
  /* The refused row was undone; empty cells are not stored fields. */
  CHECK_RC(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_PHONE,
                                      "+14155550002"), VC_ENOTFOUND);
  CHECK_OK(vc_contact_find_by_address(&c, e.t, VC_ADDRESS_PHONE,
                                      "+14155550001"));
  CHECK_STR(vc_contact_fields_json(c), "{\"first\":\"Asha\"}");
  vc_contact_free(c);
  env_close(&e);
}

VC_TESTS(
  VC_TEST(test_contact_internal__recipient_and_ensure),
  VC_TEST(test_contact_internal__resolve_and_prefs),
  VC_TEST(test_contact_internal__import_row_hook),
)
