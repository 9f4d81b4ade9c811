/*
 * Templates: variants per kind and locale in immutable versions, compiled
 * with the Mustache engine (mustache.h), cached per context
 * (template_cache.h). See vyomcomm/template.h for the rules.
 *
 * A render runs in two phases: first, holding a store connection, it
 * resolves the variant (kind, locale fallback, version) and every partial
 * it needs, taking references to their compiled parts from the cache
 * (compiling what is missing); then, holding no connection, it renders.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/iter.h"
#include "core/json.h"
#include "core/tenant.h"
#include "core/text.h"
#include "msg/mustache.h"
#include "msg/template.h"
#include "msg/template_cache.h"

#include <stddef.h>
#include <stdio.h>

#define PAGE 50
#define VAR_NAME_MAX 128
#define VARIABLES_JSON_MAX (64 * 1024)
#define PARTIALS_MAX 32          /* distinct partials one part may use */
#define NAMES_MAX 1024           /* distinct names one part may use */
#define CHAIN_MAX 4
#define NPARTS 3                 /* indexed by vc_template_part - 1 */
#define ALL_PARTS 7u
#define BIT(part) (1u << ((part) - 1))

static const char *const PART_FIELD[NPARTS] = { "text_body", "html_body",
                                                "subject" };

/* ---- SQL -------------------------------------------------------------- */

#define TPL_COLUMNS \
  "tp.tenant_id, tp.id, tp.name, tp.created_at," \
  " (SELECT MAX(v.version) FROM vc_template_version v" \
  "  WHERE v.tenant_id = tp.tenant_id AND v.template_id = tp.id)," \
  " (SELECT v.kind FROM vc_template_version v" \
  "  WHERE v.tenant_id = tp.tenant_id AND v.template_id = tp.id" \
  "  AND v.version = 1), t.locale, tp.category"
/* Only templates of live tenants. */
#define LIVE " JOIN vc_tenant t ON t.id = tp.tenant_id AND t.deleted_at IS NULL"

static const char SQL_BY_KEY[] =
  "SELECT " TPL_COLUMNS " FROM vc_template tp" LIVE
  " WHERE tp.tenant_id = ?1 AND (tp.id = ?2 OR tp.name = ?2)"
  " ORDER BY tp.id = ?2 DESC LIMIT 1";
static const char SQL_BY_NAME[] =
  "SELECT " TPL_COLUMNS " FROM vc_template tp" LIVE
  " WHERE tp.tenant_id = ?1 AND tp.name = ?2";
static const char SQL_PAGE[] =
  "SELECT " TPL_COLUMNS " FROM vc_template tp" LIVE
  " WHERE tp.tenant_id = ?1 AND tp.id > ?2 AND (?3 = 0 OR EXISTS"
  " (SELECT 1 FROM vc_template_version v WHERE v.tenant_id = tp.tenant_id"
  " AND v.template_id = tp.id AND v.kind = ?3)) ORDER BY tp.id LIMIT 50";
static const char SQL_TENANT_LOCALE[] =
  "SELECT locale FROM vc_tenant WHERE id = ?1 AND deleted_at IS NULL";
static const char SQL_INSERT_TEMPLATE[] =
  "INSERT INTO vc_template (tenant_id, id, name, created_at, category)"
  " VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_SET_CATEGORY[] =
  "UPDATE vc_template SET category = ?3 WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_INSERT_VERSION[] =
  "INSERT INTO vc_template_version (tenant_id, template_id, version, kind,"
  " locale, subject, text_body, html_body, variables, created_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
/* The next version, how many variants there are, and whether this kind
 * and locale is one of them. */
static const char SQL_NEXT_VERSION[] =
  "SELECT COALESCE(MAX(version), 0) + 1,"
  " COUNT(DISTINCT kind || '/' || locale),"
  " COALESCE(SUM(CASE WHEN kind = ?3 AND locale = ?4 THEN 1 ELSE 0 END), 0)"
  " FROM vc_template_version WHERE tenant_id = ?1 AND template_id = ?2";
/* Per locale, the newest row of a kind at or before a version. */
static const char SQL_VARIANTS[] =
  "SELECT locale, MAX(version) FROM vc_template_version"
  " WHERE tenant_id = ?1 AND template_id = ?2 AND kind = ?3"
  " AND version <= ?4 GROUP BY locale";
static const char SQL_BODY[] =
  "SELECT subject, text_body, html_body, variables FROM vc_template_version"
  " WHERE tenant_id = ?1 AND template_id = ?2 AND version = ?3";

/* ---- rows and handles ------------------------------------------------- */

typedef struct tpl_row {
  char tenant_id[VC_ID_SIZE];
  char id[VC_ID_SIZE];
  char name[VC_TEMPLATE_NAME_MAX + 1];
  int64_t created_at;
  int latest;                      /* its newest version */
  int kind;                        /* of version 1 */
  char tenant_locale[VC__LOCALE_MAX + 1];
  int category;                    /* a vc_category */
} tpl_row;

struct vc_template {
  vc_ctx *ctx;
  pthread_mutex_t lock;
  tpl_row row;          /* only `latest` and `category` change, under lock */
};

static void row_from_stmt(tpl_row *r, vc__stmt *s)
{
  const char *loc = vc__stmt_text(s, 6);

  memset(r, 0, sizeof(*r));
  snprintf(r->tenant_id, sizeof(r->tenant_id), "%s", vc__stmt_text(s, 0));
  snprintf(r->id, sizeof(r->id), "%s", vc__stmt_text(s, 1));
  snprintf(r->name, sizeof(r->name), "%s", vc__stmt_text(s, 2));
  r->created_at = vc__stmt_int64(s, 3);
  r->latest = (int)vc__stmt_int64(s, 4);
  r->kind = (int)vc__stmt_int64(s, 5);
  snprintf(r->tenant_locale, sizeof(r->tenant_locale), "%s",
           loc ? loc : "");
  r->category = (int)vc__stmt_int64(s, 7);
}

/* One template row by `sql` (?1 tenant, ?2 key). VC_ENOTFOUND quietly
 * when there is none: callers word the message. */
static int load_row(tpl_row *out, vc__db *db, const char *sql,
                    const char *tenant_id, const char *key)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, sql, "tt", tenant_id, key)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    row_from_stmt(out, s);
    rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = VC_ENOTFOUND;
  }
  vc__stmt_done(s);
  return rc;
}

static int not_found(const char *key)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "no template '%.64s'", key);
}

static int handle_new(vc_template **out, vc_ctx *ctx, const tpl_row *row)
{
  vc_template *t = vc__calloc(1, sizeof(*t));

  if (t == NULL)
    return vc_error_set_oom();
  t->ctx = ctx;
  t->row = *row;
  pthread_mutex_init(&t->lock, NULL);
  *out = t;
  return 0;
}

