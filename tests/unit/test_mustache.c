/*
 * Unit tests of the Mustache engine (src/msg/mustache.c): the official
 * spec files, read at run time, then our own rules: escaping per
 * channel, strict mode, limits, parse errors, name listing and
 * concurrent rendering of one compiled template.
 *
 * The spec directory is $VC_MUSTACHE_SPEC_DIR, else
 * $VC_SOURCE_ROOT/../shared/specs/mustache (meson sets VC_SOURCE_ROOT).
 */
#include "core/common.h"
#include "core/buf.h"
#include "msg/mustache.h"

#include <pthread.h>
#include <stdarg.h>

/* The harness keeps counters across its setjmp; gcc -O2 warns. */
#include "harness.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

/* Render `tpl` over the JSON text `json` with `o`; returns the code and
 * leaves the output (or "") in a static buffer at *res. */
static int render_with(const char *tpl, const char *json,
                       const vc__mustache_opts *o, const char **res)
{
  static char result[8192];
  vc__mustache *t = NULL;
  vc_buf out = VC_BUF_INIT;
  cJSON *data = NULL;
  int rc;

  result[0] = '\0';
  *res = result;
  if (json != NULL && (data = cJSON_Parse(json)) == NULL) {
    fprintf(stderr, "  bad test JSON: %s\n", json);
    return VC_ERROR;
  }
  if ((rc = vc__mustache_compile(&t, tpl, strlen(tpl))) < 0)
    goto out;
  rc = vc__mustache_render(&out, t, data, o);
  if (rc == 0)
    snprintf(result, sizeof(result), "%s", out.ptr ? out.ptr : "");
out:
  vc_buf_dispose(&out);
  vc__mustache_free(t);
  cJSON_Delete(data);
  return rc;
}

/* CHECK that `tpl` over `json` renders `want` with options `o`. */
#define CHECK_RENDER(o, tpl, json, want)                               \
  do {                                                                 \
    const char *got_;                                                  \
    CHECK_OK(render_with((tpl), (json), (o), &got_));                  \
    CHECK_STR(got_, (want));                                           \
  } while (0)

/* CHECK a failure: its code, class, and a fragment of its message. */
#define CHECK_FAILS(o, tpl, json, code, fragment)                      \
  do {                                                                 \
    const char *got_;                                                  \
    CHECK_RC(render_with((tpl), (json), (o), &got_), (code));          \
    CHECK(vc_error_last()->klass == VC_ERRCLASS_TEMPLATE);             \
    CHECK_MSG(fragment);                                               \
  } while (0)

#define CHECK_MSG(fragment)                                            \
  do {                                                                 \
    const char *m_ = vc_error_last()->message;                         \
    if (strstr(m_, (fragment)) == NULL) {                              \
      fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", m_,           \
              (fragment));                                             \
      CHECK(!"message");                                               \
    }                                                                  \
  } while (0)

/* Partials from a JSON object {name: source}. */
static int json_partial(const char **src, size_t *len, const char *name,
                        void *payload)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(payload, name);

  if (!cJSON_IsString(v))
    return VC_ENOTFOUND;
  *src = v->valuestring;
  *len = strlen(v->valuestring);
  return 0;
}

static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *d = NULL;
  long n;

  if (f == NULL)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (d = malloc((size_t)n + 1)) != NULL) {
    *len = fread(d, 1, (size_t)n, f);
    d[*len] = '\0';
  }
  fclose(f);
  return d;
}

/* ------------------------------------------------------------------ */
/* The official spec                                                   */

static const char *spec_dir(void)
{
  static char dir[1024];
  const char *env = getenv("VC_MUSTACHE_SPEC_DIR");
  const char *root = getenv("VC_SOURCE_ROOT");

  if (env != NULL && env[0] != '\0')
    snprintf(dir, sizeof(dir), "%s", env);
  else if (root != NULL && root[0] != '\0')
    snprintf(dir, sizeof(dir), "%s/../shared/specs/mustache", root);
  else
    return NULL;
  return access(dir, R_OK | X_OK) == 0 ? dir : NULL;
}

