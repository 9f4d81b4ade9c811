/*
 * vyomcomm campaign: create, start, pause, resume, cancel, show, list,
 * and run (the engine, with progress).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_csv.h"
#include "cli_util.h"

static const char USAGE[] =
  "usage: vyomcomm campaign create NAME --template NAME|ID --chain LINK...\n"
  "                            (--tag TAG | --contacts ID,ID,... |\n"
  "                             --csv FILE|-)\n"
  "                            [--var KEY=VALUE]... [--vars-json FILE|-]\n"
  "                            [--locale TAG] [--rate PER_SECOND]\n"
  "                            [--category transactional|marketing|otp]\n"
  "                            [--start-at TIME] [--end-at TIME]\n"
  "                            [--window HH:MM-HH:MM] [--start]\n"
  "       vyomcomm campaign start|pause|resume|cancel|show ID\n"
  "       vyomcomm campaign list [--state STATE]\n"
  "       vyomcomm campaign run ID [--timeout SECONDS] [--listen ADDR]\n"
  "\n"
  "A LINK is a channel kind by address (sms, email, whatsapp, telegram),\n"
  "or one with @CHANNEL to pin a channel (whatsapp@wa-main); recipients\n"
  "get the first link they have an address and consent for. run starts a\n"
  "draft, then runs the engine until the campaign completes or is\n"
  "canceled (exit 0), or --timeout (default 600 s) passes (exit 7),\n"
  "showing a progress bar on a terminal and a line per change otherwise.\n";

static cJSON *counters_json(const vc_campaign_counters *k)
{
  cJSON *o = cJSON_CreateObject();

  cJSON_AddNumberToObject(o, "total", (double)k->total);
  cJSON_AddNumberToObject(o, "queued", (double)k->queued);
  cJSON_AddNumberToObject(o, "sent", (double)k->sent);
  cJSON_AddNumberToObject(o, "delivered", (double)k->delivered);
  cJSON_AddNumberToObject(o, "failed", (double)k->failed);
  cJSON_AddNumberToObject(o, "canceled", (double)k->canceled);
  cJSON_AddNumberToObject(o, "skipped_consent", (double)k->skipped_consent);
  cJSON_AddNumberToObject(o, "skipped_address", (double)k->skipped_address);
  cJSON_AddNumberToObject(o, "deferred_quiet", (double)k->deferred_quiet);
  cJSON_AddNumberToObject(o, "expired", (double)k->expired);
  cJSON_AddNumberToObject(o, "open", (double)k->open);
  return o;
}

static cJSON *campaign_json(vc_campaign *c, int with_counters)
{
  vc_campaign_counters k = VC_CAMPAIGN_COUNTERS_INIT;
  cJSON *o = cJSON_CreateObject();
  const char *cat = vc_category_name(vc_campaign_category(c));
  int state = vc_campaign_state(c);

  if (with_counters && vc_campaign_counters_get(&k, c) == 0)
    state = k.state;
  cJSON_AddStringToObject(o, "id", vc_campaign_id(c));
  cJSON_AddStringToObject(o, "name", vc_campaign_name(c));
  cJSON_AddStringToObject(o, "state", vc_campaign_state_name(state));
  cJSON_AddStringToObject(o, "template_id", vc_campaign_template_id(c));
  cJSON_AddStringToObject(o, "category", cat ? cat : "");
  cJSON_AddNumberToObject(o, "rate", vc_campaign_rate(c));
  cli_add_time(o, "start_at", vc_campaign_start_at(c));
  cli_add_time(o, "end_at", vc_campaign_end_at(c));
  cli_add_time(o, "created_at", vc_campaign_created_at(c));
  if (with_counters)
    cJSON_AddItemToObject(o, "progress", counters_json(&k));
  return o;
}

/* A list row: the campaign without its counters. */
static cJSON *campaign_row_json(vc_campaign *c)
{
  return campaign_json(c, 0);
}

JSON_NEXT_FN(campaign_json_next, vc_campaign, vc_campaign_next,
             campaign_row_json, vc_campaign_free)

/* Split "a,b,c" in place into at most `max` pointers. */
static size_t split(char *s, const char **out, size_t max)
{
  size_t n = 0;
  char *save = NULL;

  for (char *p = strtok_r(s, ",", &save); p && n < max;
       p = strtok_r(NULL, ",", &save))
    if (*p)
      out[n++] = p;
  return n;
}

#define CONTACTS_MAX 10000