static int kind_valid(int kind)
{
  return kind >= VC_CHANNEL_EMAIL && kind <= VC_CHANNEL_VOICE;
}

static int check_name(const char *name)
{
  return vc__check_token("template name", name, VC_TEMPLATE_NAME_MAX,
                         "a-z0-9", "a-z0-9_.-");
}

static int check_key(const char *key)
{
  return vc__ulid_valid(key) ? 0 : check_name(key);
}

/* ---- locales ---------------------------------------------------------- */

static int is_alpha(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static char upper(char c)
{
  return c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
}

/*
 * A BCP 47 tag in canonical case: language lowercase, a four-letter
 * script in title case, a two-letter region in upper case, the rest
 * lowercase ("zh-hant-tw" -> "zh-Hant-TW"). -1 when malformed: subtags
 * of 1..8 letters and digits, a language of 2..8 letters.
 */
static int canon(char out[VC__LOCALE_MAX + 1], const char *in)
{
  size_t n = strnlen(in, VC__LOCALE_MAX + 1), i = 0, sub = 0;

  if (n == 0 || n > VC__LOCALE_MAX)
    return -1;
  while (i <= n) {
    size_t start = i, len, letters = 0;

    while (i < n && in[i] != '-')
      i++;
    len = i - start;
    if (len == 0 || len > 8)
      return -1;
    for (size_t k = start; k < i; k++) {
      char c = in[k];
      if (is_alpha(c))
        letters++;
      else if (c < '0' || c > '9')
        return -1;
    }
    if (sub == 0 && (len < 2 || letters != len))
      return -1;
    for (size_t k = start; k < i; k++) {
      if (sub > 0 && len == 4 && letters == 4)
        out[k] = k == start ? upper(in[k]) : lower(in[k]);
      else if (sub > 0 && len == 2 && letters == 2)
        out[k] = upper(in[k]);
      else
        out[k] = lower(in[k]);
    }
    if (i < n)
      out[i] = '-';
    i++;
    sub++;
  }
  out[n] = '\0';
  return 0;
}

static int check_locale(char out[VC__LOCALE_MAX + 1], const char *in,
                        const char *field)
{
  return vc__locale_check(out, in, field);
}

int vc__locale_check(char out[VC__LOCALE_MAX + 1], const char *in,
                     const char *field)
{
  int rc;

  if ((rc = vc__check_token(field, in, VC__LOCALE_MAX, "A-Za-z",
                            "A-Za-z0-9-")) < 0)
    return rc;
  if (canon(out, in) < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is not a BCP 47 language tag", field);
  return 0;
}

/* The locales a render tries, best first. */
typedef struct chain {
  char loc[CHAIN_MAX][VC__LOCALE_MAX + 1];
  int n;
} chain;

static void chain_add(chain *c, const char *s, size_t len)
{
  if (len == 0 || len > VC__LOCALE_MAX || c->n == CHAIN_MAX)
    return;
  for (int i = 0; i < c->n; i++)
    if (strlen(c->loc[i]) == len && memcmp(c->loc[i], s, len) == 0)
      return;
  memcpy(c->loc[c->n], s, len);
  c->loc[c->n++][len] = '\0';
}

/* The locale, its language, the tenant's locale, its language. */
static void chain_build(chain *c, const char *want, const char *tenant)
{
  char t[VC__LOCALE_MAX + 1];

  c->n = 0;
  if (want != NULL) {
    chain_add(c, want, strlen(want));
    chain_add(c, want, strcspn(want, "-"));
  }
  if (canon(t, tenant) == 0) {
    chain_add(c, t, strlen(t));
    chain_add(c, t, strcspn(t, "-"));
  }
}

static void chain_text(char *buf, size_t size, const chain *c)
{
  size_t used = 0;

  buf[0] = '\0';
  for (int i = 0; i < c->n && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%s",
                             i ? ", " : "", c->loc[i]);
}

/* ---- declared variables ------------------------------------------------ */

typedef struct decls {
  int declared;            /* 0: none declared, anything goes */
  char **names;            /* without the '?' */
  int *optional;
  size_t n;
} decls;

static void decls_free(decls *d)
{
  for (size_t i = 0; i < d->n; i++)
    vc__free(d->names[i]);
  vc__free(d->names);
  vc__free(d->optional);
  memset(d, 0, sizeof(*d));
}

/* [A-Za-z_][A-Za-z0-9_-]* segments, separated by single dots. */
static int var_name_ok(const char *s, size_t n)
{
  int seg_start = 1;

  if (n == 0 || n > VAR_NAME_MAX || !(is_alpha(s[0]) || s[0] == '_'))
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '.') {
      if (seg_start)
        return 0;
      seg_start = 1;
      continue;
    }
    if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '_' && c != '-')
      return 0;
    seg_start = 0;
  }
  return !seg_start;
}

/*
 * Parse declared variables (NULL: none declared). With `normalized`, the
 * compact JSON to store is returned too (NULL when none declared).
 */
static int decls_parse(decls *d, const char *json, char **normalized)
{
  cJSON *arr = NULL;
  const cJSON *it;
  int rc;

  memset(d, 0, sizeof(*d));
  if (normalized != NULL)
    *normalized = NULL;
  if (json == NULL)
    return 0;
  if ((rc = vc__json_parse(&arr, "variables_json", json, VARIABLES_JSON_MAX,
                           2, 0)) < 0)
    return rc;
  rc = 0;
  if (!cJSON_IsArray(arr)) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "variables_json is not a JSON array of names");
    goto out;
  }
  d->declared = 1;
  if ((size_t)cJSON_GetArraySize(arr) > VC_TEMPLATE_VARIABLES_MAX) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                       "variables_json declares more than %d names",
                       VC_TEMPLATE_VARIABLES_MAX);
    goto out;
  }
  d->names = vc__calloc(VC_TEMPLATE_VARIABLES_MAX + 1, sizeof(*d->names));
  d->optional = vc__calloc(VC_TEMPLATE_VARIABLES_MAX + 1, sizeof(int));
  if (d->names == NULL || d->optional == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  cJSON_ArrayForEach(it, arr) {
    const char *s = cJSON_IsString(it) ? it->valuestring : NULL;
    size_t n = s ? strlen(s) : 0;
    int opt = n > 0 && s[n - 1] == '?';

    if (s == NULL || !var_name_ok(s, n - (size_t)opt)) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "variables_json: entry %zu is not a variable "
                         "name", d->n + 1);
      goto out;
    }
    for (size_t i = 0; i < d->n; i++)
      if (strlen(d->names[i]) == n - (size_t)opt &&
          memcmp(d->names[i], s, n - (size_t)opt) == 0) {
        rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                           "variables_json declares '%.*s' twice",
                           (int)(n - (size_t)opt), s);
        goto out;
      }
    if ((d->names[d->n] = vc__strndup(s, n - (size_t)opt)) == NULL) {
      rc = vc_error_set_oom();
      goto out;
    }
    d->optional[d->n++] = opt;
  }
  if (normalized != NULL) {
    char *text = cJSON_PrintUnformatted(arr);
    if (text == NULL || (*normalized = vc__strdup(text)) == NULL)
      rc = vc_error_set_oom();
    cJSON_free(text);
  }
