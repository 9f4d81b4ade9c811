/*
 * vyomcomm send: one message; --wait runs the engine until it is final.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"

static const char USAGE[] =
  "usage: vyomcomm send --to ADDRESS (--text BODY | --template NAME)\n"
  "                     [--channel NAME|ID | --kind email|sms|chat]\n"
  "                     [--var KEY=VALUE]... [--vars-json FILE|-]\n"
  "                     [--subject S] [--html BODY] [--from SENDER]\n"
  "                     [--locale TAG]\n"
  "                     [--category transactional|marketing|otp]\n"
  "                     [--idempotency-key K] [--send-at TIME]\n"
  "                     [--wait [--timeout SECONDS] [--listen ADDR]]\n"
  "       vyomcomm send show ID\n"
  "\n"
  "The message is stored as queued and its id printed. --wait then runs\n"
  "the engine until the provider accepted or refused it (sent, failed),\n"
  "and with --listen (\"127.0.0.1:8080\"; set --base-url to the URL\n"
  "providers reach it at) receives the provider's webhooks until a\n"
  "delivery report (delivered, read, undelivered, bounced). Exit 7 when\n"
  "--timeout (default 30 s) passes first. TIME is Unix ms or\n"
  "YYYY-MM-DDTHH:MM[:SS]Z.\n";

static cJSON *message_json(const vc_message *m)
{
  cJSON *o = cJSON_CreateObject();
  const char *cat = vc_category_name(vc_message_category(m));

  cJSON_AddStringToObject(o, "id", vc_message_id(m));
  cJSON_AddStringToObject(o, "status",
                          vc_message_status_name(vc_message_status(m)));
  cJSON_AddStringToObject(o, "kind",
                          vc_channel_kind_name(vc_message_kind(m)));
  cJSON_AddStringToObject(o, "to", vc_message_to(m));
  cJSON_AddStringToObject(o, "channel_id", vc_message_channel_id(m));
  cJSON_AddStringToObject(o, "provider_id", vc_message_provider_id(m));
  cJSON_AddStringToObject(o, "category", cat ? cat : "");
  cJSON_AddStringToObject(o, "contact_id", vc_message_contact_id(m));
  cJSON_AddNumberToObject(o, "segments", vc_message_segments(m));
  cJSON_AddNumberToObject(o, "attempts", vc_message_attempts(m));
  if (vc_message_error(m)) {
    cJSON_AddStringToObject(o, "error", vc_strerror(vc_message_error(m)));
    cJSON_AddStringToObject(o, "provider_code", vc_message_provider_code(m));
    cJSON_AddStringToObject(o, "error_message",
                            vc_message_error_message(m));
  }
  cli_add_time(o, "created_at", vc_message_created_at(m));
  cli_add_time(o, "updated_at", vc_message_updated_at(m));
  return o;
}

/* Past the dispatcher: accepted, refused or canceled. */
static int dispatch_final(int status)
{
  return status >= VC_MSG_SENT;
}

/* What the provider reports at the end, or a failure. */
static int delivery_final(int status)
{
  return status >= VC_MSG_DELIVERED;
}

/* Run the engine until the message is final; 0, or EXIT_TIMEOUT. */
static int wait_message(vc_ctx *ctx, vc_tenant *t, const char *id,
                        int listening, int64_t timeout_ms, vc_message **out)
{
  int64_t deadline = cli_wall_ms() + timeout_ms;

  cli_signals_catch();
  for (;;) {
    int rc, status;

    if ((rc = vc_message_lookup(out, t, id)) < 0)
      return rc;
    status = vc_message_status(*out);
    if (listening ? delivery_final(status) : dispatch_final(status))
      return 0;
    if (cli_wall_ms() >= deadline || cli_interrupted)
      return VC_ETIMEOUT;
    vc_message_free(*out);
    *out = NULL;
    if ((rc = vc_ctx_run(ctx, 100)) < 0)
      return rc;
  }
}

static int show(const cli_config *cfg, vc_tenant *t, const char *id)
{
  vc_message *m;
  int rc;

  if ((rc = vc_message_lookup(&m, t, id)) < 0)
    return cli_fail(cfg, "find the message",
                    rc == VC_EINVALID ? VC_ENOTFOUND : rc);
  cli_emit(cfg, message_json(m), NULL);
  vc_message_free(m);
  return 0;
}

