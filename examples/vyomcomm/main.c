/* <DESC>
 * vyomcomm: the reference program around libvyomcomm. Subcommands:
 * demo (an end-to-end check of the library), the objects of a store
 * (init, tenant, channel, template, contact, send, call, campaign, inbox,
 * stats), the provider simulator (sim), version, help. docs/cli.md.
 * </DESC>
 */
#include <stdio.h>
#include <string.h>

#include "vyomcomm.h"
#include "cli.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} command;

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const command COMMANDS[] = {
  { "demo", cmd_demo,
    "run the library end to end on a temporary SQLite store" },
  { "init", cmd_init, "create a store and its master key file" },
  { "tenant", cmd_tenant, "add, list, show, update or delete tenants" },
  { "channel", cmd_channel, "add, list, show, update or disable channels" },
  { "template", cmd_template, "add, list, show or render templates" },
  { "contact", cmd_contact,
    "add, list, show, tag, import contacts; their consent" },
  { "send", cmd_send, "send one message (--wait: until it is final)" },
  { "call", cmd_call, "start a click-to-call; list, show, hang up calls" },
  { "agent", cmd_agent,
    "add, list, show, update, delete agents; set their state" },
  { "campaign", cmd_campaign,
    "create, start, pause, resume, cancel, show, run campaigns" },
  { "inbox", cmd_inbox,
    "conversations: list, show, reply, set status, assign" },
  { "stats", cmd_stats, "figures over a window, as tables" },
  { "sim", cmd_sim, "run the provider simulator until interrupted" },
  { "serve", cmd_serve, "serve the REST API (/api/v1) over HTTP" },
  { "apikey", cmd_apikey, "add, list or revoke the tenant's API keys" },
  { "version", cmd_version, "print the library and ABI versions" },
  { "help", cmd_help, "show this help" },
};

static int cmd_version(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  printf("vyomcomm %s (ABI %d; headers %s)\n", vc_version_string(),
         vc_abi_version(), VC_VERSION_STRING);
  return EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
  /* help COMMAND: the command's own usage, as COMMAND --help prints it */
  if (argc >= 2) {
    for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
      if (strcmp(argv[1], COMMANDS[i].name) == 0 &&
          COMMANDS[i].run != cmd_help && COMMANDS[i].run != cmd_version) {
        char *sub[3] = { argv[1], "--help", NULL };

        return COMMANDS[i].run(2, sub);
      }
    if (strcmp(argv[1], "version") != 0 && strcmp(argv[1], "help") != 0) {
      fprintf(stderr, "vyomcomm: unknown command '%s' (try 'vyomcomm "
              "help')\n", argv[1]);
      return EXIT_USAGE;
    }
  }
  printf("usage: vyomcomm <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
    printf("  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
  printf("\n'vyomcomm help COMMAND' (or COMMAND --help) shows its usage.\n"
         "\ncommon options (also from the environment and a file; see "
         "docs/cli.md):\n"
         "  --store PATH     VYOMCOMM_STORE     store = PATH "
         "(default vyomcomm.db)\n"
         "  --key-file PATH  VYOMCOMM_KEY_FILE  key_file = PATH "
         "(default vyomcomm.key)\n"
         "  --tenant NAME    VYOMCOMM_TENANT    tenant = NAME\n"
         "  --base-url URL   VYOMCOMM_BASE_URL  base_url = URL\n"
         "  --config PATH    VYOMCOMM_CONFIG    (default ./vyomcomm.conf)\n"
         "  --json           print JSON for scripts\n"
         "\nexit codes: 0 success, 1 a check or operation failed, "
         "2 bad usage,\n  3 not found, 4 master key or authentication, "
         "5 refused for consent,\n  6 exists, conflict or wrong state, "
         "7 timed out waiting\n");
  return EXIT_OK;
}

/*
 * Common options may come before the command ("vyomcomm --tenant acme
 * contact list"): move the command to argv[1], keeping the order of the
 * rest, which cli_config_load() then takes wherever they are.
 */
static void command_first(int argc, char **argv)
{
  static const char *const WITH_VALUE[] = { "--store", "--key-file",
                                            "--tenant", "--base-url",
                                            "--config" };
  int i = 1;

  while (i < argc && argv[i][0] == '-') {
    size_t f, n = sizeof(WITH_VALUE) / sizeof(WITH_VALUE[0]);

    for (f = 0; f < n; f++)
      if (strcmp(argv[i], WITH_VALUE[f]) == 0)
        break;
    if (f == n && strcmp(argv[i], "--json") != 0)
      return; /* --help, or a mistake: main reports it */
    i += f < n ? 2 : 1;
  }
  if (i > 1 && i < argc) {
    char *cmd = argv[i];

    memmove(argv + 2, argv + 1, (size_t)(i - 1) * sizeof(*argv));
    argv[1] = cmd;
  }
}

int main(int argc, char **argv)
{
  command_first(argc, argv);
  if (argc < 2) {
    cmd_help(0, NULL);
    return EXIT_USAGE;
  }
  for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
    if (strcmp(argv[1], COMMANDS[i].name) == 0)
      return COMMANDS[i].run(argc - 1, argv + 1);
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
    return cmd_help(0, NULL);
  fprintf(stderr, "vyomcomm: unknown command '%s' (try 'vyomcomm help')\n",
          argv[1]);
  return EXIT_USAGE;
}