out:
  cJSON_Delete(arr);
  if (rc < 0)
    decls_free(d);
  return rc;
}

/* `used` is `decl`, lies under it ("a.b" under "a"), or contains it ("a"
 * holds "a.b"). */
static int name_covers(const char *decl, const char *used)
{
  size_t dn = strlen(decl), un = strlen(used);

  if (dn == un)
    return memcmp(decl, used, dn) == 0;
  if (un > dn)
    return memcmp(decl, used, dn) == 0 && used[dn] == '.';
  return memcmp(decl, used, un) == 0 && decl[un] == '.';
}

/* ---- compiled parts ----------------------------------------------------- */

static int push_unique(char ***v, size_t *n, size_t max, const char *s,
                       const char *what)
{
  char **grown;

  for (size_t i = 0; i < *n; i++)
    if (strcmp((*v)[i], s) == 0)
      return 0;
  if (*n == max)
    return vc__error_set(VC_ERRCLASS_TEMPLATE, VC_ETOOBIG,
                         "more than %zu distinct %s", max, what);
  if ((grown = vc__realloc(*v, (*n + 1) * sizeof(**v))) == NULL)
    return vc_error_set_oom();
  *v = grown;
  if ((grown[*n] = vc__strdup(s)) == NULL)
    return vc_error_set_oom();
  (*n)++;
  return 0;
}

static int collect_name(const char *name, int kind, void *p)
{
  vc__tpart *part = p;

  if (kind == VC__MUSTACHE_NAME_VAR)
    return push_unique(&part->names, &part->nnames, NAMES_MAX, name,
                       "names");
  if (kind == VC__MUSTACHE_NAME_PARTIAL)
    return push_unique(&part->partials, &part->npartials, PARTIALS_MAX,
                       name, "partials");
  return 0;
}

/* Compile a part (NULL source: the variant has none; an empty part). */
static int tpart_build(vc__tpart *p, const char *src, const decls *d)
{
  int rc;

  memset(p, 0, sizeof(*p));
  if (src == NULL)
    return 0;
  p->len = strlen(src);
  if ((rc = vc__mustache_compile(&p->tpl, src, p->len)) < 0 ||
      (rc = vc__mustache_names(p->tpl, collect_name, p)) < 0)
    goto fail;
  if ((p->src = vc__strndup(src, p->len)) == NULL) {
    rc = vc_error_set_oom();
    goto fail;
  }
  for (size_t i = 0; i < d->n; i++)
    if (d->optional[i] &&
        (rc = push_unique(&p->optional, &p->noptional,
                          VC_TEMPLATE_VARIABLES_MAX, d->names[i],
                          "names")) < 0)
      goto fail;
  return 0;
fail:
  vc__tpart_clear(p);
  return rc;
}

typedef struct undeclared_check {
  const decls *d;
  const char *field;
} undeclared_check;

static int check_declared(const char *name, int kind, void *p)
{
  const undeclared_check *u = p;

  VC_UNUSED(kind);
  for (size_t i = 0; i < u->d->n; i++)
    if (name_covers(u->d->names[i], name))
      return 0;
  return vc__error_set(VC_ERRCLASS_TEMPLATE, VC_EINVALID,
                       "%s uses '%.64s', which variables_json does not "
                       "declare", u->field, name);
}

/* ---- a variant from a spec ---------------------------------------------- */

typedef struct variant {
  int kind;
  char locale[VC__LOCALE_MAX + 1];
  const char *body[NPARTS];        /* borrowed from the spec */
  char *variables;                 /* normalized JSON, or NULL */
  vc__tpart parts[NPARTS];
} variant;

static void variant_free(variant *v)
{
  for (int i = 0; i < NPARTS; i++)
    vc__tpart_clear(&v->parts[i]);
  vc__free(v->variables);
  v->variables = NULL;
}

static const char *nonempty(const char *s)
{
  return s != NULL && s[0] != '\0' ? s : NULL;
}

/*
 * Validate a spec's variant and compile its bodies. `tenant_locale`
 * stands in for a NULL locale.
 */
static int variant_prepare(variant *v, const vc_template_spec *s,
                           const char *tenant_locale)
{
  static const size_t max[NPARTS] = { VC_TEMPLATE_BODY_MAX,
                                      VC_TEMPLATE_BODY_MAX,
                                      VC_TEMPLATE_SUBJECT_MAX };
  decls d;
  int rc;

  memset(v, 0, sizeof(*v));
  if (!kind_valid(s->kind))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "template kind %d is not a channel kind", s->kind);
  v->kind = s->kind;
  v->body[0] = nonempty(s->text_body);
  v->body[1] = nonempty(s->html_body);
  v->body[2] = nonempty(s->subject);
  for (int i = 0; i < NPARTS; i++)
    if ((rc = vc__check_text(PART_FIELD[i], v->body[i], max[i], 0)) < 0)
      return rc;
  if (s->kind != VC_CHANNEL_EMAIL && (v->body[1] || v->body[2]))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "only email templates have %s",
                         v->body[1] ? "an HTML body" : "a subject");
  if (v->body[0] == NULL && v->body[1] == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         s->kind == VC_CHANNEL_EMAIL
                           ? "an email template needs a text or HTML body"
                           : "text_body is required");
  if (v->body[2] != NULL && strpbrk(v->body[2], "\r\n") != NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "subject must be one line");
  if ((rc = check_locale(v->locale, s->locale ? s->locale : tenant_locale,
                         "template locale")) < 0)
    return rc;
  if ((rc = decls_parse(&d, s->variables_json, &v->variables)) < 0)
    return rc;
  for (int i = 0; i < NPARTS && rc == 0; i++) {
    undeclared_check u = { &d, PART_FIELD[i] };

    if ((rc = tpart_build(&v->parts[i], v->body[i], &d)) < 0)
      vc__error_wrap(PART_FIELD[i]);
    else if (d.declared && v->parts[i].tpl != NULL)
      rc = vc__mustache_root_names(v->parts[i].tpl, check_declared, &u);
  }
  decls_free(&d);
  if (rc < 0)
    variant_free(v);
  return rc;
}

