/*
 * Template internals: the compiled-template cache on its own (LRU order,
 * bounds, references that outlive an eviction, races between threads),
 * that a template is compiled once per context (hit and miss counters),
 * the message render of src/msg/template.h, and the root-name walk of
 * the Mustache engine that checks declared variables.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "msg/mustache.h"
#include "msg/template.h"
#include "msg/template_cache.h"
#include "store/db.h"
#include "harness.h"

#include <pthread.h>

#define TENANT "01HZZZZZZZZZZZZZZZZZZZZZZZ"

/* ---- helpers ------------------------------------------------------ */

/* A part compiled from `src` (NULL: an absent part). */
static vc__tpart make_part(const char *src)
{
  vc__tpart p;

  memset(&p, 0, sizeof(p));
  if (src != NULL) {
    p.len = strlen(src);
    CHECK_OK(vc__mustache_compile(&p.tpl, src, p.len));
    p.src = vc__strdup(src);
    CHECK(p.src != NULL);
  }
  return p;
}

static vc__tcache_key key_of(const char *template_id, int version)
{
  vc__tcache_key k = { TENANT, template_id, version, VC_CHANNEL_SMS, "en",
                       VC_TEMPLATE_PART_TEXT };
  return k;
}

static vc__tcache_stats stats(vc__tcache *c)
{
  vc__tcache_stats s;

  vc__tcache_stats_get(c, &s);
  return s;
}

/* Render a cached part with no data. */
static int renders_as(const vc__tpart *p, const char *want)
{
  vc_buf b = VC_BUF_INIT;
  int ok = vc__mustache_render(&b, p->tpl, NULL, NULL) == 0 &&
           strcmp(b.ptr, want) == 0;

  vc_buf_dispose(&b);
  return ok;
}

static vc_ctx *open_ctx(const char *path)
{
  vc_store *store = NULL;
  vc_ctx *ctx = NULL;
  vc_ctx_options o = VC_CTX_OPTIONS_INIT;

  CHECK_OK(vc_store_open_sqlite(&store, path, NULL));
  o.store = store;
  CHECK_OK(vc_ctx_new(&ctx, &o));
  return ctx;
}

static vc_tenant *new_tenant(vc_ctx *ctx, const char *slug)
{
  vc_tenant_spec s = VC_TENANT_SPEC_INIT;
  vc_tenant *t = NULL;

  s.slug = slug;
  s.locale = "en-IN";
  CHECK_OK(vc_tenant_new(&t, ctx, &s));
  return t;
}

static int render(vc_template *tpl, int version, const char *vars,
                  const char *want)
{
  vc_template_render_spec r = VC_TEMPLATE_RENDER_SPEC_INIT;
  vc_buf b = VC_BUF_INIT;
  int ok;

  r.vars_json = vars;
  r.template_version = version;
  ok = vc_template_render(&b, tpl, &r) == 0 && strcmp(b.ptr, want) == 0;
  if (!ok)
    fprintf(stderr, "  render: '%s' (%s)\n", b.ptr ? b.ptr : "",
            vc_error_last()->message);
  vc_buf_dispose(&b);
  return ok;
}

/* ---- the cache alone ---------------------------------------------- */

