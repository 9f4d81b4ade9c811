/*
 * The vyomcomm program's configuration, shared by every subcommand that
 * opens a store: flags first, then the environment, then a file.
 *
 *   flag              environment             file key
 *   --store PATH      VYOMCOMM_STORE          store
 *   --key-file PATH   VYOMCOMM_KEY_FILE       key_file
 *   --tenant NAME     VYOMCOMM_TENANT         tenant
 *   --base-url URL    VYOMCOMM_BASE_URL       base_url
 *   --config PATH     VYOMCOMM_CONFIG         (default ./vyomcomm.conf
 *                                              when it exists)
 *   --json            (output for scripts)
 *
 * The file holds `key = value` lines; `#` starts a comment. The key file
 * holds the 32-byte master key as 64 hex digits (written by `vyomcomm
 * init`).
 */
#ifndef VYOMCOMM_CLI_CONFIG_H
#define VYOMCOMM_CLI_CONFIG_H

#include "vyomcomm.h"

#define CLI_PATH_MAX 4096

typedef struct cli_config {
  char store[CLI_PATH_MAX];     /* default "vyomcomm.db" */
  char key_file[CLI_PATH_MAX];  /* default "vyomcomm.key" */
  char tenant[128];             /* "" when not given */
  char base_url[1024];          /* "" when not given */
  char config_file[CLI_PATH_MAX];
  int json;                     /* 1: --json */
} cli_config;

/*
 * Take the common options out of argv (the others stay, in order, with
 * *argc updated), then fill what is missing from the environment and
 * the configuration file. Returns 0, or EXIT_USAGE after printing why
 * to stderr (a flag without its value, an unreadable --config file, a
 * malformed line).
 */
int cli_config_load(cli_config *cfg, int *argc, char **argv);

/* Read the master key file into key[32]. 0, or -1 after printing why. */
int cli_key_read(const cli_config *cfg, uint8_t key[VC_MASTER_KEY_SIZE]);

/*
 * Open a context over the configured store and key, allowing loopback
 * providers (the local simulator) and logging warnings to stderr.
 * 0, or the library's error after printing it.
 */
int cli_ctx_open(vc_ctx **out, const cli_config *cfg);

/* The configured tenant (by id or name), or the only one in the store.
 * 0, or the library's error after printing it. */
int cli_tenant_open(vc_tenant **out, vc_ctx *ctx, const cli_config *cfg);

/* Print a library error as "vyomcomm: WHAT: NAME (CODE): MESSAGE" to
 * stderr, or as a JSON object {"error": {...}} to stdout with --json. */
void cli_error(const cli_config *cfg, const char *what, int rc);

#endif
