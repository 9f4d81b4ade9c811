/*
 * Bounded JSON input. See json.h.
 */
#include "common.h"
#include "json.h"
#include "text.h"

#include <math.h>
#include <pthread.h>

/* cJSON's parser writes a process-global error position on every call:
 * parse under one lock so that concurrent parses are not a data race. */
static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;

/* The deepest nesting of arrays and objects, scanning at most until it
 * passes `limit` (so a hostile input costs one linear pass, and cJSON's
 * recursion never sees it). */
static int nesting(const char *s, size_t n, int limit)
{
  int depth = 0, max = 0, in_string = 0;

  for (size_t i = 0; i < n && max <= limit; i++) {
    char c = s[i];

    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = 0;
    } else if (c == '"') {
      in_string = 1;
    } else if (c == '[' || c == '{') {
      if (++depth > max)
        max = depth;
    } else if (c == ']' || c == '}') {
      depth--;
    }
  }
  return max;
}

/* Whether every number in `v` and after it is finite. JSON has no
 * infinity, but cJSON reads a number past a double's range as one and
 * prints it back as null: kept, it would change the document. The
 * depth is bounded by the nesting check before the parse. */
static int numbers_finite(const cJSON *v)
{
  for (; v != NULL; v = v->next) {
    if (cJSON_IsNumber(v) && !isfinite(v->valuedouble))
      return 0;
    if (v->child != NULL && !numbers_finite(v->child))
      return 0;
  }
  return 1;
}

int vc__json_parse(cJSON **out, const char *what, const char *text,
                   size_t max_bytes, int max_depth, int want_object)
{
  const char *end = NULL;
  cJSON *v;
  size_t n;

  *out = NULL;
  if (text == NULL)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is required", what);
  n = strnlen(text, max_bytes + 1);
  if (n > max_bytes)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "%s is larger than %zu bytes", what, max_bytes);
  if (!vc__utf8_valid(text, n))
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EENCODING,
                         "%s is not valid UTF-8", what);
  if (nesting(text, n, max_depth) > max_depth)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_ETOOBIG,
                         "%s is nested deeper than %d levels", what,
                         max_depth);
  /* n + 1: the NUL is part of the buffer cJSON checks for it in. */
  v = vc__cjson_parse(text, n + 1, &end, 1);
  if (v == NULL) {
    size_t at = end != NULL && end >= text ? (size_t)(end - text) : 0;
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is not valid JSON (byte %zu)", what, at);
  }
  if (want_object && !cJSON_IsObject(v)) {
    cJSON_Delete(v);
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s is not a JSON object", what);
  }
  if (!numbers_finite(v)) {
    cJSON_Delete(v);
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "%s holds a number beyond the range of a double",
                         what);
  }
  *out = v;
  return 0;
}

int vc__json_check_object(const char *what, const char *text,
                          size_t max_bytes, int max_depth)
{
  cJSON *v;
  int rc;

  if (text == NULL)
    return 0;
  rc = vc__json_parse(&v, what, text, max_bytes, max_depth, 1);
  cJSON_Delete(v);
  return rc;
}

cJSON *vc__cjson_parse(const char *text, size_t len, const char **end,
                       int require_nul)
{
  cJSON *v;

  pthread_mutex_lock(&parse_lock);
  v = cJSON_ParseWithLengthOpts(text, len, end, require_nul);
  pthread_mutex_unlock(&parse_lock);
  return v;
}

const char *vc__json_str(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

  return cJSON_IsString(v) ? v->valuestring : NULL;
}

void vc__json_wipe(cJSON *item)
{
  for (; item != NULL; item = item->next) {
    if (item->valuestring != NULL)
      vc__wipe(item->valuestring, strlen(item->valuestring));
    if (item->string != NULL)
      vc__wipe(item->string, strlen(item->string));
    vc__json_wipe(item->child);
  }
}

const char *vc__json_key_name(char out[68], const char *name)
{
  size_t n = 0;

  for (; name != NULL && name[n] != '\0' && n < 64; n++)
    out[n] = name[n] > 0x20 && name[n] < 0x7f ? name[n] : '?';
  out[n] = '\0';
  return out;
}