/* Run every test of one spec file; CHECK that all pass. */
static void run_spec(const char *file)
{
  const char *dir = spec_dir();
  char path[1200];
  char *text;
  size_t len = 0;
  cJSON *doc;
  const cJSON *tc;
  int ran = 0, failed = 0;

  if (dir == NULL) {
    printf("  %s: skipped: spec dir not found (set VC_MUSTACHE_SPEC_DIR "
           "or VC_SOURCE_ROOT)\n", file);
    return;
  }
  snprintf(path, sizeof(path), "%s/%s", dir, file);
  text = read_file(path, &len);
  if (text == NULL)
    fprintf(stderr, "  cannot read %s\n", path);
  CHECK(text != NULL);
  doc = cJSON_ParseWithLength(text, len);
  free(text);
  CHECK(doc != NULL);
  cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(doc, "tests")) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(tc, "name");
    const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(tc, "template");
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(tc, "expected");
    vc__mustache_opts o = VC__MUSTACHE_OPTS_INIT;
    vc__mustache *t = NULL;
    vc_buf out = VC_BUF_INIT;
    int rc;

    o.partial = json_partial;
    o.partial_payload = cJSON_GetObjectItemCaseSensitive(tc, "partials");
    ran++;
    rc = vc__mustache_compile(&t, tpl->valuestring,
                              strlen(tpl->valuestring));
    if (rc == 0)
      rc = vc__mustache_render(&out, t,
                               cJSON_GetObjectItemCaseSensitive(tc, "data"),
                               &o);
    if (rc != 0 || strcmp(out.ptr ? out.ptr : "", want->valuestring)) {
      failed++;
      fprintf(stderr, "  FAIL %s: %s\n    template: %s\n    expected: "
              "[%s]\n    got (%d %s): [%s]\n", file, name->valuestring,
              tpl->valuestring, want->valuestring, rc,
              rc ? vc_error_last()->message : "",
              out.ptr ? out.ptr : "");
    }
    vc_buf_dispose(&out);
    vc__mustache_free(t);
  }
  cJSON_Delete(doc);
  printf("  spec %s: %d ran, %d passed, %d failed\n", file, ran,
         ran - failed, failed);
  CHECK(ran > 0);
  CHECK(failed == 0);
}

static void test_mustache__spec_interpolation(void)
{
  run_spec("interpolation.json");
}

static void test_mustache__spec_sections(void)
{
  run_spec("sections.json");
}

static void test_mustache__spec_inverted(void)
{
  run_spec("inverted.json");
}

static void test_mustache__spec_comments(void)
{
  run_spec("comments.json");
}

static void test_mustache__spec_delimiters(void)
{
  run_spec("delimiters.json");
}

static void test_mustache__spec_partials(void)
{
  run_spec("partials.json");
}

/* ------------------------------------------------------------------ */
/* Escaping per channel                                                */

static void test_mustache__escaping(void)
{
  vc__mustache_opts html = VC__MUSTACHE_OPTS_INIT;
  vc__mustache_opts text = VC__MUSTACHE_OPTS_INIT;
  const char *data = "{\"x\": \"<a href='u'>\\\"R&D\\\"</a>\"}";

  text.escape_html = 0;
  CHECK_RENDER(&html, "{{x}}", data,
               "&lt;a href=&#39;u&#39;&gt;&quot;R&amp;D&quot;&lt;/a&gt;");
  CHECK_RENDER(&html, "{{{x}}}|{{&x}}", data,
               "<a href='u'>\"R&D\"</a>|<a href='u'>\"R&D\"</a>");
  CHECK_RENDER(&text, "{{x}}", data, "<a href='u'>\"R&D\"</a>");
  CHECK_RENDER(&text, "{{{x}}}", data, "<a href='u'>\"R&D\"</a>");
  /* Template text is never escaped; NULL options are the spec's. */
  CHECK_RENDER(NULL, "<b>{{x}}</b>", "{\"x\": \"&\"}", "<b>&amp;</b>");
  CHECK_RENDER(&html, "{{x}}", "{\"x\": \"नमस्ते & hi\"}",
               "नमस्ते &amp; hi");
}

