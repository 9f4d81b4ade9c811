/*
 * vyomcomm channel: add, list, show, update, disable, enable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel_json.h"
#include "cli.h"
#include "cli_util.h"

static const char USAGE[] =
  "usage: vyomcomm channel add NAME --provider ADAPTER\n"
  "                            [KEY=VALUE|KEY:=JSON]...\n"
  "                            [--settings-json FILE|-]\n"
  "                            [--secret KEY=VALUE]...\n"
  "                            [--credentials-json FILE|-] [--sender S]\n"
  "                            [--priority N] [--rate PER_SECOND] [--kind K]\n"
  "       vyomcomm channel list [--all] [--kind email|sms|chat|voice]\n"
  "       vyomcomm channel show NAME|ID\n"
  "       vyomcomm channel update NAME|ID [the options of add]\n"
  "       vyomcomm channel disable|enable NAME|ID\n"
  "\n"
  "A channel is a provider instance (adapters: twilio-sms, vonage-sms,\n"
  "aws-sns, sendgrid, mailgun, telegram, whatsapp, twilio-voice, exotel,\n"
  "mcube, ari, sip, and sandbox-email, sandbox-sms, sandbox-chat,\n"
  "sandbox-voice that need nothing). Its settings are KEY=VALUE (a\n"
  "string) or KEY:=JSON (a number, true, an array) arguments over an\n"
  "optional JSON file; its secrets likewise with --secret, or a JSON file\n"
  "(\"-\" reads stdin, which keeps them out of the process list). Secrets\n"
  "are stored encrypted and never shown.\n";

/* A missing sender is left out of the CLI's object. */
static void add_str(cJSON *o, const char *name, const char *v)
{
  cJSON_AddStringToObject(o, name, v);
}

static cJSON *channel_json(const vc_channel *ch)
{
  static const channel_json_style CLI_STYLE = {
    add_str, cli_add_time, cli_add_json, "settings", 0
  };

  return channel_json_new(ch, &CLI_STYLE);
}

JSON_NEXT_FN(channel_json_next, vc_channel, vc_channel_next,
             channel_json, vc_channel_free)

/* The spec from the options and KEY=VALUE arguments; the two JSON texts
 * are the caller's to free. */
static int fill_spec(vc_channel_spec *s, cli_opt *opts, cli_args *a,
                     char **config, char **creds)
{
  cli_opt *secret = cli_opt_get(opts, "--secret");
  const char *v;
  long long n;
  int rc;

  *config = *creds = NULL;
  if ((rc = cli_json_object(config, cli_optv(opts, "--settings-json"),
                            (const char *const *)a->pos + 2,
                            (size_t)(a->npos - 2))) ||
      (rc = cli_json_object(creds, cli_optv(opts, "--credentials-json"),
                            secret->values, secret->nvalues)))
    return rc;
  s->config_json = *config;
  s->credentials_json = *creds;
  s->provider = cli_optv(opts, "--provider");
  s->sender = cli_optv(opts, "--sender");
  if ((v = cli_optv(opts, "--priority"))) {
    if (cli_parse_int(&n, v, -1000000, 1000000) < 0)
      return cli_usage_error(USAGE, "--priority needs a whole number", v);
    s->priority = (int32_t)n;
  }
  if ((v = cli_optv(opts, "--rate"))) {
    char *end;

    s->rate_per_second = strtod(v, &end);
    if (end == v || *end || s->rate_per_second < 0)
      return cli_usage_error(USAGE, "--rate needs a number", v);
  }
  if ((v = cli_optv(opts, "--kind")) && !(s->kind = cli_kind(v)))
    return cli_usage_error(USAGE, "--kind needs email, sms, chat or voice",
                           v);
  return 0;
}

static int list(const cli_config *cfg, vc_tenant *t, cli_opt *opts)
{
  static const char *const COLS[] = { "id", "name", "kind", "provider",
                                      "sender", "priority", "enabled",
                                      NULL };
  vc_channel_filter f = VC_CHANNEL_FILTER_INIT;
  const char *kind = cli_optv(opts, "--kind");
  vc_iter *it;
  int rc;

  if (kind && !(f.kind = cli_kind(kind)))
    return cli_usage_error(USAGE, "--kind needs email, sms, chat or voice",
                           kind);
  f.include_disabled = cli_opt_get(opts, "--all")->set > 0;
  if ((rc = vc_channel_list(&it, t, &f)) < 0)
    return cli_fail(cfg, "list channels", rc);
  return cli_list(cfg, it, SIZE_MAX, channel_json_next, "list channels", COLS);
}

