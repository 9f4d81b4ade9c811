/*
 * Encodings. See codec.h.
 */
#include "common.h"
#include "buf.h"
#include "codec.h"

#include <mbedtls/base64.h>

int vc__base64_encode(vc_buf *out, const void *data, size_t len)
{
  size_t need = 4 * ((len + 2) / 3), olen = 0;
  int rc;

  if ((rc = vc__buf_grow(out, need)) < 0)
    return rc;
  if (mbedtls_base64_encode((unsigned char *)out->ptr + out->size, need + 1,
                            &olen, data, len) != 0)
    return vc__error_set(VC_ERRCLASS_INTERNAL, VC_ERROR, "base64 failed");
  out->size += olen;
  out->ptr[out->size] = '\0';
  return 0;
}

int vc__base64_decode(vc_buf *out, const char *text, size_t len)
{
  size_t need = 3 * (len / 4) + 3, olen = 0;
  int rc;

  if ((rc = vc__buf_grow(out, need)) < 0)
    return rc;
  if (mbedtls_base64_decode((unsigned char *)out->ptr + out->size, need,
                            &olen, (const unsigned char *)text, len) != 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "malformed base64");
  out->size += olen;
  out->ptr[out->size] = '\0';
  return 0;
}

void vc__hex_encode(char *out, const void *data, size_t len)
{
  static const char digits[] = "0123456789abcdef";
  const uint8_t *p = data;

  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  out[2 * len] = '\0';
}

static int unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

int vc__form_encode(vc_buf *out, const char *s, size_t len)
{
  static const char digits[] = "0123456789ABCDEF";
  int rc;

  if ((rc = vc__buf_grow(out, 3 * len)) < 0)
    return rc;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (unreserved(c)) {
      out->ptr[out->size++] = (char)c;
    } else if (c == ' ') {
      out->ptr[out->size++] = '+';
    } else {
      out->ptr[out->size++] = '%';
      out->ptr[out->size++] = digits[c >> 4];
      out->ptr[out->size++] = digits[c & 15];
    }
  }
  out->ptr[out->size] = '\0';
  return 0;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int vc__percent_decode(vc_buf *out, const char *s, size_t len,
                       int plus_is_space)
{
  int rc;

  if ((rc = vc__buf_grow(out, len)) < 0)
    return rc;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
        hexval(s[i + 2]) >= 0) {
      c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    out->ptr[out->size++] = c;
  }
  out->ptr[out->size] = '\0';
  return 0;
}

void vc__form_free(vc__form *f)
{
  if (f == NULL)
    return;
  for (size_t i = 0; i < f->n; i++) {
    vc__free(f->pairs[i].name);
    vc__free(f->pairs[i].value);
  }
  vc__free(f->pairs);
  f->pairs = NULL;
  f->n = 0;
}

/* Decode s[0..len) into a new NUL-terminated string. */
static int decode_dup(char **out, const char *s, size_t len)
{
  vc_buf b = VC_BUF_INIT;
  int rc = vc__percent_decode(&b, s, len, 1);

  if (rc < 0) {
    vc_buf_dispose(&b);
    return rc;
  }
  if (b.ptr == NULL && (b.ptr = vc__strdup("")) == NULL)
    return vc_error_set_oom();
  *out = b.ptr;
  return 0;
}

int vc__form_parse(vc__form *f, const char *body, size_t len,
                   size_t max_pairs)
{
  size_t i = 0, cap = 0;
  int rc = 0;

  f->pairs = NULL;
  f->n = 0;
  while (i < len && rc == 0) {
    size_t end = i, eq;
    while (end < len && body[end] != '&')
      end++;
    for (eq = i; eq < end && body[eq] != '='; eq++)
      ;
    if (end > i) {
      vc__form_pair *p;
      if (f->n == max_pairs) {
        rc = vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                           "form body has more than %zu fields",
                           max_pairs);
        break;
      }
      if (f->n == cap) {
        size_t ncap = cap ? cap * 2 : 16;
        vc__form_pair *np = vc__realloc(f->pairs, ncap * sizeof(*np));
        if (np == NULL) {
          rc = vc_error_set_oom();
          break;
        }
        f->pairs = np;
        cap = ncap;
      }
      p = &f->pairs[f->n];
      p->name = p->value = NULL;
      if ((rc = decode_dup(&p->name, body + i, eq - i)) == 0)
        rc = decode_dup(&p->value, eq < end ? body + eq + 1 : "",
                        eq < end ? end - eq - 1 : 0);
      f->n++;
    }
    i = end + 1;
  }
  if (rc < 0)
    vc__form_free(f);
  return rc;
}

const char *vc__form_get(const vc__form *f, const char *name)
{
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->pairs[i].name, name) == 0)
      return f->pairs[i].value;
  return NULL;
}