static void test_template_cache__lru(void)
{
  vc__tcache *c = NULL;
  const vc__tpart *r[4] = { NULL }, *x = NULL;
  vc__tcache_key k;
  vc__tpart p;

  CHECK_OK(vc__tcache_new(&c, 3, 0));
  for (int i = 0; i < 3; i++) {
    char src[16];
    snprintf(src, sizeof(src), "part %d", i);
    k = key_of("01HAAAAAAAAAAAAAAAAAAAAAAA", i + 1);
    p = make_part(src);
    CHECK_OK(vc__tcache_add(&r[i], c, &k, &p));
    CHECK(p.tpl == NULL && p.src == NULL);   /* moved into the cache */
    CHECK(renders_as(r[i], src));
  }
  CHECK(stats(c).entries == 3 && stats(c).inserts == 3);
  /* Touch version 1, so that version 2 is the oldest. */
  k = key_of("01HAAAAAAAAAAAAAAAAAAAAAAA", 1);
  CHECK_OK(vc__tcache_get(&x, c, &k));
  CHECK(x == r[0]);
  vc__tcache_release(c, x);
  CHECK(stats(c).hits == 1);
  /* A fourth evicts version 2, which is still referenced: it stays
   * usable until released. */
  k = key_of("01HAAAAAAAAAAAAAAAAAAAAAAA", 4);
  p = make_part("part 3");
  CHECK_OK(vc__tcache_add(&r[3], c, &k, &p));
  CHECK(stats(c).entries == 3 && stats(c).evictions == 1);
  k = key_of("01HAAAAAAAAAAAAAAAAAAAAAAA", 2);
  CHECK_RC(vc__tcache_get(&x, c, &k), VC_ENOTFOUND);
  CHECK(x == NULL);
  CHECK(stats(c).misses == 1);
  CHECK(renders_as(r[1], "part 1"));
  for (int i = 0; i < 4; i++)
    vc__tcache_release(c, r[i]);
  /* The others are still there. */
  for (int v = 1; v <= 4; v++) {
    k = key_of("01HAAAAAAAAAAAAAAAAAAAAAAA", v);
    CHECK_RC(vc__tcache_get(&x, c, &k), v == 2 ? VC_ENOTFOUND : 0);
    vc__tcache_release(c, x);
  }

  /* Adding a key that is there returns the cached part, and frees the
   * new one. */
  k = key_of("01HAAAAAAAAAAAAAAAAAAAAAAA", 1);
  p = make_part("another");
  CHECK_OK(vc__tcache_add(&x, c, &k, &p));
  CHECK(renders_as(x, "part 0"));
  vc__tcache_release(c, x);
  /* An absent part is cached too (a negative entry). */
  k = key_of("01HBBBBBBBBBBBBBBBBBBBBBBB", 1);
  k.part = VC_TEMPLATE_PART_HTML;
  p = make_part(NULL);
  CHECK_OK(vc__tcache_add(&x, c, &k, &p));
  CHECK(x->tpl == NULL);
  vc__tcache_release(c, x);
  CHECK_OK(vc__tcache_get(&x, c, &k));
  CHECK(x->tpl == NULL);
  vc__tcache_release(c, x);
  vc__tcache_release(c, NULL);
  vc__tcache_free(c);
  vc__tcache_free(NULL);
}

static void test_template_cache__byte_bound(void)
{
  vc__tcache *c = NULL;
  const vc__tpart *x = NULL;
  static char src[4096];
  vc__tcache_key k;
  vc__tpart p;

  memset(src, 'x', sizeof(src) - 1);
  /* Room for about three 4 KiB sources (each costs 4x its size). */
  CHECK_OK(vc__tcache_new(&c, 1000, 3 * 4 * 4096 + 3 * 256));
  for (int i = 1; i <= 10; i++) {
    k = key_of("01HAAAAAAAAAAAAAAAAAAAAAAA", i);
    p = make_part(src);
    CHECK_OK(vc__tcache_add(&x, c, &k, &p));
    vc__tcache_release(c, x);
  }
  CHECK(stats(c).entries == 3);
  CHECK(stats(c).evictions == 7);
  CHECK(stats(c).bytes <= 3 * 4 * 4096 + 3 * 256);
  /* An entry bigger than the whole budget still caches (alone). */
  vc__tcache_free(c);
  CHECK_OK(vc__tcache_new(&c, 10, 100));
  k = key_of("01HAAAAAAAAAAAAAAAAAAAAAAA", 1);
  p = make_part(src);
  CHECK_OK(vc__tcache_add(&x, c, &k, &p));
  vc__tcache_release(c, x);
  CHECK(stats(c).entries == 1);
  vc__tcache_free(c);
}

/* Many threads hitting, adding and evicting the same small cache. */
#define NTHREADS 8
#define ROUNDS 2000

typedef struct racer {
  vc__tcache *c;
  int id, failures;
} racer;

static void *race(void *arg)
{
  racer *r = arg;
  char src[32];

  for (int i = 0; i < ROUNDS; i++) {
    int v = (i * 7 + r->id * 3) % 24 + 1;
    vc__tcache_key k = key_of("01HAAAAAAAAAAAAAAAAAAAAAAA", v);
    const vc__tpart *x = NULL;

    snprintf(src, sizeof(src), "v%d", v);
    if (vc__tcache_get(&x, r->c, &k) == VC_ENOTFOUND) {
      /* No CHECK on this thread: it would jump across threads. */
      vc__tpart p;
      memset(&p, 0, sizeof(p));
      p.len = strlen(src);
      if (vc__mustache_compile(&p.tpl, src, p.len) != 0 ||
          (p.src = vc__strdup(src)) == NULL ||
          vc__tcache_add(&x, r->c, &k, &p) != 0) {
        vc__tpart_clear(&p);
        r->failures++;
        continue;
      }
    }
    if (!renders_as(x, src))
      r->failures++;
    vc__tcache_release(r->c, x);
  }
  return NULL;
}

