/*
 * Streaming CSV. See csv.h.
 */
#include "common.h"
#include "csv.h"
#include "text.h"

#include <stdio.h>

enum state {
  FIELD_START,  /* at the start of a field */
  UNQUOTED,     /* inside an unquoted field */
  QUOTED,       /* inside a quoted field */
  QUOTE_SEEN,   /* a quote inside a quoted field: its end or a "" pair */
  CR_SEEN,      /* a CR outside quotes: a LF must follow */
  SKIP_LINE     /* after a quoting error: discard to the end of the line */
};

struct vc__csv {
  vc_read_cb read;
  void *payload;
  size_t row_max, fields_max;

  char *chunk;           /* VC__CSV_CHUNK bytes */
  size_t pos, len;
  int eof, started_input;

  char *row;             /* field bytes, each field NUL-terminated */
  size_t row_len;        /* bytes used in row, NULs included */
  size_t content;        /* field content bytes */
  size_t *start;         /* offset of each field in row */
  size_t nfields;

  enum state state;
  int started;           /* the record has begun */
  uint64_t line;         /* the line being read */
  uint64_t record_line;  /* the line the record began on */
  int bad;               /* a VC_E* code once the record is malformed */
  char message[128];
};

int vc__csv_open(vc__csv **out, vc_read_cb read, void *payload,
                 size_t row_max, size_t fields_max)
{
  vc__csv *c;

  *out = NULL;
  if (read == NULL || row_max == 0 || fields_max == 0)
    return vc__error_set(VC_ERRCLASS_INVALID, VC_EINVALID,
                         "a CSV reader needs a read callback and limits");
  if ((c = vc__calloc(1, sizeof(*c))) == NULL)
    return vc_error_set_oom();
  c->read = read;
  c->payload = payload;
  c->row_max = row_max;
  c->fields_max = fields_max;
  /* Three more bytes: skip_bom may put a partial mark back. */
  c->chunk = vc__malloc(VC__CSV_CHUNK + 3);
  c->row = vc__malloc(row_max + fields_max + 1);
  c->start = vc__calloc(fields_max + 1, sizeof(*c->start));
  c->line = 1;
  if (c->chunk == NULL || c->row == NULL || c->start == NULL) {
    vc__csv_close(c);
    return vc_error_set_oom();
  }
  *out = c;
  return 0;
}

void vc__csv_close(vc__csv *c)
{
  if (c == NULL)
    return;
  vc__free(c->chunk);
  vc__free(c->row);
  vc__free(c->start);
  vc__free(c);
}

size_t vc__csv_nfields(const vc__csv *c) { return c->nfields; }
size_t vc__csv_size(const vc__csv *c) { return c->content; }
uint64_t vc__csv_line(const vc__csv *c) { return c->record_line; }

const char *vc__csv_field(const vc__csv *c, size_t i, size_t *len)
{
  const char *f;

  if (i >= c->nfields)
    return NULL;
  f = c->row + c->start[i];
  if (len != NULL)
    *len = strlen(f);
  return f;
}

int vc__csv_bad(const vc__csv *c, const char **message)
{
  if (message != NULL)
    *message = c->message;
  return c->bad;
}

/* Mark the record malformed; the first reason stays. */
static void set_bad(vc__csv *c, int code, const char *what)
{
  if (c->bad != 0)
    return;
  c->bad = code;
  snprintf(c->message, sizeof(c->message), "%s", what);
}

static void record_reset(vc__csv *c)
{
  c->row_len = c->content = c->nfields = 0;
  c->started = 0;
  c->bad = 0;
  c->message[0] = '\0';
  c->state = FIELD_START;
  c->record_line = c->line;
}

static void put(vc__csv *c, char ch)
{
  if (c->bad != 0)
    return;
  if (ch == '\0') {
    set_bad(c, VC_EINVALID, "the row holds a NUL byte");
    return;
  }
  if (c->content >= c->row_max) {
    char m[96];
    snprintf(m, sizeof(m), "the row is longer than %zu bytes", c->row_max);
    set_bad(c, VC_ETOOBIG, m);
    return;
  }
  if (c->row_len == c->start[c->nfields] && c->nfields >= c->fields_max) {
    char m[96];
    snprintf(m, sizeof(m), "the row has more than %zu columns",
             c->fields_max);
    set_bad(c, VC_ETOOBIG, m);
    return;
  }
  c->row[c->row_len++] = ch;
  c->content++;
}

/* End the field being read. */
static void end_field(vc__csv *c)
{
  size_t begin = c->start[c->nfields];

  c->started = 1;
  if (c->bad != 0)
    return;
  if (c->nfields >= c->fields_max) {
    char m[96];
    snprintf(m, sizeof(m), "the row has more than %zu columns",
             c->fields_max);
    set_bad(c, VC_ETOOBIG, m);
    return;
  }
  if (!vc__utf8_valid(c->row + begin, c->row_len - begin)) {
    char m[96];
    snprintf(m, sizeof(m), "column %zu is not UTF-8", c->nfields + 1);
    set_bad(c, VC_EENCODING, m);
    return;
  }
  c->row[c->row_len++] = '\0';
  c->start[++c->nfields] = c->row_len;
}

