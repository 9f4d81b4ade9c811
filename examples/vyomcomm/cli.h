/*
 * The vyomcomm program: shared declarations of its subcommands.
 */
#ifndef VYOMCOMM_CLI_H
#define VYOMCOMM_CLI_H

#include <stdint.h>

#include "vyomcomm.h"

/* Exit codes, documented in `vyomcomm help`. */
#define EXIT_OK 0
#define EXIT_FAILED 1   /* a check or an operation failed */
#define EXIT_USAGE 2    /* bad command line */
#define EXIT_NOTFOUND 3 /* a tenant, channel, contact, ... that is not there */
#define EXIT_KEY 4      /* the master key is missing or not the store's;
                           authentication failed */
#define EXIT_CONSENT 5  /* refused for consent or the do-not-call list */
#define EXIT_CONFLICT 6 /* exists already, idempotency conflict, or not
                           allowed in the object's state */
#define EXIT_TIMEOUT 7  /* --wait or run gave up before the final state */

int cmd_demo(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_apikey(int argc, char **argv);

/* The subcommands (cmd_*.c). Each takes its own argv (argv[0] is the
 * subcommand's name), prints its usage for --help, and returns an exit
 * code above. */
int cmd_init(int argc, char **argv);
int cmd_tenant(int argc, char **argv);
int cmd_channel(int argc, char **argv);
int cmd_template(int argc, char **argv);
int cmd_contact(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_call(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_campaign(int argc, char **argv);
int cmd_inbox(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_sim(int argc, char **argv);

/* The demo's running tally of checks. */
typedef struct demo_checks {
  int checks, failures;
} demo_checks;

/* Record and print one check; returns `ok`. */
int demo_check(demo_checks *c, int ok, const char *what);

/* The messaging part of the demo, in its own store under `dir`: the
 * provider simulator, every messaging provider, delivery webhooks. */
void demo_messaging(demo_checks *c, const char *dir);

/* Inside the messaging part, its engine running: the conversations the
 * chat customers opened, a timeline, a reply on WhatsApp (the channel
 * `whatsapp_id`). */
void demo_inbox(demo_checks *c, vc_tenant *t, const char *whatsapp_id,
                int wait_ms);

/* The messaging part's figures from vc_stats_query, around `now_ms`. */
void demo_stats(demo_checks *c, vc_tenant *t, int64_t now_ms);

/* The click-to-call part, in its own store under `dir`: a call through
 * each voice provider on the simulator, agents, costs, the journal. */
void demo_calls(demo_checks *c, const char *dir);
/* An inbound call through Twilio on the simulator: IVR, queue, agent,
 * the screen-pop, the timeline and the cost. */
void demo_inbound(demo_checks *c, const char *dir);

/* Engagement, in its own store under `dir`: contacts and consent, a
 * small campaign with its progress, a refused send, the audit trail. */
void demo_engage(demo_checks *c, const char *dir);

/* A click-to-call over SIP with sipp as both phones, when sipp is
 * installed. */
void demo_sip(demo_checks *c, const char *dir);

#endif
