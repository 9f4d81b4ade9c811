/*
 * The vyomcomm program: CSV input for the importers. See cli_csv.h.
 */
#include <string.h>

#include "cli.h"
#include "cli_csv.h"

static int read_cb(void *payload, char *buf, size_t cap, size_t *got)
{
  FILE *f = payload;

  *got = fread(buf, 1, cap, f);
  return ferror(f) ? VC_ERROR : 0;
}

static void on_row_error(void *payload, uint64_t line, int error,
                         const char *message)
{
  (void)payload;
  fprintf(stderr, "vyomcomm: line %llu: %s: %s\n", (unsigned long long)line,
          vc_strerror(error), message);
}

int cli_csv_open(FILE **f, vc_contact_import_spec *s, const char *path)
{
  if (!(*f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb"))) {
    perror(path);
    return EXIT_USAGE;
  }
  s->read = read_cb;
  s->read_payload = *f;
  s->on_error = on_row_error;
  return 0;
}

void cli_csv_close(FILE *f)
{
  if (f != NULL && f != stdin)
    fclose(f);
}
