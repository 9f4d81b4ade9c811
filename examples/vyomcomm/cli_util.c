/*
 * The vyomcomm program's shared helpers. See cli_util.h.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_util.h"

volatile int cli_interrupted;

int cli_usage_error(const char *usage, const char *message,
                    const char *detail)
{
  if (detail)
    fprintf(stderr, "vyomcomm: %s: %s\n", message, detail);
  else
    fprintf(stderr, "vyomcomm: %s\n", message);
  if (usage)
    fprintf(stderr, "%s", usage);
  return EXIT_USAGE;
}

cli_opt *cli_opt_get(cli_opt *opts, const char *name)
{
  for (; opts->name; opts++)
    if (strcmp(opts->name, name) == 0)
      return opts;
  return NULL;
}

const char *cli_optv(cli_opt *opts, const char *name)
{
  cli_opt *o = cli_opt_get(opts, name);

  return o && o->set ? o->value : NULL;
}

int cli_parse(cli_args *out, cli_opt *opts, int argc, char **argv,
              int first, const char *usage)
{
  int options = 1;

  out->npos = 0;
  for (int i = first; i < argc; i++) {
    const char *a = argv[i];
    cli_opt *o;

    if (options && strcmp(a, "--") == 0) {
      options = 0;
      continue;
    }
    if (options && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
      printf("%s", usage);
      return CLI_HELP;
    }
    if (!options || a[0] != '-' || a[1] == '\0' ||
        isdigit((unsigned char)a[1]) || a[1] == '+') {
      /* "-" (stdin), and negative numbers, are arguments */
      if (out->npos == CLI_POS_MAX)
        return cli_usage_error(usage, "too many arguments", NULL);
      out->pos[out->npos++] = argv[i];
      continue;
    }
    if (!(o = cli_opt_get(opts, a)))
      return cli_usage_error(usage, "unknown option", a);
    o->set++;
    if (o->takes == CLI_FLAG)
      continue;
    if (i + 1 >= argc)
      return cli_usage_error(usage, "this option needs a value", a);
    o->value = argv[++i];
    if (o->takes == CLI_MULTI) {
      if (o->nvalues == CLI_OPT_VALUES_MAX)
        return cli_usage_error(usage, "this option is repeated too often",
                               a);
      o->values[o->nvalues++] = o->value;
    }
  }
  return 0;
}

int cli_exit_code(int rc)
{
  switch (rc) {
  case 0:
    return EXIT_OK;
  case VC_ENOTFOUND:
    return EXIT_NOTFOUND;
  case VC_EKEY:
  case VC_EAUTH:
  case VC_ECRYPTO:
    return EXIT_KEY;
  case VC_ECONSENT:
    return EXIT_CONSENT;
  case VC_EEXISTS:
  case VC_ECONFLICT:
  case VC_ESTATE:
    return EXIT_CONFLICT;
  case VC_ETIMEOUT:
    return EXIT_TIMEOUT;
  default:
    return EXIT_FAILED;
  }
}

int cli_fail(const cli_config *cfg, const char *what, int rc)
{
  cli_error(cfg, what, rc);
  return cli_exit_code(rc);
}

int cli_open(vc_ctx **ctx, vc_tenant **tenant, const cli_config *cfg)
{
  int rc;

  *ctx = NULL;
  *tenant = NULL;
  if ((rc = cli_ctx_open(ctx, cfg)) < 0)
    return cli_exit_code(rc);
  if ((rc = cli_tenant_open(tenant, *ctx, cfg)) < 0) {
    vc_ctx_free(*ctx);
    *ctx = NULL;
    /* several tenants and none named: the command line lacks --tenant */
    return rc == VC_EINVALID ? EXIT_USAGE : cli_exit_code(rc);
  }
  return 0;
}

void cli_close(vc_ctx *ctx, vc_tenant *tenant)
{
  vc_tenant_free(tenant);
  vc_ctx_free(ctx);
}

/* ---- output ------------------------------------------------------------ */