static int import_csv(const cli_config *cfg, vc_campaign *c, const char *path)
{
  vc_contact_import_spec s = VC_CONTACT_IMPORT_SPEC_INIT;
  vc_contact_import_result r = VC_CONTACT_IMPORT_RESULT_INIT;
  FILE *f;
  int rc;

  if ((rc = cli_csv_open(&f, &s, path)))
    return rc;
  rc = vc_campaign_import_csv(&r, c, &s);
  cli_csv_close(f);
  if (rc < 0)
    return cli_fail(cfg, "import the audience", rc);
  if (!cfg->json)
    fprintf(stderr, "vyomcomm: %llu rows imported, %llu rejected\n",
            (unsigned long long)(r.rows - r.rejected),
            (unsigned long long)r.rejected);
  return 0;
}

static int create(const cli_config *cfg, vc_tenant *t, const char *name,
                  cli_opt *opts)
{
  vc_campaign_spec s = VC_CAMPAIGN_SPEC_INIT;
  cli_opt *chain = cli_opt_get(opts, "--chain");
  cli_opt *vars = cli_opt_get(opts, "--var");
  const char *v, *tag = cli_optv(opts, "--tag"),
                 *contacts = cli_optv(opts, "--contacts"),
                 *csv = cli_optv(opts, "--csv");
  const char **ids = NULL;
  char *vars_json = NULL, *ids_copy = NULL;
  vc_campaign *c = NULL;
  int rc;

  s.name = name;
  if (!(s.template_name = cli_optv(opts, "--template")))
    return cli_usage_error(USAGE, "campaign create needs --template", NULL);
  if (!chain->nvalues)
    return cli_usage_error(USAGE, "campaign create needs --chain", NULL);
  if ((tag != NULL) + (contacts != NULL) + (csv != NULL) != 1)
    return cli_usage_error(USAGE, "give one of --tag, --contacts, --csv",
                           NULL);
  s.chain = chain->values;
  s.nchain = chain->nvalues;
  s.locale = cli_optv(opts, "--locale");
  if ((v = cli_optv(opts, "--rate"))) {
    char *end;

    s.rate = strtod(v, &end);
    if (end == v || *end || s.rate < 0)
      return cli_usage_error(USAGE, "--rate needs a number", v);
  }
  if ((v = cli_optv(opts, "--category")) &&
      (s.category = vc_category_from_name(v)) < 0)
    return cli_usage_error(USAGE, "--category needs transactional, "
                           "marketing or otp", v);
  if ((v = cli_optv(opts, "--start-at")) && cli_parse_time(&s.start_at, v))
    return cli_usage_error(USAGE, "--start-at needs a time", v);
  if ((v = cli_optv(opts, "--end-at")) && cli_parse_time(&s.end_at, v))
    return cli_usage_error(USAGE, "--end-at needs a time", v);
  if ((v = cli_optv(opts, "--window"))) {
    char a[8] = "", b[8] = "";

    if (sscanf(v, "%5[0-9:]-%5[0-9:]", a, b) != 2 ||
        cli_parse_hhmm(&s.window_start_min, a) < 0 ||
        cli_parse_hhmm(&s.window_end_min, b) < 0)
      return cli_usage_error(USAGE, "--window needs HH:MM-HH:MM", v);
  }
  if (tag) {
    s.audience = VC_AUDIENCE_TAG;
    s.tag = tag;
  } else if (contacts) {
    s.audience = VC_AUDIENCE_LIST;
    if (!(ids = calloc(CONTACTS_MAX, sizeof(*ids))) ||
        !(ids_copy = strdup(contacts))) {
      rc = EXIT_FAILED;
      goto out;
    }
    s.contact_ids = ids;
    s.ncontacts = split(ids_copy, ids, CONTACTS_MAX);
  } else {
    s.audience = VC_AUDIENCE_CSV;
  }
  if ((rc = cli_json_object(&vars_json, cli_optv(opts, "--vars-json"),
                            vars->values, vars->nvalues)))
    goto out;
  s.vars_json = vars_json;
  if ((rc = vc_campaign_new(&c, t, &s)) < 0) {
    rc = cli_fail(cfg, "create the campaign", rc);
    goto out;
  }
  if (csv && (rc = import_csv(cfg, c, csv)))
    goto out;
  if (cli_opt_get(opts, "--start")->set && (rc = vc_campaign_start(c)) < 0) {
    rc = cli_fail(cfg, "start the campaign", rc);
    goto out;
  }
  cli_emit(cfg, campaign_json(c, 1), NULL);
out:
  vc_campaign_free(c);
  cJSON_free(vars_json);
  free(ids);
  free(ids_copy);
  return rc;
}