/* Refill the chunk: 1 with bytes, 0 at the end, or < 0. */
static int fill(vc__csv *c)
{
  size_t got = 0;
  int rc;

  if (c->eof)
    return 0;
  rc = c->read(c->payload, c->chunk, VC__CSV_CHUNK, &got);
  if (rc < 0) {
    c->eof = 1;
    if (rc < VC_ELOOP)
      rc = VC_EUSER;
    return vc__error_set(VC_ERRCLASS_CALLBACK, rc,
                         "the read callback failed (%d)", rc);
  }
  if (got > VC__CSV_CHUNK) {
    c->eof = 1;
    return vc__error_set(VC_ERRCLASS_CALLBACK, VC_EINVALID,
                         "the read callback gave %zu bytes for %d", got,
                         VC__CSV_CHUNK);
  }
  c->pos = 0;
  c->len = got;
  if (got == 0)
    c->eof = 1;
  return got > 0;
}

/* Skip a UTF-8 byte order mark at the very start of the input. */
static int skip_bom(vc__csv *c)
{
  static const char bom[] = "\xEF\xBB\xBF";
  size_t have = 0;
  char head[3];
  int rc;

  c->started_input = 1;
  /* The first bytes may come in pieces: gather three, or fewer at the
   * end, and put back what is not a mark. */
  while (have < 3) {
    if (c->pos >= c->len && (rc = fill(c)) <= 0) {
      if (rc < 0)
        return rc;
      break;
    }
    head[have++] = c->chunk[c->pos++];
  }
  if (have == 3 && memcmp(head, bom, 3) == 0)
    return 0;
  /* Put the bytes back in front of what remains of the chunk. */
  if (c->pos >= have) {
    c->pos -= have;
    memcpy(c->chunk + c->pos, head, have);
  } else {
    memmove(c->chunk + have, c->chunk + c->pos, c->len - c->pos);
    c->len = c->len - c->pos + have;
    c->pos = 0;
    memcpy(c->chunk, head, have);
  }
  return 0;
}

/* Process one byte; 1 when it ended a record. */
static int step(vc__csv *c, char ch)
{
  if (ch == '\n')
    c->line++;
  switch (c->state) {
  case FIELD_START:
    if (ch == '"') {
      c->started = 1;
      c->state = QUOTED;
    } else if (ch == ',') {
      end_field(c);
    } else if (ch == '\n') {
      if (!c->started && c->nfields == 0) {
        c->record_line = c->line;  /* an empty line */
        return 0;
      }
      end_field(c);
      return 1;
    } else if (ch == '\r') {
      c->state = CR_SEEN;
    } else {
      c->started = 1;
      put(c, ch);
      c->state = UNQUOTED;
    }
    return 0;
  case UNQUOTED:
    if (ch == ',') {
      end_field(c);
      c->state = FIELD_START;
    } else if (ch == '\n') {
      end_field(c);
      return 1;
    } else if (ch == '\r') {
      c->state = CR_SEEN;
    } else if (ch == '"') {
      set_bad(c, VC_EINVALID, "a quote inside an unquoted field");
      c->state = SKIP_LINE;
    } else {
      put(c, ch);
    }
    return 0;
  case QUOTED:
    if (ch == '"')
      c->state = QUOTE_SEEN;
    else
      put(c, ch);
    return 0;
  case QUOTE_SEEN:
    if (ch == '"') {
      put(c, '"');
      c->state = QUOTED;
    } else if (ch == ',') {
      end_field(c);
      c->state = FIELD_START;
    } else if (ch == '\n') {
      end_field(c);
      return 1;
    } else if (ch == '\r') {
      c->state = CR_SEEN;
    } else {
      set_bad(c, VC_EINVALID, "text after a closing quote");
      c->state = SKIP_LINE;
    }
    return 0;
  case CR_SEEN:
    if (ch == '\n') {
      if (!c->started && c->nfields == 0) {
        c->record_line = c->line;  /* an empty CRLF line */
        c->state = FIELD_START;
        return 0;
      }
      end_field(c);
      return 1;
    }
    c->started = 1;
    set_bad(c, VC_EINVALID, "a carriage return without a line feed");
    c->state = SKIP_LINE;
    return 0;
  case SKIP_LINE:
    return ch == '\n';
  }
  return 0;
}

int vc__csv_next(vc__csv *c)
{
  int rc;

  if (!c->started_input && (rc = skip_bom(c)) < 0)
    return rc;
  record_reset(c);
  for (;;) {
    while (c->pos < c->len) {
      if (step(c, c->chunk[c->pos++]))
        return c->bad != 0 ? VC__CSV_BAD : VC__CSV_RECORD;
    }
    if ((rc = fill(c)) < 0)
      return rc;
    if (rc == 0)
      break;
  }
  /* The end of the input ends the last record. */
  switch (c->state) {
  case QUOTED:
    set_bad(c, VC_EINVALID, "a quoted field is not closed");
    return VC__CSV_BAD;
  case SKIP_LINE:
    return VC__CSV_BAD;
  case CR_SEEN:
  case FIELD_START:
    if (!c->started && c->nfields == 0)
      return VC__CSV_END;
    /* fallthrough */
  default:
    end_field(c);
    return c->bad != 0 ? VC__CSV_BAD : VC__CSV_RECORD;
  }
}
