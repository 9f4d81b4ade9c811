/*
 * vyomcomm sim: the provider simulator (tests/sim) in the foreground
 * until SIGINT or SIGTERM.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "sim.h"

static const char USAGE[] =
  "usage: vyomcomm sim [--port N] [--host ADDR] [--set PROVIDER.KEY=VALUE]...\n"
  "                    [--webhook-delay-ms N] [--verbose]\n"
  "\n"
  "Serve every provider's API (Twilio, Vonage, AWS SNS, SendGrid, Mailgun,\n"
  "Telegram, WhatsApp, Twilio Voice, Exotel, mCube, Asterisk ARI) on\n"
  "loopback until interrupted. Prints the base URL, the accounts it\n"
  "accepts, then \"ready\" (with --json, one object). Point a channel's\n"
  "base_url setting at it, e.g.\n"
  "  vyomcomm channel add tw --provider twilio-sms base_url=URL \\\n"
  "      account_sid=SID --secret auth_token=TOKEN --sender +15005550006\n"
  "and pass --listen and --base-url to send --wait to receive its signed\n"
  "delivery webhooks. tests/sim/README.md lists the settings.\n";

/* What a channel on the simulator needs, by provider, in the order
 * printed; a NULL value is SendGrid's key, made when the simulator
 * starts. */
static const struct {
  const char *provider, *key, *value;
} ACCOUNTS[] = {
  { "twilio", "account_sid", VC_SIM_TWILIO_ACCOUNT_SID },
  { "twilio", "auth_token", VC_SIM_TWILIO_AUTH_TOKEN },
  { "vonage", "api_key", VC_SIM_VONAGE_API_KEY },
  { "vonage", "api_secret", VC_SIM_VONAGE_API_SECRET },
  { "vonage", "signature_secret", VC_SIM_VONAGE_SIGNATURE_SECRET },
  { "aws-sns", "access_key_id", VC_SIM_SNS_ACCESS_KEY_ID },
  { "aws-sns", "secret_access_key", VC_SIM_SNS_SECRET_ACCESS_KEY },
  { "aws-sns", "region", VC_SIM_SNS_REGION },
  { "sendgrid", "api_key", VC_SIM_SENDGRID_API_KEY },
  { "sendgrid", "webhook_public_key", NULL },
  { "mailgun", "domain", VC_SIM_MAILGUN_DOMAIN },
  { "mailgun", "api_key", VC_SIM_MAILGUN_API_KEY },
  { "mailgun", "webhook_signing_key", VC_SIM_MAILGUN_SIGNING_KEY },
  { "telegram", "bot_token", VC_SIM_TELEGRAM_BOT_TOKEN },
  { "whatsapp", "phone_number_id", VC_SIM_WHATSAPP_PHONE_NUMBER_ID },
  { "whatsapp", "access_token", VC_SIM_WHATSAPP_ACCESS_TOKEN },
  { "whatsapp", "app_secret", VC_SIM_WHATSAPP_APP_SECRET },
  { "exotel", "account_sid", VC_SIM_EXOTEL_ACCOUNT_SID },
  { "exotel", "api_key", VC_SIM_EXOTEL_API_KEY },
  { "exotel", "api_token", VC_SIM_EXOTEL_API_TOKEN },
  { "mcube", "api_key", VC_SIM_MCUBE_API_KEY },
  { "mcube", "token", VC_SIM_MCUBE_TOKEN },
  { "ari", "username", VC_SIM_ARI_USERNAME },
  { "ari", "password", VC_SIM_ARI_PASSWORD },
};

static cJSON *accounts(vc_sim *sim)
{
  cJSON *o = cJSON_CreateObject();

  for (size_t i = 0; i < sizeof(ACCOUNTS) / sizeof(ACCOUNTS[0]); i++) {
    cJSON *p = cJSON_GetObjectItemCaseSensitive(o, ACCOUNTS[i].provider);
    const char *v = ACCOUNTS[i].value;

    if (p == NULL)
      p = cJSON_AddObjectToObject(o, ACCOUNTS[i].provider);
    cJSON_AddStringToObject(p, ACCOUNTS[i].key,
                            v ? v : vc_sim_sendgrid_public_key(sim));
  }
  return o;
}

