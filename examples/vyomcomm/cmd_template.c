/*
 * vyomcomm template: add (or add a variant), list, show, render.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"

static const char USAGE[] =
  "usage: vyomcomm template add NAME --kind email|sms|chat|voice\n"
  "                             (--text BODY | --text-file FILE|-)\n"
  "                             [--html BODY | --html-file FILE]\n"
  "                             [--subject S]\n"
  "                             [--locale TAG] [--variables a,b,c?]\n"
  "                             [--category transactional|marketing|otp]\n"
  "       vyomcomm template variant NAME|ID --kind K ... (as add: a new\n"
  "                             version with another kind or locale)\n"
  "       vyomcomm template list [--kind K]\n"
  "       vyomcomm template show NAME|ID\n"
  "       vyomcomm template render NAME|ID [--var KEY=VALUE]...\n"
  "                             [--vars-json FILE|-] [--kind K]\n"
  "                             [--locale TAG]\n"
  "                             [--part text|html|subject] [--version N]\n"
  "\n"
  "Bodies are Mustache ({{name}}); --variables declares the names a body\n"
  "may use (a trailing ? makes one optional). render prints the result\n"
  "without storing anything.\n";

static cJSON *template_json(const vc_template *tpl)
{
  cJSON *o = cJSON_CreateObject();
  const char *cat = vc_category_name(vc_template_category(tpl));

  cJSON_AddStringToObject(o, "id", vc_template_id(tpl));
  cJSON_AddStringToObject(o, "name", vc_template_name(tpl));
  cJSON_AddStringToObject(o, "kind",
                          vc_channel_kind_name(vc_template_kind(tpl)));
  cJSON_AddNumberToObject(o, "version", vc_template_version(tpl));
  cJSON_AddStringToObject(o, "category", cat ? cat : "");
  cli_add_time(o, "created_at", vc_template_created_at(tpl));
  return o;
}

JSON_NEXT_FN(template_json_next, vc_template, vc_template_next,
             template_json, vc_template_free)

/* "a,b,c?" as a JSON array, to cJSON_free(). */
static char *variables_json(const char *list)
{
  cJSON *arr = cJSON_CreateArray();
  char *copy = strdup(list), *save = NULL, *text = NULL;

  if (arr && copy) {
    for (char *n = strtok_r(copy, ",", &save); n;
         n = strtok_r(NULL, ",", &save)) {
      while (*n == ' ')
        n++;
      if (*n)
        cJSON_AddItemToArray(arr, cJSON_CreateString(n));
    }
    text = cJSON_PrintUnformatted(arr);
  }
  free(copy);
  cJSON_Delete(arr);
  return text;
}

/* A body from --NAME or --NAME-file, into *owned when read from a file. */
static int body(const char **out, char **owned, cli_opt *opts,
                const char *name, const char *file)
{
  const char *v = cli_optv(opts, name), *f = cli_optv(opts, file);

  *out = v;
  if (v && f)
    return cli_usage_error(USAGE, "give one of these", name);
  if (f) {
    if (cli_read_file(owned, f) < 0)
      return EXIT_USAGE;
    *out = *owned;
  }
  return 0;
}

static int render(const cli_config *cfg, vc_template *tpl, cli_opt *opts)
{
  vc_template_render_spec rs = VC_TEMPLATE_RENDER_SPEC_INIT;
  cli_opt *vars = cli_opt_get(opts, "--var");
  const char *v;
  char *vars_text = NULL;
  vc_buf out = VC_BUF_INIT;
  long long n;
  int rc;

  if ((rc = cli_json_object(&vars_text, cli_optv(opts, "--vars-json"),
                            vars->values, vars->nvalues)))
    return rc;
  rs.vars_json = vars_text;
  rs.locale = cli_optv(opts, "--locale");
  if ((v = cli_optv(opts, "--kind")) && !(rs.kind = cli_kind(v)))
    rc = cli_usage_error(USAGE, "--kind needs email, sms, chat or voice", v);
  else if ((v = cli_optv(opts, "--part")) &&
           !(rs.part = strcmp(v, "text") == 0      ? VC_TEMPLATE_PART_TEXT
                       : strcmp(v, "html") == 0    ? VC_TEMPLATE_PART_HTML
                       : strcmp(v, "subject") == 0 ? VC_TEMPLATE_PART_SUBJECT
                                                   : 0))
    rc = cli_usage_error(USAGE, "--part needs text, html or subject", v);
  else if ((v = cli_optv(opts, "--version")) &&
           cli_parse_int(&n, v, 1, 1000000000) < 0)
    rc = cli_usage_error(USAGE, "--version needs a positive number", v);
  if (rc)
    goto out;
  if (v)
    rs.template_version = (int)n;
  if ((rc = vc_template_render(&out, tpl, &rs)) < 0) {
    rc = cli_fail(cfg, "render the template", rc);
  } else if (cfg->json) {
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "template", vc_template_name(tpl));
    cJSON_AddStringToObject(o, "output", out.ptr ? out.ptr : "");
    cli_emit(cfg, o, NULL);
  } else {
    printf("%s\n", out.ptr ? out.ptr : "");
  }
out:
  vc_buf_dispose(&out);
  cJSON_free(vars_text);
  return rc;
}

