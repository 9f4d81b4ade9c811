/*
 * The vyomcomm program: what the subcommands share besides their
 * configuration (cli_config.h): option parsing, exit codes for library
 * errors, output as tables or JSON, reading files and key=value pairs,
 * and running the engine until a condition holds.
 */
#ifndef VYOMCOMM_CLI_UTIL_H
#define VYOMCOMM_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "vyomcomm.h"
#include "cli_config.h"
#include "json_list.h"

/* The most values a repeatable option keeps, and positional arguments. */
#define CLI_OPT_VALUES_MAX 64
#define CLI_POS_MAX 64
/* The largest file or stdin a subcommand reads (JSON, a template body). */
#define CLI_FILE_MAX (1024 * 1024)

enum { CLI_FLAG = 0, CLI_VALUE = 1, CLI_MULTI = 2 };

/* One option of a subcommand; a list ends with a NULL name. */
typedef struct cli_opt {
  const char *name;     /* "--to" */
  int takes;            /* CLI_FLAG, CLI_VALUE or CLI_MULTI */
  int set;              /* given (a flag: how often) */
  const char *value;    /* the last value */
  const char *values[CLI_OPT_VALUES_MAX];
  size_t nvalues;
} cli_opt;

/* An option of the list, and its end. */
#define CLI_OPT(name, takes) { name, takes, 0, NULL, { NULL }, 0 }
#define CLI_OPT_END CLI_OPT(NULL, CLI_FLAG)

/* A subcommand's arguments after parsing. */
typedef struct cli_args {
  char *pos[CLI_POS_MAX];
  int npos;
} cli_args;

/* What cli_parse returns for --help (after printing the usage). */
#define CLI_HELP (-1)

/*
 * Parse argv[first..argc) into `opts` and positional arguments; "--"
 * ends the options. Returns 0; CLI_HELP after printing `usage` to stdout
 * for -h or --help; EXIT_USAGE after printing why to stderr.
 */
int cli_parse(cli_args *out, cli_opt *opts, int argc, char **argv,
              int first, const char *usage);

/* The option named `name` (which must be in the list). */
cli_opt *cli_opt_get(cli_opt *opts, const char *name);
/* Its value, or NULL when not given. */
const char *cli_optv(cli_opt *opts, const char *name);

/* Print "vyomcomm: MESSAGE" and the usage to stderr; EXIT_USAGE. */
int cli_usage_error(const char *usage, const char *message,
                    const char *detail);

/* The exit code for a library error (0 for 0). */
int cli_exit_code(int rc);

/* cli_error() then the exit code for `rc`. */
int cli_fail(const cli_config *cfg, const char *what, int rc);

/* Open the context and the configured tenant; returns an exit code
 * (0 when both are open; on failure neither is). */
int cli_open(vc_ctx **ctx, vc_tenant **tenant, const cli_config *cfg);
void cli_close(vc_ctx *ctx, vc_tenant *tenant);

/* Output. With --json, print `v` as JSON; otherwise an array as a table
 * of `columns` (keys of its objects; NULL: every key of the first), an
 * object as "key: value" lines. Consumes `v`. */
void cli_emit(const cli_config *cfg, cJSON *v, const char *const *columns);
/* Print `array` as a table of `columns` (NULL-terminated keys). */
void cli_table(const cJSON *array, const char *const *columns);
/* Emit up to `limit` items of `it` (taken by `next`) as cli_emit() does
 * an array; frees `it`. A failure is reported as cli_fail(cfg, what). */
int cli_list(const cli_config *cfg, vc_iter *it, size_t limit,
             json_next_fn next, const char *what,
             const char *const *columns);

/* "2026-11-27T03:14:26.123Z" for Unix ms (> 0), else "". */
const char *cli_time(char buf[32], int64_t ms);
/* obj[key] = cli_time(ms), or null for 0. */
void cli_add_time(cJSON *obj, const char *key, int64_t ms);
/* obj[key] = the JSON text parsed, or the text as a string when it is
 * not JSON. */
void cli_add_json(cJSON *obj, const char *key, const char *json);

/* A time given as Unix ms, or "YYYY-MM-DDTHH:MM[:SS][Z]" (UTC).
 * 0, or -1 when it is neither. */
int cli_parse_time(int64_t *out, const char *text);
/* A whole number in [min, max]; 0 or -1. */
int cli_parse_int(long long *out, const char *text, long long min,
                  long long max);
/* "HH:MM" as minutes after midnight; 0 or -1. */
int cli_parse_hhmm(int *out, const char *text);

/* Read a file ("-" for stdin) of at most CLI_FILE_MAX bytes into a
 * NUL-terminated string to free(). 0, or -1 after printing why. */
int cli_read_file(char **out, const char *path);
/* The same for any bytes, at most `max`, their count in *len. */
int cli_read_file_max(char **out, size_t *len, const char *path,
                      size_t max);

/*
 * Add "key=value" (a string) or "key:=json" (a JSON value) to `obj`.
 * A dotted key ("a.b=v") is kept as one name. 0, or -1 when `arg` has
 * no '=' or the JSON does not parse.
 */
int cli_kv_add(cJSON *obj, const char *arg);

/*
 * A JSON object from a file (--NAME-json FILE, "-" for stdin) and
 * key=value pairs on top of it, as a string to cJSON_free(). NULL file
 * and no pairs give NULL. Returns 0, or EXIT_USAGE after printing why.
 */
int cli_json_object(char **out, const char *file, const char *const *pairs,
                    size_t npairs);

/* The vc_channel_kind for "email", "sms", "chat", "voice"; 0 when not. */
int cli_kind(const char *name);

/* Unix ms of the wall clock. */
int64_t cli_wall_ms(void);

/* Stop waiting: set by SIGINT and SIGTERM once cli_signals_catch ran. */
extern volatile int cli_interrupted;
void cli_signals_catch(void);

#endif
