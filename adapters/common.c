/*
 * What the built-in adapters share. See common.h.
 */
#include "core/common.h"
#include "core/json.h"
#include "core/text.h"
#include "adapters/common.h"

#include <strings.h>

#define BAD_INPUT(...) \
  vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID, __VA_ARGS__)

int vc__adapter_parse_config(cJSON **out, const char *json,
                             const char *what)
{
  return vc__json_parse(out, what, json ? json : "{}",
                        VC__ADAPTER_CONFIG_MAX, 4, 1);
}

int vc__adapter_init(void **state, size_t size, const char *config_json,
                     const char *credentials_json,
                     int (*read_config)(void *st, const cJSON *cfg),
                     int (*read_credentials)(void *st, const cJSON *cred),
                     void (*fini)(void *st))
{
  cJSON *cfg = NULL, *cred = NULL;
  void *st;
  int rc;

  VC_ASSERT_ARG(state);
  *state = NULL;
  if ((st = vc__calloc(1, size)) == NULL)
    return vc_error_set_oom();
  if ((rc = vc__adapter_parse_config(&cfg, config_json, "config")) < 0 ||
      (rc = read_config(st, cfg)) < 0 ||
      (rc = vc__adapter_parse_config(&cred, credentials_json,
                                     "credentials")) < 0 ||
      (rc = read_credentials(st, cred)) < 0)
    goto out;
  *state = st;
  st = NULL;
out:
  vc__json_wipe(cred);
  cJSON_Delete(cred);
  cJSON_Delete(cfg);
  fini(st);
  return rc;
}

void vc__adapter_free_secret(char *s)
{
  if (s != NULL) {
    vc__wipe(s, strlen(s));
    vc__free(s);
  }
}

/* A key name safe to quote as it is. */
static int id_char(int c) { return vc__is_alnum(c) || c == '_' || c == '-'; }

static int quotable(const char *s)
{
  size_t n = s != NULL ? strnlen(s, 65) : 0;

  return n > 0 && n <= 64 && vc__all_of(s, n, id_char);
}

int vc__adapter_check_keys(const cJSON *obj, const char *what,
                           const char *const *keys, size_t nkeys,
                           int quote)
{
  const cJSON *it;

  cJSON_ArrayForEach(it, obj) {
    size_t k = 0;

    while (k < nkeys &&
           (it->string == NULL || strcmp(it->string, keys[k]) != 0))
      k++;
    if (k == nkeys) {
      if (quote && quotable(it->string))
        return BAD_INPUT("%s has an unknown key '%s'", what, it->string);
      return BAD_INPUT("%s has an unknown key", what);
    }
    for (const cJSON *p = obj->child; p != it; p = p->next)
      if (strcmp(p->string, it->string) == 0)
        return BAD_INPUT("%s.%s is given twice", what, it->string);
  }
  return 0;
}

int vc__adapter_get_str(const char **out, const cJSON *obj,
                        const char *what, const char *key)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

  *out = NULL;
  if (it == NULL || cJSON_IsNull(it))
    return 0;
  if (!cJSON_IsString(it) || it->valuestring == NULL)
    return BAD_INPUT("%s.%s must be a string", what, key);
  *out = it->valuestring;
  return 0;
}

int vc__adapter_read_secret(char **out, const cJSON *cred, const char *key,
                            size_t min, size_t max, int colon_ok)
{
  const char *v;
  size_t n;
  int rc;

  *out = NULL;
  if ((rc = vc__adapter_get_str(&v, cred, "credentials", key)) < 0 ||
      v == NULL)
    return rc;
  n = strnlen(v, max + 1);
  if (n < min || n > max)
    return BAD_INPUT("credentials.%s must be %zu to %zu bytes", key, min,
                     max);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f ||
        (!colon_ok && v[i] == ':'))
      return BAD_INPUT("credentials.%s must be printable ASCII without "
                       "spaces%s", key, colon_ok ? "" : " or ':'");
  if ((*out = vc__strdup(v)) == NULL)
    return vc_error_set_oom();
  return 0;
}

int vc__adapter_loopback_host(const char *host, size_t n)
{
  size_t end = n;

  if (n >= 5 && memcmp(host, "[::1]", 5) == 0)
    return n == 5 || host[5] == ':';
  for (size_t i = 0; i < n; i++)
    if (host[i] == ':') {
      end = i;
      break;
    }
  if (end == 9 && strncasecmp(host, "localhost", 9) == 0)
    return 1;
  if (end < 4 || memcmp(host, "127.", 4) != 0)
    return 0;
  for (size_t i = 4; i < end; i++)
    if (!vc__is_digit((unsigned char)host[i]) && host[i] != '.')
      return 0;
  return 1;
}

int vc__adapter_check_base_url(const char *url, size_t max, size_t *len)
{
  const char *host;
  size_t hlen, n;
  int rc;

  if ((rc = vc__check_token("config 'base_url'", url, max, NULL,
                            "!-~")) < 0)
    return rc;
  if (strncmp(url, "https://", 8) == 0)
    host = url + 8;
  else if (strncmp(url, "http://", 7) == 0)
    host = url + 7;
  else
    return BAD_INPUT("config 'base_url' must start with https://");
  hlen = strcspn(host, "/");
  /* a backslash: parsers that read it as '/' see another host */
  if (hlen == 0 || memchr(host, '@', hlen) != NULL ||
      strpbrk(url, "?#\\") != NULL)
    return BAD_INPUT("config 'base_url' needs a host and no user, query "
                     "or fragment");
  if (host == url + 7 && !vc__adapter_loopback_host(host, hlen))
    return BAD_INPUT("config 'base_url' may use http:// only for a "
                     "loopback host");
  n = strlen(url);
  while (n > 0 && url[n - 1] == '/')
    n--;
  *len = n;
  return 0;
}

int vc__adapter_parse_price(const char *s, int signed_ok, int max_whole,
                            int64_t *micros)
{
  int64_t whole = 0, frac = 0;
  int nwhole = 0, nfrac = 0;

  if (signed_ok && (*s == '-' || *s == '+'))
    s++;
  for (; vc__is_digit((unsigned char)*s); s++)
    if (++nwhole > max_whole)
      return -1;
    else
      whole = whole * 10 + (*s - '0');
  /* digits past the seventh only need to be digits: 7 round to 6 */
  if (*s == '.')
    for (s++; vc__is_digit((unsigned char)*s); s++) {
      if (nfrac < 7)
        frac = frac * 10 + (*s - '0');
      if (++nfrac > 32)
        return -1;
    }
  if (*s != '\0' || (nwhole == 0 && nfrac == 0))
    return -1;
  for (int k = nfrac; k < 7; k++)
    frac *= 10;
  *micros = whole * 1000000 + (frac + 5) / 10;
  return 0;
}
