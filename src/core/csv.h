/*
 * A streaming RFC 4180 reader: records come one at a time from bytes
 * pulled through a read callback in fixed-size chunks, so memory is
 * bounded by the limits given, never by the size of the input.
 *
 * Quoted fields, doubled quotes, embedded commas and line breaks; CRLF
 * or LF line ends; a UTF-8 byte order mark at the start is skipped;
 * empty lines are skipped. A malformed record (a stray quote, text
 * after a closing quote, a bare CR, an unterminated quote, a record
 * longer than the limits, a field that is not UTF-8 or holds a NUL) is
 * skipped and reported by its first line, and reading goes on: after a
 * quoting error at the end of the physical line, otherwise at the end
 * of the record.
 */
#ifndef VC_CORE_CSV_H
#define VC_CORE_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "vyomcomm/contact.h"

/* Bytes asked of the read callback at a time. */
#define VC__CSV_CHUNK (64 * 1024)

typedef struct vc__csv vc__csv;

/* A reader over `read`; records of at most `row_max` bytes of field
 * content in at most `fields_max` fields. */
int vc__csv_open(vc__csv **out, vc_read_cb read, void *payload,
                 size_t row_max, size_t fields_max);
void vc__csv_close(vc__csv *c);

/* What vc__csv_next() found. */
#define VC__CSV_END 0
#define VC__CSV_RECORD 1
#define VC__CSV_BAD 2

/*
 * The next record: VC__CSV_RECORD (read it with the functions below),
 * VC__CSV_BAD (skipped; vc__csv_bad() says why), VC__CSV_END, or a
 * negative code when the read callback failed (VC_EUSER unless it
 * returned a VC_E* code) or said it read more than asked.
 */
int vc__csv_next(vc__csv *c);

/* The current record: fields are NUL-terminated and hold no NUL, valid
 * until the next call. */
size_t vc__csv_nfields(const vc__csv *c);
const char *vc__csv_field(const vc__csv *c, size_t i, size_t *len);
/* Bytes of field content of the current record. */
size_t vc__csv_size(const vc__csv *c);
/* The 1-based line on which the current (or skipped) record began. */
uint64_t vc__csv_line(const vc__csv *c);
/* Why the last record was skipped: a VC_E* code and a message. */
int vc__csv_bad(const vc__csv *c, const char **message);

#endif
