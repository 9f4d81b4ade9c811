/*
 * vyomcomm tenant: add, list, show, update, delete.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"

static const char USAGE[] =
  "usage: vyomcomm tenant add SLUG [--name NAME] [--timezone ZONE]\n"
  "                          [--locale TAG] [--currency CODE]\n"
  "                          [--quiet HH:MM-HH:MM | --quiet none]\n"
  "       vyomcomm tenant list\n"
  "       vyomcomm tenant show [SLUG|ID]\n"
  "       vyomcomm tenant update SLUG|ID [--slug NEW] [--name ...] ...\n"
  "       vyomcomm tenant delete SLUG|ID\n"
  "\n"
  "Tenants keep every other object apart. The other subcommands work on\n"
  "the tenant named by --tenant (or VYOMCOMM_TENANT, or the config\n"
  "file), or the only one in the store.\n";

static cJSON *tenant_json(const vc_tenant *t)
{
  cJSON *o = cJSON_CreateObject();
  int qs, qe;
  char q[16] = "";

  vc_tenant_quiet_hours(t, &qs, &qe);
  if (qs >= 0 && qe >= 0)
    snprintf(q, sizeof(q), "%02d:%02d-%02d:%02d", qs / 60, qs % 60, qe / 60,
             qe % 60);
  cJSON_AddStringToObject(o, "id", vc_tenant_id(t));
  cJSON_AddStringToObject(o, "slug", vc_tenant_slug(t));
  cJSON_AddStringToObject(o, "name", vc_tenant_name(t));
  cJSON_AddStringToObject(o, "timezone", vc_tenant_timezone(t));
  cJSON_AddStringToObject(o, "locale", vc_tenant_locale(t));
  cJSON_AddStringToObject(o, "currency", vc_tenant_currency(t));
  if (q[0])
    cJSON_AddStringToObject(o, "quiet_hours", q);
  else
    cJSON_AddNullToObject(o, "quiet_hours");
  cli_add_time(o, "created_at", vc_tenant_created_at(t));
  return o;
}

JSON_NEXT_FN(tenant_json_next, vc_tenant, vc_tenant_next,
             tenant_json, vc_tenant_free)

/* The spec's fields from the options; EXIT_USAGE on a bad value. */
static int fill_spec(vc_tenant_spec *s, cli_opt *opts)
{
  const char *q = cli_optv(opts, "--quiet");

  s->name = cli_optv(opts, "--name");
  s->timezone = cli_optv(opts, "--timezone");
  s->locale = cli_optv(opts, "--locale");
  s->currency = cli_optv(opts, "--currency");
  if (q && strcmp(q, "none") == 0) {
    s->quiet_start_min = s->quiet_end_min = VC_QUIET_NONE;
  } else if (q) {
    char a[8], b[8];
    const char *dash = strchr(q, '-');

    if (!dash || dash - q >= (long)sizeof(a) || strlen(dash + 1) >= sizeof(b))
      return cli_usage_error(USAGE, "--quiet needs HH:MM-HH:MM or none", q);
    memcpy(a, q, (size_t)(dash - q));
    a[dash - q] = '\0';
    snprintf(b, sizeof(b), "%s", dash + 1);
    if (cli_parse_hhmm(&s->quiet_start_min, a) < 0 ||
        cli_parse_hhmm(&s->quiet_end_min, b) < 0)
      return cli_usage_error(USAGE, "--quiet needs HH:MM-HH:MM or none", q);
  }
  return 0;
}

static int lookup(vc_tenant **out, vc_ctx *ctx, const char *key)
{
  int rc = vc_tenant_lookup(out, ctx, key);

  if (rc == VC_ENOTFOUND || rc == VC_EINVALID)
    rc = vc_tenant_lookup_id(out, ctx, key);
  /* neither a slug nor an id of a live tenant */
  return rc == VC_EINVALID ? VC_ENOTFOUND : rc;
}

