/*
 * The vyomcomm program's configuration. See cli_config.h.
 */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli.h"
#include "cli_config.h"

static void set(char *dst, size_t size, const char *src)
{
  snprintf(dst, size, "%s", src);
}

/* Fill `dst` from the environment when the flag left it empty. */
static void from_env(char *dst, size_t size, const char *name)
{
  const char *v = getenv(name);

  if (dst[0] == '\0' && v && v[0])
    set(dst, size, v);
}

static char *trim(char *s)
{
  char *end;

  while (isspace((unsigned char)*s))
    s++;
  end = s + strlen(s);
  while (end > s && isspace((unsigned char)end[-1]))
    *--end = '\0';
  return s;
}

/* `key = value` lines; a key the flags or environment set keeps that
 * value. */
static int read_file(cli_config *cfg, const char *path, int required)
{
  char line[CLI_PATH_MAX + 64];
  int lineno = 0;
  FILE *f = fopen(path, "r");

  if (!f) {
    if (!required && errno == ENOENT)
      return 0;
    fprintf(stderr, "vyomcomm: cannot read %s: %s\n", path,
            strerror(errno));
    return EXIT_USAGE;
  }
  while (fgets(line, sizeof(line), f)) {
    char *hash = strchr(line, '#'), *eq, *key, *value;

    lineno++;
    if (hash)
      *hash = '\0';
    key = trim(line);
    if (key[0] == '\0')
      continue;
    if (!(eq = strchr(key, '='))) {
      fprintf(stderr, "vyomcomm: %s:%d: expected key = value\n", path,
              lineno);
      fclose(f);
      return EXIT_USAGE;
    }
    *eq = '\0';
    key = trim(key);
    value = trim(eq + 1);
    if (strcmp(key, "store") == 0 && !cfg->store[0])
      set(cfg->store, sizeof(cfg->store), value);
    else if (strcmp(key, "key_file") == 0 && !cfg->key_file[0])
      set(cfg->key_file, sizeof(cfg->key_file), value);
    else if (strcmp(key, "tenant") == 0 && !cfg->tenant[0])
      set(cfg->tenant, sizeof(cfg->tenant), value);
    else if (strcmp(key, "base_url") == 0 && !cfg->base_url[0])
      set(cfg->base_url, sizeof(cfg->base_url), value);
    else if (strcmp(key, "store") && strcmp(key, "key_file") &&
             strcmp(key, "tenant") && strcmp(key, "base_url")) {
      fprintf(stderr, "vyomcomm: %s:%d: unknown key '%s'\n", path, lineno,
              key);
      fclose(f);
      return EXIT_USAGE;
    }
  }
  fclose(f);
  return 0;
}

int cli_config_load(cli_config *cfg, int *argc, char **argv)
{
  static const struct {
    const char *flag;
    size_t offset, size;
  } FLAGS[] = {
    { "--store", offsetof(cli_config, store), CLI_PATH_MAX },
    { "--key-file", offsetof(cli_config, key_file), CLI_PATH_MAX },
    { "--tenant", offsetof(cli_config, tenant), 128 },
    { "--base-url", offsetof(cli_config, base_url), 1024 },
    { "--config", offsetof(cli_config, config_file), CLI_PATH_MAX },
  };
  int out = 1, rc;

  memset(cfg, 0, sizeof(*cfg));
  for (int i = 1; i < *argc; i++) {
    size_t f, nflags = sizeof(FLAGS) / sizeof(FLAGS[0]);

    if (strcmp(argv[i], "--json") == 0) {
      cfg->json = 1;
      continue;
    }
    for (f = 0; f < nflags; f++)
      if (strcmp(argv[i], FLAGS[f].flag) == 0)
        break;
    if (f == nflags) {
      argv[out++] = argv[i];
      continue;
    }
    if (i + 1 >= *argc) {
      fprintf(stderr, "vyomcomm: %s needs a value\n", argv[i]);
      return EXIT_USAGE;
    }
    set((char *)cfg + FLAGS[f].offset, FLAGS[f].size, argv[++i]);
  }
  *argc = out;
  argv[out] = NULL;

  from_env(cfg->store, sizeof(cfg->store), "VYOMCOMM_STORE");
  from_env(cfg->key_file, sizeof(cfg->key_file), "VYOMCOMM_KEY_FILE");
  from_env(cfg->tenant, sizeof(cfg->tenant), "VYOMCOMM_TENANT");
  from_env(cfg->base_url, sizeof(cfg->base_url), "VYOMCOMM_BASE_URL");
  from_env(cfg->config_file, sizeof(cfg->config_file), "VYOMCOMM_CONFIG");
  if (cfg->config_file[0])
    rc = read_file(cfg, cfg->config_file, 1);
  else
    rc = read_file(cfg, "vyomcomm.conf", 0);
  if (rc)
    return rc;
  if (!cfg->store[0])
    set(cfg->store, sizeof(cfg->store), "vyomcomm.db");
  if (!cfg->key_file[0])
    set(cfg->key_file, sizeof(cfg->key_file), "vyomcomm.key");
  return 0;
}

