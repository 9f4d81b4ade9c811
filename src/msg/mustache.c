/*
 * Mustache engine: a one-pass parser into a flat node array, and a
 * renderer walking that array over a stack of JSON contexts.
 * See mustache.h for the semantics and limits.
 */
#include "core/common.h"
#include "core/buf.h"
#include "core/text.h"
#include "msg/mustache.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ */
/* Compiled form                                                       */

enum {
  N_TEXT,      /* a: offset in src, b: length */
  N_VAR,       /* {{x}}: escaped per options */
  N_RAW,       /* {{{x}}}, {{& x}}: never escaped */
  N_SECTION,   /* {{#x}}: body is nodes (i, end) */
  N_INVERTED,  /* {{^x}} */
  N_PARTIAL    /* {{> x}}: ind/nind is the standalone indentation */
};

/* Names live in the pool as "a.b.c\0a\0b\0c\0": the full name for
 * messages, then the segments for lookups. */
typedef struct mnode {
  uint8_t type;
  uint8_t nseg;    /* name segments; 0 for the implicit iterator "." */
  uint32_t a;      /* text: offset in src; names: offset in pool */
  uint32_t b;      /* text: length; names: pool offset of segments */
  uint32_t end;    /* sections: index of the first node after the body */
  uint32_t ind;    /* partials: indentation, offset in src */
  uint32_t nind;   /* partials: indentation length */
  uint32_t line;   /* 1-based line of the tag, for messages */
} mnode;

struct vc__mustache {
  char *src;       /* private copy: text nodes point into it */
  size_t len;
  mnode *nodes;
  size_t n;
  vc_buf pool;     /* names */
};

#define NAME_MAX_LEN 255
#define RENDER_MAX_DEPTH (4 * VC__MUSTACHE_MAX_NESTING)
#define MSG_NAME 64          /* name bytes quoted in a message */