int cmd_send(int argc, char **argv)
{
  cli_opt opts[] = {
    CLI_OPT("--to", CLI_VALUE), CLI_OPT("--text", CLI_VALUE),
    CLI_OPT("--template", CLI_VALUE), CLI_OPT("--channel", CLI_VALUE),
    CLI_OPT("--kind", CLI_VALUE), CLI_OPT("--var", CLI_MULTI),
    CLI_OPT("--vars-json", CLI_VALUE), CLI_OPT("--subject", CLI_VALUE),
    CLI_OPT("--html", CLI_VALUE), CLI_OPT("--from", CLI_VALUE),
    CLI_OPT("--locale", CLI_VALUE), CLI_OPT("--category", CLI_VALUE),
    CLI_OPT("--idempotency-key", CLI_VALUE), CLI_OPT("--send-at", CLI_VALUE),
    CLI_OPT("--wait", CLI_FLAG), CLI_OPT("--timeout", CLI_VALUE),
    CLI_OPT("--listen", CLI_VALUE), CLI_OPT_END
  };
  vc_message_spec s = VC_MESSAGE_SPEC_INIT;
  cli_opt *vars = cli_opt_get(opts, "--var");
  char id[VC_ID_SIZE], *vars_json = NULL;
  vc_message *m = NULL;
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  long long timeout_s = 30;
  cli_config cfg;
  cli_args a;
  const char *v, *listen;
  int rc;

  if ((rc = cli_config_load(&cfg, &argc, argv)) ||
      (rc = cli_parse(&a, opts, argc, argv, 1, USAGE)))
    return rc == CLI_HELP ? EXIT_OK : rc;
  if (a.npos == 2 && strcmp(a.pos[0], "show") == 0) {
    if ((rc = cli_open(&ctx, &t, &cfg)))
      return rc;
    rc = show(&cfg, t, a.pos[1]);
    cli_close(ctx, t);
    return rc;
  }
  if (a.npos)
    return cli_usage_error(USAGE, "unexpected argument", a.pos[0]);
  if (!(s.to = cli_optv(opts, "--to")))
    return cli_usage_error(USAGE, "send needs --to", NULL);
  s.text = cli_optv(opts, "--text");
  s.template_name = cli_optv(opts, "--template");
  s.html = cli_optv(opts, "--html");
  if (!s.text && !s.template_name && !s.html)
    return cli_usage_error(USAGE, "send needs --text, --html or --template",
                           NULL);
  s.channel = cli_optv(opts, "--channel");
  if ((v = cli_optv(opts, "--kind")) && !(s.kind = cli_kind(v)))
    return cli_usage_error(USAGE, "--kind needs email, sms or chat", v);
  if (!s.channel && !s.kind)
    return cli_usage_error(USAGE, "send needs --channel or --kind", NULL);
  if ((v = cli_optv(opts, "--category")) &&
      (s.category = vc_category_from_name(v)) < 0)
    return cli_usage_error(USAGE, "--category needs transactional, "
                           "marketing or otp", v);
  if ((v = cli_optv(opts, "--send-at")) && cli_parse_time(&s.send_at, v) < 0)
    return cli_usage_error(USAGE, "--send-at needs Unix ms or "
                           "YYYY-MM-DDTHH:MM[:SS]Z", v);
  if ((v = cli_optv(opts, "--timeout")) &&
      cli_parse_int(&timeout_s, v, 0, 86400) < 0)
    return cli_usage_error(USAGE, "--timeout needs seconds (0..86400)", v);
  listen = cli_optv(opts, "--listen");
  if (listen && !cli_opt_get(opts, "--wait")->set)
    return cli_usage_error(USAGE, "--listen goes with --wait", NULL);
  s.subject = cli_optv(opts, "--subject");
  s.from = cli_optv(opts, "--from");
  s.locale = cli_optv(opts, "--locale");
  s.idempotency_key = cli_optv(opts, "--idempotency-key");
  if ((rc = cli_json_object(&vars_json, cli_optv(opts, "--vars-json"),
                            vars->values, vars->nvalues)))
    return rc;
  s.vars_json = vars_json;
  if (cli_opt_get(opts, "--wait")->set)
    cli_signals_catch(); /* before the listener: SIGINT ends the wait */
  if ((rc = cli_open(&ctx, &t, &cfg)))
    goto out;
  if (listen && (rc = vc_webhook_listen(ctx, listen)) < 0) {
    rc = cli_fail(&cfg, "listen for webhooks", rc);
    goto out;
  }
  if ((rc = vc_message_send(id, t, &s)) < 0) {
    rc = cli_fail(&cfg, "send the message", rc);
    goto out;
  }
  if (!cli_opt_get(opts, "--wait")->set) {
    rc = show(&cfg, t, id);
    goto out;
  }
  rc = wait_message(ctx, t, id, listen != NULL, timeout_s * 1000, &m);
  if (m)
    cli_emit(&cfg, message_json(m), NULL);
  if (rc == VC_ETIMEOUT) {
    fprintf(stderr, "vyomcomm: the message %s is not final after %llds\n",
            id, timeout_s);
    rc = EXIT_TIMEOUT;
  } else if (rc < 0) {
    rc = cli_fail(&cfg, "wait for the message", rc);
  } else {
    int status = vc_message_status(m);

    rc = status == VC_MSG_SENT || status == VC_MSG_DELIVERED ||
         status == VC_MSG_READ ? EXIT_OK : EXIT_FAILED;
  }
out:
  vc_message_free(m);
  cli_close(ctx, t);
  cJSON_free(vars_json);
  return rc < 0 ? EXIT_FAILED : rc;
}
