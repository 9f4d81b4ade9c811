/*
 * Templates through the public API only (and sqlite3 to look at the
 * file): create and look up, variants per kind and locale with fallback,
 * immutable versions and renders pinned to one, escaping per kind,
 * declared, strict and optional variables, partials across templates,
 * listing, isolation between tenants, events, bad input, and renders
 * from several threads at once.
 */
#define _GNU_SOURCE
#include "vyomcomm.h"
#include "harness.h"

#include <pthread.h>
#include <sqlite3.h>

#define DB_NAME "template.db"

/* ---- helpers ------------------------------------------------------ */

static vc_ctx *open_ctx(void)
{
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;
  int rc;

  CHECK_OK(vc_store_open_sqlite(&store, vc_test_path(DB_NAME), NULL));
  o.store = store;
  rc = vc_ctx_new(&ctx, &o);
  if (rc != 0)
    vc_store_free(store);
  CHECK_OK(rc);
  return ctx;
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

#define CHECK_FAIL(call, code)                                          \
  do {                                                                  \
    vc_error_clear();                                                   \
    CHECK_RC(call, code);                                               \
    CHECK(error_is(code));                                              \
  } while (0)

/* The last error's message contains `s`. */
#define CHECK_MSG(s) CHECK(strstr(vc_error_last()->message, (s)) != NULL)

static vc_tenant *new_tenant(vc_ctx *ctx, const char *slug,
                             const char *locale)
{
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;

  s.slug = slug;
  s.locale = locale;
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  return t;
}

static vc_template *new_sms(vc_tenant *t, const char *name,
                            const char *locale, const char *body,
                            const char *vars)
{
  vc_template_spec s = VC_TEMPLATE_SPEC_INIT;
  vc_template *tpl = NULL;

  s.name = name;
  s.kind = VC_CHANNEL_SMS;
  s.locale = locale;
  s.text_body = body;
  s.variables_json = vars;
  CHECK_OK(vc_template_new(&tpl, t, &s));
  CHECK(tpl != NULL);
  return tpl;
}

static int add_sms(vc_template *tpl, const char *locale, const char *body)
{
  vc_template_spec s = VC_TEMPLATE_SPEC_INIT;

  s.kind = VC_CHANNEL_SMS;
  s.locale = locale;
  s.text_body = body;
  return vc_template_add_variant(tpl, &s);
}

/* Render into a static buffer; returns the code. */
static char out_text[8192];

static int render_full(vc_template *tpl, int kind, const char *locale,
                       int part, int version, const char *vars)
{
  vc_template_render_spec r = VC_TEMPLATE_RENDER_SPEC_INIT;
  vc_buf b = VC_BUF_INIT;
  int rc;

  r.kind = kind;
  r.locale = locale;
  r.part = part;
  r.template_version = version;
  r.vars_json = vars;
  out_text[0] = '\0';
  rc = vc_template_render(&b, tpl, &r);
  if (rc == 0) {
    if (b.ptr == NULL || b.size >= sizeof(out_text))
      return -999;
    memcpy(out_text, b.ptr, b.size + 1);
  } else if (b.ptr != NULL) {
    rc = -998; /* a failure must leave the buffer alone */
  }
  vc_buf_dispose(&b);
  return rc;
}

static int render(vc_template *tpl, const char *locale, const char *vars)
{
  return render_full(tpl, VC_CHANNEL_SMS, locale, 0, 0, vars);
}

static int64_t raw_count(const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int64_t n = -1;

  if (sqlite3_open_v2(vc_test_path(DB_NAME), &db, SQLITE_OPEN_READONLY,
                      NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

/* ---- cases -------------------------------------------------------- */

static void test_template__create_and_render(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme", "en-IN");
  vc_template *tpl, *by_id = NULL, *by_name = NULL;
  vc_template_spec init;
  char id[VC_ID_SIZE];

  tpl = new_sms(t, "otp", NULL, "Your code is {{code}}, {{name}}.",
                "[\"code\", \"name\"]");
  snprintf(id, sizeof(id), "%s", vc_template_id(tpl));
  CHECK(strlen(id) == VC_ID_SIZE - 1);
  CHECK_STR(vc_template_name(tpl), "otp");
  CHECK_STR(vc_template_tenant_id(tpl), vc_tenant_id(t));
  CHECK(vc_template_version(tpl) == 1);
  CHECK(vc_template_kind(tpl) == VC_CHANNEL_SMS);
  CHECK(vc_template_created_at(tpl) > 0);

  CHECK_OK(render(tpl, NULL, "{\"code\":\"4711\",\"name\":\"Asha\"}"));
  CHECK_STR(out_text, "Your code is 4711, Asha.");
  /* Numbers and booleans interpolate as values. */
  CHECK_OK(render(tpl, NULL, "{\"code\":4711,\"name\":true}"));
  CHECK_STR(out_text, "Your code is 4711, true.");

  /* The locale defaulted to the tenant's, in canonical case. */
  CHECK(raw_count("SELECT COUNT(*) FROM vc_template_version WHERE "
                  "locale = 'en-IN' AND version = 1") == 1);

  CHECK_OK(vc_template_lookup(&by_id, t, id));
  CHECK_OK(vc_template_lookup(&by_name, t, "otp"));
  CHECK_STR(vc_template_id(by_name), id);
  CHECK_STR(vc_template_name(by_id), "otp");
  CHECK(vc_template_version(by_id) == 1);
  CHECK(vc_template_created_at(by_id) == vc_template_created_at(tpl));
  CHECK_OK(render(by_name, NULL, "{\"code\":\"1\",\"name\":\"B\"}"));
  CHECK_STR(out_text, "Your code is 1, B.");
  {
    vc_template *none = (vc_template *)&none;
    CHECK_FAIL(vc_template_lookup(&none, t, "missing"), VC_ENOTFOUND);
    CHECK(none == NULL);
    CHECK_FAIL(vc_template_lookup(&none, t, "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
               VC_ENOTFOUND);
    CHECK_FAIL(vc_template_lookup(&none, t, "Bad Name"), VC_EINVALID);
    CHECK_FAIL(vc_template_lookup(&none, t, NULL), VC_EINVALID);
    CHECK_FAIL(vc_template_lookup(NULL, t, "otp"), VC_EINVALID);
    CHECK_FAIL(vc_template_lookup(&none, NULL, "otp"), VC_EINVALID);
  }
  CHECK_OK(vc_template_spec_init(&init, VC_TEMPLATE_SPEC_VERSION));
  CHECK(init.name == NULL && init.kind == 0 && init.variables_json == NULL);
  CHECK_FAIL(vc_template_spec_init(&init, 0), VC_EVERSION);
  {
    vc_template_render_spec r;
    vc_template_filter f;
    CHECK_OK(vc_template_render_spec_init(&r, 1));
    CHECK(r.kind == 0 && r.part == 0 && r.template_version == 0);
    CHECK_FAIL(vc_template_render_spec_init(&r, 2), VC_EVERSION);
    CHECK_OK(vc_template_filter_init(&f, 1));
    CHECK(f.after == NULL && f.kind == 0);
    CHECK_FAIL(vc_template_filter_init(&f, 0), VC_EVERSION);
  }
  /* A NULL spec renders the defaults: no variables, so strictness. */
  {
    vc_buf b = VC_BUF_INIT;
    CHECK_FAIL(vc_template_render(&b, tpl, NULL), VC_EINVALID);
    CHECK(b.ptr == NULL);
  }
  CHECK(vc_template_id(NULL) == NULL && vc_template_version(NULL) == 0);
  vc_template_free(by_id);
  vc_template_free(by_name);
  vc_template_free(tpl);
  vc_template_free(NULL);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_template__variants_and_locales(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme", "en-IN");
  vc_template *tpl = new_sms(t, "greet", "en", "Hello {{name}}", NULL);

  CHECK_OK(add_sms(tpl, "hi", "Namaste {{name}}"));
  CHECK(vc_template_version(tpl) == 2);
  /* hi-IN falls back to hi; fr to the tenant's en-IN, then en. */
  CHECK_OK(render(tpl, "hi-IN", "{\"name\":\"Asha\"}"));
  CHECK_STR(out_text, "Namaste Asha");
  CHECK_OK(render(tpl, "hi", "{\"name\":\"Asha\"}"));
  CHECK_STR(out_text, "Namaste Asha");
  CHECK_OK(render(tpl, "fr", "{\"name\":\"Asha\"}"));
  CHECK_STR(out_text, "Hello Asha");
  CHECK_OK(render(tpl, NULL, "{\"name\":\"Asha\"}"));
  CHECK_STR(out_text, "Hello Asha");

  /* A closer variant wins once it exists; case does not matter. */
  CHECK_OK(add_sms(tpl, "HI-in", "Namaskar {{name}}"));
  CHECK(raw_count("SELECT COUNT(*) FROM vc_template_version WHERE "
                  "locale = 'hi-IN'") == 1);
  CHECK_OK(render(tpl, "hi-IN", "{\"name\":\"Asha\"}"));
  CHECK_STR(out_text, "Namaskar Asha");
  CHECK_OK(render(tpl, "hi-in", "{\"name\":\"Asha\"}"));
  CHECK_STR(out_text, "Namaskar Asha");
  CHECK_OK(render(tpl, "hi", "{\"name\":\"Asha\"}"));
  CHECK_STR(out_text, "Namaste Asha");
  /* The tenant's exact locale beats its language. */
  CHECK_OK(add_sms(tpl, "en-IN", "Hi {{name}}"));
  CHECK_OK(render(tpl, "de-AT", "{\"name\":\"Asha\"}"));
  CHECK_STR(out_text, "Hi Asha");

  /* Another kind: an email variant with subject and HTML. */
  {
    vc_template_spec s = VC_TEMPLATE_SPEC_INIT;
    s.kind = VC_CHANNEL_EMAIL;
    s.locale = "en";
    s.subject = "Welcome, {{name}}";
    s.html_body = "<p>Hello {{name}}</p>";
    CHECK_OK(vc_template_add_variant(tpl, &s));
    CHECK(vc_template_version(tpl) == 5);
  }
  CHECK_OK(render_full(tpl, VC_CHANNEL_EMAIL, "hi-IN",
                       VC_TEMPLATE_PART_SUBJECT, 0, "{\"name\":\"A\"}"));
  CHECK_STR(out_text, "Welcome, A");
  /* No text body: the default part is the HTML one. */
  CHECK_OK(render_full(tpl, VC_CHANNEL_EMAIL, NULL, 0, 0,
                       "{\"name\":\"A\"}"));
  CHECK_STR(out_text, "<p>Hello A</p>");
  CHECK_FAIL(render_full(tpl, VC_CHANNEL_EMAIL, NULL,
                         VC_TEMPLATE_PART_TEXT, 0, "{}"), VC_ENOTFOUND);
  CHECK_MSG("text_body");
  /* SMS has no subject; chat has no variant at all. */
  CHECK_FAIL(render_full(tpl, VC_CHANNEL_SMS, NULL,
                         VC_TEMPLATE_PART_SUBJECT, 0, "{}"), VC_ENOTFOUND);
  CHECK_FAIL(render_full(tpl, VC_CHANNEL_CHAT, NULL, 0, 0, "{}"),
             VC_ENOTFOUND);
  CHECK_MSG("chat");
  /* kind 0: the first version's kind (sms). */
  CHECK_OK(render_full(tpl, 0, "hi", 0, 0, "{\"name\":\"A\"}"));
  CHECK_STR(out_text, "Namaste A");

  /* A tenant whose locale has no variant and no language match. */
  {
    vc_tenant *u = new_tenant(ctx, "other", "ta-IN");
    vc_template *x = new_sms(u, "only-mr", "mr", "Mr {{name}}", NULL);
    CHECK_FAIL(render(x, NULL, "{\"name\":\"A\"}"), VC_ENOTFOUND);
    CHECK_MSG("ta-IN");
    CHECK_OK(render(x, "mr-IN", "{\"name\":\"A\"}"));
    CHECK_STR(out_text, "Mr A");
    vc_template_free(x);
    vc_tenant_free(u);
  }
  /* Variant limit: 64 kind+locale pairs. */
  {
    vc_template *many = new_sms(t, "many", "aa", "x", NULL);
    char loc[16];
    for (int i = 1; i < VC_TEMPLATE_VARIANTS_MAX; i++) {
      snprintf(loc, sizeof(loc), "x%c%c", 'a' + i / 26, 'a' + i % 26);
      CHECK_OK(add_sms(many, loc, "y"));
    }
    CHECK_FAIL(add_sms(many, "zz", "y"), VC_ETOOBIG);
    CHECK_OK(add_sms(many, "aa", "replaced")); /* an existing pair is ok */
    CHECK(vc_template_version(many) == VC_TEMPLATE_VARIANTS_MAX + 1);
    vc_template_free(many);
  }
  vc_template_free(tpl);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_template__versions_immutable(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme", "en");
  vc_template *tpl = new_sms(t, "promo", "en", "Sale: {{pct}}% off", NULL);
  vc_template *other = NULL;
  const char *vars = "{\"pct\":20}";

  CHECK_OK(add_sms(tpl, "hi", "Chhoot {{pct}}%"));           /* v2 */
  CHECK_OK(add_sms(tpl, "en", "Mega sale: {{pct}}% off"));   /* v3 */
  CHECK(vc_template_version(tpl) == 3);
  /* Latest, and each version as it was. */
  CHECK_OK(render_full(tpl, VC_CHANNEL_SMS, "en", 0, 0, vars));
  CHECK_STR(out_text, "Mega sale: 20% off");
  CHECK_OK(render_full(tpl, VC_CHANNEL_SMS, "en", 0, 1, vars));
  CHECK_STR(out_text, "Sale: 20% off");
  CHECK_OK(render_full(tpl, VC_CHANNEL_SMS, "en", 0, 2, vars));
  CHECK_STR(out_text, "Sale: 20% off");
  CHECK_OK(render_full(tpl, VC_CHANNEL_SMS, "en", 0, 3, vars));
  CHECK_STR(out_text, "Mega sale: 20% off");
  /* hi did not exist at version 1: its fallback (en) then. */
  CHECK_OK(render_full(tpl, VC_CHANNEL_SMS, "hi", 0, 1, vars));
  CHECK_STR(out_text, "Sale: 20% off");
  CHECK_OK(render_full(tpl, VC_CHANNEL_SMS, "hi", 0, 2, vars));
  CHECK_STR(out_text, "Chhoot 20%");
  CHECK_FAIL(render_full(tpl, VC_CHANNEL_SMS, "en", 0, 4, vars),
             VC_ENOTFOUND);
  CHECK_MSG("version 4");
  CHECK_FAIL(render_full(tpl, VC_CHANNEL_SMS, "en", 0, -1, vars),
             VC_EINVALID);

  /* Another handle added a version: render with 0 sees the store's
   * latest, the old handle's version number stays what it knew. */
  CHECK_OK(vc_template_lookup(&other, t, "promo"));
  CHECK_OK(add_sms(other, "en", "Final sale: {{pct}}%"));
  CHECK(vc_template_version(other) == 4);
  CHECK(vc_template_version(tpl) == 3);
  CHECK_OK(render_full(tpl, VC_CHANNEL_SMS, "en", 0, 0, vars));
  CHECK_STR(out_text, "Final sale: 20%");
  /* A message that recorded version 3 renders the same forever. */
  CHECK_OK(render_full(tpl, VC_CHANNEL_SMS, "en", 0, 3, vars));
  CHECK_STR(out_text, "Mega sale: 20% off");

  /* The store refuses to change a version behind the library's back. */
  {
    sqlite3 *db = NULL;
    char *err = NULL;
    CHECK(sqlite3_open(vc_test_path(DB_NAME), &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    CHECK(sqlite3_exec(db, "UPDATE vc_template_version SET text_body = 'x'",
                       NULL, NULL, &err) != SQLITE_OK);
    CHECK(err != NULL && strstr(err, "immutable") != NULL);
    sqlite3_free(err);
    sqlite3_close(db);
  }
  CHECK(raw_count("SELECT COUNT(*) FROM vc_template_version") == 4);
  CHECK_OK(render_full(tpl, VC_CHANNEL_SMS, "en", 0, 1, vars));
  CHECK_STR(out_text, "Sale: 20% off");

  /* add_variant cannot rename. */
  {
    vc_template_spec s = VC_TEMPLATE_SPEC_INIT;
    s.name = "renamed";
    s.kind = VC_CHANNEL_SMS;
    s.text_body = "x";
    CHECK_FAIL(vc_template_add_variant(tpl, &s), VC_EINVALID);
    s.name = "promo";            /* its own name is fine */
    CHECK_OK(vc_template_add_variant(tpl, &s));
    CHECK(vc_template_version(tpl) == 5);
  }
  vc_template_free(other);
  vc_template_free(tpl);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_template__escaping(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme", "en");
  vc_template_spec s = VC_TEMPLATE_SPEC_INIT;
  vc_template *mail = NULL, *sms;
  const char *vars = "{\"x\":\"<b>Tom & 'Jerry'\\\"</b>\"}";

  s.name = "mail";
  s.kind = VC_CHANNEL_EMAIL;
  s.subject = "Re: {{x}}";
  s.text_body = "Text {{x}}";
  s.html_body = "<p>{{x}}</p><p>{{{x}}}</p><p>{{& x}}</p>";
  CHECK_OK(vc_template_new(&mail, t, &s));
  CHECK_OK(render_full(mail, VC_CHANNEL_EMAIL, NULL, VC_TEMPLATE_PART_HTML,
                       0, vars));
  CHECK_STR(out_text, "<p>&lt;b&gt;Tom &amp; &#39;Jerry&#39;&quot;&lt;/b&gt;"
                      "</p><p><b>Tom & 'Jerry'\"</b></p>"
                      "<p><b>Tom & 'Jerry'\"</b></p>");
  CHECK_OK(render_full(mail, VC_CHANNEL_EMAIL, NULL, VC_TEMPLATE_PART_TEXT,
                       0, vars));
  CHECK_STR(out_text, "Text <b>Tom & 'Jerry'\"</b>");
  CHECK_OK(render_full(mail, VC_CHANNEL_EMAIL, NULL,
                       VC_TEMPLATE_PART_SUBJECT, 0, vars));
  CHECK_STR(out_text, "Re: <b>Tom & 'Jerry'\"</b>");
  /* The default part of email with a text body is the text. */
  CHECK_OK(render_full(mail, VC_CHANNEL_EMAIL, NULL, 0, 0, vars));
  CHECK_STR(out_text, "Text <b>Tom & 'Jerry'\"</b>");

  sms = new_sms(t, "sms", NULL, "SMS {{x}}", NULL);
  CHECK_OK(render(sms, NULL, vars));
  CHECK_STR(out_text, "SMS <b>Tom & 'Jerry'\"</b>");

  /* A variable cannot add a line to a subject (header injection). */
  CHECK_FAIL(render_full(mail, VC_CHANNEL_EMAIL, NULL,
                         VC_TEMPLATE_PART_SUBJECT, 0,
                         "{\"x\":\"hi\\r\\nBcc: all@example.com\"}"),
             VC_EINVALID);
  CHECK_MSG("subject");
  CHECK_FAIL(render_full(mail, VC_CHANNEL_EMAIL, NULL,
                         VC_TEMPLATE_PART_SUBJECT, 0,
                         "{\"x\":\"a\\nb\"}"), VC_EINVALID);
  vc_template_free(mail);
  vc_template_free(sms);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_template__strict_and_optional(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme", "en");
  vc_template *tpl, *loose, *sec;
  vc_template_spec s = VC_TEMPLATE_SPEC_INIT;

  tpl = new_sms(t, "order", NULL,
                "Hi {{name}}, order {{order.id}}{{#coupon}} with "
                "{{coupon.code}}{{/coupon}}.{{note}}",
                "[\"name\", \"order.id\", \"coupon?\", \"note?\"]");
  CHECK_OK(render(tpl, NULL, "{\"name\":\"A\",\"order\":{\"id\":7}}"));
  CHECK_STR(out_text, "Hi A, order 7.");
  CHECK_OK(render(tpl, NULL, "{\"name\":\"A\",\"order\":{\"id\":7},"
                             "\"coupon\":{\"code\":\"X1\"},\"note\":\"!\"}"));
  CHECK_STR(out_text, "Hi A, order 7 with X1.!");
  /* A required one missing: named in the message. */
  CHECK_FAIL(render(tpl, NULL, "{\"order\":{\"id\":7}}"), VC_EINVALID);
  CHECK_MSG("'name'");
  CHECK_FAIL(render(tpl, NULL, "{\"name\":\"A\",\"order\":{}}"),
             VC_EINVALID);
  CHECK_MSG("order.id");
  /* null, false: a value that prints as nothing, not a missing one. */
  CHECK_OK(render(tpl, NULL, "{\"name\":null,\"order\":{\"id\":false}}"));
  CHECK_STR(out_text, "Hi , order .");
  /* Lists and objects are not values. */
  CHECK_FAIL(render(tpl, NULL, "{\"name\":[1],\"order\":{\"id\":1}}"),
             VC_EINVALID);

  /* Declared names are checked at creation, outside sections. */
  s.name = "bad";
  s.kind = VC_CHANNEL_SMS;
  s.text_body = "Hi {{name}} {{typo}}";
  s.variables_json = "[\"name\"]";
  CHECK_FAIL(vc_template_new(NULL, t, &s), VC_EINVALID);
  CHECK_MSG("typo");
  s.text_body = "{{#cart}}{{anything}}{{/cart}}{{^cart}}{{empty}}{{/cart}}";
  s.variables_json = "[\"cart\"]";
  CHECK_FAIL(vc_template_new(NULL, t, &s), VC_EINVALID);
  CHECK_MSG("empty");                     /* inverted: the root context */
  s.variables_json = "[\"cart\", \"empty?\"]";
  s.name = "cart";
  CHECK_OK(vc_template_new(&sec, t, &s));
  CHECK_OK(render(sec, NULL, "{\"cart\":[{\"anything\":1},"
                             "{\"anything\":2}]}"));
  CHECK_STR(out_text, "12");
  CHECK_OK(render(sec, NULL, "{}"));
  CHECK_STR(out_text, "");
  /* Inside a section a missing name is still an error at render. */
  CHECK_FAIL(render(sec, NULL, "{\"cart\":[{\"other\":1}]}"), VC_EINVALID);
  CHECK_MSG("anything");
  /* Dotted declarations: "a.b" allows a, a.b and a.b.c, not a.c. */
  s.name = "dots";
  s.text_body = "{{#user}}x{{/user}}{{user.name}}{{user.name.first}}";
  s.variables_json = "[\"user.name\"]";
  CHECK_OK(vc_template_new(NULL, t, &s));
  s.name = "dots2";
  s.text_body = "{{user.email}}";
  CHECK_FAIL(vc_template_new(NULL, t, &s), VC_EINVALID);
  /* An empty list declares nothing may be used. */
  s.name = "none";
  s.text_body = "static {{x}}";
  s.variables_json = "[]";
  CHECK_FAIL(vc_template_new(NULL, t, &s), VC_EINVALID);
  s.text_body = "static only";
  CHECK_OK(vc_template_new(NULL, t, &s));

  /* With nothing declared, anything goes, and all of it is required. */
  loose = new_sms(t, "loose", NULL, "{{a}}-{{b.c}}", NULL);
  CHECK_OK(render(loose, NULL, "{\"a\":1,\"b\":{\"c\":2}}"));
  CHECK_STR(out_text, "1-2");
  CHECK_FAIL(render(loose, NULL, "{\"a\":1}"), VC_EINVALID);
  CHECK_MSG("b.c");

  /* Malformed declarations. */
  s.name = "decl";
  s.text_body = "x";
  s.variables_json = "{\"name\":1}";
  CHECK_FAIL(vc_template_new(NULL, t, &s), VC_EINVALID);
  s.variables_json = "[\"ok\", 5]";
  CHECK_FAIL(vc_template_new(NULL, t, &s), VC_EINVALID);
  s.variables_json = "[\"has space\"]";
  CHECK_FAIL(vc_template_new(NULL, t, &s), VC_EINVALID);
  s.variables_json = "[\"a..b\"]";
  CHECK_FAIL(vc_template_new(NULL, t, &s), VC_EINVALID);
  s.variables_json = "[\"?\"]";
  CHECK_FAIL(vc_template_new(NULL, t, &s), VC_EINVALID);
  s.variables_json = "[\"a\", \"a?\"]";
  CHECK_FAIL(vc_template_new(NULL, t, &s), VC_EINVALID);
  CHECK_MSG("twice");
  s.variables_json = "[[\"a\"]]";
  CHECK_FAIL(vc_template_new(NULL, t, &s), VC_EINVALID);
  s.variables_json = "[\"a\"";
  CHECK_FAIL(vc_template_new(NULL, t, &s), VC_EINVALID);
  {
    char big[VC_TEMPLATE_VARIABLES_MAX * 8 + 16];
    size_t n = 0;
    big[n++] = '[';
    for (int i = 0; i <= VC_TEMPLATE_VARIABLES_MAX; i++)
      n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"v%d\"",
                            i ? "," : "", i);
    big[n++] = ']';
    big[n] = '\0';
    s.variables_json = big;
    CHECK_FAIL(vc_template_new(NULL, t, &s), VC_ETOOBIG);
  }
  CHECK(raw_count("SELECT COUNT(*) FROM vc_template WHERE name IN "
                  "('bad', 'decl', 'dots2')") == 0);
  vc_template_free(tpl);
  vc_template_free(loose);
  vc_template_free(sec);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

static void test_template__partials(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme", "en");
  vc_tenant *u = new_tenant(ctx, "other", "en");
  vc_template *footer, *main, *self, *foreign, *deep;
  vc_template_spec s = VC_TEMPLATE_SPEC_INIT;

  footer = new_sms(t, "footer", "en", "-- {{company}}",
                   "[\"company\", \"slogan?\"]");
  CHECK_OK(add_sms(footer, "hi", "-- {{company}} (hi)"));
  main = new_sms(t, "welcome", "en", "Hi {{name}}\n{{> footer}}",
                 "[\"name\", \"company\"]");
  CHECK_OK(render(main, NULL, "{\"name\":\"A\",\"company\":\"Acme\"}"));
  CHECK_STR(out_text, "Hi A\n-- Acme");
  /* The partial follows the locale rules too. */
  CHECK_OK(render(main, "hi-IN", "{\"name\":\"A\",\"company\":\"Acme\"}"));
  CHECK_STR(out_text, "Hi A\n-- Acme (hi)");
  /* Strictness reaches into the partial. */
  CHECK_FAIL(render(main, NULL, "{\"name\":\"A\"}"), VC_EINVALID);
  CHECK_MSG("company");
  /* A new footer version shows at once (partials are the latest). */
  CHECK_OK(add_sms(footer, "en", "-- {{company}}{{#slogan}}: "
                   "{{slogan}}{{/slogan}}{{tagline}}"));
  CHECK_FAIL(render(main, NULL, "{\"name\":\"A\",\"company\":\"Acme\"}"),
             VC_EINVALID);
  CHECK_MSG("tagline");
  CHECK_OK(render(main, NULL, "{\"name\":\"A\",\"company\":\"Acme\","
                              "\"tagline\":\".\"}"));
  CHECK_STR(out_text, "Hi A\n-- Acme.");
  /* The including template's optional declaration covers the partial. */
  CHECK_OK(add_sms(main, "en", "Hi {{name}}\n{{> footer}}"));
  {
    vc_template_spec v = VC_TEMPLATE_SPEC_INIT;
    v.kind = VC_CHANNEL_SMS;
    v.locale = "en";
    v.text_body = "Hi {{name}}\n{{> footer}}";
    v.variables_json = "[\"name\", \"company\", \"tagline?\"]";
    CHECK_OK(vc_template_add_variant(main, &v));
  }
  CHECK_OK(render(main, NULL, "{\"name\":\"A\",\"company\":\"Acme\","
                              "\"slogan\":\"we care\"}"));
  CHECK_STR(out_text, "Hi A\n-- Acme: we care");

  /* Missing partials, and other tenants' templates, are not found. */
  s.name = "lost";
  s.kind = VC_CHANNEL_SMS;
  s.text_body = "x {{> nowhere}}";
  CHECK_OK(vc_template_new(NULL, t, &s));
  {
    vc_template *lost = NULL;
    CHECK_OK(vc_template_lookup(&lost, t, "lost"));
    CHECK_FAIL(render(lost, NULL, "{}"), VC_ENOTFOUND);
    CHECK_MSG("nowhere");
    vc_template_free(lost);
  }
  foreign = new_sms(u, "uses-footer", "en", "B {{> footer}}", NULL);
  CHECK_FAIL(render(foreign, NULL, "{\"company\":\"Acme\"}"), VC_ENOTFOUND);
  CHECK_MSG("footer");
  /* A partial without the part being rendered is not found either. */
  {
    vc_template *em = NULL;
    s.name = "mail-footer-user";
    s.kind = VC_CHANNEL_EMAIL;
    s.text_body = NULL;
    s.html_body = "<p>{{> footer}}</p>";
    CHECK_OK(vc_template_new(&em, t, &s));
    CHECK_FAIL(render_full(em, VC_CHANNEL_EMAIL, NULL, 0, 0,
                           "{\"company\":\"Acme\"}"), VC_ENOTFOUND);
    vc_template_free(em);
  }
  /* A partial that includes itself stops at the depth limit. */
  self = new_sms(t, "loop", "en", "a{{> loop}}", NULL);
  CHECK_FAIL(render(self, NULL, "{}"), VC_ETOOBIG);
  /* Recursion that the data ends is fine (a tree). */
  deep = new_sms(t, "tree", "en",
                 "{{name}}{{#kids}}({{> tree}}){{/kids}}", NULL);
  /* (Leaves say "kids": [], or the parent's list is found again.) */
  CHECK_OK(render(deep, NULL, "{\"name\":\"r\",\"kids\":[{\"name\":\"a\","
                              "\"kids\":[{\"name\":\"b\",\"kids\":[]}]},"
                              "{\"name\":\"c\",\"kids\":[]}]}"));
  CHECK_STR(out_text, "r(a(b))(c)");
  vc_template_free(footer);
  vc_template_free(main);
  vc_template_free(self);
  vc_template_free(foreign);
  vc_template_free(deep);
  vc_tenant_free(t);
  vc_tenant_free(u);
  vc_ctx_free(ctx);
}

static void test_template__bad_input(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme", "en");
  vc_template_spec s = VC_TEMPLATE_SPEC_INIT;
  vc_template *tpl = new_sms(t, "ok", NULL, "{{a}}", NULL);
  vc_template *x = (vc_template *)&x;
  char *big;

  s.name = "x";
  s.kind = VC_CHANNEL_SMS;
  s.text_body = "fine";
  /* Names, kinds, parts per kind. */
  s.name = NULL;
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  CHECK(x == NULL);
  s.name = "Bad";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  s.name = "x";
  s.kind = 0;
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  s.kind = 42;
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  s.kind = VC_CHANNEL_SMS;
  s.html_body = "<p>x</p>";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  CHECK_MSG("HTML");
  s.html_body = NULL;
  s.subject = "Hi";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  s.subject = NULL;
  s.text_body = NULL;
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  s.text_body = "";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  s.kind = VC_CHANNEL_EMAIL;
  s.subject = "Only a subject";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  s.subject = "Two\nlines";
  s.text_body = "body";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  s.subject = NULL;
  s.kind = VC_CHANNEL_SMS;

  /* Encoding and size. */
  s.text_body = "bad \xc3\x28 byte";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EENCODING);
  s.text_body = "surrogate \xed\xa0\x80";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EENCODING);
  big = malloc(VC_TEMPLATE_BODY_MAX + 2);
  CHECK(big != NULL);
  memset(big, 'x', VC_TEMPLATE_BODY_MAX + 1);
  big[VC_TEMPLATE_BODY_MAX + 1] = '\0';
  s.text_body = big;
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_ETOOBIG);
  big[VC_TEMPLATE_BODY_MAX] = '\0';     /* exactly the limit: fine */
  s.name = "biggest";
  CHECK_OK(vc_template_new(NULL, t, &s));
  s.name = "x";
  free(big);
  {
    char subj[VC_TEMPLATE_SUBJECT_MAX + 2];
    memset(subj, 's', sizeof(subj) - 1);
    subj[sizeof(subj) - 1] = '\0';
    s.kind = VC_CHANNEL_EMAIL;
    s.subject = subj;
    s.text_body = "b";
    CHECK_FAIL(vc_template_new(&x, t, &s), VC_ETOOBIG);
    s.subject = NULL;
    s.kind = VC_CHANNEL_SMS;
  }
  /* Syntax. */
  s.text_body = "{{#open}} never closed";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  CHECK_MSG("text_body");
  s.text_body = "{{#a}}{{/b}}";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  s.text_body = "{{unclosed";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  /* Locales. */
  s.text_body = "ok";
  s.locale = "english!";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  s.locale = "e";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  s.locale = "en--IN";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  s.locale = "en-";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  s.locale = "en-toolongsubtag";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EINVALID);
  s.locale = "zh-hant-tw";
  s.name = "zh";
  CHECK_OK(vc_template_new(NULL, t, &s));
  CHECK(raw_count("SELECT COUNT(*) FROM vc_template_version WHERE "
                  "locale = 'zh-Hant-TW'") == 1);
  s.locale = NULL;
  s.name = "x";
  /* Versions and arguments. */
  s.version = 0;
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EVERSION);
  s.version = VC_TEMPLATE_SPEC_VERSION + 1;
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EVERSION);
  s.version = 1;
  CHECK_FAIL(vc_template_new(&x, NULL, &s), VC_EINVALID);
  CHECK_FAIL(vc_template_new(&x, t, NULL), VC_EINVALID);
  CHECK_FAIL(vc_template_add_variant(NULL, &s), VC_EINVALID);
  CHECK_FAIL(vc_template_add_variant(tpl, NULL), VC_EINVALID);
  /* A name in use. */
  s.name = "ok";
  CHECK_FAIL(vc_template_new(&x, t, &s), VC_EEXISTS);

  /* Render input: variables JSON. */
  CHECK_FAIL(render(tpl, NULL, "{\"a\":"), VC_EINVALID);
  CHECK_FAIL(render(tpl, NULL, "[1]"), VC_EINVALID);
  CHECK_FAIL(render(tpl, NULL, "\"a\""), VC_EINVALID);
  CHECK_FAIL(render(tpl, NULL, "{\"a\":\"\xff\"}"), VC_EENCODING);
  CHECK_FAIL(render(tpl, NULL, "{\"a\":1} {}"), VC_EINVALID);
  {
    char deep[256];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof(deep), "{\"a\":");
    for (int i = 0; i < VC_TEMPLATE_VARS_DEPTH; i++)
      deep[n++] = '[';
    for (int i = 0; i < VC_TEMPLATE_VARS_DEPTH; i++)
      deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    CHECK_FAIL(render(tpl, NULL, deep), VC_ETOOBIG);
    CHECK_MSG("nested");
    /* One level less parses (the object itself is a level). */
    n = (size_t)snprintf(deep, sizeof(deep), "{\"a\":");
    for (int i = 0; i < VC_TEMPLATE_VARS_DEPTH - 1; i++)
      deep[n++] = '[';
    for (int i = 0; i < VC_TEMPLATE_VARS_DEPTH - 1; i++)
      deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    CHECK_FAIL(render(tpl, NULL, deep), VC_EINVALID); /* a list: no value */
    CHECK_MSG("list");
  }
  big = malloc(VC_TEMPLATE_VARS_JSON_MAX + 64);
  CHECK(big != NULL);
  memset(big, ' ', VC_TEMPLATE_VARS_JSON_MAX + 63);
  memcpy(big, "{\"a\":1}", 7);
  big[VC_TEMPLATE_VARS_JSON_MAX + 63] = '\0';
  CHECK_FAIL(render(tpl, NULL, big), VC_ETOOBIG);
  free(big);
  /* Render input: the spec. */
  CHECK_FAIL(render_full(tpl, 9, NULL, 0, 0, "{}"), VC_EINVALID);
  CHECK_FAIL(render_full(tpl, VC_CHANNEL_SMS, NULL, 7, 0, "{}"),
             VC_EINVALID);
  CHECK_FAIL(render_full(tpl, VC_CHANNEL_SMS, "x y", 0, 0, "{}"),
             VC_EINVALID);
  {
    vc_template_render_spec r = VC_TEMPLATE_RENDER_SPEC_INIT;
    vc_buf b = VC_BUF_INIT;
    r.version = 5;
    CHECK_FAIL(vc_template_render(&b, tpl, &r), VC_EVERSION);
    CHECK_FAIL(vc_template_render(NULL, tpl, NULL), VC_EINVALID);
    CHECK_FAIL(vc_template_render(&b, NULL, NULL), VC_EINVALID);
    CHECK(b.ptr == NULL);
  }
  /* Output that would grow without bound. */
  {
    vc_template *boom = new_sms(t, "boom", NULL,
                                "{{#l}}{{#l}}{{#l}}{{s}}{{/l}}{{/l}}{{/l}}",
                                NULL);
    char vars[4200];
    size_t n = (size_t)snprintf(vars, sizeof(vars), "{\"s\":\"");
    memset(vars + n, 'x', 1000);
    n += 1000;
    n += (size_t)snprintf(vars + n, sizeof(vars) - n, "\",\"l\":[");
    for (int i = 0; i < 200; i++)
      n += (size_t)snprintf(vars + n, sizeof(vars) - n, "%s1", i ? "," : "");
    snprintf(vars + n, sizeof(vars) - n, "]}");
    CHECK_FAIL(render(boom, NULL, vars), VC_ETOOBIG);
    vc_template_free(boom);
  }
  /* The buffer keeps what it had when a render fails, and is replaced
   * when one succeeds. */
  {
    vc_template_render_spec r = VC_TEMPLATE_RENDER_SPEC_INIT;
    vc_buf b = VC_BUF_INIT;
    r.vars_json = "{\"a\":\"first\"}";
    CHECK_OK(vc_template_render(&b, tpl, &r));
    CHECK_STR(b.ptr, "first");
    r.vars_json = "{}";
    CHECK_FAIL(vc_template_render(&b, tpl, &r), VC_EINVALID);
    CHECK_STR(b.ptr, "first");
    r.vars_json = "{\"a\":\"second\"}";
    CHECK_OK(vc_template_render(&b, tpl, &r));
    CHECK_STR(b.ptr, "second");
    vc_buf_dispose(&b);
  }

  /* Nothing half-stored: only the good ones. */
  CHECK(raw_count("SELECT COUNT(*) FROM vc_template") == 4);
  CHECK(raw_count("SELECT COUNT(*) FROM vc_template_version") == 4);
  vc_template_free(tpl);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

#define NLIST 70

static void test_template__list_and_isolation(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *a = new_tenant(ctx, "a", "en"), *b = new_tenant(ctx, "b", "en");
  vc_template_filter f = VC_TEMPLATE_FILTER_INIT;
  static char ids[NLIST][VC_ID_SIZE];
  vc_template *tpl = NULL;
  vc_iter *it = NULL;
  char name[16], cursor[64];
  int n = 0, rc;

  for (int i = 0; i < NLIST; i++) {
    vc_template_spec s = VC_TEMPLATE_SPEC_INIT;
    snprintf(name, sizeof(name), "t%02d", i);
    s.name = name;
    s.kind = i % 2 ? VC_CHANNEL_EMAIL : VC_CHANNEL_SMS;
    s.text_body = "x";
    CHECK_OK(vc_template_new(&tpl, a, &s));
    snprintf(ids[i], VC_ID_SIZE, "%s", vc_template_id(tpl));
    vc_template_free(tpl);
  }
  CHECK_OK(vc_template_list(&it, a, NULL));
  while ((rc = vc_template_next(&tpl, it)) == 0) {
    CHECK(n < NLIST);
    CHECK_STR(vc_template_id(tpl), ids[n]);
    CHECK(vc_template_version(tpl) == 1);
    vc_template_free(tpl);
    n++;
  }
  CHECK_RC(rc, VC_ITEROVER);
  CHECK(n == NLIST);
  vc_iter_free(it);
  /* Resume, and filter by kind (an added variant counts). */
  CHECK_OK(vc_template_list(&it, a, NULL));
  for (n = 0; n < 55; n++) {
    CHECK_OK(vc_template_next(&tpl, it));
    vc_template_free(tpl);
  }
  snprintf(cursor, sizeof(cursor), "%s", vc_iter_cursor(it));
  vc_iter_free(it);
  f.after = cursor;
  CHECK_OK(vc_template_list(&it, a, &f));
  while (vc_template_next(&tpl, it) == 0) {
    CHECK_STR(vc_template_id(tpl), ids[n++]);
    vc_template_free(tpl);
  }
  vc_iter_free(it);
  CHECK(n == NLIST);
  CHECK_OK(vc_template_lookup(&tpl, a, "t00"));
  {
    vc_template_spec s = VC_TEMPLATE_SPEC_INIT;
    s.kind = VC_CHANNEL_EMAIL;
    s.text_body = "mail too";
    CHECK_OK(vc_template_add_variant(tpl, &s));
  }
  vc_template_free(tpl);
  f.after = NULL;
  f.kind = VC_CHANNEL_EMAIL;
  n = 0;
  CHECK_OK(vc_template_list(&it, a, &f));
  while (vc_template_next(&tpl, it) == 0) {
    vc_template_free(tpl);
    n++;
  }
  vc_iter_free(it);
  CHECK(n == NLIST / 2 + 1);
  f.kind = 99;
  CHECK_FAIL(vc_template_list(&it, a, &f), VC_EINVALID);
  f.kind = 0;
  f.after = "nope";
  CHECK_FAIL(vc_template_list(&it, a, &f), VC_EINVALID);
  CHECK_FAIL(vc_template_list(NULL, a, NULL), VC_EINVALID);
  CHECK_FAIL(vc_template_next(&tpl, NULL), VC_EINVALID);
  {
    vc_iter *ev = NULL;
    CHECK_OK(vc_events_since(&ev, a, 0));
    CHECK_FAIL(vc_template_next(&tpl, ev), VC_EINVALID);
    vc_iter_free(ev);
  }

  /* Tenant B: nothing of A's by id, by name or by listing. */
  tpl = (vc_template *)&tpl;
  CHECK_FAIL(vc_template_lookup(&tpl, b, ids[0]), VC_ENOTFOUND);
  CHECK(tpl == NULL);
  CHECK_FAIL(vc_template_lookup(&tpl, b, "t00"), VC_ENOTFOUND);
  CHECK_OK(vc_template_list(&it, b, NULL));
  CHECK_RC(vc_template_next(&tpl, it), VC_ITEROVER);
  vc_iter_free(it);
  /* B's own template of the same name is B's. */
  {
    vc_template *mine = new_sms(b, "t00", NULL, "B's {{x}}", NULL);
    CHECK_OK(render(mine, NULL, "{\"x\":1}"));
    CHECK_STR(out_text, "B's 1");
    CHECK_FAIL(vc_template_lookup(&tpl, a, vc_template_id(mine)),
               VC_ENOTFOUND);
    vc_template_free(mine);
  }
  /* A deleted tenant's templates are gone. */
  CHECK_OK(vc_template_lookup(&tpl, a, "t01"));
  CHECK_OK(vc_tenant_delete(a));
  CHECK_FAIL(render(tpl, NULL, "{}"), VC_ENOTFOUND);
  CHECK_FAIL(add_sms(tpl, "en", "late"), VC_ENOTFOUND);
  vc_template_free(tpl);
  CHECK_FAIL(vc_template_lookup(&tpl, a, "t02"), VC_ENOTFOUND);
  {
    vc_template_spec s = VC_TEMPLATE_SPEC_INIT;
    s.name = "new";
    s.kind = VC_CHANNEL_SMS;
    s.text_body = "x";
    CHECK_FAIL(vc_template_new(&tpl, a, &s), VC_ENOTFOUND);
  }
  vc_tenant_free(a);
  vc_tenant_free(b);
  vc_ctx_free(ctx);
}

static void test_template__events(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme", "pt-br");
  vc_template *tpl = new_sms(t, "ev", NULL, "x", NULL);
  const vc_event *ev = NULL;
  vc_iter *it = NULL;
  int n = 0;

  CHECK_OK(add_sms(tpl, "en", "y"));
  CHECK_OK(vc_events_since(&it, t, 0));
  while (vc_event_next(&ev, it) == 0) {
    if (n == 1) {
      CHECK_STR(ev->type, "template.created");
      CHECK_STR(ev->subject_id, vc_template_id(tpl));
      CHECK_STR(ev->payload_json, "{\"name\":\"ev\",\"version\":1,\"kind\":"
                "\"sms\",\"locale\":\"pt-BR\"}");
    } else if (n == 2) {
      CHECK_STR(ev->type, "template.version_added");
      CHECK_STR(ev->payload_json, "{\"name\":\"ev\",\"version\":2,\"kind\":"
                "\"sms\",\"locale\":\"en\"}");
    }
    n++;
  }
  vc_iter_free(it);
  CHECK(n == 3);
  vc_template_free(tpl);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

/* ---- threads ------------------------------------------------------ */

#define NTHREADS 8
#define NRENDERS 300

typedef struct worker {
  vc_template *tpl;     /* shared by every worker */
  vc_tenant *tenant;
  int id, failures;
} worker;

static void *render_worker(void *p)
{
  worker *w = p;
  char vars[128], want[256];
  vc_buf b = VC_BUF_INIT;

  for (int i = 0; i < NRENDERS; i++) {
    vc_template_render_spec r = VC_TEMPLATE_RENDER_SPEC_INIT;
    int hi = (i + w->id) % 2;
    snprintf(vars, sizeof(vars), "{\"name\":\"w%d-%d\",\"company\":\"C\"}",
             w->id, i);
    r.vars_json = vars;
    r.locale = hi ? "hi-IN" : "en";
    r.template_version = i % 3 == 0 ? 1 : 0;
    /* Version 1 had only "Hi" in en; partials are always the latest. */
    snprintf(want, sizeof(want), "%s w%d-%d\n-- C%s",
             r.template_version == 1 ? "Hi" : hi ? "Namaste" : "Hello",
             w->id, i, hi ? " (hi)" : "");
    if (vc_template_render(&b, w->tpl, &r) != 0 ||
        strcmp(b.ptr, want) != 0) {
      fprintf(stderr, "  worker %d render %d: '%s' (%s)\n", w->id, i,
              b.ptr ? b.ptr : "", vc_error_last()->message);
      w->failures++;
    }
    /* A bad render now and then, on the same shared handle. */
    if (i % 50 == 0) {
      r.vars_json = "{}";
      if (vc_template_render(&b, w->tpl, &r) != VC_EINVALID)
        w->failures++;
    }
  }
  vc_buf_dispose(&b);
  return NULL;
}

static void test_template__threads(void)
{
  vc_ctx *ctx = open_ctx();
  vc_tenant *t = new_tenant(ctx, "acme", "en");
  vc_template *footer = new_sms(t, "footer", "en", "-- {{company}}", NULL);
  vc_template *tpl = new_sms(t, "multi", "en", "Hi {{name}}\n{{> footer}}",
                             NULL);
  pthread_t th[NTHREADS];
  worker w[NTHREADS];

  CHECK_OK(add_sms(footer, "hi", "-- {{company}} (hi)"));
  CHECK_OK(add_sms(tpl, "en", "Hello {{name}}\n{{> footer}}"));
  CHECK_OK(add_sms(tpl, "hi", "Namaste {{name}}\n{{> footer}}"));
  for (int i = 0; i < NTHREADS; i++) {
    w[i].tpl = tpl;
    w[i].tenant = t;
    w[i].id = i;
    w[i].failures = 0;
    CHECK(pthread_create(&th[i], NULL, render_worker, &w[i]) == 0);
  }
  /* Meanwhile, other templates come and go. */
  for (int i = 0; i < 20; i++) {
    char name[16];
    vc_template *x;
    snprintf(name, sizeof(name), "side%d", i);
    x = new_sms(t, name, "en", "{{> footer}} side", NULL);
    CHECK_OK(add_sms(x, "hi", "side hi"));
    vc_template_free(x);
  }
  for (int i = 0; i < NTHREADS; i++) {
    pthread_join(th[i], NULL);
    CHECK(w[i].failures == 0);
  }
  vc_template_free(footer);
  vc_template_free(tpl);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

VC_TESTS(
  VC_TEST(test_template__create_and_render),
  VC_TEST(test_template__variants_and_locales),
  VC_TEST(test_template__versions_immutable),
  VC_TEST(test_template__escaping),
  VC_TEST(test_template__strict_and_optional),
  VC_TEST(test_template__partials),
  VC_TEST(test_template__bad_input),
  VC_TEST(test_template__list_and_isolation),
  VC_TEST(test_template__events),
  VC_TEST(test_template__threads),
)