int cmd_tenant(int argc, char **argv)
{
  cli_opt opts[] = {
    CLI_OPT("--name", CLI_VALUE), CLI_OPT("--timezone", CLI_VALUE),
    CLI_OPT("--locale", CLI_VALUE), CLI_OPT("--currency", CLI_VALUE),
    CLI_OPT("--quiet", CLI_VALUE), CLI_OPT("--slug", CLI_VALUE), CLI_OPT_END
  };
  vc_tenant_spec spec = VC_TENANT_SPEC_INIT;
  cli_config cfg;
  cli_args a;
  vc_ctx *ctx = NULL;
  vc_tenant *t = NULL;
  const char *verb;
  int rc;

  if ((rc = cli_config_load(&cfg, &argc, argv)) ||
      (rc = cli_parse(&a, opts, argc, argv, 1, USAGE)))
    return rc == CLI_HELP ? EXIT_OK : rc;
  if (a.npos < 1)
    return cli_usage_error(USAGE, "tenant needs a verb", NULL);
  verb = a.pos[0];
  if (strcmp(verb, "list") && strcmp(verb, "show") && strcmp(verb, "add") &&
      strcmp(verb, "update") && strcmp(verb, "delete"))
    return cli_usage_error(USAGE, "unknown tenant verb", verb);
  if ((strcmp(verb, "list") == 0 && a.npos != 1) ||
      (strcmp(verb, "show") == 0 && a.npos > 2) ||
      (strcmp(verb, "show") && strcmp(verb, "list") && a.npos != 2))
    return cli_usage_error(USAGE, "wrong number of arguments", verb);
  if ((rc = fill_spec(&spec, opts)))
    return rc;
  if ((rc = cli_ctx_open(&ctx, &cfg)) < 0)
    return cli_exit_code(rc);

  if (strcmp(verb, "add") == 0) {
    spec.slug = a.pos[1];
    if ((rc = vc_tenant_new(&t, ctx, &spec)) < 0)
      rc = cli_fail(&cfg, "add the tenant", rc);
    else
      cli_emit(&cfg, tenant_json(t), NULL);
  } else if (strcmp(verb, "list") == 0) {
    static const char *const COLS[] = { "id", "slug", "name", "timezone",
                                        "currency", NULL };
    vc_iter *it;

    if ((rc = vc_tenant_list(&it, ctx, NULL)) < 0)
      rc = cli_fail(&cfg, "list tenants", rc);
    else
      rc = cli_list(&cfg, it, SIZE_MAX, tenant_json_next, "list tenants",
                    COLS);
  } else if (strcmp(verb, "show") == 0 && a.npos == 1) {
    if ((rc = cli_tenant_open(&t, ctx, &cfg)) < 0)
      rc = cli_exit_code(rc);
    else
      cli_emit(&cfg, tenant_json(t), NULL);
  } else if ((rc = lookup(&t, ctx, a.pos[1])) < 0) {
    rc = cli_fail(&cfg, "find the tenant", rc);
  } else if (strcmp(verb, "show") == 0) {
    cli_emit(&cfg, tenant_json(t), NULL);
  } else if (strcmp(verb, "update") == 0) {
    spec.slug = cli_optv(opts, "--slug");
    if (!cli_opt_get(opts, "--quiet")->set)
      spec.quiet_start_min = spec.quiet_end_min = VC_TENANT_KEEP;
    spec.quiet_exempt_categories = VC_QUIET_EXEMPT_KEEP;
    if ((rc = vc_tenant_update(t, &spec)) < 0)
      rc = cli_fail(&cfg, "update the tenant", rc);
    else
      cli_emit(&cfg, tenant_json(t), NULL);
  } else {
    if ((rc = vc_tenant_delete(t)) < 0) {
      rc = cli_fail(&cfg, "delete the tenant", rc);
    } else {
      cJSON *o = cJSON_CreateObject();

      cJSON_AddStringToObject(o, "id", vc_tenant_id(t));
      cJSON_AddBoolToObject(o, "deleted", 1);
      cli_emit(&cfg, o, NULL);
    }
  }
  vc_tenant_free(t);
  vc_ctx_free(ctx);
  return rc < 0 ? EXIT_FAILED : rc;
}