int cli_key_read(const cli_config *cfg, uint8_t key[VC_MASTER_KEY_SIZE])
{
  char hex[2 * VC_MASTER_KEY_SIZE + 2];
  size_t n;
  FILE *f = fopen(cfg->key_file, "r");

  if (!f) {
    fprintf(stderr, "vyomcomm: cannot read the key file %s: %s (run "
            "'vyomcomm init' first)\n", cfg->key_file, strerror(errno));
    return -1;
  }
  n = fread(hex, 1, sizeof(hex) - 1, f);
  fclose(f);
  hex[n] = '\0';
  while (n > 0 && isspace((unsigned char)hex[n - 1]))
    hex[--n] = '\0';
  if (n != 2 * VC_MASTER_KEY_SIZE)
    goto bad;
  for (size_t i = 0; i < VC_MASTER_KEY_SIZE; i++) {
    unsigned int b;

    if (!isxdigit((unsigned char)hex[2 * i]) ||
        !isxdigit((unsigned char)hex[2 * i + 1]) ||
        sscanf(hex + 2 * i, "%2x", &b) != 1)
      goto bad;
    key[i] = (uint8_t)b;
  }
  return 0;
bad:
  fprintf(stderr, "vyomcomm: %s must hold 64 hex digits\n", cfg->key_file);
  return -1;
}

static void on_log(int level, const char *line, void *payload)
{
  (void)payload;
  if (level <= VC_LOG_WARN)
    fprintf(stderr, "vyomcomm: %s\n", line);
}

int cli_ctx_open(vc_ctx **out, const cli_config *cfg)
{
  vc_ctx_options opts = VC_CTX_OPTIONS_INIT;
  vc_master_key mk = VC_MASTER_KEY_INIT;
  uint8_t key[VC_MASTER_KEY_SIZE];
  vc_store *store;
  int rc;

  if (cli_key_read(cfg, key) < 0)
    return VC_EKEY;
  if ((rc = vc_store_open_sqlite(&store, cfg->store, NULL)) < 0) {
    cli_error(cfg, "open the store", rc);
    return rc;
  }
  mk.key = key;
  mk.key_len = sizeof(key);
  opts.store = store;
  opts.master_key = &mk;
  opts.log_cb = on_log;
  opts.log_level = VC_LOG_WARN;
  opts.allow_private_network = 1;
  if (cfg->base_url[0])
    opts.public_base_url = cfg->base_url;
  rc = vc_ctx_new(out, &opts);
  memset(key, 0, sizeof(key));
  if (rc < 0) {
    cli_error(cfg, "open the context", rc);
    vc_store_free(store); /* on failure the caller keeps the store */
  }
  return rc;
}

int cli_tenant_open(vc_tenant **out, vc_ctx *ctx, const cli_config *cfg)
{
  vc_iter *it;
  vc_tenant *first = NULL, *next = NULL;
  int rc;

  if (cfg->tenant[0]) {
    rc = vc_tenant_lookup(out, ctx, cfg->tenant);
    if (rc == VC_ENOTFOUND || rc == VC_EINVALID)
      rc = vc_tenant_lookup_id(out, ctx, cfg->tenant);
    if (rc == VC_EINVALID) { /* neither a slug nor an id */
      fprintf(stderr, "vyomcomm: no tenant '%s'\n", cfg->tenant);
      return VC_ENOTFOUND;
    }
    if (rc < 0)
      cli_error(cfg, "find the tenant", rc);
    return rc;
  }
  if ((rc = vc_tenant_list(&it, ctx, NULL)) < 0) {
    cli_error(cfg, "list tenants", rc);
    return rc;
  }
  if ((rc = vc_tenant_next(&first, it)) == 0 &&
      (rc = vc_tenant_next(&next, it)) == 0) {
    vc_tenant_free(first);
    vc_tenant_free(next);
    vc_iter_free(it);
    fprintf(stderr, "vyomcomm: the store has several tenants: name one "
            "with --tenant\n");
    return VC_EINVALID;
  }
  vc_iter_free(it);
  if (!first) {
    fprintf(stderr, "vyomcomm: the store has no tenant (create one with "
            "'vyomcomm tenant add')\n");
    return VC_ENOTFOUND;
  }
  *out = first;
  return 0;
}

void cli_error(const cli_config *cfg, const char *what, int rc)
{
  const vc_error *e = vc_error_last();
  const char *message = e->code == rc ? e->message : vc_strerror(rc);

  if (cfg && cfg->json) {
    cJSON *o = cJSON_CreateObject(), *err = cJSON_AddObjectToObject(o,
                                                                    "error");
    char *text;

    cJSON_AddStringToObject(err, "operation", what);
    cJSON_AddNumberToObject(err, "code", rc);
    cJSON_AddStringToObject(err, "name", vc_strerror(rc));
    cJSON_AddStringToObject(err, "message", message);
    if ((text = cJSON_PrintUnformatted(o))) {
      printf("%s\n", text);
      cJSON_free(text);
    }
    cJSON_Delete(o);
    return;
  }
  fprintf(stderr, "vyomcomm: %s: %s (%d): %s\n", what, vc_strerror(rc), rc,
          message);
}
