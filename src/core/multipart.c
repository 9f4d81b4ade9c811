/*
 * multipart/form-data parsing: bounded, copying only the text fields.
 */
#include "common.h"
#include "multipart.h"

#include <stdio.h>
#include <strings.h>

#define PART_HEADERS_MAX 8192

static int bad(const char *why)
{
  return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                       "multipart body: %s", why);
}

/* RFC 2046 bchars, without the space (allowed only inside, never last;
 * refused here for simplicity: no sender needs it). */
static int bchar(int c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || (c != '\0' && strchr("'()+_,-./:=?", c));
}

/* Skip spaces and tabs. */
static const char *ws(const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  return p;
}

/*
 * The value of parameter `key` in a header value's `; k=v; k="v"` list,
 * copied to out (cap bytes with the NUL) unless out is NULL. 1 found,
 * 0 absent, VC_EINVALID when malformed or too long. A quoted value may
 * escape with '\'.
 */
static int header_param(char *out, size_t cap, const char *v,
                        const char *end, const char *key)
{
  size_t kl = strlen(key);
  const char *p = v;
  int found = 0;

  /* Past the first token ("form-data", "multipart/form-data"). */
  while (p < end && *p != ';')
    p++;
  while (p < end) {
    const char *k;
    size_t n = 0, klen;
    int want;

    p = ws(p + 1, end);                 /* past ';' */
    k = p;
    while (p < end && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
      p++;
    klen = (size_t)(p - k);
    want = klen == kl && strncasecmp(k, key, kl) == 0 && !found &&
           out != NULL;
    found |= klen == kl && strncasecmp(k, key, kl) == 0;
    p = ws(p, end);
    if (p == end || *p == ';') {
      if (klen == 0 && p < end)
        continue;
      if (klen == 0)
        break;
      return bad("a header parameter has no value");
    }
    p = ws(p + 1, end);                 /* past '=' */
    if (p < end && *p == '"') {
      for (p++; p < end && *p != '"'; p++) {
        if (*p == '\\' && p + 1 < end)
          p++;
        if (want && n + 1 >= cap)
          return bad("a header parameter is too long");
        if (want)
          out[n++] = *p;
      }
      if (p == end)
        return bad("a quoted header parameter is not closed");
      p++;
    } else {
      for (; p < end && *p != ';' && *p != ' ' && *p != '\t'; p++) {
        if (want && n + 1 >= cap)
          return bad("a header parameter is too long");
        if (want)
          out[n++] = *p;
      }
    }
    if (want)
      out[n] = '\0';
    p = ws(p, end);
    if (p < end && *p != ';')
      return bad("a header parameter is malformed");
  }
  return found;
}

int vc__multipart_boundary(char out[71], const char *ct)
{
  static const char type[] = "multipart/form-data";
  const char *end;
  size_t n;
  int rc;

  if (ct == NULL)
    return bad("no Content-Type");
  ct = ws(ct, ct + strlen(ct));
  end = ct + strlen(ct);
  n = sizeof(type) - 1;
  if ((size_t)(end - ct) < n || strncasecmp(ct, type, n) != 0 ||
      (ct[n] != '\0' && ct[n] != ';' && ct[n] != ' ' && ct[n] != '\t'))
    return bad("Content-Type is not multipart/form-data");
  if ((rc = header_param(out, 71, ct, end, "boundary")) < 0)
    return rc;
  if (rc == 0 || out[0] == '\0')
    return bad("Content-Type has no boundary");
  for (const char *p = out; *p; p++)
    if (!bchar((unsigned char)*p))
      return bad("the boundary has an invalid character");
  return 0;
}

/* The first "\r\n--boundary" at or after `from`, or NULL. */
static const uint8_t *find_delim(const uint8_t *from, const uint8_t *end,
                                 const char *delim, size_t dl)
{
  if ((size_t)(end - from) < dl)
    return NULL;
  return memmem(from, (size_t)(end - from), delim, dl);
}

/* One part's headers in [p, hend): its name (copied), whether it has a
 * filename. */
static int part_headers(char *name, size_t cap, int *is_file,
                        const char *p, const char *hend)
{
  int have = 0, rc;

  *is_file = 0;
  while (p < hend) {
    const char *eol = memmem(p, (size_t)(hend - p), "\r\n", 2);
    const char *le = eol ? eol : hend, *colon;

    if (le == p)
      return bad("an empty header line");
    if (memchr(p, '\0', (size_t)(le - p)) != NULL)
      return bad("a NUL byte in a part's headers");
    colon = memchr(p, ':', (size_t)(le - p));
    if (colon == NULL)
      return bad("a part's header line has no colon");
    if (colon - p == 19 && strncasecmp(p, "Content-Disposition", 19) == 0) {
      const char *v = ws(colon + 1, le);
      if (have)
        return bad("a part has two Content-Disposition headers");
      if ((size_t)(le - v) < 9 || strncasecmp(v, "form-data", 9) != 0 ||
          (v + 9 < le && v[9] != ';' && v[9] != ' ' && v[9] != '\t'))
        return bad("a part is not form-data");
      if ((rc = header_param(name, cap, v, le, "name")) < 0)
        return rc;
      if (rc == 0 || name[0] == '\0')
        return bad("a part has no name");
      /* Only its presence matters: the filename itself is not kept. */
      if ((rc = header_param(NULL, 0, v, le, "filename")) < 0)
        return rc;
      *is_file = rc == 1;
      have = 1;
    }
    p = eol ? eol + 2 : hend;
  }
  if (!have)
    return bad("a part has no Content-Disposition");
  return 0;
}

static int add_pair(vc__form *f, size_t *cap, const char *name,
                    const uint8_t *v, size_t vl)
{
  vc__form_pair *p;

  if (memchr(v, '\0', vl) != NULL)
    return bad("a field holds a NUL byte");
  if (f->n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 16;
    vc__form_pair *np = vc__realloc(f->pairs, ncap * sizeof(*np));
    if (np == NULL)
      return vc_error_set_oom();
    f->pairs = np;
    *cap = ncap;
  }
  p = &f->pairs[f->n];
  p->name = vc__strdup(name);
  p->value = vc__malloc(vl + 1);
  f->n++;
  if (p->name == NULL || p->value == NULL)
    return vc_error_set_oom();
  memcpy(p->value, v, vl);
  p->value[vl] = '\0';
  return 0;
}

int vc__multipart_parse(vc__form *f, size_t *nfiles, const char *ct,
                        const uint8_t *body, size_t len, size_t max_parts)
{
  const uint8_t *end = body + len, *p, *next;
  char boundary[71], delim[76], name[256];
  size_t dl, cap = 0, parts = 0;
  int rc, is_file;

  f->pairs = NULL;
  f->n = 0;
  *nfiles = 0;
  VC_ASSERT_ARG(body != NULL || len == 0);
  if ((rc = vc__multipart_boundary(boundary, ct)) < 0)
    return rc;
  dl = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
  /* The first delimiter may open the body (no CR LF before it); a
   * preamble before it is ignored. */
  if (len >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0)
    p = body + dl - 2;
  else if ((p = find_delim(body, end, delim, dl)) != NULL)
    p += dl;
  else
    return bad("no boundary delimiter");
  for (;;) {
    const uint8_t *h, *hend;

    if (end - p >= 2 && p[0] == '-' && p[1] == '-')
      break;                             /* the close delimiter */
    while (p < end && (*p == ' ' || *p == '\t'))
      p++;                               /* transport padding */
    if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
      rc = bad("a delimiter is not followed by CR LF");
      goto out;
    }
    p += 2;
    if (parts++ == max_parts) {
      rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "multipart body has more than %zu parts",
                         max_parts);
      goto out;
    }
    /* Headers end at the first empty line: CR LF CR LF, or CR LF right
     * away when a part has none (then it has no name: refused). */
    h = p;
    hend = (size_t)(end - h) >= 2 && h[0] == '\r' && h[1] == '\n'
             ? h : memmem(h, (size_t)(end - h) < PART_HEADERS_MAX + 4
                               ? (size_t)(end - h) : PART_HEADERS_MAX + 4,
                          "\r\n\r\n", 4);
    if (hend == NULL) {
      rc = bad((size_t)(end - h) > PART_HEADERS_MAX
                 ? "a part's headers are over 8 KB"
                 : "a part's headers do not end");
      goto out;
    }
    if ((rc = part_headers(name, sizeof(name), &is_file, (const char *)h,
                           (const char *)hend)) < 0)
      goto out;
    p = hend + (hend == h ? 2 : 4);
    /* The content ends at CR LF and the next delimiter. */
    if ((next = find_delim(p, end, delim, dl)) == NULL) {
      rc = bad("a part does not end with a delimiter");
      goto out;
    }
    if (is_file)
      (*nfiles)++;
    else if ((rc = add_pair(f, &cap, name, p, (size_t)(next - p))) < 0)
      goto out;
    p = next + dl;
  }
  return 0;
out:
  vc__form_free(f);
  *nfiles = 0;
  return rc;
}
