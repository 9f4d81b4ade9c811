/*
 * The vyomcomm program: shared declarations of its subcommands.
 */
#ifndef VYOMCOMM_CLI_H
#define VYOMCOMM_CLI_H

/* Exit codes, documented in `vyomcomm help`. */
#define EXIT_OK 0
#define EXIT_FAILED 1   /* a check or an operation failed */
#define EXIT_USAGE 2    /* bad command line */

int cmd_demo(int argc, char **argv);

#endif