/* Values the spec leaves open: numbers, booleans, what is falsy. */
static void test_mustache__values(void)
{
  CHECK_RENDER(NULL, "{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} {{g}}",
               "{\"a\": 1e20, \"b\": -0, \"c\": 0.30000000000000004, "
               "\"d\": 123456789012, \"e\": -2.5, \"f\": 1.5e-7, "
               "\"g\": 100}",
               "1e+20 0 0.30000000000000004 123456789012 -2.5 1.5e-07 100");
  CHECK_RENDER(NULL, "{{t}}/{{f}}/{{n}}/{{l}}/{{o}}",
               "{\"t\": true, \"f\": false, \"n\": null, \"l\": [1], "
               "\"o\": {}}", "true////");
  CHECK_RENDER(NULL,
               "{{#s}}s{{/s}}{{#z}}z{{/z}}{{#o}}o{{/o}}{{^e}}e{{/e}}",
               "{\"s\": \"\", \"z\": 0, \"o\": {}, \"e\": \"\"}", "zoe");
  /* A section over a scalar makes it the context for ".". */
  CHECK_RENDER(NULL, "{{#n}}[{{.}}]{{/n}}", "{\"n\": 7}", "[7]");
  /* No data at all is an empty context. */
  CHECK_RENDER(NULL, "a{{x}}b{{^x}}c{{/x}}", NULL, "abc");
  /* A root that is not an object. */
  CHECK_RENDER(NULL, "{{.}}{{x}}", "\"str\"", "str");
  /* CRLF lines and standalone tags. */
  CHECK_RENDER(NULL, "a\r\n  {{#x}}  \r\nb\r\n{{/x}}\r\nc",
               "{\"x\": true}", "a\r\nb\r\nc");
  /* Two tags on one line are not standalone. */
  CHECK_RENDER(NULL, "a\n{{#x}}{{/x}}\nb", "{\"x\": true}", "a\n\nb");
}

/* ------------------------------------------------------------------ */
/* Strict mode                                                         */

static void test_mustache__strict(void)
{
  static const char *const optional[] = { "title", "c.middle" };
  vc__mustache_opts o = VC__MUSTACHE_OPTS_INIT;
  const char *data = "{\"c\": {\"first\": \"Asha\", \"tags\": [1], "
                     "\"none\": null}, \"n\": 0}";

  o.strict = 1;
  CHECK_RENDER(&o, "{{c.first}} {{n}}{{c.none}}", data, "Asha 0");
  CHECK_FAILS(&o, "Hi\n{{c.first}} {{c.last}}", data, VC_EINVALID,
              "line 2: no value for 'c.last'");
  CHECK_FAILS(&o, "{{{missing}}}", data, VC_EINVALID,
              "no value for 'missing'");
  CHECK_FAILS(&o, "{{c.tags}}", data, VC_EINVALID,
              "'c.tags' is a list, not a value");
  CHECK_FAILS(&o, "{{c}}", data, VC_EINVALID,
              "'c' is an object, not a value");
  /* A broken dotted chain is missing too. */
  CHECK_FAILS(&o, "{{c.first.x}}", data, VC_EINVALID, "'c.first.x'");
  /* Missing sections are only false. */
  CHECK_RENDER(&o, "{{#gone}}x{{/gone}}{{^gone}}y{{/gone}}", data, "y");
  /* Inside a section the name is looked up in every context. */
  CHECK_FAILS(&o, "{{#c}}{{first}}{{zip}}{{/c}}", data, VC_EINVALID,
              "'zip'");
  /* Optional names, matched as written. */
  o.optional = optional;
  o.noptional = VC_ARRAY_SIZE(optional);
  CHECK_RENDER(&o, "{{title}}{{c.first}}{{c.middle}}", data, "Asha");
  CHECK_FAILS(&o, "{{middle}}", data, VC_EINVALID, "'middle'");
  /* Missing partials: an error in strict mode, nothing otherwise. */
  CHECK_FAILS(&o, "a\n{{>footer}}", data, VC_ENOTFOUND,
              "line 2: partial 'footer' not found");
  o.strict = 0;
  CHECK_RENDER(&o, "a{{>footer}}b{{nothing}}", data, "ab");
}

/* ------------------------------------------------------------------ */
/* Limits                                                              */

static char *repeat(const char *head, const char *unit, int n,
                    const char *tail)
{
  size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
  char *s = malloc(hl + ul * (size_t)n + tl + 1), *p = s;

  memcpy(p, head, hl);
  p += hl;
  for (int i = 0; i < n; i++, p += ul)
    memcpy(p, unit, ul);
  memcpy(p, tail, tl + 1);
  return s;
}