/* A cell's text: strings as they are, null as "", others as JSON. */
static char *cell(const cJSON *v, char *buf, size_t size)
{
  char *text;

  if (!v || cJSON_IsNull(v)) {
    buf[0] = '\0';
  } else if (cJSON_IsString(v)) {
    snprintf(buf, size, "%s", v->valuestring);
  } else if (cJSON_IsBool(v)) {
    snprintf(buf, size, "%s", cJSON_IsTrue(v) ? "yes" : "no");
  } else if ((text = cJSON_PrintUnformatted(v))) {
    snprintf(buf, size, "%s", text);
    cJSON_free(text);
  } else {
    buf[0] = '\0';
  }
  /* one line per row: a line break in a value would break the table */
  for (char *p = buf; *p; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t')
      *p = ' ';
  return buf;
}

#define CELL_MAX 512
#define COLUMNS_MAX 32

void cli_table(const cJSON *array, const char *const *columns)
{
  size_t width[COLUMNS_MAX], ncol = 0;
  char buf[CELL_MAX];
  const cJSON *row;

  while (columns[ncol] && ncol < COLUMNS_MAX) {
    width[ncol] = strlen(columns[ncol]);
    ncol++;
  }
  cJSON_ArrayForEach(row, array)
    for (size_t c = 0; c < ncol; c++) {
      size_t n = strlen(cell(cJSON_GetObjectItemCaseSensitive(row,
                                                              columns[c]),
                             buf, sizeof(buf)));
      if (n > width[c])
        width[c] = n;
    }
  for (size_t c = 0; c < ncol; c++) {
    for (const char *p = columns[c]; *p; p++)
      putchar(toupper((unsigned char)*p));
    if (c + 1 < ncol)
      printf("%*s", (int)(width[c] - strlen(columns[c]) + 2), "");
  }
  putchar('\n');
  cJSON_ArrayForEach(row, array) {
    for (size_t c = 0; c < ncol; c++) {
      cell(cJSON_GetObjectItemCaseSensitive(row, columns[c]), buf,
           sizeof(buf));
      if (c + 1 < ncol)
        printf("%-*s  ", (int)width[c], buf);
      else
        printf("%s", buf);
    }
    putchar('\n');
  }
}

static void print_object(const cJSON *obj)
{
  const cJSON *m;
  size_t width = 0;

  cJSON_ArrayForEach(m, obj)
    if (strlen(m->string) > width)
      width = strlen(m->string);
  cJSON_ArrayForEach(m, obj) {
    if (cJSON_IsArray(m) && cJSON_GetArraySize(m) > 0 &&
        cJSON_IsObject(cJSON_GetArrayItem(m, 0))) {
      const char *cols[COLUMNS_MAX + 1];
      const cJSON *k;
      size_t n = 0;

      /* a list inside an object (a timeline): a table of its own */
      printf("%s:\n", m->string);
      cJSON_ArrayForEach(k, cJSON_GetArrayItem(m, 0))
        if (n < COLUMNS_MAX)
          cols[n++] = k->string;
      cols[n] = NULL;
      cli_table(m, cols);
      continue;
    }
    if (cJSON_IsString(m)) {
      printf("%-*s  %s\n", (int)width + 1, m->string, m->valuestring);
    } else {
      char buf[CELL_MAX];

      printf("%-*s  %s\n", (int)width + 1, m->string,
             cell(m, buf, sizeof(buf)));
    }
  }
}

int cli_list(const cli_config *cfg, vc_iter *it, size_t limit,
             json_next_fn next, const char *what,
             const char *const *columns)
{
  cJSON *arr = cJSON_CreateArray(), *item;
  size_t n = 0;
  int rc = 0;

  while (n < limit && (rc = next(&item, it)) == 0) {
    cJSON_AddItemToArray(arr, item);
    n++;
  }
  vc_iter_free(it);
  if (n < limit && rc != VC_ITEROVER) {
    cJSON_Delete(arr);
    return cli_fail(cfg, what, rc);
  }
  cli_emit(cfg, arr, columns);
  return 0;
}

void cli_emit(const cli_config *cfg, cJSON *v, const char *const *columns)
{
  if (!v) {
    fprintf(stderr, "vyomcomm: out of memory\n");
    return;
  }
  if (cfg->json) {
    char *text = cJSON_PrintUnformatted(v);

    if (text) {
      printf("%s\n", text);
      cJSON_free(text);
    }
  } else if (cJSON_IsArray(v)) {
    const char *cols[COLUMNS_MAX + 1];

    if (!columns) {
      const cJSON *k;
      size_t n = 0;

      cJSON_ArrayForEach(k, cJSON_GetArrayItem(v, 0))
        if (n < COLUMNS_MAX)
          cols[n++] = k->string;
      cols[n] = NULL;
      columns = cols;
    }
    if (cJSON_GetArraySize(v) == 0)
      printf("(none)\n");
    else
      cli_table(v, columns);
  } else {
    print_object(v);
  }
  cJSON_Delete(v);
}

const char *cli_time(char buf[32], int64_t ms)
{
  time_t t = (time_t)(ms / 1000);
  struct tm tm;

  buf[0] = '\0';
  if (ms > 0 && gmtime_r(&t, &tm)) {
    size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);

    snprintf(buf + n, 32 - n, ".%03dZ", (int)(ms % 1000));
  }
  return buf;
}

void cli_add_time(cJSON *obj, const char *key, int64_t ms)
{
  char buf[32];

  if (ms > 0)
    cJSON_AddStringToObject(obj, key, cli_time(buf, ms));
  else
    cJSON_AddNullToObject(obj, key);
}

void cli_add_json(cJSON *obj, const char *key, const char *json)
{
  cJSON *v = json && json[0] ? cJSON_Parse(json) : NULL;

  if (v)
    cJSON_AddItemToObject(obj, key, v);
  else
    cJSON_AddStringToObject(obj, key, json ? json : "");
}