static int list(const cli_config *cfg, vc_tenant *t, cli_opt *opts)
{
  static const char *const COLS[] = { "id", "name", "state", "category",
                                      "rate", "created_at", NULL };
  vc_campaign_filter f = VC_CAMPAIGN_FILTER_INIT;
  const char *v = cli_optv(opts, "--state");
  vc_iter *it;
  int rc;

  if (v) {
    for (int s = VC_CAMPAIGN_DRAFT; s <= VC_CAMPAIGN_CANCELED; s++)
      if (strcmp(v, vc_campaign_state_name(s)) == 0)
        f.state = s;
    if (!f.state)
      return cli_usage_error(USAGE, "unknown campaign state", v);
  }
  if ((rc = vc_campaign_list(&it, t, &f)) < 0)
    return cli_fail(cfg, "list campaigns", rc);
  return cli_list(cfg, it, SIZE_MAX, campaign_json_next, "list campaigns",
                  COLS);
}

/* Recipients reached whose outcome is known (the fan-out may still be
 * reaching more: the bar's 100% is those reached so far). */
static uint64_t done(const vc_campaign_counters *k)
{
  return k->total > k->open ? k->total - k->open : 0;
}

static void progress_line(const vc_campaign_counters *k)
{
  printf("progress: state %s, %llu reached, %llu queued, %llu sent, "
         "%llu delivered, %llu failed, %llu skipped (consent %llu, "
         "address %llu), %llu open\n",
         vc_campaign_state_name(k->state), (unsigned long long)k->total,
         (unsigned long long)k->queued, (unsigned long long)k->sent,
         (unsigned long long)k->delivered, (unsigned long long)k->failed,
         (unsigned long long)(k->skipped_consent + k->skipped_address),
         (unsigned long long)k->skipped_consent,
         (unsigned long long)k->skipped_address, (unsigned long long)k->open);
  fflush(stdout);
}

static void progress_bar(const vc_campaign_counters *k)
{
  uint64_t d = done(k), total = k->total ? k->total : 1;
  int width = 30, fill;

  if (d > total)
    d = total;
  fill = (int)(d * (uint64_t)width / total);
  fprintf(stderr, "\r[%.*s%*s] %3d%%  %llu/%llu  sent %llu  failed %llu  "
          "skipped %llu  %s ", fill, "##############################",
          width - fill, "", (int)(d * 100 / total), (unsigned long long)d,
          (unsigned long long)k->total, (unsigned long long)k->sent,
          (unsigned long long)k->failed,
          (unsigned long long)(k->skipped_consent + k->skipped_address),
          vc_campaign_state_name(k->state));
}

static int run(const cli_config *cfg, vc_ctx *ctx, vc_campaign *c,
               long long timeout_s)
{
  vc_campaign_counters k = VC_CAMPAIGN_COUNTERS_INIT, last;
  int64_t deadline = cli_wall_ms() + timeout_s * 1000;
  int tty = isatty(STDERR_FILENO) && !cfg->json, rc;

  if (vc_campaign_state(c) == VC_CAMPAIGN_DRAFT &&
      (rc = vc_campaign_start(c)) < 0)
    return cli_fail(cfg, "start the campaign", rc);
  memset(&last, 0xff, sizeof(last));
  cli_signals_catch();
  for (;;) {
    if ((rc = vc_campaign_counters_get(&k, c)) < 0)
      return cli_fail(cfg, "read the progress", rc);
    if (tty) {
      progress_bar(&k);
    } else if (!cfg->json && memcmp(&k, &last, sizeof(k)) != 0) {
      progress_line(&k);
      last = k;
    }
    if (k.state == VC_CAMPAIGN_COMPLETED || k.state == VC_CAMPAIGN_CANCELED)
      break;
    if (k.state != VC_CAMPAIGN_RUNNING) {
      if (tty)
        fputc('\n', stderr);
      fprintf(stderr, "vyomcomm: the campaign is %s\n",
              vc_campaign_state_name(k.state));
      return EXIT_CONFLICT;
    }
    if (cli_wall_ms() >= deadline || cli_interrupted) {
      if (tty)
        fputc('\n', stderr);
      fprintf(stderr, "vyomcomm: the campaign is still running after "
              "%llds\n", timeout_s);
      return EXIT_TIMEOUT;
    }
    if ((rc = vc_ctx_run(ctx, 100)) < 0)
      return cli_fail(cfg, "run the engine", rc);
  }
  if (tty)
    fputc('\n', stderr);
  return 0;
}