static void test_mustache__nesting_limit(void)
{
  char *open32 = repeat("", "{{#a}}", 32, "x");
  char *close32 = repeat(open32, "{{/a}}", 32, "");
  char *open33 = repeat("", "{{#a}}", 33, "x");
  char *close33 = repeat(open33, "{{/a}}", 33, "");
  int rc32, rc33;
  const char *got;

  rc32 = render_with(close32, "{\"a\": true}", NULL, &got);
  rc33 = render_with(close33, "{\"a\": true}", NULL, &got);
  free(open32);
  free(close32);
  free(open33);
  free(close33);
  CHECK_OK(rc32);
  CHECK_RC(rc33, VC_ETOOBIG);
  CHECK_MSG("line 1: sections nested deeper than 32");
}

static void test_mustache__partial_recursion_limit(void)
{
  vc__mustache_opts o = VC__MUSTACHE_OPTS_INIT;
  cJSON *parts = cJSON_Parse(
    "{\"loop\": \"x{{>loop}}\", \"deep\": \"{{#a}}{{>deep}}{{/a}}\","
    " \"node\": \"<{{#kids}}{{>node}}{{/kids}}>\"}");
  char *tree = repeat("", "{\"kids\": [", 17, "");
  char *tree2 = repeat(tree, "]}", 17, "");
  const char *got;
  int rc1, rc2, rc3, rc4;

  o.partial = json_partial;
  o.partial_payload = parts;
  /* Endless self-inclusion stops at depth 16, without a crash. */
  rc1 = render_with("{{>loop}}", "{}", &o, &got);
  /* Self-inclusion through a section with truthy data, likewise. */
  rc2 = render_with("{{>deep}}", "{\"a\": 1}", &o, &got);
  /* 16 levels of partials render; 17 are over the limit. */
  rc3 = render_with("{{#kids}}{{>node}}{{/kids}}", tree2, &o, &got);
  rc4 = render_with("{{>node}}", tree2, &o, &got);
  free(tree);
  free(tree2);
  cJSON_Delete(parts);
  CHECK_RC(rc1, VC_ETOOBIG);
  CHECK_RC(rc2, VC_ETOOBIG);
  CHECK_OK(rc3);
  CHECK_RC(rc4, VC_ETOOBIG);
  CHECK_MSG("partials nested deeper than 16 at 'node'");
}

static void test_mustache__source_limits(void)
{
  vc__mustache *t = NULL;
  char *big = malloc(VC__MUSTACHE_MAX_SOURCE + 1);

  memset(big, 'a', VC__MUSTACHE_MAX_SOURCE + 1);
  CHECK_RC(vc__mustache_compile(&t, big, VC__MUSTACHE_MAX_SOURCE + 1),
           VC_ETOOBIG);
  CHECK(vc_error_last()->klass == VC_ERRCLASS_TEMPLATE);
  CHECK(t == NULL);
  CHECK_OK(vc__mustache_compile(&t, big, VC__MUSTACHE_MAX_SOURCE));
  vc__mustache_free(t);
  t = NULL;
  free(big);

  CHECK_RC(vc__mustache_compile(&t, "ok \xc3\x28", 5), VC_EENCODING);
  CHECK_RC(vc__mustache_compile(&t, "\xed\xa0\x80", 3), VC_EENCODING);
  CHECK_RC(vc__mustache_compile(&t, "a\0b", 3), VC_EENCODING);
  CHECK_MSG("NUL");
  CHECK(t == NULL);
  /* An empty template renders nothing. */
  CHECK_OK(vc__mustache_compile(&t, "", 0));
  vc__mustache_free(t);
  CHECK_RC(vc__mustache_compile(NULL, "", 0), VC_EINVALID);
}

