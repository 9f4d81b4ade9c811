/*
 * Fuzz target for the Mustache engine (src/msg/mustache.c).
 *
 * Input: the first line is the template, where the two characters
 * "\n" and "\r" stand for a newline and a carriage return (so that one
 * line can hold a multi-line template); the rest is JSON data. Partials
 * come from the data's "partials" object ({name: source}).
 *
 * The template is compiled, its names listed, and rendered twice: with
 * HTML escaping (not strict) and without (strict). Beyond what ASan and
 * UBSan catch, it aborts when an invariant breaks: output over its
 * limit, output left behind by a failed render, a multi-line error
 * message, an error without the template class.
 *
 * libFuzzer build (scratch directory, clang; -I. and -lre are for the
 * targets that reach adapters/, the same line serves every target):
 *   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined \
 *     -Dc_args=-fsanitize=fuzzer-no-link -Db_lundef=false
 *   ninja -C build-fuzz src/libvyomcomm_objects.a
 *   clang -fsanitize=fuzzer,address,undefined -I. -Isrc -Iinclude \
 *     -I/usr/include/cjson -DVC_BUILDING_LIBRARY \
 *     tests/fuzz/mustache_fuzzer.c build-fuzz/src/libvyomcomm_objects.a \
 *     -lcjson -lsqlite3 -lcurl -lre -lmbedtls -lmbedx509 -lmbedcrypto \
 *     -lpthread -lm -o mustache_fuzzer
 *   ./mustache_fuzzer tests/fuzz/corpus/mustache
 * tests/fuzz/campaign.sh builds every target so and runs a campaign
 * (docs/fuzzing.md).
 */
#include "core/common.h"
#include "msg/mustache.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_partial(const char **src, size_t *len, const char *name,
                        void *payload)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(payload, name);

  if (!cJSON_IsString(v))
    return VC_ENOTFOUND;
  *src = v->valuestring;
  *len = strlen(v->valuestring);
  return 0;
}

static int count_name(const char *name, int kind, void *p)
{
  if (name == NULL || name[0] == '\0' || kind < 0 ||
      kind > VC__MUSTACHE_NAME_PARTIAL)
    abort();
  ++*(size_t *)p;
  return 0;
}

static void check_error(int rc)
{
  const vc_error *e = vc_error_last();

  if (rc >= 0 || e->code != rc || strchr(e->message, '\n') != NULL)
    abort();
}

static void render_once(const vc__mustache *t, const cJSON *json,
                        const vc__mustache_opts *o)
{
  vc_buf out = VC_BUF_INIT;
  int rc = vc__mustache_render(&out, t, json, o);

  if (rc == 0) {
    if (out.size > o->max_output ||
        (out.ptr != NULL && out.ptr[out.size] != '\0'))
      abort();
  } else {
    check_error(rc);
    if (out.size != 0)
      abort();
  }
  vc_buf_dispose(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const optional[] = { "x", "a.b" };
  const char *in = (const char *)data;
  const char *nl = memchr(in, '\n', size);
  size_t tlen = nl ? (size_t)(nl - in) : size, n = 0, names = 0;
  char *tpl = malloc(tlen + 1);
  cJSON *json = NULL;
  vc__mustache *t = NULL;
  vc__mustache_opts o = VC__MUSTACHE_OPTS_INIT;
  int rc;

  if (tpl == NULL)
    return 0;
  for (size_t i = 0; i < tlen; i++) {
    if (in[i] == '\\' && i + 1 < tlen &&
        (in[i + 1] == 'n' || in[i + 1] == 'r')) {
      tpl[n++] = in[i + 1] == 'n' ? '\n' : '\r';
      i++;
    } else {
      tpl[n++] = in[i];
    }
  }
  if (nl != NULL)
    json = cJSON_ParseWithLength(nl + 1, size - tlen - 1);

  rc = vc__mustache_compile(&t, tpl, n);
  if (rc < 0) {
    check_error(rc);
    if (t != NULL)
      abort();
    goto out;
  }
  if (vc__mustache_names(t, count_name, &names) != 0)
    abort();

  o.partial = fuzz_partial;
  o.partial_payload = cJSON_GetObjectItemCaseSensitive(json, "partials");
  o.max_output = 64 * 1024;
  render_once(t, json, &o);

  o.escape_html = 0;
  o.strict = 1;
  o.optional = optional;
  o.noptional = 2;
  o.max_output = 4096;
  render_once(t, json, &o);
out:
  vc__mustache_free(t);
  cJSON_Delete(json);
  free(tpl);
  return 0;
}