int cmd_campaign(int argc, char **argv)
{
  cli_opt opts[] = {
    CLI_OPT("--template", CLI_VALUE), CLI_OPT("--chain", CLI_MULTI),
    CLI_OPT("--tag", CLI_VALUE), CLI_OPT("--contacts", CLI_VALUE),
    CLI_OPT("--csv", CLI_VALUE), CLI_OPT("--var", CLI_MULTI),
    CLI_OPT("--vars-json", CLI_VALUE), CLI_OPT("--locale", CLI_VALUE),
    CLI_OPT("--rate", CLI_VALUE), CLI_OPT("--category", CLI_VALUE),
    CLI_OPT("--start-at", CLI_VALUE), CLI_OPT("--end-at", CLI_VALUE),
    CLI_OPT("--window", CLI_VALUE), CLI_OPT("--start", CLI_FLAG),
    CLI_OPT("--state", CLI_VALUE), CLI_OPT("--timeout", CLI_VALUE),
    CLI_OPT("--listen", CLI_VALUE), CLI_OPT_END
  };
  static const char *const VERBS[] = { "create", "start", "pause", "resume",
                                       "cancel", "show", "list", "run" };
  vc_campaign *c = NULL;
  vc_tenant *t = NULL;
  vc_ctx *ctx = NULL;
  long long timeout_s = 600;
  cli_config cfg;
  cli_args a;
  const char *verb, *v;
  size_t i;
  int rc;

  if ((rc = cli_config_load(&cfg, &argc, argv)) ||
      (rc = cli_parse(&a, opts, argc, argv, 1, USAGE)))
    return rc == CLI_HELP ? EXIT_OK : rc;
  if (a.npos < 1)
    return cli_usage_error(USAGE, "campaign needs a verb", NULL);
  verb = a.pos[0];
  for (i = 0; i < sizeof(VERBS) / sizeof(VERBS[0]); i++)
    if (strcmp(verb, VERBS[i]) == 0)
      break;
  if (i == sizeof(VERBS) / sizeof(VERBS[0]))
    return cli_usage_error(USAGE, "unknown campaign verb", verb);
  if (a.npos != (strcmp(verb, "list") == 0 ? 1 : 2))
    return cli_usage_error(USAGE, "wrong number of arguments", verb);
  if ((v = cli_optv(opts, "--timeout")) &&
      cli_parse_int(&timeout_s, v, 0, 7 * 86400) < 0)
    return cli_usage_error(USAGE, "--timeout needs seconds", v);
  if ((rc = cli_open(&ctx, &t, &cfg)))
    return rc;

  if ((v = cli_optv(opts, "--listen")) &&
      (rc = vc_webhook_listen(ctx, v)) < 0) {
    rc = cli_fail(&cfg, "listen for webhooks", rc);
  } else if (strcmp(verb, "create") == 0) {
    rc = create(&cfg, t, a.pos[1], opts);
  } else if (strcmp(verb, "list") == 0) {
    rc = list(&cfg, t, opts);
  } else if ((rc = vc_campaign_lookup(&c, t, a.pos[1])) < 0) {
    rc = cli_fail(&cfg, "find the campaign",
                  rc == VC_EINVALID ? VC_ENOTFOUND : rc);
  } else if (strcmp(verb, "show") == 0) {
    cli_emit(&cfg, campaign_json(c, 1), NULL);
  } else if (strcmp(verb, "run") == 0) {
    rc = run(&cfg, ctx, c, timeout_s);
    if (rc == 0 || rc == EXIT_TIMEOUT || rc == EXIT_CONFLICT) {
      vc_campaign_free(c);
      c = NULL;
      if (vc_campaign_lookup(&c, t, a.pos[1]) == 0)
        cli_emit(&cfg, campaign_json(c, 1), NULL);
    }
  } else {
    rc = strcmp(verb, "start") == 0   ? vc_campaign_start(c)
         : strcmp(verb, "pause") == 0 ? vc_campaign_pause(c)
         : strcmp(verb, "resume") == 0 ? vc_campaign_resume(c)
                                       : vc_campaign_cancel(c);
    if (rc < 0) {
      rc = cli_fail(&cfg, verb, rc);
    } else {
      vc_campaign_free(c);
      c = NULL;
      if ((rc = vc_campaign_lookup(&c, t, a.pos[1])) < 0)
        rc = cli_fail(&cfg, "read the campaign", rc);
      else
        cli_emit(&cfg, campaign_json(c, 1), NULL);
    }
  }
  vc_campaign_free(c);
  cli_close(ctx, t);
  return rc < 0 ? EXIT_FAILED : rc;
}
