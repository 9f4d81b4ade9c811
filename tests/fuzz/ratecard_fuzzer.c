/*
 * Fuzz target for rate card import (src/call/ratecard_import.c): CSV
 * and JSON text from outside, and the cost arithmetic over what it
 * accepts (src/call/ratecard.c).
 *
 * Input: the first byte picks the format ('J': JSON, anything else:
 * CSV); the rest is the text. Beyond what ASan and UBSan catch, it
 * aborts when an invariant breaks: an accepted card has at most
 * VC_RATECARD_MAX_ENTRIES entries, each with a prefix of 0-15 digits,
 * no prefix twice, three capital letters of currency, pulses in 1..3600
 * and amounts in 0..10^15, public strings pointing at the entry's own
 * fields; a refused card leaves no rows and a one-line message of the
 * INVALID class with VC_EINVALID, VC_ETOOBIG or VC_EENCODING; the cost
 * of every accepted entry never falls as talk time grows and is 0 at 0.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/ratecard_fuzzer.c and -o ratecard_fuzzer, then
 *   ./ratecard_fuzzer tests/fuzz/corpus/ratecard
 */
#include "core/common.h"
#include "call/ratecard.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_failure(int rc, const vc__rc_rows *rows)
{
  const vc_error *e = vc_error_last();

  if ((rc != VC_EINVALID && rc != VC_ETOOBIG && rc != VC_EENCODING) ||
      e->code != rc || e->klass != VC_ERRCLASS_INVALID ||
      strchr(e->message, '\n') != NULL || rows->row != NULL ||
      rows->n != 0)
    abort();
}

static void check_entry(const vc__rc_row *r)
{
  const vc_ratecard_entry *e = &r->pub;
  static const int talks[] = { 0, 1, 5, 59, 60, 61, 119, 3600, 86400 };
  vc__rate_match m;
  int64_t last = 0;

  if (e->prefix != r->prefix || e->currency != r->currency ||
      strlen(r->prefix) > VC_RATECARD_PREFIX_MAX ||
      !vc__currency_valid(r->currency) || e->initial_s < 1 ||
      e->initial_s > VC_RATECARD_PULSE_MAX || e->subsequent_s < 1 ||
      e->subsequent_s > VC_RATECARD_PULSE_MAX ||
      e->rate_per_min_micros < 0 ||
      e->rate_per_min_micros > VC_RATECARD_AMOUNT_MAX ||
      e->connection_fee_micros < 0 ||
      e->connection_fee_micros > VC_RATECARD_AMOUNT_MAX)
    abort();
  for (const char *p = r->prefix; *p; p++)
    if (*p < '0' || *p > '9')
      abort();
  memset(&m, 0, sizeof(m));
  m.rate_per_min = e->rate_per_min_micros;
  m.initial_s = e->initial_s;
  m.subsequent_s = e->subsequent_s;
  m.connection_fee = e->connection_fee_micros;
  for (size_t i = 0; i < VC_ARRAY_SIZE(talks); i++) {
    int64_t cost, billed;
    if (vc__ratecard_cost(&cost, &billed, &m, talks[i]) < 0)
      abort(); /* 86400 s at 10^15 a minute still fits */
    if (talks[i] == 0 ? (cost != 0 || billed != 0)
                      : (cost < last || billed < talks[i] ||
                         billed < e->initial_s))
      abort();
    last = cost;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  vc__rc_rows rows;
  int format, rc;

  if (size == 0)
    return 0;
  format = data[0] == 'J' ? VC_RATECARD_JSON : VC_RATECARD_CSV;
  rc = vc__ratecard_parse(&rows, format, (const char *)data + 1, size - 1);
  if (rc != 0) {
    check_failure(rc, &rows);
    return 0;
  }
  if (rows.n > VC_RATECARD_MAX_ENTRIES)
    abort();
  for (size_t i = 0; i < rows.n; i++) {
    check_entry(&rows.row[i]);
    for (size_t j = 0; j < i; j++)
      if (strcmp(rows.row[i].prefix, rows.row[j].prefix) == 0)
        abort();
  }
  vc__rc_rows_free(&rows);
  return 0;
}
