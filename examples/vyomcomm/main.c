/* <DESC>
 * vyomcomm: the reference program around libvyomcomm. Subcommands:
 * demo (an end-to-end check of the library), version, help.
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
  (void)argc;
  (void)argv;
  printf("usage: vyomcomm <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
    printf("  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
  printf("\nexit codes: 0 success, 1 a check or operation failed, "
         "2 bad usage\n");
  return EXIT_OK;
}

int main(int argc, char **argv)
{
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