int cmd_sim(int argc, char **argv)
{
  cli_opt opts[] = {
    CLI_OPT("--port", CLI_VALUE), CLI_OPT("--host", CLI_VALUE),
    CLI_OPT("--set", CLI_MULTI), CLI_OPT("--webhook-delay-ms", CLI_VALUE),
    CLI_OPT("--verbose", CLI_FLAG), CLI_OPT_END
  };
  vc_sim_options o = VC_SIM_OPTIONS_INIT;
  vc_sim_webhooks wh = VC_SIM_WEBHOOKS_INIT;
  const char *settings[CLI_OPT_VALUES_MAX + 1];
  cli_opt *set = cli_opt_get(opts, "--set");
  cli_config cfg;
  cli_args a;
  sigset_t sigs;
  vc_sim *sim = NULL;
  cJSON *info;
  const char *v;
  long long n;
  int rc, sig = 0;

  if ((rc = cli_config_load(&cfg, &argc, argv)) ||
      (rc = cli_parse(&a, opts, argc, argv, 1, USAGE)))
    return rc == CLI_HELP ? EXIT_OK : rc;
  if (a.npos)
    return cli_usage_error(USAGE, "unexpected argument", a.pos[0]);
  if ((v = cli_optv(opts, "--port"))) {
    if (cli_parse_int(&n, v, 0, 65535) < 0)
      return cli_usage_error(USAGE, "--port needs 0..65535", v);
    o.port = (unsigned short)n;
  }
  if ((v = cli_optv(opts, "--webhook-delay-ms"))) {
    if (cli_parse_int(&n, v, 0, 600000) < 0)
      return cli_usage_error(USAGE, "--webhook-delay-ms needs a number", v);
    wh.delay_ms = (unsigned)n;
  }
  for (size_t i = 0; i < set->nvalues; i++) {
    if (!strchr(set->values[i], '='))
      return cli_usage_error(USAGE, "--set needs PROVIDER.KEY=VALUE",
                             set->values[i]);
    settings[i] = set->values[i];
  }
  settings[set->nvalues] = NULL;
  o.settings = settings;
  o.host = cli_optv(opts, "--host");
  o.verbose = cli_opt_get(opts, "--verbose")->set > 0;

  /* Block the signals before the simulator's threads start (they
   * inherit the mask), then wait for one on this thread. */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);
  if ((rc = vc_sim_start(&sim, &o)) != 0) {
    fprintf(stderr, "vyomcomm: start the simulator: %s\n", strerror(-rc));
    return EXIT_FAILED;
  }
  if (wh.delay_ms && (vc_sim_webhooks_set(sim, "twilio", &wh) != 0 ||
                      vc_sim_webhooks_set(sim, "sendgrid", &wh) != 0)) {
    fprintf(stderr, "vyomcomm: bad webhook options\n");
    vc_sim_stop(sim);
    return EXIT_USAGE;
  }
  info = cJSON_CreateObject();
  cJSON_AddStringToObject(info, "url", vc_sim_base_url(sim));
  cJSON_AddNumberToObject(info, "port", vc_sim_port(sim));
  cJSON_AddItemToObject(info, "accounts", accounts(sim));
  if (cfg.json) {
    cli_emit(&cfg, info, NULL);
  } else {
    const cJSON *p, *k;

    printf("url %s\n", vc_sim_base_url(sim));
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(info, "accounts"))
      cJSON_ArrayForEach(k, p)
        printf("%s.%s %s\n", p->string, k->string, k->valuestring);
    printf("ready\n");
    cJSON_Delete(info);
  }
  fflush(stdout);
  if (sigwait(&sigs, &sig) == 0)
    fprintf(stderr, "vyomcomm: simulator stopped by signal %d after %zu "
            "requests\n", sig, vc_sim_received_count(sim));
  vc_sim_stop(sim);
  return EXIT_OK;
}
