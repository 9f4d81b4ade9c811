/*
 * vyomcomm send: one message; --wait runs the engine until it is final.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
  "                     [--attach FILE[;type=MIME]]...\n"
  "                     [--attach-url URL[;type=MIME]]...\n"
  "                     [--wait [--timeout SECONDS] [--listen ADDR]]\n"
  "       vyomcomm send show ID\n"
  "\n"
  "The message is stored as queued and its id printed. --wait then runs\n"
  "the engine until the provider accepted or refused it (sent, failed),\n"
  "and with --listen (\"127.0.0.1:8080\"; set --base-url to the URL\n"
  "providers reach it at) receives the provider's webhooks until a\n"
  "delivery report (delivered, read, undelivered, bounced). Exit 7 when\n"
  "--timeout (default 30 s) passes first. TIME is Unix ms or\n"
  "YYYY-MM-DDTHH:MM[:SS]Z. --attach sends a file's bytes, --attach-url\n"
  "an https URL the provider fetches (MMS media); the type comes from\n"
  "the name's extension unless ;type= gives it.\n";

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

/* A MIME type from a file name's extension; octet-stream otherwise. */
static const char *type_of(const char *name)
{
  static const char *const TYPES[][2] = {
    { "pdf", "application/pdf" }, { "png", "image/png" },
    { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
    { "gif", "image/gif" }, { "webp", "image/webp" },
    { "txt", "text/plain" }, { "csv", "text/csv" },
    { "html", "text/html" }, { "json", "application/json" },
    { "zip", "application/zip" }, { "mp3", "audio/mpeg" },
    { "mp4", "video/mp4" }, { "ics", "text/calendar" }
  };
  const char *dot = strrchr(name, '.');

  for (size_t i = 0; dot && i < sizeof(TYPES) / sizeof(TYPES[0]); i++)
    if (strcasecmp(dot + 1, TYPES[i][0]) == 0)
      return TYPES[i][1];
  return "application/octet-stream";
}

/* The attachments of --attach and --attach-url: a copy of each argument
 * (split at ";type="), the file's bytes, the name. */
typedef struct attachments {
  vc_attachment a[VC_MESSAGE_MAX_ATTACHMENTS];
  char *args[VC_MESSAGE_MAX_ATTACHMENTS];
  char *data[VC_MESSAGE_MAX_ATTACHMENTS];
  char names[VC_MESSAGE_MAX_ATTACHMENTS][256];
  size_t n;
} attachments;

static void attachments_free(attachments *at)
{
  for (size_t i = 0; i < VC_MESSAGE_MAX_ATTACHMENTS; i++) {
    free(at->args[i]);
    free(at->data[i]);
  }
}

/* One argument: `arg` is a path (is_url 0) or a URL, maybe ";type=X". */
static int attachment_add(attachments *at, const char *given, int is_url)
{
  vc_attachment *a = &at->a[at->n];
  char *arg, *type, *name = at->names[at->n];
  const char *base;
  size_t len;

  if (at->n == VC_MESSAGE_MAX_ATTACHMENTS)
    return cli_usage_error(USAGE, "too many attachments", given);
  if ((arg = at->args[at->n] = strdup(given)) == NULL) {
    fprintf(stderr, "vyomcomm: out of memory\n");
    return EXIT_FAILED;
  }
  type = strstr(arg, ";type=");
  if (type != NULL) {
    *type = '\0';
    type += strlen(";type=");
  }
  base = strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;
  len = is_url ? strcspn(base, "?#") : strlen(base);
  if (len == 0 || len >= sizeof(at->names[0]))
    return cli_usage_error(USAGE, "an attachment needs a file name", arg);
  memcpy(name, base, len);
  name[len] = '\0';
  a->filename = name;
  a->content_type = type && *type ? type : type_of(name);
  if (is_url) {
    a->url = arg;
  } else {
    if (cli_read_file_max(&at->data[at->n], &a->len, arg,
                          VC_MESSAGE_MAX_ATTACHMENT_BYTES) < 0)
      return EXIT_USAGE;
    a->data = (const uint8_t *)at->data[at->n];
  }
  at->n++;
  return 0;
}

static int attachments_read(attachments *at, cli_opt *files, cli_opt *urls)
{
  int rc = 0;

  for (size_t i = 0; rc == 0 && i < files->nvalues; i++)
    rc = attachment_add(at, files->values[i], 0);
  for (size_t i = 0; rc == 0 && i < urls->nvalues; i++)
    rc = attachment_add(at, urls->values[i], 1);
  return rc;
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
    CLI_OPT("--listen", CLI_VALUE), CLI_OPT("--attach", CLI_MULTI),
    CLI_OPT("--attach-url", CLI_MULTI), CLI_OPT_END
  };
  attachments at = { .n = 0 };
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
  if ((rc = attachments_read(&at, cli_opt_get(opts, "--attach"),
                             cli_opt_get(opts, "--attach-url"))))
    goto out;
  s.attachments = at.a;
  s.nattachments = at.n;
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
  attachments_free(&at);
  return rc < 0 ? EXIT_FAILED : rc;
}