static void test_template_cache__threads(void)
{
  vc__tcache *c = NULL;
  pthread_t th[NTHREADS];
  racer r[NTHREADS];
  vc__tcache_stats s;

  CHECK_OK(vc__tcache_new(&c, 8, 0));
  for (int i = 0; i < NTHREADS; i++) {
    r[i].c = c;
    r[i].id = i;
    r[i].failures = 0;
    CHECK(pthread_create(&th[i], NULL, race, &r[i]) == 0);
  }
  for (int i = 0; i < NTHREADS; i++) {
    pthread_join(th[i], NULL);
    CHECK(r[i].failures == 0);
  }
  s = stats(c);
  CHECK(s.hits + s.misses == (uint64_t)NTHREADS * ROUNDS);
  CHECK(s.entries <= 8);
  CHECK(s.evictions > 0);
  vc__tcache_free(c);
}

/* ---- compiled once, through the library ----------------------------- */

static void test_template_cache__compiled_once(void)
{
  const char *path = vc_test_path("once.db");
  vc_ctx *ctx = open_ctx(path);
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_template_spec s = VC_TEMPLATE_SPEC_INIT;
  vc_template *tpl = NULL;
  vc__tcache_stats before, after;

  s.name = "hello";
  s.kind = VC_CHANNEL_EMAIL;
  s.subject = "Hi {{name}}";
  s.text_body = "Hello {{name}}";
  s.html_body = "<p>Hello {{name}}</p>";
  CHECK_OK(vc_template_new(&tpl, t, &s));
  /* Creation compiled the three parts and handed them to the cache. */
  before = stats(ctx->templates);
  CHECK(before.inserts == 3 && before.entries == 3);
  for (int i = 0; i < 50; i++)
    CHECK(render(tpl, 0, "{\"name\":\"A\"}", "Hello A"));
  after = stats(ctx->templates);
  CHECK(after.hits == before.hits + 50);
  CHECK(after.misses == before.misses);
  CHECK(after.inserts == before.inserts);
  /* A new version: three more parts; the old ones stay cached. */
  s.name = NULL;
  s.text_body = "Hello again {{name}}";
  CHECK_OK(vc_template_add_variant(tpl, &s));
  CHECK(stats(ctx->templates).entries == 6);
  CHECK(render(tpl, 1, "{\"name\":\"A\"}", "Hello A"));
  CHECK(render(tpl, 2, "{\"name\":\"A\"}", "Hello again A"));
  CHECK(stats(ctx->templates).misses == before.misses);
  vc_template_free(tpl);
  vc_tenant_free(t);
  vc_ctx_free(ctx);

  /* Another context over the same store starts cold: the first render
   * of a variant compiles its three parts, the next ones hit. */
  ctx = open_ctx(path);
  CHECK_OK(vc_tenant_lookup(&t, ctx, "acme"));
  CHECK_OK(vc_template_lookup(&tpl, t, "hello"));
  before = stats(ctx->templates);
  CHECK(before.entries == 0);
  CHECK(render(tpl, 1, "{\"name\":\"B\"}", "Hello B"));
  after = stats(ctx->templates);
  CHECK(after.misses == 1 && after.inserts == 3);
  CHECK(render(tpl, 1, "{\"name\":\"C\"}", "Hello C"));
  CHECK(stats(ctx->templates).misses == 1);
  CHECK(stats(ctx->templates).hits == after.hits + 1);
  vc_template_free(tpl);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

/* ---- the render for messages --------------------------------------- */

static void test_template_cache__render_message(void)
{
  vc_ctx *ctx = open_ctx(":memory:");
  vc_tenant *t = new_tenant(ctx, "acme");
  vc_template_spec s = VC_TEMPLATE_SPEC_INIT;
  vc__template_request rq = { "welcome", VC_CHANNEL_EMAIL, "hi-IN", 0,
                              "{\"name\":\"<A>\"}" };
  vc__template_output out;
  vc_template *tpl = NULL;
  vc__db *db = NULL;

  s.name = "welcome";
  s.kind = VC_CHANNEL_EMAIL;
  s.locale = "en";
  s.subject = "Welcome {{name}}";
  s.text_body = "Hello {{name}}";
  s.html_body = "<b>{{name}}</b>";
  s.variables_json = "[\"name\"]";
  CHECK_OK(vc_template_new(&tpl, t, &s));
  s.name = NULL;
  s.kind = VC_CHANNEL_SMS;
  s.subject = s.html_body = NULL;
  s.text_body = "SMS {{name}}";
  CHECK_OK(vc_template_add_variant(tpl, &s));             /* v2 */
  s.kind = VC_CHANNEL_EMAIL;
  s.locale = "hi";
  s.subject = "Swagat {{name}}";
  s.text_body = NULL;
  s.html_body = "<i>{{name}}</i>";
  CHECK_OK(vc_template_add_variant(tpl, &s));             /* v3 */

  /* Every part of the best variant, with the version used. */
  CHECK_OK(vc__template_render_message(&out, t, NULL, &rq));
  CHECK_STR(out.template_id, vc_template_id(tpl));
  CHECK(out.version == 3);
  CHECK_STR(out.locale, "hi");
  CHECK_STR(out.subject.ptr, "Swagat <A>");
  CHECK(out.text.ptr == NULL);
  CHECK_STR(out.html.ptr, "<i>&lt;A&gt;</i>");
  vc__template_output_dispose(&out);
  CHECK(out.subject.ptr == NULL && out.version == 0);

  /* Pinned to version 1 (hi did not exist yet), by id, on the caller's
   * connection (the only one an in-memory store has). */
  rq.template_name = vc_template_id(tpl);
  rq.version = 1;
  CHECK_OK(vc__db_acquire(&db, ctx->store));
  CHECK_OK(vc__template_render_message(&out, t, db, &rq));
  vc__db_release(db);
  CHECK(out.version == 1);
  CHECK_STR(out.locale, "en");
  CHECK_STR(out.subject.ptr, "Welcome <A>");
  CHECK_STR(out.text.ptr, "Hello <A>");
  CHECK_STR(out.html.ptr, "<b>&lt;A&gt;</b>");
  vc__template_output_dispose(&out);

  /* SMS: text only. */
  rq.kind = VC_CHANNEL_SMS;
  rq.version = 0;
  rq.locale = NULL;
  CHECK_OK(vc__template_render_message(&out, t, NULL, &rq));
  CHECK(out.version == 3);
  CHECK(out.subject.ptr == NULL && out.html.ptr == NULL);
  CHECK_STR(out.text.ptr, "SMS <A>");
  vc__template_output_dispose(&out);

  /* Failures leave nothing behind. */
  rq.vars_json = "{}";
  CHECK_RC(vc__template_render_message(&out, t, NULL, &rq), VC_EINVALID);
  CHECK(out.text.ptr == NULL && out.template_id[0] == '\0');
  rq.vars_json = NULL;
  CHECK_RC(vc__template_render_message(&out, t, NULL, &rq), VC_EINVALID);
  rq.vars_json = "{\"name\":1}";
  rq.kind = VC_CHANNEL_CHAT;
  CHECK_RC(vc__template_render_message(&out, t, NULL, &rq), VC_ENOTFOUND);
  rq.kind = 0;
  CHECK_RC(vc__template_render_message(&out, t, NULL, &rq), VC_EINVALID);
  rq.kind = VC_CHANNEL_SMS;
  rq.version = 9;
  CHECK_RC(vc__template_render_message(&out, t, NULL, &rq), VC_ENOTFOUND);
  rq.version = 0;
  rq.template_name = "nope";
  CHECK_RC(vc__template_render_message(&out, t, NULL, &rq), VC_ENOTFOUND);
  rq.template_name = "Not A Name";
  CHECK_RC(vc__template_render_message(&out, t, NULL, &rq), VC_EINVALID);
  rq.template_name = "welcome";
  rq.locale = "??";
  CHECK_RC(vc__template_render_message(&out, t, NULL, &rq), VC_EINVALID);
  CHECK(out.text.ptr == NULL);
  vc_template_free(tpl);
  vc_tenant_free(t);
  vc_ctx_free(ctx);
}

/* ---- the engine's root names ------------------------------------------ */

static int collect(const char *name, int kind, void *p)
{
  vc_buf *b = p;

  return vc__buf_printf(b, "%d:%s ", kind, name);
}

static int stop_at_b(const char *name, int kind, void *p)
{
  (void)kind;
  ++*(int *)p;
  return strcmp(name, "b.c") == 0 ? VC_EUSER : 0;
}

static void test_template_cache__root_names(void)
{
  int calls = 0;
  vc__mustache *m = NULL;
  vc_buf b = VC_BUF_INIT;
  const char *src = "{{a}} {{#s}}{{in}}{{#t}}{{deeper}}{{/t}}{{/s}}"
                    "{{^inv}}{{b.c}}{{/inv}}{{{raw}}}{{> part}}{{.}}"
                    "{{#.}}{{x}}{{/.}}{{& amp}}";

  CHECK_OK(vc__mustache_compile(&m, src, strlen(src)));
  CHECK_OK(vc__mustache_root_names(m, collect, &b));
  CHECK_STR(b.ptr, "0:a 1:s 2:inv 0:b.c 0:raw 0:amp ");
  /* A non-zero return stops the walk and is returned. */
  CHECK_RC(vc__mustache_root_names(m, stop_at_b, &calls), VC_EUSER);
  CHECK(calls == 4);
  vc_buf_dispose(&b);
  vc__mustache_free(m);
}

VC_TESTS(
  VC_TEST(test_template_cache__lru),
  VC_TEST(test_template_cache__byte_bound),
  VC_TEST(test_template_cache__threads),
  VC_TEST(test_template_cache__compiled_once),
  VC_TEST(test_template_cache__render_message),
  VC_TEST(test_template_cache__root_names),
)