int cli_parse_int(long long *out, const char *text, long long min,
                  long long max)
{
  char *end;
  long long v;

  errno = 0;
  v = strtoll(text, &end, 10);
  if (errno || end == text || *end || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

int cli_parse_time(int64_t *out, const char *text)
{
  struct tm tm;
  long long ms;
  const char *rest;

  if (cli_parse_int(&ms, text, 0, INT64_MAX / 2) == 0) {
    *out = ms;
    return 0;
  }
  memset(&tm, 0, sizeof(tm));
  if (!(rest = strptime(text, "%Y-%m-%dT%H:%M", &tm)))
    return -1;
  if (*rest == ':' && !(rest = strptime(rest, ":%S", &tm)))
    return -1;
  if (*rest == 'Z')
    rest++;
  if (*rest)
    return -1;
  *out = (int64_t)timegm(&tm) * 1000;
  return 0;
}

int cli_parse_hhmm(int *out, const char *text)
{
  int h, m, n = 0;

  if (sscanf(text, "%2d:%2d%n", &h, &m, &n) != 2 || text[n] ||
      h < 0 || h > 23 || m < 0 || m > 59)
    return -1;
  *out = h * 60 + m;
  return 0;
}

int cli_read_file(char **out, const char *path)
{
  size_t len;

  return cli_read_file_max(out, &len, path, CLI_FILE_MAX);
}

int cli_read_file_max(char **out, size_t *len, const char *path,
                      size_t max)
{
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  size_t n = 0, cap = 4096;
  char *buf;

  *out = NULL;
  if (!f) {
    fprintf(stderr, "vyomcomm: cannot read %s: %s\n", path,
            strerror(errno));
    return -1;
  }
  if (!(buf = malloc(cap)))
    goto oom;
  for (;;) {
    size_t got = fread(buf + n, 1, cap - n - 1, f);

    n += got;
    if (n > max) {
      fprintf(stderr, "vyomcomm: %s is larger than %zu bytes\n", path,
              max);
      goto fail;
    }
    if (got == 0)
      break;
    if (n + 1 == cap) {
      char *bigger = realloc(buf, cap * 2);

      if (!bigger)
        goto oom;
      buf = bigger;
      cap *= 2;
    }
  }
  if (ferror(f)) {
    fprintf(stderr, "vyomcomm: cannot read %s\n", path);
    goto fail;
  }
  buf[n] = '\0';
  if (f != stdin)
    fclose(f);
  *out = buf;
  *len = n;
  return 0;
oom:
  fprintf(stderr, "vyomcomm: out of memory\n");
fail:
  free(buf);
  if (f != stdin)
    fclose(f);
  return -1;
}

int cli_kv_add(cJSON *obj, const char *arg)
{
  const char *eq = strchr(arg, '=');
  char key[256];
  size_t klen;
  int raw;
  cJSON *v;

  if (!eq || eq == arg)
    return -1;
  raw = eq[-1] == ':';
  klen = (size_t)(eq - arg) - (size_t)raw;
  if (klen == 0 || klen >= sizeof(key))
    return -1;
  memcpy(key, arg, klen);
  key[klen] = '\0';
  v = raw ? cJSON_Parse(eq + 1) : cJSON_CreateString(eq + 1);
  if (!v)
    return -1;
  cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
  cJSON_AddItemToObject(obj, key, v);
  return 0;
}

int cli_json_object(char **out, const char *file, const char *const *pairs,
                    size_t npairs)
{
  cJSON *obj = NULL;
  char *text = NULL;

  *out = NULL;
  if (!file && npairs == 0)
    return 0;
  if (file) {
    if (cli_read_file(&text, file) < 0)
      return EXIT_USAGE;
    obj = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(obj)) {
      cJSON_Delete(obj);
      fprintf(stderr, "vyomcomm: %s does not hold a JSON object\n", file);
      return EXIT_USAGE;
    }
  } else if (!(obj = cJSON_CreateObject())) {
    return EXIT_FAILED;
  }
  for (size_t i = 0; i < npairs; i++)
    if (cli_kv_add(obj, pairs[i]) < 0) {
      cJSON_Delete(obj);
      fprintf(stderr, "vyomcomm: expected key=value or key:=JSON, got "
              "'%s'\n", pairs[i]);
      return EXIT_USAGE;
    }
  *out = cJSON_PrintUnformatted(obj);
  cJSON_Delete(obj);
  return *out ? 0 : EXIT_FAILED;
}

int cli_kind(const char *name)
{
  static const int KINDS[] = { VC_CHANNEL_EMAIL, VC_CHANNEL_SMS,
                               VC_CHANNEL_CHAT, VC_CHANNEL_VOICE };

  for (size_t i = 0; name && i < sizeof(KINDS) / sizeof(KINDS[0]); i++)
    if (strcmp(name, vc_channel_kind_name(KINDS[i])) == 0)
      return KINDS[i];
  return 0;
}

int64_t cli_wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
  (void)sig;
  cli_interrupted = 1;
}

void cli_signals_catch(void)
{
  struct sigaction sa;

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}