static void test_mustache__output_limit(void)
{
  vc__mustache_opts o = VC__MUSTACHE_OPTS_INIT;
  vc__mustache *t = NULL;
  vc_buf out = VC_BUF_INIT;
  cJSON *data = cJSON_Parse("{\"l\": [1,2,3,4,5,6,7,8,9,10]}");
  int rc1, rc2;

  CHECK_OK(vc__mustache_compile(&t, "{{#l}}<{{.}}>{{/l}}", 19));
  CHECK_OK(vc__buf_puts(&out, "keep:"));
  o.max_output = 31;   /* "<1>".."<9>" is 27, "<10>" makes 31 */
  rc1 = vc__mustache_render(&out, t, data, &o);
  o.max_output = 30;
  rc2 = vc__mustache_render(&out, t, data, &o);
  vc__mustache_free(t);
  cJSON_Delete(data);
  /* The failed render left the earlier output as it was. */
  if (rc1 == 0 && rc2 == VC_ETOOBIG)
    CHECK_STR(out.ptr, "keep:<1><2><3><4><5><6><7><8><9><10>");
  vc_buf_dispose(&out);
  CHECK_OK(rc1);
  CHECK_RC(rc2, VC_ETOOBIG);
  CHECK_MSG("output over the 30 byte limit");
  /* Escaped expansions count as what they expand to. */
  o.max_output = 20;
  CHECK_RENDER(&o, "{{x}}", "{\"x\": \"&&&&\"}", "&amp;&amp;&amp;&amp;");
  o.max_output = 19;
  CHECK_FAILS(&o, "{{x}}", "{\"x\": \"&&&&\"}", VC_ETOOBIG, "19 byte");
}

static void test_mustache__work_limit(void)
{
  /* 1000^4 iterations that print nothing must stop, not spin. */
  char *list = repeat("{\"l\": [0", ",0", 999, "]}");
  const char *got;
  int rc = render_with("{{#l}}{{#l}}{{#l}}{{#l}}{{/l}}{{/l}}{{/l}}{{/l}}",
                       list, NULL, &got);

  free(list);
  CHECK_RC(rc, VC_ETOOBIG);
  CHECK_MSG("work limit");
}

/* ------------------------------------------------------------------ */
/* Parse errors                                                        */

static void check_parse_error(const char *tpl, int code,
                              const char *fragment)
{
  vc__mustache *t = NULL;
  int rc = vc__mustache_compile(&t, tpl, strlen(tpl));

  if (rc != code)
    fprintf(stderr, "  template [%s] gave %d, not %d\n", tpl, rc, code);
  vc__mustache_free(t);
  CHECK(rc == code);
  CHECK(t == NULL);
  CHECK(vc_error_last()->klass == VC_ERRCLASS_TEMPLATE);
  CHECK(strchr(vc_error_last()->message, '\n') == NULL);
  CHECK_MSG(fragment);
}

static void test_mustache__parse_errors(void)
{
  check_parse_error("a\n\n{{#items}}\n{{name}}\n", VC_EINVALID,
                    "line 3: unclosed section 'items'");
  check_parse_error("{{#a}}\n{{#b}}\n{{/a}}\n", VC_EINVALID,
                    "line 3: closing tag 'a' does not match section 'b' "
                    "opened on line 2");
  check_parse_error("x\n{{/a}}", VC_EINVALID,
                    "line 2: closing tag 'a' has no open section");
  check_parse_error("hello\nworld {{name", VC_EINVALID,
                    "line 2: unclosed tag: no '}}' after '{{'");
  check_parse_error("{{{name}}", VC_EINVALID,
                    "line 1: unclosed tag: no '}}}' after '{{'");
  check_parse_error("\n{{! never closed", VC_EINVALID, "line 2: unclosed");
  check_parse_error("{{=<% %>=}}\n<%x", VC_EINVALID,
                    "line 2: unclosed tag: no '%>' after '<%'");
  check_parse_error("a\n{{= <% =}}", VC_EINVALID,
                    "line 2: bad delimiters '<%'");
  check_parse_error("{{=a b c=}}", VC_EINVALID, "bad delimiters");
  check_parse_error("{{=a= b=}}", VC_EINVALID, "bad delimiters");
  check_parse_error("{{=a b", VC_EINVALID, "unclosed tag");
  check_parse_error("{{ }}", VC_EINVALID, "line 1: empty tag name");
  check_parse_error("{{first name}}", VC_EINVALID,
                    "invalid tag name 'first name'");
  check_parse_error("{{a..b}}", VC_EINVALID, "invalid tag name 'a..b'");
  check_parse_error("{{#.a}}{{/.a}}", VC_EINVALID, "invalid tag name");
  check_parse_error("{{a.}}", VC_EINVALID, "invalid tag name");
}

/* ------------------------------------------------------------------ */
/* Names                                                               */

typedef struct seen {
  char text[512];
  int stop_at;
  int count;
} seen;