/* After a commit: hand the compiled parts to the cache, so that the first
 * render compiles nothing. Failing here costs only a later compile. */
static void variant_cache(vc_ctx *ctx, const char *tenant_id,
                          const char *template_id, int version, variant *v)
{
  for (int i = 0; i < NPARTS; i++) {
    vc__tcache_key k = { tenant_id, template_id, version, v->kind,
                         v->locale, i + 1 };
    const vc__tpart *ref = NULL;

    if (vc__tcache_add(&ref, ctx->templates, &k, &v->parts[i]) == 0)
      vc__tcache_release(ctx->templates, ref);
  }
}

static int insert_version(vc__db *db, const char *tenant_id,
                          const char *template_id, int version,
                          const variant *v, int64_t now)
{
  return vc__db_run(db, SQL_INSERT_VERSION, "ttiitttt" "ti", tenant_id,
                    template_id, (int64_t)version, (int64_t)v->kind,
                    v->locale, v->body[2], v->body[0], v->body[1],
                    v->variables, now);
}

/* Names, kinds and locales are tokens: nothing to escape in JSON. */
static void event_payload(char *buf, size_t size, const char *name,
                          int version, const variant *v)
{
  snprintf(buf, size, "{\"name\":\"%s\",\"version\":%d,\"kind\":\"%s\","
           "\"locale\":\"%s\"}", name, version,
           vc_channel_kind_name(v->kind), v->locale);
}

static int tenant_locale(char out[VC__LOCALE_MAX + 1], vc__db *db,
                         const char *tenant_id)
{
  vc__stmt *s;
  int rc;

  if ((rc = vc__db_query(&s, db, SQL_TENANT_LOCALE, "t", tenant_id)) < 0)
    return rc;
  rc = vc__stmt_step(s);
  if (rc == VC_STORAGE_ROW) {
    snprintf(out, VC__LOCALE_MAX + 1, "%s", vc__stmt_text(s, 0));
    rc = 0;
  } else if (rc == VC_STORAGE_DONE) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "tenant %s was deleted", tenant_id);
  }
  vc__stmt_done(s);
  return rc;
}

/* ---- create, add, lookup ------------------------------------------------ */

/* The size of a caller's spec at its version. */
static size_t spec_size(unsigned int version)
{
  return version >= 2 ? sizeof(vc_template_spec)
                      : offsetof(vc_template_spec, category);
}

/* A caller's spec in the latest layout: members its version does not
 * have are zero. */
static void spec_latest(vc_template_spec *out, const vc_template_spec *in)
{
  memset(out, 0, sizeof(*out));
  memcpy(out, in, spec_size(in->version));
}

/* 0 (keep, or transactional for a new template) or a vc_category. */
static int check_category(int category)
{
  if (category != 0 && vc_category_name(category) == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown template category %d", category);
  return 0;
}

int vc_template_new(vc_template **out, vc_tenant *t,
                    const vc_template_spec *in)
{
  char id[VC_ID_SIZE], payload[256], loc[VC__LOCALE_MAX + 1];
  const vc_template_spec *spec;
  vc_template_spec copy;
  const char *tenant_id;
  int category;
  tpl_row row;
  variant v;
  vc_ctx *ctx;
  vc__db *db;
  int64_t now;
  int rc;

  if (out != NULL)
    *out = NULL;
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(in);
  VC_CHECK_VERSION(in, VC_TEMPLATE_SPEC_VERSION, "vc_template_spec");
  spec_latest(&copy, in);
  spec = &copy;
  ctx = vc__tenant_ctx(t);
  tenant_id = vc_tenant_id(t);
  snprintf(loc, sizeof(loc), "%s", vc_tenant_locale(t));
  if ((rc = check_name(spec->name)) < 0 ||
      (rc = check_category(spec->category)) < 0 ||
      (rc = variant_prepare(&v, spec, loc)) < 0)
    return rc;
  category = spec->category ? spec->category : VC_CATEGORY_TRANSACTIONAL;
  if ((rc = vc__new_id(ctx, id)) < 0)
    goto out;
  now = vc__now(ctx);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    goto out;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  /* The tenant's locale doubles as the check that it is live. */
  rc = tenant_locale(loc, db, tenant_id);
  if (rc == 0) {
    rc = vc__db_run(db, SQL_INSERT_TEMPLATE, "tttii", tenant_id, id,
                    spec->name, now, (int64_t)category);
    if (rc == VC_EEXISTS)
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_EEXISTS,
                         "template name '%s' is taken", spec->name);
  }
  event_payload(payload, sizeof(payload), spec->name, 1, &v);
  if (rc < 0 ||
      (rc = insert_version(db, tenant_id, id, 1, &v, now)) < 0 ||
      (rc = vc__event_append(db, ctx, tenant_id, "template.created", id,
                             payload)) < 0 ||
      (out != NULL &&
       (rc = load_row(&row, db, SQL_BY_KEY, tenant_id, id)) < 0) ||
      (rc = vc__db_commit(db)) < 0) {
    vc__db_rollback(db);
    goto release;
  }
  vc__db_release(db);
  vc_ctx_wakeup(ctx);
  variant_cache(ctx, tenant_id, id, 1, &v);
  VC_LOG(ctx, VC_LOG_INFO, "template %s created (%s)", id, spec->name);
  if (out != NULL)
    rc = handle_new(out, ctx, &row);
  goto out;
release:
  vc__db_release(db);
out:
  variant_free(&v);
  return rc;
}