static int list(const cli_config *cfg, vc_tenant *t, cli_opt *opts)
{
  static const char *const COLS[] = { "id", "name", "kind", "version",
                                      "category", NULL };
  vc_template_filter f = VC_TEMPLATE_FILTER_INIT;
  const char *kind = cli_optv(opts, "--kind");
  vc_iter *it;
  int rc;

  if (kind && !(f.kind = cli_kind(kind)))
    return cli_usage_error(USAGE, "--kind needs email, sms, chat or voice",
                           kind);
  if ((rc = vc_template_list(&it, t, &f)) < 0)
    return cli_fail(cfg, "list templates", rc);
  return cli_list(cfg, it, SIZE_MAX, template_json_next, "list templates",
                  COLS);
}

int cmd_template(int argc, char **argv)
{
  cli_opt opts[] = {
    CLI_OPT("--kind", CLI_VALUE), CLI_OPT("--text", CLI_VALUE),
    CLI_OPT("--text-file", CLI_VALUE), CLI_OPT("--html", CLI_VALUE),
    CLI_OPT("--html-file", CLI_VALUE), CLI_OPT("--subject", CLI_VALUE),
    CLI_OPT("--locale", CLI_VALUE), CLI_OPT("--variables", CLI_VALUE),
    CLI_OPT("--category", CLI_VALUE), CLI_OPT("--var", CLI_MULTI),
    CLI_OPT("--vars-json", CLI_VALUE), CLI_OPT("--part", CLI_VALUE),
    CLI_OPT("--version", CLI_VALUE), CLI_OPT_END
  };
  vc_template_spec spec = VC_TEMPLATE_SPEC_INIT;
  char *text = NULL, *html = NULL, *vars = NULL;
  vc_template *tpl = NULL;
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  cli_config cfg;
  cli_args a;
  const char *verb, *v;
  int rc, adds;

  if ((rc = cli_config_load(&cfg, &argc, argv)) ||
      (rc = cli_parse(&a, opts, argc, argv, 1, USAGE)))
    return rc == CLI_HELP ? EXIT_OK : rc;
  if (a.npos < 1)
    return cli_usage_error(USAGE, "template needs a verb", NULL);
  verb = a.pos[0];
  adds = strcmp(verb, "add") == 0 || strcmp(verb, "variant") == 0;
  if (strcmp(verb, "list") == 0) {
    if (a.npos != 1)
      return cli_usage_error(USAGE, "unexpected argument", a.pos[1]);
  } else if (!adds && strcmp(verb, "show") && strcmp(verb, "render")) {
    return cli_usage_error(USAGE, "unknown template verb", verb);
  } else if (a.npos != 2) {
    return cli_usage_error(USAGE, "wrong number of arguments", verb);
  }
  if (adds) {
    if (!(spec.kind = cli_kind(cli_optv(opts, "--kind"))))
      return cli_usage_error(USAGE, "template add needs --kind email, sms, "
                             "chat or voice", NULL);
    if ((v = cli_optv(opts, "--category")) &&
        (spec.category = vc_category_from_name(v)) < 0)
      return cli_usage_error(USAGE, "--category needs transactional, "
                             "marketing or otp", v);
    if ((rc = body(&spec.text_body, &text, opts, "--text", "--text-file")) ||
        (rc = body(&spec.html_body, &html, opts, "--html", "--html-file")))
      goto out;
    if (!spec.text_body && !spec.html_body) {
      rc = cli_usage_error(USAGE, "a template needs --text or --html", NULL);
      goto out;
    }
    spec.subject = cli_optv(opts, "--subject");
    spec.locale = cli_optv(opts, "--locale");
    if ((v = cli_optv(opts, "--variables")) && !(vars = variables_json(v))) {
      rc = EXIT_FAILED;
      goto out;
    }
    spec.variables_json = vars;
  }
  if ((rc = cli_open(&ctx, &t, &cfg)))
    goto out;

  if (strcmp(verb, "list") == 0) {
    rc = list(&cfg, t, opts);
  } else if (strcmp(verb, "add") == 0) {
    spec.name = a.pos[1];
    if ((rc = vc_template_new(&tpl, t, &spec)) < 0)
      rc = cli_fail(&cfg, "add the template", rc);
    else
      cli_emit(&cfg, template_json(tpl), NULL);
  } else if ((rc = vc_template_lookup(&tpl, t, a.pos[1])) < 0) {
    rc = cli_fail(&cfg, "find the template",
                  rc == VC_EINVALID ? VC_ENOTFOUND : rc);
  } else if (strcmp(verb, "variant") == 0) {
    if ((rc = vc_template_add_variant(tpl, &spec)) < 0)
      rc = cli_fail(&cfg, "add the variant", rc);
    else
      cli_emit(&cfg, template_json(tpl), NULL);
  } else if (strcmp(verb, "show") == 0) {
    cli_emit(&cfg, template_json(tpl), NULL);
  } else {
    rc = render(&cfg, tpl, opts);
  }
out:
  vc_template_free(tpl);
  cli_close(ctx, t);
  free(text);
  free(html);
  cJSON_free(vars);
  return rc < 0 ? EXIT_FAILED : rc;
}
