/*
 * Rate card internals: parsing and checking entries, finding the entry
 * that prices a destination, and the cost arithmetic.
 */
#ifndef VC_CALL_RATECARD_H
#define VC_CALL_RATECARD_H

#include "vyomcomm/ratecard.h"
#include "store/db.h"

#define VC__PROVIDER_MAX 64

/* One checked entry; pub's strings point into the row (after
 * vc__rc_rows_fix). */
typedef struct vc__rc_row {
  vc_ratecard_entry pub;
  char prefix[VC_RATECARD_PREFIX_MAX + 1];
  char currency[4];
  size_t number;              /* line (CSV) or entry (JSON, API), from 1 */
} vc__rc_row;

typedef struct vc__rc_rows {
  vc__rc_row *row;
  size_t n, cap;
  const char *unit;           /* "line" or "entry", for messages */
} vc__rc_rows;

void vc__rc_rows_free(vc__rc_rows *r);
/* Point each row's public strings at its own fields. */
void vc__rc_rows_fix(vc__rc_rows *r);

/*
 * Read CSV or JSON text (a vc_ratecard_format) into checked rows,
 * refusing it whole (VC_EINVALID, VC_ETOOBIG, VC_EENCODING, with the
 * line or entry in the message) when anything is wrong, duplicate
 * prefixes included. *out is empty after a failure.
 */
int vc__ratecard_parse(vc__rc_rows *out, int format, const char *text,
                       size_t len);

/* Bytes of a caller's vc_ratecard_entry of `version`. */
size_t vc__ratecard_entry_size(unsigned int version);

/* Check the caller's entries and copy them into rows, the same way. An
 * array of version 1 entries is read with their size. */
int vc__ratecard_check(vc__rc_rows *out, const vc_ratecard_entry *e,
                       size_t n);

/* 1 when `s` is three capital letters. */
int vc__currency_valid(const char *s);

/* The priced entry of a destination. */
typedef struct vc__rate_match {
  char card_id[VC_ID_SIZE];
  char prefix[VC_RATECARD_PREFIX_MAX + 1];
  int64_t rate_per_min, connection_fee;
  int initial_s, subsequent_s;
  char currency[4];
} vc__rate_match;

/*
 * The entry with the longest prefix of `digits` (NULL: only the default
 * entry can match) in the card of `channel_id` (may be NULL or ""), then
 * in the card of `provider`, each the card in effect at `at`.
 * 1 when found, 0 when not, or a negative code.
 */
int vc__ratecard_match(vc__rate_match *out, vc__db *db,
                       const char *tenant_id, const char *provider,
                       const char *channel_id, const char *digits,
                       int64_t at);

/* A message's price per message (per segment for SMS). */
typedef struct vc__msg_rate {
  char card_id[VC_ID_SIZE];
  char provider[VC__PROVIDER_MAX + 1];
  char prefix[VC_RATECARD_PREFIX_MAX + 1];
  int64_t micros;
  char currency[4];
} vc__msg_rate;

/*
 * The message price of `digits` (NULL: only the default entry) in the
 * card in effect at `at` of `channel_id` (may be ""), then of its
 * `provider` (NULL: the channel's): the longest prefix among the entries
 * that price messages. One statement. 1 when found, 0 when not, or a
 * negative code.
 */
int vc__ratecard_match_message(vc__msg_rate *out, vc__db *db,
                               const char *tenant_id, const char *provider,
                               const char *channel_id, const char *digits,
                               int64_t at);

/*
 * Billed seconds and cost of `talk_s` seconds at `m`'s price (see
 * vyomcomm/ratecard.h). VC_ETOOBIG when the cost overflows.
 */
int vc__ratecard_cost(int64_t *cost, int64_t *billed_s,
                      const vc__rate_match *m, int talk_s);

/* The digits of an E.164 number ("+" optional, 1-15 digits) into
 * out[16]; 0, or -1 when it is not one. */
int vc__e164_digits(char out[VC_RATECARD_PREFIX_MAX + 1], const char *s);

#endif