int vc_template_add_variant(vc_template *tpl, const vc_template_spec *in)
{
  char payload[256], loc[VC__LOCALE_MAX + 1] = "";
  const vc_template_spec *spec;
  vc_template_spec copy;
  variant v;
  vc__db *db = NULL;
  vc__stmt *s;
  int64_t next = 0, variants = 0, exists = 0;
  int rc;

  VC_ASSERT_ARG(tpl);
  VC_ASSERT_ARG(in);
  VC_CHECK_VERSION(in, VC_TEMPLATE_SPEC_VERSION, "vc_template_spec");
  spec_latest(&copy, in);
  spec = &copy;
  if ((rc = check_category(spec->category)) < 0)
    return rc;
  if (spec->name != NULL && strcmp(spec->name, tpl->row.name) != 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a variant cannot rename template '%s'",
                         tpl->row.name);
  memset(&v, 0, sizeof(v));
  pthread_mutex_lock(&tpl->lock);
  if ((rc = vc__db_acquire(&db, tpl->ctx->store)) < 0)
    goto unlock;
  /* A NULL locale is the tenant's, as it is now. */
  if (spec->locale == NULL &&
      (rc = tenant_locale(loc, db, tpl->row.tenant_id)) < 0)
    goto release;
  vc__db_release(db);
  db = NULL;
  if ((rc = variant_prepare(&v, spec, loc)) < 0 ||
      (rc = vc__db_acquire(&db, tpl->ctx->store)) < 0)
    goto unlock;
  if ((rc = vc__db_begin(db)) < 0)
    goto release;
  if ((rc = tenant_locale(loc, db, tpl->row.tenant_id)) < 0 ||
      (rc = vc__db_query(&s, db, SQL_NEXT_VERSION, "ttit",
                         tpl->row.tenant_id, tpl->row.id, (int64_t)v.kind,
                         v.locale)) < 0)
    goto fail;
  if ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    next = vc__stmt_int64(s, 0);
    variants = vc__stmt_int64(s, 1);
    exists = vc__stmt_int64(s, 2);
    rc = 0;
  }
  vc__stmt_done(s);
  if (rc < 0)
    goto fail;
  if (next > INT32_MAX) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                       "template '%s' has too many versions", tpl->row.name);
    goto fail;
  }
  if (!exists && variants >= VC_TEMPLATE_VARIANTS_MAX) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                       "template '%s' has %d variants already",
                       tpl->row.name, VC_TEMPLATE_VARIANTS_MAX);
    goto fail;
  }
  event_payload(payload, sizeof(payload), tpl->row.name, (int)next, &v);
  if ((rc = insert_version(db, tpl->row.tenant_id, tpl->row.id, (int)next,
                           &v, vc__now(tpl->ctx))) < 0 ||
      (spec->category != 0 &&
       (rc = vc__db_run(db, SQL_SET_CATEGORY, "tti", tpl->row.tenant_id,
                        tpl->row.id, (int64_t)spec->category)) < 0) ||
      (rc = vc__event_append(db, tpl->ctx, tpl->row.tenant_id,
                             "template.version_added", tpl->row.id,
                             payload)) < 0 ||
      (rc = vc__db_commit(db)) < 0)
    goto fail;
  tpl->row.latest = (int)next;
  if (spec->category != 0)
    tpl->row.category = spec->category;
  vc__db_release(db);
  db = NULL;
  vc_ctx_wakeup(tpl->ctx);
  variant_cache(tpl->ctx, tpl->row.tenant_id, tpl->row.id, (int)next, &v);
  goto unlock;
fail:
  vc__db_rollback(db);
release:
  vc__db_release(db);
unlock:
  pthread_mutex_unlock(&tpl->lock);
  variant_free(&v);
  return rc;
}