static int collect(const char *name, int kind, void *p)
{
  seen *s = p;
  size_t n = strlen(s->text);

  snprintf(s->text + n, sizeof(s->text) - n, "%s%c%s",
           n ? " " : "", "vs^>"[kind], name);
  return ++s->count == s->stop_at ? VC_EUSER : 0;
}

static void test_mustache__names(void)
{
  const char *src = "Dear {{c.first}}, {{! not a name }}{{#items}}"
                    "{{{.}}}{{& sku}}{{/items}}{{^items}}none{{/items}}"
                    "{{=<% %>=}}<%> footer%><%total%>";
  vc__mustache *t = NULL;
  seen s = { "", 0, 0 };

  CHECK_OK(vc__mustache_compile(&t, src, strlen(src)));
  CHECK_OK(vc__mustache_names(t, collect, &s));
  CHECK_STR(s.text, "vc.first sitems vsku ^items >footer vtotal");
  memset(&s, 0, sizeof(s));
  s.stop_at = 2;
  CHECK_RC(vc__mustache_names(t, collect, &s), VC_EUSER);
  CHECK(s.count == 2);
  vc__mustache_free(t);
}

/* ------------------------------------------------------------------ */
/* Partials: indentation, caching, callback errors                     */

typedef struct counting {
  cJSON *parts;
  int calls;
  int fail;
} counting;

static int counting_partial(const char **src, size_t *len,
                            const char *name, void *payload)
{
  counting *c = payload;

  c->calls++;
  if (c->fail)
    return vc__error_set(VC_ERRCLASS_STORAGE, VC_ESTORAGE, "disk gone");
  return json_partial(src, len, name, c->parts);
}

static void test_mustache__partials(void)
{
  vc__mustache_opts o = VC__MUSTACHE_OPTS_INIT;
  counting c = { NULL, 0, 0 };
  const char *got;
  int rc;

  c.parts = cJSON_Parse("{\"item\": \"- {{.}}\\n\", \"row\": \"- {{v}}\\n\","
                        " \"box\": \"[\\n  {{>row}}\\n]\\n\","
                        " \"bad\": \"{{#x}}\"}");
  o.partial = counting_partial;
  o.partial_payload = &c;
  /* Fetched and compiled once per render, however often used. */
  rc = render_with("{{#l}}{{>item}}{{/l}}", "{\"l\": [1, 2, 3]}", &o,
                   &got);
  if (rc == 0)
    rc = strcmp(got, "- 1\n- 2\n- 3\n") == 0 ? 0 : VC_ERROR;
  CHECK(c.calls == 1);
  /* Indentation adds up through nested standalone partials. */
  if (rc == 0)
    rc = render_with("  {{>box}}\nend", "{\"v\": 5}", &o, &got);
  if (rc == 0 && strcmp(got, "  [\n    - 5\n  ]\nend") != 0) {
    fprintf(stderr, "  got [%s]\n", got);
    rc = VC_ERROR;
  }
  CHECK_OK(rc);
  /* A broken partial names itself. */
  rc = render_with("{{>bad}}", "{}", &o, &got);
  CHECK(rc == VC_EINVALID);
  CHECK_MSG("partial 'bad': line 1: unclosed section 'x'");
  /* A callback failure passes through unchanged. */
  c.fail = 1;
  rc = render_with("{{>item}}", "{}", &o, &got);
  cJSON_Delete(c.parts);
  CHECK_RC(rc, VC_ESTORAGE);
  CHECK(vc_error_last()->klass == VC_ERRCLASS_STORAGE);
  CHECK_MSG("disk gone");
}

typedef struct fixed_partial {
  const char *src;
  size_t len;
} fixed_partial;

/* Every partial has the same source (possibly NULL). */
static int fixed_source(const char **src, size_t *len, const char *name,
                        void *payload)
{
  fixed_partial *f = payload;

  (void)name;
  *src = f->src;
  *len = f->len;
  return 0;
}

