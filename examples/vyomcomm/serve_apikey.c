/*
 * `vyomcomm apikey add|list|revoke`: the tenant's API keys for `vyomcomm
 * serve`. The secret is printed once, by `add`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_config.h"
#include "serve.h"

static int usage(void)
{
  fprintf(stderr,
          "usage: vyomcomm apikey add [--label TEXT] [--expires-days N]\n"
          "       vyomcomm apikey list [--all]\n"
          "       vyomcomm apikey revoke ID\n"
          "  with the common options (--store, --key-file, --tenant, "
          "--config, --json)\n");
  return EXIT_USAGE;
}

static int add(const cli_config *cfg, vc_tenant *t, int argc, char **argv)
{
  vc_apikey_spec spec = VC_APIKEY_SPEC_INIT;
  char secret[VC_APIKEY_SECRET_SIZE];
  vc_apikey *k;
  int rc;

  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--label") == 0 && i + 1 < argc) {
      spec.label = argv[++i];
    } else if (strcmp(argv[i], "--expires-days") == 0 && i + 1 < argc) {
      char *end;
      long d = strtol(argv[++i], &end, 10);

      if (*end != '\0' || d < 1 || d > 36500)
        return usage();
      spec.expires_at = (int64_t)time(NULL) * 1000 + (int64_t)d * 86400000;
    } else {
      return usage();
    }
  }
  if ((rc = vc_apikey_new(&k, secret, t, &spec)) < 0) {
    cli_error(cfg, "make the API key", rc);
    return EXIT_FAILED;
  }
  if (cfg->json)
    printf("{\"id\":\"%s\",\"tenant_id\":\"%s\",\"secret\":\"%s\"}\n",
           vc_apikey_id(k), vc_apikey_tenant_id(k), secret);
  else
    printf("API key %s for tenant %s (shown once; keep it):\n%s\n",
           vc_apikey_id(k), vc_tenant_slug(t), secret);
  memset(secret, 0, sizeof(secret));
  vc_apikey_free(k);
  return EXIT_OK;
}

static int list(const cli_config *cfg, vc_tenant *t, int argc, char **argv)
{
  vc_apikey_filter f = VC_APIKEY_FILTER_INIT;
  vc_apikey *k;
  vc_iter *it;
  int rc;

  if (argc == 3 && strcmp(argv[2], "--all") == 0)
    f.include_revoked = 1;
  else if (argc != 2)
    return usage();
  if ((rc = vc_apikey_list(&it, t, &f)) < 0) {
    cli_error(cfg, "list API keys", rc);
    return EXIT_FAILED;
  }
  while ((rc = vc_apikey_next(&k, it)) == 0) {
    if (cfg->json) {
      cJSON *o = cJSON_CreateObject();
      char *text;

      cJSON_AddStringToObject(o, "id", vc_apikey_id(k));
      cJSON_AddStringToObject(o, "label", vc_apikey_label(k));
      cJSON_AddNumberToObject(o, "created_at",
                              (double)vc_apikey_created_at(k));
      cJSON_AddNumberToObject(o, "expires_at",
                              (double)vc_apikey_expires_at(k));
      cJSON_AddNumberToObject(o, "revoked_at",
                              (double)vc_apikey_revoked_at(k));
      if ((text = cJSON_PrintUnformatted(o)) != NULL)
        printf("%s\n", text);
      cJSON_free(text);
      cJSON_Delete(o);
    } else {
      printf("%s  %-20s %s\n", vc_apikey_id(k), vc_apikey_label(k),
             vc_apikey_revoked_at(k) ? "revoked" : "active");
    }
    vc_apikey_free(k);
  }
  vc_iter_free(it);
  if (rc != VC_ITEROVER) {
    cli_error(cfg, "list API keys", rc);
    return EXIT_FAILED;
  }
  return EXIT_OK;
}

int cmd_apikey(int argc, char **argv)
{
  cli_config cfg;
  vc_ctx *ctx = NULL;
  vc_tenant *t = NULL;
  int rc;

  if ((rc = cli_config_load(&cfg, &argc, argv)) != 0)
    return rc;
  if (argc < 2 || (strcmp(argv[1], "add") && strcmp(argv[1], "list") &&
                   strcmp(argv[1], "revoke")) ||
      (strcmp(argv[1], "revoke") == 0 && argc != 3))
    return usage();
  if (cli_ctx_open(&ctx, &cfg) < 0)
    return EXIT_FAILED;
  if (cli_tenant_open(&t, ctx, &cfg) < 0) {
    vc_ctx_free(ctx);
    return EXIT_FAILED;
  }
  if (strcmp(argv[1], "add") == 0) {
    rc = add(&cfg, t, argc, argv);
  } else if (strcmp(argv[1], "list") == 0) {
    rc = list(&cfg, t, argc, argv);
  } else if ((rc = vc_apikey_revoke(t, argv[2])) < 0) {
    cli_error(&cfg, "revoke the API key", rc);
    rc = EXIT_FAILED;
  } else {
    if (!cfg.json)
      printf("revoked %s\n", argv[2]);
    rc = EXIT_OK;
  }
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  return rc;
}