int vc_template_lookup(vc_template **out, vc_tenant *t, const char *key)
{
  tpl_row row;
  vc_ctx *ctx;
  vc__db *db;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  if ((rc = check_key(key)) < 0)
    return rc;
  ctx = vc__tenant_ctx(t);
  if ((rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = load_row(&row, db, SQL_BY_KEY, vc_tenant_id(t), key);
  vc__db_release(db);
  if (rc == VC_ENOTFOUND)
    return not_found(key);
  if (rc == 0)
    rc = handle_new(out, ctx, &row);
  return rc;
}

void vc_template_free(vc_template *tpl)
{
  if (tpl == NULL)
    return;
  pthread_mutex_destroy(&tpl->lock);
  vc__free(tpl);
}

int vc_template_version(const vc_template *tpl)
{
  int v;

  if (tpl == NULL)
    return 0;
  pthread_mutex_lock((pthread_mutex_t *)&tpl->lock);
  v = tpl->row.latest;
  pthread_mutex_unlock((pthread_mutex_t *)&tpl->lock);
  return v;
}

/* Fixed after creation: no lock needed. */
const char *vc_template_id(const vc_template *tpl)
{
  return tpl ? tpl->row.id : NULL;
}

const char *vc_template_tenant_id(const vc_template *tpl)
{
  return tpl ? tpl->row.tenant_id : NULL;
}

const char *vc_template_name(const vc_template *tpl)
{
  return tpl ? tpl->row.name : NULL;
}

int vc_template_kind(const vc_template *tpl)
{
  return tpl ? tpl->row.kind : 0;
}

int64_t vc_template_created_at(const vc_template *tpl)
{
  return tpl ? tpl->row.created_at : 0;
}

int vc_template_category(const vc_template *tpl)
{
  int c;

  if (tpl == NULL)
    return 0;
  pthread_mutex_lock((pthread_mutex_t *)&tpl->lock);
  c = tpl->row.category;
  pthread_mutex_unlock((pthread_mutex_t *)&tpl->lock);
  return c;
}

/* ---- render: resolution ------------------------------------------------- */

typedef struct partial_ref {
  const char *name;              /* borrowed from the including part */
  const vc__tpart *part;         /* NULL: not found */
} partial_ref;

typedef struct part_plan {
  const vc__tpart *main;
  partial_ref partials[PARTIALS_MAX];
  size_t npartials;
} part_plan;

typedef struct plan {
  vc_ctx *ctx;
  tpl_row tpl;
  int kind;
  int version;                   /* the template version rendered */
  int row_version;               /* of the variant's row */
  char locale[VC__LOCALE_MAX + 1];
  chain ch;
  part_plan parts[NPARTS];
} plan;

static void plan_release(plan *p)
{
  for (int i = 0; i < NPARTS; i++) {
    part_plan *pp = &p->parts[i];
    vc__tcache_release(p->ctx->templates, pp->main);
    for (size_t k = 0; k < pp->npartials; k++)
      vc__tcache_release(p->ctx->templates, pp->partials[k].part);
    memset(pp, 0, sizeof(*pp));
  }
}

/* The newest row of `kind` at or before `version` in the first locale of
 * the chain that has one. VC_ENOTFOUND quietly when none does. */
static int resolve_variant(vc__db *db, const tpl_row *t, int kind,
                           int version, const chain *c, int *row_version,
                           char locale[VC__LOCALE_MAX + 1])
{
  vc__stmt *s;
  int best = CHAIN_MAX, rc;

  if ((rc = vc__db_query(&s, db, SQL_VARIANTS, "ttii", t->tenant_id, t->id,
                         (int64_t)kind, (int64_t)version)) < 0)
    return rc;
  while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW) {
    const char *loc = vc__stmt_text(s, 0);
    for (int i = 0; i < c->n && i < best; i++)
      if (loc != NULL && strcmp(loc, c->loc[i]) == 0) {
        best = i;
        *row_version = (int)vc__stmt_int64(s, 1);
      }
  }
  vc__stmt_done(s);
  if (rc < 0)
    return rc;
  if (best == CHAIN_MAX)
    return VC_ENOTFOUND;
  snprintf(locale, VC__LOCALE_MAX + 1, "%s", c->loc[best]);
  return 0;
}

/* A cache miss: read the variant's row, compile its three parts, cache
 * them, and keep a reference to the one wanted. */
static int load_parts(const vc__tpart **out, vc_ctx *ctx, vc__db *db,
                      const vc__tcache_key *want)
{
  vc__tpart parts[NPARTS];
  vc__stmt *s;
  decls d;
  int rc;

  memset(parts, 0, sizeof(parts));
  if ((rc = vc__db_query(&s, db, SQL_BODY, "tti", want->tenant_id,
                         want->template_id, (int64_t)want->version)) < 0)
    return rc;
  if ((rc = vc__stmt_step(s)) != VC_STORAGE_ROW) {
    vc__stmt_done(s);
    return rc < 0 ? rc : vc__error_set(VC_ERRCLASS_INTERNAL, VC_ENOTFOUND,
                                       "template version row vanished");
  }
  if ((rc = decls_parse(&d, vc__stmt_text(s, 3), NULL)) == 0) {
    for (int i = 0; i < NPARTS && rc == 0; i++) {
      /* Columns: subject, text, html; parts: text, html, subject. */
      const char *src = vc__stmt_text(s, i == 2 ? 0 : i + 1);
      if ((rc = tpart_build(&parts[i], src, &d)) < 0)
        vc__error_wrap(PART_FIELD[i]);
    }
    decls_free(&d);
  }
  vc__stmt_done(s);
  for (int i = 0; i < NPARTS; i++) {
    vc__tcache_key k = *want;
    const vc__tpart *ref = NULL;

    k.part = i + 1;
    if (rc == 0 && (rc = vc__tcache_add(&ref, ctx->templates, &k,
                                        &parts[i])) == 0) {
      if (k.part == want->part)
        *out = ref;
      else
        vc__tcache_release(ctx->templates, ref);
    }
    vc__tpart_clear(&parts[i]);
  }
  return rc;
}

static int get_part(const vc__tpart **out, vc_ctx *ctx, vc__db *db,
                    const vc__tcache_key *k)
{
  int rc = vc__tcache_get(out, ctx->templates, k);

  return rc == VC_ENOTFOUND ? load_parts(out, ctx, db, k) : rc;
}

/* Resolve one partial by name: the same part of the named template's
 * variant for the plan's kind and locales, at its latest version. */
static int resolve_partial(partial_ref *r, plan *p, vc__db *db, int part)
{
  char loc[VC__LOCALE_MAX + 1];
  int row_version = 0, rc;
  tpl_row t;

  if (check_name(r->name) < 0) {
    vc_error_clear();
    return 0;                    /* cannot be a template: not found */
  }
  rc = load_row(&t, db, SQL_BY_NAME, p->tpl.tenant_id, r->name);
  if (rc == 0)
    rc = resolve_variant(db, &t, p->kind, t.latest, &p->ch, &row_version,
                         loc);
  if (rc == VC_ENOTFOUND)
    return 0;
  if (rc == 0) {
    vc__tcache_key k = { t.tenant_id, t.id, row_version, p->kind, loc,
                         part };
    rc = get_part(&r->part, p->ctx, db, &k);
  }
  return rc;
}

/* Add the partials `from` names, resolving the new ones. */
static int plan_partials_of(plan *p, vc__db *db, part_plan *pp,
                            const vc__tpart *from, int part)
{
  int rc;

  for (size_t i = 0; i < from->npartials; i++) {
    const char *name = from->partials[i];
    size_t k;

    for (k = 0; k < pp->npartials; k++)
      if (strcmp(pp->partials[k].name, name) == 0)
        break;
    if (k < pp->npartials)
      continue;
    if (pp->npartials == PARTIALS_MAX)
      return vc__error_set(VC_ERRCLASS_TEMPLATE, VC_ETOOBIG,
                           "%s uses more than %d partials",
                           PART_FIELD[part - 1], PARTIALS_MAX);
    pp->partials[pp->npartials].name = name;
    pp->partials[pp->npartials].part = NULL;
    if ((rc = resolve_partial(&pp->partials[pp->npartials++], p, db,
                              part)) < 0)
      return rc;
  }
  return 0;
}

static int plan_part(plan *p, vc__db *db, int part)
{
  part_plan *pp = &p->parts[part - 1];
  vc__tcache_key k = { p->tpl.tenant_id, p->tpl.id, p->row_version,
                       p->kind, p->locale, part };
  int rc;

  if ((rc = get_part(&pp->main, p->ctx, db, &k)) < 0 || pp->main->tpl == NULL)
    return rc;
  /* Breadth first: partials of partials join the same list. */
  if ((rc = plan_partials_of(p, db, pp, pp->main, part)) < 0)
    return rc;
  for (size_t i = 0; i < pp->npartials; i++)
    if (pp->partials[i].part != NULL && pp->partials[i].part->tpl != NULL &&
        (rc = plan_partials_of(p, db, pp, pp->partials[i].part, part)) < 0)
      return rc;
  return 0;
}

typedef struct plan_request {
  const char *tenant_id;
  const char *key;               /* template id or name */
  int kind;                      /* 0: the kind of version 1 */
  const char *locale;            /* canonical, or NULL */
  int version;                   /* 0: the latest */
  unsigned parts;                /* BIT(part) of the parts to plan */
  int html_if_no_text;           /* plan HTML when the text is absent */
} plan_request;

static int plan_resolve(plan *p, vc_ctx *ctx, vc__db *db,
                        const plan_request *r)
{
  char tried[4 * (VC__LOCALE_MAX + 2)];
  int owned = db == NULL, rc;

  memset(p, 0, sizeof(*p));
  p->ctx = ctx;
  if (owned && (rc = vc__db_acquire(&db, ctx->store)) < 0)
    return rc;
  rc = load_row(&p->tpl, db, SQL_BY_KEY, r->tenant_id, r->key);
  if (rc == VC_ENOTFOUND)
    rc = not_found(r->key);
  if (rc < 0)
    goto out;
  p->kind = r->kind ? r->kind : p->tpl.kind;
  p->version = r->version ? r->version : p->tpl.latest;
  if (p->version > p->tpl.latest) {
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "template '%s' has no version %d (latest %d)",
                       p->tpl.name, p->version, p->tpl.latest);
    goto out;
  }
  chain_build(&p->ch, r->locale, p->tpl.tenant_locale);
  rc = resolve_variant(db, &p->tpl, p->kind, p->version, &p->ch,
                       &p->row_version, p->locale);
  if (rc == VC_ENOTFOUND) {
    chain_text(tried, sizeof(tried), &p->ch);
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "template '%s' version %d has no %s variant for "
                       "%s", p->tpl.name, p->version,
                       vc_channel_kind_name(p->kind), tried);
  }
  for (int part = 1; part <= NPARTS && rc == 0; part++)
    if (r->parts & BIT(part))
      rc = plan_part(p, db, part);
  if (rc == 0 && r->html_if_no_text && p->parts[0].main->tpl == NULL)
    rc = plan_part(p, db, VC_TEMPLATE_PART_HTML);