int cmd_channel(int argc, char **argv)
{
  cli_opt opts[] = {
    CLI_OPT("--provider", CLI_VALUE), CLI_OPT("--settings-json", CLI_VALUE),
    CLI_OPT("--secret", CLI_MULTI), CLI_OPT("--credentials-json", CLI_VALUE),
    CLI_OPT("--sender", CLI_VALUE), CLI_OPT("--priority", CLI_VALUE),
    CLI_OPT("--rate", CLI_VALUE), CLI_OPT("--kind", CLI_VALUE),
    CLI_OPT("--all", CLI_FLAG),
    CLI_OPT_END
  };
  vc_channel_spec spec = VC_CHANNEL_SPEC_INIT;
  char *config = NULL, *creds = NULL;
  vc_channel *ch = NULL;
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  cli_config cfg;
  cli_args a;
  const char *verb;
  int rc, adds;

  if ((rc = cli_config_load(&cfg, &argc, argv)) ||
      (rc = cli_parse(&a, opts, argc, argv, 1, USAGE)))
    return rc == CLI_HELP ? EXIT_OK : rc;
  if (a.npos < 1)
    return cli_usage_error(USAGE, "channel needs a verb", NULL);
  verb = a.pos[0];
  adds = strcmp(verb, "add") == 0 || strcmp(verb, "update") == 0;
  if (strcmp(verb, "list") == 0) {
    if (a.npos != 1)
      return cli_usage_error(USAGE, "unexpected argument", a.pos[1]);
  } else if (!adds && strcmp(verb, "show") && strcmp(verb, "disable") &&
             strcmp(verb, "enable")) {
    return cli_usage_error(USAGE, "unknown channel verb", verb);
  } else if (a.npos < 2 || (!adds && a.npos > 2)) {
    return cli_usage_error(USAGE, "wrong number of arguments", verb);
  }
  if (strcmp(verb, "add") == 0 && !cli_optv(opts, "--provider"))
    return cli_usage_error(USAGE, "channel add needs --provider", NULL);
  if (adds && (rc = fill_spec(&spec, opts, &a, &config, &creds)))
    goto out;
  if ((rc = cli_open(&ctx, &t, &cfg)))
    goto out;

  if (strcmp(verb, "list") == 0) {
    rc = list(&cfg, t, opts);
  } else if (strcmp(verb, "add") == 0) {
    spec.name = a.pos[1];
    if ((rc = vc_channel_new(&ch, t, &spec)) < 0)
      rc = cli_fail(&cfg, "add the channel", rc);
    else
      cli_emit(&cfg, channel_json(ch), NULL);
  } else if ((rc = vc_channel_lookup(&ch, t, a.pos[1])) < 0) {
    rc = cli_fail(&cfg, "find the channel",
                  rc == VC_EINVALID ? VC_ENOTFOUND : rc);
  } else if (strcmp(verb, "update") == 0) {
    if ((rc = vc_channel_update(ch, &spec)) < 0)
      rc = cli_fail(&cfg, "update the channel", rc);
    else
      cli_emit(&cfg, channel_json(ch), NULL);
  } else if (strcmp(verb, "show") == 0) {
    cli_emit(&cfg, channel_json(ch), NULL);
  } else {
    rc = strcmp(verb, "disable") == 0 ? vc_channel_disable(ch)
                                      : vc_channel_enable(ch);
    if (rc < 0) {
      rc = cli_fail(&cfg, verb, rc);
    } else {
      vc_channel_free(ch);
      ch = NULL;
      /* the handle keeps its snapshot: read the new state */
      if ((rc = vc_channel_lookup(&ch, t, a.pos[1])) < 0)
        rc = cli_fail(&cfg, "find the channel", rc);
      else
        cli_emit(&cfg, channel_json(ch), NULL);
    }
  }
out:
  vc_channel_free(ch);
  cli_close(ctx, t);
  cJSON_free(config);
  cJSON_free(creds);
  return rc < 0 ? EXIT_FAILED : rc;
}
