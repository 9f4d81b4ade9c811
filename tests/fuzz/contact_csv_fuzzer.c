/*
 * Fuzz target for the streaming CSV reader behind the contact import
 * (src/core/csv.c).
 *
 * Input: the first byte picks the read size (1 to 64 bytes, or the
 * whole input when it is 0), so that records, quotes, CRLF pairs and the
 * byte order mark fall across reads; the rest is the CSV, read with
 * small limits (256 bytes, 8 columns) so that the bounds are reached.
 *
 * Beyond what ASan and UBSan catch, it aborts when an invariant breaks:
 * a record with more columns or bytes than the limits, a field holding
 * a NUL or not UTF-8, a field count or size that disagrees with the
 * fields, line numbers that go backwards or past the input's lines, a
 * skipped record without a code of the INVALID family and a one-line
 * message, more records than there are bytes, a reader that does not
 * end.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/contact_csv_fuzzer.c and -o contact_csv_fuzzer, then
 *   ./contact_csv_fuzzer tests/fuzz/corpus/contact_csv
 */
#include "core/common.h"
#include "core/csv.h"
#include "core/text.h"

#include <stdlib.h>

#define ROW_MAX 256
#define FIELDS_MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct input {
  const uint8_t *data;
  size_t size, pos, step;
} input;

static int read_input(void *payload, char *buf, size_t cap, size_t *got)
{
  input *in = payload;
  size_t n = in->size - in->pos;

  if (n > cap)
    n = cap;
  if (n > in->step)
    n = in->step;
  memcpy(buf, in->data + in->pos, n);
  in->pos += n;
  *got = n;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  input in;
  vc__csv *c;
  uint64_t last_line = 1, lines = 1, records = 0;
  int rc;

  if (size == 0)
    return 0;
  in.data = data + 1;
  in.size = size - 1;
  in.pos = 0;
  in.step = data[0] % 65 == 0 ? in.size + 1 : data[0] % 65;
  for (size_t i = 0; i < in.size; i++)
    lines += in.data[i] == '\n';
  if (vc__csv_open(&c, read_input, &in, ROW_MAX, FIELDS_MAX) < 0)
    abort();
  while ((rc = vc__csv_next(c)) != VC__CSV_END) {
    uint64_t line = vc__csv_line(c);

    if (line < last_line || line > lines || ++records > in.size)
      abort();
    last_line = line;
    if (rc == VC__CSV_RECORD) {
      size_t n = vc__csv_nfields(c), total = 0;
      if (n == 0 || n > FIELDS_MAX || vc__csv_size(c) > ROW_MAX ||
          vc__csv_field(c, n, NULL) != NULL)
        abort();
      for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *f = vc__csv_field(c, i, &len);
        if (f == NULL || strlen(f) != len || !vc__utf8_valid(f, len))
          abort();
        total += len;
      }
      if (total != vc__csv_size(c))
        abort();
    } else if (rc == VC__CSV_BAD) {
      const char *msg;
      int code = vc__csv_bad(c, &msg);
      if ((code != VC_EINVALID && code != VC_ETOOBIG &&
           code != VC_EENCODING) || msg == NULL || msg[0] == '\0' ||
          strchr(msg, '\n') != NULL)
        abort();
    } else {
      abort(); /* the reader never fails here */
    }
  }
  if (in.pos != in.size)
    abort();
  vc__csv_close(c);
  return 0;
}