out:
  if (owned)
    vc__db_release(db);
  if (rc < 0)
    plan_release(p);
  return rc;
}

/* ---- render: output ----------------------------------------------------- */

static int serve_partial(const char **src, size_t *len, const char *name,
                         void *payload)
{
  const part_plan *pp = payload;

  for (size_t i = 0; i < pp->npartials; i++)
    if (strcmp(pp->partials[i].name, name) == 0) {
      const vc__tpart *p = pp->partials[i].part;
      if (p == NULL || p->tpl == NULL)
        break;
      *src = p->src;
      *len = p->len;
      return 0;
    }
  return VC_ENOTFOUND;
}

/* Is `name` optional by a declaration of any part in the render? */
static int declared_optional(const part_plan *pp, const char *name)
{
  for (size_t i = 0; i <= pp->npartials; i++) {
    const vc__tpart *p = i == 0 ? pp->main : pp->partials[i - 1].part;
    for (size_t k = 0; p != NULL && k < p->noptional; k++) {
      size_t n = strlen(p->optional[k]);
      if (strncmp(name, p->optional[k], n) == 0 &&
          (name[n] == '\0' || name[n] == '.'))
        return 1;
    }
  }
  return 0;
}

/* The names the engine may leave empty: those used by the main part or
 * its partials that lie under an optional declaration of any of them. */
static int optional_names(const char ***out, size_t *n, const part_plan *pp)
{
  size_t total = 0;
  const char **v;

  *out = NULL;
  *n = 0;
  for (size_t i = 0; i <= pp->npartials; i++) {
    const vc__tpart *p = i == 0 ? pp->main : pp->partials[i - 1].part;
    total += p != NULL ? p->nnames : 0;
  }
  if (total == 0)
    return 0;
  if ((v = vc__calloc(total, sizeof(*v))) == NULL)
    return vc_error_set_oom();
  for (size_t i = 0; i <= pp->npartials; i++) {
    const vc__tpart *p = i == 0 ? pp->main : pp->partials[i - 1].part;
    for (size_t k = 0; p != NULL && k < p->nnames; k++)
      if (declared_optional(pp, p->names[k]))
        v[(*n)++] = p->names[k];
  }
  *out = v;
  return 0;
}

/* Render one planned part into `out` (replaced on success). */
static int render_part(vc_buf *out, const plan *p, int part,
                       const cJSON *vars)
{
  const part_plan *pp = &p->parts[part - 1];
  vc__mustache_opts o = VC__MUSTACHE_OPTS_INIT;
  vc_buf b = VC_BUF_INIT;
  const char **optional = NULL;
  size_t noptional = 0;
  int rc;

  if ((rc = optional_names(&optional, &noptional, pp)) < 0)
    return rc;
  o.escape_html = part == VC_TEMPLATE_PART_HTML;
  o.strict = 1;
  o.optional = optional;
  o.noptional = noptional;
  o.partial = serve_partial;
  o.partial_payload = (void *)(uintptr_t)pp;
  o.max_output = part == VC_TEMPLATE_PART_SUBJECT
                   ? VC_TEMPLATE_SUBJECT_OUTPUT_MAX
                   : VC_TEMPLATE_OUTPUT_MAX;
  rc = vc__mustache_render(&b, pp->main->tpl, vars, &o);
  vc__free((void *)(uintptr_t)optional);
  /* A subject becomes a mail header: a variable must not add lines. */
  if (rc == 0 && part == VC_TEMPLATE_PART_SUBJECT &&
      (memchr(b.ptr, '\r', b.size) || memchr(b.ptr, '\n', b.size)))
    rc = vc__error_set(VC_ERRCLASS_TEMPLATE, VC_EINVALID,
                       "the rendered subject contains a line break");
  if (rc < 0) {
    vc_buf_dispose(&b);
    return vc__error_wrap(PART_FIELD[part - 1]);
  }
  vc_buf_dispose(out);
  *out = b;
  return 0;
}

static int parse_vars(cJSON **out, const char *vars_json)
{
  *out = NULL;
  if (vars_json == NULL)
    return 0;
  return vc__json_parse(out, "template variables", vars_json,
                        VC_TEMPLATE_VARS_JSON_MAX, VC_TEMPLATE_VARS_DEPTH,
                        1);
}

int vc_template_render(vc_buf *out, vc_template *tpl,
                       const vc_template_render_spec *spec)
{
  static const vc_template_render_spec defaults =
    VC_TEMPLATE_RENDER_SPEC_INIT;
  char loc[VC__LOCALE_MAX + 1];
  plan_request r;
  cJSON *vars = NULL;
  plan p;
  int part, rc;

  VC_ASSERT_ARG(out);
  VC_ASSERT_ARG(tpl);
  VC_CHECK_VERSION(spec, VC_TEMPLATE_RENDER_SPEC_VERSION,
                   "vc_template_render_spec");
  if (spec == NULL)
    spec = &defaults;
  part = spec->part;
  if (part < 0 || part > NPARTS)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown template part %d", part);
  if (spec->kind != 0 && !kind_valid(spec->kind))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown channel kind %d", spec->kind);
  if (spec->template_version < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "template version %d is negative",
                         spec->template_version);
  if (spec->locale != NULL &&
      (rc = check_locale(loc, spec->locale, "locale")) < 0)
    return rc;
  if ((rc = parse_vars(&vars, spec->vars_json)) < 0)
    return rc;
  r.tenant_id = tpl->row.tenant_id;
  r.key = tpl->row.id;
  r.kind = spec->kind;
  r.locale = spec->locale != NULL ? loc : NULL;
  r.version = spec->template_version;
  r.parts = BIT(part ? part : VC_TEMPLATE_PART_TEXT);
  r.html_if_no_text = part == 0;
  if ((rc = plan_resolve(&p, tpl->ctx, NULL, &r)) < 0)
    goto out;
  if (part == 0)
    part = p.parts[0].main->tpl != NULL ? VC_TEMPLATE_PART_TEXT
                                        : VC_TEMPLATE_PART_HTML;
  if (p.parts[part - 1].main->tpl == NULL)
    rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ENOTFOUND,
                       "template '%s' version %d (%s, %s) has no %s",
                       p.tpl.name, p.version, vc_channel_kind_name(p.kind),
                       p.locale, PART_FIELD[part - 1]);
  else
    rc = render_part(out, &p, part, vars);
  plan_release(&p);