static int is_ws(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */

typedef struct parser {
  vc__mustache *t;
  const char *s;
  size_t n;
  size_t text_start;      /* first byte of text not yet emitted */
  size_t line_begin;      /* first byte of the current line */
  int tag_on_line;        /* a tag already sits on the current line */
  const char *otag, *ctag;
  size_t olen, clen;
  size_t cap;             /* nodes allocated */
  uint32_t open[VC__MUSTACHE_MAX_NESTING];
  int depth;
  size_t lc_pos;          /* line counting: newlines before lc_pos */
  uint32_t lc_line;
} parser;

/* Line number of byte `pos`; positions are asked in increasing order. */
static uint32_t line_at(parser *p, size_t pos)
{
  if (pos < p->lc_pos) {
    p->lc_pos = 0;
    p->lc_line = 1;
  }
  for (; p->lc_pos < pos; p->lc_pos++)
    if (p->s[p->lc_pos] == '\n')
      p->lc_line++;
  return p->lc_line;
}

/* Bytes of a name to quote: at most MSG_NAME, cut on a UTF-8 boundary. */
static int quote_len(const char *s, size_t len)
{
  if (len <= MSG_NAME)
    return (int)len;
  len = MSG_NAME;
  while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
    len--;
  return (int)len;
}

/* "%.*s" arguments quoting a NUL-terminated name. */
#define QUOTE(s) quote_len((s), strlen(s)), (s)

static int perr(parser *p, size_t pos, int code, const char *fmt, ...)
  VC_FORMAT_PRINTF(4, 5);

/* A parse error: "line N: <message>". */
static int perr(parser *p, size_t pos, int code, const char *fmt, ...)
{
  char msg[200];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return vc__error_set(VC_ERRCLASS_TEMPLATE, code, "line %u: %s",
                       (unsigned)line_at(p, pos), msg);
}

static int push_node(parser *p, const mnode *nd)
{
  vc__mustache *t = p->t;

  if (t->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 32;
    mnode *nn = vc__realloc(t->nodes, cap * sizeof(*nn));

    if (nn == NULL)
      return vc_error_set_oom();
    t->nodes = nn;
    p->cap = cap;
  }
  t->nodes[t->n++] = *nd;
  return 0;
}

static int push_text(parser *p, size_t from, size_t to)
{
  mnode nd = { 0 };

  if (to <= from)
    return 0;
  nd.type = N_TEXT;
  nd.a = (uint32_t)from;
  nd.b = (uint32_t)(to - from);
  return push_node(p, &nd);
}

/*
 * Check a name and store it in the pool. A data name is "." or
 * non-empty segments joined by '.'; a partial name is any run of
 * non-blank bytes. Sets nd->a, nd->b, nd->nseg.
 */
static int store_name(parser *p, mnode *nd, size_t pos, const char *nm,
                      size_t len, int partial)
{
  vc_buf *pool = &p->t->pool;
  size_t nseg = 0, start = 0;
  int rc;

  if (len == 0)
    return perr(p, pos, VC_EINVALID, "empty tag name");
  if (len > NAME_MAX_LEN)
    return perr(p, pos, VC_EINVALID, "tag name '%.*s...' too long",
                quote_len(nm, len), nm);
  for (size_t i = 0; i < len; i++)
    if (is_ws(nm[i]))
      return perr(p, pos, VC_EINVALID, "invalid tag name '%.*s'",
                  quote_len(nm, len), nm);
  if (!partial && !(len == 1 && nm[0] == '.')) {
    for (size_t i = 0; i <= len; i++) {
      if (i < len && nm[i] != '.')
        continue;
      if (i == start)
        return perr(p, pos, VC_EINVALID, "invalid tag name '%.*s'",
                    quote_len(nm, len), nm);
      nseg++;
      start = i + 1;
    }
  }
  nd->nseg = (uint8_t)nseg;   /* at most 128 segments in 255 bytes */
  nd->a = (uint32_t)pool->size;
  if ((rc = vc__buf_put(pool, nm, len)) < 0 ||
      (rc = vc__buf_put(pool, "", 1)) < 0)
    return rc;
  nd->b = (uint32_t)pool->size;
  for (size_t i = 0; i < len && nseg > 0; i++)
    if ((rc = vc__buf_put(pool, nm[i] == '.' ? "" : &nm[i], 1)) < 0)
      return rc;
  if (nseg > 0 && (rc = vc__buf_put(pool, "", 1)) < 0)
    return rc;
  return 0;
}

/* {{=<% %>=}}: two blank-separated delimiters without '=' or blanks. */
static int set_delims(parser *p, size_t pos, const char *c, size_t len)
{
  size_t i = 0, o0, o1, c0, c1;

  o0 = i;
  while (i < len && !is_ws(c[i]))
    i++;
  o1 = i;
  while (i < len && is_ws(c[i]))
    i++;
  c0 = i;
  while (i < len && !is_ws(c[i]))
    i++;
  c1 = i;
  if (o1 == o0 || c1 == c0 || i != len ||
      memchr(c + o0, '=', o1 - o0) != NULL ||
      memchr(c + c0, '=', c1 - c0) != NULL)
    return perr(p, pos, VC_EINVALID, "bad delimiters '%.*s'",
                quote_len(c, len), c);
  p->otag = c + o0;
  p->olen = o1 - o0;
  p->ctag = c + c0;
  p->clen = c1 - c0;
  return 0;
}

/* The closing delimiter from `from`, preceded by `pre` when non-zero;
 * returns its position (of `pre` if any) or SIZE_MAX. */
static size_t find_close(const parser *p, size_t start, char pre)
{
  size_t from = start;

  while (from < p->n) {
    const char *x = memmem(p->s + from, p->n - from, p->ctag, p->clen);
    size_t at;

    if (x == NULL)
      return SIZE_MAX;
    at = (size_t)(x - p->s);
    if (pre == 0)
      return at;
    if (at > start && p->s[at - 1] == pre)
      return at - 1;
    from = at + 1;
  }
  return SIZE_MAX;
}

/* A standalone tag's line ends with blanks then "\n", "\r\n" or the
 * end; returns the position after it, or 0 when the line goes on. */
static size_t standalone_end(const parser *p, size_t from)
{
  size_t r = from;

  while (r < p->n && (p->s[r] == ' ' || p->s[r] == '\t'))
    r++;
  if (r == p->n)
    return r;
  if (p->s[r] == '\n')
    return r + 1;
  if (p->s[r] == '\r' && r + 1 < p->n && p->s[r + 1] == '\n')
    return r + 2;
  return 0;
}

static int open_section(parser *p, size_t pos, mnode *nd)
{
  if (p->depth == VC__MUSTACHE_MAX_NESTING)
    return perr(p, pos, VC_ETOOBIG, "sections nested deeper than %d",
                VC__MUSTACHE_MAX_NESTING);
  p->open[p->depth++] = (uint32_t)p->t->n;
  return push_node(p, nd);
}

static int close_section(parser *p, size_t pos, const char *nm,
                         size_t len)
{
  mnode *sec;
  const char *open_name;

  if (p->depth == 0)
    return perr(p, pos, VC_EINVALID, "closing tag '%.*s' has no open "
                "section", quote_len(nm, len), nm);
  sec = &p->t->nodes[p->open[p->depth - 1]];
  open_name = p->t->pool.ptr + sec->a;
  if (strlen(open_name) != len || memcmp(open_name, nm, len) != 0)
    return perr(p, pos, VC_EINVALID, "closing tag '%.*s' does not match "
                "section '%.*s' opened on line %u", quote_len(nm, len),
                nm, quote_len(open_name, strlen(open_name)), open_name,
                (unsigned)sec->line);
  sec->end = (uint32_t)p->t->n;
  p->depth--;
  return 0;
}

static int can_stand_alone(char type)
{
  return type == '#' || type == '^' || type == '/' || type == '!' ||
         type == '>' || type == '=';
}

/*
 * One tag at `at` (its opening delimiter). Emits the text before it,
 * applies the standalone rule, and leaves p->text_start after the tag
 * (or after its line when standalone).
 */
static int parse_tag(parser *p, size_t at)
{
  const char *s = p->s;
  size_t q = at + p->olen, close, end, cb, ce, after = 0, rest;
  char type = q < p->n ? s[q] : '\0', pre = 0;
  mnode nd = { 0 };
  int rc;

  if (type == '{')
    pre = '}';
  else if (type == '=')
    pre = '=';
  if (strchr("!#^/>={&", type) == NULL || type == '\0')
    type = 0;
  cb = type ? q + 1 : q;
  close = find_close(p, cb, pre);
  if (close == SIZE_MAX)
    return perr(p, at, VC_EINVALID, "unclosed tag: no '%s%.*s' after "
                "'%.*s'", pre == '}' ? "}" : pre == '=' ? "=" : "",
                quote_len(p->ctag, p->clen), p->ctag,
                quote_len(p->otag, p->olen), p->otag);
  end = close + (pre ? 1 : 0) + p->clen;
  ce = close;
  while (cb < ce && is_ws(s[cb]))
    cb++;
  while (ce > cb && is_ws(s[ce - 1]))
    ce--;

  /* Standalone: alone on its line, apart from blanks. */
  if (can_stand_alone(type) && !p->tag_on_line) {
    size_t i = p->line_begin;

    while (i < at && (s[i] == ' ' || s[i] == '\t'))
      i++;
    if (i == at)
      after = standalone_end(p, end);
  }
  rest = after ? p->line_begin : at;
  if ((rc = push_text(p, p->text_start, rest)) < 0)
    return rc;

  nd.line = line_at(p, at);
  switch (type) {
  case '!':
    break;
  case '=':
    if ((rc = set_delims(p, at, s + cb, ce - cb)) < 0)
      return rc;
    break;
  case '#':
  case '^':
    nd.type = type == '#' ? N_SECTION : N_INVERTED;
    if ((rc = store_name(p, &nd, at, s + cb, ce - cb, 0)) < 0 ||
        (rc = open_section(p, at, &nd)) < 0)
      return rc;
    break;
  case '/':
    if ((rc = close_section(p, at, s + cb, ce - cb)) < 0)
      return rc;
    break;
  case '>':
    nd.type = N_PARTIAL;
    if (after) {
      nd.ind = (uint32_t)p->line_begin;
      nd.nind = (uint32_t)(at - p->line_begin);
    }
    if ((rc = store_name(p, &nd, at, s + cb, ce - cb, 1)) < 0 ||
        (rc = push_node(p, &nd)) < 0)
      return rc;
    break;
  default:
    nd.type = type ? N_RAW : N_VAR;
    if ((rc = store_name(p, &nd, at, s + cb, ce - cb, 0)) < 0 ||
        (rc = push_node(p, &nd)) < 0)
      return rc;
    break;
  }

  if (after) {
    p->text_start = after;
    p->line_begin = after;
    p->tag_on_line = 0;
  } else {
    p->text_start = end;
    p->tag_on_line = 1;
  }
  return 0;
}

static int parse(parser *p)
{
  int rc;

  while (p->text_start < p->n) {
    size_t from = p->text_start, at;
    const char *x = memmem(p->s + from, p->n - from, p->otag, p->olen);
    const char *nl;

    if (x == NULL)
      break;
    at = (size_t)(x - p->s);
    nl = memrchr(p->s + from, '\n', at - from);
    if (nl != NULL) {
      p->line_begin = (size_t)(nl - p->s) + 1;
      p->tag_on_line = 0;
    }
    if ((rc = parse_tag(p, at)) < 0)
      return rc;
  }
  if ((rc = push_text(p, p->text_start, p->n)) < 0)
    return rc;
  if (p->depth > 0) {
    const mnode *sec = &p->t->nodes[p->open[p->depth - 1]];

    return vc__error_set(VC_ERRCLASS_TEMPLATE, VC_EINVALID,
                         "line %u: unclosed section '%.*s'",
                         (unsigned)sec->line,
                         QUOTE(p->t->pool.ptr + sec->a));
  }
  return 0;
}

void vc__mustache_free(vc__mustache *t)
{
  if (t == NULL)
    return;
  vc__free(t->src);
  vc__free(t->nodes);
  vc_buf_dispose(&t->pool);
  vc__free(t);
}

/* Compile a source the caller allocated; takes ownership of `src`. */
static int compile_owned(vc__mustache **out, char *src, size_t len)
{
  vc__mustache *t = NULL;
  parser p = { 0 };
  int rc;

  if (!vc__utf8_valid(src, len)) {
    rc = vc__error_set(VC_ERRCLASS_TEMPLATE, VC_EENCODING,
                       "template is not valid UTF-8");
    goto out;
  }
  if (memchr(src, '\0', len) != NULL) {
    rc = vc__error_set(VC_ERRCLASS_TEMPLATE, VC_EENCODING,
                       "template contains a NUL byte");
    goto out;
  }
  if ((t = vc__calloc(1, sizeof(*t))) == NULL) {
    rc = vc_error_set_oom();
    goto out;
  }
  t->src = src;
  t->len = len;
  src = NULL;
  p.t = t;
  p.s = t->src;
  p.n = len;
  p.otag = "{{";
  p.ctag = "}}";
  p.olen = p.clen = 2;
  p.lc_line = 1;
  if ((rc = parse(&p)) < 0)
    goto out;
  *out = t;
  t = NULL;
out:
  vc__free(src);
  vc__mustache_free(t);
  return rc;
}

int vc__mustache_compile(vc__mustache **out, const char *src, size_t len)
{
  char *copy = NULL;

  VC_ASSERT_ARG(out != NULL);
  VC_ASSERT_ARG(src != NULL || len == 0);
  if (len > VC__MUSTACHE_MAX_SOURCE)
    return vc__error_set(VC_ERRCLASS_TEMPLATE, VC_ETOOBIG,
                         "template is %zu bytes, over the %d byte limit",
                         len, VC__MUSTACHE_MAX_SOURCE);
  /* One spare byte so that an empty template is not malloc(0). */
  if ((copy = vc__malloc(len + 1)) == NULL)
    return vc_error_set_oom();
  if (len > 0)
    memcpy(copy, src, len);
  copy[len] = '\0';
  return compile_owned(out, copy, len);
}

int vc__mustache_names(const vc__mustache *t,
                       int (*cb)(const char *name, int kind, void *p),
                       void *p)
{
  VC_ASSERT_ARG(t != NULL);
  VC_ASSERT_ARG(cb != NULL);
  for (size_t i = 0; i < t->n; i++) {
    const mnode *nd = &t->nodes[i];
    int kind, rc;

    switch (nd->type) {
    case N_VAR:
    case N_RAW:
      kind = VC__MUSTACHE_NAME_VAR;
      break;
    case N_SECTION:
      kind = VC__MUSTACHE_NAME_SECTION;
      break;
    case N_INVERTED:
      kind = VC__MUSTACHE_NAME_INVERTED;
      break;
    case N_PARTIAL:
      kind = VC__MUSTACHE_NAME_PARTIAL;
      break;
    default:
      continue;
    }
    if (nd->nseg == 0 && kind != VC__MUSTACHE_NAME_PARTIAL)
      continue;   /* "." names the current context, not a variable */
    if ((rc = cb(t->pool.ptr + nd->a, kind, p)) != 0)
      return rc;
  }
  return 0;
}

int vc__mustache_root_names(const vc__mustache *t,
                            int (*cb)(const char *name, int kind, void *p),
                            void *p)
{
  size_t i = 0;

  VC_ASSERT_ARG(t != NULL);
  VC_ASSERT_ARG(cb != NULL);
  while (i < t->n) {
    const mnode *nd = &t->nodes[i];
    int kind = -1, rc;

    if (nd->type == N_VAR || nd->type == N_RAW)
      kind = VC__MUSTACHE_NAME_VAR;
    else if (nd->type == N_SECTION)
      kind = VC__MUSTACHE_NAME_SECTION;
    else if (nd->type == N_INVERTED)
      kind = VC__MUSTACHE_NAME_INVERTED;
    if (kind >= 0 && nd->nseg > 0 &&
        (rc = cb(t->pool.ptr + nd->a, kind, p)) != 0)
      return rc;
    /* A section's body resolves against its value: skip it. */
    i = nd->type == N_SECTION ? nd->end : i + 1;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Renderer                                                            */

/* The context stack lives on the C stack, one frame per section. */
typedef struct frame {
  const cJSON *v;
  const struct frame *up;
} frame;

/* Partials compiled during one render, keyed by name and indentation. */
typedef struct pentry {
  struct pentry *next;
  const char *name;       /* in the including template's pool */
  const char *ind;
  size_t nind;
  vc__mustache *t;        /* NULL: not found */
} pentry;

typedef struct rstate {
  vc_buf *out;
  size_t base;            /* out->size at the start */
  size_t max;
  const vc__mustache_opts *o;
  uint64_t steps, max_steps;
  pentry *cache;
  int pdepth;             /* partials entered */
  int depth;              /* sections entered, across partials */
  int wrapped;            /* the message already names the partial */
} rstate;

static int put(rstate *s, const char *d, size_t len)
{
  if (len > s->max - (s->out->size - s->base))
    return vc__error_set(VC_ERRCLASS_TEMPLATE, VC_ETOOBIG,
                         "output over the %zu byte limit", s->max);
  return vc__buf_put(s->out, d, len);
}

static int put_escaped(rstate *s, const char *d, size_t len)
{
  size_t run = 0;
  int rc;

  for (size_t i = 0; i < len; i++) {
    const char *e;

    switch (d[i]) {
    case '&': e = "&amp;"; break;
    case '<': e = "&lt;"; break;
    case '>': e = "&gt;"; break;
    case '"': e = "&quot;"; break;
    case '\'': e = "&#39;"; break;
    default: continue;
    }
    if ((rc = put(s, d + run, i - run)) < 0 ||
        (rc = put(s, e, strlen(e))) < 0)
      return rc;
    run = i + 1;
  }
  return put(s, d + run, len - run);
}

/* Integers without a fraction; others in the shortest exact %g form. */
static void format_number(char *b, size_t n, double d)
{
  const char *dp;
  char *at;

  if (!isfinite(d)) {                     /* cJSON reads 1e999 as inf */
    b[0] = '\0';
  } else if (d > -1e15 && d < 1e15 && (double)(long long)d == d) {
    snprintf(b, n, "%lld", (long long)d);  /* also turns -0 into 0 */
  } else {
    snprintf(b, n, "%.15g", d);
    if (strtod(b, NULL) != d)
      snprintf(b, n, "%.17g", d);
    /* printf follows the host's LC_NUMERIC; the output wants a '.'. */
    dp = localeconv()->decimal_point;
    if (dp != NULL && dp[0] != '\0' && strcmp(dp, ".") != 0 &&
        (at = strstr(b, dp)) != NULL) {
      size_t dl = strlen(dp);

      *at = '.';
      memmove(at + 1, at + dl, strlen(at + dl) + 1);
    }
  }
}

static int tick(rstate *s, uint64_t n)
{
  s->steps += n;
  if (s->steps > s->max_steps)
    return vc__error_set(VC_ERRCLASS_TEMPLATE, VC_ETOOBIG,
                         "template work limit exceeded (loops over "
                         "large lists?)");
  return 0;
}

/*
 * Resolve a name: its first segment in the nearest context that has it,
 * the others inside that value only (the spec's dotted-name rule).
 */
static int lookup(rstate *s, const frame *f, const vc__mustache *t,
                  const mnode *nd, const cJSON **v)
{
  const char *seg = t->pool.ptr + nd->b;
  const cJSON *x = NULL;
  uint64_t walked = 0;
  int rc;

  *v = NULL;
  if (nd->nseg == 0) {
    *v = f->v;
    return 0;
  }
  for (; f != NULL && x == NULL; f = f->up, walked++)
    if (cJSON_IsObject(f->v))
      x = cJSON_GetObjectItemCaseSensitive(f->v, seg);
  if ((rc = tick(s, walked)) < 0)
    return rc;
  for (unsigned i = 1; i < nd->nseg && x != NULL; i++) {
    seg += strlen(seg) + 1;
    x = cJSON_IsObject(x) ? cJSON_GetObjectItemCaseSensitive(x, seg)
                          : NULL;
  }
  *v = x;
  return 0;
}

static int is_optional(const rstate *s, const char *name)
{
  for (size_t i = 0; i < s->o->noptional; i++)
    if (s->o->optional[i] != NULL && strcmp(s->o->optional[i], name) == 0)
      return 1;
  return 0;
}

static int interpolate(rstate *s, const vc__mustache *t, const mnode *nd,
                       const frame *f)
{
  const char *name = t->pool.ptr + nd->a;
  const cJSON *v;
  char num[40];
  int rc;

  if ((rc = lookup(s, f, t, nd, &v)) < 0)
    return rc;
  if (cJSON_IsString(v) && v->valuestring != NULL) {
    const char *str = v->valuestring;

    if (nd->type == N_VAR && s->o->escape_html)
      return put_escaped(s, str, strlen(str));
    return put(s, str, strlen(str));
  }
  if (cJSON_IsNumber(v)) {
    format_number(num, sizeof(num), v->valuedouble);
    return put(s, num, strlen(num));
  }
  if (cJSON_IsTrue(v))
    return put(s, "true", 4);
  if (cJSON_IsFalse(v) || cJSON_IsNull(v))
    return 0;
  if (!s->o->strict || is_optional(s, name))
    return 0;
  if (v == NULL)
    return vc__error_set(VC_ERRCLASS_TEMPLATE, VC_EINVALID,
                         "line %u: no value for '%.*s'",
                         (unsigned)nd->line, QUOTE(name));
  return vc__error_set(VC_ERRCLASS_TEMPLATE, VC_EINVALID,
                       "line %u: '%.*s' is %s, not a value",
                       (unsigned)nd->line, QUOTE(name),
                       cJSON_IsArray(v) ? "a list" : "an object");
}

static int truthy(const cJSON *v)
{
  if (v == NULL || cJSON_IsFalse(v) || cJSON_IsNull(v))
    return 0;
  if (cJSON_IsArray(v))
    return v->child != NULL;
  if (cJSON_IsString(v))
    return v->valuestring != NULL && v->valuestring[0] != '\0';
  return 1;
}

static int render_nodes(rstate *s, const vc__mustache *t, size_t i,
                        size_t end, const frame *f);

/* Indent every non-empty line of a partial's source by `ind`. */
static int indent_source(char **out, size_t *outlen, const char *src,
                         size_t len, const char *ind, size_t nind)
{
  size_t lines = 0, total, o = 0;
  char *d;

  for (size_t i = 0; i < len; i++)
    if ((i == 0 || src[i - 1] == '\n') && src[i] != '\n')
      lines++;
  if (nind > 0 && lines > (4 * (size_t)VC__MUSTACHE_MAX_SOURCE) / nind)
    return vc__error_set(VC_ERRCLASS_TEMPLATE, VC_ETOOBIG,
                         "partial too big once indented");
  total = len + lines * nind;
  if ((d = vc__malloc(total + 1)) == NULL)
    return vc_error_set_oom();
  for (size_t i = 0; i < len; i++) {
    if ((i == 0 || src[i - 1] == '\n') && src[i] != '\n') {
      memcpy(d + o, ind, nind);
      o += nind;
    }
    d[o++] = src[i];
  }
  d[o] = '\0';
  *out = d;
  *outlen = o;
  return 0;
}

/* Fetch and compile a partial into a new cache entry. */
static int load_partial(rstate *s, pentry *e, const mnode *nd)
{
  const char *src = NULL;
  size_t len = 0, nlen = 0;
  char *copy = NULL;
  int rc;

  rc = s->o->partial ? s->o->partial(&src, &len, e->name,
                                     s->o->partial_payload)
                     : VC_ENOTFOUND;
  if (rc == VC_ENOTFOUND) {
    if (!s->o->strict)
      return 0;
    return vc__error_set(VC_ERRCLASS_TEMPLATE, VC_ENOTFOUND,
                         "line %u: partial '%.*s' not found",
                         (unsigned)nd->line, QUOTE(e->name));
  }
  if (rc < 0)
    return rc;
  if (src == NULL && len > 0)
    return vc__error_set(VC_ERRCLASS_TEMPLATE, VC_EINVALID,
                         "partial '%.*s': no source", QUOTE(e->name));
  if (len > VC__MUSTACHE_MAX_SOURCE) {
    rc = vc__error_set(VC_ERRCLASS_TEMPLATE, VC_ETOOBIG,
                       "partial '%.*s' is %zu bytes, over the %d byte "
                       "limit", QUOTE(e->name), len,
                       VC__MUSTACHE_MAX_SOURCE);
    return rc;
  }
  if ((rc = indent_source(&copy, &nlen, src ? src : "", len, e->ind,
                          e->nind)) < 0)
    return rc;
  if ((rc = compile_owned(&e->t, copy, nlen)) < 0) {
    char what[MSG_NAME + 16];

    snprintf(what, sizeof(what), "partial '%.*s'", QUOTE(e->name));
    return vc__error_wrap(what);
  }
  return 0;
}

static int render_partial(rstate *s, const vc__mustache *t,
                          const mnode *nd, const frame *f)
{
  const char *name = t->pool.ptr + nd->a;
  const char *ind = t->src + nd->ind;
  pentry *e;
  int rc;

  for (e = s->cache; e != NULL; e = e->next)
    if (e->nind == nd->nind && strcmp(e->name, name) == 0 &&
        memcmp(e->ind, ind, nd->nind) == 0)
      break;
  if (e == NULL) {
    if ((e = vc__calloc(1, sizeof(*e))) == NULL)
      return vc_error_set_oom();
    e->name = name;
    e->ind = ind;
    e->nind = nd->nind;
    e->next = s->cache;
    s->cache = e;
    if ((rc = load_partial(s, e, nd)) < 0) {
      s->wrapped = 1;
      return rc;
    }
  }
  if (e->t == NULL)
    return 0;     /* not found, not strict: renders as nothing */
  if (s->pdepth == VC__MUSTACHE_MAX_PARTIAL_DEPTH) {
    s->wrapped = 1;
    return vc__error_set(VC_ERRCLASS_TEMPLATE, VC_ETOOBIG,
                         "line %u: partials nested deeper than %d at "
                         "'%.*s' (recursive data?)", (unsigned)nd->line,
                         VC__MUSTACHE_MAX_PARTIAL_DEPTH, QUOTE(name));
  }
  s->pdepth++;
  rc = render_nodes(s, e->t, 0, e->t->n, f);
  s->pdepth--;
  if (rc < 0 && !s->wrapped) {
    char what[MSG_NAME + 16];

    /* Only the innermost partial names itself in the message. */
    s->wrapped = 1;
    snprintf(what, sizeof(what), "partial '%.*s'", QUOTE(name));
    vc__error_wrap(what);
  }
  return rc;
}

static int render_section(rstate *s, const vc__mustache *t, size_t i,
                          const frame *f)
{
  const mnode *nd = &t->nodes[i];
  const cJSON *v;
  frame sub;
  int rc;

  if ((rc = lookup(s, f, t, nd, &v)) < 0)
    return rc;
  if (truthy(v) == (nd->type == N_INVERTED))
    return 0;
  /* Each template is bounded at parse time; this bounds the stack when
   * partials nest sections in sections. */
  if (s->depth == RENDER_MAX_DEPTH)
    return vc__error_set(VC_ERRCLASS_TEMPLATE, VC_ETOOBIG,
                         "line %u: sections nested deeper than %d "
                         "through partials", (unsigned)nd->line,
                         RENDER_MAX_DEPTH);
  s->depth++;
  sub.up = f;
  if (nd->type == N_INVERTED) {
    rc = render_nodes(s, t, i + 1, nd->end, f);
  } else if (!cJSON_IsArray(v)) {
    sub.v = v;
    rc = render_nodes(s, t, i + 1, nd->end, &sub);
  } else {
    rc = 0;
    for (const cJSON *it = v->child; it != NULL && rc == 0;
         it = it->next) {
      sub.v = it;
      if ((rc = tick(s, 1)) == 0)
        rc = render_nodes(s, t, i + 1, nd->end, &sub);
    }
  }
  s->depth--;
  return rc;
}

static int render_nodes(rstate *s, const vc__mustache *t, size_t i,
                        size_t end, const frame *f)
{
  int rc = 0;

  while (i < end && rc == 0) {
    const mnode *nd = &t->nodes[i];

    if ((rc = tick(s, 1)) < 0)
      break;
    switch (nd->type) {
    case N_TEXT:
      rc = put(s, t->src + nd->a, nd->b);
      i++;
      break;
    case N_VAR:
    case N_RAW:
      rc = interpolate(s, t, nd, f);
      i++;
      break;
    case N_SECTION:
    case N_INVERTED:
      rc = render_section(s, t, i, f);
      i = nd->end;
      break;
    default:
      rc = render_partial(s, t, nd, f);
      i++;
      break;
    }
  }
  return rc;
}

int vc__mustache_render(vc_buf *out, const vc__mustache *t,
                        const cJSON *data, const vc__mustache_opts *o)
{
  static const vc__mustache_opts defaults = VC__MUSTACHE_OPTS_INIT;
  rstate s = { 0 };
  frame root = { data, NULL };
  int rc;

  VC_ASSERT_ARG(out != NULL);
  VC_ASSERT_ARG(t != NULL);
  s.out = out;
  s.base = out->size;
  s.o = o ? o : &defaults;
  s.max = s.o->max_output ? s.o->max_output
                          : VC__MUSTACHE_DEFAULT_MAX_OUTPUT;
  /* Enough for any template that prints what it loops over. */
  s.max_steps = 8 * (uint64_t)s.max + (1u << 20);
  rc = render_nodes(&s, t, 0, t->n, &root);
  while (s.cache != NULL) {
    pentry *next = s.cache->next;

    vc__mustache_free(s.cache->t);
    vc__free(s.cache);
    s.cache = next;
  }
  if (rc == 0 && out->ptr == NULL)
    rc = vc__buf_grow(out, 0);   /* an empty result is still a string */
  if (rc < 0 && out->reserved > 0) {
    /* Leave nothing half-rendered. */
    out->size = s.base;
    out->ptr[s.base] = '\0';
  }
  return rc;
}
