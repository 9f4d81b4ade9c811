/*
 * The vyomcomm program: a CSV file (or stdin) fed to the library's
 * importers (contacts, a campaign's audience), rejected rows told on
 * stderr.
 */
#ifndef VYOMCOMM_CLI_CSV_H
#define VYOMCOMM_CLI_CSV_H

#include <stdio.h>

#include "vyomcomm.h"

/* Open `path` ("-": stdin) into *f and point `s` at it: its reader and
 * its row errors. EXIT_USAGE (told on stderr) when it does not open. */
int cli_csv_open(FILE **f, vc_contact_import_spec *s, const char *path);
/* Close what cli_csv_open() opened (stdin stays open). */
void cli_csv_close(FILE *f);

#endif