out:
  cJSON_Delete(vars);
  return rc;
}

int vc__template_render_message(vc__template_output *out, vc_tenant *t,
                                vc__db *db,
                                const vc__template_request *req)
{
  char loc[VC__LOCALE_MAX + 1];
  vc_buf *bufs[NPARTS];
  plan_request r;
  cJSON *vars = NULL;
  plan p;
  int rc;

  VC_ASSERT_ARG(out);
  memset(out, 0, sizeof(*out));
  VC_ASSERT_ARG(t);
  VC_ASSERT_ARG(req);
  if ((rc = check_key(req->template_name)) < 0)
    return rc;
  if (!kind_valid(req->kind))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown channel kind %d", req->kind);
  if (req->version < 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "template version %d is negative", req->version);
  if (req->locale != NULL &&
      (rc = check_locale(loc, req->locale, "locale")) < 0)
    return rc;
  if ((rc = parse_vars(&vars, req->vars_json)) < 0)
    return rc;
  r.tenant_id = vc_tenant_id(t);
  r.key = req->template_name;
  r.kind = req->kind;
  r.locale = req->locale != NULL ? loc : NULL;
  r.version = req->version;
  r.parts = ALL_PARTS;
  r.html_if_no_text = 0;
  if ((rc = plan_resolve(&p, vc__tenant_ctx(t), db, &r)) < 0)
    goto out;
  bufs[0] = &out->text;
  bufs[1] = &out->html;
  bufs[2] = &out->subject;
  for (int i = 0; i < NPARTS && rc == 0; i++)
    if (p.parts[i].main->tpl != NULL)
      rc = render_part(bufs[i], &p, i + 1, vars);
  if (rc == 0) {
    snprintf(out->template_id, sizeof(out->template_id), "%s", p.tpl.id);
    snprintf(out->locale, sizeof(out->locale), "%s", p.locale);
    out->version = p.version;
    out->category = p.tpl.category;
  }
  plan_release(&p);
out:
  cJSON_Delete(vars);
  if (rc < 0)
    vc__template_output_dispose(out);
  return rc;
}

void vc__template_output_dispose(vc__template_output *out)
{
  if (out == NULL)
    return;
  vc_buf_dispose(&out->subject);
  vc_buf_dispose(&out->text);
  vc_buf_dispose(&out->html);
  memset(out, 0, sizeof(*out));
}

/* ---- vc_template_list ------------------------------------------------ */

typedef struct template_iter {
  vc_iter base;
  vc_ctx *ctx;
  char tenant_id[VC_ID_SIZE];
  int kind, exhausted;
  tpl_row rows[PAGE];
  size_t n, next;
} template_iter;

static const vc__iter_ops TEMPLATE_ITER = { "template", NULL };

int vc_template_list(vc_iter **out, vc_tenant *t,
                     const vc_template_filter *f)
{
  template_iter *it;

  VC_ASSERT_ARG(out);
  *out = NULL;
  VC_ASSERT_ARG(t);
  VC_CHECK_VERSION(f, VC_TEMPLATE_FILTER_VERSION, "vc_template_filter");
  if (f != NULL && f->after != NULL && f->after[0] != '\0' &&
      !vc__ulid_valid(f->after))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "cursor is not a template list cursor");
  if (f != NULL && f->kind != 0 && !kind_valid(f->kind))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "unknown channel kind %d", f->kind);
  if ((it = vc__calloc(1, sizeof(*it))) == NULL)
    return vc_error_set_oom();
  it->base.ops = &TEMPLATE_ITER;
  it->ctx = vc__tenant_ctx(t);
  snprintf(it->tenant_id, sizeof(it->tenant_id), "%s", vc_tenant_id(t));
  it->kind = f != NULL ? f->kind : 0;
  if (f != NULL && f->after != NULL)
    snprintf(it->base.cursor, sizeof(it->base.cursor), "%s", f->after);
  *out = &it->base;
  return 0;
}

static int fetch_page(template_iter *it)
{
  vc__db *db;
  vc__stmt *s;
  int rc;

  it->n = it->next = 0;
  if ((rc = vc__db_acquire(&db, it->ctx->store)) < 0)
    return rc;
  if ((rc = vc__db_query(&s, db, SQL_PAGE, "tti", it->tenant_id,
                         it->base.cursor, (int64_t)it->kind)) == 0) {
    while ((rc = vc__stmt_step(s)) == VC_STORAGE_ROW && it->n < PAGE)
      row_from_stmt(&it->rows[it->n++], s);
    vc__stmt_done(s);
  }
  vc__db_release(db);
  if (rc >= 0 && it->n < PAGE)
    it->exhausted = 1;
  return rc < 0 ? rc : 0;
}

int vc_template_next(vc_template **out, vc_iter *base)
{
  template_iter *it = (template_iter *)base;
  const tpl_row *row;
  int rc;

  VC_ASSERT_ARG(out);
  *out = NULL;
  if ((rc = vc__iter_check(base, &TEMPLATE_ITER)) < 0)
    return rc;
  if (it->next >= it->n) {
    if (it->exhausted)
      return VC_ITEROVER;
    if ((rc = fetch_page(it)) < 0)
      return rc;
    if (it->n == 0)
      return VC_ITEROVER;
  }
  row = &it->rows[it->next++];
  snprintf(base->cursor, sizeof(base->cursor), "%s", row->id);
  return handle_new(out, it->ctx, row);
}

/* ---- struct initialisers ---------------------------------------------- */

int vc_template_spec_init(vc_template_spec *s, unsigned int version)
{
  VC_INIT_STRUCT_SIZED(s, version, VC_TEMPLATE_SPEC_VERSION,
                       vc_template_spec, spec_size(version),
                       VC_TEMPLATE_SPEC_INIT);
}

int vc_template_render_spec_init(vc_template_render_spec *s,
                                 unsigned int version)
{
  VC_INIT_STRUCT(s, version, VC_TEMPLATE_RENDER_SPEC_VERSION,
                 vc_template_render_spec, VC_TEMPLATE_RENDER_SPEC_INIT);
}

int vc_template_filter_init(vc_template_filter *f, unsigned int version)
{
  VC_INIT_STRUCT(f, version, VC_TEMPLATE_FILTER_VERSION, vc_template_filter,
                 VC_TEMPLATE_FILTER_INIT);
}
