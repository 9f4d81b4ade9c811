/*
 * vyomcomm-sim: run the provider simulator until SIGINT or SIGTERM.
 *
 *   vyomcomm-sim [--port N] [--host ADDR] [--twilio-sid SID]
 *                [--twilio-token TOKEN] [--sendgrid-key KEY]
 *                [--sendgrid-event-url URL] [--set provider.key=value]...
 *                [--webhook-delay-ms N] [--webhook-gap-ms N] [--reorder]
 *                [--duplicates N] [--workers N] [--verbose]
 *
 * Prints "port N", "url http://127.0.0.1:N" and "sendgrid_public_key K"
 * on stdout, one per line, then "ready" once it serves requests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define MAX_SETTINGS 64

static void usage(FILE *f)
{
  fputs("usage: vyomcomm-sim [--port N] [--host ADDR] [--twilio-sid SID]\n"
        "         [--twilio-token TOKEN] [--sendgrid-key KEY]\n"
        "         [--sendgrid-event-url URL] [--set provider.key=value]...\n"
        "         [--webhook-delay-ms N] [--webhook-gap-ms N] [--reorder]\n"
        "         [--duplicates N] [--workers N] [--verbose]\n", f);
}

static char *setting(const char *key, const char *value)
{
  char *s = NULL;

  if (asprintf(&s, "%s=%s", key, value) < 0)
    return NULL;
  return s;
}

int main(int argc, char **argv)
{
  vc_sim_options o = VC_SIM_OPTIONS_INIT;
  vc_sim_webhooks tw = VC_SIM_WEBHOOKS_INIT, sg = VC_SIM_WEBHOOKS_INIT;
  char *settings[MAX_SETTINGS + 1];
  size_t nset = 0, i;
  sigset_t sigs;
  vc_sim *sim = NULL;
  int rc = 1, sig = 0, a;

  memset(settings, 0, sizeof(settings));
  for (a = 1; a < argc; a++) {
    const char *arg = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
    const char *key = NULL;

    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(arg, "--verbose") == 0) {
      o.verbose = 1;
      continue;
    } else if (strcmp(arg, "--reorder") == 0) {
      tw.reorder = sg.reorder = 1;
      continue;
    }
    if (val == NULL) {
      usage(stderr);
      goto out;
    }
    a++;
    if (strcmp(arg, "--port") == 0)
      o.port = (unsigned short)strtoul(val, NULL, 10);
    else if (strcmp(arg, "--host") == 0)
      o.host = val;
    else if (strcmp(arg, "--workers") == 0)
      o.webhook_workers = (unsigned)strtoul(val, NULL, 10);
    else if (strcmp(arg, "--webhook-delay-ms") == 0)
      tw.delay_ms = sg.delay_ms = (unsigned)strtoul(val, NULL, 10);
    else if (strcmp(arg, "--webhook-gap-ms") == 0)
      tw.gap_ms = sg.gap_ms = (unsigned)strtoul(val, NULL, 10);
    else if (strcmp(arg, "--duplicates") == 0)
      tw.duplicates = sg.duplicates = (unsigned)strtoul(val, NULL, 10);
    else if (strcmp(arg, "--sendgrid-event-url") == 0)
      sg.url = val;
    else if (strcmp(arg, "--twilio-sid") == 0)
      key = "twilio.account_sid";
    else if (strcmp(arg, "--twilio-token") == 0)
      key = "twilio.auth_token";
    else if (strcmp(arg, "--sendgrid-key") == 0)
      key = "sendgrid.api_key";
    else if (strcmp(arg, "--set") == 0)
      key = "";
    else {
      usage(stderr);
      goto out;
    }
    if (key == NULL)
      continue;
    if (nset == MAX_SETTINGS) {
      fprintf(stderr, "vyomcomm-sim: too many settings\n");
      goto out;
    }
    settings[nset] = *key ? setting(key, val) : strdup(val);
    if (settings[nset++] == NULL)
      goto out;
  }
  o.settings = (const char *const *)settings;

  /* Block the signals before any thread starts, then wait for them. */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  if ((a = vc_sim_start(&sim, &o)) != 0) {
    fprintf(stderr, "vyomcomm-sim: start: %s\n", strerror(-a));
    goto out;
  }
  if (vc_sim_webhooks_set(sim, "twilio", &tw) != 0 ||
      vc_sim_webhooks_set(sim, "sendgrid", &sg) != 0) {
    fprintf(stderr, "vyomcomm-sim: bad webhook options\n");
    goto out;
  }
  printf("port %u\nurl %s\nsendgrid_public_key %s\nready\n",
         vc_sim_port(sim), vc_sim_base_url(sim),
         vc_sim_sendgrid_public_key(sim));
  fflush(stdout);
  if (sigwait(&sigs, &sig) != 0)
    goto out;
  fprintf(stderr, "vyomcomm-sim: signal %d, %zu requests, %zu accepted\n",
          sig, vc_sim_received_count(sim), vc_sim_accepted_count(sim, NULL));
  rc = 0;
out:
  vc_sim_stop(sim);
  for (i = 0; i < nset; i++)
    free(settings[i]);
  return rc;
}