static void test_mustache__partial_limits(void)
{
  vc__mustache_opts o = VC__MUSTACHE_OPTS_INIT;
  fixed_partial f = { NULL, 5 };
  char *lines = repeat("", "a\n", VC__MUSTACHE_MAX_SOURCE / 2, "");
  char *deep = repeat("", "{{#a}}", 9, "{{>d}}{{/a}}{{/a}}{{/a}}{{/a}}"
                      "{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}");
  const char *got;
  int rc1, rc2, rc3, rc4, rc5;

  o.partial = fixed_source;
  o.partial_payload = &f;
  /* A callback that returns no source. */
  rc1 = render_with("{{>p}}", "{}", &o, &got);
  /* A partial over the source limit. */
  f.src = lines;
  f.len = VC__MUSTACHE_MAX_SOURCE + 1;
  rc2 = render_with("{{>p}}", "{}", &o, &got);
  /* 32768 lines indented by 8 fit in 4 times the limit; by 16 not. */
  f.len = VC__MUSTACHE_MAX_SOURCE;
  rc3 = render_with("        {{>p}}", "{}", &o, &got);
  rc4 = render_with("                {{>p}}", "{}", &o, &got);
  /* Sections nest through partials: bounded before the C stack is. */
  f.src = deep;
  f.len = strlen(deep);
  rc5 = render_with("{{>d}}", "{\"a\": true}", &o, &got);
  free(lines);
  free(deep);
  CHECK_RC(rc1, VC_EINVALID);
  CHECK_RC(rc2, VC_ETOOBIG);
  CHECK_OK(rc3);
  CHECK_RC(rc4, VC_ETOOBIG);
  CHECK_RC(rc5, VC_ETOOBIG);
  CHECK_MSG("partial 'd': line 1: sections nested deeper than 128 "
            "through partials");
}

/* ------------------------------------------------------------------ */
/* Concurrency                                                         */

#define THREADS 8
#define ROUNDS 300

typedef struct job {
  const vc__mustache *t;
  const cJSON *data;
  const char *want;
  int bad;
} job;

static void *render_many(void *arg)
{
  job *j = arg;
  vc__mustache_opts o = VC__MUSTACHE_OPTS_INIT;

  o.partial = json_partial;
  o.partial_payload = cJSON_GetObjectItemCaseSensitive(j->data,
                                                       "partials");
  for (int i = 0; i < ROUNDS; i++) {
    vc_buf out = VC_BUF_INIT;

    if (vc__mustache_render(&out, j->t, j->data, &o) != 0 ||
        strcmp(out.ptr, j->want) != 0)
      j->bad++;
    vc_buf_dispose(&out);
  }
  return NULL;
}

static void test_mustache__threads(void)
{
  const char *src = "{{#people}}\n  {{>row}}\n{{/people}}{{total}}";
  const char *json = "{\"people\": [{\"n\": \"A&B\"}, {\"n\": \"C\"}], "
                     "\"total\": 2, \"partials\": {\"row\": "
                     "\"<{{n}}>\\n\"}}";
  vc__mustache *t = NULL;
  cJSON *data = cJSON_Parse(json);
  pthread_t th[THREADS];
  job jobs[THREADS];
  int started = 0, bad = 0;

  CHECK(data != NULL);
  CHECK_OK(vc__mustache_compile(&t, src, strlen(src)));
  for (int i = 0; i < THREADS; i++) {
    jobs[i] = (job){ t, data, "  <A&amp;B>\n  <C>\n2", 0 };
    if (pthread_create(&th[i], NULL, render_many, &jobs[i]) == 0)
      started++;
  }
  for (int i = 0; i < started; i++) {
    pthread_join(th[i], NULL);
    bad += jobs[i].bad;
  }
  vc__mustache_free(t);
  cJSON_Delete(data);
  CHECK(started == THREADS);
  CHECK(bad == 0);
}

VC_TESTS(
  VC_TEST(test_mustache__spec_interpolation),
  VC_TEST(test_mustache__spec_sections),
  VC_TEST(test_mustache__spec_inverted),
  VC_TEST(test_mustache__spec_comments),
  VC_TEST(test_mustache__spec_delimiters),
  VC_TEST(test_mustache__spec_partials),
  VC_TEST(test_mustache__escaping),
  VC_TEST(test_mustache__values),
  VC_TEST(test_mustache__strict),
  VC_TEST(test_mustache__nesting_limit),
  VC_TEST(test_mustache__partial_recursion_limit),
  VC_TEST(test_mustache__source_limits),
  VC_TEST(test_mustache__output_limit),
  VC_TEST(test_mustache__work_limit),
  VC_TEST(test_mustache__parse_errors),
  VC_TEST(test_mustache__names),
  VC_TEST(test_mustache__partials),
  VC_TEST(test_mustache__partial_limits),
  VC_TEST(test_mustache__threads),
)
